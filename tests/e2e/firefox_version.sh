#!/bin/sh
# integration.firefox_version: see run.sh and firefox_version.mjs
exec sh "$(dirname "$0")/run.sh" firefox_version
