# The unit tests' shared fixture code (testkit.h): scratch directories, a
# fixed virtual clock, a service's core opened from its omo_service_def, and
# requests, events and ticks run through it in batches of their own.
# services.cmake and runtime.cmake include this before they use the target;
# the guard keeps the glob in tests/CMakeLists.txt from defining it twice.
include_guard(GLOBAL)
add_library(omo_testkit STATIC ${CMAKE_CURRENT_LIST_DIR}/testkit.c)
target_include_directories(omo_testkit PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(omo_testkit PUBLIC omo_runtime PkgConfig::CMOCKA)
