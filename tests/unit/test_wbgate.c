/*
 * test_wbgate.c — the gate before the whistleblower's routes (include/sealdrop/wbgate.h)
 * and the stateless challenges under it (include/sealdrop/session.h): a genuine answer
 * passes once and only once; a forged, altered or expired challenge, a missing proof of
 * work and a spent rate are each refused with their own error; the rate refills with
 * time; the answered set forgets a challenge only after it could no longer be used.
 */
#include "unit.h"
#include "sealdrop/session.h"
#include "sealdrop/wbgate.h"

#define T0 1000000 /* ms: an arbitrary monotonic start */

/* A proof answering a fresh challenge of g at now_ms: only the gate's checks matter here
 * (proof of work and challenge), so the locator and signature stay zero. */
static void answer(sd_wbgate_t *g, uint64_t now_ms, sd_session_proof_t *p)
{
	uint64_t ctr = 0;

	memset(p, 0, sizeof(*p));
	sd_wbgate_challenge(g, now_ms, p->server_nonce);
	do {
		for (int i = 0; i < 8; i++)
			p->pow[i] = (uint8_t)(ctr >> (8 * i));
		ctr++;
	} while (!sd_pow_check(p->server_nonce, p->pow, sd_wbgate_bits(g)));
}

static sd_wbgate_t *gate(unsigned bits, uint32_t rate)
{
	sd_wbgate_t *g = NULL;

	assert_int_equal(sd_wbgate_new(bits, rate, &g), 0);
	return g;
}

static void test_once_only(void **state)
{
	sd_wbgate_t *g = gate(6, 100);
	sd_session_proof_t p;
	unsigned retry;

	(void)state;
	answer(g, T0, &p);
	assert_int_equal(sd_wbgate_admit(g, &p, T0 + 10, &retry), 0);
	assert_int_equal(sd_wbgate_admit(g, &p, T0 + 20, &retry), SD_ERR_VERIFY);
	assert_non_null(strstr(sd_error_detail(), "already answered"));
	/* still refused after the generations turned once, while it could still be good */
	assert_int_equal(sd_wbgate_admit(g, &p, T0 + (SD_WBGATE_CHALLENGE_TTL - 1) * 1000, &retry), SD_ERR_VERIFY);
	sd_wbgate_free(g);
}

static void test_forged_and_altered(void **state)
{
	sd_wbgate_t *g = gate(0, 100), *other = gate(0, 100);
	sd_session_proof_t p;
	unsigned retry;

	(void)state;
	answer(other, T0, &p); /* another server's (or before a restart) */
	assert_int_equal(sd_wbgate_admit(g, &p, T0, &retry), SD_ERR_VERIFY);
	assert_non_null(strstr(sd_error_detail(), "not issued by this server"));
	for (size_t i = 0; i < SD_SESSION_NONCE_BYTES; i++) { /* any byte changed: expiry, random, tag */
		answer(g, T0, &p);
		p.server_nonce[i] ^= 0x01;
		assert_int_equal(sd_wbgate_admit(g, &p, T0, &retry), SD_ERR_VERIFY);
	}
	sd_wbgate_free(g);
	sd_wbgate_free(other);
}

static void test_expired(void **state)
{
	sd_wbgate_t *g = gate(0, 100);
	sd_session_proof_t p;
	unsigned retry;

	(void)state;
	answer(g, T0, &p);
	assert_int_equal(sd_wbgate_admit(g, &p, T0 + (SD_WBGATE_CHALLENGE_TTL + 2) * 1000, &retry), SD_ERR_EXPIRED);
	assert_non_null(strstr(sd_error_detail(), "expired"));
	answer(g, T0, &p); /* the last good second */
	assert_int_equal(sd_wbgate_admit(g, &p, T0 + SD_WBGATE_CHALLENGE_TTL * 1000, &retry), 0);
	sd_wbgate_free(g);
}

static void test_pow_first(void **state)
{
	sd_wbgate_t *g = gate(12, 1);
	sd_session_proof_t p;
	unsigned retry;

	(void)state;
	answer(g, T0, &p);
	do /* a counter whose stamp falls short */
		p.pow[0]++;
	while (sd_pow_check(p.server_nonce, p.pow, 12));
	assert_int_equal(sd_wbgate_admit(g, &p, T0, &retry), SD_ERR_VERIFY);
	assert_non_null(strstr(sd_error_detail(), "are needed"));
	/* the unpaid answer took no token: the one token is still there */
	answer(g, T0, &p);
	assert_int_equal(sd_wbgate_admit(g, &p, T0, &retry), 0);
	sd_wbgate_free(g);
}

static void test_rate(void **state)
{
	sd_wbgate_t *g = gate(0, 3);
	sd_session_proof_t p;
	unsigned retry = 0;

	(void)state;
	for (int i = 0; i < 3; i++) { /* a minute's worth at once */
		answer(g, T0, &p);
		assert_int_equal(sd_wbgate_admit(g, &p, T0, &retry), 0);
	}
	answer(g, T0, &p);
	assert_int_equal(sd_wbgate_admit(g, &p, T0, &retry), SD_ERR_UNAVAILABLE);
	assert_true(retry >= 1 && retry <= 21); /* one token in 20 s */
	/* refused for the rate, the challenge is not spent: it passes once a token is back */
	assert_int_equal(sd_wbgate_admit(g, &p, T0 + 20000, &retry), 0);
	answer(g, T0 + 20000, &p);
	assert_int_equal(sd_wbgate_admit(g, &p, T0 + 20000, &retry), SD_ERR_UNAVAILABLE);
	sd_wbgate_free(g);
}

static void test_forgets_after_two_generations(void **state)
{
	sd_wbgate_t *g = gate(0, 1000);
	sd_session_proof_t p, q;
	unsigned retry;
	const uint64_t ttl = SD_WBGATE_CHALLENGE_TTL * 1000ull;

	(void)state;
	answer(g, T0, &p);
	assert_int_equal(sd_wbgate_admit(g, &p, T0, &retry), 0);
	answer(g, T0 + ttl, &q); /* turns the generations: p's tag is now in the previous one */
	assert_int_equal(sd_wbgate_admit(g, &q, T0 + ttl, &retry), 0);
	assert_int_equal(sd_wbgate_admit(g, &q, T0 + ttl + 1, &retry), SD_ERR_VERIFY);
	/* p itself has expired by the time its tag is dropped */
	assert_int_equal(sd_wbgate_admit(g, &p, T0 + 2 * ttl + 1000, &retry), SD_ERR_EXPIRED);
	sd_wbgate_free(g);
}

static void test_bad_arguments(void **state)
{
	sd_wbgate_t *g = NULL;

	(void)state;
	assert_int_equal(sd_wbgate_new(SD_POW_BITS_MAX + 1, 10, &g), SD_ERR_USAGE);
	assert_null(g);
	assert_int_equal(sd_wbgate_new(8, 0, &g), SD_ERR_USAGE);
	assert_null(g);
	sd_wbgate_free(NULL);
}

static void test_challenge_check(void **state)
{
	uint8_t *key = sd_session_challenge_key_new(), c[SD_SESSION_NONCE_BYTES], c2[SD_SESSION_NONCE_BYTES];

	(void)state;
	assert_non_null(key);
	sd_session_challenge_new(key, 500, c);
	sd_session_challenge_new(key, 500, c2);
	assert_memory_not_equal(c, c2, sizeof(c)); /* the random part */
	assert_int_equal(sd_session_challenge_check(key, c, 499), 0);
	assert_int_equal(sd_session_challenge_check(key, c, 500), 0);
	assert_int_equal(sd_session_challenge_check(key, c, 501), SD_ERR_EXPIRED);
	c[0] = 0xff; /* a later expiry written in without the key */
	assert_int_equal(sd_session_challenge_check(key, c, 501), SD_ERR_VERIFY);
	sd_secret_free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_once_only),     cmocka_unit_test(test_forged_and_altered),
	        cmocka_unit_test(test_expired),       cmocka_unit_test(test_pow_first),
	        cmocka_unit_test(test_rate),          cmocka_unit_test(test_forgets_after_two_generations),
	        cmocka_unit_test(test_bad_arguments), cmocka_unit_test(test_challenge_check),
	};

	return cmocka_run_group_tests(tests, unit_setup, NULL);
}
