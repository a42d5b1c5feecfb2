# libllavero-verify OCSP against a local `openssl ocsp` responder on loopback
# (good, revoked, unknown; delegated responder with and without
# id-kp-OCSPSigning, the CA itself, a stale answer), and Web eID tokens
# verified with OCSP on (a revoked e.firma is refused).
add_executable(verify-ocsp-client ${CMAKE_CURRENT_SOURCE_DIR}/verify/verify_ocsp_client.c)
target_link_libraries(verify-ocsp-client PRIVATE verify_test_util llavero_verify)
target_include_directories(verify-ocsp-client PRIVATE ${CMAKE_SOURCE_DIR}/tests/unit/verify)
llavero_integration_test(verify_ocsp verify_ocsp.sh TIMEOUT 180)
