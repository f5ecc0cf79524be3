/*
 * cmd_retention.c — `sealdropd retention --dir DIR [--dry-run] [--json]`: asks the running
 * server (control op "retention", server/control.c) to destroy the finished cases whose
 * retention period has passed (server/retention.c), or with --dry-run only to list them.
 * Prints each case, the date it was closed or terminated and the bytes its package held,
 * then a total. Meant for a daily timer; run it with --dry-run first (sealdropd(8)).
 */
#include <getopt.h>
#include <libintl.h>
#include <stdio.h>
#include <string.h>

#include "sealdrop/sealdrop.h"
#include "cmd.h"

static const sdd_cmd_t retention_cmd = {
        "retention",
        N_("usage: sealdropd retention --dir DIR [--dry-run] [--json]\n"),
        N_("\nDestroys the cases closed or terminated more than retention_days ago (sealdropd.conf):\n"
           "their records, notices, consents, receipt and package are deleted, a tombstone is\n"
           "kept, and each destruction is a case-destroyed leaf of the audit log. The audit log\n"
           "and the year's case numbers stay. The store file shrinks at the next backup\n"
           "(sealdropd backup writes a compacted copy). retention_days 0, the default, keeps\n"
           "every case: nothing is due.\n"
           "\n"
           "  --dir DIR    the server's directory (its control socket is DIR/control.sock)\n"
           "  --dry-run    list the cases that would be destroyed, destroy nothing\n"
           "  --json       print the result as JSON\n"),
};

static void print_cases(const json_t *res, bool dry_run)
{
	const json_t *cases = json_object_get(res, "cases"), *c;
	size_t i;

	json_array_foreach(cases, i, c)
	{
		printf(dry_run ? _("%s  %s %s  %lld bytes\n") : _("%s  %s %s  %lld bytes  destroyed\n"),
		       json_string_value(json_object_get(c, "case")), json_string_value(json_object_get(c, "state")),
		       json_string_value(json_object_get(c, "finished")),
		       (long long)json_integer_value(json_object_get(c, "bytes")));
	}
}

static void print_result(const json_t *res, bool dry_run)
{
	long long days = (long long)json_integer_value(json_object_get(res, "retention_days"));
	size_t n = json_array_size(json_object_get(res, "cases"));
	long long total = (long long)json_integer_value(json_object_get(res, "total_bytes"));

	if (days == 0) {
		printf(_("retention_days is 0 (keep every case): no case is due\n"));
		return;
	}
	printf(dry_run ? _("retention: cases closed or terminated more than %lld days before %s (dry run: nothing is "
	                   "destroyed)\n")
	               : _("retention: cases closed or terminated more than %lld days before %s\n"),
	       days, json_string_value(json_object_get(res, "today")));
	print_cases(res, dry_run);
	if (dry_run)
		printf(ngettext("total: %zu case, %lld bytes would be destroyed\n",
		                "total: %zu cases, %lld bytes would be destroyed\n", n),
		       n, total);
	else
		printf(ngettext("total: %zu case, %lld bytes destroyed\n", "total: %zu cases, %lld bytes destroyed\n",
		                n),
		       n, total);
}

int sdd_cmd_retention(int argc, char **argv)
{
	const char *dir = NULL;
	bool dry_run = false, json = false;
	const sdd_opt_t opts[] = {
	        {"dir", 'd', .value = &dir},
	        {"dry-run", 'n', .flag = &dry_run},
	        {"json", 'j', .flag = &json},
	        {0},
	};
	json_t *req, *reply = NULL, *res;
	int r = 0, status;

	if ((status = sdd_getopt(&retention_cmd, argc, argv, opts)) != 0)
		return status < 0 ? sdd_help(&retention_cmd) : status;
	if (dir == NULL)
		return sdd_usage_error(&retention_cmd, "--dir is required");
	if (optind < argc)
		return sdd_usage_error(&retention_cmd, "unexpected argument '%s'", argv[optind]);
	if ((req = json_pack("{s:s, s:b}", "op", "retention", "dry_run", dry_run)) == NULL)
		return sdd_fail(retention_cmd.name, SD_ERR_NOMEM);
	if ((status = sdd_control_call(&retention_cmd, dir, req, &reply)) != 0)
		return status;
	res = json_object_get(reply, "retention");
	if (!json_is_object(res))
		r = sd_error(SD_ERR_PROTOCOL, "the server's answer has no 'retention' object");
	else if (json)
		r = sdd_json_print(json_incref(res));
	else
		print_result(res, dry_run);
	json_decref(reply);
	return r < 0 ? sdd_fail(retention_cmd.name, r) : 0;
}
