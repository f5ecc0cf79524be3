/*
 * casework.c — the Commission's case routes (docs/API.md, "Cases"):
 *
 *   GET  /v1/cases                     officers and custodians: every case; attorneys:
 *                                      their own (through account_cases); filters
 *                                      ?state=&overdue=1&due_within=&after=
 *   GET  /v1/cases/{case}              one case with its history
 *   POST /v1/cases/{case}/transition   an officer moves the case one step (Art. 8–12)
 *
 * The workflow's rules are server/workflow.c's, the record's server/caserec.c's. A
 * transition reads the case, applies the step to a copy, and writes it back under a
 * compare-and-set on the stored bytes, with the step's sealed text, its audit leaf and
 * its standard notice to the whistleblower and the attorney (server/notices.c) in the
 * same request: the step, the text, the notice and the leaves commit together or not at
 * all.
 */
#include <stdlib.h>
#include <string.h>

#include "sealdrop/auditlog.h"
#include "sealdrop/bytes.h"
#include "sealdrop/casebody.h"
#include "sealdrop/caserec.h"
#include "sealdrop/casework.h"
#include "sealdrop/log.h"
#include "sealdrop/notices.h"
#include "sealdrop/retention.h"
#include "sealdrop/sealdrop.h"
#include "upload_int.h"

#define LIST_SCANS_MAX  100  /* store requests one listing may make (1,000,000 cases) */
#define LIST_SCAN_BATCH 1000 /* records read per request */
#define DUE_WITHIN_MAX  3650

bool sd_principal_is_officer(const sd_principal_t *p)
{
	return p != NULL && (p->role == SD_ROLE_OFFICER || p->role == SD_ROLE_CUSTODIAN);
}

/* A decoded record for this request, or NULL after answering. */
static sd_case_rec_t *decode_case(sd_request_t *r, const uint8_t *v, size_t len)
{
	sd_case_rec_t *rec = malloc(sizeof(*rec));

	if (rec == NULL) {
		upload_reply_store_error(r, SD_ERR_NOMEM);
		return NULL;
	}
	if (sd_case_rec_decode(v, len, sd_server_config(sd_request_server(r)), rec) < 0) {
		sd_log(SD_LOG_ERROR, "a stored case record does not decode: %s", sd_error_detail());
		sd_request_reply_error(r, 500, "internal", "the case's record could not be read");
		free(rec);
		return NULL;
	}
	return rec;
}

/* --- Listing ---------------------------------------------------------------------------
 *
 * A listing reads the compact summaries ("case_summaries"), never the records, through
 * one of four paths: every case (a scan of case_summaries, in case number order); an
 * attorney's (their account_cases keys, then a GET of each summary); ?state= (the
 * case_by_state keys of that state, in case number order); ?overdue=1 or ?due_within=
 * without a state (the case_by_due keys up to the last date that can match, in deadline
 * order). The index only finds candidates: every filter is decided on the summary with
 * the real calendar (caserec.h, "The listing's summary"). */

enum list_path { LIST_ALL, LIST_ATTORNEY, LIST_STATE, LIST_DUE };

#define LIST_KEY_MAX (SD_CA_FINGERPRINT_BYTES + SD_CASE_NUMBER_LEN)

struct listing {
	enum list_path path;
	bool officer;
	uint8_t attorney[SD_CA_FINGERPRINT_BYTES];
	bool has_state, overdue, has_due_within;
	sd_case_state_t state;
	uint64_t due_within;
	uint8_t prefix[SD_CA_FINGERPRINT_BYTES]; /* the key scan's prefix */
	size_t prefix_len;
	size_t key_off;              /* bytes before the case number in the scanned keys */
	uint32_t due_last;           /* LIST_DUE: the last date (YYYYMMDD) a key may have */
	uint8_t after[LIST_KEY_MAX]; /* the next scan's `after` */
	size_t after_len;
	uint8_t keys[LIST_SCAN_BATCH][LIST_KEY_MAX]; /* the last key scan's, GET in that order */
	size_t n_keys;
	bool page_more; /* the last key scan left keys */
	unsigned scans;
	char *page; /* the answer's text so far: {"cases":[ and the summaries */
	size_t page_len, page_cap;
	bool nomem;
	size_t n;
};

static void listing_free(void *p)
{
	struct listing *l = p;

	if (l != NULL)
		free(l->page);
	free(l);
}

static bool listing_wants(const struct listing *l, const sd_case_sum_t *sum, sd_date_t today, const sd_config_t *cal)
{
	sd_deadline_t d;

	if (l->has_state && sum->flow.state != l->state)
		return false;
	if (l->overdue && !sd_case_flow_overdue(&sum->flow, today, cal))
		return false;
	if (l->has_due_within) {
		d = sd_case_flow_deadline(&sum->flow, cal);
		if (d.kind == SD_DEADLINE_NONE ||
		    sd_date_to_days(d.due) - sd_date_to_days(today) > (int64_t)l->due_within)
			return false;
	}
	return true;
}

static void listing_next(sd_request_t *r, struct listing *l);

/* Appends text to the page (written without a jansson tree: a page is 1,000 summaries). */
static void page_add(struct listing *l, const char *text, size_t len)
{
	char *p;
	size_t cap = l->page_cap;

	while (!l->nomem && l->page_len + len + 1 > cap)
		cap = cap != 0 ? 2 * cap : 64 << 10;
	if (!l->nomem && cap != l->page_cap) {
		if ((p = realloc(l->page, cap)) == NULL) {
			l->nomem = true;
			return;
		}
		l->page = p;
		l->page_cap = cap;
	}
	if (!l->nomem) {
		memcpy(l->page + l->page_len, text, len);
		l->page_len += len;
	}
}

/* One summary: filtered into the page. */
static void listing_take(sd_request_t *r, struct listing *l, const uint8_t *v, size_t len)
{
	sd_server_t *s = sd_request_server(r);
	const sd_config_t *cal = sd_server_config(s);
	sd_date_t today = sd_server_today(s);
	sd_case_sum_t sum;
	char text[SD_CASE_SUM_TEXT_MAX + 1];
	size_t n;

	if (sd_case_sum_decode(v, len, &sum) < 0) {
		sd_log(SD_LOG_ERROR, "a stored case summary does not decode: %s", sd_error_detail());
		return;
	}
	if (!listing_wants(l, &sum, today, cal) || l->n >= SD_CASES_PAGE_MAX)
		return;
	text[0] = ',';
	if ((n = sd_case_sum_text(&sum, today, cal, text + 1, sizeof(text) - 1)) == 0) {
		sd_log(SD_LOG_ERROR, "case %s: its summary does not fit the page's text", sum.case_number);
		return;
	}
	page_add(l, l->n == 0 ? text + 1 : text, l->n == 0 ? n : n + 1);
	l->n++;
}

/* The page; with more, "after": the last case looked at, where the next page starts (a
 * filter may have looked at many cases and kept none of them). */
static void listing_reply(sd_request_t *r, struct listing *l, bool more)
{
	char end[64];
	int n;

	if (more && l->after_len == l->key_off + SD_CASE_NUMBER_LEN)
		n = snprintf(end, sizeof(end), "],\"more\":true,\"after\":\"%.*s\"}\n", (int)SD_CASE_NUMBER_LEN,
		             (const char *)l->after + l->key_off);
	else
		n = snprintf(end, sizeof(end), "],\"more\":%s}\n", more ? "true" : "false");
	page_add(l, end, (size_t)n);
	if (l->nomem)
		upload_reply_store_error(r, SD_ERR_NOMEM);
	else
		sd_request_reply(r, 200, "application/json", (const uint8_t *)l->page, l->page_len);
}

/* The page is full, the scan ended, or a listing read enough for one answer. */
static void listing_went_on(sd_request_t *r, struct listing *l, bool more)
{
	if (!more || l->n >= SD_CASES_PAGE_MAX || ++l->scans >= LIST_SCANS_MAX)
		listing_reply(r, l, more);
	else
		listing_next(r, l);
}

/* Every case: a batch of summaries scanned from case_summaries. */
static void all_scanned(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	struct listing *l = sd_request_state(r);
	const uint8_t *k, *v;
	size_t klen, vlen, n;
	bool more = false;
	int st = sd_store_req_status(req);

	if (st < 0) {
		sd_store_req_free(req);
		upload_reply_store_error(r, st);
		return;
	}
	n = sd_store_req_scan_count(req, 0, &more);
	for (size_t i = 0; i < n; i++) {
		if (l->n >= SD_CASES_PAGE_MAX) {
			more = true;
			break;
		}
		if (sd_store_req_scan_entry(req, 0, i, &k, &klen, &v, &vlen) < 0 || klen != SD_CASE_NUMBER_LEN)
			continue;
		listing_take(r, l, v, vlen);
		memcpy(l->after, k, klen);
		l->after_len = klen;
	}
	sd_store_req_free(req);
	listing_went_on(r, l, more);
}

/* The summaries of the keys the last key scan found (op i: key i). */
static void summaries_read(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	struct listing *l = sd_request_state(r);
	const uint8_t *v;
	size_t vlen;
	bool more = l->page_more;
	int st = sd_store_req_status(req);

	for (size_t i = 0; st == 0 && i < l->n_keys; i++) {
		if (l->n >= SD_CASES_PAGE_MAX) {
			more = true;
			break;
		}
		if (sd_store_req_value(req, i, &v, &vlen) == 0)
			listing_take(r, l, v, vlen);
		else
			sd_log(SD_LOG_WARN, "case %.*s is indexed but has no summary", (int)SD_CASE_NUMBER_LEN,
			       (const char *)l->keys[i] + l->key_off);
		memcpy(l->after, l->keys[i], l->key_off + SD_CASE_NUMBER_LEN);
		l->after_len = l->key_off + SD_CASE_NUMBER_LEN;
	}
	sd_store_req_free(req);
	if (st < 0)
		upload_reply_store_error(r, st);
	else
		listing_went_on(r, l, more);
}

static uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A batch of keys (account_cases, case_by_state, case_by_due), then one GET of each
 * case's summary. case_by_due ends at the last date that can match. */
static void keys_scanned(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	struct listing *l = sd_request_state(r);
	sd_store_req_t *next = sd_store_req_new();
	const uint8_t *k, *v;
	size_t klen, vlen, n = sd_store_req_scan_count(req, 0, &l->page_more);
	int st = sd_store_req_status(req);

	l->n_keys = 0;
	for (size_t i = 0; st == 0 && next != NULL && i < n && l->n_keys < LIST_SCAN_BATCH; i++) {
		if (sd_store_req_scan_entry(req, 0, i, &k, &klen, &v, &vlen) < 0 ||
		    klen != l->key_off + SD_CASE_NUMBER_LEN)
			continue;
		if (l->path == LIST_DUE && load_be32(k) > l->due_last) {
			l->page_more = false;
			break;
		}
		memcpy(l->keys[l->n_keys++], k, klen);
		sd_store_req_get(next, SD_STORE_DB_CASE_SUMMARIES, k + l->key_off, SD_CASE_NUMBER_LEN);
	}
	sd_store_req_free(req);
	if (st < 0 || next == NULL) {
		sd_store_req_free(next);
		upload_reply_store_error(r, st < 0 ? st : SD_ERR_NOMEM);
	} else if (l->n_keys == 0) {
		sd_store_req_free(next);
		listing_reply(r, l, false);
	} else {
		(void)upload_submit(r, next, summaries_read, r);
	}
}

static void listing_next(sd_request_t *r, struct listing *l)
{
	static const sd_store_db_t key_dbs[] = {
	        [LIST_ATTORNEY] = SD_STORE_DB_ACCOUNT_CASES,
	        [LIST_STATE] = SD_STORE_DB_CASE_BY_STATE,
	        [LIST_DUE] = SD_STORE_DB_CASE_BY_DUE,
	};
	sd_store_req_t *req = sd_store_req_new();
	const uint8_t *after = l->after_len ? l->after : NULL;

	if (req != NULL && l->path == LIST_ALL)
		sd_store_req_scan(req, SD_STORE_DB_CASE_SUMMARIES, NULL, 0, after, l->after_len, LIST_SCAN_BATCH);
	else if (req != NULL)
		sd_store_req_scan_keys(req, key_dbs[l->path], l->prefix, l->prefix_len, after, l->after_len,
		                       LIST_SCAN_BATCH);
	(void)upload_submit(r, req, l->path == LIST_ALL ? all_scanned : keys_scanned, r);
}

/* ?after= on the deadline index: the case's own entry, from its summary. A case whose
 * deadline ended since the last page has no entry: the listing starts over (a case may
 * then be listed twice; none is left out). */
static void after_found(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	struct listing *l = sd_request_state(r);
	const uint8_t *v;
	size_t vlen;
	sd_case_sum_t sum;
	int st = sd_store_req_status(req);

	l->after_len = 0;
	if (st == 0 && sd_store_req_value(req, 0, &v, &vlen) == 0 && sd_case_sum_decode(v, vlen, &sum) == 0 &&
	    sd_case_due_key(&sum.flow, sum.case_number, l->after))
		l->after_len = SD_CASE_DUE_KEY_BYTES;
	sd_store_req_free(req);
	if (st < 0)
		upload_reply_store_error(r, st);
	else
		listing_next(r, l);
}

/* The path, its prefix and the last date a deadline key may have. */
static void listing_path(sd_request_t *r, struct listing *l)
{
	sd_date_t today = sd_server_today(sd_request_server(r));
	int64_t last = INT64_MAX;

	if (!l->officer) {
		l->path = LIST_ATTORNEY;
		memcpy(l->prefix, l->attorney, SD_CA_FINGERPRINT_BYTES);
		l->prefix_len = l->key_off = SD_CA_FINGERPRINT_BYTES;
	} else if (l->has_state) {
		l->path = LIST_STATE;
		l->prefix[0] = (uint8_t)l->state;
		l->prefix_len = l->key_off = 1;
	} else if (l->overdue || l->has_due_within) {
		l->path = LIST_DUE;
		l->key_off = 4;
		if (l->overdue) /* the Commission's deadline before today */
			last = sd_date_to_days(today) - 1;
		if (l->has_due_within && sd_date_to_days(today) + (int64_t)l->due_within < last)
			last = sd_date_to_days(today) + (int64_t)l->due_within;
		l->due_last = sd_date_to_u32(sd_date_from_days(last));
	}
}

/* ?state=&overdue=1&due_within=&after= into l; <0 after answering 400. */
/* after: the ?after= case when it must be looked up first (LIST_DUE), else "". */
static int listing_query(sd_request_t *r, struct listing *l, char after[SD_CASE_NUMBER_BYTES])
{
	static const char *const names[] = {"state", "overdue", "due_within", "after", NULL};
	const char *form = "the query takes state=S, overdue=1, due_within=DAYS and after=YYYY-NNNNNN";
	sd_query_t q;

	if (sd_query_parse(sd_request_query(r), names, &q) < 0 ||
	    (q.present[0] && !sd_case_state_from_name(q.value[0], &l->state)) ||
	    (q.present[1] && strcmp(q.value[1], "1") != 0) ||
	    (q.present[2] && sd_query_u64(&q, 2, DUE_WITHIN_MAX, &l->due_within) < 0) ||
	    (q.present[3] && !sd_case_number_is_valid(q.value[3]))) {
		sd_request_reply_error(r, 400, "bad_request", "%s", form);
		return SD_ERR_FORMAT;
	}
	l->has_state = q.present[0];
	l->overdue = q.present[1];
	l->has_due_within = q.present[2];
	listing_path(r, l);
	after[0] = '\0';
	if (q.present[3] && l->path == LIST_DUE) {
		memcpy(after, q.value[3], SD_CASE_NUMBER_LEN); /* valid: exactly that long */
		after[SD_CASE_NUMBER_LEN] = '\0';
	} else if (q.present[3]) {
		memcpy(l->after, l->prefix, l->prefix_len);
		memcpy(l->after + l->key_off, q.value[3], SD_CASE_NUMBER_LEN);
		l->after_len = l->key_off + SD_CASE_NUMBER_LEN;
	}
	return 0;
}

void sd_route_case_list(sd_request_t *r)
{
	const sd_principal_t *p = sd_request_principal(r);
	struct listing *l = calloc(1, sizeof(*l));
	char after[SD_CASE_NUMBER_BYTES];
	sd_store_req_t *req;

	if (l == NULL) {
		upload_reply_store_error(r, SD_ERR_NOMEM);
		return;
	}
	sd_request_set_state(r, l, listing_free);
	page_add(l, "{\"cases\":[", 10);
	l->officer = sd_principal_is_officer(p);
	memcpy(l->attorney, p->fingerprint, SD_CA_FINGERPRINT_BYTES);
	if (listing_query(r, l, after) < 0)
		return;
	if (after[0] == '\0') {
		listing_next(r, l);
		return;
	}
	if ((req = sd_store_req_new()) != NULL)
		sd_store_req_get(req, SD_STORE_DB_CASE_SUMMARIES, (const uint8_t *)after, SD_CASE_NUMBER_LEN);
	(void)upload_submit(r, req, after_found, r);
}

/* --- One case ----------------------------------------------------------------------------- */

/* No record: 410 for an officer when op 1 found the case's tombstone (destroyed under the
 * retention period: server/retention.c), else 404 (an attorney learns nothing of cases
 * that are not theirs, or no longer anyone's). */
static void case_missing(sd_request_t *r, const sd_store_req_t *req)
{
	const char *cn = sd_request_param(r, 0);
	char on[SD_DATE_TEXT_BYTES];
	sd_retention_tomb_t tomb;
	const uint8_t *v;
	size_t len;

	if (!sd_principal_is_officer(sd_request_principal(r)) || sd_store_req_value(req, 1, &v, &len) < 0 ||
	    sd_retention_tomb_decode(v, len, &tomb) < 0) {
		sd_request_reply_error(r, 404, "not_found", "there is no case %s", cn);
		return;
	}
	sd_date_format(tomb.destroyed, on);
	sd_request_reply_json(r, 410,
	                      json_pack("{s:s, s:s+++, s:s}", "error", "case_destroyed", "message", "case ", cn,
	                                " was closed and destroyed under the retention period on ", on, "destroyed",
	                                on));
}

static void case_read(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	sd_server_t *s = sd_request_server(r);
	const sd_principal_t *p = sd_request_principal(r);
	const uint8_t *v;
	size_t len;
	sd_case_rec_t *rec;
	int st = sd_store_req_status(req);

	if (st < 0) {
		upload_reply_store_error(r, st);
	} else if (sd_store_req_value(req, 0, &v, &len) < 0) {
		case_missing(r, req);
	} else if ((rec = decode_case(r, v, len)) != NULL) {
		if (!sd_principal_is_officer(p) && !sd_equal(rec->attorney, p->fingerprint, SD_CA_FINGERPRINT_BYTES))
			sd_request_reply_error(r, 404, "not_found", "there is no case %s", sd_request_param(r, 0));
		else
			sd_request_reply_json(r, 200,
			                      sd_case_detail_json(rec, sd_notices_attorney_key(s, rec),
			                                          sd_server_today(s), sd_server_config(s)));
		free(rec);
	}
	sd_store_req_free(req);
}

const char *sd_route_case_number(sd_request_t *r)
{
	const char *cn = sd_request_param(r, 0);

	if (!sd_case_number_is_valid(cn)) {
		sd_request_reply_error(r, 404, "not_found", "a case number is YYYY-NNNNNN");
		return NULL;
	}
	return cn;
}

void sd_route_case_get(sd_request_t *r)
{
	const char *cn = sd_route_case_number(r);
	uint8_t tkey[SD_RETENTION_TOMB_KEY_BYTES];
	sd_store_req_t *req;

	if (cn == NULL)
		return;
	sd_retention_tomb_key(cn, tkey);
	if ((req = sd_store_req_new()) != NULL) {
		sd_store_req_get(req, SD_STORE_DB_CASES, (const uint8_t *)cn, strlen(cn));
		sd_store_req_get(req, SD_STORE_DB_META, tkey, sizeof(tkey)); /* op 1: its tombstone */
	}
	(void)upload_submit(r, req, case_read, r);
}

/* --- Transitions ------------------------------------------------------------------------ */

struct transition {
	sd_case_step_t step;
	sd_case_step_reply_fn reply; /* the whistleblower's answer, or NULL: the officer's detail */
	uint8_t *text;               /* sealed, or NULL */
	size_t text_len;
	uint8_t *old; /* the record as read */
	size_t old_len;
	sd_case_flow_t before; /* the stored record's: its index entries go */
	sd_case_rec_t *rec;
};

static void transition_free(void *p)
{
	struct transition *t = p;

	if (t == NULL)
		return;
	free(t->text);
	free(t->old);
	free(t->rec);
	free(t);
}

/* The body into t->step; <0 after answering. */
static int transition_body(sd_request_t *r, struct transition *t)
{
	size_t len = 0;
	const uint8_t *body = sd_request_body(r, &len);
	int err = sd_casebody_step(body, len, sd_server_directory(sd_request_server(r)), &t->step, &t->text,
	                           &t->text_len);

	if (err == SD_ERR_NOENT)
		sd_request_reply_error(r, 422, "unknown_agency", "%s", sd_error_detail());
	else if (err == SD_ERR_NOMEM)
		upload_reply_store_error(r, err);
	else if (err < 0)
		sd_request_reply_error(r, 400, "bad_request", "%s", sd_error_detail());
	return err;
}

/* "refer:inspection:police", "terminate:no-evidence", "extend": the leaf's detail. */
static void step_detail(const sd_case_step_t *st, char out[SD_AUDIT_DETAIL_MAX + 1])
{
	const char *name = sd_case_action_name(st->action);

	if (st->action == SD_ACTION_REFER)
		snprintf(out, SD_AUDIT_DETAIL_MAX + 1, "%s:%s:%s", name, sd_refer_kind_name(st->kind), st->agency);
	else if (st->action == SD_ACTION_FORWARD)
		snprintf(out, SD_AUDIT_DETAIL_MAX + 1, "%s:%s", name, st->agency);
	else if (st->action == SD_ACTION_TERMINATE)
		snprintf(out, SD_AUDIT_DETAIL_MAX + 1, "%s:%s", name, sd_terminate_reason_name(st->reason));
	else
		snprintf(out, SD_AUDIT_DETAIL_MAX + 1, "%s", name);
}

static void transition_done(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	sd_server_t *s = sd_request_server(r);
	struct transition *t = sd_request_state(r);
	int st = sd_store_req_status(req);
	long op = sd_store_req_failed_op(req);

	sd_store_req_free(req);
	if (st == 0 && t->reply != NULL)
		t->reply(r, t->rec);
	else if (st == 0)
		sd_request_reply_json(r, 200,
		                      sd_case_detail_json(t->rec, sd_notices_attorney_key(s, t->rec),
		                                          sd_server_today(s), sd_server_config(s)));
	else if (op == 0 && (st == SD_ERR_REFUSED || st == SD_ERR_NOENT))
		sd_request_reply_error(r, 409, "conflict", "the case changed meanwhile; retry");
	else
		upload_reply_store_error(r, st);
}

/* The step's notice, after its leaf: 0 also when the case has none to send (filed before
 * notices existed: a warning, not a failure). Moves the record's counter on. */
static int transition_notice(sd_request_t *r, struct transition *t, sd_store_req_t *req)
{
	int op = sd_notices_req_step(sd_request_server(r), req, t->rec, &t->step);

	if (op == SD_ERR_NOENT) { /* no notice key, or a step that sends none */
		if (!t->rec->has_notice_key)
			sd_log(SD_LOG_WARN,
			       "case %s has no notice key (filed before notices existed): its %s step "
			       "sends no notice",
			       t->rec->case_number, sd_case_action_name(t->step.action));
		return 0;
	}
	return op < 0 ? op : 0;
}

/* The write: the record (if unchanged since read), the text, the leaf, the notice and
 * its leaf, and the record with its counter of notices moved on. */
static void transition_write(sd_request_t *r, struct transition *t, uint32_t index)
{
	const char *cn = t->rec->case_number;
	const sd_principal_t *p = sd_request_principal(r);
	sd_store_req_t *req = sd_store_req_new();
	uint8_t key[SD_CASE_TEXT_KEY_BYTES], *bytes = NULL;
	size_t len = 0;
	sd_audit_event_t ev;

	if (req == NULL) {
		upload_reply_store_error(r, SD_ERR_NOMEM);
		return;
	}
	/* Op 0: what transition_done reads a conflict from. */
	sd_store_req_check_equal(req, SD_STORE_DB_CASES, (const uint8_t *)cn, strlen(cn), t->old, t->old_len);
	if (t->text != NULL) {
		sd_case_text_key(cn, index, key);
		sd_store_req_put(req, SD_STORE_DB_CASE_TEXTS, key, sizeof(key), t->text, t->text_len, 0);
	}
	sd_audit_event_init(&ev, SD_AUDIT_TRANSITION, t->step.date, p);
	if (t->step.action == SD_ACTION_OBJECT) { /* the whistleblower: no account, no actor */
		snprintf(ev.role, sizeof(ev.role), "%s", "whistleblower");
		ev.has_actor = false;
	}
	snprintf(ev.case_number, sizeof(ev.case_number), "%s", cn);
	step_detail(&t->step, ev.detail);
	if (sd_audit_add(req, &ev) < 0 || transition_notice(r, t, req) < 0 ||
	    sd_case_rec_encode(t->rec, &bytes, &len) < 0 || sd_case_index_req(req, &t->before, t->rec) < 0) {
		sd_log(SD_LOG_ERROR, "a transition cannot be prepared: %s", sd_error_detail());
		free(bytes);
		sd_store_req_free(req);
		upload_reply_store_error(r, SD_ERR_INTERNAL);
		return;
	}
	sd_store_req_put(req, SD_STORE_DB_CASES, (const uint8_t *)cn, strlen(cn), bytes, len, 0);
	free(bytes);
	(void)upload_submit(r, req, transition_done, r);
}

/* Names the legal actions for the 409. */
static json_t *legal_json(unsigned legal)
{
	json_t *a = json_array();

	for (int i = 1; i <= SD_CASE_ACTION_COUNT; i++)
		if ((legal & (1u << i)) && sd_case_action_is_officers((sd_case_action_t)i))
			json_array_append_new(a, json_string(sd_case_action_name((sd_case_action_t)i)));
	return a;
}

/* 409 with the workflow's reason, naming the case ("case 2026-000001 is referred: ..."). */
static void reply_illegal(sd_request_t *r, const char *case_number, json_t *legal)
{
	const char *why = sd_error_detail();
	char msg[512];

	if (strncmp(why, "case is ", 8) == 0)
		snprintf(msg, sizeof(msg), "case %s %s", case_number, why + 5);
	else
		snprintf(msg, sizeof(msg), "case %s: %s", case_number, why);
	sd_request_reply_json(
	        r, 409, json_pack("{s:s, s:s, s:o}", "error", "illegal_transition", "message", msg, "legal", legal));
}

static void transition_read(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	sd_server_t *s = sd_request_server(r);
	struct transition *t = sd_request_state(r);
	const uint8_t *v;
	size_t len;
	sd_case_flow_t before;
	int st = sd_store_req_status(req);

	if (st < 0 || sd_store_req_value(req, 0, &v, &len) < 0) {
		if (st < 0)
			upload_reply_store_error(r, st);
		else
			sd_request_reply_error(r, 404, "not_found", "there is no case %s", sd_request_param(r, 0));
		sd_store_req_free(req);
		return;
	}
	if ((t->old = malloc(len)) == NULL || (t->rec = decode_case(r, v, len)) == NULL) {
		if (t->old == NULL)
			upload_reply_store_error(r, SD_ERR_NOMEM);
		sd_store_req_free(req);
		return;
	}
	memcpy(t->old, v, len);
	t->old_len = len;
	sd_store_req_free(req);
	before = t->rec->flow;
	t->before = before;
	if (sd_case_flow_apply(&t->rec->flow, &t->step, t->step.date, sd_server_config(s)) < 0) {
		if (t->reply != NULL && before.state == SD_CASE_OUTCOME_NOTIFIED)
			sd_request_reply_error(r, 409, "objection_closed", "case %s: %s", t->rec->case_number,
			                       sd_error_detail());
		else if (t->reply != NULL)
			sd_request_reply_error(r, 409, "illegal_transition",
			                       "case %s is %s: an objection is filed only after a result notice",
			                       t->rec->case_number, sd_case_state_name(before.state));
		else
			reply_illegal(r, t->rec->case_number,
			              legal_json(sd_case_flow_legal(&before, t->step.date, sd_server_config(s))));
		return;
	}
	t->rec->steps[before.n_steps] = t->step;
	transition_write(r, t, (uint32_t)before.n_steps);
}

/* Reads case cn, then as transition_read. */
static void transition_start(sd_request_t *r, const char *cn)
{
	sd_store_req_t *req = sd_store_req_new();

	if (req != NULL)
		sd_store_req_get(req, SD_STORE_DB_CASES, (const uint8_t *)cn, strlen(cn));
	(void)upload_submit(r, req, transition_read, r);
}

void sd_case_step_start(sd_request_t *r, const char *cn, const sd_case_step_t *step, uint8_t *text, size_t text_len,
                        sd_case_step_reply_fn reply)
{
	struct transition *t = calloc(1, sizeof(*t));

	if (t == NULL) {
		free(text);
		upload_reply_store_error(r, SD_ERR_NOMEM);
		return;
	}
	sd_request_set_state(r, t, transition_free);
	t->step = *step;
	t->text = text;
	t->text_len = text_len;
	t->reply = reply;
	transition_start(r, cn);
}

void sd_route_case_transition(sd_request_t *r)
{
	const sd_principal_t *p = sd_request_principal(r);
	const char *cn = sd_route_case_number(r);
	struct transition *t;

	if (cn == NULL)
		return;
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		upload_reply_store_error(r, SD_ERR_NOMEM);
		return;
	}
	sd_request_set_state(r, t, transition_free);
	t->step.date = sd_server_today(sd_request_server(r));
	memcpy(t->step.actor, p->fingerprint, sizeof(t->step.actor));
	if (transition_body(r, t) < 0)
		return;
	transition_start(r, cn);
}
