/*
 * metrics.h — what sealdropd counts for GET /v1/metrics (server/metrics.c), and how it
 * is shown: the Prometheus text exposition format 0.0.4.
 *
 * What is counted never names a person or a case: a route is its template from the
 * route table ("POST /v1/uploads/{id}/commit"), never the path a client sent; no account
 * name, fingerprint, case number, upload id or address is ever a label.
 *
 * The anonymous routes (public routes other than /v1/health: the whistleblower's
 * /v1/wb/..., and the log, directory and CRL routes a whistleblower's client calls) are
 * never counted per request as they happen: their requests and refusals are counted
 * per day of the server's calendar (sd_server_today, KST) and published only once that
 * day is over, so no series steps when a whistleblower acts (DESIGN.md, "Security
 * posture"; docs/DECISIONS.md). The values the store's writes move (its size, its
 * request counts) are read at the first scrape of a day and then held for the day, for
 * the same reason. The store's commit histograms (batch sizes and latencies) are kept
 * by the store itself a day at a time and published when the day is over
 * (include/sealdrop/histogram.h): the scrape shows every day before today.
 *
 * THREADS: every function here runs on the event loop thread only (the connection
 * module and the routes do), so the counters are plain integers owned by that thread;
 * the store's own counters are read with sd_store_stats, which any thread may call, and
 * its histograms on the server's worker thread (a round trip to the store process).
 * One set of counters per process (a process runs one server).
 */
#ifndef SEALDROP_METRICS_H
#define SEALDROP_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sealdrop/date.h"
#include "sealdrop/histogram.h"
#include "sealdrop/route.h"

#define SD_METRICS_CONTENT_TYPE "text/plain; version=0.0.4"
#define SD_METRICS_SERIES_MAX   256 /* (route, status) pairs counted; beyond: route="overflow" */

/* Why a limit refused a request or a connection (the "reason" label). */
typedef enum {
	SD_LIMIT_NONE = 0,
	SD_LIMIT_HEADER_TOO_LARGE, /* 431 */
	SD_LIMIT_BODY_TOO_LARGE,   /* 413 */
	SD_LIMIT_BODY_BUDGET,      /* 503: the body budget (body_budget_bytes) was full */
	SD_LIMIT_RATE,             /* 503 with Retry-After: the whistleblower routes' rate */
	SD_LIMIT_SESSION,          /* 403 session_refused: proof of work, challenge or session */
	SD_LIMIT_CONNECTIONS_FULL, /* a connection refused: max_connections and none evictable */
	SD_LIMIT_EVICTED,          /* a connection closed to make room for a newcomer */
	SD_LIMIT_TIMEOUT,          /* 408: header_timeout, request_timeout, min_body_rate */
	SD_LIMIT_HANDSHAKE,        /* a TLS handshake that did not finish in header_timeout */
	SD_LIMIT_PER_CERT,         /* 429 too_many_connections: max_connections_per_cert */
	SD_LIMIT_UPLOADS,          /* 429 too_many_uploads: max_uploads_per_account */
	SD_LIMIT_COUNT
} sd_limit_t;

/* "header_too_large" ...; NULL for SD_LIMIT_NONE or out of range. */
const char *sd_limit_name(sd_limit_t limit);

/* One answer, as the connection saw it when it was written. */
typedef struct {
	const sd_route_t *route; /* the row it matched, or NULL (404, 405, a framing error) */
	const char *path;        /* the path sent ("" when none was read); only its prefix is looked at */
	int status;
	const char *code;    /* the error word of an error answer ("busy"), or NULL */
	sd_limit_t limit;    /* the limit the connection knows refused it, or SD_LIMIT_NONE */
	bool retry_after;    /* the answer carries Retry-After */
	uint64_t body_bytes; /* the request body's length */
} sd_metrics_reply_t;

/* Whether an answer belongs to the anonymous aggregate (above): a public route other
 * than /v1/health, or any path under /v1/wb/. */
bool sd_metrics_is_anonymous(const sd_route_t *route, const char *path);

/* The limit an answer reports: m->limit, else what its status and error word say. */
sd_limit_t sd_metrics_limit_of(const sd_metrics_reply_t *m);

/* Counts one answer; today is the server's (sd_server_today). */
void sd_metrics_count_reply(const sd_metrics_reply_t *m, sd_date_t today);
/* Counts a connection a limit refused or closed without an answer. */
void sd_metrics_count_refusal(sd_limit_t limit);

/* What the exposition shows besides the counters, gathered by the route. */
typedef struct {
	sd_date_t today;
	uint64_t connections_open, connections_max;
	bool draining;
	bool has_store; /* store_requests, store_failed and store_bytes are known */
	uint64_t store_requests, store_failed, store_bytes;
	bool has_commit_hist; /* commit_hist is known: the store's published histograms */
	sd_commit_hist_t commit_hist;
} sd_metrics_gauges_t;

/* The exposition, NUL-terminated, in *out (free it): 0, or SD_ERR_NOMEM. Takes today
 * into account first: the anonymous counts of days before it are published, and the
 * store's values latched once a day. */
int sd_metrics_render(const sd_metrics_gauges_t *g, char **out, size_t *len) SD_WUR;

/* A label value escaped for the exposition (\\, \", \n) into out (cap bytes, NUL
 * included): the length written, or SD_ERR_TOOBIG when it does not fit. */
int sd_metrics_escape_label(const char *in, char *out, size_t cap) SD_WUR;

/* Forgets every count (tests). */
void sd_metrics_reset(void);

/* GET /v1/metrics (operator only: server/routes.c). */
void sd_route_metrics(sd_request_t *r);

#endif
