/*
 * logkey.c — the log key's rotation as a logged event (server/logkey.h; docs/FORMAT.md,
 * "Directory" for keys.log_retired and "Audit log" for the log-key-rotated leaf).
 *
 * Start at sd_logkey_rotate(). It runs offline, on a stopped server's DIR, and does in
 * order, each step skipped when an earlier (crashed) run already did it:
 *   A. one store write: the leaves `log-key-rotated` ("OLDID:NEWID") and
 *      `directory-installed` (the new directory's digest and version);
 *   B. the handover head over both leaves, signed by the OLD key: stored as the current
 *      head and kept in the head history (log_heads) for good;
 *   C. DIR/directory.json := the new directory;
 *   E. the current head := the same tree head signed by the NEW key, so the server (which
 *      verifies its stored head with its own key at start) and every client get a head
 *      signed by the key the directory now names;
 *   D. log.key.next renamed over log.key, log.key.pub rewritten, the old key's file
 *      overwritten with zeros through a descriptor kept open across the rename.
 * Until C the old server starts as before; from C to D it refuses to start (the directory
 * names another log key than log.key) and `log-key rotate` with the same file finishes the
 * job; after D the rotated server starts.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sealdrop/audit.h"
#include "sealdrop/auditlog.h"
#include "sealdrop/bytes.h"
#include "sealdrop/directory.h"
#include "sealdrop/fileio.h"
#include "sealdrop/hash.h"
#include "sealdrop/loghead.h"
#include "sealdrop/sealdrop.h"
#include "sealdrop/server.h"
#include "sealdrop/servicekey.h"
#include "sealdrop/store.h"
#include "logkey.h"

struct rot {
	const char *dir, *file;
	char key_path[PATH_MAX], next_path[PATH_MAX], pub_path[PATH_MAX], dir_path[PATH_MAX];
	sd_seckey_t *old;  /* log.key; NULL when it already is the new key (step D done) */
	sd_seckey_t *next; /* the new key: log.key.next, or log.key after step D */
	sd_pubkey_t old_pub, next_pub;
	uint8_t *cur_json, *new_json;
	size_t cur_len, new_len;
	sd_directory_t *cur, *nd;
	sd_store_t *store;
	uint64_t size;
	sd_logkey_rotation_t *out;
};

static int path_in(char out[PATH_MAX], const char *dir, const char *name)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);

	if (n < 0 || n >= PATH_MAX)
		return sd_error(SD_ERR_USAGE, "%s/%s: path too long", dir, name);
	return 0;
}

/* path gets the owner of like (the user the server runs as), when we may give it. */
static int own_like(const char *path, const char *like)
{
	struct stat st;

	if (stat(like, &st) != 0 || lchown(path, st.st_uid, st.st_gid) == 0 || errno == EPERM)
		return 0;
	return sd_error(SD_ERR_IO, "cannot give %s the owner of %s: %s", path, like, strerror(errno));
}

/* --- log-key new --------------------------------------------------------------------------- */

int sd_logkey_new(const char *dir, const char *pub_path, sd_pubkey_t *out)
{
	char key[PATH_MAX], next[PATH_MAX], pub[PATH_MAX];
	sd_seckey_t *k = NULL;
	int r;

	if ((r = path_in(key, dir, SD_SERVER_LOGKEY_FILE)) < 0 || (r = path_in(next, dir, SD_LOGKEY_NEXT_FILE)) < 0 ||
	    (r = path_in(pub, dir, SD_LOGKEY_NEXT_PUB_FILE)) < 0)
		return r;
	if (access(key, F_OK) != 0)
		return sd_error(SD_ERR_NOENT, "%s: no log key: is %s a server directory?", key, dir);
	if (access(next, F_OK) == 0)
		return sd_error(SD_ERR_EXISTS,
		                "%s exists: a rotation is under way (finish it with 'sealdropd log-key rotate', or "
		                "remove the file to start over)",
		                next);
	if ((r = sd_seckey_generate(SD_KEY_LOG, &k)) < 0)
		return r;
	sd_seckey_public(k, out);
	if ((r = sd_servicekey_write(next, k)) == 0 &&
	    ((r = own_like(next, key)) < 0 || (r = sd_pubkey_write(pub_path != NULL ? pub_path : pub, out)) < 0))
		unlink(next); /* no half-made rotation: without its public key nobody can sign for it */
	sd_seckey_free(k);
	return r;
}

/* --- log-key rotate: what is there --------------------------------------------------------- */

/* No server holds DIR's store (the flock sd_store_open takes, which would wait for it). */
static int check_stopped(const char *dir)
{
	char path[PATH_MAX];
	int fd, r = 0;

	if (snprintf(path, sizeof(path), "%s/%s/sealdropd.lock", dir, SD_STORE_SUBDIR) >= (int)sizeof(path))
		return sd_error(SD_ERR_USAGE, "%s: path too long", dir);
	if ((fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return sd_error(errno == ENOENT ? SD_ERR_NOENT : SD_ERR_IO, "%s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) != 0)
		r = sd_error(SD_ERR_REFUSED, "a server is running on %s (its store is locked): stop it first", dir);
	close(fd);
	return r;
}

/* log.key and log.key.next; without log.key.next, log.key is taken as the new key
 * (a run that crashed after step D), which check_fit() then holds to the directory. */
static int load_keys(struct rot *rt)
{
	sd_seckey_t *k = NULL;
	int r;

	if ((r = sd_servicekey_read(rt->key_path, SD_KEY_LOG, &k)) < 0)
		return r;
	r = sd_servicekey_read(rt->next_path, SD_KEY_LOG, &rt->next);
	if (r == SD_ERR_NOENT) {
		rt->next = k;
		r = 0;
	} else {
		rt->old = k;
		if (r == 0)
			sd_seckey_public(rt->old, &rt->old_pub);
	}
	if (r == 0)
		sd_seckey_public(rt->next, &rt->next_pub);
	return r;
}

/* The installed directory (its signer is the pinned root) and the new one, against it. */
static int load_dirs(struct rot *rt)
{
	sd_date_t today = sd_date_today();
	char why[512];
	sd_pubkey_t root;
	int r;

	if ((r = sd_file_read(rt->dir_path, SD_DIRECTORY_MAX_BYTES, &rt->cur_json, &rt->cur_len)) < 0 ||
	    (r = sd_file_read(rt->file, SD_DIRECTORY_MAX_BYTES, &rt->new_json, &rt->new_len)) < 0)
		return r;
	if ((r = sd_directory_signer(rt->cur_json, rt->cur_len, &root)) < 0 ||
	    (r = sd_directory_parse(rt->cur_json, rt->cur_len, &root, today, &rt->cur)) < 0) {
		snprintf(why, sizeof(why), "%s", sd_error_detail());
		return sd_error(r, "%s: %s", rt->dir_path, why);
	}
	if ((r = sd_directory_parse(rt->new_json, rt->new_len, &root, today, &rt->nd)) < 0) {
		snprintf(why, sizeof(why), "%s", sd_error_detail());
		return sd_error(r, "%s: %s", rt->file, why);
	}
	return 0;
}

static bool lists_retired(const sd_directory_t *d, const sd_pubkey_t *k)
{
	for (size_t i = 0; i < d->n_log_retired; i++)
		if (sd_equal(d->log_retired[i].pk, k->pk, SD_KEY_PUBLIC_BYTES))
			return true;
	return false;
}

static bool is_installed(const struct rot *rt)
{
	return rt->cur_len == rt->new_len && sd_equal(rt->cur_json, rt->new_json, rt->new_len);
}

/* The new directory against the keys and the installed one. Nothing is written before. */
static int check_fit(const struct rot *rt)
{
	const sd_directory_t *c = rt->cur, *n = rt->nd;
	char want[SD_KEY_ID_HEX_BYTES];

	sd_key_id_hex(rt->next_pub.id, want);
	if (strcmp(c->deployment, n->deployment) != 0)
		return sd_error(SD_ERR_DEPLOYMENT, "%s is for deployment '%s', this server serves '%s'", rt->file,
		                n->deployment, c->deployment);
	if (!n->has_log || !sd_equal(n->log.pk, rt->next_pub.pk, SD_KEY_PUBLIC_BYTES))
		return sd_error(SD_ERR_INVALID, "%s does not name the next log key (%s, id %s) as keys.log%s", rt->file,
		                rt->old != NULL ? SD_LOGKEY_NEXT_FILE : SD_SERVER_LOGKEY_FILE, want,
		                rt->old != NULL ? "" : "; run 'sealdropd log-key new' first");
	if (rt->old != NULL && !lists_retired(n, &rt->old_pub)) {
		sd_key_id_hex(rt->old_pub.id, want);
		return sd_error(SD_ERR_INVALID, "%s does not list the current log key (id %s) under keys.log_retired",
		                rt->file, want);
	}
	if (c->tls_ca_pem == NULL || n->tls_ca_pem == NULL || strcmp(c->tls_ca_pem, n->tls_ca_pem) != 0)
		return sd_error(SD_ERR_INVALID, "%s lists another TLS CA than the installed directory", rt->file);
	if (is_installed(rt))
		return 0; /* step C done by an earlier run */
	if (n->version <= c->version)
		return sd_error(SD_ERR_ROLLBACK, "%s has version %u, not above the installed version %u", rt->file,
		                n->version, c->version);
	for (size_t i = 0; i < c->n_log_retired; i++)
		if (!lists_retired(n, &c->log_retired[i])) {
			sd_key_id_hex(c->log_retired[i].id, want);
			return sd_error(SD_ERR_INVALID, "%s drops the retired log key %s the installed directory lists",
			                rt->file, want);
		}
	if (rt->old != NULL && (!c->has_log || !sd_equal(c->log.pk, rt->old_pub.pk, SD_KEY_PUBLIC_BYTES)))
		return sd_error(SD_ERR_INVALID, "the installed directory does not name %s as its log key",
		                rt->key_path);
	return 0;
}

/* --- the store ------------------------------------------------------------------------------- */

static void rotated_event(const struct rot *rt, const uint8_t old_id[SD_KEY_ID_BYTES], sd_audit_event_t *ev)
{
	char a[SD_KEY_ID_HEX_BYTES], b[SD_KEY_ID_HEX_BYTES];

	sd_audit_event_init(ev, SD_AUDIT_LOG_KEY_ROTATED, sd_date_today(), NULL);
	sd_key_id_hex(old_id, a);
	sd_key_id_hex(rt->next_pub.id, b);
	snprintf(ev->detail, sizeof(ev->detail), "%s:%s", a, b);
}

static void installed_event(const struct rot *rt, sd_audit_event_t *ev)
{
	sd_audit_event_init(ev, SD_AUDIT_DIRECTORY_INSTALLED, sd_date_today(), NULL);
	ev->has_number = true;
	ev->number = rt->nd->version;
	ev->has_digest = true;
	sd_hash(rt->new_json, rt->new_len, ev->digest);
}

/* The first key id of "OLDID:NEWID". */
static bool detail_old_id(const char *detail, uint8_t id[SD_KEY_ID_BYTES])
{
	char hex[2 * SD_KEY_ID_BYTES + 1];

	if (strlen(detail) <= 2 * SD_KEY_ID_BYTES)
		return false;
	memcpy(hex, detail, 2 * SD_KEY_ID_BYTES);
	hex[2 * SD_KEY_ID_BYTES] = '\0';
	return sd_hex_decode(hex, id, SD_KEY_ID_BYTES) == 0;
}

/* Are the log's last two leaves this rotation's (dates aside)? *old_id gets the id the
 * rotation leaf names as retired. */
static int leaves_done(struct rot *rt, bool *done, uint8_t old_id[SD_KEY_ID_BYTES])
{
	sd_store_req_t *req = NULL;
	sd_audit_event_t got[2], want;
	uint8_t key[8];
	const uint8_t *v;
	size_t len;
	char suffix[SD_KEY_ID_HEX_BYTES + 1];
	int r = 0;

	*done = false;
	if (rt->size < 2)
		return 0;
	if ((req = sd_store_req_new()) == NULL)
		return SD_ERR_NOMEM;
	for (uint64_t i = 0; i < 2; i++) {
		sd_store_be64(key, rt->size - 2 + i);
		sd_store_req_get(req, SD_STORE_DB_LOG_LEAVES, key, sizeof(key));
	}
	if ((r = sd_store_call(rt->store, req)) < 0)
		goto out;
	for (size_t i = 0; i < 2; i++)
		if (sd_store_req_value(req, i, &v, &len) < 0 || sd_audit_leaf_parse(v, len, &got[i]) < 0)
			goto out; /* not ours: r stays 0, *done false */
	installed_event(rt, &want);
	snprintf(suffix, sizeof(suffix), ":");
	sd_key_id_hex(rt->next_pub.id, suffix + 1);
	len = strlen(got[0].detail);
	*done = got[0].type == SD_AUDIT_LOG_KEY_ROTATED && len == 2 * 2 * SD_KEY_ID_BYTES + 1 &&
	        strcmp(got[0].detail + 2 * SD_KEY_ID_BYTES, suffix) == 0 && detail_old_id(got[0].detail, old_id) &&
	        got[1].type == SD_AUDIT_DIRECTORY_INSTALLED && got[1].has_digest &&
	        sd_equal(got[1].digest, want.digest, sizeof(want.digest)) && got[1].number == want.number;
out:
	sd_store_req_free(req);
	return r;
}

/* A: the two leaves, in one write. */
static int append_leaves(struct rot *rt)
{
	sd_store_req_t *req = sd_store_req_new();
	sd_audit_event_t ev;
	uint64_t index = 0;
	int r;

	if (req == NULL)
		return SD_ERR_NOMEM;
	rotated_event(rt, rt->old_pub.id, &ev);
	if ((r = sd_audit_add(req, &ev)) < 0)
		goto out;
	installed_event(rt, &ev);
	if ((r = sd_audit_add(req, &ev)) < 0 || (r = sd_store_call(rt->store, req)) < 0 ||
	    (r = sd_store_req_log_index(req, 0, &index)) < 0)
		goto out;
	if (index != rt->size)
		r = sd_error(SD_ERR_INTERNAL, "the rotation leaf went to index %llu, not %llu",
		             (unsigned long long)index, (unsigned long long)rt->size);
	rt->size += 2;
out:
	sd_store_req_free(req);
	return r;
}

/* The root of the whole log, from the stored nodes (as proofs are built). */
static int log_root(struct rot *rt, uint8_t root[SD_MERKLE_HASH_BYTES])
{
	sd_merkle_range_t all = {0, rt->size};
	sd_store_req_t *req;
	int r;

	if ((req = sd_store_req_new()) == NULL)
		return SD_ERR_NOMEM;
	if ((r = sd_auditlog_req_ranges(req, &all, 1)) >= 0 && (r = sd_store_call(rt->store, req)) >= 0)
		r = sd_auditlog_fold_ranges(req, 0, &all, 1, (uint8_t(*)[SD_MERKLE_HASH_BYTES])root);
	sd_store_req_free(req);
	return r < 0 ? r : 0;
}

/* B and E: the head over the whole log signed by k, stored as the current head, and in the
 * head history too when `keep` (the handover head; the new key's head of the same size and
 * date would take its place there). */
static int store_head(struct rot *rt, const sd_seckey_t *k, bool keep)
{
	sd_loghead_t h = {.version = SD_LOGHEAD_VERSION, .size = rt->size, .date = sd_date_today()};
	sd_store_req_t *req = NULL;
	uint8_t key[8 + 4];
	char *json = NULL;
	int r;

	snprintf(h.deployment, sizeof(h.deployment), "%s", rt->nd->deployment);
	if ((r = log_root(rt, h.root)) < 0 || (r = sd_loghead_sign(&h, k, &json)) < 0)
		goto out;
	if ((req = sd_store_req_new()) == NULL) {
		r = SD_ERR_NOMEM;
		goto out;
	}
	sd_store_req_put(req, SD_STORE_DB_META, (const uint8_t *)SD_AUDITLOG_HEAD_KEY, strlen(SD_AUDITLOG_HEAD_KEY),
	                 (const uint8_t *)json, strlen(json), 0);
	if (keep) {
		sd_store_be64(key, h.size);
		sd_store_le32(key + 8, sd_date_to_u32(h.date));
		sd_store_req_put(req, SD_STORE_DB_LOG_HEADS, key, sizeof(key), (const uint8_t *)json, strlen(json), 0);
	}
	r = sd_store_call(rt->store, req);
out:
	sd_store_req_free(req);
	free(json);
	return r;
}

/* Is the current head one of the whole log that k signed? */
static bool head_by(const char *json, uint64_t size, const sd_pubkey_t *k)
{
	sd_loghead_t h;

	return json != NULL && sd_loghead_parse((const uint8_t *)json, strlen(json), k, &h) == 0 && h.size == size;
}

/* --- the files ------------------------------------------------------------------------------- */

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;

	if (fd < 0 || fsync(fd) != 0)
		r = sd_error(SD_ERR_IO, "cannot sync %s: %s", dir, strerror(errno));
	if (fd >= 0)
		close(fd);
	return r;
}

/* C: DIR/directory.json, atomically. */
static int install_directory(struct rot *rt)
{
	int r = sd_file_write(rt->dir_path, rt->new_json, rt->new_len, 0644, SD_AFILE_REPLACE);

	return r < 0 ? r : own_like(rt->dir_path, rt->dir);
}

/* log.key.pub := the new key's public half. */
static int write_pub(struct rot *rt)
{
	char text[SD_PUBKEY_TEXT_BYTES];
	int r;

	if ((r = sd_pubkey_format(&rt->next_pub, text)) < 0 ||
	    (r = sd_file_write(rt->pub_path, text, strlen(text), 0644, SD_AFILE_REPLACE)) < 0)
		return r;
	return own_like(rt->pub_path, rt->dir);
}

/* D: log.key.next becomes log.key; the old key's inode, which no name holds any more, is
 * overwritten through fd before it is freed. */
static int swap_keys(struct rot *rt)
{
	static const uint8_t zero[SD_SERVICEKEY_BYTES];
	char next_pub[PATH_MAX];
	int fd, r = 0;

	if ((fd = open(rt->key_path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return sd_error(SD_ERR_IO, "%s: %s", rt->key_path, strerror(errno));
	if (rename(rt->next_path, rt->key_path) != 0) {
		r = sd_error(SD_ERR_IO, "cannot rename %s to %s: %s", rt->next_path, rt->key_path, strerror(errno));
		close(fd);
		return r;
	}
	if ((r = fsync_dir(rt->dir)) == 0 &&
	    (pwrite(fd, zero, sizeof(zero), 0) != (ssize_t)sizeof(zero) || fsync(fd) != 0))
		r = sd_error(SD_ERR_IO, "cannot overwrite the old log key: %s", strerror(errno));
	close(fd);
	if (r == 0 && (r = write_pub(rt)) == 0 && path_in(next_pub, rt->dir, SD_LOGKEY_NEXT_PUB_FILE) == 0)
		unlink(next_pub);
	return r;
}

/* --- log-key rotate ------------------------------------------------------------------------ */

/* Steps A to D, each unless done. */
static int run_steps(struct rot *rt)
{
	uint8_t old_id[SD_KEY_ID_BYTES];
	char *head = NULL;
	bool done = false;
	int r;

	if ((r = sd_auditlog_read_state(rt->store, &rt->size, &head)) < 0 || (r = leaves_done(rt, &done, old_id)) < 0)
		goto out;
	if (!done && rt->old == NULL) {
		r = sd_error(SD_ERR_INVALID,
		             "%s is already the directory's log key but the log records no rotation to "
		             "it: was log.key replaced by hand?",
		             rt->key_path);
		goto out;
	}
	rt->out->resumed = done;
	if (!done && (r = append_leaves(rt)) < 0)
		goto out;
	memcpy(rt->out->old_id, done ? old_id : rt->old_pub.id, SD_KEY_ID_BYTES);
	if (rt->old != NULL && !head_by(head, rt->size, &rt->next_pub) && !head_by(head, rt->size, &rt->old_pub) &&
	    (r = store_head(rt, rt->old, true)) < 0) /* B */
		goto out;
	if (!is_installed(rt) && (r = install_directory(rt)) < 0) /* C */
		goto out;
	if (!head_by(head, rt->size, &rt->next_pub) && (r = store_head(rt, rt->next, false)) < 0) /* E */
		goto out;
	r = rt->old != NULL ? swap_keys(rt) : write_pub(rt); /* D */
out:
	free(head);
	return r;
}

int sd_logkey_rotate(const char *dir, const char *file, sd_logkey_rotation_t *out)
{
	struct rot rt = {.dir = dir, .file = file, .out = out};
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = path_in(rt.key_path, dir, SD_SERVER_LOGKEY_FILE)) < 0 ||
	    (r = path_in(rt.next_path, dir, SD_LOGKEY_NEXT_FILE)) < 0 ||
	    (r = path_in(rt.pub_path, dir, SD_SERVER_LOGPUB_FILE)) < 0 ||
	    (r = path_in(rt.dir_path, dir, SD_SERVER_DIRECTORY)) < 0)
		return r;
	if ((r = check_stopped(dir)) < 0 || (r = load_keys(&rt)) < 0 || (r = load_dirs(&rt)) < 0 ||
	    (r = check_fit(&rt)) < 0)
		goto out;
	if ((r = sd_store_open(dir, NULL, &rt.store)) < 0 || (r = run_steps(&rt)) < 0)
		goto out;
	memcpy(out->new_id, rt.next_pub.id, SD_KEY_ID_BYTES);
	out->version = rt.nd->version;
	out->size = rt.size;
	out->leaf = rt.size - 2;
out:
	sd_store_close(rt.store);
	sd_directory_free(rt.cur);
	sd_directory_free(rt.nd);
	free(rt.cur_json);
	free(rt.new_json);
	if (rt.next != rt.old)
		sd_seckey_free(rt.next);
	sd_seckey_free(rt.old);
	return r;
}
