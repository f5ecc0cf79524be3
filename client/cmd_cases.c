/*
 * cmd_cases.c — the Commission officer's commands (docs/API.md, "Cases"; DESIGN.md, Case
 * workflow): `sealdrop cases` lists cases with their next deadline, `sealdrop case` shows
 * one case with its history, and `sealdrop transition` moves a case one step under the
 * Decree's Art. 8–12. An attorney's certificate works for the first two (their own
 * filings).
 *
 * The server decides what is legal and computes every deadline; the client only checks
 * its own arguments, asks, and prints. What it must not leave to the server: a text a
 * person wrote (a reason, an outcome summary) is sealed to the intake key of a directory
 * the pinned root signed before it is sent, and an agency must be one that directory
 * lists. Defaults for --server, --ca, --cert, --key and --root come from the per-user
 * config file (config.c). Start at cases_run(), case_run() and transition_run().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sealdrop/bytes.h"
#include "sealdrop/fileio.h"
#include "sealdrop/keys.h"
#include "sealdrop/receipt.h"
#include "sealdrop/sealbox.h"
#include "sealdrop/sealdrop.h"
#include "cli.h"
#include "https.h"

#define QUERY_MAX        192     /* a request path with its query */
#define CASES_LISTED_MAX 1000000 /* cases one listing holds for --json */
#define DUE_WITHIN_MAX   3650
#define ACTOR_SHOWN      16 /* hex digits of a fingerprint in the history */
#define FIELD_MAX        96 /* a server string shown in a table cell */
#define DETAIL_MAX       256
/* The server keeps a sealed text of at most 64 KiB (SD_CASE_TEXT_MAX, workflow.h). */
#define CASE_TEXT_MAX ((64u << 10) - SD_SEALBOX_OVERHEAD)
#define AGENCY_ID_MAX SD_AGENCY_ID_MAX
#define ROW_FORMAT    "%-11s  %-25s  %-10s  %-15s  %-10s  %9s  %7s%s\n"

static const char *const state_names[] = {
        "received",   "extended",         "referred",        "forwarded",
        "terminated", "outcome-notified", "objection-filed", "reinvestigation-requested",
        "closed",
};

static const cli_cmd_t cmd_list = {
        "cases",
        N_("usage: sealdrop cases [--state S] [--overdue] [--due-within DAYS] [--json]\n"
           "                      [--server URL --ca CA.pem --cert CERT.pem --key KEY.pem]\n"),
        N_("\n"
           "Lists cases, oldest first: number, state, receipt date, the next deadline (its kind and\n"
           "date) and the days left, with OVERDUE where the Commission's deadline has passed, then\n"
           "a count. An officer or custodian sees every case; an attorney sees their own filings\n"
           "(without the filters). Deadlines are the server's, in Korea Standard Time.\n"
           "\n"
           "  --state S               only cases in state S (received, extended, referred, forwarded,\n"
           "                          terminated, outcome-notified, objection-filed,\n"
           "                          reinvestigation-requested, closed)\n"
           "  --overdue               only cases whose Commission deadline has passed\n"
           "  --due-within DAYS       only cases with a deadline within DAYS days (0-3650)\n"
           "  --server URL            the server, https://HOST[:PORT]\n"
           "  --ca CA.pem             the server's CA certificate: the only one trusted\n"
           "  --cert CERT.pem         your client certificate (officer, custodian; attorney to read)\n"
           "  --key KEY.pem           its private key (keep it mode 0600)\n"
           "  --json                  print {\"cases\": [...]} as the server gives them\n"
           "  -h, --help              this help\n"
           "\n"
           "Options not given are taken from the config file $XDG_CONFIG_HOME/sealdrop/config\n"
           "(~/.config/sealdrop/config; SEALDROP_CONFIG=FILE names another): lines 'NAME VALUE' with\n"
           "NAME server, ca, cert, key, root or intake, absolute paths, whole-line '#' comments. The\n"
           "file must not be writable by others. Only cases, case, transition and fetch read it so far.\n"),
};

static const cli_cmd_t cmd_show = {
        "case",
        N_("usage: sealdrop case CASE [--json] [--server URL --ca CA.pem --cert CERT.pem --key KEY.pem]\n"),
        N_("\n"
           "Shows case CASE (YYYY-NNNNNN): its state, dates and deadlines, the actions legal now,\n"
           "and its history: every step with its date, action, details and the acting officer's\n"
           "certificate fingerprint (first 16 hex digits); then its notices, each with its number,\n"
           "date, kind and audit leaf ('sealdrop notices' verifies them and shows their text).\n"
           "Texts (reasons, summaries, notices) are sealed: the server cannot show them.\n"
           "\n"
           "  --server URL            the server, https://HOST[:PORT]\n"
           "  --ca CA.pem             the server's CA certificate: the only one trusted\n"
           "  --cert CERT.pem         your client certificate (officer, custodian; attorney to read)\n"
           "  --key KEY.pem           its private key (keep it mode 0600)\n"
           "  --json                  print the case as the server gives it\n"
           "  -h, --help              this help\n"
           "\n"
           "Options not given are taken from the config file $XDG_CONFIG_HOME/sealdrop/config\n"
           "(~/.config/sealdrop/config; SEALDROP_CONFIG=FILE names another): lines 'NAME VALUE' with\n"
           "NAME server, ca, cert, key, root or intake, absolute paths, whole-line '#' comments. The\n"
           "file must not be writable by others. Only cases, case, transition and fetch read it so far.\n"),
};

static const cli_cmd_t cmd_tr = {
        "transition",
        N_("usage: sealdrop transition CASE ACTION [ACTION'S OPTIONS] [--json]\n"
           "                           [--server URL --ca CA.pem --cert CERT.pem --key KEY.pem --root ROOTPUB]\n"
           "  ACTION: extend --reason TEXT | refer --agency ID --kind inspection|investigation\n"
           "        | forward --agency ID | terminate --reason unrelated|no-evidence|not-inspectable\n"
           "        | outcome --concluded YYYY-MM-DD --summary FILE | reinvestigate --reason TEXT | close\n"),
        N_("\n"
           "Moves case CASE one step (officer or custodian certificate):\n"
           "  extend         once, 30 more days for the decision (Art. 8(2)); --reason TEXT\n"
           "  refer          to an inspection or investigative agency (Art. 9(1))\n"
           "  forward        to the agency that handles it (Art. 10)\n"
           "  terminate      end the case (Art. 12) for the reason given\n"
           "  outcome        the agency's result and the date it concluded (Art. 11(2)-(3));\n"
           "                 --summary FILE holds the summary (at most 65488 bytes of UTF-8)\n"
           "  reinvestigate  after an objection (Art. 11-3(2)); --reason TEXT\n"
           "  close          once the objection window has passed\n"
           "Reasons and summaries are sealed on this machine to the intake key of the server's\n"
           "directory, which must verify against --root; the server never holds them in the\n"
           "clear. An agency must be listed in that directory. The server refuses an action that\n"
           "is not legal in the case's state and names those that are (exit 77). On success the\n"
           "new state and the next deadline are printed.\n"
           "\n"
           "  --server URL            the server, https://HOST[:PORT]\n"
           "  --ca CA.pem             the server's CA certificate: the only one trusted\n"
           "  --cert CERT.pem         your client certificate (officer, custodian; attorney to read)\n"
           "  --key KEY.pem           its private key (keep it mode 0600)\n"
           "  --root ROOTPUB          the pinned root public key the directory must be signed by\n"
           "                          (needed by every action but terminate and close)\n"
           "  --json                  print the case as the server gives it afterwards\n"
           "  -h, --help              this help\n"
           "\n"
           "Options not given are taken from the config file $XDG_CONFIG_HOME/sealdrop/config\n"
           "(~/.config/sealdrop/config; SEALDROP_CONFIG=FILE names another): lines 'NAME VALUE' with\n"
           "NAME server, ca, cert, key, root or intake, absolute paths, whole-line '#' comments. The\n"
           "file must not be writable by others. Only cases, case, transition and fetch read it so far.\n"),
};

enum {
	OPT_SERVER = 256,
	OPT_CA,
	OPT_CERT,
	OPT_KEY,
	OPT_ROOT,
	OPT_JSON,
	OPT_STATE,
	OPT_OVERDUE,
	OPT_DUE_WITHIN,
	OPT_REASON,
	OPT_AGENCY,
	OPT_KIND,
	OPT_CONCLUDED,
	OPT_SUMMARY,
};

/* --- shared: options, config, answers ----------------------------------------------------- */

/* What every command here holds: its options, filled from the config file. */
typedef struct {
	cli_remote_opts_t o;
	cli_config_t cfg;
	cli_remote_t *remote;
	bool json;
} net_t;

static void net_free(net_t *n)
{
	cli_remote_free(n->remote);
	n->remote = NULL;
	cli_config_free(&n->cfg);
}

/* After getopt: the config file fills what the command line left out (config.c). */
static int net_complete(const cli_cmd_t *cmd, net_t *n, bool need_root)
{
	return cli_remote_complete(cmd, &n->cfg, &n->o, need_root ? CLI_NEED_ROOT : 0);
}

/* A string member made fit for the terminal, or "-" when absent or not a string. */
static const char *field(json_t *o, const char *name, char *buf, size_t cap)
{
	const char *s = json_string_value(json_object_get(o, name));

	if (s == NULL || s[0] == '\0')
		return "-";
	return sd_error_printable(s, buf, cap);
}

/* The answer is about case num. */
static bool case_is(json_t *o, const char *num)
{
	const char *c = json_string_value(json_object_get(o, "case"));

	return c != NULL && strcmp(c, num) == 0;
}

static bool is_state_name(const char *s)
{
	for (size_t i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++)
		if (strcmp(s, state_names[i]) == 0)
			return true;
	return false;
}

/* "decision 2027-01-21 (60 days left)", "... (3 days late)", or "none (...)". */
static void deadline_text(json_t *c, char *out, size_t cap)
{
	json_t *d = json_object_get(c, "deadline");
	char kind[FIELD_MAX], due[FIELD_MAX];
	json_int_t left = json_integer_value(json_object_get(d, "days_left"));

	if (!json_is_object(d)) {
		snprintf(out, cap, "%s", _("none (terminated, closed, or waiting for the agency)"));
		return;
	}
	field(d, "kind", kind, sizeof(kind));
	field(d, "due", due, sizeof(due));
	if (!json_is_integer(json_object_get(d, "days_left")))
		snprintf(out, cap, "%s %s", kind, due);
	else if (left >= 0)
		snprintf(out, cap, left == 1 ? _("%s %s (%lld day left)") : _("%s %s (%lld days left)"), kind, due,
		         (long long)left);
	else
		snprintf(out, cap, left == -1 ? _("%s %s (%lld day late)") : _("%s %s (%lld days late)"), kind, due,
		         -(long long)left);
	if (json_is_false(json_object_get(d, "commission")))
		snprintf(out + strlen(out), cap - strlen(out), "%s", _(", the whistleblower's window"));
}

/* --- sealdrop cases ------------------------------------------------------------------------- */

typedef struct {
	net_t n;
	const char *state;
	const char *due_within;
	bool overdue;
} list_args_t;

typedef struct {
	const list_args_t *a;
	json_t *all; /* --json: every case */
	size_t count, overdue;
	char after[SD_CASE_NUMBER_BYTES];
} list_t;

static void list_path(const list_t *l, char *path, size_t cap)
{
	const list_args_t *a = l->a;
	size_t n = (size_t)snprintf(path, cap, "/v1/cases");
	char sep = '?';

	if (a->state != NULL && n < cap) {
		n += (size_t)snprintf(path + n, cap - n, "%cstate=%s", sep, a->state);
		sep = '&';
	}
	if (a->overdue && n < cap) {
		n += (size_t)snprintf(path + n, cap - n, "%coverdue=1", sep);
		sep = '&';
	}
	if (a->due_within != NULL && n < cap) {
		n += (size_t)snprintf(path + n, cap - n, "%cdue_within=%s", sep, a->due_within);
		sep = '&';
	}
	if (l->after[0] != '\0' && n < cap)
		snprintf(path + n, cap - n, "%cafter=%s", sep, l->after);
}

/* One row: the server's "deadline" object, or for an attorney's listing (which has none)
 * the decision date while a decision is due. */
static void list_row(json_t *c)
{
	char state[FIELD_MAX], received[FIELD_MAX], kind[FIELD_MAX], due[FIELD_MAX], left[24] = "-", notices[24] = "-";
	json_t *d = json_object_get(c, "deadline");
	const char *k = "-", *dd = "-";

	field(c, "state", state, sizeof(state));
	if (json_is_object(d)) {
		k = field(d, "kind", kind, sizeof(kind));
		dd = field(d, "due", due, sizeof(due));
		if (json_is_integer(json_object_get(d, "days_left")))
			snprintf(left, sizeof(left), "%lld",
			         (long long)json_integer_value(json_object_get(d, "days_left")));
	} else if (d == NULL && (strcmp(state, "received") == 0 || strcmp(state, "extended") == 0)) {
		k = "decision";
		dd = field(c, "decision_due", due, sizeof(due));
	}
	if (json_is_integer(json_object_get(c, "notices")))
		snprintf(notices, sizeof(notices), "%lld",
		         (long long)json_integer_value(json_object_get(c, "notices")));
	printf(ROW_FORMAT, json_string_value(json_object_get(c, "case")), state,
	       field(c, "received", received, sizeof(received)), k, dd, left, notices,
	       json_is_true(json_object_get(c, "overdue")) ? _("  OVERDUE") : "");
}

/* Each case of a page: a case number after the last one (so paging ends), then a row. */
static int list_page(list_t *l, json_t *cases)
{
	size_t i;
	json_t *c;

	json_array_foreach(cases, i, c)
	{
		const char *num = json_string_value(json_object_get(c, "case"));
		if (!json_is_object(c) || num == NULL || !sd_case_number_is_valid(num))
			return sd_error(CLI_ERR_PROTOCOL, _("the server listed a case without a valid case number"));
		if (l->after[0] != '\0' && strcmp(num, l->after) <= 0)
			return sd_error(CLI_ERR_PROTOCOL, _("the server listed case %s after %s: not in order"), num,
			                l->after);
		if (++l->count > CASES_LISTED_MAX)
			return sd_error(CLI_ERR_PROTOCOL, _("the server lists more than %d cases"), CASES_LISTED_MAX);
		snprintf(l->after, sizeof(l->after), "%s", num);
		l->overdue += json_is_true(json_object_get(c, "overdue"));
		if (l->a->n.json) {
			if (json_array_append(l->all, c) < 0)
				return SD_ERR_NOMEM;
			continue;
		}
		if (l->count == 1)
			printf(ROW_FORMAT, _("case"), _("state"), _("received"), _("deadline"), _("due"),
			       _("days left"), _("notices"), "");
		list_row(c);
	}
	return 0;
}

/* One GET: its cases, and whether there are more. */
/* The server's "after" (the last case it looked at, filtered or not) moves the next page
 * on: it must be a case number after the last one listed. */
static int list_after(list_t *l, const char *after)
{
	if (after == NULL)
		return 0;
	if (!sd_case_number_is_valid(after) || (l->after[0] != '\0' && strcmp(after, l->after) < 0))
		return sd_error(CLI_ERR_PROTOCOL, _("the server's list of cases goes on from '%.16s', not after %s"),
		                after, l->after);
	snprintf(l->after, sizeof(l->after), "%s", after);
	return 0;
}

static int list_fetch(list_t *l, bool *more)
{
	char path[QUERY_MAX];
	cli_https_response_t resp;
	json_t *o = NULL, *cases;
	int r;

	list_path(l, path, sizeof(path));
	if ((r = cli_remote_request(l->a->n.remote, "GET", path, NULL, &resp)) < 0)
		goto out;
	if (resp.status != 200) {
		r = cli_http_fail(&resp, _("the list of cases"));
		goto out;
	}
	if ((r = cli_answer_object(&resp, _("the list of cases"), &o)) < 0)
		goto out;
	cases = json_object_get(o, "cases");
	*more = json_is_true(json_object_get(o, "more"));
	if (!json_is_array(cases))
		r = sd_error(CLI_ERR_PROTOCOL, _("the server's list of cases has no \"cases\" array"));
	else if (*more && json_array_size(cases) == 0 && json_string_value(json_object_get(o, "after")) == NULL)
		r = sd_error(CLI_ERR_PROTOCOL, _("the server announced more cases but sent none"));
	else if ((r = list_page(l, cases)) == 0 && *more)
		r = list_after(l, json_string_value(json_object_get(o, "after")));
out:
	json_decref(o);
	cli_https_response_free(&resp);
	return r;
}

static int cases_run(list_args_t *a)
{
	list_t l = {.a = a};
	bool more = true;
	int r;

	if (a->n.json && (l.all = json_array()) == NULL)
		return SD_ERR_NOMEM;
	if ((r = cli_remote_open(&a->n.o, cmd_list.name, &a->n.remote)) < 0)
		goto out;
	while (more && r == 0)
		r = list_fetch(&l, &more);
	if (r < 0)
		goto out;
	if (a->n.json) {
		r = cli_json_print(json_pack("{s:O}", "cases", l.all));
		goto out;
	}
	if (l.count == 0)
		printf("%s\n", _("no cases"));
	else
		printf(l.count == 1 ? _("%zu case, %zu overdue\n") : _("%zu cases, %zu overdue\n"), l.count, l.overdue);
out:
	json_decref(l.all);
	return r;
}

/* --due-within DAYS: digits, 0-3650 (the server's bound). */
static int take_due_within(const char *v, void *dst)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0 || n > DUE_WITHIN_MAX || strlen(v) > 4)
		return cli_usage_error(&cmd_list, _("--due-within '%s' must be a whole number of days from 0 to %d"), v,
		                       DUE_WITHIN_MAX);
	*(const char **)dst = v;
	return 0;
}

int cmd_cases(int argc, char **argv)
{
	list_args_t a = {0};
	const cli_opt_t opts[] = {
	        {"state", OPT_STATE, .value = &a.state},
	        {"overdue", OPT_OVERDUE, .flag = &a.overdue},
	        {"due-within", OPT_DUE_WITHIN, .take = take_due_within, .dst = &a.due_within},
	        {"server", OPT_SERVER, .value = &a.n.o.server},
	        {"ca", OPT_CA, .value = &a.n.o.ca},
	        {"cert", OPT_CERT, .value = &a.n.o.cert},
	        {"key", OPT_KEY, .value = &a.n.o.key},
	        {"json", OPT_JSON, .flag = &a.n.json},
	        {0},
	};
	int r;

	if ((r = cli_getopt(&cmd_list, argc, argv, opts)) >= 0)
		return r;
	if (optind < argc)
		return cli_usage_error(&cmd_list, _("unexpected argument '%s'"), argv[optind]);
	if (a.state != NULL && !is_state_name(a.state))
		return cli_usage_error(&cmd_list, _("--state '%s' is not a state (see --help)"), a.state);
	if ((r = net_complete(&cmd_list, &a.n, false)) >= 0) {
		net_free(&a.n);
		return r;
	}
	if ((r = cases_run(&a)) < 0)
		r = cli_fail(cmd_list.name, r);
	net_free(&a.n);
	return r;
}

/* --- sealdrop case ------------------------------------------------------------------------ */

/* GET /v1/cases/{case}: the case's object, which must be that case. */
typedef struct {
	net_t n;
	const char *case_number;
} show_args_t;

static int case_fetch(cli_remote_t *rm, const char *num, json_t **out)
{
	char path[QUERY_MAX], what[64];
	cli_https_response_t resp;
	int r;

	*out = NULL;
	snprintf(path, sizeof(path), "/v1/cases/%s", num);
	snprintf(what, sizeof(what), _("case %s"), num);
	if ((r = cli_remote_request(rm, "GET", path, NULL, &resp)) < 0)
		goto out;
	if (resp.status != 200)
		r = cli_http_fail(&resp, what);
	else if ((r = cli_answer_object(&resp, what, out)) == 0 && !case_is(*out, num))
		r = sd_error(CLI_ERR_PROTOCOL, _("the server answered with another case than %s"), num);
out:
	if (r < 0) {
		json_decref(*out);
		*out = NULL;
	}
	cli_https_response_free(&resp);
	return r;
}

/* "inspection; agency police; concluded 2026-12-01; sealed text". */
static void step_details(json_t *s, char *out, size_t cap)
{
	static const char *const parts[] = {"kind", "agency", "reason", "concluded"};
	const char *label[] = {"", N_("agency "), "", N_("concluded ")};
	char v[FIELD_MAX];
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]) && n < cap; i++) {
		if (!json_is_string(json_object_get(s, parts[i])))
			continue;
		n += (size_t)snprintf(out + n, cap - n, "%s%s%s", n > 0 ? "; " : "",
		                      label[i][0] != '\0' ? _(label[i]) : "", field(s, parts[i], v, sizeof(v)));
	}
	if (json_is_true(json_object_get(s, "text")) && n < cap)
		n += (size_t)snprintf(out + n, cap - n, "%s%s", n > 0 ? "; " : "", _("text sealed to the intake key"));
	if (n == 0)
		snprintf(out, cap, "-");
}

static void case_history(json_t *c)
{
	json_t *h = json_object_get(c, "history"), *s;
	char date[FIELD_MAX], action[FIELD_MAX], actor[FIELD_MAX], details[DETAIL_MAX];
	size_t i;

	printf(_("history: %zu steps\n"), json_array_size(h));
	if (json_array_size(h) == 0)
		return;
	printf("  %4s  %-10s  %-13s  %-16s  %s\n", _("step"), _("date"), _("action"), _("actor"), _("details"));
	json_array_foreach(h, i, s)
	{
		const char *who = field(s, "actor", actor, sizeof(actor));
		if (json_is_null(json_object_get(s, "actor")))
			who = _("whistleblower");
		else if (strlen(actor) > ACTOR_SHOWN && who == actor)
			actor[ACTOR_SHOWN] = '\0';
		step_details(s, details, sizeof(details));
		printf("  %4lld  %-10s  %-13s  %-16s  %s\n", (long long)json_integer_value(json_object_get(s, "step")),
		       field(s, "date", date, sizeof(date)), field(s, "action", action, sizeof(action)), who, details);
	}
}

/* The actions legal now, "outcome, close", or "none". */
static void legal_text(json_t *c, char *out, size_t cap)
{
	json_t *v;
	size_t i, n = 0;
	char a[FIELD_MAX];

	out[0] = '\0';
	json_array_foreach(json_object_get(c, "legal"), i, v)
	{
		if (json_is_string(v) && n < cap)
			n += (size_t)snprintf(out + n, cap - n, "%s%s", n > 0 ? ", " : "",
			                      sd_error_printable(json_string_value(v), a, sizeof(a)));
	}
	if (n == 0)
		snprintf(out, cap, "%s", _("none"));
}

static void case_print(json_t *c)
{
	static const struct {
		const char *name, *format;
	} dates[] = {
	        {"concluded", N_("  concluded        %s (the agency's conclusion)\n")},
	        {"notified", N_("  result notice    %s\n")},
	        {"objected", N_("  objection        %s\n")},
	};
	char b1[FIELD_MAX], b2[FIELD_MAX], line[DETAIL_MAX];

	printf(_("case %s: %s\n"), field(c, "case", b1, sizeof(b1)), field(c, "state", b2, sizeof(b2)));
	printf(_("  received         %s\n"), field(c, "received", b1, sizeof(b1)));
	if (json_is_string(json_object_get(c, "attorney")))
		printf(_("  attorney         %s\n"), field(c, "attorney", b1, sizeof(b1)));
	printf(_("  header digest    %s\n"), field(c, "header_digest", b1, sizeof(b1)));
	/* The receipt's date; an extension moves it 30 days on, as the next deadline shows. */
	printf(json_is_true(json_object_get(c, "extended"))
	               ? _("  decision due     %s at receipt, extended once by 30 days (Art. 8(2))\n")
	               : _("  decision due     %s\n"),
	       field(c, "decision_due", b1, sizeof(b1)));
	deadline_text(c, line, sizeof(line));
	printf(_("  next deadline    %s%s\n"), line, json_is_true(json_object_get(c, "overdue")) ? _("  OVERDUE") : "");
	if (json_is_string(json_object_get(c, "agency")))
		printf(json_is_string(json_object_get(c, "kind")) ? _("  agency           %s (%s)\n")
		                                                  : _("  agency           %s\n"),
		       field(c, "agency", b1, sizeof(b1)), field(c, "kind", b2, sizeof(b2)));
	for (size_t i = 0; i < sizeof(dates) / sizeof(dates[0]); i++)
		if (json_is_string(json_object_get(c, dates[i].name)))
			printf(_(dates[i].format), field(c, dates[i].name, b1, sizeof(b1)));
	if (json_is_array(json_object_get(c, "legal"))) {
		legal_text(c, line, sizeof(line));
		printf(_("  legal actions    %s\n"), line);
	}
	case_history(c);
}

/* GET /v1/cases/{case}/notices: the list, set as c's "notices". */
static int case_notices_fetch(cli_remote_t *rm, const char *num, json_t *c)
{
	char path[QUERY_MAX], what[64];
	cli_https_response_t resp;
	json_t *doc = NULL, *list;
	int r;

	snprintf(path, sizeof(path), "/v1/cases/%s/notices", num);
	snprintf(what, sizeof(what), _("the notices of case %s"), num);
	if ((r = cli_remote_request(rm, "GET", path, NULL, &resp)) < 0)
		goto out;
	if (resp.status != 200)
		r = cli_http_fail(&resp, what);
	else if ((r = cli_answer_object(&resp, what, &doc)) == 0 &&
	         !json_is_array(list = json_object_get(doc, "notices")))
		r = sd_error(CLI_ERR_PROTOCOL, _("the server's answer for %s has no list of notices"), what);
	else if (r == 0 && json_object_set(c, "notices", list) < 0)
		r = SD_ERR_NOMEM;
out:
	json_decref(doc);
	cli_https_response_free(&resp);
	return r;
}

/* The notices' numbers, dates and kinds: their texts are sealed, and `sealdrop notices`
 * verifies and opens them. */
static void case_notices(json_t *c)
{
	json_t *list = json_object_get(c, "notices"), *e;
	char date[FIELD_MAX], kind[FIELD_MAX];
	size_t i;

	printf(_("notices: %zu (sealdrop notices %s verifies them and shows their text)\n"), json_array_size(list),
	       field(c, "case", date, sizeof(date)));
	json_array_foreach(list, i, e)
	{
		json_t *leaf = json_object_get(e, "leaf_index");
		printf("  %4lld  %-10s  %-16s  ", (long long)json_integer_value(json_object_get(e, "seq")),
		       field(e, "date", date, sizeof(date)), field(e, "kind", kind, sizeof(kind)));
		if (json_is_integer(leaf))
			printf(_("audit leaf %lld\n"), (long long)json_integer_value(leaf));
		else
			printf("%s\n", _("NOT in the audit log"));
	}
}

static int case_run(show_args_t *a)
{
	json_t *c = NULL;
	int r;

	if ((r = cli_remote_open(&a->n.o, cmd_show.name, &a->n.remote)) < 0 ||
	    (r = case_fetch(a->n.remote, a->case_number, &c)) < 0)
		return r;
	if ((r = case_notices_fetch(a->n.remote, a->case_number, c)) < 0) {
		json_decref(c);
		return r;
	}
	if (a->n.json)
		return cli_json_print(c);
	case_print(c);
	case_notices(c);
	json_decref(c);
	return 0;
}

int cmd_case(int argc, char **argv)
{
	show_args_t a = {0};
	const cli_opt_t opts[] = {
	        {"server", OPT_SERVER, .value = &a.n.o.server}, {"ca", OPT_CA, .value = &a.n.o.ca},
	        {"cert", OPT_CERT, .value = &a.n.o.cert},       {"key", OPT_KEY, .value = &a.n.o.key},
	        {"json", OPT_JSON, .flag = &a.n.json},          {0},
	};
	int r;

	if ((r = cli_getopt(&cmd_show, argc, argv, opts)) >= 0)
		return r;
	if ((r = cli_one_argument(&cmd_show, argc, argv, _("missing the CASE number"), &a.case_number)) != 0)
		return r;
	if (!sd_case_number_is_valid(a.case_number))
		return cli_usage_error(&cmd_show, _("'%s' is not a case number (YYYY-NNNNNN)"), a.case_number);
	if ((r = net_complete(&cmd_show, &a.n, false)) >= 0) {
		net_free(&a.n);
		return r;
	}
	if ((r = case_run(&a)) < 0)
		r = cli_fail(cmd_show.name, r);
	net_free(&a.n);
	return r;
}

/* --- sealdrop transition --------------------------------------------------------------------- */

/* What an action takes. */
enum { T_REASON_TEXT = 1, T_REASON_WORD = 2, T_AGENCY = 4, T_KIND = 8, T_CONCLUDED = 16, T_SUMMARY = 32 };

static const struct {
	const char *name;
	unsigned takes;
} actions[] = {
        {"extend", T_REASON_TEXT},
        {"refer", T_AGENCY | T_KIND},
        {"forward", T_AGENCY},
        {"terminate", T_REASON_WORD},
        {"outcome", T_CONCLUDED | T_SUMMARY},
        {"reinvestigate", T_REASON_TEXT},
        {"close", 0},
};

static const char *const refer_kinds[] = {"inspection", "investigation", NULL};
static const char *const terminate_reasons[] = {"unrelated", "no-evidence", "not-inspectable", NULL};

typedef struct {
	net_t n;
	const char *case_number, *action, *reason, *agency, *kind, *concluded, *summary;
	unsigned takes;
} tr_args_t;

/* Everything one transition holds; released by tr_free. */
typedef struct {
	const tr_args_t *a;
	sd_directory_t *dir;
	uint8_t *text; /* the plaintext to seal (the summary file's, or a copy of --reason) */
	size_t text_len;
	json_t *body, *answer;
} tr_t;

static void tr_free(tr_t *t)
{
	sd_directory_free(t->dir);
	if (t->text != NULL)
		sd_wipe(t->text, t->text_len);
	free(t->text);
	json_decref(t->body);
	json_decref(t->answer);
}

static bool word_is_one_of(const char *w, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(w, *list) == 0)
			return true;
	return false;
}

/* The text to seal: --reason, or the --summary file; UTF-8, not empty, at most
 * CASE_TEXT_MAX bytes. */
static int text_load(tr_t *t)
{
	const tr_args_t *a = t->a;
	const char *what = a->summary != NULL ? "--summary" : "--reason";
	int r;

	if (a->summary != NULL) {
		if ((r = sd_file_read(a->summary, CASE_TEXT_MAX, &t->text, &t->text_len)) < 0)
			return cli_error_prefix(r == SD_ERR_TOOBIG ? SD_ERR_INVALID : r, "--summary %s", a->summary);
	} else {
		t->text_len = strlen(a->reason);
		if (t->text_len > CASE_TEXT_MAX)
			return sd_error(SD_ERR_INVALID, _("--reason is longer than %u bytes"), CASE_TEXT_MAX);
		if ((t->text = malloc(t->text_len + 1)) == NULL)
			return SD_ERR_NOMEM;
		memcpy(t->text, a->reason, t->text_len + 1);
	}
	if (t->text_len == 0)
		return sd_error(SD_ERR_INVALID, _("%s is empty"), what);
	if (!sd_utf8_is_valid((const char *)t->text, t->text_len))
		return sd_error(SD_ERR_INVALID, _("%s is not UTF-8 text"), what);
	return 0;
}

/* The agency must be one the verified directory lists. */
static int agency_check(const tr_t *t)
{
	char known[DETAIL_MAX] = "";
	size_t n = 0;

	if (sd_directory_find_agency(t->dir, t->a->agency) != NULL)
		return 0;
	for (size_t i = 0; i < t->dir->n_agencies && n < sizeof(known); i++)
		n += (size_t)snprintf(known + n, sizeof(known) - n, "%s%s", i > 0 ? ", " : "", t->dir->agencies[i].id);
	if (t->dir->n_agencies == 0)
		return sd_error(SD_ERR_REFUSED, _("the directory lists no agencies: '%s' cannot be used"),
		                t->a->agency);
	return sd_error(SD_ERR_REFUSED, _("the directory lists no agency '%s' (it lists: %s)"), t->a->agency, known);
}

/* Seals the text to the directory's intake key and puts its base64 in the body. */
static int text_seal(tr_t *t)
{
	uint8_t *sealed = NULL;
	size_t len = 0;
	char *b64 = NULL;
	int r;

	if ((r = sd_sealbox_seal(&t->dir->intake, t->text, t->text_len, &sealed, &len)) < 0)
		return cli_error_prefix(r, _("sealing the text to the intake key"));
	r = SD_ERR_NOMEM;
	if ((b64 = malloc(sd_base64_len(len))) != NULL) {
		sd_base64_encode(sealed, len, b64);
		r = json_object_set_new(t->body, "text", json_string(b64)) == 0 ? 0 : SD_ERR_NOMEM;
	}
	free(b64);
	free(sealed);
	return r;
}

/* {"action", and only the members the action takes}. */
static int body_build(tr_t *t)
{
	const tr_args_t *a = t->a;
	int r = 0;

	if ((t->body = json_pack("{s:s}", "action", a->action)) == NULL)
		return SD_ERR_NOMEM;
	if (a->takes & T_REASON_WORD)
		r |= json_object_set_new(t->body, "reason", json_string(a->reason));
	if (a->takes & T_AGENCY)
		r |= json_object_set_new(t->body, "agency", json_string(a->agency));
	if (a->takes & T_KIND)
		r |= json_object_set_new(t->body, "kind", json_string(a->kind));
	if (a->takes & T_CONCLUDED)
		r |= json_object_set_new(t->body, "concluded", json_string(a->concluded));
	if (r != 0)
		return SD_ERR_NOMEM;
	return t->text != NULL ? text_seal(t) : 0;
}

/* 409 illegal_transition: the server's sentence names the legal actions (and the case,
 * which is added when it does not). */
static int tr_refused(const cli_https_response_t *resp, const char *num)
{
	json_t *o = NULL, *v;
	char legal[DETAIL_MAX] = "";
	size_t i, n = 0;

	if (resp->message[0] != '\0' && strstr(resp->message, num) != NULL)
		return sd_error(SD_ERR_REFUSED, "%s", resp->message);
	if (resp->message[0] != '\0')
		return sd_error(SD_ERR_REFUSED, _("case %s: %s"), num, resp->message);
	if (resp->body != NULL)
		o = json_loadb((const char *)resp->body, resp->body_len, 0, NULL);
	json_array_foreach(json_object_get(o, "legal"), i, v)
	{
		if (json_is_string(v) && n < sizeof(legal))
			n += (size_t)snprintf(legal + n, sizeof(legal) - n, "%s%s", n > 0 ? ", " : "",
			                      json_string_value(v));
	}
	json_decref(o);
	sd_error_printable(legal, legal, sizeof(legal));
	return sd_error(SD_ERR_REFUSED, _("case %s: the action is not legal now; the legal actions are: %s"), num,
	                n > 0 ? legal : _("none"));
}

static int tr_post(tr_t *t)
{
	char path[QUERY_MAX], what[64];
	cli_https_response_t resp;
	int r;

	snprintf(path, sizeof(path), "/v1/cases/%s/transition", t->a->case_number);
	snprintf(what, sizeof(what), _("the transition of case %s"), t->a->case_number);
	if ((r = cli_remote_request(t->a->n.remote, "POST", path, t->body, &resp)) < 0)
		goto out;
	if (resp.status == 409 && strcmp(resp.error, "illegal_transition") == 0)
		r = tr_refused(&resp, t->a->case_number);
	else if (resp.status != 200)
		r = cli_http_fail(&resp, what);
	else if ((r = cli_answer_object(&resp, what, &t->answer)) == 0 && !case_is(t->answer, t->a->case_number))
		r = sd_error(CLI_ERR_PROTOCOL, _("the server answered with another case than %s"), t->a->case_number);
out:
	cli_https_response_free(&resp);
	return r;
}

static int tr_report(tr_t *t)
{
	char state[FIELD_MAX], line[DETAIL_MAX];

	if (t->a->n.json) {
		json_t *answer = t->answer;
		t->answer = NULL;
		return cli_json_print(answer);
	}
	deadline_text(t->answer, line, sizeof(line));
	printf(_("case %s: %s done; the case is now %s\n"), t->a->case_number, t->a->action,
	       field(t->answer, "state", state, sizeof(state)));
	printf(_("  next deadline    %s\n"), line);
	return 0;
}

static int transition_run(tr_args_t *a)
{
	tr_t t = {.a = a};
	int r;

	if ((a->takes & (T_REASON_TEXT | T_SUMMARY)) && (r = text_load(&t)) < 0)
		goto out;
	if ((r = cli_remote_open(&a->n.o, cmd_tr.name, &a->n.remote)) < 0)
		goto out;
	if (a->takes & (T_REASON_TEXT | T_SUMMARY | T_AGENCY)) {
		if ((r = cli_remote_directory(a->n.remote, &t.dir)) < 0)
			goto out;
		if (t.dir->test)
			cli_directory_warn_test();
		if ((a->takes & T_AGENCY) && (r = agency_check(&t)) < 0)
			goto out;
	}
	if ((r = body_build(&t)) < 0 || (r = tr_post(&t)) < 0)
		goto out;
	r = tr_report(&t);
out:
	tr_free(&t);
	return r;
}

/* The options given against what the action takes. 0, or the usage exit status. */
static int tr_check_options(tr_args_t *a)
{
	const struct {
		unsigned bit;
		const char *opt, *value;
	} o[] = {
	        {T_REASON_TEXT | T_REASON_WORD, "--reason", a->reason},
	        {T_AGENCY, "--agency", a->agency},
	        {T_KIND, "--kind", a->kind},
	        {T_CONCLUDED, "--concluded", a->concluded},
	        {T_SUMMARY, "--summary", a->summary},
	};
	sd_date_t d;

	for (size_t i = 0; i < sizeof(o) / sizeof(o[0]); i++) {
		if (o[i].value != NULL && !(a->takes & o[i].bit))
			return cli_usage_error(&cmd_tr, _("%s does not go with %s"), o[i].opt, a->action);
		if (o[i].value == NULL && (a->takes & o[i].bit))
			return cli_usage_error(&cmd_tr, _("%s needs %s"), a->action, o[i].opt);
	}
	if ((a->takes & T_REASON_WORD) && !word_is_one_of(a->reason, terminate_reasons))
		return cli_usage_error(&cmd_tr, _("--reason '%s' must be unrelated, no-evidence or not-inspectable"),
		                       a->reason);
	if ((a->takes & T_KIND) && !word_is_one_of(a->kind, refer_kinds))
		return cli_usage_error(&cmd_tr, _("--kind '%s' must be inspection or investigation"), a->kind);
	if ((a->takes & T_AGENCY) && (a->agency[0] == '\0' || strlen(a->agency) > AGENCY_ID_MAX))
		return cli_usage_error(&cmd_tr, _("--agency '%s' is not an agency id"), a->agency);
	if ((a->takes & T_CONCLUDED) && sd_date_parse(a->concluded, &d) < 0)
		return cli_usage_error(&cmd_tr, _("--concluded '%s' is not a date YYYY-MM-DD"), a->concluded);
	return 0;
}

/* CASE ACTION: the case number and a known officer's action. 0 or the usage status. */
static int tr_operands(tr_args_t *a, int argc, char **argv)
{
	size_t i;

	if (argc - optind < 2)
		return cli_usage_error(&cmd_tr, "%s",
		                       optind == argc ? _("missing the CASE number") : _("missing the ACTION"));
	if (argc - optind > 2)
		return cli_usage_error(&cmd_tr, _("unexpected argument '%s'"), argv[optind + 2]);
	a->case_number = argv[optind];
	a->action = argv[optind + 1];
	if (!sd_case_number_is_valid(a->case_number))
		return cli_usage_error(&cmd_tr, _("'%s' is not a case number (YYYY-NNNNNN)"), a->case_number);
	if (strcmp(a->action, "object") == 0)
		return cli_usage_error(&cmd_tr,
		                       _("object is the whistleblower's action (sealdrop object), not an officer's"));
	for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(a->action, actions[i].name) == 0)
			break;
	if (i == sizeof(actions) / sizeof(actions[0]))
		return cli_usage_error(
		        &cmd_tr,
		        _("unknown ACTION '%s' (extend, refer, forward, terminate, outcome, reinvestigate "
		          "or close)"),
		        a->action);
	a->takes = actions[i].takes;
	return tr_check_options(a);
}

int cmd_transition(int argc, char **argv)
{
	tr_args_t a = {0};
	const cli_opt_t opts[] = {
	        {"reason", OPT_REASON, .value = &a.reason},
	        {"agency", OPT_AGENCY, .value = &a.agency},
	        {"kind", OPT_KIND, .value = &a.kind},
	        {"concluded", OPT_CONCLUDED, .value = &a.concluded},
	        {"summary", OPT_SUMMARY, .value = &a.summary},
	        {"server", OPT_SERVER, .value = &a.n.o.server},
	        {"ca", OPT_CA, .value = &a.n.o.ca},
	        {"cert", OPT_CERT, .value = &a.n.o.cert},
	        {"key", OPT_KEY, .value = &a.n.o.key},
	        {"root", OPT_ROOT, .value = &a.n.o.root},
	        {"json", OPT_JSON, .flag = &a.n.json},
	        {0},
	};
	int r;

	if ((r = cli_getopt(&cmd_tr, argc, argv, opts)) >= 0)
		return r;
	if ((r = tr_operands(&a, argc, argv)) != 0)
		return r;
	if ((r = net_complete(&cmd_tr, &a.n, (a.takes & (T_REASON_TEXT | T_SUMMARY | T_AGENCY)) != 0)) >= 0) {
		net_free(&a.n);
		return r;
	}
	if ((r = transition_run(&a)) < 0)
		r = cli_fail(cmd_tr.name, r);
	net_free(&a.n);
	return r;
}
