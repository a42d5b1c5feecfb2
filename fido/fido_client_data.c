/* clientDataJSON as browsers serialise it (WebAuthn Level 3 §5.8.1.1, the
 * "limited verification" serialisation): members in the order type,
 * challenge, origin, crossOrigin; strings escaped by CCDToString (only '"',
 * '\\' and control characters), no whitespace. The PRF extension's salts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "base64url.h"
#include "buf.h"
#include "fido_bridge.h"

static void put_ccd_string(struct llv_buf *b, const char *s)
{
	llv_buf_put_u8(b, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\') {
			llv_buf_put_u8(b, '\\');
			llv_buf_put_u8(b, *p);
		} else if (*p < 0x20) {
			char esc[8];

			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			llv_buf_put_str(b, esc);
		} else {
			llv_buf_put_u8(b, *p);
		}
	}
	llv_buf_put_u8(b, '"');
}

int fido_bridge_client_data(const char *type, const uint8_t *challenge, size_t challenge_len,
			    const char *origin, bool cross_origin, char **out, size_t *out_len,
			    uint8_t hash[32])
{
	struct llv_buf b = LLV_BUF_INIT;
	char *chal;

	if (type == NULL || challenge == NULL || origin == NULL || out == NULL)
		return FIDO_BRIDGE_ERR_BAD_ARG;
	if ((chal = llv_base64url_encode(challenge, challenge_len)) == NULL)
		return FIDO_BRIDGE_ERR_INTERNAL;
	llv_buf_put_str(&b, "{\"type\":");
	put_ccd_string(&b, type);
	llv_buf_put_str(&b, ",\"challenge\":");
	put_ccd_string(&b, chal);
	llv_buf_put_str(&b, ",\"origin\":");
	put_ccd_string(&b, origin);
	llv_buf_put_str(&b, cross_origin ? ",\"crossOrigin\":true}" : ",\"crossOrigin\":false}");
	llv_buf_put_u8(&b, '\0');
	free(chal);
	if (!llv_buf_ok(&b)) {
		llv_buf_free(&b);
		return FIDO_BRIDGE_ERR_INTERNAL;
	}
	if (hash != NULL)
		SHA256(b.data, b.len - 1, hash);
	if (out_len != NULL)
		*out_len = b.len - 1;
	{
		size_t total;

		*out = (char *)llv_buf_steal(&b, &total);
	}
	return FIDO_BRIDGE_OK;
}

void fido_bridge_prf_salt(const uint8_t *input, size_t len, uint8_t salt[32])
{
	static const char label[] = "WebAuthn PRF"; /* the NUL is the 0x00 separator */
	struct llv_buf b = LLV_BUF_INIT;

	llv_buf_init_secret(&b);
	llv_buf_put(&b, label, sizeof(label));
	llv_buf_put(&b, input, len);
	if (llv_buf_ok(&b))
		SHA256(b.data, b.len, salt);
	else
		memset(salt, 0, 32);
	llv_buf_free(&b);
}
