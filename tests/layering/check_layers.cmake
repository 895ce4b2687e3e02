# The layering rule of the README's Architecture section, checked: each top-level source folder
# includes only itself and the folders below it. Run by CTest (layering.includes) as
#   cmake -DROOT=<source tree> -P tests/layering/check_layers.cmake
# and fails, listing every upward include with its file and line, when one is found.
#
# Layers, bottom to top (folders on one line share a layer and may not include each other):
#   include/gpurnn                 the public headers (detail/: the math shared with the kernels)
#   kernels                        CUDA kernels and their launchers
#   src/core                       tensors, dtypes, errors
#   src/io                         files
#   src/engine                     the RNN spine: time loops over a device's Ops, the persistent plan
#   src/platform                   device-neutral interfaces and the list of platforms
#   src/cpu src/cuda               the platforms
#   src/virtual                    virtual devices: the cpu platform's code on device memory
#   src/rnn                        RNN, descriptors, weights
#   src/train                      training
#   src/tasks src/perf             the command's tasks, benchmark cases
#   src/cli                        the gpurnn command
#   python_bindings_disabled/src   the Python module
# An include resolves to the folder holding the file: "gpurnn/..." is include/gpurnn, "kernels/x.h"
# is kernels, "engine/x.h" is src/engine, and a bare name next to the including file is its own.

if(NOT ROOT)
  message(FATAL_ERROR "check_layers.cmake: pass -DROOT=<source tree>")
endif()

set(_layers
  "include/gpurnn"
  "kernels"
  "src/core"
  "src/io"
  "src/engine"
  "src/platform"
  "src/cpu src/cuda"
  "src/virtual"
  "src/rnn"
  "src/train"
  "src/tasks src/perf"
  "src/cli"
  "python_bindings_disabled/src")

# _rank_<folder> = its layer's index.
set(_rank 0)
set(_folders)
foreach(_layer IN LISTS _layers)
  separate_arguments(_layer_folders UNIX_COMMAND "${_layer}")
  foreach(_folder IN LISTS _layer_folders)
    set(_rank_${_folder} ${_rank})
    list(APPEND _folders ${_folder})
  endforeach()
  math(EXPR _rank "${_rank} + 1")
endforeach()

# The folder of `path` (relative to ROOT), or "" when it is in none of the layers.
function(folder_of path out)
  set(_found "")
  foreach(_folder IN LISTS _folders)
    string(LENGTH "${_folder}/" _n)
    string(SUBSTRING "${path}" 0 ${_n} _head)
    if(_head STREQUAL "${_folder}/")
      set(_found "${_folder}")
    endif()
  endforeach()
  set(${out} "${_found}" PARENT_SCOPE)
endfunction()

set(_files)
foreach(_folder IN LISTS _folders)
  file(GLOB_RECURSE _in RELATIVE "${ROOT}" "${ROOT}/${_folder}/*.h" "${ROOT}/${_folder}/*.cpp"
       "${ROOT}/${_folder}/*.cu" "${ROOT}/${_folder}/*.cuh")
  list(APPEND _files ${_in})
endforeach()
list(REMOVE_DUPLICATES _files)

set(_violations "")
set(_includes 0)
foreach(_file IN LISTS _files)
  folder_of("${_file}" _from)
  if(_from STREQUAL "")
    continue()
  endif()
  get_filename_component(_dir "${_file}" DIRECTORY)
  file(STRINGS "${ROOT}/${_file}" _lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
  foreach(_line IN LISTS _lines)
    string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]+)\".*$" "\\1" _inc "${_line}")
    math(EXPR _includes "${_includes} + 1")
    if(EXISTS "${ROOT}/${_dir}/${_inc}")
      set(_target "${_dir}/${_inc}")         # next to the including file
    elseif(_inc MATCHES "^gpurnn/")
      set(_target "include/${_inc}")
    elseif(EXISTS "${ROOT}/src/${_inc}")
      set(_target "src/${_inc}")
    elseif(EXISTS "${ROOT}/${_inc}")
      set(_target "${_inc}")                 # kernels/...
    else()
      continue()                             # generated (version.h) or outside the tree
    endif()
    folder_of("${_target}" _to)
    if(_to STREQUAL "" OR _to STREQUAL _from)
      continue()
    endif()
    if(NOT _rank_${_to} LESS _rank_${_from})
      string(APPEND _violations "  ${_file}: #include \"${_inc}\": ${_from} may not include ${_to}"
                                " (layer ${_rank_${_to}} is not below layer ${_rank_${_from}})\n")
    endif()
  endforeach()
endforeach()

list(LENGTH _files _count)
if(_violations)
  message(FATAL_ERROR "include layering: upward includes (each folder may include only those below it; "
                      "see the README's Architecture section):\n${_violations}")
endif()
message(STATUS "include layering: ${_includes} includes in ${_count} files, none upward")
