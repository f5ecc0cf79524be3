/*
 * upload.c — filing: the uploads state every filing route shares, the store hops they
 * reuse, and the status of an upload (docs/API.md, GET /v1/uploads/{id}).
 *
 * The store is the truth; the loop keeps three things in memory (include/sealdrop/
 * uploads.h): a bounded LRU cache of parsed headers, so a chunk PUT does not re-read and
 * re-verify its upload's header; each account's count of open uploads, for
 * max_uploads_per_account; and the case counter (commit.c). Start at
 * upload_find() and upload_scan(): the two store hops every filing route uses. A cache
 * miss reads the upload's record and header from the store and parses the header, bound
 * to the record by its digest, on the server's worker thread (find_parse_work).
 * The create route is in upload_create.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sealdrop/bytes.h"
#include "sealdrop/log.h"
#include "sealdrop/sealdrop.h"
#include "upload_int.h"

/* --- Entries and the cache ---------------------------------------------------------------- */

upload_entry_t *upload_entry_new(const uint8_t id[SD_UPLOAD_ID_BYTES], const sd_upload_rec_t *rec, uint8_t *rec_bytes,
                                 size_t rec_len, sd_header_t *h)
{
	upload_entry_t *e = calloc(1, sizeof(*e));

	if (e == NULL) {
		free(rec_bytes);
		sd_header_free(h);
		return NULL;
	}
	memcpy(e->id, id, SD_UPLOAD_ID_BYTES);
	e->rec = *rec;
	e->rec_bytes = rec_bytes;
	e->rec_len = rec_len;
	e->h = h;
	e->bytes = sizeof(*e) + rec_len + h->raw_len + (size_t)h->n_blobs * sizeof(sd_blob_t);
	e->refs = 1;
	return e;
}

upload_entry_t *upload_entry_ref(upload_entry_t *e)
{
	e->refs++;
	return e;
}

void upload_entry_unref(upload_entry_t *e)
{
	if (e == NULL || --e->refs > 0)
		return;
	free(e->rec_bytes);
	sd_header_free(e->h);
	free(e);
}

void upload_entry_set_record(upload_entry_t *e, const sd_upload_rec_t *rec, uint8_t *rec_bytes, size_t rec_len)
{
	free(e->rec_bytes);
	e->rec = *rec;
	e->rec_bytes = rec_bytes;
	e->rec_len = rec_len;
}

static void lru_unlink(sd_uploads_t *u, upload_entry_t *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		u->lru_head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		u->lru_tail = e->prev;
	e->prev = e->next = NULL;
}

static void lru_push(sd_uploads_t *u, upload_entry_t *e)
{
	e->prev = NULL;
	e->next = u->lru_head;
	if (u->lru_head != NULL)
		u->lru_head->prev = e;
	u->lru_head = e;
	if (u->lru_tail == NULL)
		u->lru_tail = e;
}

static void cache_drop(sd_uploads_t *u, upload_entry_t *e)
{
	lru_unlink(u, e);
	upload_map_remove(&u->cache, e->id);
	u->cache_bytes -= e->bytes;
	e->cached = false;
	upload_entry_unref(e);
}

upload_entry_t *upload_cache_find(sd_uploads_t *u, const uint8_t id[SD_UPLOAD_ID_BYTES])
{
	upload_slot_t *s = upload_map_find(&u->cache, id);
	upload_entry_t *e;

	if (s == NULL)
		return NULL;
	e = s->ptr;
	lru_unlink(u, e);
	lru_push(u, e);
	return e;
}

upload_entry_t *upload_cache_insert(sd_uploads_t *u, upload_entry_t *e)
{
	upload_entry_t *have = upload_cache_find(u, e->id);
	upload_slot_t *s;

	if (have != NULL) {
		upload_entry_unref(e);
		return have;
	}
	while (u->lru_tail != NULL &&
	       (u->cache.n >= UPLOAD_CACHE_ENTRIES || u->cache_bytes + e->bytes > UPLOAD_CACHE_BYTES))
		cache_drop(u, u->lru_tail);
	if ((s = upload_map_add(&u->cache, e->id)) == NULL)
		return e; /* out of memory: the caller's reference is the only one, as if evicted */
	s->ptr = e;
	e->cached = true;
	e->refs++;
	u->cache_bytes += e->bytes;
	lru_push(u, e);
	upload_entry_unref(e); /* the caller's reference moves to the cache */
	return e;
}

void upload_cache_evict(sd_uploads_t *u, const uint8_t id[SD_UPLOAD_ID_BYTES])
{
	upload_slot_t *s = upload_map_find(&u->cache, id);

	u->evictions++;
	if (s != NULL)
		cache_drop(u, s->ptr);
}

/* --- Open uploads per account --------------------------------------------------------------- */

uint64_t upload_open_count(const sd_uploads_t *u, const uint8_t fp[SD_CA_FINGERPRINT_BYTES])
{
	const upload_slot_t *s = upload_map_find(&u->accounts, fp);

	return s != NULL ? s->count : 0;
}

int upload_open_add(sd_uploads_t *u, const uint8_t fp[SD_CA_FINGERPRINT_BYTES])
{
	upload_slot_t *s = upload_map_add(&u->accounts, fp);

	if (s == NULL)
		return SD_ERR_NOMEM;
	s->count++;
	u->open_total++;
	return 0;
}

void upload_open_sub(sd_uploads_t *u, const uint8_t fp[SD_CA_FINGERPRINT_BYTES])
{
	upload_slot_t *s = upload_map_find(&u->accounts, fp);

	if (s == NULL)
		return;
	u->open_total--;
	if (--s->count == 0)
		upload_map_remove(&u->accounts, fp);
}

size_t sd_uploads_open_count(const sd_uploads_t *u)
{
	return u != NULL ? u->open_total : 0;
}

/* --- Start and stop ------------------------------------------------------------------------- */

int sd_uploads_start(sd_server_t *s, sd_uploads_t **out)
{
	sd_uploads_t *u = calloc(1, sizeof(*u));
	int r;

	*out = NULL;
	if (u == NULL)
		return SD_ERR_NOMEM;
	u->s = s;
	upload_map_init(&u->cache, SD_UPLOAD_ID_BYTES);
	upload_map_init(&u->accounts, SD_CA_FINGERPRINT_BYTES);
	upload_map_init(&u->committing, SD_HASH_BYTES);
	if ((r = upload_gc_start(u)) < 0 || (r = sd_server_every(s, UPLOAD_GC_SECONDS, upload_gc_tick, u)) < 0) {
		sd_uploads_free(u);
		return r;
	}
	*out = u;
	return 0;
}

void sd_uploads_free_(sd_uploads_t *u)
{
	if (u == NULL)
		return;
	while (u->lru_head != NULL)
		cache_drop(u, u->lru_head);
	upload_gc_free(u);
	upload_map_free(&u->cache);
	upload_map_free(&u->accounts);
	upload_map_free(&u->committing);
	free(u);
}

sd_uploads_t *upload_state(sd_request_t *r)
{
	return sd_server_uploads(sd_request_server(r));
}

/* --- Store hops -------------------------------------------------------------------------------- */

/* The one place a store request's error becomes an HTTP answer, for every route that
 * reads or writes. SD_ERR_TOOBIG is the store being full, for either cause: its map
 * cannot grow (store_max_bytes) or the file system refused a write (ENOSPC, EDQUOT);
 * the store keeps serving reads meanwhile (include/sealdrop/store.h, CAVEATS). */
void upload_reply_store_error(sd_request_t *r, int status)
{
	switch (status) {
	case SD_ERR_TOOBIG:
		sd_request_reply_error(r, 507, "store_full",
		                       "the store is full: no room is left to write (store_max_bytes or the disk); "
		                       "the operator must make room");
		break;
	case SD_ERR_REFUSED:
	case SD_ERR_NOMEM:
		sd_request_reply_error(r, 503, "busy", "the server is busy; retry later");
		break;
	default:
		sd_log(SD_LOG_ERROR, "store request failed: %s", sd_strerror(status));
		sd_request_reply_error(r, 500, "internal", "the server could not complete the request");
		break;
	}
}

bool upload_submit(sd_request_t *r, sd_store_req_t *req, void (*done)(sd_store_req_t *req, void *ctx), void *ctx)
{
	int st = SD_ERR_NOMEM;

	if (req != NULL && (st = sd_server_store_submit(sd_request_server(r), req, done, ctx)) == 0)
		return true;
	sd_store_req_free(req);
	upload_reply_store_error(r, st);
	return false;
}

json_t *upload_receipt_json(const uint8_t *text, size_t len)
{
	json_t *obj = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, NULL);

	if (obj != NULL && !json_is_object(obj)) {
		json_decref(obj);
		obj = NULL;
	}
	return obj;
}

/* --- Finding an upload ------------------------------------------------------------------------- */

struct find {
	sd_request_t *r;
	uint8_t id[SD_UPLOAD_ID_BYTES];
	upload_entry_fn fn;
	sd_store_req_t *req; /* the store's answer, which the worker reads */
	upload_entry_t *e;   /* the worker's: the answer as a new entry, or NULL */
	bool missing;        /* the worker's: the store has no such upload */
	char why[256];       /* the worker's: why the answer does not read back */
	uint64_t evictions;  /* the cache's eviction count when the store answered */
};

static bool entry_is_usable(sd_request_t *r, const upload_entry_t *e)
{
	const sd_principal_t *p = sd_request_principal(r);

	/* Another attorney's upload is reported exactly like a missing one. */
	if (p == NULL || !sd_equal(e->rec.attorney, p->fingerprint, SD_CA_FINGERPRINT_BYTES) ||
	    e->rec.state == SD_UPLOAD_EXPIRED) {
		sd_request_reply_error(r, 404, "not_found", "there is no such upload");
		return false;
	}
	return true;
}

/* On the server's worker (sd_server_work): the record and header of the store's answer as
 * a new entry. The header's signature was verified when the upload was created, and the
 * record names that header by its digest: the digest, not a second Ed25519 verification,
 * ties these bytes to it (DECISIONS 103). Uses only what f owns. */
static void find_parse_work(void *ctx)
{
	struct find *f = ctx;
	const uint8_t *rv, *hv;
	size_t rlen, hlen;
	sd_upload_rec_t rec;
	sd_header_t *h = NULL;
	uint8_t *copy;

	if (sd_store_req_value(f->req, 0, &rv, &rlen) < 0 || sd_store_req_value(f->req, 1, &hv, &hlen) < 0) {
		f->missing = true;
		return;
	}
	sd_error_clear(); /* this thread's detail may be an earlier job's */
	if (sd_upload_rec_decode(rv, rlen, &rec) < 0 || sd_header_parse_known(hv, hlen, rec.digest, &h) < 0) {
		snprintf(f->why, sizeof(f->why), "%s",
		         sd_error_detail()[0] != '\0' ? sd_error_detail() : "its record or header does not decode");
	} else if ((copy = malloc(rlen)) != NULL) {
		memcpy(copy, rv, rlen);
		f->e = upload_entry_new(f->id, &rec, copy, rlen, h); /* NULL without memory */
		return;
	}
	sd_header_free(h);
}

/* Back on the loop: the entry joins the cache and the route goes on with it. */
static void find_parsed(void *ctx)
{
	struct find *f = ctx;
	sd_request_t *r = f->r;
	sd_uploads_t *u = upload_state(r);
	upload_entry_t *e = f->e;

	if (f->missing) {
		sd_request_reply_error(r, 404, "not_found", "there is no such upload");
	} else if (e == NULL && f->why[0] != '\0') {
		sd_log(SD_LOG_ERROR, "an upload in the store does not read back: %s", f->why);
		sd_request_reply_error(r, 500, "internal", "the upload's stored data is damaged");
	} else if (e == NULL || u == NULL) {
		upload_entry_unref(e);
		upload_reply_store_error(r, e == NULL ? SD_ERR_NOMEM : SD_ERR_REFUSED);
	} else {
		/* A newer copy cached meanwhile (by a commit, say) wins: insert returns it. But
		 * after an eviction while the header was checked (a conflict, a collection) this
		 * answer may be older than what was evicted: it serves this request alone, and
		 * the next one reads the store again. */
		if (u->evictions == f->evictions)
			e = upload_entry_ref(upload_cache_insert(u, e));
		if (entry_is_usable(r, e))
			f->fn(r, e, true);
		upload_entry_unref(e);
	}
	sd_store_req_free(f->req);
	free(f);
}

static void find_done(sd_store_req_t *req, void *ctx)
{
	struct find *f = ctx;
	sd_request_t *r = f->r;
	sd_uploads_t *u = upload_state(r);
	int st = sd_store_req_status(req);

	if (u == NULL || st < 0) {
		upload_reply_store_error(r, u == NULL ? SD_ERR_REFUSED : st);
		sd_store_req_free(req);
		free(f);
		return;
	}
	f->req = req;
	f->evictions = u->evictions;
	sd_server_work(sd_request_server(r), find_parse_work, find_parsed, f);
}

int upload_find_id(sd_request_t *r, const uint8_t id[SD_UPLOAD_ID_BYTES], upload_entry_fn fn)
{
	sd_uploads_t *u = upload_state(r);
	struct find *f = NULL;
	sd_store_req_t *req = NULL;
	upload_entry_t *e;

	if (u == NULL) {
		upload_reply_store_error(r, SD_ERR_REFUSED);
		return 0;
	}
	if ((e = upload_cache_find(u, id)) != NULL) {
		if (entry_is_usable(r, e))
			fn(r, e, false);
		return 0;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL || (req = sd_store_req_new()) == NULL) {
		free(f);
		upload_reply_store_error(r, SD_ERR_NOMEM);
		return 0;
	}
	*f = (struct find){.r = r, .fn = fn};
	memcpy(f->id, id, SD_UPLOAD_ID_BYTES);
	sd_store_req_get(req, SD_STORE_DB_UPLOADS, id, SD_UPLOAD_ID_BYTES);
	sd_store_req_get(req, SD_STORE_DB_UPLOAD_HEADERS, id, SD_UPLOAD_ID_BYTES);
	if (!upload_submit(r, req, find_done, f)) {
		free(f);
		return 0;
	}
	return SD_ROUTE_PAUSE;
}

int upload_find(sd_request_t *r, const char *hex, upload_entry_fn fn)
{
	uint8_t id[SD_UPLOAD_ID_BYTES];

	if (sd_upload_id_parse(hex, id) < 0) {
		sd_request_reply_error(r, 404, "not_found", "there is no such upload");
		return 0;
	}
	return upload_find_id(r, id, fn);
}

/* --- Which chunks are present ------------------------------------------------------------------ */

struct scan {
	sd_request_t *r;
	upload_entry_t *e;
	sd_upload_bitmap_t *bm;
	uint8_t after[SD_UPLOAD_CHUNK_KEY_BYTES];
	bool has_after;
	int (*extra)(sd_store_req_t *req, void *arg);
	upload_scan_fn fn;
	void *arg;
	sd_store_req_t *first;
	long scan_op;
};

static void scan_finish(struct scan *sc, int status)
{
	sc->fn(sc->r, sc->arg, status, status == 0 ? sc->first : NULL);
	sd_store_req_free(sc->first);
	upload_entry_unref(sc->e);
	free(sc);
}

static void scan_next(struct scan *sc);

/* Marks each key of the page; false when the page ended the scan. */
static bool scan_page(struct scan *sc, sd_store_req_t *req)
{
	const uint8_t *key, *val;
	size_t klen, vlen, n;
	uint32_t blob, chunk;
	bool more = false;

	n = sd_store_req_scan_count(req, (size_t)sc->scan_op, &more);
	for (size_t i = 0; i < n; i++) {
		if (sd_store_req_scan_entry(req, (size_t)sc->scan_op, i, &key, &klen, &val, &vlen) < 0 ||
		    sd_upload_chunk_key_parse(key, klen, sc->e->id, &blob, &chunk) < 0)
			continue;
		if (sd_upload_bitmap_set(sc->bm, blob, chunk) < 0)
			sd_log(SD_LOG_WARN, "an upload holds a chunk its manifest does not list");
		if (i + 1 == n) {
			memcpy(sc->after, key, SD_UPLOAD_CHUNK_KEY_BYTES);
			sc->has_after = true;
		}
	}
	return more && n > 0;
}

static void scan_done(sd_store_req_t *req, void *ctx)
{
	struct scan *sc = ctx;
	int st = sd_store_req_status(req);
	bool more;

	if (st < 0 || upload_state(sc->r) == NULL) {
		sd_store_req_free(req);
		scan_finish(sc, st < 0 ? st : SD_ERR_REFUSED);
		return;
	}
	more = scan_page(sc, req);
	if (sc->first == NULL && sc->extra != NULL)
		sc->first = req;
	else
		sd_store_req_free(req);
	if (more)
		scan_next(sc);
	else
		scan_finish(sc, 0);
}

static void scan_next(struct scan *sc)
{
	sd_store_req_t *req = sd_store_req_new();
	int st = SD_ERR_NOMEM;

	if (req != NULL) {
		if (sc->first == NULL && sc->extra != NULL && (st = sc->extra(req, sc->arg)) < 0)
			goto fail;
		sc->scan_op = sd_store_req_scan_keys(req, SD_STORE_DB_CHUNKS, sc->e->id, SD_UPLOAD_ID_BYTES,
		                                     sc->has_after ? sc->after : NULL,
		                                     sc->has_after ? sizeof(sc->after) : 0, UPLOAD_SCAN_PAGE);
		if ((st = sd_server_store_submit(sd_request_server(sc->r), req, scan_done, sc)) == 0)
			return;
	}
fail:
	sd_store_req_free(req);
	scan_finish(sc, st);
}

void upload_scan(sd_request_t *r, upload_entry_t *e, sd_upload_bitmap_t *bm,
                 int (*extra)(sd_store_req_t *req, void *arg), upload_scan_fn fn, void *arg)
{
	struct scan *sc = calloc(1, sizeof(*sc));

	if (sc == NULL) {
		fn(r, arg, SD_ERR_NOMEM, NULL);
		return;
	}
	*sc = (struct scan){.r = r, .e = upload_entry_ref(e), .bm = bm, .extra = extra, .fn = fn, .arg = arg};
	scan_next(sc);
}

/* --- The status document -------------------------------------------------------------------- */

/* What a status answer needs across its store hops. */
struct status {
	sd_request_t *r;
	upload_entry_t *e;
	sd_upload_bitmap_t bm;
	int http; /* 200 or 201 */
};

static void status_free(struct status *st)
{
	upload_entry_unref(st->e);
	sd_upload_bitmap_free(&st->bm);
	free(st);
}

static void status_reply(sd_request_t *r, struct status *st, const uint8_t *receipt, size_t receipt_len)
{
	json_t *doc = sd_upload_status_json(st->e->id, &st->e->rec, st->e->h, &st->bm);

	if (doc != NULL && receipt != NULL &&
	    json_object_set_new(doc, "receipt", upload_receipt_json(receipt, receipt_len)) < 0) {
		json_decref(doc);
		doc = NULL;
	}
	if (doc == NULL)
		upload_reply_store_error(r, SD_ERR_NOMEM);
	else
		sd_request_reply_json(r, st->http, doc);
}

static void status_scanned(sd_request_t *r, void *arg, int status, const sd_store_req_t *first)
{
	(void)first;
	if (status < 0)
		upload_reply_store_error(r, status);
	else
		status_reply(r, arg, NULL, 0);
	status_free(arg);
}

static void status_receipt(sd_request_t *r, void *arg, int status, const uint8_t *receipt, size_t len)
{
	if (status == 0)
		status_reply(r, arg, receipt, len);
	status_free(arg);
}

/* Whether the entry's own count settles which chunks are present, without asking the
 * store: none yet (a new upload, whose status answers its creation) or every one; the
 * bitmap then says so. */
static bool status_counted(const upload_entry_t *e, sd_upload_bitmap_t *bm)
{
	if (!e->stored_known || (e->stored != 0 && e->stored != e->rec.chunks))
		return false;
	if (e->stored == e->rec.chunks)
		sd_upload_bitmap_fill(bm);
	return true;
}

void upload_reply_status(sd_request_t *r, upload_entry_t *e, int http)
{
	struct status *st = calloc(1, sizeof(*st));

	if (st == NULL || sd_upload_bitmap_init(&st->bm, e->h) < 0) {
		free(st);
		upload_reply_store_error(r, SD_ERR_NOMEM);
		return;
	}
	st->r = r;
	st->e = upload_entry_ref(e);
	st->http = http;
	if (e->rec.state != SD_UPLOAD_COMMITTED) {
		if (!status_counted(e, &st->bm)) {
			upload_scan(r, e, &st->bm, NULL, status_scanned, st);
			return;
		}
		status_reply(r, st, NULL, 0);
		status_free(st);
		return;
	}
	sd_upload_bitmap_fill(&st->bm);
	upload_receipt_get(r, e->rec.case_number, status_receipt, st);
}

static void status_found(sd_request_t *r, upload_entry_t *e, bool resumed)
{
	(void)resumed;
	upload_reply_status(r, e, 200);
}

void sd_route_upload_status(sd_request_t *r)
{
	(void)upload_find(r, sd_request_param(r, 0), status_found);
}
