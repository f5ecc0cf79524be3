/*
 * test_histogram.c — the store's commit histograms (server/histogram.c), their day-at-a-time
 * publication, their exposition (server/metrics.c) and the in-process store's
 * (server/store.c, sd_store_stats_fetch).
 *
 * Buckets: each value lands in the first bucket whose bound is at least it, the bound
 * itself included, beyond the last in +Inf; cumulative counts never fall and end at the
 * count; counts saturate instead of wrapping. The day: nothing is published on the day it
 * is observed, nor when the clock goes back; a later day publishes every day before it at
 * once. The exposition: HELP and TYPE histogram, cumulative le buckets in order, +Inf equal
 * to _count, seconds for the latency. A real store: today's commits are not shown, the
 * next day's scrape shows them (as many commits as the store counted, each batch timed),
 * and a write made on that next day waits for the day after.
 */
#include <time.h>

#include "unit.h"
#include "sealdrop/histogram.h"
#include "sealdrop/metrics.h"
#include "sealdrop/store.h"
#include "../../server/store_stats.h"

#define K(s) (const uint8_t *)(s), strlen(s)

static char tmp[64];

static int dir_setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/sd-histogram-XXXXXX");
	return mkdtemp(tmp) != NULL ? 0 : -1;
}

static int dir_teardown(void **state)
{
	(void)state;
	return unit_rm_tree(tmp);
}

static void test_buckets(void **state)
{
	sd_hist_t h = {0};
	const uint64_t sizes[] = {1, 2, 3, 4, 128, 129, 5000};

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		sd_hist_observe(&h, sd_hist_batch_bounds, SD_HIST_BATCH_BOUNDS, sizes[i]);
	assert_int_equal(h.bucket[0], 1); /* le 1 */
	assert_int_equal(h.bucket[1], 1); /* le 2 */
	assert_int_equal(h.bucket[2], 2); /* le 4: 3 and 4 */
	assert_int_equal(h.bucket[7], 1); /* le 128 */
	assert_int_equal(h.bucket[8], 2); /* +Inf */
	assert_int_equal(h.sum, 1 + 2 + 3 + 4 + 128 + 129 + 5000);
	assert_int_equal(sd_hist_count(&h, SD_HIST_BATCH_BUCKETS), 7);
	for (size_t i = 1; i < SD_HIST_BATCH_BUCKETS; i++)
		assert_true(sd_hist_cumulative(&h, i) >= sd_hist_cumulative(&h, i - 1));
	assert_int_equal(sd_hist_cumulative(&h, SD_HIST_BATCH_BOUNDS), 7);
	assert_int_equal(sd_hist_cumulative(&h, 2), 4);
}

static void test_latency_bounds(void **state)
{
	sd_hist_t h = {0};

	(void)state;
	sd_hist_observe(&h, sd_hist_latency_bounds_ns, SD_HIST_LATENCY_BOUNDS, 0);
	sd_hist_observe(&h, sd_hist_latency_bounds_ns, SD_HIST_LATENCY_BOUNDS, 500000);     /* 0.0005 s */
	sd_hist_observe(&h, sd_hist_latency_bounds_ns, SD_HIST_LATENCY_BOUNDS, 500001);     /* le 0.001 */
	sd_hist_observe(&h, sd_hist_latency_bounds_ns, SD_HIST_LATENCY_BOUNDS, 1000000000); /* le 1 */
	sd_hist_observe(&h, sd_hist_latency_bounds_ns, SD_HIST_LATENCY_BOUNDS, 1000000001); /* +Inf */
	assert_int_equal(h.bucket[0], 2);
	assert_int_equal(h.bucket[1], 1);
	assert_int_equal(h.bucket[10], 1);
	assert_int_equal(h.bucket[11], 1);
	assert_int_equal(sd_hist_count(&h, SD_HIST_LATENCY_BUCKETS), 5);
}

static void test_saturates(void **state)
{
	sd_hist_t a = {0}, b = {0};

	(void)state;
	a.bucket[0] = UINT64_MAX - 1;
	a.sum = UINT64_MAX - 1;
	b.bucket[0] = 5;
	b.bucket[1] = 1;
	b.sum = 5;
	sd_hist_add(&a, &b, SD_HIST_BATCH_BUCKETS);
	assert_true(a.bucket[0] == UINT64_MAX);
	assert_true(a.sum == UINT64_MAX);
	assert_true(sd_hist_count(&a, SD_HIST_BATCH_BUCKETS) == UINT64_MAX);
	sd_hist_observe(&a, sd_hist_batch_bounds, SD_HIST_BATCH_BOUNDS, 1);
	assert_true(a.bucket[0] == UINT64_MAX);
}

static void test_day_rollover(void **state)
{
	sd_commit_daily_t d = {0};
	sd_date_t day1 = {2026, 3, 12}, day2 = {2026, 3, 13}, day5 = {2026, 3, 16};

	(void)state;
	sd_commit_daily_observe(&d, day1, 3, 2000000);
	sd_commit_daily_observe(&d, day1, 1, 1000);
	assert_false(sd_commit_daily_roll(&d, day1));
	assert_int_equal(sd_hist_count(&d.published.batch, SD_HIST_BATCH_BUCKETS), 0);
	assert_int_equal(sd_hist_count(&d.today.batch, SD_HIST_BATCH_BUCKETS), 2);
	/* The next day publishes the first, whole. */
	assert_true(sd_commit_daily_roll(&d, day2));
	assert_int_equal(sd_hist_count(&d.published.batch, SD_HIST_BATCH_BUCKETS), 2);
	assert_int_equal(sd_hist_count(&d.published.latency, SD_HIST_LATENCY_BUCKETS), 2);
	assert_int_equal(d.published.batch.sum, 4);
	assert_int_equal(d.published.latency.sum, 2001000);
	assert_int_equal(sd_hist_count(&d.today.batch, SD_HIST_BATCH_BUCKETS), 0);
	/* Day 2's commit, and one under a clock set back, wait for a later day. */
	sd_commit_daily_observe(&d, day2, 7, 3000000);
	sd_commit_daily_observe(&d, day1, 2, 3000000);
	assert_false(sd_commit_daily_roll(&d, day1));
	assert_false(sd_commit_daily_roll(&d, day2));
	assert_int_equal(sd_hist_count(&d.published.batch, SD_HIST_BATCH_BUCKETS), 2);
	assert_int_equal(d.published.batch.sum, 4);
	assert_int_equal(sd_date_cmp(d.day, day2), 0);
	/* Days later: published at once, nothing lost. */
	assert_true(sd_commit_daily_roll(&d, day5));
	assert_int_equal(sd_hist_count(&d.published.batch, SD_HIST_BATCH_BUCKETS), 4);
	assert_int_equal(d.published.batch.sum, 13);
	assert_false(sd_commit_daily_roll(&d, day5));
}

static void test_first_day_starts(void **state)
{
	sd_commit_daily_t d = {0};
	sd_date_t day1 = {2026, 3, 12};

	(void)state;
	assert_false(sd_commit_daily_roll(&d, day1)); /* the first date seen starts a day */
	assert_true(d.has_day);
	assert_int_equal(sd_date_cmp(d.day, day1), 0);
	assert_true(sd_commit_daily_roll(&d, sd_date_add_days(day1, 1))); /* an empty day: published as nothing */
	assert_int_equal(sd_hist_count(&d.published.batch, SD_HIST_BATCH_BUCKETS), 0);
	assert_int_equal(sd_hist_count(&d.published.latency, SD_HIST_LATENCY_BUCKETS), 0);
	assert_int_equal(d.published.batch.sum, 0);
}

/* The value of an exposition's sample line "name value", or -1. */
static double sample(const char *text, const char *name)
{
	char key[256];
	const char *p;

	snprintf(key, sizeof(key), "\n%s ", name);
	if ((p = strstr(text, key)) == NULL)
		return -1;
	return strtod(p + strlen(key), NULL);
}

static void test_exposition(void **state)
{
	sd_metrics_gauges_t g = {.today = {2026, 3, 13}, .has_commit_hist = true};
	char *text = NULL;
	size_t len = 0;

	(void)state;
	sd_metrics_reset();
	sd_commit_hist_observe(&g.commit_hist, 1, 400000);
	sd_commit_hist_observe(&g.commit_hist, 3, 1500000);
	sd_commit_hist_observe(&g.commit_hist, 200, 2000000000);
	assert_int_equal(sd_metrics_render(&g, &text, &len), 0);
	assert_non_null(strstr(text, "# HELP sealdrop_store_commit_batch_size "));
	assert_non_null(strstr(text, "# TYPE sealdrop_store_commit_batch_size histogram\n"));
	assert_non_null(strstr(text, "# TYPE sealdrop_store_commit_seconds histogram\n"));
	assert_non_null(strstr(text, "over"));
	assert_true(sample(text, "sealdrop_store_commit_batch_size_bucket{le=\"1\"}") == 1);
	assert_true(sample(text, "sealdrop_store_commit_batch_size_bucket{le=\"2\"}") == 1);
	assert_true(sample(text, "sealdrop_store_commit_batch_size_bucket{le=\"4\"}") == 2);
	assert_true(sample(text, "sealdrop_store_commit_batch_size_bucket{le=\"128\"}") == 2);
	assert_true(sample(text, "sealdrop_store_commit_batch_size_bucket{le=\"+Inf\"}") == 3);
	assert_true(sample(text, "sealdrop_store_commit_batch_size_count") == 3);
	assert_true(sample(text, "sealdrop_store_commit_batch_size_sum") == 204);
	assert_true(sample(text, "sealdrop_store_commit_seconds_bucket{le=\"0.0005\"}") == 1);
	assert_true(sample(text, "sealdrop_store_commit_seconds_bucket{le=\"0.001\"}") == 1);
	assert_true(sample(text, "sealdrop_store_commit_seconds_bucket{le=\"0.0025\"}") == 2);
	assert_true(sample(text, "sealdrop_store_commit_seconds_bucket{le=\"1\"}") == 2);
	assert_true(sample(text, "sealdrop_store_commit_seconds_bucket{le=\"+Inf\"}") == 3);
	assert_true(sample(text, "sealdrop_store_commit_seconds_count") == 3);
	assert_non_null(strstr(text, "\nsealdrop_store_commit_seconds_sum 2.001900000\n"));
	/* The buckets in order of their bounds. */
	assert_true(strstr(text, "_batch_size_bucket{le=\"64\"}") < strstr(text, "_batch_size_bucket{le=\"128\"}"));
	assert_true(strstr(text, "_seconds_bucket{le=\"0.5\"}") < strstr(text, "_seconds_bucket{le=\"1\"}"));
	free(text);
	g.has_commit_hist = false;
	assert_int_equal(sd_metrics_render(&g, &text, &len), 0);
	assert_null(strstr(text, "sealdrop_store_commit"));
	free(text);
}

static int put_one(sd_store_t *s, const char *key)
{
	sd_store_req_t *req = sd_store_req_new();
	int r;

	assert_non_null(req);
	assert_int_equal(sd_store_req_put(req, SD_STORE_DB_META, K(key), K("v"), 0), 0);
	r = sd_store_call(s, req);
	sd_store_req_free(req);
	return r;
}

static void test_local_store(void **state)
{
	sd_store_t *s = NULL;
	sd_store_stats_t st;
	sd_date_t today = sd_date_today(), next = sd_date_add_days(today, 1);
	char key[32];

	(void)state;
	assert_int_equal(sd_store_open(tmp, NULL, &s), 0);
	for (int i = 0; i < 5; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(put_one(s, key), 0);
	}
	/* Today: nothing shown. */
	assert_int_equal(sd_store_stats_fetch(s, today, &st), 0);
	assert_true(st.has_hist);
	assert_true(st.commits >= 5); /* one commit per call: each waits for its answer */
	assert_int_equal(sd_hist_count(&st.hist.batch, SD_HIST_BATCH_BUCKETS), 0);
	sd_store_stats(s, &st);
	assert_int_equal(sd_hist_count(&st.hist.batch, SD_HIST_BATCH_BUCKETS), 0);
	/* The next day (a test clock ahead of the store's): every commit of today. */
	assert_int_equal(sd_store_stats_fetch(s, next, &st), 0);
	assert_int_equal(sd_hist_count(&st.hist.batch, SD_HIST_BATCH_BUCKETS), st.commits);
	assert_int_equal(sd_hist_count(&st.hist.latency, SD_HIST_LATENCY_BUCKETS), st.commits);
	assert_true(st.hist.batch.sum >= 5);
	assert_true(st.hist.latency.sum > 0);
	assert_int_equal(sd_date_cmp(st.hist_day, next), 0);
	uint64_t shown = st.commits;
	/* A write on the next day waits for the day after. */
	assert_int_equal(put_one(s, "later"), 0);
	assert_int_equal(sd_store_stats_fetch(s, next, &st), 0);
	assert_int_equal(sd_hist_count(&st.hist.batch, SD_HIST_BATCH_BUCKETS), shown);
	assert_int_equal(sd_store_stats_fetch(s, today, &st), 0); /* a clock set back changes nothing */
	assert_int_equal(sd_hist_count(&st.hist.batch, SD_HIST_BATCH_BUCKETS), shown);
	assert_int_equal(sd_store_stats_fetch(s, sd_date_add_days(today, 2), &st), 0);
	assert_int_equal(sd_hist_count(&st.hist.batch, SD_HIST_BATCH_BUCKETS), shown + 1);
	assert_int_equal(st.commits, shown + 1);
	sd_store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_buckets),
	        cmocka_unit_test(test_latency_bounds),
	        cmocka_unit_test(test_saturates),
	        cmocka_unit_test(test_day_rollover),
	        cmocka_unit_test(test_first_day_starts),
	        cmocka_unit_test(test_exposition),
	        cmocka_unit_test_setup_teardown(test_local_store, dir_setup, dir_teardown),
	};

	return cmocka_run_group_tests(tests, unit_setup, NULL);
}
