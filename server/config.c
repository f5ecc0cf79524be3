/*
 * config.c — sealdropd.conf(5): parsing, checking and writing the server's configuration,
 * and the holiday table the case deadlines count with.
 *
 * Start at the settings[] table: one row per setting, in the order sd_config_write()
 * prints them, with its kind, bounds, default and the comment the written file carries.
 * sd_config_parse() walks the text line by line (parse_line()): each line's bytes are
 * checked first (length, NUL, control characters, UTF-8), then split into words, then the
 * setting's kind decides how its words are read. Every error is reported and counted and
 * parsing goes on, so check-config can explain a whole file at once; settings that depend
 * on each other and the required ones are checked at the end (check_whole()).
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "sealdrop/bytes.h"
#include "sealdrop/config.h"
#include "sealdrop/fileio.h"
#include "sealdrop/i18n.h"

#define KIB        ((uint64_t)1 << 10)
#define MIB        ((uint64_t)1 << 20)
#define GIB        ((uint64_t)1 << 30)
#define MAX_WORDS  64  /* words on one line */
#define SHOWN      64  /* bytes of a bad value repeated in a message */
#define MSG_MAX    512 /* one message, without the file name */
#define LISTEN_DEF "127.0.0.1:8443"

enum kind { K_DIR, K_LISTEN, K_HOSTNAME, K_USER, K_LOG_LEVEL, K_DURATION, K_SIZE, K_COUNT, K_HOLIDAY };

/* Indices into settings[], for the checks that name a particular setting. */
enum {
	S_DIR,
	S_LISTEN,
	S_HOSTNAME,
	S_USER,
	S_LOG_LEVEL,
	S_HEAD_INTERVAL,
	S_MAX_HEADER,
	S_CHUNK,
	S_MAX_PACKAGE,
	S_BODY_BUDGET,
	S_MAX_CONN,
	S_MAX_CONN_CERT,
	S_MAX_UPLOADS,
	S_REQUEST_TIMEOUT,
	S_IDLE_TIMEOUT,
	S_SLOW_BODY_TIMEOUT,
	S_HEADER_TIMEOUT,
	S_MIN_BODY_RATE,
	S_UPLOAD_EXPIRY,
	S_ANON_RATE,
	S_POW_BITS,
	S_RETENTION_DAYS,
	S_STORE_MAX,
	S_HOLIDAY,
	S_COUNT
};

struct setting {
	const char *name;
	enum kind kind;
	size_t off; /* numeric kinds: the field (uint64_t for K_SIZE, else uint32_t) */
	uint64_t min, max, def;
	const char *help; /* the comment above the setting in a written file */
};

/* clang-format off */
#define NUM(n, k, field, lo, hi, d, h) {n, k, offsetof(sd_config_t, field), lo, hi, d, h}
#define TXT(n, k, h) {n, k, 0, 0, 0, 0, h}
/* clang-format on */

static const struct setting settings[S_COUNT] = {
        TXT("dir", K_DIR,
            "The state directory: the CA, the server certificate, the log signing key, the\n"
            "LMDB store and control.sock. Required; an absolute path of at most 94 bytes."),
        TXT("listen", K_LISTEN,
            "The address and port to listen on: an IPv4 address (127.0.0.1:8443) or an IPv6\n"
            "address in brackets ([::1]:8443)."),
        TXT("hostname", K_HOSTNAME,
            "A name in the server certificate: a DNS name or an IP address, one per line\n"
            "(at most 64). Lines here replace the default list (localhost, 127.0.0.1)."),
        TXT("user", K_USER, "The unprivileged user the server runs as once its socket is bound. Never root."),
        TXT("log_level", K_LOG_LEVEL,
            "What to log: error, warn, info or debug. No level logs IP addresses, user\n"
            "agents, report text or secrets."),
        NUM("head_interval", K_DURATION, head_interval, 60, 86400, 3600,
            "How often the audit log's signed tree head is published. Heads follow a\n"
            "schedule, not events, so watching them does not time anyone's action."),
        NUM("max_header_bytes", K_SIZE, max_header_bytes, 4 * KIB, 8 * MIB, 8 * MIB,
            "The largest envelope header an upload may begin with."),
        NUM("chunk_bytes", K_SIZE, chunk_bytes, SD_CONFIG_CHUNK_MIN, 4 * MIB, 2 * MIB,
            "The largest body of one chunk request. A package's chunks are at most\n"
            "1 MiB + 40 bytes, so it cannot be lower than that."),
        NUM("max_package_bytes", K_SIZE, max_package_bytes, MIB, 1024 * GIB, 2 * GIB,
            "The largest package, all its blobs together."),
        NUM("body_budget_bytes", K_SIZE, body_budget_bytes, SD_CONFIG_CHUNK_MIN, 64 * GIB, 256 * MIB,
            "Request body bytes in flight over all connections together. Beyond it the\n"
            "server reads more slowly, then answers 503. At least chunk_bytes and\n"
            "max_header_bytes."),
        NUM("max_connections", K_COUNT, max_connections, 1, 65536, 1024, "Connections open at once."),
        NUM("max_connections_per_cert", K_COUNT, max_connections_per_cert, 1, 65536, 16,
            "Connections open at once with one client certificate; at most\nmax_connections."),
        NUM("max_uploads_per_account", K_COUNT, max_uploads_per_account, 1, 100000, 64,
            "Unfinished uploads one account may have at once."),
        NUM("request_timeout", K_DURATION, request_timeout, 1, 3600, 60,
            "The longest one request may take, from its first byte to its last."),
        NUM("idle_timeout", K_DURATION, idle_timeout, 1, 3600, 30,
            "How long a kept-alive connection may wait for its next request."),
        NUM("slow_body_timeout", K_DURATION, slow_body_timeout, 1, 3600, 20,
            "A request body that makes no progress for this long is aborted."),
        NUM("header_timeout", K_DURATION, header_timeout, 1, 3600, 20,
            "The longest a connection's TLS handshake, and then each request's line and\n"
            "headers, may take, from the first byte to the blank line (never more than\n"
            "request_timeout)."),
        NUM("min_body_rate", K_SIZE, min_body_rate, 0, GIB, KIB,
            "The slowest a request body may arrive, in bytes a second: slow_body_timeout\n"
            "seconds are free, then each second needs this many more bytes, or the\n"
            "request is aborted (408). 0 turns the check off."),
        NUM("upload_expiry_days", K_COUNT, upload_expiry_days, 1, 365, 7,
            "Days after which an unfinished upload is removed."),
        NUM("anon_rate_per_minute", K_COUNT, anon_rate_per_minute, 1, 1000000, 60,
            "Answers per minute on the whistleblower (codename) routes (status, objection),\n"
            "counted over all clients together, never per client or codename, so nobody\n"
            "can lock a whistleblower out. Asking for a challenge is free and unlimited:\n"
            "it costs the server one hash and leaves nothing behind."),
        NUM("pow_bits", K_COUNT, pow_bits, 0, 32, 20,
            "Proof of work asked of whistleblower requests: leading zero bits of a BLAKE2b\n"
            "hashcash. Each bit doubles a client's work; 0 turns it off."),
        NUM("retention_days", K_COUNT, retention_days, 0, 36500, 0,
            "Days after a case is closed (or terminated) that `sealdropd retention`\n"
            "destroys it: its records, notices, consents and package are deleted and the\n"
            "deletion is logged. 0 keeps every case forever."),
        NUM("store_max_bytes", K_SIZE, store_max_bytes, MIB, 16384 * GIB, 64 * GIB,
            "The most the store (DIR/store/data.mdb) may grow to. Its map grows online, a\n"
            "step at a time, up to this and to what the file system has free beyond a\n"
            "reserve (1% of its size, 64 MiB at least); beyond, writes are answered 507\n"
            "store_full while reads go on. Raising it takes a restart."),
        TXT("holiday", K_HOLIDAY,
            "Public holidays, `holiday YYYY-MM-DD name`, one per line (at most 1000). A\n"
            "period that ends on a Saturday, a Sunday or a listed holiday ends on the next\n"
            "working day (Civil Act Art. 161); Saturdays and Sundays need no line. Add each\n"
            "year's holidays, substitute and election days included, as the government\n"
            "announces them: the server warns when the current year has none. Lines here\n"
            "replace the built-in table (2026 and 2027)."),
};

static const char *const log_levels[] = {"error", "warn", "info", "debug"};

/*
 * The public holidays of 2026 and 2027, the current year and the next, as the Regulations
 * on Holidays of Government Offices (관공서의 공휴일에 관한 규정, Art. 2) list them and
 * the Act on Public Holidays (공휴일에 관한 법률) applies them, with the substitute
 * holidays of the Regulations' Art. 3: for Seollal and Chuseok when one of their three
 * days falls on a Sunday or another holiday; for Children's Day on a Saturday, a Sunday or
 * another holiday; for 03-01, 08-15, 10-03, 10-09, Buddha's Birthday and Christmas on a
 * Saturday or a Sunday (the last two since 2023); never for 01-01 or Memorial Day. The
 * substitute is the first day after that is not a holiday. Election days are holidays.
 *
 * Not listed, in either year: Labor Day, 05-01 (근로자의 날), a paid day off for employees
 * under its own Act but not a holiday of government offices, where the Commission's
 * periods run; and Constitution Day, 07-17 (제헌절), no public holiday since 2008.
 * UNCERTAIN: bills to make both public holidays were before the National Assembly in
 * 2025; if one becomes law, the operator adds the day. In 2027 both fall on a Saturday,
 * so only a substitute day, if the law gave one, would move a deadline.
 *
 * 2026: the 9th local elections' polling day, 06-03.
 * 2027 (Fri 01-01; no election is due in 2027):
 *   02-06..02-08  Seollal (Sat-Mon): 02-07, the lunar new year, is a Sunday, so the
 *                 substitute is Tue 02-09
 *   03-01  Independence Movement Day (Mon)
 *   05-05  Children's Day (Wed)
 *   05-13  Buddha's Birthday, 4th month 8th day (Thu)
 *   06-06  Memorial Day (Sun; no substitute)
 *   08-15  Liberation Day (Sun): substitute Mon 08-16
 *   09-14..09-16  Chuseok, 8th month 15th day on 09-15 (Tue-Thu)
 *   10-03  National Foundation Day (Sun): substitute Mon 10-04
 *   10-09  Hangul Day (Sat): substitute Mon 10-11 (10-10 is a Sunday)
 *   12-25  Christmas Day (Sat): substitute Mon 12-27 (12-26 is a Sunday)
 * UNCERTAIN: the three lunar dates of 2027 were computed (new moons in Korea Standard
 * Time, the month holding the solar term Yushui being the first), not copied from the
 * Korea Astronomy and Space Science Institute's published calendar (월력요항). The same
 * computation gives 2026's Seollal, Buddha's Birthday and Chuseok exactly. Seollal is the
 * delicate one: the new moon falls at 00:56 KST on 02-07, so the Chinese calendar (UTC+8)
 * starts the year on 02-06 and Korea's on 02-07. Temporary holidays (임시공휴일) the
 * government declares later cannot be known here.
 */
static const struct {
	int y, m, d;
	const char *name;
} builtin_holidays[] = {
        {2026, 1, 1, "New Year's Day (신정)"},
        {2026, 2, 16, "Seollal (설날)"},
        {2026, 2, 17, "Seollal (설날)"},
        {2026, 2, 18, "Seollal (설날)"},
        {2026, 3, 1, "Independence Movement Day (삼일절)"},
        {2026, 3, 2, "Independence Movement Day, substitute (대체공휴일)"},
        {2026, 5, 5, "Children's Day (어린이날)"},
        {2026, 5, 24, "Buddha's Birthday (부처님오신날)"},
        {2026, 5, 25, "Buddha's Birthday, substitute (대체공휴일)"},
        {2026, 6, 3, "Local elections (전국동시지방선거)"},
        {2026, 6, 6, "Memorial Day (현충일)"},
        {2026, 8, 15, "Liberation Day (광복절)"},
        {2026, 8, 17, "Liberation Day, substitute (대체공휴일)"},
        {2026, 9, 24, "Chuseok (추석)"},
        {2026, 9, 25, "Chuseok (추석)"},
        {2026, 9, 26, "Chuseok (추석)"},
        {2026, 10, 3, "National Foundation Day (개천절)"},
        {2026, 10, 5, "National Foundation Day, substitute (대체공휴일)"},
        {2026, 10, 9, "Hangul Day (한글날)"},
        {2026, 12, 25, "Christmas Day (성탄절)"},
        {2027, 1, 1, "New Year's Day (신정)"},
        {2027, 2, 6, "Seollal (설날)"},
        {2027, 2, 7, "Seollal (설날)"},
        {2027, 2, 8, "Seollal (설날)"},
        {2027, 2, 9, "Seollal, substitute (대체공휴일)"},
        {2027, 3, 1, "Independence Movement Day (삼일절)"},
        {2027, 5, 5, "Children's Day (어린이날)"},
        {2027, 5, 13, "Buddha's Birthday (부처님오신날)"},
        {2027, 6, 6, "Memorial Day (현충일)"},
        {2027, 8, 15, "Liberation Day (광복절)"},
        {2027, 8, 16, "Liberation Day, substitute (대체공휴일)"},
        {2027, 9, 14, "Chuseok (추석)"},
        {2027, 9, 15, "Chuseok (추석)"},
        {2027, 9, 16, "Chuseok (추석)"},
        {2027, 10, 3, "National Foundation Day (개천절)"},
        {2027, 10, 4, "National Foundation Day, substitute (대체공휴일)"},
        {2027, 10, 9, "Hangul Day (한글날)"},
        {2027, 10, 11, "Hangul Day, substitute (대체공휴일)"},
        {2027, 12, 25, "Christmas Day (성탄절)"},
        {2027, 12, 27, "Christmas Day, substitute (대체공휴일)"},
};

struct parser {
	const char *file;
	size_t line;
	size_t n_errors;
	bool nomem;
	sd_config_report_fn report;
	void *ctx;
	char first[MSG_MAX + 256];
	size_t seen[S_COUNT];                           /* line of each setting's first use */
	size_t hostname_lines[SD_CONFIG_MAX_HOSTNAMES]; /* parallel to c.hostnames */
	size_t *holiday_lines;                          /* parallel to c.holidays */
	sd_config_t c;
};

struct words {
	char *w[MAX_WORDS];
	size_t n;
};

/* One error, in the reader's language (gettext, domain "sealdropd": `sealdropd
 * check-config` and `init` print them; the running server binds no catalogue). */
static void perr(struct parser *p, size_t line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void perr(struct parser *p, size_t line, const char *fmt, ...)
{
	char msg[MSG_MAX], full[sizeof(p->first)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), sd_gettext(fmt), ap);
	va_end(ap);
	if (line > 0)
		snprintf(full, sizeof(full), "%s:%zu: %s", p->file, line, msg);
	else
		snprintf(full, sizeof(full), "%s: %s", p->file, msg);
	if (p->n_errors++ == 0)
		memcpy(p->first, full, sizeof(full));
	if (p->report != NULL)
		p->report(p->ctx, full);
}

static const char *show(const char *s, char out[SHOWN])
{
	return sd_error_printable(s, out, SHOWN);
}

/* --- numbers, sizes and durations ------------------------------------------------ */

static const struct unit {
	const char *suffix;
	uint64_t factor;
} size_units[] = {{"K", KIB}, {"KiB", KIB}, {"M", MIB}, {"MiB", MIB}, {"G", GIB}, {"GiB", GIB}, {NULL, 0}},
  duration_units[] = {{"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}, {NULL, 0}}, count_units[] = {{NULL, 0}};

static const struct unit *units_of(enum kind k)
{
	return k == K_SIZE ? size_units : k == K_DURATION ? duration_units : count_units;
}

enum number_fault { N_OK, N_NOT_NUMBER, N_BAD_UNIT, N_OVERFLOW };

/* Reads digits and an optional unit of kind k into *v. */
static enum number_fault number_parse(const char *s, enum kind k, uint64_t *v)
{
	const struct unit *u;
	uint64_t n = 0;
	size_t i = 0;
	bool overflow = false;

	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (n > (UINT64_MAX - d) / 10)
			overflow = true;
		else
			n = n * 10 + d;
	}
	if (i == 0)
		return N_NOT_NUMBER;
	if (s[i] != '\0') {
		for (u = units_of(k); u->suffix != NULL && strcmp(u->suffix, s + i) != 0; u++)
			;
		if (u->suffix == NULL)
			return N_BAD_UNIT;
		if (n > UINT64_MAX / u->factor)
			overflow = true;
		else
			n *= u->factor;
	}
	*v = n;
	return overflow ? N_OVERFLOW : N_OK;
}

/* The shortest exact text of v: "8M", "1h", "1048616". */
static void number_format(uint64_t v, enum kind k, char out[32])
{
	const struct unit *best = NULL;

	for (const struct unit *u = units_of(k); u->suffix != NULL; u++)
		if (v > 0 && v % u->factor == 0 && strlen(u->suffix) == 1)
			best = u;
	if (best != NULL)
		snprintf(out, 32, "%llu%s", (unsigned long long)(v / best->factor), best->suffix);
	else
		snprintf(out, 32, "%llu", (unsigned long long)v);
}

static void *field(sd_config_t *c, const struct setting *s)
{
	return (char *)c + s->off;
}

static uint64_t number_get(const sd_config_t *c, const struct setting *s)
{
	const char *base = (const char *)c + s->off;
	return s->kind == K_SIZE ? *(const uint64_t *)(const void *)base : *(const uint32_t *)(const void *)base;
}

static void set_number(struct parser *p, const struct setting *s, const char *text)
{
	char shown[SHOWN], lo[32], hi[32];
	uint64_t v = 0;

	switch (number_parse(text, s->kind, &v)) {
	case N_NOT_NUMBER:
		perr(p, p->line, "'%s' is not a number: '%s'", s->name, show(text, shown));
		return;
	case N_BAD_UNIT:
		if (s->kind == K_COUNT)
			perr(p, p->line, "'%s' takes a plain number, not '%s'", s->name, show(text, shown));
		else
			perr(p, p->line, "'%s' has an unknown unit: '%s' (units: %s)", s->name, show(text, shown),
			     s->kind == K_SIZE ? "K, M or G, powers of 1024" : "s, m, h or d");
		return;
	case N_OVERFLOW:
		v = UINT64_MAX;
		break;
	case N_OK:
		break;
	}
	if (v < s->min || v > s->max) {
		number_format(s->min, s->kind, lo);
		number_format(s->max, s->kind, hi);
		perr(p, p->line, "'%s' must be from %s to %s, not %s", s->name, lo, hi, show(text, shown));
		return;
	}
	if (s->kind == K_SIZE)
		*(uint64_t *)field(&p->c, s) = v;
	else
		*(uint32_t *)field(&p->c, s) = (uint32_t)v;
}

/* --- text settings ------------------------------------------------------------- */

static void set_dir(struct parser *p, const struct setting *s, const char *text)
{
	char shown[SHOWN];
	size_t n = strlen(text);

	while (n > 1 && text[n - 1] == '/')
		n--;
	if (text[0] != '/') {
		perr(p, p->line, "'%s' must be an absolute path, not '%s'", s->name, show(text, shown));
		return;
	}
	if (n == 1) {
		perr(p, p->line, "'%s' may not be the root directory", s->name);
		return;
	}
	if (n > SD_CONFIG_DIR_MAX) {
		perr(p, p->line, "'%s' is %zu bytes, more than %d: DIR/control.sock must fit a Unix socket path",
		     s->name, n, SD_CONFIG_DIR_MAX);
		return;
	}
	free(p->c.dir);
	if ((p->c.dir = strndup(text, n)) == NULL)
		p->nomem = true;
}

static bool port_parse(const char *s, uint16_t *port)
{
	unsigned v = 0;
	size_t i;

	for (i = 0; s[i] >= '0' && s[i] <= '9' && i < 5; i++)
		v = v * 10 + (unsigned)(s[i] - '0');
	if (i == 0 || s[i] != '\0' || v < 1 || v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

/* "a.b.c.d:port" or "[v6]:port" into the canonical numeric address. */
static bool listen_parse(const char *s, char addr[SD_CONFIG_ADDR_MAX], int *family, uint16_t *port)
{
	char host[SD_CONFIG_ADDR_MAX];
	unsigned char bin[16];
	const char *colon, *start = s;
	size_t n;

	if (s[0] == '[') {
		start = s + 1;
		if ((colon = strchr(start, ']')) == NULL || colon[1] != ':')
			return false;
		n = (size_t)(colon - start);
		colon++;
		*family = AF_INET6;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			return false;
		n = (size_t)(colon - s);
		*family = AF_INET;
	}
	if (n == 0 || n >= sizeof(host))
		return false;
	memcpy(host, start, n);
	host[n] = '\0';
	if (inet_pton(*family, host, bin) != 1 || !port_parse(colon + 1, port))
		return false;
	return inet_ntop(*family, bin, addr, SD_CONFIG_ADDR_MAX) != NULL;
}

static void set_listen(struct parser *p, const struct setting *s, const char *text)
{
	char shown[SHOWN];

	if (!listen_parse(text, p->c.listen_addr, &p->c.listen_family, &p->c.listen_port))
		perr(p, p->line,
		     "'%s' must be an IPv4 address and port (127.0.0.1:8443) or a bracketed IPv6 address and port "
		     "([::1]:8443), port 1-65535, not '%s'",
		     s->name, show(text, shown));
}

/* A DNS name (letters, digits and hyphens in dot-separated labels of 1-63 bytes, lower-cased)
 * or an IP address (canonical form). */
static bool hostname_normalize(const char *s, char out[SD_CONFIG_HOSTNAME_MAX + 1])
{
	unsigned char bin[16];
	size_t n = strlen(s), label = 0;
	bool numeric = true;

	if (inet_pton(AF_INET, s, bin) == 1)
		return inet_ntop(AF_INET, bin, out, SD_CONFIG_HOSTNAME_MAX + 1) != NULL;
	if (inet_pton(AF_INET6, s, bin) == 1)
		return inet_ntop(AF_INET6, bin, out, SD_CONFIG_HOSTNAME_MAX + 1) != NULL;
	if (n == 0 || n > SD_CONFIG_HOSTNAME_MAX)
		return false;
	for (size_t i = 0; i <= n; i++) {
		char ch = s[i];
		if (ch == '.' || ch == '\0') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return false;
			label = 0;
		} else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		           ch == '-') {
			if (label++ == 0 && ch == '-')
				return false;
			numeric = numeric && ch >= '0' && ch <= '9';
		} else {
			return false;
		}
		out[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
	}
	/* All digits and dots but not an address ("10.1", "1.2.3.256"): a typo, not a name. */
	return !numeric;
}

static void hostname_replace_defaults(struct parser *p)
{
	sd_config_t *c = &p->c;

	for (size_t i = 0; i < c->n_hostnames; i++)
		free(c->hostnames[i]);
	free(c->hostnames);
	c->n_hostnames = 0;
	if ((c->hostnames = calloc(SD_CONFIG_MAX_HOSTNAMES, sizeof(char *))) == NULL)
		p->nomem = true;
}

static void set_hostname(struct parser *p, const struct setting *s, const char *text)
{
	char name[SD_CONFIG_HOSTNAME_MAX + 1], shown[SHOWN];
	sd_config_t *c = &p->c;

	if (!hostname_normalize(text, name)) {
		perr(p, p->line, "'%s' must be a DNS name or an IP address, not '%s'", s->name, show(text, shown));
		return;
	}
	for (size_t i = 0; i < c->n_hostnames; i++)
		if (strcmp(c->hostnames[i], name) == 0) {
			perr(p, p->line, "hostname '%s' is already listed at line %zu", show(name, shown),
			     p->hostname_lines[i]);
			return;
		}
	if (c->n_hostnames == SD_CONFIG_MAX_HOSTNAMES) {
		perr(p, p->line, "more than %d hostnames", SD_CONFIG_MAX_HOSTNAMES);
		return;
	}
	if ((c->hostnames[c->n_hostnames] = strdup(name)) == NULL) {
		p->nomem = true;
		return;
	}
	p->hostname_lines[c->n_hostnames++] = p->line;
}

static void set_user(struct parser *p, const struct setting *s, const char *text)
{
	char shown[SHOWN];
	size_t n = strlen(text);
	bool ok = n >= 1 && n <= SD_CONFIG_USER_MAX && ((text[0] >= 'a' && text[0] <= 'z') || text[0] == '_');

	for (size_t i = 1; ok && i < n; i++)
		ok = (text[i] >= 'a' && text[i] <= 'z') || (text[i] >= '0' && text[i] <= '9') || text[i] == '_' ||
		     text[i] == '-';
	if (!ok) {
		perr(p, p->line, "'%s' must be a user name ([a-z_][a-z0-9_-]{0,31}), not '%s'", s->name,
		     show(text, shown));
		return;
	}
	if (strcmp(text, "root") == 0) {
		perr(p, p->line, "'%s' may not be root: the server drops its privileges to this user", s->name);
		return;
	}
	memcpy(p->c.user, text, n + 1);
}

static void set_log_level(struct parser *p, const struct setting *s, const char *text)
{
	char shown[SHOWN];

	for (size_t i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++)
		if (strcmp(text, log_levels[i]) == 0) {
			p->c.log_level = (sd_log_level_t)i;
			return;
		}
	perr(p, p->line, "'%s' must be error, warn, info or debug, not '%s'", s->name, show(text, shown));
}

/* --- holidays ------------------------------------------------------------------ */

/* Where date d is, or would be inserted, in the sorted table. */
static size_t holiday_find(const sd_config_t *c, sd_date_t d, bool *found)
{
	size_t lo = 0, hi = c->n_holidays;
	int64_t key = sd_date_to_days(d);

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int64_t k = sd_date_to_days(c->holidays[mid].date);
		if (k == key) {
			*found = true;
			return mid;
		}
		if (k < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void holiday_replace_defaults(struct parser *p)
{
	sd_config_t *c = &p->c;

	for (size_t i = 0; i < c->n_holidays; i++)
		free(c->holidays[i].name);
	free(c->holidays);
	c->n_holidays = 0;
	c->holidays = calloc(SD_CONFIG_MAX_HOLIDAYS, sizeof(*c->holidays));
	p->holiday_lines = calloc(SD_CONFIG_MAX_HOLIDAYS, sizeof(*p->holiday_lines));
	if (c->holidays == NULL || p->holiday_lines == NULL)
		p->nomem = true;
}

/* words: the date, then the name in one or more words (joined with single spaces). */
static char *holiday_name(struct parser *p, const struct words *w)
{
	size_t len = 0;
	char *name;

	for (size_t i = 1; i < w->n; i++)
		len += strlen(w->w[i]) + 1;
	if (len - 1 == 0 || len - 1 > SD_CONFIG_HOLIDAY_NAME_MAX) {
		perr(p, p->line, "a holiday's name must be 1 to %d bytes long", SD_CONFIG_HOLIDAY_NAME_MAX);
		return NULL;
	}
	if ((name = malloc(len)) == NULL) {
		p->nomem = true;
		return NULL;
	}
	name[0] = '\0';
	for (size_t i = 1, at = 0; i < w->n; i++) {
		size_t k = strlen(w->w[i]);
		memcpy(name + at, w->w[i], k);
		at += k;
		name[at++] = i + 1 < w->n ? ' ' : '\0';
	}
	return name;
}

static void set_holiday(struct parser *p, const struct setting *s, const struct words *w)
{
	sd_config_t *c = &p->c;
	char shown[SHOWN], *name;
	sd_date_t d;
	size_t at;
	bool found;

	if (w->n < 2) {
		perr(p, p->line, "'%s' needs a date and a name: holiday YYYY-MM-DD name", s->name);
		return;
	}
	if (sd_date_parse(w->w[0], &d) != 0) {
		perr(p, p->line, "'%s' is not a calendar date YYYY-MM-DD", show(w->w[0], shown));
		return;
	}
	at = holiday_find(c, d, &found);
	if (found) {
		perr(p, p->line, "holiday %s is already listed at line %zu", w->w[0], p->holiday_lines[at]);
		return;
	}
	if (c->n_holidays == SD_CONFIG_MAX_HOLIDAYS) {
		perr(p, p->line, "more than %d holidays", SD_CONFIG_MAX_HOLIDAYS);
		return;
	}
	if ((name = holiday_name(p, w)) == NULL)
		return;
	memmove(c->holidays + at + 1, c->holidays + at, (c->n_holidays - at) * sizeof(*c->holidays));
	memmove(p->holiday_lines + at + 1, p->holiday_lines + at, (c->n_holidays - at) * sizeof(size_t));
	c->holidays[at] = (sd_holiday_t){d, name};
	p->holiday_lines[at] = p->line;
	c->n_holidays++;
}

/* --- lines --------------------------------------------------------------------- */

static bool is_bidi_control(uint32_t cp)
{
	return cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* A line is refused whole for bytes a text editor would not show as they are. */
static bool line_check(struct parser *p, const char *s, size_t n)
{
	uint32_t cp;

	if (n > SD_CONFIG_MAX_LINE) {
		perr(p, p->line, "line is longer than %d bytes", SD_CONFIG_MAX_LINE);
		return false;
	}
	for (size_t i = 0; i < n;) {
		size_t at = i;
		unsigned char ch = (unsigned char)s[i];
		if (ch == 0) {
			perr(p, p->line, "NUL byte at column %zu", at + 1);
			return false;
		}
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
			perr(p, p->line, "control character 0x%02x at column %zu", ch, at + 1);
			return false;
		}
		if (!sd_utf8_decode(s, n, &i, &cp)) {
			perr(p, p->line, "invalid UTF-8 at column %zu", at + 1);
			return false;
		}
		if ((cp >= 0x80 && cp <= 0x9f) || is_bidi_control(cp)) {
			perr(p, p->line, "control character U+%04X at column %zu", (unsigned)cp, at + 1);
			return false;
		}
	}
	return true;
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* One double-quoted word starting at s[*i] == '"', unescaped into *out. */
static bool word_quoted(struct parser *p, const char *s, size_t n, size_t *i, char **out)
{
	size_t j = *i + 1;

	for (; j < n && s[j] != '"'; j++) {
		if (s[j] == '\\') {
			if (j + 1 >= n || (s[j + 1] != '"' && s[j + 1] != '\\')) {
				perr(p, p->line, "only \\\" and \\\\ may follow a backslash (column %zu)", j + 1);
				return false;
			}
			j++;
		}
		*(*out)++ = s[j];
	}
	if (j == n) {
		perr(p, p->line, "unterminated quoted value (column %zu)", *i + 1);
		return false;
	}
	j++;
	if (j < n && !is_space(s[j]) && s[j] != '#') {
		perr(p, p->line, "expected a space after the closing quote (column %zu)", j + 1);
		return false;
	}
	*i = j;
	return true;
}

/* Splits s[i..n) into words in buf: bare words end at a space, a tab or '#'; quoted ones
 * keep everything but their escapes. A '#' outside quotes ends the line. */
static bool words_split(struct parser *p, const char *s, size_t n, size_t i, char *buf, struct words *w)
{
	char *out = buf;

	w->n = 0;
	for (;;) {
		while (i < n && is_space(s[i]))
			i++;
		if (i == n || s[i] == '#')
			return true;
		if (w->n == MAX_WORDS) {
			perr(p, p->line, "more than %d words on one line", MAX_WORDS);
			return false;
		}
		w->w[w->n++] = out;
		if (s[i] == '"') {
			if (!word_quoted(p, s, n, &i, &out))
				return false;
		} else {
			for (; i < n && !is_space(s[i]) && s[i] != '#'; i++) {
				if (s[i] == '"') {
					perr(p, p->line, "a quote inside a word (column %zu)", i + 1);
					return false;
				}
				*out++ = s[i];
			}
		}
		*out++ = '\0';
	}
}

static const struct setting *setting_find(const char *s, size_t n)
{
	for (size_t i = 0; i < S_COUNT; i++)
		if (strlen(settings[i].name) == n && strncmp(settings[i].name, s, n) == 0)
			return &settings[i];
	return NULL;
}

/* Marks s as set on this line, before its value is read: a refused value still counts as
 * set, so it is not also reported missing. False for a second line of a single setting. */
static bool claim(struct parser *p, const struct setting *s)
{
	size_t idx = (size_t)(s - settings);

	if (p->seen[idx] != 0) {
		if (s->kind == K_HOSTNAME || s->kind == K_HOLIDAY)
			return true;
		perr(p, p->line, "'%s' is already set at line %zu", s->name, p->seen[idx]);
		return false;
	}
	p->seen[idx] = p->line;
	/* A list named in the file replaces its default list. */
	if (s->kind == K_HOSTNAME)
		hostname_replace_defaults(p);
	else if (s->kind == K_HOLIDAY)
		holiday_replace_defaults(p);
	return !p->nomem;
}

static void apply(struct parser *p, const struct setting *s, const struct words *w)
{
	if (s->kind == K_HOLIDAY) {
		set_holiday(p, s, w);
		return;
	}
	if (w->n != 1) {
		if (w->n == 0)
			perr(p, p->line, "'%s' needs a value", s->name);
		else
			perr(p, p->line, "'%s' takes one value (quote it to keep spaces)", s->name);
		return;
	}
	switch (s->kind) {
	case K_DIR:
		set_dir(p, s, w->w[0]);
		break;
	case K_LISTEN:
		set_listen(p, s, w->w[0]);
		break;
	case K_HOSTNAME:
		set_hostname(p, s, w->w[0]);
		break;
	case K_USER:
		set_user(p, s, w->w[0]);
		break;
	case K_LOG_LEVEL:
		set_log_level(p, s, w->w[0]);
		break;
	default:
		set_number(p, s, w->w[0]);
		break;
	}
}

static void parse_line(struct parser *p, const char *s, size_t n)
{
	char buf[SD_CONFIG_MAX_LINE + 1], shown[SHOWN];
	const struct setting *set;
	struct words w;
	size_t i = 0, start;

	if (!line_check(p, s, n))
		return;
	while (i < n && is_space(s[i]))
		i++;
	if (i == n || s[i] == '#')
		return;
	start = i;
	while (i < n && !is_space(s[i]) && s[i] != '=' && s[i] != '#' && s[i] != '"')
		i++;
	if (i == start) {
		perr(p, p->line, "expected a setting name at column %zu", i + 1);
		return;
	}
	if ((set = setting_find(s + start, i - start)) == NULL) {
		memcpy(buf, s + start, i - start);
		buf[i - start] = '\0';
		perr(p, p->line, "unknown setting '%s'", show(buf, shown));
		return;
	}
	while (i < n && is_space(s[i]))
		i++;
	if (i < n && s[i] == '=')
		i++;
	if (claim(p, set) && words_split(p, s, n, i, buf, &w))
		apply(p, set, &w);
}

/* --- the whole file ------------------------------------------------------------ */

/* The line of whichever of two settings came later in the file. */
static size_t later(const struct parser *p, int a, int b)
{
	return p->seen[a] > p->seen[b] ? p->seen[a] : p->seen[b];
}

static void check_whole(struct parser *p)
{
	const sd_config_t *c = &p->c;

	if (p->seen[S_DIR] == 0)
		perr(p, 0, "missing setting 'dir'");
	if (c->max_connections_per_cert > c->max_connections)
		perr(p, later(p, S_MAX_CONN_CERT, S_MAX_CONN),
		     "'max_connections_per_cert' (%u) is more than 'max_connections' (%u)", c->max_connections_per_cert,
		     c->max_connections);
	if (c->body_budget_bytes < c->chunk_bytes)
		perr(p, later(p, S_BODY_BUDGET, S_CHUNK),
		     "'body_budget_bytes' (%llu) is less than 'chunk_bytes' (%llu): no chunk could be received",
		     (unsigned long long)c->body_budget_bytes, (unsigned long long)c->chunk_bytes);
	if (c->body_budget_bytes < c->max_header_bytes)
		perr(p, later(p, S_BODY_BUDGET, S_MAX_HEADER),
		     "'body_budget_bytes' (%llu) is less than 'max_header_bytes' (%llu): no header could be received",
		     (unsigned long long)c->body_budget_bytes, (unsigned long long)c->max_header_bytes);
}

int sd_config_parse(const char *text, size_t len, const char *filename, sd_config_t *out, sd_config_report_fn report,
                    void *ctx, size_t *n_errors)
{
	struct parser *p;
	size_t off = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if (n_errors != NULL)
		*n_errors = 0;
	/* The parser holds a few KiB of line bookkeeping: keep it off the stack. */
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return SD_ERR_NOMEM;
	p->file = filename;
	p->report = report;
	p->ctx = ctx;
	if ((r = sd_config_defaults(&p->c)) < 0)
		goto out;
	if (len > SD_CONFIG_MAX_BYTES) {
		perr(p, 0, "larger than %u bytes", SD_CONFIG_MAX_BYTES);
		goto done;
	}
	if (len >= 3 && (unsigned char)text[0] == 0xef && (unsigned char)text[1] == 0xbb &&
	    (unsigned char)text[2] == 0xbf)
		off = 3; /* a byte order mark some editors write */
	while (off < len && !p->nomem) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t n = nl != NULL ? (size_t)(nl - (text + off)) : len - off;
		p->line++;
		parse_line(p, text + off, n > 0 && text[off + n - 1] == '\r' ? n - 1 : n);
		off += n + (nl != NULL);
	}
	if (!p->nomem)
		check_whole(p);
done:
	if (p->nomem)
		r = SD_ERR_NOMEM;
	else if (p->n_errors > 0)
		r = p->n_errors == 1 ? sd_error(SD_ERR_CONFIG, "%s", p->first)
		                     : sd_error(SD_ERR_CONFIG, "%s (and %zu more errors)", p->first, p->n_errors - 1);
	else
		r = 0;
out:
	if (n_errors != NULL)
		*n_errors = p->n_errors;
	if (r == 0)
		*out = p->c;
	else
		sd_config_free(&p->c);
	free(p->holiday_lines);
	free(p);
	return r;
}

static void report_once(sd_config_report_fn report, void *ctx, size_t *n_errors, const char *message)
{
	if (report != NULL)
		report(ctx, message);
	if (n_errors != NULL)
		*n_errors = 1;
}

int sd_config_load(const char *path, sd_config_t *out, sd_config_report_fn report, void *ctx, size_t *n_errors)
{
	struct stat st;
	uint8_t *text = NULL;
	size_t len = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if (n_errors != NULL)
		*n_errors = 0;
	if ((r = sd_file_read(path, SD_CONFIG_MAX_BYTES, &text, &len)) < 0) {
		if (r == SD_ERR_NOMEM)
			(void)sd_error(r, "%s: out of memory", path);
		report_once(report, ctx, n_errors, sd_error_detail());
		return r;
	}
	/* Whoever can write the configuration chooses the directory and the user. */
	if (stat(path, &st) == 0 && (st.st_mode & S_IWOTH)) {
		free(text);
		r = sd_error(SD_ERR_REFUSED, "%s: writable by anyone; run chmod o-w on it", path);
		report_once(report, ctx, n_errors, sd_error_detail());
		return r;
	}
	r = sd_config_parse((const char *)text, len, path, out, report, ctx, n_errors);
	free(text);
	return r;
}

/* --- defaults, freeing, comparing ---------------------------------------------- */

int sd_config_defaults(sd_config_t *c)
{
	static const char *const hostnames[] = {"localhost", "127.0.0.1"};
	const size_t nh = sizeof(builtin_holidays) / sizeof(builtin_holidays[0]);

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < S_COUNT; i++) {
		if (settings[i].kind == K_SIZE)
			*(uint64_t *)field(c, &settings[i]) = settings[i].def;
		else if (settings[i].kind == K_DURATION || settings[i].kind == K_COUNT)
			*(uint32_t *)field(c, &settings[i]) = (uint32_t)settings[i].def;
	}
	if (!listen_parse(LISTEN_DEF, c->listen_addr, &c->listen_family, &c->listen_port))
		return sd_error(SD_ERR_INTERNAL, "the default listen address does not parse");
	memcpy(c->user, "sealdrop", sizeof("sealdrop"));
	c->log_level = SD_LOG_INFO;
	c->hostnames = calloc(2, sizeof(char *));
	c->holidays = calloc(nh, sizeof(*c->holidays));
	if (c->hostnames == NULL || c->holidays == NULL)
		goto nomem;
	for (; c->n_hostnames < 2; c->n_hostnames++)
		if ((c->hostnames[c->n_hostnames] = strdup(hostnames[c->n_hostnames])) == NULL)
			goto nomem;
	for (; c->n_holidays < nh; c->n_holidays++) {
		size_t i = c->n_holidays;
		c->holidays[i].date = (sd_date_t){builtin_holidays[i].y, builtin_holidays[i].m, builtin_holidays[i].d};
		if ((c->holidays[i].name = strdup(builtin_holidays[i].name)) == NULL)
			goto nomem;
	}
	return 0;
nomem:
	sd_config_free(c);
	return SD_ERR_NOMEM;
}

void sd_config_free(sd_config_t *c)
{
	if (c == NULL)
		return;
	free(c->dir);
	for (size_t i = 0; c->hostnames != NULL && i < c->n_hostnames; i++)
		free(c->hostnames[i]);
	free(c->hostnames);
	for (size_t i = 0; c->holidays != NULL && i < c->n_holidays; i++)
		free(c->holidays[i].name);
	free(c->holidays);
	memset(c, 0, sizeof(*c));
}

static bool str_same(const char *a, const char *b)
{
	return (a == NULL || b == NULL) ? a == b : strcmp(a, b) == 0;
}

bool sd_config_equal(const sd_config_t *a, const sd_config_t *b)
{
	if (!str_same(a->dir, b->dir) || a->listen_family != b->listen_family ||
	    strcmp(a->listen_addr, b->listen_addr) != 0 || a->listen_port != b->listen_port ||
	    strcmp(a->user, b->user) != 0 || a->log_level != b->log_level || a->n_hostnames != b->n_hostnames ||
	    a->n_holidays != b->n_holidays)
		return false;
	for (size_t i = 0; i < S_COUNT; i++) {
		enum kind k = settings[i].kind;
		if ((k == K_SIZE || k == K_DURATION || k == K_COUNT) &&
		    number_get(a, &settings[i]) != number_get(b, &settings[i]))
			return false;
	}
	for (size_t i = 0; i < a->n_hostnames; i++)
		if (strcmp(a->hostnames[i], b->hostnames[i]) != 0)
			return false;
	for (size_t i = 0; i < a->n_holidays; i++)
		if (sd_date_cmp(a->holidays[i].date, b->holidays[i].date) != 0 ||
		    strcmp(a->holidays[i].name, b->holidays[i].name) != 0)
			return false;
	return true;
}

const char *sd_config_setting_name(size_t i)
{
	return i < S_COUNT ? settings[i].name : NULL;
}

/* --- writing ------------------------------------------------------------------- */

/* A word as the parser reads it back: quoted when it holds a space, '#', a quote or a
 * backslash, is empty, or begins with '='. */
static void write_word(FILE *f, const char *s)
{
	if (s[0] != '\0' && s[0] != '=' && strpbrk(s, " \t#\"\\") == NULL) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void write_comment(FILE *f, const char *text)
{
	for (const char *line = text; line != NULL;) {
		const char *nl = strchr(line, '\n');
		int n = nl != NULL ? (int)(nl - line) : (int)strlen(line);
		fprintf(f, "# %.*s\n", n, line);
		line = nl != NULL ? nl + 1 : NULL;
	}
}

static void write_setting(FILE *f, const sd_config_t *c, const struct setting *s)
{
	char lo[32], hi[32], def[32], val[32], date[SD_DATE_TEXT_BYTES];

	write_comment(f, s->help);
	switch (s->kind) {
	case K_DIR:
		fprintf(f, "%s ", s->name);
		write_word(f, c->dir != NULL ? c->dir : SD_CONFIG_EXAMPLE_DIR);
		fputc('\n', f);
		break;
	case K_LISTEN:
		fprintf(f, "# Default: %s.\n", LISTEN_DEF);
		fprintf(f, c->listen_family == AF_INET6 ? "%s [%s]:%u\n" : "%s %s:%u\n", s->name, c->listen_addr,
		        (unsigned)c->listen_port);
		break;
	case K_HOSTNAME:
		for (size_t i = 0; i < c->n_hostnames; i++)
			fprintf(f, "%s %s\n", s->name, c->hostnames[i]);
		break;
	case K_USER:
		fprintf(f, "# Default: sealdrop.\n%s %s\n", s->name, c->user);
		break;
	case K_LOG_LEVEL:
		fprintf(f, "# Default: info.\n%s %s\n", s->name, log_levels[c->log_level]);
		break;
	case K_HOLIDAY:
		for (size_t i = 0; i < c->n_holidays; i++) {
			sd_date_format(c->holidays[i].date, date);
			fprintf(f, "%s %s ", s->name, date);
			write_word(f, c->holidays[i].name);
			fputc('\n', f);
		}
		break;
	default:
		number_format(s->min, s->kind, lo);
		number_format(s->max, s->kind, hi);
		number_format(s->def, s->kind, def);
		number_format(number_get(c, s), s->kind, val);
		fprintf(f, "# From %s to %s; default %s.\n%s %s\n", lo, hi, def, s->name, val);
		break;
	}
}

int sd_config_write(FILE *f, const sd_config_t *c)
{
	fputs("# sealdropd.conf: the configuration of sealdropd, the sealdrop server.\n"
	      "# See sealdropd.conf(5); check a change with `sealdropd check-config --config FILE`.\n"
	      "#\n"
	      "# One setting per line, `name value` or `name = value`; `#` starts a comment.\n"
	      "# Double quotes keep spaces in a value (\\\" and \\\\ inside them). Sizes are bytes or\n"
	      "# take K, M or G (powers of 1024); durations are seconds or take s, m, h or d.\n",
	      f);
	for (size_t i = 0; i < S_COUNT; i++) {
		fputc('\n', f);
		write_setting(f, c, &settings[i]);
	}
	if (fflush(f) != 0 || ferror(f))
		return sd_error(SD_ERR_IO, "writing the configuration failed");
	return 0;
}

/* --- the calendar -------------------------------------------------------------- */

bool sd_config_is_holiday(const sd_config_t *c, sd_date_t d)
{
	bool found;

	(void)holiday_find(c, d, &found);
	return found;
}

bool sd_config_is_working_day(const sd_config_t *c, sd_date_t d)
{
	int64_t days = sd_date_to_days(d);
	int dow = (int)(((days % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday; 0 is Sunday */

	return dow != 0 && dow != 6 && !sd_config_is_holiday(c, d);
}

sd_date_t sd_config_next_working_day(const sd_config_t *c, sd_date_t d)
{
	/* Ends: the table is finite, and at most two weekend days follow five working ones. */
	while (!sd_config_is_working_day(c, d))
		d = sd_date_add_days(d, 1);
	return d;
}

sd_date_t sd_config_period_end(const sd_config_t *c, sd_date_t from, uint32_t days)
{
	return sd_config_next_working_day(c, sd_date_add_days(from, days));
}

bool sd_config_has_holidays_in(const sd_config_t *c, int year)
{
	for (size_t i = 0; i < c->n_holidays; i++)
		if (c->holidays[i].date.y == year)
			return true;
	return false;
}
