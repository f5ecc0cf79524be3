/*
 * cmd_open.c — the Commission's side of a package: `sealdrop inspect` checks it with no
 * key at all (header signature, every chunk hash) and shows its header; `sealdrop open`
 * decrypts the report and evidence with the intake key. The identity stays sealed, and
 * open says so: it can be opened only with the whistleblower's consent (a later command).
 * `sealdrop fetch` (cmd_fetch.c) opens what it downloaded with the same two functions,
 * cli_open_package() and cli_open_print(). `open FILE.sdr`, an agency's referral bundle, is
 * cmd_export.c's cli_open_bundle().
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sealdrop/bytes.h"
#include "sealdrop/envelope.h"
#include "sealdrop/export.h"
#include "sealdrop/fileio.h"
#include "sealdrop/sealdrop.h"
#include "cli.h"

static const cli_cmd_t cmd_inspect_def = {
        "inspect",
        N_("usage: sealdrop inspect PKG.sdx [--directory D --root ROOTPUB] [--json]\n"),
        N_("\n"
           "Verifies a package without any key, the way the server and an attorney can: the header\n"
           "signature (by the whistleblower's consent key) and the hash of every chunk of every\n"
           "blob. Then shows the header. Tampering exits with status 65 and prints nothing on stdout.\n"
           "\n"
           "  --directory D           also check the package belongs to D's deployment\n"
           "  --root ROOTPUB          the pinned root public key D must be signed by\n"
           "  --json                  print the header as one JSON object\n"
           "  -h, --help              this help\n"),
};

static const cli_cmd_t cmd_open_def = {
        "open",
        N_("usage: sealdrop open PKG.sdx --intake KEY... [--passphrase-file F] --out DIR\n"
           "                     [--directory D --root ROOTPUB] [--json]\n"
           "       sealdrop open FILE.sdr --agency KEY [--passphrase-file F] --out DIR [--root ROOTPUB] [--json]\n"),
        N_("\n"
           "Verifies and decrypts a package with the intake secret key into DIR (which must not\n"
           "exist, or be empty): DIR/report.json and DIR/evidence/<name>. Nothing is written unless\n"
           "the whole package verifies. The whistleblower's identity stays sealed: it can be opened\n"
           "only with their consent.\n"
           "\n"
           "  --intake KEY            the intake secret key file; repeat it for each key kept (the\n"
           "                          one the package is sealed to is chosen by the KEY.pub beside\n"
           "                          each, and only it is asked its passphrase)\n"
           "  --passphrase-file F     its passphrase from F instead of the terminal\n"
           "                          (RISK: a passphrase in a file can be copied or seized)\n"
           "  --out DIR               where to put the report and evidence\n"
           "  --directory D           refuse a package sealed for another deployment than D's\n"
           "  --root ROOTPUB          the pinned root public key D must be signed by\n"
           "  --json                  print what was written as one JSON object\n"
           "  -h, --help              this help\n"
           "\n"
           "A referral bundle (FILE.sdr, made by `sealdrop export`) is opened by the agency with its\n"
           "secret key (--agency KEY) instead. Before anything is decrypted: every chunk is checked\n"
           "against the bundle's manifest; the directory in the bundle against the pinned root key\n"
           "(--root, or root in the config file; without one a warning says it was not checked); the\n"
           "export receipt against that directory's log key; the bundle's digest against the one the\n"
           "receipt signs; and KEY against the directory's key for the receipt's agency. Any failure\n"
           "exits with status 65 and writes nothing. A bundle holds no identity.\n"
           "\n"
           "  --agency KEY            the agency's secret key file (FILE.sdr only)\n"),
};

enum { OPT_INTAKE = 256, OPT_PASSFILE, OPT_OUT, OPT_JSON, OPT_DIRECTORY, OPT_ROOT, OPT_AGENCY };

/* With --directory and --root: the package must belong to that deployment. Read from
 * the header alone, before any passphrase is asked or anything decrypted. */
static int check_deployment(const char *pkg, const char *dir_path, const char *root_path)
{
	sd_directory_t *d = NULL;
	sd_header_t *h = NULL;
	int fd, r;

	if (dir_path == NULL && root_path == NULL)
		return 0;
	if (dir_path == NULL || root_path == NULL)
		return sd_error(SD_ERR_USAGE, _("--directory and --root go together"));
	if ((r = cli_directory_load(dir_path, root_path, &d)) < 0)
		return r;
	if ((fd = open(pkg, O_RDONLY | O_CLOEXEC)) < 0)
		r = sd_error(errno == ENOENT ? SD_ERR_NOENT : SD_ERR_IO, "%s: %s", pkg, strerror(errno));
	else if ((r = sd_header_read(fd, &h)) == 0)
		r = sd_header_check_deployment(h, d);
	if (fd >= 0)
		close(fd);
	if (r < 0)
		r = cli_error_prefix(r, "%s", pkg);
	sd_header_free(h);
	sd_directory_free(d);
	return r;
}

static const char *blob_kind_name(sd_blob_kind_t k)
{
	switch (k) {
	case SD_BLOB_REPORT:
		return "report";
	case SD_BLOB_IDENTITY:
		return "identity";
	case SD_BLOB_EVIDENCE:
		return "evidence";
	}
	return "unknown";
}

static size_t count_evidence(const sd_header_t *h)
{
	size_t n = 0;

	for (uint32_t i = 0; i < h->n_blobs; i++)
		n += h->blobs[i].kind == SD_BLOB_EVIDENCE;
	return n;
}

/* --- inspect -------------------------------------------------------------------------- */

static json_t *header_json(const char *path, const sd_header_t *h)
{
	json_t *blobs = json_array();

	for (uint32_t i = 0; blobs != NULL && i < h->n_blobs; i++)
		if (json_array_append_new(
		            blobs, json_pack("{s:s, s:I, s:I, s:I}", "kind", blob_kind_name(h->blobs[i].kind), "size",
		                             (json_int_t)h->blobs[i].size, "offset", (json_int_t)h->blobs[i].offset,
		                             "chunks", (json_int_t)h->blobs[i].n_chunks)) != 0) {
			json_decref(blobs);
			return NULL;
		}
	return json_pack("{s:s, s:i, s:s, s:o, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:o, s:b}", "package", path,
	                 "version", (int)h->version, "deployment", h->deployment, "created", cli_json_date(h->created),
	                 "directory_version", (json_int_t)h->directory_version, "intake_key_id",
	                 cli_json_hex(h->intake_id, sizeof(h->intake_id)), "identity_key_id",
	                 cli_json_hex(h->identity_id, sizeof(h->identity_id)), "header_digest",
	                 cli_json_hex(h->digest, sizeof(h->digest)), "locator_hash",
	                 cli_json_hex(h->locator_hash, sizeof(h->locator_hash)), "consent_public_key",
	                 cli_json_hex(h->consent_pk, sizeof(h->consent_pk)), "notice_public_key",
	                 cli_json_hex(h->notice_pk, sizeof(h->notice_pk)), "size", (json_int_t)h->package_size,
	                 "evidence_files", (json_int_t)count_evidence(h), "blobs", blobs, "verified", 1);
}

static void print_hex_field(const char *label, const uint8_t *p, size_t len)
{
	char hex[2 * 64 + 1];

	sd_hex_encode(p, len, hex);
	printf("  %-19s %s\n", label, hex);
}

static void header_print(const char *path, const sd_header_t *h)
{
	char date[SD_DATE_TEXT_BYTES], size[CLI_SIZE_TEXT_BYTES];

	printf("%s\n", path);
	printf(_("  format version      %u\n"), (unsigned)h->version);
	printf(_("  deployment          %s\n"), h->deployment);
	sd_date_format(h->created, date);
	printf(_("  created             %s\n"), date);
	printf(_("  directory version   %u\n"), h->directory_version);
	print_hex_field(_("intake key"), h->intake_id, sizeof(h->intake_id));
	print_hex_field(_("identity key"), h->identity_id, sizeof(h->identity_id));
	print_hex_field(_("header digest"), h->digest, sizeof(h->digest));
	print_hex_field(_("locator hash"), h->locator_hash, sizeof(h->locator_hash));
	print_hex_field(_("consent public key"), h->consent_pk, sizeof(h->consent_pk));
	print_hex_field(_("notice public key"), h->notice_pk, sizeof(h->notice_pk));
	cli_format_size(h->package_size, size);
	printf(_("  size                %s (%llu bytes)\n"), size, (unsigned long long)h->package_size);
	printf(_("  evidence files      %zu\n"), count_evidence(h));
	printf(_("  blobs               %u\n"), h->n_blobs);
	for (uint32_t i = 0; i < h->n_blobs; i++) {
		cli_format_size(h->blobs[i].size, size);
		printf(h->blobs[i].n_chunks == 1 ? _("    %-3u %-9s %12s  %u chunk\n")
		                                 : _("    %-3u %-9s %12s  %u chunks\n"),
		       i + 1, blob_kind_name(h->blobs[i].kind), size, h->blobs[i].n_chunks);
	}
	printf(_("verified: header signature and every chunk hash\n"));
}

int cmd_inspect(int argc, char **argv)
{
	sd_header_t *h = NULL;
	cli_progress_t prog;
	const char *dir_path = NULL, *root_path = NULL;
	const char *pkg = NULL;
	bool json = false;
	const cli_opt_t opts[] = {
	        {"json", OPT_JSON, .flag = &json},
	        {"directory", OPT_DIRECTORY, .value = &dir_path},
	        {"root", OPT_ROOT, .value = &root_path},
	        {0},
	};
	int r;

	if ((r = cli_getopt(&cmd_inspect_def, argc, argv, opts)) >= 0)
		return r;
	if ((r = cli_one_argument(&cmd_inspect_def, argc, argv, _("missing the package PKG.sdx"), &pkg)) != 0)
		return r;
	sd_error_clear();
	if ((r = check_deployment(pkg, dir_path, root_path)) < 0)
		return cli_fail(cmd_inspect_def.name, r);
	cli_progress_init(&prog, _("verifying"), !json);
	r = sd_envelope_verify(pkg, cli_progress_cb, &prog, &h);
	cli_progress_end(&prog);
	if (r < 0)
		return cli_fail(cmd_inspect_def.name, cli_error_prefix(r, "%s", pkg));
	if (json)
		r = cli_json_print(header_json(pkg, h));
	else
		header_print(pkg, h);
	sd_header_free(h);
	return r < 0 ? cli_fail(cmd_inspect_def.name, r) : 0;
}

/* --- open ----------------------------------------------------------------------------- */

typedef struct {
	char *name;
	uint64_t size;
} opened_file_t;

static int opened_cmp(const void *a, const void *b)
{
	return strcmp(((const opened_file_t *)a)->name, ((const opened_file_t *)b)->name);
}

static void opened_free(opened_file_t *files, size_t n)
{
	if (files == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(files[i].name);
	free(files);
}

/* What the library wrote under DIR/evidence, sorted by name. */
static int list_evidence(const char *dir, opened_file_t **out, size_t *n_out)
{
	char *evdir = NULL, *path = NULL;
	opened_file_t *files = NULL, *grown;
	size_t n = 0, cap = 0;
	struct dirent *e;
	struct stat st;
	DIR *dp = NULL;
	int r = SD_ERR_NOMEM;

	*out = NULL;
	*n_out = 0;
	if (asprintf(&evdir, "%s/evidence", dir) < 0) {
		evdir = NULL;
		goto out;
	}
	if ((dp = opendir(evdir)) == NULL) {
		r = errno == ENOENT ? 0 : sd_error(SD_ERR_IO, "%s: %s", evdir, strerror(errno));
		goto out;
	}
	while ((e = readdir(dp)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			if ((grown = realloc(files, cap * sizeof(*files))) == NULL)
				goto out;
			files = grown;
		}
		free(path);
		if (asprintf(&path, "%s/%s", evdir, e->d_name) < 0) {
			path = NULL;
			goto out;
		}
		if ((files[n].name = strdup(e->d_name)) == NULL)
			goto out;
		files[n++].size = stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
	}
	if (n > 1) /* qsort(NULL, 0, ...) is undefined: a package may have no evidence */
		qsort(files, n, sizeof(*files), opened_cmp);
	*out = files;
	*n_out = n;
	files = NULL;
	r = 0;
out:
	if (dp != NULL)
		closedir(dp);
	opened_free(files, n);
	free(path);
	free(evdir);
	return r;
}

/* DIR must not exist or be empty; checked before the passphrase is asked. */
static int check_out_dir(const char *dir)
{
	struct dirent *e;
	DIR *dp = opendir(dir);
	bool empty = true;

	if (dp == NULL) {
		if (errno == ENOENT)
			return 0;
		return sd_error(errno == ENOTDIR ? SD_ERR_EXISTS : SD_ERR_IO, "--out %s: %s", dir,
		                errno == ENOTDIR ? _("exists and is not a directory") : strerror(errno));
	}
	while (empty && (e = readdir(dp)) != NULL)
		empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
	closedir(dp);
	if (!empty)
		return sd_error(SD_ERR_EXISTS, _("--out %s: exists and is not empty; nothing was overwritten"), dir);
	return 0;
}

static int open_report(const char *out, bool json, const opened_file_t *files, size_t n, json_t *extra)
{
	char size[CLI_SIZE_TEXT_BYTES], *report = NULL;
	struct stat st;
	json_t *arr, *obj;

	if (asprintf(&report, "%s/report.json", out) < 0) {
		json_decref(extra);
		return SD_ERR_NOMEM;
	}
	if (json) {
		arr = json_array();
		for (size_t i = 0; arr != NULL && i < n; i++)
			if (json_array_append_new(arr, json_pack("{s:s, s:I, s:n}", "name", files[i].name, "size",
			                                         (json_int_t)files[i].size, "media_type")) != 0) {
				json_decref(arr);
				arr = NULL;
			}
		obj = json_pack("{s:s, s:s, s:o, s:s}", "out", out, "report", report, "evidence", arr, "identity",
		                "sealed");
		if (obj != NULL && extra != NULL && json_object_update(obj, extra) != 0) {
			json_decref(obj);
			obj = NULL;
		}
		json_decref(extra);
		free(report);
		return cli_json_print(obj);
	}
	json_decref(extra);
	printf(_("opened into %s\n"), out);
	cli_format_size(stat(report, &st) == 0 ? (uint64_t)st.st_size : 0, size);
	printf("  %-32s %s\n", "report.json", size);
	for (size_t i = 0; i < n; i++) {
		char name[SD_EVIDENCE_NAME_MAX + 16];
		snprintf(name, sizeof(name), "evidence/%s", files[i].name);
		cli_format_size(files[i].size, size);
		printf("  %-32s %s\n", name, size);
	}
	printf(_("The whistleblower's identity stays sealed: it can be opened only with their consent.\n"));
	free(report);
	return 0;
}

int cli_open_package(const char *pkg, const sd_seckey_t *intake, const char *out, bool quiet)
{
	cli_progress_t prog;
	int r;

	cli_progress_init(&prog, _("opening"), !quiet);
	r = sd_envelope_open(pkg, intake, out, cli_progress_cb, &prog, NULL);
	cli_progress_end(&prog);
	return r < 0 ? cli_error_prefix(r, "%s", pkg) : 0;
}

int cli_open_print(const char *out, bool json, json_t *extra)
{
	opened_file_t *files = NULL;
	size_t n = 0;
	int r;

	if ((r = list_evidence(out, &files, &n)) < 0)
		json_decref(extra);
	else
		r = open_report(out, json, files, n, extra);
	opened_free(files, n);
	return r;
}

typedef struct {
	const char *passfile, *out, *directory, *root, *agency;
	cli_keys_t intake;
	bool json;
} open_args_t;

/* FILE.sdr: a referral bundle (its magic), opened with an agency key. */
static bool is_bundle(const char *path)
{
	uint8_t magic[SD_SDR_MAGIC_BYTES];
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool yes = fd >= 0 && sd_read_full(fd, magic, sizeof(magic), &got) == 0 && sd_bundle_has_magic(magic, got);

	if (fd >= 0)
		close(fd);
	return yes;
}

/* --root, else root from the config file. */
static int bundle_run(const char *path, const open_args_t *a)
{
	cli_config_t cfg = {0};
	const char *root = a->root;
	int r;

	if ((r = check_out_dir(a->out)) < 0)
		return r;
	if (root == NULL) {
		if ((r = cli_config_load(&cfg)) < 0)
			return r;
		root = cfg.value[CLI_CONFIG_ROOT];
	}
	r = cli_open_bundle(path, a->agency, a->passfile, root, a->out, a->json);
	cli_config_free(&cfg);
	return r;
}

/* The intake key pkg's header names, of those given, unlocked. */
static int open_key(const char *pkg, const open_args_t *a, sd_seckey_t **key)
{
	sd_header_t *h = NULL;
	char what[PATH_MAX + SD_DEPLOYMENT_MAX + 32];
	int fd, r;

	if ((fd = open(pkg, O_RDONLY | O_CLOEXEC)) < 0)
		return sd_error(errno == ENOENT ? SD_ERR_NOENT : SD_ERR_IO, "%s: %s", pkg, strerror(errno));
	r = sd_header_read(fd, &h);
	close(fd);
	if (r < 0)
		return cli_error_prefix(r, "%s", pkg);
	/* A package of another deployment is the likely reason no key fits: say which. */
	snprintf(what, sizeof(what), _("%s (deployment '%s')"), pkg, h->deployment);
	r = cli_seckey_load_matching(&a->intake, SD_KEY_INTAKE, h->intake_id, what, a->passfile, key);
	sd_header_free(h);
	return r;
}

static int open_run(const char *pkg, const open_args_t *a)
{
	sd_seckey_t *key = NULL;
	struct stat st;
	int r;

	if (stat(pkg, &st) != 0)
		return sd_error(errno == ENOENT ? SD_ERR_NOENT : SD_ERR_IO, "%s: %s", pkg, strerror(errno));
	if ((r = check_out_dir(a->out)) < 0 || (r = check_deployment(pkg, a->directory, a->root)) < 0)
		return r;
	if ((r = open_key(pkg, a, &key)) < 0)
		return r;
	if ((r = cli_open_package(pkg, key, a->out, a->json)) == 0)
		r = cli_open_print(a->out, a->json, NULL);
	sd_seckey_free(key);
	return r;
}

int cmd_open(int argc, char **argv)
{
	open_args_t a = {.intake = {.cmd = &cmd_open_def, .opt = "--intake"}};
	const char *pkg = NULL;
	const cli_opt_t opts[] = {
	        {"intake", OPT_INTAKE, .take = cli_keys_take, .dst = &a.intake},
	        {"passphrase-file", OPT_PASSFILE, .value = &a.passfile},
	        {"out", OPT_OUT, .value = &a.out},
	        {"json", OPT_JSON, .flag = &a.json},
	        {"directory", OPT_DIRECTORY, .value = &a.directory},
	        {"root", OPT_ROOT, .value = &a.root},
	        {"agency", OPT_AGENCY, .value = &a.agency},
	        {0},
	};
	int r;

	if ((r = cli_getopt(&cmd_open_def, argc, argv, opts)) >= 0)
		return r;
	if ((r = cli_one_argument(&cmd_open_def, argc, argv, _("missing the package PKG.sdx"), &pkg)) != 0)
		return r;
	if (is_bundle(pkg)) {
		if (a.agency == NULL || a.out == NULL)
			return cli_usage_error(&cmd_open_def, _("missing %s"), a.agency == NULL ? "--agency" : "--out");
		if (a.intake.n > 0 || a.directory != NULL)
			return cli_usage_error(&cmd_open_def, _("a referral bundle opens with --agency, not %s"),
			                       a.intake.n > 0 ? "--intake" : "--directory");
		sd_error_clear();
		if ((r = bundle_run(pkg, &a)) < 0)
			return cli_fail(cmd_open_def.name, r);
		return 0;
	}
	if (a.agency != NULL)
		return cli_usage_error(&cmd_open_def, _("--agency opens a referral bundle (FILE.sdr); %s is not one"),
		                       pkg);
	if (a.intake.n == 0 || a.out == NULL)
		return cli_usage_error(&cmd_open_def, _("missing %s"), a.intake.n == 0 ? "--intake" : "--out");
	if ((a.directory == NULL) != (a.root == NULL))
		return cli_usage_error(&cmd_open_def, _("--directory and --root go together"));
	sd_error_clear();
	if ((r = open_run(pkg, &a)) < 0)
		return cli_fail(cmd_open_def.name, r);
	return 0;
}
