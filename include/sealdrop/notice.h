/*
 * notice.h — a written notice about a case (Decree Art. 11-4): what the server signs with
 * its log key and seals three ways, so that only the whistleblower, the filing attorney
 * and the Commission can read it, and nobody can forge one (DESIGN.md, "Case workflow";
 * docs/FORMAT.md, "Notice").
 *
 * A notice is a signed JSON document {"notice": {...}, "signature": {"key_id", "sig"}}
 * (purpose `notice`, the log key; signed as the receipt is, crypto/json.c):
 *
 *   "notice": {"version": 1, "deployment", "case", "seq" (0, 1, ... per case), "date",
 *              "kind", "to_whistleblower" (base64 of a sealed box to the header's notice
 *              key), "to_attorney" (to the attorney's enrolled box key; absent when the
 *              attorney registered none), "to_commission" (to the intake key)}
 *
 * Each box holds the same plaintext: the UTF-8 text of the notice (at most
 * SD_NOTICE_TEXT_MAX bytes). The server seals the standard notices itself (their text is
 * the Commission's standard wording, not something a person wrote); an officer's written
 * notice is sealed by the officer's client and the server only signs the boxes. The
 * notice's audit leaf (event `notice`) carries the case, the date and `digest` =
 * sd_notice_digest(), so a reader checks a notice's inclusion in the log by its digest.
 */
#ifndef SEALDROP_NOTICE_H
#define SEALDROP_NOTICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sealdrop/date.h"
#include "sealdrop/directory.h"
#include "sealdrop/error.h"
#include "sealdrop/keys.h"
#include "sealdrop/receipt.h"
#include "sealdrop/sealbox.h"

#define SD_NOTICE_VERSION      1
#define SD_NOTICE_TEXT_MAX     (16u << 10) /* bytes of a notice's text */
#define SD_NOTICE_BOX_MAX      (SD_NOTICE_TEXT_MAX + SD_SEALBOX_OVERHEAD)
#define SD_NOTICE_MAX_BYTES    (96u << 10) /* a signed notice document */
#define SD_NOTICE_DIGEST_BYTES 32

/* The names are part of the format: append, never renumber. */
typedef enum {
	SD_NOTICE_RECEIPT = 1,     /* the case was received (Art. 11-4: at receipt) */
	SD_NOTICE_EXTENSION,       /* the decision period was extended (Art. 8(2)) */
	SD_NOTICE_REFERRAL,        /* referred to an agency (Art. 9) */
	SD_NOTICE_FORWARDING,      /* forwarded (Art. 10) */
	SD_NOTICE_TERMINATION,     /* closed without inspection, and why (Art. 12) */
	SD_NOTICE_RESULT,          /* the agency's result (Art. 11(2)-(3)); the objection window opens */
	SD_NOTICE_REINVESTIGATION, /* a reinvestigation was requested (Art. 11-3(2)) */
	SD_NOTICE_CLOSING,         /* the case is closed */
	SD_NOTICE_WRITTEN,         /* an officer's own notice */
	SD_NOTICE_IDENTITY_ACCESS, /* a custodian fetched a consent's release (Art. 13: every access seen) */
} sd_notice_kind_t;

/* "receipt", "extension", ... "written", "identity-access"; NULL out of range; and back. */
const char *sd_notice_kind_name(sd_notice_kind_t k);
bool sd_notice_kind_from_name(const char *name, sd_notice_kind_t *out);

typedef struct {
	uint32_t version;
	char deployment[SD_DEPLOYMENT_MAX + 1];
	char case_number[SD_CASE_NUMBER_BYTES];
	uint32_t seq;
	sd_date_t date;
	sd_notice_kind_t kind;
	uint8_t *to_whistleblower, *to_attorney, *to_commission; /* malloc'd boxes; to_attorney may be NULL */
	size_t whistleblower_len, attorney_len, commission_len;
	uint8_t log_key_id[SD_KEY_ID_BYTES]; /* filled by sign and parse */
} sd_notice_t;

/* Frees the boxes (not n itself) and zeroes n. */
void sd_notice_clear(sd_notice_t *n);

/* Seals text (1..SD_NOTICE_TEXT_MAX bytes of UTF-8) into n's three boxes: to the
 * whistleblower's notice key (the package header's notice_pk), to the attorney's box key
 * (NULL: none) and to the intake key. */
int sd_notice_seal(sd_notice_t *n, const char *text, const uint8_t notice_pk[32], const uint8_t *attorney_pk,
                   const sd_pubkey_t *intake) SD_WUR;

/* Signs n with the log key: *json_out (malloc'd, newline-terminated). */
int sd_notice_sign(const sd_notice_t *n, const sd_seckey_t *log, char **json_out) SD_WUR;
/* Parses and verifies against the log key: SD_ERR_FORMAT naming the field, SD_ERR_VERIFY,
 * SD_ERR_TOOBIG. out owns its boxes (sd_notice_clear). */
int sd_notice_parse(const uint8_t *json, size_t len, const sd_pubkey_t *log, sd_notice_t *out) SD_WUR;
/* The same with the directory's log key, checking the deployment. */
int sd_notice_verify_with_directory(const uint8_t *json, size_t len, const sd_directory_t *d, sd_notice_t *out) SD_WUR;

/* BLAKE2b-256 of the canonical "notice" body (compact, sorted keys) — the `digest` of
 * the notice's audit leaf. */
int sd_notice_digest(const sd_notice_t *n, uint8_t out[SD_NOTICE_DIGEST_BYTES]) SD_WUR;

/* Opens one of the boxes with the matching X25519 key pair (the whistleblower's notice
 * key, derived from the codename; an attorney's box key; the intake key): *text in secret
 * memory (sd_secret_free), NUL-terminated, checked to be valid UTF-8 without control
 * characters other than newline and tab. SD_ERR_VERIFY when the box does not open. */
int sd_notice_open(const uint8_t *box, size_t len, const uint8_t pk[32], const uint8_t sk[32], char **text,
                   size_t *text_len) SD_WUR;

/* The standard text of a kind, in Korean then English (Art. 11-4: plain language), for a
 * case; detail is the agency's name, the termination reason, the conclusion date, or
 * NULL. *out malloc'd. */
int sd_notice_standard_text(sd_notice_kind_t kind, const char *case_number, const char *detail, char **out) SD_WUR;

#endif
