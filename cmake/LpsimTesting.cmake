# lpsim_add_test(<name> SOURCES ... LIBS ... LABELS ... [TIMEOUT s])
# One GoogleTest executable per unit; every TEST becomes a ctest entry with labels
# (quick = arith/power_models, rtl, systemc, torch) so `ctest -L quick` runs in seconds.
find_package(GTest REQUIRED)
include(GoogleTest)

function(lpsim_add_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  gtest_discover_tests(${name}
    DISCOVERY_TIMEOUT 60
    PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT})
endfunction()
