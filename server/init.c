/*
 * init.c — `sealdropd init`: creates a server's state directory, offline, before any
 * server runs: the TLS CA, the server certificate, the log signing key, the LMDB store
 * and a configuration file with every setting written out; as root, also the system
 * user the server drops to, and ownership and modes. Then it says what to do next.
 *
 * It refuses a directory that already holds any of these files, and a failure part way
 * removes what this run created, so `init` either makes a whole server or nothing.
 * The options are checked by the configuration parser itself (server/config.c), by
 * writing them as configuration text: the same rules and messages as the file.
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sealdrop/ca.h"
#include "sealdrop/config.h"
#include "sealdrop/fileio.h"
#include "sealdrop/keys.h"
#include "sealdrop/server.h"
#include "sealdrop/servicekey.h"
#include "sealdrop/store.h"
#include "cmd.h"
#include "control_int.h"

#define OPTIONS_NAME "options" /* what configuration messages call the command line */

static const sdd_cmd_t init_cmd = {
        "init",
        N_("usage: sealdropd init --dir DIR [--hostname H]... [--listen ADDR:PORT] [--head-interval SECONDS]\n"
           "                      [--user NAME]\n"),
        N_("\nCreates a sealdrop server in DIR (made 0700 if it does not exist): the TLS certificate\n"
           "authority (ca.pem, ca.key), the server certificate (server.pem, server.key) for the\n"
           "hostnames, the log signing key (log.key, log.key.pub), the LMDB store (store/) and\n"
           "sealdropd.conf. Run as root, it also creates the system user the server runs as and\n"
           "gives it DIR. Nothing that exists is ever overwritten.\n"
           "\n"
           "  --dir DIR              the state directory (an absolute path of at most 94 bytes\n"
           "                         once resolved)\n"
           "  --hostname H           a name in the server certificate, DNS name or IP address;\n"
           "                         repeatable (default: localhost and 127.0.0.1). The first one\n"
           "                         is where certificates say the CRL is served.\n"
           "  --listen ADDR:PORT     the address to listen on (default 127.0.0.1:8443; IPv6 as\n"
           "                         [::1]:8443); added to the certificate's names if missing\n"
           "  --head-interval SECONDS  how often the audit log's signed head is published\n"
           "  --user NAME            the unprivileged user the server runs as (default sealdrop)\n"),
};

typedef struct {
	const char *dir, *listen, *head, *user;
	const char *hostnames[SD_CONFIG_MAX_HOSTNAMES];
	size_t n_hostnames;
} init_opts_t;

/* What init creates, relative to DIR, and the mode each ends with. */
static const struct {
	const char *name;
	mode_t mode;
} created_files[] = {
        {SD_CA_KEY_FILE, 0600},        {SD_CA_CERT_FILE, 0644},       {SD_SERVER_KEY_FILE, 0600},
        {SD_SERVER_CERT_FILE, 0644},   {SD_SERVER_LOGKEY_FILE, 0600}, {SD_SERVER_LOGPUB_FILE, 0644},
        {SD_SERVER_CONFIG_FILE, 0640},
};

static int init_parse(int argc, char **argv, init_opts_t *o)
{
	const sdd_opt_t opts[] = {
	        {"dir", 'd', .value = &o->dir},
	        {"hostname", 'H', .list = o->hostnames, .n = &o->n_hostnames, .max = SD_CONFIG_MAX_HOSTNAMES},
	        {"listen", 'l', .value = &o->listen},
	        {"head-interval", 'i', .value = &o->head},
	        {"user", 'u', .value = &o->user},
	        {0},
	};
	int status;

	if ((status = sdd_getopt(&init_cmd, argc, argv, opts)) != 0)
		return status;
	if (optind < argc)
		return sdd_usage_error(&init_cmd, "unexpected argument '%s'", argv[optind]);
	if (o->dir == NULL)
		return sdd_usage_error(&init_cmd, "--dir is required");
	return 0;
}

/* --- the configuration, from the options ---------------------------------------------- */

/* One `name "value"` line; control characters could start another line, so they are refused. */
static int put_setting(FILE *f, const char *name, const char *value)
{
	for (const char *p = value; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return sd_error(SD_ERR_USAGE, "the %s value has a control character", name);
	fprintf(f, "%s \"", name);
	for (const char *p = value; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fputc('\\', f);
		fputc(*p, f);
	}
	fputs("\"\n", f);
	return 0;
}

static int options_text(const init_opts_t *o, const char *abs, const char *extra_host, char **text, size_t *len)
{
	static const char *const defaults[] = {"localhost", "127.0.0.1"};
	const char *const *hosts = o->n_hostnames > 0 ? o->hostnames : defaults;
	size_t n = o->n_hostnames > 0 ? o->n_hostnames : 2;
	FILE *f = open_memstream(text, len);
	int r = 0;

	if (f == NULL)
		return sd_error(SD_ERR_NOMEM, "out of memory for the configuration");
	r = put_setting(f, "dir", abs);
	if (r == 0 && o->listen != NULL)
		r = put_setting(f, "listen", o->listen);
	if (r == 0 && o->head != NULL)
		r = put_setting(f, "head_interval", o->head);
	if (r == 0 && o->user != NULL)
		r = put_setting(f, "user", o->user);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = put_setting(f, "hostname", hosts[i]);
	if (r == 0 && extra_host != NULL)
		r = put_setting(f, "hostname", extra_host);
	if (fclose(f) != 0 && r == 0)
		r = sd_error(SD_ERR_NOMEM, "out of memory for the configuration");
	if (r < 0) {
		free(*text);
		*text = NULL;
	}
	return r;
}

/* A configuration message without the "options:N: " the parser puts first. */
static void report_option(void *ctx, const char *message)
{
	const char *m = message, *p;

	(void)ctx;
	if (strncmp(m, OPTIONS_NAME ":", sizeof(OPTIONS_NAME)) == 0 && (p = strstr(m, ": ")) != NULL)
		m = p + 2;
	fprintf(stderr, "sealdropd: init: %s\n", m);
}

static int parse_options(const init_opts_t *o, const char *abs, const char *extra_host, sd_config_t *c)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	if ((r = options_text(o, abs, extra_host, &text, &len)) < 0)
		return r;
	r = sd_config_parse(text, len, OPTIONS_NAME, c, report_option, NULL, NULL);
	free(text);
	return r; /* SD_ERR_CONFIG: report_option printed every problem */
}

static bool config_has_hostname(const sd_config_t *c, const char *name)
{
	for (size_t i = 0; i < c->n_hostnames; i++)
		if (strcmp(c->hostnames[i], name) == 0)
			return true;
	return false;
}

/* The configuration the options describe. The listen address joins the certificate's
 * names unless it is there already or is the unspecified address. */
static int init_config(const init_opts_t *o, const char *abs, sd_config_t *c)
{
	char listen[SD_CONFIG_ADDR_MAX];
	int r;

	if ((r = parse_options(o, abs, NULL, c)) < 0)
		return r;
	if (config_has_hostname(c, c->listen_addr) || strcmp(c->listen_addr, "0.0.0.0") == 0 ||
	    strcmp(c->listen_addr, "::") == 0)
		return 0;
	if (c->n_hostnames == SD_CONFIG_MAX_HOSTNAMES)
		return sd_error(SD_ERR_USAGE, "no room for the listen address among %d hostnames",
		                SD_CONFIG_MAX_HOSTNAMES);
	snprintf(listen, sizeof(listen), "%s", c->listen_addr);
	sd_config_free(c);
	return parse_options(o, abs, listen, c);
}

/* --- the directory --------------------------------------------------------------------- */

/* DIR exists (or is made, 0700) and holds none of the files init would create. */
static int prepare_dir(const char *dir, char abs[PATH_MAX], bool *created)
{
	char p[PATH_MAX];
	struct stat st;
	int r;

	*created = false;
	if (stat(dir, &st) != 0) {
		if (errno != ENOENT)
			return sd_error(SD_ERR_IO, "%s: %s", dir, strerror(errno));
		if (mkdir(dir, 0700) != 0)
			return sd_error(errno == ENOENT ? SD_ERR_NOENT : SD_ERR_IO, "cannot create %s: %s", dir,
			                strerror(errno));
		*created = true;
	} else if (!S_ISDIR(st.st_mode)) {
		return sd_error(SD_ERR_EXISTS, "%s exists and is not a directory", dir);
	}
	if (realpath(dir, abs) == NULL)
		return sd_error(SD_ERR_IO, "%s: %s", dir, strerror(errno));
	for (size_t i = 0; i <= sizeof(created_files) / sizeof(created_files[0]); i++) {
		const char *name =
		        i < sizeof(created_files) / sizeof(created_files[0]) ? created_files[i].name : SD_STORE_SUBDIR;
		if ((r = sdd_path_join(p, abs, name)) < 0)
			return r;
		if (lstat(p, &st) == 0)
			return sd_error(SD_ERR_EXISTS,
			                "%s already holds a sealdrop server (%s exists); nothing was changed", abs,
			                name);
	}
	return 0;
}

/* Removes what a failed init made: every name init creates (none existed before it ran),
 * the store's files, and DIR itself if init made it. */
static void undo(const char *abs, bool created_dir)
{
	static const char *const store_files[] = {"data.mdb", "lock.mdb", SD_STORE_LOCK_FILE};
	char p[PATH_MAX], sub[PATH_MAX];

	for (size_t i = 0; i < sizeof(created_files) / sizeof(created_files[0]); i++)
		if (sdd_path_join(p, abs, created_files[i].name) == 0)
			unlink(p);
	if (sdd_path_join(sub, abs, SD_STORE_SUBDIR) == 0) {
		for (size_t i = 0; i < sizeof(store_files) / sizeof(store_files[0]); i++)
			if (sdd_path_join(p, sub, store_files[i]) == 0)
				unlink(p);
		rmdir(sub);
	}
	if (created_dir)
		rmdir(abs);
}

/* --- what init creates ------------------------------------------------------------------ */

static int make_tls(const sd_config_t *c, char ca_name[SD_CA_NAME_BYTES])
{
	char url[SD_CA_URL_MAX], cert[PATH_MAX], key[PATH_MAX];
	sd_ca_t *ca = NULL;
	int r;

	/* The CN is for people: which server's CA this is. Hostnames are ASCII, so the cut
	 * never splits a character; a trailing dot or hyphen is harmless. */
	snprintf(ca_name, SD_CA_NAME_BYTES, "sealdrop CA for %s", c->hostnames[0]);
	if ((r = sd_control_crl_url(c, url)) < 0 || (r = sd_ca_create(c->dir, ca_name, SD_CA_ROOT_MAX_DAYS)) < 0 ||
	    (r = sd_ca_load(c->dir, &ca)) < 0)
		goto out;
	if ((r = sdd_path_join(cert, c->dir, SD_SERVER_CERT_FILE)) < 0 ||
	    (r = sdd_path_join(key, c->dir, SD_SERVER_KEY_FILE)) < 0)
		goto out;
	r = sd_ca_issue_server(ca, (const char *const *)c->hostnames, c->n_hostnames, SD_CA_LEAF_MAX_DAYS, url, cert,
	                       key, NULL);
out:
	sd_ca_free(ca);
	return r;
}

static int make_log_key(const char *dir, char id_hex[SD_KEY_ID_HEX_BYTES])
{
	char sec[PATH_MAX], pub[PATH_MAX];
	sd_seckey_t *k = NULL;
	sd_pubkey_t pk;
	int r;

	if ((r = sdd_path_join(sec, dir, SD_SERVER_LOGKEY_FILE)) < 0 ||
	    (r = sdd_path_join(pub, dir, SD_SERVER_LOGPUB_FILE)) < 0 || (r = sd_seckey_generate(SD_KEY_LOG, &k)) < 0)
		return r;
	sd_seckey_public(k, &pk);
	sd_key_id_hex(pk.id, id_hex);
	if ((r = sd_servicekey_write(sec, k)) == 0)
		r = sd_pubkey_write(pub, &pk);
	sd_seckey_free(k);
	return r;
}

static int make_store(const char *dir)
{
	sd_store_t *store = NULL;
	int r = sd_store_open(dir, NULL, &store);

	sd_store_close(store);
	return r;
}

static int make_config(const sd_config_t *c)
{
	char path[PATH_MAX], *text = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	if ((r = sdd_path_join(path, c->dir, SD_SERVER_CONFIG_FILE)) < 0)
		return r;
	if ((f = open_memstream(&text, &len)) == NULL)
		return sd_error(SD_ERR_NOMEM, "out of memory for the configuration");
	r = sd_config_write(f, c);
	if (fclose(f) != 0 && r == 0)
		r = sd_error(SD_ERR_NOMEM, "out of memory for the configuration");
	if (r == 0)
		r = sd_file_write(path, text, len, 0640, SD_AFILE_NOCLOBBER);
	free(text);
	return r;
}

/* --- ownership and modes ------------------------------------------------------------------ */

static uid_t owner_uid;
static gid_t owner_gid;

static int chown_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return lchown(path, owner_uid, owner_gid) == 0 ? 0 : -1;
}

/* useradd --system, as the Debian packages of daemons do; its messages go to stderr. */
static int create_user(const char *user)
{
	char name[SD_CONFIG_USER_MAX + 1];
	char *const argv[] = {"useradd",           "--system",     "--no-create-home",
	                      "--home-dir",        "/nonexistent", "--shell",
	                      "/usr/sbin/nologin", name,           NULL};
	int status = 0;
	pid_t pid;

	snprintf(name, sizeof(name), "%s", user);
	fflush(stdout);
	pid = fork();

	if (pid < 0)
		return sd_error(SD_ERR_IO, "fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execv("/usr/sbin/useradd", argv);
		execvp("useradd", argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return sd_error(SD_ERR_IO, "waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return sd_error(SD_ERR_IO, "useradd could not create the system user '%s' (status %d)", user,
		                WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	printf(_("created the system user '%s'\n"), user);
	return 0;
}

/* As root: the server's user (created if needed) owns DIR and everything in it. */
static int give_to_user(const sd_config_t *c)
{
	struct passwd *pw = getpwnam(c->user);
	int r;

	if (pw == NULL) {
		if ((r = create_user(c->user)) < 0)
			return r;
		if ((pw = getpwnam(c->user)) == NULL)
			return sd_error(SD_ERR_IO, "the user '%s' does not exist after useradd", c->user);
	}
	if (pw->pw_uid == 0)
		return sd_error(SD_ERR_REFUSED, "the user '%s' is root; the server must run unprivileged", c->user);
	owner_uid = pw->pw_uid;
	owner_gid = pw->pw_gid;
	if (nftw(c->dir, chown_entry, 16, FTW_PHYS) != 0)
		return sd_error(SD_ERR_IO, "cannot give %s to '%s': %s", c->dir, c->user, strerror(errno));
	return 0;
}

/* The modes every file ends with, whatever the umask was. */
static int set_modes(const char *dir)
{
	char p[PATH_MAX], sub[PATH_MAX];
	static const char *const store_files[] = {"data.mdb", "lock.mdb", SD_STORE_LOCK_FILE};
	int r;

	if (chmod(dir, 0700) != 0)
		return sd_error(SD_ERR_IO, "chmod %s: %s", dir, strerror(errno));
	for (size_t i = 0; i < sizeof(created_files) / sizeof(created_files[0]); i++) {
		if ((r = sdd_path_join(p, dir, created_files[i].name)) < 0)
			return r;
		if (chmod(p, created_files[i].mode) != 0)
			return sd_error(SD_ERR_IO, "chmod %s: %s", p, strerror(errno));
	}
	if ((r = sdd_path_join(sub, dir, SD_STORE_SUBDIR)) < 0)
		return r;
	if (chmod(sub, 0700) != 0)
		return sd_error(SD_ERR_IO, "chmod %s: %s", sub, strerror(errno));
	for (size_t i = 0; i < sizeof(store_files) / sizeof(store_files[0]); i++)
		if (sdd_path_join(p, sub, store_files[i]) == 0 && chmod(p, 0600) != 0 && errno != ENOENT)
			return sd_error(SD_ERR_IO, "chmod %s: %s", p, strerror(errno));
	return 0;
}

/* --- the command ---------------------------------------------------------------------------- */

static void print_summary(const sd_config_t *c, const char *ca_name, const char *log_id)
{
	printf(_("sealdropd: created a server in %s\n"), c->dir);
	printf(_("  ca.pem, ca.key           the TLS certificate authority '%s' (ECDSA P-256, %d days)\n"), ca_name,
	       SD_CA_ROOT_MAX_DAYS);
	printf(_("  server.pem, server.key   the server certificate (%d days) for"), SD_CA_LEAF_MAX_DAYS);
	for (size_t i = 0; i < c->n_hostnames; i++)
		printf("%s %s", i > 0 ? "," : "", c->hostnames[i]);
	printf(_("\n  log.key, log.key.pub     the log signing key (Ed25519), key id %s\n"), log_id);
	fputs(_("  store/                   the LMDB store\n"), stdout);
	printf(_("  sealdropd.conf           the configuration: listen %s%s%s:%u, user %s\n"),
	       c->listen_family == AF_INET6 ? "[" : "", c->listen_addr, c->listen_family == AF_INET6 ? "]" : "",
	       (unsigned)c->listen_port, c->user);
	printf(_("\nNext steps:\n"
	         "  1. The root key holder signs a directory that lists this server's log key and CA:\n"
	         "       sealdrop directory create --deployment NAME --intake intake.key.pub \\\n"
	         "           --identity identity.key.pub --log %s/%s --tls-ca %s/%s \\\n"
	         "           --root root.key --out %s/%s\n"
	         "  2. Start the server (as root: it binds, chroots into %s and runs as %s):\n"
	         "       sealdropd run --config %s/%s\n"
	         "  3. While it runs, enroll the people who use it:\n"
	         "       sealdropd enroll --dir %s --role attorney --name \"NAME\" --out DIR\n"),
	       c->dir, SD_SERVER_LOGPUB_FILE, c->dir, SD_CA_CERT_FILE, c->dir, SD_SERVER_DIRECTORY, c->dir, c->user,
	       c->dir, SD_SERVER_CONFIG_FILE, c->dir);
}

static int init_create(const sd_config_t *c)
{
	char ca_name[SD_CA_NAME_BYTES], log_id[SD_KEY_ID_HEX_BYTES];
	int r;

	if ((r = make_tls(c, ca_name)) < 0 || (r = make_log_key(c->dir, log_id)) < 0 || (r = make_store(c->dir)) < 0 ||
	    (r = make_config(c)) < 0 || (r = set_modes(c->dir)) < 0)
		return r;
	if (geteuid() == 0 && (r = give_to_user(c)) < 0)
		return r;
	print_summary(c, ca_name, log_id);
	return 0;
}

int sdd_cmd_init(int argc, char **argv)
{
	init_opts_t o = {0};
	sd_config_t c = {0};
	char abs[PATH_MAX];
	bool created = false;
	int r, status;

	if ((status = init_parse(argc, argv, &o)) != 0)
		return status < 0 ? sdd_help(&init_cmd) : status;
	if ((r = prepare_dir(o.dir, abs, &created)) < 0) {
		if (created)
			rmdir(o.dir);
		return sdd_fail(init_cmd.name, r);
	}
	if ((r = init_config(&o, abs, &c)) < 0) {
		/* bad options: the parser already printed each problem */
		status = r == SD_ERR_CONFIG ? SDD_EX_USAGE : sdd_fail(init_cmd.name, r);
		if (created)
			rmdir(abs);
		return status;
	}
	if ((r = init_create(&c)) < 0) {
		status = sdd_fail(init_cmd.name, r);
		undo(abs, created);
	}
	sd_config_free(&c);
	return r < 0 ? status : 0;
}
