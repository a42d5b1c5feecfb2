/* ISO 7816-4 command APDU parsing (section 5.1): the seven cases, short and
 * extended. Anything that is not exactly one of them is a wrong length. */
#include "apdu.h"

#include <string.h>

uint16_t vcard_apdu_parse(const uint8_t *raw, size_t len, struct vcard_apdu *out)
{
	memset(out, 0, sizeof(*out));
	if (raw == NULL || len < 4)
		return SW_WRONG_LENGTH;
	out->cla = raw[0];
	out->ins = raw[1];
	out->p1 = raw[2];
	out->p2 = raw[3];

	if (len == 4)                                   /* case 1 */
		return 0;

	const uint8_t *body = raw + 4;
	size_t blen = len - 4;

	if (blen == 1) {                                /* case 2S */
		out->has_le = true;
		out->le = body[0] ? body[0] : 256;
		return 0;
	}

	if (body[0] != 0) {                             /* cases 3S, 4S */
		size_t lc = body[0];
		if (blen == 1 + lc) {
			out->data = body + 1;
			out->lc = lc;
			return 0;
		}
		if (blen == 2 + lc) {
			out->data = body + 1;
			out->lc = lc;
			out->has_le = true;
			out->le = body[1 + lc] ? body[1 + lc] : 256;
			return 0;
		}
		return SW_WRONG_LENGTH;
	}

	/* body[0] == 0: extended length. */
	if (blen < 3)
		return SW_WRONG_LENGTH;
	out->extended = true;
	size_t n = ((size_t)body[1] << 8) | body[2];
	if (blen == 3) {                                /* case 2E */
		out->has_le = true;
		out->le = n ? n : 65536;
		return 0;
	}
	if (n == 0)                                     /* Lc of zero is not a case */
		return SW_WRONG_LENGTH;
	if (blen == 3 + n) {                            /* case 3E */
		out->data = body + 3;
		out->lc = n;
		return 0;
	}
	if (blen == 5 + n) {                            /* case 4E */
		out->data = body + 3;
		out->lc = n;
		out->has_le = true;
		size_t le = ((size_t)body[3 + n] << 8) | body[4 + n];
		out->le = le ? le : 65536;
		return 0;
	}
	return SW_WRONG_LENGTH;
}
