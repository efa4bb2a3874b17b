# Installed CMake package: find_package(mpisweep) gives mpisweep::mpisweep.
include(CMakePackageConfigHelpers)
install(DIRECTORY include/mpisweep DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS mpisweep_core mpisweep mpisweep_cli EXPORT mpisweepTargets
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
