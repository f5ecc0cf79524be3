/*
 * cmd_run.c — `sealdropd run` (the server in the foreground: server/server.c does the
 * work) and `sealdropd check-config` (every problem of a configuration file, and of the
 * files it implies, in one run; sealdropd.conf(5)).
 */
#include <errno.h>
#include <libintl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sealdrop/ca.h"
#include "sealdrop/config.h"
#include "sealdrop/date.h"
#include "sealdrop/directory.h"
#include "sealdrop/fileio.h"
#include "sealdrop/keys.h"
#include "sealdrop/sealdrop.h"
#include "sealdrop/server.h"
#include "sealdrop/servicekey.h"
#include "sealdrop/store.h"
#include "sealdrop/tls.h"
#include "cmd.h"

static const sdd_cmd_t run_cmd = {
        "run",
        N_("usage: sealdropd run --config FILE [--log FILE]\n"),
        N_("\nRuns the server in the foreground, logging to standard error, or with --log to FILE\n"
           "(appended; for SIGHUP to reopen it after the chroot, FILE must be inside the\n"
           "configured dir). Started as root, it\n"
           "binds its sockets, chroots into the configured dir and drops to the configured user.\n"
           "It runs as three processes: the server, its child sealdropd-keys, which alone holds\n"
           "the log signing key (DIR/log.key) and signs receipts, notices and tree heads on\n"
           "request, and its child sealdropd-store, which alone opens the store (DIR/store) and\n"
           "runs the server's requests on it. If either child dies, the server stops (exit 70; 74\n"
           "after a failed fsync of the store) rather than run on without it.\n"
           "It refuses to start while DIR/directory.json is missing, not signed, or does not list\n"
           "the server's own log key and CA.\n"
           "\n"
           "SIGTERM or SIGINT: stop accepting, let requests in flight finish, exit 0.\n"
           "SIGHUP: reopen the log.\n"),
};

static const sdd_cmd_t check_cmd = {
        "check-config",
        N_("usage: sealdropd check-config --config FILE\n"),
        N_("\nChecks a configuration file and explains every error, each as FILE:LINE: message;\n"
           "then checks the files the configuration implies, as run would (the CA, the server's\n"
           "certificate and key, the log key, the signed directory and that it lists this server,\n"
           "and, as root, who owns the files). Prints \"configuration ok\" and exits 0, or exits 78.\n"),
};

/* --config FILE, and --log FILE where log is not NULL (refused otherwise). */
static int config_option(const sdd_cmd_t *cmd, int argc, char **argv, const char **path, const char **log)
{
	const sdd_opt_t opts[] = {
	        {"config", 'c', .value = path},
	        {"log", 'l', .value = log},
	        {0},
	};
	int status;

	if ((status = sdd_getopt(cmd, argc, argv, opts)) != 0)
		return status;
	if (optind < argc)
		return sdd_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (*path == NULL)
		return sdd_usage_error(cmd, "--config is required");
	return 0;
}

int sdd_cmd_run(int argc, char **argv)
{
	const char *path = NULL, *log = NULL;
	sd_config_t c = {0};
	sd_server_t *s = NULL;
	int r, status;

	if ((status = config_option(&run_cmd, argc, argv, &path, &log)) != 0) {
		if (status > 0)
			return status;
		sdd_i18n_init(); /* run's --help alone is translated (cmd.h) */
		return sdd_help(&run_cmd);
	}
	if ((status = sdd_config_load(run_cmd.name, path, &c)) != 0)
		return status;
	if ((r = sd_log_open(log)) < 0) {
		sd_config_free(&c);
		return sdd_fail(run_cmd.name, r);
	}
	if ((r = sd_server_new(&c, path, &s)) == 0)
		r = sd_server_run(s);
	status = r < 0 ? sdd_fail(run_cmd.name, r) : 0;
	sd_server_free(s);
	sd_config_free(&c);
	return status;
}

/* --- check-config ---------------------------------------------------------------------- */

typedef struct {
	const char *config; /* the file, for messages */
	size_t errors, warnings;
} check_t;

static void check_error(check_t *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check_error(check_t *k, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sealdropd: check-config: %s: ", k->config);
	va_start(ap, fmt);
	vfprintf(stderr, _(fmt), ap);
	va_end(ap);
	fputc('\n', stderr);
	k->errors++;
}

/* Each file init creates must be there; keys must be private. */
static void check_present(check_t *k, const char *dir)
{
	static const struct {
		const char *name;
		bool private;
	} files[] = {
	        {SD_CA_CERT_FILE, false},   {SD_CA_KEY_FILE, true},        {SD_SERVER_CERT_FILE, false},
	        {SD_SERVER_KEY_FILE, true}, {SD_SERVER_LOGKEY_FILE, true}, {SD_SERVER_LOGPUB_FILE, false},
	};
	char p[PATH_MAX];
	struct stat st;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i].name);
		if (stat(p, &st) != 0)
			check_error(k, "%s: %s (sealdropd init --dir %s creates it)", p, strerror(errno), dir);
		else if (!S_ISREG(st.st_mode))
			check_error(k, "%s is not a regular file", p);
		else if (files[i].private && (st.st_mode & 077) != 0)
			check_error(k, "%s is accessible to group or others (mode %04o); chmod 600 it", p,
			            (unsigned)(st.st_mode & 07777));
	}
}

/* What the later checks need from the keys: the CA, and the log key's public half. */
typedef struct {
	sd_ca_t *ca;
	sd_pubkey_t log_pub;
	bool has_log;
} loaded_t;

/* The CA loads, and the log key's two halves belong together. */
static void check_keys(check_t *k, const char *dir, loaded_t *l)
{
	char p[PATH_MAX];
	sd_seckey_t *log = NULL;

	if (sd_ca_load(dir, &l->ca) < 0)
		check_error(k, "the CA in %s does not load: %s", dir, sd_error_detail());
	snprintf(p, sizeof(p), "%s/%s", dir, SD_SERVER_LOGKEY_FILE);
	if (sd_servicekey_read(p, SD_KEY_LOG, &log) < 0) {
		check_error(k, "%s", sd_error_detail());
		return;
	}
	snprintf(p, sizeof(p), "%s/%s", dir, SD_SERVER_LOGPUB_FILE);
	if (sd_pubkey_read(p, &l->log_pub) < 0)
		check_error(k, "%s", sd_error_detail());
	else if (l->log_pub.kind != SD_KEY_LOG || !sd_equal(l->log_pub.pk, log->pk, sizeof(l->log_pub.pk)))
		check_error(k, "%s is not the public half of %s/%s", p, dir, SD_SERVER_LOGKEY_FILE);
	else
		l->has_log = true;
	sd_seckey_free(log);
}

/* The server's certificate and key make a TLS 1.3 server, as `run` sets it up. */
static void check_tls(check_t *k, const char *dir, const sd_ca_t *ca)
{
	char cert[PATH_MAX], key[PATH_MAX];
	sd_tls_t *tls = NULL;

	snprintf(cert, sizeof(cert), "%s/%s", dir, SD_SERVER_CERT_FILE);
	snprintf(key, sizeof(key), "%s/%s", dir, SD_SERVER_KEY_FILE);
	if (sd_tls_server_new(cert, key, sd_ca_cert_pem(ca), &tls) < 0)
		check_error(k, "cannot set up TLS with %s and %s: %s", cert, key, sd_error_detail());
	sd_tls_free(tls);
}

/* The signed directory verifies, has not expired, and lists this server's log key and CA.
 * (That its signer is the root the store pinned, `run` checks: the store is the server's.) */
static void check_directory(check_t *k, const char *path, const loaded_t *l)
{
	const char *pem = sd_ca_cert_pem(l->ca);
	sd_directory_t *d = NULL;
	uint8_t *json = NULL, *der = NULL;
	size_t len = 0, der_len = 0;
	sd_pubkey_t root;

	if (sd_file_read(path, SD_DIRECTORY_MAX_BYTES, &json, &len) < 0)
		check_error(k, "cannot read %s: %s", path, sd_error_detail());
	else if (sd_directory_signer(json, len, &root) < 0 ||
	         sd_directory_parse(json, len, &root, sd_date_today(), &d) < 0)
		check_error(k, "%s: %s", path, sd_error_detail());
	else if (sd_ca_cert_from_pem(pem, strlen(pem), &der, &der_len) < 0 ||
	         sd_server_directory_lists(d, &l->log_pub, der, der_len) < 0)
		check_error(k, "%s: %s", path, sd_error_detail());
	free(der);
	sd_directory_free(d);
	free(json);
}

static void missing_directory(check_t *k, const char *dir, const char *p)
{
	fprintf(stderr,
	        _("sealdropd: check-config: warning: %s is missing, and the server will not start without it;\n"
	          "  the root key holder creates it with\n"
	          "    sealdrop directory create --deployment NAME --intake intake.key.pub --identity "
	          "identity.key.pub \\\n"
	          "        --log %s/%s --tls-ca %s/%s --root root.key --out %s\n"),
	        p, dir, SD_SERVER_LOGPUB_FILE, dir, SD_CA_CERT_FILE, p);
	k->warnings++;
}

/* Started as root, `run` becomes the configured user: it must exist, and own the files. */
static void check_user(check_t *k, const sd_config_t *c)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return;
	if ((pw = getpwnam(c->user)) == NULL)
		check_error(k, "user '%s' does not exist (sealdropd init creates it)", c->user);
	else if (pw->pw_uid == 0)
		check_error(k, "user '%s' is root: sealdropd does not run as root", c->user);
	else if (sd_server_check_owner(c->dir, pw->pw_uid, c->user) < 0 || sd_server_check_modes(c->dir) < 0)
		check_error(k, "%s", sd_error_detail());
}

static void check_files(check_t *k, const sd_config_t *c)
{
	char p[PATH_MAX];
	struct stat st;
	loaded_t l = {0};

	if (stat(c->dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		check_error(k, "dir %s is not a directory (sealdropd init --dir %s creates it)", c->dir, c->dir);
		return;
	}
	if ((st.st_mode & 077) != 0) {
		fprintf(stderr,
		        _("sealdropd: check-config: warning: %s is accessible to group or others (mode %04o)\n"),
		        c->dir, (unsigned)(st.st_mode & 07777));
		k->warnings++;
	}
	check_present(k, c->dir);
	if (k->errors == 0)
		check_keys(k, c->dir, &l);
	if (l.ca != NULL)
		check_tls(k, c->dir, l.ca);
	snprintf(p, sizeof(p), "%s/%s", c->dir, SD_SERVER_DIRECTORY);
	if (stat(p, &st) != 0)
		missing_directory(k, c->dir, p);
	else if (l.ca != NULL && l.has_log)
		check_directory(k, p, &l);
	check_user(k, c);
	sd_ca_free(l.ca);
}

int sdd_cmd_check_config(int argc, char **argv)
{
	const char *path = NULL;
	sd_config_t c = {0};
	check_t k = {0};
	int status;

	if ((status = config_option(&check_cmd, argc, argv, &path, NULL)) != 0)
		return status < 0 ? sdd_help(&check_cmd) : status;
	if ((status = sdd_config_load(check_cmd.name, path, &c)) != 0)
		return status;
	k.config = path;
	check_files(&k, &c);
	sd_config_free(&c);
	if (k.errors > 0) {
		fprintf(stderr,
		        ngettext("sealdropd: check-config: %zu error\n", "sealdropd: check-config: %zu errors\n",
		                 k.errors),
		        k.errors);
		return sd_exit_code(SD_ERR_CONFIG);
	}
	fputs(k.warnings > 0 ? _("configuration ok (with warnings above)\n") : _("configuration ok\n"), stdout);
	return 0;
}
