# CUDA in the build, included by the top-level CMakeLists.txt before the library is defined.
#
#   -DGPURNN_CUDA=AUTO|ON|OFF   AUTO (default): CUDA when check_language(CUDA) finds nvcc;
#                               ON: CUDA or a configure error; OFF: never.
#   -DCMAKE_CUDA_ARCHITECTURES  default "80;90" (sm_80 and sm_90), unless set by the user
#   -DGPURNN_PTXAS_REPORT=ON    print ptxas -v's report (registers, shared memory, stack, spills)
#                               for every kernel of every architecture during the build
#   -DCUDNN_ROOT=<dir>          (or the environment's CUDNN_ROOT) where cuDNN is: a toolkit-style
#                               prefix (<dir>/include/cudnn.h, <dir>/lib*/libcudnn.so) or the
#                               nvidia-cudnn Python wheel's .../site-packages/nvidia/cudnn
#   -DGPURNN_REQUIRE_CUDNN=ON   a cuDNN that is not found is a configure error (bench/gpu_check.sh
#                               --lease), not a build without the cudnn backend
#   -DCUBLAS_ROOT=<dir>         (or the environment's CUBLAS_ROOT) where cuBLAS is when the toolkit
#                               has none: a prefix with include/cublas_v2.h and lib/libcublas.so*,
#                               e.g. the nvidia-cublas wheel's .../site-packages/nvidia/cu13
#
# Sets:
#   GPURNN_HAVE_CUDA      ON/OFF
#   GPURNN_CUDA_SOURCES   what the library adds to its sources: with CUDA, every kernels/*.cu and
#                         src/cuda/*.cpp (globbed, so new files need no CMake edit); without, the
#                         stubs of src/core/no_cuda.cpp (nothing under src/cuda or kernels/)
#   GPURNN_HAVE_CUDNN     ON/OFF, and the imported target gpurnn::cudnn (include dir, library and
#                         the compile definition GPURNN_HAVE_CUDNN=1) when cuDNN is found

string(TOUPPER "${GPURNN_CUDA}" _gpurnn_cuda_mode)
if(NOT _gpurnn_cuda_mode MATCHES "^(AUTO|ON|OFF|TRUE|FALSE|YES|NO|1|0)$")
  message(FATAL_ERROR "GPURNN_CUDA is '${GPURNN_CUDA}'; expected AUTO, ON or OFF")
endif()

set(GPURNN_HAVE_CUDA OFF)
set(GPURNN_HAVE_CUDNN OFF)
if(_gpurnn_cuda_mode STREQUAL "AUTO" OR GPURNN_CUDA)
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(GPURNN_HAVE_CUDA ON)
  elseif(_gpurnn_cuda_mode STREQUAL "AUTO")
    message(STATUS "gpurnn: no CUDA compiler found (nvcc not on PATH, CUDACXX unset): "
                   "building without CUDA")
  else()
    message(FATAL_ERROR "GPURNN_CUDA=${GPURNN_CUDA} but no CUDA compiler was found: put nvcc on "
                        "PATH (e.g. /usr/local/cuda/bin), or pass -DCMAKE_CUDA_COMPILER=<nvcc> or set "
                        "CUDACXX; -DGPURNN_CUDA=OFF builds without CUDA")
  endif()
endif()

if(NOT GPURNN_HAVE_CUDA)
  set(GPURNN_CUDA_SOURCES ${PROJECT_SOURCE_DIR}/src/core/no_cuda.cpp)
  message(STATUS "gpurnn: CUDA off")
  return()
endif()

# Must precede enable_language(CUDA), which would otherwise pick (and cache) its own default.
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
  set(CMAKE_CUDA_ARCHITECTURES "80;90" CACHE STRING "CUDA architectures (sm_XX) to build for")
endif()
# The shared runtime, like CUDA::cudart: one copy of the runtime per process, not a static one
# inside libgpurnn besides the shared one.
if(NOT DEFINED CMAKE_CUDA_RUNTIME_LIBRARY)
  set(CMAKE_CUDA_RUNTIME_LIBRARY Shared)
endif()
enable_language(CUDA)
option(GPURNN_PTXAS_REPORT "Print ptxas -v's resource report for every kernel during the build" OFF)
if(GPURNN_PTXAS_REPORT)
  add_compile_options("$<$<COMPILE_LANGUAGE:CUDA>:-Xptxas=-v>")
endif()
set(CMAKE_CUDA_STANDARD 17)
set(CMAKE_CUDA_STANDARD_REQUIRED ON)
set(CMAKE_CUDA_EXTENSIONS OFF)
find_package(CUDAToolkit REQUIRED)
# cuBLAS: the toolkit's, or (a machine whose toolkit lacks it, with the nvidia-cublas wheel)
# one under CUBLAS_ROOT, made into the same CUDA::cublas target.
set(_gpurnn_cublas_origin "toolkit ${CUDAToolkit_VERSION}")
if(NOT TARGET CUDA::cublas)
  set(_gpurnn_cublas_roots ${CUBLAS_ROOT} $ENV{CUBLAS_ROOT})
  if(_gpurnn_cublas_roots)
    find_path(CUBLAS_INCLUDE_DIR cublas_v2.h HINTS ${_gpurnn_cublas_roots} PATH_SUFFIXES include NO_DEFAULT_PATH)
    find_library(CUBLAS_LIBRARY NAMES cublas libcublas.so.13 libcublas.so.12 NAMES_PER_DIR
                 HINTS ${_gpurnn_cublas_roots} PATH_SUFFIXES lib lib64 NO_DEFAULT_PATH)
    find_library(CUBLASLT_LIBRARY NAMES cublasLt libcublasLt.so.13 libcublasLt.so.12 NAMES_PER_DIR
                 HINTS ${_gpurnn_cublas_roots} PATH_SUFFIXES lib lib64 NO_DEFAULT_PATH)
  endif()
  if(NOT (CUBLAS_INCLUDE_DIR AND CUBLAS_LIBRARY))
    message(FATAL_ERROR "CUDA toolkit ${CUDAToolkit_VERSION} at ${CUDAToolkit_LIBRARY_DIR} has no cuBLAS, and "
                        "none was found under CUBLAS_ROOT='${_gpurnn_cublas_roots}' (the nvidia-cublas wheel: "
                        "-DCUBLAS_ROOT=$(python3 -c 'import nvidia.cu13, sys; print(nvidia.cu13.__path__[0])'))")
  endif()
  add_library(CUDA::cublas UNKNOWN IMPORTED)
  set_target_properties(CUDA::cublas PROPERTIES
    IMPORTED_LOCATION "${CUBLAS_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${CUBLAS_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "CUDA::cudart;${CUBLASLT_LIBRARY}")
  set(_gpurnn_cublas_origin "${CUBLAS_LIBRARY}")
endif()

file(GLOB GPURNN_CUDA_SOURCES CONFIGURE_DEPENDS
     ${PROJECT_SOURCE_DIR}/src/cuda/*.cpp
     ${PROJECT_SOURCE_DIR}/kernels/*.cu
     ${PROJECT_SOURCE_DIR}/kernels/*.cpp)

# ---- cuDNN (optional; the cuDNN backend links gpurnn::cudnn) ------------------------------------
# A changed CUDNN_ROOT searches again instead of keeping what an earlier configure cached.
# (-DCUDNN_INCLUDE_DIR=... -DCUDNN_LIBRARY=... also work, and skip the search.)
if(DEFINED _GPURNN_CUDNN_ROOT_SEARCHED AND
   NOT "${CUDNN_ROOT}|$ENV{CUDNN_ROOT}" STREQUAL "${_GPURNN_CUDNN_ROOT_SEARCHED}")
  unset(CUDNN_INCLUDE_DIR CACHE)
  unset(CUDNN_LIBRARY CACHE)
endif()
set(_GPURNN_CUDNN_ROOT_SEARCHED "${CUDNN_ROOT}|$ENV{CUDNN_ROOT}" CACHE INTERNAL "")
# With CUDNN_ROOT, only there (a header from one cuDNN and a library from another would not mix).
set(_gpurnn_cudnn_roots ${CUDNN_ROOT} $ENV{CUDNN_ROOT})
if(_gpurnn_cudnn_roots)
  set(_gpurnn_cudnn_where HINTS ${_gpurnn_cudnn_roots} NO_DEFAULT_PATH)
else()
  set(_gpurnn_cudnn_where HINTS ${CUDAToolkit_INCLUDE_DIRS} ${CUDAToolkit_LIBRARY_DIR})
endif()
find_path(CUDNN_INCLUDE_DIR cudnn.h ${_gpurnn_cudnn_where}
          PATH_SUFFIXES include
          DOC "Folder of cudnn.h")
# The Python wheel ships lib/libcudnn.so.9 with no plain libcudnn.so symlink.
find_library(CUDNN_LIBRARY NAMES cudnn libcudnn.so.9 NAMES_PER_DIR ${_gpurnn_cudnn_where}
             PATH_SUFFIXES lib lib64 lib/x64
             DOC "The cuDNN library (libcudnn.so or libcudnn.so.9)")
if(_gpurnn_cudnn_roots)
  set(_gpurnn_cudnn_summary "cuDNN not found under CUDNN_ROOT=${_gpurnn_cudnn_roots}")
else()
  set(_gpurnn_cudnn_summary "cuDNN not found (-DCUDNN_ROOT=<dir> to point at it)")
endif()
if(CUDNN_INCLUDE_DIR AND CUDNN_LIBRARY)
  set(GPURNN_HAVE_CUDNN ON)
  set(_gpurnn_cudnn_version "")
  if(EXISTS "${CUDNN_INCLUDE_DIR}/cudnn_version.h")
    file(STRINGS "${CUDNN_INCLUDE_DIR}/cudnn_version.h" _gpurnn_cudnn_defines
         REGEX "^#define CUDNN_(MAJOR|MINOR|PATCHLEVEL) +[0-9]+")
    foreach(part MAJOR MINOR PATCHLEVEL)
      string(REGEX MATCH "CUDNN_${part} +([0-9]+)" _ "${_gpurnn_cudnn_defines}")
      list(APPEND _gpurnn_cudnn_version "${CMAKE_MATCH_1}")
    endforeach()
    list(JOIN _gpurnn_cudnn_version "." _gpurnn_cudnn_version)
  endif()
  if(NOT TARGET gpurnn::cudnn)
    add_library(gpurnn::cudnn UNKNOWN IMPORTED)
    set_target_properties(gpurnn::cudnn PROPERTIES
      IMPORTED_LOCATION "${CUDNN_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${CUDNN_INCLUDE_DIR}"
      INTERFACE_COMPILE_DEFINITIONS GPURNN_HAVE_CUDNN=1
      INTERFACE_LINK_LIBRARIES CUDA::cudart)
  endif()
  message(STATUS "gpurnn: cuDNN ${_gpurnn_cudnn_version}: ${CUDNN_LIBRARY} (headers ${CUDNN_INCLUDE_DIR})")
  set(_gpurnn_cudnn_summary "cuDNN ${_gpurnn_cudnn_version}")
endif()
option(GPURNN_REQUIRE_CUDNN "A cuDNN that is not found is a configure error" OFF)
if(GPURNN_REQUIRE_CUDNN AND NOT GPURNN_HAVE_CUDNN)
  message(FATAL_ERROR "GPURNN_REQUIRE_CUDNN=ON but ${_gpurnn_cudnn_summary}")
endif()

list(LENGTH GPURNN_CUDA_SOURCES _gpurnn_cuda_count)
message(STATUS "gpurnn: CUDA on: nvcc ${CMAKE_CUDA_COMPILER_VERSION}, "
               "archs ${CMAKE_CUDA_ARCHITECTURES}, cuBLAS (${_gpurnn_cublas_origin}), "
               "${_gpurnn_cudnn_summary}; ${_gpurnn_cuda_count} CUDA source files")
