# Installed CMake package: find_package(mpisweep) gives mpisweep::mpisweep.
include(CMakePackageConfigHelpers)
install(DIRECTORY include/mpisweep DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# The HDF5 this build links, for consumers whose project has no C language (see the config).
set(MPISWEEP_HDF5_LINK_LIBRARIES ${HDF5_C_LIBRARIES})
set(MPISWEEP_HDF5_INCLUDE_DIRS ${HDF5_C_INCLUDE_DIRS})
if(NOT MPISWEEP_HDF5_LINK_LIBRARIES)
  set(MPISWEEP_HDF5_LINK_LIBRARIES ${HDF5_LIBRARIES})
  set(MPISWEEP_HDF5_INCLUDE_DIRS ${HDF5_INCLUDE_DIRS})
endif()
# The modules are installed as the static libraries that libmpisweep.a needs; only
# mpisweep::mpisweep is the documented target.
install(TARGETS mpisweep_grid mpisweep_schedule mpisweep_platform mpisweep_exec
                mpisweep_transport mpisweep_store mpisweep mpisweep_cli EXPORT mpisweepTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT mpisweepTargets NAMESPACE mpisweep:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/mpisweep)
configure_package_config_file(cmake/mpisweepConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/mpisweepConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/mpisweep)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/mpisweepConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/mpisweepConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/mpisweepConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/mpisweep)
