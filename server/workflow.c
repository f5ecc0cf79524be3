/*
 * workflow.c — a case's states, the actions that move it and its deadlines under the
 * Decree's Art. 8–12 (include/sealdrop/workflow.h, which draws the state machine).
 *
 * Pure: no store, no clock. The caller passes today and the holiday calendar, so the
 * rules are tested across any span of days (tests/unit/test_workflow.c). Start at
 * sd_case_flow_apply(): the legal actions of a state (legal_set), then what the action
 * needs (step_members), then the dates (step_dates), and only then the step is applied to
 * a copy, so f is unchanged on any error. The case record (server/caserec.c) rebuilds a
 * flow from its steps with workflow_replay().
 */
#include <stdio.h>
#include <string.h>

#include "sealdrop/sealdrop.h"
#include "sealdrop/workflow.h"
#include "record_int.h"

#define DECISION_DAYS        60 /* Art. 8(1) */
#define DECISION_DAYS_LONGER 90 /* Art. 8(2): once extended by 30 */
#define OUTCOME_DAYS         10 /* Art. 11(2) */
#define OBJECTION_DAYS       7  /* Art. 11-3(1) */
#define REINVESTIGATION_DAYS 60 /* Art. 11-3(2)-(3) */
#define LEGAL_TEXT           128

#define BIT(a) (1u << (a))

static const char *const state_names[SD_CASE_STATE_COUNT + 1] = {
        NULL,
        "received",
        "extended",
        "referred",
        "forwarded",
        "terminated",
        "outcome-notified",
        "objection-filed",
        "reinvestigation-requested",
        "closed",
};
static const char *const action_names[SD_CASE_ACTION_COUNT + 1] = {
        NULL, "extend", "refer", "forward", "terminate", "outcome", "object", "reinvestigate", "close",
};
static const char *const kind_names[] = {NULL, "inspection", "investigation"};
static const char *const reason_names[] = {NULL, "unrelated", "no-evidence", "not-inspectable"};
static const char *const deadline_names[] = {NULL, "decision", "objection", "reinvestigation"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *name_of(const char *const names[], size_t n, int v)
{
	return v > 0 && (size_t)v < n ? names[v] : NULL;
}

static bool value_of(const char *const names[], size_t n, const char *name, int *out)
{
	for (size_t i = 1; name != NULL && i < n; i++)
		if (strcmp(names[i], name) == 0) {
			*out = (int)i;
			return true;
		}
	return false;
}

const char *sd_case_state_name(sd_case_state_t s)
{
	return name_of(state_names, COUNT(state_names), (int)s);
}

bool sd_case_state_from_name(const char *name, sd_case_state_t *out)
{
	int v;

	if (!value_of(state_names, COUNT(state_names), name, &v))
		return false;
	*out = (sd_case_state_t)v;
	return true;
}

const char *sd_case_action_name(sd_case_action_t a)
{
	return name_of(action_names, COUNT(action_names), (int)a);
}

bool sd_case_action_from_name(const char *name, sd_case_action_t *out)
{
	int v;

	if (!value_of(action_names, COUNT(action_names), name, &v))
		return false;
	*out = (sd_case_action_t)v;
	return true;
}

const char *sd_refer_kind_name(sd_refer_kind_t k)
{
	return name_of(kind_names, COUNT(kind_names), (int)k);
}

bool sd_refer_kind_from_name(const char *name, sd_refer_kind_t *out)
{
	int v;

	if (!value_of(kind_names, COUNT(kind_names), name, &v))
		return false;
	*out = (sd_refer_kind_t)v;
	return true;
}

const char *sd_terminate_reason_name(sd_terminate_reason_t r)
{
	return name_of(reason_names, COUNT(reason_names), (int)r);
}

bool sd_terminate_reason_from_name(const char *name, sd_terminate_reason_t *out)
{
	int v;

	if (!value_of(reason_names, COUNT(reason_names), name, &v))
		return false;
	*out = (sd_terminate_reason_t)v;
	return true;
}

const char *sd_deadline_kind_name(sd_deadline_kind_t k)
{
	return name_of(deadline_names, COUNT(deadline_names), (int)k);
}

bool sd_case_action_is_officers(sd_case_action_t a)
{
	return sd_case_action_name(a) != NULL && a != SD_ACTION_OBJECT;
}

void sd_case_flow_init(sd_case_flow_t *f, sd_date_t received)
{
	memset(f, 0, sizeof(*f));
	f->state = SD_CASE_RECEIVED;
	f->received = received;
}

/* --- deadlines ------------------------------------------------------------------------------ */

static sd_date_t objection_due(const sd_case_flow_t *f, const sd_config_t *cal)
{
	return sd_config_period_end(cal, f->notified, OBJECTION_DAYS);
}

sd_date_t sd_case_outcome_due(sd_date_t concluded, const sd_config_t *cal)
{
	return sd_config_period_end(cal, concluded, OUTCOME_DAYS);
}

sd_deadline_t sd_case_flow_deadline(const sd_case_flow_t *f, const sd_config_t *cal)
{
	sd_deadline_t d = {.kind = SD_DEADLINE_NONE};

	switch (f->state) {
	case SD_CASE_RECEIVED:
	case SD_CASE_EXTENDED:
		d.kind = SD_DEADLINE_DECISION;
		d.due = sd_config_period_end(cal, f->received, f->extended ? DECISION_DAYS_LONGER : DECISION_DAYS);
		d.commission = true;
		break;
	case SD_CASE_OUTCOME_NOTIFIED:
		d.kind = SD_DEADLINE_OBJECTION;
		d.due = objection_due(f, cal);
		break;
	case SD_CASE_OBJECTION_FILED:
	case SD_CASE_REINVESTIGATION_REQUESTED:
		d.kind = SD_DEADLINE_REINVESTIGATION;
		d.due = sd_config_period_end(cal, f->objected, REINVESTIGATION_DAYS);
		d.commission = true;
		break;
	default: /* referred, forwarded: the agency's turn; terminated, closed: nothing */
		break;
	}
	return d;
}

bool sd_case_flow_overdue(const sd_case_flow_t *f, sd_date_t today, const sd_config_t *cal)
{
	sd_deadline_t d = sd_case_flow_deadline(f, cal);

	return d.commission && sd_date_cmp(today, d.due) > 0;
}

/* --- the legal actions ---------------------------------------------------------------------- */

/* The legal actions of f; cal NULL leaves out the objection window (a replay). */
static unsigned legal_set(const sd_case_flow_t *f, sd_date_t today, const sd_config_t *cal)
{
	bool window_open;

	if (f->n_steps >= SD_CASE_STEPS_MAX)
		return 0;
	switch (f->state) {
	case SD_CASE_RECEIVED:
	case SD_CASE_EXTENDED:
		return (f->extended ? 0 : BIT(SD_ACTION_EXTEND)) | BIT(SD_ACTION_REFER) | BIT(SD_ACTION_FORWARD) |
		       BIT(SD_ACTION_TERMINATE);
	case SD_CASE_REFERRED:
	case SD_CASE_FORWARDED:
	case SD_CASE_REINVESTIGATION_REQUESTED:
		return BIT(SD_ACTION_OUTCOME);
	case SD_CASE_OUTCOME_NOTIFIED:
		if (cal == NULL)
			return BIT(SD_ACTION_OBJECT) | BIT(SD_ACTION_CLOSE);
		window_open = sd_date_cmp(today, objection_due(f, cal)) <= 0;
		return window_open ? BIT(SD_ACTION_OBJECT) : BIT(SD_ACTION_CLOSE);
	case SD_CASE_OBJECTION_FILED:
		return BIT(SD_ACTION_REINVESTIGATE);
	default: /* terminated, closed */
		return 0;
	}
}

unsigned sd_case_flow_legal(const sd_case_flow_t *f, sd_date_t today, const sd_config_t *cal)
{
	return legal_set(f, today, cal);
}

/* "refer, forward, terminate" */
static void legal_text(unsigned legal, char out[LEGAL_TEXT])
{
	size_t off = 0;

	out[0] = '\0';
	for (int a = SD_ACTION_EXTEND; a <= SD_CASE_ACTION_COUNT; a++)
		if (legal & BIT(a)) {
			int n = snprintf(out + off, LEGAL_TEXT - off, "%s%s", off ? ", " : "",
			                 sd_case_action_name((sd_case_action_t)a));
			if (n < 0 || (size_t)n >= LEGAL_TEXT - off)
				return;
			off += (size_t)n;
		}
}

/* The refusal of an action that is not in legal. */
static int refuse_action(const sd_case_flow_t *f, const sd_case_step_t *step, unsigned legal, const sd_config_t *cal)
{
	const char *state = sd_case_state_name(f->state);
	char list[LEGAL_TEXT], due[SD_DATE_TEXT_BYTES];

	if (f->n_steps >= SD_CASE_STEPS_MAX)
		return sd_error(SD_ERR_REFUSED, "case has %d steps, the most one case may record", SD_CASE_STEPS_MAX);
	if (f->state == SD_CASE_OUTCOME_NOTIFIED && cal != NULL) {
		sd_date_format(objection_due(f, cal), due);
		if (step->action == SD_ACTION_OBJECT)
			return sd_error(SD_ERR_REFUSED, "the objection window closed on %s", due);
		if (step->action == SD_ACTION_CLOSE)
			return sd_error(SD_ERR_REFUSED,
			                "case is %s: the objection window is open until %s, the legal actions are "
			                "object",
			                state, due);
	}
	if (legal == 0)
		return sd_error(SD_ERR_REFUSED, "case is %s: no legal actions", state);
	legal_text(legal, list);
	if (step->action == SD_ACTION_EXTEND && f->extended)
		return sd_error(SD_ERR_REFUSED, "case is %s (a case is extended only once): the legal actions are %s",
		                state, list);
	return sd_error(SD_ERR_REFUSED, "case is %s: the legal actions are %s", state, list);
}

/* --- what a step needs ---------------------------------------------------------------------- */

static bool agency_is_valid(const char *a)
{
	size_t n = strnlen(a, SD_AGENCY_ID_MAX + 1);

	if (n == 0 || n > SD_AGENCY_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((a[i] >= 'a' && a[i] <= 'z') || (a[i] >= '0' && a[i] <= '9') || a[i] == '-'))
			return false;
	return true;
}

static bool is_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

static bool date_is_set(sd_date_t d)
{
	return d.y != 0 || d.m != 0 || d.d != 0;
}

/* "an extend step", "a refer step" */
static const char *article(const char *name)
{
	return strchr("aeiou", name[0]) != NULL ? "an" : "a";
}

/* Members the action does not take must be empty: a step has one form. */
static int step_extras(const sd_case_step_t *s, const char *name)
{
	bool text_taken = s->action == SD_ACTION_EXTEND || s->action == SD_ACTION_OUTCOME ||
	                  s->action == SD_ACTION_OBJECT || s->action == SD_ACTION_REINVESTIGATE;

	if (s->kind != 0 && s->action != SD_ACTION_REFER)
		return sd_error(SD_ERR_INVALID, "%s %s step takes no kind", article(name), name);
	if (s->agency[0] != '\0' && s->action != SD_ACTION_REFER && s->action != SD_ACTION_FORWARD)
		return sd_error(SD_ERR_INVALID, "%s %s step takes no agency", article(name), name);
	if (s->reason != 0 && s->action != SD_ACTION_TERMINATE)
		return sd_error(SD_ERR_INVALID, "%s %s step takes no reason", article(name), name);
	if (date_is_set(s->concluded) && s->action != SD_ACTION_OUTCOME)
		return sd_error(SD_ERR_INVALID, "%s %s step takes no conclusion date", article(name), name);
	if (s->has_text && !text_taken)
		return sd_error(SD_ERR_INVALID, "%s %s step takes no text", article(name), name);
	return 0;
}

static int step_members(const sd_case_step_t *s)
{
	const char *name = sd_case_action_name(s->action);
	bool officers = sd_case_action_is_officers(s->action);

	if (officers && is_zero(s->actor, sizeof(s->actor)))
		return sd_error(SD_ERR_INVALID, "%s %s step needs the officer's certificate fingerprint", article(name),
		                name);
	if (!officers && !is_zero(s->actor, sizeof(s->actor)))
		return sd_error(SD_ERR_INVALID, "an object step is the whistleblower's: it has no officer");
	if (s->action == SD_ACTION_REFER && sd_refer_kind_name(s->kind) == NULL)
		return sd_error(SD_ERR_INVALID, "a refer step needs a kind: inspection or investigation");
	if ((s->action == SD_ACTION_REFER || s->action == SD_ACTION_FORWARD) && !agency_is_valid(s->agency))
		return sd_error(SD_ERR_INVALID, "a %s step needs an agency id: 1 to %d of [a-z0-9-]", name,
		                SD_AGENCY_ID_MAX);
	if (s->action == SD_ACTION_TERMINATE && sd_terminate_reason_name(s->reason) == NULL)
		return sd_error(SD_ERR_INVALID, "a terminate step needs a reason: unrelated, no-evidence or "
		                                "not-inspectable");
	if (s->action == SD_ACTION_OUTCOME && !sd_date_is_valid(s->concluded.y, s->concluded.m, s->concluded.d))
		return sd_error(SD_ERR_INVALID, "an outcome step needs the agency's conclusion date");
	if (!s->has_text && (s->action == SD_ACTION_EXTEND || s->action == SD_ACTION_REINVESTIGATE))
		return sd_error(SD_ERR_INVALID, "%s %s step needs its reason", article(name), name);
	if (!s->has_text && s->action == SD_ACTION_OUTCOME)
		return sd_error(SD_ERR_INVALID, "an outcome step needs the agency's result summary");
	if (!s->has_text && s->action == SD_ACTION_OBJECT)
		return sd_error(SD_ERR_INVALID, "an object step needs the objection's text");
	return step_extras(s, name);
}

/* The dates: the step is taken today, not before the case; an agency concludes before
 * the notice and not before the case reached it. */
static int step_dates(const sd_case_flow_t *f, const sd_case_step_t *s, sd_date_t today)
{
	char a[SD_DATE_TEXT_BYTES], b[SD_DATE_TEXT_BYTES];

	sd_date_format(s->date, a);
	sd_date_format(today, b);
	if (!sd_date_is_valid(s->date.y, s->date.m, s->date.d) || sd_date_cmp(s->date, today) != 0)
		return sd_error(SD_ERR_INVALID, "a step is dated the day it is taken (%s), not %s", b, a);
	sd_date_format(f->received, a);
	if (sd_date_cmp(today, f->received) < 0)
		return sd_error(SD_ERR_INVALID, "a step cannot be taken before the case was received on %s", a);
	if (s->action != SD_ACTION_OUTCOME)
		return 0;
	sd_date_format(s->concluded, a);
	if (sd_date_cmp(s->concluded, today) > 0)
		return sd_error(SD_ERR_REFUSED, "the conclusion date %s is in the future (today is %s)", a, b);
	sd_date_format(f->referred, b);
	if (sd_date_cmp(s->concluded, f->referred) < 0)
		return sd_error(SD_ERR_REFUSED, "the conclusion date %s is before the case went to the agency on %s", a,
		                b);
	return 0;
}

/* --- applying ------------------------------------------------------------------------------- */

static void step_apply(sd_case_flow_t *f, const sd_case_step_t *s, sd_date_t today)
{
	switch (s->action) {
	case SD_ACTION_EXTEND:
		f->state = SD_CASE_EXTENDED;
		f->extended = true;
		break;
	case SD_ACTION_REFER:
		f->state = SD_CASE_REFERRED;
		f->kind = s->kind;
		f->referred = today;
		snprintf(f->agency, sizeof(f->agency), "%s", s->agency);
		break;
	case SD_ACTION_FORWARD:
		f->state = SD_CASE_FORWARDED;
		f->kind = 0;
		f->referred = today;
		snprintf(f->agency, sizeof(f->agency), "%s", s->agency);
		break;
	case SD_ACTION_TERMINATE:
		f->state = SD_CASE_TERMINATED;
		break;
	case SD_ACTION_OUTCOME:
		f->state = SD_CASE_OUTCOME_NOTIFIED;
		f->concluded = s->concluded;
		f->notified = today; /* the result notice goes out with the step */
		break;
	case SD_ACTION_OBJECT:
		f->state = SD_CASE_OBJECTION_FILED;
		f->objected = today;
		break;
	case SD_ACTION_REINVESTIGATE:
		f->state = SD_CASE_REINVESTIGATION_REQUESTED;
		f->referred = today; /* back to the agency: its next conclusion comes after this */
		break;
	case SD_ACTION_CLOSE:
		f->state = SD_CASE_CLOSED;
		break;
	}
	f->n_steps++;
}

/* cal NULL: a replay, without the objection window. */
static int flow_step(sd_case_flow_t *f, const sd_case_step_t *step, sd_date_t today, const sd_config_t *cal)
{
	unsigned legal;
	int r;

	if (sd_case_action_name(step->action) == NULL)
		return sd_error(SD_ERR_INVALID, "a step's action %d is not one of the workflow's", (int)step->action);
	if (sd_case_state_name(f->state) == NULL)
		return sd_error(SD_ERR_INVALID, "the case's state %d is not one of the workflow's", (int)f->state);
	legal = legal_set(f, today, cal);
	if (!(legal & BIT(step->action)))
		return refuse_action(f, step, legal, cal);
	if ((r = step_members(step)) < 0 || (r = step_dates(f, step, today)) < 0)
		return r;
	step_apply(f, step, today);
	return 0;
}

int sd_case_flow_apply(sd_case_flow_t *f, const sd_case_step_t *step, sd_date_t today, const sd_config_t *cal)
{
	if (cal == NULL)
		return sd_error(SD_ERR_USAGE, "sd_case_flow_apply needs the holiday calendar");
	return flow_step(f, step, today, cal);
}

int workflow_replay(sd_case_flow_t *f, const sd_case_step_t *step)
{
	return flow_step(f, step, step->date, NULL);
}
