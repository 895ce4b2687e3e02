# bench.report_pairs: bench/report --pair on a fixture with three repetitions per row (made by
# hand: one case faster in every repetition, one within noise, one slower in every one) names
# each verdict and the per-repetition ratio range. Run by CTest as
#   cmake -DPYTHON=<python3> -DREPORT=<bench/report> -DFIXTURE=<pairs.json> -P check_report.cmake

execute_process(COMMAND "${PYTHON}" "${REPORT}" "${FIXTURE}" --pair cpu onednn
                RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "bench/report failed (${_rc}):\n${_out}${_err}")
endif()
set(_expected
  "| lstm/infer/H:256/B:1/T:25/I:256 | 10.00 | 12.00 | 1.0 | 1.0 | 1.20 | 1.19 | 1.23 | faster |"
  "| lstm/infer/H:256/B:32/T:25/I:256 | 20.00 | 20.20 | 1.0 | 1.0 | 1.01 | 0.94 | 1.04 | within noise |"
  "| gru/infer/H:512/B:1/T:25/I:512 | 30.50 | 25.00 | 1.0 | 1.0 | 0.82 | 0.79 | 0.84 | slower |"
  "cpu at least as fast as onednn in 2 of 3 paired cases (medians)."
  "Over the repetitions: 1 faster, 1 within noise, 1 slower.")
foreach(_line IN LISTS _expected)
  string(FIND "${_out}" "${_line}" _at)
  if(_at EQUAL -1)
    message(FATAL_ERROR "bench/report --pair: expected the line\n  ${_line}\nin:\n${_out}")
  endif()
endforeach()
message(STATUS "bench/report --pair names the ratio range and verdict of each repetition")
