# Acceptance tests 2 and 3 of the simulated security key: python3-fido2 over
# PC/SC (the FIDO applet of llavero-vcard) and over the llavero-vkey socket;
# the CTAPHID/CTAP2 conformance runner over the socket, UDP (in a private
# network namespace: the ports are fixed) and PC/SC, plus a self-test that
# shows the runner fails against a broken device.
if(TARGET llavero-vkey AND TARGET llavero-vcard)
  llavero_integration_test(vkey_python_fido2 vkey_python_fido2.sh TIMEOUT 300)
endif()
if(TARGET llavero-vkey AND TARGET llavero-vcard AND TARGET llavero-ctap-conformance)
  foreach(mode socket udp pcsc selftest)
    add_test(NAME integration.vkey_conformance_${mode}
             COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/vkey_conformance.sh ${mode})
    set_tests_properties(integration.vkey_conformance_${mode} PROPERTIES
      LABELS integration
      TIMEOUT 120
      SKIP_RETURN_CODE 77
      ENVIRONMENT "LLAVERO_SRC=${CMAKE_SOURCE_DIR};LLAVERO_BUILD=${CMAKE_BINARY_DIR};LLAVERO_HARNESS=${LLAVERO_HARNESS}")
  endforeach()
endif()
