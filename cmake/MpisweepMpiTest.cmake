# mpisweep_add_mpi_test(NAME <name> SOURCES <files...> RANKS <n...> [LIBRARIES <libs...>])
# Builds one GoogleTest program (with the MPI-aware main of tests/mpi) and registers one ctest
# per rank count: <name>.1rank, <name>.2ranks, <name>.5ranks, run under mpirun
# --oversubscribe. Only rank 0 prints; the exit code is the same on every rank.
set(MPISWEEP_MPI_TEST_ENV
  OMPI_ALLOW_RUN_AS_ROOT=1
  OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  OMPI_MCA_rmaps_base_oversubscribe=1
  OMPI_MCA_plm=isolated
  OMPI_MCA_btl_vader_single_copy_mechanism=none
  OMPI_MCA_mpi_yield_when_idle=1)

# The ctest name suffix of a rank count: 1rank, 2ranks, ...
function(mpisweep_rank_suffix n out)
  if(n EQUAL 1)
    set(${out} 1rank PARENT_SCOPE)
  else()
    set(${out} ${n}ranks PARENT_SCOPE)
  endif()
endfunction()

function(mpisweep_add_mpi_test)
  cmake_parse_arguments(ARG "" "NAME;TIMEOUT" "SOURCES;RANKS;LIBRARIES" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 180)
  endif()
  add_executable(${ARG_NAME} ${ARG_SOURCES} ${PROJECT_SOURCE_DIR}/tests/mpi/mpi_test_main.cpp)
  target_link_libraries(${ARG_NAME} PRIVATE mpisweep GTest::gtest HDF5::HDF5 ${ARG_LIBRARIES})
  target_include_directories(${ARG_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  mpisweep_warnings(${ARG_NAME})
  foreach(n IN LISTS ARG_RANKS)
    mpisweep_rank_suffix(${n} suffix)
    add_test(NAME ${ARG_NAME}.${suffix}
             COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${n} --oversubscribe
                     ${MPIEXEC_PREFLAGS} $<TARGET_FILE:${ARG_NAME}> ${MPIEXEC_POSTFLAGS}
             WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
    set_tests_properties(${ARG_NAME}.${suffix} PROPERTIES
      ENVIRONMENT "${MPISWEEP_MPI_TEST_ENV}" TIMEOUT ${ARG_TIMEOUT} PROCESSORS ${n}
      LABELS mpi)
  endforeach()
endfunction()

# mpisweep_add_cli_test(<script> PYTHON <python> TASK <program> RANKS <n...> LABELS <labels...>
#                       [TIMEOUT <s>])
# A Python script that drives the mpisweep command (tests/e2e, tests/faults): one ctest per
# rank count, <script>.<n>ranks, or <script>.alone for 0 (no mpirun), each run as
# `<python> <script>.py --mpisweep <mpisweep> --task <program> --ranks <n>`.
function(mpisweep_add_cli_test script)
  cmake_parse_arguments(ARG "" "PYTHON;TASK;TIMEOUT" "RANKS;LABELS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 180)
  endif()
  foreach(n IN LISTS ARG_RANKS)
    if(n EQUAL 0)
      set(suffix alone)
      set(processors 1)
    else()
      set(suffix ${n}ranks)
      set(processors ${n})
    endif()
    add_test(NAME ${script}.${suffix}
             COMMAND ${ARG_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/${script}.py
                     --mpisweep $<TARGET_FILE:mpisweep_cli> --task ${ARG_TASK} --ranks ${n}
             WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
    set_tests_properties(${script}.${suffix} PROPERTIES
      ENVIRONMENT "${MPISWEEP_MPI_TEST_ENV}" TIMEOUT ${ARG_TIMEOUT} PROCESSORS ${processors}
      LABELS "${ARG_LABELS}")
  endforeach()
endfunction()
