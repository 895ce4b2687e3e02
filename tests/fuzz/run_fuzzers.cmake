# cmake -P script behind the CTest test fuzz.io_readers: builds the libFuzzer targets with
# clang++ in a separate build directory (configured once, rebuilt incrementally) and runs each
# for a fixed number of inputs on a fresh copy of its seed corpus. Any crash, sanitizer report
# or broken invariant fails the test; the offending input is kept under WORK_DIR/artifacts.
#   -DSOURCE_DIR=<project root> -DWORK_DIR=<scratch dir> [-DGENERATOR=Ninja] [-DRUNS=20000]
# Without clang++ (or without libFuzzer's runtime) it prints "SKIPPED: ..." and stops; the test
# treats that output (or, with CMake >= 3.29, exit code 77) as a skip.
cmake_minimum_required(VERSION 3.24)
foreach(var SOURCE_DIR WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_fuzzers.cmake: pass -D${var}=...")
  endif()
endforeach()
if(NOT DEFINED RUNS)
  set(RUNS 20000)
endif()
set(fuzzers safetensors npy)  # fuzz_<name>, seeded from tests/fuzz/corpus/<name>

macro(skip reason)
  message("SKIPPED: ${reason}")
  if(CMAKE_VERSION VERSION_GREATER_EQUAL 3.29)
    cmake_language(EXIT 77)
  endif()
  return()
endmacro()

include("${CMAKE_CURRENT_LIST_DIR}/../run_step.cmake")

find_program(CLANGXX NAMES clang++ clang++-19 clang++-18 clang++-17 clang++-16 clang++-15 clang++-14)
if(NOT CLANGXX)
  skip("clang++ not found")
endif()

# libFuzzer's runtime ships separately on Debian (libclang-rt-<N>-dev): check it links.
file(MAKE_DIRECTORY "${WORK_DIR}/probe")
file(WRITE "${WORK_DIR}/probe/probe.cpp"
     "#include <cstddef>\n#include <cstdint>\n"
     "extern \"C\" int LLVMFuzzerTestOneInput(const std::uint8_t*, std::size_t) { return 0; }\n")
execute_process(COMMAND "${CLANGXX}" -fsanitize=fuzzer,address,undefined "${WORK_DIR}/probe/probe.cpp"
                        -o "${WORK_DIR}/probe/probe"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  skip("clang++ (${CLANGXX}) cannot link -fsanitize=fuzzer; install libclang-rt-<version>-dev:\n${out}")
endif()

string(TIMESTAMP start "%s")
set(build "${WORK_DIR}/build")
set(generator_args)
if(GENERATOR)
  set(generator_args -G "${GENERATOR}")
endif()
if(NOT EXISTS "${build}/CMakeCache.txt")
  run_step(${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${build}" ${generator_args}
           "-DCMAKE_CXX_COMPILER=${CLANGXX}" -DCMAKE_BUILD_TYPE=RelWithDebInfo
           -DGPURNN_FUZZ=ON -DGPURNN_BUILD_TESTS=OFF -DGPURNN_BUILD_BENCH=OFF)
endif()
run_step(${CMAKE_COMMAND} --build "${build}" --target fuzz_safetensors fuzz_npy)
string(TIMESTAMP built "%s")
math(EXPR build_s "${built} - ${start}")
message("fuzzers built in ${build_s} s")

file(REMOVE_RECURSE "${WORK_DIR}/corpus" "${WORK_DIR}/artifacts")
file(MAKE_DIRECTORY "${WORK_DIR}/artifacts")
foreach(name IN LISTS fuzzers)
  file(COPY "${SOURCE_DIR}/tests/fuzz/corpus/${name}" DESTINATION "${WORK_DIR}/corpus")
  execute_process(
    COMMAND ${CMAKE_COMMAND} -E env "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1"
            "${build}/tests/fuzz/fuzz_${name}" -runs=${RUNS} -max_len=4096 -timeout=10
            -rss_limit_mb=2048 -print_final_stats=1 "-artifact_prefix=${WORK_DIR}/artifacts/${name}-"
            "${WORK_DIR}/corpus/${name}"
    RESULT_VARIABLE rc OUTPUT_VARIABLE log ERROR_VARIABLE log)
  file(WRITE "${WORK_DIR}/fuzz_${name}.log" "${log}")
  if(NOT rc EQUAL 0)
    message("${log}")
    message(FATAL_ERROR "fuzz_${name} found a problem (exit ${rc}); the input is under "
                        "${WORK_DIR}/artifacts, the log in ${WORK_DIR}/fuzz_${name}.log")
  endif()
  string(REGEX MATCH "Done [0-9]+ runs in [0-9]+ second\\(s\\)" done "${log}")
  string(REGEX MATCH "stat::new_units_added: +[0-9]+" units "${log}")
  message("fuzz_${name}: ${done}; ${units}")
endforeach()
