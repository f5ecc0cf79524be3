/*
 * cmd.h — what the `sealdropd` subcommands share (server/main.c dispatches to them):
 * usage and option errors, one-line error messages with sysexits(3) codes, JSON output.
 *
 *   init          server/init.c         creates a server's files, offline
 *   run, check-config                   server/cmd_run.c
 *   enroll, disable, directory install  server/cmd_control.c: through the running
 *                                       server's control socket (server/control.c)
 *
 * Conventions (as the client's, client/cli.h): results on stdout, errors on stderr as
 * "sealdropd: <command>: <what went wrong>", a command returns its exit status.
 */
#ifndef SEALDROP_SERVER_CMD_H
#define SEALDROP_SERVER_CMD_H

#include <stdbool.h>
#include <jansson.h>

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
int sdd_cmd_directory(int argc, char **argv);
int sdd_cmd_run(int argc, char **argv);
int sdd_cmd_check_config(int argc, char **argv);

/* Prepares getopt_long for a command's argv; optstrings start with ':'. */
void sdd_getopt_reset(void);
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
/* Prints one JSON object on stdout (indented) and releases it; NULL: SD_ERR_NOMEM. */
int sdd_json_print(json_t *obj);

#endif
