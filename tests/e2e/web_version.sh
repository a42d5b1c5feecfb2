#!/bin/sh
# integration.web_version: see run.sh
exec sh "$(dirname "$0")/run.sh" version
