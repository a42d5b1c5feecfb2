/* PIV applet (NIST SP 800-73-4 card edge): the state's life cycle, SELECT and
 * the dispatch of commands to their handlers (piv_pin.c, piv_objects.c,
 * piv_genauth.c, piv_keycmd.c, piv_mgmt.c, piv_yubico.c). */
#include "piv_internal.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "secmem.h"
#include "tlv.h"

const uint8_t piv_aid[PIV_AID_LEN] = { 0xA0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00 };
#define PIV_RID_LEN 5                   /* the AID is RID (A000000308) + PIX */
static const char piv_label[] = "Llavero PIV";
/* Algorithms the applet supports, as the application property template lists them. */
static const uint8_t piv_algs[] = {
	PIV_ALG_3DES, PIV_ALG_AES128, PIV_ALG_AES192, PIV_ALG_AES256,
	PIV_ALG_RSA1024, PIV_ALG_RSA2048, PIV_ALG_ECCP256, PIV_ALG_ECCP384,
};

const uint8_t piv_default_mgmt_key[24] = {
	1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
};

void piv_reset_security(struct piv_applet *piv)
{
	piv->pin_verified = false;
	piv->pin_always = false;
	piv->mgmt_authenticated = false;
	piv->mgmt_step = PIV_MGMT_IDLE;
	piv->mgmt_step_alg = 0;
	llv_wipe(piv->mgmt_expect, sizeof(piv->mgmt_expect));
	piv->mgmt_expect_len = 0;
}

void piv_clear_state(struct piv_applet *piv)
{
	for (int i = 0; i < PIV_NUM_SLOTS; i++) {
		EVP_PKEY_free(piv->keys[i].pkey);
		memset(&piv->keys[i], 0, sizeof(piv->keys[i]));
	}
	for (size_t i = 0; i < piv->n_objects; i++) {
		llv_wipe(piv->objects[i].data, piv->objects[i].len);
		free(piv->objects[i].data);
		memset(&piv->objects[i], 0, sizeof(piv->objects[i]));
	}
	piv->n_objects = 0;
	llv_wipe(&piv->pin, sizeof(piv->pin));
	llv_wipe(&piv->puk, sizeof(piv->puk));
	llv_wipe(piv->mgmt_key, sizeof(piv->mgmt_key));
	piv->mgmt_alg = 0;
	piv->serial = 0;
	piv_reset_security(piv);
}

void piv_set_defaults(struct piv_applet *piv)
{
	(void)piv_pin_from_text("123456", true, piv->pin.value);
	(void)piv_pin_from_text("12345678", false, piv->puk.value);
	piv->pin.max = piv->pin.left = PIV_DEFAULT_TRIES;
	piv->puk.max = piv->puk.left = PIV_DEFAULT_TRIES;
	piv->mgmt_alg = PIV_ALG_3DES;
	memset(piv->mgmt_key, 0, sizeof(piv->mgmt_key));
	memcpy(piv->mgmt_key, piv_default_mgmt_key, sizeof(piv_default_mgmt_key));
}

struct piv_applet *piv_applet_new(void)
{
	struct piv_applet *piv = llv_secure_alloc(sizeof(*piv));

	if (piv == NULL)
		return NULL;
	piv_set_defaults(piv);
	return piv;
}

void piv_applet_free(struct piv_applet *piv)
{
	if (piv == NULL)
		return;
	piv_clear_state(piv);
	llv_secure_free(piv, sizeof(*piv));
}

int piv_applet_personalize(struct piv_applet *piv, const char *pin, const char *puk)
{
	uint8_t pin_v[PIV_PIN_LEN], puk_v[PIV_PIN_LEN];
	uint8_t serial[4];

	if (piv == NULL)
		return -1;
	if (!piv_pin_from_text(pin != NULL ? pin : "123456", true, pin_v)) {
		llv_error("piv: the PIN must be 6 to 8 digits");
		return -1;
	}
	if (!piv_pin_from_text(puk != NULL ? puk : "12345678", false, puk_v)) {
		llv_wipe(pin_v, sizeof(pin_v));
		llv_error("piv: the PUK must be 6 to 8 characters");
		return -1;
	}
	if (piv_random(serial, sizeof(serial)) != 0) {
		llv_wipe(pin_v, sizeof(pin_v));
		llv_wipe(puk_v, sizeof(puk_v));
		llv_error("piv: no randomness for the serial number");
		return -1;
	}
	memcpy(piv->pin.value, pin_v, PIV_PIN_LEN);
	memcpy(piv->puk.value, puk_v, PIV_PIN_LEN);
	llv_wipe(pin_v, sizeof(pin_v));
	llv_wipe(puk_v, sizeof(puk_v));
	piv->pin.max = piv->pin.left = PIV_DEFAULT_TRIES;
	piv->puk.max = piv->puk.left = PIV_DEFAULT_TRIES;
	/* Positive, below 2^31, never 0: some clients print it as a signed int. */
	piv->serial = ((uint32_t)serial[0] << 24 | (uint32_t)serial[1] << 16 | (uint32_t)serial[2] << 8 | serial[3]) & 0x7fffffffu;
	if (piv->serial == 0)
		piv->serial = 1;
	if (piv_objects_personalize(piv) != 0)
		return -1;
	piv->dirty = true;
	return 0;
}

/* SELECT: answers with the application property template (SP 800-73-4 3.1.1).
 * Selecting the applet (again) resets its security status, as YubiKeys do and
 * yubico-piv-tool relies on to read the PIN retry counter. */
static uint16_t piv_select(void *ctx, const struct vcard_apdu *apdu, struct llv_buf *resp)
{
	struct piv_applet *piv = ctx;
	struct llv_buf t = LLV_BUF_INIT, algs = LLV_BUF_INIT, ta = LLV_BUF_INIT;

	(void)apdu;
	piv_reset_security(piv);
	llv_tlv_put(&t, 0x4F, piv_aid + PIV_RID_LEN, PIV_AID_LEN - PIV_RID_LEN);
	llv_tlv_put(&ta, 0x4F, piv_aid, PIV_RID_LEN);
	llv_tlv_put(&t, 0x79, ta.data, ta.len);
	llv_tlv_put(&t, 0x50, piv_label, sizeof(piv_label) - 1);
	for (size_t i = 0; i < sizeof(piv_algs); i++)
		llv_tlv_put(&algs, 0x80, &piv_algs[i], 1);
	llv_tlv_put(&algs, 0x06, NULL, 0);
	llv_tlv_put(&t, 0xAC, algs.data, algs.len);
	llv_tlv_put(resp, 0x61, t.data, t.len);
	bool ok = llv_buf_ok(&t) && llv_buf_ok(&algs) && llv_buf_ok(&ta) && llv_buf_ok(resp);
	llv_buf_free(&t);
	llv_buf_free(&algs);
	llv_buf_free(&ta);
	return ok ? SW_OK : SW_MEMORY_FAILURE;
}

static uint16_t piv_process(void *ctx, const struct vcard_apdu *apdu, struct llv_buf *resp)
{
	struct piv_applet *piv = ctx;

	/* The steps of a management key authentication must follow each other. */
	if (!(apdu->ins == PIV_INS_GENERAL_AUTH && apdu->p2 == PIV_KEY_MGMT))
		piv->mgmt_step = PIV_MGMT_IDLE;

	switch (apdu->ins) {
	case PIV_INS_VERIFY:
		return piv_cmd_verify(piv, apdu, resp);
	case PIV_INS_CHANGE_REFERENCE:
		return piv_cmd_change_reference(piv, apdu, resp);
	case PIV_INS_RESET_RETRY:
		return piv_cmd_reset_retry(piv, apdu, resp);
	case PIV_INS_GENERATE:
		return piv_cmd_generate(piv, apdu, resp);
	case PIV_INS_GENERAL_AUTH:
		return piv_cmd_general_authenticate(piv, apdu, resp);
	case PIV_INS_GET_DATA:
		return piv_cmd_get_data(piv, apdu, resp);
	case PIV_INS_PUT_DATA:
		return piv_cmd_put_data(piv, apdu, resp);
	case PIV_INS_YK_GET_METADATA:
		return piv_cmd_get_metadata(piv, apdu, resp);
	case PIV_INS_YK_GET_SERIAL:
		return piv_cmd_get_serial(piv, apdu, resp);
	case PIV_INS_YK_SET_PIN_RETRIES:
		return piv_cmd_set_pin_retries(piv, apdu, resp);
	case PIV_INS_YK_RESET:
		return piv_cmd_reset(piv, apdu, resp);
	case PIV_INS_YK_GET_VERSION:
		return piv_cmd_get_version(piv, apdu, resp);
	case PIV_INS_YK_IMPORT_KEY:
		return piv_cmd_import_key(piv, apdu, resp);
	case PIV_INS_YK_SET_MGMT_KEY:
		return piv_cmd_set_mgmt_key(piv, apdu, resp);
	default:
		return SW_INS_NOT_SUPPORTED;
	}
}

static void piv_deselect(void *ctx)
{
	piv_reset_security(ctx);
}

static void piv_power_cycle(void *ctx)
{
	piv_reset_security(ctx);
}

static bool piv_take_dirty(void *ctx)
{
	struct piv_applet *piv = ctx;
	bool d = piv->dirty;

	piv->dirty = false;
	return d;
}

const struct vcard_applet_ops piv_applet_ops = {
	.name = "PIV",
	.aid = piv_aid,
	.aid_len = sizeof(piv_aid),
	.select = piv_select,
	.process = piv_process,
	.deselect = piv_deselect,
	.power_cycle = piv_power_cycle,
	.take_dirty = piv_take_dirty,
};
