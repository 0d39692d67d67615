# Helpers shared by every component: one library per component, one test
# binary per component (registered with ctest), one benchmark binary.

include(GNUInstallDirs)
include(TickflowDependencies)

function(tickflow_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
    -Wconversion -Wno-sign-conversion -Wnon-virtual-dtor -Wold-style-cast)
  # GCC 12 reports std::string concatenation at -O3 as overlapping memcpy
  # (GCC bug 105651, a false positive); keep the rest of -Werror.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
  if(TICKFLOW_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

if(TICKFLOW_TSAN)
  if(TICKFLOW_SANITIZE)
    message(FATAL_ERROR "TICKFLOW_TSAN and TICKFLOW_SANITIZE (ASan) cannot be combined: choose one")
  endif()
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
endif()

if(TICKFLOW_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
    -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# tickflow_add_library(NAME SOURCES ... DEPS ... PRIVATE_DEPS ...)
# Defines tickflow_NAME (alias and exported name tickflow::NAME), installs it
# with its headers as the package component NAME, and records the component's
# tickflow libraries and external dependencies (cmake/TickflowPackage.cmake
# writes them into the installed tickflowConfig.cmake and tickflow.pc). The
# libraries are static, so private dependencies are the consumer's too.
function(tickflow_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(tickflow_${name} ${ARG_SOURCES})
  add_library(tickflow::${name} ALIAS tickflow_${name})
  set_target_properties(tickflow_${name} PROPERTIES EXPORT_NAME ${name})
  target_include_directories(tickflow_${name}
    PUBLIC $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_link_libraries(tickflow_${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  target_compile_features(tickflow_${name} PUBLIC cxx_std_20)  # the headers' language, for consumers too
  tickflow_warnings(tickflow_${name})

  set(requires "")
  set(finds "")
  foreach(item IN LISTS ARG_DEPS ARG_PRIVATE_DEPS)
    if(item MATCHES "^tickflow::(.+)$")
      list(APPEND requires ${CMAKE_MATCH_1})
    else()
      tickflow_dependency_key("${item}" key)
      if(key)
        list(APPEND finds ${key})
      endif()
    endif()
  endforeach()
  list(REMOVE_DUPLICATES requires)
  list(REMOVE_DUPLICATES finds)
  set_property(GLOBAL APPEND PROPERTY TICKFLOW_COMPONENTS ${name})
  set_property(GLOBAL PROPERTY TICKFLOW_${name}_REQUIRES "${requires}")
  set_property(GLOBAL PROPERTY TICKFLOW_${name}_FINDS "${finds}")

  install(TARGETS tickflow_${name} EXPORT tickflow-${name} ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(EXPORT tickflow-${name} NAMESPACE tickflow:: FILE tickflow-${name}-targets.cmake
          DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tickflow)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/include)
    install(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  endif()
endfunction()

# Header-only helpers shared by the tests (tests/support).
if(TICKFLOW_BUILD_TESTS AND NOT TARGET tickflow_test_support)
  add_library(tickflow_test_support INTERFACE)
  target_include_directories(tickflow_test_support INTERFACE ${CMAKE_CURRENT_LIST_DIR}/../tests/support/include)
endif()

# tickflow_add_test(NAME SOURCES ... DEPS ... [LABELS ...])
function(tickflow_add_test name)
  if(NOT TICKFLOW_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} tickflow_test_support GTest::gtest GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE
    TICKFLOW_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  tickflow_warnings(${name})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}")
endfunction()

# tickflow_add_bench(NAME SOURCES ... DEPS ...)
function(tickflow_add_bench name)
  if(NOT TICKFLOW_BUILD_BENCHMARKS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} benchmark::benchmark benchmark::benchmark_main)
  tickflow_warnings(${name})
endfunction()
