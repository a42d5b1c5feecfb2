#!/usr/bin/python3
"""strip_section.py IN SECTION OUT: copies a llavero state file (LLVS
container, firmware-test/state/fw_state.c) without one section, recomputing
the SHA-256 trailer. Exit 1 when the section is absent (nothing written)."""
import sys
import hashlib
import struct


def main():
    src, name, dst = sys.argv[1], sys.argv[2].encode(), sys.argv[3]
    d = open(src, "rb").read()
    if d[:4] != b"LLVS" or hashlib.sha256(d[:-32]).digest() != d[-32:]:
        sys.exit("%s: not a valid LLVS state file" % src)
    version, flags, total = struct.unpack_from(">HHI", d, 4)
    kind = d[12:28]
    (n,) = struct.unpack_from(">H", d, 28)
    off = 30
    keep = []
    found = False
    for _ in range(n):
        sname = d[off:off + 16]
        (ln,) = struct.unpack_from(">I", d, off + 16)
        body = d[off + 20:off + 20 + ln]
        off += 20 + ln
        if sname.rstrip(b"\0") == name:
            found = True
        else:
            keep.append((sname, body))
    if not found:
        print("%s: no section %r" % (src, name.decode()), file=sys.stderr)
        sys.exit(1)
    out = b"".join(s + struct.pack(">I", len(b)) + b for s, b in keep)
    head_len = 30
    total = head_len + len(out) + 32
    blob = b"LLVS" + struct.pack(">HHI", version, flags, total) + kind + struct.pack(">H", len(keep)) + out
    open(dst, "wb").write(blob + hashlib.sha256(blob).digest())


if __name__ == "__main__":
    main()
