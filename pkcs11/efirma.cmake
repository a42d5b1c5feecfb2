# The efirma token driver: a soft token over an e.firma .cer/.key file pair
# (efirma_files.c loads and decrypts; driver_efirma.c is the token driver).
target_sources(llavero_pkcs11_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/efirma_files.c
  ${CMAKE_CURRENT_LIST_DIR}/driver_efirma.c)
target_compile_definitions(llavero_pkcs11_core PRIVATE LLAVERO_P11_EFIRMA=1)
