# Unit tests of common/: one executable per helper.
foreach(helper buf hex base64url tlv secmem log json atomic_file)
  llavero_unit_test(test_common_${helper}
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/common/test_${helper}.c
    LIBS llavero_common)
endforeach()
