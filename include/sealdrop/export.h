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
 * By default the identity travels in none of it (Art. 9(3)): no identity blob, no sealed
 * s_c, no wrapped s_w, and none of the whistleblower's keys. Only when the whistleblower's
 * live consent names the agency (scope agency:ID) may a custodian's client set flag bit 0
 * (SD_SDR_FLAG_IDENTITY): the head then also carries the identity's manifest entry, the
 * signed consent, the package's consent public key (to verify it), the release (s_w
 * sealed to the agency) and s_c sealed to the agency, and the ciphertext the identity
 * chunk, in package order (report, identity, evidence).
 */
#ifndef SEALDROP_EXPORT_H
#define SEALDROP_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sealdrop/consent.h"
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
#define SD_SDR_MAX_HEAD             (SD_SDX_MAX_HEADER + SD_DIRECTORY_MAX_BYTES + 16384)
#define SD_SDR_FLAG_IDENTITY        0x0001u /* the bundle carries the identity for its agency */
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
	/* With SD_SDR_FLAG_IDENTITY (has_identity): content->blobs[1] is the identity's entry,
	 * and the consent was parsed, names this bundle's agency and package, its release
	 * hashes to the signed value and its signature verifies with consent_pk. Whether
	 * consent_pk is the package's is what the export receipt's header digest vouches for;
	 * whether the grantee is the directory's key for the agency is the caller's check. */
	uint16_t flags;
	bool has_identity;
	uint8_t consent_pk[32]; /* the package header's consent public key */
	const uint8_t *consent; /* the signed consent JSON, inside content->raw */
	size_t consent_len;
	sd_consent_t consent_rec; /* parsed and verified as above */
	uint8_t consent_id[SD_CONSENT_ID_BYTES];
	uint8_t release[SD_CONSENT_RELEASE_BYTES]; /* s_w sealed to the agency */
	uint8_t sealed_sc[SD_SEALED_KEY_BYTES];    /* s_c sealed to the agency */
} sd_bundle_t;

/* What a custodian's client adds for an identity bundle. */
typedef struct {
	const sd_seckey_t *identity; /* the identity secret key: opens s_c from the header */
	const uint8_t *consent;      /* the signed consent document, as the server answered it */
	size_t consent_len;
	const uint8_t *release; /* SD_CONSENT_RELEASE_BYTES: s_w sealed to the agency */
} sd_bundle_identity_t;

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
	/* NULL: the identity stays out. Otherwise the identity chunk must be in pkg_fd at its
	 * package offset too (it is checked against h's manifest as it is copied). */
	const sd_bundle_identity_t *identity;
} sd_bundle_params_t;

/* The consent a custodian's client received for an identity bundle, checked as the
 * bundle's reader will check it: parsed, made for h and signed by h's consent key
 * (sd_consent_verify), scope agency:<agency->id>, granting agency->key (the directory's),
 * and the release hashing to the signed release_hash. SD_ERR_VERIFY otherwise. out
 * (optional) receives the parsed record. */
int sd_bundle_check_consent(const uint8_t *json, size_t len, const uint8_t *release, size_t release_len,
                            const sd_header_t *h, const sd_agency_t *agency, sd_consent_t *out) SD_WUR;

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
 * to this key. With the identity flag, the identity is opened first (the release and
 * s_c with the agency key, the chunk checked against its entry, the record validated),
 * before anything is written, and written last as out_dir/identity.json (0600). */
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
