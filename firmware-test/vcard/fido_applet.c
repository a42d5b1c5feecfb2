/* The FIDO applet: CTAP over ISO 7816 (CTAP 2.1 §11.3). See fido_applet.h. */
#include "fido_applet.h"

#include <stdlib.h>
#include <string.h>

#include "ctap_authenticator.h"
#include "log.h"

const uint8_t fido_aid[FIDO_AID_LEN] = { 0xA0, 0x00, 0x00, 0x06, 0x47, 0x2F, 0x00, 0x01 };

static const char select_version[] = "U2F_V2";

enum { CLA_ISO = 0x00, CLA_PROPRIETARY = 0x80 };

struct fido_applet {
	struct ctap_auth *auth;
	enum fido_up_mode up_mode;
	uint64_t up_requests;
	bool selected;
};

static uint8_t fido_user_presence(void *arg)
{
	struct fido_applet *f = arg;

	f->up_requests++;
	/* The tap on the reader is the user's presence. */
	return f->up_mode == FIDO_UP_DENY ? CTAP2_ERR_OPERATION_DENIED : CTAP2_OK;
}

struct fido_applet *fido_applet_new(void)
{
	struct fido_applet *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return NULL;
	struct ctap_auth_callbacks cb = {
		.user_presence = fido_user_presence,
		.now_ms = NULL,          /* the core's monotonic clock */
		.arg = f,
	};
	f->auth = ctap_auth_new(&cb);
	if (f->auth == NULL) {
		free(f);
		return NULL;
	}
	ctap_auth_set_transports(f->auth, CTAP_TRANSPORT_NFC);
	f->up_mode = FIDO_UP_AUTO;
	return f;
}

void fido_applet_free(struct fido_applet *f)
{
	if (f == NULL)
		return;
	ctap_auth_free(f->auth);
	free(f);
}

int fido_applet_init_fresh(struct fido_applet *f)
{
	if (ctap_auth_init_fresh(f->auth) != 0) {
		llv_error("FIDO applet: the authenticator could not be initialised");
		return -1;
	}
	return 0;
}

int fido_applet_save(const struct fido_applet *f, struct llv_buf *out)
{
	return ctap_auth_save(f->auth, out);
}

int fido_applet_load(struct fido_applet *f, const uint8_t *data, size_t len, char *err, size_t errlen)
{
	return ctap_auth_load(f->auth, data, len, err, errlen);
}

void fido_applet_set_up_mode(struct fido_applet *f, enum fido_up_mode mode)
{
	f->up_mode = mode;
}

struct ctap_auth *fido_applet_auth(struct fido_applet *f)
{
	return f->auth;
}

uint64_t fido_applet_up_requests(const struct fido_applet *f)
{
	return f->up_requests;
}

/* ---- applet operations ---------------------------------------------------- */

static uint16_t fido_select(void *ctx, const struct vcard_apdu *apdu, struct llv_buf *resp)
{
	struct fido_applet *f = ctx;

	if (apdu->p2 != 0x00)
		return SW_INCORRECT_P1P2;
	f->selected = true;
	/* CTAP 2.1 §11.3.3: "U2F_V2" when CTAP1/U2F is supported (it is). */
	llv_buf_put(resp, select_version, sizeof(select_version) - 1);
	return SW_OK;
}

static void fido_deselect(void *ctx)
{
	struct fido_applet *f = ctx;
	f->selected = false;
}

static void fido_power_cycle(void *ctx)
{
	struct fido_applet *f = ctx;

	f->selected = false;
	/* Power-up of the authenticator: PIN tokens and the consecutive PIN
	 * mismatch count are forgotten, the 10 s reset window restarts. */
	ctap_auth_power_cycle(f->auth);
}

static bool fido_take_dirty(void *ctx)
{
	struct fido_applet *f = ctx;
	return ctap_auth_take_dirty(f->auth);
}

static uint16_t nfcctap_msg(struct fido_applet *f, const struct vcard_apdu *apdu, struct llv_buf *resp)
{
	if ((apdu->p1 != 0x00 && apdu->p1 != FIDO_P1_GETRESPONSE_SUPPORTED) || apdu->p2 != 0x00)
		return SW_INCORRECT_P1P2;
	if (apdu->lc == 0)
		return SW_WRONG_LENGTH;
	ctap_auth_cbor(f->auth, apdu->data, apdu->lc, resp);
	if (!llv_buf_ok(resp))
		return SW_UNKNOWN;
	return SW_OK;
}

/* Rebuilds the U2F request as an extended-length APDU (the form U2F raw
 * messages use) and splits the core's answer into data and SW. */
static uint16_t u2f(struct fido_applet *f, const struct vcard_apdu *apdu, struct llv_buf *resp)
{
	struct llv_buf req = LLV_BUF_INIT, out = LLV_BUF_INIT;
	uint16_t sw;
	size_t le = apdu->has_le ? apdu->le : 0;

	llv_buf_init_secret(&req);
	llv_buf_init_secret(&out);
	llv_buf_put_u8(&req, apdu->cla);
	llv_buf_put_u8(&req, apdu->ins);
	llv_buf_put_u8(&req, apdu->p1);
	llv_buf_put_u8(&req, apdu->p2);
	if (apdu->lc > 0 || apdu->has_le)
		llv_buf_put_u8(&req, 0x00);
	if (apdu->lc > 0) {
		llv_buf_put_be16(&req, (uint16_t)apdu->lc);
		llv_buf_put(&req, apdu->data, apdu->lc);
	}
	if (apdu->has_le)
		llv_buf_put_be16(&req, (uint16_t)(le >= 65536 ? 0 : le));
	if (!llv_buf_ok(&req) || apdu->lc > 0xFFFF) {
		sw = apdu->lc > 0xFFFF ? SW_WRONG_LENGTH : SW_UNKNOWN;
		goto out;
	}
	ctap_auth_u2f(f->auth, req.data, req.len, &out);
	if (!llv_buf_ok(&out) || out.len < 2) {
		sw = SW_UNKNOWN;
		goto out;
	}
	sw = (uint16_t)(out.data[out.len - 2] << 8 | out.data[out.len - 1]);
	llv_buf_put(resp, out.data, out.len - 2);
out:
	llv_buf_free(&req);
	llv_buf_free(&out);
	return sw;
}

static uint16_t fido_process(void *ctx, const struct vcard_apdu *apdu, struct llv_buf *resp)
{
	struct fido_applet *f = ctx;

	if (apdu->cla == CLA_PROPRIETARY) {
		switch (apdu->ins) {
		case FIDO_INS_NFCCTAP_MSG:
			return nfcctap_msg(f, apdu, resp);
		case FIDO_INS_NFCCTAP_GETRESPONSE:
			/* Every NFCCTAP_MSG is answered in full (the tap is the user's
			 * presence, nothing waits), so there is never a response
			 * held back for it. */
			return SW_CONDITIONS_NOT_SATISFIED;
		default:
			return SW_INS_NOT_SUPPORTED;
		}
	}
	if (apdu->cla == CLA_ISO) {
		switch (apdu->ins) {
		case FIDO_INS_U2F_REGISTER:
		case FIDO_INS_U2F_AUTHENTICATE:
		case FIDO_INS_U2F_VERSION:
			return u2f(f, apdu, resp);
		default:
			return SW_INS_NOT_SUPPORTED;
		}
	}
	return SW_CLA_NOT_SUPPORTED;
}

const struct vcard_applet_ops fido_applet_ops = {
	.name = "FIDO",
	.aid = fido_aid,
	.aid_len = FIDO_AID_LEN,
	.select = fido_select,
	.process = fido_process,
	.deselect = fido_deselect,
	.power_cycle = fido_power_cycle,
	.take_dirty = fido_take_dirty,
};
