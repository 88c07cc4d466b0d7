cmake_minimum_required(VERSION 3.25)
# The timer tests on real time against a CI profile whose DUT timers are shortened below the RFC
# minimums: every lifetime is found within the small timer budget, the tests FAIL (or WARN, or SKIP
# where the budget is too short for the question) exactly as EXPECT lists, nothing is INCONCLUSIVE,
# the Timers section of report.html shows the brackets, and the run's namespaces are gone.
#   cmake -DNATCERT=exe -DPROFILE=name -DEXPECT=file -DTESTS=globs -DBUDGET=seconds -DWORK=dir -P short_timers.cmake
include("${CMAKE_CURRENT_LIST_DIR}/natcert_command.cmake")
file(REMOVE_RECURSE "${WORK}")
execute_process(COMMAND "${NATCERT}" run --dut "${PROFILE}" --test "${TESTS}" --timer-budget "${BUDGET}"
                        --expect "${EXPECT}" --out "${WORK}" --format json,html
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 240)
if(err MATCHES "needs root")
  message("natcert run --dut ${PROFILE}: needs root; skipped")  # matched by SKIP_REGULAR_EXPRESSION
  return()
endif()
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "natcert run --dut ${PROFILE} --expect ${EXPECT}: exit ${rc}, expected 0\n${err}")
endif()
file(READ "${WORK}/report.html" html)
if(NOT html MATCHES "<h2>Timers</h2>" OR NOT html MATCHES "expired by")
  message(FATAL_ERROR "${WORK}/report.html has no Timers section with a measured bracket")
endif()
assert_namespaces_gone("${err}" "${PROFILE}")
message("${err}")
