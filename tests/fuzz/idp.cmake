# Fuzz target for llavero-idp's request parsing (verify/idp): form bodies,
# the conformance API's credential JSON, the configuration file. Seeds in
# corpus/idp_request/ (a first byte picks the parser), e.g.
#   ./fuzz_idp_request -max_len=4096 ../../tests/fuzz/corpus/idp_request
llavero_fuzz_target(fuzz_idp_request
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_idp_request.c
  LIBS llavero_idp_core)
