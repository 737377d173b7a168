# Sourcing by rule set (routing/rules.h): rule sets, and the golden cases.
omo_test(test_rules SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_rules.c LIBS omo_routing)
omo_test(test_decide SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_decide.c LIBS omo_routing)

# Golden routing cases: one data file each under cases/, run by routing-golden
# as a ctest of its own (cases/README.md says how to write one).
add_executable(routing-golden ${CMAKE_CURRENT_LIST_DIR}/golden.c)
target_link_libraries(routing-golden PRIVATE omo_routing)
file(GLOB omo_golden_cases CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/cases/*.yaml)
foreach(case ${omo_golden_cases})
	get_filename_component(stem ${case} NAME_WE)
	add_test(NAME golden_${stem} COMMAND routing-golden ${case})
endforeach()
