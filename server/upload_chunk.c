/*
 * upload_chunk.c — PUT /v1/uploads/{id}/blobs/{k}/chunks/{n} (docs/API.md): one chunk
 * of ciphertext, checked against its hash in the signed manifest as it streams in.
 *
 * The route uses all three handlers (include/sealdrop/route.h). on_headers finds the
 * upload (the header cache, else a store read while the connection waits) and refuses
 * before any body byte is read when the index is outside the manifest or the length is
 * not exactly the chunk's size. on_body copies into a buffer of exactly that size and
 * hands each HASH_STEP of it to the server's worker thread to hash (hash_hand), so the
 * event loop reads the next bytes meanwhile (a chunk under HASH_ON_LOOP_BELOW is hashed
 * on the loop as it arrives: cheaper than the trip); on_complete hands the rest, and when the
 * worker's digest is back (chunk_hashed) compares it with the manifest's and only then
 * writes, with the upload's record as precondition (so a chunk never lands in an upload
 * that was committed or removed meanwhile) and without overwriting: a chunk already there
 * has the same bytes, since both matched the same hash, and the PUT is idempotent.
 *
 * While hash jobs are out the worker owns the hash state and reads the part of the
 * buffer handed to it; the loop only appends after it. The worker runs its jobs in order,
 * and each comes back to the loop in order (sd_server_work), so the last job back is the
 * one with the digest. A request that ends while jobs are out (an early answer, a closed
 * connection) leaves the chunk to the last of them to free (chunk_free, job_back).
 */
#include <stdlib.h>
#include <string.h>

#include "sealdrop/hash.h"
#include "sealdrop/log.h"
#include "sealdrop/sealdrop.h"
#include "upload_int.h"

/* Bytes of a chunk hashed per worker job as it streams in: a 64 KiB chunk is hashed in
 * one job once complete, a 4 MiB one in 16 while the loop reads on. */
#define HASH_STEP ((size_t)256 << 10)
/* A chunk smaller than this is hashed on the loop as it arrives: under 40 µs of BLAKE2b,
 * less than the trip to the worker and back costs (a filing's report, identity and
 * evidence metadata chunks are 0.5–16 KiB). */
#define HASH_ON_LOOP_BELOW ((size_t)32 << 10)

struct chunk {
	upload_entry_t *e;
	sd_request_t *r; /* the request, until it ends */
	uint32_t blob, chunk;
	uint8_t want[SD_HASH_BYTES];
	uint8_t *buf;
	size_t len, got;
	bool on_loop;         /* small: hashed here, as it arrives (HASH_ON_LOOP_BELOW) */
	size_t handed;        /* bytes of buf handed to the worker to hash */
	unsigned jobs;        /* hash jobs not yet back on the loop */
	sd_hash_state_t hash; /* the worker's while jobs are out */
};

/* One stretch of a chunk to hash on the worker; the last one also finishes the digest. */
struct hash_job {
	struct chunk *c;
	size_t from, to;
	bool last;
	uint8_t digest[SD_HASH_BYTES];
};

static void chunk_destroy(struct chunk *c)
{
	upload_entry_unref(c->e);
	free(c->buf);
	free(c);
}

/* The request's state ends with it; a chunk with hash jobs out lives on until the last. */
static void chunk_free(void *p)
{
	struct chunk *c = p;

	if (c == NULL)
		return;
	c->r = NULL;
	if (c->jobs == 0)
		chunk_destroy(c);
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
	c->on_loop = c->len < HASH_ON_LOOP_BELOW;
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
	c->r = r;
	sd_request_set_state(r, c, chunk_free);
	if (sd_upload_index_parse(sd_request_param(r, 1), &c->blob) < 0 ||
	    sd_upload_index_parse(sd_request_param(r, 2), &c->chunk) < 0) {
		sd_request_reply_error(r, 404, "not_found", "blob and chunk indexes are decimal numbers from 0");
		return 0;
	}
	return upload_find(r, sd_request_param(r, 0), chunk_found);
}

/* On the worker: the job's stretch of the buffer into the hash, and the digest if last. */
static void job_hash(void *ctx)
{
	struct hash_job *j = ctx;

	sd_hash_update(&j->c->hash, j->c->buf + j->from, j->to - j->from);
	if (j->last)
		sd_hash_final(&j->c->hash, j->digest);
}

static void chunk_hashed(struct chunk *c, const uint8_t digest[SD_HASH_BYTES]);

/* Back on the loop: the last job's digest decides; a chunk whose request ended is freed
 * by the last job of all. */
static void job_back(void *ctx)
{
	struct hash_job *j = ctx;
	struct chunk *c = j->c;

	c->jobs--;
	if (c->r == NULL) {
		if (c->jobs == 0)
			chunk_destroy(c);
	} else if (j->last && c->jobs != 0) {
		/* Cannot happen (jobs return in order): never free a buffer the worker reads. */
		sd_log(SD_LOG_ERROR, "chunk hash: the last job came back before %u others", c->jobs);
		sd_request_reply_error(c->r, 500, "internal", "the chunk could not be checked");
	} else if (j->last) {
		chunk_hashed(c, j->digest);
	}
	free(j);
}

/* Hands what arrived since the last job to the worker; last: everything, then the digest.
 * Touches nothing of c afterwards: a job may run, and come back, at once. It may only when
 * none of this chunk's is out (sd_server_work then runs it without a worker, or without
 * memory for the queue); otherwise it waits its turn behind them or is not handed at all
 * (sd_server_work_queue), so the worker's hash never sees two stretches at once or out of
 * order. */
static int hash_hand(struct chunk *c, bool last)
{
	struct hash_job *j = calloc(1, sizeof(*j));
	sd_server_t *s = sd_request_server(c->r);
	int r = 0;

	if (j == NULL)
		return SD_ERR_NOMEM;
	*j = (struct hash_job){.c = c, .from = c->handed, .to = c->got, .last = last};
	c->handed = c->got;
	c->jobs++;
	if (c->jobs == 1) {
		sd_server_work(s, job_hash, job_back, j);
	} else if ((r = sd_server_work_queue(s, job_hash, job_back, j)) < 0) {
		c->jobs--;
		free(j);
	}
	return r;
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
	c->got += len;
	if (c->on_loop)
		sd_hash_update(&c->hash, data, len);
	else if (c->got - c->handed >= HASH_STEP && c->got < c->len && hash_hand(c, false) < 0) {
		upload_reply_store_error(r, SD_ERR_NOMEM); /* 503: out of memory, or stopping */
		return SD_ERR_NOMEM;
	}
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

	if (c == NULL || c->buf == NULL || c->got != c->len) {
		sd_request_reply_error(r, 422, "chunk_mismatch", "the chunk's body is incomplete");
		return;
	}
	if (c->on_loop) {
		uint8_t digest[SD_HASH_BYTES];
		sd_hash_final(&c->hash, digest);
		chunk_hashed(c, digest);
	} else if (hash_hand(c, true) < 0) {
		upload_reply_store_error(r, SD_ERR_NOMEM);
	}
}

/* The whole chunk hashed (every job back): it matches the manifest, or it is refused. */
static void chunk_hashed(struct chunk *c, const uint8_t digest[SD_HASH_BYTES])
{
	sd_request_t *r = c->r;
	uint8_t key[SD_UPLOAD_CHUNK_KEY_BYTES];
	sd_store_req_t *req;

	if (!sd_equal(digest, c->want, SD_HASH_BYTES)) {
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
