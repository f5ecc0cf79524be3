/*
 * test_sign.c — domain-separated signatures: known answers (docs/FORMAT.md,
 * "Signatures"; cross-checked by tests/vectors/keys.py), purpose separation, and
 * single-bit changes to message, signature and key.
 */
#include "unit.h"

#include <sodium.h>

#include "sealdrop/sign.h"

#define NPURPOSES 9

static const char *const names[NPURPOSES] = {
        "header", "consent", "revoke", "session", "receipt", "head", "notice", "export", "directory",
};

/* BLAKE2b-256("sealdrop <purpose> v1" || "sealdrop test message"). */
static const char *const kat_digest[NPURPOSES] = {
        "c8f9daeaa9d25c5d0732b04861e829b7060fb4c2fb35b855b04779eb4df57814",
        "e38b88422fd5717c09d5c9fe063024c7b98766773c24476b8caf37ea28fc7a84",
        "8a19316b6c77104b3fdadb6d4403381dbb872d760ccab1847206305f64e4a338",
        "abed7a51ded7303646525665695f5e6bbae983c6c8fb032c90c749fef38c352c",
        "47a60f3bab67e1897b8029bea5244721acbba328616cce1a733979df51d114a4",
        "f3d2a768c4d470606b5d57fc7cc20ec7b2cd3a8e536f78d94e73c7da4a28a372",
        "72da79eef793ea6487f4538c6ced558119b7683607ffd497f5b4fbb175a27e33",
        "458c10caca6d2a1c60f52def025f3d513c6839663607dafbfad4b14e10b07dfa",
        "f21ef12b6976258dbc5a7b18ad8ddfa6ad12ba654ec3e77efea70b18f18a4ce9",
};
static const char kat_digest_empty_header[] = "70f671490e28069ba88935087723c077ebe787d43b7b66c590f65ba41df972e0";
static const char kat_pk[] = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8";
static const char kat_sig_header[] = "12f37d9f4214853f5a823fec21b3a9cb543fb95e393b4fd5210aecab110b5e5a"
                                     "d7467f246f6535c27f86432d0f7e126d1192d1dce21c9a06bd61c8820ebd5103";

static const uint8_t msg[] = "sealdrop test message";
#define MSGLEN (sizeof(msg) - 1)

static void kat_keypair(uint8_t pk[32], uint8_t sk[64])
{
	uint8_t seed[32];

	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)i;
	assert_int_equal(crypto_sign_seed_keypair(pk, sk, seed), 0);
}

static void test_purpose_names(void **state)
{
	(void)state;
	for (int p = 0; p < NPURPOSES; p++)
		assert_string_equal(sd_purpose_name((sd_purpose_t)p), names[p]);
	assert_null(sd_purpose_name((sd_purpose_t)NPURPOSES));
	assert_null(sd_purpose_name((sd_purpose_t)-1));
}

static void test_digest_kat(void **state)
{
	uint8_t d[SD_DIGEST_BYTES], want[SD_DIGEST_BYTES];

	(void)state;
	for (int p = 0; p < NPURPOSES; p++) {
		unit_hex(kat_digest[p], want, sizeof(want));
		sd_sign_digest((sd_purpose_t)p, msg, MSGLEN, d);
		assert_memory_equal(d, want, sizeof(d));
	}
	unit_hex(kat_digest_empty_header, want, sizeof(want));
	sd_sign_digest(SD_PURPOSE_HEADER, NULL, 0, d);
	assert_memory_equal(d, want, sizeof(d));
}

/* The digest is exactly BLAKE2b-256 of the concatenation: no separator, no NUL. */
static void test_digest_is_plain_concatenation(void **state)
{
	uint8_t d[SD_DIGEST_BYTES], want[SD_DIGEST_BYTES];
	char buf[64];
	int n;

	(void)state;
	for (int p = 0; p < NPURPOSES; p++) {
		n = snprintf(buf, sizeof(buf), "sealdrop %s v1%s", names[p], (const char *)msg);
		assert_true(n > 0 && (size_t)n < sizeof(buf));
		crypto_generichash(want, sizeof(want), (const uint8_t *)buf, (size_t)n, NULL, 0);
		sd_sign_digest((sd_purpose_t)p, msg, MSGLEN, d);
		assert_memory_equal(d, want, sizeof(d));
	}
}

static void test_digests_all_differ(void **state)
{
	uint8_t d[NPURPOSES][SD_DIGEST_BYTES];

	(void)state;
	for (int p = 0; p < NPURPOSES; p++)
		sd_sign_digest((sd_purpose_t)p, msg, MSGLEN, d[p]);
	for (int a = 0; a < NPURPOSES; a++)
		for (int b = a + 1; b < NPURPOSES; b++)
			assert_memory_not_equal(d[a], d[b], SD_DIGEST_BYTES);
}

static void test_signature_kat(void **state)
{
	uint8_t pk[32], sk[64], sig[SD_SIGN_BYTES], want[SD_SIGN_BYTES], wantpk[32], d[SD_DIGEST_BYTES];

	(void)state;
	kat_keypair(pk, sk);
	unit_hex(kat_pk, wantpk, sizeof(wantpk));
	assert_memory_equal(pk, wantpk, sizeof(pk));
	assert_int_equal(sd_sign(SD_PURPOSE_HEADER, sk, msg, MSGLEN, sig), 0);
	unit_hex(kat_sig_header, want, sizeof(want));
	assert_memory_equal(sig, want, sizeof(sig));
	assert_int_equal(sd_sign_verify(SD_PURPOSE_HEADER, pk, msg, MSGLEN, sig), 0);
	/* It is a plain Ed25519 signature over the digest, never over the raw message. */
	sd_sign_digest(SD_PURPOSE_HEADER, msg, MSGLEN, d);
	assert_int_equal(crypto_sign_verify_detached(sig, d, sizeof(d), pk), 0);
	assert_int_not_equal(crypto_sign_verify_detached(sig, msg, MSGLEN, pk), 0);
}

static void test_roundtrip_every_purpose(void **state)
{
	uint8_t pk[32], sk[64], sig[SD_SIGN_BYTES];

	(void)state;
	crypto_sign_keypair(pk, sk);
	for (int p = 0; p < NPURPOSES; p++) {
		assert_int_equal(sd_sign((sd_purpose_t)p, sk, msg, MSGLEN, sig), 0);
		assert_int_equal(sd_sign_verify((sd_purpose_t)p, pk, msg, MSGLEN, sig), 0);
	}
	/* An empty message is a message too. */
	assert_int_equal(sd_sign(SD_PURPOSE_SESSION, sk, NULL, 0, sig), 0);
	assert_int_equal(sd_sign_verify(SD_PURPOSE_SESSION, pk, NULL, 0, sig), 0);
	assert_int_equal(sd_sign_verify(SD_PURPOSE_SESSION, pk, msg, 1, sig), SD_ERR_VERIFY);
}

static void test_cross_purpose_refused(void **state)
{
	uint8_t pk[32], sk[64], sig[SD_SIGN_BYTES];

	(void)state;
	kat_keypair(pk, sk);
	for (int p = 0; p < NPURPOSES; p++) {
		assert_int_equal(sd_sign((sd_purpose_t)p, sk, msg, MSGLEN, sig), 0);
		for (int q = 0; q < NPURPOSES; q++) {
			if (q == p)
				continue;
			sd_error_clear();
			assert_int_equal(sd_sign_verify((sd_purpose_t)q, pk, msg, MSGLEN, sig), SD_ERR_VERIFY);
			assert_string_equal(sd_error_detail(), "signature does not verify");
		}
	}
}

static void test_bit_flips_refused(void **state)
{
	uint8_t pk[32], sk[64], sig[SD_SIGN_BYTES], m[MSGLEN];

	(void)state;
	kat_keypair(pk, sk);
	memcpy(m, msg, MSGLEN);
	assert_int_equal(sd_sign(SD_PURPOSE_CONSENT, sk, m, sizeof(m), sig), 0);
	for (size_t bit = 0; bit < 8 * sizeof(m); bit++) {
		m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(sd_sign_verify(SD_PURPOSE_CONSENT, pk, m, sizeof(m), sig), SD_ERR_VERIFY);
		m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	for (size_t bit = 0; bit < 8 * sizeof(sig); bit++) {
		sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(sd_sign_verify(SD_PURPOSE_CONSENT, pk, m, sizeof(m), sig), SD_ERR_VERIFY);
		sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	for (size_t bit = 0; bit < 8 * sizeof(pk); bit++) {
		pk[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(sd_sign_verify(SD_PURPOSE_CONSENT, pk, m, sizeof(m), sig), SD_ERR_VERIFY);
		pk[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	/* Shorter and longer messages too. */
	assert_int_equal(sd_sign_verify(SD_PURPOSE_CONSENT, pk, m, sizeof(m) - 1, sig), SD_ERR_VERIFY);
	assert_int_equal(sd_sign_verify(SD_PURPOSE_CONSENT, pk, msg, MSGLEN + 1, sig), SD_ERR_VERIFY);
	/* And the untouched inputs still verify: the flips were undone correctly. */
	assert_int_equal(sd_sign_verify(SD_PURPOSE_CONSENT, pk, m, sizeof(m), sig), 0);
}

static void test_other_key_refused(void **state)
{
	uint8_t pk[32], sk[64], pk2[32], sk2[64], sig[SD_SIGN_BYTES];

	(void)state;
	kat_keypair(pk, sk);
	crypto_sign_keypair(pk2, sk2);
	assert_int_equal(sd_sign(SD_PURPOSE_HEAD, sk, msg, MSGLEN, sig), 0);
	assert_int_equal(sd_sign_verify(SD_PURPOSE_HEAD, pk2, msg, MSGLEN, sig), SD_ERR_VERIFY);
	/* The all-zero (small-order) key and signature never verify. */
	memset(pk2, 0, sizeof(pk2));
	memset(sig, 0, sizeof(sig));
	assert_int_equal(sd_sign_verify(SD_PURPOSE_HEAD, pk2, msg, MSGLEN, sig), SD_ERR_VERIFY);
}

static void test_bad_arguments(void **state)
{
	uint8_t pk[32], sk[64], sig[SD_SIGN_BYTES];

	(void)state;
	kat_keypair(pk, sk);
	assert_int_equal(sd_sign((sd_purpose_t)NPURPOSES, sk, msg, MSGLEN, sig), SD_ERR_USAGE);
	assert_int_equal(sd_sign(SD_PURPOSE_HEADER, NULL, msg, MSGLEN, sig), SD_ERR_USAGE);
	assert_int_equal(sd_sign(SD_PURPOSE_HEADER, sk, NULL, 1, sig), SD_ERR_USAGE);
	assert_int_equal(sd_sign(SD_PURPOSE_HEADER, sk, msg, MSGLEN, sig), 0);
	assert_int_equal(sd_sign_verify((sd_purpose_t)NPURPOSES, pk, msg, MSGLEN, sig), SD_ERR_VERIFY);
	assert_int_equal(sd_sign_verify(SD_PURPOSE_HEADER, NULL, msg, MSGLEN, sig), SD_ERR_VERIFY);
	assert_int_equal(sd_sign_verify(SD_PURPOSE_HEADER, pk, msg, MSGLEN, NULL), SD_ERR_VERIFY);
	assert_int_equal(sd_sign_verify(SD_PURPOSE_HEADER, pk, NULL, MSGLEN, sig), SD_ERR_VERIFY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_purpose_names),
	        cmocka_unit_test(test_digest_kat),
	        cmocka_unit_test(test_digest_is_plain_concatenation),
	        cmocka_unit_test(test_digests_all_differ),
	        cmocka_unit_test(test_signature_kat),
	        cmocka_unit_test(test_roundtrip_every_purpose),
	        cmocka_unit_test(test_cross_purpose_refused),
	        cmocka_unit_test(test_bit_flips_refused),
	        cmocka_unit_test(test_other_key_refused),
	        cmocka_unit_test(test_bad_arguments),
	};
	return cmocka_run_group_tests(tests, unit_setup, NULL);
}
