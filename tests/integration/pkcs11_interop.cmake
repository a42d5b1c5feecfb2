# Interoperability of llavero-pkcs11.so with independent clients (issue 4,
# acceptance 1-5), each on llavero-vcard in its own pcscd namespace
# (tests/harness/pcsc-ns.sh) and/or on e.firma files; helpers shared in
# p11_interop_lib.sh.
if(TARGET llavero-pkcs11 AND TARGET llavero-vcard)
  #   pkcs11_tool   OpenSC's pkcs11-tool: every RSA/ECDSA mechanism verified by
  #                 openssl, --test/--test-fork (vcard and e.firma), wrong and
  #                 blocked PIN, wrong PUK, PUK unblock (C_InitPIN), C_SetPIN
  llavero_integration_test(pkcs11_tool pkcs11_tool.sh TIMEOUT 90)
endif()
if(TARGET llavero-pkcs11 AND TARGET llavero-vcard)
  #   pkcs11_nss    NSS: modutil -add, certutil -U/-L/-K on the vcard and
  #                 e.firma tokens, certificate requests signed through NSS
  llavero_integration_test(pkcs11_nss pkcs11_nss.sh TIMEOUT 90)
endif()
if(TARGET llavero-pkcs11 AND TARGET llavero-vcard)
  #   pkcs11_openssl  libp11's pkcs11 engine: pkeyutl with pkcs11: URIs (card
  #                   keys and the e.firma file), TLS 1.3/1.2 client
  #                   authentication to openssl s_server -Verify on loopback
  llavero_integration_test(pkcs11_openssl pkcs11_openssl.sh TIMEOUT 90)
endif()
if(TARGET llavero-pkcs11 AND TARGET llavero-vcard)
  #   pkcs11_p11kit_pykcs11  p11-kit with the shipped llavero.module (mounted
  #                   over p11-kit's directories in the namespace), GnuTLS
  #                   p11tool list/export/test-sign, p11-kit-proxy.so, and
  #                   PyKCS11 8 threads x 200 signatures (e.firma and vcard)
  llavero_integration_test(pkcs11_p11kit_pykcs11 pkcs11_p11kit_pykcs11.sh TIMEOUT 90)
endif()
