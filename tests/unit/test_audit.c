/*
 * test_audit.c — audit log leaves: the filing leaf's known answer (its exact bytes and
 * its RFC 9162 leaf hash), encode/parse round trips of every event and member, every
 * rule encode enforces, and every way a leaf can be other than canonical (reordered,
 * spaced, escaped, extra or unknown members, values outside their vocabulary).
 */
#include "unit.h"

#include <jansson.h>
#include <sodium.h>

#include "sealdrop/audit.h"
#include "sealdrop/bytes.h"

/* The known answer: actor 00..1f, digest 80..9f (docs/FORMAT.md, "Audit log"). */
#define KAT_ACTOR  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define KAT_DIGEST "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
#define KAT_LEAF                                                                                                       \
	"{\"actor\":\"" KAT_ACTOR "\",\"case\":\"2026-000001\",\"date\":\"2026-11-22\",\"digest\":\"" KAT_DIGEST       \
	"\",\"event\":\"filing\",\"role\":\"attorney\",\"v\":1}"
#define KAT_LEAF_LEN  234
#define KAT_LEAF_HASH "9d3216cec2be20f4c71adb014ae371f4dc48e67b4370ef271f0e23de4e2c6435"

static void kat_event(sd_audit_event_t *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = SD_AUDIT_FILING;
	ev->date = (sd_date_t){2026, 11, 22};
	snprintf(ev->case_number, sizeof(ev->case_number), "2026-000001");
	snprintf(ev->role, sizeof(ev->role), "attorney");
	ev->has_actor = true;
	ev->has_digest = true;
	for (int i = 0; i < SD_AUDIT_ID_BYTES; i++) {
		ev->actor[i] = (uint8_t)i;
		ev->digest[i] = (uint8_t)(0x80 + i);
	}
}

/* Every member set. */
static void full_event(sd_audit_event_t *ev, sd_audit_type_t t)
{
	kat_event(ev);
	ev->type = t;
	ev->has_subject = true;
	memset(ev->subject, 0xab, sizeof(ev->subject));
	snprintf(ev->subject_role, sizeof(ev->subject_role), "whistleblower");
	ev->has_number = true;
	ev->number = ((uint64_t)1 << 53) - 1;
	snprintf(ev->detail, sizeof(ev->detail), "agency:acrc.v2-final");
}

static void assert_same_event(const sd_audit_event_t *a, const sd_audit_event_t *b)
{
	assert_int_equal(a->type, b->type);
	assert_int_equal(sd_date_cmp(a->date, b->date), 0);
	assert_string_equal(a->case_number, b->case_number);
	assert_string_equal(a->role, b->role);
	assert_int_equal(a->has_actor, b->has_actor);
	if (a->has_actor)
		assert_memory_equal(a->actor, b->actor, SD_AUDIT_ID_BYTES);
	assert_int_equal(a->has_subject, b->has_subject);
	if (a->has_subject)
		assert_memory_equal(a->subject, b->subject, SD_AUDIT_ID_BYTES);
	assert_string_equal(a->subject_role, b->subject_role);
	assert_int_equal(a->has_digest, b->has_digest);
	if (a->has_digest)
		assert_memory_equal(a->digest, b->digest, SD_AUDIT_ID_BYTES);
	assert_int_equal(a->has_number, b->has_number);
	assert_true(a->number == b->number);
	assert_string_equal(a->detail, b->detail);
}

static int parse_text(const char *text, sd_audit_event_t *out)
{
	return sd_audit_leaf_parse((const uint8_t *)text, strlen(text), out);
}

/* --- names ---------------------------------------------------------------------------- */

static void test_type_names(void **state)
{
	static const char *const names[] = {
	        "filing", "enrollment",       "account-disabled", "directory-installed", "transition",
	        "notice", "consent-accepted", "consent-refused",  "consent-revoked",     "unseal",
	        "export", "restore",          "log-key-rotated",  "case-destroyed",      "certificate-renewed"};
	sd_audit_type_t t;

	(void)state;
	assert_int_equal(sizeof(names) / sizeof(names[0]), SD_AUDIT_EVENT_COUNT - 1);
	for (int i = 1; i < SD_AUDIT_EVENT_COUNT; i++) {
		assert_string_equal(sd_audit_type_name((sd_audit_type_t)i), names[i - 1]);
		assert_true(sd_audit_type_from_name(names[i - 1], &t));
		assert_int_equal(t, i);
	}
	assert_null(sd_audit_type_name(SD_AUDIT_NONE));
	assert_null(sd_audit_type_name(SD_AUDIT_EVENT_COUNT));
	assert_null(sd_audit_type_name((sd_audit_type_t)-1));
	assert_false(sd_audit_type_from_name("Filing", &t));
	assert_false(sd_audit_type_from_name("", &t));
	assert_false(sd_audit_type_from_name("filing ", &t));
	assert_false(sd_audit_type_from_name(NULL, &t));
}

/* --- the known answer ----------------------------------------------------------------- */

static void test_kat_filing(void **state)
{
	sd_audit_event_t ev, got;
	uint8_t *leaf, prefixed[1 + KAT_LEAF_LEN], hash[crypto_hash_sha256_BYTES];
	char hex[2 * crypto_hash_sha256_BYTES + 1];
	size_t len;

	(void)state;
	kat_event(&ev);
	assert_int_equal(sd_audit_leaf_encode(&ev, &leaf, &len), 0);
	assert_int_equal(len, KAT_LEAF_LEN);
	assert_int_equal(strlen(KAT_LEAF), KAT_LEAF_LEN);
	assert_memory_equal(leaf, KAT_LEAF, KAT_LEAF_LEN);
	assert_int_equal(leaf[len], '\0');

	/* RFC 9162: the leaf hash is SHA-256(0x00 || leaf) */
	prefixed[0] = 0x00;
	memcpy(prefixed + 1, leaf, len);
	crypto_hash_sha256(hash, prefixed, sizeof(prefixed));
	sd_hex_encode(hash, sizeof(hash), hex);
	assert_string_equal(hex, KAT_LEAF_HASH);

	assert_int_equal(sd_audit_leaf_parse(leaf, len, &got), 0);
	assert_same_event(&got, &ev);
	free(leaf);
}

/* --- round trips ---------------------------------------------------------------------- */

static void roundtrip(const sd_audit_event_t *ev)
{
	sd_audit_event_t got;
	uint8_t *leaf;
	size_t len;

	assert_int_equal(sd_audit_leaf_encode(ev, &leaf, &len), 0);
	assert_true(len <= SD_AUDIT_LEAF_MAX);
	if (sd_audit_leaf_parse(leaf, len, &got) != 0)
		fail_msg("%.*s: %s", (int)len, (const char *)leaf, sd_error_detail());
	assert_same_event(&got, ev);
	free(leaf);
}

static void test_roundtrip(void **state)
{
	static const char *const roles[] = {"attorney", "officer", "custodian", "operator", "whistleblower", "server"};
	sd_audit_event_t ev;
	uint8_t *leaf;
	size_t len;

	(void)state;
	for (int t = 1; t < SD_AUDIT_EVENT_COUNT; t++) {
		full_event(&ev, (sd_audit_type_t)t);
		roundtrip(&ev);
		/* only the date */
		memset(&ev, 0, sizeof(ev));
		ev.type = (sd_audit_type_t)t;
		ev.date = (sd_date_t){1800, 1, 1};
		roundtrip(&ev);
	}
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		full_event(&ev, SD_AUDIT_ENROLLMENT);
		snprintf(ev.role, sizeof(ev.role), "%s", roles[i]);
		snprintf(ev.subject_role, sizeof(ev.subject_role), "%s", roles[(i + 1) % 6]);
		roundtrip(&ev);
	}
	/* number 0, the longest detail, the last date */
	full_event(&ev, SD_AUDIT_RESTORE);
	ev.number = 0;
	memset(ev.detail, 'z', SD_AUDIT_DETAIL_MAX);
	ev.detail[SD_AUDIT_DETAIL_MAX] = '\0';
	ev.date = (sd_date_t){9999, 12, 31};
	roundtrip(&ev);

	/* only what is set appears, in name order */
	memset(&ev, 0, sizeof(ev));
	ev.type = SD_AUDIT_TRANSITION;
	ev.date = (sd_date_t){2026, 1, 2};
	snprintf(ev.detail, sizeof(ev.detail), "under-review");
	ev.has_number = true;
	ev.number = 0;
	assert_int_equal(sd_audit_leaf_encode(&ev, &leaf, &len), 0);
	assert_string_equal(
	        (const char *)leaf,
	        "{\"date\":\"2026-01-02\",\"detail\":\"under-review\",\"event\":\"transition\",\"number\":0,"
	        "\"v\":1}");
	free(leaf);
}

/* --- encode refuses -------------------------------------------------------------------- */

static void refuse(const sd_audit_event_t *ev, const char *detail)
{
	uint8_t *leaf = (uint8_t *)"x";
	size_t len = 7;

	sd_error_clear();
	assert_int_equal(sd_audit_leaf_encode(ev, &leaf, &len), SD_ERR_USAGE);
	assert_null(leaf);
	assert_int_equal(len, 0);
	if (strstr(sd_error_detail(), detail) == NULL)
		fail_msg("want '%s', got '%s'", detail, sd_error_detail());
	assert_null(sd_audit_event_json(ev));
}

static void test_encode_refuses(void **state)
{
	static const char *const bad_words[] = {"Attorney", "judge", "attorney ", " attorney", "attorneys"};
	static const char *const bad_details[] = {"-open", ".open", "Open", "op en", "op\nen", "über", "a_b", "a/b"};
	sd_audit_event_t ev;
	uint8_t *leaf;
	size_t len;

	(void)state;
	kat_event(&ev);
	ev.type = SD_AUDIT_NONE;
	refuse(&ev, "event type 0 is not an event");
	ev.type = SD_AUDIT_EVENT_COUNT;
	refuse(&ev, "is not an event");
	kat_event(&ev);
	ev.date = (sd_date_t){2026, 2, 29};
	refuse(&ev, "date must be a calendar date");
	ev.date = (sd_date_t){1799, 12, 31};
	refuse(&ev, "date must be a calendar date");
	ev.date = (sd_date_t){10000, 1, 1};
	refuse(&ev, "date must be a calendar date");
	kat_event(&ev);
	snprintf(ev.case_number, sizeof(ev.case_number), "2026-000000");
	refuse(&ev, "case must be YYYY-NNNNNN");
	memset(ev.case_number, '1', sizeof(ev.case_number)); /* no NUL */
	refuse(&ev, "case must be YYYY-NNNNNN");
	for (size_t i = 0; i < sizeof(bad_words) / sizeof(bad_words[0]); i++) {
		kat_event(&ev);
		snprintf(ev.role, sizeof(ev.role), "%s", bad_words[i]);
		refuse(&ev, "role must be one of attorney");
		kat_event(&ev);
		snprintf(ev.subject_role, sizeof(ev.subject_role), "%s", bad_words[i]);
		refuse(&ev, "subject_role must be one of attorney");
	}
	kat_event(&ev);
	memset(ev.role, 'a', sizeof(ev.role)); /* no NUL */
	refuse(&ev, "role must be");
	for (size_t i = 0; i < sizeof(bad_details) / sizeof(bad_details[0]); i++) {
		kat_event(&ev);
		snprintf(ev.detail, sizeof(ev.detail), "%s", bad_details[i]);
		refuse(&ev, "detail must be 1 to 127");
	}
	kat_event(&ev);
	memset(ev.detail, 'a', sizeof(ev.detail)); /* 128 bytes, no NUL */
	refuse(&ev, "detail must be");
	kat_event(&ev);
	ev.has_number = true;
	ev.number = (uint64_t)1 << 53;
	refuse(&ev, "number must be between 0 and 9007199254740991");
	ev.number = UINT64_MAX;
	refuse(&ev, "number must be between");
	/* a number that is not there is not checked */
	ev.has_number = false;
	assert_int_equal(sd_audit_leaf_encode(&ev, &leaf, &len), 0);
	free(leaf);
	assert_int_equal(sd_audit_leaf_encode(NULL, &leaf, &len), SD_ERR_USAGE);
}

/* --- parse refuses --------------------------------------------------------------------- */

#define L_HEAD "{\"actor\":\"" KAT_ACTOR "\",\"case\":\"2026-000001\",\"date\":\"2026-11-22\","
#define L_TAIL "\"event\":\"filing\",\"role\":\"attorney\",\"v\":1}"

static void test_parse_refuses(void **state)
{
	static const struct {
		const char *text;
		int err;
		const char *detail;
	} cases[] = {
	        /* the same members, not the canonical bytes */
	        {"{\"case\":\"2026-000001\",\"actor\":\"" KAT_ACTOR "\",\"date\":\"2026-11-22\",\"event\":\"filing\","
	         "\"role\":\"attorney\",\"v\":1}",
	         SD_ERR_FORMAT, "audit leaf: not in canonical form"},
	        {"{\"v\":1,\"event\":\"filing\",\"date\":\"2026-11-22\"}", SD_ERR_FORMAT, "not in canonical form"},
	        {"{\"date\": \"2026-11-22\",\"event\":\"filing\",\"v\":1}", SD_ERR_FORMAT, "not in canonical form"},
	        {" {\"date\":\"2026-11-22\",\"event\":\"filing\",\"v\":1}", SD_ERR_FORMAT, "not in canonical form"},
	        {"{\"date\":\"2026-11-22\",\"event\":\"filing\",\"v\":1}\n", SD_ERR_FORMAT, "not in canonical form"},
	        {"{\"date\":\"2026-11-22\",\"event\":\"fil\\u0069ng\",\"v\":1}", SD_ERR_FORMAT,
	         "not in canonical form"},
	        {"{\"date\":\"2026\\/11\\/22\",\"event\":\"filing\",\"v\":1}", SD_ERR_FORMAT,
	         "date must be a calendar"},
	        {"{\"date\":\"2026-11-22\",\"event\":\"filing\",\"number\":-0,\"v\":1}", SD_ERR_FORMAT,
	         "not in canonical form"},
	        {"{\"date\":\"2026-11-22\",\"event\":\"filing\",\"number\":007,\"v\":1}", SD_ERR_FORMAT,
	         "invalid JSON"},
	        /* members */
	        {"{\"date\":\"2026-11-22\",\"event\":\"filing\",\"v\":1,\"x\":1}", SD_ERR_FORMAT,
	         "audit leaf: unknown field x"},
	        {"{\"Date\":\"2026-11-22\",\"event\":\"filing\",\"v\":1}", SD_ERR_FORMAT, "unknown field Date"},
	        {"{\"date\":\"2026-11-22\",\"event\":\"filing\"}", SD_ERR_FORMAT, "audit leaf: missing field v"},
	        {"{\"date\":\"2026-11-22\",\"v\":1}", SD_ERR_FORMAT, "audit leaf: missing field event"},
	        {"{\"event\":\"filing\",\"v\":1}", SD_ERR_FORMAT, "audit leaf: missing field date"},
	        {"{\"date\":\"2026-11-22\",\"event\":\"filing\",\"v\":2}", SD_ERR_FORMAT, "v must be between 1 and 1"},
	        {"{\"date\":\"2026-11-22\",\"event\":\"filing\",\"v\":\"1\"}", SD_ERR_FORMAT, "v must be an integer"},
	        {"{\"date\":\"2026-11-22\",\"event\":\"filing\",\"v\":1.0}", SD_ERR_FORMAT, "v must be an integer"},
	        /* event */
	        {"{\"date\":\"2026-11-22\",\"event\":\"filling\",\"v\":1}", SD_ERR_FORMAT, "unknown event 'filling'"},
	        {"{\"date\":\"2026-11-22\",\"event\":\"Filing\",\"v\":1}", SD_ERR_FORMAT, "unknown event 'Filing'"},
	        {"{\"date\":\"2026-11-22\",\"event\":\"\",\"v\":1}", SD_ERR_FORMAT, "unknown event ''"},
	        {"{\"date\":\"2026-11-22\",\"event\":\"a\\nb\",\"v\":1}", SD_ERR_FORMAT, "unknown event 'a?b'"},
	        {"{\"date\":\"2026-11-22\",\"event\":7,\"v\":1}", SD_ERR_FORMAT, "event must be a string"},
	        /* date */
	        {"{\"date\":\"2026-02-29\",\"event\":\"filing\",\"v\":1}", SD_ERR_FORMAT, "date must be a calendar"},
	        {"{\"date\":\"2026-11-22T10:00:00Z\",\"event\":\"filing\",\"v\":1}", SD_ERR_FORMAT,
	         "date must be a calendar"},
	        {"{\"date\":20261122,\"event\":\"filing\",\"v\":1}", SD_ERR_FORMAT, "date must be a string"},
	        /* case */
	        {"{\"case\":\"\",\"date\":\"2026-11-22\",\"event\":\"filing\",\"v\":1}", SD_ERR_FORMAT,
	         "case must be YYYY-NNNNNN"},
	        {"{\"case\":\"2026-000000\",\"date\":\"2026-11-22\",\"event\":\"filing\",\"v\":1}", SD_ERR_FORMAT,
	         "case must be YYYY-NNNNNN"},
	        {"{\"case\":\"2026-0000001\",\"date\":\"2026-11-22\",\"event\":\"filing\",\"v\":1}", SD_ERR_FORMAT,
	         "case must be YYYY-NNNNNN"},
	        {"{\"case\":null,\"date\":\"2026-11-22\",\"event\":\"filing\",\"v\":1}", SD_ERR_FORMAT,
	         "case must be a string"},
	        /* roles */
	        {L_HEAD "\"digest\":\"" KAT_DIGEST "\",\"event\":\"filing\",\"role\":\"judge\",\"v\":1}", SD_ERR_FORMAT,
	         "audit leaf: role must be one of attorney, officer, custodian, operator, whistleblower and server"},
	        {L_HEAD "\"event\":\"filing\",\"role\":\"Attorney\",\"v\":1}", SD_ERR_FORMAT, "role must be one of"},
	        {L_HEAD "\"event\":\"filing\",\"role\":\"\",\"v\":1}", SD_ERR_FORMAT, "role must be one of"},
	        {L_HEAD "\"event\":\"filing\",\"role\":\"whistleblowers!\",\"v\":1}", SD_ERR_FORMAT,
	         "role must be one of"},
	        {L_HEAD "\"event\":\"filing\",\"role\":\"whistleblowers!!\",\"v\":1}", SD_ERR_FORMAT,
	         "role must be one of"},
	        {L_HEAD "\"event\":\"filing\",\"subject_role\":\"root\",\"v\":1}", SD_ERR_FORMAT,
	         "subject_role must be one of"},
	        {L_HEAD "\"event\":\"filing\",\"role\":[],\"v\":1}", SD_ERR_FORMAT, "role must be a string"},
	        /* hex */
	        {"{\"actor\":\"000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F\",\"date\":\"2026-11-"
	         "22\",\"event\":\"filing\",\"v\":1}",
	         SD_ERR_FORMAT, "audit leaf: actor must be 64 lower-case hexadecimal digits"},
	        {"{\"date\":\"2026-11-22\",\"digest\":\"" KAT_DIGEST "00\",\"event\":\"filing\",\"v\":1}",
	         SD_ERR_FORMAT, "digest must be 64 lower-case"},
	        {"{\"date\":\"2026-11-22\",\"event\":\"filing\",\"subject\":\"\",\"v\":1}", SD_ERR_FORMAT,
	         "subject must be 64 lower-case"},
	        {"{\"date\":\"2026-11-22\",\"event\":\"filing\",\"subject\":1,\"v\":1}", SD_ERR_FORMAT,
	         "subject must be a string"},
	        /* number */
	        {"{\"date\":\"2026-11-22\",\"event\":\"filing\",\"number\":9007199254740992,\"v\":1}", SD_ERR_FORMAT,
	         "audit leaf: number must be between 0 and 9007199254740991"},
	        {"{\"date\":\"2026-11-22\",\"event\":\"filing\",\"number\":-1,\"v\":1}", SD_ERR_FORMAT,
	         "number must be between"},
	        {"{\"date\":\"2026-11-22\",\"event\":\"filing\",\"number\":99999999999999999999,\"v\":1}",
	         SD_ERR_FORMAT, "invalid JSON"},
	        {"{\"date\":\"2026-11-22\",\"event\":\"filing\",\"number\":1e3,\"v\":1}", SD_ERR_FORMAT,
	         "number must be an integer"},
	        {"{\"date\":\"2026-11-22\",\"event\":\"filing\",\"number\":\"5\",\"v\":1}", SD_ERR_FORMAT,
	         "number must be an integer"},
	        /* detail */
	        {"{\"date\":\"2026-11-22\",\"detail\":\"\",\"event\":\"filing\",\"v\":1}", SD_ERR_FORMAT,
	         "detail must be 1 to 127"},
	        {"{\"date\":\"2026-11-22\",\"detail\":\"Open\",\"event\":\"filing\",\"v\":1}", SD_ERR_FORMAT,
	         "detail must be 1 to 127"},
	        {"{\"date\":\"2026-11-22\",\"detail\":\"a b\",\"event\":\"filing\",\"v\":1}", SD_ERR_FORMAT,
	         "detail must be 1 to 127"},
	        {"{\"date\":\"2026-11-22\",\"detail\":\"-a\",\"event\":\"filing\",\"v\":1}", SD_ERR_FORMAT,
	         "detail must be 1 to 127"},
	        {"{\"date\":\"2026-11-22\",\"detail\":"
	         "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"," /* 128 */
	         "\"event\":\"filing\",\"v\":1}",
	         SD_ERR_FORMAT, "detail must be 1 to 127"},
	        /* not a leaf at all */
	        {"", SD_ERR_FORMAT, "audit leaf: invalid JSON"},
	        {"[]", SD_ERR_FORMAT, "a leaf must be a JSON object"},
	        {"\"filing\"", SD_ERR_FORMAT, "invalid JSON"},
	        {"{\"date\":\"2026-11-22\",\"date\":\"2026-11-22\",\"event\":\"filing\",\"v\":1}", SD_ERR_FORMAT,
	         "invalid JSON"},
	        {"{\"date\":\"2026-11-22\",\"event\":\"filing\",\"v\":1}{}", SD_ERR_FORMAT, "invalid JSON"},
	        {"{\"date\":\"2026-11-22\",\"detail\":\"\\u0000\",\"event\":\"filing\",\"v\":1}", SD_ERR_FORMAT,
	         "invalid JSON"},
	};
	sd_audit_event_t got;

	(void)state;
	/* the base of the cases parses */
	assert_int_equal(parse_text("{\"date\":\"2026-11-22\",\"event\":\"filing\",\"v\":1}", &got), 0);
	assert_int_equal(parse_text(L_HEAD L_TAIL, &got), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r;

		memset(&got, 0x55, sizeof(got));
		sd_error_clear();
		r = parse_text(cases[i].text, &got);
		if (r != cases[i].err || strstr(sd_error_detail(), cases[i].detail) == NULL)
			fail_msg("%s: got %d '%s', want %d '%s'", cases[i].text, r, sd_error_detail(), cases[i].err,
			         cases[i].detail);
		/* nothing half-parsed is left behind */
		assert_int_equal(got.type, SD_AUDIT_NONE);
		assert_int_equal(got.date.y, 0);
		assert_false(got.has_actor);
	}
}

static void test_parse_limits(void **state)
{
	sd_audit_event_t got;
	uint8_t big[SD_AUDIT_LEAF_MAX + 2];

	(void)state;
	memset(big, ' ', sizeof(big));
	assert_int_equal(sd_audit_leaf_parse(big, SD_AUDIT_LEAF_MAX + 1, &got), SD_ERR_TOOBIG);
	assert_int_equal(sd_audit_leaf_parse(big, SD_AUDIT_LEAF_MAX, &got), SD_ERR_FORMAT);
	assert_int_equal(sd_audit_leaf_parse(NULL, 1, &got), SD_ERR_USAGE);
	assert_int_equal(sd_audit_leaf_parse(NULL, 0, &got), SD_ERR_FORMAT);
	/* a prefix of a valid leaf */
	assert_int_equal(sd_audit_leaf_parse((const uint8_t *)KAT_LEAF, KAT_LEAF_LEN - 1, &got), SD_ERR_FORMAT);
	assert_int_equal(sd_audit_leaf_parse((const uint8_t *)KAT_LEAF, KAT_LEAF_LEN, &got), 0);
}

/* --- JSON for --json ------------------------------------------------------------------- */

static void test_event_json(void **state)
{
	sd_audit_event_t ev;
	json_t *o;
	char *text;

	(void)state;
	kat_event(&ev);
	assert_non_null(o = sd_audit_event_json(&ev));
	assert_non_null(text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS));
	assert_string_equal(text, KAT_LEAF);
	assert_int_equal(json_integer_value(json_object_get(o, "v")), 1);
	assert_null(json_object_get(o, "subject"));
	free(text);
	json_decref(o);
	assert_null(sd_audit_event_json(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_type_names),    cmocka_unit_test(test_kat_filing),
	        cmocka_unit_test(test_roundtrip),     cmocka_unit_test(test_encode_refuses),
	        cmocka_unit_test(test_parse_refuses), cmocka_unit_test(test_parse_limits),
	        cmocka_unit_test(test_event_json),
	};

	return cmocka_run_group_tests(tests, unit_setup, NULL);
}
