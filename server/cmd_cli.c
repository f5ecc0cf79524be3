/*
 * cmd_cli.c — the helpers every `sealdropd` subcommand shares: usage and option errors,
 * one-line error messages mapped to sysexits(3) codes, JSON output. See cmd.h.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sealdrop/error.h"
#include "cmd.h"
#include "control_int.h"

void sdd_getopt_reset(void)
{
	optind = 1;
	opterr = 0;
}

int sdd_help(const sdd_cmd_t *cmd)
{
	fputs(cmd->synopsis, stdout);
	fputs(cmd->help, stdout);
	return 0;
}

static void usage_hint(const sdd_cmd_t *cmd)
{
	fputs(cmd->synopsis, stderr);
	fprintf(stderr, "Run 'sealdropd %s --help' for details.\n", cmd->name);
}

int sdd_opt_error(const sdd_cmd_t *cmd, char **argv, int c)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";

	if (c == ':')
		fprintf(stderr, "sealdropd: %s: option '%s' needs a value\n", cmd->name, arg);
	else if (optopt != 0)
		fprintf(stderr, "sealdropd: %s: unknown option '-%c'\n", cmd->name, optopt);
	else
		fprintf(stderr, "sealdropd: %s: unknown option '%s'\n", cmd->name, arg);
	usage_hint(cmd);
	return SDD_EX_USAGE;
}

int sdd_usage_error(const sdd_cmd_t *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sealdropd: %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage_hint(cmd);
	return SDD_EX_USAGE;
}

int sdd_fail(const char *cmd, int r)
{
	const char *detail = sd_error_detail();

	fprintf(stderr, "sealdropd: %s: %s\n", cmd, detail[0] != '\0' ? detail : sd_strerror(r));
	return sd_exit_code(r);
}

int sdd_fail_call(const char *cmd, int r)
{
	int status = sdd_fail(cmd, r);

	return sd_control_was_unreachable() ? SDD_EX_UNAVAILABLE : status;
}

void sdd_warn(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sealdropd: %s: warning: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int sdd_json_print(json_t *obj)
{
	int r;

	if (obj == NULL)
		return sd_error(SD_ERR_NOMEM, "out of memory for the JSON output");
	r = json_dumpf(obj, stdout, JSON_INDENT(2) | JSON_SORT_KEYS) == 0 && fputc('\n', stdout) != EOF
	            ? 0
	            : sd_error(SD_ERR_IO, "cannot write to standard output");
	json_decref(obj);
	return r;
}
