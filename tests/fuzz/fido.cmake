# Fuzz targets for the FIDO2 bridge (fido/): the WebAuthn options JSON
# (PublicKeyCredentialCreationOptionsJSON / RequestOptionsJSON with the
# caller's origin, up to the point a device would be opened) and the
# CTAP-over-ISO-7816 framing of the PC/SC transport (fido/fido_iso7816.c)
# against a card whose answers the fuzzer writes. Seeds: corpus/<target>/.
#   ./fuzz_fido_options -max_total_time=60 -dict=... corpus-dir tests/fuzz/corpus/fuzz_fido_options
target_compile_options(llavero_fido PRIVATE -fsanitize=fuzzer-no-link)
llavero_fuzz_target(fuzz_fido_options
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_fido_options.c LIBS llavero_fido)
llavero_fuzz_target(fuzz_fido_iso7816
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_fido_iso7816.c LIBS llavero_fido)
