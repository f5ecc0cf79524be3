/*
 * cmd_unseal.c — `sealdrop unseal`: the custodians open the whistleblower's identity
 * record, only with their live consent (DESIGN.md, "Consent-gated identity release";
 * docs/API.md, "POST /v1/cases/{case}/unseal").
 *
 * In order (unseal_run()), so that nothing is asked of the server, and nothing recorded
 * there, before the custodians hold a key that can use the answer:
 *   1. the identity key: one key file, or K share files whose clear headers must make a
 *      complete set of one split (sd_keyshare_check_set) before any passphrase is asked;
 *      the key is rebuilt only in secret memory;
 *   2. the directory, trusted only once the pinned root key verifies it; the key must be
 *      the directory's identity key;
 *   3. the case's header, which must hash to the case's digest, carry a valid signature,
 *      be of the directory's deployment and be sealed to this identity key;
 *   4. POST unseal {"scope": "commission"}: the server answers with the live consent and
 *      its release, or 403 no_consent (exit 77, the identity stays sealed). The consent
 *      must be for this package, signed by the key in its header, and grant the
 *      directory's identity key (never a key the server names);
 *   5. the identity blob, checked against the signed manifest, opened with s_c (identity
 *      key) and s_w (the release), validated as a record, printed or written to --out.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sealdrop/bytes.h"
#include "sealdrop/consent.h"
#include "sealdrop/envelope.h"
#include "sealdrop/fileio.h"
#include "sealdrop/identity.h"
#include "sealdrop/keyshare.h"
#include "sealdrop/receipt.h"
#include "sealdrop/sealdrop.h"
#include "cli.h"
#include "https.h"

#define SHARES_MAX       255 /* a split has at most 255 shares */
#define HEX_DIGEST_BYTES (2 * SD_HASH_BYTES + 1)

static const cli_cmd_t cmd = {
        "unseal",
        N_("usage: sealdrop unseal CASE (--identity-key KEY... [--passphrase-file F] | --share FILE[:PASSFILE]...)\n"
           "                       [--out FILE] [--json]\n"
           "                       [--server URL --ca CA.pem --cert CERT.pem --key KEY.pem --root ROOTPUB]\n"),
        N_("\n"
           "Opens the whistleblower's identity record of case CASE (custodian certificate), which\n"
           "is possible only while the whistleblower's consent for the Commission is live. The\n"
           "server hands out the consent and the whistleblower's share of the identity key; without\n"
           "a live consent it refuses (exit 77) and the identity stays sealed. Every attempt, refused\n"
           "ones included, is in the audit log, and the whistleblower is told of each access.\n"
           "\n"
           "The identity key is either one key file or K of the N shares `sealdrop keygen --kind\n"
           "identity --split K/N` made, brought together here by K custodians: the shares are\n"
           "checked to be one complete set before any passphrase is asked, and the key is rebuilt\n"
           "only in protected memory for this one unseal.\n"
           "\n"
           "Nothing the server sends is trusted: the header must be the case's, signed, and of the\n"
           "directory's deployment; the consent must be signed by the whistleblower's key in that\n"
           "header and grant the directory's identity key; the identity blob must match the\n"
           "header's manifest.\n"
           "\n"
           "  --identity-key KEY      the identity secret key file; repeat it for each key kept: the\n"
           "                          one the package is sealed to is chosen by the KEY.pub beside\n"
           "                          each (after a rotation, the consent may grant the directory's\n"
           "                          newer key: that one is needed too)\n"
           "  --passphrase-file F     its passphrase from F instead of the terminal\n"
           "                          (RISK: a passphrase in a file can be copied or seized)\n"
           "  --share FILE[:PASSFILE] a share file, and the file its passphrase is in (without one,\n"
           "                          asked on the terminal); give it once per custodian, K times\n"
           "  --out FILE              write the identity record (JSON) to FILE, mode 0600, instead of\n"
           "                          printing it (RISK: the file is the identity, in the clear)\n"
           "  --server URL            the server, https://HOST[:PORT]\n"
           "  --ca CA.pem             the server's CA certificate: the only one trusted\n"
           "  --cert CERT.pem         your client certificate (custodian)\n"
           "  --key KEY.pem           its private key (keep it mode 0600)\n"
           "  --root ROOTPUB          the pinned root public key the directory must be signed by\n"
           "  --json                  print the result as one JSON object\n"
           "  -h, --help              this help\n"
           "\n"
           "Options not given are taken from the config file $XDG_CONFIG_HOME/sealdrop/config\n"
           "(~/.config/sealdrop/config; SEALDROP_CONFIG=FILE names another): server, ca, cert, key\n"
           "and root.\n"),
};

enum { OPT_SERVER = 256, OPT_CA, OPT_CERT, OPT_KEY, OPT_ROOT, OPT_IDKEY, OPT_PASSFILE, OPT_SHARE, OPT_OUT, OPT_JSON };

typedef struct {
	cli_remote_opts_t o;
	cli_config_t cfg;
	const char *case_number, *passfile, *out;
	cli_keys_t identity_key;
	const char **shares;
	size_t n_shares;
	bool json;
} unseal_args_t;

/* Everything one unseal holds; released by unseal_free. */
typedef struct {
	const unseal_args_t *a;
	cli_remote_t *rm;
	sd_directory_t *dir;
	sd_header_t *h;
	sd_seckey_t *key;   /* the header's identity key: opens the Commission's share */
	sd_seckey_t *grant; /* the directory's, which the consent grants (NULL: key) */
	sd_consent_t consent;
	char consent_id[HEX_DIGEST_BYTES];
	json_t *leaf_index;
	uint8_t *release; /* SD_CONSENT_RELEASE_BYTES */
	uint8_t *blob;    /* SD_IDENTITY_BLOB_BYTES */
	char *identity;   /* secret memory: the canonical record */
	size_t identity_len;
} unseal_t;

static void unseal_free(unseal_t *s)
{
	cli_remote_free(s->rm);
	sd_directory_free(s->dir);
	sd_header_free(s->h);
	sd_seckey_free(s->key);
	sd_seckey_free(s->grant);
	json_decref(s->leaf_index);
	free(s->release);
	free(s->blob);
	sd_secret_free(s->identity);
}

/* --- the identity key ----------------------------------------------------------------- */

/* FILE[:PASSFILE] split at the last ':' into *file (malloc'd) and *pass (into arg, or NULL). */
static int share_arg(const char *arg, char **file, const char **pass)
{
	const char *colon = strrchr(arg, ':');
	size_t n = colon != NULL ? (size_t)(colon - arg) : strlen(arg);

	*pass = colon != NULL && colon[1] != '\0' ? colon + 1 : NULL;
	if (n == 0)
		return sd_error(SD_ERR_USAGE, _("--share '%s' names no share file"), arg);
	if ((*file = strndup(arg, n)) == NULL)
		return SD_ERR_NOMEM;
	return 0;
}

/* Every share's clear header, then the set's completeness: before any passphrase. */
static int shares_check(char **files, size_t n)
{
	sd_keyshare_info_t *infos = calloc(n, sizeof(*infos));
	const sd_keyshare_info_t **ptrs = calloc(n, sizeof(*ptrs));
	int r = SD_ERR_NOMEM;

	if (infos == NULL || ptrs == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if ((r = sd_keyshare_read_info(files[i], &infos[i])) < 0)
			goto out;
		ptrs[i] = &infos[i];
	}
	if ((r = sd_keyshare_check_set(ptrs, n)) < 0)
		r = cli_error_prefix(r, "--share");
out:
	free(infos);
	free(ptrs);
	return r;
}

/* Each share unlocked with its passphrase (file, or the terminal), then combined. */
static int shares_combine(char **files, const char **passes, size_t n, sd_seckey_t **key)
{
	sd_keyshare_t **shares = calloc(n, sizeof(*shares));
	char *pass = NULL, prompt[512];
	size_t plen = 0, got = 0;
	int r = SD_ERR_NOMEM;

	if (shares == NULL)
		return r;
	for (got = 0; got < n; got++) {
		snprintf(prompt, sizeof(prompt), _("Passphrase for share %s: "), files[got]);
		if ((r = cli_passphrase_read(passes[got], prompt, &pass, &plen)) < 0 ||
		    (r = sd_keyshare_read(files[got], pass, plen, &shares[got])) < 0)
			break;
		sd_secret_free(pass);
		pass = NULL;
	}
	if (r == 0)
		r = sd_keyshare_combine((const sd_keyshare_t *const *)shares, n, key);
	sd_secret_free(pass);
	for (size_t i = 0; i < n; i++)
		sd_keyshare_free(shares[i]);
	free(shares);
	return r;
}

/* The shares' clear headers checked, then (key not NULL) the key rebuilt from them. */
static int load_shares(const char *const *args, size_t n, sd_seckey_t **key)
{
	char **files = calloc(n, sizeof(*files));
	const char **passes = calloc(n, sizeof(*passes));
	int r = files == NULL || passes == NULL ? SD_ERR_NOMEM : 0;

	for (size_t i = 0; r == 0 && i < n; i++)
		r = share_arg(args[i], &files[i], &passes[i]);
	if (r == 0 && (r = shares_check(files, n)) == 0 && key != NULL)
		r = shares_combine(files, passes, n, key);
	for (size_t i = 0; files != NULL && i < n; i++)
		free(files[i]);
	free(files);
	free(passes);
	return r;
}

int cli_identity_key_load(const cli_keys_t *keys, const uint8_t id[SD_KEY_ID_BYTES], const char *what,
                          const char *passfile, const char *const *shares, size_t n_shares, sd_seckey_t **key)
{
	char want[SD_KEY_ID_HEX_BYTES], have[SD_KEY_ID_HEX_BYTES];
	int r;

	if (keys->n > 0)
		return cli_seckey_load_matching(keys, SD_KEY_IDENTITY, id, what, passfile, key);
	if ((r = load_shares(shares, n_shares, key)) < 0 || sd_equal((*key)->id, id, SD_KEY_ID_BYTES))
		return r;
	sd_key_id_hex(id, want);
	sd_key_id_hex((*key)->id, have);
	sd_seckey_free(*key);
	*key = NULL;
	return sd_error(SD_ERR_WRONG_KEY, _("%s is sealed to identity key %s; the shares make key %s"), what, want,
	                have);
}

/* The header's identity key, then the directory's when it differs (a rotation since the
 * filing): the consent grants the directory's key, so its release is sealed to it. */
static int load_key(unseal_t *s)
{
	const unseal_args_t *a = s->a;
	char what[64];
	int r;

	snprintf(what, sizeof(what), _("case %s's package"), a->case_number);
	r = cli_identity_key_load(&a->identity_key, s->h->identity_id, what, a->passfile, a->shares, a->n_shares,
	                          &s->key);
	if (r < 0 || sd_equal(s->key->pk, s->dir->identity.pk, SD_KEY_PUBLIC_BYTES))
		return r;
	snprintf(what, sizeof(what), "%s", _("the consent's release (to the directory's key)"));
	return cli_identity_key_load(&a->identity_key, s->dir->identity.id, what, a->passfile, a->shares, a->n_shares,
	                             &s->grant);
}

/* --- the server ----------------------------------------------------------------------- */

/* GET path; a status other than 200 is cli_http_fail's (4xx 77, 5xx 69). */
static int get(unseal_t *s, const char *path, const char *what, cli_https_response_t *resp)
{
	int r;

	if ((r = cli_remote_request(s->rm, "GET", path, NULL, resp)) < 0)
		return r;
	return resp->status == 200 ? 0 : cli_http_fail(resp, what);
}

/* The directory (its identity key is the only grantee we accept), then the case's header:
 * parsed (signature checked), hashing to the digest the case names, of the directory's
 * deployment. */
static int connect_server(unseal_t *s)
{
	int r;

	if ((r = cli_remote_open(&s->a->o, cmd.name, &s->rm)) < 0 || (r = cli_remote_directory(s->rm, &s->dir)) < 0)
		return r;
	return cli_fetch_header(cli_remote_conn(s->rm), s->dir, s->a->case_number, &s->h);
}

int cli_unseal_answer(json_t *o, char **doc, uint8_t release[SD_CONSENT_RELEASE_BYTES], const char **cid)
{
	const char *rel = json_string_value(json_object_get(o, "release"));

	*cid = json_string_value(json_object_get(o, "consent_id"));
	*doc = json_dumps(json_object_get(o, "consent"), JSON_COMPACT);
	if (*doc != NULL && *cid != NULL && rel != NULL && strlen(*cid) == HEX_DIGEST_BYTES - 1 &&
	    sd_base64_decode_exact(rel, release, SD_CONSENT_RELEASE_BYTES) == 0)
		return 0;
	free(*doc);
	*doc = NULL;
	return sd_error(CLI_ERR_PROTOCOL, _("the server's answer to the unseal is not a consent and a release"));
}

int cli_consent_id_check(const sd_consent_t *c, const char *cid, char out[2 * SD_CONSENT_ID_BYTES + 1])
{
	uint8_t id[SD_CONSENT_ID_BYTES];
	int r;

	if ((r = sd_consent_id(c, id)) < 0)
		return r;
	sd_hex_encode(id, SD_CONSENT_ID_BYTES, out);
	if (strcmp(out, cid) != 0)
		return sd_error(CLI_ERR_PROTOCOL, _("the server names the consent by another id than its own"));
	return 0;
}

/* The answer's consent: this package's, signed by the whistleblower's key in its header,
 * for the Commission, granting the directory's identity key; its release as signed. */
static int check_consent(unseal_t *s, json_t *o)
{
	const char *cid;
	char *doc = NULL;
	int r;

	if ((s->release = malloc(SD_CONSENT_RELEASE_BYTES)) == NULL)
		return SD_ERR_NOMEM;
	if ((r = cli_unseal_answer(o, &doc, s->release, &cid)) < 0)
		return r;
	r = sd_consent_parse((const uint8_t *)doc, strlen(doc), &s->consent);
	free(doc);
	if (r < 0 || (r = sd_consent_verify(&s->consent, s->h)) < 0)
		return cli_error_prefix(r, _("the consent the server sent"));
	if (s->consent.scope != SD_CONSENT_COMMISSION ||
	    !sd_equal(s->consent.grantee_pk, s->dir->identity.pk, SD_KEY_PUBLIC_BYTES))
		return sd_error(SD_ERR_VERIFY,
		                _("the consent the server sent does not grant the directory's identity key"));
	return cli_consent_id_check(&s->consent, cid, s->consent_id);
}

/* POST unseal: the live consent and its release (recorded, and told to the whistleblower). */
static int request_release(unseal_t *s)
{
	char path[64];
	cli_https_response_t resp;
	json_t *body = json_pack("{s:s}", "scope", "commission"), *o = NULL;
	int r;

	if (body == NULL)
		return SD_ERR_NOMEM;
	snprintf(path, sizeof(path), "/v1/cases/%s/unseal", s->a->case_number);
	r = cli_remote_request(s->rm, "POST", path, body, &resp);
	json_decref(body);
	if (r == 0 && resp.status != 200)
		r = cli_http_fail(&resp, _("the unseal"));
	if (r == 0 && (r = cli_answer_object(&resp, _("the unseal"), &o)) == 0 && (r = check_consent(s, o)) == 0)
		s->leaf_index = json_incref(json_object_get(o, "leaf_index"));
	json_decref(o);
	cli_https_response_free(&resp);
	return r;
}

/* The identity blob, then both shares and the record. */
static int open_identity(unseal_t *s)
{
	char path[96];
	uint8_t *s_c = sd_secret_alloc(SD_IDENTITY_SHARE_BYTES), *s_w = sd_secret_alloc(SD_IDENTITY_SHARE_BYTES);
	cli_https_response_t resp;
	int r = SD_ERR_NOMEM;

	memset(&resp, 0, sizeof(resp));
	if (s_c == NULL || s_w == NULL)
		goto out;
	snprintf(path, sizeof(path), "/v1/cases/%s/blobs/1/chunks/0", s->a->case_number);
	if ((r = get(s, path, _("the identity blob"), &resp)) < 0 ||
	    (r = sd_consent_release_open(&s->consent, s->release, SD_CONSENT_RELEASE_BYTES,
	                                 s->grant != NULL ? s->grant : s->key, s_w)) < 0 ||
	    (r = sd_identity_open_share(s->h, s->key, s_c)) < 0)
		goto out;
	r = sd_identity_open(s->h, resp.body, resp.body_len, s_c, s_w, &s->identity, &s->identity_len);
out:
	cli_https_response_free(&resp);
	sd_secret_free(s_c);
	sd_secret_free(s_w);
	return r;
}

/* --- output --------------------------------------------------------------------------- */

static int print_identity(const unseal_t *s, json_t *record)
{
	char expires[SD_DATE_TEXT_BYTES];
	const char *k;
	json_t *v;

	sd_date_format(s->consent.expires, expires);
	printf(_("identity of case %s, opened with the whistleblower's consent %.16s (Commission, until %s)\n"),
	       s->a->case_number, s->consent_id, expires);
	if (s->a->out != NULL)
		printf(_("  written to %s\n"), s->a->out);
	else
		json_object_foreach(record, k, v) printf("  %-11s %s\n", k, json_string_value(v));
	printf(_("This access is in the audit log and the whistleblower is told of it.\n"));
	return 0;
}

static int output(const unseal_t *s)
{
	char expires[SD_DATE_TEXT_BYTES];
	json_t *record = json_loadb(s->identity, s->identity_len, JSON_REJECT_DUPLICATES, NULL), *o;
	int r;

	if (record == NULL)
		return SD_ERR_NOMEM;
	if (s->a->out != NULL &&
	    (r = sd_file_write(s->a->out, s->identity, s->identity_len, 0600, SD_AFILE_NOCLOBBER)) < 0) {
		json_decref(record);
		return cli_error_prefix(r, "--out %s", s->a->out);
	}
	if (!s->a->json) {
		r = print_identity(s, record);
		json_decref(record);
		return r;
	}
	sd_date_format(s->consent.expires, expires);
	o = json_pack("{s:s, s:s, s:s, s:s, s:O*}", "case", s->a->case_number, "scope", "commission", "consent_id",
	              s->consent_id, "consent_expires", expires, "leaf_index", s->leaf_index);
	if (o != NULL && s->a->out != NULL)
		json_object_set_new(o, "out", json_string(s->a->out));
	else if (o != NULL)
		json_object_set(o, "identity", record);
	json_decref(record);
	return cli_json_print(o);
}

/* --- the whole command ------------------------------------------------------------------ */

static int unseal_run(const unseal_args_t *a)
{
	unseal_t s;
	int r;

	memset(&s, 0, sizeof(s));
	s.a = a;
	/* The shares must make a set before anything goes over the network. */
	if ((a->out == NULL || (r = cli_check_absent(a->out)) == 0) &&
	    (a->n_shares == 0 || (r = load_shares(a->shares, a->n_shares, NULL)) == 0) &&
	    (r = connect_server(&s)) == 0 && (r = load_key(&s)) == 0 && (r = request_release(&s)) == 0 &&
	    (r = open_identity(&s)) == 0)
		r = output(&s);
	unseal_free(&s);
	return r;
}

/* Returns -1 to go on, or the exit status (help, usage error, a bad config file). */
static int parse(int argc, char **argv, unseal_args_t *a)
{
	const cli_opt_t opts[] = {
	        {"server", OPT_SERVER, .value = &a->o.server},
	        {"ca", OPT_CA, .value = &a->o.ca},
	        {"cert", OPT_CERT, .value = &a->o.cert},
	        {"key", OPT_KEY, .value = &a->o.key},
	        {"root", OPT_ROOT, .value = &a->o.root},
	        {"identity-key", OPT_IDKEY, .take = cli_keys_take, .dst = &a->identity_key},
	        {"passphrase-file", OPT_PASSFILE, .value = &a->passfile},
	        {"share", OPT_SHARE, .list = a->shares, .n = &a->n_shares},
	        {"out", OPT_OUT, .value = &a->out},
	        {"json", OPT_JSON, .flag = &a->json},
	        {0},
	};
	int r;

	if ((r = cli_getopt(&cmd, argc, argv, opts)) >= 0)
		return r;
	if ((r = cli_one_argument(&cmd, argc, argv, _("missing the case number CASE"), &a->case_number)) != 0)
		return r;
	if (!sd_case_number_is_valid(a->case_number))
		return cli_usage_error(&cmd, _("'%s' is not a case number (YYYY-NNNNNN)"), a->case_number);
	if ((a->identity_key.n == 0) == (a->n_shares == 0))
		return cli_usage_error(&cmd, _("give either --identity-key or --share (K times), not both"));
	if (a->passfile != NULL && a->identity_key.n == 0)
		return cli_usage_error(&cmd, _("--passphrase-file goes with --identity-key; give each share as "
		                               "--share FILE:PASSFILE"));
	if (a->n_shares > SHARES_MAX)
		return cli_usage_error(&cmd, _("at most %d shares"), SHARES_MAX);
	return cli_remote_complete(&cmd, &a->cfg, &a->o, CLI_NEED_ROOT);
}

int cmd_unseal(int argc, char **argv)
{
	unseal_args_t a;
	int r;

	memset(&a, 0, sizeof(a));
	a.identity_key.cmd = &cmd;
	a.identity_key.opt = "--identity-key";
	if ((a.shares = calloc((size_t)argc + 1, sizeof(*a.shares))) == NULL)
		return cli_fail(cmd.name, SD_ERR_NOMEM);
	if ((r = parse(argc, argv, &a)) < 0) {
		sd_error_clear();
		if ((r = unseal_run(&a)) < 0)
			r = cli_fail(cmd.name, r);
	}
	cli_config_free(&a.cfg);
	free(a.shares);
	return r;
}
