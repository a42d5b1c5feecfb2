# The efirma soft token of llavero-pkcs11.so with OpenSC's pkcs11-tool and
# OpenSSL: generated e.firma/CSD pairs (and SAT's test e.firma when
# ../shared/testdata/sat is there), no pcscd. See pkcs11_efirma.sh.
if(TARGET llavero-pkcs11)
  llavero_integration_test(pkcs11_efirma pkcs11_efirma.sh TIMEOUT 180)
endif()
