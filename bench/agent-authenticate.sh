#!/bin/sh
# agent-authenticate.sh: llavero-agent's authenticate round trip against a
# bare C_Login + C_Sign on the same token, in the same run (issue 6 bench).
#
#   bench/agent-authenticate.sh [--iterations N] [--startups N] [--build DIR]
#
# llavero-vcard with the persona física test e.firma (tests/fixtures) in 9A
# and 9C on a private pcscd (tests/harness/pcsc-ns.sh); the driver
# bench/agent_bench.py (inside the harness) times:
#   - authenticate on one long-lived agent (native-messaging request in ->
#     Web eID token out, PIN from the scripted pinentry tests/integration/
#     agent/pinentry-script) and with a new agent process per request;
#   - p11-sign-bench on llavero-pkcs11.so, 9A: C_Initialize, find, C_Login,
#     C_Sign SHA256-RSA-PKCS, C_Finalize;
#   - agent start-up (exec -> version answer) and peak RSS (VmHWM).
# Prints RESULT lines and "RATIO agent_warm/bare=... agent_cold/bare=...".
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "agent-authenticate: $*" >&2; exit 1; }

if [ "${1:-}" = inner ]; then
    export LLAVERO_AGENT_PKCS11=$P11 LLAVERO_AGENT_CONF=/dev/null
    export LLAVERO_PINENTRY=$ROOT/tests/integration/agent/pinentry-script
    export PINENTRY_SCRIPT_ANSWERS=$T/answers PINENTRY_SCRIPT_LOG=/dev/null
    export HOME=$T/home XDG_CONFIG_HOME=$T/home/.config
    exec /usr/bin/python3 "$ROOT/bench/agent_bench.py" --agent "$AGENT" --p11-bench "$BENCH" \
        --module "$P11" --pin-file "$T/pin" --iterations "$ITER" --startups "$STARTUPS"
fi

BUILD=${LLAVERO_BUILD:-$ROOT/build}
ITER=20 STARTUPS=20
while [ $# -gt 0 ]; do
    case $1 in
        --iterations) ITER=$2; shift 2 ;;
        --startups) STARTUPS=$2; shift 2 ;;
        --build) BUILD=$2; shift 2 ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
done
case $ITER$STARTUPS in *[!0-9]*) die "--iterations and --startups take numbers" ;; esac
VCARD=$BUILD/firmware-test/vcard/llavero-vcard
BENCH=$BUILD/bench/p11-sign-bench
AGENT=$BUILD/middleware/llavero-agent
P11=$BUILD/pkcs11/llavero-pkcs11.so
for b in "$VCARD" "$BENCH" "$AGENT" "$P11"; do
    [ -e "$b" ] || die "not built: $b (scripts/build.sh)"
done

T=$(mktemp -d "${TMPDIR:-/tmp}/llavero-bench-agent.XXXXXX")
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/home"
FIX=$BUILD/fixtures
sh "$ROOT/tests/fixtures/gen-fixtures.sh" "$FIX" >/dev/null || die "fixture generation failed"
# shellcheck disable=SC1091
. "$FIX/fixtures.env"
"$VCARD" init --state "$T/card.state" >/dev/null
for s in 9a 9c; do
    "$VCARD" provision --state "$T/card.state" --efirma "$FIX_FISICA_CER" "$FIX_FISICA_KEY" \
        --password-file "$FIX_FISICA_PASS_FILE" --slot $s >/dev/null || die "provision $s failed"
done
printf '123456\n' > "$T/pin"
echo "# $(uname -m), $(nproc) cores; llavero-agent $("$AGENT" --version | cut -d' ' -f2); iterations=$ITER startups=$STARTUPS"
export T ROOT AGENT BENCH P11 ITER STARTUPS
LLAVERO_VCARD=$VCARD sh "$ROOT/tests/harness/pcsc-ns.sh" --state "$T/card.state" --log "$T/log" \
    -- sh "$0" inner || die "bench failed (logs in the harness output above)"
