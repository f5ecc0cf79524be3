/*
 * main.c — the sealdrop command-line client: starts libsealdrop, reads the global options
 * and hands argv to one command family (cmd_*.c). Shared helpers are in cli.c; the
 * package format itself is crypto/envelope.c.
 */
#include <stdio.h>
#include <string.h>

#include "sealdrop/sealdrop.h"
#include "cli.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
        {"keygen", cmd_keygen, N_("create a key pair: a passphrase-protected secret key file and a public key file")},
        {"directory", cmd_directory, N_("create (root key holder) or verify the signed key directory")},
        {"seal", cmd_seal, N_("seal a report, the identity and evidence into a package, and mint a codename")},
        {"inspect", cmd_inspect, N_("verify a package without any key and show its header")},
        {"open", cmd_open, N_("decrypt a package's report and evidence with the intake key")},
        {"file", cmd_file, N_("file a package with the server (attorney) and keep the signed receipt")},
        {"receipt", cmd_receipt,
         N_("verify a filing receipt against the directory's log key (and, with --server, the audit log)")},
        {"audit", cmd_audit, N_("verify the server's signed audit log (verify) or list a case's events (show)")},
        {"cases", cmd_cases, N_("list cases with their state and next deadline (officer; an attorney's own)")},
        {"case", cmd_case, N_("show one case: its dates, deadlines and history")},
        {"transition", cmd_transition,
         N_("move a case one step: extend, refer, forward, terminate, outcome, reinvestigate, close")},
        {"notice", cmd_notice, N_("send a written notice about a case, sealed to its three readers (officer)")},
        {"notices", cmd_notices, N_("list a case's notices, each signature verified; with a key, their text")},
        {"status", cmd_status,
         N_("the whistleblower: your cases, deadlines and notices, each verified (codename, no certificate)")},
        {"object", cmd_object, N_("the whistleblower: object to a case's result within 7 days (Art. 11-3(1))")},
        {"consent", cmd_consent,
         N_("the whistleblower: grant, revoke or list consents to release your identity (Art. 7(1))")},
        {"relay", cmd_relay, N_("hand in a whistleblower's offline consent or revocation file (attorney)")},
        {"fetch", cmd_fetch, N_("download a case's package, check every chunk, open it with the intake key")},
        {"export", cmd_export,
         N_("build a case's referral bundle for an agency and record it (officer; the identity only with consent)")},
        {"unseal", cmd_unseal,
         N_("open a case's identity record with the whistleblower's live consent (custodians' identity key)")},
        {"doctor", cmd_doctor,
         N_("check your set-up (directory, keys, certificate, server, clock) and say what to fix")},
};

static void usage(FILE *f)
{
	fputs(_("usage: sealdrop [--help] [--version] COMMAND [ARGS...]\n\ncommands:\n"), f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, _(commands[i].summary));
	fputs(_("\nEvery command takes --help. Exit status: 0 success, 64 usage, 65 bad or tampered data,\n"
	        "66 missing input, 69 server unavailable, 73 output exists, 74 I/O error, 76 protocol\n"
	        "error, 77 wrong passphrase or refused, 78 configuration. See sealdrop(1).\n"),
	      f);
}

static int finish(int status)
{
	cli_signal_reraise(); /* an interrupted command ends as the shell expects */
	/* A result that did not reach stdout (a full disk, a closed pipe) is a failure. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fputs(_("sealdrop: error writing to standard output\n"), stderr);
		return status == 0 ? 74 : status;
	}
	return status;
}

int main(int argc, char **argv)
{
	int i;

	cli_i18n_init();
	if (sd_init() < 0) {
		fprintf(stderr, "sealdrop: %s\n", sd_error_detail());
		return 70;
	}
	cli_signals_install();
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return finish(0);
		}
		if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0) {
			printf("sealdrop %s\n", SD_VERSION_STRING);
			return finish(0);
		}
		fprintf(stderr, _("sealdrop: unknown option '%s'\n"), argv[i]);
		usage(stderr);
		return CLI_EX_USAGE;
	}
	if (i == argc) {
		fputs(_("sealdrop: no command given\n"), stderr);
		usage(stderr);
		return CLI_EX_USAGE;
	}
	if (strcmp(argv[i], "help") == 0) {
		/* "sealdrop help seal" is "sealdrop seal --help". */
		if (i + 1 < argc) {
			char *help_argv[] = {argv[i + 1], "--help", NULL};
			for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
				if (strcmp(argv[i + 1], commands[c].name) == 0)
					return finish(commands[c].run(2, help_argv));
			fprintf(stderr, _("sealdrop: unknown command '%s'\n"), argv[i + 1]);
			usage(stderr);
			return CLI_EX_USAGE;
		}
		usage(stdout);
		return finish(0);
	}
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (strcmp(argv[i], commands[c].name) == 0)
			return finish(commands[c].run(argc - i, argv + i));
	fprintf(stderr, _("sealdrop: unknown command '%s'\n"), argv[i]);
	usage(stderr);
	return CLI_EX_USAGE;
}
