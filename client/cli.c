/*
 * cli.c — the helpers every sealdrop command shares: usage and error reporting, the
 * terminal (no-echo prompts, signals that must not leave echo off), passphrases, key and
 * directory loading with the checks every command needs, JSON output and the progress
 * bar. The codename prompts are in cli_codename.c. See cli.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "sealdrop/bytes.h"
#include "sealdrop/json.h"
#include "sealdrop/fileio.h"
#include "sealdrop/sealdrop.h"
#include "cli.h"
#include "https.h"

#define PASSFILE_MAX 4096

/* --- usage and errors ------------------------------------------------------------- */

void cli_getopt_reset(void)
{
	optind = 1;
	opterr = 0;
}

int cli_help(const cli_cmd_t *cmd)
{
	fputs(_(cmd->synopsis), stdout);
	fputs(_(cmd->help), stdout);
	return 0;
}

/* The one option o names has been read, with optarg. */
static int opt_store(const cli_opt_t *o)
{
	if (o->flag != NULL)
		*o->flag = true;
	else if (o->value != NULL)
		*o->value = optarg;
	else if (o->list != NULL)
		o->list[(*o->n)++] = optarg;
	else
		return o->take(optarg, o->dst);
	return 0;
}

/* getopt_long's val for --socks5, beyond every command's OPT_* values. */
#define OPT_SOCKS5 0x10000

const char cli_socks5_help[] =
        N_("\n"
           "  --socks5 HOST:PORT      connect only through this SOCKS5 proxy, which resolves the\n"
           "                          server's name (Tor: 127.0.0.1:9050; Tor Browser: 127.0.0.1:9150);\n"
           "                          an .onion server needs it. 'socks5 HOST:PORT' in the config file\n"
           "                          does the same for every command\n");

/* After the options of a command that talks to a server: the proxy (--socks5, else the
 * config file's), which every connection of this process then goes through; an .onion
 * server (from the command line, else the config file) is refused without one. */
static int net_settle(const cli_cmd_t *cmd, const char *socks5, const char *server)
{
	cli_config_t cfg;
	cli_https_url_t u;
	int r = -1;

	memset(&cfg, 0, sizeof(cfg));
	sd_error_clear();
	if (socks5 == NULL && (r = cli_config_load(&cfg)) < 0)
		return cli_fail(cmd->name, r);
	r = -1;
	if (socks5 == NULL)
		socks5 = cfg.value[CLI_CONFIG_SOCKS5];
	if (server == NULL)
		server = cfg.value[CLI_CONFIG_SERVER];
	if (socks5 != NULL && cli_https_socks5_set(socks5) < 0)
		r = cli_usage_error(cmd, "%s", sd_error_detail());
	else if (socks5 == NULL && server != NULL && cli_https_url_parse(server, &u) == 0 &&
	         cli_https_host_is_onion(u.host))
		r = cli_usage_error(cmd, _("an onion address needs --socks5 127.0.0.1:9050 (Tor)"));
	sd_error_clear();
	cli_config_free(&cfg);
	return r;
}

int cli_getopt(const cli_cmd_t *cmd, int argc, char **argv, const cli_opt_t *opts)
{
	struct option longopts[CLI_OPTS_MAX + 3];
	const cli_opt_t *server = NULL;
	const char *socks5 = NULL;
	size_t n;
	int c, r;

	for (n = 0; opts[n].name != NULL && n < CLI_OPTS_MAX; n++) {
		longopts[n] = (struct option){opts[n].name, opts[n].flag != NULL ? no_argument : required_argument,
		                              NULL, opts[n].val};
		if (strcmp(opts[n].name, "server") == 0 && opts[n].value != NULL)
			server = &opts[n];
	}
	if (server != NULL)
		longopts[n++] = (struct option){"socks5", required_argument, NULL, OPT_SOCKS5};
	longopts[n] = (struct option){"help", no_argument, NULL, 'h'};
	longopts[n + 1] = (struct option){NULL, 0, NULL, 0};
	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		const cli_opt_t *o = opts;

		if (c == 'h') {
			cli_help(cmd);
			if (server != NULL)
				fputs(_(cli_socks5_help), stdout);
			return 0;
		}
		if (c == OPT_SOCKS5) {
			socks5 = optarg;
			continue;
		}
		while (o->name != NULL && o->val != c)
			o++;
		if (o->name == NULL)
			return cli_opt_error(cmd, argv, c);
		if ((r = opt_store(o)) != 0)
			return r;
	}
	return server != NULL ? net_settle(cmd, socks5, *server->value) : -1;
}

static void usage_hint(const cli_cmd_t *cmd)
{
	fputs(_(cmd->synopsis), stderr);
	fprintf(stderr, _("Run 'sealdrop %s --help' for details.\n"), cmd->name);
}

int cli_opt_error(const cli_cmd_t *cmd, char **argv, int c)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";

	if (c == ':')
		fprintf(stderr, _("sealdrop: %s: option '%s' needs a value\n"), cmd->name, arg);
	else if (optopt != 0)
		fprintf(stderr, _("sealdrop: %s: unknown option '-%c'\n"), cmd->name, optopt);
	else
		fprintf(stderr, _("sealdrop: %s: unknown option '%s'\n"), cmd->name, arg);
	usage_hint(cmd);
	return CLI_EX_USAGE;
}

int cli_usage_error(const cli_cmd_t *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sealdrop: %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage_hint(cmd);
	return CLI_EX_USAGE;
}

int cli_one_argument(const cli_cmd_t *cmd, int argc, char **argv, const char *missing, const char **arg)
{
	if (optind == argc)
		return cli_usage_error(cmd, "%s", missing);
	if (optind + 1 < argc)
		return cli_usage_error(cmd, _("unexpected argument '%s'"), argv[optind + 1]);
	*arg = argv[optind];
	return 0;
}

int cli_fail(const char *cmd, int r)
{
	const char *detail = sd_error_detail();

	fprintf(stderr, "sealdrop: %s: %s\n", cmd, detail[0] != '\0' ? detail : sd_strerror(r));
	return sd_exit_code(r);
}

int cli_error_prefix(int r, const char *fmt, ...)
{
	char prefix[512], old[512];
	const char *detail = sd_error_detail();
	va_list ap;

	snprintf(old, sizeof(old), "%s", detail[0] != '\0' ? detail : sd_strerror(r));
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	/* Library details often name the file already; say it once. */
	if (strstr(old, prefix) != NULL)
		return sd_error(r, "%s", old);
	return sd_error(r, "%s: %s", prefix, old);
}

void cli_warn(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, _("sealdrop: %s: warning: "), cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cli_note(bool quiet, const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* --- terminal and signals --------------------------------------------------------- */

/* What a signal handler must undo: echo turned off, a file not to leave behind. */
static volatile sig_atomic_t tty_saved;
static int tty_saved_fd = -1;
static struct termios tty_saved_attr;
static volatile sig_atomic_t cleanup_set;
static char cleanup_path[PATH_MAX];

static volatile sig_atomic_t caught_signal;
static struct timespec caught_at;

#define CANCEL_GRACE_SECONDS 3

/* A repeat within the grace period is a copy, not a second request: a process group's
 * signal after the one sent to us (timeout(1), supervisors), or a doubled Ctrl-C.
 * Unwinding takes milliseconds; dying now would leave the temporary files behind. */
static bool in_grace(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec - caught_at.tv_sec < CANCEL_GRACE_SECONDS;
}

static void reraise(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
	raise(sig);
}

/* At a prompt: restore the terminal and die at once. During work: ask the library to
 * stop at the next chunk, so it removes its temporary files (which may hold decrypted
 * evidence) on the way out, and die afterwards (cli_signal_reraise). SIGQUIT too: a
 * quick exit is not worth plaintext left on disk. A signal after the grace period kills
 * at once; open sweeps what such a kill leaves behind on its next run. */
static void on_signal(int sig)
{
	int saved_errno = errno;

	if (tty_saved) {
		tcsetattr(tty_saved_fd, TCSANOW, &tty_saved_attr);
		(void)!write(tty_saved_fd, "\n", 1);
	} else if (!caught_signal) {
		clock_gettime(CLOCK_MONOTONIC, &caught_at);
		caught_signal = sig;
		sd_cancel_request();
		errno = saved_errno;
		return;
	} else if (in_grace()) {
		errno = saved_errno;
		return;
	}
	if (cleanup_set)
		unlink(cleanup_path);
	reraise(sig);
}

void cli_signal_reraise(void)
{
	if (caught_signal)
		reraise(caught_signal);
}

void cli_signals_install(void)
{
	/* A core file of this process would hold identity data, codenames and keys. */
	struct rlimit no_core = {0, 0};
	setrlimit(RLIMIT_CORE, &no_core);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&sa.sa_mask, sigs[i]);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

void cli_cleanup_path_set(const char *path)
{
	cleanup_set = 0;
	if (path == NULL || strlen(path) >= sizeof(cleanup_path))
		return;
	snprintf(cleanup_path, sizeof(cleanup_path), "%s", path);
	cleanup_set = 1;
}

int cli_tty_open(void)
{
	return open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
}

bool cli_stderr_is_tty(void)
{
	return isatty(STDERR_FILENO) == 1;
}

static int tty_write(int tty, const char *s)
{
	return sd_write_full(tty, s, strlen(s));
}

/* Reads up to a newline; a line longer than the buffer is consumed and refused. */
static int tty_read_line(int tty, char *buf, size_t cap, size_t *len)
{
	size_t n = 0;
	bool toolong = false;
	char c;

	for (;;) {
		ssize_t got = read(tty, &c, 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return sd_error(SD_ERR_IO, _("reading from the terminal: %s"), strerror(errno));
		if (got == 0) {
			if (n == 0)
				return sd_error(SD_ERR_IO, _("no input from the terminal"));
			break;
		}
		if (c == '\n')
			break;
		if (n + 1 < cap)
			buf[n++] = c;
		else
			toolong = true;
	}
	sd_wipe(&c, sizeof(c));
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	if (toolong) {
		sd_wipe(buf, cap);
		return sd_error(SD_ERR_USAGE, _("the line typed is longer than %zu bytes"), cap - 1);
	}
	*len = n;
	return 0;
}

int cli_tty_read_hidden(int tty, const char *prompt, char *buf, size_t cap, size_t *len)
{
	struct termios quiet;
	int r;

	if (tcgetattr(tty, &tty_saved_attr) != 0)
		return sd_error(SD_ERR_IO, _("cannot turn off echo on the terminal: %s"), strerror(errno));
	tty_saved_fd = tty;
	tty_saved = 1;
	quiet = tty_saved_attr;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
	if (tcsetattr(tty, TCSAFLUSH, &quiet) != 0) {
		tty_saved = 0;
		return sd_error(SD_ERR_IO, _("cannot turn off echo on the terminal: %s"), strerror(errno));
	}
	r = tty_write(tty, prompt);
	if (r == 0)
		r = tty_read_line(tty, buf, cap, len);
	tcsetattr(tty, TCSAFLUSH, &tty_saved_attr);
	tty_saved = 0;
	(void)!tty_write(tty, "\n");
	return r;
}

/* --- passphrases ------------------------------------------------------------------ */

static int passphrase_from_file(const char *file, char **out, size_t *len)
{
	int r = sd_file_read_secret(file, PASSFILE_MAX, out, len);

	if (r < 0)
		return cli_error_prefix(r, _("passphrase file"));
	if (*len == 0) {
		sd_secret_free(*out);
		*out = NULL;
		return sd_error(SD_ERR_USAGE, _("passphrase file %s is empty"), file);
	}
	return 0;
}

static int passphrase_prompt(int tty, const char *prompt, char **out, size_t *len)
{
	char *buf = sd_secret_alloc(CLI_PASSPHRASE_MAX);
	int r;

	if (buf == NULL)
		return SD_ERR_NOMEM;
	r = cli_tty_read_hidden(tty, prompt, buf, CLI_PASSPHRASE_MAX, len);
	if (r == 0 && *len == 0)
		r = sd_error(SD_ERR_USAGE, _("the passphrase is empty"));
	if (r < 0) {
		sd_secret_free(buf);
		return r;
	}
	*out = buf;
	return 0;
}

static int no_tty_error(const char *what, const char *option)
{
	return sd_error(SD_ERR_USAGE, _("no terminal to ask for %s on; use %s"), what, option);
}

int cli_passphrase_read(const char *file, const char *prompt, char **out, size_t *len)
{
	int tty, r;

	*out = NULL;
	*len = 0;
	if (file != NULL)
		return passphrase_from_file(file, out, len);
	if ((tty = cli_tty_open()) < 0)
		return no_tty_error(_("the passphrase"), "--passphrase-file FILE");
	r = passphrase_prompt(tty, prompt, out, len);
	close(tty);
	return r;
}

int cli_passphrase_new(const char *file, char **out, size_t *len)
{
	char *first = NULL, *again = NULL;
	size_t n1 = 0, n2 = 0;
	int tty, r;

	*out = NULL;
	*len = 0;
	if (file != NULL)
		return passphrase_from_file(file, out, len);
	if ((tty = cli_tty_open()) < 0)
		return no_tty_error(_("the passphrase"), "--passphrase-file FILE");
	r = passphrase_prompt(tty, _("Passphrase for the new key: "), &first, &n1);
	if (r == 0)
		r = passphrase_prompt(tty, _("Again: "), &again, &n2);
	if (r == 0 && (n1 != n2 || !sd_equal(first, again, n1)))
		r = sd_error(SD_ERR_USAGE, _("the two passphrases differ; nothing was written"));
	close(tty);
	sd_secret_free(again);
	if (r < 0) {
		sd_secret_free(first);
		return r;
	}
	*out = first;
	*len = n1;
	return 0;
}

/* --- keys and directories --------------------------------------------------------- */

static const char *kind_article(sd_key_kind_t k)
{
	const char *name = sd_key_kind_name(k);

	return strchr("aeiou", name[0]) != NULL ? "an" : "a";
}

static int wrong_kind(const char *opt, const char *path, sd_key_kind_t got, sd_key_kind_t want)
{
	return sd_error(SD_ERR_WRONG_KEY, _("%s: %s is %s %s key, not %s %s key"), opt, path, kind_article(got),
	                sd_key_kind_name(got), kind_article(want), sd_key_kind_name(want));
}

int cli_pubkey_load(const char *opt, const char *path, sd_key_kind_t want, sd_pubkey_t *out)
{
	int r = sd_pubkey_read(path, out);

	if (r < 0)
		return cli_error_prefix(r, "%s", opt);
	if (out->kind != want)
		return wrong_kind(opt, path, out->kind, want);
	return 0;
}

int cli_seckey_load(const char *opt, const char *path, sd_key_kind_t want, const char *passfile, sd_seckey_t **out)
{
	uint8_t *file = NULL;
	char *pass = NULL, prompt[PATH_MAX + 32];
	size_t len = 0, passlen = 0;
	sd_key_kind_t kind;
	sd_kdf_limits_t limits;
	int r;

	*out = NULL;
	if ((r = sd_file_read(path, SD_KEYFILE_BYTES + 1, &file, &len)) < 0) {
		r = cli_error_prefix(r, "%s", opt);
		goto out;
	}
	if ((r = sd_keyfile_peek(file, len, &kind, &limits)) < 0) {
		r = cli_error_prefix(r, "%s: %s", opt, path);
		goto out;
	}
	if (kind != want) {
		r = wrong_kind(opt, path, kind, want);
		goto out;
	}
	snprintf(prompt, sizeof(prompt), _("Passphrase for %s: "), path);
	if ((r = cli_passphrase_read(passfile, prompt, &pass, &passlen)) < 0)
		goto out;
	if ((r = sd_keyfile_decode(file, len, pass, passlen, out)) < 0)
		r = cli_error_prefix(r, "%s: %s", opt, path);
out:
	sd_secret_free(pass);
	free(file);
	return r;
}

/* --- several key files of one kind ------------------------------------------------ */

int cli_keys_take(const char *arg, void *dst)
{
	cli_keys_t *k = dst;

	if (k->n == CLI_KEYS_MAX)
		return cli_usage_error(k->cmd, _("at most %d %s files"), CLI_KEYS_MAX, k->opt);
	k->path[k->n++] = arg;
	return 0;
}

void cli_keys_default(cli_keys_t *k, const char *path)
{
	if (k->n == 0 && path != NULL)
		k->path[k->n++] = path;
}

/* The key id of keys->path[i] from the public key file beside it (FILE.pub, as keygen
 * writes it), without its passphrase: 1 when known (its kind checked), 0 when there is
 * no FILE.pub, or the error. */
static int keys_peek_id(const cli_keys_t *keys, size_t i, sd_key_kind_t want, uint8_t id[SD_KEY_ID_BYTES])
{
	char pub_path[PATH_MAX];
	sd_pubkey_t pub;
	int r;

	if ((size_t)snprintf(pub_path, sizeof(pub_path), "%s.pub", keys->path[i]) >= sizeof(pub_path))
		return sd_error(SD_ERR_USAGE, _("%s: the file name %s is too long"), keys->opt, keys->path[i]);
	if (access(pub_path, F_OK) != 0 && errno == ENOENT)
		return 0;
	if ((r = cli_pubkey_load(keys->opt, pub_path, want, &pub)) < 0)
		return r;
	memcpy(id, pub.id, SD_KEY_ID_BYTES);
	return 1;
}

/* keys->path[i], unlocked; it must be key id (when its FILE.pub said so, a mismatch is the
 * pair's fault, not the package's). */
static int keys_unlock(const cli_keys_t *keys, size_t i, sd_key_kind_t want, const char *passfile,
                       const uint8_t id[SD_KEY_ID_BYTES], sd_seckey_t **out)
{
	int r = cli_seckey_load(keys->opt, keys->path[i], want, passfile, out);

	if (r < 0 || sd_equal((*out)->id, id, SD_KEY_ID_BYTES))
		return r;
	sd_seckey_free(*out);
	*out = NULL;
	return sd_error(SD_ERR_WRONG_KEY, _("%s: %s.pub is not the public key of %s"), keys->opt, keys->path[i],
	                keys->path[i]);
}

/* "what is sealed to intake key W; --intake A is key X, --intake B is key Y". */
static int keys_none_match(const cli_keys_t *keys, sd_key_kind_t want, const uint8_t id[SD_KEY_ID_BYTES],
                           const char *what, uint8_t (*ids)[SD_KEY_ID_BYTES])
{
	char list[768], wanted[SD_KEY_ID_HEX_BYTES], have[SD_KEY_ID_HEX_BYTES];
	size_t used = 0;

	list[0] = '\0';
	for (size_t i = 0; i < keys->n && used < sizeof(list); i++) {
		sd_key_id_hex(ids[i], have);
		int w = snprintf(list + used, sizeof(list) - used, _("%s%s %s is key %s"), i > 0 ? ", " : "", keys->opt,
		                 keys->path[i], have);
		used += w > 0 ? (size_t)w : 0;
	}
	sd_key_id_hex(id, wanted);
	return sd_error(SD_ERR_WRONG_KEY, _("%s is sealed to %s key %s; %s"), what, sd_key_kind_name(want), wanted,
	                list);
}

int cli_seckey_load_matching(const cli_keys_t *keys, sd_key_kind_t want, const uint8_t id[SD_KEY_ID_BYTES],
                             const char *what, const char *passfile, sd_seckey_t **out)
{
	uint8_t ids[CLI_KEYS_MAX][SD_KEY_ID_BYTES];
	bool known[CLI_KEYS_MAX] = {false};
	int r;

	*out = NULL;
	/* First the files whose FILE.pub tells their id: no passphrase for the others. */
	for (size_t i = 0; keys->n > 1 && i < keys->n; i++) {
		if ((r = keys_peek_id(keys, i, want, ids[i])) < 0)
			return r;
		known[i] = r == 1;
		if (known[i] && sd_equal(ids[i], id, SD_KEY_ID_BYTES))
			return keys_unlock(keys, i, want, passfile, id, out);
	}
	/* Then, in order, those without one: each must be unlocked to learn its id. */
	for (size_t i = 0; i < keys->n; i++) {
		if (known[i])
			continue;
		if ((r = cli_seckey_load(keys->opt, keys->path[i], want, passfile, out)) < 0)
			return r;
		if (sd_equal((*out)->id, id, SD_KEY_ID_BYTES))
			return 0;
		memcpy(ids[i], (*out)->id, SD_KEY_ID_BYTES);
		sd_seckey_free(*out);
		*out = NULL;
	}
	return keys_none_match(keys, want, id, what, ids);
}

int cli_seckey_load_all(const cli_keys_t *keys, sd_key_kind_t want, const char *passfile,
                        sd_seckey_t *out[CLI_KEYS_MAX])
{
	int r = 0;

	for (size_t i = 0; i < CLI_KEYS_MAX; i++)
		out[i] = NULL;
	for (size_t i = 0; r == 0 && i < keys->n; i++)
		r = cli_seckey_load(keys->opt, keys->path[i], want, passfile, &out[i]);
	if (r < 0)
		cli_seckeys_free(out);
	return r;
}

void cli_seckeys_free(sd_seckey_t *keys[CLI_KEYS_MAX])
{
	for (size_t i = 0; i < CLI_KEYS_MAX; i++) {
		sd_seckey_free(keys[i]);
		keys[i] = NULL;
	}
}

int cli_check_absent(const char *path)
{
	struct stat st;
	char *dir;
	const char *slash = strrchr(path, '/');
	int r = 0;

	if (lstat(path, &st) == 0)
		return sd_error(SD_ERR_EXISTS, _("%s already exists; nothing was overwritten"), path);
	if (errno != ENOENT && errno != ENOTDIR)
		return sd_error(SD_ERR_IO, "%s: %s", path, strerror(errno));
	/* The directory it goes into must exist and take new files. */
	if (slash == NULL)
		dir = strdup(".");
	else
		dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
	if (dir == NULL)
		return SD_ERR_NOMEM;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		r = sd_error(SD_ERR_NOENT, _("cannot create %s: %s is not a directory"), path, dir);
	else if (access(dir, W_OK | X_OK) != 0)
		r = sd_error(SD_ERR_IO, _("cannot create %s: %s"), path, strerror(errno));
	free(dir);
	return r;
}

void cli_directory_warn_test(void)
{
	fputs(_("WARNING: this is a TEST directory: codenames are derived with minimal key stretching; "
	        "never use it for real reports.\n"),
	      stderr);
}

int cli_directory_load(const char *path, const char *root_path, sd_directory_t **out)
{
	sd_pubkey_t root;
	int r;

	*out = NULL;
	if ((r = cli_pubkey_load("--root", root_path, SD_KEY_ROOT, &root)) < 0)
		return r;
	if ((r = sd_directory_load(path, &root, sd_date_today(), out)) < 0)
		return cli_error_prefix(r, "%s", path);
	if ((*out)->test)
		cli_directory_warn_test();
	if ((r = sd_directory_check_version(*out, NULL)) < 0) {
		sd_directory_free(*out);
		return cli_error_prefix(r, "%s", path);
	}
	return 0;
}

/* --- output ----------------------------------------------------------------------- */

void cli_format_size(uint64_t n, char out[CLI_SIZE_TEXT_BYTES])
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
	double v = (double)n;
	size_t u = 0;

	if (n < 1024) {
		snprintf(out, CLI_SIZE_TEXT_BYTES, n == 1 ? _("%llu byte") : _("%llu bytes"), (unsigned long long)n);
		return;
	}
	v /= 1024.0;
	while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024.0;
		u++;
	}
	snprintf(out, CLI_SIZE_TEXT_BYTES, "%.1f %s", v, units[u]);
}

json_t *cli_json_hex(const uint8_t *p, size_t len)
{
	return sd_json_hex_string(p, len);
}

json_t *cli_json_date(sd_date_t d)
{
	char text[SD_DATE_TEXT_BYTES];

	sd_date_format(d, text);
	return json_string(text);
}

int cli_json_print(json_t *obj)
{
	int r = 0;

	if (obj == NULL)
		return sd_error(SD_ERR_NOMEM, _("out of memory building the JSON output"));
	if (json_dumpf(obj, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0 || fputc('\n', stdout) == EOF)
		r = sd_error(SD_ERR_IO, _("writing to standard output failed"));
	json_decref(obj);
	return r;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#define CLI_PROGRESS_MIN_BYTES (8u << 20)

void cli_progress_init(cli_progress_t *p, const char *label, bool allowed)
{
	memset(p, 0, sizeof(*p));
	p->enabled = allowed && cli_stderr_is_tty();
	p->label = label;
	p->started_ns = now_ns();
}

void cli_progress_cb(void *ctx, uint64_t done, uint64_t total)
{
	cli_progress_t *p = ctx;
	char bar[25];
	uint64_t now;
	double mib = 1024.0 * 1024.0, secs, pct;
	size_t fill;

	/* Small jobs finish in well under a second: a bar would only flicker. */
	if (p == NULL || !p->enabled || total < CLI_PROGRESS_MIN_BYTES)
		return;
	now = now_ns();
	if (p->drawn && now - p->last_ns < 100000000u && done < total)
		return;
	p->last_ns = now;
	p->drawn = true;
	pct = total > 0 ? (double)done * 100.0 / (double)total : 100.0;
	if (pct > 100.0)
		pct = 100.0;
	fill = (size_t)(pct * (sizeof(bar) - 1) / 100.0);
	for (size_t i = 0; i < sizeof(bar) - 1; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[sizeof(bar) - 1] = '\0';
	secs = (double)(now - p->started_ns) / 1e9;
	fprintf(stderr, "\r%s [%s] %3.0f%%  %.1f/%.1f MiB  %.1f MiB/s\033[K", p->label, bar, pct, (double)done / mib,
	        (double)total / mib, secs > 0.01 ? (double)done / mib / secs : 0.0);
	fflush(stderr);
}

void cli_progress_end(cli_progress_t *p)
{
	if (p->enabled && p->drawn) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	p->drawn = false;
}

/* --- HTTP answers ----------------------------------------------------------------- */

int cli_http_fail(const cli_https_response_t *resp, const char *what)
{
	const char *msg = resp->message[0] != '\0' ? resp->message : resp->error;
	int err = resp->status >= 500 ? CLI_ERR_UNAVAILABLE : resp->status >= 400 ? SD_ERR_REFUSED : CLI_ERR_PROTOCOL;

	if (resp->status >= 400 && msg[0] == '\0')
		return sd_error(err, _("the server refused %s (HTTP %d)"), what, resp->status);
	if (resp->status >= 400 && resp->status < 500)
		return sd_error(err, _("the server refused %s: \"%s\" (HTTP %d%s%s)"), what, msg, resp->status,
		                resp->error[0] != '\0' ? " " : "", resp->error);
	if (resp->status >= 500)
		return sd_error(err, _("the server failed %s: \"%s\" (HTTP %d)"), what, msg, resp->status);
	return sd_error(err, _("unexpected answer to %s (HTTP %d)"), what, resp->status);
}

void cli_nap(unsigned ms)
{
	for (unsigned slept = 0; slept < ms && !sd_is_cancelled(); slept += 100)
		nanosleep(&(struct timespec){0, 100000000}, NULL);
}

/* The byte offset of the first thing a notice's (or an objection's) text may not hold
 * (what sd_notice_open checks on the reader's side), or len when there is none. */
static size_t text_first_bad(const char *s, size_t len)
{
	size_t i = 0, at;
	uint32_t cp;

	while (i < len) {
		at = i;
		if (!sd_utf8_decode(s, len, &i, &cp) || (cp < 0x20 && cp != '\n' && cp != '\t') ||
		    (cp >= 0x7f && cp <= 0x9f))
			return at;
	}
	return len;
}

int cli_text_load(const cli_cmd_t *cmd, const char *path, size_t max, char **text, size_t *len)
{
	uint8_t *buf = NULL;
	size_t bad;
	int r;

	*text = NULL;
	r = sd_file_read(path, max, &buf, len);
	if (r == SD_ERR_TOOBIG)
		return cli_usage_error(cmd, _("--text %s is longer than %zu bytes"), path, max);
	if (r < 0)
		return cli_fail(cmd->name, cli_error_prefix(r, "--text %s", path));
	*text = (char *)buf;
	if (*len == 0)
		return cli_usage_error(cmd, _("--text %s is empty"), path);
	if ((bad = text_first_bad(*text, *len)) < *len)
		return cli_usage_error(cmd,
		                       _("--text %s is not UTF-8 text without control characters (only newline "
		                         "and tab are allowed): byte %zu"),
		                       path, bad);
	return 0;
}

void cli_text_print_indented(const char *t, int indent)
{
	const char *nl;
	size_t n;

	while (*t != '\0') {
		nl = strchr(t, '\n');
		n = nl != NULL ? (size_t)(nl - t) : strlen(t);
		if (n > 0)
			printf("%*s%.*s", indent, "", (int)n, t);
		putchar('\n');
		if (nl == NULL)
			return;
		t = nl + 1;
	}
}
