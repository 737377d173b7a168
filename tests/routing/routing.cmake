# Sourcing by rule set (routing/rules.h): rule sets, and the golden cases.
omo_test(test_rules SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_rules.c LIBS omo_routing)
