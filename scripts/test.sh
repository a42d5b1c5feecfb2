#!/bin/sh
# Runs every Llavero test: installs missing packages, builds, then ctest.
#   1. the unit tests again in an ASan+UBSan build (memory errors, UB, leaks);
#   2. the whole suite (unit, integration, end to end) in the normal build.
# Set LLAVERO_SKIP_ASAN=1 to skip step 1 while iterating locally.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${LLAVERO_BUILD_DIR:-$ROOT/build}
JOBS=$(nproc)
"$ROOT/scripts/deps.sh" --test

if [ "${LLAVERO_SKIP_ASAN:-0}" != 1 ]; then
    LLAVERO_BUILD_DIR=$BUILD-asan CMAKE_BUILD_TYPE=Debug \
        "$ROOT/scripts/build.sh" -DLLAVERO_SANITIZE=ON "$@"
    (cd "$BUILD-asan" && ASAN_OPTIONS=detect_leaks=1 \
        ctest --output-on-failure -j"$JOBS" --timeout 600 -L unit)
fi

LLAVERO_BUILD_DIR=$BUILD "$ROOT/scripts/build.sh" "$@"
cd "$BUILD"
exec ctest --output-on-failure -j"$JOBS" --timeout 600
