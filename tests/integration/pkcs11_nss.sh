#!/bin/sh
# Issue 4, acceptance 2: NSS with llavero-pkcs11.so, on llavero-vcard (in
# tests/harness/pcsc-ns.sh) and on e.firma files (LLAVERO_EFIRMA_DIR) in the
# same module:
#   modutil -add registers the module in a fresh sql: database; modutil -list
#   shows the vcard token; certutil -U lists the vcard token and the e.firma
#   tokens with their pkcs11: URIs; certutil -L -h all lists the 4 card
#   certificates and the 2 e.firma certificates with the labels the module
#   gives ("NAME (RFC)"), and certutil -L -n exports the card certificate byte
#   for byte (with modutil -default -mechanisms FRIENDLY); after login (-f password file) certutil -K lists the 4 card
#   keys and the e.firma key; NSS signs through the module: certutil -R makes
#   a certificate request with the card's RSA key (9A), the always-
#   authenticate 9C key (NSS logs in again, CKU_CONTEXT_SPECIFIC), the P-256
#   key (9D) and the e.firma key, and openssl checks each request's signature
#   and that its public key is the certificate's.
set -eu

: "${LLAVERO_SRC:?}" "${LLAVERO_BUILD:?}" "${LLAVERO_HARNESS:?}"
. "$LLAVERO_SRC/tests/integration/p11_interop_lib.sh"

nss() { # nss TOOL ARGS...: output in $T/out
    set +e
    timeout 60 "$@" < /dev/null > "$T/out" 2>&1
    rc=$?
    set -e
    [ $rc -ne 124 ] || { cat "$T/out" >&2; fail "$1 hung (timeout)"; }
    [ $rc -eq 0 ] || { cat "$T/out" >&2; fail "$* failed ($rc)"; }
}

# csr TOKEN KEYID PWFILE CERT-DER NAME: certutil -R with the token's key,
# then openssl verifies the request and compares its key with the certificate
csr() {
    rm -f "$T/req.pem"
    nss certutil -R -d "sql:$DB" -h "$1" -k "$2" -f "$3" -s "CN=Llavero NSS $5" -Z SHA256 \
        -a -o "$T/req.pem"
    openssl req -in "$T/req.pem" -verify -noout > "$T/v" 2>&1 ||
        { cat "$T/v" >&2; fail "the $5 request's signature does not verify"; }
    openssl req -in "$T/req.pem" -pubkey -noout > "$T/req.pub"
    openssl x509 -inform DER -in "$4" -pubkey -noout > "$T/cert.pub"
    cmp -s "$T/req.pub" "$T/cert.pub" || fail "the $5 request's key is not the certificate's"
}

inner() {
    T=$WORK/inner
    DB=$WORK/nssdb
    mkdir -p "$T" "$DB"
    . "$FIXDIR/fixtures.env"
    printf '%s\n' "$PIN" > "$T/pin"
    printf '%s\n' "$FIX_FISICA_PASSWORD" > "$T/efpw"
    # The card's token label, as the module makes it to fit 32 bytes
    CARD=$(timeout 60 pkcs11-tool --module "$P11" -T 2>/dev/null |
        awk '/token label/ { sub(/^ *token label *: */, ""); l = $0 } /token model *: Llavero vcard/ { print l; exit }' |
        sed 's/ *$//')
    case $CARD in *"($FIX_FISICA_RFC"*) ;; *) fail "no vcard token with the RFC in its label: '$CARD'" ;; esac
    EF="e.firma $FIX_FISICA_RFC"

    nss certutil -N -d "sql:$DB" --empty-password
    nss modutil -dbdir "sql:$DB" -add llavero -libfile "$P11" -force
    grep -q 'Module "llavero" added' "$T/out" || { cat "$T/out" >&2; fail "modutil -add"; }
    # -list exits 32 because the harness's second vpcd slot is empty
    # (C_GetTokenInfo: CKR_TOKEN_NOT_PRESENT, the same with OpenSC's module)
    timeout 60 modutil -dbdir "sql:$DB" -list llavero < /dev/null > "$T/out" 2>&1 || true
    grep -q "Library file: $P11" "$T/out" || { cat "$T/out" >&2; fail "modutil -list: no library"; }
    grep -q 'Token Model: Llavero vcard' "$T/out" || { cat "$T/out" >&2; fail "modutil -list: no vcard token"; }
    ok "modutil -add registers the module; -list shows the vcard token"

    nss certutil -U -d "sql:$DB"
    for tok in "$CARD" "$EF" "e.firma $FIX_MORAL_RFC"; do
        grep -Fq "token: $tok" "$T/out" || { cat "$T/out" >&2; fail "certutil -U: no token '$tok'"; }
    done
    grep -q 'uri: pkcs11:token=.*model=Llavero%20vcard' "$T/out" || { cat "$T/out" >&2; fail "certutil -U: no vcard URI"; }
    ok "certutil -U lists the vcard token and the two e.firma tokens"

    nss certutil -L -d "sql:$DB" -h all
    for c in "$CARD:$FIX_FISICA_NAME ($FIX_FISICA_RFC)" "$CARD:$FIX_MORAL_NAME ($FIX_MORAL_RFC)" \
             "$CARD:PRUEBA PIV EC P-256" "$CARD:PRUEBA PIV EC P-384" \
             "$EF:$FIX_FISICA_NAME ($FIX_FISICA_RFC)" "e.firma $FIX_MORAL_RFC:$FIX_MORAL_NAME ($FIX_MORAL_RFC)"; do
        grep -Fq "$c" "$T/out" || { cat "$T/out" >&2; fail "certutil -L: no '$c'"; }
    done
    # Certificates by nickname without a login: NSS must be told that the
    # token's certificates are public (the FRIENDLY flag; OpenSC's docs say the same)
    nss modutil -dbdir "sql:$DB" -default llavero -mechanisms FRIENDLY -force
    nss certutil -L -d "sql:$DB" -n "$CARD:$FIX_FISICA_NAME ($FIX_FISICA_RFC)" -r
    cmp -s "$T/out" "$FIX_FISICA_CER" || fail "certutil -L -r: not the 9A certificate byte for byte"
    ok "certutil -L -h all lists the 4 card and 2 e.firma certificates; 9A exports byte for byte"

    nss certutil -K -d "sql:$DB" -h "$CARD" -f "$T/pin"
    [ "$(grep -Ec '^< *[0-9]> (rsa|ec) ' "$T/out")" -eq 4 ] || { cat "$T/out" >&2; fail "certutil -K: not 4 card keys"; }
    nss certutil -K -d "sql:$DB" -h "$EF" -f "$T/efpw"
    grep -Eq '^< *0> rsa ' "$T/out" || { cat "$T/out" >&2; fail "certutil -K: no e.firma key"; }
    ok "certutil -K after login: 4 card keys, the e.firma key"

    csr "$CARD" 01 "$T/pin" "$FIX_FISICA_CER" "9A"
    csr "$CARD" 02 "$T/pin" "$FIX_MORAL_CER" "9C"
    csr "$CARD" 03 "$T/pin" "$FIX_EC256_CERT_DER" "9D"
    nss certutil -K -d "sql:$DB" -h "$EF" -f "$T/efpw"
    efid=$(sed -n 's/^< *0> rsa *\([0-9a-f]*\).*/\1/p' "$T/out")
    [ -n "$efid" ] || { cat "$T/out" >&2; fail "no e.firma key id"; }
    csr "$EF" "$efid" "$T/efpw" "$FIX_FISICA_CER" "e.firma"
    ok "NSS signs certificate requests with 9A, 9C (always-authenticate), 9D and the e.firma key; openssl verifies"
}

if [ "${1:-}" = inner ]; then
    inner
    exit 0
fi

[ -r "$P11" ] || fail "llavero-pkcs11.so not built: $P11"
command -v certutil >/dev/null && command -v modutil >/dev/null ||
    fail "certutil/modutil (libnss3-tools) are missing: scripts/deps.sh"
scratch_dir llavero-p11nss
WORK=$SCRATCH
trap 'exit 130' INT
trap 'exit 143' TERM
p11_fixtures
S=$WORK/card.state
p11_provision_card "$S"
p11_efirma_dir "$WORK/efdir"
LLAVERO_PKCS11_CONF=$WORK/empty.conf
: > "$LLAVERO_PKCS11_CONF"
export WORK FIXDIR P11 LLAVERO_PKCS11_CONF LLAVERO_EFIRMA_DIR="$WORK/efdir" XDG_CONFIG_HOME="$WORK/xdg"
ok "card provisioned; e.firma directory with física and moral"
in_harness "$S" -- sh "$0" inner || fail "NSS checks failed"
echo "PASS: pkcs11_nss"
