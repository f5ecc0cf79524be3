/*
 * auditlog.h — sealdropd's audit log: appending events, publishing signed tree heads on
 * a schedule, and reading the tree back for proofs (DESIGN.md, Audit log; docs/API.md,
 * "Audit log"). The leaf format is crypto/audit.c's, the head's crypto/loghead.c's, the
 * tree's hashing crypto/merkle.c's, and the append itself the store's LOG-APPEND.
 *
 * Recording an event is one line in the route that changes something, on the store
 * request that makes the change, so the event and its leaf commit together:
 *
 *     sd_audit_add(req, &(sd_audit_event_t){.type = SD_AUDIT_ENROLLMENT, ...});
 *
 * Heads are published every `head_interval` seconds of the config (on the wall clock's
 * multiples of it, not after each commit), and only when the tree grew or the date
 * changed. Everything served — the head, proofs, entries — stops at the latest published
 * head: nobody polling the server learns of an event before the next publication.
 */
#ifndef SEALDROP_AUDITLOG_H
#define SEALDROP_AUDITLOG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sealdrop/audit.h"
#include "sealdrop/error.h"
#include "sealdrop/loghead.h"
#include "sealdrop/merkle.h"
#include "sealdrop/route.h"
#include "sealdrop/store.h"

#define SD_AUDITLOG_HEAD_KEY "log_head" /* meta: the latest published head, its JSON */

/* Adds ev's leaf to req: the store appends it inside req's transaction, with the event's
 * case (if any) indexed in case_events. Returns the operation's index, to read the leaf
 * index with sd_store_req_log_index after the reply, or a negative error that req also
 * remembers (sd_store_submit then refuses it): nothing is ever stored without its leaf. */
int sd_audit_add(sd_store_req_t *req, const sd_audit_event_t *ev);

/* What sd_audit_add returns in the benchmark's baseline build only (-DSD_BENCH_NO_AUDIT_LOG,
 * scripts/bench-server.sh): it then adds nothing, so `make bench` can measure what the log
 * costs a filing end to end. No other build defines it. */
#define SD_AUDIT_NO_OP INT_MAX

/* An event dated today by the server, acted by the request's caller (role and
 * certificate fingerprint), or by the operator on the control socket when p is NULL. */
void sd_audit_event_init(sd_audit_event_t *ev, sd_audit_type_t type, sd_date_t today, const sd_principal_t *p);

/* --- Reading the tree through the store (any thread that may submit) ------------------ */

/* Adds a GET of every stored node that the ranges' hashes need. Returns the number of
 * operations added (<= SD_MERKLE_PROOF_MAX * SD_MERKLE_RANGE_MAX) or a negative error. */
int sd_auditlog_req_ranges(sd_store_req_t *req, const sd_merkle_range_t *ranges, size_t n) SD_WUR;
/* After the reply: the hash of each range, from operations first.. of req.
 * SD_ERR_INTERNAL ("the audit log is damaged: node (L, I) is missing") when a node the
 * tree must have is not there. */
int sd_auditlog_fold_ranges(const sd_store_req_t *req, size_t first, const sd_merkle_range_t *ranges, size_t n,
                            uint8_t (*hashes)[SD_MERKLE_HASH_BYTES]) SD_WUR;

/* Reads meta's log size and the latest published head (JSON, malloc'd, or NULL when
 * none was published) synchronously (sd_store_call): for start-up and offline tools. */
int sd_auditlog_read_state(sd_store_t *store, uint64_t *size, char **head_json) SD_WUR;

/* --- The server's log (the loop thread) --------------------------------------------- */

typedef struct sd_auditlog sd_auditlog_t;

/* Loads the latest head and checks it against the store (SD_ERR_VERIFY when the store
 * holds fewer leaves than a head it signed: restored or damaged), publishes a first head
 * if there is none, and starts the schedule. */
int sd_auditlog_start(sd_server_t *s, sd_auditlog_t **out) SD_WUR;
void sd_auditlog_free_(sd_auditlog_t *l);
#define sd_auditlog_free(l)                                                                                            \
	do {                                                                                                           \
		sd_auditlog_free_(l);                                                                                  \
		(l) = NULL;                                                                                            \
	} while (0)

/* Publishes a head now if the tree grew or the date changed (the operator's `sealdropd
 * audit publish`); done(ctx, status) runs on the loop once it is durable, or failed. A
 * request made while a publication runs gets the next one, which covers every leaf
 * stored before the request. done may be NULL. */
int sd_auditlog_publish(sd_auditlog_t *l, void (*done)(void *ctx, int status), void *ctx) SD_WUR;

/* The latest published head (NULL before the first), and its signed JSON. */
const sd_loghead_t *sd_auditlog_head(const sd_auditlog_t *l);
const char *sd_auditlog_head_json(const sd_auditlog_t *l, size_t *len);

/* Routes (server/logroutes.c). */
void sd_route_log_head(sd_request_t *r);
void sd_route_log_inclusion(sd_request_t *r);
void sd_route_log_consistency(sd_request_t *r);
void sd_route_log_entries(sd_request_t *r);

#endif
