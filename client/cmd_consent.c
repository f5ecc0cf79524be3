/*
 * cmd_consent.c — the whistleblower's consent to release their identity and the attorney's
 * relay (DESIGN.md, "Consent-gated identity release"; docs/API.md, "Consent and identity
 * release"):
 *
 *   sealdrop consent grant    sign a consent (online through the codename session, or
 *                             offline into an .sdc file the attorney relays)
 *   sealdrop consent revoke   sign a revocation of one consent or of all (the same two ways)
 *   sealdrop consent list     the case's consents as the server lists them
 *   sealdrop relay FILE.sdc   the filing attorney hands in an offline consent or revocation
 *
 * Every record is made by crypto/consent.c from the codename's keys and the package header;
 * the grantee key comes only from the verified directory. Nothing is signed before the
 * Art. 7(2) explanation was shown and confirmed on the terminal (or --yes was given).
 * The header comes from --package PKG.sdx, or, online, from the status answer when the
 * server carries it there ("header" of each case).
 *
 * Start at cmd_consent() and grant_run(); the session code is cmd_status.c's (cli_wb_*).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "sealdrop/bytes.h"
#include "sealdrop/consent.h"
#include "sealdrop/fileio.h"
#include "sealdrop/hash.h"
#include "sealdrop/receipt.h"
#include "sealdrop/sealdrop.h"
#include "cli.h"
#include "https.h"

#define FIELD_MAX  96
#define ANSWER_MAX 8 /* "yes" and a little */

static const cli_cmd_t grant_cmd = {
        "consent grant",
        N_("usage: sealdrop consent grant --scope commission|agency:ID [--expires 30d] [--case CASE]\n"
           "                              [--package PKG.sdx] [--server URL --ca CA.pem]\n"
           "                              [--directory D] --root ROOTPUB [--codename-file F] [--yes] [--json]\n"
           "       sealdrop consent grant --package PKG.sdx --out FILE.sdc --scope ... [--expires 30d]\n"
           "                              --directory D --root ROOTPUB [--codename-file F] [--yes] [--json]\n"),
        N_("\n"
           "Consents to the release of your identity to the Commission (--scope commission) or to\n"
           "one agency of the directory (--scope agency:ID), for a limited time (--expires, 1 to\n"
           "365 days, default 30). Before anything is signed, the consent is explained (what it\n"
           "allows, to whom, until when, how to revoke it: Decree Art. 7(2)) and you are asked to\n"
           "confirm on the terminal. The consent is signed on this machine with your codename; the\n"
           "grantee's key is taken only from the signed directory.\n"
           "\n"
           "Online (no --out) the consent goes to the server through your codename session. Offline\n"
           "(--out FILE.sdc, which needs --package) nothing is sent: hand the file to your attorney,\n"
           "who relays it with 'sealdrop relay FILE.sdc'.\n"
           "\n"
           "  --scope S               commission, or agency:ID (an agency of the directory)\n"
           "  --expires Nd            the consent ends after N days (1..365; default 30d)\n"
           "  --package PKG.sdx       the sealed package (its header names your share); online,\n"
           "                          without it the server's status must carry the header\n"
           "  --case CASE             which of your cases (online, without --package, when several)\n"
           "  --out FILE.sdc          offline: write the consent file here (never overwritten)\n"
           "  --yes                   do not ask for confirmation (scripts; you accept the\n"
           "                          explanation printed on standard error)\n"),
};

static const cli_cmd_t revoke_cmd = {
        "consent revoke",
        N_("usage: sealdrop consent revoke (--consent ID | --all) [--case CASE] [--package PKG.sdx]\n"
           "                               [--server URL --ca CA.pem] [--directory D] --root ROOTPUB\n"
           "                               [--codename-file F] [--yes] [--json]\n"
           "       sealdrop consent revoke (--consent ID | --all) --package PKG.sdx --out FILE.sdc\n"
           "                               --directory D --root ROOTPUB [--codename-file F] [--yes]\n"),
        N_("\n"
           "Revokes one consent (its id, as 'sealdrop consent list' shows it) or every consent of\n"
           "the case. The server then deletes the stored release: nothing it holds opens your\n"
           "identity any more. What a grantee already opened cannot be taken back. Online (no\n"
           "--out) through your codename session; offline into a file your attorney relays.\n"
           "\n"
           "  --consent ID            the consent to revoke (64 hex digits)\n"
           "  --all                   every consent of the case\n"
           "  --package PKG.sdx       the sealed package (needed offline)\n"
           "  --case CASE             which of your cases (online, without --package, when several)\n"
           "  --out FILE.sdc          offline: write the revocation file here\n"
           "  --yes                   do not ask for confirmation\n"),
};

static const cli_cmd_t list_cmd = {
        "consent list",
        N_("usage: sealdrop consent list [--case CASE] [--server URL --ca CA.pem] [--directory D]\n"
           "                             --root ROOTPUB [--codename-file F] [--json]\n"),
        N_("\n"
           "Lists the consents of your cases as the server holds them: id, scope, issued,\n"
           "expires, accepted, who handed it in, and whether it is live or revoked. 'sealdrop\n"
           "status' shows the same with every identity access, checked against the audit log.\n"
           "\n"
           "  --case CASE             only this case\n"),
};

static const char consent_tail_help[] =
        N_("  --json                  print the result as one JSON object\n"
           "  -h, --help              this help\n"
           "\n"
           "--server, --ca and --root are taken from the config file when not given (see 'sealdrop\n"
           "status --help'); no certificate is sent. Exit status: 0, 64 usage (also: no terminal\n"
           "to confirm on and no --yes), 65 bad data, 69 unavailable, 73 the output exists, 76\n"
           "protocol error, 77 refused by the server (its reason is printed).\n");

static const cli_cmd_t relay_cmd = {
        "relay",
        N_("usage: sealdrop relay FILE.sdc [--server URL --ca CA.pem --cert CERT --key KEY] [--json]\n"),
        N_("\n"
           "Hands in a whistleblower's offline consent or revocation file (made with 'sealdrop\n"
           "consent grant --out' or 'consent revoke --out') for a case you filed (attorney\n"
           "certificate). The file is checked for form here; the server checks its signature\n"
           "against the package you filed and records the outcome in the audit log.\n"
           "\n"
           "  --server URL            the server\n"
           "  --ca CA.pem             the server's CA certificate\n"
           "  --cert CERT --key KEY   your attorney certificate and key\n"
           "  --json                  print the server's answer\n"
           "  -h, --help              this help\n"
           "\n"
           "Exit status: 0, 64 usage, 65 the file is malformed, 69 unavailable, 76 protocol error,\n"
           "77 refused (another attorney's case, a replayed, expired or invalid consent).\n"),
};

enum {
	OPT_SERVER = 256,
	OPT_CA,
	OPT_DIRECTORY,
	OPT_ROOT,
	OPT_CODENAME_FILE,
	OPT_JSON,
	OPT_SCOPE,
	OPT_EXPIRES,
	OPT_PACKAGE,
	OPT_CASE,
	OPT_OUT,
	OPT_YES,
	OPT_CONSENT,
	OPT_ALL,
	OPT_CERT,
	OPT_KEY,
};

typedef struct {
	cli_wb_t w;
	const char *package, *out, *scope, *expires, *case_number, *consent_hex;
	bool yes, all;
	uint32_t days;
	uint8_t consent_id[SD_CONSENT_ID_BYTES];
	sd_header_t *h;
	json_t *status; /* the status answer, when it was asked for */
} consent_t;

static void consent_free(consent_t *cs)
{
	sd_header_free(cs->h);
	json_decref(cs->status);
	cli_wb_free(&cs->w);
}

/* --- options --------------------------------------------------------------------------- */

/* "30d" or "30": 1..SD_CONSENT_MAX_DAYS. */
static int days_parse(const char *s, uint32_t *out)
{
	char *end = NULL;
	unsigned long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	v = strtoul(s, &end, 10);
	if (*end == 'd')
		end++;
	if (*end != '\0' || v < 1 || v > SD_CONSENT_MAX_DAYS)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* Offline: --directory and --root (the config file may give the root), no server. */
static int offline_complete(consent_t *cs)
{
	int r;

	sd_error_clear();
	if ((r = cli_config_load(&cs->w.cfg)) < 0)
		return cli_fail(cs->w.cmd->name, r);
	if (cs->w.o.root == NULL)
		cs->w.o.root = cs->w.cfg.value[CLI_CONFIG_ROOT];
	if (cs->package == NULL)
		return cli_usage_error(cs->w.cmd, "%s",
		                       _("--out needs --package PKG.sdx (offline, nothing is fetched)"));
	if (cs->w.dir_path == NULL || cs->w.o.root == NULL)
		return cli_usage_error(cs->w.cmd, "%s", _("offline (--out) needs --directory D and --root ROOTPUB"));
	if (cs->w.o.server != NULL)
		return cli_usage_error(cs->w.cmd, "%s", _("--out writes a file and sends nothing: leave out --server"));
	return -1;
}

/* The checks every subcommand shares after getopt: -1 to go on, else the exit status. */
static int common_complete(consent_t *cs, int argc, char **argv)
{
	int tty;

	if (optind < argc)
		return cli_usage_error(cs->w.cmd, _("unexpected argument '%s'"), argv[optind]);
	if (cs->case_number != NULL && !sd_case_number_is_valid(cs->case_number))
		return cli_usage_error(cs->w.cmd, _("'%s' is not a case number (YYYY-NNNNNN)"), cs->case_number);
	if (cs->out != NULL && cli_check_absent(cs->out) < 0)
		return cli_fail(cs->w.cmd->name, SD_ERR_EXISTS);
	if (cs->w.cmd != &list_cmd && !cs->yes) {
		if ((tty = cli_tty_open()) < 0)
			return cli_usage_error(
			        cs->w.cmd, "%s",
			        _("no terminal to confirm on: read 'sealdrop consent --help' and give --yes"));
		close(tty);
	}
	return cs->out != NULL ? offline_complete(cs) : cli_wb_complete(&cs->w);
}

/* --- the package header ----------------------------------------------------------------- */

static int header_from_file(consent_t *cs)
{
	int fd = open(cs->package, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return sd_error(SD_ERR_NOENT, _("cannot open --package %s"), cs->package);
	r = sd_header_read(fd, &cs->h);
	close(fd);
	if (r < 0)
		return cli_error_prefix(r, "%s", cs->package);
	return 0;
}

/* The case the command is about in the status answer: --case, else the only one. */
static int status_case(consent_t *cs, json_t **out)
{
	json_t *cases = json_object_get(cs->status, "cases"), *c;
	size_t i;

	*out = NULL;
	if (!json_is_array(cases))
		return sd_error(CLI_ERR_PROTOCOL, "%s", _("the server's answer has no \"cases\" list"));
	if (cs->case_number == NULL && json_array_size(cases) != 1)
		return sd_error(SD_ERR_USAGE, _("your codename has %zu cases: say which with --case CASE"),
		                json_array_size(cases));
	json_array_foreach(cases, i, c)
	{
		const char *n = json_string_value(json_object_get(c, "case"));
		if (cs->case_number == NULL || (n != NULL && strcmp(n, cs->case_number) == 0)) {
			*out = c;
			return 0;
		}
	}
	return sd_error(SD_ERR_REFUSED, _("no case %s is filed under this codename"), cs->case_number);
}

/* Online without --package: the header the status answer carries for the case. */
static int header_from_status(consent_t *cs)
{
	const char *b64;
	uint8_t *raw = NULL;
	size_t n, len;
	json_t *c;
	int r;

	if ((r = cli_wb_status(&cs->w, &cs->status)) < 0 || (r = status_case(cs, &c)) < 0)
		return r;
	if ((b64 = json_string_value(json_object_get(c, "header"))) == NULL)
		return sd_error(SD_ERR_USAGE, "%s",
		                _("this server does not give the package header to the whistleblower: give --package "
		                  "PKG.sdx (the package you sealed)"));
	n = strlen(b64);
	len = n / 4 * 3;
	if (n == 0 || n % 4 != 0 || len > SD_SDX_MAX_HEADER + 3 || (raw = malloc(len)) == NULL)
		return n == 0 || n % 4 != 0 || len > SD_SDX_MAX_HEADER + 3
		               ? sd_error(CLI_ERR_PROTOCOL, "%s", _("the server's package header is not base64"))
		               : SD_ERR_NOMEM;
	len -= (b64[n - 1] == '=') + (b64[n - 2] == '=');
	if (sd_base64_decode_exact(b64, raw, len) < 0)
		r = sd_error(CLI_ERR_PROTOCOL, "%s", _("the server's package header is not base64"));
	else if ((r = sd_header_parse(raw, len, &cs->h)) < 0)
		r = cli_error_prefix(r, "%s", _("the server's package header"));
	free(raw);
	return r;
}

/* The directory and the codename's keys, then the header, checked to be this
 * deployment's. Online: the connection too. */
static int prepare(consent_t *cs)
{
	int r;

	if (cs->out != NULL)
		r = cli_directory_load(cs->w.dir_path, cs->w.o.root, &cs->w.dir);
	else
		r = cli_wb_open(&cs->w);
	if (r < 0 || (r = cli_wb_keys(&cs->w)) < 0)
		return r;
	r = cs->package != NULL ? header_from_file(cs) : header_from_status(cs);
	if (r == 0 && (r = sd_header_check_deployment(cs->h, cs->w.dir)) < 0)
		r = cli_error_prefix(r, "%s", _("the package"));
	return r;
}

/* --- confirmation ---------------------------------------------------------------------- */

/* The explanation on stderr with --yes; else on the terminal, then "yes" typed back. */
static int confirm(const consent_t *cs, const char *text, const char *question)
{
	char answer[ANSWER_MAX + 1];
	size_t n = 0;
	int tty;
	char ch;

	if (cs->yes) {
		fprintf(stderr, "%s\n", text);
		return 0;
	}
	if ((tty = cli_tty_open()) < 0)
		return sd_error(SD_ERR_USAGE, "%s", _("no terminal to confirm on: give --yes"));
	if (sd_write_full(tty, text, strlen(text)) < 0 || sd_write_full(tty, "\n", 1) < 0 ||
	    sd_write_full(tty, question, strlen(question)) < 0) {
		close(tty);
		return sd_error(SD_ERR_IO, "%s", _("cannot write to the terminal"));
	}
	while (read(tty, &ch, 1) == 1 && ch != '\n')
		if (n < ANSWER_MAX)
			answer[n++] = ch;
	close(tty);
	answer[n] = '\0';
	if (strcmp(answer, "yes") != 0 && strcmp(answer, "YES") != 0)
		return sd_error(SD_ERR_CANCELLED, "%s", _("not confirmed: nothing was signed"));
	return 0;
}

/* --- handing the file in, or writing it ----------------------------------------------- */

static int file_write(const consent_t *cs, const char *text)
{
	int r = sd_file_write(cs->out, text, strlen(text), 0600, SD_AFILE_NOCLOBBER);

	return r < 0 ? cli_error_prefix(r, "%s", cs->out) : 0;
}

/* POST /v1/wb/consents {"session", "file"} with a fresh session. */
static int file_send(consent_t *cs, const char *text, json_t **answer)
{
	json_t *session = NULL, *file = json_loads(text, JSON_REJECT_DUPLICATES, NULL), *body = NULL;
	int r;

	if (file == NULL)
		return SD_ERR_NOMEM;
	if ((r = cli_wb_session(&cs->w, &session)) == 0) {
		if ((body = json_pack("{s:O, s:O}", "session", session, "file", file)) == NULL)
			r = SD_ERR_NOMEM;
		else
			r = cli_wb_call(&cs->w, "POST", "/v1/wb/consents", body, _("the consent"), answer);
	}
	json_decref(session);
	json_decref(file);
	json_decref(body);
	return r;
}

static const char *field(json_t *o, const char *name, char *buf, size_t cap)
{
	const char *v = json_string_value(json_object_get(o, name));

	return v != NULL ? sd_error_printable(v, buf, cap) : "-";
}

/* A consent the server accepted (201), as either route answers. */
static void accepted_print(json_t *a)
{
	char id[FIELD_MAX], cn[FIELD_MAX], scope[FIELD_MAX], from[FIELD_MAX], to[FIELD_MAX];

	printf(_("consent %s accepted for case %s\n"), field(a, "consent_id", id, sizeof(id)),
	       field(a, "case", cn, sizeof(cn)));
	printf(_("  scope    %s\n  valid    %s through %s\n"), field(a, "scope", scope, sizeof(scope)),
	       field(a, "issued", from, sizeof(from)), field(a, "expires", to, sizeof(to)));
}

/* A revocation the server carried out (200). */
static void revoked_print(json_t *a)
{
	char cn[FIELD_MAX], id[FIELD_MAX];
	json_t *ids = json_object_get(a, "revoked"), *e;
	size_t i;

	printf(_("revocation accepted for case %s: %zu consent(s) ended\n"), field(a, "case", cn, sizeof(cn)),
	       json_array_size(ids));
	json_array_foreach(ids, i, e) printf("  %s\n", sd_error_printable(json_string_value(e), id, sizeof(id)));
}

/* --- consent grant --------------------------------------------------------------------- */

static int grant_offline_report(const consent_t *cs, const sd_consent_t *c)
{
	uint8_t id[SD_CONSENT_ID_BYTES];
	char hex[2 * SD_CONSENT_ID_BYTES + 1], scope[SD_CONSENT_SCOPE_MAX], to[SD_DATE_TEXT_BYTES];
	int r;

	if ((r = sd_consent_id(c, id)) < 0)
		return r;
	sd_hex_encode(id, sizeof(id), hex);
	sd_consent_scope_text(c, scope);
	sd_date_format(c->expires, to);
	if (cs->w.json)
		return cli_json_print(json_pack("{s:s, s:s, s:s, s:s}", "file", cs->out, "consent_id", hex, "scope",
		                                scope, "expires", to));
	printf(_("consent %s written to %s (scope %s, valid through %s)\n"), hex, cs->out, scope, to);
	printf("%s\n", _("  nothing was sent. Hand the file to your attorney, who relays it with "
	                 "'sealdrop relay FILE.sdc'."));
	return 0;
}

static int grant_run(consent_t *cs)
{
	sd_consent_params_t p = {.scope = cs->scope, .issued = sd_date_today(), .days = cs->days};
	uint8_t release[SD_CONSENT_RELEASE_BYTES];
	char *text = NULL, *doc = NULL, *file = NULL;
	json_t *answer = NULL;
	sd_consent_t c;
	int r;

	if ((r = prepare(cs)) < 0)
		return r;
	p.wb = cs->w.keys;
	p.h = cs->h;
	p.dir = cs->w.dir;
	if ((r = sd_consent_prepare(&p, &c)) < 0 || (r = sd_consent_explain(&c, cs->w.dir, &text)) < 0 ||
	    (r = confirm(cs, text, _("Type 'yes' to sign this consent: "))) < 0)
		goto out;
	if ((r = sd_consent_grant(&p, &c, &doc, release)) < 0 || (r = sd_consent_file_encode(&c, release, &file)) < 0)
		goto out;
	if (cs->out != NULL) {
		if ((r = file_write(cs, file)) == 0)
			r = grant_offline_report(cs, &c);
	} else if ((r = file_send(cs, file, &answer)) == 0) {
		if (cs->w.json)
			r = cli_json_print(json_incref(answer));
		else
			accepted_print(answer);
	}
out:
	sd_wipe(release, sizeof(release));
	free(text);
	free(doc);
	free(file);
	json_decref(answer);
	return r;
}

/* --- consent revoke -------------------------------------------------------------------- */

static int revoke_run(consent_t *cs)
{
	char *text = NULL, *doc = NULL, *file = NULL;
	json_t *answer = NULL;
	sd_revocation_t rv;
	int r;

	if ((r = prepare(cs)) < 0)
		return r;
	if ((r = sd_revocation_make(cs->w.keys, cs->h, cs->all ? NULL : cs->consent_id, sd_date_today(), &rv, &doc)) <
	            0 ||
	    (r = sd_revocation_explain(&rv, &text)) < 0 || (r = confirm(cs, text, _("Type 'yes' to revoke: "))) < 0 ||
	    (r = sd_revocation_file_encode(&rv, &file)) < 0)
		goto out;
	if (cs->out != NULL) {
		if ((r = file_write(cs, file)) == 0 && !cs->w.json)
			printf(_("revocation written to %s: hand it to your attorney ('sealdrop relay %s')\n"), cs->out,
			       cs->out);
		else if (r == 0)
			r = cli_json_print(json_pack("{s:s}", "file", cs->out));
	} else if ((r = file_send(cs, file, &answer)) == 0) {
		if (cs->w.json)
			r = cli_json_print(json_incref(answer));
		else
			revoked_print(answer);
	}
out:
	free(text);
	free(doc);
	free(file);
	json_decref(answer);
	return r;
}

/* --- consent list ---------------------------------------------------------------------- */

static void list_case(json_t *c)
{
	char cn[FIELD_MAX], id[FIELD_MAX], scope[FIELD_MAX], from[FIELD_MAX], to[FIELD_MAX], acc[FIELD_MAX],
	        by[FIELD_MAX], rv[FIELD_MAX];
	json_t *list = json_object_get(c, "consents"), *e;
	size_t i;

	printf(_("case %s: %zu consent(s)\n"), field(c, "case", cn, sizeof(cn)), json_array_size(list));
	json_array_foreach(list, i, e)
	{
		const char *state = json_is_true(json_object_get(e, "live")) ? _("live") : _("expired");

		if (json_is_string(json_object_get(e, "revoked"))) {
			snprintf(rv, sizeof(rv), _("revoked on %s"), field(e, "revoked", acc, sizeof(acc)));
			state = rv;
		}
		printf(_("  %s\n    scope %s, issued %s, expires %s, accepted %s, by the %s: %s\n"),
		       field(e, "consent_id", id, sizeof(id)), field(e, "scope", scope, sizeof(scope)),
		       field(e, "issued", from, sizeof(from)), field(e, "expires", to, sizeof(to)),
		       field(e, "accepted", acc, sizeof(acc)), field(e, "by", by, sizeof(by)), state);
	}
}

static int list_run(consent_t *cs)
{
	json_t *cases, *c, *out = NULL;
	size_t i;
	int r;

	if ((r = cli_wb_open(&cs->w)) < 0 || (r = cli_wb_keys(&cs->w)) < 0 ||
	    (r = cli_wb_status(&cs->w, &cs->status)) < 0)
		return r;
	cases = json_object_get(cs->status, "cases");
	if (!json_is_array(cases))
		return sd_error(CLI_ERR_PROTOCOL, "%s", _("the server's answer has no \"cases\" list"));
	if (cs->w.json && (out = json_array()) == NULL)
		return SD_ERR_NOMEM;
	json_array_foreach(cases, i, c)
	{
		const char *n = json_string_value(json_object_get(c, "case"));
		json_t *list = json_object_get(c, "consents");

		if (cs->case_number != NULL && (n == NULL || strcmp(n, cs->case_number) != 0))
			continue;
		if (n == NULL || (list != NULL && !json_is_array(list))) {
			json_decref(out);
			return sd_error(CLI_ERR_PROTOCOL, "%s", _("the server lists a case without its consents"));
		}
		if (out != NULL)
			json_array_append_new(out, json_pack("{s:s, s:O}", "case", n, "consents",
			                                     list != NULL ? list : json_array()));
		else
			list_case(c);
	}
	return out != NULL ? cli_json_print(json_pack("{s:o}", "cases", out)) : 0;
}

/* --- sealdrop consent ------------------------------------------------------------------ */

/* The shared entries of the three tables. */
#define CONSENT_OPTS(cs)                                                                                               \
	{"server", OPT_SERVER, .value = &(cs).w.o.server}, {"ca", OPT_CA, .value = &(cs).w.o.ca},                      \
	        {"directory", OPT_DIRECTORY, .value = &(cs).w.dir_path}, {"root", OPT_ROOT, .value = &(cs).w.o.root},  \
	        {"codename-file", OPT_CODENAME_FILE, .value = &(cs).w.codename_file},                                  \
	        {"json", OPT_JSON, .flag = &(cs).w.json},                                                              \
	{                                                                                                              \
		"case", OPT_CASE, .value = &(cs).case_number                                                           \
	}

static int grant_main(int argc, char **argv)
{
	consent_t cs = {.w.cmd = &grant_cmd};
	const cli_opt_t opts[] = {
	        CONSENT_OPTS(cs),
	        {"scope", OPT_SCOPE, .value = &cs.scope},
	        {"expires", OPT_EXPIRES, .value = &cs.expires},
	        {"package", OPT_PACKAGE, .value = &cs.package},
	        {"out", OPT_OUT, .value = &cs.out},
	        {"yes", OPT_YES, .flag = &cs.yes},
	        {0},
	};
	int r;

	if (cli_wants_help(argc, argv))
		return cli_wb_help(&grant_cmd, consent_tail_help);
	if ((r = cli_getopt(&grant_cmd, argc, argv, opts)) >= 0)
		return r;
	if (cs.scope == NULL)
		return cli_usage_error(&grant_cmd, "%s", _("missing --scope commission|agency:ID"));
	if (cs.expires != NULL && days_parse(cs.expires, &cs.days) < 0)
		return cli_usage_error(&grant_cmd, _("--expires '%s' is not a number of days from 1 to %d (e.g. 30d)"),
		                       cs.expires, SD_CONSENT_MAX_DAYS);
	if ((r = common_complete(&cs, argc, argv)) >= 0)
		goto out;
	if ((r = grant_run(&cs)) < 0)
		r = cli_fail(grant_cmd.name, r);
out:
	consent_free(&cs);
	return r;
}

static int revoke_main(int argc, char **argv)
{
	consent_t cs = {.w.cmd = &revoke_cmd};
	const cli_opt_t opts[] = {
	        CONSENT_OPTS(cs),
	        {"consent", OPT_CONSENT, .value = &cs.consent_hex},
	        {"all", OPT_ALL, .flag = &cs.all},
	        {"package", OPT_PACKAGE, .value = &cs.package},
	        {"out", OPT_OUT, .value = &cs.out},
	        {"yes", OPT_YES, .flag = &cs.yes},
	        {0},
	};
	int r;

	if (cli_wants_help(argc, argv))
		return cli_wb_help(&revoke_cmd, consent_tail_help);
	if ((r = cli_getopt(&revoke_cmd, argc, argv, opts)) >= 0)
		return r;
	if ((cs.consent_hex == NULL) == !cs.all)
		return cli_usage_error(&revoke_cmd, "%s", _("give exactly one of --consent ID and --all"));
	if (cs.consent_hex != NULL && (strlen(cs.consent_hex) != 2 * SD_CONSENT_ID_BYTES ||
	                               sd_hex_decode(cs.consent_hex, cs.consent_id, sizeof(cs.consent_id)) < 0))
		return cli_usage_error(&revoke_cmd, "%s", _("--consent takes the consent's id: 64 hex digits"));
	if ((r = common_complete(&cs, argc, argv)) >= 0)
		goto out;
	if ((r = revoke_run(&cs)) < 0)
		r = cli_fail(revoke_cmd.name, r);
out:
	consent_free(&cs);
	return r;
}

static int list_main(int argc, char **argv)
{
	consent_t cs = {.w.cmd = &list_cmd};
	const cli_opt_t opts[] = {CONSENT_OPTS(cs), {0}};
	int r;

	if (cli_wants_help(argc, argv))
		return cli_wb_help(&list_cmd, consent_tail_help);
	if ((r = cli_getopt(&list_cmd, argc, argv, opts)) >= 0)
		return r;
	if ((r = common_complete(&cs, argc, argv)) >= 0)
		goto out;
	if ((r = list_run(&cs)) < 0)
		r = cli_fail(list_cmd.name, r);
out:
	consent_free(&cs);
	return r;
}

int cmd_consent(int argc, char **argv)
{
	static const char usage[] = N_("usage: sealdrop consent grant|revoke|list [OPTIONS] (each takes --help)\n");

	if (argc >= 2 && strcmp(argv[1], "grant") == 0)
		return grant_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "revoke") == 0)
		return revoke_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return list_main(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(_(usage), stdout);
		return 0;
	}
	fprintf(stderr, argc >= 2 ? _("sealdrop: consent: unknown subcommand '%s'\n") : "%s", argc >= 2 ? argv[1] : "");
	fputs(_(usage), stderr);
	return CLI_EX_USAGE;
}

/* --- sealdrop relay (attorney) --------------------------------------------------------- */

/* The file's form, and for a consent that its release is the one signed for: an altered
 * file is refused here, before the attorney's certificate hands it in. */
static int relay_check(const uint8_t *buf, size_t len, sd_consent_file_t *f)
{
	uint8_t h[SD_HASH_DIGEST_BYTES];
	int r;

	if ((r = sd_consent_file_parse(buf, len, f)) < 0)
		return r;
	if (f->kind != SD_CONSENT_FILE_CONSENT)
		return 0;
	sd_hash(f->release, sizeof(f->release), h);
	if (!sd_equal(h, f->consent.release_hash, sizeof(h)))
		return sd_error(SD_ERR_VERIFY, "%s",
		                _("the release does not hash to the value the consent signs (altered or swapped)"));
	return 0;
}

static int relay_send(const cli_remote_opts_t *o, const char *path, bool json_out)
{
	cli_https_response_t resp = {0};
	sd_consent_file_t f;
	cli_remote_t *remote = NULL;
	json_t *body = NULL, *answer = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	if ((r = sd_file_read(path, SD_CONSENT_FILE_MAX_BYTES, &buf, &len)) < 0 ||
	    (r = relay_check(buf, len, &f)) < 0) {
		r = cli_error_prefix(r, "%s", path);
		goto out;
	}
	if ((body = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, NULL)) == NULL) {
		r = sd_error(SD_ERR_FORMAT, _("%s is not JSON"), path);
		goto out;
	}
	if ((r = cli_remote_open(o, relay_cmd.name, &remote)) < 0 ||
	    (r = cli_remote_request(remote, "POST", "/v1/consents", body, &resp)) < 0)
		goto out;
	if (resp.status != 200 && resp.status != 201) {
		r = cli_http_fail(&resp, f.kind == SD_CONSENT_FILE_CONSENT ? _("the consent") : _("the revocation"));
		goto out;
	}
	if ((r = cli_answer_object(&resp, _("the relay"), &answer)) < 0)
		goto out;
	if (json_out)
		r = cli_json_print(json_incref(answer));
	else if (resp.status == 201)
		accepted_print(answer);
	else
		revoked_print(answer);
out:
	sd_wipe(&f, sizeof(f));
	cli_https_response_free(&resp);
	cli_remote_free(remote);
	json_decref(body);
	json_decref(answer);
	free(buf);
	return r;
}

int cmd_relay(int argc, char **argv)
{
	cli_remote_opts_t o = {0};
	cli_config_t cfg = {0};
	const char *path = NULL;
	bool json = false;
	const cli_opt_t opts[] = {
	        {"server", OPT_SERVER, .value = &o.server}, {"ca", OPT_CA, .value = &o.ca},
	        {"cert", OPT_CERT, .value = &o.cert},       {"key", OPT_KEY, .value = &o.key},
	        {"json", OPT_JSON, .flag = &json},          {0},
	};
	int r;

	if ((r = cli_getopt(&relay_cmd, argc, argv, opts)) >= 0)
		return r;
	if ((r = cli_one_argument(&relay_cmd, argc, argv, _("FILE.sdc"), &path)) != 0)
		return r;
	if ((r = cli_remote_complete(&relay_cmd, &cfg, &o, 0)) >= 0)
		goto out;
	sd_error_clear();
	if ((r = relay_send(&o, path, json)) < 0)
		r = cli_fail(relay_cmd.name, r);
out:
	cli_config_free(&cfg);
	return r;
}
