# Three hosts in network namespaces, every socket over tcp://, a link cut and healed.
# Without the privilege to make namespaces it reports "skipped" (exit 77), never passed.
add_test(NAME multihost COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/multihost.py
	${CMAKE_BINARY_DIR}/bin ${CMAKE_SOURCE_DIR})
set_tests_properties(multihost PROPERTIES TIMEOUT 300 SKIP_RETURN_CODE 77)
