# `cmake --install` of libllavero-verify for portals: installs into a
# temporary prefix, builds a small consumer with pkg-config llavero-verify,
# runs it, and checks the shared library exports only verify_* functions.
llavero_integration_test(verify_install verify_install.sh TIMEOUT 120)
