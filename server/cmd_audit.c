/*
 * cmd_audit.c — `sealdropd audit check` and `sealdropd audit publish` (docs/OPERATIONS.md,
 * "Audit log").
 *
 * check recomputes the audit log's tree from the stored leaves and compares it with the
 * latest head the server signed and, with --expect-head, with a head the operator kept
 * (server/auditcheck.c). With the server stopped it opens the store itself (holding the
 * store's lock, so no server starts meanwhile); while a server runs, the store is the
 * server's, and the check runs inside it through the control socket. publish asks the
 * running server to publish a head now.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sealdrop/auditcheck.h"
#include "sealdrop/bytes.h"
#include "sealdrop/fileio.h"
#include "sealdrop/sealdrop.h"
#include "sealdrop/server.h"
#include "sealdrop/servicekey.h"
#include "cmd.h"
#include "control_int.h"

static const sdd_cmd_t audit_cmd = {
        "audit",
        N_("usage: sealdropd audit check --config FILE [--expect-head HEAD.json] [--json]\n"
           "       sealdropd audit publish --config FILE [--json]\n"),
        N_("\n"
           "  check    recompute the audit log's tree from the stored leaves and compare it with\n"
           "           the latest signed head, and with a head you kept (--expect-head)\n"
           "  publish  publish a signed tree head now (the server publishes one every\n"
           "           head_interval on its own)\n"),
};

static const sdd_cmd_t check_cmd = {
        "audit check",
        N_("usage: sealdropd audit check --config FILE [--expect-head HEAD.json] [--json]\n"),
        N_("\nRecomputes the audit log's Merkle tree from every stored leaf and checks it against\n"
           "the latest tree head the server signed: a rewritten leaf, a dropped leaf or damaged\n"
           "tree nodes are reported. A store reverted to an older copy of itself is consistent\n"
           "on its own; give a head you kept from earlier (curl https://HOST/v1/log/head, or a\n"
           "client's `sealdrop audit verify --state-file` file) with --expect-head, and the\n"
           "check also fails unless the store still contains that head's tree.\n"
           "Runs on the stopped server's store, or inside the running server.\n"
           "Exit status: 0 everything agrees, 65 the log does not match, 78 configuration.\n"
           "\n"
           "  --config FILE          the server's configuration\n"
           "  --expect-head FILE     a signed tree head (JSON) the log must still contain\n"
           "  --json                 print the report as JSON\n"),
};

static const sdd_cmd_t publish_cmd = {
        "audit publish",
        N_("usage: sealdropd audit publish --config FILE [--json]\n"),
        N_("\nAsks the running server to sign and publish a tree head now, if the log grew or\n"
           "the date changed since the last one, and prints the latest head. Heads otherwise\n"
           "follow the head_interval schedule, so that watching them does not time anyone's\n"
           "action; publishing by hand right after an event reveals its time to whoever polls.\n"
           "\n"
           "  --config FILE  the server's configuration\n"
           "  --json         print the head as JSON\n"),
};

/* what: an N_() string, translated here. The sizes are printed as long long (json_int_t
 * is long long where jansson has it), so that the catalogue holds one plain format. */
static void print_head(const char *what, const json_t *h)
{
	if (!json_is_object(h))
		return;
	printf(_("  %-22s size %lld, %s, root %s\n"), _(what),
	       (long long)json_integer_value(json_object_get(h, "size")), json_string_value(json_object_get(h, "date")),
	       json_string_value(json_object_get(h, "root")));
}

/* Prints the report (taken) and returns the exit status. The JSON stays as the check made
 * it (English, for scripts); the line on stderr is text, when given (the reader's language:
 * the check ran in this process), else the report's problem (English: the running server
 * made it, and the server speaks English). */
static int report_out(json_t *rep, bool json, const char *text)
{
	const char *problem = text != NULL ? text : json_string_value(json_object_get(rep, "problem"));
	bool ok = json_is_true(json_object_get(rep, "ok"));
	int status = ok ? 0 : sd_exit_code(SD_ERR_VERIFY);

	if (json) {
		if (sdd_json_print(json_incref(rep)) < 0)
			status = sdd_fail(check_cmd.name, SD_ERR_IO);
	} else {
		printf(_("audit log: %lld leaves, root %s\n"),
		       (long long)json_integer_value(json_object_get(rep, "leaves")),
		       json_string_value(json_object_get(rep, "root")));
		print_head(N_("latest signed head"), json_object_get(rep, "head"));
		print_head(N_("head you kept"), json_object_get(rep, "expect"));
		if (ok)
			fputs(json_is_object(json_object_get(rep, "expect"))
			              ? _("the tree recomputed from every leaf matches both heads\n")
			              : _("the tree recomputed from every leaf matches the signed head\n"),
			      stdout);
	}
	if (!ok)
		fprintf(stderr, "sealdropd: audit check: %s\n",
		        problem != NULL ? problem : _("the log does not match"));
	json_decref(rep);
	return status;
}

static int check_offline(const char *dir, sd_store_t *store, const uint8_t *expect, size_t len, bool json)
{
	char path[PATH_MAX];
	sd_seckey_t *key = NULL;
	sd_pubkey_t pub, keys[SD_AUDIT_KEYS_MAX];
	sd_audit_report_t rep;
	char text[SD_AUDIT_PROBLEM_MAX] = "";
	size_t n_keys;
	int r;

	if ((r = sdd_path_join(path, dir, SD_SERVER_LOGKEY_FILE)) < 0 ||
	    (r = sd_servicekey_read(path, SD_KEY_LOG, &key)) < 0)
		return sdd_fail(check_cmd.name, r);
	sd_seckey_public(key, &pub);
	sd_seckey_free(key);
	n_keys = sd_audit_keys_load(dir, &pub, keys); /* and the keys the directory retired */
	r = sd_audit_check_keys(store, keys, n_keys, expect, len, &rep);
	if (r < 0 && r != SD_ERR_VERIFY)
		return sdd_fail(check_cmd.name, r);
	if (rep.problem[0] != '\0') /* the detail holds the problem in the reader's language */
		snprintf(text, sizeof(text), "%s", sd_error_detail());
	return report_out(sd_audit_report_json(&rep), json, text[0] != '\0' ? text : NULL);
}

static int check_online(const char *dir, const uint8_t *expect, size_t len, bool json)
{
	json_t *req = json_pack("{s:s}", "op", "audit_check"), *reply = NULL;
	int status;

	if (req != NULL && expect != NULL)
		json_object_set_new(req, "expect_head", json_stringn((const char *)expect, len));
	if (req == NULL)
		return sdd_fail(check_cmd.name, SD_ERR_NOMEM);
	if ((status = sdd_control_call(&check_cmd, dir, req, &reply)) != 0)
		return status;
	status = report_out(json_incref(json_object_get(reply, "report")), json, NULL);
	json_decref(reply);
	return status;
}

static int audit_check(int argc, char **argv)
{
	const char *config = NULL, *expect_file = NULL;
	bool json = false;
	const sdd_opt_t opts[] = {{"config", 'c', .value = &config},
	                          {"expect-head", 'e', .value = &expect_file},
	                          {"json", 'j', .flag = &json},
	                          {NULL}};
	sd_config_t c = {0};
	sd_store_t *store = NULL;
	uint8_t *expect = NULL;
	size_t len = 0;
	int r, status;

	if ((status = sdd_getopt(&check_cmd, argc, argv, opts)) != 0)
		return status < 0 ? sdd_help(&check_cmd) : status;
	if (optind < argc)
		return sdd_usage_error(&check_cmd, "unexpected argument '%s'", argv[optind]);
	if (config == NULL)
		return sdd_usage_error(&check_cmd, "--config is required");
	sdd_json_in_english(json);
	if ((status = sdd_config_load(check_cmd.name, config, &c)) != 0)
		return status;
	if (expect_file != NULL && (r = sd_file_read(expect_file, SD_LOGHEAD_MAX_BYTES, &expect, &len)) < 0) {
		status = sdd_fail(check_cmd.name, r);
		goto out;
	}
	r = sd_store_open(c.dir, NULL, &store);
	if (r == SD_ERR_REFUSED) /* the running server holds it */
		status = check_online(c.dir, expect, len, json);
	else if (r < 0)
		status = sdd_fail(check_cmd.name, r);
	else
		status = check_offline(c.dir, store, expect, len, json);
out:
	sd_store_close(store);
	free(expect);
	sd_config_free(&c);
	return status;
}

static int audit_publish(int argc, char **argv)
{
	const char *config = NULL;
	bool json = false;
	const sdd_opt_t opts[] = {{"config", 'c', .value = &config}, {"json", 'j', .flag = &json}, {NULL}};
	sd_config_t c = {0};
	json_t *reply = NULL, *head;
	int status;

	if ((status = sdd_getopt(&publish_cmd, argc, argv, opts)) != 0)
		return status < 0 ? sdd_help(&publish_cmd) : status;
	if (optind < argc)
		return sdd_usage_error(&publish_cmd, "unexpected argument '%s'", argv[optind]);
	if (config == NULL)
		return sdd_usage_error(&publish_cmd, "--config is required");
	if ((status = sdd_config_load(publish_cmd.name, config, &c)) != 0)
		return status;
	status = sdd_control_call(&publish_cmd, c.dir, json_pack("{s:s}", "op", "publish"), &reply);
	sd_config_free(&c);
	if (status != 0)
		return status;
	head = json_object_get(json_object_get(reply, "head"), "head");
	if (json)
		status = sdd_json_print(json_incref(json_object_get(reply, "head"))) < 0 ? sd_exit_code(SD_ERR_IO) : 0;
	else if (json_is_object(head))
		printf(_("published head: size %lld, %s, root %s\n"),
		       (long long)json_integer_value(json_object_get(head, "size")),
		       json_string_value(json_object_get(head, "date")),
		       json_string_value(json_object_get(head, "root")));
	json_decref(reply);
	return status;
}

int sdd_cmd_audit(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "check") == 0)
		return audit_check(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "publish") == 0)
		return audit_publish(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return sdd_help(&audit_cmd);
	return sdd_usage_error(&audit_cmd, "expected 'check' or 'publish'");
}
