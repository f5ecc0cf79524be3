/*
 * test_store.c — the store (server/store.c): operations and their results, per-request
 * atomicity inside a shared batch, preconditions, limits, a full map, the drain on close,
 * durability across reopen, and group commit under 16 concurrent submitters (which must
 * need far fewer commits than requests), the map's growth and its policy, the map's pages
 * given back after a scan or many bytes read, and what
 * opening refuses (a foreign, damaged or newer store). A "gate" — a done callback that blocks the
 * store thread until the test opens it — lets a test queue requests that the store will
 * then take as one batch, so batch behaviour is tested deterministically.
 */
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <sys/mman.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "unit.h"
#include "sealdrop/store.h"

#define K(s) (const uint8_t *)(s), strlen(s)

/* Where the test stores live; -DSTORE_TEST_TMP='"/dev/shm"' measures without fsync cost. */
#ifndef STORE_TEST_TMP
#define STORE_TEST_TMP "/tmp"
#endif

static char tmp[64];

static int dir_setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "%s/sd-store-XXXXXX", STORE_TEST_TMP);
	return mkdtemp(tmp) != NULL ? 0 : -1;
}

static int dir_teardown(void **state)
{
	(void)state;
	return unit_rm_tree(tmp);
}

static sd_store_t *open_store(const sd_store_opts_t *opts)
{
	sd_store_t *s = NULL;
	int r = sd_store_open(tmp, opts, &s);
	if (r != 0)
		print_error("sd_store_open: %s\n", sd_error_detail());
	assert_int_equal(r, 0);
	assert_non_null(s);
	return s;
}

static int put(sd_store_t *s, sd_store_db_t db, const char *key, const uint8_t *val, size_t len, unsigned flags)
{
	sd_store_req_t *req = sd_store_req_new();
	assert_non_null(req);
	assert_int_equal(sd_store_req_put(req, db, K(key), val, len, flags), 0);
	int r = sd_store_call(s, req);
	sd_store_req_free(req);
	return r;
}

/* GETs key: 1 and its value into *val (malloc'd), 0 when missing. */
static int get(sd_store_t *s, sd_store_db_t db, const char *key, uint8_t **val, size_t *len)
{
	sd_store_req_t *req = sd_store_req_new();
	const uint8_t *v;
	int found = 0;

	assert_int_equal(sd_store_req_get(req, db, K(key)), 0);
	assert_int_equal(sd_store_call(s, req), 0);
	if (sd_store_req_value(req, 0, &v, len) == 0) {
		assert_true(sd_store_req_found(req, 0));
		*val = malloc(*len + 1);
		memcpy(*val, v, *len);
		found = 1;
	} else {
		assert_false(sd_store_req_found(req, 0));
	}
	sd_store_req_free(req);
	return found;
}

static void assert_value(sd_store_t *s, sd_store_db_t db, const char *key, const char *want)
{
	uint8_t *v = NULL;
	size_t len = 0;

	if (want == NULL) {
		assert_int_equal(get(s, db, key, &v, &len), 0);
		return;
	}
	assert_int_equal(get(s, db, key, &v, &len), 1);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(v, want, len);
	free(v);
}

/* --- The gate: holds the store thread inside a done callback ------------------------ */

struct gate {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool entered, open;
};

static struct gate gate_new(void)
{
	return (struct gate){PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false};
}

static void gate_done(sd_store_req_t *req, void *ctx)
{
	struct gate *g = ctx;

	pthread_mutex_lock(&g->mu);
	g->entered = true;
	pthread_cond_broadcast(&g->cv);
	while (!g->open)
		pthread_cond_wait(&g->cv, &g->mu);
	pthread_mutex_unlock(&g->mu);
	sd_store_req_free(req);
}

static void filler_done(sd_store_req_t *req, void *ctx)
{
	(void)ctx;
	sd_store_req_free(req);
}

/* Holds the store still: a GET whose callback blocks the reply thread, then a filler GET
 * that the store thread runs and cannot hand over until the gate opens. Returns once both
 * hold, so everything submitted next waits in the queue and forms one batch. The filler
 * is answered right after the gate opens (one more request in the counters). */
static void gate_close(sd_store_t *s, struct gate *g)
{
	sd_store_req_t *req = sd_store_req_new(), *filler = sd_store_req_new();
	sd_store_stats_t st0, st;

	assert_int_equal(sd_store_req_get(req, SD_STORE_DB_META, K("gate")), 0);
	assert_int_equal(sd_store_submit(s, req, gate_done, g), 0);
	pthread_mutex_lock(&g->mu);
	while (!g->entered)
		pthread_cond_wait(&g->cv, &g->mu);
	pthread_mutex_unlock(&g->mu);
	sd_store_stats(s, &st0);
	assert_int_equal(sd_store_req_get(filler, SD_STORE_DB_META, K("filler")), 0);
	assert_int_equal(sd_store_submit(s, filler, filler_done, NULL), 0);
	do {
		usleep(1000);
		sd_store_stats(s, &st);
	} while (st.batches == st0.batches);
}

static void gate_open(struct gate *g)
{
	pthread_mutex_lock(&g->mu);
	g->open = true;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

static void gate_wait_open(struct gate *g)
{
	pthread_mutex_lock(&g->mu);
	while (!g->open)
		pthread_cond_wait(&g->cv, &g->mu);
	pthread_mutex_unlock(&g->mu);
}

/* Counts replies; waits for a number of them. */
struct replies {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t n;
	int count[1024];
};

static struct replies *replies_new(void)
{
	struct replies *r = calloc(1, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	return r;
}

static void replies_free(struct replies *r)
{
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

/* A request's place in replies.count, passed as its callback's ctx. */
struct slot {
	struct replies *r;
	size_t i;
};

static void counted_done(sd_store_req_t *req, void *ctx)
{
	struct slot *sl = ctx;

	(void)req;
	pthread_mutex_lock(&sl->r->mu);
	sl->r->count[sl->i]++;
	sl->r->n++;
	pthread_cond_broadcast(&sl->r->cv);
	pthread_mutex_unlock(&sl->r->mu);
}

static void replies_wait(struct replies *r, size_t n)
{
	pthread_mutex_lock(&r->mu);
	while (r->n < n)
		pthread_cond_wait(&r->cv, &r->mu);
	pthread_mutex_unlock(&r->mu);
}

/* --- Operations -------------------------------------------------------------------- */

static void test_db_names(void **state)
{
	(void)state;
	assert_string_equal(sd_store_db_name(SD_STORE_DB_META), "meta");
	assert_string_equal(sd_store_db_name(SD_STORE_DB_UPLOADS), "uploads");
	assert_string_equal(sd_store_db_name(SD_STORE_DB_CHUNKS), "chunks");
	assert_string_equal(sd_store_db_name(SD_STORE_DB_CASES), "cases");
	assert_string_equal(sd_store_db_name(SD_STORE_DB_ACCOUNTS), "accounts");
	assert_null(sd_store_db_name(SD_STORE_DB_COUNT));
}

static void test_put_get_del(void **state)
{
	sd_store_t *s = open_store(NULL);
	sd_store_req_t *req = sd_store_req_new();

	(void)state;
	assert_int_equal(put(s, SD_STORE_DB_CASES, "2024-000001", K("open"), 0), 0);
	assert_int_equal(put(s, SD_STORE_DB_CASES, "empty", NULL, 0, 0), 0);
	assert_value(s, SD_STORE_DB_CASES, "2024-000001", "open");
	assert_value(s, SD_STORE_DB_CASES, "empty", "");
	/* Databases are separate namespaces. */
	assert_value(s, SD_STORE_DB_UPLOADS, "2024-000001", NULL);
	/* Overwrite without NOOVERWRITE. */
	assert_int_equal(put(s, SD_STORE_DB_CASES, "2024-000001", K("closed"), 0), 0);
	assert_value(s, SD_STORE_DB_CASES, "2024-000001", "closed");
	/* One request: delete, read back inside, delete again (missing is no error). */
	assert_int_equal(sd_store_req_del(req, SD_STORE_DB_CASES, K("2024-000001")), 0);
	assert_int_equal(sd_store_req_get(req, SD_STORE_DB_CASES, K("2024-000001")), 1);
	assert_int_equal(sd_store_req_del(req, SD_STORE_DB_CASES, K("2024-000001")), 2);
	assert_int_equal(sd_store_call(s, req), 0);
	assert_int_equal(sd_store_req_status(req), 0);
	assert_string_equal(sd_store_req_detail(req), "");
	assert_int_equal(sd_store_req_failed_op(req), -1);
	assert_true(sd_store_req_found(req, 0));
	assert_false(sd_store_req_found(req, 1));
	assert_false(sd_store_req_found(req, 2));
	const uint8_t *v;
	size_t len;
	assert_int_equal(sd_store_req_value(req, 1, &v, &len), SD_ERR_NOENT);
	assert_int_equal(sd_store_req_value(req, 99, &v, &len), SD_ERR_NOENT);
	assert_value(s, SD_STORE_DB_CASES, "2024-000001", NULL);
	/* A request reads its own earlier write. */
	sd_store_req_reset(req);
	assert_int_equal(sd_store_req_put(req, SD_STORE_DB_META, K("k"), K("v1"), 0), 0);
	assert_int_equal(sd_store_req_get(req, SD_STORE_DB_META, K("k")), 1);
	assert_int_equal(sd_store_call(s, req), 0);
	assert_int_equal(sd_store_req_value(req, 1, &v, &len), 0);
	assert_int_equal(len, 2);
	assert_memory_equal(v, "v1", 2);
	sd_store_req_free(req);
	sd_store_close(s);
	assert_null(s);
}

static void test_nooverwrite(void **state)
{
	sd_store_t *s = open_store(NULL);
	const uint8_t *v;
	size_t len;

	(void)state;
	assert_int_equal(put(s, SD_STORE_DB_CHUNKS, "u1/0/0", K("first"), SD_STORE_NOOVERWRITE), 0);
	sd_store_req_t *req = sd_store_req_new();
	assert_int_equal(sd_store_req_put(req, SD_STORE_DB_CHUNKS, K("u1/0/0"), K("second"), SD_STORE_NOOVERWRITE), 0);
	assert_int_equal(sd_store_call(s, req), SD_ERR_EXISTS);
	assert_int_equal(sd_store_req_status(req), SD_ERR_EXISTS);
	assert_int_equal(sd_store_req_failed_op(req), 0);
	assert_non_null(strstr(sd_store_req_detail(req), "already exists in 'chunks'"));
	assert_string_equal(sd_error_detail(), sd_store_req_detail(req));
	/* The value already stored comes back, for an idempotent retry to compare. */
	assert_int_equal(sd_store_req_value(req, 0, &v, &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(v, "first", 5);
	assert_value(s, SD_STORE_DB_CHUNKS, "u1/0/0", "first");
	sd_store_req_free(req);
	sd_store_close(s);
}

/* Queues requests behind the gate, so the store takes them as one batch. */
static void test_conflict_in_batch(void **state)
{
	sd_store_t *s = open_store(NULL);
	struct gate g = gate_new();
	struct replies *rp = replies_new();
	struct slot slots[8];
	sd_store_req_t *reqs[8];
	sd_store_stats_t before, after;
	char key[16];

	(void)state;
	assert_int_equal(put(s, SD_STORE_DB_UPLOADS, "taken", K("x"), 0), 0);
	gate_close(s, &g);
	sd_store_stats(s, &before);
	for (size_t i = 0; i < 8; i++) {
		reqs[i] = sd_store_req_new();
		slots[i] = (struct slot){rp, i};
		snprintf(key, sizeof(key), "k%zu", i);
		/* Request 3 also claims "taken": it alone must fail, its k3 undone. */
		assert_int_equal(sd_store_req_put(reqs[i], SD_STORE_DB_UPLOADS, K(key), K(key), SD_STORE_NOOVERWRITE),
		                 0);
		if (i == 3)
			assert_int_equal(sd_store_req_put(reqs[i], SD_STORE_DB_UPLOADS, K("taken"), K("y"),
			                                  SD_STORE_NOOVERWRITE),
			                 1);
		assert_int_equal(sd_store_submit(s, reqs[i], counted_done, &slots[i]), 0);
	}
	gate_open(&g);
	replies_wait(rp, 8);
	sd_store_stats(s, &after);
	print_message("# batch: %llu requests in %llu transaction(s), %llu commit(s), largest batch %llu\n",
	              (unsigned long long)(after.requests - before.requests),
	              (unsigned long long)(after.batches - before.batches),
	              (unsigned long long)(after.commits - before.commits), (unsigned long long)after.largest_batch);
	assert_int_equal(after.requests - before.requests, 8 + 1); /* and gate_close's filler */
	assert_int_equal(after.batches - before.batches, 1);
	assert_int_equal(after.commits - before.commits, 1);
	assert_int_equal(after.failed - before.failed, 1);
	assert_true(after.largest_batch >= 8);
	for (size_t i = 0; i < 8; i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		assert_int_equal(rp->count[i], 1);
		assert_int_equal(sd_store_req_status(reqs[i]), i == 3 ? SD_ERR_EXISTS : 0);
		assert_value(s, SD_STORE_DB_UPLOADS, key, i == 3 ? NULL : key);
		sd_store_req_free(reqs[i]);
	}
	assert_value(s, SD_STORE_DB_UPLOADS, "taken", "x");
	sd_store_close(s);
	replies_free(rp);
}

static void test_check_absent(void **state)
{
	sd_store_t *s = open_store(NULL);
	sd_store_req_t *req = sd_store_req_new();

	(void)state;
	/* "Create the account unless the name is taken." */
	assert_int_equal(sd_store_req_check_absent(req, SD_STORE_DB_ACCOUNTS, K("name/Kim")), 0);
	assert_int_equal(sd_store_req_put(req, SD_STORE_DB_ACCOUNTS, K("name/Kim"), K("fp1"), 0), 1);
	assert_int_equal(sd_store_req_put(req, SD_STORE_DB_ACCOUNTS, K("fp/fp1"), K("Kim"), 0), 2);
	assert_int_equal(sd_store_call(s, req), 0);
	assert_false(sd_store_req_found(req, 0));
	sd_store_req_reset(req);
	assert_int_equal(sd_store_req_check_absent(req, SD_STORE_DB_ACCOUNTS, K("name/Kim")), 0);
	assert_int_equal(sd_store_req_put(req, SD_STORE_DB_ACCOUNTS, K("name/Kim"), K("fp2"), 0), 1);
	assert_int_equal(sd_store_req_put(req, SD_STORE_DB_ACCOUNTS, K("fp/fp2"), K("Kim"), 0), 2);
	assert_int_equal(sd_store_call(s, req), SD_ERR_EXISTS);
	assert_int_equal(sd_store_req_failed_op(req), 0);
	assert_true(sd_store_req_found(req, 0));
	assert_non_null(strstr(sd_store_req_detail(req), "precondition failed: key exists in 'accounts'"));
	assert_value(s, SD_STORE_DB_ACCOUNTS, "name/Kim", "fp1");
	assert_value(s, SD_STORE_DB_ACCOUNTS, "fp/fp2", NULL);
	sd_store_req_free(req);
	sd_store_close(s);
}

static void test_check_equal(void **state)
{
	sd_store_t *s = open_store(NULL);
	sd_store_req_t *req = sd_store_req_new();

	(void)state;
	/* Missing key. */
	assert_int_equal(sd_store_req_check_equal(req, SD_STORE_DB_META, K("next_case"), K("1")), 0);
	assert_int_equal(sd_store_req_put(req, SD_STORE_DB_META, K("next_case"), K("2"), 0), 1);
	assert_int_equal(sd_store_call(s, req), SD_ERR_NOENT);
	assert_value(s, SD_STORE_DB_META, "next_case", NULL);
	assert_int_equal(put(s, SD_STORE_DB_META, "next_case", K("1"), 0), 0);
	/* Compare-and-set: the second attempt with the stale value fails; so do a value of
	 * another length and a prefix of the stored value. */
	for (int round = 0; round < 2; round++) {
		sd_store_req_reset(req);
		assert_int_equal(sd_store_req_check_equal(req, SD_STORE_DB_META, K("next_case"), K("1")), 0);
		assert_int_equal(sd_store_req_put(req, SD_STORE_DB_META, K("next_case"), K("2"), 0), 1);
		assert_int_equal(sd_store_call(s, req), round == 0 ? 0 : SD_ERR_REFUSED);
	}
	assert_non_null(strstr(sd_store_req_detail(req), "has changed"));
	const char *wrong[] = {"", "22", "3"};
	for (size_t i = 0; i < 3; i++) {
		sd_store_req_reset(req);
		assert_int_equal(sd_store_req_check_equal(req, SD_STORE_DB_META, K("next_case"), K(wrong[i])), 0);
		assert_int_equal(sd_store_req_put(req, SD_STORE_DB_META, K("next_case"), K("9"), 0), 1);
		assert_int_equal(sd_store_call(s, req), SD_ERR_REFUSED);
	}
	assert_value(s, SD_STORE_DB_META, "next_case", "2");
	sd_store_req_free(req);
	sd_store_close(s);
}

/* A request whose later operation fails leaves none of its earlier writes behind. */
static void test_atomicity(void **state)
{
	sd_store_t *s = open_store(NULL);
	sd_store_req_t *req = sd_store_req_new();

	(void)state;
	assert_int_equal(put(s, SD_STORE_DB_UPLOADS, "u/present", K("keep"), 0), 0);
	assert_int_equal(put(s, SD_STORE_DB_CASES, "c/old", K("old"), 0), 0);
	assert_int_equal(sd_store_req_put(req, SD_STORE_DB_CASES, K("c/new"), K("new"), 0), 0);
	assert_int_equal(sd_store_req_put(req, SD_STORE_DB_CASES, K("c/old"), K("changed"), 0), 1);
	assert_int_equal(sd_store_req_del(req, SD_STORE_DB_UPLOADS, K("u/present")), 2);
	assert_int_equal(sd_store_req_put(req, SD_STORE_DB_UPLOADS, K("u/present"), K("dup"), SD_STORE_NOOVERWRITE), 3);
	assert_int_equal(sd_store_req_put(req, SD_STORE_DB_CASES, K("c/never"), K("x"), 0), 4);
	/* Op 3 succeeds because op 2 deleted the key; op 5's precondition fails. */
	assert_int_equal(sd_store_req_check_absent(req, SD_STORE_DB_CASES, K("c/old")), 5);
	assert_int_equal(sd_store_call(s, req), SD_ERR_EXISTS);
	assert_int_equal(sd_store_req_failed_op(req), 5);
	assert_value(s, SD_STORE_DB_CASES, "c/new", NULL);
	assert_value(s, SD_STORE_DB_CASES, "c/old", "old");
	assert_value(s, SD_STORE_DB_CASES, "c/never", NULL);
	assert_value(s, SD_STORE_DB_UPLOADS, "u/present", "keep");
	/* The second op failing: the first is undone. */
	sd_store_req_reset(req);
	assert_int_equal(sd_store_req_put(req, SD_STORE_DB_CASES, K("c/first"), K("1"), 0), 0);
	assert_int_equal(sd_store_req_put(req, SD_STORE_DB_UPLOADS, K("u/present"), K("2"), SD_STORE_NOOVERWRITE), 1);
	assert_int_equal(sd_store_call(s, req), SD_ERR_EXISTS);
	assert_int_equal(sd_store_req_failed_op(req), 1);
	assert_value(s, SD_STORE_DB_CASES, "c/first", NULL);
	sd_store_req_free(req);
	sd_store_close(s);
}

static void test_scan(void **state)
{
	sd_store_t *s = open_store(NULL);
	sd_store_req_t *req = sd_store_req_new();
	const char *keys[] = {"u/1", "u/2", "u/3", "u/4", "u/5", "u/6", "u/7", "u/8", "u/9", "v/1", "u"};
	const uint8_t *k, *v;
	size_t kl, vl, got = 0;
	bool more = true;
	char last[8] = "";

	(void)state;
	for (size_t i = 0; i < 11; i++)
		assert_int_equal(put(s, SD_STORE_DB_UPLOADS, keys[i], K(keys[i]), 0), 0);
	/* Pages of 4 under "u/": 4 + 4 + 1, in order, each resuming after the last key. */
	for (int page = 0; more; page++) {
		sd_store_req_reset(req);
		assert_int_equal(sd_store_req_scan(req, SD_STORE_DB_UPLOADS, K("u/"),
		                                   page ? (const uint8_t *)last : NULL, strlen(last), 4),
		                 0);
		assert_int_equal(sd_store_call(s, req), 0);
		size_t n = sd_store_req_scan_count(req, 0, &more);
		assert_int_equal(n, page < 2 ? 4 : 1);
		assert_int_equal(more, page < 2);
		for (size_t i = 0; i < n; i++, got++) {
			assert_int_equal(sd_store_req_scan_entry(req, 0, i, &k, &kl, &v, &vl), 0);
			assert_int_equal(kl, 3);
			assert_memory_equal(k, keys[got], 3);
			assert_int_equal(vl, 3);
			assert_memory_equal(v, keys[got], 3);
			memcpy(last, k, kl);
			last[kl] = '\0';
		}
		assert_int_equal(sd_store_req_scan_entry(req, 0, n, &k, &kl, &v, &vl), SD_ERR_USAGE);
	}
	assert_int_equal(got, 9);
	/* Everything: 11 keys, "u" sorting first. An `after` before the prefix is ignored;
	 * one past it yields nothing. Two scans in one request keep their own entries. */
	sd_store_req_reset(req);
	assert_int_equal(sd_store_req_scan(req, SD_STORE_DB_UPLOADS, NULL, 0, NULL, 0, 100), 0);
	assert_int_equal(sd_store_req_scan(req, SD_STORE_DB_UPLOADS, K("u/"), K("a"), 100), 1);
	assert_int_equal(sd_store_req_scan(req, SD_STORE_DB_UPLOADS, K("u/"), K("u/9"), 100), 2);
	assert_int_equal(sd_store_req_scan(req, SD_STORE_DB_UPLOADS, K("w"), NULL, 0, 100), 3);
	assert_int_equal(sd_store_req_get(req, SD_STORE_DB_UPLOADS, K("v/1")), 4);
	assert_int_equal(sd_store_call(s, req), 0);
	assert_int_equal(sd_store_req_scan_count(req, 0, &more), 11);
	assert_false(more);
	assert_int_equal(sd_store_req_scan_entry(req, 0, 0, &k, &kl, &v, &vl), 0);
	assert_int_equal(kl, 1);
	assert_memory_equal(k, "u", 1);
	assert_int_equal(sd_store_req_scan_entry(req, 0, 10, &k, &kl, &v, &vl), 0);
	assert_memory_equal(k, "v/1", 3);
	assert_int_equal(sd_store_req_scan_count(req, 1, NULL), 9);
	assert_int_equal(sd_store_req_scan_entry(req, 1, 0, &k, &kl, &v, &vl), 0);
	assert_memory_equal(k, "u/1", 3);
	assert_int_equal(sd_store_req_scan_count(req, 2, NULL), 0);
	assert_int_equal(sd_store_req_scan_count(req, 3, NULL), 0);
	assert_int_equal(sd_store_req_scan_count(req, 4, NULL), 0); /* not a scan */
	assert_int_equal(sd_store_req_scan_entry(req, 4, 0, &k, &kl, &v, &vl), SD_ERR_USAGE);
	assert_int_equal(sd_store_req_value(req, 4, &v, &vl), 0);
	assert_memory_equal(v, "v/1", 3);
	sd_store_req_free(req);
	sd_store_close(s);
}

/* Keys-only scans return every key with an empty value, also for large values. */
static void test_scan_keys(void **state)
{
	sd_store_t *s = open_store(NULL);
	sd_store_req_t *req = sd_store_req_new();
	static uint8_t big[300000];
	const uint8_t *k, *v;
	size_t kl, vl;
	bool more = true;

	(void)state;
	memset(big, 0xa5, sizeof(big));
	assert_int_equal(put(s, SD_STORE_DB_CHUNKS, "c/1", big, sizeof(big), 0), 0);
	assert_int_equal(put(s, SD_STORE_DB_CHUNKS, "c/2", big, 10, 0), 0);
	assert_int_equal(put(s, SD_STORE_DB_CHUNKS, "d/1", big, 10, 0), 0);
	assert_int_equal(sd_store_req_scan_keys(req, SD_STORE_DB_CHUNKS, K("c/"), NULL, 0, 10), 0);
	assert_int_equal(sd_store_req_scan(req, SD_STORE_DB_CHUNKS, K("c/"), NULL, 0, 10), 1);
	assert_int_equal(sd_store_call(s, req), 0);
	assert_int_equal(sd_store_req_scan_count(req, 0, &more), 2);
	assert_false(more);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(sd_store_req_scan_entry(req, 0, i, &k, &kl, &v, &vl), 0);
		assert_int_equal(kl, 3);
		assert_memory_equal(k, i == 0 ? "c/1" : "c/2", 3);
		assert_int_equal(vl, 0);
	}
	/* The ordinary scan in the same request still carries the values. */
	assert_int_equal(sd_store_req_scan_entry(req, 1, 0, &k, &kl, &v, &vl), 0);
	assert_int_equal(vl, sizeof(big));
	assert_memory_equal(v, big, sizeof(big));
	sd_store_req_free(req);
	sd_store_close(s);
}

/* Prefix deletes remove at most `limit` keys of the prefix, tell whether some remain,
 * leave other keys alone, and roll back with their request. */
static void test_del_prefix(void **state)
{
	sd_store_t *s = open_store(NULL);
	sd_store_req_t *req = sd_store_req_new();
	char key[16];
	bool more = false;

	(void)state;
	for (int i = 0; i < 7; i++) {
		snprintf(key, sizeof(key), "x/%d", i);
		assert_int_equal(put(s, SD_STORE_DB_CHUNKS, key, K(key), 0), 0);
	}
	assert_int_equal(put(s, SD_STORE_DB_CHUNKS, "x", K("x"), 0), 0);
	assert_int_equal(put(s, SD_STORE_DB_CHUNKS, "y/0", K("y"), 0), 0);
	assert_int_equal(sd_store_req_del_prefix(req, SD_STORE_DB_CHUNKS, NULL, 0, 5), SD_ERR_USAGE);
	sd_store_req_reset(req);
	/* A failing precondition after it undoes the deletes. */
	assert_int_equal(sd_store_req_del_prefix(req, SD_STORE_DB_CHUNKS, K("x/"), 5), 0);
	assert_int_equal(sd_store_req_check_absent(req, SD_STORE_DB_CHUNKS, K("x")), 1);
	assert_int_equal(sd_store_call(s, req), SD_ERR_EXISTS);
	assert_value(s, SD_STORE_DB_CHUNKS, "x/0", "x/0");
	sd_store_req_reset(req);
	assert_int_equal(sd_store_req_del_prefix(req, SD_STORE_DB_CHUNKS, K("x/"), 5), 0);
	assert_int_equal(sd_store_call(s, req), 0);
	assert_int_equal(sd_store_req_scan_count(req, 0, &more), 5);
	assert_true(more);
	sd_store_req_reset(req);
	assert_int_equal(sd_store_req_del_prefix(req, SD_STORE_DB_CHUNKS, K("x/"), 5), 0);
	assert_int_equal(sd_store_call(s, req), 0);
	assert_int_equal(sd_store_req_scan_count(req, 0, &more), 2);
	assert_false(more);
	for (int i = 0; i < 7; i++) {
		snprintf(key, sizeof(key), "x/%d", i);
		assert_value(s, SD_STORE_DB_CHUNKS, key, NULL);
	}
	assert_value(s, SD_STORE_DB_CHUNKS, "x", "x");
	assert_value(s, SD_STORE_DB_CHUNKS, "y/0", "y");
	sd_store_req_free(req);
	sd_store_close(s);
}

/* The count precondition: exactly N keys under the prefix, or the request fails whole. */
static void test_check_count(void **state)
{
	sd_store_t *s = open_store(NULL);
	sd_store_req_t *req = sd_store_req_new();

	(void)state;
	assert_int_equal(put(s, SD_STORE_DB_CHUNKS, "p/1", K("a"), 0), 0);
	assert_int_equal(put(s, SD_STORE_DB_CHUNKS, "p/2", K("b"), 0), 0);
	assert_int_equal(put(s, SD_STORE_DB_CHUNKS, "q/1", K("c"), 0), 0);
	/* The one count that holds comes last: the others must leave nothing behind. */
	static const size_t wants[] = {0, 1, 3, 4, 2};
	for (size_t i = 0; i < 5; i++) {
		size_t want = wants[i];
		sd_store_req_reset(req);
		assert_int_equal(sd_store_req_put(req, SD_STORE_DB_CASES, K("case"), K("x"), 0), 0);
		assert_int_equal(sd_store_req_check_count(req, SD_STORE_DB_CHUNKS, K("p/"), want), 1);
		assert_int_equal(sd_store_call(s, req), want == 2 ? 0 : SD_ERR_TRUNCATED);
		if (want != 2) {
			assert_int_equal(sd_store_req_failed_op(req), 1);
			assert_value(s, SD_STORE_DB_CASES, "case", NULL); /* rolled back */
		}
	}
	assert_value(s, SD_STORE_DB_CASES, "case", "x");
	sd_store_req_reset(req);
	assert_int_equal(sd_store_req_check_count(req, SD_STORE_DB_CHUNKS, NULL, 0, 1), SD_ERR_USAGE);
	sd_store_req_reset(req);
	assert_int_equal(sd_store_req_check_count(req, SD_STORE_DB_CHUNKS, K("p/"), SD_STORE_COUNT_MAX + 1),
	                 SD_ERR_USAGE);
	sd_store_req_free(req);
	sd_store_close(s);
}

/* --- Limits and refusals ----------------------------------------------------------- */

static void test_key_limits(void **state)
{
	sd_store_t *s = open_store(NULL);
	sd_store_req_t *req = sd_store_req_new();
	uint8_t key[SD_STORE_KEY_MAX + 1];
	const uint8_t *v;
	size_t len;

	(void)state;
	memset(key, 'k', sizeof(key));
	assert_int_equal(sd_store_req_put(req, SD_STORE_DB_META, key, sizeof(key), K("v"), 0), SD_ERR_TOOBIG);
	assert_non_null(strstr(sd_error_detail(), "longer than the limit of 511 bytes"));
	/* The request remembers: later operations and the submit fail the same way. */
	assert_int_equal(sd_store_req_get(req, SD_STORE_DB_META, K("ok")), SD_ERR_TOOBIG);
	assert_int_equal(sd_store_req_get(req, SD_STORE_DB_META, NULL, 0), SD_ERR_USAGE);
	assert_int_equal(sd_store_req_put(req, SD_STORE_DB_META, K("ok"), K("v"), 0), SD_ERR_TOOBIG);
	sd_error_clear();
	assert_int_equal(sd_store_call(s, req), SD_ERR_TOOBIG);
	assert_non_null(strstr(sd_error_detail(), "511"));
	/* 511 bytes is fine. */
	sd_store_req_reset(req);
	assert_int_equal(sd_store_req_put(req, SD_STORE_DB_META, key, SD_STORE_KEY_MAX, K("v"), 0), 0);
	assert_int_equal(sd_store_req_get(req, SD_STORE_DB_META, key, SD_STORE_KEY_MAX), 1);
	assert_int_equal(sd_store_call(s, req), 0);
	assert_int_equal(sd_store_req_value(req, 1, &v, &len), 0);
	assert_int_equal(len, 1);
	/* Every other refusal, each on a fresh request. */
	int cases[8];
	size_t n = 0;
	sd_store_req_reset(req);
	cases[n++] = sd_store_req_get(req, SD_STORE_DB_META, NULL, 0);
	sd_store_req_reset(req);
	cases[n++] = sd_store_req_get(req, SD_STORE_DB_META, NULL, 3);
	sd_store_req_reset(req);
	cases[n++] = sd_store_req_get(req, SD_STORE_DB_COUNT, K("x"));
	sd_store_req_reset(req);
	cases[n++] = sd_store_req_put(req, SD_STORE_DB_META, K("x"), NULL, 1, 0);
	sd_store_req_reset(req);
	cases[n++] = sd_store_req_put(req, SD_STORE_DB_META, K("x"), K("y"), 0x80);
	sd_store_req_reset(req);
	cases[n++] = sd_store_req_scan(req, SD_STORE_DB_META, K("x"), NULL, 0, 0);
	sd_store_req_reset(req);
	cases[n++] = sd_store_req_scan(req, SD_STORE_DB_META, K("x"), NULL, 0, SD_STORE_SCAN_MAX + 1);
	sd_store_req_reset(req);
	cases[n++] = sd_store_req_scan(req, SD_STORE_DB_META, key, sizeof(key), NULL, 0, 1);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(cases[i], i == n - 1 ? SD_ERR_TOOBIG : SD_ERR_USAGE);
	sd_store_req_reset(req);
	assert_int_equal(sd_store_call(s, req), SD_ERR_USAGE); /* no operations */
	assert_int_equal(sd_store_submit(s, NULL, gate_done, NULL), SD_ERR_USAGE);
	sd_store_req_free(req);
	sd_store_close(s);
}

static void test_queue_full_and_double_submit(void **state)
{
	sd_store_opts_t opts = {.queue_max = 4};
	sd_store_t *s = open_store(&opts);
	struct gate g = gate_new();
	struct replies *rp = replies_new();
	struct slot slots[5];
	sd_store_req_t *reqs[5];

	(void)state;
	gate_close(s, &g);
	for (size_t i = 0; i < 5; i++) {
		reqs[i] = sd_store_req_new();
		slots[i] = (struct slot){rp, i};
		assert_int_equal(sd_store_req_get(reqs[i], SD_STORE_DB_META, K("x")), 0);
		assert_int_equal(sd_store_submit(s, reqs[i], counted_done, &slots[i]), i < 4 ? 0 : SD_ERR_REFUSED);
	}
	assert_non_null(strstr(sd_error_detail(), "queue is full"));
	assert_int_equal(sd_store_submit(s, reqs[0], counted_done, &slots[0]), SD_ERR_USAGE);
	assert_non_null(strstr(sd_error_detail(), "already submitted"));
	gate_open(&g);
	replies_wait(rp, 4);
	sd_store_close(s);
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(rp->count[i], i < 4 ? 1 : 0);
		sd_store_req_free(reqs[i]);
	}
	replies_free(rp);
}

static void test_second_open_refused(void **state)
{
	sd_store_t *s = open_store(NULL), *t = NULL;
	sd_store_opts_t tiny = {.mapsize = 4096};

	(void)state;
	assert_int_equal(sd_store_open(tmp, NULL, &t), SD_ERR_REFUSED);
	assert_null(t);
	assert_non_null(strstr(sd_error_detail(), "in use"));
	sd_store_close(s);
	s = open_store(NULL);
	sd_store_close(s);
	assert_int_equal(sd_store_open(tmp, &tiny, &t), SD_ERR_USAGE);
	assert_int_equal(sd_store_open("/nonexistent/dir", NULL, &t), SD_ERR_IO);
	assert_int_equal(sd_store_open("", NULL, &t), SD_ERR_USAGE);
	sd_store_close(t); /* NULL is fine */
}

struct nested {
	sd_store_t *store;
	int call_rc;
	struct gate done;
};

static void nested_done(sd_store_req_t *req, void *ctx)
{
	struct nested *n = ctx;
	sd_store_req_t *inner = sd_store_req_new();

	assert_int_equal(sd_store_req_get(inner, SD_STORE_DB_META, K("x")), 0);
	n->call_rc = sd_store_call(n->store, inner);
	sd_store_req_free(inner);
	sd_store_req_free(req);
	gate_open(&n->done);
}

static void test_call_on_store_thread(void **state)
{
	struct nested n = {.store = open_store(NULL), .call_rc = 1, .done = gate_new()};
	sd_store_req_t *req = sd_store_req_new();

	(void)state;
	assert_int_equal(sd_store_req_get(req, SD_STORE_DB_META, K("x")), 0);
	assert_int_equal(sd_store_submit(n.store, req, nested_done, &n), 0);
	gate_wait_open(&n.done);
	assert_int_equal(n.call_rc, SD_ERR_USAGE);
	sd_store_close(n.store);
}

/* --- A full map ---------------------------------------------------------------------- */

static void test_map_full(void **state)
{
	sd_store_opts_t opts = {.mapsize = SD_STORE_MAPSIZE_MIN};
	sd_store_t *s = open_store(&opts);
	size_t big_len = 1u << 20;
	uint8_t *big = calloc(1, big_len);
	struct gate g = gate_new();
	struct replies *rp = replies_new();
	struct slot slots[3];
	sd_store_req_t *reqs[3];

	(void)state;
	assert_int_equal(put(s, SD_STORE_DB_CHUNKS, "big", big, big_len, 0), SD_ERR_TOOBIG);
	assert_non_null(strstr(sd_error_detail(), "store is full: its map of 65536 bytes"));
	/* The store keeps working. */
	assert_int_equal(put(s, SD_STORE_DB_CHUNKS, "small", K("fits"), 0), 0);
	assert_value(s, SD_STORE_DB_CHUNKS, "small", "fits");
	/* In one batch: small, too big, small — only the middle one fails. */
	gate_close(s, &g);
	for (size_t i = 0; i < 3; i++) {
		char key[8];
		snprintf(key, sizeof(key), "b%zu", i);
		reqs[i] = sd_store_req_new();
		slots[i] = (struct slot){rp, i};
		assert_int_equal(sd_store_req_put(reqs[i], SD_STORE_DB_CHUNKS, K(key),
		                                  i == 1 ? big : (const uint8_t *)key, i == 1 ? big_len : strlen(key),
		                                  0),
		                 0);
		assert_int_equal(sd_store_submit(s, reqs[i], counted_done, &slots[i]), 0);
	}
	gate_open(&g);
	replies_wait(rp, 3);
	assert_int_equal(sd_store_req_status(reqs[0]), 0);
	assert_int_equal(sd_store_req_status(reqs[1]), SD_ERR_TOOBIG);
	assert_int_equal(sd_store_req_status(reqs[2]), 0);
	sd_store_close(s);
	s = open_store(&opts);
	assert_value(s, SD_STORE_DB_CHUNKS, "b0", "b0");
	assert_value(s, SD_STORE_DB_CHUNKS, "b1", NULL);
	assert_value(s, SD_STORE_DB_CHUNKS, "b2", "b2");
	assert_value(s, SD_STORE_DB_CHUNKS, "small", "fits");
	for (size_t i = 0; i < 3; i++)
		sd_store_req_free(reqs[i]);
	sd_store_close(s);
	replies_free(rp);
	free(big);
}

/* Requests that each fit alone but not all together: every one either commits and
 * survives a reopen, or fails with SD_ERR_TOOBIG and leaves nothing. */
static void test_map_fills_mid_batch(void **state)
{
	sd_store_opts_t opts = {.mapsize = 256u << 10};
	sd_store_t *s = open_store(&opts);
	struct gate g = gate_new();
	struct replies *rp = replies_new();
	struct slot slots[24];
	sd_store_req_t *reqs[24];
	uint8_t val[12000];
	size_t ok = 0;
	sd_store_stats_t st;

	(void)state;
	gate_close(s, &g);
	for (size_t i = 0; i < 24; i++) {
		char key[8];
		snprintf(key, sizeof(key), "m%02zu", i);
		memset(val, (int)i, sizeof(val));
		reqs[i] = sd_store_req_new();
		slots[i] = (struct slot){rp, i};
		assert_int_equal(sd_store_req_put(reqs[i], SD_STORE_DB_CHUNKS, K(key), val, sizeof(val), 0), 0);
		assert_int_equal(sd_store_submit(s, reqs[i], counted_done, &slots[i]), 0);
	}
	gate_open(&g);
	replies_wait(rp, 24);
	sd_store_stats(s, &st);
	sd_store_close(s);
	s = open_store(&opts);
	for (size_t i = 0; i < 24; i++) {
		char key[8];
		uint8_t *v = NULL;
		size_t len = 0;
		int r = sd_store_req_status(reqs[i]);
		snprintf(key, sizeof(key), "m%02zu", i);
		assert_true(r == 0 || r == SD_ERR_TOOBIG);
		assert_int_equal(get(s, SD_STORE_DB_CHUNKS, key, &v, &len), r == 0);
		if (r == 0) {
			ok++;
			memset(val, (int)i, sizeof(val));
			assert_int_equal(len, sizeof(val));
			assert_memory_equal(v, val, len);
			free(v);
		}
		sd_store_req_free(reqs[i]);
	}
	print_message("# map of 256 KiB, 24 puts of 12000 bytes in one queue: %zu stored, %zu full; "
	              "%llu transactions, %llu commits, %llu splits\n",
	              ok, 24 - ok, (unsigned long long)st.batches, (unsigned long long)st.commits,
	              (unsigned long long)st.splits);
	assert_true(ok >= 1);
	assert_true(ok < 24);
	sd_store_close(s);
	replies_free(rp);
}

/* --- Close, reopen, group commit ----------------------------------------------------- */

struct closer {
	sd_store_t *store;
	struct gate *gate;
	struct gate first; /* opened once the first probe is queued */
	struct replies *rp;
	size_t probes; /* accepted while closing was not yet visible */
	sd_store_req_t *probe[512];
	struct slot slots[512];
};

/* Probes until the store refuses (it is closing), then opens the gate. */
static void *closer_main(void *arg)
{
	struct closer *c = arg;

	for (;;) {
		sd_store_req_t *req = sd_store_req_new();
		assert_int_equal(sd_store_req_get(req, SD_STORE_DB_META, K("probe")), 0);
		c->slots[c->probes] = (struct slot){c->rp, 512 + c->probes};
		if (c->probes == 511 || sd_store_submit(c->store, req, counted_done, &c->slots[c->probes]) != 0) {
			sd_store_req_free(req);
			break;
		}
		c->probe[c->probes++] = req;
		gate_open(&c->first);
		usleep(1000);
	}
	gate_open(&c->first);
	gate_open(c->gate);
	return NULL;
}

static void test_close_drains(void **state)
{
	sd_store_t *s = open_store(NULL);
	struct gate g = gate_new();
	struct replies *rp = replies_new();
	struct closer c = {.store = s, .gate = &g, .first = gate_new(), .rp = rp};
	struct slot slots[300];
	sd_store_req_t *reqs[300];
	pthread_t th;

	(void)state;
	gate_close(s, &g);
	for (size_t i = 0; i < 300; i++) {
		char key[16];
		snprintf(key, sizeof(key), "d%03zu", i);
		reqs[i] = sd_store_req_new();
		slots[i] = (struct slot){rp, i};
		assert_int_equal(sd_store_req_put(reqs[i], SD_STORE_DB_CASES, K(key), K(key), 0), 0);
		assert_int_equal(sd_store_submit(s, reqs[i], counted_done, &slots[i]), 0);
	}
	assert_int_equal(pthread_create(&th, NULL, closer_main, &c), 0);
	gate_wait_open(&c.first);
	sd_store_close(s); /* returns only after the gate opened and the queue drained */
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_true(c.probes >= 1);
	assert_int_equal(rp->n, 300 + c.probes);
	for (size_t i = 0; i < 300; i++) {
		assert_int_equal(rp->count[i], 1);
		assert_int_equal(sd_store_req_status(reqs[i]), 0);
		sd_store_req_free(reqs[i]);
	}
	for (size_t i = 0; i < c.probes; i++) {
		assert_int_equal(rp->count[512 + i], 1);
		sd_store_req_free(c.probe[i]);
	}
	print_message("# close drained 300 queued requests and %zu submitted while closing\n", c.probes);
	s = open_store(NULL);
	for (size_t i = 0; i < 300; i += 37) {
		char key[16];
		snprintf(key, sizeof(key), "d%03zu", i);
		assert_value(s, SD_STORE_DB_CASES, key, key);
	}
	sd_store_close(s);
	replies_free(rp);
}

/* Values of many sizes, including empty and multi-page ones, read back after reopen. */
static void test_reopen(void **state)
{
	sd_store_t *s = open_store(NULL);
	uint8_t *val = malloc(300000);
	char key[16];

	(void)state;
	for (size_t i = 0; i < 300000; i++)
		val[i] = (uint8_t)(i * 131 + 7);
	for (size_t i = 0; i < 60; i++) {
		snprintf(key, sizeof(key), "r%02zu", i);
		assert_int_equal(put(s, (sd_store_db_t)(i % SD_STORE_DB_COUNT), key, val + i, (i * i * i) % 300000, 0),
		                 0);
	}
	sd_store_close(s);
	s = open_store(NULL);
	for (size_t i = 0; i < 60; i++) {
		uint8_t *v = NULL;
		size_t len = 0;
		snprintf(key, sizeof(key), "r%02zu", i);
		assert_int_equal(get(s, (sd_store_db_t)(i % SD_STORE_DB_COUNT), key, &v, &len), 1);
		assert_int_equal(len, (i * i * i) % 300000);
		if (len > 0)
			assert_memory_equal(v, val + i, len);
		free(v);
	}
	sd_store_close(s);
	free(val);
}

#define GC_THREADS 16
#define GC_PUTS    200

struct putter {
	sd_store_t *store;
	size_t id, n;
	int failures;
};

static void *putter_main(void *arg)
{
	struct putter *p = arg;
	sd_store_req_t *req = sd_store_req_new();
	char key[32], val[64];

	for (size_t i = 0; i < p->n; i++) {
		snprintf(key, sizeof(key), "gc/%02zu/%04zu", p->id, i);
		snprintf(val, sizeof(val), "value of %02zu/%04zu", p->id, i);
		sd_store_req_reset(req);
		if (sd_store_req_put(req, SD_STORE_DB_UPLOADS, K(key), K(val), SD_STORE_NOOVERWRITE) != 0 ||
		    sd_store_call(p->store, req) != 0)
			p->failures++;
	}
	sd_store_req_free(req);
	return NULL;
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs `threads` submitters of `each` durable single-put requests; returns requests/s. */
static double run_putters(sd_store_t *s, size_t threads, size_t each, size_t id_base)
{
	struct putter p[GC_THREADS];
	pthread_t th[GC_THREADS];
	double t0 = now_seconds();

	for (size_t i = 0; i < threads; i++) {
		p[i] = (struct putter){.store = s, .id = id_base + i, .n = each};
		assert_int_equal(pthread_create(&th[i], NULL, putter_main, &p[i]), 0);
	}
	for (size_t i = 0; i < threads; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(p[i].failures, 0);
	}
	return (double)(threads * each) / (now_seconds() - t0);
}

static void test_group_commit(void **state)
{
	sd_store_t *s = open_store(NULL);
	sd_store_stats_t st;
	sd_store_req_t *req = sd_store_req_new();
	bool more;

	(void)state;
	run_putters(s, GC_THREADS, GC_PUTS, 0);
	sd_store_stats(s, &st);
	print_message("# group commit: %llu requests, %llu commits, %llu transactions, largest batch %llu\n",
	              (unsigned long long)st.requests, (unsigned long long)st.commits, (unsigned long long)st.batches,
	              (unsigned long long)st.largest_batch);
	assert_int_equal(st.requests, GC_THREADS * GC_PUTS);
	assert_int_equal(st.failed, 0);
	assert_true(st.commits < st.requests / 2);
	assert_true(st.largest_batch > 1);
	sd_store_close(s);
	/* All 3200 are there after reopen, each with its own value. */
	s = open_store(NULL);
	assert_int_equal(sd_store_req_scan(req, SD_STORE_DB_UPLOADS, K("gc/"), NULL, 0, SD_STORE_SCAN_MAX), 0);
	assert_int_equal(sd_store_call(s, req), 0);
	assert_int_equal(sd_store_req_scan_count(req, 0, &more), GC_THREADS * GC_PUTS);
	assert_false(more);
	for (size_t i = 0; i < GC_THREADS * GC_PUTS; i++) {
		const uint8_t *k, *v;
		size_t kl, vl;
		char key[32], val[64];
		snprintf(key, sizeof(key), "gc/%02zu/%04zu", i / GC_PUTS, i % GC_PUTS);
		snprintf(val, sizeof(val), "value of %02zu/%04zu", i / GC_PUTS, i % GC_PUTS);
		assert_int_equal(sd_store_req_scan_entry(req, 0, i, &k, &kl, &v, &vl), 0);
		assert_int_equal(kl, strlen(key));
		assert_memory_equal(k, key, kl);
		assert_int_equal(vl, strlen(val));
		assert_memory_equal(v, val, vl);
	}
	sd_store_req_free(req);
	sd_store_close(s);
}

/* Not asserted: how much group commit buys on this machine. */
static void test_rate(void **state)
{
	sd_store_t *s = open_store(NULL);
	sd_store_stats_t a, b, c;

	(void)state;
	sd_store_stats(s, &a);
	double one = run_putters(s, 1, 400, 100);
	sd_store_stats(s, &b);
	double many = run_putters(s, GC_THREADS, 250, 200);
	sd_store_stats(s, &c);
	print_message("# durable single-put requests/s: 1 submitter %.0f (%llu commits for %llu), "
	              "16 submitters %.0f (%llu commits for %llu)\n",
	              one, (unsigned long long)(b.commits - a.commits), (unsigned long long)(b.requests - a.requests),
	              many, (unsigned long long)(c.commits - b.commits), (unsigned long long)(c.requests - b.requests));
	sd_store_close(s);
}

/* --- Faults: the map grows, and what opening refuses ---------------------------------- */

/* The growth policy's arithmetic (sd_store_map_next), case by case. */
static void test_map_next(void **state)
{
	const uint64_t M = 1u << 20, G = (uint64_t)1 << 30, NONE = UINT64_MAX;
	static const struct {
		uint64_t current, file, ceiling, avail, total, want;
	} t[] = {
	        /* doubles, by 1 MiB at least */
	        {64 << 10, 64 << 10, 64 * G, NONE, 0, (64 << 10) + M},
	        {4 * M, 4 * M, 64 * G, NONE, 0, 8 * M},
	        {3 * G, 3 * G, 64 * G, NONE, 0, 6 * G},
	        /* up to the ceiling, then no more */
	        {40 * G, 40 * G, 64 * G, NONE, 0, 64 * G},
	        {64 * G, 64 * G, 64 * G, NONE, 0, 0},
	        {8 * M, 8 * M, 8 * M + 1000, NONE, 0, 0}, /* rounded down to 64 KiB: no step */
	        {8 * M, 8 * M, 9 * M + 1000, NONE, 0, 9 * M},
	        /* the disk: free space beyond a reserve of 64 MiB on a small file system ... */
	        {4 * M, 4 * M, 64 * G, 64 * M + 2 * M, G, 6 * M},
	        {4 * M, 4 * M, 64 * G, 64 * M, G, 0},
	        {4 * M, 4 * M, 64 * G, 10 * M, G, 0},
	        /* ... and of 1% on a large one (1% of 1 TiB is 10.24 GiB) */
	        {G, G, 64 * G, 11 * G, 1024 * G, G + (uint64_t)(11 * G - 1024 * G / 100) / (64 << 10) * (64 << 10)},
	        {G, G, 64 * G, 10 * G, 1024 * G, 0},
	        /* the room counts from the file, which may be larger than the map's data */
	        {4 * M, 6 * M, 64 * G, 64 * M + M, G, 7 * M},
	        /* no overflow at the top */
	        {(size_t)1 << 62, (uint64_t)1 << 62, NONE, NONE, 0, (uint64_t)1 << 63},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t got = sd_store_map_next((size_t)t[i].current, t[i].file, t[i].ceiling, t[i].avail, t[i].total);
		if (got != t[i].want)
			fail_msg("case %zu: %zu, expected %llu", i, got, (unsigned long long)t[i].want);
		assert_int_equal(got % (64 << 10), 0);
	}
}

/* A store with a ceiling starts small and grows online: writes that need more room
 * than the first map succeed, the data file grows, a write beyond the ceiling fails
 * with "store is full" and the store keeps serving; with a higher ceiling it fits. */
static void test_map_grows(void **state)
{
	sd_store_opts_t opts = {.max_bytes = 12u << 20};
	sd_store_t *s = open_store(&opts);
	size_t len = 700u << 10;
	uint8_t *val = calloc(1, len);
	sd_store_stats_t st;
	char key[16], path[128];
	struct stat fst;

	(void)state;
	for (int i = 0; i < 6; i++) {
		snprintf(key, sizeof(key), "v%d", i);
		val[0] = (uint8_t)i;
		assert_int_equal(put(s, SD_STORE_DB_CHUNKS, key, val, len, 0), 0);
	}
	sd_store_stats(s, &st);
	print_message("# 6 puts of 700 KiB from a small map: it grew %llu times\n", (unsigned long long)st.grown);
	assert_true(st.grown >= 2);
	snprintf(path, sizeof(path), "%s/store/data.mdb", tmp);
	assert_int_equal(stat(path, &fst), 0);
	assert_true(fst.st_size > (off_t)(4u << 20));
	/* Beyond the ceiling: refused, and the store still reads and writes what fits. */
	uint8_t *big = calloc(1, 8u << 20);
	assert_int_equal(put(s, SD_STORE_DB_CHUNKS, "big", big, 8u << 20, 0), SD_ERR_TOOBIG);
	assert_non_null(strstr(sd_error_detail(), "store is full"));
	assert_int_equal(put(s, SD_STORE_DB_CHUNKS, "small", K("fits"), 0), 0);
	assert_value(s, SD_STORE_DB_CHUNKS, "small", "fits");
	sd_store_close(s);
	opts.max_bytes = 64u << 20;
	s = open_store(&opts);
	assert_int_equal(put(s, SD_STORE_DB_CHUNKS, "big", big, 8u << 20, 0), 0);
	assert_value(s, SD_STORE_DB_CHUNKS, "small", "fits");
	sd_store_close(s);
	free(big);
	free(val);
}

/* This process's file-backed resident KiB (RssFile): LMDB's map is most of it. */
static long rss_file_kib(void)
{
	char line[128];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "RssFile:", 8) == 0)
			kib = strtol(line + 8, NULL, 10);
	fclose(f);
	assert_true(kib >= 0);
	return kib;
}

/* Pages LMDB read through the map do not stay in the process: 40 MiB written and read
 * back (the store gives the map's pages back after every 32 MiB moved, so the last 16
 * MiB read stay mapped), then a scan with nothing else waiting, after which the map
 * holds (nearly) nothing. */
static void test_map_pages_given_back(void **state)
{
	sd_store_t *s = open_store(NULL);
	size_t len = 1u << 20, got;
	uint8_t *val = malloc(len), *back = NULL;
	sd_store_req_t *req = sd_store_req_new();
	char key[16];
	long before, read_back, after;

	(void)state;
	for (int i = 0; i < 40; i++) {
		snprintf(key, sizeof(key), "c%02d", i);
		memset(val, i, len);
		assert_int_equal(put(s, SD_STORE_DB_CHUNKS, key, val, len, 0), 0);
	}
	before = rss_file_kib();
	for (int i = 0; i < 40; i++) {
		snprintf(key, sizeof(key), "c%02d", i);
		assert_int_equal(get(s, SD_STORE_DB_CHUNKS, key, &back, &got), 1);
		assert_int_equal(got, len);
		assert_int_equal(back[len - 1], i);
		free(back);
	}
	read_back = rss_file_kib();
	assert_int_equal(sd_store_req_scan_keys(req, SD_STORE_DB_CHUNKS, K("c"), NULL, 0, 4), 0);
	assert_int_equal(sd_store_call(s, req), 0);
	after = rss_file_kib();
	print_message("# RssFile: %ld KiB before reading 40 MiB back, %ld after (16 MiB since the last trim), "
	              "%ld after a scan\n",
	              before, read_back, after);
	assert_true(read_back - before > 8 * 1024); /* the reads did map pages in */
	assert_true(after - before < 4 * 1024);     /* and the scan's batch gave them back */
	sd_store_req_free(req);
	sd_store_close(s);
	free(val);
}

/* How many of the pages of [from, to) of the file at path are in the page cache, in
 * percent (mincore on a map of the file, which faults nothing in). */
static int cached_pct(const char *path, off_t from, off_t to)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t n = (size_t)((to - from) / page), resident = 0;
	unsigned char *vec = malloc(n);
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	void *map = mmap(NULL, (size_t)(to - from), PROT_READ, MAP_SHARED, fd, from);
	assert_true(map != MAP_FAILED);
	assert_int_equal(mincore(map, (size_t)(to - from), vec), 0);
	for (size_t i = 0; i < n; i++)
		resident += vec[i] & 1;
	munmap(map, (size_t)(to - from));
	close(fd);
	free(vec);
	return (int)(resident * 100 / n);
}

/* A large value's pages leave the page cache once it is durable (store_drop_written),
 * where a file written alike keeps them: 40 values of 1 MiB, then one of 4 MiB. */
static void test_written_cache_handed_back(void **state)
{
	sd_store_t *s = open_store(NULL);
	size_t len = 1u << 20;
	uint8_t *val = calloc(1, 4 * len);
	char key[16], path[128], control[128];
	struct stat st;
	struct statfs fs;
	int values, last, written, fd;

	(void)state;
	for (int i = 0; i < 40; i++) {
		snprintf(key, sizeof(key), "c%02d", i);
		memset(val, i, len);
		assert_int_equal(put(s, SD_STORE_DB_CHUNKS, key, val, len, 0), 0);
	}
	snprintf(path, sizeof(path), "%s/store/data.mdb", tmp);
	assert_int_equal(stat(path, &st), 0);
	values = cached_pct(path, 1 << 20, st.st_size);
	assert_int_equal(put(s, SD_STORE_DB_CHUNKS, "big", val, 4 * len, 0), 0);
	assert_int_equal(stat(path, &st), 0);
	last = cached_pct(path, st.st_size - (4 << 20), st.st_size);
	snprintf(control, sizeof(control), "%s/control", tmp);
	assert_true((fd = open(control, O_WRONLY | O_CREAT | O_EXCL, 0600)) >= 0);
	assert_int_equal(write(fd, val, 4 * len), (ssize_t)(4 * len));
	assert_int_equal(fdatasync(fd), 0);
	close(fd);
	written = cached_pct(control, 0, 4 << 20);
	print_message("# in the page cache: %d %% of the store file past its first MiB after 40 values of "
	              "1 MiB, %d %% of the pages of a 4 MiB value; %d %% of a file of 4 MiB written alike\n",
	              values, last, written);
	/* a value whose pages were handed back reads whole, from the disk */
	uint8_t *back = NULL;
	size_t got = 0;
	assert_int_equal(get(s, SD_STORE_DB_CHUNKS, "c39", &back, &got), 1);
	assert_int_equal(got, len);
	assert_int_equal(back[0], 39);
	assert_int_equal(back[len - 1], 39);
	free(back);
	sd_store_close(s);
	free(val);
	if (statfs(tmp, &fs) == 0 && fs.f_type == TMPFS_MAGIC)
		skip(); /* tmpfs: its pages are the file, there is no cache to hand back */
	if (written < 50)
		skip(); /* a file system whose writes bypass the page cache: nothing to measure */
	assert_true(values < 10);
	assert_true(last < 10);
}

/* Reads key of the chunks database and checks it holds len bytes of `fill`. */
static void expect_chunk(sd_store_t *s, const char *key, size_t len, int fill)
{
	uint8_t *back = NULL;
	size_t got = 0;

	assert_int_equal(get(s, SD_STORE_DB_CHUNKS, key, &back, &got), 1);
	assert_int_equal(got, len);
	for (size_t i = 0; i < len; i++)
		if (back[i] != fill)
			fail_msg("%s: byte %zu is %d, not %d", key, i, back[i], fill);
	free(back);
}

/* Large chunks (written with MDB_RESERVE, their pages handed back) behave as any value: a
 * second write without overwrite is refused and gives the first back; an overwrite, in
 * its own batch or twice in one request, keeps the last; a request that fails after a
 * large write leaves nothing, and the pages it would have used serve the next; all of it
 * after the store is opened again. */
static void test_large_values_as_any(void **state)
{
	size_t len = 300u << 10;
	uint8_t *a = malloc(len), *b = malloc(len);
	const uint8_t *v;
	size_t vlen;
	sd_store_t *s = open_store(NULL);
	sd_store_req_t *req = sd_store_req_new();

	(void)state;
	memset(a, 'a', len);
	memset(b, 'b', len);
	assert_int_equal(put(s, SD_STORE_DB_CHUNKS, "x", a, len, 0), 0);
	assert_int_equal(sd_store_req_put(req, SD_STORE_DB_CHUNKS, K("x"), b, len, SD_STORE_NOOVERWRITE), 0);
	assert_int_equal(sd_store_call(s, req), SD_ERR_EXISTS);
	assert_int_equal(sd_store_req_value(req, 0, &v, &vlen), 0);
	assert_int_equal(vlen, len);
	assert_true(v[0] == 'a' && v[len - 1] == 'a');
	sd_store_req_reset(req);
	assert_int_equal(put(s, SD_STORE_DB_CHUNKS, "y", a, len, 0), 0);
	assert_int_equal(put(s, SD_STORE_DB_CHUNKS, "y", b, len, 0), 0); /* over pages on disk */
	assert_int_equal(sd_store_req_put(req, SD_STORE_DB_CHUNKS, K("z"), a, len, 0), 0);
	assert_true(sd_store_req_put(req, SD_STORE_DB_CHUNKS, K("z"), b, len, 0) >= 0); /* over its own */
	assert_int_equal(sd_store_call(s, req), 0);
	sd_store_req_reset(req);
	assert_int_equal(sd_store_req_put(req, SD_STORE_DB_CHUNKS, K("gone"), a, len, 0), 0);
	assert_true(sd_store_req_check_absent(req, SD_STORE_DB_CHUNKS, K("x")) >= 0);
	assert_int_equal(sd_store_call(s, req), SD_ERR_EXISTS);
	assert_int_equal(put(s, SD_STORE_DB_CHUNKS, "next", b, len, 0), 0);
	sd_store_close(s);
	s = open_store(NULL);
	expect_chunk(s, "x", len, 'a');
	expect_chunk(s, "y", len, 'b');
	expect_chunk(s, "z", len, 'b');
	expect_chunk(s, "next", len, 'b');
	uint8_t *none = NULL;
	size_t got = 0;
	assert_int_equal(get(s, SD_STORE_DB_CHUNKS, "gone", &none, &got), 0);
	sd_store_req_free(req);
	sd_store_close(s);
	free(a);
	free(b);
}

/* Writes a named database "name" holding key = value into a plain LMDB environment in
 * tmp/store, as another program would. */
static void lmdb_write(const char *name, const char *key, const char *value)
{
	char path[128];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {strlen(key), (void *)(uintptr_t)key}, v = {strlen(value), (void *)(uintptr_t)value};

	snprintf(path, sizeof(path), "%s/store", tmp);
	mkdir(path, 0700);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 64), 0);
	assert_int_equal(mdb_env_open(env, path, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, name, name != NULL ? MDB_CREATE : 0, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void expect_open_error(int err, const char *words)
{
	sd_store_t *s = NULL;
	int r = sd_store_open(tmp, NULL, &s);

	if (r != err)
		fail_msg("sd_store_open: %d (%s), expected %d", r, sd_error_detail(), err);
	assert_null(s);
	if (strstr(sd_error_detail(), words) == NULL)
		fail_msg("'%s' does not say '%s'", sd_error_detail(), words);
}

/* A new store carries the marker; one of ours without it gets it; a newer one, a
 * foreign environment, a damaged marker are refused. */
static void test_format_marker(void **state)
{
	sd_store_t *s = open_store(NULL);

	(void)state;
	assert_value(s, SD_STORE_DB_META, SD_STORE_FORMAT_KEY, "sealdrop-store 1");
	sd_store_req_t *req = sd_store_req_new();
	assert_int_equal(sd_store_req_del(req, SD_STORE_DB_META, K(SD_STORE_FORMAT_KEY)), 0);
	assert_int_equal(sd_store_call(s, req), 0);
	sd_store_req_free(req);
	assert_int_equal(put(s, SD_STORE_DB_CASES, "2026-000001", K("a case"), 0), 0);
	sd_store_close(s);
	s = open_store(NULL); /* ours, written before the marker: marked now */
	assert_value(s, SD_STORE_DB_META, SD_STORE_FORMAT_KEY, "sealdrop-store 1");
	assert_value(s, SD_STORE_DB_CASES, "2026-000001", "a case");
	assert_int_equal(put(s, SD_STORE_DB_META, SD_STORE_FORMAT_KEY, K("sealdrop-store 2"), 0), 0);
	sd_store_close(s);
	expect_open_error(SD_ERR_VERSION, "format 2, and this sealdropd reads format 1");
	lmdb_write("meta", SD_STORE_FORMAT_KEY, "sealdrop-store x");
	expect_open_error(SD_ERR_FORMAT, "damaged format marker");
	lmdb_write("meta", SD_STORE_FORMAT_KEY, "someone-else 1");
	expect_open_error(SD_ERR_CONFIG, "is not a sealdropd store");
	lmdb_write("meta", SD_STORE_FORMAT_KEY, "sealdrop-store 1");
	s = open_store(NULL);
	sd_store_close(s);
	lmdb_write("ldap_entries", "k", "v"); /* and a database that is not ours */
	expect_open_error(SD_ERR_CONFIG, "does not use: ldap_entries");
}

static void test_foreign_env(void **state)
{
	(void)state;
	lmdb_write(NULL, "plain", "key in the main database");
	expect_open_error(SD_ERR_CONFIG, "is not a sealdropd store");
	unit_rm_tree(tmp);
	assert_int_equal(mkdir(tmp, 0700), 0);
	lmdb_write("users", "alice", "1");
	expect_open_error(SD_ERR_CONFIG, "does not use: users");
}

/* data.mdb replaced: garbage, cut short, empty. Refused with SD_ERR_FORMAT, no crash. */
static void test_damaged_file(void **state)
{
	char path[128];
	sd_store_t *s = open_store(NULL);
	uint8_t *val = calloc(1, 256u << 10);
	FILE *f;

	(void)state;
	assert_int_equal(put(s, SD_STORE_DB_CHUNKS, "c", val, 256u << 10, 0), 0);
	sd_store_close(s);
	snprintf(path, sizeof(path), "%s/store/data.mdb", tmp);
	assert_int_equal(truncate(path, 64u << 10), 0);
	expect_open_error(SD_ERR_FORMAT, "is truncated");
	assert_int_equal(truncate(path, 5000), 0); /* both meta pages still there */
	expect_open_error(SD_ERR_FORMAT, "is truncated");
	assert_int_equal(truncate(path, 3000), 0); /* the second one cut off */
	expect_open_error(SD_ERR_FORMAT, "is not a readable LMDB store");
	assert_int_equal(truncate(path, 0), 0);
	expect_open_error(SD_ERR_FORMAT, "is empty");
	assert_non_null(f = fopen(path, "wb"));
	for (size_t i = 0; i < 256u << 10; i++)
		val[i] = (uint8_t)(i * 131 + 7);
	assert_int_equal(fwrite(val, 1, 64u << 10, f), 64u << 10);
	assert_int_equal(fclose(f), 0);
	expect_open_error(SD_ERR_FORMAT, "is not a readable LMDB store");
	free(val);
}

#define T(f) cmocka_unit_test_setup_teardown(f, dir_setup, dir_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_db_names),
	        T(test_put_get_del),
	        T(test_nooverwrite),
	        T(test_conflict_in_batch),
	        T(test_check_absent),
	        T(test_check_equal),
	        T(test_atomicity),
	        T(test_scan),
	        T(test_scan_keys),
	        T(test_del_prefix),
	        T(test_check_count),
	        T(test_key_limits),
	        T(test_queue_full_and_double_submit),
	        T(test_second_open_refused),
	        T(test_call_on_store_thread),
	        T(test_map_full),
	        T(test_map_fills_mid_batch),
	        T(test_close_drains),
	        T(test_reopen),
	        T(test_group_commit),
	        T(test_rate),
	        cmocka_unit_test(test_map_next),
	        T(test_map_grows),
	        T(test_map_pages_given_back),
	        T(test_written_cache_handed_back),
	        T(test_large_values_as_any),
	        T(test_format_marker),
	        T(test_foreign_env),
	        T(test_damaged_file),
	};
	return cmocka_run_group_tests(tests, unit_setup, NULL);
}
