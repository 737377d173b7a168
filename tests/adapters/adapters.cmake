# Tests of the partner adapters (services/adapters): mappings, and the
# translations of every partner sample into omo messages.
include(${CMAKE_SOURCE_DIR}/tests/unit/testkit.cmake)
omo_test(test_partner SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_partner.c LIBS omo_adapters omo_testkit)
omo_test(test_x12_flows SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_x12_flows.c
	LIBS omo_adapters omo_testkit omo_x12_testutil)
