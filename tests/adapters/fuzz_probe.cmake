# Whether clang and its libFuzzer runtime are here: OMO_FUZZ_CLANG and
# OMO_FUZZ_RUNTIME_OK, for the fuzz targets of adapters.cmake and x12.cmake.
# The sanitizer build's gcc runtime cannot mix with clang's, so only other
# builds look.
include_guard(GLOBAL)
set(OMO_FUZZ_RUNTIME_OK OFF)
if(NOT OMO_SANITIZE)
	find_program(OMO_FUZZ_CLANG NAMES clang clang-14)
	if(OMO_FUZZ_CLANG)
		set(probe ${CMAKE_BINARY_DIR}/fuzz_probe.c)
		file(WRITE ${probe} "#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n")
		execute_process(COMMAND ${OMO_FUZZ_CLANG} -fsanitize=fuzzer ${probe} -o ${CMAKE_BINARY_DIR}/fuzz_probe
			RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
		if(rc EQUAL 0)
			set(OMO_FUZZ_RUNTIME_OK ON)
		endif()
	endif()
endif()
# omo_fuzz_skipped(NAME): a test that says why it did not run and counts as skipped.
function(omo_fuzz_skipped name)
	add_test(NAME ${name} COMMAND sh -c
		"echo 'skipped: clang with its libFuzzer runtime is missing (deploy/install-deps fuzz)'; exit 77")
	set_tests_properties(${name} PROPERTIES SKIP_RETURN_CODE 77)
endfunction()
