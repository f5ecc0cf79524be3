/*
 * retention.h — destroying finished cases once the configured period has passed
 * (issue 8, item 4; docs/OPERATIONS.md, "Retention"; docs/STORE.md, "Retention").
 *
 * A case is finished when it is closed (Art. 11-3, after the objection window) or
 * terminated (Art. 12); it is due when `retention_days` (sealdropd.conf(5)) is not 0 and
 * the date of its close or terminate step plus that many days is before today (dates in
 * KST, as everywhere). `sealdropd retention` (server/cmd_retention.c) asks the running
 * server (control op "retention") to list the due cases or destroy them
 * (server/retention.c), one store request per case: everything stored under the case is
 * deleted, a tombstone is put in its place and the `case-destroyed` leaf is appended, all
 * in one write, so a crash leaves each case whole or destroyed and logged.
 *
 * The store process does not trust the front end to choose: server/retention_policy.c
 * allows a delete of case data only in such a request, and only when the record the
 * request compares against (CHECK-EQUAL, so it is the stored one) is finished and due by
 * the store process's own clock and its own copy of retention_days, set before the fork.
 *
 * What stays (docs/DECISIONS.md): the audit log (its leaves, nodes and case_events: they
 * hold case numbers, dates, roles and fingerprints, never content), the year's counter
 * (numbers are never reused), the consent nonces (random, no content: replay protection),
 * the case_by_locator entry, and the tombstone meta "destroyed/<case>" = the destruction
 * date (u32 LE YYYYMMDD) and the whistleblower's consent public key (32 bytes, zero when
 * the case had none), so the officer's GET answers 410 and the whistleblower's session
 * can still be checked to tell them the case was destroyed.
 */
#ifndef SEALDROP_RETENTION_H
#define SEALDROP_RETENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "sealdrop/caserec.h"
#include "sealdrop/date.h"
#include "sealdrop/error.h"
#include "sealdrop/route.h"
#include "sealdrop/store.h"

#define SD_RETENTION_DAYS_MAX        36500 /* retention_days: 0 (keep forever) .. 100 years */
#define SD_RETENTION_TOMB_PREFIX     "destroyed/"
#define SD_RETENTION_TOMB_PREFIX_LEN 10
#define SD_RETENTION_TOMB_KEY_BYTES  (SD_RETENTION_TOMB_PREFIX_LEN + SD_CASE_NUMBER_LEN)
#define SD_RETENTION_TOMB_BYTES      (4 + SD_CASE_NOTICE_KEY_BYTES)
#define SD_RETENTION_CHUNK_OPS       64 /* DEL-PREFIX operations of chunks in one request */

/* The tombstone of a destroyed case (meta "destroyed/<case>"). */
typedef struct {
	sd_date_t destroyed;
	bool has_consent_key;
	uint8_t consent_key[SD_CASE_NOTICE_KEY_BYTES];
} sd_retention_tomb_t;

/* Whether rec is finished (closed or terminated), with the date of that step. */
bool sd_retention_finished(const sd_case_rec_t *rec, sd_date_t *on);
/* Whether rec is due on `today` with a period of `days` (never when days is 0). */
bool sd_retention_is_due(const sd_case_rec_t *rec, uint32_t days, sd_date_t today, sd_date_t *finished);

void sd_retention_tomb_key(const char *case_number, uint8_t out[SD_RETENTION_TOMB_KEY_BYTES]);
void sd_retention_tomb_encode(const sd_retention_tomb_t *t, uint8_t out[SD_RETENTION_TOMB_BYTES]);
/* SD_ERR_FORMAT for another length, an invalid date. */
int sd_retention_tomb_decode(const uint8_t *p, size_t len, sd_retention_tomb_t *out) SD_WUR;

/* What destroying one case deletes, as read from the store. */
typedef struct {
	const sd_case_rec_t *rec;
	const uint8_t *rec_bytes; /* the stored record, compared (CHECK-EQUAL) before anything */
	size_t rec_len;
	const uint8_t *upload_bytes; /* the upload's stored record, or NULL when it is gone */
	size_t upload_len;
	uint64_t chunks; /* the upload's chunks (its record's count) */
} sd_retention_case_t;

/* Adds to req the destruction of c's case on `today`: the record compared, every entry
 * under the case deleted, the tombstone put (no overwrite) and the case-destroyed leaf
 * appended. 0 or the builder's error (SD_ERR_TOOBIG for an upload of more chunks than
 * SD_RETENTION_CHUNK_OPS DEL-PREFIXes reach). */
int sd_retention_destroy_req(sd_store_req_t *req, const sd_retention_case_t *c, sd_date_t today) SD_WUR;

/* --- The store process (server/retention_policy.c) ------------------------------------ */

/* The store process's retention_days, set from the configuration before the store
 * process is forked (it inherits it); 0 (the default) refuses every destruction. */
void sd_retention_set_days(uint32_t days);
uint32_t sd_retention_days(void);

/* For sd_storewire_policy_check: NULL when req destroys no case data, or destroys one
 * case as the rules above allow (then *destroy is true: its deletes in the case's
 * databases are allowed); else the rule it breaks, with *op the operation. */
const char *sd_retention_policy_rule(const sd_store_req_t *req, bool *destroy, size_t *op);
/* The databases only a destruction deletes from (cases, case_digests, account_cases,
 * receipts, case_texts, notices, case_summaries, consents). */
bool sd_retention_db_is_case_data(sd_store_db_t db);

/* --- The front end (server/retention.c) ------------------------------------------------ */

/* done(ctx, status, result) on the loop: result (owned by done) is {"dry_run", "today",
 * "retention_days", "cases": [{"case", "state", "finished", "bytes"}], "total_bytes",
 * "destroyed"}; on an error status it is NULL and the detail says why (cases destroyed
 * before the error stay destroyed). */
typedef void (*sd_retention_done_fn)(void *ctx, int status, json_t *result);
/* Lists (dry_run) or destroys the due cases. */
int sd_retention_run(sd_server_t *s, bool dry_run, sd_retention_done_fn done, void *ctx) SD_WUR;

#endif
