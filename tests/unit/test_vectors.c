/*
 * test_vectors.c — the whole-package test vector of docs/FORMAT.md.
 *
 * libsodium's randombytes is replaced, before sodium_init(), by ChaCha20 keyed with a
 * counter (randombytes_buf_deterministic), so sealing fixed inputs with fixed keys
 * yields exactly tests/vectors/package-v1.sdx. tests/vectors/envelope.py then verifies
 * and opens that same file with an independent implementation written from FORMAT.md.
 * Regenerate (after a deliberate format change only) with SD_WRITE_VECTORS=1.
 */
#include "unit.h"

#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sealdrop/codename.h"
#include "sealdrop/envelope.h"
#include "sealdrop/fileio.h"

#define VECTOR_PATH          "tests/vectors/package-v1.sdx"
#define VECTOR_CODENAME      "abacus abdomen abdominal abide abiding ability ablaze able"
#define VECTOR_DIGEST        "75cb09a32be1ef212118ee0bffdbb27d0057eb39846b635e30e60ead5a270efc"
#define VECTOR_HEADER_DIGEST "94bffae3d6ed758fbace7bb0211b48cb6c2178a96f0568b6a7b8b06ec415626a"

static uint64_t rng_counter;

/* Call n of randombytes_buf returns ChaCha20(key = "sealdrop test rng" || LE64(n))[0..len]. */
static void rng_buf(void *buf, size_t len)
{
	uint8_t seed[randombytes_SEEDBYTES] = "sealdrop test rng";

	for (int i = 0; i < 8; i++)
		seed[24 + i] = (uint8_t)(rng_counter >> (8 * i));
	rng_counter++;
	randombytes_buf_deterministic(buf, len, seed);
}

static uint32_t rng_random(void)
{
	uint32_t v;
	rng_buf(&v, sizeof(v));
	return v;
}

static const char *rng_name(void)
{
	return "sealdrop-test-vectors";
}

static struct randombytes_implementation rng = {
        .implementation_name = rng_name,
        .random = rng_random,
        .buf = rng_buf,
};

static const char report[] = "{\n  \"accused_organization\": \"Example Corporation\",\n"
                             "  \"particulars\": \"test vector\"\n}\n";
static const char identity[] = "{\n  \"name\": \"Test Person\",\n  \"rrn\": \"850314-2123456\"\n}\n";
static const char memo[] = "Meeting notes, 2026-10-02: the tender was decided before the bids were opened.\n";

static void fixed_key(sd_key_kind_t kind, uint8_t first, sd_seckey_t **out)
{
	uint8_t secret[32];
	for (int i = 0; i < 32; i++)
		secret[i] = (uint8_t)(first + i);
	assert_int_equal(sd_seckey_from_secret(kind, secret, out), 0);
}

static void hex_of(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static void test_package_vector(void **state)
{
	(void)state;
	sd_directory_t d = {.version = 1};
	sd_seckey_t *intake, *identity_key;
	sd_codename_keys_t *wb;
	sd_kdf_limits_t min = sd_kdf_minimum();
	char dir[] = "/tmp/sd-vector-XXXXXX", memo_path[64], empty_path[64], pkg[64];
	uint8_t *bytes, digest[32];
	size_t len;
	char hex[65];
	sd_header_t *h;

	assert_non_null(mkdtemp(dir));
	snprintf(memo_path, sizeof(memo_path), "%s/memo.txt", dir);
	snprintf(empty_path, sizeof(empty_path), "%s/empty.bin", dir);
	snprintf(pkg, sizeof(pkg), "%s/package.sdx", dir);
	assert_int_equal(sd_file_write(memo_path, memo, sizeof(memo) - 1, 0600, SD_AFILE_REPLACE), 0);
	assert_int_equal(sd_file_write(empty_path, "", 0, 0600, SD_AFILE_REPLACE), 0);

	fixed_key(SD_KEY_INTAKE, 0x20, &intake);
	fixed_key(SD_KEY_IDENTITY, 0x40, &identity_key);
	snprintf(d.deployment, sizeof(d.deployment), "demo");
	sd_seckey_public(intake, &d.intake);
	sd_seckey_public(identity_key, &d.identity);
	assert_int_equal(sd_codename_derive(VECTOR_CODENAME, "demo", &min, &wb), 0);

	/* Randomness starts here, so key set-up above does not shift the sequence. */
	rng_counter = 0;
	sd_evidence_src_t ev[2] = {{.path = memo_path}, {.path = empty_path}};
	sd_seal_params_t p = {.dir = &d,
	                      .wb = wb,
	                      .report = report,
	                      .report_len = sizeof(report) - 1,
	                      .identity = identity,
	                      .identity_len = sizeof(identity) - 1,
	                      .evidence = ev,
	                      .n_evidence = 2,
	                      .created = {2026, 11, 22}};
	assert_int_equal(sd_envelope_seal(&p, pkg), 0);
	assert_int_equal(sd_file_read(pkg, 1 << 20, &bytes, &len), 0);
	crypto_generichash(digest, sizeof(digest), bytes, len, NULL, 0);
	hex_of(digest, sizeof(digest), hex);
	assert_int_equal(sd_envelope_verify(pkg, NULL, NULL, &h), 0);
	char hd[65];
	hex_of(h->digest, 32, hd);
	print_message("package: %zu bytes, BLAKE2b-256 %s, header digest %s\n", len, hex, hd);

	if (getenv("SD_WRITE_VECTORS")) {
		unlink(VECTOR_PATH);
		assert_int_equal(sd_file_write(VECTOR_PATH, bytes, len, 0644, SD_AFILE_NOCLOBBER), 0);
	} else {
		uint8_t *committed;
		size_t clen;
		assert_int_equal(sd_file_read(VECTOR_PATH, 1 << 20, &committed, &clen), 0);
		assert_int_equal(clen, len);
		assert_memory_equal(committed, bytes, len);
		free(committed);
		assert_string_equal(hex, VECTOR_DIGEST);
		assert_string_equal(hd, VECTOR_HEADER_DIGEST);
	}
	sd_header_free(h);
	free(bytes);
	sd_codename_keys_free(wb);
	sd_seckey_free(intake);
	sd_seckey_free(identity_key);
	unlink(memo_path);
	unlink(empty_path);
	unlink(pkg);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_package_vector),
	};
	/* Must precede sodium_init(), which unit_setup calls. */
	if (randombytes_set_implementation(&rng) != 0)
		return 1;
	return cmocka_run_group_tests(tests, unit_setup, NULL);
}
