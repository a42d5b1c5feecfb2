# CTAPHID reassembly of the simulated security key.
target_compile_options(llavero_vkey_hid PRIVATE -fsanitize=fuzzer-no-link)
llavero_fuzz_target(fuzz_ctaphid
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_ctaphid.c LIBS llavero_vkey_hid)
