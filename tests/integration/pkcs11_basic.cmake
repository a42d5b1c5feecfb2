# llavero-pkcs11.so through OpenSC's pkcs11-tool on llavero-vcard (issue 4):
#   pkcs11_basic   -L, -O before/after login, --sign with RSA-PKCS,
#                  SHA256-RSA-PKCS, RSA-PKCS-PSS, SHA256-RSA-PKCS-PSS (9A, 9C
#                  via CKU_CONTEXT_SPECIFIC), ECDSA, ECDSA-SHA256/384 (9D, 9E);
#                  openssl verifies; pkcs11-tool --test; wrong PIN flags
llavero_integration_test(pkcs11_basic pkcs11_basic.sh TIMEOUT 240)
#   pkcs11_pin     wrong/blocked PIN flags, SO (PUK) login + C_InitPIN unblock,
#                  C_SetPIN, wrong PUK counted, pkcs11-tool --test-fork
llavero_integration_test(pkcs11_pin pkcs11_pin.sh TIMEOUT 180)
#   pkcs11_unrecognized  a non-PIV card (dumb_card.py on vpcd): "token not
#                  recognized", C_OpenSession = CKR_TOKEN_NOT_RECOGNIZED
llavero_integration_test(pkcs11_unrecognized pkcs11_unrecognized.sh TIMEOUT 60)
#   pkcs11_exports the module exports the 92 C_* functions and nothing else
llavero_integration_test(pkcs11_exports pkcs11_exports.sh TIMEOUT 30)
