/*
 * fuzz_http.c — libFuzzer target for the HTTP request framing (server/http.c).
 *
 * Input: one byte k, then k & 15 bytes of piece sizes, then the bytes a client sent.
 * The bytes are fed in those pieces (resuming after every pause, feeding once more while
 * paused, which must take nothing) and then again in one piece; both runs must see the
 * same requests, bodies and completions and end in error or not alike. Along the way:
 * every request on_request sees is within the header's limits, a body never exceeds its
 * Content-Length and is complete at on_complete, an error carries a status from the
 * documented set and a reason, and a failed parser stays failed. A request for
 * "/refuse" or with a body of 7 bytes is stopped by its callback.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sealdrop/http.h"

typedef struct {
	sd_http_parser_t *p;
	uint64_t hash; /* of everything the callbacks saw: the same however the bytes were split */
	int requests, completes;
	uint64_t length, body;
	bool refused;
} run_t;

static void mix(run_t *r, const void *data, size_t len)
{
	const uint8_t *d = data;

	for (size_t i = 0; i < len; i++)
		r->hash = (r->hash ^ d[i]) * 0x100000001b3ull;
}

static void check_request(const sd_http_request_t *q)
{
	static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE"};
	bool known = false;

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		known |= strcmp(q->method, methods[i]) == 0;
	if (!known || q->path[0] != '/' || strchr(q->path, '?') != NULL || strchr(q->path, '#') != NULL ||
	    strlen(q->path) + 1 + strlen(q->query) > SD_HTTP_MAX_TARGET + 1)
		abort();
	if (q->http_minor != 0 && q->http_minor != 1)
		abort();
	if (q->content_length > (1ull << 62) || (!q->has_length && q->content_length != 0))
		abort();
	if (strlen(q->content_type) > SD_HTTP_CTYPE_MAX || strchr(q->content_type, ';') != NULL ||
	    strchr(q->content_type, ' ') != NULL)
		abort();
	for (const char *c = q->content_type; *c != '\0'; c++)
		if (*c >= 'A' && *c <= 'Z')
			abort();
	if (q->expect_continue && q->http_minor != 1)
		abort();
}

static int on_request(void *ctx, const sd_http_request_t *q)
{
	run_t *r = ctx;
	uint8_t flags = (uint8_t)(q->has_length | q->keep_alive << 1 | q->expect_continue << 2 | q->http_minor << 3);

	if (r->requests != r->completes || !sd_http_parser_in_request(r->p))
		abort();
	check_request(q);
	r->requests++;
	r->length = q->content_length;
	r->body = 0;
	mix(r, q->method, strlen(q->method) + 1);
	mix(r, q->path, strlen(q->path) + 1);
	mix(r, q->query, strlen(q->query) + 1);
	mix(r, q->content_type, strlen(q->content_type) + 1);
	mix(r, &q->content_length, sizeof(q->content_length));
	mix(r, &flags, 1);
	if (strcmp(q->path, "/refuse") == 0) {
		r->refused = true;
		return -1;
	}
	return (r->hash & 3) == 0 ? SD_HTTP_PAUSE : 0;
}

static int on_body(void *ctx, const uint8_t *data, size_t len)
{
	run_t *r = ctx;

	if (r->requests != r->completes + 1 || len == 0 || len > r->length - r->body)
		abort();
	if (r->length == 7) { /* decided before the pieces are seen: they differ between runs */
		r->refused = true;
		return -1;
	}
	r->body += len;
	mix(r, data, len);
	return 0;
}

static int on_complete(void *ctx)
{
	run_t *r = ctx;

	if (r->requests != r->completes + 1 || r->body != r->length || sd_http_parser_in_request(r->p))
		abort();
	r->completes++;
	mix(r, "done", 4);
	return 0;
}

static bool status_is_documented(int status)
{
	static const int statuses[] = {400, 405, 411, 414, 431, 501, 505};

	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (status == statuses[i])
			return true;
	return false;
}

static void check_error(run_t *r, int err)
{
	int status = sd_http_parser_status(r->p);
	size_t c = 1;

	if (err >= 0 || (status == 0) != r->refused || (status != 0 && !status_is_documented(status)))
		abort();
	if (sd_error_detail()[0] == '\0' || strlen(sd_error_detail()) > 200)
		abort();
	if (sd_http_parser_feed(r->p, (const uint8_t *)"GET / HTTP/1.1\r\n\r\n", 18, &c) != err || c != 0 ||
	    sd_http_parser_status(r->p) != status)
		abort();
}

/* Feeds data in pieces of the given sizes (cycling; none: one piece). Returns the error,
 * or 0. */
static int run(run_t *r, const uint8_t *data, size_t len, const uint8_t *sizes, size_t n_sizes)
{
	static const sd_http_callbacks_t cb = {on_request, on_body, on_complete};
	size_t off = 0, k = 0;
	int err = 0;

	memset(r, 0, sizeof(*r));
	r->hash = 0xcbf29ce484222325ull;
	if ((r->p = sd_http_parser_new(&cb, r)) == NULL)
		abort();
	while (off < len && err == 0) {
		size_t piece = n_sizes > 0 ? (size_t)sizes[k++ % n_sizes] + 1 : len;
		size_t end = off + (piece < len - off ? piece : len - off);

		while (off < end && err == 0) {
			size_t c = 0, again = 1;
			err = sd_http_parser_feed(r->p, data + off, end - off, &c);
			if (c > end - off)
				abort();
			off += c;
			if (err != 0)
				check_error(r, err);
			else if (!sd_http_parser_is_paused(r->p) && off != end)
				abort();
			else if (sd_http_parser_is_paused(r->p)) {
				if (sd_http_parser_feed(r->p, data + off, end - off, &again) != 0 || again != 0)
					abort();
				sd_http_parser_resume(r->p);
			}
		}
	}
	if (r->requests != r->completes && r->requests != r->completes + 1)
		abort();
	sd_http_parser_free(r->p);
	return err;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	run_t split, whole;
	size_t n_sizes;
	int e1, e2;

	if (size == 0)
		return 0;
	n_sizes = data[0] & 15u;
	if (size < 1 + n_sizes)
		return 0;
	e1 = run(&split, data + 1 + n_sizes, size - 1 - n_sizes, data + 1, n_sizes);
	e2 = run(&whole, data + 1 + n_sizes, size - 1 - n_sizes, NULL, 0);
	if ((e1 != 0) != (e2 != 0) || split.hash != whole.hash || split.requests != whole.requests ||
	    split.completes != whole.completes)
		abort();
	return 0;
}
