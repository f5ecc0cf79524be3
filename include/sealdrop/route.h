/*
 * route.h — the contract between a connection and the routes (DESIGN.md, Server API).
 *
 * A route is a row of a table: method, path pattern, the roles that may call it, the
 * largest body it takes, and up to three handlers. The connection module parses the
 * request, matches it (sd_route_match), authenticates the client certificate when the
 * route needs a role, and only then calls the route:
 *
 *   on_headers(r)          after the headers; the body has not been read yet. May reply
 *                          (an early refusal: the body is then discarded and the
 *                          connection closed if it is large), may return SD_ROUTE_PAUSE
 *                          to wait for the store (the connection stops reading until
 *                          the route calls sd_request_continue or replies), else 0.
 *   on_body(r, data, len)  each piece of the body as it arrives. Without on_body the
 *                          connection collects the body (at most max_body bytes) and the
 *                          route reads it with sd_request_body().
 *   on_complete(r)         the whole body is in. The route replies now or later (after
 *                          the store answered), exactly once.
 *
 * Every request gets exactly one reply (sd_request_reply*). A route may reply after the
 * client went away: the reply is then dropped and the request freed. Handlers run on
 * the event loop thread only; a store answer reaches a route there too
 * (sd_server_store_submit).
 */
#ifndef SEALDROP_ROUTE_H
#define SEALDROP_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "sealdrop/ca.h"
#include "sealdrop/error.h"

typedef struct sd_server sd_server_t;
typedef struct sd_request sd_request_t;

/* Roles, as bits: a route lists the roles that may call it. */
typedef enum {
	SD_ROLE_ATTORNEY = 1u << 0,
	SD_ROLE_OFFICER = 1u << 1,
	SD_ROLE_CUSTODIAN = 1u << 2,
	SD_ROLE_OPERATOR = 1u << 3,
} sd_role_t;
#define SD_ROLE_ANY_ACCOUNT (SD_ROLE_ATTORNEY | SD_ROLE_OFFICER | SD_ROLE_CUSTODIAN | SD_ROLE_OPERATOR)

/* "attorney" ... and back; 0 / false for anything else. */
const char *sd_role_name(sd_role_t role);
bool sd_role_from_name(const char *name, sd_role_t *out);

/* Who is calling: an enrolled, enabled account whose certificate verified. */
typedef struct {
	uint8_t fingerprint[SD_CA_FINGERPRINT_BYTES];
	char name[SD_CA_NAME_BYTES];
	sd_role_t role;
} sd_principal_t;

#define SD_ROUTE_PAUSE      1
#define SD_ROUTE_PARAMS_MAX 4
#define SD_ROUTE_PARAM_MAX  64 /* bytes of one path parameter */

/* Which configured limit bounds a route's body. */
typedef enum {
	SD_BODY_NONE = 0, /* no body accepted: a Content-Length above 0 gets 413 */
	SD_BODY_SMALL,    /* SD_ROUTE_SMALL_BODY_MAX: small JSON requests */
	SD_BODY_HEADER,   /* config max_header_bytes: an envelope header */
	SD_BODY_CHUNK,    /* config chunk_bytes: one chunk */
} sd_body_limit_t;
#define SD_ROUTE_SMALL_BODY_MAX (256u << 10) /* a sealed 64 KiB text, or three 16 KiB notice boxes, in base64 */

typedef struct {
	const char *method;  /* "GET", "POST", "PUT" (HEAD is served by GET routes) */
	const char *pattern; /* "/v1/uploads/{id}/blobs/{k}/chunks/{n}": a {name} matches one
	                        non-empty segment of [A-Za-z0-9._~-], at most SD_ROUTE_PARAM_MAX */
	unsigned roles;      /* sd_role_t bits; 0: public, no certificate needed */
	sd_body_limit_t body;
	int (*on_headers)(sd_request_t *r);
	int (*on_body)(sd_request_t *r, const uint8_t *data, size_t len);
	void (*on_complete)(sd_request_t *r);
} sd_route_t;

/* The table, ending with a row whose method is NULL (server/routes.c). */
extern const sd_route_t sd_routes[];

/* Finds the route for method and path in table. 0 with *route and params (n_params set)
 * filled; SD_ERR_NOENT when no pattern matches the path (404); SD_ERR_REFUSED when
 * patterns match but not with this method (405), with the allowed methods written to
 * allow ("GET, POST"). HEAD matches GET rows. */
typedef struct {
	size_t n;
	char value[SD_ROUTE_PARAMS_MAX][SD_ROUTE_PARAM_MAX + 1];
} sd_route_params_t;
int sd_route_match(const sd_route_t *table, const char *method, const char *path, const sd_route_t **route,
                   sd_route_params_t *params, char *allow, size_t allow_cap) SD_WUR;

/* A query string "name=value&name=value" over a route's known names (a NULL-ended list of
 * at most SD_QUERY_PARAMS_MAX): value[i] is names[i]'s, present[i] whether it was given.
 * SD_ERR_FORMAT (the detail says why) for an unknown or repeated name, a part without
 * '=', or a value that is empty, longer than SD_ROUTE_PARAM_MAX or outside
 * [A-Za-z0-9._~-] (values are never percent-decoded). */
#define SD_QUERY_PARAMS_MAX 4
typedef struct {
	char value[SD_QUERY_PARAMS_MAX][SD_ROUTE_PARAM_MAX + 1];
	bool present[SD_QUERY_PARAMS_MAX];
} sd_query_t;
int sd_query_parse(const char *q, const char *const names[], sd_query_t *out) SD_WUR;
/* Parameter i as a decimal number 0..max without sign or leading zero: SD_ERR_NOENT when
 * absent, SD_ERR_FORMAT, SD_ERR_TOOBIG. */
int sd_query_u64(const sd_query_t *q, size_t i, uint64_t max, uint64_t *out) SD_WUR;

/* --- The request, as a route sees it --------------------------------------------------- */

sd_server_t *sd_request_server(const sd_request_t *r);
const char *sd_request_method(const sd_request_t *r);
const char *sd_request_path(const sd_request_t *r);
const char *sd_request_query(const sd_request_t *r);
/* Path parameter i (in pattern order). */
const char *sd_request_param(const sd_request_t *r, size_t i);
uint64_t sd_request_content_length(const sd_request_t *r);
/* The media type the client sent, "" when none. */
const char *sd_request_content_type(const sd_request_t *r);
/* The caller, or NULL on a public route. */
const sd_principal_t *sd_request_principal(const sd_request_t *r);
/* The collected body of a route without on_body (valid until the reply). */
const uint8_t *sd_request_body(const sd_request_t *r, size_t *len);

/* A route's own state for this request, freed with free_fn when the request ends. */
void sd_request_set_state(sd_request_t *r, void *state, void (*free_fn)(void *));
void *sd_request_state(const sd_request_t *r);

/* Resumes reading a request paused by on_headers returning SD_ROUTE_PAUSE. */
void sd_request_continue(sd_request_t *r);
/* False once the client has gone away; a route may skip work then (it must still reply). */
bool sd_request_is_alive(const sd_request_t *r);

/* The replies: each ends the request. body is copied. */
void sd_request_reply(sd_request_t *r, int status, const char *ctype, const uint8_t *body, size_t len);
/* Serialises obj (compact, with a trailing newline) and takes ownership of it. */
void sd_request_reply_json(sd_request_t *r, int status, json_t *obj);
/* The reply will carry "Retry-After: seconds" (a 503's hint; 0: none). */
void sd_request_set_retry_after(sd_request_t *r, unsigned seconds);
/* {"error": code, "message": text}: code is a stable machine-readable word
 * ("not_found", "chunk_mismatch", ...), message one sentence for a person. */
void sd_request_reply_error(sd_request_t *r, int status, const char *code, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

#endif
