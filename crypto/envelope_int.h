/*
 * envelope_int.h — what the envelope's three files share and nobody else needs: the
 * fixed sizes of the layout, the key schedule, and the chunk-by-chunk file reader.
 * envelope.c parses headers; envelope_seal.c writes packages; envelope_open.c verifies
 * and decrypts them.
 */
#ifndef SEALDROP_ENVELOPE_INT_H
#define SEALDROP_ENVELOPE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sodium.h>

#include "sealdrop/envelope.h"

#define SDX_MAGIC                "\x89SDX\r\n\x1a\n"
#define SDX_BLOB_AD_BYTES        (SD_HASH_BYTES + 1 + 4) /* binding || kind || index */
#define SDX_MANIFEST_ENTRY_BYTES 13                      /* kind u8, chunks u32, size u64 */
#define SDX_SIG_BYTES            64
#define SDX_KEY_BYTES            32

/* Record and evidence padding (docs/FORMAT.md, "Padding"). */
#define SDX_REPORT_MIN_BUCKET (16u << 10)
#define SDX_REPORT_MAX_BUCKET (1u << 20)
#define SDX_IDENTITY_BUCKET   4096u
#define SDX_META_BUCKET       512u
#define SDX_FINAL_MIN_BUCKET  4096u

#define SDX_AEAD_NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES      /* 24 */
#define SDX_AEAD_TAG   crypto_aead_xchacha20poly1305_ietf_ABYTES         /* 16 */
#define SDX_SS_HEADER  crypto_secretstream_xchacha20poly1305_HEADERBYTES /* 24 */
#define SDX_SS_TAG     crypto_secretstream_xchacha20poly1305_ABYTES      /* 17 */

/* Ciphertext sizes of the fixed-form chunks. */
#define SDX_IDENTITY_BLOB_BYTES  (SDX_AEAD_NONCE + SDX_IDENTITY_BUCKET + SDX_AEAD_TAG)
#define SDX_EVIDENCE_FIRST_CHUNK (SDX_SS_HEADER + SDX_META_BUCKET + SDX_SS_TAG)
#define SDX_EVIDENCE_FULL_CHUNK  ((uint64_t)SD_CHUNK_BYTES + SDX_SS_TAG)
/* The largest chunk of any kind: a report at its largest bucket. */
#define SDX_MAX_CHUNK (SDX_AEAD_NONCE + SDX_REPORT_MAX_BUCKET + SDX_AEAD_TAG)

/* Smallest power of two >= max(min, n). */
uint64_t sdx_bucket(uint64_t n, uint64_t min);
bool sdx_is_pow2_between(uint64_t n, uint64_t lo, uint64_t hi);

/* The per-blob associated data: binding || kind || index (LE32). */
void sdx_blob_ad(const uint8_t binding[SD_HASH_BYTES], sd_blob_kind_t kind, uint32_t index,
                 uint8_t ad[SDX_BLOB_AD_BYTES]);
/* Key of blob `index` (report or evidence) from the content key. */
void sdx_blob_key(const uint8_t dek[SDX_KEY_BYTES], uint32_t index, uint8_t key[SDX_KEY_BYTES]);
/* id_key = BLAKE2b-256("sealdrop identity v1" || s_c || s_w). */
void sdx_identity_key(const uint8_t s_c[32], const uint8_t s_w[32], uint8_t key[SDX_KEY_BYTES]);
/* Offset of the wrapped s_w inside the preamble (its associated data is what precedes). */
size_t sdx_share_ad_len(const sd_header_t *h);

/* Evidence metadata (first secretstream message), before padding. */
typedef struct {
	uint64_t size;
	char name[SD_EVIDENCE_NAME_MAX + 1];
	char media_type[SD_EVIDENCE_TYPE_MAX + 1];
} sdx_meta_t;

bool sdx_name_is_valid(const char *name);
bool sdx_media_type_is_valid(const char *type);
/* Encodes into a SDX_META_BUCKET-byte padded block. */
int sdx_meta_encode(const sdx_meta_t *m, uint8_t out[SDX_META_BUCKET]);
int sdx_meta_decode(const uint8_t *buf, size_t len, sdx_meta_t *m) SD_WUR;
/* Number of chunks and ciphertext size of an evidence blob of `size` plaintext bytes;
 * SD_ERR_TOOBIG beyond what one package's manifest can describe (SD_EVIDENCE_MAX_BYTES). */
int sdx_evidence_layout(uint64_t size, uint32_t *n_chunks, uint64_t *ct_size) SD_WUR;

/* Sequential reader of a package's chunks, checking each against the manifest before
 * handing it out. One buffer, reused: memory does not grow with the package. */
typedef struct {
	int fd;
	const sd_header_t *h;
	uint8_t *buf;
	size_t cap;
	uint64_t done; /* ciphertext bytes verified so far */
	sd_progress_fn progress;
	void *progress_ctx;
} sdx_reader_t;

int sdx_reader_open(sdx_reader_t *r, const char *path, sd_header_t **hdr) SD_WUR;
/* Reads chunk `chunk` of blob `blob` (they must come in order) and verifies it. */
int sdx_reader_next(sdx_reader_t *r, uint32_t blob, uint32_t chunk, const uint8_t **ct, size_t *len) SD_WUR;
void sdx_reader_close(sdx_reader_t *r);

/* The content key of h, unwrapped with the intake key (envelope_open.c): SD_ERR_USAGE for
 * another kind of key, SD_ERR_WRONG_KEY for another intake key. dek should be secret memory. */
int sdx_unwrap_dek(const sd_header_t *h, const sd_seckey_t *intake, uint8_t dek[SDX_KEY_BYTES]) SD_WUR;
/* Decrypts the report and evidence of h with the content key into out_dir, as
 * sd_envelope_open does, reading the blobs in order from fd, which stands at the first
 * chunk. Every chunk is checked against h's manifest first; identity chunks are checked,
 * never decrypted, and a blob without chunks (the identity a referral bundle withholds,
 * crypto/export.c) is skipped. The blob index of the associated data and of the key is
 * the blob's position in h. */
int sdx_open_content(int fd, const sd_header_t *h, const uint8_t dek[SDX_KEY_BYTES], const char *out_dir,
                     sd_progress_fn progress, void *ctx) SD_WUR;

/* A staged pipeline over a fixed ring of chunk buffers (envelope_pipe.c). */
#define SDX_PIPE_SLOTS      6
#define SDX_PIPE_MAX_STAGES 3

typedef struct {
	uint8_t *buf;     /* ciphertext, cap bytes */
	uint8_t *out;     /* plaintext, cap bytes, SDX_DIRECT_ALIGN-aligned inside out_mem */
	uint8_t *out_mem; /* sodium_malloc'd region holding out (pipes made with_out) */
	size_t len;       /* bytes of buf in use */
	size_t out_len;   /* bytes of out in use */
	int fd;           /* where the plaintext writing stage writes */
	uint64_t off;     /* ... and at which file offset */
	bool close_fd;    /* the writing stage fsyncs and closes fd after this slot */
	uint8_t *hash;    /* a hashing stage's target (seal) */
	uint32_t blob, chunk;
} sdx_slot_t;

typedef struct sdx_pipe sdx_pipe_t;
/* A thread stage: 0 done with the slot, < 0 fail the pipeline, > 0 (source stages
 * only) nothing more to produce. */
typedef int (*sdx_stage_fn)(void *ctx, sdx_slot_t *slot);

/* fns[i] NULL marks the (one) stage the caller runs with take/give. */
int sdx_pipe_new(sdx_pipe_t **out, const sdx_stage_fn *fns, int n_stages, void *ctx, size_t cap, bool with_out) SD_WUR;
/* The next slot for the caller's stage; the pipeline's first error once it failed. */
int sdx_pipe_take(sdx_pipe_t *p, sdx_slot_t **slot) SD_WUR;
/* Passes the slot from take on to the next stage. */
int sdx_pipe_give(sdx_pipe_t *p) SD_WUR;
/* The caller's own failure: stops every stage. */
void sdx_pipe_fail(sdx_pipe_t *p, int err);
/* Waits until every slot has been through every stage; the first error, or 0. */
int sdx_pipe_drain(sdx_pipe_t *p) SD_WUR;
/* Stops and joins the threads and frees the ring; NULL is fine. */
void sdx_pipe_free(sdx_pipe_t *p);

/* Output with O_DIRECT where the file system takes it (envelope_pipe.c). Buffered
 * write(2) of fresh pages costs a page-cache copy and erratic writeback throttling on
 * this class of machine; direct writes cost neither. Direct writes need buffer, length
 * and file offset aligned; anything else is written through the page cache, after
 * O_DIRECT is cleared, so every file system (tmpfs, ...) gets the same bytes. */
#define SDX_DIRECT_ALIGN 4096u

/* Turns O_DIRECT on for fd if the file system supports it; silently stays buffered if not. */
void sdx_direct_enable(int fd);
/* Back to buffered writes (before unaligned writes such as the package header). */
int sdx_direct_disable(int fd) SD_WUR;
/* Writes all of buf at off: directly if fd is in O_DIRECT mode and everything is
 * aligned, else (O_DIRECT cleared first) through the page cache. */
int sdx_pwrite(int fd, const uint8_t *buf, size_t len, uint64_t off) SD_WUR;
/* For tests only, not a user setting: false makes sdx_direct_enable a no-op, so the
 * buffered fallback can be checked on any file system. */
void sdx_direct_allow(bool allow);
/* For tests only: bytes written with O_DIRECT so far, by this process. */
uint64_t sdx_direct_bytes(void);

/* The seal write stage's state: ciphertext chunks (1 MiB + 17 bytes, at unaligned
 * offsets) are gathered into an aligned buffer that goes out in aligned direct writes;
 * the remainder carries over to the next chunk. Fixed size, whatever the package. */
typedef struct {
	int fd;
	uint8_t *buf;  /* SDX_CWRITER_BYTES, SDX_DIRECT_ALIGN-aligned; ciphertext only */
	size_t fill;   /* bytes of buf in use */
	uint64_t base; /* file offset of buf[0], always aligned */
} sdx_cwriter_t;
#define SDX_CWRITER_BYTES (4u << 20)

/* Ciphertext will start at file offset `start` (after the header's hole). */
int sdx_cwriter_init(sdx_cwriter_t *w, int fd, uint64_t start) SD_WUR;
/* Writes what is left and clears O_DIRECT; call after sdx_pipe_drain, before the header. */
int sdx_cwriter_finish(sdx_cwriter_t *w) SD_WUR;
void sdx_cwriter_free(sdx_cwriter_t *w);

/* Stages shared by seal and open. */
int sdx_stage_hash(void *ctx, sdx_slot_t *s);             /* BLAKE2b-256(buf) into hash */
int sdx_stage_write_ciphertext(void *ctx, sdx_slot_t *s); /* buf into the sdx_cwriter_t ctx */
int sdx_stage_write_plaintext(void *ctx, sdx_slot_t *s);  /* out to fd at off, wiped; close_fd */

/* A manifest entry has exactly the shape its kind allows (sizes, chunk count, padding
 * buckets): crypto/envelope.c. */
bool sdx_blob_shape_ok(const sd_blob_t *b);

#endif
