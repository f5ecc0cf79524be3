/*
 * envelope.h — the sealed package (.sdx): writer, verifier and reader, all streaming.
 *
 * Byte layout, key schedule and test vectors: docs/FORMAT.md. In short:
 *
 *   header   = preamble || manifest || signature
 *   preamble : magic, version, lengths, deployment, date, key ids, the whistleblower's
 *              consent and notice public keys, BLAKE2b(locator), content_dek sealed to
 *              intake, s_c sealed to identity, s_w wrapped under the codename.
 *   manifest : for each blob its kind, ciphertext size and the BLAKE2b-256 of each chunk.
 *   binding  = BLAKE2b-256(preamble)      — associated data of every blob AEAD
 *   digest   = BLAKE2b-256(preamble||manifest) — header_digest, signed (purpose header)
 *              with the consent key; identifies the case everywhere.
 *   blobs    : report, identity, evidence... each a sequence of chunks.
 *
 * Every byte of a package is covered: the header by the signature, each chunk by its
 * hash in the signed manifest, checked before the chunk is decrypted.
 */
#ifndef SEALDROP_ENVELOPE_H
#define SEALDROP_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>
#include "sealdrop/codename.h"
#include "sealdrop/date.h"
#include "sealdrop/directory.h"
#include "sealdrop/error.h"
#include "sealdrop/keys.h"

#define SD_SDX_VERSION         1
#define SD_SDX_MAGIC_BYTES     8
#define SD_SDX_PREFIX_BYTES    16 /* magic, version, flags, header length */
#define SD_SDX_MAX_HEADER      (8u << 20)
#define SD_SDX_MAX_EVIDENCE    1000
#define SD_CHUNK_BYTES         (1u << 20) /* plaintext per evidence chunk */
#define SD_HASH_BYTES          32
#define SD_SEALED_KEY_BYTES    80 /* crypto_box_seal of 32 bytes */
#define SD_WRAPPED_SHARE_BYTES 72 /* nonce 24 || 32 + tag 16 */
/* The largest evidence file: as many chunks as a maximal manifest can list (~256 GiB). */
#define SD_EVIDENCE_MAX_BYTES ((uint64_t)(SD_SDX_MAX_HEADER / SD_HASH_BYTES - 2) * SD_CHUNK_BYTES)
#define SD_EVIDENCE_NAME_MAX  255
#define SD_EVIDENCE_TYPE_MAX  127

typedef enum { SD_BLOB_REPORT = 1, SD_BLOB_IDENTITY = 2, SD_BLOB_EVIDENCE = 3 } sd_blob_kind_t;

typedef struct {
	sd_blob_kind_t kind;
	uint64_t size;   /* ciphertext bytes */
	uint64_t offset; /* from the start of the package */
	uint32_t n_chunks;
	const uint8_t *chunk_hashes; /* n_chunks * 32, inside the header's raw bytes */
} sd_blob_t;

typedef struct {
	uint16_t version;
	char deployment[SD_DEPLOYMENT_MAX + 1];
	sd_date_t created;
	uint32_t directory_version;
	uint8_t intake_id[SD_KEY_ID_BYTES];
	uint8_t identity_id[SD_KEY_ID_BYTES];
	uint8_t consent_pk[32];
	uint8_t notice_pk[32];
	uint8_t locator_hash[SD_HASH_BYTES];
	uint8_t sealed_dek[SD_SEALED_KEY_BYTES];
	uint8_t sealed_sc[SD_SEALED_KEY_BYTES];
	uint8_t wrapped_sw[SD_WRAPPED_SHARE_BYTES];
	uint32_t n_blobs;
	sd_blob_t *blobs;
	uint8_t binding[SD_HASH_BYTES];
	uint8_t digest[SD_HASH_BYTES];
	uint8_t signature[64];
	uint8_t *raw; /* the whole header as read */
	size_t raw_len;
	uint64_t package_size; /* raw_len + every blob */
} sd_header_t;

/* Parses a complete header and verifies its signature against its own consent key.
 * Short, over-long or inconsistent input is refused with a detail naming the field. */
int sd_header_parse(const uint8_t *buf, size_t len, sd_header_t **out) SD_WUR;
/* Parses a header the caller verified before, with sd_header_parse, and kept only the
 * digest of (a stored upload's record names its header so): the same checks of the
 * structure, then the digest compared with `digest` instead of the Ed25519 verification,
 * which would prove nothing more about bytes bound to a verified digest. SD_ERR_VERIFY
 * if the digests differ. */
int sd_header_parse_known(const uint8_t *buf, size_t len, const uint8_t digest[SD_HASH_BYTES],
                          sd_header_t **out) SD_WUR;
/* Reads the header from the start of fd (bounded by SD_SDX_MAX_HEADER) and parses it. */
int sd_header_read(int fd, sd_header_t **out) SD_WUR;
void sd_header_free_(sd_header_t *h);
#define sd_header_free(h)                                                                                              \
	do {                                                                                                           \
		sd_header_free_(h);                                                                                    \
		(h) = NULL;                                                                                            \
	} while (0)

/* SD_ERR_DEPLOYMENT unless the package was sealed for d's deployment. */
int sd_header_check_deployment(const sd_header_t *h, const sd_directory_t *d) SD_WUR;

/* The exact ciphertext size chunk `chunk` of blob `blob` must have. */
uint64_t sd_header_chunk_size(const sd_header_t *h, uint32_t blob, uint32_t chunk);
/* 0 if ct is that chunk, byte for byte (size and hash); SD_ERR_VERIFY otherwise. */
int sd_header_check_chunk(const sd_header_t *h, uint32_t blob, uint32_t chunk, const uint8_t *ct, size_t len) SD_WUR;

typedef void (*sd_progress_fn)(void *ctx, uint64_t done, uint64_t total);

typedef struct {
	const char *path;       /* a regular file, read once, streaming */
	const char *name;       /* stored name; NULL: basename(path) */
	const char *media_type; /* NULL: guessed from the name's extension */
} sd_evidence_src_t;

typedef struct {
	const sd_directory_t *dir;    /* deployment, intake and identity keys, version */
	const sd_codename_keys_t *wb; /* the whistleblower's keys, from the codename */
	const char *report;           /* canonical report text (sd_report_validate) */
	size_t report_len;
	const char *identity; /* canonical identity text (sd_identity_validate) */
	size_t identity_len;
	const sd_evidence_src_t *evidence;
	size_t n_evidence;
	sd_date_t created;
	sd_progress_fn progress; /* may be NULL */
	void *progress_ctx;
} sd_seal_params_t;

/* Seals into out_path (0600, written under a temporary name, never overwriting). */
int sd_envelope_seal(const sd_seal_params_t *p, const char *out_path) SD_WUR;

/* Checks a package without any key: header signature, sizes, every chunk's hash.
 * *hdr_out (optional) receives the parsed header. */
int sd_envelope_verify(const char *path, sd_progress_fn progress, void *ctx, sd_header_t **hdr_out) SD_WUR;

/* Verifies and decrypts with the intake key into out_dir (must not exist or be empty):
 * out_dir/report.json and out_dir/evidence/<name>. The identity blob is not touched.
 * Output is built in a temporary directory and renamed into place only once everything
 * verified; on any failure nothing is left behind. */
int sd_envelope_open(const char *path, const sd_seckey_t *intake, const char *out_dir, sd_progress_fn progress,
                     void *ctx, sd_header_t **hdr_out) SD_WUR;

#endif
