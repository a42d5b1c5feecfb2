# CTAPHID framing of the simulated security key (firmware-test/vkey/ctaphid.c).
llavero_unit_test(vkey_hid
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/vkey_hid/test_ctaphid.c
  LIBS llavero_vkey_hid)
