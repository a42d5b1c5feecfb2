#!/bin/sh
# Configures and builds Llavero into build/ (or $LLAVERO_BUILD_DIR).
# Extra arguments go to cmake's configure step, e.g. -DLLAVERO_SANITIZE=ON.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${LLAVERO_BUILD_DIR:-$ROOT/build}
"$ROOT/scripts/deps.sh"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE:-RelWithDebInfo} "$@" >/dev/null
# Progress lines go to /dev/null; compiler errors arrive on stderr. No serial
# retry: a build that fails in parallel is a bug in the build to fix, not hide.
cmake --build "$BUILD" -j"$(nproc)" >/dev/null
