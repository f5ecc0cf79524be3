/*
 * test_control.c — the control socket (server/control.c) without a server: the request
 * parser (a table of good and bad requests), the error words both ways, the CRL URL,
 * binding (mode 0600, refused while a server listens, a stale socket replaced, a file
 * that is not a socket left alone), and sd_control_call against a fake server thread
 * (nothing listening, ok, an error reply, garbage, a hang-up). The operations themselves
 * run against the real server in tests/e2e/operator.sh.
 */
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "sealdrop/config.h"
#include "sealdrop/control.h"
#include "../../server/control_int.h"

static char tmp[64];

static int dir_setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/sd-test-control-XXXXXX");
	return mkdtemp(tmp) != NULL ? 0 : -1;
}

static int dir_teardown(void **state)
{
	(void)state;
	return unit_rm_tree(tmp);
}

static int parse(const char *line, sd_control_req_t *req)
{
	return sd_control_parse_request((const uint8_t *)line, strlen(line), req);
}

/* --- parsing ----------------------------------------------------------------------- */

static void test_parse_good(void **state)
{
	sd_control_req_t req;

	(void)state;
	assert_int_equal(parse("{\"op\":\"enroll\",\"role\":\"attorney\",\"name\":\"Attorney Kim\"}", &req), 0);
	assert_int_equal(req.op, SD_CONTROL_ENROLL);
	assert_int_equal(req.role, SD_ROLE_ATTORNEY);
	assert_string_equal(req.name, "Attorney Kim");
	assert_null(req.csr);
	assert_false(req.has_box_key);
	sd_control_req_clear(&req);
	assert_null(req.json);

	assert_int_equal(parse("{\"role\":\"custodian\",\"op\":\"enroll\",\"name\":\"변호사 김\",\"csr\":\"PEM\","
	                       "\"box_pubkey\":\"QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=\"}",
	                       &req),
	                 0);
	assert_int_equal(req.role, SD_ROLE_CUSTODIAN);
	assert_string_equal(req.name, "변호사 김");
	assert_int_equal(req.csr_len, 3);
	assert_memory_equal(req.csr, "PEM", 3);
	assert_true(req.has_box_key);
	assert_int_equal(req.box_pk[0], 'B');
	sd_control_req_clear(&req);

	assert_int_equal(parse("{\"op\":\"disable\",\"name\":\"Officer Lee\"}", &req), 0);
	assert_int_equal(req.op, SD_CONTROL_DISABLE);
	assert_string_equal(req.name, "Officer Lee");
	sd_control_req_clear(&req);

	assert_int_equal(parse("{\"op\":\"directory_install\",\"directory\":\"{\\\"signed\\\":{}}\"}", &req), 0);
	assert_int_equal(req.op, SD_CONTROL_DIRECTORY_INSTALL);
	assert_int_equal(req.directory_len, 13);
	assert_memory_equal(req.directory, "{\"signed\":{}}", 13);
	sd_control_req_clear(&req);

	assert_int_equal(parse(" { \"op\" : \"status\" } ", &req), 0);
	assert_int_equal(req.op, SD_CONTROL_STATUS);
	sd_control_req_clear(&req);
}

static const struct {
	const char *line;
	int want;
} bad_requests[] = {
        {"", SD_ERR_FORMAT},
        {"[]", SD_ERR_FORMAT},
        {"\"status\"", SD_ERR_FORMAT},
        {"{\"op\":\"status\"} {}", SD_ERR_FORMAT},
        {"{\"op\":\"status\",\"op\":\"status\"}", SD_ERR_FORMAT},
        {"{}", SD_ERR_INVALID},
        {"{\"op\":\"reboot\"}", SD_ERR_INVALID},
        {"{\"op\":7}", SD_ERR_INVALID},
        {"{\"op\":\"Status\"}", SD_ERR_INVALID},
        {"{\"op\":\"status\",\"name\":\"x\"}", SD_ERR_INVALID},
        {"{\"op\":\"enroll\",\"role\":\"attorney\"}", SD_ERR_INVALID},
        {"{\"op\":\"enroll\",\"name\":\"Kim\"}", SD_ERR_INVALID},
        {"{\"op\":\"enroll\",\"role\":\"admin\",\"name\":\"Kim\"}", SD_ERR_INVALID},
        {"{\"op\":\"enroll\",\"role\":\"attorney\",\"name\":\"\"}", SD_ERR_INVALID},
        {"{\"op\":\"enroll\",\"role\":\"attorney\",\"name\":\" Kim\"}", SD_ERR_INVALID},
        {"{\"op\":\"enroll\",\"role\":\"attorney\",\"name\":\"Kim \"}", SD_ERR_INVALID},
        {"{\"op\":\"enroll\",\"role\":\"attorney\",\"name\":\"K\\tim\"}", SD_ERR_INVALID},
        {"{\"op\":\"enroll\",\"role\":\"attorney\",\"name\":\"K\\u0085im\"}", SD_ERR_INVALID},
        {"{\"op\":\"enroll\",\"role\":\"attorney\",\"name\":"
         "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
         SD_ERR_TOOBIG},
        {"{\"op\":\"enroll\",\"role\":\"attorney\",\"name\":7}", SD_ERR_INVALID},
        {"{\"op\":\"enroll\",\"role\":\"attorney\",\"name\":\"Kim\",\"csr\":\"\"}", SD_ERR_INVALID},
        {"{\"op\":\"enroll\",\"role\":\"attorney\",\"name\":\"Kim\",\"box_pubkey\":\"AAAA\"}", SD_ERR_INVALID},
        {"{\"op\":\"enroll\",\"role\":\"attorney\",\"name\":\"Kim\",\"box_pubkey\":null}", SD_ERR_INVALID},
        {"{\"op\":\"enroll\",\"role\":\"attorney\",\"name\":\"Kim\",\"directory\":\"{}\"}", SD_ERR_INVALID},
        {"{\"op\":\"disable\"}", SD_ERR_INVALID},
        {"{\"op\":\"disable\",\"name\":\"Kim\",\"role\":\"attorney\"}", SD_ERR_INVALID},
        {"{\"op\":\"directory_install\"}", SD_ERR_INVALID},
        {"{\"op\":\"directory_install\",\"directory\":{}}", SD_ERR_INVALID},
};

static void test_parse_bad(void **state)
{
	sd_control_req_t req;
	char *big;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_requests) / sizeof(bad_requests[0]); i++) {
		int r = parse(bad_requests[i].line, &req);
		if (r != bad_requests[i].want)
			print_error("row %zu (%s): %d (%s)\n", i, bad_requests[i].line, r, sd_error_detail());
		assert_int_equal(r, bad_requests[i].want);
		assert_null(req.json);
	}
	/* A CSR beyond the CA's limit, and a line beyond the protocol's. */
	big = malloc(SD_CONTROL_MAX_REQUEST + 2);
	assert_non_null(big);
	int n = snprintf(big, 100, "{\"op\":\"enroll\",\"role\":\"attorney\",\"name\":\"Kim\",\"csr\":\"");
	memset(big + n, 'A', SD_CA_CSR_MAX_BYTES + 1);
	memcpy(big + n + SD_CA_CSR_MAX_BYTES + 1, "\"}", 3);
	assert_int_equal(parse(big, &req), SD_ERR_TOOBIG);
	assert_int_equal(sd_control_parse_request((const uint8_t *)big, SD_CONTROL_MAX_REQUEST + 1, &req),
	                 SD_ERR_TOOBIG);
	free(big);
}

static void test_error_words(void **state)
{
	static const int codes[] = {SD_ERR_EXISTS, SD_ERR_NOENT, SD_ERR_REFUSED, SD_ERR_INVALID, SD_ERR_INTERNAL};

	(void)state;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		assert_int_equal(sd_control_error_code(sd_control_error_word(codes[i])), codes[i]);
	assert_string_equal(sd_control_error_word(SD_ERR_ROLLBACK), "refused");
	assert_string_equal(sd_control_error_word(SD_ERR_VERIFY), "refused");
	assert_string_equal(sd_control_error_word(SD_ERR_FORMAT), "invalid");
	assert_string_equal(sd_control_error_word(SD_ERR_NOMEM), "internal");
	assert_int_equal(sd_control_error_code("surprise"), SD_ERR_REFUSED);
	assert_int_equal(sd_control_error_code(NULL), SD_ERR_REFUSED);
}

static void test_crl_url(void **state)
{
	char *hosts[] = {"drop.example.org", "::1"};
	sd_config_t c = {0};
	char url[SD_CA_URL_MAX];

	(void)state;
	assert_int_equal(sd_control_crl_url(&c, url), SD_ERR_CONFIG);
	c.hostnames = hosts;
	c.n_hostnames = 2;
	c.listen_port = 8443;
	assert_int_equal(sd_control_crl_url(&c, url), 0);
	assert_string_equal(url, "https://drop.example.org:8443/v1/crl");
	c.hostnames = hosts + 1;
	c.n_hostnames = 1;
	c.listen_port = 443;
	assert_int_equal(sd_control_crl_url(&c, url), 0);
	assert_string_equal(url, "https://[::1]:443/v1/crl");
}

/* --- binding ----------------------------------------------------------------------- */

static void sock_path(char *out, size_t cap)
{
	snprintf(out, cap, "%s/control.sock", tmp);
}

static void test_bind(void **state)
{
	char path[128], longdir[200];
	struct stat st;
	int fd = -1, fd2 = -1;

	(void)state;
	sock_path(path, sizeof(path));
	assert_int_equal(sd_control_bind(tmp, &fd), 0);
	assert_true(fd >= 0);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	/* A server listens there: refused, and the socket is left alone. */
	assert_int_equal(sd_control_bind(tmp, &fd2), SD_ERR_REFUSED);
	assert_int_equal(fd2, -1);
	assert_int_equal(lstat(path, &st), 0);
	/* The server died: the stale socket is replaced. */
	close(fd);
	assert_int_equal(sd_control_bind(tmp, &fd), 0);
	close(fd);
	/* Something else has the name: never removed. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(sd_control_bind(tmp, &fd), SD_ERR_REFUSED);
	assert_int_equal(rmdir(path), 0);
	memset(longdir, 'a', sizeof(longdir) - 1);
	longdir[0] = '/';
	longdir[sizeof(longdir) - 1] = '\0';
	assert_int_equal(sd_control_bind(longdir, &fd), SD_ERR_CONFIG);
}

/* --- sd_control_call against a fake server ---------------------------------------------- */

typedef struct {
	int lfd;
	const char *answer; /* NULL: hang up without answering */
	char got[1024];
} fake_t;

static void *fake_serve(void *arg)
{
	fake_t *f = arg;
	struct pollfd p = {.fd = f->lfd, .events = POLLIN};
	size_t n = 0;
	int fd;

	if (poll(&p, 1, 10000) != 1 || (fd = accept(f->lfd, NULL, NULL)) < 0)
		return NULL;
	fcntl(fd, F_SETFL, 0);
	while (n < sizeof(f->got) - 1 && (n == 0 || f->got[n - 1] != '\n')) {
		ssize_t k = read(fd, f->got + n, sizeof(f->got) - 1 - n);
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	f->got[n] = '\0';
	if (f->answer != NULL && write(fd, f->answer, strlen(f->answer)) < 0)
		f->got[0] = '\0';
	close(fd);
	return NULL;
}

/* Calls a fake server that answers `answer`; returns the call's status. */
static int call_fake(const char *answer, json_t **reply, char *got, size_t got_cap)
{
	fake_t f = {.answer = answer};
	pthread_t t;
	json_t *req = json_pack("{s:s}", "op", "status");
	int r;

	assert_int_equal(sd_control_bind(tmp, &f.lfd), 0);
	assert_int_equal(pthread_create(&t, NULL, fake_serve, &f), 0);
	r = sd_control_call(tmp, req, reply);
	pthread_join(t, NULL);
	close(f.lfd);
	json_decref(req);
	snprintf(got, got_cap, "%s", f.got);
	return r;
}

static void test_call(void **state)
{
	json_t *reply = NULL, *req = json_pack("{s:s}", "op", "status");
	char got[1024];

	(void)state;
	assert_int_equal(sd_control_call(tmp, req, &reply), SD_ERR_IO);
	assert_null(reply);
	assert_true(sd_control_was_unreachable());
	assert_non_null(strstr(sd_error_detail(), "cannot reach sealdropd at"));
	assert_non_null(strstr(sd_error_detail(), "is it running?"));
	json_decref(req);

	assert_int_equal(call_fake("{\"ok\":true,\"accounts\":3}\n", &reply, got, sizeof(got)), 0);
	assert_string_equal(got, "{\"op\":\"status\"}\n");
	assert_false(sd_control_was_unreachable());
	assert_int_equal(json_integer_value(json_object_get(reply, "accounts")), 3);
	json_decref(reply);

	assert_int_equal(call_fake("{\"ok\":false,\"error\":\"exists\",\"message\":\"an account named 'K' already "
	                           "exists\"}\n",
	                           &reply, got, sizeof(got)),
	                 SD_ERR_EXISTS);
	assert_string_equal(sd_error_detail(), "an account named 'K' already exists");
	assert_non_null(reply);
	json_decref(reply);
	assert_int_equal(
	        call_fake("{\"ok\":false,\"error\":\"not_found\",\"message\":\"no\"}\n", &reply, got, sizeof(got)),
	        SD_ERR_NOENT);
	json_decref(reply);

	assert_int_equal(call_fake("{\"ok\":\"yes\"}\n", &reply, got, sizeof(got)), SD_ERR_FORMAT);
	assert_null(reply);
	assert_int_equal(call_fake("not json\n", &reply, got, sizeof(got)), SD_ERR_FORMAT);
	assert_int_equal(call_fake(NULL, &reply, got, sizeof(got)), SD_ERR_IO);
	assert_true(sd_control_was_unreachable());
	assert_null(reply);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_parse_good),
	        cmocka_unit_test(test_parse_bad),
	        cmocka_unit_test(test_error_words),
	        cmocka_unit_test(test_crl_url),
	        cmocka_unit_test_setup_teardown(test_bind, dir_setup, dir_teardown),
	        cmocka_unit_test_setup_teardown(test_call, dir_setup, dir_teardown),
	};
	return cmocka_run_group_tests(tests, unit_setup, NULL);
}
