/*
 * test_upload.c — the pure parts of filing (server/upload_record.c, server/upload_map.c):
 * upload records (round trips, one canonical encoding, every rule of the decoder; case
 * records are tests/unit/test_caserec.c's), case numbers and the year's counter key,
 * upload ids, path indexes, chunk keys (big-endian, so they sort by blob then chunk),
 * present-chunk bitmaps and their base64, the missing-chunk summary of a 409, the header
 * checks against the directory and the configured limits with their HTTP errors, the
 * status document, and the hash table behind the header cache and the per-account
 * counts. No server, no store.
 */
#include "unit.h"

#include <jansson.h>

#include "sealdrop/bytes.h"
#include "sealdrop/config.h"
#include "sealdrop/uploads.h"
#include "../../server/upload_int.h"

#define TEXT(s) (const uint8_t *)(s), strlen(s)

static const char fp_hex[] = "a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0";
static const char dg_hex[] = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";

/* A canonical open upload record, as sd_upload_rec_encode writes it (keys sorted). */
#define OPEN_REC                                                                                                       \
	"{\"attorney\":\"a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0\",\"chunks\":5,"             \
	"\"created\":\"2026-11-22\",\"digest\":\"0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20\","  \
	"\"expires\":\"2026-11-29\",\"state\":\"open\",\"v\":1}"

static sd_upload_rec_t open_rec(void)
{
	sd_upload_rec_t r = {
	        .created = {2026, 11, 22}, .expires = {2026, 11, 29}, .state = SD_UPLOAD_OPEN, .chunks = 5};

	unit_hex(fp_hex, r.attorney, sizeof(r.attorney));
	unit_hex(dg_hex, r.digest, sizeof(r.digest));
	return r;
}

static void assert_upload_rec_equal(const sd_upload_rec_t *a, const sd_upload_rec_t *b)
{
	assert_memory_equal(a->attorney, b->attorney, sizeof(a->attorney));
	assert_memory_equal(a->digest, b->digest, sizeof(a->digest));
	assert_int_equal(sd_date_cmp(a->created, b->created), 0);
	assert_int_equal(sd_date_cmp(a->expires, b->expires), 0);
	assert_int_equal(a->state, b->state);
	assert_string_equal(a->case_number, b->case_number);
	assert_int_equal(a->chunks, b->chunks);
}

/* --- upload records ------------------------------------------------------------------ */

static void test_upload_rec_canonical(void **state)
{
	sd_upload_rec_t rec = open_rec(), back;
	uint8_t *buf;
	size_t len;

	(void)state;
	assert_int_equal(sd_upload_rec_encode(&rec, &buf, &len), 0);
	assert_int_equal(len, strlen(OPEN_REC));
	assert_memory_equal(buf, OPEN_REC, len);
	assert_int_equal(sd_upload_rec_decode(buf, len, &back), 0);
	assert_upload_rec_equal(&rec, &back);
	free(buf);
}

static void test_upload_rec_states(void **state)
{
	sd_upload_rec_t rec = open_rec(), back;
	uint8_t *buf;
	size_t len;

	(void)state;
	rec.state = SD_UPLOAD_COMMITTED;
	snprintf(rec.case_number, sizeof(rec.case_number), "2026-000042");
	assert_int_equal(sd_upload_rec_encode(&rec, &buf, &len), 0);
	assert_non_null(strstr((const char *)buf, "\"case\":\"2026-000042\""));
	assert_int_equal(sd_upload_rec_decode(buf, len, &back), 0);
	assert_upload_rec_equal(&rec, &back);
	free(buf);

	rec.state = SD_UPLOAD_EXPIRED;
	rec.case_number[0] = '\0';
	assert_int_equal(sd_upload_rec_encode(&rec, &buf, &len), 0);
	assert_null(strstr((const char *)buf, "\"case\""));
	assert_int_equal(sd_upload_rec_decode(buf, len, &back), 0);
	assert_int_equal(back.state, SD_UPLOAD_EXPIRED);
	free(buf);

	/* Rules the encoder enforces by decoding its own output. */
	rec.state = SD_UPLOAD_COMMITTED; /* committed without a case number */
	assert_int_equal(sd_upload_rec_encode(&rec, &buf, &len), SD_ERR_INVALID);
	assert_null(buf);
	rec = open_rec();
	rec.state = (sd_upload_state_t)9;
	assert_int_equal(sd_upload_rec_encode(&rec, &buf, &len), SD_ERR_INVALID);
	rec = open_rec();
	rec.expires = (sd_date_t){2026, 11, 21};
	assert_int_equal(sd_upload_rec_encode(&rec, &buf, &len), SD_ERR_INVALID);
}

struct bad_rec {
	const char *json;
	int err;
	const char *detail; /* a word the detail must contain */
};

#define ATT   "\"attorney\":\"a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0\""
#define DIG   "\"digest\":\"0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20\""
#define DATES "\"created\":\"2026-11-22\",\"expires\":\"2026-11-29\""

static const struct bad_rec bad_uploads[] = {
        {"", SD_ERR_FORMAT, "JSON"},
        {"[]", SD_ERR_FORMAT, "object"},
        {"{" ATT "," DIG "," DATES ",\"state\":\"open\",\"chunks\":5}", SD_ERR_FORMAT, "'v'"},
        {"{\"v\":2," ATT "," DIG "," DATES ",\"state\":\"open\",\"chunks\":5}", SD_ERR_VERSION, "version"},
        {"{\"v\":1," ATT "," DIG "," DATES ",\"state\":\"open\",\"chunks\":5,\"x\":1}", SD_ERR_FORMAT, "'x'"},
        {"{\"v\":1," DIG "," DATES ",\"state\":\"open\",\"chunks\":5}", SD_ERR_FORMAT, "attorney"},
        {"{\"v\":1,\"attorney\":\"A1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0\"," DIG "," DATES
         ",\"state\":\"open\",\"chunks\":5}",
         SD_ERR_FORMAT, "attorney"},
        {"{\"v\":1,\"attorney\":\"a1a2\"," DIG "," DATES ",\"state\":\"open\",\"chunks\":5}", SD_ERR_FORMAT,
         "attorney"},
        {"{\"v\":1," ATT ",\"digest\":7," DATES ",\"state\":\"open\",\"chunks\":5}", SD_ERR_FORMAT, "digest"},
        {"{\"v\":1," ATT "," DIG ",\"created\":\"2026-02-30\",\"expires\":\"2026-11-29\",\"state\":\"open\","
         "\"chunks\":5}",
         SD_ERR_FORMAT, "created"},
        {"{\"v\":1," ATT "," DIG ",\"created\":\"2026-11-22\",\"expires\":\"2026-11-21\",\"state\":\"open\","
         "\"chunks\":5}",
         SD_ERR_FORMAT, "expires"},
        {"{\"v\":1," ATT "," DIG "," DATES ",\"state\":\"closed\",\"chunks\":5}", SD_ERR_FORMAT, "state"},
        {"{\"v\":1," ATT "," DIG "," DATES ",\"state\":\"open\",\"chunks\":1}", SD_ERR_FORMAT, "chunks"},
        {"{\"v\":1," ATT "," DIG "," DATES ",\"state\":\"open\",\"chunks\":\"5\"}", SD_ERR_FORMAT, "chunks"},
        {"{\"v\":1," ATT "," DIG "," DATES ",\"state\":\"open\",\"chunks\":262145}", SD_ERR_FORMAT, "chunks"},
        {"{\"v\":1," ATT "," DIG "," DATES ",\"state\":\"open\",\"chunks\":5,\"case\":\"2026-000001\"}", SD_ERR_FORMAT,
         "case"},
        {"{\"v\":1," ATT "," DIG "," DATES ",\"state\":\"committed\",\"chunks\":5}", SD_ERR_FORMAT, "case"},
        {"{\"v\":1," ATT "," DIG "," DATES ",\"state\":\"committed\",\"chunks\":5,\"case\":\"2026-000000\"}",
         SD_ERR_FORMAT, "case"},
        {"{\"v\":1,\"v\":1," ATT "," DIG "," DATES ",\"state\":\"open\",\"chunks\":5}", SD_ERR_FORMAT, "JSON"},
};

static void test_upload_rec_refused(void **state)
{
	sd_upload_rec_t out;
	uint8_t big[SD_UPLOAD_RECORD_MAX + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(bad_uploads) / sizeof(bad_uploads[0]); i++) {
		int r = sd_upload_rec_decode(TEXT(bad_uploads[i].json), &out);
		if (r != bad_uploads[i].err || strstr(sd_error_detail(), bad_uploads[i].detail) == NULL)
			fail_msg("case %zu: got %d (%s)", i, r, sd_error_detail());
		assert_int_equal(out.chunks, 0); /* nothing half-filled */
	}
	memset(big, ' ', sizeof(big));
	assert_int_equal(sd_upload_rec_decode(big, sizeof(big), &out), SD_ERR_TOOBIG);
	assert_int_equal(sd_upload_rec_decode(TEXT(OPEN_REC), &out), 0);
}

/* --- case numbers, ids, indexes, keys --------------------------------------------------- */

static void test_case_numbers(void **state)
{
	static const char *const bad[] = {"",
	                                  "2026-00001",
	                                  "2026-0000001",
	                                  "2026_000001",
	                                  "1999-000001",
	                                  "2026-000000",
	                                  "20a6-000001",
	                                  "2026-00000x",
	                                  "2026-000001 "};
	char out[SD_CASE_NUMBER_BYTES], key[SD_CASE_SEQ_KEY_BYTES];
	uint32_t seq;
	int year;

	(void)state;
	assert_int_equal(sd_case_number_parse("2026-000001", &year, &seq), 0);
	assert_int_equal(year, 2026);
	assert_int_equal(seq, 1);
	assert_int_equal(sd_case_number_parse("9999-999999", &year, &seq), 0);
	assert_int_equal(year, 9999);
	assert_int_equal(seq, 999999);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (sd_case_number_parse(bad[i], &year, &seq) != SD_ERR_FORMAT)
			fail_msg("accepted case number '%s'", bad[i]);
	/* Format and parse agree, and numbers sort as text in issue order. */
	for (uint32_t s = 1; s <= 999999; s = s * 7 + 3) {
		assert_int_equal(sd_case_number_format(2027, s, out), 0);
		assert_int_equal(sd_case_number_parse(out, &year, &seq), 0);
		assert_int_equal(year, 2027);
		assert_int_equal(seq, s);
	}
	assert_int_equal(sd_case_number_format(2026, 1000000, out), SD_ERR_TOOBIG);
	assert_int_equal(sd_case_seq_key(2026, key), 0);
	assert_string_equal(key, "case_seq/2026");
	assert_int_equal(sd_case_seq_key(1999, key), SD_ERR_USAGE);
	assert_int_equal(sd_case_seq_key(10000, key), SD_ERR_USAGE);
}

static void test_ids_and_indexes(void **state)
{
	static const char *const bad_ids[] = {"", "00112233445566778899aabbccddeef",
	                                      "00112233445566778899aabbccddeeff0", "00112233445566778899AABBCCDDEEFF",
	                                      "00112233445566778899aabbccddeefg"};
	static const char *const bad_idx[] = {"", "-1", "01", "00", "1a", "4294967296", "99999999999", " 1", "+1"};
	uint8_t id[SD_UPLOAD_ID_BYTES], want[SD_UPLOAD_ID_BYTES];
	uint32_t v;

	(void)state;
	assert_int_equal(sd_upload_id_parse("00112233445566778899aabbccddeeff", id), 0);
	unit_hex("00112233445566778899aabbccddeeff", want, sizeof(want));
	assert_memory_equal(id, want, sizeof(id));
	assert_int_equal(sd_upload_id_parse(NULL, id), SD_ERR_FORMAT);
	for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++)
		assert_int_equal(sd_upload_id_parse(bad_ids[i], id), SD_ERR_FORMAT);
	assert_int_equal(sd_upload_index_parse("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(sd_upload_index_parse("4294967295", &v), 0);
	assert_int_equal(v, UINT32_MAX);
	assert_int_equal(sd_upload_index_parse("1024", &v), 0);
	assert_int_equal(v, 1024);
	for (size_t i = 0; i < sizeof(bad_idx) / sizeof(bad_idx[0]); i++)
		if (sd_upload_index_parse(bad_idx[i], &v) != SD_ERR_FORMAT)
			fail_msg("accepted index '%s'", bad_idx[i]);
}

static int cmp_bytes(const uint8_t *a, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

/* New ids: a sequence number that starts at random and moves by random steps, then
 * random bytes (DECISIONS 106). */
static void test_id_sequence(void **state)
{
	uint8_t prev[SD_UPLOAD_ID_BYTES], id[SD_UPLOAD_ID_BYTES];
	uint64_t seq = 0, last, s2, first_start;
	bool random_half_moves = false, steps_vary = false;

	(void)state;
	assert_int_equal(sd_upload_id_next(&seq, prev), 0);
	first_start = seq;
	assert_true(seq >= 1 && seq <= (UINT64_C(1) << 62) + 1);
	assert_int_equal(sd_load_be64(prev), seq);
	assert_int_equal(sd_upload_id_seq(prev), seq);
	for (int i = 0; i < 100; i++) {
		last = seq;
		assert_int_equal(sd_upload_id_next(&seq, id), 0);
		assert_true(seq > last && seq - last <= SD_UPLOAD_ID_STEP_MAX);
		assert_int_equal(sd_upload_id_seq(id), seq);
		assert_true(cmp_bytes(prev, id, sizeof(id)) < 0);
		random_half_moves = random_half_moves || memcmp(prev + 8, id + 8, 8) != 0;
		steps_vary = steps_vary || seq - last != 1;
		memcpy(prev, id, sizeof(id));
	}
	assert_true(random_half_moves);
	assert_true(steps_vary);
	/* A restart continues after the largest stored id. */
	s2 = sd_upload_id_seq(prev);
	assert_int_equal(sd_upload_id_next(&s2, id), 0);
	assert_true(cmp_bytes(prev, id, sizeof(id)) < 0);
	/* Random ids of before: those above the limit are not a sequence to continue. */
	memset(id, 0xff, sizeof(id));
	assert_int_equal(sd_upload_id_seq(id), 0);
	sd_store_be64(id, SD_UPLOAD_ID_SEQ_LIMIT - 1);
	assert_int_equal(sd_upload_id_seq(id), SD_UPLOAD_ID_SEQ_LIMIT - 1);
	/* Near the limit, and at the largest value, a sequence starts afresh at random, far below. */
	const uint64_t near[] = {SD_UPLOAD_ID_SEQ_LIMIT - SD_UPLOAD_ID_STEP_MAX, SD_UPLOAD_ID_SEQ_LIMIT, UINT64_MAX};
	for (size_t i = 0; i < sizeof(near) / sizeof(near[0]); i++) {
		seq = near[i];
		assert_int_equal(sd_upload_id_next(&seq, id), 0);
		assert_true(seq >= 1 && seq <= (UINT64_C(1) << 62) + 1);
		assert_int_equal(sd_upload_id_seq(id), seq);
	}
	/* Two starts are not the same place. */
	seq = 0;
	assert_int_equal(sd_upload_id_next(&seq, id), 0);
	assert_true(seq != first_start);
}

static void test_chunk_keys(void **state)
{
	uint8_t id[SD_UPLOAD_ID_BYTES], other[SD_UPLOAD_ID_BYTES], k1[SD_UPLOAD_CHUNK_KEY_BYTES],
	        k2[SD_UPLOAD_CHUNK_KEY_BYTES], dk[SD_UPLOAD_DIGEST_KEY_BYTES], fp[32], dg[32];
	uint32_t blob, chunk;

	(void)state;
	unit_hex("00112233445566778899aabbccddeeff", id, sizeof(id));
	memcpy(other, id, sizeof(id));
	other[15] ^= 1;
	sd_upload_chunk_key(id, 2, 0x01020304, k1);
	assert_memory_equal(k1, id, sizeof(id));
	assert_memory_equal(k1 + 16, "\x00\x00\x00\x02\x01\x02\x03\x04", 8);
	assert_int_equal(sd_upload_chunk_key_parse(k1, sizeof(k1), id, &blob, &chunk), 0);
	assert_int_equal(blob, 2);
	assert_int_equal(chunk, 0x01020304);
	assert_int_equal(sd_upload_chunk_key_parse(k1, sizeof(k1), other, &blob, &chunk), SD_ERR_FORMAT);
	assert_int_equal(sd_upload_chunk_key_parse(k1, sizeof(k1) - 1, id, &blob, &chunk), SD_ERR_FORMAT);
	/* Big-endian: keys sort by blob, then chunk, as numbers. */
	sd_upload_chunk_key(id, 0, 255, k1);
	sd_upload_chunk_key(id, 0, 256, k2);
	assert_true(cmp_bytes(k1, k2, sizeof(k1)) < 0);
	sd_upload_chunk_key(id, 1, 0, k1);
	assert_true(cmp_bytes(k2, k1, sizeof(k1)) < 0);

	unit_hex(fp_hex, fp, sizeof(fp));
	unit_hex(dg_hex, dg, sizeof(dg));
	sd_upload_digest_key(dg, fp, dk);
	assert_memory_equal(dk, dg, 32);
	assert_memory_equal(dk + 32, fp, 32);
}

/* --- bitmaps, missing chunks, status ----------------------------------------------------- */

/* A header as the parser would leave it, for a report, an identity and one evidence
 * file of `full` whole MiB (chunk sizes from docs/FORMAT.md). */
#define REPORT_CT   (24 + 16384 + 16)
#define IDENTITY_CT (24 + 4096 + 16)
#define EV_FIRST    (24 + 512 + 17)
#define EV_FULL     ((1u << 20) + 17)
#define EV_LAST     (4096 + 17)

static sd_blob_t blobs[3];
static sd_header_t fake;

static const sd_header_t *fake_header(uint32_t full)
{
	memset(&fake, 0, sizeof(fake));
	snprintf(fake.deployment, sizeof(fake.deployment), "demo");
	memset(fake.intake_id, 0x11, sizeof(fake.intake_id));
	memset(fake.identity_id, 0x22, sizeof(fake.identity_id));
	unit_hex(dg_hex, fake.digest, sizeof(fake.digest));
	blobs[0] = (sd_blob_t){.kind = SD_BLOB_REPORT, .size = REPORT_CT, .n_chunks = 1};
	blobs[1] = (sd_blob_t){.kind = SD_BLOB_IDENTITY, .size = IDENTITY_CT, .n_chunks = 1};
	blobs[2] = (sd_blob_t){
	        .kind = SD_BLOB_EVIDENCE, .size = EV_FIRST + (uint64_t)full * EV_FULL + EV_LAST, .n_chunks = full + 2};
	fake.n_blobs = 3;
	fake.blobs = blobs;
	fake.raw_len = 2000;
	fake.package_size = fake.raw_len + REPORT_CT + IDENTITY_CT + blobs[2].size;
	return &fake;
}

static void test_bitmap(void **state)
{
	sd_upload_bitmap_t b;
	const sd_header_t *h = fake_header(7); /* evidence: 9 chunks */

	(void)state;
	assert_int_equal(sd_upload_bitmap_init(&b, h), 0);
	assert_int_equal(b.n_blobs, 3);
	assert_int_equal(b.total, 11);
	assert_int_equal(b.present, 0);
	assert_int_equal(sd_upload_bitmap_set(&b, 2, 0), 1);
	assert_int_equal(sd_upload_bitmap_set(&b, 2, 8), 1);
	assert_int_equal(sd_upload_bitmap_set(&b, 2, 8), 0); /* twice counts once */
	assert_int_equal(sd_upload_bitmap_set(&b, 2, 9), SD_ERR_FORMAT);
	assert_int_equal(sd_upload_bitmap_set(&b, 3, 0), SD_ERR_FORMAT);
	assert_int_equal(sd_upload_bitmap_set(&b, 1, 1), SD_ERR_FORMAT);
	assert_int_equal(b.present, 2);
	assert_int_equal(b.bits[2][0], 0x01);
	assert_int_equal(b.bits[2][1], 0x01);
	assert_true(sd_upload_bitmap_has(&b, 2, 8));
	assert_false(sd_upload_bitmap_has(&b, 2, 7));
	assert_false(sd_upload_bitmap_has(&b, 2, 9));
	assert_false(sd_upload_bitmap_has(&b, 0, 0));
	sd_upload_bitmap_fill(&b);
	assert_int_equal(b.present, b.total);
	assert_int_equal(b.bits[0][0], 0x01);
	assert_int_equal(b.bits[2][0], 0xff);
	assert_int_equal(b.bits[2][1], 0x01); /* no bit past the last chunk */
	sd_upload_bitmap_free(&b);
	assert_null(b.bits);
	sd_upload_bitmap_free(&b); /* twice is fine */
}

static void test_missing_summary(void **state)
{
	sd_upload_bitmap_t b;
	char msg[256];
	json_t *list = json_array();

	(void)state;
	assert_int_equal(sd_upload_bitmap_init(&b, fake_header(10)), 0); /* 14 chunks */
	assert_int_equal(sd_upload_bitmap_set(&b, 0, 0), 1);
	assert_int_equal(sd_upload_bitmap_set(&b, 2, 1), 1);
	sd_upload_missing(&b, msg, sizeof(msg), list);
	assert_string_equal(msg, "blob 1 chunk 0, blob 2 chunk 0, blob 2 chunk 2, blob 2 chunk 3, blob 2 chunk 4, "
	                         "blob 2 chunk 5, blob 2 chunk 6, blob 2 chunk 7 and 4 more are missing");
	assert_int_equal(json_array_size(list), SD_UPLOAD_MISSING_SHOWN);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 2), "blob")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 2), "chunk")), 2);
	json_decref(list);

	sd_upload_bitmap_fill(&b);
	b.bits[2][1] &= (uint8_t)~0x02; /* chunk 9 */
	b.present--;
	sd_upload_missing(&b, msg, sizeof(msg), NULL);
	assert_string_equal(msg, "blob 2 chunk 9 is missing");
	sd_upload_missing(&b, msg, 12, NULL); /* cut, still terminated */
	assert_int_equal(strlen(msg), 11);
	sd_upload_bitmap_fill(&b);
	sd_upload_missing(&b, msg, sizeof(msg), NULL);
	assert_string_equal(msg, "no chunk is missing");
	sd_upload_bitmap_free(&b);
}

static void test_status_json(void **state)
{
	sd_upload_rec_t rec = open_rec();
	sd_upload_bitmap_t b;
	uint8_t id[SD_UPLOAD_ID_BYTES];
	json_t *doc, *blob;

	(void)state;
	unit_hex("00112233445566778899aabbccddeeff", id, sizeof(id));
	assert_int_equal(sd_upload_bitmap_init(&b, fake_header(7)), 0);
	assert_int_equal(sd_upload_bitmap_set(&b, 2, 0), 1);
	assert_int_equal(sd_upload_bitmap_set(&b, 2, 8), 1);
	doc = sd_upload_status_json(id, &rec, &fake, &b);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "upload")), "00112233445566778899aabbccddeeff");
	assert_string_equal(json_string_value(json_object_get(doc, "state")), "open");
	assert_string_equal(json_string_value(json_object_get(doc, "header_digest")), dg_hex);
	assert_string_equal(json_string_value(json_object_get(doc, "expires")), "2026-11-29");
	assert_int_equal(json_integer_value(json_object_get(doc, "chunks")), 11);
	assert_int_equal(json_integer_value(json_object_get(doc, "missing")), 9);
	assert_null(json_object_get(doc, "case"));
	assert_int_equal(json_array_size(json_object_get(doc, "blobs")), 3);
	blob = json_array_get(json_object_get(doc, "blobs"), 2);
	assert_string_equal(json_string_value(json_object_get(blob, "kind")), "evidence");
	assert_int_equal(json_integer_value(json_object_get(blob, "size")), blobs[2].size);
	assert_int_equal(json_integer_value(json_object_get(blob, "chunks")), 9);
	assert_string_equal(json_string_value(json_object_get(blob, "present")), "AQE="); /* 0x01 0x01 */
	blob = json_array_get(json_object_get(doc, "blobs"), 0);
	assert_string_equal(json_string_value(json_object_get(blob, "kind")), "report");
	assert_string_equal(json_string_value(json_object_get(blob, "present")), "AA==");
	json_decref(doc);

	rec.state = SD_UPLOAD_COMMITTED;
	snprintf(rec.case_number, sizeof(rec.case_number), "2026-000007");
	sd_upload_bitmap_fill(&b);
	doc = sd_upload_status_json(id, &rec, &fake, &b);
	assert_string_equal(json_string_value(json_object_get(doc, "state")), "committed");
	assert_string_equal(json_string_value(json_object_get(doc, "case")), "2026-000007");
	assert_int_equal(json_integer_value(json_object_get(doc, "missing")), 0);
	json_decref(doc);
	sd_upload_bitmap_free(&b);
}

static void test_check_header(void **state)
{
	sd_directory_t d;
	sd_config_t c;
	const char *code;

	(void)state;
	memset(&d, 0, sizeof(d));
	snprintf(d.deployment, sizeof(d.deployment), "demo");
	memset(d.intake.id, 0x11, sizeof(d.intake.id));
	memset(d.identity.id, 0x22, sizeof(d.identity.id));
	assert_int_equal(sd_config_defaults(&c), 0);

	assert_int_equal(sd_upload_check_header(fake_header(3), &d, &c), 0);

	snprintf(d.deployment, sizeof(d.deployment), "other");
	assert_int_equal(sd_upload_check_header(fake_header(3), &d, &c), SD_ERR_DEPLOYMENT);
	snprintf(d.deployment, sizeof(d.deployment), "demo");

	d.intake.id[7] ^= 1;
	assert_int_equal(sd_upload_check_header(fake_header(3), &d, &c), SD_ERR_WRONG_KEY);
	assert_non_null(strstr(sd_error_detail(), "intake key 1111111111111111"));
	d.intake.id[7] ^= 1;
	d.identity.id[0] ^= 1;
	assert_int_equal(sd_upload_check_header(fake_header(3), &d, &c), SD_ERR_WRONG_KEY);
	assert_non_null(strstr(sd_error_detail(), "identity key"));
	d.identity.id[0] ^= 1;

	/* Package size: exactly the limit passes, a byte more does not. */
	c.max_package_bytes = fake_header(3)->package_size;
	assert_int_equal(sd_upload_check_header(&fake, &d, &c), 0);
	c.max_package_bytes--;
	assert_int_equal(sd_upload_check_header(&fake, &d, &c), SD_ERR_TOOBIG);
	assert_non_null(strstr(sd_error_detail(), "package"));
	sd_config_free(&c);
	assert_int_equal(sd_config_defaults(&c), 0);

	/* Header size. */
	c.max_header_bytes = 1999;
	assert_int_equal(sd_upload_check_header(fake_header(3), &d, &c), SD_ERR_TOOBIG);
	c.max_header_bytes = 2000;
	assert_int_equal(sd_upload_check_header(fake_header(3), &d, &c), 0);

	/* A chunk above chunk_bytes could never be uploaded: refused up front. */
	c.chunk_bytes = EV_FULL - 1;
	assert_int_equal(sd_upload_check_header(fake_header(3), &d, &c), SD_ERR_TOOBIG);
	assert_non_null(strstr(sd_error_detail(), "chunk 1 of blob 2"));
	assert_int_equal(sd_upload_check_header(fake_header(0), &d, &c), 0); /* no full chunk */
	c.chunk_bytes = EV_FULL;
	assert_int_equal(sd_upload_check_header(fake_header(3), &d, &c), 0);

	assert_int_equal(sd_upload_http_error(SD_ERR_VERIFY, &code), 422);
	assert_string_equal(code, "signature_invalid");
	assert_int_equal(sd_upload_http_error(SD_ERR_DEPLOYMENT, &code), 422);
	assert_string_equal(code, "wrong_deployment");
	assert_int_equal(sd_upload_http_error(SD_ERR_WRONG_KEY, &code), 422);
	assert_string_equal(code, "unknown_key");
	assert_int_equal(sd_upload_http_error(SD_ERR_TOOBIG, &code), 413);
	assert_string_equal(code, "too_large");
	assert_int_equal(sd_upload_http_error(SD_ERR_FORMAT, &code), 422);
	assert_string_equal(code, "bad_header");
	assert_int_equal(sd_upload_http_error(SD_ERR_TRUNCATED, &code), 422);
	assert_string_equal(code, "bad_header");
	assert_int_equal(sd_upload_http_error(SD_ERR_VERSION, &code), 422);
	assert_int_equal(sd_upload_http_error(SD_ERR_NOMEM, &code), 503);
	assert_int_equal(sd_upload_http_error(SD_ERR_INTERNAL, &code), 500);
	sd_config_free(&c);
}

/* --- the hash table ------------------------------------------------------------------------ */

#define MAP_KEYS 3000

static void map_key(uint32_t i, uint8_t key[16])
{
	memset(key, 0, 16);
	/* Half the keys share their first 8 bytes (the hash) in groups of 4: long runs. */
	if (i % 2 == 0) {
		key[0] = (uint8_t)(i / 8);
		key[1] = (uint8_t)(i / 8 >> 8);
	} else {
		key[3] = (uint8_t)i;
		key[4] = (uint8_t)(i >> 8);
	}
	key[12] = (uint8_t)i;
	key[13] = (uint8_t)(i >> 8);
}

static void test_map(void **state)
{
	static bool present[MAP_KEYS];
	upload_map_t m;
	uint8_t key[16];
	upload_slot_t *s;
	uint32_t x = 12345;

	(void)state;
	upload_map_init(&m, 16);
	map_key(1, key);
	assert_null(upload_map_find(&m, key));
	upload_map_remove(&m, key); /* on an empty table */
	for (int round = 0; round < 20000; round++) {
		x = x * 1103515245u + 12345u;
		uint32_t i = (x >> 8) % MAP_KEYS;
		map_key(i, key);
		if ((x >> 4) % 3 != 0) {
			assert_non_null(s = upload_map_add(&m, key));
			s->count = i + 1;
			present[i] = true;
		} else {
			upload_map_remove(&m, key);
			present[i] = false;
		}
		if (round % 1000 == 999) {
			size_t n = 0;
			for (uint32_t k = 0; k < MAP_KEYS; k++) {
				map_key(k, key);
				s = upload_map_find(&m, key);
				assert_true((s != NULL) == present[k]);
				if (s != NULL) {
					assert_int_equal(s->count, k + 1);
					n++;
				}
			}
			assert_int_equal(m.n, n);
			assert_true(m.n * 2 <= m.cap);
		}
	}
	/* Adding an existing key returns its slot unchanged. */
	for (uint32_t k = 0; k < MAP_KEYS; k++)
		if (present[k]) {
			map_key(k, key);
			assert_int_equal(upload_map_add(&m, key)->count, k + 1);
			break;
		}
	upload_map_free(&m);
	assert_null(upload_map_find(&m, key));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_upload_rec_canonical), cmocka_unit_test(test_upload_rec_states),
	        cmocka_unit_test(test_upload_rec_refused),   cmocka_unit_test(test_case_numbers),
	        cmocka_unit_test(test_ids_and_indexes),      cmocka_unit_test(test_id_sequence),
	        cmocka_unit_test(test_chunk_keys),           cmocka_unit_test(test_bitmap),
	        cmocka_unit_test(test_missing_summary),      cmocka_unit_test(test_status_json),
	        cmocka_unit_test(test_check_header),         cmocka_unit_test(test_map),
	};
	return cmocka_run_group_tests(tests, unit_setup, NULL);
}
