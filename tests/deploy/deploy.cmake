# deploy/: systemd units, example configuration and Kubernetes manifests are
# well-formed and name only services, binaries, options, ports and probe paths
# that exist in the code; the selftest shows the check catches planted defects.
foreach(case manifests selftest)
	add_test(NAME deploy_${case} COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/check_deploy.py
		${CMAKE_BINARY_DIR}/bin ${CMAKE_SOURCE_DIR} ${case})
	set_tests_properties(deploy_${case} PROPERTIES TIMEOUT 120)
endforeach()
