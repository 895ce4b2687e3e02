# cmake -DCOMMAND="a;b;c" -DEXPECT=<regex> -P expect_job_failure.cmake
# Passes when COMMAND (an mpirun job) exits non-zero AND its output matches EXPECT: a failing
# rank must end the job with its message, not leave the other ranks hanging (the ctest TIMEOUT
# bounds how long that may take).
execute_process(COMMAND ${COMMAND} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(rc EQUAL 0)
  message(FATAL_ERROR "the job exited 0; a failing rank must end it non-zero")
endif()
if(NOT "${out}${err}" MATCHES "${EXPECT}")
  message(FATAL_ERROR "the job exited ${rc} but its output lacks the failing rank's message /${EXPECT}/")
endif()
message("ok: exit status ${rc}, message found")
