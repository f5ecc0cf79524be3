/*
 * logclient.c — the client's requests to the server's audit log (client/cli.h, "the audit
 * log"; docs/API.md, "Audit log"): the signed head, checked against the directory's log
 * key, and inclusion and consistency proofs, checked with crypto/merkle.c's RFC 9162
 * verifiers. `sealdrop audit` (cmd_audit.c) and `sealdrop receipt verify --server`
 * (cmd_receipt.c) use them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sealdrop/loghead.h"
#include "sealdrop/merkle.h"
#include "sealdrop/sealdrop.h"
#include "cli.h"
#include "https.h"

#define BUSY_RETRIES 3   /* a busy server (503) is asked again after 1, 2 and 4 seconds */
#define QUERY_MAX    128 /* a request path with its query */
#define WHAT_MAX     128 /* "the inclusion proof of leaf N" */

struct cli_log {
	cli_https_ctx_t *ctx;
	cli_https_conn_t *conn;
};

void cli_log_free(cli_log_t *l)
{
	if (l == NULL)
		return;
	cli_https_conn_free(l->conn);
	cli_https_ctx_free(l->ctx);
	free(l);
}

int cli_log_open(const char *url, const char *ca, const char *cert, const char *key, cli_log_t **out)
{
	cli_https_config_t cfg = {.url = url, .ca_file = ca, .cert_file = cert, .key_file = key};
	cli_log_t *l = calloc(1, sizeof(*l));
	int r;

	*out = NULL;
	if (l == NULL)
		return SD_ERR_NOMEM;
	if ((r = cli_https_ctx_new(&cfg, &l->ctx)) < 0 || (r = cli_https_conn_new(l->ctx, &l->conn)) < 0) {
		cli_log_free(l);
		return r;
	}
	if (cert != NULL && key != NULL && cli_https_key_is_exposed(l->ctx))
		cli_warn("audit", _("%s can be read by other users; make it private: chmod 600 %s"), key, key);
	*out = l;
	return 0;
}

bool cli_log_is_no_head(const cli_https_response_t *resp)
{
	return resp->status == 503 && strcmp(resp->error, "no_head") == 0;
}

/* GET path: 0 for a 200 answer with a body. A busy server is asked again; "no head yet"
 * is not busy, and is left in *resp for the caller to tell. */
int cli_log_get(cli_log_t *l, const char *path, const char *what, cli_https_response_t *resp)
{
	cli_https_request_t req = {.method = "GET", .path = path, .body_fd = -1};
	int r;

	for (unsigned i = 0;; i++) {
		if ((r = cli_https_request(l->conn, &req, resp)) < 0)
			return r;
		if (resp->status != 503 || cli_log_is_no_head(resp) || i == BUSY_RETRIES)
			break;
		cli_https_response_free(resp);
		cli_nap(1000u << i);
		if (sd_is_cancelled())
			return sd_error(SD_ERR_CANCELLED, _("interrupted"));
	}
	if (resp->status != 200)
		return cli_http_fail(resp, what);
	if (resp->body == NULL)
		return sd_error(CLI_ERR_PROTOCOL, _("the server's answer to %s is empty"), what);
	return 0;
}

/* An answer that does not parse is the server breaking the protocol (76); one that parses
 * but does not verify stays a verification failure (65). */
int cli_log_answer_error(int r, const char *what)
{
	if (r == SD_ERR_FORMAT || r == SD_ERR_TOOBIG || r == SD_ERR_TRUNCATED || r == SD_ERR_VERSION)
		r = CLI_ERR_PROTOCOL;
	return cli_error_prefix(r, "%s", what);
}

/* A head that does not verify. Signed by a key the directory does not name as the log key,
 * it most likely means the log key was rotated and this client still has the directory
 * from before: say so, and how to get the new one. */
static int head_error(int r, const uint8_t *text, size_t len, const sd_directory_t *d)
{
	char got[SD_KEY_ID_HEX_BYTES], want[SD_KEY_ID_HEX_BYTES];
	uint8_t id[SD_KEY_ID_BYTES];

	if (r != SD_ERR_VERIFY || d == NULL || !d->has_log || sd_directory_doc_key_id(text, len, id) < 0 ||
	    sd_equal(id, d->log.id, SD_KEY_ID_BYTES))
		return cli_log_answer_error(r, _("the server's log head"));
	sd_key_id_hex(id, got);
	sd_key_id_hex(d->log.id, want);
	if (sd_directory_log_key(d, id) != NULL)
		return sd_error(SD_ERR_VERIFY,
		                _("the server's log head is signed by key %s, which directory version %u lists as "
		                  "RETIRED (its log key is %s): a head from a retired key is not accepted"),
		                got, d->version, want);
	return sd_error(SD_ERR_VERIFY,
	                _("the server's log head is signed by key %s, which directory version %u does not list "
	                  "(its log key is %s): the server's log key was probably rotated. Get the deployment's "
	                  "new directory (the server serves it at /v1/directory; check it with 'sealdrop "
	                  "directory verify'), give it with --directory and run again"),
	                got, d->version, want);
}

int cli_log_head(cli_log_t *l, const sd_directory_t *d, sd_loghead_t *out, uint8_t **text, size_t *len)
{
	cli_https_response_t resp;
	int r;

	if (text != NULL) {
		*text = NULL;
		*len = 0;
	}
	if ((r = cli_log_get(l, "/v1/log/head", _("the log head"), &resp)) < 0) {
		if (cli_log_is_no_head(&resp))
			r = sd_error(CLI_ERR_UNAVAILABLE, _("the server has not published a head of its audit log yet "
			                                    "(it publishes one every hour or so): try again later"));
		goto out;
	}
	if ((r = sd_loghead_verify_with_directory(resp.body, resp.body_len, d, out)) < 0) {
		r = head_error(r, resp.body, resp.body_len, d);
		goto out;
	}
	if (text != NULL) {
		*text = resp.body;
		*len = resp.body_len;
		resp.body = NULL;
	}
out:
	cli_https_response_free(&resp);
	return r;
}

/* The proof the server sent must answer the question asked. */
static int proof_matches(const sd_logproof_t *p, uint64_t a, uint64_t b, const char *what)
{
	if (p->a == a && p->b == b)
		return 0;
	return sd_error(CLI_ERR_PROTOCOL, _("the server answered the request for %s with a proof for %llu and %llu"),
	                what, (unsigned long long)p->a, (unsigned long long)p->b);
}

int cli_log_check_inclusion(cli_log_t *l, const sd_loghead_t *h, uint64_t index, const uint8_t *leaf, size_t len)
{
	char path[QUERY_MAX], what[WHAT_MAX];
	uint8_t leaf_hash[SD_MERKLE_HASH_BYTES];
	cli_https_response_t resp;
	sd_logproof_t p;
	int r;

	snprintf(path, sizeof(path), "/v1/log/proof/inclusion?index=%llu&size=%llu", (unsigned long long)index,
	         (unsigned long long)h->size);
	snprintf(what, sizeof(what), _("the inclusion proof of leaf %llu"), (unsigned long long)index);
	if ((r = cli_log_get(l, path, what, &resp)) < 0)
		goto out;
	if ((r = sd_logproof_inclusion_parse(resp.body, resp.body_len, &p)) < 0) {
		r = cli_log_answer_error(r, what);
		goto out;
	}
	if ((r = proof_matches(&p, index, h->size, what)) < 0)
		goto out;
	sd_merkle_leaf_hash(leaf, len, leaf_hash);
	r = sd_merkle_verify_inclusion(index, h->size, leaf_hash, (const uint8_t(*)[SD_MERKLE_HASH_BYTES])p.hashes, p.n,
	                               h->root);
out:
	cli_https_response_free(&resp);
	return r;
}

int cli_log_check_consistency(cli_log_t *l, const sd_loghead_t *old, const sd_loghead_t *h)
{
	char path[QUERY_MAX], what[WHAT_MAX];
	cli_https_response_t resp;
	sd_logproof_t p;
	int r;

	snprintf(path, sizeof(path), "/v1/log/proof/consistency?from=%llu&to=%llu", (unsigned long long)old->size,
	         (unsigned long long)h->size);
	snprintf(what, sizeof(what), _("the consistency proof from %llu to %llu leaves"), (unsigned long long)old->size,
	         (unsigned long long)h->size);
	if ((r = cli_log_get(l, path, what, &resp)) < 0)
		goto out;
	if ((r = sd_logproof_consistency_parse(resp.body, resp.body_len, &p)) < 0) {
		r = cli_log_answer_error(r, what);
		goto out;
	}
	if ((r = proof_matches(&p, old->size, h->size, what)) < 0)
		goto out;
	r = sd_merkle_verify_consistency(old->size, h->size, old->root, h->root,
	                                 (const uint8_t(*)[SD_MERKLE_HASH_BYTES])p.hashes, p.n);
out:
	cli_https_response_free(&resp);
	return r;
}
