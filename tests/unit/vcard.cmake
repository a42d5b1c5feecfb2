# Unit tests of the PIV applet core (firmware-test/vcard/piv_*.c), driven
# through piv_applet_ops with constructed APDUs.
foreach(t objects pin sign mgmt state random)
  llavero_unit_test(test_piv_${t}
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/vcard/test_piv_${t}.c
            ${CMAKE_CURRENT_SOURCE_DIR}/vcard/piv_test_util.c
    LIBS llavero_vcard_core llavero_common OpenSSL::Crypto)
  target_include_directories(test_piv_${t} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/vcard)
endforeach()
