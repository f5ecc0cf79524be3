/*
 * audit.h — one event of the audit log and its leaf: the exact bytes the Merkle tree
 * hashes (DESIGN.md, Audit log; docs/FORMAT.md, "Audit log").
 *
 * A leaf is the compact JSON object of the event with its members sorted by name and no
 * white space, e.g.
 *
 *   {"actor":"3f..","case":"2026-000001","date":"2026-11-22","digest":"9a..","event":"filing","role":"attorney","v":1}
 *
 * Only the members an event has are present. A leaf carries a date (never a time), a case
 * number, roles and certificate fingerprints — never a name, never identity data, never
 * an address; `detail` is a word from a fixed vocabulary (a workflow state, a reason),
 * never text a person typed. sd_audit_leaf_parse accepts only the canonical bytes (it
 * re-encodes and compares), so one event has exactly one leaf and one leaf hash.
 */
#ifndef SEALDROP_AUDIT_H
#define SEALDROP_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "sealdrop/date.h"
#include "sealdrop/error.h"

#define SD_AUDIT_LEAF_VERSION   1
#define SD_AUDIT_LEAF_MAX       1024 /* bytes of one leaf */
#define SD_AUDIT_ROLE_MAX       15   /* "whistleblower" */
#define SD_AUDIT_DETAIL_MAX     127  /* [a-z0-9.:-], e.g. "refer:investigation:AGENCY-ID" */
#define SD_AUDIT_CASE_BYTES     12   /* "YYYY-NNNNNN" + NUL, as SD_CASE_NUMBER_BYTES */
#define SD_AUDIT_ID_BYTES       32   /* a certificate fingerprint, a digest */
#define SD_AUDIT_EVENT_NAME_MAX 24

/* Event classes. The names are part of the leaf format: append new ones, never renumber. */
#define SD_AUDIT_EVENTS(X)                                                                                             \
	X(FILING, "filing")                           /* a package became a case (actor: attorney) */                  \
	X(ENROLLMENT, "enrollment")                   /* an account was enrolled (subject, subject_role) */            \
	X(ACCOUNT_DISABLED, "account-disabled")       /* an account was disabled (subject) */                          \
	X(DIRECTORY_INSTALLED, "directory-installed") /* keys rotated: a new directory (digest, number) */             \
	X(TRANSITION, "transition")                   /* workflow: detail is the new state */                          \
	X(NOTICE, "notice")                                                                                            \
	X(CONSENT_ACCEPTED, "consent-accepted")                                                                        \
	X(CONSENT_REFUSED, "consent-refused")                                                                          \
	X(CONSENT_REVOKED, "consent-revoked")                                                                          \
	X(UNSEAL, "unseal")                                                                                            \
	X(EXPORT, "export")                                                                                            \
	X(RESTORE, "restore")                 /* the epoch statement: the store was restored to `number` leaves */     \
	X(LOG_KEY_ROTATED, "log-key-rotated") /* the log key changed (detail: old and new key ids) */                  \
	X(CASE_DESTROYED, "case-destroyed")   /* retention: a closed case's data was deleted */                        \
	X(CERTIFICATE_RENEWED, "certificate-renewed") /* an account got a new certificate (subject: the new one) */

#define SD_AUDIT_ENUM_(name, text) SD_AUDIT_##name,
typedef enum { SD_AUDIT_NONE = 0, SD_AUDIT_EVENTS(SD_AUDIT_ENUM_) SD_AUDIT_EVENT_COUNT } sd_audit_type_t;
#undef SD_AUDIT_ENUM_

/* "filing" ..., or NULL; and back (false for an unknown name). */
const char *sd_audit_type_name(sd_audit_type_t t);
bool sd_audit_type_from_name(const char *name, sd_audit_type_t *out);

/* One event. Fields that are empty ("" / false) are left out of the leaf. */
typedef struct {
	sd_audit_type_t type;
	sd_date_t date;                        /* always */
	char case_number[SD_AUDIT_CASE_BYTES]; /* "case": the case it belongs to, or "" */
	char role[SD_AUDIT_ROLE_MAX + 1];      /* "role": who acted: attorney, officer, custodian,
	                                          operator, whistleblower, server */
	bool has_actor;                        /* "actor": the acting account's certificate fingerprint */
	uint8_t actor[SD_AUDIT_ID_BYTES];
	bool has_subject; /* "subject": the account acted upon */
	uint8_t subject[SD_AUDIT_ID_BYTES];
	char subject_role[SD_AUDIT_ROLE_MAX + 1]; /* "subject_role", or "" */
	bool has_digest;                          /* "digest": the package header's digest, the directory's */
	uint8_t digest[SD_AUDIT_ID_BYTES];
	bool has_number; /* "number": a directory version, a tree size */
	uint64_t number;
	char detail[SD_AUDIT_DETAIL_MAX + 1]; /* "detail": a state, a reason, an agency id; or "" */
} sd_audit_event_t;

/* The canonical leaf: *out malloc'd, *len bytes (no NUL counted; a NUL follows).
 * SD_ERR_USAGE for an event that breaks the rules above (a role or detail outside its
 * vocabulary, no type, an invalid date or case number). */
int sd_audit_leaf_encode(const sd_audit_event_t *ev, uint8_t **out, size_t *len) SD_WUR;

/* Parses a leaf: SD_ERR_FORMAT (naming the field) for anything but canonical bytes of a
 * valid event; SD_ERR_TOOBIG beyond SD_AUDIT_LEAF_MAX. An unknown event name is
 * SD_ERR_FORMAT too: a client older than the log says so rather than guess. */
int sd_audit_leaf_parse(const uint8_t *leaf, size_t len, sd_audit_event_t *out) SD_WUR;

/* The event as a JSON object (the leaf's members, for `--json` output); NULL on no memory. */
json_t *sd_audit_event_json(const sd_audit_event_t *ev);

#endif
