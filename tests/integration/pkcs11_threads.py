# pkcs11_threads.py: python3-pykcs11 drives llavero-pkcs11.so from several
# threads at once (issue 4, acceptance 4). Run with /usr/bin/python3.
#   pkcs11_threads.py MODULE TOKEN-LABEL PIN KEY-ID-HEX CERT-DER THREADS COUNT
# Logs in once, then THREADS threads each open their own session and sign
# COUNT distinct messages with CKM_SHA256_RSA_PKCS, alternating with
# CKM_SHA256_RSA_PKCS_PSS; every signature is verified with the certificate.
# Prints "ok - ..." and exits 0, or "FAIL: ..." and exits 1.
import sys
import threading
import time

import PyKCS11
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

module, label, pin, key_id, cert_der, nthreads, count = sys.argv[1:8]
nthreads, count = int(nthreads), int(count)
pub = x509.load_der_x509_certificate(open(cert_der, "rb").read()).public_key()

lib = PyKCS11.PyKCS11Lib()
lib.load(module)
slot = None
for s in lib.getSlotList(tokenPresent=True):
    if lib.getTokenInfo(s).label.strip() == label:
        slot = s
if slot is None:
    print("FAIL: no token labelled %r" % label)
    sys.exit(1)
main = lib.openSession(slot, PyKCS11.CKF_SERIAL_SESSION)
main.login(pin)

pss = PyKCS11.RSA_PSS_Mechanism(PyKCS11.CKM_SHA256_RSA_PKCS_PSS, PyKCS11.CKM_SHA256,
                                PyKCS11.CKG_MGF1_SHA256, 32)
pkcs1 = PyKCS11.Mechanism(PyKCS11.CKM_SHA256_RSA_PKCS, None)
errors = []
done = [0] * nthreads


def worker(n):
    try:
        sess = lib.openSession(slot, PyKCS11.CKF_SERIAL_SESSION)
        keys = sess.findObjects([(PyKCS11.CKA_CLASS, PyKCS11.CKO_PRIVATE_KEY),
                                 (PyKCS11.CKA_ID, bytes.fromhex(key_id))])
        if len(keys) != 1:
            raise RuntimeError("thread %d: %d private keys with CKA_ID %s" % (n, len(keys), key_id))
        for i in range(count):
            msg = ("hilo %d firma %d" % (n, i)).encode()
            use_pss = i % 2 == 1
            sig = bytes(sess.sign(keys[0], msg, pss if use_pss else pkcs1))
            if use_pss:
                pub.verify(sig, msg, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
            else:
                pub.verify(sig, msg, padding.PKCS1v15(), hashes.SHA256())
            done[n] += 1
        sess.closeSession()
    except Exception as e:  # PyKCS11Error carries the CKR name
        errors.append("thread %d after %d signatures: %r" % (n, done[n], e))


t0 = time.time()
threads = [threading.Thread(target=worker, args=(n,)) for n in range(nthreads)]
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.time() - t0
main.logout()
main.closeSession()
lib.lib.C_Finalize()
if errors or sum(done) != nthreads * count:
    for e in errors:
        print("FAIL: " + e)
    print("FAIL: %d of %d signatures" % (sum(done), nthreads * count))
    sys.exit(1)
print("ok - %s: %d threads x %d signatures (PKCS#1 v1.5 and PSS), all verified, %.1f s (%.0f/s)"
      % (label, nthreads, count, elapsed, nthreads * count / elapsed))
