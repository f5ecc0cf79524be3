/*
 * casework.h — the Commission's case routes (server/casework.c; docs/API.md, "Cases"):
 * listing cases, one case with its history, and an officer's transition.
 */
#ifndef SEALDROP_CASEWORK_H
#define SEALDROP_CASEWORK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sealdrop/caserec.h"
#include "sealdrop/route.h"

/* An officer's or a custodian's certificate: they see every case. */
bool sd_principal_is_officer(const sd_principal_t *p);
/* The case number of the path ({case}, parameter 0), or NULL after answering 404. */
const char *sd_route_case_number(sd_request_t *r);

/* GET /v1/cases: officers and custodians every case, attorneys their own. */
void sd_route_case_list(sd_request_t *r);
/* GET /v1/cases/{case}. */
void sd_route_case_get(sd_request_t *r);
/* POST /v1/cases/{case}/transition (officers, custodians). */
void sd_route_case_transition(sd_request_t *r);

/* Moves case cn one step as a transition does (read; apply by the workflow's rules with
 * today's calendar; write under a compare-and-set on the stored record, with the sealed
 * text, the step's audit leaf and its notice), for a step that is not an officer's: the
 * whistleblower's objection (its leaf: role whistleblower, no actor). Takes text (sealed,
 * malloc'd, or NULL). reply answers 200 with the case as written; a refused step gets
 * 409 objection_closed (the window) or illegal_transition, a case changed meanwhile 409
 * conflict. Replaces the request's state. */
typedef void (*sd_case_step_reply_fn)(sd_request_t *r, const sd_case_rec_t *rec);
void sd_case_step_start(sd_request_t *r, const char *cn, const sd_case_step_t *step, uint8_t *text, size_t text_len,
                        sd_case_step_reply_fn reply);

#endif
