/*
 * test_keyshare.c — identity key share files (crypto/keyshare.c): the known-answer file
 * of docs/FORMAT.md ("Identity key shares", recomputed by tests/vectors/shamir.py), the
 * round trip from a key to N files and back from every K of them, and each refusal a key
 * ceremony can meet. Every file uses the minimum Argon2id limits.
 */
#include "unit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sealdrop/keyshare.h"
#include "sealdrop/shamir.h"

#define PASS    "correct horse battery staple"
#define PASSLEN (sizeof(PASS) - 1)

/* Share 2 of the 3/5 split of identity secret 0x00..0x1f with coefficients 0x20..0x5f,
 * PASS, salt 0xa0..0xaf, nonce 0xb0..0xc7, minimum limits. */
static const char kat_share2_y[] = "5b5c55524740494e63646d6a7f7871762b2c25223730393e13141d1a0f080106";
static const char kat_share2_file[] = "53444b53484152450103020101000000000000000020000000000000a0a1a2a3"
                                      "a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3"
                                      "c4c5c6c702030500b1e96bbbfd1f48438f40c5adb68f25624ae5b214ea767a6e"
                                      "c94d829d3d7b5e1ad1ba6f3e2138285f01f7ee7b69fb760bd37ef1e119b586d6"
                                      "d97457ae16a6baa4989a0dcb2fb871c2daab10ccfdba9c75683bbca965c4023a";

static char tmpdir[64];

static void assert_detail_has(const char *needle)
{
	if (strstr(sd_error_detail(), needle) == NULL)
		fail_msg("error detail '%s' does not contain '%s'", sd_error_detail(), needle);
}

static void fixed_salt_nonce(uint8_t salt[16], uint8_t nonce[24])
{
	for (int i = 0; i < 16; i++)
		salt[i] = (uint8_t)(0xa0 + i);
	for (int i = 0; i < 24; i++)
		nonce[i] = (uint8_t)(0xb0 + i);
}

/* The known-answer share, in secret memory. */
static sd_keyshare_t *kat_share(void)
{
	sd_seckey_t *k = unit_key_from_byte(SD_KEY_IDENTITY, 0);
	sd_keyshare_t *s = sd_secret_alloc(sizeof(*s));

	assert_non_null(s);
	s->info = (sd_keyshare_info_t){.x = 2, .k = 3, .n = 5, .limits = sd_kdf_minimum()};
	sd_seckey_public(k, &s->info.key);
	s->share.x = 2;
	unit_hex(kat_share2_y, s->share.y, sizeof(s->share.y));
	sd_seckey_free(k);
	return s;
}

static void encode_min(const sd_keyshare_t *s, const char *pass, uint8_t out[SD_KEYSHARE_BYTES])
{
	sd_kdf_limits_t min = sd_kdf_minimum();

	assert_int_equal(sd_keyshare_encode(s, pass, strlen(pass), &min, NULL, NULL, out), 0);
}

/* Decodes n encoded shares (all with PASS). */
static void decode_all(uint8_t files[][SD_KEYSHARE_BYTES], unsigned n, sd_keyshare_t **out)
{
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(sd_keyshare_decode(files[i], SD_KEYSHARE_BYTES, PASS, PASSLEN, &out[i]), 0);
}

/* A fresh identity key split k of n, each share encoded with PASS. */
static sd_seckey_t *split_encoded(unsigned k, unsigned n, uint8_t files[][SD_KEYSHARE_BYTES])
{
	sd_seckey_t *key = NULL;
	sd_keyshare_t *sh = NULL;

	assert_int_equal(sd_seckey_generate(SD_KEY_IDENTITY, &key), 0);
	assert_int_equal(sd_keyshare_split(key, k, n, &sh), 0);
	for (unsigned i = 0; i < n; i++)
		encode_min(&sh[i], PASS, files[i]);
	sd_keyshare_free(sh);
	return key;
}

static void free_all(sd_keyshare_t **s, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		sd_keyshare_free(s[i]);
}

/* --- the format ------------------------------------------------------------------- */

static void test_vector(void **state)
{
	uint8_t salt[16], nonce[24], got[SD_KEYSHARE_BYTES], want[SD_KEYSHARE_BYTES];
	sd_kdf_limits_t min = sd_kdf_minimum();
	sd_keyshare_t *s = kat_share(), *back = NULL;
	sd_keyshare_info_t info;

	(void)state;
	fixed_salt_nonce(salt, nonce);
	assert_int_equal(sd_keyshare_encode(s, PASS, PASSLEN, &min, salt, nonce, got), 0);
	unit_hex(kat_share2_file, want, sizeof(want));
	assert_memory_equal(got, want, sizeof(want));

	assert_int_equal(sd_keyshare_peek(want, sizeof(want), &info), 0);
	assert_int_equal(info.x, 2);
	assert_int_equal(info.k, 3);
	assert_int_equal(info.n, 5);
	assert_int_equal(info.key.kind, SD_KEY_IDENTITY);
	assert_memory_equal(info.key.pk, s->info.key.pk, SD_KEY_PUBLIC_BYTES);
	assert_memory_equal(info.key.id, s->info.key.id, SD_KEY_ID_BYTES);
	assert_true(info.limits.opslimit == min.opslimit && info.limits.memlimit == min.memlimit);

	assert_int_equal(sd_keyshare_decode(want, sizeof(want), PASS, PASSLEN, &back), 0);
	assert_int_equal(back->share.x, 2);
	assert_memory_equal(back->share.y, s->share.y, SD_SHAMIR_SECRET_BYTES);
	assert_memory_equal(&back->info, &info, sizeof(info));
	sd_keyshare_free(back);
	sd_keyshare_free(s);
}

static void test_every_truncation_refused(void **state)
{
	uint8_t file[SD_KEYSHARE_BYTES + 1];
	sd_keyshare_t *s = kat_share(), *back = NULL;
	sd_keyshare_info_t info;

	(void)state;
	encode_min(s, PASS, file);
	for (size_t len = 0; len < SD_KEYSHARE_BYTES; len++) {
		assert_int_equal(sd_keyshare_peek(file, len, &info), SD_ERR_TRUNCATED);
		assert_int_equal(sd_keyshare_decode(file, len, PASS, PASSLEN, &back), SD_ERR_TRUNCATED);
		assert_null(back);
	}
	assert_detail_has("key share file is truncated: 159 bytes, expected 160");
	file[SD_KEYSHARE_BYTES] = 0;
	assert_int_equal(sd_keyshare_decode(file, sizeof(file), PASS, PASSLEN, &back), SD_ERR_FORMAT);
	assert_detail_has("trailing data");
	assert_null(back);
	sd_keyshare_free(s);
}

/* Every single-bit change anywhere in the file is refused, by the header checks or the
 * AEAD, and never yields a share. */
static void test_every_bit_flip_refused(void **state)
{
	uint8_t file[SD_KEYSHARE_BYTES];
	sd_keyshare_t *s = kat_share(), *back = NULL;
	int aead = 0;

	(void)state;
	encode_min(s, PASS, file);
	for (size_t i = 0; i < SD_KEYSHARE_BYTES; i++)
		for (int bit = 0; bit < 8; bit += 3) {
			int r;
			file[i] ^= (uint8_t)(1u << bit);
			r = sd_keyshare_decode(file, sizeof(file), PASS, PASSLEN, &back);
			file[i] ^= (uint8_t)(1u << bit);
			if (r == 0)
				fail_msg("flipping bit %d of byte %zu was not noticed", bit, i);
			assert_null(back);
			aead += r == SD_ERR_PASSPHRASE;
		}
	assert_true(aead > 48 * 3); /* at least the whole ciphertext went to the AEAD */
	sd_keyshare_free(s);
}

static void test_header_fields_refused(void **state)
{
	static const struct {
		size_t off;
		uint8_t val;
		int err;
		const char *detail;
	} cases[] = {
	        {0, 'X', SD_ERR_FORMAT, "not a sealdrop key share file"},
	        {8, 2, SD_ERR_VERSION, "key share file version 2 is not supported"},
	        {9, 2, SD_ERR_FORMAT, "only identity keys are split"},
	        {9, 9, SD_ERR_FORMAT, "unknown key kind 9"},
	        {10, 1, SD_ERR_FORMAT, "algorithm 1 does not match its kind"},
	        {11, 2, SD_ERR_FORMAT, "unknown key derivation 2"},
	        {12, 9, SD_ERR_FORMAT, "unreasonable Argon2id limits"},
	        {68, 0, SD_ERR_FORMAT, "index 0 is not within 1..5"},
	        {68, 6, SD_ERR_FORMAT, "index 6 is not within 1..5"},
	        {69, 1, SD_ERR_FORMAT, "threshold 1 does not fit its 5 shares"},
	        {69, 6, SD_ERR_FORMAT, "threshold 6 does not fit its 5 shares"},
	        {70, 2, SD_ERR_FORMAT, "threshold 3 does not fit its 2 shares"},
	        {71, 1, SD_ERR_FORMAT, "reserved byte is 1"},
	        {72, 0, SD_ERR_FORMAT, "key id does not match its public key"},
	        {80, 0, SD_ERR_FORMAT, "key id does not match its public key"},
	};
	uint8_t file[SD_KEYSHARE_BYTES];
	sd_keyshare_t *s = kat_share(), *back = NULL;
	sd_keyshare_info_t info;

	(void)state;
	encode_min(s, PASS, file);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t old = file[cases[i].off];
		file[cases[i].off] = cases[i].val;
		if (sd_keyshare_peek(file, sizeof(file), &info) != cases[i].err ||
		    strstr(sd_error_detail(), cases[i].detail) == NULL)
			fail_msg("byte %zu = %u: got '%s'", cases[i].off, cases[i].val, sd_error_detail());
		assert_int_equal(sd_keyshare_decode(file, sizeof(file), PASS, PASSLEN, &back), cases[i].err);
		assert_null(back);
		file[cases[i].off] = old;
	}
	assert_int_equal(sd_keyshare_peek(file, sizeof(file), &info), 0);
	sd_keyshare_free(s);
}

static void test_key_file_is_not_a_share(void **state)
{
	uint8_t keyfile[SD_KEYFILE_BYTES], share[SD_KEYSHARE_BYTES];
	sd_kdf_limits_t min = sd_kdf_minimum();
	sd_seckey_t *k = unit_key_from_byte(SD_KEY_IDENTITY, 0), *kb = NULL;
	sd_keyshare_t *s = kat_share(), *back = NULL;

	(void)state;
	assert_int_equal(sd_keyfile_encode(k, PASS, PASSLEN, &min, NULL, NULL, keyfile), 0);
	assert_int_equal(sd_keyshare_decode(keyfile, sizeof(keyfile), PASS, PASSLEN, &back), SD_ERR_TRUNCATED);
	encode_min(s, PASS, share);
	assert_int_equal(sd_keyfile_decode(share, sizeof(share), PASS, PASSLEN, &kb), SD_ERR_FORMAT);
	memcpy(share, "SDSECKEY", 8); /* right length aside, the magic tells them apart */
	assert_int_equal(sd_keyshare_decode(share, sizeof(share), PASS, PASSLEN, &back), SD_ERR_FORMAT);
	assert_detail_has("not a sealdrop key share file");
	sd_seckey_free(k);
	sd_keyshare_free(s);
}

static void test_wrong_passphrase(void **state)
{
	uint8_t file[SD_KEYSHARE_BYTES];
	sd_keyshare_t *s = kat_share(), *back = NULL;

	(void)state;
	encode_min(s, PASS, file);
	assert_int_equal(sd_keyshare_decode(file, sizeof(file), "correct horse battery stapl", PASSLEN - 1, &back),
	                 SD_ERR_PASSPHRASE);
	assert_string_equal(sd_error_detail(), "wrong passphrase, or the key share file was altered");
	assert_null(back);
	assert_int_equal(sd_keyshare_decode(file, sizeof(file), "", 0, &back), SD_ERR_PASSPHRASE);
	assert_null(back);
	assert_int_equal(sd_keyshare_encode(s, "", 0, NULL, NULL, NULL, file), SD_ERR_USAGE);
	assert_detail_has("an empty passphrase cannot protect a key share file");
	sd_keyshare_free(s);
}

/* --- split and combine ------------------------------------------------------------ */

static void test_split_refusals(void **state)
{
	sd_seckey_t *id = unit_key_from_byte(SD_KEY_IDENTITY, 0), *intake = unit_key_from_byte(SD_KEY_INTAKE, 0);
	sd_keyshare_t *sh = NULL;

	(void)state;
	assert_int_equal(sd_keyshare_split(intake, 2, 3, &sh), SD_ERR_USAGE);
	assert_detail_has("only identity keys");
	assert_int_equal(sd_keyshare_split(id, 1, 3, &sh), SD_ERR_USAGE);
	assert_int_equal(sd_keyshare_split(id, 4, 3, &sh), SD_ERR_USAGE);
	assert_int_equal(sd_keyshare_split(id, 2, 256, &sh), SD_ERR_USAGE);
	assert_int_equal(sd_keyshare_split(id, 0, 0, &sh), SD_ERR_USAGE);
	assert_null(sh);
	assert_int_equal(sd_keyshare_split(id, 2, 255, &sh), 0);
	assert_int_equal(sh[254].info.x, 255);
	assert_int_equal(sh[254].info.n, 255);
	sd_keyshare_free(sh);
	sd_seckey_free(id);
	sd_seckey_free(intake);
}

static void test_roundtrip_every_subset(void **state)
{
	uint8_t files[5][SD_KEYSHARE_BYTES];
	sd_keyshare_t *s[5];
	sd_seckey_t *key = split_encoded(3, 5, files);
	int rebuilt = 0;

	(void)state;
	decode_all(files, 5, s);
	for (unsigned mask = 0; mask < 32; mask++) {
		const sd_keyshare_t *set[5];
		sd_seckey_t *back = NULL;
		size_t c = 0;

		for (unsigned i = 0; i < 5; i++)
			if (mask & (1u << i))
				set[c++] = s[i];
		if (c < 3) {
			assert_int_equal(sd_keyshare_combine(set, c, &back), SD_ERR_USAGE);
			assert_null(back);
			continue;
		}
		assert_int_equal(sd_keyshare_combine(set, c, &back), 0);
		assert_int_equal(back->kind, SD_KEY_IDENTITY);
		assert_memory_equal(back->pk, key->pk, SD_KEY_PUBLIC_BYTES);
		assert_memory_equal(back->sk, key->sk, SD_KEY_SECRET_BYTES);
		assert_memory_equal(back->id, key->id, SD_KEY_ID_BYTES);
		sd_seckey_free(back);
		rebuilt++;
	}
	assert_int_equal(rebuilt, 16);
	free_all(s, 5);
	sd_seckey_free(key);
}

static void test_combine_too_few(void **state)
{
	uint8_t files[5][SD_KEYSHARE_BYTES];
	sd_keyshare_t *s[5];
	sd_seckey_t *key = split_encoded(3, 5, files), *back = NULL;
	const sd_keyshare_t *set[2];

	(void)state;
	decode_all(files, 5, s);
	set[0] = s[4];
	set[1] = s[0];
	assert_int_equal(sd_keyshare_combine(set, 2, &back), SD_ERR_USAGE);
	assert_string_equal(sd_error_detail(), "2 shares given, this key needs 3");
	assert_int_equal(sd_keyshare_combine(set, 1, &back), SD_ERR_USAGE);
	assert_string_equal(sd_error_detail(), "1 share given, this key needs 3");
	assert_int_equal(sd_keyshare_combine(set, 0, &back), SD_ERR_USAGE);
	assert_null(back);
	free_all(s, 5);
	sd_seckey_free(key);
}

static void test_combine_different_keys(void **state)
{
	uint8_t fa[3][SD_KEYSHARE_BYTES], fb[3][SD_KEYSHARE_BYTES], fc[4][SD_KEYSHARE_BYTES];
	sd_keyshare_t *a[3], *b[3], *c[4];
	sd_seckey_t *ka = split_encoded(2, 3, fa), *kb = split_encoded(2, 3, fb), *back = NULL;
	const sd_keyshare_t *set[3];
	char ida[SD_KEY_ID_HEX_BYTES], want[128];

	(void)state;
	decode_all(fa, 3, a);
	decode_all(fb, 3, b);
	set[0] = a[0];
	set[1] = b[1];
	assert_int_equal(sd_keyshare_combine(set, 2, &back), SD_ERR_WRONG_KEY);
	assert_detail_has("key shares of different keys: share 1 is of key ");
	assert_null(back);

	/* The same key split twice, 2 of 3 and 3 of 4: refused from the headers. */
	sd_seckey_free(kb);
	{
		sd_keyshare_t *sh = NULL;
		assert_int_equal(sd_keyshare_split(ka, 3, 4, &sh), 0);
		for (unsigned i = 0; i < 4; i++)
			encode_min(&sh[i], PASS, fc[i]);
		sd_keyshare_free(sh);
	}
	decode_all(fc, 4, c);
	set[0] = a[0];
	set[1] = c[1];
	set[2] = c[2];
	assert_int_equal(sd_keyshare_combine(set, 3, &back), SD_ERR_WRONG_KEY);
	sd_key_id_hex(ka->id, ida);
	snprintf(want, sizeof(want), "key shares of two different splits of key %s: 2 of 3, and 3 of 4", ida);
	assert_string_equal(sd_error_detail(), want);
	assert_null(back);
	free_all(a, 3);
	free_all(b, 3);
	free_all(c, 4);
	sd_seckey_free(ka);
}

/* Two splits of one key with the same K and N look alike in the clear: only the rebuilt
 * public key tells them apart. */
static void test_combine_two_splits_same_shape(void **state)
{
	uint8_t fa[3][SD_KEYSHARE_BYTES], fb[3][SD_KEYSHARE_BYTES];
	sd_keyshare_t *a[3], *b[3], *sh = NULL;
	sd_seckey_t *key = split_encoded(2, 3, fa), *back = NULL;
	const sd_keyshare_t *set[2];

	(void)state;
	assert_int_equal(sd_keyshare_split(key, 2, 3, &sh), 0);
	for (unsigned i = 0; i < 3; i++)
		encode_min(&sh[i], PASS, fb[i]);
	sd_keyshare_free(sh);
	decode_all(fa, 3, a);
	decode_all(fb, 3, b);
	set[0] = a[0];
	set[1] = b[1];
	assert_int_equal(sd_keyshare_combine(set, 2, &back), SD_ERR_VERIFY);
	assert_detail_has("the shares do not rebuild identity key ");
	assert_null(back);
	set[1] = a[2];
	assert_int_equal(sd_keyshare_combine(set, 2, &back), 0);
	sd_seckey_free(back);
	free_all(a, 3);
	free_all(b, 3);
	sd_seckey_free(key);
}

static void test_combine_duplicate_index(void **state)
{
	uint8_t files[3][SD_KEYSHARE_BYTES];
	sd_keyshare_t *s[3], *again = NULL;
	sd_seckey_t *key = split_encoded(2, 3, files), *back = NULL;
	const sd_keyshare_t *set[3];

	(void)state;
	decode_all(files, 3, s);
	assert_int_equal(sd_keyshare_decode(files[1], SD_KEYSHARE_BYTES, PASS, PASSLEN, &again), 0);
	set[0] = s[1];
	set[1] = again; /* the same file, loaded twice */
	assert_int_equal(sd_keyshare_combine(set, 2, &back), SD_ERR_USAGE);
	assert_string_equal(sd_error_detail(), "share 2 is given twice");
	set[1] = s[0];
	set[2] = s[1];
	assert_int_equal(sd_keyshare_combine(set, 3, &back), SD_ERR_USAGE);
	assert_null(back);
	sd_keyshare_free(again);
	free_all(s, 3);
	sd_seckey_free(key);
}

/* A share whose value was changed before it was sealed (the file itself is sound, so
 * the AEAD cannot notice): the rebuilt key is not the named one. */
static void test_combine_damaged_share(void **state)
{
	uint8_t files[3][SD_KEYSHARE_BYTES];
	sd_keyshare_t *s[3], *sh = NULL;
	sd_seckey_t *key = NULL, *back = NULL;
	const sd_keyshare_t *set[2];

	(void)state;
	assert_int_equal(sd_seckey_generate(SD_KEY_IDENTITY, &key), 0);
	assert_int_equal(sd_keyshare_split(key, 2, 3, &sh), 0);
	sh[2].share.y[31] ^= 0x40;
	for (unsigned i = 0; i < 3; i++)
		encode_min(&sh[i], PASS, files[i]);
	sd_keyshare_free(sh);
	decode_all(files, 3, s);
	set[0] = s[0];
	set[1] = s[2];
	assert_int_equal(sd_keyshare_combine(set, 2, &back), SD_ERR_VERIFY);
	assert_null(back);
	set[1] = s[1];
	assert_int_equal(sd_keyshare_combine(set, 2, &back), 0);
	assert_memory_equal(back->sk, key->sk, SD_KEY_SECRET_BYTES);
	sd_seckey_free(back);

	/* A damaged file: the AEAD refuses it before any combination. */
	files[1][SD_KEYSHARE_BYTES - 20] ^= 1;
	sd_keyshare_free(s[1]);
	assert_int_equal(sd_keyshare_decode(files[1], SD_KEYSHARE_BYTES, PASS, PASSLEN, &s[1]), SD_ERR_PASSPHRASE);
	assert_string_equal(sd_error_detail(), "wrong passphrase, or the key share file was altered");
	assert_null(s[1]);
	free_all(s, 3);
	sd_seckey_free(key);
}

static void test_check_set_from_headers(void **state)
{
	uint8_t files[3][SD_KEYSHARE_BYTES];
	sd_keyshare_info_t info[3];
	const sd_keyshare_info_t *set[3];
	sd_seckey_t *key = split_encoded(3, 3, files);

	(void)state;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(sd_keyshare_peek(files[i], SD_KEYSHARE_BYTES, &info[i]), 0);
		set[i] = &info[i];
	}
	assert_int_equal(sd_keyshare_check_set(set, 3), 0);
	assert_int_equal(sd_keyshare_check_set(set, 2), SD_ERR_USAGE);
	assert_string_equal(sd_error_detail(), "2 shares given, this key needs 3");
	set[2] = &info[0];
	assert_int_equal(sd_keyshare_check_set(set, 3), SD_ERR_USAGE);
	assert_int_equal(sd_keyshare_check_set(NULL, 0), SD_ERR_USAGE);
	sd_seckey_free(key);
}

/* --- files ------------------------------------------------------------------------- */

static int make_tmpdir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sd-test-keyshare-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
	(void)state;
	return unit_rm_tree(tmpdir) == 0 ? 0 : -1;
}

static void test_write_read(void **state)
{
	sd_kdf_limits_t min = sd_kdf_minimum();
	sd_seckey_t *key = NULL, *back = NULL;
	sd_keyshare_t *sh = NULL, *s[2] = {NULL, NULL};
	sd_keyshare_info_t info;
	char path[2][128], missing[128];
	struct stat st;

	(void)state;
	assert_int_equal(sd_seckey_generate(SD_KEY_IDENTITY, &key), 0);
	assert_int_equal(sd_keyshare_split(key, 2, 2, &sh), 0);
	for (int i = 0; i < 2; i++) {
		snprintf(path[i], sizeof(path[i]), "%s/id.share%d", tmpdir, i + 1);
		assert_int_equal(sd_keyshare_write(path[i], &sh[i], PASS, PASSLEN, &min), 0);
		assert_int_equal(stat(path[i], &st), 0);
		assert_int_equal(st.st_mode & 07777, 0600);
		assert_int_equal(st.st_size, SD_KEYSHARE_BYTES);
	}
	assert_int_equal(sd_keyshare_write(path[0], &sh[0], PASS, PASSLEN, &min), SD_ERR_EXISTS);
	assert_int_equal(sd_keyshare_read_info(path[1], &info), 0);
	assert_int_equal(info.x, 2);
	assert_memory_equal(info.key.id, key->id, SD_KEY_ID_BYTES);
	assert_int_equal(sd_keyshare_read(path[0], "nope", 4, &s[0]), SD_ERR_PASSPHRASE);
	assert_detail_has(path[0]);
	assert_int_equal(sd_keyshare_read(path[0], PASS, PASSLEN, &s[0]), 0);
	assert_int_equal(sd_keyshare_read(path[1], PASS, PASSLEN, &s[1]), 0);
	assert_int_equal(sd_keyshare_combine((const sd_keyshare_t *const *)s, 2, &back), 0);
	assert_memory_equal(back->sk, key->sk, SD_KEY_SECRET_BYTES);
	snprintf(missing, sizeof(missing), "%s/absent", tmpdir);
	assert_int_equal(sd_keyshare_read_info(missing, &info), SD_ERR_NOENT);
	sd_seckey_free(back);
	free_all(s, 2);
	sd_keyshare_free(sh);
	sd_seckey_free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_vector),
	        cmocka_unit_test(test_every_truncation_refused),
	        cmocka_unit_test(test_every_bit_flip_refused),
	        cmocka_unit_test(test_header_fields_refused),
	        cmocka_unit_test(test_key_file_is_not_a_share),
	        cmocka_unit_test(test_wrong_passphrase),
	        cmocka_unit_test(test_split_refusals),
	        cmocka_unit_test(test_roundtrip_every_subset),
	        cmocka_unit_test(test_combine_too_few),
	        cmocka_unit_test(test_combine_different_keys),
	        cmocka_unit_test(test_combine_two_splits_same_shape),
	        cmocka_unit_test(test_combine_duplicate_index),
	        cmocka_unit_test(test_combine_damaged_share),
	        cmocka_unit_test(test_check_set_from_headers),
	        cmocka_unit_test_setup_teardown(test_write_read, make_tmpdir, remove_tmpdir),
	};
	return cmocka_run_group_tests(tests, unit_setup, NULL);
}
