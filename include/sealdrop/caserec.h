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
	uint32_t notices; /* notices written (the next one's seq): 1..SD_CASE_NOTICES_MAX with a
	                     notice key, else 0 */
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
 * "due", "days_left", "commission"} | null, "overdue", "attorney"}. */
json_t *sd_case_summary_json(const sd_case_rec_t *rec, sd_date_t today, const sd_config_t *cal);
/* For GET /v1/cases/{case}: the summary plus "decision_due", "extended", "agency",
 * "kind", "concluded", "notified", "objected", "legal" (the actions legal now),
 * "notice_key" (base64, or null for a case without one), "attorney_box_key" (base64 of
 * attorney_box_key, or null when NULL) and "history": [{"step", "action", "date", "actor"
 * (hex or null), "kind", "agency", "reason", "concluded", "text" (bool)}]. */
json_t *sd_case_detail_json(const sd_case_rec_t *rec, const uint8_t *attorney_box_key, sd_date_t today,
                            const sd_config_t *cal);

#endif
