/*
 * fuzz_storewire.c — libFuzzer target for the store process's messages (server/store_wire.c):
 * the requests the store process decodes from a front end that may be compromised, and
 * the replies the front end decodes from a store process that may be.
 *
 * The first byte picks the decoder: 0 a request (which, when it decodes, must encode back
 * to exactly the same bytes, and which the policy must then allow or refuse, nothing
 * else); 2 a STATS request (which, when it decodes, must encode back, and which the
 * control decoder must take as STATS); 3 a STATS-REPLY numbered by its own first 8 bytes
 * (which, when it decodes, must encode back, with counts that fit); any other a reply to
 * the fixed request of fixed_request() below, numbered by the input's own first 8 bytes
 * (which, when it decodes, must encode back to exactly the same bytes).
 * The layouts have one encoding per value, so a decoder that took two spellings of one
 * message, or read past a field, shows up.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sealdrop/audit.h"
#include "sealdrop/bytes.h"
#include "sealdrop/storewire.h"

#define K(s) (const uint8_t *)(s), strlen(s)

/* One operation of every kind: the request the seed replies answer. */
static sd_store_req_t *fixed_request(void)
{
	sd_audit_event_t ev = {.type = SD_AUDIT_TRANSITION, .date = {2026, 11, 23}};
	sd_store_req_t *req = sd_store_req_new();
	uint8_t *leaf = NULL;
	size_t len = 0;

	snprintf(ev.case_number, sizeof(ev.case_number), "2026-000001");
	snprintf(ev.role, sizeof(ev.role), "server");
	snprintf(ev.detail, sizeof(ev.detail), "closed");
	if (req == NULL || sd_audit_leaf_encode(&ev, &leaf, &len) != 0)
		abort();
	sd_store_req_get(req, SD_STORE_DB_CASES, K("2026-000002"));
	sd_store_req_put(req, SD_STORE_DB_CASES, K("2026-000001"), K("again"), SD_STORE_NOOVERWRITE);
	sd_store_req_del(req, SD_STORE_DB_UPLOADS, K("u1"));
	sd_store_req_check_absent(req, SD_STORE_DB_CASES, K("2026-000009"));
	sd_store_req_scan(req, SD_STORE_DB_CASES, K("2026"), NULL, 0, 10);
	sd_store_req_scan_keys(req, SD_STORE_DB_CASES, NULL, 0, NULL, 0, 10);
	sd_store_req_del_prefix(req, SD_STORE_DB_CHUNKS, K("u1"), 10);
	sd_store_req_check_count(req, SD_STORE_DB_CHUNKS, K("u2"), 0);
	sd_store_req_log_append(req, leaf, len, K("2026-000001"));
	free(leaf);
	return req;
}

static void same_bytes(int r, uint8_t *enc, size_t enc_len, const uint8_t *data, size_t size)
{
	if (r == SD_ERR_NOMEM)
		return;
	if (r != 0 || enc_len != size || (size > 0 && !sd_equal(enc, data, size)))
		abort();
	free(enc);
}

static void request(const uint8_t *data, size_t size)
{
	sd_store_req_t *req = NULL;
	uint8_t *enc = NULL;
	size_t len = 0;
	uint64_t seq;
	int r = sd_storewire_decode_req(data, size, &seq, &req);

	if (r != 0) {
		if (r != SD_ERR_PROTOCOL && r != SD_ERR_NOMEM)
			abort();
		return;
	}
	r = sd_storewire_encode_req(req, seq, &enc, &len);
	same_bytes(r, enc, len, data, size);
	r = sd_storewire_policy_check(req);
	if (r != 0 && r != SD_ERR_REFUSED)
		abort();
	sd_store_req_free(req);
}

static void reply(const uint8_t *data, size_t size)
{
	static sd_store_req_t *req;
	uint8_t *enc = NULL;
	size_t len = 0;
	uint64_t seq = size >= 8 ? sd_load_le64(data) : 0;
	int r;

	if (req == NULL)
		req = fixed_request();
	if ((r = sd_storewire_decode_reply(data, size, seq, req)) != 0) {
		if (r != SD_ERR_PROTOCOL && r != SD_ERR_NOMEM)
			abort();
		return;
	}
	r = sd_storewire_encode_reply(req, seq, &enc, &len);
	same_bytes(r, enc, len, data, size);
}

static void stats_request(const uint8_t *data, size_t size)
{
	uint8_t enc[SD_STOREWIRE_STATS_REQ_BYTES];
	uint64_t seq, seq2;
	uint8_t kind;
	sd_date_t today;
	int r = sd_storewire_decode_stats_req(data, size, &seq, &today);

	if (r != 0) {
		if (r != SD_ERR_PROTOCOL)
			abort();
		return;
	}
	if (sd_storewire_decode_ctl_req(data, size, &seq2, &kind) != 0 || kind != SD_STOREWIRE_CTL_STATS || seq2 != seq)
		abort();
	sd_storewire_encode_stats_req(seq, today, enc);
	if (size != sizeof(enc) || !sd_equal(enc, data, size))
		abort();
}

static void stats_reply(const uint8_t *data, size_t size)
{
	uint8_t enc[SD_STOREWIRE_STATS_REPLY_BYTES];
	uint64_t seq = size >= 8 ? sd_load_le64(data) : 0;
	sd_store_stats_t st = {0};
	int r = sd_storewire_decode_stats_reply(data, size, seq, &st);

	if (r != 0) {
		if (r != SD_ERR_PROTOCOL || st.has_hist)
			abort();
		return;
	}
	if (!st.has_hist || st.hist.batch.sum < sd_hist_count(&st.hist.batch, SD_HIST_BATCH_BUCKETS))
		abort();
	sd_storewire_encode_stats_reply(seq, &st, enc);
	if (size != sizeof(enc) || !sd_equal(enc, data, size))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] == 0)
		request(data + 1, size - 1);
	else if (data[0] == 2)
		stats_request(data + 1, size - 1);
	else if (data[0] == 3)
		stats_reply(data + 1, size - 1);
	else
		reply(data + 1, size - 1);
	return 0;
}
