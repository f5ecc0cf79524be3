/*
 * logroutes.c — the audit log's routes (docs/API.md, "Audit log"):
 *
 *   GET /v1/log/head                                   public: the latest published head
 *   GET /v1/log/proof/inclusion?index=I&size=N         public: leaf I in the tree of N
 *   GET /v1/log/proof/consistency?from=M&to=N          public: tree M is a prefix of N
 *   GET /v1/log/entries?start=S&end=E                  officer, custodian, operator
 *   GET /v1/log/entries?case=YYYY-NNNNNN[&start=S]     the same, one case's events
 *
 * Every size must be covered by the latest published head, and entries stop at it, so
 * nothing here reveals an event before the schedule publishes it. A proof is planned by
 * crypto/merkle.c, its complete subtrees read in one store request, and folded here.
 */
#include <stdlib.h>
#include <string.h>

#include "sealdrop/auditlog.h"
#include "sealdrop/bytes.h"
#include "sealdrop/log.h"
#include "sealdrop/sealdrop.h"
#include "upload_int.h"

#define ENTRIES_PAGE SD_LOGENTRIES_MAX

struct proof {
	bool consistency;
	sd_logproof_t p;
	sd_merkle_range_t ranges[SD_MERKLE_PROOF_MAX];
};

struct entries {
	uint64_t start, end, published; /* indexes start..end, all below published */
	char case_number[SD_CASE_NUMBER_BYTES];
	uint64_t *indexes; /* a case's leaves being read */
	size_t n_indexes;
};

static void entries_free(void *p)
{
	struct entries *e = p;

	if (e != NULL)
		free(e->indexes);
	free(e);
}

/* The latest head, or NULL after answering 503. */
static const sd_loghead_t *published_head(sd_request_t *r)
{
	const sd_loghead_t *h = sd_auditlog_head(sd_server_auditlog(sd_request_server(r)));

	if (h == NULL)
		sd_request_reply_error(r, 503, "no_head", "no tree head has been published yet; retry later");
	return h;
}

static void reply_bad_query(sd_request_t *r, const char *form)
{
	sd_request_reply_error(r, 400, "bad_request", "%s; the query is %s", sd_error_detail(), form);
}

void sd_route_log_head(sd_request_t *r)
{
	size_t len = 0;
	const char *json = sd_auditlog_head_json(sd_server_auditlog(sd_request_server(r)), &len);

	if (json == NULL) {
		sd_request_reply_error(r, 503, "no_head", "no tree head has been published yet; retry later");
		return;
	}
	sd_request_reply(r, 200, "application/json", (const uint8_t *)json, len);
}

/* --- Proofs ------------------------------------------------------------------------------- */

static void proof_reply(sd_request_t *r, struct proof *pf, int st)
{
	char *json = NULL;

	if (st < 0) {
		if (st == SD_ERR_INTERNAL)
			sd_log(SD_LOG_ERROR, "%s", sd_error_detail());
		upload_reply_store_error(r, st);
		return;
	}
	st = pf->consistency ? sd_logproof_consistency_json(&pf->p, &json) : sd_logproof_inclusion_json(&pf->p, &json);
	if (st < 0) {
		upload_reply_store_error(r, st);
		return;
	}
	sd_request_reply(r, 200, "application/json", (const uint8_t *)json, strlen(json));
	free(json);
}

static void proof_read(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	struct proof *pf = sd_request_state(r);
	int st = sd_store_req_status(req);

	if (st == 0)
		st = sd_auditlog_fold_ranges(req, 0, pf->ranges, pf->p.n, pf->p.hashes);
	sd_store_req_free(req);
	proof_reply(r, pf, st);
}

/* Reads the planned ranges' hashes and answers; a proof of no hashes needs no store. */
static void proof_answer(sd_request_t *r, struct proof *pf)
{
	sd_store_req_t *req;

	if (pf->p.n == 0) {
		proof_reply(r, pf, 0);
		return;
	}
	if ((req = sd_store_req_new()) == NULL || sd_auditlog_req_ranges(req, pf->ranges, pf->p.n) < 0) {
		sd_store_req_free(req);
		upload_reply_store_error(r, SD_ERR_NOMEM);
		return;
	}
	(void)upload_submit(r, req, proof_read, r);
}

/* Parses the two sizes of a proof query: a <= b is checked by the caller. */
static int proof_query(sd_request_t *r, const char *const names[], const char *form, uint64_t *a, uint64_t *b)
{
	sd_query_t q;

	if (sd_query_parse(sd_request_query(r), names, &q) < 0 || sd_query_u64(&q, 0, UINT64_MAX, a) < 0 ||
	    sd_query_u64(&q, 1, UINT64_MAX, b) < 0) {
		reply_bad_query(r, form);
		return SD_ERR_FORMAT;
	}
	return 0;
}

static struct proof *proof_new(sd_request_t *r, bool consistency)
{
	struct proof *pf = calloc(1, sizeof(*pf));

	if (pf == NULL) {
		upload_reply_store_error(r, SD_ERR_NOMEM);
		return NULL;
	}
	pf->consistency = consistency;
	sd_request_set_state(r, pf, free);
	return pf;
}

static bool size_is_published(sd_request_t *r, const sd_loghead_t *h, uint64_t size)
{
	if (size <= h->size)
		return true;
	sd_request_reply_error(r, 404, "not_published", "no published head covers %llu leaves; the latest covers %llu",
	                       (unsigned long long)size, (unsigned long long)h->size);
	return false;
}

/* Both proofs: their query's two sizes (a, b) and how they must relate. */
static void proof_route(sd_request_t *r, bool consistency)
{
	static const char *const inclusion_names[] = {"index", "size", NULL};
	static const char *const consistency_names[] = {"from", "to", NULL};
	const sd_loghead_t *h;
	struct proof *pf;
	uint64_t a, b;
	int err;

	if (proof_query(r, consistency ? consistency_names : inclusion_names,
	                consistency ? "?from=M&to=N" : "?index=I&size=N", &a, &b) < 0 ||
	    (h = published_head(r)) == NULL || !size_is_published(r, h, b))
		return;
	if (consistency ? a == 0 || a > b : a >= b) {
		sd_request_reply_error(r, 400, "bad_range", "%s",
		                       consistency ? "the sizes must satisfy 0 < from <= to"
		                                   : "the index must be below the size");
		return;
	}
	if ((pf = proof_new(r, consistency)) == NULL)
		return;
	pf->p.a = a;
	pf->p.b = b;
	err = consistency ? sd_merkle_consistency_plan(a, b, pf->ranges, &pf->p.n)
	                  : sd_merkle_inclusion_plan(a, b, pf->ranges, &pf->p.n);
	if (err < 0) {
		sd_request_reply_error(r, 400, "bad_range", "%s", sd_error_detail());
		return;
	}
	proof_answer(r, pf);
}

void sd_route_log_inclusion(sd_request_t *r)
{
	proof_route(r, false);
}

void sd_route_log_consistency(sd_request_t *r)
{
	proof_route(r, true);
}

/* --- Entries -------------------------------------------------------------------------------- */

static json_t *entry_json(uint64_t index, const uint8_t *leaf, size_t len)
{
	char *b64 = malloc(sd_base64_len(len));
	json_t *o;

	if (b64 == NULL)
		return NULL;
	sd_base64_encode(leaf, len, b64);
	o = json_pack("{s:I, s:s}", "index", (json_int_t)index, "leaf", b64);
	free(b64);
	return o;
}

/* The reply of a scan of log_leaves (op 0) or of GETs of leaves (ops 0.., keys in order). */
static void entries_read(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	struct entries *e = sd_request_state(r);
	json_t *list = json_array();
	const uint8_t *k, *v;
	size_t klen, vlen, n = sd_store_req_scan_count(req, 0, NULL);
	int st = sd_store_req_status(req);

	for (size_t i = 0; st == 0 && list != NULL && i < n; i++) {
		uint64_t index;
		if (sd_store_req_scan_entry(req, 0, i, &k, &klen, &v, &vlen) < 0 || klen != 8)
			break;
		if ((index = sd_load_be64(k)) > e->end)
			break;
		json_array_append_new(list, entry_json(index, v, vlen));
	}
	sd_store_req_free(req);
	if (st < 0 || list == NULL) {
		json_decref(list);
		upload_reply_store_error(r, st < 0 ? st : SD_ERR_NOMEM);
		return;
	}
	sd_request_reply_json(r, 200, json_pack("{s:o}", "entries", list));
}

static void entries_range(sd_request_t *r, struct entries *e)
{
	sd_store_req_t *req = sd_store_req_new();
	uint8_t after[8];

	if (req != NULL) {
		sd_store_be64(after, e->start - 1);
		sd_store_req_scan(req, SD_STORE_DB_LOG_LEAVES, NULL, 0, e->start > 0 ? after : NULL,
		                  e->start > 0 ? sizeof(after) : 0, (size_t)(e->end - e->start + 1));
	}
	(void)upload_submit(r, req, entries_read, r);
}

/* The case's leaves, op i the leaf of e->indexes[i]. */
static void case_leaves_read(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	struct entries *e = sd_request_state(r);
	json_t *list = json_array();
	const uint8_t *leaf;
	size_t len;
	int st = sd_store_req_status(req);

	for (size_t i = 0; st == 0 && list != NULL && i < e->n_indexes; i++) {
		if (sd_store_req_value(req, i, &leaf, &len) < 0) {
			sd_log(SD_LOG_ERROR, "the audit log is damaged: a case's leaf %llu is missing",
			       (unsigned long long)e->indexes[i]);
			st = SD_ERR_INTERNAL;
			break;
		}
		json_array_append_new(list, entry_json(e->indexes[i], leaf, len));
	}
	sd_store_req_free(req);
	if (st < 0 || list == NULL) {
		json_decref(list);
		upload_reply_store_error(r, st < 0 ? st : SD_ERR_NOMEM);
		return;
	}
	sd_request_reply_json(r, 200, json_pack("{s:o}", "entries", list));
}

/* The indexes of the case's leaves (keys: case number || index): then their leaves. */
static void case_events_read(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	struct entries *e = sd_request_state(r);
	sd_store_req_t *next = NULL;
	const uint8_t *k, *v;
	size_t klen, vlen, n = sd_store_req_scan_count(req, 0, NULL);
	int st = sd_store_req_status(req);

	if (st == 0 && (e->indexes = calloc(n > 0 ? n : 1, sizeof(*e->indexes))) == NULL)
		st = SD_ERR_NOMEM;
	for (size_t i = 0; st == 0 && i < n; i++) {
		if (sd_store_req_scan_entry(req, 0, i, &k, &klen, &v, &vlen) < 0 || klen < 8 ||
		    sd_load_be64(k + klen - 8) > e->end)
			break;
		e->indexes[e->n_indexes++] = sd_load_be64(k + klen - 8);
	}
	sd_store_req_free(req);
	if (st == 0 && e->n_indexes == 0) {
		sd_request_reply_json(r, 200, json_pack("{s:[]}", "entries"));
		return;
	}
	if (st == 0 && (next = sd_store_req_new()) == NULL)
		st = SD_ERR_NOMEM;
	if (st < 0) {
		upload_reply_store_error(r, st);
		return;
	}
	for (size_t i = 0; i < e->n_indexes; i++) {
		uint8_t key[8];
		sd_store_be64(key, e->indexes[i]);
		sd_store_req_get(next, SD_STORE_DB_LOG_LEAVES, key, sizeof(key));
	}
	(void)upload_submit(r, next, case_leaves_read, r);
}

static void entries_case(sd_request_t *r, struct entries *e)
{
	sd_store_req_t *req = sd_store_req_new();
	size_t cn = strlen(e->case_number);
	uint8_t after[SD_CASE_NUMBER_BYTES + 8];

	memcpy(after, e->case_number, cn);
	sd_store_be64(after + cn, e->start - 1);
	if (req != NULL)
		sd_store_req_scan_keys(req, SD_STORE_DB_CASE_EVENTS, (const uint8_t *)e->case_number, cn,
		                       e->start > 0 ? after : NULL, e->start > 0 ? cn + 8 : 0, ENTRIES_PAGE);
	(void)upload_submit(r, req, case_events_read, r);
}

/* start..end from the query, clamped to a page and to the published head: 0, 1 when a
 * case's page starts past the published head (empty), or <0 after replying. */
static int entries_bounds(sd_request_t *r, const sd_query_t *q, struct entries *e)
{
	bool by_case = q->present[2];

	e->start = 0;
	e->end = e->published - 1;
	if ((q->present[0] && sd_query_u64(q, 0, UINT64_MAX, &e->start) < 0) ||
	    (q->present[1] && sd_query_u64(q, 1, UINT64_MAX, &e->end) < 0) || (!by_case && !q->present[0]) ||
	    (by_case && q->present[1]) || (by_case && !sd_case_number_is_valid(q->value[2]))) {
		sd_request_reply_error(r, 400, "bad_request",
		                       "the query is ?start=S[&end=E] or ?case=YYYY-NNNNNN[&start=S]");
		return SD_ERR_FORMAT;
	}
	if (by_case && e->start >= e->published) /* paged past the case's last event */
		return 1;
	if (e->start > e->end || e->start >= e->published) {
		sd_request_reply_error(r, 400, "bad_range",
		                       "start must be at most end and below the published size %llu",
		                       (unsigned long long)e->published);
		return SD_ERR_FORMAT;
	}
	if (e->end >= e->published)
		e->end = e->published - 1;
	if (!by_case && e->end - e->start >= ENTRIES_PAGE)
		e->end = e->start + ENTRIES_PAGE - 1;
	if (by_case) /* valid, so exactly SD_CASE_NUMBER_BYTES - 1 characters */
		memcpy(e->case_number, q->value[2], SD_CASE_NUMBER_BYTES);
	return 0;
}

void sd_route_log_entries(sd_request_t *r)
{
	static const char *const names[] = {"start", "end", "case", NULL};
	const sd_loghead_t *h;
	struct entries *e;
	sd_query_t q;

	if (sd_query_parse(sd_request_query(r), names, &q) < 0) {
		reply_bad_query(r, "?start=S[&end=E] or ?case=YYYY-NNNNNN[&start=S]");
		return;
	}
	if ((h = published_head(r)) == NULL)
		return;
	if (h->size == 0) {
		sd_request_reply_json(r, 200, json_pack("{s:[]}", "entries"));
		return;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		upload_reply_store_error(r, SD_ERR_NOMEM);
		return;
	}
	sd_request_set_state(r, e, entries_free);
	e->published = h->size;
	switch (entries_bounds(r, &q, e)) {
	case 0:
		break;
	case 1:
		sd_request_reply_json(r, 200, json_pack("{s:[]}", "entries"));
		return;
	default:
		return;
	}
	if (e->case_number[0] != '\0')
		entries_case(r, e);
	else
		entries_range(r, e);
}
