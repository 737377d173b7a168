# Tests of the partner adapters (services/adapters): mappings, and the
# translations of every partner sample into omo messages.
include(${CMAKE_SOURCE_DIR}/tests/unit/testkit.cmake)
add_library(omo_adapter_testkit STATIC ${CMAKE_CURRENT_LIST_DIR}/adapter_testkit.c)
target_include_directories(omo_adapter_testkit PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(omo_adapter_testkit PUBLIC omo_testkit omo_schema)
omo_test(test_partner SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_partner.c LIBS omo_adapters omo_testkit)
omo_test(test_x12_flows SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_x12_flows.c
	LIBS omo_adapters omo_adapter_testkit omo_x12_testutil)
omo_test(test_adapter SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_adapter.c
	LIBS omo_adapters omo_adapter_testkit omo_x12_testutil)
omo_test(test_tls_link SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_tls_link.c
	LIBS omo_adapters omo_adapter_testkit omo_x12_testutil pthread)
omo_test(test_json_channels SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_json_channels.c
	LIBS omo_adapters omo_adapter_testkit)

# libFuzzer targets, one per JSON channel shape, built with clang in the
# release build (the sanitizer build's gcc runtime cannot mix with clang's).
# A 10-second run of each from the samples is a test; without clang or its
# fuzzer runtime the test says so and reports itself skipped. A long run:
#   build/bin/omo-fuzz-json-shopify -max_total_time=3600 CORPUS tests/adapters/samples
include(${CMAKE_CURRENT_LIST_DIR}/fuzz_probe.cmake)
if(NOT OMO_SANITIZE)
	foreach(shape shopify amazon commercetools)
		set(bin ${CMAKE_BINARY_DIR}/bin/omo-fuzz-json-${shape})
		if(OMO_FUZZ_RUNTIME_OK)
			string(TOUPPER ${shape} SHAPE)
			set(srcs ${CMAKE_CURRENT_LIST_DIR}/fuzz_json.c ${CMAKE_SOURCE_DIR}/services/adapters/json_channels.c
				${CMAKE_SOURCE_DIR}/services/adapters/partner.c)
			add_custom_command(OUTPUT ${bin}
				COMMAND ${OMO_FUZZ_CLANG} -std=c11 -g -O1 -Wall -Wextra -Werror -Wno-missing-field-initializers
					-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
					-D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DFUZZ_SHAPE=PARTNER_JSON_${SHAPE}
					-I${CMAKE_SOURCE_DIR}/services/adapters -I${CMAKE_SOURCE_DIR}/services/adapters/x12
					-I${CMAKE_SOURCE_DIR}/services/runtime -I${CMAKE_SOURCE_DIR}/schemas -I${CMAKE_SOURCE_DIR}/routing
					${srcs} $<TARGET_FILE:omo_runtime> $<TARGET_FILE:omo_routing> $<TARGET_FILE:omo_schema>
					$<TARGET_FILE:omo_x12> -ljansson -lyaml -lmsgpackc -luuid -lm -o ${bin}
				DEPENDS ${srcs} omo_runtime omo_routing omo_schema omo_x12
				COMMENT "Building the ${shape} JSON libFuzzer target with clang" VERBATIM)
			add_custom_target(omo-fuzz-json-${shape} ALL DEPENDS ${bin})
			file(MAKE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/json_fuzz_${shape})
			add_test(NAME json_fuzz_${shape}
				COMMAND ${bin} -max_total_time=10 -seed=1 ${CMAKE_CURRENT_BINARY_DIR}/json_fuzz_${shape}
					${CMAKE_CURRENT_LIST_DIR}/samples)
		else()
			omo_fuzz_skipped(json_fuzz_${shape})
		endif()
		set_tests_properties(json_fuzz_${shape} PROPERTIES TIMEOUT 120)
	endforeach()
endif()
