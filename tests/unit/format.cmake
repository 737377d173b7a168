# Formatting is mechanical: every tracked C file must be as .clang-format makes it.
find_program(OMO_CLANG_FORMAT clang-format REQUIRED)
add_test(NAME format_clean
	COMMAND sh -c "git ls-files '*.c' '*.h' | xargs ${OMO_CLANG_FORMAT} --dry-run --Werror"
	WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
