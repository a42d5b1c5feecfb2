/* driver_efirma.c: the `efirma` token driver, a read-only soft token over an
 * e.firma file pair (NAME.cer + NAME.key, see efirma_files.h).
 *
 * - One slot per pair found in the configured directories
 *   ($LLAVERO_EFIRMA_DIR, or efirma_dir in /etc/llavero/pkcs11.conf and
 *   ~/.config/llavero/pkcs11.conf); slot key "efirma:<path of the .cer>".
 * - Objects: the certificate, its public key and its private key (CKA_ID =
 *   SHA-1 of the public key), labelled "NOMBRE (RFC)". A CSD (sello digital)
 *   gets a slot too, but its token label starts with "CSD" and its objects'
 *   labels with "CSD: ", so nobody mistakes it for an e.firma (the agent
 *   offers only certificates with the e.firma EKU for sign-in).
 * - CKU_USER login: the PIN is the .key password. One decryption attempt per
 *   C_Login, never a retry. The decrypted key exists only while logged in
 *   (OpenSSL wipes RSA bignums when the key is freed; the plaintext PKCS#8 is
 *   in wiped memory while it is parsed) and is freed on logout and release.
 * - A file has no retry counter: the token never reports
 *   CKF_USER_PIN_COUNT_LOW / FINAL_TRY / LOCKED, and a wrong password can be
 *   tried again without limit (the protection is the password's strength).
 * - No SO, no C_SetPIN/C_InitPIN (the token is write-protected).
 * - sign(): the raw RSA private operation on the block the core padded. */
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rsa.h>

#include "efirma_files.h"
#include "log.h"
#include "token_driver.h"

struct efirma_token {
	struct efirma_pair pair;
	EVP_PKEY *pkey;         /* the private key, only while logged in */
	EVP_PKEY_CTX *sign_ctx; /* raw RSA (no padding) on pkey */
	char label[80];         /* certificate/key label */
};

static CK_RV rc_to_ckr(enum efirma_rc rc)
{
	switch (rc) {
	case EFIRMA_OK: return CKR_OK;
	case EFIRMA_ERR_BAD_PASSWORD: return CKR_PIN_INCORRECT;
	case EFIRMA_ERR_NOMEM: return CKR_HOST_MEMORY;
	case EFIRMA_ERR_IO: return CKR_DEVICE_REMOVED; /* the file went away */
	case EFIRMA_ERR_ARG: return CKR_ARGUMENTS_BAD;
	case EFIRMA_ERR_CORRUPT:
	case EFIRMA_ERR_UNSUPPORTED:
	case EFIRMA_ERR_MISMATCH: break;
	}
	return CKR_DEVICE_ERROR;
}

static void drop_key(struct efirma_token *t)
{
	EVP_PKEY_CTX_free(t->sign_ctx);
	t->sign_ctx = NULL;
	EVP_PKEY_free(t->pkey); /* BN_clear_free on the private values */
	t->pkey = NULL;
}

/* "NOMBRE (RFC)", or "CSD: NOMBRE (RFC)" for a sello digital; a long name is
 * shortened without splitting a UTF-8 character. */
static void make_label(const struct efirma_cert *c, char *out, size_t cap)
{
	const char *prefix = c->kind == EFIRMA_KIND_CSD ? "CSD: " : "";
	const char *name = c->name[0] ? c->name : c->serial;
	if (c->rfc[0])
		snprintf(out, cap, "%s%.*s (%s)", prefix, (int)p11_utf8_prefix(name, 56), name,
			 c->rfc);
	else
		snprintf(out, cap, "%s%.*s", prefix, (int)p11_utf8_prefix(name, 64), name);
}

/* ---- discovery, throttled ----------------------------------------------------
 * C_GetSlotList(NULL) asks for discovery every time (NSS and p11-kit call it
 * often), and a full scan parses every certificate. So the directories are
 * scanned again only when the configured list changes or one of them changes
 * (device, inode, mtime, ctime: a file added, removed or renamed in it), and
 * a directory changed within the last EFIRMA_MEMO_SETTLE_S seconds is scanned
 * again next time (a change in the same timestamp tick would not show). The
 * memo keeps rescans from logging the same unusable files again. A full
 * discovery (C_Initialize: the core's slot table is new) forgets all this.
 * Discovery runs with no core lock held, possibly in several threads: the
 * state has its own mutex (the only mutable global of this driver). */
struct dir_stamp {
	char *path;
	bool exists;
	dev_t dev;
	ino_t ino;
	struct timespec mtime, ctime;
};

static pthread_mutex_t scan_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct dir_stamp *scan_stamps;
static size_t scan_nstamps;
static bool scan_valid;
static struct efirma_scan_memo scan_memo;

static void stamps_free(struct dir_stamp *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}

/* Stamps of the configured directories now; *racy when one changed within
 * the settle time. NULL on no memory. */
static struct dir_stamp *stamps_now(size_t *n, bool *racy)
{
	char **dirs = efirma_config_dirs();
	struct dir_stamp *v;
	struct timespec now;
	size_t k = 0;

	*n = 0;
	*racy = false;
	if (!dirs)
		return NULL;
	while (dirs[k])
		k++;
	v = calloc(k ? k : 1, sizeof(*v));
	if (!v) {
		efirma_dirs_free(dirs);
		return NULL;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	for (size_t i = 0; i < k; i++) {
		struct stat st;

		v[i].path = strdup(dirs[i]);
		if (!v[i].path) {
			stamps_free(v, i);
			efirma_dirs_free(dirs);
			return NULL;
		}
		v[i].exists = stat(dirs[i], &st) == 0;
		if (!v[i].exists)
			continue;
		v[i].dev = st.st_dev;
		v[i].ino = st.st_ino;
		v[i].mtime = st.st_mtim;
		v[i].ctime = st.st_ctim;
		if (now.tv_sec - st.st_mtim.tv_sec < EFIRMA_MEMO_SETTLE_S ||
		    now.tv_sec - st.st_ctim.tv_sec < EFIRMA_MEMO_SETTLE_S)
			*racy = true;
	}
	efirma_dirs_free(dirs);
	*n = k;
	return v;
}

static bool stamp_equal(const struct dir_stamp *a, const struct dir_stamp *b)
{
	if (strcmp(a->path, b->path) != 0 || a->exists != b->exists)
		return false;
	if (!a->exists)
		return true;
	return a->dev == b->dev && a->ino == b->ino && a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec && a->ctime.tv_sec == b->ctime.tv_sec &&
	       a->ctime.tv_nsec == b->ctime.tv_nsec;
}

static bool stamps_unchanged(const struct dir_stamp *v, size_t n)
{
	if (!scan_valid || n != scan_nstamps)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!stamp_equal(&v[i], &scan_stamps[i]))
			return false;
	return true;
}

/* C_Finalize: the stamps and the scan memo go (the next C_Initialize scans
 * in full anyway). */
static void efirma_forget(const struct p11_driver *self)
{
	(void)self;
	pthread_mutex_lock(&scan_mutex);
	stamps_free(scan_stamps, scan_nstamps);
	scan_stamps = NULL;
	scan_nstamps = 0;
	scan_valid = false;
	efirma_scan_memo_free(&scan_memo);
	pthread_mutex_unlock(&scan_mutex);
}

static void efirma_discover(const struct p11_driver *self, bool full)
{
	struct efirma_pair_list list = { 0 };
	struct dir_stamp *stamps;
	size_t nstamps = 0;
	bool racy = false;

	pthread_mutex_lock(&scan_mutex);
	if (full) {
		scan_valid = false;
		efirma_scan_memo_free(&scan_memo);
	}
	stamps = stamps_now(&nstamps, &racy);
	if (stamps && stamps_unchanged(stamps, nstamps)) {
		stamps_free(stamps, nstamps);
		pthread_mutex_unlock(&scan_mutex);
		return;
	}
	llv_debug("efirma: scanning the e.firma directories (%s)",
		  full ? "C_Initialize" : !stamps ? "no memory" : !scan_valid ? "first or recent change"
		  : "a directory changed");
	if (efirma_scan_config_memo(&list, &scan_memo) != EFIRMA_OK)
		llv_warn("efirma: scanning the e.firma directories failed");
	stamps_free(scan_stamps, scan_nstamps);
	scan_stamps = stamps;
	scan_nstamps = stamps ? nstamps : 0;
	scan_valid = stamps && !racy;
	pthread_mutex_unlock(&scan_mutex);
	for (size_t i = 0; i < list.n; i++) {
		const struct efirma_pair *p = &list.items[i];
		char key[4200], desc[128];
		const char *base = strrchr(p->cer_path, '/');
		base = base ? base + 1 : p->cer_path;
		snprintf(key, sizeof(key), "efirma:%s", p->cer_path);
		snprintf(desc, sizeof(desc), "%s file %s", efirma_kind_str(p->cert.kind), base);
		if (p11_slot_add_file(self, key, desc, p->cer_path) < 0)
			llv_warn("efirma: no slot for %s", p->cer_path);
	}
	efirma_pair_list_free(&list);
}

static CK_RV efirma_open(const char *arg, void **priv)
{
	struct efirma_pair_list list = { 0 };
	struct efirma_token *t = NULL;
	char *copy = NULL;
	CK_RV rv = CKR_TOKEN_NOT_RECOGNIZED;

	if (!arg || !priv)
		return CKR_ARGUMENTS_BAD;
	*priv = NULL;
	if (access(arg, R_OK) != 0) {
		llv_info("efirma: %s is gone", arg);
		return CKR_DEVICE_REMOVED;
	}
	/* Pair again, as discover did: the .key files may have changed. */
	copy = strdup(arg);
	if (!copy)
		return CKR_HOST_MEMORY;
	pthread_mutex_lock(&scan_mutex);   /* the memo: report each bad file once */
	enum efirma_rc rc = efirma_scan_dir_memo(dirname(copy), &list, &scan_memo);
	pthread_mutex_unlock(&scan_mutex);
	if (rc == EFIRMA_ERR_NOMEM) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	for (size_t i = 0; i < list.n; i++) {
		if (strcmp(list.items[i].cer_path, arg) != 0)
			continue;
		t = calloc(1, sizeof(*t));
		if (!t) {
			rv = CKR_HOST_MEMORY;
			goto out;
		}
		t->pair = list.items[i];
		memset(&list.items[i], 0, sizeof(list.items[i]));
		make_label(&t->pair.cert, t->label, sizeof(t->label));
		*priv = t;
		rv = CKR_OK;
		break;
	}
	if (rv == CKR_TOKEN_NOT_RECOGNIZED)
		llv_warn("efirma: %s is no longer a usable e.firma pair", arg);
out:
	efirma_pair_list_free(&list);
	free(copy);
	return rv;
}

static CK_RV efirma_load_objects(void *priv, struct p11_token *tok)
{
	struct efirma_token *t = priv;
	const struct efirma_cert *c = &t->pair.cert;
	struct p11_key_spec spec = {
		.drv_ref = 0,
		.always_authenticate = false,
		.sign = true,
		.decrypt = false,
		.derive = false,
		.key_label = t->label,
		.cert_label = t->label,
	};
	return p11_token_add_cert(tok, c->der, c->der_len, c->id, sizeof(c->id), &spec);
}

static CK_RV efirma_token_info(void *priv, CK_TOKEN_INFO *info)
{
	struct efirma_token *t = priv;
	const struct efirma_cert *c = &t->pair.cert;
	char label[64];
	const char *serial = c->serial;
	size_t slen = strlen(serial);

	snprintf(label, sizeof(label), "%s %s", c->kind == EFIRMA_KIND_CSD ? "CSD" : "e.firma",
		 c->rfc[0] ? c->rfc : c->serial);
	p11_pad(info->label, sizeof(info->label), label);
	p11_pad(info->manufacturerID, sizeof(info->manufacturerID), "Llavero");
	p11_pad(info->model, sizeof(info->model),
		c->kind == EFIRMA_KIND_CSD ? "CSD archivo" : "e.firma archivo");
	/* The certificate number's last 16 digits (its unique part). */
	if (slen > sizeof(info->serialNumber))
		serial += slen - sizeof(info->serialNumber);
	p11_pad(info->serialNumber, sizeof(info->serialNumber), serial);
	info->ulMinPinLen = 1;
	info->ulMaxPinLen = 256;
	/* No retry counter on a file: never COUNT_LOW / FINAL_TRY / LOCKED. */
	info->flags |= p11_pin_flags(-1, -1, -1, -1);
	/* Nothing on it can change (no C_SetPIN: the core answers
	 * CKR_TOKEN_WRITE_PROTECTED, no objects created). */
	info->flags |= CKF_WRITE_PROTECTED;
	return CKR_OK;
}

static void efirma_key_sizes(void *priv, CK_ULONG *rsa_min, CK_ULONG *rsa_max,
			     CK_ULONG *ec_min, CK_ULONG *ec_max)
{
	struct efirma_token *t = priv;
	*rsa_min = *rsa_max = (CK_ULONG)t->pair.cert.key_bits;
	*ec_min = *ec_max = 0;
}

static CK_RV efirma_login(void *priv, CK_USER_TYPE user, const struct p11_object *key,
			  const uint8_t *pin, size_t pin_len)
{
	struct efirma_token *t = priv;
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *ctx = NULL;

	if (user != CKU_USER && user != CKU_CONTEXT_SPECIFIC)
		return CKR_USER_TYPE_INVALID; /* a file has no security officer */
	if (!pin && pin_len)
		return CKR_ARGUMENTS_BAD;
	/* Exactly one attempt with this password (per candidate file). */
	enum efirma_rc rc = efirma_pair_open(&t->pair, pin ? (const char *)pin : "", pin_len, &pkey);
	if (rc != EFIRMA_OK) {
		if (rc == EFIRMA_ERR_BAD_PASSWORD)
			llv_info("efirma: wrong password for %s", t->pair.cer_path);
		else
			llv_warn("efirma: cannot open the key of %s: %s", t->pair.cer_path,
				 efirma_rc_str(rc));
		return rc_to_ckr(rc);
	}
	ERR_set_mark();
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (!ctx || EVP_PKEY_sign_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING) != 1) {
		ERR_pop_to_mark();
		EVP_PKEY_CTX_free(ctx);
		EVP_PKEY_free(pkey);
		llv_error("efirma: cannot set up RSA signing");
		return CKR_DEVICE_ERROR;
	}
	ERR_pop_to_mark();
	drop_key(t);
	t->pkey = pkey;
	t->sign_ctx = ctx;
	return CKR_OK;
}

static CK_RV efirma_logout(void *priv)
{
	drop_key(priv);
	return CKR_OK;
}

static CK_RV efirma_sign(void *priv, const struct p11_object *key, const uint8_t *in,
			 size_t in_len, uint8_t *out, size_t *out_len)
{
	struct efirma_token *t = priv;
	if (!t->sign_ctx)
		return CKR_USER_NOT_LOGGED_IN;
	size_t mod_len = (size_t)EVP_PKEY_get_size(t->pkey);
	if (in_len != mod_len)
		return CKR_DATA_LEN_RANGE;
	if (*out_len < mod_len) {
		*out_len = mod_len;
		return CKR_BUFFER_TOO_SMALL;
	}
	size_t len = *out_len;
	ERR_set_mark();
	int ok = EVP_PKEY_sign(t->sign_ctx, out, &len, in, in_len);
	ERR_pop_to_mark();
	if (ok != 1 || len != mod_len) {
		/* The only input that fails is a block >= the modulus. */
		return CKR_DATA_INVALID;
	}
	*out_len = len;
	return CKR_OK;
}

static void efirma_release(void *priv)
{
	struct efirma_token *t = priv;
	if (!t)
		return;
	drop_key(t);
	efirma_pair_free(&t->pair);
	free(t);
}

const struct p11_driver p11_driver_efirma = {
	.name = "efirma",
	.kind = P11_DRIVER_FILE,
	.probe = NULL,
	.discover = efirma_discover,
	.forget = efirma_forget,
	.open = efirma_open,
	.load_objects = efirma_load_objects,
	.token_info = efirma_token_info,
	.key_sizes = efirma_key_sizes,
	.login = efirma_login,
	.logout = efirma_logout,
	.set_pin = NULL,
	.init_pin = NULL,
	.sign = efirma_sign,
	.random = NULL,
	.release = efirma_release,
};
