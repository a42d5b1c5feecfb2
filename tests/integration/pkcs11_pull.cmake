# Issue 4, acceptance 5, from an independent long-lived client:
#   pkcs11_pull_restart  one python3-pykcs11 process (pkcs11_longlived.py)
#                  signs in a loop while the card is pulled mid-APDU and put
#                  back, and pcscd is killed and started again: only
#                  CKR_DEVICE_REMOVED / SESSION_HANDLE_INVALID / TOKEN_NOT_PRESENT
#                  with the card out, the same process signs again after
llavero_integration_test(pkcs11_pull_restart pkcs11_pull_restart.sh TIMEOUT 120)
#   pkcs11_hotplug one long-lived python3-pykcs11 client while pcscd restarts
#                  with one more vpcd reader (a second vcard) and one fewer:
#                  the new slot appears, IDs stay, e.firma sessions keep
#                  signing (pcscd 1.9.9 limitation in pkcs11_hotplug.py)
llavero_integration_test(pkcs11_hotplug pkcs11_hotplug.sh TIMEOUT 150)
