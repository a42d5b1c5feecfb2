/* The authenticator object: lifetime, power-up, the dirty flag, user presence
 * and the CTAP2 command dispatcher. */
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ctap_internal.h"
#include "log.h"
#include "secmem.h"

/* AAGUID of the "Llavero vkey" model. */
static const uint8_t llavero_aaguid[16] = {
	0xad, 0x6c, 0x65, 0x43, 0x9f, 0x51, 0x41, 0xc8, 0xb8, 0x67, 0xc2, 0xd6, 0x97, 0x2d, 0xce, 0xd4,
};

uint64_t ctap_now(struct ctap_auth *a)
{
	struct timespec ts;

	if (a->cb.now_ms != NULL)
		return a->cb.now_ms(a->cb.arg);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint8_t ctap_user_presence(struct ctap_auth *a)
{
	if (a->cb.user_presence == NULL)
		return CTAP2_OK;
	return a->cb.user_presence(a->cb.arg);
}

void ctap_mark_dirty(struct ctap_auth *a)
{
	a->dirty = true;
}

uint32_t ctap_next_counter(struct ctap_auth *a)
{
	if (a->p.counter < UINT32_MAX)
		a->p.counter++;
	ctap_mark_dirty(a);
	return a->p.counter;
}

struct ctap_auth *ctap_auth_new(const struct ctap_auth_callbacks *cb)
{
	struct ctap_auth *a = llv_secure_alloc(sizeof(*a));

	if (a == NULL)
		return NULL;
	if (cb != NULL)
		a->cb = *cb;
	a->max_msg_size = CTAP_DEFAULT_MSG_SIZE;
	ctap_auth_power_cycle(a);
	if (a->ka_key[0] == NULL || a->ka_key[1] == NULL) {
		ctap_auth_free(a);
		return NULL;
	}
	return a;
}

void ctap_auth_free(struct ctap_auth *a)
{
	if (a == NULL)
		return;
	EVP_PKEY_free(a->ka_key[0]);
	EVP_PKEY_free(a->ka_key[1]);
	llv_secure_free(a, sizeof(*a));
}

int ctap_auth_init_fresh(struct ctap_auth *a)
{
	struct ctap_persist *p = llv_secure_alloc(sizeof(*p));
	int rc = -1;

	if (p == NULL)
		return -1;
	memcpy(p->aaguid, llavero_aaguid, 16);
	p->pin_retries = CTAP_PIN_RETRIES;
	p->next_seq = 1;
	if (RAND_bytes(p->device_secret, 32) == 1 && ctap_attestation_init(p) == 0) {
		memcpy(&a->p, p, sizeof(*p));
		a->initialised = true;
		ctap_auth_power_cycle(a);
		ctap_mark_dirty(a);
		rc = 0;
	}
	llv_secure_free(p, sizeof(*p));
	return rc;
}

bool ctap_auth_take_dirty(struct ctap_auth *a)
{
	bool d = a->dirty;

	a->dirty = false;
	return d;
}

void ctap_auth_power_cycle(struct ctap_auth *a)
{
	a->power_up_ms = ctap_now(a);
	a->pin_mismatches = 0;
	(void)ctap_pin_regenerate(a, 1);
	(void)ctap_pin_regenerate(a, 2);
	ctap_token_reset(a);
	memset(&a->ga, 0, sizeof(a->ga));
	memset(&a->cm, 0, sizeof(a->cm));
}

const uint8_t *ctap_auth_attestation_ca(const struct ctap_auth *a, size_t *len)
{
	if (!a->initialised) {
		*len = 0;
		return NULL;
	}
	*len = a->p.ca_cert_len;
	return a->p.ca_cert;
}

bool ctap_auth_has_pin(const struct ctap_auth *a)
{
	return a->p.pin_set;
}

unsigned ctap_auth_pin_retries(const struct ctap_auth *a)
{
	return a->p.pin_retries;
}

const uint8_t *ctap_auth_aaguid(const struct ctap_auth *a)
{
	return a->p.aaguid;
}

void ctap_auth_set_max_msg_size(struct ctap_auth *a, size_t size)
{
	if (size < 64)
		size = 64;
	if (size > CTAP_MAX_REQUEST)
		size = CTAP_MAX_REQUEST;
	a->max_msg_size = size;
}

void ctap_auth_set_transports(struct ctap_auth *a, unsigned transports)
{
	a->transports = transports;
}

size_t ctap_auth_resident_count(const struct ctap_auth *a)
{
	return ctap_rk_count(a);
}

static uint8_t dispatch(struct ctap_auth *a, uint8_t cmd, const uint8_t *p, size_t n, struct llv_buf *out)
{
	switch (cmd) {
	case CTAP_CMD_MAKE_CREDENTIAL:
		return ctap_cmd_make_credential(a, p, n, out);
	case CTAP_CMD_GET_ASSERTION:
		return ctap_cmd_get_assertion(a, p, n, out);
	case CTAP_CMD_CLIENT_PIN:
		return ctap_cmd_client_pin(a, p, n, out);
	case CTAP_CMD_CRED_MGMT:
	case CTAP_CMD_CRED_MGMT_PRE:
		return ctap_cmd_cred_mgmt(a, p, n, out);
	case CTAP_CMD_GET_INFO:
	case CTAP_CMD_RESET:
	case CTAP_CMD_GET_NEXT_ASSERTION:
	case CTAP_CMD_SELECTION:
		if (n != 0)
			return CTAP1_ERR_INVALID_LENGTH;
		if (cmd == CTAP_CMD_GET_INFO)
			return ctap_cmd_get_info(a, out);
		if (cmd == CTAP_CMD_RESET)
			return ctap_cmd_reset(a);
		if (cmd == CTAP_CMD_SELECTION)
			return ctap_cmd_selection(a);
		return ctap_cmd_get_next_assertion(a, out);
	default:
		return CTAP1_ERR_INVALID_COMMAND;
	}
}

void ctap_auth_cbor(struct ctap_auth *a, const uint8_t *req, size_t len, struct llv_buf *resp)
{
	struct llv_buf out = LLV_BUF_INIT;
	uint8_t st, cmd;

	llv_buf_init_secret(&out);
	if (len == 0) {
		st = CTAP1_ERR_INVALID_LENGTH;
	} else if (!a->initialised) {
		llv_error("vkey: authenticator has no state");
		st = CTAP1_ERR_OTHER;
	} else if (len - 1 > CTAP_MAX_REQUEST) {
		st = CTAP2_ERR_REQUEST_TOO_LARGE;
	} else {
		cmd = req[0];
		if (cmd != CTAP_CMD_GET_NEXT_ASSERTION)
			OPENSSL_cleanse(&a->ga, sizeof(a->ga));
		if (cmd != CTAP_CMD_CRED_MGMT && cmd != CTAP_CMD_CRED_MGMT_PRE)
			memset(&a->cm, 0, sizeof(a->cm));
		st = dispatch(a, cmd, req + 1, len - 1, &out);
		if (st == CTAP2_OK && !llv_buf_ok(&out))
			st = CTAP1_ERR_OTHER;
		if (st != CTAP2_OK)
			llv_debug("vkey: command 0x%02x -> status 0x%02x", cmd, st);
	}
	llv_buf_put_u8(resp, st);
	if (st == CTAP2_OK)
		llv_buf_put(resp, out.data, out.len);
	llv_buf_free(&out);
}
