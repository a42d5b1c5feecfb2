# Unit tests of llavero-idp's core (verify/idp): forms, PKCE, config,
# credential JSON, the SQLite store; the OCSP options from the config
# (generated fixtures through verify_test_util, tests/unit/verify.cmake).
llavero_unit_test(test_idp_core
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/idp/test_idp_core.c
  LIBS llavero_idp_core verify_test_util)
target_include_directories(test_idp_core PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/verify)
