/*
 * consents.c — the whistleblower's consents and revocations on the server, and the
 * custodians' unseal (include/sealdrop/consents.h; docs/API.md, "Consent and identity
 * release"; DESIGN.md, "Consent-gated identity release"):
 *
 *   POST /v1/wb/consents           the whistleblower's own consent or revocation
 *   POST /v1/consents              the same, from an offline .sdc file, relayed by the
 *                                  case's filing attorney
 *   POST /v1/cases/{case}/unseal   a custodian fetches the release of a live consent
 *
 * A consent names its package by the header digest, so the case is found through
 * "case_digests"; it is checked against what the filing recorded (the header's digest and
 * consent key, server/caserec.c) and the directory the server serves, in the order of
 * sd_consent_check. Every outcome is an audit leaf: consent-accepted, consent-refused
 * with the reason as its detail (replay, expired, bad-signature, wrong-grantee,
 * unknown-agency, bad-release, future, wrong-deployment, unknown-package),
 * consent-revoked for each consent a revocation ends, and unseal for every fetch, refused
 * ones included ("refused:commission"). A fetch also sends the whistleblower a notice.
 * Revoking deletes the release: nothing the server holds opens the identity after it.
 *
 * Start at consent_found() (after the case is found) and unseal_read().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sealdrop/auditlog.h"
#include "sealdrop/bytes.h"
#include "sealdrop/casebody.h"
#include "sealdrop/caserec.h"
#include "sealdrop/casework.h"
#include "sealdrop/consents.h"
#include "sealdrop/json.h"
#include "sealdrop/log.h"
#include "sealdrop/notices.h"
#include "sealdrop/sealdrop.h"
#include "sealdrop/whistle.h"
#include "upload_int.h"

#define ROW_MAX 16384 /* bytes of a stored row */

/* --- rows -------------------------------------------------------------------------------- */

void sd_consents_key(const char *case_number, const uint8_t id[SD_CONSENT_ID_BYTES], uint8_t out[SD_CONSENTS_KEY_BYTES])
{
	memset(out, 0, SD_CONSENTS_KEY_BYTES);
	memcpy(out, case_number, strnlen(case_number, SD_CASE_NUMBER_BYTES - 1));
	memcpy(out + SD_CASE_NUMBER_BYTES - 1, id, SD_CONSENT_ID_BYTES);
}

static json_t *date_json(sd_date_t d)
{
	char t[SD_DATE_TEXT_BYTES];

	sd_date_format(d, t);
	return json_string(t);
}

int sd_consent_row_encode(const sd_consent_row_t *row, uint8_t **out, size_t *len)
{
	char *doc = NULL, *text = NULL;
	json_t *o = NULL;
	int r;

	*out = NULL;
	if ((r = sd_consent_format(&row->c, &doc)) < 0)
		return r;
	o = json_pack("{s:o, s:o, s:s}", "consent", json_loads(doc, JSON_REJECT_DUPLICATES, NULL), "accepted",
	              date_json(row->accepted), "by", row->relayed ? "attorney" : "whistleblower");
	if (o != NULL && row->has_release)
		json_object_set_new(o, "release", sd_json_base64_string(row->release, sizeof(row->release)));
	if (o != NULL && row->revoked)
		json_object_set_new(o, "revoked", date_json(row->revoked_on));
	if (o == NULL || (text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		r = SD_ERR_NOMEM;
	else {
		*out = (uint8_t *)text;
		*len = strlen(text);
		r = 0;
	}
	json_decref(o);
	free(doc);
	return r;
}

static int row_date(json_t *o, const char *name, bool required, bool *has, sd_date_t *d)
{
	json_t *v = json_object_get(o, name);

	*has = v != NULL;
	if (v == NULL && !required)
		return 0;
	if (!json_is_string(v) || sd_date_parse(json_string_value(v), d) < 0)
		return sd_error(SD_ERR_FORMAT, "consent row: '%s' must be a date", name);
	return 0;
}

static int row_members(json_t *o, sd_consent_row_t *out)
{
	static const char *const fields[] = {"consent", "release", "accepted", "by", "revoked", NULL};
	const char *by = json_string_value(json_object_get(o, "by")), *rel;
	bool has;
	int r;

	if ((r = sd_json_only_fields(o, "consent row", "", fields)) < 0 ||
	    (r = row_date(o, "accepted", true, &has, &out->accepted)) < 0 ||
	    (r = row_date(o, "revoked", false, &out->revoked, &out->revoked_on)) < 0)
		return r;
	if (by == NULL || (strcmp(by, "attorney") != 0 && strcmp(by, "whistleblower") != 0))
		return sd_error(SD_ERR_FORMAT, "consent row: 'by' is attorney or whistleblower");
	out->relayed = strcmp(by, "attorney") == 0;
	if ((rel = json_string_value(json_object_get(o, "release"))) != NULL) {
		if (sd_base64_decode_exact(rel, out->release, sizeof(out->release)) < 0)
			return sd_error(SD_ERR_FORMAT, "consent row: 'release' must be base64 of %d bytes",
			                SD_CONSENT_RELEASE_BYTES);
		out->has_release = true;
	} else if (json_object_get(o, "release") != NULL) {
		return sd_error(SD_ERR_FORMAT, "consent row: 'release' must be a string");
	}
	return 0;
}

int sd_consent_row_decode(const uint8_t *buf, size_t len, sd_consent_row_t *out)
{
	json_t *o = NULL, *c;
	char *doc = NULL;
	int r = SD_ERR_FORMAT;

	memset(out, 0, sizeof(*out));
	if (len > ROW_MAX || (o = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
	    !json_is_object(o)) {
		r = sd_error(SD_ERR_FORMAT, "consent row: not a JSON object of at most %d bytes", ROW_MAX);
		goto out;
	}
	if (!json_is_object(c = json_object_get(o, "consent")) || (doc = json_dumps(c, JSON_COMPACT)) == NULL) {
		r = sd_error(SD_ERR_FORMAT, "consent row: no 'consent'");
		goto out;
	}
	if ((r = sd_consent_parse((const uint8_t *)doc, strlen(doc), &out->c)) == 0 &&
	    (r = sd_consent_id(&out->c, out->id)) == 0)
		r = row_members(o, out);
out:
	if (r < 0)
		memset(out, 0, sizeof(*out));
	free(doc);
	json_decref(o);
	return r;
}

json_t *sd_consent_row_json(const sd_consent_row_t *row, sd_date_t today)
{
	char scope[SD_CONSENT_SCOPE_MAX];

	sd_consent_scope_text(&row->c, scope);
	return json_pack("{s:o, s:s, s:o, s:o, s:o, s:s, s:o, s:b}", "consent_id",
	                 sd_json_hex_string(row->id, sizeof(row->id)), "scope", scope, "issued",
	                 date_json(row->c.issued), "expires", date_json(row->c.expires), "accepted",
	                 date_json(row->accepted), "by", row->relayed ? "attorney" : "whistleblower", "revoked",
	                 row->revoked ? date_json(row->revoked_on) : json_null(), "live",
	                 !row->revoked && row->has_release && sd_consent_is_live(&row->c, today));
}

/* --- accepting a consent or a revocation --------------------------------------------- */

struct cop {
	bool relayed; /* by the filing attorney; else the whistleblower's own session */
	sd_session_proof_t session;
	sd_consent_file_t f;
	uint8_t id[SD_CONSENT_ID_BYTES]; /* the consent's or the revocation's */
	char cn[SD_CASE_NUMBER_BYTES];
	sd_case_rec_t *rec;
	sd_consent_row_t *rows; /* the case's, as read (a revocation) */
	uint8_t **row_bytes;
	size_t *row_lens, n_rows;
	size_t *targets, n_targets; /* the rows a revocation ends */
	int leaf_op;
	const char *reason; /* a refusal being recorded */
	int status;
	char error[32], message[256];
};

static void cop_free(void *p)
{
	struct cop *o = p;

	if (o == NULL)
		return;
	for (size_t i = 0; i < o->n_rows; i++)
		free(o->row_bytes[i]);
	free(o->row_bytes);
	free(o->row_lens);
	free(o->rows);
	free(o->targets);
	free(o->rec);
	sd_wipe(o, sizeof(*o));
	free(o);
}

static bool is_consent(const struct cop *o)
{
	return o->f.kind == SD_CONSENT_FILE_CONSENT;
}

static const uint8_t *doc_digest(const struct cop *o)
{
	return is_consent(o) ? o->f.consent.header_digest : o->f.revocation.header_digest;
}

static const uint8_t *doc_nonce(const struct cop *o)
{
	return is_consent(o) ? o->f.consent.nonce : o->f.revocation.nonce;
}

/* Who handed the document in, for its leaves: the whistleblower, or the relaying attorney. */
static void cop_event(sd_request_t *r, const struct cop *o, sd_audit_type_t type, sd_audit_event_t *ev)
{
	sd_audit_event_init(ev, type, sd_server_today(sd_request_server(r)),
	                    o->relayed ? sd_request_principal(r) : NULL);
	if (!o->relayed) {
		snprintf(ev->role, sizeof(ev->role), "%s", "whistleblower");
		ev->has_actor = false;
	}
	snprintf(ev->case_number, sizeof(ev->case_number), "%s", o->cn);
	ev->has_digest = true;
	memcpy(ev->digest, o->id, SD_CONSENT_ID_BYTES);
}

static void refusal_recorded(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	struct cop *o = sd_request_state(r);
	int st = sd_store_req_status(req);

	sd_store_req_free(req);
	if (st < 0)
		upload_reply_store_error(r, st);
	else
		sd_request_reply_error(r, o->status, o->error, "%s", o->message);
}

/* Answers status/error/message once the refusal's leaf (consent-refused, detail reason)
 * is durable: every refused consent is seen in the log. */
static void refuse(sd_request_t *r, struct cop *o, int status, const char *error, const char *reason, const char *fmt,
                   const char *detail)
{
	sd_store_req_t *req = sd_store_req_new();
	sd_audit_event_t ev;

	o->status = status;
	snprintf(o->error, sizeof(o->error), "%s", error);
	snprintf(o->message, sizeof(o->message), fmt, detail);
	cop_event(r, o, SD_AUDIT_CONSENT_REFUSED, &ev);
	snprintf(ev.detail, sizeof(ev.detail), "%s", reason);
	if (req == NULL || sd_audit_add(req, &ev) < 0) {
		sd_store_req_free(req);
		upload_reply_store_error(r, SD_ERR_INTERNAL);
		return;
	}
	(void)upload_submit(r, req, refusal_recorded, r);
}

/* The header fields a consent is checked against, as the filing recorded them. */
static void header_of(sd_request_t *r, const sd_case_rec_t *rec, sd_header_t *h)
{
	const sd_directory_t *d = sd_server_directory(sd_request_server(r));

	memset(h, 0, sizeof(*h));
	memcpy(h->digest, rec->digest, sizeof(h->digest));
	memcpy(h->consent_pk, rec->consent_key, sizeof(h->consent_pk));
	snprintf(h->deployment, sizeof(h->deployment), "%s", d != NULL ? d->deployment : "");
}

/* sd_consent_check's refusals as reason words and statuses. */
static void refuse_check(sd_request_t *r, struct cop *o, int err)
{
	const char *reason = err == SD_ERR_DEPLOYMENT  ? "wrong-deployment"
	                     : err == SD_ERR_REFUSED   ? "unknown-agency"
	                     : err == SD_ERR_WRONG_KEY ? "wrong-grantee"
	                     : err == SD_ERR_VERIFY    ? "bad-release"
	                     : err == SD_ERR_EXPIRED   ? "expired"
	                                               : "future";

	refuse(r, o, 422, err == SD_ERR_EXPIRED ? "consent_expired" : "consent_refused", reason, "%s",
	       sd_error_detail());
}

static void accepted(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	struct cop *o = sd_request_state(r);
	char scope[SD_CONSENT_SCOPE_MAX];
	uint64_t leaf = 0;
	int st = sd_store_req_status(req);
	long op = sd_store_req_failed_op(req);
	bool has_leaf =
	        st == 0 && o->leaf_op != SD_AUDIT_NO_OP && sd_store_req_log_index(req, (size_t)o->leaf_op, &leaf) == 0;

	sd_store_req_free(req);
	if (st == SD_ERR_EXISTS && (op == 0 || op == 1)) { /* the nonce, or the consent, meanwhile */
		refuse(r, o, 409, "consent_replayed", "replay", "%s",
		       "this consent was already handed in (its nonce is used)");
		return;
	}
	if (st < 0) {
		upload_reply_store_error(r, st);
		return;
	}
	sd_consent_scope_text(&o->f.consent, scope);
	sd_request_reply_json(r, 201,
	                      json_pack("{s:s, s:o, s:s, s:o, s:o, s:o}", "case", o->cn, "consent_id",
	                                sd_json_hex_string(o->id, sizeof(o->id)), "scope", scope, "issued",
	                                date_json(o->f.consent.issued), "expires", date_json(o->f.consent.expires),
	                                "leaf_index", has_leaf ? json_integer((json_int_t)leaf) : json_null()));
}

/* The write: the nonce (op 0) and the row (op 1), neither overwriting, and the leaf. */
static void accept_write(sd_request_t *r, struct cop *o)
{
	sd_consent_row_t row = {.c = o->f.consent, .has_release = true, .relayed = o->relayed};
	uint8_t key[SD_CONSENTS_KEY_BYTES], *bytes = NULL;
	char scope[SD_CONSENT_SCOPE_MAX];
	sd_store_req_t *req = sd_store_req_new();
	sd_audit_event_t ev;
	size_t len = 0;

	memcpy(row.id, o->id, sizeof(row.id));
	memcpy(row.release, o->f.release, sizeof(row.release));
	row.accepted = sd_server_today(sd_request_server(r));
	sd_consents_key(o->cn, o->id, key);
	cop_event(r, o, SD_AUDIT_CONSENT_ACCEPTED, &ev);
	sd_consent_scope_text(&o->f.consent, scope);
	snprintf(ev.detail, sizeof(ev.detail), "%s", scope);
	if (req == NULL || sd_consent_row_encode(&row, &bytes, &len) < 0) {
		sd_store_req_free(req);
		upload_reply_store_error(r, SD_ERR_NOMEM);
		return;
	}
	sd_store_req_put(req, SD_STORE_DB_CONSENT_NONCES, doc_nonce(o), SD_CONSENT_NONCE_BYTES, o->id, sizeof(o->id),
	                 SD_STORE_NOOVERWRITE);
	sd_store_req_put(req, SD_STORE_DB_CONSENTS, key, sizeof(key), bytes, len, SD_STORE_NOOVERWRITE);
	free(bytes);
	if ((o->leaf_op = sd_audit_add(req, &ev)) < 0) {
		sd_store_req_free(req);
		upload_reply_store_error(r, SD_ERR_INTERNAL);
		return;
	}
	(void)upload_submit(r, req, accepted, r);
}

/* A consent, its case read: verified and checked, then written or refused. */
static void consent_judge(sd_request_t *r, struct cop *o, bool nonce_seen)
{
	sd_server_t *s = sd_request_server(r);
	sd_header_t h;
	int err;

	header_of(r, o->rec, &h);
	if (sd_consent_verify(&o->f.consent, &h) < 0) {
		refuse(r, o, 422, "consent_refused", "bad-signature", "%s", sd_error_detail());
		return;
	}
	err = sd_consent_check(&o->f.consent, sd_server_directory(s), o->f.release, sizeof(o->f.release),
	                       sd_server_today(s));
	if (err < 0) {
		refuse_check(r, o, err);
		return;
	}
	if (nonce_seen) {
		refuse(r, o, 409, "consent_replayed", "replay", "%s",
		       "this consent was already handed in (its nonce is used)");
		return;
	}
	accept_write(r, o);
}

static void revoked(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	struct cop *o = sd_request_state(r);
	int st = sd_store_req_status(req);
	long op = sd_store_req_failed_op(req);
	json_t *ids = json_array();

	sd_store_req_free(req);
	if (st == SD_ERR_EXISTS && op == 0)
		sd_request_reply_error(r, 409, "revocation_replayed", "this revocation was already handed in");
	else if (op > 0 && (st == SD_ERR_REFUSED || st == SD_ERR_NOENT))
		sd_request_reply_error(r, 409, "conflict", "the case's consents changed meanwhile; retry");
	else if (st < 0)
		upload_reply_store_error(r, st);
	if (st < 0) {
		json_decref(ids);
		return;
	}
	for (size_t i = 0; ids != NULL && i < o->n_targets; i++)
		json_array_append_new(ids, sd_json_hex_string(o->rows[o->targets[i]].id, SD_CONSENT_ID_BYTES));
	sd_request_reply_json(r, 200, json_pack("{s:s, s:o*}", "case", o->cn, "revoked", ids));
}

/* One ended consent: its row rewritten without the release (op: the check of the old
 * bytes, then the put), and its consent-revoked leaf. */
static int revoke_one(sd_request_t *r, struct cop *o, sd_store_req_t *req, size_t i)
{
	sd_consent_row_t row = o->rows[i];
	uint8_t key[SD_CONSENTS_KEY_BYTES], *bytes = NULL;
	sd_audit_event_t ev;
	size_t len = 0;
	int err;

	row.revoked = true;
	row.revoked_on = sd_server_today(sd_request_server(r));
	row.has_release = false;
	sd_wipe(row.release, sizeof(row.release));
	if ((err = sd_consent_row_encode(&row, &bytes, &len)) < 0)
		return err;
	sd_consents_key(o->cn, row.id, key);
	sd_store_req_check_equal(req, SD_STORE_DB_CONSENTS, key, sizeof(key), o->row_bytes[i], o->row_lens[i]);
	sd_store_req_put(req, SD_STORE_DB_CONSENTS, key, sizeof(key), bytes, len, 0);
	free(bytes);
	cop_event(r, o, SD_AUDIT_CONSENT_REVOKED, &ev);
	memcpy(ev.digest, row.id, SD_CONSENT_ID_BYTES);
	snprintf(ev.detail, sizeof(ev.detail), "%s", o->f.revocation.all ? "all" : "one");
	return sd_audit_add(req, &ev) < 0 ? SD_ERR_INTERNAL : 0;
}

static void revoke_write(sd_request_t *r, struct cop *o)
{
	sd_store_req_t *req = sd_store_req_new();
	int err = req == NULL ? SD_ERR_NOMEM : 0;

	if (req != NULL)
		sd_store_req_put(req, SD_STORE_DB_CONSENT_NONCES, doc_nonce(o), SD_CONSENT_NONCE_BYTES, o->id,
		                 sizeof(o->id), SD_STORE_NOOVERWRITE);
	for (size_t i = 0; err == 0 && i < o->n_targets; i++)
		err = revoke_one(r, o, req, o->targets[i]);
	if (err < 0) {
		sd_store_req_free(req);
		upload_reply_store_error(r, err);
		return;
	}
	(void)upload_submit(r, req, revoked, r);
}

/* The rows a revocation ends: every one not yet revoked (all), or the one it names. */
static bool revoke_targets(sd_request_t *r, struct cop *o)
{
	const sd_revocation_t *rv = &o->f.revocation;
	bool named = false;

	if ((o->targets = calloc(o->n_rows + 1, sizeof(*o->targets))) == NULL) {
		upload_reply_store_error(r, SD_ERR_NOMEM);
		return false;
	}
	for (size_t i = 0; i < o->n_rows; i++) {
		bool match = rv->all || sd_equal(o->rows[i].id, rv->consent_id, SD_CONSENT_ID_BYTES);

		named |= match;
		if (match && !o->rows[i].revoked)
			o->targets[o->n_targets++] = i;
	}
	if (!rv->all && !named) {
		sd_request_reply_error(r, 404, "not_found", "case %s has no such consent", o->cn);
		return false;
	}
	return true;
}

static void revocation_judge(sd_request_t *r, struct cop *o, bool nonce_seen)
{
	sd_server_t *s = sd_request_server(r);
	sd_header_t h;

	header_of(r, o->rec, &h);
	if (sd_revocation_verify(&o->f.revocation, &h) < 0 ||
	    sd_revocation_check(&o->f.revocation, sd_server_directory(s), sd_server_today(s)) < 0) {
		sd_request_reply_error(r, 422, "revocation_refused", "%s", sd_error_detail());
		return;
	}
	if (nonce_seen) {
		sd_request_reply_error(r, 409, "revocation_replayed", "this revocation was already handed in");
		return;
	}
	if (revoke_targets(r, o))
		revoke_write(r, o);
}

/* --- finding the case -------------------------------------------------------------------- */

/* Op op of req, a scan of "consents": every row decoded, its bytes kept. */
static int rows_take(struct cop *o, const sd_store_req_t *req, size_t op)
{
	size_t n = sd_store_req_scan_count(req, op, NULL), klen, vlen;
	const uint8_t *k, *v;
	int err;

	o->rows = calloc(n + 1, sizeof(*o->rows));
	o->row_bytes = calloc(n + 1, sizeof(*o->row_bytes));
	o->row_lens = calloc(n + 1, sizeof(*o->row_lens));
	if (o->rows == NULL || o->row_bytes == NULL || o->row_lens == NULL)
		return SD_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		if ((err = sd_store_req_scan_entry(req, op, i, &k, &klen, &v, &vlen)) < 0)
			return err;
		if (sd_consent_row_decode(v, vlen, &o->rows[o->n_rows]) < 0) {
			sd_log(SD_LOG_ERROR, "a stored consent does not decode: %s", sd_error_detail());
			return SD_ERR_INTERNAL;
		}
		if ((o->row_bytes[o->n_rows] = malloc(vlen)) == NULL)
			return SD_ERR_NOMEM;
		memcpy(o->row_bytes[o->n_rows], v, vlen);
		o->row_lens[o->n_rows++] = vlen;
	}
	return 0;
}

/* A filing attorney relays only for their own cases. */
static bool relayer_allowed(sd_request_t *r, const struct cop *o)
{
	const sd_principal_t *p = sd_request_principal(r);

	if (!o->relayed || sd_equal(p->fingerprint, o->rec->attorney, sizeof(o->rec->attorney)))
		return true;
	sd_request_reply_error(r, 403, "not_your_case", "only the attorney who filed case %s relays for it", o->cn);
	return false;
}

/* Ops: 0 the case, 1 the nonce, 2 the case's consents. */
static void case_read(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	struct cop *o = sd_request_state(r);
	const uint8_t *v;
	size_t len;
	int st = sd_store_req_status(req);
	bool nonce_seen = st == 0 && sd_store_req_value(req, 1, &v, &len) == 0;

	if (st == 0 && ((o->rec = calloc(1, sizeof(*o->rec))) == NULL || (st = rows_take(o, req, 2)) < 0))
		st = st < 0 ? st : SD_ERR_NOMEM;
	if (st == 0 && (sd_store_req_value(req, 0, &v, &len) < 0 ||
	                sd_case_rec_decode(v, len, sd_server_config(sd_request_server(r)), o->rec) < 0))
		st = SD_ERR_INTERNAL;
	sd_store_req_free(req);
	if (st < 0) {
		upload_reply_store_error(r, st);
		return;
	}
	if (!relayer_allowed(r, o))
		return;
	if (!o->rec->has_session) {
		sd_request_reply_error(r, 422, "no_session_keys", "case %s was filed before consents existed", o->cn);
		return;
	}
	if (is_consent(o) && o->n_rows >= SD_CONSENTS_PER_CASE)
		sd_request_reply_error(r, 409, "too_many_consents", "case %s holds %d consents already", o->cn,
		                       SD_CONSENTS_PER_CASE);
	else if (is_consent(o))
		consent_judge(r, o, nonce_seen);
	else
		revocation_judge(r, o, nonce_seen);
}

static void case_found(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	struct cop *o = sd_request_state(r);
	const uint8_t *v;
	size_t len = 0;
	int st = sd_store_req_status(req);
	bool found = st == 0 && sd_store_req_value(req, 0, &v, &len) == 0 && len == SD_CASE_NUMBER_LEN;

	if (found) {
		memcpy(o->cn, v, SD_CASE_NUMBER_LEN);
		o->cn[SD_CASE_NUMBER_LEN] = '\0';
	}
	sd_store_req_free(req);
	if (st < 0) {
		upload_reply_store_error(r, st);
	} else if (!found && is_consent(o)) {
		refuse(r, o, 404, "not_found", "unknown-package", "%s",
		       "no case was filed from the package this consent names");
	} else if (!found) {
		sd_request_reply_error(r, 404, "not_found", "no case was filed from the package this revocation names");
	} else if ((req = sd_store_req_new()) == NULL) {
		upload_reply_store_error(r, SD_ERR_NOMEM);
	} else {
		sd_store_req_get(req, SD_STORE_DB_CASES, (const uint8_t *)o->cn, SD_CASE_NUMBER_LEN);
		sd_store_req_get(req, SD_STORE_DB_CONSENT_NONCES, doc_nonce(o), SD_CONSENT_NONCE_BYTES);
		sd_store_req_scan(req, SD_STORE_DB_CONSENTS, (const uint8_t *)o->cn, SD_CASE_NUMBER_LEN, NULL, 0,
		                  SD_CONSENTS_PER_CASE);
		(void)upload_submit(r, req, case_read, r);
	}
}

/* The document's id, then the case its package became. */
static void cop_start(sd_request_t *r, struct cop *o)
{
	sd_store_req_t *req;
	int err = is_consent(o) ? sd_consent_id(&o->f.consent, o->id) : sd_revocation_id(&o->f.revocation, o->id);

	if (err < 0) {
		upload_reply_store_error(r, err);
		return;
	}
	if ((req = sd_store_req_new()) != NULL)
		sd_store_req_get(req, SD_STORE_DB_CASE_DIGESTS, doc_digest(o), SD_HASH_BYTES);
	(void)upload_submit(r, req, case_found, r);
}

static struct cop *cop_new(sd_request_t *r, bool relayed)
{
	struct cop *o = calloc(1, sizeof(*o));

	if (o == NULL) {
		upload_reply_store_error(r, SD_ERR_NOMEM);
		return NULL;
	}
	o->relayed = relayed;
	sd_request_set_state(r, o, cop_free);
	return o;
}

static void body_refused(sd_request_t *r, int err)
{
	if (err == SD_ERR_NOMEM)
		upload_reply_store_error(r, err);
	else
		sd_request_reply_error(r, err == SD_ERR_TOOBIG ? 413 : 400,
		                       err == SD_ERR_TOOBIG ? "too_large" : "bad_request", "%s", sd_error_detail());
}

void sd_route_wb_consent(sd_request_t *r)
{
	struct cop *o = cop_new(r, false);
	const uint8_t *body;
	size_t len = 0;
	int err;

	if (o == NULL)
		return;
	body = sd_request_body(r, &len);
	if ((err = sd_casebody_wb_consent(body, len, &o->session, &o->f)) < 0) {
		body_refused(r, err);
		return;
	}
	if (sd_wb_gate(r, &o->session) == 0)
		cop_start(r, o);
}

void sd_route_consent_relay(sd_request_t *r)
{
	struct cop *o = cop_new(r, true);
	const uint8_t *body;
	size_t len = 0;
	int err;

	if (o == NULL)
		return;
	body = sd_request_body(r, &len);
	if ((err = sd_consent_file_parse(body, len, &o->f)) < 0) {
		body_refused(r, err);
		return;
	}
	cop_start(r, o);
}

/* --- POST /v1/cases/{case}/unseal ----------------------------------------------------------- */

struct unseal {
	char scope[SD_CONSENT_SCOPE_MAX];
	char cn[SD_CASE_NUMBER_BYTES];
	sd_case_rec_t *rec;
	uint8_t *old; /* the record as read: the fetch's notice moves its counter on */
	size_t old_len;
	sd_consent_row_t row; /* the live consent used */
	int leaf_op;
};

static void unseal_free(void *p)
{
	struct unseal *u = p;

	if (u == NULL)
		return;
	free(u->rec);
	free(u->old);
	sd_wipe(u, sizeof(*u));
	free(u);
}

static void unseal_event(sd_request_t *r, const struct unseal *u, sd_audit_event_t *ev, const char *detail_prefix)
{
	sd_audit_event_init(ev, SD_AUDIT_UNSEAL, sd_server_today(sd_request_server(r)), sd_request_principal(r));
	snprintf(ev->case_number, sizeof(ev->case_number), "%s", u->cn);
	snprintf(ev->detail, sizeof(ev->detail), "%s%s", detail_prefix, u->scope);
}

static void unseal_refused_recorded(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	struct unseal *u = sd_request_state(r);
	int st = sd_store_req_status(req);

	sd_store_req_free(req);
	if (st < 0)
		upload_reply_store_error(r, st);
	else
		sd_request_reply_error(
		        r, 403, "no_consent",
		        "case %s has no live consent for %s: the identity stays sealed (this attempt is in "
		        "the audit log)",
		        u->cn, u->scope);
}

/* No live consent: the attempt is recorded all the same ("refused:<scope>"). */
static void unseal_refuse(sd_request_t *r, struct unseal *u)
{
	sd_store_req_t *req = sd_store_req_new();
	sd_audit_event_t ev;

	unseal_event(r, u, &ev, "refused:");
	if (req == NULL || sd_audit_add(req, &ev) < 0) {
		sd_store_req_free(req);
		upload_reply_store_error(r, SD_ERR_INTERNAL);
		return;
	}
	(void)upload_submit(r, req, unseal_refused_recorded, r);
}

static void unseal_done(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	struct unseal *u = sd_request_state(r);
	char *doc = NULL;
	uint64_t leaf = 0;
	int st = sd_store_req_status(req);
	long op = sd_store_req_failed_op(req);
	bool has_leaf =
	        st == 0 && u->leaf_op != SD_AUDIT_NO_OP && sd_store_req_log_index(req, (size_t)u->leaf_op, &leaf) == 0;

	sd_store_req_free(req);
	if (op <= 1 && (st == SD_ERR_REFUSED || st == SD_ERR_NOENT)) {
		sd_request_reply_error(r, 409, "conflict", "the case or its consent changed meanwhile; retry");
		return;
	}
	if (st < 0 || sd_consent_format(&u->row.c, &doc) < 0) {
		upload_reply_store_error(r, st < 0 ? st : SD_ERR_NOMEM);
		return;
	}
	sd_request_reply_json(r, 200,
	                      json_pack("{s:s, s:s, s:o, s:o, s:o, s:o}", "case", u->cn, "scope", u->scope,
	                                "consent_id", sd_json_hex_string(u->row.id, SD_CONSENT_ID_BYTES), "consent",
	                                json_loads(doc, JSON_REJECT_DUPLICATES, NULL), "release",
	                                sd_json_base64_string(u->row.release, SD_CONSENT_RELEASE_BYTES), "leaf_index",
	                                has_leaf ? json_integer((json_int_t)leaf) : json_null()));
	free(doc);
}

/* Who the notice says was given access: the Commission, or the agency by name. */
static void access_detail(sd_request_t *r, const struct unseal *u, char *out, size_t cap)
{
	const sd_directory_t *d = sd_server_directory(sd_request_server(r));
	const sd_agency_t *a =
	        u->row.c.scope == SD_CONSENT_AGENCY && d != NULL ? sd_directory_find_agency(d, u->row.c.agency) : NULL;

	if (u->row.c.scope == SD_CONSENT_COMMISSION)
		snprintf(out, cap, "%s", "the Commission (위원회)");
	else
		snprintf(out, cap, "%s", a != NULL ? a->name : u->row.c.agency);
}

/* The write: the record and the consent unchanged since read (ops 0, 1), the record with
 * its counter of notices moved on, the fetch's leaf and the whistleblower's notice. */
static void unseal_write(sd_request_t *r, struct unseal *u, const uint8_t *row_bytes, size_t row_len)
{
	sd_server_t *s = sd_request_server(r);
	uint8_t key[SD_CONSENTS_KEY_BYTES], *bytes = NULL;
	char detail[SD_AGENCY_NAME_MAX + 32];
	sd_store_req_t *req = sd_store_req_new();
	sd_audit_event_t ev;
	uint32_t seq = u->rec->notices;
	size_t len = 0;
	int err = req == NULL ? SD_ERR_NOMEM : 0;

	sd_consents_key(u->cn, u->row.id, key);
	unseal_event(r, u, &ev, "");
	ev.has_digest = true;
	memcpy(ev.digest, u->row.id, SD_CONSENT_ID_BYTES);
	access_detail(r, u, detail, sizeof(detail));
	if (err == 0 && u->rec->has_notice_key && u->rec->notices < SD_CASE_NOTICES_MAX)
		u->rec->notices++;
	if (err == 0)
		err = sd_case_rec_encode(u->rec, &bytes, &len);
	if (err == 0) {
		sd_store_req_check_equal(req, SD_STORE_DB_CASES, (const uint8_t *)u->cn, SD_CASE_NUMBER_LEN, u->old,
		                         u->old_len);
		sd_store_req_check_equal(req, SD_STORE_DB_CONSENTS, key, sizeof(key), row_bytes, row_len);
		sd_store_req_put(req, SD_STORE_DB_CASES, (const uint8_t *)u->cn, SD_CASE_NUMBER_LEN, bytes, len, 0);
		err = sd_case_index_req(req, &u->rec->flow, u->rec); /* the summary counts notices */
	}
	if (err == 0) {
		err = (u->leaf_op = sd_audit_add(req, &ev)) < 0 ? SD_ERR_INTERNAL : 0;
	}
	if (err == 0 && seq < u->rec->notices)
		err = sd_notices_req_standard(s, req, u->rec, seq, sd_server_today(s), SD_NOTICE_IDENTITY_ACCESS,
		                              detail);
	free(bytes);
	if (err < 0) {
		sd_log(SD_LOG_ERROR, "an unseal cannot be prepared: %s", sd_error_detail());
		sd_store_req_free(req);
		upload_reply_store_error(r, err == SD_ERR_NOMEM ? err : SD_ERR_INTERNAL);
		return;
	}
	(void)upload_submit(r, req, unseal_done, r);
}

/* Ops: 0 the case, 1 its consents. The first live consent for the scope is used. */
static void unseal_read(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	struct unseal *u = sd_request_state(r);
	sd_date_t today = sd_server_today(sd_request_server(r));
	const uint8_t *v, *k, *rv = NULL;
	size_t len, klen, rlen = 0, n;
	char scope[SD_CONSENT_SCOPE_MAX];
	int st = sd_store_req_status(req);

	if (st < 0 || sd_store_req_value(req, 0, &v, &len) < 0) {
		if (st < 0)
			upload_reply_store_error(r, st);
		else
			sd_request_reply_error(r, 404, "not_found", "there is no case %s", u->cn);
		goto out;
	}
	if ((u->rec = calloc(1, sizeof(*u->rec))) == NULL || (u->old = malloc(len)) == NULL ||
	    sd_case_rec_decode(v, len, sd_server_config(sd_request_server(r)), u->rec) < 0) {
		upload_reply_store_error(r, u->old == NULL ? SD_ERR_NOMEM : SD_ERR_INTERNAL);
		goto out;
	}
	memcpy(u->old, v, len);
	u->old_len = len;
	n = sd_store_req_scan_count(req, 1, NULL);
	for (size_t i = 0; rv == NULL && i < n; i++) {
		if (sd_store_req_scan_entry(req, 1, i, &k, &klen, &v, &len) < 0 ||
		    sd_consent_row_decode(v, len, &u->row) < 0)
			continue;
		sd_consent_scope_text(&u->row.c, scope);
		if (strcmp(scope, u->scope) == 0 && !u->row.revoked && u->row.has_release &&
		    sd_consent_is_live(&u->row.c, today))
			rv = v, rlen = len;
	}
	if (rv == NULL)
		unseal_refuse(r, u);
	else
		unseal_write(r, u, rv, rlen);
out:
	sd_store_req_free(req);
}

void sd_route_case_unseal(sd_request_t *r)
{
	const char *cn = sd_route_case_number(r);
	struct unseal *u;
	sd_store_req_t *req;
	const uint8_t *body;
	size_t len = 0;

	if (cn == NULL)
		return;
	if ((u = calloc(1, sizeof(*u))) == NULL) {
		upload_reply_store_error(r, SD_ERR_NOMEM);
		return;
	}
	sd_request_set_state(r, u, unseal_free);
	snprintf(u->cn, sizeof(u->cn), "%s", cn);
	body = sd_request_body(r, &len);
	if (sd_casebody_unseal(body, len, u->scope) < 0) {
		sd_request_reply_error(r, 400, "bad_request",
		                       "the body is {\"scope\": \"commission\"} or {\"scope\": \"agency:ID\"}");
		return;
	}
	if ((req = sd_store_req_new()) != NULL) {
		sd_store_req_get(req, SD_STORE_DB_CASES, (const uint8_t *)cn, SD_CASE_NUMBER_LEN);
		sd_store_req_scan(req, SD_STORE_DB_CONSENTS, (const uint8_t *)cn, SD_CASE_NUMBER_LEN, NULL, 0,
		                  SD_CONSENTS_PER_CASE);
	}
	(void)upload_submit(r, req, unseal_read, r);
}
