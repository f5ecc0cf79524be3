/*
 * store.h — sealdropd's store: one LMDB environment owned by one thread, reached only
 * through messages (DESIGN.md, Architecture).
 *
 * A caller builds a request — a short list of typed operations (GET, PUT, DEL, SCAN and
 * the preconditions CHECK-ABSENT and CHECK-EQUAL) — and submits it with a callback. The
 * store thread takes every request queued at that moment (up to a batch bound), runs
 * them in one write transaction (each request that writes inside a nested transaction
 * of its own), commits the batch with one
 * durable mdb_txn_commit, and only then answers each request (group commit: one fsync
 * for many requests). Nothing here exposes an LMDB handle; a request owns copies of its
 * keys and values, so the store can later move into its own process without touching
 * the callers.
 *
 * GUARANTEES
 *
 * - Durability. When a request is answered with status 0 and it wrote anything, its
 *   writes are on disk: mdb_txn_commit wrote the data pages and fdatasync'd them, then
 *   wrote the meta page (MDB_NOMETASYNC), and the reply thread fdatasync'd the file
 *   again, through a descriptor of its own, making the meta page durable, before the
 *   answer (its own descriptor, because Linux reports a failed write-back once to each
 *   open file: a failure the commit's sync consumed is still reported to it). That
 *   second sync overlaps
 *   the next batch's work on the store thread; a crash between the two can only undo
 *   the unanswered batch (LMDB's NOMETASYNC guarantee), never corrupt the store. Answered
 *   writes survive kill -9 of the server and loss of power (on a file system and disk
 *   that honour fsync). The environment is opened without MDB_NOSYNC, MDB_MAPASYNC and
 *   MDB_WRITEMAP. sd_store_open also fsyncs DIR/store
 *   and DIR, so the files' directory entries are durable too (LMDB does not do that).
 * - Atomicity. A request's operations take effect all together or not at all. The first
 *   operation that fails (a precondition, an existing key under NOOVERWRITE, a full
 *   map) rolls back that request's writes only; the other requests in the batch commit.
 * - Order. Requests run in submission order (FIFO across all submitters), each sees the
 *   writes of every request answered before it, and replies come in that order.
 * - Reads. Reads run inside the same write transaction and are answered after the
 *   batch's commit, like writes: a reader never sees data that is not yet on disk, and
 *   a request reads its own earlier operations' writes. The price is that a read waits
 *   for the fsync of the batch it shares (a batch of reads only commits nothing and
 *   syncs nothing).
 * - Exactly one reply. Every request sd_store_submit() accepted gets its callback called
 *   exactly once, also when the store is closed with requests still queued.
 *
 * CAVEATS
 *
 * - Space. The map (the most the data file may grow to) starts at what the data uses
 *   plus one step and grows online, on the store thread between two transactions: a
 *   transaction that finds the map full (MDB_MAP_FULL) is undone, the map grows
 *   (sd_store_map_next: it doubles, by 1 MiB at least, up to sd_store_opts_t.max_bytes
 *   and to what the file system has free beyond a reserve of 1% of its size, 64 MiB at
 *   least) and the transaction runs again. When the map cannot grow, the requests that
 *   do not fit fail with SD_ERR_TOOBIG ("store is full", answered 507) and the store
 *   keeps serving everything else. The same holds when the file system itself refuses
 *   a write (ENOSPC, EDQUOT): the batch is undone, each request runs again alone, those
 *   that write fail with SD_ERR_TOOBIG and reads are answered; once space is back,
 *   writes succeed again. LMDB undoes a commit whose data pages could not be written,
 *   and the environment stays usable.
 * - A failed fsync is fatal (as in PostgreSQL since 2018: after a failed write-back the
 *   page cache's state is unknown, and a retried fsync may succeed without the data
 *   being on disk). When a commit's write or sync fails with an I/O error, the reply
 *   thread's sync fails, or LMDB declares the environment unusable (MDB_PANIC), no
 *   request of that batch or any later one is acknowledged: each gets SD_ERR_IO, the
 *   store logs one error line ("fsync of the store failed: ...; stopping: no write after
 *   this can be trusted"), and half a second later, time for the event loop to send those
 *   answers, the process exits with SD_STORE_EXIT_FATAL (74, EX_IOERR). A restart opens
 *   the last durable commit; a supervisor should restart the server and an operator
 *   should check the disk (dmesg).
 * - What sd_store_open refuses: a data.mdb that LMDB refuses (not an LMDB file, another
 *   LMDB version, a damaged meta page) or one shorter than its meta page says
 *   (truncated: reading it would fault), with SD_ERR_FORMAT; an LMDB environment that
 *   is not a sealdropd store (a database sealdropd does not use, or none named "meta"),
 *   with SD_ERR_CONFIG; a store whose format marker (meta "format", "sealdrop-store N")
 *   names a newer format, with SD_ERR_VERSION. A new store gets the marker in the commit
 *   that creates its databases; a store of ours without it (written before the marker
 *   existed: every database in it is one of SD_STORE_DBS, "meta" among them) gets it at
 *   its first open. LMDB keeps no checksums: damage inside a page is not found here.
 * - One process. sd_store_open takes an exclusive flock(2) on DIR/store/sealdropd.lock;
 *   a second open, in this process or another, fails with SD_ERR_REFUSED. Read-only
 *   tools (mdb_dump, mdb_stat) may still open the environment.
 * - Local file systems only: not NFS or any network file system (LMDB's lock file and
 *   memory map need a local file system).
 * - A disk with a volatile write cache that ignores flush requests can lose
 *   acknowledged writes on power loss; no software can prevent that.
 *
 * THREADS
 *
 * sd_store_submit, sd_store_call and sd_store_stats may be called from any thread. The
 * done callback runs on the store's reply thread (after the batch is durable; batches are
 * answered in order, one at a time), and must be short: it hops
 * back to its own thread (the event loop writes to a pipe or calls event_active) and
 * must not block or call sd_store_call (which refuses there with SD_ERR_USAGE). It may
 * call sd_store_submit. A request is the store's from submission until its callback
 * runs: the caller must not read, change or free it in between.
 */
#ifndef SEALDROP_STORE_H
#define SEALDROP_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sealdrop/error.h"
#include "sealdrop/histogram.h"

#define SD_STORE_SUBDIR              "store"           /* DIR/store: the LMDB environment, 0700 */
#define SD_STORE_LOCK_FILE           "sealdropd.lock"  /* in DIR/store: the one-process flock */
#define SD_STORE_MAPSIZE_DEFAULT     ((size_t)1 << 30) /* 1 GiB */
#define SD_STORE_MAPSIZE_MIN         ((size_t)64 << 10)
#define SD_STORE_BATCH_MAX_DEFAULT   256 /* requests per transaction */
#define SD_STORE_BATCH_BYTES_DEFAULT ((size_t)64 << 20)
#define SD_STORE_QUEUE_MAX_DEFAULT   4096               /* requests waiting; beyond: refused */
#define SD_STORE_KEY_MAX             511                /* bytes; LMDB's default MDB_MAXKEYSIZE */
#define SD_STORE_OPS_MAX             4096               /* operations in one request */
#define SD_STORE_REQ_BYTES_MAX       ((size_t)64 << 20) /* keys + values of one request */
#define SD_STORE_SCAN_MAX            10000              /* entries one SCAN returns */
#define SD_STORE_COUNT_MAX           1000000            /* keys one CHECK-COUNT counts */
#define SD_STORE_REPLY_BYTES_MAX     ((size_t)64 << 20) /* values one request reads */
#define SD_STORE_DETAIL_BYTES        256
#define SD_STORE_MAX_BYTES_DEFAULT   ((uint64_t)64 << 30) /* the map's ceiling, store_max_bytes */
#define SD_STORE_GROW_MIN            ((size_t)1 << 20)    /* the smallest step the map grows by */
#define SD_STORE_DISK_RESERVE_MIN    ((uint64_t)64 << 20) /* free space the map never claims */
#define SD_STORE_EXIT_FATAL          74                   /* EX_IOERR: the exit after a failed fsync */
/* The format marker: meta "format" = "sealdrop-store 1" (docs/STORE.md). */
#define SD_STORE_FORMAT_KEY     "format"
#define SD_STORE_FORMAT_NAME    "sealdrop-store"
#define SD_STORE_FORMAT_VERSION 1

/* The named databases, created when the store opens. A module that needs its own adds
 * a line here: X(ENUM_SUFFIX, "name"). Names are part of the on-disk format. */
#define SD_STORE_DBS(X)                                                                                                \
	X(META, "meta")                                                                                                \
	X(UPLOADS, "uploads")                                                                                          \
	X(UPLOAD_HEADERS, "upload_headers")                                                                            \
	X(UPLOAD_DIGESTS, "upload_digests")                                                                            \
	X(CHUNKS, "chunks")                                                                                            \
	X(CASES, "cases")                                                                                              \
	X(CASE_DIGESTS, "case_digests")                                                                                \
	X(ACCOUNT_CASES, "account_cases")                                                                              \
	X(RECEIPTS, "receipts")                                                                                        \
	X(ACCOUNTS, "accounts")                                                                                        \
	X(ACCOUNT_NAMES, "account_names")                                                                              \
	X(REVOKED, "revoked")                                                                                          \
	X(LOG_LEAVES, "log_leaves")                                                                                    \
	X(LOG_NODES, "log_nodes")                                                                                      \
	X(LOG_HEADS, "log_heads")                                                                                      \
	X(CASE_EVENTS, "case_events")                                                                                  \
	X(CASE_TEXTS, "case_texts")                                                                                    \
	X(NOTICES, "notices")                                                                                          \
	X(CASE_SUMMARIES, "case_summaries")                                                                            \
	X(CASE_BY_STATE, "case_by_state")                                                                              \
	X(CASE_BY_DUE, "case_by_due")                                                                                  \
	X(CASE_BY_LOCATOR, "case_by_locator")                                                                          \
	X(CONSENTS, "consents")                                                                                        \
	X(CONSENT_NONCES, "consent_nonces")

#define SD_STORE_DB_ENUM_(name, text) SD_STORE_DB_##name,
typedef enum { SD_STORE_DBS(SD_STORE_DB_ENUM_) SD_STORE_DB_COUNT } sd_store_db_t;
#undef SD_STORE_DB_ENUM_

/* The database's name ("uploads"), or NULL for a value out of range. */
const char *sd_store_db_name(sd_store_db_t db);

typedef struct sd_store sd_store_t;
typedef struct sd_store_req sd_store_req_t;

/* Called once per submitted request, on the store's reply thread, after the batch is durable
 * (or failed). The request's results are readable from here on. */
typedef void (*sd_store_done_fn)(sd_store_req_t *req, void *ctx);

/* Zero fields take the defaults above; opts may be NULL for all defaults. */
typedef struct {
	/* The map to start with, bytes, rounded up to the page size, >= SD_STORE_MAPSIZE_MIN;
	 * 0: SD_STORE_MAPSIZE_DEFAULT, or, with max_bytes, what the data uses plus one step. */
	size_t mapsize;
	/* The most the map may grow to (store_max_bytes); 0: the map never grows. */
	uint64_t max_bytes;
	unsigned batch_max; /* requests per transaction */
	size_t batch_bytes; /* request bytes per transaction (a larger request runs alone) */
	unsigned queue_max; /* requests queued and not yet taken by the store thread */
} sd_store_opts_t;

typedef struct {
	uint64_t requests;      /* requests answered */
	uint64_t failed;        /* of those, answered with an error */
	uint64_t commits;       /* durable commits that wrote something (each one fsync) */
	uint64_t batches;       /* transactions run, including those with nothing to commit */
	uint64_t largest_batch; /* most requests in one transaction */
	uint64_t splits;        /* batches re-run in parts after the map or txn filled up */
	uint64_t grown;         /* times the map grew */
	/* The commits' histograms (include/sealdrop/histogram.h), published a day at a time:
	 * every day before hist_day, never hist_day itself. has_hist is false where they are
	 * not known (a remote store's sd_store_stats; see server/store_stats.h). */
	bool has_hist;
	sd_date_t hist_day;
	sd_commit_hist_t hist;
} sd_store_stats_t;

/* Creates DIR/store (0700) if needed, opens the LMDB environment in it, creates every
 * named database and starts the store thread. SD_ERR_REFUSED while another store holds
 * the directory; SD_ERR_FORMAT when LMDB refuses data.mdb or it is truncated,
 * SD_ERR_CONFIG when it is not a sealdropd store, SD_ERR_VERSION when a newer format
 * wrote it (CAVEATS); SD_ERR_IO when it cannot be read. The detail names the file and
 * LMDB's reason. */
int sd_store_open(const char *dir, const sd_store_opts_t *opts, sd_store_t **out) SD_WUR;

/* A store in another process (server/storeproc.c, `sealdropd run`'s sealdropd-store), reached
 * over fd, a connected stream socket this handle owns from now on (closed by sd_store_close,
 * or here when opening fails). The handle is used exactly like one sd_store_open returned —
 * sd_store_submit, sd_store_call, sd_store_close; the request and its results are the same —
 * with these differences:
 *
 * - Each request is sent as one typed message (include/sealdrop/storewire.h), its operations
 *   with copies of their keys and values; a reader thread takes the answers, in order, fills
 *   each request's results and calls its done callback (on that thread: the THREADS rules
 *   above hold for it as for the reply thread). opts->queue_max bounds the requests sent and
 *   not yet answered (beyond: SD_ERR_REFUSED, as for a full queue); the other fields are
 *   the store process's.
 * - The store process checks each request against its policy (what the network-facing
 *   process may write where: sd_storewire_policy_check); a refused request is answered
 *   SD_ERR_REFUSED, in its place in the order, with the rule in its detail.
 * - A store process that dies, closes the socket while requests are outstanding, answers out
 *   of protocol, or does not take a request for SD_STORE_REMOTE_TIMEOUT seconds is lost:
 *   one loud log line ("store process died or broke the protocol ..."), every outstanding
 *   request is answered SD_ERR_UNAVAILABLE (never as done: nothing says it is durable),
 *   every later submit is refused, and the lost callback runs (once, on the thread that
 *   found it).
 * - sd_store_close shuts the socket's write side; the store process answers everything
 *   still queued, commits and exits; the reader takes those answers, and close returns once
 *   the socket is closed. sd_store_stats counts requests and failures only (the batches
 *   and commits are the store process's; server/store_stats.h, sd_store_stats_fetch,
 *   asks the store process for them and for the commit histograms).
 */
#define SD_STORE_REMOTE_TIMEOUT 60
int sd_store_open_remote(int fd, const sd_store_opts_t *opts, sd_store_t **out) SD_WUR;
/* fn(ctx) once a remote store is lost (above); never for a local store. */
void sd_store_on_lost(sd_store_t *store, void (*fn)(void *ctx), void *ctx);
/* Whether a remote store is lost; always false for a local one. */
bool sd_store_is_lost(sd_store_t *store);

/* The growth policy (CAVEATS, "Space"), arithmetic only: the map size to grow to from
 * `current`, for a data file of file_bytes, under `ceiling`, on a file system with
 * disk_avail bytes free of disk_total (UINT64_MAX and 0 when unknown); 0 when the map
 * cannot grow. A multiple of SD_STORE_MAPSIZE_MIN. */
size_t sd_store_map_next(size_t current, uint64_t file_bytes, uint64_t ceiling, uint64_t disk_avail,
                         uint64_t disk_total);

/* Stops taking requests, answers every request already queued (each still gets its
 * callback), joins the store thread and closes the environment. NULL is fine. Must not
 * be called from a done callback. sd_store_close sets the pointer to NULL. */
void sd_store_close_(sd_store_t *store);
#define sd_store_close(store)                                                                                          \
	do {                                                                                                           \
		sd_store_close_(store);                                                                                \
		(store) = NULL;                                                                                        \
	} while (0)

/* Queues req. On 0 the store owns req until done(req, ctx) runs, exactly once. On error
 * done is never called: SD_ERR_REFUSED when the store is closing or its queue is full
 * (a route answers 503), SD_ERR_USAGE for an empty request, or the error a builder call
 * below recorded (a key too long, ...). */
int sd_store_submit(sd_store_t *store, sd_store_req_t *req, sd_store_done_fn done, void *ctx) SD_WUR;

/* As sd_store_submit, but a store process's request is held in this process and written
 * together with the others held so: at the next sd_store_flush (the server's loop flushes
 * once per turn, so the requests of many connections cost the store process one wake-up
 * instead of one each), or sooner, before any request submitted otherwise and when the
 * held ones reach SD_PRIVSEP_BATCH_MAX or SD_PRIVSEP_BATCH_BYTES. Order is kept with
 * every other request. A local store queues req at once. */
int sd_store_submit_held(sd_store_t *store, sd_store_req_t *req, sd_store_done_fn done, void *ctx) SD_WUR;
/* Writes what sd_store_submit_held holds. A write that fails loses the store process:
 * every held and outstanding request is answered with SD_ERR_UNAVAILABLE. */
void sd_store_flush(sd_store_t *store);

/* Submits req and waits for its answer: returns the request's status (0, or its error
 * with the detail also set for this thread). For tools and tests; never from the event
 * loop or a done callback (SD_ERR_USAGE on the store's threads). */
int sd_store_call(sd_store_t *store, sd_store_req_t *req) SD_WUR;

/* Counters since open, consistent with each other. */
void sd_store_stats(sd_store_t *store, sd_store_stats_t *out);

/* --- Requests ------------------------------------------------------------------------
 *
 * sd_store_req_new returns NULL only when out of memory. Each builder call copies its
 * keys and values into the request and returns the new operation's index (>= 0), or a
 * negative error that the request also remembers, so a caller may add all operations
 * and check once at sd_store_submit. Keys are 1..SD_STORE_KEY_MAX bytes (SD_ERR_TOOBIG
 * or SD_ERR_USAGE otherwise); values 0..SD_STORE_REQ_BYTES_MAX in total per request.
 */
#define SD_STORE_NOOVERWRITE 0x1u /* PUT fails with SD_ERR_EXISTS when the key exists */

sd_store_req_t *sd_store_req_new(void);
void sd_store_req_free_(sd_store_req_t *req);
#define sd_store_req_free(req)                                                                                         \
	do {                                                                                                           \
		sd_store_req_free_(req);                                                                               \
		(req) = NULL;                                                                                          \
	} while (0)
/* Empties req (operations, results, error) for reuse; keeps its memory. */
void sd_store_req_reset(sd_store_req_t *req);

/* Reads the value (sd_store_req_value). A missing key is not an error. */
int sd_store_req_get(sd_store_req_t *req, sd_store_db_t db, const uint8_t *key, size_t key_len);
/* Writes the value. With SD_STORE_NOOVERWRITE an existing key fails the request with
 * SD_ERR_EXISTS, and sd_store_req_value of this operation then gives the value already
 * stored (so an idempotent retry can tell "same bytes" from "different bytes"). */
int sd_store_req_put(sd_store_req_t *req, sd_store_db_t db, const uint8_t *key, size_t key_len, const uint8_t *val,
                     size_t val_len, unsigned flags);
/* Deletes the key; a missing key is not an error (sd_store_req_found tells). */
int sd_store_req_del(sd_store_req_t *req, sd_store_db_t db, const uint8_t *key, size_t key_len);
/* Precondition: fails the request with SD_ERR_EXISTS when the key is present. */
int sd_store_req_check_absent(sd_store_req_t *req, sd_store_db_t db, const uint8_t *key, size_t key_len);
/* Precondition: fails the request with SD_ERR_NOENT when the key is missing, and with
 * SD_ERR_REFUSED when its value differs from val (compare-and-set, with a PUT after). */
int sd_store_req_check_equal(sd_store_req_t *req, sd_store_db_t db, const uint8_t *key, size_t key_len,
                             const uint8_t *val, size_t val_len);
/* Lists up to `limit` (1..SD_STORE_SCAN_MAX) entries whose keys start with prefix
 * (prefix_len 0: every key), in key order, starting after the key `after` when it is
 * not NULL (to page on from the last key of a previous scan). A scan that stopped at
 * the limit, or at SD_STORE_REPLY_BYTES_MAX, reports more = true. */
int sd_store_req_scan(sd_store_req_t *req, sd_store_db_t db, const uint8_t *prefix, size_t prefix_len,
                      const uint8_t *after, size_t after_len, size_t limit);

/* The same, returning keys only (every value is empty): to learn which keys exist
 * without copying values (which chunks of an upload are present). */
int sd_store_req_scan_keys(sd_store_req_t *req, sd_store_db_t db, const uint8_t *prefix, size_t prefix_len,
                           const uint8_t *after, size_t after_len, size_t limit);
/* Deletes up to `limit` (1..SD_STORE_SCAN_MAX) keys that start with prefix (1 byte or
 * more). sd_store_req_scan_count tells how many were deleted and whether some remain. */
int sd_store_req_del_prefix(sd_store_req_t *req, sd_store_db_t db, const uint8_t *prefix, size_t prefix_len,
                            size_t limit);

/* Precondition: fails the request with SD_ERR_TRUNCATED unless exactly `count`
 * (0..SD_STORE_COUNT_MAX) keys start with prefix (1 byte or more): "every chunk is there". */
int sd_store_req_check_count(sd_store_req_t *req, sd_store_db_t db, const uint8_t *prefix, size_t prefix_len,
                             size_t count);

/* --- The audit log ---------------------------------------------------------------------
 *
 * The Merkle tree of the audit log (include/sealdrop/merkle.h) lives in four places of
 * the store: meta "log_size" (8 bytes, little-endian: the number of leaves), log_leaves
 * (key: the index, 8 bytes big-endian; value: the leaf's bytes), log_nodes (key: the
 * index of the LAST leaf the node covers, 8 bytes big-endian, then its level, 1 byte;
 * value: the complete subtree's SHA-256 hash) and case_events (key: a case number then
 * the index, 8 bytes big-endian; value empty: the case's leaves in order). Every key an
 * append writes to log_leaves and log_nodes is larger than all before it, so both grow
 * at their end only (written with MDB_APPEND: full pages, few dirty pages per commit).
 * Only the LOG-APPEND operation writes them.
 */
#define SD_STORE_LOG_SIZE_KEY "log_size"
/* meta: u32 LE, the highest version of the directory this server has served. */
#define SD_STORE_DIRECTORY_VERSION_KEY "directory_version"
#define SD_STORE_LOG_NODE_KEY          9 /* bytes of a log_nodes key */

/* The log_nodes key of the complete subtree (level, index): it covers leaves
 * [index << level, (index + 1) << level). */
static inline void sd_store_log_node_key(uint8_t out[SD_STORE_LOG_NODE_KEY], unsigned level, uint64_t index)
{
	uint64_t last = ((index + 1) << level) - 1;

	for (int i = 7; i >= 0; i--, last >>= 8)
		out[i] = (uint8_t)last;
	out[8] = (uint8_t)level;
}

/* LOG-APPEND: appends leaf (1..SD_AUDIT_LEAF_MAX bytes) to the audit log inside this
 * request's transaction: the leaf at index n = the log's size, the hash of every complete
 * subtree it completes (O(log n) reads and writes), the size n + 1, and, when case_key
 * is not NULL, the entry case_key || n in case_events. The request's other operations
 * and the leaf commit together or not at all. LOG-APPENDs run after all the request's
 * other operations (so those never see the new leaf), once they all succeeded. The index
 * is read back with sd_store_req_log_index. */
int sd_store_req_log_append(sd_store_req_t *req, const uint8_t *leaf, size_t leaf_len, const uint8_t *case_key,
                            size_t case_key_len);
/* The index LOG-APPEND operation op gave its leaf: 0, or SD_ERR_USAGE when op is none or
 * the request failed. */
int sd_store_req_log_index(const sd_store_req_t *req, size_t op, uint64_t *index) SD_WUR;

/* --- Results, readable in the done callback and after it, until reset or free -------- */

/* The request's status: 0, or the error of its first failing operation. */
int sd_store_req_status(const sd_store_req_t *req);
/* A one-line explanation of the status ("" on success); never contains keys or values. */
const char *sd_store_req_detail(const sd_store_req_t *req);
/* The index of the operation that failed, or -1 (none failed, or the commit did). */
long sd_store_req_failed_op(const sd_store_req_t *req);
/* Whether the key of a GET, DEL or CHECK operation was present when it ran. */
bool sd_store_req_found(const sd_store_req_t *req, size_t op);
/* The value a GET read (or a NOOVERWRITE PUT found): 0 with *val and *len pointing into req,
 * or SD_ERR_NOENT when there is none. */
int sd_store_req_value(const sd_store_req_t *req, size_t op, const uint8_t **val, size_t *len) SD_WUR;
/* The number of entries a SCAN returned, and whether more were left. */
size_t sd_store_req_scan_count(const sd_store_req_t *req, size_t op, bool *more);
/* Entry i of a SCAN: 0, or SD_ERR_USAGE when op is no scan or i is out of range. */
int sd_store_req_scan_entry(const sd_store_req_t *req, size_t op, size_t i, const uint8_t **key, size_t *key_len,
                            const uint8_t **val, size_t *val_len) SD_WUR;

#endif
