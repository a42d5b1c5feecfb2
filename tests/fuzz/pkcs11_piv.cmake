# Fuzz target for the piv token driver's response parsing (pkcs11/driver_piv.c,
# the certificate objects in pkcs11/p11_cert.c, the transport's GET RESPONSE
# handling in pkcs11/pcsc_card.c) on a card whose answers the fuzzer writes.
target_compile_options(llavero_pkcs11_core PRIVATE -fsanitize=fuzzer-no-link)
llavero_fuzz_target(fuzz_piv_responses
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_piv_responses.c
  LIBS llavero_pkcs11_core)
