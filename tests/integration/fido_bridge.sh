#!/bin/sh
# Acceptance tests 1-4 of the FIDO2 bridge (fido/, `llavero fido`):
#   fido_bridge.sh socket   against llavero-vkey over its Unix socket
#   fido_bridge.sh pcsc     against the FIDO applet of llavero-vcard through
#                           pcscd (tests/harness/pcsc-ns.sh) and our own
#                           CTAP-over-ISO-7816 transport
# On each: register and sign in with and without PIN, discoverable and not,
# with allowCredentials and with an empty one; every response is verified by
# npm's @simplewebauthn/server (tests/integration/webauthn_verify, installed
# from its lock file into the build directory when missing), which must also
# reject it for another origin, RP ID or challenge. Bad origins and RP IDs are
# refused before any device is touched; a wrong PIN is not retried; the
# excluded credential, Ctrl-C (socket: CTAPHID_CANCEL), a key closed
# mid-ceremony and (PC/SC) a card pulled while the key waits for the tap give
# clear errors and leave the bridge usable; a card reset by another PC/SC
# client mid-ceremony is re-SELECTed and the command retried once.
set -eu
: "${LLAVERO_BUILD:?}" "${LLAVERO_SRC:?}"
MODE=${1:-socket}
L="$LLAVERO_BUILD/middleware/llavero"
VKEY="$LLAVERO_BUILD/firmware-test/vkey/llavero-vkey"
VCARD="$LLAVERO_BUILD/firmware-test/vcard/llavero-vcard"
HARNESS="${LLAVERO_HARNESS:-$LLAVERO_SRC/tests/harness}/pcsc-ns.sh"
VERIFY_SRC="$LLAVERO_SRC/tests/integration/webauthn_verify"
VERIFY_DIR="$LLAVERO_BUILD/tests/integration/webauthn_verify"
PASSED=0

fail() {
	echo "FALLA: $*" >&2
	for f in "$T"/*.err "$T/vkey.log"; do
		[ -f "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }
	done
	exit 1
}
ok() { echo "ok: $*"; PASSED=$((PASSED + 1)); }

# jget FILE EXPR: a value of a JSON file (EXPR in JavaScript over j).
jget() { node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); const v=eval(process.argv[2]); console.log(typeof v==="object"?JSON.stringify(v):v)' "$1" "$2"; }
b64url_rand() { head -c "${1:-32}" /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'; }

# ---- the relying-party library -------------------------------------------
setup_verify() {
	command -v node >/dev/null || fail "falta node (scripts/deps.sh)"
	mkdir -p "$VERIFY_DIR"
	cp "$VERIFY_SRC/package.json" "$VERIFY_SRC/package-lock.json" "$VERIFY_SRC/verify.mjs" "$VERIFY_DIR/"
	# Both modes may run at once: one installs, the other waits.
	flock "$VERIFY_DIR/.lock" sh -c '
		cd "$1"
		[ -d node_modules/@simplewebauthn/server ] && exit 0
		command -v npm >/dev/null || { echo "falta npm (scripts/deps.sh)" >&2; exit 1; }
		npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >npm.log 2>&1 || {
			cat npm.log >&2
			echo "npm ci falló: ¿se alcanza el registro de npm? (@simplewebauthn/server, package-lock.json)" >&2
			exit 1
		}' sh "$VERIFY_DIR" || fail "no se pudo instalar @simplewebauthn/server"
}

# rp_verify registration|authentication RESP CHALLENGE ORIGIN RPID CRED [--uv]
rp_verify() {
	node "$VERIFY_DIR/verify.mjs" "$@" >"$T/verify.out" 2>&1 || { cat "$T/verify.out" >&2; fail "@simplewebauthn/server: $1 $2"; }
	grep -q "^[0-9]* passed, 0 failed" "$T/verify.out" || fail "verify.mjs sin resumen"
	ok "@simplewebauthn/server acepta $(basename "$2") y la rechaza con otro origen, RP ID o reto"
}

# expect_rc CODE NAME cmd...: runs cmd, stdout to $T/NAME.json, stderr to $T/NAME.err
expect_rc() {
	want=$1 name=$2
	shift 2
	rc=0
	"$@" >"$T/$name.json" 2>"$T/$name.err" || rc=$?
	[ "$rc" = "$want" ] || fail "$name: código $rc (se esperaba $want): $(cat "$T/$name.err")"
}

check_shape_reg() {
	jget "$1" 'j.type==="public-key" && j.id===j.rawId && j.authenticatorAttachment==="cross-platform"
		&& typeof j.response.clientDataJSON==="string" && typeof j.response.attestationObject==="string"
		&& Array.isArray(j.response.transports) && Number.isInteger(j.response.publicKeyAlgorithm)
		&& typeof j.response.publicKey==="string" && typeof j.response.authenticatorData==="string"
		&& typeof j.clientExtensionResults==="object"' | grep -qx true || fail "forma de RegistrationResponseJSON: $1"
}
check_shape_auth() {
	jget "$1" 'j.type==="public-key" && j.id===j.rawId && j.authenticatorAttachment==="cross-platform"
		&& typeof j.response.clientDataJSON==="string" && typeof j.response.authenticatorData==="string"
		&& typeof j.response.signature==="string" && typeof j.clientExtensionResults==="object"' \
		| grep -qx true || fail "forma de AuthenticationResponseJSON: $1"
}

# ---- the ceremonies, on whichever device DEV names -------------------------
suite() {
	DEV=$1
	ORIGIN=https://login.llavero.example
	RPID=llavero.example
	printf '1234\n' >"$T/pin"
	printf '9999\n' >"$T/badpin"
	printf '4321\n' >"$T/pin2"

	expect_rc 0 list "$L" fido list --json
	grep -qF "\"$DEV\"" "$T/list.json" || fail "fido list no muestra $DEV: $(cat "$T/list.json")"
	ok "fido list encuentra $DEV"
	expect_rc 0 info0 "$L" fido info --device "$DEV" --json
	[ "$(jget "$T/info0.json" j.pinSet)" = false ] || fail "la llave nueva ya tiene PIN"
	ok "fido info: FIDO2, sin PIN"

	# Acceptance 3: refused before any device is touched (the device path
	# names nothing; an origin error comes first, code 6).
	for bad in "http://example.com example.com" "https://evil.com example.com" \
		   "https://login.gob.mx gob.mx" "https://www.example.com com" "ftp://example.com example.com"; do
		set -- $bad
		expect_rc 6 badorigin "$L" fido register --device vkey:/nonexistent --origin "$1" --rp-id "$2" --json
		grep -q '"origin-not-allowed"\|"rp-id-not-allowed"' "$T/badorigin.json" || fail "código JSON: $(cat "$T/badorigin.json")"
		expect_rc 6 badorigin "$L" fido login --device vkey:/nonexistent --origin "$1" --rp-id "$2" --json
	done
	ok "orígenes http, RP ID ajeno y sufijos públicos (gob.mx, com) rechazados antes de tocar la llave"

	# 1. Not discoverable, no PIN on the key, packed attestation.
	CH=$(b64url_rand)
	expect_rc 0 reg1 "$L" fido register --device "$DEV" --origin "$ORIGIN" --rp-id "$RPID" \
		--user ana --challenge "$CH" --resident-key discouraged --uv discouraged \
		--attestation direct --cred-props --prf --json
	check_shape_reg "$T/reg1.json"
	[ "$(jget "$T/reg1.json" j.clientExtensionResults.credProps.rk)" = false ] || fail "credProps.rk"
	[ "$(jget "$T/reg1.json" j.clientExtensionResults.prf.enabled)" = true ] || fail "prf.enabled"
	rp_verify registration "$T/reg1.json" "$CH" "$ORIGIN" "$RPID" "$T/cred1.json"
	ID1=$(jget "$T/reg1.json" j.id)
	CH=$(b64url_rand)
	expect_rc 0 auth1 "$L" fido login --device "$DEV" --origin "$ORIGIN" --rp-id "$RPID" \
		--challenge "$CH" --allow "$ID1" --uv discouraged --json
	check_shape_auth "$T/auth1.json"
	[ "$(jget "$T/auth1.json" j.id)" = "$ID1" ] || fail "login devolvió otra credencial"
	rp_verify authentication "$T/auth1.json" "$CH" "$ORIGIN" "$RPID" "$T/cred1.json"

	# The PRF extension over hmac-secret: same input, same output.
	expect_rc 0 prf1 "$L" fido login --device "$DEV" --origin "$ORIGIN" --rp-id "$RPID" \
		--allow "$ID1" --uv discouraged --prf-first "$CH" --json
	expect_rc 0 prf2 "$L" fido login --device "$DEV" --origin "$ORIGIN" --rp-id "$RPID" \
		--allow "$ID1" --uv discouraged --prf-first "$CH" --prf-second AAAA --json
	P1=$(jget "$T/prf1.json" j.clientExtensionResults.prf.results.first)
	P2=$(jget "$T/prf2.json" j.clientExtensionResults.prf.results.first)
	[ -n "$P1" ] && [ "$P1" = "$P2" ] || fail "prf: resultados distintos ($P1 / $P2)"
	[ "$(jget "$T/prf2.json" j.clientExtensionResults.prf.results.second)" != undefined ] || fail "prf: falta second"
	ok "prf (hmac-secret) estable entre ceremonias"

	# 2. A PIN on the key; a discoverable credential with user verification.
	expect_rc 0 setpin "$L" fido set-pin --device "$DEV" --new-pin-file "$T/pin" --json
	expect_rc 0 info1 "$L" fido info --device "$DEV" --json
	[ "$(jget "$T/info1.json" j.pinSet)" = true ] || fail "set-pin no dejó PIN"
	RETRIES=$(jget "$T/info1.json" j.pinRetries)
	ok "set-pin ($RETRIES intentos)"
	CH=$(b64url_rand)
	expect_rc 0 reg2 "$L" fido register --device "$DEV" --origin "$ORIGIN" --rp-id "$RPID" \
		--user beto --challenge "$CH" --resident-key required --uv required \
		--pin-file "$T/pin" --cred-props --json
	[ "$(jget "$T/reg2.json" j.clientExtensionResults.credProps.rk)" = true ] || fail "credProps.rk"
	rp_verify registration "$T/reg2.json" "$CH" "$ORIGIN" "$RPID" "$T/cred2.json" --uv
	ID2=$(jget "$T/reg2.json" j.id)
	# Empty allowCredentials: the key finds its discoverable credential.
	CH=$(b64url_rand)
	expect_rc 0 auth2 "$L" fido login --device "$DEV" --origin "$ORIGIN" --rp-id "$RPID" \
		--challenge "$CH" --empty-allow --uv required --pin-file "$T/pin" --json
	[ "$(jget "$T/auth2.json" j.id)" = "$ID2" ] || fail "allowCredentials vacío: otra credencial"
	[ "$(jget "$T/auth2.json" j.response.userHandle)" != undefined ] || fail "falta userHandle"
	rp_verify authentication "$T/auth2.json" "$CH" "$ORIGIN" "$RPID" "$T/cred2.json" --uv
	# The same credential through allowCredentials, with the PIN.
	CH=$(b64url_rand)
	expect_rc 0 auth3 "$L" fido login --device "$DEV" --origin "$ORIGIN" --rp-id "$RPID" \
		--challenge "$CH" --allow "$ID2" --uv required --pin-file "$T/pin" --json
	rp_verify authentication "$T/auth3.json" "$CH" "$ORIGIN" "$RPID" "$T/cred2.json" --uv
	# The non-discoverable one, now with the PIN (uv preferred asks it).
	CH=$(b64url_rand)
	expect_rc 0 auth4 "$L" fido login --device "$DEV" --origin "$ORIGIN" --rp-id "$RPID" \
		--challenge "$CH" --allow "$ID1" --pin-file "$T/pin" --json
	rp_verify authentication "$T/auth4.json" "$CH" "$ORIGIN" "$RPID" "$T/cred1.json" --uv

	# A wrong PIN fails once and is not retried: exactly one attempt spent.
	expect_rc 4 badpin "$L" fido login --device "$DEV" --origin "$ORIGIN" --rp-id "$RPID" \
		--allow "$ID2" --uv required --pin-file "$T/badpin" --json
	grep -q '"pin-invalid"' "$T/badpin.json" || fail "PIN erróneo: $(cat "$T/badpin.json")"
	expect_rc 0 info2 "$L" fido info --device "$DEV" --json
	[ "$(jget "$T/info2.json" j.pinRetries)" = $((RETRIES - 1)) ] || fail "el PIN erróneo gastó $((RETRIES - $(jget "$T/info2.json" j.pinRetries))) intentos"
	ok "PIN erróneo: código 4, un solo intento gastado"

	# excludeCredentials with a credential on the key.
	# (With three more 64-byte IDs the request passes 255 bytes: on PC/SC it
	# goes as a chain of NFCCTAP_MSG pieces.)
	expect_rc 7 excl "$L" fido register --device "$DEV" --origin "$ORIGIN" --rp-id "$RPID" \
		--exclude "$(b64url_rand 64)" --exclude "$(b64url_rand 64)" \
		--exclude "$(b64url_rand 64)" --exclude "$ID2" --pin-file "$T/pin" --json
	grep -q '"credential-excluded"' "$T/excl.json" || fail "excluida: $(cat "$T/excl.json")"
	ok "excludeCredentials: código 7"
	# No credential for another RP.
	expect_rc 7 nocred "$L" fido login --device "$DEV" --origin https://otro.example.org \
		--empty-allow --pin-file "$T/pin" --json
	ok "sin credenciales para otro RP: código 7"

	# Credential management and PIN change.
	expect_rc 0 creds "$L" fido creds --device "$DEV" --pin-file "$T/pin" --json
	[ "$(jget "$T/creds.json" 'j.filter(c=>c.id==="'"$ID2"'" && c.rpId==="'"$RPID"'").length')" = 1 ] \
		|| fail "creds no lista la credencial detectable: $(cat "$T/creds.json")"
	ok "fido creds lista la credencial detectable"
	expect_rc 0 chpin "$L" fido change-pin --device "$DEV" --pin-file "$T/pin" --new-pin-file "$T/pin2" --json
	expect_rc 0 auth5 "$L" fido login --device "$DEV" --origin "$ORIGIN" --rp-id "$RPID" \
		--allow "$ID2" --pin-file "$T/pin2" --json
	ok "change-pin y login con el PIN nuevo"
	expect_rc 0 credsdel "$L" fido creds --device "$DEV" --pin-file "$T/pin2" --delete "$ID2" --json
	expect_rc 7 auth6 "$L" fido login --device "$DEV" --origin "$ORIGIN" --rp-id "$RPID" \
		--empty-allow --pin-file "$T/pin2" --json
	ok "creds --delete borra la credencial"
	# English messages when the locale says so.
	rc=0
	LC_ALL=en_US.UTF-8 "$L" fido login --device "$DEV" --origin http://example.com 2>"$T/en.err" >/dev/null || rc=$?
	[ "$rc" = 6 ] && grep -q "origin not allowed" "$T/en.err" || fail "mensaje en inglés: $(cat "$T/en.err")"
	ok "mensajes en inglés con LC_ALL=en"
}

# ---- acceptance 4 on PC/SC: the card pulled or reset mid-ceremony ---------
# llavero-vcard runs again with --fido-delay (a test hook: each CTAP2 answer
# is held DELAY ms, as if the person were slow to tap; meanwhile the card
# reads nothing from the reader but obeys its control channel).
DELAY=3000
vcard_apdus() { "$VCARD" stats --state "$LLAVERO_VCARD_STATE" | sed -n 's/^apdus=//p'; }
vcard_power_cycles() { "$VCARD" stats --state "$LLAVERO_VCARD_STATE" | sed -n 's/^power_cycles=//p'; }
# wait_card Yes|No: until PC/SC lists our reader (vpcd has a second, empty
# slot) with / without a card (10 s).
wait_card() {
	i=0
	until opensc-tool -l 2>/dev/null | grep -E "^[0-9]+ +$1 " | grep -qF "$LLAVERO_READER"; do
		i=$((i + 1)); [ "$i" -lt 100 ] || fail "el lector no llegó a «$1» en 10 s"
		sleep 0.1
	done
}
now_ms() { date +%s%3N; }
pcsc_mid_ceremony() {
	DEV=$1
	ORIGIN=https://login.llavero.example
	"$VCARD" stop --state "$LLAVERO_VCARD_STATE" >/dev/null || fail "vcard stop"
	wait_card No
	"$VCARD" run --state "$LLAVERO_VCARD_STATE" --port "$LLAVERO_VCARD_PORT" --fido-delay "$DELAY" -v \
		>"$T/vcard-delay.log" 2>&1 &
	wait_card Yes

	# Pulled while the key waits for the tap (getAssertion's answer held):
	# code 8 and a clear message at once, not after the held answer.
	nga=$(grep -c '> 80 10 00 00 [0-9A-F][0-9A-F]02' "$T/vcard-delay.log" || true)
	timeout 30 "$L" fido login --device "$DEV" --origin "$ORIGIN" --rp-id "$RPID" \
		--allow "$ID1" --uv discouraged --json >"$T/pull.json" 2>"$T/pull.err" &
	lp=$!
	i=0
	until [ "$(grep -c '> 80 10 00 00 [0-9A-F][0-9A-F]02' "$T/vcard-delay.log" || true)" -gt "$nga" ]; do
		i=$((i + 1)); [ "$i" -lt 200 ] || fail "la ceremonia no llegó a getAssertion: $(cat "$T/pull.err")"
		sleep 0.05
	done
	t0=$(now_ms)
	"$VCARD" remove --state "$LLAVERO_VCARD_STATE" >/dev/null || fail "vcard remove"
	rc=0; wait "$lp" || rc=$?
	took=$(( $(now_ms) - t0 ))
	[ "$rc" != 124 ] || fail "tarjeta retirada a media ceremonia: el puente se colgó"
	[ "$rc" = 8 ] || fail "tarjeta retirada a media ceremonia: código $rc: $(cat "$T/pull.err")"
	grep -q '"device-lost"' "$T/pull.json" || fail "error JSON: $(cat "$T/pull.json")"
	grep -q "se retiró la tarjeta del lector" "$T/pull.err" || fail "mensaje poco claro: $(cat "$T/pull.err")"
	[ "$took" -lt "$DELAY" ] || fail "el error tardó $took ms (la respuesta retenida dura $DELAY ms)"
	ok "tarjeta retirada esperando el toque: código 8 en $took ms («$(grep -m1 'se retiró' "$T/pull.err")»)"
	wait_card No
	"$VCARD" insert --state "$LLAVERO_VCARD_STATE" >/dev/null || fail "vcard insert"
	wait_card Yes
	CH=$(b64url_rand)
	expect_rc 0 reinserted timeout 60 "$L" fido login --device "$DEV" --origin "$ORIGIN" --rp-id "$RPID" \
		--challenge "$CH" --allow "$ID1" --uv discouraged --json
	rp_verify authentication "$T/reinserted.json" "$CH" "$ORIGIN" "$RPID" "$T/cred1.json"
	ok "tarjeta de vuelta en el lector: la siguiente ceremonia funciona"

	# Reset by another PC/SC client between two APDUs of the ceremony (while
	# getInfo's answer is held): the transport reconnects, SELECTs the applet
	# again and retries the command once; the ceremony succeeds.
	base=$(vcard_apdus)
	pc=$(vcard_power_cycles)
	rm -f "$T/reset.flag"
	/usr/bin/python3 "$LLAVERO_SRC/tests/integration/fido_bridge_reset.py" "$LLAVERO_READER" "$VCARD" \
		"$LLAVERO_VCARD_STATE" $((base + 2)) "$T/reset.flag" >"$T/resetpy.out" 2>&1 &
	pp=$!
	i=0
	until [ -f "$T/reset.flag" ]; do
		kill -0 "$pp" 2>/dev/null || fail "pyscard: $(cat "$T/resetpy.out")"
		i=$((i + 1)); [ "$i" -lt 200 ] || fail "pyscard no se conectó"
		sleep 0.05
	done
	CH=$(b64url_rand)
	expect_rc 0 afterreset env LLAVERO_LOG=info timeout 60 "$L" fido login --device "$DEV" --origin "$ORIGIN" \
		--rp-id "$RPID" --challenge "$CH" --allow "$ID1" --uv discouraged --json
	wait "$pp" || fail "pyscard: $(cat "$T/resetpy.out")"
	grep -q "se reinició" "$T/afterreset.err" || fail "el reinicio no llegó a media ceremonia: $(cat "$T/afterreset.err")"
	[ "$(vcard_power_cycles)" -gt "$pc" ] || fail "la tarjeta no se reinició"
	rp_verify authentication "$T/afterreset.json" "$CH" "$ORIGIN" "$RPID" "$T/cred1.json"
	ok "tarjeta reiniciada por otra aplicación a media ceremonia: SELECT de nuevo, un reintento, éxito"
}

T=$(mktemp -d "${TMPDIR:-/tmp}/llv-fidobridge.XXXXXX")
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

case $MODE in
socket)
	setup_verify
	S="$T/vkey.state"
	"$VKEY" init --state "$S" >/dev/null || fail "llavero-vkey init"
	start_vkey() {
		"$VKEY" run --state "$S" --socket "$T/vkey.sock" --up "$1" 2>>"$T/vkey.log" &
		pid=$!
		i=0
		while ! { [ -S "$T/vkey.sock" ] && [ -S "$S.ctl" ]; }; do
			kill -0 "$pid" 2>/dev/null || fail "llavero-vkey terminó al arrancar"
			i=$((i + 1)); [ "$i" -lt 100 ] || fail "llavero-vkey no creó sus sockets"
			sleep 0.1
		done
	}
	start_vkey auto
	export LLAVERO_VKEY_SOCKETS="$T/nobody.sock:$T/vkey.sock"
	suite "vkey:$T/vkey.sock"

	# The configuration file names sockets too.
	unset LLAVERO_VKEY_SOCKETS
	printf '# llaves simuladas\nvkey-socket = %s\n' "$T/vkey.sock" >"$T/fido.conf"
	LLAVERO_FIDO_CONFIG="$T/fido.conf" "$L" fido list --json >"$T/conf.json" 2>"$T/conf.err" || fail "list con archivo"
	grep -qF "vkey:$T/vkey.sock" "$T/conf.json" || fail "el archivo de configuración no se leyó"
	ok "llaves simuladas desde el archivo de configuración"
	D="vkey:$T/vkey.sock"

	# Ctrl-C while the key waits for a touch: CTAPHID_CANCEL, code 5.
	"$VKEY" up --state "$S" wait:20000 >/dev/null || fail "up wait"
	"$L" fido register --device "$D" --origin https://login.llavero.example \
		--pin-file "$T/pin2" --json >"$T/cancel.json" 2>"$T/cancel.err" &
	lp=$!
	sleep 1
	kill -INT "$lp" || fail "el registro terminó sin esperar la presencia: $(cat "$T/cancel.err")"
	rc=0; wait "$lp" || rc=$?
	[ "$rc" = 5 ] || fail "Ctrl-C: código $rc: $(cat "$T/cancel.err")"
	grep -q '"cancelled"' "$T/cancel.json" || fail "Ctrl-C: error JSON: $(cat "$T/cancel.json")"
	ok "Ctrl-C durante la espera de presencia cancela (código $rc)"

	# Acceptance 4: the key closes mid-ceremony -> code 8; the bridge goes on.
	"$L" fido register --device "$D" --origin https://login.llavero.example --pin-file "$T/pin2" \
		--json >"$T/lost.json" 2>"$T/lost.err" &
	lp=$!
	sleep 1
	# Pulled, not shut down: no goodbye answer from the key.
	kill -KILL "$pid"; wait "$pid" 2>/dev/null || true; pid=
	rm -f "$T/vkey.sock" "$S.ctl"
	lost=0; wait "$lp" || lost=$?
	[ "$lost" = 8 ] || fail "llave cerrada a media ceremonia: código $lost: $(cat "$T/lost.err")"
	grep -q '"device-lost"\|"no-device"' "$T/lost.json" || fail "error JSON: $(cat "$T/lost.json")"
	start_vkey auto
	expect_rc 0 after "$L" fido register --device "$D" --origin https://login.llavero.example \
		--pin-file "$T/pin2" --json
	ok "llave cerrada a media ceremonia: código $lost ($(head -n 1 "$T/lost.err")); tras volver, todo funciona"

	# Reset: refused after the 10 s window, accepted right after a power cycle.
	"$VKEY" power-cycle --state "$S" >/dev/null || fail "power-cycle"
	expect_rc 0 reset "$L" fido reset --device "$D" --yes --json
	grep -q "10 segundos" "$T/reset.err" || fail "reset no explicó la regla de los 10 s"
	expect_rc 0 info3 "$L" fido info --device "$D" --json
	[ "$(jget "$T/info3.json" j.pinSet)" = false ] || fail "reset no borró el PIN"
	ok "reset tras conectar: PIN y credenciales borrados, regla de 10 s explicada"
	;;
pcsc)
	setup_verify
	[ -x "$VCARD" ] || fail "falta llavero-vcard"
	S="$T/card.state"
	"$VCARD" init --state "$S" >/dev/null || fail "llavero-vcard init"
	# Inside the namespace: the suite against the reader the harness made.
	PORT=$(( 36000 + $$ % 2000 * 2 ))
	LLAVERO_FIDO_BRIDGE_INSIDE=1 sh "$HARNESS" --state "$S" --port "$PORT" --log "$T/harness" -- \
		sh "$0" pcsc-inside "$T" || fail "la prueba dentro de pcscd falló"
	exit 0
	;;
pcsc-inside)
	T=$2
	trap - EXIT
	expect_rc 0 devices "$L" devices --json
	[ "$(jget "$T/devices.json" 'j.pcsc.running && j.pcsc.readers.some(r=>r.name===process.env.LLAVERO_READER && r.card)')" = true ] \
		|| fail "devices no ve el lector con tarjeta: $(cat "$T/devices.json")"
	ok "llavero devices: pcscd en marcha, lector con tarjeta"
	suite "pcsc:$LLAVERO_READER"
	pcsc_mid_ceremony "pcsc:$LLAVERO_READER"
	# The card leaves for good (its process ends) -> an error, not a crash.
	"$VCARD" stop --state "$LLAVERO_VCARD_STATE" >/dev/null || fail "vcard stop"
	sleep 1
	rc=0
	timeout 30 "$L" fido login --device "pcsc:$LLAVERO_READER" --origin https://login.llavero.example \
		--empty-allow --json >"$T/pulled.json" 2>"$T/pulled.err" || rc=$?
	[ "$rc" = 3 ] || [ "$rc" = 8 ] || fail "tarjeta retirada: código $rc: $(cat "$T/pulled.err")"
	ok "tarjeta retirada: código $rc con mensaje claro"
	echo "$PASSED passed, 0 failed"
	exit 0
	;;
*)
	echo "uso: $0 socket|pcsc" >&2
	exit 2
	;;
esac
echo "$PASSED passed, 0 failed"
