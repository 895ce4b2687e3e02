# libgpurnn saves models, PyTorch loads them and must reproduce libgpurnn's outputs.
# Variables: WRITER (roundtrip_writer), SCRIPT (make_golden.py), PYTHON, WORK_DIR.
# Exits 77 (skipped) when PyTorch is not importable, as make_golden.py does.
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
execute_process(COMMAND "${WRITER}" "${WORK_DIR}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "roundtrip_writer failed (${rc})")
endif()
execute_process(COMMAND "${PYTHON}" "${SCRIPT}" check-roundtrip "${WORK_DIR}" RESULT_VARIABLE rc)
if(rc EQUAL 77)
  message("SKIPPED: PyTorch is not importable by ${PYTHON}")
  # cmake -P cannot exit with a chosen code, so the skip is signalled by this exact line,
  # matched by the test's SKIP_REGULAR_EXPRESSION.
elseif(NOT rc EQUAL 0)
  message(FATAL_ERROR "PyTorch disagrees with libgpurnn (${rc})")
endif()
