/*
 * exports.h — POST /v1/cases/{case}/exports (server/exports.c; docs/API.md, "Exports"):
 * an officer's client announces the referral bundle it built for an agency; the server
 * records the bundle's digest as an audit leaf and answers with the export receipt,
 * signed by the log key (include/sealdrop/export.h).
 */
#ifndef SEALDROP_EXPORTS_H
#define SEALDROP_EXPORTS_H

#include <stddef.h>
#include <stdint.h>
#include "sealdrop/directory.h"
#include "sealdrop/error.h"
#include "sealdrop/export.h"
#include "sealdrop/route.h"
#include "sealdrop/server.h"

#define SD_EXPORTS_BODY_MAX 1024

typedef struct {
	char agency[SD_AGENCY_ID_MAX + 1];
	uint8_t bundle_digest[SD_HASH_BYTES];
} sd_exports_body_t;

/* The request body {"agency": ID, "bundle_digest": "<64 lower-case hex>"}, nothing else:
 * SD_ERR_FORMAT with a detail naming the field. Pure (no server state): fuzzed. */
int sd_exports_body_parse(const uint8_t *body, size_t len, sd_exports_body_t *out) SD_WUR;

/* POST /v1/cases/{case}/exports (officers, custodians): 404 unknown case, 400 a bad body,
 * 422 unknown_agency (not in the server's directory), 201 the export receipt. */
void sd_route_case_export(sd_request_t *r);

#endif
