/*
 * test_keys.c — key kinds and ids, KDF limits, secret key files and public key files.
 * Known answers come from docs/FORMAT.md ("Keys") and are recomputed independently by
 * tests/vectors/keys.py. Every test uses the minimum Argon2id limits except
 * test_keyfile_moderate_roundtrip, which runs the real default once.
 */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#include "sealdrop/bytes.h"
#include "sealdrop/keys.h"
#include "sealdrop/sign.h"

#define NKINDS  6
#define PASS    "correct horse battery staple"
#define PASSLEN (sizeof(PASS) - 1)

static const char *const kind_names[NKINDS + 1] = {
        NULL, "root", "intake", "identity", "agency", "attorney", "log",
};

/* Public keys and ids of the secret 0x00..0x1f for every kind (the Ed25519 seed for root
 * and log, the X25519 scalar for the others). */
static const char ed_pk_hex[] = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8";
static const char x_pk_hex[] = "8f40c5adb68f25624ae5b214ea767a6ec94d829d3d7b5e1ad1ba6f3e2138285f";
static const char *const kat_id[NKINDS + 1] = {
        NULL,
        "2ffdef4971a0d119",
        "d8499c0859baacdc",
        "b1e96bbbfd1f4843",
        "4eb410780be07346",
        "cb2f9b7286de854a",
        "524c32d40d04f4c6",
};
static const char *const kat_line[NKINDS + 1] = {
        NULL,
        "sealdrop-pubkey-v1 root 2ffdef4971a0d119 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=\n",
        "sealdrop-pubkey-v1 intake d8499c0859baacdc j0DFrbaPJWJK5bIU6nZ6bslNgp09e14a0bpvPiE4KF8=\n",
        "sealdrop-pubkey-v1 identity b1e96bbbfd1f4843 j0DFrbaPJWJK5bIU6nZ6bslNgp09e14a0bpvPiE4KF8=\n",
        "sealdrop-pubkey-v1 agency 4eb410780be07346 j0DFrbaPJWJK5bIU6nZ6bslNgp09e14a0bpvPiE4KF8=\n",
        "sealdrop-pubkey-v1 attorney cb2f9b7286de854a j0DFrbaPJWJK5bIU6nZ6bslNgp09e14a0bpvPiE4KF8=\n",
        "sealdrop-pubkey-v1 log 524c32d40d04f4c6 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=\n",
};

/* Secret 0x00..0x1f, PASS, salt 0xa0..0xaf, nonce 0xb0..0xc7, minimum limits. */
static const char kat_keyfile_root[] = "53445345434b45590101010101000000000000000020000000000000a0a1a2a3"
                                       "a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3"
                                       "c4c5c6c75aaab92a2abe3942b81396806ac0f9afe249609f3583958d93970aca"
                                       "3cad6edb547b0ea4792d46b76ebfb1aa31aa8fc7";
static const char kat_keyfile_intake[] = "53445345434b45590102020101000000000000000020000000000000a0a1a2a3"
                                         "a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3"
                                         "c4c5c6c75aaab92a2abe3942b81396806ac0f9afe249609f3583958d93970aca"
                                         "3cad6edb791c31faaa367683c4fc8771471f4ecc";

static void fixed_secret(uint8_t s[32])
{
	for (int i = 0; i < 32; i++)
		s[i] = (uint8_t)i;
}

static void fixed_salt_nonce(uint8_t salt[16], uint8_t nonce[24])
{
	for (int i = 0; i < 16; i++)
		salt[i] = (uint8_t)(0xa0 + i);
	for (int i = 0; i < 24; i++)
		nonce[i] = (uint8_t)(0xb0 + i);
}

static sd_seckey_t *fixed_key(sd_key_kind_t kind)
{
	uint8_t s[32];
	sd_seckey_t *k = NULL;

	fixed_secret(s);
	assert_int_equal(sd_seckey_from_secret(kind, s, &k), 0);
	assert_non_null(k);
	return k;
}

static void encode_fixed(sd_key_kind_t kind, uint8_t out[SD_KEYFILE_BYTES])
{
	uint8_t salt[16], nonce[24];
	sd_kdf_limits_t min = sd_kdf_minimum();
	sd_seckey_t *k = fixed_key(kind);

	fixed_salt_nonce(salt, nonce);
	assert_int_equal(sd_keyfile_encode(k, PASS, PASSLEN, &min, salt, nonce, out), 0);
	sd_seckey_free(k);
}

static void assert_detail_has(const char *needle)
{
	if (strstr(sd_error_detail(), needle) == NULL)
		fail_msg("error detail '%s' does not contain '%s'", sd_error_detail(), needle);
}

/* --- kinds, ids, limits ------------------------------------------------------------ */

static void test_kind_names(void **state)
{
	sd_key_kind_t k;
	static const char *const bad[] = {"", "Root", "roots", "root ", " root", "unknown", "ed25519"};

	(void)state;
	for (int i = 1; i <= NKINDS; i++) {
		assert_string_equal(sd_key_kind_name((sd_key_kind_t)i), kind_names[i]);
		k = 0;
		assert_int_equal(sd_key_kind_from_name(kind_names[i], &k), 0);
		assert_int_equal(k, i);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sd_key_kind_from_name(bad[i], &k), SD_ERR_FORMAT);
	assert_int_equal(sd_key_kind_from_name(NULL, &k), SD_ERR_FORMAT);
	assert_string_equal(sd_key_kind_name((sd_key_kind_t)0), "unknown");
	assert_string_equal(sd_key_kind_name((sd_key_kind_t)7), "unknown");
	assert_int_equal(sd_key_kind_alg(SD_KEY_ROOT), SD_ALG_ED25519);
	assert_int_equal(sd_key_kind_alg(SD_KEY_LOG), SD_ALG_ED25519);
	assert_int_equal(sd_key_kind_alg(SD_KEY_INTAKE), SD_ALG_X25519);
	assert_int_equal(sd_key_kind_alg(SD_KEY_IDENTITY), SD_ALG_X25519);
	assert_int_equal(sd_key_kind_alg(SD_KEY_AGENCY), SD_ALG_X25519);
	assert_int_equal(sd_key_kind_alg(SD_KEY_ATTORNEY), SD_ALG_X25519);
	assert_int_equal(sd_key_kind_alg((sd_key_kind_t)0), 0);
	assert_int_equal(sd_key_kind_alg((sd_key_kind_t)7), 0);
}

static void test_kdf_limits(void **state)
{
	sd_kdf_limits_t l;
	static const struct {
		uint64_t ops, mem;
		bool sane;
	} cases[] = {
	        {1, 8192, true},  {4, 1073741824, true}, {3, 268435456, true},          {2, 9216, true},
	        {0, 8192, false}, {5, 8192, false},      {UINT64_MAX, 8192, false},     {1, 7168, false},
	        {1, 8193, false}, {1, 9000, false},      {1, 1073741824 + 1024, false}, {1, UINT64_MAX - 1023, false},
	        {1, 0, false},
	};

	(void)state;
	l = sd_kdf_minimum();
	assert_int_equal(l.opslimit, 1);
	assert_int_equal(l.memlimit, 8192);
	l = sd_kdf_interactive();
	assert_int_equal(l.opslimit, 2);
	assert_int_equal(l.memlimit, 67108864);
	l = sd_kdf_moderate();
	assert_int_equal(l.opslimit, 3);
	assert_int_equal(l.memlimit, 268435456);
	l = sd_kdf_sensitive();
	assert_int_equal(l.opslimit, 4);
	assert_int_equal(l.memlimit, 1073741824);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		l = (sd_kdf_limits_t){cases[i].ops, cases[i].mem};
		if (sd_kdf_limits_are_sane(&l) != cases[i].sane)
			fail_msg("limits case %zu: expected %s", i, cases[i].sane ? "sane" : "insane");
	}
	assert_false(sd_kdf_limits_are_sane(NULL));
}

static void test_key_id_vectors(void **state)
{
	uint8_t pk[32], want[32], id[SD_KEY_ID_BYTES];
	char hex[SD_KEY_ID_HEX_BYTES];

	(void)state;
	for (int i = 1; i <= NKINDS; i++) {
		sd_seckey_t *k = fixed_key((sd_key_kind_t)i);
		unit_hex(sd_key_kind_alg((sd_key_kind_t)i) == SD_ALG_ED25519 ? ed_pk_hex : x_pk_hex, want, 32);
		assert_memory_equal(k->pk, want, 32);
		sd_key_id_hex(k->id, hex);
		assert_string_equal(hex, kat_id[i]);
		sd_key_id((sd_key_kind_t)i, k->pk, id);
		assert_memory_equal(id, k->id, sizeof(id));
		sd_seckey_free(k);
		assert_null(k);
	}
	/* The id is over the bytes as given: one flipped bit changes it. */
	unit_hex(ed_pk_hex, pk, 32);
	pk[31] ^= 1;
	sd_key_id(SD_KEY_ROOT, pk, id);
	sd_key_id_hex(id, hex);
	assert_string_not_equal(hex, kat_id[SD_KEY_ROOT]);
}

static void test_seckey_generate(void **state)
{
	uint8_t pk[32], id[SD_KEY_ID_BYTES], sig[64];
	sd_seckey_t *k = NULL, *k2 = NULL;
	sd_pubkey_t pub;

	(void)state;
	for (int i = 1; i <= NKINDS; i++) {
		assert_int_equal(sd_seckey_generate((sd_key_kind_t)i, &k), 0);
		assert_int_equal(sd_seckey_generate((sd_key_kind_t)i, &k2), 0);
		assert_int_equal(k->kind, i);
		assert_memory_not_equal(k->pk, k2->pk, 32);
		if (sd_key_kind_alg(k->kind) == SD_ALG_ED25519) {
			assert_memory_equal(k->sk + 32, k->pk, 32);
			assert_int_equal(sd_sign(SD_PURPOSE_HEAD, k->sk, pk, 0, sig), 0);
			assert_int_equal(sd_sign_verify(SD_PURPOSE_HEAD, k->pk, pk, 0, sig), 0);
		} else {
			assert_int_equal(crypto_scalarmult_base(pk, k->sk), 0);
			assert_memory_equal(pk, k->pk, 32);
		}
		sd_key_id(k->kind, k->pk, id);
		assert_memory_equal(id, k->id, sizeof(id));
		sd_seckey_public(k, &pub);
		assert_int_equal(pub.kind, k->kind);
		assert_memory_equal(pub.pk, k->pk, 32);
		assert_memory_equal(pub.id, k->id, SD_KEY_ID_BYTES);
		sd_seckey_free(k);
		sd_seckey_free(k2);
	}
	k = (sd_seckey_t *)&pub; /* must be reset to NULL on failure */
	assert_int_equal(sd_seckey_generate((sd_key_kind_t)0, &k), SD_ERR_USAGE);
	assert_null(k);
	assert_int_equal(sd_seckey_generate((sd_key_kind_t)7, &k), SD_ERR_USAGE);
	assert_int_equal(sd_seckey_from_secret((sd_key_kind_t)0, pk, &k), SD_ERR_USAGE);
	assert_null(k);
	sd_seckey_free(k); /* NULL is fine */
}

/* --- secret key files --------------------------------------------------------------- */

static void test_keyfile_vectors(void **state)
{
	uint8_t got[SD_KEYFILE_BYTES], want[SD_KEYFILE_BYTES];

	(void)state;
	encode_fixed(SD_KEY_ROOT, got);
	unit_hex(kat_keyfile_root, want, sizeof(want));
	assert_memory_equal(got, want, sizeof(want));
	encode_fixed(SD_KEY_INTAKE, got);
	unit_hex(kat_keyfile_intake, want, sizeof(want));
	assert_memory_equal(got, want, sizeof(want));
}

static void test_keyfile_decode_roundtrip(void **state)
{
	uint8_t file[SD_KEYFILE_BYTES];
	sd_seckey_t *k, *want;
	sd_key_kind_t kind;
	sd_kdf_limits_t l;

	(void)state;
	for (int i = 1; i <= NKINDS; i++) {
		encode_fixed((sd_key_kind_t)i, file);
		assert_int_equal(sd_keyfile_peek(file, sizeof(file), &kind, &l), 0);
		assert_int_equal(kind, i);
		assert_int_equal(l.opslimit, 1);
		assert_int_equal(l.memlimit, 8192);
		k = NULL;
		assert_int_equal(sd_keyfile_decode(file, sizeof(file), PASS, PASSLEN, &k), 0);
		want = fixed_key((sd_key_kind_t)i);
		assert_int_equal(k->kind, i);
		assert_memory_equal(k->pk, want->pk, 32);
		assert_memory_equal(k->id, want->id, SD_KEY_ID_BYTES);
		assert_memory_equal(k->sk, want->sk, sd_key_kind_alg(k->kind) == SD_ALG_ED25519 ? 64 : 32);
		sd_seckey_free(k);
		sd_seckey_free(want);
	}
	/* A freshly generated key, random salt and nonce. */
	assert_int_equal(sd_seckey_generate(SD_KEY_LOG, &want), 0);
	l = sd_kdf_minimum();
	assert_int_equal(sd_keyfile_encode(want, "x", 1, &l, NULL, NULL, file), 0);
	assert_int_equal(sd_keyfile_decode(file, sizeof(file), "x", 1, &k), 0);
	assert_memory_equal(k->sk, want->sk, 64);
	sd_seckey_free(k);
	sd_seckey_free(want);
}

static void test_keyfile_random_salt_nonce(void **state)
{
	uint8_t a[SD_KEYFILE_BYTES], b[SD_KEYFILE_BYTES];
	sd_kdf_limits_t l = sd_kdf_minimum();
	sd_seckey_t *k = fixed_key(SD_KEY_IDENTITY), *k2 = NULL;

	(void)state;
	assert_int_equal(sd_keyfile_encode(k, PASS, PASSLEN, &l, NULL, NULL, a), 0);
	assert_int_equal(sd_keyfile_encode(k, PASS, PASSLEN, &l, NULL, NULL, b), 0);
	assert_memory_equal(a, b, 28);               /* same header fields */
	assert_memory_not_equal(a + 28, b + 28, 16); /* salt */
	assert_memory_not_equal(a + 44, b + 44, 24); /* nonce */
	assert_int_equal(sd_keyfile_decode(b, sizeof(b), PASS, PASSLEN, &k2), 0);
	assert_memory_equal(k2->sk, k->sk, 32);
	sd_seckey_free(k);
	sd_seckey_free(k2);
}

static void test_keyfile_wrong_passphrase(void **state)
{
	uint8_t file[SD_KEYFILE_BYTES];
	sd_seckey_t *k = (sd_seckey_t *)file;
	static const char *const wrong[] = {
	        "correct horse battery stapl",
	        "correct horse battery staple ",
	        "Correct horse battery staple",
	        "correct horse battery stapla",
	        "x",
	};

	(void)state;
	encode_fixed(SD_KEY_ROOT, file);
	for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		sd_error_clear();
		assert_int_equal(sd_keyfile_decode(file, sizeof(file), wrong[i], strlen(wrong[i]), &k),
		                 SD_ERR_PASSPHRASE);
		assert_null(k);
		assert_string_equal(sd_error_detail(), "wrong passphrase, or the key file was altered");
	}
	/* The passphrase is its bytes, not a C string: a NUL within it counts. */
	assert_int_equal(sd_keyfile_decode(file, sizeof(file), PASS "\0", PASSLEN + 1, &k), SD_ERR_PASSPHRASE);
	assert_int_equal(sd_keyfile_decode(file, sizeof(file), "", 0, &k), SD_ERR_PASSPHRASE);
	assert_int_equal(sd_keyfile_decode(file, sizeof(file), NULL, 3, &k), SD_ERR_USAGE);
	assert_null(k);
}

/* What the decoder must say about a mutated file, straight from the specification. */
static int expected_code(const uint8_t *f)
{
	sd_kdf_limits_t l = {sd_load_le64(f + 12), sd_load_le64(f + 20)};
	uint8_t kind = f[9];

	if (sodium_memcmp(f, "SDSECKEY", 8) != 0)
		return SD_ERR_FORMAT;
	if (f[8] != 1)
		return SD_ERR_VERSION;
	if (kind < 1 || kind > 6 || f[10] != ((kind == 1 || kind == 6) ? 1 : 2) || f[11] != 1)
		return SD_ERR_FORMAT;
	if (!sd_kdf_limits_are_sane(&l))
		return SD_ERR_FORMAT;
	return SD_ERR_PASSPHRASE;
}

static void check_mutations(sd_key_kind_t kind)
{
	static const uint8_t masks[] = {0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff};
	uint8_t file[SD_KEYFILE_BYTES];
	sd_seckey_t *k = NULL;
	int want, got, passphrase_refusals = 0;

	encode_fixed(kind, file);
	for (size_t i = 0; i < sizeof(file); i++) {
		for (size_t m = 0; m < sizeof(masks); m++) {
			file[i] ^= masks[m];
			want = expected_code(file);
			/* A sane but large memlimit would still be refused (the MAC covers it), just
			 * slowly; keep the test quick and check the header parses instead. */
			if (want == SD_ERR_PASSPHRASE && sd_load_le64(file + 20) > 16u * 1024 * 1024) {
				assert_int_equal(sd_keyfile_peek(file, sizeof(file), NULL, NULL), 0);
				file[i] ^= masks[m];
				continue;
			}
			got = sd_keyfile_decode(file, sizeof(file), PASS, PASSLEN, &k);
			if (got != want)
				fail_msg("byte %zu ^ 0x%02x: got %d (%s), expected %d", i, masks[m], got,
				         sd_error_detail(), want);
			assert_null(k);
			if (i < 8)
				assert_string_equal(sd_error_detail(), "not a sealdrop secret key file");
			if (i >= 28)
				assert_string_equal(sd_error_detail(), "wrong passphrase, or the key file was altered");
			passphrase_refusals += got == SD_ERR_PASSPHRASE;
			file[i] ^= masks[m];
		}
	}
	/* At least salt, nonce and ciphertext (88 bytes x 9 masks) reached the AEAD. */
	assert_true(passphrase_refusals >= 88 * 9);
	/* Untouched, it still opens: every flip was undone. */
	assert_int_equal(sd_keyfile_decode(file, sizeof(file), PASS, PASSLEN, &k), 0);
	sd_seckey_free(k);
}

static void test_keyfile_every_byte_flip_refused(void **state)
{
	(void)state;
	check_mutations(SD_KEY_ROOT);
	check_mutations(SD_KEY_INTAKE);
}

static void test_keyfile_truncation_and_extension(void **state)
{
	uint8_t file[SD_KEYFILE_BYTES + 8];
	sd_seckey_t *k = NULL;

	(void)state;
	encode_fixed(SD_KEY_ROOT, file);
	memset(file + SD_KEYFILE_BYTES, 0, 8);
	for (size_t n = 0; n < SD_KEYFILE_BYTES; n++) {
		assert_int_equal(sd_keyfile_decode(file, n, PASS, PASSLEN, &k), SD_ERR_TRUNCATED);
		assert_null(k);
		assert_int_equal(sd_keyfile_peek(file, n, NULL, NULL), SD_ERR_TRUNCATED);
	}
	assert_int_equal(sd_keyfile_decode(NULL, 0, PASS, PASSLEN, &k), SD_ERR_TRUNCATED);
	for (size_t n = SD_KEYFILE_BYTES + 1; n <= sizeof(file); n++) {
		assert_int_equal(sd_keyfile_decode(file, n, PASS, PASSLEN, &k), SD_ERR_FORMAT);
		assert_null(k);
		assert_int_equal(sd_keyfile_peek(file, n, NULL, NULL), SD_ERR_FORMAT);
	}
	assert_int_equal(sd_keyfile_decode(file, SD_KEYFILE_BYTES, PASS, PASSLEN, &k), 0);
	sd_seckey_free(k);
}

/* Header fields one at a time, each with its own message. */
static void test_keyfile_bad_header_fields(void **state)
{
	static const struct {
		size_t off;
		uint8_t value;
		int code;
		const char *detail;
	} cases[] = {
	        {0, 's', SD_ERR_FORMAT, "not a sealdrop secret key file"},
	        {7, 'Z', SD_ERR_FORMAT, "not a sealdrop secret key file"},
	        {8, 0, SD_ERR_VERSION, "version 0 is not supported"},
	        {8, 2, SD_ERR_VERSION, "version 2 is not supported"},
	        {9, 0, SD_ERR_FORMAT, "unknown key kind 0"},
	        {9, 7, SD_ERR_FORMAT, "unknown key kind 7"},
	        {9, 2, SD_ERR_FORMAT, "algorithm 1 does not match its kind (intake)"},
	        {10, 2, SD_ERR_FORMAT, "algorithm 2 does not match its kind (root)"},
	        {10, 0, SD_ERR_FORMAT, "algorithm 0 does not match"},
	        {11, 0, SD_ERR_FORMAT, "unknown key derivation 0"},
	        {11, 2, SD_ERR_FORMAT, "unknown key derivation 2"},
	};
	uint8_t file[SD_KEYFILE_BYTES];
	sd_seckey_t *k = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		encode_fixed(SD_KEY_ROOT, file);
		file[cases[i].off] = cases[i].value;
		assert_int_equal(sd_keyfile_decode(file, sizeof(file), PASS, PASSLEN, &k), cases[i].code);
		assert_null(k);
		assert_detail_has(cases[i].detail);
		assert_int_equal(sd_keyfile_peek(file, sizeof(file), NULL, NULL), cases[i].code);
	}
	/* Magic is checked before version: both wrong reports the magic. */
	encode_fixed(SD_KEY_ROOT, file);
	file[0] = 0;
	file[8] = 9;
	assert_int_equal(sd_keyfile_decode(file, sizeof(file), PASS, PASSLEN, &k), SD_ERR_FORMAT);
}

/* A file may not choose its own Argon2id cost beyond the sane range: the limits are
 * refused before any derivation. With opslimit 2^64-1 a KDF run would never return, so
 * this test finishing is the evidence. */
static void test_keyfile_insane_limits_refused(void **state)
{
	static const sd_kdf_limits_t bad[] = {
	        {UINT64_MAX, 8192},     {5, 8192},       {0, 8192}, {1, 1073741824ULL + 1024}, {1, 4096}, {1, 8193},
	        {4, UINT64_MAX - 1023}, {1, 1ULL << 40},
	};
	uint8_t file[SD_KEYFILE_BYTES];
	sd_seckey_t *k = fixed_key(SD_KEY_ROOT), *out = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		encode_fixed(SD_KEY_ROOT, file);
		sd_store_le64(file + 12, bad[i].opslimit);
		sd_store_le64(file + 20, bad[i].memlimit);
		assert_int_equal(sd_keyfile_decode(file, sizeof(file), PASS, PASSLEN, &out), SD_ERR_FORMAT);
		assert_null(out);
		assert_detail_has("key file asks for unreasonable Argon2id limits");
		assert_int_equal(sd_keyfile_peek(file, sizeof(file), NULL, NULL), SD_ERR_FORMAT);
		/* Nor will we write such a file. */
		assert_int_equal(sd_keyfile_encode(k, PASS, PASSLEN, &bad[i], NULL, NULL, file), SD_ERR_USAGE);
	}
	sd_seckey_free(k);
}

static void test_keyfile_encode_refusals(void **state)
{
	uint8_t file[SD_KEYFILE_BYTES];
	sd_kdf_limits_t l = sd_kdf_minimum();
	sd_seckey_t *k = fixed_key(SD_KEY_AGENCY);

	(void)state;
	sd_error_clear();
	assert_int_equal(sd_keyfile_encode(k, "", 0, &l, NULL, NULL, file), SD_ERR_USAGE);
	assert_detail_has("empty passphrase");
	assert_int_equal(sd_keyfile_encode(k, NULL, 0, &l, NULL, NULL, file), SD_ERR_USAGE);
	assert_int_equal(sd_keyfile_encode(k, NULL, 5, &l, NULL, NULL, file), SD_ERR_USAGE);
	assert_int_equal(sd_keyfile_encode(NULL, PASS, PASSLEN, &l, NULL, NULL, file), SD_ERR_USAGE);
	/* One byte is the shortest passphrase accepted. */
	assert_int_equal(sd_keyfile_encode(k, "a", 1, &l, NULL, NULL, file), 0);
	sd_seckey_free(k);
}

static void test_keyfile_moderate_roundtrip(void **state)
{
	uint8_t file[SD_KEYFILE_BYTES];
	sd_seckey_t *k = NULL, *back = NULL;
	sd_kdf_limits_t l = {0, 0};

	(void)state;
	assert_int_equal(sd_seckey_generate(SD_KEY_INTAKE, &k), 0);
	/* NULL limits are the DESIGN.md default, MODERATE. */
	assert_int_equal(sd_keyfile_encode(k, PASS, PASSLEN, NULL, NULL, NULL, file), 0);
	assert_int_equal(sd_keyfile_peek(file, sizeof(file), NULL, &l), 0);
	assert_int_equal(l.opslimit, crypto_pwhash_argon2id_OPSLIMIT_MODERATE);
	assert_int_equal(l.memlimit, crypto_pwhash_argon2id_MEMLIMIT_MODERATE);
	assert_int_equal(sd_keyfile_decode(file, sizeof(file), PASS, PASSLEN, &back), 0);
	assert_memory_equal(back->sk, k->sk, 32);
	assert_memory_equal(back->pk, k->pk, 32);
	sd_seckey_free(k);
	sd_seckey_free(back);
}

/* --- files on disk ------------------------------------------------------------------ */

static char tmpdir[64];

static int make_tmpdir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sd-test-keys-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_raw(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static void test_keyfile_write_read(void **state)
{
	char path[128], other[128];
	uint8_t before[SD_KEYFILE_BYTES], after[SD_KEYFILE_BYTES], big[5000];
	struct stat st;
	sd_kdf_limits_t l = sd_kdf_minimum();
	sd_seckey_t *k = fixed_key(SD_KEY_ATTORNEY), *k2 = NULL, *back = NULL;
	mode_t old = umask(022);
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/attorney.key", tmpdir);
	assert_int_equal(sd_keyfile_write(path, k, PASS, PASSLEN, &l), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, SD_KEYFILE_BYTES);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(before, 1, sizeof(before), f), sizeof(before));
	fclose(f);
	/* Never overwritten, not even by the same key. */
	assert_int_equal(sd_seckey_generate(SD_KEY_ATTORNEY, &k2), 0);
	assert_int_equal(sd_keyfile_write(path, k2, PASS, PASSLEN, &l), SD_ERR_EXISTS);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(after, 1, sizeof(after), f), sizeof(after));
	fclose(f);
	assert_memory_equal(before, after, sizeof(before));
	assert_int_equal(sd_keyfile_read(path, PASS, PASSLEN, &back), 0);
	assert_memory_equal(back->sk, k->sk, 32);
	sd_seckey_free(back);
	/* Every decode error names the file. */
	assert_int_equal(sd_keyfile_read(path, "nope", 4, &back), SD_ERR_PASSPHRASE);
	assert_null(back);
	assert_detail_has(path);
	assert_detail_has("wrong passphrase");
	snprintf(other, sizeof(other), "%s/short.key", tmpdir);
	write_raw(other, before, 100);
	assert_int_equal(sd_keyfile_read(other, PASS, PASSLEN, &back), SD_ERR_TRUNCATED);
	assert_detail_has(other);
	snprintf(other, sizeof(other), "%s/big.key", tmpdir);
	memset(big, 'A', sizeof(big));
	write_raw(other, big, sizeof(big));
	assert_int_equal(sd_keyfile_read(other, PASS, PASSLEN, &back), SD_ERR_TOOBIG);
	assert_detail_has(other);
	snprintf(other, sizeof(other), "%s/missing.key", tmpdir);
	assert_int_equal(sd_keyfile_read(other, PASS, PASSLEN, &back), SD_ERR_NOENT);
	assert_detail_has(other);
	assert_null(back);
	umask(old);
	sd_seckey_free(k);
	sd_seckey_free(k2);
}

/* --- public key files --------------------------------------------------------------- */

static void test_pubkey_vectors(void **state)
{
	char text[SD_PUBKEY_TEXT_BYTES];
	sd_pubkey_t pub, back;

	(void)state;
	for (int i = 1; i <= NKINDS; i++) {
		sd_seckey_t *k = fixed_key((sd_key_kind_t)i);
		sd_seckey_public(k, &pub);
		assert_int_equal(sd_pubkey_format(&pub, text), 0);
		assert_string_equal(text, kat_line[i]);
		memset(&back, 0, sizeof(back));
		assert_int_equal(sd_pubkey_parse(text, strlen(text), &back), 0);
		assert_int_equal(back.kind, i);
		assert_memory_equal(back.pk, pub.pk, 32);
		assert_memory_equal(back.id, pub.id, SD_KEY_ID_BYTES);
		/* Without the final newline, too. */
		memset(&back, 0, sizeof(back));
		assert_int_equal(sd_pubkey_parse(text, strlen(text) - 1, &back), 0);
		assert_memory_equal(back.pk, pub.pk, 32);
		sd_seckey_free(k);
	}
}

static void test_pubkey_roundtrip_generated(void **state)
{
	char text[SD_PUBKEY_TEXT_BYTES];
	sd_seckey_t *k;
	sd_pubkey_t pub, back;

	(void)state;
	for (int n = 0; n < 50; n++) {
		assert_int_equal(sd_seckey_generate((sd_key_kind_t)(1 + n % NKINDS), &k), 0);
		sd_seckey_public(k, &pub);
		assert_int_equal(sd_pubkey_format(&pub, text), 0);
		assert_int_equal(sd_pubkey_parse(text, strlen(text), &back), 0);
		assert_int_equal(back.kind, pub.kind);
		assert_memory_equal(back.pk, pub.pk, 32);
		assert_memory_equal(back.id, pub.id, SD_KEY_ID_BYTES);
		sd_seckey_free(k);
	}
	/* Format refuses an unknown kind and an id that does not belong to the key. */
	pub.kind = (sd_key_kind_t)9;
	assert_int_equal(sd_pubkey_format(&pub, text), SD_ERR_USAGE);
	pub.kind = SD_KEY_ROOT;
	pub.id[0] ^= 1;
	assert_int_equal(sd_pubkey_format(&pub, text), SD_ERR_USAGE);
}

#define L_ROOT "sealdrop-pubkey-v1 root 2ffdef4971a0d119 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="

static void test_pubkey_malformed(void **state)
{
	static const struct {
		const char *line;
		int code;
	} cases[] = {
	        {"", SD_ERR_FORMAT},
	        {"\n", SD_ERR_FORMAT},
	        {L_ROOT "\n\n", SD_ERR_FORMAT},
	        {L_ROOT "\nx", SD_ERR_FORMAT},
	        {L_ROOT "x\n", SD_ERR_FORMAT},
	        {L_ROOT " \n", SD_ERR_FORMAT},
	        {L_ROOT "\r\n", SD_ERR_FORMAT},
	        {L_ROOT " extra\n", SD_ERR_FORMAT},
	        {" " L_ROOT "\n", SD_ERR_FORMAT},
	        {"sealdrop-pubkey-v1  root 2ffdef4971a0d119 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=",
	         SD_ERR_FORMAT},
	        {"sealdrop-pubkey-v1\troot 2ffdef4971a0d119 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=",
	         SD_ERR_FORMAT},
	        {"sealdrop-pubkey-v1 root 2ffdef4971a0d119", SD_ERR_FORMAT},
	        {"sealdrop-pubkey-v1 root 2ffdef4971a0d119 ", SD_ERR_FORMAT},
	        {"sealdrop-pubkey-v1", SD_ERR_FORMAT},
	        {"sealdrop-pubkey-v2 root 2ffdef4971a0d119 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=",
	         SD_ERR_VERSION},
	        {"Sealdrop-pubkey-v1 root 2ffdef4971a0d119 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=",
	         SD_ERR_FORMAT},
	        {"sealdrop-pubkey root 2ffdef4971a0d119 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=", SD_ERR_FORMAT},
	        {"sealdrop-pubkey-v1 rooot 2ffdef4971a0d119 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=",
	         SD_ERR_FORMAT},
	        {"sealdrop-pubkey-v1 Root 2ffdef4971a0d119 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=",
	         SD_ERR_FORMAT},
	        {"sealdrop-pubkey-v1 2ffdef4971a0d119 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=", SD_ERR_FORMAT},
	        /* the kind is part of the id: another Ed25519 kind's label does not fit */
	        {"sealdrop-pubkey-v1 log 2ffdef4971a0d119 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=", SD_ERR_VERIFY},
	        {"sealdrop-pubkey-v1 root 2ffdef4971a0d118 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=",
	         SD_ERR_VERIFY},
	        {"sealdrop-pubkey-v1 root 2FFDEF4971A0D119 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=",
	         SD_ERR_FORMAT},
	        {"sealdrop-pubkey-v1 root 2ffdef4971a0d11 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=", SD_ERR_FORMAT},
	        {"sealdrop-pubkey-v1 root 2ffdef4971a0d1190 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=",
	         SD_ERR_FORMAT},
	        {"sealdrop-pubkey-v1 root 2ffdef4971a0d11g A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=",
	         SD_ERR_FORMAT},
	        {"sealdrop-pubkey-v1 root 2ffdef4971a0d119 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg", SD_ERR_FORMAT},
	        {"sealdrop-pubkey-v1 root 2ffdef4971a0d119 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbh=",
	         SD_ERR_FORMAT},
	        {"sealdrop-pubkey-v1 root 2ffdef4971a0d119 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMb*=",
	         SD_ERR_FORMAT},
	        {"sealdrop-pubkey-v1 root 2ffdef4971a0d119 A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=",
	         SD_ERR_FORMAT},
	        {"sealdrop-pubkey-v1 root 2ffdef4971a0d119 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJV", SD_ERR_FORMAT},
	        {"sealdrop-pubkey-v1 root 2ffdef4971a0d119 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbgA",
	         SD_ERR_FORMAT},
	        /* the real key with one bit changed: the id no longer matches */
	        {"sealdrop-pubkey-v1 root 2ffdef4971a0d119 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbk=",
	         SD_ERR_VERIFY},
	        {"sealdrop-pubkey-v1 root 2ffdef4971a0d119 B6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=",
	         SD_ERR_VERIFY},
	};
	sd_pubkey_t out;
	char longline[300];
	static const char with_nul[] = L_ROOT "\0\n";

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = sd_pubkey_parse(cases[i].line, strlen(cases[i].line), &out);
		if (got != cases[i].code)
			fail_msg("case %zu '%s': got %d (%s), expected %d", i, cases[i].line, got, sd_error_detail(),
			         cases[i].code);
	}
	assert_int_equal(sd_pubkey_parse(cases[21].line, strlen(cases[21].line), &out), SD_ERR_VERIFY);
	assert_string_equal(sd_error_detail(), "public key file's key id does not match its key");
	/* Embedded NUL, and an overlong line. */
	assert_int_equal(sd_pubkey_parse(with_nul, sizeof(with_nul) - 1, &out), SD_ERR_FORMAT);
	memset(longline, 'A', sizeof(longline));
	memcpy(longline, L_ROOT, strlen(L_ROOT));
	assert_int_equal(sd_pubkey_parse(longline, sizeof(longline), &out), SD_ERR_FORMAT);
	assert_int_equal(sd_pubkey_parse(NULL, 0, &out), SD_ERR_USAGE);
	/* The base: the same line unaltered parses. */
	assert_int_equal(sd_pubkey_parse(L_ROOT "\n", strlen(L_ROOT) + 1, &out), 0);
}

static void test_pubkey_every_truncation_refused(void **state)
{
	const char *line = kat_line[SD_KEY_AGENCY];
	size_t len = strlen(line);
	sd_pubkey_t out;

	(void)state;
	for (size_t n = 0; n < len - 1; n++)
		assert_true(sd_pubkey_parse(line, n, &out) < 0);
	assert_int_equal(sd_pubkey_parse(line, len - 1, &out), 0);
	assert_int_equal(sd_pubkey_parse(line, len, &out), 0);
	assert_int_equal(out.kind, SD_KEY_AGENCY);
}

static void test_pubkey_write_read(void **state)
{
	char path[128], other[128];
	struct stat st;
	sd_seckey_t *k = fixed_key(SD_KEY_LOG), *k2 = fixed_key(SD_KEY_ROOT);
	sd_pubkey_t pub, pub2, back;
	mode_t old = umask(022);

	(void)state;
	sd_seckey_public(k, &pub);
	sd_seckey_public(k2, &pub2);
	snprintf(path, sizeof(path), "%s/log.pub", tmpdir);
	assert_int_equal(sd_pubkey_write(path, &pub), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(st.st_size, strlen(kat_line[SD_KEY_LOG]));
	assert_int_equal(sd_pubkey_write(path, &pub2), SD_ERR_EXISTS);
	assert_int_equal(sd_pubkey_read(path, &back), 0);
	assert_int_equal(back.kind, SD_KEY_LOG);
	assert_memory_equal(back.pk, pub.pk, 32);
	snprintf(other, sizeof(other), "%s/bad.pub", tmpdir);
	write_raw(other, "sealdrop-pubkey-v1 log\n", 23);
	assert_int_equal(sd_pubkey_read(other, &back), SD_ERR_FORMAT);
	assert_detail_has(other);
	snprintf(other, sizeof(other), "%s/missing.pub", tmpdir);
	assert_int_equal(sd_pubkey_read(other, &back), SD_ERR_NOENT);
	umask(old);
	sd_seckey_free(k);
	sd_seckey_free(k2);
}

static void test_pubkey_from_base64(void **state)
{
	sd_pubkey_t out;
	uint8_t want[32];
	char hex[SD_KEY_ID_HEX_BYTES];

	(void)state;
	assert_int_equal(sd_pubkey_from_base64(SD_KEY_INTAKE, "j0DFrbaPJWJK5bIU6nZ6bslNgp09e14a0bpvPiE4KF8=", &out), 0);
	unit_hex(x_pk_hex, want, 32);
	assert_int_equal(out.kind, SD_KEY_INTAKE);
	assert_memory_equal(out.pk, want, 32);
	sd_key_id_hex(out.id, hex);
	assert_string_equal(hex, kat_id[SD_KEY_INTAKE]);
	/* 31 bytes, 33 bytes, unpadded, non-canonical, empty, wrong kind. */
	assert_int_equal(sd_pubkey_from_base64(SD_KEY_INTAKE, "j0DFrbaPJWJK5bIU6nZ6bslNgp09e14a0bpvPiE4KA==", &out),
	                 SD_ERR_FORMAT);
	assert_int_equal(sd_pubkey_from_base64(SD_KEY_INTAKE, "j0DFrbaPJWJK5bIU6nZ6bslNgp09e14a0bpvPiE4KF8A", &out),
	                 SD_ERR_FORMAT);
	assert_int_equal(sd_pubkey_from_base64(SD_KEY_INTAKE, "j0DFrbaPJWJK5bIU6nZ6bslNgp09e14a0bpvPiE4KF8", &out),
	                 SD_ERR_FORMAT);
	assert_int_equal(sd_pubkey_from_base64(SD_KEY_INTAKE, "j0DFrbaPJWJK5bIU6nZ6bslNgp09e14a0bpvPiE4KF9=", &out),
	                 SD_ERR_FORMAT);
	assert_int_equal(sd_pubkey_from_base64(SD_KEY_INTAKE, "", &out), SD_ERR_FORMAT);
	assert_int_equal(sd_pubkey_from_base64(SD_KEY_INTAKE, NULL, &out), SD_ERR_FORMAT);
	assert_int_equal(sd_pubkey_from_base64((sd_key_kind_t)0, "j0DFrbaPJWJK5bIU6nZ6bslNgp09e14a0bpvPiE4KF8=", &out),
	                 SD_ERR_USAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_kind_names),
	        cmocka_unit_test(test_kdf_limits),
	        cmocka_unit_test(test_key_id_vectors),
	        cmocka_unit_test(test_seckey_generate),
	        cmocka_unit_test(test_keyfile_vectors),
	        cmocka_unit_test(test_keyfile_decode_roundtrip),
	        cmocka_unit_test(test_keyfile_random_salt_nonce),
	        cmocka_unit_test(test_keyfile_wrong_passphrase),
	        cmocka_unit_test(test_keyfile_every_byte_flip_refused),
	        cmocka_unit_test(test_keyfile_truncation_and_extension),
	        cmocka_unit_test(test_keyfile_bad_header_fields),
	        cmocka_unit_test(test_keyfile_insane_limits_refused),
	        cmocka_unit_test(test_keyfile_encode_refusals),
	        cmocka_unit_test(test_keyfile_moderate_roundtrip),
	        cmocka_unit_test_setup_teardown(test_keyfile_write_read, make_tmpdir, remove_tmpdir),
	        cmocka_unit_test(test_pubkey_vectors),
	        cmocka_unit_test(test_pubkey_roundtrip_generated),
	        cmocka_unit_test(test_pubkey_malformed),
	        cmocka_unit_test(test_pubkey_every_truncation_refused),
	        cmocka_unit_test_setup_teardown(test_pubkey_write_read, make_tmpdir, remove_tmpdir),
	        cmocka_unit_test(test_pubkey_from_base64),
	};
	return cmocka_run_group_tests(tests, unit_setup, NULL);
}
