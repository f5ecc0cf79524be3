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

/* --- Listing --------------------------------------------------------------------------- */

struct listing {
	bool officer;
	uint8_t attorney[SD_CA_FINGERPRINT_BYTES];
	bool has_state, overdue, has_due_within;
	sd_case_state_t state;
	uint64_t due_within;
	uint8_t after[SD_CA_FINGERPRINT_BYTES + SD_CASE_NUMBER_BYTES]; /* the next scan's `after` */
	size_t after_len;
	size_t page_keys; /* attorneys: keys of the last scan, GET in that order */
	bool page_more;
	unsigned scans;
	json_t *list;
	size_t n;
	sd_case_rec_t rec; /* one decoded at a time */
};

static void listing_free(void *p)
{
	struct listing *l = p;

	if (l != NULL)
		json_decref(l->list);
	free(l);
}

static bool listing_wants(const struct listing *l, sd_date_t today, const sd_config_t *cal)
{
	sd_deadline_t d;

	if (l->has_state && l->rec.flow.state != l->state)
		return false;
	if (l->overdue && !sd_case_flow_overdue(&l->rec.flow, today, cal))
		return false;
	if (l->has_due_within) {
		d = sd_case_flow_deadline(&l->rec.flow, cal);
		if (d.kind == SD_DEADLINE_NONE ||
		    sd_date_to_days(d.due) - sd_date_to_days(today) > (int64_t)l->due_within)
			return false;
	}
	return true;
}

static void listing_next(sd_request_t *r, struct listing *l);

/* One value of a scan (officers) or a GET (attorneys): filtered into the page. */
static void listing_take(sd_request_t *r, struct listing *l, const uint8_t *v, size_t len)
{
	sd_server_t *s = sd_request_server(r);
	const sd_config_t *cal = sd_server_config(s);
	sd_date_t today = sd_server_today(s);

	if (sd_case_rec_decode(v, len, cal, &l->rec) < 0) {
		sd_log(SD_LOG_ERROR, "a stored case record does not decode: %s", sd_error_detail());
		return;
	}
	if (listing_wants(l, today, cal) && l->n < SD_CASES_PAGE_MAX) {
		json_array_append_new(l->list, sd_case_summary_json(&l->rec, today, cal));
		l->n++;
	}
}

/* The page; with more, "after": the last case looked at, where the next page starts (a
 * filter may have looked at many cases and kept none of them). */
static void listing_reply(sd_request_t *r, struct listing *l, bool more)
{
	json_t *list = l->list, *o;
	size_t off = l->officer ? 0 : SD_CA_FINGERPRINT_BYTES;

	l->list = NULL;
	o = json_pack("{s:o, s:b}", "cases", list, "more", more);
	if (o != NULL && more && l->after_len == off + SD_CASE_NUMBER_BYTES - 1)
		json_object_set_new(o, "after", json_stringn((const char *)l->after + off, SD_CASE_NUMBER_BYTES - 1));
	sd_request_reply_json(r, 200, o);
}

/* Officers: a page of records scanned from "cases". */
static void officer_scanned(sd_store_req_t *req, void *ctx)
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
	for (size_t i = 0; i < n && l->n < SD_CASES_PAGE_MAX; i++) {
		if (sd_store_req_scan_entry(req, 0, i, &k, &klen, &v, &vlen) < 0 || klen >= sizeof(l->after))
			continue;
		listing_take(r, l, v, vlen);
		memcpy(l->after, k, klen);
		l->after_len = klen;
		more = more || i + 1 < n;
	}
	sd_store_req_free(req);
	if (!more || l->n >= SD_CASES_PAGE_MAX || ++l->scans >= LIST_SCANS_MAX)
		listing_reply(r, l, more);
	else
		listing_next(r, l);
}

/* Attorneys: the records of the case numbers their last key scan found (op i: key i). */
static void attorney_read(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	struct listing *l = sd_request_state(r);
	const uint8_t *v;
	size_t vlen;
	int st = sd_store_req_status(req);

	for (size_t i = 0; st == 0 && i < l->page_keys; i++)
		if (sd_store_req_value(req, i, &v, &vlen) == 0)
			listing_take(r, l, v, vlen);
	sd_store_req_free(req);
	if (st < 0)
		upload_reply_store_error(r, st);
	else if (!l->page_more || l->n >= SD_CASES_PAGE_MAX || ++l->scans >= LIST_SCANS_MAX)
		listing_reply(r, l, l->page_more);
	else
		listing_next(r, l);
}

/* Attorneys: their case numbers (account_cases: fingerprint || case number), then one
 * GET each. */
static void attorney_keys(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	struct listing *l = sd_request_state(r);
	sd_store_req_t *next = sd_store_req_new();
	const uint8_t *k, *v;
	size_t klen, vlen, n = sd_store_req_scan_count(req, 0, &l->page_more);
	int st = sd_store_req_status(req);

	l->page_keys = 0;
	for (size_t i = 0; st == 0 && next != NULL && i < n; i++) {
		if (sd_store_req_scan_entry(req, 0, i, &k, &klen, &v, &vlen) < 0 || klen <= SD_CA_FINGERPRINT_BYTES ||
		    klen >= sizeof(l->after))
			continue;
		memcpy(l->after, k, klen);
		l->after_len = klen;
		sd_store_req_get(next, SD_STORE_DB_CASES, k + SD_CA_FINGERPRINT_BYTES, klen - SD_CA_FINGERPRINT_BYTES);
		l->page_keys++;
	}
	sd_store_req_free(req);
	if (st < 0 || next == NULL) {
		sd_store_req_free(next);
		upload_reply_store_error(r, st < 0 ? st : SD_ERR_NOMEM);
		return;
	}
	if (l->page_keys == 0) {
		sd_store_req_free(next);
		listing_reply(r, l, false);
		return;
	}
	(void)upload_submit(r, next, attorney_read, r);
}

static void listing_next(sd_request_t *r, struct listing *l)
{
	sd_store_req_t *req = sd_store_req_new();

	if (req != NULL && l->officer)
		sd_store_req_scan(req, SD_STORE_DB_CASES, NULL, 0, l->after_len ? l->after : NULL, l->after_len,
		                  LIST_SCAN_BATCH);
	else if (req != NULL)
		sd_store_req_scan_keys(req, SD_STORE_DB_ACCOUNT_CASES, l->attorney, SD_CA_FINGERPRINT_BYTES,
		                       l->after_len ? l->after : NULL, l->after_len, LIST_SCAN_BATCH);
	(void)upload_submit(r, req, l->officer ? officer_scanned : attorney_keys, r);
}

/* ?state=&overdue=1&due_within=&after= into l; <0 after answering 400. */
static int listing_query(sd_request_t *r, struct listing *l)
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
	if (q.present[3]) {
		size_t off = l->officer ? 0 : SD_CA_FINGERPRINT_BYTES;
		if (!l->officer)
			memcpy(l->after, l->attorney, SD_CA_FINGERPRINT_BYTES);
		memcpy(l->after + off, q.value[3], SD_CASE_NUMBER_BYTES - 1);
		l->after_len = off + SD_CASE_NUMBER_BYTES - 1;
	}
	return 0;
}

void sd_route_case_list(sd_request_t *r)
{
	const sd_principal_t *p = sd_request_principal(r);
	struct listing *l = calloc(1, sizeof(*l));

	if (l == NULL || (l->list = json_array()) == NULL) {
		free(l);
		upload_reply_store_error(r, SD_ERR_NOMEM);
		return;
	}
	sd_request_set_state(r, l, listing_free);
	l->officer = sd_principal_is_officer(p);
	memcpy(l->attorney, p->fingerprint, SD_CA_FINGERPRINT_BYTES);
	if (listing_query(r, l) < 0)
		return;
	listing_next(r, l);
}

/* --- One case ----------------------------------------------------------------------------- */

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
		sd_request_reply_error(r, 404, "not_found", "there is no case %s", sd_request_param(r, 0));
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
	sd_store_req_t *req;

	if (cn == NULL)
		return;
	if ((req = sd_store_req_new()) != NULL)
		sd_store_req_get(req, SD_STORE_DB_CASES, (const uint8_t *)cn, strlen(cn));
	(void)upload_submit(r, req, case_read, r);
}

/* --- Transitions ------------------------------------------------------------------------ */

struct transition {
	sd_case_step_t step;
	uint8_t *text; /* sealed, or NULL */
	size_t text_len;
	uint8_t *old; /* the record as read */
	size_t old_len;
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
	if (st == 0)
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
	snprintf(ev.case_number, sizeof(ev.case_number), "%s", cn);
	step_detail(&t->step, ev.detail);
	if (sd_audit_add(req, &ev) < 0 || transition_notice(r, t, req) < 0 ||
	    sd_case_rec_encode(t->rec, &bytes, &len) < 0) {
		sd_log(SD_LOG_ERROR, "a transition cannot be prepared: %s", sd_error_detail());
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
	if (sd_case_flow_apply(&t->rec->flow, &t->step, t->step.date, sd_server_config(s)) < 0) {
		reply_illegal(r, t->rec->case_number,
		              legal_json(sd_case_flow_legal(&before, t->step.date, sd_server_config(s))));
		return;
	}
	t->rec->steps[before.n_steps] = t->step;
	transition_write(r, t, (uint32_t)before.n_steps);
}

void sd_route_case_transition(sd_request_t *r)
{
	const sd_principal_t *p = sd_request_principal(r);
	const char *cn = sd_route_case_number(r);
	struct transition *t;
	sd_store_req_t *req;

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
	if ((req = sd_store_req_new()) != NULL)
		sd_store_req_get(req, SD_STORE_DB_CASES, (const uint8_t *)cn, strlen(cn));
	(void)upload_submit(r, req, transition_read, r);
}
