# A client in another language (Python + nngcat) against the real processes, one ctest per case.
foreach(case submit_and_deliver idempotent edge_keeps_working metrics listener_renewed tcp malformed_msgpack not_a_map unknown_type event_as_request
		wrong_version missing_field extra_field extra_envelope_field zero_quantity
		negative_quantity unknown_sku empty_order bad_enum oversized)
	add_test(NAME bus_client_${case}
		COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/bus_client.py
			${CMAKE_BINARY_DIR}/bin ${CMAKE_SOURCE_DIR} ${case})
	set_tests_properties(bus_client_${case} PROPERTIES TIMEOUT 120)
endforeach()
