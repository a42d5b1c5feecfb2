# The browser extension (web/extension), llavero.js and llavero-agent end to
# end in Debian's headless Chromium (tests/e2e/run.sh, playwright-core), all
# inside the pcsc harness's private namespaces (issue 6, acceptance 1 and 2):
#   web_version  llavero.version() from http://localhost through the extension
#                to the agent; readiness handshake, extension ID, no extension
#   web_signin   the llavero-idp demo portal: "Entrar con e.firma" with the
#                e.firma on llavero-vcard, then llavero-vkey through the
#                agent's FIDO bridge; the portal shows the RFC/CURP
#   web_errors   non-allowed origins (plain http, 127.0.0.2) refused without
#                touching the card; wrong PIN shows retries left; cancel
# One Chromium at a time (RESOURCE_LOCK): the machines have 2 cores.
if(TARGET llavero-agent AND TARGET llavero-vcard AND TARGET llavero-idp)
  llavero_integration_test(web_version ../e2e/web_version.sh TIMEOUT 180)
  llavero_integration_test(web_errors ../e2e/web_errors.sh TIMEOUT 300)
  set_tests_properties(integration.web_version integration.web_errors PROPERTIES RESOURCE_LOCK chromium)
endif()
if(TARGET llavero-agent AND TARGET llavero-vcard AND TARGET llavero-idp AND TARGET llavero-vkey AND TARGET llavero)
  llavero_integration_test(web_signin ../e2e/web_signin.sh TIMEOUT 300)
  set_tests_properties(integration.web_signin PROPERTIES RESOURCE_LOCK chromium)
endif()
# llavero-idp's own browser test (idp.cmake) drives Chromium too: same lock.
if(TEST integration.idp_browser)
  set_tests_properties(integration.idp_browser PROPERTIES RESOURCE_LOCK chromium)
endif()
