/*
 * test_shamir.c — GF(2^8) arithmetic and Shamir split/combine (crypto/shamir.c). Field
 * operations are checked against a slow textbook reference for every pair; the split
 * against the known answers of docs/FORMAT.md ("Identity key shares"), which
 * tests/vectors/shamir.py recomputes independently.
 */
#include "unit.h"

#include "sealdrop/shamir.h"
#include "../../crypto/shamir_int.h"

#define SECRET_BYTES SD_SHAMIR_SECRET_BYTES

/* Secret 0x00..0x1f; coefficients 0x20..0x5f (c1 = 0x20..0x3f, c2 = 0x40..0x5f). */
static const char *const kat_3of5[5] = {
        "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f",
        "5b5c55524740494e63646d6a7f7871762b2c25223730393e13141d1a0f080106",
        "3b3c35322720292e03040d0a1f1811164b4c45425750595e73747d7a6f686166",
        "ecf9c6d3b8ad928744516e7b10053a2fa7b28d98f3e6d9cc0f1a25305b4e7164",
        "8c99a6b3d8cdf2e724310e1b70655a4fc7d2edf89386b9ac6f7a45503b2e1104",
};
/* The same secret, 2 of 255 with c1 = 0x20..0x3f: share 255. */
static const char kat_2of255_x255[] = "d22c35cb07f9e01e639d847ab64851afab554cb27e8099671ae4fd03cf3128d6";

static void fixed_secret(uint8_t s[SECRET_BYTES])
{
	for (int i = 0; i < SECRET_BYTES; i++)
		s[i] = (uint8_t)i;
}

static void fixed_coeffs(uint8_t c[2 * SECRET_BYTES])
{
	for (int i = 0; i < 2 * SECRET_BYTES; i++)
		c[i] = (uint8_t)(0x20 + i);
}

/* The 3/5 split of the vectors. */
static void kat_split(sd_shamir_share_t sh[5])
{
	uint8_t secret[SECRET_BYTES], coeffs[2 * SECRET_BYTES];

	fixed_secret(secret);
	fixed_coeffs(coeffs);
	assert_int_equal(sd_shamir_split_with(secret, coeffs, 3, 5, sh), 0);
}

/* Textbook product: carry-less multiplication, then long division by 0x11b. */
static uint8_t slow_mul(uint8_t a, uint8_t b)
{
	unsigned p = 0;

	for (int i = 0; i < 8; i++)
		if ((b >> i) & 1)
			p ^= (unsigned)a << i;
	for (int bit = 14; bit >= 8; bit--)
		if ((p >> bit) & 1)
			p ^= 0x11bu << (bit - 8);
	return (uint8_t)p;
}

static void assert_detail_has(const char *needle)
{
	if (strstr(sd_error_detail(), needle) == NULL)
		fail_msg("error detail '%s' does not contain '%s'", sd_error_detail(), needle);
}

/* --- the field ------------------------------------------------------------------ */

static void test_gf_mul_every_pair(void **state)
{
	(void)state;
	assert_int_equal(sd_gf256_mul(0x57, 0x83), 0xc1); /* FIPS-197, 4.2 */
	assert_int_equal(sd_gf256_mul(0x57, 0x13), 0xfe); /* FIPS-197, 4.2.1 */
	for (unsigned a = 0; a < 256; a++)
		for (unsigned b = 0; b < 256; b++)
			if (sd_gf256_mul((uint8_t)a, (uint8_t)b) != slow_mul((uint8_t)a, (uint8_t)b))
				fail_msg("%02x * %02x: got %02x, expected %02x", a, b,
				         sd_gf256_mul((uint8_t)a, (uint8_t)b), slow_mul((uint8_t)a, (uint8_t)b));
}

static void test_gf_inv_every_element(void **state)
{
	(void)state;
	assert_int_equal(sd_gf256_inv(0), 0);
	assert_int_equal(sd_gf256_inv(1), 1);
	assert_int_equal(sd_gf256_inv(0x53), 0xca); /* the AES S-box's worked example */
	for (unsigned a = 1; a < 256; a++) {
		unsigned want = 0;
		for (unsigned b = 1; b < 256 && want == 0; b++)
			if (slow_mul((uint8_t)a, (uint8_t)b) == 1)
				want = b;
		if (sd_gf256_inv((uint8_t)a) != want)
			fail_msg("inverse of %02x: got %02x, expected %02x", a, sd_gf256_inv((uint8_t)a), want);
	}
}

/* --- split ----------------------------------------------------------------------- */

static void test_split_vectors(void **state)
{
	sd_shamir_share_t sh[255];
	uint8_t secret[SECRET_BYTES], coeffs[2 * SECRET_BYTES], want[SECRET_BYTES];

	(void)state;
	kat_split(sh);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(sh[i].x, i + 1);
		unit_hex(kat_3of5[i], want, sizeof(want));
		assert_memory_equal(sh[i].y, want, sizeof(want));
	}
	fixed_secret(secret);
	fixed_coeffs(coeffs);
	assert_int_equal(sd_shamir_split_with(secret, coeffs, 2, 255, sh), 0);
	assert_int_equal(sh[254].x, 255);
	unit_hex(kat_2of255_x255, want, sizeof(want));
	assert_memory_equal(sh[254].y, want, sizeof(want));
}

static void test_split_refusals(void **state)
{
	sd_shamir_share_t sh[255];
	uint8_t secret[SECRET_BYTES] = {0};
	static const unsigned bad[][2] = {{0, 5}, {1, 5}, {1, 1}, {4, 3}, {2, 256}, {256, 256}, {2, 0}};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (sd_shamir_split(secret, bad[i][0], bad[i][1], sh) != SD_ERR_USAGE)
			fail_msg("split %u of %u was not refused", bad[i][0], bad[i][1]);
	assert_int_equal(sd_shamir_split(secret, 1, 3, sh), SD_ERR_USAGE);
	assert_detail_has("at least 2 shares");
	assert_int_equal(sd_shamir_split(secret, 2, 256, sh), SD_ERR_USAGE);
	assert_detail_has("at most 255 shares");
	assert_int_equal(sd_shamir_split(secret, 2, 2, sh), 0);
	assert_int_equal(sd_shamir_split(secret, 255, 255, sh), 0);
}

/* --- combine --------------------------------------------------------------------- */

/* Recombines the shares of sh whose bits are set in mask. */
static void combine_mask(const sd_shamir_share_t *sh, unsigned n, unsigned mask, uint8_t out[SECRET_BYTES])
{
	sd_shamir_share_t pick[8];
	size_t c = 0;

	for (unsigned i = 0; i < n; i++)
		if (mask & (1u << i))
			pick[c++] = sh[i];
	assert_int_equal(sd_shamir_combine(pick, c, out), 0);
}

static void test_every_subset_of_3of5(void **state)
{
	sd_shamir_share_t sh[5];
	uint8_t secret[SECRET_BYTES], got[SECRET_BYTES];
	int full = 0, short_ = 0;

	(void)state;
	fixed_secret(secret);
	for (int round = 0; round < 2; round++) {
		if (round == 0)
			kat_split(sh);
		else
			assert_int_equal(sd_shamir_split(secret, 3, 5, sh), 0);
		for (unsigned mask = 1; mask < 32; mask++) {
			int bits = __builtin_popcount(mask);
			if (bits < 2)
				continue;
			combine_mask(sh, 5, mask, got);
			if (bits >= 3) {
				assert_memory_equal(got, secret, sizeof(got));
				full++;
			} else {
				assert_memory_not_equal(got, secret, sizeof(got));
				short_++;
			}
		}
	}
	assert_int_equal(full, 2 * (10 + 5 + 1)); /* C(5,3) + C(5,4) + C(5,5), twice */
	assert_int_equal(short_, 2 * 10);
}

/* K - 1 shares say nothing: with shares a and b of a 3/5 split held, each of the 256
 * values the missing share c could have at byte 0 gives a different secret byte 0, so
 * every secret is consistent with what is held, by exactly one value of c. */
static void test_k_minus_1_reveal_nothing(void **state)
{
	sd_shamir_share_t sh[5], three[3];
	uint8_t got[SECRET_BYTES];
	int triples = 0;

	(void)state;
	kat_split(sh);
	for (int a = 0; a < 5; a++)
		for (int b = a + 1; b < 5; b++)
			for (int c = 0; c < 5; c++) {
				bool seen[256] = {false};
				if (c == a || c == b)
					continue;
				three[0] = sh[a];
				three[1] = sh[b];
				three[2] = sh[c];
				for (unsigned v = 0; v < 256; v++) {
					three[2].y[0] = (uint8_t)v;
					assert_int_equal(sd_shamir_combine(three, 3, got), 0);
					if (seen[got[0]])
						fail_msg("shares %d,%d: two values of share %d give secret byte %02x",
						         a + 1, b + 1, c + 1, got[0]);
					seen[got[0]] = true;
				}
				for (unsigned s = 0; s < 256; s++)
					assert_true(seen[s]);
				triples++;
			}
	assert_int_equal(triples, 30);
}

static void test_combine_order_and_sizes(void **state)
{
	static sd_shamir_share_t sh[255];
	sd_shamir_share_t rev[5];
	uint8_t secret[SECRET_BYTES], got[SECRET_BYTES];

	(void)state;
	for (int i = 0; i < SECRET_BYTES; i++)
		secret[i] = (uint8_t)(0xf0 ^ (i * 7));
	assert_int_equal(sd_shamir_split(secret, 5, 5, sh), 0);
	for (int i = 0; i < 5; i++)
		rev[i] = sh[4 - i];
	assert_int_equal(sd_shamir_combine(rev, 5, got), 0);
	assert_memory_equal(got, secret, sizeof(got));
	assert_int_equal(sd_shamir_combine(rev, 4, got), 0);
	assert_memory_not_equal(got, secret, sizeof(got));

	assert_int_equal(sd_shamir_split(secret, 255, 255, sh), 0);
	assert_int_equal(sd_shamir_combine(sh, 255, got), 0);
	assert_memory_equal(got, secret, sizeof(got));
	assert_int_equal(sd_shamir_combine(sh + 1, 254, got), 0);
	assert_memory_not_equal(got, secret, sizeof(got));

	assert_int_equal(sd_shamir_split(secret, 2, 255, sh), 0);
	assert_int_equal(sd_shamir_combine(sh + 100, 2, got), 0);
	assert_memory_equal(got, secret, sizeof(got));
}

static void test_split_is_random(void **state)
{
	sd_shamir_share_t a[3], b[3];
	uint8_t secret[SECRET_BYTES] = {0}, got[SECRET_BYTES];

	(void)state;
	assert_int_equal(sd_shamir_split(secret, 2, 3, a), 0);
	assert_int_equal(sd_shamir_split(secret, 2, 3, b), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(a[i].x, i + 1);
		assert_memory_not_equal(a[i].y, b[i].y, SECRET_BYTES);
		assert_memory_not_equal(a[i].y, secret, SECRET_BYTES);
	}
	assert_int_equal(sd_shamir_combine(a + 1, 2, got), 0);
	assert_memory_equal(got, secret, sizeof(got));
}

static void test_combine_refusals(void **state)
{
	sd_shamir_share_t sh[5], two[2];
	uint8_t got[SECRET_BYTES];

	(void)state;
	kat_split(sh);
	memset(got, 0xaa, sizeof(got));
	assert_int_equal(sd_shamir_combine(sh, 1, got), SD_ERR_USAGE);
	assert_detail_has("1 share given");
	for (int i = 0; i < SECRET_BYTES; i++)
		assert_int_equal(got[i], 0); /* wiped, never half an answer */
	assert_int_equal(sd_shamir_combine(sh, 0, got), SD_ERR_USAGE);
	assert_int_equal(sd_shamir_combine(NULL, 3, got), SD_ERR_USAGE);
	assert_int_equal(sd_shamir_combine(sh, 3, NULL), SD_ERR_USAGE);
	two[0] = sh[1];
	two[1] = sh[1];
	assert_int_equal(sd_shamir_combine(two, 2, got), SD_ERR_USAGE);
	assert_detail_has("share 2 is given twice");
	two[1] = sh[3];
	two[1].y[0] ^= 1; /* another share with the same index is just as refused */
	two[1].x = 2;
	assert_int_equal(sd_shamir_combine(two, 2, got), SD_ERR_USAGE);
	two[1].x = 0;
	assert_int_equal(sd_shamir_combine(two, 2, got), SD_ERR_USAGE);
	assert_detail_has("index 0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_gf_mul_every_pair),       cmocka_unit_test(test_gf_inv_every_element),
	        cmocka_unit_test(test_split_vectors),           cmocka_unit_test(test_split_refusals),
	        cmocka_unit_test(test_every_subset_of_3of5),    cmocka_unit_test(test_k_minus_1_reveal_nothing),
	        cmocka_unit_test(test_combine_order_and_sizes), cmocka_unit_test(test_split_is_random),
	        cmocka_unit_test(test_combine_refusals),
	};
	return cmocka_run_group_tests(tests, unit_setup, NULL);
}
