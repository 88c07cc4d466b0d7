# Included by cli/CMakeLists.txt. The timer tests on real time (root; CI runs them): against the CI
# profiles whose DUT timers are shortened below the RFC minimums, with a small timer budget, each run
# must give exactly the verdicts its expectation file lists (FAIL below the minimums, nothing
# INCONCLUSIVE) in about a minute, the tests running side by side on the shared DUT.
set(timer_tests "rfc4787.req5*,rfc4787.req6*,rfc5382.req5.*,rfc5508.req2.query-timeout,rfc5508.req6.*,rfc7857.s7*,rfc7857.s2.tcp-state-machine,rfc7857.s2-1.*,rfc7857.s2-2.tcp-rst-session-kept")
foreach(profile linux-nft-short-timers refnat-short-timers)
  add_test(NAME cli.short_timers.${profile}
           COMMAND ${CMAKE_COMMAND} -DNATCERT=$<TARGET_FILE:natcert> -DPROFILE=${profile} "-DTESTS=${timer_tests}"
                   -DBUDGET=90 "-DEXPECT=${CMAKE_CURRENT_SOURCE_DIR}/tests/${profile}.expect"
                   "-DWORK=${CMAKE_CURRENT_BINARY_DIR}/short-timers-${profile}"
                   -P "${CMAKE_CURRENT_SOURCE_DIR}/tests/short_timers.cmake")
  # Not RUN_SERIAL: the runs mostly wait on DUT timers (about 2 min each), so they start first (COST)
  # and wait side by side with each other and the in-process tests; each has namespaces of its own.
  set_tests_properties(cli.short_timers.${profile} PROPERTIES SKIP_REGULAR_EXPRESSION "needs root; skipped"
                       COST 10000 TIMEOUT 300)
endforeach()
