# Acceptance tests 2 and 3 of the simulated security key: python3-fido2 over
# PC/SC (the FIDO applet of llavero-vcard) and over the llavero-vkey socket;
# the CTAPHID/CTAP2 conformance runner over the socket, UDP and PC/SC.
if(TARGET llavero-vkey AND TARGET llavero-vcard)
  llavero_integration_test(vkey_python_fido2 vkey_python_fido2.sh TIMEOUT 300)
endif()
