# Unit tests of libllavero-verify (verify/). Fixtures come from
# tests/fixtures/gen-fixtures.sh (the tests run it themselves, idempotently,
# into the build's fixture directory); SAT's test e.firma in
# ../shared/testdata/sat is used when present (skipped loudly when absent).
set(VT_DIR ${CMAKE_CURRENT_SOURCE_DIR}/verify)
add_library(verify_test_util STATIC ${VT_DIR}/vt_util.c)
target_link_libraries(verify_test_util PUBLIC llavero_verify)
target_compile_definitions(verify_test_util PRIVATE
  VT_GEN_FIXTURES="${CMAKE_SOURCE_DIR}/tests/fixtures/gen-fixtures.sh"
  VT_FIXTURES_DIR="${CMAKE_BINARY_DIR}/fixtures"
  VT_SAT_DIR="${CMAKE_SOURCE_DIR}/../shared/testdata/sat")

foreach(t webeid webauthn nonce identity ocsp)
  llavero_unit_test(test_verify_${t}
    SOURCES ${VT_DIR}/test_verify_${t}.c
    LIBS verify_test_util llavero_verify)
  set_tests_properties(unit.test_verify_${t} PROPERTIES TIMEOUT 180)
endforeach()
