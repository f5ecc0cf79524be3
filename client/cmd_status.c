/*
 * cmd_status.c — the whistleblower's channel (DESIGN.md, "Codename"; docs/API.md, "The
 * whistleblower's channel"): `sealdrop status` shows every case filed under a codename
 * with its deadlines and its notices, decrypted here; `sealdrop object` files an
 * objection (Decree Art. 11-3(1)), sealed to the intake key before it leaves.
 *
 * No certificate is sent. Each request carries a codename session (docs/FORMAT.md,
 * "Codename session"): the client asks for a challenge, derives the codename's keys
 * (Argon2id with the directory's limits), proves knowledge of the locator and of the
 * consent key over the challenge and pays a small proof of work (sd_session_prove).
 *
 * The server is not trusted with the notices: each one must carry the log key's
 * signature (the key of a directory the pinned root signed, never one the server names),
 * its audit leaf must be about this notice (event, case, digest), and, when a signed head
 * covers the leaf, the leaf's inclusion proof must put it under that head. A notice that
 * fails any of this is never shown as text: a WARNING names it and the command exits 65.
 *
 * status also lists each case's consents and its consent and identity-access (unseal)
 * audit events, each leaf checked against the head as the notices' are (leaf_logged()).
 *
 * Start at status_run() and object_run(). The session code (cli_wb_*) is shared with
 * cmd_consent.c through cli.h; cli_wb_session() builds one session.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sealdrop/audit.h"
#include "sealdrop/bytes.h"
#include "sealdrop/json.h"
#include "sealdrop/codename.h"
#include "sealdrop/fileio.h"
#include "sealdrop/loghead.h"
#include "sealdrop/merkle.h"
#include "sealdrop/notice.h"
#include "sealdrop/receipt.h"
#include "sealdrop/sealbox.h"
#include "sealdrop/sealdrop.h"
#include "sealdrop/session.h"
#include "cli.h"
#include "https.h"

#define PROBLEM_MAX   256
#define FIELD_MAX     96
#define LINE_MAX_     160
#define NOTICES_MAX   256 /* notices of one case (SD_CASE_NOTICES_MAX) */
#define CASES_MAX     64  /* cases under one codename the client shows */
#define NONCE_B64     45  /* base64 of 32 bytes, with its NUL */
#define SIG_B64       89  /* of 64 bytes */
#define POW_B64       13  /* of 8 bytes */
#define OBJECTION_MAX SD_NOTICE_TEXT_MAX

static const char net_options_help[] =
        N_("  --server URL            the server, https://HOST[:PORT]\n"
           "  --ca CA.pem             the server's CA certificate: the only one trusted\n"
           "  --directory D           the signed key directory (without it, the server's, which must\n"
           "                          verify against --root just the same)\n"
           "  --root ROOTPUB          the pinned root public key the directory must be signed by\n"
           "  --codename-file F       read the codename from F instead of asking for it.\n"
           "                          RISK: a file is evidence on a seized device; keep the codename\n"
           "                          on paper and type it\n");

static const cli_cmd_t status_cmd = {
        "status",
        N_("usage: sealdrop status [--server URL --ca CA.pem --directory D --root ROOTPUB]\n"
           "                       [--codename-file F] [--state-file F] [--json]\n"),
        N_("\n"
           "Shows every case filed under your codename: its number, state, date of receipt, next\n"
           "deadline, the objection window when it is open, its history, and every notice the\n"
           "Commission sent, decrypted on this machine (the server cannot read them). No\n"
           "certificate is sent: the codename is asked for on the terminal (not shown), its keys\n"
           "are derived here (this takes a few seconds) and prove to the server that you hold it.\n"
           "\n"
           "Each notice is checked before it is shown: the log key's signature (the key the\n"
           "directory names), its record in the audit log, and that record's inclusion in the\n"
           "log's signed head. A notice newer than the latest head is shown as 'pending'. A notice\n"
           "that fails a check is NOT shown: a WARNING names it, and the command exits 65. Do not\n"
           "act on such a notice; tell your attorney.\n"
           "\n"
           "It also lists your consents (sealdrop consent) and every consent event and identity\n"
           "access on each case: each time a custodian opened, or tried to open, your identity\n"
           "(date, scope, role), each checked against the audit log's signed head like a notice.\n"
           "\n"),
};

static const char status_options_help[] =
        N_("  --state-file F          also check the log's head against the last one seen (as\n"
           "                          'sealdrop audit verify --state-file F' does) and keep it there\n"
           "  --json                  print {\"cases\": [...], \"head\"}: each notice with \"verified\"\n"
           "                          (true, false or \"pending\") and its \"text\" when it is shown\n"
           "  -h, --help              this help\n"
           "\n"
           "--server, --ca and --root are taken from the config file $XDG_CONFIG_HOME/sealdrop/config\n"
           "(~/.config/sealdrop/config; SEALDROP_CONFIG=FILE names another) when not given; no\n"
           "certificate is ever sent, even when the file names one. Exit status: 0, 65 when a\n"
           "notice fails its checks, 69 server unavailable or busy, 76 protocol error, 77 refused\n"
           "(for instance: no case is filed under this codename).\n");

static const cli_cmd_t object_cmd = {
        "object",
        N_("usage: sealdrop object --text FILE [--case CASE] [--json]\n"
           "                       [--server URL --ca CA.pem --directory D --root ROOTPUB]\n"
           "                       [--codename-file F]\n"),
        N_("\n"
           "Files an objection to the result of your case (Decree Art. 11-3(1)): accepted only\n"
           "within 7 days after the result notice ('sealdrop status' shows the window). FILE holds\n"
           "its text: 1 to 16384 bytes of UTF-8 without control characters other than newline and\n"
           "tab. The text is sealed on this machine to the Commission's intake key from the\n"
           "directory; the server never holds it in the clear. The session is built from your\n"
           "codename as for 'sealdrop status'. Prints the date the objection was accepted and the\n"
           "date by which the Commission must request a reinvestigation.\n"
           "\n"
           "  --text FILE             the objection's text\n"
           "  --case CASE             the case (YYYY-NNNNNN), needed when the codename has several\n"),
};

static const char object_options_help[] =
        N_("  --json                  print the case as the server answers\n"
           "  -h, --help              this help\n"
           "\n"
           "--server, --ca and --root are taken from the config file when not given (see 'sealdrop\n"
           "status --help'). Exit status: 0, 69 unavailable or busy, 76 protocol error, 77 refused\n"
           "(the window closed, the case is not waiting for an objection).\n");

enum {
	OPT_SERVER = 256,
	OPT_CA,
	OPT_DIRECTORY,
	OPT_ROOT,
	OPT_CODENAME_FILE,
	OPT_STATE,
	OPT_JSON,
	OPT_TEXT,
	OPT_CASE,
};

/* --- shared: options, directory, codename, session --------------------------------------- */

void cli_wb_free(cli_wb_t *w)
{
	sd_codename_keys_free(w->keys);
	sd_directory_free(w->dir);
	w->dir = NULL;
	cli_remote_free(w->remote);
	w->remote = NULL;
	cli_config_free(&w->cfg);
}

/* --help: the command's help, the shared options, then the command's own. */
int cli_wb_help(const cli_cmd_t *cmd, const char *tail)
{
	printf("%s%s%s%s%s", _(cmd->synopsis), _(cmd->help), _(net_options_help), _(tail), _(cli_socks5_help));
	return 0;
}

/* True when argv asks for --help (printed by wb_help, not cli_getopt). */
bool cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	return false;
}

/* After getopt: the config file fills --server, --ca and --root; a certificate it names
 * is never used here (these routes are anonymous). -1 to go on, else the exit status. */
int cli_wb_complete(cli_wb_t *w)
{
	const char *missing;
	int r;

	sd_error_clear();
	if ((r = cli_config_load(&w->cfg)) < 0)
		return cli_fail(w->cmd->name, r);
	cli_config_apply(&w->cfg, &w->o);
	w->o.cert = NULL;
	w->o.key = NULL;
	missing = w->o.server == NULL ? "--server" : w->o.ca == NULL ? "--ca" : w->o.root == NULL ? "--root" : NULL;
	if (missing != NULL)
		return cli_usage_error(w->cmd, _("missing %s (give it, or set it in the config file)"), missing);
	return -1;
}

/* The directory (the file, or the server's; the pinned root must have signed either),
 * then the connection. */
int cli_wb_open(cli_wb_t *w)
{
	int r;

	if (w->dir_path != NULL && (r = cli_directory_load(w->dir_path, w->o.root, &w->dir)) < 0)
		return r;
	if ((r = cli_remote_open(&w->o, w->cmd->name, &w->remote)) < 0)
		return r;
	if (w->dir == NULL) {
		if ((r = cli_remote_directory(w->remote, &w->dir)) < 0)
			return r;
		if (w->dir->test)
			cli_directory_warn_test();
	}
	return 0;
}

/* The codename from --codename-file, else typed on the terminal with echo off. */
static int wb_codename(const cli_wb_t *w, char *canonical)
{
	char *typed = NULL;
	size_t len = 0;
	int tty, r;

	if (w->codename_file != NULL)
		return cli_codename_from_file(w->codename_file, canonical, SD_CODENAME_MAX);
	if ((tty = cli_tty_open()) < 0)
		return sd_error(SD_ERR_USAGE, _("no terminal to ask for the codename on; use --codename-file FILE"));
	if ((typed = sd_secret_alloc(CLI_CODENAME_INPUT_MAX)) == NULL) {
		close(tty);
		return SD_ERR_NOMEM;
	}
	r = cli_tty_read_hidden(tty, _("Your codename (eight words; it is not shown): "), typed, CLI_CODENAME_INPUT_MAX,
	                        &len);
	close(tty);
	if (r == 0)
		r = sd_codename_canonicalize(typed, len, canonical, SD_CODENAME_MAX);
	sd_secret_free(typed);
	return r;
}

/* The codename's keys, derived with the directory's Argon2id limits. */
int cli_wb_keys(cli_wb_t *w)
{
	char *canonical = sd_secret_alloc(SD_CODENAME_MAX);
	int r;

	if (canonical == NULL)
		return SD_ERR_NOMEM;
	if ((r = wb_codename(w, canonical)) == 0) {
		if (cli_stderr_is_tty() && !w->json)
			cli_note(false, "%s", _("deriving the keys from the codename (Argon2id; a few seconds)..."));
		r = sd_codename_derive(canonical, w->dir->deployment, &w->dir->codename_kdf, &w->keys);
	}
	sd_secret_free(canonical);
	return r;
}

/* A refusal of a session route: the server's own words. */
static int wb_fail(const cli_https_response_t *resp, const char *what)
{
	if (resp->status == 503)
		return sd_error(CLI_ERR_UNAVAILABLE,
		                _("the server is busy answering whistleblowers (HTTP 503%s%s): try again in a "
		                  "few minutes"),
		                resp->error[0] != '\0' ? " " : "", resp->error);
	if (resp->status == 403 && strcmp(resp->error, "session_refused") == 0)
		return sd_error(SD_ERR_REFUSED, _("the server refused the session: %s"),
		                resp->message[0] != '\0' ? resp->message : _("no reason given"));
	return cli_http_fail(resp, what);
}

int cli_wb_call(cli_wb_t *w, const char *method, const char *path, const json_t *body, const char *what, json_t **out)
{
	cli_https_response_t resp;
	int r;

	*out = NULL;
	if ((r = cli_remote_request(w->remote, method, path, body, &resp)) < 0)
		goto out;
	if (resp.status != 200 && resp.status != 201) {
		r = wb_fail(&resp, what);
		goto out;
	}
	r = cli_answer_object(&resp, what, out);
out:
	cli_https_response_free(&resp);
	return r;
}

/* GET /v1/wb/challenge: the server's nonce and the proof of work it wants. */
static int wb_challenge(cli_wb_t *w, uint8_t nonce[SD_SESSION_NONCE_BYTES], unsigned *bits)
{
	json_t *c = NULL, *b;
	const char *s;
	int r;

	if ((r = cli_wb_call(w, "GET", "/v1/wb/challenge", NULL, _("the request for a challenge"), &c)) < 0)
		return r;
	s = json_string_value(json_object_get(c, "challenge"));
	b = json_object_get(c, "bits");
	if (s == NULL || strlen(s) != NONCE_B64 - 1 || sd_base64_decode_exact(s, nonce, SD_SESSION_NONCE_BYTES) < 0 ||
	    !json_is_integer(b) || json_integer_value(b) < 0 || json_integer_value(b) > SD_POW_BITS_MAX)
		r = sd_error(CLI_ERR_PROTOCOL, _("the server's challenge is not {\"challenge\": base64 of 32 bytes, "
		                                 "\"bits\": 0 to 32}"));
	else
		*bits = (unsigned)json_integer_value(b);
	json_decref(c);
	return r;
}

/* A fresh session: a challenge answered with the codename's keys and a proof of work. */
int cli_wb_session(cli_wb_t *w, json_t **out)
{
	uint8_t nonce[SD_SESSION_NONCE_BYTES];
	sd_session_proof_t p;
	unsigned bits = 0;
	int r;

	*out = NULL;
	if ((r = wb_challenge(w, nonce, &bits)) < 0)
		return r;
	if (cli_stderr_is_tty() && !w->json && bits > 0)
		cli_note(false, _("working on the server's proof of work (%u bits)..."), bits);
	if ((r = sd_session_prove(w->keys, nonce, bits, &p)) < 0)
		return r == SD_ERR_CANCELLED ? sd_error(r, _("interrupted")) : r;
	*out = json_pack("{s:o, s:o, s:o, s:o, s:o}", "challenge",
	                 sd_json_base64_string(p.server_nonce, sizeof(p.server_nonce)), "client_nonce",
	                 sd_json_base64_string(p.client_nonce, sizeof(p.client_nonce)), "locator",
	                 sd_json_base64_string(p.locator, sizeof(p.locator)), "signature",
	                 sd_json_base64_string(p.signature, sizeof(p.signature)), "pow",
	                 sd_json_base64_string(p.pow, sizeof(p.pow)));
	sd_wipe(&p, sizeof(p));
	return *out == NULL ? SD_ERR_NOMEM : 0;
}

int cli_wb_status(cli_wb_t *w, json_t **answer)
{
	json_t *session = NULL, *body = NULL;
	int r;

	*answer = NULL;
	if ((r = cli_wb_session(w, &session)) < 0)
		return r;
	if ((body = json_pack("{s:O}", "session", session)) == NULL)
		r = SD_ERR_NOMEM;
	else
		r = cli_wb_call(w, "POST", "/v1/wb/status", body, _("the status request"), answer);
	json_decref(session);
	json_decref(body);
	return r;
}

/* The shared options of both commands' tables (then their own, then the end). */
#define WB_OPTS(w)                                                                                                     \
	{"server", OPT_SERVER, .value = &(w).o.server}, {"ca", OPT_CA, .value = &(w).o.ca},                            \
	        {"directory", OPT_DIRECTORY, .value = &(w).dir_path}, {"root", OPT_ROOT, .value = &(w).o.root},        \
	        {"codename-file", OPT_CODENAME_FILE, .value = &(w).codename_file},                                     \
	{                                                                                                              \
		"json", OPT_JSON, .flag = &(w).json                                                                    \
	}

/* --- sealdrop status --------------------------------------------------------------------- */

typedef enum { NT_FAILED, NT_PENDING, NT_VERIFIED } nt_state_t;

/* What one notice came to. */
typedef struct {
	sd_notice_t nt;
	nt_state_t state;
	char *text; /* secret memory; only when not failed */
	size_t text_len;
	char problem[PROBLEM_MAX];
} shown_t;

typedef struct {
	cli_wb_t w;
	const char *state_file;
	json_t *answer;
	json_t *out; /* --json: the cases shown */
	cli_log_t *log;
	bool has_head;
	sd_loghead_t head;
	size_t failed, failed_events;
} status_t;

static void shown_clear(shown_t *s)
{
	sd_notice_clear(&s->nt);
	sd_secret_free(s->text);
	s->text = NULL;
}

/* A base64 string of any length (padded, canonical) into a malloc'd buffer. */
static int b64_decode_any(const char *s, size_t max, uint8_t **out, size_t *len)
{
	size_t n = s != NULL ? strlen(s) : 0, pad;

	*out = NULL;
	if (n == 0 || n % 4 != 0)
		return SD_ERR_FORMAT;
	pad = (s[n - 1] == '=') + (s[n - 2] == '=');
	*len = n / 4 * 3 - pad;
	if (*len > max || (*out = malloc(*len + 1)) == NULL)
		return *len > max ? SD_ERR_TOOBIG : SD_ERR_NOMEM;
	if (sd_base64_decode_exact(s, *out, *len) < 0) {
		free(*out);
		*out = NULL;
		return SD_ERR_FORMAT;
	}
	return 0;
}

static int problem(shown_t *s, const char *fmt, const char *detail)
{
	snprintf(s->problem, sizeof(s->problem), fmt, detail);
	s->state = NT_FAILED;
	return 0;
}

/* The signature with the directory's log key, the case and the number. */
static int notice_signature(const sd_directory_t *d, const char *case_number, json_t *e, shown_t *s)
{
	json_t *doc = json_object_get(e, "notice"), *seq = json_object_get(e, "seq");
	char *text;
	int r;

	if (!json_is_object(doc))
		return problem(s, "%s", _("the server sent no signed notice"));
	if ((text = json_dumps(doc, JSON_COMPACT)) == NULL)
		return SD_ERR_NOMEM;
	sd_error_clear();
	r = sd_notice_verify_with_directory((const uint8_t *)text, strlen(text), d, &s->nt);
	free(text);
	if (r == SD_ERR_NOMEM)
		return r;
	if (r < 0)
		return problem(s, _("its signature does not verify with the directory's log key (%s)"),
		               sd_error_detail());
	if (strcmp(s->nt.case_number, case_number) != 0)
		return problem(s, _("it is signed for another case, %s"), s->nt.case_number);
	if (!json_is_integer(seq) || json_integer_value(seq) != (json_int_t)s->nt.seq)
		return problem(s, "%s", _("it is signed with another number than the one it is listed under"));
	return 0;
}

/* The audit leaf the server lists with the notice: event notice, this case, this date and
 * the notice's digest. *index is its leaf index. */
static int notice_leaf(json_t *e, shown_t *s, uint8_t **leaf, size_t *len, uint64_t *index)
{
	json_t *li = json_object_get(e, "leaf_index");
	uint8_t digest[SD_NOTICE_DIGEST_BYTES];
	sd_audit_event_t ev;
	int r;

	if (json_is_null(json_object_get(e, "leaf")) || json_object_get(e, "leaf") == NULL)
		return problem(s, "%s", _("it has no record in the audit log"));
	if (!json_is_integer(li) || json_integer_value(li) < 0 ||
	    b64_decode_any(json_string_value(json_object_get(e, "leaf")), SD_AUDIT_LEAF_MAX, leaf, len) < 0)
		return sd_error(CLI_ERR_PROTOCOL, _("the server lists notice %u with a malformed audit leaf"),
		                (unsigned)s->nt.seq);
	*index = (uint64_t)json_integer_value(li);
	sd_error_clear();
	if (sd_audit_leaf_parse(*leaf, *len, &ev) < 0)
		return problem(s, _("its audit leaf does not parse (%s)"), sd_error_detail());
	if ((r = sd_notice_digest(&s->nt, digest)) < 0)
		return r;
	if (ev.type != SD_AUDIT_NOTICE || strcmp(ev.case_number, s->nt.case_number) != 0 || !ev.has_digest ||
	    !sd_equal(ev.digest, digest, sizeof(digest)) || sd_date_cmp(ev.date, s->nt.date) != 0)
		return problem(s, "%s", _("its audit leaf records another notice"));
	return 0;
}

/* Whether a signed head covers leaf `index` and, when one does, that its inclusion proof
 * puts these exact bytes there: NT_VERIFIED, NT_PENDING (newer than the head) or NT_FAILED. */
static int leaf_logged(status_t *st, const uint8_t *leaf, size_t len, uint64_t index, nt_state_t *state)
{
	int r;

	*state = NT_PENDING;
	if (!st->has_head || index >= st->head.size)
		return 0;
	sd_error_clear();
	r = cli_log_check_inclusion(st->log, &st->head, index, leaf, len);
	if (r == SD_ERR_VERIFY) {
		*state = NT_FAILED;
		return 0;
	}
	if (r < 0)
		return r;
	*state = NT_VERIFIED;
	return 0;
}

/* The leaf's inclusion under the head, when the head covers it; else pending. */
static int notice_logged(status_t *st, shown_t *s, const uint8_t *leaf, size_t len, uint64_t index)
{
	char size[32];
	int r;

	if ((r = leaf_logged(st, leaf, len, index, &s->state)) < 0 || s->state != NT_FAILED)
		return r;
	snprintf(size, sizeof(size), "%llu", (unsigned long long)st->head.size);
	return problem(s, _("its audit leaf is not in the log's signed head of size %s"), size);
}

/* Opens the box sealed to the codename's notice key. */
static int notice_open(status_t *st, shown_t *s)
{
	const sd_codename_keys_t *k = st->w.keys;
	int r;

	sd_error_clear();
	r = sd_notice_open(s->nt.to_whistleblower, s->nt.whistleblower_len, k->notice_pk, k->notice_sk, &s->text,
	                   &s->text_len);
	if (r == SD_ERR_NOMEM)
		return r;
	if (r < 0)
		return problem(s, _("its text does not open with this codename's notice key (%s)"), sd_error_detail());
	return 0;
}

/* Every check of one listed notice; a failure is recorded in s, not returned. */
static int notice_check(status_t *st, const char *case_number, json_t *e, shown_t *s)
{
	uint8_t *leaf = NULL;
	uint64_t index = 0;
	size_t len = 0;
	int r;

	memset(s, 0, sizeof(*s));
	s->state = NT_PENDING;
	if (!json_is_object(e))
		return sd_error(CLI_ERR_PROTOCOL, _("the server's list of notices holds something else than a notice"));
	if ((r = notice_signature(st->w.dir, case_number, e, s)) < 0 || s->state == NT_FAILED)
		return r;
	if ((r = notice_leaf(e, s, &leaf, &len, &index)) == 0 && s->state != NT_FAILED)
		r = notice_logged(st, s, leaf, len, index);
	free(leaf);
	if (r < 0 || s->state == NT_FAILED)
		return r;
	return notice_open(st, s);
}

/* The loud part: on stderr, whatever the output format. */
static void notice_warn(status_t *st, const char *case_number, json_t *e, const shown_t *s)
{
	st->failed++;
	fprintf(stderr,
	        _("\nWARNING: notice %lld of case %s FAILED its checks: %s.\n"
	          "WARNING: it may be forged or altered. Its text is not shown. Do NOT act on it;\n"
	          "WARNING: tell your attorney.\n\n"),
	        (long long)json_integer_value(json_object_get(e, "seq")), case_number, s->problem);
}

static void notice_print(json_t *e, const shown_t *s)
{
	char date[SD_DATE_TEXT_BYTES], kind[FIELD_MAX];
	const char *k = json_string_value(json_object_get(e, "kind"));

	if (s->state == NT_FAILED) {
		printf(_("    %4lld  %-10s  %-15s  NOT VERIFIED: not shown (see the warning)\n"),
		       (long long)json_integer_value(json_object_get(e, "seq")), "-",
		       k != NULL ? sd_error_printable(k, kind, sizeof(kind)) : "-");
		return;
	}
	sd_date_format(s->nt.date, date);
	printf("    %4u  %-10s  %-15s  %s\n", (unsigned)s->nt.seq, date, sd_notice_kind_name(s->nt.kind),
	       s->state == NT_VERIFIED ? _("verified: signed and in the audit log")
	                               : _("pending: signed; not yet in a published head of the audit log"));
	cli_text_print_indented(s->text, 8);
	putchar('\n');
}

static int notice_json(json_t *list, json_t *e, const shown_t *s)
{
	json_t *o = json_pack("{s:O?, s:O?, s:O?, s:O?}", "seq", json_object_get(e, "seq"), "kind",
	                      json_object_get(e, "kind"), "date", json_object_get(e, "date"), "leaf_index",
	                      json_object_get(e, "leaf_index"));
	int r = 0;

	if (o == NULL)
		return SD_ERR_NOMEM;
	r |= json_object_set_new(o, "verified",
	                         s->state == NT_VERIFIED  ? json_true()
	                         : s->state == NT_PENDING ? json_string("pending")
	                                                  : json_false());
	if (s->state == NT_FAILED)
		r |= json_object_set_new(o, "problem", json_string(s->problem));
	else
		r |= json_object_set_new(o, "text", json_stringn(s->text, s->text_len));
	if (r != 0 || json_array_append_new(list, o) != 0)
		return SD_ERR_NOMEM;
	return 0;
}

/* Checks, then prints (or collects) the notices of one case, in the order of their seq. */
static int notices_show(status_t *st, const char *case_number, json_t *notices, json_t *list)
{
	json_int_t last = -1;
	shown_t s;
	json_t *e;
	size_t i;
	int r = 0;

	if (!json_is_array(notices) || json_array_size(notices) > NOTICES_MAX)
		return sd_error(CLI_ERR_PROTOCOL, _("the server's case %s has no list of notices"), case_number);
	if (!st->w.json)
		printf(json_array_size(notices) == 0 ? _("  notices: none\n") : _("  notices:\n"));
	json_array_foreach(notices, i, e)
	{
		json_int_t seq = json_integer_value(json_object_get(e, "seq"));
		if (seq <= last)
			return sd_error(CLI_ERR_PROTOCOL, _("the server lists the notices of case %s out of order"),
			                case_number);
		last = seq;
		if ((r = notice_check(st, case_number, e, &s)) == 0) {
			if (s.state == NT_FAILED)
				notice_warn(st, case_number, e, &s);
			r = st->w.json ? notice_json(list, e, &s) : (notice_print(e, &s), 0);
		}
		shown_clear(&s);
		if (r < 0)
			return r;
	}
	return 0;
}

/* A string member of the server's case, printable, or "-". */
static const char *field(json_t *o, const char *name, char *buf, size_t cap)
{
	const char *v = json_string_value(json_object_get(o, name));

	return v != NULL ? sd_error_printable(v, buf, cap) : "-";
}

/* "objection 2027-01-22 (5 days left)", "... (due today)", "... (3 days late)", "none". */
static void deadline_text(json_t *c, char *out, size_t cap)
{
	json_t *d = json_object_get(c, "deadline");
	char kind[FIELD_MAX], due[FIELD_MAX];
	long long left = (long long)json_integer_value(json_object_get(d, "days_left"));

	if (!json_is_object(d)) {
		snprintf(out, cap, "%s", _("none"));
		return;
	}
	field(d, "kind", kind, sizeof(kind));
	field(d, "due", due, sizeof(due));
	if (left == 0)
		snprintf(out, cap, _("%s %s (due today)"), kind, due);
	else if (left > 0)
		snprintf(out, cap, left == 1 ? _("%s %s (%lld day left)") : _("%s %s (%lld days left)"), kind, due,
		         left);
	else
		snprintf(out, cap, left == -1 ? _("%s %s (%lld day late)") : _("%s %s (%lld days late)"), kind, due,
		         -left);
}

static void case_print(json_t *c)
{
	char a[FIELD_MAX], b[FIELD_MAX], line[LINE_MAX_];
	json_t *h, *step;
	size_t i;

	printf(_("case %s\n"), field(c, "case", a, sizeof(a)));
	printf(_("  state          %s\n"), field(c, "state", a, sizeof(a)));
	printf(_("  received       %s\n"), field(c, "received", a, sizeof(a)));
	deadline_text(c, line, sizeof(line));
	printf(_("  next deadline  %s\n"), line);
	if (json_is_string(json_object_get(c, "objection_until")))
		printf(_("  objection      you may object until %s (sealdrop object --text FILE)\n"),
		       field(c, "objection_until", a, sizeof(a)));
	h = json_object_get(c, "history");
	printf(json_array_size(h) == 0 ? _("  history        none yet\n") : _("  history\n"));
	json_array_foreach(h, i, step)
	        printf("    %-10s  %s\n", field(step, "date", a, sizeof(a)), field(step, "action", b, sizeof(b)));
}

/* --- consents and identity accesses ------------------------------------------------------ */

#define CONSENTS_MAX 64   /* SD_CONSENTS_PER_CASE */
#define EVENTS_MAX   4096 /* leaves of one case the client checks */

/* The case's consents as the server lists them: id, scope, dates, who handed it in,
 * live or revoked. The list is the server's word; the audit events below are checked. */
static int consents_print(const char *case_number, json_t *list)
{
	char id[FIELD_MAX], scope[FIELD_MAX], from[FIELD_MAX], to[FIELD_MAX], by[FIELD_MAX], rv[FIELD_MAX];
	json_t *c;
	size_t i;

	if (list == NULL)
		return 0;
	if (!json_is_array(list) || json_array_size(list) > CONSENTS_MAX)
		return sd_error(CLI_ERR_PROTOCOL, _("the server's case %s has a malformed list of consents"),
		                case_number);
	printf(json_array_size(list) == 0 ? _("  consents: none\n") : _("  consents:\n"));
	json_array_foreach(list, i, c)
	{
		const char *state = json_is_true(json_object_get(c, "live"))
		                            ? _("LIVE: the grantee may open your identity")
		                            : _("not live (expired)");

		if (json_is_string(json_object_get(c, "revoked"))) {
			snprintf(rv, sizeof(rv), _("revoked %s"), field(c, "revoked", from, sizeof(from)));
			state = rv;
		}
		printf(_("    %.16s  %-16s  %s .. %s  by %-13s  %s\n"), field(c, "consent_id", id, sizeof(id)),
		       field(c, "scope", scope, sizeof(scope)), field(c, "issued", from, sizeof(from)),
		       field(c, "expires", to, sizeof(to)), field(c, "by", by, sizeof(by)), state);
	}
	return 0;
}

static bool event_is_shown(sd_audit_type_t t)
{
	return t == SD_AUDIT_CONSENT_ACCEPTED || t == SD_AUDIT_CONSENT_REFUSED || t == SD_AUDIT_CONSENT_REVOKED ||
	       t == SD_AUDIT_UNSEAL;
}

/* One line: the date, what happened, the scope or reason, who. */
static void event_print(const sd_audit_event_t *ev, nt_state_t state)
{
	char date[SD_DATE_TEXT_BYTES], what[FIELD_MAX];
	const char *check = state == NT_VERIFIED  ? _("verified in the audit log")
	                    : state == NT_PENDING ? _("pending: not yet in a published head")
	                                          : _("NOT VERIFIED (see the warning)");

	sd_date_format(ev->date, date);
	if (ev->type == SD_AUDIT_UNSEAL && strncmp(ev->detail, "refused:", 8) == 0)
		snprintf(what, sizeof(what), _("identity access REFUSED (%s)"), ev->detail + 8);
	else if (ev->type == SD_AUDIT_UNSEAL)
		snprintf(what, sizeof(what), _("IDENTITY ACCESS (%s)"), ev->detail);
	else if (ev->type == SD_AUDIT_CONSENT_ACCEPTED)
		snprintf(what, sizeof(what), _("consent accepted (%s)"), ev->detail);
	else if (ev->type == SD_AUDIT_CONSENT_REFUSED)
		snprintf(what, sizeof(what), _("consent refused (%s)"), ev->detail);
	else
		snprintf(what, sizeof(what), "%s", _("consent revoked"));
	printf("    %-10s  %-40s  %-13s  %s\n", date, what, ev->role[0] != '\0' ? ev->role : "-", check);
}

static int event_json(json_t *list, const sd_audit_event_t *ev, uint64_t index, nt_state_t state)
{
	json_t *o = sd_audit_event_json(ev);

	if (o == NULL || json_object_set_new(o, "index", json_integer((json_int_t)index)) < 0 ||
	    json_object_set_new(o, "verified",
	                        state == NT_VERIFIED  ? json_true()
	                        : state == NT_PENDING ? json_string("pending")
	                                              : json_false()) < 0 ||
	    json_array_append_new(list, o) < 0) {
		json_decref(o);
		return SD_ERR_NOMEM;
	}
	return 0;
}

/* One listed event: decoded, about this case, and in the log under the head. Only the
 * consent and identity-access events are shown (and so checked). */
static int event_check(status_t *st, const char *case_number, json_t *e, json_t *list, bool *any)
{
	json_t *ix = json_object_get(e, "index");
	sd_audit_event_t ev;
	nt_state_t state = NT_PENDING;
	uint8_t *leaf = NULL;
	size_t len = 0;
	int r;

	if (!json_is_integer(ix) || json_integer_value(ix) < 0 ||
	    b64_decode_any(json_string_value(json_object_get(e, "leaf")), SD_AUDIT_LEAF_MAX, &leaf, &len) < 0 ||
	    sd_audit_leaf_parse(leaf, len, &ev) < 0) {
		free(leaf);
		return sd_error(CLI_ERR_PROTOCOL, _("the server lists an audit event of case %s that does not parse"),
		                case_number);
	}
	r = 0;
	if (event_is_shown(ev.type)) {
		if (strcmp(ev.case_number, case_number) != 0)
			state = NT_FAILED;
		else
			r = leaf_logged(st, leaf, len, (uint64_t)json_integer_value(ix), &state);
		if (r == 0 && state == NT_FAILED) {
			st->failed_events++;
			fprintf(stderr,
			        _("\nWARNING: audit event %lld of case %s FAILED its checks: it is not in the log's "
			          "signed head\nWARNING: or it is about another case. Tell your attorney.\n\n"),
			        (long long)json_integer_value(ix), case_number);
		}
		if (r == 0 && !st->w.json && !*any)
			printf("%s", _("  consents and identity accesses (audit log):\n"));
		if (r == 0)
			r = st->w.json ? event_json(list, &ev, (uint64_t)json_integer_value(ix), state)
			               : (event_print(&ev, state), 0);
		*any = true;
	}
	free(leaf);
	return r;
}

/* Every consent event and identity access of the case, each checked against the head. */
static int events_show(status_t *st, const char *case_number, json_t *events, json_t *list)
{
	bool any = false;
	json_t *e;
	size_t i;
	int r;

	if (events == NULL)
		return 0;
	if (!json_is_array(events) || json_array_size(events) > EVENTS_MAX)
		return sd_error(CLI_ERR_PROTOCOL, _("the server's case %s has a malformed list of audit events"),
		                case_number);
	json_array_foreach(events, i, e) if ((r = event_check(st, case_number, e, list, &any)) < 0) return r;
	if (!any && !st->w.json)
		printf("%s", _("  identity accesses: none\n"));
	return 0;
}

/* The case as --json shows it: the server's members but its notices and events, then
 * ours (the events: only the consent and identity-access ones, each checked). */
static json_t *case_json(json_t *c, json_t **list, json_t **events)
{
	json_t *o = json_deep_copy(c);

	*list = json_array();
	*events = json_array();
	if (o == NULL || *list == NULL || *events == NULL || json_object_set(o, "notices", *list) < 0 ||
	    json_object_set(o, "events", *events) < 0) {
		json_decref(o);
		json_decref(*list);
		json_decref(*events);
		*list = *events = NULL;
		return NULL;
	}
	json_decref(*list); /* o holds them */
	json_decref(*events);
	return o;
}

static int case_show(status_t *st, json_t *c)
{
	char num[SD_CASE_NUMBER_BYTES];
	const char *s = json_string_value(json_object_get(c, "case"));
	json_t *o = NULL, *list = NULL, *events = NULL;
	int r;

	if (!json_is_object(c) || s == NULL || !sd_case_number_is_valid(s) || !json_is_object(c) ||
	    !json_is_array(json_object_get(c, "notices")))
		return sd_error(CLI_ERR_PROTOCOL, "%s",
		                _("the server's answer lists a case without its number or notices"));
	snprintf(num, sizeof(num), "%s", s);
	if (st->w.json) {
		if ((o = case_json(c, &list, &events)) == NULL || json_array_append_new(st->out, o) < 0)
			return SD_ERR_NOMEM;
	} else {
		case_print(c);
		if ((r = consents_print(num, json_object_get(c, "consents"))) < 0)
			return r;
	}
	if ((r = events_show(st, num, json_object_get(c, "events"), events)) < 0)
		return r;
	return notices_show(st, num, json_object_get(c, "notices"), list);
}

/* The head in the answer, verified with the directory's log key; with --state-file, also
 * checked to extend the last head this client saw. */
static int head_check(status_t *st)
{
	json_t *h = json_object_get(st->answer, "head");
	char *text;
	int r;

	if (h == NULL || json_is_null(h))
		return 0;
	if (!json_is_object(h) || (text = json_dumps(h, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) == NULL)
		return json_is_object(h) ? SD_ERR_NOMEM
		                         : sd_error(CLI_ERR_PROTOCOL, "%s", _("the server's \"head\" is not a head"));
	r = sd_loghead_verify_with_directory((const uint8_t *)text, strlen(text), st->w.dir, &st->head);
	if (r < 0) {
		r = cli_log_answer_error(r, _("the server's log head"));
	} else if (st->state_file != NULL) {
		r = cli_log_state_advance(st->log, st->w.dir, st->state_file, &st->head, (const uint8_t *)text,
		                          strlen(text));
	}
	free(text);
	st->has_head = r == 0;
	return r;
}

static int status_summary(status_t *st, size_t n)
{
	char date[SD_DATE_TEXT_BYTES];
	int r = 0;

	if (st->w.json) {
		if (st->has_head)
			sd_date_format(st->head.date, date);
		r = cli_json_print(json_pack(
		        "{s:s, s:O, s:o}", "deployment", st->w.dir->deployment, "cases", st->out, "head",
		        st->has_head ? json_pack("{s:I, s:o, s:s}", "size", (json_int_t)st->head.size, "root",
		                                 cli_json_hex(st->head.root, SD_MERKLE_HASH_BYTES), "date", date)
		                     : json_null()));
	} else if (st->has_head) {
		sd_date_format(st->head.date, date);
		printf(_("%zu case(s); notices checked against the audit log's head of %s (%llu records)\n"), n, date,
		       (unsigned long long)st->head.size);
	} else {
		printf(_("%zu case(s); the audit log has no published head yet: every notice is pending\n"), n);
	}
	if (r == 0 && st->failed > 0)
		r = sd_error(SD_ERR_VERIFY,
		             _("%zu notice(s) FAILED their checks and were not shown: do not act on them"), st->failed);
	else if (r == 0 && st->failed_events > 0)
		r = sd_error(SD_ERR_VERIFY,
		             _("%zu audit event(s) of consents or identity accesses FAILED their checks"),
		             st->failed_events);
	return r;
}

static int status_run(status_t *st)
{
	json_t *cases, *c;
	size_t i;
	int r;

	if ((r = cli_wb_open(&st->w)) < 0 || (r = cli_wb_keys(&st->w)) < 0 ||
	    (r = cli_wb_status(&st->w, &st->answer)) < 0 ||
	    (r = cli_log_open(st->w.o.server, st->w.o.ca, NULL, NULL, &st->log)) < 0 || (r = head_check(st)) < 0)
		goto out;
	cases = json_object_get(st->answer, "cases");
	if (!json_is_array(cases) || json_array_size(cases) > CASES_MAX) {
		r = sd_error(CLI_ERR_PROTOCOL, "%s", _("the server's answer has no \"cases\" list"));
		goto out;
	}
	if (st->w.json && (st->out = json_array()) == NULL) {
		r = SD_ERR_NOMEM;
		goto out;
	}
	json_array_foreach(cases, i, c)
	{
		if (!st->w.json && i > 0)
			putchar('\n');
		if ((r = case_show(st, c)) < 0)
			goto out;
	}
	if (!st->w.json)
		putchar('\n');
	r = status_summary(st, json_array_size(cases));
out:
	return r;
}

int cmd_status(int argc, char **argv)
{
	status_t st = {.w.cmd = &status_cmd};
	const cli_opt_t opts[] = {
	        WB_OPTS(st.w),
	        {"state-file", OPT_STATE, .value = &st.state_file},
	        {0},
	};
	int r;

	if (cli_wants_help(argc, argv))
		return cli_wb_help(&status_cmd, status_options_help);
	if ((r = cli_getopt(&status_cmd, argc, argv, opts)) >= 0)
		return r;
	if (optind < argc)
		return cli_usage_error(&status_cmd, _("unexpected argument '%s'"), argv[optind]);
	if ((r = cli_wb_complete(&st.w)) >= 0)
		goto out;
	if ((r = status_run(&st)) < 0)
		r = cli_fail(status_cmd.name, r);
out:
	json_decref(st.answer);
	json_decref(st.out);
	cli_log_free(st.log);
	cli_wb_free(&st.w);
	return r;
}

/* --- sealdrop object --------------------------------------------------------------------- */

typedef struct {
	cli_wb_t w;
	const char *text_path, *case_number;
	char *text; /* the file's */
	size_t text_len;
	json_t *answer;
} object_t;

/* --text FILE, read and checked before anything is derived or sent. 0, or the exit
 * status of the error it printed. */
static int objection_load(object_t *ob)
{
	return cli_text_load(&object_cmd, ob->text_path, OBJECTION_MAX, &ob->text, &ob->text_len);
}

/* {"session", "case"?, "text": the objection sealed to the directory's intake key}. */
static int objection_body(object_t *ob, json_t *session, json_t **out)
{
	uint8_t *box = NULL;
	char *b64 = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	if ((r = sd_sealbox_seal(&ob->w.dir->intake, (const uint8_t *)ob->text, ob->text_len, &box, &len)) < 0)
		return cli_error_prefix(r, "%s", _("sealing the objection to the intake key"));
	r = SD_ERR_NOMEM;
	if ((b64 = malloc(sd_base64_len(len))) == NULL)
		goto out;
	sd_base64_encode(box, len, b64);
	if ((*out = json_pack("{s:O, s:s}", "session", session, "text", b64)) == NULL ||
	    (ob->case_number != NULL && json_object_set_new(*out, "case", json_string(ob->case_number)) < 0))
		goto out;
	r = 0;
out:
	if (r < 0) {
		json_decref(*out);
		*out = NULL;
	}
	free(box);
	free(b64);
	return r;
}

static int object_report(object_t *ob)
{
	char num[FIELD_MAX], date[FIELD_MAX], due[FIELD_MAX];
	json_t *a = ob->answer, *d = json_object_get(a, "deadline");

	if (ob->w.json) {
		ob->answer = NULL;
		return cli_json_print(a);
	}
	printf(_("objection to case %s accepted on %s; its text was sealed to the Commission's intake key\n"),
	       field(a, "case", num, sizeof(num)), field(a, "objected", date, sizeof(date)));
	printf(_("  state          %s\n"), field(a, "state", date, sizeof(date)));
	if (json_is_object(d))
		printf(_("  the Commission must request a reinvestigation or answer by %s (Art. 11-3(2))\n"),
		       field(d, "due", due, sizeof(due)));
	printf("%s\n", _("  follow it with 'sealdrop status'"));
	return 0;
}

static int object_run(object_t *ob)
{
	json_t *session = NULL, *body = NULL;
	char what[FIELD_MAX];
	int r;

	if ((r = cli_wb_open(&ob->w)) < 0 || (r = cli_wb_keys(&ob->w)) < 0 ||
	    (r = cli_wb_session(&ob->w, &session)) < 0 || (r = objection_body(ob, session, &body)) < 0)
		goto out;
	snprintf(what, sizeof(what), "%s", _("the objection"));
	if ((r = cli_wb_call(&ob->w, "POST", "/v1/wb/objection", body, what, &ob->answer)) < 0)
		goto out;
	r = object_report(ob);
out:
	json_decref(session);
	json_decref(body);
	return r;
}

int cmd_object(int argc, char **argv)
{
	object_t ob = {.w.cmd = &object_cmd};
	const cli_opt_t opts[] = {
	        WB_OPTS(ob.w),
	        {"text", OPT_TEXT, .value = &ob.text_path},
	        {"case", OPT_CASE, .value = &ob.case_number},
	        {0},
	};
	int r;

	if (cli_wants_help(argc, argv))
		return cli_wb_help(&object_cmd, object_options_help);
	if ((r = cli_getopt(&object_cmd, argc, argv, opts)) >= 0)
		return r;
	if (optind < argc)
		return cli_usage_error(&object_cmd, _("unexpected argument '%s'"), argv[optind]);
	if (ob.text_path == NULL)
		return cli_usage_error(&object_cmd, _("missing --text FILE"));
	if (ob.case_number != NULL && !sd_case_number_is_valid(ob.case_number))
		return cli_usage_error(&object_cmd, _("'%s' is not a case number (YYYY-NNNNNN)"), ob.case_number);
	sd_error_clear();
	if ((r = objection_load(&ob)) != 0 || (r = cli_wb_complete(&ob.w)) >= 0)
		goto out;
	if ((r = object_run(&ob)) < 0)
		r = cli_fail(object_cmd.name, r);
out:
	if (ob.text != NULL)
		sd_wipe(ob.text, ob.text_len);
	free(ob.text);
	json_decref(ob.answer);
	cli_wb_free(&ob.w);
	return r;
}
