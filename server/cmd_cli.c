/*
 * cmd_cli.c — the helpers every `sealdropd` subcommand shares: usage and option errors,
 * one-line error messages mapped to sysexits(3) codes, JSON output. See cmd.h.
 */
#include <getopt.h>
#include <libintl.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sealdrop/error.h"
#include "cmd.h"
#include "control_int.h"

void sdd_i18n_init(void)
{
	sd_i18n_init(&SD_I18N_BUILT("sealdropd"));
}

void sdd_getopt_reset(void)
{
	optind = 1;
	opterr = 0;
}

static const sdd_opt_t *opt_find(const sdd_opt_t *opts, int letter)
{
	for (; opts->name != NULL; opts++)
		if (opts->letter == letter)
			return opts;
	return NULL;
}

/* The one option o names has been read, with optarg. */
static int opt_store(const sdd_cmd_t *cmd, char **argv, const sdd_opt_t *o)
{
	if (o->flag != NULL) {
		*o->flag = true;
	} else if (o->value != NULL) {
		*o->value = optarg;
	} else if (o->list != NULL) {
		if (*o->n == o->max)
			return sdd_usage_error(cmd, "more than %zu --%s options", o->max, o->name);
		o->list[(*o->n)++] = optarg;
	} else {
		return sdd_opt_error(cmd, argv, '?');
	}
	return 0;
}

int sdd_getopt(const sdd_cmd_t *cmd, int argc, char **argv, const sdd_opt_t *opts)
{
	struct option longopts[SDD_OPTS_MAX + 2];
	const sdd_opt_t *o;
	size_t n;
	int c, r;

	for (n = 0; opts[n].name != NULL && n < SDD_OPTS_MAX; n++)
		longopts[n] = (struct option){opts[n].name, opts[n].flag != NULL ? no_argument : required_argument,
		                              NULL, opts[n].letter};
	longopts[n] = (struct option){"help", no_argument, NULL, 'h'};
	longopts[n + 1] = (struct option){NULL, 0, NULL, 0};
	sdd_getopt_reset();
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		if (c == 'h')
			return -1;
		if ((o = opt_find(opts, c)) == NULL)
			return sdd_opt_error(cmd, argv, c);
		if ((r = opt_store(cmd, argv, o)) != 0)
			return r;
	}
	return 0;
}

int sdd_path_join(char out[PATH_MAX], const char *dir, const char *name)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);

	return n > 0 && n < PATH_MAX ? 0 : sd_error(SD_ERR_USAGE, "%s/%s: path too long", dir, name);
}

int sdd_help(const sdd_cmd_t *cmd)
{
	fputs(_(cmd->synopsis), stdout);
	fputs(_(cmd->help), stdout);
	return 0;
}

static void usage_hint(const sdd_cmd_t *cmd)
{
	fputs(_(cmd->synopsis), stderr);
	fprintf(stderr, _("Run 'sealdropd %s --help' for details.\n"), cmd->name);
}

int sdd_opt_error(const sdd_cmd_t *cmd, char **argv, int c)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";

	if (c == ':')
		fprintf(stderr, _("sealdropd: %s: option '%s' needs a value\n"), cmd->name, arg);
	else if (optopt != 0)
		fprintf(stderr, _("sealdropd: %s: unknown option '-%c'\n"), cmd->name, optopt);
	else
		fprintf(stderr, _("sealdropd: %s: unknown option '%s'\n"), cmd->name, arg);
	usage_hint(cmd);
	return SDD_EX_USAGE;
}

int sdd_usage_error(const sdd_cmd_t *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sealdropd: %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, _(fmt), ap);
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

	fprintf(stderr, _("sealdropd: %s: warning: "), cmd);
	va_start(ap, fmt);
	vfprintf(stderr, _(fmt), ap);
	va_end(ap);
	fputc('\n', stderr);
}

void sdd_json_in_english(bool json)
{
	if (!json)
		return;
	sd_error_set_translator(NULL);
	setlocale(LC_MESSAGES, "C"); /* strerror's text too */
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

int sdd_control_call(const sdd_cmd_t *cmd, const char *dir, json_t *req, json_t **reply)
{
	int r = sd_control_call(dir, req, reply);

	json_decref(req);
	if (r < 0) {
		json_decref(*reply);
		*reply = NULL;
		return sdd_fail_call(cmd->name, r);
	}
	return 0;
}

static void print_message(void *ctx, const char *message)
{
	(void)ctx;
	fprintf(stderr, "%s\n", message);
}

int sdd_config_load(const char *cmd, const char *path, sd_config_t *c)
{
	size_t errors = 0;
	int r = sd_config_load(path, c, print_message, NULL, &errors);

	if (r == 0)
		return 0;
	fprintf(stderr, ngettext("sealdropd: %s: %zu error in %s\n", "sealdropd: %s: %zu errors in %s\n", errors), cmd,
	        errors, path);
	return r == SD_ERR_CONFIG ? sd_exit_code(SD_ERR_CONFIG) : sd_exit_code(r);
}
