# omo trace: one order's events from every service of the real stack, in time order.
add_test(NAME trace_stack COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/trace_stack.py
	${CMAKE_BINARY_DIR}/bin ${CMAKE_SOURCE_DIR})
set_tests_properties(trace_stack PROPERTIES TIMEOUT 300)
