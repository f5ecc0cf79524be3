/*
 * consents.h — the whistleblower's consents and revocations on the server, and the
 * custodians' unseal (server/consents.c; docs/API.md, "Consent and identity release";
 * DESIGN.md, "Consent-gated identity release").
 *
 * Stored in "consents" under case number (10) || consent id (32): the row below, and in
 * "consent_nonces" under the nonce (32): the id of the consent or revocation that used it
 * (written with no overwrite, so a replay cannot slip in between two requests).
 *
 *   row: {"consent": <the signed consent>, "release": base64 | absent once revoked,
 *         "accepted": date, "by": "whistleblower" | "attorney", "revoked": date | absent}
 */
#ifndef SEALDROP_CONSENTS_H
#define SEALDROP_CONSENTS_H

#include <jansson.h>
#include "sealdrop/consent.h"
#include "sealdrop/receipt.h" /* SD_CASE_NUMBER_BYTES */
#include "sealdrop/route.h"
#include "sealdrop/store.h"

#define SD_CONSENTS_PER_CASE  64 /* rows one case may hold (live, expired and revoked) */
#define SD_CONSENTS_KEY_BYTES (SD_CASE_NUMBER_BYTES - 1 + SD_CONSENT_ID_BYTES)

/* A stored row, decoded (c parsed, not re-verified: it was when accepted). */
typedef struct {
	sd_consent_t c;
	uint8_t id[SD_CONSENT_ID_BYTES];
	bool has_release;
	uint8_t release[SD_CONSENT_RELEASE_BYTES];
	sd_date_t accepted;
	bool relayed; /* "by": "attorney" */
	bool revoked;
	sd_date_t revoked_on;
} sd_consent_row_t;

/* The row's bytes (compact JSON, sorted keys; *out malloc'd) and back (strict). */
int sd_consent_row_encode(const sd_consent_row_t *row, uint8_t **out, size_t *len) SD_WUR;
int sd_consent_row_decode(const uint8_t *buf, size_t len, sd_consent_row_t *out) SD_WUR;
/* For the whistleblower's status: {"consent_id", "scope", "issued", "expires", "accepted",
 * "by", "revoked", "live"} (live on today). */
json_t *sd_consent_row_json(const sd_consent_row_t *row, sd_date_t today);
/* The "consents" key of a case's consent. */
void sd_consents_key(const char *case_number, const uint8_t id[SD_CONSENT_ID_BYTES],
                     uint8_t out[SD_CONSENTS_KEY_BYTES]);

/* POST /v1/wb/consents: {"session", "file"}, the whistleblower's own consent or
 * revocation. POST /v1/consents: the .sdc file, relayed by the case's filing attorney. */
void sd_route_wb_consent(sd_request_t *r);
void sd_route_consent_relay(sd_request_t *r);
/* POST /v1/cases/{case}/unseal (custodians): {"scope"}: a live consent's release. */
void sd_route_case_unseal(sd_request_t *r);

#endif
