/*
 * store_wire.c — store requests and replies as bytes, and the store process's policy
 * (include/sealdrop/storewire.h has the layouts). Start at sd_storewire_decode_req: the
 * store process trusts nothing the front end sends, so each operation is read field by
 * field and rebuilt with the store's own builders (store.c), which check it again; then
 * policy[] says whether the front end may write there at all.
 *
 * The front end decodes replies just as strictly (sd_storewire_decode_reply): a store
 * process that answers another shape than the request's is treated as compromised.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sealdrop/audit.h"
#include "sealdrop/bytes.h"
#include "sealdrop/retention.h"
#include "sealdrop/sealdrop.h"
#include "sealdrop/storewire.h"
#include "sealdrop/uploads.h"
#include "store_int.h"

#define WHAT           "store message"
#define WIRE_KEYS_ONLY 0x2u /* the SCAN flag on the wire */
#define BIT_FOUND      0x1u
#define BIT_VALUE      0x2u
#define BIT_MORE       0x4u

/* --- Requests -------------------------------------------------------------------------------- */

static size_t req_wire_len(const sd_store_req_t *req)
{
	size_t n = SD_STOREWIRE_REQ_HEAD;

	for (size_t i = 0; i < req->n_ops; i++)
		n += SD_STOREWIRE_OP_BYTES + req->ops[i].key_len + req->ops[i].val_len;
	return n;
}

static uint8_t wire_flags(const struct op *op)
{
	if (op->kind == OP_PUT)
		return (uint8_t)(op->flags & SD_STORE_NOOVERWRITE);
	if (op->kind == OP_SCAN && (op->flags & SCAN_KEYS_ONLY))
		return WIRE_KEYS_ONLY;
	return 0;
}

int sd_storewire_encode_req(const sd_store_req_t *req, uint64_t seq, uint8_t **out, size_t *len)
{
	size_t n;
	uint8_t *buf;
	sd_wr_t w;

	*out = NULL;
	if (req->build_err != 0 || req->n_ops == 0 || req->n_ops > SD_STORE_OPS_MAX)
		return sd_error(SD_ERR_USAGE, "%s: the request cannot be sent (empty, or a builder refused it)", WHAT);
	if ((n = req_wire_len(req)) > SD_STOREWIRE_REQ_MAX)
		return sd_error(SD_ERR_TOOBIG, "%s: a request of %zu bytes", WHAT, n);
	if ((buf = malloc(n)) == NULL)
		return SD_ERR_NOMEM;
	w = sd_wr_init(buf, n);
	sd_wr_u64(&w, seq);
	sd_wr_u32(&w, (uint32_t)req->n_ops);
	for (size_t i = 0; i < req->n_ops; i++) {
		const struct op *op = &req->ops[i];
		sd_wr_u8(&w, (uint8_t)op->kind);
		sd_wr_u8(&w, (uint8_t)op->db);
		sd_wr_u8(&w, wire_flags(op));
		sd_wr_u8(&w, op->has_after ? 1 : 0);
		sd_wr_u32(&w, (uint32_t)(op->kind == OP_SCAN || op->kind == OP_DEL_PREFIX || op->kind == OP_CHECK_COUNT
		                                 ? op->limit
		                                 : 0));
		sd_wr_u32(&w, (uint32_t)op->key_len);
		sd_wr_bytes(&w, req->in.p + op->key_off, op->key_len);
		sd_wr_u32(&w, (uint32_t)op->val_len);
		sd_wr_bytes(&w, req->in.p + op->val_off, op->val_len);
	}
	if (w.failed || w.len != n) {
		free(buf);
		return sd_error(SD_ERR_INTERNAL, "%s: the request's length was miscounted", WHAT);
	}
	*out = buf;
	*len = n;
	return 0;
}

/* One operation's fields, as read. */
struct wire_op {
	uint8_t kind, db, flags, has_after;
	uint32_t limit;
	const uint8_t *key, *val;
	uint32_t key_len, val_len;
};

/* What each kind may carry besides its key: a value, flags, an `after`, a limit. */
static bool wire_op_fits(const struct wire_op *o)
{
	bool val = o->kind == OP_PUT || o->kind == OP_CHECK_EQUAL || o->kind == OP_LOG_APPEND ||
	           (o->kind == OP_SCAN && o->has_after);
	bool limit = o->kind == OP_SCAN || o->kind == OP_DEL_PREFIX || o->kind == OP_CHECK_COUNT;
	unsigned flags = o->kind == OP_PUT ? SD_STORE_NOOVERWRITE : o->kind == OP_SCAN ? WIRE_KEYS_ONLY : 0;

	if (o->kind < OP_GET || o->kind > OP_KIND_MAX || o->db >= SD_STORE_DB_COUNT || (o->flags & ~flags) != 0 ||
	    o->has_after > 1 || (o->has_after && o->kind != OP_SCAN))
		return false;
	if (o->key_len > SD_STORE_KEY_MAX || (!val && o->val_len != 0) || (!limit && o->limit != 0))
		return false;
	return o->kind != OP_LOG_APPEND || o->db == SD_STORE_DB_LOG_LEAVES;
}

static bool wire_op_read(sd_rd_t *r, struct wire_op *o)
{
	o->kind = sd_rd_u8(r);
	o->db = sd_rd_u8(r);
	o->flags = sd_rd_u8(r);
	o->has_after = sd_rd_u8(r);
	o->limit = sd_rd_u32(r);
	o->key_len = sd_rd_u32(r);
	o->key = r->failed || o->key_len > SD_STORE_KEY_MAX ? NULL : sd_rd_take(r, o->key_len);
	o->val_len = sd_rd_u32(r);
	o->val = r->failed || o->val_len > SD_STORE_REQ_BYTES_MAX ? NULL : sd_rd_take(r, o->val_len);
	return !r->failed && o->key != NULL && o->val != NULL && wire_op_fits(o);
}

/* The operation through the store's builder, which checks it once more. */
static int wire_op_build(sd_store_req_t *req, const struct wire_op *o)
{
	sd_store_db_t db = (sd_store_db_t)o->db;
	const uint8_t *after = o->has_after ? o->val : NULL;

	switch ((enum op_kind)o->kind) {
	case OP_GET:
		return sd_store_req_get(req, db, o->key, o->key_len);
	case OP_PUT:
		return sd_store_req_put(req, db, o->key, o->key_len, o->val, o->val_len, o->flags);
	case OP_DEL:
		return sd_store_req_del(req, db, o->key, o->key_len);
	case OP_CHECK_ABSENT:
		return sd_store_req_check_absent(req, db, o->key, o->key_len);
	case OP_CHECK_EQUAL:
		return sd_store_req_check_equal(req, db, o->key, o->key_len, o->val, o->val_len);
	case OP_SCAN:
		return (o->flags & WIRE_KEYS_ONLY)
		               ? sd_store_req_scan_keys(req, db, o->key, o->key_len, after, o->val_len, o->limit)
		               : sd_store_req_scan(req, db, o->key, o->key_len, after, o->val_len, o->limit);
	case OP_DEL_PREFIX:
		return sd_store_req_del_prefix(req, db, o->key, o->key_len, o->limit);
	case OP_CHECK_COUNT:
		return sd_store_req_check_count(req, db, o->key, o->key_len, o->limit);
	case OP_LOG_APPEND:
		return sd_store_req_log_append(req, o->val, o->val_len, o->key_len > 0 ? o->key : NULL, o->key_len);
	}
	return SD_ERR_USAGE;
}

int sd_storewire_decode_req(const uint8_t *p, size_t len, uint64_t *seq, sd_store_req_t **out)
{
	sd_rd_t r = sd_rd_init(p, len);
	sd_store_req_t *req = NULL;
	struct wire_op o;
	uint32_t n;
	int rc = SD_ERR_PROTOCOL;

	*out = NULL;
	*seq = sd_rd_u64(&r);
	n = sd_rd_u32(&r);
	if (r.failed || n == 0 || n > SD_STORE_OPS_MAX)
		return sd_error(SD_ERR_PROTOCOL, "%s: a request of %u operations", WHAT, n);
	if (len > SD_STOREWIRE_REQ_MAX)
		return sd_error(SD_ERR_PROTOCOL, "%s: a request of %zu bytes", WHAT, len);
	if ((req = sd_store_req_new()) == NULL)
		return SD_ERR_NOMEM;
	for (uint32_t i = 0; i < n; i++) {
		if (!wire_op_read(&r, &o)) {
			rc = sd_error(SD_ERR_PROTOCOL, "%s: operation %u is short or out of range", WHAT, i);
			goto out;
		}
		if (wire_op_build(req, &o) < 0) {
			rc = sd_error(SD_ERR_PROTOCOL, "%s: operation %u: %s", WHAT, i, req->detail);
			goto out;
		}
	}
	if (r.off != r.len) {
		rc = sd_error(SD_ERR_PROTOCOL, "%s: %zu bytes left over after the request", WHAT, r.len - r.off);
		goto out;
	}
	*out = req;
	req = NULL;
	rc = 0;
out:
	sd_store_req_free(req);
	return rc;
}

/* --- Replies --------------------------------------------------------------------------------- */

static size_t op_entry_bytes(const sd_store_req_t *req, const struct op *op)
{
	size_t n = 0;

	for (size_t j = 0; op->kind == OP_SCAN && j < op->n_entries; j++) {
		const struct entry *e = &req->entries[op->first_entry + j];
		n += 8 + e->key_len + e->val_len;
	}
	return n;
}

static size_t reply_wire_len(const sd_store_req_t *req, size_t *entries)
{
	size_t n = SD_STOREWIRE_REPLY_HEAD - (SD_STORE_DETAIL_BYTES - 1) + strlen(req->detail);

	*entries = 0;
	for (size_t i = 0; i < req->n_ops; i++) {
		const struct op *op = &req->ops[i];
		n += SD_STOREWIRE_RESULT_BYTES + (op->has_value ? op->out_len : 0) + op_entry_bytes(req, op);
		*entries += op->kind == OP_SCAN ? op->n_entries : 0;
	}
	return n;
}

static void reply_write_op(sd_wr_t *w, const sd_store_req_t *req, const struct op *op, bool blank)
{
	bool counted = op->kind == OP_SCAN || op->kind == OP_DEL_PREFIX;

	if (blank) {
		sd_wr_u8(w, 0);
		sd_wr_u64(w, 0);
		sd_wr_u32(w, 0);
		sd_wr_u32(w, 0);
		return;
	}
	sd_wr_u8(w, (uint8_t)((op->found ? BIT_FOUND : 0) | (op->has_value ? BIT_VALUE : 0) |
	                      (op->more && counted ? BIT_MORE : 0)));
	sd_wr_u64(w, op->kind == OP_LOG_APPEND ? op->log_index : 0);
	sd_wr_u32(w, (uint32_t)(counted ? op->n_entries : 0));
	sd_wr_u32(w, (uint32_t)(op->has_value ? op->out_len : 0));
	if (op->has_value)
		sd_wr_bytes(w, req->out.p + op->out_off, op->out_len);
	for (size_t j = 0; op->kind == OP_SCAN && j < op->n_entries; j++) {
		const struct entry *e = &req->entries[op->first_entry + j];
		sd_wr_u32(w, (uint32_t)e->key_len);
		sd_wr_bytes(w, req->out.p + e->key_off, e->key_len);
		sd_wr_u32(w, (uint32_t)e->val_len);
		sd_wr_bytes(w, req->out.p + e->val_off, e->val_len);
	}
}

int sd_storewire_encode_reply(const sd_store_req_t *req, uint64_t seq, uint8_t **out, size_t *len)
{
	static const char too_big[] = "store reply is larger than a store message may be";
	size_t entries, n = reply_wire_len(req, &entries);
	bool blank = n > SD_STOREWIRE_REPLY_MAX || entries > SD_STOREWIRE_ENTRIES_MAX;
	const char *detail = blank ? too_big : req->detail;
	uint8_t *buf;
	sd_wr_t w;

	*out = NULL;
	if (blank)
		n = SD_STOREWIRE_REPLY_HEAD - (SD_STORE_DETAIL_BYTES - 1) + strlen(too_big) +
		    req->n_ops * SD_STOREWIRE_RESULT_BYTES;
	if ((buf = malloc(n)) == NULL)
		return SD_ERR_NOMEM;
	w = sd_wr_init(buf, n);
	sd_wr_u64(&w, seq);
	sd_wr_u32(&w, (uint32_t)(blank ? SD_ERR_TOOBIG : req->status));
	sd_wr_u32(&w, (uint32_t)(int32_t)(blank || req->status == 0 ? -1 : req->failed_op));
	sd_wr_u16(&w, (uint16_t)strlen(detail));
	sd_wr_bytes(&w, detail, strlen(detail));
	sd_wr_u32(&w, (uint32_t)req->n_ops);
	for (size_t i = 0; i < req->n_ops; i++)
		reply_write_op(&w, req, &req->ops[i], blank);
	if (w.failed || w.len != n) {
		free(buf);
		return sd_error(SD_ERR_INTERNAL, "%s: the reply's length was miscounted", WHAT);
	}
	*out = buf;
	*len = n;
	return 0;
}

/* n bytes from r into req->out (within SD_STORE_REPLY_BYTES_MAX): their offset, or false. */
static bool reply_take(sd_rd_t *r, sd_store_req_t *req, uint32_t n, size_t *off)
{
	const uint8_t *p;

	if (n > SD_STORE_REPLY_BYTES_MAX - req->out.len || (p = sd_rd_take(r, n)) == NULL ||
	    store_buf_append(&req->out, p, n, off) != 0) {
		r->failed = true;
		return false;
	}
	return true;
}

static bool reply_read_entries(sd_rd_t *r, sd_store_req_t *req, struct op *op, uint32_t count)
{
	op->first_entry = req->n_entries;
	for (uint32_t j = 0; j < count; j++) {
		struct entry e;
		uint32_t kl = sd_rd_u32(r), vl;
		if (r->failed || kl == 0 || kl > SD_STORE_KEY_MAX || !reply_take(r, req, kl, &e.key_off))
			return false;
		vl = sd_rd_u32(r);
		if (r->failed || ((op->flags & SCAN_KEYS_ONLY) && vl != 0) || !reply_take(r, req, vl, &e.val_off))
			return false;
		e.key_len = kl;
		e.val_len = vl;
		if (store_arr_grow((void **)&req->entries, &req->cap_entries, req->n_entries, sizeof(e)) != 0)
			return false;
		req->entries[req->n_entries++] = e;
		op->n_entries++;
	}
	return true;
}

/* One operation's result, checked against what its kind can return. */
static bool reply_read_op(sd_rd_t *r, sd_store_req_t *req, struct op *op)
{
	bool counted = op->kind == OP_SCAN || op->kind == OP_DEL_PREFIX;
	bool may_value = op->kind == OP_GET || op->kind == OP_PUT;
	bool may_find = op->kind != OP_SCAN && op->kind != OP_CHECK_COUNT;
	uint8_t bits = sd_rd_u8(r);
	uint64_t index = sd_rd_u64(r);
	uint32_t count = sd_rd_u32(r), vlen = sd_rd_u32(r);

	if (r->failed || (bits & ~(BIT_FOUND | BIT_VALUE | BIT_MORE)) != 0 || ((bits & BIT_FOUND) && !may_find) ||
	    ((bits & BIT_VALUE) && !may_value) || ((bits & BIT_MORE) && !counted) ||
	    (index != 0 && op->kind != OP_LOG_APPEND) || (count != 0 && !counted) || count > op->limit ||
	    (vlen != 0 && !(bits & BIT_VALUE)) || ((bits & BIT_VALUE) && !(bits & BIT_FOUND)))
		return false;
	op->found = bits & BIT_FOUND;
	op->more = bits & BIT_MORE;
	op->log_index = index;
	if ((bits & BIT_VALUE) && !reply_take(r, req, vlen, &op->out_off))
		return false;
	op->has_value = bits & BIT_VALUE;
	op->out_len = vlen;
	if (op->kind == OP_SCAN)
		return reply_read_entries(r, req, op, count);
	op->n_entries = count;
	return true;
}

static bool reply_read_head(sd_rd_t *r, sd_store_req_t *req)
{
	int32_t status = (int32_t)sd_rd_u32(r), failed = (int32_t)sd_rd_u32(r);
	uint16_t dlen = sd_rd_u16(r);
	const uint8_t *detail = r->failed || dlen >= SD_STORE_DETAIL_BYTES ? NULL : sd_rd_take(r, dlen);

	if (detail == NULL || status > 0 || status < SD_ERR_PROTOCOL || failed < -1 || failed >= (long)req->n_ops ||
	    (status == 0 && (failed != -1 || dlen != 0)) || memchr(detail, '\0', dlen) != NULL)
		return false;
	req->status = status;
	req->failed_op = failed;
	memcpy(req->detail, detail, dlen);
	req->detail[dlen] = '\0';
	return sd_rd_u32(r) == req->n_ops && !r->failed;
}

int sd_storewire_decode_reply(const uint8_t *p, size_t len, uint64_t seq, sd_store_req_t *req)
{
	sd_rd_t r = sd_rd_init(p, len);
	uint64_t got = sd_rd_u64(&r);

	store_req_results_clear(req);
	if (r.failed || got != seq)
		return sd_error(SD_ERR_PROTOCOL, "%s: a reply to request %llu, not %llu", WHAT, (unsigned long long)got,
		                (unsigned long long)seq);
	if (len > SD_STOREWIRE_REPLY_MAX || !reply_read_head(&r, req))
		return sd_error(SD_ERR_PROTOCOL, "%s: the reply's status is short or out of range", WHAT);
	for (size_t i = 0; i < req->n_ops; i++)
		if (!reply_read_op(&r, req, &req->ops[i]))
			return sd_error(SD_ERR_PROTOCOL, "%s: the result of operation %zu is short or out of range",
			                WHAT, i);
	if (r.off != r.len)
		return sd_error(SD_ERR_PROTOCOL, "%s: %zu bytes left over after the reply", WHAT, r.len - r.off);
	return 0;
}

/* --- Control requests: the backup ------------------------------------------------------------ */

void sd_storewire_encode_ctl_req(uint64_t seq, uint8_t kind, uint8_t out[SD_STOREWIRE_CTL_REQ_BYTES])
{
	sd_wr_t w = sd_wr_init(out, SD_STOREWIRE_CTL_REQ_BYTES);

	sd_wr_u64(&w, seq);
	sd_wr_u32(&w, 0);
	sd_wr_u8(&w, kind);
}

int sd_storewire_decode_ctl_req(const uint8_t *p, size_t len, uint64_t *seq, uint8_t *kind)
{
	sd_rd_t r = sd_rd_init(p, len);

	*seq = sd_rd_u64(&r);
	if (sd_rd_u32(&r) != 0 || r.failed)
		return 1;
	*kind = sd_rd_u8(&r);
	if (*kind == SD_STOREWIRE_CTL_STATS) { /* its date: sd_storewire_decode_stats_req */
		sd_date_t today;
		if (sd_date_from_u32(sd_rd_u32(&r), &today) < 0)
			r.failed = true;
	}
	if (r.failed || r.off != r.len ||
	    (*kind != SD_STOREWIRE_CTL_BACKUP_START && *kind != SD_STOREWIRE_CTL_BACKUP_STATUS &&
	     *kind != SD_STOREWIRE_CTL_STATS))
		return sd_error(SD_ERR_PROTOCOL, "%s: a control request of %zu bytes, kind %u", WHAT, len, *kind);
	return 0;
}

void sd_storewire_encode_ctl_reply(uint64_t seq, const sd_storewire_ctl_reply_t *c,
                                   uint8_t out[SD_STOREWIRE_CTL_REPLY_BYTES])
{
	sd_wr_t w = sd_wr_init(out, SD_STOREWIRE_CTL_REPLY_BYTES);

	sd_wr_u64(&w, seq);
	sd_wr_u32(&w, (uint32_t)c->status);
	sd_wr_u8(&w, (uint8_t)c->state);
	sd_wr_u64(&w, c->log_size);
	sd_wr_u64(&w, c->bytes);
}

int sd_storewire_decode_ctl_reply(const uint8_t *p, size_t len, uint64_t seq, sd_storewire_ctl_reply_t *out)
{
	sd_rd_t r = sd_rd_init(p, len);
	uint64_t got = sd_rd_u64(&r);
	int32_t status = (int32_t)sd_rd_u32(&r);
	uint8_t state = sd_rd_u8(&r);

	out->log_size = sd_rd_u64(&r);
	out->bytes = sd_rd_u64(&r);
	if (r.failed || r.off != r.len || got != seq || status > 0 || status < SD_ERR_PROTOCOL ||
	    state > SD_STOREWIRE_BACKUP_FAILED)
		return sd_error(SD_ERR_PROTOCOL, "%s: a control reply that is short, long or out of range", WHAT);
	out->status = status;
	out->state = (sd_storewire_backup_state_t)state;
	return 0;
}

/* --- Control requests: the store's statistics ------------------------------------------------ */

void sd_storewire_encode_stats_req(uint64_t seq, sd_date_t today, uint8_t out[SD_STOREWIRE_STATS_REQ_BYTES])
{
	sd_wr_t w = sd_wr_init(out, SD_STOREWIRE_STATS_REQ_BYTES);

	sd_wr_u64(&w, seq);
	sd_wr_u32(&w, 0);
	sd_wr_u8(&w, SD_STOREWIRE_CTL_STATS);
	sd_wr_u32(&w, sd_date_to_u32(today));
}

int sd_storewire_decode_stats_req(const uint8_t *p, size_t len, uint64_t *seq, sd_date_t *today)
{
	sd_rd_t r = sd_rd_init(p, len);
	uint32_t none, day;
	uint8_t kind;

	*seq = sd_rd_u64(&r);
	none = sd_rd_u32(&r);
	kind = sd_rd_u8(&r);
	day = sd_rd_u32(&r);
	if (r.failed || r.off != r.len || none != 0 || kind != SD_STOREWIRE_CTL_STATS ||
	    sd_date_from_u32(day, today) < 0)
		return sd_error(SD_ERR_PROTOCOL, "%s: a statistics request of %zu bytes that does not decode", WHAT,
		                len);
	return 0;
}

static void stats_write_hist(sd_wr_t *w, const sd_hist_t *h, size_t n_buckets)
{
	sd_wr_u8(w, (uint8_t)n_buckets);
	for (size_t i = 0; i < n_buckets; i++)
		sd_wr_u64(w, h->bucket[i]);
	sd_wr_u64(w, h->sum);
}

void sd_storewire_encode_stats_reply(uint64_t seq, const sd_store_stats_t *st,
                                     uint8_t out[SD_STOREWIRE_STATS_REPLY_BYTES])
{
	sd_wr_t w = sd_wr_init(out, SD_STOREWIRE_STATS_REPLY_BYTES);

	sd_wr_u64(&w, seq);
	sd_wr_u32(&w, sd_date_to_u32(st->hist_day));
	sd_wr_u64(&w, st->commits);
	sd_wr_u64(&w, st->batches);
	sd_wr_u64(&w, st->largest_batch);
	sd_wr_u64(&w, st->splits);
	sd_wr_u64(&w, st->grown);
	stats_write_hist(&w, &st->hist.batch, SD_HIST_BATCH_BUCKETS);
	stats_write_hist(&w, &st->hist.latency, SD_HIST_LATENCY_BUCKETS);
}

/* A histogram of n_buckets buckets whose count (their sum) fits in a u64. */
static bool stats_read_hist(sd_rd_t *r, sd_hist_t *h, size_t n_buckets)
{
	uint64_t count = 0;

	memset(h, 0, sizeof(*h));
	if (sd_rd_u8(r) != n_buckets || n_buckets > SD_HIST_BUCKETS_MAX)
		return false;
	for (size_t i = 0; i < n_buckets; i++) {
		h->bucket[i] = sd_rd_u64(r);
		if (h->bucket[i] > UINT64_MAX - count)
			return false;
		count += h->bucket[i];
	}
	h->sum = sd_rd_u64(r);
	return !r->failed;
}

int sd_storewire_decode_stats_reply(const uint8_t *p, size_t len, uint64_t seq, sd_store_stats_t *out)
{
	sd_rd_t r = sd_rd_init(p, len);
	sd_store_stats_t st = *out;
	uint64_t got = sd_rd_u64(&r);
	bool ok = sd_date_from_u32(sd_rd_u32(&r), &st.hist_day) == 0;

	st.commits = sd_rd_u64(&r);
	st.batches = sd_rd_u64(&r);
	st.largest_batch = sd_rd_u64(&r);
	st.splits = sd_rd_u64(&r);
	st.grown = sd_rd_u64(&r);
	ok = ok && stats_read_hist(&r, &st.hist.batch, SD_HIST_BATCH_BUCKETS) &&
	     stats_read_hist(&r, &st.hist.latency, SD_HIST_LATENCY_BUCKETS);
	if (!ok || r.failed || r.off != r.len || got != seq ||
	    st.hist.batch.sum < sd_hist_count(&st.hist.batch, SD_HIST_BATCH_BUCKETS))
		return sd_error(SD_ERR_PROTOCOL, "%s: a statistics reply that is short, long or impossible", WHAT);
	st.has_hist = true;
	*out = st;
	return 0;
}

/* --- The policy: what the front end may write where ------------------------------------------ */

#define W_PUT        0x1u /* PUT, overwriting or not */
#define W_PUT_NEW    0x2u /* PUT with SD_STORE_NOOVERWRITE only: written once, never changed */
#define W_DEL        0x4u
#define W_DEL_PREFIX 0x8u
/* DEL or DEL-PREFIX of an upload's key, in a request that also checks (CHECK-EQUAL) that
 * upload's record to be one that expired: a committed upload's header and chunks are its
 * case's package, and no request of the front end may delete them (upload_gc.c). */
#define W_DEL_EXPIRED 0x10u
/* An overwriting PUT of an upload's record, in a request that also checks its stored
 * record to be open: a commit (open → committed) or an expiry (open → expired), never a
 * committed upload turned back into one that may be deleted. */
#define W_PUT_OPEN 0x20u

/* Derived from every sd_store_req_put / _del / _del_prefix in server/ (every .c): nothing the server
 * does not do. The audit log's databases (and meta "log_size") only LOG-APPEND writes;
 * nothing is ever deleted but an unfinished upload's records and chunks (upload_gc.c), a
 * case's old listing index entries (caserec.c), and a whole case once its retention period
 * has passed, in the one write that logs it (server/retention_policy.c decides; the "never
 * deleted" rules below hold for every other request). Reads are not restricted. */
static const struct {
	unsigned allow;
	const char *rule;
} policy[SD_STORE_DB_COUNT] = {
        [SD_STORE_DB_META] = {W_PUT, "meta is written, never deleted; log_size and format are the store's own"},
        [SD_STORE_DB_UPLOADS] = {W_PUT_NEW | W_PUT_OPEN | W_DEL_EXPIRED,
                                 "an upload's record is created once, rewritten only while it is open, and "
                                 "deleted only once it expired"},
        [SD_STORE_DB_UPLOAD_HEADERS] = {W_PUT_NEW | W_DEL_EXPIRED,
                                        "an upload's header is written once, and deleted only once it expired"},
        [SD_STORE_DB_UPLOAD_DIGESTS] = {W_PUT | W_DEL, "an upload's digest is written and deleted one by one"},
        [SD_STORE_DB_CHUNKS] = {W_PUT_NEW | W_DEL_EXPIRED,
                                "a chunk is written once, and deleted only with its whole upload, once it expired"},
        [SD_STORE_DB_CASES] = {W_PUT, "a case is never deleted"},
        [SD_STORE_DB_CASE_DIGESTS] = {W_PUT, "a case's digest is never deleted"},
        [SD_STORE_DB_ACCOUNT_CASES] = {W_PUT, "an account's case is never deleted"},
        [SD_STORE_DB_RECEIPTS] = {W_PUT_NEW, "a receipt is written once, never changed or deleted"},
        [SD_STORE_DB_ACCOUNTS] = {W_PUT, "an account is never deleted"},
        [SD_STORE_DB_ACCOUNT_NAMES] = {W_PUT_NEW, "an account name is written once, never changed or deleted"},
        [SD_STORE_DB_REVOKED] = {W_PUT, "a revocation is never deleted"},
        [SD_STORE_DB_LOG_LEAVES] = {0, "only LOG-APPEND writes the audit log"},
        [SD_STORE_DB_LOG_NODES] = {0, "only LOG-APPEND writes the audit log"},
        [SD_STORE_DB_LOG_HEADS] = {W_PUT, "a signed tree head is never deleted"},
        [SD_STORE_DB_CASE_EVENTS] = {0, "only LOG-APPEND writes the audit log"},
        [SD_STORE_DB_CASE_TEXTS] = {W_PUT, "a case's text is never deleted"},
        [SD_STORE_DB_NOTICES] = {W_PUT_NEW, "a notice is written once, never changed or deleted"},
        [SD_STORE_DB_CASE_SUMMARIES] = {W_PUT, "a case's summary is never deleted"},
        [SD_STORE_DB_CASE_BY_STATE] = {W_PUT | W_DEL, "listing index entries are written and deleted one by one"},
        [SD_STORE_DB_CASE_BY_DUE] = {W_PUT | W_DEL, "listing index entries are written and deleted one by one"},
        [SD_STORE_DB_CASE_BY_LOCATOR] = {W_PUT, "a case's locator entry is never deleted"},
        [SD_STORE_DB_CONSENTS] = {W_PUT, "a consent is never deleted"},
        [SD_STORE_DB_CONSENT_NONCES] = {W_PUT_NEW, "a consent nonce is written once, never changed or deleted"},
};

/* meta keys with rules of their own: the store's (never the front end's) and the pin. */
static const struct {
	const char *key;
	unsigned allow;
	const char *rule;
} meta_keys[] = {
        {SD_STORE_LOG_SIZE_KEY, 0, "meta log_size is the audit log's: only LOG-APPEND writes it"},
        {SD_STORE_FORMAT_KEY, 0, "meta format is the store's own marker"},
        {"root_key", W_PUT_NEW, "the pinned root key is written once, never changed"},
};

static int refuse(sd_store_req_t *req, size_t i, const char *what, const char *rule)
{
	req->refused = true;
	req->refused_op = (long)i;
	snprintf(req->refusal, sizeof(req->refusal), "store process refused operation %zu (%s): %s", i, what, rule);
	return sd_error(SD_ERR_REFUSED, "%s", req->refusal);
}

/* The rule for an operation's key: policy[db], or a meta key's own. */
static void rule_of(const sd_store_req_t *req, const struct op *op, unsigned *allow, const char **rule)
{
	*allow = policy[op->db].allow;
	*rule = policy[op->db].rule;
	for (size_t k = 0; op->db == SD_STORE_DB_META && k < sizeof(meta_keys) / sizeof(meta_keys[0]); k++)
		if (op->key_len == strlen(meta_keys[k].key) &&
		    sd_equal(req->in.p + op->key_off, meta_keys[k].key, op->key_len)) {
			*allow = meta_keys[k].allow;
			*rule = meta_keys[k].rule;
		}
}

/* A leaf must be a well-formed audit event, and its case key the event's case number. The
 * epoch statement ("restored to size N") never comes from the front end: only `sealdropd
 * restore` writes it, through a store it opened itself (server/backup.c); the same holds
 * for a log key rotation (`sealdropd log-key rotate`, server/logkey.c). */
static int leaf_check(sd_store_req_t *req, size_t i)
{
	const struct op *op = &req->ops[i];
	sd_audit_event_t ev;

	if (sd_audit_leaf_parse(req->in.p + op->val_off, op->val_len, &ev) < 0)
		return refuse(req, i, "LOG-APPEND", "the leaf is not a well-formed audit event");
	if (ev.type == SD_AUDIT_RESTORE)
		return refuse(req, i, "LOG-APPEND",
		              "an epoch statement (restore) is appended only by `sealdropd restore`, offline");
	if (ev.type == SD_AUDIT_LOG_KEY_ROTATED)
		return refuse(req, i, "LOG-APPEND",
		              "a log key rotation is appended only by `sealdropd log-key rotate`, offline");
	if (op->key_len != strlen(ev.case_number) ||
	    (op->key_len > 0 && !sd_equal(req->in.p + op->key_off, ev.case_number, op->key_len)))
		return refuse(req, i, "LOG-APPEND", "the case key is not the leaf's case number");
	return 0;
}

size_t store_req_first_write(const sd_store_req_t *req)
{
	for (size_t i = 0; i < req->n_ops; i++) {
		enum op_kind k = req->ops[i].kind;
		if (k == OP_PUT || k == OP_DEL || k == OP_DEL_PREFIX || k == OP_LOG_APPEND)
			return i;
	}
	return req->n_ops;
}

bool store_req_checked_upload(const sd_store_req_t *req, const uint8_t *id, sd_upload_rec_t *rec)
{
	size_t before = store_req_first_write(req);

	for (size_t i = 0; i < before; i++) {
		const struct op *c = &req->ops[i];
		if (c->kind == OP_CHECK_EQUAL && c->db == SD_STORE_DB_UPLOADS && c->key_len == SD_UPLOAD_ID_BYTES &&
		    sd_equal(req->in.p + c->key_off, id, SD_UPLOAD_ID_BYTES) &&
		    sd_upload_rec_decode(req->in.p + c->val_off, c->val_len, rec) == 0)
			return true;
	}
	return false;
}

/* Whether req checks, before any of its writes, the record of the upload whose id begins
 * op's key to be one in state. A check after a write would see that write, not the store. */
static bool upload_checked(const sd_store_req_t *req, const struct op *op, sd_upload_state_t state)
{
	sd_upload_rec_t rec;

	return op->key_len >= SD_UPLOAD_ID_BYTES && store_req_checked_upload(req, req->in.p + op->key_off, &rec) &&
	       rec.state == state;
}

/* need (a W_ bit) allowed by allow for op, the uploads' state rules included. */
static bool allowed(const sd_store_req_t *req, const struct op *op, unsigned allow, unsigned need)
{
	if ((allow & need) != 0)
		return true;
	if ((allow & W_DEL_EXPIRED) != 0 && (need & (W_DEL | W_DEL_PREFIX)) != 0)
		return upload_checked(req, op, SD_UPLOAD_EXPIRED);
	if ((allow & W_PUT_OPEN) != 0 && need == W_PUT)
		return op->key_len == SD_UPLOAD_ID_BYTES && upload_checked(req, op, SD_UPLOAD_OPEN);
	return false;
}

int sd_storewire_policy_check(sd_store_req_t *req)
{
	unsigned allow, need;
	const char *rule, *what;
	bool destroy; /* a case's destruction, as server/retention_policy.c allows it */
	size_t bad;

	if ((rule = sd_retention_policy_rule(req, &destroy, &bad)) != NULL)
		return refuse(req, bad, "case destruction", rule);
	for (size_t i = 0; i < req->n_ops; i++) {
		const struct op *op = &req->ops[i];
		switch (op->kind) {
		case OP_PUT:
			need = (op->flags & SD_STORE_NOOVERWRITE) ? W_PUT | W_PUT_NEW : W_PUT;
			what = (op->flags & SD_STORE_NOOVERWRITE) ? "PUT, no overwrite" : "PUT";
			break;
		case OP_DEL:
			need = W_DEL;
			what = "DEL";
			break;
		case OP_DEL_PREFIX:
			need = W_DEL_PREFIX;
			what = "DEL-PREFIX";
			break;
		case OP_LOG_APPEND:
			if (leaf_check(req, i) < 0)
				return SD_ERR_REFUSED;
			continue;
		default:
			continue; /* reads and preconditions */
		}
		rule_of(req, op, &allow, &rule);
		if (!allowed(req, op, allow, need) &&
		    !(destroy && (need & (W_DEL | W_DEL_PREFIX)) != 0 && sd_retention_db_is_case_data(op->db)))
			return refuse(req, i, what, rule);
	}
	return 0;
}
