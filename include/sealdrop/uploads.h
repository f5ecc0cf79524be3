/*
 * uploads.h — filing: resumable chunked uploads, commit, cases and receipts
 * (DESIGN.md, Server API; issue 3). The routes for /v1/uploads and /v1/cases live in
 * server/upload.c and server/cases.c; this is what the server calls to set them up. The
 * case record itself is include/sealdrop/caserec.h's.
 *
 * State kept in memory (the loop thread only): a bounded cache of parsed headers of
 * uploads in progress, each account's count of unfinished uploads, the next case number
 * of the current year. All of it can be rebuilt from the store, which is the truth.
 */
#ifndef SEALDROP_UPLOADS_H
#define SEALDROP_UPLOADS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "sealdrop/ca.h"
#include "sealdrop/caserec.h"
#include "sealdrop/config.h"
#include "sealdrop/date.h"
#include "sealdrop/directory.h"
#include "sealdrop/envelope.h"
#include "sealdrop/error.h"
#include "sealdrop/receipt.h"
#include "sealdrop/route.h"

typedef struct sd_uploads sd_uploads_t;

/* Loads what the uploads need from the store (start-up, synchronous), removes expired
 * uploads, and schedules the hourly collection of the ones that expire later. */
int sd_uploads_start(sd_server_t *s, sd_uploads_t **out) SD_WUR;
void sd_uploads_free_(sd_uploads_t *u);
#define sd_uploads_free(u)                                                                                             \
	do {                                                                                                           \
		sd_uploads_free_(u);                                                                                   \
		(u) = NULL;                                                                                            \
	} while (0)

/* The server's uploads state (set by server.c after sd_uploads_start). */
sd_uploads_t *sd_server_uploads(sd_server_t *s);

/* Unfinished uploads of every account together (the control socket's "status"). */
size_t sd_uploads_open_count(const sd_uploads_t *u);

/* --- Records, keys and checks (server/upload_record.c) ----------------------------------
 *
 * Pure functions, no store and no server: exposed for the unit tests and the fuzz
 * target. Layouts: docs/STORE.md.
 */
#define SD_UPLOAD_ID_BYTES         16
#define SD_UPLOAD_ID_HEX_BYTES     (2 * SD_UPLOAD_ID_BYTES + 1)
#define SD_UPLOAD_CHUNK_KEY_BYTES  (SD_UPLOAD_ID_BYTES + 8) /* id || blob u32 BE || chunk u32 BE */
#define SD_UPLOAD_DIGEST_KEY_BYTES (SD_HASH_BYTES + SD_CA_FINGERPRINT_BYTES)
#define SD_UPLOAD_RECORD_MAX       1024 /* bytes of an encoded upload record */
#define SD_CASES_PAGE_MAX          1000 /* cases in one GET /v1/cases answer */
#define SD_UPLOAD_MISSING_SHOWN    8    /* missing chunks a 409 incomplete names */
#define SD_CASE_SEQ_KEY_BYTES      14   /* "case_seq/YYYY" + NUL */

typedef enum { SD_UPLOAD_OPEN = 1, SD_UPLOAD_COMMITTED = 2, SD_UPLOAD_EXPIRED = 3 } sd_upload_state_t;

/* An upload record ("uploads"). An expired one is being removed: its chunks go first,
 * the record last, so a removal interrupted by a crash resumes at the next collection. */
typedef struct sd_upload_rec {
	uint8_t attorney[SD_CA_FINGERPRINT_BYTES];
	uint8_t digest[SD_HASH_BYTES];
	sd_date_t created;
	sd_date_t expires; /* removed once this date is past, unless committed */
	sd_upload_state_t state;
	char case_number[SD_CASE_NUMBER_BYTES]; /* committed only; "" otherwise */
	uint64_t chunks;                        /* every chunk of every blob */
} sd_upload_rec_t;

_Static_assert(SD_CASE_UPLOAD_ID_BYTES == SD_UPLOAD_ID_BYTES, "a case names its upload by id");

const char *sd_upload_state_name(sd_upload_state_t s);

/* Compact JSON with sorted keys (so one record has exactly one encoding: the chunk and
 * commit requests compare the stored bytes). *out is malloc'd. SD_ERR_INVALID for a
 * record that breaks a rule decode enforces. */
int sd_upload_rec_encode(const sd_upload_rec_t *rec, uint8_t **out, size_t *len) SD_WUR;
/* Strict: every field present with its type, nothing unknown, at most
 * SD_UPLOAD_RECORD_MAX bytes, "case" exactly when committed. SD_ERR_FORMAT naming the
 * field, SD_ERR_VERSION, SD_ERR_TOOBIG. */
int sd_upload_rec_decode(const uint8_t *buf, size_t len, sd_upload_rec_t *out) SD_WUR;

/* "YYYY-NNNNNN" (sd_case_number_is_valid) into its year and sequence number. */
int sd_case_number_parse(const char *s, int *year, uint32_t *seq) SD_WUR;
/* The meta key of year's last case number: "case_seq/YYYY" (year 2000..9999). */
int sd_case_seq_key(int year, char out[SD_CASE_SEQ_KEY_BYTES]) SD_WUR;

/* 32 lower-case hex digits into an upload id. */
int sd_upload_id_parse(const char *hex, uint8_t id[SD_UPLOAD_ID_BYTES]) SD_WUR;

/* New upload ids (DECISIONS 106): a sequence number (8 bytes, big-endian) and 8 random
 * bytes, so that uploads begun one after the other sort one after the other and their
 * records, headers and chunks are appended to the store's B-trees instead of each landing
 * on a page of its own. A sequence starts at random (1 to 2^62) and moves by a random
 * step of 1 to SD_UPLOAD_ID_STEP_MAX, so the gap between two ids tells little about how
 * many were drawn between them; it stays below SD_UPLOAD_ID_SEQ_LIMIT. */
#define SD_UPLOAD_ID_SEQ_LIMIT (UINT64_C(1) << 63)
#define SD_UPLOAD_ID_STEP_MAX  65536u
/* The sequence number in a stored id, or 0 for an id that cannot be one of a sequence
 * (ids from before sequences were random: half of them are above the limit). */
uint64_t sd_upload_id_seq(const uint8_t id[SD_UPLOAD_ID_BYTES]);
/* The id after *seq, which it advances; a sequence at 0 (none yet) or near the limit
 * starts afresh at random. SD_ERR_INTERNAL when the system has no random bytes. */
int sd_upload_id_next(uint64_t *seq, uint8_t id[SD_UPLOAD_ID_BYTES]) SD_WUR;
/* A decimal index of a path: "0" or digits without a leading zero, at most UINT32_MAX. */
int sd_upload_index_parse(const char *s, uint32_t *out) SD_WUR;
void sd_upload_chunk_key(const uint8_t id[SD_UPLOAD_ID_BYTES], uint32_t blob, uint32_t chunk,
                         uint8_t out[SD_UPLOAD_CHUNK_KEY_BYTES]);
/* The blob and chunk of a "chunks" key of upload id; SD_ERR_FORMAT for any other key. */
int sd_upload_chunk_key_parse(const uint8_t *key, size_t len, const uint8_t id[SD_UPLOAD_ID_BYTES], uint32_t *blob,
                              uint32_t *chunk) SD_WUR;
/* header digest || attorney fingerprint: the "upload_digests" key. */
void sd_upload_digest_key(const uint8_t digest[SD_HASH_BYTES], const uint8_t fp[SD_CA_FINGERPRINT_BYTES],
                          uint8_t out[SD_UPLOAD_DIGEST_KEY_BYTES]);

/* Which chunks of an upload the store holds: one bitmap per blob, bit n % 8 of byte
 * n / 8 for chunk n (the "present" field of docs/API.md). */
typedef struct {
	uint32_t n_blobs;
	uint32_t *n_chunks; /* per blob */
	uint8_t **bits;     /* per blob, (n_chunks + 7) / 8 bytes */
	uint64_t total;
	uint64_t present;
} sd_upload_bitmap_t;

/* Sized for h's manifest, every bit clear. SD_ERR_NOMEM (b is then empty). */
int sd_upload_bitmap_init(sd_upload_bitmap_t *b, const sd_header_t *h) SD_WUR;
void sd_upload_bitmap_free(sd_upload_bitmap_t *b);
/* Marks a chunk present: 1 when it was not yet, 0 when it was, SD_ERR_FORMAT when the
 * manifest has no such chunk. */
int sd_upload_bitmap_set(sd_upload_bitmap_t *b, uint32_t blob, uint32_t chunk) SD_WUR;
/* Marks every chunk present (a committed upload holds them all). */
void sd_upload_bitmap_fill(sd_upload_bitmap_t *b);
bool sd_upload_bitmap_has(const sd_upload_bitmap_t *b, uint32_t blob, uint32_t chunk);
/* The first (at most SD_UPLOAD_MISSING_SHOWN) missing chunks: a sentence for a 409's
 * message ("blob 2 chunk 3, blob 2 chunk 4 and 5 more are missing") and, when list is
 * not NULL, [{"blob": k, "chunk": n}, ...] appended to it. */
void sd_upload_missing(const sd_upload_bitmap_t *b, char *msg, size_t cap, json_t *list);

/* The checks a header passes before an upload is created and again at commit, with the
 * limits of c: the deployment and key ids against d (SD_ERR_DEPLOYMENT,
 * SD_ERR_WRONG_KEY), the package size and each chunk's size (SD_ERR_TOOBIG). */
int sd_upload_check_header(const sd_header_t *h, const sd_directory_t *d, const sd_config_t *c) SD_WUR;
/* The HTTP status and error word for an error of sd_header_parse or
 * sd_upload_check_header (docs/API.md, POST /v1/uploads). */
int sd_upload_http_error(int err, const char **code);

/* The status document of GET /v1/uploads/{id} (docs/API.md), without "case" and
 * "receipt" (the caller adds them for a committed upload). NULL when out of memory. */
json_t *sd_upload_status_json(const uint8_t id[SD_UPLOAD_ID_BYTES], const sd_upload_rec_t *rec, const sd_header_t *h,
                              const sd_upload_bitmap_t *b);

#endif
