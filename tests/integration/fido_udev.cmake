# udev rules of the FIDO bridge: syntax, matching on recorded devices, install.
if(TARGET llavero)
  llavero_integration_test(fido_udev fido_udev.sh TIMEOUT 120)
endif()
