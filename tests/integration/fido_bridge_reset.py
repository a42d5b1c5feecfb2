# Resets the card under a running ceremony, as another PC/SC application
# would (fido_bridge.sh pcsc, acceptance 4):
#   fido_bridge_reset.py READER VCARD STATE APDUS FLAG
# connects to READER (shared) first and creates FLAG, then waits until the
# llavero-vcard on STATE has received APDUS APDUs (its `stats` counter) and
# does SCardReconnect(SCARD_RESET_CARD). pcscd runs the reset between two
# APDUs of the other client, whose next SCardTransmit gets
# SCARD_W_RESET_CARD. Needs Debian's python3-pyscard (/usr/bin/python3).
import subprocess
import sys
import time

from smartcard.scard import (SCARD_LEAVE_CARD, SCARD_PROTOCOL_T0, SCARD_PROTOCOL_T1,
                             SCARD_RESET_CARD, SCARD_S_SUCCESS, SCARD_SCOPE_USER,
                             SCARD_SHARE_SHARED, SCardConnect, SCardDisconnect,
                             SCardEstablishContext, SCardGetErrorMessage, SCardReconnect,
                             SCardReleaseContext)

reader, vcard, state, target, flag = sys.argv[1:6]
protos = SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1


def apdus():
    out = subprocess.run([vcard, "stats", "--state", state], capture_output=True,
                         text=True, check=True).stdout
    return int(next(w[6:] for w in out.split() if w.startswith("apdus=")))


r, ctx = SCardEstablishContext(SCARD_SCOPE_USER)
if r != SCARD_S_SUCCESS:
    sys.exit("SCardEstablishContext: " + SCardGetErrorMessage(r))
r, card, _ = SCardConnect(ctx, reader, SCARD_SHARE_SHARED, protos)
if r != SCARD_S_SUCCESS:
    sys.exit("SCardConnect: " + SCardGetErrorMessage(r))
open(flag, "w").close()
deadline = time.monotonic() + 30
while apdus() < int(target):
    if time.monotonic() > deadline:
        sys.exit("the ceremony never reached APDU %s" % target)
    time.sleep(0.05)
r, _ = SCardReconnect(card, SCARD_SHARE_SHARED, protos, SCARD_RESET_CARD)
if r != SCARD_S_SUCCESS:
    sys.exit("SCardReconnect(SCARD_RESET_CARD): " + SCardGetErrorMessage(r))
print("reset")
SCardDisconnect(card, SCARD_LEAVE_CARD)
SCardReleaseContext(ctx)
