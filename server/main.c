/*
 * main.c — sealdropd, the sealdrop server: starts libsealdrop and hands argv to one
 * subcommand (cmd.h lists where each lives). The server itself is server/server.c;
 * the operator's commands reach it through server/control.c.
 */
#include <stdio.h>
#include <string.h>

#include "sealdrop/sealdrop.h"
#include "cmd.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
        {"init", sdd_cmd_init, N_("create a server: CA, server certificate, log key, store and configuration")},
        {"run", sdd_cmd_run, N_("run the server in the foreground")},
        {"check-config", sdd_cmd_check_config, N_("check a configuration file and the files it implies")},
        {"enroll", sdd_cmd_enroll, N_("issue a client certificate and record its account (server running)")},
        {"disable", sdd_cmd_disable, N_("refuse an account from now on and revoke its certificate (server running)")},
        {"renew", sdd_cmd_renew,
         N_("issue an account a new certificate; the old one works until revoked (server running)")},
        {"revoke", sdd_cmd_revoke, N_("retire one certificate of an account that has another (server running)")},
        {"directory", sdd_cmd_directory, N_("install a new signed directory (server running)")},
        {"audit", sdd_cmd_audit, N_("check the audit log against its signed heads; publish a head now")},
        {"scrub", sdd_cmd_scrub, N_("re-verify every stored blob and record; report damage by case (server stopped)")},
        {"backup", sdd_cmd_backup, N_("write a compacted hot copy of the store and its metadata (server running)")},
        {"restore", sdd_cmd_restore, N_("install a backup and append the signed epoch statement (server stopped)")},
        {"log-key", sdd_cmd_logkey, N_("make the next log key; rotate to it, logged (rotate: server stopped)")},
        {"retention", sdd_cmd_retention, N_("destroy the cases whose retention period has passed (server running)")},
};

static void usage(FILE *f)
{
	fputs(_("usage: sealdropd [--help] [--version] COMMAND [ARGS...]\n\ncommands:\n"), f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-13s %s\n", commands[i].name, _(commands[i].summary));
	fputs(_("\nEvery command takes --help. Exit status: 0 success, 64 usage, 65 bad data, 66 missing\n"
	        "input or account, 69 server not running, 73 output exists, 74 I/O error, 77 refused,\n"
	        "78 configuration. See sealdropd(8).\n"),
	      f);
}

static int finish(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fputs(_("sealdropd: error writing to standard output\n"), stderr);
		return status == 0 ? 74 : status;
	}
	return status;
}

static int dispatch(const char *name, int argc, char **argv)
{
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (strcmp(name, commands[c].name) == 0)
			return finish(commands[c].run(argc, argv));
	fprintf(stderr, _("sealdropd: unknown command '%s'\n"), name);
	usage(stderr);
	return SDD_EX_USAGE;
}

int main(int argc, char **argv)
{
	int i;

	/* The operator's commands speak the language LANG asks for; `run` alone does not
	 * (sdd_i18n_init, in cmd_cli.c). */
	if (argc < 2 || strcmp(argv[1], "run") != 0)
		sdd_i18n_init();
	if (sd_init() < 0) {
		fprintf(stderr, "sealdropd: %s\n", sd_error_detail());
		return 70;
	}
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return finish(0);
		}
		if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0) {
			printf("sealdropd %s\n", SD_VERSION_STRING);
			return finish(0);
		}
		fprintf(stderr, _("sealdropd: unknown option '%s'\n"), argv[i]);
		usage(stderr);
		return SDD_EX_USAGE;
	}
	if (i == argc) {
		fputs(_("sealdropd: no command given\n"), stderr);
		usage(stderr);
		return SDD_EX_USAGE;
	}
	if (strcmp(argv[i], "help") == 0) {
		/* "sealdropd help enroll" is "sealdropd enroll --help". */
		if (i + 1 < argc) {
			char *help_argv[] = {argv[i + 1], "--help", NULL};
			return dispatch(argv[i + 1], 2, help_argv);
		}
		usage(stdout);
		return finish(0);
	}
	return dispatch(argv[i], argc - i, argv + i);
}
