/* The store of discoverable (resident) credentials: fixed slots in the
 * persistent state, ordered by a creation sequence number. */
#include <string.h>

#include <openssl/crypto.h>

#include "ctap_internal.h"

int ctap_rk_find_user(const struct ctap_auth *a, const uint8_t rp_id_hash[32], const uint8_t *uid, size_t uid_len)
{
	for (int i = 0; i < CTAP_MAX_RK; i++) {
		const struct ctap_rk *r = &a->p.rk[i];

		if (r->used && memcmp(r->cred.rp_id_hash, rp_id_hash, 32) == 0 && r->user_id_len == uid_len &&
		    memcmp(r->user_id, uid, uid_len) == 0)
			return i;
	}
	return -1;
}

int ctap_rk_find_id(const struct ctap_auth *a, const uint8_t *id, size_t len)
{
	if (len != CTAP_CRED_ID_LEN)
		return -1;
	for (int i = 0; i < CTAP_MAX_RK; i++)
		if (a->p.rk[i].used && memcmp(a->p.rk[i].cred.id, id, len) == 0)
			return i;
	return -1;
}

int ctap_rk_free_slot(const struct ctap_auth *a)
{
	for (int i = 0; i < CTAP_MAX_RK; i++)
		if (!a->p.rk[i].used)
			return i;
	return -1;
}

size_t ctap_rk_count(const struct ctap_auth *a)
{
	size_t n = 0;

	for (int i = 0; i < CTAP_MAX_RK; i++)
		n += a->p.rk[i].used;
	return n;
}

size_t ctap_rk_list(const struct ctap_auth *a, const uint8_t *rp_id_hash, int *idx, size_t max)
{
	size_t n = 0;

	for (int i = 0; i < CTAP_MAX_RK && n < max; i++) {
		const struct ctap_rk *r = &a->p.rk[i];

		if (r->used && (rp_id_hash == NULL || memcmp(r->cred.rp_id_hash, rp_id_hash, 32) == 0))
			idx[n++] = i;
	}
	/* newest first: insertion sort by descending sequence number */
	for (size_t i = 1; i < n; i++) {
		int v = idx[i];
		size_t j = i;

		while (j > 0 && a->p.rk[idx[j - 1]].seq < a->p.rk[v].seq) {
			idx[j] = idx[j - 1];
			j--;
		}
		idx[j] = v;
	}
	return n;
}

void ctap_rk_delete(struct ctap_auth *a, int idx)
{
	OPENSSL_cleanse(&a->p.rk[idx], sizeof(a->p.rk[idx]));
	ctap_mark_dirty(a);
}

void ctap_rk_put_user(struct llv_buf *b, const struct ctap_rk *rk, bool with_names)
{
	bool name = with_names && rk->user_name.present;
	bool dname = with_names && rk->display_name.present;

	ctap_enc_map(b, 1 + (size_t)name + (size_t)dname);
	ctap_enc_textz(b, "id");
	ctap_enc_bytes(b, rk->user_id, rk->user_id_len);
	if (name) {
		ctap_enc_textz(b, "name");
		ctap_enc_text(b, rk->user_name.s, rk->user_name.len);
	}
	if (dname) {
		ctap_enc_textz(b, "displayName");
		ctap_enc_text(b, rk->display_name.s, rk->display_name.len);
	}
}
