#!/bin/sh
# llavero-pkcs11.so's e.firma soft token through OpenSC's pkcs11-tool, with
# no pcscd reachable (file slots only), on a directory of generated pairs
# (fisica, moral, CSD, expired, a SAT-style "Claveprivada_FIEL_RFC_....key"
# name, a truncated .key, a mismatched pair) plus a copy of SAT's test e.firma
# (fiel-EKU9003173C9, password 12345678a) when $LLAVERO_SAT_DIR has it:
#   -L lists one slot per pair (token labels "e.firma RFC" / "CSD RFC"),
#   -O shows the certificate and public key before login, the private key
#   after; the certificate reads back byte for byte; login with the .key's
#   password signs with every RSA mechanism and openssl verifies with the
#   .cer; a wrong password is CKR_PIN_INCORRECT (and no counter: the right
#   password still works after many wrong ones); a damaged .key or a key that
#   is not the certificate's is CKR_DEVICE_ERROR, never PIN_INCORRECT;
#   one long-lived python3-pykcs11 client: rescans on C_GetSlotList(NULL) are
#   throttled (an unusable file is reported once), a pair copied in appears,
#   CKF_WRITE_PROTECTED and C_SetPIN = CKR_TOKEN_WRITE_PROTECTED.
set -eu

: "${LLAVERO_BUILD:?}" "${LLAVERO_SRC:?}"
MODULE=${LLAVERO_PKCS11_MODULE:-$LLAVERO_BUILD/pkcs11/llavero-pkcs11.so}
SAT=${LLAVERO_SAT_DIR:-$LLAVERO_SRC/../shared/testdata/sat}

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }

[ -f "$MODULE" ] || fail "no module at $MODULE"
command -v pkcs11-tool >/dev/null || fail "pkcs11-tool (opensc) is not installed"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pkcs11-efirma.XXXXXX")
trap 'rm -rf "$WORK"' EXIT INT TERM

sh "$LLAVERO_SRC/tests/fixtures/gen-fixtures.sh" "$LLAVERO_BUILD/fixtures" >/dev/null
. "$LLAVERO_BUILD/fixtures/fixtures.env"

# No pcscd: point pcsc-lite's client at a socket that does not exist.
export PCSCLITE_CSOCK_NAME="$WORK/no-pcscd.comm"
# Nothing from the machine's or the user's configuration.
export LLAVERO_PKCS11_CONF="$WORK/empty.conf" XDG_CONFIG_HOME="$WORK/xdg"
: >"$LLAVERO_PKCS11_CONF"

D=$WORK/efirma
mkdir "$D" "$WORK/bad"
cp "$FIX_FISICA_CER" "$D/fisica.cer"; cp "$FIX_FISICA_KEY" "$D/fisica.key"
cp "$FIX_MORAL_CER" "$D/moral.cer";   cp "$FIX_MORAL_KEY" "$D/moral.key"
cp "$FIX_CSD_CER" "$D/csd.cer";       cp "$FIX_CSD_KEY" "$D/csd.key"
# SAT's download names: the .key does not share the .cer's name.
cp "$FIX_EXPIRED_CER" "$D/00001000000900000004.cer"
cp "$FIX_EXPIRED_KEY" "$D/Claveprivada_FIEL_${FIX_EXPIRED_RFC}_20200101_000000.key"
# Broken pairs, in a second directory (LLAVERO_EFIRMA_DIR is a ':' list).
cp "$FIX_FISICA_CER" "$WORK/bad/truncated.cer"
head -c 600 "$FIX_FISICA_KEY" >"$WORK/bad/truncated.key"
cp "$FIX_FISICA_CER" "$WORK/bad/mismatch.cer"
cp "$FIX_MORAL_KEY" "$WORK/bad/mismatch.key"
HAVE_SAT=0
if [ -f "$SAT/fiel-EKU9003173C9/EKU9003173C9.cer" ]; then
    cp "$SAT/fiel-EKU9003173C9/EKU9003173C9.cer" "$SAT/fiel-EKU9003173C9/EKU9003173C9.key" "$D/"
    HAVE_SAT=1
else
    echo "SKIPPED (loudly): SAT test e.firma not found in $SAT; generated pairs only" >&2
fi
export LLAVERO_EFIRMA_DIR="$D:$WORK/bad"

p11() { timeout 60 pkcs11-tool --module "$MODULE" "$@"; }

# ---- slots --------------------------------------------------------------------
p11 -L >"$WORK/slots" 2>&1 || { cat "$WORK/slots" >&2; fail "pkcs11-tool -L"; }
for label in "e.firma $FIX_FISICA_RFC" "e.firma $FIX_MORAL_RFC" "CSD $FIX_CSD_RFC" \
    "e.firma $FIX_EXPIRED_RFC"; do
    grep -q "token label *: $label\$" "$WORK/slots" ||
        { cat "$WORK/slots" >&2; fail "no token labelled '$label'"; }
done
want=$((6 + HAVE_SAT))
n=$(grep -c '^Slot ' "$WORK/slots")
[ "$n" -eq "$want" ] || { cat "$WORK/slots" >&2; fail "$n slots, expected $want"; }
grep -q 'login required' "$WORK/slots" || fail "tokens do not require login"
if grep -Eq 'PIN count low|final PIN try|PIN locked' "$WORK/slots"; then
    fail "a file token reports PIN counter flags"
fi
ok "-L: one slot per pair ($n), e.firma and CSD labelled, no pcscd"

T="e.firma $FIX_FISICA_RFC"
# ---- objects ------------------------------------------------------------------
p11 --token-label "$T" -O >"$WORK/objs" 2>&1 || { cat "$WORK/objs" >&2; fail "-O"; }
grep -q "label: *$FIX_FISICA_NAME ($FIX_FISICA_RFC)" "$WORK/objs" ||
    { cat "$WORK/objs" >&2; fail "certificate label is not 'NAME (RFC)'"; }
grep -q 'Certificate Object' "$WORK/objs" || fail "no certificate before login"
grep -q 'Public Key Object' "$WORK/objs" || fail "no public key before login"
grep -q 'Private Key Object' "$WORK/objs" && fail "private key visible before login"
ID=$(sed -n 's/^ *ID: *\([0-9a-f]*\)$/\1/p' "$WORK/objs" | head -n 1)
[ -n "$ID" ] || fail "no CKA_ID"
p11 --token-label "$T" --login --pin "$FIX_FISICA_PASSWORD" -O >"$WORK/objs2" 2>&1 ||
    { cat "$WORK/objs2" >&2; fail "-O after login"; }
grep -A3 'Private Key Object' "$WORK/objs2" | grep -q "$ID" ||
    { cat "$WORK/objs2" >&2; fail "no private key with the certificate's CKA_ID after login"; }
p11 --token-label "$T" --read-object --type cert --id "$ID" -o "$WORK/cert.der" >/dev/null 2>&1 ||
    fail "cannot read the certificate"
cmp -s "$WORK/cert.der" "$FIX_FISICA_CER" || fail "CKA_VALUE is not the .cer byte for byte"
p11 --token-label "CSD $FIX_CSD_RFC" -O 2>&1 | grep -q 'label: *CSD: ' ||
    fail "the CSD certificate's label does not start with 'CSD: '"
ok "-O: certificate (byte for byte) and public key public, private key after login, CSD marked"

# ---- signatures -------------------------------------------------------------------
openssl x509 -inform DER -in "$FIX_FISICA_CER" -pubkey -noout >"$WORK/pub.pem"
printf '||1.1|%s|cadena original de prueba||' "$FIX_FISICA_RFC" >"$WORK/doc"
sign() { # TOKEN PASSWORD MECH IN OUT
    p11 --token-label "$1" --login --pin "$2" --sign -m "$3" -i "$4" -o "$5" >"$WORK/sign.out" 2>&1 ||
        { cat "$WORK/sign.out" >&2; fail "$3 signing on '$1'"; }
}
for h in sha1 sha256 sha384 sha512; do
    H=$(echo "$h" | tr '[:lower:]' '[:upper:]')
    sign "$T" "$FIX_FISICA_PASSWORD" "$H-RSA-PKCS" "$WORK/doc" "$WORK/sig"
    openssl dgst -"$h" -verify "$WORK/pub.pem" -signature "$WORK/sig" "$WORK/doc" >/dev/null ||
        fail "$H-RSA-PKCS signature does not verify"
    [ "$h" = sha1 ] && continue
    sign "$T" "$FIX_FISICA_PASSWORD" "$H-RSA-PKCS-PSS" "$WORK/doc" "$WORK/sig"
    openssl dgst -"$h" -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:-2 \
        -verify "$WORK/pub.pem" -signature "$WORK/sig" "$WORK/doc" >/dev/null ||
        fail "$H-RSA-PKCS-PSS signature does not verify"
done
# RSA-PKCS on a DigestInfo and RSA-PKCS-PSS on a hash (TLS 1.3 client auth).
openssl dgst -sha256 -binary "$WORK/doc" >"$WORK/hash"
sign "$T" "$FIX_FISICA_PASSWORD" RSA-PKCS "$WORK/hash" "$WORK/sig"
openssl pkeyutl -verifyrecover -pubin -inkey "$WORK/pub.pem" -in "$WORK/sig" -out "$WORK/rec" ||
    fail "RSA-PKCS signature does not verify"
cmp -s "$WORK/rec" "$WORK/hash" || fail "RSA-PKCS signature recovers other data"
p11 --token-label "$T" --login --pin "$FIX_FISICA_PASSWORD" --sign -m RSA-PKCS-PSS \
    --mgf MGF1-SHA256 --hash-algorithm SHA256 -i "$WORK/hash" -o "$WORK/sig" >/dev/null 2>&1 ||
    fail "RSA-PKCS-PSS signing"
openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:-2 \
    -verify "$WORK/pub.pem" -signature "$WORK/sig" "$WORK/doc" >/dev/null ||
    fail "RSA-PKCS-PSS signature does not verify"
ok "login with the .key password; SHA1/256/384/512-RSA-PKCS, SHA2-RSA-PKCS-PSS, RSA-PKCS, RSA-PKCS-PSS verify with the .cer"

# The other generated identities: moral, CSD, expired (SAT-named .key).
for who in MORAL CSD EXPIRED; do
    eval "cer=\$FIX_${who}_CER pass=\$FIX_${who}_PASSWORD rfc=\$FIX_${who}_RFC"
    label="e.firma $rfc"
    [ "$who" = CSD ] && label="CSD $rfc"
    sign "$label" "$pass" SHA256-RSA-PKCS "$WORK/doc" "$WORK/sig"
    openssl x509 -inform DER -in "$cer" -pubkey -noout >"$WORK/pub2.pem"
    openssl dgst -sha256 -verify "$WORK/pub2.pem" -signature "$WORK/sig" "$WORK/doc" >/dev/null ||
        fail "$who signature does not verify"
done
ok "persona moral, CSD and the expired e.firma (SAT-style .key name) sign and verify"

# ---- wrong passwords, damaged files -------------------------------------------
i=0
while [ $i -lt 5 ]; do
    i=$((i + 1))
    if p11 --token-label "$T" --login --pin "12345678b" -O >"$WORK/wrong" 2>&1; then
        fail "a wrong password logged in"
    fi
    grep -q CKR_PIN_INCORRECT "$WORK/wrong" || { cat "$WORK/wrong" >&2; fail "wrong password is not CKR_PIN_INCORRECT"; }
done
p11 -L 2>&1 | grep -Eq 'PIN count low|final PIN try|PIN locked' && fail "counter flags after wrong passwords"
sign "$T" "$FIX_FISICA_PASSWORD" SHA256-RSA-PKCS "$WORK/doc" "$WORK/sig"
ok "wrong password: CKR_PIN_INCORRECT, no counter, the right one still works"

# The broken pairs are reported as broken, not as a wrong password.
for tok in truncated mismatch; do
    slot=$(awk -v f="e.firma file $tok.cer" 'index($0, f) { sub(/^Slot /, ""); sub(/ .*/, ""); print; exit }' "$WORK/slots")
    [ -n "$slot" ] || { cat "$WORK/slots" >&2; fail "no slot for $tok.cer"; }
    pass=$FIX_FISICA_PASSWORD
    [ "$tok" = mismatch ] && pass=$FIX_MORAL_PASSWORD
    if p11 --slot "$slot" --login --pin "$pass" -O >"$WORK/broken" 2>&1; then
        fail "$tok pair logged in"
    fi
    grep -q CKR_DEVICE_ERROR "$WORK/broken" || { cat "$WORK/broken" >&2; fail "$tok pair: not CKR_DEVICE_ERROR"; }
done
ok "truncated .key and mismatched pair: CKR_DEVICE_ERROR (not PIN_INCORRECT)"

# ---- SAT's test e.firma ------------------------------------------------------------
if [ "$HAVE_SAT" = 1 ]; then
    sign "e.firma EKU9003173C9" 12345678a SHA256-RSA-PKCS "$WORK/doc" "$WORK/sig"
    openssl x509 -inform DER -in "$D/EKU9003173C9.cer" -pubkey -noout >"$WORK/satpub.pem"
    openssl dgst -sha256 -verify "$WORK/satpub.pem" -signature "$WORK/sig" "$WORK/doc" >/dev/null ||
        fail "SAT e.firma signature does not verify"
    sign "e.firma EKU9003173C9" 12345678a SHA256-RSA-PKCS-PSS "$WORK/doc" "$WORK/sig"
    openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:-2 \
        -verify "$WORK/satpub.pem" -signature "$WORK/sig" "$WORK/doc" >/dev/null ||
        fail "SAT e.firma PSS signature does not verify"
    # PKCS#1 v1.5 is deterministic: the same bytes as the .key in software.
    openssl pkcs8 -inform DER -in "$D/EKU9003173C9.key" -passin pass:12345678a -out "$WORK/sat.pem"
    sign "e.firma EKU9003173C9" 12345678a SHA256-RSA-PKCS "$WORK/doc" "$WORK/sig"
    openssl dgst -sha256 -sign "$WORK/sat.pem" -out "$WORK/sig.ref" "$WORK/doc"
    cmp -s "$WORK/sig" "$WORK/sig.ref" || fail "SAT signature differs from OpenSSL's with the .key"
    ok "SAT test e.firma EKU9003173C9: signs (PKCS#1 v1.5 and PSS), verifies with its .cer"
else
    echo "SKIPPED (loudly): SAT e.firma part; put SAT's files in $SAT" >&2
fi
# ---- one long-lived client: throttled rescans, write protection ---------------
# python3-pykcs11 (C_Initialize once) calls C_GetSlotList(NULL) many times on a
# directory with a good pair and an unusable .cer: the warning about that file
# comes once, not once per call; a pair copied in later gets a slot on the
# next C_GetSlotList(NULL) and the first slot keeps its ID; the tokens say
# CKF_WRITE_PROTECTED and C_SetPIN is CKR_TOKEN_WRITE_PROTECTED.
if /usr/bin/python3 -c 'import PyKCS11' 2>/dev/null; then
    E=$WORK/rescan
    mkdir "$E"
    cp "$FIX_FISICA_CER" "$E/fisica.cer"; cp "$FIX_FISICA_KEY" "$E/fisica.key"
    printf 'not a certificate' >"$E/garbage.cer"; cp "$FIX_MORAL_KEY" "$E/garbage.key"
    touch -d '1 minute ago' "$E"/* "$E"
    sleep 2.2   # older than the settle time (ctime cannot be set back)
    cat >"$WORK/rescan.py" <<'PY'
import shutil, sys, PyKCS11
module, d, cer, key, rfc = sys.argv[1:6]
lib = PyKCS11.PyKCS11Lib()
lib.load(module)
def labels():
    return {s: lib.getTokenInfo(s).label.strip() for s in lib.getSlotList()}
first = labels()
assert list(first.values()) == ["e.firma " + rfc] or len(first) == 1, first
for _ in range(30):
    assert labels() == first, "slots changed with nothing changed"
(slot,) = first
ti = lib.getTokenInfo(slot)
assert ti.flags & PyKCS11.CKF_WRITE_PROTECTED, "no CKF_WRITE_PROTECTED"
s = lib.openSession(slot, PyKCS11.CKF_SERIAL_SESSION | PyKCS11.CKF_RW_SESSION)
try:
    s.setPin("x", "y")
    raise SystemExit("C_SetPIN worked")
except PyKCS11.PyKCS11Error as e:
    assert e.value == PyKCS11.CKR_TOKEN_WRITE_PROTECTED, e
s.closeSession()
shutil.copy(cer, d + "/nuevo.cer")
shutil.copy(key, d + "/nuevo.key")
now = labels()
assert len(now) == 2 and now[slot] == first[slot], now
for _ in range(30):
    assert labels() == now
print("slots", len(first), len(now))
PY
    LLAVERO_LOG=info LLAVERO_EFIRMA_DIR=$E timeout 60 /usr/bin/python3 "$WORK/rescan.py" "$MODULE" \
        "$E" "$FIX_MORAL_CER" "$FIX_MORAL_KEY" "$FIX_FISICA_RFC" >"$WORK/rescan.out" 2>"$WORK/rescan.err" ||
        { cat "$WORK/rescan.out" "$WORK/rescan.err" >&2; fail "long-lived client on a changing directory"; }
    grep -q '^slots 1 2$' "$WORK/rescan.out" || { cat "$WORK/rescan.out" >&2; fail "slots"; }
    nw=$(grep -c 'garbage.cer' "$WORK/rescan.err" || true)
    [ "$nw" -eq 1 ] || { cat "$WORK/rescan.err" >&2; fail "garbage.cer reported $nw times, want once"; }
    ok "62 C_GetSlotList(NULL) in one process: the unusable .cer reported once; a pair copied in gets a new slot, the first keeps its ID; CKF_WRITE_PROTECTED, C_SetPIN CKR_TOKEN_WRITE_PROTECTED"
else
    echo "SKIPPED (loudly): python3-pykcs11 missing; rescan checks not run" >&2
fi
echo "pkcs11_efirma: all checks passed"
