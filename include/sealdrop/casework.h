/*
 * casework.h — the Commission's case routes (server/casework.c; docs/API.md, "Cases"):
 * listing cases, one case with its history, and an officer's transition.
 */
#ifndef SEALDROP_CASEWORK_H
#define SEALDROP_CASEWORK_H

#include <stdbool.h>
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

#endif
