/*
 * test_metrics.c — the counters and their exposition (server/metrics.c): the text format
 * (every line a HELP, a TYPE or a sample; each family's HELP and TYPE once, before its
 * samples), label escaping, the route label as the table's template and never the path
 * sent, filings and upload bytes, the limits' reasons (table-driven), the anonymous
 * routes counted per day and published only once the day is over, the store's values
 * held for the day, the series cap, and which rows of the server's table are anonymous.
 */
#include "unit.h"

#include <ctype.h>

#include "sealdrop/metrics.h"

static const sd_route_t table[] = {
        {"GET", "/v1/health", 0, SD_BODY_NONE, NULL, NULL, NULL},
        {"POST", "/v1/uploads", SD_ROLE_ATTORNEY, SD_BODY_HEADER, NULL, NULL, NULL},
        {"PUT", "/v1/uploads/{id}/blobs/{k}/chunks/{n}", SD_ROLE_ATTORNEY, SD_BODY_CHUNK, NULL, NULL, NULL},
        {"POST", "/v1/uploads/{id}/commit", SD_ROLE_ATTORNEY, SD_BODY_NONE, NULL, NULL, NULL},
        {"POST", "/v1/wb/status", 0, SD_BODY_SMALL, NULL, NULL, NULL},
        {"GET", "/v1/log/head", 0, SD_BODY_NONE, NULL, NULL, NULL},
        {"GET", "/v1/q\"uo\\te", SD_ROLE_OPERATOR, SD_BODY_NONE, NULL, NULL, NULL},
        {NULL, NULL, 0, SD_BODY_NONE, NULL, NULL, NULL},
};
enum { R_HEALTH, R_UPLOADS, R_CHUNK, R_COMMIT, R_WB, R_LOGHEAD, R_QUOTE };

static const sd_date_t day1 = {2026, 3, 12}, day2 = {2026, 3, 13};

static void reply(int row, const char *path, int status, sd_date_t today)
{
	sd_metrics_reply_t m = {.route = row >= 0 ? &table[row] : NULL, .path = path, .status = status};

	sd_metrics_count_reply(&m, today);
}

static char *render(sd_date_t today)
{
	sd_metrics_gauges_t g = {.today = today, .connections_open = 3, .connections_max = 1024};
	char *text = NULL;
	size_t len = 0;

	assert_int_equal(sd_metrics_render(&g, &text, &len), 0);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	return text;
}

/* The value of the sample whose text before the value is exactly `series`, or -1. */
static long long sample(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *line = text; *line != '\0';) {
		const char *end = strchr(line, '\n');
		if (strncmp(line, series, n) == 0 && line[n] == ' ')
			return strtoll(line + n + 1, NULL, 10);
		if (end == NULL)
			break;
		line = end + 1;
	}
	return -1;
}

static bool is_name(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == ':'))
			return false;
	return n > 0 && !isdigit((unsigned char)s[0]);
}

/* Labels {name="value",...} with \\, \" and \n the only escapes; the length taken. */
static size_t labels_len(const char *s)
{
	size_t i = 1;

	if (s[0] != '{')
		return 0;
	while (s[i] != '}') {
		size_t start = i;
		while (s[i] != '=' && s[i] != '\0')
			i++;
		if (!is_name(s + start, i - start) || s[i + 1] != '"')
			return 0;
		for (i += 2; s[i] != '"'; i++) {
			if (s[i] == '\0' || s[i] == '\n')
				return 0;
			if (s[i] == '\\' && s[++i] != '\\' && s[i] != '"' && s[i] != 'n')
				return 0;
		}
		i++;
		if (s[i] == ',')
			i++;
		else if (s[i] != '}')
			return 0;
	}
	return i + 1;
}

/* Every line a comment or a sample; HELP then TYPE once per family, before its samples. */
static void check_format(const char *text)
{
	char family[128] = "";
	int typed = 0;

	assert_true(strlen(text) > 0 && text[strlen(text) - 1] == '\n');
	for (const char *line = text; *line != '\0'; line = strchr(line, '\n') + 1) {
		size_t n = (size_t)(strchr(line, '\n') - line), name;
		char *end;
		if (strncmp(line, "# HELP ", 7) == 0) {
			for (name = 0; line[7 + name] != ' ' && 7 + name < n; name++)
				;
			assert_true(is_name(line + 7, name));
			assert_true(name < sizeof(family));
			assert_true(strlen(family) != name || strncmp(family, line + 7, name) != 0); /* once */
			memcpy(family, line + 7, name);
			family[name] = '\0';
			typed = 0;
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			assert_true(strncmp(line + 7, family, strlen(family)) == 0 && line[7 + strlen(family)] == ' ');
			assert_true(strncmp(line + 8 + strlen(family), "counter\n", 8) == 0 ||
			            strncmp(line + 8 + strlen(family), "gauge\n", 6) == 0);
			typed++;
			continue;
		}
		assert_int_equal(typed, 1);
		for (name = 0; line[name] != '{' && line[name] != ' ' && name < n; name++)
			;
		assert_true(is_name(line, name));
		assert_true(strncmp(line, family, strlen(family)) == 0 && name == strlen(family));
		if (line[name] == '{')
			name += labels_len(line + name);
		assert_int_equal(line[name], ' ');
		(void)strtoull(line + name + 1, &end, 10);
		assert_ptr_equal(end, line + n);
	}
}

static void test_escape(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(sd_metrics_escape_label("POST /v1/x", out, sizeof(out)), 10);
	assert_string_equal(out, "POST /v1/x");
	assert_int_equal(sd_metrics_escape_label("a\"b\\c\nd", out, sizeof(out)), 10);
	assert_string_equal(out, "a\\\"b\\\\c\\nd");
	assert_int_equal(sd_metrics_escape_label("", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(sd_metrics_escape_label("0123456789abcde", out, sizeof(out)), 15);
	assert_int_equal(sd_metrics_escape_label("0123456789abcdef", out, sizeof(out)), SD_ERR_TOOBIG);
	assert_int_equal(sd_metrics_escape_label("0123456789abcd\"", out, sizeof(out)), SD_ERR_TOOBIG);
	assert_int_equal(sd_metrics_escape_label("", out, 0), SD_ERR_TOOBIG);
}

static void test_format_and_counts(void **state)
{
	char *text;

	(void)state;
	sd_metrics_reset();
	reply(R_UPLOADS, "/v1/uploads", 201, day1);
	reply(R_UPLOADS, "/v1/uploads", 201, day1);
	reply(R_UPLOADS, "/v1/uploads", 403, day1);
	reply(R_COMMIT, "/v1/uploads/00112233445566778899aabbccddeeff/commit", 201, day1);
	reply(R_COMMIT, "/v1/uploads/00112233445566778899aabbccddeeff/commit", 200, day1); /* a repeat */
	sd_metrics_count_reply(
	        &(sd_metrics_reply_t){.route = &table[R_CHUNK], .path = "/x", .status = 200, .body_bytes = 1000}, day1);
	sd_metrics_count_reply(
	        &(sd_metrics_reply_t){.route = &table[R_CHUNK], .path = "/x", .status = 422, .body_bytes = 50}, day1);
	reply(R_HEALTH, "/v1/health", 200, day1);
	reply(R_QUOTE, "/v1/q", 200, day1);
	reply(-1, "/v1/nothing/2026-000001", 404, day1);
	reply(-1, "", 400, day1);
	text = render(day1);
	check_format(text);
	assert_int_equal(sample(text, "sealdrop_requests_total{route=\"POST /v1/uploads\",status=\"201\"}"), 2);
	assert_int_equal(sample(text, "sealdrop_requests_total{route=\"POST /v1/uploads\",status=\"403\"}"), 1);
	assert_int_equal(sample(text, "sealdrop_requests_total{route=\"POST /v1/uploads/{id}/commit\",status=\"201\"}"),
	                 1);
	assert_int_equal(sample(text, "sealdrop_requests_total{route=\"GET /v1/health\",status=\"200\"}"), 1);
	assert_int_equal(sample(text, "sealdrop_requests_total{route=\"GET /v1/q\\\"uo\\\\te\",status=\"200\"}"), 1);
	assert_int_equal(sample(text, "sealdrop_requests_total{route=\"unmatched\",status=\"404\"}"), 1);
	assert_int_equal(sample(text, "sealdrop_requests_total{route=\"none\",status=\"400\"}"), 1);
	assert_int_equal(sample(text, "sealdrop_filings_total"), 1);
	assert_int_equal(sample(text, "sealdrop_upload_bytes_total"), 1000);
	assert_int_equal(sample(text, "sealdrop_connections_open"), 3);
	assert_int_equal(sample(text, "sealdrop_connections_max"), 1024);
	assert_int_equal(sample(text, "sealdrop_draining"), 0);
	assert_int_equal(sample(text, "sealdrop_rejected_total{reason=\"timeout\"}"), 0);
	/* The paths sent are never shown: no upload id, no case number. */
	assert_null(strstr(text, "00112233"));
	assert_null(strstr(text, "2026-000001"));
	assert_null(strstr(text, "sealdrop_store_bytes")); /* no store: not shown */
	free(text);
}

static void test_anonymous_per_day(void **state)
{
	char *text;

	(void)state;
	sd_metrics_reset();
	reply(R_UPLOADS, "/v1/uploads", 201, day1);
	text = render(day1);
	reply(R_WB, "/v1/wb/status", 200, day1);
	reply(R_LOGHEAD, "/v1/log/head", 200, day1);
	reply(-1, "/v1/wb/nothing", 404, day1);
	sd_metrics_count_reply(
	        &(sd_metrics_reply_t){
	                .route = &table[R_WB], .path = "/v1/wb/status", .status = 403, .code = "session_refused"},
	        day1);
	char *after = render(day1);
	/* Nothing moved on the day itself: the whole exposition is the same. */
	assert_string_equal(text, after);
	assert_null(strstr(after, "/v1/wb"));
	assert_null(strstr(after, "/v1/log/head"));
	assert_int_equal(sample(after, "sealdrop_anonymous_requests_total"), 0);
	free(text);
	free(after);
	/* A request of the next day publishes the first day's, and waits itself. */
	reply(R_WB, "/v1/wb/status", 200, day2);
	text = render(day2);
	check_format(text);
	assert_int_equal(sample(text, "sealdrop_anonymous_requests_total"), 4);
	assert_int_equal(sample(text, "sealdrop_anonymous_rejected_total{reason=\"session_refused\"}"), 1);
	assert_int_equal(sample(text, "sealdrop_rejected_total{reason=\"session_refused\"}"), 0);
	assert_int_equal(sample(text, "sealdrop_requests_total{route=\"POST /v1/wb/status\",status=\"200\"}"), -1);
	free(text);
	/* A clock that goes back publishes nothing more. */
	text = render(day1);
	assert_int_equal(sample(text, "sealdrop_anonymous_requests_total"), 4);
	free(text);
	text = render((sd_date_t){2026, 3, 14});
	assert_int_equal(sample(text, "sealdrop_anonymous_requests_total"), 5);
	free(text);
}

static void test_store_held_for_the_day(void **state)
{
	sd_metrics_gauges_t g = {.today = day1, .has_store = true, .store_bytes = 4096, .store_requests = 7};
	char *text = NULL;
	size_t len;

	(void)state;
	sd_metrics_reset();
	assert_int_equal(sd_metrics_render(&g, &text, &len), 0);
	check_format(text);
	assert_int_equal(sample(text, "sealdrop_store_bytes"), 4096);
	assert_int_equal(sample(text, "sealdrop_store_requests_total"), 7);
	free(text);
	g.store_bytes = 8192;
	g.store_requests = 9;
	assert_int_equal(sd_metrics_render(&g, &text, &len), 0);
	assert_int_equal(sample(text, "sealdrop_store_bytes"), 4096);
	assert_int_equal(sample(text, "sealdrop_store_requests_total"), 7);
	free(text);
	g.today = day2;
	assert_int_equal(sd_metrics_render(&g, &text, &len), 0);
	assert_int_equal(sample(text, "sealdrop_store_bytes"), 8192);
	assert_int_equal(sample(text, "sealdrop_store_requests_total"), 9);
	free(text);
}

typedef struct {
	int status;
	const char *code;
	sd_limit_t given;
	bool retry_after;
	sd_limit_t want;
	const char *name;
} limit_case_t;

static const limit_case_t limit_cases[] = {
        {431, "bad_request", SD_LIMIT_NONE, false, SD_LIMIT_HEADER_TOO_LARGE, "header_too_large"},
        {413, "too_large", SD_LIMIT_NONE, false, SD_LIMIT_BODY_TOO_LARGE, "body_too_large"},
        {408, "timeout", SD_LIMIT_NONE, false, SD_LIMIT_TIMEOUT, "timeout"},
        {429, "too_many_uploads", SD_LIMIT_NONE, false, SD_LIMIT_UPLOADS, "uploads_per_account"},
        {429, "too_many_connections", SD_LIMIT_NONE, false, SD_LIMIT_PER_CERT, "per_cert_connections"},
        {429, "other", SD_LIMIT_NONE, false, SD_LIMIT_NONE, NULL},
        {403, "session_refused", SD_LIMIT_NONE, false, SD_LIMIT_SESSION, "session_refused"},
        {403, "role_forbidden", SD_LIMIT_NONE, false, SD_LIMIT_NONE, NULL},
        {503, "busy", SD_LIMIT_NONE, true, SD_LIMIT_RATE, "rate_limit"},
        {503, "busy", SD_LIMIT_NONE, false, SD_LIMIT_NONE, NULL},
        {503, "busy", SD_LIMIT_BODY_BUDGET, true, SD_LIMIT_BODY_BUDGET, "body_budget"},
        {200, NULL, SD_LIMIT_NONE, false, SD_LIMIT_NONE, NULL},
};

static void test_limits(void **state)
{
	char *text;

	(void)state;
	sd_metrics_reset();
	for (size_t i = 0; i < sizeof(limit_cases) / sizeof(limit_cases[0]); i++) {
		const limit_case_t *c = &limit_cases[i];
		sd_metrics_reply_t m = {.route = &table[R_UPLOADS],
		                        .path = "/v1/uploads",
		                        .status = c->status,
		                        .code = c->code,
		                        .limit = c->given,
		                        .retry_after = c->retry_after};
		assert_int_equal(sd_metrics_limit_of(&m), c->want);
		if (c->name != NULL)
			assert_string_equal(sd_limit_name(c->want), c->name);
		sd_metrics_count_reply(&m, day1);
	}
	assert_null(sd_limit_name(SD_LIMIT_NONE));
	assert_null(sd_limit_name(SD_LIMIT_COUNT));
	sd_metrics_count_refusal(SD_LIMIT_CONNECTIONS_FULL);
	sd_metrics_count_refusal(SD_LIMIT_EVICTED);
	sd_metrics_count_refusal(SD_LIMIT_EVICTED);
	sd_metrics_count_refusal(SD_LIMIT_COUNT); /* ignored */
	text = render(day1);
	check_format(text);
	assert_int_equal(sample(text, "sealdrop_rejected_total{reason=\"header_too_large\"}"), 1);
	assert_int_equal(sample(text, "sealdrop_rejected_total{reason=\"body_budget\"}"), 1);
	assert_int_equal(sample(text, "sealdrop_rejected_total{reason=\"rate_limit\"}"), 1);
	assert_int_equal(sample(text, "sealdrop_rejected_total{reason=\"connections_full\"}"), 1);
	assert_int_equal(sample(text, "sealdrop_rejected_total{reason=\"evicted\"}"), 2);
	assert_int_equal(sample(text, "sealdrop_rejected_total{reason=\"handshake_timeout\"}"), 0);
	free(text);
}

static void test_series_cap(void **state)
{
	char *text;

	(void)state;
	sd_metrics_reset();
	for (int i = 0; i < SD_METRICS_SERIES_MAX + 5; i++)
		reply(R_UPLOADS, "/v1/uploads", 100 + i, day1);
	text = render(day1);
	check_format(text);
	assert_int_equal(sample(text, "sealdrop_requests_total{route=\"overflow\",status=\"0\"}"), 5);
	assert_int_equal(sample(text, "sealdrop_requests_total{route=\"POST /v1/uploads\",status=\"100\"}"), 1);
	free(text);
}

/* The server's own table: the anonymous rows are the public ones but /v1/health, and
 * the metrics are the operator's alone. */
static void test_server_table(void **state)
{
	bool seen_metrics = false;

	(void)state;
	for (const sd_route_t *r = sd_routes; r->method != NULL; r++) {
		bool public_other = r->roles == 0 && strcmp(r->pattern, "/v1/health") != 0;
		assert_int_equal(sd_metrics_is_anonymous(r, "/ignored"), public_other);
		if (strncmp(r->pattern, "/v1/wb/", 7) == 0)
			assert_true(sd_metrics_is_anonymous(r, r->pattern));
		if (strcmp(r->pattern, "/v1/metrics") == 0) {
			seen_metrics = true;
			assert_string_equal(r->method, "GET");
			assert_int_equal(r->roles, SD_ROLE_OPERATOR);
		}
	}
	assert_true(seen_metrics);
	assert_true(sd_metrics_is_anonymous(NULL, "/v1/wb/anything"));
	assert_false(sd_metrics_is_anonymous(NULL, "/v1/nothing"));
	assert_false(sd_metrics_is_anonymous(NULL, ""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_escape),
	        cmocka_unit_test(test_format_and_counts),
	        cmocka_unit_test(test_anonymous_per_day),
	        cmocka_unit_test(test_store_held_for_the_day),
	        cmocka_unit_test(test_limits),
	        cmocka_unit_test(test_series_cap),
	        cmocka_unit_test(test_server_table),
	};

	return cmocka_run_group_tests(tests, unit_setup, NULL);
}
