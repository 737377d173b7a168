# omo-bench-routing: sourcing decision time in process, and availability
# lookups per second through the batch query over the bus (prints figures).
add_executable(omo-bench-routing ${CMAKE_CURRENT_LIST_DIR}/bench_routing.c)
target_link_libraries(omo-bench-routing PRIVATE omo_runtime pthread)
