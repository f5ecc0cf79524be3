/*
 * upload_create.c — POST /v1/uploads (docs/API.md): an attorney hands over a package's
 * envelope header and gets an upload to put its chunks into, or finds the one they
 * already have, or the case they already filed.
 *
 * Start at sd_route_upload_create(). The header is parsed (its signature verified) and
 * checked against the served directory and the limits; then one store request creates
 * the upload, under two preconditions: the attorney has no upload of this package and
 * nobody filed it. When either fails, a lookup answers with what exists: the attorney's
 * open upload (200, resume), their case and receipt (200, committed), or another
 * attorney's case (409). The account's count of open uploads is reserved before the
 * create is sent and given back if it fails, so concurrent creates cannot pass the limit.
 */
#include <stdlib.h>
#include <string.h>

#include "sealdrop/log.h"
#include "sealdrop/sealdrop.h"
#include "upload_int.h"

/* --- POST /v1/uploads ------------------------------------------------------------------------ */

struct create {
	sd_header_t *h; /* until it moves into the new entry */
	uint8_t id[SD_UPLOAD_ID_BYTES];
	sd_upload_rec_t rec;
	uint8_t *rec_bytes;
	size_t rec_len;
	uint8_t dkey[SD_UPLOAD_DIGEST_KEY_BYTES];
	uint8_t fp[SD_CA_FINGERPRINT_BYTES];
	char attorney_name[SD_CA_NAME_BYTES];
	int tries;
	bool reserved; /* counted in the account's open uploads */
	bool has_found;
	uint8_t found[SD_UPLOAD_ID_BYTES]; /* the attorney's existing upload of this package */
};

static void create_free(void *p)
{
	struct create *c = p;

	if (c == NULL)
		return;
	sd_header_free(c->h);
	free(c->rec_bytes);
	free(c);
}

static void create_lookup(sd_request_t *r, struct create *c);
static void create_try(sd_request_t *r, struct create *c);

static void release_reservation(sd_request_t *r, struct create *c)
{
	sd_uploads_t *u = upload_state(r);

	if (c->reserved && u != NULL)
		upload_open_sub(u, c->fp);
	c->reserved = false;
}

static void create_done(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	struct create *c = sd_request_state(r);
	sd_uploads_t *u = upload_state(r);
	int st = sd_store_req_status(req);
	long op = sd_store_req_failed_op(req);
	upload_entry_t *e;

	sd_store_req_free(req);
	if (st == SD_ERR_EXISTS && op <= 1) { /* this attorney's upload, or a case, exists */
		release_reservation(r, c);
		create_lookup(r, c);
		return;
	}
	if (st < 0 || u == NULL) {
		release_reservation(r, c);
		upload_reply_store_error(r, u == NULL ? SD_ERR_REFUSED : st);
		return;
	}
	c->reserved = false; /* the count now stands for the stored upload */
	e = upload_entry_new(c->id, &c->rec, c->rec_bytes, c->rec_len, c->h);
	c->rec_bytes = NULL;
	c->h = NULL;
	if (e == NULL) {
		upload_reply_store_error(r, SD_ERR_NOMEM);
		return;
	}
	e->stored_known = true; /* new: no chunk yet */
	e = upload_entry_ref(upload_cache_insert(u, e));
	sd_log(SD_LOG_DEBUG, "upload created");
	upload_reply_status(r, e, 201);
	upload_entry_unref(e);
}

/* One request: the preconditions fail (ops 0 and 1) when the attorney already has this
 * package open or filed, or anyone filed it. */
static sd_store_req_t *create_req(struct create *c)
{
	sd_store_req_t *req = sd_store_req_new();

	if (req == NULL)
		return NULL;
	sd_store_req_check_absent(req, SD_STORE_DB_UPLOAD_DIGESTS, c->dkey, sizeof(c->dkey));
	sd_store_req_check_absent(req, SD_STORE_DB_CASE_DIGESTS, c->rec.digest, SD_HASH_BYTES);
	sd_store_req_put(req, SD_STORE_DB_UPLOADS, c->id, sizeof(c->id), c->rec_bytes, c->rec_len,
	                 SD_STORE_NOOVERWRITE);
	sd_store_req_put(req, SD_STORE_DB_UPLOAD_HEADERS, c->id, sizeof(c->id), c->h->raw, c->h->raw_len,
	                 SD_STORE_NOOVERWRITE);
	sd_store_req_put(req, SD_STORE_DB_UPLOAD_DIGESTS, c->dkey, sizeof(c->dkey), c->id, sizeof(c->id), 0);
	return req;
}

static void create_try(sd_request_t *r, struct create *c)
{
	sd_uploads_t *u = upload_state(r);
	const sd_config_t *cfg = sd_server_config(sd_request_server(r));

	if (u == NULL) {
		upload_reply_store_error(r, SD_ERR_REFUSED);
		return;
	}
	if (upload_open_count(u, c->fp) >= cfg->max_uploads_per_account) {
		sd_request_reply_error(r, 429, "too_many_uploads",
		                       "this account has %u unfinished uploads, the most it may have; commit or "
		                       "let one expire first",
		                       cfg->max_uploads_per_account);
		return;
	}
	/* The id is drawn only for a write: a refusal above or a re-post answered from the
	 * lookup takes no number of the sequence (DECISIONS 106). */
	if (sd_upload_id_next(&u->id_seq, c->id) < 0) {
		upload_reply_store_error(r, SD_ERR_INTERNAL);
		return;
	}
	if (upload_open_add(u, c->fp) < 0) {
		upload_reply_store_error(r, SD_ERR_NOMEM);
		return;
	}
	c->reserved = true;
	c->tries++;
	if (!upload_submit(r, create_req(c), create_done, r))
		release_reservation(r, c);
}

/* The attorney filed this package before: its status, committed, with the receipt
 * (upload_reply_status reads it, or signs it again when a crash lost it). Op 1 of req:
 * the attorney's upload. */
static void create_reply_committed(sd_request_t *r, struct create *c, const sd_store_req_t *req)
{
	const uint8_t *uv;
	size_t ulen;
	sd_upload_rec_t ur;
	upload_entry_t *e;
	uint8_t *copy;

	if (sd_store_req_value(req, 1, &uv, &ulen) < 0 || sd_upload_rec_decode(uv, ulen, &ur) < 0 ||
	    ur.state != SD_UPLOAD_COMMITTED || (copy = malloc(ulen)) == NULL) {
		sd_log(SD_LOG_ERROR, "a filed case lacks its committed upload record");
		upload_reply_store_error(r, SD_ERR_INTERNAL);
		return;
	}
	memcpy(copy, uv, ulen);
	/* The posted header is the stored one: the same digest. */
	e = upload_entry_new(c->found, &ur, copy, ulen, c->h);
	c->h = NULL;
	if (e == NULL) {
		upload_reply_store_error(r, SD_ERR_NOMEM);
		return;
	}
	upload_reply_status(r, e, 200);
	upload_entry_unref(e);
}

/* Ops of req: 0 the case, 1 the attorney's upload. */
static void create_case_found(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	struct create *c = sd_request_state(r);
	const uint8_t *cv;
	size_t clen;
	sd_case_rec_t *cr = malloc(sizeof(*cr));
	int st = sd_store_req_status(req);

	if (st < 0)
		upload_reply_store_error(r, st);
	else if (cr == NULL || sd_store_req_value(req, 0, &cv, &clen) < 0 ||
	         sd_case_rec_decode(cv, clen, sd_server_config(sd_request_server(r)), cr) < 0)
		upload_reply_store_error(r, SD_ERR_INTERNAL);
	else if (!sd_equal(cr->attorney, c->fp, SD_CA_FINGERPRINT_BYTES))
		sd_request_reply_error(r, 409, "already_filed", "this package was already filed by another attorney");
	else if (!c->has_found)
		upload_reply_store_error(r, SD_ERR_INTERNAL); /* a case of ours without our upload */
	else
		create_reply_committed(r, c, req);
	free(cr);
	sd_store_req_free(req);
}

static void create_resume(sd_request_t *r, upload_entry_t *e, bool resumed)
{
	(void)resumed;
	sd_log(SD_LOG_DEBUG, "upload resumed");
	upload_reply_status(r, e, 200);
}

/* Ops of req: 0 the attorney's upload id for this package, 1 the case filed for it. */
static void create_looked_up(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	struct create *c = sd_request_state(r);
	const uint8_t *v;
	size_t len;
	sd_store_req_t *next;
	int st = sd_store_req_status(req);

	if (st < 0) {
		upload_reply_store_error(r, st);
		goto out;
	}
	c->has_found = sd_store_req_value(req, 0, &v, &len) == 0 && len == SD_UPLOAD_ID_BYTES;
	if (c->has_found)
		memcpy(c->found, v, SD_UPLOAD_ID_BYTES);
	if (sd_store_req_value(req, 1, &v, &len) == 0) {
		if ((next = sd_store_req_new()) != NULL) {
			sd_store_req_get(next, SD_STORE_DB_CASES, v, len);
			sd_store_req_get(next, SD_STORE_DB_UPLOADS, c->found, sizeof(c->found));
		}
		upload_submit(r, next, create_case_found, r);
	} else if (c->has_found) {
		(void)upload_find_id(r, c->found, create_resume);
	} else if (c->tries < 2) {
		create_try(r, c); /* gone between the two requests (it expired): create it anew */
	} else {
		sd_request_reply_error(r, 503, "busy", "the upload changed while it was looked up; retry");
	}
out:
	sd_store_req_free(req);
}

static void create_lookup(sd_request_t *r, struct create *c)
{
	sd_store_req_t *req = sd_store_req_new();

	if (req != NULL) {
		sd_store_req_get(req, SD_STORE_DB_UPLOAD_DIGESTS, c->dkey, sizeof(c->dkey));
		sd_store_req_get(req, SD_STORE_DB_CASE_DIGESTS, c->rec.digest, SD_HASH_BYTES);
	}
	upload_submit(r, req, create_looked_up, r);
}

/* Parses and checks the posted header: 0, or an error already answered. */
static int create_parse(sd_request_t *r, struct create *c)
{
	sd_server_t *s = sd_request_server(r);
	const sd_config_t *cfg = sd_server_config(s);
	const uint8_t *body;
	size_t len;
	const char *code;
	int err, http;

	body = sd_request_body(r, &len);
	if (len == 0 || body == NULL)
		err = sd_error(SD_ERR_FORMAT, "the body must be the package's envelope header");
	else if ((err = sd_header_parse(body, len, &c->h)) == 0 && c->h->raw_len != len)
		err = sd_error(SD_ERR_FORMAT, "the body holds %zu bytes after the header", len - c->h->raw_len);
	if (err == 0)
		err = sd_upload_check_header(c->h, sd_server_directory(s), cfg);
	if (err < 0) {
		http = sd_upload_http_error(err, &code);
		sd_request_reply_error(r, http, code, "%s", sd_error_detail());
		return err;
	}
	return 0;
}

/* The new upload's record (its id is drawn when it is written: create_try). */
static int create_record(sd_request_t *r, struct create *c)
{
	sd_server_t *s = sd_request_server(r);
	const sd_principal_t *p = sd_request_principal(r);
	sd_date_t today = sd_server_today(s);

	memcpy(c->fp, p->fingerprint, sizeof(c->fp));
	memcpy(c->rec.attorney, p->fingerprint, sizeof(c->rec.attorney));
	memcpy(c->rec.digest, c->h->digest, SD_HASH_BYTES);
	c->rec.created = today;
	c->rec.expires = sd_date_add_days(today, sd_server_config(s)->upload_expiry_days);
	c->rec.state = SD_UPLOAD_OPEN;
	for (uint32_t k = 0; k < c->h->n_blobs; k++)
		c->rec.chunks += c->h->blobs[k].n_chunks;
	sd_upload_digest_key(c->rec.digest, c->fp, c->dkey);
	return sd_upload_rec_encode(&c->rec, &c->rec_bytes, &c->rec_len);
}

void sd_route_upload_create(sd_request_t *r)
{
	struct create *c = calloc(1, sizeof(*c));
	sd_uploads_t *u = upload_state(r);

	if (c == NULL) {
		upload_reply_store_error(r, SD_ERR_NOMEM);
		return;
	}
	sd_request_set_state(r, c, create_free);
	if (create_parse(r, c) < 0)
		return;
	if (create_record(r, c) < 0) {
		upload_reply_store_error(r, SD_ERR_INTERNAL);
		return;
	}
	/* At the limit, this may still be a retry of an upload the attorney already has. */
	if (u != NULL && upload_open_count(u, c->fp) >= sd_server_config(sd_request_server(r))->max_uploads_per_account)
		create_lookup(r, c);
	else
		create_try(r, c);
}
