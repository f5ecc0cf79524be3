/*
 * server_start.c — building a running sealdropd from its configuration, in the order
 * a privilege drop requires (called by sd_server_new in server.c):
 *
 *   1. sd_server_load_files   as root: the log key, handed at once to the key process
 *                             (server/keyproc.c), which alone keeps it; then the store
 *                             process (server/storeproc.c), which alone opens LMDB, forked
 *                             before any other secret is read; then the CA, the TLS
 *                             certificate and key, and the signed directory (checked to
 *                             list our log key and CA);
 *   2. sd_server_bind         the TCP listener and the control socket;
 *   3. sd_server_drop_privileges  chroot into the dir and become the configured user;
 *   4. sd_server_open_store   as that user, through the store process: the pinned root key,
 *                             the accounts, and the listing's summaries of cases filed
 *                             before they existed.
 *
 * Every failure is one sentence saying what is wrong and how to fix it.
 */
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "server_int.h"
#include "sealdrop/bytes.h"
#include "sealdrop/caserec.h"
#include "sealdrop/fileio.h"
#include "sealdrop/keyproc.h"
#include "sealdrop/log.h"
#include "sealdrop/retention.h"
#include "sealdrop/sandbox.h"
#include "sealdrop/sealdrop.h"
#include "sealdrop/servicekey.h"
#include "sealdrop/storeproc.h"

#define LISTEN_BACKLOG 1024
#define INDEX_BATCH    1000 /* records one start-up request summarises */

static int path_join(const char *root, const char *name, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/%s", root, name);

	if (n < 0 || (size_t)n >= cap)
		return sd_error(SD_ERR_TOOBIG, "path %s/%s is too long", root, name);
	return 0;
}

int sd_server_path(const sd_server_t *s, const char *name, char *out, size_t cap)
{
	return path_join(s->root, name, out, cap);
}

/* --- 1. Files ------------------------------------------------------------------------------ */

static int load_tls(sd_server_t *s)
{
	char cert[SD_CONFIG_DIR_MAX + 64], key[SD_CONFIG_DIR_MAX + 64];
	const char *pem;
	int r;

	if ((r = sd_ca_load(s->root, &s->ca)) < 0)
		return sd_error(r, "cannot load the CA from %s: %s", s->root, sd_error_detail());
	pem = sd_ca_cert_pem(s->ca);
	if ((r = sd_ca_cert_from_pem(pem, strlen(pem), &s->ca_der, &s->ca_der_len)) < 0)
		return r;
	if ((r = sd_server_path(s, SD_SERVER_CERT_FILE, cert, sizeof(cert))) < 0 ||
	    (r = sd_server_path(s, SD_SERVER_KEY_FILE, key, sizeof(key))) < 0)
		return r;
	if ((r = sd_tls_server_new(cert, key, pem, &s->tls)) < 0)
		return sd_error(r, "cannot set up TLS with %s and %s: %s", cert, key, sd_error_detail());
	return 0;
}

/* The user the server runs as: *drop false when it does not change users (not started
 * as root, or a sanitizer build, whose leak checker needs /proc). */
static int server_user(const sd_server_t *s, bool *drop, uid_t *uid, gid_t *gid)
{
	const char *user = s->config->user;
	struct passwd *pw;

	*drop = false;
#if defined(__SANITIZE_ADDRESS__)
	(void)pw;
	(void)user;
	(void)uid;
	(void)gid;
	return 0;
#endif
	if (geteuid() != 0)
		return 0;
	if ((pw = getpwnam(user)) == NULL)
		return sd_error(SD_ERR_CONFIG, "user '%s' does not exist: sealdropd init creates it, or set 'user'",
		                user);
	if (pw->pw_uid == 0)
		return sd_error(SD_ERR_CONFIG, "user '%s' is root: sealdropd does not run as root", user);
	*drop = true;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

/* The log key goes to the key process before any other secret is read, so that process
 * never holds one; this one keeps the public half. */
static int load_log_key(sd_server_t *s)
{
	char path[SD_CONFIG_DIR_MAX + 64];
	sd_keyproc_opts_t o = {.dir = s->root};
	int r;

	if ((r = sd_server_path(s, SD_SERVER_LOGKEY_FILE, path, sizeof(path))) < 0)
		return r;
	if ((r = server_user(s, &o.drop, &o.uid, &o.gid)) < 0)
		return r;
	if ((r = sd_servicekey_read(path, SD_KEY_LOG, &s->log_key)) < 0)
		return sd_error(r, "cannot load the log signing key %s: %s", path, sd_error_detail());
	sd_seckey_public(s->log_key, &s->log_pub);
	return sd_keyproc_start(&s->log_key, &o, &s->keyproc);
}

static int missing_directory(const sd_server_t *s, const char *path)
{
	return sd_error(SD_ERR_CONFIG,
	                "no signed directory at %s: sign one that lists this server's keys with\n"
	                "  sealdrop directory create --deployment ID --intake INTAKE.pub --identity IDENTITY.pub \\\n"
	                "      --log %s/%s --tls-ca %s/%s --root ROOT.key --out %s",
	                path, s->root, SD_SERVER_LOGPUB_FILE, s->root, SD_CA_CERT_FILE, path);
}

static int load_directory(sd_server_t *s)
{
	char path[SD_CONFIG_DIR_MAX + 64];
	sd_directory_t *d = NULL;
	uint8_t *json = NULL;
	size_t len = 0;
	int r;

	if ((r = sd_server_path(s, SD_SERVER_DIRECTORY, path, sizeof(path))) < 0)
		return r;
	if ((r = sd_file_read(path, SD_DIRECTORY_MAX_BYTES, &json, &len)) == SD_ERR_NOENT)
		return missing_directory(s, path);
	if (r < 0)
		return sd_error(r, "cannot read %s: %s", path, sd_error_detail());
	if ((r = sd_directory_signer(json, len, &s->root_key)) < 0 ||
	    (r = sd_directory_parse(json, len, &s->root_key, sd_server_today(s), &d)) < 0 ||
	    (r = sd_server_check_directory(s, d, json, len)) < 0) {
		r = sd_error(r == SD_ERR_VERIFY || r == SD_ERR_EXPIRED ? r : SD_ERR_CONFIG, "%s: %s", path,
		             sd_error_detail());
		sd_directory_free(d);
		free(json);
		return r;
	}
	s->directory = d;
	s->directory_json = json;
	s->directory_len = len;
	return 0;
}

/* The store process, after the key process (so it never held the log key) and before the
 * TLS and CA keys are read (so it never holds them): it opens LMDB as the server's user,
 * chrooted; this process keeps only a socket to it. */
static int start_store(sd_server_t *s)
{
	sd_storeproc_opts_t o = {.dir = s->root, .store = {.max_bytes = s->config->store_max_bytes}};
	int r;

	if ((r = server_user(s, &o.drop, &o.uid, &o.gid)) < 0)
		return r;
	if (o.drop && ((r = sd_server_check_owner(s->root, o.uid, s->config->user)) < 0 ||
	               (r = sd_server_check_modes(s->root)) < 0))
		return r;
	sd_retention_set_days(s->config->retention_days); /* inherited by the store process */
	if ((r = sd_storeproc_start(&o, &s->storeproc, &s->store)) < 0)
		return sd_error(r, "cannot open the store in %s/%s: %s", s->config->dir, SD_STORE_SUBDIR,
		                sd_error_detail());
	return 0;
}

int sd_server_load_files(sd_server_t *s)
{
	int r;

	if ((r = load_log_key(s)) < 0 || (r = start_store(s)) < 0 || (r = load_tls(s)) < 0 ||
	    (r = load_directory(s)) < 0)
		return r;
	return 0;
}

/* --- 2. Sockets ------------------------------------------------------------------------------ */

static int listen_socket(const sd_config_t *c, int *out)
{
	struct sockaddr_storage ss = {0};
	socklen_t sl;
	int fd, one = 1;

	if (c->listen_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(c->listen_port);
		inet_pton(AF_INET6, c->listen_addr, &a->sin6_addr);
		sl = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(c->listen_port);
		inet_pton(AF_INET, c->listen_addr, &a->sin_addr);
		sl = sizeof(*a);
	}
	if ((fd = socket(c->listen_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		return sd_error(SD_ERR_IO, "socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		int e = errno;
		close(fd);
		return sd_error(SD_ERR_IO, "cannot listen on %s:%u: %s", c->listen_addr, c->listen_port, strerror(e));
	}
	*out = fd;
	return 0;
}

int sd_server_bind(sd_server_t *s)
{
	int r;

	if ((r = listen_socket(s->config, &s->listen_fd)) < 0)
		return r;
	if ((r = sd_control_bind(s->root, &s->control_fd)) < 0)
		return r;
	return 0;
}

/* --- 3. Privileges ------------------------------------------------------------------------------- */

/* The store is the server's alone and nobody else may write to its directory (the key
 * files' modes are checked as they are loaded, server/servicekey.c and server/ca.c): a
 * mode that lets others in is a misconfiguration the server refuses to run with. */
int sd_server_check_modes(const char *root)
{
	char path[SD_CONFIG_DIR_MAX + 64];
	struct stat st;
	int r;

	if ((r = path_join(root, SD_STORE_SUBDIR, path, sizeof(path))) < 0)
		return r;
	if (stat(path, &st) == 0 && (st.st_mode & 077) != 0)
		return sd_error(SD_ERR_CONFIG, "%s is mode %03o: the store must be the server's alone (chmod 700 %s)",
		                path, (unsigned)(st.st_mode & 0777), path);
	if (stat(root, &st) == 0 && (st.st_mode & 022) != 0)
		return sd_error(SD_ERR_CONFIG, "%s is mode %03o: others may write to it (chmod 700 %s)", root,
		                (unsigned)(st.st_mode & 0777), root);
	return 0;
}

/* The store must belong to the user the server becomes, or LMDB cannot write it. */
int sd_server_check_owner(const char *root, uid_t uid, const char *user)
{
	char path[SD_CONFIG_DIR_MAX + 64];
	struct stat st;
	int r;

	if ((r = path_join(root, SD_STORE_SUBDIR, path, sizeof(path))) < 0)
		return r;
	if (stat(path, &st) == 0 && st.st_uid != uid)
		return sd_error(SD_ERR_CONFIG, "%s belongs to uid %u, not to user %s: chown -R %s %s", path,
		                (unsigned)st.st_uid, user, user, root);
	if (stat(root, &st) == 0 && st.st_uid != uid)
		return sd_error(SD_ERR_CONFIG, "%s belongs to uid %u, not to user %s: chown -R %s %s", root,
		                (unsigned)st.st_uid, user, user, root);
	return 0;
}

int sd_server_drop_privileges(sd_server_t *s)
{
	const char *user = s->config->user;
	bool drop;
	uid_t uid = 0;
	gid_t gid = 0;
	int r;

	if ((r = server_user(s, &drop, &uid, &gid)) < 0)
		return r;
	if (!drop) {
#if defined(__SANITIZE_ADDRESS__)
		/* A sanitizer build is a test build: LeakSanitizer needs /proc, which a chroot hides. */
		sd_log(SD_LOG_WARN, "sanitizer build: no chroot and no privilege drop");
#else
		sd_log(SD_LOG_WARN, "not started as root: running as uid %u, without chroot or user '%s'",
		       (unsigned)geteuid(), user);
#endif
		return 0;
	}
	if ((r = sd_sandbox_become(s->root, uid, gid)) < 0)
		return sd_error(r, "cannot become user %s: %s", user, sd_error_detail());
	sd_log_chroot(s->root);
	s->root[0] = '\0';
	sd_log(SD_LOG_INFO, "running as %s, chrooted into %s", user, s->config->dir);
	return 0;
}

/* --- 4. The store ------------------------------------------------------------------------------------ */

/* The first directory's signer is pinned; every later start and install must match it. */
static int pin_root(sd_server_t *s)
{
	static const uint8_t key[] = "root_key";
	char have[SD_KEY_ID_HEX_BYTES], want[SD_KEY_ID_HEX_BYTES];
	sd_store_req_t *req = sd_store_req_new();
	const uint8_t *val;
	sd_pubkey_t pinned;
	size_t len;
	int r;

	if (req == NULL)
		return SD_ERR_NOMEM;
	(void)sd_store_req_put(req, SD_STORE_DB_META, key, sizeof(key) - 1, s->root_key.pk, SD_KEY_PUBLIC_BYTES,
	                       SD_STORE_NOOVERWRITE);
	r = sd_store_call(s->store, req);
	sd_key_id_hex(s->root_key.id, have);
	if (r == 0) {
		sd_log(SD_LOG_INFO, "pinned root key %s, the signer of the first directory (trust on first use)", have);
	} else if (r == SD_ERR_EXISTS && sd_store_req_value(req, 0, &val, &len) == 0 && len == SD_KEY_PUBLIC_BYTES) {
		pinned.kind = SD_KEY_ROOT;
		memcpy(pinned.pk, val, SD_KEY_PUBLIC_BYTES);
		sd_key_id(SD_KEY_ROOT, pinned.pk, pinned.id);
		sd_key_id_hex(pinned.id, want);
		r = sd_equal(pinned.pk, s->root_key.pk, SD_KEY_PUBLIC_BYTES)
		            ? 0
		            : sd_error(SD_ERR_CONFIG,
		                       "%s is signed by root key %s, but this server pinned root key %s at its first "
		                       "start",
		                       SD_SERVER_DIRECTORY, have, want);
	} else if (r == 0 || r == SD_ERR_EXISTS) {
		r = sd_error(SD_ERR_INTERNAL, "the store's pinned root key is damaged");
	}
	sd_store_req_free(req);
	return r;
}

/* The last key of SCAN op 0 into after (to page on); false when it returned none. */
static bool scan_last_key(const sd_store_req_t *req, uint8_t after[SD_STORE_KEY_MAX], size_t *after_len)
{
	const uint8_t *k, *v;
	size_t klen, vlen, n = sd_store_req_scan_count(req, 0, NULL);

	if (n == 0 || sd_store_req_scan_entry(req, 0, n - 1, &k, &klen, &v, &vlen) < 0 || klen > SD_STORE_KEY_MAX)
		return false;
	memcpy(after, k, klen);
	*after_len = klen;
	return true;
}

/* The number of keys in db. */
static int store_count(sd_store_t *store, sd_store_db_t db, size_t *count)
{
	sd_store_req_t *req = sd_store_req_new();
	uint8_t after[SD_STORE_KEY_MAX];
	size_t after_len = 0;
	bool more = true;
	int r = 0;

	*count = 0;
	if (req == NULL)
		return SD_ERR_NOMEM;
	while (more && r == 0) {
		sd_store_req_reset(req);
		sd_store_req_scan_keys(req, db, NULL, 0, after_len ? after : NULL, after_len, SD_STORE_SCAN_MAX);
		if ((r = sd_store_call(store, req)) == 0) {
			*count += sd_store_req_scan_count(req, 0, &more);
			more = more && scan_last_key(req, after, &after_len);
		}
	}
	sd_store_req_free(req);
	return r;
}

/* One batch of records into one request writing their summaries and index entries. */
static int index_batch(sd_server_t *s, sd_store_req_t *scan, sd_store_req_t *write, sd_case_rec_t *rec, size_t *done)
{
	const uint8_t *k, *v;
	size_t klen, vlen, added = 0, n = sd_store_req_scan_count(scan, 0, NULL);

	sd_store_req_reset(write);
	for (size_t i = 0; i < n; i++) {
		if (sd_store_req_scan_entry(scan, 0, i, &k, &klen, &v, &vlen) < 0)
			return SD_ERR_INTERNAL;
		if (sd_case_rec_decode(v, vlen, s->config, rec) < 0) {
			sd_log(SD_LOG_ERROR, "case %.*s: its record does not decode, so it is not listed: %s",
			       (int)(klen < SD_CASE_NUMBER_LEN ? klen : SD_CASE_NUMBER_LEN), (const char *)k,
			       sd_error_detail());
			continue;
		}
		if (sd_case_index_req(write, NULL, rec) < 0)
			return SD_ERR_INTERNAL;
		added++;
	}
	*done += added;
	return added > 0 ? sd_store_call(s->store, write) : 0;
}

/* Every case's summary and index entries, from the records, INDEX_BATCH at a time. */
static int index_build(sd_server_t *s, size_t *done)
{
	sd_store_req_t *scan = sd_store_req_new(), *write = sd_store_req_new();
	sd_case_rec_t *rec = malloc(sizeof(*rec));
	uint8_t after[SD_STORE_KEY_MAX];
	size_t after_len = 0;
	bool more = true;
	int r = SD_ERR_NOMEM;

	*done = 0;
	if (scan == NULL || write == NULL || rec == NULL)
		goto out;
	r = 0;
	while (more && r == 0) {
		sd_store_req_reset(scan);
		sd_store_req_scan(scan, SD_STORE_DB_CASES, NULL, 0, after_len ? after : NULL, after_len, INDEX_BATCH);
		if ((r = sd_store_call(s->store, scan)) < 0)
			break;
		(void)sd_store_req_scan_count(scan, 0, &more);
		r = index_batch(s, scan, write, rec, done);
		more = more && scan_last_key(scan, after, &after_len);
	}
out:
	sd_store_req_free(scan);
	sd_store_req_free(write);
	free(rec);
	return r;
}

/* Stores written before the listing read summaries (or by a version that did not write
 * them for every case) get them now: a missing version flag, or fewer summaries than
 * records. */
static int index_check(sd_server_t *s)
{
	sd_store_req_t *req = sd_store_req_new();
	const uint8_t *v;
	size_t cases = 0, sums = 0, vlen, done = 0;
	bool flagged = false;
	int r;

	if (req == NULL)
		return SD_ERR_NOMEM;
	sd_store_req_get(req, SD_STORE_DB_META, (const uint8_t *)SD_CASE_INDEX_VERSION_KEY,
	                 strlen(SD_CASE_INDEX_VERSION_KEY));
	if ((r = sd_store_call(s->store, req)) < 0 || (r = store_count(s->store, SD_STORE_DB_CASES, &cases)) < 0 ||
	    (r = store_count(s->store, SD_STORE_DB_CASE_SUMMARIES, &sums)) < 0)
		goto out;
	flagged = sd_store_req_value(req, 0, &v, &vlen) == 0 && vlen == strlen(SD_CASE_INDEX_VERSION) &&
	          sd_equal(v, SD_CASE_INDEX_VERSION, vlen);
	if (flagged && sums >= cases)
		goto out;
	sd_log(SD_LOG_INFO, "building the case listing's summaries and indexes: %zu cases, %zu summaries", cases, sums);
	if ((r = index_build(s, &done)) < 0)
		goto out;
	sd_store_req_reset(req);
	sd_store_req_put(req, SD_STORE_DB_META, (const uint8_t *)SD_CASE_INDEX_VERSION_KEY,
	                 strlen(SD_CASE_INDEX_VERSION_KEY), (const uint8_t *)SD_CASE_INDEX_VERSION,
	                 strlen(SD_CASE_INDEX_VERSION), 0);
	if ((r = sd_store_call(s->store, req)) == 0)
		sd_log(SD_LOG_INFO, "the case listing's summaries and indexes are built: %zu cases", done);
out:
	sd_store_req_free(req);
	return r;
}

int sd_server_req_directory_version(sd_store_req_t *req, uint32_t version)
{
	static const char key[] = SD_STORE_DIRECTORY_VERSION_KEY;
	uint8_t v[4];

	sd_store_le32(v, version);
	return sd_store_req_put(req, SD_STORE_DB_META, (const uint8_t *)key, sizeof(key) - 1, v, sizeof(v), 0);
}

/* A directory never goes back: the highest version served is kept in the store (raised
 * here, and by each `directory install` in the same write as its log entry), and a
 * directory.json below it, a copy of an older one put back, is refused. */
static int pin_directory_version(sd_server_t *s)
{
	static const char key[] = SD_STORE_DIRECTORY_VERSION_KEY;
	uint32_t served = s->directory->version, kept = 0;
	sd_store_req_t *req = sd_store_req_new();
	const uint8_t *val;
	size_t len;
	int r;

	if (req == NULL)
		return SD_ERR_NOMEM;
	if ((r = sd_store_req_get(req, SD_STORE_DB_META, (const uint8_t *)key, sizeof(key) - 1)) == 0 &&
	    (r = sd_store_call(s->store, req)) == 0 && sd_store_req_value(req, 0, &val, &len) == 0) {
		if (len == sizeof(uint32_t))
			kept = sd_load_le32(val);
		else
			r = sd_error(SD_ERR_INTERNAL, "the store's directory version is damaged");
	}
	if (r == 0 && kept > served)
		r = sd_error(SD_ERR_ROLLBACK,
		             "%s is version %u, but this server has served version %u: a directory never goes back; "
		             "put the newest one back, or install a newer one",
		             SD_SERVER_DIRECTORY, served, kept);
	if (r == 0 && kept < served) {
		sd_store_req_reset(req);
		if ((r = sd_server_req_directory_version(req, served)) == 0)
			r = sd_store_call(s->store, req);
	}
	sd_store_req_free(req);
	return r;
}

int sd_server_open_store(sd_server_t *s)
{
	int r;

	if (s->store == NULL)
		return sd_error(SD_ERR_INTERNAL, "the store process did not start");
	if ((r = pin_root(s)) < 0 || (r = pin_directory_version(s)) < 0)
		return r;
	if ((r = sd_accounts_load(s->store, &s->accounts)) < 0)
		return sd_error(r, "cannot load the accounts: %s", sd_error_detail());
	if ((r = index_check(s)) < 0)
		return sd_error(r, "cannot build the case listing's summaries: %s", sd_error_detail());
	return 0;
}
