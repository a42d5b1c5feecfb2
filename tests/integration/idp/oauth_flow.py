#!/usr/bin/python3
"""Acceptance 3 of the server side: the OAuth 2.0 flow of llavero-idp end to
end, as a portal and a person's browser would drive it, with the standard
library only (run with /usr/bin/python3).

  oauth_flow.py BASE_URL FIXTURES_ENV

The person signs in with "Entrar con e.firma": the test plays the agent and
builds the Web eID token (web-eid:1.1, RS256) with OpenSSL from the generated
e.firma, signing H(H(origin) || H(nonce)) over the server's nonce. Then:
authorize -> sign-in -> code -> token (wrong PKCE verifier: invalid_grant;
right one: a token; the same code again: invalid_grant, and the token it gave
is revoked) -> userinfo (curp, nombre, rfc, e.firma flag). Also the errors of
/authorize (unknown client and redirect_uri on a page, a missing PKCE or plain
method redirected with error=), token endpoint client authentication, CSRF
refusals, e.firma refusals (reused nonce, CSD, tampered signature) and the
per-IP rate limit. Prints one line per check and "N passed, M failed"."""
import base64
import hashlib
import http.client
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from softkey import SoftAuthenticator  # noqa: E402

BASE = sys.argv[1].rstrip('/')
FIX = {}
with open(sys.argv[2]) as f:
    for line in f:
        m = re.match(r"^(FIX_[A-Z0-9_]+)='(.*)'$", line.strip())
        if m:
            FIX[m.group(1)] = m.group(2)

URL = urllib.parse.urlsplit(BASE)
ORIGIN = BASE
PUBLIC = 'portal-prueba'
PUBLIC_REDIRECT = 'http://127.0.0.1:9/portal/callback'
CONF = 'portal-confidencial'
CONF_SECRET = 'secreto-de-prueba-no-real'
CONF_REDIRECT = 'http://127.0.0.1:9/confidencial/callback'

passed = failed = 0


def check(ok, what, detail=''):
    global passed, failed
    print(('ok' if ok else 'FALLA') + ': ' + what + ((' -- ' + detail) if (detail and not ok) else ''))
    if ok:
        passed += 1
    else:
        failed += 1
    return ok


class Browser:
    """A cookie jar and a way to send requests without following redirects."""

    def __init__(self):
        self.cookies = {}

    def request(self, method, path, body=None, headers=None, cookies=True):
        conn = http.client.HTTPConnection(URL.hostname, URL.port, timeout=30)
        h = dict(headers or {})
        if cookies and self.cookies:
            h['Cookie'] = '; '.join(f'{k}={v}' for k, v in self.cookies.items())
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            h.setdefault('Content-Type', 'application/json')
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        for k, v in r.getheaders():
            if k.lower() == 'set-cookie':
                name, _, rest = v.partition('=')
                value = rest.split(';', 1)[0]
                if 'Max-Age=0' in v:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = value
        conn.close()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data

    def csrf(self, path='/entrar'):
        st, _, body = self.request('GET', path)
        m = re.search(rb'name="csrf-token" content="([^"]+)"', body)
        return m.group(1).decode() if m else None

    def post_json(self, path, obj, csrf, origin=ORIGIN):
        h = {'Content-Type': 'application/json'}
        if csrf is not None:
            h['X-CSRF-Token'] = csrf
        if origin is not None:
            h['Origin'] = origin
        st, hd, body = self.request('POST', path, json.dumps(obj), h)
        try:
            return st, json.loads(body)
        except ValueError:
            return st, {'raw': body.decode('utf-8', 'replace')}


def b64(data):
    return base64.b64encode(data).decode()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode()


def der(path):
    with open(path, 'rb') as f:
        return f.read()


def web_eid_token(nonce, cert_der_path, key_pem, origin=ORIGIN, corrupt=False, ec=False):
    """What the agent answers to authenticate {challengeNonce, origin}:
    RS256 for the RSA e.firma, ES256 (raw r||s) for an EC P-256 one."""
    signed = hashlib.sha256(origin.encode()).digest() + hashlib.sha256(nonce.encode()).digest()
    with tempfile.NamedTemporaryFile() as data:
        data.write(signed)
        data.flush()
        sig = subprocess.run(['openssl', 'dgst', '-sha256', '-sign', key_pem, data.name],
                             check=True, capture_output=True).stdout
    if ec:
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
        r, s = decode_dss_signature(sig)
        sig = r.to_bytes(32, 'big') + s.to_bytes(32, 'big')
    if corrupt:
        sig = bytes([sig[0] ^ 1]) + sig[1:]
    cert = b64(der(cert_der_path))
    return {
        'format': 'web-eid:1.1',
        'unverifiedCertificate': cert,
        'algorithm': 'ES256' if ec else 'RS256',
        'signature': b64(sig),
        'appVersion': 'https://github.com/llavero/llavero-agent/releases/tag/v0.1.0',
        'unverifiedSigningCertificates': [{
            'certificate': cert,
            'supportedSignatureAlgorithms': [
                {'cryptoAlgorithm': 'ECC', 'hashFunction': 'SHA-256', 'paddingScheme': 'NONE'} if ec else
                {'cryptoAlgorithm': 'RSA', 'hashFunction': 'SHA-256', 'paddingScheme': 'PKCS1.5'}],
        }],
    }


def pkce():
    verifier = b64url(secrets.token_bytes(32))
    challenge = b64url(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge


def authorize_path(client, redirect, challenge, state='estado-123', method='S256', extra=None):
    q = {'response_type': 'code', 'client_id': client, 'redirect_uri': redirect, 'state': state,
         'code_challenge': challenge, 'code_challenge_method': method, 'scope': 'openid'}
    q = {k: v for k, v in q.items() if v is not None}
    q.update(extra or {})
    return '/authorize?' + urllib.parse.urlencode(q)


def query_of(location):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def efirma_sign_in(br, who='FISICA', expect_ok=True):
    csrf = br.csrf()
    st, ch = br.post_json('/efirma/challenge', {}, csrf)
    if not check(st == 200 and ch.get('status') == 'ok' and len(ch.get('nonce', '')) == 44,
                 'POST /efirma/challenge da un reto de 44 caracteres', str(ch)):
        return None, None
    token = web_eid_token(ch['nonce'], FIX[f'FIX_{who}_CER'], FIX[f'FIX_{who}_KEY_PEM'], ec=who.startswith('EC'))
    st, r = br.post_json('/efirma/login', {'authToken': token}, csrf)
    return st, r


def token_request(form, auth=None):
    h = {'Content-Type': 'application/x-www-form-urlencoded'}
    if auth:
        h['Authorization'] = 'Basic ' + b64(auth.encode())
    st, hd, body = Browser().request('POST', '/token', urllib.parse.urlencode(form), h, cookies=False)
    try:
        return st, hd, json.loads(body)
    except ValueError:
        return st, hd, {}


def get_code(br, client, redirect, challenge, state):
    st, hd, _ = br.request('GET', authorize_path(client, redirect, challenge, state))
    loc = hd.get('location', '')
    if loc == '/entrar':
        return None
    q = query_of(loc)
    return q.get('code') if loc.startswith(redirect) and q.get('state') == state else None


def main():
    # -- /authorize errors ------------------------------------------------
    br = Browser()
    _, ch = pkce()
    st, hd, body = br.request('GET', authorize_path('no-existe', PUBLIC_REDIRECT, ch))
    check(st == 400 and 'location' not in hd and 'Aplicación desconocida' in body.decode(),
          '/authorize con client_id desconocido: página de error, sin redirección', str(st))
    st, hd, body = br.request('GET', authorize_path(PUBLIC, PUBLIC_REDIRECT + 'x', ch))
    check(st == 400 and 'location' not in hd,
          '/authorize con redirect_uri distinta (no exacta): página de error, sin redirección', str(st))
    st, hd, body = br.request('GET', authorize_path(PUBLIC, PUBLIC_REDIRECT, ch) + '&redirect_uri=http%3A%2F%2Fevil.example%2F')
    check(st == 400 and 'location' not in hd, '/authorize con redirect_uri repetida: página de error, sin redirección', str(st))
    st, hd, _ = br.request('GET', authorize_path(PUBLIC, PUBLIC_REDIRECT, None, method=None))
    q = query_of(hd.get('location', ''))
    check(st == 303 and q.get('error') == 'invalid_request' and q.get('state') == 'estado-123',
          '/authorize sin PKCE: redirige con error=invalid_request y el state', str(q))
    st, hd, _ = br.request('GET', authorize_path(PUBLIC, PUBLIC_REDIRECT, ch, method='plain'))
    q = query_of(hd.get('location', ''))
    check(q.get('error') == 'invalid_request', 'code_challenge_method=plain rechazado (solo S256)', str(q))
    st, hd, _ = br.request('GET', authorize_path(PUBLIC, PUBLIC_REDIRECT, ch,
                                                 extra={'response_type': 'token'}))
    q = query_of(hd.get('location', ''))
    check(q.get('error') == 'unsupported_response_type', 'response_type=token: unsupported_response_type', str(q))

    # -- authorize -> sign-in page -----------------------------------------
    verifier, challenge = pkce()
    st, hd, _ = br.request('GET', authorize_path(PUBLIC, PUBLIC_REDIRECT, challenge, 'estado-1'))
    check(st == 303 and hd.get('location') == '/entrar', '/authorize sin sesión lleva a /entrar',
          f'{st} {hd.get("location")}')
    cookie = [v for k, v in hd.items() if k == 'set-cookie']
    check(bool(cookie) and 'HttpOnly' in cookie[0] and 'SameSite=Lax' in cookie[0],
          'cookie de sesión HttpOnly; SameSite=Lax', str(cookie))
    st, hd, body = br.request('GET', '/entrar')
    page = body.decode()
    check(st == 200 and 'Entrar con e.firma' in page and 'Entrar con llave de seguridad' in page
          and 'Portal de prueba' in page, 'página de entrada en español con ambas opciones y la aplicación')

    # -- CSRF ----------------------------------------------------------------
    csrf = br.csrf()
    st, r = br.post_json('/efirma/challenge', {}, None)
    check(st == 403, 'POST sin token CSRF: 403', str(st))
    st, r = br.post_json('/efirma/challenge', {}, csrf, origin='http://evil.example')
    check(st == 403, 'POST desde otro origen: 403', str(st))
    st, hd, _ = br.request('POST', '/salir', 'csrf=' + csrf,
                           {'Content-Type': 'application/x-www-form-urlencoded'})
    check(st == 403, 'formulario sin Origin ni Referer: 403', str(st))

    # -- e.firma refusals ----------------------------------------------------
    st, r = efirma_sign_in(br, 'CSD')
    check(st == 401 and r.get('error') == 'certificate-csd', 'e.firma: un CSD se rechaza (certificate-csd)', str(r))
    csrf = br.csrf()
    st, ch = br.post_json('/efirma/challenge', {}, csrf)
    tok = web_eid_token(ch['nonce'], FIX['FIX_FISICA_CER'], FIX['FIX_FISICA_KEY_PEM'], corrupt=True)
    st, r = br.post_json('/efirma/login', {'authToken': tok}, csrf)
    check(st == 401 and r.get('error') in ('token-signature', 'token-origin-mismatch'),
          'e.firma: firma alterada rechazada', str(r))
    st, ch = br.post_json('/efirma/challenge', {}, csrf)
    tok = web_eid_token(ch['nonce'], FIX['FIX_FISICA_CER'], FIX['FIX_FISICA_KEY_PEM'],
                        origin='http://evil.example')
    st, r = br.post_json('/efirma/login', {'authToken': tok}, csrf)
    check(st == 401 and r.get('error') in ('token-origin-mismatch', 'token-signature'),
          'e.firma: token firmado para otro origen rechazado', str(r))

    st, r = efirma_sign_in(br, 'EC256')
    check(st == 401 and r.get('error') == 'ocsp-revoked',
          'e.firma EC P-256 (ES256) revocada (OCSP local con openssl ocsp): rechazada (ocsp-revoked)', str(r))

    # -- a persona moral: its representative signs in for the company ---------
    moral = Browser()
    verifier, challenge = pkce()
    moral.request('GET', authorize_path(PUBLIC, PUBLIC_REDIRECT, challenge, 'estado-m'))
    st, r = efirma_sign_in(moral, 'MORAL')
    check(st == 200 and r.get('rfc') == FIX['FIX_MORAL_RFC'], 'e.firma de persona moral aceptada', str(r))
    st, hd, _ = moral.request('GET', '/continuar')
    code = query_of(hd.get('location', '')).get('code', '')
    st, hd, r = token_request({'grant_type': 'authorization_code', 'code': code, 'redirect_uri': PUBLIC_REDIRECT,
                               'client_id': PUBLIC, 'code_verifier': verifier})
    st, hd, body = Browser().request('GET', '/userinfo', cookies=False,
                                     headers={'Authorization': 'Bearer ' + r.get('access_token', '')})
    info = json.loads(body or b'{}')
    check(info.get('persona') == 'moral' and info.get('rfc') == FIX['FIX_MORAL_RFC']
          and info.get('representante') == {'rfc': FIX['FIX_MORAL_REP_RFC'], 'curp': FIX['FIX_MORAL_REP_CURP']}
          and info.get('curp') == FIX['FIX_MORAL_REP_CURP'],
          'userinfo de persona moral: RFC de la empresa, representante legal (RFC y CURP)', str(info))

    # -- e.firma sign-in, then the code ---------------------------------------
    csrf = br.csrf()
    st, ch = br.post_json('/efirma/challenge', {}, csrf)
    tok = web_eid_token(ch['nonce'], FIX['FIX_FISICA_CER'], FIX['FIX_FISICA_KEY_PEM'])
    st, r = br.post_json('/efirma/login', {'authToken': tok}, csrf)
    check(st == 200 and r.get('status') == 'ok' and r.get('rfc') == FIX['FIX_FISICA_RFC'],
          'e.firma: entrada aceptada (OCSP: good), RFC del certificado', str(r))
    st2, r2 = br.post_json('/efirma/login', {'authToken': tok}, br.csrf())
    check(st2 != 200, 'e.firma: el mismo token otra vez se rechaza (reto de un solo uso)', str(r2))
    st, hd, _ = br.request('GET', '/continuar')
    loc = hd.get('location', '')
    q = query_of(loc)
    check(st == 303 and loc.startswith(PUBLIC_REDIRECT + '?') and q.get('state') == 'estado-1' and q.get('code'),
          '/continuar redirige a la aplicación con code y state', loc)
    code = q.get('code', '')

    # -- token: wrong verifier -> invalid_grant (and the code is burned) -------
    form = {'grant_type': 'authorization_code', 'code': code, 'redirect_uri': PUBLIC_REDIRECT,
            'client_id': PUBLIC, 'code_verifier': pkce()[0]}
    st, hd, r = token_request(form)
    check(st == 400 and r.get('error') == 'invalid_grant', 'token con code_verifier equivocado: invalid_grant', str(r))
    check(hd.get('cache-control') == 'no-store', 'respuesta del token con Cache-Control: no-store')
    form['code_verifier'] = verifier
    st, hd, r = token_request(form)
    check(st == 400 and r.get('error') == 'invalid_grant', 'el código ya intentado no vale después (un solo uso)', str(r))

    # -- a fresh code: right verifier -> token; reuse -> invalid_grant + revoked --
    verifier, challenge = pkce()
    code = get_code(br, PUBLIC, PUBLIC_REDIRECT, challenge, 'estado-2')
    check(bool(code), '/authorize con sesión iniciada emite el código directamente')
    form = {'grant_type': 'authorization_code', 'code': code, 'redirect_uri': PUBLIC_REDIRECT,
            'client_id': PUBLIC}
    st, hd, r = token_request(form)
    check(st == 400 and r.get('error') == 'invalid_grant', 'token sin code_verifier: invalid_grant', str(r))
    code = get_code(br, PUBLIC, PUBLIC_REDIRECT, challenge, 'estado-3')
    form = {'grant_type': 'authorization_code', 'code': code, 'redirect_uri': PUBLIC_REDIRECT,
            'client_id': PUBLIC, 'code_verifier': verifier}
    st, hd, r = token_request(form)
    access = r.get('access_token')
    check(st == 200 and access and r.get('token_type') == 'Bearer' and r.get('expires_in', 0) > 0,
          'token con el code_verifier correcto: access_token Bearer', str(r))
    st, hd, body = Browser().request('GET', '/userinfo', headers={'Authorization': 'Bearer ' + (access or '')},
                                     cookies=False)
    info = json.loads(body or b'{}')
    check(st == 200 and info.get('curp') == FIX['FIX_FISICA_CURP'] and info.get('rfc') == FIX['FIX_FISICA_RFC']
          and info.get('nombre') == FIX['FIX_FISICA_NAME'] and info.get('efirma') is True
          and info.get('llave_seguridad') is False and info.get('metodo') == 'efirma' and 'correo' in info
          and info.get('persona') == 'fisica' and 'representante' not in info,
          'userinfo: curp, nombre, rfc, correo y banderas de verificación', str(info))
    st, hd, r = token_request(form)
    check(st == 400 and r.get('error') == 'invalid_grant', 'reutilizar el código: invalid_grant', str(r))
    st, hd, body = Browser().request('GET', '/userinfo', headers={'Authorization': 'Bearer ' + (access or '')},
                                     cookies=False)
    check(st == 401 and 'invalid_token' in hd.get('www-authenticate', ''),
          'el token emitido con un código reutilizado queda revocado', str(st))
    st, hd, body = Browser().request('GET', '/userinfo', cookies=False)
    check(st == 401, 'userinfo sin token: 401')

    # -- the e.firma holder adds a security key, then signs in with it ----------
    key = SoftAuthenticator(-7)
    csrf = br.csrf('/cuenta')
    st, o = br.post_json('/attestation/options', {'username': 'ignorado', 'displayName': 'ignorado'}, csrf)
    check(st == 200 and o.get('user', {}).get('displayName') == FIX['FIX_FISICA_NAME'],
          'registro de llave para la persona que entró con e.firma (su cuenta, no el username enviado)', str(o))
    st, r = br.post_json('/attestation/result', key.create(o, ORIGIN), csrf)
    check(st == 200 and r.get('status') == 'ok', 'llave de seguridad registrada en la cuenta de e.firma', str(r))
    st, hd, body = br.request('GET', '/cuenta')
    check('Llaves de seguridad registradas</th><td>1<' in body.decode(), '/cuenta muestra la llave registrada')
    other = Browser()
    verifier2, challenge2 = pkce()
    st, hd, _ = other.request('GET', authorize_path(PUBLIC, PUBLIC_REDIRECT, challenge2, 'estado-k'))
    csrf = other.csrf()
    st, o = other.post_json('/assertion/options', {'username': '', 'userVerification': 'required'}, csrf)
    st, r = other.post_json('/assertion/result', key.get(o, ORIGIN), csrf)
    check(st == 200 and r.get('status') == 'ok', 'entrada con la llave de seguridad (sin e.firma a la mano)', str(r))
    st, hd, _ = other.request('GET', '/continuar')
    code2 = query_of(hd.get('location', '')).get('code')
    st, hd, r = token_request({'grant_type': 'authorization_code', 'code': code2, 'redirect_uri': PUBLIC_REDIRECT,
                               'client_id': PUBLIC, 'code_verifier': verifier2})
    st, hd, body = Browser().request('GET', '/userinfo', headers={'Authorization': 'Bearer ' + r.get('access_token', '')},
                                     cookies=False)
    info = json.loads(body or b'{}')
    check(st == 200 and info.get('curp') == FIX['FIX_FISICA_CURP'] and info.get('efirma') is True
          and info.get('llave_seguridad') is True and info.get('metodo') == 'llave_seguridad',
          'userinfo tras entrar con la llave: la identidad de la e.firma, llave_seguridad y metodo', str(info))
    st, o = other.post_json('/attestation/options', {'username': 'x'}, csrf)
    check(st == 403, 'el token CSRF anterior a la entrada ya no vale (se renueva al entrar)', str(st))

    # -- confidential client: client authentication ----------------------------
    verifier, challenge = pkce()
    code = get_code(br, CONF, CONF_REDIRECT, challenge, 'estado-c')
    form = {'grant_type': 'authorization_code', 'code': code, 'redirect_uri': CONF_REDIRECT,
            'client_id': CONF, 'code_verifier': verifier}
    st, hd, r = token_request(form)
    check(st == 401 and r.get('error') == 'invalid_client', 'cliente confidencial sin secreto: invalid_client', str(r))
    code = get_code(br, CONF, CONF_REDIRECT, challenge, 'estado-c2')
    form['code'] = code
    del form['client_id']
    st, hd, r = token_request(form, auth=f'{CONF}:{CONF_SECRET}')
    check(st == 200 and r.get('access_token'), 'cliente confidencial con client_secret_basic: token', str(r))
    code = get_code(br, CONF, CONF_REDIRECT, challenge, 'estado-c3')
    form = {'grant_type': 'authorization_code', 'code': code, 'redirect_uri': PUBLIC_REDIRECT,
            'client_id': CONF, 'client_secret': CONF_SECRET, 'code_verifier': verifier}
    st, hd, r = token_request(form)
    check(st == 400 and r.get('error') == 'invalid_grant', 'redirect_uri distinta en el token: invalid_grant', str(r))
    st, hd, r = token_request({'grant_type': 'password', 'client_id': PUBLIC})
    check(st == 400 and r.get('error') == 'unsupported_grant_type', 'grant_type=password: unsupported_grant_type', str(r))
    st, hd, body = Browser().request('POST', '/token', 'code=a&code=b', {
        'Content-Type': 'application/x-www-form-urlencoded'}, cookies=False)
    check(st == 400 and json.loads(body).get('error') == 'invalid_request', 'parámetro repetido: invalid_request')

    # -- the demo portal (a separate client of the same server) ------------------
    st, hd, body = br.request('GET', '/demo')
    check(st == 200 and 'Beca Rita Cetina' in body.decode(), '/demo: portal "Registro a la Beca Rita Cetina"')
    st, hd, _ = br.request('GET', '/demo/entrar')
    loc = hd.get('location', '')
    st, hd, _ = br.request('GET', loc)
    loc = hd.get('location', '')
    check(loc.startswith(ORIGIN + '/demo/callback?'), 'el portal pasa por /authorize y vuelve con un código', loc)
    st, hd, _ = br.request('GET', urllib.parse.urlsplit(loc)._replace(scheme='', netloc='').geturl())
    st, hd, body = br.request('GET', '/demo')
    page = body.decode()
    check(FIX['FIX_FISICA_NAME'] in page and FIX['FIX_FISICA_CURP'] in page and FIX['FIX_FISICA_RFC'] in page,
          'el portal muestra nombre, CURP y RFC de quien entró')

    # -- sign out ------------------------------------------------------------
    csrf = br.csrf('/cuenta')
    st, hd, _ = br.request('POST', '/salir', 'csrf=' + csrf, {
        'Content-Type': 'application/x-www-form-urlencoded', 'Origin': ORIGIN})
    check(st == 303 and hd.get('location') == '/entrar', 'salir (POST con token CSRF)', str(st))
    st, hd, _ = br.request('GET', '/cuenta')
    check(st == 303 and hd.get('location') == '/entrar', 'después de salir /cuenta pide entrar')

    # -- rate limit per account (10/min): the RFC of the token's certificate ----
    other = Browser()
    csrf = other.csrf()
    bogus = {'format': 'web-eid:1.1', 'unverifiedCertificate': b64(der(FIX['FIX_MORAL_CER'])),
             'algorithm': 'RS256', 'signature': 'AAAA', 'appVersion': 'x'}
    # 25 attempts: over 10 in one minute window even if a new minute starts midway
    errs = [other.post_json('/efirma/login', {'authToken': bogus}, csrf)[1].get('error') for _ in range(25)]
    check('rate-limit' in errs and errs[0] != 'rate-limit',
          'límite de intentos por cuenta (RFC del certificado): 429', str(errs))

    # -- rate limit on sign-in attempts per IP (configured at 60/min) -----------
    # 100 more (after ~35): over 60 in one minute window even if a new minute starts midway
    other = Browser()
    csrf = other.csrf()
    codes = [other.post_json('/efirma/login', {'authToken': {}}, csrf)[0] for _ in range(100)]
    check(429 in codes, 'límite de intentos de entrada por IP: 429', str(codes[-5:]))

    print(f'{passed} passed, {failed} failed')
    return 0 if failed == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
