/*
 * bench_audit.c — `make bench` for the audit log (issue 4, "Tests and measurements"),
 * run by scripts/bench-audit.sh. Every figure is printed beside a baseline measured in
 * the same run, on a store in a scratch directory on disk, opened as sealdropd opens it
 * (durable group commits, a 64 GiB map):
 *
 *   1. append   T threads each sd_store_call filing-shaped requests — the operations
 *               and sizes of server/commit.c's commit_req, unique keys — on fresh stores,
 *               without (A) and with (B) the filing's LOG-APPEND, interleaved A/B runs.
 *               The store's share of audit logging is 1 - B/A (the target, below
 *               10%, is on whole filings: scripts/bench-server.sh). Each run also
 *               prints its CPU time and the bytes LMDB wrote per filing (getrusage,
 *               /proc/self/io), which show where the difference goes.
 *   2. proofs   a fresh store filled with L filing leaves; then random inclusion and
 *               consistency proofs built as server/logroutes.c builds them (plan, one
 *               store request of the nodes' GETs, fold), each timed and each verified
 *               against a root computed from the leaves independently (the bench aborts on
 *               a proof that does not verify). Baselines: one sd_store_call of a single
 *               GET (the store's round trip), and the same proofs read with raw LMDB.
 *               Target: p99 below 1 ms at 1,000,000 leaves.
 *   3. growth   after the store is closed, mdb_stat of log_leaves, log_nodes and
 *               case_events: bytes per event, against the leaf's own length.
 *
 * Usage: bench_audit DIR [--leaves L] [--filings N] [--runs R] [--threads 16,64]
 *                        [--proofs P] [--seed S]
 * Start reading at main(): append_bench(), then proof_bench() and growth_report().
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sealdrop/audit.h"
#include "sealdrop/auditlog.h"
#include "sealdrop/bytes.h"
#include "sealdrop/ca.h"
#include "sealdrop/merkle.h"
#include "sealdrop/sealdrop.h"
#include "sealdrop/store.h"
#include "sealdrop/uploads.h"

#include "bench.h"

#define BENCH_MAPSIZE   ((size_t)64 << 30) /* as server/server_start.c's STORE_MAPSIZE */
#define FILL_PER_REQ    4000               /* LOG-APPENDs in one fill request (<= SD_STORE_OPS_MAX) */
#define PREFILL_PER_REQ 1000               /* upload records (2 puts each) in one untimed request */
#define MAX_THREADS     256
#define MAX_T_COUNTS    8
#define MAX_RUNS        32
#define ATTORNEYS       64
#define CHUNKS          2  /* chunks of each upload, the fewest a package has */
#define CHUNK_STUB      64 /* bytes of each (check_count counts keys: sizes do not matter) */
#define TARGET_COST     0.10
#define TARGET_P99_US   1000.0
#define ROUNDTRIP_N     10000
#define HASH            SD_MERKLE_HASH_BYTES

enum { TAG_UPLOAD = 1, TAG_DIGEST, TAG_ATTORNEY, TAG_CHUNK };

typedef struct {
	const char *dir;
	uint64_t leaves;
	unsigned filings, runs, proofs;
	unsigned threads[MAX_T_COUNTS];
	size_t n_threads;
	uint64_t seed;
} opts_t;

static void usage(void)
{
	fprintf(stderr, "usage: bench_audit DIR [--leaves L] [--filings N] [--runs R] [--threads 16,64]\n"
	                "                       [--proofs P] [--seed S]\n");
	exit(64);
}

static void die(const char *what)
{
	fprintf(stderr, "bench_audit: %s\n", what);
	exit(1);
}

static void die_sd(const char *what, int r)
{
	fprintf(stderr, "bench_audit: %s: %s (%s)\n", what, sd_strerror(r), sd_error_detail());
	exit(1);
}

static void die_mdb(const char *what, int rc)
{
	fprintf(stderr, "bench_audit: %s: %s\n", what, mdb_strerror(rc));
	exit(1);
}

/* Bytes this process has handed to write(2) and pwrite(2): LMDB writes each dirty page. */
static uint64_t wchar_now(void)
{
	FILE *fp = fopen("/proc/self/io", "r");
	unsigned long long v = 0;
	char line[128];

	while (fp != NULL && fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "wchar: %llu", &v) == 1)
			break;
	if (fp != NULL)
		fclose(fp);
	return v;
}

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* n bytes that depend only on (tag, i): the same filing has the same keys in every run. */
static void fill_bytes(unsigned tag, uint64_t i, uint8_t *out, size_t n)
{
	uint64_t s = ((uint64_t)tag << 56) ^ i, v = 0;

	for (size_t k = 0; k < n; k++) {
		if (k % 8 == 0)
			v = splitmix(&s);
		out[k] = (uint8_t)(v >> (8 * (k % 8)));
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile of v[0..n) (sorts v): the smallest value with at least q·n at or below. */
static double quantile(double *v, size_t n, double q)
{
	size_t k = (size_t)(q * (double)n);

	if ((double)k < q * (double)n) /* the ceiling, without libm */
		k++;

	qsort(v, n, sizeof(*v), cmp_double);
	return v[k > 0 ? k - 1 : 0];
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- scratch stores ------------------------------------------------------------------ */

/* dir/rest, or the bench stops: a scratch path never needs truncating. */
static void path_of(char out[PATH_MAX], const char *dir, const char *rest)
{
	if ((size_t)snprintf(out, PATH_MAX, "%s/%s", dir, rest) >= PATH_MAX)
		die("a scratch path is too long");
}

static sd_store_t *store_open(const char *dir)
{
	sd_store_opts_t so = {.mapsize = BENCH_MAPSIZE};
	sd_store_t *store;
	int r;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		die("cannot create a scratch directory");
	if ((r = sd_store_open(dir, &so, &store)) < 0)
		die_sd("sd_store_open", r);
	return store;
}

/* Removes what sd_store_open made in dir, and dir. */
static void store_remove(const char *dir)
{
	static const char *const files[] = {SD_STORE_SUBDIR "/data.mdb", SD_STORE_SUBDIR "/lock.mdb",
	                                    SD_STORE_SUBDIR "/" SD_STORE_LOCK_FILE};
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		path_of(path, dir, files[i]);
		(void)unlink(path);
	}
	path_of(path, dir, SD_STORE_SUBDIR);
	if (rmdir(path) != 0 || rmdir(dir) != 0)
		die("cannot remove a scratch store");
}

/* The closed store's environment, read-only, straight through liblmdb. */
static MDB_env *env_open_ro(const char *dir)
{
	char path[PATH_MAX];
	MDB_env *env;
	int rc;

	path_of(path, dir, SD_STORE_SUBDIR);
	if ((rc = mdb_env_create(&env)) != 0 || (rc = mdb_env_set_maxdbs(env, SD_STORE_DB_COUNT)) != 0 ||
	    (rc = mdb_env_open(env, path, MDB_RDONLY | MDB_NOTLS, 0600)) != 0)
		die_mdb("opening the store read-only", rc);
	return env;
}

/* Bytes up to the last page the environment uses (its growth, free pages included). */
static uint64_t env_used_bytes(const char *dir)
{
	MDB_env *env = env_open_ro(dir);
	MDB_envinfo info;
	MDB_stat st;

	if (mdb_env_info(env, &info) != 0 || mdb_env_stat(env, &st) != 0)
		die("mdb_env_info");
	mdb_env_close(env);
	return ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
}

/* ---- filings: the records and the event of case i ------------------------------------ */

/* Case i as commit_prepare makes it: numbered YYYY-NNNNNN, 3000 cases a day. */
static void case_of(uint64_t i, sd_case_rec_t *cr)
{
	sd_date_t day0 = {2026, 1, 1};

	memset(cr, 0, sizeof(*cr));
	cr->received = sd_date_add_days(day0, (int64_t)(i / 3000));
	sd_case_rec_init(cr);
	cr->decision_due = sd_date_add_days(cr->received, 90);
	snprintf(cr->case_number, sizeof(cr->case_number), "%04u-%06u", (unsigned)(2026 + i / 999999),
	         (unsigned)(i % 999999 + 1));
	fill_bytes(TAG_DIGEST, i, cr->digest, sizeof(cr->digest));
	fill_bytes(TAG_UPLOAD, i, cr->upload, sizeof(cr->upload));
	fill_bytes(TAG_ATTORNEY, i % ATTORNEYS, cr->attorney, sizeof(cr->attorney));
	snprintf(cr->attorney_name, sizeof(cr->attorney_name), "Attorney-at-law Number %02u",
	         (unsigned)(i % ATTORNEYS));
}

/* The filing's event, as sd_receipt_filing_event states it. */
static void event_of(const sd_case_rec_t *cr, sd_audit_event_t *ev)
{
	*ev = (sd_audit_event_t){.type = SD_AUDIT_FILING, .date = cr->received, .has_actor = true, .has_digest = true};
	snprintf(ev->case_number, sizeof(ev->case_number), "%s", cr->case_number);
	snprintf(ev->role, sizeof(ev->role), "%s", "attorney");
	memcpy(ev->actor, cr->attorney, sizeof(ev->actor));
	memcpy(ev->digest, cr->digest, sizeof(ev->digest));
}

typedef struct {
	sd_case_rec_t cr;
	uint32_t seq;                            /* the case's number in its year */
	uint8_t *open_rec, *done_rec, *case_rec; /* the upload before and after, the case */
	size_t open_len, done_len, case_len;
} filing_t;

static void filing_make(uint64_t i, filing_t *f)
{
	sd_upload_rec_t u = {
	        .created = {2026, 1, 1}, .expires = {2026, 1, 31}, .state = SD_UPLOAD_OPEN, .chunks = CHUNKS};
	int r;

	case_of(i, &f->cr);
	f->seq = (uint32_t)(i % 999999 + 1);
	memcpy(u.attorney, f->cr.attorney, sizeof(u.attorney));
	memcpy(u.digest, f->cr.digest, sizeof(u.digest));
	if ((r = sd_upload_rec_encode(&u, &f->open_rec, &f->open_len)) < 0)
		die_sd("sd_upload_rec_encode", r);
	u.state = SD_UPLOAD_COMMITTED;
	memcpy(u.case_number, f->cr.case_number, sizeof(u.case_number));
	if ((r = sd_upload_rec_encode(&u, &f->done_rec, &f->done_len)) < 0 ||
	    (r = sd_case_rec_encode(&f->cr, &f->case_rec, &f->case_len)) < 0)
		die_sd("encoding a filing's records", r);
}

static size_t leaf_len(const filing_t *f)
{
	sd_audit_event_t ev;
	uint8_t *leaf;
	size_t len;

	event_of(&f->cr, &ev);
	if (sd_audit_leaf_encode(&ev, &leaf, &len) < 0)
		die("sd_audit_leaf_encode");
	free(leaf);
	return len;
}

static void filings_free(filing_t *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(f[i].open_rec);
		free(f[i].done_rec);
		free(f[i].case_rec);
	}
	free(f);
}

static void call_ok(sd_store_t *store, sd_store_req_t *req, const char *what)
{
	int r;

	if (req == NULL)
		die("out of memory");
	if ((r = sd_store_call(store, req)) < 0)
		die_sd(what, r);
}

/* Untimed: each upload's record and its chunks, as they are before the commit. */
static void filings_prefill(sd_store_t *store, const filing_t *f, size_t n)
{
	uint8_t chunk_key[SD_UPLOAD_CHUNK_KEY_BYTES], chunk[CHUNK_STUB] = {0};

	for (size_t i = 0; i < n;) {
		sd_store_req_t *req = sd_store_req_new();
		for (size_t k = 0; k < PREFILL_PER_REQ && i < n && req != NULL; k++, i++) {
			sd_store_req_put(req, SD_STORE_DB_UPLOADS, f[i].cr.upload, SD_UPLOAD_ID_BYTES, f[i].open_rec,
			                 f[i].open_len, SD_STORE_NOOVERWRITE);
			for (uint32_t c = 0; c < CHUNKS; c++) {
				sd_upload_chunk_key(f[i].cr.upload, 0, c, chunk_key);
				sd_store_req_put(req, SD_STORE_DB_CHUNKS, chunk_key, sizeof(chunk_key), chunk,
				                 sizeof(chunk), 0);
			}
		}
		call_ok(store, req, "prefilling uploads");
		sd_store_req_free(req);
	}
}

/* server/commit.c's commit_req, operation for operation, with the fast path's chunk count;
 * with_audit adds the filing's LOG-APPEND (sd_audit_add encodes the leaf, as there). */
static sd_store_req_t *filing_req(const filing_t *f, bool with_audit)
{
	sd_store_req_t *req = sd_store_req_new();
	const uint8_t *cn = (const uint8_t *)f->cr.case_number;
	size_t cn_len = strlen(f->cr.case_number);
	uint8_t acct[SD_CA_FINGERPRINT_BYTES + SD_CASE_NUMBER_BYTES], seq[4];
	char seq_key[SD_CASE_SEQ_KEY_BYTES];
	sd_audit_event_t ev;

	if (req == NULL || sd_case_seq_key(2026, seq_key) < 0)
		die("out of memory");
	memcpy(acct, f->cr.attorney, SD_CA_FINGERPRINT_BYTES);
	memcpy(acct + SD_CA_FINGERPRINT_BYTES, cn, cn_len);
	sd_store_le32(seq, f->seq);
	sd_store_req_check_equal(req, SD_STORE_DB_UPLOADS, f->cr.upload, SD_UPLOAD_ID_BYTES, f->open_rec, f->open_len);
	sd_store_req_check_absent(req, SD_STORE_DB_CASE_DIGESTS, f->cr.digest, SD_HASH_BYTES);
	sd_store_req_put(req, SD_STORE_DB_CASES, cn, cn_len, f->case_rec, f->case_len, SD_STORE_NOOVERWRITE);
	sd_store_req_put(req, SD_STORE_DB_CASE_DIGESTS, f->cr.digest, SD_HASH_BYTES, cn, cn_len, 0);
	sd_store_req_put(req, SD_STORE_DB_ACCOUNT_CASES, acct, SD_CA_FINGERPRINT_BYTES + cn_len, NULL, 0, 0);
	sd_store_req_put(req, SD_STORE_DB_META, (const uint8_t *)seq_key, strlen(seq_key), seq, sizeof(seq), 0);
	sd_store_req_put(req, SD_STORE_DB_UPLOADS, f->cr.upload, SD_UPLOAD_ID_BYTES, f->done_rec, f->done_len, 0);
	sd_store_req_check_count(req, SD_STORE_DB_CHUNKS, f->cr.upload, SD_UPLOAD_ID_BYTES, CHUNKS);
	if (with_audit) {
		event_of(&f->cr, &ev);
		int r = sd_audit_add(req, &ev);
		if (r < 0)
			die_sd("sd_audit_add", r);
	}
	return req;
}

/* ---- 1. append cost inside the group commit ------------------------------------------ */

typedef struct {
	sd_store_t *store;
	const filing_t *f;
	size_t n;
	bool with_audit;
	atomic_size_t next;
	pthread_barrier_t start;
} filers_t;

static void *filer_main(void *arg)
{
	filers_t *fl = arg;
	size_t i;

	pthread_barrier_wait(&fl->start);
	while ((i = atomic_fetch_add(&fl->next, 1)) < fl->n) {
		sd_store_req_t *req = filing_req(&fl->f[i], fl->with_audit);
		call_ok(fl->store, req, "a filing");
		sd_store_req_free(req);
	}
	return NULL;
}

typedef struct {
	double rate;         /* filings per second */
	double cpu_us;       /* CPU microseconds per filing, all threads */
	double written;      /* bytes written per filing (LMDB's pages) */
	sd_store_stats_t st; /* of the timed part only */
	uint64_t used;       /* the environment's bytes afterwards */
} run_result_t;

/* Times n filings by `threads` threads on a fresh store in dir, which is removed after. */
static run_result_t append_run(const char *dir, const filing_t *f, size_t n, unsigned threads, bool with_audit)
{
	filers_t fl = {.f = f, .n = n, .with_audit = with_audit};
	pthread_t tid[MAX_THREADS];
	sd_store_stats_t s0, s1;
	run_result_t res;
	double t0, c0;
	uint64_t w0;

	fl.store = store_open(dir);
	filings_prefill(fl.store, f, n);
	atomic_init(&fl.next, 0);
	pthread_barrier_init(&fl.start, NULL, threads + 1);
	for (unsigned t = 0; t < threads; t++)
		if (pthread_create(&tid[t], NULL, filer_main, &fl) != 0)
			die("pthread_create");
	sd_store_stats(fl.store, &s0);
	c0 = bench_cpu_self();
	w0 = wchar_now();
	pthread_barrier_wait(&fl.start);
	t0 = bench_now();
	for (unsigned t = 0; t < threads; t++)
		pthread_join(tid[t], NULL);
	res.rate = (double)n / (bench_now() - t0);
	res.cpu_us = (bench_cpu_self() - c0) * 1e6 / (double)n;
	res.written = (double)(wchar_now() - w0) / (double)n;
	sd_store_stats(fl.store, &s1);
	pthread_barrier_destroy(&fl.start);
	res.st = (sd_store_stats_t){.requests = s1.requests - s0.requests,
	                            .failed = s1.failed - s0.failed,
	                            .commits = s1.commits - s0.commits,
	                            .batches = s1.batches - s0.batches,
	                            .largest_batch = s1.largest_batch};
	sd_store_close(fl.store);
	res.used = env_used_bytes(dir);
	store_remove(dir);
	return res;
}

static void append_print(unsigned threads, unsigned run, bool b, size_t n, const run_result_t *r)
{
	printf("append T=%-3u run %u %s: %zu filings, %8.1f filings/s, CPU %5.1f us and %4.1f KiB written "
	       "a filing; %llu commits, %.1f filings/commit, largest batch %llu; store %.1f MiB\n",
	       threads, run + 1, b ? "B (with LOG-APPEND)" : "A (no audit log)  ", n, r->rate, r->cpu_us,
	       r->written / 1024.0, (unsigned long long)r->st.commits,
	       r->st.commits ? (double)r->st.requests / (double)r->st.commits : 0.0,
	       (unsigned long long)r->st.largest_batch, (double)r->used / 1048576.0);
}

/* What a LOG-APPEND costs outside the store: sd_audit_add's encoding of the leaf (on the
 * submitting thread) and its leaf hash (on the store thread), in microseconds. */
static double leaf_cost_us(const filing_t *f, size_t n)
{
	sd_audit_event_t ev;
	uint8_t *leaf, hash[HASH];
	size_t len;
	double t0 = bench_now();

	for (size_t i = 0; i < n; i++) {
		event_of(&f[i].cr, &ev);
		if (sd_audit_leaf_encode(&ev, &leaf, &len) < 0)
			die("sd_audit_leaf_encode");
		sd_merkle_leaf_hash(leaf, len, hash);
		free(leaf);
	}
	return (bench_now() - t0) * 1e6 / (double)n;
}

/* Pairs of runs A and B, the order alternating (AB, BA, ...) so neither always goes first. */
static void append_bench(const opts_t *o, const filing_t *f)
{
	double a[MAX_RUNS], b[MAX_RUNS], ratio[MAX_RUNS], growth[MAX_RUNS];
	char dir[PATH_MAX], name[64];

	for (size_t ti = 0; ti < o->n_threads; ti++) {
		unsigned t = o->threads[ti];
		for (unsigned run = 0; run < o->runs; run++) {
			run_result_t ra, rb;
			for (unsigned k = 0; k < 2; k++) {
				bool with = (k == 1) != (run % 2 == 1);
				snprintf(name, sizeof(name), "append-%u-%u-%c", t, run, with ? 'B' : 'A');
				path_of(dir, o->dir, name);
				run_result_t r = append_run(dir, f, o->filings, t, with);
				append_print(t, run, with, o->filings, &r);
				*(with ? &rb : &ra) = r;
			}
			a[run] = ra.rate;
			b[run] = rb.rate;
			ratio[run] = rb.rate / ra.rate;
			growth[run] = ((double)rb.used - (double)ra.used) / o->filings;
		}
		double mr = median(ratio, o->runs), ma = median(a, o->runs), mb = median(b, o->runs);
		printf("RESULT append threads=%u runs=%u filings_per_run=%u a_median=%.1f b_median=%.1f "
		       "b_over_a_median=%.3f cost_pct=%.1f added_us_per_filing=%.1f "
		       "store_growth_b_minus_a_bytes_per_filing=%.0f\n",
		       t, o->runs, o->filings, ma, mb, mr, 100.0 * (1.0 - mr), 1e6 / mb - 1e6 / ma,
		       median(growth, o->runs));
		printf("append T=%u: audit logging costs %.1f%% of the store's filing throughput (median B/A %.3f, "
		       "range %.3f..%.3f; %.1f us more per filing); below %.0f%% even in the store alone: %s "
		       "(the target is on whole filings: scripts/bench-server.sh)\n",
		       t, 100.0 * (1.0 - mr), mr, ratio[0], ratio[o->runs - 1], 1e6 / mb - 1e6 / ma,
		       100.0 * TARGET_COST, 1.0 - mr < TARGET_COST ? "yes" : "no");
	}
}

/* ---- 2. proofs at L leaves -------------------------------------------------------------- */

typedef struct {
	bool consistency;
	uint64_t a, b; /* index and size, or from and to */
} spec_t;

typedef struct {
	uint64_t *sizes; /* sorted, unique: the tree sizes whose roots the proofs need */
	uint8_t (*roots)[HASH];
	size_t n, next;
} roots_t;

static void specs_make(const opts_t *o, spec_t *sp, roots_t *rt)
{
	uint64_t s = o->seed, L = o->leaves;
	size_t k = 0;

	rt->sizes = calloc(3 * (size_t)o->proofs + 1, sizeof(*rt->sizes));
	if (rt->sizes == NULL)
		die("out of memory");
	for (size_t i = 0; i < 2 * (size_t)o->proofs; i++) {
		bool cons = i >= o->proofs;
		uint64_t b = 1 + splitmix(&s) % L, a = cons ? 1 + splitmix(&s) % b : splitmix(&s) % b;
		sp[i] = (spec_t){.consistency = cons, .a = a, .b = b};
		rt->sizes[k++] = b;
		if (cons)
			rt->sizes[k++] = a;
	}
	rt->sizes[k++] = L;
	qsort(rt->sizes, k, sizeof(*rt->sizes), cmp_u64);
	rt->n = 0;
	for (size_t i = 0; i < k; i++)
		if (rt->n == 0 || rt->sizes[rt->n - 1] != rt->sizes[i])
			rt->sizes[rt->n++] = rt->sizes[i];
	if ((rt->roots = calloc(rt->n, sizeof(*rt->roots))) == NULL)
		die("out of memory");
}

static const uint8_t *root_at(const roots_t *rt, uint64_t size)
{
	const uint64_t *p = bsearch(&size, rt->sizes, rt->n, sizeof(*rt->sizes), cmp_u64);

	if (p == NULL)
		die("no root was recorded for a size");
	return rt->roots[p - rt->sizes];
}

/* One fill request: leaves first.. of the log, hashed and pushed to the independent
 * stream as they go (recording the roots at the sizes the proofs need). Returns bytes. */
static uint64_t fill_req(sd_store_req_t *req, uint64_t first, uint64_t end, uint8_t (*hashes)[HASH],
                         sd_merkle_stream_t *ms, roots_t *rt)
{
	uint64_t bytes = 0;
	sd_case_rec_t cr;
	sd_audit_event_t ev;
	uint8_t *leaf;
	size_t len;
	int r;

	for (uint64_t i = first; i < end; i++) {
		case_of(i, &cr);
		event_of(&cr, &ev);
		if ((r = sd_audit_leaf_encode(&ev, &leaf, &len)) < 0)
			die_sd("sd_audit_leaf_encode", r);
		sd_store_req_log_append(req, leaf, len, (const uint8_t *)cr.case_number, strlen(cr.case_number));
		sd_merkle_leaf_hash(leaf, len, hashes[i]);
		if (sd_merkle_stream_push(ms, hashes[i]) < 0)
			die("sd_merkle_stream_push");
		while (rt->next < rt->n && rt->sizes[rt->next] == ms->size)
			sd_merkle_stream_root(ms, rt->roots[rt->next++]);
		bytes += len;
		free(leaf);
	}
	return bytes;
}

/* Fills the log with o->leaves filing leaves, FILL_PER_REQ a request. Returns leaf bytes. */
static uint64_t fill_log(sd_store_t *store, uint64_t leaves, uint8_t (*hashes)[HASH], roots_t *rt)
{
	sd_merkle_stream_t ms;
	uint64_t bytes = 0, index;
	double t0 = bench_now();

	sd_merkle_stream_init(&ms);
	for (uint64_t i = 0; i < leaves;) {
		uint64_t end = leaves - i > FILL_PER_REQ ? i + FILL_PER_REQ : leaves;
		sd_store_req_t *req = sd_store_req_new();
		if (req == NULL)
			die("out of memory");
		bytes += fill_req(req, i, end, hashes, &ms, rt);
		call_ok(store, req, "a fill request");
		if (sd_store_req_log_index(req, (size_t)(end - i - 1), &index) < 0 || index != end - 1)
			die("a fill request's last leaf got an unexpected index");
		sd_store_req_free(req);
		i = end;
	}
	if (rt->next != rt->n)
		die("not every root was recorded");
	printf("fill: %llu leaves in %.1f s (%.0f leaves/s, %d LOG-APPENDs a request), average leaf %.1f bytes\n",
	       (unsigned long long)leaves, bench_now() - t0, (double)leaves / (bench_now() - t0), FILL_PER_REQ,
	       (double)bytes / (double)leaves);
	return bytes;
}

static void plan(const spec_t *sp, sd_merkle_range_t *ranges, size_t *n)
{
	int r = sp->consistency ? sd_merkle_consistency_plan(sp->a, sp->b, ranges, n)
	                        : sd_merkle_inclusion_plan(sp->a, sp->b, ranges, n);

	if (r < 0)
		die_sd("planning a proof", r);
}

/* One proof as server/logroutes.c builds it. Returns its hashes; *gets the store reads. */
static size_t proof_store(sd_store_t *store, const spec_t *sp, uint8_t (*hashes)[HASH], size_t *gets)
{
	sd_merkle_range_t ranges[SD_MERKLE_PROOF_MAX];
	sd_store_req_t *req;
	size_t n;
	int added;

	plan(sp, ranges, &n);
	*gets = 0;
	if (n == 0)
		return 0;
	if ((req = sd_store_req_new()) == NULL || (added = sd_auditlog_req_ranges(req, ranges, n)) < 0)
		die("building a proof's request");
	call_ok(store, req, "a proof's request");
	if (sd_auditlog_fold_ranges(req, 0, ranges, n, hashes) < 0)
		die_sd("folding a proof", SD_ERR_INTERNAL);
	sd_store_req_free(req);
	*gets = (size_t)added;
	return n;
}

/* The same proof read straight from LMDB in an open read transaction (the floor). */
static size_t proof_raw(MDB_txn *txn, MDB_dbi nodes, const spec_t *sp, uint8_t (*hashes)[HASH])
{
	sd_merkle_range_t ranges[SD_MERKLE_PROOF_MAX];
	sd_merkle_node_t nd[SD_MERKLE_RANGE_MAX];
	uint8_t found[SD_MERKLE_RANGE_MAX][HASH], key[SD_STORE_LOG_NODE_KEY];
	MDB_val k = {.mv_size = sizeof(key), .mv_data = key}, v;
	size_t n;

	plan(sp, ranges, &n);
	for (size_t i = 0; i < n; i++) {
		size_t m = sd_merkle_range_nodes(ranges[i].begin, ranges[i].end, nd);
		for (size_t j = 0; j < m; j++) {
			sd_store_log_node_key(key, nd[j].level, nd[j].index);
			if (mdb_get(txn, nodes, &k, &v) != 0 || v.mv_size != HASH)
				die("raw LMDB: a node is missing");
			memcpy(found[j], v.mv_data, HASH);
		}
		sd_merkle_fold((const uint8_t(*)[HASH])found, m, hashes[i]);
	}
	return n;
}

/* Aborts unless the proof verifies against the independently computed roots. */
static void proof_check(const spec_t *sp, const uint8_t (*hashes)[HASH], size_t n, const uint8_t (*leaf_hashes)[HASH],
                        const roots_t *rt)
{
	int r = sp->consistency
	                ? sd_merkle_verify_consistency(sp->a, sp->b, root_at(rt, sp->a), root_at(rt, sp->b), hashes, n)
	                : sd_merkle_verify_inclusion(sp->a, sp->b, leaf_hashes[sp->a], hashes, n, root_at(rt, sp->b));

	if (r < 0) {
		fprintf(stderr, "bench_audit: the %s proof (%llu, %llu) does not verify\n",
		        sp->consistency ? "consistency" : "inclusion", (unsigned long long)sp->a,
		        (unsigned long long)sp->b);
		die_sd("verify", r);
	}
}

/* The verification must be able to fail: one changed bit of a proof is refused. */
static void proof_check_tampered(const spec_t *sp, uint8_t (*hashes)[HASH], size_t n,
                                 const uint8_t (*leaf_hashes)[HASH], const roots_t *rt)
{
	int r;

	if (n == 0)
		return;
	hashes[n / 2][HASH / 2] ^= 0x10;
	r = sp->consistency ? sd_merkle_verify_consistency(sp->a, sp->b, root_at(rt, sp->a), root_at(rt, sp->b),
	                                                   (const uint8_t(*)[HASH])hashes, n)
	                    : sd_merkle_verify_inclusion(sp->a, sp->b, leaf_hashes[sp->a],
	                                                 (const uint8_t(*)[HASH])hashes, n, root_at(rt, sp->b));
	hashes[n / 2][HASH / 2] ^= 0x10;
	if (r != SD_ERR_VERIFY)
		die("a tampered proof verified: the check is broken");
}

static void latency_print(const char *what, double *us, size_t n, double gets)
{
	double p50 = quantile(us, n, 0.50), p99 = quantile(us, n, 0.99), max = us[n - 1];

	printf("%-44s n=%zu p50=%.1f p99=%.1f max=%.1f us", what, n, p50, p99, max);
	if (gets > 0)
		printf("  (%.1f node GETs a proof)", gets);
	printf("\n");
}

/* p99 of n single-GET sd_store_calls: the store's round trip, nothing of the tree. */
static double roundtrip_floor(sd_store_t *store, uint64_t leaves, uint64_t seed)
{
	double *us = calloc(ROUNDTRIP_N, sizeof(*us)), p99;
	uint8_t key[SD_STORE_LOG_NODE_KEY];

	if (us == NULL)
		die("out of memory");
	for (size_t i = 0; i < ROUNDTRIP_N; i++) {
		sd_store_req_t *req = sd_store_req_new();
		double t0 = bench_now();
		sd_store_log_node_key(key, 0, splitmix(&seed) % leaves);
		if (req == NULL || sd_store_req_get(req, SD_STORE_DB_LOG_NODES, key, sizeof(key)) < 0)
			die("building a GET");
		call_ok(store, req, "a GET");
		if (!sd_store_req_found(req, 0))
			die("a level-0 node is missing");
		sd_store_req_free(req);
		us[i] = (bench_now() - t0) * 1e6;
	}
	latency_print("store round trip (sd_store_call, 1 GET):", us, ROUNDTRIP_N, 0);
	p99 = quantile(us, ROUNDTRIP_N, 0.99);
	free(us);
	return p99;
}

typedef struct {
	double p99[2]; /* inclusion, consistency */
} proof_result_t;

/* Times every spec through the store, then verifies it (untimed). */
static proof_result_t proofs_store(sd_store_t *store, const opts_t *o, const spec_t *sp,
                                   const uint8_t (*leaf_hashes)[HASH], const roots_t *rt)
{
	static const char *const what[2] = {"inclusion proofs (plan, 1 request, fold):",
	                                    "consistency proofs (plan, 1 request, fold):"};
	uint8_t hashes[SD_MERKLE_PROOF_MAX][HASH];
	double *us = calloc(o->proofs, sizeof(*us));
	proof_result_t res;

	if (us == NULL)
		die("out of memory");
	for (int kind = 0; kind < 2; kind++) {
		size_t gets_total = 0, gets;
		for (size_t i = 0; i < o->proofs; i++) {
			const spec_t *s = &sp[(size_t)kind * o->proofs + i];
			double t0 = bench_now();
			size_t n = proof_store(store, s, hashes, &gets);
			us[i] = (bench_now() - t0) * 1e6;
			gets_total += gets;
			proof_check(s, (const uint8_t(*)[HASH])hashes, n, leaf_hashes, rt);
			if (i == 0)
				proof_check_tampered(s, hashes, n, leaf_hashes, rt);
		}
		latency_print(what[kind], us, o->proofs, (double)gets_total / o->proofs);
		res.p99[kind] = quantile(us, o->proofs, 0.99);
	}
	free(us);
	return res;
}

/* The same specs read with raw LMDB (one read transaction renewed per proof), verified. */
static void proofs_raw(MDB_env *env, const opts_t *o, const spec_t *sp, const uint8_t (*leaf_hashes)[HASH],
                       const roots_t *rt)
{
	static const char *const what[2] = {"  raw LMDB, the same inclusion proofs:",
	                                    "  raw LMDB, the same consistency proofs:"};
	uint8_t hashes[SD_MERKLE_PROOF_MAX][HASH];
	double *us = calloc(o->proofs, sizeof(*us));
	MDB_txn *txn;
	MDB_dbi nodes;
	int rc;

	if (us == NULL)
		die("out of memory");
	/* A handle opened in a read-only transaction outlives it only once that commits. */
	if ((rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) != 0 ||
	    (rc = mdb_dbi_open(txn, sd_store_db_name(SD_STORE_DB_LOG_NODES), 0, &nodes)) != 0 ||
	    (rc = mdb_txn_commit(txn)) != 0 || (rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) != 0)
		die_mdb("raw LMDB", rc);
	for (int kind = 0; kind < 2; kind++) {
		for (size_t i = 0; i < o->proofs; i++) {
			const spec_t *s = &sp[(size_t)kind * o->proofs + i];
			double t0 = bench_now();
			mdb_txn_reset(txn);
			if ((rc = mdb_txn_renew(txn)) != 0)
				die_mdb("mdb_txn_renew", rc);
			size_t n = proof_raw(txn, nodes, s, hashes);
			us[i] = (bench_now() - t0) * 1e6;
			proof_check(s, (const uint8_t(*)[HASH])hashes, n, leaf_hashes, rt);
		}
		latency_print(what[kind], us, o->proofs, 0);
	}
	mdb_txn_abort(txn);
	free(us);
}

/* The store's root of the whole tree (range folding) must be the leaves' own root. */
static void root_check(sd_store_t *store, uint64_t leaves, const roots_t *rt)
{
	sd_merkle_range_t all = {0, leaves};
	uint8_t root[1][HASH];
	sd_store_req_t *req = sd_store_req_new();

	if (req == NULL || sd_auditlog_req_ranges(req, &all, 1) < 0)
		die("building the root's request");
	call_ok(store, req, "the root's request");
	if (sd_auditlog_fold_ranges(req, 0, &all, 1, root) < 0 || !sd_equal(root[0], root_at(rt, leaves), HASH))
		die("the store's root differs from the root of the leaves");
	sd_store_req_free(req);
}

/* ---- 3. growth per event ------------------------------------------------------------- */

static uint64_t db_bytes(MDB_txn *txn, sd_store_db_t db, uint64_t leaves, unsigned *psize)
{
	MDB_dbi dbi;
	MDB_stat st;
	uint64_t pages, bytes;
	int rc;

	if ((rc = mdb_dbi_open(txn, sd_store_db_name(db), 0, &dbi)) != 0 || (rc = mdb_stat(txn, dbi, &st)) != 0)
		die_mdb("mdb_stat", rc);
	pages = st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
	bytes = pages * st.ms_psize;
	*psize = st.ms_psize;
	printf("  %-12s %8llu entries, depth %u, %llu branch + %llu leaf + %llu overflow pages: %6.1f bytes/event\n",
	       sd_store_db_name(db), (unsigned long long)st.ms_entries, st.ms_depth,
	       (unsigned long long)st.ms_branch_pages, (unsigned long long)st.ms_leaf_pages,
	       (unsigned long long)st.ms_overflow_pages, (double)bytes / (double)leaves);
	return bytes;
}

static void growth_report(MDB_env *env, const char *dir, uint64_t leaves, uint64_t leaf_bytes)
{
	static const sd_store_db_t dbs[] = {SD_STORE_DB_LOG_LEAVES, SD_STORE_DB_LOG_NODES, SD_STORE_DB_CASE_EVENTS};
	char path[PATH_MAX];
	uint64_t total = 0;
	unsigned psize = 0;
	MDB_envinfo info;
	MDB_txn *txn;
	struct stat st;
	int rc;

	printf("== store growth at %llu leaves (mdb_stat of the closed store)\n", (unsigned long long)leaves);
	if ((rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) != 0)
		die_mdb("mdb_txn_begin", rc);
	for (size_t i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++)
		total += db_bytes(txn, dbs[i], leaves, &psize);
	mdb_txn_abort(txn);
	path_of(path, dir, SD_STORE_SUBDIR "/data.mdb");
	if (stat(path, &st) != 0 || mdb_env_info(env, &info) != 0)
		die("cannot stat data.mdb");
	printf("  the three together: %.1f bytes/event; the leaf alone (payload): %.1f bytes, so %.2fx\n",
	       (double)total / (double)leaves, (double)leaf_bytes / (double)leaves, (double)total / (double)leaf_bytes);
	printf("  data.mdb: %.1f MiB, %.1f bytes/event (pages in use incl. free: %.1f bytes/event; page %u bytes)\n",
	       (double)st.st_size / 1048576.0, (double)st.st_size / (double)leaves,
	       (double)((uint64_t)info.me_last_pgno + 1) * psize / (double)leaves, psize);
	printf("RESULT growth leaves=%llu bytes_per_event=%.1f leaf_bytes=%.1f data_mdb_bytes_per_event=%.1f\n",
	       (unsigned long long)leaves, (double)total / (double)leaves, (double)leaf_bytes / (double)leaves,
	       (double)st.st_size / (double)leaves);
}

/* Parts 2 and 3 on one store of o->leaves leaves. */
static void proof_bench(const opts_t *o)
{
	uint8_t(*leaf_hashes)[HASH] = calloc(o->leaves, HASH);
	spec_t *sp = calloc(2 * (size_t)o->proofs, sizeof(*sp));
	roots_t rt = {0};
	char dir[PATH_MAX];
	sd_store_t *store;
	MDB_env *env;
	uint64_t leaf_bytes;

	if (leaf_hashes == NULL || sp == NULL)
		die("out of memory");
	specs_make(o, sp, &rt);
	path_of(dir, o->dir, "proofs");
	printf("== proofs at %llu leaves: %u random inclusion and %u random consistency proofs, seed %llu\n",
	       (unsigned long long)o->leaves, o->proofs, o->proofs, (unsigned long long)o->seed);
	store = store_open(dir);
	leaf_bytes = fill_log(store, o->leaves, leaf_hashes, &rt);
	root_check(store, o->leaves, &rt);
	double floor_p99 = roundtrip_floor(store, o->leaves, o->seed ^ 0x5a5a);
	proof_result_t pr = proofs_store(store, o, sp, (const uint8_t(*)[HASH])leaf_hashes, &rt);
	sd_store_close(store);
	env = env_open_ro(dir);
	proofs_raw(env, o, sp, (const uint8_t(*)[HASH])leaf_hashes, &rt);
	printf("RESULT proofs leaves=%llu inclusion_p99_us=%.1f consistency_p99_us=%.1f roundtrip_p99_us=%.1f\n",
	       (unsigned long long)o->leaves, pr.p99[0], pr.p99[1], floor_p99);
	for (int k = 0; k < 2; k++)
		printf("%s proof p99 %.1f us = %.2fx the store round trip's p99; target < %.0f us at 1,000,000 leaves: "
		       "%s%s\n",
		       k ? "consistency" : "inclusion", pr.p99[k], pr.p99[k] / floor_p99, TARGET_P99_US,
		       pr.p99[k] < TARGET_P99_US ? "MET" : "MISSED",
		       o->leaves < 1000000 ? " (but measured at fewer leaves)" : "");
	growth_report(env, dir, o->leaves, leaf_bytes);
	mdb_env_close(env);
	store_remove(dir);
	free(rt.sizes);
	free(rt.roots);
	free(sp);
	free(leaf_hashes);
}

/* ---- main ------------------------------------------------------------------------------ */

static unsigned long num_arg(const char *s, unsigned long min, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		usage();
	return v;
}

static void threads_arg(opts_t *o, char *s)
{
	o->n_threads = 0;
	for (char *save = NULL, *t = strtok_r(s, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		if (o->n_threads == MAX_T_COUNTS)
			usage();
		o->threads[o->n_threads++] = (unsigned)num_arg(t, 1, MAX_THREADS);
	}
	if (o->n_threads == 0)
		usage();
}

static void parse_args(int argc, char **argv, opts_t *o)
{
	static const struct option lo[] = {
	        {"leaves", required_argument, NULL, 'l'},
	        {"filings", required_argument, NULL, 'f'},
	        {"runs", required_argument, NULL, 'r'},
	        {"threads", required_argument, NULL, 't'},
	        {"proofs", required_argument, NULL, 'p'},
	        {"seed", required_argument, NULL, 's'},
	        {NULL, 0, NULL, 0},
	};
	int c;

	*o = (opts_t){.leaves = 1000000,
	              .filings = 8000,
	              .runs = 3,
	              .threads = {16, 64},
	              .n_threads = 2,
	              .proofs = 10000,
	              .seed = 1};
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == 'l')
			o->leaves = num_arg(optarg, 1, 100000000);
		else if (c == 'f')
			o->filings = (unsigned)num_arg(optarg, 1, 999999);
		else if (c == 'r')
			o->runs = (unsigned)num_arg(optarg, 1, MAX_RUNS);
		else if (c == 't')
			threads_arg(o, optarg);
		else if (c == 'p')
			o->proofs = (unsigned)num_arg(optarg, 1, 10000000);
		else if (c == 's')
			o->seed = num_arg(optarg, 0, ULONG_MAX);
		else
			usage();
	}
	if (optind != argc - 1)
		usage();
	o->dir = argv[optind];
}

int main(int argc, char **argv)
{
	opts_t o;
	filing_t *f;

	parse_args(argc, argv, &o);
	setvbuf(stdout, NULL, _IOLBF, 0); /* lines appear as they are measured, also under tee */
	if (sd_init() != 0)
		die("sd_init");
	if ((f = calloc(o.filings, sizeof(*f))) == NULL)
		die("out of memory");
	for (size_t i = 0; i < o.filings; i++)
		filing_make(i, &f[i]);
	printf("== append cost inside the group commit: %u filings a run, %u A/B pairs per thread count, "
	       "fresh store each run (%zu-byte case record, %zu-byte upload record)\n",
	       o.filings, o.runs, f[0].case_len, f[0].done_len);
	printf("filing leaf: %zu bytes; encoding and hashing it alone: %.1f us\n", leaf_len(&f[0]),
	       leaf_cost_us(f, o.filings));
	append_bench(&o, f);
	filings_free(f, o.filings);
	proof_bench(&o);
	return 0;
}
