# Issue 5: one validator built with the test-only equivocation hook
# (imid-byzantine, CMake option IMI_BYZANTINE_TESTS) among three honest ones.
if(TARGET imid-byzantine)
  add_test(NAME integration/byzantine
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/byzantine_test.py
                   $<TARGET_FILE:imid> $<TARGET_FILE:imid-byzantine> $<TARGET_FILE:imi>)
  set_tests_properties(integration/byzantine PROPERTIES TIMEOUT 240 LABELS integration)
endif()
