/*
 * store_stats.h — the store's statistics with its commit histograms, from whichever
 * process holds the store (server/store.c, server/store_remote.c). Private to the server:
 * GET /v1/metrics (server/metrics.c) and the store process (server/storeproc.c) use it.
 *
 * sd_store_stats (include/sealdrop/store.h) never waits, so for a store process's store it
 * knows only the front end's request counts; sd_store_stats_fetch asks the store process
 * (a STATS control request, include/sealdrop/storewire.h) and waits for its answer.
 */
#ifndef SEALDROP_SERVER_STORE_STATS_H
#define SEALDROP_SERVER_STORE_STATS_H

#include "sealdrop/date.h"
#include "sealdrop/error.h"
#include "sealdrop/store.h"

/* The counters and the published commit histograms (out->has_hist), rolling the store's
 * day to `today` first when that is later than the store's own date (a test clock: the
 * front end's calendar is the server's; see sd_commit_daily_roll). For a local store
 * (sd_store_open): at once. For a store process's: a round trip answered in order with
 * the data requests, so it blocks for up to a batch — never on the event loop or a done
 * callback; out->requests and out->failed are then the front end's, the rest the store
 * process's. SD_ERR_UNAVAILABLE when the store process is gone. */
int sd_store_stats_fetch(sd_store_t *store, sd_date_t today, sd_store_stats_t *out) SD_WUR;

struct store_remote;
int store_remote_stats_call(struct store_remote *rs, sd_date_t today, sd_store_stats_t *out);

#endif
