# Included by tests/CMakeLists.txt.
# gen_vectors regenerates transactions.json, blocks.json and certificates.json
# (run by hand: build/tests/gen_vectors tests/vectors); it is not a test.
add_executable(gen_vectors ${CMAKE_CURRENT_LIST_DIR}/gen_vectors.cc
                           ${CMAKE_CURRENT_LIST_DIR}/gen_records.cc)
target_link_libraries(gen_vectors PRIVATE imi_ledger imi_identity imi_base)

# The independent Python checker re-verifies every vector file from DESIGN
# alone (Debian's python3 with python3-nacl, standard library otherwise).
add_test(NAME vectors/check_vectors
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/check_vectors.py
                 ${CMAKE_CURRENT_LIST_DIR})
set_tests_properties(vectors/check_vectors PROPERTIES TIMEOUT 300)
