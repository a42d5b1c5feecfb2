#!/bin/sh
# Runs every Llavero test: installs missing packages, builds, then ctest.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${LLAVERO_BUILD_DIR:-$ROOT/build}
"$ROOT/scripts/build.sh" "$@"
cd "$BUILD"
exec ctest --output-on-failure -j"$(nproc)" --timeout 600
