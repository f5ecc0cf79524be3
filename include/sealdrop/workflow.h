/*
 * workflow.h — a case under the Decree's Art. 8–12: its states, the actions that move it,
 * and its deadlines (DESIGN.md, "Case workflow"; docs/API.md, "Cases"). Pure: no store,
 * no clock — the caller passes today's date and the holiday calendar (server/workflow.c).
 *
 *   received ─extend→ extended                                  (Art. 8(2), once, +30 days)
 *   received|extended ─refer→ referred   (kind inspection|investigation, agency; Art. 9(1))
 *   received|extended ─forward→ forwarded                        (agency; Art. 10)
 *   received|extended ─terminate→ terminated   (unrelated|no-evidence|not-inspectable; Art. 12)
 *   referred|forwarded|reinvestigation-requested ─outcome→ outcome-notified
 *                                     (the agency's conclusion date; Art. 11(2)–(3))
 *   outcome-notified ─object→ objection-filed   (the whistleblower, within 7 days; Art. 11-3(1))
 *   objection-filed ─reinvestigate→ reinvestigation-requested                (Art. 11-3(2))
 *   outcome-notified ─close→ closed                (once the objection window has passed)
 *
 * Deadlines (sd_config_period_end: the first day is not counted, a period ending on a
 * Saturday, Sunday or listed holiday ends on the next working day):
 *   decision       received + 60 days, received + 90 once extended       (Art. 8(1)–(2))
 *   outcome notice the agency's conclusion date + 10 days                  (Art. 11(2))
 *   objection      the result notice's date + 7 days                       (Art. 11-3(1))
 *   reinvestigation request and answer: the objection's date + 60 days     (Art. 11-3(2)–(3))
 * After a reinvestigation the case returns to outcome-notified with new windows.
 */
#ifndef SEALDROP_WORKFLOW_H
#define SEALDROP_WORKFLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sealdrop/config.h"
#include "sealdrop/date.h"
#include "sealdrop/directory.h" /* SD_AGENCY_ID_MAX: an agency id, [a-z0-9-] */
#include "sealdrop/error.h"

#define SD_CASE_STEPS_MAX 64          /* transitions one case may record */
#define SD_CASE_TEXT_MAX  (64u << 10) /* a sealed reason, bytes */

typedef enum {
	SD_CASE_RECEIVED = 1,
	SD_CASE_EXTENDED,
	SD_CASE_REFERRED,
	SD_CASE_FORWARDED,
	SD_CASE_TERMINATED,
	SD_CASE_OUTCOME_NOTIFIED,
	SD_CASE_OBJECTION_FILED,
	SD_CASE_REINVESTIGATION_REQUESTED,
	SD_CASE_CLOSED,
} sd_case_state_t;
#define SD_CASE_STATE_COUNT 9

typedef enum {
	SD_ACTION_EXTEND = 1,
	SD_ACTION_REFER,
	SD_ACTION_FORWARD,
	SD_ACTION_TERMINATE,
	SD_ACTION_OUTCOME,
	SD_ACTION_OBJECT,
	SD_ACTION_REINVESTIGATE,
	SD_ACTION_CLOSE,
} sd_case_action_t;
#define SD_CASE_ACTION_COUNT 8

typedef enum { SD_REFER_INSPECTION = 1, SD_REFER_INVESTIGATION } sd_refer_kind_t;
typedef enum {
	SD_TERMINATE_UNRELATED = 1,
	SD_TERMINATE_NO_EVIDENCE,
	SD_TERMINATE_NOT_INSPECTABLE
} sd_terminate_reason_t;

/* "received", "reinvestigation-requested", ...; "extend", ...; "inspection", ...;
 * "no-evidence", ... — NULL for a value out of range, and back (false for an unknown
 * name). The names are part of the API and of the case record. */
const char *sd_case_state_name(sd_case_state_t s);
bool sd_case_state_from_name(const char *name, sd_case_state_t *out);
const char *sd_case_action_name(sd_case_action_t a);
bool sd_case_action_from_name(const char *name, sd_case_action_t *out);
const char *sd_refer_kind_name(sd_refer_kind_t k);
bool sd_refer_kind_from_name(const char *name, sd_refer_kind_t *out);
const char *sd_terminate_reason_name(sd_terminate_reason_t r);
bool sd_terminate_reason_from_name(const char *name, sd_terminate_reason_t *out);

/* Who may take an action: officers and custodians all but `object`, which is the
 * whistleblower's (through the codename channel). */
bool sd_case_action_is_officers(sd_case_action_t a);

/* One step of a case's history, as requested and as recorded. */
typedef struct {
	sd_case_action_t action;
	sd_date_t date;                    /* the day it was taken (the server's today) */
	uint8_t actor[32];                 /* the officer's certificate fingerprint (zero: whistleblower) */
	sd_refer_kind_t kind;              /* refer */
	char agency[SD_AGENCY_ID_MAX + 1]; /* refer, forward */
	sd_terminate_reason_t reason;      /* terminate */
	sd_date_t concluded;               /* outcome: the agency's conclusion date */
	bool has_text;                     /* extend, reinvestigate: the reason; outcome: the summary;
	                                      object: the objection — always sealed to the intake key
	                                      by the client (the server stores no plaintext a person
	                                      wrote) */
} sd_case_step_t;

/* The workflow part of a case: its state and the dates its deadlines count from. */
typedef struct {
	sd_case_state_t state;
	sd_date_t received;
	bool extended;
	sd_refer_kind_t kind;              /* the last referral's, when referred */
	char agency[SD_AGENCY_ID_MAX + 1]; /* the agency of the last referral or forwarding */
	sd_date_t referred;                /* the last referral's, forwarding's or reinvestigation's date */
	sd_date_t concluded;               /* the last outcome's conclusion date */
	sd_date_t notified;                /* the last result notice's date (outcome) */
	sd_date_t objected;                /* the last objection's date */
	size_t n_steps;                    /* steps so far (at most SD_CASE_STEPS_MAX) */
} sd_case_flow_t;

/* A new case received on `received`. */
void sd_case_flow_init(sd_case_flow_t *f, sd_date_t received);

/* Checks step against f on `today` and applies it: 0, or SD_ERR_REFUSED with a detail
 * naming the state and the legal actions ("case is referred: the legal actions are
 * outcome"), an objection outside its window ("the objection window closed on
 * 2026-12-09"), a second extension, closing before the objection window ended, a
 * conclusion date in the future or before the referral, or SD_CASE_STEPS_MAX reached;
 * SD_ERR_INVALID for a step missing what its action needs (an agency, a kind, a reason,
 * a conclusion date). step->date must be today. f is unchanged on error. */
int sd_case_flow_apply(sd_case_flow_t *f, const sd_case_step_t *step, sd_date_t today, const sd_config_t *cal) SD_WUR;

/* The legal actions in state s, as a bit set (1u << action), given the flow (extend only
 * once; close only after the objection window). */
unsigned sd_case_flow_legal(const sd_case_flow_t *f, sd_date_t today, const sd_config_t *cal);

/* The deadline that matters now, if any. */
typedef enum {
	SD_DEADLINE_NONE = 0,       /* terminated, closed, or waiting for the agency */
	SD_DEADLINE_DECISION,       /* received, extended: refer, forward or terminate */
	SD_DEADLINE_OBJECTION,      /* outcome-notified: the whistleblower's window (not the Commission's) */
	SD_DEADLINE_REINVESTIGATION /* objection-filed, reinvestigation-requested */
} sd_deadline_kind_t;

typedef struct {
	sd_deadline_kind_t kind;
	sd_date_t due;
	bool commission; /* the Commission must act by then: it counts for --overdue */
} sd_deadline_t;

const char *sd_deadline_kind_name(sd_deadline_kind_t k); /* "decision", "objection", "reinvestigation" */
/* The next deadline of f. */
sd_deadline_t sd_case_flow_deadline(const sd_case_flow_t *f, const sd_config_t *cal);
/* True when the Commission's deadline has passed: today is after it. */
bool sd_case_flow_overdue(const sd_case_flow_t *f, sd_date_t today, const sd_config_t *cal);
/* The outcome notice's deadline for a conclusion date (Art. 11(2)): concluded + 10 days. */
sd_date_t sd_case_outcome_due(sd_date_t concluded, const sd_config_t *cal);

#endif
