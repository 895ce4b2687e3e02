# libgpurnn carries none of the command's tasks (src/tasks, the gpurnn_tasks library) and not the
# charlm corpus. Run by CTest (layering.library_has_no_tasks) as
#   cmake -DNM=<nm> -DLIBRARY=<libgpurnn.so> -P tests/layering/check_no_tasks.cmake
# It lists the symbols the library defines (an import such as cuDNN's
# cudnnGetRNNWeightSpaceSize, which happens to contain "tsp", is not one) and fails on any that
# names a task or the corpus.

if(NOT NM OR NOT LIBRARY)
  message(FATAL_ERROR "check_no_tasks.cmake: pass -DNM=<nm> -DLIBRARY=<shared library>")
endif()
execute_process(COMMAND "${NM}" -D -C --defined-only "${LIBRARY}" OUTPUT_VARIABLE _symbols
                RESULT_VARIABLE _rc ERROR_VARIABLE _err)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "${NM} -D -C --defined-only ${LIBRARY} failed (${_rc}): ${_err}")
endif()
# Whole-string regexes: symbol names hold brackets and semicolons, which CMake lists mangle.
string(REGEX MATCHALL "\n" _newlines "${_symbols}")
list(LENGTH _newlines _count)
if(_count LESS 100)
  message(FATAL_ERROR "${LIBRARY}: only ${_count} defined symbols listed; is it the library?")
endif()
string(TOLOWER "${_symbols}" _lower)
# A plain search first: the line-extracting regex below backtracks over every line and took
# 613 s on a Debug build's symbol list; it runs only when there is something to report.
set(_task_words "tsp|charlm|corpus|bleu|number_words|hull_task|mackey|make_task|task_names")
string(REGEX MATCH "(${_task_words})" _any "${_lower}")
if(_any)
  string(REGEX MATCHALL "[^\n]*(${_task_words})[^\n]*" _found "${_lower}")
endif()
if(_found)
  string(REPLACE ";" "\n  " _found "${_found}")
  message(FATAL_ERROR "${LIBRARY} defines task or corpus symbols (they belong to gpurnn_tasks):\n  ${_found}")
endif()
message(STATUS "${LIBRARY}: ${_count} defined symbols, none of a task or the corpus")
