#!/usr/bin/python3
"""llavero-idp's WebAuthn endpoints as the FIDO conformance-tools server API
(conformance mode: no CSRF token, as the tools send none), driven by a
software authenticator written here (python3-cryptography keys, python3-fido2's
CBOR): registration and sign-in with ES256, EdDSA and RS256 credentials,
"none" and "packed" self attestation, the API's JSON shapes, refusals
(malformed credentials, counter regression, wrong origin/content type), and
then the OAuth flow of a portal with a passkey sign-in (acceptance 3 with a
security key): authorize -> assertion -> code -> token -> userinfo.

  conformance_api.py BASE_URL

Prints one line per check and "N passed, M failed"."""
import base64
import hashlib
import http.client
import json
import os
import secrets
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from softkey import SoftAuthenticator  # noqa: E402

BASE = sys.argv[1].rstrip('/')
URL = urllib.parse.urlsplit(BASE)
ORIGIN = BASE
RP_ID = URL.hostname
PORTAL = 'portal-prueba'
PORTAL_REDIRECT = 'http://127.0.0.1:9/portal/callback'

passed = failed = 0


def check(ok, what, detail=''):
    global passed, failed
    print(('ok' if ok else 'FALLA') + ': ' + what + ((' -- ' + str(detail)) if (detail and not ok) else ''))
    if ok:
        passed += 1
    else:
        failed += 1
    return ok


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b'=').decode()


def unb64url(s):
    return base64.urlsafe_b64decode(s + '=' * (-len(s) % 4))


class Client:
    """Cookies kept, no CSRF token, no Origin: what the conformance tools send."""

    def __init__(self):
        self.cookies = {}

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection(URL.hostname, URL.port, timeout=30)
        h = dict(headers or {})
        if self.cookies:
            h['Cookie'] = '; '.join(f'{k}={v}' for k, v in self.cookies.items())
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        for k, v in r.getheaders():
            if k.lower() == 'set-cookie':
                name, _, rest = v.partition('=')
                self.cookies[name] = rest.split(';', 1)[0]
        conn.close()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data

    def api(self, path, obj, headers=None):
        h = {'Content-Type': 'application/json'}
        h.update(headers or {})
        st, _, data = self.request('POST', path, json.dumps(obj), h)
        try:
            return st, json.loads(data)
        except ValueError:
            return st, {}


def register(c, username, key, fmt='none', display=None):
    st, o = c.api('/attestation/options', {
        'username': username, 'displayName': display or username.upper(),
        'authenticatorSelection': {'requireResidentKey': False, 'userVerification': 'required'},
        'attestation': 'direct'})
    if o.get('status') != 'ok':
        return o, None
    st, r = c.api('/attestation/result', key.create(o, ORIGIN, fmt=fmt))
    return o, r


def sign_in(c, username, key, uv='required', origin=ORIGIN, **kw):
    st, o = c.api('/assertion/options', {'username': username, 'userVerification': uv})
    if o.get('status') != 'ok':
        return o, o
    st, r = c.api('/assertion/result', key.get(o, origin, **kw))
    return o, r


def main():
    names = {-7: 'ES256', -8: 'EdDSA', -257: 'RS256'}
    keys = {}
    for alg, name in names.items():
        c = Client()
        key = SoftAuthenticator(alg)
        fmt = 'packed' if alg == -7 else 'none'
        o, r = register(c, f'conf-{name.lower()}', key, fmt=fmt)
        if alg == -7:
            user = o.get('user', {})
            check(o.get('status') == 'ok' and o.get('errorMessage') == '' and o.get('rp', {}).get('name')
                  and user.get('name') == 'conf-es256' and user.get('displayName') == 'CONF-ES256'
                  and 0 < len(unb64url(user.get('id', ''))) <= 64 and len(unb64url(o.get('challenge', ''))) >= 16
                  and {p['alg'] for p in o.get('pubKeyCredParams', [])} >= {-7, -8, -257}
                  and o.get('attestation') == 'direct' and o.get('timeout', 0) > 0
                  and o.get('excludeCredentials') == [],
                  'ServerPublicKeyCredentialCreationOptionsResponse con la forma de la API', o)
        check(r and r.get('status') == 'ok' and r.get('errorMessage') == '',
              f'registro {name} ({fmt}) por /attestation/result', r)
        c2 = Client()
        o, r = sign_in(c2, f'conf-{name.lower()}', key)
        if alg == -7:
            check(o.get('status') == 'ok' and o.get('rpId') == RP_ID and o.get('userVerification') == 'required'
                  and [d['id'] for d in o.get('allowCredentials', [])] == [b64url(key.cred_id)],
                  'ServerPublicKeyCredentialGetOptionsResponse: rpId, allowCredentials del usuario', o)
        check(r.get('status') == 'ok', f'entrada {name} por /assertion/result', r)
        keys[alg] = key

    c = Client()
    key = keys[-7]
    # a second key for the same passkey-only user (conformance mode): the first is excluded
    key2 = SoftAuthenticator(-7)
    st, o = c.api('/attestation/options', {'username': 'conf-es256', 'displayName': 'CONF-ES256'})
    check([d['id'] for d in o.get('excludeCredentials', [])] == [b64url(key.cred_id)],
          'segunda llave del mismo usuario: excludeCredentials lista la primera', o)
    st, r = c.api('/attestation/result', key2.create(o, ORIGIN))
    check(r.get('status') == 'ok', 'segunda llave registrada', r)
    st, r = c.api('/attestation/result', key2.create(o, ORIGIN))
    check(r.get('status') == 'failed', 'el mismo resultado otra vez: failed (reto de un solo uso)', r)

    # userVerification discouraged: a UP-only assertion is accepted
    st, o = c.api('/assertion/options', {'username': 'conf-es256', 'userVerification': 'discouraged'})
    check(o.get('userVerification') == 'discouraged', 'userVerification "discouraged" respetado en modo conformidad', o)
    st, r = c.api('/assertion/result', key.get(o, ORIGIN, uv=False))
    check(r.get('status') == 'ok', 'aserción sin UV aceptada cuando no se exige', r)
    st, o = c.api('/assertion/options', {'username': 'conf-es256', 'userVerification': 'required'})
    st, r = c.api('/assertion/result', key.get(o, ORIGIN, uv=False))
    check(r.get('status') == 'failed' and r.get('errorMessage', '').startswith('webauthn-user-verified'),
          'aserción sin UV cuando se exige: webauthn-user-verified', r)

    # malformed credentials: each a failed status
    st, o = c.api('/assertion/options', {'username': 'conf-es256', 'userVerification': 'required'})
    good = key.get(o, ORIGIN)
    for what, mutate in [
        ('sin "type"', lambda x: x.pop('type')),
        ('id distinto de rawId', lambda x: x.__setitem__('id', b64url(b'otro'))),
        ('sin "response"', lambda x: x.pop('response')),
        ('signature que no es base64url', lambda x: x['response'].__setitem__('signature', '***')),
    ]:
        bad = json.loads(json.dumps(good))
        mutate(bad)
        st, o2 = c.api('/assertion/options', {'username': 'conf-es256', 'userVerification': 'required'})
        st, r = c.api('/assertion/result', bad)
        check(st == 400 and r.get('status') == 'failed' and r.get('errorMessage'),
              f'credencial mal formada ({what}): failed', r)

    # counter going back
    key.counter = 0
    o, r = sign_in(c, 'conf-es256', key)
    check(r.get('status') == 'failed' and r.get('errorMessage', '').startswith('webauthn-counter'),
          'contador que retrocede: webauthn-counter', r)
    key.counter = 100
    # wrong origin in clientDataJSON; a request from another Origin; not JSON
    o, r = sign_in(c, 'conf-es256', key, origin='https://evil.example')
    check(r.get('errorMessage', '').startswith('webauthn-origin'), 'clientDataJSON de otro origen: webauthn-origin', r)
    st, o = c.api('/assertion/options', {'username': 'conf-es256', 'userVerification': 'required'})
    st, r = c.api('/assertion/result', key.get(o, 'https://evil.example'), headers={'Accept-Language': 'en-US,en;q=0.8'})
    check(r.get('errorMessage') == 'webauthn-origin: WebAuthn origin not allowed',
          'Accept-Language: en da el mensaje en inglés', r)
    st, r = c.api('/assertion/options', {'username': 'conf-es256'}, headers={'Origin': 'https://evil.example'})
    check(st == 403 and r.get('status') == 'failed', 'POST con Origin ajeno: 403 aun en modo conformidad', r)
    st, _, _ = c.request('POST', '/assertion/options', 'username=conf-es256',
                         {'Content-Type': 'application/x-www-form-urlencoded'})
    check(st == 403, 'POST que no es application/json: 403 (protección CSRF)', st)
    st, r = c.api('/assertion/options', {'username': 'no-existe'})
    check(r.get('status') == 'failed', 'usuario desconocido: failed', r)

    # -- acceptance 3 with a security key: a portal's OAuth flow ---------------
    b = Client()
    verifier = b64url(secrets.token_bytes(32))
    challenge = b64url(hashlib.sha256(verifier.encode()).digest())
    q = urllib.parse.urlencode({'response_type': 'code', 'client_id': PORTAL, 'redirect_uri': PORTAL_REDIRECT,
                                'state': 'e1', 'code_challenge': challenge, 'code_challenge_method': 'S256'})
    st, hd, _ = b.request('GET', '/authorize?' + q)
    check(hd.get('location') == '/entrar', 'portal: /authorize lleva a /entrar')
    key = keys[-8]
    st, o = b.api('/assertion/options', {'username': '', 'userVerification': 'required'})
    check(o.get('allowCredentials') == [], 'entrada sin usuario (credencial residente): allowCredentials vacío', o)
    st, r = b.api('/assertion/result', key.get(o, ORIGIN, user_handle=b'x' * 32))
    check(r.get('errorMessage', '').startswith('webauthn-user-handle'), 'userHandle ajeno: rechazado', r)
    o, r = sign_in(b, 'conf-eddsa', key)
    check(r.get('status') == 'ok', 'entrada con llave EdDSA para el portal', r)
    st, hd, _ = b.request('GET', '/continuar')
    loc = hd.get('location', '')
    qs = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))
    check(loc.startswith(PORTAL_REDIRECT) and qs.get('state') == 'e1' and qs.get('code'), 'código para el portal', loc)
    form = urllib.parse.urlencode({'grant_type': 'authorization_code', 'code': qs.get('code', ''),
                                   'redirect_uri': PORTAL_REDIRECT, 'client_id': PORTAL,
                                   'code_verifier': verifier})
    st, _, data = Client().request('POST', '/token', form, {'Content-Type': 'application/x-www-form-urlencoded'})
    tok = json.loads(data)
    check(st == 200 and tok.get('access_token'), 'token con el verificador PKCE correcto', tok)
    st, _, data = Client().request('GET', '/userinfo', headers={'Authorization': 'Bearer ' + tok.get('access_token', '')})
    info = json.loads(data)
    check(st == 200 and info.get('nombre') == 'CONF-EDDSA' and info.get('llave_seguridad') is True
          and info.get('efirma') is False and info.get('metodo') == 'llave_seguridad' and info.get('curp') == '',
          'userinfo de una cuenta con llave: nombre, llave_seguridad, sin e.firma', info)

    print(f'{passed} passed, {failed} failed')
    return 0 if failed == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
