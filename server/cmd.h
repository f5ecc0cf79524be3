/*
 * cmd.h — what the `sealdropd` subcommands share (server/main.c dispatches to them):
 * usage and option errors, one-line error messages with sysexits(3) codes, JSON output.
 *
 *   init          server/init.c         creates a server's files, offline
 *   run, check-config                   server/cmd_run.c
 *   enroll, renew, disable, revoke,     server/cmd_control.c: through the running
 *   directory install                   server's control socket (server/control.c)
 *   audit publish, audit check          server/cmd_audit.c
 *   scrub                               server/cmd_scrub.c: re-verifies the stopped
 *                                       server's store (server/scrub.c)
 *   log-key new, log-key rotate         server/cmd_logkey.c: the log key's rotation
 *                                       (server/logkey.c; rotate offline)
 *
 * Conventions (as the client's, client/cli.h): results on stdout, errors on stderr as
 * "sealdropd: <command>: <what went wrong>", a command returns its exit status.
 */
#ifndef SEALDROP_SERVER_CMD_H
#define SEALDROP_SERVER_CMD_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "sealdrop/config.h"
#include "sealdrop/i18n.h"

/* Every message a command prints goes through _(): gettext, domain "sealdropd", Korean or
 * English following LANG (po/sealdropd/; `run` stays English: server/main.c). N_() marks a
 * string for the catalogue where it is defined; _() translates it where used. */
#define _(s)  sd_gettext(s)
#define N_(s) (s)

/* Selects the locale LANG asks for and binds the "sealdropd" catalogue (crypto/i18n.c),
 * before anything is printed: main() for every command but `run`, and `run` only for its
 * --help. The running server selects no locale: its log, its answers to clients and to
 * the control socket and /v1/metrics read the same everywhere, in the English the docs
 * quote (docs/DECISIONS.md, 95). */
void sdd_i18n_init(void);

#define SDD_EX_USAGE       64 /* sysexits EX_USAGE */
#define SDD_EX_UNAVAILABLE 69 /* EX_UNAVAILABLE: the server is not running */

/* A command's name and help: `synopsis` on usage errors, with `help` for --help. */
typedef struct {
	const char *name; /* "enroll", "directory install" */
	const char *synopsis;
	const char *help;
} sdd_cmd_t;

int sdd_cmd_init(int argc, char **argv);
int sdd_cmd_enroll(int argc, char **argv);
int sdd_cmd_disable(int argc, char **argv);
int sdd_cmd_renew(int argc, char **argv);
int sdd_cmd_revoke(int argc, char **argv);
int sdd_cmd_directory(int argc, char **argv);
int sdd_cmd_run(int argc, char **argv);
int sdd_cmd_check_config(int argc, char **argv);
int sdd_cmd_audit(int argc, char **argv);
int sdd_cmd_scrub(int argc, char **argv);
int sdd_cmd_backup(int argc, char **argv);
int sdd_cmd_restore(int argc, char **argv);
int sdd_cmd_logkey(int argc, char **argv);
int sdd_cmd_retention(int argc, char **argv);

/* One option of a command, for sdd_getopt(): --name takes a value stored in *value, or
 * takes none and sets *flag, or is repeatable, each value appended to list (at most max,
 * counted in *n). An entry with none of these is recognised but refused as unknown. */
typedef struct {
	const char *name;
	int letter; /* getopt_long's val: what its messages show for a misused option */
	const char **value;
	bool *flag;
	const char **list;
	size_t *n, max;
} sdd_opt_t;

#define SDD_OPTS_MAX 16 /* entries in one command's table */

/* Prepares getopt_long for a command's argv; optstrings start with ':'. */
void sdd_getopt_reset(void);
/* Reads argv's options by opts (ended by a NULL name; --help is added) and leaves optind
 * at the first operand: 0, -1 for --help, or the exit status of a usage error it printed. */
int sdd_getopt(const sdd_cmd_t *cmd, int argc, char **argv, const sdd_opt_t *opts);
/* "DIR/NAME" in out; SD_ERR_USAGE "DIR/NAME: path too long" when it does not fit. */
int sdd_path_join(char out[PATH_MAX], const char *dir, const char *name);
/* --help: synopsis and help on stdout; 0. */
int sdd_help(const sdd_cmd_t *cmd);
/* getopt_long returned '?' or ':': names the option, prints the synopsis; 64. */
int sdd_opt_error(const sdd_cmd_t *cmd, char **argv, int c);
/* "sealdropd: <cmd>: <message>" and the synopsis on stderr; 64. */
int sdd_usage_error(const sdd_cmd_t *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "sealdropd: <cmd>: <detail>" (the library's detail, else sd_strerror(r)); the exit
 * status for r. */
int sdd_fail(const char *cmd, int r);
/* The same after a control-socket call: 69 when no server answered. */
int sdd_fail_call(const char *cmd, int r);
/* "sealdropd: <cmd>: warning: ..." on stderr. */
void sdd_warn(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* With --json, a command whose JSON quotes the library's error details (audit check,
 * scrub) calls this first: the details stay English, as JSON reads the same in every
 * language. */
void sdd_json_in_english(bool json);
/* Prints one JSON object on stdout (indented) and releases it; NULL: SD_ERR_NOMEM. */
int sdd_json_print(json_t *obj);
/* Sends req (taken) to the server at DIR/control.sock: 0 with *reply, or the exit status
 * of the failure it printed. */
int sdd_control_call(const sdd_cmd_t *cmd, const char *dir, json_t *req, json_t **reply);
/* Loads a configuration file, printing every error: 0, or the exit status. */
int sdd_config_load(const char *cmd, const char *path, sd_config_t *c);

#endif
