/*
 * test_http.c — HTTP/1.1 request framing (server/http.c). Table-driven: good requests
 * (each fed whole, split at every byte boundary, and byte by byte: the same request and
 * the body pieces concatenating to the body), every refusal with its status (also fed
 * byte by byte), every limit at exactly the limit and one past it, pausing after the
 * head and after each request of a pipeline, callbacks that stop the parser, and the
 * response heads sd_http_format_head writes.
 */
#include "unit.h"

#include <stdbool.h>

#include "sealdrop/http.h"

#define BODY_MAX 256
#define S(s)     (const uint8_t *)(s), strlen(s)

/* What the callbacks saw. */
typedef struct {
	int requests, completes;
	char method[SD_HTTP_METHOD_MAX + 1];
	char path[SD_HTTP_MAX_TARGET + 1];
	char query[SD_HTTP_MAX_TARGET + 1];
	bool has_length, keep_alive, expect_continue;
	uint64_t content_length;
	char content_type[SD_HTTP_CTYPE_MAX + 1];
	int http_minor;
	uint8_t body[BODY_MAX];
	size_t body_len;
	bool body_before_request, body_after_complete;
	/* What the callbacks answer. */
	int request_answer, body_answer, complete_answer;
} rec_t;

static int rec_request(void *ctx, const sd_http_request_t *req)
{
	rec_t *r = ctx;

	r->requests++;
	snprintf(r->method, sizeof(r->method), "%s", req->method);
	snprintf(r->path, sizeof(r->path), "%s", req->path);
	snprintf(r->query, sizeof(r->query), "%s", req->query);
	r->has_length = req->has_length;
	r->content_length = req->content_length;
	r->keep_alive = req->keep_alive;
	r->expect_continue = req->expect_continue;
	snprintf(r->content_type, sizeof(r->content_type), "%s", req->content_type);
	r->http_minor = req->http_minor;
	r->body_len = 0;
	return r->request_answer;
}

static int rec_body(void *ctx, const uint8_t *data, size_t len)
{
	rec_t *r = ctx;

	if (r->requests == 0)
		r->body_before_request = true;
	if (r->completes == r->requests)
		r->body_after_complete = true;
	assert_true(len > 0);
	assert_true(len <= BODY_MAX - r->body_len);
	memcpy(r->body + r->body_len, data, len);
	r->body_len += len;
	return r->body_answer;
}

static int rec_complete(void *ctx)
{
	rec_t *r = ctx;

	r->completes++;
	return r->complete_answer;
}

static const sd_http_callbacks_t rec_cb = {rec_request, rec_body, rec_complete};

/* Feeds d: a first piece of `first` bytes, then pieces of `step` (0: the rest at once),
 * resuming after every pause as a connection would. Returns the first error, or 0;
 * *used gets the bytes consumed. */
static int drive(sd_http_parser_t *p, const uint8_t *d, size_t len, size_t first, size_t step, size_t *used)
{
	size_t off = 0;

	while (off < len) {
		size_t piece = off == 0 && first > 0 ? first : step > 0 ? step : len - off;
		size_t end = off + (piece < len - off ? piece : len - off);

		while (off < end) {
			size_t c = 99999;
			int r = sd_http_parser_feed(p, d + off, end - off, &c);
			assert_true(c <= end - off);
			off += c;
			if (r != 0) {
				*used = off;
				return r;
			}
			if (sd_http_parser_is_paused(p))
				sd_http_parser_resume(p);
			else
				assert_int_equal(off, end);
		}
	}
	*used = off;
	return 0;
}

/* --- good requests ------------------------------------------------------------------ */

typedef struct {
	const char *text;
	const char *method, *path, *query;
	bool has_length;
	uint64_t length;
	bool keep_alive, expect_continue;
	const char *ctype;
	int minor;
	const char *body;
} good_t;

static const good_t goods[] = {
        {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", "GET", "/", "", false, 0, true, false, "", 1, ""},
        {"GET /v1/health HTTP/1.1\r\n\r\n", "GET", "/v1/health", "", false, 0, true, false, "", 1, ""},
        {"GET /v1/cases?after=2026-000001&x HTTP/1.1\r\nhost: a\r\n\r\n", "GET", "/v1/cases", "after=2026-000001&x",
         false, 0, true, false, "", 1, ""},
        {"GET /a? HTTP/1.1\r\n\r\n", "GET", "/a", "", false, 0, true, false, "", 1, ""},
        {"HEAD /v1/crl HTTP/1.1\r\nConnection: close\r\n\r\n", "HEAD", "/v1/crl", "", false, 0, false, false, "", 1,
         ""},
        {"DELETE /x HTTP/1.1\r\nConnection: Keep-Alive, Close\r\n\r\n", "DELETE", "/x", "", false, 0, false, false, "",
         1, ""},
        {"POST /v1/uploads HTTP/1.1\r\nContent-Length: 11\r\nContent-Type: Application/Octet-Stream\r\n\r\nhello "
         "world",
         "POST", "/v1/uploads", "", true, 11, true, false, "application/octet-stream", 1, "hello world"},
        {"PUT /v1/uploads/ab/blobs/0/chunks/1 HTTP/1.1\r\ncontent-LENGTH:   5  \r\nEXPECT: 100-Continue\r\n\r\n"
         "\x00\x01\r\n\xff",
         "PUT", "/v1/uploads/ab/blobs/0/chunks/1", "", true, 5, true, true, "", 1, "\x00\x01\r\n\xff"},
        {"POST /j HTTP/1.1\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: 2\r\n\r\n{}", "POST",
         "/j", "", true, 2, true, false, "application/json", 1, "{}"},
        {"POST /z HTTP/1.1\r\nContent-Length: 0\r\n\r\n", "POST", "/z", "", true, 0, true, false, "", 1, ""},
        {"POST /z HTTP/1.1\r\nContent-Length: 007\r\n\r\n1234567", "POST", "/z", "", true, 7, true, false, "", 1,
         "1234567"},
        {"GET / HTTP/1.0\r\n\r\n", "GET", "/", "", false, 0, false, false, "", 0, ""},
        {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "GET", "/", "", false, 0, true, false, "", 0, ""},
        {"GET / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", "GET", "/", "", false, 0, false, false, "", 0, ""},
        {"GET / HTTP/1.1\r\nExpect: 100-continue-not\r\n\r\n", "GET", "/", "", false, 0, true, false, "", 1, ""},
        {"\r\n\r\nGET /lead HTTP/1.1\r\n\r\n", "GET", "/lead", "", false, 0, true, false, "", 1, ""},
        {"GET / HTTP/1.1\nX-Bare: lf\n\n", "GET", "/", "", false, 0, true, false, "", 1, ""},
        {"GET / HTTP/1.1\r\nX-Empty:\r\nContent-Length: 2\r\n\r\nab", "GET", "/", "", true, 2, true, false, "", 1,
         "ab"},
        {"GET /%41%2f HTTP/1.1\r\nX-High: \xc3\xa9t\xc3\xa9\r\n\r\n", "GET", "/%41%2f", "", false, 0, true, false, "",
         1, ""},
        {"GET / HTTP/1.1\r\nContent-Type: text/plain\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n", "GET", "/", "",
         false, 0, true, false, "text/plain", 1, ""},
};

static void check_good(const good_t *g, size_t first, size_t step)
{
	rec_t rec = {0};
	sd_http_parser_t *p = sd_http_parser_new(&rec_cb, &rec);
	const char *line = g->text + strspn(g->text, "\r\n");
	const char *crlf = strstr(line, "\r\n\r\n"), *lf = strstr(line, "\n\n");
	/* The body may hold NUL bytes: the text is the head and the declared length. */
	size_t len = crlf != NULL ? (size_t)(crlf + 4 - g->text) : (size_t)(lf + 2 - g->text), used;

	len += (size_t)g->length;
	assert_non_null(p);
	assert_int_equal(drive(p, (const uint8_t *)g->text, len, first, step, &used), 0);
	assert_int_equal(used, len);
	assert_int_equal(rec.requests, 1);
	assert_int_equal(rec.completes, 1);
	assert_string_equal(rec.method, g->method);
	assert_string_equal(rec.path, g->path);
	assert_string_equal(rec.query, g->query);
	assert_int_equal(rec.has_length, g->has_length);
	assert_int_equal(rec.content_length, g->length);
	assert_int_equal(rec.keep_alive, g->keep_alive);
	assert_int_equal(rec.expect_continue, g->expect_continue);
	assert_string_equal(rec.content_type, g->ctype);
	assert_int_equal(rec.http_minor, g->minor);
	assert_int_equal(rec.body_len, g->length);
	assert_memory_equal(rec.body, g->body, g->length);
	assert_false(rec.body_before_request);
	assert_false(rec.body_after_complete);
	assert_false(sd_http_parser_in_request(p));
	assert_int_equal(sd_http_parser_status(p), 0);
	sd_http_parser_free(p);
	assert_null(p);
}

static void test_good_requests(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		size_t len = strlen(goods[i].text);
		check_good(&goods[i], 0, 0);
		check_good(&goods[i], 0, 1);
		check_good(&goods[i], 0, 3);
		for (size_t k = 1; k < len; k++)
			check_good(&goods[i], k, 0);
	}
}

/* A body split at every boundary, and in every pair of pieces, reaches on_body as
 * pieces that concatenate to it and never before the request. */
static void test_body_every_split(void **state)
{
	static const char head[] = "POST /b HTTP/1.1\r\nContent-Length: 40\r\n\r\n";
	static const char body[] = "0123456789abcdefghijklmnopqrstuvwxyz!@#$";
	char text[sizeof(head) + sizeof(body)];
	size_t len, hl = strlen(head);

	(void)state;
	snprintf(text, sizeof(text), "%s%s", head, body);
	len = strlen(text);
	for (size_t a = hl; a < len; a++) {
		for (size_t b = a + 1; b <= len; b++) {
			rec_t rec = {0};
			sd_http_parser_t *p = sd_http_parser_new(&rec_cb, &rec);
			size_t used, c;
			assert_int_equal(drive(p, (const uint8_t *)text, a, 0, 0, &used), 0);
			assert_int_equal(drive(p, (const uint8_t *)text + a, b - a, 0, 0, &c), 0);
			used += c;
			assert_int_equal(drive(p, (const uint8_t *)text + b, len - b, 0, 0, &c), 0);
			used += c;
			assert_int_equal(used, len);
			assert_int_equal(rec.requests, 1);
			assert_int_equal(rec.completes, 1);
			assert_int_equal(rec.body_len, 40);
			assert_memory_equal(rec.body, body, 40);
			sd_http_parser_free(p);
		}
	}
}

/* --- refusals ----------------------------------------------------------------------- */

typedef struct {
	const char *text;
	int status;
	int err;
	const char *detail; /* a part of the reason */
} bad_t;

static const bad_t bads[] = {
        {"OPTIONS * HTTP/1.1\r\n\r\n", 501, SD_ERR_REFUSED, "method"},
        {"PATCH /x HTTP/1.1\r\n\r\n", 501, SD_ERR_REFUSED, "method"},
        {"TRACE / HTTP/1.1\r\n\r\n", 501, SD_ERR_REFUSED, "method"},
        {"CONNECT example.org:443 HTTP/1.1\r\n\r\n", 501, SD_ERR_REFUSED, "method"},
        {"BREW /pot HTTP/1.1\r\n\r\n", 501, SD_ERR_REFUSED, "method"},
        {"get / HTTP/1.1\r\n\r\n", 400, SD_ERR_FORMAT, "method"},
        {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400, SD_ERR_FORMAT, "method"},
        {"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505, SD_ERR_VERSION, "HTTP/2"},
        {"GET / HTTP/2.0\r\n\r\n", 505, SD_ERR_VERSION, "HTTP/2.0"},
        {"GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505, SD_ERR_VERSION, "HTTP/1.2"},
        {"GET / HTTP/3.0\r\n\r\n", 505, SD_ERR_VERSION, "HTTP/3.0"},
        {"GET /\r\n\r\n", 400, SD_ERR_VERSION, "HTTP/0.9"},
        {"GET /\r\nHost: a\r\n\r\n", 400, SD_ERR_VERSION, "HTTP/0.9"},
        {"GET / HTTP/1.x\r\n\r\n", 400, SD_ERR_FORMAT, "version"},
        {"GET / FTP/1.1\r\n\r\n", 400, SD_ERR_FORMAT, "malformed"},
        {"GET http://example.org/ HTTP/1.1\r\n\r\n", 400, SD_ERR_FORMAT, "'/'"},
        {"GET example.org:80 HTTP/1.1\r\n\r\n", 400, SD_ERR_FORMAT, "target"},
        {"GET /a#frag HTTP/1.1\r\n\r\n", 400, SD_ERR_FORMAT, "fragment"},
        {"GET /a\x01 HTTP/1.1\r\n\r\n", 400, SD_ERR_FORMAT, "target"},
        {"GET /\xc3\xa9 HTTP/1.1\r\n\r\n", 400, SD_ERR_FORMAT, "target"},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 411, SD_ERR_REFUSED,
         "Transfer-Encoding"},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc", 411, SD_ERR_REFUSED,
         "Transfer-Encoding"},
        {"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc", 411, SD_ERR_REFUSED,
         "Transfer-Encoding"},
        {"GET / HTTP/1.1\r\ntransfer-encoding: identity\r\n\r\n", 411, SD_ERR_REFUSED, "Transfer-Encoding"},
        {"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400, SD_ERR_FORMAT, "more than once"},
        {"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 400, SD_ERR_FORMAT, "more than once"},
        {"POST / HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\nabc", 400, SD_ERR_FORMAT, "Content-Length"},
        {"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, SD_ERR_FORMAT, "Content-Length"},
        {"POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\n", 400, SD_ERR_FORMAT, "Content-Length"},
        {"POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n", 400, SD_ERR_FORMAT, "Content-Length"},
        {"POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", 400, SD_ERR_FORMAT, "Content-Length"},
        {"POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n", 400, SD_ERR_FORMAT, "Content-Length"},
        {"POST / HTTP/1.1\r\nContent-Length: 4611686018427387905\r\n\r\n", 400, SD_ERR_TOOBIG, "2^62"},
        {"POST / HTTP/1.1\r\nContent-Length: 9223372036854775807\r\n\r\n", 400, SD_ERR_TOOBIG, "2^62"},
        {"POST / HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n\r\n", 400, SD_ERR_FORMAT, "2^62"},
        {"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400, SD_ERR_FORMAT, "2^62"},
        {"GET / HTTP/1.1\r\nX-Folded: a\r\n b\r\n\r\n", 400, SD_ERR_FORMAT, "folding"},
        {"GET / HTTP/1.1\r\nContent-Type: text/plain\r\n\tcharset=x\r\n\r\n", 400, SD_ERR_FORMAT, "folding"},
        {"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400, SD_ERR_FORMAT, "header"},
        {"GET / HTTP/1.1\r\nX\x01Y: a\r\n\r\n", 400, SD_ERR_FORMAT, "header"},
        {"GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n", 400, SD_ERR_FORMAT, "header"},
        {"GET / HTTP/1.1\r\nContent-Type: text\r\n\r\n", 400, SD_ERR_FORMAT, "media type"},
        {"GET / HTTP/1.1\r\nContent-Type: /plain\r\n\r\n", 400, SD_ERR_FORMAT, "media type"},
        {"GET / HTTP/1.1\r\nContent-Type: text/\r\n\r\n", 400, SD_ERR_FORMAT, "media type"},
        {"GET / HTTP/1.1\r\nContent-Type: a/b/c\r\n\r\n", 400, SD_ERR_FORMAT, "media type"},
        {"GET / HTTP/1.1\r\nContent-Type: text/pl ain\r\n\r\n", 400, SD_ERR_FORMAT, "media type"},
        {"GET / HTTP/1.1\r\nContent-Type: a/b\r\nContent-Type: a/b\r\n\r\n", 400, SD_ERR_FORMAT, "more than once"},
        {"GET / HTTP/1.1\rX: a\r\n\r\n", 400, SD_ERR_FORMAT, "LF"},
        /* What a lenient (HTTP_PARSER_STRICT=0) libhttp-parser would take. */
        {"GET / HXXP/1.1\r\n\r\n", 400, SD_ERR_FORMAT, "version"},
        {"GET / HTTP/1.1 \r\n\r\n", 400, SD_ERR_FORMAT, "version"},
        {"GET / HTTP/1.10\r\n\r\n", 400, SD_ERR_FORMAT, "version"},
        {"GET / HTTP/1.\r\n\r\n", 400, SD_ERR_FORMAT, "version"},
        {"GET  / HTTP/1.1\r\n\r\n", 400, SD_ERR_FORMAT, "request line"},
        {"GET /  HTTP/1.1\r\n\r\n", 400, SD_ERR_FORMAT, "version"},
        {" GET / HTTP/1.1\r\n\r\n", 400, SD_ERR_FORMAT, "method"},
        {"GET /\ta HTTP/1.1\r\n\r\n", 400, SD_ERR_FORMAT, "target"},
        {"GET /\fa HTTP/1.1\r\n\r\n", 400, SD_ERR_FORMAT, "target"},
        {"GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400, SD_ERR_FORMAT, "folding"},
        {"GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", 400, SD_ERR_FORMAT, "header field"},
        {"GET / HTTP/1.1\r\n: a\r\n\r\n", 400, SD_ERR_FORMAT, "header field"},
        {"GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400, SD_ERR_FORMAT, "header field"},
        {"GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n", 400, SD_ERR_FORMAT, "header field"},
        {"GET / HTTP/1.1\r\nX: a\x1b[31m\r\n\r\n", 400, SD_ERR_FORMAT, "header field"},
        {"GET / HTTP/1.1\r\nX: a\rY: b\r\n\r\n", 400, SD_ERR_FORMAT, "LF"},
        {"GET / HTTP/1.1\r\nX: a\r\n\rZ\r\n", 400, SD_ERR_FORMAT, "LF"},
        {"\r\rGET / HTTP/1.1\r\n\r\n", 400, SD_ERR_FORMAT, "LF"},
        {"GET / HTTP/1.1\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n\r\n", 400, SD_ERR_FORMAT, "closes"},
        {"GET / HTTP/1.0\r\n\r\n\r\n", 400, SD_ERR_FORMAT, "closes"},
};

static void check_bad(const bad_t *b, size_t step)
{
	rec_t rec = {0};
	sd_http_parser_t *p = sd_http_parser_new(&rec_cb, &rec);
	size_t used, c = 1;
	int r;

	r = drive(p, S(b->text), 0, step, &used);
	if (r != b->err || sd_http_parser_status(p) != b->status || strstr(sd_error_detail(), b->detail) == NULL)
		print_error("%s: %d %d %s\n", b->text, r, sd_http_parser_status(p), sd_error_detail());
	assert_int_equal(r, b->err);
	assert_int_equal(sd_http_parser_status(p), b->status);
	assert_non_null(strstr(sd_error_detail(), b->detail));
	assert_true(used <= strlen(b->text));
	/* The parser stays failed, with the same status and reason. */
	sd_error_clear();
	assert_int_equal(sd_http_parser_feed(p, S("GET / HTTP/1.1\r\n\r\n"), &c), b->err);
	assert_int_equal(c, 0);
	assert_int_equal(sd_http_parser_status(p), b->status);
	assert_non_null(strstr(sd_error_detail(), b->detail));
	/* A request that is refused never reaches a callback, unless it came after one
	 * that completed. */
	assert_int_equal(rec.requests, rec.completes);
	assert_int_equal(rec.body_len, 0);
	sd_http_parser_free(p);
}

static void test_refusals(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		check_bad(&bads[i], 0);
		check_bad(&bads[i], 1);
		check_bad(&bads[i], 2);
	}
}

/* --- limits ------------------------------------------------------------------------- */

/* A request of exactly head_len head bytes: a padding header makes up the size. */
static char *head_of(size_t head_len)
{
	static const char line[] = "GET / HTTP/1.1\r\nX-Pad: ";
	char *t = malloc(head_len + 1);
	size_t n = strlen(line);

	assert_non_null(t);
	assert_true(head_len > n + 4);
	memcpy(t, line, n);
	memset(t + n, 'p', head_len - n - 4);
	memcpy(t + head_len - 4, "\r\n\r\n", 5);
	return t;
}

static int parse_text(const char *t, size_t step, rec_t *rec, int *status)
{
	sd_http_parser_t *p = sd_http_parser_new(&rec_cb, rec);
	size_t used;
	int r;

	assert_non_null(p);
	r = drive(p, S(t), 0, step, &used);
	*status = sd_http_parser_status(p);
	sd_http_parser_free(p);
	return r;
}

static void test_head_limit(void **state)
{
	static const size_t steps[] = {0, 1, 7, 4096, 8191, 8192, 8193};
	(void)state;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		char *at = head_of(SD_HTTP_MAX_HEAD_BYTES), *past = head_of(SD_HTTP_MAX_HEAD_BYTES + 1);
		rec_t rec = {0};
		int status;

		assert_int_equal(parse_text(at, steps[i], &rec, &status), 0);
		assert_int_equal(rec.completes, 1);
		memset(&rec, 0, sizeof(rec));
		assert_int_equal(parse_text(past, steps[i], &rec, &status), SD_ERR_TOOBIG);
		assert_int_equal(status, 431);
		assert_string_equal(sd_error_detail(), "request header section is larger than 8192 bytes");
		assert_int_equal(rec.requests, 0);
		free(at);
		free(past);
	}
}

/* A head that never ends is refused after at most the limit and one byte. */
static void test_head_without_end(void **state)
{
	size_t n = 100000, used;
	char *t = malloc(n);
	sd_http_parser_t *p = sd_http_parser_new(&rec_cb, NULL);

	(void)state;
	memcpy(t, "GET / HTTP/1.1\r\nX: ", 19);
	memset(t + 19, 'x', n - 19);
	assert_int_equal(sd_http_parser_feed(p, (uint8_t *)t, n, &used), SD_ERR_TOOBIG);
	assert_int_equal(sd_http_parser_status(p), 431);
	assert_true(used <= SD_HTTP_MAX_HEAD_BYTES + 1);
	sd_http_parser_free(p);
	free(t);
}

static void test_target_limit(void **state)
{
	char t[SD_HTTP_MAX_TARGET + 64];
	static const size_t steps[] = {0, 1, 100};
	rec_t rec;
	int status;

	(void)state;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		for (size_t len = SD_HTTP_MAX_TARGET - 1; len <= SD_HTTP_MAX_TARGET + 1; len++) {
			memcpy(t, "GET /", 5);
			memset(t + 5, 'a', len - 1);
			snprintf(t + 4 + len, sizeof(t) - 4 - len, " HTTP/1.1\r\n\r\n");
			memset(&rec, 0, sizeof(rec));
			int r = parse_text(t, steps[i], &rec, &status);
			if (len <= SD_HTTP_MAX_TARGET) {
				assert_int_equal(r, 0);
				assert_int_equal(strlen(rec.path), len);
			} else {
				assert_int_equal(r, SD_ERR_TOOBIG);
				assert_int_equal(status, 414);
				assert_string_equal(sd_error_detail(), "request target is longer than 1024 bytes");
			}
		}
	}
	/* The query counts too. */
	memset(&rec, 0, sizeof(rec));
	memcpy(t, "GET /?", 6);
	memset(t + 6, 'q', SD_HTTP_MAX_TARGET - 1);
	snprintf(t + 5 + SD_HTTP_MAX_TARGET, sizeof(t) - 5 - SD_HTTP_MAX_TARGET, " HTTP/1.1\r\n\r\n");
	assert_int_equal(parse_text(t, 0, &rec, &status), SD_ERR_TOOBIG);
	assert_int_equal(status, 414);
}

static char *headers_of(size_t n)
{
	char *t = malloc(32 + n * 16);
	size_t off;

	assert_non_null(t);
	off = (size_t)snprintf(t, 32, "GET / HTTP/1.1\r\n");
	for (size_t i = 0; i < n; i++)
		off += (size_t)snprintf(t + off, 16, "X-%zu: v\r\n", i);
	snprintf(t + off, 3, "\r\n");
	return t;
}

static void test_header_count_limit(void **state)
{
	char *at = headers_of(SD_HTTP_MAX_HEADERS), *past = headers_of(SD_HTTP_MAX_HEADERS + 1);
	rec_t rec = {0};
	int status;

	(void)state;
	assert_int_equal(parse_text(at, 0, &rec, &status), 0);
	assert_int_equal(rec.completes, 1);
	assert_int_equal(parse_text(past, 0, &rec, &status), SD_ERR_TOOBIG);
	assert_int_equal(status, 431);
	assert_string_equal(sd_error_detail(), "request has more than 64 header fields");
	assert_int_equal(parse_text(past, 1, &rec, &status), SD_ERR_TOOBIG);
	assert_int_equal(status, 431);
	free(at);
	free(past);
}

static void test_content_length_limit(void **state)
{
	rec_t rec = {0};
	int status;

	(void)state;
	/* 2^62 is taken (the body is not sent here), 2^62 + 1 is not. */
	rec.request_answer = -1;
	assert_int_equal(parse_text("POST / HTTP/1.1\r\nContent-Length: 4611686018427387904\r\n\r\n", 0, &rec, &status),
	                 SD_ERR_REFUSED);
	assert_int_equal(status, 0);
	assert_int_equal(rec.content_length, UINT64_C(4611686018427387904));
	assert_true(rec.has_length);
	assert_int_equal(parse_text("POST / HTTP/1.1\r\nContent-Length: 4611686018427387905\r\n\r\n", 1, &rec, &status),
	                 SD_ERR_TOOBIG);
	assert_int_equal(status, 400);
	assert_string_equal(sd_error_detail(), "Content-Length is larger than 2^62");
}

static void test_content_type_limit(void **state)
{
	char t[512], type[SD_HTTP_CTYPE_MAX + 2];
	rec_t rec = {0};
	int status;

	(void)state;
	for (size_t len = SD_HTTP_CTYPE_MAX; len <= SD_HTTP_CTYPE_MAX + 1; len++) {
		memset(type, 'A', len);
		type[3] = '/';
		type[len] = '\0';
		snprintf(t, sizeof(t), "GET / HTTP/1.1\r\nContent-Type: %s; q=1\r\n\r\n", type);
		int r = parse_text(t, 5, &rec, &status);
		if (len == SD_HTTP_CTYPE_MAX) {
			assert_int_equal(r, 0);
			assert_int_equal(strlen(rec.content_type), len);
			assert_int_equal(rec.content_type[0], 'a');
		} else {
			assert_int_equal(r, SD_ERR_TOOBIG);
			assert_int_equal(status, 400);
		}
	}
	/* Long parameters are fine; a long value without parameters is not. */
	snprintf(t, sizeof(t), "GET / HTTP/1.1\r\nContent-Type: a/b; x=%0300d\r\n\r\n", 0);
	assert_int_equal(parse_text(t, 0, &rec, &status), 0);
	assert_string_equal(rec.content_type, "a/b");
	snprintf(t, sizeof(t), "GET / HTTP/1.1\r\nContent-Type: a/b%0300d\r\n\r\n", 0);
	assert_int_equal(parse_text(t, 0, &rec, &status), SD_ERR_TOOBIG);
	assert_int_equal(status, 400);
}

/* --- pausing, pipelining, callbacks ------------------------------------------------- */

static void test_pause_after_head(void **state)
{
	static const char t[] = "PUT /c HTTP/1.1\r\nContent-Length: 6\r\n\r\nchunk!";
	rec_t rec = {0};
	sd_http_parser_t *p = sd_http_parser_new(&rec_cb, &rec);
	size_t used, more, len = strlen(t);

	(void)state;
	rec.request_answer = SD_HTTP_PAUSE;
	assert_int_equal(sd_http_parser_feed(p, S(t), &used), 0);
	assert_true(sd_http_parser_is_paused(p));
	assert_true(sd_http_parser_in_request(p));
	assert_int_equal(rec.requests, 1);
	assert_int_equal(rec.body_len, 0);
	assert_true(used < len - 6 + 1);
	/* Paused: nothing is taken until resumed. */
	assert_int_equal(sd_http_parser_feed(p, (const uint8_t *)t + used, len - used, &more), 0);
	assert_int_equal(more, 0);
	assert_int_equal(rec.body_len, 0);
	sd_http_parser_resume(p);
	assert_false(sd_http_parser_is_paused(p));
	assert_int_equal(sd_http_parser_feed(p, (const uint8_t *)t + used, len - used, &more), 0);
	assert_int_equal(used + more, len);
	assert_int_equal(rec.body_len, 6);
	assert_memory_equal(rec.body, "chunk!", 6);
	assert_int_equal(rec.completes, 1);
	assert_true(sd_http_parser_is_paused(p));
	assert_false(sd_http_parser_in_request(p));
	sd_http_parser_free(p);
}

static void test_pipelined(void **state)
{
	static const char one[] = "POST /1 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
	static const char two[] = "GET /2?x=y HTTP/1.1\r\n\r\n";
	static const char three[] = "PUT /3 HTTP/1.1\r\nContent-Length: 1\r\nConnection: close\r\n\r\nZ";
	char t[256];
	rec_t rec = {0};
	sd_http_parser_t *p = sd_http_parser_new(&rec_cb, &rec);
	size_t used, len, off = 0;

	(void)state;
	len = (size_t)snprintf(t, sizeof(t), "%s%s%s", one, two, three);
	assert_int_equal(sd_http_parser_feed(p, (uint8_t *)t, len, &used), 0);
	assert_int_equal(used, strlen(one));
	assert_true(sd_http_parser_is_paused(p));
	assert_false(sd_http_parser_in_request(p));
	assert_int_equal(rec.completes, 1);
	assert_string_equal(rec.path, "/1");
	assert_true(rec.keep_alive);
	off += used;
	/* Still paused: no second request until the caller resumes. */
	assert_int_equal(sd_http_parser_feed(p, (uint8_t *)t + off, len - off, &used), 0);
	assert_int_equal(used, 0);
	assert_int_equal(rec.requests, 1);
	sd_http_parser_resume(p);
	assert_int_equal(sd_http_parser_feed(p, (uint8_t *)t + off, len - off, &used), 0);
	assert_int_equal(used, strlen(two));
	assert_int_equal(rec.completes, 2);
	assert_string_equal(rec.path, "/2");
	assert_string_equal(rec.query, "x=y");
	off += used;
	sd_http_parser_resume(p);
	/* The third, a byte at a time: in a request from its first byte. */
	assert_int_equal(sd_http_parser_feed(p, (uint8_t *)t + off, 1, &used), 0);
	assert_int_equal(used, 1);
	assert_true(sd_http_parser_in_request(p));
	off += used;
	assert_int_equal(sd_http_parser_feed(p, (uint8_t *)t + off, len - off, &used), 0);
	assert_int_equal(off + used, len);
	assert_int_equal(rec.completes, 3);
	assert_false(rec.keep_alive);
	assert_int_equal(rec.body_len, 1);
	assert_int_equal(rec.body[0], 'Z');
	/* Nothing more on a connection that closes. */
	sd_http_parser_resume(p);
	assert_int_equal(sd_http_parser_feed(p, S("GET / HTTP/1.1\r\n\r\n"), &used), SD_ERR_FORMAT);
	assert_int_equal(sd_http_parser_status(p), 400);
	sd_http_parser_free(p);
}

static void test_in_request(void **state)
{
	rec_t rec = {0};
	sd_http_parser_t *p = sd_http_parser_new(&rec_cb, &rec);
	size_t used;

	(void)state;
	assert_false(sd_http_parser_in_request(p));
	assert_int_equal(sd_http_parser_feed(p, S("\r\n"), &used), 0);
	assert_false(sd_http_parser_in_request(p));
	assert_int_equal(sd_http_parser_feed(p, S("G"), &used), 0);
	assert_true(sd_http_parser_in_request(p));
	assert_int_equal(sd_http_parser_feed(p, S("ET / HTTP/1.1\r\n\r"), &used), 0);
	assert_true(sd_http_parser_in_request(p));
	assert_int_equal(rec.requests, 0);
	assert_int_equal(sd_http_parser_feed(p, S("\n"), &used), 0);
	/* The head is complete: on_request ran, and the request is complete too. */
	assert_int_equal(rec.requests, 1);
	assert_int_equal(rec.completes, 1);
	assert_false(sd_http_parser_in_request(p));
	assert_int_equal(sd_http_parser_feed(p, NULL, 0, &used), 0);
	assert_int_equal(used, 0);
	sd_http_parser_free(p);
}

static void test_callback_refusals(void **state)
{
	static const char t[] = "POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\n\r\n";
	rec_t rec = {0};
	int status;

	(void)state;
	rec.request_answer = -1;
	assert_int_equal(parse_text(t, 0, &rec, &status), SD_ERR_REFUSED);
	assert_int_equal(status, 0);
	assert_int_equal(rec.body_len, 0);
	assert_int_equal(rec.completes, 0);

	memset(&rec, 0, sizeof(rec));
	rec.body_answer = SD_ERR_TOOBIG;
	assert_int_equal(parse_text(t, 2, &rec, &status), SD_ERR_REFUSED);
	assert_int_equal(status, 0);
	assert_int_equal(rec.body_len, 2);
	assert_int_equal(rec.completes, 0);

	memset(&rec, 0, sizeof(rec));
	rec.complete_answer = -1;
	assert_int_equal(parse_text(t, 0, &rec, &status), SD_ERR_REFUSED);
	assert_int_equal(rec.completes, 1);
	assert_int_equal(rec.requests, 1);
}

static void test_no_callbacks(void **state)
{
	static const char t[] = "POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\n\r\n";
	sd_http_callbacks_t none = {0};
	sd_http_parser_t *p = sd_http_parser_new(&none, NULL);
	size_t used;

	(void)state;
	assert_int_equal(drive(p, S(t), 0, 0, &used), 0);
	assert_int_equal(used, strlen(t));
	sd_http_parser_free(p);
	sd_http_parser_free(p); /* NULL after the first free */
}

/* --- responses ---------------------------------------------------------------------- */

static void test_status_text(void **state)
{
	static const struct {
		int status;
		const char *text;
	} t[] = {
	        {100, "Continue"},
	        {200, "OK"},
	        {201, "Created"},
	        {204, "No Content"},
	        {400, "Bad Request"},
	        {401, "Unauthorized"},
	        {403, "Forbidden"},
	        {404, "Not Found"},
	        {405, "Method Not Allowed"},
	        {408, "Request Timeout"},
	        {409, "Conflict"},
	        {411, "Length Required"},
	        {413, "Content Too Large"},
	        {414, "URI Too Long"},
	        {422, "Unprocessable Content"},
	        {429, "Too Many Requests"},
	        {431, "Request Header Fields Too Large"},
	        {500, "Internal Server Error"},
	        {501, "Not Implemented"},
	        {503, "Service Unavailable"},
	        {505, "HTTP Version Not Supported"},
	        {507, "Insufficient Storage"},
	        {0, "Unknown"},
	        {299, "Unknown"},
	        {418, "Unknown"},
	        {-1, "Unknown"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_string_equal(sd_http_status_text(t[i].status), t[i].text);
}

static void test_format_head(void **state)
{
	static const struct {
		int status;
		const char *ctype;
		uint64_t len;
		bool keep_alive;
		const char *want;
	} t[] = {
	        {200, "application/json", 17, true,
	         "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 17\r\n"
	         "Cache-Control: no-store\r\n\r\n"},
	        {404, NULL, 0, false,
	         "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n"},
	        {201, "application/octet-stream", UINT64_MAX, true,
	         "HTTP/1.1 201 Created\r\nContent-Type: application/octet-stream\r\n"
	         "Content-Length: 18446744073709551615\r\nCache-Control: no-store\r\n\r\n"},
	        {204, NULL, 0, true, "HTTP/1.1 204 No Content\r\nCache-Control: no-store\r\n\r\n"},
	        {100, NULL, 0, true, "HTTP/1.1 100 Continue\r\n\r\n"},
	        {599, NULL, 1, false,
	         "HTTP/1.1 599 Unknown\r\nContent-Length: 1\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n"},
	};
	char buf[SD_HTTP_RESPONSE_HEAD_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t n = strlen(t[i].want);
		int r = sd_http_format_head(buf, sizeof(buf), t[i].status, t[i].ctype, t[i].len, t[i].keep_alive);
		assert_int_equal(r, (int)n);
		assert_string_equal(buf, t[i].want);
		assert_null(strstr(buf, "Date"));
		assert_null(strstr(buf, "Server"));
		/* Exactly the length and its NUL fit; one byte less does not. */
		assert_int_equal(sd_http_format_head(buf, n + 1, t[i].status, t[i].ctype, t[i].len, t[i].keep_alive),
		                 (int)n);
		for (size_t cap = 0; cap <= n; cap++)
			assert_int_equal(sd_http_format_head(cap == 0 ? NULL : buf, cap, t[i].status, t[i].ctype,
			                                     t[i].len, t[i].keep_alive),
			                 SD_ERR_TOOBIG);
	}
	/* The longest head that fits SD_HTTP_RESPONSE_HEAD_MAX with the longest media type. */
	char type[SD_HTTP_CTYPE_MAX + 1];
	memset(type, 't', SD_HTTP_CTYPE_MAX);
	type[SD_HTTP_CTYPE_MAX] = '\0';
	assert_true(sd_http_format_head(buf, sizeof(buf), 431, type, UINT64_MAX, false) > 0);
	/* A header cannot be smuggled in through the media type. */
	assert_int_equal(sd_http_format_head(buf, sizeof(buf), 200, "text/plain\r\nSet-Cookie: x", 0, true),
	                 SD_ERR_USAGE);
	assert_int_equal(sd_http_format_head(buf, sizeof(buf), 99, NULL, 0, true), SD_ERR_USAGE);
	assert_int_equal(sd_http_format_head(buf, sizeof(buf), 600, NULL, 0, true), SD_ERR_USAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_good_requests),      cmocka_unit_test(test_body_every_split),
	        cmocka_unit_test(test_refusals),           cmocka_unit_test(test_head_limit),
	        cmocka_unit_test(test_head_without_end),   cmocka_unit_test(test_target_limit),
	        cmocka_unit_test(test_header_count_limit), cmocka_unit_test(test_content_length_limit),
	        cmocka_unit_test(test_content_type_limit), cmocka_unit_test(test_pause_after_head),
	        cmocka_unit_test(test_pipelined),          cmocka_unit_test(test_in_request),
	        cmocka_unit_test(test_callback_refusals),  cmocka_unit_test(test_no_callbacks),
	        cmocka_unit_test(test_status_text),        cmocka_unit_test(test_format_head),
	};

	return cmocka_run_group_tests(tests, unit_setup, NULL);
}
