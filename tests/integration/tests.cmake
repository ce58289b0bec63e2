# Included by tests/CMakeLists.txt: process-level tests that start real imid
# processes on 127.0.0.1 (free ports picked by the node itself) and talk to
# them over HTTP. Written in Python 3 (Debian's /usr/bin/python3 with
# python3-nacl); each is bounded by its CTest TIMEOUT and its own waits.
# The binaries' paths are passed on the command line, so CTest builds
# nothing: build imid and imi first (scripts/test.sh builds everything).
set(imi_integration_dir ${CMAKE_CURRENT_LIST_DIR})
add_test(NAME integration/chain
         COMMAND /usr/bin/python3 ${imi_integration_dir}/chain_test.py $<TARGET_FILE:imid>
                 $<TARGET_FILE:imi>)
add_test(NAME integration/bad_requests
         COMMAND /usr/bin/python3 ${imi_integration_dir}/bad_requests_test.py $<TARGET_FILE:imid>)
add_test(NAME integration/crash
         COMMAND /usr/bin/python3 ${imi_integration_dir}/crash_test.py $<TARGET_FILE:imid>)
set_tests_properties(integration/chain integration/bad_requests integration/crash
                     PROPERTIES TIMEOUT 300 LABELS integration)

# Further groups of process-level tests, one file each (e.g. network_tests.cmake).
file(GLOB imi_integration_groups CONFIGURE_DEPENDS ${imi_integration_dir}/*_tests.cmake)
foreach(group ${imi_integration_groups})
  include(${group})
endforeach()
