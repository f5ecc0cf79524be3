/*
 * test_retention.c — retention (include/sealdrop/retention.h): when a case is due (closed
 * or terminated, the period counted from that step, 0 keeping it forever), the tombstone's
 * bytes, the request that destroys a case, and above all the store process's rule
 * (server/retention_policy.c through sd_storewire_policy_check): a front end that asks to
 * delete an open case, a case not yet due, another case's entries, to log a destruction
 * that deletes nothing, or to delete without logging is refused. No server, no store.
 */
#include "unit.h"
#include "sealdrop/audit.h"
#include "sealdrop/auditlog.h"
#include "sealdrop/caserec.h"
#include "sealdrop/config.h"
#include "sealdrop/retention.h"
#include "sealdrop/storewire.h"
#include "sealdrop/uploads.h"
#include "../../server/control_int.h"

static sd_config_t cal;
static sd_date_t today;

static sd_date_t ago(int days)
{
	return sd_date_add_days(today, -days);
}

static void add(sd_case_rec_t *c, sd_case_action_t a, sd_date_t on)
{
	sd_case_step_t s = {.action = a, .date = on};
	size_t n = c->flow.n_steps;

	memset(s.actor, 0xa5, sizeof(s.actor));
	if (a == SD_ACTION_REFER) {
		s.kind = SD_REFER_INSPECTION;
		snprintf(s.agency, sizeof(s.agency), "police");
	} else if (a == SD_ACTION_TERMINATE) {
		s.reason = SD_TERMINATE_NO_EVIDENCE;
	} else if (a == SD_ACTION_OUTCOME) {
		s.concluded = sd_date_add_days(on, -2);
		s.has_text = true;
	}
	if (sd_case_flow_apply(&c->flow, &s, on, &cal) != 0)
		fail_msg("%s refused: %s", sd_case_action_name(a), sd_error_detail());
	c->steps[n] = s;
}

/* Case cn received 400 days ago: referred, then (how) outcome and close 360 days ago, or
 * terminated 360 days ago, or left open. */
enum how { OPEN, CLOSED, TERMINATED };
static sd_case_rec_t *rec_of(const char *cn, enum how how)
{
	sd_case_rec_t *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	snprintf(c->case_number, sizeof(c->case_number), "%s", cn);
	snprintf(c->attorney_name, sizeof(c->attorney_name), "Attorney Kim");
	c->received = ago(400);
	c->decision_due = sd_date_add_days(c->received, 60);
	memset(c->attorney, 0xa1, sizeof(c->attorney));
	memset(c->digest, 0xd1, sizeof(c->digest));
	memset(c->upload, 0x11, sizeof(c->upload));
	c->has_session = true;
	memset(c->locator_hash, 0x77, sizeof(c->locator_hash));
	memset(c->consent_key, 0x55, sizeof(c->consent_key));
	sd_case_rec_init(c);
	if (how == TERMINATED) {
		add(c, SD_ACTION_TERMINATE, ago(360));
		return c;
	}
	add(c, SD_ACTION_REFER, ago(399));
	if (how == CLOSED) {
		add(c, SD_ACTION_OUTCOME, ago(380));
		add(c, SD_ACTION_CLOSE, ago(360));
	}
	return c;
}

/* rec's upload record as committed: to case, with digest (rec's own, unless a test says). */
static uint8_t *upload_of(const sd_case_rec_t *rec, const char *case_number, size_t *len)
{
	sd_upload_rec_t up = {
	        .created = rec->received, .expires = rec->received, .state = SD_UPLOAD_COMMITTED, .chunks = 3};
	uint8_t *bytes = NULL;

	memcpy(up.attorney, rec->attorney, sizeof(up.attorney));
	memcpy(up.digest, rec->digest, sizeof(up.digest));
	snprintf(up.case_number, sizeof(up.case_number), "%s", case_number);
	assert_int_equal(sd_upload_rec_encode(&up, &bytes, len), 0);
	return bytes;
}

/* The front end's destruction request for rec, as server/retention.c builds it, with its
 * upload record committed to upload_case. */
static sd_store_req_t *destroy_req_for(const sd_case_rec_t *rec, const char *upload_case)
{
	sd_store_req_t *req = sd_store_req_new();
	uint8_t *bytes = NULL, *upload;
	size_t len = 0, upload_len = 0;
	sd_retention_case_t c;

	assert_non_null(req);
	assert_int_equal(sd_case_rec_encode(rec, &bytes, &len), 0);
	upload = upload_of(rec, upload_case, &upload_len);
	c = (sd_retention_case_t){.rec = rec,
	                          .rec_bytes = bytes,
	                          .rec_len = len,
	                          .upload_bytes = upload,
	                          .upload_len = upload_len,
	                          .chunks = 3};
	assert_int_equal(sd_retention_destroy_req(req, &c, today), 0);
	free(bytes);
	free(upload);
	return req;
}

static sd_store_req_t *destroy_req(const sd_case_rec_t *rec)
{
	return destroy_req_for(rec, rec->case_number);
}

static int policy(sd_store_req_t *req)
{
	int r = sd_storewire_policy_check(req);

	sd_store_req_free(req);
	return r;
}

static void expect_refused(sd_store_req_t *req, const char *why)
{
	assert_int_equal(policy(req), SD_ERR_REFUSED);
	if (strstr(sd_error_detail(), why) == NULL)
		fail_msg("refused for '%s', not '%s'", sd_error_detail(), why);
}

static void test_due(void **state)
{
	sd_case_rec_t *closed = rec_of("2026-000001", CLOSED), *term = rec_of("2026-000002", TERMINATED),
	              *open = rec_of("2026-000003", OPEN);
	sd_date_t on;

	(void)state;
	assert_true(sd_retention_finished(closed, &on));
	assert_int_equal(sd_date_cmp(on, ago(360)), 0);
	assert_true(sd_retention_finished(term, &on));
	assert_false(sd_retention_finished(open, &on));
	assert_false(sd_retention_is_due(closed, 0, today, &on)); /* 0 keeps forever */
	assert_true(sd_retention_is_due(closed, 1, today, &on));
	assert_true(sd_retention_is_due(closed, 359, today, &on));
	assert_false(sd_retention_is_due(closed, 360, today, &on)); /* closed + 360 is today: not before it */
	assert_false(sd_retention_is_due(closed, SD_RETENTION_DAYS_MAX, today, &on));
	assert_false(sd_retention_is_due(closed, SD_RETENTION_DAYS_MAX + 1, today, &on));
	assert_true(sd_retention_is_due(term, 100, today, &on));
	assert_false(sd_retention_is_due(open, 1, today, &on));
	free(closed);
	free(term);
	free(open);
}

static void test_tomb(void **state)
{
	sd_retention_tomb_t t = {.destroyed = {2026, 11, 23}, .has_consent_key = true}, back;
	uint8_t buf[SD_RETENTION_TOMB_BYTES], key[SD_RETENTION_TOMB_KEY_BYTES];

	(void)state;
	memset(t.consent_key, 0x42, sizeof(t.consent_key));
	sd_retention_tomb_encode(&t, buf);
	assert_int_equal(buf[0], 20261123 & 0xff); /* u32 LE YYYYMMDD */
	assert_int_equal(sd_retention_tomb_decode(buf, sizeof(buf), &back), 0);
	assert_int_equal(sd_date_cmp(back.destroyed, t.destroyed), 0);
	assert_true(back.has_consent_key);
	assert_memory_equal(back.consent_key, t.consent_key, sizeof(t.consent_key));
	assert_int_equal(sd_retention_tomb_decode(buf, sizeof(buf) - 1, &back), SD_ERR_FORMAT);
	t.has_consent_key = false;
	sd_retention_tomb_encode(&t, buf);
	assert_int_equal(sd_retention_tomb_decode(buf, sizeof(buf), &back), 0);
	assert_false(back.has_consent_key);
	buf[0] = 0xff; /* not a date */
	assert_int_equal(sd_retention_tomb_decode(buf, sizeof(buf), &back), SD_ERR_FORMAT);
	sd_retention_tomb_key("2026-000001", key);
	assert_memory_equal(key, "destroyed/2026-000001", sizeof(key));
}

/* A closed or terminated case past its period is destroyed; not before, not at 0. */
static void test_policy_due(void **state)
{
	sd_case_rec_t *closed = rec_of("2026-000001", CLOSED), *term = rec_of("2026-000002", TERMINATED);

	(void)state;
	sd_retention_set_days(100);
	assert_int_equal(policy(destroy_req(closed)), 0);
	assert_int_equal(policy(destroy_req(term)), 0);
	sd_retention_set_days(359);
	assert_int_equal(policy(destroy_req(closed)), 0);
	sd_retention_set_days(360);
	expect_refused(destroy_req(closed), "retention period has not passed");
	sd_retention_set_days(0); /* the store process's own copy: 0 refuses everything */
	expect_refused(destroy_req(closed), "retention period has not passed");
	expect_refused(destroy_req(term), "retention period has not passed");
	free(closed);
	free(term);
}

/* A compromised front end cannot destroy an open case, even with a well-formed request. */
static void test_policy_open(void **state)
{
	sd_case_rec_t *open = rec_of("2026-000003", OPEN);

	(void)state;
	sd_retention_set_days(1);
	expect_refused(destroy_req(open), "only a closed or terminated case");
	free(open);
}

static void leaf(sd_store_req_t *req, const char *cn, sd_date_t on)
{
	sd_audit_event_t ev;

	sd_audit_event_init(&ev, SD_AUDIT_CASE_DESTROYED, on, NULL);
	snprintf(ev.case_number, sizeof(ev.case_number), "%s", cn);
	assert_true(sd_audit_add(req, &ev) >= 0);
}

#define CN(s) (const uint8_t *)(s), 11

/* Deletes without the leaf, a leaf without the deletes, a tombstone alone, two leaves. */
static void test_policy_shape(void **state)
{
	sd_case_rec_t *closed = rec_of("2026-000001", CLOSED);
	uint8_t *bytes = NULL, tkey[SD_RETENTION_TOMB_KEY_BYTES], tval[SD_RETENTION_TOMB_BYTES] = {0};
	size_t len = 0;
	sd_store_req_t *req;

	(void)state;
	sd_retention_set_days(100);
	assert_int_equal(sd_case_rec_encode(closed, &bytes, &len), 0);
	req = sd_store_req_new();
	sd_store_req_check_equal(req, SD_STORE_DB_CASES, CN("2026-000001"), bytes, len);
	sd_store_req_del(req, SD_STORE_DB_CASES, CN("2026-000001"));
	expect_refused(req, "a case is never deleted"); /* no leaf: the table's own rule */
	req = sd_store_req_new();
	sd_store_req_del_prefix(req, SD_STORE_DB_NOTICES, CN("2026-000001"), 100);
	expect_refused(req, "a notice is written once");
	req = sd_store_req_new(); /* a leaf that deletes nothing: a lie in the log */
	sd_store_req_check_equal(req, SD_STORE_DB_CASES, CN("2026-000001"), bytes, len);
	leaf(req, "2026-000001", today);
	expect_refused(req, "compares the case's record before any write");
	req = sd_store_req_new(); /* a tombstone alone: a live case shown destroyed */
	sd_retention_tomb_key("2026-000001", tkey);
	sd_store_req_put(req, SD_STORE_DB_META, tkey, sizeof(tkey), tval, sizeof(tval), SD_STORE_NOOVERWRITE);
	expect_refused(req, "only with its one case-destroyed leaf");
	req = destroy_req(closed); /* two cases' leaves in one write */
	leaf(req, "2026-000002", today);
	expect_refused(req, "only with its one case-destroyed leaf");
	req = sd_store_req_new(); /* the record deleted before it is compared */
	sd_store_req_del(req, SD_STORE_DB_CASES, CN("2026-000001"));
	sd_store_req_check_equal(req, SD_STORE_DB_CASES, CN("2026-000001"), bytes, len);
	leaf(req, "2026-000001", today);
	expect_refused(req, "compares the case's record before any write");
	req = sd_store_req_new(); /* a leaf dated after the store's today */
	sd_store_req_check_equal(req, SD_STORE_DB_CASES, CN("2026-000001"), bytes, len);
	sd_store_req_del(req, SD_STORE_DB_CASES, CN("2026-000001"));
	leaf(req, "2026-000001", sd_date_add_days(today, 1));
	expect_refused(req, "not dated after the store's today");
	free(bytes);
	free(closed);
}

/* A due case's destruction that reaches into another case, or out of the case data. */
/* What a compromised front end would try: destroy a case with another case's package, or
 * write the record it is judged by within the request itself. */
static void test_policy_forged(void **state)
{
	sd_case_rec_t *closed = rec_of("2026-000001", CLOSED), *open = rec_of("2026-000003", OPEN);
	uint8_t *bytes = NULL;
	size_t len = 0;
	sd_retention_case_t c;
	sd_store_req_t *req;

	(void)state;
	sd_retention_set_days(100);
	/* The package deleted is committed to another case: refused. */
	expect_refused(destroy_req_for(closed, "2026-000009"), "only its own case's entries");
	/* The open case's record rewritten as closed long ago in the same request, before the
	 * compare: the compare would see the write, so it must come first. */
	req = sd_store_req_new();
	assert_int_equal(sd_case_rec_encode(closed, &bytes, &len), 0);
	sd_store_req_put(req, SD_STORE_DB_CASES, CN("2026-000003"), bytes, len, 0);
	c = (sd_retention_case_t){.rec = closed, .rec_bytes = bytes, .rec_len = len};
	assert_int_equal(sd_retention_destroy_req(req, &c, today), 0);
	expect_refused(req, "before any write");
	/* ... or after the deletes, recreating the case under its tombstone. */
	req = destroy_req(closed);
	sd_store_req_put(req, SD_STORE_DB_CASES, CN("2026-000001"), bytes, len, 0);
	expect_refused(req, "nothing but its tombstone");
	free(bytes);
	free(closed);
	free(open);
}

static void test_policy_scope(void **state)
{
	sd_case_rec_t *closed = rec_of("2026-000001", CLOSED), *other = rec_of("2026-000002", CLOSED);
	uint8_t *bytes = NULL, key[64];
	size_t len = 0;
	sd_store_req_t *req;

	(void)state;
	sd_retention_set_days(100);
	req = destroy_req(closed);
	sd_store_req_del_prefix(req, SD_STORE_DB_NOTICES, CN("2026-000002"), 100);
	expect_refused(req, "only its own case's entries");
	req = destroy_req(closed);
	sd_store_req_del(req, SD_STORE_DB_CASES, CN("2026-000002"));
	expect_refused(req, "only its own case's entries");
	req = destroy_req(closed);
	memset(key, 0xd2, 32); /* another digest */
	sd_store_req_del(req, SD_STORE_DB_CASE_DIGESTS, key, 32);
	expect_refused(req, "only its own case's entries");
	req = destroy_req(closed);
	memset(key, 0xa2, 32); /* another attorney's list */
	memcpy(key + 32, "2026-000001", 11);
	sd_store_req_del(req, SD_STORE_DB_ACCOUNT_CASES, key, 43);
	expect_refused(req, "only its own case's entries");
	req = destroy_req(closed); /* outside the case data: the general rule still holds */
	sd_store_req_del(req, SD_STORE_DB_ACCOUNTS, key, 32);
	expect_refused(req, "an account is never deleted");
	req = destroy_req(closed);
	sd_store_req_del(req, SD_STORE_DB_LOG_LEAVES, key, 8);
	expect_refused(req, "only LOG-APPEND");
	/* The leaf names one case, the compared record is another's. */
	assert_int_equal(sd_case_rec_encode(other, &bytes, &len), 0);
	req = sd_store_req_new();
	sd_store_req_check_equal(req, SD_STORE_DB_CASES, CN("2026-000001"), bytes, len);
	sd_store_req_del(req, SD_STORE_DB_CASES, CN("2026-000001"));
	leaf(req, "2026-000001", today);
	expect_refused(req, "not a case record of the leaf's case");
	free(bytes);
	free(closed);
	free(other);
}

/* Without a destruction the old rules stand: a case is never deleted. */
static void test_policy_plain(void **state)
{
	sd_store_req_t *req = sd_store_req_new();

	(void)state;
	sd_retention_set_days(100);
	sd_store_req_del(req, SD_STORE_DB_RECEIPTS, CN("2026-000001"));
	expect_refused(req, "a receipt is written once");
	req = sd_store_req_new();
	sd_store_req_del(req, SD_STORE_DB_CASE_BY_STATE, (const uint8_t *)"x2026-000001", 12);
	assert_int_equal(policy(req), 0); /* a transition's index entries, as before */
}

/* The control op: {"op":"retention"} with an optional boolean dry_run, nothing else. */
static int parse(const char *line, sd_control_req_t *req)
{
	return sd_control_parse_request((const uint8_t *)line, strlen(line), req);
}

static void test_control_op(void **state)
{
	sd_control_req_t req;

	(void)state;
	assert_int_equal(parse("{\"op\":\"retention\"}", &req), 0);
	assert_int_equal(req.op, SD_CONTROL_RETENTION);
	assert_false(req.dry_run);
	sd_control_req_clear(&req);
	assert_int_equal(parse("{\"op\":\"retention\",\"dry_run\":true}", &req), 0);
	assert_true(req.dry_run);
	sd_control_req_clear(&req);
	assert_int_equal(parse("{\"op\":\"retention\",\"dry_run\":false}", &req), 0);
	assert_false(req.dry_run);
	sd_control_req_clear(&req);
	assert_int_equal(parse("{\"op\":\"retention\",\"dry_run\":\"yes\"}", &req), SD_ERR_INVALID);
	assert_non_null(strstr(sd_error_detail(), "dry_run"));
	assert_int_equal(parse("{\"op\":\"retention\",\"name\":\"x\"}", &req), SD_ERR_INVALID);
	assert_int_equal(parse("{\"op\":\"status\",\"dry_run\":true}", &req), SD_ERR_INVALID);
}

static int setup(void **state)
{
	(void)state;
	today = sd_date_today();
	return unit_setup(state) == 0 && sd_config_defaults(&cal) == 0 ? 0 : -1;
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
	        cmocka_unit_test(test_due),           cmocka_unit_test(test_tomb),
	        cmocka_unit_test(test_policy_due),    cmocka_unit_test(test_policy_open),
	        cmocka_unit_test(test_policy_shape),  cmocka_unit_test(test_policy_scope),
	        cmocka_unit_test(test_policy_forged), cmocka_unit_test(test_policy_plain),
	        cmocka_unit_test(test_control_op),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
