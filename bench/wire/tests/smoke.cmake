# bench.wire.smoke: a tiny `natcert bench` run writes a record that natcert's own reader parses.
# -DNATCERT=... -DWORK=dir -DDUT=profile
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
set(record "${WORK}/smoke.json")
execute_process(
  COMMAND "${NATCERT}" bench --dut "${DUT}" -o "${record}" --repetitions 1 --duration 0.1 --connections 200
          --capacity-cap 400 --setup-rate 4000 --max-trials 4 --max-rate 40000
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 120)
if(NOT rc EQUAL 0)
  if(err MATCHES "needs root" AND NOT DEFINED ENV{CI})
    message("needs root; skipped: ${err}")
    return()
  endif()
  message(FATAL_ERROR "natcert bench exited ${rc}\nstdout:\n${out}\nstderr:\n${err}")
endif()
message("${out}")
if(NOT EXISTS "${record}")
  message(FATAL_ERROR "no record at ${record}")
endif()
# The record parses with natcert's Google Benchmark JSON reader (compare against itself: no regression).
execute_process(COMMAND "${NATCERT}" bench compare "${record}" "${record}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the record does not read back (exit ${rc}): ${err}")
endif()
file(READ "${record}" text)
foreach(key "\"wire/null/connection_rate/udp/outbound\"" "\"wire/${DUT}/throughput/tcp/inbound\""
            "\"wire/${DUT}/capacity/udp/outbound\"" "\"ratio_to_null\"" "\"dut_profile\": \"${DUT}\"")
  string(FIND "${text}" "${key}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "the record lacks ${key}")
  endif()
endforeach()
# Nothing of ours is left behind.
execute_process(COMMAND ip netns list OUTPUT_VARIABLE namespaces)
if(namespaces MATCHES "nc[0-9]+_[0-9]+-")
  message(WARNING "natcert namespaces present after the run (another run may be active): ${namespaces}")
endif()
