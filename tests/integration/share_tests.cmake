# Community sharing end to end (issue 17): scripts/tour.sh share against a
# real 4-validator network with one validator killed and restarted during
# the tour; records, proofs, the escalation event and the absence of
# personal data from every block are checked on every node.
add_test(NAME integration/share
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/share_test.py $<TARGET_FILE:imid>
                 $<TARGET_FILE:imi> ${CMAKE_CURRENT_LIST_DIR}/../../scripts/tour.sh)
set_tests_properties(integration/share PROPERTIES TIMEOUT 300 LABELS integration)
