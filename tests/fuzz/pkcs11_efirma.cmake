# Fuzz target for the efirma token driver's loaders (pkcs11/efirma_files.c):
# the .cer (DER/PEM X.509 and the SAT subject fields) and the .key
# (EncryptedPrivateKeyInfo, PBES2 parameters, decryption, PKCS#8 inside).
# Seeds: the generated fixtures (`cmake --build . --target fixtures`), e.g.
#   ./fuzz_efirma_load -max_len=8192 corpus/ fixtures/  (a first byte picks the loader)
llavero_fuzz_target(fuzz_efirma_load
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_efirma_load.c
          ${CMAKE_SOURCE_DIR}/pkcs11/efirma_files.c
  LIBS llavero_common OpenSSL::Crypto)
target_include_directories(fuzz_efirma_load PRIVATE ${CMAKE_SOURCE_DIR}/pkcs11)
