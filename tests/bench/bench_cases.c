/*
 * bench_cases.c — `make bench` for the case listing (issue 5, "Tests and measurements"),
 * run by scripts/bench-cases.sh:
 *
 *   fill   writes N cases into a STOPPED sealdropd's store (sd_store_open on the
 *          configuration's dir) as server/commit.c files them — "cases", "case_digests",
 *          "account_cases" and the year's case counter in "meta" — with histories built
 *          step by step through sd_case_flow_apply, as the transition route takes them.
 *          Receipt dates are spread evenly over the last SPAN days (case numbers in
 *          receipt order, per year, as the server assigns them); the younger a case, the
 *          likelier it is still open (received or extended, some overdue), the others
 *          referred, forwarded, terminated, or through an outcome to closed, a few with an
 *          objection and a reinvestigation. Prints what was written: every state's count,
 *          and how many cases the listing's filters match today.
 *   get    GETs --path (a "{case}" in it replaced by a random case number from
 *          --numbers) COUNT times over C keep-alive TLS 1.3 connections with the given
 *          client certificate (none without --cert: the whistleblower's kind of
 *          connection); prints one RESULT line: p50/p99/max latency, the answer's size,
 *          the page's length (a listing's "cases") and, given --pid, the server's CPU
 *          time per request.
 *   wbstatus  the whistleblower's status (issue 5: "status round-trip, p99 < 50 ms
 *          excluding the Argon2id derivation"), run by scripts/bench-status.sh: COUNT
 *          rounds of GET /v1/wb/challenge + POST /v1/wb/status over C keep-alive
 *          connections without a certificate, each with a session of one of the
 *          --codename files (drawn at random), the proof of work solved outside the
 *          timed round (see "wbstatus" below). Before them, untimed: one checked status
 *          per codename (CODENAME lines: cases, notices, answer size), and with
 *          --kdf-runs / --pow-runs the client's deliberate work on its own: the Argon2id
 *          derivation at the directory's limits, INTERACTIVE and MODERATE, and the proof
 *          of work at the server's bits, on one core. RESULT lines: the round p50/p99/max,
 *          its two requests apart, each codename's rounds, every search of the solving
 *          phases, and, given --pid, the server's CPU time per round.
 *
 * Start reading at main(), then fill_case() for the data, cmd_get() and cmd_wbstatus()
 * for the load. Both load modes share one small TLS 1.3 client (http_call()) rather than
 * use bench_server.c's, because a page of 1,000 cases (about 300 KB) does not fit that
 * client's fixed 64 KiB buffers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "sealdrop/bytes.h"
#include "sealdrop/caserec.h"
#include "sealdrop/codename.h"
#include "sealdrop/config.h"
#include "sealdrop/directory.h"
#include "sealdrop/fileio.h"
#include "sealdrop/keys.h"
#include "sealdrop/sealdrop.h"
#include "sealdrop/session.h"
#include "sealdrop/store.h"
#include "sealdrop/uploads.h"
#include "sealdrop/workflow.h"

#include "bench.h"

#define STORE_MAPSIZE     ((size_t)64 << 30) /* as server/server_start.c's */
#define CASES_PER_REQ     500 /* 6 puts each (the record, 2 keys, summary, 2 indexes): under SD_STORE_OPS_MAX */
#define ATTORNEYS_MAX     8
#define SPAN_DAYS         730 /* receipt dates: the last two years */
#define YEARS_MAX         16
#define MAX_CONC          64
#define RESP_MAX          (32u << 20) /* the largest answer read */
#define IO_TIMEOUT_S      60
#define FAILS_SHOWN       5
#define DUE_WITHIN        7    /* the fill's count for ?due_within=7 */
#define OBJECTION_DAYS    7    /* Art. 11-3(1), as server/workflow.c counts it */
#define REQ_MAX           4096 /* one request, head and body */
#define CODENAMES_MAX     8
#define CODENAME_FILE_MAX 4096
#define WB_BATCH          50 /* rounds a connection runs between two solving phases */

static const char *const agencies[] = {"nps", "fss", "ftc", "moel", "mfds", "molit"};

typedef struct {
	const char *mode;
	const char *config, *numbers_out;                                 /* fill */
	const char *ca, *cert, *key, *path, *numbers, *label, *latencies; /* get */
	const char *directory, *codenames[CODENAMES_MAX];                 /* wbstatus */
	size_t n_codenames;
	unsigned cases, count, conc, warmup, pow_runs, kdf_runs, batch;
	uint64_t seed;
	uint16_t port;
	pid_t pid;
	const char *attorneys[ATTORNEYS_MAX]; /* "HEX:NAME" */
	size_t n_attorneys;
} opts_t;

static void usage(void)
{
	fprintf(stderr, "usage: bench_cases fill --config SEALDROPD.CONF --cases N [--attorney FPHEX:NAME]...\n"
	                "                        [--seed S] [--numbers-out FILE]\n"
	                "       bench_cases get --port P --ca CA --cert C --key K --path PATH [--numbers FILE]\n"
	                "                       --count N [--concurrency C] [--warmup W] [--label L] [--pid PID]\n"
	                "                       [--latencies FILE]\n"
	                "       bench_cases wbstatus --port P --ca CA --directory DIRECTORY.json --codename FILE...\n"
	                "                       --count N [--concurrency C] [--batch B] [--pow-runs N] [--kdf-runs N]\n"
	                "                       [--label L] [--pid PID] [--latencies FILE]\n");
	exit(64);
}

static void die(const char *what)
{
	fprintf(stderr, "bench_cases: %s\n", what);
	exit(1);
}

static void die_sd(const char *what, int r)
{
	fprintf(stderr, "bench_cases: %s: %s (%s)\n", what, sd_strerror(r), sd_error_detail());
	exit(1);
}

static unsigned long num_arg(const char *s, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v > max)
		usage();
	return v;
}

static const struct option long_options[] = {
        {"config", required_argument, NULL, 'f'},
        {"numbers-out", required_argument, NULL, 'o'},
        {"cases", required_argument, NULL, 'N'},
        {"attorney", required_argument, NULL, 'A'},
        {"seed", required_argument, NULL, 's'},
        {"ca", required_argument, NULL, 'a'},
        {"cert", required_argument, NULL, 'c'},
        {"key", required_argument, NULL, 'k'},
        {"path", required_argument, NULL, 'u'},
        {"numbers", required_argument, NULL, 'n'},
        {"label", required_argument, NULL, 'l'},
        {"port", required_argument, NULL, 'p'},
        {"count", required_argument, NULL, 'C'},
        {"concurrency", required_argument, NULL, 'j'},
        {"warmup", required_argument, NULL, 'w'},
        {"pid", required_argument, NULL, 'i'},
        {"latencies", required_argument, NULL, 'L'},
        {"directory", required_argument, NULL, 'D'},
        {"codename", required_argument, NULL, 'K'},
        {"pow-runs", required_argument, NULL, 'P'},
        {"kdf-runs", required_argument, NULL, 'R'},
        {"batch", required_argument, NULL, 'B'},
        {NULL, 0, NULL, 0},
};

static void parse_opt(opts_t *o, int c, const char *arg)
{
	const char **slot = c == 'f'   ? &o->config
	                    : c == 'o' ? &o->numbers_out
	                    : c == 'a' ? &o->ca
	                    : c == 'c' ? &o->cert
	                    : c == 'k' ? &o->key
	                    : c == 'u' ? &o->path
	                    : c == 'n' ? &o->numbers
	                    : c == 'l' ? &o->label
	                    : c == 'L' ? &o->latencies
	                    : c == 'D' ? &o->directory
	                               : NULL;

	if (slot != NULL) {
		*slot = arg;
		return;
	}
	if (c == 'N')
		o->cases = (unsigned)num_arg(arg, 5000000);
	else if (c == 's')
		o->seed = num_arg(arg, ULONG_MAX);
	else if (c == 'p')
		o->port = (uint16_t)num_arg(arg, 65535);
	else if (c == 'C')
		o->count = (unsigned)num_arg(arg, 10000000);
	else if (c == 'j')
		o->conc = (unsigned)num_arg(arg, MAX_CONC);
	else if (c == 'w')
		o->warmup = (unsigned)num_arg(arg, 1000);
	else if (c == 'i')
		o->pid = (pid_t)num_arg(arg, INT_MAX);
	else if (c == 'P')
		o->pow_runs = (unsigned)num_arg(arg, 100000);
	else if (c == 'R')
		o->kdf_runs = (unsigned)num_arg(arg, 1000);
	else if (c == 'B')
		o->batch = (unsigned)num_arg(arg, 100000);
	else if (c == 'A' && o->n_attorneys < ATTORNEYS_MAX)
		o->attorneys[o->n_attorneys++] = arg;
	else if (c == 'K' && o->n_codenames < CODENAMES_MAX)
		o->codenames[o->n_codenames++] = arg;
	else
		usage();
}

static void parse_args(int argc, char **argv, opts_t *o)
{
	int c;

	*o = (opts_t){.conc = 1, .warmup = 2, .seed = 5, .label = "get", .batch = WB_BATCH};
	if (argc < 2)
		usage();
	o->mode = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1)
		parse_opt(o, c, optarg);
	if (optind != argc || o->conc == 0)
		usage();
	if (o->warmup == 0)
		o->warmup = 1; /* the reported answer is the last untimed one */
}

/* ---- a deterministic generator (splitmix64): the same seed fills the same store ---- */

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned rng_below(uint64_t *s, unsigned n)
{
	return n == 0 ? 0 : (unsigned)(rng_next(s) % n);
}

static double rng_unit(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) * 0x1p-53;
}

static void rng_bytes(uint64_t *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)rng_next(s);
}

/* ---- fill: the cases ------------------------------------------------------------- */

typedef struct {
	uint8_t fp[SD_CA_FINGERPRINT_BYTES];
	char name[SD_CA_NAME_BYTES];
} attorney_t;

typedef struct {
	sd_config_t cal;
	sd_date_t today;
	uint8_t officer[SD_CA_FINGERPRINT_BYTES];
	attorney_t att[ATTORNEYS_MAX];
	size_t n_att;
	unsigned states[SD_CASE_STATE_COUNT + 1], overdue, due_within, steps;
	size_t bytes;
	int years[YEARS_MAX];
	uint32_t last_seq[YEARS_MAX];
	size_t n_years;
} fill_t;

/* The step `action` on `date`, taken by the officer (an objection: by nobody). */
static sd_case_step_t step_new(const fill_t *f, sd_case_action_t action, sd_date_t date)
{
	sd_case_step_t st;

	memset(&st, 0, sizeof(st));
	st.action = action;
	st.date = date;
	if (action != SD_ACTION_OBJECT)
		memcpy(st.actor, f->officer, sizeof(st.actor));
	st.has_text = action == SD_ACTION_EXTEND || action == SD_ACTION_OUTCOME || action == SD_ACTION_OBJECT ||
	              action == SD_ACTION_REINVESTIGATE;
	return st;
}

/* Takes the step on its date, as the transition route would: false when that date has
 * not come yet (the case stays where it is). A refusal is a bug of this generator. */
static bool take(fill_t *f, sd_case_rec_t *rec, const sd_case_step_t *st)
{
	int r;

	if (sd_date_cmp(st->date, f->today) > 0)
		return false;
	if ((r = sd_case_flow_apply(&rec->flow, st, st->date, &f->cal)) < 0)
		die_sd(rec->case_number, r);
	rec->steps[rec->flow.n_steps - 1] = *st;
	return true;
}

static sd_date_t later(sd_date_t d, unsigned days)
{
	return sd_date_add_days(d, (int64_t)days);
}

/* outcome (the agency concluded up to 9 days before, not before it got the case), then
 * the whistleblower's window: a closing after it, or (once per case, 15%) an objection
 * in it and a reinvestigation, whose outcome follows the same way. */
static void outcome_path(fill_t *f, sd_case_rec_t *rec, uint64_t *rng, bool may_object)
{
	sd_date_t o = later(rec->flow.referred, 30 + rng_below(rng, 171)), due;
	sd_case_step_t st = step_new(f, SD_ACTION_OUTCOME, o);
	int64_t back = (int64_t)rng_below(rng, 10);

	st.concluded = sd_date_add_days(o, -back);
	if (sd_date_cmp(st.concluded, rec->flow.referred) < 0)
		st.concluded = rec->flow.referred;
	if (!take(f, rec, &st))
		return;
	due = sd_config_period_end(&f->cal, o, OBJECTION_DAYS);
	if (may_object && rng_unit(rng) < 0.15) {
		st = step_new(f, SD_ACTION_OBJECT, later(o, 1 + rng_below(rng, OBJECTION_DAYS)));
		if (sd_date_cmp(st.date, due) > 0)
			st.date = due;
		if (!take(f, rec, &st))
			return;
		st = step_new(f, SD_ACTION_REINVESTIGATE, later(st.date, 1 + rng_below(rng, 20)));
		if (take(f, rec, &st) && rng_unit(rng) < 0.5)
			outcome_path(f, rec, rng, false);
		return;
	}
	st = step_new(f, SD_ACTION_CLOSE, later(due, 1 + rng_below(rng, 30)));
	(void)take(f, rec, &st);
}

/* refer, forward or terminate between 5 and 55 days after receipt (after the extension,
 * if any); a referral goes on to an outcome in half the cases. */
static void decide(fill_t *f, sd_case_rec_t *rec, uint64_t *rng, sd_date_t after)
{
	sd_date_t d = later(rec->received, 5 + rng_below(rng, 51));
	double u = rng_unit(rng);
	sd_case_step_t st;

	if (sd_date_cmp(d, after) < 0)
		d = after;
	if (u < 0.25) {
		st = step_new(f, SD_ACTION_TERMINATE, d);
		st.reason = (sd_terminate_reason_t)(1 + rng_below(rng, 3));
	} else if (u < 0.40) {
		st = step_new(f, SD_ACTION_FORWARD, d);
	} else {
		st = step_new(f, SD_ACTION_REFER, d);
		st.kind = (sd_refer_kind_t)(1 + rng_below(rng, 2));
	}
	if (st.action != SD_ACTION_TERMINATE)
		snprintf(st.agency, sizeof(st.agency), "%s",
		         agencies[rng_below(rng, sizeof(agencies) / sizeof(agencies[0]))]);
	if (take(f, rec, &st) && st.action == SD_ACTION_REFER && u >= 0.70)
		outcome_path(f, rec, rng, true);
}

/* The case's history: open (95% of cases younger than 60 days, 60% under 180, 30% under
 * a year, 15% older: a backlog, so some are overdue), 30% of them extended; else
 * decided. */
static void case_history(fill_t *f, sd_case_rec_t *rec, uint64_t *rng)
{
	int64_t age = sd_date_to_days(f->today) - sd_date_to_days(rec->received);
	double p_open = age < 60 ? 0.95 : age < 180 ? 0.6 : age < 365 ? 0.3 : 0.15;
	bool open = rng_unit(rng) < p_open;
	sd_date_t after = rec->received;
	sd_case_step_t st;

	if (age >= 10 && rng_unit(rng) < 0.3) {
		st = step_new(f, SD_ACTION_EXTEND,
		              later(rec->received, 1 + rng_below(rng, (unsigned)(age < 55 ? age : 55))));
		if (take(f, rec, &st))
			after = st.date;
	}
	if (!open)
		decide(f, rec, rng, after);
}

/* Case i (its generator seeded from i), received on `received`, numbered `seq` in its year. */
static void fill_case(fill_t *f, sd_case_rec_t *rec, unsigned i, sd_date_t received, uint32_t seq, uint64_t seed)
{
	uint64_t rng = seed ^ ((uint64_t)i * 0x2545f4914f6cdd1dull);
	const attorney_t *a = &f->att[rng_below(&rng, (unsigned)f->n_att)];
	int r;

	memset(rec, 0, sizeof(*rec));
	rec->received = received;
	rec->decision_due = sd_config_period_end(&f->cal, received, 60);
	sd_case_rec_init(rec);
	if ((r = sd_case_number_format(received.y, seq, rec->case_number)) < 0)
		die_sd("case number", r);
	rng_bytes(&rng, rec->digest, sizeof(rec->digest));
	rng_bytes(&rng, rec->upload, sizeof(rec->upload));
	memcpy(rec->attorney, a->fp, sizeof(rec->attorney));
	snprintf(rec->attorney_name, sizeof(rec->attorney_name), "%s", a->name);
	rec->has_notice_key = true;
	rng_bytes(&rng, rec->notice_key, sizeof(rec->notice_key));
	case_history(f, rec, &rng);
	rec->notices = 1 + (uint32_t)rec->flow.n_steps; /* the receipt's, then about one per step */
}

/* What the listing's filters will find today. */
static void fill_count(fill_t *f, const sd_case_rec_t *rec)
{
	sd_deadline_t d = sd_case_flow_deadline(&rec->flow, &f->cal);

	f->states[rec->flow.state]++;
	f->steps += rec->flow.n_steps;
	if (sd_case_flow_overdue(&rec->flow, f->today, &f->cal))
		f->overdue++;
	if (d.kind != SD_DEADLINE_NONE && sd_date_to_days(d.due) - sd_date_to_days(f->today) <= DUE_WITHIN)
		f->due_within++;
}

/* ---- fill: the store ------------------------------------------------------------- */

static void add_case(fill_t *f, sd_store_req_t *req, const sd_case_rec_t *rec)
{
	const uint8_t *cn = (const uint8_t *)rec->case_number;
	size_t cn_len = strlen(rec->case_number);
	uint8_t acct[SD_CA_FINGERPRINT_BYTES + SD_CASE_NUMBER_BYTES], *bytes = NULL;
	size_t len = 0;
	int r;

	if ((r = sd_case_rec_encode(rec, &bytes, &len)) < 0)
		die_sd(rec->case_number, r);
	memcpy(acct, rec->attorney, SD_CA_FINGERPRINT_BYTES);
	memcpy(acct + SD_CA_FINGERPRINT_BYTES, cn, cn_len);
	sd_store_req_put(req, SD_STORE_DB_CASES, cn, cn_len, bytes, len, SD_STORE_NOOVERWRITE);
	sd_store_req_put(req, SD_STORE_DB_CASE_DIGESTS, rec->digest, SD_HASH_BYTES, cn, cn_len, 0);
	sd_store_req_put(req, SD_STORE_DB_ACCOUNT_CASES, acct, SD_CA_FINGERPRINT_BYTES + cn_len, NULL, 0, 0);
	if ((r = sd_case_index_req(req, NULL, rec)) < 0) /* the listing's summary and indexes */
		die_sd(rec->case_number, r);
	f->bytes += len;
	free(bytes);
}

static void submit(sd_store_t *store, sd_store_req_t **req)
{
	int r = sd_store_call(store, *req);

	if (r < 0)
		die_sd("writing cases (is the store already filled, or the server running?)", r);
	sd_store_req_free(*req);
	if ((*req = sd_store_req_new()) == NULL)
		die("out of memory");
}

/* The case counter of every year filled: "meta" case_seq/YYYY, as commit.c keeps it, and
 * the flag saying every case has its listing summary (server_start.c). */
static void write_counters(const fill_t *f, sd_store_t *store, sd_store_req_t **req)
{
	char key[SD_CASE_SEQ_KEY_BYTES];
	uint8_t seq[4];

	for (size_t k = 0; k < f->n_years; k++) {
		if (sd_case_seq_key(f->years[k], key) < 0)
			die("a year out of range");
		sd_store_le32(seq, f->last_seq[k]);
		sd_store_req_put(*req, SD_STORE_DB_META, (const uint8_t *)key, strlen(key), seq, sizeof(seq), 0);
	}
	/* Every case has its summary: the server need not build them at start-up. */
	sd_store_req_put(*req, SD_STORE_DB_META, (const uint8_t *)SD_CASE_INDEX_VERSION_KEY,
	                 strlen(SD_CASE_INDEX_VERSION_KEY), (const uint8_t *)SD_CASE_INDEX_VERSION,
	                 strlen(SD_CASE_INDEX_VERSION), 0);
	submit(store, req);
}

/* The next number of received's year. */
static uint32_t next_seq(fill_t *f, sd_date_t received)
{
	if (f->n_years == 0 || f->years[f->n_years - 1] != received.y) {
		if (f->n_years == YEARS_MAX)
			die("too many years");
		f->years[f->n_years] = received.y;
		f->last_seq[f->n_years++] = 0;
	}
	return ++f->last_seq[f->n_years - 1];
}

static void fill_attorneys(fill_t *f, const opts_t *o, uint64_t *rng)
{
	char hex[2 * SD_CA_FINGERPRINT_BYTES + 1];

	for (size_t k = 0; k < o->n_attorneys; k++) {
		const char *colon = strchr(o->attorneys[k], ':');
		if (colon == NULL || colon - o->attorneys[k] != 2 * SD_CA_FINGERPRINT_BYTES || colon[1] == '\0')
			usage();
		memcpy(hex, o->attorneys[k], sizeof(hex) - 1);
		hex[sizeof(hex) - 1] = '\0';
		if (sd_hex_decode(hex, f->att[k].fp, SD_CA_FINGERPRINT_BYTES) < 0)
			usage();
		snprintf(f->att[k].name, sizeof(f->att[k].name), "%s", colon + 1);
	}
	f->n_att = o->n_attorneys;
	for (; f->n_att < 4; f->n_att++) {
		rng_bytes(rng, f->att[f->n_att].fp, SD_CA_FINGERPRINT_BYTES);
		snprintf(f->att[f->n_att].name, sizeof(f->att[f->n_att].name), "Bench Attorney %zu", f->n_att + 1);
	}
	rng_bytes(rng, f->officer, sizeof(f->officer));
}

static void fill_report(const fill_t *f, unsigned n, double secs)
{
	printf("FILL cases=%u secs=%.2f record_bytes_avg=%zu steps_avg=%.2f attorneys=%zu", n, secs,
	       n ? f->bytes / n : 0, n ? (double)f->steps / n : 0.0, f->n_att);
	for (int s = 1; s <= SD_CASE_STATE_COUNT; s++)
		printf(" %s=%u", sd_case_state_name((sd_case_state_t)s), f->states[s]);
	printf(" overdue=%u due_within_%d=%u\n", f->overdue, DUE_WITHIN, f->due_within);
}

static int cmd_fill(const opts_t *o)
{
	fill_t *f = calloc(1, sizeof(*f));
	sd_case_rec_t *rec = malloc(sizeof(*rec));
	sd_store_opts_t so = {.mapsize = STORE_MAPSIZE};
	sd_store_t *store = NULL;
	sd_store_req_t *req = sd_store_req_new();
	FILE *numbers = NULL;
	uint64_t rng = o->seed;
	double t = bench_now();
	int r;

	if (o->config == NULL || o->cases == 0)
		usage();
	if (f == NULL || rec == NULL || req == NULL)
		die("out of memory");
	if ((r = sd_config_load(o->config, &f->cal, NULL, NULL, NULL)) < 0)
		die_sd(o->config, r);
	if ((r = sd_store_open(f->cal.dir, &so, &store)) < 0)
		die_sd("opening the store (stop the server first)", r);
	if (o->numbers_out != NULL && (numbers = fopen(o->numbers_out, "w")) == NULL)
		die("cannot create the --numbers-out file");
	f->today = sd_date_today();
	fill_attorneys(f, o, &rng);
	for (unsigned i = 0; i < o->cases; i++) {
		int64_t age = SPAN_DAYS - 1 - (int64_t)((uint64_t)i * SPAN_DAYS / o->cases);
		sd_date_t received = sd_date_add_days(f->today, -age);
		fill_case(f, rec, i, received, next_seq(f, received), o->seed);
		fill_count(f, rec);
		add_case(f, req, rec);
		if (numbers != NULL)
			fprintf(numbers, "%s\n", rec->case_number);
		if ((i + 1) % CASES_PER_REQ == 0)
			submit(store, &req);
	}
	write_counters(f, store, &req);
	sd_store_req_free(req);
	sd_store_close(store);
	if (numbers != NULL && fclose(numbers) != 0)
		die("cannot write the --numbers-out file");
	fill_report(f, o->cases, bench_now() - t);
	sd_config_free(&f->cal);
	free(rec);
	free(f);
	return 0;
}

/* ---- a TLS 1.3 keep-alive client (get and wbstatus) ---------------------------------- */

typedef struct {
	SSL *ssl;
	int fd;
	uint8_t *buf; /* read buffer, grown up to RESP_MAX */
	size_t len, cap;
} conn_t;

typedef struct {
	int status;
	size_t hlen, clen; /* the answer is buf[hlen .. hlen + clen) */
} resp_t;

/* With --cert and --key the connection presents them (an officer, an attorney); without
 * it presents none, as the whistleblower's client does. */
static SSL_CTX *tls_ctx_new(const opts_t *o)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_load_verify_locations(ctx, o->ca, NULL) != 1 ||
	    (o->cert != NULL && (SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1 ||
	                         SSL_CTX_use_PrivateKey_file(ctx, o->key, SSL_FILETYPE_PEM) != 1 ||
	                         SSL_CTX_check_private_key(ctx) != 1))) {
		ERR_print_errors_fp(stderr);
		die("cannot set up TLS 1.3 with the CA, certificate and key");
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
}

static void conn_close(conn_t *c)
{
	if (c->ssl != NULL) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	if (c->fd >= 0)
		close(c->fd);
	c->ssl = NULL;
	c->fd = -1;
	c->len = 0;
}

static int conn_open(conn_t *c, SSL_CTX *ctx, uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct timeval tv = {.tv_sec = IO_TIMEOUT_S};
	int one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->len = 0;
	if ((c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) != 0 || (c->ssl = SSL_new(ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1 || X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), "127.0.0.1") != 1 ||
	    SSL_connect(c->ssl) != 1) {
		ERR_clear_error();
		conn_close(c);
		return -1;
	}
	return 0;
}

/* Reads more into the buffer, growing it (up to RESP_MAX) when full. */
static int conn_fill(conn_t *c)
{
	int n;

	if (c->len == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : (256u << 10);
		uint8_t *p = cap <= RESP_MAX ? realloc(c->buf, cap) : NULL;
		if (p == NULL)
			return -1;
		c->buf = p;
		c->cap = cap;
	}
	n = SSL_read(c->ssl, c->buf + c->len, (int)(c->cap - c->len));
	if (n <= 0) {
		ERR_clear_error();
		return -1;
	}
	c->len += (size_t)n;
	return 0;
}

/* Reads one answer: its status, and its body at buf + hlen (Content-Length framed). */
static int http_read(conn_t *c, resp_t *r)
{
	static const char cl[] = "\r\ncontent-length:";
	uint8_t *end;
	char *h;

	while ((end = c->len ? memmem(c->buf, c->len, "\r\n\r\n", 4) : NULL) == NULL)
		if (conn_fill(c) < 0)
			return -1;
	r->hlen = (size_t)(end - c->buf) + 4;
	*end = '\0';
	if (r->hlen < 12 || strncmp((char *)c->buf, "HTTP/1.1 ", 9) != 0 ||
	    (h = strcasestr((char *)c->buf, cl)) == NULL)
		return -1;
	r->status = atoi((char *)c->buf + 9);
	r->clen = strtoul(h + sizeof(cl) - 1, NULL, 10);
	if (r->clen > RESP_MAX - r->hlen)
		return -1;
	while (c->len < r->hlen + r->clen)
		if (conn_fill(c) < 0)
			return -1;
	return 0;
}

/* Drops the answer just read from the buffer (one request at a time: nothing follows). */
static void http_consume(conn_t *c, const resp_t *r)
{
	size_t n = r->hlen + r->clen;

	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

/* One request on c, opened first when it is not: 0 with the answer in c->buf (where: r),
 * which the caller drops with http_consume; -1 when the connection failed (it is closed:
 * the next call opens a new one). The request goes out in one write. */
static int http_call(conn_t *c, SSL_CTX *ctx, uint16_t port, const char *method, const char *path, const char *body,
                     resp_t *r)
{
	char req[REQ_MAX];
	size_t blen = body != NULL ? strlen(body) : 0;
	int n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%sContent-Length: %zu\r\n\r\n%s",
	                 method, path, body != NULL ? "Content-Type: application/json\r\n" : "", blen,
	                 body != NULL ? body : "");

	if (n < 0 || (size_t)n >= sizeof(req))
		die("a request is too long");
	if (c->ssl == NULL && conn_open(c, ctx, port) < 0)
		return -1;
	if (SSL_write(c->ssl, req, n) <= 0 || http_read(c, r) < 0) {
		ERR_clear_error();
		conn_close(c);
		return -1;
	}
	return 0;
}

/* Says what failed, the first FAILS_SHOWN times of a run; -1. */
static int fail_note(atomic_uint *shown, const char *label, const char *what, int status)
{
	if (atomic_fetch_add(shown, 1) < FAILS_SHOWN)
		fprintf(stderr, "bench_cases: %s: %s %d\n", label, what, status);
	return -1;
}

/* ---- results (both modes) ------------------------------------------------------------ */

/* utime + stime of pid, in seconds; 0 when it cannot be read. */
static double proc_cpu_s(pid_t pid)
{
	unsigned long long ut = 0, st = 0;
	char path[64], buf[1024], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (pid <= 0 || (f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of n sorted latencies, in ms. */
static double pct_ms(const uint32_t *v, size_t n, unsigned pct)
{
	size_t rank = (n * pct + 99) / 100;

	return n == 0 ? 0 : (double)v[rank == 0 ? 0 : rank - 1] / 1000.0;
}

/* The latencies of v[0..n) that did not fail (UINT32_MAX), sorted, in a new array. */
static uint32_t *lat_sorted(const uint32_t *v, size_t n, size_t *kept)
{
	uint32_t *s = malloc((n + 1) * sizeof(*s));

	if (s == NULL)
		die("out of memory");
	*kept = 0;
	for (size_t i = 0; i < n; i++)
		if (v[i] != UINT32_MAX)
			s[(*kept)++] = v[i];
	qsort(s, *kept, sizeof(*s), cmp_u32);
	return s;
}

/* " NAMEp50_ms=... NAMEp99_ms=... NAMEmax_ms=..." of the latencies that did not fail. */
static void lat_print(const char *name, const uint32_t *v, size_t n)
{
	size_t k;
	uint32_t *s = lat_sorted(v, n, &k);

	printf(" %sp50_ms=%.2f %sp99_ms=%.2f %smax_ms=%.2f", name, pct_ms(s, k, 50), name, pct_ms(s, k, 99), name,
	       k ? (double)s[k - 1] / 1000.0 : 0.0);
	free(s);
}

/* Every latency in µs that did not fail, in the order the requests were handed out: for a
 * histogram. */
static void latencies_write(const opts_t *o, const uint32_t *v, size_t n)
{
	FILE *f;

	if (o->latencies == NULL)
		return;
	if ((f = fopen(o->latencies, "w")) == NULL)
		die("cannot create the --latencies file");
	for (size_t i = 0; i < n; i++)
		if (v[i] != UINT32_MAX)
			fprintf(f, "%u\n", v[i]);
	if (fclose(f) != 0)
		die("cannot write the --latencies file");
}

/* ---- get ------------------------------------------------------------------------------ */

typedef struct {
	const opts_t *o;
	SSL_CTX *ctx;
	char **numbers;
	size_t n_numbers;
	unsigned count;
	atomic_uint next, ok, fail, shown;
	uint32_t *lat_us; /* UINT32_MAX: failed */
	pthread_barrier_t ready, go;
	size_t body_bytes; /* of one answer (worker 0's last untimed one) */
	char *sample;      /* that answer, for the page's length */
} run_t;

typedef struct {
	run_t *run;
	conn_t conn;
	uint64_t rng;
	unsigned id;
} worker_t;

/* One GET on the worker's connection; 0 for a 200. keep: the answer goes to run->sample. */
static int get_one(worker_t *w, bool keep)
{
	run_t *run = w->run;
	const char *path = run->o->path, *hole = strstr(path, "{case}");
	char full[1024];
	resp_t r;
	int n;

	if (hole != NULL)
		n = snprintf(full, sizeof(full), "%.*s%s%s", (int)(hole - path), path,
		             run->numbers[rng_next(&w->rng) % run->n_numbers], hole + 6);
	else
		n = snprintf(full, sizeof(full), "%s", path);
	if (n < 0 || (size_t)n >= sizeof(full))
		die("--path is too long");
	if (http_call(&w->conn, run->ctx, run->o->port, "GET", full, NULL, &r) < 0)
		return fail_note(&run->shown, run->o->label, "connection failed", 0);
	if (keep) {
		free(run->sample);
		run->body_bytes = r.clen;
		if ((run->sample = malloc(r.clen + 1)) != NULL) {
			memcpy(run->sample, w->conn.buf + r.hlen, r.clen);
			run->sample[r.clen] = '\0';
		}
	}
	http_consume(&w->conn, &r);
	return r.status == 200 ? 0 : fail_note(&run->shown, run->o->label, "HTTP", r.status);
}

static void *worker_main(void *arg)
{
	worker_t *w = arg;
	run_t *run = w->run;
	unsigned i;

	/* Untimed; worker 0's last answer is the one reported (page, bytes). */
	for (unsigned k = 0; k < run->o->warmup; k++)
		(void)get_one(w, w->id == 0 && k + 1 == run->o->warmup);
	pthread_barrier_wait(&run->ready);
	pthread_barrier_wait(&run->go);
	while ((i = atomic_fetch_add(&run->next, 1)) < run->count) {
		double t = bench_now();
		if (get_one(w, false) == 0) {
			run->lat_us[i] = (uint32_t)((bench_now() - t) * 1e6);
			atomic_fetch_add(&run->ok, 1);
		} else {
			run->lat_us[i] = UINT32_MAX;
			atomic_fetch_add(&run->fail, 1);
		}
	}
	conn_close(&w->conn);
	free(w->conn.buf);
	return NULL;
}

static char **numbers_load(const char *path, size_t *n)
{
	FILE *f = fopen(path, "r");
	char line[64], **v = NULL;
	size_t cap = 0;

	*n = 0;
	if (f == NULL)
		die("cannot read --numbers");
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!sd_case_number_is_valid(line))
			continue;
		if (*n == cap && (v = realloc(v, (cap = cap ? 2 * cap : 1024) * sizeof(*v))) == NULL)
			die("out of memory");
		if ((v[(*n)++] = strdup(line)) == NULL)
			die("out of memory");
	}
	fclose(f);
	if (*n == 0)
		die("--numbers lists no case number");
	return v;
}

/* " page=N more=B" for a listing's answer, nothing for another. */
static void page_report(const run_t *run)
{
	json_t *j = run->sample != NULL ? json_loads(run->sample, 0, NULL) : NULL;
	json_t *cases = json_object_get(j, "cases");

	if (json_is_array(cases))
		printf(" page=%zu more=%s", json_array_size(cases),
		       json_is_true(json_object_get(j, "more")) ? "true" : "false");
	json_decref(j);
}

static void get_report(run_t *run, double secs, double server_cpu)
{
	const opts_t *o = run->o;
	unsigned ok = atomic_load(&run->ok);

	latencies_write(o, run->lat_us, run->count);
	printf("RESULT mode=get name=%s conc=%u count=%u ok=%u fail=%u secs=%.3f rate=%.1f", o->label, o->conc,
	       run->count, ok, atomic_load(&run->fail), secs, (double)ok / secs);
	lat_print("", run->lat_us, run->count);
	printf(" body_bytes=%zu", run->body_bytes);
	page_report(run);
	if (o->pid > 0)
		printf(" server_cpu_ms_per_req=%.3f", ok ? 1000.0 * server_cpu / ok : 0.0);
	printf("\n");
	fflush(stdout);
}

static int cmd_get(const opts_t *o)
{
	run_t *run = calloc(1, sizeof(*run));
	worker_t *w = calloc(o->conc, sizeof(*w));
	pthread_t th[MAX_CONC];
	double t, cpu;

	if (o->port == 0 || o->ca == NULL || (o->cert == NULL) != (o->key == NULL) || o->path == NULL || o->count == 0)
		usage();
	if (run == NULL || w == NULL || (run->lat_us = calloc(o->count, sizeof(uint32_t))) == NULL)
		die("out of memory");
	run->o = o;
	run->count = o->count;
	run->ctx = tls_ctx_new(o);
	if (strstr(o->path, "{case}") != NULL) {
		if (o->numbers == NULL)
			usage();
		run->numbers = numbers_load(o->numbers, &run->n_numbers);
	}
	pthread_barrier_init(&run->ready, NULL, o->conc + 1);
	pthread_barrier_init(&run->go, NULL, o->conc + 1);
	for (unsigned k = 0; k < o->conc; k++) {
		w[k] = (worker_t){.run = run, .conn = {.fd = -1}, .rng = o->seed * 1000003u + k, .id = k};
		if (pthread_create(&th[k], NULL, worker_main, &w[k]) != 0)
			die("cannot start a worker");
	}
	pthread_barrier_wait(&run->ready);
	cpu = proc_cpu_s(o->pid);
	t = bench_now();
	pthread_barrier_wait(&run->go);
	for (unsigned k = 0; k < o->conc; k++)
		pthread_join(th[k], NULL);
	t = bench_now() - t;
	cpu = proc_cpu_s(o->pid) - cpu;
	get_report(run, t, cpu);
	return atomic_load(&run->fail) == 0 ? 0 : 2;
}

/* ---- wbstatus: the whistleblower's status round trip ------------------------------------
 *
 * A round is what `sealdrop status` sends: GET /v1/wb/challenge, then POST /v1/wb/status
 * with a session, on one kept-alive connection without a client certificate. What the
 * client does in between — the proof of work, the signature — is its own deliberate work
 * and is kept out of the time: each round answers, with a session solved beforehand, a
 * challenge fetched in the round before it, and the challenge the round fetches is solved
 * after it. So the connections run `--batch` rounds each, back to back (the load), then
 * stop while every core solves the challenges they fetched (the server idle), and so on:
 * a challenge is answered within one solving phase and two batches, far inside its 300 s.
 * The server's CPU is counted over the batches only. */

typedef struct {
	uint8_t nonce[SD_SESSION_NONCE_BYTES];
	unsigned cn; /* the codename that answers it */
	sd_session_proof_t proof;
} slot_t;

typedef struct wb_run wb_run_t;

typedef struct {
	wb_run_t *run;
	conn_t conn;
	uint64_t rng;
	unsigned quota, done;  /* the rounds this connection runs, and has run */
	slot_t *ready, *fresh; /* batch each: solved for this batch; fetched for the next */
	unsigned n_ready, n_fresh;
} wb_worker_t;

struct wb_run {
	const opts_t *o;
	SSL_CTX *ctx;
	sd_directory_t *dir;
	sd_codename_keys_t *keys[CODENAMES_MAX];
	unsigned n_cn, bits, batch;
	wb_worker_t *w; /* conc, then one for the main thread */
	atomic_uint next, ok, fail, shown, solve_next, n_pow;
	uint32_t *round_us, *chal_us, *post_us; /* per round; UINT32_MAX: failed */
	uint8_t *round_cn;
	uint32_t *pow_us; /* every search of the solving phases */
	slot_t **solve;   /* this phase's challenges to solve */
	unsigned n_solve;
	pthread_barrier_t go, done;
	bool stop;
	double secs, server_cpu;
};

/* GET /v1/wb/challenge into s (for a codename drawn at random): 0, or -1 (noted). */
static int wb_challenge(wb_worker_t *w, slot_t *s)
{
	wb_run_t *run = w->run;
	json_t *j;
	const char *c;
	resp_t r;
	int ok;

	if (http_call(&w->conn, run->ctx, run->o->port, "GET", "/v1/wb/challenge", NULL, &r) < 0)
		return fail_note(&run->shown, "challenge", "connection failed", 0);
	if (r.status != 200) {
		http_consume(&w->conn, &r);
		return fail_note(&run->shown, "challenge", "HTTP", r.status);
	}
	j = json_loadb((const char *)w->conn.buf + r.hlen, r.clen, 0, NULL);
	c = json_string_value(json_object_get(j, "challenge"));
	ok = c != NULL && sd_base64_decode_exact(c, s->nonce, sizeof(s->nonce)) == 0 &&
	     json_integer_value(json_object_get(j, "bits")) == (json_int_t)run->bits;
	json_decref(j);
	http_consume(&w->conn, &r);
	s->cn = rng_below(&w->rng, run->n_cn);
	return ok ? 0 : fail_note(&run->shown, "challenge", "not the answer expected, HTTP", r.status);
}

/* {"session": {...}} of p, as the client sends it. */
static void wb_body(const sd_session_proof_t *p, char *out, size_t cap)
{
	char ch[64], cn[64], loc[64], sig[128], pow[32];
	int n;

	sd_base64_encode(p->server_nonce, sizeof(p->server_nonce), ch);
	sd_base64_encode(p->client_nonce, sizeof(p->client_nonce), cn);
	sd_base64_encode(p->locator, sizeof(p->locator), loc);
	sd_base64_encode(p->signature, sizeof(p->signature), sig);
	sd_base64_encode(p->pow, sizeof(p->pow), pow);
	n = snprintf(out, cap,
	             "{\"session\": {\"challenge\": \"%s\", \"client_nonce\": \"%s\", \"locator\": \"%s\", "
	             "\"signature\": \"%s\", \"pow\": \"%s\"}}",
	             ch, cn, loc, sig, pow);
	if (n < 0 || (size_t)n >= cap)
		die("a session does not fit its buffer");
}

/* POST /v1/wb/status with s's session: the answer's status (-1: no answer), its body in
 * w->conn.buf (r) until http_consume. */
static int wb_post(wb_worker_t *w, const slot_t *s, resp_t *r)
{
	char body[1024];

	wb_body(&s->proof, body, sizeof(body));
	if (http_call(&w->conn, w->run->ctx, w->run->o->port, "POST", "/v1/wb/status", body, r) < 0)
		return fail_note(&w->run->shown, "status", "connection failed", 0);
	return r->status;
}

/* Round i: a challenge (kept for the next batch when `keep`), then the status with s. */
static void wb_round(wb_worker_t *w, const slot_t *s, unsigned i, bool keep)
{
	wb_run_t *run = w->run;
	slot_t next;
	resp_t r;
	double t0 = bench_now(), t1;
	int got = wb_challenge(w, &next), status = 0;

	t1 = bench_now();
	if (got == 0 && (status = wb_post(w, s, &r)) >= 0) {
		http_consume(&w->conn, &r);
		if (status != 200)
			(void)fail_note(&run->shown, "status", "HTTP", status);
	}
	run->round_cn[i] = (uint8_t)s->cn;
	if (got == 0 && status == 200) {
		double t2 = bench_now();
		run->round_us[i] = (uint32_t)((t2 - t0) * 1e6);
		run->chal_us[i] = (uint32_t)((t1 - t0) * 1e6);
		run->post_us[i] = (uint32_t)((t2 - t1) * 1e6);
		atomic_fetch_add(&run->ok, 1);
	} else {
		run->round_us[i] = run->chal_us[i] = run->post_us[i] = UINT32_MAX;
		atomic_fetch_add(&run->fail, 1);
	}
	if (got == 0 && keep)
		w->fresh[w->n_fresh++] = next;
}

/* The connection's next batch: every solved session, one round each. */
static void wb_batch(wb_worker_t *w)
{
	unsigned after = w->done + w->n_ready; /* rounds run once this batch is over */

	for (unsigned j = 0; j < w->n_ready; j++) {
		unsigned i = atomic_fetch_add(&w->run->next, 1);
		wb_round(w, &w->ready[j], i, w->n_fresh < w->run->batch && after + w->n_fresh < w->quota);
	}
	w->done = after;
	w->n_ready = 0;
}

/* A connection: fetches its first batch's challenges (untimed; the connection opens), then
 * runs a batch each time the main thread has solved them. */
static void *wb_worker_main(void *arg)
{
	wb_worker_t *w = arg;
	wb_run_t *run = w->run;
	unsigned first = w->quota < run->batch ? w->quota : run->batch;

	for (unsigned tries = 0; w->n_fresh < first && tries < 2 * first; tries++)
		if (wb_challenge(w, &w->fresh[w->n_fresh]) == 0)
			w->n_fresh++;
	for (;;) {
		pthread_barrier_wait(&run->done);
		pthread_barrier_wait(&run->go);
		if (run->stop)
			break;
		wb_batch(w);
	}
	conn_close(&w->conn);
	return NULL;
}

/* A solving thread: takes challenges off run->solve until none is left. */
static void *wb_solver_main(void *arg)
{
	wb_run_t *run = arg;
	unsigned i;

	while ((i = atomic_fetch_add(&run->solve_next, 1)) < run->n_solve) {
		slot_t *s = run->solve[i];
		double t = bench_now();
		int r = sd_session_prove(run->keys[s->cn], s->nonce, run->bits, &s->proof);
		if (r < 0)
			die_sd("the proof of work", r);
		run->pow_us[atomic_fetch_add(&run->n_pow, 1)] = (uint32_t)((bench_now() - t) * 1e6);
	}
	return NULL;
}

/* Solves every connection's fetched challenges on every core; they become its next batch.
 * The number of connections with a batch to run. */
static unsigned wb_solve(wb_run_t *run)
{
	pthread_t th[MAX_CONC];
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n_th = cores < 1 ? 1 : cores > MAX_CONC ? MAX_CONC : (unsigned)cores, busy = 0;

	run->n_solve = 0;
	for (unsigned k = 0; k < run->o->conc; k++)
		for (unsigned j = 0; j < run->w[k].n_fresh; j++)
			run->solve[run->n_solve++] = &run->w[k].fresh[j];
	atomic_store(&run->solve_next, 0);
	for (unsigned t = 0; t < n_th; t++)
		if (pthread_create(&th[t], NULL, wb_solver_main, run) != 0)
			die("cannot start a solving thread");
	for (unsigned t = 0; t < n_th; t++)
		pthread_join(th[t], NULL);
	for (unsigned k = 0; k < run->o->conc; k++) {
		wb_worker_t *w = &run->w[k];
		slot_t *tmp = w->ready;
		w->ready = w->fresh;
		w->fresh = tmp;
		w->n_ready = w->n_fresh;
		w->n_fresh = 0;
		busy += w->n_ready > 0;
	}
	return busy;
}

/* Solving phases and batches until every connection has run its rounds. */
static void wb_phases(wb_run_t *run)
{
	pthread_barrier_wait(&run->done); /* the first challenges are in */
	for (;;) {
		double t, cpu;
		if (wb_solve(run) == 0) {
			run->stop = true;
			pthread_barrier_wait(&run->go);
			return;
		}
		cpu = proc_cpu_s(run->o->pid);
		t = bench_now();
		pthread_barrier_wait(&run->go);
		pthread_barrier_wait(&run->done);
		run->secs += bench_now() - t;
		run->server_cpu += proc_cpu_s(run->o->pid) - cpu;
	}
}

/* ---- wbstatus: before the rounds ------------------------------------------------------- */

/* The directory (its deployment and Argon2id limits), trusting the key it names: the
 * script made it. */
static sd_directory_t *wb_directory(const char *path)
{
	uint8_t *json = NULL;
	size_t len = 0;
	sd_pubkey_t root;
	sd_directory_t *d = NULL;
	int r;

	if ((r = sd_file_read(path, SD_DIRECTORY_MAX_BYTES, &json, &len)) < 0 ||
	    (r = sd_directory_signer(json, len, &root)) < 0 ||
	    (r = sd_directory_parse(json, len, &root, sd_date_today(), &d)) < 0)
		die_sd(path, r);
	free(json);
	return d;
}

/* The canonical codename in a --codename file (secret memory: sd_secret_free). */
static char *wb_codename(const char *path)
{
	char *typed = NULL, *canonical = sd_secret_alloc(SD_CODENAME_MAX);
	size_t len = 0;
	int r;

	if (canonical == NULL)
		die("out of memory");
	if ((r = sd_file_read_secret(path, CODENAME_FILE_MAX, &typed, &len)) < 0 ||
	    (r = sd_codename_canonicalize(typed, len, canonical, SD_CODENAME_MAX)) < 0)
		die_sd(path, r);
	sd_secret_free(typed);
	return canonical;
}

/* (b) sd_codename_derive `runs` times at `limits`: the client's key derivation. */
static void wb_kdf_time(const char *name, const char *canonical, const char *deployment, sd_kdf_limits_t limits,
                        unsigned runs)
{
	uint32_t *us = calloc(runs, sizeof(*us));
	double sum = 0;

	if (us == NULL)
		die("out of memory");
	for (unsigned i = 0; i < runs; i++) {
		sd_codename_keys_t *k = NULL;
		double t = bench_now();
		int r = sd_codename_derive(canonical, deployment, &limits, &k);
		if (r < 0)
			die_sd("sd_codename_derive", r);
		us[i] = (uint32_t)((bench_now() - t) * 1e6);
		sum += us[i] / 1000.0;
		sd_codename_keys_free(k);
	}
	printf("RESULT mode=wbstatus name=kdf-%s opslimit=%llu memlimit_mib=%zu count=%u mean_ms=%.1f", name,
	       (unsigned long long)limits.opslimit, (size_t)(limits.memlimit >> 20), runs, sum / runs);
	lat_print("", us, runs);
	printf("\n");
	fflush(stdout);
	free(us);
}

/* Every codename's keys, and (b) with --kdf-runs. */
static void wb_keys(wb_run_t *run)
{
	const opts_t *o = run->o;
	const sd_kdf_limits_t *dl = &run->dir->codename_kdf;
	sd_kdf_limits_t inter = sd_kdf_interactive(), mod = sd_kdf_moderate();

	for (unsigned k = 0; k < o->n_codenames; k++) {
		char *canonical = wb_codename(o->codenames[k]);
		int r = sd_codename_derive(canonical, run->dir->deployment, dl, &run->keys[k]);
		if (r < 0)
			die_sd(o->codenames[k], r);
		if (k == 0 && o->kdf_runs > 0) {
			bool floor = dl->opslimit == inter.opslimit && dl->memlimit == inter.memlimit;
			wb_kdf_time(floor ? "directory-interactive" : "directory", canonical, run->dir->deployment, *dl,
			            o->kdf_runs);
			if (!floor)
				wb_kdf_time("interactive", canonical, run->dir->deployment, inter, o->kdf_runs);
			wb_kdf_time("moderate", canonical, run->dir->deployment, mod, o->kdf_runs);
		}
		sd_secret_free(canonical);
	}
	run->n_cn = (unsigned)o->n_codenames;
}

/* One round per codename, untimed, its answer read: fails the run unless each is a 200
 * with the codename's cases. Prints what a status answer holds. */
static void wb_check(wb_run_t *run, wb_worker_t *m)
{
	for (unsigned k = 0; k < run->n_cn; k++) {
		slot_t s;
		resp_t r;
		json_t *j, *cases, *c;
		size_t i, notices = 0;
		int st, rc;

		if (wb_challenge(m, &s) < 0)
			die("no challenge from the server");
		s.cn = k;
		if ((rc = sd_session_prove(run->keys[k], s.nonce, run->bits, &s.proof)) < 0)
			die_sd("the proof of work", rc);
		if ((st = wb_post(m, &s, &r)) != 200)
			die(st < 0 ? "no answer to POST /v1/wb/status" : "POST /v1/wb/status was refused");
		j = json_loadb((const char *)m->conn.buf + r.hlen, r.clen, 0, NULL);
		cases = json_object_get(j, "cases");
		json_array_foreach(cases, i, c) notices += json_array_size(json_object_get(c, "notices"));
		printf("CODENAME %u cases=%zu notices=%zu head=%s body_bytes=%zu\n", k + 1, json_array_size(cases),
		       notices, json_is_object(json_object_get(j, "head")) ? "yes" : "no", r.clen);
		if (json_array_size(cases) == 0)
			die("a codename's status lists no case");
		json_decref(j);
		http_consume(&m->conn, &r);
	}
}

/* (a) the proof-of-work search alone, --pow-runs times on one core, on real challenges. */
static void wb_pow_time(wb_run_t *run, wb_worker_t *m)
{
	unsigned runs = run->o->pow_runs;
	uint32_t *us = calloc(runs, sizeof(*us));
	double sum = 0;

	if (us == NULL)
		die("out of memory");
	for (unsigned i = 0; i < runs; i++) {
		slot_t s;
		double t;
		int r;
		if (wb_challenge(m, &s) < 0)
			die("no challenge from the server");
		t = bench_now();
		if ((r = sd_session_prove(run->keys[0], s.nonce, run->bits, &s.proof)) < 0)
			die_sd("the proof of work", r);
		us[i] = (uint32_t)((bench_now() - t) * 1e6);
		sum += us[i] / 1000.0;
	}
	printf("RESULT mode=wbstatus name=pow bits=%u count=%u mean_ms=%.1f", run->bits, runs, sum / runs);
	lat_print("", us, runs);
	printf(" hashes_per_s_est=%.0f\n", sum > 0 ? (double)(1ull << run->bits) * runs / (sum / 1000.0) : 0.0);
	fflush(stdout);
	free(us);
}

/* ---- wbstatus: results ------------------------------------------------------------------ */

/* The round latencies of codename k (k < 0: all). */
static void wb_round_print(const wb_run_t *run, int k)
{
	uint32_t *v = malloc((run->o->count + 1u) * sizeof(*v));
	size_t n = 0;

	if (v == NULL)
		die("out of memory");
	for (unsigned i = 0; i < run->o->count; i++)
		if (k < 0 || run->round_cn[i] == (unsigned)k)
			v[n++] = run->round_us[i];
	printf(" rounds=%zu", n);
	lat_print("", v, n);
	free(v);
}

static void wb_report(const wb_run_t *run)
{
	const opts_t *o = run->o;
	unsigned ok = atomic_load(&run->ok), n_pow = atomic_load(&run->n_pow);

	latencies_write(o, run->round_us, o->count);
	printf("RESULT mode=wbstatus name=%s conc=%u count=%u ok=%u fail=%u bits=%u batch=%u secs=%.3f rate=%.1f",
	       o->label, o->conc, o->count, ok, atomic_load(&run->fail), run->bits, run->batch, run->secs,
	       run->secs > 0 ? ok / run->secs : 0.0);
	lat_print("", run->round_us, o->count);
	lat_print("challenge_", run->chal_us, o->count);
	lat_print("status_", run->post_us, o->count);
	if (o->pid > 0)
		printf(" server_cpu_ms_per_round=%.3f", ok ? 1000.0 * run->server_cpu / ok : 0.0);
	printf("\n");
	for (unsigned k = 0; k < run->n_cn; k++) {
		printf("RESULT mode=wbstatus name=%s-codename%u conc=%u", o->label, k + 1, o->conc);
		wb_round_print(run, (int)k);
		printf("\n");
	}
	printf("RESULT mode=wbstatus name=pow-parallel bits=%u count=%u", run->bits, n_pow);
	lat_print("", run->pow_us, n_pow);
	printf("\n");
	fflush(stdout);
}

/* ---- wbstatus ------------------------------------------------------------------------------ */

static void wb_setup(wb_run_t *run, const opts_t *o)
{
	unsigned conc = o->conc;

	run->o = o;
	run->batch = o->batch;
	run->ctx = tls_ctx_new(o);
	run->dir = wb_directory(o->directory);
	run->w = calloc(conc + 1, sizeof(*run->w));
	run->round_us = malloc((o->count + 1u) * sizeof(uint32_t));
	run->chal_us = malloc((o->count + 1u) * sizeof(uint32_t));
	run->post_us = malloc((o->count + 1u) * sizeof(uint32_t));
	run->round_cn = calloc(o->count + 1u, 1);
	run->pow_us = calloc(o->count + conc * run->batch, sizeof(uint32_t));
	run->solve = calloc(conc * run->batch, sizeof(*run->solve));
	if (run->w == NULL || run->round_us == NULL || run->chal_us == NULL || run->post_us == NULL ||
	    run->round_cn == NULL || run->pow_us == NULL || run->solve == NULL)
		die("out of memory");
	/* A round never run (its challenge could not be had) counts as failed, not as 0 ms. */
	memset(run->round_us, 0xff, (o->count + 1u) * sizeof(uint32_t));
	memset(run->chal_us, 0xff, (o->count + 1u) * sizeof(uint32_t));
	memset(run->post_us, 0xff, (o->count + 1u) * sizeof(uint32_t));
	for (unsigned k = 0; k <= conc; k++) {
		wb_worker_t *w = &run->w[k];
		*w = (wb_worker_t){.run = run, .conn = {.fd = -1}, .rng = o->seed * 1000003u + k};
		w->quota = k == conc ? 0 : o->count / conc + (k < o->count % conc);
		w->ready = calloc(run->batch, sizeof(slot_t));
		w->fresh = calloc(run->batch, sizeof(slot_t));
		if (w->ready == NULL || w->fresh == NULL)
			die("out of memory");
	}
}

/* The bits the server asks for, from one challenge on the main thread's connection. */
static void wb_bits(wb_run_t *run, wb_worker_t *m)
{
	resp_t r;
	json_t *j;

	if (http_call(&m->conn, run->ctx, run->o->port, "GET", "/v1/wb/challenge", NULL, &r) < 0 || r.status != 200)
		die("GET /v1/wb/challenge failed");
	j = json_loadb((const char *)m->conn.buf + r.hlen, r.clen, 0, NULL);
	if (!json_is_integer(json_object_get(j, "bits")))
		die("the challenge has no \"bits\"");
	run->bits = (unsigned)json_integer_value(json_object_get(j, "bits"));
	json_decref(j);
	http_consume(&m->conn, &r);
	printf("WBSTATUS bits=%u codenames=%zu kdf_opslimit=%llu kdf_memlimit_mib=%zu\n", run->bits,
	       run->o->n_codenames, (unsigned long long)run->dir->codename_kdf.opslimit,
	       (size_t)(run->dir->codename_kdf.memlimit >> 20));
}

static int cmd_wbstatus(const opts_t *o)
{
	wb_run_t *run = calloc(1, sizeof(*run));
	pthread_t th[MAX_CONC];
	wb_worker_t *m;

	if (o->port == 0 || o->ca == NULL || (o->cert == NULL) != (o->key == NULL) || o->directory == NULL ||
	    o->n_codenames == 0 || o->batch == 0)
		usage();
	if (run == NULL)
		die("out of memory");
	wb_setup(run, o);
	m = &run->w[o->conc];
	wb_bits(run, m);
	wb_keys(run);
	wb_check(run, m);
	if (o->pow_runs > 0)
		wb_pow_time(run, m);
	conn_close(&m->conn);
	if (o->count == 0)
		return 0;
	pthread_barrier_init(&run->go, NULL, o->conc + 1);
	pthread_barrier_init(&run->done, NULL, o->conc + 1);
	for (unsigned k = 0; k < o->conc; k++)
		if (pthread_create(&th[k], NULL, wb_worker_main, &run->w[k]) != 0)
			die("cannot start a worker");
	wb_phases(run);
	for (unsigned k = 0; k < o->conc; k++)
		pthread_join(th[k], NULL);
	wb_report(run);
	return atomic_load(&run->fail) == 0 ? 0 : 2;
}

int main(int argc, char **argv)
{
	opts_t o;

	parse_args(argc, argv, &o);
	if (sd_init() != 0)
		die("cannot initialise libsealdrop");
	if (strcmp(o.mode, "fill") == 0)
		return cmd_fill(&o);
	if (strcmp(o.mode, "get") == 0)
		return cmd_get(&o);
	if (strcmp(o.mode, "wbstatus") == 0)
		return cmd_wbstatus(&o);
	usage();
	return 64;
}
