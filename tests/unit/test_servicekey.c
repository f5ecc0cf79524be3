/*
 * test_servicekey.c — service key files (crypto/servicekey.c): the 56-byte layout read
 * back field by field, round trips for an Ed25519 and an X25519 kind, never overwriting,
 * mode and symlink refusals, and every kind of damage (truncation, trailing data, magic,
 * version, kind, reserved bytes, a flipped bit anywhere) refused with its own code.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "sealdrop/bytes.h"
#include "sealdrop/servicekey.h"

static char tmp[] = "/tmp/sd-test-svckey-XXXXXX";

static int make_tmpdir(void **state)
{
	(void)state;
	memcpy(tmp + sizeof(tmp) - 7, "XXXXXX", 6);
	return mkdtemp(tmp) != NULL ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *path(const char *name)
{
	static char bufs[4][256];
	static int next;
	char *p = bufs[next++ % 4];

	snprintf(p, 256, "%s/%s", tmp, name);
	return p;
}

static void slurp(const char *p, uint8_t *buf, size_t cap, size_t *len)
{
	int fd = open(p, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, cap);
	assert_true(n >= 0);
	*len = (size_t)n;
	close(fd);
}

static void spill(const char *p, const uint8_t *buf, size_t len)
{
	int fd;

	unlink(p);
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static void test_layout(void **state)
{
	sd_seckey_t *k = NULL;
	uint8_t buf[128];
	size_t len = 0;
	struct stat st;

	(void)state;
	assert_int_equal(sd_seckey_generate(SD_KEY_LOG, &k), 0);
	assert_int_equal(sd_servicekey_write(path("log.key"), k), 0);
	assert_int_equal(stat(path("log.key"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	slurp(path("log.key"), buf, sizeof(buf), &len);
	assert_int_equal(len, SD_SERVICEKEY_BYTES);
	assert_memory_equal(buf, "SDSVCKEY", 8);
	assert_int_equal(sd_load_le16(buf + 8), 1);
	assert_int_equal(sd_load_le16(buf + 10), SD_KEY_LOG);
	assert_int_equal(sd_load_le32(buf + 12), 0);
	assert_memory_equal(buf + 16, k->sk, 32); /* the Ed25519 seed */
	assert_memory_equal(buf + 48, k->id, 8);
	sd_seckey_free(k);
}

static void roundtrip(sd_key_kind_t kind)
{
	sd_seckey_t *k = NULL, *back = NULL;
	const char *p = path(sd_key_kind_name(kind));
	size_t sk_bytes = sd_key_kind_alg(kind) == SD_ALG_ED25519 ? 64 : 32;

	assert_int_equal(sd_seckey_generate(kind, &k), 0);
	assert_int_equal(sd_servicekey_write(p, k), 0);
	assert_int_equal(sd_servicekey_read(p, kind, &back), 0);
	assert_non_null(back);
	assert_int_equal(back->kind, kind);
	assert_memory_equal(back->pk, k->pk, 32);
	assert_memory_equal(back->id, k->id, 8);
	assert_memory_equal(back->sk, k->sk, sk_bytes);
	sd_seckey_free(back);
	sd_seckey_free(k);
}

static void test_roundtrip(void **state)
{
	(void)state;
	roundtrip(SD_KEY_LOG);
	roundtrip(SD_KEY_INTAKE);
}

static void test_never_overwrites(void **state)
{
	sd_seckey_t *a = NULL, *b = NULL, *back = NULL;

	(void)state;
	assert_int_equal(sd_seckey_generate(SD_KEY_LOG, &a), 0);
	assert_int_equal(sd_seckey_generate(SD_KEY_LOG, &b), 0);
	assert_int_equal(sd_servicekey_write(path("k"), a), 0);
	assert_int_equal(sd_servicekey_write(path("k"), b), SD_ERR_EXISTS);
	assert_int_equal(sd_servicekey_read(path("k"), SD_KEY_LOG, &back), 0);
	assert_memory_equal(back->pk, a->pk, 32);
	sd_seckey_free(back);
	assert_int_equal(sd_servicekey_write(path("nodir/k"), a), SD_ERR_NOENT);
	assert_int_equal(sd_servicekey_write(NULL, a), SD_ERR_USAGE);
	assert_int_equal(sd_servicekey_write(path("k2"), NULL), SD_ERR_USAGE);
	sd_seckey_free(a);
	sd_seckey_free(b);
}

static void test_mode_and_type_refused(void **state)
{
	sd_seckey_t *k = NULL, *back = NULL;
	static const mode_t bad[] = {0640, 0604, 0620, 0602, 0610, 0601, 0644, 0666};

	(void)state;
	assert_int_equal(sd_seckey_generate(SD_KEY_LOG, &k), 0);
	assert_int_equal(sd_servicekey_write(path("k"), k), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(chmod(path("k"), bad[i]), 0);
		assert_int_equal(sd_servicekey_read(path("k"), SD_KEY_LOG, &back), SD_ERR_REFUSED);
		assert_null(back);
		assert_non_null(strstr(sd_error_detail(), "chmod 600"));
	}
	assert_int_equal(chmod(path("k"), 0400), 0);
	assert_int_equal(sd_servicekey_read(path("k"), SD_KEY_LOG, &back), 0);
	sd_seckey_free(back);
	assert_int_equal(symlink(path("k"), path("link")), 0);
	assert_int_equal(sd_servicekey_read(path("link"), SD_KEY_LOG, &back), SD_ERR_REFUSED);
	assert_int_equal(mkdir(path("d"), 0700), 0);
	assert_int_equal(sd_servicekey_read(path("d"), SD_KEY_LOG, &back), SD_ERR_REFUSED);
	assert_int_equal(sd_servicekey_read(path("missing"), SD_KEY_LOG, &back), SD_ERR_NOENT);
	assert_null(back);
	sd_seckey_free(k);
}

/* Writes buf (len bytes) to a file and expects reading it as kind to fail with want. */
static void expect_damaged(const uint8_t *buf, size_t len, sd_key_kind_t kind, int want)
{
	sd_seckey_t *back = NULL;

	spill(path("damaged"), buf, len);
	assert_int_equal(sd_servicekey_read(path("damaged"), kind, &back), want);
	assert_null(back);
}

static void test_damage_refused(void **state)
{
	sd_seckey_t *k = NULL;
	uint8_t good[SD_SERVICEKEY_BYTES], buf[SD_SERVICEKEY_BYTES + 1];
	size_t len = 0;

	(void)state;
	assert_int_equal(sd_seckey_generate(SD_KEY_LOG, &k), 0);
	assert_int_equal(sd_servicekey_write(path("k"), k), 0);
	slurp(path("k"), good, sizeof(good), &len);
	assert_int_equal(len, sizeof(good));

	for (size_t n = 0; n < sizeof(good); n++)
		expect_damaged(good, n, SD_KEY_LOG, SD_ERR_TRUNCATED);
	memcpy(buf, good, sizeof(good));
	buf[sizeof(good)] = '\n';
	expect_damaged(buf, sizeof(buf), SD_KEY_LOG, SD_ERR_FORMAT);

	memcpy(buf, good, sizeof(good));
	buf[0] = 'X';
	expect_damaged(buf, sizeof(good), SD_KEY_LOG, SD_ERR_FORMAT);
	memcpy(buf, good, sizeof(good));
	sd_store_le16(buf + 8, 2);
	expect_damaged(buf, sizeof(good), SD_KEY_LOG, SD_ERR_VERSION);
	memcpy(buf, good, sizeof(good));
	sd_store_le16(buf + 10, 99);
	expect_damaged(buf, sizeof(good), SD_KEY_LOG, SD_ERR_INVALID);
	memcpy(buf, good, sizeof(good));
	sd_store_le16(buf + 10, SD_KEY_ROOT); /* a valid kind, but not the one asked for */
	expect_damaged(buf, sizeof(good), SD_KEY_LOG, SD_ERR_INVALID);
	expect_damaged(good, sizeof(good), SD_KEY_ROOT, SD_ERR_INVALID);
	memcpy(buf, good, sizeof(good));
	buf[13] = 1;
	expect_damaged(buf, sizeof(good), SD_KEY_LOG, SD_ERR_FORMAT);

	/* Every single bit flip is refused: the header by its checks, the secret and the key
	 * id by the key id the secret must give. */
	for (size_t i = 0; i < sizeof(good); i++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(buf, good, sizeof(good));
			buf[i] ^= (uint8_t)(1u << bit);
			sd_seckey_t *back = NULL;
			spill(path("flip"), buf, sizeof(good));
			assert_true(sd_servicekey_read(path("flip"), SD_KEY_LOG, &back) < 0);
			assert_null(back);
		}
	}
	sd_seckey_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_layout, make_tmpdir, remove_tmpdir),
	        cmocka_unit_test_setup_teardown(test_roundtrip, make_tmpdir, remove_tmpdir),
	        cmocka_unit_test_setup_teardown(test_never_overwrites, make_tmpdir, remove_tmpdir),
	        cmocka_unit_test_setup_teardown(test_mode_and_type_refused, make_tmpdir, remove_tmpdir),
	        cmocka_unit_test_setup_teardown(test_damage_refused, make_tmpdir, remove_tmpdir),
	};
	return cmocka_run_group_tests(tests, unit_setup, NULL);
}
