#!/usr/bin/python3
"""Checks Llavero's udev rules (udev/*.rules) without a running udev:
syntax (keys, operators, quoting, continuation lines, GOTO targets) and
their effect on recorded devices (tests/integration/fido_udev/devices.json),
evaluating the rules the way udev does for the keys they use (match keys,
ENV/TAG assignments, GOTO/LABEL, PROGRAM run for real against a scratch
sysfs tree, TEST, RUN). Prints one line per check and "N passed, M failed".

usage: fido_udev_check.py RULES_DIR DEVICES_JSON
"""
import fnmatch
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

MATCH_KEYS = {"ACTION", "DEVPATH", "KERNEL", "SUBSYSTEM", "DRIVER", "KERNELS", "SUBSYSTEMS",
              "DRIVERS", "ENV", "ATTR", "ATTRS", "TAG", "TAGS", "TEST", "PROGRAM", "RESULT",
              "CONST", "SYSCTL"}
ASSIGN_KEYS = {"ENV", "TAG", "RUN", "GROUP", "OWNER", "MODE", "SYMLINK", "NAME", "ATTR",
               "IMPORT", "OPTIONS", "LABEL", "GOTO", "SECLABEL", "SYSCTL"}
ATTR_KEYS = {"ENV", "ATTR", "ATTRS", "TEST", "RUN", "IMPORT", "SYSCTL", "SECLABEL", "CONST"}
TOKEN = re.compile(r'\s*([A-Z]+)(?:\{([^}]*)\})?\s*(==|!=|\+=|-=|:=|=)\s*"((?:[^"\\]|\\.)*)"\s*(,|$)')

passed = failed = 0


def check(ok, what):
    global passed, failed
    print(("ok" if ok else "FALLA") + ": " + what)
    if ok:
        passed += 1
    else:
        failed += 1
    return ok


def parse_rules(path):
    """Returns [(lineno, [(key, attr, op, value)])] and a list of errors."""
    rules, errors, buf, start = [], [], "", 0
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for no, line in enumerate(lines, 1):
        if not buf:
            start = no
        if line.endswith("\\"):
            buf += line[:-1]
            continue
        buf += line
        text, buf = buf.strip(), ""
        if not text or text.startswith("#"):
            continue
        toks, pos = [], 0
        while pos < len(text):
            m = TOKEN.match(text, pos)
            if not m:
                errors.append(f"{os.path.basename(path)}:{start}: no se entiende «{text[pos:pos+40]}»")
                break
            key, attr, op, value, _ = m.groups()
            is_match = op in ("==", "!=")
            if key not in MATCH_KEYS | ASSIGN_KEYS:
                errors.append(f"{os.path.basename(path)}:{start}: clave desconocida {key}")
            elif is_match and key not in MATCH_KEYS:
                errors.append(f"{os.path.basename(path)}:{start}: {key} no admite {op}")
            elif not is_match and key not in ASSIGN_KEYS:
                errors.append(f"{os.path.basename(path)}:{start}: {key} no admite {op}")
            if attr is not None and key not in ATTR_KEYS or \
                    attr is None and key in ATTR_KEYS and key not in ("RUN", "IMPORT", "TEST"):
                errors.append(f"{os.path.basename(path)}:{start}: {key} con/sin {{atributo}} mal puesto")
            toks.append((key, attr, op, value))
            pos = m.end()
        if toks:
            rules.append((start, toks))
    labels = {v for _, t in rules for k, _, _, v in t if k == "LABEL"}
    for no, t in rules:
        for k, _, _, v in t:
            if k == "GOTO" and v not in labels:
                errors.append(f"{os.path.basename(path)}:{no}: GOTO a una etiqueta inexistente {v}")
    return rules, errors


def subst(value, dev, sysroot):
    value = value.replace("$sys", sysroot).replace("$devpath", dev["devpath"])
    value = value.replace("$devnode", dev.get("devnode", "")).replace("%k", dev["kernel"])
    return value.replace("%p", dev["devpath"])


def run_rules(files, dev, sysroot):
    env = dict(dev.get("env", {}))
    tags = set(dev.get("tags", []))
    runs = []
    for rules in files:
        goto = None
        for _, toks in rules:
            if goto is not None:
                if any(k == "LABEL" and v == goto for k, _, _, v in toks):
                    goto = None
                continue
            matched = True
            for key, attr, op, value in toks:
                if op not in ("==", "!="):
                    continue
                if key == "ACTION":
                    cur = dev["action"]
                elif key == "SUBSYSTEM":
                    cur = dev["subsystem"]
                elif key == "KERNEL":
                    cur = dev["kernel"]
                elif key == "ENV":
                    cur = env.get(attr, "")
                elif key == "TAG":
                    ok = any(fnmatch.fnmatchcase(t, value) for t in tags)
                    if ok != (op == "=="):
                        matched = False
                        break
                    continue
                elif key == "TEST":
                    # sysfs paths are checked in the scratch tree; programs
                    # (setfacl) are taken as installed, as on the recorded machines.
                    path = subst(value, dev, sysroot)
                    ok = os.path.exists(path) if path.startswith(sysroot) else True
                    if ok != (op == "=="):
                        matched = False
                        break
                    continue
                elif key == "PROGRAM":
                    argv = shlex.split(subst(value, dev, sysroot))
                    ok = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
                    if ok != (op == "=="):
                        matched = False
                        break
                    continue
                else:
                    raise SystemExit(f"clave {key} sin simular")
                ok = any(fnmatch.fnmatchcase(cur, alt) for alt in value.split("|"))
                if ok != (op == "=="):
                    matched = False
                    break
            if not matched:
                continue
            for key, attr, op, value in toks:
                if op in ("==", "!="):
                    continue
                if key == "ENV":
                    env[attr] = value
                elif key == "TAG":
                    tags.add(value)
                elif key == "RUN":
                    runs.append(subst(value, dev, sysroot))
                elif key == "GOTO":
                    goto = value
    return env, tags, runs


def main():
    rules_dir, devices_file = sys.argv[1], sys.argv[2]
    files = []
    for name in sorted(os.listdir(rules_dir)):
        if not name.endswith(".rules") or name.startswith("50-llavero-kiosk-pcsc"):
            continue
        rules, errors = parse_rules(os.path.join(rules_dir, name))
        check(not errors, f"sintaxis de {name}" + ("" if not errors else ": " + "; ".join(errors)))
        files.append(rules)
    with open(devices_file, encoding="utf-8") as f:
        devices = json.load(f)["devices"]
    with tempfile.TemporaryDirectory() as sysroot:
        for dev in devices:
            if "report_descriptor" in dev:
                d = os.path.join(sysroot + dev["devpath"], "device")
                os.makedirs(d, exist_ok=True)
                with open(os.path.join(d, "report_descriptor"), "wb") as f:
                    f.write(bytes.fromhex(dev["report_descriptor"]))
            env, tags, runs = run_rules(files, dev, sysroot)
            exp = dev["expect"]
            problems = []
            for k, v in exp.get("env", {}).items():
                if env.get(k) != v:
                    problems.append(f"{k}={env.get(k)!r} (se esperaba {v!r})")
            for t in exp.get("tags", []):
                if t not in tags:
                    problems.append(f"falta la etiqueta {t}")
            if not exp.get("tags") and "llavero" in tags:
                problems.append("etiqueta llavero de más")
            acl = [r for r in runs if "setfacl" in r]
            if bool(acl) != exp.get("run", False):
                problems.append(f"RUN setfacl: {acl}")
            if acl and dev.get("devnode") and not acl[0].endswith(dev["devnode"]):
                problems.append(f"setfacl sobre otro nodo: {acl[0]}")
            check(not problems, dev["name"] + ("" if not problems else ": " + "; ".join(problems)))
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
