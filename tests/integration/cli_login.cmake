# `llavero login --server` against llavero-idp with llavero-vcard (e.firma)
# and llavero-vkey (security key), scripted pinentry (issue 6, acceptance 3).
if(TARGET llavero-idp AND TARGET llavero)
  llavero_integration_test(cli_login cli_login.sh TIMEOUT 240)
endif()
