/* See ctap_test_client.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ctap_test_client.h"

const uint8_t tc_default_cdh[32] = {
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
	0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
};

static uint8_t up_cb(void *arg)
{
	struct tc *t = arg;

	t->up_calls++;
	return t->up_result;
}

static uint64_t now_cb(void *arg)
{
	struct tc *t = arg;

	return t->now;
}

struct tc *tc_new(void)
{
	struct tc *t = calloc(1, sizeof(*t));
	struct ctap_auth_callbacks cb;

	assert_non_null(t);
	t->now = 1000;
	cb.user_presence = up_cb;
	cb.now_ms = now_cb;
	cb.arg = t;
	t->a = ctap_auth_new(&cb);
	assert_non_null(t->a);
	assert_int_equal(ctap_auth_init_fresh(t->a), 0);
	return t;
}

void tc_free(struct tc *t)
{
	if (t == NULL)
		return;
	ctap_auth_free(t->a);
	free(t);
}

void tc_power_cycle(struct tc *t)
{
	t->now += 1000;
	ctap_auth_power_cycle(t->a);
}

/* ---- CBOR building ---- */

cbor_item_t *tc_int(int64_t v)
{
	cbor_item_t *it;

	if (v >= 0) {
		it = cbor_new_int64();
		cbor_set_uint64(it, (uint64_t)v);
	} else {
		it = cbor_new_int64();
		cbor_set_uint64(it, (uint64_t)(-(v + 1)));
		cbor_mark_negint(it);
	}
	return it;
}

cbor_item_t *tc_text(const char *s)
{
	return cbor_build_stringn(s, strlen(s));
}

cbor_item_t *tc_bytes(const void *p, size_t n)
{
	return cbor_build_bytestring(p, n);
}

cbor_item_t *tc_bool(bool v)
{
	return cbor_build_bool(v);
}

cbor_item_t *tc_map(size_t n, ...)
{
	cbor_item_t *m = cbor_new_definite_map(n);
	va_list ap;

	va_start(ap, n);
	for (size_t i = 0; i < n; i++) {
		cbor_item_t *k = va_arg(ap, cbor_item_t *);
		cbor_item_t *v = va_arg(ap, cbor_item_t *);

		assert_true(cbor_map_add(m, (struct cbor_pair){ .key = cbor_move(k), .value = cbor_move(v) }));
	}
	va_end(ap);
	return m;
}

cbor_item_t *tc_array(size_t n, ...)
{
	cbor_item_t *a = cbor_new_definite_array(n);
	va_list ap;

	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		assert_true(cbor_array_push(a, cbor_move(va_arg(ap, cbor_item_t *))));
	va_end(ap);
	return a;
}

cbor_item_t *tc_param(int64_t alg)
{
	return tc_map(2, tc_text("alg"), tc_int(alg), tc_text("type"), tc_text("public-key"));
}

cbor_item_t *tc_desc(const uint8_t *id, size_t n)
{
	return tc_map(2, tc_text("id"), tc_bytes(id, n), tc_text("type"), tc_text("public-key"));
}

/* Map builder for optional members. */
struct mb {
	cbor_item_t *k[16], *v[16];
	size_t n;
};

static void mb_add(struct mb *m, int64_t key, cbor_item_t *v)
{
	assert_true(m->n < 16);
	m->k[m->n] = tc_int(key);
	m->v[m->n++] = v;
}

static cbor_item_t *mb_done(struct mb *m)
{
	cbor_item_t *map = cbor_new_definite_map(m->n);

	for (size_t i = 0; i < m->n; i++)
		assert_true(cbor_map_add(map, (struct cbor_pair){ .key = cbor_move(m->k[i]), .value = cbor_move(m->v[i]) }));
	return map;
}

/* ---- running commands ---- */

uint8_t tc_cmd(struct tc *t, uint8_t cmd, cbor_item_t *params, cbor_item_t **resp)
{
	struct llv_buf req = LLV_BUF_INIT, out = LLV_BUF_INIT;
	uint8_t st;

	if (resp != NULL)
		*resp = NULL;
	llv_buf_put_u8(&req, cmd);
	if (params != NULL) {
		unsigned char *buf = NULL;
		size_t cap = 0, len = cbor_serialize_alloc(params, &buf, &cap);

		assert_true(len > 0);
		llv_buf_put(&req, buf, len);
		free(buf);
		cbor_decref(&params);
	}
	ctap_auth_cbor(t->a, req.data, req.len, &out);
	assert_true(llv_buf_ok(&out));
	assert_true(out.len >= 1);
	st = out.data[0];
	if (st != 0)
		assert_int_equal(out.len, 1);
	if (out.len > 1) {
		struct cbor_load_result res;
		cbor_item_t *it = cbor_load(out.data + 1, out.len - 1, &res);

		assert_non_null(it);
		assert_int_equal(res.read, out.len - 1);
		if (resp != NULL)
			*resp = it;
		else
			cbor_decref(&it);
	}
	llv_buf_free(&req);
	llv_buf_free(&out);
	return st;
}

uint8_t tc_raw(struct tc *t, const uint8_t *req, size_t len)
{
	struct llv_buf out = LLV_BUF_INIT;
	uint8_t st;

	ctap_auth_cbor(t->a, req, len, &out);
	assert_true(llv_buf_ok(&out) && out.len >= 1);
	st = out.data[0];
	llv_buf_free(&out);
	return st;
}

cbor_item_t *tc_get(const cbor_item_t *map, int64_t key)
{
	struct cbor_pair *h;

	if (map == NULL || !cbor_isa_map(map))
		return NULL;
	h = cbor_map_handle(map);
	for (size_t i = 0; i < cbor_map_size(map); i++) {
		const cbor_item_t *k = h[i].key;

		if (key >= 0 && cbor_isa_uint(k) && cbor_get_int(k) == (uint64_t)key)
			return h[i].value;
		if (key < 0 && cbor_isa_negint(k) && cbor_get_int(k) == (uint64_t)(-(key + 1)))
			return h[i].value;
	}
	return NULL;
}

cbor_item_t *tc_get_s(const cbor_item_t *map, const char *key)
{
	struct cbor_pair *h;

	if (map == NULL || !cbor_isa_map(map))
		return NULL;
	h = cbor_map_handle(map);
	for (size_t i = 0; i < cbor_map_size(map); i++) {
		const cbor_item_t *k = h[i].key;

		if (cbor_isa_string(k) && cbor_string_length(k) == strlen(key) &&
		    memcmp(cbor_string_handle(k), key, strlen(key)) == 0)
			return h[i].value;
	}
	return NULL;
}

size_t tc_get_bytes(const cbor_item_t *map, int64_t key, uint8_t *out, size_t cap)
{
	const cbor_item_t *it = tc_get(map, key);

	assert_non_null(it);
	assert_true(cbor_isa_bytestring(it));
	assert_true(cbor_bytestring_length(it) <= cap);
	memcpy(out, cbor_bytestring_handle(it), cbor_bytestring_length(it));
	return cbor_bytestring_length(it);
}

uint64_t tc_get_uint(const cbor_item_t *map, int64_t key)
{
	const cbor_item_t *it = tc_get(map, key);

	assert_non_null(it);
	assert_true(cbor_isa_uint(it));
	return cbor_get_int(it);
}

/* ---- keys and signatures ---- */

static int64_t item_int(const cbor_item_t *it)
{
	assert_non_null(it);
	assert_true(cbor_isa_uint(it) || cbor_isa_negint(it));
	return cbor_isa_uint(it) ? (int64_t)cbor_get_int(it) : -(int64_t)cbor_get_int(it) - 1;
}

EVP_PKEY *tc_cose_to_pkey(const cbor_item_t *cose)
{
	int64_t kty = item_int(tc_get(cose, 1));
	const cbor_item_t *x = tc_get(cose, -2), *y = tc_get(cose, -3);

	assert_non_null(x);
	assert_int_equal(cbor_bytestring_length(x), 32);
	if (kty == 1) {
		assert_int_equal(item_int(tc_get(cose, 3)), -8);
		assert_int_equal(item_int(tc_get(cose, -1)), 6);
		return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, cbor_bytestring_handle(x), 32);
	}
	assert_int_equal(kty, 2);
	assert_non_null(y);
	assert_int_equal(item_int(tc_get(cose, -1)), 1);
	{
		uint8_t pt[65];
		OSSL_PARAM params[3];
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
		EVP_PKEY *k = NULL;

		pt[0] = 4;
		memcpy(pt + 1, cbor_bytestring_handle(x), 32);
		memcpy(pt + 33, cbor_bytestring_handle(y), 32);
		params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"prime256v1", 0);
		params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, 65);
		params[2] = OSSL_PARAM_construct_end();
		assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
		assert_int_equal(EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params), 1);
		EVP_PKEY_CTX_free(ctx);
		return k;
	}
}

static bool verify_sig(EVP_PKEY *pub, const uint8_t *msg, size_t n, const uint8_t *sig, size_t sn)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool ed = EVP_PKEY_get_id(pub) == EVP_PKEY_ED25519;
	int ok = EVP_DigestVerifyInit(md, NULL, ed ? NULL : EVP_sha256(), NULL, pub) == 1 &&
		 EVP_DigestVerify(md, sig, sn, msg, n) == 1;

	EVP_MD_CTX_free(md);
	return ok;
}

void tc_cred_clear(struct tc_cred *c)
{
	EVP_PKEY_free(c->pub);
	if (c->ext != NULL)
		cbor_decref(&c->ext);
	memset(c, 0, sizeof(*c));
}

/* Parses authData into c; returns false on malformed data. */
static void parse_authdata(const uint8_t *ad, size_t n, const char *rp_id, struct tc_cred *c)
{
	uint8_t h[32];
	size_t off = 37;

	assert_true(n >= 37);
	SHA256((const uint8_t *)rp_id, strlen(rp_id), h);
	assert_memory_equal(ad, h, 32);
	c->flags = ad[32];
	c->counter = (uint32_t)ad[33] << 24 | (uint32_t)ad[34] << 16 | (uint32_t)ad[35] << 8 | ad[36];
	if (c->flags & 0x40) {
		struct cbor_load_result res;
		cbor_item_t *cose;

		assert_true(n >= off + 18);
		memcpy(c->aaguid, ad + off, 16);
		c->id_len = (size_t)ad[off + 16] << 8 | ad[off + 17];
		off += 18;
		assert_true(c->id_len <= sizeof(c->id) && n >= off + c->id_len);
		memcpy(c->id, ad + off, c->id_len);
		off += c->id_len;
		cose = cbor_load(ad + off, n - off, &res);
		assert_non_null(cose);
		c->pub = tc_cose_to_pkey(cose);
		assert_non_null(c->pub);
		cbor_decref(&cose);
		off += res.read;
	}
	if (c->flags & 0x80) {
		struct cbor_load_result res;

		c->ext = cbor_load(ad + off, n - off, &res);
		assert_non_null(c->ext);
		assert_true(cbor_isa_map(c->ext));
		off += res.read;
	}
	assert_int_equal(off, n);
}

static void check_attestation(struct tc *t, const cbor_item_t *resp, const uint8_t cdh[32], const struct tc_cred *c)
{
	const cbor_item_t *fmt = tc_get(resp, 1), *ad = tc_get(resp, 2), *st = tc_get(resp, 3);
	const cbor_item_t *x5c, *sig;
	const uint8_t *der, *cap;
	size_t calen;
	X509 *cert, *ca;
	X509_STORE *store;
	X509_STORE_CTX *ctx;
	uint8_t *msg;
	size_t mlen;
	int idx;

	assert_non_null(fmt);
	assert_int_equal(cbor_string_length(fmt), 6);
	assert_memory_equal(cbor_string_handle(fmt), "packed", 6);
	assert_int_equal(item_int(tc_get_s(st, "alg")), -7);
	sig = tc_get_s(st, "sig");
	x5c = tc_get_s(st, "x5c");
	assert_non_null(sig);
	assert_non_null(x5c);
	assert_int_equal(cbor_array_size(x5c), 1);
	der = cbor_bytestring_handle(cbor_array_handle(x5c)[0]);
	cert = d2i_X509(NULL, &der, (long)cbor_bytestring_length(cbor_array_handle(x5c)[0]));
	assert_non_null(cert);

	mlen = cbor_bytestring_length(ad) + 32;
	msg = malloc(mlen);
	memcpy(msg, cbor_bytestring_handle(ad), mlen - 32);
	memcpy(msg + mlen - 32, cdh, 32);
	assert_true(verify_sig(X509_get0_pubkey(cert), msg, mlen, cbor_bytestring_handle(sig), cbor_bytestring_length(sig)));
	free(msg);

	/* FIDO batch certificate requirements */
	assert_int_equal(X509_get_version(cert), 2);
	assert_true(X509_get_extension_flags(cert) & EXFLAG_BCONS);
	assert_false(X509_get_extension_flags(cert) & EXFLAG_CA);
	{
		X509_NAME *subj = X509_get_subject_name(cert);
		char buf[128];

		assert_true(X509_NAME_get_text_by_NID(subj, NID_organizationalUnitName, buf, sizeof(buf)) > 0);
		assert_string_equal(buf, "Authenticator Attestation");
		assert_true(X509_NAME_get_text_by_NID(subj, NID_countryName, buf, sizeof(buf)) == 2);
		assert_true(X509_NAME_get_text_by_NID(subj, NID_organizationName, buf, sizeof(buf)) > 0);
		assert_true(X509_NAME_get_text_by_NID(subj, NID_commonName, buf, sizeof(buf)) > 0);
	}
	{
		ASN1_OBJECT *obj = OBJ_txt2obj("1.3.6.1.4.1.45724.1.1.4", 1);
		X509_EXTENSION *ext;
		const ASN1_OCTET_STRING *os;

		idx = X509_get_ext_by_OBJ(cert, obj, -1);
		ASN1_OBJECT_free(obj);
		assert_true(idx >= 0);
		ext = X509_get_ext(cert, idx);
		assert_false(X509_EXTENSION_get_critical(ext));
		os = X509_EXTENSION_get_data(ext);
		assert_int_equal(ASN1_STRING_length(os), 18);
		assert_int_equal(ASN1_STRING_get0_data(os)[0], 0x04);
		assert_int_equal(ASN1_STRING_get0_data(os)[1], 0x10);
		assert_memory_equal(ASN1_STRING_get0_data(os) + 2, c->aaguid, 16);
	}

	/* the chain to the exported attestation CA */
	cap = ctap_auth_attestation_ca(t->a, &calen);
	assert_non_null(cap);
	ca = d2i_X509(NULL, &cap, (long)calen);
	assert_non_null(ca);
	store = X509_STORE_new();
	assert_int_equal(X509_STORE_add_cert(store, ca), 1);
	ctx = X509_STORE_CTX_new();
	assert_int_equal(X509_STORE_CTX_init(ctx, store, cert, NULL), 1);
	assert_int_equal(X509_verify_cert(ctx), 1);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(ca);
	X509_free(cert);
}

static const uint8_t *cdh_or_default(const uint8_t cdh[32])
{
	static const uint8_t zero[32];

	return memcmp(cdh, zero, 32) == 0 ? tc_default_cdh : cdh;
}

uint8_t tc_make_credential(struct tc *t, struct tc_mc *o, struct tc_cred *out)
{
	const char *rp = o->rp_id ? o->rp_id : "example.com";
	const uint8_t *uid = o->user_id ? o->user_id : (const uint8_t *)"user-1";
	size_t uid_len = o->user_id ? o->user_id_len : 6;
	const uint8_t *cdh = cdh_or_default(o->cdh);
	struct mb m = { .n = 0 };
	cbor_item_t *resp = NULL, *user;
	uint8_t st;

	memset(out, 0, sizeof(*out));
	mb_add(&m, 1, tc_bytes(cdh, 32));
	mb_add(&m, 2, tc_map(2, tc_text("id"), tc_text(rp), tc_text("name"), tc_text("Example RP")));
	if (o->user_name && o->display_name)
		user = tc_map(3, tc_text("id"), tc_bytes(uid, uid_len), tc_text("name"), tc_text(o->user_name),
			      tc_text("displayName"), tc_text(o->display_name));
	else if (o->user_name)
		user = tc_map(2, tc_text("id"), tc_bytes(uid, uid_len), tc_text("name"), tc_text(o->user_name));
	else
		user = tc_map(1, tc_text("id"), tc_bytes(uid, uid_len));
	mb_add(&m, 3, user);
	mb_add(&m, 4, tc_array(1, tc_param(o->alg ? o->alg : -7)));
	if (o->exclude)
		mb_add(&m, 5, o->exclude);
	if (o->cred_protect && o->hmac_secret)
		mb_add(&m, 6, tc_map(2, tc_text("credProtect"), tc_int(o->cred_protect), tc_text("hmac-secret"), tc_bool(true)));
	else if (o->cred_protect)
		mb_add(&m, 6, tc_map(1, tc_text("credProtect"), tc_int(o->cred_protect)));
	else if (o->hmac_secret)
		mb_add(&m, 6, tc_map(1, tc_text("hmac-secret"), tc_bool(true)));
	if (o->options)
		mb_add(&m, 7, o->options);
	else if (o->rk)
		mb_add(&m, 7, tc_map(1, tc_text("rk"), tc_bool(true)));
	if (o->token) {
		int proto = o->proto ? o->proto : 2;
		uint8_t auth[32];
		size_t al = tc_pin_auth(proto, o->token, cdh, 32, auth);

		mb_add(&m, 8, tc_bytes(auth, al));
		mb_add(&m, 9, tc_int(proto));
	}
	o->exclude = NULL;
	o->options = NULL;
	st = tc_cmd(t, 0x01, mb_done(&m), &resp);
	if (st == 0) {
		const cbor_item_t *ad = tc_get(resp, 2);

		assert_non_null(ad);
		parse_authdata(cbor_bytestring_handle(ad), cbor_bytestring_length(ad), rp, out);
		assert_true(out->flags & 0x40);
		assert_non_null(out->pub);
		assert_memory_equal(out->aaguid, ctap_auth_aaguid(t->a), 16);
		check_attestation(t, resp, cdh, out);
	}
	if (resp != NULL)
		cbor_decref(&resp);
	return st;
}

bool tc_check_assertion(const cbor_item_t *resp, const uint8_t cdh[32], EVP_PKEY *pub)
{
	const cbor_item_t *ad = tc_get(resp, 2), *sig = tc_get(resp, 3);
	uint8_t *msg;
	size_t n;
	bool ok;

	if (ad == NULL || sig == NULL)
		return false;
	n = cbor_bytestring_length(ad) + 32;
	msg = malloc(n);
	memcpy(msg, cbor_bytestring_handle(ad), n - 32);
	memcpy(msg + n - 32, cdh, 32);
	ok = verify_sig(pub, msg, n, cbor_bytestring_handle(sig), cbor_bytestring_length(sig));
	free(msg);
	return ok;
}

uint8_t tc_get_assertion(struct tc *t, struct tc_ga *o, EVP_PKEY *pub, cbor_item_t **resp)
{
	const char *rp = o->rp_id ? o->rp_id : "example.com";
	const uint8_t *cdh = cdh_or_default(o->cdh);
	struct mb m = { .n = 0 };
	uint8_t st;

	mb_add(&m, 1, tc_text(rp));
	mb_add(&m, 2, tc_bytes(cdh, 32));
	if (o->allow)
		mb_add(&m, 3, o->allow);
	else if (o->allow_id)
		mb_add(&m, 3, tc_array(1, tc_desc(o->allow_id, o->allow_len)));
	if (o->extensions)
		mb_add(&m, 4, o->extensions);
	if (o->options)
		mb_add(&m, 5, o->options);
	if (o->token) {
		int proto = o->proto ? o->proto : 2;
		uint8_t auth[32];
		size_t al = tc_pin_auth(proto, o->token, cdh, 32, auth);

		mb_add(&m, 6, tc_bytes(auth, al));
		mb_add(&m, 7, tc_int(proto));
	}
	o->allow = NULL;
	o->options = NULL;
	o->extensions = NULL;
	st = tc_cmd(t, 0x02, mb_done(&m), resp);
	if (st == 0 && pub != NULL)
		assert_true(tc_check_assertion(*resp, cdh, pub));
	return st;
}

/* ---- PIN/UV auth protocol, host side ---- */

static void hkdf32(const uint8_t *z, const char *info, uint8_t out[32])
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	uint8_t salt[32] = { 0 };
	size_t len = 32;

	assert_int_equal(EVP_PKEY_derive_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_hkdf_md(ctx, EVP_sha256()), 1);
	assert_int_equal(EVP_PKEY_CTX_set1_hkdf_salt(ctx, salt, 32), 1);
	assert_int_equal(EVP_PKEY_CTX_set1_hkdf_key(ctx, z, 32), 1);
	assert_int_equal(EVP_PKEY_CTX_add1_hkdf_info(ctx, (const uint8_t *)info, (int)strlen(info)), 1);
	assert_int_equal(EVP_PKEY_derive(ctx, out, &len), 1);
	EVP_PKEY_CTX_free(ctx);
}

uint8_t tc_pin_agree(struct tc *t, int proto, struct tc_pin *p)
{
	cbor_item_t *resp = NULL;
	EVP_PKEY *peer, *own;
	EVP_PKEY_CTX *ctx;
	uint8_t st, z[32], pt[65];
	size_t zl = 32, pl = 0;

	memset(p, 0, sizeof(*p));
	p->proto = proto;
	st = tc_cmd(t, 0x06, tc_map(2, tc_int(1), tc_int(proto), tc_int(2), tc_int(2)), &resp);
	if (st != 0)
		return st;
	peer = tc_cose_to_pkey(tc_get(resp, 1));
	assert_int_equal(item_int(tc_get(tc_get(resp, 1), 3)), -25);
	cbor_decref(&resp);
	own = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ctx = EVP_PKEY_CTX_new(own, NULL);
	assert_int_equal(EVP_PKEY_derive_init(ctx), 1);
	assert_int_equal(EVP_PKEY_derive_set_peer(ctx, peer), 1);
	assert_int_equal(EVP_PKEY_derive(ctx, z, &zl), 1);
	EVP_PKEY_CTX_free(ctx);
	if (proto == 1) {
		SHA256(z, 32, p->shared);
		p->shared_len = 32;
	} else {
		hkdf32(z, "CTAP2 HMAC key", p->shared);
		hkdf32(z, "CTAP2 AES key", p->shared + 32);
		p->shared_len = 64;
	}
	assert_int_equal(EVP_PKEY_get_octet_string_param(own, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &pl), 1);
	p->platform_key = tc_map(5, tc_int(1), tc_int(2), tc_int(3), tc_int(-25), tc_int(-1), tc_int(1), tc_int(-2),
				 tc_bytes(pt + 1, 32), tc_int(-3), tc_bytes(pt + 33, 32));
	EVP_PKEY_free(own);
	EVP_PKEY_free(peer);
	return 0;
}

void tc_pin_clear(struct tc_pin *p)
{
	if (p->platform_key != NULL)
		cbor_decref(&p->platform_key);
	memset(p, 0, sizeof(*p));
}

size_t tc_pin_auth(int proto, const uint8_t *key, const uint8_t *msg, size_t n, uint8_t *out)
{
	uint8_t mac[32];
	unsigned int len = 32;

	HMAC(EVP_sha256(), key, 32, msg, n, mac, &len);
	memcpy(out, mac, proto == 1 ? 16 : 32);
	return proto == 1 ? 16 : 32;
}

static size_t cbc(bool enc, const uint8_t *key, const uint8_t *iv, const uint8_t *in, size_t n, uint8_t *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int l1 = 0, l2 = 0;

	assert_int_equal(EVP_CipherInit_ex(c, EVP_aes_256_cbc(), NULL, key, iv, enc), 1);
	EVP_CIPHER_CTX_set_padding(c, 0);
	assert_int_equal(EVP_CipherUpdate(c, out, &l1, in, (int)n), 1);
	assert_int_equal(EVP_CipherFinal_ex(c, out + l1, &l2), 1);
	EVP_CIPHER_CTX_free(c);
	return (size_t)(l1 + l2);
}

size_t tc_pin_encrypt(const struct tc_pin *p, const uint8_t *in, size_t n, uint8_t *out)
{
	uint8_t iv[16] = { 0 };

	if (p->proto == 1)
		return cbc(true, p->shared, iv, in, n, out);
	RAND_bytes(iv, 16);
	memcpy(out, iv, 16);
	return 16 + cbc(true, p->shared + 32, iv, in, n, out + 16);
}

size_t tc_pin_decrypt(const struct tc_pin *p, const uint8_t *in, size_t n, uint8_t *out)
{
	uint8_t iv[16] = { 0 };

	if (p->proto == 1)
		return cbc(false, p->shared, iv, in, n, out);
	return cbc(false, p->shared + 32, in, in + 16, n - 16, out);
}

uint8_t tc_set_pin(struct tc *t, int proto, const char *pin)
{
	struct tc_pin p;
	uint8_t padded[64] = { 0 }, enc[80], auth[32];
	size_t el, al;
	uint8_t st;

	if ((st = tc_pin_agree(t, proto, &p)) != 0)
		return st;
	memcpy(padded, pin, strlen(pin));
	el = tc_pin_encrypt(&p, padded, 64, enc);
	al = tc_pin_auth(proto, p.shared, enc, el, auth);
	st = tc_cmd(t, 0x06,
		    tc_map(5, tc_int(1), tc_int(proto), tc_int(2), tc_int(3), tc_int(3), cbor_incref(p.platform_key),
			   tc_int(4), tc_bytes(auth, al), tc_int(5), tc_bytes(enc, el)),
		    NULL);
	tc_pin_clear(&p);
	return st;
}

static size_t pin_hash_enc(const struct tc_pin *p, const char *pin, uint8_t *out)
{
	uint8_t h[32];

	SHA256((const uint8_t *)pin, strlen(pin), h);
	return tc_pin_encrypt(p, h, 16, out);
}

uint8_t tc_change_pin(struct tc *t, int proto, const char *old_pin, const char *new_pin)
{
	struct tc_pin p;
	uint8_t padded[64] = { 0 }, enc[80], henc[32], msg[112], auth[32];
	size_t el, hl, al;
	uint8_t st;

	if ((st = tc_pin_agree(t, proto, &p)) != 0)
		return st;
	memcpy(padded, new_pin, strlen(new_pin));
	el = tc_pin_encrypt(&p, padded, 64, enc);
	hl = pin_hash_enc(&p, old_pin, henc);
	memcpy(msg, enc, el);
	memcpy(msg + el, henc, hl);
	al = tc_pin_auth(proto, p.shared, msg, el + hl, auth);
	st = tc_cmd(t, 0x06,
		    tc_map(6, tc_int(1), tc_int(proto), tc_int(2), tc_int(4), tc_int(3), cbor_incref(p.platform_key),
			   tc_int(4), tc_bytes(auth, al), tc_int(5), tc_bytes(enc, el), tc_int(6), tc_bytes(henc, hl)),
		    NULL);
	tc_pin_clear(&p);
	return st;
}

uint8_t tc_get_token(struct tc *t, int proto, const char *pin, uint8_t permissions, const char *rp_id,
		     uint8_t token[32])
{
	struct tc_pin p;
	uint8_t henc[32], dec[32], enc[48];
	size_t hl, n;
	cbor_item_t *req, *resp = NULL;
	uint8_t st;

	if ((st = tc_pin_agree(t, proto, &p)) != 0)
		return st;
	hl = pin_hash_enc(&p, pin, henc);
	if (permissions == 0)
		req = tc_map(4, tc_int(1), tc_int(proto), tc_int(2), tc_int(5), tc_int(3), cbor_incref(p.platform_key),
			     tc_int(6), tc_bytes(henc, hl));
	else if (rp_id == NULL)
		req = tc_map(5, tc_int(1), tc_int(proto), tc_int(2), tc_int(9), tc_int(3), cbor_incref(p.platform_key),
			     tc_int(6), tc_bytes(henc, hl), tc_int(9), tc_int(permissions));
	else
		req = tc_map(6, tc_int(1), tc_int(proto), tc_int(2), tc_int(9), tc_int(3), cbor_incref(p.platform_key),
			     tc_int(6), tc_bytes(henc, hl), tc_int(9), tc_int(permissions), tc_int(0x0A), tc_text(rp_id));
	st = tc_cmd(t, 0x06, req, &resp);
	if (st == 0) {
		n = tc_get_bytes(resp, 2, enc, sizeof(enc));
		assert_int_equal(n, proto == 1 ? 32 : 48);
		assert_int_equal(tc_pin_decrypt(&p, enc, n, dec), 32);
		memcpy(token, dec, 32);
		cbor_decref(&resp);
	}
	tc_pin_clear(&p);
	return st;
}

uint8_t tc_get_retries(struct tc *t, uint64_t *retries)
{
	cbor_item_t *resp = NULL;
	uint8_t st = tc_cmd(t, 0x06, tc_map(2, tc_int(1), tc_int(1), tc_int(2), tc_int(1)), &resp);

	if (st == 0) {
		*retries = tc_get_uint(resp, 3);
		cbor_decref(&resp);
	}
	return st;
}
