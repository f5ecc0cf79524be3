/*
 * cli.h — what every sealdrop subcommand shares: usage and option errors, one-line error
 * messages with sysexits(3) codes, passphrase and codename prompts on /dev/tty, JSON
 * output and the progress bar. Each command family lives in a cmd_*.c file and main.c
 * dispatches to it; start reading at main.c.
 *
 * Conventions: results go to stdout, everything else (progress, warnings, prompts) to
 * stderr or the terminal; a command returns its exit status. Client code reaches
 * cryptography only through libsealdrop (never libsodium directly).
 */
#ifndef SEALDROP_CLIENT_CLI_H
#define SEALDROP_CLIENT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "sealdrop/codename.h"
#include "sealdrop/date.h"
#include "sealdrop/directory.h"
#include "sealdrop/consent.h"
#include "sealdrop/envelope.h"
#include "sealdrop/error.h"
#include "sealdrop/i18n.h"
#include "sealdrop/keys.h"
#include "sealdrop/loghead.h"

/* Every user-facing string goes through _(): gettext, domain "sealdrop", Korean or English
 * following LANG (po/ko.po; see i18n.c). */
#define _(s) sd_gettext(s)
/* Marks a string for translation where it is defined; _() translates it where used. */
#define N_(s) (s)

/* Selects the locale and binds the message catalogue; first thing in main(). */
void cli_i18n_init(void);

#define CLI_EX_USAGE           64 /* sysexits EX_USAGE */
#define CLI_PASSPHRASE_MAX     1024
#define CLI_CODENAME_INPUT_MAX 1024
#define CLI_SIZE_TEXT_BYTES    32

/* A command's name and help: `synopsis` is printed on usage errors, `synopsis` and
 * `help` together for --help. */
typedef struct {
	const char *name; /* "seal", "directory create" */
	const char *synopsis;
	const char *help;
} cli_cmd_t;

/* The commands (cmd_*.c). argv[0] is the command's own name. */
int cmd_keygen(int argc, char **argv);
int cmd_directory(int argc, char **argv);
int cmd_seal(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_open(int argc, char **argv);
int cmd_file(int argc, char **argv);
int cmd_receipt(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_cases(int argc, char **argv); /* cases, case, transition: cmd_cases.c */
int cmd_case(int argc, char **argv);
int cmd_transition(int argc, char **argv);
int cmd_fetch(int argc, char **argv);
int cmd_export(int argc, char **argv); /* export, and open FILE.sdr: cmd_export.c */
int cmd_notice(int argc, char **argv); /* notice, notices: cmd_notice.c */
int cmd_notices(int argc, char **argv);
int cmd_status(int argc, char **argv); /* status, object: cmd_status.c (the whistleblower) */
int cmd_object(int argc, char **argv);
int cmd_unseal(int argc, char **argv);  /* unseal: cmd_unseal.c (custodians) */
int cmd_consent(int argc, char **argv); /* consent grant|revoke|list, relay: cmd_consent.c */
int cmd_relay(int argc, char **argv);
int cmd_doctor(int argc, char **argv); /* doctor: cmd_doctor.c */

/* Verifies and decrypts pkg with the intake key into out (absent or empty); progress unless
 * quiet (cmd_open.c; `open` and `fetch`). */
int cli_open_package(const char *pkg, const sd_seckey_t *intake, const char *out, bool quiet) SD_WUR;
/* What open left in out: printed lines, or with json {"out", "report", "evidence",
 * "identity"} plus extra's members (reference taken). */
int cli_open_print(const char *out, bool json, json_t *extra) SD_WUR;
/* `sealdrop open FILE.sdr` (cmd_export.c): a referral bundle's directory (against root when
 * given, else with a warning), export receipt and digest verified, then opened with the
 * agency secret key into out (absent or empty). */
int cli_open_bundle(const char *path, const char *agency_key, const char *passfile, const char *root, const char *out,
                    bool json) SD_WUR;

/* The custodians' identity key id (cmd_unseal.c; `unseal`, `export --with-identity`): of
 * the key files in keys, the one that is id (cli_seckey_load_matching; passphrase from
 * passfile or the terminal), else the n_shares "FILE[:PASSFILE]" share arguments, whose
 * clear headers must make one complete set before any passphrase is asked, rebuilt only
 * in secret memory and then checked to be id. what names what needs it in errors. */
typedef struct cli_keys cli_keys_t;
int cli_identity_key_load(const cli_keys_t *keys, const uint8_t id[SD_KEY_ID_BYTES], const char *what,
                          const char *passfile, const char *const *shares, size_t n_shares, sd_seckey_t **key) SD_WUR;

/* --text FILE of cmd: 1..max bytes of UTF-8 without control characters other than newline
 * and tab (a notice's or an objection's text), read before anything is sent into *text
 * (malloc'd, also after an error: the caller frees it). 0, or the exit status of the
 * error it printed. */
int cli_text_load(const cli_cmd_t *cmd, const char *path, size_t max, char **text, size_t *len);

/* A text (a notice's) on stdout, each line but an empty one indented by indent spaces. */
void cli_text_print_indented(const char *t, int indent);

/* --- usage and errors ------------------------------------------------------------- */

/* Prepares getopt_long for a command's argv (errors are reported by cli_opt_error). Every
 * command's optstring starts with ':' so a missing value is told from an unknown option. */
void cli_getopt_reset(void);

/* One option of a command, for cli_getopt(): --name takes a value stored in *value, or
 * takes none and sets *flag, or is repeatable, each value appended to list (the caller
 * makes room for argc of them) and counted in *n, or its value is handed to
 * take(arg, dst), which returns 0 or the exit status of a usage error it printed. */
typedef struct {
	const char *name;
	int val; /* getopt_long's val, an OPT_* above 255 */
	const char **value;
	bool *flag;
	const char **list;
	size_t *n;
	int (*take)(const char *arg, void *dst);
	void *dst;
} cli_opt_t;

#define CLI_OPTS_MAX 24 /* entries in one command's table */

/* Reads argv's options by opts (ended by a NULL name; -h and --help are added) and leaves
 * optind at the first operand. -1 to go on, else the exit status: 0 after printing the
 * help, 64 after a usage error, 78 for a bad config file.
 *
 * A command whose table has "server" talks to a server: it also takes --socks5 HOST:PORT
 * (else the config file's socks5 setting, which is why the file is read here, for every
 * such command), and from then on every connection of the process goes through that
 * proxy (cli_https_socks5_set); an .onion --server without one is a usage error. */
int cli_getopt(const cli_cmd_t *cmd, int argc, char **argv, const cli_opt_t *opts);
/* The --socks5 option's lines of --help (cli_getopt and cli_wb_help print it last). */
extern const char cli_socks5_help[];
/* --help: synopsis and help on stdout; returns 0. */
int cli_help(const cli_cmd_t *cmd);
/* getopt_long returned '?' or ':': names the option, prints the synopsis on stderr,
 * returns 64. */
int cli_opt_error(const cli_cmd_t *cmd, char **argv, int c);
/* A usage error with a message ("missing --out"): message and synopsis on stderr, 64. */
int cli_usage_error(const cli_cmd_t *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* After getopt: exactly one positional argument, else a usage error ("missing"
 * names it). 0 with *arg set, or the usage exit status. */
int cli_one_argument(const cli_cmd_t *cmd, int argc, char **argv, const char *missing, const char **arg);
/* Prints "sealdrop: <cmd>: <detail>" (the library's detail, else sd_strerror(r)) and
 * returns the exit status for r. */
int cli_fail(const char *cmd, int r);
/* Replaces the error detail by "<prefix>: <detail>" and returns r, so a library error
 * can be told apart by the file or option it concerns. */
int cli_error_prefix(int r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A line on stderr: "sealdrop: <cmd>: warning: ...". */
void cli_warn(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A line on stderr, unless quiet. */
void cli_note(bool quiet, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* --- terminal and signals --------------------------------------------------------- */

/* SIGINT, SIGTERM, SIGHUP, SIGQUIT: at a prompt, restore the terminal and die; during
 * work, let the library stop and clean up first (see on_signal in cli.c). */
void cli_signals_install(void);
/* Dies of the signal that interrupted the command, if one did. */
void cli_signal_reraise(void);
/* A file to remove if the process is interrupted (the codename file while sealing);
 * NULL clears it. */
void cli_cleanup_path_set(const char *path);
/* The controlling terminal, opened read/write, or -1 when there is none. */
int cli_tty_open(void);
bool cli_stderr_is_tty(void);
/* Writes prompt to the terminal and reads one line with echo off into buf (secret
 * memory, NUL-terminated, newline removed). SD_ERR_IO at end of input. */
int cli_tty_read_hidden(int tty, const char *prompt, char *buf, size_t cap, size_t *len) SD_WUR;

/* --- passphrases ------------------------------------------------------------------ */

/* From file (the whole file, one trailing newline removed) or, without one, a no-echo
 * prompt on the terminal. *out is sd_secret_alloc'd: free with sd_secret_free. */
int cli_passphrase_read(const char *file, const char *prompt, char **out, size_t *len) SD_WUR;
/* For a new key: from file, or asked twice; empty and mismatched passphrases refused. */
int cli_passphrase_new(const char *file, char **out, size_t *len) SD_WUR;

/* --- keys and directories --------------------------------------------------------- */

/* Reads a public key file and checks its kind; errors name the option and the file. */
int cli_pubkey_load(const char *opt, const char *path, sd_key_kind_t want, sd_pubkey_t *out) SD_WUR;
/* Reads a secret key file, checks its kind before asking anything, then the passphrase
 * (passfile or the prompt "Passphrase for PATH: ") and decrypts it. */
int cli_seckey_load(const char *opt, const char *path, sd_key_kind_t want, const char *passfile,
                    sd_seckey_t **out) SD_WUR;

/* Several secret key files of one kind (--intake, --identity-key: officers keep the old
 * keys for the cases sealed to them), for cli_getopt: {"intake", OPT_INTAKE, .take =
 * cli_keys_take, .dst = &keys}, with keys.cmd and keys.opt set first. */
#define CLI_KEYS_MAX 16
struct cli_keys {
	const cli_cmd_t *cmd; /* for the usage error */
	const char *opt;      /* "--intake", in messages */
	const char *path[CLI_KEYS_MAX];
	size_t n;
};

/* A cli_opt_t take function: appends arg to the cli_keys_t dst (at most CLI_KEYS_MAX). */
int cli_keys_take(const char *arg, void *dst);
/* path (the config file's setting) when the command line gave none. */
void cli_keys_default(cli_keys_t *k, const char *path);
/* The one file of keys that is key id (of kind want), unlocked; the others are never
 * asked a passphrase. With several files, each one's id is read from FILE.pub beside it
 * (`sealdrop keygen` writes it) and checked again once unlocked; a file without one is
 * unlocked to learn its id, in order, only when no FILE.pub names the id. The passphrase
 * comes from passfile (the same for every file), else the terminal. None is id:
 * SD_ERR_WRONG_KEY "<what> is sealed to <kind> key <id>; --intake A is key X, ...". */
int cli_seckey_load_matching(const cli_keys_t *keys, sd_key_kind_t want, const uint8_t id[SD_KEY_ID_BYTES],
                             const char *what, const char *passfile, sd_seckey_t **out) SD_WUR;
/* Every file of keys unlocked, into out[0..keys->n) (the rest NULL): for what names no key
 * id (a notice's box). Free with cli_seckeys_free. */
int cli_seckey_load_all(const cli_keys_t *keys, sd_key_kind_t want, const char *passfile,
                        sd_seckey_t *out[CLI_KEYS_MAX]) SD_WUR;
void cli_seckeys_free(sd_seckey_t *keys[CLI_KEYS_MAX]);
/* Refuses an existing output path before any work is done (it is checked again, atomically,
 * when the output is committed). */
int cli_check_absent(const char *path) SD_WUR;
/* Root public key (kind root), directory verified with today's date, anti-rollback, and
 * the loud warning for a test directory. */
int cli_directory_load(const char *path, const char *root_path, sd_directory_t **out) SD_WUR;
void cli_directory_warn_test(void);

/* --- output ----------------------------------------------------------------------- */

/* "532 bytes", "12.5 KiB", "300.0 MiB", "1.0 GiB". */
void cli_format_size(uint64_t n, char out[CLI_SIZE_TEXT_BYTES]);
/* Hex text as a JSON string (NULL on allocation failure). */
json_t *cli_json_hex(const uint8_t *p, size_t len);
json_t *cli_json_date(sd_date_t d);
/* Prints one JSON object on stdout (indented, newline) and releases it. NULL means an
 * allocation failed: SD_ERR_NOMEM. */
int cli_json_print(json_t *obj) SD_WUR;

/* A progress bar on stderr, drawn only when stderr is a terminal and `allowed` (not
 * --json or --quiet); at most ten redraws a second; cleared by cli_progress_end. */
typedef struct {
	bool enabled;
	bool drawn;
	const char *label;
	uint64_t started_ns;
	uint64_t last_ns;
} cli_progress_t;

void cli_progress_init(cli_progress_t *p, const char *label, bool allowed);
/* An sd_progress_fn: ctx is a cli_progress_t. */
void cli_progress_cb(void *ctx, uint64_t done, uint64_t total);
void cli_progress_end(cli_progress_t *p);

/* --- codename --------------------------------------------------------------------- */

/* Reads a codename from a file and canonicalises it into out (SD_CODENAME_MAX bytes of
 * secret memory). Errors name the file. */
int cli_codename_from_file(const char *path, char *out, size_t outlen) SD_WUR;
/* Shows a new codename once on the terminal, explains what it is for, hides it again and
 * asks for it back with echo off; three attempts. SD_ERR_CODENAME when not confirmed. */
int cli_codename_confirm(int tty, const char *canonical) SD_WUR;

/* --- HTTP answers ---------------------------------------------------------------- */

struct cli_https_response;
/* A refusal (4xx: 77) or failure (5xx: 69) of `what`, quoting the server's message; any
 * other status is the server breaking the protocol (76). */
int cli_http_fail(const struct cli_https_response *resp, const char *what);
/* Sleeps ms, waking early when the user interrupts. */
void cli_nap(unsigned ms);

/* --- the audit log (logclient.c) ------------------------------------------------- */

/* A connection to the server's audit log routes (docs/API.md, "Audit log"): cert and key
 * NULL for the public ones (head, proofs), an officer's for the entries. */
typedef struct cli_log cli_log_t;
int cli_log_open(const char *url, const char *ca, const char *cert, const char *key, cli_log_t **out) SD_WUR;
void cli_log_free(cli_log_t *l);
/* GET /v1/log/head, verified with the log key of d (deployment included); *text, when
 * text is not NULL, the head exactly as served (malloc'd). SD_ERR_UNAVAILABLE when no
 * head is published yet. */
int cli_log_head(cli_log_t *l, const sd_directory_t *d, sd_loghead_t *out, uint8_t **text, size_t *len) SD_WUR;
/* Fetches the inclusion proof of leaf `index` in h's tree and checks that it puts these
 * exact leaf bytes there under h's root: SD_ERR_VERIFY when it does not. */
int cli_log_check_inclusion(cli_log_t *l, const sd_loghead_t *h, uint64_t index, const uint8_t *leaf,
                            size_t len) SD_WUR;
/* GET path on the log: 0 for a 200 answer with a body in *resp (free it either way). A
 * busy server (503) is asked again; "no head yet" is left in *resp for the caller
 * (cli_log_is_no_head). Other statuses: cli_http_fail. */
int cli_log_get(cli_log_t *l, const char *path, const char *what, struct cli_https_response *resp) SD_WUR;
bool cli_log_is_no_head(const struct cli_https_response *resp);
/* A log answer that does not parse is the server breaking the protocol (76); one that
 * parses but does not verify stays a verification failure (65). Prefixes `what`. */
int cli_log_answer_error(int r, const char *what);
/* Fetches the consistency proof from old's tree to h's: SD_ERR_VERIFY when h does not
 * extend old. */
int cli_log_check_consistency(cli_log_t *l, const sd_loghead_t *old, const sd_loghead_t *h) SD_WUR;
/* The state-file check of `sealdrop audit verify` (cmd_audit.c) for a head h already
 * verified (text as served): h must extend the last head this client verified, kept in
 * state (NULL: the default file for d's deployment), which then holds h. */
int cli_log_state_advance(cli_log_t *log, const sd_directory_t *d, const char *state, const sd_loghead_t *h,
                          const uint8_t *text, size_t len) SD_WUR;

/* --- the config file and the server (config.c) ----------------------------------- */

/* The options a networked command may take from the per-user config file. */
typedef struct {
	const char *server, *ca, *cert, *key, *root, *intake;
} cli_remote_opts_t;

enum {
	CLI_CONFIG_SERVER,
	CLI_CONFIG_CA,
	CLI_CONFIG_CERT,
	CLI_CONFIG_KEY,
	CLI_CONFIG_ROOT,
	CLI_CONFIG_INTAKE,
	CLI_CONFIG_SOCKS5 /* not an option of cli_remote_opts_t: cli_getopt() applies it */
};
#define CLI_CONFIG_N         7
#define CLI_CONFIG_N_REMOTE  6           /* the settings cli_config_apply() fills */
#define CLI_CONFIG_MAX_BYTES (64 * 1024) /* the whole file */
#define CLI_CONFIG_LINE_MAX  4096        /* bytes of one line, without its newline */

/* The settings read (malloc'd; NULL when not set) and the file they came from (NULL: no
 * file). Indexed by CLI_CONFIG_*. */
typedef struct {
	char *path;
	char *value[CLI_CONFIG_N];
} cli_config_t;

/* Reads $SEALDROP_CONFIG, else $XDG_CONFIG_HOME/sealdrop/config, else
 * ~/.config/sealdrop/config: `name value` lines (server, ca, cert, key, root, intake,
 * socks5; paths absolute, server https://, socks5 HOST:PORT), whole-line `#` comments, blank lines. A missing
 * default file is no settings; a SEALDROP_CONFIG that names no file, a file others may
 * write or that belongs to another user, an unknown or repeated name or a malformed line
 * is SD_ERR_CONFIG (78) naming FILE:LINE. */
int cli_config_load(cli_config_t *out) SD_WUR;
/* The same for text already read (path names it in errors): tests and fuzzing. */
int cli_config_parse(const char *path, const char *text, size_t len, cli_config_t *out) SD_WUR;
void cli_config_free(cli_config_t *c);
/* Fills each option the command line left NULL from c (which must outlive o); socks5 is
 * applied by cli_getopt() to every command that talks to a server. */
void cli_config_apply(const cli_config_t *c, cli_remote_opts_t *o);

/* After getopt: loads the config file into cfg, fills the options the command line left
 * NULL, and refuses (usage, naming the first) a missing --server, --ca, --cert, --key, and
 * --root / --intake when need has CLI_NEED_ROOT / CLI_NEED_INTAKE. -1 to go on, else the
 * exit status (a bad config file: 78). */
#define CLI_NEED_ROOT   0x1u
#define CLI_NEED_INTAKE 0x2u
int cli_remote_complete(const cli_cmd_t *cmd, cli_config_t *cfg, cli_remote_opts_t *o, unsigned need);
/* The answer's body as a JSON object; CLI_ERR_PROTOCOL ("the server's answer to <what> is
 * not a JSON object") otherwise. */
int cli_answer_object(const struct cli_https_response *resp, const char *what, json_t **out) SD_WUR;

/* A connection to the server with o's CA and (optionally) client certificate; warns,
 * naming cmd, when the key file is readable by others. o must outlive it. */
typedef struct cli_remote cli_remote_t;
struct cli_https_ctx;
struct cli_https_conn;
int cli_remote_open(const cli_remote_opts_t *o, const char *cmd, cli_remote_t **out) SD_WUR;
void cli_remote_free(cli_remote_t *r);
/* method path with an optional JSON body: 0 with any HTTP status in *resp (free it
 * either way); a busy server (503) is asked again, up to five times. */
int cli_remote_request(cli_remote_t *r, const char *method, const char *path, const json_t *body,
                       struct cli_https_response *resp) SD_WUR;
/* GET /v1/directory, trusted only if the root public key at root_path signed it (today's
 * date, anti-rollback), and checked to list the TLS CA the connection trusts (ca_path
 * names that file in the error). Used by `file` and by cli_remote_directory (o->root). */
int cli_directory_fetch(struct cli_https_ctx *ctx, struct cli_https_conn *conn, const char *root_path,
                        const char *ca_path, sd_directory_t **out) SD_WUR;
int cli_remote_directory(cli_remote_t *r, sd_directory_t **out) SD_WUR;

/* --- the whistleblower's codename session (cmd_status.c) ------------------------- */

/* What a whistleblower's command holds (status, object, consent); released by
 * cli_wb_free. The command sets cmd and its options, then calls cli_wb_complete. */
typedef struct {
	const cli_cmd_t *cmd;
	cli_remote_opts_t o;
	cli_config_t cfg;
	const char *dir_path, *codename_file;
	bool json;
	sd_directory_t *dir;
	sd_codename_keys_t *keys;
	cli_remote_t *remote;
} cli_wb_t;

void cli_wb_free(cli_wb_t *w);
/* --help: the command's synopsis and help, the shared options, then tail; returns 0. */
int cli_wb_help(const cli_cmd_t *cmd, const char *tail);
/* True when argv asks for --help or -h. */
bool cli_wants_help(int argc, char **argv);
/* After getopt: the config file fills --server, --ca and --root (never a certificate).
 * -1 to go on, else the exit status of the usage error it printed. */
int cli_wb_complete(cli_wb_t *w);
/* The directory (--directory, else the server's; the pinned root signed either), then the
 * connection. */
int cli_wb_open(cli_wb_t *w) SD_WUR;
/* The codename (--codename-file, else typed on the terminal) and its keys, derived with
 * w->dir's Argon2id limits (w->dir must be loaded). */
int cli_wb_keys(cli_wb_t *w) SD_WUR;
/* A fresh session member: a challenge answered with the keys and a proof of work. */
int cli_wb_session(cli_wb_t *w, json_t **out) SD_WUR;
/* method path on a session route: 0 with the answer's JSON object for a 200 or 201; a
 * refusal quotes the server (cli_http_fail; 503 busy: 69). */
int cli_wb_call(cli_wb_t *w, const char *method, const char *path, const json_t *body, const char *what,
                json_t **out) SD_WUR;
/* A session, then POST /v1/wb/status: the answer's object ({"cases", "head"}). */
int cli_wb_status(cli_wb_t *w, json_t **answer) SD_WUR;

/* The download half of `fetch`, for `export` (cmd_fetch.c), over a connection already
 * open: the case's header, verified as fetch verifies it (the case's digest, its
 * signature, d's deployment), into *h; then every chunk of the report and evidence (not
 * the identity), each checked against the manifest, at its package offset in fd. */
/* The answer of POST /v1/cases/{case}/unseal (cmd_unseal.c; `unseal`, `export
 * --with-identity`): the signed consent as JSON text (*doc, malloc'd), its release, and
 * the id the server names it by (*cid, borrowed from o); CLI_ERR_PROTOCOL otherwise. */
int cli_unseal_answer(json_t *o, char **doc, uint8_t release[SD_CONSENT_RELEASE_BYTES], const char **cid) SD_WUR;
/* c's id as hex into out, which must be cid (the id the server named it by). */
int cli_consent_id_check(const sd_consent_t *c, const char *cid, char out[2 * SD_CONSENT_ID_BYTES + 1]) SD_WUR;
/* The case's header alone, verified as fetch verifies it (the case's digest, its
 * signature, d's deployment), over a connection already open (`unseal`). */
int cli_fetch_header(struct cli_https_conn *conn, sd_directory_t *d, const char *case_number, sd_header_t **h) SD_WUR;
/* The connection of an open remote (borrowed). */
struct cli_https_conn *cli_remote_conn(cli_remote_t *r);
int cli_fetch_content(struct cli_https_ctx *ctx, struct cli_https_conn *conn, sd_directory_t *d, const char *server,
                      const char *case_number, bool quiet, int fd, sd_header_t **h) SD_WUR;

#endif
