# pkcs11_hotplug.py: one long-lived PyKCS11 client of llavero-pkcs11.so
# (C_Initialize once) while readers come and go (issue 4: "a reader plugged
# in appears on the next C_GetSlotList(NULL); a removed one disappears without
# breaking other sessions"). Run by pkcs11_hotplug.sh inside pcsc-ns.sh:
#   pkcs11_hotplug.py MODULE PIN CONFDIR STATE2 EFIRMA-PASSWORD
# It drives the rig itself: pcscd's reader configuration in CONFDIR, pcscd
# restarts, a second llavero-vcard (STATE2) on port P+10 for the new reader.
#
# pcscd 1.9.9 limitation (Debian's build, libudev hot plug): readers from
# reader.conf (vpcd is one) are read only when pcscd starts. SIGUSR1 reaches
# pcscd ("Received signal: 10" in its log) but HPReCheckSerialReaders() does
# nothing in the libudev build, so a vpcd reader can only be added or removed
# by restarting pcscd, and a restart invalidates every card handle. So here a
# session on a card in a reader that stays (Virtual PCD 00 00) ends with
# CKR_DEVICE_REMOVED / CKR_SESSION_HANDLE_INVALID at each step, and a new
# session on the same slot ID works; the sessions that do not depend on pcscd
# (an e.firma file slot) keep working throughout. With a USB reader, libudev
# hot plug adds or removes it without a restart; the module takes the same
# path (SCardListReaders on C_GetSlotList(NULL)).
#
# libifdvpcd limitation: one loaded copy of the driver keeps one connection
# per slot number (Lun & 0xFFFF), so two reader.conf entries with the same
# LIBPATH share it: the second entry's CHANNELID replaces the first's, the
# polling threads of both readers use the second port, and when both see the
# card connect one accept()s it and the other blocks in accept() for ever
# holding its reader's lock (every PC/SC call on that reader then hangs; the
# first port is never accepted). So the added reader loads its own copy of
# the driver (another path is another dlopen instance).
#
# Every step runs under a watchdog (a separate process): a step that does not
# finish in time fails naming the step, with the Python stack of where it was.
import faulthandler
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import PyKCS11

module, pin, confdir, state2, efpass = sys.argv[1:6]
port = int(os.environ["LLAVERO_VCARD_PORT"])
port_b = port + 10
vcard = os.environ["LLAVERO_VCARD"]
logdir = os.environ["LLAVERO_HARNESS_LOG"]
ENDED = (PyKCS11.CKR_DEVICE_REMOVED, PyKCS11.CKR_SESSION_HANDLE_INVALID)
VPCD = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"
vpcd_b = os.path.join(os.environ["WORK"], "libifdvpcd-b.so")
procs = {}

# The watchdog: told "STEP SECONDS NAME" at each step (and the PIDs of the
# processes this script started), it prints which step overran, makes this
# process dump its stack (SIGUSR1, faulthandler: works while blocked in C),
# stops those processes and kills this one. Nothing is blocking for ever.
WATCHDOG = r'''
import os, select, signal, sys, time
parent, name, deadline, pids = os.getppid(), None, None, set()
while True:
    t = None if deadline is None else max(0, deadline - time.monotonic())
    if select.select([sys.stdin], [], [], t)[0]:
        line = sys.stdin.readline()
        if not line:
            sys.exit(0)
        w = line.split(None, 2)
        if w[0] == "STEP":
            deadline, name = time.monotonic() + float(w[1]), w[2].strip()
        elif w[0] == "PID":
            pids.add(int(w[1]))
        elif w[0] == "GONE":
            pids.discard(int(w[1]))
        continue
    print("FAIL: step '%s' did not finish in time; stack of the stalled client:" % name,
          file=sys.stderr, flush=True)
    os.kill(parent, signal.SIGUSR1)
    time.sleep(1)
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass
    os.kill(parent, signal.SIGKILL)
    sys.exit(1)
'''
faulthandler.register(signal.SIGUSR1, all_threads=True)
watchdog = subprocess.Popen([sys.executable, "-c", WATCHDOG], stdin=subprocess.PIPE, text=True)


def step(name, seconds=30):
    watchdog.stdin.write("STEP %d %s\n" % (seconds, name))
    watchdog.stdin.flush()


def started(p):
    watchdog.stdin.write("PID %d\n" % p.pid)
    watchdog.stdin.flush()
    return p


def reaped(p):
    watchdog.stdin.write("GONE %d\n" % p.pid)
    watchdog.stdin.flush()


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def ok(msg):
    print("ok - " + msg, flush=True)


def readers():
    try:
        out = subprocess.run(["opensc-tool", "-l"], capture_output=True, text=True,
                             timeout=10).stdout
    except subprocess.TimeoutExpired:
        fail("opensc-tool -l did not answer in 10 s (pcscd stuck on a reader)")
    r = {}
    for line in out.splitlines():
        m = re.match(r"^\d+\s+(Yes|No)\s+(.*\S)\s*$", line)
        if m:
            r[m.group(2)] = m.group(1) == "Yes"
    return r


def wait_readers(pred, what):
    end = time.monotonic() + 20
    while time.monotonic() < end:
        r = readers()
        if pred(r):
            time.sleep(0.3)   # pcscd says "present" a moment before power-up
            return r
        time.sleep(0.1)
    fail("readers did not become %s in 20 s: %s" % (what, readers()))


def write_conf(with_b):
    for f in os.listdir(confdir):
        os.unlink(os.path.join(confdir, f))
    entries = [("vpcd", "Virtual PCD", port, VPCD)]
    if with_b:
        # its own copy of the driver: see libifdvpcd limitation at the top
        shutil.copyfile(VPCD, vpcd_b)
        entries.append(("vpcd-b", "Virtual PCD B", port_b, vpcd_b))
    for fname, name, p, lib_path in entries:
        with open(os.path.join(confdir, fname), "w") as f:
            f.write('FRIENDLYNAME "%s"\nDEVICENAME   /dev/null:0x%04X\n'
                    "LIBPATH      %s\n"
                    "CHANNELID    0x%04X\n" % (name, p, lib_path, p))


def stop(pid):
    try:
        os.kill(pid, 15)
    except ProcessLookupError:
        return
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    fail("process %d did not stop" % pid)


def restart_pcscd():
    old = procs.pop("pcscd", None)
    if old:
        old.terminate()
        old.wait(10)
        reaped(old)
    else:
        stop(int(os.environ["LLAVERO_PCSCD_PID"]))
    log = open(os.path.join(logdir, "pcscd-hotplug.log"), "a")
    procs["pcscd"] = started(subprocess.Popen(["pcscd", "-f", "-d", "-c", confdir],
                                              stdout=log, stderr=subprocess.STDOUT))


def slots(present=False):
    return {lib.getSlotInfo(s).slotDescription.strip(): s
            for s in lib.getSlotList(tokenPresent=present)}


def session(slot, password):
    s = lib.openSession(slot, PyKCS11.CKF_SERIAL_SESSION)
    s.login(password)
    return s


def sign(s):
    key = s.findObjects([(PyKCS11.CKA_CLASS, PyKCS11.CKO_PRIVATE_KEY)])[0]
    return bytes(s.sign(key, b"tramite", PyKCS11.Mechanism(PyKCS11.CKM_SHA256_RSA_PKCS, None)))


def ended(s, what):
    try:
        sign(s)
    except PyKCS11.PyKCS11Error as e:
        if e.value not in ENDED:
            fail("%s: %s, want CKR_DEVICE_REMOVED / CKR_SESSION_HANDLE_INVALID" % (what, e))
        return PyKCS11.CKR[e.value]
    return "still works"


lib = PyKCS11.PyKCS11Lib()
step("C_Initialize")
lib.load(module)
try:
    A = "Virtual PCD 00 00"
    step("start: slots, an e.firma session and a card session sign")
    s0 = slots()
    if A not in s0 or "Virtual PCD 00 01" not in s0:
        fail("readers at start: %s" % s0)
    ef_name = [n for n in s0 if n.startswith("e.firma file")]
    if not ef_name:
        fail("no e.firma file slot: %s" % s0)
    ef = session(s0[ef_name[0]], efpass)
    sign(ef)
    card = session(s0[A], pin)
    sign(card)
    ok("start: slots %s; an e.firma session and a card session sign" % sorted(s0.values()))

    # 1. a reader is plugged in (pcscd restarted with one more vpcd reader,
    #    a second card in it)
    step("plug in: restart pcscd with reader B, start its card")
    write_conf(True)
    restart_pcscd()
    procs["vcard-b"] = started(subprocess.Popen(
        [vcard, "run", "--state", state2, "--port", str(port_b)],
        stdout=open(os.path.join(logdir, "vcard-b.log"), "a"), stderr=subprocess.STDOUT))
    wait_readers(lambda r: r.get(A) and any(n.startswith("Virtual PCD B") and p
                                            for n, p in r.items()), "A and B with cards")
    step("plug in: slot list, sessions across the restart, new sessions sign")
    s1 = slots()
    new = {n: i for n, i in s1.items() if n not in s0}
    if not any(n.startswith("Virtual PCD B") for n in new):
        fail("the new reader has no slot: %s" % s1)
    for n, i in s0.items():
        if s1.get(n) != i:
            fail("slot of %s changed: %s -> %s" % (n, i, s1.get(n)))
    sign(ef)
    old = ended(card, "card session across the pcscd restart")
    card = session(s1[A], pin)
    sign(card)
    b_name = [n for n in new if n.startswith("Virtual PCD B") and s1[n] in slots(True).values()]
    if not b_name:
        fail("no token in the new reader: %s" % slots(True))
    card_b = session(s1[b_name[0]], pin)
    sign(card_b)
    ok("reader plugged in: new slots %s on the next C_GetSlotList(NULL), old IDs unchanged; "
       "the e.firma session kept signing; the old card session got %s (pcscd restart), a new "
       "one on the same slot ID and one on the new reader's card sign" % (new, old))

    # 2. the reader is removed again
    step("remove: restart pcscd without reader B, stop its card")
    write_conf(False)
    restart_pcscd()
    vb = procs.pop("vcard-b")
    vb.terminate()
    vb.wait(10)
    reaped(vb)
    wait_readers(lambda r: r.get(A) and not any(n.startswith("Virtual PCD B") for n in r),
                 "A only")
    step("remove: slot list, sessions across the restart, a new session signs")
    s2 = slots()
    if any(n.startswith("Virtual PCD B") for n in s2):
        fail("the removed reader is still listed: %s" % s2)
    for n, i in s0.items():
        if s2.get(n) != i:
            fail("slot of %s changed: %s -> %s" % (n, i, s2.get(n)))
    if s1[b_name[0]] in slots(True).values():
        fail("the removed reader's slot still has a token")
    sign(ef)
    gone = ended(card_b, "session on the removed reader")
    old = ended(card, "card session across the pcscd restart")
    card = session(s2[A], pin)
    sign(card)
    ok("reader removed: its slots are gone from C_GetSlotList, its session got %s; the other "
       "IDs are unchanged, the e.firma session kept signing, the card session got %s and a new "
       "one on the same slot ID signs" % (gone, old))
    step("C_Finalize")
    lib.lib.C_Finalize()
finally:
    step("stop pcscd and the second card", 20)
    for p in procs.values():
        p.terminate()
        p.wait(10)
    watchdog.stdin.close()
    watchdog.wait(5)
