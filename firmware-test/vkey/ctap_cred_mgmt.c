/* authenticatorCredentialManagement (CTAP 2.1 section 6.8; also the
 * prototype command 0x41): metadata, enumerate RPs and credentials, delete,
 * update user information. Authenticated with a pinUvAuthToken holding the
 * cm permission over subCommand || subCommandParams. */
#include <string.h>

#include "ctap_internal.h"

#define SUB_METADATA       0x01
#define SUB_RPS_BEGIN      0x02
#define SUB_RPS_NEXT       0x03
#define SUB_CREDS_BEGIN    0x04
#define SUB_CREDS_NEXT     0x05
#define SUB_DELETE         0x06
#define SUB_UPDATE_USER    0x07

#define CM_NONE  0
#define CM_RPS   1
#define CM_CREDS 2

static void put_rp(struct llv_buf *out, const struct ctap_rk *rk, size_t total)
{
	ctap_enc_map(out, total ? 3 : 2);
	ctap_enc_uint(out, 3);
	ctap_enc_map(out, rk->rp_name.present ? 2 : 1);
	ctap_enc_textz(out, "id");
	ctap_enc_text(out, rk->rp_id.s, rk->rp_id.len);
	if (rk->rp_name.present) {
		ctap_enc_textz(out, "name");
		ctap_enc_text(out, rk->rp_name.s, rk->rp_name.len);
	}
	ctap_enc_uint(out, 4);
	ctap_enc_bytes(out, rk->cred.rp_id_hash, 32);
	if (total) {
		ctap_enc_uint(out, 5);
		ctap_enc_uint(out, total);
	}
}

static uint8_t put_cred(struct llv_buf *out, const struct ctap_rk *rk, size_t total)
{
	ctap_enc_map(out, total ? 5 : 4);
	ctap_enc_uint(out, 6);
	ctap_rk_put_user(out, rk, true);
	ctap_enc_uint(out, 7);
	ctap_enc_map(out, 2);
	ctap_enc_textz(out, "id");
	ctap_enc_bytes(out, rk->cred.id, CTAP_CRED_ID_LEN);
	ctap_enc_textz(out, "type");
	ctap_enc_textz(out, "public-key");
	ctap_enc_uint(out, 8);
	if (ctap_key_put_cose(out, rk->cred.alg, rk->cred.priv) != 0)
		return CTAP1_ERR_OTHER;
	if (total) {
		ctap_enc_uint(out, 9);
		ctap_enc_uint(out, total);
	}
	ctap_enc_uint(out, 0x0A);
	ctap_enc_uint(out, rk->cred.cred_protect);
	return CTAP2_OK;
}

/* One slot per RP (the newest credential of each), newest RP first. */
static size_t list_rps(const struct ctap_auth *a, int *idx)
{
	int all[CTAP_MAX_RK];
	size_t n = ctap_rk_list(a, NULL, all, CTAP_MAX_RK), m = 0;

	for (size_t i = 0; i < n; i++) {
		bool seen = false;

		for (size_t j = 0; j < m && !seen; j++)
			seen = memcmp(a->p.rk[idx[j]].cred.rp_id_hash, a->p.rk[all[i]].cred.rp_id_hash, 32) == 0;
		if (!seen)
			idx[m++] = all[i];
	}
	return m;
}

static uint8_t find_cred(const struct ctap_auth *a, const cbor_item_t *params, int *idx)
{
	const cbor_item_t *it = ctap_dec_get(params, 2);
	struct ctap_desc d;
	uint8_t st;

	if (it == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if ((st = ctap_dec_descriptor(it, &d)) != CTAP2_OK)
		return st;
	*idx = ctap_rk_find_id(a, d.id, d.id_len);
	return *idx < 0 ? CTAP2_ERR_NO_CREDENTIALS : CTAP2_OK;
}

static uint8_t update_user(struct ctap_auth *a, const cbor_item_t *params, int idx)
{
	const cbor_item_t *user = ctap_dec_get(params, 3), *f;
	struct ctap_rk *rk = &a->p.rk[idx];
	struct ctap_text name, dname;
	const uint8_t *uid;
	size_t uid_len;
	uint8_t st;

	if (user == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if ((st = ctap_dec_expect_map(user)) != CTAP2_OK)
		return st;
	if ((f = ctap_dec_get_s(user, "id")) == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if ((st = ctap_dec_bytes(f, &uid, &uid_len)) != CTAP2_OK)
		return st;
	memset(&name, 0, sizeof(name));
	memset(&dname, 0, sizeof(dname));
	if ((f = ctap_dec_get_s(user, "name")) != NULL &&
	    (st = ctap_dec_text_into(f, &name, CTAP_NAME_MAX, true)) != CTAP2_OK)
		return st;
	if ((f = ctap_dec_get_s(user, "displayName")) != NULL &&
	    (st = ctap_dec_text_into(f, &dname, CTAP_NAME_MAX, true)) != CTAP2_OK)
		return st;
	if (uid_len != rk->user_id_len || memcmp(uid, rk->user_id, uid_len) != 0)
		return CTAP1_ERR_INVALID_PARAMETER;
	/* absent or empty fields are removed */
	name.present = name.present && name.len > 0;
	dname.present = dname.present && dname.len > 0;
	rk->user_name = name;
	rk->display_name = dname;
	ctap_mark_dirty(a);
	return CTAP2_OK;
}

static uint8_t next(struct ctap_auth *a, int kind, struct llv_buf *out)
{
	struct ctap_cm_state *cm = &a->cm;
	int idx;

	if (cm->kind != kind || cm->next >= cm->n) {
		memset(cm, 0, sizeof(*cm));
		return CTAP2_ERR_NOT_ALLOWED;
	}
	idx = cm->idx[cm->next++];
	if (!a->p.rk[idx].used) {
		memset(cm, 0, sizeof(*cm));
		return CTAP2_ERR_NOT_ALLOWED;
	}
	if (kind == CM_RPS) {
		put_rp(out, &a->p.rk[idx], 0);
		return CTAP2_OK;
	}
	return put_cred(out, &a->p.rk[idx], 0);
}

uint8_t ctap_cmd_cred_mgmt(struct ctap_auth *a, const uint8_t *p, size_t n, struct llv_buf *out)
{
	cbor_item_t *req = NULL;
	const cbor_item_t *it, *params;
	struct ctap_pin_params pin;
	const uint8_t *raw = NULL, *rp_hash = NULL;
	size_t raw_len = 0;
	uint64_t sub;
	uint8_t st, msg[1 + CTAP_MAX_REQUEST];
	int idx;

	if ((st = ctap_dec_params(p, n, &req)) != CTAP2_OK)
		goto out;
	st = CTAP2_ERR_MISSING_PARAMETER;
	if ((it = ctap_dec_get(req, 1)) == NULL)
		goto out;
	if ((st = ctap_dec_uint(it, &sub)) != CTAP2_OK)
		goto out;
	if ((params = ctap_dec_get(req, 2)) != NULL && (st = ctap_dec_expect_map(params)) != CTAP2_OK)
		goto out;
	if ((st = ctap_pin_params_parse(req, 4, 3, &pin)) != CTAP2_OK)
		goto out;
	if (sub == SUB_RPS_NEXT || sub == SUB_CREDS_NEXT) {
		st = next(a, sub == SUB_RPS_NEXT ? CM_RPS : CM_CREDS, out);
		goto out;
	}
	memset(&a->cm, 0, sizeof(a->cm));
	if (sub < SUB_METADATA || sub > SUB_UPDATE_USER) {
		st = CTAP2_ERR_INVALID_SUBCOMMAND;
		goto out;
	}
	/* subcommands that need subCommandParams */
	if ((sub == SUB_CREDS_BEGIN || sub == SUB_DELETE || sub == SUB_UPDATE_USER) && params == NULL) {
		st = CTAP2_ERR_MISSING_PARAMETER;
		goto out;
	}
	if (!pin.present) {
		st = CTAP2_ERR_PUAT_REQUIRED;
		goto out;
	}
	st = CTAP2_ERR_MISSING_PARAMETER;
	if (!pin.has_proto)
		goto out;
	st = CTAP1_ERR_INVALID_PARAMETER;
	if (pin.proto_raw != 1 && pin.proto_raw != 2)
		goto out;
	pin.proto = (int)pin.proto_raw;
	if (params != NULL && !ctap_dec_raw_value(p, n, 2, &raw, &raw_len)) {
		st = CTAP2_ERR_INVALID_CBOR;
		goto out;
	}
	if (sub == SUB_CREDS_BEGIN) {
		const cbor_item_t *h = ctap_dec_get(params, 1);
		const uint8_t *hp;
		size_t hl;

		st = CTAP2_ERR_MISSING_PARAMETER;
		if (h == NULL)
			goto out;
		if ((st = ctap_dec_bytes(h, &hp, &hl)) != CTAP2_OK)
			goto out;
		st = CTAP1_ERR_INVALID_LENGTH;
		if (hl != 32)
			goto out;
		rp_hash = hp;
	}
	msg[0] = (uint8_t)sub;
	if (raw_len > 0)
		memcpy(msg + 1, raw, raw_len);
	/* metadata and RP enumeration cover every RP: no RP-bound token */
	if ((sub == SUB_METADATA || sub == SUB_RPS_BEGIN) && a->ts.in_use && a->ts.has_rp) {
		st = CTAP2_ERR_PIN_AUTH_INVALID;
		goto out;
	}
	/* credential management never binds the token to an RP */
	if ((st = ctap_token_check(a, pin.proto, msg, 1 + raw_len, pin.param, pin.param_len, CTAP_PERM_CM, NULL)) !=
	    CTAP2_OK)
		goto out;
	if (rp_hash != NULL && a->ts.has_rp && memcmp(a->ts.rp_id_hash, rp_hash, 32) != 0) {
		st = CTAP2_ERR_PIN_AUTH_INVALID;
		goto out;
	}
	switch (sub) {
	case SUB_METADATA:
		ctap_enc_map(out, 2);
		ctap_enc_uint(out, 1);
		ctap_enc_uint(out, ctap_rk_count(a));
		ctap_enc_uint(out, 2);
		ctap_enc_uint(out, CTAP_MAX_RK - ctap_rk_count(a));
		st = CTAP2_OK;
		break;
	case SUB_RPS_BEGIN:
		a->cm.n = list_rps(a, a->cm.idx);
		if (a->cm.n == 0) {
			st = CTAP2_ERR_NO_CREDENTIALS;
			break;
		}
		a->cm.kind = CM_RPS;
		a->cm.next = 1;
		put_rp(out, &a->p.rk[a->cm.idx[0]], a->cm.n);
		st = CTAP2_OK;
		break;
	case SUB_CREDS_BEGIN:
		a->cm.n = ctap_rk_list(a, rp_hash, a->cm.idx, CTAP_MAX_RK);
		if (a->cm.n == 0) {
			st = CTAP2_ERR_NO_CREDENTIALS;
			break;
		}
		a->cm.kind = CM_CREDS;
		a->cm.next = 1;
		st = put_cred(out, &a->p.rk[a->cm.idx[0]], a->cm.n);
		break;
	case SUB_DELETE:
	case SUB_UPDATE_USER:
		if ((st = find_cred(a, params, &idx)) != CTAP2_OK)
			break;
		if (a->ts.has_rp && memcmp(a->ts.rp_id_hash, a->p.rk[idx].cred.rp_id_hash, 32) != 0) {
			st = CTAP2_ERR_PIN_AUTH_INVALID;
			break;
		}
		if (sub == SUB_DELETE) {
			ctap_rk_delete(a, idx);
			st = CTAP2_OK;
		} else {
			st = update_user(a, params, idx);
		}
		break;
	default:
		st = CTAP2_ERR_INVALID_SUBCOMMAND;
		break;
	}
	if (st != CTAP2_OK)
		memset(&a->cm, 0, sizeof(a->cm));
out:
	if (req != NULL)
		cbor_decref(&req);
	return st;
}
