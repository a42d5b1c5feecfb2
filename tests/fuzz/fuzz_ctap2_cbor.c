/* libFuzzer target: CTAP2 requests (and CTAP1/U2F APDUs) on a fresh
 * authenticator. The input is a sequence of messages, each a 2-byte
 * big-endian length (top bit set: a U2F APDU instead of a CTAP2 request) and
 * its bytes. After the sequence the state must save and load back. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctap_authenticator.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t up(void *arg)
{
	(void)arg;
	return 0x00;
}

static uint64_t now(void *arg)
{
	(void)arg;
	return 5000;
}

/* A factory state made once; each input starts from a copy of it. */
static struct llv_buf factory = LLV_BUF_INIT;

static struct ctap_auth *fresh(void)
{
	struct ctap_auth_callbacks cb = { up, now, NULL };
	struct ctap_auth *a = ctap_auth_new(&cb);
	char err[128];

	if (a == NULL)
		abort();
	if (factory.len == 0) {
		if (ctap_auth_init_fresh(a) != 0 || ctap_auth_save(a, &factory) != 0)
			abort();
	} else if (ctap_auth_load(a, factory.data, factory.len, err, sizeof(err)) != 0) {
		abort();
	}
	return a;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctap_auth *a = fresh();
	struct llv_buf out = LLV_BUF_INIT, st = LLV_BUF_INIT;
	char err[128];

	while (size >= 2) {
		size_t len = ((size_t)(data[0] & 0x7f) << 8) | data[1];
		bool u2f = (data[0] & 0x80) != 0;

		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		llv_buf_clear(&out);
		if (u2f) {
			ctap_auth_u2f(a, data, len, &out);
			if (!llv_buf_ok(&out) || out.len < 2)
				abort();
		} else {
			ctap_auth_cbor(a, data, len, &out);
			if (!llv_buf_ok(&out) || out.len < 1 || (out.data[0] != 0 && out.len != 1))
				abort();
		}
		data += len;
		size -= len;
	}
	if (ctap_auth_save(a, &st) != 0 || ctap_auth_load(a, st.data, st.len, err, sizeof(err)) != 0)
		abort();
	llv_buf_free(&st);
	llv_buf_free(&out);
	ctap_auth_free(a);
	return 0;
}
