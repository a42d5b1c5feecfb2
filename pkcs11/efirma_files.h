/* e.firma file pairs: the portable loader behind the `efirma` token driver.
 *
 * An e.firma (or a CSD) as SAT hands it out is two files:
 *   NAME.cer  DER X.509 certificate, RSA-2048, serial = 20-digit number in ASCII;
 *             RFC in subject 2.5.4.45, CURP in 2.5.4.5, holder in 2.5.4.41/CN.
 *             A persona moral reads "COMPANY_RFC / REP_RFC" and " / REP_CURP".
 *   NAME.key  DER PKCS#8 EncryptedPrivateKeyInfo, PBES2 + PBKDF2-HMAC-SHA1
 *             (2048 iterations) + DES-EDE3-CBC; other PBES2 ciphers and PRFs
 *             OpenSSL knows are accepted too. The password is the token PIN.
 *
 * This file knows nothing about Cryptoki; the driver maps the codes below.
 *
 * Wrong passwords: a .key file has no retry counter, so a soft token built on
 * it never reports CKF_USER_PIN_COUNT_LOW / FINAL_TRY / LOCKED. The loader
 * never tries a password twice. A .key is unauthenticated encryption: a wrong
 * password and a corrupted ciphertext look alike (bad padding or garbage DER)
 * and both are reported as EFIRMA_ERR_BAD_PASSWORD; a file whose structure is
 * broken (truncated, not DER, unknown algorithm) is EFIRMA_ERR_CORRUPT. */
#ifndef LLAVERO_PKCS11_EFIRMA_FILES_H
#define LLAVERO_PKCS11_EFIRMA_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

enum efirma_rc {
	EFIRMA_OK = 0,
	EFIRMA_ERR_IO,           /* file missing, unreadable or too large */
	EFIRMA_ERR_CORRUPT,      /* not a DER certificate / EncryptedPrivateKeyInfo */
	EFIRMA_ERR_UNSUPPORTED,  /* parses, but not RSA >= 2048 or not PBES2 */
	EFIRMA_ERR_BAD_PASSWORD, /* the password does not open the .key */
	EFIRMA_ERR_MISMATCH,     /* the .key opens but is not the certificate's key */
	EFIRMA_ERR_NOMEM,
	EFIRMA_ERR_ARG,
};

/* Human-readable (English) name of a code, for logs. */
const char *efirma_rc_str(enum efirma_rc rc);

enum efirma_kind {
	EFIRMA_KIND_FIEL,  /* e.firma: EKU clientAuth + emailProtection, no OU */
	EFIRMA_KIND_CSD,   /* Certificado de Sello Digital: no EKU, OU = branch */
	EFIRMA_KIND_OTHER, /* anything else SAT-shaped enough to load */
};

const char *efirma_kind_str(enum efirma_kind kind); /* "e.firma", "CSD", "other" */

/* Files above these sizes are refused before parsing. */
#define EFIRMA_MAX_CER_SIZE (64 * 1024)
#define EFIRMA_MAX_KEY_SIZE (64 * 1024)
/* PBKDF2 iteration counts above this are refused (SAT uses 2048). */
#define EFIRMA_MAX_PBKDF2_ITER 1000000UL
#define EFIRMA_MIN_RSA_BITS 2048

#define EFIRMA_RFC_MAX 16  /* 12 (moral) or 13 (fisica) characters + NUL */
#define EFIRMA_CURP_MAX 24 /* 18 characters + NUL */
#define EFIRMA_NAME_MAX 256

struct efirma_cert {
	uint8_t *der; /* the whole .cer, malloc'd */
	size_t der_len;
	X509 *x509;
	EVP_PKEY *pubkey; /* borrowed from x509 */
	int key_bits;
	enum efirma_kind kind;
	bool moral;  /* "COMPANY / REP" subject */
	bool expired; /* notAfter is in the past at load time */
	char name[EFIRMA_NAME_MAX]; /* UTF-8 holder: 2.5.4.41, else CN */
	char rfc[EFIRMA_RFC_MAX];   /* holder's RFC (the company's for a moral) */
	char rep_rfc[EFIRMA_RFC_MAX];   /* representative's RFC (moral), else "" */
	char curp[EFIRMA_CURP_MAX];     /* holder's CURP (fisica), else "" */
	char rep_curp[EFIRMA_CURP_MAX]; /* representative's CURP (moral), else "" */
	char serial[48]; /* certificate number: the serial's ASCII, else its hex */
	uint8_t id[20];  /* SHA-1 of the public key bit string (CKA_ID) */
};

/* Parses a DER certificate from memory. On success *out owns copies of
 * everything; free with efirma_cert_free. */
enum efirma_rc efirma_cert_parse(const uint8_t *der, size_t len, struct efirma_cert *out);
enum efirma_rc efirma_cert_load(const char *path, struct efirma_cert *out);
void efirma_cert_free(struct efirma_cert *c);

/* An encrypted .key, parsed but not decrypted. */
struct efirma_key_file {
	uint8_t *der;
	size_t der_len;
	X509_SIG *p8; /* EncryptedPrivateKeyInfo */
	unsigned long iterations; /* PBKDF2 iteration count */
	int cipher_nid;           /* PBES2 encryption scheme */
	int prf_nid;              /* PBKDF2 PRF (NID_hmacWithSHA1 when absent) */
};

/* Parses an EncryptedPrivateKeyInfo and checks it is PBES2/PBKDF2 with a
 * cipher this OpenSSL has and at most max_iter iterations (0: the default
 * EFIRMA_MAX_PBKDF2_ITER). Returns CORRUPT/UNSUPPORTED otherwise. */
enum efirma_rc efirma_key_parse(const uint8_t *der, size_t len, unsigned long max_iter,
				struct efirma_key_file *out);
enum efirma_rc efirma_key_load(const char *path, struct efirma_key_file *out);
void efirma_key_file_free(struct efirma_key_file *k);

/* Decrypts with the password (pass_len bytes, not necessarily NUL-ended). The
 * plaintext PKCS#8 lives only in wiped memory; *pkey is the private key
 * (EVP_PKEY_free wipes its bignums). Exactly one decryption attempt. */
enum efirma_rc efirma_key_decrypt(const struct efirma_key_file *k, const char *pass,
				  size_t pass_len, EVP_PKEY **pkey);

/* EFIRMA_OK when pkey is the private half of the certificate's public key
 * (same public key, and a test signature verifies), EFIRMA_ERR_MISMATCH when
 * the public keys differ, EFIRMA_ERR_CORRUPT when they agree but the private
 * values are damaged (the test signature does not verify). */
enum efirma_rc efirma_key_matches_cert(EVP_PKEY *pkey, const struct efirma_cert *c);

/* The pair a slot is made from: a certificate and the .key files that may
 * hold its key (the one with the same base name, else the unpaired .key
 * files of the directory, likeliest first; an encrypted .key reveals its
 * public key only once opened, so the match is made at login). */
#define EFIRMA_MAX_KEY_CANDIDATES 8

struct efirma_pair {
	char *cer_path;
	char *key_paths[EFIRMA_MAX_KEY_CANDIDATES];
	size_t n_keys;
	struct efirma_cert cert;
};

/* Opens the pair with the password: tries the candidate .key files in order
 * (each once) until one decrypts to the certificate's key; that file becomes
 * the pair's only candidate. Returns OK, BAD_PASSWORD (no candidate opened),
 * MISMATCH (some opened but none is the certificate's key) or an error of the
 * first file that could not be read. */
enum efirma_rc efirma_pair_open(struct efirma_pair *p, const char *pass, size_t pass_len,
				EVP_PKEY **pkey);
void efirma_pair_free(struct efirma_pair *p);

struct efirma_pair_list {
	struct efirma_pair *items;
	size_t n;
};

/* Scans a directory (not recursively) for *.cer with a usable certificate and
 * at least one .key candidate; appends pairs sorted by .cer file name.
 * Unreadable or unsupported files are logged and skipped. Returns OK even
 * when nothing is found; IO when the directory cannot be opened. */
enum efirma_rc efirma_scan_dir(const char *dir, struct efirma_pair_list *list);
void efirma_pair_list_free(struct efirma_pair_list *list);

/* What earlier scans reported, so that rescans log each skipped file once:
 * a .cer that could not be used is skipped silently (not even read) while it
 * stays the same file (device, inode, size, mtime, ctime); a .cer without a
 * .key is paired again each time but reported once. A file changed less than
 * EFIRMA_MEMO_SETTLE_S seconds before the scan is not remembered (it may
 * still be being written within the same timestamp tick). Not thread-safe:
 * the caller serialises scans that share a memo. */
#define EFIRMA_MEMO_SETTLE_S 2
struct efirma_memo_entry;
struct efirma_scan_memo {
	struct efirma_memo_entry *v;
	size_t n, cap;
};
void efirma_scan_memo_free(struct efirma_scan_memo *memo);
/* efirma_scan_dir / efirma_scan_config with a memo (NULL: none). */
enum efirma_rc efirma_scan_dir_memo(const char *dir, struct efirma_pair_list *list,
				    struct efirma_scan_memo *memo);

/* Directories to scan, in order: $LLAVERO_EFIRMA_DIR (':'-separated) when
 * set; else every `efirma_dir = PATH` of $LLAVERO_PKCS11_CONF when set; else
 * of /etc/llavero/pkcs11.conf and then of $XDG_CONFIG_HOME/llavero/pkcs11.conf
 * (~/.config/llavero/pkcs11.conf). Returns a NULL-terminated malloc'd array
 * of malloc'd strings (free with efirma_dirs_free), NULL on no memory. */
char **efirma_config_dirs(void);
/* Appends every efirma_dir of one config file (missing file: nothing).
 * `#` starts a comment; `~/` at the start of a path is $HOME. */
int efirma_config_read(const char *path, char ***dirs, size_t *n);
void efirma_dirs_free(char **dirs);

/* Scans every configured directory (duplicates by .cer path removed). */
enum efirma_rc efirma_scan_config(struct efirma_pair_list *list);
enum efirma_rc efirma_scan_config_memo(struct efirma_pair_list *list,
				       struct efirma_scan_memo *memo);

#endif
