/*
 * retention_policy.c — the store process's rule for destroying a case
 * (include/sealdrop/retention.h): a compromised front end must not be able to destroy
 * an open case, nor one whose period has not passed, nor log a destruction that did not
 * happen. Start at sd_retention_policy_rule, which server/store_wire.c's
 * sd_storewire_policy_check calls for every request.
 *
 A request that appends a `case-destroyed` leaf or puts a tombstone claims a destruction,
 * and only such a request may delete case data the server otherwise never deletes (a DEL
 * or DEL-PREFIX in cases, case_digests, account_cases, receipts, case_texts, notices,
 * case_summaries, consents: without a claim, store_wire.c's table refuses those with its
 * own rule). A destruction must be exactly one, whole:
 *
 *   - one LOG-APPEND, a `case-destroyed` leaf of case C by the operator, dated no later
 *     than this process's today;
 *   - a CHECK-EQUAL of cases[C], before any delete there, whose value is a finished case
 *     C that is due by this process's clock and retention_days (the CHECK makes the
 *     store compare it to the stored record, so the record is the real one);
 *   - a DEL of cases[C];
 *   - every delete in those databases keyed to C (the record gives the digest, the
 *     attorney and the locator), and the tombstone, if any, meta "destroyed/C", written
 *     once.
 *
 * Pure (no store, no I/O): tests/unit/test_retention.c drives it.
 */
#include <stdlib.h>
#include <string.h>

#include "sealdrop/audit.h"
#include "sealdrop/bytes.h"
#include "sealdrop/retention.h"
#include "sealdrop/sealdrop.h"
#include "sealdrop/uploads.h"
#include "store_int.h"

static uint32_t store_days; /* inherited by the store process from the front end's fork */

void sd_retention_set_days(uint32_t days)
{
	store_days = days > SD_RETENTION_DAYS_MAX ? SD_RETENTION_DAYS_MAX : days;
}

uint32_t sd_retention_days(void)
{
	return store_days;
}

bool sd_retention_db_is_case_data(sd_store_db_t db)
{
	switch (db) {
	case SD_STORE_DB_CASES:
	case SD_STORE_DB_CASE_DIGESTS:
	case SD_STORE_DB_ACCOUNT_CASES:
	case SD_STORE_DB_RECEIPTS:
	case SD_STORE_DB_CASE_TEXTS:
	case SD_STORE_DB_NOTICES:
	case SD_STORE_DB_CASE_SUMMARIES:
	case SD_STORE_DB_CONSENTS:
	case SD_STORE_DB_UPLOADS: /* the package: deleted otherwise only once it expired */
	case SD_STORE_DB_UPLOAD_HEADERS:
	case SD_STORE_DB_CHUNKS:
		return true;
	default:
		return false;
	}
}

static const uint8_t *key_of(const sd_store_req_t *req, const struct op *op)
{
	return req->in.p + op->key_off;
}

static bool is_tomb_put(const sd_store_req_t *req, const struct op *op)
{
	return op->kind == OP_PUT && op->db == SD_STORE_DB_META && op->key_len >= SD_RETENTION_TOMB_PREFIX_LEN &&
	       sd_equal(key_of(req, op), SD_RETENTION_TOMB_PREFIX, SD_RETENTION_TOMB_PREFIX_LEN);
}

static bool is_case_delete(const struct op *op)
{
	return (op->kind == OP_DEL || op->kind == OP_DEL_PREFIX) && sd_retention_db_is_case_data(op->db);
}

/* What the request claims, gathered in one pass. */
struct claim {
	bool any;            /* it claims a destruction: a case-destroyed leaf or a tombstone */
	long leaf, check;    /* the LOG-APPEND, the CHECK-EQUAL of cases (-1: none) */
	long first_case_del; /* the first DEL in cases */
	long other_put;      /* the first PUT that is not the tombstone */
	size_t n_leaves;     /* LOG-APPENDs */
	sd_audit_event_t ev; /* the leaf, parsed */
	sd_case_rec_t *rec;  /* the compared record, decoded */
};

static const char *gather(const sd_store_req_t *req, struct claim *c, size_t *bad)
{
	for (size_t i = 0; i < req->n_ops; i++) {
		const struct op *op = &req->ops[i];
		*bad = i;
		if (op->kind == OP_LOG_APPEND) {
			c->n_leaves++;
			if (sd_audit_leaf_parse(req->in.p + op->val_off, op->val_len, &c->ev) == 0 &&
			    c->ev.type == SD_AUDIT_CASE_DESTROYED) {
				c->any = true;
				c->leaf = (long)i;
			}
		} else if (op->kind == OP_CHECK_EQUAL && op->db == SD_STORE_DB_CASES && c->check < 0) {
			c->check = (long)i;
		} else if (is_tomb_put(req, op)) {
			c->any = true;
		} else if (op->kind == OP_PUT && c->other_put < 0) {
			c->other_put = (long)i;
		} else if (op->kind == OP_DEL && op->db == SD_STORE_DB_CASES && c->first_case_del < 0) {
			c->first_case_del = (long)i;
		}
	}
	if (!c->any)
		return NULL;
	if (c->n_leaves != 1 || c->leaf < 0)
		return "a case's data is deleted only with its one case-destroyed leaf, in the same write";
	*bad = (size_t)c->leaf;
	if (strcmp(c->ev.role, "operator") != 0 || c->ev.has_actor || c->ev.case_number[0] == '\0')
		return "a case-destroyed leaf is the operator's, names its case and no actor";
	if (sd_date_cmp(c->ev.date, sd_date_today()) > 0)
		return "a case-destroyed leaf is not dated after the store's today";
	if (c->check < 0 || c->first_case_del < 0 || (size_t)c->check > store_req_first_write(req))
		return "a destruction compares the case's record before any write, then deletes it";
	if (c->other_put >= 0) {
		*bad = (size_t)c->other_put;
		return "a destruction writes nothing but its tombstone";
	}
	return NULL;
}

/* The compared record: case C, finished, and due by this process's clock and period. */
static const char *record_rule(const sd_store_req_t *req, struct claim *c, size_t *bad)
{
	const struct op *op = &req->ops[c->check];
	size_t n = strlen(c->ev.case_number);
	sd_date_t finished;

	*bad = (size_t)c->check;
	if (op->key_len != n || !sd_equal(key_of(req, op), c->ev.case_number, n))
		return "the compared record is not the leaf's case";
	if ((c->rec = calloc(1, sizeof(*c->rec))) == NULL)
		return "out of memory for the compared record";
	if (sd_case_rec_decode(req->in.p + op->val_off, op->val_len, NULL, c->rec) < 0 ||
	    strcmp(c->rec->case_number, c->ev.case_number) != 0)
		return "the compared record is not a case record of the leaf's case";
	if (!sd_retention_finished(c->rec, &finished))
		return "only a closed or terminated case is destroyed";
	if (!sd_retention_is_due(c->rec, store_days, sd_date_today(), &finished))
		return "the case's retention period has not passed (by the store's clock and retention_days)";
	return NULL;
}

/* key == a ‖ b (b may be empty). */
static bool key_is(const sd_store_req_t *req, const struct op *op, const void *a, size_t na, const void *b, size_t nb)
{
	const uint8_t *k = key_of(req, op);

	return op->key_len == na + nb && sd_equal(k, a, na) && (nb == 0 || sd_equal(k + na, b, nb));
}

/* Whether the request checks, before its writes, that r's upload is committed as r's case
 * with r's digest: the case record is the front end's to write, the committed upload record
 * is not (server/store_wire.c), so only this ties the package and digest deleted to C. */
static bool own_upload(const sd_store_req_t *req, const sd_case_rec_t *r)
{
	sd_upload_rec_t up;

	return store_req_checked_upload(req, r->upload, &up) && up.state == SD_UPLOAD_COMMITTED &&
	       strcmp(up.case_number, r->case_number) == 0 && sd_equal(up.digest, r->digest, sizeof(up.digest));
}

/* Every delete in the case's databases, and the tombstone, are C's. */
static const char *keys_rule(const sd_store_req_t *req, const struct claim *c, size_t *bad)
{
	const sd_case_rec_t *r = c->rec;
	const char *cn = r->case_number;
	size_t n = SD_CASE_NUMBER_LEN;

	for (size_t i = 0; i < req->n_ops; i++) {
		const struct op *op = &req->ops[i];
		bool ok = true;
		*bad = i;
		if (is_tomb_put(req, op)) {
			ok = (op->flags & SD_STORE_NOOVERWRITE) &&
			     key_is(req, op, SD_RETENTION_TOMB_PREFIX, SD_RETENTION_TOMB_PREFIX_LEN, cn, n);
		} else if (!is_case_delete(op)) {
			continue;
		} else if (op->db == SD_STORE_DB_CASE_DIGESTS) {
			ok = op->kind == OP_DEL && key_is(req, op, r->digest, sizeof(r->digest), NULL, 0) &&
			     own_upload(req, r);
		} else if (op->db == SD_STORE_DB_UPLOADS || op->db == SD_STORE_DB_UPLOAD_HEADERS) {
			ok = op->kind == OP_DEL && key_is(req, op, r->upload, sizeof(r->upload), NULL, 0) &&
			     own_upload(req, r);
		} else if (op->db == SD_STORE_DB_CHUNKS) { /* every chunk of C's package */
			ok = op->kind == OP_DEL_PREFIX && key_is(req, op, r->upload, sizeof(r->upload), NULL, 0) &&
			     own_upload(req, r);
		} else if (op->db == SD_STORE_DB_ACCOUNT_CASES) {
			ok = op->kind == OP_DEL && key_is(req, op, r->attorney, sizeof(r->attorney), cn, n);
		} else if (op->kind == OP_DEL_PREFIX) { /* case_texts, notices, consents: under C */
			ok = (op->db == SD_STORE_DB_CASE_TEXTS || op->db == SD_STORE_DB_NOTICES ||
			      op->db == SD_STORE_DB_CONSENTS) &&
			     key_is(req, op, cn, n, NULL, 0);
		} else if (op->db == SD_STORE_DB_CASES || op->db == SD_STORE_DB_RECEIPTS ||
		           op->db == SD_STORE_DB_CASE_SUMMARIES) {
			ok = key_is(req, op, cn, n, NULL, 0);
		} else {
			ok = op->key_len > n && sd_equal(key_of(req, op), cn, n);
		}
		if (!ok)
			return "a destruction deletes only its own case's entries, and writes only its tombstone";
	}
	return NULL;
}

const char *sd_retention_policy_rule(const sd_store_req_t *req, bool *destroy, size_t *op)
{
	struct claim c = {.leaf = -1, .check = -1, .first_case_del = -1, .other_put = -1};
	const char *rule;

	*destroy = false;
	*op = 0;
	if ((rule = gather(req, &c, op)) == NULL && c.any && (rule = record_rule(req, &c, op)) == NULL)
		rule = keys_rule(req, &c, op);
	*destroy = c.any && rule == NULL;
	if (c.rec != NULL)
		sd_wipe(c.rec, sizeof(*c.rec));
	free(c.rec);
	return rule;
}
