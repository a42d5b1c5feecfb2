#!/usr/bin/python3
"""agent_bench.py: the driver of bench/agent-authenticate.sh (runs inside the
pcsc harness, the card already in the reader).

    agent_bench.py --agent AGENT --p11-bench P11BENCH --module SO --pin-file F
                   [--iterations N] [--startups N]

Measures, in one run, on the same token (9A, RSA-2048, SHA256-RSA-PKCS):
  agent_warm   authenticate round trip on one long-lived agent (as a browser
               port that stays open): request framed in -> token out, PIN
               from the scripted pinentry (a process per operation)
  agent_cold   the same with a new agent process per request (exec, dlopen,
               C_Initialize, enumerate, login, sign, exit)
  bare         p11-sign-bench: C_Initialize, find, C_Login, C_Sign, C_Finalize
  startup      exec -> version answer, a new agent each time
  peak RSS     VmHWM of each agent process just before it ends, in KiB
  pinentry     the scripted pinentry alone (its share of the agent figures)
Prints one RESULT line per measurement and the ratios. The scripted
pinentry's answers file (PINENTRY_SCRIPT_ANSWERS) is refilled here.
"""
import argparse
import json
import os
import statistics
import struct
import subprocess
import sys
import time


def frame(obj):
    b = json.dumps(obj).encode()
    return struct.pack("=I", len(b)) + b


def read_frame(f):
    hdr = f.read(4)
    if len(hdr) < 4:
        return None
    (n,) = struct.unpack("=I", hdr)
    return json.loads(f.read(n))


class Agent:
    def __init__(self, path):
        self.p = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL)

    def ask(self, obj):
        self.p.stdin.write(frame(obj))
        self.p.stdin.flush()
        return read_frame(self.p.stdout)

    def close(self):
        """Ends the agent; returns its peak RSS in KiB (VmHWM: counted from
        exec, unlike wait4's ru_maxrss, which includes the forked driver)."""
        hwm = 0
        with open(f"/proc/{self.p.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
        self.p.stdin.close()
        _, status, _ = os.wait4(self.p.pid, 0)
        self.p.returncode = status
        self.p.stdout.close()
        if status != 0:
            raise SystemExit(f"agent exited with status {status}")
        return hwm


def pins(n, pin):
    with open(os.environ["PINENTRY_SCRIPT_ANSWERS"], "w") as f:
        f.write((pin + "\n") * n)


def auth_request(i):
    nonce = ("%032d" % i) + "A" * 12
    return {"command": "authenticate", "requestId": str(i),
            "arguments": {"challengeNonce": nonce, "origin": "https://portal.llavero.test"}}


def ok_token(r):
    if not r or "error" in r or r.get("format", "").split(":")[0] != "web-eid":
        raise SystemExit(f"authenticate failed: {r}")


def summary(name, xs, unit="ms"):
    print(f"RESULT {name} n={len(xs)} median_{unit}={statistics.median(xs):.2f} "
          f"min_{unit}={min(xs):.2f} max_{unit}={max(xs):.2f}")
    return statistics.median(xs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agent", required=True)
    ap.add_argument("--p11-bench", required=True)
    ap.add_argument("--module", required=True)
    ap.add_argument("--pin-file", required=True)
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--startups", type=int, default=20)
    a = ap.parse_args()
    pin = open(a.pin_file).read().strip()
    n = a.iterations

    # Start-up: exec -> version answer; peak RSS of an idle agent.
    st, rss_idle = [], []
    for _ in range(a.startups):
        t0 = time.perf_counter()
        ag = Agent(a.agent)
        r = ag.ask({"command": "version"})
        st.append((time.perf_counter() - t0) * 1000)
        if not r or "version" not in r:
            raise SystemExit(f"version failed: {r}")
        rss_idle.append(ag.close())
    startup = summary("agent_startup", st)

    # Warm: one agent, n authenticate requests (plus one warm-up).
    pins(n + 1, pin)
    ag = Agent(a.agent)
    ok_token(ag.ask(auth_request(0)))
    warm = []
    for i in range(1, n + 1):
        t0 = time.perf_counter()
        r = ag.ask(auth_request(i))
        warm.append((time.perf_counter() - t0) * 1000)
        ok_token(r)
    rss_warm = ag.close()
    w = summary("agent_authenticate_warm", warm)

    # Cold: a new agent per request (exec to token, then exit).
    pins(n, pin)
    cold, rss_cold = [], []
    for i in range(n):
        t0 = time.perf_counter()
        ag = Agent(a.agent)
        r = ag.ask(auth_request(i))
        cold.append((time.perf_counter() - t0) * 1000)
        ok_token(r)
        rss_cold.append(ag.close())
    c = summary("agent_authenticate_cold", cold)

    # Bare PKCS#11 on the same key (9A = CKA_ID 01), same run.
    out = subprocess.run([a.p11_bench, "--module", a.module, "--pin-file", a.pin_file,
                          "--id", "01", "--mech", "sha256-rsa", "--iterations", str(n)],
                         check=True, capture_output=True, text=True).stdout
    line = [x for x in out.splitlines() if "median_ms=" in x]
    if not line:
        raise SystemExit("p11-sign-bench printed no median:\n" + out)
    fields = dict(kv.split("=") for kv in line[0].split())
    bare = float(fields["median_ms"])
    print(f"RESULT bare_p11_login_sign n={n} median_ms={bare:.2f} min_ms={float(fields['min_ms']):.2f}")

    # The scripted pinentry alone (a shell + awk per dialog): part of both
    # agent figures, not of the bare one.
    pins(n, pin)
    pe = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run([os.environ["LLAVERO_PINENTRY"]], input=b"SETDESC x\nGETPIN\nBYE\n",
                       capture_output=True, check=True)
        pe.append((time.perf_counter() - t0) * 1000)
    summary("scripted_pinentry_alone", pe)

    print(f"RESULT peak_rss_kib idle_agent={max(rss_idle)} after_{n}_authenticate={rss_warm} "
          f"cold_authenticate={max(rss_cold)}")
    print(f"RATIO agent_warm/bare={w / bare:.2f} agent_cold/bare={c / bare:.2f} "
          f"(startup {startup:.2f} ms)")


if __name__ == "__main__":
    sys.exit(main())
