# Unit tests of the FIDO applet of llavero-vcard (CTAP over ISO 7816).
llavero_unit_test(test_vcard_fido
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/vcard_fido/test_fido_applet.c
  LIBS llavero_vcard_fido llavero_vcard_core llavero_vkey_core llavero_common)
target_compile_definitions(test_vcard_fido PRIVATE _GNU_SOURCE)
