#!/bin/sh
# Issue 4, acceptance 4: GnuTLS and python3-pykcs11 with llavero-pkcs11.so.
# Inside tests/harness/pcsc-ns.sh (private mount namespace) the test mounts
# its own p11-kit module directory over p11-kit's (holding only the repo's
# pkcs11/llavero.module, unchanged) and its own module directory over
# p11-kit's module path (llavero-pkcs11.so -> the build's), so p11-kit finds
# the module exactly as an installed one, and nothing else:
#   - p11-kit list-modules shows the module with the vcard token and the
#     e.firma token (p11-kit asks C_GetSlotList(TRUE, list, &n) without a
#     sizing call first);
#   - GnuTLS p11tool --list-all-certs lists the 4 card certificates and the
#     e.firma certificate; --export gives the 9A certificate byte for byte;
#     --test-sign signs and verifies with 9A (RSA), 9D (EC) and the e.firma key;
#   - pkcs11-tool through p11-kit-proxy.so (what Firefox loads) lists both
#     tokens and signs with 9A;
#   - pkcs11_threads.py (/usr/bin/python3, PyKCS11): 8 threads x 200
#     signatures on the e.firma token and 8 threads x 200 on the vcard (9A),
#     PKCS#1 v1.5 and PSS alternating, every signature verified.
set -eu

: "${LLAVERO_SRC:?}" "${LLAVERO_BUILD:?}" "${LLAVERO_HARNESS:?}"
. "$LLAVERO_SRC/tests/integration/p11_interop_lib.sh"
PY=/usr/bin/python3

run() { # run ARGS...: output in $T/out, fails the test on error or timeout
    set +e
    timeout 80 "$@" < /dev/null > "$T/out" 2>&1
    rc=$?
    set -e
    [ $rc -ne 124 ] || { cat "$T/out" >&2; fail "$1 hung (timeout)"; }
    [ $rc -eq 0 ] || { cat "$T/out" >&2; fail "$* failed ($rc)"; }
}

inner() {
    T=$WORK/inner
    mkdir -p "$T/modules" "$T/lib"
    . "$FIXDIR/fixtures.env"
    MODCONF=$(pkg-config --variable p11_module_configs p11-kit-1 2>/dev/null || echo /usr/share/p11-kit/modules)
    MODPATH=$(pkg-config --variable p11_module_path p11-kit-1 2>/dev/null || echo /usr/lib/x86_64-linux-gnu/pkcs11)
    [ -d "$MODCONF" ] && [ -d "$MODPATH" ] || fail "p11-kit directories missing: $MODCONF $MODPATH"
    cp "$LLAVERO_SRC/pkcs11/llavero.module" "$T/modules/"
    ln -s "$P11" "$T/lib/llavero-pkcs11.so"
    mount --bind "$T/modules" "$MODCONF" || fail "cannot mount over $MODCONF"
    mount --bind "$T/lib" "$MODPATH" || fail "cannot mount over $MODPATH"
    PROXY=$(ls /usr/lib/*/p11-kit-proxy.so 2>/dev/null | head -n 1)
    CARD="pkcs11:model=Llavero%20vcard"
    EF="pkcs11:token=e.firma%20$FIX_FISICA_RFC"

    run p11-kit list-modules
    grep -q '^llavero: llavero-pkcs11.so' "$T/out" || { cat "$T/out" >&2; fail "p11-kit does not list the module"; }
    grep -q 'model: Llavero vcard' "$T/out" || { cat "$T/out" >&2; fail "p11-kit list-modules: no vcard token"; }
    grep -q "token: e.firma $FIX_FISICA_RFC" "$T/out" || { cat "$T/out" >&2; fail "p11-kit list-modules: no e.firma token"; }
    [ "$(grep -c '^[a-z0-9-]*: ' "$T/out")" -eq 1 ] || { cat "$T/out" >&2; fail "other modules than ours are configured"; }
    ok "p11-kit list-modules: llavero.module (as shipped) with the vcard and e.firma tokens"

    run p11tool --list-all-certs "$CARD"
    [ "$(grep -c 'Type: X.509 Certificate' "$T/out")" -eq 4 ] || { cat "$T/out" >&2; fail "p11tool: not 4 card certificates"; }
    for l in "$FIX_FISICA_NAME ($FIX_FISICA_RFC)" "$FIX_MORAL_NAME ($FIX_MORAL_RFC)"; do
        grep -Fq "Label: $l" "$T/out" || { cat "$T/out" >&2; fail "p11tool: no certificate '$l'"; }
    done
    grep -q 'X.509 Certificate (EC/ECDSA-SECP256R1)' "$T/out" || { cat "$T/out" >&2; fail "p11tool: no P-256 certificate"; }
    run p11tool --list-all-certs "$EF"
    [ "$(grep -c 'Type: X.509 Certificate (RSA-2048)' "$T/out")" -eq 1 ] || { cat "$T/out" >&2; fail "p11tool: no e.firma certificate"; }
    run p11tool --export "$CARD;id=%01;type=cert" --outder --outfile "$T/9a.der"
    cmp -s "$T/9a.der" "$FIX_FISICA_CER" || fail "p11tool --export: not the 9A certificate byte for byte"
    ok "p11tool --list-all-certs: 4 card certificates and the e.firma one; --export is byte for byte"

    run pkcs11-tool --module "$P11" --token-label "e.firma $FIX_FISICA_RFC" -O --type cert
    efid=$(sed -n 's/^ *ID: *//p' "$T/out" | head -n 1)
    [ -n "$efid" ] || { cat "$T/out" >&2; fail "no CKA_ID on the e.firma certificate"; }
    efuri="$EF;id=$(echo "$efid" | sed 's/../%&/g')"
    run p11tool --login --set-pin="$PIN" --test-sign "$CARD;id=%01;type=private"
    grep -q 'Verifying against public key in the token... ok' "$T/out" || { cat "$T/out" >&2; fail "p11tool --test-sign 9A"; }
    run p11tool --login --set-pin="$PIN" --test-sign "$CARD;id=%03;type=private"
    grep -q 'Verifying against public key in the token... ok' "$T/out" || { cat "$T/out" >&2; fail "p11tool --test-sign 9D"; }
    run p11tool --login --set-pin="$FIX_FISICA_PASSWORD" --test-sign "$efuri;type=private"
    grep -q 'Verifying against public key in the token... ok' "$T/out" || { cat "$T/out" >&2; fail "p11tool --test-sign e.firma"; }
    ok "p11tool --test-sign: 9A (RSA), 9D (EC) and the e.firma key sign and verify"

    if [ -n "$PROXY" ]; then
        run pkcs11-tool --module "$PROXY" -T
        grep -q 'token model *: Llavero vcard' "$T/out" || { cat "$T/out" >&2; fail "p11-kit-proxy: no vcard token"; }
        grep -q "token label *: e.firma $FIX_FISICA_RFC" "$T/out" || { cat "$T/out" >&2; fail "p11-kit-proxy: no e.firma token"; }
        printf 'p11-kit-proxy\n' > "$T/doc"
        run pkcs11-tool --module "$PROXY" --token-label "$(sed -n 's/^ *token label *: *//p' "$T/out" | head -n 1 | sed 's/ *$//')" \
            --login --pin "$PIN" --sign --id 01 -m SHA256-RSA-PKCS -i "$T/doc" -o "$T/sig"
        openssl x509 -inform DER -in "$FIX_FISICA_CER" -pubkey -noout > "$T/pub"
        openssl dgst -sha256 -verify "$T/pub" -signature "$T/sig" "$T/doc" > /dev/null ||
            fail "p11-kit-proxy signature does not verify"
        ok "p11-kit-proxy.so: both tokens listed, 9A signs, openssl verifies"
    else
        fail "p11-kit-proxy.so not found (p11-kit-modules)"
    fi

    run $PY "$LLAVERO_SRC/tests/integration/pkcs11_threads.py" "$P11" "e.firma $FIX_FISICA_RFC" \
        "$FIX_FISICA_PASSWORD" "$efid" "$FIX_FISICA_CER" 8 200
    cat "$T/out"
    label=$(timeout 60 pkcs11-tool --module "$P11" -T 2>/dev/null |
        awk '/token label/ { sub(/^ *token label *: */, ""); l = $0 } /token model *: Llavero vcard/ { print l; exit }' |
        sed 's/ *$//')
    run $PY "$LLAVERO_SRC/tests/integration/pkcs11_threads.py" "$P11" "$label" "$PIN" 01 \
        "$FIX_FISICA_CER" 8 200
    cat "$T/out"
}

if [ "${1:-}" = inner ]; then
    inner
    exit 0
fi

[ -r "$P11" ] || fail "llavero-pkcs11.so not built: $P11"
command -v p11tool >/dev/null || fail "p11tool (gnutls-bin) is missing: scripts/deps.sh"
command -v p11-kit >/dev/null || fail "p11-kit is missing: scripts/deps.sh"
/usr/bin/python3 -c 'import PyKCS11, cryptography' 2>/dev/null || fail "python3-pykcs11 / python3-cryptography missing"
scratch_dir llavero-p11kit
WORK=$SCRATCH
trap 'exit 130' INT
trap 'exit 143' TERM
p11_fixtures
S=$WORK/card.state
p11_provision_card "$S"
mkdir -p "$WORK/efdir"
cp "$FIX_FISICA_CER" "$WORK/efdir/fisica.cer"; cp "$FIX_FISICA_KEY" "$WORK/efdir/fisica.key"
LLAVERO_PKCS11_CONF=$WORK/empty.conf
: > "$LLAVERO_PKCS11_CONF"
export WORK FIXDIR P11 LLAVERO_PKCS11_CONF LLAVERO_EFIRMA_DIR="$WORK/efdir" XDG_CONFIG_HOME="$WORK/xdg"
ok "card provisioned; e.firma directory with física"
in_harness "$S" -- sh "$0" inner || fail "p11-kit / GnuTLS / PyKCS11 checks failed"
echo "PASS: pkcs11_p11kit_pykcs11"
