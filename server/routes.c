/*
 * routes.c — sealdropd's route table (include/sealdrop/route.h) and the public routes.
 *
 * Every route of docs/API.md is one row below: method, path pattern, the roles that may
 * call it (0: public), the limit on its body, and its handlers. The connection module
 * matches a request against this table (server/router.c), authenticates the client for
 * the roles, enforces the body limit and only then calls the handlers. The filing
 * routes live in upload.c, upload_chunk.c, commit.c and cases.c; a case's notices in
 * notices.c; the operator's metrics in metrics.c.
 */
#include <string.h>

#include "sealdrop/auditlog.h"
#include "sealdrop/casework.h"
#include "sealdrop/conn.h"
#include "sealdrop/consents.h"
#include "sealdrop/download.h"
#include "sealdrop/exports.h"
#include "sealdrop/metrics.h"
#include "sealdrop/notices.h"
#include "sealdrop/sealdrop.h"
#include "sealdrop/whistle.h"
#include "upload_int.h"

/* For load balancers: cheap, public, and 503 once SIGTERM began the drain, so that a
 * balancer stops sending new work while the open requests finish. */
void sd_route_health(sd_request_t *r)
{
	if (sd_server_is_draining(sd_request_server(r))) {
		sd_request_set_retry_after(r, 1);
		sd_request_reply_json(r, 503,
		                      json_pack("{s:s, s:s}", "status", "draining", "version", SD_VERSION_STRING));
		return;
	}
	sd_request_reply_json(r, 200, json_pack("{s:s, s:s}", "status", "ok", "version", SD_VERSION_STRING));
}

void sd_route_directory(sd_request_t *r)
{
	size_t len = 0;
	const uint8_t *json = sd_server_directory_json(sd_request_server(r), &len);

	if (json == NULL) {
		sd_request_reply_error(r, 503, "busy", "no directory is installed");
		return;
	}
	sd_request_reply(r, 200, "application/json", json, len);
}

void sd_route_crl(sd_request_t *r)
{
	size_t len = 0;
	const uint8_t *der = sd_server_crl(sd_request_server(r), &len);

	if (der == NULL || len == 0) {
		sd_request_reply_error(r, 503, "busy", "the CRL is not available yet");
		return;
	}
	sd_request_reply(r, 200, "application/pkix-crl", der, len);
}

const sd_route_t sd_routes[] = {
        {"GET", "/v1/health", 0, SD_BODY_NONE, NULL, NULL, sd_route_health},
        {"GET", "/v1/directory", 0, SD_BODY_NONE, NULL, NULL, sd_route_directory},
        {"GET", "/v1/crl", 0, SD_BODY_NONE, NULL, NULL, sd_route_crl},
        {"GET", "/v1/metrics", SD_ROLE_OPERATOR, SD_BODY_NONE, NULL, NULL, sd_route_metrics},
        {"POST", "/v1/uploads", SD_ROLE_ATTORNEY, SD_BODY_HEADER, NULL, NULL, sd_route_upload_create},
        {"GET", "/v1/uploads/{id}", SD_ROLE_ATTORNEY, SD_BODY_NONE, NULL, NULL, sd_route_upload_status},
        {"PUT", "/v1/uploads/{id}/blobs/{k}/chunks/{n}", SD_ROLE_ATTORNEY, SD_BODY_CHUNK, sd_route_chunk_headers,
         sd_route_chunk_body, sd_route_chunk_complete},
        {"POST", "/v1/uploads/{id}/commit", SD_ROLE_ATTORNEY, SD_BODY_NONE, NULL, NULL, sd_route_commit},
        {"GET", "/v1/cases", SD_ROLE_ATTORNEY | SD_ROLE_OFFICER | SD_ROLE_CUSTODIAN, SD_BODY_NONE, NULL, NULL,
         sd_route_case_list},
        {"GET", "/v1/cases/{case}", SD_ROLE_ATTORNEY | SD_ROLE_OFFICER | SD_ROLE_CUSTODIAN, SD_BODY_NONE, NULL, NULL,
         sd_route_case_get},
        {"POST", "/v1/cases/{case}/transition", SD_ROLE_OFFICER | SD_ROLE_CUSTODIAN, SD_BODY_SMALL, NULL, NULL,
         sd_route_case_transition},
        {"GET", "/v1/cases/{case}/header", SD_ROLE_OFFICER | SD_ROLE_CUSTODIAN, SD_BODY_NONE, NULL, NULL,
         sd_route_case_header},
        {"GET", "/v1/cases/{case}/blobs/{k}/chunks/{n}", SD_ROLE_OFFICER | SD_ROLE_CUSTODIAN, SD_BODY_NONE, NULL, NULL,
         sd_route_case_chunk},
        {"GET", "/v1/cases/{case}/notices", SD_ROLE_ATTORNEY | SD_ROLE_OFFICER | SD_ROLE_CUSTODIAN, SD_BODY_NONE, NULL,
         NULL, sd_route_case_notices},
        {"POST", "/v1/cases/{case}/notices", SD_ROLE_OFFICER | SD_ROLE_CUSTODIAN, SD_BODY_SMALL, NULL, NULL,
         sd_route_case_notice_post},
        {"GET", "/v1/wb/challenge", 0, SD_BODY_NONE, NULL, NULL, sd_route_wb_challenge},
        {"POST", "/v1/wb/status", 0, SD_BODY_SMALL, NULL, NULL, sd_route_wb_status},
        {"POST", "/v1/wb/objection", 0, SD_BODY_SMALL, NULL, NULL, sd_route_wb_objection},
        {"POST", "/v1/cases/{case}/exports", SD_ROLE_OFFICER | SD_ROLE_CUSTODIAN, SD_BODY_SMALL, NULL, NULL,
         sd_route_case_export},
        {"POST", "/v1/wb/consents", 0, SD_BODY_SMALL, NULL, NULL, sd_route_wb_consent},
        {"POST", "/v1/consents", SD_ROLE_ATTORNEY, SD_BODY_SMALL, NULL, NULL, sd_route_consent_relay},
        {"POST", "/v1/cases/{case}/unseal", SD_ROLE_CUSTODIAN, SD_BODY_SMALL, NULL, NULL, sd_route_case_unseal},
        {"GET", "/v1/log/head", 0, SD_BODY_NONE, NULL, NULL, sd_route_log_head},
        {"GET", "/v1/log/proof/inclusion", 0, SD_BODY_NONE, NULL, NULL, sd_route_log_inclusion},
        {"GET", "/v1/log/proof/consistency", 0, SD_BODY_NONE, NULL, NULL, sd_route_log_consistency},
        {"GET", "/v1/log/entries", SD_ROLE_OFFICER | SD_ROLE_CUSTODIAN | SD_ROLE_OPERATOR, SD_BODY_NONE, NULL, NULL,
         sd_route_log_entries},
        {NULL, NULL, 0, SD_BODY_NONE, NULL, NULL, NULL},
};
