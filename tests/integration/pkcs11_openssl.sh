#!/bin/sh
# Issue 4, acceptance 3: OpenSSL through libengine-pkcs11-openssl (libp11's
# pkcs11 engine) with llavero-pkcs11.so, on llavero-vcard (inside
# tests/harness/pcsc-ns.sh: a private network namespace, loopback only) and on
# an e.firma file pair (LLAVERO_EFIRMA_DIR) in the same module:
#   - openssl pkeyutl -engine pkcs11 -keyform engine -inkey "pkcs11:...;
#     type=private" signs with PKCS#1 v1.5 and PSS (9A, 9C always-authenticate,
#     the e.firma key) and ECDSA (9D P-256, 9E P-384), with the module given by
#     an openssl.cnf engine section (MODULE_PATH) and by PKCS11_MODULE_PATH;
#     openssl verifies every signature with the certificate;
#   - TLS client authentication with the card key to `openssl s_server
#     -Verify 1 -CAfile <test CA chain>` on 127.0.0.1: TLS 1.3 (RSA-PSS from
#     9A, ECDSA from 9D, RSA-PSS from the e.firma file) and TLS 1.2 (RSA
#     PKCS#1 v1.5 and RSA-PSS from 9A); the server shows the client
#     certificate's subject, its chain verified, the peer signature type, and
#     the line the client sent.
set -eu

: "${LLAVERO_SRC:?}" "${LLAVERO_BUILD:?}" "${LLAVERO_HARNESS:?}"
. "$LLAVERO_SRC/tests/integration/p11_interop_lib.sh"
ENGINE=${LLAVERO_PKCS11_ENGINE:-}
if [ -z "$ENGINE" ]; then
    ENGINE=$(ls /usr/lib/*/engines-3/pkcs11.so 2>/dev/null | head -n 1 || true)
fi

SP=""
stop_server() {
    [ -n "$SP" ] || return 0
    exec 3>&- 2>/dev/null || true
    kill "$SP" 2>/dev/null || true
    wait "$SP" 2>/dev/null || true
    SP=""
}

# esign KEY-URI IN OUT [pkeyopt...]: openssl pkeyutl -sign through the engine
esign() {
    uri=$1 in=$2 out=$3
    shift 3
    rm -f "$out"
    set -- -engine pkcs11 -keyform engine -inkey "$uri" -sign -in "$in" -out "$out" "$@"
    printf '%s\n' "${ASK_PIN:-}" | timeout 60 openssl pkeyutl "$@" > "$T/out" 2>&1 || { cat "$T/out" >&2; fail "engine sign with $uri failed"; }
    [ -s "$out" ] || fail "engine sign with $uri: no signature"
}

# tls NAME KEY-URI CERT-PEM SIGTYPE CLIENT-FLAGS...: one TLS handshake with
# client authentication through the engine
tls() {
    name=$1 uri=$2 cert=$3 want=$4
    shift 4
    rm -f "$T/fifo" "$T/srv.out" "$T/cli.out"
    mkfifo "$T/fifo"
    openssl s_server -accept 127.0.0.1:8443 -cert "$T/srv.pem" -key "$T/srv.key" \
        -Verify 1 -CAfile "$FIX_CHAIN_PEM" -naccept 1 < "$T/fifo" > "$T/srv.out" 2>&1 &
    SP=$!
    exec 3> "$T/fifo"
    i=0
    until grep -q '^ACCEPT' "$T/srv.out" 2>/dev/null; do
        i=$((i + 1))
        [ $i -lt 100 ] || { cat "$T/srv.out" >&2; fail "s_server did not start"; }
        sleep 0.1
    done
    msg="Llavero $name $$"
    set +e
    (echo "$msg"; sleep 1) | timeout 60 openssl s_client -connect 127.0.0.1:8443 \
        -engine pkcs11 -keyform engine -key "$uri" -cert "$cert" -CAfile "$T/srv.pem" \
        -verify_return_error "$@" > "$T/cli.out" 2>&1
    rc=$?
    set -e
    i=0
    while kill -0 "$SP" 2>/dev/null && ! grep -q "^$msg" "$T/srv.out" && [ $i -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    stop_server
    if [ $rc -ne 0 ] || ! grep -q "^$msg\$" "$T/srv.out"; then
        tail -n 30 "$T/cli.out" >&2; cat "$T/srv.out" >&2
        fail "TLS $name: the server did not get the client's line (s_client $rc)"
    fi
    subj=$(openssl x509 -in "$cert" -noout -subject -nameopt oneline | sed 's/^subject=//')
    grep -Fq "subject=$subj" "$T/srv.out" || { cat "$T/srv.out" >&2; fail "TLS $name: s_server saw no client certificate '$subj'"; }
    [ "$(grep -c '^verify return:1' "$T/srv.out")" -eq 3 ] || { cat "$T/srv.out" >&2; fail "TLS $name: chain not verified"; }
    grep -q "^Peer signature type: $want\$" "$T/srv.out" || { grep 'Peer sig' "$T/srv.out" >&2; fail "TLS $name: not $want"; }
    proto=$(sed -n 's/^ *Protocol *: *//p' "$T/cli.out" | head -n 1)
    ok "TLS $name: s_server verified the client certificate, $want signature from the token ($proto)"
}

inner() {
    T=$WORK/inner
    mkdir -p "$T"
    . "$FIXDIR/fixtures.env"
    trap stop_server EXIT
    cat > "$T/openssl.cnf" <<CNF
openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
dynamic_path = $ENGINE
MODULE_PATH = $P11
init = 0
CNF
    CARD="pkcs11:model=Llavero%20vcard"
    EF="pkcs11:token=e.firma%20$FIX_FISICA_RFC"
    PINQ="pin-value=$PIN"
    EFPINQ="pin-value=$FIX_FISICA_PASSWORD"
    printf 'Trámite 2024-0003: firma con OpenSSL\n' > "$T/doc"
    openssl dgst -sha256 -binary "$T/doc" > "$T/doc.sha256"
    openssl dgst -sha384 -binary "$T/doc" > "$T/doc.sha384"
    for c in FISICA:01 MORAL:02 EC256:03 EC384:04; do
        eval "der=\$FIX_${c%%:*}_CERT_DER"
        openssl x509 -inform DER -in "$der" -pubkey -noout > "$T/${c#*:}.pub"
    done

    # 1. signing with pkcs11: URIs, module from PKCS11_MODULE_PATH
    PKCS11_MODULE_PATH=$P11 OPENSSL_CONF=/dev/null esign "$CARD;id=%01;type=private;$PINQ" \
        "$T/doc.sha256" "$T/sig" -pkeyopt digest:sha256
    openssl pkeyutl -verify -pubin -inkey "$T/01.pub" -in "$T/doc.sha256" -sigfile "$T/sig" \
        -pkeyopt digest:sha256 >/dev/null || fail "9A PKCS#1 (PKCS11_MODULE_PATH) does not verify"
    ok "pkeyutl -engine pkcs11 with PKCS11_MODULE_PATH: 9A PKCS#1 v1.5 SHA-256 verifies"

    # 2. the same through openssl.cnf's engine section, every key
    export OPENSSL_CONF="$T/openssl.cnf"
    # 9C is always-authenticate: libp11 asks its UI for the PIN again
    # (CKU_CONTEXT_SPECIFIC), read from stdin without a terminal
    export ASK_PIN=$PIN
    for id in 01 02; do
        esign "$CARD;id=%$id;type=private;$PINQ" "$T/doc.sha256" "$T/sig" -pkeyopt digest:sha256
        openssl pkeyutl -verify -pubin -inkey "$T/$id.pub" -in "$T/doc.sha256" -sigfile "$T/sig" \
            -pkeyopt digest:sha256 >/dev/null || fail "key $id PKCS#1 does not verify"
        esign "$CARD;id=%$id;type=private;$PINQ" "$T/doc.sha256" "$T/sig" -pkeyopt digest:sha256 \
            -pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:32
        openssl pkeyutl -verify -pubin -inkey "$T/$id.pub" -in "$T/doc.sha256" -sigfile "$T/sig" \
            -pkeyopt digest:sha256 -pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:32 >/dev/null ||
            fail "key $id PSS does not verify"
    done
    unset ASK_PIN
    esign "$CARD;id=%03;type=private;$PINQ" "$T/doc.sha256" "$T/sig"
    openssl pkeyutl -verify -pubin -inkey "$T/03.pub" -in "$T/doc.sha256" -sigfile "$T/sig" >/dev/null ||
        fail "9D ECDSA does not verify"
    esign "$CARD;id=%04;type=private;$PINQ" "$T/doc.sha384" "$T/sig"
    openssl pkeyutl -verify -pubin -inkey "$T/04.pub" -in "$T/doc.sha384" -sigfile "$T/sig" >/dev/null ||
        fail "9E ECDSA does not verify"
    ok "pkeyutl through openssl.cnf (MODULE_PATH): 9A and 9C PKCS#1 and PSS, 9D and 9E ECDSA verify"
    esign "$EF;type=private;$EFPINQ" "$T/doc.sha256" "$T/sig" -pkeyopt digest:sha256 \
        -pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:32
    openssl pkeyutl -verify -pubin -inkey "$T/01.pub" -in "$T/doc.sha256" -sigfile "$T/sig" \
        -pkeyopt digest:sha256 -pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:32 >/dev/null ||
        fail "e.firma PSS does not verify"
    ok "pkeyutl with the e.firma file token (token=e.firma RFC, password as pin-value): PSS verifies"

    # 3. TLS client authentication on loopback
    OPENSSL_CONF=/dev/null openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/srv.key" \
        -out "$T/srv.pem" -subj /CN=127.0.0.1 -days 1 > /dev/null 2>&1 || fail "server certificate"
    tls "1.3 9A" "$CARD;id=%01;type=private;$PINQ" "$FIX_FISICA_CERT_PEM" RSA-PSS -tls1_3
    tls "1.3 9D" "$CARD;id=%03;type=private;$PINQ" "$FIX_EC256_CERT_PEM" ECDSA -tls1_3
    tls "1.2 9A PKCS#1" "$CARD;id=%01;type=private;$PINQ" "$FIX_FISICA_CERT_PEM" RSA -tls1_2 \
        -client_sigalgs RSA+SHA256
    tls "1.2 9A PSS" "$CARD;id=%01;type=private;$PINQ" "$FIX_FISICA_CERT_PEM" RSA-PSS -tls1_2 \
        -client_sigalgs RSA-PSS+SHA256
    tls "1.3 e.firma file" "$EF;type=private;$EFPINQ" "$FIX_FISICA_CERT_PEM" RSA-PSS -tls1_3
}

if [ "${1:-}" = inner ]; then
    inner
    exit 0
fi

[ -r "$P11" ] || fail "llavero-pkcs11.so not built: $P11"
[ -n "$ENGINE" ] && [ -r "$ENGINE" ] || fail "libp11's pkcs11 engine is missing (libengine-pkcs11-openssl: scripts/deps.sh)"
scratch_dir llavero-p11ossl
WORK=$SCRATCH
trap 'exit 130' INT
trap 'exit 143' TERM
p11_fixtures
S=$WORK/card.state
p11_provision_card "$S"
p11_efirma_dir "$WORK/efdir"
LLAVERO_PKCS11_CONF=$WORK/empty.conf
: > "$LLAVERO_PKCS11_CONF"
export WORK FIXDIR P11 ENGINE LLAVERO_PKCS11_CONF LLAVERO_EFIRMA_DIR="$WORK/efdir" XDG_CONFIG_HOME="$WORK/xdg"
ok "card provisioned; e.firma directory with física and moral"
in_harness "$S" -- sh "$0" inner || fail "OpenSSL checks failed"
echo "PASS: pkcs11_openssl"
