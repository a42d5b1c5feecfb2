#!/usr/bin/python3
"""A card that is not PIV, for vpcd: it gives an ISO 7816 ATR and answers
every command with 6A82 (file or application not found). Used to check that
llavero-pkcs11.so reports CKR_TOKEN_NOT_RECOGNIZED for a card it does not
drive. Usage: dumb_card.py PORT"""
import socket
import struct
import sys
import time

ATR = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError
        b += c
    return b


def main():
    port = int(sys.argv[1])
    for _ in range(100):
        try:
            s = socket.create_connection(("127.0.0.1", port))
            break
        except OSError:
            time.sleep(0.1)
    else:
        sys.exit("vpcd not reachable")
    while True:
        try:
            (n,) = struct.unpack(">H", recv_exact(s, 2))
            msg = recv_exact(s, n)
        except EOFError:
            return
        if n == 1:
            if msg[0] == 4:  # ATR request
                s.sendall(struct.pack(">H", len(ATR)) + ATR)
            continue  # power on/off, reset
        s.sendall(struct.pack(">H", 2) + b"\x6a\x82")


main()
