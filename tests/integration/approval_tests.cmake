# One-door approval end to end (issue 18): scripts/tour.sh approval against a
# real 4-validator network with one validator killed and restarted mid-case;
# agreement, records with proofs, the overdue escalation and the absence of
# personal data from every block are checked on every node.
add_test(NAME integration/approval
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/approval_test.py $<TARGET_FILE:imid>
                 $<TARGET_FILE:imi> ${CMAKE_CURRENT_LIST_DIR}/../../scripts/tour.sh)
set_tests_properties(integration/approval PROPERTIES TIMEOUT 300 LABELS integration)
