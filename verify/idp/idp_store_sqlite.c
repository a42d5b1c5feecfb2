/* The SQLite backend of the idp store: one database file, WAL journal,
 * schema migrations by PRAGMA user_version, every statement prepared once
 * with bound parameters. Callers are serialized by the server (one HTTP
 * thread), so the connection is used from one thread at a time. */
#include "idp_store.h"

#include "log.h"

#include <openssl/sha.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum {
	Q_USER_GET, Q_USER_BY_NAME, Q_USER_BY_RFC, Q_USER_BY_HANDLE, Q_USER_INS, Q_USER_UPD,
	Q_CRED_ADD, Q_CRED_GET, Q_CRED_LIST, Q_CRED_COUNT,
	Q_SESS_GET, Q_SESS_PUT, Q_SESS_DEL,
	Q_CODE_PUT, Q_CODE_GET, Q_CODE_USE,
	Q_TOK_PUT, Q_TOK_GET, Q_TOK_REVOKE,
	Q_NONCE_PUT, Q_NONCE_GET, Q_NONCE_USE,
	Q_RATE_HIT, Q_RATE_GET,
	Q_PURGE_SESS, Q_PURGE_CODE, Q_PURGE_TOK, Q_PURGE_NONCE, Q_PURGE_RATE,
	Q_COUNT
};

#define USER_COLS "id, username, display_name, curp, rfc, email, handle, efirma, persona, rep_rfc, rep_curp"
#define CRED_COLS "user_id, cred_id, spki, alg, sign_count"

static const char *const queries[Q_COUNT] = {
	[Q_USER_GET] = "SELECT " USER_COLS " FROM users WHERE id = ?1",
	[Q_USER_BY_NAME] = "SELECT " USER_COLS " FROM users WHERE username = ?1",
	[Q_USER_BY_RFC] = "SELECT " USER_COLS " FROM users WHERE rfc = ?1 AND efirma = 1",
	[Q_USER_BY_HANDLE] = "SELECT " USER_COLS " FROM users WHERE handle = ?1",
	[Q_USER_INS] = "INSERT INTO users (username, display_name, curp, rfc, email, handle, efirma,"
		       " persona, rep_rfc, rep_curp) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?9, ?10, ?11)",
	[Q_USER_UPD] = "UPDATE users SET username = ?1, display_name = ?2, curp = ?3, rfc = ?4,"
		       " email = ?5, handle = ?6, efirma = ?7, persona = ?9, rep_rfc = ?10, rep_curp = ?11"
		       " WHERE id = ?8",
	[Q_CRED_ADD] = "INSERT INTO credentials (user_id, cred_id, spki, alg, sign_count)"
		       " VALUES (?1, ?2, ?3, ?4, ?5)",
	[Q_CRED_GET] = "SELECT " CRED_COLS " FROM credentials WHERE cred_id = ?1",
	[Q_CRED_LIST] = "SELECT " CRED_COLS " FROM credentials WHERE user_id = ?1 ORDER BY rowid",
	[Q_CRED_COUNT] = "UPDATE credentials SET sign_count = ?2 WHERE cred_id = ?1",
	[Q_SESS_GET] = "SELECT id_hash, user_id, csrf, expires, data FROM sessions"
		       " WHERE id_hash = ?1 AND expires > ?2",
	[Q_SESS_PUT] = "INSERT OR REPLACE INTO sessions (id_hash, user_id, csrf, expires, data)"
		       " VALUES (?1, ?2, ?3, ?4, ?5)",
	[Q_SESS_DEL] = "DELETE FROM sessions WHERE id_hash = ?1",
	[Q_CODE_PUT] = "INSERT INTO codes (code_hash, client_id, redirect_uri, code_challenge,"
		       " method, user_id, expires, used) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0)",
	[Q_CODE_GET] = "SELECT code_hash, client_id, redirect_uri, code_challenge, method, user_id,"
		       " expires, used FROM codes WHERE code_hash = ?1",
	[Q_CODE_USE] = "UPDATE codes SET used = 1 WHERE code_hash = ?1",
	[Q_TOK_PUT] = "INSERT INTO tokens (token_hash, code_hash, client_id, method, user_id, expires)"
		      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[Q_TOK_GET] = "SELECT token_hash, code_hash, client_id, method, user_id, expires FROM tokens"
		      " WHERE token_hash = ?1 AND expires > ?2",
	[Q_TOK_REVOKE] = "DELETE FROM tokens WHERE code_hash = ?1",
	[Q_NONCE_PUT] = "INSERT INTO nonces (nonce, expires, used) VALUES (?1, ?2, 0)",
	[Q_NONCE_GET] = "SELECT expires, used FROM nonces WHERE nonce = ?1",
	[Q_NONCE_USE] = "UPDATE nonces SET used = 1 WHERE nonce = ?1",
	[Q_RATE_HIT] = "INSERT INTO rate_limits (key, window, count) VALUES (?1, ?2, 1)"
		       " ON CONFLICT (key, window) DO UPDATE SET count = count + 1",
	[Q_RATE_GET] = "SELECT count FROM rate_limits WHERE key = ?1 AND window = ?2",
	[Q_PURGE_SESS] = "DELETE FROM sessions WHERE expires <= ?1",
	[Q_PURGE_CODE] = "DELETE FROM codes WHERE expires <= ?1 - 600",
	[Q_PURGE_TOK] = "DELETE FROM tokens WHERE expires <= ?1",
	/* a used or expired nonce is kept one more hour to tell a replay */
	[Q_PURGE_NONCE] = "DELETE FROM nonces WHERE expires <= ?1 - 3600",
	[Q_PURGE_RATE] = "DELETE FROM rate_limits WHERE window <= ?1 - 3600",
};

/* Schema versions; migration i takes user_version i to i + 1. */
static const char *const migrations[] = {
	"CREATE TABLE users ("
	"  id INTEGER PRIMARY KEY,"
	"  username TEXT NOT NULL UNIQUE,"
	"  display_name TEXT NOT NULL,"
	"  curp TEXT NOT NULL DEFAULT '',"
	"  rfc TEXT NOT NULL DEFAULT '',"
	"  email TEXT NOT NULL DEFAULT '',"
	"  handle BLOB NOT NULL UNIQUE,"
	"  efirma INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX users_rfc ON users (rfc);"
	"CREATE TABLE credentials ("
	"  cred_id BLOB PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
	"  spki BLOB NOT NULL,"
	"  alg INTEGER NOT NULL,"
	"  sign_count INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX credentials_user ON credentials (user_id);"
	"CREATE TABLE sessions ("
	"  id_hash TEXT PRIMARY KEY,"
	"  user_id INTEGER NOT NULL DEFAULT 0,"
	"  csrf TEXT NOT NULL,"
	"  expires INTEGER NOT NULL,"
	"  data TEXT NOT NULL DEFAULT '{}');"
	"CREATE TABLE codes ("
	"  code_hash TEXT PRIMARY KEY,"
	"  client_id TEXT NOT NULL,"
	"  redirect_uri TEXT NOT NULL,"
	"  code_challenge TEXT NOT NULL,"
	"  method TEXT NOT NULL,"
	"  user_id INTEGER NOT NULL,"
	"  expires INTEGER NOT NULL,"
	"  used INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE tokens ("
	"  token_hash TEXT PRIMARY KEY,"
	"  code_hash TEXT NOT NULL,"
	"  client_id TEXT NOT NULL,"
	"  method TEXT NOT NULL,"
	"  user_id INTEGER NOT NULL,"
	"  expires INTEGER NOT NULL);"
	"CREATE INDEX tokens_code ON tokens (code_hash);"
	"CREATE TABLE nonces ("
	"  nonce TEXT PRIMARY KEY,"
	"  expires INTEGER NOT NULL,"
	"  used INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE rate_limits ("
	"  key TEXT NOT NULL,"
	"  window INTEGER NOT NULL,"
	"  count INTEGER NOT NULL,"
	"  PRIMARY KEY (key, window));",
	/* 2: persona física/moral and the legal representative of a moral */
	"ALTER TABLE users ADD COLUMN persona TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE users ADD COLUMN rep_rfc TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE users ADD COLUMN rep_curp TEXT NOT NULL DEFAULT '';",
};

struct sq {
	sqlite3 *db;
	sqlite3_stmt *st[Q_COUNT];
};

static sqlite3_stmt *q(struct sq *s, int which)
{
	if (!s->st[which]) {
		if (sqlite3_prepare_v3(s->db, queries[which], -1, SQLITE_PREPARE_PERSISTENT,
				       &s->st[which], NULL) != SQLITE_OK) {
			llv_error("sqlite: preparando la consulta %d: %s", which, sqlite3_errmsg(s->db));
			return NULL;
		}
	}
	sqlite3_reset(s->st[which]);
	sqlite3_clear_bindings(s->st[which]);
	return s->st[which];
}

/* Steps a statement that returns no row. */
static int exec_done(struct sq *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		llv_error("sqlite: %s", sqlite3_errmsg(s->db));
		return -1;
	}
	return 0;
}

/* Steps to the first row: 0 (row), IDP_STORE_NOT_FOUND or -1. */
static int step_row(struct sq *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return 0;
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return IDP_STORE_NOT_FOUND;
	llv_error("sqlite: %s", sqlite3_errmsg(s->db));
	return -1;
}

static void col_text(sqlite3_stmt *st, int i, char *out, size_t outlen)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	snprintf(out, outlen, "%s", t ? (const char *)t : "");
}

static size_t col_blob(sqlite3_stmt *st, int i, uint8_t *out, size_t outlen)
{
	const void *b = sqlite3_column_blob(st, i);
	size_t n = (size_t)sqlite3_column_bytes(st, i);
	if (n > outlen)
		n = outlen;
	if (b && n)
		memcpy(out, b, n);
	return n;
}

static void bind_text(sqlite3_stmt *st, int i, const char *t)
{
	sqlite3_bind_text(st, i, t ? t : "", -1, SQLITE_TRANSIENT);
}

/* ---- users ---- */

static int read_user(struct sq *s, sqlite3_stmt *st, struct idp_user *u)
{
	int rc = step_row(s, st);
	if (rc)
		return rc;
	memset(u, 0, sizeof(*u));
	u->id = sqlite3_column_int64(st, 0);
	col_text(st, 1, u->username, sizeof(u->username));
	col_text(st, 2, u->display_name, sizeof(u->display_name));
	col_text(st, 3, u->curp, sizeof(u->curp));
	col_text(st, 4, u->rfc, sizeof(u->rfc));
	col_text(st, 5, u->email, sizeof(u->email));
	col_blob(st, 6, u->handle, sizeof(u->handle));
	u->efirma = sqlite3_column_int(st, 7) != 0;
	col_text(st, 8, u->persona, sizeof(u->persona));
	col_text(st, 9, u->rep_rfc, sizeof(u->rep_rfc));
	col_text(st, 10, u->rep_curp, sizeof(u->rep_curp));
	sqlite3_reset(st);
	return 0;
}

static int sq_user_get(void *ctx, int64_t id, struct idp_user *out)
{
	sqlite3_stmt *st = q(ctx, Q_USER_GET);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	return read_user(ctx, st, out);
}

static int sq_user_by_username(void *ctx, const char *name, struct idp_user *out)
{
	sqlite3_stmt *st = q(ctx, Q_USER_BY_NAME);
	if (!st)
		return -1;
	bind_text(st, 1, name);
	return read_user(ctx, st, out);
}

static int sq_user_by_rfc(void *ctx, const char *rfc, struct idp_user *out)
{
	sqlite3_stmt *st = q(ctx, Q_USER_BY_RFC);
	if (!st)
		return -1;
	bind_text(st, 1, rfc);
	return read_user(ctx, st, out);
}

static int sq_user_by_handle(void *ctx, const uint8_t *h, size_t len, struct idp_user *out)
{
	sqlite3_stmt *st = q(ctx, Q_USER_BY_HANDLE);
	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, h, (int)len, SQLITE_TRANSIENT);
	return read_user(ctx, st, out);
}

static int sq_user_put(void *ctx, struct idp_user *u)
{
	struct sq *s = ctx;
	sqlite3_stmt *st = q(s, u->id ? Q_USER_UPD : Q_USER_INS);
	if (!st)
		return -1;
	bind_text(st, 1, u->username);
	bind_text(st, 2, u->display_name);
	bind_text(st, 3, u->curp);
	bind_text(st, 4, u->rfc);
	bind_text(st, 5, u->email);
	sqlite3_bind_blob(st, 6, u->handle, sizeof(u->handle), SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 7, u->efirma);
	if (u->id)
		sqlite3_bind_int64(st, 8, u->id);
	bind_text(st, 9, u->persona);
	bind_text(st, 10, u->rep_rfc);
	bind_text(st, 11, u->rep_curp);
	if (exec_done(s, st))
		return -1;
	if (!u->id)
		u->id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

/* ---- credentials ---- */

static void read_cred(sqlite3_stmt *st, struct idp_credential *c)
{
	memset(c, 0, sizeof(*c));
	c->user_id = sqlite3_column_int64(st, 0);
	c->cred_id_len = col_blob(st, 1, c->cred_id, sizeof(c->cred_id));
	c->spki_len = col_blob(st, 2, c->spki, sizeof(c->spki));
	c->alg = (long)sqlite3_column_int64(st, 3);
	c->sign_count = (uint32_t)sqlite3_column_int64(st, 4);
}

static int sq_cred_add(void *ctx, const struct idp_credential *c)
{
	sqlite3_stmt *st = q(ctx, Q_CRED_ADD);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, c->user_id);
	sqlite3_bind_blob(st, 2, c->cred_id, (int)c->cred_id_len, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 3, c->spki, (int)c->spki_len, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, c->alg);
	sqlite3_bind_int64(st, 5, c->sign_count);
	return exec_done(ctx, st);
}

static int sq_cred_get(void *ctx, const uint8_t *id, size_t len, struct idp_credential *out)
{
	sqlite3_stmt *st = q(ctx, Q_CRED_GET);
	int rc;
	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, id, (int)len, SQLITE_TRANSIENT);
	if ((rc = step_row(ctx, st)))
		return rc;
	read_cred(st, out);
	sqlite3_reset(st);
	return 0;
}

static int sq_cred_list(void *ctx, int64_t user_id, struct idp_credential *out, size_t max, size_t *n)
{
	struct sq *s = ctx;
	sqlite3_stmt *st = q(s, Q_CRED_LIST);
	int rc;
	*n = 0;
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, user_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n < max)
			read_cred(st, &out[(*n)++]);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		llv_error("sqlite: %s", sqlite3_errmsg(s->db));
		return -1;
	}
	return 0;
}

static int sq_cred_set_count(void *ctx, const uint8_t *id, size_t len, uint32_t count)
{
	sqlite3_stmt *st = q(ctx, Q_CRED_COUNT);
	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, id, (int)len, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, count);
	return exec_done(ctx, st);
}

/* ---- sessions ---- */

static int sq_session_get(void *ctx, const char *id_hash, time_t now, struct idp_session_row *out)
{
	sqlite3_stmt *st = q(ctx, Q_SESS_GET);
	const unsigned char *d;
	int rc;
	if (!st)
		return -1;
	bind_text(st, 1, id_hash);
	sqlite3_bind_int64(st, 2, now);
	if ((rc = step_row(ctx, st)))
		return rc;
	memset(out, 0, sizeof(*out));
	col_text(st, 0, out->id_hash, sizeof(out->id_hash));
	out->user_id = sqlite3_column_int64(st, 1);
	col_text(st, 2, out->csrf, sizeof(out->csrf));
	out->expires = (time_t)sqlite3_column_int64(st, 3);
	d = sqlite3_column_text(st, 4);
	out->data = strdup(d ? (const char *)d : "{}");
	sqlite3_reset(st);
	return out->data ? 0 : -1;
}

static int sq_session_put(void *ctx, const struct idp_session_row *r)
{
	sqlite3_stmt *st = q(ctx, Q_SESS_PUT);
	if (!st)
		return -1;
	bind_text(st, 1, r->id_hash);
	sqlite3_bind_int64(st, 2, r->user_id);
	bind_text(st, 3, r->csrf);
	sqlite3_bind_int64(st, 4, r->expires);
	bind_text(st, 5, r->data ? r->data : "{}");
	return exec_done(ctx, st);
}

static int sq_session_delete(void *ctx, const char *id_hash)
{
	sqlite3_stmt *st = q(ctx, Q_SESS_DEL);
	if (!st)
		return -1;
	bind_text(st, 1, id_hash);
	return exec_done(ctx, st);
}

/* ---- codes and tokens ---- */

static int sq_code_put(void *ctx, const struct idp_code_row *c)
{
	sqlite3_stmt *st = q(ctx, Q_CODE_PUT);
	if (!st)
		return -1;
	bind_text(st, 1, c->code_hash);
	bind_text(st, 2, c->client_id);
	bind_text(st, 3, c->redirect_uri);
	bind_text(st, 4, c->code_challenge);
	bind_text(st, 5, c->method);
	sqlite3_bind_int64(st, 6, c->user_id);
	sqlite3_bind_int64(st, 7, c->expires);
	return exec_done(ctx, st);
}

static int sq_code_take(void *ctx, const char *code_hash, struct idp_code_row *out)
{
	struct sq *s = ctx;
	sqlite3_stmt *st = q(s, Q_CODE_GET);
	int rc;
	if (!st)
		return -1;
	bind_text(st, 1, code_hash);
	if ((rc = step_row(s, st)))
		return rc;
	memset(out, 0, sizeof(*out));
	col_text(st, 0, out->code_hash, sizeof(out->code_hash));
	col_text(st, 1, out->client_id, sizeof(out->client_id));
	col_text(st, 2, out->redirect_uri, sizeof(out->redirect_uri));
	col_text(st, 3, out->code_challenge, sizeof(out->code_challenge));
	col_text(st, 4, out->method, sizeof(out->method));
	out->user_id = sqlite3_column_int64(st, 5);
	out->expires = (time_t)sqlite3_column_int64(st, 6);
	out->used = sqlite3_column_int(st, 7) != 0;
	sqlite3_reset(st);
	if (out->used)
		return 0;
	st = q(s, Q_CODE_USE);
	if (!st)
		return -1;
	bind_text(st, 1, code_hash);
	return exec_done(s, st);
}

static int sq_token_put(void *ctx, const struct idp_token_row *t)
{
	sqlite3_stmt *st = q(ctx, Q_TOK_PUT);
	if (!st)
		return -1;
	bind_text(st, 1, t->token_hash);
	bind_text(st, 2, t->code_hash);
	bind_text(st, 3, t->client_id);
	bind_text(st, 4, t->method);
	sqlite3_bind_int64(st, 5, t->user_id);
	sqlite3_bind_int64(st, 6, t->expires);
	return exec_done(ctx, st);
}

static int sq_token_get(void *ctx, const char *token_hash, time_t now, struct idp_token_row *out)
{
	sqlite3_stmt *st = q(ctx, Q_TOK_GET);
	int rc;
	if (!st)
		return -1;
	bind_text(st, 1, token_hash);
	sqlite3_bind_int64(st, 2, now);
	if ((rc = step_row(ctx, st)))
		return rc;
	memset(out, 0, sizeof(*out));
	col_text(st, 0, out->token_hash, sizeof(out->token_hash));
	col_text(st, 1, out->code_hash, sizeof(out->code_hash));
	col_text(st, 2, out->client_id, sizeof(out->client_id));
	col_text(st, 3, out->method, sizeof(out->method));
	out->user_id = sqlite3_column_int64(st, 4);
	out->expires = (time_t)sqlite3_column_int64(st, 5);
	sqlite3_reset(st);
	return 0;
}

static int sq_token_revoke_by_code(void *ctx, const char *code_hash)
{
	sqlite3_stmt *st = q(ctx, Q_TOK_REVOKE);
	if (!st)
		return -1;
	bind_text(st, 1, code_hash);
	return exec_done(ctx, st);
}

/* ---- nonces ---- */

static int sq_nonce_put(void *ctx, const char *nonce, time_t expires)
{
	sqlite3_stmt *st = q(ctx, Q_NONCE_PUT);
	if (!st)
		return -1;
	bind_text(st, 1, nonce);
	sqlite3_bind_int64(st, 2, expires);
	return exec_done(ctx, st);
}

static int sq_nonce_take(void *ctx, const char *nonce, time_t now)
{
	struct sq *s = ctx;
	sqlite3_stmt *st = q(s, Q_NONCE_GET);
	time_t expires;
	int used, rc;
	if (!st)
		return -1;
	bind_text(st, 1, nonce);
	if ((rc = step_row(s, st)))
		return rc;
	expires = (time_t)sqlite3_column_int64(st, 0);
	used = sqlite3_column_int(st, 1);
	sqlite3_reset(st);
	if (used)
		return IDP_NONCE_USED;
	st = q(s, Q_NONCE_USE);
	if (!st)
		return -1;
	bind_text(st, 1, nonce);
	if (exec_done(s, st))
		return -1;
	return now >= expires ? IDP_NONCE_EXPIRED : 0;
}

/* ---- rate limits ---- */

static int sq_rate_hit(void *ctx, const char *key, time_t window, long *count)
{
	struct sq *s = ctx;
	sqlite3_stmt *st = q(s, Q_RATE_HIT);
	int rc;
	if (!st)
		return -1;
	bind_text(st, 1, key);
	sqlite3_bind_int64(st, 2, window);
	if (exec_done(s, st))
		return -1;
	st = q(s, Q_RATE_GET);
	if (!st)
		return -1;
	bind_text(st, 1, key);
	sqlite3_bind_int64(st, 2, window);
	if ((rc = step_row(s, st)))
		return -1;
	*count = (long)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

static int sq_purge(void *ctx, time_t now)
{
	static const int purges[] = { Q_PURGE_SESS, Q_PURGE_CODE, Q_PURGE_TOK, Q_PURGE_NONCE, Q_PURGE_RATE };
	for (size_t i = 0; i < sizeof(purges) / sizeof(purges[0]); i++) {
		sqlite3_stmt *st = q(ctx, purges[i]);
		if (!st)
			return -1;
		sqlite3_bind_int64(st, 1, now);
		if (exec_done(ctx, st))
			return -1;
	}
	return 0;
}

static void sq_close(void *ctx)
{
	struct sq *s = ctx;
	if (!s)
		return;
	for (int i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	free(s);
}

static const struct idp_store_ops sqlite_ops = {
	.close = sq_close,
	.user_get = sq_user_get,
	.user_by_username = sq_user_by_username,
	.user_by_rfc = sq_user_by_rfc,
	.user_by_handle = sq_user_by_handle,
	.user_put = sq_user_put,
	.cred_add = sq_cred_add,
	.cred_get = sq_cred_get,
	.cred_list = sq_cred_list,
	.cred_set_count = sq_cred_set_count,
	.session_get = sq_session_get,
	.session_put = sq_session_put,
	.session_delete = sq_session_delete,
	.code_put = sq_code_put,
	.code_take = sq_code_take,
	.token_put = sq_token_put,
	.token_get = sq_token_get,
	.token_revoke_by_code = sq_token_revoke_by_code,
	.nonce_put = sq_nonce_put,
	.nonce_take = sq_nonce_take,
	.rate_hit = sq_rate_hit,
	.purge = sq_purge,
};

static int migrate(sqlite3 *db)
{
	sqlite3_stmt *st;
	int version = 0;
	const int latest = (int)(sizeof(migrations) / sizeof(migrations[0]));

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version > latest) {
		llv_error("sqlite: la base es de una versión más nueva (%d > %d)", version, latest);
		return -1;
	}
	for (int v = version; v < latest; v++) {
		char pragma[64];
		char *err = NULL;
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
		if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &err) != SQLITE_OK ||
		    sqlite3_exec(db, migrations[v], NULL, NULL, &err) != SQLITE_OK ||
		    sqlite3_exec(db, pragma, NULL, NULL, &err) != SQLITE_OK ||
		    sqlite3_exec(db, "COMMIT", NULL, NULL, &err) != SQLITE_OK) {
			llv_error("sqlite: migración %d -> %d: %s", v, v + 1, err ? err : "?");
			sqlite3_free(err);
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
		llv_info("sqlite: esquema migrado a la versión %d", v + 1);
	}
	return 0;
}

struct idp_store *idp_store_sqlite_open(const char *path)
{
	struct idp_store *store = calloc(1, sizeof(*store));
	struct sq *s = calloc(1, sizeof(*s));
	char *err = NULL;

	if (!store || !s)
		goto fail;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		llv_error("sqlite: no se pudo abrir %s: %s", path,
			  s->db ? sqlite3_errmsg(s->db) : "sin memoria");
		goto fail;
	}
	/* personal data (CURP, RFC) and hashes of bearer secrets: owner only;
	 * SQLite gives the -wal and -shm files the same mode */
	if (chmod(path, S_IRUSR | S_IWUSR))
		llv_warn("sqlite: no se pudo restringir los permisos de %s", path);
	sqlite3_busy_timeout(s->db, 5000);
	if (sqlite3_exec(s->db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
			 " PRAGMA foreign_keys = ON;", NULL, NULL, &err) != SQLITE_OK) {
		llv_error("sqlite: %s", err ? err : "?");
		sqlite3_free(err);
		goto fail;
	}
	if (migrate(s->db))
		goto fail;
	store->ops = &sqlite_ops;
	store->ctx = s;
	return store;
fail:
	if (s)
		sq_close(s);
	free(store);
	return NULL;
}

void idp_store_close(struct idp_store *s)
{
	if (!s)
		return;
	s->ops->close(s->ctx);
	free(s);
}

void idp_store_hash(const char *secret, char out[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)secret, strlen(secret), md);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}
