/*
 * metrics.c — sealdropd's counters and GET /v1/metrics (include/sealdrop/metrics.h has
 * what is counted, and why the anonymous routes are counted per day).
 *
 * Start at sd_metrics_count_reply: the connection module calls it for every answer it
 * writes (server/conn.c, sd_request_reply), so a route never counts for itself. It sorts
 * the answer into the live counters (a route that needs a certificate, /v1/health, no
 * route at all) or into today's anonymous counts (day_roll publishes the days that are
 * over). sd_metrics_render writes the exposition; sd_route_metrics gathers the gauges,
 * and asks the store for its commit histograms on the server's worker thread (a round
 * trip to the store process: server/store_stats.h), then answers on the loop.
 * Every count lives in one struct owned by the event loop thread: no locks, no atomics.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "server_int.h"
#include "sealdrop/metrics.h"
#include "sealdrop/store.h"
#include "store_stats.h"

#define WB_PREFIX       "/v1/wb/"
#define HEALTH_PATTERN  "/v1/health"
#define COMMIT_PATTERN  "/v1/uploads/{id}/commit"
#define CHUNK_PATTERN   "/v1/uploads/{id}/blobs/{k}/chunks/{n}"
#define STORE_DATA_FILE SD_STORE_SUBDIR "/data.mdb"
#define LABEL_MAX       256

typedef enum { KIND_ROUTE, KIND_UNMATCHED, KIND_NONE, KIND_OVERFLOW } series_kind_t;

struct series {
	series_kind_t kind;
	const sd_route_t *route; /* KIND_ROUTE */
	int status;              /* 0 for KIND_OVERFLOW */
	uint64_t n;
};

/* One day's, or every finished day's, anonymous counts. */
struct anon {
	uint64_t requests;
	uint64_t rejected[SD_LIMIT_COUNT];
};

static struct {
	struct series series[SD_METRICS_SERIES_MAX];
	size_t n_series;
	uint64_t overflow;
	uint64_t rejected[SD_LIMIT_COUNT];
	uint64_t filings, upload_bytes;
	/* The anonymous routes: today's counts wait in pending until the day is over. */
	bool has_day;
	sd_date_t day;
	struct anon pending, published;
	/* The store's values, read at the first scrape of a day. */
	bool has_latch;
	sd_date_t latch_day;
	uint64_t store_requests, store_failed, store_bytes;
} m;

static const char *const limit_names[SD_LIMIT_COUNT] = {
        [SD_LIMIT_HEADER_TOO_LARGE] = "header_too_large",
        [SD_LIMIT_BODY_TOO_LARGE] = "body_too_large",
        [SD_LIMIT_BODY_BUDGET] = "body_budget",
        [SD_LIMIT_RATE] = "rate_limit",
        [SD_LIMIT_SESSION] = "session_refused",
        [SD_LIMIT_CONNECTIONS_FULL] = "connections_full",
        [SD_LIMIT_EVICTED] = "evicted",
        [SD_LIMIT_TIMEOUT] = "timeout",
        [SD_LIMIT_HANDSHAKE] = "handshake_timeout",
        [SD_LIMIT_PER_CERT] = "per_cert_connections",
        [SD_LIMIT_UPLOADS] = "uploads_per_account",
};

const char *sd_limit_name(sd_limit_t limit)
{
	return limit > SD_LIMIT_NONE && limit < SD_LIMIT_COUNT ? limit_names[limit] : NULL;
}

void sd_metrics_reset(void)
{
	memset(&m, 0, sizeof(m));
}

/* --- Counting ---------------------------------------------------------------------------- */

static bool is_route(const sd_route_t *r, const char *method, const char *pattern)
{
	return r != NULL && strcmp(r->method, method) == 0 && strcmp(r->pattern, pattern) == 0;
}

bool sd_metrics_is_anonymous(const sd_route_t *route, const char *path)
{
	if (route != NULL)
		return route->roles == 0 && strcmp(route->pattern, HEALTH_PATTERN) != 0;
	return path != NULL && strncmp(path, WB_PREFIX, sizeof(WB_PREFIX) - 1) == 0;
}

static bool code_is(const sd_metrics_reply_t *r, const char *code)
{
	return r->code != NULL && strcmp(r->code, code) == 0;
}

sd_limit_t sd_metrics_limit_of(const sd_metrics_reply_t *r)
{
	if (r->limit != SD_LIMIT_NONE)
		return r->limit;
	switch (r->status) {
	case 431:
		return SD_LIMIT_HEADER_TOO_LARGE;
	case 413:
		return SD_LIMIT_BODY_TOO_LARGE;
	case 408:
		return SD_LIMIT_TIMEOUT;
	case 429:
		return code_is(r, "too_many_uploads")       ? SD_LIMIT_UPLOADS
		       : code_is(r, "too_many_connections") ? SD_LIMIT_PER_CERT
		                                            : SD_LIMIT_NONE;
	case 403:
		return code_is(r, "session_refused") ? SD_LIMIT_SESSION : SD_LIMIT_NONE;
	case 503:
		/* The whistleblower gate's answer names when to come back; the budget's is
		 * marked by the connection (limit), a full store queue is neither. */
		return code_is(r, "busy") && r->retry_after ? SD_LIMIT_RATE : SD_LIMIT_NONE;
	default:
		return SD_LIMIT_NONE;
	}
}

/* A new day (of the server's calendar) publishes what the days before it counted. A
 * clock that goes back publishes nothing until it passes the day again. */
static void day_roll(sd_date_t today)
{
	if (!m.has_day) {
		m.has_day = true;
		m.day = today;
		return;
	}
	if (sd_date_cmp(today, m.day) <= 0)
		return;
	m.published.requests += m.pending.requests;
	for (size_t i = 0; i < SD_LIMIT_COUNT; i++)
		m.published.rejected[i] += m.pending.rejected[i];
	memset(&m.pending, 0, sizeof(m.pending));
	m.day = today;
}

static struct series *series_find(series_kind_t kind, const sd_route_t *route, int status)
{
	for (size_t i = 0; i < m.n_series; i++) {
		struct series *s = &m.series[i];
		if (s->kind == kind && s->route == route && s->status == status)
			return s;
	}
	if (m.n_series == SD_METRICS_SERIES_MAX)
		return NULL;
	m.series[m.n_series] = (struct series){.kind = kind, .route = route, .status = status};
	return &m.series[m.n_series++];
}

void sd_metrics_count_reply(const sd_metrics_reply_t *r, sd_date_t today)
{
	sd_limit_t limit = sd_metrics_limit_of(r);
	series_kind_t kind = r->route != NULL                        ? KIND_ROUTE
	                     : r->path != NULL && r->path[0] != '\0' ? KIND_UNMATCHED
	                                                             : KIND_NONE;
	struct series *s;

	if (sd_metrics_is_anonymous(r->route, r->path)) {
		day_roll(today);
		m.pending.requests++;
		m.pending.rejected[limit]++; /* [SD_LIMIT_NONE] counts the rest, never shown */
		return;
	}
	m.rejected[limit]++;
	if ((s = series_find(kind, r->route, r->status)) != NULL)
		s->n++;
	else
		m.overflow++;
	if (r->status == 201 && is_route(r->route, "POST", COMMIT_PATTERN))
		m.filings++;
	if (r->status / 100 == 2 && is_route(r->route, "PUT", CHUNK_PATTERN))
		m.upload_bytes += r->body_bytes;
}

void sd_metrics_count_refusal(sd_limit_t limit)
{
	if (limit > SD_LIMIT_NONE && limit < SD_LIMIT_COUNT)
		m.rejected[limit]++;
}

/* --- The exposition ------------------------------------------------------------------------ */

struct text {
	char *buf;
	size_t len, cap;
	bool failed;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (int tries = 0; tries < 2 && !t->failed; tries++) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->failed = true;
		} else if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		} else {
			size_t ncap = t->cap * 2 > t->len + (size_t)n + 1 ? t->cap * 2 : t->len + (size_t)n + 1;
			char *nb = realloc(t->buf, ncap);
			if (nb == NULL)
				t->failed = true;
			t->buf = nb != NULL ? nb : t->buf;
			t->cap = nb != NULL ? ncap : t->cap;
		}
	}
}

int sd_metrics_escape_label(const char *in, char *out, size_t cap)
{
	size_t o = 0;

	for (; *in != '\0'; in++) {
		const char *rep = *in == '\\' ? "\\\\" : *in == '"' ? "\\\"" : *in == '\n' ? "\\n" : NULL;
		size_t n = rep != NULL ? 2 : 1;
		if (o + n >= cap)
			return sd_error(SD_ERR_TOOBIG, "a label value is longer than %zu bytes", cap);
		memcpy(out + o, rep != NULL ? rep : in, n);
		o += n;
	}
	if (cap == 0)
		return sd_error(SD_ERR_TOOBIG, "no room for a label value");
	out[o] = '\0';
	return (int)o;
}

static void family(struct text *t, const char *name, const char *type, const char *help)
{
	put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void series_label(const struct series *s, char *out, size_t cap)
{
	char raw[LABEL_MAX];

	if (s->kind == KIND_ROUTE)
		snprintf(raw, sizeof(raw), "%s %s", s->route->method, s->route->pattern);
	else
		snprintf(raw, sizeof(raw), "%s", s->kind == KIND_UNMATCHED ? "unmatched" : "none");
	if (sd_metrics_escape_label(raw, out, cap) < 0)
		snprintf(out, cap, "overflow");
}

static void put_requests(struct text *t)
{
	char label[LABEL_MAX * 2];

	family(t, "sealdrop_requests_total", "counter",
	       "Answers by route template and status, as they happen: the routes that need a certificate, "
	       "/v1/health, route=\"unmatched\" (no route) and route=\"none\" (no request read). The anonymous "
	       "routes are only in sealdrop_anonymous_requests_total.");
	for (size_t i = 0; i < m.n_series; i++) {
		series_label(&m.series[i], label, sizeof(label));
		put(t, "sealdrop_requests_total{route=\"%s\",status=\"%d\"} %llu\n", label, m.series[i].status,
		    (unsigned long long)m.series[i].n);
	}
	if (m.overflow > 0)
		put(t, "sealdrop_requests_total{route=\"overflow\",status=\"0\"} %llu\n",
		    (unsigned long long)m.overflow);
}

static void put_rejected(struct text *t, const char *name, const uint64_t *counts)
{
	for (int i = SD_LIMIT_NONE + 1; i < SD_LIMIT_COUNT; i++)
		put(t, "%s{reason=\"%s\"} %llu\n", name, limit_names[i], (unsigned long long)counts[i]);
}

static void put_counters(struct text *t)
{
	family(t, "sealdrop_rejected_total", "counter",
	       "Requests and connections a limit refused, by reason, as they happen; the anonymous routes' "
	       "refusals are only in sealdrop_anonymous_rejected_total.");
	put_rejected(t, "sealdrop_rejected_total", m.rejected);
	family(t, "sealdrop_anonymous_requests_total", "counter",
	       "Requests on the anonymous routes (the whistleblower's, and the public log, directory and CRL routes), "
	       "counted per day "
	       "(KST) and added only once the day is over: it steps once a day, never when a request is made.");
	put(t, "sealdrop_anonymous_requests_total %llu\n", (unsigned long long)m.published.requests);
	family(t, "sealdrop_anonymous_rejected_total", "counter",
	       "Of those, the ones a limit refused, by reason; per day, added once the day is over.");
	put_rejected(t, "sealdrop_anonymous_rejected_total", m.published.rejected);
	family(t, "sealdrop_filings_total", "counter", "Cases filed: POST /v1/uploads/{id}/commit answered 201.");
	put(t, "sealdrop_filings_total %llu\n", (unsigned long long)m.filings);
	family(t, "sealdrop_upload_bytes_total", "counter",
	       "Bytes of the chunks attorneys uploaded and the server took.");
	put(t, "sealdrop_upload_bytes_total %llu\n", (unsigned long long)m.upload_bytes);
}

static void put_gauges(struct text *t, const sd_metrics_gauges_t *g)
{
	family(t, "sealdrop_connections_open", "gauge", "Client connections open now, of every kind.");
	put(t, "sealdrop_connections_open %llu\n", (unsigned long long)g->connections_open);
	family(t, "sealdrop_connections_max", "gauge", "The configured max_connections.");
	put(t, "sealdrop_connections_max %llu\n", (unsigned long long)g->connections_max);
	family(t, "sealdrop_draining", "gauge", "1 while the server finishes its connections before it stops.");
	put(t, "sealdrop_draining %d\n", g->draining ? 1 : 0);
	if (!m.has_latch)
		return;
	family(t, "sealdrop_store_bytes", "gauge",
	       "The store's data file in bytes, read at the first scrape of the day and held for the day.");
	put(t, "sealdrop_store_bytes %llu\n", (unsigned long long)m.store_bytes);
	family(t, "sealdrop_store_requests_total", "counter",
	       "Requests the store answered, read at the first scrape of the day and held for the day.");
	put(t, "sealdrop_store_requests_total %llu\n", (unsigned long long)m.store_requests);
	family(t, "sealdrop_store_failed_total", "counter",
	       "Of those, the ones answered with an error, read and held the same way.");
	put(t, "sealdrop_store_failed_total %llu\n", (unsigned long long)m.store_failed);
}

/* One histogram: cumulative buckets, +Inf, _sum and _count (seconds when ns: the values
 * are nanoseconds). */
static void put_hist(struct text *t, const char *name, const sd_hist_t *h, const uint64_t *bounds, size_t n_bounds,
                     bool ns)
{
	for (size_t i = 0; i < n_bounds; i++) {
		if (ns)
			put(t, "%s_bucket{le=\"%g\"} %llu\n", name, (double)bounds[i] / 1e9,
			    (unsigned long long)sd_hist_cumulative(h, i));
		else
			put(t, "%s_bucket{le=\"%llu\"} %llu\n", name, (unsigned long long)bounds[i],
			    (unsigned long long)sd_hist_cumulative(h, i));
	}
	put(t, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)sd_hist_cumulative(h, n_bounds));
	if (ns)
		put(t, "%s_sum %llu.%09llu\n", name, (unsigned long long)(h->sum / 1000000000u),
		    (unsigned long long)(h->sum % 1000000000u));
	else
		put(t, "%s_sum %llu\n", name, (unsigned long long)h->sum);
	put(t, "%s_count %llu\n", name, (unsigned long long)sd_hist_cumulative(h, n_bounds));
}

static void put_commit_hist(struct text *t, const sd_metrics_gauges_t *g)
{
	if (!g->has_commit_hist)
		return;
	family(t, "sealdrop_store_commit_batch_size", "histogram",
	       "Requests per durable commit of the store. Counted per day (KST) by the store and added only once "
	       "the day is over: it covers every day before today, never today, so it never steps when a "
	       "whistleblower acts.");
	put_hist(t, "sealdrop_store_commit_batch_size", &g->commit_hist.batch, sd_hist_batch_bounds,
	         SD_HIST_BATCH_BOUNDS, false);
	family(t, "sealdrop_store_commit_seconds", "histogram",
	       "Seconds from the store taking a batch's first request to its commit being durable (fsync done), "
	       "one observation per commit. Per day (KST), added once the day is over, like "
	       "sealdrop_store_commit_batch_size.");
	put_hist(t, "sealdrop_store_commit_seconds", &g->commit_hist.latency, sd_hist_latency_bounds_ns,
	         SD_HIST_LATENCY_BOUNDS, true);
}

/* The store's values, once a day: what anonymous writes move must not step with them. */
static void store_latch(const sd_metrics_gauges_t *g)
{
	if (!g->has_store || (m.has_latch && sd_date_cmp(g->today, m.latch_day) <= 0))
		return;
	m.has_latch = true;
	m.latch_day = g->today;
	m.store_requests = g->store_requests;
	m.store_failed = g->store_failed;
	m.store_bytes = g->store_bytes;
}

int sd_metrics_render(const sd_metrics_gauges_t *g, char **out, size_t *len)
{
	struct text t = {.buf = malloc(4096), .cap = 4096};

	*out = NULL;
	*len = 0;
	if (t.buf == NULL)
		return SD_ERR_NOMEM;
	t.buf[0] = '\0';
	day_roll(g->today);
	store_latch(g);
	put_requests(&t);
	put_counters(&t);
	put_gauges(&t, g);
	put_commit_hist(&t, g);
	if (t.failed) {
		free(t.buf);
		return SD_ERR_NOMEM;
	}
	*out = t.buf;
	*len = t.len;
	return 0;
}

/* --- The route ------------------------------------------------------------------------------- */

static void gather(sd_server_t *s, sd_metrics_gauges_t *g)
{
	char path[SD_CONFIG_DIR_MAX + 64];
	sd_store_stats_t st = {0};
	struct stat sb;

	*g = (sd_metrics_gauges_t){
	        .today = sd_server_today(s),
	        .connections_open = sd_server_connection_count(s),
	        .connections_max = sd_server_config(s)->max_connections,
	        .draining = sd_server_is_draining(s),
	};
	if (sd_server_store(s) == NULL || sd_server_path(s, STORE_DATA_FILE, path, sizeof(path)) < 0 ||
	    stat(path, &sb) != 0)
		return;
	sd_store_stats(sd_server_store(s), &st);
	g->has_store = true;
	g->store_requests = st.requests;
	g->store_failed = st.failed;
	g->store_bytes = (uint64_t)sb.st_size;
}

static void answer(sd_request_t *r, const sd_metrics_gauges_t *g)
{
	char *text = NULL;
	size_t len = 0;

	if (sd_metrics_render(g, &text, &len) < 0) {
		sd_request_reply_error(r, 500, "internal", "out of memory");
		return;
	}
	sd_request_reply(r, 200, SD_METRICS_CONTENT_TYPE, (const uint8_t *)text, len);
	free(text);
}

/* A scrape waiting for the store's histograms: asked on the worker, answered on the loop. */
struct scrape {
	sd_request_t *r;
	sd_store_t *store;
	sd_metrics_gauges_t g;
	sd_store_stats_t st;
	int fetched;
};

static void scrape_work(void *ctx)
{
	struct scrape *sc = ctx;

	sc->fetched = sd_store_stats_fetch(sc->store, sc->g.today, &sc->st);
}

static void scrape_done(void *ctx)
{
	struct scrape *sc = ctx;

	if (sc->fetched == 0 && sc->st.has_hist) {
		sc->g.has_commit_hist = true;
		sc->g.commit_hist = sc->st.hist;
	}
	answer(sc->r, &sc->g);
	free(sc);
}

void sd_route_metrics(sd_request_t *r)
{
	sd_server_t *s = sd_request_server(r);
	struct scrape *sc;
	sd_metrics_gauges_t g;

	gather(s, &g);
	/* Draining, the worker may be gone and the job would wait on the loop: no histograms. */
	if (!g.has_store || g.draining || (sc = calloc(1, sizeof(*sc))) == NULL) {
		answer(r, &g);
		return;
	}
	*sc = (struct scrape){.r = r, .store = sd_server_store(s), .g = g};
	sd_server_work(s, scrape_work, scrape_done, sc);
}
