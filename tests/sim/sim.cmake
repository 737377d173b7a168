# The simulator's engine library (simulators/engine): engine, random numbers,
# exact formulas, and the textbook models against ../shared/TESTING.md's
# reference results. ctest -R sim runs them all.
foreach(t engine rng theory inventory queue)
	omo_test(test_sim_${t} SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_sim_${t}.c LIBS omo_sim_engine)
	target_include_directories(test_sim_${t} PRIVATE ${CMAKE_CURRENT_LIST_DIR})
endforeach()

# Plan mode (simulators/plan): published cases as data, scenarios, the
# network model's determinism and common random numbers.
foreach(t reference plan)
	omo_test(test_sim_${t} SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_sim_${t}.c LIBS omo_sim_plan)
endforeach()
