/*
 * conn.c — a client connection: TLS on a bufferevent, HTTP/1.1 parsed as it arrives,
 * each request taken through its route (include/sealdrop/conn.h has the state diagram).
 *
 * Start with conn_feed (bytes in → parser → callbacks), then on_request (match,
 * authenticate, check limits, take body budget, call the route), and request_finish
 * (after the reply went out: keep-alive or close). The request object (struct
 * sd_request) is what route.h's accessors read; it may outlive its connection while a
 * route waits for the store, and is freed when the route finally replies.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "sealdrop/accounts.h"
#include "sealdrop/conn.h"
#include "sealdrop/http.h"
#include "sealdrop/metrics.h"
#include "sealdrop/sealdrop.h"
#include "sealdrop/server.h"
#include "sealdrop/tls.h"
#include "sealdrop/whistle.h"

#define READ_HIGH_WATER  (256u << 10) /* input buffered per connection before TCP pushes back */
#define CONTINUE_LINE    "HTTP/1.1 100 Continue\r\n\r\n"
#define MAX_LINGER_BYTES (8u << 20) /* discarded after an early answer before giving up */
#define WB_PREFIX        "/v1/wb/"  /* answers padded to a size bucket (pad_plan) */

typedef enum {
	ST_HANDSHAKE,
	ST_IDLE,
	ST_HEAD,
	ST_BUDGET,
	ST_ROUTE,
	ST_BODY,
	ST_WAIT,
	ST_WRITE,
	ST_LINGER
} conn_state_t;

struct sd_request {
	sd_conn_t *conn; /* NULL once the connection is gone */
	sd_server_t *server;
	const sd_route_t *route;
	char method[SD_HTTP_METHOD_MAX + 1];
	char path[SD_HTTP_MAX_TARGET + 1];
	char query[SD_HTTP_MAX_TARGET + 1];
	char ctype[SD_HTTP_CTYPE_MAX + 1];
	sd_route_params_t params;
	uint64_t content_length, received, reserved;
	bool keep_alive, expect_continue, is_head;
	bool has_principal;
	sd_principal_t principal;
	uint8_t *body; /* collected body of a route without on_body */
	void *state;
	void (*state_free)(void *);
	bool route_busy; /* the route owes a reply or a continue */
	bool replied;
	bool complete;        /* the whole body was read */
	unsigned retry_after; /* seconds for a Retry-After header, or 0 */
	char allow[64];       /* a 405's Allow header: the methods the path takes */
	const char *err_code; /* an error answer's word, for the metrics */
	sd_limit_t limit;     /* the limit that refused it, when the connection knows */
};

struct sd_conn {
	sd_server_t *server;
	struct bufferevent *bev;
	struct event *deadline; /* the handshake's, the head's or the request's whole time */
	struct event *rate;     /* min_body_rate, checked while the body is read */
	uint64_t opened_ms;     /* when accepted: the oldest untrusted connection goes first */
	uint64_t started_ms;    /* the first byte of the request being read */
	uint64_t body_ms;       /* when its body started to be read */
	sd_http_parser_t *parser;
	conn_state_t state;
	bool close_after; /* close once the reply is out */
	bool in_feed;     /* conn_feed is on the stack: do not free */
	bool dead;        /* freed when conn_feed returns */
	bool has_cert;
	uint8_t fingerprint[SD_CA_FINGERPRINT_BYTES];
	uint8_t *cert_der;
	size_t cert_len;
	int auth_status; /* 1: not yet checked; else sd_accounts_authenticate's result */
	bool trusted;    /* an enrolled account's certificate: never evicted, whole body budget */
	sd_principal_t principal;
	size_t lingered;
	sd_request_t *req;
};

static void conn_feed(sd_conn_t *c);
static void conn_close(sd_conn_t *c);
static void request_free(sd_request_t *r);
static int on_request(void *ctx, const sd_http_request_t *hr);
static int on_body(void *ctx, const uint8_t *data, size_t len);
static int on_complete(void *ctx);

static const sd_http_callbacks_t http_callbacks = {on_request, on_body, on_complete};

/* --- Timeouts ---------------------------------------------------------------------- */

static void set_read_timeout(sd_conn_t *c, uint32_t seconds)
{
	struct timeval tv = {.tv_sec = seconds, .tv_usec = 0};
	struct timeval wtv = {.tv_sec = sd_server_config(c->server)->request_timeout, .tv_usec = 0};

	bufferevent_set_timeouts(c->bev, seconds > 0 ? &tv : NULL, &wtv);
}

static void timer_arm_ms(struct event *ev, uint64_t ms)
{
	struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000};

	event_del(ev);
	event_add(ev, &tv);
}

/* header_timeout, in milliseconds: for the handshake, then for each request's head. */
static uint64_t header_ms(const sd_conn_t *c)
{
	const sd_config_t *cfg = sd_server_config(c->server);

	return (uint64_t)(cfg->header_timeout < cfg->request_timeout ? cfg->header_timeout : cfg->request_timeout) *
	       1000;
}

/* The whole request, from its first byte: request_timeout. */
static void deadline_arm(sd_conn_t *c)
{
	timer_arm_ms(c->deadline, (uint64_t)sd_server_config(c->server)->request_timeout * 1000);
}

/* The head is in: what is left of request_timeout, counted from the request's first byte. */
static void deadline_rearm_request(sd_conn_t *c)
{
	uint64_t total = (uint64_t)sd_server_config(c->server)->request_timeout * 1000;
	uint64_t spent = sd_server_monotonic_ms() - c->started_ms;

	timer_arm_ms(c->deadline, spent < total ? total - spent : 1);
}

/* min_body_rate: slow_body_timeout seconds are free, then each second needs min_body_rate
 * more bytes (Apache's mod_reqtimeout "body=20,MinRate=500"). A trickle that keeps the
 * idle timer happy still ends here. Returns the milliseconds left, 0 when overdue. */
static uint64_t body_rate_left(const sd_conn_t *c)
{
	const sd_config_t *cfg = sd_server_config(c->server);
	uint64_t allowed = c->body_ms + (uint64_t)cfg->slow_body_timeout * 1000, now = sd_server_monotonic_ms();

	if (cfg->min_body_rate > 0 && c->req != NULL)
		allowed += c->req->received * 1000 / cfg->min_body_rate;
	return allowed > now ? allowed - now : 0;
}

/* --- Replies --------------------------------------------------------------------------- */

/* Puts one header line (with its CRLF) before the blank line that ends a formatted head of
 * len bytes. */
static int add_header_line(char *head, size_t cap, int len, const char *line, int n)
{
	if (len < 2 || n < 0 || (size_t)len + (size_t)n > cap)
		return -1;
	memcpy(head + len - 2 + n, head + len - 2, 2);
	memcpy(head + len - 2, line, (size_t)n);
	return len + n;
}

static int format_head(char *head, const sd_request_t *r, int status, const char *ctype, size_t len, bool keep)
{
	int n = sd_http_format_head(head, SD_HTTP_RESPONSE_HEAD_MAX, status, ctype, len, keep);
	char line[80];

	if (n >= 0 && r->retry_after > 0)
		n = add_header_line(head, SD_HTTP_RESPONSE_HEAD_MAX, n, line,
		                    snprintf(line, sizeof(line), "Retry-After: %u\r\n", r->retry_after));
	if (n >= 0 && status == 405 && r->allow[0] != '\0')
		n = add_header_line(head, SD_HTTP_RESPONSE_HEAD_MAX, n, line,
		                    snprintf(line, sizeof(line), "Allow: %s\r\n", r->allow));
	return n;
}

/* Every answer on the whistleblower's routes, errors included, is padded so that head
 * and body together fill a size bucket (SD_WB_PAD_MIN, doubling): its length on the wire
 * tells neither the case's state, nor the number of notices, nor which check failed
 * (issue 7, "Traffic analysis"). The body's Content-Length changes the head's length, so
 * the two are settled together. Returns the body length to send, 0 if none fits. */
static size_t pad_plan(char *head, int *n, const sd_request_t *r, int status, const char *ctype, size_t len, bool keep)
{
	size_t bucket = SD_WB_PAD_MIN, body = len;

	while (bucket < (size_t)*n + len)
		bucket *= 2;
	for (int i = 0; i < 4; i++) {
		if (bucket < (size_t)*n + len) {
			bucket *= 2;
			continue;
		}
		body = bucket - (size_t)*n;
		if ((*n = format_head(head, r, status, ctype, body, keep)) < 0)
			return 0;
		if ((size_t)*n + body == bucket)
			return body;
	}
	return 0;
}

/* The padded answer in one buffer (one TLS record where it fits): JSON allows the
 * spaces before its final newline. */
static int write_padded(sd_conn_t *c, const char *head, size_t n, const uint8_t *body, size_t len, size_t padded)
{
	uint8_t *buf = malloc(n + padded);
	size_t keep_nl = len > 0 && body[len - 1] == '\n';

	if (buf == NULL)
		return SD_ERR_NOMEM;
	memcpy(buf, head, n);
	if (len > 0)
		memcpy(buf + n, body, len - keep_nl);
	memset(buf + n + len - keep_nl, ' ', padded - (len - keep_nl));
	if (keep_nl)
		buf[n + padded - 1] = '\n';
	bufferevent_write(c->bev, buf, n + padded);
	free(buf);
	return 0;
}

static bool is_padded(const sd_request_t *r)
{
	return strncmp(r->path, WB_PREFIX, sizeof(WB_PREFIX) - 1) == 0;
}

static void write_reply(sd_conn_t *c, sd_request_t *r, int status, const char *ctype, const uint8_t *body, size_t len)
{
	char head[SD_HTTP_RESPONSE_HEAD_MAX];
	bool keep = r->keep_alive && r->complete && !c->close_after && !sd_server_is_draining(c->server);
	size_t padded = 0;
	int n;

	if (!keep)
		c->close_after = true;
	n = format_head(head, r, status, ctype, len, keep);
	if (n >= 0 && is_padded(r) && (padded = pad_plan(head, &n, r, status, ctype, len, keep)) == 0)
		n = -1;
	if (n < 0) {
		conn_close(c);
		return;
	}
	c->state = ST_WRITE;
	if (event_pending(c->deadline, EV_TIMEOUT, NULL) == 0)
		deadline_arm(c);
	event_del(c->rate);
	bufferevent_disable(c->bev, EV_READ);
	if (padded > 0 && !r->is_head) {
		if (write_padded(c, head, (size_t)n, body, len, padded) < 0)
			conn_close(c);
		return;
	}
	bufferevent_write(c->bev, head, (size_t)n);
	if (!r->is_head && len > 0)
		bufferevent_write(c->bev, body, len);
}

/* Every answer is counted here, and only here (server/metrics.c). */
static void count_reply(const sd_request_t *r, int status)
{
	sd_metrics_reply_t m = {.route = r->route,
	                        .path = r->path,
	                        .status = status,
	                        .code = r->err_code,
	                        .limit = r->limit,
	                        .retry_after = r->retry_after > 0,
	                        .body_bytes = r->content_length};
	sd_date_t today = {0, 0, 0};

	if (sd_metrics_is_anonymous(r->route, r->path))
		today = sd_server_today(r->server);
	sd_metrics_count_reply(&m, today);
}

void sd_request_reply(sd_request_t *r, int status, const char *ctype, const uint8_t *body, size_t len)
{
	sd_conn_t *c = r->conn;

	if (r->replied)
		return;
	count_reply(r, status);
	r->replied = true;
	r->route_busy = false;
	if (c == NULL) {
		request_free(r);
		return;
	}
	if (!r->complete)
		c->close_after = true; /* an early answer: the rest of the body is not read */
	write_reply(c, r, status, ctype, body, len);
}

void sd_request_reply_json(sd_request_t *r, int status, json_t *obj)
{
	char *text = obj != NULL ? json_dumps(obj, JSON_COMPACT) : NULL;
	size_t n = text != NULL ? strlen(text) : 0;
	char *body = text != NULL ? realloc(text, n + 2) : NULL;

	json_decref(obj);
	if (body == NULL) {
		free(text);
		sd_request_reply_error(r, 500, "internal", "out of memory");
		return;
	}
	body[n] = '\n';
	sd_request_reply(r, status, "application/json", (const uint8_t *)body, n + 1);
	free(body);
}

void sd_request_reply_error(sd_request_t *r, int status, const char *code, const char *fmt, ...)
{
	char msg[512];
	json_t *o;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	o = json_pack("{s:s, s:s}", "error", code, "message", msg);
	r->err_code = code;
	if (o == NULL) {
		static const char oom[] = "{\"error\":\"internal\",\"message\":\"out of memory\"}\n";
		sd_request_reply(r, 500, "application/json", (const uint8_t *)oom, sizeof(oom) - 1);
		return;
	}
	sd_request_reply_json(r, status, o);
}

/* An error found by the connection itself, before a route was involved. */
static void reply_conn_error(sd_conn_t *c, int status, const char *code, const char *msg)
{
	sd_request_t *r = c->req;

	if (r == NULL) {
		/* No request object yet (a framing error): answer from a temporary one. */
		sd_request_t tmp = {.conn = c, .server = c->server};
		c->close_after = true;
		tmp.replied = false;
		c->req = &tmp;
		sd_request_reply_error(&tmp, status, code, "%s", msg);
		c->req = NULL;
		return;
	}
	sd_request_reply_error(r, status, code, "%s", msg);
}

/* --- Request objects ----------------------------------------------------------------- */

static void request_free(sd_request_t *r)
{
	if (r == NULL)
		return;
	if (r->reserved > 0)
		sd_server_budget_release(r->server, r->reserved);
	if (r->state_free != NULL)
		r->state_free(r->state);
	free(r->body);
	free(r);
}

/* The reply is out: keep-alive, or close. */
static void request_finish(sd_conn_t *c)
{
	sd_request_t *r = c->req;

	c->req = NULL;
	request_free(r);
	event_del(c->deadline);
	c->state = ST_IDLE;
	set_read_timeout(c, sd_server_config(c->server)->idle_timeout);
	sd_http_parser_resume(c->parser);
	bufferevent_enable(c->bev, EV_READ);
	conn_feed(c);
}

/* The connection goes away; a request a route still owes an answer lives on until then. */
static void conn_detach_request(sd_conn_t *c)
{
	sd_request_t *r = c->req;

	c->req = NULL;
	if (r == NULL)
		return;
	if (!r->replied) {
		if (c->state == ST_BUDGET)
			sd_server_budget_cancel(c->server, c);
		if (r->route_busy) {
			r->conn = NULL; /* freed when the route replies */
			return;
		}
	}
	/* Also a request whose reply could not be written: its body budget comes back. */
	request_free(r);
}

static void conn_free(sd_conn_t *c)
{
	conn_detach_request(c);
	sd_server_conn_remove(c->server, c);
	if (c->deadline != NULL)
		event_free(c->deadline);
	if (c->rate != NULL)
		event_free(c->rate);
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	sd_http_parser_free(c->parser);
	free(c->cert_der);
	free(c);
}

static void conn_close(sd_conn_t *c)
{
	if (c->in_feed) {
		c->dead = true;
		return;
	}
	conn_free(c);
}

/* --- Authentication ------------------------------------------------------------------ */

/* Decides whether the connection's certificate may call a route that needs `roles`. */
static bool authorize(sd_conn_t *c, unsigned roles)
{
	const sd_account_t *acc;
	sd_accounts_t *accounts = sd_server_accounts(c->server);

	if (!c->has_cert) {
		reply_conn_error(c, 401, "certificate_required", "this route needs an enrolled client certificate");
		return false;
	}
	if (c->auth_status == 1)
		c->auth_status = sd_accounts_authenticate(accounts, sd_server_ca(c->server), c->cert_der, c->cert_len,
		                                          (int64_t)time(NULL), &c->principal);
	if (c->auth_status == SD_ERR_VERIFY || c->auth_status == SD_ERR_EXPIRED || c->auth_status == SD_ERR_INVALID ||
	    c->auth_status == SD_ERR_FORMAT) {
		reply_conn_error(c, 401, "certificate_invalid",
		                 "the client certificate was not issued by this server's CA, or has expired");
		return false;
	}
	if (c->auth_status == SD_ERR_NOENT) {
		reply_conn_error(c, 403, "account_unknown", "no account is enrolled for this certificate");
		return false;
	}
	/* Re-checked on every request: a disable takes effect on open connections too. */
	acc = sd_accounts_find(accounts, c->fingerprint);
	if (c->auth_status == SD_ERR_REFUSED || (c->auth_status == 0 && (acc == NULL || !acc->enabled))) {
		reply_conn_error(c, 403, "account_disabled", "this account has been disabled");
		return false;
	}
	if (c->auth_status != 0) {
		reply_conn_error(c, 500, "internal", "the certificate could not be checked");
		return false;
	}
	if ((c->principal.role & roles) == 0) {
		reply_conn_error(c, 403, "role_forbidden", "this account's role may not use this route");
		return false;
	}
	return true;
}

/* --- Request stages: budget → route headers → body ------------------------------------ */

static uint64_t body_limit(const sd_server_t *s, sd_body_limit_t kind)
{
	const sd_config_t *cfg = sd_server_config(s);

	switch (kind) {
	case SD_BODY_NONE:
		return 0;
	case SD_BODY_SMALL:
		return SD_ROUTE_SMALL_BODY_MAX;
	case SD_BODY_HEADER:
		return cfg->max_header_bytes;
	case SD_BODY_CHUNK:
		return cfg->chunk_bytes;
	}
	return 0;
}

/* After the route's on_headers (or its continue): read the body. */
static void stage_body(sd_conn_t *c)
{
	sd_request_t *r = c->req;

	c->state = ST_BODY;
	set_read_timeout(c, sd_server_config(c->server)->slow_body_timeout);
	if (r->content_length > 0 && sd_server_config(c->server)->min_body_rate > 0) {
		c->body_ms = sd_server_monotonic_ms();
		timer_arm_ms(c->rate, body_rate_left(c));
	}
	if (r->expect_continue && r->content_length > 0)
		bufferevent_write(c->bev, CONTINUE_LINE, sizeof(CONTINUE_LINE) - 1);
	if (r->route->on_body == NULL && r->content_length > 0 &&
	    (r->body = malloc((size_t)r->content_length)) == NULL) {
		reply_conn_error(c, 503, "busy", "the server is out of memory; retry later");
		return;
	}
	bufferevent_enable(c->bev, EV_READ);
}

/* A stage that waited (budget, store) is over: let the paused parser go on. */
static void resume_reading(sd_conn_t *c)
{
	if (c->state != ST_BODY)
		return;
	sd_http_parser_resume(c->parser);
	conn_feed(c);
}

static void stage_route(sd_conn_t *c)
{
	sd_request_t *r = c->req;
	int rc = 0;

	c->state = ST_ROUTE;
	if (r->route->on_headers != NULL) {
		r->route_busy = true;
		rc = r->route->on_headers(r);
		if (r->replied || c->req != r)
			return;
		if (rc == SD_ROUTE_PAUSE) {
			bufferevent_disable(c->bev, EV_READ);
			return;
		}
		r->route_busy = false;
		if (rc < 0) {
			reply_conn_error(c, 500, "internal", "the request could not be handled");
			return;
		}
	}
	stage_body(c);
}

void sd_request_continue(sd_request_t *r)
{
	sd_conn_t *c = r->conn;

	if (r->replied)
		return;
	r->route_busy = false;
	if (c == NULL) {
		request_free(r);
		return;
	}
	stage_body(c);
	resume_reading(c);
}

static void stage_budget(sd_conn_t *c)
{
	sd_request_t *r = c->req;

	if (r->content_length > 0 && r->reserved == 0) {
		if (!sd_server_budget_take(c->server, c, r->content_length)) {
			if (!c->trusted) { /* never queued (server.c): the anonymous share is full */
				r->retry_after = 1;
				r->limit = SD_LIMIT_BODY_BUDGET;
				reply_conn_error(c, 503, "busy",
				                 "the server is receiving too much at once; retry later");
				return;
			}
			c->state = ST_BUDGET;
			bufferevent_disable(c->bev, EV_READ);
			set_read_timeout(c, 0);
			event_del(c->deadline);
			struct timeval tv = {.tv_sec = sd_server_config(c->server)->slow_body_timeout, .tv_usec = 0};
			event_add(c->deadline, &tv);
			return;
		}
		r->reserved = r->content_length;
	}
	stage_route(c);
}

void sd_conn_budget_ready(sd_conn_t *c)
{
	sd_request_t *r = c->req;

	if (c->state != ST_BUDGET || r == NULL) {
		if (r != NULL)
			sd_server_budget_release(c->server, r->content_length);
		return;
	}
	r->reserved = r->content_length;
	event_del(c->deadline);
	deadline_arm(c);
	stage_route(c);
	resume_reading(c);
}

/* --- Parser callbacks -------------------------------------------------------------------- */

static sd_request_t *request_new(sd_conn_t *c, const sd_http_request_t *hr)
{
	sd_request_t *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->conn = c;
	r->server = c->server;
	snprintf(r->method, sizeof(r->method), "%s", hr->method);
	snprintf(r->path, sizeof(r->path), "%s", hr->path);
	snprintf(r->query, sizeof(r->query), "%s", hr->query);
	snprintf(r->ctype, sizeof(r->ctype), "%s", hr->content_type);
	r->content_length = hr->content_length;
	r->keep_alive = hr->keep_alive;
	r->expect_continue = hr->expect_continue;
	r->is_head = strcmp(hr->method, "HEAD") == 0;
	return r;
}

static bool route_find(sd_conn_t *c, sd_request_t *r)
{
	char allow[64], msg[128];
	int rc = sd_route_match(sd_routes, r->method, r->path, &r->route, &r->params, allow, sizeof(allow));

	if (rc == SD_ERR_NOENT) {
		reply_conn_error(c, 404, "not_found", "there is no such route");
		return false;
	}
	if (rc < 0) {
		snprintf(r->allow, sizeof(r->allow), "%s", allow);
		snprintf(msg, sizeof(msg), "this route takes %s", allow);
		reply_conn_error(c, 405, "method_not_allowed", msg);
		return false;
	}
	return true;
}

static int on_request(void *ctx, const sd_http_request_t *hr)
{
	sd_conn_t *c = ctx;
	sd_request_t *r;
	uint64_t limit;
	char msg[160];

	c->state = ST_HEAD;
	deadline_rearm_request(c); /* the head is in: header_timeout no longer applies */
	set_read_timeout(c, sd_server_config(c->server)->request_timeout);
	if ((r = request_new(c, hr)) == NULL) {
		reply_conn_error(c, 503, "busy", "the server is out of memory; retry later");
		return -1;
	}
	c->req = r;
	if (!route_find(c, r) || (r->route->roles != 0 && !authorize(c, r->route->roles)))
		return -1;
	if (r->route->roles != 0) {
		r->has_principal = true;
		r->principal = c->principal;
	}
	limit = body_limit(c->server, r->route->body);
	if (r->content_length > limit) {
		snprintf(msg, sizeof(msg), "the body is %llu bytes; this route takes at most %llu",
		         (unsigned long long)r->content_length, (unsigned long long)limit);
		reply_conn_error(c, 413, "too_large", msg);
		return -1;
	}
	stage_budget(c);
	/* Body now, or pause until the budget or the route's store lookup lets it come. */
	return c->state == ST_BODY ? 0 : r->replied ? -1 : SD_HTTP_PAUSE;
}

static int on_body(void *ctx, const uint8_t *data, size_t len)
{
	sd_conn_t *c = ctx;
	sd_request_t *r = c->req;

	if (r == NULL || r->replied)
		return -1;
	if (r->route->on_body != NULL) {
		int rc = r->route->on_body(r, data, len);
		if (r->replied)
			return -1;
		if (rc < 0) {
			reply_conn_error(c, 500, "internal", "the request body could not be handled");
			return -1;
		}
	} else {
		memcpy(r->body + r->received, data, len); /* the parser never passes Content-Length */
	}
	r->received += len;
	return 0;
}

static int on_complete(void *ctx)
{
	sd_conn_t *c = ctx;
	sd_request_t *r = c->req;

	if (r == NULL || r->replied)
		return -1;
	r->complete = true;
	event_del(c->rate);
	c->state = ST_WAIT;
	bufferevent_disable(c->bev, EV_READ);
	set_read_timeout(c, 0);
	r->route_busy = true;
	r->route->on_complete(r);
	return 0;
}

/* --- Input --------------------------------------------------------------------------------- */

/* A framing error: the parser says which status fits. */
static void framing_error(sd_conn_t *c)
{
	int status = sd_http_parser_status(c->parser);
	const char *code = status == 411   ? "length_required"
	                   : status == 413 ? "too_large"
	                   : status == 408 ? "timeout"
	                                   : "bad_request";

	if (status == 0)
		status = 400;
	if (c->req != NULL && c->req->replied)
		return;
	if (c->req != NULL) {
		request_free(c->req);
		c->req = NULL;
	}
	reply_conn_error(c, status, code, sd_error_detail());
}

static void feed_once(sd_conn_t *c, struct evbuffer *in, bool *more)
{
	struct evbuffer_iovec v;
	size_t used = 0;
	int rc;

	*more = false;
	if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
		return;
	if (c->state == ST_IDLE) {
		/* The head has header_timeout in all, however it trickles (slowloris). */
		c->state = ST_HEAD;
		c->started_ms = sd_server_monotonic_ms();
		set_read_timeout(c, (uint32_t)(header_ms(c) / 1000));
		timer_arm_ms(c->deadline, header_ms(c));
	}
	rc = sd_http_parser_feed(c->parser, v.iov_base, v.iov_len, &used);
	evbuffer_drain(in, used);
	if (c->dead)
		return;
	/* A callback that stopped the parser has answered already (status 0). */
	if (rc < 0 && sd_http_parser_status(c->parser) != 0) {
		framing_error(c);
		return;
	}
	if (rc < 0)
		return;
	*more = !sd_http_parser_is_paused(c->parser) &&
	        (c->state == ST_IDLE || c->state == ST_HEAD || c->state == ST_BODY);
}

static void conn_feed(sd_conn_t *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	bool more = true;

	if (c->in_feed)
		return;
	c->in_feed = true;
	while (more && !c->dead && evbuffer_get_length(in) > 0 &&
	       (c->state == ST_IDLE || c->state == ST_HEAD || c->state == ST_BODY))
		feed_once(c, in, &more);
	c->in_feed = false;
	if (c->dead)
		conn_free(c);
}

/* --- libevent callbacks ------------------------------------------------------------------ */

static void linger_read(struct bufferevent *bev, void *ctx)
{
	sd_conn_t *c = ctx;
	struct evbuffer *in = bufferevent_get_input(bev);

	c->lingered += evbuffer_get_length(in);
	evbuffer_drain(in, evbuffer_get_length(in));
	if (c->lingered > MAX_LINGER_BYTES)
		conn_free(c);
}

static void linger_event(struct bufferevent *bev, short what, void *ctx)
{
	(void)bev;
	(void)what;
	conn_free(ctx);
}

static void read_cb(struct bufferevent *bev, void *ctx)
{
	(void)bev;
	conn_feed(ctx);
}

static void write_cb(struct bufferevent *bev, void *ctx)
{
	sd_conn_t *c = ctx;

	if (c->state != ST_WRITE || evbuffer_get_length(bufferevent_get_output(bev)) > 0)
		return;
	if (c->close_after) {
		/* Lingering close: read and discard what the client still sends, for at most
		 * SD_CONN_LINGER_SECONDS in all (the deadline), not per byte. */
		struct timeval tv = {.tv_sec = SD_CONN_LINGER_SECONDS, .tv_usec = 0};
		sd_request_t *r = c->req;
		c->req = NULL;
		request_free(r);
		event_del(c->deadline);
		event_add(c->deadline, &tv);
		c->state = ST_LINGER;
		bufferevent_setcb(bev, linger_read, NULL, linger_event, c);
		bufferevent_set_timeouts(bev, &tv, &tv);
		bufferevent_enable(bev, EV_READ);
		return;
	}
	request_finish(c);
}

_Static_assert(SD_TLS_FINGERPRINT_BYTES == SD_CA_FINGERPRINT_BYTES, "one fingerprint");

static void handshake_done(sd_conn_t *c)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);

	event_del(c->deadline);
	if (sd_tls_peer_cert(ssl, &c->cert_der, &c->cert_len) < 0) {
		conn_close(c);
		return;
	}
	if (c->cert_der != NULL && sd_tls_peer_fingerprint(ssl, c->fingerprint) == 0) {
		c->has_cert = true;
		/* Checked now, not at the first request: only an enrolled account's connection
		 * is safe from eviction (sd_conn_is_evictable) and may queue for the budget. */
		c->auth_status = sd_accounts_authenticate(sd_server_accounts(c->server), sd_server_ca(c->server),
		                                          c->cert_der, c->cert_len, (int64_t)time(NULL), &c->principal);
		c->trusted = c->auth_status == 0;
		if (sd_server_conns_with_cert(c->server, c->fingerprint) >
		    sd_server_config(c->server)->max_connections_per_cert) {
			c->state = ST_HEAD;
			reply_conn_error(c, 429, "too_many_connections",
			                 "this certificate has too many connections open; close some and retry");
			return;
		}
	}
	c->state = ST_IDLE;
	set_read_timeout(c, sd_server_config(c->server)->idle_timeout);
}

static void event_cb(struct bufferevent *bev, short what, void *ctx)
{
	sd_conn_t *c = ctx;

	(void)bev;
	if ((what & BEV_EVENT_CONNECTED) && c->state == ST_HANDSHAKE) {
		handshake_done(c);
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && (c->state == ST_HEAD || c->state == ST_BODY) && c->req != NULL &&
	    !c->req->route_busy) {
		reply_conn_error(c, 408, "timeout", "the request body stopped arriving; send it faster");
		return;
	}
	if (what & BEV_EVENT_ERROR)
		sd_log(SD_LOG_DEBUG, "connection closed: %s", sd_tls_error_reason(bufferevent_openssl_get_ssl(bev)));
	conn_close(c);
}

static void rate_cb(evutil_socket_t fd, short what, void *ctx)
{
	sd_conn_t *c = ctx;
	uint64_t left;
	char msg[128];

	(void)fd;
	(void)what;
	if (c->state != ST_BODY || c->req == NULL || c->req->route_busy || c->req->replied)
		return;
	if ((left = body_rate_left(c)) > 0) {
		timer_arm_ms(c->rate, left);
		return;
	}
	snprintf(msg, sizeof(msg), "the request body arrives slower than %llu bytes a second; send it faster",
	         (unsigned long long)sd_server_config(c->server)->min_body_rate);
	reply_conn_error(c, 408, "timeout", msg);
}

static void deadline_cb(evutil_socket_t fd, short what, void *ctx)
{
	sd_conn_t *c = ctx;

	(void)fd;
	(void)what;
	if (c->state == ST_BUDGET) {
		sd_server_budget_cancel(c->server, c);
		c->req->limit = SD_LIMIT_BODY_BUDGET;
		reply_conn_error(c, 503, "busy", "the server is receiving too much at once; retry later");
		return;
	}
	if ((c->state == ST_HEAD || c->state == ST_BODY) && c->req != NULL && !c->req->route_busy) {
		reply_conn_error(c, 408, "timeout", "the request took longer than the server allows");
		return;
	}
	if (c->state == ST_HEAD && c->req == NULL) {
		reply_conn_error(c, 408, "timeout", "the request headers took longer than the server allows");
		return;
	}
	if (c->state == ST_HANDSHAKE)
		sd_metrics_count_refusal(SD_LIMIT_HANDSHAKE);
	if (c->state != ST_WAIT && c->state != ST_ROUTE)
		conn_close(c); /* a reply that cannot be written, or a handshake that never ends */
}

/* A connection that never got its socket. */
static void conn_new_undo(sd_conn_t *c)
{
	if (c->deadline != NULL)
		event_free(c->deadline);
	if (c->rate != NULL)
		event_free(c->rate);
	sd_http_parser_free(c->parser);
	free(c);
}

static sd_conn_t *conn_new(sd_server_t *s)
{
	sd_conn_t *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->server = s;
	c->auth_status = 1;
	c->state = ST_HANDSHAKE;
	c->opened_ms = sd_server_monotonic_ms();
	if ((c->parser = sd_http_parser_new(&http_callbacks, c)) == NULL ||
	    (c->deadline = evtimer_new(sd_server_base(s), deadline_cb, c)) == NULL ||
	    (c->rate = evtimer_new(sd_server_base(s), rate_cb, c)) == NULL) {
		conn_new_undo(c);
		return NULL;
	}
	return c;
}

int sd_conn_accept(sd_server_t *s, int fd)
{
	sd_conn_t *c = conn_new(s);
	SSL *ssl = NULL;
	int one = 1, rc = 0;

	/* Answers leave in more than one TLS record: without this, the second waits for the
	 * peer's delayed ACK (40 ms) behind Nagle's algorithm. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* Admitted (maybe in place of the oldest untrusted connection) before any TLS work;
	 * refused, the socket is closed at once: never queued. */
	if (c == NULL || (rc = sd_server_conn_add(s, c)) < 0) {
		if (rc == SD_ERR_REFUSED && !sd_server_is_draining(s))
			sd_metrics_count_refusal(SD_LIMIT_CONNECTIONS_FULL);
		close(fd);
		if (c != NULL)
			conn_new_undo(c);
		return c == NULL ? SD_ERR_NOMEM : SD_ERR_REFUSED;
	}
	if ((ssl = sd_tls_ssl_new(sd_server_tls(s))) != NULL)
		c->bev = bufferevent_openssl_socket_new(sd_server_base(s), fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
		                                        BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (c->bev == NULL) {
		/* bufferevent_openssl_socket_new frees ssl when it fails. */
		close(fd);
		sd_server_conn_remove(s, c);
		conn_new_undo(c);
		return SD_ERR_NOMEM;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, READ_HIGH_WATER);
	/* The handshake has header_timeout in all, however slowly its bytes come. */
	set_read_timeout(c, (uint32_t)(header_ms(c) / 1000));
	timer_arm_ms(c->deadline, header_ms(c));
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	return 0;
}

void sd_conn_abort(sd_conn_t *c)
{
	conn_free(c);
}

void sd_conn_drain(sd_conn_t *c)
{
	if (c->state == ST_IDLE || c->state == ST_HANDSHAKE || c->state == ST_LINGER)
		conn_close(c);
	else
		c->close_after = true;
}

bool sd_conn_is_trusted(const sd_conn_t *c)
{
	return c->trusted;
}

/* Not an enrolled account's, and not waiting for the server (a route, the store): the
 * client is the slow party, and may make room for a newcomer when the table is full. */
bool sd_conn_is_evictable(const sd_conn_t *c, uint64_t *opened_ms)
{
	*opened_ms = c->opened_ms;
	return !c->trusted && c->state != ST_ROUTE && c->state != ST_WAIT && !c->in_feed;
}

bool sd_conn_has_fingerprint(const sd_conn_t *c, const uint8_t fp[SD_CA_FINGERPRINT_BYTES])
{
	return c->has_cert && sd_equal(c->fingerprint, fp, SD_CA_FINGERPRINT_BYTES);
}

/* --- The request as a route sees it ------------------------------------------------------ */

sd_server_t *sd_request_server(const sd_request_t *r)
{
	return r->server;
}

const char *sd_request_method(const sd_request_t *r)
{
	return r->method;
}

const char *sd_request_path(const sd_request_t *r)
{
	return r->path;
}

const char *sd_request_query(const sd_request_t *r)
{
	return r->query;
}

const char *sd_request_param(const sd_request_t *r, size_t i)
{
	return i < r->params.n ? r->params.value[i] : "";
}

uint64_t sd_request_content_length(const sd_request_t *r)
{
	return r->content_length;
}

const char *sd_request_content_type(const sd_request_t *r)
{
	return r->ctype;
}

const sd_principal_t *sd_request_principal(const sd_request_t *r)
{
	return r->has_principal ? &r->principal : NULL;
}

const uint8_t *sd_request_body(const sd_request_t *r, size_t *len)
{
	*len = r->body != NULL ? (size_t)r->received : 0;
	return r->body;
}

void sd_request_set_state(sd_request_t *r, void *state, void (*free_fn)(void *))
{
	r->state = state;
	r->state_free = free_fn;
}

void sd_request_set_retry_after(sd_request_t *r, unsigned seconds)
{
	r->retry_after = seconds;
}

void *sd_request_state(const sd_request_t *r)
{
	return r->state;
}

bool sd_request_is_alive(const sd_request_t *r)
{
	return r->conn != NULL;
}
