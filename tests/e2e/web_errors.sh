#!/bin/sh
# integration.web_errors: see run.sh
exec sh "$(dirname "$0")/run.sh" errors
