# Benchmarks print figures; they are not tests (a slow machine must not fail them).
add_executable(omo-bench-throughput ${CMAKE_CURRENT_LIST_DIR}/bench_throughput.c)
target_link_libraries(omo-bench-throughput PRIVATE omo_runtime pthread)
