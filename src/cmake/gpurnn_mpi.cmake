# MPI and NCCL for data-parallel training, included by the top-level CMakeLists.txt after
# gpurnn_cuda.cmake and before the library is defined.
#
#   -DGPURNN_MPI=AUTO|ON|OFF   AUTO (default): MPI when find_package(MPI COMPONENTS CXX) finds it
#                              (Debian: libopenmpi-dev); ON: MPI or a configure error; OFF: never.
#
# Sets:
#   GPURNN_HAVE_MPI       ON/OFF; MPI is linked PRIVATE to libgpurnn (no public header names it)
#   GPURNN_HAVE_NCCL      ON/OFF: CUDA, MPI, and nccl.h + libnccl next to the CUDA toolkit
#   GPURNN_MPI_SOURCES    what the library adds: src/train/mpi_communicator.cpp and either
#                         src/cuda/nccl/nccl_communicator.cpp or the refusals of
#                         src/train/no_nccl_communicator.cpp; without MPI the stubs of
#                         src/train/no_mpi_communicator.cpp
#   GPURNN_MPIEXEC        the mpirun the tests launch ranks with (empty when none was found)

set(GPURNN_MPI AUTO CACHE STRING "Distributed training with MPI: AUTO (when found), ON (required), OFF")
set_property(CACHE GPURNN_MPI PROPERTY STRINGS AUTO ON OFF)
string(TOUPPER "${GPURNN_MPI}" _gpurnn_mpi_mode)
if(NOT _gpurnn_mpi_mode MATCHES "^(AUTO|ON|OFF|TRUE|FALSE|YES|NO|1|0)$")
  message(FATAL_ERROR "GPURNN_MPI is '${GPURNN_MPI}'; expected AUTO, ON or OFF")
endif()

# The C API only (mpi.h): not the deprecated MPI C++ bindings.
set(MPI_CXX_SKIP_MPICXX ON)
set(GPURNN_HAVE_MPI OFF)
set(GPURNN_HAVE_NCCL OFF)
set(GPURNN_MPIEXEC "")
set(GPURNN_MPI_SOURCES ${PROJECT_SOURCE_DIR}/src/train/no_mpi_communicator.cpp)
if(NOT (_gpurnn_mpi_mode STREQUAL "AUTO" OR GPURNN_MPI))
  message(STATUS "gpurnn: MPI off (distributed training unavailable)")
  return()
endif()

if(_gpurnn_mpi_mode STREQUAL "AUTO")
  find_package(MPI COMPONENTS CXX QUIET)
else()
  find_package(MPI COMPONENTS CXX)
endif()
if(NOT MPI_CXX_FOUND)
  if(_gpurnn_mpi_mode STREQUAL "AUTO")
    message(STATUS "gpurnn: no MPI found: building without distributed training "
                   "(Debian: apt-get install libopenmpi-dev openmpi-bin)")
    return()
  endif()
  message(FATAL_ERROR "GPURNN_MPI=${GPURNN_MPI} but no MPI was found (Debian: apt-get install libopenmpi-dev "
                      "openmpi-bin); -DGPURNN_MPI=OFF builds without it")
endif()
set(GPURNN_HAVE_MPI ON)
set(GPURNN_MPIEXEC "${MPIEXEC_EXECUTABLE}")
set(GPURNN_MPI_SOURCES ${PROJECT_SOURCE_DIR}/src/train/mpi_communicator.cpp)
message(STATUS "gpurnn: MPI ${MPI_CXX_VERSION} (mpirun: ${MPIEXEC_EXECUTABLE})")

if(GPURNN_HAVE_CUDA)
  # Next to the toolkit, or under NCCL_ROOT (e.g. the nvidia-nccl wheel's .../nvidia/nccl).
  find_path(NCCL_INCLUDE_DIR nccl.h HINTS ${NCCL_ROOT} $ENV{NCCL_ROOT} ${CUDAToolkit_INCLUDE_DIRS}
            PATH_SUFFIXES include)
  find_library(NCCL_LIBRARY NAMES nccl libnccl.so.2 NAMES_PER_DIR
               HINTS ${NCCL_ROOT} $ENV{NCCL_ROOT} ${CUDAToolkit_LIBRARY_DIR} PATH_SUFFIXES lib lib64)
  if(NCCL_INCLUDE_DIR AND NCCL_LIBRARY)
    set(GPURNN_HAVE_NCCL ON)
    list(APPEND GPURNN_MPI_SOURCES ${PROJECT_SOURCE_DIR}/src/cuda/nccl/nccl_communicator.cpp)
    message(STATUS "gpurnn: NCCL ${NCCL_LIBRARY}")
  else()
    message(STATUS "gpurnn: no NCCL next to the CUDA toolkit: GPU ranks all-reduce through MPI on the host")
  endif()
endif()
if(NOT GPURNN_HAVE_NCCL)
  list(APPEND GPURNN_MPI_SOURCES ${PROJECT_SOURCE_DIR}/src/train/no_nccl_communicator.cpp)
endif()
