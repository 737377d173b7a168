# Unit tests of schemas/ and services/runtime/: the codec, the store wrapper,
# the functional core, configuration and the catalog. omo_runtime links
# omo_schema and omo_routing; lmdb and nng stay private to it.
if(NOT TARGET omo_testkit)
	include(${CMAKE_CURRENT_LIST_DIR}/testkit.cmake)
endif()
omo_test(test_schema SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_schema.c LIBS omo_schema PkgConfig::MSGPACK)
omo_test(test_yaml SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_yaml.c LIBS omo_schema)
omo_test(test_store SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_store.c LIBS omo_runtime omo_testkit)
omo_test(test_core SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_core.c LIBS omo_runtime omo_testkit)
omo_test(test_config SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_config.c LIBS omo_runtime)
omo_test(test_catalog SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_catalog.c LIBS omo_runtime)

# schemas/REFERENCE.md is generated; this fails when it no longer matches the code.
add_test(NAME schema_reference_current
	COMMAND ${CMAKE_COMMAND} -DDOC=$<TARGET_FILE:omo-schema-doc>
		-DREF=${CMAKE_SOURCE_DIR}/schemas/REFERENCE.md
		-P ${CMAKE_CURRENT_LIST_DIR}/check_reference.cmake)
omo_test(test_log SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_log.c LIBS omo_runtime)
