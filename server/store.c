/*
 * store.c — sealdropd's store: LMDB behind a message interface, with group commit
 * (include/sealdrop/store.h states the guarantees).
 *
 * Start at store_main(): the one thread that ever touches a transaction takes every
 * queued request (queue_take), runs them in one write transaction, each request inside
 * a nested transaction so that a failing request is rolled back alone (req_run), commits
 * once (txn_run), and answers them all (replies). When a batch runs out of space —
 * the map, or LMDB's dirty-page limit — txn_run commits what came before and starts the
 * failing request afresh, so one large request cannot fail its neighbours.
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
#include <unistd.h>

#include <lmdb.h>

#include "sealdrop/audit.h"
#include "sealdrop/sealdrop.h"
#include "sealdrop/store.h"
#include "store_int.h"

enum op_kind {
	OP_GET = 1,
	OP_PUT,
	OP_DEL,
	OP_CHECK_ABSENT,
	OP_CHECK_EQUAL,
	OP_SCAN,
	OP_DEL_PREFIX,
	OP_CHECK_COUNT,
	OP_LOG_APPEND,
};

#define SCAN_KEYS_ONLY 0x100u /* op flag: a SCAN that returns keys with empty values */

struct buf {
	uint8_t *p;
	size_t len, cap;
};

struct op {
	enum op_kind kind;
	sd_store_db_t db;
	unsigned flags;
	size_t key_off, key_len; /* in req->in; a SCAN's prefix */
	size_t val_off, val_len; /* in req->in; a SCAN's `after` key */
	bool has_after;
	size_t limit;
	/* results */
	bool found, has_value, more;
	size_t out_off, out_len;       /* in req->out */
	size_t first_entry, n_entries; /* in req->entries */
	uint64_t log_index;            /* LOG-APPEND: the leaf's index */
};

struct entry {
	size_t key_off, key_len, val_off, val_len; /* in req->out */
};

struct sd_store_req {
	struct op *ops;
	size_t n_ops, cap_ops;
	struct buf in, out;
	struct entry *entries;
	size_t n_entries, cap_entries;
	bool writes; /* has a PUT or DEL: runs in a nested transaction */
	int build_err;
	int status;
	long failed_op;
	int mdb_rc; /* LMDB's code behind status, to recognise a full map */
	char detail[SD_STORE_DETAIL_BYTES];
	/* while queued */
	bool queued;
	sd_store_req_t *next;
	sd_store_done_fn done;
	void *ctx;
};

struct sd_store {
	MDB_env *env;
	MDB_dbi dbi[SD_STORE_DB_COUNT];
	size_t mapsize; /* as LMDB opened it */
	int lock_fd;
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
};

/* After a batch that moved this many bytes, or ran a scan, the store thread unmaps LMDB's
 * pages from the process (madvise MADV_DONTNEED on the read-only map: the page cache keeps
 * them, nothing is lost): otherwise every page the kernel faulted in around a B-tree page
 * LMDB read stays in the server's resident set — much of a 1 GiB filing, or of a large
 * store scanned at start-up. */
#define STORE_TRIM_BYTES ((size_t)32 << 20)

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

static int buf_append(struct buf *b, const void *p, size_t len, size_t *off)
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

static int grow(void **arr, size_t *cap, size_t n, size_t size)
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

static void req_results_clear(sd_store_req_t *req)
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
	req_results_clear(req);
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
	if (grow((void **)&req->ops, &req->cap_ops, req->n_ops, sizeof(*req->ops)) != 0 ||
	    buf_append(&req->in, key, key_len, &op.key_off) != 0 ||
	    buf_append(&req->in, val, val_len, &op.val_off) != 0)
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

static bool mdb_is_space(int rc)
{
	return rc == MDB_MAP_FULL || rc == MDB_TXN_FULL;
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
		return req_fail(req, op, SD_ERR_TOOBIG, rc, "store is full (map size %zu bytes): raise the map size",
		                s->mapsize);
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
	if (buf_append(&req->out, v->mv_data, v->mv_size, off) != 0)
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

static int op_put(sd_store_t *s, MDB_txn *txn, sd_store_req_t *req, long i)
{
	struct op *op = &req->ops[i];
	MDB_val k = op_key(req, op), v = op_val(req, op);
	unsigned flags = (op->flags & SD_STORE_NOOVERWRITE) ? MDB_NOOVERWRITE : 0;
	int rc = mdb_put(txn, s->dbi[op->db], &k, &v, flags);

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

	if (grow((void **)&req->entries, &req->cap_entries, req->n_entries, sizeof(*req->entries)) != 0)
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
	int r = 0, rc;

	req_results_clear(req);
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
		return r;
	}
	if (txn != parent && (rc = mdb_txn_commit(txn)) != 0)
		return req_fail_mdb(s, req, -1, rc, "mdb_txn_commit (nested)");
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

/* Runs reqs[from..n) in one write transaction and commits it durably. Stops early when a
 * request runs out of space after earlier ones wrote: it starts the next transaction.
 * Returns the index of the first request not settled here. */
static void store_trim(sd_store_t *s, sd_store_req_t **reqs, size_t n)
{
	MDB_envinfo info;

	for (size_t i = 0; i < n; i++)
		s->touched_since_trim += reqs[i]->in.len + reqs[i]->out.len;
	if (s->touched_since_trim < STORE_TRIM_BYTES && !s->scanned)
		return;
	s->touched_since_trim = 0;
	s->scanned = false;
	if (mdb_env_info(s->env, &info) == 0 && info.me_mapaddr != NULL)
		(void)madvise(info.me_mapaddr, info.me_mapsize, MADV_DONTNEED);
}

static size_t txn_run(sd_store_t *s, sd_store_req_t **reqs, size_t from, size_t n)
{
	MDB_txn *txn;
	bool wrote = false;
	size_t i;
	int rc = mdb_txn_begin(s->env, NULL, 0, &txn);

	if (rc != 0) {
		fail_range(s, reqs, from, n, rc, "mdb_txn_begin");
		return n;
	}
	for (i = from; i < n; i++) {
		int r = req_run(s, txn, reqs[i]);
		if (r == REQ_POISONED) {
			/* Undo the batch; alone, the request fails (its status says why), and the
			 * requests before it run again. */
			mdb_txn_abort(txn);
			txn_count(s, i + 1 - from);
			if (i > from)
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
		return i;
	}
	rc = mdb_txn_commit(txn);
	if (rc == 0)
		s->counters.commits++;
	else if (mdb_is_space(rc) && i - from > 1)
		txn_split(s, reqs, from, i);
	else
		fail_range(s, reqs, from, i, rc, "mdb_txn_commit");
	return i;
}

static void batch_run(sd_store_t *s, sd_store_req_t **reqs, size_t n)
{
	for (size_t i = 0; i < n;)
		i = txn_run(s, reqs, i, n);
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

/* The reply thread. The environment runs with MDB_NOMETASYNC: a commit writes and
 * fdatasyncs the data pages, then writes the meta page without syncing it (LMDB's
 * guarantee then: a crash may undo that last commit, never corrupt the database). Here the
 * meta page is made durable — one fdatasync — before any request of the batch is
 * answered, while the store thread already runs the next batch: its page writes and its
 * data sync overlap this sync. Batches are answered in order, so a read answered after
 * a write never saw data that was not yet on disk. */
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
		size_t n = s->sync_n;
		bool wrote = s->sync_wrote;
		pthread_mutex_unlock(&s->mu);
		if (wrote) {
			int rc = mdb_env_sync(s->env, 1);
			for (size_t i = 0; rc != 0 && i < n; i++)
				if (s->sync_batch[i]->status == 0 && s->sync_batch[i]->writes)
					req_fail_mdb(s, s->sync_batch[i], -1, rc, "mdb_env_sync");
		}
		replies(s, s->sync_batch, n);
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
	while (s->sync_busy)
		pthread_cond_wait(&s->sync_cv, &s->mu);
	memcpy(s->sync_batch, s->batch, n * sizeof(*s->batch));
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
		uint64_t commits = s->counters.commits;
		batch_run(s, s->batch, n);
		sync_handoff(s, n, s->counters.commits != commits);
	}
}

/* --- Submitting --------------------------------------------------------------------- */

int sd_store_submit(sd_store_t *store, sd_store_req_t *req, sd_store_done_fn done, void *ctx)
{
	int r = 0;

	if (store == NULL || req == NULL || done == NULL)
		return sd_error(SD_ERR_USAGE, "sd_store_submit: store, request and callback are required");
	if (req->build_err != 0)
		return sd_error(req->build_err, "%s", req->detail);
	if (req->n_ops == 0)
		return sd_error(SD_ERR_USAGE, "store request has no operations");
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

	if (store != NULL && store->started &&
	    (pthread_equal(pthread_self(), store->thread) || pthread_equal(pthread_self(), store->sync_thread)))
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

void sd_store_stats(sd_store_t *store, sd_store_stats_t *out)
{
	pthread_mutex_lock(&store->mu);
	*out = store->stats;
	pthread_mutex_unlock(&store->mu);
}

/* --- Opening and closing ------------------------------------------------------------ */

static int opts_apply(sd_store_t *s, const sd_store_opts_t *opts, size_t *mapsize)
{
	sd_store_opts_t o = opts != NULL ? *opts : (sd_store_opts_t){0};
	long page = sysconf(_SC_PAGESIZE);

	*mapsize = o.mapsize ? o.mapsize : SD_STORE_MAPSIZE_DEFAULT;
	if (*mapsize < SD_STORE_MAPSIZE_MIN)
		return sd_error(SD_ERR_USAGE, "store map size %zu is below the minimum of %zu bytes", *mapsize,
		                SD_STORE_MAPSIZE_MIN);
	if (page > 0 && *mapsize % (size_t)page != 0)
		*mapsize += (size_t)page - *mapsize % (size_t)page;
	s->batch_max = o.batch_max ? o.batch_max : SD_STORE_BATCH_MAX_DEFAULT;
	s->batch_bytes = o.batch_bytes ? o.batch_bytes : SD_STORE_BATCH_BYTES_DEFAULT;
	s->queue_max = o.queue_max ? o.queue_max : SD_STORE_QUEUE_MAX_DEFAULT;
	s->batch = calloc(s->batch_max, sizeof(*s->batch));
	s->sync_batch = calloc(s->batch_max, sizeof(*s->sync_batch));
	return s->batch == NULL || s->sync_batch == NULL ? sd_error(SD_ERR_NOMEM, "out of memory opening the store")
	                                                 : 0;
}

/* DIR/store exists as a directory (created 0700), and no other store holds its lock. */
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
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0)
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

static int env_fail(const char *what, const char *path, int rc)
{
	return sd_error(mdb_to_sd(rc), "store %s: %s: %s", path, what, mdb_strerror(rc));
}

/* Durable: no MDB_NOSYNC, MDB_MAPASYNC or MDB_WRITEMAP (the last would also rule out
 * nested transactions). MDB_NOMETASYNC defers only the meta page's sync, which the reply
 * thread does before answering (sync_main). MDB_NOTLS ties reader slots to
 * transactions rather than threads, so a later read-only path may run elsewhere. */
static int env_open(sd_store_t *s, const char *path, size_t mapsize)
{
	int maxkey, rc = mdb_env_create(&s->env);

	if (rc != 0)
		return env_fail("mdb_env_create", path, rc);
	if ((rc = mdb_env_set_maxdbs(s->env, SD_STORE_DB_COUNT)) != 0)
		return env_fail("mdb_env_set_maxdbs", path, rc);
	if ((rc = mdb_env_set_mapsize(s->env, mapsize)) != 0)
		return env_fail("mdb_env_set_mapsize", path, rc);
	if ((rc = mdb_env_open(s->env, path, MDB_NOTLS | MDB_NOMETASYNC, 0600)) != 0)
		return env_fail("mdb_env_open", path, rc);
	MDB_envinfo info;
	if ((rc = mdb_env_info(s->env, &info)) != 0)
		return env_fail("mdb_env_info", path, rc);
	s->mapsize = info.me_mapsize;
	maxkey = mdb_env_get_maxkeysize(s->env);
	if (maxkey < SD_STORE_KEY_MAX)
		return sd_error(SD_ERR_INTERNAL, "this LMDB allows keys of %d bytes only, fewer than %d", maxkey,
		                SD_STORE_KEY_MAX);
	return 0;
}

/* Creates the named databases once, in one durable transaction; their handles stay
 * valid for the environment's life. */
static int dbs_open(sd_store_t *s, const char *path)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(s->env, NULL, 0, &txn);

	if (rc != 0)
		return env_fail("mdb_txn_begin", path, rc);
	for (size_t i = 0; i < SD_STORE_DB_COUNT && rc == 0; i++)
		rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &s->dbi[i]);
	if (rc != 0) {
		mdb_txn_abort(txn);
		return env_fail("mdb_dbi_open", path, rc);
	}
	rc = mdb_txn_commit(txn);
	return rc != 0 ? env_fail("mdb_txn_commit", path, rc) : 0;
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

int sd_store_open(const char *dir, const sd_store_opts_t *opts, sd_store_t **out)
{
	char path[PATH_MAX];
	size_t mapsize;
	sd_store_t *s = NULL;
	int r = SD_ERR_INTERNAL;

	*out = NULL;
	if (dir == NULL || *dir == '\0')
		return sd_error(SD_ERR_USAGE, "store directory is required");
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, SD_STORE_SUBDIR) >= sizeof(path) - 32)
		return sd_error(SD_ERR_USAGE, "store directory %s is too long", dir);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return sd_error(SD_ERR_NOMEM, "out of memory opening the store");
	s->lock_fd = -1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	pthread_cond_init(&s->sync_cv, NULL);
	if ((r = opts_apply(s, opts, &mapsize)) != 0 || (r = store_dir_lock(s, path)) != 0 ||
	    (r = env_open(s, path, mapsize)) != 0 || (r = dbs_open(s, path)) != 0 || (r = dir_sync(path)) != 0 ||
	    (r = dir_sync(dir)) != 0 || (r = thread_start(s)) != 0)
		goto out;
	*out = s;
	s = NULL;
	r = 0;
out:
	sd_store_close_(s);
	return r;
}

void sd_store_close_(sd_store_t *s)
{
	if (s == NULL)
		return;
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
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	free(s->batch);
	free(s->sync_batch);
	pthread_cond_destroy(&s->sync_cv);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
