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
