# Benchmarks print figures; they are not tests (a slow machine must not fail them).
add_executable(omo-bench-throughput ${CMAKE_CURRENT_LIST_DIR}/bench_throughput.c)
target_link_libraries(omo-bench-throughput PRIVATE omo_runtime pthread)

# The planners' simulator: engine events/s on M/M/1 and a simulated year of
# the national retailer in plan mode.
add_executable(omo-bench-sim-plan ${CMAKE_CURRENT_LIST_DIR}/bench_sim_plan.c)
target_link_libraries(omo-bench-sim-plan PRIVATE omo_sim_plan)
