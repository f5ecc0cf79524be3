/*
 * download.c — the Commission reads a filed package back (docs/API.md):
 *
 *   GET /v1/cases/{case}/header                   the envelope header, as uploaded
 *   GET /v1/cases/{case}/blobs/{k}/chunks/{n}     one chunk's ciphertext, as stored
 *
 * Officers and custodians only; the route table checks the role before these run. Each
 * answer takes two store hops: the case record ("cases", keyed by the case number)
 * names the upload the case was filed from, and the upload's header ("upload_headers")
 * or chunk ("chunks": upload id || blob u32 BE || chunk u32 BE) is then read and sent
 * as it is. The server checks nothing it sends: the client checks the header's
 * signature and every chunk against the signed manifest (client/cmd_fetch.c), so a
 * damaged or lying store is caught on the officer's machine. Start at start().
 */
#include <stdlib.h>
#include <string.h>

#include "sealdrop/caserec.h"
#include "sealdrop/casework.h"
#include "sealdrop/download.h"
#include "sealdrop/log.h"
#include "sealdrop/sealdrop.h"
#include "upload_int.h"

#define OCTETS "application/octet-stream"

/* What one request asks for: the header, or chunk `chunk` of blob `blob`. */
struct download {
	bool header;
	uint32_t blob, chunk;
};

static void reply_no_case(sd_request_t *r)
{
	sd_request_reply_error(r, 404, "not_found", "there is no case %s", sd_request_param(r, 0));
}

/* The header or the chunk has been read: sent as stored. */
static void data_read(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	const struct download *d = sd_request_state(r);
	const uint8_t *v;
	size_t len;
	int st = sd_store_req_status(req);

	if (st < 0) {
		upload_reply_store_error(r, st);
	} else if (sd_store_req_value(req, 0, &v, &len) == 0) {
		sd_request_reply(r, 200, OCTETS, v, len);
	} else if (d->header) {
		sd_log(SD_LOG_ERROR, "a case's package header is missing from the store");
		sd_request_reply_error(r, 500, "internal", "the case's package could not be read");
	} else {
		sd_request_reply_error(r, 404, "not_found", "case %s has no chunk %u of blob %u",
		                       sd_request_param(r, 0), d->chunk, d->blob);
	}
	sd_store_req_free(req);
}

/* The upload id of a stored case record into id; 0, or SD_ERR_FORMAT after answering. */
static int case_upload(sd_request_t *r, const uint8_t *v, size_t len, uint8_t id[SD_UPLOAD_ID_BYTES])
{
	sd_case_rec_t *rec = malloc(sizeof(*rec));
	int err;

	if (rec == NULL) {
		upload_reply_store_error(r, SD_ERR_NOMEM);
		return SD_ERR_NOMEM;
	}
	if ((err = sd_case_rec_decode(v, len, sd_server_config(sd_request_server(r)), rec)) < 0) {
		sd_log(SD_LOG_ERROR, "a stored case record does not decode: %s", sd_error_detail());
		sd_request_reply_error(r, 500, "internal", "the case's record could not be read");
	} else {
		memcpy(id, rec->upload, SD_UPLOAD_ID_BYTES);
	}
	free(rec);
	return err;
}

/* The case record has been read: now the header or the chunk of its upload. */
static void case_read(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	const struct download *d = sd_request_state(r);
	uint8_t id[SD_UPLOAD_ID_BYTES], key[SD_UPLOAD_CHUNK_KEY_BYTES];
	sd_store_req_t *next = NULL;
	const uint8_t *v;
	size_t len;
	int st = sd_store_req_status(req);

	if (st < 0) {
		upload_reply_store_error(r, st);
		goto out;
	}
	if (sd_store_req_value(req, 0, &v, &len) < 0) {
		reply_no_case(r);
		goto out;
	}
	if (case_upload(r, v, len, id) < 0)
		goto out;
	if ((next = sd_store_req_new()) != NULL && d->header) {
		sd_store_req_get(next, SD_STORE_DB_UPLOAD_HEADERS, id, sizeof(id));
	} else if (next != NULL) {
		sd_upload_chunk_key(id, d->blob, d->chunk, key);
		sd_store_req_get(next, SD_STORE_DB_CHUNKS, key, sizeof(key));
	}
	(void)upload_submit(r, next, data_read, r);
out:
	sd_store_req_free(req);
}

static void start(sd_request_t *r, bool header, uint32_t blob, uint32_t chunk)
{
	const char *cn = sd_route_case_number(r);
	struct download *d;
	sd_store_req_t *req;

	if (cn == NULL)
		return;
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		upload_reply_store_error(r, SD_ERR_NOMEM);
		return;
	}
	*d = (struct download){.header = header, .blob = blob, .chunk = chunk};
	sd_request_set_state(r, d, free);
	if ((req = sd_store_req_new()) != NULL)
		sd_store_req_get(req, SD_STORE_DB_CASES, (const uint8_t *)cn, strlen(cn));
	(void)upload_submit(r, req, case_read, r);
}

void sd_route_case_header(sd_request_t *r)
{
	start(r, true, 0, 0);
}

void sd_route_case_chunk(sd_request_t *r)
{
	uint32_t blob, chunk;

	/* An index that is no decimal number names no chunk, like one beyond the manifest. */
	if (sd_upload_index_parse(sd_request_param(r, 1), &blob) < 0 ||
	    sd_upload_index_parse(sd_request_param(r, 2), &chunk) < 0) {
		sd_request_reply_error(r, 404, "not_found", "blob and chunk are decimal numbers from 0");
		return;
	}
	start(r, false, blob, chunk);
}
