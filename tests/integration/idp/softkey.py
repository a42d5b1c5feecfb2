"""A software WebAuthn authenticator for llavero-idp's tests: one credential
(ES256, EdDSA or RS256), "none" or "packed" self attestation, the
conformance-tools API's ServerPublicKeyCredential JSON. python3-cryptography
keys, python3-fido2's CBOR encoder (Debian packages; /usr/bin/python3)."""
import base64
import hashlib
import json
import secrets
import struct

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from fido2 import cbor


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b'=').decode()


class SoftAuthenticator:
    """One credential of the given COSE algorithm."""

    def __init__(self, alg):
        self.alg = alg
        self.cred_id = secrets.token_bytes(32)
        self.counter = 0
        if alg == -7:
            self.key = ec.generate_private_key(ec.SECP256R1())
            n = self.key.public_key().public_numbers()
            self.cose = {1: 2, 3: -7, -1: 1, -2: n.x.to_bytes(32, 'big'), -3: n.y.to_bytes(32, 'big')}
        elif alg == -8:
            self.key = ed25519.Ed25519PrivateKey.generate()
            from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
            self.cose = {1: 1, 3: -8, -1: 6, -2: self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)}
        else:
            self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            n = self.key.public_key().public_numbers()
            self.cose = {1: 3, 3: -257, -1: n.n.to_bytes(256, 'big'), -2: n.e.to_bytes(3, 'big')}

    def sign(self, data):
        if self.alg == -7:
            return self.key.sign(data, ec.ECDSA(hashes.SHA256()))
        if self.alg == -8:
            return self.key.sign(data)
        return self.key.sign(data, padding.PKCS1v15(), hashes.SHA256())

    def create(self, options, origin, fmt='none', uv=True):
        cdj = json.dumps({'type': 'webauthn.create', 'challenge': options['challenge'], 'origin': origin,
                          'crossOrigin': False}).encode()
        flags = 0x01 | (0x04 if uv else 0) | 0x40
        auth_data = (hashlib.sha256(options['rp']['id'].encode()).digest() + bytes([flags])
                     + struct.pack('>I', self.counter) + bytes(16) + struct.pack('>H', len(self.cred_id))
                     + self.cred_id + cbor.encode(self.cose))
        if fmt == 'packed':
            att_stmt = {'alg': self.alg, 'sig': self.sign(auth_data + hashlib.sha256(cdj).digest())}
        else:
            att_stmt = {}
        ao = cbor.encode({'fmt': fmt, 'attStmt': att_stmt, 'authData': auth_data})
        return {'id': b64url(self.cred_id), 'rawId': b64url(self.cred_id), 'type': 'public-key',
                'response': {'clientDataJSON': b64url(cdj), 'attestationObject': b64url(ao)},
                'getClientExtensionResults': {}}

    def get(self, options, origin, uv=True, user_handle=b''):
        self.counter += 1
        cdj = json.dumps({'type': 'webauthn.get', 'challenge': options['challenge'], 'origin': origin,
                          'crossOrigin': False}).encode()
        auth_data = (hashlib.sha256(options['rpId'].encode()).digest()
                     + bytes([0x01 | (0x04 if uv else 0)]) + struct.pack('>I', self.counter))
        sig = self.sign(auth_data + hashlib.sha256(cdj).digest())
        return {'id': b64url(self.cred_id), 'rawId': b64url(self.cred_id), 'type': 'public-key',
                'response': {'authenticatorData': b64url(auth_data), 'signature': b64url(sig),
                             'userHandle': b64url(user_handle), 'clientDataJSON': b64url(cdj)},
                'getClientExtensionResults': {}}
