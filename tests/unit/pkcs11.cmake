# Unit tests of the Cryptoki core (pkcs11/), no card needed: return codes
# before C_Initialize, function lists and 3.0 interfaces, C_Initialize
# arguments, concurrent C_Initialize, fork, C_Finalize waking a waiter;
# objects from a certificate, template matching, C_GetAttributeValue, and
# the PKCS#1 v1.5 / PSS encoders against OpenSSL; the piv driver on a
# simulated card (recognition, objects, PIN counters, no retries, APDU counts).
foreach(t api objects piv)
  llavero_unit_test(test_p11_${t}
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/pkcs11/test_p11_${t}.c
    LIBS llavero_pkcs11_core)
  set_tests_properties(unit.test_p11_${t} PROPERTIES TIMEOUT 60)
endforeach()
