/*
 * notices.c — a case's notices on the server (include/sealdrop/notices.h; docs/API.md,
 * "GET /v1/cases/{case}/notices", "POST /v1/cases/{case}/notices"):
 *
 *   sd_notices_req_add()       signs a notice and adds it and its audit leaf to a request
 *   sd_notices_req_standard()  the Commission's standard wording, sealed here, then as above
 *   sd_notices_req_step()      the standard notice of a transition (server/casework.c)
 *   GET  .../notices           the case's notices, each with the index of its leaf
 *   POST .../notices           an officer's written notice, sealed by the officer's client
 *
 * Start at sd_notices_req_add(): every notice, standard or written, goes through it, so
 * each is signed by the log key, stored under case || seq and given its leaf in the one
 * request that also writes what it tells of. The list finds each notice's leaf by its
 * digest among the case's leaves (case_events): a case has few, and nothing else has to
 * be stored for it. The server holds no plaintext of a written notice, only its boxes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sealdrop/auditlog.h"
#include "sealdrop/casebody.h"
#include "sealdrop/casework.h"
#include "sealdrop/bytes.h"
#include "sealdrop/json.h"
#include "sealdrop/log.h"
#include "sealdrop/notices.h"
#include "sealdrop/sealdrop.h"
#include "upload_int.h"

#define LEAF_KEY_BYTES  8                                           /* log_leaves: the index, u64 BE */
#define EVENT_KEY_BYTES (SD_CASE_NUMBER_BYTES - 1 + LEAF_KEY_BYTES) /* case_events */
#define DETAIL_MAX      (SD_AGENCY_NAME_MAX + 32)                   /* "investigation: " and an agency's name */

void sd_notices_key(const char *case_number, uint32_t seq, uint8_t out[SD_NOTICES_KEY_BYTES])
{
	size_t n = strnlen(case_number, SD_CASE_NUMBER_BYTES - 1);

	memset(out, 0, SD_NOTICES_KEY_BYTES);
	memcpy(out, case_number, n);
	for (int i = 0; i < 4; i++)
		out[SD_CASE_NUMBER_BYTES - 1 + i] = (uint8_t)(seq >> (24 - 8 * i));
}

const uint8_t *sd_notices_attorney_key(sd_server_t *s, const sd_case_rec_t *rec)
{
	const sd_accounts_t *a = sd_server_accounts(s);
	const sd_account_t *acc = a != NULL ? sd_accounts_find(a, rec->attorney) : NULL;

	return acc != NULL && acc->enabled && acc->has_box_key ? acc->box_pk : NULL;
}

/* --- Writing --------------------------------------------------------------------------- */

/* The notice's leaf: its case, date and digest, acted by actor or by the server. */
static int notice_event(const sd_notice_t *n, const sd_principal_t *actor, sd_audit_event_t *ev)
{
	if (actor != NULL) {
		sd_audit_event_init(ev, SD_AUDIT_NOTICE, n->date, actor);
	} else {
		*ev = (sd_audit_event_t){.type = SD_AUDIT_NOTICE, .date = n->date};
		snprintf(ev->role, sizeof(ev->role), "%s", "server");
	}
	snprintf(ev->case_number, sizeof(ev->case_number), "%s", n->case_number);
	ev->has_digest = true;
	return sd_notice_digest(n, ev->digest);
}

/* Fills n's version and deployment, signs it and makes its audit event: the part of
 * sd_notices_req_add that touches no store request, so it can run on the worker. */
static int notice_sign(sd_server_t *s, const char *deployment, sd_notice_t *n, const sd_principal_t *actor, char **json,
                       sd_audit_event_t *ev)
{
	int r;

	*json = NULL;
	n->version = SD_NOTICE_VERSION;
	snprintf(n->deployment, sizeof(n->deployment), "%s", deployment);
	if ((r = sd_server_sign_notice(s, n, json)) < 0 || (r = notice_event(n, actor, ev)) < 0) {
		free(*json);
		*json = NULL;
	}
	return r;
}

/* The PUT of the signed document and its leaf; the leaf's operation index. */
static int notice_put(sd_store_req_t *req, const sd_notice_t *n, const char *json, const sd_audit_event_t *ev)
{
	uint8_t key[SD_NOTICES_KEY_BYTES];
	int r;

	sd_notices_key(n->case_number, n->seq, key);
	if ((r = sd_store_req_put(req, SD_STORE_DB_NOTICES, key, sizeof(key), (const uint8_t *)json, strlen(json),
	                          SD_STORE_NOOVERWRITE)) < 0)
		return r;
	return sd_audit_add(req, ev);
}

int sd_notices_req_add(sd_server_t *s, sd_store_req_t *req, sd_notice_t *n, const sd_principal_t *actor,
                       char **json_out)
{
	const sd_directory_t *d = sd_server_directory(s);
	sd_audit_event_t ev;
	char *json = NULL;
	int r;

	if (json_out != NULL)
		*json_out = NULL;
	if (d == NULL)
		return sd_error(SD_ERR_INTERNAL, "no directory is installed: a notice names its deployment");
	if ((r = notice_sign(s, d->deployment, n, actor, &json, &ev)) < 0 || (r = notice_put(req, n, json, &ev)) < 0)
		goto out;
	if (json_out != NULL) {
		*json_out = json;
		json = NULL;
	}
out:
	free(json);
	return r;
}

int sd_notices_standard_begin(sd_server_t *s, const sd_case_rec_t *rec, uint32_t seq, sd_date_t date,
                              sd_notice_kind_t kind, const char *detail, sd_notices_job_t *job)
{
	const sd_directory_t *d = sd_server_directory(s);
	const uint8_t *att;

	memset(job, 0, sizeof(*job));
	job->s = s;
	if (!rec->has_notice_key)
		return sd_error(SD_ERR_NOENT, "case %s was filed before notices existed: it has no notice key",
		                rec->case_number);
	if (d == NULL)
		return sd_error(SD_ERR_INTERNAL, "no directory is installed: a notice is sealed to its intake key");
	memcpy(job->notice_pk, rec->notice_key, sizeof(job->notice_pk));
	if ((att = sd_notices_attorney_key(s, rec)) != NULL) {
		job->has_attorney = true;
		memcpy(job->attorney_pk, att, sizeof(job->attorney_pk));
	}
	job->intake = d->intake;
	snprintf(job->deployment, sizeof(job->deployment), "%s", d->deployment);
	snprintf(job->n.case_number, sizeof(job->n.case_number), "%s", rec->case_number);
	job->n.seq = seq;
	job->n.date = date;
	job->n.kind = kind;
	return sd_notice_standard_text(kind, rec->case_number, detail, &job->text);
}

void sd_notices_standard_make(sd_notices_job_t *job)
{
	job->status = sd_notice_seal(&job->n, job->text, job->notice_pk, job->has_attorney ? job->attorney_pk : NULL,
	                             &job->intake);
	if (job->status == 0)
		job->status = notice_sign(job->s, job->deployment, &job->n, NULL, &job->json, &job->ev);
	if (job->status < 0)
		snprintf(job->detail, sizeof(job->detail), "%s", sd_error_detail());
}

int sd_notices_standard_add(sd_store_req_t *req, sd_notices_job_t *job)
{
	if (job->status < 0) /* the worker's message, on this thread */
		return sd_error(job->status, "%s", job->detail);
	return notice_put(req, &job->n, job->json, &job->ev);
}

void sd_notices_job_clear(sd_notices_job_t *job)
{
	free(job->text);
	free(job->json);
	sd_notice_clear(&job->n);
	memset(job, 0, sizeof(*job));
}

int sd_notices_req_standard(sd_server_t *s, sd_store_req_t *req, const sd_case_rec_t *rec, uint32_t seq, sd_date_t date,
                            sd_notice_kind_t kind, const char *detail)
{
	sd_notices_job_t job;
	int r;

	if ((r = sd_notices_standard_begin(s, rec, seq, date, kind, detail, &job)) == 0) {
		sd_notices_standard_make(&job);
		r = sd_notices_standard_add(req, &job);
	}
	sd_notices_job_clear(&job);
	return r;
}

/* The kind of notice a step sends; false for the whistleblower's objection. */
static bool step_kind(sd_case_action_t a, sd_notice_kind_t *kind)
{
	static const sd_notice_kind_t kinds[] = {
	        [SD_ACTION_EXTEND] = SD_NOTICE_EXTENSION,   [SD_ACTION_REFER] = SD_NOTICE_REFERRAL,
	        [SD_ACTION_FORWARD] = SD_NOTICE_FORWARDING, [SD_ACTION_TERMINATE] = SD_NOTICE_TERMINATION,
	        [SD_ACTION_OUTCOME] = SD_NOTICE_RESULT,     [SD_ACTION_REINVESTIGATE] = SD_NOTICE_REINVESTIGATION,
	        [SD_ACTION_CLOSE] = SD_NOTICE_CLOSING,
	};

	if ((size_t)a >= sizeof(kinds) / sizeof(kinds[0]) || kinds[a] == 0)
		return false;
	*kind = kinds[a];
	return true;
}

/* What the standard text of the step names: the agency (by its name in the directory),
 * the reason, the conclusion date; "" for none. */
static void step_detail(sd_server_t *s, const sd_case_step_t *st, char out[DETAIL_MAX])
{
	const sd_directory_t *d = sd_server_directory(s);
	const sd_agency_t *ag = d != NULL && st->agency[0] != '\0' ? sd_directory_find_agency(d, st->agency) : NULL;
	const char *agency = ag != NULL ? ag->name : st->agency;
	char date[SD_DATE_TEXT_BYTES];

	out[0] = '\0';
	if (st->action == SD_ACTION_REFER) {
		snprintf(out, DETAIL_MAX, "%s: %s", sd_refer_kind_name(st->kind), agency);
	} else if (st->action == SD_ACTION_FORWARD) {
		snprintf(out, DETAIL_MAX, "%s", agency);
	} else if (st->action == SD_ACTION_TERMINATE) {
		snprintf(out, DETAIL_MAX, "%s", sd_terminate_reason_name(st->reason));
	} else if (st->action == SD_ACTION_OUTCOME) {
		sd_date_format(st->concluded, date);
		snprintf(out, DETAIL_MAX, "%s", date);
	}
}

int sd_notices_req_step(sd_server_t *s, sd_store_req_t *req, sd_case_rec_t *rec, const sd_case_step_t *step)
{
	sd_notice_kind_t kind;
	char detail[DETAIL_MAX];
	int op;

	if (!step_kind(step->action, &kind))
		return sd_error(SD_ERR_NOENT, "a %s step sends no notice", sd_case_action_name(step->action));
	if (rec->notices >= SD_CASE_NOTICES_MAX)
		return sd_error(SD_ERR_TOOBIG, "case %s has %d notices, as many as a case may have", rec->case_number,
		                SD_CASE_NOTICES_MAX);
	step_detail(s, step, detail);
	op = sd_notices_req_standard(s, req, rec, rec->notices, step->date, kind, detail[0] != '\0' ? detail : NULL);
	if (op >= 0)
		rec->notices++;
	return op;
}

/* --- Reading the case for a route -------------------------------------------------------- */

/* The case number of the path, or NULL after answering 404. */

/* Op `op` of req, the case's record, decoded into *rec (malloc'd) for r's caller; NULL
 * after answering: a store failure, no such case, or another attorney's. */
static sd_case_rec_t *read_case(sd_request_t *r, const sd_store_req_t *req, size_t op)
{
	const sd_principal_t *p = sd_request_principal(r);
	sd_case_rec_t *rec;
	const uint8_t *v;
	size_t len;
	int st = sd_store_req_status(req);

	if (st < 0) {
		upload_reply_store_error(r, st);
		return NULL;
	}
	if (sd_store_req_value(req, op, &v, &len) < 0) {
		sd_request_reply_error(r, 404, "not_found", "there is no case %s", sd_request_param(r, 0));
		return NULL;
	}
	if ((rec = malloc(sizeof(*rec))) == NULL) {
		upload_reply_store_error(r, SD_ERR_NOMEM);
		return NULL;
	}
	if (sd_case_rec_decode(v, len, sd_server_config(sd_request_server(r)), rec) < 0) {
		sd_log(SD_LOG_ERROR, "a stored case record does not decode: %s", sd_error_detail());
		sd_request_reply_error(r, 500, "internal", "the case's record could not be read");
	} else if (!sd_principal_is_officer(p) && !sd_equal(rec->attorney, p->fingerprint, SD_CA_FINGERPRINT_BYTES)) {
		sd_request_reply_error(r, 404, "not_found", "there is no case %s", sd_request_param(r, 0));
	} else {
		return rec;
	}
	free(rec);
	return NULL;
}

/* A notice as the list shows it: {"seq", "kind", "date", "leaf_index", "notice"}. */
static json_t *entry_json(const sd_notice_t *n, const char *json, size_t len, json_t *leaf_index)
{
	char date[SD_DATE_TEXT_BYTES];
	json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);

	sd_date_format(n->date, date);
	return json_pack("{s:I, s:s, s:s, s:o, s:o}", "seq", (json_int_t)n->seq, "kind", sd_notice_kind_name(n->kind),
	                 "date", date, "leaf_index", leaf_index != NULL ? leaf_index : json_null(), "notice", doc);
}

/* --- A case's notices, listed --------------------------------------------------------- */

void sd_notice_list_clear(sd_notice_list_t *l)
{
	json_decref(l->list);
	free(l->digests);
	free(l->verified);
	free(l->leaves);
	memset(l, 0, sizeof(*l));
}

/* A stored notice that does not verify, listed as it is stored, for its reader to refuse. */
static json_t *unverified_json(const uint8_t *key, size_t klen, const uint8_t *v, size_t vlen)
{
	uint32_t seq = klen == SD_NOTICES_KEY_BYTES ? (uint32_t)(sd_load_be64(key + klen - 8) & 0xffffffffu) : 0;
	json_t *doc = json_loadb((const char *)v, vlen, JSON_REJECT_DUPLICATES, NULL);

	return json_pack("{s:I, s:n, s:n, s:n, s:o}", "seq", (json_int_t)seq, "kind", "date", "leaf_index", "notice",
	                 doc != NULL ? doc : json_null());
}

/* Entry i of a scan of "notices" into l: its digest kept when it verifies. */
static int take_one(sd_server_t *s, sd_notice_list_t *l, const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen,
                    bool strict)
{
	sd_notice_t nt;
	int r;

	/* the server's log key, or one its directory retired (a notice from before a rotation) */
	if ((r = sd_notice_verify_with_directory(v, vlen, sd_server_directory(s), &nt)) < 0) {
		sd_log(SD_LOG_ERROR, "a stored notice does not verify: %s", sd_error_detail());
		if (strict)
			return SD_ERR_INTERNAL;
		l->verified[l->n] = false;
		r = json_array_append_new(l->list, unverified_json(k, klen, v, vlen)) < 0 ? SD_ERR_NOMEM : 0;
	} else {
		l->verified[l->n] = true;
		r = sd_notice_digest(&nt, l->digests[l->n]);
		if (r == 0 && json_array_append_new(l->list, entry_json(&nt, (const char *)v, vlen, NULL)) < 0)
			r = SD_ERR_NOMEM;
		sd_notice_clear(&nt);
	}
	if (r == 0)
		l->n++;
	return r;
}

int sd_notice_list_take(sd_server_t *s, sd_notice_list_t *l, const sd_store_req_t *req, size_t op, bool strict)
{
	size_t n = sd_store_req_scan_count(req, op, NULL), klen, vlen;
	const uint8_t *k, *v;
	int r;

	memset(l, 0, sizeof(*l));
	if ((l->list = json_array()) == NULL || (l->digests = calloc(n + 1, sizeof(*l->digests))) == NULL ||
	    (l->verified = calloc(n + 1, sizeof(*l->verified))) == NULL)
		return SD_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		if ((r = sd_store_req_scan_entry(req, op, i, &k, &klen, &v, &vlen)) < 0 ||
		    (r = take_one(s, l, k, klen, v, vlen, strict)) < 0)
			return r;
	}
	return 0;
}

int sd_notice_list_leaves(sd_notice_list_t *l, const sd_store_req_t *req, size_t op, sd_store_req_t *next)
{
	size_t n = sd_store_req_scan_count(req, op, NULL), klen, vlen;
	const uint8_t *k, *v;

	if ((l->leaves = calloc(n + 1, sizeof(*l->leaves))) == NULL)
		return SD_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		if (sd_store_req_scan_entry(req, op, i, &k, &klen, &v, &vlen) < 0 || klen != EVENT_KEY_BYTES)
			continue;
		l->leaves[l->n_leaves++] = sd_load_be64(k + klen - LEAF_KEY_BYTES);
		sd_store_req_get(next, SD_STORE_DB_LOG_LEAVES, k + klen - LEAF_KEY_BYTES, LEAF_KEY_BYTES);
	}
	return 0;
}

void sd_notice_list_match(sd_notice_list_t *l, const sd_store_req_t *req, size_t first, bool with_leaf)
{
	sd_audit_event_t ev;
	const uint8_t *v;
	size_t len;

	for (size_t i = 0; i < l->n_leaves; i++) {
		if (sd_store_req_value(req, first + i, &v, &len) < 0 || sd_audit_leaf_parse(v, len, &ev) < 0 ||
		    ev.type != SD_AUDIT_NOTICE || !ev.has_digest)
			continue;
		for (size_t k = 0; k < l->n; k++) {
			json_t *e = json_array_get(l->list, k);

			if (!l->verified[k] || !sd_equal(ev.digest, l->digests[k], SD_NOTICE_DIGEST_BYTES))
				continue;
			json_object_set_new(e, "leaf_index", json_integer((json_int_t)l->leaves[i]));
			if (with_leaf)
				json_object_set_new(e, "leaf", sd_json_base64_string(v, len));
		}
	}
	for (size_t k = 0; k < l->n; k++)
		if (l->verified[k] && json_is_null(json_object_get(json_array_get(l->list, k), "leaf_index")))
			sd_log(SD_LOG_ERROR, "a notice of a case has no leaf in the audit log");
}

/* --- GET /v1/cases/{case}/notices --------------------------------------------------------- */

static void listing_free(void *p)
{
	sd_notice_list_t *l = p;

	if (l == NULL)
		return;
	sd_notice_list_clear(l);
	free(l);
}

static void leaves_read(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	sd_notice_list_t *l = sd_request_state(r);
	int st = sd_store_req_status(req);

	if (st == 0)
		sd_notice_list_match(l, req, 0, false);
	sd_store_req_free(req);
	if (st < 0)
		upload_reply_store_error(r, st);
	else
		sd_request_reply_json(r, 200, json_pack("{s:O}", "notices", l->list));
}

/* Ops: 0 the case, 1 its notices, 2 its leaves' keys. */
static void notices_read(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	sd_notice_list_t *l = sd_request_state(r);
	sd_case_rec_t *rec = read_case(r, req, 0);
	sd_store_req_t *next = NULL;
	int err;

	if (rec == NULL)
		goto out;
	if ((err = sd_notice_list_take(sd_request_server(r), l, req, 1, true)) < 0) {
		upload_reply_store_error(r, err);
		goto out;
	}
	if (l->n == 0) {
		sd_request_reply_json(r, 200, json_pack("{s:O}", "notices", l->list));
		goto out;
	}
	if ((next = sd_store_req_new()) == NULL || sd_notice_list_leaves(l, req, 2, next) < 0) {
		sd_store_req_free(next);
		upload_reply_store_error(r, SD_ERR_NOMEM);
	} else if (l->n_leaves == 0) { /* a log that records nothing (the benchmark's baseline) */
		sd_store_req_free(next);
		sd_request_reply_json(r, 200, json_pack("{s:O}", "notices", l->list));
	} else {
		(void)upload_submit(r, next, leaves_read, r);
	}
out:
	free(rec);
	sd_store_req_free(req);
}

void sd_route_case_notices(sd_request_t *r)
{
	const char *cn = sd_route_case_number(r);
	sd_notice_list_t *l;
	sd_store_req_t *req;

	if (cn == NULL)
		return;
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		upload_reply_store_error(r, SD_ERR_NOMEM);
		return;
	}
	sd_request_set_state(r, l, listing_free);
	if ((req = sd_store_req_new()) != NULL) {
		sd_store_req_get(req, SD_STORE_DB_CASES, (const uint8_t *)cn, strlen(cn));
		sd_store_req_scan(req, SD_STORE_DB_NOTICES, (const uint8_t *)cn, strlen(cn), NULL, 0,
		                  SD_CASE_NOTICES_MAX);
		sd_store_req_scan_keys(req, SD_STORE_DB_CASE_EVENTS, (const uint8_t *)cn, strlen(cn), NULL, 0,
		                       SD_STORE_OPS_MAX);
	}
	(void)upload_submit(r, req, notices_read, r);
}

/* --- POST /v1/cases/{case}/notices ------------------------------------------------------- */

struct written {
	sd_notice_t n;
	uint8_t *old; /* the case record as read */
	size_t old_len;
	sd_case_rec_t *rec;
	char *json; /* the signed notice */
	int leaf_op;
};

static void written_free(void *p)
{
	struct written *w = p;

	if (w == NULL)
		return;
	sd_notice_clear(&w->n);
	free(w->old);
	free(w->rec);
	free(w->json);
	free(w);
}

/* The body into w->n's boxes; <0 after answering. */
static int written_body(sd_request_t *r, struct written *w)
{
	size_t len = 0;
	const uint8_t *body = sd_request_body(r, &len);
	int err = sd_casebody_notice(body, len, &w->n);

	if (err == SD_ERR_NOMEM)
		upload_reply_store_error(r, err);
	else if (err < 0)
		sd_request_reply_error(r, 400, "bad_request", "%s", sd_error_detail());
	return err;
}

static void written_done(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	struct written *w = sd_request_state(r);
	int st = sd_store_req_status(req);
	long op = sd_store_req_failed_op(req);
	uint64_t leaf = 0;
	bool has_leaf =
	        st == 0 && w->leaf_op != SD_AUDIT_NO_OP && sd_store_req_log_index(req, (size_t)w->leaf_op, &leaf) == 0;

	sd_store_req_free(req);
	if (st == 0)
		sd_request_reply_json(
		        r, 201,
		        entry_json(&w->n, w->json, strlen(w->json), has_leaf ? json_integer((json_int_t)leaf) : NULL));
	else if (op == 0 && (st == SD_ERR_REFUSED || st == SD_ERR_NOENT))
		sd_request_reply_error(r, 409, "conflict", "the case changed meanwhile; retry");
	else
		upload_reply_store_error(r, st == SD_ERR_EXISTS ? SD_ERR_INTERNAL : st);
}

/* Refuses what the case cannot take: 0, or <0 after answering. */
static int written_check(sd_request_t *r, const struct written *w)
{
	const sd_case_rec_t *rec = w->rec;
	bool has_key = sd_notices_attorney_key(sd_request_server(r), rec) != NULL;

	if (!rec->has_notice_key) {
		sd_request_reply_error(r, 422, "no_notice_key",
		                       "case %s was filed before notices existed: it has no notice key",
		                       rec->case_number);
		return SD_ERR_REFUSED;
	}
	if (w->n.to_attorney != NULL && !has_key) {
		sd_request_reply_error(r, 422, "no_attorney_key",
		                       "the filing attorney of case %s has no box key: leave out 'to_attorney'",
		                       rec->case_number);
		return SD_ERR_REFUSED;
	}
	if (w->n.to_attorney == NULL && has_key) {
		sd_request_reply_error(r, 400, "bad_request",
		                       "the filing attorney of case %s has a box key: 'to_attorney' is needed",
		                       rec->case_number);
		return SD_ERR_REFUSED;
	}
	/* Room is kept for the notice of every step the case may still take. */
	if (rec->notices + (SD_CASE_STEPS_MAX - rec->flow.n_steps) >= SD_CASE_NOTICES_MAX) {
		sd_request_reply_error(r, 409, "too_many_notices", "case %s has as many written notices as it may have",
		                       rec->case_number);
		return SD_ERR_REFUSED;
	}
	return 0;
}

/* The write: the record with its counter moved on (if unchanged since read), the
 * notice, its leaf. */
static void written_write(sd_request_t *r, struct written *w)
{
	sd_server_t *s = sd_request_server(r);
	const char *cn = w->rec->case_number;
	sd_store_req_t *req = sd_store_req_new();
	uint8_t *bytes = NULL;
	size_t len = 0;
	int err = SD_ERR_NOMEM;

	snprintf(w->n.case_number, sizeof(w->n.case_number), "%s", cn);
	w->n.seq = w->rec->notices++;
	w->n.date = sd_server_today(s);
	w->n.kind = SD_NOTICE_WRITTEN;
	if (req == NULL || (err = sd_case_rec_encode(w->rec, &bytes, &len)) < 0)
		goto fail;
	sd_store_req_check_equal(req, SD_STORE_DB_CASES, (const uint8_t *)cn, strlen(cn), w->old, w->old_len);
	sd_store_req_put(req, SD_STORE_DB_CASES, (const uint8_t *)cn, strlen(cn), bytes, len, 0);
	free(bytes);
	if ((err = sd_case_index_req(req, &w->rec->flow, w->rec)) < 0) /* the summary counts notices */
		goto fail;
	if ((w->leaf_op = err = sd_notices_req_add(s, req, &w->n, sd_request_principal(r), &w->json)) < 0)
		goto fail;
	(void)upload_submit(r, req, written_done, r);
	return;
fail:
	sd_log(SD_LOG_ERROR, "a written notice cannot be prepared: %s", sd_error_detail());
	sd_store_req_free(req);
	upload_reply_store_error(r, err == SD_ERR_NOMEM ? err : SD_ERR_INTERNAL);
}

static void written_read(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	struct written *w = sd_request_state(r);
	const uint8_t *v;
	size_t len;

	if ((w->rec = read_case(r, req, 0)) == NULL)
		goto out;
	if (sd_store_req_value(req, 0, &v, &len) < 0 || (w->old = malloc(len)) == NULL) {
		upload_reply_store_error(r, SD_ERR_NOMEM);
		goto out;
	}
	memcpy(w->old, v, len);
	w->old_len = len;
	if (written_check(r, w) == 0)
		written_write(r, w);
out:
	sd_store_req_free(req);
}

void sd_route_case_notice_post(sd_request_t *r)
{
	const char *cn = sd_route_case_number(r);
	struct written *w;
	sd_store_req_t *req;

	if (cn == NULL)
		return;
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		upload_reply_store_error(r, SD_ERR_NOMEM);
		return;
	}
	sd_request_set_state(r, w, written_free);
	if (written_body(r, w) < 0)
		return;
	if ((req = sd_store_req_new()) != NULL)
		sd_store_req_get(req, SD_STORE_DB_CASES, (const uint8_t *)cn, strlen(cn));
	(void)upload_submit(r, req, written_read, r);
}
