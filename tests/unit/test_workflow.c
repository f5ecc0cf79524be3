/*
 * test_workflow.c — the case workflow (server/workflow.c): every (state, action) pair,
 * legal or refused with its exact message; what each step must and must not carry; every
 * deadline, with weekends and the default config's 2026 holidays moving them; the
 * Commission's overdue; the paths the acceptance walks; the names.
 *
 * The reference case is received on Thursday 2026-03-12: its day 60 (2026-05-11, a
 * Monday) and day 90 (2026-06-10, a Wednesday) are working days, so the decision is
 * overdue exactly on day 61, or day 91 once extended. Its first result notice goes out on
 * Monday 2026-05-04, whose day 7 (2026-05-11) is a working day: an objection on day 8 is
 * late.
 */
#include "unit.h"

#include "sealdrop/config.h"
#include "sealdrop/workflow.h"

static sd_config_t cal;

static const sd_date_t RECEIVED = {2026, 3, 12};

static sd_date_t D(int y, int m, int d)
{
	return (sd_date_t){y, m, d};
}

static void assert_date(sd_date_t got, int y, int m, int d)
{
	char a[SD_DATE_TEXT_BYTES], b[SD_DATE_TEXT_BYTES];

	sd_date_format(got, a);
	sd_date_format(D(y, m, d), b);
	assert_string_equal(a, b);
}

/* A valid step of action a taken on day `on`. */
static sd_case_step_t step_of(sd_case_action_t a, sd_date_t on)
{
	sd_case_step_t s = {.action = a, .date = on};

	if (a != SD_ACTION_OBJECT)
		memset(s.actor, 0xa5, sizeof(s.actor));
	switch (a) {
	case SD_ACTION_REFER:
		s.kind = SD_REFER_INSPECTION;
		snprintf(s.agency, sizeof(s.agency), "police");
		break;
	case SD_ACTION_FORWARD:
		snprintf(s.agency, sizeof(s.agency), "acrc-2");
		break;
	case SD_ACTION_TERMINATE:
		s.reason = SD_TERMINATE_NO_EVIDENCE;
		break;
	case SD_ACTION_OUTCOME:
		s.concluded = on; /* not before the referral, however recent */
		s.has_text = true;
		break;
	case SD_ACTION_EXTEND:
	case SD_ACTION_OBJECT:
	case SD_ACTION_REINVESTIGATE:
		s.has_text = true;
		break;
	default:
		break;
	}
	return s;
}

static void take(sd_case_flow_t *f, sd_case_action_t a, sd_date_t on)
{
	sd_case_step_t s = step_of(a, on);
	int r = sd_case_flow_apply(f, &s, on, &cal);

	if (r != 0)
		fail_msg("%s on day %lld refused: %s", sd_case_action_name(a),
		         (long long)(sd_date_to_days(on) - sd_date_to_days(f->received)), sd_error_detail());
}

/* Expects a refusal with exactly this message; f must not change. */
static void refused(sd_case_flow_t *f, const sd_case_step_t *s, sd_date_t today, int err, const char *msg)
{
	sd_case_flow_t before = *f;

	assert_int_equal(sd_case_flow_apply(f, s, today, &cal), err);
	if (msg != NULL)
		assert_string_equal(sd_error_detail(), msg);
	assert_memory_equal(&before, f, sizeof(before));
}

/* The reference case brought to state st by the usual steps; *today is the last one's day. */
static void flow_in(sd_case_state_t st, sd_case_flow_t *f, sd_date_t *today)
{
	sd_case_flow_init(f, RECEIVED);
	*today = D(2026, 3, 13);
	switch (st) {
	case SD_CASE_EXTENDED:
		take(f, SD_ACTION_EXTEND, *today = D(2026, 3, 20));
		break;
	case SD_CASE_FORWARDED:
		take(f, SD_ACTION_FORWARD, *today = D(2026, 4, 1));
		break;
	case SD_CASE_TERMINATED:
		take(f, SD_ACTION_TERMINATE, *today = D(2026, 4, 1));
		break;
	case SD_CASE_REFERRED:
	case SD_CASE_OUTCOME_NOTIFIED:
	case SD_CASE_OBJECTION_FILED:
	case SD_CASE_REINVESTIGATION_REQUESTED:
	case SD_CASE_CLOSED:
		take(f, SD_ACTION_REFER, *today = D(2026, 4, 1));
		if (st == SD_CASE_REFERRED)
			break;
		take(f, SD_ACTION_OUTCOME, *today = D(2026, 5, 4));
		if (st == SD_CASE_CLOSED)
			take(f, SD_ACTION_CLOSE, *today = D(2026, 5, 12));
		if (st == SD_CASE_OUTCOME_NOTIFIED || st == SD_CASE_CLOSED)
			break;
		take(f, SD_ACTION_OBJECT, *today = D(2026, 5, 9));
		if (st == SD_CASE_REINVESTIGATION_REQUESTED)
			take(f, SD_ACTION_REINVESTIGATE, *today = D(2026, 5, 15));
		break;
	default:
		break;
	}
	assert_int_equal(f->state, st);
}

#define BIT(a) (1u << (a))

/* --- every (state, action) pair ------------------------------------------------------------ */

static void test_every_pair(void **state)
{
	static const struct {
		sd_case_state_t st;
		unsigned legal;
		const char *msg; /* for the illegal actions */
	} table[] = {
	        {SD_CASE_RECEIVED,
	         BIT(SD_ACTION_EXTEND) | BIT(SD_ACTION_REFER) | BIT(SD_ACTION_FORWARD) | BIT(SD_ACTION_TERMINATE),
	         "case is received: the legal actions are extend, refer, forward, terminate"},
	        {SD_CASE_EXTENDED, BIT(SD_ACTION_REFER) | BIT(SD_ACTION_FORWARD) | BIT(SD_ACTION_TERMINATE),
	         "case is extended: the legal actions are refer, forward, terminate"},
	        {SD_CASE_REFERRED, BIT(SD_ACTION_OUTCOME), "case is referred: the legal actions are outcome"},
	        {SD_CASE_FORWARDED, BIT(SD_ACTION_OUTCOME), "case is forwarded: the legal actions are outcome"},
	        {SD_CASE_TERMINATED, 0, "case is terminated: no legal actions"},
	        {SD_CASE_OUTCOME_NOTIFIED, BIT(SD_ACTION_OBJECT),
	         "case is outcome-notified: the legal actions are object"},
	        {SD_CASE_OBJECTION_FILED, BIT(SD_ACTION_REINVESTIGATE),
	         "case is objection-filed: the legal actions are reinvestigate"},
	        {SD_CASE_REINVESTIGATION_REQUESTED, BIT(SD_ACTION_OUTCOME),
	         "case is reinvestigation-requested: the legal actions are outcome"},
	        {SD_CASE_CLOSED, 0, "case is closed: no legal actions"},
	};
	size_t pairs = 0;

	(void)state;
	assert_int_equal(sizeof(table) / sizeof(table[0]), SD_CASE_STATE_COUNT);
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		for (int a = SD_ACTION_EXTEND; a <= SD_CASE_ACTION_COUNT; a++) {
			sd_case_flow_t f;
			sd_date_t today;
			flow_in(table[i].st, &f, &today);
			assert_int_equal(sd_case_flow_legal(&f, today, &cal), table[i].legal);
			sd_case_step_t s = step_of((sd_case_action_t)a, today);
			if (table[i].legal & BIT(a)) {
				size_t n = f.n_steps;
				assert_int_equal(sd_case_flow_apply(&f, &s, today, &cal), 0);
				assert_int_equal(f.n_steps, n + 1);
			} else if (table[i].st == SD_CASE_OUTCOME_NOTIFIED && a == SD_ACTION_CLOSE) {
				refused(&f, &s, today, SD_ERR_REFUSED,
				        "case is outcome-notified: the objection window is open until 2026-05-11, the "
				        "legal actions are object");
			} else if (table[i].st == SD_CASE_EXTENDED && a == SD_ACTION_EXTEND) {
				refused(&f, &s, today, SD_ERR_REFUSED,
				        "case is extended (a case is extended only once): the legal actions are "
				        "refer, forward, terminate");
			} else {
				refused(&f, &s, today, SD_ERR_REFUSED, table[i].msg);
			}
			pairs++;
		}
	}
	assert_int_equal(pairs, SD_CASE_STATE_COUNT * SD_CASE_ACTION_COUNT);
}

/* What each step leads to, and the dates the flow keeps. */
static void test_effects(void **state)
{
	sd_case_flow_t f;
	sd_date_t today;

	(void)state;
	flow_in(SD_CASE_REFERRED, &f, &today);
	assert_int_equal(f.kind, SD_REFER_INSPECTION);
	assert_string_equal(f.agency, "police");
	assert_false(f.extended);
	flow_in(SD_CASE_FORWARDED, &f, &today);
	assert_int_equal(f.kind, 0);
	assert_string_equal(f.agency, "acrc-2");
	flow_in(SD_CASE_EXTENDED, &f, &today);
	assert_true(f.extended);
	flow_in(SD_CASE_REINVESTIGATION_REQUESTED, &f, &today);
	assert_date(f.concluded, 2026, 5, 4); /* concluded the day it was recorded */
	assert_date(f.referred, 2026, 5, 15); /* back to the agency with the reinvestigation */
	assert_date(f.notified, 2026, 5, 4);  /* the result notice goes out with the outcome */
	assert_date(f.objected, 2026, 5, 9);
	assert_int_equal(f.n_steps, 4);
	assert_date(f.received, 2026, 3, 12);
}

/* The objection window: open through its last day, closed after. */
static void test_objection_window(void **state)
{
	sd_case_flow_t f;
	sd_date_t today;
	sd_case_step_t s;

	(void)state;
	flow_in(SD_CASE_OUTCOME_NOTIFIED, &f, &today);
	/* Day 8 after the notice of 2026-05-04: late. */
	s = step_of(SD_ACTION_OBJECT, D(2026, 5, 12));
	refused(&f, &s, D(2026, 5, 12), SD_ERR_REFUSED, "the objection window closed on 2026-05-11");
	assert_int_equal(sd_case_flow_legal(&f, D(2026, 5, 12), &cal), BIT(SD_ACTION_CLOSE));
	/* Day 7: the last day, both for objecting and against closing. */
	assert_int_equal(sd_case_flow_legal(&f, D(2026, 5, 11), &cal), BIT(SD_ACTION_OBJECT));
	s = step_of(SD_ACTION_CLOSE, D(2026, 5, 11));
	refused(&f, &s, D(2026, 5, 11), SD_ERR_REFUSED,
	        "case is outcome-notified: the objection window is open until 2026-05-11, the legal actions are "
	        "object");
	s = step_of(SD_ACTION_OBJECT, D(2026, 5, 11));
	assert_int_equal(sd_case_flow_apply(&f, &s, D(2026, 5, 11), &cal), 0);
	assert_int_equal(f.state, SD_CASE_OBJECTION_FILED);

	/* Chuseok: a notice on Thursday 2026-09-17 is open to objection until Monday 09-28. */
	flow_in(SD_CASE_REFERRED, &f, &today);
	take(&f, SD_ACTION_OUTCOME, D(2026, 9, 17));
	assert_int_equal(sd_case_flow_legal(&f, D(2026, 9, 28), &cal), BIT(SD_ACTION_OBJECT));
	s = step_of(SD_ACTION_OBJECT, D(2026, 9, 29));
	refused(&f, &s, D(2026, 9, 29), SD_ERR_REFUSED, "the objection window closed on 2026-09-28");
	s = step_of(SD_ACTION_OBJECT, D(2026, 9, 28));
	assert_int_equal(sd_case_flow_apply(&f, &s, D(2026, 9, 28), &cal), 0);
}

/* --- what a step carries -------------------------------------------------------------------- */

static void test_step_members(void **state)
{
	static const struct {
		sd_case_state_t st;
		sd_case_action_t a;
		int edit;
		const char *msg;
	} cases[] = {
	        {SD_CASE_RECEIVED, SD_ACTION_REFER, 1, "a refer step needs a kind: inspection or investigation"},
	        {SD_CASE_RECEIVED, SD_ACTION_REFER, 2, "a refer step needs an agency id: 1 to 64 of [a-z0-9-]"},
	        {SD_CASE_RECEIVED, SD_ACTION_REFER, 3, "a refer step needs an agency id: 1 to 64 of [a-z0-9-]"},
	        {SD_CASE_RECEIVED, SD_ACTION_FORWARD, 2, "a forward step needs an agency id: 1 to 64 of [a-z0-9-]"},
	        {SD_CASE_RECEIVED, SD_ACTION_TERMINATE, 4,
	         "a terminate step needs a reason: unrelated, no-evidence or not-inspectable"},
	        {SD_CASE_REFERRED, SD_ACTION_OUTCOME, 5, "an outcome step needs the agency's conclusion date"},
	        {SD_CASE_REFERRED, SD_ACTION_OUTCOME, 6, "an outcome step needs the agency's result summary"},
	        {SD_CASE_RECEIVED, SD_ACTION_EXTEND, 6, "an extend step needs its reason"},
	        {SD_CASE_OBJECTION_FILED, SD_ACTION_REINVESTIGATE, 6, "a reinvestigate step needs its reason"},
	        {SD_CASE_OUTCOME_NOTIFIED, SD_ACTION_OBJECT, 6, "an object step needs the objection's text"},
	        {SD_CASE_RECEIVED, SD_ACTION_FORWARD, 1, "a forward step takes no kind"},
	        {SD_CASE_RECEIVED, SD_ACTION_TERMINATE, 7, "a terminate step takes no agency"},
	        {SD_CASE_RECEIVED, SD_ACTION_REFER, 4, "a refer step takes no reason"},
	        {SD_CASE_RECEIVED, SD_ACTION_EXTEND, 5, "an extend step takes no conclusion date"},
	        {SD_CASE_RECEIVED, SD_ACTION_TERMINATE, 6, "a terminate step takes no text"},
	        {SD_CASE_RECEIVED, SD_ACTION_REFER, 8, "a refer step needs the officer's certificate fingerprint"},
	        {SD_CASE_OUTCOME_NOTIFIED, SD_ACTION_OBJECT, 8,
	         "an object step is the whistleblower's: it has no "
	         "officer"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sd_case_flow_t f;
		sd_date_t today;
		flow_in(cases[i].st, &f, &today);
		sd_case_step_t s = step_of(cases[i].a, today);
		switch (cases[i].edit) {
		case 1: /* the kind: missing for refer, extra for the others */
			s.kind = s.action == SD_ACTION_REFER ? (sd_refer_kind_t)0 : SD_REFER_INVESTIGATION;
			break;
		case 2:
			s.agency[0] = '\0';
			break;
		case 3:
			snprintf(s.agency, sizeof(s.agency), "Police");
			break;
		case 4:
			s.reason = s.action == SD_ACTION_TERMINATE ? (sd_terminate_reason_t)9 : SD_TERMINATE_UNRELATED;
			break;
		case 5:
			s.concluded = s.action == SD_ACTION_OUTCOME ? D(2026, 2, 30) : D(2026, 3, 1);
			break;
		case 6:
			s.has_text = !s.has_text;
			break;
		case 7:
			snprintf(s.agency, sizeof(s.agency), "police");
			break;
		case 8:
			memset(s.actor, s.action == SD_ACTION_OBJECT ? 1 : 0, sizeof(s.actor));
			break;
		}
		refused(&f, &s, today, SD_ERR_INVALID, cases[i].msg);
	}
}

static void test_step_dates(void **state)
{
	sd_case_flow_t f;
	sd_date_t today;
	sd_case_step_t s;

	(void)state;
	/* A step is dated today. */
	flow_in(SD_CASE_RECEIVED, &f, &today);
	s = step_of(SD_ACTION_EXTEND, D(2026, 3, 14));
	refused(&f, &s, D(2026, 3, 15), SD_ERR_INVALID,
	        "a step is dated the day it is taken (2026-03-15), not 2026-03-14");
	s = step_of(SD_ACTION_EXTEND, D(2026, 3, 11));
	refused(&f, &s, D(2026, 3, 11), SD_ERR_INVALID,
	        "a step cannot be taken before the case was received on 2026-03-12");
	/* The agency concluded neither in the future nor before it had the case. */
	flow_in(SD_CASE_REFERRED, &f, &today);
	s = step_of(SD_ACTION_OUTCOME, D(2026, 5, 4));
	s.concluded = D(2026, 5, 5);
	refused(&f, &s, D(2026, 5, 4), SD_ERR_REFUSED,
	        "the conclusion date 2026-05-05 is in the future (today is 2026-05-04)");
	s.concluded = D(2026, 3, 11);
	refused(&f, &s, D(2026, 5, 4), SD_ERR_REFUSED,
	        "the conclusion date 2026-03-11 is before the case went to the agency on 2026-04-01");
	s.concluded = D(2026, 5, 4); /* the same day is fine */
	assert_int_equal(sd_case_flow_apply(&f, &s, D(2026, 5, 4), &cal), 0);
	assert_date(f.concluded, 2026, 5, 4);
	/* An action out of range. */
	flow_in(SD_CASE_RECEIVED, &f, &today);
	s = step_of(SD_ACTION_EXTEND, today);
	s.action = (sd_case_action_t)9;
	refused(&f, &s, today, SD_ERR_INVALID, "a step's action 9 is not one of the workflow's");
}

/* SD_CASE_STEPS_MAX: extend, refer, outcome, then (object, reinvestigate, outcome) x 20 and
 * one more objection make 64; the 65th is refused. */
static void test_steps_max(void **state)
{
	sd_case_flow_t f;
	sd_date_t day = D(2026, 3, 13);

	(void)state;
	sd_case_flow_init(&f, RECEIVED);
	take(&f, SD_ACTION_EXTEND, day);
	take(&f, SD_ACTION_REFER, day);
	take(&f, SD_ACTION_OUTCOME, day = sd_date_add_days(day, 3));
	for (int i = 0; i < 20; i++) {
		take(&f, SD_ACTION_OBJECT, day = sd_date_add_days(day, 1));
		take(&f, SD_ACTION_REINVESTIGATE, day = sd_date_add_days(day, 1));
		take(&f, SD_ACTION_OUTCOME, day = sd_date_add_days(day, 5));
	}
	take(&f, SD_ACTION_OBJECT, day = sd_date_add_days(day, 1));
	assert_int_equal(f.n_steps, SD_CASE_STEPS_MAX);
	assert_int_equal(sd_case_flow_legal(&f, day, &cal), 0);
	sd_case_step_t s = step_of(SD_ACTION_REINVESTIGATE, day);
	refused(&f, &s, day, SD_ERR_REFUSED, "case has 64 steps, the most one case may record");
}

/* --- deadlines ------------------------------------------------------------------------------ */

static void test_deadlines(void **state)
{
	sd_case_flow_t f;
	sd_date_t today;
	sd_deadline_t d;

	(void)state;
	flow_in(SD_CASE_RECEIVED, &f, &today);
	d = sd_case_flow_deadline(&f, &cal);
	assert_int_equal(d.kind, SD_DEADLINE_DECISION);
	assert_true(d.commission);
	assert_date(d.due, 2026, 5, 11);
	flow_in(SD_CASE_EXTENDED, &f, &today);
	d = sd_case_flow_deadline(&f, &cal);
	assert_int_equal(d.kind, SD_DEADLINE_DECISION);
	assert_date(d.due, 2026, 6, 10);
	flow_in(SD_CASE_OUTCOME_NOTIFIED, &f, &today);
	d = sd_case_flow_deadline(&f, &cal);
	assert_int_equal(d.kind, SD_DEADLINE_OBJECTION);
	assert_false(d.commission); /* the whistleblower's window, not the Commission's duty */
	assert_date(d.due, 2026, 5, 11);
	flow_in(SD_CASE_OBJECTION_FILED, &f, &today);
	d = sd_case_flow_deadline(&f, &cal);
	assert_int_equal(d.kind, SD_DEADLINE_REINVESTIGATION);
	assert_true(d.commission);
	assert_date(d.due, 2026, 7, 8); /* 2026-05-09 + 60 */
	flow_in(SD_CASE_REINVESTIGATION_REQUESTED, &f, &today);
	assert_int_equal(sd_case_flow_deadline(&f, &cal).kind, SD_DEADLINE_REINVESTIGATION);
	assert_date(sd_case_flow_deadline(&f, &cal).due, 2026, 7, 8);
	for (sd_case_state_t st = SD_CASE_REFERRED; st <= SD_CASE_CLOSED; st++) {
		if (st == SD_CASE_OUTCOME_NOTIFIED || st == SD_CASE_OBJECTION_FILED ||
		    st == SD_CASE_REINVESTIGATION_REQUESTED)
			continue;
		flow_in(st, &f, &today);
		d = sd_case_flow_deadline(&f, &cal);
		assert_int_equal(d.kind, SD_DEADLINE_NONE);
		assert_false(d.commission);
		assert_false(sd_case_flow_overdue(&f, D(2030, 1, 1), &cal));
	}
	assert_date(sd_case_outcome_due(D(2026, 4, 28), &cal), 2026, 5, 8);
}

/* Weekends and the 2026 holidays of the default config move every kind of deadline. */
static void test_deadline_shifts(void **state)
{
	sd_case_flow_t f;

	(void)state;
	/* Received 2025-12-31: day 60 is Sunday 2026-03-01 (Independence Movement Day), then the
	 * substitute holiday on Monday 03-02: due Tuesday 03-03. */
	sd_case_flow_init(&f, D(2025, 12, 31));
	assert_date(sd_case_flow_deadline(&f, &cal).due, 2026, 3, 3);
	/* A plain weekend: day 60 of 2026-03-17 is Saturday 05-16, due Monday 05-18. */
	sd_case_flow_init(&f, D(2026, 3, 17));
	assert_date(sd_case_flow_deadline(&f, &cal).due, 2026, 5, 18);
	/* Extended, day 90 of 2026-03-05 is Wednesday 06-03, the local elections: due 06-04. */
	sd_case_flow_init(&f, D(2026, 3, 5));
	take(&f, SD_ACTION_EXTEND, D(2026, 3, 6));
	assert_date(sd_case_flow_deadline(&f, &cal).due, 2026, 6, 4);
	/* Objection: a notice on Thursday 2026-09-17; day 7 is Chuseok (09-24 to 09-26), then
	 * Sunday: open until Monday 09-28. */
	sd_case_flow_init(&f, D(2026, 6, 1));
	take(&f, SD_ACTION_FORWARD, D(2026, 6, 2));
	take(&f, SD_ACTION_OUTCOME, D(2026, 9, 17));
	assert_date(sd_case_flow_deadline(&f, &cal).due, 2026, 9, 28);
	/* Reinvestigation: objected 2026-06-16; day 60 is Saturday 08-15 (Liberation Day),
	 * Sunday, the substitute holiday Monday 08-17: due Tuesday 08-18. */
	sd_case_flow_init(&f, D(2026, 3, 2));
	take(&f, SD_ACTION_REFER, D(2026, 3, 3));
	take(&f, SD_ACTION_OUTCOME, D(2026, 6, 12));
	take(&f, SD_ACTION_OBJECT, D(2026, 6, 16));
	assert_date(sd_case_flow_deadline(&f, &cal).due, 2026, 8, 18);
	/* Outcome notice: concluded 2026-09-23, day 10 is Saturday 10-03 (National Foundation
	 * Day), Sunday, the substitute Monday 10-05: due Tuesday 10-06. */
	assert_date(sd_case_outcome_due(D(2026, 9, 23), &cal), 2026, 10, 6);
	/* Without the holiday table only the weekend moves a deadline. */
	{
		sd_config_t bare = cal;
		bare.n_holidays = 0;
		assert_date(sd_case_outcome_due(D(2026, 9, 23), &bare), 2026, 10, 5);
	}
}

static void test_overdue(void **state)
{
	sd_case_flow_t f;
	sd_date_t today;

	(void)state;
	/* Decision: day 60 (2026-05-11) is not late, day 61 is. */
	flow_in(SD_CASE_RECEIVED, &f, &today);
	assert_false(sd_case_flow_overdue(&f, D(2026, 5, 11), &cal));
	assert_true(sd_case_flow_overdue(&f, D(2026, 5, 12), &cal));
	/* Extended: day 90 (2026-06-10) is not late, day 91 is. */
	flow_in(SD_CASE_EXTENDED, &f, &today);
	assert_false(sd_case_flow_overdue(&f, D(2026, 5, 12), &cal));
	assert_false(sd_case_flow_overdue(&f, D(2026, 6, 10), &cal));
	assert_true(sd_case_flow_overdue(&f, D(2026, 6, 11), &cal));
	/* A referral ends the decision's clock. */
	flow_in(SD_CASE_REFERRED, &f, &today);
	assert_false(sd_case_flow_overdue(&f, D(2026, 6, 11), &cal));
	/* The objection window is the whistleblower's: never the Commission's overdue. */
	flow_in(SD_CASE_OUTCOME_NOTIFIED, &f, &today);
	assert_false(sd_case_flow_overdue(&f, D(2026, 12, 31), &cal));
	/* Reinvestigation: due 2026-07-08. */
	flow_in(SD_CASE_OBJECTION_FILED, &f, &today);
	assert_false(sd_case_flow_overdue(&f, D(2026, 7, 8), &cal));
	assert_true(sd_case_flow_overdue(&f, D(2026, 7, 9), &cal));
	flow_in(SD_CASE_REINVESTIGATION_REQUESTED, &f, &today);
	assert_true(sd_case_flow_overdue(&f, D(2026, 7, 9), &cal));
}

/* --- the acceptance paths ----------------------------------------------------------------- */

static void test_acceptance_paths(void **state)
{
	sd_case_flow_t f;
	sd_case_step_t s;

	(void)state;
	/* received -> extend -> refer(inspection) -> outcome -> object on day 5 -> reinvestigate
	 * -> outcome -> close */
	sd_case_flow_init(&f, RECEIVED);
	take(&f, SD_ACTION_EXTEND, D(2026, 3, 20));
	s = step_of(SD_ACTION_EXTEND, D(2026, 3, 21)); /* a second extension */
	refused(&f, &s, D(2026, 3, 21), SD_ERR_REFUSED,
	        "case is extended (a case is extended only once): the legal actions are refer, forward, terminate");
	take(&f, SD_ACTION_REFER, D(2026, 4, 1));
	assert_int_equal(f.kind, SD_REFER_INSPECTION);
	take(&f, SD_ACTION_OUTCOME, D(2026, 5, 4));
	take(&f, SD_ACTION_OBJECT, D(2026, 5, 9)); /* day 5 */
	take(&f, SD_ACTION_REINVESTIGATE, D(2026, 5, 15));
	take(&f, SD_ACTION_OUTCOME, D(2026, 6, 20)); /* Saturday: the window ends Monday 06-29 */
	assert_int_equal(f.state, SD_CASE_OUTCOME_NOTIFIED);
	assert_date(sd_case_flow_deadline(&f, &cal).due, 2026, 6, 29);
	s = step_of(SD_ACTION_CLOSE, D(2026, 6, 29)); /* before the window ended */
	refused(&f, &s, D(2026, 6, 29), SD_ERR_REFUSED,
	        "case is outcome-notified: the objection window is open until 2026-06-29, the legal actions are "
	        "object");
	take(&f, SD_ACTION_CLOSE, D(2026, 6, 30));
	assert_int_equal(f.state, SD_CASE_CLOSED);
	assert_int_equal(f.n_steps, 7);
	assert_int_equal(sd_case_flow_deadline(&f, &cal).kind, SD_DEADLINE_NONE);

	/* received -> terminate(no-evidence) */
	sd_case_flow_init(&f, RECEIVED);
	take(&f, SD_ACTION_TERMINATE, D(2026, 3, 30));
	assert_int_equal(f.state, SD_CASE_TERMINATED);
	assert_int_equal(sd_case_flow_legal(&f, D(2026, 3, 30), &cal), 0);

	/* received -> forward */
	sd_case_flow_init(&f, RECEIVED);
	take(&f, SD_ACTION_FORWARD, D(2026, 3, 30));
	assert_int_equal(f.state, SD_CASE_FORWARDED);
	assert_int_equal(sd_case_flow_deadline(&f, &cal).kind, SD_DEADLINE_NONE);
}

/* --- names ------------------------------------------------------------------------------------ */

static void test_names(void **state)
{
	static const char *const states[] = {
	        "received",   "extended",         "referred",        "forwarded",
	        "terminated", "outcome-notified", "objection-filed", "reinvestigation-requested",
	        "closed"};
	static const char *const actions[] = {"extend",  "refer",  "forward",       "terminate",
	                                      "outcome", "object", "reinvestigate", "close"};
	sd_case_state_t st;
	sd_case_action_t a;
	sd_refer_kind_t k;
	sd_terminate_reason_t r;

	(void)state;
	for (int i = 0; i < SD_CASE_STATE_COUNT; i++) {
		assert_string_equal(sd_case_state_name((sd_case_state_t)(i + 1)), states[i]);
		assert_true(sd_case_state_from_name(states[i], &st));
		assert_int_equal(st, i + 1);
	}
	for (int i = 0; i < SD_CASE_ACTION_COUNT; i++) {
		assert_string_equal(sd_case_action_name((sd_case_action_t)(i + 1)), actions[i]);
		assert_true(sd_case_action_from_name(actions[i], &a));
		assert_int_equal(a, i + 1);
		assert_int_equal(sd_case_action_is_officers(a), a != SD_ACTION_OBJECT);
	}
	assert_null(sd_case_state_name((sd_case_state_t)0));
	assert_null(sd_case_state_name((sd_case_state_t)10));
	assert_null(sd_case_action_name((sd_case_action_t)9));
	assert_false(sd_case_action_is_officers((sd_case_action_t)0));
	assert_false(sd_case_state_from_name("Received", &st));
	assert_false(sd_case_state_from_name(NULL, &st));
	assert_false(sd_case_action_from_name("", &a));
	assert_true(sd_refer_kind_from_name("investigation", &k));
	assert_int_equal(k, SD_REFER_INVESTIGATION);
	assert_string_equal(sd_refer_kind_name(SD_REFER_INSPECTION), "inspection");
	assert_null(sd_refer_kind_name((sd_refer_kind_t)3));
	assert_false(sd_refer_kind_from_name("audit", &k));
	assert_true(sd_terminate_reason_from_name("not-inspectable", &r));
	assert_int_equal(r, SD_TERMINATE_NOT_INSPECTABLE);
	assert_string_equal(sd_terminate_reason_name(SD_TERMINATE_UNRELATED), "unrelated");
	assert_string_equal(sd_terminate_reason_name(SD_TERMINATE_NO_EVIDENCE), "no-evidence");
	assert_false(sd_terminate_reason_from_name("no_evidence", &r));
	assert_string_equal(sd_deadline_kind_name(SD_DEADLINE_DECISION), "decision");
	assert_string_equal(sd_deadline_kind_name(SD_DEADLINE_OBJECTION), "objection");
	assert_string_equal(sd_deadline_kind_name(SD_DEADLINE_REINVESTIGATION), "reinvestigation");
	assert_null(sd_deadline_kind_name(SD_DEADLINE_NONE));
}

static int setup(void **state)
{
	if (unit_setup(state) != 0 || sd_config_defaults(&cal) != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sd_config_free(&cal);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_every_pair),
	        cmocka_unit_test(test_effects),
	        cmocka_unit_test(test_objection_window),
	        cmocka_unit_test(test_step_members),
	        cmocka_unit_test(test_step_dates),
	        cmocka_unit_test(test_steps_max),
	        cmocka_unit_test(test_deadlines),
	        cmocka_unit_test(test_deadline_shifts),
	        cmocka_unit_test(test_overdue),
	        cmocka_unit_test(test_acceptance_paths),
	        cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
