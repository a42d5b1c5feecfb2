#!/usr/bin/python3
"""Acceptance test 2 of the simulated security key: Debian's python3-fido2, an
independent CTAP implementation, drives a fresh authenticator.

  fido2_python.py --pcsc READER_SUBSTRING --ca CA.pem   (the FIDO applet of
                  llavero-vcard through pcscd: fido2.pcsc.CtapPcscDevice)
  fido2_python.py --socket PATH --ca CA.pem            (llavero-vkey run
                  --socket: CtapHidDevice over a custom CtapHidConnection)

Both: getInfo, set a PIN (protocol 2), a wrong PIN counts down the retries,
makeCredential with a pinUvAuthToken (packed attestation verified by fido2's
own verifier and chained to the exported attestation CA), getAssertion with
and without the token (signatures verified with the credential's public key;
a tampered one must fail), the Fido2Client + Fido2Server round trip with the
PIN, and CTAP1/U2F register/authenticate. Runs under /usr/bin/python3 (the
only interpreter that loads Debian's python3-fido2). Prints one line per
check and exits 1 on the first failure.
"""
import argparse
import hashlib
import os
import socket
import sys

import fido2
from fido2.client import Fido2Client
from fido2.ctap import CtapError
from fido2.ctap1 import Ctap1
from fido2.ctap2 import ClientPin, Ctap2, PinProtocolV1, PinProtocolV2
from fido2.attestation import Attestation
from fido2.server import AttestationVerifier, Fido2Server
from fido2.webauthn import PublicKeyCredentialRpEntity

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

PIN = "4817cafe"
NEW_PIN = "9630beef"
RP_ID = "llave.example.mx"
ORIGIN = "https://" + RP_ID

GA = ClientPin.PERMISSION.GET_ASSERTION
checks = 0


def ok(name):
    global checks
    checks += 1
    print("PASS " + name, flush=True)


def fail(name, why):
    print("FAIL %s: %s" % (name, why), flush=True)
    sys.exit(1)


def expect(cond, name, why=""):
    if cond:
        ok(name)
    else:
        fail(name, why or "condition false")


def expect_ctap_error(fn, code, name):
    try:
        fn()
    except CtapError as e:
        if e.code == code:
            ok(name)
            return
        fail(name, "expected CTAP error 0x%02x got 0x%02x" % (code, e.code))
    fail(name, "expected CTAP error 0x%02x, the call succeeded" % code)


# ---- the socket transport: 64-byte reports over SOCK_SEQPACKET --------------

def socket_device(path):
    from fido2.hid import CtapHidDevice
    from fido2.hid.base import CtapHidConnection, HidDescriptor

    class SeqpacketConnection(CtapHidConnection):
        """One CTAPHID report per SOCK_SEQPACKET message (llavero-vkey run --socket)."""

        def __init__(self, sock_path):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            self.sock.settimeout(30)
            self.sock.connect(sock_path)

        def write_packet(self, data):
            if len(data) != 64:
                raise OSError("a CTAPHID report is 64 bytes, not %d" % len(data))
            self.sock.send(data)

        def read_packet(self):
            r = self.sock.recv(65)
            if len(r) != 64:
                raise OSError("report of %d bytes from the device" % len(r))
            return r

        def close(self):
            self.sock.close()

    desc = HidDescriptor(path, 0x1209, 0x11a7, 64, 64)
    return CtapHidDevice(desc, SeqpacketConnection(path))


def pcsc_device(reader):
    from fido2.pcsc import CtapPcscDevice
    devs = list(CtapPcscDevice.list_devices(reader))
    if not devs:
        from smartcard.System import readers
        fail("pcsc-find", "no FIDO applet behind a reader matching %r (readers: %s)"
             % (reader, [str(r) for r in readers()]))
    return devs[0]


# ---- the scenario --------------------------------------------------------------

def load_ca(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


class LlaveroVerifier(AttestationVerifier):
    """Trusts exactly the attestation CA exported by the simulated token."""

    def __init__(self, ca):
        super().__init__()
        self.ca_der = ca.public_bytes(serialization.Encoding.DER)

    def ca_lookup(self, attestation_result, auth_data):
        return [self.ca_der]


def check_signature_fails(assertion, cdh, pubkey, name):
    bad = bytearray(assertion.signature)
    bad[-1] ^= 0x01
    try:
        pubkey.verify(assertion.auth_data + cdh, bytes(bad))
    except InvalidSignature:
        ok(name)
        return
    except Exception as e:  # a malformed DER signature is a failure too
        if "signature" in str(e).lower() or isinstance(e, ValueError):
            ok(name)
            return
        raise
    fail(name, "a tampered signature verified")


def scenario(dev, ca, transport):
    info_raw = dev.call(0x10, b"\x04")  # CTAPHID.CBOR, authenticatorGetInfo
    expect(info_raw[:1] == b"\x00", transport + " getInfo status", "status %s" % info_raw[:1].hex())
    ctap = Ctap2(dev)
    info = ctap.info
    expect({"FIDO_2_0", "FIDO_2_1", "U2F_V2"} <= set(info.versions), transport + " getInfo versions",
           repr(info.versions))
    expect(len(info.aaguid) == 16 and info.aaguid != b"\0" * 16, transport + " getInfo aaguid")
    expect(info.options.get("clientPin") is False, transport + " fresh: clientPin false",
           repr(info.options))
    expect(info.options.get("rk") is True and info.options.get("pinUvAuthToken") is True,
           transport + " options rk, pinUvAuthToken", repr(info.options))
    expect(list(info.pin_uv_protocols)[:2] == [2, 1], transport + " pinUvAuthProtocols [2, 1]",
           repr(info.pin_uv_protocols))
    if transport == "pcsc":
        expect("nfc" in (info.transports or []), "pcsc getInfo transports has nfc", repr(info.transports))

    # makeCredential with uv=false on a PIN-less key: no PIN needed yet
    # (makeCredUvNotRqd); proves the key works before the PIN exists.
    cdh0 = hashlib.sha256(b"before the pin").digest()
    att0 = ctap.make_credential(cdh0, {"id": RP_ID, "name": "Llave"},
                                {"id": b"u0", "name": "cero"}, [{"type": "public-key", "alg": -7}])
    expect(att0.auth_data.flags & 0x01 and not att0.auth_data.flags & 0x04,
           transport + " makeCredential without PIN: UP, no UV", "flags %02x" % att0.auth_data.flags)

    cp = ClientPin(ctap)
    expect(isinstance(cp.protocol, PinProtocolV2), transport + " PIN protocol 2 chosen")
    cp.set_pin(PIN)
    ok(transport + " setPIN")
    ctap = Ctap2(dev)  # re-read getInfo
    expect(ctap.info.options.get("clientPin") is True, transport + " clientPin true after setPIN")
    cp = ClientPin(ctap)
    retries, _ = cp.get_pin_retries()
    expect(retries == 8, transport + " getPINRetries 8", "got %s" % retries)
    expect_ctap_error(lambda: cp.set_pin("0000abcd"), CtapError.ERR.PIN_AUTH_INVALID,
                      transport + " setPIN again -> PIN_AUTH_INVALID")
    expect_ctap_error(lambda: cp.get_pin_token("nope1234", GA, RP_ID), CtapError.ERR.PIN_INVALID,
                      transport + " wrong PIN -> PIN_INVALID")
    retries, _ = cp.get_pin_retries()
    expect(retries == 7, transport + " retries 7 after a wrong PIN", "got %s" % retries)
    # With the PIN set, a discoverable credential without pinUvAuthParam
    # needs UV (makeCredUvNotRqd covers only non-discoverable ones).
    expect_ctap_error(
        lambda: ctap.make_credential(cdh0, {"id": RP_ID}, {"id": b"u0"},
                                     [{"type": "public-key", "alg": -7}], options={"rk": True}),
        CtapError.ERR.PIN_REQUIRED, transport + " makeCredential without token -> PUAT_REQUIRED (0x36)")
    # Protocol 1 also works for the same PIN.
    cp1 = ClientPin(ctap, PinProtocolV1())
    t1 = cp1.get_pin_token(PIN, GA, RP_ID)
    expect(len(t1) == 32, transport + " PIN protocol 1 token", "len %d" % len(t1))
    retries, _ = cp.get_pin_retries()
    expect(retries == 8, transport + " retries back to 8 after the right PIN", "got %s" % retries)

    # makeCredential with a pinUvAuthToken (discoverable, ES256).
    token = cp.get_pin_token(PIN, ClientPin.PERMISSION.MAKE_CREDENTIAL | ClientPin.PERMISSION.GET_ASSERTION,
                             RP_ID)
    cdh = hashlib.sha256(b"client data " + transport.encode()).digest()
    user = {"id": b"user-" + transport.encode(), "name": "ana@" + transport, "displayName": "Ana"}
    att = ctap.make_credential(cdh, {"id": RP_ID, "name": "Llave MX"}, user,
                               [{"type": "public-key", "alg": -7}],
                               options={"rk": True},
                               pin_uv_param=cp.protocol.authenticate(token, cdh),
                               pin_uv_protocol=cp.protocol.VERSION)
    ad = att.auth_data
    expect(att.fmt == "packed", transport + " attestation fmt packed", att.fmt)
    expect(ad.rp_id_hash == hashlib.sha256(RP_ID.encode()).digest(), transport + " rpIdHash")
    expect(ad.flags & 0x45 == 0x45, transport + " flags UP|UV|AT", "flags %02x" % ad.flags)
    expect(ad.credential_data.aaguid == info.aaguid, transport + " attested AAGUID = getInfo AAGUID")
    result = Attestation.for_type("packed")().verify(att.att_statement, ad, cdh)
    ok(transport + " packed attestation signature verifies (fido2.attestation)")
    LlaveroVerifier(ca).verify_attestation(att, cdh)
    ok(transport + " attestation chains to the exported CA (AttestationVerifier)")
    expect(len(result.trust_path) >= 1, transport + " x5c present")
    # A CA the key did not use must not be trusted.
    other = att.att_statement["x5c"][0]

    class Wrong(AttestationVerifier):
        def ca_lookup(self, r, a):
            return [other]
    try:
        Wrong().verify_attestation(att, cdh)
        fail(transport + " untrusted CA refused", "the batch certificate verified as its own CA")
    except Exception:
        ok(transport + " untrusted CA refused")
    pub = ad.credential_data.public_key
    cred_id = ad.credential_data.credential_id

    # getAssertion with the token: UV, signature by the credential key.
    cdh2 = hashlib.sha256(b"assert " + transport.encode()).digest()
    token = cp.get_pin_token(PIN, ClientPin.PERMISSION.GET_ASSERTION, RP_ID)
    a1 = ctap.get_assertion(RP_ID, cdh2, [{"type": "public-key", "id": cred_id}],
                            pin_uv_param=cp.protocol.authenticate(token, cdh2),
                            pin_uv_protocol=cp.protocol.VERSION)
    expect(a1.auth_data.flags & 0x05 == 0x05, transport + " getAssertion UP|UV",
           "flags %02x" % a1.auth_data.flags)
    a1.verify(cdh2, pub)
    ok(transport + " assertion signature verifies with the credential key")
    check_signature_fails(a1, cdh2, pub, transport + " tampered assertion signature refused")
    c1 = a1.auth_data.counter
    # Discoverable: no allowList; without a token UV is not set.
    a2 = ctap.get_assertion(RP_ID, cdh2)
    expect(a2.credential["id"] == cred_id and a2.user["id"] == user["id"],
           transport + " discoverable credential found by rpId", repr(a2.user))
    expect(a2.auth_data.flags & 0x05 == 0x01, transport + " getAssertion without token: UP only",
           "flags %02x" % a2.auth_data.flags)
    expect(a2.auth_data.counter > c1, transport + " signature counter increases",
           "%d then %d" % (c1, a2.auth_data.counter))
    a2.verify(cdh2, pub)
    ok(transport + " discoverable assertion verifies")
    expect_ctap_error(lambda: ctap.get_assertion("unknown.example", cdh2), CtapError.ERR.NO_CREDENTIALS,
                      transport + " unknown rpId -> NO_CREDENTIALS")

    # The WebAuthn client with the PIN, checked by fido2's relying party server.
    server = Fido2Server(PublicKeyCredentialRpEntity(RP_ID, "Llave MX"), attestation="direct",
                         verify_attestation=LlaveroVerifier(ca))
    client = Fido2Client(dev, ORIGIN)
    reg_opts, state = server.register_begin(
        {"id": b"srv-" + transport.encode(), "name": "beto", "displayName": "Beto"},
        user_verification="required", resident_key=False)
    reg = client.make_credential(reg_opts["publicKey"], pin=PIN)
    auth_data = server.register_complete(state, reg.client_data, reg.attestation_object)
    expect(auth_data.is_user_verified(), transport + " Fido2Client.make_credential with PIN: UV")
    creds = [auth_data.credential_data]
    req_opts, state = server.authenticate_begin(creds, user_verification="required")
    sel = client.get_assertion(req_opts["publicKey"], pin=PIN)
    resp = sel.get_response(0)
    server.authenticate_complete(state, creds, resp.credential_id, resp.client_data,
                                 resp.authenticator_data, resp.signature)
    ok(transport + " Fido2Server.authenticate_complete accepts the assertion")
    try:
        bad = bytearray(resp.signature)
        bad[-1] ^= 0x01
        server.authenticate_complete(state, creds, resp.credential_id, resp.client_data,
                                     resp.authenticator_data, bytes(bad))
        fail(transport + " Fido2Server refuses a tampered signature", "accepted")
    except Exception:
        ok(transport + " Fido2Server refuses a tampered signature")

    # changePIN, then the old PIN is refused and the new one works.
    cp.change_pin(PIN, NEW_PIN)
    ok(transport + " changePIN")
    expect_ctap_error(lambda: cp.get_pin_token(PIN, GA, RP_ID), CtapError.ERR.PIN_INVALID,
                      transport + " old PIN refused after changePIN")
    cp.get_pin_token(NEW_PIN, GA, RP_ID)
    ok(transport + " new PIN accepted")

    # CTAP1/U2F on the same key.
    u2f = Ctap1(dev)
    expect(u2f.get_version() == "U2F_V2", transport + " U2F version U2F_V2")
    app = hashlib.sha256(b"https://u2f.example").digest()
    chal = hashlib.sha256(b"u2f challenge").digest()
    reg1 = u2f.register(chal, app)
    reg1.verify(app, chal)
    ok(transport + " U2F register verifies")
    sig = u2f.authenticate(chal, app, reg1.key_handle)
    sig.verify(app, chal, reg1.public_key)
    ok(transport + " U2F authenticate verifies")
    try:
        u2f.authenticate(chal, hashlib.sha256(b"other app").digest(), reg1.key_handle)
        fail(transport + " U2F key handle bound to its app", "accepted under another app")
    except Exception as e:
        code = getattr(e, "code", None)
        expect(code == 0x6A80, transport + " U2F key handle bound to its app (6A80)", repr(e))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pcsc")
    ap.add_argument("--socket")
    ap.add_argument("--ca", required=True)
    args = ap.parse_args()
    print("python3-fido2 %s" % fido2.__version__)
    ca = load_ca(args.ca)
    if args.pcsc is not None:
        dev = pcsc_device(args.pcsc)
        ok("pcsc CtapPcscDevice found the FIDO applet")
        scenario(dev, ca, "pcsc")
    elif args.socket:
        dev = socket_device(args.socket)
        expect(dev.capabilities & 0x04, "socket INIT: CBOR capability", "caps %02x" % dev.capabilities)
        msg = os.urandom(300)
        expect(dev.ping(msg) == msg, "socket PING of 300 bytes echoes")
        scenario(dev, ca, "socket")
    else:
        ap.error("--pcsc or --socket")
    dev.close()
    print("%d passed, 0 failed" % checks)


if __name__ == "__main__":
    main()
