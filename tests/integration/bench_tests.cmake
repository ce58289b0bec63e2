# Issue 7: a few-second smoke run of `imi bench` against one real imid; the
# JSON summary must parse and its counts agree (no timing assertions).
add_test(NAME integration/bench
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/bench_test.py $<TARGET_FILE:imid>
                 $<TARGET_FILE:imi>)
set_tests_properties(integration/bench PROPERTIES TIMEOUT 240 LABELS integration)
