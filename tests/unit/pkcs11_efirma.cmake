# Unit tests of the efirma token driver's loader (pkcs11/efirma_files.c):
# certificate and encrypted .key parsing, password handling, pairing, scanning
# and configuration. Fixtures come from tests/fixtures/gen-fixtures.sh (the
# test runs it itself, idempotently, into the build's fixture directory); the
# real SAT files in ../shared/testdata/sat are used when present.
llavero_unit_test(test_pkcs11_efirma_files
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/pkcs11_efirma/test_efirma_files.c
          ${CMAKE_SOURCE_DIR}/pkcs11/efirma_files.c
  LIBS llavero_common OpenSSL::Crypto)
target_include_directories(test_pkcs11_efirma_files PRIVATE ${CMAKE_SOURCE_DIR}/pkcs11)
target_compile_definitions(test_pkcs11_efirma_files PRIVATE
  EFIRMA_GEN_FIXTURES="${CMAKE_SOURCE_DIR}/tests/fixtures/gen-fixtures.sh"
  EFIRMA_FIXTURES_DIR="${CMAKE_BINARY_DIR}/fixtures"
  EFIRMA_SAT_DIR="${CMAKE_SOURCE_DIR}/../shared/testdata/sat")
set_tests_properties(unit.test_pkcs11_efirma_files PROPERTIES TIMEOUT 180)
