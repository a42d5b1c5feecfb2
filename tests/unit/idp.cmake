# Unit tests of llavero-idp's core (verify/idp): forms, PKCE, config,
# credential JSON, the SQLite store.
llavero_unit_test(test_idp_core
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/idp/test_idp_core.c
  LIBS llavero_idp_core)
