# mpisweep_module(<name> SOURCES <files...> [PUBLIC <targets...>] [PRIVATE <targets...>])
# A module of src/: the static library mpisweep_<name> (exported as mpisweep::<name>). Its
# headers are included as "<name>/file.hpp" from src/ and the public ones from include/.
function(mpisweep_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC;PRIVATE" ${ARGN})
  set(target mpisweep_${name})
  add_library(${target} STATIC ${ARG_SOURCES})
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/src>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_link_libraries(${target} PUBLIC ${ARG_PUBLIC} PRIVATE ${ARG_PRIVATE})
  target_compile_features(${target} PUBLIC cxx_std_17)
  set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE ON EXPORT_NAME ${name})
  mpisweep_warnings(${target})
  add_library(mpisweep::${name} ALIAS ${target})
endfunction()
