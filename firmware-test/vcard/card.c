/* The ISO 7816-4 card layer: CLA checks, command chaining, SELECT by AID,
 * dispatch to the selected applet, response chaining. See card.h. */
#include "card.h"

#include <string.h>

/* 3B 8D 80 01 | 80 73 C0 21 C0 57 "Llavero" | TCK */
const uint8_t vcard_atr[VCARD_ATR_LEN] = {
	0x3B, 0x8D, 0x80, 0x01,
	0x80,                               /* category: COMPACT-TLV follows */
	0x73, 0xC0, 0x21, 0xC0,             /* card capabilities */
	0x57, 'L', 'l', 'a', 'v', 'e', 'r', 'o', /* card issuer's data */
	0xC6,                               /* TCK */
};

enum { INS_SELECT = 0xA4, INS_GET_RESPONSE = 0xC0 };

void vcard_card_init(struct vcard_card *c)
{
	memset(c, 0, sizeof(*c));
	c->selected = -1;
	llv_buf_init_secret(&c->chain);
	llv_buf_init_secret(&c->pending);
}

void vcard_card_free(struct vcard_card *c)
{
	llv_buf_free(&c->chain);
	llv_buf_free(&c->pending);
	c->n_applets = 0;
	c->selected = -1;
}

int vcard_card_add_applet(struct vcard_card *c, const struct vcard_applet_ops *ops, void *ctx)
{
	if (c->n_applets >= VCARD_MAX_APPLETS || ops == NULL)
		return -1;
	c->applets[c->n_applets].ops = ops;
	c->applets[c->n_applets].ctx = ctx;
	c->n_applets++;
	return 0;
}

static void abort_chain(struct vcard_card *c)
{
	c->chaining = false;
	llv_buf_clear(&c->chain);
}

static void drop_pending(struct vcard_card *c)
{
	llv_buf_clear(&c->pending);
	c->pending_off = 0;
}

static void lose_volatile_state(struct vcard_card *c)
{
	abort_chain(c);
	drop_pending(c);
	c->selected = -1;
	for (size_t i = 0; i < c->n_applets; i++)
		if (c->applets[i].ops->power_cycle)
			c->applets[i].ops->power_cycle(c->applets[i].ctx);
}

void vcard_card_power_off(struct vcard_card *c)
{
	lose_volatile_state(c);
	c->powered = false;
}

void vcard_card_power_on(struct vcard_card *c)
{
	lose_volatile_state(c);
	c->powered = true;
	c->power_cycles++;
}

void vcard_card_reset(struct vcard_card *c)
{
	vcard_card_power_on(c);
}

bool vcard_card_take_dirty(struct vcard_card *c)
{
	bool dirty = false;
	for (size_t i = 0; i < c->n_applets; i++)
		if (c->applets[i].ops->take_dirty && c->applets[i].ops->take_dirty(c->applets[i].ctx))
			dirty = true;
	return dirty;
}

static void put_sw(struct llv_buf *resp, uint16_t sw)
{
	llv_buf_put_be16(resp, sw);
	if (!llv_buf_ok(resp)) {
		/* Make sure the transport still has something to say. */
		llv_buf_free(resp);
		llv_buf_put_be16(resp, SW_UNKNOWN);
	}
}

static void answer(struct llv_buf *resp, uint16_t sw)
{
	llv_buf_clear(resp);
	put_sw(resp, sw);
}

/* 61xx for the data still pending. */
static uint16_t bytes_remaining_sw(size_t remaining)
{
	return (uint16_t)(SW_BYTES_REMAINING | (remaining >= 256 ? 0 : remaining));
}

/* Checks the class byte. Returns 0 and sets *chained, or the SW to answer. */
static uint16_t check_cla(uint8_t cla, bool *chained)
{
	unsigned channel, sm;

	*chained = false;
	if (cla == 0xFF)
		return SW_CLA_NOT_SUPPORTED;
	if ((cla & 0xE0) == 0x20)                /* RFU classes 0x20..0x3F */
		return SW_CLA_NOT_SUPPORTED;
	if ((cla & 0xC0) == 0x40) {              /* further interindustry class */
		channel = 4u + (cla & 0x0Fu);
		sm = cla & 0x20u;
	} else {                                 /* first interindustry or proprietary */
		channel = cla & 0x03u;
		sm = cla & 0x0Cu;
	}
	if (channel != 0)
		return SW_LOGICAL_CHANNEL_NOT_SUPPORTED;
	if (sm != 0)
		return SW_SECURE_MESSAGING_NOT_SUPPORTED;
	*chained = (cla & 0x10u) != 0;
	return 0;
}

/* Sends up to ne bytes of the pending data, then 61xx or 9000. */
static void serve_pending(struct vcard_card *c, size_t ne, struct llv_buf *resp)
{
	size_t remaining = c->pending.len - c->pending_off;
	size_t n = remaining < ne ? remaining : ne;

	llv_buf_put(resp, c->pending.data + c->pending_off, n);
	c->pending_off += n;
	remaining -= n;
	if (remaining == 0) {
		drop_pending(c);
		put_sw(resp, SW_OK);
	} else {
		put_sw(resp, bytes_remaining_sw(remaining));
	}
}

static bool sw_carries_data(uint16_t sw)
{
	return sw == SW_OK || (sw & 0xFF00) == 0x6200 || (sw & 0xFF00) == 0x6300;
}

/* Turns an applet's answer (data in out, sw) into the response APDU, holding
 * back what does not fit in Ne for GET RESPONSE. */
static void finish(struct vcard_card *c, const struct vcard_apdu *apdu, struct llv_buf *out,
		   uint16_t sw, struct llv_buf *resp)
{
	if (!llv_buf_ok(out) || out->len > VCARD_MAX_RESPONSE) {
		answer(resp, SW_UNKNOWN);
		return;
	}
	if (out->len == 0 || !sw_carries_data(sw)) {
		answer(resp, sw);
		return;
	}

	/* Without Le, answer as if Le were 00 (as YubiKeys and most T=1 cards
	 * do): clients such as yubico-piv-tool SELECT without Le and expect the
	 * FCI with 9000. */
	size_t max = apdu->extended ? 65536 : 256;
	size_t ne = apdu->has_le ? apdu->le : max;
	if (ne > max)
		ne = max;

	if (out->len <= ne) {
		llv_buf_put(resp, out->data, out->len);
		put_sw(resp, sw);
		return;
	}
	if (sw != SW_OK) {
		/* A warning with more data than asked for: no chaining for it. */
		llv_buf_put(resp, out->data, ne);
		put_sw(resp, sw);
		return;
	}
	/* Response chaining: the first ne bytes now, the rest through GET
	 * RESPONSE. This is also the answer to an Le smaller than the data
	 * (not 6Cxx, which T=0 cards use): OpenSC's PIV driver reads the first
	 * 8 bytes of an object to learn its length and expects 61xx.
	 * The answer becomes the pending data as it is (buffers swapped, not
	 * copied); the caller frees what was pending. */
	drop_pending(c);
	struct llv_buf old = c->pending;
	c->pending = *out;
	*out = old;
	serve_pending(c, ne, resp);
}

static bool aid_matches(const struct vcard_applet_ops *ops, const uint8_t *aid, size_t len)
{
	return len >= 5 && len <= ops->aid_len && memcmp(ops->aid, aid, len) == 0;
}

static uint16_t do_select(struct vcard_card *c, const struct vcard_apdu *apdu, struct llv_buf *out)
{
	for (size_t i = 0; i < c->n_applets; i++) {
		const struct vcard_card_applet *a = &c->applets[i];
		if (!aid_matches(a->ops, apdu->data, apdu->lc))
			continue;
		if (c->selected >= 0) {
			const struct vcard_card_applet *prev = &c->applets[c->selected];
			if (prev->ops->deselect)
				prev->ops->deselect(prev->ctx);
		}
		c->selected = (int)i;
		uint16_t sw = a->ops->select ? a->ops->select(a->ctx, apdu, out) : SW_OK;
		if (!sw_carries_data(sw))
			c->selected = -1;
		return sw;
	}
	/* Unknown AID: the current selection stays. */
	return SW_FILE_NOT_FOUND;
}

static void dispatch(struct vcard_card *c, const struct vcard_apdu *apdu, struct llv_buf *resp)
{
	struct llv_buf out;
	uint16_t sw;

	llv_buf_init_secret(&out);
	if (apdu->ins == INS_SELECT && apdu->p1 == 0x04) {
		sw = do_select(c, apdu, &out);
	} else if (c->selected < 0) {
		sw = SW_INS_NOT_SUPPORTED;
	} else {
		const struct vcard_card_applet *a = &c->applets[c->selected];
		sw = a->ops->process(a->ctx, apdu, &out);
	}
	finish(c, apdu, &out, sw, resp);
	llv_buf_free(&out);
}

void vcard_card_transmit(struct vcard_card *c, const uint8_t *cmd, size_t len, struct llv_buf *resp)
{
	struct vcard_apdu apdu;
	bool chained;
	uint16_t sw;

	llv_buf_clear(resp);
	c->commands++;

	/* The class byte is judged before the length cases. */
	sw = len < 4 ? SW_WRONG_LENGTH : check_cla(cmd[0], &chained);
	if (sw == 0)
		sw = vcard_apdu_parse(cmd, len, &apdu);
	if (sw != 0) {
		abort_chain(c);
		drop_pending(c);
		answer(resp, sw);
		return;
	}
	apdu.cla = (uint8_t)(apdu.cla & ~0x10u);

	if (apdu.ins == INS_GET_RESPONSE && !chained && !c->chaining) {
		if (apdu.p1 != 0 || apdu.p2 != 0) {
			answer(resp, SW_INCORRECT_P1P2);
			return;
		}
		if (c->pending.len == c->pending_off) {
			drop_pending(c);
			answer(resp, SW_CONDITIONS_NOT_SATISFIED);
			return;
		}
		serve_pending(c, apdu.has_le ? apdu.le : 256, resp);
		return;
	}
	/* Any other command abandons a pending response. */
	drop_pending(c);

	if (c->chaining && (apdu.cla != c->chain_cla || apdu.ins != c->chain_ins ||
			    apdu.p1 != c->chain_p1 || apdu.p2 != c->chain_p2)) {
		/* A different command in the middle of a chain. */
		abort_chain(c);
		answer(resp, SW_LAST_COMMAND_EXPECTED);
		return;
	}

	if (chained || c->chaining) {
		if (!c->chaining) {
			c->chaining = true;
			c->chain_cla = apdu.cla;
			c->chain_ins = apdu.ins;
			c->chain_p1 = apdu.p1;
			c->chain_p2 = apdu.p2;
			llv_buf_clear(&c->chain);
		}
		if (c->chain.len + apdu.lc > VCARD_MAX_CHAIN) {
			abort_chain(c);
			answer(resp, SW_WRONG_LENGTH);
			return;
		}
		llv_buf_put(&c->chain, apdu.data, apdu.lc);
		if (!llv_buf_ok(&c->chain)) {
			llv_buf_free(&c->chain);
			llv_buf_init_secret(&c->chain);
			c->chaining = false;
			answer(resp, SW_UNKNOWN);
			return;
		}
		if (chained) {
			answer(resp, SW_OK);
			return;
		}
		/* Last segment: hand over the joined command. */
		apdu.data = c->chain.data;
		apdu.lc = c->chain.len;
		c->chaining = false;
		dispatch(c, &apdu, resp);
		llv_buf_clear(&c->chain);
		return;
	}

	dispatch(c, &apdu, resp);
}
