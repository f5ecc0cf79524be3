/*
 * http.c — HTTP/1.1 request framing on libhttp-parser (include/sealdrop/http.h).
 *
 * Start at sd_http_parser_feed(): it hands libhttp-parser the bytes in slices, so that
 * no more than SD_HTTP_MAX_HEAD_BYTES + 1 bytes of a request's head are ever parsed, and
 * pauses libhttp-parser itself at two points: when the head is complete (head_done(),
 * which checks what the head said and calls on_request outside libhttp-parser's
 * callbacks) and when the request is complete (request_done()). Body bytes go straight
 * to on_body from libhttp-parser's callback; nothing is buffered but the request target
 * and the values of the five headers this module reads (gather_*).
 *
 * Debian's libhttp-parser is built lenient, so scan_head() checks the head's syntax
 * itself, a byte ahead of it. On top of the syntax this module adds what a drop box
 * needs: the method whitelist, an origin-form target, HTTP/1.0 or 1.1 only, no
 * Transfer-Encoding, a strict Content-Length, no obsolete line folding, the limits.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>

#include "sealdrop/http.h"

#define NAME_MAX_BYTES  32           /* a header name this module looks at is shorter */
#define VALUE_MAX_BYTES 256          /* a gathered header value */
#define LENGTH_MAX      (1ull << 62) /* the largest Content-Length taken */
#define DETAIL_MAX      160
#define LEAD_BYTES      4 /* the first bytes of a request, to tell an HTTP/2 preface */
#define VERSION_BYTES   8 /* "HTTP/1.1" */

typedef enum { H_OTHER = 0, H_CONNECTION, H_CONTENT_LENGTH, H_CONTENT_TYPE, H_EXPECT, H_TRANSFER_ENCODING } hdr_t;

/* Where scan_head is in the head. */
typedef enum { SC_LEAD = 0, SC_METHOD, SC_TARGET, SC_VERSION, SC_LINE_START, SC_NAME, SC_VALUE, SC_DONE } scan_t;

/* What libhttp-parser stopped for (our own pauses). */
typedef enum { EV_NONE = 0, EV_HEAD, EV_COMPLETE } event_t;

struct sd_http_parser {
	http_parser hp;
	sd_http_callbacks_t cb;
	void *ctx;

	size_t head_bytes; /* of this request's head, counted from the end of the last one */
	uint8_t lead[LEAD_BYTES];
	size_t lead_len;

	/* The head's own syntax check (scan_head), a byte ahead of libhttp-parser. */
	scan_t scan;
	bool scan_cr;     /* the last byte was a CR: an LF must follow */
	size_t scan_len;  /* of the method, the target, or the version so far */
	bool scan_failed; /* the byte at the end of the scanned bytes breaks the syntax */
	int scan_status, scan_err;
	char scan_detail[DETAIL_MAX];

	event_t event;
	bool in_request, head_is_done, paused, closing;
	int err;    /* sticky: once a feed failed, every later one fails the same way */
	int status; /* the HTTP status to answer an error with */
	char detail[DETAIL_MAX];

	/* The request line and the header being read. */
	bool line_checked;
	char url[SD_HTTP_MAX_TARGET + 1];
	size_t url_len;
	size_t n_headers;
	bool in_field, in_value;
	char name[NAME_MAX_BYTES + 1];
	size_t name_len;
	hdr_t cur;
	char value[VALUE_MAX_BYTES + 1];
	size_t value_len;
	bool value_long;

	/* What the headers said. */
	bool has_length, has_ctype, has_te, conn_close, conn_keep_alive, expect_continue;
	uint64_t length;
	char ctype[SD_HTTP_CTYPE_MAX + 1];

	sd_http_request_t req;
};

static int on_message_begin(http_parser *hp);
static int on_url(http_parser *hp, const char *at, size_t len);
static int on_header_field(http_parser *hp, const char *at, size_t len);
static int on_header_value(http_parser *hp, const char *at, size_t len);
static int on_headers_complete(http_parser *hp);
static int on_body(http_parser *hp, const char *at, size_t len);
static int on_message_complete(http_parser *hp);

static const http_parser_settings settings = {
        .on_message_begin = on_message_begin,
        .on_url = on_url,
        .on_header_field = on_header_field,
        .on_header_value = on_header_value,
        .on_headers_complete = on_headers_complete,
        .on_body = on_body,
        .on_message_complete = on_message_complete,
};

/* --- errors ---------------------------------------------------------------------- */

/* Stops the parser for good with an HTTP status and a one-line reason. */
static int fail(sd_http_parser_t *p, int status, int err, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(sd_http_parser_t *p, int status, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->detail, sizeof(p->detail), fmt, ap);
	va_end(ap);
	p->status = status;
	p->err = err;
	return sd_error(err, "%s", p->detail);
}

static int refused(sd_http_parser_t *p)
{
	return fail(p, 0, SD_ERR_REFUSED, "the request was stopped by its handler");
}

static bool lead_is(const sd_http_parser_t *p, const char *s)
{
	size_t n = strlen(s);

	if (p->lead_len < n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (p->lead[i] != (uint8_t)s[i])
			return false;
	return true;
}

static bool lead_is_upper(const sd_http_parser_t *p)
{
	if (p->lead_len == 0 || p->lead[0] == ' ')
		return false;
	for (size_t i = 0; i < p->lead_len; i++)
		if ((p->lead[i] < 'A' || p->lead[i] > 'Z') && p->lead[i] != ' ')
			return false;
	return true;
}

/* libhttp-parser's own verdict on malformed input, as a status and a reason. */
static int parse_error(sd_http_parser_t *p, enum http_errno e)
{
	switch (e) {
	case HPE_INVALID_METHOD:
		if (lead_is(p, "PRI"))
			return fail(p, 505, SD_ERR_VERSION, "HTTP/2 is not supported; use HTTP/1.1");
		if (lead_is_upper(p))
			return fail(p, 501, SD_ERR_REFUSED,
			            "request method is not one of GET, HEAD, POST, PUT, DELETE");
		return fail(p, 400, SD_ERR_FORMAT, "request line does not start with a method");
	case HPE_INVALID_VERSION:
		return fail(p, 400, SD_ERR_FORMAT, "request line has a malformed HTTP version");
	case HPE_INVALID_URL:
	case HPE_INVALID_HOST:
	case HPE_INVALID_PORT:
	case HPE_INVALID_PATH:
	case HPE_INVALID_QUERY_STRING:
	case HPE_INVALID_FRAGMENT:
		return fail(p, 400, SD_ERR_FORMAT, "request target has a character that is not allowed");
	case HPE_INVALID_HEADER_TOKEN:
		return fail(p, 400, SD_ERR_FORMAT, "a header field has a character that is not allowed");
	case HPE_INVALID_CONTENT_LENGTH:
		return fail(p, 400, SD_ERR_FORMAT, "Content-Length is not a decimal number up to 2^62");
	case HPE_UNEXPECTED_CONTENT_LENGTH:
		if (p->has_te)
			break;
		return fail(p, 400, SD_ERR_FORMAT, "Content-Length appears more than once");
	case HPE_INVALID_TRANSFER_ENCODING:
		break;
	case HPE_HEADER_OVERFLOW:
		return fail(p, 431, SD_ERR_TOOBIG, "request header section is larger than %d bytes",
		            SD_HTTP_MAX_HEAD_BYTES);
	case HPE_CLOSED_CONNECTION:
		return fail(p, 400, SD_ERR_FORMAT, "bytes after the last request of a connection that closes");
	default:
		return fail(p, 400, SD_ERR_FORMAT, "malformed request: %s", http_errno_description(e));
	}
	return fail(p, 411, SD_ERR_REFUSED, "Transfer-Encoding is not accepted; send the body with a Content-Length");
}

/* --- header values --------------------------------------------------------------- */

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* tchar of RFC 9110: what a token (a media type's halves) is made of. */
static bool is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* s[*start, *end) with optional whitespace on both sides taken off. */
static void trim(const char *s, size_t *start, size_t *end)
{
	while (*start < *end && is_ows(s[*start]))
		(*start)++;
	while (*end > *start && is_ows(s[*end - 1]))
		(*end)--;
}

static bool token_is(const char *s, size_t len, const char *word)
{
	if (strlen(word) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (lower(s[i]) != word[i])
			return false;
	return true;
}

static hdr_t classify(const char *name)
{
	static const struct {
		const char *name;
		hdr_t h;
	} known[] = {
	        {"connection", H_CONNECTION},
	        {"content-length", H_CONTENT_LENGTH},
	        {"content-type", H_CONTENT_TYPE},
	        {"expect", H_EXPECT},
	        {"transfer-encoding", H_TRANSFER_ENCODING},
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(name, known[i].name) == 0)
			return known[i].h;
	return H_OTHER;
}

static int gather_length(sd_http_parser_t *p, const char *v, size_t len)
{
	size_t s = 0, e = len;
	uint64_t n = 0;

	trim(v, &s, &e);
	if (p->value_long || s == e)
		return fail(p, 400, SD_ERR_FORMAT, "Content-Length is %s", s == e ? "empty" : "not a decimal number");
	for (size_t i = s; i < e; i++) {
		if (v[i] < '0' || v[i] > '9')
			return fail(p, 400, SD_ERR_FORMAT, "Content-Length is not a decimal number");
		if (n > (LENGTH_MAX - (uint64_t)(v[i] - '0')) / 10)
			return fail(p, 400, SD_ERR_TOOBIG, "Content-Length is larger than 2^62");
		n = n * 10 + (uint64_t)(v[i] - '0');
	}
	if (p->has_length && p->length != n)
		return fail(p, 400, SD_ERR_FORMAT, "Content-Length appears twice with different values");
	p->has_length = true;
	p->length = n;
	return 0;
}

/* The media type, lower case, without parameters: type "/" subtype, both tokens. */
static int gather_ctype(sd_http_parser_t *p, const char *v, size_t len)
{
	const char *semi = memchr(v, ';', len);
	size_t s = 0, e = semi != NULL ? (size_t)(semi - v) : len, slashes = 0;

	if (p->has_ctype)
		return fail(p, 400, SD_ERR_FORMAT, "Content-Type appears more than once");
	trim(v, &s, &e);
	if (e - s > SD_HTTP_CTYPE_MAX || (p->value_long && semi == NULL))
		return fail(p, 400, SD_ERR_TOOBIG, "Content-Type's media type is longer than %d bytes",
		            SD_HTTP_CTYPE_MAX);
	for (size_t i = s; i < e; i++) {
		if (v[i] == '/' && i > s && i + 1 < e && slashes++ == 0)
			continue;
		if (!is_tchar(v[i]))
			return fail(p, 400, SD_ERR_FORMAT, "Content-Type is not a media type (type/subtype)");
	}
	if (slashes != 1)
		return fail(p, 400, SD_ERR_FORMAT, "Content-Type is not a media type (type/subtype)");
	for (size_t i = s; i < e; i++)
		p->ctype[i - s] = lower(v[i]);
	p->ctype[e - s] = '\0';
	p->has_ctype = true;
	return 0;
}

/* A comma-separated list of tokens: "close" and "keep-alive" are the ones that count. */
static int gather_connection(sd_http_parser_t *p, const char *v, size_t len)
{
	size_t s = 0;

	if (p->value_long)
		return fail(p, 400, SD_ERR_TOOBIG, "Connection header is longer than %d bytes", VALUE_MAX_BYTES);
	while (s <= len) {
		const char *comma = memchr(v + s, ',', len - s);
		size_t e = comma != NULL ? (size_t)(comma - v) : len, next = e + 1;

		trim(v, &s, &e);
		if (token_is(v + s, e - s, "close"))
			p->conn_close = true;
		else if (token_is(v + s, e - s, "keep-alive"))
			p->conn_keep_alive = true;
		s = next;
	}
	return 0;
}

/* The header just read is complete: act on its value if it is one of ours. */
static int header_done(sd_http_parser_t *p)
{
	const char *v = p->value;
	size_t s = 0, e = p->value_len;
	int r = 0;

	if (!p->in_field && !p->in_value)
		return 0;
	if (p->in_field) /* a name without any value callback */
		p->cur = p->name_len <= NAME_MAX_BYTES ? classify(p->name) : H_OTHER;
	p->value[p->value_len] = '\0';
	switch (p->cur) {
	case H_CONTENT_LENGTH:
		r = gather_length(p, v, p->value_len);
		break;
	case H_CONTENT_TYPE:
		r = gather_ctype(p, v, p->value_len);
		break;
	case H_CONNECTION:
		r = gather_connection(p, v, p->value_len);
		break;
	case H_EXPECT:
		trim(v, &s, &e);
		if (!p->value_long && token_is(v + s, e - s, "100-continue"))
			p->expect_continue = true;
		break;
	case H_TRANSFER_ENCODING:
		p->has_te = true;
		break;
	case H_OTHER:
		break;
	}
	p->in_field = p->in_value = false;
	return r;
}

/* --- the request line -------------------------------------------------------------- */

static bool method_is_allowed(unsigned m)
{
	return m == HTTP_GET || m == HTTP_HEAD || m == HTTP_POST || m == HTTP_PUT || m == HTTP_DELETE;
}

/* Checked once the line is complete (the first header, or the end of the head). */
static int check_line(sd_http_parser_t *p)
{
	if (p->line_checked)
		return 0;
	p->line_checked = true;
	if (!method_is_allowed(p->hp.method))
		return fail(p, 501, SD_ERR_REFUSED, "request method is not one of GET, HEAD, POST, PUT, DELETE");
	if (p->hp.http_major == 0)
		return fail(p, 400, SD_ERR_VERSION, "request line has no HTTP version (HTTP/0.9 is not accepted)");
	if (p->hp.http_major != 1 || p->hp.http_minor > 1)
		return fail(p, 505, SD_ERR_VERSION, "HTTP/%u.%u is not supported; use HTTP/1.1",
		            (unsigned)p->hp.http_major, (unsigned)p->hp.http_minor);
	if (p->url_len == 0 || p->url[0] != '/')
		return fail(p, 400, SD_ERR_FORMAT, "request target is not a path starting with '/'");
	for (size_t i = 0; i < p->url_len; i++) {
		unsigned char c = (unsigned char)p->url[i];
		if (c <= 0x20 || c >= 0x7f)
			return fail(p, 400, SD_ERR_FORMAT, "request target has a byte that is not visible ASCII");
		if (c == '#')
			return fail(p, 400, SD_ERR_FORMAT, "request target has a fragment ('#')");
	}
	return 0;
}

/* --- the head's syntax ------------------------------------------------------------- */

/* The Debian build of libhttp-parser is not strict (HTTP_PARSER_STRICT=0): it takes
 * "HXXP/1.1", spaces before a header's colon, runs of spaces in the request line, a CR
 * without LF. So the head is checked here too, byte by byte and before libhttp-parser
 * sees the bytes; feed_slice() lets libhttp-parser parse up to the first bad byte, so
 * that whichever finds an error first in the stream reports it. */

static void scan_fail(sd_http_parser_t *p, int status, int err, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static void scan_fail(sd_http_parser_t *p, int status, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->scan_detail, sizeof(p->scan_detail), fmt, ap);
	va_end(ap);
	p->scan_status = status;
	p->scan_err = err;
	p->scan_failed = true;
}

/* One byte of the request line: METHOD SP origin-form SP HTTP/d.d, then CRLF or LF. */
static bool scan_line(sd_http_parser_t *p, uint8_t c)
{
	static const char version[] = "HTTP/d.d";

	switch (p->scan) {
	case SC_METHOD:
		if (c == ' ' && p->scan_len > 0) {
			p->scan = SC_TARGET;
			p->scan_len = 0;
		} else if (!is_tchar((char)c)) {
			return scan_fail(p, 400, SD_ERR_FORMAT, "request line is not 'METHOD /path HTTP/1.1'"), false;
		} else if (++p->scan_len > SD_HTTP_METHOD_MAX) {
			return scan_fail(p, 501, SD_ERR_REFUSED,
			                 "request method is not one of GET, HEAD, POST, PUT, DELETE"),
			       false;
		}
		return true;
	case SC_TARGET:
		if (c == ' ' && p->scan_len == 0) {
			return scan_fail(p, 400, SD_ERR_FORMAT, "request line is not 'METHOD /path HTTP/1.1'"), false;
		} else if (c == ' ') {
			p->scan = SC_VERSION;
			p->scan_len = 0;
		} else if (c == '\r' || c == '\n') {
			return scan_fail(p, 400, SD_ERR_VERSION,
			                 "request line has no HTTP version (HTTP/0.9 is not accepted)"),
			       false;
		} else if (c <= 0x20 || c >= 0x7f) {
			return scan_fail(p, 400, SD_ERR_FORMAT, "request target has a byte that is not visible ASCII"),
			       false;
		} else if (++p->scan_len > SD_HTTP_MAX_TARGET) {
			return scan_fail(p, 414, SD_ERR_TOOBIG, "request target is longer than %d bytes",
			                 SD_HTTP_MAX_TARGET),
			       false;
		}
		return true;
	default: /* SC_VERSION */
		if ((c == '\r' || c == '\n') && p->scan_len == VERSION_BYTES) {
			p->scan = c == '\n' ? SC_LINE_START : SC_VERSION;
			return true;
		}
		if (p->scan_len < VERSION_BYTES &&
		    (version[p->scan_len] == 'd' ? c >= '0' && c <= '9' : c == (uint8_t)version[p->scan_len])) {
			p->scan_len++;
			return true;
		}
		return scan_fail(p, 400, SD_ERR_FORMAT, "request line has a malformed HTTP version"), false;
	}
}

/* One byte of the header section: name ":" value lines, no folding, no control bytes. */
static bool scan_field(sd_http_parser_t *p, uint8_t c)
{
	switch (p->scan) {
	case SC_LINE_START:
		if (c == '\n')
			p->scan = SC_DONE;
		else if (c == ' ' || c == '\t')
			return scan_fail(p, 400, SD_ERR_FORMAT,
			                 "a header field is folded over two lines (obsolete line folding)"),
			       false;
		else if (c != '\r' && !is_tchar((char)c))
			return scan_fail(p, 400, SD_ERR_FORMAT,
			                 "a header field name is empty or has a byte that is not allowed"),
			       false;
		else if (c != '\r')
			p->scan = SC_NAME;
		return true;
	case SC_NAME:
		if (c == ':')
			p->scan = SC_VALUE;
		else if (!is_tchar((char)c))
			return scan_fail(p, 400, SD_ERR_FORMAT,
			                 "a header field name has a byte that is not allowed (or no ':')"),
			       false;
		return true;
	default: /* SC_VALUE */
		if (c == '\n')
			p->scan = SC_LINE_START;
		else if (c != '\r' && ((c < 0x20 && c != '\t') || c == 0x7f))
			return scan_fail(p, 400, SD_ERR_FORMAT, "a header field value has a control byte"), false;
		return true;
	}
}

/* How many of the n bytes libhttp-parser may take: up to the end of the head, or up to
 * the first byte that breaks its syntax (p->scan_failed then: libhttp-parser gets that
 * byte too, so that its reason is given when it sees the same error). */
static size_t scan_head(sd_http_parser_t *p, const uint8_t *d, size_t n)
{
	for (size_t i = 0; i < n && p->scan != SC_DONE; i++) {
		uint8_t c = d[i];
		bool ok;

		if (p->scan_cr && c != '\n')
			return scan_fail(p, 400, SD_ERR_FORMAT, "request head has a CR that is not followed by LF"),
			       i + 1;
		p->scan_cr = c == '\r';
		if (p->scan == SC_LEAD) {
			if (c == '\r' || c == '\n')
				continue;
			p->scan = SC_METHOD;
		}
		ok = p->scan <= SC_VERSION ? scan_line(p, c) : scan_field(p, c);
		if (!ok || p->scan == SC_DONE)
			return i + 1;
	}
	return n;
}

/* --- libhttp-parser's callbacks ---------------------------------------------------- */

/* Each returns nonzero to stop libhttp-parser; the reason is already in p. */

static int on_message_begin(http_parser *hp)
{
	sd_http_parser_t *p = hp->data;

	p->in_request = true;
	return 0;
}

static int on_url(http_parser *hp, const char *at, size_t len)
{
	sd_http_parser_t *p = hp->data;

	if (p->url_len == 0 && !method_is_allowed(hp->method))
		return fail(p, 501, SD_ERR_REFUSED, "request method is not one of GET, HEAD, POST, PUT, DELETE"), 1;
	if (len > SD_HTTP_MAX_TARGET - p->url_len)
		return fail(p, 414, SD_ERR_TOOBIG, "request target is longer than %d bytes", SD_HTTP_MAX_TARGET), 1;
	memcpy(p->url + p->url_len, at, len);
	p->url_len += len;
	return 0;
}

static int on_header_field(http_parser *hp, const char *at, size_t len)
{
	sd_http_parser_t *p = hp->data;

	if (!p->in_field) {
		if (header_done(p) < 0 || check_line(p) < 0)
			return 1;
		if (++p->n_headers > SD_HTTP_MAX_HEADERS)
			return fail(p, 431, SD_ERR_TOOBIG, "request has more than %d header fields",
			            SD_HTTP_MAX_HEADERS),
			       1;
		p->in_field = true;
		p->name_len = 0;
		p->value_len = 0;
		p->value_long = false;
	}
	for (size_t i = 0; i < len; i++, p->name_len++)
		if (p->name_len < NAME_MAX_BYTES)
			p->name[p->name_len] = lower(at[i]);
	p->name[p->name_len < NAME_MAX_BYTES ? p->name_len : NAME_MAX_BYTES] = '\0';
	return 0;
}

static int on_header_value(http_parser *hp, const char *at, size_t len)
{
	sd_http_parser_t *p = hp->data;

	/* The value may come in several pieces; scan_head() has refused folded lines. */
	if (p->in_field) {
		p->cur = p->name_len <= NAME_MAX_BYTES ? classify(p->name) : H_OTHER;
		p->has_te |= p->cur == H_TRANSFER_ENCODING; /* known even if libhttp-parser stops at the end */
		p->in_field = false;
		p->in_value = true;
	}
	if (p->cur == H_OTHER)
		return 0;
	if (len > VALUE_MAX_BYTES - p->value_len) {
		len = VALUE_MAX_BYTES - p->value_len;
		p->value_long = true;
	}
	memcpy(p->value + p->value_len, at, len);
	p->value_len += len;
	return 0;
}

static int on_headers_complete(http_parser *hp)
{
	sd_http_parser_t *p = hp->data;

	if (header_done(p) < 0 || check_line(p) < 0)
		return -1;
	p->event = EV_HEAD;
	http_parser_pause(hp, 1);
	return 0;
}

static int on_body(http_parser *hp, const char *at, size_t len)
{
	sd_http_parser_t *p = hp->data;

	if (p->cb.on_body != NULL && p->cb.on_body(p->ctx, (const uint8_t *)at, len) < 0)
		return refused(p), 1;
	return 0;
}

static int on_message_complete(http_parser *hp)
{
	sd_http_parser_t *p = hp->data;

	p->event = EV_COMPLETE;
	http_parser_pause(hp, 1);
	return 0;
}

/* --- the two pauses ---------------------------------------------------------------- */

static int build_request(sd_http_parser_t *p)
{
	sd_http_request_t *q = &p->req;
	char *mark;

	if (p->has_te)
		return fail(p, 411, SD_ERR_REFUSED,
		            "Transfer-Encoding is not accepted; send the body with a Content-Length");
	if (p->has_length ? p->hp.content_length != p->length
	                  : p->hp.content_length != 0 && p->hp.content_length != UINT64_MAX)
		return fail(p, 400, SD_ERR_FORMAT, "Content-Length could not be read consistently");
	memset(q, 0, sizeof(*q));
	snprintf(q->method, sizeof(q->method), "%s", http_method_str((enum http_method)p->hp.method));
	p->url[p->url_len] = '\0';
	q->path = p->url;
	q->query = p->url + p->url_len;
	if ((mark = strchr(p->url, '?')) != NULL) {
		*mark = '\0';
		q->query = mark + 1;
	}
	q->has_length = p->has_length;
	q->content_length = p->has_length ? p->length : 0;
	q->http_minor = p->hp.http_minor;
	q->keep_alive = (q->http_minor == 1 ? !p->conn_close : p->conn_keep_alive && !p->conn_close) &&
	                http_should_keep_alive(&p->hp);
	q->expect_continue = p->expect_continue && q->http_minor == 1;
	snprintf(q->content_type, sizeof(q->content_type), "%s", p->has_ctype ? p->ctype : "");
	return 0;
}

/* The head is complete (libhttp-parser stands on its last LF). */
static int head_done(sd_http_parser_t *p)
{
	int r;

	if (p->head_bytes > SD_HTTP_MAX_HEAD_BYTES)
		return fail(p, 431, SD_ERR_TOOBIG, "request header section is larger than %d bytes",
		            SD_HTTP_MAX_HEAD_BYTES);
	if ((r = build_request(p)) < 0)
		return r;
	p->head_is_done = true;
	r = p->cb.on_request != NULL ? p->cb.on_request(p->ctx, &p->req) : 0;
	if (r < 0)
		return refused(p);
	if (r == SD_HTTP_PAUSE)
		p->paused = true;
	return 0;
}

/* Everything this parser knew of one request is forgotten before the next. */
static void request_reset(sd_http_parser_t *p)
{
	p->head_bytes = 0;
	p->lead_len = 0;
	p->scan = SC_LEAD;
	p->scan_cr = p->scan_failed = false;
	p->scan_len = 0;
	p->in_request = p->head_is_done = p->line_checked = false;
	p->url_len = 0;
	p->n_headers = 0;
	p->in_field = p->in_value = false;
	p->has_length = p->has_ctype = p->has_te = false;
	p->conn_close = p->conn_keep_alive = p->expect_continue = false;
	p->length = 0;
}

static int request_done(sd_http_parser_t *p)
{
	request_reset(p);
	p->closing = !p->req.keep_alive;
	p->paused = true;
	if (p->cb.on_complete != NULL && p->cb.on_complete(p->ctx) < 0)
		return refused(p);
	return 0;
}

/* --- feeding ----------------------------------------------------------------------- */

static void note_lead(sd_http_parser_t *p, const uint8_t *data, size_t n)
{
	for (size_t i = 0; i < n && p->lead_len < LEAD_BYTES; i++)
		if (p->lead_len > 0 || (data[i] != '\r' && data[i] != '\n'))
			p->lead[p->lead_len++] = data[i];
}

/* One call of libhttp-parser, on at most what is left of the head limit and never past
 * the end of the head or a byte scan_head() refuses; *off advances by what it used. */
static int feed_slice(sd_http_parser_t *p, const uint8_t *data, size_t len, size_t *off)
{
	bool head = !p->head_is_done;
	size_t n = len, got;
	enum http_errno e;

	if (p->closing)
		return fail(p, 400, SD_ERR_FORMAT, "bytes after the last request of a connection that closes");
	if (head) {
		n = scan_head(p, data,
		              n < SD_HTTP_MAX_HEAD_BYTES + 1 - p->head_bytes
		                      ? n
		                      : SD_HTTP_MAX_HEAD_BYTES + 1 - p->head_bytes);
	}
	p->event = EV_NONE;
	got = http_parser_execute(&p->hp, &settings, (const char *)data, n);
	e = HTTP_PARSER_ERRNO(&p->hp);
	*off += got;
	if (head)
		note_lead(p, data, got < n ? got + 1 : got);
	if (e == HPE_PAUSED)
		http_parser_pause(&p->hp, 0);
	else if (e != HPE_OK)
		return p->err != 0 ? p->err : parse_error(p, e);
	if (p->scan_failed) /* libhttp-parser took the bad byte without complaint */
		return fail(p, p->scan_status, p->scan_err, "%s", p->scan_detail);
	if (p->event == EV_COMPLETE)
		return request_done(p);
	if (head && (p->event == EV_HEAD) != (p->scan == SC_DONE)) /* never, unless the two disagree */
		return fail(p, 400, SD_ERR_FORMAT, "malformed request head");
	if (p->event == EV_HEAD) {
		p->head_bytes += got + 1; /* the last LF, which libhttp-parser takes on resuming */
		return head_done(p);
	}
	if (head && (p->head_bytes += got) > SD_HTTP_MAX_HEAD_BYTES)
		return fail(p, 431, SD_ERR_TOOBIG, "request header section is larger than %d bytes",
		            SD_HTTP_MAX_HEAD_BYTES);
	return 0;
}

int sd_http_parser_feed(sd_http_parser_t *p, const uint8_t *data, size_t len, size_t *consumed)
{
	size_t off = 0;
	int r = 0;

	*consumed = 0;
	if (p->err != 0)
		return sd_error(p->err, "%s", p->detail);
	while (off < len && !p->paused && r == 0)
		r = feed_slice(p, data + off, len - off, &off);
	*consumed = off;
	return r;
}

sd_http_parser_t *sd_http_parser_new(const sd_http_callbacks_t *cb, void *ctx)
{
	sd_http_parser_t *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	http_parser_init(&p->hp, HTTP_REQUEST);
	p->hp.data = p;
	if (cb != NULL)
		p->cb = *cb;
	p->ctx = ctx;
	return p;
}

void sd_http_parser_free_(sd_http_parser_t *p)
{
	free(p);
}

bool sd_http_parser_is_paused(const sd_http_parser_t *p)
{
	return p->paused;
}

void sd_http_parser_resume(sd_http_parser_t *p)
{
	p->paused = false;
}

bool sd_http_parser_in_request(const sd_http_parser_t *p)
{
	return p->in_request;
}

int sd_http_parser_status(const sd_http_parser_t *p)
{
	return p->status;
}

/* --- responses --------------------------------------------------------------------- */

const char *sd_http_status_text(int status)
{
	static const struct {
		int status;
		const char *text;
	} texts[] = {
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
	        {410, "Gone"},
	        {411, "Length Required"},
	        {413, "Content Too Large"},
	        {414, "URI Too Long"},
	        {417, "Expectation Failed"},
	        {422, "Unprocessable Content"},
	        {429, "Too Many Requests"},
	        {431, "Request Header Fields Too Large"},
	        {500, "Internal Server Error"},
	        {501, "Not Implemented"},
	        {503, "Service Unavailable"},
	        {505, "HTTP Version Not Supported"},
	        {507, "Insufficient Storage"},
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (texts[i].status == status)
			return texts[i].text;
	return "Unknown";
}

static bool header_text_is_valid(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return false;
	return true;
}

/* Appends to buf, tracking the length even past cap (so a too small cap is told). */
static void append(char *buf, size_t cap, size_t *n, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t cap, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(*n < cap ? buf + *n : NULL, *n < cap ? cap - *n : 0, fmt, ap);
	va_end(ap);
	*n += k > 0 ? (size_t)k : 0;
}

/* 1xx and 204 carry no Content-Length (RFC 9110, 8.6); a 100 is only its line. */
int sd_http_format_head(char *buf, size_t cap, int status, const char *ctype, uint64_t content_length, bool keep_alive)
{
	size_t n = 0;

	if (status < 100 || status > 599 || (ctype != NULL && !header_text_is_valid(ctype)))
		return sd_error(SD_ERR_USAGE, "response status %d or its Content-Type is not valid", status);
	append(buf, cap, &n, "HTTP/1.1 %d %s\r\n", status, sd_http_status_text(status));
	if (status != 100) {
		if (ctype != NULL)
			append(buf, cap, &n, "Content-Type: %s\r\n", ctype);
		if (status != 204)
			append(buf, cap, &n, "Content-Length: %llu\r\n", (unsigned long long)content_length);
		append(buf, cap, &n, "%sCache-Control: no-store\r\n", keep_alive ? "" : "Connection: close\r\n");
	}
	append(buf, cap, &n, "\r\n");
	if (n >= cap || n > INT32_MAX)
		return sd_error(SD_ERR_TOOBIG, "a response head of %zu bytes does not fit in %zu", n, cap);
	return (int)n;
}
