# The browser extension in Debian's headless Firefox ESR (issue 6: the
# extension is for Chromium and Firefox): tests/e2e/firefox_version.mjs
# installs web/extension as a temporary add-on over WebDriver BiDi, the
# native host manifest in $HOME/.mozilla/native-messaging-hosts/, and asks
# llavero.version() from http://localhost; the agent gets the browser's
# origin, never the page's. tests/e2e/firefox_signin.mjs: the llavero-idp
# demo portal's "Entrar con e.firma" with the e.firma on llavero-vcard and a
# llavero.sign() checked with the certificate. Inside the pcsc harness like
# web_version and web_signin.
# One browser at a time (RESOURCE_LOCK chromium, shared with web_e2e.cmake).
if(TARGET llavero-agent AND TARGET llavero-vcard AND TARGET llavero-idp)
  llavero_integration_test(firefox_version ../e2e/firefox_version.sh TIMEOUT 120)
  llavero_integration_test(firefox_signin ../e2e/firefox_signin.sh TIMEOUT 180)
  set_tests_properties(integration.firefox_version integration.firefox_signin PROPERTIES RESOURCE_LOCK chromium)
endif()
