# natcert(EXPECTED_RCS args...): runs natcert, fails the scenario unless its exit code is one of
# EXPECTED_RCS (a ;-list), and leaves its output in last_out / last_err. Included by the scenarios.
function(natcert expected_rc)
  execute_process(COMMAND "${NATCERT}" ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 300)
  if(NOT rc IN_LIST expected_rc)
    message(FATAL_ERROR "natcert ${ARGN}: exit ${rc}, expected ${expected_rc}\nstdout:\n${out}\nstderr:\n${err}")
  endif()
  set(last_out "${out}" PARENT_SCOPE)
  set(last_err "${err}" PARENT_SCOPE)
endfunction()

# assert_namespaces_gone(STDERR PROFILE): natcert's start line names the DUT namespace
# ("nc<pid>_<n>-dut"); nothing with that prefix may remain after the run.
function(assert_namespaces_gone stderr profile)
  if(NOT stderr MATCHES "network namespace (nc[0-9]+_[0-9]+)-")
    message(FATAL_ERROR "no namespace name in natcert's start line:\n${stderr}")
  endif()
  set(prefix "${CMAKE_MATCH_1}")
  execute_process(COMMAND ip netns list OUTPUT_VARIABLE namespaces)
  if(namespaces MATCHES "${prefix}-")
    message(FATAL_ERROR "natcert run --dut ${profile} left namespaces behind:\n${namespaces}")
  endif()
endfunction()
