#!/bin/sh
# integration.firefox_signin: see run.sh and firefox_signin.mjs
exec sh "$(dirname "$0")/run.sh" firefox_signin
