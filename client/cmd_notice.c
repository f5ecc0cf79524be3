/*
 * cmd_notice.c — a case's notices (Decree Art. 11-4; docs/API.md, "GET
 * /v1/cases/{case}/notices" and "POST /v1/cases/{case}/notices"; include/sealdrop/notice.h):
 * `sealdrop notice` lets an officer send a written notice, `sealdrop notices` lists a
 * case's notices for an officer or the filing attorney.
 *
 * The server signs notices but must never hold a text a person wrote, and a reader must
 * not have to trust it: `notice` seals the text on this machine three ways (to the
 * whistleblower's notice key and the attorney's box key, both given by the case, and to
 * the intake key of a directory the pinned root signed) and checks the signed notice the
 * server answers with; `notices` verifies every notice's signature with that directory's
 * log key before showing it, and opens the box sealed to the key it is given (an
 * attorney's box key, or the intake key). Start at notice_run() and notices_run().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sealdrop/bytes.h"
#include "sealdrop/fileio.h"
#include "sealdrop/notice.h"
#include "sealdrop/receipt.h"
#include "sealdrop/sealdrop.h"
#include "cli.h"
#include "https.h"

#define QUERY_MAX       192
#define FIELD_MAX       96
#define DETAIL_MAX      256
#define NOTICES_MAX     256 /* notices one case holds (docs/API.md) */
#define NOTICE_KEY_SIZE 32

static const cli_cmd_t cmd_post = {
        "notice",
        N_("usage: sealdrop notice CASE --text FILE [--json]\n"
           "                       [--server URL --ca CA.pem --cert CERT.pem --key KEY.pem --root ROOTPUB]\n"),
        N_("\n"
           "Sends a written notice about case CASE (officer or custodian; Art. 11-4). FILE holds its\n"
           "text: 1 to 16384 bytes of UTF-8, without control characters other than newline and tab.\n"
           "The text is sealed on this machine to the whistleblower's notice key and the filing\n"
           "attorney's box key (both from the case) and to the intake key of the server's directory,\n"
           "which must verify against --root; the server never holds it in the clear. It signs the\n"
           "three boxes with its log key; the signed notice is checked before its number, kind and\n"
           "date are printed.\n"
           "\n"
           "  --text FILE             the notice's text\n"
           "  --server URL            the server, https://HOST[:PORT]\n"
           "  --ca CA.pem             the server's CA certificate: the only one trusted\n"
           "  --cert CERT.pem         your client certificate (officer, custodian)\n"
           "  --key KEY.pem           its private key (keep it mode 0600)\n"
           "  --root ROOTPUB          the pinned root public key the directory must be signed by\n"
           "  --json                  print the new notice as the server gives it\n"
           "  -h, --help              this help\n"
           "\n"
           "Options not given are taken from the config file $XDG_CONFIG_HOME/sealdrop/config\n"
           "(~/.config/sealdrop/config; SEALDROP_CONFIG=FILE names another).\n"),
};

static const cli_cmd_t cmd_list = {
        "notices",
        N_("usage: sealdrop notices CASE [--box-key KEY | --intake KEY...] [--passphrase-file F] [--json]\n"
           "                        [--server URL --ca CA.pem --cert CERT.pem --key KEY.pem --root ROOTPUB]\n"),
        N_("\n"
           "Lists the notices of case CASE in order: number, date and kind (an officer or custodian\n"
           "sees any case's, an attorney their own filings'). Each notice's signature is checked\n"
           "with the log key of the server's directory, which must verify against --root; a notice\n"
           "that does not verify is shown as NOT VERIFIED and the command exits 65 after the list.\n"
           "With a key, the text of each notice is opened and shown; without one, it is not.\n"
           "\n"
           "  --box-key KEY           an attorney's box secret key (sealdrop keygen --kind attorney):\n"
           "                          opens the box sealed to the attorney\n"
           "  --intake KEY            the intake secret key: opens the box sealed to the Commission;\n"
           "                          repeat it for each key kept (a notice does not name its key,\n"
           "                          so each is unlocked and tried)\n"
           "  --passphrase-file F     the key's passphrase from F instead of the terminal\n"
           "                          (RISK: a passphrase in a file can be copied or seized)\n"
           "  --server URL            the server, https://HOST[:PORT]\n"
           "  --ca CA.pem             the server's CA certificate: the only one trusted\n"
           "  --cert CERT.pem         your client certificate (officer, custodian; attorney)\n"
           "  --key KEY.pem           its private key (keep it mode 0600)\n"
           "  --root ROOTPUB          the pinned root public key the directory must be signed by\n"
           "  --json                  print {\"case\", \"notices\": [...]}: each entry as the server gives\n"
           "                          it, with \"verified\", \"problem\" and \"text\"\n"
           "  -h, --help              this help\n"
           "\n"
           "Options not given are taken from the config file $XDG_CONFIG_HOME/sealdrop/config\n"
           "(~/.config/sealdrop/config; SEALDROP_CONFIG=FILE names another); the key is not: without\n"
           "--box-key or --intake no text is shown.\n"),
};

enum {
	OPT_SERVER = 256,
	OPT_CA,
	OPT_CERT,
	OPT_KEY,
	OPT_ROOT,
	OPT_JSON,
	OPT_TEXT,
	OPT_BOX_KEY,
	OPT_INTAKE,
	OPT_PASSFILE,
};

/* --- shared: the server, its directory, answers ---------------------------------------- */

/* What both commands hold: options (filled from the config file), the connection and the
 * directory the pinned root signed. */
typedef struct {
	cli_remote_opts_t o;
	cli_config_t cfg;
	cli_remote_t *remote;
	sd_directory_t *dir;
	const char *case_number;
	bool json;
} net_t;

static void net_free(net_t *n)
{
	sd_directory_free(n->dir);
	n->dir = NULL;
	cli_remote_free(n->remote);
	n->remote = NULL;
	cli_config_free(&n->cfg);
}

/* After getopt: the config file fills what the command line left out (config.c); both
 * commands need the directory, so --root too. */
static int net_complete(const cli_cmd_t *cmd, net_t *n)
{
	return cli_remote_complete(cmd, &n->cfg, &n->o, CLI_NEED_ROOT);
}

/* Connects and fetches the directory (config.c: verified with the pinned root, today's
 * date, anti-rollback, and listing the CA the connection trusts). */
static int net_open(net_t *n, const char *cmd)
{
	int r;

	if ((r = cli_remote_open(&n->o, cmd, &n->remote)) < 0 || (r = cli_remote_directory(n->remote, &n->dir)) < 0)
		return r;
	if (n->dir->test)
		cli_directory_warn_test();
	return 0;
}

/* method path: 0 with the answer's JSON object when the status is `want`. */
static int net_call(net_t *n, const char *method, const char *path, const json_t *body, int want, const char *what,
                    json_t **out)
{
	cli_https_response_t resp;
	int r;

	*out = NULL;
	if ((r = cli_remote_request(n->remote, method, path, body, &resp)) < 0)
		goto out;
	if (resp.status != want) {
		r = cli_http_fail(&resp, what);
		goto out;
	}
	r = cli_answer_object(&resp, what, out);
out:
	cli_https_response_free(&resp);
	return r;
}

/* A notice document as the server gives it, verified with the directory's log key (and
 * deployment) and checked to be about this case. *out owns its boxes (sd_notice_clear). */
static int notice_verify(const net_t *n, json_t *doc, sd_notice_t *out)
{
	char *text;
	int r;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(doc))
		return sd_error(SD_ERR_FORMAT, _("the entry holds no signed notice"));
	if ((text = json_dumps(doc, JSON_COMPACT)) == NULL)
		return SD_ERR_NOMEM;
	r = sd_notice_verify_with_directory((const uint8_t *)text, strlen(text), n->dir, out);
	free(text);
	if (r == 0 && strcmp(out->case_number, n->case_number) != 0) {
		r = sd_error(SD_ERR_VERIFY, _("the notice is about case %s, not %s"), out->case_number, n->case_number);
		sd_notice_clear(out);
	}
	return r;
}

/* CASE, a case number. 0 or the usage exit status. */
static int case_operand(const cli_cmd_t *cmd, int argc, char **argv, net_t *n)
{
	int r;

	if ((r = cli_one_argument(cmd, argc, argv, _("missing the CASE number"), &n->case_number)) != 0)
		return r;
	if (!sd_case_number_is_valid(n->case_number))
		return cli_usage_error(cmd, _("'%s' is not a case number (YYYY-NNNNNN)"), n->case_number);
	return 0;
}

/* --- sealdrop notice --------------------------------------------------------------------- */

typedef struct {
	net_t n;
	const char *text_path;
	char *text; /* the file's, NUL-terminated */
	size_t text_len;
	uint8_t notice_pk[NOTICE_KEY_SIZE], attorney_pk[NOTICE_KEY_SIZE];
	bool has_attorney;
	sd_notice_t sent; /* the three boxes */
	json_t *body, *answer;
} post_t;

static void post_free(post_t *p)
{
	if (p->text != NULL)
		sd_wipe(p->text, p->text_len);
	free(p->text);
	p->text = NULL;
	sd_notice_clear(&p->sent);
	json_decref(p->body);
	json_decref(p->answer);
	net_free(&p->n);
}

/* --text FILE: 1..SD_NOTICE_TEXT_MAX bytes of clean UTF-8, read before anything is sent.
 * 0, or the usage exit status (-1 and an error for a file that cannot be read). */
static int text_load(post_t *p)
{
	return cli_text_load(&cmd_post, p->text_path, SD_NOTICE_TEXT_MAX, &p->text, &p->text_len);
}

/* One base64 key of the case: 32 bytes, or a protocol error naming it. */
static int key_decode(const char *b64, const char *name, uint8_t out[NOTICE_KEY_SIZE])
{
	if (b64 == NULL || strlen(b64) != sd_base64_len(NOTICE_KEY_SIZE) - 1 ||
	    sd_base64_decode_exact(b64, out, NOTICE_KEY_SIZE) < 0)
		return sd_error(CLI_ERR_PROTOCOL, _("the server's case has no valid \"%s\""), name);
	return 0;
}

/* GET /v1/cases/{case}: the whistleblower's notice key and the attorney's box key. */
static int case_keys(post_t *p)
{
	char path[QUERY_MAX], what[64];
	json_t *c = NULL, *nk, *ak;
	const char *num;
	int r;

	snprintf(path, sizeof(path), "/v1/cases/%s", p->n.case_number);
	snprintf(what, sizeof(what), _("case %s"), p->n.case_number);
	if ((r = net_call(&p->n, "GET", path, NULL, 200, what, &c)) < 0)
		return r;
	nk = json_object_get(c, "notice_key");
	ak = json_object_get(c, "attorney_box_key");
	num = json_string_value(json_object_get(c, "case"));
	if (num == NULL || strcmp(num, p->n.case_number) != 0)
		r = sd_error(CLI_ERR_PROTOCOL, _("the server answered with another case than %s"), p->n.case_number);
	else if (json_is_null(nk))
		r = sd_error(SD_ERR_REFUSED, _("case %s was filed before notices existed: it has no notice key"),
		             p->n.case_number);
	else if ((r = key_decode(json_string_value(nk), "notice_key", p->notice_pk)) == 0 && ak != NULL &&
	         !json_is_null(ak)) {
		r = key_decode(json_string_value(ak), "attorney_box_key", p->attorney_pk);
		p->has_attorney = r == 0;
	}
	json_decref(c);
	return r;
}

/* Sets name to the base64 of a box. */
static int body_box(json_t *body, const char *name, const uint8_t *box, size_t len)
{
	char *b64 = malloc(sd_base64_len(len));
	int r = SD_ERR_NOMEM;

	if (b64 != NULL) {
		sd_base64_encode(box, len, b64);
		r = json_object_set_new(body, name, json_string(b64)) == 0 ? 0 : SD_ERR_NOMEM;
	}
	free(b64);
	return r;
}

/* Seals the text three ways and builds {"to_whistleblower", "to_attorney"?, "to_commission"}. */
static int body_build(post_t *p)
{
	sd_notice_t *s = &p->sent;
	int r;

	if ((r = sd_notice_seal(s, p->text, p->notice_pk, p->has_attorney ? p->attorney_pk : NULL, &p->n.dir->intake)) <
	    0)
		return cli_error_prefix(r, _("sealing the notice"));
	if ((p->body = json_object()) == NULL)
		return SD_ERR_NOMEM;
	if ((r = body_box(p->body, "to_whistleblower", s->to_whistleblower, s->whistleblower_len)) < 0 ||
	    (s->to_attorney != NULL && (r = body_box(p->body, "to_attorney", s->to_attorney, s->attorney_len)) < 0))
		return r;
	return body_box(p->body, "to_commission", s->to_commission, s->commission_len);
}

static bool box_is(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (a == NULL || b == NULL)
		return a == b;
	return alen == blen && sd_equal(a, b, alen) == 1;
}

/* The server's answer: a written notice of this case it signed over exactly our boxes. */
static int answer_check(post_t *p, sd_notice_t *got)
{
	const sd_notice_t *s = &p->sent;
	int r;

	if ((r = notice_verify(&p->n, json_object_get(p->answer, "notice"), got)) < 0)
		return cli_error_prefix(r, _("the notice the server answered with (stored nonetheless)"));
	if (got->kind != SD_NOTICE_WRITTEN ||
	    !box_is(got->to_whistleblower, got->whistleblower_len, s->to_whistleblower, s->whistleblower_len) ||
	    !box_is(got->to_attorney, got->attorney_len, s->to_attorney, s->attorney_len) ||
	    !box_is(got->to_commission, got->commission_len, s->to_commission, s->commission_len))
		return sd_error(SD_ERR_VERIFY,
		                _("the server signed a notice of case %s other than the one sent "
		                  "(stored nonetheless)"),
		                p->n.case_number);
	return 0;
}

static int notice_report(post_t *p)
{
	sd_notice_t got;
	char date[SD_DATE_TEXT_BYTES];
	json_t *answer;
	int r;

	if ((r = answer_check(p, &got)) < 0)
		return r;
	sd_date_format(got.date, date);
	if (p->n.json) {
		answer = p->answer;
		p->answer = NULL;
		r = cli_json_print(answer);
	} else {
		printf(_("case %s: notice %u (%s) of %s sent, signed by the log key\n"), p->n.case_number,
		       (unsigned)got.seq, sd_notice_kind_name(got.kind), date);
		printf(_("  sealed to: the whistleblower, %sthe Commission\n"),
		       got.to_attorney != NULL ? _("the attorney, ") : "");
	}
	sd_notice_clear(&got);
	return r;
}

static int notice_run(post_t *p)
{
	char path[QUERY_MAX], what[64];
	int r;

	if ((r = net_open(&p->n, cmd_post.name)) < 0 || (r = case_keys(p)) < 0 || (r = body_build(p)) < 0)
		return r;
	snprintf(path, sizeof(path), "/v1/cases/%s/notices", p->n.case_number);
	snprintf(what, sizeof(what), _("the notice to case %s"), p->n.case_number);
	if ((r = net_call(&p->n, "POST", path, p->body, 201, what, &p->answer)) < 0)
		return r;
	return notice_report(p);
}

int cmd_notice(int argc, char **argv)
{
	post_t p = {0};
	const cli_opt_t opts[] = {
	        {"text", OPT_TEXT, .value = &p.text_path}, {"server", OPT_SERVER, .value = &p.n.o.server},
	        {"ca", OPT_CA, .value = &p.n.o.ca},        {"cert", OPT_CERT, .value = &p.n.o.cert},
	        {"key", OPT_KEY, .value = &p.n.o.key},     {"root", OPT_ROOT, .value = &p.n.o.root},
	        {"json", OPT_JSON, .flag = &p.n.json},     {0},
	};
	int r;

	if ((r = cli_getopt(&cmd_post, argc, argv, opts)) >= 0)
		return r;
	if ((r = case_operand(&cmd_post, argc, argv, &p.n)) != 0)
		return r;
	if (p.text_path == NULL)
		return cli_usage_error(&cmd_post, _("missing --text FILE"));
	sd_error_clear();
	if ((r = text_load(&p)) != 0 || (r = net_complete(&cmd_post, &p.n)) >= 0)
		goto out;
	if ((r = notice_run(&p)) < 0)
		r = cli_fail(cmd_post.name, r);
out:
	post_free(&p);
	return r;
}

/* --- sealdrop notices -------------------------------------------------------------------- */

typedef struct {
	net_t n;
	const char *box_key, *passfile;
	cli_keys_t intake;
	sd_seckey_t *key[CLI_KEYS_MAX]; /* key[0] NULL: no text */
	json_t *list;                   /* the server's answer */
	json_t *all;                    /* --json: the entries shown */
	size_t bad, unopened;
} list_t;

/* What one entry came to: the verified notice, its text, or why not. */
typedef struct {
	sd_notice_t nt;
	bool verified;
	char *text; /* secret memory; NULL when not opened */
	size_t text_len;
	char problem[DETAIL_MAX];
} shown_t;

static void shown_clear(shown_t *s)
{
	sd_notice_clear(&s->nt);
	sd_secret_free(s->text);
	s->text = NULL;
}

/* Opens the box sealed to the key given: the attorney's or the Commission's (with
 * several intake keys, each in turn: the box does not name the key it is sealed to). */
static void entry_open(list_t *l, shown_t *s)
{
	bool attorney = l->key[0]->kind == SD_KEY_ATTORNEY;
	const uint8_t *box = attorney ? s->nt.to_attorney : s->nt.to_commission;
	size_t len = attorney ? s->nt.attorney_len : s->nt.commission_len;

	l->unopened++;
	if (box == NULL) {
		snprintf(s->problem, sizeof(s->problem), "%s", _("no box is sealed to the attorney"));
		return;
	}
	for (size_t i = 0; i < CLI_KEYS_MAX && l->key[i] != NULL; i++) {
		sd_error_clear();
		if (sd_notice_open(box, len, l->key[i]->pk, l->key[i]->sk, &s->text, &s->text_len) == 0) {
			l->unopened--;
			return;
		}
		snprintf(s->problem, sizeof(s->problem), "%s", sd_error_detail());
	}
}

/* Verifies entry i (its notice must be number i) and opens it when there is a key. */
static int entry_check(list_t *l, size_t i, json_t *e, shown_t *s)
{
	int r;

	sd_error_clear();
	r = notice_verify(&l->n, json_object_get(e, "notice"), &s->nt);
	if (r == SD_ERR_NOMEM)
		return r;
	if (r == 0 && s->nt.seq != i) {
		r = sd_error(SD_ERR_VERIFY, _("the notice is number %u, listed as number %zu"), (unsigned)s->nt.seq, i);
		sd_notice_clear(&s->nt);
	}
	if (r < 0) {
		snprintf(s->problem, sizeof(s->problem), "%s", sd_error_detail());
		l->bad++;
		return 0;
	}
	s->verified = true;
	if (l->key[0] != NULL)
		entry_open(l, s);
	return 0;
}

static void entry_print(json_t *e, const shown_t *s)
{
	char date[SD_DATE_TEXT_BYTES], kind[FIELD_MAX], d[FIELD_MAX];
	const char *k, *dt;

	if (!s->verified) {
		/* What the server claims, shown only to tell which entry it is. */
		k = json_string_value(json_object_get(e, "kind"));
		dt = json_string_value(json_object_get(e, "date"));
		printf(_("  %4lld  %-10s  %-15s  NOT VERIFIED: %s\n"),
		       (long long)json_integer_value(json_object_get(e, "seq")),
		       dt != NULL ? sd_error_printable(dt, d, sizeof(d)) : "-",
		       k != NULL ? sd_error_printable(k, kind, sizeof(kind)) : "-", s->problem);
		return;
	}
	sd_date_format(s->nt.date, date);
	printf("  %4u  %-10s  %-15s  %s\n", (unsigned)s->nt.seq, date, sd_notice_kind_name(s->nt.kind),
	       s->problem[0] != '\0' ? s->problem : _("verified"));
	if (s->text != NULL) {
		cli_text_print_indented(s->text, 6);
		putchar('\n');
	}
}

/* --json: the entry as served, with what this client made of it. */
static int entry_json(list_t *l, json_t *e, const shown_t *s)
{
	json_t *o = json_copy(e);
	int r = 0;

	if (o == NULL)
		return SD_ERR_NOMEM;
	r |= json_object_set_new(o, "verified", json_boolean(s->verified));
	if (s->problem[0] != '\0')
		r |= json_object_set_new(o, "problem", json_string(s->problem));
	if (s->text != NULL)
		r |= json_object_set_new(o, "text", json_stringn(s->text, s->text_len));
	if (r != 0 || json_array_append_new(l->all, o) != 0)
		return SD_ERR_NOMEM;
	return 0;
}

static int entries_show(list_t *l, json_t *entries)
{
	shown_t s;
	json_t *e;
	size_t i;
	int r = 0;

	if (!l->n.json && json_array_size(entries) > 0)
		printf("  %4s  %-10s  %-15s  %s\n", _("seq"), _("date"), _("kind"), _("signature"));
	json_array_foreach(entries, i, e)
	{
		memset(&s, 0, sizeof(s));
		if (!json_is_object(e))
			r = sd_error(CLI_ERR_PROTOCOL,
			             _("the server's list of notices holds something else than an entry"));
		else if ((r = entry_check(l, i, e, &s)) == 0)
			r = l->n.json ? entry_json(l, e, &s) : (entry_print(e, &s), 0);
		shown_clear(&s);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The end: a count, and 65 when anything did not verify or open. */
static int list_summary(list_t *l, size_t count)
{
	int r = 0;

	if (l->n.json)
		r = cli_json_print(json_pack("{s:s, s:O}", "case", l->n.case_number, "notices", l->all));
	else if (count == 0)
		printf("%s\n", _("no notices"));
	else if (l->bad == 0)
		printf(count == 1 ? _("%zu notice, signed by the log key of deployment %s\n")
		                  : _("%zu notices, each signed by the log key of deployment %s\n"),
		       count, l->n.dir->deployment);
	if (r < 0)
		return r;
	if (l->bad > 0)
		return sd_error(SD_ERR_VERIFY, _("%zu of %zu notices of case %s do NOT verify: do not trust them"),
		                l->bad, count, l->n.case_number);
	if (l->unopened > 0)
		return sd_error(SD_ERR_WRONG_KEY, _("%zu of %zu notices of case %s do not open with %s"), l->unopened,
		                count, l->n.case_number, l->box_key != NULL ? l->box_key : l->intake.path[0]);
	return 0;
}

static int notices_run(list_t *l)
{
	char path[QUERY_MAX], what[64];
	json_t *entries;
	int r;

	if (l->box_key != NULL)
		r = cli_seckey_load("--box-key", l->box_key, SD_KEY_ATTORNEY, l->passfile, &l->key[0]);
	else if (l->intake.n > 0)
		r = cli_seckey_load_all(&l->intake, SD_KEY_INTAKE, l->passfile, l->key);
	else
		r = 0;
	if (r < 0 || (r = net_open(&l->n, cmd_list.name)) < 0)
		return r;
	snprintf(path, sizeof(path), "/v1/cases/%s/notices", l->n.case_number);
	snprintf(what, sizeof(what), _("the notices of case %s"), l->n.case_number);
	if ((r = net_call(&l->n, "GET", path, NULL, 200, what, &l->list)) < 0)
		return r;
	entries = json_object_get(l->list, "notices");
	if (!json_is_array(entries))
		return sd_error(CLI_ERR_PROTOCOL, _("the server's list of notices has no \"notices\" array"));
	if (json_array_size(entries) > NOTICES_MAX)
		return sd_error(CLI_ERR_PROTOCOL, _("the server lists more than %d notices for one case"), NOTICES_MAX);
	if (l->n.json && (l->all = json_array()) == NULL)
		return SD_ERR_NOMEM;
	if ((r = entries_show(l, entries)) < 0)
		return r;
	return list_summary(l, json_array_size(entries));
}

int cmd_notices(int argc, char **argv)
{
	list_t l = {.intake = {.cmd = &cmd_list, .opt = "--intake"}};
	const cli_opt_t opts[] = {
	        {"box-key", OPT_BOX_KEY, .value = &l.box_key},
	        {"intake", OPT_INTAKE, .take = cli_keys_take, .dst = &l.intake},
	        {"passphrase-file", OPT_PASSFILE, .value = &l.passfile},
	        {"server", OPT_SERVER, .value = &l.n.o.server},
	        {"ca", OPT_CA, .value = &l.n.o.ca},
	        {"cert", OPT_CERT, .value = &l.n.o.cert},
	        {"key", OPT_KEY, .value = &l.n.o.key},
	        {"root", OPT_ROOT, .value = &l.n.o.root},
	        {"json", OPT_JSON, .flag = &l.n.json},
	        {0},
	};
	int r;

	if ((r = cli_getopt(&cmd_list, argc, argv, opts)) >= 0)
		return r;
	if ((r = case_operand(&cmd_list, argc, argv, &l.n)) != 0)
		return r;
	if (l.box_key != NULL && l.intake.n > 0)
		return cli_usage_error(&cmd_list, _("--box-key and --intake do not go together: give one key"));
	if (l.passfile != NULL && l.box_key == NULL && l.intake.n == 0)
		return cli_usage_error(&cmd_list, _("--passphrase-file goes with --box-key or --intake"));
	if ((r = net_complete(&cmd_list, &l.n)) >= 0)
		goto out;
	if ((r = notices_run(&l)) < 0)
		r = cli_fail(cmd_list.name, r);
out:
	cli_seckeys_free(l.key);
	json_decref(l.list);
	json_decref(l.all);
	net_free(&l.n);
	return r;
}
