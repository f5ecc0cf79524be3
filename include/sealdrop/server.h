/*
 * server.h — sealdropd's running state: the event loop, the listener, the store, the CA,
 * the signed directory, the accounts, and the budgets every connection shares
 * (DESIGN.md, Architecture). server/server.c builds it from a configuration and runs the
 * loop; routes and the control socket reach everything through the functions below.
 *
 * Everything here is for the event loop thread, except where a function says otherwise.
 */
#ifndef SEALDROP_SERVER_H
#define SEALDROP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sealdrop/accounts.h"
#include "sealdrop/ca.h"
#include "sealdrop/config.h"
#include "sealdrop/date.h"
#include "sealdrop/directory.h"
#include "sealdrop/log.h"
#include "sealdrop/loghead.h"
#include "sealdrop/notice.h"
#include "sealdrop/receipt.h"
#include "sealdrop/route.h"
#include "sealdrop/store.h"

/* Files under the configured dir, as `sealdropd init` creates them. */
#define SD_SERVER_CERT_FILE    "server.pem"
#define SD_SERVER_KEY_FILE     "server.key"
#define SD_SERVER_LOGKEY_FILE  "log.key"
#define SD_SERVER_LOGPUB_FILE  "log.key.pub"
#define SD_SERVER_DIRECTORY    "directory.json"
#define SD_SERVER_CONTROL_SOCK "control.sock"
#define SD_SERVER_CONFIG_FILE  "sealdropd.conf"

struct event_base;

/* After start-up the server runs chrooted into the configured dir when it started as root
 * (after binding, before dropping to the configured user): every path it opens from then on
 * is inside dir. */

/* Loads everything the configuration names, checks the directory against the server's
 * own log key and CA, binds the listener and the control socket, drops privileges to the
 * configured user (when started as root), opens the store and loads the accounts.
 * Each failure is one clear message (sd_error_detail) and an error code: SD_ERR_CONFIG
 * for a missing or mismatched directory, SD_ERR_IO for a port in use, ... */
int sd_server_new(const sd_config_t *config, const char *config_path, sd_server_t **out) SD_WUR;
/* Runs the loop until SIGTERM or SIGINT: then stops accepting, lets in-flight requests
 * finish (at most request_timeout seconds), closes the store and returns 0. SIGHUP
 * reopens the log. */
int sd_server_run(sd_server_t *s) SD_WUR;
void sd_server_free_(sd_server_t *s);
#define sd_server_free(s)                                                                                              \
	do {                                                                                                           \
		sd_server_free_(s);                                                                                    \
		(s) = NULL;                                                                                            \
	} while (0)

const sd_config_t *sd_server_config(const sd_server_t *s);
struct event_base *sd_server_base(sd_server_t *s);
/* Today in Korea Standard Time; only sealdropd-testclock (built with SD_TEST_CLOCK) lets
 * SEALDROPD_TEST_TODAY[_FILE] set it, for tests across the workflow's deadlines. */
sd_date_t sd_server_today(const sd_server_t *s);

/* The served directory: parsed, and the exact bytes clients fetch. */
const sd_directory_t *sd_server_directory(const sd_server_t *s);
const uint8_t *sd_server_directory_json(const sd_server_t *s, size_t *len);
/* The root public key the served directory is signed with: pinned in the store the first
 * time the server starts (trust on first use, logged with its key id), and required of
 * every directory installed after. */
const sd_pubkey_t *sd_server_root(const sd_server_t *s);
/* Whether d may be served: it lists this server's log key and CA certificate, and, when a
 * directory is already served, it is of the same deployment with a version not lower
 * (an equal version only when it is byte for byte the same document: pass its json).
 * The signature and not-after date are the parser's business (sd_directory_parse with
 * sd_server_root). SD_ERR_CONFIG or SD_ERR_ROLLBACK with a detail naming the problem. */
int sd_server_check_directory(const sd_server_t *s, const sd_directory_t *d, const uint8_t *json, size_t len) SD_WUR;
/* The part of that check which needs no running server: d lists log_pub as its log key
 * and the CA certificate ca_der (DER) as its TLS CA. sealdropd check-config uses it. */
int sd_server_directory_lists(const sd_directory_t *d, const sd_pubkey_t *log_pub, const uint8_t *ca_der,
                              size_t ca_der_len) SD_WUR;
/* The server's directory (root) and its store must belong to uid, and neither may be open
 * to others (the store: to group and others; root: to writes by them): what `run` refuses
 * to start with when it drops to user. SD_ERR_CONFIG with the fix in the detail. */
int sd_server_check_owner(const char *root, uid_t uid, const char *user) SD_WUR;
int sd_server_check_modes(const char *root) SD_WUR;
/* Replaces the served directory (already verified by the caller); takes ownership of
 * both and writes DIR/directory.json atomically. */
int sd_server_set_directory(sd_server_t *s, sd_directory_t *d, uint8_t *json, size_t len) SD_WUR;

sd_ca_t *sd_server_ca(sd_server_t *s);
/* Open client connections (for the operator's status). */
size_t sd_server_connection_count(const sd_server_t *s);
sd_accounts_t *sd_server_accounts(sd_server_t *s);
/* The current CRL, DER; regenerated by sd_server_refresh_crl after a revocation. */
const uint8_t *sd_server_crl(const sd_server_t *s, size_t *len);
int sd_server_refresh_crl(sd_server_t *s) SD_WUR;

/* Runs work(ctx) on the server's worker thread, then done(ctx) on the loop thread: for
 * CPU-bound work such as sealing and signing, off the loop that serves every connection.
 * work may use only what ctx owns and the server's keys (sd_server_sign_*), never the
 * loop's state (directory, accounts, uploads, connections). One worker runs the jobs one
 * at a time in the order they were submitted, and their done callbacks run on the loop in
 * that same order. When the worker is not running (shutdown) or no memory is left,
 * work(ctx) and done(ctx) both run before this returns, ahead of any queued job: so call
 * it last. */
void sd_server_work(sd_server_t *s, void (*work)(void *ctx), void (*done)(void *ctx), void *ctx);
/* The same, but never at once: SD_ERR_NOMEM or SD_ERR_UNAVAILABLE (no worker) when the job
 * cannot be queued, and nothing ran. For a caller with jobs of its own still queued, whose
 * order a job run at once would break. */
int sd_server_work_queue(sd_server_t *s, void (*work)(void *ctx), void (*done)(void *ctx), void *ctx) SD_WUR;

/* Submits req to the store. done(req, ctx) runs later on the loop thread, after the
 * store answered (the request is then durable, or failed); the caller owns req again
 * from then on and frees it. SD_ERR_REFUSED when the store's queue is full or closing
 * (answer 503); done is then never called. */
int sd_server_store_submit(sd_server_t *s, sd_store_req_t *req, void (*done)(sd_store_req_t *req, void *ctx),
                           void *ctx) SD_WUR;
/* Synchronous store access, for start-up only (before the loop runs). */
sd_store_t *sd_server_store(sd_server_t *s);

/* Signs a receipt with the log key (fills rc->log_key_id). */
int sd_server_sign_receipt(sd_server_t *s, sd_receipt_t *rc, char **json_out) SD_WUR;

/* Signs a notice with the log key (include/sealdrop/notice.h, sd_notice_sign). */
int sd_server_sign_notice(sd_server_t *s, const sd_notice_t *n, char **json_out) SD_WUR;

/* Signs a tree head with the log key (fills h->log_key_id); the log key's public half. */
int sd_server_sign_head(sd_server_t *s, sd_loghead_t *h, char **json_out) SD_WUR;
/* An export receipt (include/sealdrop/export.h), er->log_key_id filled. */
struct sd_export_receipt;
int sd_server_sign_export(sd_server_t *s, struct sd_export_receipt *er, char **json_out) SD_WUR;
const sd_pubkey_t *sd_server_log_pub(const sd_server_t *s);
/* The audit log (include/sealdrop/auditlog.h). */
typedef struct sd_auditlog sd_auditlog_t;
sd_auditlog_t *sd_server_auditlog(sd_server_t *s);
typedef struct sd_wbgate sd_wbgate_t;
/* The gate before the whistleblower's routes (include/sealdrop/wbgate.h). */
sd_wbgate_t *sd_server_wbgate(sd_server_t *s);
/* CLOCK_MONOTONIC in milliseconds. */
uint64_t sd_server_monotonic_ms(void);

/* Calls fn(ctx) on the loop every `seconds`, first after `seconds`. */
int sd_server_every(sd_server_t *s, unsigned seconds, void (*fn)(void *ctx), void *ctx) SD_WUR;

#endif
