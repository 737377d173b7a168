# Unit tests of the services' handlers (services/*): each drives one service's
# core in process with hand-made requests and events on a virtual clock.
if(NOT TARGET omo_testkit)
	include(${CMAKE_CURRENT_LIST_DIR}/testkit.cmake)
endif()
omo_test(test_orders SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_orders.c LIBS omo_orders omo_testkit)
omo_test(test_inventory SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_inventory.c LIBS omo_inventory omo_testkit)
omo_test(test_router SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_router.c LIBS omo_router omo_testkit)
omo_test(test_node SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_node.c LIBS omo_node omo_testkit)
