# Unit tests of the FIDO2 bridge (fido/).
if(TARGET llavero_fido)
  foreach(t rpid client_data attestation iso7816)
    llavero_unit_test(test_fido_${t}
      SOURCES ${CMAKE_CURRENT_LIST_DIR}/fido/test_fido_${t}.c
      LIBS llavero_fido llavero_common PkgConfig::CBOR PkgConfig::FIDO2 OpenSSL::Crypto)
  endforeach()
endif()
