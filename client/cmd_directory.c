/*
 * cmd_directory.c — `sealdrop directory create|verify`. `create` is the root key holder's
 * ceremony: it collects the deployment's public keys (each checked for its kind), signs
 * the directory with the root key and writes it without overwriting anything. `verify` is
 * what every client does before trusting a directory: pinned root signature, not-after
 * date, anti-rollback. The format is crypto/directory.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sealdrop/directory.h"
#include "sealdrop/fileio.h"
#include "sealdrop/sealdrop.h"
#include "cli.h"

#define TLS_CA_MAX         (64 * 1024)
#define DAYS_VALID_DEFAULT 365

static const cli_cmd_t cmd_top = {
        "directory",
        N_("usage: sealdrop directory create --deployment ID --intake PUB --identity PUB --root KEY --out FILE ...\n"
           "       sealdrop directory verify FILE --root ROOTPUB [--json]\n"),
        N_("\n"
           "  create   sign a new key directory with the root key (see 'sealdrop directory create --help')\n"
           "  verify   check a directory against the pinned root public key and show it\n"),
};

static const cli_cmd_t cmd_create = {
        "directory create",
        N_("usage: sealdrop directory create --deployment ID --intake PUB --identity PUB [--log PUB]\n"
           "           [--log-retired PUB]... [--tls-ca PEMFILE] [--agency ID:NAME:PUBFILE]... [--version N]\n"
           "           [--not-after YYYY-MM-DD] [--test] --root KEY [--passphrase-file F] --out FILE [--json]\n"),
        N_("\n"
           "Signs a key directory with the root secret key and writes it to FILE (never overwritten).\n"
           "\n"
           "  --deployment ID         the deployment's id: 1-64 of a-z, 0-9 and '-'\n"
           "  --intake PUB            public key file of kind intake (opens reports and evidence)\n"
           "  --identity PUB          public key file of kind identity (the Commission's identity share)\n"
           "  --log PUB               public key file of kind log (the server's signing key)\n"
           "  --log-retired PUB       a log key the server signed with before (its receipts and\n"
           "                          notices keep verifying); repeat for each, at most 16, and\n"
           "                          keep listing every one in later versions\n"
           "  --tls-ca PEMFILE        the CA certificate clients pin for the server\n"
           "  --agency ID:NAME:PUB    an inspection or investigative agency: its id (before the first\n"
           "                          ':'), its name, and its public key file of kind agency (after the\n"
           "                          last ':'); repeat for each agency\n"
           "  --version N             directory version, default 1; clients refuse a lower version\n"
           "                          than one they have seen, so raise it with every change\n"
           "  --not-after DATE        last day the directory is valid (default: one year from today)\n"
           "  --test                  a TEST deployment: codenames are derived with minimal key\n"
           "                          stretching so test suites run fast; every client warns loudly\n"
           "  --root KEY              the root secret key file\n"
           "  --passphrase-file F     the root key's passphrase from F instead of the terminal\n"
           "                          (RISK: a passphrase in a file can be copied or seized)\n"
           "  --out FILE              where to write the signed directory\n"
           "  --json                  print the result as one JSON object\n"
           "  -h, --help              this help\n"),
};

static const cli_cmd_t cmd_verify = {
        "directory verify",
        N_("usage: sealdrop directory verify FILE --root ROOTPUB [--json]\n"),
        N_("\n"
           "Checks FILE's signature against the pinned root public key, its not-after date, and\n"
           "that its version is not lower than the highest this client has seen for the deployment\n"
           "(recorded under $XDG_STATE_HOME/sealdrop), then shows what it lists.\n"
           "\n"
           "  --root ROOTPUB          the root public key file (kind root)\n"
           "  --json                  print the directory as one JSON object\n"
           "  -h, --help              this help\n"),
};

enum {
	OPT_DEPLOYMENT = 256,
	OPT_INTAKE,
	OPT_IDENTITY,
	OPT_LOG,
	OPT_LOG_RETIRED,
	OPT_TLS_CA,
	OPT_AGENCY,
	OPT_VERSION,
	OPT_NOT_AFTER,
	OPT_TEST,
	OPT_ROOT,
	OPT_PASSFILE,
	OPT_OUT,
	OPT_JSON
};

typedef struct {
	const char *deployment, *intake, *identity, *log, *tls_ca, *version, *not_after;
	const char *root, *passfile, *out;
	bool test, json;
	const char **agencies; /* pointers into argv */
	size_t n_agencies;
	const char **log_retired; /* pointers into argv */
	size_t n_log_retired;
} create_args_t;

/* --- shared: showing a directory ------------------------------------------------------ */

static json_t *key_json(const uint8_t id[SD_KEY_ID_BYTES])
{
	char hex[SD_KEY_ID_HEX_BYTES];

	sd_key_id_hex(id, hex);
	return json_string(hex);
}

static json_t *retired_json(const sd_directory_t *d)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < d->n_log_retired; i++)
		if (json_array_append_new(arr, key_json(d->log_retired[i].id)) != 0) {
			json_decref(arr);
			return NULL;
		}
	return arr;
}

static json_t *directory_json(const sd_directory_t *d, const char *path)
{
	json_t *agencies = json_array();

	for (size_t i = 0; agencies != NULL && i < d->n_agencies; i++)
		if (json_array_append_new(agencies, json_pack("{s:s, s:s, s:o}", "id", d->agencies[i].id, "name",
		                                              d->agencies[i].name, "key_id",
		                                              key_json(d->agencies[i].key.id))) != 0) {
			json_decref(agencies);
			return NULL;
		}
	return json_pack("{s:s, s:s, s:I, s:o, s:o, s:b, s:o, s:o, s:o, s:o?, s:o, s:b, s:{s:I, s:I}, s:o, s:b}",
	                 "file", path, "deployment", d->deployment, "version", (json_int_t)d->version, "issued",
	                 cli_json_date(d->issued), "not_after", cli_json_date(d->not_after), "test", d->test,
	                 "root_key_id", key_json(d->root_id), "intake_key_id", key_json(d->intake.id),
	                 "identity_key_id", key_json(d->identity.id), "log_key_id",
	                 d->has_log ? key_json(d->log.id) : NULL, "log_retired_key_ids", retired_json(d), "tls_ca",
	                 d->tls_ca_pem != NULL, "codename_kdf", "opslimit", (json_int_t)d->codename_kdf.opslimit,
	                 "memlimit", (json_int_t)d->codename_kdf.memlimit, "agencies", agencies, "verified", 1);
}

static void directory_print(const sd_directory_t *d, const char *heading)
{
	char id[SD_KEY_ID_HEX_BYTES], date[SD_DATE_TEXT_BYTES], mem[CLI_SIZE_TEXT_BYTES];

	sd_key_id_hex(d->root_id, id);
	printf(_("%s (root key %s)\n"), heading, id);
	printf(_("  deployment    %s\n"), d->deployment);
	printf(_("  version       %u\n"), d->version);
	sd_date_format(d->issued, date);
	printf(_("  issued        %s\n"), date);
	sd_date_format(d->not_after, date);
	printf(_("  not after     %s\n"), date);
	printf(_("  test          %s\n"), d->test ? _("YES: not for real reports") : _("no"));
	sd_key_id_hex(d->intake.id, id);
	printf(_("  intake key    %s\n"), id);
	sd_key_id_hex(d->identity.id, id);
	printf(_("  identity key  %s\n"), id);
	if (d->has_log)
		sd_key_id_hex(d->log.id, id);
	printf(_("  log key       %s\n"), d->has_log ? id : _("none"));
	for (size_t i = 0; i < d->n_log_retired; i++) {
		sd_key_id_hex(d->log_retired[i].id, id);
		printf(_("  retired log   %s\n"), id);
	}
	printf(_("  TLS CA        %s\n"), d->tls_ca_pem != NULL ? _("present") : _("none"));
	cli_format_size(d->codename_kdf.memlimit, mem);
	printf(_("  codename KDF  Argon2id, opslimit %llu, memlimit %s\n"),
	       (unsigned long long)d->codename_kdf.opslimit, mem);
	printf(_("  agencies      %zu\n"), d->n_agencies);
	for (size_t i = 0; i < d->n_agencies; i++) {
		sd_key_id_hex(d->agencies[i].key.id, id);
		printf("    %-20s %s  %s\n", d->agencies[i].id, id, d->agencies[i].name);
	}
}

/* --- create --------------------------------------------------------------------------- */

static bool agency_id_is_valid(const char *s, size_t len)
{
	if (len == 0 || len > SD_AGENCY_ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

/* ID:NAME:PUBFILE — the id ends at the first ':', the file starts after the last. */
static int agency_parse(const char *spec, sd_agency_t *out)
{
	const char *first = strchr(spec, ':'), *last = strrchr(spec, ':');
	size_t idlen, namelen;
	char opt[SD_AGENCY_ID_MAX + 16];

	if (first == NULL || first == last)
		return sd_error(SD_ERR_USAGE, _("--agency '%s': expected ID:NAME:PUBFILE"), spec);
	idlen = (size_t)(first - spec);
	namelen = (size_t)(last - first - 1);
	if (!agency_id_is_valid(spec, idlen))
		return sd_error(SD_ERR_USAGE, _("--agency '%s': the id must be 1-%d of a-z, 0-9 and '-'"), spec,
		                SD_AGENCY_ID_MAX);
	if (namelen == 0 || namelen > SD_AGENCY_NAME_MAX)
		return sd_error(SD_ERR_USAGE, _("--agency '%s': the name must be 1-%d bytes"), spec,
		                SD_AGENCY_NAME_MAX);
	if (last[1] == '\0')
		return sd_error(SD_ERR_USAGE, _("--agency '%s': no public key file after the last ':'"), spec);
	memset(out, 0, sizeof(*out));
	memcpy(out->id, spec, idlen);
	memcpy(out->name, first + 1, namelen);
	snprintf(opt, sizeof(opt), "--agency %s", out->id);
	return cli_pubkey_load(opt, last + 1, SD_KEY_AGENCY, &out->key);
}

static int parse_version(const char *s, uint32_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (s[0] < '0' || s[0] > '9')
		return sd_error(SD_ERR_USAGE, _("--version '%s' is not a number"), s);
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > UINT32_MAX)
		return sd_error(SD_ERR_USAGE, _("--version '%s' must be a whole number from 1 to %u"), s, UINT32_MAX);
	*out = (uint32_t)v;
	return 0;
}

/* --log-retired, each a log key file; the rules (none twice, not the current key, only with
 * --log) are sd_directory_sign's, whose messages name the position. */
static int create_fill_retired(const create_args_t *a, sd_directory_t *d)
{
	int r;

	if (a->n_log_retired > SD_DIRECTORY_MAX_LOG_RETIRED)
		return sd_error(SD_ERR_USAGE, _("at most %d --log-retired keys"), SD_DIRECTORY_MAX_LOG_RETIRED);
	if (a->n_log_retired > 0 && a->log == NULL)
		return sd_error(SD_ERR_USAGE, _("--log-retired needs --log, the current log key"));
	for (size_t i = 0; i < a->n_log_retired; i++) {
		if ((r = cli_pubkey_load("--log-retired", a->log_retired[i], SD_KEY_LOG, &d->log_retired[i])) < 0)
			return r;
		d->n_log_retired = i + 1;
	}
	return 0;
}

/* Fills d from the options: every key file checked for its kind, dates and version. */
static int create_fill(const create_args_t *a, sd_directory_t *d)
{
	uint8_t *pem = NULL;
	size_t pemlen = 0;
	int r;

	if (!sd_deployment_is_valid(a->deployment))
		return sd_error(SD_ERR_USAGE, _("--deployment '%s': must be 1-%d of a-z, 0-9 and '-'"), a->deployment,
		                SD_DEPLOYMENT_MAX);
	snprintf(d->deployment, sizeof(d->deployment), "%s", a->deployment);
	d->version = 1;
	if (a->version != NULL && (r = parse_version(a->version, &d->version)) < 0)
		return r;
	d->issued = sd_date_today();
	d->not_after = sd_date_add_days(d->issued, DAYS_VALID_DEFAULT);
	if (a->not_after != NULL && (r = sd_date_parse(a->not_after, &d->not_after)) < 0)
		return cli_error_prefix(SD_ERR_USAGE, "--not-after");
	if (sd_date_cmp(d->not_after, d->issued) <= 0)
		return sd_error(SD_ERR_USAGE, _("--not-after %s: must be after today"), a->not_after);
	d->test = a->test;
	d->codename_kdf = a->test ? sd_kdf_minimum() : sd_kdf_interactive();
	if ((r = cli_pubkey_load("--intake", a->intake, SD_KEY_INTAKE, &d->intake)) < 0 ||
	    (r = cli_pubkey_load("--identity", a->identity, SD_KEY_IDENTITY, &d->identity)) < 0)
		return r;
	if (a->log != NULL) {
		if ((r = cli_pubkey_load("--log", a->log, SD_KEY_LOG, &d->log)) < 0)
			return r;
		d->has_log = true;
	}
	if ((r = create_fill_retired(a, d)) < 0)
		return r;
	if (a->tls_ca != NULL) {
		if ((r = sd_file_read(a->tls_ca, TLS_CA_MAX, &pem, &pemlen)) < 0)
			return cli_error_prefix(r, "--tls-ca");
		d->tls_ca_pem = (char *)pem;
		if (strlen(d->tls_ca_pem) != pemlen || strstr(d->tls_ca_pem, "-----BEGIN CERTIFICATE-----") == NULL)
			return sd_error(SD_ERR_FORMAT, _("--tls-ca: %s is not a PEM certificate"), a->tls_ca);
	}
	if (a->n_agencies > SD_DIRECTORY_MAX_AGENCIES)
		return sd_error(SD_ERR_USAGE, _("at most %d agencies"), SD_DIRECTORY_MAX_AGENCIES);
	if (a->n_agencies > 0 && (d->agencies = calloc(a->n_agencies, sizeof(*d->agencies))) == NULL)
		return SD_ERR_NOMEM;
	for (size_t i = 0; i < a->n_agencies; i++) {
		if ((r = agency_parse(a->agencies[i], &d->agencies[i])) < 0)
			return r;
		for (size_t j = 0; j < i; j++)
			if (strcmp(d->agencies[j].id, d->agencies[i].id) == 0)
				return sd_error(SD_ERR_USAGE, _("--agency: the id '%s' is given twice"),
				                d->agencies[i].id);
		d->n_agencies = i + 1;
	}
	return 0;
}

static int create_run(const create_args_t *a)
{
	sd_directory_t d;
	sd_seckey_t *root = NULL;
	char *json = NULL;
	int r;

	memset(&d, 0, sizeof(d));
	if ((r = cli_check_absent(a->out)) < 0 || (r = create_fill(a, &d)) < 0)
		goto out;
	if (d.test)
		cli_directory_warn_test();
	if ((r = cli_seckey_load("--root", a->root, SD_KEY_ROOT, a->passfile, &root)) < 0)
		goto out;
	if ((r = sd_directory_sign(&d, root, &json)) < 0)
		goto out;
	if ((r = sd_file_write(a->out, json, strlen(json), 0644, SD_AFILE_NOCLOBBER)) < 0)
		goto out;
	sd_key_id(SD_KEY_ROOT, root->pk, d.root_id);
	if (a->json) {
		r = cli_json_print(directory_json(&d, a->out));
	} else {
		char heading[4096];
		snprintf(heading, sizeof(heading), _("wrote %s, signed"), a->out);
		directory_print(&d, heading);
	}
out:
	sd_seckey_free(root);
	free(json);
	free(d.tls_ca_pem);
	free(d.agencies);
	return r;
}

/* Sets *a from argv; returns 0 to go on, or the exit status (help, usage error). */
static int create_parse(int argc, char **argv, create_args_t *a, bool *done)
{
	const cli_opt_t opts[] = {
	        {"deployment", OPT_DEPLOYMENT, .value = &a->deployment},
	        {"intake", OPT_INTAKE, .value = &a->intake},
	        {"identity", OPT_IDENTITY, .value = &a->identity},
	        {"log", OPT_LOG, .value = &a->log},
	        {"log-retired", OPT_LOG_RETIRED, .list = a->log_retired, .n = &a->n_log_retired},
	        {"tls-ca", OPT_TLS_CA, .value = &a->tls_ca},
	        {"agency", OPT_AGENCY, .list = a->agencies, .n = &a->n_agencies},
	        {"version", OPT_VERSION, .value = &a->version},
	        {"not-after", OPT_NOT_AFTER, .value = &a->not_after},
	        {"test", OPT_TEST, .flag = &a->test},
	        {"root", OPT_ROOT, .value = &a->root},
	        {"passphrase-file", OPT_PASSFILE, .value = &a->passfile},
	        {"out", OPT_OUT, .value = &a->out},
	        {"json", OPT_JSON, .flag = &a->json},
	        {0},
	};
	int r;

	*done = true;
	if ((r = cli_getopt(&cmd_create, argc, argv, opts)) >= 0)
		return r;
	if (optind < argc)
		return cli_usage_error(&cmd_create, _("unexpected argument '%s'"), argv[optind]);
	if (a->deployment == NULL || a->intake == NULL || a->identity == NULL || a->root == NULL || a->out == NULL)
		return cli_usage_error(&cmd_create, _("missing %s"),
		                       a->deployment == NULL ? "--deployment"
		                       : a->intake == NULL   ? "--intake"
		                       : a->identity == NULL ? "--identity"
		                       : a->root == NULL     ? "--root"
		                                             : "--out");
	*done = false;
	return 0;
}

static int directory_create(int argc, char **argv)
{
	create_args_t a;
	bool done;
	int r;

	memset(&a, 0, sizeof(a));
	/* Every --agency fits: there are fewer of them than arguments. */
	if ((a.agencies = calloc((size_t)argc + 1, sizeof(*a.agencies))) == NULL ||
	    (a.log_retired = calloc((size_t)argc + 1, sizeof(*a.log_retired))) == NULL) {
		free(a.agencies);
		return cli_fail(cmd_create.name, SD_ERR_NOMEM);
	}
	r = create_parse(argc, argv, &a, &done);
	if (!done) {
		sd_error_clear();
		r = create_run(&a);
		r = r < 0 ? cli_fail(cmd_create.name, r) : 0;
	}
	free(a.agencies);
	free(a.log_retired);
	return r;
}

/* --- verify --------------------------------------------------------------------------- */

static int directory_verify(int argc, char **argv)
{
	const char *root = NULL, *path;
	sd_directory_t *d = NULL;
	char heading[4096];
	bool json = false;
	const cli_opt_t opts[] = {
	        {"root", OPT_ROOT, .value = &root},
	        {"json", OPT_JSON, .flag = &json},
	        {0},
	};
	int r;

	if ((r = cli_getopt(&cmd_verify, argc, argv, opts)) >= 0)
		return r;
	if ((r = cli_one_argument(&cmd_verify, argc, argv, _("missing the directory FILE"), &path)) != 0)
		return r;
	if (root == NULL)
		return cli_usage_error(&cmd_verify, _("missing --root"));
	sd_error_clear();
	if ((r = cli_directory_load(path, root, &d)) < 0)
		return cli_fail(cmd_verify.name, r);
	if (json) {
		r = cli_json_print(directory_json(d, path));
	} else {
		snprintf(heading, sizeof(heading), _("%s: signature verified"), path);
		directory_print(d, heading);
	}
	sd_directory_free(d);
	return r < 0 ? cli_fail(cmd_verify.name, r) : 0;
}

int cmd_directory(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error(&cmd_top, _("missing create or verify"));
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cli_help(&cmd_top);
	if (strcmp(argv[1], "create") == 0)
		return directory_create(argc - 1, argv + 1);
	if (strcmp(argv[1], "verify") == 0)
		return directory_verify(argc - 1, argv + 1);
	return cli_usage_error(&cmd_top, _("unknown subcommand '%s'"), argv[1]);
}
