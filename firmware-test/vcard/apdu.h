/* An ISO 7816-4 command APDU as the card layer hands it to an applet, after
 * command chaining has been reassembled, and the status words applets return. */
#ifndef LLAVERO_VCARD_APDU_H
#define LLAVERO_VCARD_APDU_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

struct vcard_apdu {
	uint8_t cla;          /* as received on the last segment, chaining bit cleared */
	uint8_t ins;
	uint8_t p1;
	uint8_t p2;
	const uint8_t *data;  /* Lc bytes, all chained segments joined */
	size_t lc;
	size_t le;            /* 0 when absent; 256 (short) or 65536 (extended) for "00" */
	bool has_le;
	bool extended;
};

/* Parses a raw command APDU (cases 1, 2S, 3S, 4S, 2E, 3E, 4E). Returns 0, or the
 * status word to answer with (0x6700 wrong length) when malformed. */
uint16_t vcard_apdu_parse(const uint8_t *raw, size_t len, struct vcard_apdu *out);

/* ISO 7816-4 status words used across applets. */
enum {
	SW_OK = 0x9000,
	SW_BYTES_REMAINING = 0x6100,          /* | remaining (00 = 256 or more) */
	SW_WARNING_NV_UNCHANGED = 0x6200,
	SW_VERIFY_FAILED = 0x63C0,            /* | retries left */
	SW_MEMORY_FAILURE = 0x6581,
	SW_WRONG_LENGTH = 0x6700,
	SW_LOGICAL_CHANNEL_NOT_SUPPORTED = 0x6881,
	SW_SECURE_MESSAGING_NOT_SUPPORTED = 0x6882,
	SW_LAST_COMMAND_EXPECTED = 0x6883,
	SW_CHAINING_NOT_SUPPORTED = 0x6884,
	SW_SECURITY_STATUS_NOT_SATISFIED = 0x6982,
	SW_AUTH_METHOD_BLOCKED = 0x6983,
	SW_REFERENCE_DATA_NOT_USABLE = 0x6984,
	SW_CONDITIONS_NOT_SATISFIED = 0x6985,
	SW_COMMAND_NOT_ALLOWED = 0x6986,
	SW_WRONG_DATA = 0x6A80,
	SW_FUNC_NOT_SUPPORTED = 0x6A81,
	SW_FILE_NOT_FOUND = 0x6A82,
	SW_NOT_ENOUGH_MEMORY = 0x6A84,
	SW_INCORRECT_P1P2 = 0x6A86,
	SW_REFERENCE_NOT_FOUND = 0x6A88,
	SW_WRONG_P1P2 = 0x6B00,
	SW_WRONG_LE = 0x6C00,                 /* | exact length */
	SW_INS_NOT_SUPPORTED = 0x6D00,
	SW_CLA_NOT_SUPPORTED = 0x6E00,
	SW_UNKNOWN = 0x6F00,
};

#endif
