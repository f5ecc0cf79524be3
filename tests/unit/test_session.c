/*
 * test_session.c — the codename session (include/sealdrop/session.h): a round trip with
 * keys derived from a fixed codename, every way a proof is refused, the hashcash stamp's
 * zero-bit counting against a bit-by-bit reference, and the known-answer vector of
 * docs/FORMAT.md ("Codename session"), whose bytes this file builds independently.
 */
#include <sodium.h>

#include "unit.h"
#include "sealdrop/bytes.h"
#include "sealdrop/codename.h"
#include "sealdrop/session.h"
#include "sealdrop/sign.h"

#define VEC_CODENAME   "abacus abdomen abdominal abide abiding ability ablaze able"
#define VEC_OTHER      "zoom zoom zoom zoom zoom zoom zoom zoom"
#define VEC_DEPLOYMENT "demo"
/* From test_codename.c: the keys VEC_CODENAME gives in "demo" at the minimum limits. */
#define VEC_LOCATOR    "59e42ad31b7c046682efa1d17737d30cd82f63c8aadc00fc3e0b6c0a096ae2a0"
#define VEC_CONSENT_PK "158b95ec5c34495230d1a483b1132e3e811d4858c92c2a771a8bdbbab75b7647"
/* server nonce 00 01 .. 1f, client nonce 20 21 .. 3f, counter below (little-endian). */
#define VEC_COUNTER      "ea51000000000000" /* 20970 */
#define VEC_LOCATOR_HASH "cfdd9bbd88eb8c7a533e5c963760fd0d36bab730d5e31d8956b8a55e406bb95f"
#define VEC_DIGEST       "1a33a4f72c82f0b523d858f53bd7db0db982b3111a7d07643461ef66d6a6b700"
#define VEC_POW_HASH     "0000ee592ed03fc6c2449296ce0618aa9306bf2dc28dec75df44c03d896b9894"
#define VEC_POW_BITS     16
#define VEC_SIGNATURE                                                                                                  \
	"eee77a3ebfa0d3d1fc3fd286416ba14e3fcd617ebbd733d644cdd15b14aca85b"                                             \
	"324e30edbfbf14e0359146520dc3237bbf4bb4f66987eddab795d8e615e7d70d"

static void assert_hex(const uint8_t *got, size_t len, const char *want)
{
	uint8_t buf[64];

	assert_true(len <= sizeof(buf));
	unit_hex(want, buf, len);
	assert_memory_equal(got, buf, len);
}

static sd_codename_keys_t *derive(const char *codename)
{
	sd_kdf_limits_t lim = sd_kdf_minimum();
	sd_codename_keys_t *k = NULL;

	assert_int_equal(sd_codename_derive(codename, VEC_DEPLOYMENT, &lim, &k), 0);
	return k;
}

/* The stamp hash built here byte by byte, not through the library. */
static void ref_pow_hash(const uint8_t nonce[32], const uint8_t counter[8], uint8_t out[32])
{
	uint8_t buf[15 + 32 + 8];

	memcpy(buf, "sealdrop pow v1", 15);
	memcpy(buf + 15, nonce, 32);
	memcpy(buf + 47, counter, 8);
	crypto_generichash(out, 32, buf, sizeof(buf), NULL, 0);
}

static unsigned ref_zero_bits(const uint8_t h[32])
{
	unsigned n = 0;

	while (n < 256 && (h[n / 8] & (0x80u >> (n % 8))) == 0)
		n++;
	return n;
}

/* server_nonce ‖ client_nonce ‖ BLAKE2b-256(locator), as docs/FORMAT.md writes it. */
static void ref_message(const sd_session_proof_t *p, uint8_t msg[96])
{
	memcpy(msg, p->server_nonce, 32);
	memcpy(msg + 32, p->client_nonce, 32);
	crypto_generichash(msg + 64, 32, p->locator, 32, NULL, 0);
}

/* The vector's proof: fixed nonces and counter, signed here with sd_sign, not by prove. */
static void vector_proof(const sd_codename_keys_t *k, sd_session_proof_t *p)
{
	uint8_t msg[96];

	for (int i = 0; i < 32; i++) {
		p->server_nonce[i] = (uint8_t)i;
		p->client_nonce[i] = (uint8_t)(0x20 + i);
	}
	memcpy(p->locator, k->locator, 32);
	unit_hex(VEC_COUNTER, p->pow, 8);
	ref_message(p, msg);
	assert_int_equal(sd_sign(SD_PURPOSE_SESSION, k->consent_sk, msg, sizeof(msg), p->signature), 0);
}

static int verify_with(const sd_session_proof_t *p, const sd_codename_keys_t *k, unsigned bits)
{
	uint8_t lh[32];

	sd_session_locator_hash(k->locator, lh);
	return sd_session_verify(p, p->server_nonce, bits, lh, k->consent_pk);
}

static void assert_refused(int r, const char *detail_part)
{
	assert_int_equal(r, SD_ERR_VERIFY);
	assert_non_null(strstr(sd_error_detail(), detail_part));
}

/* --- the vector ------------------------------------------------------------------ */

static void test_vector(void **state)
{
	sd_codename_keys_t *k = derive(VEC_CODENAME);
	sd_session_proof_t p;
	uint8_t msg[96], h[32];

	(void)state;
	assert_hex(k->locator, 32, VEC_LOCATOR);
	assert_hex(k->consent_pk, 32, VEC_CONSENT_PK);
	vector_proof(k, &p);
	sd_session_locator_hash(p.locator, h);
	assert_hex(h, 32, VEC_LOCATOR_HASH);
	ref_message(&p, msg);
	sd_sign_digest(SD_PURPOSE_SESSION, msg, sizeof(msg), h);
	assert_hex(h, 32, VEC_DIGEST);
	assert_hex(p.signature, 64, VEC_SIGNATURE);
	ref_pow_hash(p.server_nonce, p.pow, h);
	assert_hex(h, 32, VEC_POW_HASH);
	assert_int_equal(sd_pow_zero_bits(p.server_nonce, p.pow), VEC_POW_BITS);
	assert_true(sd_pow_check(p.server_nonce, p.pow, VEC_POW_BITS));
	assert_false(sd_pow_check(p.server_nonce, p.pow, VEC_POW_BITS + 1));
	assert_int_equal(verify_with(&p, k, VEC_POW_BITS), 0);
	assert_int_equal(verify_with(&p, k, 0), 0);
	sd_codename_keys_free(k);
}

/* --- round trip ------------------------------------------------------------------ */

static void test_round_trip(void **state)
{
	sd_codename_keys_t *k = derive(VEC_CODENAME);
	sd_session_proof_t p, q;
	uint8_t nonce[32], msg[96];

	(void)state;
	randombytes_buf(nonce, sizeof(nonce));
	assert_int_equal(sd_session_prove(k, nonce, 8, &p), 0);
	assert_memory_equal(p.server_nonce, nonce, 32);
	assert_memory_equal(p.locator, k->locator, 32);
	assert_true(sd_pow_zero_bits(nonce, p.pow) >= 8);
	assert_int_equal(sd_session_verify(&p, nonce, 8, (uint8_t[32]){0}, k->consent_pk), SD_ERR_VERIFY);
	assert_int_equal(verify_with(&p, k, 8), 0);
	/* The signature covers exactly the documented 96 bytes. */
	ref_message(&p, msg);
	assert_int_equal(sd_sign_verify(SD_PURPOSE_SESSION, k->consent_pk, msg, sizeof(msg), p.signature), 0);
	assert_int_equal(sd_sign_verify(SD_PURPOSE_CONSENT, k->consent_pk, msg, sizeof(msg), p.signature),
	                 SD_ERR_VERIFY);
	/* A fresh client nonce each time. */
	assert_int_equal(sd_session_prove(k, nonce, 0, &q), 0);
	assert_memory_not_equal(p.client_nonce, q.client_nonce, 32);
	assert_int_equal(verify_with(&q, k, 0), 0);
	/* The output may alias the nonce it answers. */
	assert_int_equal(sd_session_prove(k, q.server_nonce, 0, &q), 0);
	assert_memory_equal(q.server_nonce, nonce, 32);
	assert_int_equal(verify_with(&q, k, 0), 0);
	sd_codename_keys_free(k);
}

/* --- refusals -------------------------------------------------------------------- */

static void test_refuse_wrong_locator(void **state)
{
	sd_codename_keys_t *k = derive(VEC_CODENAME), *o = derive(VEC_OTHER);
	sd_session_proof_t p;
	uint8_t lh[32], msg[96];

	(void)state;
	vector_proof(k, &p);
	sd_session_locator_hash(k->locator, lh);
	/* A random locator, re-signed so only the locator is wrong. */
	randombytes_buf(p.locator, 32);
	ref_message(&p, msg);
	assert_int_equal(sd_sign(SD_PURPOSE_SESSION, k->consent_sk, msg, sizeof(msg), p.signature), 0);
	assert_refused(sd_session_verify(&p, p.server_nonce, 0, lh, k->consent_pk), "locator does not match");
	/* Another codename's locator, signed with that codename's key, against this package. */
	vector_proof(o, &p);
	assert_int_equal(verify_with(&p, o, 0), 0);
	assert_refused(sd_session_verify(&p, p.server_nonce, 0, lh, k->consent_pk), "locator does not match");
	/* The header's locator hash presented as if it were the locator (the attorney's try). */
	vector_proof(k, &p);
	memcpy(p.locator, lh, 32);
	assert_refused(sd_session_verify(&p, p.server_nonce, 0, lh, k->consent_pk), "locator does not match");
	sd_codename_keys_free(o);
	sd_codename_keys_free(k);
}

static void test_refuse_wrong_signer(void **state)
{
	sd_codename_keys_t *k = derive(VEC_CODENAME), *o = derive(VEC_OTHER);
	sd_session_proof_t p;
	uint8_t msg[96];

	(void)state;
	/* The right locator, signed by another codename's consent key. */
	vector_proof(k, &p);
	ref_message(&p, msg);
	assert_int_equal(sd_sign(SD_PURPOSE_SESSION, o->consent_sk, msg, sizeof(msg), p.signature), 0);
	assert_refused(verify_with(&p, k, 0), "session signature does not verify");
	/* The right key, but another purpose's domain. */
	assert_int_equal(sd_sign(SD_PURPOSE_CONSENT, k->consent_sk, msg, sizeof(msg), p.signature), 0);
	assert_refused(verify_with(&p, k, 0), "session signature does not verify");
	sd_codename_keys_free(o);
	sd_codename_keys_free(k);
}

static void test_refuse_other_nonce(void **state)
{
	sd_codename_keys_t *k = derive(VEC_CODENAME);
	sd_session_proof_t p;
	uint8_t lh[32], issued[32];

	(void)state;
	sd_session_locator_hash(k->locator, lh);
	randombytes_buf(issued, sizeof(issued));
	/* A proof for another challenge, replayed against the one issued now. */
	assert_int_equal(sd_session_prove(k, issued, 0, &p), 0);
	issued[5] ^= 1;
	assert_refused(sd_session_verify(&p, issued, 0, lh, k->consent_pk), "another challenge");
	/* ... with its nonce field rewritten: the signature still covers the old nonce. */
	memcpy(p.server_nonce, issued, 32);
	assert_refused(sd_session_verify(&p, issued, 0, lh, k->consent_pk), "session signature does not verify");
	sd_codename_keys_free(k);
}

/* Every single-bit change anywhere in the proof is refused. */
static void test_refuse_bit_flips(void **state)
{
	sd_codename_keys_t *k = derive(VEC_CODENAME);
	sd_session_proof_t p, f;
	uint8_t lh[32], *fields[5];
	const size_t sizes[5] = {32, 32, 32, 64, 8};

	(void)state;
	vector_proof(k, &p);
	sd_session_locator_hash(k->locator, lh);
	for (int fi = 0; fi < 5; fi++) {
		for (size_t bit = 0; bit < 8 * sizes[fi]; bit++) {
			f = p;
			fields[0] = f.server_nonce;
			fields[1] = f.client_nonce;
			fields[2] = f.locator;
			fields[3] = f.signature;
			fields[4] = f.pow;
			fields[fi][bit / 8] ^= (uint8_t)(1u << (bit % 8));
			assert_int_equal(sd_session_verify(&f, p.server_nonce, VEC_POW_BITS, lh, k->consent_pk),
			                 SD_ERR_VERIFY);
		}
	}
	/* ... and so is a bit flipped in what the server holds. */
	for (size_t bit = 0; bit < 256; bit++) {
		uint8_t n[32], h[32], pk[32];

		memcpy(n, p.server_nonce, 32);
		memcpy(h, lh, 32);
		memcpy(pk, k->consent_pk, 32);
		n[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		h[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		pk[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(sd_session_verify(&p, n, 0, lh, k->consent_pk), SD_ERR_VERIFY);
		assert_int_equal(sd_session_verify(&p, p.server_nonce, 0, h, k->consent_pk), SD_ERR_VERIFY);
		assert_int_equal(sd_session_verify(&p, p.server_nonce, 0, lh, pk), SD_ERR_VERIFY);
	}
	assert_int_equal(sd_session_verify(&p, p.server_nonce, VEC_POW_BITS, lh, k->consent_pk), 0);
	sd_codename_keys_free(k);
}

static void test_refuse_pow(void **state)
{
	sd_codename_keys_t *k = derive(VEC_CODENAME);
	sd_session_proof_t p;
	char want[80];

	(void)state;
	vector_proof(k, &p);
	assert_refused(verify_with(&p, k, VEC_POW_BITS + 1), "proof of work");
	snprintf(want, sizeof(want), "has %d leading zero bits, %d are needed", VEC_POW_BITS, VEC_POW_BITS + 1);
	assert_string_equal(sd_error_detail(), "the proof of work has 16 leading zero bits, 17 are needed");
	assert_non_null(strstr(sd_error_detail(), want));
	/* The pow is checked first: a proof that fails everything names the pow. */
	p.locator[0] ^= 1;
	p.signature[0] ^= 1;
	assert_refused(verify_with(&p, k, VEC_POW_BITS + 1), "proof of work");
	/* Beyond the limit: refused by every entry point, whatever the stamp. */
	vector_proof(k, &p);
	assert_int_equal(verify_with(&p, k, SD_POW_BITS_MAX + 1), SD_ERR_USAGE);
	assert_int_equal(verify_with(&p, k, ~0u), SD_ERR_USAGE);
	assert_false(sd_pow_check(p.server_nonce, p.pow, SD_POW_BITS_MAX + 1));
	assert_false(sd_pow_check(p.server_nonce, p.pow, ~0u));
	assert_int_equal(sd_session_prove(k, p.server_nonce, SD_POW_BITS_MAX + 1, &p), SD_ERR_USAGE);
	sd_codename_keys_free(k);
}

static void test_refuse_null(void **state)
{
	sd_codename_keys_t *k = derive(VEC_CODENAME);
	sd_session_proof_t p;
	uint8_t lh[32];

	(void)state;
	vector_proof(k, &p);
	sd_session_locator_hash(k->locator, lh);
	assert_int_equal(sd_session_prove(NULL, p.server_nonce, 0, &p), SD_ERR_USAGE);
	assert_int_equal(sd_session_prove(k, NULL, 0, &p), SD_ERR_USAGE);
	assert_int_equal(sd_session_prove(k, p.server_nonce, 0, NULL), SD_ERR_USAGE);
	assert_int_equal(sd_session_verify(NULL, p.server_nonce, 0, lh, k->consent_pk), SD_ERR_USAGE);
	assert_int_equal(sd_session_verify(&p, NULL, 0, lh, k->consent_pk), SD_ERR_USAGE);
	assert_int_equal(sd_session_verify(&p, p.server_nonce, 0, NULL, k->consent_pk), SD_ERR_USAGE);
	assert_int_equal(sd_session_verify(&p, p.server_nonce, 0, lh, NULL), SD_ERR_USAGE);
	sd_codename_keys_free(k);
}

/* --- proof of work --------------------------------------------------------------- */

static void test_pow_zero_always_passes(void **state)
{
	uint8_t n[32], c[8];

	(void)state;
	for (int i = 0; i < 1000; i++) {
		randombytes_buf(n, sizeof(n));
		randombytes_buf(c, sizeof(c));
		assert_true(sd_pow_check(n, c, 0));
	}
	memset(n, 0xff, sizeof(n));
	memset(c, 0xff, sizeof(c));
	assert_true(sd_pow_check(n, c, 0));
}

static void test_pow_found_and_checked(void **state)
{
	sd_codename_keys_t *k = derive(VEC_CODENAME);
	sd_session_proof_t p;
	uint8_t nonce[32], h[32];
	const unsigned levels[] = {1, 4, 12, 16};

	(void)state;
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		unsigned b = levels[i];

		randombytes_buf(nonce, sizeof(nonce));
		assert_int_equal(sd_session_prove(k, nonce, b, &p), 0);
		ref_pow_hash(nonce, p.pow, h);
		assert_true(ref_zero_bits(h) >= b);
		assert_int_equal(sd_pow_zero_bits(nonce, p.pow), ref_zero_bits(h));
		assert_true(sd_pow_check(nonce, p.pow, b));
		assert_int_equal(verify_with(&p, k, b), 0);
		/* The stamp belongs to its nonce. */
		nonce[0] ^= 1;
		ref_pow_hash(nonce, p.pow, h);
		assert_int_equal(sd_pow_zero_bits(nonce, p.pow), ref_zero_bits(h));
	}
	sd_codename_keys_free(k);
}

/* sd_pow_zero_bits against a bit-by-bit count over 2^16 stamps: every count from 0 to at
 * least 12 turns up, and each count is as frequent as a uniform hash makes it. */
static void test_pow_zero_bits_brute_force(void **state)
{
	uint8_t n[32], c[8] = {0}, h[32];
	size_t seen[257] = {0};

	(void)state;
	memset(n, 0x5a, sizeof(n));
	for (uint32_t i = 0; i < 65536; i++) {
		unsigned z;

		sd_store_le64(c, i);
		ref_pow_hash(n, c, h);
		z = ref_zero_bits(h);
		assert_int_equal(sd_pow_zero_bits(n, c), z);
		assert_true(sd_pow_check(n, c, z > SD_POW_BITS_MAX ? SD_POW_BITS_MAX : z));
		if (z < SD_POW_BITS_MAX)
			assert_false(sd_pow_check(n, c, z + 1));
		seen[z]++;
	}
	for (unsigned z = 0; z <= 12; z++)
		assert_true(seen[z] > 0);
	/* Expect 32768, 16384, 8192 ...: generous bounds, still wrong for an off-by-one count. */
	assert_in_range(seen[0], 31768, 33768);
	assert_in_range(seen[1], 15684, 17084);
	assert_in_range(seen[2], 7692, 8692);
	/* The reference itself: hand-made hashes. */
	memset(h, 0, sizeof(h));
	assert_int_equal(ref_zero_bits(h), 256);
	h[0] = 0x80;
	assert_int_equal(ref_zero_bits(h), 0);
	h[0] = 0x01;
	assert_int_equal(ref_zero_bits(h), 7);
	h[0] = 0;
	h[1] = 0x10;
	assert_int_equal(ref_zero_bits(h), 11);
}

/* Runs last: the library's cancellation flag cannot be cleared. */
static void test_prove_cancelled(void **state)
{
	sd_codename_keys_t *k = derive(VEC_CODENAME);
	sd_session_proof_t p, zero;
	uint8_t nonce[32];

	(void)state;
	randombytes_buf(nonce, sizeof(nonce));
	memset(&zero, 0, sizeof(zero));
	sd_cancel_request();
	/* 32 bits takes ~2^32 tries; the flag is seen within 65536. */
	assert_int_equal(sd_session_prove(k, nonce, SD_POW_BITS_MAX, &p), SD_ERR_CANCELLED);
	assert_memory_equal(&p, &zero, sizeof(p));
	sd_codename_keys_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_vector),
	        cmocka_unit_test(test_round_trip),
	        cmocka_unit_test(test_refuse_wrong_locator),
	        cmocka_unit_test(test_refuse_wrong_signer),
	        cmocka_unit_test(test_refuse_other_nonce),
	        cmocka_unit_test(test_refuse_bit_flips),
	        cmocka_unit_test(test_refuse_pow),
	        cmocka_unit_test(test_refuse_null),
	        cmocka_unit_test(test_pow_zero_always_passes),
	        cmocka_unit_test(test_pow_found_and_checked),
	        cmocka_unit_test(test_pow_zero_bits_brute_force),
	        cmocka_unit_test(test_prove_cancelled),
	};

	return cmocka_run_group_tests(tests, unit_setup, NULL);
}
