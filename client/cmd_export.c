/*
 * cmd_export.c — `sealdrop export`: an officer builds a case's referral bundle (.sdr) for
 * an agency on their own machine, and `sealdrop open FILE.sdr`: the agency checks and
 * opens it (DESIGN.md, Consent-gated identity release, "Referral and forwarding";
 * docs/FORMAT.md, "Referral bundle (.sdr)"; docs/API.md, "Exports").
 *
 * export_run(), in order: the directory, trusted only once the pinned root key verifies
 * it; the agency, which must be listed in it (never a key the server hands out: a
 * compromised server cannot slip in its own agency), refused before anything is sent;
 * the intake key; the case's header and its report and evidence chunks, downloaded and
 * checked as `fetch` does (cmd_fetch.c, cli_fetch_content) into an unlinked temporary
 * file; the bundle, the content key moved from the intake key's box to the agency's
 * (crypto/export.c), written under a temporary name; the server records its digest and
 * returns the export receipt, verified with the directory's log key before it is
 * appended; and only then the bundle gets its name. The identity never leaves the
 * package (no identity blob, no s_c, no s_w) unless a custodian asks --with-identity:
 * then, before anything is asked of the server, the identity key (one file or K shares,
 * cli_identity_key_load) must be the directory's and the package's; the server's unseal
 * for scope agency:ID must answer a live consent of this package for this agency granting
 * the directory's agency key (sd_bundle_check_consent), else exit 77 and no bundle; the
 * identity chunk must match the manifest; and the bundle carries the consent, its release
 * and s_c re-sealed to the agency (export_identity()).
 *
 * bundle_run() checks a bundle before anything is decrypted: its structure and every
 * chunk, the directory it carries against the pinned root, the export receipt with that
 * directory's log key, the digest the receipt signs, and the agency key against the
 * directory's key for the receipt's agency; in an identity bundle also the consent
 * (bundle_consent()): the directory's deployment, the agency's key as grantee, and the
 * export made while it was valid.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sealdrop/bytes.h"
#include "sealdrop/consent.h"
#include "sealdrop/export.h"
#include "sealdrop/fileio.h"
#include "sealdrop/identity.h"
#include "sealdrop/receipt.h"
#include "sealdrop/sealdrop.h"
#include "cli.h"
#include "https.h"

#define HEX_DIGEST_BYTES (2 * SD_HASH_BYTES + 1)
#define SHARES_MAX       255 /* a split has at most 255 shares */

static const cli_cmd_t cmd = {
        "export",
        N_("usage: sealdrop export CASE --agency ID --intake KEY... [--passphrase-file F] --out FILE.sdr [--json]\n"
           "                       [--with-identity (--identity-key KEY... [--identity-passphrase-file F] |\n"
           "                                         --share FILE[:PASSFILE]...)]\n"
           "                       [--server URL --ca CA.pem --cert CERT.pem --key KEY.pem --root ROOTPUB]\n"),
        N_("\n"
           "Builds case CASE's referral bundle for agency ID (officer or custodian certificate): the\n"
           "report and evidence, their content key sealed to the agency's key as the directory the\n"
           "pinned root key signed lists it, the directory itself, and the export receipt. The\n"
           "whistleblower's identity is not in it (Art. 9(3)): no identity blob and none of its keys.\n"
           "\n"
           "The bundle is built on this machine (only the intake key unwraps the content key); the\n"
           "server records its digest in the audit log and signs the export receipt, which is checked\n"
           "with the directory's log key and travels in the bundle so the agency can check where it\n"
           "came from. The agency opens it with `sealdrop open FILE.sdr --agency KEY`.\n"
           "\n"
           "An agency the directory does not list is refused before anything is sent (exit 65).\n"
           "Every chunk downloaded must match the package's signed manifest (exit 65 otherwise).\n"
           "\n"
           "--with-identity (custodian certificate, and the identity key or K of its shares) adds the\n"
           "identity, for this agency only, and only while the whistleblower's consent for the agency\n"
           "(scope agency:ID) is live: the server hands out the consent and the whistleblower's share\n"
           "sealed to the agency, records the access and tells the whistleblower; this machine\n"
           "re-seals the Commission's share to the agency. Without a live consent: exit 77 and no\n"
           "bundle. The consent must be this package's, signed by the whistleblower's key, and grant\n"
           "the directory's key for the agency (exit 65 otherwise).\n"
           "\n"
           "  --agency ID             the agency, by its id in the directory\n"
           "  --intake KEY            the intake secret key file; repeat it for each key kept (the\n"
           "                          one the package is sealed to is chosen by the KEY.pub beside\n"
           "                          each, and only it is asked its passphrase)\n"
           "  --passphrase-file F     its passphrase from F instead of the terminal\n"
           "                          (RISK: a passphrase in a file can be copied or seized)\n"
           "  --out FILE.sdr          the bundle to write (must not exist)\n"
           "  --with-identity         carry the identity under the whistleblower's agency consent\n"
           "  --identity-key KEY      the identity secret key file (with --with-identity); repeatable,\n"
           "                          as --intake\n"
           "  --identity-passphrase-file F  its passphrase from F instead of the terminal\n"
           "  --share FILE[:PASSFILE] an identity key share and its passphrase file, K times\n"
           "  --server URL            the server, https://HOST[:PORT]\n"
           "  --ca CA.pem             the server's CA certificate: the only one trusted\n"
           "  --cert CERT.pem         your client certificate (officer or custodian)\n"
           "  --key KEY.pem           its private key (keep it mode 0600)\n"
           "  --root ROOTPUB          the pinned root public key the directory must be signed by\n"
           "  --json                  print the bundle and its receipt as one JSON object\n"
           "  -h, --help              this help\n"
           "\n"
           "Options not given are taken from the config file $XDG_CONFIG_HOME/sealdrop/config\n"
           "(~/.config/sealdrop/config; SEALDROP_CONFIG=FILE names another): server, ca, cert, key,\n"
           "root and intake.\n"),
};

enum {
	OPT_SERVER = 256,
	OPT_CA,
	OPT_CERT,
	OPT_KEY,
	OPT_ROOT,
	OPT_INTAKE,
	OPT_PASSFILE,
	OPT_OUT,
	OPT_AGENCY,
	OPT_JSON,
	OPT_WITH_ID,
	OPT_IDKEY,
	OPT_IDPASS,
	OPT_SHARE
};

typedef struct {
	cli_remote_opts_t o;
	cli_config_t cfg;
	const char *case_number, *agency, *passfile, *out;
	bool json, with_identity;
	cli_keys_t intake, identity_key;
	const char *identity_passfile;
	const char **shares;
	size_t n_shares;
} export_args_t;

typedef struct {
	const export_args_t *a;
	cli_https_ctx_t *ctx;
	cli_https_conn_t *conn;
	sd_directory_t *dir;
	uint8_t *dir_json;
	size_t dir_len;
	const sd_agency_t *agency;
	sd_seckey_t *key;
	sd_header_t *h;
	int pkg_fd;
	sd_afile_t *out;
	uint8_t digest[SD_HASH_BYTES];
	char *receipt;
	sd_export_receipt_t er;
	/* --with-identity */
	sd_seckey_t *id_key;
	char *consent; /* the signed consent, as the server answered it */
	uint8_t release[SD_CONSENT_RELEASE_BYTES];
	sd_consent_t c;
	char consent_id[HEX_DIGEST_BYTES];
} export_t;

static void export_free(export_t *s)
{
	if (s->pkg_fd >= 0)
		close(s->pkg_fd);
	sd_afile_abort(s->out);
	cli_https_conn_free(s->conn);
	cli_https_ctx_free(s->ctx);
	sd_directory_free(s->dir);
	free(s->dir_json);
	sd_seckey_free(s->key);
	sd_seckey_free(s->id_key);
	sd_header_free(s->h);
	free(s->receipt);
	free(s->consent);
}

/* GET /v1/directory again, as bytes for the bundle: the same document the root key
 * verified (cli_directory_fetch), checked to be of its deployment and version. */
static int directory_bytes(export_t *s)
{
	cli_https_request_t req = {.method = "GET", .path = "/v1/directory", .body_fd = -1};
	cli_https_response_t resp;
	sd_directory_t *again = NULL;
	sd_pubkey_t root;
	int r;

	memset(&resp, 0, sizeof(resp));
	if ((r = cli_pubkey_load("--root", s->a->o.root, SD_KEY_ROOT, &root)) < 0 ||
	    (r = cli_https_request(s->conn, &req, &resp)) < 0)
		goto out;
	if (resp.status != 200) {
		r = cli_http_fail(&resp, _("the directory"));
		goto out;
	}
	if ((r = sd_directory_parse(resp.body, resp.body_len, &root, sd_date_today(), &again)) < 0) {
		r = cli_error_prefix(r, _("the server's directory"));
		goto out;
	}
	if (again->version != s->dir->version || strcmp(again->deployment, s->dir->deployment) != 0) {
		r = sd_error(CLI_ERR_PROTOCOL,
		             _("the server's directory changed while the export was prepared; retry"));
		goto out;
	}
	s->dir_json = resp.body;
	s->dir_len = resp.body_len;
	resp.body = NULL;
out:
	sd_directory_free(again);
	cli_https_response_free(&resp);
	return r;
}

static int connect_server(export_t *s)
{
	const cli_remote_opts_t *o = &s->a->o;
	cli_https_config_t cfg = {.url = o->server, .ca_file = o->ca, .cert_file = o->cert, .key_file = o->key};
	int r;

	if ((r = cli_https_ctx_new(&cfg, &s->ctx)) < 0)
		return r;
	if (cli_https_key_is_exposed(s->ctx))
		cli_warn(cmd.name, _("%s can be read by other users; make it private: chmod 600 %s"), o->key, o->key);
	if ((r = cli_https_conn_new(s->ctx, &s->conn)) < 0 ||
	    (r = cli_directory_fetch(s->ctx, s->conn, o->root, o->ca, &s->dir)) < 0)
		return r;
	if ((s->agency = sd_directory_find_agency(s->dir, s->a->agency)) == NULL)
		return sd_error(SD_ERR_INVALID,
		                _("agency '%s' is not in the directory (deployment %s, version %u) the root key "
		                  "signed; nothing was sent"),
		                s->a->agency, s->dir->deployment, s->dir->version);
	return directory_bytes(s);
}

/* An unlinked file next to the output for the downloaded ciphertext: nothing is left
 * behind, whatever happens. */
static int temp_package(export_t *s)
{
	char *tmp = NULL;
	int r = 0;

	if (asprintf(&tmp, "%s.pkg-XXXXXX", s->a->out) < 0)
		return SD_ERR_NOMEM;
	if ((s->pkg_fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		r = sd_error(errno == ENOENT ? SD_ERR_NOENT : SD_ERR_IO, _("cannot create %s: %s"), tmp,
		             strerror(errno));
	else
		unlink(tmp);
	free(tmp);
	return r;
}

/* --- the identity (--with-identity) ---------------------------------------------------- */

/* The keys the package is sealed to, of those given, before anything is downloaded: the
 * intake key, and with --with-identity the identity key (checked again by export_identity,
 * for a key rebuilt from shares). The header is fetched once more with the content. */
static int load_keys(export_t *s)
{
	const export_args_t *a = s->a;
	sd_header_t *h = NULL;
	char what[64];
	int r;

	if ((r = cli_fetch_header(s->conn, s->dir, a->case_number, &h)) < 0)
		return r;
	snprintf(what, sizeof(what), _("case %s's package"), a->case_number);
	if ((r = cli_seckey_load_matching(&a->intake, SD_KEY_INTAKE, h->intake_id, what, a->passfile, &s->key)) == 0 &&
	    a->with_identity)
		r = cli_identity_key_load(&a->identity_key, h->identity_id, what, a->identity_passfile, a->shares,
		                          a->n_shares, &s->id_key);
	sd_header_free(h);
	return r;
}

/* The answer's consent: checked as the agency will check it, live today, named by its id. */
static int take_consent(export_t *s, json_t *o)
{
	const char *cid;
	int r;

	if ((r = cli_unseal_answer(o, &s->consent, s->release, &cid)) < 0)
		return r;
	if ((r = sd_bundle_check_consent((const uint8_t *)s->consent, strlen(s->consent), s->release,
	                                 SD_CONSENT_RELEASE_BYTES, s->h, s->agency, &s->c)) < 0)
		return cli_error_prefix(r, _("the consent the server sent"));
	if (!sd_consent_is_live(&s->c, sd_date_today()))
		return sd_error(SD_ERR_VERIFY, _("the consent the server sent is not valid today"));
	return cli_consent_id_check(&s->c, cid, s->consent_id);
}

/* POST unseal {"scope": "agency:ID"}: the live consent and its release (recorded, and told
 * to the whistleblower), or no bundle at all. */
static int request_release(export_t *s)
{
	char path[64], scope[SD_CONSENT_SCOPE_MAX], *body = NULL;
	cli_https_request_t req = {.method = "POST", .path = path, .content_type = "application/json", .body_fd = -1};
	cli_https_response_t resp;
	json_t *o = NULL;
	int r = SD_ERR_NOMEM;

	memset(&resp, 0, sizeof(resp));
	snprintf(path, sizeof(path), "/v1/cases/%s/unseal", s->a->case_number);
	snprintf(scope, sizeof(scope), "agency:%s", s->agency->id);
	if ((o = json_pack("{s:s}", "scope", scope)) == NULL || (body = json_dumps(o, JSON_COMPACT)) == NULL)
		goto out;
	json_decref(o);
	o = NULL;
	req.body = (const uint8_t *)body;
	req.body_len = strlen(body);
	if ((r = cli_https_request(s->conn, &req, &resp)) < 0)
		goto out;
	if (resp.status == 403 && strcmp(resp.error, "no_consent") == 0)
		r = sd_error(SD_ERR_REFUSED, _("no live consent for agency %s: the identity stays out of the bundle"),
		             s->agency->id);
	else if (resp.status != 200)
		r = cli_http_fail(&resp, _("the unseal"));
	else if ((r = cli_answer_object(&resp, _("the unseal"), &o)) == 0)
		r = take_consent(s, o);
out:
	json_decref(o);
	free(body);
	cli_https_response_free(&resp);
	return r;
}

/* The identity chunk, checked against the manifest, at its package offset in pkg_fd. */
static int fetch_identity(export_t *s)
{
	char path[96];
	cli_https_request_t req = {.method = "GET", .path = path, .body_fd = -1};
	cli_https_response_t resp;
	ssize_t n;
	int r;

	memset(&resp, 0, sizeof(resp));
	snprintf(path, sizeof(path), "/v1/cases/%s/blobs/1/chunks/0", s->a->case_number);
	if ((r = cli_https_request(s->conn, &req, &resp)) < 0)
		goto out;
	if (resp.status != 200) {
		r = cli_http_fail(&resp, _("the identity blob"));
		goto out;
	}
	if ((r = sd_header_check_chunk(s->h, 1, 0, resp.body, resp.body_len)) < 0) {
		r = sd_error(SD_ERR_VERIFY, _("the identity blob the server sent does not match the package's signed "
		                              "manifest"));
		goto out;
	}
	n = pwrite(s->pkg_fd, resp.body, resp.body_len, (off_t)s->h->blobs[1].offset);
	if (n < 0 || (size_t)n != resp.body_len)
		r = sd_error(SD_ERR_IO, _("cannot write the identity blob to the temporary file: %s"),
		             n < 0 ? strerror(errno) : _("short write"));
out:
	cli_https_response_free(&resp);
	return r;
}

/* Everything --with-identity adds, once the header is known: the package must be sealed
 * to this identity key; then the consent and the identity chunk. */
static int export_identity(export_t *s)
{
	char want[SD_KEY_ID_HEX_BYTES];
	int r;

	if (!sd_equal(s->h->identity_id, s->id_key->id, SD_KEY_ID_BYTES)) {
		sd_key_id_hex(s->h->identity_id, want);
		return sd_error(SD_ERR_WRONG_KEY, _("case %s's package is sealed to identity key %s, not this one"),
		                s->a->case_number, want);
	}
	if ((r = request_release(s)) < 0)
		return r;
	return fetch_identity(s);
}

static int write_bundle(export_t *s)
{
	sd_bundle_identity_t id = {.identity = s->id_key,
	                           .consent = (const uint8_t *)s->consent,
	                           .consent_len = s->consent != NULL ? strlen(s->consent) : 0,
	                           .release = s->release};
	sd_bundle_params_t p = {.h = s->h,
	                        .pkg_fd = s->pkg_fd,
	                        .intake = s->key,
	                        .case_number = s->a->case_number,
	                        .agency = s->agency,
	                        .directory = s->dir_json,
	                        .directory_len = s->dir_len};
	cli_progress_t prog;
	int r;

	if ((r = sd_afile_open(&s->out, s->a->out, 0600)) < 0)
		return r;
	cli_progress_init(&prog, _("bundling"), !s->a->json);
	p.identity = s->a->with_identity ? &id : NULL;
	p.progress = cli_progress_cb;
	p.progress_ctx = &prog;
	r = sd_bundle_write(&p, s->out, s->digest);
	cli_progress_end(&prog);
	return r;
}

/* The receipt the server answers must be the directory's log key's, about this case,
 * agency, package and bundle. */
static int check_receipt(export_t *s, const cli_https_response_t *resp)
{
	sd_export_receipt_t *er = &s->er;
	int r;

	if (resp->body == NULL)
		return sd_error(CLI_ERR_PROTOCOL, _("the server answered the export without a receipt"));
	if ((r = sd_export_receipt_verify_with_directory(resp->body, resp->body_len, s->dir, er)) < 0)
		return cli_error_prefix(r, _("the export receipt the server sent"));
	if (strcmp(er->case_number, s->a->case_number) != 0 || strcmp(er->agency, s->agency->id) != 0 ||
	    !sd_equal(er->header_digest, s->h->digest, SD_HASH_BYTES) ||
	    !sd_equal(er->bundle_digest, s->digest, SD_HASH_BYTES))
		return sd_error(SD_ERR_VERIFY,
		                _("the export receipt the server sent is not about this bundle (case, agency, "
		                  "package or bundle digest differ)"));
	if ((s->receipt = strndup((const char *)resp->body, resp->body_len)) == NULL)
		return SD_ERR_NOMEM;
	return 0;
}

/* POST /v1/cases/{case}/exports: the server records the digest, answers the receipt. */
static int record_export(export_t *s)
{
	char path[64], hex[HEX_DIGEST_BYTES], *body = NULL;
	cli_https_request_t req = {.method = "POST", .path = path, .content_type = "application/json", .body_fd = -1};
	cli_https_response_t resp;
	json_t *o;
	int r = SD_ERR_NOMEM;

	memset(&resp, 0, sizeof(resp));
	snprintf(path, sizeof(path), "/v1/cases/%s/exports", s->a->case_number);
	sd_hex_encode(s->digest, SD_HASH_BYTES, hex);
	o = json_pack("{s:s, s:s}", "agency", s->agency->id, "bundle_digest", hex);
	if (o == NULL || (body = json_dumps(o, JSON_COMPACT)) == NULL)
		goto out;
	req.body = (const uint8_t *)body;
	req.body_len = strlen(body);
	if ((r = cli_https_request(s->conn, &req, &resp)) < 0)
		goto out;
	if (resp.status != 201)
		r = cli_http_fail(&resp, _("the export"));
	else
		r = check_receipt(s, &resp);
out:
	json_decref(o);
	free(body);
	cli_https_response_free(&resp);
	return r;
}

static int summary(const export_t *s)
{
	char hex[HEX_DIGEST_BYTES], date[SD_DATE_TEXT_BYTES], until[SD_DATE_TEXT_BYTES];
	json_t *receipt, *o;

	sd_hex_encode(s->digest, SD_HASH_BYTES, hex);
	sd_date_format(s->er.date, date);
	sd_date_format(s->c.expires, until);
	if (s->a->json) {
		receipt = json_loads(s->receipt, 0, NULL);
		o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:o}", "case", s->a->case_number, "agency",
		              s->agency->id, "bundle", s->a->out, "bundle_digest", hex, "date", date, "leaf_index",
		              (json_int_t)s->er.leaf_index, "identity",
		              s->a->with_identity ? "included for this agency" : "not included", "receipt", receipt);
		if (o != NULL && s->a->with_identity) {
			json_object_set_new(o, "consent_id", json_string(s->consent_id));
			json_object_set_new(o, "consent_expires", json_string(until));
		}
		return cli_json_print(o);
	}
	printf(_("exported case %s for agency %s (%s): %s\n"), s->a->case_number, s->agency->id, s->agency->name,
	       s->a->out);
	printf(_("  bundle digest  %s\n"), hex);
	printf(_("  receipt        %s, audit leaf %llu, signed by the log key (verified)\n"), date,
	       (unsigned long long)s->er.leaf_index);
	if (s->a->with_identity)
		printf(_("The whistleblower's identity is in the bundle, for agency %s only, under their consent %.16s "
		         "(valid until %s). This access is in the audit log and the whistleblower is told of it.\n"),
		       s->agency->id, s->consent_id, until);
	else
		printf(_("The whistleblower's identity is not in the bundle.\n"));
	return 0;
}

static int export_run(const export_args_t *a)
{
	export_t s;
	int r;

	memset(&s, 0, sizeof(s));
	s.a = a;
	s.pkg_fd = -1;
	if ((r = cli_check_absent(a->out)) < 0 || (r = connect_server(&s)) < 0)
		goto out;
	if ((r = load_keys(&s)) < 0 || (r = temp_package(&s)) < 0 ||
	    (r = cli_fetch_content(s.ctx, s.conn, s.dir, a->o.server, a->case_number, a->json, s.pkg_fd, &s.h)) < 0 ||
	    (a->with_identity && (r = export_identity(&s)) < 0))
		goto out;
	if ((r = write_bundle(&s)) < 0 || (r = record_export(&s)) < 0)
		goto out;
	if ((r = sd_bundle_write_receipt(s.out, s.receipt, strlen(s.receipt))) < 0)
		goto out;
	r = sd_afile_commit(s.out, SD_AFILE_NOCLOBBER);
	s.out = NULL;
	if (r == 0)
		r = summary(&s);
out:
	export_free(&s);
	return r;
}

/* --with-identity and its key: exactly one of --identity-key and --share (K times). */
static int parse_identity(const export_args_t *a)
{
	bool any = a->identity_key.n > 0 || a->identity_passfile != NULL || a->n_shares > 0;

	if (!a->with_identity)
		return any ? cli_usage_error(&cmd, _("--identity-key, --identity-passphrase-file and --share go with "
		                                     "--with-identity"))
		           : -1;
	if ((a->identity_key.n == 0) == (a->n_shares == 0))
		return cli_usage_error(&cmd, _("--with-identity needs either --identity-key or --share (K times), not "
		                               "both"));
	if (a->identity_passfile != NULL && a->identity_key.n == 0)
		return cli_usage_error(&cmd,
		                       _("--identity-passphrase-file goes with --identity-key; give each share as "
		                         "--share FILE:PASSFILE"));
	if (a->n_shares > SHARES_MAX)
		return cli_usage_error(&cmd, _("at most %d shares"), SHARES_MAX);
	return -1;
}

static int parse(int argc, char **argv, export_args_t *a)
{
	const cli_opt_t opts[] = {
	        {"server", OPT_SERVER, .value = &a->o.server},
	        {"ca", OPT_CA, .value = &a->o.ca},
	        {"cert", OPT_CERT, .value = &a->o.cert},
	        {"key", OPT_KEY, .value = &a->o.key},
	        {"root", OPT_ROOT, .value = &a->o.root},
	        {"intake", OPT_INTAKE, .take = cli_keys_take, .dst = &a->intake},
	        {"passphrase-file", OPT_PASSFILE, .value = &a->passfile},
	        {"out", OPT_OUT, .value = &a->out},
	        {"agency", OPT_AGENCY, .value = &a->agency},
	        {"json", OPT_JSON, .flag = &a->json},
	        {"with-identity", OPT_WITH_ID, .flag = &a->with_identity},
	        {"identity-key", OPT_IDKEY, .take = cli_keys_take, .dst = &a->identity_key},
	        {"identity-passphrase-file", OPT_IDPASS, .value = &a->identity_passfile},
	        {"share", OPT_SHARE, .list = a->shares, .n = &a->n_shares},
	        {0},
	};
	int r;

	if ((r = cli_getopt(&cmd, argc, argv, opts)) >= 0)
		return r;
	if ((r = cli_one_argument(&cmd, argc, argv, _("missing the case number CASE"), &a->case_number)) != 0)
		return r;
	if (!sd_case_number_is_valid(a->case_number))
		return cli_usage_error(&cmd, _("'%s' is not a case number (YYYY-NNNNNN)"), a->case_number);
	if ((r = parse_identity(a)) >= 0)
		return r;
	if (a->agency == NULL || a->out == NULL)
		return cli_usage_error(&cmd, _("missing %s"), a->agency == NULL ? "--agency" : "--out");
	if (!sd_deployment_is_valid(a->agency))
		return cli_usage_error(&cmd, _("--agency '%s' is not an agency id (a-z, 0-9 and '-')"), a->agency);
	a->o.intake = a->intake.n > 0 ? a->intake.path[0] : NULL;
	if ((r = cli_remote_complete(&cmd, &a->cfg, &a->o, CLI_NEED_ROOT | CLI_NEED_INTAKE)) >= 0)
		return r;
	cli_keys_default(&a->intake, a->o.intake);
	return -1;
}

int cmd_export(int argc, char **argv)
{
	export_args_t a = {.intake = {.cmd = &cmd, .opt = "--intake"},
	                   .identity_key = {.cmd = &cmd, .opt = "--identity-key"}};
	int r;

	if ((a.shares = calloc((size_t)argc + 1, sizeof(*a.shares))) == NULL)
		return cli_fail(cmd.name, SD_ERR_NOMEM);
	if ((r = parse(argc, argv, &a)) < 0) {
		sd_error_clear();
		if ((r = export_run(&a)) < 0)
			r = cli_fail(cmd.name, r);
	}
	cli_config_free(&a.cfg);
	free(a.shares);
	return r;
}

/* --- open FILE.sdr ------------------------------------------------------------------------- */

/* The bundle's directory: against the pinned root when there is one, else against the
 * key it names itself, loudly. */
static int bundle_directory(const sd_bundle_t *b, const char *root_path, sd_directory_t **d)
{
	sd_pubkey_t root;
	int r;

	if (root_path != NULL) {
		if ((r = cli_pubkey_load("--root", root_path, SD_KEY_ROOT, &root)) < 0)
			return r;
	} else {
		cli_warn("open", _("no --root: the bundle's directory was NOT checked against a pinned root key, "
		                   "so neither are the agency and log keys it lists"));
		if ((r = sd_directory_signer(b->directory, b->directory_len, &root)) < 0)
			return cli_error_prefix(r, _("the bundle's directory"));
	}
	if ((r = sd_directory_parse(b->directory, b->directory_len, &root, sd_date_today(), d)) < 0)
		return cli_error_prefix(r, _("the bundle's directory"));
	return 0;
}

/* The receipt, by the directory's log key, about this bundle. */
static int bundle_receipt(const sd_bundle_t *b, const sd_directory_t *d, sd_export_receipt_t *er)
{
	int r;

	if ((r = sd_export_receipt_verify_with_directory(b->receipt, b->receipt_len, d, er)) < 0)
		return cli_error_prefix(r, _("the bundle's export receipt"));
	if (!sd_equal(er->bundle_digest, b->digest, SD_HASH_BYTES))
		return sd_error(SD_ERR_VERIFY,
		                _("the bundle's digest is not the one its export receipt signs: the bundle "
		                  "was altered, or the receipt belongs to another bundle"));
	if (strcmp(er->case_number, b->case_number) != 0 || strcmp(er->agency, b->agency) != 0 ||
	    !sd_equal(er->header_digest, b->header_digest, SD_HASH_BYTES))
		return sd_error(SD_ERR_VERIFY, _("the export receipt names another case, agency or package than the "
		                                 "bundle"));
	return 0;
}

/* An identity bundle's consent, against the verified directory and receipt: of the
 * directory's deployment, granting the directory's key for the agency, and valid on the
 * day the server recorded the export. (The bundle's reader already checked its signature
 * with the consent key the bundle carries, its package, agency and release; the receipt
 * vouches for the package.) */
static int bundle_consent(const sd_bundle_t *b, const sd_directory_t *d, const sd_export_receipt_t *er,
                          const sd_agency_t *a)
{
	const sd_consent_t *c = &b->consent_rec;

	if (!b->has_identity)
		return 0;
	if (strcmp(c->deployment, d->deployment) != 0)
		return sd_error(SD_ERR_DEPLOYMENT, _("the bundle's consent is for deployment '%s', not '%s'"),
		                c->deployment, d->deployment);
	if (!sd_equal(c->grantee_pk, a->key.pk, SD_KEY_PUBLIC_BYTES))
		return sd_error(SD_ERR_VERIFY,
		                _("the bundle's consent grants another key than the directory's for "
		                  "agency %s"),
		                a->id);
	if (!sd_consent_is_live(c, er->date))
		return sd_error(SD_ERR_VERIFY, _("the bundle's consent was not valid on the day of the export"));
	return 0;
}

static int bundle_print(const char *out, bool json, const sd_bundle_t *b, const sd_export_receipt_t *er,
                        const sd_agency_t *a)
{
	char hex[HEX_DIGEST_BYTES], date[SD_DATE_TEXT_BYTES], until[SD_DATE_TEXT_BYTES], cid[HEX_DIGEST_BYTES];
	json_t *o;

	sd_hex_encode(er->bundle_digest, SD_HASH_BYTES, hex);
	sd_hex_encode(b->consent_id, SD_CONSENT_ID_BYTES, cid);
	sd_date_format(er->date, date);
	sd_date_format(b->consent_rec.expires, until);
	if (!json)
		printf(_("referral bundle of case %s for agency %s (%s): export receipt of %s, audit leaf %llu, "
		         "verified\n"),
		       er->case_number, a->id, a->name, date, (unsigned long long)er->leaf_index);
	if (!json && b->has_identity)
		printf(_("The identity was included under the whistleblower's consent %s, valid until %s, for this "
		         "agency only: %s/identity.json (RISK: the identity, in the clear)\n"),
		       cid, until, out);
	o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:b}", "case", er->case_number, "agency", a->id, "bundle_digest", hex,
	              "export_date", date, "leaf_index", (json_int_t)er->leaf_index, "receipt_verified", 1);
	if (o != NULL && b->has_identity) {
		json_object_set_new(o, "identity_consent_id", json_string(cid));
		json_object_set_new(o, "identity_consent_expires", json_string(until));
	}
	return cli_open_print(out, json, o);
}

int cli_open_bundle(const char *path, const char *agency_key, const char *passfile, const char *root, const char *out,
                    bool json)
{
	sd_bundle_t *b = NULL;
	sd_directory_t *d = NULL;
	sd_seckey_t *key = NULL;
	sd_export_receipt_t er;
	const sd_agency_t *a;
	cli_progress_t prog;
	int r;

	cli_progress_init(&prog, _("verifying"), !json);
	r = sd_bundle_read(path, cli_progress_cb, &prog, &b);
	cli_progress_end(&prog);
	if (r < 0) {
		r = cli_error_prefix(r, "%s", path);
		goto out;
	}
	if ((r = bundle_directory(b, root, &d)) < 0 || (r = bundle_receipt(b, d, &er)) < 0)
		goto out;
	a = sd_directory_find_agency(d, er.agency); /* found: the receipt verified with it */
	if ((r = bundle_consent(b, d, &er, a)) < 0)
		goto out;
	if ((r = cli_seckey_load("--agency", agency_key, SD_KEY_AGENCY, passfile, &key)) < 0)
		goto out;
	if (!sd_equal(key->pk, a->key.pk, SD_KEY_PUBLIC_BYTES)) {
		r = sd_error(SD_ERR_WRONG_KEY, _("--agency %s is not the key the directory lists for agency %s"),
		             agency_key, a->id);
		goto out;
	}
	cli_progress_init(&prog, _("opening"), !json);
	r = sd_bundle_open(b, path, key, out, cli_progress_cb, &prog);
	cli_progress_end(&prog);
	if (r < 0)
		r = cli_error_prefix(r, "%s", path);
	else
		r = bundle_print(out, json, b, &er, a);
out:
	sd_seckey_free(key);
	sd_directory_free(d);
	sd_bundle_free(b);
	return r;
}
