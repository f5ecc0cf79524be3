/*
 * export.h — the referral bundle (.sdr) an officer's client builds for an agency, and the
 * export receipt the server signs for it (DESIGN.md, Consent-gated identity release:
 * "Referral and forwarding"; docs/FORMAT.md, "Referral bundle (.sdr)" and "Export
 * receipt").
 *
 *   bundle  = prefix || head || ciphertext || trailer
 *   prefix  : magic "\x89SDR\r\n\x1a\n", version, flags, head length
 *   head    : case, agency, the package's header_digest and binding (the associated data
 *             of every blob), content_dek sealed to the agency's directory-listed key,
 *             the root-signed directory, and the manifest entries of the report and
 *             evidence (kind, chunks, size, the BLAKE2b-256 of each chunk).
 *   ciphertext: the report's and the evidence's chunks, as sealed, in order.
 *   trailer : the export receipt (JSON), after everything it signs.
 *   bundle_digest = BLAKE2b-256(prefix || head || ciphertext)
 *
 * The identity travels in none of it (Art. 9(3)): no identity blob, no sealed s_c, no
 * wrapped s_w, and none of the whistleblower's keys.
 */
#ifndef SEALDROP_EXPORT_H
#define SEALDROP_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sealdrop/date.h"
#include "sealdrop/directory.h"
#include "sealdrop/envelope.h"
#include "sealdrop/error.h"
#include "sealdrop/fileio.h"
#include "sealdrop/keys.h"
#include "sealdrop/receipt.h"

#define SD_SDR_VERSION              1
#define SD_SDR_MAGIC_BYTES          8
#define SD_SDR_PREFIX_BYTES         16 /* magic, version, flags, head length */
#define SD_SDR_MAX_HEAD             (SD_SDX_MAX_HEADER + SD_DIRECTORY_MAX_BYTES + 4096)
#define SD_EXPORT_RECEIPT_VERSION   1
#define SD_EXPORT_RECEIPT_MAX_BYTES (16u << 10)

/* --- the export receipt ------------------------------------------------------------- */

typedef struct sd_export_receipt {
	uint32_t version; /* SD_EXPORT_RECEIPT_VERSION */
	char deployment[SD_DEPLOYMENT_MAX + 1];
	char case_number[SD_CASE_NUMBER_BYTES];
	char agency[SD_AGENCY_ID_MAX + 1];
	uint8_t agency_key_id[SD_KEY_ID_BYTES]; /* the directory's key for the agency */
	uint8_t header_digest[SD_HASH_BYTES];   /* the case's package */
	uint8_t bundle_digest[SD_HASH_BYTES];
	sd_date_t date;                      /* the day the server recorded the export */
	uint64_t leaf_index;                 /* the export's audit leaf */
	uint8_t log_key_id[SD_KEY_ID_BYTES]; /* filled by sign and parse: signature.key_id */
} sd_export_receipt_t;

/* Signs er with the log key (purpose export): *json_out malloc'd, pretty-printed,
 * newline-terminated. SD_ERR_INVALID for a receipt the parser would refuse. */
int sd_export_receipt_sign(const sd_export_receipt_t *er, const sd_seckey_t *log, char **json_out) SD_WUR;
/* Parses strictly (unknown members refused, every field checked) and verifies against
 * the log key: SD_ERR_FORMAT naming the field, SD_ERR_VERIFY, SD_ERR_TOOBIG. */
int sd_export_receipt_parse(const uint8_t *json, size_t len, const sd_pubkey_t *log, sd_export_receipt_t *out) SD_WUR;
/* The same with the log key of a verified directory, which must be the receipt's
 * deployment's and list the receipt's agency under the key id it names. */
int sd_export_receipt_verify_with_directory(const uint8_t *json, size_t len, const sd_directory_t *d,
                                            sd_export_receipt_t *out) SD_WUR;

/* --- the bundle ----------------------------------------------------------------------- */

typedef struct {
	uint16_t version;
	char case_number[SD_CASE_NUMBER_BYTES];
	char agency[SD_AGENCY_ID_MAX + 1];
	uint8_t header_digest[SD_HASH_BYTES];
	uint8_t sealed_dek[SD_SEALED_KEY_BYTES]; /* crypto_box_seal to the agency key */
	const uint8_t *directory;                /* the root-signed directory JSON, inside content->raw */
	size_t directory_len;
	/* The report and evidence as a header the package opener reads: blob 0 the report,
	 * blob 1 the identity, withheld (no chunks, size 0), blobs 2.. the evidence;
	 * binding, raw (the prefix and head), raw_len and offsets into the bundle. */
	sd_header_t *content;
	uint64_t ciphertext_end;       /* = the trailer's offset */
	uint8_t digest[SD_HASH_BYTES]; /* bundle_digest, computed */
	uint8_t *receipt;              /* the trailer's JSON, malloc'd */
	size_t receipt_len;
} sd_bundle_t;

typedef struct {
	const sd_header_t *h;      /* the case's package header, parsed (signature checked) */
	int pkg_fd;                /* the package's bytes: each chunk at its offset in h */
	const sd_seckey_t *intake; /* unwraps the content key */
	const char *case_number;
	const sd_agency_t *agency; /* as the root-verified directory lists it */
	const uint8_t *directory;  /* that directory's JSON */
	size_t directory_len;
	sd_progress_fn progress; /* may be NULL */
	void *progress_ctx;
} sd_bundle_params_t;

/* Writes prefix, head and ciphertext to out (from its start), every chunk checked
 * against h's manifest as it is copied, and computes the bundle digest. The content key
 * lives only in secret memory, from the intake key's box to the agency's. */
int sd_bundle_write(const sd_bundle_params_t *p, sd_afile_t *out, uint8_t digest[SD_HASH_BYTES]) SD_WUR;
/* Appends the trailer: the export receipt. */
int sd_bundle_write_receipt(sd_afile_t *out, const char *receipt, size_t len) SD_WUR;

/* Parses a whole bundle in memory: structure, every length, every chunk against the
 * manifest, the trailer; computes the digest. Nothing about the directory or the receipt
 * is verified: that takes a pinned root (the caller's). */
int sd_bundle_parse(const uint8_t *buf, size_t len, sd_bundle_t **out) SD_WUR;
/* The same from a file, streaming the ciphertext (memory does not grow with it). */
int sd_bundle_read(const char *path, sd_progress_fn progress, void *ctx, sd_bundle_t **out) SD_WUR;
/* Decrypts a bundle read by sd_bundle_read from path with the agency's secret key into
 * out_dir (report.json, evidence/<name>), built in a temporary directory and renamed
 * into place as sd_envelope_open does. SD_ERR_WRONG_KEY: the content key is not sealed
 * to this key. */
int sd_bundle_open(const sd_bundle_t *b, const char *path, const sd_seckey_t *agency, const char *out_dir,
                   sd_progress_fn progress, void *ctx) SD_WUR;
void sd_bundle_free_(sd_bundle_t *b);
#define sd_bundle_free(b)                                                                                              \
	do {                                                                                                           \
		sd_bundle_free_(b);                                                                                    \
		(b) = NULL;                                                                                            \
	} while (0)

/* The first bytes of a bundle: lets `open` tell a .sdr from a .sdx. */
bool sd_bundle_has_magic(const uint8_t *buf, size_t len);

#endif
