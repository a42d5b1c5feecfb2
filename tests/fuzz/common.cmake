# Fuzz targets for the parsers in common/ that see outside input.
#
# llavero_fuzz_target() instruments only the target's own sources; without
# coverage counters in the library under test libFuzzer would fuzz blind.
target_compile_options(llavero_common PRIVATE -fsanitize=fuzzer-no-link)

llavero_fuzz_target(fuzz_tlv
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_tlv.c LIBS llavero_common)
llavero_fuzz_target(fuzz_base64url
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_base64url.c LIBS llavero_common)
