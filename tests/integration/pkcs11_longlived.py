# pkcs11_longlived.py: one long-lived PyKCS11 client of llavero-pkcs11.so
# (issue 4, acceptance 5), driven by the shell test pkcs11_pull_restart.sh.
#   pkcs11_longlived.py MODULE PIN CERT-DER DIR
# Loops: find the vcard's slot (C_GetSlotList(TRUE)), open a session, log in
# when needed, sign with 9A (SHA256-RSA-PKCS), verify; on an error it records
# the CKR name, drops the session and tries again 50 ms later. Every attempt
# appends "n phase result" to DIR/log, phase being the content of DIR/phase
# at the start of the attempt. Stops when DIR/stop exists. C_Initialize
# happens once: the module must recover by itself.
import os
import sys
import time

import PyKCS11
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

module, pin, cert_der, d = sys.argv[1:5]
pub = x509.load_der_x509_certificate(open(cert_der, "rb").read()).public_key()
lib = PyKCS11.PyKCS11Lib()
lib.load(module)
mech = PyKCS11.Mechanism(PyKCS11.CKM_SHA256_RSA_PKCS, None)
log = open(os.path.join(d, "log"), "a", buffering=1)
sess = None
n = 0
while not os.path.exists(os.path.join(d, "stop")):
    n += 1
    phase = open(os.path.join(d, "phase")).read().strip()
    t0 = time.time()
    stage = "slots"
    try:
        if sess is None:
            slots = [s for s in lib.getSlotList(tokenPresent=True)
                     if lib.getTokenInfo(s).model.strip() == "Llavero vcard"]
            if not slots:
                raise PyKCS11.PyKCS11Error(PyKCS11.CKR_TOKEN_NOT_PRESENT)
            stage = "open"
            sess = lib.openSession(slots[0], PyKCS11.CKF_SERIAL_SESSION)
            stage = "login"
            sess.login(pin)
        stage = "find"
        key = sess.findObjects([(PyKCS11.CKA_CLASS, PyKCS11.CKO_PRIVATE_KEY),
                                (PyKCS11.CKA_ID, b"\x01")])[0]
        msg = ("firma %d" % n).encode()
        stage = "sign"
        sig = bytes(sess.sign(key, msg, mech))
        pub.verify(sig, msg, padding.PKCS1v15(), hashes.SHA256())
        result = "OK"
    except PyKCS11.PyKCS11Error as e:
        result = PyKCS11.CKR[e.value] if e.value in PyKCS11.CKR else "0x%x" % e.value
        result += "@" + stage
        if sess is not None:
            try:
                sess.closeSession()
            except PyKCS11.PyKCS11Error:
                pass
            sess = None
    except Exception as e:
        result = "EXC:" + type(e).__name__ + "@" + stage
        sess = None
    log.write("%d %s %s %.3f\n" % (n, phase, result, time.time() - t0))
    if result != "OK":
        time.sleep(0.05)
lib.lib.C_Finalize()
