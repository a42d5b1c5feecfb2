# llavero-agent, the native messaging host (issue 6), driven like a browser
# drives it, with a scripted pinentry (agent/pinentry-script).
add_executable(agent-webeid-check ${CMAKE_CURRENT_SOURCE_DIR}/agent/agent_webeid_check.c)
target_link_libraries(agent-webeid-check PRIVATE llavero_verify)
#   agent_vcard   version; authenticate (Web eID token verified by
#                 libllavero-verify for its origin and nonce only; pinentry
#                 shows origin, holder, RFC); non-allowed origins refused with
#                 no APDU; wrong PIN re-asked with retries left; cancel;
#                 get-signing-certificate; sign raw and CMS verified by
#                 openssl; malformed/oversized frames
llavero_integration_test(agent_vcard agent_vcard.sh TIMEOUT 240)
#   agent_cli     llavero tokens / llavero sign (--cms verified by openssl cms
#                 against the SAT test chain with the SAT e.firma on the card
#                 when ../shared/testdata/sat exists, else the fixture);
#                 e.firma files: the CSD never signs in
llavero_integration_test(agent_cli agent_cli.sh TIMEOUT 240)
#   agent_p11kit  p11-kit's module list (pkcs11-modules = p11-kit, and the
#                 fallback when llavero-pkcs11.so is missing): OpenSC's
#                 module beside ours on the same card, certificates deduped
llavero_integration_test(agent_p11kit agent_p11kit.sh TIMEOUT 180)
set_tests_properties(integration.agent_p11kit PROPERTIES SKIP_RETURN_CODE 77)
#   agent_kiosk   kiosk mode: HTTP on 127.0.0.1, Host/Origin allow-lists and
#                 the pairing secret (403/401, no APDU), authenticate over
#                 POST /v1/authenticate, the card pulled ends the session
llavero_integration_test(agent_kiosk agent_kiosk.sh TIMEOUT 180)
