/*
 * cmd_receipt.c — `sealdrop receipt verify`: checks a filing receipt offline, against the
 * log key of a directory the pinned root key signed (crypto/receipt.c), and — when the
 * receipt lies next to its package as PKG.receipt.json — that it names that package's
 * header digest. Anyone holding the directory can run it: the receipt proves the server
 * accepted this package as this case on this date.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sealdrop/bytes.h"
#include "sealdrop/envelope.h"
#include "sealdrop/fileio.h"
#include "sealdrop/receipt.h"
#include "sealdrop/sealdrop.h"
#include "cli.h"

#define RECEIPT_SUFFIX ".receipt.json"

static const cli_cmd_t cmd_top = {
        "receipt",
        N_("usage: sealdrop receipt verify FILE --directory D --root ROOTPUB [--json]\n"),
        N_("\n"
           "  verify   check a filing receipt's signature offline and show it\n"),
};

static const cli_cmd_t cmd_verify = {
        "receipt verify",
        N_("usage: sealdrop receipt verify FILE --directory D --root ROOTPUB [--json]\n"),
        N_("\n"
           "Checks a receipt the server signed when it accepted a package (PKG.sdx.receipt.json,\n"
           "written by 'sealdrop file') against the log key of the directory D, which must verify\n"
           "against the pinned root public key. Shows the case number, the dates, the attorney and\n"
           "the package's header digest. When FILE is PKG.receipt.json and PKG exists, also checks\n"
           "that the receipt is for that package. No network is used.\n"
           "\n"
           "  --directory D           the signed key directory\n"
           "  --root ROOTPUB          the pinned root public key that must have signed it\n"
           "  --json                  print the receipt as one JSON object\n"
           "  -h, --help              this help\n"),
};

enum { OPT_DIRECTORY = 256, OPT_ROOT, OPT_JSON };

/* The package the receipt's name points at, if there is one: FILE minus ".receipt.json". */
static char *package_of(const char *file)
{
	size_t n = strlen(file), k = strlen(RECEIPT_SUFFIX);
	struct stat st;
	char *pkg;

	if (n <= k || strcmp(file + n - k, RECEIPT_SUFFIX) != 0 || (pkg = strndup(file, n - k)) == NULL)
		return NULL;
	if (stat(pkg, &st) != 0 || !S_ISREG(st.st_mode)) {
		free(pkg);
		return NULL;
	}
	return pkg;
}

/* The package's header digest must be the receipt's. */
static int check_package(const char *pkg, const sd_receipt_t *rc)
{
	sd_header_t *h = NULL;
	int fd, r;

	if ((fd = open(pkg, O_RDONLY | O_CLOEXEC)) < 0)
		return sd_error(SD_ERR_IO, "%s: %s", pkg, strerror(errno));
	r = sd_header_read(fd, &h);
	close(fd);
	if (r < 0)
		return cli_error_prefix(r, "%s", pkg);
	if (!sd_equal(h->digest, rc->header_digest, SD_HASH_BYTES))
		r = sd_error(SD_ERR_VERIFY, _("the receipt is not for %s: its header digest differs"), pkg);
	sd_header_free(h);
	return r;
}

static int show(const char *file, const char *pkg, const sd_receipt_t *rc, bool json)
{
	char digest[2 * SD_HASH_BYTES + 1], id[SD_KEY_ID_HEX_BYTES], date[SD_DATE_TEXT_BYTES];

	sd_hex_encode(rc->header_digest, sizeof(rc->header_digest), digest);
	sd_key_id_hex(rc->log_key_id, id);
	if (json)
		return cli_json_print(
		        json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:s, s:o, s:o, s:o, s:b}", "file", file, "case",
		                  rc->case_number, "deployment", rc->deployment, "received",
		                  cli_json_date(rc->received), "decision_due", cli_json_date(rc->decision_due),
		                  "attorney", rc->attorney, "header_digest", digest, "log_key_id", id, "leaf_index",
		                  rc->has_leaf ? json_integer((json_int_t)rc->leaf_index) : json_null(), "package",
		                  pkg != NULL ? json_string(pkg) : json_null(), "package_matches",
		                  pkg != NULL ? json_true() : json_null(), "verified", 1));
	printf(_("%s: receipt verified (signed by log key %s)\n"), file, id);
	printf(_("  case           %s\n"), rc->case_number);
	printf(_("  deployment     %s\n"), rc->deployment);
	sd_date_format(rc->received, date);
	printf(_("  received       %s\n"), date);
	sd_date_format(rc->decision_due, date);
	printf(_("  decision due   %s (Art. 8(1): 60 days from receipt)\n"), date);
	printf(_("  attorney       %s\n"), rc->attorney);
	printf(_("  header digest  %s\n"), digest);
	if (pkg != NULL)
		printf(_("  package        %s: the header digest matches\n"), pkg);
	return 0;
}

static int verify_run(const char *file, const char *dir_path, const char *root, bool json)
{
	sd_directory_t *d = NULL;
	sd_receipt_t rc;
	uint8_t *text = NULL;
	size_t len = 0;
	char *pkg = NULL;
	int r;

	if ((r = cli_directory_load(dir_path, root, &d)) < 0)
		goto out;
	if ((r = sd_file_read(file, SD_RECEIPT_MAX_BYTES, &text, &len)) < 0 ||
	    (r = sd_receipt_verify_with_directory(text, len, d, &rc)) < 0) {
		r = cli_error_prefix(r, "%s", file);
		goto out;
	}
	if ((pkg = package_of(file)) != NULL && (r = check_package(pkg, &rc)) < 0)
		goto out;
	r = show(file, pkg, &rc, json);
out:
	free(pkg);
	free(text);
	sd_directory_free(d);
	return r;
}

static int receipt_verify(int argc, char **argv)
{
	const char *dir = NULL, *root = NULL, *file;
	bool json = false;
	const cli_opt_t opts[] = {
	        {"directory", OPT_DIRECTORY, .value = &dir},
	        {"root", OPT_ROOT, .value = &root},
	        {"json", OPT_JSON, .flag = &json},
	        {0},
	};
	int r;

	if ((r = cli_getopt(&cmd_verify, argc, argv, opts)) >= 0)
		return r;
	if ((r = cli_one_argument(&cmd_verify, argc, argv, _("missing the receipt FILE"), &file)) != 0)
		return r;
	if (dir == NULL || root == NULL)
		return cli_usage_error(&cmd_verify, _("missing %s"), dir == NULL ? "--directory" : "--root");
	sd_error_clear();
	if ((r = verify_run(file, dir, root, json)) < 0)
		return cli_fail(cmd_verify.name, r);
	return 0;
}

int cmd_receipt(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error(&cmd_top, _("missing verify"));
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cli_help(&cmd_top);
	if (strcmp(argv[1], "verify") == 0)
		return receipt_verify(argc - 1, argv + 1);
	return cli_usage_error(&cmd_top, _("unknown subcommand '%s'"), argv[1]);
}
