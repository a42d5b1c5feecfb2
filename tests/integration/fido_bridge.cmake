# Acceptance tests of the FIDO2 bridge: `llavero fido` against llavero-vkey
# over its socket and against llavero-vcard's FIDO applet through pcscd; every
# response verified by npm's @simplewebauthn/server.
if(TARGET llavero AND TARGET llavero-vkey AND TARGET llavero-vcard)
  foreach(mode socket pcsc)
    add_test(NAME integration.fido_bridge_${mode}
             COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/fido_bridge.sh ${mode})
    set_tests_properties(integration.fido_bridge_${mode} PROPERTIES
      LABELS integration
      TIMEOUT 300
      ENVIRONMENT "LLAVERO_SRC=${CMAKE_SOURCE_DIR};LLAVERO_BUILD=${CMAKE_BINARY_DIR};LLAVERO_HARNESS=${LLAVERO_HARNESS}")
  endforeach()
endif()
