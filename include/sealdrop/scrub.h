/*
 * scrub.h — `sealdropd scrub`: re-verify every blob and record of a stopped server's
 * store against its hash, MAC or signature, and report damage case by case
 * (server/scrub.c, server/scrub_log.c; the report: server/scrub_report.c).
 *
 * LMDB 0.9 keeps no page checksums: a bit flipped on the disk comes back as a valid
 * value. Everything sealdrop stores is covered by something that can tell: each chunk by
 * its hash in the signed manifest, the header by the whistleblower's signature, receipts
 * and notices by the log key, consents by the consent key, leaves by the Merkle tree and
 * its signed heads, and records by their strict decoders and by each other (a summary is
 * a function of its record, an index entry of both). The scrub checks all of it, in
 * pages (memory stays bounded whatever the store's size), and never writes.
 *
 * What is checked, per committed case (in case order): the record decodes and is filed
 * under its own number; its header is stored, verifies and has the record's digest; its
 * upload record agrees; every chunk of every blob is present and has its manifest hash
 * and size, and no chunk is stored beyond the manifest; case_digests, the summary and the
 * listing's index entries agree with the record; the receipt (when stored: one lost to a
 * crash is signed again on demand) verifies with the log key, states the record's
 * filing and names the filing's leaf; every notice verifies, has its key's seq and is
 * recorded by a leaf of the case, and the record counts them; every consent row decodes,
 * is filed under its id and verifies with the header's consent key; every leaf of the
 * case (case_events) exists, is intact and names the case.
 * The audit log: the tree recomputed from the leaves against the stored nodes and the
 * signed head (server/auditcheck.c), and each leaf against its own stored hash; a
 * damaged leaf is reported under its case when case_events lists it.
 * Uploads in progress (by upload id, not a case): the record decodes, the header
 * verifies, and each chunk stored so far matches the manifest (missing ones are not
 * damage: the upload is unfinished).
 *
 * The report prints one line per damaged item as it is found ("2026-000012: blob 1
 * chunk 7: hash mismatch") and keeps the first SD_SCRUB_ITEMS_MAX for --json.
 */
#ifndef SEALDROP_SCRUB_H
#define SEALDROP_SCRUB_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include "sealdrop/config.h"
#include "sealdrop/error.h"
#include "sealdrop/keys.h"
#include "sealdrop/store.h"

#define SD_SCRUB_ITEMS_MAX   1000 /* damaged items the JSON report lists; the rest are counted */
#define SD_SCRUB_SUBJECT_MAX 40   /* "2026-000012", an upload id in hex, "audit log" */
#define SD_SCRUB_WHAT_MAX    64   /* "blob 1 chunk 7", "receipt", "leaf 12" */
#define SD_SCRUB_PROBLEM_MAX 256
#define SD_SCRUB_CHUNK_PAGE  16   /* chunk values one store request reads (16 MiB at most) */
#define SD_SCRUB_RECORD_PAGE 256  /* case or upload records one request reads */
#define SD_SCRUB_BAD_LEAVES  4096 /* damaged leaves held for attribution to their case */

/* What a damaged item belongs to. */
typedef enum {
	SD_SCRUB_CASE = 1, /* subject: the case number */
	SD_SCRUB_UPLOAD,   /* subject: the upload id in hex (an upload in progress) */
	SD_SCRUB_LOG,      /* subject: "audit log" (a leaf of no case, the tree, the heads) */
} sd_scrub_kind_t;

typedef struct {
	uint64_t cases;   /* committed cases checked */
	uint64_t uploads; /* uploads in progress checked */
	uint64_t chunks;  /* chunk values read and checked */
	uint64_t bytes;   /* their bytes */
	uint64_t records; /* every other value checked: records, headers, receipts, notices, leaves... */
	uint64_t damaged; /* damaged items, all kinds */
	uint64_t damaged_cases;
	uint64_t left_off; /* damaged items beyond SD_SCRUB_ITEMS_MAX, not in items */
	json_t *items;     /* [{"kind", "subject", "what", "problem"}], the first SD_SCRUB_ITEMS_MAX */
	FILE *lines;       /* each damaged item printed here as found, or NULL */
	char last_case[SD_SCRUB_SUBJECT_MAX];
} sd_scrub_report_t;

/* An empty report (lines may be NULL). SD_ERR_NOMEM. */
int sd_scrub_report_init(sd_scrub_report_t *rep, FILE *lines) SD_WUR;
void sd_scrub_report_clear(sd_scrub_report_t *rep);

/* Records one damaged item and prints "SUBJECT: WHAT: PROBLEM" to rep->lines. A case's
 * damage must be recorded together (no other case's in between): a case counts once in
 * damaged_cases however many of its items are damaged. */
void sd_scrub_damage(sd_scrub_report_t *rep, sd_scrub_kind_t kind, const char *subject, const char *what,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* "scrub: 3 cases, 12 chunks (5243210 bytes), 40 records checked: 2 damaged in 1 case"
 * (then ", 1 upload" when uploads in progress were checked). */
void sd_scrub_summary(const sd_scrub_report_t *rep, char *out, size_t cap);

/* {"ok", "cases", "uploads", "chunks", "bytes", "records", "damaged", "damaged_cases",
 * "items", "left_off", "summary"}; NULL on no memory. */
json_t *sd_scrub_report_json(const sd_scrub_report_t *rep);

/* Scrubs the store with the log key's public half; cal (the server's configuration, for
 * the workflow's calendar when records are decoded) may be NULL. 0 when the walk
 * finished, whatever it found (rep says); the store's error when a read failed (the
 * walk stops there). */
int sd_scrub_run(sd_store_t *store, const sd_pubkey_t *log, const sd_config_t *cal, sd_scrub_report_t *rep) SD_WUR;
/* The same with the log key (keys[0]) and the keys the directory retired (keys[1..]): a
 * receipt or notice signed before a log key rotation verifies with the key it names
 * (include/sealdrop/auditcheck.h, sd_audit_keys_load). */
int sd_scrub_run_keys(sd_store_t *store, const sd_pubkey_t *keys, size_t n_keys, const sd_config_t *cal,
                      sd_scrub_report_t *rep) SD_WUR;

#endif
