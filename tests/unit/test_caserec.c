/*
 * test_caserec.c — the case record (server/caserec.c): its one canonical encoding, pinned
 * byte for byte; a round trip of the longest history a case may have; every rule of the
 * decoder (unknown members, bad names, a state its steps do not lead to, an illegal step
 * sequence, too many steps, an oversized record, versions); a record written before the
 * workflow existed; the notice key and the count of notices (both or neither); the
 * case_texts key; the documents of GET /v1/cases and GET /v1/cases/{case}; the listing's
 * compact summary (pinned, strict, the same document as the record's) and its index
 * keys. No server, no store.
 */
#include "unit.h"

#include <jansson.h>

#include "sealdrop/caserec.h"
#include "sealdrop/config.h"

#define TEXT(s) (const uint8_t *)(s), strlen(s)

static const char fp_hex[] = "a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0";
static const char dg_hex[] = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
#define OFFICER_HEX "a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5"

/* A record of the previous version (before the workflow): no "steps". */
#define OLD_REC                                                                                                        \
	"{\"attorney\":\"a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0\",\"attorney_name\":"        \
	"\"Attorney Kim\",\"case\":\"2026-000001\",\"decision_due\":\"2027-01-21\",\"digest\":"                        \
	"\"0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20\",\"received\":\"2026-11-22\","            \
	"\"state\":\"received\",\"upload\":\"00112233445566778899aabbccddeeff\",\"v\":1}"

/* The reference case after extend (2026-03-20) and refer (2026-04-01). */
#define STEPS_REC                                                                                                      \
	"{\"attorney\":\"a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0\",\"attorney_name\":"        \
	"\"Attorney Kim\",\"case\":\"2026-000001\",\"decision_due\":\"2026-05-11\",\"digest\":"                        \
	"\"0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20\",\"received\":\"2026-03-12\","            \
	"\"state\":\"referred\",\"steps\":[{\"action\":\"extend\",\"actor\":\"" OFFICER_HEX "\",\"date\":"             \
	"\"2026-03-20\",\"text\":true},{\"action\":\"refer\",\"actor\":\"" OFFICER_HEX "\",\"agency\":\"police\","     \
	"\"date\":\"2026-04-01\",\"kind\":\"inspection\"}],\"upload\":\"00112233445566778899aabbccddeeff\",\"v\":1}"

/* STEPS_REC as filed since notices exist: the notice key, and notices 0..2 written. */
#define NK_HEX "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"
#define NOTICES_REC                                                                                                    \
	"{\"attorney\":\"a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0\",\"attorney_name\":"        \
	"\"Attorney Kim\",\"case\":\"2026-000001\",\"decision_due\":\"2026-05-11\",\"digest\":"                        \
	"\"0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20\",\"notice_key\":\"" NK_HEX "\","          \
	"\"notices\":3,\"received\":\"2026-03-12\",\"state\":\"referred\",\"steps\":[{\"action\":\"extend\","          \
	"\"actor\":\"" OFFICER_HEX                                                                                     \
	"\",\"date\":\"2026-03-20\",\"text\":true},{\"action\":\"refer\",\"actor\":\"" OFFICER_HEX                     \
	"\",\"agency\":\"police\",\"date\":\"2026-04-01\",\"kind\":\"inspection\"}],\"upload\":"                       \
	"\"00112233445566778899aabbccddeeff\",\"v\":1}"

static sd_config_t cal;

static sd_date_t D(int y, int m, int d)
{
	return (sd_date_t){y, m, d};
}

/* The reference case: received 2026-03-12, no steps. Heap: a record is ~9 KiB. */
static sd_case_rec_t *new_rec(void)
{
	sd_case_rec_t *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	snprintf(c->case_number, sizeof(c->case_number), "2026-000001");
	snprintf(c->attorney_name, sizeof(c->attorney_name), "Attorney Kim");
	c->received = D(2026, 3, 12);
	c->decision_due = D(2026, 5, 11);
	unit_hex(fp_hex, c->attorney, sizeof(c->attorney));
	unit_hex(dg_hex, c->digest, sizeof(c->digest));
	unit_hex("00112233445566778899aabbccddeeff", c->upload, sizeof(c->upload));
	sd_case_rec_init(c);
	return c;
}

/* Takes action a on day `on` (valid members, as the routes build them) and records it. */
static void add(sd_case_rec_t *c, sd_case_action_t a, sd_date_t on)
{
	sd_case_step_t s = {.action = a, .date = on};
	size_t n = c->flow.n_steps;

	if (a != SD_ACTION_OBJECT)
		memset(s.actor, 0xa5, sizeof(s.actor));
	if (a == SD_ACTION_REFER) {
		s.kind = SD_REFER_INSPECTION;
		snprintf(s.agency, sizeof(s.agency), "police");
	} else if (a == SD_ACTION_FORWARD) {
		snprintf(s.agency, sizeof(s.agency), "prosecution");
	} else if (a == SD_ACTION_TERMINATE) {
		s.reason = SD_TERMINATE_NOT_INSPECTABLE;
	} else if (a == SD_ACTION_OUTCOME) {
		s.concluded = sd_date_add_days(on, -2);
	}
	s.has_text = a == SD_ACTION_EXTEND || a == SD_ACTION_OUTCOME || a == SD_ACTION_OBJECT ||
	             a == SD_ACTION_REINVESTIGATE;
	if (sd_case_flow_apply(&c->flow, &s, on, &cal) != 0)
		fail_msg("%s refused: %s", sd_case_action_name(a), sd_error_detail());
	c->steps[n] = s;
}

/* The acceptance path: extend, refer, outcome, object on day 5, reinvestigate,
 * outcome (a Saturday: the window runs to Monday 2026-06-29), close on 06-30. */
static sd_case_rec_t *acceptance_rec(void)
{
	sd_case_rec_t *c = new_rec();

	add(c, SD_ACTION_EXTEND, D(2026, 3, 20));
	add(c, SD_ACTION_REFER, D(2026, 4, 1));
	add(c, SD_ACTION_OUTCOME, D(2026, 5, 4));
	add(c, SD_ACTION_OBJECT, D(2026, 5, 9));
	add(c, SD_ACTION_REINVESTIGATE, D(2026, 5, 15));
	add(c, SD_ACTION_OUTCOME, D(2026, 6, 20));
	add(c, SD_ACTION_CLOSE, D(2026, 6, 30));
	return c;
}

static void assert_rec_equal(const sd_case_rec_t *a, const sd_case_rec_t *b)
{
	assert_string_equal(a->case_number, b->case_number);
	assert_memory_equal(a->digest, b->digest, sizeof(a->digest));
	assert_memory_equal(a->upload, b->upload, sizeof(a->upload));
	assert_memory_equal(a->attorney, b->attorney, sizeof(a->attorney));
	assert_string_equal(a->attorney_name, b->attorney_name);
	assert_int_equal(sd_date_cmp(a->received, b->received), 0);
	assert_int_equal(sd_date_cmp(a->decision_due, b->decision_due), 0);
	assert_int_equal(a->flow.state, b->flow.state);
	assert_int_equal(a->flow.extended, b->flow.extended);
	assert_int_equal(a->flow.kind, b->flow.kind);
	assert_string_equal(a->flow.agency, b->flow.agency);
	assert_int_equal(sd_date_cmp(a->flow.received, b->flow.received), 0);
	assert_int_equal(sd_date_cmp(a->flow.concluded, b->flow.concluded), 0);
	assert_int_equal(sd_date_cmp(a->flow.notified, b->flow.notified), 0);
	assert_int_equal(sd_date_cmp(a->flow.objected, b->flow.objected), 0);
	assert_int_equal(a->flow.n_steps, b->flow.n_steps);
	assert_int_equal(a->has_notice_key, b->has_notice_key);
	assert_memory_equal(a->notice_key, b->notice_key, sizeof(a->notice_key));
	assert_int_equal(a->notices, b->notices);
	assert_int_equal(a->has_session, b->has_session);
	assert_memory_equal(a->locator_hash, b->locator_hash, sizeof(a->locator_hash));
	assert_memory_equal(a->consent_key, b->consent_key, sizeof(a->consent_key));
	for (size_t i = 0; i < a->flow.n_steps; i++) {
		const sd_case_step_t *x = &a->steps[i], *y = &b->steps[i];
		assert_int_equal(x->action, y->action);
		assert_int_equal(sd_date_cmp(x->date, y->date), 0);
		assert_memory_equal(x->actor, y->actor, sizeof(x->actor));
		assert_int_equal(x->kind, y->kind);
		assert_string_equal(x->agency, y->agency);
		assert_int_equal(x->reason, y->reason);
		assert_int_equal(sd_date_cmp(x->concluded, y->concluded), 0);
		assert_int_equal(x->has_text, y->has_text);
	}
}

/* encode -> decode -> the same record -> encode -> the same bytes. */
static void round_trip(const sd_case_rec_t *rec, const char *expect)
{
	sd_case_rec_t *back = calloc(1, sizeof(*back));
	uint8_t *buf, *again;
	size_t len, len2;

	assert_non_null(back);
	assert_int_equal(sd_case_rec_encode(rec, &buf, &len), 0);
	assert_true(len <= SD_CASE_RECORD_MAX);
	if (expect != NULL) {
		assert_int_equal(len, strlen(expect));
		assert_memory_equal(buf, expect, len);
	}
	assert_int_equal(sd_case_rec_decode(buf, len, &cal, back), 0);
	assert_rec_equal(rec, back);
	assert_int_equal(sd_case_rec_encode(back, &again, &len2), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(buf, again, len);
	free(buf);
	free(again);
	free(back);
}

/* --- encoding ------------------------------------------------------------------------------ */

static void test_canonical(void **state)
{
	sd_case_rec_t *rec = new_rec();

	(void)state;
	add(rec, SD_ACTION_EXTEND, D(2026, 3, 20));
	add(rec, SD_ACTION_REFER, D(2026, 4, 1));
	round_trip(rec, STEPS_REC);
	free(rec);
	rec = acceptance_rec();
	round_trip(rec, NULL);
	free(rec);
	/* Terminated and forwarded cases. */
	rec = new_rec();
	add(rec, SD_ACTION_TERMINATE, D(2026, 3, 30));
	round_trip(rec, NULL);
	free(rec);
	rec = new_rec();
	add(rec, SD_ACTION_FORWARD, D(2026, 3, 30));
	round_trip(rec, NULL);
	free(rec);
}

/* The longest history: 64 steps, with the longest agency id and a long name. */
static void test_long_history(void **state)
{
	sd_case_rec_t *rec = new_rec();
	sd_date_t day = D(2026, 3, 13);
	uint8_t *buf;
	size_t len;

	(void)state;
	snprintf(rec->attorney_name, sizeof(rec->attorney_name), "변호사 김민지 (법무법인 한결, 서울 서초구)");
	add(rec, SD_ACTION_EXTEND, day);
	add(rec, SD_ACTION_REFER, day);
	memset(rec->steps[1].agency, 'x', SD_AGENCY_ID_MAX);
	rec->steps[1].agency[SD_AGENCY_ID_MAX] = '\0';
	memcpy(rec->flow.agency, rec->steps[1].agency, sizeof(rec->flow.agency));
	add(rec, SD_ACTION_OUTCOME, day = sd_date_add_days(day, 3));
	for (int i = 0; i < 20; i++) {
		add(rec, SD_ACTION_OBJECT, day = sd_date_add_days(day, 1));
		add(rec, SD_ACTION_REINVESTIGATE, day = sd_date_add_days(day, 1));
		add(rec, SD_ACTION_OUTCOME, day = sd_date_add_days(day, 5));
	}
	add(rec, SD_ACTION_OBJECT, day = sd_date_add_days(day, 1));
	assert_int_equal(rec->flow.n_steps, SD_CASE_STEPS_MAX);
	round_trip(rec, NULL);
	assert_int_equal(sd_case_rec_encode(rec, &buf, &len), 0);
	assert_true(len < SD_CASE_RECORD_MAX / 2); /* room to spare */
	free(buf);
	free(rec);
}

static void test_encode_refused(void **state)
{
	sd_case_rec_t *rec = new_rec();
	uint8_t *buf = (uint8_t *)"x";
	size_t len = 1;

	(void)state;
	add(rec, SD_ACTION_REFER, D(2026, 4, 1));
	/* The flow must be what the steps lead to. */
	rec->flow.state = SD_CASE_CLOSED;
	assert_int_equal(sd_case_rec_encode(rec, &buf, &len), SD_ERR_INVALID);
	assert_null(buf);
	assert_int_equal(len, 0);
	rec->flow.state = SD_CASE_REFERRED;
	snprintf(rec->flow.agency, sizeof(rec->flow.agency), "customs");
	assert_int_equal(sd_case_rec_encode(rec, &buf, &len), SD_ERR_INVALID);
	assert_string_equal(sd_error_detail(), "case record: its workflow fields are not what its steps lead to");
	snprintf(rec->flow.agency, sizeof(rec->flow.agency), "police");
	assert_int_equal(sd_case_rec_encode(rec, &buf, &len), 0);
	free(buf);
	/* A step that was never legal. */
	rec->steps[0].kind = (sd_refer_kind_t)0;
	assert_int_equal(sd_case_rec_encode(rec, &buf, &len), SD_ERR_INVALID);
	free(rec);
	/* The filing's own fields. */
	rec = new_rec();
	snprintf(rec->attorney_name, sizeof(rec->attorney_name), "Kim\n");
	assert_int_equal(sd_case_rec_encode(rec, &buf, &len), SD_ERR_INVALID);
	free(rec);
	rec = new_rec();
	rec->decision_due = D(2026, 3, 11);
	assert_int_equal(sd_case_rec_encode(rec, &buf, &len), SD_ERR_INVALID);
	free(rec);
	rec = new_rec();
	snprintf(rec->case_number, sizeof(rec->case_number), "26-1");
	assert_int_equal(sd_case_rec_encode(rec, &buf, &len), SD_ERR_INVALID);
	free(rec);
}

/* --- decoding ------------------------------------------------------------------------------ */

/* STEPS_REC with one edit: from -> to. */
static void edited(const char *from, const char *to, char *out, size_t cap)
{
	const char *at = strstr(STEPS_REC, from);

	assert_non_null(at);
	snprintf(out, cap, "%.*s%s%s", (int)(at - STEPS_REC), STEPS_REC, to, at + strlen(from));
}

static void test_decode_refused(void **state)
{
	static const struct {
		const char *from, *to, *msg;
		int err;
	} edits[] = {
	        {"\"v\":1}", "\"v\":1,\"note\":1}", "case record: unknown field 'note'", SD_ERR_FORMAT},
	        {"\"v\":1", "\"v\":2", NULL, SD_ERR_VERSION},
	        {"\"text\":true}", "\"text\":true,\"note\":\"x\"}", "case record: step 0: unknown field 'note'",
	         SD_ERR_FORMAT},
	        {"\"state\":\"referred\"", "\"state\":\"pending\"",
	         "case record: field 'state' is not a state of the workflow", SD_ERR_FORMAT},
	        {"\"state\":\"referred\"", "\"state\":\"extended\"",
	         "case record: field 'state' is extended but the steps lead to referred", SD_ERR_FORMAT},
	        {"\"state\":\"referred\",", "", "case record: field 'state' is missing", SD_ERR_FORMAT},
	        {"\"action\":\"refer\"", "\"action\":\"extend\"",
	         "case record: step 1: case is extended (a case is extended only once): the legal actions are "
	         "refer, forward, terminate",
	         SD_ERR_FORMAT},
	        {"\"action\":\"extend\"", "\"action\":\"prolong\"",
	         "case record: step 0: field 'action' has an unknown value", SD_ERR_FORMAT},
	        {"\"kind\":\"inspection\"", "\"kind\":\"audit\"",
	         "case record: step 1: field 'kind' has an unknown value", SD_ERR_FORMAT},
	        {",\"kind\":\"inspection\"", "",
	         "case record: step 1: a refer step needs a kind: inspection or investigation", SD_ERR_FORMAT},
	        {"\"agency\":\"police\"", "\"agency\":\"Police!\"",
	         "case record: step 1: a refer step needs an agency id: 1 to 64 of [a-z0-9-]", SD_ERR_FORMAT},
	        {"\"text\":true", "\"text\":false",
	         "case record: step 0: field 'text' is true, or absent for a step without text", SD_ERR_FORMAT},
	        {",\"text\":true", "", "case record: step 0: an extend step needs its reason", SD_ERR_FORMAT},
	        {"\"date\":\"2026-04-01\"", "\"date\":\"2026-03-19\"", "case record: step 1 is dated before step 0",
	         SD_ERR_FORMAT},
	        {"\"date\":\"2026-03-20\"", "\"date\":\"2026-03-11\"",
	         "case record: step 0: a step cannot be taken before the case was received on 2026-03-12",
	         SD_ERR_FORMAT},
	        {"\"date\":\"2026-03-20\"", "\"date\":\"2026-02-30\"",
	         "case record: step 0: field 'date' must be a date YYYY-MM-DD", SD_ERR_FORMAT},
	        {"\"actor\":\"" OFFICER_HEX "\",\"date\":\"2026-03-20\"",
	         "\"actor\":\"0000000000000000000000000000000000000000000000000000000000000000\",\"date\":\"2026-03-"
	         "20\"",
	         "case record: step 0: field 'actor' is absent for the whistleblower", SD_ERR_FORMAT},
	        {"\"actor\":\"" OFFICER_HEX "\",\"date\":\"2026-03-20\"", "\"date\":\"2026-03-20\"",
	         "case record: step 0: an extend step needs the officer's certificate fingerprint", SD_ERR_FORMAT},
	        {"\"steps\":[", "\"steps\":[3,", "case record: step 0: not a JSON object", SD_ERR_FORMAT},
	        {"\"steps\":[", "\"steps\":{\"a\":[", NULL, SD_ERR_FORMAT}, /* not JSON any more */
	        {"\"attorney_name\":\"Attorney Kim\"", "\"attorney_name\":\"Kim\\u0007\"",
	         "case record: field 'attorney_name' has control characters", SD_ERR_FORMAT},
	        {"\"case\":\"2026-000001\"", "\"case\":\"1999-000001\"",
	         "case record: field 'case' must be a case number YYYY-NNNNNN", SD_ERR_FORMAT},
	        {"\"decision_due\":\"2026-05-11\",", "", "case record: field 'decision_due' is missing", SD_ERR_FORMAT},
	        {"\"received\":\"2026-03-12\"", "\"received\":20260312", NULL, SD_ERR_FORMAT},
	};
	char buf[4096];
	sd_case_rec_t *out = calloc(1, sizeof(*out));

	(void)state;
	assert_non_null(out);
	assert_int_equal(sd_case_rec_decode(TEXT(STEPS_REC), &cal, out), 0);
	assert_int_equal(out->flow.state, SD_CASE_REFERRED);
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		edited(edits[i].from, edits[i].to, buf, sizeof(buf));
		int r = sd_case_rec_decode(TEXT(buf), &cal, out);
		if (r != edits[i].err)
			fail_msg("edit %zu: %d (%s): %s", i, r, sd_error_detail(), buf);
		if (edits[i].msg != NULL)
			assert_string_equal(sd_error_detail(), edits[i].msg);
		assert_string_equal(out->case_number, ""); /* nothing half-decoded */
	}
	/* An empty history is written without "steps": one encoding per record. */
	snprintf(buf, sizeof(buf), "%s", OLD_REC);
	{
		char with[1024];
		const char *at = strstr(buf, "\"upload\"");
		snprintf(with, sizeof(with), "%.*s\"steps\":[],%s", (int)(at - buf), buf, at);
		assert_int_equal(sd_case_rec_decode(TEXT(with), &cal, out), SD_ERR_FORMAT);
		assert_string_equal(sd_error_detail(), "case record: field 'steps' must be a non-empty array (absent "
		                                       "before the first step)");
	}
	free(out);
}

/* 65 steps, and a record beyond SD_CASE_RECORD_MAX. */
static void test_decode_limits(void **state)
{
	sd_case_rec_t *rec = new_rec(), *out = calloc(1, sizeof(*out));
	sd_date_t day = D(2026, 3, 13);
	static const char extra[] =
	        ",{\"action\":\"reinvestigate\",\"actor\":\"" OFFICER_HEX "\",\"date\":\"2026-12-30\",\"text\":true}]";
	uint8_t *buf;
	size_t len;
	char *big;

	(void)state;
	assert_non_null(out);
	add(rec, SD_ACTION_EXTEND, day);
	add(rec, SD_ACTION_REFER, day);
	add(rec, SD_ACTION_OUTCOME, day = sd_date_add_days(day, 3));
	for (int i = 0; i < 20; i++) {
		add(rec, SD_ACTION_OBJECT, day = sd_date_add_days(day, 1));
		add(rec, SD_ACTION_REINVESTIGATE, day = sd_date_add_days(day, 1));
		add(rec, SD_ACTION_OUTCOME, day = sd_date_add_days(day, 5));
	}
	add(rec, SD_ACTION_OBJECT, day = sd_date_add_days(day, 1));
	assert_int_equal(sd_case_rec_encode(rec, &buf, &len), 0);
	/* Insert a 65th step before the array's end. */
	big = calloc(1, SD_CASE_RECORD_MAX + 2);
	assert_non_null(big);
	const char *end = strstr((const char *)buf, "}],\"upload\"");
	assert_non_null(end);
	snprintf(big, SD_CASE_RECORD_MAX + 2, "%.*s}%s%s", (int)(end - (const char *)buf), (const char *)buf, extra,
	         end + 2);
	assert_int_equal(sd_case_rec_decode(TEXT(big), &cal, out), SD_ERR_FORMAT);
	assert_string_equal(sd_error_detail(), "case record: field 'steps' has 65 steps; a case records at most 64");
	/* Oversized: the same valid record padded with spaces past the limit. */
	memset(big, ' ', SD_CASE_RECORD_MAX + 1);
	memcpy(big, buf, len - 1);
	big[SD_CASE_RECORD_MAX] = '}';
	assert_int_equal(sd_case_rec_decode((const uint8_t *)big, SD_CASE_RECORD_MAX + 1, &cal, out), SD_ERR_TOOBIG);
	assert_int_equal(sd_case_rec_decode((const uint8_t *)big, SD_CASE_RECORD_MAX, &cal, out), SD_ERR_FORMAT);
	big[SD_CASE_RECORD_MAX - 1] = '}';
	assert_int_equal(sd_case_rec_decode((const uint8_t *)big, SD_CASE_RECORD_MAX, &cal, out), 0);
	assert_int_equal(out->flow.n_steps, 64);
	free(big);
	free(buf);
	free(rec);
	free(out);
}

/* A record of the previous version reads as a received case without steps, and is
 * written back byte for byte. */
static void test_old_format(void **state)
{
	sd_case_rec_t *out = calloc(1, sizeof(*out));
	char buf[1024];
	uint8_t *enc;
	size_t len;

	(void)state;
	assert_non_null(out);
	assert_int_equal(sd_case_rec_decode(TEXT(OLD_REC), &cal, out), 0);
	assert_int_equal(out->flow.state, SD_CASE_RECEIVED);
	assert_int_equal(out->flow.n_steps, 0);
	assert_false(out->flow.extended);
	assert_int_equal(sd_date_cmp(out->flow.received, D(2026, 11, 22)), 0);
	assert_string_equal(out->attorney_name, "Attorney Kim");
	assert_int_equal(sd_case_rec_encode(out, &enc, &len), 0);
	assert_int_equal(len, strlen(OLD_REC));
	assert_memory_equal(enc, OLD_REC, len);
	free(enc);
	/* Without steps the only state is received. */
	const char *at = strstr(OLD_REC, "\"state\":\"received\"");
	snprintf(buf, sizeof(buf), "%.*s\"state\":\"closed\"%s", (int)(at - OLD_REC), OLD_REC,
	         at + strlen("\"state\":\"received\""));
	assert_int_equal(sd_case_rec_decode(TEXT(buf), &cal, out), SD_ERR_FORMAT);
	assert_string_equal(sd_error_detail(), "case record: field 'state' is closed but the steps lead to received");
	free(out);
}

/* A record reads back whatever the holiday table says now: the close of 2026-06-30 was
 * legal on that day, even if 2026-06-29 is declared a holiday afterwards. */
static void test_calendar_change(void **state)
{
	sd_case_rec_t *rec = acceptance_rec(), *out = calloc(1, sizeof(*out));
	sd_holiday_t temporary = {.date = {2026, 6, 29}, .name = (char *)"temporary holiday"};
	sd_config_t later = cal;
	sd_case_flow_t f;
	sd_case_step_t close = rec->steps[6];
	uint8_t *buf;
	size_t len;

	(void)state;
	assert_non_null(out);
	later.holidays = &temporary;
	later.n_holidays = 1;
	/* Under the new table the close would be early... */
	f = rec->flow;
	f.state = SD_CASE_OUTCOME_NOTIFIED;
	f.n_steps = 6;
	assert_int_equal(sd_case_flow_apply(&f, &close, D(2026, 6, 30), &later), SD_ERR_REFUSED);
	/* ...but the record it is part of still reads. */
	assert_int_equal(sd_case_rec_encode(rec, &buf, &len), 0);
	assert_int_equal(sd_case_rec_decode(buf, len, &later, out), 0);
	assert_int_equal(out->flow.state, SD_CASE_CLOSED);
	free(buf);
	free(rec);
	free(out);
}

/* --- keys and documents --------------------------------------------------------------------- */

static void test_text_key(void **state)
{
	uint8_t key[SD_CASE_TEXT_KEY_BYTES], other[SD_CASE_TEXT_KEY_BYTES];
	static const uint8_t want[] = {'2', '0', '2', '6', '-', '0', '0', '0', '0', '0', '1', 0, 0, 1, 2};

	(void)state;
	assert_int_equal(sizeof(key), 15);
	sd_case_text_key("2026-000001", 258, key);
	assert_memory_equal(key, want, sizeof(want));
	/* Big-endian: a case's texts sort by step. */
	sd_case_text_key("2026-000001", 255, other);
	assert_true(memcmp(other, key, sizeof(key)) < 0);
	sd_case_text_key("2026-000001", 0x01020304, key);
	assert_int_equal(key[11], 1);
	assert_int_equal(key[14], 4);
}

static const char *str(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	assert_true(json_is_string(v));
	return json_string_value(v);
}

static void test_summary_json(void **state)
{
	sd_case_rec_t *rec = new_rec();
	json_t *doc, *dl;

	(void)state;
	/* Day 61: the decision is late by a day. */
	doc = sd_case_summary_json(rec, D(2026, 5, 12), &cal);
	assert_non_null(doc);
	assert_int_equal(json_object_size(doc), 9);
	assert_int_equal(json_integer_value(json_object_get(doc, "notices")), 0);
	assert_string_equal(str(doc, "case"), "2026-000001");
	assert_string_equal(str(doc, "header_digest"), dg_hex);
	assert_string_equal(str(doc, "received"), "2026-03-12");
	assert_string_equal(str(doc, "decision_due"), "2026-05-11"); /* the receipt's */
	assert_string_equal(str(doc, "state"), "received");
	assert_string_equal(str(doc, "attorney"), "Attorney Kim");
	assert_true(json_is_true(json_object_get(doc, "overdue")));
	dl = json_object_get(doc, "deadline");
	assert_int_equal(json_object_size(dl), 4);
	assert_string_equal(str(dl, "kind"), "decision");
	assert_string_equal(str(dl, "due"), "2026-05-11");
	assert_int_equal(json_integer_value(json_object_get(dl, "days_left")), -1);
	assert_true(json_is_true(json_object_get(dl, "commission")));
	json_decref(doc);
	/* The day it arrived: 60 days left. */
	doc = sd_case_summary_json(rec, D(2026, 3, 12), &cal);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "deadline"), "days_left")), 60);
	assert_true(json_is_false(json_object_get(doc, "overdue")));
	json_decref(doc);
	/* Referred: waiting for the agency, nothing due. */
	add(rec, SD_ACTION_REFER, D(2026, 4, 1));
	doc = sd_case_summary_json(rec, D(2026, 12, 1), &cal);
	assert_true(json_is_null(json_object_get(doc, "deadline")));
	assert_true(json_is_false(json_object_get(doc, "overdue")));
	assert_string_equal(str(doc, "state"), "referred");
	json_decref(doc);
	/* Outcome notified: the whistleblower's window, not the Commission's. */
	add(rec, SD_ACTION_OUTCOME, D(2026, 5, 4));
	doc = sd_case_summary_json(rec, D(2026, 5, 6), &cal);
	dl = json_object_get(doc, "deadline");
	assert_string_equal(str(dl, "kind"), "objection");
	assert_string_equal(str(dl, "due"), "2026-05-11");
	assert_int_equal(json_integer_value(json_object_get(dl, "days_left")), 5);
	assert_true(json_is_false(json_object_get(dl, "commission")));
	json_decref(doc);
	free(rec);
}

static void test_detail_json(void **state)
{
	sd_case_rec_t *rec = acceptance_rec();
	json_t *doc, *h, *e;

	(void)state;
	doc = sd_case_detail_json(rec, NULL, D(2026, 7, 1), &cal);
	assert_non_null(doc);
	assert_int_equal(json_object_size(doc), 19);
	/* Filed before notices: no key of either kind. */
	assert_true(json_is_null(json_object_get(doc, "notice_key")));
	assert_true(json_is_null(json_object_get(doc, "attorney_box_key")));
	assert_string_equal(str(doc, "state"), "closed");
	assert_string_equal(str(doc, "decision_due"), "2026-05-11");
	assert_true(json_is_true(json_object_get(doc, "extended")));
	assert_string_equal(str(doc, "agency"), "police");
	assert_string_equal(str(doc, "kind"), "inspection");
	assert_string_equal(str(doc, "concluded"), "2026-06-18");
	assert_string_equal(str(doc, "notified"), "2026-06-20");
	assert_string_equal(str(doc, "objected"), "2026-05-09");
	assert_int_equal(json_array_size(json_object_get(doc, "legal")), 0);
	h = json_object_get(doc, "history");
	assert_int_equal(json_array_size(h), 7);
	e = json_array_get(h, 0);
	assert_int_equal(json_object_size(e), 9);
	assert_int_equal(json_integer_value(json_object_get(e, "step")), 0);
	assert_string_equal(str(e, "action"), "extend");
	assert_string_equal(str(e, "date"), "2026-03-20");
	assert_string_equal(str(e, "actor"), OFFICER_HEX);
	assert_true(json_is_null(json_object_get(e, "kind")));
	assert_true(json_is_null(json_object_get(e, "agency")));
	assert_true(json_is_null(json_object_get(e, "reason")));
	assert_true(json_is_null(json_object_get(e, "concluded")));
	assert_true(json_is_true(json_object_get(e, "text")));
	e = json_array_get(h, 1);
	assert_string_equal(str(e, "kind"), "inspection");
	assert_string_equal(str(e, "agency"), "police");
	assert_true(json_is_false(json_object_get(e, "text")));
	e = json_array_get(h, 2);
	assert_string_equal(str(e, "concluded"), "2026-05-02");
	e = json_array_get(h, 3); /* the objection: the whistleblower's, no officer */
	assert_string_equal(str(e, "action"), "object");
	assert_true(json_is_null(json_object_get(e, "actor")));
	assert_int_equal(json_integer_value(json_object_get(e, "step")), 3);
	json_decref(doc);
	free(rec);
}

static void test_detail_json_states(void **state)
{
	sd_case_rec_t *rec;
	json_t *doc, *h;

	(void)state;
	/* A received case: nothing set yet; the officers' actions. */
	rec = new_rec();
	doc = sd_case_detail_json(rec, NULL, D(2026, 3, 13), &cal);
	assert_true(json_is_false(json_object_get(doc, "extended")));
	assert_true(json_is_null(json_object_get(doc, "agency")));
	assert_true(json_is_null(json_object_get(doc, "kind")));
	assert_true(json_is_null(json_object_get(doc, "concluded")));
	assert_true(json_is_null(json_object_get(doc, "notified")));
	assert_true(json_is_null(json_object_get(doc, "objected")));
	assert_int_equal(json_array_size(json_object_get(doc, "history")), 0);
	h = json_object_get(doc, "legal");
	assert_int_equal(json_array_size(h), 4);
	assert_string_equal(json_string_value(json_array_get(h, 0)), "extend");
	assert_string_equal(json_string_value(json_array_get(h, 3)), "terminate");
	json_decref(doc);
	/* Terminated: the reason shows in the history; during the objection window the
	 * officers have nothing to do, after it they may close. */
	add(rec, SD_ACTION_TERMINATE, D(2026, 3, 20));
	doc = sd_case_detail_json(rec, NULL, D(2026, 3, 20), &cal);
	assert_string_equal(str(json_array_get(json_object_get(doc, "history"), 0), "reason"), "not-inspectable");
	json_decref(doc);
	free(rec);
	rec = new_rec();
	add(rec, SD_ACTION_FORWARD, D(2026, 3, 20));
	add(rec, SD_ACTION_OUTCOME, D(2026, 5, 4));
	doc = sd_case_detail_json(rec, NULL, D(2026, 5, 11), &cal);
	assert_int_equal(json_array_size(json_object_get(doc, "legal")), 0);
	assert_true(json_is_null(json_object_get(doc, "kind")));
	assert_string_equal(str(doc, "agency"), "prosecution");
	json_decref(doc);
	doc = sd_case_detail_json(rec, NULL, D(2026, 5, 12), &cal);
	h = json_object_get(doc, "legal");
	assert_int_equal(json_array_size(h), 1);
	assert_string_equal(json_string_value(json_array_get(h, 0)), "close");
	json_decref(doc);
	free(rec);
}

/* --- notices ------------------------------------------------------------------------------- */

/* A record since notices: the key and the count round-trip, in one encoding. */
static void test_notices_round_trip(void **state)
{
	sd_case_rec_t *rec = new_rec();

	(void)state;
	add(rec, SD_ACTION_EXTEND, D(2026, 3, 20));
	add(rec, SD_ACTION_REFER, D(2026, 4, 1));
	rec->has_notice_key = true;
	unit_hex(NK_HEX, rec->notice_key, sizeof(rec->notice_key));
	rec->notices = 3;
	round_trip(rec, NOTICES_REC);
	/* A new case: the receipt notice only, no steps. */
	free(rec);
	rec = new_rec();
	rec->has_notice_key = true;
	rec->notices = 1;
	round_trip(rec, NULL);
	rec->notices = SD_CASE_NOTICES_MAX;
	round_trip(rec, NULL);
	free(rec);
}

static void test_notices_refused(void **state)
{
	static const struct {
		const char *from, *to, *msg;
	} edits[] = {
	        {"\"notices\":3,", "", "case record: fields 'notice_key' and 'notices' go together"},
	        {"\"notice_key\":\"" NK_HEX "\",", "", "case record: fields 'notice_key' and 'notices' go together"},
	        {"\"notices\":3", "\"notices\":0", "case record: field 'notices' must be an integer from 1 to 256"},
	        {"\"notices\":3", "\"notices\":257", "case record: field 'notices' must be an integer from 1 to 256"},
	        {"\"notices\":3", "\"notices\":\"3\"", "case record: field 'notices' must be an integer from 1 to 256"},
	        {"\"notices\":3", "\"notices\":3.0", "case record: field 'notices' must be an integer from 1 to 256"},
	        {NK_HEX, "e0e1", NULL},
	        {NK_HEX, "E0E1E2E3E4E5E6E7E8E9EAEBECEDEEEFF0F1F2F3F4F5F6F7F8F9FAFBFCFDFEFF", NULL},
	};
	sd_case_rec_t *out = calloc(1, sizeof(*out)), *rec = new_rec();
	char buf[4096];
	uint8_t *enc = (uint8_t *)"x";
	size_t len = 1;

	(void)state;
	assert_non_null(out);
	assert_int_equal(sd_case_rec_decode(TEXT(NOTICES_REC), &cal, out), 0);
	assert_true(out->has_notice_key);
	assert_int_equal(out->notices, 3);
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		const char *at = strstr(NOTICES_REC, edits[i].from);
		assert_non_null(at);
		snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - NOTICES_REC), NOTICES_REC, edits[i].to,
		         at + strlen(edits[i].from));
		if (sd_case_rec_decode(TEXT(buf), &cal, out) != SD_ERR_FORMAT)
			fail_msg("edit %zu decoded: %s", i, buf);
		if (edits[i].msg != NULL)
			assert_string_equal(sd_error_detail(), edits[i].msg);
		assert_false(out->has_notice_key);
		assert_int_equal(out->notices, 0);
	}
	/* The encoder refuses what the decoder would: a count without a key, a key without one. */
	rec->notices = 1;
	assert_int_equal(sd_case_rec_encode(rec, &enc, &len), SD_ERR_INVALID);
	assert_null(enc);
	assert_string_equal(sd_error_detail(), "case record: a count of notices needs the notice key");
	rec->notices = 0;
	rec->has_notice_key = true;
	assert_int_equal(sd_case_rec_encode(rec, &enc, &len), SD_ERR_INVALID);
	rec->notices = SD_CASE_NOTICES_MAX + 1;
	assert_int_equal(sd_case_rec_encode(rec, &enc, &len), SD_ERR_INVALID);
	free(rec);
	free(out);
}

/* A record since the whistleblower's channel: the locator hash and the consent key
 * round-trip, go together, and are 32 bytes of hex each. */
static void test_session_round_trip(void **state)
{
	sd_case_rec_t *rec = new_rec(), *out = calloc(1, sizeof(*out));
	uint8_t *enc = NULL;
	size_t len = 0;
	char *text, *at;

	(void)state;
	assert_non_null(out);
	rec->has_session = true;
	memset(rec->locator_hash, 0xab, sizeof(rec->locator_hash));
	memset(rec->consent_key, 0xcd, sizeof(rec->consent_key));
	round_trip(rec, NULL);
	assert_int_equal(sd_case_rec_encode(rec, &enc, &len), 0);
	text = calloc(1, len + 1);
	assert_non_null(text);
	memcpy(text, enc, len);
	assert_non_null(strstr(text, "\"locator_hash\":\"abababab"));
	assert_non_null(strstr(text, "\"consent_key\":\"cdcdcdcd"));
	/* one without the other: refused */
	at = strstr(text, ",\"consent_key\":\"");
	assert_non_null(at);
	memmove(at, at + 16 + 64 + 1, strlen(at + 16 + 64 + 1) + 1);
	assert_int_equal(sd_case_rec_decode((const uint8_t *)text, strlen(text), &cal, out), SD_ERR_FORMAT);
	assert_string_equal(sd_error_detail(), "case record: fields 'locator_hash' and 'consent_key' go together");
	/* a short locator hash */
	memcpy(text, enc, len);
	text[len] = '\0';
	at = strstr(text, "abababab");
	memmove(at, at + 2, strlen(at + 2) + 1);
	assert_int_equal(sd_case_rec_decode((const uint8_t *)text, strlen(text), &cal, out), SD_ERR_FORMAT);
	free(text);
	free(enc);
	free(rec);
	free(out);
}

/* The whistleblower's view names nobody else and no key; it says until when an objection
 * is taken. */
static void test_whistleblower_json(void **state)
{
	sd_case_rec_t *rec = new_rec();
	json_t *doc, *h;

	(void)state;
	add(rec, SD_ACTION_REFER, D(2026, 3, 20));
	rec->steps[0].actor[0] = 0x77;
	rec->has_notice_key = true;
	rec->notices = 2;
	doc = sd_case_whistleblower_json(rec, D(2026, 3, 21), &cal);
	assert_non_null(doc);
	assert_null(json_object_get(doc, "attorney"));
	assert_null(json_object_get(doc, "attorney_box_key"));
	assert_null(json_object_get(doc, "notice_key"));
	assert_null(json_object_get(doc, "legal"));
	assert_true(json_is_null(json_object_get(doc, "objection_until")));
	h = json_array_get(json_object_get(doc, "history"), 0);
	assert_non_null(h);
	assert_null(json_object_get(h, "actor"));
	assert_string_equal(json_string_value(json_object_get(h, "action")), "refer");
	json_decref(doc);
	add(rec, SD_ACTION_OUTCOME, D(2026, 4, 1));
	doc = sd_case_whistleblower_json(rec, D(2026, 4, 2), &cal);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "state")), "outcome-notified");
	assert_string_equal(json_string_value(json_object_get(doc, "objection_until")),
	                    json_string_value(json_object_get(json_object_get(doc, "deadline"), "due")));
	json_decref(doc);
	free(rec);
}

/* GET /v1/cases/{case} gives both keys as base64. */
static void test_detail_json_keys(void **state)
{
	sd_case_rec_t *rec = new_rec();
	uint8_t box[32];
	json_t *doc;

	(void)state;
	rec->has_notice_key = true;
	unit_hex(NK_HEX, rec->notice_key, sizeof(rec->notice_key));
	rec->notices = 1;
	memset(box, 0x5a, sizeof(box));
	doc = sd_case_detail_json(rec, box, D(2026, 3, 13), &cal);
	assert_non_null(doc);
	assert_int_equal(json_object_size(doc), 19);
	assert_int_equal(json_integer_value(json_object_get(doc, "notices")), 1);
	assert_string_equal(str(doc, "notice_key"), "4OHi4+Tl5ufo6err7O3u7/Dx8vP09fb3+Pn6+/z9/v8=");
	assert_string_equal(str(doc, "attorney_box_key"), "WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo=");
	json_decref(doc);
	free(rec);
}

/* --- the listing's summary and index keys ---------------------------------------------------- */

static sd_case_sum_t *sum_of(const sd_case_rec_t *rec, uint8_t buf[SD_CASE_SUM_MAX], size_t *len)
{
	sd_case_sum_t *sum = calloc(1, sizeof(*sum));

	assert_non_null(sum);
	sd_case_sum_of(rec, sum);
	assert_int_equal(sd_case_sum_encode(sum, buf, len), 0);
	return sum;
}

/* The layout, pinned: version, state, flags, the dates little-endian, the case, the
 * digest, the fingerprint, the count of notices, the name. */
static void test_sum_pinned(void **state)
{
	sd_case_rec_t *rec = new_rec();
	uint8_t buf[SD_CASE_SUM_MAX], again[SD_CASE_SUM_MAX], expect[SD_CASE_SUM_FIXED + 12];
	size_t len, len2;
	sd_case_sum_t *sum, back;

	(void)state;
	add(rec, SD_ACTION_EXTEND, D(2026, 3, 20));
	rec->has_notice_key = true;
	rec->notices = 258 > SD_CASE_NOTICES_MAX ? SD_CASE_NOTICES_MAX : 258; /* 256: 0x0100 */
	sum = sum_of(rec, buf, &len);
	unit_hex("020201" /* v2, extended, flag extended */
	         "d8253501"
	         "9f263501"
	         "00000000"
	         "00000000" /* 20260312, 20260511, -, - */
	         "323032362d303030303031",
	         expect, 3 + 16 + 11);
	memcpy(expect + 30, rec->digest, 32);
	memcpy(expect + 62, rec->attorney, 32);
	expect[94] = 0x00; /* 256 notices, little-endian */
	expect[95] = 0x01;
	expect[96] = 12;
	memcpy(expect + 97, "Attorney Kim", 12);
	assert_int_equal(len, sizeof(expect));
	assert_memory_equal(buf, expect, len);
	assert_int_equal(sd_case_sum_decode(buf, len, &back), 0);
	assert_string_equal(back.case_number, "2026-000001");
	assert_string_equal(back.attorney_name, "Attorney Kim");
	assert_memory_equal(back.attorney, rec->attorney, 32);
	assert_memory_equal(back.digest, rec->digest, 32);
	assert_int_equal(back.flow.state, SD_CASE_EXTENDED);
	assert_true(back.flow.extended);
	assert_int_equal(sd_date_cmp(back.flow.received, D(2026, 3, 12)), 0);
	assert_int_equal(sd_date_cmp(back.decision_due, D(2026, 5, 11)), 0);
	assert_int_equal(back.notices, 256);
	assert_int_equal(sd_case_sum_encode(&back, again, &len2), 0);
	assert_int_equal(len2, len);
	assert_memory_equal(again, buf, len);
	free(sum);
	free(rec);
}

/* sd_case_sum_text writes what jansson writes of the document, byte for byte. */
static void assert_sum_text(const sd_case_sum_t *sum, sd_date_t today, json_t *doc)
{
	char text[SD_CASE_SUM_TEXT_MAX], *expect = json_dumps(doc, JSON_COMPACT);
	size_t n = sd_case_sum_text(sum, today, &cal, text, sizeof(text));

	assert_non_null(expect);
	assert_int_equal(n, strlen(expect));
	assert_string_equal(text, expect);
	assert_int_equal(sd_case_sum_text(sum, today, &cal, text, n), 0); /* no room for the NUL */
	free(expect);
}

/* At every stage of the longest path and on several days, the listing's document from
 * the decoded summary is the record's, byte for byte. */
static void test_sum_documents(void **state)
{
	static const sd_date_t days[] = {{2026, 3, 12}, {2026, 5, 11}, {2026, 5, 12}, {2026, 6, 29}, {2027, 1, 1}};
	sd_case_rec_t *full = acceptance_rec(), *rec = new_rec();
	uint8_t buf[SD_CASE_SUM_MAX];
	size_t len;
	sd_case_sum_t back;
	json_t *doc;

	(void)state;
	for (size_t n = 0; n <= full->flow.n_steps; n++) {
		if (n > 0)
			add(rec, full->steps[n - 1].action, full->steps[n - 1].date);
		free(sum_of(rec, buf, &len));
		assert_int_equal(sd_case_sum_decode(buf, len, &back), 0);
		for (size_t d = 0; d < sizeof(days) / sizeof(days[0]); d++) {
			json_t *a = sd_case_summary_json(rec, days[d], &cal),
			       *b = sd_case_sum_json(&back, days[d], &cal);
			char *ta = json_dumps(a, JSON_SORT_KEYS), *tb = json_dumps(b, JSON_SORT_KEYS);
			assert_non_null(ta);
			assert_non_null(tb);
			assert_string_equal(ta, tb);
			assert_sum_text(&back, days[d], b);
			free(ta);
			free(tb);
			json_decref(a);
			json_decref(b);
		}
	}
	/* A name with what JSON escapes, and the longest one. */
	snprintf(rec->attorney_name, sizeof(rec->attorney_name), "Kim \"the\" \\ \u00dcnal / \u5f01\u8b77\u58eb");
	free(sum_of(rec, buf, &len));
	assert_int_equal(sd_case_sum_decode(buf, len, &back), 0);
	doc = sd_case_sum_json(&back, days[0], &cal);
	assert_sum_text(&back, days[0], doc);
	json_decref(doc);
	memset(rec->attorney_name, '"', SD_RECEIPT_NAME_MAX);
	rec->attorney_name[SD_RECEIPT_NAME_MAX] = '\0';
	free(sum_of(rec, buf, &len));
	assert_int_equal(len, SD_CASE_SUM_MAX);
	assert_int_equal(sd_case_sum_decode(buf, len, &back), 0);
	doc = sd_case_sum_json(&back, days[0], &cal);
	assert_sum_text(&back, days[0], doc);
	json_decref(doc);
	free(full);
	free(rec);
}

/* Every length but the right one, and every field out of range. */
static void test_sum_refused(void **state)
{
	static const struct {
		size_t at;
		uint8_t value;
	} bad[] = {
	        {0, 0},     {0, 1},    {0, 3},   {1, 0},     {1, 10},   {2, 2},      {2, 0x80}, {3, 0}, /* received 0 */
	        {7, 0},     {4, 0x2e}, {13, 1},  {17, 1},    {19, 'x'}, {23, '_'},   {29, 'a'}, /* case number */
	        {95, 0x02},                                                                     /* 512 notices */
	        {96, 0},    {96, 13},  {96, 11}, {97, 0x01}, {102, 0},  {108, 0x7f},
	};
	sd_case_rec_t *rec = new_rec();
	uint8_t buf[SD_CASE_SUM_MAX + 1], copy[SD_CASE_SUM_MAX + 1];
	size_t len;
	sd_case_sum_t back;

	(void)state;
	free(sum_of(rec, buf, &len));
	for (size_t n = 0; n < len; n++)
		assert_int_equal(sd_case_sum_decode(buf, n, &back), SD_ERR_FORMAT);
	buf[len] = 'x';
	assert_int_equal(sd_case_sum_decode(buf, len + 1, &back), SD_ERR_FORMAT);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(copy, buf, len);
		copy[bad[i].at] = bad[i].value;
		if (sd_case_sum_decode(copy, len, &back) != SD_ERR_FORMAT)
			fail_msg("byte %zu = 0x%02x was accepted", bad[i].at, bad[i].value);
	}
	assert_int_equal(sd_case_sum_decode(buf, len, &back), 0); /* the original still is fine */
	snprintf(rec->attorney_name, sizeof(rec->attorney_name), "Bad\tname");
	sd_case_sum_of(rec, &back);
	assert_int_equal(sd_case_sum_encode(&back, copy, &len), SD_ERR_INVALID);
	free(rec);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* case_by_state: the state byte then the case number; case_by_due: the deadline counted
 * without holidays, so never after the real one, then the case number; none while
 * nothing is due. */
static void test_index_keys(void **state)
{
	sd_case_rec_t *rec = new_rec();
	uint8_t sk[SD_CASE_STATE_KEY_BYTES], dk[SD_CASE_DUE_KEY_BYTES], p[4];

	(void)state;
	sd_case_state_key(SD_CASE_REFERRED, "2026-000001", sk);
	assert_int_equal(sk[0], SD_CASE_REFERRED);
	assert_memory_equal(sk + 1, "2026-000001", 11);
	assert_true(sd_case_due_key(&rec->flow, rec->case_number, dk));
	assert_int_equal(be32(dk), 20260511u);
	assert_memory_equal(dk + 4, "2026-000001", 11);
	sd_case_due_prefix(D(2026, 5, 11), p);
	assert_memory_equal(p, dk, 4);
	/* Received 2026-03-06: day 60 is Children's Day (Tuesday 2026-05-05); the key says
	 * 05-05, the deadline with the holidays 05-06. */
	rec->received = D(2026, 3, 6);
	sd_case_rec_init(rec);
	assert_true(sd_case_due_key(&rec->flow, rec->case_number, dk));
	assert_int_equal(be32(dk), 20260505u);
	assert_int_equal(sd_date_to_u32(sd_case_flow_deadline(&rec->flow, &cal).due), 20260506u);
	/* Extended on a Saturday's eve: day 90 is Thursday 2026-06-04. */
	add(rec, SD_ACTION_EXTEND, D(2026, 3, 10));
	assert_true(sd_case_due_key(&rec->flow, rec->case_number, dk));
	assert_int_equal(be32(dk), 20260604u);
	add(rec, SD_ACTION_REFER, D(2026, 4, 1));
	assert_false(sd_case_due_key(&rec->flow, rec->case_number, dk));
	add(rec, SD_ACTION_OUTCOME, D(2026, 5, 4)); /* the objection window: 05-11 */
	assert_true(sd_case_due_key(&rec->flow, rec->case_number, dk));
	assert_int_equal(be32(dk), 20260511u);
	free(rec);
}

static int setup(void **state)
{
	if (unit_setup(state) != 0 || sd_config_defaults(&cal) != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sd_config_free(&cal);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_canonical),          cmocka_unit_test(test_long_history),
	        cmocka_unit_test(test_encode_refused),     cmocka_unit_test(test_decode_refused),
	        cmocka_unit_test(test_decode_limits),      cmocka_unit_test(test_old_format),
	        cmocka_unit_test(test_calendar_change),    cmocka_unit_test(test_text_key),
	        cmocka_unit_test(test_summary_json),       cmocka_unit_test(test_detail_json),
	        cmocka_unit_test(test_detail_json_states), cmocka_unit_test(test_notices_round_trip),
	        cmocka_unit_test(test_notices_refused),    cmocka_unit_test(test_detail_json_keys),
	        cmocka_unit_test(test_session_round_trip), cmocka_unit_test(test_whistleblower_json),
	        cmocka_unit_test(test_sum_pinned),         cmocka_unit_test(test_sum_documents),
	        cmocka_unit_test(test_sum_refused),        cmocka_unit_test(test_index_keys),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
