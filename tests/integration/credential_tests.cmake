# Credentials end to end (issue 6): a dev imid and the imi CLI's
# `credential` commands for a registrar, an issuer, a resident and a verifier.
add_test(NAME integration/credential
         COMMAND /usr/bin/python3 ${imi_integration_dir}/credential_test.py $<TARGET_FILE:imid>
                 $<TARGET_FILE:imi>)
set_tests_properties(integration/credential PROPERTIES TIMEOUT 300 LABELS integration)
