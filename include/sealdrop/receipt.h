/*
 * receipt.h — the filing receipt: what the server signs with its log key when it
 * creates a case (docs/FORMAT.md, "Receipt"; DESIGN.md, Audit log).
 *
 * A JSON document {"receipt": {...}, "signature": {"key_id": hex, "sig": base64}}; the
 * signature (purpose `receipt`, the log key) is over the compact, key-sorted
 * serialisation of "receipt", exactly as the directory is signed. Anyone holding the
 * directory can check a receipt offline: it proves the server accepted a package with
 * this header digest as this case on this date.
 */
#ifndef SEALDROP_RECEIPT_H
#define SEALDROP_RECEIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sealdrop/audit.h"
#include "sealdrop/date.h"
#include "sealdrop/directory.h"
#include "sealdrop/error.h"
#include "sealdrop/keys.h"

#define SD_RECEIPT_VERSION   1
#define SD_CASE_NUMBER_BYTES 12 /* "YYYY-NNNNNN" + NUL */
#define SD_RECEIPT_NAME_MAX  64 /* the filing attorney's name, bytes of UTF-8 */
#define SD_RECEIPT_MAX_BYTES (16u << 10)

typedef struct {
	uint32_t version; /* SD_RECEIPT_VERSION */
	char deployment[SD_DEPLOYMENT_MAX + 1];
	char case_number[SD_CASE_NUMBER_BYTES];
	uint8_t header_digest[32];
	sd_date_t received;                     /* the receipt date (Art. 8: the period counts from it) */
	sd_date_t decision_due;                 /* Art. 8(1): 60 days after receipt */
	char attorney[SD_RECEIPT_NAME_MAX + 1]; /* the enrolled name of the filing attorney */
	uint8_t log_key_id[SD_KEY_ID_BYTES];    /* filled by sign and parse */
	bool has_leaf;                          /* the filing's leaf in the audit log */
	uint64_t leaf_index;
	bool has_attorney_cert; /* the filing attorney's certificate fingerprint (the leaf's actor) */
	uint8_t attorney_cert[32];
} sd_receipt_t;

/* "YYYY-NNNNNN": a year 2000..9999 and six digits, not all zero. */
bool sd_case_number_is_valid(const char *s);
/* Formats year and sequence number (1..999999); SD_ERR_TOOBIG past 999999. */
int sd_case_number_format(int year, uint32_t seq, char out[SD_CASE_NUMBER_BYTES]) SD_WUR;

/* Signs rc with the log key: *json_out (malloc'd, pretty-printed, newline-terminated). */
int sd_receipt_sign(const sd_receipt_t *rc, const sd_seckey_t *log, char **json_out) SD_WUR;

/* Parses and verifies against the log key: SD_ERR_FORMAT (naming the field),
 * SD_ERR_VERIFY (another key, or a signature that does not verify), SD_ERR_TOOBIG. */
int sd_receipt_parse(const uint8_t *json, size_t len, const sd_pubkey_t *log, sd_receipt_t *out) SD_WUR;

/* The same, taking the log key from a verified directory (SD_ERR_INVALID if it lists
 * none) and checking the deployment matches. */
int sd_receipt_verify_with_directory(const uint8_t *json, size_t len, const sd_directory_t *d,
                                     sd_receipt_t *out) SD_WUR;

/* The filing's audit event as the receipt states it: the leaf the server appended when it
 * created the case (event filing, the receipt date, the case, role attorney, the
 * attorney's certificate, the header digest). SD_ERR_INVALID for a receipt without
 * attorney_certificate (one from before the audit log). */
int sd_receipt_filing_event(const sd_receipt_t *rc, sd_audit_event_t *ev) SD_WUR;

#endif
