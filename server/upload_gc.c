/*
 * upload_gc.c — unfinished uploads expire (issue 3: upload_expiry_days, default 7) and
 * are removed: at start-up, synchronously, and every hour on the loop.
 *
 * One collection walks the "uploads" database a page at a time. For each upload that is
 * open and past its `expires` date it runs three kinds of store request, each small:
 *
 *   MARK    the record rewritten as "expired" (precondition: unchanged, so a commit
 *           that got there first wins) and the attorney's digest index deleted, so the
 *           attorney may upload the package afresh at once; chunk PUTs and commits of
 *           this upload fail from here on, their precondition being the open record;
 *   CHUNKS  its chunks deleted, UPLOAD_GC_CHUNK_BATCH at a time, until none remain;
 *   FINAL   the record and the header deleted.
 *
 * CHUNKS and FINAL each check the "expired" record (CHECK-EQUAL) in the same request: the
 * store process deletes an upload's chunks, header and record only then, so the front end
 * cannot delete a committed upload — a case's package (server/store_wire.c).
 *
 * A crash anywhere leaves a record that the next collection finds (open and past its
 * date, or "expired") and finishes. The same state machine (gc_next builds a request,
 * gc_answer reads its answer) runs under sd_store_call at start-up — where the walk also
 * counts each account's open uploads and the year's case counter is loaded — and under
 * sd_server_store_submit on the loop. Start at upload_gc_start(). The start-up walk also
 * finds the largest sequence number of the stored upload ids, after which new ids follow
 * (sd_upload_id_next).
 */
#include <stdlib.h>
#include <string.h>

#include "sealdrop/bytes.h"
#include "sealdrop/log.h"
#include "sealdrop/sealdrop.h"
#include "upload_int.h"

enum gc_phase { GC_SCAN, GC_MARK, GC_CHUNKS, GC_FINAL, GC_DONE };

struct gc_item {
	uint8_t id[SD_UPLOAD_ID_BYTES];
	sd_upload_rec_t rec;
	uint8_t *rec_bytes; /* as stored now: the precondition of MARK and FINAL */
	size_t rec_len;
	uint8_t *expired; /* the record rewritten by MARK */
	size_t expired_len;
};

struct upload_gc {
	sd_uploads_t *u; /* NULL once the uploads are freed while a request is out */
	bool counting;   /* the start-up walk: count open uploads per account */
	int failed;      /* a store error that ended the walk */
	sd_date_t today;
	enum gc_phase phase;
	uint8_t after[SD_UPLOAD_ID_BYTES];
	bool has_after, more;
	struct gc_item *items;
	size_t n_items, next;
	size_t removed;
};

static void items_free(struct upload_gc *g)
{
	for (size_t i = 0; i < g->n_items; i++) {
		free(g->items[i].rec_bytes);
		free(g->items[i].expired);
	}
	free(g->items);
	g->items = NULL;
	g->n_items = g->next = 0;
}

static void gc_free(struct upload_gc *g)
{
	if (g == NULL)
		return;
	items_free(g);
	free(g);
}

/* The phase an item starts in: an interrupted removal skips MARK. */
static void item_begin(struct upload_gc *g)
{
	if (g->next >= g->n_items) {
		items_free(g);
		g->phase = g->more && g->failed == 0 ? GC_SCAN : GC_DONE;
		return;
	}
	g->phase = g->items[g->next].rec.state == SD_UPLOAD_EXPIRED ? GC_CHUNKS : GC_MARK;
}

static void item_end(struct upload_gc *g)
{
	g->next++;
	item_begin(g);
}

/* --- Requests -------------------------------------------------------------------------- */

static int mark_req(sd_store_req_t *req, struct gc_item *it)
{
	sd_upload_rec_t rec = it->rec;
	uint8_t dkey[SD_UPLOAD_DIGEST_KEY_BYTES];
	int err;

	rec.state = SD_UPLOAD_EXPIRED;
	if (it->expired == NULL && (err = sd_upload_rec_encode(&rec, &it->expired, &it->expired_len)) < 0)
		return err;
	sd_upload_digest_key(it->rec.digest, it->rec.attorney, dkey);
	sd_store_req_check_equal(req, SD_STORE_DB_UPLOADS, it->id, sizeof(it->id), it->rec_bytes, it->rec_len);
	sd_store_req_put(req, SD_STORE_DB_UPLOADS, it->id, sizeof(it->id), it->expired, it->expired_len, 0);
	sd_store_req_del(req, SD_STORE_DB_UPLOAD_DIGESTS, dkey, sizeof(dkey));
	return 0;
}

static void final_req(sd_store_req_t *req, struct gc_item *it)
{
	sd_store_req_check_equal(req, SD_STORE_DB_UPLOADS, it->id, sizeof(it->id), it->rec_bytes, it->rec_len);
	sd_store_req_del(req, SD_STORE_DB_UPLOADS, it->id, sizeof(it->id));
	sd_store_req_del(req, SD_STORE_DB_UPLOAD_HEADERS, it->id, sizeof(it->id));
}

/* The next request of the walk, or NULL when it is over (or out of memory). */
static sd_store_req_t *gc_next(struct upload_gc *g)
{
	sd_store_req_t *req;
	struct gc_item *it = g->next < g->n_items ? &g->items[g->next] : NULL;

	if (g->phase == GC_DONE || (req = sd_store_req_new()) == NULL)
		return NULL;
	switch (g->phase) {
	case GC_SCAN:
		sd_store_req_scan(req, SD_STORE_DB_UPLOADS, NULL, 0, g->has_after ? g->after : NULL,
		                  g->has_after ? sizeof(g->after) : 0, UPLOAD_GC_SCAN);
		return req;
	case GC_MARK:
		if (mark_req(req, it) == 0)
			return req;
		break;
	case GC_CHUNKS:
		/* The store process deletes chunks only of an upload checked, first, to have expired. */
		sd_store_req_check_equal(req, SD_STORE_DB_UPLOADS, it->id, sizeof(it->id), it->rec_bytes, it->rec_len);
		sd_store_req_del_prefix(req, SD_STORE_DB_CHUNKS, it->id, sizeof(it->id), UPLOAD_GC_CHUNK_BATCH);
		return req;
	case GC_FINAL:
		final_req(req, it);
		return req;
	case GC_DONE:
		break;
	}
	sd_store_req_free(req);
	return NULL;
}

/* --- Answers --------------------------------------------------------------------------- */

static bool is_expired(const struct upload_gc *g, const sd_upload_rec_t *rec)
{
	return rec->state == SD_UPLOAD_EXPIRED ||
	       (rec->state == SD_UPLOAD_OPEN && sd_date_cmp(rec->expires, g->today) < 0);
}

static int keep_item(struct upload_gc *g, const uint8_t *id, const sd_upload_rec_t *rec, const uint8_t *val, size_t len)
{
	struct gc_item *it = &g->items[g->n_items];

	memset(it, 0, sizeof(*it));
	if ((it->rec_bytes = malloc(len ? len : 1)) == NULL)
		return SD_ERR_NOMEM;
	memcpy(it->id, id, SD_UPLOAD_ID_BYTES);
	memcpy(it->rec_bytes, val, len);
	it->rec_len = len;
	it->rec = *rec;
	g->n_items++;
	return 0;
}

/* One page of "uploads": keeps the expired ones, counts the open ones at start-up. */
static int scan_answer(struct upload_gc *g, const sd_store_req_t *req)
{
	const uint8_t *key, *val;
	size_t klen, vlen, n = sd_store_req_scan_count(req, 0, &g->more);
	sd_upload_rec_t rec;
	int err;

	if ((g->items = calloc(n ? n : 1, sizeof(*g->items))) == NULL)
		return SD_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		if (sd_store_req_scan_entry(req, 0, i, &key, &klen, &val, &vlen) < 0 || klen != SD_UPLOAD_ID_BYTES)
			continue;
		memcpy(g->after, key, SD_UPLOAD_ID_BYTES);
		g->has_after = true;
		uint64_t seq = sd_upload_id_seq(key);
		if (g->counting && g->u != NULL && seq > g->u->id_seq)
			g->u->id_seq = seq; /* new ids continue after the last */
		if (sd_upload_rec_decode(val, vlen, &rec) < 0) {
			sd_log(SD_LOG_WARN, "an upload record does not read back: %s", sd_error_detail());
			continue;
		}
		if (is_expired(g, &rec)) {
			if ((err = keep_item(g, key, &rec, val, vlen)) < 0)
				return err;
		} else if (g->counting && rec.state == SD_UPLOAD_OPEN && g->u != NULL &&
		           (err = upload_open_add(g->u, rec.attorney)) < 0) {
			return err;
		}
	}
	g->more = g->more && n > 0;
	return 0;
}

static void mark_answer(struct upload_gc *g, struct gc_item *it)
{
	free(it->rec_bytes);
	it->rec_bytes = it->expired;
	it->rec_len = it->expired_len;
	it->expired = NULL;
	it->rec.state = SD_UPLOAD_EXPIRED;
	if (g->u != NULL) {
		/* The start-up walk never counted it (it was past its date). */
		if (!g->counting)
			upload_open_sub(g->u, it->rec.attorney);
		upload_cache_evict(g->u, it->id);
	}
}

/* st: the request's status (or its submission's error). */
static void gc_answer(struct upload_gc *g, const sd_store_req_t *req, int st)
{
	struct gc_item *it = g->next < g->n_items ? &g->items[g->next] : NULL;
	bool more = false;
	bool precondition = (g->phase == GC_MARK || g->phase == GC_FINAL) && sd_store_req_failed_op(req) == 0;

	if (st < 0 && !precondition) {
		/* Not a precondition (a commit got there first): the store failed. */
		g->failed = st;
		sd_log(SD_LOG_WARN, "removing expired uploads stopped: %s", sd_strerror(st));
		items_free(g);
		g->phase = GC_DONE;
		return;
	}
	switch (g->phase) {
	case GC_SCAN:
		if ((g->failed = scan_answer(g, req)) < 0) {
			items_free(g);
			g->phase = GC_DONE;
			return;
		}
		item_begin(g);
		break;
	case GC_MARK:
		if (st < 0) {
			item_end(g);
			break;
		}
		mark_answer(g, it);
		g->phase = GC_CHUNKS;
		break;
	case GC_CHUNKS:
		if (sd_store_req_scan_count(req, 1, &more) > 0 && more)
			break; /* another batch */
		g->phase = GC_FINAL;
		break;
	case GC_FINAL:
		if (st == 0)
			g->removed++;
		item_end(g);
		break;
	case GC_DONE:
		break;
	}
}

/* --- Drivers --------------------------------------------------------------------------- */

static void gc_report(struct upload_gc *g)
{
	if (g->removed > 0)
		sd_log(SD_LOG_INFO, "removed %zu expired upload%s", g->removed, g->removed == 1 ? "" : "s");
}

/* The year's last case number, for commit.c's counter. */
static int load_case_seq(sd_uploads_t *u, sd_store_t *store, int year)
{
	sd_store_req_t *req = sd_store_req_new();
	char key[SD_CASE_SEQ_KEY_BYTES];
	const uint8_t *v;
	size_t len;
	int err;

	if (req == NULL)
		return SD_ERR_NOMEM;
	if ((err = sd_case_seq_key(year, key)) == 0) {
		sd_store_req_get(req, SD_STORE_DB_META, (const uint8_t *)key, strlen(key));
		err = sd_store_call(store, req);
	}
	if (err == 0) {
		u->seq_year = year;
		u->seq = sd_store_req_value(req, 0, &v, &len) == 0 && len == 4 ? sd_load_le32(v) : 0;
	}
	sd_store_req_free(req);
	return err;
}

int upload_gc_start(sd_uploads_t *u)
{
	sd_store_t *store = sd_server_store(u->s);
	struct upload_gc g = {.u = u, .counting = true, .today = sd_server_today(u->s), .phase = GC_SCAN};
	sd_store_req_t *req;
	int err;

	if ((err = load_case_seq(u, store, g.today.y)) < 0)
		return sd_error(err, "cannot read the case counter: %s", sd_error_detail());
	while ((req = gc_next(&g)) != NULL) {
		gc_answer(&g, req, sd_store_call(store, req));
		sd_store_req_free(req);
	}
	items_free(&g);
	gc_report(&g);
	/* Without the whole walk the per-account counts would be wrong. */
	if (g.failed < 0 || g.phase != GC_DONE)
		return sd_error(g.failed < 0 ? g.failed : SD_ERR_NOMEM, "cannot read the uploads in the store");
	return 0;
}

static void gc_step(struct upload_gc *g);

static void gc_done(sd_store_req_t *req, void *ctx)
{
	struct upload_gc *g = ctx;

	if (g->u == NULL) {
		sd_store_req_free(req);
		gc_free(g);
		return;
	}
	gc_answer(g, req, sd_store_req_status(req));
	sd_store_req_free(req);
	gc_step(g);
}

static void gc_step(struct upload_gc *g)
{
	sd_store_req_t *req = gc_next(g);

	if (req != NULL && sd_server_store_submit(g->u->s, req, gc_done, g) == 0)
		return;
	sd_store_req_free(req);
	gc_report(g);
	g->u->gc = NULL;
	gc_free(g);
}

void upload_gc_tick(void *ctx)
{
	sd_uploads_t *u = ctx;
	struct upload_gc *g;

	if (u->gc != NULL || (g = calloc(1, sizeof(*g))) == NULL)
		return;
	*g = (struct upload_gc){.u = u, .today = sd_server_today(u->s), .phase = GC_SCAN};
	u->gc = g;
	gc_step(g);
}

void upload_gc_free(sd_uploads_t *u)
{
	/* A collection is waiting for the store: its answer frees it. */
	if (u->gc != NULL)
		u->gc->u = NULL;
	u->gc = NULL;
}
