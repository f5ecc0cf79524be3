/*
 * test_privsep.c — the messages between sealdropd's processes (server/privsep.c) and the
 * key process that answers them (server/keyproc.c).
 *
 * The codecs: each request type round-trips; every truncation and every extra byte of a
 * valid payload is refused; a boolean other than 0/1, a NUL inside a string, a string
 * over its field, an invalid date or an empty box are refused; an unknown type and a
 * length over the type's maximum are refused at the header. The framing over a real
 * socketpair: a clean close between messages, a close mid-message; the same through the
 * buffered reader, fed by batched writes, which write themselves when full by count or by
 * bytes, and drop what they held when the peer is gone. The key process: its
 * signatures are byte for byte those signed in-process (Ed25519 is deterministic), a
 * refusal leaves it serving, a tree head that goes back is refused, an unknown message
 * ends it with status 2, and a killed key process is lost for good. Last, the cost: 10,000
 * receipts signed in-process and through the key process, printed (no assertion on time).
 */
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "unit.h"
#include "sealdrop/bytes.h"
#include "sealdrop/keyproc.h"
#include "sealdrop/privsep.h"

#define BENCH_N 10000

typedef int (*decode_fn)(const uint8_t *p, size_t len, void *out);

static void base_receipt(sd_receipt_t *rc)
{
	memset(rc, 0, sizeof(*rc));
	rc->version = SD_RECEIPT_VERSION;
	snprintf(rc->deployment, sizeof(rc->deployment), "demo");
	snprintf(rc->case_number, sizeof(rc->case_number), "2026-000001");
	for (int i = 0; i < 32; i++)
		rc->header_digest[i] = (uint8_t)(0x80 + i), rc->attorney_cert[i] = (uint8_t)i;
	rc->received = (sd_date_t){2026, 11, 23};
	rc->decision_due = (sd_date_t){2027, 1, 22};
	snprintf(rc->attorney, sizeof(rc->attorney), "Attorney Kim (김민지)");
	rc->has_leaf = true;
	rc->leaf_index = 41;
	rc->has_attorney_cert = true;
}

static uint8_t box_a[100], box_b[120], box_c[140];

static void base_notice(sd_notice_t *n, bool attorney)
{
	memset(n, 0, sizeof(*n));
	memset(box_a, 0xa1, sizeof(box_a));
	memset(box_b, 0xb2, sizeof(box_b));
	memset(box_c, 0xc3, sizeof(box_c));
	n->version = SD_NOTICE_VERSION;
	snprintf(n->deployment, sizeof(n->deployment), "demo");
	snprintf(n->case_number, sizeof(n->case_number), "2026-000002");
	n->seq = 3;
	n->date = (sd_date_t){2026, 12, 1};
	n->kind = SD_NOTICE_EXTENSION;
	n->to_whistleblower = box_a, n->whistleblower_len = sizeof(box_a);
	if (attorney)
		n->to_attorney = box_b, n->attorney_len = sizeof(box_b);
	n->to_commission = box_c, n->commission_len = sizeof(box_c);
}

static void base_head(sd_loghead_t *h, uint64_t size, uint8_t fill)
{
	memset(h, 0, sizeof(*h));
	h->version = SD_LOGHEAD_VERSION;
	snprintf(h->deployment, sizeof(h->deployment), "demo");
	h->size = size;
	memset(h->root, fill, sizeof(h->root));
	h->date = (sd_date_t){2026, 11, 30};
}

static void base_export(sd_export_receipt_t *er)
{
	memset(er, 0, sizeof(*er));
	er->version = SD_EXPORT_RECEIPT_VERSION;
	snprintf(er->deployment, sizeof(er->deployment), "demo");
	snprintf(er->case_number, sizeof(er->case_number), "2026-000003");
	snprintf(er->agency, sizeof(er->agency), "bai");
	memset(er->agency_key_id, 0x11, sizeof(er->agency_key_id));
	memset(er->header_digest, 0x22, sizeof(er->header_digest));
	memset(er->bundle_digest, 0x33, sizeof(er->bundle_digest));
	er->date = (sd_date_t){2026, 12, 2};
	er->leaf_index = 77;
}

/* Wrappers with one signature, for the table-driven checks. */
static int dec_receipt(const uint8_t *p, size_t len, void *out)
{
	return sd_privsep_decode_receipt(p, len, out);
}

static int dec_notice(const uint8_t *p, size_t len, void *out)
{
	int r = sd_privsep_decode_notice(p, len, out);

	if (r == 0)
		sd_notice_clear(out);
	return r;
}

static int dec_head(const uint8_t *p, size_t len, void *out)
{
	return sd_privsep_decode_head(p, len, out);
}

static int dec_export(const uint8_t *p, size_t len, void *out)
{
	return sd_privsep_decode_export(p, len, out);
}

/* Every proper prefix and every longer copy (1..3 extra bytes) of p is refused, and the
 * whole p is under the type's maximum. */
static void assert_exact(uint32_t type, const uint8_t *p, size_t len, decode_fn dec)
{
	union {
		sd_receipt_t rc;
		sd_notice_t n;
		sd_loghead_t h;
		sd_export_receipt_t er;
	} out;
	uint8_t *longer = malloc(len + 3);

	assert_non_null(longer);
	assert_true(len <= (size_t)sd_privsep_max(type));
	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(dec(p, cut, &out), SD_ERR_PROTOCOL);
	memcpy(longer, p, len);
	for (size_t extra = 1; extra <= 3; extra++) {
		memset(longer + len, 0, extra);
		assert_int_equal(dec(longer, len + extra, &out), SD_ERR_PROTOCOL);
	}
	assert_int_equal(dec(p, len, &out), 0);
	free(longer);
}

/* --- the codecs ------------------------------------------------------------------------- */

static void test_receipt_round_trip(void **state)
{
	sd_receipt_t rc, got;
	uint8_t *p;
	size_t len;

	(void)state;
	base_receipt(&rc);
	assert_int_equal(sd_privsep_encode_receipt(&rc, &p, &len), 0);
	assert_int_equal(sd_privsep_decode_receipt(p, len, &got), 0);
	assert_int_equal(got.version, rc.version);
	assert_string_equal(got.deployment, rc.deployment);
	assert_string_equal(got.case_number, rc.case_number);
	assert_memory_equal(got.header_digest, rc.header_digest, 32);
	assert_int_equal(sd_date_cmp(got.received, rc.received), 0);
	assert_int_equal(sd_date_cmp(got.decision_due, rc.decision_due), 0);
	assert_string_equal(got.attorney, rc.attorney);
	assert_true(got.has_leaf && got.leaf_index == 41 && got.has_attorney_cert);
	assert_memory_equal(got.attorney_cert, rc.attorney_cert, 32);
	assert_exact(SD_PRIVSEP_SIGN_RECEIPT, p, len, dec_receipt);
	free(p);
}

static void test_notice_round_trip(void **state)
{
	sd_notice_t n, got;
	uint8_t *p;
	size_t len;

	(void)state;
	for (int attorney = 0; attorney <= 1; attorney++) {
		base_notice(&n, attorney);
		assert_int_equal(sd_privsep_encode_notice(&n, &p, &len), 0);
		assert_int_equal(sd_privsep_decode_notice(p, len, &got), 0);
		assert_string_equal(got.case_number, n.case_number);
		assert_int_equal(got.seq, 3);
		assert_int_equal(got.kind, SD_NOTICE_EXTENSION);
		assert_int_equal(sd_date_cmp(got.date, n.date), 0);
		assert_int_equal(got.whistleblower_len, sizeof(box_a));
		assert_memory_equal(got.to_whistleblower, box_a, sizeof(box_a));
		assert_int_equal(got.to_attorney != NULL, attorney);
		assert_int_equal(got.attorney_len, attorney ? sizeof(box_b) : 0);
		assert_int_equal(got.commission_len, sizeof(box_c));
		assert_memory_equal(got.to_commission, box_c, sizeof(box_c));
		sd_notice_clear(&got);
		assert_exact(SD_PRIVSEP_SIGN_NOTICE, p, len, dec_notice);
		free(p);
	}
}

static void test_head_and_export_round_trip(void **state)
{
	sd_loghead_t h, hg;
	sd_export_receipt_t er, eg;
	uint8_t *p;
	size_t len;

	(void)state;
	base_head(&h, (uint64_t)1 << 40, 0x5a);
	assert_int_equal(sd_privsep_encode_head(&h, &p, &len), 0);
	assert_int_equal(sd_privsep_decode_head(p, len, &hg), 0);
	assert_true(sd_loghead_same(&h, &hg));
	assert_exact(SD_PRIVSEP_SIGN_HEAD, p, len, dec_head);
	free(p);
	base_export(&er);
	assert_int_equal(sd_privsep_encode_export(&er, &p, &len), 0);
	assert_int_equal(sd_privsep_decode_export(p, len, &eg), 0);
	assert_string_equal(eg.agency, "bai");
	assert_string_equal(eg.case_number, er.case_number);
	assert_memory_equal(eg.agency_key_id, er.agency_key_id, SD_KEY_ID_BYTES);
	assert_memory_equal(eg.header_digest, er.header_digest, SD_HASH_BYTES);
	assert_memory_equal(eg.bundle_digest, er.bundle_digest, SD_HASH_BYTES);
	assert_int_equal(sd_date_cmp(eg.date, er.date), 0);
	assert_true(eg.leaf_index == 77);
	assert_exact(SD_PRIVSEP_SIGN_EXPORT, p, len, dec_export);
	free(p);
}

/* Fields a decoder must refuse though the length adds up. */
static void test_bad_fields_refused(void **state)
{
	sd_receipt_t rc, got;
	sd_loghead_t h, hg;
	uint8_t *p, *q;
	size_t len, off;

	(void)state;
	base_receipt(&rc);
	assert_int_equal(sd_privsep_encode_receipt(&rc, &p, &len), 0);
	/* has_leaf sits after version, two strs, the digest, two dates and the attorney */
	off = 4 + 2 + strlen(rc.deployment) + 2 + strlen(rc.case_number) + 32 + 4 + 4 + 2 + strlen(rc.attorney);
	assert_int_equal(p[off], 1);
	p[off] = 2;
	assert_int_equal(sd_privsep_decode_receipt(p, len, &got), SD_ERR_PROTOCOL);
	p[off] = 1;
	p[4 + 2 + 1] = '\0'; /* a NUL inside the deployment */
	assert_int_equal(sd_privsep_decode_receipt(p, len, &got), SD_ERR_PROTOCOL);
	free(p);
	/* a deployment longer than its field, with the bytes to back it */
	assert_non_null(q = calloc(1, 4 + 2 + SD_DEPLOYMENT_MAX + 1));
	sd_store_le16(q + 4, SD_DEPLOYMENT_MAX + 1);
	memset(q + 6, 'a', SD_DEPLOYMENT_MAX + 1);
	assert_int_equal(sd_privsep_decode_head(q, 4 + 2 + SD_DEPLOYMENT_MAX + 1, &hg), SD_ERR_PROTOCOL);
	free(q);
	/* 2026-02-30 is no date */
	base_head(&h, 3, 1);
	assert_int_equal(sd_privsep_encode_head(&h, &p, &len), 0);
	sd_store_le32(p + len - 4, 20260230);
	assert_int_equal(sd_privsep_decode_head(p, len, &hg), SD_ERR_PROTOCOL);
	free(p);
	/* encoders refuse what the layout cannot carry */
	h.date = (sd_date_t){2026, 2, 30};
	assert_int_equal(sd_privsep_encode_head(&h, &p, &len), SD_ERR_INVALID);
	base_receipt(&rc);
	memset(rc.attorney, 'x', sizeof(rc.attorney)); /* no NUL */
	assert_int_equal(sd_privsep_encode_receipt(&rc, &p, &len), SD_ERR_INVALID);
}

static void test_empty_box_refused(void **state)
{
	sd_notice_t n, got;
	uint8_t *p;
	size_t len;

	(void)state;
	base_notice(&n, false);
	n.attorney_len = 5; /* a length without a box */
	assert_int_equal(sd_privsep_encode_notice(&n, &p, &len), SD_ERR_INVALID);
	n.attorney_len = 0;
	n.whistleblower_len = 0;
	assert_int_equal(sd_privsep_encode_notice(&n, &p, &len), SD_ERR_INVALID);
	base_notice(&n, false);
	assert_int_equal(sd_privsep_encode_notice(&n, &p, &len), 0);
	/* the whistleblower's box length, after version, two strs, seq, date and kind */
	sd_store_le32(p + 4 + 2 + 4 + 2 + 11 + 4 + 4 + 4, 0);
	assert_int_equal(sd_privsep_decode_notice(p, len, &got), SD_ERR_PROTOCOL);
	free(p);
}

static void test_header_and_answers(void **state)
{
	uint8_t hdr[SD_PRIVSEP_HEADER_BYTES], code[4];
	uint32_t type;
	size_t len;
	char *json;
	int c;

	(void)state;
	sd_store_le32(hdr, 0x0105); /* unknown */
	sd_store_le32(hdr + 4, 0);
	assert_int_equal(sd_privsep_header_decode(hdr, &type, &len), SD_ERR_PROTOCOL);
	sd_store_le32(hdr, SD_PRIVSEP_SIGN_HEAD);
	sd_store_le32(hdr + 4, (uint32_t)sd_privsep_max(SD_PRIVSEP_SIGN_HEAD) + 1);
	assert_int_equal(sd_privsep_header_decode(hdr, &type, &len), SD_ERR_PROTOCOL);
	sd_store_le32(hdr + 4, (uint32_t)sd_privsep_max(SD_PRIVSEP_SIGN_HEAD));
	assert_int_equal(sd_privsep_header_decode(hdr, &type, &len), 0);
	sd_store_le32(hdr, SD_PRIVSEP_READY);
	sd_store_le32(hdr + 4, 1);
	assert_int_equal(sd_privsep_header_decode(hdr, &type, &len), SD_ERR_PROTOCOL);
	assert_int_equal(sd_privsep_answer_type(SD_PRIVSEP_SIGN_NOTICE), SD_PRIVSEP_SIGNED_NOTICE);
	assert_int_equal(sd_privsep_answer_type(SD_PRIVSEP_SIGNED_NOTICE), 0);
	/* signed documents: no NUL, not empty, not a request type */
	assert_int_equal(sd_privsep_decode_json(SD_PRIVSEP_SIGNED_HEAD, (const uint8_t *)"{}\n", 3, &json), 0);
	assert_string_equal(json, "{}\n");
	free(json);
	assert_int_equal(sd_privsep_decode_json(SD_PRIVSEP_SIGNED_HEAD, (const uint8_t *)"{\0}", 3, &json),
	                 SD_ERR_PROTOCOL);
	assert_int_equal(sd_privsep_decode_json(SD_PRIVSEP_SIGNED_HEAD, (const uint8_t *)"", 0, &json),
	                 SD_ERR_PROTOCOL);
	assert_int_equal(sd_privsep_decode_json(SD_PRIVSEP_SIGN_HEAD, (const uint8_t *)"{}", 2, &json),
	                 SD_ERR_PROTOCOL);
	/* refusals: exactly 4 bytes of a known error code */
	sd_privsep_encode_refused(SD_ERR_INVALID, code);
	assert_int_equal(sd_privsep_decode_refused(code, 4, &c), 0);
	assert_int_equal(c, SD_ERR_INVALID);
	assert_int_equal(sd_privsep_decode_refused(code, 3, &c), SD_ERR_PROTOCOL);
	sd_store_le32(code, 0);
	assert_int_equal(sd_privsep_decode_refused(code, 4, &c), SD_ERR_PROTOCOL);
	sd_store_le32(code, (uint32_t)-1000);
	assert_int_equal(sd_privsep_decode_refused(code, 4, &c), SD_ERR_PROTOCOL);
}

static void test_framing(void **state)
{
	uint8_t payload[5] = {1, 2, 3, 4, 5}, *got;
	uint32_t type;
	size_t len;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(sd_privsep_send(sv[0], SD_PRIVSEP_SIGNED_HEAD, payload, sizeof(payload)), 0);
	assert_int_equal(sd_privsep_send(sv[0], SD_PRIVSEP_READY, NULL, 0), 0);
	assert_int_equal(sd_privsep_recv(sv[1], &type, &got, &len), 0);
	assert_int_equal(type, SD_PRIVSEP_SIGNED_HEAD);
	assert_int_equal(len, 5);
	assert_memory_equal(got, payload, 5);
	free(got);
	assert_int_equal(sd_privsep_recv(sv[1], &type, &got, &len), 0);
	assert_int_equal(type, SD_PRIVSEP_READY);
	assert_null(got);
	/* nothing over a type's maximum is even sent */
	assert_int_equal(sd_privsep_send(sv[0], SD_PRIVSEP_REFUSED, payload, 5), SD_ERR_INTERNAL);
	/* a header promising 5 bytes, then 2 and the end: mid-message */
	assert_int_equal(write(sv[0], "\x03\x81\x00\x00\x05\x00\x00\x00\x01\x02", 10), 10);
	close(sv[0]);
	assert_int_equal(sd_privsep_recv(sv[1], &type, &got, &len), SD_ERR_IO);
	close(sv[1]);
	/* a close between messages is the clean end */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	close(sv[0]);
	assert_int_equal(sd_privsep_recv(sv[1], &type, &got, &len), SD_ERR_UNAVAILABLE);
	close(sv[1]);
}

/* Reads the next message with rd and checks it is type with the payload want[0..len). */
static void expect_message(sd_privsep_reader_t *rd, uint32_t type, const uint8_t *want, size_t len)
{
	const uint8_t *p;
	uint32_t t;
	size_t n;

	assert_int_equal(sd_privsep_reader_next(rd, &t, &p, &n), 0);
	assert_int_equal(t, type);
	assert_int_equal(n, len);
	if (len == 0)
		assert_null(p);
	else
		assert_memory_equal(p, want, len);
}

static uint8_t *filled(size_t len, uint8_t seed)
{
	uint8_t *p = malloc(len);

	assert_non_null(p);
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i);
	return p;
}

/* Batched writes and the buffered reader: order kept across the automatic flushes; empty
 * payloads; a message larger than the reader's buffer; header and payload split over
 * reads; then the same ends as sd_privsep_recv (clean, mid-message, unknown type). */
static void test_reader_and_batch(void **state)
{
	sd_privsep_batch_t b = {0};
	sd_privsep_reader_t rd;
	uint8_t *big = filled(1000, 9), *small = filled(100, 1);
	const uint8_t *p;
	uint32_t type;
	size_t len;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	for (unsigned i = 0; i < 150; i++) /* flushes itself at 64 and 128 */
		assert_int_equal(
		        sd_privsep_batch_add(&b, sv[0], SD_PRIVSEP_SIGNED_HEAD, filled(i % 40, (uint8_t)i), i % 40), 0);
	assert_int_equal(b.n, 150 - 128);
	assert_int_equal(sd_privsep_batch_add(&b, sv[0], SD_PRIVSEP_READY, NULL, 0), 0);
	assert_int_equal(sd_privsep_batch_add(&b, sv[0], SD_PRIVSEP_SIGNED_HEAD, filled(1000, 9), 1000), 0);
	/* not in the protocol: refused, the batch as it was */
	assert_int_equal(sd_privsep_batch_add(&b, sv[0], SD_PRIVSEP_REFUSED, filled(5, 0), 5), SD_ERR_INTERNAL);
	assert_int_equal(b.n, 150 - 128 + 2);
	assert_int_equal(sd_privsep_batch_flush(&b, sv[0]), 0);
	assert_int_equal(b.n, 0);
	assert_int_equal(sd_privsep_batch_flush(&b, sv[0]), 0); /* nothing: nothing written */
	assert_int_equal(sd_privsep_send(sv[0], SD_PRIVSEP_SIGNED_HEAD, small, 100), 0);

	assert_int_equal(sd_privsep_reader_init(&rd, sv[1], 64), 0);
	for (unsigned i = 0; i < 150; i++) {
		uint8_t *want = filled(i % 40, (uint8_t)i);
		expect_message(&rd, SD_PRIVSEP_SIGNED_HEAD, want, i % 40);
		free(want);
	}
	expect_message(&rd, SD_PRIVSEP_READY, NULL, 0);
	expect_message(&rd, SD_PRIVSEP_SIGNED_HEAD, big, 1000); /* larger than the buffer */
	expect_message(&rd, SD_PRIVSEP_SIGNED_HEAD, small, 100);
	/* a header arriving in two writes, then its payload */
	assert_int_equal(write(sv[0], "\x03\x81\x00", 3), 3);
	assert_int_equal(write(sv[0], "\x00\x02\x00\x00\x00\x07\x08", 7), 7);
	expect_message(&rd, SD_PRIVSEP_SIGNED_HEAD, (const uint8_t *)"\x07\x08", 2);
	/* a header promising 5 bytes, then 2 and the end: mid-message */
	assert_int_equal(write(sv[0], "\x03\x81\x00\x00\x05\x00\x00\x00\x01\x02", 10), 10);
	close(sv[0]);
	assert_int_equal(sd_privsep_reader_next(&rd, &type, &p, &len), SD_ERR_IO);
	sd_privsep_reader_free(&rd);
	close(sv[1]);

	/* a clean close between messages; an unknown type; a close inside a header */
	const struct {
		const char *bytes;
		size_t len;
		int want;
	} ends[] = {{"", 0, SD_ERR_UNAVAILABLE},
	            {"\x77\x77\x00\x00\x00\x00\x00\x00", 8, SD_ERR_PROTOCOL},
	            {"\x03\x81", 2, SD_ERR_IO}};
	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
		assert_int_equal(write(sv[0], ends[i].bytes, ends[i].len), (ssize_t)ends[i].len);
		close(sv[0]);
		assert_int_equal(sd_privsep_reader_init(&rd, sv[1], 64), 0);
		assert_int_equal(sd_privsep_reader_next(&rd, &type, &p, &len), ends[i].want);
		sd_privsep_reader_free(&rd);
		close(sv[1]);
	}
	free(big);
	free(small);
}

/* A reader thread's tally of what came through a socket, each payload checked against
 * filled(len, its index). */
struct tally {
	int fd;
	size_t messages, bytes, wrong;
};

static void *tally_main(void *arg)
{
	struct tally *t = arg;
	sd_privsep_reader_t rd;
	const uint8_t *p;
	uint32_t type;
	size_t len;

	if (sd_privsep_reader_init(&rd, t->fd, 4096) != 0)
		return NULL;
	while (sd_privsep_reader_next(&rd, &type, &p, &len) == 0) {
		uint8_t *want = filled(len, (uint8_t)t->messages);
		if (type != SD_PRIVSEP_STORE_REQUEST || !sd_equal(p, want, len))
			t->wrong++;
		free(want);
		t->messages++;
		t->bytes += len;
	}
	sd_privsep_reader_free(&rd);
	return NULL;
}

/* A batch also writes itself once it holds SD_PRIVSEP_BATCH_BYTES, whatever its count; a
 * flush that cannot write says so and drops what it held (the payloads freed: make
 * check's leak checker would see them otherwise). */
static void test_batch_bytes_and_failure(void **state)
{
	const size_t each = 20480, at = (SD_PRIVSEP_BATCH_BYTES + each - 1) / each;
	struct tally t = {0};
	sd_privsep_batch_t b = {0};
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	pthread_t th;
	int sv[2];

	(void)state;
	assert_true(at < SD_PRIVSEP_BATCH_MAX);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	t.fd = sv[1];
	assert_int_equal(pthread_create(&th, NULL, tally_main, &t), 0);
	for (size_t i = 0; i < at + 8; i++) {
		assert_int_equal(
		        sd_privsep_batch_add(&b, sv[0], SD_PRIVSEP_STORE_REQUEST, filled(each, (uint8_t)i), each), 0);
		assert_int_equal(b.n, i + 1 < at ? i + 1 : i + 1 - at); /* written at `at`, by bytes */
	}
	assert_int_equal(sd_privsep_batch_flush(&b, sv[0]), 0);
	close(sv[0]);
	pthread_join(th, NULL);
	close(sv[1]);
	assert_int_equal(t.messages, at + 8);
	assert_int_equal(t.bytes, (at + 8) * each);
	assert_int_equal(t.wrong, 0);

	/* the peer is gone: the flush fails, and the batch is empty after it */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	close(sv[1]);
	for (int i = 0; i < 3; i++)
		assert_int_equal(sd_privsep_batch_add(&b, sv[0], SD_PRIVSEP_SIGNED_HEAD, filled(10, 0), 10), 0);
	assert_int_equal(sd_privsep_batch_flush(&b, sv[0]), SD_ERR_IO);
	assert_int_equal(b.n, 0);
	assert_int_equal(b.bytes, 0);
	close(sv[0]);
	signal(SIGPIPE, old);
}

/* --- the key process -------------------------------------------------------------------- */

static sd_keyproc_t *start_keyproc(sd_seckey_t **copy)
{
	sd_keyproc_opts_t o = {.dir = NULL, .drop = false};
	sd_seckey_t *key = unit_key_from_byte(SD_KEY_LOG, 7);
	sd_keyproc_t *kp = NULL;

	*copy = unit_key_from_byte(SD_KEY_LOG, 7);
	assert_int_equal(sd_keyproc_start(&key, &o, &kp), 0);
	assert_null(key); /* wiped and freed here */
	assert_non_null(kp);
	return kp;
}

static int lost_calls;

static void on_lost(void *ctx)
{
	(void)ctx;
	lost_calls++;
}

static void test_keyproc_signs_as_in_process(void **state)
{
	sd_seckey_t *key;
	sd_keyproc_t *kp = start_keyproc(&key);
	sd_receipt_t rc;
	sd_notice_t n;
	sd_loghead_t h;
	sd_export_receipt_t er;
	char *a, *b;

	(void)state;
	base_receipt(&rc);
	assert_int_equal(sd_keyproc_sign_receipt(kp, &rc, &a), 0);
	assert_int_equal(sd_receipt_sign(&rc, key, &b), 0);
	assert_string_equal(a, b);
	free(a), free(b);
	base_notice(&n, true);
	assert_int_equal(sd_keyproc_sign_notice(kp, &n, &a), 0);
	assert_int_equal(sd_notice_sign(&n, key, &b), 0);
	assert_string_equal(a, b);
	free(a), free(b);
	base_head(&h, 9, 0x42);
	assert_int_equal(sd_keyproc_sign_head(kp, &h, &a), 0);
	assert_int_equal(sd_loghead_sign(&h, key, &b), 0);
	assert_string_equal(a, b);
	free(a), free(b);
	base_export(&er);
	assert_int_equal(sd_keyproc_sign_export(kp, &er, &a), 0);
	assert_int_equal(sd_export_receipt_sign(&er, key, &b), 0);
	assert_string_equal(a, b);
	free(a), free(b);
	/* a refusal (an invalid case number) leaves it serving */
	snprintf(rc.case_number, sizeof(rc.case_number), "2026-00000x");
	assert_int_equal(sd_keyproc_sign_receipt(kp, &rc, &a), SD_ERR_INVALID);
	assert_null(a);
	base_receipt(&rc);
	assert_int_equal(sd_keyproc_sign_receipt(kp, &rc, &a), 0);
	free(a);
	assert_false(sd_keyproc_is_lost(kp));
	sd_keyproc_free(kp);
	sd_seckey_free(key);
}

static void test_keyproc_heads_never_go_back(void **state)
{
	sd_seckey_t *key;
	sd_keyproc_t *kp = start_keyproc(&key);
	sd_loghead_t h;
	char *json;

	(void)state;
	base_head(&h, 10, 1);
	assert_int_equal(sd_keyproc_sign_head(kp, &h, &json), 0);
	free(json);
	h.date = (sd_date_t){2026, 12, 31}; /* the same head on a later day */
	assert_int_equal(sd_keyproc_sign_head(kp, &h, &json), 0);
	free(json);
	base_head(&h, 10, 2); /* the same size, another root: a fork */
	assert_int_equal(sd_keyproc_sign_head(kp, &h, &json), SD_ERR_ROLLBACK);
	base_head(&h, 9, 1); /* smaller */
	assert_int_equal(sd_keyproc_sign_head(kp, &h, &json), SD_ERR_ROLLBACK);
	base_head(&h, 11, 3);
	assert_int_equal(sd_keyproc_sign_head(kp, &h, &json), 0);
	free(json);
	sd_keyproc_free(kp);
	sd_seckey_free(key);
}

/* The key process's exit status, waiting up to 5 s. */
static int wait_exit(pid_t pid)
{
	int st = -1;

	for (int i = 0; i < 500; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return st;
		usleep(10000);
	}
	return -1;
}

static void test_keyproc_ends_on_a_violation(void **state)
{
	sd_seckey_t *key;
	sd_keyproc_t *kp = start_keyproc(&key);
	pid_t pid = sd_keyproc_pid(kp);
	uint8_t hdr[SD_PRIVSEP_HEADER_BYTES], c;
	int st;

	(void)state;
	sd_store_le32(hdr, SD_PRIVSEP_SIGNED_RECEIPT); /* an answer, sent to it as a request */
	sd_store_le32(hdr + 4, 1);
	assert_int_equal(write(sd_keyproc_fd(kp), hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	assert_int_equal(write(sd_keyproc_fd(kp), "x", 1), 1);
	assert_int_equal(read(sd_keyproc_fd(kp), &c, 1), 0); /* no answer, just the end */
	st = wait_exit(pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 2);
	sd_keyproc_free(kp); /* already reaped by the test: free must not wait for it */
	sd_seckey_free(key);
}

static void test_keyproc_killed_is_lost(void **state)
{
	sd_seckey_t *key;
	sd_keyproc_t *kp = start_keyproc(&key);
	sd_receipt_t rc;
	char *json;
	int i;

	(void)state;
	lost_calls = 0;
	sd_keyproc_on_lost(kp, on_lost, NULL);
	assert_int_equal(kill(sd_keyproc_pid(kp), SIGKILL), 0);
	for (i = 0; i < 500 && !sd_keyproc_check(kp); i++)
		usleep(10000);
	assert_true(sd_keyproc_is_lost(kp));
	assert_int_equal(lost_calls, 1);
	base_receipt(&rc);
	assert_int_equal(sd_keyproc_sign_receipt(kp, &rc, &json), SD_ERR_UNAVAILABLE);
	assert_null(json);
	assert_int_equal(lost_calls, 1);
	sd_keyproc_free(kp);
	sd_seckey_free(key);
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void test_keyproc_cost(void **state)
{
	sd_seckey_t *key;
	sd_keyproc_t *kp = start_keyproc(&key);
	struct timespec t0;
	sd_receipt_t rc;
	double in, out;
	char *json;

	(void)state;
	base_receipt(&rc);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < BENCH_N; i++) {
		rc.leaf_index = (uint64_t)i;
		assert_int_equal(sd_receipt_sign(&rc, key, &json), 0);
		free(json);
	}
	in = seconds_since(&t0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < BENCH_N; i++) {
		rc.leaf_index = (uint64_t)i;
		assert_int_equal(sd_keyproc_sign_receipt(kp, &rc, &json), 0);
		free(json);
	}
	out = seconds_since(&t0);
	printf("# %d receipts: in-process %.3f s (%.1f us each), through the key process %.3f s (%.1f us each)\n",
	       BENCH_N, in, in * 1e6 / BENCH_N, out, out * 1e6 / BENCH_N);
	sd_keyproc_free(kp);
	sd_seckey_free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_receipt_round_trip),
	        cmocka_unit_test(test_notice_round_trip),
	        cmocka_unit_test(test_head_and_export_round_trip),
	        cmocka_unit_test(test_bad_fields_refused),
	        cmocka_unit_test(test_empty_box_refused),
	        cmocka_unit_test(test_header_and_answers),
	        cmocka_unit_test(test_framing),
	        cmocka_unit_test(test_reader_and_batch),
	        cmocka_unit_test(test_batch_bytes_and_failure),
	        cmocka_unit_test(test_keyproc_signs_as_in_process),
	        cmocka_unit_test(test_keyproc_heads_never_go_back),
	        cmocka_unit_test(test_keyproc_ends_on_a_violation),
	        cmocka_unit_test(test_keyproc_killed_is_lost),
	        cmocka_unit_test(test_keyproc_cost),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, unit_setup, NULL);
}
