#!/bin/sh
# Issue 4, acceptance 1 (what pkcs11_basic.sh and pkcs11_efirma.sh leave out):
# OpenSC's pkcs11-tool with llavero-pkcs11.so
#   on llavero-vcard (9A persona física, 9C persona moral always-authenticate,
#   9D P-256, 9E P-384; tests/harness/pcsc-ns.sh):
#     -L / -O; --login --sign with RSA-PKCS, SHA1/256/384/512-RSA-PKCS,
#     RSA-PKCS-PSS with SHA-256/384/512, SHA256/384/512-RSA-PKCS-PSS on 9A and
#     9C, ECDSA, ECDSA-SHA256 on 9D and ECDSA, ECDSA-SHA256/384 on 9E, every
#     signature verified by openssl with the certificate; --test and
#     --test-fork; three wrong PINs (CKR_PIN_INCORRECT with "user PIN count
#     low" then "final user PIN try"; the third locks: "user PIN locked", and
#     the right PIN is then CKR_PIN_LOCKED, as the card's 6983); a wrong PUK
#     (CKU_SO) is CKR_PIN_INCORRECT and counts on the card; the PUK unblocks
#     (C_Login(CKU_SO) + C_InitPIN = `--init-pin --login --so-pin`); C_SetPIN
#     logged in and not logged in (`--change-pin`), wrong old PIN counted;
#   on e.firma files (LLAVERO_EFIRMA_DIR, no pcscd):
#     --test and --test-fork with the .key password; C_SetPIN is
#     CKR_TOKEN_WRITE_PROTECTED (the .key is never rewritten).
set -eu

: "${LLAVERO_SRC:?}" "${LLAVERO_BUILD:?}" "${LLAVERO_HARNESS:?}"
. "$LLAVERO_SRC/tests/integration/p11_interop_lib.sh"

# p11 ARGS...: pkcs11-tool on our module, output in $T/out; returns its status
p11() {
    set +e
    timeout 60 pkcs11-tool --module "$P11" "$@" > "$T/out" 2>&1
    rc=$?
    set -e
    [ $rc -ne 124 ] || { cat "$T/out" >&2; fail "pkcs11-tool $* hung (timeout)"; }
    return $rc
}
p11_ok() { p11 "$@" || { cat "$T/out" >&2; fail "pkcs11-tool $* failed"; }; }
# p11_ckr CKR ARGS...: pkcs11-tool must fail with exactly CKR
p11_ckr() {
    want=$1; shift
    if p11 "$@"; then cat "$T/out" >&2; fail "pkcs11-tool $* succeeded, want $want"; fi
    grep -q "rv = $want " "$T/out" || { cat "$T/out" >&2; fail "pkcs11-tool $*: not $want"; }
}
flags() { p11_ok -T; sed -n 's/^ *token flags *: //p' "$T/out"; }
vcard_counters() {
    "$LLAVERO_VCARD" status --state "$LLAVERO_VCARD_STATE" |
        sed -n 's/^\(PIN\|PUK\): \([0-9]\) de.*/\1 \2/p' | tr '\n' ' '
}

# vsign ID MECH IN PUB VERIFY-KIND [pkcs11-tool args]: sign and verify
vsign() {
    id=$1 mech=$2 in=$3 pub=$4 kind=$5
    shift 5
    rm -f "$T/sig"
    p11_ok --login --pin "$CUR_PIN" --sign --id "$id" -m "$mech" -i "$in" -o "$T/sig" "$@"
    [ -s "$T/sig" ] || fail "$mech on $id: no signature"
    case $kind in
        recover)   # RSA-PKCS on a DigestInfo: recover the exact bytes
            openssl pkeyutl -verifyrecover -pubin -inkey "$pub" -in "$T/sig" -out "$T/rec" 2>/dev/null ||
                fail "$mech on $id: openssl cannot recover"
            cmp -s "$T/rec" "$in" || fail "$mech on $id recovers other bytes" ;;
        pss-*)     # RSA-PKCS-PSS on a hash
            h=${kind#pss-}
            openssl pkeyutl -verify -pubin -inkey "$pub" -in "$in" -sigfile "$T/sig" \
                -pkeyopt digest:"$h" -pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:-1 \
                -pkeyopt rsa_mgf1_md:"$h" >/dev/null 2>&1 || fail "$mech ($h) on $id does not verify" ;;
        dgst-*)    # hash-and-sign PKCS#1 v1.5 / ECDSA (DER)
            openssl dgst -"${kind#dgst-}" -verify "$pub" -signature "$T/sig" "$in" >/dev/null 2>&1 ||
                fail "$mech on $id does not verify" ;;
        dgstpss-*)
            openssl dgst -"${kind#dgstpss-}" -verify "$pub" -signature "$T/sig" \
                -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:-1 "$in" >/dev/null 2>&1 ||
                fail "$mech on $id does not verify" ;;
        ecraw)     # ECDSA on a hash, DER signature
            openssl pkeyutl -verify -pubin -inkey "$pub" -in "$in" -sigfile "$T/sig" >/dev/null 2>&1 ||
                fail "$mech on $id does not verify" ;;
    esac
}

# digestinfo HASH FILE: the DER DigestInfo of FILE's HASH
digestinfo() {
    case $1 in
        sha1)   p=3021300906052b0e03021a05000414 ;;
        sha256) p=3031300d060960864801650304020105000420 ;;
        sha384) p=3041300d060960864801650304020205000430 ;;
        sha512) p=3051300d060960864801650304020305000440 ;;
    esac
    { printf '%s' "$p" | xxd -r -p; openssl dgst -"$1" -binary "$2"; }
}

inner() {
    T=$WORK/inner
    mkdir -p "$T"
    . "$FIXDIR/fixtures.env"
    openssl x509 -inform DER -in "$FIX_FISICA_CER" -pubkey -noout > "$T/01.pub"
    openssl x509 -inform DER -in "$FIX_MORAL_CER" -pubkey -noout > "$T/02.pub"
    openssl x509 -inform DER -in "$FIX_EC256_CERT_DER" -pubkey -noout > "$T/03.pub"
    openssl x509 -inform DER -in "$FIX_EC384_CERT_DER" -pubkey -noout > "$T/04.pub"
    printf 'Trámite 2024-0002: declaración anual, firma de prueba\n' > "$T/doc"
    for h in sha1 sha256 sha384 sha512; do
        openssl dgst -"$h" -binary "$T/doc" > "$T/doc.$h"
        digestinfo "$h" "$T/doc" > "$T/doc.di.$h"
    done
    CUR_PIN=$PIN

    p11_ok -L
    grep -q 'token model *: Llavero vcard' "$T/out" || { cat "$T/out" >&2; fail "-L: no vcard token"; }
    p11_ok -O
    [ "$(grep -c 'Certificate Object' "$T/out")" -eq 4 ] || { cat "$T/out" >&2; fail "-O: not 4 certificates"; }
    ok "-L shows the vcard token, -O its 4 certificates"

    for id in 01 02; do
        for h in sha1 sha256 sha384 sha512; do
            vsign $id RSA-PKCS "$T/doc.di.$h" "$T/$id.pub" recover
            H=$(echo $h | tr a-z A-Z)
            vsign $id "$H-RSA-PKCS" "$T/doc" "$T/$id.pub" dgst-$h
            [ $h = sha1 ] && continue
            vsign $id RSA-PKCS-PSS "$T/doc.$h" "$T/$id.pub" pss-$h --hash-algorithm "$H" --mgf "MGF1-$H"
            vsign $id "$H-RSA-PKCS-PSS" "$T/doc" "$T/$id.pub" dgstpss-$h
        done
        ok "key $id: RSA-PKCS (DigestInfo SHA-1/256/384/512), SHA1/256/384/512-RSA-PKCS, RSA-PKCS-PSS and SHA256/384/512-RSA-PKCS-PSS verify"
    done
    vsign 03 ECDSA "$T/doc.sha256" "$T/03.pub" ecraw --signature-format openssl
    vsign 03 ECDSA-SHA256 "$T/doc" "$T/03.pub" dgst-sha256 --signature-format openssl
    vsign 04 ECDSA "$T/doc.sha384" "$T/04.pub" ecraw --signature-format openssl
    vsign 04 ECDSA-SHA256 "$T/doc" "$T/04.pub" dgst-sha256 --signature-format openssl
    vsign 04 ECDSA-SHA384 "$T/doc" "$T/04.pub" dgst-sha384 --signature-format openssl
    p11_ok --login --pin "$PIN" --sign --id 04 -m ECDSA -i "$T/doc.sha384" -o "$T/sig"
    [ "$(wc -c < "$T/sig")" -eq 96 ] || fail "P-384 raw ECDSA signature is not r||s (96 bytes)"
    ok "ECDSA, ECDSA-SHA256 (P-256) and ECDSA, ECDSA-SHA256/384 (P-384) verify; raw form is r||s"

    p11_ok --login --pin "$PIN" --test
    grep -q 'No errors' "$T/out" || { cat "$T/out" >&2; fail "--test reported errors"; }
    p11_ok --login --pin "$PIN" --test-fork
    grep -q 'Calling C_Initialize in forked child' "$T/out" || { cat "$T/out" >&2; fail "--test-fork did not fork"; }
    ok "pkcs11-tool --test (No errors) and --test-fork pass"

    # PIN counter: three wrong PINs
    [ "$(vcard_counters)" = "PIN 3 PUK 3 " ] || fail "fresh counters: $(vcard_counters)"
    p11_ckr CKR_PIN_INCORRECT --login --pin 999999 -O
    case $(flags) in *"user PIN count low"*) ;; *) fail "no 'user PIN count low' after 1 wrong PIN: $(flags)" ;; esac
    p11_ckr CKR_PIN_INCORRECT --login --pin 999999 -O
    case $(flags) in *"final user PIN try"*) ;; *) fail "no 'final user PIN try' after 2 wrong PINs: $(flags)" ;; esac
    # The card answers 63C0 to the third: our module says CKR_PIN_LOCKED,
    # OpenSC's says CKR_PIN_INCORRECT; both are Cryptoki-correct.
    p11 --login --pin 999999 -O && fail "a wrong PIN logged in"
    grep -Eq 'rv = CKR_PIN_(INCORRECT|LOCKED) ' "$T/out" || { cat "$T/out" >&2; fail "third wrong PIN"; }
    third=$(sed -n 's/.*rv = \(CKR_[A-Z_]*\) .*/\1/p' "$T/out")
    case $(flags) in *"user PIN locked"*) ;; *) fail "no 'user PIN locked' after 3 wrong PINs: $(flags)" ;; esac
    [ "$(vcard_counters)" = "PIN 0 PUK 3 " ] || fail "counters after 3 wrong PINs: $(vcard_counters)"
    p11_ckr CKR_PIN_LOCKED --login --pin "$PIN" -O
    p11_ckr CKR_PIN_LOCKED --login --pin "$PIN" --sign --id 01 -m SHA256-RSA-PKCS -i "$T/doc" -o "$T/sig"
    ok "wrong PINs: CKR_PIN_INCORRECT + count low, + final try, third $third + locked; right PIN then CKR_PIN_LOCKED"

    # PUK: a wrong one counts, the right one unblocks through C_InitPIN
    p11_ckr CKR_PIN_INCORRECT --init-pin --login --so-pin 87654321 --new-pin 111111
    [ "$(vcard_counters)" = "PIN 0 PUK 2 " ] || fail "counters after a wrong PUK: $(vcard_counters)"
    case $(flags) in *"SO PIN count low"*) ;; *) fail "no 'SO PIN count low' after a wrong PUK: $(flags)" ;; esac
    p11_ok --init-pin --login --so-pin "$PUK" --new-pin 111111
    [ "$(vcard_counters)" = "PIN 3 PUK 3 " ] || fail "counters after unblock: $(vcard_counters)"
    case $(flags) in *locked*|*"count low"*|*"final"*) fail "PIN flags stay after unblock: $(flags)" ;; esac
    p11_ckr CKR_PIN_INCORRECT --login --pin "$PIN" -O
    CUR_PIN=111111
    vsign 01 SHA256-RSA-PKCS "$T/doc" "$T/01.pub" dgst-sha256
    ok "wrong PUK: CKR_PIN_INCORRECT, PUK 2 left, SO PIN count low; PUK + C_InitPIN unblocks: new PIN signs, old refused"

    # C_SetPIN logged in, then in a public session; a wrong old PIN counts
    p11_ok --login --pin 111111 --change-pin --new-pin 654321
    p11_ckr CKR_PIN_INCORRECT --login --pin 111111 -O
    CUR_PIN=654321
    vsign 02 SHA256-RSA-PKCS "$T/doc" "$T/02.pub" dgst-sha256
    p11_ckr CKR_PIN_INCORRECT --change-pin --pin 000000 --new-pin 222222
    [ "$(vcard_counters)" = "PIN 2 PUK 3 " ] || fail "counters after a wrong old PIN: $(vcard_counters)"
    p11_ok --change-pin --pin 654321 --new-pin "$PIN"
    [ "$(vcard_counters)" = "PIN 3 PUK 3 " ] || fail "counters after C_SetPIN: $(vcard_counters)"
    CUR_PIN=$PIN
    vsign 01 SHA256-RSA-PKCS "$T/doc" "$T/01.pub" dgst-sha256
    ok "C_SetPIN (logged in and public session): new PIN signs, old refused, wrong old PIN counted"
}

if [ "${1:-}" = inner ]; then
    inner
    exit 0
fi

[ -r "$P11" ] || fail "llavero-pkcs11.so not built: $P11"
command -v pkcs11-tool >/dev/null || fail "pkcs11-tool (opensc) is missing"
scratch_dir llavero-p11tool
WORK=$SCRATCH
trap 'exit 130' INT
trap 'exit 143' TERM
p11_fixtures
export WORK FIXDIR P11

# e.firma files, no pcscd
T=$WORK/efirma
mkdir -p "$T"
p11_efirma_dir "$WORK/efdir"
(
    export LLAVERO_EFIRMA_DIR="$WORK/efdir" PCSCLITE_CSOCK_NAME="$WORK/no-pcscd.comm"
    export LLAVERO_PKCS11_CONF="$WORK/empty.conf" XDG_CONFIG_HOME="$WORK/xdg"
    : > "$LLAVERO_PKCS11_CONF"
    tok="e.firma $FIX_FISICA_RFC"
    p11_ok -L
    [ "$(grep -c '^Slot ' "$T/out")" -eq 2 ] || { cat "$T/out" >&2; fail "e.firma: not 2 slots"; }
    p11_ok --token-label "$tok" --login --pin "$FIX_FISICA_PASSWORD" --test
    grep -q 'No errors' "$T/out" || { cat "$T/out" >&2; fail "e.firma --test reported errors"; }
    p11_ok --token-label "$tok" --login --pin "$FIX_FISICA_PASSWORD" --test-fork
    grep -q 'Calling C_Initialize in forked child' "$T/out" || { cat "$T/out" >&2; fail "e.firma --test-fork did not fork"; }
    p11_ok --token-label "e.firma $FIX_MORAL_RFC" --login --pin "$FIX_MORAL_PASSWORD" --test
    grep -q 'No errors' "$T/out" || { cat "$T/out" >&2; fail "e.firma (moral) --test reported errors"; }
    ok "e.firma files: --test (física, moral) and --test-fork pass"
    p11_ckr CKR_TOKEN_WRITE_PROTECTED --token-label "$tok" --login --pin "$FIX_FISICA_PASSWORD" \
        --change-pin --new-pin 87654321x
    cmp -s "$WORK/efdir/fisica.key" "$FIX_FISICA_KEY" || fail "the .key changed"
    p11_ok --token-label "$tok" --login --pin "$FIX_FISICA_PASSWORD" -O
    ok "e.firma files: C_SetPIN is CKR_TOKEN_WRITE_PROTECTED, the .key is untouched"
)

S=$WORK/card.state
p11_provision_card "$S"
ok "card provisioned: 9A física, 9C moral, 9D P-256, 9E P-384"
in_harness "$S" -- sh "$0" inner || fail "vcard checks failed"
echo "PASS: pkcs11_tool"
