#!/bin/sh
# integration.idp_conformance: llavero-idp in FIDO conformance mode on a free
# loopback port, driven through the conformance-tools server API by a
# software authenticator (tests/integration/idp/conformance_api.py: ES256,
# EdDSA, RS256; none and packed attestation), then a portal's OAuth flow with
# a passkey sign-in. Then the same server over HTTPS (tls_cert/tls_key):
# Secure cookies and HSTS.
set -eu
: "${LLAVERO_SRC:?}" "${LLAVERO_BUILD:?}"

. "$LLAVERO_SRC/tests/integration/idp_lib.sh"

cat > "$T/config.json" <<JSON
{
  "conformance": true,
  "clients": [{"client_id": "portal-prueba", "name": "Portal de prueba",
               "redirect_uris": ["http://127.0.0.1:9/portal/callback"]}]
}
JSON
idp_start "$T/port" --db "$T/idp.db" --config "$T/config.json"
rc=0
/usr/bin/python3 "$LLAVERO_SRC/tests/integration/idp/conformance_api.py" "http://localhost:$(cat "$T/port")" || rc=$?
[ $rc -eq 0 ] || { echo "--- registro de llavero-idp ---" >&2; tail -40 "$T/idp.log" >&2; exit $rc; }
idp_stop

# HTTPS with a throwaway self-signed certificate for localhost
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/tls.key" \
    -out "$T/tls.crt" -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost 2>/dev/null
printf '{"tls_cert": "%s", "tls_key": "%s"}\n' "$T/tls.crt" "$T/tls.key" > "$T/tls.json"
idp_start "$T/tls.port" --db "$T/tls.db" --config "$T/tls.json"
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
