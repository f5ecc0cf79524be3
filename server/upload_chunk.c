/*
 * upload_chunk.c — PUT /v1/uploads/{id}/blobs/{k}/chunks/{n} (docs/API.md): one chunk
 * of ciphertext, checked against its hash in the signed manifest as it streams in.
 *
 * The route uses all three handlers (include/sealdrop/route.h). on_headers finds the
 * upload (the header cache, else a store read while the connection waits) and refuses
 * before any body byte is read when the index is outside the manifest or the length is
 * not exactly the chunk's size. on_body copies into a buffer of exactly that size and
 * feeds the hash. on_complete compares the hash with the manifest's and only then writes,
 * with the upload's record as precondition (so a chunk never lands in an upload that
 * was committed or removed meanwhile) and without overwriting: a chunk already there has
 * the same bytes, since both matched the same hash, and the PUT is idempotent.
 */
#include <stdlib.h>
#include <string.h>

#include "sealdrop/hash.h"
#include "sealdrop/log.h"
#include "sealdrop/sealdrop.h"
#include "upload_int.h"

struct chunk {
	upload_entry_t *e;
	uint32_t blob, chunk;
	uint8_t want[SD_HASH_BYTES];
	uint8_t *buf;
	size_t len, got;
	sd_hash_state_t hash;
};

static void chunk_free(void *p)
{
	struct chunk *c = p;

	if (c == NULL)
		return;
	upload_entry_unref(c->e);
	free(c->buf);
	free(c);
}

/* The upload is found: checks the index and the length, readies the buffer. 0, or <0
 * after replying. */
static int chunk_accept(sd_request_t *r, struct chunk *c, upload_entry_t *e)
{
	const sd_config_t *cfg = sd_server_config(sd_request_server(r));
	uint64_t want, got = sd_request_content_length(r);

	if (e->rec.state == SD_UPLOAD_COMMITTED) {
		sd_request_reply_error(r, 409, "upload_committed", "this upload is committed; it takes no more chunks");
		return -1;
	}
	if (c->blob >= e->h->n_blobs || c->chunk >= e->h->blobs[c->blob].n_chunks) {
		sd_request_reply_error(r, 404, "not_found", "the manifest has no chunk %u of blob %u", c->chunk,
		                       c->blob);
		return -1;
	}
	want = sd_header_chunk_size(e->h, c->blob, c->chunk);
	if (got > cfg->chunk_bytes) {
		sd_request_reply_error(r, 413, "too_large", "the body is %llu bytes; chunks are at most %llu",
		                       (unsigned long long)got, (unsigned long long)cfg->chunk_bytes);
		return -1;
	}
	if (got != want) {
		sd_request_reply_error(r, 422, "chunk_mismatch", "chunk %u of blob %u is %llu bytes; the body has %llu",
		                       c->chunk, c->blob, (unsigned long long)want, (unsigned long long)got);
		return -1;
	}
	if ((c->buf = malloc(want > 0 ? (size_t)want : 1)) == NULL) {
		upload_reply_store_error(r, SD_ERR_NOMEM);
		return -1;
	}
	c->len = (size_t)want;
	memcpy(c->want, e->h->blobs[c->blob].chunk_hashes + (size_t)c->chunk * SD_HASH_BYTES, SD_HASH_BYTES);
	sd_hash_init(&c->hash);
	c->e = upload_entry_ref(e);
	return 0;
}

static void chunk_found(sd_request_t *r, upload_entry_t *e, bool resumed)
{
	if (chunk_accept(r, sd_request_state(r), e) == 0 && resumed)
		sd_request_continue(r);
}

int sd_route_chunk_headers(sd_request_t *r)
{
	struct chunk *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		upload_reply_store_error(r, SD_ERR_NOMEM);
		return 0;
	}
	sd_request_set_state(r, c, chunk_free);
	if (sd_upload_index_parse(sd_request_param(r, 1), &c->blob) < 0 ||
	    sd_upload_index_parse(sd_request_param(r, 2), &c->chunk) < 0) {
		sd_request_reply_error(r, 404, "not_found", "blob and chunk indexes are decimal numbers from 0");
		return 0;
	}
	return upload_find(r, sd_request_param(r, 0), chunk_found);
}

int sd_route_chunk_body(sd_request_t *r, const uint8_t *data, size_t len)
{
	struct chunk *c = sd_request_state(r);

	if (c == NULL || c->buf == NULL)
		return SD_ERR_INTERNAL;
	if (len > c->len - c->got) {
		sd_request_reply_error(r, 422, "chunk_mismatch", "chunk %u of blob %u is longer than %zu bytes",
		                       c->chunk, c->blob, c->len);
		return SD_ERR_FORMAT;
	}
	memcpy(c->buf + c->got, data, len);
	sd_hash_update(&c->hash, data, len);
	c->got += len;
	return 0;
}

static void chunk_done(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	struct chunk *c = sd_request_state(r);
	int st = sd_store_req_status(req);
	long op = sd_store_req_failed_op(req);
	sd_uploads_t *u;

	sd_store_req_free(req);
	if (st == 0) {
		c->e->stored++;
		sd_log(SD_LOG_DEBUG, "chunk stored");
		sd_request_reply_json(r, 201, json_pack("{s:b}", "stored", 1));
	} else if (st == SD_ERR_EXISTS && op == 1) {
		sd_request_reply_json(r, 200, json_pack("{s:b}", "stored", 0));
	} else if (op == 0 && (st == SD_ERR_REFUSED || st == SD_ERR_NOENT)) {
		/* The record was rewritten (committed, or expired and being removed) or is gone:
		 * whatever the cache holds of it is stale. */
		if ((u = upload_state(r)) != NULL)
			upload_cache_evict(u, c->e->id);
		if (st == SD_ERR_REFUSED)
			sd_request_reply_error(r, 409, "upload_committed",
			                       "this upload is committed or has expired; it takes no more chunks");
		else
			sd_request_reply_error(r, 404, "not_found", "there is no such upload (it may have expired)");
	} else {
		upload_reply_store_error(r, st);
	}
}

void sd_route_chunk_complete(sd_request_t *r)
{
	struct chunk *c = sd_request_state(r);
	uint8_t hash[SD_HASH_BYTES], key[SD_UPLOAD_CHUNK_KEY_BYTES];
	sd_store_req_t *req;

	if (c == NULL || c->buf == NULL || c->got != c->len) {
		sd_request_reply_error(r, 422, "chunk_mismatch", "the chunk's body is incomplete");
		return;
	}
	sd_hash_final(&c->hash, hash);
	if (!sd_equal(hash, c->want, SD_HASH_BYTES)) {
		sd_request_reply_error(r, 422, "chunk_mismatch",
		                       "chunk %u of blob %u does not match its hash in the manifest", c->chunk,
		                       c->blob);
		return;
	}
	if (c->e->rec.state == SD_UPLOAD_COMMITTED) {
		sd_request_reply_error(r, 409, "upload_committed", "this upload is committed; it takes no more chunks");
		return;
	}
	sd_upload_chunk_key(c->e->id, c->blob, c->chunk, key);
	if ((req = sd_store_req_new()) != NULL) {
		sd_store_req_check_equal(req, SD_STORE_DB_UPLOADS, c->e->id, SD_UPLOAD_ID_BYTES, c->e->rec_bytes,
		                         c->e->rec_len);
		sd_store_req_put(req, SD_STORE_DB_CHUNKS, key, sizeof(key), c->buf, c->len, SD_STORE_NOOVERWRITE);
	}
	/* The request holds its own copy: the chunk's memory goes back before the write. */
	free(c->buf);
	c->buf = NULL;
	upload_submit(r, req, chunk_done, r);
}
