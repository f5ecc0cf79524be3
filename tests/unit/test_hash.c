/*
 * test_hash.c — the incremental BLAKE2b-256 (crypto/hash.c): committed known answers
 * (RFC 7693's BLAKE2b with a 32-byte output), agreement with crypto_generichash in one
 * shot for every way of splitting an input into pieces, and the state wiped by final.
 */
#include "unit.h"

#include <sodium.h>

#include "sealdrop/hash.h"

/* BLAKE2b-256 of "" and of "abc". */
static const char kat_empty[] = "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8";
static const char kat_abc[] = "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319";

static void test_known_answers(void **state)
{
	uint8_t want[SD_HASH_DIGEST_BYTES], got[SD_HASH_DIGEST_BYTES];
	sd_hash_state_t st;

	(void)state;
	unit_hex(kat_empty, want, sizeof(want));
	sd_hash(NULL, 0, got);
	assert_memory_equal(got, want, sizeof(want));
	sd_hash_init(&st);
	sd_hash_final(&st, got);
	assert_memory_equal(got, want, sizeof(want));

	unit_hex(kat_abc, want, sizeof(want));
	sd_hash((const uint8_t *)"abc", 3, got);
	assert_memory_equal(got, want, sizeof(want));
	sd_hash_init(&st);
	sd_hash_update(&st, (const uint8_t *)"a", 1);
	sd_hash_update(&st, (const uint8_t *)"", 0);
	sd_hash_update(&st, (const uint8_t *)"bc", 2);
	sd_hash_final(&st, got);
	assert_memory_equal(got, want, sizeof(want));
}

/* Every piece size from 1 to 300 over inputs around BLAKE2b's 128-byte block. */
static void test_pieces_match_one_shot(void **state)
{
	static const size_t lens[] = {0, 1, 127, 128, 129, 255, 256, 257, 1000, 4097};
	uint8_t buf[4097], want[SD_HASH_DIGEST_BYTES], got[SD_HASH_DIGEST_BYTES];
	sd_hash_state_t st;

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
		size_t len = lens[l];
		crypto_generichash(want, sizeof(want), buf, len, NULL, 0);
		sd_hash(buf, len, got);
		assert_memory_equal(got, want, sizeof(want));
		for (size_t piece = 1; piece <= 300; piece++) {
			sd_hash_init(&st);
			for (size_t off = 0; off < len; off += piece)
				sd_hash_update(&st, buf + off, len - off < piece ? len - off : piece);
			sd_hash_final(&st, got);
			assert_memory_equal(got, want, sizeof(want));
		}
	}
}

static void test_different_inputs_differ(void **state)
{
	uint8_t a[SD_HASH_DIGEST_BYTES], b[SD_HASH_DIGEST_BYTES];
	uint8_t buf[64] = {0};

	(void)state;
	sd_hash(buf, sizeof(buf), a);
	buf[63] ^= 1;
	sd_hash(buf, sizeof(buf), b);
	assert_memory_not_equal(a, b, sizeof(a));
	sd_hash(buf, sizeof(buf) - 1, b);
	assert_memory_not_equal(a, b, sizeof(a));
}

static void test_final_wipes_state(void **state)
{
	static const uint8_t zero[SD_HASH_STATE_BYTES];
	uint8_t out[SD_HASH_DIGEST_BYTES];
	sd_hash_state_t st;

	(void)state;
	sd_hash_init(&st);
	sd_hash_update(&st, (const uint8_t *)"secret", 6);
	assert_memory_not_equal(st.opaque, zero, sizeof(zero));
	sd_hash_final(&st, out);
	assert_memory_equal(st.opaque, zero, sizeof(zero));
	assert_int_equal(sizeof(sd_hash_state_t) >= crypto_generichash_statebytes(), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_known_answers),
	        cmocka_unit_test(test_pieces_match_one_shot),
	        cmocka_unit_test(test_different_inputs_differ),
	        cmocka_unit_test(test_final_wipes_state),
	};
	return cmocka_run_group_tests(tests, unit_setup, NULL);
}
