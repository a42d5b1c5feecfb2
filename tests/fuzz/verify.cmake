# Fuzz targets for libllavero-verify's parsers of outside input (verify/):
# Web eID token JSON and DER certificates, WebAuthn clientDataJSON and
# authenticator data, attestation objects and COSE keys (CBOR).
# A leading 0x01 byte switches each target to its second parser.
llavero_fuzz_target(fuzz_webeid_token
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_webeid_token.c LIBS llavero_verify)
llavero_fuzz_target(fuzz_client_data
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_client_data.c LIBS llavero_verify)
llavero_fuzz_target(fuzz_attestation_cbor
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_attestation_cbor.c LIBS llavero_verify)
