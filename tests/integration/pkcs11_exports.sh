#!/bin/sh
# llavero-pkcs11.so exports the Cryptoki entry points and nothing else (no
# OpenSSL, pcsclite or common/ symbol can shadow or leak into a host that
# loads several modules): the 68 functions of 2.40 plus the 24 of 3.0.
set -eu
: "${LLAVERO_BUILD:?}"
P11=${LLAVERO_PKCS11:-$LLAVERO_BUILD/pkcs11/llavero-pkcs11.so}
fail() { echo "FAIL: $*" >&2; exit 1; }
syms=$(nm -D --defined-only "$P11" | awk '{print $3}')
other=$(echo "$syms" | grep -v '^C_' || true)
[ -z "$other" ] || fail "exports beyond C_*: $other"
n=$(echo "$syms" | grep -c '^C_')
[ "$n" -eq 92 ] || fail "$n C_* symbols, want 92"
for f in C_GetFunctionList C_GetInterfaceList C_GetInterface C_LoginUser C_SessionCancel; do
    echo "$syms" | grep -qx "$f" || fail "$f is not exported"
done
echo "ok - only the 92 C_* functions are exported"
