/*
 * scrub.c — `sealdropd scrub`: re-verifies every blob and record of the store and
 * reports damage case by case (include/sealdrop/scrub.h says what is checked). Start at
 * sd_scrub_run(): the log pass (server/scrub_log.c), then every case in number order
 * (scrub_case(): the record, then what hangs on it), then the uploads in progress
 * (server/scrub_upload.c), then the damaged leaves no case claimed.
 *
 * Only reads: every request is GETs and SCANs, which the store runs in a transaction
 * that commits nothing. Memory stays bounded: cases are read SD_SCRUB_RECORD_PAGE at a
 * time, one case's chunks SD_SCRUB_CHUNK_PAGE at a time, and nothing of a case is kept
 * once the next one starts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sealdrop/bytes.h"
#include "sealdrop/consents.h"
#include "sealdrop/directory.h"
#include "sealdrop/notices.h"
#include "sealdrop/sealdrop.h"
#include "sealdrop/uploads.h"
#include "cmd.h"
#include "scrub_int.h"

#define NOTICE_PAGE  32 /* notices one request reads (each at most 96 KiB) */
#define CONSENT_PAGE 64

/* One case while it is checked. */
struct kase {
	char cn[SD_CASE_NUMBER_BYTES];
	bool rec_ok;
	sd_case_rec_t rec;
	sd_header_t *h;   /* the stored header, verified; NULL when damaged */
	uint8_t *receipt; /* a copy, or NULL when none is stored */
	size_t receipt_len;
	scrub_leaves_t leaves;
};

/* The GETs a case record implies, in this order (see case_gets). */
enum { G_HEADER, G_UPLOAD, G_DIGEST, G_SUMMARY, G_STATE, G_ACCOUNT, G_RECEIPT, G_DUE, G_LOCATOR, G_COUNT };

/* One damaged item of case k (sd_scrub_damage: the line it prints is translated, the
 * JSON item is not). */
#define case_damage(s, k, what, ...) sd_scrub_damage((s)->rep, SD_SCRUB_CASE, (k)->cn, what, __VA_ARGS__)

/* Adds the GETs for the record's header, upload, indexes and receipt; op i is G_i. */
static void case_gets(sd_store_req_t *req, const struct kase *k)
{
	const sd_case_rec_t *rec = &k->rec;
	uint8_t acct[SD_CA_FINGERPRINT_BYTES + SD_CASE_NUMBER_LEN], state[SD_CASE_STATE_KEY_BYTES];
	uint8_t due[SD_CASE_DUE_KEY_BYTES], loc[SD_CASE_LOCATOR_KEY_BYTES];
	const uint8_t *cn = (const uint8_t *)k->cn;

	sd_store_req_get(req, SD_STORE_DB_UPLOAD_HEADERS, rec->upload, sizeof(rec->upload));
	sd_store_req_get(req, SD_STORE_DB_UPLOADS, rec->upload, sizeof(rec->upload));
	sd_store_req_get(req, SD_STORE_DB_CASE_DIGESTS, rec->digest, sizeof(rec->digest));
	sd_store_req_get(req, SD_STORE_DB_CASE_SUMMARIES, cn, SD_CASE_NUMBER_LEN);
	sd_case_state_key(rec->flow.state, k->cn, state);
	sd_store_req_get(req, SD_STORE_DB_CASE_BY_STATE, state, sizeof(state));
	memcpy(acct, rec->attorney, SD_CA_FINGERPRINT_BYTES);
	memcpy(acct + SD_CA_FINGERPRINT_BYTES, cn, SD_CASE_NUMBER_LEN);
	sd_store_req_get(req, SD_STORE_DB_ACCOUNT_CASES, acct, sizeof(acct));
	sd_store_req_get(req, SD_STORE_DB_RECEIPTS, cn, SD_CASE_NUMBER_LEN);
	if (sd_case_due_key(&rec->flow, k->cn, due))
		sd_store_req_get(req, SD_STORE_DB_CASE_BY_DUE, due, sizeof(due));
	else
		sd_store_req_get(req, SD_STORE_DB_META, (const uint8_t *)"-", 1); /* a placeholder: G_DUE */
	sd_case_locator_key(rec->locator_hash, k->cn, loc);
	sd_store_req_get(req, SD_STORE_DB_CASE_BY_LOCATOR, loc, sizeof(loc));
}

/* The stored header: present, verifying, with the record's digest. Kept in k->h. */
static void case_header(scrub_t *s, struct kase *k, const sd_store_req_t *req)
{
	const uint8_t *v;
	size_t len;

	if (sd_store_req_value(req, G_HEADER, &v, &len) < 0) {
		case_damage(s, k, N_("header"), "missing: the case's blobs cannot be checked");
		return;
	}
	s->rep->records++;
	if (sd_header_parse(v, len, &k->h) < 0) {
		case_damage(s, k, N_("header"), "it does not verify: %s", sd_error_detail());
		return;
	}
	if (!sd_equal(k->h->digest, k->rec.digest, SD_HASH_BYTES)) {
		case_damage(s, k, N_("header"), "its digest is not the record's");
		sd_header_free(k->h);
	}
}

static uint64_t manifest_chunks(const sd_header_t *h)
{
	uint64_t n = 0;

	for (uint32_t b = 0; b < h->n_blobs; b++)
		n += h->blobs[b].n_chunks;
	return n;
}

/* The upload record the case was committed from. */
static void case_upload(scrub_t *s, const struct kase *k, const sd_store_req_t *req)
{
	sd_upload_rec_t up;
	const uint8_t *v;
	size_t len;

	if (sd_store_req_value(req, G_UPLOAD, &v, &len) < 0) {
		case_damage(s, k, N_("upload record"), "missing");
		return;
	}
	s->rep->records++;
	if (sd_upload_rec_decode(v, len, &up) < 0)
		case_damage(s, k, N_("upload record"), "it does not parse: %s", sd_error_detail());
	else if (up.state != SD_UPLOAD_COMMITTED || strcmp(up.case_number, k->cn) != 0)
		case_damage(s, k, N_("upload record"), "it is not committed as this case");
	else if (!sd_equal(up.digest, k->rec.digest, SD_HASH_BYTES) ||
	         !sd_equal(up.attorney, k->rec.attorney, SD_CA_FINGERPRINT_BYTES))
		case_damage(s, k, N_("upload record"), "its digest or attorney is not the case record's");
	else if (k->h != NULL && up.chunks != manifest_chunks(k->h))
		case_damage(s, k, N_("upload record"), "it counts %llu chunks, the manifest %llu",
		            (unsigned long long)up.chunks, (unsigned long long)manifest_chunks(k->h));
}

/* An index entry: present (and, with want, holding exactly those bytes). */
static void case_index(scrub_t *s, const struct kase *k, const sd_store_req_t *req, size_t op, const char *name,
                       const uint8_t *want, size_t want_len)
{
	const uint8_t *v;
	size_t len;

	if (sd_store_req_value(req, op, &v, &len) < 0) {
		case_damage(s, k, name, "the entry is missing");
		return;
	}
	s->rep->records++;
	if (want != NULL && (len != want_len || !sd_equal(v, want, len)))
		case_damage(s, k, name, "the entry does not name this case");
}

static void case_summary(scrub_t *s, const struct kase *k, const sd_store_req_t *req)
{
	uint8_t want[SD_CASE_SUM_MAX];
	sd_case_sum_t sum;
	const uint8_t *v;
	size_t len, want_len;

	if (sd_store_req_value(req, G_SUMMARY, &v, &len) < 0) {
		case_damage(s, k, N_("summary"), "missing");
		return;
	}
	s->rep->records++;
	sd_case_sum_of(&k->rec, &sum);
	if (sd_case_sum_decode(v, len, &sum) < 0)
		case_damage(s, k, N_("summary"), "it does not parse: %s", sd_error_detail());
	else if (sd_case_sum_of(&k->rec, &sum),
	         sd_case_sum_encode(&sum, want, &want_len) < 0 || want_len != len || !sd_equal(want, v, len))
		case_damage(s, k, N_("summary"), "it disagrees with the case record");
}

static int case_records(scrub_t *s, struct kase *k, const sd_store_req_t *req)
{
	const sd_case_rec_t *rec = &k->rec;
	const uint8_t *v;
	size_t len;

	case_header(s, k, req);
	case_upload(s, k, req);
	case_index(s, k, req, G_DIGEST, "case_digests", (const uint8_t *)k->cn, SD_CASE_NUMBER_LEN);
	case_summary(s, k, req);
	case_index(s, k, req, G_STATE, "case_by_state", NULL, 0);
	case_index(s, k, req, G_ACCOUNT, "account_cases", NULL, 0);
	if (sd_case_due_key(&rec->flow, k->cn, (uint8_t[SD_CASE_DUE_KEY_BYTES]){0}))
		case_index(s, k, req, G_DUE, "case_by_due", NULL, 0);
	if (rec->has_session)
		case_index(s, k, req, G_LOCATOR, "case_by_locator", NULL, 0);
	/* A receipt lost to a crash before it was stored is signed again when asked for: its
	 * absence is no damage. req is freed before the leaves are read: keep a copy. */
	if (sd_store_req_value(req, G_RECEIPT, &v, &len) < 0)
		return 0;
	if ((k->receipt = malloc(len > 0 ? len : 1)) == NULL)
		return sd_error(SD_ERR_NOMEM, "out of memory");
	memcpy(k->receipt, v, len);
	k->receipt_len = len;
	return 0;
}

/* The log key a stored document names: the current one or one the directory retired
 * (the current one when it names neither, so that the damage says which key signed it). */
static const sd_pubkey_t *doc_key(const scrub_t *s, const uint8_t *json, size_t len)
{
	uint8_t id[SD_KEY_ID_BYTES];

	if (sd_directory_doc_key_id(json, len, id) == 0)
		for (size_t i = 1; i < s->n_keys; i++)
			if (sd_equal(s->keys[i].id, id, SD_KEY_ID_BYTES))
				return &s->keys[i];
	return s->log;
}

/* The receipt verifies, states the record's filing and names the filing's leaf. */
static void case_receipt(scrub_t *s, const struct kase *k)
{
	sd_audit_event_t ev;
	sd_receipt_t rc;
	uint8_t *leaf = NULL;
	size_t len;

	if (k->receipt == NULL)
		return;
	s->rep->records++;
	if (sd_receipt_parse(k->receipt, k->receipt_len, doc_key(s, k->receipt, k->receipt_len), &rc) < 0) {
		case_damage(s, k, N_("receipt"), "it does not verify with the log key: %s", sd_error_detail());
		return;
	}
	if (strcmp(rc.case_number, k->cn) != 0 || !k->rec_ok ||
	    !sd_equal(rc.header_digest, k->rec.digest, SD_HASH_BYTES) ||
	    sd_date_cmp(rc.received, k->rec.received) != 0 || sd_date_cmp(rc.decision_due, k->rec.decision_due) != 0) {
		case_damage(s, k, N_("receipt"), "it states another filing than the case record");
		return;
	}
	if (!rc.has_leaf || !k->leaves.has_filing)
		return; /* a receipt from before the audit log; a missing filing leaf is reported */
	if (rc.leaf_index != k->leaves.filing_index) {
		case_damage(s, k, N_("receipt"), "it names leaf %llu, the case's filing is leaf %llu",
		            (unsigned long long)rc.leaf_index, (unsigned long long)k->leaves.filing_index);
		return;
	}
	if (sd_receipt_filing_event(&rc, &ev) == 0 && sd_audit_leaf_encode(&ev, &leaf, &len) == 0 &&
	    (len != k->leaves.filing_len || !sd_equal(leaf, k->leaves.filing_leaf, len)))
		case_damage(s, k, N_("receipt"), "the filing leaf is not the event the receipt states");
	free(leaf);
}

int scrub_scan(scrub_t *s, sd_store_db_t db, const uint8_t *prefix, size_t prefix_len, size_t limit, scrub_entry_fn fn,
               void *ctx)
{
	sd_store_req_t *req = sd_store_req_new();
	uint8_t after[SD_STORE_KEY_MAX];
	size_t after_len = 0, klen, vlen, n;
	const uint8_t *k, *v;
	bool more = true;
	int r = SD_ERR_NOMEM;

	while (req != NULL && more) {
		sd_store_req_reset(req);
		sd_store_req_scan(req, db, prefix, prefix_len, after_len > 0 ? after : NULL, after_len, limit);
		if ((r = sd_store_call(s->store, req)) < 0)
			goto out;
		n = sd_store_req_scan_count(req, 0, &more);
		for (size_t i = 0; i < n; i++) {
			if ((r = sd_store_req_scan_entry(req, 0, i, &k, &klen, &v, &vlen)) < 0 ||
			    (r = fn(s, ctx, k, klen, v, vlen)) < 0)
				goto out;
			memcpy(after, k, klen); /* klen <= SD_STORE_KEY_MAX: LMDB's own bound */
			after_len = klen;
		}
		if (n == 0)
			break;
	}
	r = req == NULL ? SD_ERR_NOMEM : 0;
out:
	sd_store_req_free(req);
	return r;
}

struct notices {
	struct kase *k;
	uint32_t next; /* the seq the next stored notice must have */
	bool check_leaves;
};

static bool notice_has_leaf(const scrub_leaves_t *l, const uint8_t digest[SD_NOTICE_DIGEST_BYTES])
{
	for (size_t i = 0; i < l->n_notices; i++)
		if (sd_equal(l->notice_digests[i], digest, SD_NOTICE_DIGEST_BYTES))
			return true;
	return false;
}

static int notice_one(scrub_t *s, void *ctx, const uint8_t *key, size_t klen, const uint8_t *v, size_t vlen)
{
	struct notices *ns = ctx;
	uint8_t digest[SD_NOTICE_DIGEST_BYTES];
	char what[SD_SCRUB_WHAT_MAX];
	uint32_t seq;
	sd_notice_t n;

	s->rep->records++;
	if (klen != SD_NOTICES_KEY_BYTES) {
		case_damage(s, ns->k, "notices", "a key of %zu bytes", klen);
		return 0;
	}
	seq = (uint32_t)key[11] << 24 | (uint32_t)key[12] << 16 | (uint32_t)key[13] << 8 | key[14];
	snprintf(what, sizeof(what), "notice %u", seq);
	if (seq != ns->next)
		case_damage(s, ns->k, what, "notices %u to %u are missing", ns->next, seq - 1);
	ns->next = seq + 1;
	if (sd_notice_parse(v, vlen, doc_key(s, v, vlen), &n) < 0) {
		case_damage(s, ns->k, what, "it does not verify with the log key: %s", sd_error_detail());
		return 0;
	}
	if (strcmp(n.case_number, ns->k->cn) != 0 || n.seq != seq)
		case_damage(s, ns->k, what, "it is notice %u of case '%s'", n.seq, n.case_number);
	else if (ns->check_leaves && sd_notice_digest(&n, digest) == 0 && !notice_has_leaf(&ns->k->leaves, digest))
		case_damage(s, ns->k, what, "no leaf of the case's audit log records it");
	sd_notice_clear(&n);
	return 0;
}

static int case_notices(scrub_t *s, struct kase *k, bool leaves_ok)
{
	struct notices ns = {k, 0, leaves_ok};
	int r = scrub_scan(s, SD_STORE_DB_NOTICES, (const uint8_t *)k->cn, SD_CASE_NUMBER_LEN, NOTICE_PAGE, notice_one,
	                   &ns);

	if (r == 0 && k->rec_ok && k->rec.has_notice_key && ns.next != k->rec.notices)
		case_damage(s, k, "notices", "the record counts %u, notices 0 to %u are stored", k->rec.notices,
		            ns.next == 0 ? 0 : ns.next - 1);
	return r;
}

static int consent_one(scrub_t *s, void *ctx, const uint8_t *key, size_t klen, const uint8_t *v, size_t vlen)
{
	struct kase *k = ctx;
	char what[SD_SCRUB_WHAT_MAX], hex[17];
	sd_consent_row_t row;

	s->rep->records++;
	if (klen != SD_CONSENTS_KEY_BYTES) {
		case_damage(s, k, "consents", "a key of %zu bytes", klen);
		return 0;
	}
	sd_hex_encode(key + SD_CASE_NUMBER_LEN, 8, hex);
	snprintf(what, sizeof(what), "consent %s", hex);
	if (sd_consent_row_decode(v, vlen, &row) < 0)
		case_damage(s, k, what, "it does not parse: %s", sd_error_detail());
	else if (!sd_equal(row.id, key + SD_CASE_NUMBER_LEN, SD_CONSENT_ID_BYTES))
		case_damage(s, k, what, "it is filed under another consent's id");
	else if (k->rec_ok && !sd_equal(row.c.header_digest, k->rec.digest, SD_HASH_BYTES))
		case_damage(s, k, what, "it consents to another package");
	else if (k->h != NULL && sd_consent_verify(&row.c, k->h) < 0)
		case_damage(s, k, what, "it does not verify with the package's consent key: %s", sd_error_detail());
	sd_wipe(&row, sizeof(row));
	return 0;
}

/* What hangs on a record that decoded: header, upload, indexes, chunks. */
static int case_parts(scrub_t *s, struct kase *k)
{
	sd_store_req_t *req = sd_store_req_new();
	int r = SD_ERR_NOMEM;

	if (req == NULL)
		return r;
	case_gets(req, k);
	if ((r = sd_store_call(s->store, req)) < 0)
		goto out;
	if ((r = case_records(s, k, req)) < 0)
		goto out;
	if (k->h != NULL)
		r = scrub_chunks(s, SD_SCRUB_CASE, k->cn, k->rec.upload, k->h, true);
out:
	sd_store_req_free(req);
	return r;
}

/* The record under key: decodes, names itself. */
static void case_decode(scrub_t *s, struct kase *k, const uint8_t *v, size_t vlen)
{
	s->rep->records++;
	if (sd_case_rec_decode(v, vlen, s->cal, &k->rec) < 0) {
		case_damage(s, k, N_("record"), "it does not parse: %s", sd_error_detail());
		return;
	}
	if (strcmp(k->rec.case_number, k->cn) != 0) {
		case_damage(s, k, N_("record"), "it is filed under another case's number");
		return;
	}
	k->rec_ok = true;
}

static int case_one(scrub_t *s, void *ctx, const uint8_t *key, size_t klen, const uint8_t *v, size_t vlen)
{
	struct kase *k = ctx;
	uint64_t before;
	int r;

	free(k->receipt);
	sd_header_free(k->h);
	scrub_leaves_clear(&k->leaves);
	memset(k, 0, sizeof(*k));
	s->rep->cases++;
	if (klen != SD_CASE_NUMBER_LEN || (memcpy(k->cn, key, klen), !sd_case_number_is_valid(k->cn))) {
		char hex[2 * 16 + 1];

		sd_hex_encode(key, klen < 16 ? klen : 16, hex);
		sd_scrub_damage(s->rep, SD_SCRUB_CASE, hex, N_("record"), "its key is not a case number");
		return 0;
	}
	case_decode(s, k, v, vlen);
	if (k->rec_ok && (r = case_parts(s, k)) < 0)
		return r;
	before = s->rep->damaged;
	if ((r = scrub_case_leaves(s, k->cn, k->rec_ok ? &k->rec : NULL, &k->leaves)) < 0)
		return r;
	case_receipt(s, k);
	if ((r = case_notices(s, k, s->rep->damaged == before)) < 0)
		return r;
	return scrub_scan(s, SD_STORE_DB_CONSENTS, (const uint8_t *)k->cn, SD_CASE_NUMBER_LEN, CONSENT_PAGE,
	                  consent_one, k);
}

static int scrub_cases(scrub_t *s)
{
	struct kase *k = calloc(1, sizeof(*k));
	int r;

	if (k == NULL)
		return sd_error(SD_ERR_NOMEM, "out of memory");
	r = scrub_scan(s, SD_STORE_DB_CASES, NULL, 0, SD_SCRUB_RECORD_PAGE, case_one, k);
	free(k->receipt);
	sd_header_free(k->h);
	scrub_leaves_clear(&k->leaves);
	free(k);
	return r;
}

int sd_scrub_run(sd_store_t *store, const sd_pubkey_t *log, const sd_config_t *cal, sd_scrub_report_t *rep)
{
	return sd_scrub_run_keys(store, log, 1, cal, rep);
}

int sd_scrub_run_keys(sd_store_t *store, const sd_pubkey_t *keys, size_t n_keys, const sd_config_t *cal,
                      sd_scrub_report_t *rep)
{
	scrub_t s = {.store = store, .log = &keys[0], .keys = keys, .n_keys = n_keys, .cal = cal, .rep = rep};
	int r;

	if ((r = scrub_log_leaves(&s)) == 0 && (r = scrub_log_tree(&s)) == 0 && (r = scrub_cases(&s)) == 0 &&
	    (r = scrub_uploads(&s)) == 0)
		scrub_log_unclaimed(&s);
	free(s.bad);
	return r;
}
