# Tests of the X12 codec (services/adapters/x12): the partner samples with
# their values and acknowledgements, the codec's own cases, a seeded mutation
# loop, a benchmark (not a test) and a libFuzzer target.
add_library(omo_x12_testutil STATIC ${CMAKE_CURRENT_LIST_DIR}/x12_test_util.c)
target_link_libraries(omo_x12_testutil PUBLIC omo_x12)
target_include_directories(omo_x12_testutil PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_compile_definitions(omo_x12_testutil PRIVATE X12_SAMPLES_DIR="${CMAKE_CURRENT_LIST_DIR}/samples")

omo_test(test_x12_samples SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_x12_samples.c LIBS omo_x12_testutil)
omo_test(test_x12_codec SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_x12_codec.c LIBS omo_x12_testutil)
omo_test(test_x12_mutate SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_x12_mutate.c LIBS omo_x12_testutil)

# Benchmarks print figures; they are not tests.
add_executable(omo-bench-x12 ${CMAKE_CURRENT_LIST_DIR}/bench_x12.c)
target_link_libraries(omo-bench-x12 PRIVATE omo_adapters)

# libFuzzer needs clang. Built when clang compiles omo, or when clang and its
# fuzzer runtime are on the PATH (then clang builds just this target; outside
# the sanitizer build), or with -DOMO_FUZZ=ON; a short run is a test wherever
# the target is built, and says it is skipped where it is not. See services/adapters/x12/README.md.
option(OMO_FUZZ "Build the libFuzzer targets (needs clang) and run them briefly as tests" OFF)
include(${CMAKE_SOURCE_DIR}/tests/adapters/fuzz_probe.cmake)
set(x12_fuzz_sources ${CMAKE_CURRENT_LIST_DIR}/fuzz_x12.c ${CMAKE_CURRENT_LIST_DIR}/x12_test_util.c
	${CMAKE_SOURCE_DIR}/services/adapters/x12/x12_parse.c ${CMAKE_SOURCE_DIR}/services/adapters/x12/x12_ack.c
	${CMAKE_SOURCE_DIR}/services/adapters/x12/x12_write.c ${CMAKE_SOURCE_DIR}/services/adapters/x12/x12_util.c)
file(GLOB x12_fuzz_headers ${CMAKE_SOURCE_DIR}/services/adapters/x12/*.h
	${CMAKE_SOURCE_DIR}/services/adapters/x12/*.def ${CMAKE_CURRENT_LIST_DIR}/*.h)
set(x12_fuzz_bin ${CMAKE_BINARY_DIR}/bin/omo-fuzz-x12)
if(CMAKE_C_COMPILER_ID MATCHES "Clang")
	# its own instrumented copy of the codec, so omo_x12 stays as every other build has it
	add_executable(omo-fuzz-x12 ${x12_fuzz_sources})
	target_include_directories(omo-fuzz-x12 PRIVATE ${CMAKE_SOURCE_DIR}/services/adapters/x12 ${CMAKE_CURRENT_LIST_DIR})
	target_compile_options(omo-fuzz-x12 PRIVATE -fsanitize=fuzzer,address,undefined)
	target_link_options(omo-fuzz-x12 PRIVATE -fsanitize=fuzzer,address,undefined)
	set(x12_fuzz_built ON)
elseif(OMO_FUZZ OR OMO_FUZZ_RUNTIME_OK)
	find_program(OMO_CLANG NAMES clang clang-14 REQUIRED)
	add_custom_command(OUTPUT ${x12_fuzz_bin}
		COMMAND ${OMO_CLANG} -std=c11 -g -O1 -Wall -Wextra -Werror -Wno-missing-field-initializers
			-fsanitize=fuzzer,address,undefined
			-fno-sanitize-recover=undefined -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
			-I${CMAKE_SOURCE_DIR}/services/adapters/x12 -I${CMAKE_CURRENT_LIST_DIR}
			${x12_fuzz_sources} -o ${x12_fuzz_bin}
		DEPENDS ${x12_fuzz_sources} ${x12_fuzz_headers}
		COMMENT "Building the X12 libFuzzer target with ${OMO_CLANG}" VERBATIM)
	add_custom_target(omo-fuzz-x12 ALL DEPENDS ${x12_fuzz_bin})
	set(x12_fuzz_built ON)
endif()
if(x12_fuzz_built)
	# 20 seconds from the samples; new inputs go to the build tree, never the sources
	file(MAKE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/x12_fuzz_corpus)
	add_test(NAME x12_fuzz_short
		COMMAND ${x12_fuzz_bin} -max_total_time=20 -seed=1 -dict=${CMAKE_CURRENT_LIST_DIR}/x12.dict
			${CMAKE_CURRENT_BINARY_DIR}/x12_fuzz_corpus ${CMAKE_CURRENT_LIST_DIR}/samples)
	set_tests_properties(x12_fuzz_short PROPERTIES TIMEOUT 120)
elseif(NOT OMO_SANITIZE)
	omo_fuzz_skipped(x12_fuzz_short)
endif()
