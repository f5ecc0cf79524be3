/*
 * cmd_receipt.c — `sealdrop receipt verify`: checks a filing receipt offline, against the
 * log key of a directory the pinned root key signed (crypto/receipt.c), and — when the
 * receipt lies next to its package as PKG.receipt.json — that it names that package's
 * header digest. Anyone holding the directory can run it: the receipt proves the server
 * accepted this package as this case on this date. With --server it also asks the
 * server's audit log for the filing's leaf (check_log()): the latest signed head is
 * verified with the same log key and the leaf the receipt implies (sd_receipt_filing_event)
 * must be in its tree, by the inclusion proof (the requests are cmd_audit.c's cli_log_*).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sealdrop/audit.h"
#include "sealdrop/bytes.h"
#include "sealdrop/envelope.h"
#include "sealdrop/fileio.h"
#include "sealdrop/loghead.h"
#include "sealdrop/receipt.h"
#include "sealdrop/sealdrop.h"
#include "cli.h"

#define RECEIPT_SUFFIX ".receipt.json"

static const cli_cmd_t cmd_top = {
        "receipt",
        N_("usage: sealdrop receipt verify FILE --directory D --root ROOTPUB [--server URL --ca CA.pem]\n"
           "                              [--json]\n"),
        N_("\n"
           "  verify   check a filing receipt's signature offline and show it; with --server, also\n"
           "           that the filing is in the server's audit log\n"),
};

static const cli_cmd_t cmd_verify = {
        "receipt verify",
        N_("usage: sealdrop receipt verify FILE --directory D --root ROOTPUB [--server URL --ca CA.pem]\n"
           "                              [--json]\n"),
        N_("\n"
           "Checks a receipt the server signed when it accepted a package (PKG.sdx.receipt.json,\n"
           "written by 'sealdrop file') against the log key of the directory D, which must verify\n"
           "against the pinned root public key. Shows the case number, the dates, the attorney and\n"
           "the package's header digest. When FILE is PKG.receipt.json and PKG exists, also checks\n"
           "that the receipt is for that package. Without --server no network is used.\n"
           "\n"
           "With --server, also checks that the filing is in the server's audit log: the latest\n"
           "signed tree head is fetched (no client certificate is sent) and verified with the same\n"
           "log key, and the inclusion proof of the receipt's leaf must put the filing it states\n"
           "(case, date, attorney certificate, header digest) in that head's tree. A filing becomes\n"
           "checkable once the server publishes a head after it, every hour or so: until then the\n"
           "command exits 69 (try again later); a filing that is not in the log exits 65.\n"
           "\n"
           "  --directory D           the signed key directory\n"
           "  --root ROOTPUB          the pinned root public key that must have signed it\n"
           "  --server URL            also check the filing in this server's audit log\n"
           "  --ca CA.pem             the server's CA certificate: the only one trusted\n"
           "  --json                  print the receipt as one JSON object\n"
           "  -h, --help              this help\n"),
};

enum { OPT_DIRECTORY = 256, OPT_ROOT, OPT_SERVER, OPT_CA, OPT_JSON };

typedef struct {
	const char *file, *dir, *root, *server, *ca;
	bool json;
} verify_args_t;

/* What the server's audit log said about the receipt's filing. */
typedef struct {
	bool checked;
	sd_loghead_t head;
} log_check_t;

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

/* The filing's leaf in the server's log, verified against the latest signed head. */
static int check_log(const verify_args_t *a, const sd_directory_t *d, const sd_receipt_t *rc, log_check_t *lc)
{
	unsigned long long index = rc->leaf_index;
	sd_audit_event_t ev;
	cli_log_t *log = NULL;
	uint8_t *leaf = NULL;
	size_t len = 0;
	int r;

	if (!rc->has_leaf || !rc->has_attorney_cert)
		return sd_error(SD_ERR_INVALID,
		                _("%s carries no %s: it was issued before the audit log, so its filing cannot be "
		                  "checked in the server's log"),
		                a->file, !rc->has_leaf ? "leaf_index" : "attorney_certificate");
	if ((r = sd_receipt_filing_event(rc, &ev)) < 0 || (r = sd_audit_leaf_encode(&ev, &leaf, &len)) < 0)
		return cli_error_prefix(r == SD_ERR_NOMEM ? r : SD_ERR_INVALID, "%s", a->file);
	if ((r = cli_log_open(a->server, a->ca, NULL, NULL, &log)) < 0 ||
	    (r = cli_log_head(log, d, &lc->head, NULL, NULL)) < 0)
		goto out;
	if (lc->head.size <= index) {
		r = sd_error(SD_ERR_UNAVAILABLE,
		             _("the filing (leaf %llu) is not in a published head yet; the server publishes one every "
		               "hour or so: try again later"),
		             index);
		goto out;
	}
	if ((r = cli_log_check_inclusion(log, &lc->head, index, leaf, len)) == SD_ERR_VERIFY)
		r = cli_error_prefix(r, _("the receipt's filing is not in the server's log at leaf %llu"), index);
	lc->checked = r == 0;
out:
	free(leaf);
	cli_log_free(log);
	return r;
}

static json_t *log_json(const sd_receipt_t *rc, const log_check_t *lc)
{
	char id[SD_KEY_ID_HEX_BYTES];

	if (!lc->checked)
		return NULL;
	sd_key_id_hex(lc->head.log_key_id, id);
	return json_pack("{s:I, s:I, s:o, s:o, s:s, s:b}", "leaf_index", (json_int_t)rc->leaf_index, "head_size",
	                 (json_int_t)lc->head.size, "head_root", cli_json_hex(lc->head.root, SD_MERKLE_HASH_BYTES),
	                 "head_date", cli_json_date(lc->head.date), "log_key_id", id, "included", 1);
}

static int show_json(const char *file, const char *pkg, const sd_receipt_t *rc, const log_check_t *lc)
{
	char digest[2 * SD_HASH_BYTES + 1], id[SD_KEY_ID_HEX_BYTES];
	json_t *o, *log = log_json(rc, lc);

	if (lc->checked && log == NULL)
		return SD_ERR_NOMEM;
	sd_hex_encode(rc->header_digest, sizeof(rc->header_digest), digest);
	sd_key_id_hex(rc->log_key_id, id);
	o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:s, s:o, s:o, s:o, s:b}", "file", file, "case",
	              rc->case_number, "deployment", rc->deployment, "received", cli_json_date(rc->received),
	              "decision_due", cli_json_date(rc->decision_due), "attorney", rc->attorney, "header_digest",
	              digest, "log_key_id", id, "leaf_index",
	              rc->has_leaf ? json_integer((json_int_t)rc->leaf_index) : json_null(), "package",
	              pkg != NULL ? json_string(pkg) : json_null(), "package_matches",
	              pkg != NULL ? json_true() : json_null(), "verified", 1);
	if (o != NULL && log != NULL && json_object_set_new(o, "log", log) < 0) {
		json_decref(o);
		return SD_ERR_NOMEM;
	}
	if (o == NULL)
		json_decref(log);
	return cli_json_print(o);
}

static int show(const char *file, const char *pkg, const sd_receipt_t *rc, const log_check_t *lc, bool json)
{
	char digest[2 * SD_HASH_BYTES + 1], id[SD_KEY_ID_HEX_BYTES], date[SD_DATE_TEXT_BYTES];

	if (json)
		return show_json(file, pkg, rc, lc);
	sd_hex_encode(rc->header_digest, sizeof(rc->header_digest), digest);
	sd_key_id_hex(rc->log_key_id, id);
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
	if (lc->checked) {
		sd_date_format(lc->head.date, date);
		printf(_("  audit log      in the audit log: leaf %llu of the head of size %llu (%s)\n"),
		       (unsigned long long)rc->leaf_index, (unsigned long long)lc->head.size, date);
	}
	return 0;
}

static int verify_run(const verify_args_t *a)
{
	sd_directory_t *d = NULL;
	log_check_t lc = {0};
	sd_receipt_t rc;
	uint8_t *text = NULL;
	size_t len = 0;
	char *pkg = NULL;
	int r;

	if ((r = cli_directory_load(a->dir, a->root, &d)) < 0)
		goto out;
	if ((r = sd_file_read(a->file, SD_RECEIPT_MAX_BYTES, &text, &len)) < 0 ||
	    (r = sd_receipt_verify_with_directory(text, len, d, &rc)) < 0) {
		r = cli_error_prefix(r, "%s", a->file);
		goto out;
	}
	if ((pkg = package_of(a->file)) != NULL && (r = check_package(pkg, &rc)) < 0)
		goto out;
	if (a->server != NULL && (r = check_log(a, d, &rc, &lc)) < 0)
		goto out;
	r = show(a->file, pkg, &rc, &lc, a->json);
out:
	free(pkg);
	free(text);
	sd_directory_free(d);
	return r;
}

static int receipt_verify(int argc, char **argv)
{
	verify_args_t a = {0};
	const cli_opt_t opts[] = {
	        {"directory", OPT_DIRECTORY, .value = &a.dir}, {"root", OPT_ROOT, .value = &a.root},
	        {"server", OPT_SERVER, .value = &a.server},    {"ca", OPT_CA, .value = &a.ca},
	        {"json", OPT_JSON, .flag = &a.json},           {0},
	};
	int r;

	if ((r = cli_getopt(&cmd_verify, argc, argv, opts)) >= 0)
		return r;
	if ((r = cli_one_argument(&cmd_verify, argc, argv, _("missing the receipt FILE"), &a.file)) != 0)
		return r;
	if (a.dir == NULL || a.root == NULL)
		return cli_usage_error(&cmd_verify, _("missing %s"), a.dir == NULL ? "--directory" : "--root");
	if ((a.server == NULL) != (a.ca == NULL))
		return cli_usage_error(&cmd_verify, _("--server and --ca go together"));
	sd_error_clear();
	if ((r = verify_run(&a)) < 0)
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
