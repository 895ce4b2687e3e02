# cmake -P script behind the CTest test fuzz.inputs: builds the libFuzzer targets with clang++ in
# a separate build directory (configured once, rebuilt incrementally; CPU only, MPI off) and runs
# each for a fixed number of inputs on a fresh copy of its seed corpus (tests/fuzz/corpus/<name>,
# the issues' cases among them). Any crash, sanitizer report, leak or broken invariant fails the
# test; the offending input is kept under WORK_DIR/artifacts. It prints each target's executions,
# time and new coverage units.
#   -DSOURCE_DIR=<project root> -DWORK_DIR=<scratch dir> [-DGENERATOR=Ninja] [-DRUNS_SCALE=1]
# Without clang++ (or without libFuzzer's runtime) it prints "SKIPPED: ..." and stops; the test
# treats that output (or, with CMake >= 3.29, exit code 77) as a skip.
cmake_minimum_required(VERSION 3.24)
foreach(var SOURCE_DIR WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_fuzzers.cmake: pass -D${var}=...")
  endif()
endforeach()
if(NOT DEFINED RUNS_SCALE)
  set(RUNS_SCALE 1)
endif()
# fuzz_<name>, seeded from tests/fuzz/corpus/<name>: <name> <runs> <max_len>. The runs fit the
# 3-minute budget of a clean .ci/run on 2 cores with the build (the targets that run a model cost
# ~1 ms an input, the parsers ~20 us).
set(fuzzers
  safetensors 50000 4096
  npy 50000 4096
  csv_column 50000 4096
  decode_line 50000 4096
  run_inputs 20000 4096
  load_rnn 20000 4096
  checkpoint 20000 16384)

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
           -DGPURNN_FUZZ=ON -DGPURNN_BUILD_TESTS=OFF -DGPURNN_BUILD_BENCH=OFF -DGPURNN_CUDA=OFF
           -DGPURNN_MPI=OFF)
endif()
run_step(${CMAKE_COMMAND} --build "${build}" --target gpurnn_fuzzers)
string(TIMESTAMP built "%s")
math(EXPR build_s "${built} - ${start}")
message("fuzzers built in ${build_s} s")

file(REMOVE_RECURSE "${WORK_DIR}/corpus" "${WORK_DIR}/artifacts")
file(MAKE_DIRECTORY "${WORK_DIR}/artifacts")
list(LENGTH fuzzers count)
math(EXPR last "${count} - 1")
foreach(i RANGE 0 ${last} 3)
  math(EXPR i_runs "${i} + 1")
  math(EXPR i_len "${i} + 2")
  list(GET fuzzers ${i} name)
  list(GET fuzzers ${i_runs} runs)
  list(GET fuzzers ${i_len} max_len)
  math(EXPR runs "${runs} * ${RUNS_SCALE}")
  file(COPY "${SOURCE_DIR}/tests/fuzz/corpus/${name}" DESTINATION "${WORK_DIR}/corpus")
  string(TIMESTAMP began "%s")
  execute_process(
    COMMAND ${CMAKE_COMMAND} -E env "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1" "TMPDIR=${WORK_DIR}"
            "${build}/tests/fuzz/fuzz_${name}" -runs=${runs} -max_len=${max_len} -timeout=10
            -rss_limit_mb=2048 -print_final_stats=1 "-artifact_prefix=${WORK_DIR}/artifacts/${name}-"
            "${WORK_DIR}/corpus/${name}"
    RESULT_VARIABLE rc OUTPUT_VARIABLE log ERROR_VARIABLE log)
  string(TIMESTAMP ended "%s")
  math(EXPR seconds "${ended} - ${began}")
  file(WRITE "${WORK_DIR}/fuzz_${name}.log" "${log}")
  if(NOT rc EQUAL 0)
    message("${log}")
    message(FATAL_ERROR "fuzz_${name} found a problem (exit ${rc}); the input is under "
                        "${WORK_DIR}/artifacts, the log in ${WORK_DIR}/fuzz_${name}.log")
  endif()
  string(REGEX MATCH "stat::number_of_executed_units: +[0-9]+" executed "${log}")
  string(REGEX MATCH "stat::new_units_added: +[0-9]+" units "${log}")
  string(REGEX REPLACE "[^0-9]" "" executed "${executed}")
  string(REGEX REPLACE "[^0-9]" "" units "${units}")
  message("fuzz_${name}: ${executed} inputs in ${seconds} s, ${units} new coverage units, nothing found")
endforeach()
