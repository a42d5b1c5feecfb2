#!/usr/bin/python3
"""A native messaging client for llavero-agent tests (speaks like a browser).

    nm_client.py AGENT < requests.jsonl > responses.jsonl

Each input line is a JSON request (sent framed) or a directive:
    @raw HEX        send these bytes as is
    @len N          send a 4-byte length header N and N bytes of 'x'
    @close          close stdin of the agent and wait for it to exit
Prints one line per response (the JSON text), then "exit STATUS".
"""
import json
import struct
import subprocess
import sys


def read_frame(p):
    hdr = p.stdout.read(4)
    if len(hdr) < 4:
        return None
    (n,) = struct.unpack("=I", hdr)
    body = p.stdout.read(n)
    return body.decode("utf-8")


def main():
    agent = sys.argv[1:]
    p = subprocess.Popen(agent, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    for line in sys.stdin:
        line = line.rstrip("\n")
        if not line:
            continue
        if line.startswith("@raw "):
            p.stdin.write(bytes.fromhex(line[5:]))
            p.stdin.flush()
        elif line.startswith("@len "):
            n = int(line[5:])
            p.stdin.write(struct.pack("=I", n) + b"x" * n)
            p.stdin.flush()
        elif line == "@close":
            break
        else:
            body = line.encode("utf-8")
            p.stdin.write(struct.pack("=I", len(body)) + body)
            p.stdin.flush()
        resp = read_frame(p)
        if resp is None:
            print("no-response")
            break
        print(resp, flush=True)
    p.stdin.close()
    rc = p.wait(timeout=60)
    print("exit %d" % rc, flush=True)


if __name__ == "__main__":
    main()
