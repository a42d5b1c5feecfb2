# Unit tests of llavero-vcard's card layer (APDU parsing, chaining, SELECT,
# CLA checks, redaction of the -v log) and of the state files (fw_state).
llavero_unit_test(test_vcard_apdu
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/vcard_card/test_apdu.c
          ${CMAKE_SOURCE_DIR}/firmware-test/vcard/apdu.c
  LIBS llavero_common)
target_include_directories(test_vcard_apdu PRIVATE ${CMAKE_SOURCE_DIR}/firmware-test/vcard)

llavero_unit_test(test_vcard_card
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/vcard_card/test_card.c
          ${CMAKE_SOURCE_DIR}/firmware-test/vcard/apdu.c
          ${CMAKE_SOURCE_DIR}/firmware-test/vcard/card.c
          ${CMAKE_SOURCE_DIR}/firmware-test/vcard/vpcd_link.c
  LIBS llavero_common)
target_include_directories(test_vcard_card PRIVATE ${CMAKE_SOURCE_DIR}/firmware-test/vcard)

llavero_unit_test(test_fw_state
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/vcard_card/test_fw_state.c
  LIBS llavero_fw_state llavero_common)
