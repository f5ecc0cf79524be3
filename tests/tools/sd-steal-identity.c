/*
 * sd-steal-identity.c — a TEST TOOL, never part of sealdropd: the attacker of issue 6's
 * adversarial test. It holds a COPY of a server's LMDB store, the intake secret key and
 * the identity secret key (one key file, or every share of a split), and tries to recover
 * a case's identity record with the project's own functions, bypassing the server's
 * consent check entirely. Start at main().
 *
 *   sd-steal-identity STOREDIR CASE --intake KEY (--identity-key KEY | --share FILE...)
 *                     --passphrase-file F
 *
 * What it does, printing one line per step:
 *   - the case record (cases[CASE]) names the upload, whose header is in upload_headers
 *     and whose identity blob is chunks[upload || 1 || 0];
 *   - the content key opens with the intake key and s_c with the identity key (both keys
 *     are genuinely held);
 *   - the identity blob is tried with every s_w the attacker can think of: zeros, the
 *     content key, s_c itself, and s_w out of every release still in the store's
 *     "consents" rows (there are none unless a consent was live when the copy was taken).
 * Exit 0 with the identity on stdout if any attempt opens it (DESIGN.md's honest limit: a
 * copy taken while a consent was live), 2 with "identity not recoverable" if none does,
 * 1 for a usage or set-up error.
 */
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sealdrop/bytes.h"
#include "sealdrop/caserec.h"
#include "sealdrop/consents.h"
#include "sealdrop/envelope.h"
#include "sealdrop/fileio.h"
#include "sealdrop/identity.h"
#include "sealdrop/keys.h"
#include "sealdrop/keyshare.h"
#include "sealdrop/sealbox.h"
#include "sealdrop/sealdrop.h"
#include "sealdrop/store.h"

#define SHARES_MAX 255

static const char usage[] =
        "usage: sd-steal-identity STOREDIR CASE --intake KEY (--identity-key KEY | --share FILE...)\n"
        "                         --passphrase-file F\n";

typedef struct {
	const char *store, *cn, *intake, *idkey, *passfile;
	const char *shares[SHARES_MAX];
	size_t n_shares;
} args_t;

typedef struct {
	MDB_env *env;
	MDB_txn *txn;
	sd_header_t *h;
	uint8_t blob[SD_IDENTITY_BLOB_BYTES];
	sd_seckey_t *intake, *identity;
	uint8_t *dek, *s_c;
	char *pass;
	size_t passlen;
	unsigned attempts, releases;
} steal_t;

static int fail(const char *what)
{
	fprintf(stderr, "sd-steal-identity: %s: %s\n", what, sd_error_detail());
	return 1;
}

static int parse(int argc, char **argv, args_t *a)
{
	memset(a, 0, sizeof(*a));
	if (argc < 3)
		return -1;
	a->store = argv[1];
	a->cn = argv[2];
	for (int i = 3; i < argc; i++) {
		if (i + 1 >= argc)
			return -1;
		if (strcmp(argv[i], "--intake") == 0)
			a->intake = argv[++i];
		else if (strcmp(argv[i], "--identity-key") == 0)
			a->idkey = argv[++i];
		else if (strcmp(argv[i], "--passphrase-file") == 0)
			a->passfile = argv[++i];
		else if (strcmp(argv[i], "--share") == 0 && a->n_shares < SHARES_MAX)
			a->shares[a->n_shares++] = argv[++i];
		else
			return -1;
	}
	return a->intake == NULL || a->passfile == NULL || (a->idkey == NULL) == (a->n_shares == 0) ? -1 : 0;
}

/* The store, opened as server/store.c opens it, in one read-only transaction. */
static int store_open(steal_t *s, const char *dir)
{
	int rc;

	if ((rc = mdb_env_create(&s->env)) != 0 || (rc = mdb_env_set_maxdbs(s->env, SD_STORE_DB_COUNT)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, SD_STORE_MAPSIZE_DEFAULT)) != 0 ||
	    (rc = mdb_env_open(s->env, dir, MDB_NOTLS | MDB_RDONLY, 0600)) != 0 ||
	    (rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &s->txn)) != 0) {
		fprintf(stderr, "sd-steal-identity: %s: %s\n", dir, mdb_strerror(rc));
		return 1;
	}
	return 0;
}

static int get(steal_t *s, const char *db, const void *key, size_t klen, MDB_val *v)
{
	MDB_dbi dbi;
	MDB_val k = {klen, (void *)(uintptr_t)key};
	int rc;

	if ((rc = mdb_dbi_open(s->txn, db, 0, &dbi)) != 0 || (rc = mdb_get(s->txn, dbi, &k, v)) != 0) {
		fprintf(stderr, "sd-steal-identity: %s: %s\n", db, mdb_strerror(rc));
		return 1;
	}
	return 0;
}

/* The case's header and identity blob, straight from the copied store. */
static int read_case(steal_t *s, const char *cn)
{
	sd_case_rec_t rec;
	uint8_t ckey[SD_CASE_UPLOAD_ID_BYTES + 8];
	MDB_val v;

	if (get(s, "cases", cn, strlen(cn), &v) != 0)
		return 1;
	if (sd_case_rec_decode(v.mv_data, v.mv_size, NULL, &rec) < 0)
		return fail("the case record");
	if (get(s, "upload_headers", rec.upload, sizeof(rec.upload), &v) != 0)
		return 1;
	if (sd_header_parse(v.mv_data, v.mv_size, &s->h) < 0)
		return fail("the header");
	memcpy(ckey, rec.upload, SD_CASE_UPLOAD_ID_BYTES);
	memset(ckey + SD_CASE_UPLOAD_ID_BYTES, 0, 8); /* blob 1, chunk 0, both u32 BE */
	ckey[SD_CASE_UPLOAD_ID_BYTES + 3] = 1;
	if (get(s, "chunks", ckey, sizeof(ckey), &v) != 0)
		return 1;
	if (v.mv_size != SD_IDENTITY_BLOB_BYTES) {
		fprintf(stderr, "sd-steal-identity: the identity blob is %zu bytes\n", v.mv_size);
		return 1;
	}
	memcpy(s->blob, v.mv_data, SD_IDENTITY_BLOB_BYTES);
	printf("store: case %s, its header (digest verified by its signature) and identity blob read\n", cn);
	return 0;
}

static int load_identity(steal_t *s, const args_t *a)
{
	sd_keyshare_t *shares[SHARES_MAX] = {0};
	int r = 0;

	if (a->idkey != NULL) {
		if (sd_keyfile_read(a->idkey, s->pass, s->passlen, &s->identity) < 0)
			return fail(a->idkey);
		printf("identity key: read from its key file\n");
		return 0;
	}
	for (size_t i = 0; r == 0 && i < a->n_shares; i++)
		if ((r = sd_keyshare_read(a->shares[i], s->pass, s->passlen, &shares[i])) < 0)
			r = fail(a->shares[i]);
	if (r == 0 && sd_keyshare_combine((const sd_keyshare_t *const *)shares, a->n_shares, &s->identity) < 0)
		r = fail("combining the shares");
	for (size_t i = 0; i < a->n_shares; i++)
		sd_keyshare_free(shares[i]);
	if (r == 0)
		printf("identity key: rebuilt from %zu shares\n", a->n_shares);
	return r;
}

/* Both keys the attacker holds, genuinely used: the content key and s_c open. */
static int open_keys(steal_t *s, const args_t *a)
{
	uint8_t *dek = NULL;
	size_t len = 0;

	if (sd_file_read_secret(a->passfile, 4096, &s->pass, &s->passlen) < 0)
		return fail(a->passfile);
	if (sd_keyfile_read(a->intake, s->pass, s->passlen, &s->intake) < 0)
		return fail(a->intake);
	if (sd_sealbox_open(s->intake, s->h->sealed_dek, SD_SEALED_KEY_BYTES, &dek, &len) < 0 || len != 32)
		return fail("the content key with the intake key");
	s->dek = dek;
	printf("intake key: the content key opens\n");
	if (load_identity(s, a) != 0)
		return 1;
	if ((s->s_c = sd_secret_alloc(SD_IDENTITY_SHARE_BYTES)) == NULL ||
	    sd_identity_open_share(s->h, s->identity, s->s_c) < 0)
		return fail("s_c with the identity key");
	printf("identity key: s_c opens\n");
	return 0;
}

/* One guess at s_w: 1 if the identity opened (and is printed). */
static int attempt(steal_t *s, const char *what, const uint8_t s_w[SD_IDENTITY_SHARE_BYTES])
{
	char *text = NULL;
	size_t len = 0;

	s->attempts++;
	if (sd_identity_decrypt(s->h, s->blob, sizeof(s->blob), s->s_c, s_w, &text, &len) < 0) {
		printf("attempt %u, s_w = %s: does not open (%s)\n", s->attempts, what, sd_error_detail());
		return 0;
	}
	printf("attempt %u, s_w = %s: IDENTITY RECOVERED\n", s->attempts, what);
	fwrite(text, 1, len, stdout);
	sd_secret_free(text);
	return 1;
}

/* s_w out of every release the store still holds for the case. */
static int try_releases(steal_t *s, const char *cn)
{
	uint8_t s_w[SD_IDENTITY_SHARE_BYTES];
	MDB_cursor *cur = NULL;
	MDB_val k = {strlen(cn), (void *)(uintptr_t)cn}, v;
	MDB_dbi dbi;
	sd_consent_row_t row;
	int op = MDB_SET_RANGE, found = 0;

	if (mdb_dbi_open(s->txn, "consents", 0, &dbi) != 0 || mdb_cursor_open(s->txn, dbi, &cur) != 0)
		return 0;
	while (!found && mdb_cursor_get(cur, &k, &v, op) == 0 && k.mv_size >= strlen(cn) &&
	       strncmp(k.mv_data, cn, strlen(cn)) == 0) {
		op = MDB_NEXT;
		if (sd_consent_row_decode(v.mv_data, v.mv_size, &row) < 0 || !row.has_release)
			continue;
		s->releases++;
		if (sd_consent_release_open(&row.c, row.release, sizeof(row.release), s->identity, s_w) < 0)
			printf("release %u: does not open with the identity key (%s)\n", s->releases,
			       sd_error_detail());
		else
			found = attempt(s, "the share from a release in the store", s_w);
	}
	mdb_cursor_close(cur);
	printf("releases in the store for case %s: %u\n", cn, s->releases);
	return found;
}

static int steal(steal_t *s, const args_t *a)
{
	static const uint8_t zeros[SD_IDENTITY_SHARE_BYTES];

	if (store_open(s, a->store) != 0 || read_case(s, a->cn) != 0 || open_keys(s, a) != 0)
		return 1;
	if (attempt(s, "zeros", zeros) || attempt(s, "the content key", s->dek) || attempt(s, "s_c", s->s_c) ||
	    try_releases(s, a->cn))
		return 0;
	printf("identity not recoverable: %u attempts, none opens the identity blob\n", s->attempts);
	return 2;
}

int main(int argc, char **argv)
{
	args_t a;
	steal_t s;
	int status;

	if (parse(argc, argv, &a) < 0) {
		fputs(usage, stderr);
		return 1;
	}
	if (sd_init() < 0)
		return fail("sd_init");
	memset(&s, 0, sizeof(s));
	status = steal(&s, &a);
	if (s.txn != NULL)
		mdb_txn_abort(s.txn);
	if (s.env != NULL)
		mdb_env_close(s.env);
	sd_header_free(s.h);
	sd_seckey_free(s.intake);
	sd_seckey_free(s.identity);
	sd_secret_free(s.dek);
	sd_secret_free(s.s_c);
	sd_secret_free(s.pass);
	return status;
}
