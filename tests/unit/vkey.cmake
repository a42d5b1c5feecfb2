# Unit tests of the simulated security key (firmware-test/vkey).
add_library(llavero_ctap_test_client STATIC ${CMAKE_CURRENT_LIST_DIR}/vkey/ctap_test_client.c)
target_link_libraries(llavero_ctap_test_client PUBLIC llavero_vkey_core PkgConfig::CMOCKA)

# No EXISTS guard: a missing test file is a configure error, not a test that
# silently stops running.
foreach(t getinfo make_credential get_assertion client_pin cred_mgmt u2f reset_state cbor)
  llavero_unit_test(test_ctap_${t}
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/vkey/test_ctap_${t}.c
    LIBS llavero_ctap_test_client llavero_vkey_core)
endforeach()
