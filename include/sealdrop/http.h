/*
 * http.h — HTTP/1.1 request framing for sealdropd, streaming, on libhttp-parser.
 *
 * The connection module (server/conn.c) feeds the bytes it reads; the parser calls back
 * once the request line and headers are complete (with every limit below checked), then
 * with each piece of the body as it arrives, then once at the end of the request. A body
 * is never buffered here. Nothing in this module touches a socket or libevent, so it can
 * be unit-tested and fuzzed on plain byte strings.
 *
 * What a request may be: methods GET, HEAD, POST, PUT, DELETE; an origin-form target
 * ("/path?query") of at most SD_HTTP_MAX_TARGET bytes; at most SD_HTTP_MAX_HEADERS header
 * fields and SD_HTTP_MAX_HEAD_BYTES bytes from the request line to the blank line; a body
 * only with Content-Length (Transfer-Encoding: chunked is refused with 411, as a drop box
 * must know a body's size before it reads it); HTTP/1.0 or 1.1. Anything else stops the
 * parser with an HTTP status for the answer (400, 405, 411, 414, 431, 501, 505).
 */
#ifndef SEALDROP_HTTP_H
#define SEALDROP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sealdrop/error.h"

#define SD_HTTP_MAX_HEAD_BYTES    8192 /* request line + header fields */
#define SD_HTTP_MAX_TARGET        1024 /* the request target (path and query) */
#define SD_HTTP_MAX_HEADERS       64
#define SD_HTTP_METHOD_MAX        8
#define SD_HTTP_CTYPE_MAX         128
#define SD_HTTP_RESPONSE_HEAD_MAX 512 /* what sd_http_format_head may write */

typedef struct sd_http_parser sd_http_parser_t;

/* A request's line and the headers sealdropd uses. Valid during on_request only. */
typedef struct {
	char method[SD_HTTP_METHOD_MAX + 1];      /* "GET", "HEAD", "POST", "PUT", "DELETE" */
	const char *path;                         /* starts with '/', no query, not decoded */
	const char *query;                        /* after '?', "" when none */
	bool has_length;                          /* a Content-Length header was present */
	uint64_t content_length;                  /* 0 without one */
	bool keep_alive;                          /* 1.1 unless "Connection: close"; 1.0 only with keep-alive */
	bool expect_continue;                     /* "Expect: 100-continue" */
	char content_type[SD_HTTP_CTYPE_MAX + 1]; /* media type, lower case, no parameters; "" when absent */
	int http_minor;                           /* 0 or 1 */
} sd_http_request_t;

/* Each callback returns 0 to go on, or a negative value to stop the parser (feed then
 * returns SD_ERR_REFUSED and sd_http_parser_status() gives 0: the caller has already
 * decided what to answer). on_request may instead return SD_HTTP_PAUSE: the parser
 * stops right after the headers, and the caller resumes it with sd_http_parser_resume()
 * and feeds the rest later (the body's bytes stay unconsumed until then). on_complete
 * always pauses the parser: one request at a time; the caller resumes after replying. */
#define SD_HTTP_PAUSE 1
typedef struct {
	int (*on_request)(void *ctx, const sd_http_request_t *req);
	int (*on_body)(void *ctx, const uint8_t *data, size_t len);
	int (*on_complete)(void *ctx);
} sd_http_callbacks_t;

/* NULL only when out of memory. */
sd_http_parser_t *sd_http_parser_new(const sd_http_callbacks_t *cb, void *ctx);
void sd_http_parser_free_(sd_http_parser_t *p);
#define sd_http_parser_free(p)                                                                                         \
	do {                                                                                                           \
		sd_http_parser_free_(p);                                                                               \
		(p) = NULL;                                                                                            \
	} while (0)

/* Parses up to len bytes. *consumed receives how many were used: all of them, or fewer
 * when the parser paused (after headers on SD_HTTP_PAUSE, or at the end of a request).
 * Returns 0 (see sd_http_parser_is_paused), or SD_ERR_FORMAT / SD_ERR_TOOBIG / ... when
 * the input is not an acceptable request: sd_http_parser_status() then gives the HTTP
 * status to answer with and sd_error_detail() a one-line reason; the connection must be
 * closed after that answer. SD_ERR_REFUSED when a callback stopped it. */
int sd_http_parser_feed(sd_http_parser_t *p, const uint8_t *data, size_t len, size_t *consumed) SD_WUR;
bool sd_http_parser_is_paused(const sd_http_parser_t *p);
void sd_http_parser_resume(sd_http_parser_t *p);
/* True between a request's first byte and its on_complete (for timeouts and for a
 * clean close when the peer hangs up between requests). */
bool sd_http_parser_in_request(const sd_http_parser_t *p);
/* The HTTP status that describes the last parse error, 0 when there was none. */
int sd_http_parser_status(const sd_http_parser_t *p);

/* "OK", "Not Found", ... ("Unknown" for a status the server never sends). */
const char *sd_http_status_text(int status);

/* Writes a response's status line and headers, blank line included: Content-Type (when
 * ctype is not NULL), Content-Length, "Connection: close" unless keep_alive, and
 * Cache-Control: no-store. Never a Date or Server header (they would time and fingerprint
 * the service for nothing). Returns the length, or SD_ERR_TOOBIG if cap is too small. */
int sd_http_format_head(char *buf, size_t cap, int status, const char *ctype, uint64_t content_length, bool keep_alive);

#endif
