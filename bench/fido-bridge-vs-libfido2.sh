#!/bin/sh
# bench/fido-bridge-vs-libfido2.sh [BUILD_DIR] [ITERATIONS]
#
# Time per getAssertion through the FIDO2 bridge (fido_bridge_webauthn_get,
# what `llavero fido login` runs) vs bare libfido2 fido_dev_get_assert on the
# same llavero-vkey (Unix socket transport, --up auto, no PIN), in one run
# (bench/fido_assert_bench.c): per iteration, interleaved,
#   bridge      options JSON -> open -> getAssertion -> response JSON -> close
#   bare-open   fido_dev_open -> fido_dev_get_assert -> fido_dev_close
#   bare-reuse  fido_dev_get_assert on a device kept open
# Target (issue 5): bridge within 10% of bare-open.
# Then the CTAPHID round trips each ceremony costs: one ceremony of each
# kind against a second vkey run with -v, whose frame log is counted.
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd -P)
BUILD=$(cd "${1:-${LLAVERO_BUILD:-$SRC/build}}" && pwd -P)
N=${2:-300}
VKEY=$BUILD/firmware-test/vkey/llavero-vkey
BENCH=$BUILD/bench/fido-assert-bench
for f in "$VKEY" "$BENCH"; do
    [ -x "$f" ] || { echo "missing $f (build first)" >&2; exit 1; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/fido-bench.XXXXXX")
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# start_vkey SOCKET LOG [-v]
start_vkey() {
    "$VKEY" init --state "$WORK/vkey.state" --force >/dev/null
    LLAVERO_LOG=${3:+info} "$VKEY" run --state "$WORK/vkey.state" --socket "$1" --up auto $3 2>"$2" &
    pid=$!
    i=0
    until [ -S "$1" ]; do
        i=$((i + 1)); [ "$i" -lt 100 ] || { echo "llavero-vkey did not start" >&2; cat "$2" >&2; exit 1; }
        sleep 0.05
    done
}
stop_vkey() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; }

echo "# llavero-vkey, socket transport, up=auto, no PIN; $N iterations each, interleaved"
start_vkey "$WORK/timed.sock" "$WORK/timed.log" ""
"$BENCH" --socket "$WORK/timed.sock" --iterations "$N" | tee "$WORK/timed.out"
stop_vkey

echo "# CTAPHID round trips per ceremony (llavero-vkey -v frame log)"
start_vkey "$WORK/count.sock" "$WORK/count.log" -v
"$BENCH" --socket "$WORK/count.sock" --vkey-log "$WORK/count.log"
stop_vkey
