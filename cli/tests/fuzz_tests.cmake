# natcert fuzz (campaign/): included from cli/CMakeLists.txt, after natcert_cli_test is defined.
set(fuzz_scenario "${CMAKE_CURRENT_SOURCE_DIR}/tests/fuzz_scenario.cmake")
add_test(NAME cli.fuzz.inprocess
         COMMAND ${CMAKE_COMMAND} -DNATCERT=$<TARGET_FILE:natcert> -DMODE=campaign -DDUT=reference:rfc-strict
                 -DDURATION=3 "-DWORK=${CMAKE_CURRENT_BINARY_DIR}/fuzz-inprocess" -P ${fuzz_scenario})
add_test(NAME cli.fuzz.replay
         COMMAND ${CMAKE_COMMAND} -DNATCERT=$<TARGET_FILE:natcert> -DMODE=replay
                 "-DWORK=${CMAKE_CURRENT_BINARY_DIR}/fuzz-replay" -P ${fuzz_scenario})
# Bounded campaigns against the Linux profiles (root; CI runs them): the report is written.
foreach(profile linux-nft-masquerade refnat-rfc-strict)
  set(extra "")
  if(profile STREQUAL "linux-nft-masquerade")
    set(extra "-DEXTRA=--reference|port-restricted-cone")
  endif()
  add_test(NAME cli.fuzz.wire.${profile}
           COMMAND ${CMAKE_COMMAND} -DNATCERT=$<TARGET_FILE:natcert> -DMODE=campaign -DDUT=${profile} -DDURATION=15
                   ${extra} "-DWORK=${CMAKE_CURRENT_BINARY_DIR}/fuzz-${profile}" -P ${fuzz_scenario})
  set_tests_properties(cli.fuzz.wire.${profile} PROPERTIES SKIP_REGULAR_EXPRESSION "needs root; skipped" RUN_SERIAL TRUE
                       TIMEOUT 120)
endforeach()
natcert_cli_test(fuzz.unknown_dut EXPECT_RC 2 ONE_LINE_STDERR ARGS fuzz --dut no-such-dut STDERR_REGEX "unknown DUT")
natcert_cli_test(fuzz.bad_duration EXPECT_RC 2 ONE_LINE_STDERR ARGS fuzz --duration 5parsecs STDERR_REGEX "--duration")
natcert_cli_test(fuzz.bad_reference EXPECT_RC 2 ONE_LINE_STDERR ARGS fuzz --reference no-such-preset --max-cases 1
                 STDERR_REGEX "no-such-preset")
file(WRITE "${CMAKE_CURRENT_BINARY_DIR}/not-a-reproducer.pcapng" "hello, I am text\n")
natcert_cli_test(fuzz.malformed_replay EXPECT_RC 2 ONE_LINE_STDERR
                 ARGS fuzz --replay "${CMAKE_CURRENT_BINARY_DIR}/not-a-reproducer.pcapng" STDERR_REGEX "pcapng")
natcert_cli_test(fuzz.missing_replay EXPECT_RC 2 ONE_LINE_STDERR ARGS fuzz --replay no-such-file.pcapng
                 STDERR_REGEX "cannot open")
natcert_cli_test(help.fuzz EXPECT_RC 0 ARGS fuzz --help STDOUT_REGEX "Exit codes:")
