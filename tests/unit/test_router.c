/*
 * test_router.c — route matching and role names (server/router.c), on the test's own
 * tables (the server's table is tested with the routes). Table-driven: exact paths,
 * parameters captured in order, parameters with a character outside [A-Za-z0-9._~-]
 * or longer than SD_ROUTE_PARAM_MAX, empty segments and trailing slashes (404),
 * percent-encoded bytes never decoded, 405 with the Allow list, HEAD served by GET rows,
 * the first matching row winning, and an Allow buffer too small for the list.
 */
#include "unit.h"

#include "sealdrop/route.h"

static const sd_route_t table[] = {
        {"GET", "/v1/health", 0, SD_BODY_NONE, NULL, NULL, NULL},
        {"GET", "/v1/directory", 0, SD_BODY_NONE, NULL, NULL, NULL},
        {"POST", "/v1/uploads", SD_ROLE_ATTORNEY, SD_BODY_HEADER, NULL, NULL, NULL},
        {"GET", "/v1/uploads/{id}", SD_ROLE_ATTORNEY, SD_BODY_NONE, NULL, NULL, NULL},
        {"PUT", "/v1/uploads/{id}/blobs/{k}/chunks/{n}", SD_ROLE_ATTORNEY, SD_BODY_CHUNK, NULL, NULL, NULL},
        {"POST", "/v1/uploads/{id}/commit", SD_ROLE_ATTORNEY, SD_BODY_NONE, NULL, NULL, NULL},
        {"GET", "/v1/cases", SD_ROLE_ATTORNEY, SD_BODY_NONE, NULL, NULL, NULL},
        {"POST", "/v1/cases", SD_ROLE_OFFICER, SD_BODY_SMALL, NULL, NULL, NULL},
        {"GET", "/v1/x/new", 0, SD_BODY_NONE, NULL, NULL, NULL},
        {"GET", "/v1/x/{id}", 0, SD_BODY_NONE, NULL, NULL, NULL},
        {"PUT", "/v1/x/{id}", 0, SD_BODY_SMALL, NULL, NULL, NULL},
        {"GET", "/v1/x/{id}", SD_ROLE_OPERATOR, SD_BODY_NONE, NULL, NULL, NULL}, /* never reached */
        {"GET", "/p/{a}/{b}/{c}/{d}", 0, SD_BODY_NONE, NULL, NULL, NULL},
        {"GET", "/", 0, SD_BODY_NONE, NULL, NULL, NULL},
        {NULL, NULL, 0, SD_BODY_NONE, NULL, NULL, NULL},
};

#define P64 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-"

typedef struct {
	const char *method, *path;
	int r;
	int row;                                     /* index into table when r == 0 */
	const char *params[SD_ROUTE_PARAMS_MAX + 1]; /* NULL-terminated */
	const char *allow;                           /* when r == SD_ERR_REFUSED */
} match_t;

static const match_t cases[] = {
        {"GET", "/v1/health", 0, 0, {NULL}, NULL},
        {"HEAD", "/v1/health", 0, 0, {NULL}, NULL},
        {"GET", "/v1/directory", 0, 1, {NULL}, NULL},
        {"GET", "/", 0, 13, {NULL}, NULL},
        {"POST", "/v1/health", SD_ERR_REFUSED, 0, {NULL}, "GET, HEAD"},
        {"PUT", "/v1/health", SD_ERR_REFUSED, 0, {NULL}, "GET, HEAD"},
        {"DELETE", "/v1/cases", SD_ERR_REFUSED, 0, {NULL}, "GET, HEAD, POST"},
        {"GET", "/v1/cases", 0, 6, {NULL}, NULL},
        {"POST", "/v1/cases", 0, 7, {NULL}, NULL},
        {"HEAD", "/v1/cases", 0, 6, {NULL}, NULL},
        {"get", "/v1/health", SD_ERR_REFUSED, 0, {NULL}, "GET, HEAD"},
        /* Exact paths only. */
        {"GET", "/v1/health/", SD_ERR_NOENT, 0, {NULL}, NULL},
        {"GET", "/v1/health//", SD_ERR_NOENT, 0, {NULL}, NULL},
        {"GET", "//v1/health", SD_ERR_NOENT, 0, {NULL}, NULL},
        {"GET", "/v1//health", SD_ERR_NOENT, 0, {NULL}, NULL},
        {"GET", "/v1/Health", SD_ERR_NOENT, 0, {NULL}, NULL},
        {"GET", "/v1/healthz", SD_ERR_NOENT, 0, {NULL}, NULL},
        {"GET", "/v1/healt", SD_ERR_NOENT, 0, {NULL}, NULL},
        {"GET", "/v1", SD_ERR_NOENT, 0, {NULL}, NULL},
        {"GET", "/v2/health", SD_ERR_NOENT, 0, {NULL}, NULL},
        {"GET", "v1/health", SD_ERR_NOENT, 0, {NULL}, NULL},
        {"GET", "", SD_ERR_NOENT, 0, {NULL}, NULL},
        {"GET", "//", SD_ERR_NOENT, 0, {NULL}, NULL},
        {"GET", "/v1/health?x=1", SD_ERR_NOENT, 0, {NULL}, NULL},
        {"GET", "/v1/./health", SD_ERR_NOENT, 0, {NULL}, NULL},
        {"GET", "/v1/x/../health", SD_ERR_NOENT, 0, {NULL}, NULL},
        /* Percent-encoding is never decoded, and never fills a parameter. */
        {"GET", "/v1/%68ealth", SD_ERR_NOENT, 0, {NULL}, NULL},
        {"GET", "/v1%2Fhealth", SD_ERR_NOENT, 0, {NULL}, NULL},
        {"GET", "/v1/uploads/%41", SD_ERR_NOENT, 0, {NULL}, NULL},
        {"GET", "/v1/uploads/a%2Fb", SD_ERR_NOENT, 0, {NULL}, NULL},
        {"PUT", "/v1/uploads/u/blobs/%30/chunks/1", SD_ERR_NOENT, 0, {NULL}, NULL},
        /* Parameters. */
        {"GET", "/v1/uploads/9f2c0a", 0, 3, {"9f2c0a", NULL}, NULL},
        {"GET", "/v1/uploads/a.b_c~d-E9", 0, 3, {"a.b_c~d-E9", NULL}, NULL},
        {"GET", "/v1/uploads/..", 0, 3, {"..", NULL}, NULL},
        {"GET", "/v1/uploads/" P64, 0, 3, {P64, NULL}, NULL},
        {"GET", "/v1/uploads/" P64 "x", SD_ERR_NOENT, 0, {NULL}, NULL},
        {"GET", "/v1/uploads/", SD_ERR_NOENT, 0, {NULL}, NULL},
        {"GET", "/v1/uploads//", SD_ERR_NOENT, 0, {NULL}, NULL},
        {"GET", "/v1/uploads/a/", SD_ERR_NOENT, 0, {NULL}, NULL},
        {"GET", "/v1/uploads/a b", SD_ERR_NOENT, 0, {NULL}, NULL},
        {"GET", "/v1/uploads/a+b", SD_ERR_NOENT, 0, {NULL}, NULL},
        {"GET", "/v1/uploads/a:b", SD_ERR_NOENT, 0, {NULL}, NULL},
        {"GET", "/v1/uploads/a@b", SD_ERR_NOENT, 0, {NULL}, NULL},
        {"GET", "/v1/uploads/a;b", SD_ERR_NOENT, 0, {NULL}, NULL},
        {"GET", "/v1/uploads/a=b", SD_ERR_NOENT, 0, {NULL}, NULL},
        {"GET", "/v1/uploads/a?b", SD_ERR_NOENT, 0, {NULL}, NULL},
        {"GET", "/v1/uploads/a\\b", SD_ERR_NOENT, 0, {NULL}, NULL},
        {"GET", "/v1/uploads/\xc3\xa9", SD_ERR_NOENT, 0, {NULL}, NULL},
        {"GET", "/v1/uploads/{id}", SD_ERR_NOENT, 0, {NULL}, NULL},
        {"PUT", "/v1/uploads/u1/blobs/2/chunks/30", 0, 4, {"u1", "2", "30", NULL}, NULL},
        {"GET", "/v1/uploads/u1/blobs/2/chunks/30", SD_ERR_REFUSED, 0, {NULL}, "PUT"},
        {"HEAD", "/v1/uploads/u1/blobs/2/chunks/30", SD_ERR_REFUSED, 0, {NULL}, "PUT"},
        {"PUT", "/v1/uploads/u1/blobs/2/chunks", SD_ERR_NOENT, 0, {NULL}, NULL},
        {"PUT", "/v1/uploads/u1/blobs/2/chunks/30/", SD_ERR_NOENT, 0, {NULL}, NULL},
        {"PUT", "/v1/uploads/u1/blobs/2/chunks/30/x", SD_ERR_NOENT, 0, {NULL}, NULL},
        {"PUT", "/v1/uploads/u1/blobz/2/chunks/30", SD_ERR_NOENT, 0, {NULL}, NULL},
        {"POST", "/v1/uploads/u1/commit", 0, 5, {"u1", NULL}, NULL},
        {"GET", "/v1/uploads/u1/commit", SD_ERR_REFUSED, 0, {NULL}, "POST"},
        {"POST", "/v1/uploads", 0, 2, {NULL}, NULL},
        {"GET", "/v1/uploads", SD_ERR_REFUSED, 0, {NULL}, "POST"},
        {"GET", "/p/1/2/3/4", 0, 12, {"1", "2", "3", "4", NULL}, NULL},
        {"GET", "/p/1/2/3", SD_ERR_NOENT, 0, {NULL}, NULL},
        /* The first row that matches wins; Allow names each method once. */
        {"GET", "/v1/x/new", 0, 8, {NULL}, NULL},
        {"GET", "/v1/x/old", 0, 9, {"old", NULL}, NULL},
        {"PUT", "/v1/x/new", 0, 10, {"new", NULL}, NULL},
        {"DELETE", "/v1/x/new", SD_ERR_REFUSED, 0, {NULL}, "GET, HEAD, PUT"},
        {"POST", "/v1/x/y", SD_ERR_REFUSED, 0, {NULL}, "GET, HEAD, PUT"},
};

static void test_match_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const match_t *c = &cases[i];
		const sd_route_t *route = (const sd_route_t *)1;
		sd_route_params_t params;
		char allow[64] = "junk";
		size_t n = 0;
		int r;

		memset(&params, 0x55, sizeof(params));
		r = sd_route_match(table, c->method, c->path, &route, &params, allow, sizeof(allow));
		if (r != c->r)
			print_error("%s %s: %d, want %d\n", c->method, c->path, r, c->r);
		assert_int_equal(r, c->r);
		while (c->params[n] != NULL)
			n++;
		if (r == 0) {
			assert_ptr_equal(route, &table[c->row]);
			assert_int_equal(params.n, n);
			for (size_t k = 0; k < n; k++)
				assert_string_equal(params.value[k], c->params[k]);
		} else {
			assert_null(route);
			assert_int_equal(params.n, 0);
			assert_true(sd_error_detail()[0] != '\0');
		}
		if (r == SD_ERR_REFUSED)
			assert_string_equal(allow, c->allow);
		else
			assert_string_equal(allow, "");
	}
}

static void test_allow_buffer(void **state)
{
	const sd_route_t *route;
	sd_route_params_t params;
	char allow[16];

	(void)state;
	/* "GET, HEAD, POST" needs 16 bytes: with 15 or 10 the first two fit, with 9 only GET. */
	assert_int_equal(sd_route_match(table, "PUT", "/v1/cases", &route, &params, allow, 16), SD_ERR_REFUSED);
	assert_string_equal(allow, "GET, HEAD, POST");
	assert_int_equal(sd_route_match(table, "PUT", "/v1/cases", &route, &params, allow, 15), SD_ERR_REFUSED);
	assert_string_equal(allow, "GET, HEAD");
	assert_int_equal(sd_route_match(table, "PUT", "/v1/cases", &route, &params, allow, 10), SD_ERR_REFUSED);
	assert_string_equal(allow, "GET, HEAD");
	assert_int_equal(sd_route_match(table, "PUT", "/v1/cases", &route, &params, allow, 9), SD_ERR_REFUSED);
	assert_string_equal(allow, "GET");
	assert_int_equal(sd_route_match(table, "PUT", "/v1/cases", &route, &params, allow, 3), SD_ERR_REFUSED);
	assert_string_equal(allow, "");
	assert_int_equal(sd_route_match(table, "PUT", "/v1/cases", &route, &params, NULL, 0), SD_ERR_REFUSED);
	assert_int_equal(sd_route_match(table, "GET", "/v1/cases", &route, &params, NULL, 0), 0);
	assert_ptr_equal(route, &table[6]);
}

static void test_match_usage(void **state)
{
	const sd_route_t *route;
	sd_route_params_t params;
	static const sd_route_t empty[] = {{NULL, NULL, 0, SD_BODY_NONE, NULL, NULL, NULL}};

	(void)state;
	assert_int_equal(sd_route_match(NULL, "GET", "/", &route, &params, NULL, 0), SD_ERR_USAGE);
	assert_int_equal(sd_route_match(table, NULL, "/", &route, &params, NULL, 0), SD_ERR_USAGE);
	assert_int_equal(sd_route_match(table, "GET", NULL, &route, &params, NULL, 0), SD_ERR_USAGE);
	assert_int_equal(sd_route_match(empty, "GET", "/", &route, &params, NULL, 0), SD_ERR_NOENT);
}

static void test_roles(void **state)
{
	static const struct {
		sd_role_t role;
		const char *name;
	} roles[] = {
	        {SD_ROLE_ATTORNEY, "attorney"},
	        {SD_ROLE_OFFICER, "officer"},
	        {SD_ROLE_CUSTODIAN, "custodian"},
	        {SD_ROLE_OPERATOR, "operator"},
	};
	static const char *const bad_names[] = {"",      "Attorney",  "attorney ", " officer",
	                                        "admin", "operators", "custod"};
	static const unsigned bad_roles[] = {0, SD_ROLE_ATTORNEY | SD_ROLE_OFFICER, 1u << 4, SD_ROLE_ANY_ACCOUNT, ~0u};
	sd_role_t out;

	(void)state;
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		assert_string_equal(sd_role_name(roles[i].role), roles[i].name);
		out = 0;
		assert_true(sd_role_from_name(roles[i].name, &out));
		assert_int_equal(out, roles[i].role);
		/* The CA and the router agree on the names. */
		assert_true(sd_ca_role_is_valid(roles[i].name));
	}
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		out = SD_ROLE_OFFICER;
		assert_false(sd_role_from_name(bad_names[i], &out));
		assert_int_equal(out, SD_ROLE_OFFICER);
	}
	assert_false(sd_role_from_name(NULL, &out));
	for (size_t i = 0; i < sizeof(bad_roles) / sizeof(bad_roles[0]); i++)
		assert_null(sd_role_name((sd_role_t)bad_roles[i]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_match_table),
	        cmocka_unit_test(test_allow_buffer),
	        cmocka_unit_test(test_match_usage),
	        cmocka_unit_test(test_roles),
	};

	return cmocka_run_group_tests(tests, unit_setup, NULL);
}
