omo_test(test_twin_flow SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_twin_flow.c LIBS omo_twin)
