#!/bin/sh
# libllavero-verify's OCSP check against `openssl ocsp` responders on
# 127.0.0.1, with an index of good and revoked certificates from the
# generated fixtures. OpenSSL 3.0's responder binds every interface, so the
# test runs in a private network namespace holding only a loopback. Every
# responder is stopped by its PID.
set -eu
: "${LLAVERO_SRC:?}" "${LLAVERO_BUILD:?}"

if [ -z "${LLAVERO_VERIFY_OCSP_NS:-}" ]; then
    command -v unshare >/dev/null || { echo "FAIL: unshare (util-linux) is missing"; exit 1; }
    userns=""
    [ "$(id -u)" -eq 0 ] || userns="-r"
    LLAVERO_VERIFY_OCSP_NS=1 exec unshare $userns -n sh "$0" "$@"
fi
ip link set lo up 2>/dev/null || ifconfig lo up 2>/dev/null || { echo "FAIL: cannot bring the loopback up"; exit 1; }
CLIENT=$LLAVERO_BUILD/tests/integration/verify-ocsp-client
FIX=$LLAVERO_BUILD/fixtures
sh "$LLAVERO_SRC/tests/fixtures/gen-fixtures.sh" "$FIX" >/dev/null
. "$FIX/fixtures.env"

W=$(mktemp -d "${TMPDIR:-/tmp}/verify-ocsp.XXXXXX")
PIDS=""
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null || true; done
    rm -rf "$W"
}
trap cleanup EXIT INT TERM

serial() { openssl x509 -in "$1" -noout -serial | sed 's/^serial=//'; }
subject() { openssl x509 -in "$1" -noout -subject -nameopt compat | sed 's/^subject=//'; }

# index: fisica good, moral revoked, ec256 absent (the responder says unknown)
printf 'V\t301231235959Z\t\t%s\tunknown\t%s\n' "$(serial "$FIX_FISICA_CERT_PEM")" "$(subject "$FIX_FISICA_CERT_PEM")" > "$W/index.txt"
printf 'R\t301231235959Z\t250101000000Z,keyCompromise\t%s\tunknown\t%s\n' "$(serial "$FIX_MORAL_CERT_PEM")" "$(subject "$FIX_MORAL_CERT_PEM")" >> "$W/index.txt"

# Responder certificates: delegated by the issuing CA with id-kp-OCSPSigning,
# the same without that EKU, and one delegated by another CA (the root).
mkresp() { # name eku_line signer_cert signer_key
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=OCSP $1/O=Llavero pruebas" \
        -keyout "$W/$1.key" -out "$W/$1.csr" 2>/dev/null
    printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n%s\n' "$2" > "$W/$1.ext"
    openssl x509 -req -in "$W/$1.csr" -CA "$3" -CAkey "$4" -set_serial "0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" \
        -days 30 -extfile "$W/$1.ext" -out "$W/$1.pem" 2>/dev/null
}
mkresp delegated 'extendedKeyUsage=OCSPSigning' "$FIX_CA_ISSUER_PEM" "$FIX_CA_ISSUER_KEY_PEM"
mkresp noeku '' "$FIX_CA_ISSUER_PEM" "$FIX_CA_ISSUER_KEY_PEM"
mkresp foreign 'extendedKeyUsage=OCSPSigning' "$FIX_CA_ROOT_PEM" "$FIX_CA_ROOT_KEY_PEM"

PORT_BASE=18880   # a private namespace: no one else listens
N=0
# start_responder SIGNER_CERT SIGNER_KEY NREQUEST [extra args]: sets URL
start_responder() {
    cert=$1 key=$2 nreq=$3
    shift 3
    tries=0
    while :; do
        N=$((N + 1))
        port=$((PORT_BASE + N))
        log=$W/ocsp.$port.log
        openssl ocsp -index "$W/index.txt" -port "$port" -rsigner "$cert" -rkey "$key" \
            -CA "$FIX_CA_ISSUER_PEM" -nrequest "$nreq" "$@" >"$log" 2>&1 &
        RPID=$!
        PIDS="$PIDS $RPID"
        i=0
        while [ $i -lt 50 ]; do
            if grep -qi "waiting for OCSP client connections" "$log" 2>/dev/null; then
                URL="http://127.0.0.1:$port/"
                return 0
            fi
            kill -0 "$RPID" 2>/dev/null || break
            sleep 0.1
            i=$((i + 1))
        done
        kill "$RPID" 2>/dev/null || true
        tries=$((tries + 1))
        [ $tries -lt 5 ] || { echo "FAIL: cannot start openssl ocsp"; cat "$log"; exit 1; }
    done
}

FAILS=0
check() { # cert expected [offset]
    if "$CLIENT" "$1" "$FIX_CA_ISSUER_PEM" "$URL" "$2" ${3:-}; then
        echo "ok: $(basename "$1") -> $2"
    else
        echo "FAIL: $(basename "$1") expected $2"
        FAILS=$((FAILS + 1))
    fi
}

echo "== delegated responder with id-kp-OCSPSigning"
start_responder "$W/delegated.pem" "$W/delegated.key" 4 -nmin 10
check "$FIX_FISICA_CERT_PEM" ok
check "$FIX_MORAL_CERT_PEM" ocsp-revoked
check "$FIX_EC256_CERT_PEM" ocsp-unknown
check "$FIX_FISICA_CERT_PEM" ocsp-stale 3600     # nextUpdate passed

echo "== Web eID tokens with OCSP on"
start_responder "$W/delegated.pem" "$W/delegated.key" 2
token() { # cert key expected
    if "$CLIENT" --token "$1" "$2" "$FIX_CA_ISSUER_PEM" "$URL" "$3"; then
        echo "ok: token $(basename "$1") -> $3"
    else
        echo "FAIL: token $(basename "$1") expected $3"
        FAILS=$((FAILS + 1))
    fi
}
token "$FIX_FISICA_CERT_PEM" "$FIX_FISICA_KEY_PEM" ok
token "$FIX_MORAL_CERT_PEM" "$FIX_MORAL_KEY_PEM" ocsp-revoked
token "$FIX_EC256_CERT_PEM" "$FIX_EC256_KEY_PEM" token-algorithm-mismatch   # RS256 asked of an EC key: no OCSP query

echo "== the issuing CA answers itself"
start_responder "$FIX_CA_ISSUER_PEM" "$FIX_CA_ISSUER_KEY_PEM" 2
check "$FIX_FISICA_CERT_PEM" ok
check "$FIX_MORAL_CERT_PEM" ocsp-revoked

echo "== delegated responder without id-kp-OCSPSigning"
start_responder "$W/noeku.pem" "$W/noeku.key" 1
check "$FIX_FISICA_CERT_PEM" ocsp-responder

echo "== responder certified by another CA"
start_responder "$W/foreign.pem" "$W/foreign.key" 1
check "$FIX_FISICA_CERT_PEM" ocsp-responder

echo "== nobody listening"
URL="http://127.0.0.1:$((PORT_BASE + N + 1))/"
check "$FIX_FISICA_CERT_PEM" ocsp-transport

[ "$FAILS" -eq 0 ] || { echo "$FAILS failure(s)"; exit 1; }
echo "all OCSP cases passed"
