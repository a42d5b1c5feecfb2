# CTAPHID reassembly in front of the real authenticator core (fresh state per
# input, fake clock, user presence that waits while more reports arrive).
llavero_fuzz_target(fuzz_ctaphid_core
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_ctaphid_core.c
  LIBS llavero_vkey_hid llavero_vkey_core llavero_common)
