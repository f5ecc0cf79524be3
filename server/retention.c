/*
 * retention.c — the front end's half of retention (include/sealdrop/retention.h): which
 * cases are due, and the one store request that destroys one of them. Start at
 * sd_retention_run, which the control op "retention" calls (server/control.c): it pages
 * through the finished cases (case_by_state, closed then terminated), reads their
 * records, keeps those due, reads their uploads for the bytes they hold and, unless it is
 * a dry run, destroys them one request each (sd_retention_destroy_req). The store
 * process checks each destruction again (server/retention_policy.c).
 */
#include <stdlib.h>
#include <string.h>

#include "sealdrop/audit.h"
#include "sealdrop/auditlog.h"
#include "sealdrop/bytes.h"
#include "sealdrop/envelope.h"
#include "sealdrop/log.h"
#include "sealdrop/retention.h"
#include "sealdrop/sealdrop.h"
#include "sealdrop/server.h"
#include "sealdrop/uploads.h"

#define PAGE 128 /* finished cases read per round */

/* --- Pure parts ------------------------------------------------------------------------ */

bool sd_retention_finished(const sd_case_rec_t *rec, sd_date_t *on)
{
	const sd_case_step_t *last;

	if ((rec->flow.state != SD_CASE_CLOSED && rec->flow.state != SD_CASE_TERMINATED) || rec->flow.n_steps == 0 ||
	    rec->flow.n_steps > SD_CASE_STEPS_MAX)
		return false;
	last = &rec->steps[rec->flow.n_steps - 1];
	if (last->action != SD_ACTION_CLOSE && last->action != SD_ACTION_TERMINATE)
		return false;
	*on = last->date;
	return true;
}

bool sd_retention_is_due(const sd_case_rec_t *rec, uint32_t days, sd_date_t today, sd_date_t *finished)
{
	return days > 0 && days <= SD_RETENTION_DAYS_MAX && sd_retention_finished(rec, finished) &&
	       sd_date_cmp(sd_date_add_days(*finished, days), today) < 0;
}

void sd_retention_tomb_key(const char *case_number, uint8_t out[SD_RETENTION_TOMB_KEY_BYTES])
{
	memcpy(out, SD_RETENTION_TOMB_PREFIX, SD_RETENTION_TOMB_PREFIX_LEN);
	memcpy(out + SD_RETENTION_TOMB_PREFIX_LEN, case_number, SD_CASE_NUMBER_LEN);
}

void sd_retention_tomb_encode(const sd_retention_tomb_t *t, uint8_t out[SD_RETENTION_TOMB_BYTES])
{
	sd_wr_t w = sd_wr_init(out, SD_RETENTION_TOMB_BYTES);
	static const uint8_t none[SD_CASE_NOTICE_KEY_BYTES];

	sd_wr_u32(&w, sd_date_to_u32(t->destroyed));
	sd_wr_bytes(&w, t->has_consent_key ? t->consent_key : none, SD_CASE_NOTICE_KEY_BYTES);
}

int sd_retention_tomb_decode(const uint8_t *p, size_t len, sd_retention_tomb_t *out)
{
	static const uint8_t none[SD_CASE_NOTICE_KEY_BYTES];
	sd_rd_t r = sd_rd_init(p, len);
	uint32_t date = sd_rd_u32(&r);

	memset(out, 0, sizeof(*out));
	if (len != SD_RETENTION_TOMB_BYTES || sd_date_from_u32(date, &out->destroyed) < 0 ||
	    !sd_rd_copy(&r, out->consent_key, sizeof(out->consent_key)))
		return sd_error(SD_ERR_FORMAT, "a case's tombstone is malformed");
	out->has_consent_key = !sd_equal(out->consent_key, none, sizeof(none));
	return 0;
}

/* The upload's part: its records and chunks deleted (its record was compared first, in
 * sd_retention_destroy_req). A case whose upload record is missing (damage: scrub reports
 * it) keeps whatever chunks are left: the store process deletes chunks only of an upload
 * it checked to be this case's. */
static int destroy_upload(sd_store_req_t *req, const sd_retention_case_t *c)
{
	const sd_case_rec_t *rec = c->rec;
	uint8_t dkey[SD_UPLOAD_DIGEST_KEY_BYTES];
	uint64_t ops = c->chunks / SD_STORE_SCAN_MAX + 1;
	int r;

	if (c->upload_bytes == NULL)
		return 0;
	sd_store_req_del(req, SD_STORE_DB_UPLOADS, rec->upload, sizeof(rec->upload));
	sd_store_req_del(req, SD_STORE_DB_UPLOAD_HEADERS, rec->upload, sizeof(rec->upload));
	sd_upload_digest_key(rec->digest, rec->attorney, dkey);
	sd_store_req_del(req, SD_STORE_DB_UPLOAD_DIGESTS, dkey, sizeof(dkey));
	for (uint64_t i = 0; i < ops; i++)
		sd_store_req_del_prefix(req, SD_STORE_DB_CHUNKS, rec->upload, sizeof(rec->upload), SD_STORE_SCAN_MAX);
	/* Every chunk is gone, or nothing is. */
	r = sd_store_req_check_count(req, SD_STORE_DB_CHUNKS, rec->upload, sizeof(rec->upload), 0);
	return r < 0 ? r : 0;
}

/* The case's own entries, deleted (its digest's only with its upload record: the store
 * process ties the digest to the upload it checked). */
static void destroy_case(sd_store_req_t *req, const sd_case_rec_t *rec, bool has_upload)
{
	const uint8_t *cn = (const uint8_t *)rec->case_number;
	uint8_t key[SD_CA_FINGERPRINT_BYTES + SD_CASE_NUMBER_LEN];
	uint8_t skey[SD_CASE_STATE_KEY_BYTES], due[SD_CASE_DUE_KEY_BYTES];

	sd_store_req_del(req, SD_STORE_DB_CASES, cn, SD_CASE_NUMBER_LEN);
	sd_store_req_del(req, SD_STORE_DB_CASE_SUMMARIES, cn, SD_CASE_NUMBER_LEN);
	sd_store_req_del(req, SD_STORE_DB_RECEIPTS, cn, SD_CASE_NUMBER_LEN);
	if (has_upload)
		sd_store_req_del(req, SD_STORE_DB_CASE_DIGESTS, rec->digest, sizeof(rec->digest));
	memcpy(key, rec->attorney, sizeof(rec->attorney));
	memcpy(key + sizeof(rec->attorney), cn, SD_CASE_NUMBER_LEN);
	sd_store_req_del(req, SD_STORE_DB_ACCOUNT_CASES, key, sizeof(key));
	sd_case_state_key(rec->flow.state, rec->case_number, skey);
	sd_store_req_del(req, SD_STORE_DB_CASE_BY_STATE, skey, sizeof(skey));
	if (sd_case_due_key(&rec->flow, rec->case_number, due))
		sd_store_req_del(req, SD_STORE_DB_CASE_BY_DUE, due, sizeof(due));
	sd_store_req_del_prefix(req, SD_STORE_DB_NOTICES, cn, SD_CASE_NUMBER_LEN, SD_STORE_SCAN_MAX);
	sd_store_req_del_prefix(req, SD_STORE_DB_CASE_TEXTS, cn, SD_CASE_NUMBER_LEN, SD_STORE_SCAN_MAX);
	sd_store_req_del_prefix(req, SD_STORE_DB_CONSENTS, cn, SD_CASE_NUMBER_LEN, SD_STORE_SCAN_MAX);
}

int sd_retention_destroy_req(sd_store_req_t *req, const sd_retention_case_t *c, sd_date_t today)
{
	const sd_case_rec_t *rec = c->rec;
	sd_retention_tomb_t tomb = {.destroyed = today, .has_consent_key = rec->has_session};
	uint8_t tkey[SD_RETENTION_TOMB_KEY_BYTES], tval[SD_RETENTION_TOMB_BYTES];
	sd_audit_event_t ev;
	int r;

	if (rec->has_session)
		memcpy(tomb.consent_key, rec->consent_key, sizeof(tomb.consent_key));
	if (c->upload_bytes != NULL && c->chunks / SD_STORE_SCAN_MAX + 1 > SD_RETENTION_CHUNK_OPS)
		return sd_error(SD_ERR_TOOBIG, "case %s: an upload of %llu chunks", rec->case_number,
		                (unsigned long long)c->chunks);
	/* The preconditions before every write: the store process judges the stored values. */
	sd_store_req_check_equal(req, SD_STORE_DB_CASES, (const uint8_t *)rec->case_number, SD_CASE_NUMBER_LEN,
	                         c->rec_bytes, c->rec_len);
	if (c->upload_bytes != NULL)
		sd_store_req_check_equal(req, SD_STORE_DB_UPLOADS, rec->upload, sizeof(rec->upload), c->upload_bytes,
		                         c->upload_len);
	destroy_case(req, rec, c->upload_bytes != NULL);
	if ((r = destroy_upload(req, c)) < 0)
		return r;
	sd_retention_tomb_key(rec->case_number, tkey);
	sd_retention_tomb_encode(&tomb, tval);
	sd_store_req_put(req, SD_STORE_DB_META, tkey, sizeof(tkey), tval, sizeof(tval), SD_STORE_NOOVERWRITE);
	sd_audit_event_init(&ev, SD_AUDIT_CASE_DESTROYED, today, NULL);
	snprintf(ev.case_number, sizeof(ev.case_number), "%s", rec->case_number);
	r = sd_audit_add(req, &ev);
	return r < 0 ? r : 0;
}

/* --- The run, on the loop --------------------------------------------------------------- */

/* A due case: what the answer lists, and what its destruction needs. */
struct due {
	char cn[SD_CASE_NUMBER_BYTES];
	sd_case_state_t state;
	sd_date_t finished;
	uint64_t bytes;
	sd_case_rec_t *rec; /* until destroyed or listed */
	uint8_t *rec_bytes, *up_bytes;
	size_t rec_len, up_len;
	uint64_t chunks;
};

struct run {
	sd_server_t *s;
	bool dry_run;
	sd_date_t today;
	uint32_t days;
	sd_retention_done_fn done;
	void *ctx;
	size_t state_i; /* 0: closed, 1: terminated, 2: finished */
	uint8_t after[SD_CASE_STATE_KEY_BYTES];
	bool has_after;
	char page[PAGE][SD_CASE_NUMBER_BYTES];
	size_t n_page;
	struct due *list; /* every due case found, in order */
	size_t n, cap;
	size_t page_first, next; /* this page's due cases: list[page_first ..]; the next to destroy */
	size_t destroyed;
};

static const sd_case_state_t finished_states[] = {SD_CASE_CLOSED, SD_CASE_TERMINATED};
static bool running; /* one run at a time: two would race to destroy the same case */

static void due_release(struct due *d)
{
	if (d->rec != NULL)
		sd_wipe(d->rec, sizeof(*d->rec));
	free(d->rec);
	free(d->rec_bytes);
	free(d->up_bytes);
	d->rec = NULL;
	d->rec_bytes = d->up_bytes = NULL;
}

static void run_free(struct run *run)
{
	for (size_t i = 0; i < run->n; i++)
		due_release(&run->list[i]);
	free(run->list);
	free(run);
}

static json_t *run_json(const struct run *run)
{
	char today[SD_DATE_TEXT_BYTES], on[SD_DATE_TEXT_BYTES];
	json_t *cases = json_array();
	uint64_t total = 0;

	for (size_t i = 0; cases != NULL && i < run->n; i++) {
		const struct due *d = &run->list[i];
		sd_date_format(d->finished, on);
		total += d->bytes;
		json_array_append_new(cases, json_pack("{s:s, s:s, s:s, s:I}", "case", d->cn, "state",
		                                       sd_case_state_name(d->state), "finished", on, "bytes",
		                                       (json_int_t)d->bytes));
	}
	sd_date_format(run->today, today);
	return json_pack("{s:b, s:s, s:I, s:o*, s:I, s:I}", "dry_run", run->dry_run, "today", today, "retention_days",
	                 (json_int_t)run->days, "cases", cases, "total_bytes", (json_int_t)total, "destroyed",
	                 (json_int_t)run->destroyed);
}

static void run_finish(struct run *run, int status)
{
	json_t *result = status == 0 ? run_json(run) : NULL;

	if (status == 0 && result == NULL)
		status = SD_ERR_NOMEM;
	running = false;
	run->done(run->ctx, status, result);
	run_free(run);
}

static void run_submit(struct run *run, sd_store_req_t *req, void (*fn)(sd_store_req_t *, void *))
{
	int r = req == NULL ? SD_ERR_NOMEM : sd_server_store_submit(run->s, req, fn, run);

	if (r < 0) {
		sd_store_req_free(req);
		run_finish(run, r);
	}
}

static void scan_next(struct run *run);

/* The page's due cases destroyed one by one, then the next page. */
static void destroy_done(sd_store_req_t *req, void *ctx);

static void destroy_next(struct run *run)
{
	struct due *d;
	sd_retention_case_t c;
	sd_store_req_t *req;
	int r;

	if (run->dry_run || run->next >= run->n) {
		for (size_t i = run->page_first; i < run->n; i++)
			due_release(&run->list[i]);
		scan_next(run);
		return;
	}
	d = &run->list[run->next];
	c = (sd_retention_case_t){.rec = d->rec,
	                          .rec_bytes = d->rec_bytes,
	                          .rec_len = d->rec_len,
	                          .upload_bytes = d->up_bytes,
	                          .upload_len = d->up_len,
	                          .chunks = d->chunks};
	if ((req = sd_store_req_new()) != NULL && (r = sd_retention_destroy_req(req, &c, run->today)) < 0) {
		sd_store_req_free(req);
		run_finish(run, r);
		return;
	}
	run_submit(run, req, destroy_done);
}

static void destroy_done(sd_store_req_t *req, void *ctx)
{
	struct run *run = ctx;
	struct due *d = &run->list[run->next];
	int st = sd_store_req_status(req);

	if (st < 0) {
		int r = sd_error(st, "case %s could not be destroyed: %s", d->cn, sd_store_req_detail(req));
		sd_log(SD_LOG_ERROR, "retention: %s", sd_error_detail());
		sd_store_req_free(req);
		run_finish(run, r); /* the cases destroyed before it stay destroyed, and logged */
		return;
	}
	sd_store_req_free(req);
	sd_log(SD_LOG_INFO, "retention: destroyed case %s", d->cn);
	due_release(d);
	run->destroyed++;
	run->next++;
	destroy_next(run);
}

/* Ops 2i, 2i+1: the upload record and header of the page's due case i. */
static void uploads_done(sd_store_req_t *req, void *ctx)
{
	struct run *run = ctx;
	int st = sd_store_req_status(req);

	for (size_t i = run->page_first; st == 0 && i < run->n; i++) {
		struct due *d = &run->list[i];
		size_t op = 2 * (i - run->page_first), len;
		const uint8_t *v;
		sd_upload_rec_t up;
		sd_header_t *h = NULL;

		if (sd_store_req_value(req, op, &v, &len) == 0 && sd_upload_rec_decode(v, len, &up) == 0 &&
		    (d->up_bytes = malloc(len)) != NULL) {
			memcpy(d->up_bytes, v, len);
			d->up_len = len;
			d->chunks = up.chunks;
		}
		if (sd_store_req_value(req, op + 1, &v, &len) == 0 && sd_header_parse(v, len, &h) == 0) {
			d->bytes = len;
			for (uint32_t b = 0; b < h->n_blobs; b++)
				d->bytes += h->blobs[b].size;
		}
		sd_header_free(h);
	}
	sd_store_req_free(req);
	if (st < 0) {
		run_finish(run, st);
		return;
	}
	run->next = run->page_first;
	destroy_next(run);
}

/* One due case of the page into the list: the record's bytes kept for the comparison. */
static int due_add(struct run *run, sd_case_rec_t **rec, const uint8_t *v, size_t len, sd_date_t finished)
{
	struct due *d;

	if (run->n == run->cap) {
		size_t cap = run->cap == 0 ? 16 : 2 * run->cap;
		struct due *l = realloc(run->list, cap * sizeof(*l));
		if (l == NULL)
			return SD_ERR_NOMEM;
		run->list = l;
		run->cap = cap;
	}
	d = &run->list[run->n];
	*d = (struct due){.state = (*rec)->flow.state, .finished = finished, .rec_len = len};
	snprintf(d->cn, sizeof(d->cn), "%s", (*rec)->case_number);
	if ((d->rec_bytes = malloc(len)) == NULL)
		return SD_ERR_NOMEM;
	memcpy(d->rec_bytes, v, len);
	d->rec = *rec;
	*rec = NULL;
	run->n++;
	return 0;
}

/* Op i: the record of page[i]. The due ones join the list; their uploads are read next. */
static void records_done(sd_store_req_t *req, void *ctx)
{
	struct run *run = ctx;
	const sd_config_t *cal = sd_server_config(run->s);
	sd_store_req_t *next = NULL;
	sd_case_rec_t *rec = NULL;
	sd_date_t finished;
	int st = sd_store_req_status(req);

	run->page_first = run->n;
	for (size_t i = 0; st == 0 && i < run->n_page; i++) {
		const uint8_t *v;
		size_t len;
		if (rec == NULL && (rec = malloc(sizeof(*rec))) == NULL)
			st = SD_ERR_NOMEM;
		else if (sd_store_req_value(req, i, &v, &len) < 0) /* destroyed meanwhile */
			continue;
		else if (sd_case_rec_decode(v, len, cal, rec) < 0)
			sd_log(SD_LOG_WARN, "retention: case %s cannot be read; left as it is", run->page[i]);
		else if (sd_retention_is_due(rec, run->days, run->today, &finished))
			st = due_add(run, &rec, v, len, finished);
	}
	free(rec);
	sd_store_req_free(req);
	if (st == 0 && run->n == run->page_first) {
		scan_next(run);
		return;
	}
	if (st == 0 && (next = sd_store_req_new()) == NULL)
		st = SD_ERR_NOMEM;
	if (st < 0) {
		run_finish(run, st);
		return;
	}
	for (size_t i = run->page_first; i < run->n; i++) {
		const uint8_t *id = run->list[i].rec->upload;
		sd_store_req_get(next, SD_STORE_DB_UPLOADS, id, SD_CASE_UPLOAD_ID_BYTES);
		sd_store_req_get(next, SD_STORE_DB_UPLOAD_HEADERS, id, SD_CASE_UPLOAD_ID_BYTES);
	}
	run_submit(run, next, uploads_done);
}

/* A page of finished cases' keys: their records next. */
static void scan_done(sd_store_req_t *req, void *ctx)
{
	struct run *run = ctx;
	sd_store_req_t *next = NULL;
	const uint8_t *k, *v;
	size_t klen, vlen, n;
	bool more = false;
	int st = sd_store_req_status(req);

	n = st == 0 ? sd_store_req_scan_count(req, 0, &more) : 0;
	run->n_page = 0;
	for (size_t i = 0; i < n && run->n_page < PAGE; i++)
		if (sd_store_req_scan_entry(req, 0, i, &k, &klen, &v, &vlen) == 0 && klen == SD_CASE_STATE_KEY_BYTES) {
			memcpy(run->page[run->n_page], k + 1, SD_CASE_NUMBER_LEN);
			run->page[run->n_page++][SD_CASE_NUMBER_LEN] = '\0';
			memcpy(run->after, k, klen);
			run->has_after = true;
		}
	sd_store_req_free(req);
	if (st < 0) {
		run_finish(run, st);
		return;
	}
	if (!more) { /* this state is done after this page */
		run->state_i++;
		run->has_after = false;
	}
	if (run->n_page == 0) {
		scan_next(run);
		return;
	}
	if ((next = sd_store_req_new()) != NULL)
		for (size_t i = 0; i < run->n_page; i++)
			sd_store_req_get(next, SD_STORE_DB_CASES, (const uint8_t *)run->page[i], SD_CASE_NUMBER_LEN);
	run_submit(run, next, records_done);
}

static void scan_next(struct run *run)
{
	uint8_t prefix;
	sd_store_req_t *req;

	if (run->state_i >= sizeof(finished_states) / sizeof(finished_states[0])) {
		run_finish(run, 0);
		return;
	}
	prefix = (uint8_t)finished_states[run->state_i];
	if ((req = sd_store_req_new()) != NULL)
		sd_store_req_scan_keys(req, SD_STORE_DB_CASE_BY_STATE, &prefix, 1, run->has_after ? run->after : NULL,
		                       run->has_after ? sizeof(run->after) : 0, PAGE);
	run_submit(run, req, scan_done);
}

int sd_retention_run(sd_server_t *s, bool dry_run, sd_retention_done_fn done, void *ctx)
{
	struct run *run;

	if (running)
		return sd_error(SD_ERR_REFUSED, "a retention run is under way already");
	if ((run = calloc(1, sizeof(*run))) == NULL)
		return sd_error(SD_ERR_NOMEM, "out of memory for retention");
	running = true;
	run->s = s;
	run->dry_run = dry_run;
	run->today = sd_server_today(s);
	run->days = sd_server_config(s)->retention_days;
	run->done = done;
	run->ctx = ctx;
	if (run->days == 0) /* keep forever: nothing is ever due */
		run->state_i = sizeof(finished_states) / sizeof(finished_states[0]);
	scan_next(run);
	return 0;
}
