# CTAP2 CBOR request parsing (and U2F APDUs) of the authenticator core.
target_compile_options(llavero_vkey_core PRIVATE -fsanitize=fuzzer-no-link)
llavero_fuzz_target(fuzz_ctap2_cbor
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_ctap2_cbor.c LIBS llavero_vkey_core)
