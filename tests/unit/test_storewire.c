/*
 * test_storewire.c — the store process (server/storeproc.c) and its messages
 * (server/store_wire.c, server/store_remote.c).
 *
 * The codecs: a request with every kind of operation round-trips byte for byte; every
 * truncation and every extra byte is refused, and so is each field out of range (a kind,
 * a database, a flag, a key over SD_STORE_KEY_MAX, an operation count of 0 or over
 * SD_STORE_OPS_MAX, a field a kind does not use). A reply made by a real store carries
 * every result (found flags, values, scan entries and `more`, deletion counts, log
 * indexes, a failure's status, detail and operation) into a copy of the request; every
 * truncation, extra byte, wrong number and impossible result is refused. The policy table:
 * each write the front end never makes is refused, each it makes passes, reads always pass;
 * a leaf that is not a well-formed audit event, or whose case key is not its case, is
 * refused. A real store process on a temporary directory over a socketpair: requests and
 * FIFO replies, a refused request answered in its turn with the process still serving, a
 * message that does not decode ends it (status 2) after it answered what it had, a close
 * ends it cleanly (status 0), and a killed one is lost: outstanding requests fail, never
 * succeed. Held requests are written only by a flush, a request sent at once, a full batch
 * or the close, in order; held when the process dies, each is answered once, as failed. The statistics: a STATS request
 * and its reply round-trip, every truncation, extra byte, wrong number, date, bucket count, overflowing count or
 * impossible sum is refused; a real store process shows no commit of its own day and, asked with the front end's later
 * date, every commit it made. Last, the cost: small and 64 KiB PUTs through the local store and the store process,
 * printed (no assertion on time).
 */
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "unit.h"
#include "sealdrop/audit.h"
#include "sealdrop/bytes.h"
#include "sealdrop/privsep.h"
#include "sealdrop/uploads.h"
#include "sealdrop/storeproc.h"
#include "sealdrop/storewire.h"
#include "../../server/store_stats.h"

#define K(s) (const uint8_t *)(s), strlen(s)

static char tmp[64];

static int dir_setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/sd-storewire-XXXXXX");
	return mkdtemp(tmp) != NULL ? 0 : -1;
}

static int dir_teardown(void **state)
{
	(void)state;
	return unit_rm_tree(tmp);
}

/* A well-formed leaf (malloc'd) of case cn ("" for none). */
static uint8_t *leaf_of(const char *cn, size_t *len)
{
	sd_audit_event_t ev = {.type = SD_AUDIT_TRANSITION, .date = {2026, 11, 23}};
	uint8_t *leaf = NULL;

	snprintf(ev.case_number, sizeof(ev.case_number), "%s", cn);
	snprintf(ev.role, sizeof(ev.role), "server");
	snprintf(ev.detail, sizeof(ev.detail), "closed");
	assert_int_equal(sd_audit_leaf_encode(&ev, &leaf, len), 0);
	return leaf;
}

/* A request with one operation of every kind (and both PUT and SCAN variants). */
static sd_store_req_t *every_kind(void)
{
	sd_store_req_t *req = sd_store_req_new();
	size_t len;
	uint8_t *leaf = leaf_of("2026-000001", &len);

	assert_non_null(req);
	assert_int_equal(sd_store_req_get(req, SD_STORE_DB_CASES, K("2026-000001")), 0);
	assert_int_equal(sd_store_req_put(req, SD_STORE_DB_CASES, K("2026-000002"), K("case two"), 0), 1);
	assert_int_equal(sd_store_req_put(req, SD_STORE_DB_RECEIPTS, K("2026-000002"), K("r"), SD_STORE_NOOVERWRITE),
	                 2);
	assert_int_equal(sd_store_req_del(req, SD_STORE_DB_UPLOADS, K("u1")), 3);
	assert_int_equal(sd_store_req_check_absent(req, SD_STORE_DB_CASES, K("2026-000009")), 4);
	assert_int_equal(sd_store_req_check_equal(req, SD_STORE_DB_META, K("k"), K("v")), 5);
	assert_int_equal(sd_store_req_scan(req, SD_STORE_DB_CASES, K("2026"), K("2026-000001"), 10), 6);
	assert_int_equal(sd_store_req_scan_keys(req, SD_STORE_DB_CHUNKS, NULL, 0, NULL, 0, 5), 7);
	assert_int_equal(sd_store_req_del_prefix(req, SD_STORE_DB_CHUNKS, K("u1"), 100), 8);
	assert_int_equal(sd_store_req_check_count(req, SD_STORE_DB_CHUNKS, K("u2"), 0), 9);
	assert_int_equal(sd_store_req_log_append(req, leaf, len, K("2026-000001")), 10);
	free(leaf);
	return req;
}

static void encode(const sd_store_req_t *req, uint64_t seq, uint8_t **p, size_t *len)
{
	assert_int_equal(sd_storewire_encode_req(req, seq, p, len), 0);
}

static void test_req_round_trip(void **state)
{
	sd_store_req_t *req = every_kind(), *back = NULL;
	uint8_t *p, *q;
	size_t len, len2;
	uint64_t seq;

	(void)state;
	encode(req, 42, &p, &len);
	assert_int_equal(sd_storewire_decode_req(p, len, &seq, &back), 0);
	assert_int_equal(seq, 42);
	encode(back, 42, &q, &len2);
	assert_int_equal(len, len2);
	assert_memory_equal(p, q, len);
	/* An empty request, or one a builder refused, is never sent. */
	sd_store_req_t *empty = sd_store_req_new(), *bad = sd_store_req_new();
	uint8_t big[SD_STORE_KEY_MAX + 1] = {0}, *x = NULL;
	assert_int_equal(sd_storewire_encode_req(empty, 1, &x, &len2), SD_ERR_USAGE);
	assert_true(sd_store_req_get(bad, SD_STORE_DB_META, big, sizeof(big)) < 0);
	assert_int_equal(sd_storewire_encode_req(bad, 1, &x, &len2), SD_ERR_USAGE);
	sd_store_req_free(empty);
	sd_store_req_free(bad);
	free(p);
	free(q);
	sd_store_req_free(req);
	sd_store_req_free(back);
}

static void refused(const uint8_t *p, size_t len)
{
	sd_store_req_t *req = NULL;
	uint64_t seq;

	assert_int_equal(sd_storewire_decode_req(p, len, &seq, &req), SD_ERR_PROTOCOL);
	assert_null(req);
}

static void test_req_truncated_or_extra(void **state)
{
	sd_store_req_t *req = every_kind();
	uint8_t *p, *longer;
	size_t len;

	(void)state;
	encode(req, 1, &p, &len);
	for (size_t n = 0; n < len; n++)
		refused(p, n);
	longer = malloc(len + 1);
	memcpy(longer, p, len);
	longer[len] = 0;
	refused(longer, len + 1);
	free(longer);
	free(p);
	sd_store_req_free(req);
}

/* One operation's request, with a byte (or a u32) changed at offset off. */
struct mutation {
	const char *what;
	size_t off;
	uint32_t value;
	int width; /* 1 or 4 bytes */
};

#define OP0 SD_STOREWIRE_REQ_HEAD /* kind, db, flags, has_after, limit(4), key_len(4) */

static void mutate_refused(sd_store_req_t *req, const struct mutation *m)
{
	uint8_t *p;
	size_t len;

	encode(req, 1, &p, &len);
	if (m->width == 1)
		p[m->off] = (uint8_t)m->value;
	else
		sd_store_le32(p + m->off, m->value);
	print_message("  refused: %s\n", m->what);
	refused(p, len);
	free(p);
}

static void test_req_fields_refused(void **state)
{
	static const struct mutation get_m[] = {
	        {"kind 0", OP0, 0, 1},
	        {"kind 10", OP0, 10, 1},
	        {"an unknown database", OP0 + 1, SD_STORE_DB_COUNT, 1},
	        {"a flag on GET", OP0 + 2, 1, 1},
	        {"an `after` on GET", OP0 + 3, 1, 1},
	        {"a limit on GET", OP0 + 4, 1, 4},
	        {"a key over SD_STORE_KEY_MAX", OP0 + 8, SD_STORE_KEY_MAX + 1, 4},
	        {"a key longer than the message", OP0 + 8, 200, 4},
	        {"no operations", 8, 0, 4},
	        {"more operations than SD_STORE_OPS_MAX", 8, SD_STORE_OPS_MAX + 1, 4},
	        {"the empty key of a GET", OP0 + 8, 0, 4},
	};
	static const struct mutation scan_m[] = {
	        {"a SCAN limit of 0", OP0 + 4, 0, 4},
	        {"a SCAN limit over SD_STORE_SCAN_MAX", OP0 + 4, SD_STORE_SCAN_MAX + 1, 4},
	        {"an unknown SCAN flag", OP0 + 2, 4, 1},
	        {"has_after 2", OP0 + 3, 2, 1},
	};
	static const struct mutation put_m[] = {
	        {"an unknown PUT flag", OP0 + 2, 2, 1},
	        {"a PUT turned into a LOG-APPEND of another database", OP0, 9, 1},
	};
	sd_store_req_t *get = sd_store_req_new(), *scan = sd_store_req_new(), *put = sd_store_req_new();

	(void)state;
	assert_int_equal(sd_store_req_get(get, SD_STORE_DB_META, K("key")), 0);
	assert_int_equal(sd_store_req_scan(scan, SD_STORE_DB_META, K("k"), NULL, 0, 10), 0);
	assert_int_equal(sd_store_req_put(put, SD_STORE_DB_META, K("key"), K("value"), 0), 0);
	for (size_t i = 0; i < sizeof(get_m) / sizeof(get_m[0]); i++)
		mutate_refused(get, &get_m[i]);
	for (size_t i = 0; i < sizeof(scan_m) / sizeof(scan_m[0]); i++)
		mutate_refused(scan, &scan_m[i]);
	for (size_t i = 0; i < sizeof(put_m) / sizeof(put_m[0]); i++)
		mutate_refused(put, &put_m[i]);
	/* A value on a GET: the bytes are there, the kind does not take them. */
	uint8_t *p;
	size_t len;
	encode(put, 1, &p, &len);
	p[OP0] = 1; /* PUT → GET */
	refused(p, len);
	free(p);
	sd_store_req_free(get);
	sd_store_req_free(scan);
	sd_store_req_free(put);
}

/* --- Replies -------------------------------------------------------------------------------- */

static sd_store_t *open_local(void)
{
	sd_store_t *s = NULL;
	assert_int_equal(sd_store_open(tmp, NULL, &s), 0);
	return s;
}

static int call_put(sd_store_t *s, sd_store_db_t db, const char *key, const char *val, unsigned flags)
{
	sd_store_req_t *req = sd_store_req_new();
	assert_int_equal(sd_store_req_put(req, db, K(key), K(val), flags), 0);
	int r = sd_store_call(s, req);
	sd_store_req_free(req);
	return r;
}

/* A request that reads back a little of everything, answered by a real store. */
static sd_store_req_t *answered(sd_store_t *s)
{
	sd_store_req_t *req = sd_store_req_new();
	size_t len;
	uint8_t *leaf = leaf_of("2026-000001", &len);

	assert_int_equal(call_put(s, SD_STORE_DB_CASES, "2026-000001", "one", 0), 0);
	assert_int_equal(call_put(s, SD_STORE_DB_CASES, "2026-000002", "two", 0), 0);
	assert_int_equal(call_put(s, SD_STORE_DB_CASES, "2026-000003", "three", 0), 0);
	assert_int_equal(call_put(s, SD_STORE_DB_CHUNKS, "u1-1", "c", SD_STORE_NOOVERWRITE), 0);
	assert_int_equal(call_put(s, SD_STORE_DB_CHUNKS, "u1-2", "c", SD_STORE_NOOVERWRITE), 0);
	sd_store_req_get(req, SD_STORE_DB_CASES, K("2026-000002"));
	sd_store_req_get(req, SD_STORE_DB_CASES, K("2026-000009"));
	sd_store_req_scan(req, SD_STORE_DB_CASES, K("2026"), K("2026-000001"), 1);
	sd_store_req_scan_keys(req, SD_STORE_DB_CASES, NULL, 0, NULL, 0, 10);
	sd_store_req_del_prefix(req, SD_STORE_DB_CHUNKS, K("u1"), 1);
	sd_store_req_log_append(req, leaf, len, K("2026-000001"));
	assert_int_equal(sd_store_call(s, req), 0);
	free(leaf);
	return req;
}

/* A copy of req's operations (as the front end keeps them), its results from the reply. */
static sd_store_req_t *through_wire(const sd_store_req_t *req, uint64_t seq)
{
	sd_store_req_t *copy = NULL;
	uint8_t *p, *r;
	size_t len, rlen;
	uint64_t got;

	encode(req, seq, &p, &len);
	assert_int_equal(sd_storewire_decode_req(p, len, &got, &copy), 0);
	assert_int_equal(sd_storewire_encode_reply(req, seq, &r, &rlen), 0);
	assert_int_equal(sd_storewire_decode_reply(r, rlen, seq, copy), 0);
	free(p);
	free(r);
	return copy;
}

static void same_results(const sd_store_req_t *a, const sd_store_req_t *b, size_t n_ops)
{
	assert_int_equal(sd_store_req_status(a), sd_store_req_status(b));
	assert_string_equal(sd_store_req_detail(a), sd_store_req_detail(b));
	assert_int_equal(sd_store_req_failed_op(a), sd_store_req_failed_op(b));
	for (size_t i = 0; i < n_ops; i++) {
		const uint8_t *va, *vb, *ka, *kb;
		size_t la, lb, kla, klb;
		bool ma, mb;
		uint64_t ia, ib;
		assert_int_equal(sd_store_req_found(a, i), sd_store_req_found(b, i));
		int ra = sd_store_req_value(a, i, &va, &la), rb = sd_store_req_value(b, i, &vb, &lb);
		assert_int_equal(ra, rb);
		if (ra == 0) {
			assert_int_equal(la, lb);
			assert_memory_equal(va, vb, la);
		}
		size_t n = sd_store_req_scan_count(a, i, &ma);
		assert_int_equal(n, sd_store_req_scan_count(b, i, &mb));
		assert_int_equal(ma, mb);
		for (size_t j = 0; j < n && sd_store_req_scan_entry(a, i, j, &ka, &kla, &va, &la) == 0; j++) {
			assert_int_equal(sd_store_req_scan_entry(b, i, j, &kb, &klb, &vb, &lb), 0);
			assert_int_equal(kla, klb);
			assert_memory_equal(ka, kb, kla);
			assert_int_equal(la, lb);
			assert_memory_equal(va, vb, la);
		}
		ra = sd_store_req_log_index(a, i, &ia);
		assert_int_equal(ra, sd_store_req_log_index(b, i, &ib));
		if (ra == 0)
			assert_int_equal(ia, ib);
	}
}

static void test_reply_round_trip(void **state)
{
	sd_store_t *s = open_local();
	sd_store_req_t *req = answered(s), *copy = through_wire(req, 7);
	const uint8_t *v;
	size_t len;
	bool more;
	uint64_t index;

	(void)state;
	same_results(req, copy, 6);
	/* What the copy says, in so many words. */
	assert_int_equal(sd_store_req_value(copy, 0, &v, &len), 0);
	assert_int_equal(len, 3);
	assert_false(sd_store_req_found(copy, 1));
	assert_int_equal(sd_store_req_scan_count(copy, 2, &more), 1);
	assert_true(more);
	assert_int_equal(sd_store_req_scan_count(copy, 3, &more), 3);
	assert_false(more);
	assert_int_equal(sd_store_req_scan_count(copy, 4, &more), 1);
	assert_true(more);
	assert_int_equal(sd_store_req_log_index(copy, 5, &index), 0);
	assert_int_equal(index, 0);
	sd_store_req_free(copy);
	/* A failure: its status, detail and operation, and the value a NOOVERWRITE PUT found. */
	sd_store_req_reset(req);
	sd_store_req_get(req, SD_STORE_DB_CASES, K("2026-000001"));
	sd_store_req_put(req, SD_STORE_DB_CASES, K("2026-000001"), K("again"), SD_STORE_NOOVERWRITE);
	assert_int_equal(sd_store_call(s, req), SD_ERR_EXISTS);
	copy = through_wire(req, 8);
	same_results(req, copy, 2);
	assert_int_equal(sd_store_req_failed_op(copy), 1);
	assert_int_equal(sd_store_req_value(copy, 1, &v, &len), 0);
	assert_int_equal(len, 3);
	sd_store_req_free(copy);
	sd_store_req_free(req);
	sd_store_close(s);
}

static void reply_refused(const uint8_t *p, size_t len, uint64_t seq, sd_store_req_t *req, const char *what)
{
	print_message("  refused: %s\n", what);
	assert_int_equal(sd_storewire_decode_reply(p, len, seq, req), SD_ERR_PROTOCOL);
}

static void test_reply_refused(void **state)
{
	sd_store_t *s = open_local();
	sd_store_req_t *req = answered(s), *copy = through_wire(req, 3);
	uint8_t *r, *longer;
	size_t len;

	(void)state;
	assert_int_equal(sd_storewire_encode_reply(req, 3, &r, &len), 0);
	for (size_t n = 0; n < len; n++)
		assert_int_equal(sd_storewire_decode_reply(r, n, 3, copy), SD_ERR_PROTOCOL);
	longer = calloc(1, len + 1);
	memcpy(longer, r, len);
	reply_refused(longer, len + 1, 3, copy, "an extra byte");
	reply_refused(r, len, 4, copy, "another request's number");
	memcpy(longer, r, len);
	sd_store_le32(longer + 8, 5);
	reply_refused(longer, len, 3, copy, "a positive status");
	memcpy(longer, r, len);
	sd_store_le32(longer + 12, 0);
	reply_refused(longer, len, 3, copy, "a failed operation with status 0");
	memcpy(longer, r, len);
	sd_store_le32(longer + 18, 5);
	reply_refused(longer, len, 3, copy, "another number of operations");
	memcpy(longer, r, len);
	longer[22] = 0x8;
	reply_refused(longer, len, 3, copy, "an unknown result bit");
	/* The second GET (missing) found and with a value: op 1 starts after op 0's 17 + 3 bytes. */
	memcpy(longer, r, len);
	longer[22 + 17 + 3] = 0x2;
	reply_refused(longer, len, 3, copy, "a value where the key was not found");
	if (sd_storewire_decode_reply(r, len, 3, copy) != 0)
		fail_msg("the reply no longer decodes: %s", sd_error_detail());
	free(longer);
	free(r);
	sd_store_req_free(copy);
	sd_store_req_free(req);
	sd_store_close(s);
}

/* --- The policy ----------------------------------------------------------------------------- */

enum { PUT, PUT_NEW, DEL, DEL_PREFIX, WRITES };

/* What the server's code does (every sd_store_req_put/del/del_prefix in server/), written
 * out again here: 1 allowed, 0 refused. An upload's record, header and chunks are deleted
 * only with a check that it expired, and its record rewritten only with a check that it is
 * open (test_policy_upload_states), never on their own. */
static const struct {
	sd_store_db_t db;
	bool may[WRITES];
} expected[] = {
        {SD_STORE_DB_META, {1, 1, 0, 0}},           {SD_STORE_DB_UPLOADS, {0, 1, 0, 0}},
        {SD_STORE_DB_UPLOAD_HEADERS, {0, 1, 0, 0}}, {SD_STORE_DB_UPLOAD_DIGESTS, {1, 1, 1, 0}},
        {SD_STORE_DB_CHUNKS, {0, 1, 0, 0}},         {SD_STORE_DB_CASES, {1, 1, 0, 0}},
        {SD_STORE_DB_CASE_DIGESTS, {1, 1, 0, 0}},   {SD_STORE_DB_ACCOUNT_CASES, {1, 1, 0, 0}},
        {SD_STORE_DB_RECEIPTS, {0, 1, 0, 0}},       {SD_STORE_DB_ACCOUNTS, {1, 1, 0, 0}},
        {SD_STORE_DB_ACCOUNT_NAMES, {0, 1, 0, 0}},  {SD_STORE_DB_REVOKED, {1, 1, 0, 0}},
        {SD_STORE_DB_LOG_LEAVES, {0, 0, 0, 0}},     {SD_STORE_DB_LOG_NODES, {0, 0, 0, 0}},
        {SD_STORE_DB_LOG_HEADS, {1, 1, 0, 0}},      {SD_STORE_DB_CASE_EVENTS, {0, 0, 0, 0}},
        {SD_STORE_DB_CASE_TEXTS, {1, 1, 0, 0}},     {SD_STORE_DB_NOTICES, {0, 1, 0, 0}},
        {SD_STORE_DB_CASE_SUMMARIES, {1, 1, 0, 0}}, {SD_STORE_DB_CASE_BY_STATE, {1, 1, 1, 0}},
        {SD_STORE_DB_CASE_BY_DUE, {1, 1, 1, 0}},    {SD_STORE_DB_CASE_BY_LOCATOR, {1, 1, 0, 0}},
        {SD_STORE_DB_CONSENTS, {1, 1, 0, 0}},       {SD_STORE_DB_CONSENT_NONCES, {0, 1, 0, 0}},
};

static int policy_of(sd_store_db_t db, int w, const char *key)
{
	sd_store_req_t *req = sd_store_req_new();
	int r;

	sd_store_req_get(req, db, K(key)); /* a read first: the refusal names operation 1 */
	if (w == PUT || w == PUT_NEW)
		sd_store_req_put(req, db, K(key), K("v"), w == PUT_NEW ? SD_STORE_NOOVERWRITE : 0);
	else if (w == DEL)
		sd_store_req_del(req, db, K(key));
	else
		sd_store_req_del_prefix(req, db, K(key), 10);
	r = sd_storewire_policy_check(req);
	if (r < 0) {
		assert_int_equal(r, SD_ERR_REFUSED);
		assert_non_null(strstr(sd_error_detail(), "operation 1"));
	}
	sd_store_req_free(req);
	return r;
}

/* A request deleting upload id's record, header and (DEL-PREFIX) chunks, checking its
 * record (CHECK-EQUAL) to be one in state; with check_other, the check is of another id. */
static int upload_delete_policy(sd_upload_state_t state, bool check_other)
{
	uint8_t id[SD_UPLOAD_ID_BYTES], other[SD_UPLOAD_ID_BYTES], *rec_bytes = NULL;
	sd_upload_rec_t rec = {.created = {2026, 11, 1}, .expires = {2026, 11, 8}, .state = state, .chunks = 2};
	sd_store_req_t *req = sd_store_req_new();
	size_t rec_len;
	int r;

	memset(id, 0xa1, sizeof(id));
	memset(other, 0xb2, sizeof(other));
	if (state == SD_UPLOAD_COMMITTED)
		memcpy(rec.case_number, "2026-000001", sizeof("2026-000001"));
	assert_int_equal(sd_upload_rec_encode(&rec, &rec_bytes, &rec_len), 0);
	sd_store_req_check_equal(req, SD_STORE_DB_UPLOADS, check_other ? other : id, sizeof(id), rec_bytes, rec_len);
	sd_store_req_del_prefix(req, SD_STORE_DB_CHUNKS, id, sizeof(id), 10);
	sd_store_req_del(req, SD_STORE_DB_UPLOADS, id, sizeof(id));
	sd_store_req_del(req, SD_STORE_DB_UPLOAD_HEADERS, id, sizeof(id));
	r = sd_storewire_policy_check(req);
	sd_store_req_free(req);
	free(rec_bytes);
	return r;
}

/* A request rewriting upload id's record (to expired, as upload_gc.c's MARK does) after
 * checking the stored one to be in state. */
static int upload_rewrite_policy(sd_upload_state_t state)
{
	uint8_t id[SD_UPLOAD_ID_BYTES], *was = NULL, *now = NULL;
	sd_upload_rec_t rec = {.created = {2026, 11, 1}, .expires = {2026, 11, 8}, .state = state, .chunks = 2};
	sd_store_req_t *req = sd_store_req_new();
	size_t was_len, now_len;
	int r;

	memset(id, 0xa1, sizeof(id));
	if (state == SD_UPLOAD_COMMITTED)
		memcpy(rec.case_number, "2026-000001", sizeof("2026-000001"));
	assert_int_equal(sd_upload_rec_encode(&rec, &was, &was_len), 0);
	rec.state = SD_UPLOAD_EXPIRED;
	rec.case_number[0] = '\0';
	assert_int_equal(sd_upload_rec_encode(&rec, &now, &now_len), 0);
	sd_store_req_check_equal(req, SD_STORE_DB_UPLOADS, id, sizeof(id), was, was_len);
	sd_store_req_put(req, SD_STORE_DB_UPLOADS, id, sizeof(id), now, now_len, 0);
	r = sd_storewire_policy_check(req);
	sd_store_req_free(req);
	free(was);
	free(now);
	return r;
}

/* A committed upload's header and chunks are its case's package: only an expired upload's
 * go (upload_gc.c), and only an open upload's record is rewritten (a commit, an expiry), so
 * a front end can neither delete a filed package by calling it garbage nor first turn its
 * record back into an expired one. */
static void test_policy_upload_states(void **state)
{
	(void)state;
	assert_int_equal(upload_rewrite_policy(SD_UPLOAD_OPEN), 0);
	assert_int_equal(upload_rewrite_policy(SD_UPLOAD_COMMITTED), SD_ERR_REFUSED);
	assert_non_null(strstr(sd_error_detail(), "rewritten only while it is open"));
	assert_int_equal(upload_rewrite_policy(SD_UPLOAD_EXPIRED), SD_ERR_REFUSED);
	/* A check that follows the write sees the write, not the store: it does not count. */
	{
		uint8_t id[SD_UPLOAD_ID_BYTES], *open = NULL;
		sd_upload_rec_t rec = {
		        .created = {2026, 11, 1}, .expires = {2026, 11, 8}, .state = SD_UPLOAD_OPEN, .chunks = 2};
		sd_store_req_t *req = sd_store_req_new();
		size_t len;

		memset(id, 0xa1, sizeof(id));
		assert_int_equal(sd_upload_rec_encode(&rec, &open, &len), 0);
		sd_store_req_put(req, SD_STORE_DB_UPLOADS, id, sizeof(id), open, len, 0);
		sd_store_req_check_equal(req, SD_STORE_DB_UPLOADS, id, sizeof(id), open, len);
		assert_int_equal(sd_storewire_policy_check(req), SD_ERR_REFUSED);
		sd_store_req_free(req);
		free(open);
	}
	assert_int_equal(upload_delete_policy(SD_UPLOAD_EXPIRED, false), 0);
	assert_int_equal(upload_delete_policy(SD_UPLOAD_COMMITTED, false), SD_ERR_REFUSED);
	assert_non_null(strstr(sd_error_detail(), "once it expired"));
	assert_int_equal(upload_delete_policy(SD_UPLOAD_OPEN, false), SD_ERR_REFUSED);
	assert_int_equal(upload_delete_policy(SD_UPLOAD_EXPIRED, true), SD_ERR_REFUSED);
}

static void test_policy(void **state)
{
	(void)state;
	assert_int_equal(sizeof(expected) / sizeof(expected[0]), SD_STORE_DB_COUNT);
	for (size_t i = 0; i < SD_STORE_DB_COUNT; i++)
		for (int w = 0; w < WRITES; w++) {
			int r = policy_of(expected[i].db, w, "some-key");
			if ((r == 0) != expected[i].may[w])
				fail_msg("%s: write %d %s, expected %s", sd_store_db_name(expected[i].db), w,
				         r == 0 ? "allowed" : "refused", expected[i].may[w] ? "allowed" : "refused");
		}
	/* meta's own keys */
	assert_int_equal(policy_of(SD_STORE_DB_META, PUT, SD_STORE_LOG_SIZE_KEY), SD_ERR_REFUSED);
	assert_int_equal(policy_of(SD_STORE_DB_META, PUT_NEW, SD_STORE_LOG_SIZE_KEY), SD_ERR_REFUSED);
	assert_non_null(strstr(sd_error_detail(), "only LOG-APPEND"));
	assert_int_equal(policy_of(SD_STORE_DB_META, PUT, SD_STORE_FORMAT_KEY), SD_ERR_REFUSED);
	assert_int_equal(policy_of(SD_STORE_DB_META, PUT, "root_key"), SD_ERR_REFUSED);
	assert_int_equal(policy_of(SD_STORE_DB_META, PUT_NEW, "root_key"), 0);
	/* reads anywhere */
	sd_store_req_t *req = sd_store_req_new();
	for (size_t i = 0; i < SD_STORE_DB_COUNT; i++) {
		sd_store_req_get(req, (sd_store_db_t)i, K("k"));
		sd_store_req_scan(req, (sd_store_db_t)i, NULL, 0, NULL, 0, 10);
		sd_store_req_check_absent(req, (sd_store_db_t)i, K("k"));
	}
	assert_int_equal(sd_storewire_policy_check(req), 0);
	sd_store_req_free(req);
}

static int append_policy(const uint8_t *leaf, size_t len, const char *case_key)
{
	sd_store_req_t *req = sd_store_req_new();
	int r;

	assert_int_equal(sd_store_req_log_append(req, leaf, len, case_key != NULL ? (const uint8_t *)case_key : NULL,
	                                         case_key != NULL ? strlen(case_key) : 0),
	                 0);
	r = sd_storewire_policy_check(req);
	sd_store_req_free(req);
	return r;
}

static void test_policy_leaves(void **state)
{
	size_t len, len2;
	uint8_t *leaf = leaf_of("2026-000001", &len), *plain = leaf_of("", &len2);

	(void)state;
	assert_int_equal(append_policy(leaf, len, "2026-000001"), 0);
	assert_int_equal(append_policy(plain, len2, NULL), 0);
	assert_int_equal(append_policy(leaf, len, "2026-000002"), SD_ERR_REFUSED);
	assert_non_null(strstr(sd_error_detail(), "case key"));
	assert_int_equal(append_policy(leaf, len, NULL), SD_ERR_REFUSED);
	assert_int_equal(append_policy(plain, len2, "2026-000001"), SD_ERR_REFUSED);
	assert_int_equal(append_policy((const uint8_t *)"{\"event\":\"forged\"}", 18, NULL), SD_ERR_REFUSED);
	assert_non_null(strstr(sd_error_detail(), "not a well-formed audit event"));
	leaf[len - 2] ^= 1; /* not canonical any more */
	assert_int_equal(append_policy(leaf, len, "2026-000001"), SD_ERR_REFUSED);
	free(leaf);
	free(plain);
}

/* --- A real store process ------------------------------------------------------------------- */

static sd_storeproc_t *start(sd_store_t **store)
{
	sd_storeproc_opts_t o = {.dir = tmp};
	sd_storeproc_t *sp = NULL;
	int r = sd_storeproc_start(&o, &sp, store);

	if (r != 0)
		print_error("sd_storeproc_start: %s\n", sd_error_detail());
	assert_int_equal(r, 0);
	return sp;
}

/* Closes the store: the process must end cleanly (status 0). */
static void stop(sd_store_t *store, sd_storeproc_t *sp)
{
	sd_store_close(store);
	assert_int_equal(sd_storeproc_wait(sp, 5000), 0);
	sd_storeproc_free(sp);
}

struct order {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t n, want;
	int seen[64];
	int status[64];
};

static void order_done(sd_store_req_t *req, void *ctx)
{
	struct order *o = ctx;
	const uint8_t *v;
	size_t len;
	int tag = -1;

	if (sd_store_req_value(req, 1, &v, &len) == 0 && len == sizeof(int))
		memcpy(&tag, v, sizeof(tag));
	pthread_mutex_lock(&o->mu);
	o->status[o->n] = sd_store_req_status(req);
	o->seen[o->n++] = tag;
	pthread_cond_signal(&o->cv);
	pthread_mutex_unlock(&o->mu);
	sd_store_req_free(req);
}

static void test_process_serves_in_order(void **state)
{
	struct order o = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .want = 64};
	sd_store_t *store = NULL;
	sd_storeproc_t *sp = start(&store);

	(void)state;
	for (int i = 0; i < 64; i++) {
		sd_store_req_t *req = sd_store_req_new();
		char key[16];
		snprintf(key, sizeof(key), "k%02d", i);
		/* PUT then GET its own write back: the reply carries the tag. */
		sd_store_req_put(req, SD_STORE_DB_META, K(key), (const uint8_t *)&i, sizeof(i), 0);
		sd_store_req_get(req, SD_STORE_DB_META, K(key));
		if (i == 10) /* the refused one, in its turn */
			sd_store_req_put(req, SD_STORE_DB_LOG_LEAVES, K("forged"), K("leaf"), 0);
		assert_int_equal(sd_store_submit(store, req, order_done, &o), 0);
	}
	pthread_mutex_lock(&o.mu);
	while (o.n < o.want)
		pthread_cond_wait(&o.cv, &o.mu);
	pthread_mutex_unlock(&o.mu);
	for (int i = 0; i < 64; i++) {
		assert_int_equal(o.status[i], i == 10 ? SD_ERR_REFUSED : 0);
		if (i != 10)
			assert_int_equal(o.seen[i], i);
	}
	/* It went on serving; a refusal names the rule. */
	sd_store_req_t *req = sd_store_req_new();
	sd_store_req_del(req, SD_STORE_DB_RECEIPTS, K("2026-000001"));
	assert_int_equal(sd_store_call(store, req), SD_ERR_REFUSED);
	assert_non_null(strstr(sd_store_req_detail(req), "a receipt is written once"));
	if (sd_store_req_failed_op(req) != 0)
		fail_msg("failed op %ld: %s", sd_store_req_failed_op(req), sd_store_req_detail(req));
	sd_store_req_reset(req);
	sd_store_req_get(req, SD_STORE_DB_META, K("k05"));
	assert_int_equal(sd_store_call(store, req), 0);
	assert_true(sd_store_req_found(req, 0));
	sd_store_req_free(req);
	stop(store, sp);
}

/* One write of 70 chunks of 64 KiB: the store process hands each one's page cache back
 * once durable, sorting the 70 ranges first (store_drop_written) — 1,120 bytes, enough
 * for glibc's qsort to ask the memory size (sysinfo) under the process's filter
 * (DECISIONS 104). The write succeeds and the process goes on serving. */
static void test_process_large_batch(void **state)
{
	enum { N = 70, VALUE = 64 << 10 };
	sd_store_t *store = NULL;
	sd_storeproc_t *sp = start(&store);
	sd_store_req_t *req = sd_store_req_new();
	uint8_t *value = malloc(VALUE), id[SD_UPLOAD_ID_BYTES], key[SD_UPLOAD_CHUNK_KEY_BYTES];

	(void)state;
	assert_non_null(value);
	memset(id, 0x5a, sizeof(id));
	for (uint32_t i = 0; i < N; i++) {
		memset(value, (int)i, VALUE);
		sd_upload_chunk_key(id, 0, i, key);
		sd_store_req_put(req, SD_STORE_DB_CHUNKS, key, sizeof(key), value, VALUE, SD_STORE_NOOVERWRITE);
	}
	free(value);
	if (sd_store_call(store, req) != 0)
		fail_msg("70 large chunks in one write: %s", sd_store_req_detail(req));
	sd_store_req_reset(req);
	sd_store_req_get(req, SD_STORE_DB_CHUNKS, key, sizeof(key));
	assert_int_equal(sd_store_call(store, req), 0);
	assert_true(sd_store_req_found(req, 0));
	sd_store_req_free(req);
	stop(store, sp);
}

/* Held requests (sd_store_submit_held): answered tags, each as it comes; a tag out of
 * order or a failure is counted as bad. */
struct held {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int answered, bad, next;
};

static void held_done(sd_store_req_t *req, void *ctx)
{
	struct held *h = ctx;
	const uint8_t *v;
	size_t len;
	int tag = -1;

	if (sd_store_req_value(req, 1, &v, &len) == 0 && len == sizeof(int))
		memcpy(&tag, v, sizeof(tag));
	pthread_mutex_lock(&h->mu);
	if (sd_store_req_status(req) != 0 || tag != h->next)
		h->bad++;
	h->next = tag + 1;
	h->answered++;
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
	sd_store_req_free(req);
}

static void submit_tagged(sd_store_t *store, struct held *h, int tag, bool held)
{
	sd_store_req_t *req = sd_store_req_new();
	char key[16];

	snprintf(key, sizeof(key), "h%03d", tag);
	sd_store_req_put(req, SD_STORE_DB_META, K(key), (const uint8_t *)&tag, sizeof(tag), 0);
	sd_store_req_get(req, SD_STORE_DB_META, K(key));
	assert_int_equal(
	        held ? sd_store_submit_held(store, req, held_done, h) : sd_store_submit(store, req, held_done, h), 0);
}

static int held_answered(struct held *h, int want, int ms)
{
	struct timespec until;
	int n;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&h->mu);
	while (h->answered < want && pthread_cond_timedwait(&h->cv, &h->mu, &until) == 0)
		;
	n = h->answered;
	pthread_mutex_unlock(&h->mu);
	return n;
}

/* Held requests reach the store process only with a flush, with a request sent at once
 * (which goes after them), when the batch is full, or at close; always in order. */
static void test_process_held_requests(void **state)
{
	struct held h = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	sd_store_t *store = NULL;
	sd_storeproc_t *sp = start(&store);
	int tag = 0;

	(void)state;
	for (; tag < 10; tag++)
		submit_tagged(store, &h, tag, true);
	assert_int_equal(held_answered(&h, 1, 300), 0); /* nothing was written */
	submit_tagged(store, &h, tag++, false);         /* carries the ten before it */
	assert_int_equal(held_answered(&h, 11, 10000), 11);
	for (int i = 0; i < 5; i++)
		submit_tagged(store, &h, tag++, true);
	sd_store_flush(store);
	assert_int_equal(held_answered(&h, 16, 10000), 16);
	/* a full batch writes itself; the rest waits for the flush */
	for (int i = 0; i < SD_PRIVSEP_BATCH_MAX + 6; i++)
		submit_tagged(store, &h, tag++, true);
	assert_int_equal(held_answered(&h, 16 + SD_PRIVSEP_BATCH_MAX, 10000), 16 + SD_PRIVSEP_BATCH_MAX);
	assert_int_equal(held_answered(&h, 16 + SD_PRIVSEP_BATCH_MAX + 1, 300), 16 + SD_PRIVSEP_BATCH_MAX);
	sd_store_flush(store);
	assert_int_equal(held_answered(&h, tag, 10000), tag);
	/* held at close: written and answered before the store process is told to end */
	for (int i = 0; i < 3; i++)
		submit_tagged(store, &h, tag++, true);
	sd_store_close(store);
	assert_int_equal(held_answered(&h, tag, 10000), tag);
	assert_int_equal(h.bad, 0);
	assert_int_equal(sd_storeproc_wait(sp, 5000), 0);
	sd_storeproc_free(sp);
}

/* A store process served by hand over a socketpair: the test speaks raw messages. */
static pid_t serve_raw(int *fd)
{
	int sv[2];
	pid_t pid;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		sd_store_t *s = NULL;
		close(sv[0]);
		if (sd_store_open(tmp, NULL, &s) < 0)
			_exit(1);
		_exit(sd_storeproc_serve(sv[1], s) < 0 ? 2 : 0);
	}
	close(sv[1]);
	*fd = sv[0];
	return pid;
}

static void send_get(int fd, uint64_t seq)
{
	sd_store_req_t *req = sd_store_req_new();
	uint8_t *p;
	size_t len;

	sd_store_req_get(req, SD_STORE_DB_META, K("format"));
	encode(req, seq, &p, &len);
	assert_int_equal(sd_privsep_send(fd, SD_PRIVSEP_STORE_REQUEST, p, len), 0);
	free(p);
	sd_store_req_free(req);
}

static void expect_reply(int fd, uint64_t seq)
{
	uint8_t *p = NULL;
	uint32_t type;
	size_t len;

	assert_int_equal(sd_privsep_recv(fd, &type, &p, &len), 0);
	assert_int_equal(type, SD_PRIVSEP_STORE_REPLY);
	assert_int_equal(sd_load_le64(p), seq);
	free(p);
}

static int exit_status(pid_t pid)
{
	int st;

	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void test_process_violation_and_eof(void **state)
{
	static const uint8_t bad[] = {1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 42 /* kind 42 */};
	uint8_t *p = NULL;
	uint32_t type;
	size_t len;
	int fd;
	pid_t pid;

	(void)state;
	/* A violation: the request before it is answered, then the socket closes, status 2. */
	pid = serve_raw(&fd);
	send_get(fd, 1);
	assert_int_equal(sd_privsep_send(fd, SD_PRIVSEP_STORE_REQUEST, bad, sizeof(bad)), 0);
	expect_reply(fd, 1);
	assert_int_equal(sd_privsep_recv(fd, &type, &p, &len), SD_ERR_UNAVAILABLE);
	assert_int_equal(exit_status(pid), 2);
	close(fd);
	/* Out of order: request 2 where 1 was next. */
	pid = serve_raw(&fd);
	send_get(fd, 2);
	assert_int_equal(sd_privsep_recv(fd, &type, &p, &len), SD_ERR_UNAVAILABLE);
	assert_int_equal(exit_status(pid), 2);
	close(fd);
	/* Not a request at all. */
	pid = serve_raw(&fd);
	assert_int_equal(sd_privsep_send(fd, SD_PRIVSEP_READY, NULL, 0), 0);
	assert_int_equal(sd_privsep_recv(fd, &type, &p, &len), SD_ERR_UNAVAILABLE);
	assert_int_equal(exit_status(pid), 2);
	close(fd);
	/* A clean end: everything sent is answered, then EOF, status 0 — and the lock is free. */
	pid = serve_raw(&fd);
	send_get(fd, 1);
	send_get(fd, 2);
	send_get(fd, 3);
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	expect_reply(fd, 1);
	expect_reply(fd, 2);
	expect_reply(fd, 3);
	assert_int_equal(sd_privsep_recv(fd, &type, &p, &len), SD_ERR_UNAVAILABLE);
	assert_int_equal(exit_status(pid), 0);
	close(fd);
	sd_store_t *s = open_local();
	sd_store_close(s);
}

static void lost_cb(void *ctx)
{
	__atomic_store_n((int *)ctx, 1, __ATOMIC_SEQ_CST);
}

static void test_process_killed_is_lost(void **state)
{
	sd_store_t *store = NULL;
	sd_storeproc_t *sp = start(&store);
	int lost = 0;
	sd_store_req_t *req = sd_store_req_new();

	(void)state;
	sd_store_on_lost(store, lost_cb, &lost);
	kill(sd_storeproc_pid(sp), SIGKILL);
	assert_int_equal(sd_storeproc_wait(sp, 5000), 128 + SIGKILL);
	/* The reader thread marks the store lost, then calls lost_cb outside its lock: wait
	 * for both (each within 5 s). */
	for (int i = 0; i < 500 && (!sd_store_is_lost(store) || __atomic_load_n(&lost, __ATOMIC_SEQ_CST) == 0); i++)
		usleep(10000);
	assert_true(sd_store_is_lost(store));
	assert_int_equal(__atomic_load_n(&lost, __ATOMIC_SEQ_CST), 1);
	sd_store_req_put(req, SD_STORE_DB_META, K("k"), K("v"), 0);
	assert_int_equal(sd_store_call(store, req), SD_ERR_UNAVAILABLE);
	sd_store_req_free(req);
	sd_store_close(store);
	sd_storeproc_free(sp);
}

/* Answers counted: all, and those that say the store process is gone. */
struct gone {
	int answered, unavailable;
};

static void gone_done(sd_store_req_t *req, void *ctx)
{
	struct gone *g = ctx;

	__atomic_add_fetch(&g->answered, 1, __ATOMIC_SEQ_CST);
	if (sd_store_req_status(req) == SD_ERR_UNAVAILABLE)
		__atomic_add_fetch(&g->unavailable, 1, __ATOMIC_SEQ_CST);
	sd_store_req_free(req);
}

/* Requests held when the store process dies are answered once each, as failed: the
 * reader thread finds the socket closed with them outstanding; a flush after that
 * writes nothing. */
static void test_process_killed_with_held_requests(void **state)
{
	struct gone g = {0, 0};
	sd_store_t *store = NULL;
	sd_storeproc_t *sp = start(&store);

	(void)state;
	for (int i = 0; i < 10; i++) {
		sd_store_req_t *req = sd_store_req_new();
		sd_store_req_put(req, SD_STORE_DB_META, K("held"), (const uint8_t *)&i, sizeof(i), 0);
		assert_int_equal(sd_store_submit_held(store, req, gone_done, &g), 0);
	}
	kill(sd_storeproc_pid(sp), SIGKILL);
	assert_int_equal(sd_storeproc_wait(sp, 5000), 128 + SIGKILL);
	for (int i = 0; i < 500 && __atomic_load_n(&g.answered, __ATOMIC_SEQ_CST) < 10; i++)
		usleep(10000);
	sd_store_flush(store);
	usleep(100000);
	assert_int_equal(__atomic_load_n(&g.answered, __ATOMIC_SEQ_CST), 10);
	assert_int_equal(__atomic_load_n(&g.unavailable, __ATOMIC_SEQ_CST), 10);
	assert_true(sd_store_is_lost(store));
	sd_store_close(store);
	sd_storeproc_free(sp);
}

/* A store process that cannot open the store says why: sd_store_open's error, here. */
static void test_process_start_failure(void **state)
{
	char path[128];
	sd_storeproc_opts_t o = {.dir = path};
	sd_storeproc_t *sp = NULL;
	sd_store_t *store = NULL;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/bad", tmp);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/bad/store", tmp);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/bad/store/data.mdb", tmp);
	assert_non_null(f = fopen(path, "w"));
	fclose(f);
	snprintf(path, sizeof(path), "%s/bad", tmp);
	assert_int_equal(sd_storeproc_start(&o, &sp, &store), SD_ERR_FORMAT);
	assert_non_null(strstr(sd_error_detail(), "is empty (0 bytes)"));
	assert_null(sp);
	assert_null(store);
}

/* --- The cost ------------------------------------------------------------------------------- */

struct window {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t out, failed;
};

static void window_done(sd_store_req_t *req, void *ctx)
{
	struct window *w = ctx;

	pthread_mutex_lock(&w->mu);
	w->out--;
	w->failed += sd_store_req_status(req) != 0;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	sd_store_req_free(req);
}

/* n PUTs of size bytes, up to 256 outstanding: seconds. */
static double run_puts(sd_store_t *s, size_t n, size_t size, const char *tag)
{
	struct window w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	uint8_t *val = calloc(1, size);
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (size_t i = 0; i < n; i++) {
		sd_store_req_t *req = sd_store_req_new();
		char key[48];
		snprintf(key, sizeof(key), "%s-%08zu", tag, i);
		sd_store_req_put(req, SD_STORE_DB_UPLOAD_DIGESTS, K(key), val, size, 0);
		pthread_mutex_lock(&w.mu);
		while (w.out >= 256)
			pthread_cond_wait(&w.cv, &w.mu);
		w.out++;
		pthread_mutex_unlock(&w.mu);
		assert_int_equal(sd_store_submit(s, req, window_done, &w), 0);
	}
	pthread_mutex_lock(&w.mu);
	while (w.out > 0)
		pthread_cond_wait(&w.cv, &w.mu);
	pthread_mutex_unlock(&w.mu);
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_int_equal(w.failed, 0);
	free(val);
	return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
}

static void test_cost(void **state)
{
	sd_store_t *local = open_local(), *remote = NULL;
	double tl_small, tl_big, tr_small, tr_big;

	(void)state;
	tl_small = run_puts(local, 10000, 32, "ls");
	tl_big = run_puts(local, 1000, 64 << 10, "lb");
	sd_store_close(local);
	sd_storeproc_t *sp = start(&remote);
	tr_small = run_puts(remote, 10000, 32, "rs");
	tr_big = run_puts(remote, 1000, 64 << 10, "rb");
	sd_store_close(remote);
	sd_storeproc_free(sp);
	print_message("  10000 PUTs of 32 bytes:  local %.3f s (%.0f/s), store process %.3f s (%.0f/s)\n", tl_small,
	              10000 / tl_small, tr_small, 10000 / tr_small);
	print_message("  1000 PUTs of 64 KiB:     local %.3f s (%.0f MiB/s), store process %.3f s (%.0f MiB/s)\n",
	              tl_big, 1000 / 16.0 / tl_big, tr_big, 1000 / 16.0 / tr_big);
}

/* --- The statistics (STATS, STATS-REPLY) ------------------------------------------------------ */

static sd_store_stats_t some_stats(void)
{
	sd_store_stats_t st = {.commits = 9, .batches = 11, .largest_batch = 4, .splits = 1, .grown = 2};

	st.hist_day = (sd_date_t){2026, 3, 13};
	sd_commit_hist_observe(&st.hist, 1, 400000);
	sd_commit_hist_observe(&st.hist, 4, 3000000);
	sd_commit_hist_observe(&st.hist, 300, 2000000000);
	return st;
}

static void test_stats_round_trip(void **state)
{
	uint8_t req[SD_STOREWIRE_STATS_REQ_BYTES], rep[SD_STOREWIRE_STATS_REPLY_BYTES],
	        big[SD_STOREWIRE_STATS_REPLY_BYTES + 1];
	sd_store_stats_t st = some_stats(), got = {.requests = 77, .failed = 3};
	sd_date_t day = {2026, 3, 14}, d;
	uint64_t seq = 0;
	uint8_t kind = 0;

	(void)state;
	sd_storewire_encode_stats_req(42, day, req);
	assert_int_equal(sd_storewire_decode_ctl_req(req, sizeof(req), &seq, &kind), 0);
	assert_int_equal(kind, SD_STOREWIRE_CTL_STATS);
	assert_int_equal(sd_storewire_decode_stats_req(req, sizeof(req), &seq, &d), 0);
	assert_int_equal(seq, 42);
	assert_int_equal(sd_date_cmp(d, day), 0);
	for (size_t n = 0; n < sizeof(req); n++) {
		assert_int_equal(sd_storewire_decode_stats_req(req, n, &seq, &d), SD_ERR_PROTOCOL);
		assert_int_equal(sd_storewire_decode_ctl_req(req, n, &seq, &kind) == 0, false);
	}
	sd_storewire_encode_stats_reply(7, &st, rep);
	assert_int_equal(sd_storewire_decode_stats_reply(rep, sizeof(rep), 7, &got), 0);
	assert_true(got.has_hist);
	assert_int_equal(got.requests, 77); /* the front end's own, untouched */
	assert_int_equal(got.failed, 3);
	assert_int_equal(got.commits, 9);
	assert_int_equal(got.batches, 11);
	assert_int_equal(got.largest_batch, 4);
	assert_int_equal(got.splits, 1);
	assert_int_equal(got.grown, 2);
	assert_int_equal(sd_date_cmp(got.hist_day, st.hist_day), 0);
	assert_memory_equal(&got.hist, &st.hist, sizeof(st.hist));
	assert_int_equal(sd_storewire_decode_stats_reply(rep, sizeof(rep), 8, &got), SD_ERR_PROTOCOL);
	for (size_t n = 0; n < sizeof(rep); n++)
		assert_int_equal(sd_storewire_decode_stats_reply(rep, n, 7, &got), SD_ERR_PROTOCOL);
	memcpy(big, rep, sizeof(rep));
	big[sizeof(rep)] = 0;
	assert_int_equal(sd_storewire_decode_stats_reply(big, sizeof(big), 7, &got), SD_ERR_PROTOCOL);
}

static void test_stats_refused(void **state)
{
	uint8_t req[SD_STOREWIRE_STATS_REQ_BYTES], rep[SD_STOREWIRE_STATS_REPLY_BYTES],
	        bad[SD_STOREWIRE_STATS_REPLY_BYTES];
	sd_store_stats_t st = some_stats(), got = {0};
	const size_t batch_n = 8 + 4 + 40, lat_n = batch_n + 1 + 9 * 8 + 8;
	sd_date_t d;
	uint64_t seq;
	uint8_t kind;

	(void)state;
	/* A request: a date that is no date, or another kind with a date. */
	sd_storewire_encode_stats_req(1, (sd_date_t){2026, 3, 14}, req);
	sd_store_le32(req + 13, 20260230);
	assert_int_equal(sd_storewire_decode_stats_req(req, sizeof(req), &seq, &d), SD_ERR_PROTOCOL);
	assert_int_equal(sd_storewire_decode_ctl_req(req, sizeof(req), &seq, &kind), SD_ERR_PROTOCOL);
	sd_storewire_encode_stats_req(1, (sd_date_t){2026, 3, 14}, req);
	req[12] = SD_STOREWIRE_CTL_BACKUP_STATUS;
	assert_int_equal(sd_storewire_decode_stats_req(req, sizeof(req), &seq, &d), SD_ERR_PROTOCOL);
	assert_int_equal(sd_storewire_decode_ctl_req(req, sizeof(req), &seq, &kind), SD_ERR_PROTOCOL);
	/* A reply: each impossible field alone. */
	sd_storewire_encode_stats_reply(7, &st, rep);
	memcpy(bad, rep, sizeof(bad));
	sd_store_le32(bad + 8, 0); /* no day */
	assert_int_equal(sd_storewire_decode_stats_reply(bad, sizeof(bad), 7, &got), SD_ERR_PROTOCOL);
	memcpy(bad, rep, sizeof(bad));
	bad[batch_n] = 10; /* another bucket count */
	assert_int_equal(sd_storewire_decode_stats_reply(bad, sizeof(bad), 7, &got), SD_ERR_PROTOCOL);
	memcpy(bad, rep, sizeof(bad));
	bad[lat_n] = 11;
	assert_int_equal(sd_storewire_decode_stats_reply(bad, sizeof(bad), 7, &got), SD_ERR_PROTOCOL);
	memcpy(bad, rep, sizeof(bad));
	sd_store_le64(bad + batch_n + 1, UINT64_MAX); /* a count that does not fit */
	assert_int_equal(sd_storewire_decode_stats_reply(bad, sizeof(bad), 7, &got), SD_ERR_PROTOCOL);
	memcpy(bad, rep, sizeof(bad));
	sd_store_le64(bad + batch_n + 1 + 9 * 8, 2); /* fewer requests than commits */
	assert_int_equal(sd_storewire_decode_stats_reply(bad, sizeof(bad), 7, &got), SD_ERR_PROTOCOL);
	assert_false(got.has_hist); /* nothing written on failure */
	assert_int_equal(got.commits, 0);
}

static void test_process_stats(void **state)
{
	sd_store_t *remote = NULL;
	sd_storeproc_t *sp = start(&remote);
	sd_store_stats_t st;
	sd_date_t today = sd_date_today(), next = sd_date_add_days(today, 1);
	char key[16];

	(void)state;
	for (int i = 0; i < 4; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(call_put(remote, SD_STORE_DB_META, key, "v", 0), 0);
	}
	assert_int_equal(sd_store_stats_fetch(remote, today, &st), 0);
	assert_true(st.has_hist);
	assert_true(st.commits >= 4);
	assert_int_equal(st.requests, 4); /* the front end's count */
	assert_int_equal(sd_hist_count(&st.hist.batch, SD_HIST_BATCH_BUCKETS), 0);
	sd_store_stats(remote, &st);
	assert_false(st.has_hist); /* never waits: knows only the front end's counts */
	/* The front end's later date publishes the store process's day. */
	assert_int_equal(sd_store_stats_fetch(remote, next, &st), 0);
	assert_int_equal(sd_hist_count(&st.hist.batch, SD_HIST_BATCH_BUCKETS), st.commits);
	assert_int_equal(sd_hist_count(&st.hist.latency, SD_HIST_LATENCY_BUCKETS), st.commits);
	assert_true(st.hist.batch.sum >= 4);
	assert_int_equal(call_put(remote, SD_STORE_DB_META, "later", "v", 0), 0);
	uint64_t shown = sd_hist_count(&st.hist.batch, SD_HIST_BATCH_BUCKETS);
	assert_int_equal(sd_store_stats_fetch(remote, next, &st), 0);
	assert_int_equal(sd_hist_count(&st.hist.batch, SD_HIST_BATCH_BUCKETS), shown);
	assert_int_equal(sd_store_stats_fetch(remote, sd_date_add_days(today, 2), &st), 0);
	assert_int_equal(sd_hist_count(&st.hist.batch, SD_HIST_BATCH_BUCKETS), shown + 1);
	stop(remote, sp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_req_round_trip),
	        cmocka_unit_test(test_req_truncated_or_extra),
	        cmocka_unit_test(test_req_fields_refused),
	        cmocka_unit_test_setup_teardown(test_reply_round_trip, dir_setup, dir_teardown),
	        cmocka_unit_test_setup_teardown(test_reply_refused, dir_setup, dir_teardown),
	        cmocka_unit_test(test_policy),
	        cmocka_unit_test(test_policy_upload_states),
	        cmocka_unit_test(test_policy_leaves),
	        cmocka_unit_test_setup_teardown(test_process_held_requests, dir_setup, dir_teardown),
	        cmocka_unit_test_setup_teardown(test_process_serves_in_order, dir_setup, dir_teardown),
	        cmocka_unit_test_setup_teardown(test_process_large_batch, dir_setup, dir_teardown),
	        cmocka_unit_test_setup_teardown(test_process_violation_and_eof, dir_setup, dir_teardown),
	        cmocka_unit_test_setup_teardown(test_process_killed_is_lost, dir_setup, dir_teardown),
	        cmocka_unit_test_setup_teardown(test_process_killed_with_held_requests, dir_setup, dir_teardown),
	        cmocka_unit_test_setup_teardown(test_process_start_failure, dir_setup, dir_teardown),
	        cmocka_unit_test(test_stats_round_trip),
	        cmocka_unit_test(test_stats_refused),
	        cmocka_unit_test_setup_teardown(test_process_stats, dir_setup, dir_teardown),
	        cmocka_unit_test_setup_teardown(test_cost, dir_setup, dir_teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, unit_setup, NULL);
}
