#!/bin/sh
# integration.idp_conformance: llavero-idp in FIDO conformance mode on a free
# loopback port, driven through the conformance-tools server API by a
# software authenticator (tests/integration/idp/conformance_api.py: ES256,
# EdDSA, RS256; none and packed attestation), then a portal's OAuth flow with
# a passkey sign-in. Then the same server over HTTPS (tls_cert/tls_key):
# Secure cookies and HSTS.
set -eu
: "${LLAVERO_SRC:?}" "${LLAVERO_BUILD:?}"
IDP=$LLAVERO_BUILD/verify/idp/llavero-idp

T=$(mktemp -d)
PID=
cleanup() {
    if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

cat > "$T/config.json" <<JSON
{
  "conformance": true,
  "clients": [{"client_id": "portal-prueba", "name": "Portal de prueba",
               "redirect_uris": ["http://127.0.0.1:9/portal/callback"]}]
}
JSON
LLAVERO_LOG=info "$IDP" --listen 127.0.0.1:0 --db "$T/idp.db" --config "$T/config.json" \
    --port-file "$T/port" 2>"$T/idp.log" &
PID=$!
i=0
while [ ! -s "$T/port" ]; do
    i=$((i + 1))
    if [ $i -gt 100 ] || ! kill -0 "$PID" 2>/dev/null; then
        echo "llavero-idp no arrancó:" >&2
        cat "$T/idp.log" >&2
        exit 1
    fi
    sleep 0.1
done
wait_port() {
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
rc=0
/usr/bin/python3 "$LLAVERO_SRC/tests/integration/idp/conformance_api.py" "http://localhost:$(cat "$T/port")" || rc=$?
[ $rc -eq 0 ] || { echo "--- registro de llavero-idp ---" >&2; tail -40 "$T/idp.log" >&2; exit $rc; }
kill "$PID"; wait "$PID" || true; PID=

# HTTPS with a throwaway self-signed certificate for localhost
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/tls.key" \
    -out "$T/tls.crt" -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost 2>/dev/null
printf '{"tls_cert": "%s", "tls_key": "%s"}\n' "$T/tls.crt" "$T/tls.key" > "$T/tls.json"
"$IDP" --listen 127.0.0.1:0 --db "$T/tls.db" --config "$T/tls.json" --port-file "$T/tls.port" 2>"$T/idp.log" &
PID=$!
wait_port "$T/tls.port"
/usr/bin/python3 - "$(cat "$T/tls.port")" "$T/tls.crt" <<'PY' || rc=$?
import http.client, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
c = http.client.HTTPSConnection('localhost', int(sys.argv[1]), context=ctx, timeout=10)
c.request('GET', '/entrar')
r = c.getresponse()
r.read()
cookie = r.getheader('Set-Cookie') or ''
ok = r.status == 200 and '; Secure' in cookie and 'HttpOnly' in cookie
print(('ok' if ok else 'FALLA') + ': HTTPS (tls_cert/tls_key): cookie de sesión Secure; HttpOnly', '' if ok else cookie)
hsts = (r.getheader('Strict-Transport-Security') or '').startswith('max-age=')
print(('ok' if hsts else 'FALLA') + ': HTTPS: Strict-Transport-Security')
print(f'{ok + hsts} passed, {2 - ok - hsts} failed')
sys.exit(0 if ok and hsts else 1)
PY
exit $rc
