/*
 * scrub_int.h — what server/scrub.c (cases, chunks, uploads) and server/scrub_log.c (the
 * audit log) share inside `sealdropd scrub` (include/sealdrop/scrub.h).
 */
#ifndef SEALDROP_SCRUB_INT_H
#define SEALDROP_SCRUB_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sealdrop/audit.h"
#include "sealdrop/caserec.h"
#include "sealdrop/envelope.h"
#include "sealdrop/scrub.h"

#define SCRUB_LEAF_PAGE       1000 /* leaves (and their node GETs) one request reads */
#define SCRUB_CASE_NOTICE_MAX 1024 /* notice leaves of one case remembered (a case has <= 256) */

/* A leaf found damaged by the log pass, held until the case pass names its case. */
typedef struct {
	uint64_t index;
	bool attributed;
	char problem[160];
} scrub_bad_leaf_t;

typedef struct {
	sd_store_t *store;
	const sd_pubkey_t *log;  /* keys[0] */
	const sd_pubkey_t *keys; /* the log key, then the keys the directory retired */
	size_t n_keys;
	const sd_config_t *cal;
	sd_scrub_report_t *rep;
	scrub_bad_leaf_t *bad; /* in index order, at most SD_SCRUB_BAD_LEAVES */
	size_t n_bad;
} scrub_t;

/* What the case pass learns of one case's leaves. */
typedef struct {
	bool has_filing; /* the first filing leaf of the case */
	uint64_t filing_index;
	uint8_t filing_leaf[SD_AUDIT_LEAF_MAX];
	size_t filing_len;
	uint8_t (*notice_digests)[SD_AUDIT_ID_BYTES]; /* of the case's notice leaves */
	size_t n_notices;
} scrub_leaves_t;

/* The log pass (server/scrub_log.c): every leaf against its stored hash (node (0, i))
 * and its parser, damaged ones held in s->bad; then the whole tree (auditcheck). */
int scrub_log_leaves(scrub_t *s) SD_WUR;
int scrub_log_tree(scrub_t *s) SD_WUR;
/* The case's leaves (case_events): each stored, intact and naming the case; damage is
 * reported under the case. out->notice_digests is malloc'd (scrub_leaves_clear). */
int scrub_case_leaves(scrub_t *s, const char *cn, const sd_case_rec_t *rec, scrub_leaves_t *out) SD_WUR;
void scrub_leaves_clear(scrub_leaves_t *l);
/* Damaged leaves no case claimed, reported under "audit log". */
void scrub_log_unclaimed(scrub_t *s);

/* Calls fn for every entry of db under prefix, reading `limit` entries a request; stops
 * at fn's first error (server/scrub_upload.c). */
typedef int (*scrub_entry_fn)(scrub_t *s, void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen);
int scrub_scan(scrub_t *s, sd_store_db_t db, const uint8_t *prefix, size_t prefix_len, size_t limit, scrub_entry_fn fn,
               void *ctx) SD_WUR;

/* The uploads in progress (server/scrub_upload.c). */
int scrub_uploads(scrub_t *s) SD_WUR;

/* The chunks of an upload against its manifest (server/scrub_upload.c). complete: every chunk
 * must be there (a committed case), else only those present are checked. */
int scrub_chunks(scrub_t *s, sd_scrub_kind_t kind, const char *subject, const uint8_t *upload_id, const sd_header_t *h,
                 bool complete) SD_WUR;

#endif
