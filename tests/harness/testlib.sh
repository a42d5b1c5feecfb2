# testlib.sh: helpers shared by the integration tests (tests/integration/*.sh).
# Sourced, not run:   . "$LLAVERO_HARNESS/testlib.sh"
# It only defines functions; a test keeps its own paths (VCARD, VKEY ...), its
# checks and its signal traps. A test that defines a function of the same
# name after sourcing this file replaces it for itself.
#
#   fail MSG...          prints "FAIL: MSG" on stderr and exits 1. TL_FAIL_WORD
#                        replaces "FAIL" (FALLA in the Spanish tests); when
#                        TL_FAIL_LOG names a file, its last TL_FAIL_LINES
#                        (default 30) lines follow on stderr.
#   ok MSG...            prints "ok - MSG"
#   scratch_dir NAME     SCRATCH = a new directory ${TMPDIR:-/tmp}/NAME.XXXXXX;
#                        on exit (EXIT trap) the tracked processes are stopped
#                        and SCRATCH is removed. The exit status is kept.
#   track_pid PID        on exit, kill PID (SIGTERM, by PID) and wait for it
#   stop_pid PID         kill PID (SIGTERM) now, wait for it, stop tracking it;
#                        returns kill's status (non-zero: PID was gone)
#   wait_for CMD TIMEOUT bounded wait: evaluates the shell command string CMD
#                        (single-quote it: it is expanded at each try) every
#                        0.1 s, TIMEOUT*10 tries; 0 as soon as CMD succeeds,
#                        1 when TIMEOUT seconds pass without success
#   gen_fixtures         FIXDIR = ${LLAVERO_FIXTURES_DIR:-$LLAVERO_BUILD/fixtures}:
#                        tests/fixtures/gen-fixtures.sh FIXDIR (shared by the
#                        tests: the generator locks and skips complete
#                        directories), then sources FIXDIR/fixtures.env
#   vcard_init STATE [ARG...]
#                        "$VCARD" init --state STATE ARG... (e.g. --pin P)
#   vcard_provision STATE SLOT:ID...
#                        puts fixture identities into slots of STATE with
#                        "$VCARD" provision (needs gen_fixtures first). ID:
#                          fisica, moral  --efirma .cer .key --password-file
#                          ec256          --cert DER --key PEM (unencrypted)
#                          ec384          --cert DER --key .key --password-file
#   With P11 (a PKCS#11 module), T (a scratch directory) and PIN set:
#   p11 ARG...           pkcs11-tool --module "$P11" ARG..., bounded by
#                        timeout ${P11_TIMEOUT:-60}; its stdout+stderr in $T/p11.out
#   p11_sign ID MECH IN OUT [ARG...]
#                        p11 --login --pin "$PIN" --sign --id ID --mechanism
#                        MECH ...; fails (showing $T/p11.out) when it fails or
#                        writes no signature
#   p11_sign_inputs      $T/9a.pub $T/9c.pub $T/9d.pub $T/9e.pub: the public keys
#                        of fisica, moral, ec256, ec384 (the slots of
#                        vcard_provision 9a:fisica 9c:moral 9d:ec256 9e:ec384);
#                        $T/doc and its digests $T/doc.sha256, $T/doc.sha384
#   pcsc_ns STATE [OPTION...] -- CMD...
#                        CMD under tests/harness/pcsc-ns.sh with the card
#                        state STATE and LLAVERO_VCARD=$VCARD; OPTIONs are
#                        pcsc-ns.sh's (--log DIR, --verbose, --port P ...)
#   Inside pcsc-ns.sh (they use its LLAVERO_* variables):
#   card_state yes|no    waits (10 s) until reader 0 shows the card (yes) or
#                        an empty slot (no); on timeout prints opensc-tool -l
#                        on stderr and returns 1
#   card_ready           card_state yes, then waits (10 s) until the card
#                        answers a connect (opensc-tool -a on $LLAVERO_READER);
#                        pcscd says "present" a moment before it powers it up
#   vcard_start          starts "$LLAVERO_VCARD" run again in the background on
#                        the harness's state and port, appending to its
#                        vcard.log; VPID = its PID (the caller waits for it)
#   llavero-vkey:
#   start_vkey STATE SOCKET LOG [ARG...]
#                        "$VKEY" run --state STATE --socket SOCKET ARG... 2>LOG
#                        in the background; VKEY_PID = its PID, tracked; waits
#                        (10 s) for SOCKET and the control socket STATE.ctl,
#                        fails (in Spanish) if it exits first or they never
#                        appear

fail() {
    echo "${TL_FAIL_WORD:-FAIL}: $*" >&2
    if [ -n "${TL_FAIL_LOG:-}" ] && [ -f "$TL_FAIL_LOG" ]; then
        tail -n "${TL_FAIL_LINES:-30}" "$TL_FAIL_LOG" >&2
    fi
    exit 1
}

ok() { echo "ok - $*"; }

TL_PIDS=""

track_pid() { TL_PIDS="$TL_PIDS $1"; }

stop_pid() {
    kill "$1" || return
    wait "$1" 2>/dev/null || true
    _tl_keep=""
    for _tl_p in $TL_PIDS; do
        [ "$_tl_p" = "$1" ] || _tl_keep="$_tl_keep $_tl_p"
    done
    TL_PIDS=$_tl_keep
}

_tl_cleanup() {
    for _tl_p in $TL_PIDS; do
        kill "$_tl_p" 2>/dev/null || true
        wait "$_tl_p" 2>/dev/null || true
    done
    TL_PIDS=""
    [ -z "${SCRATCH:-}" ] || rm -rf "$SCRATCH"
}

scratch_dir() {
    SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") ||
        { echo "$0: cannot create a scratch directory" >&2; exit 1; }
    trap _tl_cleanup EXIT
}

# The helpers below wait through _tl_wait_for, so that a test's own wait_for
# (with other arguments) does not change them.
_tl_wait_for() {
    _tl_n=$(($2 * 10))
    _tl_i=0
    while [ "$_tl_i" -lt "$_tl_n" ]; do
        eval "$1" && return 0
        sleep 0.1
        _tl_i=$((_tl_i + 1))
    done
    return 1
}

wait_for() { _tl_wait_for "$@"; }

gen_fixtures() {
    FIXDIR=${LLAVERO_FIXTURES_DIR:-$LLAVERO_BUILD/fixtures}
    sh "$LLAVERO_SRC/tests/fixtures/gen-fixtures.sh" "$FIXDIR" >/dev/null || fail "fixture generation failed"
    # shellcheck disable=SC1091
    . "$FIXDIR/fixtures.env"
}

vcard_init() {
    _tl_st=$1
    shift
    "$VCARD" init --state "$_tl_st" "$@" >/dev/null || fail "init failed"
}

vcard_provision() {
    _tl_st=$1
    shift
    for _tl_spec in "$@"; do
        _tl_slot=${_tl_spec%%:*}
        case ${_tl_spec#*:} in
            fisica) "$VCARD" provision --state "$_tl_st" --efirma "$FIX_FISICA_CER" "$FIX_FISICA_KEY" \
                        --password-file "$FIX_FISICA_PASS_FILE" --slot "$_tl_slot" >/dev/null ;;
            moral) "$VCARD" provision --state "$_tl_st" --efirma "$FIX_MORAL_CER" "$FIX_MORAL_KEY" \
                        --password-file "$FIX_MORAL_PASS_FILE" --slot "$_tl_slot" >/dev/null ;;
            ec256) "$VCARD" provision --state "$_tl_st" --cert "$FIX_EC256_CERT_DER" --key "$FIX_EC256_KEY_PEM" \
                        --slot "$_tl_slot" >/dev/null ;;
            ec384) "$VCARD" provision --state "$_tl_st" --cert "$FIX_EC384_CERT_DER" --key "$FIX_EC384_KEY" \
                        --password-file "$FIX_EC384_PASS_FILE" --slot "$_tl_slot" >/dev/null ;;
            *) fail "vcard_provision: unknown identity in '$_tl_spec'" ;;
        esac || fail "provision $_tl_slot failed"
    done
}

p11() {
    timeout "${P11_TIMEOUT:-60}" pkcs11-tool --module "$P11" "$@" > "$T/p11.out" 2>&1
}

p11_sign() {
    _tl_id=$1 _tl_mech=$2 _tl_in=$3 _tl_out=$4
    shift 4
    rm -f "$_tl_out"
    p11 --login --pin "$PIN" --sign --id "$_tl_id" --mechanism "$_tl_mech" \
        --input-file "$_tl_in" --output-file "$_tl_out" "$@" ||
        { cat "$T/p11.out" >&2; fail "pkcs11-tool --sign --id $_tl_id -m $_tl_mech failed"; }
    [ -s "$_tl_out" ] || fail "pkcs11-tool -m $_tl_mech wrote no signature"
}

p11_sign_inputs() {
    for _tl_s in 9a:"$FIX_FISICA_CER" 9c:"$FIX_MORAL_CER" 9d:"$FIX_EC256_CERT_DER" 9e:"$FIX_EC384_CERT_DER"; do
        openssl x509 -inform DER -in "${_tl_s#*:}" -pubkey -noout > "$T/${_tl_s%%:*}.pub" ||
            fail "cannot read the public key of ${_tl_s#*:}"
    done
    printf 'Solicitud de trámite 2024-0001: firma de prueba\n' > "$T/doc"
    openssl dgst -sha256 -binary "$T/doc" > "$T/doc.sha256"
    openssl dgst -sha384 -binary "$T/doc" > "$T/doc.sha384"
}

pcsc_ns() {
    _tl_st=$1
    shift
    LLAVERO_VCARD=$VCARD sh "$LLAVERO_HARNESS/pcsc-ns.sh" --state "$_tl_st" "$@"
}

card_state() {
    case $1 in yes) _tl_pat='^0 +Yes ' ;; *) _tl_pat='^0 +No ' ;; esac
    # shellcheck disable=SC2016  # expanded by eval at each try
    _tl_wait_for 'opensc-tool -l 2>/dev/null | grep -Eq "$_tl_pat"' 10 && return 0
    opensc-tool -l >&2 || true
    return 1
}

card_ready() {
    card_state yes || return 1
    # shellcheck disable=SC2016  # expanded by eval at each try
    _tl_wait_for 'opensc-tool -r "$LLAVERO_READER" -a >/dev/null 2>&1' 10
}

vcard_start() {
    "$LLAVERO_VCARD" run --state "$LLAVERO_VCARD_STATE" --port "$LLAVERO_VCARD_PORT" \
        >> "$LLAVERO_HARNESS_LOG/vcard.log" 2>&1 &
    # shellcheck disable=SC2034  # for the caller
    VPID=$!
}

_tl_vkey_up() {
    [ -S "$_tl_sock" ] && [ -S "$_tl_vst.ctl" ] && return 0
    kill -0 "$VKEY_PID" 2>/dev/null || fail "llavero-vkey terminó al arrancar"
    return 1
}

start_vkey() {
    _tl_vst=$1 _tl_sock=$2 _tl_log=$3
    shift 3
    "$VKEY" run --state "$_tl_vst" --socket "$_tl_sock" "$@" 2>"$_tl_log" &
    VKEY_PID=$!
    track_pid "$VKEY_PID"
    _tl_wait_for _tl_vkey_up 10 || fail "llavero-vkey no creó sus sockets ($_tl_sock, $_tl_vst.ctl)"
}
