/*
 * upload_record.c — the pure parts of filing (include/sealdrop/uploads.h): the upload
 * record as the store holds it (docs/STORE.md), the strict JSON member readers every
 * server record shares (server/record_int.h; the case record is server/caserec.c's), the
 * keys of "chunks" and "upload_digests", case numbers, the present-chunk bitmaps, the
 * header checks with their HTTP errors, and the upload's status document (docs/API.md).
 *
 * Nothing here touches the store, the network or the clock, so all of it is unit-tested
 * (tests/unit/test_upload.c) and the decoders fuzzed (tests/fuzz/fuzz_records.c). Start
 * at sd_upload_rec_decode(): the record rules live in the decoders, and the encoders
 * run their own output through them, so nothing is stored that would not read back.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "sealdrop/bytes.h"
#include "sealdrop/sealdrop.h"
#include "sealdrop/uploads.h"
#include "record_int.h"

#define REC_VERSION  1
#define FP_HEX       (2 * SD_CA_FINGERPRINT_BYTES)
#define DIGEST_HEX   (2 * SD_HASH_BYTES)
#define ID_HEX       (2 * SD_UPLOAD_ID_BYTES)
#define CHUNKS_MAX   ((json_int_t)(SD_SDX_MAX_HEADER / SD_HASH_BYTES))
#define INDEX_DIGITS 10 /* UINT32_MAX has 10 */
#define NAME_SHOWN   40

static const char *const upload_fields[] = {"v",     "attorney", "digest", "created", "expires",
                                            "state", "case",     "chunks", NULL};
static const char *const blob_kinds[] = {"?", "report", "identity", "evidence"};

const char *sd_upload_state_name(sd_upload_state_t s)
{
	switch (s) {
	case SD_UPLOAD_OPEN:
		return "open";
	case SD_UPLOAD_COMMITTED:
		return "committed";
	case SD_UPLOAD_EXPIRED:
		return "expired";
	}
	return NULL;
}

/* --- strict JSON members ---------------------------------------------------------------- */

int record_only_fields(json_t *obj, const char *rec, const char *const allowed[])
{
	char shown[NAME_SHOWN];
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v)
	{
		size_t i = 0;
		while (allowed[i] != NULL && strcmp(allowed[i], key) != 0)
			i++;
		if (allowed[i] == NULL)
			return sd_error(SD_ERR_FORMAT, "%s record: unknown field '%s'", rec,
			                sd_error_printable(key, shown, sizeof(shown)));
	}
	return 0;
}

int record_member_text(json_t *obj, const char *rec, const char *name, size_t max, const char **out)
{
	json_t *v = json_object_get(obj, name);

	if (v == NULL)
		return sd_error(SD_ERR_FORMAT, "%s record: field '%s' is missing", rec, name);
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max)
		return sd_error(SD_ERR_FORMAT, "%s record: field '%s' must be a string of 1 to %zu bytes", rec, name,
		                max);
	*out = json_string_value(v);
	return 0;
}

static bool is_lower_hex(const char *s, size_t want)
{
	size_t n = strlen(s);

	if (n != want)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int record_member_hex(json_t *obj, const char *rec, const char *name, uint8_t *out, size_t len)
{
	const char *s;
	int r;

	if ((r = record_member_text(obj, rec, name, 2 * len, &s)) < 0)
		return r;
	if (!is_lower_hex(s, 2 * len) || sd_hex_decode(s, out, len) < 0)
		return sd_error(SD_ERR_FORMAT, "%s record: field '%s' must be %zu lower-case hex digits", rec, name,
		                2 * len);
	return 0;
}

int record_member_date(json_t *obj, const char *rec, const char *name, sd_date_t *out)
{
	const char *s;
	int r;

	if ((r = record_member_text(obj, rec, name, SD_DATE_TEXT_BYTES - 1, &s)) < 0)
		return r;
	if (sd_date_parse(s, out) < 0)
		return sd_error(SD_ERR_FORMAT, "%s record: field '%s' must be a date YYYY-MM-DD", rec, name);
	return 0;
}

int record_member_case(json_t *obj, const char *rec, const char *name, char out[SD_CASE_NUMBER_BYTES])
{
	const char *s;
	int r;

	if ((r = record_member_text(obj, rec, name, SD_CASE_NUMBER_BYTES - 1, &s)) < 0)
		return r;
	if (!sd_case_number_is_valid(s))
		return sd_error(SD_ERR_FORMAT, "%s record: field '%s' must be a case number YYYY-NNNNNN", rec, name);
	snprintf(out, SD_CASE_NUMBER_BYTES, "%s", s);
	return 0;
}

int record_member_version(json_t *obj, const char *rec)
{
	json_t *v = json_object_get(obj, "v");

	if (v == NULL || !json_is_integer(v))
		return sd_error(SD_ERR_FORMAT, "%s record: field 'v' must be an integer", rec);
	if (json_integer_value(v) != REC_VERSION)
		return sd_error(SD_ERR_VERSION, "%s record: version %lld is not supported (this build reads %d)", rec,
		                (long long)json_integer_value(v), REC_VERSION);
	return 0;
}

int record_load_object(const uint8_t *buf, size_t len, size_t max, const char *rec, json_t **out)
{
	json_error_t jerr;

	*out = NULL;
	if (len > max)
		return sd_error(SD_ERR_TOOBIG, "%s record: %zu bytes is more than the %zu allowed", rec, len, max);
	*out = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (*out == NULL)
		return sd_error(SD_ERR_FORMAT, "%s record: not JSON (%s)", rec, jerr.text);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return sd_error(SD_ERR_FORMAT, "%s record: not a JSON object", rec);
	}
	return 0;
}

int record_dump_object(json_t *obj, uint8_t **out, size_t *len)
{
	char *text;

	*out = NULL;
	*len = 0;
	if (obj == NULL)
		return SD_ERR_NOMEM;
	text = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(obj);
	if (text == NULL)
		return SD_ERR_NOMEM;
	*out = (uint8_t *)text;
	*len = strlen(text);
	return 0;
}

/* --- upload records ---------------------------------------------------------------------- */

static int upload_state(json_t *obj, sd_upload_rec_t *out)
{
	const char *s;
	int r;

	if ((r = record_member_text(obj, "upload", "state", 16, &s)) < 0)
		return r;
	for (int st = SD_UPLOAD_OPEN; st <= SD_UPLOAD_EXPIRED; st++)
		if (strcmp(s, sd_upload_state_name((sd_upload_state_t)st)) == 0) {
			out->state = (sd_upload_state_t)st;
			return 0;
		}
	return sd_error(SD_ERR_FORMAT, "upload record: field 'state' must be open, committed or expired");
}

static int upload_fields_decode(json_t *obj, sd_upload_rec_t *out)
{
	json_t *v;
	int r;

	if ((r = record_member_version(obj, "upload")) < 0 ||
	    (r = record_only_fields(obj, "upload", upload_fields)) < 0 ||
	    (r = record_member_hex(obj, "upload", "attorney", out->attorney, sizeof(out->attorney))) < 0 ||
	    (r = record_member_hex(obj, "upload", "digest", out->digest, sizeof(out->digest))) < 0 ||
	    (r = record_member_date(obj, "upload", "created", &out->created)) < 0 ||
	    (r = record_member_date(obj, "upload", "expires", &out->expires)) < 0 || (r = upload_state(obj, out)) < 0)
		return r;
	if (sd_date_cmp(out->expires, out->created) < 0)
		return sd_error(SD_ERR_FORMAT, "upload record: 'expires' is before 'created'");
	v = json_object_get(obj, "chunks");
	if (v == NULL || !json_is_integer(v) || json_integer_value(v) < 2 || json_integer_value(v) > CHUNKS_MAX)
		return sd_error(SD_ERR_FORMAT, "upload record: field 'chunks' must be an integer from 2 to %lld",
		                (long long)CHUNKS_MAX);
	out->chunks = (uint64_t)json_integer_value(v);
	if (out->state == SD_UPLOAD_COMMITTED)
		return record_member_case(obj, "upload", "case", out->case_number);
	if (json_object_get(obj, "case") != NULL)
		return sd_error(SD_ERR_FORMAT, "upload record: only a committed upload has a 'case'");
	return 0;
}

int sd_upload_rec_decode(const uint8_t *buf, size_t len, sd_upload_rec_t *out)
{
	json_t *obj;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = record_load_object(buf, len, SD_UPLOAD_RECORD_MAX, "upload", &obj)) < 0)
		return r;
	r = upload_fields_decode(obj, out);
	json_decref(obj);
	if (r < 0)
		memset(out, 0, sizeof(*out));
	return r;
}

int sd_upload_rec_encode(const sd_upload_rec_t *rec, uint8_t **out, size_t *len)
{
	char attorney[FP_HEX + 1], digest[DIGEST_HEX + 1], created[SD_DATE_TEXT_BYTES], expires[SD_DATE_TEXT_BYTES];
	const char *state = sd_upload_state_name(rec->state);
	sd_upload_rec_t check;
	json_t *obj;
	int r;

	if (state == NULL || rec->chunks > (uint64_t)CHUNKS_MAX)
		return sd_error(SD_ERR_INVALID, "upload record: invalid state or chunk count");
	sd_hex_encode(rec->attorney, sizeof(rec->attorney), attorney);
	sd_hex_encode(rec->digest, sizeof(rec->digest), digest);
	sd_date_format(rec->created, created);
	sd_date_format(rec->expires, expires);
	obj = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:I}", "v", REC_VERSION, "attorney", attorney, "digest", digest,
	                "created", created, "expires", expires, "state", state, "chunks", (json_int_t)rec->chunks);
	if (obj != NULL && rec->state == SD_UPLOAD_COMMITTED &&
	    json_object_set_new(obj, "case", json_string(rec->case_number)) < 0) {
		json_decref(obj);
		obj = NULL;
	}
	if ((r = record_dump_object(obj, out, len)) < 0)
		return r;
	if (sd_upload_rec_decode(*out, *len, &check) < 0) {
		free(*out);
		*out = NULL;
		return sd_error(SD_ERR_INVALID, "upload record: %s", sd_error_detail());
	}
	return 0;
}

/* --- case numbers, ids and keys ------------------------------------------------------------ */

int sd_case_number_parse(const char *s, int *year, uint32_t *seq)
{
	if (!sd_case_number_is_valid(s))
		return sd_error(SD_ERR_FORMAT, "a case number is YYYY-NNNNNN");
	*year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	*seq = 0;
	for (int i = 5; i < SD_CASE_NUMBER_BYTES - 1; i++)
		*seq = *seq * 10 + (uint32_t)(s[i] - '0');
	return 0;
}

int sd_case_seq_key(int year, char out[SD_CASE_SEQ_KEY_BYTES])
{
	out[0] = '\0';
	if (year < 2000 || year > 9999)
		return sd_error(SD_ERR_USAGE, "case numbers exist for the years 2000 to 9999, not %d", year);
	snprintf(out, SD_CASE_SEQ_KEY_BYTES, "case_seq/%04d", year);
	return 0;
}

int sd_upload_id_parse(const char *hex, uint8_t id[SD_UPLOAD_ID_BYTES])
{
	if (hex == NULL || !is_lower_hex(hex, ID_HEX) || sd_hex_decode(hex, id, SD_UPLOAD_ID_BYTES) < 0)
		return sd_error(SD_ERR_FORMAT, "an upload id is %d lower-case hex digits", ID_HEX);
	return 0;
}

uint64_t sd_upload_id_seq(const uint8_t id[SD_UPLOAD_ID_BYTES])
{
	uint64_t seq = sd_load_be64(id);

	return seq < SD_UPLOAD_ID_SEQ_LIMIT ? seq : 0;
}

/* The step is drawn from two random bytes: 1 + 0..65535. */
_Static_assert(SD_UPLOAD_ID_STEP_MAX == 65536u, "an upload id's step is 1 + two random bytes");

int sd_upload_id_next(uint64_t *seq, uint8_t id[SD_UPLOAD_ID_BYTES])
{
	uint8_t r[8 + 2 + SD_UPLOAD_ID_BYTES - 8]; /* a start, a step, the id's random half */

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return sd_error(SD_ERR_INTERNAL, "no random bytes for an upload id");
	if (*seq == 0 || *seq >= SD_UPLOAD_ID_SEQ_LIMIT - SD_UPLOAD_ID_STEP_MAX)
		*seq = (sd_load_be64(r) >> 2) + 1;
	else
		*seq += 1 + (uint64_t)(r[8] << 8 | r[9]); /* 1 to SD_UPLOAD_ID_STEP_MAX */
	sd_store_be64(id, *seq);
	memcpy(id + 8, r + 10, SD_UPLOAD_ID_BYTES - 8);
	return 0;
}

int sd_upload_index_parse(const char *s, uint32_t *out)
{
	size_t n = s != NULL ? strlen(s) : 0;
	uint64_t v = 0;

	if (n == 0 || n > INDEX_DIGITS || (n > 1 && s[0] == '0'))
		return sd_error(SD_ERR_FORMAT, "an index is a decimal number without leading zeros");
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return sd_error(SD_ERR_FORMAT, "an index is a decimal number without leading zeros");
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT32_MAX)
		return sd_error(SD_ERR_FORMAT, "an index is at most %u", UINT32_MAX);
	*out = (uint32_t)v;
	return 0;
}

static void store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void sd_upload_chunk_key(const uint8_t id[SD_UPLOAD_ID_BYTES], uint32_t blob, uint32_t chunk,
                         uint8_t out[SD_UPLOAD_CHUNK_KEY_BYTES])
{
	memcpy(out, id, SD_UPLOAD_ID_BYTES);
	store_be32(out + SD_UPLOAD_ID_BYTES, blob);
	store_be32(out + SD_UPLOAD_ID_BYTES + 4, chunk);
}

int sd_upload_chunk_key_parse(const uint8_t *key, size_t len, const uint8_t id[SD_UPLOAD_ID_BYTES], uint32_t *blob,
                              uint32_t *chunk)
{
	if (len != SD_UPLOAD_CHUNK_KEY_BYTES || !sd_equal(key, id, SD_UPLOAD_ID_BYTES))
		return sd_error(SD_ERR_FORMAT, "not a chunk key of this upload");
	*blob = load_be32(key + SD_UPLOAD_ID_BYTES);
	*chunk = load_be32(key + SD_UPLOAD_ID_BYTES + 4);
	return 0;
}

void sd_upload_digest_key(const uint8_t digest[SD_HASH_BYTES], const uint8_t fp[SD_CA_FINGERPRINT_BYTES],
                          uint8_t out[SD_UPLOAD_DIGEST_KEY_BYTES])
{
	memcpy(out, digest, SD_HASH_BYTES);
	memcpy(out + SD_HASH_BYTES, fp, SD_CA_FINGERPRINT_BYTES);
}

/* --- bitmaps ------------------------------------------------------------------------------ */

int sd_upload_bitmap_init(sd_upload_bitmap_t *b, const sd_header_t *h)
{
	size_t bytes = 0, off = 0;
	uint8_t *block;

	memset(b, 0, sizeof(*b));
	for (uint32_t i = 0; i < h->n_blobs; i++)
		bytes += ((size_t)h->blobs[i].n_chunks + 7) / 8;
	b->n_chunks = calloc(h->n_blobs ? h->n_blobs : 1, sizeof(*b->n_chunks));
	b->bits = calloc(h->n_blobs ? h->n_blobs : 1, sizeof(*b->bits));
	block = calloc(bytes ? bytes : 1, 1);
	if (b->n_chunks == NULL || b->bits == NULL || block == NULL) {
		free(block);
		sd_upload_bitmap_free(b);
		return SD_ERR_NOMEM;
	}
	b->n_blobs = h->n_blobs;
	for (uint32_t i = 0; i < h->n_blobs; i++) {
		b->n_chunks[i] = h->blobs[i].n_chunks;
		b->bits[i] = block + off;
		off += ((size_t)b->n_chunks[i] + 7) / 8;
		b->total += b->n_chunks[i];
	}
	if (b->n_blobs == 0)
		free(block);
	return 0;
}

void sd_upload_bitmap_free(sd_upload_bitmap_t *b)
{
	if (b->bits != NULL && b->n_blobs > 0)
		free(b->bits[0]); /* the one block every blob's bits point into */
	free(b->bits);
	free(b->n_chunks);
	memset(b, 0, sizeof(*b));
}

int sd_upload_bitmap_set(sd_upload_bitmap_t *b, uint32_t blob, uint32_t chunk)
{
	uint8_t bit = (uint8_t)(1u << (chunk % 8));

	if (blob >= b->n_blobs || chunk >= b->n_chunks[blob])
		return sd_error(SD_ERR_FORMAT, "the manifest has no chunk %u of blob %u", chunk, blob);
	if (b->bits[blob][chunk / 8] & bit)
		return 0;
	b->bits[blob][chunk / 8] |= bit;
	b->present++;
	return 1;
}

void sd_upload_bitmap_fill(sd_upload_bitmap_t *b)
{
	for (uint32_t i = 0; i < b->n_blobs; i++) {
		size_t full = b->n_chunks[i] / 8;
		memset(b->bits[i], 0xff, full);
		if (b->n_chunks[i] % 8)
			b->bits[i][full] = (uint8_t)((1u << (b->n_chunks[i] % 8)) - 1);
	}
	b->present = b->total;
}

bool sd_upload_bitmap_has(const sd_upload_bitmap_t *b, uint32_t blob, uint32_t chunk)
{
	if (blob >= b->n_blobs || chunk >= b->n_chunks[blob])
		return false;
	return (b->bits[blob][chunk / 8] >> (chunk % 8)) & 1;
}

static void append(char *msg, size_t cap, size_t *off, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void append(char *msg, size_t cap, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg + *off, cap - *off, fmt, ap);
	va_end(ap);
	*off = n < 0 ? cap : *off + (size_t)n;
}

void sd_upload_missing(const sd_upload_bitmap_t *b, char *msg, size_t cap, json_t *list)
{
	uint64_t missing = b->total - b->present, shown = 0;
	size_t off = 0;

	if (cap == 0)
		return;
	msg[0] = '\0';
	if (missing == 0) {
		append(msg, cap, &off, "no chunk is missing");
		return;
	}
	for (uint32_t k = 0; k < b->n_blobs && shown < SD_UPLOAD_MISSING_SHOWN; k++)
		for (uint32_t n = 0; n < b->n_chunks[k] && shown < SD_UPLOAD_MISSING_SHOWN; n++) {
			if (sd_upload_bitmap_has(b, k, n))
				continue;
			append(msg, cap, &off, "%sblob %u chunk %u", shown ? ", " : "", k, n);
			if (list != NULL)
				json_array_append_new(
				        list, json_pack("{s:I, s:I}", "blob", (json_int_t)k, "chunk", (json_int_t)n));
			shown++;
		}
	if (missing > shown)
		append(msg, cap, &off, " and %llu more", (unsigned long long)(missing - shown));
	append(msg, cap, &off, missing == 1 ? " is missing" : " are missing");
}

/* --- header checks ------------------------------------------------------------------------- */

static int check_keys(const sd_header_t *h, const sd_directory_t *d)
{
	char want[SD_KEY_ID_HEX_BYTES], got[SD_KEY_ID_HEX_BYTES];

	if (!sd_equal(h->intake_id, d->intake.id, SD_KEY_ID_BYTES)) {
		sd_key_id_hex(h->intake_id, got);
		sd_key_id_hex(d->intake.id, want);
		return sd_error(SD_ERR_WRONG_KEY, "the package is sealed to intake key %s; the directory lists %s", got,
		                want);
	}
	if (!sd_equal(h->identity_id, d->identity.id, SD_KEY_ID_BYTES)) {
		sd_key_id_hex(h->identity_id, got);
		sd_key_id_hex(d->identity.id, want);
		return sd_error(SD_ERR_WRONG_KEY, "the package is sealed to identity key %s; the directory lists %s",
		                got, want);
	}
	return 0;
}

static int check_sizes(const sd_header_t *h, const sd_config_t *c)
{
	if (h->raw_len > c->max_header_bytes)
		return sd_error(SD_ERR_TOOBIG, "the header is %zu bytes; this server takes at most %llu", h->raw_len,
		                (unsigned long long)c->max_header_bytes);
	if (h->package_size > c->max_package_bytes)
		return sd_error(SD_ERR_TOOBIG, "the package is %llu bytes; this server takes at most %llu",
		                (unsigned long long)h->package_size, (unsigned long long)c->max_package_bytes);
	for (uint32_t k = 0; k < h->n_blobs; k++) {
		uint32_t n = h->blobs[k].n_chunks;
		/* Chunks between the second and the last all have the second's size. */
		uint32_t probe[3] = {0, n > 1 ? 1 : 0, n > 0 ? n - 1 : 0};
		for (int i = 0; i < 3 && n > 0; i++)
			if (sd_header_chunk_size(h, k, probe[i]) > c->chunk_bytes)
				return sd_error(SD_ERR_TOOBIG,
				                "chunk %u of blob %u is %llu bytes; this server takes chunks of at "
				                "most %llu",
				                probe[i], k, (unsigned long long)sd_header_chunk_size(h, k, probe[i]),
				                (unsigned long long)c->chunk_bytes);
	}
	return 0;
}

int sd_upload_check_header(const sd_header_t *h, const sd_directory_t *d, const sd_config_t *c)
{
	int r;

	if ((r = sd_header_check_deployment(h, d)) < 0 || (r = check_keys(h, d)) < 0)
		return r;
	return check_sizes(h, c);
}

int sd_upload_http_error(int err, const char **code)
{
	switch (err) {
	case SD_ERR_VERIFY:
		*code = "signature_invalid";
		return 422;
	case SD_ERR_DEPLOYMENT:
		*code = "wrong_deployment";
		return 422;
	case SD_ERR_WRONG_KEY:
		*code = "unknown_key";
		return 422;
	case SD_ERR_TOOBIG:
		*code = "too_large";
		return 413;
	case SD_ERR_NOMEM:
		*code = "busy";
		return 503;
	case SD_ERR_INTERNAL:
	case SD_ERR_USAGE:
		*code = "internal";
		return 500;
	default:
		*code = "bad_header";
		return 422;
	}
}

/* --- answers ------------------------------------------------------------------------------- */

static json_t *blob_json(const sd_header_t *h, const sd_upload_bitmap_t *b, uint32_t k)
{
	size_t bytes = ((size_t)b->n_chunks[k] + 7) / 8;
	char *present = malloc(sd_base64_len(bytes));
	json_t *obj;

	if (present == NULL)
		return NULL;
	sd_base64_encode(b->bits[k], bytes, present);
	obj = json_pack("{s:s, s:I, s:I, s:s}", "kind", blob_kinds[h->blobs[k].kind <= 3 ? h->blobs[k].kind : 0],
	                "size", (json_int_t)h->blobs[k].size, "chunks", (json_int_t)h->blobs[k].n_chunks, "present",
	                present);
	free(present);
	return obj;
}

json_t *sd_upload_status_json(const uint8_t id[SD_UPLOAD_ID_BYTES], const sd_upload_rec_t *rec, const sd_header_t *h,
                              const sd_upload_bitmap_t *b)
{
	char idhex[ID_HEX + 1], digest[DIGEST_HEX + 1], expires[SD_DATE_TEXT_BYTES];
	json_t *obj, *blobs = json_array();

	if (blobs == NULL || b->n_blobs != h->n_blobs)
		goto fail;
	for (uint32_t k = 0; k < h->n_blobs; k++)
		if (json_array_append_new(blobs, blob_json(h, b, k)) < 0)
			goto fail;
	sd_hex_encode(id, SD_UPLOAD_ID_BYTES, idhex);
	sd_hex_encode(rec->digest, sizeof(rec->digest), digest);
	sd_date_format(rec->expires, expires);
	obj = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:o}", "upload", idhex, "state",
	                sd_upload_state_name(rec->state), "header_digest", digest, "expires", expires, "chunks",
	                (json_int_t)b->total, "missing", (json_int_t)(b->total - b->present), "blobs", blobs);
	if (obj != NULL && rec->state == SD_UPLOAD_COMMITTED &&
	    json_object_set_new(obj, "case", json_string(rec->case_number)) < 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
fail:
	json_decref(blobs);
	return NULL;
}
