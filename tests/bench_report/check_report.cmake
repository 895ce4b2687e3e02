# bench.report_pairs: bench/report --pair on a fixture with three repetitions per row (made by
# hand: one case faster in every repetition, one within noise, one slower in every one) names
# each verdict and the per-repetition ratio range; and pairs backends whose names carry a dtype
# (cpu_prepared_bf16 with onednn_bf16 and with cpu_prepared, as bench/cpu_bf16.sh does) without
# mixing them into the plain cpu/onednn pairs. Run by CTest as
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

# The bf16 rows of the fixture: one LSTM case, cpu_prepared_bf16 faster than both rivals in
# every repetition.
foreach(_pair "cpu_prepared_bf16;onednn_bf16" "cpu_prepared_bf16;cpu_prepared")
  execute_process(COMMAND "${PYTHON}" "${REPORT}" "${FIXTURE}" --pair ${_pair}
                  RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "bench/report --pair ${_pair} failed (${_rc}):\n${_out}${_err}")
  endif()
  list(GET _pair 1 _rival)
  if(_rival STREQUAL "onednn_bf16")
    set(_expected
      "| lstm/fwd_bwd/H:256/B:32/T:25/I:256 | 40.00 | 60.00 | 1.0 | 1.0 | 1.50 | 1.46 | 1.51 | faster |"
      "cpu_prepared_bf16 at least as fast as onednn_bf16 in 1 of 1 paired cases (medians).")
  else()
    set(_expected
      "| lstm/fwd_bwd/H:256/B:32/T:25/I:256 | 40.00 | 50.00 | 1.0 | 1.0 | 1.25 | 1.20 | 1.33 | faster |"
      "cpu_prepared_bf16 at least as fast as cpu_prepared in 1 of 1 paired cases (medians).")
  endif()
  foreach(_line IN LISTS _expected)
    string(FIND "${_out}" "${_line}" _at)
    if(_at EQUAL -1)
      message(FATAL_ERROR "bench/report --pair ${_pair}: expected the line\n  ${_line}\nin:\n${_out}")
    endif()
  endforeach()
endforeach()
message(STATUS "bench/report --pair names the ratio range and verdict of each repetition, "
               "and pairs backends named with a dtype")
