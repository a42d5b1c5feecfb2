#!/bin/sh
# pcsc-ns.sh: runs a command against llavero-vcard on a private pcscd.
#
#   tests/harness/pcsc-ns.sh --state F [--port P] [--log DIR] [--verbose]
#                            [--no-vcard] [--timeout S] -- cmd args...
#
# Inside a private mount and network namespace (unshare -m -n: a tmpfs on
# /run/pcscd, loopback up) it writes a vpcd reader configuration for port P
# (default 35963; vpcd also takes P+1 for a second slot), starts
# `pcscd -f -c DIR` and `llavero-vcard run --state F --port P`, waits (at most
# --timeout seconds, default 20) until the card is present in the reader,
# runs the command, and stops both by PID (also on any exit). pcsc-lite
# 1.9.9 always uses /run/pcscd and vpcd listens on every interface, so the
# namespaces keep tests away from a system pcscd and from each other.
#
# Environment:
#   LLAVERO_VCARD   the llavero-vcard binary
#                   (default $LLAVERO_BUILD/firmware-test/vcard/llavero-vcard)
# Exported to the command:
#   LLAVERO_VCARD, LLAVERO_VCARD_STATE, LLAVERO_VCARD_PORT, LLAVERO_VCARD_PID,
#   LLAVERO_PCSCD_PID, LLAVERO_HARNESS_LOG (log directory),
#   LLAVERO_READER (the reader's name as PC/SC lists it), XDG_CACHE_HOME
#   (a private OpenSC cache).
# Logs (pcscd.log, vcard.log) go to --log DIR (default: a temporary
# directory) and are printed when the command or the setup fails.
# Exit status: the command's, or 90 when the rig could not be set up.
set -eu

HARNESS_FAIL=90
me=$(basename "$0")
die() { echo "$me: $*" >&2; exit $HARNESS_FAIL; }

abspath() {
    case $1 in
        /*) printf '%s\n' "$1" ;;
        *) printf '%s/%s\n' "$(pwd)" "$1" ;;
    esac
}

STATE="" PORT=35963 LOGDIR="" VERBOSE=0 NO_VCARD=0 TIMEOUT=20
while [ $# -gt 0 ]; do
    case $1 in
        --state) [ $# -ge 2 ] || die "--state needs a file"; STATE=$2; shift 2 ;;
        --port) [ $# -ge 2 ] || die "--port needs a number"; PORT=$2; shift 2 ;;
        --log) [ $# -ge 2 ] || die "--log needs a directory"; LOGDIR=$2; shift 2 ;;
        --timeout) [ $# -ge 2 ] || die "--timeout needs seconds"; TIMEOUT=$2; shift 2 ;;
        --verbose|-v) VERBOSE=1; shift ;;
        --no-vcard) NO_VCARD=1; shift ;;
        --) shift; break ;;
        -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
        *) die "unknown option: $1 (usage: $me --state F [--port P] [--log DIR] -- cmd args...)" ;;
    esac
done
[ $# -gt 0 ] || die "no command given (usage: $me --state F [--port P] [--log DIR] -- cmd args...)"
[ -n "$STATE" ] || [ "$NO_VCARD" = 1 ] || die "--state F is required"
case $PORT in ''|*[!0-9]*) die "bad port: $PORT" ;; esac
[ "$PORT" -gt 0 ] && [ "$PORT" -lt 65535 ] || die "bad port: $PORT"

if [ -z "${LLAVERO_VCARD:-}" ]; then
    [ -n "${LLAVERO_BUILD:-}" ] || die "set LLAVERO_VCARD or LLAVERO_BUILD"
    LLAVERO_VCARD=$LLAVERO_BUILD/firmware-test/vcard/llavero-vcard
fi
LLAVERO_VCARD=$(abspath "$LLAVERO_VCARD")
[ -x "$LLAVERO_VCARD" ] || [ "$NO_VCARD" = 1 ] || die "llavero-vcard not found at $LLAVERO_VCARD (build it first)"
[ -z "$STATE" ] || STATE=$(abspath "$STATE")
[ -z "$LOGDIR" ] || LOGDIR=$(abspath "$LOGDIR")

# Outside: enter the namespaces, then run this script again inside.
if [ "${LLAVERO_PCSC_NS_INSIDE:-}" != "$$" ] && [ -z "${LLAVERO_PCSC_NS_CHILD:-}" ]; then
    command -v unshare >/dev/null || die "unshare (util-linux) is missing"
    command -v pcscd >/dev/null || [ -x /usr/sbin/pcscd ] || die "pcscd is missing (scripts/deps.sh)"
    userns=""
    [ "$(id -u)" -eq 0 ] || userns="-r"
    mkdir -p /run/pcscd 2>/dev/null || true
    set -- --port "$PORT" --timeout "$TIMEOUT" -- "$@"
    [ -z "$STATE" ] || set -- --state "$STATE" "$@"
    [ -z "$LOGDIR" ] || set -- --log "$LOGDIR" "$@"
    [ "$VERBOSE" = 0 ] || set -- --verbose "$@"
    [ "$NO_VCARD" = 0 ] || set -- --no-vcard "$@"
    LLAVERO_PCSC_NS_CHILD=1 LLAVERO_VCARD=$LLAVERO_VCARD \
        exec unshare $userns -m -n --propagation private sh "$0" "$@"
fi

# Inside the namespaces.
unset LLAVERO_PCSC_NS_CHILD
PATH=$PATH:/usr/sbin:/sbin
WORK=$(mktemp -d "${TMPDIR:-/tmp}/llavero-pcsc.XXXXXX")
KEEP_LOGS=1
if [ -z "$LOGDIR" ]; then
    LOGDIR=$WORK/log
    KEEP_LOGS=0
fi
mkdir -p "$LOGDIR" "$WORK/reader.conf.d" "$WORK/cache"
PCSCD_PID="" VCARD_PID=""

print_logs() {
    for f in "$LOGDIR/pcscd.log" "$LOGDIR/vcard.log"; do
        [ -s "$f" ] || continue
        echo "----- $f (last 80 lines) -----" >&2
        tail -n 80 "$f" >&2
    done
}

stop_pid() {
    pid=$1
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    rc=$?
    trap - EXIT INT TERM
    # A vcard the command restarted itself answers on its control channel.
    if [ -n "$STATE" ] && [ -S "$STATE.ctl" ]; then
        "$LLAVERO_VCARD" stop --state "$STATE" >/dev/null 2>&1 || true
    fi
    stop_pid "$VCARD_PID"
    stop_pid "$PCSCD_PID"
    umount /run/pcscd 2>/dev/null || true
    if [ "$KEEP_LOGS" = 0 ]; then
        rm -rf "$WORK"
    else
        rm -rf "$WORK/reader.conf.d" "$WORK/cache"
        rmdir "$WORK" 2>/dev/null || true
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mount -t tmpfs -o mode=0755 tmpfs /run/pcscd || die "cannot mount a tmpfs on /run/pcscd"
ip link set lo up || die "cannot bring the loopback up"

# Same format as the package's /etc/reader.conf.d/vpcd, on our port.
porthex=$(printf '0x%04X' "$PORT")
cat > "$WORK/reader.conf.d/vpcd" <<CONF
FRIENDLYNAME "Virtual PCD"
DEVICENAME   /dev/null:$porthex
LIBPATH      /usr/lib/pcsc/drivers/serial/libifdvpcd.so
CHANNELID    $porthex
CONF

pcscd -f -d -c "$WORK/reader.conf.d" > "$LOGDIR/pcscd.log" 2>&1 &
PCSCD_PID=$!

if [ "$NO_VCARD" = 0 ]; then
    vflag=""
    [ "$VERBOSE" = 0 ] || vflag="-v"
    # shellcheck disable=SC2086
    LLAVERO_LOG=${LLAVERO_LOG:-info} "$LLAVERO_VCARD" run --state "$STATE" --port "$PORT" $vflag \
        > "$LOGDIR/vcard.log" 2>&1 &
    VCARD_PID=$!
fi

export XDG_CACHE_HOME="$WORK/cache"
export LLAVERO_VCARD LLAVERO_VCARD_STATE="$STATE" LLAVERO_VCARD_PORT="$PORT"
export LLAVERO_VCARD_PID="$VCARD_PID" LLAVERO_PCSCD_PID="$PCSCD_PID"
export LLAVERO_HARNESS_LOG="$LOGDIR"

# Wait for the reader (and the card) with a bounded wait.
deadline=$(( $(date +%s) + TIMEOUT ))
ready=0
while [ "$(date +%s)" -lt "$deadline" ]; do
    kill -0 "$PCSCD_PID" 2>/dev/null || { echo "$me: pcscd exited" >&2; break; }
    if [ -n "$VCARD_PID" ] && ! kill -0 "$VCARD_PID" 2>/dev/null; then
        echo "$me: llavero-vcard exited" >&2
        break
    fi
    out=$(opensc-tool -l 2>/dev/null || true)
    if [ "$NO_VCARD" = 1 ]; then
        echo "$out" | grep -q 'Virtual PCD' && { ready=1; break; }
    else
        echo "$out" | grep -Eq '^[0-9]+ +Yes +.*Virtual PCD' && { ready=1; break; }
    fi
    sleep 0.2
done
if [ "$ready" = 0 ]; then
    echo "$me: the card did not appear in the reader within ${TIMEOUT}s" >&2
    opensc-tool -l >&2 2>&1 || true
    print_logs
    exit $HARNESS_FAIL
fi
LLAVERO_READER=$(opensc-tool -l 2>/dev/null | sed -n 's/^[0-9][0-9]* *\(Yes\|No\) *\(Virtual PCD.*\)$/\2/p' | head -n 1)
export LLAVERO_READER

set +e
"$@"
rc=$?
set -e
if [ $rc -ne 0 ]; then
    echo "$me: command failed with status $rc: $*" >&2
    print_logs
fi
exit $rc
