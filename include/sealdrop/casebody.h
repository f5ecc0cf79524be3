/*
 * casebody.h — the JSON bodies of the case routes, read without the server (pure, so each
 * is fuzzed: tests/fuzz/fuzz_casebody.c; docs/API.md, "POST /v1/cases/{case}/transition",
 * "POST /v1/cases/{case}/notices", "POST /v1/cases/{case}/unseal"). Every member is
 * checked, unknown members are refused, sealed texts are canonical padded base64 within
 * their limits. Errors are
 * SD_ERR_FORMAT with a detail naming the member, SD_ERR_NOENT for an agency the directory
 * does not list, SD_ERR_NOMEM.
 */
#ifndef SEALDROP_CASEBODY_H
#define SEALDROP_CASEBODY_H

#include <stddef.h>
#include <stdint.h>
#include "sealdrop/consent.h"
#include "sealdrop/directory.h"
#include "sealdrop/error.h"
#include "sealdrop/notice.h"
#include "sealdrop/session.h"
#include "sealdrop/workflow.h"

/* A transition: `action` (an officer's) and exactly the members that action takes, into
 * step (action, kind, agency, reason, concluded, has_text) and the sealed text (*text
 * malloc'd, or NULL). d: the directory the agency must be listed in (NULL: none is). */
int sd_casebody_step(const uint8_t *body, size_t len, const sd_directory_t *d, sd_case_step_t *step, uint8_t **text,
                     size_t *text_len) SD_WUR;

/* A written notice: to_whistleblower, to_commission and the optional to_attorney, into
 * n's boxes (n must have none; sd_notice_clear frees them, also after an error). */
int sd_casebody_notice(const uint8_t *body, size_t len, sd_notice_t *n) SD_WUR;

/* An unseal request (docs/API.md, "POST /v1/cases/{case}/unseal"): exactly {"scope":
 * "commission"} or {"scope": "agency:ID"}, ID an agency id's syntax (whether the
 * directory lists it is the route's to check), into scope in its text form
 * (sd_consent_scope_text); "" after an error. */
int sd_casebody_unseal(const uint8_t *body, size_t len, char scope[SD_CONSENT_SCOPE_MAX]) SD_WUR;

/* A whistleblower's answer (docs/API.md, "The whistleblower's channel"): the "session"
 * object (challenge, client_nonce, locator, signature, pow: canonical padded base64 of
 * exactly 32, 32, 32, 64 and 8 bytes) and, for an objection, the optional "case" and the
 * sealed "text" (required). */
typedef struct {
	sd_session_proof_t session;
	char case_number[SD_CASE_NUMBER_BYTES]; /* "" when absent */
	uint8_t *text;                          /* the objection, sealed: malloc'd, or NULL */
	size_t text_len;
} sd_wb_body_t;

/* objection: the objection's body, else the status's (session only). out->text is freed
 * by the caller, also after an error. */
int sd_casebody_wb(const uint8_t *body, size_t len, bool objection, sd_wb_body_t *out) SD_WUR;

/* The whistleblower's own consent or revocation: {"session": {...}, "file": <the object an
 * offline .sdc file holds>} (docs/API.md, "POST /v1/wb/consents"; the file as
 * sd_consent_file_parse reads it). */
int sd_casebody_wb_consent(const uint8_t *body, size_t len, sd_session_proof_t *session,
                           sd_consent_file_t *file) SD_WUR;

#endif
