omo_test(test_routing SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_routing.c LIBS omo_routing)
