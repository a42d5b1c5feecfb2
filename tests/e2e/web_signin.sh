#!/bin/sh
# integration.web_signin: see run.sh
exec sh "$(dirname "$0")/run.sh" signin
