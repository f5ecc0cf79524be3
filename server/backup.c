/*
 * backup.c — a store's backup and its restore (server/backup.h; docs/STORE.md, "Backup and
 * restore"). `sealdropd backup` and `sealdropd restore` (server/cmd_backup.c) call it.
 *
 * Start at sd_backup_restore(): it checks that no server holds the store (its flock),
 * installs the backup beside the old data.mdb, which it keeps under a dated name, opens
 * the restored store and appends the epoch statement — a `restore` leaf, "restored to size
 * N", at index N (docs/FORMAT.md, "Audit log") — so that every client that saw a longer
 * log finds, signed in the log, why it is shorter now (client/cmd_audit.c). The leaf goes
 * through the local store, never through the front end: the store process refuses a
 * `restore` leaf from the front end (server/store_wire.c, leaf_check).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "sealdrop/audit.h"
#include "sealdrop/auditlog.h"
#include "sealdrop/date.h"
#include "sealdrop/fileio.h"
#include "sealdrop/sealdrop.h"
#include "backup.h"
#include "cmd.h"

#define COPY_CHUNK (1u << 20)

/* --- backup -------------------------------------------------------------------------------- */

int sd_backup_sidecar(const char *out, const char *dir, uint64_t size)
{
	char path[PATH_MAX], date[SD_DATE_TEXT_BYTES];
	json_t *o;
	char *text = NULL;
	int n, r;

	n = snprintf(path, sizeof(path), "%s%s", out, SD_BACKUP_META_SUFFIX);
	if (n < 0 || (size_t)n >= sizeof(path))
		return sd_error(SD_ERR_USAGE, "%s: path too long", out);
	sd_date_format(sd_date_today(), date);
	o = json_pack("{s:i, s:s, s:s, s:I, s:s}", "v", SD_BACKUP_FORMAT, "dir", dir, "date", date, "log_size",
	              (json_int_t)size, "store", "lmdb-compact");
	if (o == NULL || (text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS)) == NULL)
		r = SD_ERR_NOMEM;
	else
		r = sd_file_write(path, text, strlen(text), 0600, SD_AFILE_REPLACE);
	free(text);
	json_decref(o);
	return r;
}

int sd_backup_offline(sd_store_t *store, const char *dir, const char *out, uint64_t *log_size)
{
	sd_afile_t *f = NULL;
	char *head = NULL;
	int r;

	*log_size = 0;
	/* The store is ours alone: the size read now is the size the copy holds. */
	if ((r = sd_auditlog_read_state(store, log_size, &head)) < 0 || (r = sd_afile_open(&f, out, 0600)) < 0)
		goto out;
	if ((r = sd_store_copy_fd(store, sd_afile_fd(f))) < 0)
		goto out;
	r = sd_afile_commit(f, SD_AFILE_REPLACE);
	f = NULL;
	if (r == 0)
		r = sd_backup_sidecar(out, dir, *log_size);
out:
	sd_afile_abort(f);
	free(head);
	return r;
}

/* --- restore ------------------------------------------------------------------------------- */

/* DIR/store/NAME into out. */
static int store_path(char out[PATH_MAX], const char *dir, const char *name)
{
	int n = snprintf(out, PATH_MAX, "%s/store/%s", dir, name);

	if (n < 0 || n >= PATH_MAX)
		return sd_error(SD_ERR_USAGE, "%s/store/%s: path too long", dir, name);
	return 0;
}

/* No server holds DIR's store (the flock sd_store_open takes): *fd holds it meanwhile. */
static int lock_store(const char *dir, int *fd)
{
	char path[PATH_MAX];
	int r;

	if ((r = store_path(path, dir, "sealdropd.lock")) < 0)
		return r;
	if ((*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
		return sd_error(errno == ENOENT ? SD_ERR_NOENT : SD_ERR_IO, "%s: %s", path, strerror(errno));
	if (flock(*fd, LOCK_EX | LOCK_NB) != 0)
		return sd_error(SD_ERR_REFUSED, "a server is running on %s (its store is locked): stop it first", dir);
	return 0;
}

/* from's bytes into f, which takes the owner of DIR/store (the user the server runs as). */
static int copy_into(const char *from, const char *dir, sd_afile_t *f)
{
	char sdir[PATH_MAX];
	struct stat st;
	uint8_t *buf = malloc(COPY_CHUNK);
	size_t got = 0;
	int in = -1, r;

	if (buf == NULL)
		return SD_ERR_NOMEM;
	if ((in = open(from, O_RDONLY | O_CLOEXEC)) < 0) {
		r = sd_error(errno == ENOENT ? SD_ERR_NOENT : SD_ERR_IO, "%s: %s", from, strerror(errno));
		goto out;
	}
	do {
		if ((r = sd_read_full(in, buf, COPY_CHUNK, &got)) < 0 ||
		    (got > 0 && (r = sd_afile_write(f, buf, got)) < 0))
			goto out;
	} while (got == COPY_CHUNK);
	if ((r = store_path(sdir, dir, ".")) < 0)
		goto out;
	if (stat(sdir, &st) == 0 && fchown(sd_afile_fd(f), st.st_uid, st.st_gid) != 0 && errno != EPERM) {
		r = sd_error(SD_ERR_IO, "cannot give the restored store to the server's user: %s", strerror(errno));
		goto out;
	}
	r = 0;
out:
	if (in >= 0)
		close(in);
	free(buf);
	return r;
}

/* data.mdb.before-restore-YYYYMMDDTHHMMSSZ (and -2, -3, ... when taken). */
static int keep_aside(const char *dir, const char *data, char aside[SD_BACKUP_ASIDE_MAX])
{
	char stamp[32], path[PATH_MAX];
	time_t now = time(NULL);
	struct tm tm;
	int r;

	aside[0] = '\0';
	if (access(data, F_OK) != 0)
		return 0; /* nothing to keep: a store directory without a store */
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (unsigned i = 1; i < 100; i++) {
		if (i == 1)
			snprintf(aside, SD_BACKUP_ASIDE_MAX, "data.mdb.before-restore-%s", stamp);
		else
			snprintf(aside, SD_BACKUP_ASIDE_MAX, "data.mdb.before-restore-%s-%u", stamp, i);
		if ((r = store_path(path, dir, aside)) < 0)
			return r;
		if (link(data, path) == 0)
			return 0;
		if (errno != EEXIST)
			return sd_error(SD_ERR_IO, "cannot keep %s as %s: %s", data, path, strerror(errno));
	}
	return sd_error(SD_ERR_EXISTS, "%s: too many stores kept aside already", dir);
}

/* The epoch statement: "restored to size N", at index N. */
static int append_epoch(sd_store_t *store, uint64_t *size)
{
	sd_audit_event_t ev;
	sd_store_req_t *req = NULL;
	uint64_t index = 0;
	char *head = NULL;
	int r;

	if ((r = sd_auditlog_read_state(store, size, &head)) < 0)
		goto out;
	sd_audit_event_init(&ev, SD_AUDIT_RESTORE, sd_date_today(), NULL);
	ev.has_number = true;
	ev.number = *size;
	if ((req = sd_store_req_new()) == NULL) {
		r = SD_ERR_NOMEM;
		goto out;
	}
	if ((r = sd_audit_add(req, &ev)) < 0 || (r = sd_store_call(store, req)) < 0 ||
	    (r = sd_store_req_log_index(req, 0, &index)) < 0)
		goto out;
	if (index != *size)
		r = sd_error(SD_ERR_INTERNAL, "the epoch statement went to index %llu, not %llu",
		             (unsigned long long)index, (unsigned long long)*size);
out:
	sd_store_req_free(req);
	free(head);
	return r;
}

/* Installs from as DIR/store/data.mdb, the old one linked aside first. */
static int install(const char *dir, const char *from, char aside[SD_BACKUP_ASIDE_MAX])
{
	char data[PATH_MAX];
	sd_afile_t *f = NULL;
	int r;

	if ((r = store_path(data, dir, "data.mdb")) < 0 || (r = sd_afile_open(&f, data, 0600)) < 0)
		return r;
	if ((r = copy_into(from, dir, f)) < 0 || (r = keep_aside(dir, data, aside)) < 0) {
		sd_afile_abort(f);
		return r;
	}
	return sd_afile_commit(f, SD_AFILE_REPLACE);
}

/* The restored file is not a store we can open: the old one goes back. */
static void put_back(const char *dir, const char *aside)
{
	char data[PATH_MAX], old[PATH_MAX];

	if (aside[0] == '\0' || store_path(data, dir, "data.mdb") < 0 || store_path(old, dir, aside) < 0)
		return;
	if (rename(old, data) != 0)
		fprintf(stderr, _("sealdropd: restore: cannot put %s back as %s: %s\n"), old, data, strerror(errno));
}

int sd_backup_restore(const char *dir, const char *from, uint64_t *size, char aside[SD_BACKUP_ASIDE_MAX])
{
	sd_store_t *store = NULL;
	int lock = -1, r;

	*size = 0;
	aside[0] = '\0';
	if ((r = lock_store(dir, &lock)) < 0 || (r = install(dir, from, aside)) < 0)
		goto out;
	close(lock); /* sd_store_open takes the lock itself */
	lock = -1;
	if ((r = sd_store_open(dir, NULL, &store)) < 0) {
		r = sd_error(r, "the backup %s is not a store this server can open: %s", from, sd_error_detail());
		put_back(dir, aside);
		aside[0] = '\0';
		goto out;
	}
	r = append_epoch(store, size);
out:
	sd_store_close(store);
	if (lock >= 0)
		close(lock);
	return r;
}
