/* The applet's persistent state as bytes and back: a sequence of TLV records
 * (private tags, one byte each):
 *   C0 format version (01)
 *   C1 PIN: 8-byte FF-padded value, tries allowed, tries left
 *   C2 PUK: the same
 *   C3 management key: algorithm, key (24, 16, 24 or 32 bytes)
 *   C4 serial number (4 bytes, big-endian)
 *   E5 key { C6 slot, C7 algorithm, C8 PIN policy + touch policy + origin,
 *            C9 private key DER (PKCS#1 / SEC 1) }        zero or more
 *   E6 data object { CA tag (4 bytes, big-endian), CB the object as GET DATA
 *            returns it }                                  zero or more
 * Load checks every record and refuses the whole input, leaving the applet
 * untouched, at the first problem. */
#include "piv_internal.h"

#include <stdio.h>
#include <string.h>
#include <openssl/x509.h>

#include "log.h"
#include "secmem.h"
#include "tlv.h"

#define STATE_VERSION 1

enum {
	REC_VERSION = 0xC0,
	REC_PIN = 0xC1,
	REC_PUK = 0xC2,
	REC_MGMT = 0xC3,
	REC_SERIAL = 0xC4,
	REC_KEY = 0xE5,
	REC_OBJECT = 0xE6,
	KEY_SLOT = 0xC6,
	KEY_ALG = 0xC7,
	KEY_POLICY = 0xC8,
	KEY_DER = 0xC9,
	OBJ_TAG = 0xCA,
	OBJ_DATA = 0xCB,
};

static void put_ref(struct llv_buf *out, uint32_t tag, const struct piv_ref *ref)
{
	uint8_t v[PIV_PIN_LEN + 2];

	memcpy(v, ref->value, PIV_PIN_LEN);
	v[PIV_PIN_LEN] = ref->max;
	v[PIV_PIN_LEN + 1] = ref->left;
	llv_tlv_put(out, tag, v, sizeof(v));
	llv_wipe(v, sizeof(v));
}

int piv_applet_save(const struct piv_applet *piv, struct llv_buf *out)
{
	uint8_t v[1 + PIV_MGMT_MAX];
	size_t klen = piv_sym_key_len(piv->mgmt_alg);

	/* The output holds PINs and private keys: wipe it whenever it moves. */
	out->secret = true;
	llv_tlv_put(out, REC_VERSION, "\x01", 1);
	put_ref(out, REC_PIN, &piv->pin);
	put_ref(out, REC_PUK, &piv->puk);
	v[0] = piv->mgmt_alg;
	memcpy(v + 1, piv->mgmt_key, klen);
	llv_tlv_put(out, REC_MGMT, v, 1 + klen);
	llv_wipe(v, sizeof(v));
	v[0] = (uint8_t)(piv->serial >> 24);
	v[1] = (uint8_t)(piv->serial >> 16);
	v[2] = (uint8_t)(piv->serial >> 8);
	v[3] = (uint8_t)piv->serial;
	llv_tlv_put(out, REC_SERIAL, v, 4);

	for (int i = 0; i < PIV_NUM_SLOTS; i++) {
		const struct piv_key *k = &piv->keys[i];
		struct llv_buf rec;
		unsigned char *der = NULL;
		int der_len;
		uint8_t slot = piv_slot_at(i);
		uint8_t pol[3] = { k->pin_policy, k->touch_policy, k->origin };

		if (k->pkey == NULL)
			continue;
		der_len = i2d_PrivateKey(k->pkey, &der);
		if (der_len <= 0) {
			llv_error("piv: cannot encode the key of slot %02X", slot);
			return -1;
		}
		llv_buf_init_secret(&rec);
		llv_tlv_put(&rec, KEY_SLOT, &slot, 1);
		llv_tlv_put(&rec, KEY_ALG, &k->alg, 1);
		llv_tlv_put(&rec, KEY_POLICY, pol, sizeof(pol));
		llv_tlv_put(&rec, KEY_DER, der, (size_t)der_len);
		OPENSSL_clear_free(der, (size_t)der_len);
		llv_tlv_put(out, REC_KEY, rec.data, rec.len);
		if (!llv_buf_ok(&rec))
			out->failed = true;
		llv_buf_free(&rec);
	}
	for (size_t i = 0; i < piv->n_objects; i++) {
		const struct piv_object *o = &piv->objects[i];
		struct llv_buf rec = LLV_BUF_INIT;

		llv_tlv_put_tag(&rec, OBJ_TAG);
		llv_tlv_put_len(&rec, 4);
		llv_buf_put_be32(&rec, o->tag);
		llv_tlv_put(&rec, OBJ_DATA, o->data, o->len);
		llv_tlv_put(out, REC_OBJECT, rec.data, rec.len);
		if (!llv_buf_ok(&rec))
			out->failed = true;
		llv_buf_free(&rec);
	}
	if (!llv_buf_ok(out)) {
		llv_error("piv: out of memory saving the state");
		return -1;
	}
	return 0;
}

static int load_ref(struct piv_ref *ref, const struct llv_tlv *t, bool is_pin, char *err, size_t errlen)
{
	const char *what = is_pin ? "PIN" : "PUK";

	if (t->len != PIV_PIN_LEN + 2) {
		snprintf(err, errlen, "%s record has length %zu, expected %d", what, t->len, PIV_PIN_LEN + 2);
		return -1;
	}
	if (!piv_pin_format_ok(t->value, is_pin)) {
		snprintf(err, errlen, "%s record holds a malformed %s", what, what);
		return -1;
	}
	memcpy(ref->value, t->value, PIV_PIN_LEN);
	ref->max = t->value[PIV_PIN_LEN];
	ref->left = t->value[PIV_PIN_LEN + 1];
	if (ref->max == 0 || ref->left > ref->max) {
		snprintf(err, errlen, "%s record has bad retry counters (%u left of %u)", what, ref->left, ref->max);
		return -1;
	}
	return 0;
}

static int load_key(struct piv_applet *tmp, const struct llv_tlv *rec, char *err, size_t errlen)
{
	struct llv_tlv f[4];
	static const uint32_t tags[4] = { KEY_SLOT, KEY_ALG, KEY_POLICY, KEY_DER };
	const uint8_t *p = rec->value;
	size_t left = rec->len;
	const unsigned char *dp;
	EVP_PKEY *pkey;
	uint8_t slot, alg;
	struct piv_key *k;

	for (int i = 0; i < 4; i++) {
		if (llv_tlv_parse(p, left, &f[i]) != 0 || f[i].tag != tags[i]) {
			snprintf(err, errlen, "key record: field %d missing or malformed", i + 1);
			return -1;
		}
		p += f[i].raw_len;
		left -= f[i].raw_len;
	}
	if (left != 0 || f[0].len != 1 || f[1].len != 1 || f[2].len != 3 || f[3].len == 0 || f[3].len > 0x7fffffff) {
		snprintf(err, errlen, "key record: bad field lengths");
		return -1;
	}
	slot = f[0].value[0];
	alg = f[1].value[0];
	k = piv_key_get(tmp, slot);
	if (k == NULL || slot == PIV_KEY_MGMT) {
		snprintf(err, errlen, "key record: %02X is not a key slot", slot);
		return -1;
	}
	if (k->pkey != NULL) {
		snprintf(err, errlen, "key record: slot %02X appears twice", slot);
		return -1;
	}
	if (!piv_alg_is_asym(alg)) {
		snprintf(err, errlen, "key record: slot %02X has unknown algorithm %02X", slot, alg);
		return -1;
	}
	if (f[2].value[0] > PIV_PIN_POLICY_ALWAYS || f[2].value[1] > PIV_TOUCH_POLICY_MAX ||
	    (f[2].value[2] != PIV_ORIGIN_GENERATED && f[2].value[2] != PIV_ORIGIN_IMPORTED)) {
		snprintf(err, errlen, "key record: slot %02X has bad policies or origin", slot);
		return -1;
	}
	dp = f[3].value;
	pkey = d2i_AutoPrivateKey(NULL, &dp, (long)f[3].len);
	if (pkey == NULL || dp != f[3].value + f[3].len) {
		EVP_PKEY_free(pkey);
		snprintf(err, errlen, "key record: slot %02X holds an unreadable private key", slot);
		return -1;
	}
	if (piv_key_alg_of(pkey) != alg) {
		EVP_PKEY_free(pkey);
		snprintf(err, errlen, "key record: slot %02X key does not match algorithm %02X", slot, alg);
		return -1;
	}
	{
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
		int ok = ctx != NULL && EVP_PKEY_pairwise_check(ctx) == 1;

		EVP_PKEY_CTX_free(ctx);
		if (!ok) {
			EVP_PKEY_free(pkey);
			snprintf(err, errlen, "key record: slot %02X key fails its consistency check", slot);
			return -1;
		}
	}
	k->pkey = pkey;
	k->alg = alg;
	k->pin_policy = f[2].value[0];
	k->touch_policy = f[2].value[1];
	k->origin = f[2].value[2];
	return 0;
}

static int load_object(struct piv_applet *tmp, const struct llv_tlv *rec, char *err, size_t errlen)
{
	struct llv_tlv ft, fd;
	uint32_t tag;

	if (llv_tlv_parse(rec->value, rec->len, &ft) != 0 || ft.tag != OBJ_TAG || ft.len != 4 ||
	    llv_tlv_parse(rec->value + ft.raw_len, rec->len - ft.raw_len, &fd) != 0 || fd.tag != OBJ_DATA ||
	    ft.raw_len + fd.raw_len != rec->len) {
		snprintf(err, errlen, "object record malformed");
		return -1;
	}
	tag = (uint32_t)ft.value[0] << 24 | (uint32_t)ft.value[1] << 16 | (uint32_t)ft.value[2] << 8 | ft.value[3];
	if (!piv_object_tag_valid(tag)) {
		snprintf(err, errlen, "object record: %X is not a PIV data object", tag);
		return -1;
	}
	if (piv_object_find(tmp, tag) != NULL) {
		snprintf(err, errlen, "object record: %06X appears twice", tag);
		return -1;
	}
	if (!piv_object_data_valid(tag, fd.value, fd.len)) {
		snprintf(err, errlen, "object record: %06X has malformed contents", tag);
		return -1;
	}
	if (piv_object_set(tmp, tag, fd.value, fd.len) != SW_OK) {
		snprintf(err, errlen, "object record: %06X cannot be stored (too many objects?)", tag);
		return -1;
	}
	return 0;
}

static int load_records(struct piv_applet *tmp, const uint8_t *data, size_t len, char *err, size_t errlen)
{
	struct llv_tlv t;
	size_t off = 0;
	unsigned seen = 0;   /* bits of the records that must appear once */
	int index = 0;

	while (off < len) {
		unsigned bit = 0;

		index++;
		if (llv_tlv_parse(data + off, len - off, &t) != 0) {
			snprintf(err, errlen, "record %d at offset %zu is truncated or malformed", index, off);
			return -1;
		}
		off += t.raw_len;
		if (index == 1 && t.tag != REC_VERSION) {
			snprintf(err, errlen, "does not start with a version record");
			return -1;
		}
		switch (t.tag) {
		case REC_VERSION:
			bit = 1;
			if (t.len != 1 || t.value[0] != STATE_VERSION) {
				snprintf(err, errlen, "unknown format version");
				return -1;
			}
			break;
		case REC_PIN:
		case REC_PUK:
			bit = t.tag == REC_PIN ? 2 : 4;
			if (!(seen & bit) && load_ref(t.tag == REC_PIN ? &tmp->pin : &tmp->puk, &t, t.tag == REC_PIN,
						      err, errlen) != 0)
				return -1;
			break;
		case REC_MGMT:
			bit = 8;
			if (t.len < 1 || !piv_alg_is_sym(t.value[0]) || t.value[0] == PIV_ALG_3DES_ALT ||
			    t.len != 1 + piv_sym_key_len(t.value[0])) {
				snprintf(err, errlen, "management key record malformed");
				return -1;
			}
			tmp->mgmt_alg = t.value[0];
			memset(tmp->mgmt_key, 0, sizeof(tmp->mgmt_key));
			memcpy(tmp->mgmt_key, t.value + 1, t.len - 1);
			break;
		case REC_SERIAL:
			bit = 16;
			if (t.len != 4) {
				snprintf(err, errlen, "serial record malformed");
				return -1;
			}
			tmp->serial = (uint32_t)t.value[0] << 24 | (uint32_t)t.value[1] << 16 |
				      (uint32_t)t.value[2] << 8 | t.value[3];
			break;
		case REC_KEY:
			if (load_key(tmp, &t, err, errlen) != 0)
				return -1;
			break;
		case REC_OBJECT:
			if (load_object(tmp, &t, err, errlen) != 0)
				return -1;
			break;
		default:
			snprintf(err, errlen, "unknown record %02X at offset %zu", t.tag, off - t.raw_len);
			return -1;
		}
		if (bit != 0) {
			if (seen & bit) {
				snprintf(err, errlen, "record %02X appears twice", t.tag);
				return -1;
			}
			seen |= bit;
		}
	}
	if (seen != 31) {
		snprintf(err, errlen, "incomplete: %s%s%s%s%s record missing", !(seen & 1) ? "version " : "",
			 !(seen & 2) ? "PIN " : "", !(seen & 4) ? "PUK " : "", !(seen & 8) ? "management key " : "",
			 !(seen & 16) ? "serial " : "");
		return -1;
	}
	return 0;
}

int piv_applet_load(struct piv_applet *piv, const uint8_t *data, size_t len, char *err, size_t errlen)
{
	struct piv_applet *tmp;
	char reason[160];

	if (piv == NULL || (data == NULL && len > 0)) {
		snprintf(err, errlen, "PIV state: no input");
		return -1;
	}
	if (len == 0) {
		snprintf(err, errlen, "PIV state: empty");
		return -1;
	}
	tmp = piv_applet_new();
	if (tmp == NULL) {
		snprintf(err, errlen, "PIV state: out of memory");
		return -1;
	}
	reason[0] = '\0';
	if (load_records(tmp, data, len, reason, sizeof(reason)) != 0) {
		snprintf(err, errlen, "PIV state: %s", reason);
		piv_applet_free(tmp);
		return -1;
	}
	/* Accepted: the new state replaces the old in one go. */
	piv_clear_state(piv);
	memcpy(&piv->pin, &tmp->pin, sizeof(piv->pin));
	memcpy(&piv->puk, &tmp->puk, sizeof(piv->puk));
	piv->mgmt_alg = tmp->mgmt_alg;
	memcpy(piv->mgmt_key, tmp->mgmt_key, sizeof(piv->mgmt_key));
	piv->serial = tmp->serial;
	memcpy(piv->keys, tmp->keys, sizeof(piv->keys));
	memcpy(piv->objects, tmp->objects, sizeof(piv->objects));
	piv->n_objects = tmp->n_objects;
	memset(tmp->keys, 0, sizeof(tmp->keys));
	memset(tmp->objects, 0, sizeof(tmp->objects));
	tmp->n_objects = 0;
	piv_applet_free(tmp);
	piv_reset_security(piv);
	piv->dirty = false;
	return 0;
}
