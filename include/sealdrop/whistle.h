/*
 * whistle.h — the whistleblower's routes (server/whistle.c; docs/API.md, "The
 * whistleblower's channel"): no certificate, a codename session per answer.
 */
#ifndef SEALDROP_WHISTLE_H
#define SEALDROP_WHISTLE_H

#include "sealdrop/route.h"
#include "sealdrop/session.h"

#define SD_WB_CASES_MAX 16    /* cases one codename's status lists */
#define SD_WB_PAD_MIN   16384 /* the smallest size bucket of any answer under /v1/wb/ (server/conn.c) */

/* The gate (server/wbgate.c) for an answer's session p: 0, or <0 after answering 403
 * session_refused or 503 busy (with Retry-After). */
int sd_wb_gate(sd_request_t *r, const sd_session_proof_t *p);

/* GET /v1/wb/challenge: a stateless challenge and the proof of work asked. */
void sd_route_wb_challenge(sd_request_t *r);
/* POST /v1/wb/status: every case filed under the codename, with its notices. */
void sd_route_wb_status(sd_request_t *r);
/* POST /v1/wb/objection: an objection (Art. 11-3(1)) inside the 7-day window. */
void sd_route_wb_objection(sd_request_t *r);

#endif
