/*
 * histogram.c — the store's commit histograms and their day-at-a-time publication
 * (include/sealdrop/histogram.h says why a day at a time). Start at
 * sd_commit_daily_observe: the store's reply thread calls it once per durable commit;
 * sd_commit_daily_roll moves a finished day into the published histograms.
 */
#include <stdint.h>
#include <string.h>

#include "sealdrop/histogram.h"

const uint64_t sd_hist_batch_bounds[SD_HIST_BATCH_BOUNDS] = {1, 2, 4, 8, 16, 32, 64, 128};
const uint64_t sd_hist_latency_bounds_ns[SD_HIST_LATENCY_BOUNDS] = {
        500000, 1000000, 2500000, 5000000, 10000000, 25000000, 50000000, 100000000, 250000000, 500000000, 1000000000,
};

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

void sd_hist_observe(sd_hist_t *h, const uint64_t *bounds, size_t n_bounds, uint64_t value)
{
	size_t i = 0;

	if (n_bounds >= SD_HIST_BUCKETS_MAX)
		return;
	while (i < n_bounds && value > bounds[i])
		i++;
	h->bucket[i] = sat_add(h->bucket[i], 1);
	h->sum = sat_add(h->sum, value);
}

void sd_hist_add(sd_hist_t *to, const sd_hist_t *from, size_t n_buckets)
{
	for (size_t i = 0; i < n_buckets && i < SD_HIST_BUCKETS_MAX; i++)
		to->bucket[i] = sat_add(to->bucket[i], from->bucket[i]);
	to->sum = sat_add(to->sum, from->sum);
}

uint64_t sd_hist_cumulative(const sd_hist_t *h, size_t i)
{
	uint64_t n = 0;

	for (size_t j = 0; j <= i && j < SD_HIST_BUCKETS_MAX; j++)
		n = sat_add(n, h->bucket[j]);
	return n;
}

uint64_t sd_hist_count(const sd_hist_t *h, size_t n_buckets)
{
	return n_buckets == 0 ? 0 : sd_hist_cumulative(h, n_buckets - 1);
}

void sd_commit_hist_observe(sd_commit_hist_t *h, uint64_t requests, uint64_t latency_ns)
{
	sd_hist_observe(&h->batch, sd_hist_batch_bounds, SD_HIST_BATCH_BOUNDS, requests);
	sd_hist_observe(&h->latency, sd_hist_latency_bounds_ns, SD_HIST_LATENCY_BOUNDS, latency_ns);
}

bool sd_commit_daily_roll(sd_commit_daily_t *d, sd_date_t today)
{
	if (!d->has_day) {
		d->has_day = true;
		d->day = today;
		return false;
	}
	if (sd_date_cmp(today, d->day) <= 0)
		return false;
	sd_hist_add(&d->published.batch, &d->today.batch, SD_HIST_BATCH_BUCKETS);
	sd_hist_add(&d->published.latency, &d->today.latency, SD_HIST_LATENCY_BUCKETS);
	memset(&d->today, 0, sizeof(d->today));
	d->day = today;
	return true;
}

void sd_commit_daily_observe(sd_commit_daily_t *d, sd_date_t today, uint64_t requests, uint64_t latency_ns)
{
	(void)sd_commit_daily_roll(d, today);
	sd_commit_hist_observe(&d->today, requests, latency_ns);
}
