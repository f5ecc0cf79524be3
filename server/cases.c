/*
 * cases.c — GET /v1/cases (docs/API.md): the calling attorney's own filings, oldest
 * first, a page of at most SD_CASES_PAGE_MAX.
 *
 * Two store hops: the attorney's keys in "account_cases" (fingerprint || case number,
 * so a prefix scan lists exactly this attorney's cases, in case-number order, which is
 * filing order), then one GET per case of the page. Nobody else's case can appear: the
 * prefix is the caller's certificate fingerprint, not anything the client sent.
 */
#include <stdlib.h>
#include <string.h>

#include "sealdrop/log.h"
#include "sealdrop/sealdrop.h"
#include "upload_int.h"

#define AFTER_PARAM "after="

struct listing {
	bool more;   /* the attorney has cases after this page */
	size_t gets; /* GETs of the second request, one per case */
};

/* "" or "after=YYYY-NNNNNN" into after (""), 0 or SD_ERR_FORMAT. */
static int parse_query(const char *q, char after[SD_CASE_NUMBER_BYTES])
{
	after[0] = '\0';
	if (q == NULL || q[0] == '\0')
		return 0;
	if (strncmp(q, AFTER_PARAM, strlen(AFTER_PARAM)) != 0 || !sd_case_number_is_valid(q + strlen(AFTER_PARAM)))
		return SD_ERR_FORMAT;
	snprintf(after, SD_CASE_NUMBER_BYTES, "%s", q + strlen(AFTER_PARAM));
	return 0;
}

static void cases_read(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	struct listing *l = sd_request_state(r);
	json_t *list = json_array();
	const uint8_t *v;
	size_t len;
	sd_case_rec_t cr;
	int st = sd_store_req_status(req);

	if (st < 0) {
		json_decref(list);
		upload_reply_store_error(r, st);
		sd_store_req_free(req);
		return;
	}
	for (size_t op = 0; list != NULL && op < l->gets; op++) {
		if (sd_store_req_value(req, op, &v, &len) < 0 || sd_case_rec_decode(v, len, &cr) < 0) {
			sd_log(SD_LOG_WARN, "a case listed for an attorney does not read back");
			continue;
		}
		json_array_append_new(list, sd_case_summary_json(&cr));
	}
	sd_store_req_free(req);
	sd_request_reply_json(r, 200, json_pack("{s:o*, s:b}", "cases", list, "more", l->more));
}

/* The page of the attorney's case numbers: one GET each. */
static void cases_listed(sd_store_req_t *req, void *ctx)
{
	sd_request_t *r = ctx;
	struct listing *l = sd_request_state(r);
	const uint8_t *key, *val;
	size_t klen, vlen, n;
	sd_store_req_t *next;
	int st = sd_store_req_status(req);

	if (st < 0) {
		upload_reply_store_error(r, st);
		goto out;
	}
	n = sd_store_req_scan_count(req, 0, &l->more);
	if (n == 0) {
		sd_request_reply_json(r, 200, json_pack("{s:[], s:b}", "cases", "more", 0));
		goto out;
	}
	if ((next = sd_store_req_new()) != NULL)
		for (size_t i = 0; i < n; i++)
			if (sd_store_req_scan_entry(req, 0, i, &key, &klen, &val, &vlen) == 0 &&
			    klen > SD_CA_FINGERPRINT_BYTES)
				if (sd_store_req_get(next, SD_STORE_DB_CASES, key + SD_CA_FINGERPRINT_BYTES,
				                     klen - SD_CA_FINGERPRINT_BYTES) >= 0)
					l->gets++;
	upload_submit(r, next, cases_read, r);
out:
	sd_store_req_free(req);
}

void sd_route_cases(sd_request_t *r)
{
	const sd_principal_t *p = sd_request_principal(r);
	uint8_t after[SD_CA_FINGERPRINT_BYTES + SD_CASE_NUMBER_BYTES];
	char after_case[SD_CASE_NUMBER_BYTES];
	struct listing *l;
	sd_store_req_t *req;
	size_t after_len = 0;

	if (p == NULL || parse_query(sd_request_query(r), after_case) < 0) {
		sd_request_reply_error(r, 400, "bad_request", "the only query is ?after=YYYY-NNNNNN");
		return;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		upload_reply_store_error(r, SD_ERR_NOMEM);
		return;
	}
	sd_request_set_state(r, l, free);
	memcpy(after, p->fingerprint, SD_CA_FINGERPRINT_BYTES);
	if (after_case[0] != '\0') {
		memcpy(after + SD_CA_FINGERPRINT_BYTES, after_case, SD_CASE_NUMBER_BYTES - 1);
		after_len = SD_CA_FINGERPRINT_BYTES + SD_CASE_NUMBER_BYTES - 1;
	}
	if ((req = sd_store_req_new()) != NULL)
		sd_store_req_scan_keys(req, SD_STORE_DB_ACCOUNT_CASES, p->fingerprint, SD_CA_FINGERPRINT_BYTES,
		                       after_len ? after : NULL, after_len, SD_CASES_PAGE_MAX);
	upload_submit(r, req, cases_listed, r);
}
