/*
 * store_int.h — what server/store.c shares with the files that implement its larger
 * operations (store_log.c: LOG-APPEND), its wire form (store_wire.c: a request and its
 * reply as bytes), the front end's remote store (store_remote.c) and the store process
 * (storeproc.c). Nothing outside the store includes this header: LMDB stays behind store.h.
 */
#ifndef SEALDROP_STORE_INT_H
#define SEALDROP_STORE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <lmdb.h>

#include "sealdrop/store.h"

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
#define OP_KIND_MAX OP_LOG_APPEND

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
	/* The store process's policy refused it (store_wire.c): it runs nothing and is
	 * answered, in its place in the queue, with SD_ERR_REFUSED at operation refused_op. */
	bool refused;
	long refused_op;
	char refusal[SD_STORE_DETAIL_BYTES];
	/* while queued */
	bool queued;
	bool batch_last; /* answered last of its batch: a store process then writes its batch's answers */
	uint64_t seq;    /* a remote store's number for it (store_remote.c) */
	sd_store_req_t *next;
	sd_store_done_fn done;
	void *ctx;
};

/* store.c's helpers for the files above. */
int store_buf_append(struct buf *b, const void *p, size_t len, size_t *off);
int store_arr_grow(void **arr, size_t *cap, size_t n, size_t size);
void store_req_results_clear(sd_store_req_t *req);

/* The store process's policy (server/store_wire.c): a request's operations run in order,
 * so a precondition speaks of the stored value only when no write of the request comes
 * before it. The index of the first write (PUT, DEL, DEL-PREFIX, LOG-APPEND), n_ops if
 * none; and whether a CHECK-EQUAL of uploads[id] comes before it, with the record it
 * compares decoded into *rec. */
size_t store_req_first_write(const sd_store_req_t *req);
struct sd_upload_rec;
bool store_req_checked_upload(const sd_store_req_t *req, const uint8_t *id, struct sd_upload_rec *rec);

/* --- The audit log (store_log.c) --------------------------------------------------------- */

/* The databases the audit log lives in (include/sealdrop/store.h, "The audit log"). */
typedef struct {
	MDB_dbi meta, leaves, nodes, case_events;
} store_log_dbs_t;

#define STORE_LOG_CORRUPT (-30001) /* neither an LMDB code (-30799..-30780) nor an errno */

/* LOG-APPEND inside txn: 0 with *index set; an LMDB error code with *what naming the call
 * that failed; or STORE_LOG_CORRUPT with *what saying what is inconsistent (a size that
 * does not parse, a leaf already present at the size, a missing left sibling). */
int store_log_append(MDB_txn *txn, const store_log_dbs_t *dbs, const MDB_val *leaf, const MDB_val *case_key,
                     uint64_t *index, const char **what);

/* --- The remote store: the front end's half (store_remote.c) ------------------------------ */

struct store_remote;

/* Takes fd (closed by store_remote_free, or here on failure) and starts the reader thread. */
int store_remote_new(int fd, const sd_store_opts_t *opts, struct store_remote **out);
/* held: written at the next store_remote_flush, or sooner: with a later request that is
 * not held, or when the held ones fill a batch (sd_privsep_batch_add). */
int store_remote_submit(struct store_remote *rs, sd_store_req_t *req, sd_store_done_fn done, void *ctx, bool held);
void store_remote_flush(struct store_remote *rs);
bool store_remote_is_reader(struct store_remote *rs);
void store_remote_stats(struct store_remote *rs, sd_store_stats_t *out);
void store_remote_on_lost(struct store_remote *rs, void (*fn)(void *ctx), void *ctx);
bool store_remote_is_lost(struct store_remote *rs);
/* Ends the conversation (shutdown of the write side), waits for every answer, frees. */
void store_remote_free(struct store_remote *rs);

#endif
