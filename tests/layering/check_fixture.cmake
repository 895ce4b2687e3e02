# layering.detects_upward_include: check_layers.cmake must fail on tests/layering/fixture, a tree
# with four upward includes, and name each one. Run by CTest as
#   cmake -DCHECK=<check_layers.cmake> -DFIXTURE=<fixture tree> -P check_fixture.cmake
# so the include scan is itself shown able to fail.

if(NOT CHECK OR NOT FIXTURE)
  message(FATAL_ERROR "check_fixture.cmake: pass -DCHECK=<check_layers.cmake> -DFIXTURE=<tree>")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" -DROOT=${FIXTURE} -P "${CHECK}"
                RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
set(_all "${_out}${_err}")
if(_rc EQUAL 0)
  message(FATAL_ERROR "check_layers.cmake passed the fixture, which has four upward includes:\n${_all}")
endif()
set(_expected
  "src/engine/step.h: #include \"train/loop.h\": src/engine may not include src/train"
  "src/cpu/ops.cpp: #include \"cuda/stream.h\": src/cpu may not include src/cuda"
  "src/cuda/ops.cpp: #include \"cpu/ops.h\": src/cuda may not include src/cpu"
  "kernels/launch.h: #include \"cuda/stream.h\": kernels may not include src/cuda")
set(_missing "")
foreach(_line IN LISTS _expected)
  string(FIND "${_all}" "${_line}" _at)
  if(_at EQUAL -1)
    string(APPEND _missing "  ${_line}\n")
  endif()
endforeach()
string(REGEX MATCHALL "may not include" _named "${_all}")
list(LENGTH _named _count)
if(_missing OR NOT _count EQUAL 4)
  message(FATAL_ERROR "check_layers.cmake on the fixture: expected these four violations and no "
                      "others, ${_count} named; missing:\n${_missing}output:\n${_all}")
endif()
message(STATUS "check_layers.cmake names the fixture's four upward includes")
