cmake_minimum_required(VERSION 3.25)
# One bundled DUT profile end to end through the command line, as a user runs it (every suite, with a
# 5 s timer budget so the timer tests, minutes of real waiting each, SKIP with the bound they reached
# instead; cli.short_timers.* measure timers on profiles whose timers are short): natcert run writes
# the report directory (a DUT may FAIL tests, exit 1, but never leave them INCONCLUSIVE or ERROR,
# exit 3), report.json parses and natcert report re-renders it, and the run's namespaces are gone.
#   cmake -DNATCERT=exe -DPROFILE=name -DWORK=dir [-DPYTHON=python3] -P profile_run.cmake
include("${CMAKE_CURRENT_LIST_DIR}/natcert_command.cmake")
file(REMOVE_RECURSE "${WORK}")
execute_process(COMMAND "${NATCERT}" run --dut "${PROFILE}" --timer-budget 5
                        --out "${WORK}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 300)
if(err MATCHES "needs root")
  message("natcert run --dut ${PROFILE}: needs root; skipped")  # matched by SKIP_REGULAR_EXPRESSION
  return()
endif()
if(NOT rc MATCHES "^[01]$")
  message(FATAL_ERROR "natcert run --dut ${PROFILE}: exit ${rc}, expected 0 or 1\n${err}")
endif()
foreach(name report.json junit.xml report.html pcap/netns-inside.pcap pcap/netns-outside.pcap)
  if(NOT EXISTS "${WORK}/${name}")
    message(FATAL_ERROR "natcert run --dut ${PROFILE} did not write ${WORK}/${name}\n${err}")
  endif()
endforeach()

if(PYTHON)
  execute_process(COMMAND "${PYTHON}" -m json.tool "${WORK}/report.json" RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE perr)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${WORK}/report.json does not parse: ${perr}")
  endif()
endif()
execute_process(COMMAND "${NATCERT}" report "${WORK}" --out "${WORK}/rerendered" --format html,junit
                RESULT_VARIABLE rc ERROR_VARIABLE rerr TIMEOUT 60)
if(NOT rc EQUAL 0 OR NOT EXISTS "${WORK}/rerendered/report.html")
  message(FATAL_ERROR "natcert report could not re-render ${WORK}: exit ${rc}\n${rerr}")
endif()

assert_namespaces_gone("${err}" "${PROFILE}")
