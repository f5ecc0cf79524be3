/*
 * test_record.c — the report and identity validators and the resident registration
 * number check: every field missing, mistyped and empty, unknown fields, prior filings,
 * contact rules, RRN dates and centuries, size limits, the exact canonical text, and
 * that no identity message repeats the value it complains about.
 */
#include "unit.h"
#include "unit_json.h"

#include <jansson.h>
#include <sodium.h>

#include "sealdrop/record.h"

static const sd_date_t TODAY = {2026, 11, 22};

static const char *const BASE_REPORT =
        "{\"accused_organization\": \"주식회사 예시건설\", \"particulars\": \"Kickbacks on road contracts\","
        " \"purpose\": \"Stop the bid rigging\", \"details\": \"Since 2024 the company ...\","
        " \"relationship\": \"employee\", \"evidence_summary\": \"ledger photos; two witnesses\","
        " \"prior_filings\": [{\"agency\": \"police\", \"date\": \"2026-01-05\", \"reference\": \"2026-123\","
        " \"outcome\": \"pending\"}], \"identity_disclosure\": \"no-consent\"}";

static const char *const BASE_IDENTITY =
        "{\"name\": \"홍길동\", \"rrn\": \"900101-1234567\", \"address\": \"서울특별시 종로구 세종대로 209\","
        " \"occupation\": \"site engineer\", \"workplace\": \"Example Construction\", \"phone\": \"+82 10-1234-5678\","
        " \"email\": \"hong.gildong@example.kr\"}";

/* base with path set to value (JSON text) or deleted (value NULL); path NULL: unchanged. */
static char *mutated(const char *base, const char *path, const char *value)
{
	json_t *obj = json_loads(base, JSON_PRESERVE_ORDER, NULL);
	char *text;

	assert_non_null(obj);
	if (path != NULL)
		unit_json_set(obj, path, value);
	text = json_dumps(obj, JSON_PRESERVE_ORDER);
	json_decref(obj);
	return text;
}

struct rec_case {
	const char *path;
	const char *value; /* NULL: delete */
	int err;
	const char *detail; /* exact detail, or NULL for success */
};

/* --- report ------------------------------------------------------------------------- */

static const char *const text_fields[] = {"accused_organization", "particulars",     "purpose", "details",
                                          "relationship",         "evidence_summary"};

static void check_report_case(const struct rec_case *c, size_t i)
{
	char *in = mutated(BASE_REPORT, c->path, c->value), *out = (char *)1;
	size_t outlen = 7;
	int r = sd_report_validate((const uint8_t *)in, strlen(in), &out, &outlen);

	if (r != c->err || (c->detail != NULL && strcmp(sd_error_detail(), c->detail) != 0))
		fail_msg("report case %zu (%s = %s): got %d '%s', expected %d '%s'", i, c->path ? c->path : "-",
		         c->value ? c->value : "(deleted)", r, sd_error_detail(), c->err, c->detail ? c->detail : "");
	if (r == 0) {
		assert_non_null(out);
		assert_int_equal(strlen(out), outlen);
		free(out);
	} else {
		assert_null(out);
		assert_int_equal(outlen, 0);
	}
	free(in);
}

static void test_report_text_fields(void **state)
{
	char detail[128];

	(void)state;
	for (size_t i = 0; i < sizeof(text_fields) / sizeof(text_fields[0]); i++) {
		const char *f = text_fields[i];
		struct rec_case c = {f, NULL, SD_ERR_INVALID, detail};

		snprintf(detail, sizeof(detail), "report field '%s' is missing", f);
		check_report_case(&c, i);
		snprintf(detail, sizeof(detail), "report field '%s' must be a string", f);
		c.value = "5";
		check_report_case(&c, i);
		c.value = "null";
		check_report_case(&c, i);
		c.value = "[\"x\"]";
		check_report_case(&c, i);
		snprintf(detail, sizeof(detail), "report field '%s' must not be empty", f);
		c.value = "\"\"";
		check_report_case(&c, i);
		c.value = "\" \\t\\r\\n \"";
		check_report_case(&c, i);
		c.value = "\"\\u3000\\u00a0\\u200b\\ufeff \"";
		check_report_case(&c, i);
		c = (struct rec_case){f, "\" x \"", 0, NULL};
		check_report_case(&c, i);
		c = (struct rec_case){f, "\"\\u3000가\"", 0, NULL};
		check_report_case(&c, i);
	}
}

static const struct rec_case report_cases[] = {
        {NULL, NULL, 0, NULL},
        {"purpse", "\"typo\"", SD_ERR_INVALID, "report has an unknown field 'purpse'"},
        {"Purpose", "\"x\"", SD_ERR_INVALID, "report has an unknown field 'Purpose'"},
        {"identity", "{}", SD_ERR_INVALID, "report has an unknown field 'identity'"},
        /* prior_filings */
        {"prior_filings", NULL, SD_ERR_INVALID, "report field 'prior_filings' is missing"},
        {"prior_filings", "\"police\"", SD_ERR_INVALID, "report field 'prior_filings' must be an array"},
        {"prior_filings", "{}", SD_ERR_INVALID, "report field 'prior_filings' must be an array"},
        {"prior_filings", "[]", 0, NULL},
        {"prior_filings.0", "\"police\"", SD_ERR_INVALID, "report field 'prior_filings[0]' must be an object"},
        {"prior_filings.1", "[]", SD_ERR_INVALID, "report field 'prior_filings[1]' must be an object"},
        {"prior_filings.0", "{}", SD_ERR_INVALID, "report field 'prior_filings[0].agency' is missing"},
        {"prior_filings.0", "{\"agency\": \"prosecutors\"}", 0, NULL},
        {"prior_filings.1", "{\"agency\": \"audit board\", \"date\": \"2025-12-31\"}", 0, NULL},
        {"prior_filings.1", "{\"agency\": \"\"}", SD_ERR_INVALID,
         "report field 'prior_filings[1].agency' must not be empty"},
        {"prior_filings.0.agency", NULL, SD_ERR_INVALID, "report field 'prior_filings[0].agency' is missing"},
        {"prior_filings.0.agency", "\"  \"", SD_ERR_INVALID,
         "report field 'prior_filings[0].agency' must not be empty"},
        {"prior_filings.0.agency", "3", SD_ERR_INVALID, "report field 'prior_filings[0].agency' must be a string"},
        {"prior_filings.0.date", NULL, 0, NULL},
        {"prior_filings.0.date", "\"2026-02-30\"", SD_ERR_INVALID,
         "report field 'prior_filings[0].date': 2026-02-30 is not a calendar date"},
        {"prior_filings.0.date", "\"2026-1-5\"", SD_ERR_INVALID,
         "report field 'prior_filings[0].date': '2026-1-5' is not a date of the form YYYY-MM-DD"},
        {"prior_filings.0.date", "\"\"", SD_ERR_INVALID,
         "report field 'prior_filings[0].date': '' is not a date of the form YYYY-MM-DD"},
        {"prior_filings.0.date", "20260105", SD_ERR_INVALID, "report field 'prior_filings[0].date' must be a string"},
        {"prior_filings.0.reference", NULL, 0, NULL},
        {"prior_filings.0.reference", "\"\"", 0, NULL},
        {"prior_filings.0.reference", "123", SD_ERR_INVALID,
         "report field 'prior_filings[0].reference' must be a string"},
        {"prior_filings.0.outcome", NULL, 0, NULL},
        {"prior_filings.0.outcome", "false", SD_ERR_INVALID,
         "report field 'prior_filings[0].outcome' must be a string"},
        {"prior_filings.0.result", "\"x\"", SD_ERR_INVALID,
         "report field 'prior_filings[0]' has an unknown field 'result'"},
        /* identity_disclosure */
        {"identity_disclosure", NULL, SD_ERR_INVALID, "report field 'identity_disclosure' is missing"},
        {"identity_disclosure", "\"consent\"", 0, NULL},
        {"identity_disclosure", "\"no-consent\"", 0, NULL},
        {"identity_disclosure", "\"undecided\"", 0, NULL},
        {"identity_disclosure", "\"Consent\"", SD_ERR_INVALID,
         "report field 'identity_disclosure' must be \"consent\", \"no-consent\" or \"undecided\""},
        {"identity_disclosure", "\"consent \"", SD_ERR_INVALID,
         "report field 'identity_disclosure' must be \"consent\", \"no-consent\" or \"undecided\""},
        {"identity_disclosure", "\"\"", SD_ERR_INVALID,
         "report field 'identity_disclosure' must be \"consent\", \"no-consent\" or \"undecided\""},
        {"identity_disclosure", "true", SD_ERR_INVALID, "report field 'identity_disclosure' must be a string"},
};

static void test_report_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(report_cases) / sizeof(report_cases[0]); i++)
		check_report_case(&report_cases[i], i);
}

static void test_report_filings_limit(void **state)
{
	json_t *obj = json_loads(BASE_REPORT, 0, NULL), *arr = json_array();
	char *in, *out = NULL;
	size_t outlen;

	(void)state;
	for (int i = 0; i < 64; i++)
		json_array_append_new(arr, json_pack("{s:s}", "agency", "police"));
	json_object_set(obj, "prior_filings", arr);
	in = json_dumps(obj, 0);
	assert_int_equal(sd_report_validate((const uint8_t *)in, strlen(in), &out, &outlen), 0);
	free(out);
	free(in);
	json_array_append_new(arr, json_pack("{s:s}", "agency", "police"));
	in = json_dumps(obj, 0);
	assert_int_equal(sd_report_validate((const uint8_t *)in, strlen(in), &out, &outlen), SD_ERR_INVALID);
	assert_string_equal(sd_error_detail(), "report field 'prior_filings' has more than 64 entries");
	free(in);
	json_decref(arr);
	json_decref(obj);
}

/* A report whose field f is n bytes of 'x'. */
static char *report_with_long(const char *f, size_t n)
{
	json_t *obj = json_loads(BASE_REPORT, JSON_PRESERVE_ORDER, NULL);
	char *s = malloc(n + 1), *in;

	memset(s, 'x', n);
	s[n] = '\0';
	json_object_set_new(obj, f, json_string(s));
	in = json_dumps(obj, JSON_PRESERVE_ORDER);
	free(s);
	json_decref(obj);
	return in;
}

static void test_report_sizes(void **state)
{
	char *in, *out = NULL;
	size_t outlen, n;
	uint8_t *big;
	json_t *obj;

	(void)state;
	in = report_with_long("details", 256 * 1024);
	assert_int_equal(sd_report_validate((const uint8_t *)in, strlen(in), &out, &outlen), 0);
	free(out);
	free(in);
	in = report_with_long("details", 256 * 1024 + 1);
	assert_int_equal(sd_report_validate((const uint8_t *)in, strlen(in), &out, &outlen), SD_ERR_TOOBIG);
	assert_string_equal(sd_error_detail(), "report field 'details' is longer than 262144 bytes");
	free(in);

	/* each field within its limit, the whole beyond the 1 MiB bucket */
	obj = json_loads(BASE_REPORT, JSON_PRESERVE_ORDER, NULL);
	{
		char *s = malloc(256 * 1024 + 1);
		memset(s, 'y', 256 * 1024);
		s[256 * 1024] = '\0';
		for (int i = 0; i < 4; i++)
			json_object_set_new(obj, text_fields[i], json_string(s));
		free(s);
	}
	in = json_dumps(obj, JSON_PRESERVE_ORDER);
	assert_int_equal(sd_report_validate((const uint8_t *)in, strlen(in), &out, &outlen), SD_ERR_TOOBIG);
	assert_non_null(strstr(sd_error_detail(), "more than the 1048575 that fit its padded size"));
	assert_null(out);
	free(in);
	json_decref(obj);

	/* input beyond 4 MiB is refused before parsing */
	n = (4u << 20) + 1;
	big = malloc(n);
	memset(big, ' ', n);
	memcpy(big, BASE_REPORT, strlen(BASE_REPORT));
	assert_int_equal(sd_report_validate(big, n, &out, &outlen), SD_ERR_TOOBIG);
	assert_int_equal(sd_report_validate(big, n - 1, &out, &outlen), 0);
	free(out);
	free(big);
}

static void test_report_syntax(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *detail;
	} cases[] = {
	        {"", 0, "report is not valid JSON: line 1 column 0: '[' or '{' expected near end of file"},
	        {"{", 1, "report is not valid JSON: line 1 column 1: string or '}' expected near end of file"},
	        {"[]", 2, "report must be a JSON object"},
	        {"{\"purpose\": \"a\", \"purpose\": \"b\"}", 32, "duplicate object key"},
	        {"{\"purpose\": \"a\\u0000b\"}", 23, "\\u0000 is not allowed"},
	        {"{\"purpose\": \"\xff\"}", 16, "unable to decode byte 0xff"},
	        {"{} {}", 5, "end of file expected"},
	        {"{\"a\": 1}\0", 9, "end of file expected"},
	};
	char *out = NULL;
	size_t outlen;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(strlen(cases[i].in) + (i == 7), cases[i].len);
		if (sd_report_validate((const uint8_t *)cases[i].in, cases[i].len, &out, &outlen) != SD_ERR_FORMAT ||
		    strstr(sd_error_detail(), cases[i].detail) == NULL)
			fail_msg("case %zu: '%s'", i, sd_error_detail());
		assert_null(out);
	}
}

static void test_report_canonical(void **state)
{
	static const char in[] =
	        "{\"identity_disclosure\":\"undecided\",\"prior_filings\":[],\"accused_organization\":\"A/S "
	        "\\\"B\\\"\","
	        "\"particulars\":\"p\",\"purpose\":\"\\u00e9\",\"details\":\"d\\n2\",\"relationship\":\"r\","
	        "\"evidence_summary\":\"e\"}";
	static const char want[] = "{\n"
	                           "  \"identity_disclosure\": \"undecided\",\n"
	                           "  \"prior_filings\": [],\n"
	                           "  \"accused_organization\": \"A/S \\\"B\\\"\",\n"
	                           "  \"particulars\": \"p\",\n"
	                           "  \"purpose\": \"\xc3\xa9\",\n"
	                           "  \"details\": \"d\\n2\",\n"
	                           "  \"relationship\": \"r\",\n"
	                           "  \"evidence_summary\": \"e\"\n"
	                           "}\n";
	char *out = NULL, *again = NULL;
	size_t outlen, againlen;

	(void)state;
	assert_int_equal(sd_report_validate((const uint8_t *)in, strlen(in), &out, &outlen), 0);
	assert_string_equal(out, want);
	assert_int_equal(outlen, strlen(want));
	/* the canonical text is a fixed point */
	assert_int_equal(sd_report_validate((const uint8_t *)out, outlen, &again, &againlen), 0);
	assert_int_equal(againlen, outlen);
	assert_memory_equal(again, out, outlen);
	free(again);
	free(out);
}

/* --- identity ----------------------------------------------------------------------- */

/* No identity message may repeat a value of the input (any string of 4 bytes or more). */
static void assert_no_values_in_detail(const char *in)
{
	json_t *obj = json_loads(in, 0, NULL);
	const char *key;
	json_t *v;

	if (obj == NULL)
		return;
	json_object_foreach(obj, key, v)
	{
		if (json_is_string(v) && json_string_length(v) >= 4 && strstr(sd_error_detail(), json_string_value(v)))
			fail_msg("detail '%s' repeats the value of '%s'", sd_error_detail(), key);
	}
	json_decref(obj);
}

static void check_identity_case(const struct rec_case *c, size_t i)
{
	char *in = mutated(BASE_IDENTITY, c->path, c->value), *out = (char *)1;
	size_t outlen = 7;
	int r = sd_identity_validate((const uint8_t *)in, strlen(in), TODAY, &out, &outlen);

	if (r != c->err || (c->detail != NULL && strcmp(sd_error_detail(), c->detail) != 0))
		fail_msg("identity case %zu (%s = %s): got %d '%s', expected %d '%s'", i, c->path ? c->path : "-",
		         c->value ? c->value : "(deleted)", r, sd_error_detail(), c->err, c->detail ? c->detail : "");
	if (r == 0) {
		assert_non_null(out);
		assert_int_equal(strlen(out), outlen);
		sodium_free(out);
	} else {
		assert_null(out);
		assert_int_equal(outlen, 0);
		assert_no_values_in_detail(in);
	}
	free(in);
}

#define PHONE_MSG "identity field 'phone' must have 7 to 20 digits and only digits, spaces, '+', '-', '(' and ')'"
#define EMAIL_MSG                                                                                                      \
	"identity field 'email' must be an address of the form name@domain.tld (one '@', no spaces, at most 254 "      \
	"bytes)"
#define HIDDEN_MSG                                                                                                     \
	"identity has an unknown field (its name is not shown: it does not look like a field name and may be "         \
	"identity data)"
#define CONTACT_MSG "identity needs a way to reach the whistleblower: field 'phone' or 'email' must not be empty"

static char email_254[300], email_255[300];

static const struct rec_case identity_cases[] = {
        {NULL, NULL, 0, NULL},
        {"nmae", "\"x\"", SD_ERR_INVALID, "identity has an unknown field 'nmae'"},
        {"rrn_check", "\"1\"", SD_ERR_INVALID, "identity has an unknown field 'rrn_check'"},
        {"900101-1234567", "\"\"", SD_ERR_INVALID, HIDDEN_MSG},
        {"hong@example", "\"\"", SD_ERR_INVALID, HIDDEN_MSG},
        {"홍길동", "\"\"", SD_ERR_INVALID, HIDDEN_MSG},
        {"_name", "\"\"", SD_ERR_INVALID, HIDDEN_MSG},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "\"\"", SD_ERR_INVALID, HIDDEN_MSG},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "\"\"", SD_ERR_INVALID,
         "identity has an unknown field 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'"},
        {"Phone-2", "\"\"", SD_ERR_INVALID, "identity has an unknown field 'Phone-2'"},
        {"name", NULL, SD_ERR_INVALID, "identity field 'name' is missing"},
        {"name", "\"\"", SD_ERR_INVALID, "identity field 'name' must not be empty"},
        {"name", "\"\\u3000 \"", SD_ERR_INVALID, "identity field 'name' must not be empty"},
        {"name", "[\"홍길동\"]", SD_ERR_INVALID, "identity field 'name' must be a string"},
        {"rrn", NULL, SD_ERR_INVALID, "identity field 'rrn' is missing"},
        {"rrn", "\"\"", SD_ERR_INVALID, "identity field 'rrn' must not be empty"},
        {"rrn", "9001011234567", SD_ERR_INVALID, "identity field 'rrn' must be a string"},
        {"rrn", "\"9001011234567\"", SD_ERR_INVALID, "rrn must have the form YYMMDD-GNNNNNN"},
        {"rrn", "\"230230-4234567\"", SD_ERR_INVALID, "rrn: 2023-02-30 is not a calendar date"},
        {"address", NULL, SD_ERR_INVALID, "identity field 'address' is missing"},
        {"address", "\"\\n\"", SD_ERR_INVALID, "identity field 'address' must not be empty"},
        {"address", "{}", SD_ERR_INVALID, "identity field 'address' must be a string"},
        {"occupation", NULL, 0, NULL},
        {"occupation", "\"\"", 0, NULL},
        {"occupation", "7", SD_ERR_INVALID, "identity field 'occupation' must be a string"},
        {"workplace", NULL, 0, NULL},
        {"workplace", "null", SD_ERR_INVALID, "identity field 'workplace' must be a string"},
        /* phone */
        {"phone", "\"010-1234-5678\"", 0, NULL},
        {"phone", "\"+82 (10) 1234 5678\"", 0, NULL},
        {"phone", "\"1234567\"", 0, NULL},
        {"phone", "\"12345678901234567890\"", 0, NULL},
        {"phone", "\"123456\"", SD_ERR_INVALID, PHONE_MSG},
        {"phone", "\"123456789012345678901\"", SD_ERR_INVALID, PHONE_MSG},
        {"phone", "\"010.1234.5678\"", SD_ERR_INVALID, PHONE_MSG},
        {"phone", "\"010-1234-567a\"", SD_ERR_INVALID, PHONE_MSG},
        {"phone", "\"010\\t1234\\t5678\"", SD_ERR_INVALID, PHONE_MSG},
        {"phone", "\"   \"", SD_ERR_INVALID, PHONE_MSG},
        {"phone", "\"０１０１２３４５６７８\"", SD_ERR_INVALID, PHONE_MSG},
        {"phone", "1012345678", SD_ERR_INVALID, "identity field 'phone' must be a string"},
        /* email */
        {"email", "\"a@b.c\"", 0, NULL},
        {"email", "\"hong.gildong+tip@mail.example.kr\"", 0, NULL},
        {"email", email_254, 0, NULL},
        {"email", email_255, SD_ERR_INVALID, EMAIL_MSG},
        {"email", "\"hong@example\"", SD_ERR_INVALID, EMAIL_MSG},
        {"email", "\"@example.kr\"", SD_ERR_INVALID, EMAIL_MSG},
        {"email", "\"hong@\"", SD_ERR_INVALID, EMAIL_MSG},
        {"email", "\"hong@@example.kr\"", SD_ERR_INVALID, EMAIL_MSG},
        {"email", "\"hong@ex@ample.kr\"", SD_ERR_INVALID, EMAIL_MSG},
        {"email", "\"hong gil@example.kr\"", SD_ERR_INVALID, EMAIL_MSG},
        {"email", "\"hong@example.kr \"", SD_ERR_INVALID, EMAIL_MSG},
        {"email", "\"hong@.example\"", SD_ERR_INVALID, EMAIL_MSG},
        {"email", "\"hong@example.\"", SD_ERR_INVALID, EMAIL_MSG},
        {"email", "\"hongexample.kr\"", SD_ERR_INVALID, EMAIL_MSG},
        {"email", "[]", SD_ERR_INVALID, "identity field 'email' must be a string"},
        /* at least one way to reach the whistleblower */
        {"phone", NULL, 0, NULL},
        {"email", NULL, 0, NULL},
        {"phone", "\"\"", 0, NULL},
        {"email", "\"\"", 0, NULL},
};

static void fill_emails(void)
{
	/* "a...a@example.kr" of 254 and 255 bytes, quoted */
	size_t domain = strlen("@example.kr");

	email_254[0] = '"';
	memset(email_254 + 1, 'a', 254 - domain);
	memcpy(email_254 + 1 + 254 - domain, "@example.kr\"", domain + 2);
	email_255[0] = '"';
	memset(email_255 + 1, 'a', 255 - domain);
	memcpy(email_255 + 1 + 255 - domain, "@example.kr\"", domain + 2);
	assert_int_equal(strlen(email_254), 256);
	assert_int_equal(strlen(email_255), 257);
}

static void test_identity_cases(void **state)
{
	(void)state;
	fill_emails();
	for (size_t i = 0; i < sizeof(identity_cases) / sizeof(identity_cases[0]); i++)
		check_identity_case(&identity_cases[i], i);
}

static void test_identity_contact(void **state)
{
	static const char *const ins[] = {
	        "{\"name\": \"홍길동\", \"rrn\": \"900101-1234567\", \"address\": \"서울\"}",
	        "{\"name\": \"홍길동\", \"rrn\": \"900101-1234567\", \"address\": \"서울\", \"phone\": \"\", "
	        "\"email\": \"\"}",
	        "{\"name\": \"홍길동\", \"rrn\": \"900101-1234567\", \"address\": \"서울\", \"occupation\": \"x\"}",
	};
	char *out = NULL;
	size_t outlen;

	(void)state;
	for (size_t i = 0; i < sizeof(ins) / sizeof(ins[0]); i++) {
		assert_int_equal(sd_identity_validate((const uint8_t *)ins[i], strlen(ins[i]), TODAY, &out, &outlen),
		                 SD_ERR_INVALID);
		assert_string_equal(sd_error_detail(), CONTACT_MSG);
		assert_null(out);
	}
}

static void test_identity_canonical(void **state)
{
	static const char in[] =
	        "{\"name\":\"Kim\",\"rrn\":\"000229-3000000\",\"address\":\"Seoul\",\"email\":\"k@x.kr\"}";
	static const char want[] = "{\n"
	                           "  \"name\": \"Kim\",\n"
	                           "  \"rrn\": \"000229-3000000\",\n"
	                           "  \"address\": \"Seoul\",\n"
	                           "  \"email\": \"k@x.kr\"\n"
	                           "}\n";
	char *out = NULL, *again = NULL;
	size_t outlen, againlen;

	(void)state;
	assert_int_equal(sd_identity_validate((const uint8_t *)in, strlen(in), TODAY, &out, &outlen), 0);
	assert_string_equal(out, want);
	assert_int_equal(outlen, strlen(want));
	assert_int_equal(sd_identity_validate((const uint8_t *)out, outlen, TODAY, &again, &againlen), 0);
	assert_int_equal(againlen, outlen);
	assert_memory_equal(again, out, outlen);
	/* sodium_free on memory that did not come from sodium_malloc would abort */
	sodium_free(again);
	sodium_free(out);
}

static void test_identity_sizes(void **state)
{
	char *in, *out = NULL, addr[4200];
	size_t outlen, n, fit = 0, refused = 0;
	uint8_t *big;

	(void)state;
	/* the canonical text must fit the 4 KiB bucket: 4095 bytes with the newline */
	for (size_t len = 3600; len < 4000; len++) {
		memset(addr, 'x', len);
		addr[len] = '\0';
		in = NULL;
		{
			json_t *obj = json_loads(BASE_IDENTITY, JSON_PRESERVE_ORDER, NULL);
			json_object_set_new(obj, "address", json_string(addr));
			in = json_dumps(obj, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
			json_decref(obj);
		}
		int r = sd_identity_validate((const uint8_t *)in, strlen(in), TODAY, &out, &outlen);
		if (strlen(in) + 1 <= SD_IDENTITY_MAX_BYTES) {
			assert_int_equal(r, 0);
			assert_int_equal(outlen, strlen(in) + 1);
			sodium_free(out);
			fit++;
		} else {
			assert_int_equal(r, SD_ERR_TOOBIG);
			assert_null(out);
			refused++;
		}
		free(in);
	}
	assert_true(fit > 0 && refused > 0);
	n = (64u << 10) + 1;
	big = malloc(n);
	memset(big, ' ', n);
	memcpy(big, BASE_IDENTITY, strlen(BASE_IDENTITY));
	assert_int_equal(sd_identity_validate(big, n, TODAY, &out, &outlen), SD_ERR_TOOBIG);
	assert_int_equal(sd_identity_validate(big, n - 1, TODAY, &out, &outlen), 0);
	sodium_free(out);
	free(big);
}

/* jansson's own message quotes the input near the error: the identity's must not. */
static void test_identity_syntax(void **state)
{
	static const char *const ins[] = {
	        "{\"name\": Hong Gildong}",
	        "{\"name\": \"Hong Gildong\", \"name\": \"Hong Gildong\"}",
	        "{\"name\": \"Hong Gildong\n\"}",
	        "[\"Hong Gildong\"]",
	        "{\"name\": \"Hong Gildong\" \"rrn\": \"900101-1234567\"}",
	};
	char *out = NULL;
	size_t outlen;

	(void)state;
	for (size_t i = 0; i < sizeof(ins) / sizeof(ins[0]); i++) {
		assert_int_equal(sd_identity_validate((const uint8_t *)ins[i], strlen(ins[i]), TODAY, &out, &outlen),
		                 SD_ERR_FORMAT);
		if (strstr(sd_error_detail(), "Hong") != NULL || strstr(sd_error_detail(), "1234567") != NULL)
			fail_msg("case %zu: detail '%s' repeats identity data", i, sd_error_detail());
		assert_null(out);
	}
	assert_int_equal(sd_identity_validate((const uint8_t *)ins[0], strlen(ins[0]), TODAY, &out, &outlen),
	                 SD_ERR_FORMAT);
	assert_string_equal(sd_error_detail(), "identity is not valid JSON (line 1, column 13)");
}

/* --- resident registration number ----------------------------------------------------- */

struct rrn_case {
	const char *rrn;
	const char *detail; /* NULL: valid */
};

static const struct rrn_case rrn_cases[] = {
        {"900101-1234567", NULL}, /* 1990, male */
        {"851231-2234567", NULL}, /* 1985, female */
        {"000101-3234567", NULL}, /* 2000 */
        {"101010-4234567", NULL}, /* 2010 */
        {"850315-5234567", NULL}, /* foreigner, 1900s */
        {"760704-6234567", NULL}, /* foreigner, 1900s */
        {"050505-7234567", NULL}, /* foreigner, 2000s */
        {"110111-8234567", NULL}, /* foreigner, 2000s */
        {"991231-9234567", NULL}, /* 1899 */
        {"500101-0234567", NULL}, /* 1850 */
        {"000229-3234567", NULL}, /* 2000-02-29: leap (divisible by 400) */
        {"960229-1234567", NULL}, /* 1996-02-29 */
        {"261122-3234567", NULL}, /* born today */
        {"230230-4234567", "rrn: 2023-02-30 is not a calendar date"},
        {"000229-1234567", "rrn: 1900-02-29 is not a calendar date"},
        {"000229-9234567", "rrn: 1800-02-29 is not a calendar date"},
        {"230229-4234567", "rrn: 2023-02-29 is not a calendar date"},
        {"901301-1234567", "rrn: 1990-13-01 is not a calendar date"},
        {"900100-1234567", "rrn: 1990-01-00 is not a calendar date"},
        {"900431-1234567", "rrn: 1990-04-31 is not a calendar date"},
        {"000001-1234567", "rrn: 1900-00-01 is not a calendar date"},
        {"991231-3234567", "rrn: century digit 3 makes the birth date 2099-12-31, which is in the future"},
        {"261123-4234567", "rrn: century digit 4 makes the birth date 2026-11-23, which is in the future"},
        {"300101-7234567", "rrn: century digit 7 makes the birth date 2030-01-01, which is in the future"},
        {"9001011234567", "rrn must have the form YYMMDD-GNNNNNN"},
        {"900101-123456", "rrn must have the form YYMMDD-GNNNNNN"},
        {"900101-12345678", "rrn must have the form YYMMDD-GNNNNNN"},
        {"90010a-1234567", "rrn must have the form YYMMDD-GNNNNNN"},
        {"900101-123456a", "rrn must have the form YYMMDD-GNNNNNN"},
        {"900101_1234567", "rrn must have the form YYMMDD-GNNNNNN"},
        {"900101 1234567", "rrn must have the form YYMMDD-GNNNNNN"},
        {" 900101-1234567", "rrn must have the form YYMMDD-GNNNNNN"},
        {"900101-1234567 ", "rrn must have the form YYMMDD-GNNNNNN"},
        {"9-0101-1234567", "rrn must have the form YYMMDD-GNNNNNN"},
        {"900101--234567", "rrn must have the form YYMMDD-GNNNNNN"},
        {"", "rrn must have the form YYMMDD-GNNNNNN"},
        {"９00101-1234567", "rrn must have the form YYMMDD-GNNNNNN"},
};

static void test_rrn_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rrn_cases) / sizeof(rrn_cases[0]); i++) {
		const struct rrn_case *c = &rrn_cases[i];
		int r = sd_rrn_check(c->rrn, TODAY);

		if (c->detail == NULL && r != 0)
			fail_msg("'%s' refused: %s", c->rrn, sd_error_detail());
		if (c->detail != NULL && (r != SD_ERR_INVALID || strcmp(sd_error_detail(), c->detail) != 0))
			fail_msg("'%s': got %d '%s', expected '%s'", c->rrn, r, sd_error_detail(), c->detail);
		/* the serial digits after G never appear in a message */
		if (c->detail != NULL)
			assert_null(strstr(sd_error_detail(), "234567"));
	}
	assert_int_equal(sd_rrn_check(NULL, TODAY), SD_ERR_INVALID);
}

/* The legacy check digit (weights 2..9,2..5, (11 - sum % 11) % 10) is not enforced:
 * numbers issued since October 2020 have none. */
static void test_rrn_check_digit_not_enforced(void **state)
{
	static const int w[12] = {2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5};
	char rrn[] = "900101-1234567";
	int sum = 0, k = 0, legacy;

	(void)state;
	for (int i = 0; i < 13; i++)
		if (i != 6)
			sum += (rrn[i] - '0') * w[k++];
	legacy = (11 - sum % 11) % 10;
	assert_int_equal(legacy, 8);
	assert_int_not_equal(rrn[13] - '0', legacy);
	assert_int_equal(sd_rrn_check(rrn, TODAY), 0);
	/* and every other last digit too, including the "right" one */
	for (char c = '0'; c <= '9'; c++) {
		rrn[13] = c;
		assert_int_equal(sd_rrn_check(rrn, TODAY), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_report_text_fields),
	        cmocka_unit_test(test_report_cases),
	        cmocka_unit_test(test_report_filings_limit),
	        cmocka_unit_test(test_report_sizes),
	        cmocka_unit_test(test_report_syntax),
	        cmocka_unit_test(test_report_canonical),
	        cmocka_unit_test(test_identity_cases),
	        cmocka_unit_test(test_identity_contact),
	        cmocka_unit_test(test_identity_canonical),
	        cmocka_unit_test(test_identity_sizes),
	        cmocka_unit_test(test_identity_syntax),
	        cmocka_unit_test(test_rrn_cases),
	        cmocka_unit_test(test_rrn_check_digit_not_enforced),
	};
	return cmocka_run_group_tests(tests, unit_setup, NULL);
}
