# Sourced by the idp_*.sh integration tests: a temp dir $T removed on exit,
# llavero-idp ($IDP) started in the background on a free loopback port and
# stopped by its PID ($PID; $OPID, when a script sets it, is stopped too).
: "${LLAVERO_SRC:?}" "${LLAVERO_BUILD:?}"
IDP=$LLAVERO_BUILD/verify/idp/llavero-idp

T=$(mktemp -d)
PID=
OPID=
stop_pid() {
    if [ -n "$1" ]; then kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; fi
}
cleanup() {
    stop_pid "$PID"
    stop_pid "$OPID"
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# idp_wait_port FILE: until the server has written its port to FILE (10 s).
idp_wait_port() {
    i=0
    while [ ! -s "$1" ]; do
        i=$((i + 1))
        if [ $i -gt 100 ] || ! kill -0 "$PID" 2>/dev/null; then
            echo "llavero-idp no arrancó:" >&2
            cat "$T/idp.log" >&2
            exit 1
        fi
        sleep 0.1
    done
}

# idp_start PORTFILE [ARG...]: llavero-idp on 127.0.0.1:0 with ARG... (--db,
# --config), logging at info to $T/idp.log, its port in PORTFILE; sets PID.
idp_start() {
    portfile=$1
    shift
    LLAVERO_LOG=info "$IDP" --listen 127.0.0.1:0 --port-file "$portfile" "$@" 2>"$T/idp.log" &
    PID=$!
    idp_wait_port "$portfile"
}

# idp_stop: stops the running server (PID cleared).
idp_stop() {
    stop_pid "$PID"
    PID=
}
