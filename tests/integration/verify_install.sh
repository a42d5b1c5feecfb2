#!/bin/sh
# Installs the build into a temporary prefix, compiles a third-party program
# against libllavero-verify.so with nothing but
# `pkg-config --cflags --libs llavero-verify`, runs it (error strings and a
# nonce-store round trip), and checks the library's dynamic symbol table:
# only verify_* functions defined, SONAME with the major version, and no
# installed header reaching for common/.
set -eu
: "${LLAVERO_SRC:?}" "${LLAVERO_BUILD:?}"
CC=${CC:-cc}
for t in pkg-config nm readelf "$CC"; do
    command -v "$t" >/dev/null || { echo "FAIL: $t is missing"; exit 1; }
done

W=$(mktemp -d "${TMPDIR:-/tmp}/verify-install.XXXXXX")
trap 'rm -rf "$W"' EXIT INT TERM
P=$W/prefix

cmake --install "$LLAVERO_BUILD" --prefix "$P" >"$W/install.log" 2>&1 || {
    cat "$W/install.log"; echo "FAIL: cmake --install"; exit 1; }

pc=$(find "$P" -name llavero-verify.pc -path '*/pkgconfig/*' | head -n 1)
[ -n "$pc" ] || { echo "FAIL: llavero-verify.pc not installed"; exit 1; }
libdir=$(dirname "$(dirname "$pc")")
export PKG_CONFIG_PATH="$libdir/pkgconfig"
# Only our .pc from the prefix; the dependencies' from the system.
grep -q '^Requires.private:.*openssl.*jansson.*libcbor.*libpsl' "$pc" || {
    echo "FAIL: Requires.private in $pc"; cat "$pc"; exit 1; }

[ "$(pkg-config --variable=libdir llavero-verify)" -ef "$libdir" ] || {
    echo "FAIL: pkg-config libdir is not $libdir"; exit 1; }

so=$(ls "$libdir"/libllavero-verify.so.*.*.* 2>/dev/null | head -n 1)
[ -n "$so" ] || { echo "FAIL: no libllavero-verify.so.X.Y.Z in $libdir"; ls -l "$libdir"; exit 1; }
[ -e "$libdir/libllavero-verify.so" ] || { echo "FAIL: no libllavero-verify.so link"; exit 1; }
[ ! -e "$libdir/libllavero_verify.a" ] || { echo "FAIL: the in-tree static library was installed"; exit 1; }
soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
case "$soname" in
    libllavero-verify.so.[0-9]*) ;;
    *) echo "FAIL: SONAME '$soname'"; exit 1 ;;
esac
[ -e "$libdir/$soname" ] || { echo "FAIL: $soname not installed"; exit 1; }

# Headers: under include/llavero, none internal, none including common/.
inc=$P/include/llavero
[ -f "$inc/verify_webeid.h" ] && [ -f "$inc/verify_errors.h" ] && [ -f "$inc/verify_nonce.h" ] || {
    echo "FAIL: public headers missing in $inc"; ls -l "$inc" 2>/dev/null; exit 1; }
[ ! -e "$inc/verify_cbor.h" ] || { echo "FAIL: internal verify_cbor.h installed"; exit 1; }
for h in "$inc"/*.h; do
    grep -h '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$h" | sed 's/.*"\(.*\)".*/\1/' |
    while read -r q; do
        [ -f "$inc/$q" ] || { echo "FAIL: $(basename "$h") includes \"$q\", which is not installed"; exit 1; }
    done
done

# Every installed header compiles on its own.
for h in "$inc"/*.h; do
    printf '#include <llavero/%s>\n' "$(basename "$h")" >"$W/hdr.c"
    # shellcheck disable=SC2046
    "$CC" -std=c11 -Wall -Wextra -Werror -c "$W/hdr.c" -o "$W/hdr.o" \
        $(pkg-config --cflags llavero-verify) || { echo "FAIL: $(basename "$h") does not compile alone"; exit 1; }
done

cat >"$W/consumer.c" <<'C'
#include <llavero/verify_errors.h>
#include <llavero/verify_nonce.h>
#include <llavero/verify_webeid.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
	char nonce[VERIFY_NONCE_TEXT_MAX];
	struct verify_nonce_store *ns = verify_nonce_store_memory_new(16);
	int rc;

	if (!ns)
		return 10;
	if (verify_nonce_issue(ns, 300, 0, nonce, sizeof(nonce)) != VERIFY_OK)
		return 11;
	if (strlen(nonce) != 44)
		return 12;
	if (verify_nonce_consume(ns, nonce, 0) != VERIFY_OK)
		return 13;
	rc = verify_nonce_consume(ns, nonce, 0);
	if (rc == VERIFY_OK)
		return 14;
	printf("reuse: %s (%s)\n", verify_error_id(rc), verify_strerror_en(rc));
	if (strcmp(verify_error_id(rc), "nonce-reused") != 0)
		return 15;
	if (!verify_origin_valid("https://portal.example") || verify_origin_valid("http://evil.example"))
		return 16;
	verify_nonce_store_free(ns);
	puts("ok");
	return 0;
}
C
# shellcheck disable=SC2046
"$CC" -std=c11 -Wall -Wextra -Werror -o "$W/consumer" "$W/consumer.c" \
    $(pkg-config --cflags --libs llavero-verify) || { echo "FAIL: consumer does not build"; exit 1; }
readelf -d "$W/consumer" | grep -q "NEEDED.*\[$soname\]" || {
    echo "FAIL: consumer does not need $soname"; readelf -d "$W/consumer"; exit 1; }
rc=0
out=$(LD_LIBRARY_PATH="$libdir" "$W/consumer") || rc=$?
[ "$rc" -eq 0 ] || { echo "$out"; echo "FAIL: consumer exited $rc"; exit 1; }
echo "$out"
echo "$out" | grep -q '^reuse: nonce-reused' && echo "$out" | grep -qx ok || { echo "FAIL: consumer output"; exit 1; }
# The library it ran with is the installed one.
LD_LIBRARY_PATH="$libdir" ldd "$W/consumer" | grep -q "$libdir/$soname" || {
    echo "FAIL: consumer did not load the installed library"; exit 1; }

# Exports: defined dynamic symbols are the verify_* API (plus the version
# node, an absolute symbol); the internal verify_cbor_* helpers are hidden.
nm -D --defined-only "$so" | sed 's/@.*//' >"$W/syms"
bad=$(awk '$2 != "A" && $3 !~ /^verify_/ {print $3}' "$W/syms")
[ -z "$bad" ] || { echo "FAIL: non-verify_ symbols exported:"; echo "$bad"; exit 1; }
if grep -q ' verify_cbor_' "$W/syms"; then echo "FAIL: verify_cbor_* exported"; exit 1; fi
n=$(grep -c ' T verify_' "$W/syms")
[ "$n" -ge 20 ] || { echo "FAIL: only $n verify_* functions exported"; exit 1; }
for f in verify_webeid_token verify_strerror verify_nonce_store_memory_new verify_trust_new \
         verify_ocsp_check verify_webauthn_register verify_webauthn_authenticate; do
    grep -q " T $f\$" "$W/syms" || { echo "FAIL: $f not exported"; exit 1; }
done
echo "PASS: libllavero-verify installed ($soname, $n verify_* functions exported)"
