/*
 * scrub_upload.c — `sealdropd scrub`'s chunks (include/sealdrop/scrub.h): every stored
 * chunk of an upload against its size and hash in the signed manifest, as the chunk
 * route checked it on arrival (server/upload_chunk.c), and, for a committed case, every
 * chunk the manifest lists present. Also the uploads still in progress, reported by
 * upload id. Start at scrub_chunks().
 *
 * Chunk keys sort as upload id || blob || chunk (big-endian), so the stored chunks come
 * in manifest order and a cursor over the manifest finds the missing ones between them,
 * reported as runs ("blob 1 chunks 3-9: missing"). Chunks are read
 * SD_SCRUB_CHUNK_PAGE at a time: a case of any size never sits in memory whole.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sealdrop/bytes.h"
#include "sealdrop/sealdrop.h"
#include "sealdrop/uploads.h"
#include "cmd.h"
#include "scrub_int.h"

struct cursor {
	sd_scrub_kind_t kind;
	const char *subject;
	const uint8_t *id;
	const sd_header_t *h;
	bool complete;
	uint32_t blob, chunk; /* the next chunk of the manifest not yet seen */
};

/* Moves the cursor past (blob, chunk), skipping blobs without chunks. */
static void cursor_past(struct cursor *cu, uint32_t blob, uint32_t chunk)
{
	cu->blob = blob;
	cu->chunk = chunk + 1;
	while (cu->blob < cu->h->n_blobs && cu->chunk >= cu->h->blobs[cu->blob].n_chunks) {
		cu->blob++;
		cu->chunk = 0;
	}
}

/* Reports the chunks from the cursor up to (blob, chunk), excluded, as missing runs. */
static void report_missing(scrub_t *s, struct cursor *cu, uint32_t blob, uint32_t chunk)
{
	char what[SD_SCRUB_WHAT_MAX];

	while (cu->blob < blob || (cu->blob == blob && cu->chunk < chunk)) {
		uint32_t end = cu->blob < blob ? cu->h->blobs[cu->blob].n_chunks : chunk;

		if (end > cu->chunk) {
			if (end == cu->chunk + 1)
				snprintf(what, sizeof(what), "blob %u chunk %u", cu->blob, cu->chunk);
			else
				snprintf(what, sizeof(what), "blob %u chunks %u-%u", cu->blob, cu->chunk, end - 1);
			sd_scrub_damage(s->rep, cu->kind, cu->subject, what, "missing");
		}
		if (cu->blob == blob) {
			cu->chunk = chunk;
			break;
		}
		cu->blob++;
		cu->chunk = 0;
	}
}

static int chunk_one(scrub_t *s, void *ctx, const uint8_t *key, size_t klen, const uint8_t *v, size_t vlen)
{
	struct cursor *cu = ctx;
	char what[SD_SCRUB_WHAT_MAX];
	uint32_t blob, chunk;
	uint64_t want;

	if (sd_upload_chunk_key_parse(key, klen, cu->id, &blob, &chunk) < 0) {
		sd_scrub_damage(s->rep, cu->kind, cu->subject, "chunks", "a key of %zu bytes", klen);
		return 0;
	}
	snprintf(what, sizeof(what), "blob %u chunk %u", blob, chunk);
	if (blob >= cu->h->n_blobs || chunk >= cu->h->blobs[blob].n_chunks) {
		sd_scrub_damage(s->rep, cu->kind, cu->subject, what, "stored, but the manifest has no such chunk");
		return 0;
	}
	if (cu->complete)
		report_missing(s, cu, blob, chunk);
	cursor_past(cu, blob, chunk);
	s->rep->chunks++;
	s->rep->bytes += vlen;
	want = sd_header_chunk_size(cu->h, blob, chunk);
	if (vlen != want)
		sd_scrub_damage(s->rep, cu->kind, cu->subject, what, "%zu bytes, the manifest says %llu", vlen,
		                (unsigned long long)want);
	else if (sd_header_check_chunk(cu->h, blob, chunk, v, vlen) < 0)
		sd_scrub_damage(s->rep, cu->kind, cu->subject, what, "hash mismatch");
	return 0;
}

int scrub_chunks(scrub_t *s, sd_scrub_kind_t kind, const char *subject, const uint8_t *upload_id, const sd_header_t *h,
                 bool complete)
{
	struct cursor cu = {kind, subject, upload_id, h, complete, 0, 0};
	int r;

	while (cu.blob < h->n_blobs && h->blobs[cu.blob].n_chunks == 0)
		cu.blob++;
	r = scrub_scan(s, SD_STORE_DB_CHUNKS, upload_id, SD_UPLOAD_ID_BYTES, SD_SCRUB_CHUNK_PAGE, chunk_one, &cu);
	if (r == 0 && complete)
		report_missing(s, &cu, h->n_blobs, 0);
	return r;
}

/* An upload in progress: its header, then the chunks it has so far. */
static int upload_open(scrub_t *s, const uint8_t *id, const char *hex, const sd_upload_rec_t *rec)
{
	sd_store_req_t *req = sd_store_req_new();
	sd_header_t *h = NULL;
	const uint8_t *v;
	size_t len;
	uint64_t n = 0;
	int r = SD_ERR_NOMEM;

	if (req == NULL)
		return r;
	s->rep->uploads++;
	sd_store_req_get(req, SD_STORE_DB_UPLOAD_HEADERS, id, SD_UPLOAD_ID_BYTES);
	if ((r = sd_store_call(s->store, req)) < 0)
		goto out;
	r = 0;
	if (sd_store_req_value(req, 0, &v, &len) < 0) {
		sd_scrub_damage(s->rep, SD_SCRUB_UPLOAD, hex, N_("header"), "missing: its chunks cannot be checked");
		goto out;
	}
	s->rep->records++;
	if (sd_header_parse(v, len, &h) < 0) {
		sd_scrub_damage(s->rep, SD_SCRUB_UPLOAD, hex, N_("header"), "it does not verify: %s",
		                sd_error_detail());
		goto out;
	}
	for (uint32_t b = 0; b < h->n_blobs; b++)
		n += h->blobs[b].n_chunks;
	if (!sd_equal(h->digest, rec->digest, SD_HASH_BYTES) || n != rec->chunks)
		sd_scrub_damage(s->rep, SD_SCRUB_UPLOAD, hex, N_("header"),
		                "it is not the header the upload record names");
	else
		r = scrub_chunks(s, SD_SCRUB_UPLOAD, hex, id, h, false);
out:
	sd_header_free(h);
	sd_store_req_free(req);
	return r;
}

static int upload_one(scrub_t *s, void *ctx, const uint8_t *key, size_t klen, const uint8_t *v, size_t vlen)
{
	char hex[2 * SD_UPLOAD_ID_BYTES + 1];
	sd_upload_rec_t rec;

	(void)ctx;
	sd_hex_encode(key, klen < SD_UPLOAD_ID_BYTES ? klen : SD_UPLOAD_ID_BYTES, hex);
	s->rep->records++;
	if (klen != SD_UPLOAD_ID_BYTES) {
		sd_scrub_damage(s->rep, SD_SCRUB_UPLOAD, hex, N_("record"), "a key of %zu bytes", klen);
		return 0;
	}
	if (sd_upload_rec_decode(v, vlen, &rec) < 0) {
		sd_scrub_damage(s->rep, SD_SCRUB_UPLOAD, hex, N_("record"), "it does not parse: %s", sd_error_detail());
		return 0;
	}
	/* A committed upload is its case's (checked with it); an expired one is being removed. */
	return rec.state == SD_UPLOAD_OPEN ? upload_open(s, key, hex, &rec) : 0;
}

int scrub_uploads(scrub_t *s)
{
	return scrub_scan(s, SD_STORE_DB_UPLOADS, NULL, 0, SD_SCRUB_RECORD_PAGE, upload_one, NULL);
}
