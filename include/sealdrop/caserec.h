/*
 * caserec.h — a case as the store keeps it ("cases", keyed by the case number): what the
 * filing established, the workflow's state and every step taken (server/caserec.c;
 * docs/STORE.md, "cases").
 *
 * Compact JSON with sorted keys, one encoding per record (the transition route compares
 * the stored bytes to change a case under a precondition). A step's text (a reason, an
 * outcome summary, an objection) is never in the record: it is stored apart, sealed to
 * the intake key by the client ("case_texts", key: case number || step index, 4 bytes
 * big-endian), and the step only says it has one.
 *
 * A case filed since notices exist also keeps the whistleblower's notice key (the
 * package header's notice_pk, so every notice of the case can be sealed to it) and the
 * number of notices written so far (the next notice's seq; server/notices.c). A record
 * written before has neither: its case sends no notices.
 *
 * A case filed since the whistleblower's channel exists also keeps the header's locator
 * hash and consent public key ("locator_hash", "consent_key", together), so a codename
 * session is checked without reading the header; "case_by_locator" (key: locator hash ||
 * case number, value empty) finds a codename's cases. A record without them is not
 * reachable through the channel.
 */
#ifndef SEALDROP_CASEREC_H
#define SEALDROP_CASEREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "sealdrop/ca.h"
#include "sealdrop/date.h"
#include "sealdrop/error.h"
#include "sealdrop/envelope.h" /* SD_HASH_BYTES */
#include "sealdrop/receipt.h"
#include "sealdrop/store.h"
#include "sealdrop/workflow.h"

#define SD_CASE_RECORD_MAX       (32u << 10) /* bytes of an encoded case record */
#define SD_CASE_UPLOAD_ID_BYTES  16          /* = SD_UPLOAD_ID_BYTES */
#define SD_CASE_TEXT_KEY_BYTES   (SD_CASE_NUMBER_BYTES - 1 + 4)
#define SD_CASE_NOTICES_MAX      256 /* notices one case may have: its steps' and written ones */
#define SD_CASE_NOTICE_KEY_BYTES 32  /* X25519 */

typedef struct {
	char case_number[SD_CASE_NUMBER_BYTES];
	uint8_t digest[SD_HASH_BYTES];
	uint8_t upload[SD_CASE_UPLOAD_ID_BYTES];
	uint8_t attorney[SD_CA_FINGERPRINT_BYTES];
	char attorney_name[SD_CA_NAME_BYTES];
	sd_date_t received;
	sd_date_t decision_due; /* as the receipt states it: received + 60 days */
	sd_case_flow_t flow;    /* flow.state, flow.n_steps, ... */
	sd_case_step_t steps[SD_CASE_STEPS_MAX];
	bool has_notice_key; /* false for a case filed before notices existed */
	uint8_t notice_key[SD_CASE_NOTICE_KEY_BYTES];
	uint32_t notices;                    /* notices written (the next one's seq): 1..SD_CASE_NOTICES_MAX with a
	                                        notice key, else 0 */
	bool has_session;                    /* false for a case filed before the whistleblower's channel */
	uint8_t locator_hash[SD_HASH_BYTES]; /* the header's: finds the case */
	uint8_t consent_key[SD_CASE_NOTICE_KEY_BYTES]; /* the header's: checks the session */
} sd_case_rec_t;

/* A new case: flow initialised to received on rec->received, no steps. */
void sd_case_rec_init(sd_case_rec_t *rec);

/* *out is malloc'd. SD_ERR_INVALID for a record that breaks a rule decode enforces. */
int sd_case_rec_encode(const sd_case_rec_t *rec, uint8_t **out, size_t *len) SD_WUR;
/* Strict: SD_ERR_FORMAT naming the field, SD_ERR_TOOBIG beyond SD_CASE_RECORD_MAX. The
 * flow is rebuilt by replaying the steps from received (each step's own date as today),
 * with every rule but the objection window's, which was checked when the step was taken
 * (a holiday added to the table later must not make a stored case unreadable); the
 * stored state must be the one the steps lead to. cal may be NULL. A record
 * written before the workflow existed (no "steps") is a case in state received. */
int sd_case_rec_decode(const uint8_t *buf, size_t len, const sd_config_t *cal, sd_case_rec_t *out) SD_WUR;

/* The case_texts key of step i. */
void sd_case_text_key(const char *case_number, uint32_t step, uint8_t out[SD_CASE_TEXT_KEY_BYTES]);

/* For GET /v1/cases: {"case", "header_digest", "received", "state", "deadline": {"kind",
 * "due", "days_left", "commission"} | null, "overdue", "attorney", "notices"}. */
json_t *sd_case_summary_json(const sd_case_rec_t *rec, sd_date_t today, const sd_config_t *cal);
/* For GET /v1/cases/{case}: the summary plus "decision_due", "extended", "agency",
 * "kind", "concluded", "notified", "objected", "legal" (the actions legal now),
 * "notice_key" (base64, or null for a case without one), "attorney_box_key" (base64 of
 * attorney_box_key, or null when NULL) and "history": [{"step", "action", "date", "actor"
 * (hex or null), "kind", "agency", "reason", "concluded", "text" (bool)}]. */
json_t *sd_case_detail_json(const sd_case_rec_t *rec, const uint8_t *attorney_box_key, sd_date_t today,
                            const sd_config_t *cal);

/* For the whistleblower's status (docs/API.md, "POST /v1/wb/status"): the detail without
 * "attorney", "attorney_box_key", "notice_key", "legal" and the history's "actor", plus
 * "objection_until" (the objection deadline's due date while the window is open, else
 * null). */
json_t *sd_case_whistleblower_json(const sd_case_rec_t *rec, sd_date_t today, const sd_config_t *cal);
/* --- The listing's summary and indexes (docs/STORE.md, "case_summaries") ----------------
 *
 * GET /v1/cases reads these instead of the records: "case_summaries" (key: case number;
 * value: the summary below), "case_by_state" (key: the state, 1 byte, then the case
 * number; value empty) and "case_by_due" (key: the deadline's floor date as YYYYMMDD, 4
 * bytes big-endian, then the case number; value empty; present while the case has a
 * deadline). All three are written in the same store request as the record
 * (sd_case_index_req). The floor date is the deadline counted with weekends only: the
 * holiday table can only move a due date later, so a scan of case_by_due up to a date
 * finds every case due by then whatever the table says, and the listing decides on the
 * summary with the real calendar (the index never decides alone).
 *
 * A summary is binary, version 2 (SD_CASE_SUM_FIXED bytes, then the attorney's name):
 *   0 version (2) | 1 state | 2 flags (bit 0: extended) | 3 received | 7 decision_due |
 *   11 notified | 15 objected (dates YYYYMMDD, 4 bytes little-endian; 0: not set) |
 *   19 case number (11) | 30 header digest (32) | 62 attorney fingerprint (32) |
 *   94 notices (u16 little-endian, 0..SD_CASE_NOTICES_MAX) |
 *   96 name length n (1..SD_RECEIPT_NAME_MAX) | 97 name (n bytes of UTF-8)
 * (Version 1 had no notices: a store of summaries of version 1 is rebuilt at start-up,
 * SD_CASE_INDEX_VERSION "3".)
 */
#define SD_CASE_SUM_VERSION       2
#define SD_CASE_SUM_FIXED         97
#define SD_CASE_SUM_MAX           (SD_CASE_SUM_FIXED + SD_RECEIPT_NAME_MAX)
#define SD_CASE_NUMBER_LEN        (SD_CASE_NUMBER_BYTES - 1) /* bytes in a key */
#define SD_CASE_STATE_KEY_BYTES   (1 + SD_CASE_NUMBER_LEN)
#define SD_CASE_DUE_KEY_BYTES     (4 + SD_CASE_NUMBER_LEN)
#define SD_CASE_LOCATOR_KEY_BYTES (SD_HASH_BYTES + SD_CASE_NUMBER_LEN)
#define SD_CASE_INDEX_VERSION_KEY "case_index_version" /* meta: "1" once every case has its summary */
#define SD_CASE_INDEX_VERSION     "2"                  /* 2: with case_by_locator */

typedef struct {
	char case_number[SD_CASE_NUMBER_BYTES];
	uint8_t digest[SD_HASH_BYTES];
	uint8_t attorney[SD_CA_FINGERPRINT_BYTES];
	char attorney_name[SD_CA_NAME_BYTES];
	sd_date_t decision_due;
	sd_case_flow_t flow; /* state, received, extended, notified, objected (what the deadlines
	                        count from); everything else zero */
	uint32_t notices;    /* the case's notices so far */
} sd_case_sum_t;

/* The summary of a record. */
void sd_case_sum_of(const sd_case_rec_t *rec, sd_case_sum_t *out);
/* SD_ERR_INVALID for a summary decode would refuse. */
int sd_case_sum_encode(const sd_case_sum_t *sum, uint8_t out[SD_CASE_SUM_MAX], size_t *len) SD_WUR;
/* Strict: SD_ERR_FORMAT for another version, a length that is not exactly the one the
 * name's length gives, an unknown state or flag, an invalid date, case number or name. */
int sd_case_sum_decode(const uint8_t *buf, size_t len, sd_case_sum_t *out) SD_WUR;
/* The listing's document (sd_case_summary_json's, which is this of sd_case_sum_of). */
json_t *sd_case_sum_json(const sd_case_sum_t *sum, sd_date_t today, const sd_config_t *cal);
/* The same document as compact JSON text, byte for byte what json_dumps(JSON_COMPACT)
 * makes of sd_case_sum_json (tests/unit/test_caserec.c checks it), written without a
 * jansson tree for the listing's pages: its length, or 0 when it does not fit in cap
 * (SD_CASE_SUM_TEXT_MAX always suffices). */
#define SD_CASE_SUM_TEXT_MAX 512
size_t sd_case_sum_text(const sd_case_sum_t *sum, sd_date_t today, const sd_config_t *cal, char *out, size_t cap);

/* The case_by_state key. */
void sd_case_state_key(sd_case_state_t state, const char *case_number, uint8_t out[SD_CASE_STATE_KEY_BYTES]);
/* The case_by_due key of a case in flow f: false when it has no deadline. */
bool sd_case_due_key(const sd_case_flow_t *f, const char *case_number, uint8_t out[SD_CASE_DUE_KEY_BYTES]);
/* The 4-byte date prefix of case_by_due keys for date d. */
void sd_case_due_prefix(sd_date_t d, uint8_t out[4]);

/* The case_by_locator key of a case. */
void sd_case_locator_key(const uint8_t locator_hash[SD_HASH_BYTES], const char *case_number,
                         uint8_t out[SD_CASE_LOCATOR_KEY_BYTES]);
/* Adds to req what keeps the listing's databases in step with rec: the summary, and the
 * index entries (those of `before`, the flow the stored record had, deleted first; NULL
 * for a new case, which also gets its case_by_locator entry when it has a session). 0,
 * or the builder's error. */
int sd_case_index_req(sd_store_req_t *req, const sd_case_flow_t *before, const sd_case_rec_t *rec) SD_WUR;

#endif
