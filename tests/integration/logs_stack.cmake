# Every log line of a demo run is one logfmt record; lines about an order name it.
add_test(NAME logs_stack COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/logs_stack.py
	${CMAKE_BINARY_DIR}/bin ${CMAKE_SOURCE_DIR})
set_tests_properties(logs_stack PROPERTIES TIMEOUT 300)
