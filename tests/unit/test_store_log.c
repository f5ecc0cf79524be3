/*
 * test_store_log.c — the store's LOG-APPEND operation (server/store_log.c) and the
 * server's tree reading on top of it (server/auditlog.c: sd_auditlog_req_ranges /
 * sd_auditlog_fold_ranges): indexes in order, the stored nodes give the same roots and
 * proofs as a tree recomputed from the leaves, an append rolls back with the request it
 * belongs to (an event never exists without its leaf, nor a leaf without its event),
 * case_events indexes a case's leaves, and the log survives a reopen.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include "unit.h"
#include "sealdrop/auditlog.h"
#include "sealdrop/bytes.h"
#include "sealdrop/merkle.h"
#include "sealdrop/store.h"

#define N_LEAVES 70 /* several levels, with incomplete right edges */

static char tmp[64];

static int dir_setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/sd-storelog-XXXXXX");
	return mkdtemp(tmp) != NULL ? 0 : -1;
}

static int dir_teardown(void **state)
{
	(void)state;
	return unit_rm_tree(tmp);
}

static sd_store_t *open_store(void)
{
	sd_store_t *s = NULL;

	assert_int_equal(sd_store_open(tmp, NULL, &s), 0);
	return s;
}

static size_t leaf_text(uint64_t i, char out[32])
{
	return (size_t)snprintf(out, 32, "leaf %llu", (unsigned long long)i);
}

/* Appends leaf i alone (with case key `cn` when not NULL); returns its index. */
static uint64_t append(sd_store_t *s, uint64_t i, const char *cn)
{
	sd_store_req_t *req = sd_store_req_new();
	char text[32];
	size_t len = leaf_text(i, text);
	uint64_t index = UINT64_MAX;
	int op = sd_store_req_log_append(req, (const uint8_t *)text, len, (const uint8_t *)cn, cn ? strlen(cn) : 0);

	assert_true(op >= 0);
	assert_int_equal(sd_store_call(s, req), 0);
	assert_int_equal(sd_store_req_log_index(req, (size_t)op, &index), 0);
	sd_store_req_free(req);
	return index;
}

/* The root of leaves [0, n) recomputed from the leaf texts. */
static void expected_root(uint64_t n, uint8_t out[SD_MERKLE_HASH_BYTES])
{
	sd_merkle_stream_t st;
	uint8_t h[SD_MERKLE_HASH_BYTES];
	char text[32];

	sd_merkle_stream_init(&st);
	for (uint64_t i = 0; i < n; i++) {
		size_t len = leaf_text(i, text);
		sd_merkle_leaf_hash((const uint8_t *)text, len, h);
		assert_int_equal(sd_merkle_stream_push(&st, h), 0);
	}
	sd_merkle_stream_root(&st, out);
}

/* The hashes of ranges as the server reads them from the stored nodes. */
static int read_ranges(sd_store_t *s, const sd_merkle_range_t *ranges, size_t n, uint8_t (*out)[SD_MERKLE_HASH_BYTES])
{
	sd_store_req_t *req = sd_store_req_new();
	int r;

	assert_true(sd_auditlog_req_ranges(req, ranges, n) >= 0);
	assert_int_equal(sd_store_call(s, req), 0);
	r = sd_auditlog_fold_ranges(req, 0, ranges, n, out);
	sd_store_req_free(req);
	return r;
}

static void test_append_and_proofs(void **state)
{
	sd_store_t *s = open_store();
	uint8_t root[SD_MERKLE_HASH_BYTES], got[1][SD_MERKLE_HASH_BYTES], leaf[SD_MERKLE_HASH_BYTES];
	uint8_t proof[SD_MERKLE_PROOF_MAX][SD_MERKLE_HASH_BYTES], older[SD_MERKLE_HASH_BYTES];
	sd_merkle_range_t ranges[SD_MERKLE_PROOF_MAX];
	char text[32];
	size_t n;

	(void)state;
	for (uint64_t i = 0; i < N_LEAVES; i++)
		assert_int_equal(append(s, i, NULL), i);
	for (uint64_t size = 1; size <= N_LEAVES; size++) {
		sd_merkle_range_t all = {0, size};
		expected_root(size, root);
		assert_int_equal(read_ranges(s, &all, 1, got), 0);
		assert_memory_equal(got[0], root, sizeof(root));
		for (uint64_t i = 0; i < size; i++) {
			assert_int_equal(sd_merkle_inclusion_plan(i, size, ranges, &n), 0);
			if (n > 0)
				assert_int_equal(read_ranges(s, ranges, n, proof), 0);
			sd_merkle_leaf_hash((const uint8_t *)text, leaf_text(i, text), leaf);
			assert_int_equal(sd_merkle_verify_inclusion(
			                         i, size, leaf, (const uint8_t(*)[SD_MERKLE_HASH_BYTES])proof, n, root),
			                 0);
		}
		for (uint64_t from = 1; from < size; from++) {
			expected_root(from, older);
			assert_int_equal(sd_merkle_consistency_plan(from, size, ranges, &n), 0);
			assert_int_equal(read_ranges(s, ranges, n, proof), 0);
			assert_int_equal(sd_merkle_verify_consistency(from, size, older, root,
			                                              (const uint8_t(*)[SD_MERKLE_HASH_BYTES])proof, n),
			                 0);
		}
	}
	sd_store_close(s);
}

/* A request that fails after its append leaves neither the event nor the leaf. */
static void test_append_rolls_back(void **state)
{
	sd_store_t *s = open_store();
	sd_store_req_t *req = sd_store_req_new();
	uint64_t size = 0;
	char *head = NULL;
	uint64_t index;

	(void)state;
	assert_int_equal(append(s, 0, NULL), 0);
	sd_store_req_put(req, SD_STORE_DB_CASES, (const uint8_t *)"2026-000001", 11, (const uint8_t *)"x", 1, 0);
	assert_true(sd_store_req_log_append(req, (const uint8_t *)"leaf 1", 6, (const uint8_t *)"2026-000001", 11) >=
	            0);
	sd_store_req_check_absent(req, SD_STORE_DB_CASES, (const uint8_t *)"2026-000001", 11); /* fails */
	assert_int_equal(sd_store_call(s, req), SD_ERR_EXISTS);
	assert_int_equal(sd_store_req_log_index(req, 1, &index), SD_ERR_USAGE);
	sd_store_req_free(req);
	assert_int_equal(sd_auditlog_read_state(s, &size, &head), 0);
	assert_int_equal(size, 1);
	assert_null(head);
	/* The next append takes index 1: nothing of the failed one remains. */
	assert_int_equal(append(s, 1, NULL), 1);
	req = sd_store_req_new();
	sd_store_req_get(req, SD_STORE_DB_CASES, (const uint8_t *)"2026-000001", 11);
	sd_store_req_scan_keys(req, SD_STORE_DB_CASE_EVENTS, (const uint8_t *)"2026-000001", 11, NULL, 0, 10);
	assert_int_equal(sd_store_call(s, req), 0);
	assert_false(sd_store_req_found(req, 0));
	assert_int_equal(sd_store_req_scan_count(req, 1, NULL), 0);
	sd_store_req_free(req);
	sd_store_close(s);
}

static void test_case_events_and_reopen(void **state)
{
	sd_store_t *s = open_store();
	sd_store_req_t *req;
	const uint8_t *k, *v;
	size_t klen, vlen;
	uint64_t size = 0;
	char *head = NULL;

	(void)state;
	assert_int_equal(append(s, 0, "2026-000001"), 0);
	assert_int_equal(append(s, 1, NULL), 1);
	assert_int_equal(append(s, 2, "2026-000002"), 2);
	assert_int_equal(append(s, 3, "2026-000001"), 3);
	sd_store_close(s);
	s = open_store();
	assert_int_equal(sd_auditlog_read_state(s, &size, &head), 0);
	assert_int_equal(size, 4);
	req = sd_store_req_new();
	sd_store_req_scan_keys(req, SD_STORE_DB_CASE_EVENTS, (const uint8_t *)"2026-000001", 11, NULL, 0, 10);
	assert_int_equal(sd_store_call(s, req), 0);
	assert_int_equal(sd_store_req_scan_count(req, 0, NULL), 2);
	assert_int_equal(sd_store_req_scan_entry(req, 0, 0, &k, &klen, &v, &vlen), 0);
	assert_int_equal(klen, 19);
	assert_int_equal(sd_load_be64(k + 11), 0);
	assert_int_equal(sd_store_req_scan_entry(req, 0, 1, &k, &klen, &v, &vlen), 0);
	assert_int_equal(sd_load_be64(k + 11), 3);
	sd_store_req_free(req);
	assert_int_equal(append(s, 4, NULL), 4);
	sd_store_close(s);
}

struct waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int left;
};

static void one_done(sd_store_req_t *req, void *ctx)
{
	struct waiter *w = ctx;

	(void)req;
	pthread_mutex_lock(&w->mu);
	w->left--;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* An append that fails after its request's other writes committed into the batch (here: a
 * damaged log, a leaf stored past its size) undoes that request entirely; the requests
 * batched with it are run again and succeed. */
static void test_failed_append_undoes_its_request(void **state)
{
	sd_store_t *s = open_store();
	struct waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 3};
	sd_store_req_t *reqs[3], *req = sd_store_req_new();
	uint8_t stray[8];
	const char *keys[3] = {"2026-000001", "2026-000002", "2026-000003"};

	(void)state;
	assert_int_equal(append(s, 0, NULL), 0);
	sd_store_be64(stray, 1000);
	sd_store_req_put(req, SD_STORE_DB_LOG_LEAVES, stray, sizeof(stray), (const uint8_t *)"x", 1, 0);
	assert_int_equal(sd_store_call(s, req), 0);
	sd_store_req_free(req);
	for (int i = 0; i < 3; i++) {
		reqs[i] = sd_store_req_new();
		sd_store_req_put(reqs[i], SD_STORE_DB_CASES, (const uint8_t *)keys[i], 11, (const uint8_t *)"c", 1, 0);
		if (i == 1)
			assert_true(sd_store_req_log_append(reqs[i], (const uint8_t *)"leaf 1", 6, NULL, 0) >= 0);
	}
	for (int i = 0; i < 3; i++)
		assert_int_equal(sd_store_submit(s, reqs[i], one_done, &w), 0);
	pthread_mutex_lock(&w.mu);
	while (w.left > 0)
		pthread_cond_wait(&w.cv, &w.mu);
	pthread_mutex_unlock(&w.mu);
	assert_int_equal(sd_store_req_status(reqs[0]), 0);
	assert_int_equal(sd_store_req_status(reqs[1]), SD_ERR_INTERNAL);
	assert_int_equal(sd_store_req_status(reqs[2]), 0);
	req = sd_store_req_new();
	for (int i = 0; i < 3; i++)
		sd_store_req_get(req, SD_STORE_DB_CASES, (const uint8_t *)keys[i], 11);
	assert_int_equal(sd_store_call(s, req), 0);
	assert_true(sd_store_req_found(req, 0));
	assert_false(sd_store_req_found(req, 1)); /* the event went with its leaf */
	assert_true(sd_store_req_found(req, 2));
	sd_store_req_free(req);
	for (int i = 0; i < 3; i++)
		sd_store_req_free(reqs[i]);
	sd_store_close(s);
}

static void test_append_limits(void **state)
{
	sd_store_req_t *req = sd_store_req_new();
	uint8_t big[SD_AUDIT_LEAF_MAX + 1] = {0};

	(void)state;
	assert_int_equal(sd_store_req_log_append(req, big, 0, NULL, 0), SD_ERR_USAGE);
	sd_store_req_reset(req);
	assert_int_equal(sd_store_req_log_append(req, big, sizeof(big), NULL, 0), SD_ERR_USAGE);
	sd_store_req_reset(req);
	assert_int_equal(sd_store_req_log_append(req, big, sizeof(big) - 1, NULL, 0), 0);
	sd_store_req_free(req);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_append_and_proofs, dir_setup, dir_teardown),
	        cmocka_unit_test_setup_teardown(test_append_rolls_back, dir_setup, dir_teardown),
	        cmocka_unit_test_setup_teardown(test_case_events_and_reopen, dir_setup, dir_teardown),
	        cmocka_unit_test_setup_teardown(test_failed_append_undoes_its_request, dir_setup, dir_teardown),
	        cmocka_unit_test(test_append_limits),
	};
	return cmocka_run_group_tests(tests, unit_setup, NULL);
}
