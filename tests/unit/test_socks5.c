/*
 * test_socks5.c — the client's SOCKS5 (client/socks5.c): the proxy's HOST:PORT, every
 * message the client builds byte for byte, every reply field it parses (each wrong value
 * refused with the right error: 69 for a refusal, 76 for a malformed answer), the whole
 * exchange over a socketpair with the proxy's answers written in advance (read to their
 * exact length: a byte after the reply stays unread), the config file's `socks5`
 * setting, and the https layer's fail-closed rules (client/https.c).
 */
#include <sys/socket.h>
#include <unistd.h>

#include "unit.h"
#include "../../client/cli.h"
#include "../../client/https.h"
#include "../../client/socks5.h"

static void test_proxy_parse(void **state)
{
	static const struct {
		const char *in, *host;
		unsigned port;
		bool v6;
	} good[] = {
	        {"127.0.0.1:9050", "127.0.0.1", 9050, false},
	        {"localhost:9150", "localhost", 9150, false},
	        {"[::1]:9050", "::1", 9050, true},
	        {"tor.internal:1", "tor.internal", 1, false},
	        {"10.0.0.1:65535", "10.0.0.1", 65535, false},
	};
	static const char *const bad[] = {
	        "",      "127.0.0.1",    "127.0.0.1:",   "127.0.0.1:0",   "127.0.0.1:65536", "127.0.0.1:90x",
	        ":9050", "[::1:9050",    "[1.2.3.4]:80", "[zz]:80",       "a..b:1",          "-a:1",
	        "a b:1", "127.0.0.1:-1", "[::1]9050",    "host:9050/tor", "socks5://a:1",    "a:1:2",
	};
	cli_socks5_proxy_t p;
	char shown[300];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (cli_socks5_proxy_parse(good[i].in, &p) != 0)
			fail_msg("%s refused: %s", good[i].in, sd_error_detail());
		assert_string_equal(p.host, good[i].host);
		assert_int_equal(p.port, good[i].port);
		assert_int_equal(p.is_ipv6, good[i].v6);
		cli_socks5_proxy_format(&p, shown, sizeof(shown));
		assert_string_equal(shown, good[i].in);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (cli_socks5_proxy_parse(bad[i], &p) != SD_ERR_USAGE)
			fail_msg("'%s' accepted", bad[i]);
	assert_int_equal(cli_socks5_proxy_parse(NULL, &p), SD_ERR_USAGE);
}

static void test_greeting_and_choice(void **state)
{
	uint8_t g[CLI_SOCKS5_GREETING_BYTES], m = 0xaa;

	(void)state;
	assert_int_equal(cli_socks5_greeting(true, g), 4);
	assert_memory_equal(g, "\x05\x02\x00\x02", 4);
	assert_int_equal(cli_socks5_greeting(false, g), 3);
	assert_memory_equal(g, "\x05\x01\x00", 3);

	assert_int_equal(cli_socks5_choice_parse((const uint8_t *)"\x05\x00", true, &m), 0);
	assert_int_equal(m, 0);
	assert_int_equal(cli_socks5_choice_parse((const uint8_t *)"\x05\x02", true, &m), 0);
	assert_int_equal(m, 2);
	assert_int_equal(cli_socks5_choice_parse((const uint8_t *)"\x05\x00", false, &m), 0);
	/* username/password not offered, GSSAPI never: a proxy breaking the protocol */
	assert_int_equal(cli_socks5_choice_parse((const uint8_t *)"\x05\x02", false, &m), SD_ERR_PROTOCOL);
	assert_int_equal(cli_socks5_choice_parse((const uint8_t *)"\x05\x01", true, &m), SD_ERR_PROTOCOL);
	assert_int_equal(cli_socks5_choice_parse((const uint8_t *)"\x05\x03", true, &m), SD_ERR_PROTOCOL);
	assert_int_equal(cli_socks5_choice_parse((const uint8_t *)"\x04\x00", true, &m), SD_ERR_PROTOCOL);
	assert_non_null(strstr(sd_error_detail(), "not SOCKS version 5"));
	assert_int_equal(cli_socks5_choice_parse((const uint8_t *)"HT", true, &m), SD_ERR_PROTOCOL);
	/* "no acceptable methods": a refusal */
	assert_int_equal(cli_socks5_choice_parse((const uint8_t *)"\x05\xff", true, &m), SD_ERR_UNAVAILABLE);
}

static void test_auth(void **state)
{
	cli_socks5_auth_t a, b, big;
	uint8_t out[CLI_SOCKS5_AUTH_MAX];
	size_t len = 99;

	(void)state;
	assert_int_equal(cli_socks5_auth_fresh(&a), 0);
	assert_int_equal(cli_socks5_auth_fresh(&b), 0);
	assert_int_equal(strlen(a.user), CLI_SOCKS5_CRED_MAX);
	assert_int_equal(strlen(a.pass), CLI_SOCKS5_CRED_MAX);
	assert_int_equal(strspn(a.user, "0123456789abcdef"), CLI_SOCKS5_CRED_MAX);
	assert_string_not_equal(a.user, b.user);
	assert_string_not_equal(a.user, a.pass);

	memset(&big, 0, sizeof(big));
	memcpy(big.user, "ab", 2);
	memcpy(big.pass, "xyz", 3);
	assert_int_equal(cli_socks5_auth_request(&big, out, sizeof(out), &len), 0);
	assert_int_equal(len, 8);
	assert_memory_equal(out,
	                    "\x01\x02"
	                    "ab"
	                    "\x03"
	                    "xyz",
	                    8);
	assert_int_equal(cli_socks5_auth_request(&big, out, 7, &len), SD_ERR_USAGE);
	big.user[0] = '\0';
	assert_int_equal(cli_socks5_auth_request(&big, out, sizeof(out), &len), SD_ERR_USAGE);

	assert_int_equal(cli_socks5_auth_reply_parse((const uint8_t *)"\x01\x00"), 0);
	assert_int_equal(cli_socks5_auth_reply_parse((const uint8_t *)"\x01\x01"), SD_ERR_UNAVAILABLE);
	assert_int_equal(cli_socks5_auth_reply_parse((const uint8_t *)"\x05\x00"), SD_ERR_PROTOCOL);
}

static void test_connect_request(void **state)
{
	uint8_t out[CLI_SOCKS5_REQUEST_MAX];
	char name[CLI_SOCKS5_HOST_MAX + 2];
	size_t len = 0;

	(void)state;
	assert_int_equal(cli_socks5_connect_request("localhost", 8443, out, sizeof(out), &len), 0);
	assert_int_equal(len, 4 + 1 + 9 + 2);
	assert_memory_equal(out, "\x05\x01\x00\x03\x09localhost\x20\xfb", len);

	assert_int_equal(cli_socks5_connect_request("127.0.0.1", 443, out, sizeof(out), &len), 0);
	assert_int_equal(len, 10);
	assert_memory_equal(out, "\x05\x01\x00\x01\x7f\x00\x00\x01\x01\xbb", len);

	assert_int_equal(cli_socks5_connect_request("::1", 9, out, sizeof(out), &len), 0);
	assert_int_equal(len, 22);
	assert_memory_equal(out, "\x05\x01\x00\x04\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01\x00\x09", len);

	/* not a dotted quad: a name, for the proxy to resolve (never us) */
	assert_int_equal(cli_socks5_connect_request("127.1", 443, out, sizeof(out), &len), 0);
	assert_int_equal(out[3], CLI_SOCKS5_ATYP_DOMAIN);

	memset(name, 'a', sizeof(name));
	name[CLI_SOCKS5_HOST_MAX] = '\0';
	assert_int_equal(cli_socks5_connect_request(name, 1, out, sizeof(out), &len), 0);
	assert_int_equal(len, CLI_SOCKS5_REQUEST_MAX);
	assert_int_equal(out[4], 255);
	name[CLI_SOCKS5_HOST_MAX] = 'a';
	name[CLI_SOCKS5_HOST_MAX + 1] = '\0';
	assert_int_equal(cli_socks5_connect_request(name, 1, out, sizeof(out), &len), SD_ERR_USAGE);
	assert_int_equal(cli_socks5_connect_request("", 1, out, sizeof(out), &len), SD_ERR_USAGE);
	assert_int_equal(cli_socks5_connect_request("a", 1, out, sizeof(out) - 1, &len), SD_ERR_USAGE);
}

static void test_reply_head(void **state)
{
	static const struct {
		const char *head; /* 5 bytes */
		int r;
		size_t rest;
		const char *words;
	} cases[] = {
	        {"\x05\x00\x00\x01\x00", 0, 5, NULL},
	        {"\x05\x00\x00\x04\x00", 0, 17, NULL},
	        {"\x05\x00\x00\x03\x09", 0, 11, NULL},
	        {"\x05\x00\x00\x03\xff", 0, 257, NULL},
	        {"\x05\x00\x00\x03\x00", SD_ERR_PROTOCOL, 0, "empty bound name"},
	        {"\x05\x00\x01\x01\x00", SD_ERR_PROTOCOL, 0, "reserved byte"},
	        {"\x05\x00\x00\x02\x00", SD_ERR_PROTOCOL, 0, "address type 2"},
	        {"\x05\x00\x00\x09\x00", SD_ERR_PROTOCOL, 0, "address type 9"},
	        {"\x04\x00\x00\x01\x00", SD_ERR_PROTOCOL, 0, "not SOCKS version 5"},
	        {"\x00\x5a\x00\x01\x00", SD_ERR_PROTOCOL, 0, "not SOCKS version 5"},
	        {"\x05\x01\x00\x01\x00", SD_ERR_UNAVAILABLE, 0, "general SOCKS server failure"},
	        {"\x05\x02\x00\x01\x00", SD_ERR_UNAVAILABLE, 0, "not allowed"},
	        {"\x05\x04\x00\x01\x00", SD_ERR_UNAVAILABLE, 0, "host unreachable"},
	        {"\x05\x05\x00\x01\x00", SD_ERR_UNAVAILABLE, 0, "connection refused (SOCKS5 reply 5)"},
	        {"\x05\x06\x00\x01\x00", SD_ERR_UNAVAILABLE, 0, "TTL expired"},
	        {"\x05\x08\x00\x01\x00", SD_ERR_UNAVAILABLE, 0, "address type not supported"},
	        {"\x05\x09\x00\x01\x00", SD_ERR_UNAVAILABLE, 0, "unknown reply code"},
	        {"\x05\xf0\x00\x01\x00", SD_ERR_UNAVAILABLE, 0, "descriptor not found"},
	        {"\x05\xf6\x00\x01\x00", SD_ERR_UNAVAILABLE, 0, "invalid onion address"},
	        {"\x05\xf7\x00\x01\x00", SD_ERR_UNAVAILABLE, 0, "introduction timed out"},
	        {"\x05\xf8\x00\x01\x00", SD_ERR_UNAVAILABLE, 0, "unknown reply code"},
	};
	size_t rest;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = cli_socks5_reply_head_parse((const uint8_t *)cases[i].head, &rest);

		if (r != cases[i].r)
			fail_msg("case %zu: %d, want %d (%s)", i, r, cases[i].r, sd_error_detail());
		if (r == 0)
			assert_int_equal(rest, cases[i].rest);
		else if (strstr(sd_error_detail(), cases[i].words) == NULL)
			fail_msg("case %zu: '%s' does not say '%s'", i, sd_error_detail(), cases[i].words);
	}
}

/* --- the whole exchange over a socketpair -------------------------------------------- */

/* Runs the handshake with the proxy's answers written beforehand (then the proxy's end
 * stops writing); *sent what the client wrote, *left the answer bytes it did not read. */
static int exchange(const cli_socks5_auth_t *auth, const char *host, const void *answers, size_t n, uint8_t *sent,
                    size_t *sent_len, size_t *left)
{
	struct timeval tv = {2, 0};
	uint8_t rest[64];
	int sv[2], r;
	ssize_t got;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(write(sv[1], answers, n), (ssize_t)n);
	shutdown(sv[1], SHUT_WR);
	r = cli_socks5_handshake(sv[0], auth, host, 8443);
	got = recv(sv[0], rest, sizeof(rest), MSG_DONTWAIT);
	*left = got > 0 ? (size_t)got : 0;
	shutdown(sv[0], SHUT_WR);
	got = read(sv[1], sent, 1024);
	*sent_len = got > 0 ? (size_t)got : 0;
	close(sv[0]);
	close(sv[1]);
	return r;
}

static void test_handshake(void **state)
{
	static const uint8_t user_ok[] = "\x05\x02"
	                                 "\x01\x00"
	                                 "\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00"
	                                 "T"; /* the first byte of the server's stream */
	static const uint8_t none_ok[] = "\x05\x00"
	                                 "\x05\x00\x00\x03\x04"
	                                 "abcd"
	                                 "\x01\xbb";
	uint8_t sent[1024], want[512];
	cli_socks5_auth_t a;
	size_t sent_len, left, n = 0, rl;

	(void)state;
	memset(&a, 0, sizeof(a));
	memcpy(a.user, "u1", 2);
	memcpy(a.pass, "p22", 3);
	assert_int_equal(exchange(&a, "localhost", user_ok, sizeof(user_ok) - 1, sent, &sent_len, &left), 0);
	assert_int_equal(left, 1); /* "T": read exactly to the end of the reply */
	memcpy(want, "\x05\x02\x00\x02", 4);
	n = 4;
	memcpy(want + n, "\x01\x02u1\x03p22", 8);
	n += 8;
	assert_int_equal(cli_socks5_connect_request("localhost", 8443, want + n, sizeof(want) - n, &rl), 0);
	n += rl;
	assert_int_equal(sent_len, n);
	assert_memory_equal(sent, want, n);

	/* the proxy chose no authentication; a domain name bound address */
	assert_int_equal(exchange(&a, "localhost", none_ok, sizeof(none_ok) - 1, sent, &sent_len, &left), 0);
	assert_int_equal(left, 0);
	assert_int_equal(sent_len, 4 + rl);
	/* without credentials to offer */
	assert_int_equal(exchange(NULL, "localhost", none_ok, sizeof(none_ok) - 1, sent, &sent_len, &left), 0);
	assert_memory_equal(sent, "\x05\x01\x00", 3);
	assert_int_equal(exchange(NULL, "localhost", "\x05\x02", 2, sent, &sent_len, &left), SD_ERR_PROTOCOL);

	/* cut short anywhere: a protocol error, never a hang */
	for (size_t cut = 0; cut < sizeof(user_ok) - 2; cut++) {
		int r = exchange(&a, "localhost", user_ok, cut, sent, &sent_len, &left);

		if (r != SD_ERR_PROTOCOL)
			fail_msg("cut at %zu: %d (%s)", cut, r, sd_error_detail());
	}
	/* refusals */
	assert_int_equal(exchange(&a, "localhost", "\x05\x02\x01\x01", 4, sent, &sent_len, &left), SD_ERR_UNAVAILABLE);
	assert_int_equal(
	        exchange(&a, "localhost", "\x05\x02\x01\x00\x05\x05\x00\x01\0\0\0\0\0\0", 14, sent, &sent_len, &left),
	        SD_ERR_UNAVAILABLE);
	assert_non_null(strstr(sd_error_detail(), "connection refused"));
}

/* --- the config file and the https layer --------------------------------------------- */

static void test_config_setting(void **state)
{
	cli_config_t c;

	(void)state;
	assert_int_equal(cli_config_parse("t.conf", "socks5 127.0.0.1:9050\n", 22, &c), 0);
	assert_string_equal(c.value[CLI_CONFIG_SOCKS5], "127.0.0.1:9050");
	cli_config_free(&c);
	assert_int_equal(cli_config_parse("t.conf", "socks5 127.0.0.1\n", 17, &c), SD_ERR_CONFIG);
	assert_non_null(strstr(sd_error_detail(), "t.conf:1: 'socks5' must be HOST:PORT"));
	assert_int_equal(cli_config_parse("t.conf", "socks5 a:1\nsocks5 b:2\n", 22, &c), SD_ERR_CONFIG);
	assert_non_null(strstr(sd_error_detail(), "set a second time (first on line 1)"));
}

static void test_onion_needs_proxy(void **state)
{
	static const char *const onion[] = {"x.onion", "X.ONION", "abc.onion.", "a.b.onion"};
	static const char *const not_onion[] = {"onion", "x.onion.example", "xonion", "localhost", ".onio"};
	cli_https_config_t cfg = {.url = "https://abcdef.onion:8443", .ca_file = "/nonexistent/ca.pem"};
	cli_https_ctx_t *ctx = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(onion) / sizeof(onion[0]); i++)
		assert_true(cli_https_host_is_onion(onion[i]));
	for (size_t i = 0; i < sizeof(not_onion) / sizeof(not_onion[0]); i++)
		assert_false(cli_https_host_is_onion(not_onion[i]));
	/* before anything is read: refused */
	assert_false(cli_https_socks5_is_set());
	assert_int_equal(cli_https_ctx_new(&cfg, &ctx), SD_ERR_USAGE);
	assert_non_null(strstr(sd_error_detail(), "needs --socks5 127.0.0.1:9050"));
	assert_int_equal(cli_https_socks5_set("127.0.0.1"), SD_ERR_USAGE);
	assert_false(cli_https_socks5_is_set());
	/* with the proxy, the onion URL goes on (and fails at the CA file it does not have) */
	assert_int_equal(cli_https_socks5_set("127.0.0.1:9050"), 0);
	assert_true(cli_https_socks5_is_set());
	assert_int_equal(cli_https_ctx_new(&cfg, &ctx), SD_ERR_NOENT);
	assert_null(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_proxy_parse),    cmocka_unit_test(test_greeting_and_choice),
	        cmocka_unit_test(test_auth),           cmocka_unit_test(test_connect_request),
	        cmocka_unit_test(test_reply_head),     cmocka_unit_test(test_handshake),
	        cmocka_unit_test(test_config_setting), cmocka_unit_test(test_onion_needs_proxy),
	};

	return cmocka_run_group_tests(tests, unit_setup, NULL);
}
