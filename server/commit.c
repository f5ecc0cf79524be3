/*
 * commit.c — POST /v1/uploads/{id}/commit (docs/API.md): an upload becomes a case.
 *
 * Start at sd_route_commit(). The header is checked again against the directory served
 * now (it may have been replaced since the upload began); the chunks present are
 * counted from the store's keys (each was checked against the manifest when it came
 * in, so none is re-read); then the case number is taken from the loop's counter and
 * ONE store request creates the case: its record, the digest index, the attorney's
 * index, the year's counter, the upload's record rewritten as committed, the filing's
 * leaf in the audit log and the receipt notice to the whistleblower (notice 0, sealed to
 * the header's notice key, which the case keeps for its later notices) with its own
 * leaf, under two preconditions — the upload is still open and unchanged, and nobody
 * filed this package. Either all of it is on disk or none. The receipt names the filing
 * leaf's index, which the store assigns, so it is signed after that request and stored
 * by a second one; a receipt lost to a crash in between is signed again, byte for byte
 * the same (Ed25519 is deterministic), from the case's record and its filing leaf, by
 * upload_receipt_get: the one reader of a case's receipt, for every route that answers
 * with it (a repeated commit, POST /v1/uploads, GET /v1/uploads/{id}). The notice's
 * sealing and signing (before the request) and the receipt's signing (after it) run on
 * the server's worker thread (sd_server_work), not on the loop that serves every
 * connection; the worker keeps the commits' order, so the year's counter is still
 * written in order.
 *
 * A case number is assigned before that request runs; if the request then fails, the
 * number is not reused and the year's numbering has a gap (docs/DECISIONS.md). Two
 * commits of the same package never run at once (the `committing` set): the second is
 * told to retry, and then gets the first one's receipt.
 */
#include <stdlib.h>
#include <string.h>

#include "sealdrop/auditlog.h"
#include "sealdrop/bytes.h"
#include "sealdrop/log.h"
#include "sealdrop/notices.h"
#include "sealdrop/sealdrop.h"
#include "upload_int.h"

#define DECISION_DAYS   60 /* Art. 8(1): refer, forward or terminate within 60 days of receipt */
#define COMMIT_OP_COUNT 7  /* the write's chunk count check on the fast path (commit_req) */

struct commit {
	sd_server_t *s;
	sd_request_t *r;
	upload_entry_t *e;
	sd_upload_bitmap_t bm;
	bool in_set; /* e's digest is in the committing set */
	bool fast;   /* no scan: the entry counted every chunk; the write checks the count */
	int year;
	uint32_t seq;
	char case_number[SD_CASE_NUMBER_BYTES];
	char *receipt;
	sd_case_rec_t cr;    /* the case being created */
	int audit_op;        /* the write's LOG-APPEND operation */
	sd_upload_rec_t rec; /* the record as committed */
	uint8_t *rec_bytes;
	size_t rec_len;
	/* Made on the worker (sd_server_work), off the loop: the receipt notice, sealed and
	 * signed before the write, and the receipt, signed after it. */
	uint8_t *case_bytes;
	size_t case_len;
	sd_notices_job_t notice;
	sd_receipt_t rc;
	int sign_status;
	char sign_detail[256];
};

static void commit_release(struct commit *c)
{
	sd_uploads_t *u = sd_server_uploads(c->s);

	if (c->in_set && u != NULL)
		upload_map_remove(&u->committing, c->e->rec.digest);
	c->in_set = false;
}

static void commit_free(void *p)
{
	struct commit *c = p;

	if (c == NULL)
		return;
	commit_release(c);
	upload_entry_unref(c->e);
	sd_upload_bitmap_free(&c->bm);
	free(c->receipt);
	free(c->rec_bytes);
	free(c->case_bytes);
	sd_notices_job_clear(&c->notice);
	free(c);
}

/* {"case", "receipt"} with the receipt document as an object. */
static void reply_case(sd_request_t *r, int http, const char *case_number, const uint8_t *receipt, size_t len)
{
	json_t *doc = upload_receipt_json(receipt, len);

	if (doc == NULL) {
		sd_log(SD_LOG_ERROR, "a stored receipt does not parse");
		sd_request_reply_error(r, 500, "internal", "the case's receipt could not be read");
		return;
	}
	sd_request_reply_json(r, http, json_pack("{s:s, s:o}", "case", case_number, "receipt", doc));
}

/* --- The receipt of a filed case ------------------------------------------------------------ */

/* One read of a filed case's receipt (upload_receipt_get): the stored one, or the one
 * signed again when none is stored. */
struct receipt_get {
	sd_request_t *r;
	sd_server_t *s;
	upload_receipt_fn fn;
	void *arg;
	char cn[SD_CASE_NUMBER_BYTES];
	sd_receipt_t rc; /* what the receipt signed again states */
	char *receipt;
	int sign_status;
	char sign_detail[256];
};

/* ctx: our copy of the receipt. Another copy stored meanwhile (a concurrent request that
 * signed it again) must be the same bytes: Ed25519 and the receipt's encoding are
 * deterministic, and both were made from the same durable record and leaf. */
static void receipt_stored(sd_store_req_t *req, void *ctx)
{
	const char *mine = ctx;
	const uint8_t *v;
	size_t len;
	int st = sd_store_req_status(req);

	if (st == SD_ERR_EXISTS && sd_store_req_value(req, 0, &v, &len) == 0 &&
	    (len != strlen(mine) || !sd_equal(v, mine, len)))
		sd_log(SD_LOG_ERROR, "a receipt signed again differs from the one stored for the same case");
	else if (st < 0 && st != SD_ERR_EXISTS)
		sd_log(SD_LOG_WARN, "a receipt could not be stored (it will be signed again when asked for): %s",
		       sd_store_req_detail(req));
	free(ctx);
	sd_store_req_free(req);
}

/* Stores a signed receipt, never over one already stored; a failure only means it is
 * signed again next time. */
static void store_receipt(sd_server_t *s, const char *case_number, const char *receipt)
{
	sd_store_req_t *req = sd_store_req_new();
	char *mine = strdup(receipt);

	if (req != NULL && mine != NULL)
		sd_store_req_put(req, SD_STORE_DB_RECEIPTS, (const uint8_t *)case_number, strlen(case_number),
		                 (const uint8_t *)receipt, strlen(receipt), SD_STORE_NOOVERWRITE);
	if (req == NULL || mine == NULL || sd_server_store_submit(s, req, receipt_stored, mine) < 0) {
		sd_store_req_free(req);
		free(mine);
	}
}

/* What the receipt of case cr states (the leaf index aside). */
static void receipt_of(sd_server_t *s, const sd_case_rec_t *cr, sd_receipt_t *rc)
{
	const sd_directory_t *d = sd_server_directory(s);

	*rc = (sd_receipt_t){.version = SD_RECEIPT_VERSION,
	                     .received = cr->received,
	                     .decision_due = cr->decision_due,
	                     .has_attorney_cert = true};
	snprintf(rc->deployment, sizeof(rc->deployment), "%s", d->deployment);
	snprintf(rc->case_number, sizeof(rc->case_number), "%s", cr->case_number);
	snprintf(rc->attorney, sizeof(rc->attorney), "%s", cr->attorney_name);
	memcpy(rc->header_digest, cr->digest, SD_HASH_BYTES);
	memcpy(rc->attorney_cert, cr->attorney, sizeof(rc->attorney_cert));
}

static void receipt_get_finish(struct receipt_get *g, int status, const uint8_t *receipt, size_t len)
{
	g->fn(g->r, g->arg, status, receipt, len);
	free(g->receipt);
	free(g);
}

/* Answers r with `status` (nothing to give) and ends g. */
static void receipt_get_fail(struct receipt_get *g, int status)
{
	upload_reply_store_error(g->r, status);
	receipt_get_finish(g, status, NULL, 0);
}

/* On the worker: the receipt, signed again. */
static void receipt_sign_again_work(void *ctx)
{
	struct receipt_get *g = ctx;

	if ((g->sign_status = sd_server_sign_receipt(g->s, &g->rc, &g->receipt)) < 0)
		snprintf(g->sign_detail, sizeof(g->sign_detail), "%s", sd_error_detail());
}

/* Back on the loop: stored (once: NOOVERWRITE) and handed over. */
static void receipt_signed_again(void *ctx)
{
	struct receipt_get *g = ctx;

	if (g->sign_status < 0) {
		sd_log(SD_LOG_ERROR, "case %s has no stored receipt and it cannot be signed again: %s", g->cn,
		       g->sign_detail);
		sd_request_reply_error(g->r, 500, "internal", "the case is filed; ask for its receipt again");
		receipt_get_finish(g, SD_ERR_INTERNAL, NULL, 0);
		return;
	}
	sd_log(SD_LOG_INFO, "case %s had no stored receipt (lost to a crash, or not stored yet): signed again", g->cn);
	store_receipt(g->s, g->cn, g->receipt);
	receipt_get_finish(g, 0, (const uint8_t *)g->receipt, strlen(g->receipt));
}

/* Op 0 of req: the leaf the receipt is to name. It must be the filing the receipt states,
 * byte for byte (as scrub checks a stored receipt), or no receipt is signed. */
static void receipt_leaf_read(sd_store_req_t *req, void *ctx)
{
	struct receipt_get *g = ctx;
	const uint8_t *v;
	uint8_t *leaf = NULL;
	size_t len, leaf_len = 0;
	sd_audit_event_t ev;
	int st = sd_store_req_status(req);

	if (st == 0 && sd_store_req_value(req, 0, &v, &len) == 0 && sd_receipt_filing_event(&g->rc, &ev) == 0 &&
	    sd_audit_leaf_encode(&ev, &leaf, &leaf_len) == 0 && leaf_len == len && sd_equal(leaf, v, len)) {
		sd_server_work(g->s, receipt_sign_again_work, receipt_signed_again, g);
	} else {
		sd_log(SD_LOG_ERROR, "case %s has no stored receipt, and its first leaf is not its filing", g->cn);
		receipt_get_fail(g, st < 0 ? st : SD_ERR_INTERNAL);
	}
	free(leaf);
	sd_store_req_free(req);
}

/* Ops of req: 0 the stored receipt, 1 the case, 2 the key of the case's first leaf. */
static void receipt_read(sd_store_req_t *req, void *ctx)
{
	struct receipt_get *g = ctx;
	const uint8_t *v, *k, *ev;
	size_t len, klen, evlen;
	sd_case_rec_t cr;
	sd_store_req_t *next;
	uint8_t key[8];
	int st = sd_store_req_status(req);

	if (st == 0 && sd_store_req_value(req, 0, &v, &len) == 0) {
		receipt_get_finish(g, 0, v, len);
	} else if (st == 0 && sd_store_req_value(req, 1, &v, &len) == 0 &&
	           sd_case_rec_decode(v, len, sd_server_config(g->s), &cr) == 0 &&
	           sd_store_req_scan_count(req, 2, NULL) == 1 &&
	           sd_store_req_scan_entry(req, 2, 0, &k, &klen, &ev, &evlen) == 0 && klen == strlen(g->cn) + 8) {
		receipt_of(g->s, &cr, &g->rc);
		g->rc.has_leaf = true;
		g->rc.leaf_index = sd_load_be64(k + klen - 8);
		sd_store_be64(key, g->rc.leaf_index);
		if ((next = sd_store_req_new()) != NULL)
			sd_store_req_get(next, SD_STORE_DB_LOG_LEAVES, key, sizeof(key));
		if (!upload_submit(g->r, next, receipt_leaf_read, g))
			receipt_get_finish(g, SD_ERR_UNAVAILABLE, NULL, 0);
	} else {
		sd_log(SD_LOG_ERROR, "case %s has neither a receipt nor a filing leaf", g->cn);
		receipt_get_fail(g, st < 0 ? st : SD_ERR_INTERNAL);
	}
	sd_store_req_free(req);
}

void upload_receipt_get(sd_request_t *r, const char *case_number, upload_receipt_fn fn, void *arg)
{
	struct receipt_get *g = calloc(1, sizeof(*g));
	sd_store_req_t *req = sd_store_req_new();
	size_t cn_len = strlen(case_number);

	if (g == NULL || cn_len >= sizeof(g->cn)) {
		free(g);
		sd_store_req_free(req);
		upload_reply_store_error(r, SD_ERR_INTERNAL);
		fn(r, arg, SD_ERR_INTERNAL, NULL, 0);
		return;
	}
	*g = (struct receipt_get){.r = r, .s = sd_request_server(r), .fn = fn, .arg = arg};
	memcpy(g->cn, case_number, cn_len + 1);
	if (req != NULL) {
		sd_store_req_get(req, SD_STORE_DB_RECEIPTS, (const uint8_t *)g->cn, cn_len);
		sd_store_req_get(req, SD_STORE_DB_CASES, (const uint8_t *)g->cn, cn_len);
		/* The case's first leaf is its filing's: the write that creates the case appends it
		 * first (commit_req), and every later leaf of the case has a larger index. */
		sd_store_req_scan_keys(req, SD_STORE_DB_CASE_EVENTS, (const uint8_t *)g->cn, cn_len, NULL, 0, 1);
	}
	if (!upload_submit(r, req, receipt_read, g))
		receipt_get_finish(g, SD_ERR_UNAVAILABLE, NULL, 0);
}

/* A repeated commit: the same receipt again. */
static void committed_receipt(sd_request_t *r, void *arg, int status, const uint8_t *receipt, size_t len)
{
	struct commit *c = arg;

	if (status == 0)
		reply_case(r, 200, c->e->rec.case_number, receipt, len);
}

static void answer_committed(sd_request_t *r, struct commit *c)
{
	upload_receipt_get(r, c->e->rec.case_number, committed_receipt, c);
}

/* --- The write ------------------------------------------------------------------------------ */

static void commit_slow(sd_request_t *r, struct commit *c);

/* A number nobody else took since is given back, so a failed commit leaves no gap. */
static void give_back_number(sd_uploads_t *u, const struct commit *c)
{
	if (u != NULL && u->seq_year == c->year && u->seq == c->seq)
		u->seq--;
}

/* On the worker: the new case's receipt (c->rc, filled on the loop). */
static void receipt_sign_work(void *ctx)
{
	struct commit *c = ctx;

	free(c->receipt);
	c->receipt = NULL;
	if ((c->sign_status = sd_server_sign_receipt(c->s, &c->rc, &c->receipt)) < 0)
		snprintf(c->sign_detail, sizeof(c->sign_detail), "%s", sd_error_detail());
}

/* Back on the loop: the case is filed; store its receipt and answer with it. */
static void receipt_signed(void *ctx)
{
	struct commit *c = ctx;

	if (c->sign_status < 0) {
		sd_log(SD_LOG_ERROR, "case %s is filed, its receipt cannot be signed: %s", c->case_number,
		       c->sign_detail);
		sd_request_reply_error(c->r, 500, "internal", "the case is filed; ask for its receipt again");
		return;
	}
	store_receipt(c->s, c->case_number, c->receipt);
	reply_case(c->r, 201, c->case_number, (const uint8_t *)c->receipt, strlen(c->receipt));
}

static void commit_done(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	struct commit *c = sd_request_state(r);
	sd_uploads_t *u = sd_server_uploads(c->s);
	int st = sd_store_req_status(req);
	long op = sd_store_req_failed_op(req);
	uint64_t leaf = 0;

	if (st == 0 && c->audit_op != SD_AUDIT_NO_OP && sd_store_req_log_index(req, (size_t)c->audit_op, &leaf) < 0)
		st = SD_ERR_INTERNAL;
	sd_store_req_free(req);
	if (st != 0)
		give_back_number(u, c);
	if (c->fast && op == COMMIT_OP_COUNT && st == SD_ERR_TRUNCATED && u != NULL) {
		/* The entry's count was wrong: forget it and look in the store. */
		c->e->stored_known = false;
		commit_slow(r, c);
		return;
	}
	commit_release(c);
	if (st == 0) {
		upload_entry_set_record(c->e, &c->rec, c->rec_bytes, c->rec_len);
		c->rec_bytes = NULL;
		if (u != NULL) {
			upload_open_sub(u, c->e->rec.attorney);
			/* The cache may hold another, now stale, copy of this upload. */
			upload_cache_evict(u, c->e->id);
			(void)upload_cache_insert(u, upload_entry_ref(c->e));
		}
		sd_log(SD_LOG_DEBUG, "case filed");
		receipt_of(c->s, &c->cr, &c->rc);
		c->rc.has_leaf = c->audit_op != SD_AUDIT_NO_OP; /* only the benchmark's baseline has none */
		c->rc.leaf_index = leaf;
		sd_server_work(c->s, receipt_sign_work, receipt_signed, c);
	} else if (op == 0 && st == SD_ERR_NOENT) {
		sd_request_reply_error(r, 404, "not_found", "there is no such upload (it may have expired)");
	} else if (op == 0) {
		if (u != NULL)
			upload_cache_evict(u, c->e->id); /* stale: the next request reads it again */
		sd_request_reply_error(r, 409, "conflict", "the upload changed during the commit; retry");
	} else if (op == 1) {
		sd_request_reply_error(r, 409, "already_filed", "this package was already filed by another attorney");
	} else if (op == 2) {
		sd_log(SD_LOG_ERROR, "case number %s already exists: the year's counter was behind", c->case_number);
		sd_request_reply_error(r, 503, "busy", "the case number was taken; retry");
	} else {
		upload_reply_store_error(r, st);
	}
}

/* The case's record and the upload's record as committed; 0 or <0 after replying. */
static int commit_prepare(sd_request_t *r, struct commit *c)
{
	const sd_principal_t *p = sd_request_principal(r);
	sd_date_t today = sd_server_today(c->s);
	sd_case_rec_t *cr = &c->cr;
	int err;

	memset(cr, 0, sizeof(*cr));
	cr->received = today;
	cr->decision_due = sd_config_period_end(sd_server_config(c->s), today, DECISION_DAYS);
	sd_case_rec_init(cr);
	memcpy(cr->case_number, c->case_number, sizeof(cr->case_number));
	memcpy(cr->digest, c->e->rec.digest, SD_HASH_BYTES);
	memcpy(cr->upload, c->e->id, SD_UPLOAD_ID_BYTES);
	memcpy(cr->attorney, p->fingerprint, SD_CA_FINGERPRINT_BYTES);
	snprintf(cr->attorney_name, sizeof(cr->attorney_name), "%s", p->name);
	cr->has_notice_key = true;
	memcpy(cr->notice_key, c->e->h->notice_pk, sizeof(cr->notice_key));
	cr->notices = 1; /* the receipt notice, written with the case */
	cr->has_session = true;
	memcpy(cr->locator_hash, c->e->h->locator_hash, sizeof(cr->locator_hash));
	memcpy(cr->consent_key, c->e->h->consent_pk, sizeof(cr->consent_key));
	c->rec = c->e->rec;
	c->rec.state = SD_UPLOAD_COMMITTED;
	memcpy(c->rec.case_number, c->case_number, sizeof(c->rec.case_number));
	if ((err = sd_upload_rec_encode(&c->rec, &c->rec_bytes, &c->rec_len)) < 0) {
		sd_log(SD_LOG_ERROR, "cannot prepare case %s: %s", c->case_number, sd_error_detail());
		sd_request_reply_error(r, 500, "internal", "the case could not be prepared");
		return err;
	}
	return 0;
}

/* The filing's audit event: exactly what its receipt will state (sd_receipt_filing_event),
 * so anyone holding the receipt can rebuild the leaf and check it is in the log. */
static int filing_event(struct commit *c, sd_audit_event_t *ev)
{
	sd_receipt_t rc;

	receipt_of(c->s, &c->cr, &rc);
	return sd_receipt_filing_event(&rc, ev);
}

/* The request that files the case, with the receipt notice made on the worker;
 * SD_ERR_INVALID when that notice could not be sealed to the header's notice key (a
 * low-order point: no codename derives it). */
static int commit_req(struct commit *c, const uint8_t *case_bytes, size_t case_len, sd_store_req_t **out)
{
	sd_store_req_t *req = sd_store_req_new();
	const uint8_t *cn = (const uint8_t *)c->case_number;
	size_t cn_len = strlen(c->case_number);
	uint8_t acct[SD_CA_FINGERPRINT_BYTES + SD_CASE_NUMBER_BYTES], seq[4];
	char seq_key[SD_CASE_SEQ_KEY_BYTES];
	sd_audit_event_t ev;
	int err;

	*out = NULL;
	if (req == NULL || sd_case_seq_key(c->year, seq_key) < 0) {
		sd_store_req_free(req);
		return SD_ERR_NOMEM;
	}
	memcpy(acct, c->e->rec.attorney, SD_CA_FINGERPRINT_BYTES);
	memcpy(acct + SD_CA_FINGERPRINT_BYTES, cn, cn_len);
	sd_store_le32(seq, c->seq);
	/* The order of the first three is what commit_done reads from the failed op. */
	sd_store_req_check_equal(req, SD_STORE_DB_UPLOADS, c->e->id, SD_UPLOAD_ID_BYTES, c->e->rec_bytes,
	                         c->e->rec_len);
	sd_store_req_check_absent(req, SD_STORE_DB_CASE_DIGESTS, c->e->rec.digest, SD_HASH_BYTES);
	sd_store_req_put(req, SD_STORE_DB_CASES, cn, cn_len, case_bytes, case_len, SD_STORE_NOOVERWRITE);
	sd_store_req_put(req, SD_STORE_DB_CASE_DIGESTS, c->e->rec.digest, SD_HASH_BYTES, cn, cn_len, 0);
	sd_store_req_put(req, SD_STORE_DB_ACCOUNT_CASES, acct, SD_CA_FINGERPRINT_BYTES + cn_len, NULL, 0, 0);
	sd_store_req_put(req, SD_STORE_DB_META, (const uint8_t *)seq_key, strlen(seq_key), seq, sizeof(seq), 0);
	sd_store_req_put(req, SD_STORE_DB_UPLOADS, c->e->id, SD_UPLOAD_ID_BYTES, c->rec_bytes, c->rec_len, 0);
	if (c->fast) /* op COMMIT_OP_COUNT: every chunk is there, which no scan checked */
		sd_store_req_check_count(req, SD_STORE_DB_CHUNKS, c->e->id, SD_UPLOAD_ID_BYTES, c->e->rec.chunks);
	/* The filing's leaf first: it is the case's first event (upload_receipt_get). */
	c->audit_op = filing_event(c, &ev) < 0 ? SD_ERR_INTERNAL : sd_audit_add(req, &ev);
	if (c->audit_op < 0) {
		sd_store_req_free(req);
		return SD_ERR_INTERNAL;
	}
	if ((err = sd_notices_standard_add(req, &c->notice)) < 0) {
		sd_store_req_free(req);
		return err;
	}
	if (sd_case_index_req(req, NULL, &c->cr) < 0) { /* the listing's summary and indexes */
		sd_store_req_free(req);
		return SD_ERR_INTERNAL;
	}
	*out = req;
	return 0;
}

/* Takes the next case number of this year. The store's counter (read with the scan)
 * may be ahead of the loop's only when the year changed while the server ran. */
static int commit_number(sd_request_t *r, struct commit *c, uint32_t stored)
{
	sd_uploads_t *u = sd_server_uploads(c->s);

	c->year = sd_server_today(c->s).y;
	if (u->seq_year != c->year) {
		u->seq_year = c->year;
		u->seq = 0;
	}
	if (stored > u->seq)
		u->seq = stored;
	c->seq = ++u->seq;
	if (sd_case_number_format(c->year, c->seq, c->case_number) < 0) {
		sd_log(SD_LOG_ERROR, "no case number left in %d: %s", c->year, sd_error_detail());
		sd_request_reply_error(r, 507, "store_full", "no case number is left this year");
		return SD_ERR_TOOBIG;
	}
	return 0;
}

static void commit_failed(sd_request_t *r, struct commit *c, int err)
{
	if (err == SD_ERR_INVALID) {
		give_back_number(sd_server_uploads(c->s), c);
		sd_request_reply_error(r, 422, "bad_header", "the package's notice key cannot be sealed to: %s",
		                       sd_error_detail());
	} else {
		sd_log(SD_LOG_ERROR, "cannot prepare case %s: %s", c->case_number, sd_error_detail());
		give_back_number(sd_server_uploads(c->s), c);
		upload_reply_store_error(r, err == SD_ERR_NOMEM ? err : SD_ERR_INTERNAL);
	}
}

/* On the worker: the receipt notice's three boxes and its signature. */
static void notice_work(void *ctx)
{
	struct commit *c = ctx;

	sd_notices_standard_make(&c->notice);
}

/* Back on the loop, in the order the commits took their numbers: the one write. */
static void notice_made(void *ctx)
{
	struct commit *c = ctx;
	sd_store_req_t *req = NULL;
	int err = commit_req(c, c->case_bytes, c->case_len, &req);

	sd_notices_job_clear(&c->notice);
	free(c->case_bytes);
	c->case_bytes = NULL;
	if (err < 0)
		commit_failed(c->r, c, err);
	else if (!upload_submit(c->r, req, commit_done, c->r))
		give_back_number(sd_server_uploads(c->s), c);
}

static void commit_write(sd_request_t *r, struct commit *c, uint32_t stored)
{
	int err;

	free(c->receipt); /* from a fast attempt that fell back */
	free(c->rec_bytes);
	free(c->case_bytes);
	sd_notices_job_clear(&c->notice);
	c->receipt = NULL;
	c->rec_bytes = NULL;
	c->case_bytes = NULL;
	if (commit_number(r, c, stored) < 0 || commit_prepare(r, c) < 0)
		return;
	if (sd_case_rec_encode(&c->cr, &c->case_bytes, &c->case_len) < 0) {
		sd_log(SD_LOG_ERROR, "cannot encode case %s: %s", c->case_number, sd_error_detail());
		sd_request_reply_error(r, 500, "internal", "the case could not be prepared");
		return;
	}
	if ((err = sd_notices_standard_begin(c->s, &c->cr, 0, c->cr.received, SD_NOTICE_RECEIPT, NULL, &c->notice)) <
	    0) {
		commit_failed(r, c, err);
		return;
	}
	sd_server_work(c->s, notice_work, notice_made, c);
}

/* --- Checks before the write -------------------------------------------------------------------- */

/* Ops of the scan's first request, before the scan: 0 a case for this digest, 1 the
 * year's counter. */
static int commit_extra(sd_store_req_t *req, void *arg)
{
	struct commit *c = arg;
	char key[SD_CASE_SEQ_KEY_BYTES];
	int err;

	if ((err = sd_case_seq_key(sd_server_today(c->s).y, key)) < 0)
		return err;
	sd_store_req_get(req, SD_STORE_DB_CASE_DIGESTS, c->e->rec.digest, SD_HASH_BYTES);
	sd_store_req_get(req, SD_STORE_DB_META, (const uint8_t *)key, strlen(key));
	return 0;
}

static void reply_incomplete(sd_request_t *r, struct commit *c)
{
	char msg[512];
	json_t *list = json_array();

	sd_upload_missing(&c->bm, msg, sizeof(msg), list);
	sd_request_reply_json(r, 409,
	                      json_pack("{s:s, s:s, s:o*}", "error", "incomplete", "message", msg, "missing", list));
}

static void commit_scanned(sd_request_t *r, void *arg, int status, const sd_store_req_t *first)
{
	struct commit *c = arg;
	const uint8_t *v;
	size_t len;
	uint32_t stored = 0;

	if (status < 0) {
		commit_release(c);
		upload_reply_store_error(r, status);
		return;
	}
	if (sd_store_req_found(first, 0)) {
		commit_release(c);
		sd_request_reply_error(r, 409, "already_filed", "this package was already filed by another attorney");
		return;
	}
	if (c->bm.present < c->bm.total) {
		commit_release(c);
		reply_incomplete(r, c);
		return;
	}
	if (sd_store_req_value(first, 1, &v, &len) == 0 && len == 4)
		stored = sd_load_le32(v);
	if (sd_server_uploads(c->s) == NULL) {
		upload_reply_store_error(r, SD_ERR_REFUSED);
		return;
	}
	commit_write(r, c, stored);
}

static void commit_found(sd_request_t *r, upload_entry_t *e, bool resumed)
{
	struct commit *c = sd_request_state(r);
	sd_uploads_t *u = sd_server_uploads(c->s);
	const char *code;
	int err, http;

	(void)resumed;
	c->e = upload_entry_ref(e);
	if (e->rec.state == SD_UPLOAD_COMMITTED) {
		answer_committed(r, c);
		return;
	}
	if ((err = sd_upload_check_header(e->h, sd_server_directory(c->s), sd_server_config(c->s))) < 0) {
		http = sd_upload_http_error(err, &code);
		sd_request_reply_error(r, http, code, "%s", sd_error_detail());
		return;
	}
	if (u == NULL) {
		upload_reply_store_error(r, SD_ERR_REFUSED);
		return;
	}
	if (upload_map_find(&u->committing, e->rec.digest) != NULL) {
		sd_request_reply_error(r, 409, "commit_in_progress",
		                       "this package is being committed by another request; retry");
		return;
	}
	if (upload_map_add(&u->committing, e->rec.digest) == NULL || sd_upload_bitmap_init(&c->bm, e->h) < 0) {
		upload_map_remove(&u->committing, e->rec.digest);
		upload_reply_store_error(r, SD_ERR_NOMEM);
		return;
	}
	c->in_set = true;
	/* The entry counted every chunk since it created the upload, and the year's counter is
	 * current: no scan, one store request (which still checks the count). */
	if (e->stored_known && e->stored == e->rec.chunks && u->seq_year == sd_server_today(c->s).y) {
		c->fast = true;
		commit_write(r, c, 0);
		return;
	}
	commit_slow(r, c);
}

static void commit_slow(sd_request_t *r, struct commit *c)
{
	c->fast = false;
	upload_scan(r, c->e, &c->bm, commit_extra, commit_scanned, c);
}

void sd_route_commit(sd_request_t *r)
{
	struct commit *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		upload_reply_store_error(r, SD_ERR_NOMEM);
		return;
	}
	c->s = sd_request_server(r);
	c->r = r;
	sd_request_set_state(r, c, commit_free);
	(void)upload_find(r, sd_request_param(r, 0), commit_found);
}
