/*
 * test_casebody.c — the case routes' request bodies (server/casebody.c). Start at main():
 * the unseal request's scope, accepted in its two forms and refused in every other shape
 * (table-driven), as POST /v1/cases/{case}/unseal reads it; the bodies as sealdrop sends
 * them are the fuzz seeds (tests/fuzz/corpus/casebody/unseal*), read here too.
 */
#include "unit.h"

#include "sealdrop/casebody.h"
#include "sealdrop/fileio.h"

static void test_unseal_accepts(void **state)
{
	static const struct {
		const char *body, *scope;
	} cases[] = {
	        {"{\"scope\":\"commission\"}", "commission"}, /* what sealdrop unseal sends */
	        {"{\"scope\":\"agency:bai\"}", "agency:bai"},
	        {" { \"scope\" : \"agency:a-1\" } \n", "agency:a-1"},
	        {"{\"scope\":\"agency:0123456789012345678901234567890123456789012345678901234567890123\"}",
	         "agency:0123456789012345678901234567890123456789012345678901234567890123"}, /* 64: the most */
	};
	char scope[SD_CONSENT_SCOPE_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(scope, 'x', sizeof(scope));
		assert_int_equal(sd_casebody_unseal((const uint8_t *)cases[i].body, strlen(cases[i].body), scope), 0);
		assert_string_equal(scope, cases[i].scope);
	}
}

static void test_unseal_refuses(void **state)
{
	static const char *const bodies[] = {
	        "",
	        "null",
	        "[]",
	        "\"commission\"",
	        "{}",
	        "{\"scope\":null}",
	        "{\"scope\":1}",
	        "{\"scope\":[\"commission\"]}",
	        "{\"scope\":\"\"}",
	        "{\"scope\":\"Commission\"}",
	        "{\"scope\":\"commission \"}",
	        "{\"scope\":\"agency\"}",
	        "{\"scope\":\"agency:\"}",
	        "{\"scope\":\"agency:BAI\"}",
	        "{\"scope\":\"agency:-bai\"}",
	        "{\"scope\":\"agency:bai/x\"}",
	        "{\"scope\":\"agency:01234567890123456789012345678901234567890123456789012345678901234\"}", /* 65 */
	        "{\"scope\":\"commission\\u0000\"}", /* a NUL inside: not the whole string */
	        "{\"scope\":\"agency:bai\\u0000x\"}",
	        "{\"scope\":\"commission\",\"x\":1}",                  /* unknown members are refused */
	        "{\"scope\":\"commission\",\"scope\":\"commission\"}", /* duplicates */
	        "{\"Scope\":\"commission\"}",
	        "{\"scope\":\"commission\"} {}", /* left-over text */
	        "{\"scope\":\"commission\"",
	        "{\"scope\":\"agency:b\xc3\x28\"}", /* not UTF-8 */
	};
	char scope[SD_CONSENT_SCOPE_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		memset(scope, 'x', sizeof(scope));
		assert_int_equal(sd_casebody_unseal((const uint8_t *)bodies[i], strlen(bodies[i]), scope),
		                 SD_ERR_FORMAT);
		assert_int_equal(scope[0], '\0');
		assert_true(sd_error_detail()[0] != '\0'); /* says what was wrong */
	}
	/* No body at all, and a body cut short of its end. */
	assert_int_equal(sd_casebody_unseal(NULL, 0, scope), SD_ERR_FORMAT);
	assert_int_equal(sd_casebody_unseal((const uint8_t *)"{\"scope\":\"commission\"}", 10, scope), SD_ERR_FORMAT);
}

/* The committed fuzz seeds: the byte choosing the parser, then a body as sealdrop sends it. */
static void test_unseal_seeds(void **state)
{
	static const char *const seeds[] = {"tests/fuzz/corpus/casebody/unseal",
	                                    "tests/fuzz/corpus/casebody/unseal-agency"};
	char scope[SD_CONSENT_SCOPE_MAX];
	uint8_t *data;
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		assert_int_equal(sd_file_read(seeds[i], 4096, &data, &len), 0);
		assert_true(len > 1);
		assert_int_equal(data[0] % 6, 5); /* fuzz_casebody's unseal */
		assert_int_equal(sd_casebody_unseal(data + 1, len - 1, scope), 0);
		free(data);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_unseal_accepts),
	        cmocka_unit_test(test_unseal_refuses),
	        cmocka_unit_test(test_unseal_seeds),
	};

	return cmocka_run_group_tests(tests, unit_setup, NULL);
}
