# integration.demo (issue 6, acceptance 5): the README's demo command,
# scripts/demo.sh, end to end on this build (LLAVERO_DEMO_NO_BUILD=1: the
# build is already there): the e.firma on llavero-vcard and llavero-vkey sign
# in to the llavero-idp demo portal in headless Chromium, the card signs a
# document that OpenSSL verifies; the output names the fixture's RFC and CURP
# as the portal shows them. One Chromium at a time (web_e2e.cmake's lock).
if(TARGET llavero-agent AND TARGET llavero-vcard AND TARGET llavero-idp AND TARGET llavero-vkey AND TARGET llavero)
  llavero_integration_test(demo demo_run.sh TIMEOUT 300)
  set_tests_properties(integration.demo PROPERTIES RESOURCE_LOCK chromium)
endif()
