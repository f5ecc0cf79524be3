/*
 * storewire.h — a store request and its reply as bytes (server/store_wire.c): what the front
 * end and the store process (server/storeproc.c) exchange inside privsep messages
 * STORE_REQUEST and STORE_REPLY (include/sealdrop/privsep.h), and the store process's
 * policy of what the front end may write where.
 *
 * Little-endian throughout; every decoder takes exactly its bytes (short or left-over bytes
 * are SD_ERR_PROTOCOL) and refuses anything the store's own caps refuse (SD_STORE_KEY_MAX,
 * SD_STORE_OPS_MAX, SD_STORE_REQ_BYTES_MAX, SD_STORE_REPLY_BYTES_MAX, SD_STORE_SCAN_MAX,
 * SD_STORE_COUNT_MAX, SD_AUDIT_LEAF_MAX), an unknown kind or database, a flag a kind does
 * not take, or a field a kind does not use that is not zero.
 *
 * REQUEST  u64 seq | u32 n_ops (1..SD_STORE_OPS_MAX) | n_ops times:
 *            u8 kind (1 GET, 2 PUT, 3 DEL, 4 CHECK-ABSENT, 5 CHECK-EQUAL, 6 SCAN,
 *               7 DEL-PREFIX, 8 CHECK-COUNT, 9 LOG-APPEND) | u8 db | u8 flags (PUT: 1
 *               NOOVERWRITE; SCAN: 2 keys only) | u8 has_after (SCAN) | u32 limit (SCAN,
 *               DEL-PREFIX: 1..SD_STORE_SCAN_MAX; CHECK-COUNT: the count) |
 *            u32 key_len | key (a SCAN's prefix, a LOG-APPEND's case key) |
 *            u32 val_len | val (PUT, CHECK-EQUAL: the value; SCAN: the `after` key;
 *               LOG-APPEND: the leaf)
 * REPLY    u64 seq (the request's) | i32 status (SD_ERR_PROTOCOL..0) | i32 failed_op
 *          (-1..n_ops-1; -1 when status is 0) | u16 detail_len | detail (no NUL, empty when
 *          status is 0) | u32 n_ops (the request's) | n_ops times:
 *            u8 bits (1 found, 2 has a value: GET, PUT; 4 more: SCAN, DEL-PREFIX) |
 *            u64 log_index (LOG-APPEND) | u32 count (SCAN: entries; DEL-PREFIX: deleted) |
 *            u32 value_len | value | SCAN only: count times u32 key_len | key | u32 val_len | val
 *
 * CONTROL  u64 seq | u32 0 (no operations: not a data request) | u8 kind (1 BACKUP-START:
 *          its message carries the backup file's descriptor (SCM_RIGHTS), the store process
 *          copies the store into it on a thread of its own; 2 BACKUP-STATUS). Numbered and
 *          answered in order with the data requests.
 * CTL-REPLY u64 seq | i32 status (SD_ERR_PROTOCOL..0: BACKUP-START refused, e.g. SD_ERR_BUSY
 *          while one runs; the copy's error once it failed) | u8 state (0 none, 1 running,
 *          2 done, 3 failed) | u64 log_size (the leaves when the copy began) | u64 bytes
 * STATS    u64 seq | u32 0 | u8 3 | u32 today (YYYYMMDD, the front end's date: a later date
 *          than the store process's own publishes the day before, for the test clock).
 *          Answered in order like the others, with:
 * STATS-REPLY u64 seq | u32 hist_day (YYYYMMDD: the histograms cover every day before it) |
 *          u64 commits | u64 batches | u64 largest_batch | u64 splits | u64 grown |
 *          u8 9 | 9 times u64 (requests per commit, per bucket: le 1 2 4 .. 128 +Inf) |
 *          u64 sum (requests) | u8 12 | 12 times u64 (latency per bucket: le 0.0005 .. 1 s
 *          +Inf) | u64 sum (nanoseconds). Every bucket's sum fits in a u64, and the
 *          requests' sum is at least their count (a commit carries one request or more).
 */
#ifndef SEALDROP_STOREWIRE_H
#define SEALDROP_STOREWIRE_H

#include <stddef.h>
#include <stdint.h>

#include "sealdrop/error.h"
#include "sealdrop/store.h"

#define SD_STOREWIRE_REQ_HEAD     12 /* seq, n_ops */
#define SD_STOREWIRE_OP_BYTES     16 /* an operation's fixed fields */
#define SD_STOREWIRE_REPLY_HEAD   (8 + 4 + 4 + 2 + (SD_STORE_DETAIL_BYTES - 1) + 4)
#define SD_STOREWIRE_RESULT_BYTES 17      /* an operation's result's fixed fields */
#define SD_STOREWIRE_ENTRIES_MAX  1000000 /* scan entries in one reply (beyond: SD_ERR_TOOBIG) */
#define SD_STOREWIRE_REQ_MAX                                                                                           \
	(SD_STOREWIRE_REQ_HEAD + (size_t)SD_STORE_OPS_MAX * SD_STOREWIRE_OP_BYTES + SD_STORE_REQ_BYTES_MAX)
#define SD_STOREWIRE_REPLY_MAX                                                                                         \
	(SD_STOREWIRE_REPLY_HEAD + (size_t)SD_STORE_OPS_MAX * SD_STOREWIRE_RESULT_BYTES + SD_STORE_REPLY_BYTES_MAX +   \
	 (size_t)SD_STOREWIRE_ENTRIES_MAX * 8)

/* The request's operations as bytes (*out malloc'd). SD_ERR_USAGE for a request that
 * sd_store_submit would refuse (empty, or a builder error). */
int sd_storewire_encode_req(const sd_store_req_t *req, uint64_t seq, uint8_t **out, size_t *len) SD_WUR;
/* A new request built from the bytes with the store's own builders: SD_ERR_PROTOCOL for
 * anything the layout or a builder refuses. */
int sd_storewire_decode_req(const uint8_t *p, size_t len, uint64_t *seq, sd_store_req_t **out) SD_WUR;
/* The answered request's results as bytes. A reply beyond SD_STOREWIRE_REPLY_MAX (only
 * reads can make one: SD_STOREWIRE_ENTRIES_MAX entries) becomes a reply of SD_ERR_TOOBIG. */
int sd_storewire_encode_reply(const sd_store_req_t *req, uint64_t seq, uint8_t **out, size_t *len) SD_WUR;
/* Fills req's results from the reply to it (numbered seq): SD_ERR_PROTOCOL for anything
 * that is not an answer to this request's operations. */
int sd_storewire_decode_reply(const uint8_t *p, size_t len, uint64_t seq, sd_store_req_t *req) SD_WUR;

#define SD_STOREPROC_BACKUP_FD         64 /* where the store process keeps a backup's file */
#define SD_STOREWIRE_CTL_BACKUP_START  1
#define SD_STOREWIRE_CTL_BACKUP_STATUS 2
#define SD_STOREWIRE_CTL_REQ_BYTES     13
#define SD_STOREWIRE_CTL_REPLY_BYTES   29

typedef enum {
	SD_STOREWIRE_BACKUP_NONE = 0,
	SD_STOREWIRE_BACKUP_RUNNING,
	SD_STOREWIRE_BACKUP_DONE,
	SD_STOREWIRE_BACKUP_FAILED,
} sd_storewire_backup_state_t;

typedef struct {
	int status;
	sd_storewire_backup_state_t state;
	uint64_t log_size, bytes;
} sd_storewire_ctl_reply_t;

void sd_storewire_encode_ctl_req(uint64_t seq, uint8_t kind, uint8_t out[SD_STOREWIRE_CTL_REQ_BYTES]);
/* 1 when p is a data request (n_ops is not 0); 0 for a control request of a known kind;
 * SD_ERR_PROTOCOL otherwise. */
int sd_storewire_decode_ctl_req(const uint8_t *p, size_t len, uint64_t *seq, uint8_t *kind) SD_WUR;
void sd_storewire_encode_ctl_reply(uint64_t seq, const sd_storewire_ctl_reply_t *r,
                                   uint8_t out[SD_STOREWIRE_CTL_REPLY_BYTES]);
int sd_storewire_decode_ctl_reply(const uint8_t *p, size_t len, uint64_t seq, sd_storewire_ctl_reply_t *out) SD_WUR;

#define SD_STOREWIRE_CTL_STATS         3
#define SD_STOREWIRE_STATS_REQ_BYTES   17
#define SD_STOREWIRE_STATS_REPLY_BYTES 238
void sd_storewire_encode_stats_req(uint64_t seq, sd_date_t today, uint8_t out[SD_STOREWIRE_STATS_REQ_BYTES]);
/* SD_ERR_PROTOCOL for anything but a STATS request with a real date. */
int sd_storewire_decode_stats_req(const uint8_t *p, size_t len, uint64_t *seq, sd_date_t *today) SD_WUR;
/* st's commits, batches, largest_batch, splits, grown, hist_day and hist. */
void sd_storewire_encode_stats_reply(uint64_t seq, const sd_store_stats_t *st,
                                     uint8_t out[SD_STOREWIRE_STATS_REPLY_BYTES]);
/* Fills those fields of *out (and has_hist), nothing else; SD_ERR_PROTOCOL for a reply
 * that is short, long, to another number, or impossible (above). */
int sd_storewire_decode_stats_reply(const uint8_t *p, size_t len, uint64_t seq, sd_store_stats_t *out) SD_WUR;

/* The store process's policy (server/store_wire.c, policy[]): 0 when every operation is one
 * the front end is allowed; otherwise SD_ERR_REFUSED, the detail naming the operation and
 * the rule, and req marked so that the store answers it SD_ERR_REFUSED, in its turn,
 * without running it. Reads are always allowed. */
int sd_storewire_policy_check(sd_store_req_t *req) SD_WUR;

#endif
