/*
 * conn.h — one client connection of sealdropd: TLS on a bufferevent, HTTP/1.1 requests
 * parsed streaming, each handed to its route (route.h). server/conn.c is the connection's
 * state machine; server/server.c accepts sockets and hands them here.
 *
 *   HANDSHAKE → IDLE → HEAD → [BUDGET] → [ROUTE] → BODY → WAIT → WRITE → IDLE ...
 *                                                                   ↘ LINGER → closed
 *
 * HANDSHAKE and HEAD each have header_timeout in all (slowloris), the whole request
 * request_timeout from its first byte; HEAD reads the request line and headers,
 * BUDGET waits for room in the server-wide body budget (at most slow_body_timeout, then
 * 503), ROUTE waits for a route that paused in on_headers (the store), BODY streams the
 * body to the route (slow_body_timeout without progress, or slower than min_body_rate
 * after it: 408), WAIT waits for the
 * route's reply, WRITE sends it; a kept-alive connection goes back to IDLE
 * (idle_timeout). A connection that answered early or with an error closes after the
 * reply, reading and discarding for a moment (LINGER) so the client sees the answer
 * instead of a reset.
 */
#ifndef SEALDROP_CONN_H
#define SEALDROP_CONN_H

/* How long a connection that answered early keeps reading and discarding before it
 * closes, so the client sees the answer rather than a reset. */
#define SD_CONN_LINGER_SECONDS 2

#include <stdbool.h>
#include <stdint.h>
#include "sealdrop/route.h"

typedef struct sd_conn sd_conn_t;

/* Takes an accepted socket: starts the TLS handshake. On failure the socket is closed. */
int sd_conn_accept(sd_server_t *s, int fd) SD_WUR;

/* The server is shutting down: close now if idle, else after the current reply. */
void sd_conn_drain(sd_conn_t *c);

/* Closes the connection now, whatever it is doing (the server is going away). A request
 * a route still works on is answered into the void and freed when the route replies. */
void sd_conn_abort(sd_conn_t *c);

/* The body budget has room again: a connection waiting for it may try again. */
void sd_conn_budget_ready(sd_conn_t *c);

/* Whether the client presented an enrolled account's certificate (checked once, at the
 * end of the handshake). Such a connection is never evicted and may queue for the body
 * budget; any other takes its share at once or is answered 503. */
bool sd_conn_is_trusted(const sd_conn_t *c);

/* Whether the connection may be closed to admit a new one when max_connections are open
 * (OpenSSH's MaxStartups, oldest first): not trusted, and not waiting for the server.
 * *opened_ms receives when it was accepted (sd_server_monotonic_ms). */
bool sd_conn_is_evictable(const sd_conn_t *c, uint64_t *opened_ms);

/* For the per-certificate connection limit: whether this connection's client presented
 * the certificate with this fingerprint. */
bool sd_conn_has_fingerprint(const sd_conn_t *c, const uint8_t fp[SD_CA_FINGERPRINT_BYTES]);

/* --- What connections ask of the server (server/server.c) ---------------------------- */

struct sd_tls;
struct sd_tls *sd_server_tls(sd_server_t *s);
/* Registers and unregisters a connection (the drain, the connection limits). When
 * max_connections are open, the oldest evictable connection is closed to make room;
 * with none, SD_ERR_REFUSED (the caller closes the socket at once). */
int sd_server_conn_add(sd_server_t *s, sd_conn_t *c) SD_WUR;
void sd_server_conn_remove(sd_server_t *s, sd_conn_t *c);
/* How many open connections presented this certificate. */
unsigned sd_server_conns_with_cert(sd_server_t *s, const uint8_t fp[SD_CA_FINGERPRINT_BYTES]);
bool sd_server_is_draining(const sd_server_t *s);
/* Takes n bytes of the body budget: true, or false and c is queued to be told
 * (sd_conn_budget_ready) when bytes are released. A connection that is not trusted
 * takes bytes only while the whole budget in use stays within its first half, and is
 * never queued (false: answer 503 at once), so anonymous bodies can neither exhaust the
 * budget nor stand in the queue ahead of an attorney's upload. */
bool sd_server_budget_take(sd_server_t *s, sd_conn_t *c, uint64_t n);
void sd_server_budget_release(sd_server_t *s, uint64_t n);
/* Forgets a queued waiter (its connection is closing or gave up). */
void sd_server_budget_cancel(sd_server_t *s, sd_conn_t *c);

#endif
