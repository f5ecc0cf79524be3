/*
 * exports.c — POST /v1/cases/{case}/exports (docs/API.md, "Exports"): an officer's client
 * built a referral bundle for an agency on its own machine (only it can unwrap the
 * content key) and announces the bundle's digest; the server records it as an audit
 * leaf and answers with the export receipt, signed by the log key, that goes into the
 * bundle (DESIGN.md, Consent-gated identity release, "Referral and forwarding").
 *
 * Two store hops: the case is read (404 if there is none; its header digest goes into
 * the receipt, never one the client names), then one write appends the leaf; the
 * receipt is signed with the leaf's index once that write is durable, as a filing's is
 * (server/commit.c). The agency, checked once the case is found, must be in the server's directory: the same directory
 * the client seals to, so a receipt never names an agency clients do not know.
 *
 * Start reading at sd_route_case_export().
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "sealdrop/auditlog.h"
#include "sealdrop/bytes.h"
#include "sealdrop/caserec.h"
#include "sealdrop/casework.h"
#include "sealdrop/exports.h"
#include "sealdrop/json.h"
#include "sealdrop/log.h"
#include "sealdrop/sealdrop.h"
#include "upload_int.h"

#define WHAT "export request"

static const char *const body_fields[] = {"agency", "bundle_digest", NULL};

int sd_exports_body_parse(const uint8_t *body, size_t len, sd_exports_body_t *out)
{
	json_t *o = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	if (body == NULL || len == 0 || len > SD_EXPORTS_BODY_MAX)
		return sd_error(SD_ERR_FORMAT, WHAT ": the body must be a JSON object of at most %d bytes",
		                SD_EXPORTS_BODY_MAX);
	o = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(o)) {
		r = sd_error(SD_ERR_FORMAT, WHAT ": the body is not a JSON object");
		goto out;
	}
	if ((r = sd_json_only_fields(o, WHAT, "", body_fields)) < 0 ||
	    (r = sd_json_member_text(o, WHAT, "", "agency", out->agency, sizeof(out->agency))) < 0 ||
	    (r = sd_json_member_hex(o, WHAT, "", "bundle_digest", out->bundle_digest, sizeof(out->bundle_digest))) < 0)
		goto out;
	if (!sd_deployment_is_valid(out->agency))
		r = sd_error(SD_ERR_FORMAT, WHAT ": agency must be 1 to %d of a-z, 0-9 and '-'", SD_AGENCY_ID_MAX);
out:
	if (r < 0)
		memset(out, 0, sizeof(*out));
	json_decref(o);
	return r;
}

/* --- the route ------------------------------------------------------------------------------ */

struct export
{
	sd_exports_body_t body;
	char deployment[SD_DEPLOYMENT_MAX + 1];
	uint8_t agency_key_id[SD_KEY_ID_BYTES]; /* the directory's key for the agency */
	uint8_t header_digest[SD_HASH_BYTES];
	sd_date_t date;
	int audit_op;
};

static void export_free(void *p)
{
	free(p);
}

static void export_done(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	sd_server_t *s = sd_request_server(r);
	struct export *e = sd_request_state(r);
	sd_export_receipt_t er = {.version = SD_EXPORT_RECEIPT_VERSION, .date = e->date};
	const char *cn = sd_request_param(r, 0);
	char *json = NULL;
	int st = sd_store_req_status(req);

	if (st == 0 && e->audit_op != SD_AUDIT_NO_OP &&
	    sd_store_req_log_index(req, (size_t)e->audit_op, &er.leaf_index) < 0)
		st = SD_ERR_INTERNAL;
	sd_store_req_free(req);
	if (st < 0) {
		upload_reply_store_error(r, st);
		return;
	}
	snprintf(er.deployment, sizeof(er.deployment), "%s", e->deployment);
	snprintf(er.case_number, sizeof(er.case_number), "%s", cn);
	snprintf(er.agency, sizeof(er.agency), "%s", e->body.agency);
	memcpy(er.agency_key_id, e->agency_key_id, SD_KEY_ID_BYTES);
	memcpy(er.header_digest, e->header_digest, SD_HASH_BYTES);
	memcpy(er.bundle_digest, e->body.bundle_digest, SD_HASH_BYTES);
	if (sd_server_sign_export(s, &er, &json) < 0) {
		sd_log(SD_LOG_ERROR, "case %s: an export is recorded, its receipt cannot be signed: %s", cn,
		       sd_error_detail());
		sd_request_reply_error(r, 500, "internal",
		                       "the export is recorded but its receipt could not be signed");
		return;
	}
	sd_request_reply(r, 201, "application/json", (const uint8_t *)json, strlen(json));
	free(json);
}

/* The case exists: one write, the export's leaf. */
static void export_write(sd_request_t *r, struct export *e)
{
	sd_store_req_t *req = sd_store_req_new();
	sd_audit_event_t ev;

	if (req == NULL) {
		upload_reply_store_error(r, SD_ERR_NOMEM);
		return;
	}
	sd_audit_event_init(&ev, SD_AUDIT_EXPORT, e->date, sd_request_principal(r));
	snprintf(ev.case_number, sizeof(ev.case_number), "%s", sd_request_param(r, 0));
	ev.has_digest = true;
	memcpy(ev.digest, e->body.bundle_digest, SD_HASH_BYTES);
	snprintf(ev.detail, sizeof(ev.detail), "%s", e->body.agency);
	if ((e->audit_op = sd_audit_add(req, &ev)) < 0) {
		sd_log(SD_LOG_ERROR, "an export cannot be prepared: %s", sd_error_detail());
		sd_store_req_free(req);
		upload_reply_store_error(r, SD_ERR_INTERNAL);
		return;
	}
	(void)upload_submit(r, req, export_done, r);
}

/* The agency as the server's directory lists it now; false after answering 422. */
static bool agency_known(sd_request_t *r, struct export *e)
{
	const sd_directory_t *d = sd_server_directory(sd_request_server(r));
	const sd_agency_t *a = d != NULL ? sd_directory_find_agency(d, e->body.agency) : NULL;

	if (a == NULL) {
		sd_request_reply_error(r, 422, "unknown_agency", "agency '%s' is not in the directory", e->body.agency);
		return false;
	}
	snprintf(e->deployment, sizeof(e->deployment), "%s", d->deployment);
	memcpy(e->agency_key_id, a->key.id, SD_KEY_ID_BYTES);
	return true;
}

static void case_read(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	struct export *e = sd_request_state(r);
	const uint8_t *v;
	size_t len;
	sd_case_rec_t *rec = NULL;
	int st = sd_store_req_status(req);

	if (st < 0)
		upload_reply_store_error(r, st);
	else if (sd_store_req_value(req, 0, &v, &len) < 0)
		sd_request_reply_error(r, 404, "not_found", "there is no case %s", sd_request_param(r, 0));
	else if ((rec = malloc(sizeof(*rec))) == NULL)
		upload_reply_store_error(r, SD_ERR_NOMEM);
	else if (sd_case_rec_decode(v, len, sd_server_config(sd_request_server(r)), rec) < 0) {
		sd_log(SD_LOG_ERROR, "a stored case record does not decode: %s", sd_error_detail());
		sd_request_reply_error(r, 500, "internal", "the case's record could not be read");
	} else {
		memcpy(e->header_digest, rec->digest, SD_HASH_BYTES);
		st = 1;
	}
	sd_store_req_free(req);
	free(rec);
	if (st == 1 && agency_known(r, e))
		export_write(r, e);
}

void sd_route_case_export(sd_request_t *r)
{
	const char *cn = sd_route_case_number(r);
	const uint8_t *body;
	struct export *e;
	sd_store_req_t *req;
	size_t len = 0;

	if (cn == NULL)
		return;
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		upload_reply_store_error(r, SD_ERR_NOMEM);
		return;
	}
	sd_request_set_state(r, e, export_free);
	body = sd_request_body(r, &len);
	if (sd_exports_body_parse(body, len, &e->body) < 0) {
		sd_request_reply_error(r, 400, "bad_request", "%s", sd_error_detail());
		return;
	}
	e->date = sd_server_today(sd_request_server(r));
	if ((req = sd_store_req_new()) != NULL)
		sd_store_req_get(req, SD_STORE_DB_CASES, (const uint8_t *)cn, strlen(cn));
	(void)upload_submit(r, req, case_read, r);
}
