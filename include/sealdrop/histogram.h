/*
 * histogram.h — the store's commit histograms (server/histogram.c): how many requests each
 * durable commit carried, and how long the batch took from its first request being taken
 * to its commit being durable, as Prometheus histograms (GET /v1/metrics).
 *
 * Commits carry whistleblower writes (a consent, an objection), so a histogram that moved
 * as they happen would time them. sd_commit_daily_t holds today's observations apart and
 * adds them to the published histograms only once the day (KST, the store's calendar) is
 * over: what is shown covers every day before the last one seen, never today
 * (docs/DECISIONS.md, "Commit histograms are published a day at a time").
 *
 * Buckets are kept per bucket (not cumulative); sd_hist_cumulative gives the exposition's
 * cumulative counts. A histogram's count is the sum of its buckets, so _count and the
 * +Inf bucket cannot disagree. Plain data: the caller does the locking.
 */
#ifndef SEALDROP_HISTOGRAM_H
#define SEALDROP_HISTOGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sealdrop/date.h"

#define SD_HIST_BUCKETS_MAX     16
#define SD_HIST_BATCH_BOUNDS    8  /* 1 2 4 8 16 32 64 128, then +Inf */
#define SD_HIST_LATENCY_BOUNDS  11 /* 0.0005 .. 1 s, then +Inf */
#define SD_HIST_BATCH_BUCKETS   (SD_HIST_BATCH_BOUNDS + 1)
#define SD_HIST_LATENCY_BUCKETS (SD_HIST_LATENCY_BOUNDS + 1)

/* The upper bounds (le) of the finite buckets: requests, and nanoseconds. */
extern const uint64_t sd_hist_batch_bounds[SD_HIST_BATCH_BOUNDS];
extern const uint64_t sd_hist_latency_bounds_ns[SD_HIST_LATENCY_BOUNDS];

typedef struct {
	uint64_t bucket[SD_HIST_BUCKETS_MAX]; /* observations per bucket; [n_bounds] is +Inf */
	uint64_t sum;                         /* of the values, in the histogram's unit */
} sd_hist_t;

/* Counts value into the bucket whose bound is the first >= value (else +Inf). */
void sd_hist_observe(sd_hist_t *h, const uint64_t *bounds, size_t n_bounds, uint64_t value);
/* to += from, bucket by bucket (saturating: a counter never wraps). */
void sd_hist_add(sd_hist_t *to, const sd_hist_t *from, size_t n_buckets);
/* The number of observations: the sum of the n_buckets buckets (saturating). */
uint64_t sd_hist_count(const sd_hist_t *h, size_t n_buckets);
/* The cumulative count of bucket i (buckets 0..i), as the exposition's le="..." shows it. */
uint64_t sd_hist_cumulative(const sd_hist_t *h, size_t i);

/* Both histograms of the commits. */
typedef struct {
	sd_hist_t batch;   /* requests per commit; sum in requests */
	sd_hist_t latency; /* seconds per commit; sum in nanoseconds */
} sd_commit_hist_t;

void sd_commit_hist_observe(sd_commit_hist_t *h, uint64_t requests, uint64_t latency_ns);

/* Today's observations, and the published sum of every day before. */
typedef struct {
	bool has_day;
	sd_date_t day;              /* the day `today` counts */
	sd_commit_hist_t today;     /* never shown */
	sd_commit_hist_t published; /* every day before `day` */
} sd_commit_daily_t;

/* A later date publishes today's observations and starts a new day; the same or an
 * earlier one (a clock set back) changes nothing. The first date seen starts the first
 * day. Returns true when a day ended (and was published, empty or not). */
bool sd_commit_daily_roll(sd_commit_daily_t *d, sd_date_t today);
/* Rolls to today, then counts one commit into today's histograms. */
void sd_commit_daily_observe(sd_commit_daily_t *d, sd_date_t today, uint64_t requests, uint64_t latency_ns);

#endif
