# Acceptance test 1 of the simulated security key: Debian's libfido2 over the
# llavero-vkey socket (custom io functions), plus the raw CTAPHID transports.
if(TARGET llavero-vkey)
  add_executable(vkey_fido2_client ${CMAKE_CURRENT_LIST_DIR}/vkey/fido2_client.c)
  target_link_libraries(vkey_fido2_client PRIVATE PkgConfig::FIDO2)
  llavero_integration_test(vkey_libfido2 vkey/libfido2.sh TIMEOUT 300)
endif()
