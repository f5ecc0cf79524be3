/*
 * caserec.c — a case as the store keeps it (include/sealdrop/caserec.h; docs/STORE.md,
 * "cases"): what the filing established, the workflow's state and every step taken, and
 * the JSON documents GET /v1/cases and GET /v1/cases/{case} answer with (docs/API.md).
 *
 * Start at sd_case_rec_decode(). Only the steps are stored, never what follows from them
 * (extended, agency, the dates the deadlines count from): the decoder replays the steps
 * through the workflow (server/workflow.c) and checks the stored state is the one they
 * lead to, so a record cannot say one thing in its state and another in its history. The
 * encoder runs its output through the decoder, so nothing is stored that would not read
 * back. A case without steps has no "steps" member: its record is the one written before
 * the workflow existed, byte for byte; one without "notice_key" and "notices" is one
 * filed before notices existed (both are written together from the filing on). Pure:
 * tests/unit/test_caserec.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sealdrop/bytes.h"
#include "sealdrop/json.h"
#include "sealdrop/caserec.h"
#include "sealdrop/sealdrop.h"
#include "record_int.h"

#define REC_VERSION 1
#define FP_HEX      (2 * SD_CA_FINGERPRINT_BYTES)
#define DIGEST_HEX  (2 * SD_HASH_BYTES)
#define ID_HEX      (2 * SD_CASE_UPLOAD_ID_BYTES)
#define NAME_MAX_   32 /* the longest state, action, kind or reason name */
#define DETAIL_MAX  256

static const char *const case_fields[] = {
        "v",     "case",  "digest",     "upload",  "attorney",     "attorney_name", "received", "decision_due",
        "state", "steps", "notice_key", "notices", "locator_hash", "consent_key",   NULL};
static const char *const step_fields[] = {"action", "date",      "actor", "kind", "agency",
                                          "reason", "concluded", "text",  NULL};

void sd_case_rec_init(sd_case_rec_t *rec)
{
	sd_case_flow_init(&rec->flow, rec->received);
	memset(rec->steps, 0, sizeof(rec->steps));
}

void sd_case_text_key(const char *case_number, uint32_t step, uint8_t out[SD_CASE_TEXT_KEY_BYTES])
{
	size_t n = strnlen(case_number, SD_CASE_NUMBER_BYTES - 1);

	memset(out, 0, SD_CASE_TEXT_KEY_BYTES);
	memcpy(out, case_number, n);
	out[SD_CASE_NUMBER_BYTES - 1] = (uint8_t)(step >> 24);
	out[SD_CASE_NUMBER_BYTES] = (uint8_t)(step >> 16);
	out[SD_CASE_NUMBER_BYTES + 1] = (uint8_t)(step >> 8);
	out[SD_CASE_NUMBER_BYTES + 2] = (uint8_t)step;
}

/* --- decoding ------------------------------------------------------------------------------- */

/* 1..SD_RECEIPT_NAME_MAX bytes of UTF-8 without control characters, as receipts require. */
static bool name_is_valid(const char *s)
{
	size_t n = strlen(s), i = 0;
	uint32_t cp;

	if (n == 0 || n > SD_RECEIPT_NAME_MAX || n >= SD_CA_NAME_BYTES)
		return false;
	while (i < n)
		if (!sd_utf8_decode(s, n, &i, &cp) || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return false;
	return true;
}

/* A step's failure as the record's: "case record: step 3: ...". */
static int step_error(size_t i)
{
	static const char prefix[] = "case record: ";
	char detail[DETAIL_MAX];
	const char *d = sd_error_detail();

	if (strncmp(d, prefix, sizeof(prefix) - 1) == 0)
		d += sizeof(prefix) - 1;
	snprintf(detail, sizeof(detail), "%s", d);
	return sd_error(SD_ERR_FORMAT, "case record: step %zu: %s", i, detail);
}

/* An optional name member into *out through from_name; absent leaves *out 0. */
static int member_name(json_t *o, const char *name, bool (*from_name)(const char *, int *), int *out)
{
	const char *s;
	int r;

	if (json_object_get(o, name) == NULL)
		return 0;
	if ((r = record_member_text(o, "case", name, NAME_MAX_, &s)) < 0)
		return r;
	if (!from_name(s, out))
		return sd_error(SD_ERR_FORMAT, "case record: field '%s' has an unknown value", name);
	return 0;
}

static bool action_from(const char *s, int *out)
{
	sd_case_action_t a;
	bool ok = sd_case_action_from_name(s, &a);
	*out = ok ? (int)a : 0;
	return ok;
}

static bool kind_from(const char *s, int *out)
{
	sd_refer_kind_t k;
	bool ok = sd_refer_kind_from_name(s, &k);
	*out = ok ? (int)k : 0;
	return ok;
}

static bool reason_from(const char *s, int *out)
{
	sd_terminate_reason_t k;
	bool ok = sd_terminate_reason_from_name(s, &k);
	*out = ok ? (int)k : 0;
	return ok;
}

/* The optional members: absent is 0, present is never the absent value. */
static int step_optional(json_t *o, sd_case_step_t *st)
{
	json_t *text = json_object_get(o, "text");
	const char *agency;
	int kind = 0, reason = 0, r;

	if (json_object_get(o, "actor") != NULL) {
		uint8_t zero[sizeof(st->actor)] = {0};
		if ((r = record_member_hex(o, "case", "actor", st->actor, sizeof(st->actor))) < 0)
			return r;
		if (sd_equal(st->actor, zero, sizeof(zero)))
			return sd_error(SD_ERR_FORMAT, "case record: field 'actor' is absent for the whistleblower");
	}
	if ((r = member_name(o, "kind", kind_from, &kind)) < 0 ||
	    (r = member_name(o, "reason", reason_from, &reason)) < 0)
		return r;
	st->kind = (sd_refer_kind_t)kind;
	st->reason = (sd_terminate_reason_t)reason;
	if (json_object_get(o, "agency") != NULL) {
		if ((r = record_member_text(o, "case", "agency", SD_AGENCY_ID_MAX, &agency)) < 0)
			return r;
		snprintf(st->agency, sizeof(st->agency), "%s", agency);
	}
	if (json_object_get(o, "concluded") != NULL &&
	    (r = record_member_date(o, "case", "concluded", &st->concluded)) < 0)
		return r;
	if (text != NULL && !json_is_true(text))
		return sd_error(SD_ERR_FORMAT, "case record: field 'text' is true, or absent for a step without text");
	st->has_text = text != NULL;
	return 0;
}

static int step_decode(json_t *o, sd_case_step_t *st)
{
	int action = 0, r;

	if (!json_is_object(o))
		return sd_error(SD_ERR_FORMAT, "case record: not a JSON object");
	if ((r = record_only_fields(o, "case", step_fields)) < 0)
		return r;
	if (json_object_get(o, "action") == NULL)
		return sd_error(SD_ERR_FORMAT, "case record: field 'action' is missing");
	if ((r = member_name(o, "action", action_from, &action)) < 0 ||
	    (r = record_member_date(o, "case", "date", &st->date)) < 0)
		return r;
	st->action = (sd_case_action_t)action;
	return step_optional(o, st);
}

/* The steps, replayed from received: each must have been legal on its own date. */
static int steps_decode(json_t *obj, sd_case_rec_t *out)
{
	json_t *steps = json_object_get(obj, "steps");
	size_t n;
	int r;

	sd_case_flow_init(&out->flow, out->received);
	if (steps == NULL)
		return 0;
	if (!json_is_array(steps) || json_array_size(steps) == 0)
		return sd_error(SD_ERR_FORMAT, "case record: field 'steps' must be a non-empty array (absent before "
		                               "the first step)");
	if ((n = json_array_size(steps)) > SD_CASE_STEPS_MAX)
		return sd_error(SD_ERR_FORMAT, "case record: field 'steps' has %zu steps; a case records at most %d", n,
		                SD_CASE_STEPS_MAX);
	for (size_t i = 0; i < n; i++) {
		sd_case_step_t *st = &out->steps[i];
		if ((r = step_decode(json_array_get(steps, i), st)) < 0)
			return step_error(i);
		if (i > 0 && sd_date_cmp(st->date, out->steps[i - 1].date) < 0)
			return sd_error(SD_ERR_FORMAT, "case record: step %zu is dated before step %zu", i, i - 1);
		if ((r = workflow_replay(&out->flow, st)) < 0)
			return step_error(i);
	}
	return 0;
}

static int state_check(json_t *obj, const sd_case_rec_t *out)
{
	const char *s;
	sd_case_state_t stored;
	int r;

	if ((r = record_member_text(obj, "case", "state", NAME_MAX_, &s)) < 0)
		return r;
	if (!sd_case_state_from_name(s, &stored))
		return sd_error(SD_ERR_FORMAT, "case record: field 'state' is not a state of the workflow");
	if (stored != out->flow.state)
		return sd_error(SD_ERR_FORMAT, "case record: field 'state' is %s but the steps lead to %s",
		                sd_case_state_name(stored), sd_case_state_name(out->flow.state));
	return 0;
}

/* The notice key and the count of notices: both, or neither (a case filed before
 * notices existed). */
static int notices_decode(json_t *obj, sd_case_rec_t *out)
{
	json_t *key = json_object_get(obj, "notice_key"), *n = json_object_get(obj, "notices");
	int r;

	if (key == NULL && n == NULL)
		return 0;
	if (key == NULL || n == NULL)
		return sd_error(SD_ERR_FORMAT, "case record: fields 'notice_key' and 'notices' go together");
	if ((r = record_member_hex(obj, "case", "notice_key", out->notice_key, sizeof(out->notice_key))) < 0)
		return r;
	if (!json_is_integer(n) || json_integer_value(n) < 1 || json_integer_value(n) > SD_CASE_NOTICES_MAX)
		return sd_error(SD_ERR_FORMAT, "case record: field 'notices' must be an integer from 1 to %d",
		                SD_CASE_NOTICES_MAX);
	out->has_notice_key = true;
	out->notices = (uint32_t)json_integer_value(n);
	return 0;
}

/* The session's locator hash and consent key: both, or neither (a case filed before the
 * whistleblower's channel). */
static int session_decode(json_t *obj, sd_case_rec_t *out)
{
	json_t *loc = json_object_get(obj, "locator_hash"), *key = json_object_get(obj, "consent_key");
	int r;

	if (loc == NULL && key == NULL)
		return 0;
	if (loc == NULL || key == NULL)
		return sd_error(SD_ERR_FORMAT, "case record: fields 'locator_hash' and 'consent_key' go together");
	if ((r = record_member_hex(obj, "case", "locator_hash", out->locator_hash, sizeof(out->locator_hash))) < 0 ||
	    (r = record_member_hex(obj, "case", "consent_key", out->consent_key, sizeof(out->consent_key))) < 0)
		return r;
	out->has_session = true;
	return 0;
}

static int case_fields_decode(json_t *obj, sd_case_rec_t *out)
{
	const char *s;
	int r;

	if ((r = record_member_version(obj, "case")) < 0 || (r = record_only_fields(obj, "case", case_fields)) < 0 ||
	    (r = record_member_case(obj, "case", "case", out->case_number)) < 0 ||
	    (r = record_member_hex(obj, "case", "digest", out->digest, sizeof(out->digest))) < 0 ||
	    (r = record_member_hex(obj, "case", "upload", out->upload, sizeof(out->upload))) < 0 ||
	    (r = record_member_hex(obj, "case", "attorney", out->attorney, sizeof(out->attorney))) < 0 ||
	    (r = record_member_date(obj, "case", "received", &out->received)) < 0 ||
	    (r = record_member_date(obj, "case", "decision_due", &out->decision_due)) < 0)
		return r;
	if ((r = record_member_text(obj, "case", "attorney_name", SD_RECEIPT_NAME_MAX, &s)) < 0)
		return r;
	if (!name_is_valid(s))
		return sd_error(SD_ERR_FORMAT, "case record: field 'attorney_name' has control characters");
	snprintf(out->attorney_name, sizeof(out->attorney_name), "%s", s);
	if (sd_date_cmp(out->decision_due, out->received) < 0)
		return sd_error(SD_ERR_FORMAT, "case record: 'decision_due' is before 'received'");
	if ((r = notices_decode(obj, out)) < 0 || (r = session_decode(obj, out)) < 0 ||
	    (r = steps_decode(obj, out)) < 0)
		return r;
	return state_check(obj, out);
}

/* The replay needs no calendar (record_int.h, workflow_replay): a record reads back the
 * same whatever the holiday table says now. */
int sd_case_rec_decode(const uint8_t *buf, size_t len, const sd_config_t *cal, sd_case_rec_t *out)
{
	json_t *obj;
	int r;

	(void)cal;
	memset(out, 0, sizeof(*out));
	if ((r = record_load_object(buf, len, SD_CASE_RECORD_MAX, "case", &obj)) < 0)
		return r;
	r = case_fields_decode(obj, out);
	json_decref(obj);
	if (r < 0)
		memset(out, 0, sizeof(*out));
	return r;
}

/* --- encoding ------------------------------------------------------------------------------- */

static json_t *date_json(sd_date_t d)
{
	char text[SD_DATE_TEXT_BYTES];

	sd_date_format(d, text);
	return json_string(text);
}

static bool date_is_set(sd_date_t d)
{
	return d.y != 0 || d.m != 0 || d.d != 0;
}

static bool actor_is_set(const sd_case_step_t *st)
{
	uint8_t zero[sizeof(st->actor)] = {0};

	return !sd_equal(st->actor, zero, sizeof(zero));
}

static json_t *actor_json(const sd_case_step_t *st)
{
	char hex[FP_HEX + 1];

	sd_hex_encode(st->actor, sizeof(st->actor), hex);
	return json_string(hex);
}

/* One step as stored: only the members it has. */
static json_t *step_json(const sd_case_step_t *st)
{
	const char *action = sd_case_action_name(st->action);
	json_t *o = action != NULL ? json_pack("{s:s, s:o}", "action", action, "date", date_json(st->date)) : NULL;
	int bad = o == NULL;

	if (!bad && actor_is_set(st))
		bad |= json_object_set_new(o, "actor", actor_json(st));
	if (!bad && st->kind != 0)
		bad |= json_object_set_new(o, "kind", json_string(sd_refer_kind_name(st->kind)));
	if (!bad && memchr(st->agency, '\0', sizeof(st->agency)) != NULL && st->agency[0] != '\0')
		bad |= json_object_set_new(o, "agency", json_string(st->agency));
	if (!bad && st->reason != 0)
		bad |= json_object_set_new(o, "reason", json_string(sd_terminate_reason_name(st->reason)));
	if (!bad && date_is_set(st->concluded))
		bad |= json_object_set_new(o, "concluded", date_json(st->concluded));
	if (!bad && st->has_text)
		bad |= json_object_set_new(o, "text", json_true());
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *steps_json(const sd_case_rec_t *rec)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < rec->flow.n_steps; i++)
		if (json_array_append_new(a, step_json(&rec->steps[i])) < 0) {
			json_decref(a);
			a = NULL;
		}
	return a;
}

static json_t *case_json(const sd_case_rec_t *rec)
{
	char digest[DIGEST_HEX + 1], upload[ID_HEX + 1], attorney[FP_HEX + 1], key[2 * SD_CASE_NOTICE_KEY_BYTES + 1];
	json_t *obj;
	int bad;

	sd_hex_encode(rec->digest, sizeof(rec->digest), digest);
	sd_hex_encode(rec->upload, sizeof(rec->upload), upload);
	sd_hex_encode(rec->attorney, sizeof(rec->attorney), attorney);
	obj = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s}", "v", REC_VERSION, "case", rec->case_number,
	                "digest", digest, "upload", upload, "attorney", attorney, "attorney_name", rec->attorney_name,
	                "received", date_json(rec->received), "decision_due", date_json(rec->decision_due), "state",
	                sd_case_state_name(rec->flow.state));
	bad = obj == NULL;
	if (!bad && rec->flow.n_steps > 0)
		bad |= json_object_set_new(obj, "steps", steps_json(rec));
	if (!bad && rec->has_notice_key) {
		sd_hex_encode(rec->notice_key, sizeof(rec->notice_key), key);
		bad |= json_object_set_new(obj, "notice_key", json_string(key));
		bad |= json_object_set_new(obj, "notices", json_integer(rec->notices));
	}
	if (!bad && rec->has_session) {
		bad |= json_object_set_new(obj, "locator_hash",
		                           sd_json_hex_string(rec->locator_hash, sizeof(rec->locator_hash)));
		bad |= json_object_set_new(obj, "consent_key",
		                           sd_json_hex_string(rec->consent_key, sizeof(rec->consent_key)));
	}
	if (bad) {
		json_decref(obj);
		obj = NULL;
	}
	return obj;
}

/* What the steps lead to is what rec says. */
static bool flow_equal(const sd_case_flow_t *a, const sd_case_flow_t *b)
{
	return a->state == b->state && sd_date_cmp(a->received, b->received) == 0 && a->extended == b->extended &&
	       a->kind == b->kind && strcmp(a->agency, b->agency) == 0 &&
	       sd_date_cmp(a->concluded, b->concluded) == 0 && sd_date_cmp(a->notified, b->notified) == 0 &&
	       sd_date_cmp(a->objected, b->objected) == 0 && sd_date_cmp(a->referred, b->referred) == 0 &&
	       a->n_steps == b->n_steps;
}

int sd_case_rec_encode(const sd_case_rec_t *rec, uint8_t **out, size_t *len)
{
	sd_case_rec_t *check = NULL;
	int r;

	*out = NULL;
	*len = 0;
	if (sd_case_state_name(rec->flow.state) == NULL || rec->flow.n_steps > SD_CASE_STEPS_MAX ||
	    memchr(rec->case_number, '\0', sizeof(rec->case_number)) == NULL ||
	    memchr(rec->attorney_name, '\0', sizeof(rec->attorney_name)) == NULL ||
	    memchr(rec->flow.agency, '\0', sizeof(rec->flow.agency)) == NULL)
		return sd_error(SD_ERR_INVALID, "case record: invalid state, step count, case number or name");
	if ((check = malloc(sizeof(*check))) == NULL)
		return SD_ERR_NOMEM;
	if ((r = record_dump_object(case_json(rec), out, len)) < 0)
		goto out;
	if (sd_case_rec_decode(*out, *len, NULL, check) < 0) {
		r = sd_error(SD_ERR_INVALID, "%s", sd_error_detail());
		goto fail;
	}
	if (!flow_equal(&check->flow, &rec->flow) || check->notices != rec->notices) {
		r = sd_error(SD_ERR_INVALID,
		             check->notices != rec->notices
		                     ? "case record: a count of notices needs the notice key"
		                     : "case record: its workflow fields are not what its steps lead to");
		goto fail;
	}
	r = 0;
	goto out;
fail:
	free(*out);
	*out = NULL;
	*len = 0;
out:
	free(check);
	return r;
}

/* --- the documents of the routes ------------------------------------------------------------ */

static json_t *deadline_json(const sd_case_flow_t *f, sd_date_t today, const sd_config_t *cal)
{
	sd_deadline_t d = sd_case_flow_deadline(f, cal);
	int64_t left;

	if (d.kind == SD_DEADLINE_NONE)
		return json_null();
	left = sd_date_to_days(d.due) - sd_date_to_days(today);
	return json_pack("{s:s, s:o, s:I, s:b}", "kind", sd_deadline_kind_name(d.kind), "due", date_json(d.due),
	                 "days_left", (json_int_t)left, "commission", d.commission);
}

json_t *sd_case_sum_json(const sd_case_sum_t *sum, sd_date_t today, const sd_config_t *cal)
{
	char digest[DIGEST_HEX + 1];

	sd_hex_encode(sum->digest, sizeof(sum->digest), digest);
	return json_pack("{s:s, s:s, s:o, s:o, s:s, s:o, s:b, s:s, s:I}", "case", sum->case_number, "header_digest",
	                 digest, "received", date_json(sum->flow.received), "decision_due",
	                 date_json(sum->decision_due), "state", sd_case_state_name(sum->flow.state), "deadline",
	                 deadline_json(&sum->flow, today, cal), "overdue", sd_case_flow_overdue(&sum->flow, today, cal),
	                 "attorney", sum->attorney_name, "notices", (json_int_t)sum->notices);
}

/* A name as a JSON string's content, escaped as jansson escapes it (the name's rules
 * leave only '"' and '\\' to escape). */
static void name_escape(const char *name, char out[2 * SD_CA_NAME_BYTES])
{
	size_t j = 0;

	for (size_t i = 0; name[i] != '\0' && j + 2 < 2 * SD_CA_NAME_BYTES; i++) {
		if (name[i] == '"' || name[i] == '\\')
			out[j++] = '\\';
		out[j++] = name[i];
	}
	out[j] = '\0';
}

size_t sd_case_sum_text(const sd_case_sum_t *sum, sd_date_t today, const sd_config_t *cal, char *out, size_t cap)
{
	char digest[DIGEST_HEX + 1], received[SD_DATE_TEXT_BYTES], due[SD_DATE_TEXT_BYTES], dl[128];
	char name[2 * SD_CA_NAME_BYTES];
	sd_deadline_t d = sd_case_flow_deadline(&sum->flow, cal);
	int n;

	sd_hex_encode(sum->digest, sizeof(sum->digest), digest);
	sd_date_format(sum->flow.received, received);
	sd_date_format(sum->decision_due, due);
	name_escape(sum->attorney_name, name);
	if (d.kind == SD_DEADLINE_NONE) {
		snprintf(dl, sizeof(dl), "null");
	} else {
		char when[SD_DATE_TEXT_BYTES];
		sd_date_format(d.due, when);
		snprintf(dl, sizeof(dl), "{\"kind\":\"%s\",\"due\":\"%s\",\"days_left\":%" PRId64 ",\"commission\":%s}",
		         sd_deadline_kind_name(d.kind), when, sd_date_to_days(d.due) - sd_date_to_days(today),
		         d.commission ? "true" : "false");
	}
	n = snprintf(out, cap,
	             "{\"case\":\"%s\",\"header_digest\":\"%s\",\"received\":\"%s\",\"decision_due\":\"%s\","
	             "\"state\":\"%s\",\"deadline\":%s,\"overdue\":%s,\"attorney\":\"%s\",\"notices\":%u}",
	             sum->case_number, digest, received, due, sd_case_state_name(sum->flow.state), dl,
	             sd_case_flow_overdue(&sum->flow, today, cal) ? "true" : "false", name, (unsigned)sum->notices);
	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

json_t *sd_case_summary_json(const sd_case_rec_t *rec, sd_date_t today, const sd_config_t *cal)
{
	sd_case_sum_t sum;

	sd_case_sum_of(rec, &sum);
	return sd_case_sum_json(&sum, today, cal);
}

static json_t *opt_date(sd_date_t d)
{
	return date_is_set(d) ? date_json(d) : json_null();
}

static json_t *opt_name(const char *name)
{
	return name != NULL ? json_string(name) : json_null();
}

static json_t *history_entry(const sd_case_step_t *st, size_t i)
{
	return json_pack("{s:I, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:b}", "step", (json_int_t)i, "action",
	                 sd_case_action_name(st->action), "date", date_json(st->date), "actor",
	                 actor_is_set(st) ? actor_json(st) : json_null(), "kind",
	                 opt_name(sd_refer_kind_name(st->kind)), "agency",
	                 opt_name(st->agency[0] != '\0' ? st->agency : NULL), "reason",
	                 opt_name(sd_terminate_reason_name(st->reason)), "concluded", opt_date(st->concluded), "text",
	                 st->has_text);
}

/* The officers' actions legal now (the whistleblower's objection is not theirs to take). */
static json_t *legal_json(const sd_case_flow_t *f, sd_date_t today, const sd_config_t *cal)
{
	unsigned legal = sd_case_flow_legal(f, today, cal);
	json_t *a = json_array();

	for (int i = SD_ACTION_EXTEND; a != NULL && i <= SD_CASE_ACTION_COUNT; i++)
		if ((legal & (1u << i)) && sd_case_action_is_officers((sd_case_action_t)i) &&
		    json_array_append_new(a, json_string(sd_case_action_name((sd_case_action_t)i))) < 0) {
			json_decref(a);
			a = NULL;
		}
	return a;
}

static json_t *history_json(const sd_case_rec_t *rec)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < rec->flow.n_steps; i++)
		if (json_array_append_new(a, history_entry(&rec->steps[i], i)) < 0) {
			json_decref(a);
			a = NULL;
		}
	return a;
}

/* A 32-byte key as base64, or null. */
static json_t *opt_key(const uint8_t *key)
{
	char b64[4 * ((SD_CASE_NOTICE_KEY_BYTES + 2) / 3) + 1];

	if (key == NULL)
		return json_null();
	sd_base64_encode(key, SD_CASE_NOTICE_KEY_BYTES, b64);
	return json_string(b64);
}

json_t *sd_case_detail_json(const sd_case_rec_t *rec, const uint8_t *attorney_box_key, sd_date_t today,
                            const sd_config_t *cal)
{
	const sd_case_flow_t *f = &rec->flow;
	json_t *doc = sd_case_summary_json(rec, today, cal);
	json_t *more =
	        json_pack("{s:o, s:b, s:o, s:o, s:o, s:o, s:o, s:o*, s:o, s:o, s:o*}", "decision_due",
	                  date_json(rec->decision_due), "extended", f->extended, "agency",
	                  opt_name(f->agency[0] != '\0' ? f->agency : NULL), "kind",
	                  opt_name(sd_refer_kind_name(f->kind)), "concluded", opt_date(f->concluded), "notified",
	                  opt_date(f->notified), "objected", opt_date(f->objected), "legal", legal_json(f, today, cal),
	                  "notice_key", opt_key(rec->has_notice_key ? rec->notice_key : NULL), "attorney_box_key",
	                  opt_key(attorney_box_key), "history", history_json(rec));

	if (doc == NULL || more == NULL || json_object_size(more) != 11 || json_object_update(doc, more) < 0) {
		json_decref(doc);
		doc = NULL;
	}
	json_decref(more);
	return doc;
}

/* The whistleblower's view: the detail without what names or keys anyone else (the
 * attorney, the officers' fingerprints, the box keys, the actions only officers take),
 * plus "objection_until". */
json_t *sd_case_whistleblower_json(const sd_case_rec_t *rec, sd_date_t today, const sd_config_t *cal)
{
	static const char *const drop[] = {"attorney", "attorney_box_key", "notice_key", "legal", NULL};
	json_t *doc = sd_case_detail_json(rec, NULL, today, cal), *history, *step, *deadline;
	const char *kind;
	size_t i;

	if (doc == NULL)
		return NULL;
	for (i = 0; drop[i] != NULL; i++)
		json_object_del(doc, drop[i]);
	history = json_object_get(doc, "history");
	json_array_foreach(history, i, step) json_object_del(step, "actor");
	deadline = json_object_get(doc, "deadline");
	kind = json_string_value(json_object_get(deadline, "kind"));
	if (json_object_set(doc, "objection_until",
	                    kind != NULL && strcmp(kind, "objection") == 0 ? json_object_get(deadline, "due")
	                                                                   : json_null()) < 0) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

/* --- the listing's summary and index keys --------------------------------------------------- */

void sd_case_sum_of(const sd_case_rec_t *rec, sd_case_sum_t *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->case_number, rec->case_number, sizeof(out->case_number));
	out->case_number[SD_CASE_NUMBER_LEN] = '\0';
	memcpy(out->digest, rec->digest, sizeof(out->digest));
	memcpy(out->attorney, rec->attorney, sizeof(out->attorney));
	memcpy(out->attorney_name, rec->attorney_name, sizeof(out->attorney_name));
	out->attorney_name[SD_CA_NAME_BYTES - 1] = '\0';
	out->decision_due = rec->decision_due;
	out->flow.state = rec->flow.state;
	out->flow.received = rec->received;
	out->flow.extended = rec->flow.extended;
	out->flow.notified = rec->flow.notified;
	out->flow.objected = rec->flow.objected;
	out->notices = rec->notices;
}

static void sum_date_put(uint8_t *p, sd_date_t d)
{
	sd_store_le32(p, date_is_set(d) ? sd_date_to_u32(d) : 0);
}

int sd_case_sum_encode(const sd_case_sum_t *sum, uint8_t out[SD_CASE_SUM_MAX], size_t *len)
{
	size_t n = strnlen(sum->attorney_name, SD_CA_NAME_BYTES);
	sd_case_sum_t check;

	*len = 0;
	if (n == 0 || n > SD_RECEIPT_NAME_MAX ||
	    strnlen(sum->case_number, SD_CASE_NUMBER_BYTES) != SD_CASE_NUMBER_LEN || sum->notices > SD_CASE_NOTICES_MAX)
		return sd_error(SD_ERR_INVALID, "case summary: invalid case number, attorney name or count of notices");
	out[0] = SD_CASE_SUM_VERSION;
	out[1] = (uint8_t)sum->flow.state;
	out[2] = sum->flow.extended ? 1 : 0;
	sum_date_put(out + 3, sum->flow.received);
	sum_date_put(out + 7, sum->decision_due);
	sum_date_put(out + 11, sum->flow.notified);
	sum_date_put(out + 15, sum->flow.objected);
	memcpy(out + 19, sum->case_number, SD_CASE_NUMBER_LEN);
	memcpy(out + 30, sum->digest, SD_HASH_BYTES);
	memcpy(out + 62, sum->attorney, SD_CA_FINGERPRINT_BYTES);
	out[94] = (uint8_t)(sum->notices & 0xff);
	out[95] = (uint8_t)(sum->notices >> 8);
	out[96] = (uint8_t)n;
	memcpy(out + SD_CASE_SUM_FIXED, sum->attorney_name, n);
	if (sd_case_sum_decode(out, SD_CASE_SUM_FIXED + n, &check) < 0)
		return sd_error(SD_ERR_INVALID, "%s", sd_error_detail());
	*len = SD_CASE_SUM_FIXED + n;
	return 0;
}

/* A date of a summary; optional ones may be 0 (not set). */
static bool sum_date_get(const uint8_t *p, bool optional, sd_date_t *out)
{
	uint32_t v = sd_load_le32(p);

	if (v == 0) {
		*out = (sd_date_t){0, 0, 0};
		return optional;
	}
	if (!sd_date_is_valid((int)(v / 10000), (int)(v / 100 % 100), (int)(v % 100)))
		return false;
	*out = (sd_date_t){(int)(v / 10000), (int)(v / 100 % 100), (int)(v % 100)};
	return true;
}

int sd_case_sum_decode(const uint8_t *buf, size_t len, sd_case_sum_t *out)
{
	size_t n;

	memset(out, 0, sizeof(*out));
	if (len < SD_CASE_SUM_FIXED || buf[0] != SD_CASE_SUM_VERSION)
		return sd_error(SD_ERR_FORMAT, "case summary: not version %d, or %zu bytes", SD_CASE_SUM_VERSION, len);
	n = buf[96];
	out->notices = (uint32_t)buf[94] | (uint32_t)buf[95] << 8;
	if (out->notices > SD_CASE_NOTICES_MAX)
		return sd_error(SD_ERR_FORMAT, "case summary: %u notices", (unsigned)out->notices);
	if (n == 0 || n > SD_RECEIPT_NAME_MAX || len != SD_CASE_SUM_FIXED + n)
		return sd_error(SD_ERR_FORMAT, "case summary: %zu bytes for a name of %zu", len, n);
	if (sd_case_state_name((sd_case_state_t)buf[1]) == NULL || buf[2] > 1)
		return sd_error(SD_ERR_FORMAT, "case summary: unknown state %u or flags %u", buf[1], buf[2]);
	out->flow.state = (sd_case_state_t)buf[1];
	out->flow.extended = buf[2] == 1;
	if (!sum_date_get(buf + 3, false, &out->flow.received) || !sum_date_get(buf + 7, false, &out->decision_due) ||
	    !sum_date_get(buf + 11, true, &out->flow.notified) || !sum_date_get(buf + 15, true, &out->flow.objected))
		return sd_error(SD_ERR_FORMAT, "case summary: an invalid date");
	memcpy(out->case_number, buf + 19, SD_CASE_NUMBER_LEN);
	memcpy(out->digest, buf + 30, SD_HASH_BYTES);
	memcpy(out->attorney, buf + 62, SD_CA_FINGERPRINT_BYTES);
	memcpy(out->attorney_name, buf + SD_CASE_SUM_FIXED, n);
	if (!sd_case_number_is_valid(out->case_number) || memchr(out->attorney_name, '\0', n) != NULL ||
	    !name_is_valid(out->attorney_name))
		return sd_error(SD_ERR_FORMAT, "case summary: an invalid case number or attorney name");
	return 0;
}

void sd_case_state_key(sd_case_state_t state, const char *case_number, uint8_t out[SD_CASE_STATE_KEY_BYTES])
{
	out[0] = (uint8_t)state;
	memcpy(out + 1, case_number, SD_CASE_NUMBER_LEN);
}

void sd_case_due_prefix(sd_date_t d, uint8_t out[4])
{
	uint32_t v = sd_date_to_u32(d);

	out[0] = (uint8_t)(v >> 24);
	out[1] = (uint8_t)(v >> 16);
	out[2] = (uint8_t)(v >> 8);
	out[3] = (uint8_t)v;
}

bool sd_case_due_key(const sd_case_flow_t *f, const char *case_number, uint8_t out[SD_CASE_DUE_KEY_BYTES])
{
	static const sd_config_t weekends_only; /* no holidays: the earliest the due date can be */
	sd_deadline_t d = sd_case_flow_deadline(f, &weekends_only);

	if (d.kind == SD_DEADLINE_NONE)
		return false;
	sd_case_due_prefix(d.due, out);
	memcpy(out + 4, case_number, SD_CASE_NUMBER_LEN);
	return true;
}

void sd_case_locator_key(const uint8_t locator_hash[SD_HASH_BYTES], const char *case_number,
                         uint8_t out[SD_CASE_LOCATOR_KEY_BYTES])
{
	memset(out, 0, SD_CASE_LOCATOR_KEY_BYTES);
	memcpy(out, locator_hash, SD_HASH_BYTES);
	memcpy(out + SD_HASH_BYTES, case_number, strnlen(case_number, SD_CASE_NUMBER_LEN));
}

int sd_case_index_req(sd_store_req_t *req, const sd_case_flow_t *before, const sd_case_rec_t *rec)
{
	const char *cn = rec->case_number;
	uint8_t sum_bytes[SD_CASE_SUM_MAX], state_key[SD_CASE_STATE_KEY_BYTES], due_key[SD_CASE_DUE_KEY_BYTES];
	size_t len;
	sd_case_sum_t sum;
	int r;

	sd_case_sum_of(rec, &sum);
	if ((r = sd_case_sum_encode(&sum, sum_bytes, &len)) < 0)
		return r;
	if (before != NULL) {
		sd_case_state_key(before->state, cn, state_key);
		sd_store_req_del(req, SD_STORE_DB_CASE_BY_STATE, state_key, sizeof(state_key));
		if (sd_case_due_key(before, cn, due_key))
			sd_store_req_del(req, SD_STORE_DB_CASE_BY_DUE, due_key, sizeof(due_key));
	}
	sd_store_req_put(req, SD_STORE_DB_CASE_SUMMARIES, (const uint8_t *)cn, SD_CASE_NUMBER_LEN, sum_bytes, len, 0);
	sd_case_state_key(rec->flow.state, cn, state_key);
	r = sd_store_req_put(req, SD_STORE_DB_CASE_BY_STATE, state_key, sizeof(state_key), NULL, 0, 0);
	if (r >= 0 && sd_case_due_key(&rec->flow, cn, due_key))
		r = sd_store_req_put(req, SD_STORE_DB_CASE_BY_DUE, due_key, sizeof(due_key), NULL, 0, 0);
	if (r >= 0 && before == NULL && rec->has_session) {
		uint8_t loc_key[SD_CASE_LOCATOR_KEY_BYTES];

		sd_case_locator_key(rec->locator_hash, cn, loc_key);
		r = sd_store_req_put(req, SD_STORE_DB_CASE_BY_LOCATOR, loc_key, sizeof(loc_key), NULL, 0, 0);
	}
	return r < 0 ? r : 0;
}
