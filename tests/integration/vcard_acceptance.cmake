# Acceptance tests of llavero-vcard with independent clients (issue 2), each
# in its own pcscd/vpcd namespace (tests/harness/pcsc-ns.sh).
#   vcard_opensc   OpenSC sees a PIV card, lists 9A/9C, signs RSA-PKCS,
#                  SHA256-RSA-PKCS, RSA-PKCS-PSS, ECDSA; openssl verifies
llavero_integration_test(vcard_opensc vcard_opensc.sh TIMEOUT 120)
#   vcard_pin      wrong PINs block (6983), PUK unblocks, wrong PUKs count and
#                  block; counters survive restarts (SIGTERM, kill -9)
llavero_integration_test(vcard_pin vcard_pin.sh TIMEOUT 120)
#   vcard_yubico   yubico-piv-tool status/verify-pin/import-key/import-certificate
#                  (9c RSA, 9d P-256); OpenSC signs with the imported keys
llavero_integration_test(vcard_yubico vcard_yubico.sh TIMEOUT 120)
#   vcard_sat      the real SAT test e.firma (../shared/testdata/sat) in 9C
#                  signs through OpenSC; skipped (exit 77) without that folder
llavero_integration_test(vcard_sat vcard_sat.sh TIMEOUT 120)
set_tests_properties(integration.vcard_sat PROPERTIES SKIP_RETURN_CODE 77)
#   vcard_removal  remove/insert during a pkcs11-tool signing loop and during
#                  one p11-sign-bench process: errors, no hangs; kill -9 during
#                  state writes leaves a state that loads
llavero_integration_test(vcard_removal vcard_removal.sh TIMEOUT 180)
