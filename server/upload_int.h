/*
 * upload_int.h — what the filing modules share and nobody else sees: the uploads state,
 * the cache of parsed headers, the small hash table both use, and the route handlers
 * server/routes.c lists. The modules: upload.c (state, cache, create, status),
 * upload_chunk.c (PUT chunk), commit.c (commit), upload_gc.c (start-up and expiry),
 * upload_map.c (the table), upload_record.c (pure records and checks), cases.c.
 */
#ifndef SEALDROP_UPLOAD_INT_H
#define SEALDROP_UPLOAD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sealdrop/route.h"
#include "sealdrop/server.h"
#include "sealdrop/store.h"
#include "sealdrop/uploads.h"

/* The header cache: at most this many entries and bytes of parsed headers. */
#define UPLOAD_CACHE_ENTRIES 1024
#define UPLOAD_CACHE_BYTES   ((size_t)16 << 20)
/* Expired uploads are looked for every hour; chunks are deleted this many at a time. */
#define UPLOAD_GC_SECONDS     3600
#define UPLOAD_GC_SCAN        256
#define UPLOAD_GC_CHUNK_BATCH 256
#define UPLOAD_SCAN_PAGE      SD_STORE_SCAN_MAX

/* --- A hash table of fixed-size byte keys (upload_map.c) --------------------------------
 *
 * Open addressing with linear probing. Each slot holds a pointer or a count: the header
 * cache maps upload ids to entries, the account table fingerprints to counts. The keys
 * are upload ids (a sequence number first: DECISIONS 106) or SHA-256 (fingerprints);
 * slot_of mixes their first eight bytes. */
#define UPLOAD_MAP_KEY_MAX 32

typedef struct {
	bool used;
	uint8_t key[UPLOAD_MAP_KEY_MAX];
	void *ptr;
	uint64_t count;
} upload_slot_t;

typedef struct {
	upload_slot_t *slots;
	size_t cap; /* a power of two, or 0 */
	size_t n;
	size_t key_len;
} upload_map_t;

void upload_map_init(upload_map_t *m, size_t key_len);
void upload_map_free(upload_map_t *m);
/* The slot of key, or NULL. */
upload_slot_t *upload_map_find(const upload_map_t *m, const uint8_t *key);
/* The slot of key, added (ptr NULL, count 0) if missing; NULL when out of memory. */
upload_slot_t *upload_map_add(upload_map_t *m, const uint8_t *key);
void upload_map_remove(upload_map_t *m, const uint8_t *key);

/* --- The uploads state ------------------------------------------------------------------ */

/* An upload whose header is parsed: in the cache, and referenced by requests using it. */
typedef struct upload_entry {
	uint8_t id[SD_UPLOAD_ID_BYTES];
	sd_upload_rec_t rec;
	uint8_t *rec_bytes; /* the record exactly as stored: the precondition of every write */
	size_t rec_len;
	sd_header_t *h;
	size_t bytes; /* counted against UPLOAD_CACHE_BYTES */
	/* Chunks stored, counted by this server since it created the upload: exact only when
	 * stored_known (an entry loaded from the store does not know). Lets a commit skip the
	 * scan; the commit's write still checks the count in the store. */
	uint32_t stored;
	bool stored_known;
	unsigned refs;
	bool cached;
	struct upload_entry *prev, *next; /* LRU order, most recent first */
} upload_entry_t;

struct upload_gc;

struct sd_uploads {
	sd_server_t *s;
	upload_map_t cache; /* upload id -> upload_entry_t */
	upload_entry_t *lru_head, *lru_tail;
	size_t cache_bytes;
	uint64_t evictions;    /* upload_cache_evict calls: a load that began before one does not
	                        * cache its answer (upload.c, find_parsed) */
	upload_map_t accounts; /* attorney fingerprint -> count of open uploads */
	size_t open_total;
	int seq_year;            /* the year seq counts in, 0 before the first load */
	uint32_t seq;            /* the last case number issued (or lost to a failed commit) in seq_year */
	uint64_t id_seq;         /* the sequence number of the last upload id (sd_upload_id_next) */
	upload_map_t committing; /* header digests whose commit is running */
	struct upload_gc *gc;    /* the collection under way, or NULL */
};

/* Entries. new takes ownership of h and rec_bytes (also on failure). */
upload_entry_t *upload_entry_new(const uint8_t id[SD_UPLOAD_ID_BYTES], const sd_upload_rec_t *rec, uint8_t *rec_bytes,
                                 size_t rec_len, sd_header_t *h);
upload_entry_t *upload_entry_ref(upload_entry_t *e);
void upload_entry_unref(upload_entry_t *e);
/* Replaces e's record (after a durable rewrite). Takes ownership of rec_bytes. */
void upload_entry_set_record(upload_entry_t *e, const sd_upload_rec_t *rec, uint8_t *rec_bytes, size_t rec_len);

/* The cache: find moves e to the front; insert returns the entry now cached under e's id
 * (e itself, or one a concurrent load put there first, in which case e is dropped). */
upload_entry_t *upload_cache_find(sd_uploads_t *u, const uint8_t id[SD_UPLOAD_ID_BYTES]);
upload_entry_t *upload_cache_insert(sd_uploads_t *u, upload_entry_t *e);
void upload_cache_evict(sd_uploads_t *u, const uint8_t id[SD_UPLOAD_ID_BYTES]);

/* Open uploads per account. */
uint64_t upload_open_count(const sd_uploads_t *u, const uint8_t fp[SD_CA_FINGERPRINT_BYTES]);
int upload_open_add(sd_uploads_t *u, const uint8_t fp[SD_CA_FINGERPRINT_BYTES]) SD_WUR;
void upload_open_sub(sd_uploads_t *u, const uint8_t fp[SD_CA_FINGERPRINT_BYTES]);

/* The uploads state of r's server, or NULL while the server shuts down. */
sd_uploads_t *upload_state(sd_request_t *r);

/* --- Store hops of a request ------------------------------------------------------------ */

/* Submits req for r; done(req, ctx) runs on the loop. On failure replies (503 busy, or
 * 500), frees req and returns false. */
bool upload_submit(sd_request_t *r, sd_store_req_t *req, void (*done)(sd_store_req_t *req, void *ctx), void *ctx);
/* The reply for a failed store request or submission: 507 store_full, 503 busy (the
 * queue is full, or out of memory), else 500 internal. */
void upload_reply_store_error(sd_request_t *r, int status);

/* Finds upload `hex` for r's attorney, from the cache or the store, and calls fn with it
 * (borrowed for the call); replies 404 itself for an unknown, expired or foreign
 * upload. Returns 0 when fn already ran or a reply was given, SD_ROUTE_PAUSE when fn runs
 * later, after the store answered. */
typedef void (*upload_entry_fn)(sd_request_t *r, upload_entry_t *e, bool resumed);
int upload_find(sd_request_t *r, const char *hex, upload_entry_fn fn);
int upload_find_id(sd_request_t *r, const uint8_t id[SD_UPLOAD_ID_BYTES], upload_entry_fn fn);

/* Reads which chunks of e the store holds into bm (initialised by the caller), paging
 * through "chunks"; then calls fn(r, arg, 0, first_req), or fn(r, arg, status, NULL)
 * after a store failure (r not yet answered). extra, when not NULL, adds operations
 * (indexes from 0) to the first request, whose answer fn gets as first_req (freed after
 * fn returns). */
typedef void (*upload_scan_fn)(sd_request_t *r, void *arg, int status, const sd_store_req_t *first_req);
void upload_scan(sd_request_t *r, upload_entry_t *e, sd_upload_bitmap_t *bm,
                 int (*extra)(sd_store_req_t *req, void *arg), upload_scan_fn fn, void *arg);

/* Answers r with e's status document (docs/API.md, GET /v1/uploads/{id}) and status
 * http: an open upload's chunks are read from the store, a committed one's receipt. */
void upload_reply_status(sd_request_t *r, upload_entry_t *e, int http);

/* The stored receipt as a JSON object (a new reference), or NULL. */
json_t *upload_receipt_json(const uint8_t *text, size_t len);
/* The receipt of filed case `case_number` (commit.c), for every route that answers with
 * one: the stored receipt, or, when none is stored (a crash between the commit's two
 * writes lost it, or it is not stored yet), the same receipt signed again, byte for byte,
 * from the case's record and its filing leaf (checked to be the event the receipt
 * states), then stored unless one is by then. fn runs exactly once, on the loop: with
 * status 0 and the receipt (valid for the call only), or with a negative status after r
 * was answered (500, 503 or 507), so that it only releases arg. */
typedef void (*upload_receipt_fn)(sd_request_t *r, void *arg, int status, const uint8_t *receipt, size_t len);
void upload_receipt_get(sd_request_t *r, const char *case_number, upload_receipt_fn fn, void *arg);

/* Expiry (upload_gc.c): the start-up pass (synchronous) and the hourly one. */
int upload_gc_start(sd_uploads_t *u) SD_WUR;
void upload_gc_tick(void *ctx);
void upload_gc_free(sd_uploads_t *u);

/* --- The routes (server/routes.c lists them) --------------------------------------------- */

void sd_route_health(sd_request_t *r);
void sd_route_directory(sd_request_t *r);
void sd_route_crl(sd_request_t *r);
void sd_route_upload_create(sd_request_t *r);
void sd_route_upload_status(sd_request_t *r);
int sd_route_chunk_headers(sd_request_t *r);
int sd_route_chunk_body(sd_request_t *r, const uint8_t *data, size_t len);
void sd_route_chunk_complete(sd_request_t *r);
void sd_route_commit(sd_request_t *r);

#endif
