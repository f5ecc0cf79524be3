/*
 * test_identity.c — opening the identity record (include/sealdrop/identity.h): the
 * whole-package vector of docs/FORMAT.md (tests/vectors/package-v1.sdx, identity key
 * 40..5f, the vector codename's s_w) opens to exactly the identity text test_vectors.c
 * sealed; a freshly sealed package opens and validates to its canonical record, also with
 * an identity key rebuilt from 2 of 3 shares; and every way it must not open: s_w of
 * zeros, s_c of zeros, another identity key, an intake key, a tampered or truncated
 * blob, a blob moved from another package, a bundle's withheld identity, and a
 * plaintext that is not an identity record.
 */
#include "unit.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include "sealdrop/consent.h"
#include "sealdrop/envelope.h"
#include "sealdrop/identity.h"
#include "sealdrop/keyshare.h"

#define VEC_PACKAGE  "tests/vectors/package-v1.sdx"
#define VEC_CODENAME "abacus abdomen abdominal abide abiding ability ablaze able"
/* tests/unit/test_vectors.c's identity, as sealed in the vector */
static const char vec_identity[] = "{\n  \"name\": \"Test Person\",\n  \"rrn\": \"850314-2123456\"\n}\n";
static const char fresh_identity[] = "{\n  \"name\": \"Hong Gildong\",\n  \"rrn\": \"850314-2123456\",\n"
                                     "  \"address\": \"Seoul\",\n  \"phone\": \"010-1234-5678\"\n}\n";
static const char report[] = "{\n  \"accused_organization\": \"Example Corp\"\n}\n";

typedef struct {
	char dir[64];
	sd_header_t *h, *h2; /* the vector; a fresh package of the same codename */
	uint8_t blob[SD_IDENTITY_BLOB_BYTES], blob2[SD_IDENTITY_BLOB_BYTES];
	sd_codename_keys_t *wb;
	sd_seckey_t *intake, *identity, *stranger;
	uint8_t s_w[32], s_w2[32];
} fx_t;

static fx_t fx;

static sd_header_t *read_package(const char *path, uint8_t blob[SD_IDENTITY_BLOB_BYTES])
{
	sd_header_t *h = NULL;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(sd_header_read(fd, &h), 0);
	assert_int_equal(pread(fd, blob, SD_IDENTITY_BLOB_BYTES, (off_t)h->blobs[1].offset),
	                 (ssize_t)SD_IDENTITY_BLOB_BYTES);
	close(fd);
	return h;
}

static void seal_fresh(void)
{
	char path[128];
	sd_directory_t d;
	sd_seal_params_t p = {.dir = &d,
	                      .wb = fx.wb,
	                      .report = report,
	                      .report_len = sizeof(report) - 1,
	                      .identity = fresh_identity,
	                      .identity_len = sizeof(fresh_identity) - 1,
	                      .created = {2026, 11, 23}};

	memset(&d, 0, sizeof(d));
	snprintf(d.deployment, sizeof(d.deployment), "demo");
	d.version = 1;
	sd_seckey_public(fx.intake, &d.intake);
	sd_seckey_public(fx.identity, &d.identity);
	snprintf(path, sizeof(path), "%s/fresh.sdx", fx.dir);
	assert_int_equal(sd_envelope_seal(&p, path), 0);
	fx.h2 = read_package(path, fx.blob2);
}

static int setup(void **state)
{
	sd_kdf_limits_t lim = sd_kdf_minimum();

	if (unit_setup(state) != 0)
		return -1;
	snprintf(fx.dir, sizeof(fx.dir), "/tmp/sd-identity-XXXXXX");
	if (mkdtemp(fx.dir) == NULL)
		return -1;
	fx.intake = unit_key_from_byte(SD_KEY_INTAKE, 0x20);
	fx.identity = unit_key_from_byte(SD_KEY_IDENTITY, 0x40);
	fx.stranger = unit_key_from_byte(SD_KEY_IDENTITY, 0x90);
	assert_int_equal(sd_codename_derive(VEC_CODENAME, "demo", &lim, &fx.wb), 0);
	fx.h = read_package(VEC_PACKAGE, fx.blob);
	assert_int_equal(sd_consent_unwrap_share(fx.h, fx.wb, fx.s_w), 0);
	seal_fresh();
	assert_int_equal(sd_consent_unwrap_share(fx.h2, fx.wb, fx.s_w2), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sd_header_free(fx.h);
	sd_header_free(fx.h2);
	sd_codename_keys_free(fx.wb);
	sd_seckey_free(fx.intake);
	sd_seckey_free(fx.identity);
	sd_seckey_free(fx.stranger);
	unit_rm_tree(fx.dir);
	return 0;
}

static void assert_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(p[i], 0);
}

/* The vector opens to exactly the text sealed; the record parser then refuses it (the
 * vector predates the required address), naming the field and no value. */
static void test_vector_opens(void **state)
{
	uint8_t s_c[32];
	char *text = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(sd_identity_open_share(fx.h, fx.identity, s_c), 0);
	assert_int_equal(sd_identity_decrypt(fx.h, fx.blob, sizeof(fx.blob), s_c, fx.s_w, &text, &len), 0);
	assert_int_equal(len, sizeof(vec_identity) - 1);
	assert_string_equal(text, vec_identity);
	sd_secret_free(text);
	assert_int_equal(sd_identity_open(fx.h, fx.blob, sizeof(fx.blob), s_c, fx.s_w, &text, &len), SD_ERR_FORMAT);
	assert_null(text);
	assert_non_null(strstr(sd_error_detail(), "address"));
	assert_null(strstr(sd_error_detail(), "Test Person"));
	assert_null(strstr(sd_error_detail(), "2123456"));
}

/* Without s_w (zeros, or the other package's), or without s_c, nothing opens. */
static void test_one_share_is_not_enough(void **state)
{
	uint8_t s_c[32], zeros[32] = {0};
	char *text = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(sd_identity_open_share(fx.h, fx.identity, s_c), 0);
	assert_int_equal(sd_identity_decrypt(fx.h, fx.blob, sizeof(fx.blob), s_c, zeros, &text, &len), SD_ERR_VERIFY);
	assert_null(text);
	assert_int_equal(len, 0);
	assert_int_equal(sd_identity_decrypt(fx.h, fx.blob, sizeof(fx.blob), s_c, fx.s_w2, &text, &len), SD_ERR_VERIFY);
	assert_int_equal(sd_identity_decrypt(fx.h, fx.blob, sizeof(fx.blob), zeros, fx.s_w, &text, &len),
	                 SD_ERR_VERIFY);
	assert_int_equal(sd_identity_decrypt(fx.h, fx.blob, sizeof(fx.blob), fx.s_w, s_c, &text, &len),
	                 SD_ERR_VERIFY); /* the shares swapped */
	assert_null(text);
}

static void test_open_share_refusals(void **state)
{
	uint8_t s_c[32];
	sd_header_t copy;

	(void)state;
	memset(s_c, 0xAA, sizeof(s_c));
	assert_int_equal(sd_identity_open_share(fx.h, fx.stranger, s_c), SD_ERR_WRONG_KEY);
	assert_non_null(strstr(sd_error_detail(), "ce9391590d7a7c13"));
	assert_zero(s_c, sizeof(s_c));
	assert_int_equal(sd_identity_open_share(fx.h, fx.intake, s_c), SD_ERR_USAGE);
	/* the right key id over a damaged sealed share */
	copy = *fx.h;
	copy.sealed_sc[40] ^= 1;
	memset(s_c, 0xAA, sizeof(s_c));
	assert_int_equal(sd_identity_open_share(&copy, fx.identity, s_c), SD_ERR_VERIFY);
	assert_zero(s_c, sizeof(s_c));
	assert_int_equal(sd_identity_open_share(NULL, fx.identity, s_c), SD_ERR_USAGE);
}

/* The blob is checked against the signed manifest before anything is decrypted. */
static void test_blob_refusals(void **state)
{
	uint8_t s_c[32], bad[SD_IDENTITY_BLOB_BYTES];
	sd_blob_t blobs[2];
	sd_header_t copy;
	char *text = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(sd_identity_open_share(fx.h, fx.identity, s_c), 0);
	memcpy(bad, fx.blob, sizeof(bad));
	bad[100] ^= 1;
	assert_int_equal(sd_identity_decrypt(fx.h, bad, sizeof(bad), s_c, fx.s_w, &text, &len), SD_ERR_VERIFY);
	assert_non_null(strstr(sd_error_detail(), "manifest"));
	assert_int_equal(sd_identity_decrypt(fx.h, fx.blob, sizeof(fx.blob) - 1, s_c, fx.s_w, &text, &len),
	                 SD_ERR_VERIFY);
	assert_int_equal(sd_identity_decrypt(fx.h, NULL, 0, s_c, fx.s_w, &text, &len), SD_ERR_VERIFY);
	/* the other package's blob: not in this manifest */
	assert_int_equal(sd_identity_decrypt(fx.h, fx.blob2, sizeof(fx.blob2), s_c, fx.s_w, &text, &len),
	                 SD_ERR_VERIFY);
	/* a bundle withholds the identity: no chunk */
	copy = *fx.h;
	memcpy(blobs, fx.h->blobs, sizeof(blobs));
	blobs[1].n_chunks = 0;
	copy.blobs = blobs;
	assert_int_equal(sd_identity_decrypt(&copy, fx.blob, sizeof(fx.blob), s_c, fx.s_w, &text, &len), SD_ERR_NOENT);
	blobs[1].n_chunks = 1;
	blobs[1].kind = SD_BLOB_EVIDENCE;
	assert_int_equal(sd_identity_decrypt(&copy, fx.blob, sizeof(fx.blob), s_c, fx.s_w, &text, &len), SD_ERR_FORMAT);
	assert_null(text);
}

/* A fresh package: the canonical record, exactly as sealed. */
static void test_fresh_package_opens(void **state)
{
	uint8_t s_c[32];
	char *text = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(sd_identity_open_share(fx.h2, fx.identity, s_c), 0);
	assert_int_equal(sd_identity_open(fx.h2, fx.blob2, sizeof(fx.blob2), s_c, fx.s_w2, &text, &len), 0);
	assert_int_equal(len, sizeof(fresh_identity) - 1);
	assert_string_equal(text, fresh_identity);
	sd_secret_free(text);
	/* the vector's s_w does not open it */
	assert_int_equal(sd_identity_open(fx.h2, fx.blob2, sizeof(fx.blob2), s_c, fx.s_w, &text, &len), SD_ERR_VERIFY);
}

/* The key rebuilt from 2 of a 3-share split opens it; 2 shares of two splits do not
 * combine (checked by keyshare), and the other key's shares do not open s_c. */
static void test_shares_open(void **state)
{
	sd_keyshare_t *split = NULL, *other = NULL;
	const sd_keyshare_t *pick[2];
	sd_seckey_t *k = NULL;
	uint8_t s_c[32];
	char *text = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(sd_keyshare_split(fx.identity, 2, 3, &split), 0);
	pick[0] = &split[2];
	pick[1] = &split[0];
	assert_int_equal(sd_keyshare_combine(pick, 2, &k), 0);
	assert_int_equal(sd_identity_open_share(fx.h2, k, s_c), 0);
	assert_int_equal(sd_identity_open(fx.h2, fx.blob2, sizeof(fx.blob2), s_c, fx.s_w2, &text, &len), 0);
	assert_string_equal(text, fresh_identity);
	sd_secret_free(text);
	sd_seckey_free(k);
	assert_int_equal(sd_keyshare_split(fx.stranger, 2, 2, &other), 0);
	pick[0] = &other[0];
	pick[1] = &other[1];
	assert_int_equal(sd_keyshare_combine(pick, 2, &k), 0);
	assert_int_equal(sd_identity_open_share(fx.h2, k, s_c), SD_ERR_WRONG_KEY);
	sd_seckey_free(k);
	sd_keyshare_free(split);
	sd_keyshare_free(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_vector_opens),        cmocka_unit_test(test_one_share_is_not_enough),
	        cmocka_unit_test(test_open_share_refusals), cmocka_unit_test(test_blob_refusals),
	        cmocka_unit_test(test_fresh_package_opens), cmocka_unit_test(test_shares_open),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
