# check_reference.cmake -DDOC=<omo-schema-doc> -DREF=<schemas/REFERENCE.md>
# Runs the generator and fails unless its output is byte for byte the file.
# tests/CMakeLists.txt includes every unit/*.cmake as a test list: this file
# registers nothing and only does its work when run as a script (-P).
if(NOT CMAKE_SCRIPT_MODE_FILE)
	return()
endif()
if(NOT DOC OR NOT REF)
	message(FATAL_ERROR "usage: cmake -DDOC=<omo-schema-doc> -DREF=<REFERENCE.md> -P check_reference.cmake")
endif()
execute_process(COMMAND "${DOC}" OUTPUT_VARIABLE fresh RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
	message(FATAL_ERROR "${DOC} failed: ${rc}")
endif()
if(NOT EXISTS "${REF}")
	message(FATAL_ERROR "schemas/REFERENCE.md is stale: regenerate with omo-schema-doc > schemas/REFERENCE.md (${REF} is missing)")
endif()
file(READ "${REF}" current)
if(NOT "${fresh}" STREQUAL "${current}")
	message(FATAL_ERROR "schemas/REFERENCE.md is stale: regenerate with omo-schema-doc > schemas/REFERENCE.md")
endif()
