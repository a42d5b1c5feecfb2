# llavero-idp (verify/idp): the OAuth flow end to end (acceptance 3) and the
# browser test with Chromium's virtual authenticator (acceptance 1).
llavero_integration_test(idp_oauth idp_oauth.sh TIMEOUT 180)
llavero_integration_test(idp_browser idp_browser.sh TIMEOUT 300)
llavero_integration_test(idp_conformance idp_conformance.sh TIMEOUT 180)
