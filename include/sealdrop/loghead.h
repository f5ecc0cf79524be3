/*
 * loghead.h — the audit log's documents as the server serves them and clients check
 * them (docs/API.md, "Audit log"; docs/FORMAT.md, "Audit log"):
 *
 *   - the signed tree head: {"head": {"version": 1, "deployment", "size", "root" (hex),
 *     "date"}, "signature": {"key_id", "sig"}}, signed by the log key with purpose `head`
 *     over the compact, key-sorted "head" (crypto/json.c, as the directory and receipt);
 *   - an inclusion proof:   {"index": I, "size": N, "path": [hex, ...]};
 *   - a consistency proof:  {"from": M, "to": N, "proof": [hex, ...]};
 *   - a page of entries:    {"entries": [{"index": I, "leaf": base64}, ...]}.
 *
 * Every parser checks every length and refuses unknown members; a head's date is a date,
 * never a time (a head that changes with each request would time a whistleblower's
 * actions for anyone polling it, so heads are published on a schedule).
 */
#ifndef SEALDROP_LOGHEAD_H
#define SEALDROP_LOGHEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sealdrop/audit.h"
#include "sealdrop/date.h"
#include "sealdrop/directory.h"
#include "sealdrop/error.h"
#include "sealdrop/keys.h"
#include "sealdrop/merkle.h"

#define SD_LOGHEAD_VERSION      1
#define SD_LOGHEAD_MAX_BYTES    (8u << 10)
#define SD_LOGPROOF_MAX_BYTES   (16u << 10)
#define SD_LOGENTRIES_MAX       1000 /* entries in one page */
#define SD_LOGENTRIES_MAX_BYTES ((size_t)SD_LOGENTRIES_MAX * (SD_AUDIT_LEAF_MAX * 4 / 3 + 64) + 64)

typedef struct {
	uint32_t version; /* SD_LOGHEAD_VERSION */
	char deployment[SD_DEPLOYMENT_MAX + 1];
	uint64_t size; /* leaves, < SD_MERKLE_SIZE_MAX */
	uint8_t root[SD_MERKLE_HASH_BYTES];
	sd_date_t date;                      /* the day it was published */
	uint8_t log_key_id[SD_KEY_ID_BYTES]; /* filled by sign and parse */
} sd_loghead_t;

/* Signs h with the log key: *json_out (malloc'd, pretty-printed, newline-terminated). */
int sd_loghead_sign(const sd_loghead_t *h, const sd_seckey_t *log, char **json_out) SD_WUR;
/* Parses and verifies against the log key: SD_ERR_FORMAT (naming the field),
 * SD_ERR_VERIFY (another key, or a signature that does not verify), SD_ERR_TOOBIG. */
int sd_loghead_parse(const uint8_t *json, size_t len, const sd_pubkey_t *log, sd_loghead_t *out) SD_WUR;
/* The same with the log key of a verified directory (SD_ERR_INVALID when it lists none),
 * also checking the deployment matches. */
int sd_loghead_verify_with_directory(const uint8_t *json, size_t len, const sd_directory_t *d,
                                     sd_loghead_t *out) SD_WUR;
/* True when a and b are the same signed statement (deployment, size, root, date). */
bool sd_loghead_same(const sd_loghead_t *a, const sd_loghead_t *b);

typedef struct {
	uint64_t a, b; /* inclusion: index, size; consistency: from, to */
	size_t n;
	uint8_t hashes[SD_MERKLE_PROOF_MAX][SD_MERKLE_HASH_BYTES];
} sd_logproof_t;

/* {"index","size","path"} as JSON text (malloc'd, compact, newline-terminated). */
int sd_logproof_inclusion_json(const sd_logproof_t *p, char **out) SD_WUR;
int sd_logproof_consistency_json(const sd_logproof_t *p, char **out) SD_WUR;
/* Parsers: SD_ERR_FORMAT naming the field, SD_ERR_TOOBIG. They check syntax only; the
 * caller verifies with sd_merkle_verify_*. */
int sd_logproof_inclusion_parse(const uint8_t *json, size_t len, sd_logproof_t *out) SD_WUR;
int sd_logproof_consistency_parse(const uint8_t *json, size_t len, sd_logproof_t *out) SD_WUR;

typedef struct {
	uint64_t index;
	uint8_t *leaf; /* the exact leaf bytes, malloc'd */
	size_t leaf_len;
	sd_audit_event_t event; /* parsed from leaf */
} sd_logentry_t;

/* {"entries": [...]}: *out (calloc'd array of *n entries, free with sd_logentries_free).
 * Each leaf must parse (sd_audit_leaf_parse) and the indexes must rise strictly
 * (a case's entries are not contiguous). */
int sd_logentries_parse(const uint8_t *json, size_t len, sd_logentry_t **out, size_t *n) SD_WUR;
void sd_logentries_free(sd_logentry_t *e, size_t n);

#endif
