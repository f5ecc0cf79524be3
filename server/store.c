/*
 * store.c — sealdropd's store: LMDB behind a message interface, with group commit
 * (include/sealdrop/store.h states the guarantees).
 *
 * Start at store_main(): the one thread that ever touches a transaction takes every
 * queued request (queue_take), runs them in one write transaction, each request inside
 * a nested transaction so that a failing request is rolled back alone (req_run), commits
 * once (txn_run), and answers them all (replies). When a batch runs out of space —
 * the map, or LMDB's dirty-page limit — txn_run commits what came before and starts the
 * failing request afresh, so one large request cannot fail its neighbours. A request
 * that finds the map full on its own makes the map grow (store_grow) and runs again.
 * Faults (include/sealdrop/store.h, CAVEATS): a file system that is full undoes the
 * batch and fails only its writes; a failed fsync or I/O error stops the store for good
 * (store_fatal) and, once that batch is answered, the process (fatal_exit). Opening
 * refuses what is not a sealdropd store (store_identify, at the end of this file).
 * Each durable commit is counted into the commit histograms (hist_count: requests per
 * commit, and the time from taking the batch to its fsync), which sd_store_stats and
 * sd_store_stats_fetch publish a day at a time (include/sealdrop/histogram.h).
 *
 * A request is a flat message: its operations refer by offset to one input buffer of
 * keys and values, and results land by offset in an output buffer, so nothing points
 * into LMDB's map after the transaction ends and the message could cross a process
 * boundary unchanged.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "sealdrop/audit.h"
#include "sealdrop/log.h"
#include "sealdrop/sealdrop.h"
#include "sealdrop/store.h"
#include "store_int.h"
#include "backup.h"
#include "store_stats.h"

struct sd_store {
	struct store_remote *remote; /* a store process's, reached over a socket: nothing below is used */
	MDB_env *env;
	MDB_dbi dbi[SD_STORE_DB_COUNT];
	size_t mapsize; /* as LMDB mapped it: grows (store_grow) */
	/* Held to read for a backup's copy, which reads through the map; held to write while
	 * the map is remapped (store_grow, store_trim): a reader's pointers must not go. */
	pthread_rwlock_t map_lock;
	uint64_t max_bytes; /* the most mapsize may grow to; 0: it never grows */
	bool full_logged;   /* the store thread's: "cannot grow" was logged since the last growth */
	int lock_fd;
	int data_fd; /* data.mdb, read-only: the reply thread's sync, fstat and fstatvfs */
	size_t batch_max, batch_bytes, queue_max;
	sd_store_req_t **batch;    /* the store thread's */
	sd_store_stats_t counters; /* the store thread's, published into stats */
	pthread_mutex_t mu;        /* guards everything below */
	pthread_cond_t cv;
	sd_store_req_t *head, *tail;
	size_t queued;
	bool stopping, started;
	pthread_t thread;
	sd_store_stats_t stats;
	/* The reply thread: syncs a batch's meta page and answers it, while the store thread
	 * runs the next batch (see sync_main). Guarded by mu. */
	pthread_t sync_thread;
	bool sync_started, sync_busy, sync_stopping;
	pthread_cond_t sync_cv;
	sd_store_req_t **sync_batch;
	size_t sync_n;
	bool sync_wrote;
	size_t touched_since_trim; /* the store thread's: request bytes in and out since the last trim */
	bool scanned;              /* the store thread's: a scan ran since the last trim */
	struct timespec trimmed;   /* the store thread's: when the map was last given back */
	struct written *written;   /* the store thread's: the file ranges of this batch's large chunks */
	size_t n_written, written_cap;
	unsigned psize; /* LMDB's page size */
	bool fatal;     /* guarded by mu: a sync or commit failed; nothing more is acknowledged */
	/* The commit histograms: the store thread notes when it took the batch (store_main)
	 * and each commit's request count (txn_commit); the reply thread counts them once the
	 * batch is durable (hist_count), into today's histograms, published a day at a time. */
	struct timespec batch_t0;      /* the store thread's */
	size_t *commit_sizes, n_sizes; /* the store thread's: batch_max at most */
	struct timespec sync_t0;       /* guarded by mu, handed to the reply thread */
	size_t *sync_sizes, sync_n_sizes;
	sd_commit_daily_t hist; /* guarded by mu */
};

/* After a batch that moved this many bytes, or ran a scan, the store thread unmaps LMDB's
 * pages from the process (store_trim: the map is mapped again, empty; the page cache
 * keeps the pages, nothing is lost): otherwise every page the kernel faulted in around a
 * B-tree page LMDB read stays in the server's resident set — much of a 1 GiB filing, or
 * of a large store scanned at start-up. */
#define STORE_TRIM_BYTES ((size_t)32 << 20)

/* A chunk this large is written to its own run of pages, whose cache is handed back once
 * it is durable (store_drop_written). */
#define STORE_DROP_BYTES ((size_t)64 << 10)

/* Where in data.mdb a large value's pages are: its offset and length in bytes. */
struct written {
	off_t off, len;
};

/* The header of an LMDB page, as it is in the file and in a transaction's memory (mdb.c,
 * MDB_page; LMDB's own layout, which test_store's test_written_cache_handed_back would
 * catch changing): the page number (pgno_t, a size_t in the machine's order), 2 bytes
 * unused here, the flags (2), and on the first page of a run of overflow pages, which
 * holds one large value, the run's count of pages (4). The value's bytes follow. */
#define LMDB_PGNO_BYTES  sizeof(size_t)
#define LMDB_FLAGS_AT    (LMDB_PGNO_BYTES + 2)
#define LMDB_PAGES_AT    (LMDB_PGNO_BYTES + 4)
#define LMDB_PAGE_HEADER (LMDB_PGNO_BYTES + 8)
#define LMDB_P_OVERFLOW  0x04

#define DB_NAME_(name, text) text,
static const char *const db_names[SD_STORE_DB_COUNT] = {SD_STORE_DBS(DB_NAME_)};
#undef DB_NAME_

const char *sd_store_db_name(sd_store_db_t db)
{
	if ((unsigned)db >= SD_STORE_DB_COUNT)
		return NULL;
	return db_names[db];
}

/* --- Buffers ----------------------------------------------------------------------- */

int store_buf_append(struct buf *b, const void *p, size_t len, size_t *off)
{
	if (len > SIZE_MAX - b->len)
		return SD_ERR_NOMEM;
	if (b->len + len > b->cap || b->p == NULL) { /* never NULL once appended to */
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + len)
			cap = cap > SIZE_MAX / 2 ? b->len + len : cap * 2;
		uint8_t *n = realloc(b->p, cap);
		if (n == NULL)
			return SD_ERR_NOMEM;
		b->p = n;
		b->cap = cap;
	}
	*off = b->len;
	if (len > 0)
		memcpy(b->p + b->len, p, len);
	b->len += len;
	return 0;
}

int store_arr_grow(void **arr, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 8;
	void *p = reallocarray(*arr, ncap, size);
	if (p == NULL)
		return SD_ERR_NOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

/* --- Building requests (the caller's thread) ---------------------------------------- */

sd_store_req_t *sd_store_req_new(void)
{
	sd_store_req_t *req = calloc(1, sizeof(*req));

	if (req != NULL)
		req->failed_op = -1;
	return req;
}

void sd_store_req_free_(sd_store_req_t *req)
{
	if (req == NULL)
		return;
	free(req->ops);
	free(req->in.p);
	free(req->out.p);
	free(req->entries);
	free(req);
}

void store_req_results_clear(sd_store_req_t *req)
{
	req->out.len = 0;
	req->n_entries = 0;
	req->status = 0;
	req->failed_op = -1;
	req->mdb_rc = 0;
	req->detail[0] = '\0';
	for (size_t i = 0; i < req->n_ops; i++) {
		struct op *op = &req->ops[i];
		op->found = op->has_value = op->more = false;
		op->out_off = op->out_len = op->first_entry = op->n_entries = 0;
	}
}

void sd_store_req_reset(sd_store_req_t *req)
{
	req->n_ops = 0;
	req->in.len = 0;
	req->writes = false;
	req->build_err = 0;
	req->refused = false;
	store_req_results_clear(req);
}

/* Records a builder error for this thread and, if it is the request's first, in req
 * (sd_store_submit reports it again). */
static int req_build_fail(sd_store_req_t *req, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int req_build_fail(sd_store_req_t *req, int err, const char *fmt, ...)
{
	char detail[SD_STORE_DETAIL_BYTES];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (req->build_err == 0) {
		req->build_err = err;
		memcpy(req->detail, detail, sizeof(detail));
	}
	return sd_error(err, "%s", detail);
}

static int key_check(sd_store_req_t *req, const uint8_t *key, size_t len, bool may_be_empty)
{
	if (len > SD_STORE_KEY_MAX)
		return req_build_fail(req, SD_ERR_TOOBIG, "store key of %zu bytes is longer than the limit of %d bytes",
		                      len, SD_STORE_KEY_MAX);
	if (len == 0 && !may_be_empty)
		return req_build_fail(req, SD_ERR_USAGE, "store key is empty");
	if (key == NULL && len > 0)
		return req_build_fail(req, SD_ERR_USAGE, "store key is NULL");
	return 0;
}

/* Appends an operation whose key and value (either may be empty) are copied into req. */
static int req_add(sd_store_req_t *req, enum op_kind kind, sd_store_db_t db, const uint8_t *key, size_t key_len,
                   const uint8_t *val, size_t val_len)
{
	struct op op = {.kind = kind, .db = db, .key_len = key_len, .val_len = val_len};

	if (req->build_err != 0)
		return req->build_err;
	if ((unsigned)db >= SD_STORE_DB_COUNT)
		return req_build_fail(req, SD_ERR_USAGE, "no store database number %u", (unsigned)db);
	if (val == NULL && val_len > 0)
		return req_build_fail(req, SD_ERR_USAGE, "store value is NULL");
	if (req->n_ops >= SD_STORE_OPS_MAX)
		return req_build_fail(req, SD_ERR_TOOBIG, "store request has more than %d operations",
		                      SD_STORE_OPS_MAX);
	if (val_len > SD_STORE_REQ_BYTES_MAX || req->in.len + key_len + val_len > SD_STORE_REQ_BYTES_MAX)
		return req_build_fail(req, SD_ERR_TOOBIG, "store request is larger than %zu bytes",
		                      SD_STORE_REQ_BYTES_MAX);
	if (store_arr_grow((void **)&req->ops, &req->cap_ops, req->n_ops, sizeof(*req->ops)) != 0 ||
	    store_buf_append(&req->in, key, key_len, &op.key_off) != 0 ||
	    store_buf_append(&req->in, val, val_len, &op.val_off) != 0)
		return req_build_fail(req, SD_ERR_NOMEM, "out of memory building a store request");
	req->ops[req->n_ops] = op;
	if (kind == OP_PUT || kind == OP_DEL || kind == OP_DEL_PREFIX || kind == OP_LOG_APPEND)
		req->writes = true;
	return (int)req->n_ops++;
}

int sd_store_req_get(sd_store_req_t *req, sd_store_db_t db, const uint8_t *key, size_t key_len)
{
	int r = key_check(req, key, key_len, false);
	return r != 0 ? r : req_add(req, OP_GET, db, key, key_len, NULL, 0);
}

int sd_store_req_put(sd_store_req_t *req, sd_store_db_t db, const uint8_t *key, size_t key_len, const uint8_t *val,
                     size_t val_len, unsigned flags)
{
	int r = key_check(req, key, key_len, false);

	if (r == 0 && (flags & ~SD_STORE_NOOVERWRITE) != 0)
		r = req_build_fail(req, SD_ERR_USAGE, "unknown store PUT flags 0x%x", flags);
	if (r == 0 && (r = req_add(req, OP_PUT, db, key, key_len, val, val_len)) >= 0)
		req->ops[r].flags = flags;
	return r;
}

int sd_store_req_del(sd_store_req_t *req, sd_store_db_t db, const uint8_t *key, size_t key_len)
{
	int r = key_check(req, key, key_len, false);
	return r != 0 ? r : req_add(req, OP_DEL, db, key, key_len, NULL, 0);
}

int sd_store_req_check_absent(sd_store_req_t *req, sd_store_db_t db, const uint8_t *key, size_t key_len)
{
	int r = key_check(req, key, key_len, false);
	return r != 0 ? r : req_add(req, OP_CHECK_ABSENT, db, key, key_len, NULL, 0);
}

int sd_store_req_check_equal(sd_store_req_t *req, sd_store_db_t db, const uint8_t *key, size_t key_len,
                             const uint8_t *val, size_t val_len)
{
	int r = key_check(req, key, key_len, false);
	return r != 0 ? r : req_add(req, OP_CHECK_EQUAL, db, key, key_len, val, val_len);
}

static int scan_add(sd_store_req_t *req, enum op_kind kind, sd_store_db_t db, const uint8_t *prefix, size_t prefix_len,
                    const uint8_t *after, size_t after_len, size_t limit)
{
	int r = key_check(req, prefix, prefix_len, kind == OP_SCAN);

	if (r == 0 && after != NULL)
		r = key_check(req, after, after_len, false);
	if (r == 0 && (limit == 0 || limit > SD_STORE_SCAN_MAX))
		r = req_build_fail(req, SD_ERR_USAGE, "store scan limit %zu is not within 1..%d", limit,
		                   SD_STORE_SCAN_MAX);
	if (r == 0 && (r = req_add(req, kind, db, prefix, prefix_len, after, after != NULL ? after_len : 0)) >= 0) {
		req->ops[r].has_after = after != NULL;
		req->ops[r].limit = limit;
	}
	return r;
}

int sd_store_req_scan(sd_store_req_t *req, sd_store_db_t db, const uint8_t *prefix, size_t prefix_len,
                      const uint8_t *after, size_t after_len, size_t limit)
{
	return scan_add(req, OP_SCAN, db, prefix, prefix_len, after, after_len, limit);
}

int sd_store_req_scan_keys(sd_store_req_t *req, sd_store_db_t db, const uint8_t *prefix, size_t prefix_len,
                           const uint8_t *after, size_t after_len, size_t limit)
{
	int r = scan_add(req, OP_SCAN, db, prefix, prefix_len, after, after_len, limit);

	if (r >= 0)
		req->ops[r].flags |= SCAN_KEYS_ONLY;
	return r;
}

int sd_store_req_del_prefix(sd_store_req_t *req, sd_store_db_t db, const uint8_t *prefix, size_t prefix_len,
                            size_t limit)
{
	return scan_add(req, OP_DEL_PREFIX, db, prefix, prefix_len, NULL, 0, limit);
}

int sd_store_req_check_count(sd_store_req_t *req, sd_store_db_t db, const uint8_t *prefix, size_t prefix_len,
                             size_t count)
{
	int r = key_check(req, prefix, prefix_len, false);

	if (r == 0 && count > SD_STORE_COUNT_MAX)
		r = req_build_fail(req, SD_ERR_USAGE, "store count %zu is more than %d", count, SD_STORE_COUNT_MAX);
	if (r == 0 && (r = req_add(req, OP_CHECK_COUNT, db, prefix, prefix_len, NULL, 0)) >= 0)
		req->ops[r].limit = count;
	return r;
}

int sd_store_req_log_append(sd_store_req_t *req, const uint8_t *leaf, size_t leaf_len, const uint8_t *case_key,
                            size_t case_key_len)
{
	int r = key_check(req, case_key, case_key_len, true);

	if (r == 0 && (leaf == NULL || leaf_len == 0 || leaf_len > SD_AUDIT_LEAF_MAX))
		r = req_build_fail(req, SD_ERR_USAGE, "an audit leaf of %zu bytes is outside 1..%d", leaf_len,
		                   SD_AUDIT_LEAF_MAX);
	if (r == 0 && case_key_len + 8 > SD_STORE_KEY_MAX)
		r = req_build_fail(req, SD_ERR_TOOBIG, "a case key of %zu bytes is too long", case_key_len);
	return r != 0 ? r : req_add(req, OP_LOG_APPEND, SD_STORE_DB_LOG_LEAVES, case_key, case_key_len, leaf, leaf_len);
}

/* --- Results ------------------------------------------------------------------------ */

int sd_store_req_log_index(const sd_store_req_t *req, size_t op, uint64_t *index)
{
	if (op >= req->n_ops || req->ops[op].kind != OP_LOG_APPEND || req->status != 0 || !req->ops[op].found)
		return SD_ERR_USAGE;
	*index = req->ops[op].log_index;
	return 0;
}

int sd_store_req_status(const sd_store_req_t *req)
{
	return req->status;
}

const char *sd_store_req_detail(const sd_store_req_t *req)
{
	return req->detail;
}

long sd_store_req_failed_op(const sd_store_req_t *req)
{
	return req->failed_op;
}

bool sd_store_req_found(const sd_store_req_t *req, size_t op)
{
	return op < req->n_ops && req->ops[op].found;
}

int sd_store_req_value(const sd_store_req_t *req, size_t op, const uint8_t **val, size_t *len)
{
	if (op >= req->n_ops || !req->ops[op].has_value)
		return SD_ERR_NOENT;
	*val = req->out.p + req->ops[op].out_off;
	*len = req->ops[op].out_len;
	return 0;
}

size_t sd_store_req_scan_count(const sd_store_req_t *req, size_t op, bool *more)
{
	bool is_scan = op < req->n_ops && (req->ops[op].kind == OP_SCAN || req->ops[op].kind == OP_DEL_PREFIX);

	if (more != NULL)
		*more = is_scan && req->ops[op].more;
	return is_scan ? req->ops[op].n_entries : 0;
}

int sd_store_req_scan_entry(const sd_store_req_t *req, size_t op, size_t i, const uint8_t **key, size_t *key_len,
                            const uint8_t **val, size_t *val_len)
{
	if (op >= req->n_ops || req->ops[op].kind != OP_SCAN || i >= req->ops[op].n_entries)
		return SD_ERR_USAGE;
	const struct entry *e = &req->entries[req->ops[op].first_entry + i];
	*key = req->out.p + e->key_off;
	*key_len = e->key_len;
	*val = req->out.p + e->val_off;
	*val_len = e->val_len;
	return 0;
}

/* --- Running operations (the store thread) ------------------------------------------ */

/* Out of room: the map, LMDB's dirty-page limit for one transaction, or the disk. */
static bool mdb_is_space(int rc)
{
	return rc == MDB_MAP_FULL || rc == MDB_TXN_FULL || rc == ENOSPC || rc == EDQUOT;
}

/* A commit or sync that failed this way leaves the file's state unknown: an I/O error
 * (from a write or an fsync: LMDB does not say which) or an environment LMDB gave up on.
 * Errno values are positive, LMDB's own codes negative. */
static bool mdb_is_fatal(int rc)
{
	return rc == MDB_PANIC || (rc > 0 && rc != ENOMEM && rc != ENOSPC && rc != EDQUOT);
}

static int mdb_to_sd(int rc)
{
	if (mdb_is_space(rc))
		return SD_ERR_TOOBIG;
	return rc == ENOMEM ? SD_ERR_NOMEM : SD_ERR_IO;
}

/* Fails req at operation `op` (-1: not one operation). The first failure stays. */
static int req_fail(sd_store_req_t *req, long op, int err, int mdb_rc, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
static int req_fail(sd_store_req_t *req, long op, int err, int mdb_rc, const char *fmt, ...)
{
	va_list ap;

	if (req->status != 0)
		return req->status;
	va_start(ap, fmt);
	vsnprintf(req->detail, sizeof(req->detail), fmt, ap);
	va_end(ap);
	req->status = err;
	req->failed_op = op;
	req->mdb_rc = mdb_rc;
	return err;
}

static int req_fail_mdb(sd_store_t *s, sd_store_req_t *req, long op, int rc, const char *what)
{
	if (rc == MDB_MAP_FULL)
		return req_fail(req, op, SD_ERR_TOOBIG, rc,
		                "store is full: its map of %zu bytes cannot grow (store_max_bytes, or the "
		                "free space of its file system)",
		                s->mapsize);
	if (rc == ENOSPC || rc == EDQUOT)
		return req_fail(req, op, SD_ERR_TOOBIG, rc, "store is full: %s failed: %s", what, mdb_strerror(rc));
	return req_fail(req, op, mdb_to_sd(rc), rc, "store: %s failed: %s", what, mdb_strerror(rc));
}

static MDB_val op_key(const sd_store_req_t *req, const struct op *op)
{
	return (MDB_val){.mv_size = op->key_len, .mv_data = req->in.p + op->key_off};
}

static MDB_val op_val(const sd_store_req_t *req, const struct op *op)
{
	return (MDB_val){.mv_size = op->val_len, .mv_data = req->in.p + op->val_off};
}

/* Copies bytes read from the map into the reply, within SD_STORE_REPLY_BYTES_MAX. */
static int reply_copy(sd_store_req_t *req, long i, const MDB_val *v, size_t *off)
{
	if (v->mv_size > SD_STORE_REPLY_BYTES_MAX - req->out.len)
		return req_fail(req, i, SD_ERR_TOOBIG, 0, "store request reads more than %zu bytes",
		                SD_STORE_REPLY_BYTES_MAX);
	if (store_buf_append(&req->out, v->mv_data, v->mv_size, off) != 0)
		return req_fail(req, i, SD_ERR_NOMEM, ENOMEM, "out of memory reading the store");
	return 0;
}

static int op_value_out(sd_store_req_t *req, long i, const MDB_val *v)
{
	struct op *op = &req->ops[i];
	int r = reply_copy(req, i, v, &op->out_off);

	if (r == 0) {
		op->out_len = v->mv_size;
		op->has_value = true;
	}
	return r;
}

/* Looks key up: 0 found (into *v), 1 missing, or the request's error. */
static int op_lookup(sd_store_t *s, MDB_txn *txn, sd_store_req_t *req, long i, MDB_val *v)
{
	struct op *op = &req->ops[i];
	MDB_val k = op_key(req, op);
	int rc = mdb_get(txn, s->dbi[op->db], &k, v);

	if (rc == MDB_NOTFOUND)
		return 1;
	if (rc != 0)
		return req_fail_mdb(s, req, i, rc, "mdb_get");
	op->found = true;
	return 0;
}

/* Notes where the large value LMDB just stored at data (its own run of overflow pages,
 * still in the transaction's memory) is in the file, from the header of the run's first
 * page. A header that does not read as such a run is not noted: the note is only advice. */
static void note_written(sd_store_t *s, const uint8_t *data, size_t len)
{
	const uint8_t *page = data - LMDB_PAGE_HEADER;
	size_t pgno;
	uint16_t flags;
	uint32_t pages;

	memcpy(&pgno, page, sizeof(pgno));
	memcpy(&flags, page + LMDB_FLAGS_AT, sizeof(flags));
	memcpy(&pages, page + LMDB_PAGES_AT, sizeof(pages));
	if (!(flags & LMDB_P_OVERFLOW) || pgno < 2 || pgno > (uint64_t)INT64_MAX / s->psize / 2 ||
	    (uint64_t)pages * s->psize < len + LMDB_PAGE_HEADER ||
	    (uint64_t)pages * s->psize > len + LMDB_PAGE_HEADER + s->psize)
		return;
	struct written w = {(off_t)((uint64_t)pgno * s->psize), (off_t)pages * s->psize};
	if (s->n_written == s->written_cap &&
	    store_arr_grow((void **)&s->written, &s->written_cap, s->n_written + 1, sizeof(*s->written)) != 0)
		return;
	s->written[s->n_written++] = w;
}

static int op_put(sd_store_t *s, MDB_txn *txn, sd_store_req_t *req, long i)
{
	struct op *op = &req->ops[i];
	MDB_val k = op_key(req, op), v = op_val(req, op), in = v;
	unsigned flags = (op->flags & SD_STORE_NOOVERWRITE) ? MDB_NOOVERWRITE : 0;
	bool large = op->db == SD_STORE_DB_CHUNKS && v.mv_size >= STORE_DROP_BYTES;
	/* A large chunk is copied in by hand (MDB_RESERVE), which tells where LMDB put it. */
	int rc = mdb_put(txn, s->dbi[op->db], &k, &v, flags | (large ? MDB_RESERVE : 0));

	if (rc == 0 && large) {
		memcpy(v.mv_data, in.mv_data, in.mv_size);
		note_written(s, v.mv_data, in.mv_size);
	}
	if (rc == MDB_KEYEXIST) {
		op->found = true;
		int r = op_value_out(req, i, &v);
		return r != 0 ? r
		              : req_fail(req, i, SD_ERR_EXISTS, rc, "store: key already exists in '%s' (operation %ld)",
		                         db_names[op->db], i);
	}
	return rc != 0 ? req_fail_mdb(s, req, i, rc, "mdb_put") : 0;
}

static int op_del(sd_store_t *s, MDB_txn *txn, sd_store_req_t *req, long i)
{
	struct op *op = &req->ops[i];
	MDB_val k = op_key(req, op);
	int rc = mdb_del(txn, s->dbi[op->db], &k, NULL);

	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return req_fail_mdb(s, req, i, rc, "mdb_del");
	op->found = true;
	return 0;
}

static int op_check(sd_store_t *s, MDB_txn *txn, sd_store_req_t *req, long i)
{
	struct op *op = &req->ops[i];
	MDB_val v;
	int r = op_lookup(s, txn, req, i, &v);

	if (r < 0)
		return r;
	if (op->kind == OP_CHECK_ABSENT)
		return r == 1 ? 0
		              : req_fail(req, i, SD_ERR_EXISTS, 0,
		                         "store: precondition failed: key exists in '%s' "
		                         "(operation %ld)",
		                         db_names[op->db], i);
	if (r == 1)
		return req_fail(req, i, SD_ERR_NOENT, 0,
		                "store: precondition failed: key missing in '%s' (operation %ld)", db_names[op->db], i);
	if (v.mv_size != op->val_len || (v.mv_size > 0 && !sd_equal(v.mv_data, req->in.p + op->val_off, v.mv_size)))
		return req_fail(req, i, SD_ERR_REFUSED, 0,
		                "store: precondition failed: value in '%s' has changed (operation %ld)",
		                db_names[op->db], i);
	return 0;
}

static bool key_has_prefix(const MDB_val *k, const MDB_val *prefix)
{
	return k->mv_size >= prefix->mv_size &&
	       (prefix->mv_size == 0 || sd_equal(k->mv_data, prefix->mv_data, prefix->mv_size));
}

/* Positions the cursor on the first key of the scan: >= prefix and > after. */
static int scan_start(sd_store_t *s, MDB_txn *txn, const struct op *op, MDB_cursor *cur, const MDB_val *prefix,
                      const MDB_val *after, MDB_val *k, MDB_val *v)
{
	MDB_dbi dbi = s->dbi[op->db];
	bool from_after = op->has_after && (prefix->mv_size == 0 || mdb_cmp(txn, dbi, after, prefix) >= 0);
	int rc;

	*k = from_after ? *after : *prefix;
	if (k->mv_size == 0)
		return mdb_cursor_get(cur, k, v, MDB_FIRST);
	rc = mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
	if (rc == 0 && from_after && mdb_cmp(txn, dbi, k, after) == 0)
		rc = mdb_cursor_get(cur, k, v, MDB_NEXT);
	return rc;
}

static int scan_append(sd_store_req_t *req, long i, const MDB_val *k, const MDB_val *v)
{
	struct entry e = {.key_len = k->mv_size, .val_len = v->mv_size};
	int r;

	if (req->ops[i].flags & SCAN_KEYS_ONLY) {
		static const MDB_val none = {0, NULL};
		v = &none;
		e.val_len = 0;
	}

	if (store_arr_grow((void **)&req->entries, &req->cap_entries, req->n_entries, sizeof(*req->entries)) != 0)
		return req_fail(req, i, SD_ERR_NOMEM, ENOMEM, "out of memory reading the store");
	if ((r = reply_copy(req, i, k, &e.key_off)) != 0 || (r = reply_copy(req, i, v, &e.val_off)) != 0)
		return r;
	req->entries[req->n_entries++] = e;
	req->ops[i].n_entries++;
	return 0;
}

static int op_scan(sd_store_t *s, MDB_txn *txn, sd_store_req_t *req, long i)
{
	struct op *op = &req->ops[i];
	MDB_val prefix = op_key(req, op), after = op_val(req, op), k, v;
	MDB_cursor *cur = NULL;
	int r = 0, rc = mdb_cursor_open(txn, s->dbi[op->db], &cur);

	if (rc != 0)
		return req_fail_mdb(s, req, i, rc, "mdb_cursor_open");
	op->first_entry = req->n_entries;
	s->scanned = true;
	for (rc = scan_start(s, txn, op, cur, &prefix, &after, &k, &v); rc == 0 && key_has_prefix(&k, &prefix);
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		size_t vlen = (op->flags & SCAN_KEYS_ONLY) ? 0 : v.mv_size;
		if (op->n_entries == op->limit || k.mv_size + vlen > SD_STORE_REPLY_BYTES_MAX - req->out.len) {
			op->more = true;
			break;
		}
		if ((r = scan_append(req, i, &k, &v)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (r == 0 && rc != 0 && rc != MDB_NOTFOUND)
		r = req_fail_mdb(s, req, i, rc, "mdb_cursor_get");
	return r;
}

/* Deletes up to op->limit keys that start with the prefix; counts them in n_entries and
 * sets more when keys with the prefix remain. */
static int op_del_prefix(sd_store_t *s, MDB_txn *txn, sd_store_req_t *req, long i)
{
	struct op *op = &req->ops[i];
	MDB_val prefix = op_key(req, op), k = prefix, v;
	MDB_cursor *cur = NULL;
	int rc = mdb_cursor_open(txn, s->dbi[op->db], &cur);

	if (rc != 0)
		return req_fail_mdb(s, req, i, rc, "mdb_cursor_open");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && key_has_prefix(&k, &prefix);
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) { /* after a delete, NEXT gives the following key */
		if (op->n_entries == op->limit) {
			op->more = true;
			break;
		}
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		op->n_entries++;
		op->found = true;
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return req_fail_mdb(s, req, i, rc, "mdb_cursor_del");
	return 0;
}

/* Fails the request unless exactly op->limit keys start with the prefix. */
static int op_check_count(sd_store_t *s, MDB_txn *txn, sd_store_req_t *req, long i)
{
	struct op *op = &req->ops[i];
	MDB_val prefix = op_key(req, op), k = prefix, v;
	MDB_cursor *cur = NULL;
	size_t n = 0;
	int rc = mdb_cursor_open(txn, s->dbi[op->db], &cur);

	if (rc != 0)
		return req_fail_mdb(s, req, i, rc, "mdb_cursor_open");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && key_has_prefix(&k, &prefix) && n <= op->limit;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		n++;
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return req_fail_mdb(s, req, i, rc, "mdb_cursor_get");
	op->n_entries = n;
	if (n != op->limit)
		return req_fail(req, i, SD_ERR_TRUNCATED, 0, "store: %s%zu keys with the prefix, not %zu",
		                n > op->limit ? "more than " : "", n > op->limit ? op->limit : n, op->limit);
	return 0;
}

static int op_log_append(sd_store_t *s, MDB_txn *txn, sd_store_req_t *req, long i)
{
	struct op *op = &req->ops[i];
	MDB_val leaf = op_val(req, op), case_key = op_key(req, op);
	const store_log_dbs_t dbs = {.meta = s->dbi[SD_STORE_DB_META],
	                             .leaves = s->dbi[SD_STORE_DB_LOG_LEAVES],
	                             .nodes = s->dbi[SD_STORE_DB_LOG_NODES],
	                             .case_events = s->dbi[SD_STORE_DB_CASE_EVENTS]};
	const char *what = NULL;
	int rc = store_log_append(txn, &dbs, &leaf, op->key_len > 0 ? &case_key : NULL, &op->log_index, &what);

	if (rc == STORE_LOG_CORRUPT)
		return req_fail(req, i, SD_ERR_INTERNAL, 0, "store: the audit log is damaged: %s", what);
	if (rc != 0)
		return req_fail_mdb(s, req, i, rc, what);
	op->found = true;
	return 0;
}

static int op_run(sd_store_t *s, MDB_txn *txn, sd_store_req_t *req, long i)
{
	MDB_val v;
	int r;

	switch (req->ops[i].kind) {
	case OP_GET:
		r = op_lookup(s, txn, req, i, &v);
		return r == 0 ? op_value_out(req, i, &v) : r == 1 ? 0 : r;
	case OP_PUT:
		return op_put(s, txn, req, i);
	case OP_DEL:
		return op_del(s, txn, req, i);
	case OP_CHECK_ABSENT:
	case OP_CHECK_EQUAL:
		return op_check(s, txn, req, i);
	case OP_SCAN:
		return op_scan(s, txn, req, i);
	case OP_DEL_PREFIX:
		return op_del_prefix(s, txn, req, i);
	case OP_CHECK_COUNT:
		return op_check_count(s, txn, req, i);
	case OP_LOG_APPEND:
		return op_log_append(s, txn, req, i);
	}
	return req_fail(req, i, SD_ERR_INTERNAL, 0, "store: unknown operation %d", (int)req->ops[i].kind);
}

/* A request whose leaf could not be appended after its other writes committed into the
 * batch: the whole transaction must be undone (req_run's caller re-runs the others). */
#define REQ_POISONED 1

/* Runs one request inside parent: in a nested transaction when it writes, so that a
 * failure undoes exactly its own writes. Its LOG-APPEND operations run last, in parent
 * itself, once the nested transaction committed: the log's pages are then copied into a
 * nested transaction by no request, and dirtied once per batch instead of once per
 * request (an append cannot fail for the request's own reasons, only for lack of space
 * or a damaged log). Returns its status, or REQ_POISONED when such an append failed. */
static int req_run(sd_store_t *s, MDB_txn *parent, sd_store_req_t *req)
{
	MDB_txn *txn = parent;
	bool appends = false;
	size_t written = s->n_written; /* what this request notes goes with its transaction */
	int r = 0, rc;

	store_req_results_clear(req);
	if (req->refused)
		return req_fail(req, req->refused_op, SD_ERR_REFUSED, 0, "%s", req->refusal);
	if (req->writes && (rc = mdb_txn_begin(s->env, parent, 0, &txn)) != 0)
		return req_fail_mdb(s, req, -1, rc, "mdb_txn_begin (nested)");
	for (size_t i = 0; i < req->n_ops && r == 0; i++) {
		if (req->ops[i].kind == OP_LOG_APPEND)
			appends = true;
		else
			r = op_run(s, txn, req, (long)i);
	}
	if (txn != parent && r != 0) {
		mdb_txn_abort(txn);
		s->n_written = written;
		return r;
	}
	if (txn != parent && (rc = mdb_txn_commit(txn)) != 0) {
		s->n_written = written;
		return req_fail_mdb(s, req, -1, rc, "mdb_txn_commit (nested)");
	}
	for (size_t i = 0; appends && i < req->n_ops && r == 0; i++) {
		if (req->ops[i].kind == OP_LOG_APPEND)
			r = op_run(s, parent, req, (long)i);
	}
	return r != 0 ? REQ_POISONED : r;
}

/* --- Transactions and batches (the store thread) ------------------------------------ */

static void fail_range(sd_store_t *s, sd_store_req_t **reqs, size_t from, size_t to, int rc, const char *what)
{
	for (size_t i = from; i < to; i++) {
		if (reqs[i]->status == 0)
			req_fail_mdb(s, reqs[i], -1, rc, what);
	}
}

/* --- Faults: a failed fsync stops the store, then the process ------------------------ */

static bool store_is_fatal(sd_store_t *s)
{
	pthread_mutex_lock(&s->mu);
	bool fatal = s->fatal;
	pthread_mutex_unlock(&s->mu);
	return fatal;
}

/* The first caller logs the one loud line; from then on nothing is acknowledged. */
static void store_fatal(sd_store_t *s, const char *what, int rc)
{
	pthread_mutex_lock(&s->mu);
	bool first = !s->fatal;
	s->fatal = true;
	pthread_mutex_unlock(&s->mu);
	if (first)
		sd_log(SD_LOG_ERROR,
		       "%s failed: %s; stopping: no write after this can be trusted "
		       "(exiting with status %d; check the disk, then restart)",
		       what, mdb_strerror(rc), SD_STORE_EXIT_FATAL);
}

/* Every request of a batch that a fatal fault reached fails, whatever it did. */
static void fail_fatal(sd_store_req_t **reqs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		reqs[i]->status = 0;
		req_fail(reqs[i], -1, SD_ERR_IO, EIO, "the store stopped after a failed fsync or write");
	}
}

/* On the reply thread, after the fatal batch was answered: the event loop gets half a
 * second to send those answers, then the process ends. */
static void fatal_exit(sd_store_t *s)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += 500000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->mu);
	while (pthread_cond_timedwait(&s->sync_cv, &s->mu, &until) == 0) {
	}
	pthread_mutex_unlock(&s->mu);
	_exit(SD_STORE_EXIT_FATAL);
}

/* --- Growing the map ----------------------------------------------------------------- */

size_t sd_store_map_next(size_t current, uint64_t file_bytes, uint64_t ceiling, uint64_t disk_avail,
                         uint64_t disk_total)
{
	uint64_t reserve = disk_total / 100 > SD_STORE_DISK_RESERVE_MIN ? disk_total / 100 : SD_STORE_DISK_RESERVE_MIN;
	uint64_t step = current > SD_STORE_GROW_MIN ? current : SD_STORE_GROW_MIN;
	uint64_t next = current > UINT64_MAX - step ? UINT64_MAX : current + step;
	uint64_t room = disk_avail > reserve ? disk_avail - reserve : 0;
	uint64_t disk_limit = file_bytes > UINT64_MAX - room ? UINT64_MAX : file_bytes + room;

	if (next > ceiling)
		next = ceiling;
	if (next > disk_limit)
		next = disk_limit;
	if (next > SIZE_MAX)
		next = SIZE_MAX;
	next -= next % SD_STORE_MAPSIZE_MIN;
	return next > current ? (size_t)next : 0;
}

/* The data file's size (at least what LMDB uses), and the file system's free and total
 * bytes (UINT64_MAX and 0 when fstatvfs fails: the ceiling alone then limits). */
static void store_room(sd_store_t *s, uint64_t *file_bytes, uint64_t *avail, uint64_t *total)
{
	MDB_envinfo info;
	MDB_stat st;
	struct stat fst;
	struct statvfs vfs;

	*file_bytes = 0;
	*avail = UINT64_MAX;
	*total = 0;
	if (mdb_env_info(s->env, &info) == 0 && mdb_env_stat(s->env, &st) == 0)
		*file_bytes = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
	if (fstat(s->data_fd, &fst) == 0 && (uint64_t)fst.st_size > *file_bytes)
		*file_bytes = (uint64_t)fst.st_size;
	if (fstatvfs(s->data_fd, &vfs) == 0) {
		*avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
		*total = (uint64_t)vfs.f_blocks * vfs.f_frsize;
	}
}

/* Between transactions (none is active): grows the map one step. False when it cannot,
 * which is logged once until it grows again. */
static bool store_grow(sd_store_t *s)
{
	uint64_t file_bytes, avail, total;
	MDB_envinfo info;
	size_t next, old = s->mapsize;
	int rc;

	if (s->max_bytes <= old)
		goto full;
	store_room(s, &file_bytes, &avail, &total);
	if ((next = sd_store_map_next(old, file_bytes, s->max_bytes, avail, total)) == 0)
		goto full;
	if (pthread_rwlock_trywrlock(&s->map_lock) != 0) {
		sd_log(SD_LOG_INFO, "store: the map is full; it grows once the backup's copy has ended");
		pthread_rwlock_wrlock(&s->map_lock);
	}
	rc = mdb_env_set_mapsize(s->env, next);
	pthread_rwlock_unlock(&s->map_lock);
	if (rc != 0) {
		/* LMDB unmapped the file before it failed to map it again: nothing can run. */
		store_fatal(s, "growing the store's map", rc);
		return false;
	}
	if (mdb_env_info(s->env, &info) == 0)
		s->mapsize = info.me_mapsize;
	s->counters.grown++;
	s->full_logged = false;
	sd_log(SD_LOG_INFO, "store: the map grew from %zu to %zu bytes (data file %llu bytes, store_max_bytes %llu)",
	       old, s->mapsize, (unsigned long long)file_bytes, (unsigned long long)s->max_bytes);
	return s->mapsize > old;
full:
	if (!s->full_logged && s->max_bytes == 0)
		sd_log(SD_LOG_WARN, "store is full: its map of %zu bytes is fixed here; writes are refused", old);
	else if (!s->full_logged)
		sd_log(SD_LOG_WARN,
		       "store is full: its map of %zu bytes cannot grow (store_max_bytes %llu; the file system "
		       "keeps a reserve of 1%% of its size, 64 MiB at least); writes are refused with 507",
		       old, (unsigned long long)s->max_bytes);
	s->full_logged = true;
	return false;
}

/* --- Running batches ------------------------------------------------------------------ */

static size_t txn_run(sd_store_t *s, sd_store_req_t **reqs, size_t from, size_t n);

/* After a commit failed for lack of space, each request gets a transaction of its own:
 * only those that do not fit alone fail. */
static void txn_split(sd_store_t *s, sd_store_req_t **reqs, size_t from, size_t to)
{
	s->counters.splits++;
	for (size_t i = from; i < to; i++)
		(void)txn_run(s, reqs, i, i + 1);
}

static void txn_count(sd_store_t *s, size_t n)
{
	s->counters.batches++;
	if (n > s->counters.largest_batch)
		s->counters.largest_batch = n;
}

/* Whether a trim is due: STORE_TRIM_BYTES moved, or a scan ran and either nothing waits
 * (start-up's scans, then a pause) or the last trim is a second old (a server busy
 * listing cases would otherwise remap after every batch). */
static bool trim_due(sd_store_t *s, sd_store_req_t **reqs, size_t n)
{
	struct timespec now;
	bool idle;

	for (size_t i = 0; i < n; i++)
		s->touched_since_trim += reqs[i]->in.len + reqs[i]->out.len;
	if (s->touched_since_trim >= STORE_TRIM_BYTES)
		return true;
	if (!s->scanned)
		return false;
	pthread_mutex_lock(&s->mu);
	idle = s->head == NULL;
	pthread_mutex_unlock(&s->mu);
	if (idle)
		return true;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec - s->trimmed.tv_sec > 1 ||
	       (now.tv_sec - s->trimmed.tv_sec == 1 && now.tv_nsec >= s->trimmed.tv_nsec);
}

/* After a batch that moved many bytes or scanned, gives LMDB's pages back (trim_due):
 * LMDB maps the file again at the same size, which drops every page from the process —
 * its API does not say where the map is, so it cannot be madvise'd — between
 * transactions, as store_grow does. Not while a backup's copy reads the map: the next
 * batch tries again. */
static void store_trim(sd_store_t *s, sd_store_req_t **reqs, size_t n)
{
	int rc;

	if (!trim_due(s, reqs, n) || store_is_fatal(s) || pthread_rwlock_trywrlock(&s->map_lock) != 0)
		return;
	rc = mdb_env_set_mapsize(s->env, s->mapsize);
	pthread_rwlock_unlock(&s->map_lock);
	s->touched_since_trim = 0;
	s->scanned = false;
	clock_gettime(CLOCK_MONOTONIC, &s->trimmed);
	if (rc != 0) /* the file is no longer mapped: nothing can run */
		store_fatal(s, "mapping the store again", rc);
}

/* Commits the transaction of reqs[from..to): a full map makes it grow and the caller
 * run them again (returns from); a full disk runs each alone; an I/O error is fatal. */
static size_t txn_commit(sd_store_t *s, MDB_txn *txn, sd_store_req_t **reqs, size_t from, size_t to, size_t written)
{
	int rc = mdb_txn_commit(txn);

	if (rc == 0) {
		s->counters.commits++;
		if (s->n_sizes < s->batch_max)
			s->commit_sizes[s->n_sizes++] = to - from;
		return to;
	}
	s->n_written = written; /* nothing of it was written: LMDB may give those pages out again */
	if (rc == MDB_MAP_FULL && store_grow(s))
		return from;
	if (mdb_is_space(rc) && to - from > 1)
		txn_split(s, reqs, from, to);
	else if (mdb_is_fatal(rc)) {
		store_fatal(s, "fsync or write of the store (in a commit)", rc);
		fail_range(s, reqs, from, to, rc, "mdb_txn_commit");
	} else
		fail_range(s, reqs, from, to, rc, "mdb_txn_commit");
	return to;
}

/* Runs reqs[from..n) in one write transaction and commits it durably. Stops early when a
 * request runs out of space after earlier ones wrote: it starts the next transaction.
 * Returns the index of the first request not settled here (from again after the map grew). */
static size_t txn_run(sd_store_t *s, sd_store_req_t **reqs, size_t from, size_t n)
{
	MDB_txn *txn;
	bool wrote = false;
	size_t i, written = s->n_written;
	int rc = mdb_txn_begin(s->env, NULL, 0, &txn);

	if (rc != 0) {
		if (mdb_is_fatal(rc))
			store_fatal(s, "a transaction of the store (LMDB gave up after a failed write)", rc);
		fail_range(s, reqs, from, n, rc, "mdb_txn_begin");
		return n;
	}
	for (i = from; i < n; i++) {
		int r = req_run(s, txn, reqs[i]);
		bool map_full = reqs[i]->mdb_rc == MDB_MAP_FULL;
		if (r == REQ_POISONED || (r != 0 && map_full && !wrote)) {
			/* Undo the batch; with a larger map, all of it runs again. Otherwise, alone,
			 * the request fails (its status says why), and those before it run again. */
			mdb_txn_abort(txn);
			s->n_written = written;
			txn_count(s, i + 1 - from);
			if (map_full && store_grow(s))
				return from;
			if (r == REQ_POISONED && i > from)
				txn_split(s, reqs, from, i + 1);
			return i + 1;
		}
		if (r != 0 && wrote && mdb_is_space(reqs[i]->mdb_rc))
			break;
		wrote = wrote || (r == 0 && reqs[i]->writes);
	}
	txn_count(s, i - from);
	if (!wrote) {
		mdb_txn_abort(txn);
		s->n_written = written;
		return i;
	}
	return txn_commit(s, txn, reqs, from, i, written);
}

static int written_cmp(const void *a, const void *b)
{
	const struct written *x = a, *y = b;

	return (x->off > y->off) - (x->off < y->off);
}

/* Once durable, a large chunk's pages are of no use in the page cache: a chunk is read
 * again only when an officer fetches the case. Handing those clean pages back lets the
 * next writes reuse them, where new ones cost a first touch (on a virtual machine that
 * returns free memory to its host, a fault to the host per page: docs/BENCHMARKS.md,
 * session 9), and keeps them from pushing the B-tree pages out of the cache. Only ranges
 * of committed transactions are here (those of undone ones are forgotten: LMDB gives
 * their pages out again). Advice only: the kernel keeps a page that is dirty or mapped,
 * and one dropped is read back from the disk when needed, so nothing can be lost.
 * Adjacent ranges, as LMDB often allocates them, go in one call. */
static void store_drop_written(sd_store_t *s)
{
	size_t i = 0;

	if (s->n_written == 0)
		return;
	qsort(s->written, s->n_written, sizeof(*s->written), written_cmp);
	while (i < s->n_written) {
		off_t off = s->written[i].off, end = off + s->written[i].len;
		for (i++; i < s->n_written && s->written[i].off <= end; i++)
			if (s->written[i].off + s->written[i].len > end)
				end = s->written[i].off + s->written[i].len;
		(void)posix_fadvise(s->data_fd, off, end - off, POSIX_FADV_DONTNEED);
	}
	s->n_written = 0;
}

static void batch_run(sd_store_t *s, sd_store_req_t **reqs, size_t n)
{
	for (size_t i = 0; i < n;) {
		if (store_is_fatal(s)) {
			fail_fatal(reqs + i, n - i);
			break;
		}
		i = txn_run(s, reqs, i, n);
	}
	store_drop_written(s);
	store_trim(s, reqs, n);
}

/* Publishes the counters, then answers each request; a done callback may free its
 * request, so nothing touches one after its callback. */
static void replies(sd_store_t *s, sd_store_req_t **reqs, size_t n)
{
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < n; i++) {
		s->stats.requests++;
		if (reqs[i]->status != 0)
			s->stats.failed++;
		reqs[i]->queued = false;
		reqs[i]->batch_last = i + 1 == n;
	}
	pthread_mutex_unlock(&s->mu);
	for (size_t i = 0; i < n; i++)
		reqs[i]->done(reqs[i], reqs[i]->ctx);
}

/* With s->mu held: takes up to batch_max requests, or batch_bytes of them (at least one). */
static size_t queue_take(sd_store_t *s)
{
	size_t n = 0, bytes = 0;

	while (s->head != NULL && n < s->batch_max) {
		sd_store_req_t *req = s->head;
		if (n > 0 && req->in.len > s->batch_bytes - bytes)
			break;
		bytes += req->in.len < s->batch_bytes ? req->in.len : s->batch_bytes;
		s->head = req->next;
		req->next = NULL;
		s->batch[n++] = req;
	}
	if (s->head == NULL)
		s->tail = NULL;
	s->queued -= n;
	return n;
}

/* On the reply thread, once a batch is durable: each of its commits, with the time from
 * the store thread taking the batch (sync_t0) to now, into today's histograms. */
static void hist_count(sd_store_t *s, size_t n_sizes)
{
	struct timespec now;
	uint64_t ns = 0;
	sd_date_t today = sd_date_today();

	if (n_sizes == 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec > s->sync_t0.tv_sec || (now.tv_sec == s->sync_t0.tv_sec && now.tv_nsec >= s->sync_t0.tv_nsec))
		ns = (uint64_t)(now.tv_sec - s->sync_t0.tv_sec) * 1000000000u + (uint64_t)now.tv_nsec -
		     (uint64_t)s->sync_t0.tv_nsec;
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < n_sizes; i++)
		sd_commit_daily_observe(&s->hist, today, s->sync_sizes[i], ns);
	pthread_mutex_unlock(&s->mu);
}

/* The reply thread. The environment runs with MDB_NOMETASYNC: a commit writes and
 * fdatasyncs the data pages, then writes the meta page without syncing it (LMDB's
 * guarantee then: a crash may undo that last commit, never corrupt the database). Here the
 * meta page is made durable — one fdatasync — before any request of the batch is
 * answered, while the store thread already runs the next batch: its page writes and its
 * data sync overlap this sync. Batches are answered in order, so a read answered after
 * a write never saw data that was not yet on disk. The sync goes through data_fd, not
 * LMDB's descriptor: Linux reports a failed write-back once per open file, so an error
 * the store thread's commit consumed is still reported here. Once the store is fatal,
 * the batch is answered with errors and the process ends (fatal_exit). */
static void *sync_main(void *arg)
{
	sd_store_t *s = arg;

	for (;;) {
		pthread_mutex_lock(&s->mu);
		while (!s->sync_busy && !s->sync_stopping)
			pthread_cond_wait(&s->sync_cv, &s->mu);
		if (!s->sync_busy) {
			pthread_mutex_unlock(&s->mu);
			return NULL;
		}
		size_t n = s->sync_n, n_sizes = s->sync_n_sizes;
		bool wrote = s->sync_wrote;
		pthread_mutex_unlock(&s->mu);
		if (wrote && fdatasync(s->data_fd) != 0)
			store_fatal(s, "fsync of the store", errno);
		bool fatal = store_is_fatal(s);
		if (fatal)
			fail_fatal(s->sync_batch, n);
		else
			hist_count(s, n_sizes);
		replies(s, s->sync_batch, n);
		if (fatal)
			fatal_exit(s);
		pthread_mutex_lock(&s->mu);
		s->sync_busy = false;
		pthread_cond_broadcast(&s->sync_cv);
		pthread_mutex_unlock(&s->mu);
	}
}

/* Hands a run batch to the reply thread, once it has answered the previous one. */
static void sync_handoff(sd_store_t *s, size_t n, bool wrote)
{
	pthread_mutex_lock(&s->mu);
	/* The store thread's counters, published as soon as the batch ran. */
	s->stats.commits = s->counters.commits;
	s->stats.batches = s->counters.batches;
	s->stats.largest_batch = s->counters.largest_batch;
	s->stats.splits = s->counters.splits;
	s->stats.grown = s->counters.grown;
	while (s->sync_busy)
		pthread_cond_wait(&s->sync_cv, &s->mu);
	memcpy(s->sync_batch, s->batch, n * sizeof(*s->batch));
	memcpy(s->sync_sizes, s->commit_sizes, s->n_sizes * sizeof(*s->commit_sizes));
	s->sync_n_sizes = s->n_sizes;
	s->sync_t0 = s->batch_t0;
	s->n_sizes = 0;
	s->sync_n = n;
	s->sync_wrote = wrote;
	s->sync_busy = true;
	pthread_cond_broadcast(&s->sync_cv);
	pthread_mutex_unlock(&s->mu);
}

static void *store_main(void *arg)
{
	sd_store_t *s = arg;

	for (;;) {
		pthread_mutex_lock(&s->mu);
		while (s->head == NULL && !s->stopping)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->head == NULL) {
			pthread_mutex_unlock(&s->mu);
			return NULL;
		}
		size_t n = queue_take(s);
		pthread_mutex_unlock(&s->mu);
		clock_gettime(CLOCK_MONOTONIC, &s->batch_t0);
		uint64_t commits = s->counters.commits;
		batch_run(s, s->batch, n);
		sync_handoff(s, n, s->counters.commits != commits);
	}
}

/* --- Submitting --------------------------------------------------------------------- */

static int submit(sd_store_t *store, sd_store_req_t *req, sd_store_done_fn done, void *ctx, bool held)
{
	int r = 0;

	if (store == NULL || req == NULL || done == NULL)
		return sd_error(SD_ERR_USAGE, "sd_store_submit: store, request and callback are required");
	if (req->build_err != 0)
		return sd_error(req->build_err, "%s", req->detail);
	if (req->n_ops == 0)
		return sd_error(SD_ERR_USAGE, "store request has no operations");
	if (store->remote != NULL)
		return store_remote_submit(store->remote, req, done, ctx, held);
	pthread_mutex_lock(&store->mu);
	if (req->queued)
		r = sd_error(SD_ERR_USAGE, "store request is already submitted");
	else if (store->stopping)
		r = sd_error(SD_ERR_REFUSED, "store is closing");
	else if (store->queued >= store->queue_max)
		r = sd_error(SD_ERR_REFUSED, "store queue is full (%zu requests waiting)", store->queued);
	if (r == 0) {
		req->queued = true;
		req->done = done;
		req->ctx = ctx;
		req->next = NULL;
		if (store->tail != NULL)
			store->tail->next = req;
		else
			store->head = req;
		store->tail = req;
		store->queued++;
		pthread_cond_signal(&store->cv);
	}
	pthread_mutex_unlock(&store->mu);
	return r;
}

int sd_store_submit(sd_store_t *store, sd_store_req_t *req, sd_store_done_fn done, void *ctx)
{
	return submit(store, req, done, ctx, false);
}

int sd_store_submit_held(sd_store_t *store, sd_store_req_t *req, sd_store_done_fn done, void *ctx)
{
	return submit(store, req, done, ctx, true);
}

void sd_store_flush(sd_store_t *store)
{
	if (store != NULL && store->remote != NULL)
		store_remote_flush(store->remote);
}

struct call_wait {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
};

/* Signals with the lock held: the waiter may return, and its stack go, once we unlock. */
static void call_done(sd_store_req_t *req, void *ctx)
{
	struct call_wait *w = ctx;

	(void)req;
	pthread_mutex_lock(&w->mu);
	w->done = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

int sd_store_call(sd_store_t *store, sd_store_req_t *req)
{
	struct call_wait w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .done = false};
	int r;

	if (store != NULL && ((store->started && (pthread_equal(pthread_self(), store->thread) ||
	                                          pthread_equal(pthread_self(), store->sync_thread))) ||
	                      (store->remote != NULL && store_remote_is_reader(store->remote))))
		return sd_error(SD_ERR_USAGE, "sd_store_call from the store thread would wait forever");
	if ((r = sd_store_submit(store, req, call_done, &w)) != 0)
		return r;
	pthread_mutex_lock(&w.mu);
	while (!w.done)
		pthread_cond_wait(&w.cv, &w.mu);
	pthread_mutex_unlock(&w.mu);
	pthread_cond_destroy(&w.cv);
	pthread_mutex_destroy(&w.mu);
	if (req->status != 0)
		return sd_error(req->status, "%s", req->detail);
	return 0;
}

/* With store->mu held: the counters, and the histograms of the days before `today` (or
 * the store's own today, when that is later: a clock never publishes a day early). */
static void stats_locked(sd_store_t *store, sd_date_t today, sd_store_stats_t *out)
{
	sd_date_t own = sd_date_today();

	(void)sd_commit_daily_roll(&store->hist, sd_date_cmp(today, own) > 0 ? today : own);
	*out = store->stats;
	out->has_hist = true;
	out->hist_day = store->hist.day;
	out->hist = store->hist.published;
}

void sd_store_stats(sd_store_t *store, sd_store_stats_t *out)
{
	if (store->remote != NULL) {
		store_remote_stats(store->remote, out);
		return;
	}
	pthread_mutex_lock(&store->mu);
	stats_locked(store, sd_date_today(), out);
	pthread_mutex_unlock(&store->mu);
}

int sd_store_stats_fetch(sd_store_t *store, sd_date_t today, sd_store_stats_t *out)
{
	if (store == NULL)
		return sd_error(SD_ERR_USAGE, "sd_store_stats_fetch: no store");
	if (store->remote != NULL)
		return store_remote_stats_call(store->remote, today, out);
	pthread_mutex_lock(&store->mu);
	stats_locked(store, today, out);
	pthread_mutex_unlock(&store->mu);
	return 0;
}

/* --- Opening and closing ------------------------------------------------------------ */

static int opts_apply(sd_store_t *s, const sd_store_opts_t *opts, size_t *mapsize)
{
	sd_store_opts_t o = opts != NULL ? *opts : (sd_store_opts_t){0};
	long page = sysconf(_SC_PAGESIZE);

	/* Growing: start from the smallest map; LMDB raises it to what the data uses, and
	 * sd_store_open then grows it one step. */
	*mapsize = o.mapsize ? o.mapsize : o.max_bytes ? SD_STORE_MAPSIZE_MIN : SD_STORE_MAPSIZE_DEFAULT;
	if (*mapsize < SD_STORE_MAPSIZE_MIN)
		return sd_error(SD_ERR_USAGE, "store map size %zu is below the minimum of %zu bytes", *mapsize,
		                SD_STORE_MAPSIZE_MIN);
	if (o.max_bytes != 0 && o.max_bytes < SD_STORE_MAPSIZE_MIN)
		return sd_error(SD_ERR_USAGE, "store_max_bytes %llu is below the minimum of %zu bytes",
		                (unsigned long long)o.max_bytes, SD_STORE_MAPSIZE_MIN);
	if (page > 0 && *mapsize % (size_t)page != 0)
		*mapsize += (size_t)page - *mapsize % (size_t)page;
	s->max_bytes = o.max_bytes;
	s->batch_max = o.batch_max ? o.batch_max : SD_STORE_BATCH_MAX_DEFAULT;
	s->batch_bytes = o.batch_bytes ? o.batch_bytes : SD_STORE_BATCH_BYTES_DEFAULT;
	s->queue_max = o.queue_max ? o.queue_max : SD_STORE_QUEUE_MAX_DEFAULT;
	s->batch = calloc(s->batch_max, sizeof(*s->batch));
	s->sync_batch = calloc(s->batch_max, sizeof(*s->sync_batch));
	s->commit_sizes = calloc(s->batch_max, sizeof(*s->commit_sizes));
	s->sync_sizes = calloc(s->batch_max, sizeof(*s->sync_sizes));
	return s->batch == NULL || s->sync_batch == NULL || s->commit_sizes == NULL || s->sync_sizes == NULL
	               ? sd_error(SD_ERR_NOMEM, "out of memory opening the store")
	               : 0;
}

/* DIR/store exists as a directory (created 0700), and no other store holds its lock. */
/* flock, waiting up to LOCK_WAIT_MS for a holder to go: a server restarted at once after
 * kill -9 may find the old store process still on its way out (it ends when its socket
 * closes, or is being torn down). 0, or -1 with errno (EWOULDBLOCK: still held). */
#define LOCK_WAIT_MS 5000

static int lock_wait(int fd)
{
	struct timespec tick = {.tv_sec = 0, .tv_nsec = 50 * 1000 * 1000};

	for (unsigned waited = 0;; waited += 50) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK || waited >= LOCK_WAIT_MS)
			return -1;
		nanosleep(&tick, NULL);
	}
}

static int store_dir_lock(sd_store_t *s, const char *path)
{
	char lock[PATH_MAX];
	struct stat st;

	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return sd_error(SD_ERR_IO, "cannot create the store directory %s: %s", path, strerror(errno));
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return sd_error(SD_ERR_IO, "%s is not a directory", path);
	if ((size_t)snprintf(lock, sizeof(lock), "%s/%s", path, SD_STORE_LOCK_FILE) >= sizeof(lock))
		return sd_error(SD_ERR_USAGE, "store path %s is too long", path);
	s->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (s->lock_fd < 0)
		return sd_error(SD_ERR_IO, "cannot open %s: %s", lock, strerror(errno));
	if (lock_wait(s->lock_fd) != 0)
		return errno == EWOULDBLOCK ? sd_error(SD_ERR_REFUSED,
		                                       "the store in %s is in use by another sealdropd "
		                                       "(or is already open in this process)",
		                                       path)
		                            : sd_error(SD_ERR_IO, "cannot lock %s: %s", lock, strerror(errno));
	return 0;
}

/* LMDB fsyncs its files but not the directories naming them: without this, a power
 * loss soon after the first open could lose data.mdb's directory entry. */
static int dir_sync(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = fd >= 0 && fsync(fd) == 0 ? 0 : sd_error(SD_ERR_IO, "cannot fsync %s: %s", path, strerror(errno));

	if (fd >= 0)
		close(fd);
	return r;
}

/* LMDB's verdict on a file that is not a usable LMDB environment. */
static bool mdb_is_damage(int rc)
{
	return rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH || rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND ||
	       rc == MDB_INCOMPATIBLE;
}

static int env_fail(const char *what, const char *path, int rc)
{
	if (mdb_is_damage(rc))
		return sd_error(SD_ERR_FORMAT, "%s/data.mdb is not a readable LMDB store: %s: %s", path, what,
		                mdb_strerror(rc));
	return sd_error(mdb_to_sd(rc), "store %s: %s: %s", path, what, mdb_strerror(rc));
}

/* data.mdb must hold every page its meta page names: LMDB reads them through its map,
 * and a page past the end of the file would be a SIGBUS, not an error. */
static int env_check_size(sd_store_t *s, const char *path)
{
	MDB_envinfo info;
	MDB_stat st;
	struct stat fst;
	int rc;

	if ((rc = mdb_env_info(s->env, &info)) != 0 || (rc = mdb_env_stat(s->env, &st)) != 0)
		return env_fail("mdb_env_info", path, rc);
	if (fstat(s->data_fd, &fst) != 0)
		return sd_error(SD_ERR_IO, "cannot stat %s/data.mdb: %s", path, strerror(errno));
	uint64_t need = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
	if ((uint64_t)fst.st_size < need)
		return sd_error(SD_ERR_FORMAT,
		                "%s/data.mdb is truncated: it has %llu bytes, and its meta page says its data "
		                "runs to %llu",
		                path, (unsigned long long)fst.st_size, (unsigned long long)need);
	return 0;
}

/* Durable: no MDB_NOSYNC, MDB_MAPASYNC or MDB_WRITEMAP (the last would also rule out
 * nested transactions). MDB_NOMETASYNC defers only the meta page's sync, which the reply
 * thread does before answering (sync_main). MDB_NOTLS ties reader slots to
 * transactions rather than threads, so a later read-only path may run elsewhere. */
static int env_open(sd_store_t *s, const char *path, size_t mapsize)
{
	char data[PATH_MAX];
	struct stat fst;
	int maxkey, rc = mdb_env_create(&s->env);

	if (rc != 0)
		return env_fail("mdb_env_create", path, rc);
	if ((rc = mdb_env_set_maxdbs(s->env, SD_STORE_DB_COUNT)) != 0)
		return env_fail("mdb_env_set_maxdbs", path, rc);
	if ((rc = mdb_env_set_mapsize(s->env, mapsize)) != 0)
		return env_fail("mdb_env_set_mapsize", path, rc);
	if ((size_t)snprintf(data, sizeof(data), "%s/data.mdb", path) >= sizeof(data))
		return sd_error(SD_ERR_USAGE, "store path %s is too long", path);
	/* LMDB would take an empty file for a new store: a store truncated to nothing
	 * would come back empty, its cases and audit log gone without a word. */
	if (stat(data, &fst) == 0 && fst.st_size == 0)
		return sd_error(SD_ERR_FORMAT,
		                "%s is empty (0 bytes): truncated? Restore a backup, or remove it "
		                "to start a new store",
		                data);
	if ((rc = mdb_env_open(s->env, path, MDB_NOTLS | MDB_NOMETASYNC, 0600)) != 0)
		return env_fail("mdb_env_open", path, rc);
	if ((s->data_fd = open(data, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return sd_error(SD_ERR_IO, "cannot open %s: %s", data, strerror(errno));
	if ((rc = env_check_size(s, path)) != 0)
		return rc;
	MDB_envinfo info;
	MDB_stat st;
	if ((rc = mdb_env_info(s->env, &info)) != 0 || (rc = mdb_env_stat(s->env, &st)) != 0)
		return env_fail("mdb_env_info", path, rc);
	s->mapsize = info.me_mapsize;
	s->psize = st.ms_psize;
	maxkey = mdb_env_get_maxkeysize(s->env);
	if (maxkey < SD_STORE_KEY_MAX)
		return sd_error(SD_ERR_INTERNAL, "this LMDB allows keys of %d bytes only, fewer than %d", maxkey,
		                SD_STORE_KEY_MAX);
	return 0;
}

/* --- Is it ours? The format marker ---------------------------------------------------- */

static int db_index(const MDB_val *name)
{
	for (int i = 0; i < SD_STORE_DB_COUNT; i++)
		if (name->mv_size == strlen(db_names[i]) && sd_equal(name->mv_data, db_names[i], name->mv_size))
			return i;
	return -1;
}

static int not_ours(const char *path, const char *why, const MDB_val *name)
{
	char text[64] = "", shown[64];

	if (name != NULL) {
		size_t n = name->mv_size < sizeof(text) - 1 ? name->mv_size : sizeof(text) - 1;
		memcpy(text, name->mv_data, n);
		text[n] = '\0';
		for (size_t i = 0; i < n; i++)
			if (text[i] == '\0')
				text[i] = '?';
	}
	return sd_error(SD_ERR_CONFIG,
	                "%s/data.mdb is not a sealdropd store (%s%s%s); move it away, or point dir at "
	                "the right directory",
	                path, why, name != NULL ? " " : "", name != NULL ? sd_error_printable(text, shown, 40) : "");
}

/* The main database lists the named ones: a store of ours has only names of
 * SD_STORE_DBS, "meta" among them, or none at all (*fresh). */
static int store_names(MDB_txn *txn, const char *path, bool *fresh)
{
	MDB_dbi main_db;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	bool meta = false;
	size_t n = 0;
	int rc, r = 0;

	if ((rc = mdb_dbi_open(txn, NULL, 0, &main_db)) != 0 || (rc = mdb_cursor_open(txn, main_db, &cur)) != 0)
		return env_fail("mdb_dbi_open", path, rc);
	while (r == 0 && (rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
		int i = db_index(&k);
		if (i < 0)
			r = not_ours(path, "it holds a database sealdropd does not use:", &k);
		meta = meta || i == SD_STORE_DB_META;
		n++;
	}
	mdb_cursor_close(cur);
	if (r != 0)
		return r;
	if (rc != MDB_NOTFOUND)
		return env_fail("mdb_cursor_get", path, rc);
	if (n > 0 && !meta)
		return not_ours(path, "it has no 'meta' database", NULL);
	*fresh = n == 0;
	return 0;
}

/* Checks meta "format": 0 when it is ours at SD_STORE_FORMAT_VERSION, 1 when missing. */
static int format_check(MDB_txn *txn, MDB_dbi meta, const char *path)
{
	MDB_val k = {strlen(SD_STORE_FORMAT_KEY), (void *)SD_STORE_FORMAT_KEY}, v;
	const size_t name_len = strlen(SD_STORE_FORMAT_NAME);
	char text[32];
	unsigned long version = 0;
	int rc = mdb_get(txn, meta, &k, &v);

	if (rc == MDB_NOTFOUND)
		return 1;
	if (rc != 0)
		return env_fail("mdb_get (format)", path, rc);
	if (v.mv_size <= name_len + 1 || v.mv_size >= sizeof(text) ||
	    !sd_equal(v.mv_data, SD_STORE_FORMAT_NAME " ", name_len + 1))
		return not_ours(path, "its format marker is not sealdropd's", NULL);
	memcpy(text, v.mv_data, v.mv_size);
	text[v.mv_size] = '\0';
	for (const char *p = text + name_len + 1; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || version > 1000000)
			return sd_error(SD_ERR_FORMAT, "%s/data.mdb has a damaged format marker", path);
		version = version * 10 + (unsigned long)(*p - '0');
	}
	if (version > SD_STORE_FORMAT_VERSION)
		return sd_error(SD_ERR_VERSION,
		                "%s/data.mdb is a sealdropd store of format %lu, and this sealdropd reads "
		                "format %d only: a newer sealdropd wrote it (run that one, or restore a backup)",
		                path, version, SD_STORE_FORMAT_VERSION);
	if (version < 1)
		return sd_error(SD_ERR_FORMAT, "%s/data.mdb has a damaged format marker (format 0)", path);
	return 0;
}

static int format_mark(MDB_txn *txn, MDB_dbi meta, const char *path)
{
	char text[32];
	int n = snprintf(text, sizeof(text), "%s %d", SD_STORE_FORMAT_NAME, SD_STORE_FORMAT_VERSION);
	MDB_val k = {strlen(SD_STORE_FORMAT_KEY), (void *)SD_STORE_FORMAT_KEY}, v = {(size_t)n, text};
	int rc = mdb_put(txn, meta, &k, &v, 0);

	return rc != 0 ? env_fail("mdb_put (format)", path, rc) : 0;
}

/* Identifies the environment (store_names, format_check), creates the named databases
 * it lacks and writes the format marker when it has none, in one durable transaction.
 * The handles stay valid for the environment's life. */
static int dbs_open(sd_store_t *s, const char *path)
{
	MDB_txn *txn;
	bool fresh = false;
	int r = 0, rc = mdb_txn_begin(s->env, NULL, 0, &txn);

	if (rc != 0)
		return env_fail("mdb_txn_begin", path, rc);
	if ((r = store_names(txn, path, &fresh)) != 0)
		goto out;
	for (size_t i = 0; i < SD_STORE_DB_COUNT && rc == 0; i++)
		rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &s->dbi[i]);
	if (rc != 0) {
		r = mdb_is_damage(rc) ? not_ours(path, "a database name is not a database", NULL)
		                      : env_fail("mdb_dbi_open", path, rc);
		goto out;
	}
	if ((r = format_check(txn, s->dbi[SD_STORE_DB_META], path)) == 1) {
		if (!fresh)
			sd_log(SD_LOG_INFO, "store %s: writing the format marker (%s %d) into a store without one",
			       path, SD_STORE_FORMAT_NAME, SD_STORE_FORMAT_VERSION);
		r = format_mark(txn, s->dbi[SD_STORE_DB_META], path);
	}
	if (r != 0)
		goto out;
	rc = mdb_txn_commit(txn);
	txn = NULL;
	r = rc != 0 ? env_fail("mdb_txn_commit", path, rc) : 0;
out:
	if (txn != NULL)
		mdb_txn_abort(txn);
	return r;
}

/* The store thread blocks every signal, so signals reach the event loop's thread. */
static int thread_start(sd_store_t *s)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&s->sync_thread, NULL, sync_main, s);
	if (rc == 0) {
		s->sync_started = true;
		rc = pthread_create(&s->thread, NULL, store_main, s);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return sd_error(SD_ERR_NOMEM, "cannot start the store thread: %s", strerror(rc));
	s->started = true;
	return 0;
}

/* A store with its locks, no descriptors yet; NULL without memory. */
static sd_store_t *store_new(void)
{
	sd_store_t *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->lock_fd = s->data_fd = -1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	pthread_cond_init(&s->sync_cv, NULL);
	pthread_rwlock_init(&s->map_lock, NULL);
	return s;
}

int sd_store_open(const char *dir, const sd_store_opts_t *opts, sd_store_t **out)
{
	char path[PATH_MAX];
	size_t mapsize;
	sd_store_t *s = NULL;
	int r = SD_ERR_INTERNAL;

	*out = NULL;
	if (dir == NULL || *dir == '\0')
		return sd_error(SD_ERR_USAGE, "store directory is required");
	size_t dl = strlen(dir);
	if ((size_t)snprintf(path, sizeof(path), "%s%s%s", dir, dir[dl - 1] == '/' ? "" : "/", SD_STORE_SUBDIR) >=
	    sizeof(path) - 32)
		return sd_error(SD_ERR_USAGE, "store directory %s is too long", dir);
	if ((s = store_new()) == NULL)
		return sd_error(SD_ERR_NOMEM, "out of memory opening the store");
	if ((r = opts_apply(s, opts, &mapsize)) != 0 || (r = store_dir_lock(s, path)) != 0 ||
	    (r = env_open(s, path, mapsize)) != 0 || (r = dbs_open(s, path)) != 0 || (r = dir_sync(path)) != 0 ||
	    (r = dir_sync(dir)) != 0)
		goto out;
	if (s->max_bytes > s->mapsize)
		(void)store_grow(s); /* one step of room, so the first write need not wait for it */
	if ((r = thread_start(s)) != 0)
		goto out;
	*out = s;
	s = NULL;
	r = 0;
out:
	sd_store_close_(s);
	return r;
}

int sd_store_open_remote(int fd, const sd_store_opts_t *opts, sd_store_t **out)
{
	sd_store_t *s = store_new();
	int r;

	*out = NULL;
	if (s == NULL) {
		close(fd);
		return sd_error(SD_ERR_NOMEM, "out of memory opening the store");
	}
	if ((r = store_remote_new(fd, opts, &s->remote)) < 0) {
		sd_store_close_(s);
		return r;
	}
	*out = s;
	return 0;
}

void sd_store_on_lost(sd_store_t *store, void (*fn)(void *ctx), void *ctx)
{
	if (store->remote != NULL)
		store_remote_on_lost(store->remote, fn, ctx);
}

bool sd_store_is_lost(sd_store_t *store)
{
	return store->remote != NULL && store_remote_is_lost(store->remote);
}

void sd_store_close_(sd_store_t *s)
{
	if (s == NULL)
		return;
	if (s->remote != NULL)
		store_remote_free(s->remote);
	pthread_mutex_lock(&s->mu);
	s->stopping = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	if (s->started)
		pthread_join(s->thread, NULL);
	/* The store thread handed over its last batch: let the reply thread answer it. */
	pthread_mutex_lock(&s->mu);
	s->sync_stopping = true;
	pthread_cond_broadcast(&s->sync_cv);
	pthread_mutex_unlock(&s->mu);
	if (s->sync_started)
		pthread_join(s->sync_thread, NULL);
	if (s->env != NULL)
		mdb_env_close(s->env);
	if (s->data_fd >= 0)
		close(s->data_fd);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	free(s->batch);
	free(s->sync_batch);
	free(s->commit_sizes);
	free(s->written);
	free(s->sync_sizes);
	pthread_cond_destroy(&s->sync_cv);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	pthread_rwlock_destroy(&s->map_lock);
	free(s);
}

/* --- Backup: a compacted copy from one read transaction (server/backup.h) ------------------- */

int sd_store_copy_fd(sd_store_t *store, int fd)
{
	int rc;

	if (store == NULL || store->remote != NULL || store->env == NULL)
		return sd_error(SD_ERR_USAGE, "store: a copy is made by the process that holds the store");
	if (store_is_fatal(store))
		return sd_error(SD_ERR_IO, "store: no copy of a store that failed (see the log)");
	pthread_rwlock_rdlock(&store->map_lock);
	rc = mdb_env_copyfd2(store->env, fd, MDB_CP_COMPACT);
	pthread_rwlock_unlock(&store->map_lock);
	if (rc != 0)
		return sd_error(rc == ENOSPC ? SD_ERR_TOOBIG : SD_ERR_IO, "store: the copy failed: %s",
		                mdb_strerror(rc));
	return 0;
}

int sd_store_backup_ctl(sd_store_t *store, uint8_t kind, int fd, sd_storewire_ctl_reply_t *out)
{
	if (store == NULL || store->remote == NULL)
		return sd_error(SD_ERR_USAGE, "store: a hot backup needs the store process");
	return store_remote_ctl_call(store->remote, kind, fd, out);
}
