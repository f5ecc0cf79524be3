/*
 * cmd_scrub.c — `sealdropd scrub` (sealdropd(8), SCRUB; docs/OPERATIONS.md, "Scrub"):
 * re-verifies every blob and record of a stopped server's store and reports damage case
 * by case. The walk is server/scrub.c's; this is the command around it, shaped like
 * `audit check` (server/cmd_audit.c).
 *
 * The store is opened directly, as `audit check` does with the server stopped, and so
 * holds the store's lock meanwhile: no server starts during a scrub. While a server runs
 * the lock is the server's and scrub refuses; the operator stops the server, or scrubs
 * a copy taken with mdb_copy(1) (--copy), which reads the running store consistently.
 * A scrub inside the running server would compete with it for the store thread for
 * minutes on a large store; that is left to a later issue.
 */
#include <errno.h>
#include <getopt.h>
#include <libintl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "sealdrop/auditcheck.h"
#include "sealdrop/scrub.h"
#include "sealdrop/sealdrop.h"
#include "sealdrop/server.h"
#include "sealdrop/servicekey.h"
#include "cmd.h"

static const sdd_cmd_t scrub_cmd = {
        "scrub",
        N_("usage: sealdropd scrub --config FILE [--copy DIR] [--json]\n"),
        N_("\nRe-verifies every stored blob and record against its hash, MAC or signature (LMDB\n"
           "keeps no checksums of its own): each chunk of each case against the signed manifest,\n"
           "each header, record, receipt, notice, consent and index entry, the audit log's\n"
           "leaves and tree, and the chunks of uploads in progress. Prints one line per damaged\n"
           "item (\"2026-000012: blob 1 chunk 7: hash mismatch\") and a summary. Read-only.\n"
           "Runs on the stopped server's store; while the server runs, stop it, or copy the\n"
           "store with `mkdir -p COPY/store && mdb_copy DIR/store COPY/store` and give --copy COPY.\n"
           "Exit status: 0 nothing is damaged, 65 damage was found, 66 no store, 74 I/O error,\n"
           "77 the server is running, 78 configuration.\n"
           "\n"
           "  --config FILE  the server's configuration (its directory and log key)\n"
           "  --copy DIR     scrub the store in DIR/store (a copy) instead of the server's\n"
           "  --json         print the report as JSON\n"),
};

/* The log key's public half, from the server's key file (as audit check reads it). */
static int log_public(const char *dir, sd_pubkey_t *pub)
{
	char path[PATH_MAX];
	sd_seckey_t *key = NULL;
	int r;

	if ((r = sdd_path_join(path, dir, SD_SERVER_LOGKEY_FILE)) < 0 ||
	    (r = sd_servicekey_read(path, SD_KEY_LOG, &key)) < 0)
		return r;
	sd_seckey_public(key, pub);
	sd_seckey_free(key);
	return 0;
}

/* DIR/store/data.mdb exists: opening the store would otherwise create an empty one. */
static int store_exists(const char *dir)
{
	char sub[PATH_MAX], path[PATH_MAX];
	struct stat st;
	int r;

	if ((r = sdd_path_join(sub, dir, SD_STORE_SUBDIR)) < 0 || (r = sdd_path_join(path, sub, "data.mdb")) < 0)
		return r;
	if (stat(path, &st) != 0)
		return sd_error(errno == ENOENT ? SD_ERR_NOENT : SD_ERR_IO, "no store at %s: %s", path,
		                strerror(errno));
	return 0;
}

static int open_store(const char *dir, sd_store_t **store)
{
	int r;

	if ((r = store_exists(dir)) < 0)
		return r;
	r = sd_store_open(dir, NULL, store);
	if (r == SD_ERR_REFUSED)
		return sd_error(r,
		                "the server is running: stop it, or scrub a copy of its store "
		                "(mdb_copy %s/%s COPY/store, then --copy COPY)",
		                dir, SD_STORE_SUBDIR);
	return r;
}

/* sd_scrub_summary's line (which --json keeps in English), in the operator's language. */
static void print_summary(const sd_scrub_report_t *rep)
{
	char cases[64], chunks[64], records[64], damaged_cases[64], uploads[64];

	snprintf(cases, sizeof(cases), ngettext("%llu case", "%llu cases", (unsigned long)rep->cases),
	         (unsigned long long)rep->cases);
	snprintf(chunks, sizeof(chunks), ngettext("%llu chunk", "%llu chunks", (unsigned long)rep->chunks),
	         (unsigned long long)rep->chunks);
	snprintf(records, sizeof(records), ngettext("%llu record", "%llu records", (unsigned long)rep->records),
	         (unsigned long long)rep->records);
	snprintf(damaged_cases, sizeof(damaged_cases),
	         ngettext("%llu case", "%llu cases", (unsigned long)rep->damaged_cases),
	         (unsigned long long)rep->damaged_cases);
	printf(_("scrub: %s, %s (%llu bytes), %s checked: %llu damaged in %s"), cases, chunks,
	       (unsigned long long)rep->bytes, records, (unsigned long long)rep->damaged, damaged_cases);
	if (rep->uploads > 0) {
		snprintf(uploads, sizeof(uploads), ngettext("%llu upload", "%llu uploads", (unsigned long)rep->uploads),
		         (unsigned long long)rep->uploads);
		printf(_(" (and %s in progress checked)"), uploads);
	}
	putchar('\n');
}

/* Prints the report and returns the exit status. */
static int report_out(const sd_scrub_report_t *rep, bool json)
{
	char items[64], cases[64];
	int status = rep->damaged == 0 ? 0 : sd_exit_code(SD_ERR_VERIFY);

	if (json) {
		if (sdd_json_print(sd_scrub_report_json(rep)) < 0)
			return sdd_fail(scrub_cmd.name, SD_ERR_NOMEM);
	} else {
		print_summary(rep);
	}
	if (rep->damaged > 0) {
		snprintf(items, sizeof(items),
		         ngettext("%llu damaged item", "%llu damaged items", (unsigned long)rep->damaged),
		         (unsigned long long)rep->damaged);
		snprintf(cases, sizeof(cases), ngettext("%llu case", "%llu cases", (unsigned long)rep->damaged_cases),
		         (unsigned long long)rep->damaged_cases);
		fprintf(stderr, _("sealdropd: scrub: %s in %s: restore them from a backup (sealdropd(8), SCRUB)\n"),
		        items, cases);
	}
	return status;
}

static int scrub(const sd_config_t *c, const char *copy, bool json)
{
	sd_scrub_report_t rep = {0};
	sd_store_t *store = NULL;
	sd_pubkey_t pub, keys[SD_AUDIT_KEYS_MAX];
	size_t n_keys = 0;
	int r, status;

	if ((r = log_public(c->dir, &pub)) < 0 || (r = open_store(copy != NULL ? copy : c->dir, &store)) < 0 ||
	    (r = sd_scrub_report_init(&rep, json ? NULL : stdout)) < 0) {
		status = sdd_fail(scrub_cmd.name, r);
		goto out;
	}
	n_keys = sd_audit_keys_load(c->dir, &pub, keys); /* and the log keys the directory retired */
	if ((r = sd_scrub_run_keys(store, keys, n_keys, c, &rep)) < 0) {
		fflush(stdout);
		status = sdd_fail(scrub_cmd.name, r);
		goto out;
	}
	status = report_out(&rep, json);
out:
	sd_scrub_report_clear(&rep);
	sd_store_close(store);
	return status;
}

int sdd_cmd_scrub(int argc, char **argv)
{
	const char *config = NULL, *copy = NULL;
	bool json = false;
	const sdd_opt_t opts[] = {
	        {"config", 'c', .value = &config}, {"copy", 'C', .value = &copy}, {"json", 'j', .flag = &json}, {NULL}};
	sd_config_t c = {0};
	int status;

	if ((status = sdd_getopt(&scrub_cmd, argc, argv, opts)) != 0)
		return status < 0 ? sdd_help(&scrub_cmd) : status;
	if (optind < argc)
		return sdd_usage_error(&scrub_cmd, "unexpected argument '%s'", argv[optind]);
	if (config == NULL)
		return sdd_usage_error(&scrub_cmd, "--config is required");
	sdd_json_in_english(json);
	if ((status = sdd_config_load(scrub_cmd.name, config, &c)) != 0)
		return status;
	status = scrub(&c, copy, json);
	sd_config_free(&c);
	return status;
}
