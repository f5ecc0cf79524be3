/*
 * auditcheck.h — `sealdropd audit check`: recompute the audit log's whole tree from the
 * stored leaves and compare it with the heads the log key signed (server/auditcheck.c).
 *
 * What it finds, each as one sentence in the report's problem:
 *   - a leaf rewritten: the root recomputed at the signed head's size differs from it;
 *   - leaves dropped: the signed head covers more leaves than are stored, or the log's
 *     size disagrees with the leaves present, or an index is missing;
 *   - the stored nodes (which proofs are built from) disagree with the leaves;
 *   - with a head the operator kept from earlier (--expect-head): a store reverted to an
 *     older copy (the kept head is larger than the store) or a forked or rewritten one
 *     (the root at the kept head's size differs).
 * A store reverted to an older, internally consistent copy passes without a kept head:
 * only someone who saw a later head can tell (DESIGN.md, Audit log).
 *
 * sd_audit_check uses only sd_store_call, so it runs offline on a store the tool opened,
 * and in the running server on a thread of its own (the control socket's audit_check).
 */
#ifndef SEALDROP_AUDITCHECK_H
#define SEALDROP_AUDITCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "sealdrop/directory.h"
#include "sealdrop/error.h"
#include "sealdrop/keys.h"
#include "sealdrop/loghead.h"
#include "sealdrop/store.h"

#define SD_AUDIT_PROBLEM_MAX 512

typedef struct {
	uint64_t leaves;                    /* stored, counted from index 0 without a gap */
	uint64_t stored_size;               /* what the log's size record says */
	uint8_t root[SD_MERKLE_HASH_BYTES]; /* recomputed over every stored leaf */
	bool has_head;                      /* the latest head the store holds */
	sd_loghead_t head;
	bool has_expect; /* the head the operator kept */
	sd_loghead_t expect;
	char problem[SD_AUDIT_PROBLEM_MAX]; /* "" when everything agrees */
} sd_audit_report_t;

/* Checks the store's log against the log key's public half and, when expect_json is not
 * NULL, against that signed head too. 0 when everything agrees; SD_ERR_VERIFY with
 * report->problem (and the detail) saying what does not; SD_ERR_FORMAT for an
 * expect_json that is not a head the log key signed; the store's errors otherwise. */
int sd_audit_check(sd_store_t *store, const sd_pubkey_t *log, const uint8_t *expect_json, size_t expect_len,
                   sd_audit_report_t *report) SD_WUR;

/* The same with the log key (keys[0]) and, for heads signed before a log key rotation, the
 * log keys the directory retired (keys[1..n_keys-1]): each head is verified with the key
 * among them whose id it names. */
#define SD_AUDIT_KEYS_MAX (1 + SD_DIRECTORY_MAX_LOG_RETIRED)
int sd_audit_check_keys(sd_store_t *store, const sd_pubkey_t *keys, size_t n_keys, const uint8_t *expect_json,
                        size_t expect_len, sd_audit_report_t *report) SD_WUR;
/* keys for sd_audit_check_keys: log, then d's keys.log_retired (d may be NULL). */
size_t sd_audit_keys(const sd_pubkey_t *log, const sd_directory_t *d, sd_pubkey_t keys[SD_AUDIT_KEYS_MAX]);
/* The same with the directory DIR/directory.json (verified against its own signer, the
 * pinned root); log alone when it cannot be read. */
size_t sd_audit_keys_load(const char *dir, const sd_pubkey_t *log, sd_pubkey_t keys[SD_AUDIT_KEYS_MAX]);

/* The report as JSON: {"ok", "leaves", "size", "root", "head": {...}|null, "expect": ...,
 * "problem"}. NULL on no memory. */
json_t *sd_audit_report_json(const sd_audit_report_t *report);

#endif
