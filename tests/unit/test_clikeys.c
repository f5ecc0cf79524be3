/*
 * test_clikeys.c — several key files of one kind (client/cli.c, cli_seckey_load_matching):
 * the file the package names is chosen by the FILE.pub beside each, and only it is
 * unlocked (the others have a passphrase that would fail); a file without FILE.pub is
 * unlocked to learn its id only when no FILE.pub names the key; none matching is
 * SD_ERR_WRONG_KEY naming the wanted id and every file's; a FILE.pub that lies, or names
 * another kind, is an error; more than CLI_KEYS_MAX files is a usage error.
 */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "sealdrop/keys.h"
#include "../../client/cli.h"

static char tmp[64];
static char pw_right[128], pw_other[128];
static const char right[] = "the right passphrase", other[] = "another passphrase";

static const char *path(const char *name)
{
	static char bufs[8][256];
	static int next;
	char *p = bufs[next++ % 8];

	snprintf(p, 256, "%s/%s", tmp, name);
	return p;
}

static void write_text(const char *file, const char *text)
{
	FILE *f = fopen(file, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A key file NAME (with NAME.pub unless no_pub) of kind under pass; its id in id. */
static void make_key(const char *name, sd_key_kind_t kind, const char *pass, bool no_pub, uint8_t id[SD_KEY_ID_BYTES])
{
	sd_seckey_t *k = NULL;
	sd_pubkey_t pub;
	sd_kdf_limits_t limits = sd_kdf_interactive();
	char pubname[64];

	assert_int_equal(sd_seckey_generate(kind, &k), 0);
	assert_int_equal(sd_keyfile_write(path(name), k, pass, strlen(pass), &limits), 0);
	sd_seckey_public(k, &pub);
	snprintf(pubname, sizeof(pubname), "%.59s.pub", name);
	if (!no_pub)
		assert_int_equal(sd_pubkey_write(path(pubname), &pub), 0);
	memcpy(id, k->id, SD_KEY_ID_BYTES);
	sd_seckey_free(k);
}

static int setup(void **state)
{
	(void)state;
	if (unit_setup(state) != 0)
		return -1;
	snprintf(tmp, sizeof(tmp), "/tmp/sd-test-clikeys-XXXXXX");
	if (mkdtemp(tmp) == NULL)
		return -1;
	snprintf(pw_right, sizeof(pw_right), "%s/pw-right", tmp);
	snprintf(pw_other, sizeof(pw_other), "%s/pw-other", tmp);
	write_text(pw_right, right);
	write_text(pw_other, other);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return unit_rm_tree(tmp);
}

static cli_keys_t keys_of(const char *a, const char *b)
{
	cli_keys_t k = {.opt = "--intake", .n = 0};

	k.path[k.n++] = a;
	if (b != NULL)
		k.path[k.n++] = b;
	return k;
}

static void test_choose_by_pub(void **state)
{
	uint8_t id1[SD_KEY_ID_BYTES], id2[SD_KEY_ID_BYTES];
	sd_seckey_t *key = NULL;
	cli_keys_t k;

	(void)state;
	make_key("k1", SD_KEY_INTAKE, other, false, id1); /* unlocking it with pw_right would fail */
	make_key("k2", SD_KEY_INTAKE, right, false, id2);
	k = keys_of(path("k1"), path("k2"));
	assert_int_equal(cli_seckey_load_matching(&k, SD_KEY_INTAKE, id2, "case 2026-000001's package", pw_right, &key),
	                 0);
	assert_memory_equal(key->id, id2, SD_KEY_ID_BYTES);
	sd_seckey_free(key);
	/* k1 is named: its own passphrase unlocks it, k2 is never tried. */
	assert_int_equal(cli_seckey_load_matching(&k, SD_KEY_INTAKE, id1, "x", pw_other, &key), 0);
	assert_memory_equal(key->id, id1, SD_KEY_ID_BYTES);
	sd_seckey_free(key);
}

static void test_none_matches(void **state)
{
	uint8_t id1[SD_KEY_ID_BYTES], id2[SD_KEY_ID_BYTES], want[SD_KEY_ID_BYTES];
	char h1[SD_KEY_ID_HEX_BYTES], h2[SD_KEY_ID_HEX_BYTES], hw[SD_KEY_ID_HEX_BYTES];
	sd_seckey_t *key = NULL;
	cli_keys_t k;

	(void)state;
	make_key("n1", SD_KEY_INTAKE, right, false, id1);
	make_key("n2", SD_KEY_INTAKE, right, true, id2); /* no .pub: unlocked to learn its id */
	memset(want, 0x5a, sizeof(want));
	k = keys_of(path("n1"), path("n2"));
	assert_int_equal(
	        cli_seckey_load_matching(&k, SD_KEY_INTAKE, want, "case 2026-000007's package", pw_right, &key),
	        SD_ERR_WRONG_KEY);
	assert_null(key);
	sd_key_id_hex(id1, h1);
	sd_key_id_hex(id2, h2);
	sd_key_id_hex(want, hw);
	assert_non_null(strstr(sd_error_detail(), "case 2026-000007's package is sealed to intake key"));
	assert_non_null(strstr(sd_error_detail(), hw));
	assert_non_null(strstr(sd_error_detail(), h1));
	assert_non_null(strstr(sd_error_detail(), h2));
	/* The file without .pub is the one: found by unlocking it. */
	assert_int_equal(cli_seckey_load_matching(&k, SD_KEY_INTAKE, id2, "x", pw_right, &key), 0);
	assert_memory_equal(key->id, id2, SD_KEY_ID_BYTES);
	sd_seckey_free(key);
	/* One file alone: the old behaviour, with the same message. */
	k = keys_of(path("n1"), NULL);
	assert_int_equal(cli_seckey_load_matching(&k, SD_KEY_INTAKE, want, "p.sdx", pw_right, &key), SD_ERR_WRONG_KEY);
	assert_non_null(strstr(sd_error_detail(), h1));
}

static void test_lying_pub(void **state)
{
	uint8_t id1[SD_KEY_ID_BYTES], id2[SD_KEY_ID_BYTES], id3[SD_KEY_ID_BYTES];
	sd_seckey_t *key = NULL;
	cli_keys_t k;
	char cmd[512];

	(void)state;
	make_key("l1", SD_KEY_INTAKE, right, false, id1);
	make_key("l2", SD_KEY_INTAKE, right, false, id2);
	/* l1.pub now says l2's key. */
	snprintf(cmd, sizeof(cmd), "cp %s %s", path("l2.pub"), path("l1.pub"));
	assert_int_equal(system(cmd), 0);
	k = keys_of(path("l1"), path("l2"));
	assert_int_equal(cli_seckey_load_matching(&k, SD_KEY_INTAKE, id2, "x", pw_right, &key), SD_ERR_WRONG_KEY);
	assert_non_null(strstr(sd_error_detail(), "is not the public key of"));
	assert_null(key);
	/* A .pub of another kind is refused before any passphrase. */
	make_key("i3", SD_KEY_IDENTITY, right, false, id3);
	k = keys_of(path("l2"), path("i3"));
	assert_int_equal(cli_seckey_load_matching(&k, SD_KEY_INTAKE, id1, "x", pw_right, &key), SD_ERR_WRONG_KEY);
	assert_non_null(strstr(sd_error_detail(), "not an intake key"));
}

static void test_take_limit(void **state)
{
	cli_cmd_t cmd = {"t", "usage: t\n", ""};
	cli_keys_t k = {.cmd = &cmd, .opt = "--intake"};
	FILE *saved = stderr;

	(void)state;
	for (int i = 0; i < CLI_KEYS_MAX; i++)
		assert_int_equal(cli_keys_take("f", &k), 0);
	stderr = fopen("/dev/null", "w");
	assert_int_equal(cli_keys_take("f", &k), CLI_EX_USAGE);
	fclose(stderr);
	stderr = saved;
	assert_int_equal(k.n, CLI_KEYS_MAX);
	/* The config file's key only when none was given. */
	cli_keys_default(&k, "g");
	assert_int_equal(k.n, CLI_KEYS_MAX);
	k.n = 0;
	cli_keys_default(&k, "g");
	assert_int_equal(k.n, 1);
	assert_string_equal(k.path[0], "g");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_choose_by_pub),
	        cmocka_unit_test(test_none_matches),
	        cmocka_unit_test(test_lying_pub),
	        cmocka_unit_test(test_take_limit),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
