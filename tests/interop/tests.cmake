# SD-JWT interoperability with @sd-jwt/core (npm): see tests/interop/run.sh.
# Skipped (return code 77) only when node or npm is missing.
add_executable(interop_sdjwt ${CMAKE_CURRENT_SOURCE_DIR}/interop/sdjwt_interop.cc)
target_link_libraries(interop_sdjwt PRIVATE imi_apps)
add_test(NAME interop/sdjwt
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/interop/run.sh $<TARGET_FILE:interop_sdjwt>)
set_tests_properties(interop/sdjwt PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)
