# The operator's CLI and the demo driver against the real processes.
add_test(NAME cli_stack COMMAND ${CMAKE_CURRENT_LIST_DIR}/cli_stack.sh ${CMAKE_BINARY_DIR}/bin ${CMAKE_SOURCE_DIR})
set_tests_properties(cli_stack PROPERTIES TIMEOUT 300)
