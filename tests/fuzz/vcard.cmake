# llavero-vcard's APDU path: the ISO 7816 card layer and the PIV applet,
# fed arbitrary APDU sequences through vcard_card_transmit.
#   cmake --build build-fuzz --target fuzz_piv_apdu
#   build-fuzz/tests/fuzz/fuzz_piv_apdu -max_total_time=60
llavero_fuzz_target(fuzz_piv_apdu
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_piv_apdu.c
  LIBS llavero_vcard_core llavero_common OpenSSL::Crypto)
