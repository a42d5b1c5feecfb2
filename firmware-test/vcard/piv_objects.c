/* PIV data objects (SP 800-73-4 part 1 section 3, table 3): the store, GET
 * DATA, PUT DATA and the objects a fresh card carries (CHUID, CCC, discovery
 * object, key history, printed information). Objects are kept exactly as
 * GET DATA returns them: 53 {...}, or 7E {...} / 7F61 {...}. */
#include "piv_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "secmem.h"
#include "tlv.h"

#define TAG_DISCOVERY 0x7E
#define TAG_BIT_GROUP 0x7F61
#define TAG_CHUID 0x5FC102
#define TAG_CCC 0x5FC107
#define TAG_PRINTED 0x5FC109
#define TAG_KEY_HISTORY 0x5FC10C

bool piv_object_tag_valid(uint32_t tag)
{
	return tag == TAG_DISCOVERY || tag == TAG_BIT_GROUP ||
	       (tag >= 0x5FC101 && tag <= 0x5FC123) ||
	       /* YubiKey: admin data, attestation certificate, MS roots. */
	       (tag >= 0x5FFF00 && tag <= 0x5FFF15);
}

/* Objects readable only after PIN verification (SP 800-73-4 table 3):
 * fingerprints, facial image, printed information, iris images. */
static bool object_needs_pin(uint32_t tag)
{
	return tag == 0x5FC103 || tag == 0x5FC108 || tag == TAG_PRINTED || tag == 0x5FC121;
}

static uint32_t outer_tag(uint32_t tag)
{
	return tag == TAG_DISCOVERY || tag == TAG_BIT_GROUP ? tag : 0x53;
}

bool piv_object_data_valid(uint32_t tag, const uint8_t *data, size_t len)
{
	struct llv_tlv t;

	if (len == 0 || len > PIV_MAX_OBJECT)
		return false;
	if (llv_tlv_parse(data, len, &t) != 0 || t.raw_len != len)
		return false;
	return t.tag == outer_tag(tag);
}

const struct piv_object *piv_object_find(const struct piv_applet *piv, uint32_t tag)
{
	for (size_t i = 0; i < piv->n_objects; i++)
		if (piv->objects[i].tag == tag)
			return &piv->objects[i];
	return NULL;
}

uint16_t piv_object_set(struct piv_applet *piv, uint32_t tag, const uint8_t *data, size_t len)
{
	size_t i;
	uint8_t *copy = NULL;

	for (i = 0; i < piv->n_objects; i++)
		if (piv->objects[i].tag == tag)
			break;
	if (len > 0) {
		if (i == piv->n_objects && piv->n_objects == PIV_MAX_OBJECTS)
			return SW_NOT_ENOUGH_MEMORY;
		copy = malloc(len);
		if (copy == NULL)
			return SW_MEMORY_FAILURE;
		memcpy(copy, data, len);
	}
	if (i < piv->n_objects) {
		llv_wipe(piv->objects[i].data, piv->objects[i].len);
		free(piv->objects[i].data);
		if (copy == NULL) {
			/* Delete: move the last one into the hole. */
			piv->objects[i] = piv->objects[piv->n_objects - 1];
			memset(&piv->objects[piv->n_objects - 1], 0, sizeof(piv->objects[0]));
			piv->n_objects--;
			piv->dirty = true;
			return SW_OK;
		}
	} else if (copy == NULL) {
		return SW_OK;       /* deleting an absent object */
	} else {
		piv->n_objects++;
	}
	piv->objects[i].tag = tag;
	piv->objects[i].data = copy;
	piv->objects[i].len = len;
	piv->dirty = true;
	return SW_OK;
}

/* Reads the tag list (5C) of GET DATA / PUT DATA. Returns 0 or a SW. */
static uint16_t parse_tag_list(const uint8_t *value, size_t len, uint32_t *tag)
{
	if (len < 1 || len > 3)
		return SW_WRONG_DATA;
	*tag = 0;
	for (size_t i = 0; i < len; i++)
		*tag = *tag << 8 | value[i];
	/* The one-byte and two-byte forms name only the discovery object and the
	 * BIT group template. */
	if ((len == 1 && *tag != TAG_DISCOVERY) || (len == 2 && *tag != TAG_BIT_GROUP))
		return SW_WRONG_DATA;
	return 0;
}

uint16_t piv_cmd_get_data(struct piv_applet *piv, const struct vcard_apdu *apdu, struct llv_buf *resp)
{
	struct llv_tlv t;
	const struct piv_object *obj;
	uint32_t tag;
	uint16_t sw;

	if (apdu->p1 != 0x3F || apdu->p2 != 0xFF)
		return SW_INCORRECT_P1P2;
	if (apdu->lc == 0)
		return SW_WRONG_LENGTH;
	if (llv_tlv_parse(apdu->data, apdu->lc, &t) != 0 || t.raw_len != apdu->lc || t.tag != 0x5C)
		return SW_WRONG_DATA;
	if ((sw = parse_tag_list(t.value, t.len, &tag)) != 0)
		return sw;
	if (!piv_object_tag_valid(tag))
		return SW_FILE_NOT_FOUND;
	if (object_needs_pin(tag) && !piv->pin_verified)
		return SW_SECURITY_STATUS_NOT_SATISFIED;
	obj = piv_object_find(piv, tag);
	if (obj == NULL)
		return SW_FILE_NOT_FOUND;
	llv_buf_put(resp, obj->data, obj->len);
	return llv_buf_ok(resp) ? SW_OK : SW_MEMORY_FAILURE;
}

uint16_t piv_cmd_put_data(struct piv_applet *piv, const struct vcard_apdu *apdu, struct llv_buf *resp)
{
	struct llv_tlv first, obj;
	uint32_t tag;
	uint16_t sw;
	const uint8_t *rest;
	size_t rest_len;

	(void)resp;
	if (apdu->p1 != 0x3F || apdu->p2 != 0xFF)
		return SW_INCORRECT_P1P2;
	if (!piv->mgmt_authenticated)
		return SW_SECURITY_STATUS_NOT_SATISFIED;
	if (apdu->lc == 0)
		return SW_WRONG_LENGTH;
	if (llv_tlv_parse(apdu->data, apdu->lc, &first) != 0)
		return SW_WRONG_DATA;
	if (first.tag == TAG_DISCOVERY || first.tag == TAG_BIT_GROUP) {
		/* These two carry their own tag instead of 5C + 53. */
		tag = first.tag;
		rest = apdu->data;
		rest_len = apdu->lc;
	} else {
		if (first.tag != 0x5C)
			return SW_WRONG_DATA;
		if ((sw = parse_tag_list(first.value, first.len, &tag)) != 0)
			return sw;
		rest = apdu->data + first.raw_len;
		rest_len = apdu->lc - first.raw_len;
	}
	if (!piv_object_tag_valid(tag))
		return SW_WRONG_DATA;
	if (rest_len > PIV_MAX_OBJECT)
		return SW_NOT_ENOUGH_MEMORY;
	if (llv_tlv_parse(rest, rest_len, &obj) != 0 || obj.raw_len != rest_len || obj.tag != outer_tag(tag))
		return SW_WRONG_DATA;
	/* An empty object deletes it (as YubiKeys do; clients delete certificates so). */
	sw = piv_object_set(piv, tag, rest, obj.len == 0 ? 0 : rest_len);
	if (sw == SW_OK)
		llv_info("piv: object %06X %s", tag, obj.len == 0 ? "deleted" : "written");
	return sw;
}

/* FASC-N (TIG SCEPACS): 40 characters of 5 bits (4 BCD bits low-order first,
 * then odd parity), ending with an LRC. */
static void fascn_put(uint8_t *out, size_t *bit, uint8_t c)
{
	unsigned ones = 0;
	uint8_t bits[5];

	for (int i = 0; i < 4; i++) {
		bits[i] = (uint8_t)((c >> i) & 1);
		ones += bits[i];
	}
	bits[4] = (uint8_t)((ones & 1) == 0);
	for (int i = 0; i < 5; i++, (*bit)++)
		if (bits[i])
			out[*bit / 8] |= (uint8_t)(0x80 >> (*bit % 8));
}

static void make_fascn(const uint8_t *rnd, uint8_t out[25])
{
	enum { SS = 0xB, FS = 0xD, ES = 0xF };
	uint8_t chars[39];
	size_t n = 0, bit = 0;
	uint8_t lrc = 0;

	chars[n++] = SS;
	for (int i = 0; i < 4; i++)
		chars[n++] = 9;                 /* agency code 9999: test cards */
	chars[n++] = FS;
	for (int i = 0; i < 4; i++)
		chars[n++] = 9;                 /* system code */
	chars[n++] = FS;
	for (int i = 0; i < 6; i++)
		chars[n++] = rnd[i] % 10;       /* credential number */
	chars[n++] = FS;
	chars[n++] = 1;                     /* credential series */
	chars[n++] = FS;
	chars[n++] = 1;                     /* individual credential issue */
	chars[n++] = FS;
	for (int i = 0; i < 10; i++)
		chars[n++] = rnd[6 + i] % 10;   /* person identifier */
	chars[n++] = 1;                     /* organizational category: federal */
	for (int i = 0; i < 4; i++)
		chars[n++] = 9;                 /* organization identifier */
	chars[n++] = 1;                     /* person/organization association */
	chars[n++] = ES;
	memset(out, 0, 25);
	for (size_t i = 0; i < n; i++) {
		fascn_put(out, &bit, chars[i]);
		lrc ^= chars[i];
	}
	fascn_put(out, &bit, lrc & 0xF);
}

static uint16_t put_wrapped(struct piv_applet *piv, uint32_t tag, struct llv_buf *content)
{
	struct llv_buf obj = LLV_BUF_INIT;
	uint16_t sw;

	llv_tlv_put(&obj, outer_tag(tag), content->data, content->len);
	sw = llv_buf_ok(&obj) && llv_buf_ok(content) ? piv_object_set(piv, tag, obj.data, obj.len) : SW_MEMORY_FAILURE;
	llv_buf_free(&obj);
	llv_buf_clear(content);
	return sw;
}

int piv_objects_personalize(struct piv_applet *piv)
{
	static const uint8_t ccc_id_prefix[] = { 0xA0, 0x00, 0x00, 0x01, 0x16, 0xFF, 0x02 };
	static const uint8_t pin_policy[] = { 0x40, 0x00 };   /* PIV PIN only, no global PIN */
	uint8_t rnd[16 + 16 + 14];
	uint8_t fascn[25];
	char expiry[32], printed_exp[32];
	unsigned year, month, day;
	static const char *const months[12] = { "JAN", "FEB", "MAR", "APR", "MAY", "JUN",
						"JUL", "AUG", "SEP", "OCT", "NOV", "DEC" };
	struct llv_buf c = LLV_BUF_INIT;
	struct tm tm;
	time_t now = time(NULL);
	uint16_t sw = SW_OK;
	char serial[32];

	if (piv_random(rnd, sizeof(rnd)) != 0) {
		llv_error("piv: no randomness for the CHUID");
		return -1;
	}
	if (gmtime_r(&now, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	/* Valid for 10 years, like most issued PIV cards at most. */
	year = (unsigned)(tm.tm_year + 1910) % 10000u;
	month = (unsigned)tm.tm_mon % 12u;
	day = tm.tm_mday < 1 ? 1u : tm.tm_mday > 28 ? 28u : (unsigned)tm.tm_mday;
	snprintf(expiry, sizeof(expiry), "%04u%02u%02u", year, month + 1, day);
	snprintf(printed_exp, sizeof(printed_exp), "%04u%s%02u", year, months[month], day);
	snprintf(serial, sizeof(serial), "%010u", (unsigned)piv->serial);

	/* CHUID (SP 800-73-4 table 9): FASC-N, GUID, expiry, empty signature, LRC. */
	make_fascn(rnd, fascn);
	llv_tlv_put(&c, 0x30, fascn, sizeof(fascn));
	rnd[16 + 6] = (uint8_t)((rnd[16 + 6] & 0x0F) | 0x40);  /* random (v4) UUID */
	rnd[16 + 8] = (uint8_t)((rnd[16 + 8] & 0x3F) | 0x80);
	llv_tlv_put(&c, 0x34, rnd + 16, 16);
	llv_tlv_put(&c, 0x35, expiry, 8);
	llv_tlv_put(&c, 0x3E, NULL, 0);
	llv_tlv_put(&c, 0xFE, NULL, 0);
	if (sw == SW_OK)
		sw = put_wrapped(piv, TAG_CHUID, &c);

	/* CCC (SP 800-73-4 table 8), as YubiKeys lay it out. */
	llv_tlv_put_tag(&c, 0xF0);
	llv_tlv_put_len(&c, sizeof(ccc_id_prefix) + 14);
	llv_buf_put(&c, ccc_id_prefix, sizeof(ccc_id_prefix));
	llv_buf_put(&c, rnd + 32, 14);
	llv_tlv_put(&c, 0xF1, "\x21", 1);
	llv_tlv_put(&c, 0xF2, "\x21", 1);
	llv_tlv_put(&c, 0xF3, NULL, 0);
	llv_tlv_put(&c, 0xF4, "\x00", 1);
	llv_tlv_put(&c, 0xF5, "\x10", 1);
	llv_tlv_put(&c, 0xF6, NULL, 0);
	llv_tlv_put(&c, 0xF7, NULL, 0);
	llv_tlv_put(&c, 0xFA, NULL, 0);
	llv_tlv_put(&c, 0xFB, NULL, 0);
	llv_tlv_put(&c, 0xFC, NULL, 0);
	llv_tlv_put(&c, 0xFD, NULL, 0);
	llv_tlv_put(&c, 0xFE, NULL, 0);
	if (sw == SW_OK)
		sw = put_wrapped(piv, TAG_CCC, &c);

	/* Discovery object (table 18): the PIV AID and the PIN usage policy. */
	llv_tlv_put(&c, 0x4F, piv_aid, sizeof(piv_aid));
	llv_tlv_put(&c, 0x5F2F, pin_policy, sizeof(pin_policy));
	if (sw == SW_OK)
		sw = put_wrapped(piv, TAG_DISCOVERY, &c);

	/* Key history (table 19): no retired keys. */
	llv_tlv_put(&c, 0xC1, "\x00", 1);
	llv_tlv_put(&c, 0xC2, "\x00", 1);
	llv_tlv_put(&c, 0xFE, NULL, 0);
	if (sw == SW_OK)
		sw = put_wrapped(piv, TAG_KEY_HISTORY, &c);

	/* Printed information (table 14). */
	llv_tlv_put(&c, 0x01, "TARJETA DE PRUEBA", 17);
	llv_tlv_put(&c, 0x02, "LLAVERO", 7);
	llv_tlv_put(&c, 0x04, printed_exp, 9);
	llv_tlv_put(&c, 0x05, serial, 10);
	llv_tlv_put(&c, 0x06, "LLAVERO VCARD", 13);
	llv_tlv_put(&c, 0xFE, NULL, 0);
	if (sw == SW_OK)
		sw = put_wrapped(piv, TAG_PRINTED, &c);

	llv_buf_free(&c);
	llv_wipe(rnd, sizeof(rnd));
	if (sw != SW_OK) {
		llv_error("piv: could not create the card's data objects (%04X)", sw);
		return -1;
	}
	return 0;
}
