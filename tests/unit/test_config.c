/*
 * test_config.c — sealdropd.conf(5): every setting accepted at its bounds and refused past
 * them with the exact message, units, quoting, comments, duplicates, every error of a
 * file reported with its line, refused bytes (NUL, control characters, bad UTF-8, long
 * lines), the example file as the writer's output, and the holiday calendar the case
 * deadlines count with (Civil Act Arts. 157 and 161), checked against the real 2026 table.
 *
 * Run from the top of the tree (as scripts/run-tests.sh does). SD_WRITE_CONFIG_EXAMPLE=1
 * rewrites server/sealdropd.conf.example from sd_config_write() instead of comparing.
 */
#include "unit.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sealdrop/config.h"
#include "sealdrop/fileio.h"

#define EXAMPLE_PATH "server/sealdropd.conf.example"
#define MANPAGE_PATH "docs/sealdropd.conf.5"
#define MAX_KEPT     64

struct errs {
	size_t n;
	char msg[MAX_KEPT][800];
};

static struct errs E;

static void collect(void *ctx, const char *m)
{
	struct errs *e = ctx;

	if (e->n < MAX_KEPT)
		snprintf(e->msg[e->n], sizeof(e->msg[0]), "%s", m);
	e->n++;
}

/* Parses text (as "t.conf"), checking that the callback and the count agree. */
static int parse(const char *text, size_t len, sd_config_t *c)
{
	size_t n = 12345;
	int r;

	memset(&E, 0, sizeof(E));
	r = sd_config_parse(text, len, "t.conf", c, collect, &E, &n);
	assert_int_equal(n, E.n);
	assert_true((r == 0) == (n == 0));
	if (r != 0) {
		assert_int_equal(r, SD_ERR_CONFIG);
		assert_null(c->dir);
		assert_null(c->hostnames);
		assert_null(c->holidays);
	}
	return r;
}

static int parse_str(const char *text, sd_config_t *c)
{
	return parse(text, strlen(text), c);
}

/* Parses text and expects exactly one error, message `want`. */
static void expect_error(const char *text, const char *want)
{
	sd_config_t c;

	if (parse_str(text, &c) == 0)
		fail_msg("accepted: %s", text);
	if (E.n != 1 || strcmp(E.msg[0], want) != 0)
		fail_msg("for [%s]\n  got (%zu) %s\n want %s", text, E.n, E.msg[0], want);
}

static sd_config_t expect_ok_len(const char *text, size_t len)
{
	sd_config_t c;

	if (parse(text, len, &c) != 0)
		fail_msg("refused [%.200s]: %s", text, E.msg[0]);
	return c;
}

static sd_config_t expect_ok(const char *text)
{
	return expect_ok_len(text, strlen(text));
}

static void append(char *buf, size_t cap, size_t *at, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t cap, size_t *at, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *at, cap - *at, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < cap - *at);
	*at += (size_t)n;
}

/* The numeric fields, written out independently of the module's own table. */
static uint64_t num(const sd_config_t *c, const char *name)
{
	static const struct {
		const char *name;
		size_t off;
		bool wide;
	} f[] = {
	        {"head_interval", offsetof(sd_config_t, head_interval), false},
	        {"max_header_bytes", offsetof(sd_config_t, max_header_bytes), true},
	        {"chunk_bytes", offsetof(sd_config_t, chunk_bytes), true},
	        {"max_package_bytes", offsetof(sd_config_t, max_package_bytes), true},
	        {"body_budget_bytes", offsetof(sd_config_t, body_budget_bytes), true},
	        {"max_connections", offsetof(sd_config_t, max_connections), false},
	        {"max_connections_per_cert", offsetof(sd_config_t, max_connections_per_cert), false},
	        {"max_uploads_per_account", offsetof(sd_config_t, max_uploads_per_account), false},
	        {"request_timeout", offsetof(sd_config_t, request_timeout), false},
	        {"idle_timeout", offsetof(sd_config_t, idle_timeout), false},
	        {"slow_body_timeout", offsetof(sd_config_t, slow_body_timeout), false},
	        {"header_timeout", offsetof(sd_config_t, header_timeout), false},
	        {"min_body_rate", offsetof(sd_config_t, min_body_rate), true},
	        {"store_max_bytes", offsetof(sd_config_t, store_max_bytes), true},
	        {"upload_expiry_days", offsetof(sd_config_t, upload_expiry_days), false},
	        {"anon_rate_per_minute", offsetof(sd_config_t, anon_rate_per_minute), false},
	        {"pow_bits", offsetof(sd_config_t, pow_bits), false},
	        {"retention_days", offsetof(sd_config_t, retention_days), false},
	};
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (strcmp(f[i].name, name) == 0) {
			const char *base = (const char *)c + f[i].off;
			return f[i].wide ? *(const uint64_t *)(const void *)base
			                 : *(const uint32_t *)(const void *)base;
		}
	fail_msg("no numeric setting %s", name);
	return 0;
}

static void test_defaults(void **state)
{
	(void)state;
	sd_config_t c;

	assert_int_equal(sd_config_defaults(&c), 0);
	assert_null(c.dir);
	assert_int_equal(c.listen_family, AF_INET);
	assert_string_equal(c.listen_addr, "127.0.0.1");
	assert_int_equal(c.listen_port, 8443);
	assert_int_equal(c.n_hostnames, 2);
	assert_string_equal(c.hostnames[0], "localhost");
	assert_string_equal(c.hostnames[1], "127.0.0.1");
	assert_string_equal(c.user, "sealdrop");
	assert_int_equal(c.log_level, SD_LOG_INFO);
	assert_int_equal(c.head_interval, 3600);
	assert_int_equal(c.max_header_bytes, 8u << 20);
	assert_int_equal(c.chunk_bytes, 2u << 20);
	assert_true(c.chunk_bytes >= SD_CONFIG_CHUNK_MIN);
	assert_int_equal(c.max_package_bytes, 2ull << 30);
	assert_int_equal(c.body_budget_bytes, 256u << 20);
	assert_int_equal(c.max_connections, 1024);
	assert_int_equal(c.max_connections_per_cert, 16);
	assert_int_equal(c.max_uploads_per_account, 64);
	assert_int_equal(c.request_timeout, 60);
	assert_int_equal(c.idle_timeout, 30);
	assert_int_equal(c.slow_body_timeout, 20);
	assert_int_equal(c.upload_expiry_days, 7);
	assert_int_equal(c.anon_rate_per_minute, 60);
	assert_int_equal(c.pow_bits, 20);
	assert_int_equal(c.retention_days, 0); /* keep every case: a period is chosen, not defaulted */
	assert_int_equal(c.n_holidays, 40);
	assert_true(sd_config_has_holidays_in(&c, 2026));
	assert_true(sd_config_has_holidays_in(&c, 2027));
	assert_false(sd_config_has_holidays_in(&c, 2028));
	sd_config_free(&c);
	assert_null(c.hostnames);
	sd_config_free(&c); /* an emptied config frees again harmlessly */
}

static void test_minimal_file(void **state)
{
	(void)state;
	sd_config_t c = expect_ok("dir /srv/sealdrop\n"), d;

	assert_string_equal(c.dir, "/srv/sealdrop");
	assert_int_equal(sd_config_defaults(&d), 0);
	assert_false(sd_config_equal(&c, &d)); /* d has no dir */
	d.dir = strdup("/srv/sealdrop");
	assert_true(sd_config_equal(&c, &d));
	d.pow_bits = 21;
	assert_false(sd_config_equal(&c, &d));
	sd_config_free(&c);
	sd_config_free(&d);
	/* No final newline. */
	c = expect_ok("dir /srv/sealdrop");
	assert_string_equal(c.dir, "/srv/sealdrop");
	sd_config_free(&c);
}

/* Every numeric setting at both bounds (accepted) and just past them (refused). */
static void test_numeric_bounds(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		uint64_t min, max;
		const char *lo, *hi; /* as the message writes them */
		const char *extra;   /* lines the bounds need to satisfy the cross checks */
	} t[] = {
	        {"head_interval", 60, 86400, "1m", "1d", ""},
	        {"max_header_bytes", 4096, 8u << 20, "4K", "8M", ""},
	        {"chunk_bytes", (1u << 20) + 40, 4u << 20, "1048616", "4M", ""},
	        {"max_package_bytes", 1u << 20, 1024ull << 30, "1M", "1024G", ""},
	        {"body_budget_bytes", (1u << 20) + 40, 64ull << 30, "1048616", "64G",
	         "chunk_bytes 1048616\nmax_header_bytes 4K\n"},
	        {"max_connections", 1, 65536, "1", "65536", "max_connections_per_cert 1\n"},
	        {"max_connections_per_cert", 1, 65536, "1", "65536", "max_connections 65536\n"},
	        {"max_uploads_per_account", 1, 100000, "1", "100000", ""},
	        {"request_timeout", 1, 3600, "1s", "1h", ""},
	        {"idle_timeout", 1, 3600, "1s", "1h", ""},
	        {"slow_body_timeout", 1, 3600, "1s", "1h", ""},
	        {"header_timeout", 1, 3600, "1s", "1h", ""},
	        {"min_body_rate", 0, 1ull << 30, "0", "1G", ""},
	        {"store_max_bytes", 1u << 20, 16384ull << 30, "1M", "16384G", ""},
	        {"upload_expiry_days", 1, 365, "1", "365", ""},
	        {"anon_rate_per_minute", 1, 1000000, "1", "1000000", ""},
	        {"pow_bits", 0, 32, "0", "32", ""},
	        {"retention_days", 0, 36500, "0", "36500", ""},
	};
	char text[512], want[512];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint64_t ok[2] = {t[i].min, t[i].max};
		for (int k = 0; k < 2; k++) {
			snprintf(text, sizeof(text), "dir /x\n%s %llu\n%s", t[i].name, (unsigned long long)ok[k],
			         t[i].extra);
			sd_config_t c = expect_ok(text);
			assert_int_equal(num(&c, t[i].name), ok[k]);
			sd_config_free(&c);
		}
		uint64_t bad[2] = {t[i].min - 1, t[i].max + 1};
		for (int k = t[i].min == 0; k < 2; k++) {
			snprintf(text, sizeof(text), "dir /x\n%s %llu\n%s", t[i].name, (unsigned long long)bad[k],
			         t[i].extra);
			snprintf(want, sizeof(want), "t.conf:2: '%s' must be from %s to %s, not %llu", t[i].name,
			         t[i].lo, t[i].hi, (unsigned long long)bad[k]);
			expect_error(text, want);
		}
		/* Not numbers at all; overflow is out of range, not wrapped. */
		snprintf(text, sizeof(text), "dir /x\n%s -1\n", t[i].name);
		snprintf(want, sizeof(want), "t.conf:2: '%s' is not a number: '-1'", t[i].name);
		expect_error(text, want);
		snprintf(text, sizeof(text), "dir /x\n%s 18446744073709551616\n", t[i].name);
		snprintf(want, sizeof(want), "t.conf:2: '%s' must be from %s to %s, not 18446744073709551616",
		         t[i].name, t[i].lo, t[i].hi);
		expect_error(text, want);
	}
}

static void test_units(void **state)
{
	(void)state;
	static const struct {
		const char *line, *name;
		uint64_t want;
	} ok[] = {
	        {"head_interval 1h", "head_interval", 3600},
	        {"head_interval 90m", "head_interval", 5400},
	        {"head_interval 120s", "head_interval", 120},
	        {"head_interval 1d", "head_interval", 86400},
	        {"head_interval 0060", "head_interval", 60},
	        {"request_timeout 2m", "request_timeout", 120},
	        {"idle_timeout 45", "idle_timeout", 45},
	        {"slow_body_timeout 1m", "slow_body_timeout", 60},
	        {"max_header_bytes 64K", "max_header_bytes", 65536},
	        {"max_header_bytes 64KiB", "max_header_bytes", 65536},
	        {"max_header_bytes 1M", "max_header_bytes", 1 << 20},
	        {"max_header_bytes 1MiB", "max_header_bytes", 1 << 20},
	        {"max_header_bytes 8388608", "max_header_bytes", 8 << 20},
	        {"chunk_bytes 3M", "chunk_bytes", 3 << 20},
	        {"max_package_bytes 1G", "max_package_bytes", 1ull << 30},
	        {"max_package_bytes 10GiB", "max_package_bytes", 10ull << 30},
	        {"max_package_bytes 1536M", "max_package_bytes", 1536ull << 20},
	        {"body_budget_bytes 1G", "body_budget_bytes", 1ull << 30},
	};
	static const struct {
		const char *line, *want;
	} bad[] = {
	        {"head_interval 1H", "t.conf:2: 'head_interval' has an unknown unit: '1H' (units: s, m, h or d)"},
	        {"head_interval 1w", "t.conf:2: 'head_interval' has an unknown unit: '1w' (units: s, m, h or d)"},
	        {"head_interval 1 h", "t.conf:2: 'head_interval' takes one value (quote it to keep spaces)"},
	        {"head_interval h", "t.conf:2: 'head_interval' is not a number: 'h'"},
	        {"head_interval 1.5h", "t.conf:2: 'head_interval' has an unknown unit: '1.5h' (units: s, m, h or d)"},
	        {"head_interval +60", "t.conf:2: 'head_interval' is not a number: '+60'"},
	        {"head_interval 1hh", "t.conf:2: 'head_interval' has an unknown unit: '1hh' (units: s, m, h or d)"},
	        {"max_header_bytes 8MB",
	         "t.conf:2: 'max_header_bytes' has an unknown unit: '8MB' (units: K, M or G, powers of 1024)"},
	        {"max_header_bytes 8m",
	         "t.conf:2: 'max_header_bytes' has an unknown unit: '8m' (units: K, M or G, powers of 1024)"},
	        {"max_header_bytes 8Mi",
	         "t.conf:2: 'max_header_bytes' has an unknown unit: '8Mi' (units: K, M or G, powers of 1024)"},
	        {"max_header_bytes 9M", "t.conf:2: 'max_header_bytes' must be from 4K to 8M, not 9M"},
	        {"chunk_bytes 1M", "t.conf:2: 'chunk_bytes' must be from 1048616 to 4M, not 1M"},
	        {"chunk_bytes 5M", "t.conf:2: 'chunk_bytes' must be from 1048616 to 4M, not 5M"},
	        {"max_package_bytes 17179869184G",
	         "t.conf:2: 'max_package_bytes' must be from 1M to 1024G, not 17179869184G"},
	        {"pow_bits 20K", "t.conf:2: 'pow_bits' takes a plain number, not '20K'"},
	        {"upload_expiry_days 7d", "t.conf:2: 'upload_expiry_days' takes a plain number, not '7d'"},
	        {"retention_days 10y", "t.conf:2: 'retention_days' takes a plain number, not '10y'"},
	        {"idle_timeout 2h", "t.conf:2: 'idle_timeout' must be from 1s to 1h, not 2h"},
	        {"idle_timeout 0", "t.conf:2: 'idle_timeout' must be from 1s to 1h, not 0"},
	        {"max_connections", "t.conf:2: 'max_connections' needs a value"},
	        {"max_connections =", "t.conf:2: 'max_connections' needs a value"},
	};
	char text[256];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(text, sizeof(text), "dir /x\n%s\n", ok[i].line);
		sd_config_t c = expect_ok(text);
		if (num(&c, ok[i].name) != ok[i].want)
			fail_msg("%s gave %llu", ok[i].line, (unsigned long long)num(&c, ok[i].name));
		sd_config_free(&c);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "dir /x\n%s\n", bad[i].line);
		expect_error(text, bad[i].want);
	}
}

static void test_listen(void **state)
{
	(void)state;
	static const struct {
		const char *value, *addr;
		int family, port;
	} ok[] = {
	        {"127.0.0.1:8443", "127.0.0.1", AF_INET, 8443},
	        {"0.0.0.0:443", "0.0.0.0", AF_INET, 443},
	        {"192.0.2.7:1", "192.0.2.7", AF_INET, 1},
	        {"10.0.0.1:65535", "10.0.0.1", AF_INET, 65535},
	        {"[::1]:8443", "::1", AF_INET6, 8443},
	        {"[::]:443", "::", AF_INET6, 443},
	        {"[2001:DB8:0:0::1]:8443", "2001:db8::1", AF_INET6, 8443},
	        {"\"[::1]:9000\"", "::1", AF_INET6, 9000},
	};
	static const char *const bad[] = {
	        "127.0.0.1",      "127.0.0.1:0",      "127.0.0.1:65536",  "127.0.0.1:",
	        "localhost:8443", "::1:8443",         "[::1]8443",        "[::1]:",
	        "[::1",           "1.2.3:80",         "1.2.3.4.5:80",     "256.1.1.1:80",
	        "127.0.0.1:http", "127.0.0.1:-1",     "[127.0.0.1]:80",   "::1]:80",
	        ":8443",          "127.0.0.1:8443:1", "[fe80::1%eth0]:1", "127.0.0.1:100000",
	        "[::1]:8443x",    "0x7f.1.1.1:1",     "127.0.0.1: 8443x",
	};
	char text[256], want[512];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(text, sizeof(text), "dir /x\nlisten %s\n", ok[i].value);
		sd_config_t c = expect_ok(text);
		assert_string_equal(c.listen_addr, ok[i].addr);
		assert_int_equal(c.listen_family, ok[i].family);
		assert_int_equal(c.listen_port, ok[i].port);
		sd_config_free(&c);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sd_config_t c;
		snprintf(text, sizeof(text), "dir /x\nlisten %s\n", bad[i]);
		if (parse_str(text, &c) == 0)
			fail_msg("listen %s accepted", bad[i]);
		assert_int_equal(E.n, 1);
		if (strchr(bad[i], ' ') == NULL) {
			snprintf(want, sizeof(want),
			         "t.conf:2: 'listen' must be an IPv4 address and port (127.0.0.1:8443) or a bracketed "
			         "IPv6 "
			         "address and port ([::1]:8443), port 1-65535, not '%s'",
			         bad[i]);
			assert_string_equal(E.msg[0], want);
		}
	}
}

static void test_hostname(void **state)
{
	(void)state;
	char text[1024], label63[64], name253[256], want[512];
	sd_config_t c;

	c = expect_ok("dir /x\nhostname Drop.Example.ORG\nhostname sd-1.example\n hostname ::1\nhostname 10.0.0.1\n"
	              "hostname localhost\nhostname 2001:DB8::0:1\nhostname x\n");
	assert_int_equal(c.n_hostnames, 7); /* replaces the default two, does not add to them */
	assert_string_equal(c.hostnames[0], "drop.example.org");
	assert_string_equal(c.hostnames[1], "sd-1.example");
	assert_string_equal(c.hostnames[2], "::1");
	assert_string_equal(c.hostnames[3], "10.0.0.1");
	assert_string_equal(c.hostnames[4], "localhost");
	assert_string_equal(c.hostnames[5], "2001:db8::1");
	assert_string_equal(c.hostnames[6], "x");
	sd_config_free(&c);

	memset(label63, 'a', 63);
	label63[63] = '\0';
	snprintf(text, sizeof(text), "dir /x\nhostname %s.example\n", label63);
	c = expect_ok(text);
	sd_config_free(&c);
	/* 253 bytes: labels of 63, 63, 63 and 61 with dots between; 254 is one too many. */
	memset(name253, 'a', sizeof(name253));
	name253[63] = name253[127] = name253[191] = '.';
	name253[253] = '\0';
	snprintf(text, sizeof(text), "dir /x\nhostname %s\n", name253);
	c = expect_ok(text);
	sd_config_free(&c);

	static const char *const bad[] = {
	        "-a.example", "a-.example", "a..b",      "a_b.example", "*.example.org", "1.2.3",   "[::1]",     "a.",
	        ".a",         "10.1",       "999.1.1.1", "ex ample",    "\"\"",          "\"a b\"", "é.example",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "dir /x\nhostname %s\n", bad[i]);
		if (parse_str(text, &c) == 0)
			fail_msg("hostname %s accepted", bad[i]);
		assert_int_equal(E.n, 1);
	}
	expect_error("dir /x\nhostname 1.2.3\n",
	             "t.conf:2: 'hostname' must be a DNS name or an IP address, not '1.2.3'");
	snprintf(text, sizeof(text), "dir /x\nhostname a%s.example\n", label63);
	snprintf(want, sizeof(want), "t.conf:2: 'hostname' must be a DNS name or an IP address, not 'a%.59s...'",
	         label63);
	expect_error(text, want);
	name253[253] = 'a';
	name253[254] = '\0';
	snprintf(text, sizeof(text), "dir /x\nhostname %s\n", name253);
	assert_int_equal(parse_str(text, &c), SD_ERR_CONFIG);
	expect_error("dir /x\nhostname a.example\nhostname b\nhostname A.EXAMPLE\n",
	             "t.conf:4: hostname 'a.example' is already listed at line 2");
	expect_error("dir /x\nhostname 127.0.0.1\nhostname localhost\nhostname 127.000.0.1\n",
	             "t.conf:4: 'hostname' must be a DNS name or an IP address, not '127.000.0.1'");

	/* At most 64 names. */
	char big[4096];
	size_t at = 0;
	append(big, sizeof(big), &at, "dir /x\n");
	for (int i = 0; i < 65; i++)
		append(big, sizeof(big), &at, "hostname h%d\n", i);
	expect_error(big, "t.conf:66: more than 64 hostnames");
}

static void test_user_dir_log_level(void **state)
{
	(void)state;
	sd_config_t c;
	char text[512], path[128];

	c = expect_ok("dir /var/lib/sd///\nuser _sd-1\nlog_level debug\n");
	assert_string_equal(c.dir, "/var/lib/sd");
	assert_string_equal(c.user, "_sd-1");
	assert_int_equal(c.log_level, SD_LOG_DEBUG);
	sd_config_free(&c);
	static const struct {
		const char *name;
		sd_log_level_t level;
	} levels[] = {{"error", SD_LOG_ERROR}, {"warn", SD_LOG_WARN}, {"info", SD_LOG_INFO}, {"debug", SD_LOG_DEBUG}};
	for (size_t i = 0; i < 4; i++) {
		snprintf(text, sizeof(text), "dir /x\nlog_level %s\n", levels[i].name);
		c = expect_ok(text);
		assert_int_equal(c.log_level, levels[i].level);
		sd_config_free(&c);
	}
	expect_error("dir /x\nlog_level verbose\n",
	             "t.conf:2: 'log_level' must be error, warn, info or debug, not 'verbose'");
	expect_error("dir /x\nlog_level INFO\n",
	             "t.conf:2: 'log_level' must be error, warn, info or debug, not 'INFO'");

	c = expect_ok("dir /x\nuser abcdefghijklmnopqrstuvwxyz012345\n"); /* 32 */
	assert_string_equal(c.user, "abcdefghijklmnopqrstuvwxyz012345");
	sd_config_free(&c);
	static const char *const bad_users[] = {"Root", "1abc",    "-x",   "abcdefghijklmnopqrstuvwxyz0123456",
	                                        "a.b",  "\"a b\"", "\"\"", "ユーザー"};
	for (size_t i = 0; i < sizeof(bad_users) / sizeof(bad_users[0]); i++) {
		snprintf(text, sizeof(text), "dir /x\nuser %s\n", bad_users[i]);
		if (parse_str(text, &c) == 0)
			fail_msg("user %s accepted", bad_users[i]);
		assert_int_equal(E.n, 1);
	}
	expect_error("dir /x\nuser 1abc\n",
	             "t.conf:2: 'user' must be a user name ([a-z_][a-z0-9_-]{0,31}), not '1abc'");
	expect_error("dir /x\nuser root\n",
	             "t.conf:2: 'user' may not be root: the server drops its privileges to this user");

	c = expect_ok("dir \"/srv/my drop\"\n");
	assert_string_equal(c.dir, "/srv/my drop");
	sd_config_free(&c);
	expect_error("dir var/lib/sd\n", "t.conf:1: 'dir' must be an absolute path, not 'var/lib/sd'");
	expect_error("dir //\n", "t.conf:1: 'dir' may not be the root directory");
	expect_error("dir \"\"\n", "t.conf:1: 'dir' must be an absolute path, not ''");
	/* 94 bytes fit DIR/control.sock in a Unix socket address; 95 do not. */
	memset(path, 'd', sizeof(path));
	path[0] = '/';
	path[94] = '\0';
	snprintf(text, sizeof(text), "dir %s\n", path);
	c = expect_ok(text);
	assert_int_equal(strlen(c.dir), 94);
	sd_config_free(&c);
	snprintf(text, sizeof(text), "dir %s/\n", path); /* the trailing slash does not count */
	c = expect_ok(text);
	sd_config_free(&c);
	path[94] = 'd';
	path[95] = '\0';
	snprintf(text, sizeof(text), "dir %s\n", path);
	expect_error(text, "t.conf:1: 'dir' is 95 bytes, more than 94: DIR/control.sock must fit a Unix socket path");
}

static void test_quoting_and_comments(void **state)
{
	(void)state;
	static const struct {
		const char *text, *dir;
	} ok[] = {
	        {"dir /a\n", "/a"},
	        {"dir = /a\n", "/a"},
	        {"dir=/a\n", "/a"},
	        {"dir =/a\n", "/a"},
	        {"\t dir \t = \t /a \t \n", "/a"},
	        {"dir /a # the state\n", "/a"},
	        {"dir /a#no space needed\n", "/a"},
	        {"dir \"/a b\"\n", "/a b"},
	        {"dir \"/a#b\" # c\n", "/a#b"},
	        {"dir \"/a\"#c\n", "/a"},
	        {"dir \"/a\\\"b\"\n", "/a\"b"},
	        {"dir \"/a\\\\b\"\n", "/a\\b"},
	        {"dir \"/a=b\"\n", "/a=b"},
	        {"dir \"/디렉터리\"\n", "/디렉터리"},
	        {"# comment\n\n   \n\t\n  # indented comment\ndir /a\n#\n", "/a"},
	        {"#dir /b\ndir /a\n", "/a"},
	        {"dir 'a'\n", NULL},
	};
	static const struct {
		const char *text, *want;
	} bad[] = {
	        {"dir \"/a\n", "t.conf:1: unterminated quoted value (column 5)"},
	        {"dir \"/a\\nb\"\n", "t.conf:1: only \\\" and \\\\ may follow a backslash (column 8)"},
	        {"dir \"/a\\", "t.conf:1: only \\\" and \\\\ may follow a backslash (column 8)"},
	        {"dir \"/a\"b\n", "t.conf:1: expected a space after the closing quote (column 9)"},
	        {"dir \"/a\"\"/b\"\n", "t.conf:1: expected a space after the closing quote (column 9)"},
	        {"dir /a\"b\"\n", "t.conf:1: a quote inside a word (column 7)"},
	        {"dir /a /b\n", "t.conf:1: 'dir' takes one value (quote it to keep spaces)"},
	        {"dir /x\n= /a\n", "t.conf:2: expected a setting name at column 1"},
	        {"dir /x\n\"dir\" /a\n", "t.conf:2: expected a setting name at column 1"},
	        {"dir /x\n  =\n", "t.conf:2: expected a setting name at column 3"},
	        {"dir = = /a\n", "t.conf:1: 'dir' takes one value (quote it to keep spaces)"},
	};
	sd_config_t c;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (ok[i].dir == NULL) {
			assert_int_equal(parse_str(ok[i].text, &c), SD_ERR_CONFIG);
			continue;
		}
		c = expect_ok(ok[i].text);
		if (strcmp(c.dir, ok[i].dir) != 0)
			fail_msg("[%s] gave dir '%s'", ok[i].text, c.dir);
		sd_config_free(&c);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_error(bad[i].text, bad[i].want);
	/* More than 64 words on a line. */
	char text[512];
	size_t at = 0;
	append(text, sizeof(text), &at, "dir /x\nholiday 2026-01-01");
	for (int i = 0; i < 64; i++)
		append(text, sizeof(text), &at, " w");
	expect_error(text, "t.conf:2: more than 64 words on one line");
}

static void test_unknown_and_duplicates(void **state)
{
	(void)state;

	expect_error("dir /x\nlisten_on 127.0.0.1:1\n", "t.conf:2: unknown setting 'listen_on'");
	expect_error("dir /x\n\n\nLISTEN 127.0.0.1:1\n", "t.conf:4: unknown setting 'LISTEN'");
	expect_error("dir /x\n설정 1\n", "t.conf:2: unknown setting '설정'");
	expect_error("dir /x\nlisten=\n", "t.conf:2: 'listen' needs a value");
	expect_error("dir /x\nlisten 127.0.0.1:1\n# c\nlisten 127.0.0.1:2\n",
	             "t.conf:4: 'listen' is already set at line 2");
	expect_error("dir /x\ndir /y\n", "t.conf:2: 'dir' is already set at line 1");
	/* A setting whose value was refused is still set: a second line is a duplicate, and a
	 * refused dir does not also count as a missing one. */
	sd_config_t c;
	assert_int_equal(parse_str("dir relative\npow_bits 300\npow_bits 3\n", &c), SD_ERR_CONFIG);
	assert_int_equal(E.n, 3);
	assert_string_equal(E.msg[2], "t.conf:3: 'pow_bits' is already set at line 2");
	/* Each unknown name is reported, not just the first. */
	assert_int_equal(parse_str("a 1\nb 2\ndir /x\nc 3\n", &c), SD_ERR_CONFIG);
	assert_int_equal(E.n, 3);
	assert_string_equal(E.msg[2], "t.conf:4: unknown setting 'c'");
}

static void test_every_error_reported(void **state)
{
	(void)state;
	static const char text[] = "# a broken file\n"             /* 1 */
	                           "listen 127.0.0.1\n"            /* 2 */
	                           "user root\n"                   /* 3 */
	                           "\n"                            /* 4 */
	                           "head_interval 10s\n"           /* 5 */
	                           "frobnicate yes\n"              /* 6 */
	                           "hostname bad_name\n"           /* 7 */
	                           "holiday 2026-02-30 Nowhere\n"  /* 8 */
	                           "max_connections 8\n"           /* 9 */
	                           "log_level info\n"              /* 10 */
	                           "log_level debug\n"             /* 11 */
	                           "holiday 2026-01-01 New Year\n" /* 12 */
	                           "holiday 2026-01-01 Again\n";   /* 13 */
	static const char *const want[] = {
	        "t.conf:2: 'listen' must be an IPv4 address and port (127.0.0.1:8443) or a bracketed IPv6 address and "
	        "port ([::1]:8443), port 1-65535, not '127.0.0.1'",
	        "t.conf:3: 'user' may not be root: the server drops its privileges to this user",
	        "t.conf:5: 'head_interval' must be from 1m to 1d, not 10s",
	        "t.conf:6: unknown setting 'frobnicate'",
	        "t.conf:7: 'hostname' must be a DNS name or an IP address, not 'bad_name'",
	        "t.conf:8: '2026-02-30' is not a calendar date YYYY-MM-DD",
	        "t.conf:11: 'log_level' is already set at line 10",
	        "t.conf:13: holiday 2026-01-01 is already listed at line 12",
	        "t.conf: missing setting 'dir'",
	        "t.conf:9: 'max_connections_per_cert' (16) is more than 'max_connections' (8)",
	};
	size_t n = sizeof(want) / sizeof(want[0]);
	sd_config_t c;

	assert_int_equal(parse_str(text, &c), SD_ERR_CONFIG);
	assert_int_equal(E.n, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(E.msg[i], want[i]);
	/* The detail names the first error and how many more there were. */
	assert_string_equal(sd_error_detail(),
	                    "t.conf:2: 'listen' must be an IPv4 address and port (127.0.0.1:8443) or a bracketed IPv6 "
	                    "address and port ([::1]:8443), port 1-65535, not '127.0.0.1' (and 9 more errors)");
	/* Without a callback or a count the result is the same. */
	assert_int_equal(sd_config_parse(text, sizeof(text) - 1, "t.conf", &c, NULL, NULL, NULL), SD_ERR_CONFIG);
	assert_null(c.dir);
	/* A single error is the detail as it is. */
	expect_error("dir /x\nbogus 1\n", "t.conf:2: unknown setting 'bogus'");
	assert_string_equal(sd_error_detail(), "t.conf:2: unknown setting 'bogus'");
}

static void test_missing_dir_and_cross_checks(void **state)
{
	(void)state;

	expect_error("", "t.conf: missing setting 'dir'");
	expect_error("# only a comment\n", "t.conf: missing setting 'dir'");
	expect_error("listen 127.0.0.1:1\n", "t.conf: missing setting 'dir'");
	expect_error("dir /x\nmax_connections 10\n",
	             "t.conf:2: 'max_connections_per_cert' (16) is more than 'max_connections' (10)");
	expect_error("max_connections 10\ndir /x\nmax_connections_per_cert 11\n",
	             "t.conf:3: 'max_connections_per_cert' (11) is more than 'max_connections' (10)");
	expect_error("dir /x\nbody_budget_bytes 3M\nchunk_bytes 4M\nmax_header_bytes 1M\n",
	             "t.conf:3: 'body_budget_bytes' (3145728) is less than 'chunk_bytes' (4194304): no chunk could be "
	             "received");
	expect_error(
	        "dir /x\nbody_budget_bytes 4M\n",
	        "t.conf:2: 'body_budget_bytes' (4194304) is less than 'max_header_bytes' (8388608): no header could "
	        "be received");
	sd_config_t c = expect_ok("dir /x\nmax_connections 16\nbody_budget_bytes 8M\n");
	sd_config_free(&c);
}

static void test_line_endings_and_bytes(void **state)
{
	(void)state;
	sd_config_t c, d;
	static const char lf[] = "# c\ndir /x\nlisten [::1]:1\nholiday 2026-01-01 \"New Year\"\n";
	static const char crlf[] = "# c\r\ndir /x\r\nlisten [::1]:1\r\nholiday 2026-01-01 \"New Year\"\r\n";

	c = expect_ok(lf);
	d = expect_ok(crlf);
	assert_true(sd_config_equal(&c, &d));
	assert_string_equal(d.dir, "/x");
	sd_config_free(&c);
	sd_config_free(&d);
	c = expect_ok("\xef\xbb\xbf"
	              "dir /x\r\n"); /* a byte order mark */
	sd_config_free(&c);
	c = expect_ok("dir /x\r"); /* CR at the very end, no LF */
	sd_config_free(&c);

	static const struct {
		const char *text;
		size_t len;
		const char *want;
	} bad[] = {
#define T(s) s, sizeof(s) - 1
	        {T("dir /x\n\0\n"), "t.conf:2: NUL byte at column 1"},
	        {T("dir /x\nuser sd\0x\n"), "t.conf:2: NUL byte at column 8"},
	        {T("dir /x\r\nuser a\rb\r\n"), "t.conf:2: control character 0x0d at column 7"},
	        {T("dir /x\nuser \x1b[31m\n"), "t.conf:2: control character 0x1b at column 6"},
	        {T("dir /x\n# \x7f\n"), "t.conf:2: control character 0x7f at column 3"},
	        {T("dir /x\n# comment \xff\n"), "t.conf:2: invalid UTF-8 at column 11"},
	        {T("dir /x\nuser \xc0\xaf\n"), "t.conf:2: invalid UTF-8 at column 6"},
	        {T("dir /x\n# \xed\xa0\x80 surrogate\n"), "t.conf:2: invalid UTF-8 at column 3"},
	        {T("dir /x\n# cut \xe2\x82\n"), "t.conf:2: invalid UTF-8 at column 7"},
	        {T("dir /x\n# cut at the end \xe2\x82"), "t.conf:2: invalid UTF-8 at column 18"},
	        {T("dir /x\n# next line \xc2\x85\n"), "t.conf:2: control character U+0085 at column 13"},
	        {T("dir /x\n# \xe2\x80\xae reversed\n"), "t.conf:2: control character U+202E at column 3"},
	        {T("dir /x\nholiday 2026-01-01 \"\xe2\x81\xa6x\"\n"),
	         "t.conf:2: control character U+2066 at column 21"},
#undef T
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i].text, bad[i].len, &c) == 0)
			fail_msg("case %zu accepted", i);
		if (E.n != 1 || strcmp(E.msg[0], bad[i].want) != 0)
			fail_msg("case %zu: got (%zu) %s, want %s", i, E.n, E.msg[0], bad[i].want);
	}
	/* A refused line does not hide the errors on the lines after it. */
	static const char three[] = "\xff\ndir /x\n\x01\nbogus 1\n";
	assert_int_equal(parse(three, sizeof(three) - 1, &c), SD_ERR_CONFIG);
	assert_int_equal(E.n, 3);
	assert_string_equal(E.msg[0], "t.conf:1: invalid UTF-8 at column 1");
	assert_string_equal(E.msg[1], "t.conf:3: control character 0x01 at column 1");
	assert_string_equal(E.msg[2], "t.conf:4: unknown setting 'bogus'");
}

static void test_limits(void **state)
{
	(void)state;
	size_t cap = SD_CONFIG_MAX_BYTES + 16;
	char *text = malloc(cap);
	sd_config_t c;

	assert_non_null(text);
	/* A line of exactly 4096 bytes is fine, with LF or CRLF; 4097 is not. */
	memcpy(text, "dir /x\n#", 8);
	memset(text + 8, 'x', 4095);
	memcpy(text + 8 + 4095, "\r\n", 2);
	c = expect_ok_len(text, 8 + 4095 + 2);
	sd_config_free(&c);
	text[8 + 4095] = 'x';
	text[8 + 4096] = '\n';
	assert_int_equal(parse(text, 8 + 4097, &c), SD_ERR_CONFIG);
	assert_int_equal(E.n, 1);
	assert_string_equal(E.msg[0], "t.conf:2: line is longer than 4096 bytes");
	/* A long line is refused whole, even when it would hold a valid setting. */
	memcpy(text, "dir /x\nuser sd #", 16);
	memset(text + 16, ' ', 4090);
	text[16 + 4090] = '\n';
	assert_int_equal(parse(text, 16 + 4091, &c), SD_ERR_CONFIG);
	assert_string_equal(E.msg[0], "t.conf:2: line is longer than 4096 bytes");

	/* A file of exactly 1 MiB parses; one byte more does not. */
	memcpy(text, "dir /x\n", 7);
	for (size_t at = 7; at < SD_CONFIG_MAX_BYTES; at += 64) {
		size_t n = SD_CONFIG_MAX_BYTES - at < 64 ? SD_CONFIG_MAX_BYTES - at : 64;
		memset(text + at, '#', n);
		text[at + n - 1] = '\n';
	}
	c = expect_ok_len(text, SD_CONFIG_MAX_BYTES);
	sd_config_free(&c);
	text[SD_CONFIG_MAX_BYTES] = '\n';
	assert_int_equal(parse(text, SD_CONFIG_MAX_BYTES + 1, &c), SD_ERR_CONFIG);
	assert_int_equal(E.n, 1);
	assert_string_equal(E.msg[0], "t.conf: larger than 1048576 bytes");
	free(text);
}

/* The 2026 public holidays of Korea, as an operator would write them. */
static const char holidays_2026[] = "dir /x\n"
                                    "holiday 2026-01-01 \"New Year's Day\"\n"
                                    "holiday 2026-02-16 Seollal\n"
                                    "holiday 2026-02-17 Seollal\n"
                                    "holiday 2026-02-18 Seollal\n"
                                    "holiday 2026-03-01 Independence Movement Day\n"
                                    "holiday 2026-03-02 \"Independence Movement Day (substitute)\"\n"
                                    "holiday 2026-05-05 어린이날\n"
                                    "holiday 2026-05-24 부처님오신날\n"
                                    "holiday 2026-05-25 대체공휴일\n"
                                    "holiday 2026-06-03 \"Local elections\"\n"
                                    "holiday 2026-06-06 Memorial Day\n"
                                    "holiday 2026-08-15 Liberation Day\n"
                                    "holiday 2026-08-17 Liberation Day (substitute)\n"
                                    "# Chuseok, out of order on purpose\n"
                                    "holiday 2026-09-26 Chuseok\n"
                                    "holiday 2026-09-24 Chuseok\n"
                                    "holiday 2026-09-25 Chuseok\n"
                                    "holiday = 2026-10-03 National Foundation Day\n"
                                    "holiday 2026-10-05 National Foundation Day (substitute)\n"
                                    "holiday 2026-10-09 Hangul Day\n"
                                    "holiday 2026-12-25 \"Christmas Day\" # 성탄절\n";

static sd_date_t D(int y, int m, int d)
{
	return (sd_date_t){y, m, d};
}

static void test_holiday_parsing(void **state)
{
	(void)state;
	sd_config_t c = expect_ok(holidays_2026), d;

	assert_int_equal(c.n_holidays, 20);
	for (size_t i = 1; i < c.n_holidays; i++)
		assert_true(sd_date_cmp(c.holidays[i - 1].date, c.holidays[i].date) < 0);
	assert_string_equal(c.holidays[0].name, "New Year's Day");
	assert_string_equal(c.holidays[4].name, "Independence Movement Day");
	assert_string_equal(c.holidays[6].name, "어린이날");
	assert_string_equal(c.holidays[12].name, "Liberation Day (substitute)");
	assert_int_equal(sd_date_to_u32(c.holidays[13].date), 20260924);
	assert_int_equal(sd_date_to_u32(c.holidays[15].date), 20260926);
	assert_string_equal(c.holidays[19].name, "Christmas Day");
	/* The built-in table has the same dates, then 2027's 20 (test_builtin_holidays). */
	assert_int_equal(sd_config_defaults(&d), 0);
	assert_int_equal(d.n_holidays, c.n_holidays + 20);
	for (size_t i = 0; i < c.n_holidays; i++)
		assert_int_equal(sd_date_cmp(c.holidays[i].date, d.holidays[i].date), 0);
	sd_config_free(&d);
	sd_config_free(&c);

	/* A file that lists holidays replaces the built-in table. */
	c = expect_ok("dir /x\nholiday 2027-01-01 New Year\n");
	assert_int_equal(c.n_holidays, 1);
	assert_false(sd_config_has_holidays_in(&c, 2026));
	assert_true(sd_config_has_holidays_in(&c, 2027));
	sd_config_free(&c);
	/* Several words join with single spaces; quoted names keep theirs. */
	c = expect_ok("dir /x\nholiday 2026-01-01   New \t Year  # x\nholiday 2026-01-02 \"  two  spaces \"\n");
	assert_string_equal(c.holidays[0].name, "New Year");
	assert_string_equal(c.holidays[1].name, "  two  spaces ");
	sd_config_free(&c);

	expect_error("dir /x\nholiday 2026-01-01\n",
	             "t.conf:2: 'holiday' needs a date and a name: holiday YYYY-MM-DD name");
	expect_error("dir /x\nholiday\n", "t.conf:2: 'holiday' needs a date and a name: holiday YYYY-MM-DD name");
	expect_error("dir /x\nholiday 2026-1-1 x\n", "t.conf:2: '2026-1-1' is not a calendar date YYYY-MM-DD");
	expect_error("dir /x\nholiday 2025-02-29 x\n", "t.conf:2: '2025-02-29' is not a calendar date YYYY-MM-DD");
	expect_error("dir /x\nholiday Chuseok 2026-09-25\n", "t.conf:2: 'Chuseok' is not a calendar date YYYY-MM-DD");
	expect_error("dir /x\nholiday 2026-01-01 \"\"\n", "t.conf:2: a holiday's name must be 1 to 128 bytes long");
	expect_error("dir /x\nholiday 2026-05-05 a\n\nholiday 2026-05-05 b\n",
	             "t.conf:4: holiday 2026-05-05 is already listed at line 2");
	char text[512], name[130];
	memset(name, 'n', 129);
	name[129] = '\0';
	snprintf(text, sizeof(text), "dir /x\nholiday 2026-01-01 %s\n", name);
	expect_error(text, "t.conf:2: a holiday's name must be 1 to 128 bytes long");
	name[128] = '\0';
	snprintf(text, sizeof(text), "dir /x\nholiday 2026-01-01 %.64s %.63s\n", name, name);
	c = expect_ok(text);
	assert_int_equal(strlen(c.holidays[0].name), 128);
	sd_config_free(&c);
}

static void test_holiday_limit(void **state)
{
	(void)state;
	char *text = malloc(64 * 1002);
	size_t at = 0;
	sd_config_t c;
	sd_date_t d = {2000, 1, 1};

	assert_non_null(text);
	append(text, 64 * 1002, &at, "dir /x\n");
	for (int i = 0; i < 1000; i++, d = sd_date_add_days(d, 1)) {
		char date[SD_DATE_TEXT_BYTES];
		sd_date_format(d, date);
		append(text, 64 * 1002, &at, "holiday %s h%d\n", date, i);
	}
	c = expect_ok_len(text, at);
	assert_int_equal(c.n_holidays, 1000);
	/* 1000 days in a row off: the next working day is after the run. */
	assert_int_equal(sd_date_to_u32(sd_config_next_working_day(&c, D(2000, 1, 1))), 20020927);
	sd_config_free(&c);
	append(text, 64 * 1002, &at, "holiday 1999-12-31 one too many\n");
	assert_int_equal(parse(text, at, &c), SD_ERR_CONFIG);
	assert_int_equal(E.n, 1);
	assert_string_equal(E.msg[0], "t.conf:1002: more than 1000 holidays");
	free(text);
}

/* Day of the week from the C library (0 Sunday), independent of the module's arithmetic. */
static int weekday(sd_date_t d)
{
	struct tm tm = {.tm_year = d.y - 1900, .tm_mon = d.m - 1, .tm_mday = d.d, .tm_hour = 12};
	time_t t = timegm(&tm);
	struct tm out;

	assert_non_null(gmtime_r(&t, &out));
	return out.tm_wday;
}

static void test_next_working_day(void **state)
{
	(void)state;
	sd_config_t c = expect_ok(holidays_2026);
	static const struct {
		sd_date_t from;
		uint32_t want;
	} t[] = {
	        {{2026, 9, 23}, 20260923},  /* a Wednesday: itself */
	        {{2026, 9, 24}, 20260928},  /* Chuseok Thu-Sat, then Sunday */
	        {{2026, 9, 26}, 20260928},  /* Chuseok on a Saturday */
	        {{2026, 9, 27}, 20260928},  /* Sunday */
	        {{2026, 2, 14}, 20260219},  /* Saturday, Sunday, Seollal Mon-Wed */
	        {{2026, 2, 18}, 20260219},  /* the last day of Seollal */
	        {{2026, 2, 28}, 20260303},  /* Saturday, Sunday 03-01, substitute 03-02 */
	        {{2026, 5, 23}, 20260526},  /* Saturday, Buddha's Birthday on Sunday, substitute Monday */
	        {{2026, 5, 5}, 20260506},   /* Children's Day, a Tuesday */
	        {{2026, 6, 3}, 20260604},   /* polling day, a Wednesday */
	        {{2026, 6, 6}, 20260608},   /* Memorial Day on a Saturday: no substitute */
	        {{2026, 8, 15}, 20260818},  /* Saturday, Sunday, substitute Monday */
	        {{2026, 10, 3}, 20261006},  /* National Foundation Day on a Saturday, substitute 10-05 */
	        {{2026, 10, 9}, 20261012},  /* Hangul Day, a Friday */
	        {{2026, 12, 25}, 20261228}, /* Christmas, a Friday */
	        {{2026, 12, 31}, 20261231}, /* a Thursday */
	        {{2026, 1, 1}, 20260102},   /* New Year's Day, a Thursday */
	        {{2027, 1, 1}, 20270101},   /* not in the table: a working Friday */
	        {{2027, 1, 2}, 20270104},   /* a Saturday */
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint32_t got = sd_date_to_u32(sd_config_next_working_day(&c, t[i].from));
		if (got != t[i].want)
			fail_msg("from %u: got %u, want %u", sd_date_to_u32(t[i].from), got, t[i].want);
	}
	assert_true(sd_config_is_holiday(&c, D(2026, 6, 6)));
	assert_false(sd_config_is_working_day(&c, D(2026, 6, 6)));
	assert_false(sd_config_is_holiday(&c, D(2026, 6, 7))); /* a Sunday, not listed */
	assert_false(sd_config_is_working_day(&c, D(2026, 6, 7)));
	assert_true(sd_config_is_working_day(&c, D(2026, 6, 5)));
	assert_false(sd_config_is_holiday(&c, D(2026, 12, 24)));
	assert_true(sd_config_is_holiday(&c, D(2026, 12, 25)));

	/* Every day from 2025 to 2028 against a brute force over the C library's weekdays. */
	for (sd_date_t d = {2025, 1, 1}; d.y < 2029; d = sd_date_add_days(d, 1)) {
		bool listed = false;
		for (size_t i = 0; i < c.n_holidays; i++)
			listed = listed || sd_date_cmp(c.holidays[i].date, d) == 0;
		bool working = weekday(d) != 0 && weekday(d) != 6 && !listed;
		assert_int_equal(sd_config_is_holiday(&c, d), listed);
		assert_int_equal(sd_config_is_working_day(&c, d), working);
		sd_date_t n = sd_config_next_working_day(&c, d);
		assert_true(sd_config_is_working_day(&c, n));
		assert_true(sd_date_cmp(n, d) >= 0);
		for (sd_date_t x = d; sd_date_cmp(x, n) < 0; x = sd_date_add_days(x, 1))
			assert_false(sd_config_is_working_day(&c, x));
	}
	sd_config_free(&c);

	/* A run across the new year, and weekends alone. */
	c = expect_ok("dir /x\nholiday 2026-12-31 a\nholiday 2027-01-01 b\n");
	assert_int_equal(sd_date_to_u32(sd_config_next_working_day(&c, D(2026, 12, 31))), 20270104);
	assert_int_equal(sd_date_to_u32(sd_config_next_working_day(&c, D(2026, 9, 26))), 20260928);
	assert_int_equal(sd_date_to_u32(sd_config_next_working_day(&c, D(2026, 9, 24))), 20260924);
	assert_int_equal(sd_date_to_u32(sd_config_next_working_day(&c, D(1970, 1, 3))), 19700105);
	assert_int_equal(sd_date_to_u32(sd_config_next_working_day(&c, D(1969, 12, 28))), 19691229);
	sd_config_free(&c);
}

/* The built-in table: 2026 as the operator's file above lists it, and 2027's dates, each
 * substitute holiday included (server/config.c says where each comes from). */
static void test_builtin_holidays(void **state)
{
	(void)state;
	sd_config_t c, f = expect_ok(holidays_2026);
	static const uint32_t y2027[] = {20270101, 20270206, 20270207, 20270208, 20270209, 20270301, 20270505,
	                                 20270513, 20270606, 20270815, 20270816, 20270914, 20270915, 20270916,
	                                 20271003, 20271004, 20271009, 20271011, 20271225, 20271227};
	size_t n2026 = 0, at = 0;

	assert_int_equal(sd_config_defaults(&c), 0);
	for (size_t i = 0; i < c.n_holidays; i++) {
		if (c.holidays[i].date.y == 2026) {
			assert_true(n2026 < f.n_holidays);
			assert_int_equal(sd_date_cmp(c.holidays[i].date, f.holidays[n2026].date), 0);
			n2026++;
		} else {
			assert_true(at < sizeof(y2027) / sizeof(y2027[0]));
			if (sd_date_to_u32(c.holidays[i].date) != y2027[at])
				fail_msg("built-in holiday %zu: %u, want %u", i, sd_date_to_u32(c.holidays[i].date),
				         y2027[at]);
			at++;
		}
	}
	assert_int_equal(n2026, f.n_holidays);
	assert_int_equal(at, sizeof(y2027) / sizeof(y2027[0]));
	/* Labor Day and Constitution Day are not holidays of government offices. */
	assert_false(sd_config_is_holiday(&c, D(2026, 5, 1)));
	assert_false(sd_config_is_holiday(&c, D(2026, 7, 17)));
	assert_false(sd_config_is_holiday(&c, D(2027, 5, 1)));
	assert_false(sd_config_is_holiday(&c, D(2027, 7, 17)));
	/* Seollal Sat-Mon with the Sunday's substitute: the next working day is Wednesday. */
	assert_int_equal(sd_date_to_u32(sd_config_next_working_day(&c, D(2027, 2, 5))), 20270205);
	assert_int_equal(sd_date_to_u32(sd_config_next_working_day(&c, D(2027, 2, 6))), 20270210);
	assert_int_equal(sd_date_to_u32(sd_config_next_working_day(&c, D(2027, 10, 9))), 20271012);
	assert_int_equal(sd_date_to_u32(sd_config_next_working_day(&c, D(2027, 12, 25))), 20271228);
	/* 7 days from Friday 2027-09-10 end on Chuseok, 09-17 being the next working day. */
	assert_int_equal(sd_date_to_u32(sd_config_period_end(&c, D(2027, 9, 10), 7)), 20270917);
	sd_config_free(&c);
	sd_config_free(&f);
}

static void test_period_end(void **state)
{
	(void)state;
	sd_config_t c = expect_ok(holidays_2026);

	/* Art. 8: 60 days from a receipt on 2026-07-26 would end on Chuseok, 09-24. */
	assert_int_equal(sd_date_to_u32(sd_config_period_end(&c, D(2026, 7, 26), 60)), 20260928);
	/* Art. 11-3: 7 days from a result notice on 2026-09-17 end on 09-24, moved to 09-28. */
	assert_int_equal(sd_date_to_u32(sd_config_period_end(&c, D(2026, 9, 17), 7)), 20260928);
	/* The first day is not counted: 7 days from Monday 2026-11-02 end on Monday 11-09. */
	assert_int_equal(sd_date_to_u32(sd_config_period_end(&c, D(2026, 11, 2), 7)), 20261109);
	/* 60 days from 2026-11-22 end on 2027-01-21, a Thursday. */
	assert_int_equal(sd_date_to_u32(sd_config_period_end(&c, D(2026, 11, 22), 60)), 20270121);
	/* A period ending on a Saturday ends on Monday. */
	assert_int_equal(sd_date_to_u32(sd_config_period_end(&c, D(2026, 11, 7), 7)), 20261116);
	assert_int_equal(sd_date_to_u32(sd_config_period_end(&c, D(2026, 2, 13), 1)), 20260219);
	assert_int_equal(sd_date_to_u32(sd_config_period_end(&c, D(2026, 2, 13), 0)), 20260213);
	sd_config_free(&c);
}

static char *write_to_string(const sd_config_t *c, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	assert_non_null(f);
	assert_int_equal(sd_config_write(f, c), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static sd_config_t example_config(void)
{
	sd_config_t c;

	assert_int_equal(sd_config_defaults(&c), 0);
	c.dir = strdup(SD_CONFIG_EXAMPLE_DIR);
	assert_non_null(c.dir);
	return c;
}

static void test_example_file(void **state)
{
	(void)state;
	sd_config_t c = example_config(), back;
	size_t len, len2;
	char *text = write_to_string(&c, &len), *again;
	uint8_t *committed = NULL;
	size_t clen = 0;

	if (getenv("SD_WRITE_CONFIG_EXAMPLE")) {
		unlink(EXAMPLE_PATH);
		assert_int_equal(sd_file_write(EXAMPLE_PATH, text, len, 0644, SD_AFILE_NOCLOBBER), 0);
	}
	assert_int_equal(sd_file_read(EXAMPLE_PATH, SD_CONFIG_MAX_BYTES, &committed, &clen), 0);
	if (clen != len || strcmp((const char *)committed, text) != 0)
		fail_msg("%s differs from sd_config_write() of the defaults; regenerate it with "
		         "SD_WRITE_CONFIG_EXAMPLE=1",
		         EXAMPLE_PATH);
	/* It parses back to the defaults, and writing that gives the same text. */
	back = expect_ok_len(text, len);
	assert_true(sd_config_equal(&c, &back));
	again = write_to_string(&back, &len2);
	assert_int_equal(len2, len);
	assert_string_equal(again, text);
	/* Every setting is written out, each under its comment. */
	for (size_t i = 0; sd_config_setting_name(i) != NULL; i++) {
		char want[64];
		snprintf(want, sizeof(want), "\n%s ", sd_config_setting_name(i));
		if (strstr(text, want) == NULL)
			fail_msg("setting %s is not in the example", sd_config_setting_name(i));
	}
	assert_non_null(strstr(text, "\n# From 1m to 1d; default 1h.\nhead_interval 1h\n"));
	assert_non_null(strstr(text, "\nhostname localhost\nhostname 127.0.0.1\n"));
	assert_non_null(strstr(text, "\nholiday 2026-09-25 \"Chuseok (추석)\"\n"));
	assert_int_equal(sd_config_setting_name(24), NULL);
	free(committed);
	free(again);
	free(text);
	sd_config_free(&back);
	sd_config_free(&c);
}

/* Every prefix of the example parses or fails cleanly, never half-fills. */
static void test_every_prefix(void **state)
{
	(void)state;
	sd_config_t c = example_config(), back;
	size_t len;
	char *text = write_to_string(&c, &len);

	for (size_t n = 0; n <= len; n++) {
		size_t errors = 99;
		int r = sd_config_parse(text, n, "t.conf", &back, NULL, NULL, &errors);
		assert_true(r == 0 || r == SD_ERR_CONFIG);
		assert_true((r == 0) == (errors == 0));
		if (r == 0)
			assert_non_null(back.dir);
		sd_config_free(&back);
	}
	free(text);
	sd_config_free(&c);
}

static void test_round_trip_non_default(void **state)
{
	(void)state;
	static const char text[] = "dir \"/srv/sealdrop data\"\n"
	                           "listen [2001:db8::7]:443\n"
	                           "hostname drop.example.kr\n"
	                           "hostname 2001:db8::7\n"
	                           "user _sealdrop\n"
	                           "log_level warn\n"
	                           "head_interval 90m\n"
	                           "max_header_bytes 65537\n"
	                           "chunk_bytes 1048616\n"
	                           "max_package_bytes 3G\n"
	                           "body_budget_bytes 1025M\n"
	                           "max_connections 2\n"
	                           "max_connections_per_cert 2\n"
	                           "max_uploads_per_account 1\n"
	                           "request_timeout 61\n"
	                           "idle_timeout 1\n"
	                           "slow_body_timeout 3600\n"
	                           "upload_expiry_days 365\n"
	                           "anon_rate_per_minute 1000000\n"
	                           "pow_bits 0\n"
	                           "retention_days 3650\n"
	                           "holiday 2030-01-01 \"quote \\\" and backslash \\\\ # hash\"\n"
	                           "holiday 2029-12-31 =starts with equals\n"
	                           "holiday 2029-12-30 \"\tTab\"\n";
	sd_config_t c = expect_ok(text), back;
	size_t len;
	char *out = write_to_string(&c, &len);

	assert_string_equal(c.dir, "/srv/sealdrop data");
	assert_string_equal(c.holidays[2].name, "quote \" and backslash \\ # hash");
	assert_string_equal(c.holidays[1].name, "=starts with equals");
	assert_non_null(strstr(out, "\ndir \"/srv/sealdrop data\"\n"));
	assert_non_null(strstr(out, "\nlisten [2001:db8::7]:443\n"));
	assert_non_null(strstr(out, "\nhead_interval 90m\n"));
	assert_non_null(strstr(out, "\nbody_budget_bytes 1025M\n"));
	assert_non_null(strstr(out, "\nmax_header_bytes 65537\n"));
	assert_non_null(strstr(out, "\nholiday 2030-01-01 \"quote \\\" and backslash \\\\ # hash\"\n"));
	back = expect_ok_len(out, len);
	assert_true(sd_config_equal(&c, &back));
	free(out);
	sd_config_free(&back);
	sd_config_free(&c);
}

static void test_write_error(void **state)
{
	(void)state;
	sd_config_t c = example_config();
	FILE *f = fopen("/dev/full", "w");

	if (f == NULL)
		skip();
	assert_int_equal(sd_config_write(f, &c), SD_ERR_IO);
	fclose(f);
	sd_config_free(&c);
}

static void test_load(void **state)
{
	(void)state;
	char dir[] = "/tmp/sd-config-XXXXXX", path[64], missing[64];
	sd_config_t c;
	size_t n;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sealdropd.conf", dir);
	snprintf(missing, sizeof(missing), "%s/absent.conf", dir);
	assert_int_equal(sd_file_write(path, "dir /x\nbogus 1\n", 15, 0644, SD_AFILE_REPLACE), 0);
	memset(&E, 0, sizeof(E));
	assert_int_equal(sd_config_load(path, &c, collect, &E, &n), SD_ERR_CONFIG);
	assert_int_equal(n, 1);
	char want[128];
	snprintf(want, sizeof(want), "%s:2: unknown setting 'bogus'", path);
	assert_string_equal(E.msg[0], want);

	assert_int_equal(sd_file_write(path, "dir /x\n", 7, 0644, SD_AFILE_REPLACE), 0);
	assert_int_equal(sd_config_load(path, &c, NULL, NULL, &n), 0);
	assert_int_equal(n, 0);
	assert_string_equal(c.dir, "/x");
	sd_config_free(&c);

	/* Whoever may write it chooses the directory and the user: refused. */
	assert_int_equal(chmod(path, 0666), 0);
	memset(&E, 0, sizeof(E));
	assert_int_equal(sd_config_load(path, &c, collect, &E, &n), SD_ERR_REFUSED);
	assert_int_equal(n, 1);
	assert_int_equal(E.n, 1);
	assert_non_null(strstr(E.msg[0], "writable by anyone"));
	assert_null(c.dir);
	assert_int_equal(chmod(path, 0664), 0);
	assert_int_equal(sd_config_load(path, &c, NULL, NULL, NULL), 0);
	sd_config_free(&c);

	memset(&E, 0, sizeof(E));
	assert_int_equal(sd_config_load(missing, &c, collect, &E, &n), SD_ERR_NOENT);
	assert_int_equal(n, 1);
	assert_non_null(strstr(E.msg[0], missing));

	char *big = calloc(1, SD_CONFIG_MAX_BYTES + 1);
	assert_non_null(big);
	memset(big, '\n', SD_CONFIG_MAX_BYTES + 1);
	assert_int_equal(sd_file_write(path, big, SD_CONFIG_MAX_BYTES + 1, 0644, SD_AFILE_REPLACE), 0);
	assert_int_equal(sd_config_load(path, &c, NULL, NULL, &n), SD_ERR_TOOBIG);
	assert_int_equal(n, 1);
	free(big);
	unlink(path);
	rmdir(dir);
}

/* The man page documents every setting (`.It Ic name`), so the two cannot drift apart. */
static void test_manpage_lists_every_setting(void **state)
{
	(void)state;
	uint8_t *page;
	size_t len;

	assert_int_equal(sd_file_read(MANPAGE_PATH, 1 << 20, &page, &len), 0);
	for (size_t i = 0; sd_config_setting_name(i) != NULL; i++) {
		char want[64];
		snprintf(want, sizeof(want), "\n.It Ic %s ", sd_config_setting_name(i));
		if (strstr((const char *)page, want) == NULL)
			fail_msg("%s does not document '%s'", MANPAGE_PATH, sd_config_setting_name(i));
	}
	free(page);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_defaults),
	        cmocka_unit_test(test_minimal_file),
	        cmocka_unit_test(test_numeric_bounds),
	        cmocka_unit_test(test_units),
	        cmocka_unit_test(test_listen),
	        cmocka_unit_test(test_hostname),
	        cmocka_unit_test(test_user_dir_log_level),
	        cmocka_unit_test(test_quoting_and_comments),
	        cmocka_unit_test(test_unknown_and_duplicates),
	        cmocka_unit_test(test_every_error_reported),
	        cmocka_unit_test(test_missing_dir_and_cross_checks),
	        cmocka_unit_test(test_line_endings_and_bytes),
	        cmocka_unit_test(test_limits),
	        cmocka_unit_test(test_holiday_parsing),
	        cmocka_unit_test(test_holiday_limit),
	        cmocka_unit_test(test_next_working_day),
	        cmocka_unit_test(test_builtin_holidays),
	        cmocka_unit_test(test_period_end),
	        cmocka_unit_test(test_example_file),
	        cmocka_unit_test(test_every_prefix),
	        cmocka_unit_test(test_round_trip_non_default),
	        cmocka_unit_test(test_write_error),
	        cmocka_unit_test(test_load),
	        cmocka_unit_test(test_manpage_lists_every_setting),
	};
	return cmocka_run_group_tests(tests, unit_setup, NULL);
}
