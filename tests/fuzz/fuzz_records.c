/*
 * fuzz_records.c — libFuzzer target for the records the server reads back from its
 * store (server/upload_record.c, server/caserec.c, server/consents.c):
 * sd_upload_rec_decode(), sd_case_rec_decode() and sd_consent_row_decode() on arbitrary
 * bytes, and the path and key parsers on the same input. Whatever decodes
 * must encode (the encoders enforce the same rules), decode back to the same values,
 * and encode to the same bytes again: one record, one encoding, which the chunk and
 * commit requests rely on when they compare stored bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sealdrop/consents.h"
#include "sealdrop/uploads.h"

static bool same_upload(const sd_upload_rec_t *a, const sd_upload_rec_t *b)
{
	return memcmp(a->attorney, b->attorney, sizeof(a->attorney)) == 0 &&
	       memcmp(a->digest, b->digest, sizeof(a->digest)) == 0 && sd_date_cmp(a->created, b->created) == 0 &&
	       sd_date_cmp(a->expires, b->expires) == 0 && a->state == b->state &&
	       strcmp(a->case_number, b->case_number) == 0 && a->chunks == b->chunks;
}

static void check_upload(const uint8_t *data, size_t size)
{
	sd_upload_rec_t rec, back;
	uint8_t *enc, *again;
	size_t len, len2;

	if (sd_upload_rec_decode(data, size, &rec) != 0)
		return;
	if (sd_upload_rec_encode(&rec, &enc, &len) != 0 || len > SD_UPLOAD_RECORD_MAX)
		abort();
	if (sd_upload_rec_decode(enc, len, &back) != 0 || !same_upload(&rec, &back))
		abort();
	if (sd_upload_rec_encode(&back, &again, &len2) != 0 || len2 != len || memcmp(enc, again, len) != 0)
		abort();
	free(enc);
	free(again);
}

static void check_case(const uint8_t *data, size_t size)
{
	static sd_case_rec_t rec, back; /* about 9.5 KiB each */
	uint8_t *enc, *again;
	size_t len, len2;

	if (sd_case_rec_decode(data, size, NULL, &rec) != 0)
		return;
	if (!sd_case_number_is_valid(rec.case_number) || sd_date_cmp(rec.decision_due, rec.received) < 0)
		abort();
	if (sd_case_rec_encode(&rec, &enc, &len) != 0 || len > SD_CASE_RECORD_MAX)
		abort();
	/* The struct has no padding holes that decode leaves unset: it zeroes first. */
	if (sd_case_rec_decode(enc, len, NULL, &back) != 0 || memcmp(&rec, &back, sizeof(rec)) != 0)
		abort();
	if (sd_case_rec_encode(&back, &again, &len2) != 0 || len2 != len || memcmp(enc, again, len) != 0)
		abort();
	free(enc);
	free(again);
}

static void check_consent_row(const uint8_t *data, size_t size)
{
	sd_consent_row_t row, back;
	uint8_t *enc, *again;
	size_t len, len2;

	if (sd_consent_row_decode(data, size, &row) != 0)
		return;
	if (sd_consent_row_encode(&row, &enc, &len) != 0)
		abort();
	if (sd_consent_row_decode(enc, len, &back) != 0 || memcmp(row.id, back.id, sizeof(row.id)) != 0 ||
	    row.has_release != back.has_release || row.revoked != back.revoked || row.relayed != back.relayed)
		abort();
	if (sd_consent_row_encode(&back, &again, &len2) != 0 || len2 != len || memcmp(enc, again, len) != 0)
		abort();
	free(enc);
	free(again);
}

static void check_text(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	uint8_t id[SD_UPLOAD_ID_BYTES], key[SD_UPLOAD_CHUNK_KEY_BYTES];
	char cn[SD_CASE_NUMBER_BYTES];
	uint32_t v, seq, blob, chunk;
	int year;

	if (s == NULL)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	if (sd_case_number_parse(s, &year, &seq) == 0 &&
	    (sd_case_number_format(year, seq, cn) != 0 || strcmp(cn, s) != 0))
		abort();
	if (sd_upload_index_parse(s, &v) == 0 && (s[0] == '\0' || (v == 0) != (strcmp(s, "0") == 0)))
		abort();
	if (sd_upload_id_parse(s, id) == 0 && strlen(s) != 2 * SD_UPLOAD_ID_BYTES)
		abort();
	if (size == SD_UPLOAD_CHUNK_KEY_BYTES) {
		if (sd_upload_chunk_key_parse(data, size, data, &blob, &chunk) != 0)
			abort();
		sd_upload_chunk_key(data, blob, chunk, key);
		if (memcmp(key, data, size) != 0)
			abort();
	}
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_upload(data, size);
	check_case(data, size);
	check_consent_row(data, size);
	check_text(data, size);
	return 0;
}
