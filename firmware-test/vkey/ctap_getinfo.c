/* authenticatorGetInfo (CTAP 2.1 section 6.4). Keys and option names are
 * written in CTAP2 canonical order. */
#include "ctap_internal.h"

uint8_t ctap_cmd_get_info(struct ctap_auth *a, struct llv_buf *out)
{
	size_t ntrans = (size_t)((a->transports & CTAP_TRANSPORT_USB) != 0) +
			(size_t)((a->transports & CTAP_TRANSPORT_NFC) != 0);

	ctap_enc_map(out, 13 + (ntrans > 0));

	ctap_enc_uint(out, 0x01);
	ctap_enc_array(out, 3);
	ctap_enc_textz(out, "U2F_V2");
	ctap_enc_textz(out, "FIDO_2_0");
	ctap_enc_textz(out, "FIDO_2_1");

	ctap_enc_uint(out, 0x02);
	ctap_enc_array(out, 2);
	ctap_enc_textz(out, "credProtect");
	ctap_enc_textz(out, "hmac-secret");

	ctap_enc_uint(out, 0x03);
	ctap_enc_bytes(out, a->p.aaguid, 16);

	ctap_enc_uint(out, 0x04);
	ctap_enc_map(out, 6);
	ctap_enc_textz(out, "rk");
	ctap_enc_bool(out, true);
	ctap_enc_textz(out, "up");
	ctap_enc_bool(out, true);
	ctap_enc_textz(out, "credMgmt");
	ctap_enc_bool(out, true);
	ctap_enc_textz(out, "clientPin");
	ctap_enc_bool(out, a->p.pin_set);
	ctap_enc_textz(out, "pinUvAuthToken");
	ctap_enc_bool(out, true);
	ctap_enc_textz(out, "makeCredUvNotRqd");
	ctap_enc_bool(out, true);

	ctap_enc_uint(out, 0x05);
	ctap_enc_uint(out, a->max_msg_size);

	ctap_enc_uint(out, 0x06);
	ctap_enc_array(out, 2);
	ctap_enc_uint(out, 2);
	ctap_enc_uint(out, 1);

	ctap_enc_uint(out, 0x07);
	ctap_enc_uint(out, CTAP_MAX_CRED_IN_LIST);

	ctap_enc_uint(out, 0x08);
	ctap_enc_uint(out, CTAP_CRED_ID_LEN);

	if (ntrans > 0) {
		ctap_enc_uint(out, 0x09);
		ctap_enc_array(out, ntrans);
		if (a->transports & CTAP_TRANSPORT_NFC)
			ctap_enc_textz(out, "nfc");
		if (a->transports & CTAP_TRANSPORT_USB)
			ctap_enc_textz(out, "usb");
	}

	ctap_enc_uint(out, 0x0A);
	ctap_enc_array(out, 2);
	ctap_enc_map(out, 2);
	ctap_enc_textz(out, "alg");
	ctap_enc_int(out, COSE_ES256);
	ctap_enc_textz(out, "type");
	ctap_enc_textz(out, "public-key");
	ctap_enc_map(out, 2);
	ctap_enc_textz(out, "alg");
	ctap_enc_int(out, COSE_EDDSA);
	ctap_enc_textz(out, "type");
	ctap_enc_textz(out, "public-key");

	ctap_enc_uint(out, 0x0C);
	ctap_enc_bool(out, false);

	ctap_enc_uint(out, 0x0D);
	ctap_enc_uint(out, CTAP_PIN_MIN_LEN);

	ctap_enc_uint(out, 0x0E);
	ctap_enc_uint(out, CTAP_FIRMWARE_VERSION);

	ctap_enc_uint(out, 0x14);
	ctap_enc_uint(out, CTAP_MAX_RK - ctap_rk_count(a));
	return CTAP2_OK;
}
