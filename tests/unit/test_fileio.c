/*
 * test_fileio.c — outputs appear whole or not at all: a committed file has its final
 * name and mode, an aborted one leaves nothing, NOCLOBBER never replaces, and reads are
 * bounded and name what went wrong.
 */
#include "unit.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sealdrop/fileio.h"

static char dir[] = "/tmp/sd-fileio-XXXXXX";

static int setup(void **state)
{
	if (unit_setup(state) != 0 || mkdtemp(dir) == NULL)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char cmd[64];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static size_t entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

static void path(char *out, const char *name)
{
	snprintf(out, 128, "%s/%s", dir, name);
}

static void test_commit_and_mode(void **state)
{
	(void)state;
	char p[128];
	struct stat st;
	sd_afile_t *f;
	uint8_t *back;
	size_t len;

	path(p, "a");
	assert_int_equal(sd_afile_open(&f, p, 0600), 0);
	assert_int_equal(stat(p, &st), -1); /* nothing under the final name yet */
	assert_int_equal(sd_afile_write(f, "hello ", 6), 0);
	assert_int_equal(sd_afile_pwrite(f, "H", 1, 0), 0);
	assert_int_equal(sd_afile_commit(f, SD_AFILE_NOCLOBBER), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(sd_file_read(p, 100, &back, &len), 0);
	assert_int_equal(len, 6);
	assert_memory_equal(back, "Hello ", 6);
	free(back);
	assert_int_equal(entries(), 1); /* no temporary left */
	unlink(p);
}

static void test_abort_leaves_nothing(void **state)
{
	(void)state;
	char p[128];
	sd_afile_t *f;

	path(p, "b");
	assert_int_equal(sd_afile_open(&f, p, 0600), 0);
	assert_int_equal(sd_afile_write(f, "partial", 7), 0);
	sd_afile_abort(f);
	assert_int_equal(entries(), 0);
	sd_afile_abort(NULL);
}

static void test_noclobber_and_replace(void **state)
{
	(void)state;
	char p[128];
	uint8_t *back;
	size_t len;

	path(p, "c");
	assert_int_equal(sd_file_write(p, "one", 3, 0644, SD_AFILE_NOCLOBBER), 0);
	assert_int_equal(sd_file_write(p, "two", 3, 0644, SD_AFILE_NOCLOBBER), SD_ERR_EXISTS);
	assert_non_null(strstr(sd_error_detail(), "already exists"));
	assert_int_equal(sd_file_read(p, 100, &back, &len), 0);
	assert_memory_equal(back, "one", 3); /* untouched */
	free(back);
	assert_int_equal(entries(), 1);
	assert_int_equal(sd_file_write(p, "three", 5, 0644, SD_AFILE_REPLACE), 0);
	assert_int_equal(sd_file_read(p, 100, &back, &len), 0);
	assert_int_equal(len, 5);
	free(back);
	unlink(p);
}

static void test_missing_parent(void **state)
{
	(void)state;
	char p[128];
	sd_afile_t *f = NULL;

	path(p, "no/such/dir/file");
	assert_int_equal(sd_afile_open(&f, p, 0600), SD_ERR_NOENT);
	assert_null(f);
}

static void test_bounded_reads(void **state)
{
	(void)state;
	char p[128];
	uint8_t *back = NULL;
	char *secret = NULL;
	size_t len;

	path(p, "d");
	assert_int_equal(sd_file_read(p, 10, &back, &len), SD_ERR_NOENT);
	assert_non_null(strstr(sd_error_detail(), p));
	assert_int_equal(sd_file_write(p, "0123456789", 10, 0600, SD_AFILE_REPLACE), 0);
	assert_int_equal(sd_file_read(p, 9, &back, &len), SD_ERR_TOOBIG);
	assert_null(back);
	assert_int_equal(sd_file_read(p, 10, &back, &len), 0);
	assert_int_equal(back[len], '\0');
	free(back);
	assert_int_equal(sd_file_read(dir, 10, &back, &len), SD_ERR_IO); /* a directory */
	unlink(p);
	/* Secrets lose exactly one trailing LF or CRLF. */
	static const struct {
		const char *in;
		const char *out;
	} cases[] = {{"pw\n", "pw"}, {"pw\r\n", "pw"}, {"pw", "pw"}, {"pw\n\n", "pw\n"}, {" pw \n", " pw "}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(sd_file_write(p, cases[i].in, strlen(cases[i].in), 0600, SD_AFILE_REPLACE), 0);
		assert_int_equal(sd_file_read_secret(p, 100, &secret, &len), 0);
		assert_int_equal(len, strlen(cases[i].out));
		assert_string_equal(secret, cases[i].out);
		sd_secret_free(secret);
	}
	unlink(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_commit_and_mode),       cmocka_unit_test(test_abort_leaves_nothing),
	        cmocka_unit_test(test_noclobber_and_replace), cmocka_unit_test(test_missing_parent),
	        cmocka_unit_test(test_bounded_reads),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
