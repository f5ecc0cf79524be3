/*
 * whistle.c — the whistleblower's routes (include/sealdrop/whistle.h; docs/API.md, "The
 * whistleblower's channel"):
 *
 *   GET  /v1/wb/challenge   a stateless challenge (server/wbgate.c) and the work asked
 *   POST /v1/wb/status      the codename's cases, each with its notices and their leaves
 *   POST /v1/wb/objection   an objection, sealed to the intake key by the client
 *
 * An answer goes through the gate first (its proof of work, its challenge, the global
 * rate: server/wbgate.c), then the cases filed under the codename are found by the hash
 * of the locator it presents ("case_by_locator") and the session is checked against the
 * locator hash and consent key the filing recorded (crypto/session.c). Nothing about the
 * request is logged or kept: no address, no time, not even that a case was looked at.
 * Start at wb_answer().
 */
#include <stdlib.h>
#include <string.h>

#include "sealdrop/auditlog.h"
#include "sealdrop/bytes.h"
#include "sealdrop/casebody.h"
#include "sealdrop/caserec.h"
#include "sealdrop/casework.h"
#include "sealdrop/consents.h"
#include "sealdrop/json.h"
#include "sealdrop/notices.h"
#include "sealdrop/retention.h"
#include "sealdrop/sealdrop.h"
#include "sealdrop/wbgate.h"
#include "sealdrop/whistle.h"
#include "upload_int.h"

#define OPS_PER_CASE 5 /* the status's read: the record, its notices, its leaves' keys, its consents, its tombstone */

struct wb {
	sd_wb_body_t body;
	bool objection;
	uint8_t locator_hash[SD_HASH_BYTES];
	size_t n; /* cases found */
	char cases[SD_WB_CASES_MAX][SD_CASE_NUMBER_BYTES];
	sd_case_rec_t *recs; /* n */
	sd_notice_list_t lists[SD_WB_CASES_MAX];
	json_t *consents[SD_WB_CASES_MAX];  /* each case's, as the status lists them */
	json_t *events[SD_WB_CASES_MAX];    /* each case's leaves below the published head */
	json_t *headers[SD_WB_CASES_MAX];   /* each case's package header, base64 */
	size_t first_leaf[SD_WB_CASES_MAX]; /* each list's first op in the leaves' request */
	bool is_destroyed[SD_WB_CASES_MAX]; /* destroyed under retention: only its tombstone is left */
	sd_date_t destroyed[SD_WB_CASES_MAX];
};

static void wb_free(void *p)
{
	struct wb *w = p;

	if (w == NULL)
		return;
	free(w->body.text);
	free(w->recs);
	for (size_t i = 0; i < SD_WB_CASES_MAX; i++) {
		sd_notice_list_clear(&w->lists[i]);
		json_decref(w->consents[i]);
		json_decref(w->events[i]);
		json_decref(w->headers[i]);
	}
	sd_wipe(w, sizeof(*w)); /* the locator */
	free(w);
}

/* A whistleblower's answer. Every answer under /v1/wb/, errors included, leaves padded
 * to a size bucket (SD_WB_PAD_MIN, doubling; server/conn.c, pad_plan), so its length
 * tells neither the case's state nor how many notices it has (issue 7, "Traffic
 * analysis"). */
static void wb_reply_padded(sd_request_t *r, json_t *doc)
{
	if (doc == NULL)
		upload_reply_store_error(r, SD_ERR_NOMEM);
	else
		sd_request_reply_json(r, 200, doc);
}

/* --- GET /v1/wb/challenge ------------------------------------------------------------- */

void sd_route_wb_challenge(sd_request_t *r)
{
	sd_wbgate_t *g = sd_server_wbgate(sd_request_server(r));
	uint8_t c[SD_SESSION_NONCE_BYTES];
	char b64[SD_SESSION_NONCE_BYTES * 2];

	sd_wbgate_challenge(g, sd_server_monotonic_ms(), c);
	sd_base64_encode(c, sizeof(c), b64);
	sd_request_reply_json(r, 200,
	                      json_pack("{s:s, s:i, s:i}", "challenge", b64, "bits", (int)sd_wbgate_bits(g),
	                                "expires_in", SD_WBGATE_CHALLENGE_TTL));
}

/* --- Answers ----------------------------------------------------------------------------- */

static void session_refused(sd_request_t *r, const char *why)
{
	sd_request_reply_error(r, 403, "session_refused", "%s", why);
}

/* Case i has no record: its tombstone (op op), when it was destroyed under retention
 * (server/retention.c), stands in for it with what the session needs. */
static bool tomb_take(struct wb *w, size_t i, const sd_store_req_t *req, size_t op)
{
	sd_case_rec_t *rec = &w->recs[i];
	sd_retention_tomb_t t;
	const uint8_t *v;
	size_t len;

	if (sd_store_req_value(req, op, &v, &len) < 0 || sd_retention_tomb_decode(v, len, &t) < 0 || !t.has_consent_key)
		return false;
	snprintf(rec->case_number, sizeof(rec->case_number), "%s", w->cases[i]);
	rec->has_session = true;
	memcpy(rec->locator_hash, w->locator_hash, sizeof(rec->locator_hash));
	memcpy(rec->consent_key, t.consent_key, sizeof(rec->consent_key));
	w->is_destroyed[i] = true;
	w->destroyed[i] = t.destroyed;
	return true;
}

/* The records of the cases found: ops 0, OPS_PER_CASE, ... (status) or 0, 1, ... (an
 * objection); their tombstones ops tomb, tomb + tomb_stride, ... NULL after answering. */
static bool decode_records(sd_request_t *r, struct wb *w, const sd_store_req_t *req, size_t stride, size_t tomb,
                           size_t tomb_stride)
{
	const sd_config_t *cal = sd_server_config(sd_request_server(r));
	const uint8_t *v;
	size_t len;

	if ((w->recs = calloc(w->n, sizeof(*w->recs))) == NULL) {
		upload_reply_store_error(r, SD_ERR_NOMEM);
		return false;
	}
	for (size_t i = 0; i < w->n; i++)
		if (sd_store_req_value(req, i * stride, &v, &len) < 0
		            ? !tomb_take(w, i, req, tomb + i * tomb_stride)
		            : sd_case_rec_decode(v, len, cal, &w->recs[i]) < 0 || !w->recs[i].has_session) {
			sd_log(SD_LOG_ERROR, "a case found by its locator cannot be read");
			sd_request_reply_error(r, 500, "internal", "a case could not be read");
			return false;
		}
	return true;
}

/* The session against what the filing recorded: one codename's cases share the locator
 * and the consent key, so the first case decides for all. */
static bool session_holds(sd_request_t *r, struct wb *w)
{
	const sd_session_proof_t *p = &w->body.session;
	unsigned bits = sd_wbgate_bits(sd_server_wbgate(sd_request_server(r)));

	for (size_t i = 1; i < w->n; i++)
		if (!sd_equal(w->recs[i].consent_key, w->recs[0].consent_key, sizeof(w->recs[0].consent_key))) {
			sd_log(SD_LOG_ERROR, "cases share a locator but not a consent key");
			sd_request_reply_error(r, 500, "internal", "the codename's cases disagree");
			return false;
		}
	if (sd_session_verify(p, p->server_nonce, bits, w->recs[0].locator_hash, w->recs[0].consent_key) < 0) {
		session_refused(r, sd_error_detail());
		return false;
	}
	return true;
}

/* --- POST /v1/wb/status ------------------------------------------------------------------ */

/* A case destroyed under the retention period: its number, the state "destroyed" and the
 * date; the rest of its listing (notices, consents, its leaves) follows as for any case. */
static json_t *destroyed_json(const char *cn, sd_date_t on)
{
	char date[SD_DATE_TEXT_BYTES];

	sd_date_format(on, date);
	return json_pack("{s:s, s:s, s:s, s:s+}", "case", cn, "state", "destroyed", "destroyed", date, "message",
	                 "the case was closed and its records were destroyed at the end of the retention period, on ",
	                 date);
}

static void status_reply(sd_request_t *r, struct wb *w)
{
	sd_server_t *s = sd_request_server(r);
	size_t len = 0;
	const char *head = sd_auditlog_head_json(sd_server_auditlog(s), &len);
	json_t *cases = json_array(), *doc;

	for (size_t i = 0; cases != NULL && i < w->n; i++) {
		json_t *c = w->is_destroyed[i]
		                    ? destroyed_json(w->cases[i], w->destroyed[i])
		                    : sd_case_whistleblower_json(&w->recs[i], sd_server_today(s), sd_server_config(s));

		if (c == NULL || json_object_set(c, "notices", w->lists[i].list) < 0 ||
		    json_object_set_new(c, "consents",
		                        w->consents[i] != NULL ? json_incref(w->consents[i]) : json_array()) < 0 ||
		    json_object_set_new(c, "events", w->events[i] != NULL ? json_incref(w->events[i]) : json_array()) <
		            0 ||
		    json_object_set_new(c, "header", w->headers[i] != NULL ? json_incref(w->headers[i]) : json_null()) <
		            0 ||
		    json_array_append_new(cases, c) < 0) {
			json_decref(cases);
			cases = NULL;
		}
	}
	doc = json_pack("{s:o*, s:o}", "cases", cases, "head",
	                head != NULL ? json_loadb(head, len, JSON_REJECT_DUPLICATES, NULL) : json_null());
	if (doc == NULL)
		upload_reply_store_error(r, SD_ERR_NOMEM);
	else
		wb_reply_padded(r, doc);
}

/* Op op of req, a scan of "consents": each row as the status lists it. */
static json_t *consents_json(const sd_store_req_t *req, size_t op, sd_date_t today)
{
	size_t n = sd_store_req_scan_count(req, op, NULL), klen, vlen;
	const uint8_t *k, *v;
	json_t *list = json_array();
	sd_consent_row_t row;

	for (size_t i = 0; list != NULL && i < n; i++)
		if (sd_store_req_scan_entry(req, op, i, &k, &klen, &v, &vlen) == 0 &&
		    sd_consent_row_decode(v, vlen, &row) == 0)
			json_array_append_new(list, sd_consent_row_json(&row, today));
	sd_wipe(&row, sizeof(row));
	return list;
}

/* The leaves of list l (ops first.. of req) below the published head, with their indexes. */
static json_t *events_json(sd_server_t *s, const sd_notice_list_t *l, const sd_store_req_t *req, size_t first)
{
	const sd_loghead_t *h = sd_auditlog_head(sd_server_auditlog(s));
	json_t *list = json_array();
	const uint8_t *v;
	size_t len;

	for (size_t i = 0; list != NULL && h != NULL && i < l->n_leaves; i++)
		if (l->leaves[i] < h->size && sd_store_req_value(req, first + i, &v, &len) == 0)
			json_array_append_new(list, json_pack("{s:I, s:o}", "index", (json_int_t)l->leaves[i], "leaf",
			                                      sd_json_base64_string(v, len)));
	return list;
}

static void status_leaves(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	struct wb *w = sd_request_state(r);
	int st = sd_store_req_status(req);

	for (size_t i = 0; st == 0 && i < w->n; i++) {
		const uint8_t *v;
		size_t len;

		if (sd_store_req_value(req, i, &v, &len) == 0) /* op i: case i's header */
			w->headers[i] = sd_json_base64_string(v, len);
		sd_notice_list_match(&w->lists[i], req, w->first_leaf[i], true);
		w->events[i] = events_json(sd_request_server(r), &w->lists[i], req, w->first_leaf[i]);
	}
	sd_store_req_free(req);
	if (st < 0)
		upload_reply_store_error(r, st);
	else
		status_reply(r, w);
}

/* Ops per case: the record, a scan of its notices, a key scan of its leaves, a scan of
 * its consents. The next request reads each case's package header, then its leaves. */
static void status_read(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	struct wb *w = sd_request_state(r);
	sd_store_req_t *next = NULL;
	size_t gets = 0; /* the GETs added to next: the headers, then the leaves */
	int st = sd_store_req_status(req);

	if (st < 0) {
		upload_reply_store_error(r, st);
		goto out;
	}
	if (!decode_records(r, w, req, OPS_PER_CASE, 4, OPS_PER_CASE) || !session_holds(r, w))
		goto out;
	if ((next = sd_store_req_new()) == NULL)
		st = SD_ERR_NOMEM;
	for (size_t i = 0; st == 0 && i < w->n; i++) /* ops 0 .. n-1: the package headers */
		sd_store_req_get(next, SD_STORE_DB_UPLOAD_HEADERS, w->recs[i].upload, SD_CASE_UPLOAD_ID_BYTES);
	gets = w->n;
	for (size_t i = 0; st == 0 && i < w->n; i++) {
		w->first_leaf[i] = gets;
		w->consents[i] = consents_json(req, i * OPS_PER_CASE + 3, sd_server_today(sd_request_server(r)));
		if ((st = sd_notice_list_take(sd_request_server(r), &w->lists[i], req, i * OPS_PER_CASE + 1, false)) ==
		    0)
			st = sd_notice_list_leaves(&w->lists[i], req, i * OPS_PER_CASE + 2, next);
		gets += w->lists[i].n_leaves;
	}
	if (st < 0) {
		sd_store_req_free(next);
		upload_reply_store_error(r, st);
	} else {
		(void)upload_submit(r, next, status_leaves, r);
	}
out:
	sd_store_req_free(req);
}

static sd_store_req_t *status_req(const struct wb *w)
{
	sd_store_req_t *req = sd_store_req_new();
	uint8_t tkey[SD_RETENTION_TOMB_KEY_BYTES];

	for (size_t i = 0; req != NULL && i < w->n; i++) {
		const uint8_t *cn = (const uint8_t *)w->cases[i];

		sd_store_req_get(req, SD_STORE_DB_CASES, cn, SD_CASE_NUMBER_LEN);
		sd_store_req_scan(req, SD_STORE_DB_NOTICES, cn, SD_CASE_NUMBER_LEN, NULL, 0, SD_CASE_NOTICES_MAX);
		sd_store_req_scan_keys(req, SD_STORE_DB_CASE_EVENTS, cn, SD_CASE_NUMBER_LEN, NULL, 0, SD_STORE_OPS_MAX);
		sd_store_req_scan(req, SD_STORE_DB_CONSENTS, cn, SD_CASE_NUMBER_LEN, NULL, 0, SD_CONSENTS_PER_CASE);
		sd_retention_tomb_key(w->cases[i], tkey);
		sd_store_req_get(req, SD_STORE_DB_META, tkey, sizeof(tkey));
	}
	return req;
}

/* --- POST /v1/wb/objection --------------------------------------------------------------- */

static void objection_reply(sd_request_t *r, const sd_case_rec_t *rec)
{
	sd_server_t *s = sd_request_server(r);

	wb_reply_padded(r, sd_case_whistleblower_json(rec, sd_server_today(s), sd_server_config(s)));
}

/* The case the objection is for: the one named, or the only one. */
static const char *objection_case(sd_request_t *r, const struct wb *w)
{
	const char *want = w->body.case_number;

	if (want[0] == '\0' && w->n == 1)
		return w->cases[0];
	if (want[0] == '\0') {
		sd_request_reply_error(r, 400, "case_required",
		                       "%zu cases are filed under this codename: say which one the objection is for",
		                       w->n);
		return NULL;
	}
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->cases[i], want) == 0)
			return w->cases[i];
	sd_request_reply_error(r, 404, "not_found", "case %s is not filed under this codename", want);
	return NULL;
}

/* An objection to a destroyed case: 410, as the officer's GET answers. */
static bool objection_destroyed(sd_request_t *r, const struct wb *w, const char *which)
{
	char date[SD_DATE_TEXT_BYTES];

	for (size_t i = 0; i < w->n; i++)
		if (w->is_destroyed[i] && strcmp(w->cases[i], which) == 0) {
			sd_date_format(w->destroyed[i], date);
			sd_request_reply_error(
			        r, 410, "case_destroyed",
			        "case %s was closed and its records destroyed under the retention period "
			        "on %s",
			        which, date);
			return true;
		}
	return false;
}

static void objection_read(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	struct wb *w = sd_request_state(r);
	sd_case_step_t step = {.action = SD_ACTION_OBJECT, .has_text = true};
	char cn[SD_CASE_NUMBER_BYTES];
	const char *which;
	uint8_t *text;
	size_t text_len;
	int st = sd_store_req_status(req);

	if (st < 0)
		upload_reply_store_error(r, st);
	if (st < 0 || !decode_records(r, w, req, 1, w->n, 1) || !session_holds(r, w) ||
	    (which = objection_case(r, w)) == NULL || objection_destroyed(r, w, which)) {
		sd_store_req_free(req);
		return;
	}
	sd_store_req_free(req);
	snprintf(cn, sizeof(cn), "%s", which);
	step.date = sd_server_today(sd_request_server(r));
	text = w->body.text;
	text_len = w->body.text_len;
	w->body.text = NULL;
	sd_request_set_state(r, NULL, NULL);
	wb_free(w);
	sd_case_step_start(r, cn, &step, text, text_len, objection_reply);
}

/* --- Both ------------------------------------------------------------------------------ */

/* The codename's cases are found: read them (and, for the status, their notices). */
static void cases_found(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	struct wb *w = sd_request_state(r);
	sd_store_req_t *next = NULL;
	const uint8_t *k, *v;
	size_t klen, vlen, n;
	int st = sd_store_req_status(req);

	n = st == 0 ? sd_store_req_scan_count(req, 0, NULL) : 0;
	for (size_t i = 0; i < n && w->n < SD_WB_CASES_MAX; i++)
		if (sd_store_req_scan_entry(req, 0, i, &k, &klen, &v, &vlen) == 0 &&
		    klen == SD_CASE_LOCATOR_KEY_BYTES) {
			memcpy(w->cases[w->n], k + SD_HASH_BYTES, SD_CASE_NUMBER_LEN);
			w->cases[w->n++][SD_CASE_NUMBER_LEN] = '\0';
		}
	sd_store_req_free(req);
	if (st < 0) {
		upload_reply_store_error(r, st);
		return;
	}
	if (w->n == 0) {
		session_refused(r, "no case is filed under this codename");
		return;
	}
	if (w->objection) {
		if ((next = sd_store_req_new()) != NULL)
			for (size_t i = 0; i < w->n; i++)
				sd_store_req_get(next, SD_STORE_DB_CASES, (const uint8_t *)w->cases[i],
				                 SD_CASE_NUMBER_LEN);
		for (size_t i = 0; next != NULL && i < w->n; i++) { /* ops n ..: their tombstones */
			uint8_t tkey[SD_RETENTION_TOMB_KEY_BYTES];
			sd_retention_tomb_key(w->cases[i], tkey);
			sd_store_req_get(next, SD_STORE_DB_META, tkey, sizeof(tkey));
		}
		(void)upload_submit(r, next, objection_read, r);
	} else {
		(void)upload_submit(r, status_req(w), status_read, r);
	}
}

/* The body, then the gate; <0 after answering. */
int sd_wb_gate(sd_request_t *r, const sd_session_proof_t *p)
{
	unsigned retry = 0;
	int err = sd_wbgate_admit(sd_server_wbgate(sd_request_server(r)), p, sd_server_monotonic_ms(), &retry);

	if (err == SD_ERR_UNAVAILABLE) {
		sd_request_set_retry_after(r, retry);
		sd_request_reply_error(r, 503, "busy", "%s", sd_error_detail());
	} else if (err < 0) {
		session_refused(r, sd_error_detail());
	}
	return err;
}

static int wb_admit(sd_request_t *r, struct wb *w)
{
	size_t len = 0;
	const uint8_t *body = sd_request_body(r, &len);
	int err = sd_casebody_wb(body, len, w->objection, &w->body);

	if (err == SD_ERR_NOMEM) {
		upload_reply_store_error(r, err);
		return err;
	}
	if (err < 0) {
		sd_request_reply_error(r, 400, "bad_request", "%s", sd_error_detail());
		return err;
	}
	return sd_wb_gate(r, &w->body.session);
}

/* Either answer: admitted by the gate, then the cases under the locator's hash. */
static void wb_answer(sd_request_t *r, bool objection)
{
	struct wb *w = calloc(1, sizeof(*w));
	sd_store_req_t *req;

	if (w == NULL) {
		upload_reply_store_error(r, SD_ERR_NOMEM);
		return;
	}
	sd_request_set_state(r, w, wb_free);
	w->objection = objection;
	if (wb_admit(r, w) < 0)
		return;
	sd_session_locator_hash(w->body.session.locator, w->locator_hash);
	if ((req = sd_store_req_new()) != NULL)
		sd_store_req_scan_keys(req, SD_STORE_DB_CASE_BY_LOCATOR, w->locator_hash, SD_HASH_BYTES, NULL, 0,
		                       SD_WB_CASES_MAX);
	(void)upload_submit(r, req, cases_found, r);
}

void sd_route_wb_status(sd_request_t *r)
{
	wb_answer(r, false);
}

void sd_route_wb_objection(sd_request_t *r)
{
	wb_answer(r, true);
}
