# libgpurnn saves models, PyTorch loads them and must reproduce libgpurnn's outputs; then half
# weights both ways, bit for bit (issue 30): libgpurnn's bf16/f16 models into PyTorch modules of
# those dtypes (make_golden.py check-half), and PyTorch's bf16/f16 state_dicts into libgpurnn
# (roundtrip_writer --check-torch-half).
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
  return()
elseif(NOT rc EQUAL 0)
  message(FATAL_ERROR "PyTorch disagrees with libgpurnn (${rc})")
endif()
execute_process(COMMAND "${PYTHON}" "${SCRIPT}" check-half "${WORK_DIR}/half" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "libgpurnn's bf16/f16 models do not load into PyTorch bit for bit (${rc})")
endif()
execute_process(COMMAND "${WRITER}" --check-torch-half "${WORK_DIR}/half" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "PyTorch's bf16/f16 state_dicts do not load into libgpurnn bit for bit (${rc})")
endif()
