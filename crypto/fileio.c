/*
 * fileio.c — atomic file output (temporary name, fsync, rename or link) and bounded
 * reads. Every output of sealdrop goes through here, so a crash or an error never
 * leaves a half-written key, package or report under its final name.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#include "sealdrop/fileio.h"
#include "sealdrop/sealdrop.h"

struct sd_afile {
	int fd;
	char *path;
	char *tmp;
};

int sd_read_full(int fd, void *buf, size_t len, size_t *got)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = read(fd, (uint8_t *)buf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sd_error(SD_ERR_IO, "read: %s", strerror(errno));
		if (n == 0)
			break;
		off += (size_t)n;
	}
	*got = off;
	return 0;
}

int sd_write_full(int fd, const void *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = write(fd, (const uint8_t *)buf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sd_error(SD_ERR_IO, "write: %s", strerror(errno));
		off += (size_t)n;
	}
	return 0;
}

static int fsync_parent(const char *path)
{
	char *copy = strdup(path);
	int fd, r = 0;

	if (copy == NULL)
		return SD_ERR_NOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0)
		r = sd_error(SD_ERR_IO, "fsync of the directory of %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(copy);
	return r;
}

int sd_afile_open(sd_afile_t **out, const char *path, mode_t mode)
{
	sd_afile_t *f;
	char *copy = NULL, *base;

	*out = NULL;
	f = calloc(1, sizeof(*f));
	copy = strdup(path);
	if (f == NULL || copy == NULL)
		goto nomem;
	f->fd = -1;
	f->path = strdup(path);
	base = basename(copy);
	/* Same directory as the target, so rename(2) is atomic; hidden, so nobody picks it up. */
	size_t dirlen = strlen(path) - strlen(base);
	size_t tmplen = dirlen + strlen(base) + 32;
	f->tmp = malloc(tmplen);
	if (f->path == NULL || f->tmp == NULL)
		goto nomem;
	for (int attempt = 0; attempt < 16; attempt++) {
		snprintf(f->tmp, tmplen, "%.*s.%s.tmp-%08x", (int)dirlen, path, base, randombytes_random());
		f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (f->fd >= 0 || errno != EEXIST)
			break;
	}
	if (f->fd < 0) {
		int e = errno;
		int code = e == ENOENT ? SD_ERR_NOENT : SD_ERR_IO;
		free(copy);
		sd_afile_abort(f);
		return sd_error(code, "cannot create %s: %s", path, strerror(e));
	}
	free(copy);
	*out = f;
	return 0;
nomem:
	free(copy);
	if (f) {
		free(f->path);
		free(f->tmp);
		free(f);
	}
	return SD_ERR_NOMEM;
}

int sd_afile_fd(const sd_afile_t *f)
{
	return f->fd;
}

int sd_afile_write(sd_afile_t *f, const void *buf, size_t len)
{
	int r = sd_write_full(f->fd, buf, len);
	if (r < 0)
		return sd_error(r, "writing %s: %s", f->path, sd_error_detail());
	return 0;
}

int sd_afile_pwrite(sd_afile_t *f, const void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(f->fd, (const uint8_t *)buf + done, len - done, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sd_error(SD_ERR_IO, "writing %s: %s", f->path, strerror(errno));
		done += (size_t)n;
	}
	return 0;
}

/* Gives the finished temporary its final name. NOCLOBBER links, so an existing file is
 * never replaced; file systems without hard links (FAT, exFAT: a USB stick) get
 * renameat2(RENAME_NOREPLACE), which has the same guarantee. */
static int publish(const sd_afile_t *f, int flags)
{
	int e;

	if (!(flags & SD_AFILE_NOCLOBBER)) {
		if (rename(f->tmp, f->path) == 0)
			return 0;
		return sd_error(SD_ERR_IO, "rename to %s: %s", f->path, strerror(errno));
	}
	if (link(f->tmp, f->path) == 0) {
		unlink(f->tmp);
		return 0;
	}
	e = errno;
	if ((e == EPERM || e == EOPNOTSUPP || e == ENOSYS) &&
	    renameat2(AT_FDCWD, f->tmp, AT_FDCWD, f->path, RENAME_NOREPLACE) == 0)
		return 0;
	if (e != EEXIST && errno == EEXIST)
		e = EEXIST;
	return sd_error(e == EEXIST ? SD_ERR_EXISTS : SD_ERR_IO, "%s: %s", f->path,
	                e == EEXIST ? "already exists; nothing was overwritten" : strerror(e));
}

int sd_afile_commit(sd_afile_t *f, int flags)
{
	int r;

	/* The last chance to honour an interrupt: after this the output exists. */
	if (sd_is_cancelled()) {
		r = sd_error(SD_ERR_CANCELLED, "interrupted; %s was not written", f->path);
		goto fail;
	}
	if (fsync(f->fd) != 0) {
		r = sd_error(SD_ERR_IO, "fsync %s: %s", f->path, strerror(errno));
		goto fail;
	}
	if (close(f->fd) != 0) {
		f->fd = -1;
		r = sd_error(SD_ERR_IO, "close %s: %s", f->path, strerror(errno));
		goto fail;
	}
	f->fd = -1;
	if ((r = publish(f, flags)) < 0)
		goto fail;
	/* The content is durable and in place. If the directory cannot be synced the name
	 * may not survive a crash, but reporting failure now would make callers discard
	 * what belongs with a file that exists (the codename of a sealed package). */
	(void)fsync_parent(f->path);
	free(f->path);
	free(f->tmp);
	free(f);
	return 0;
fail:
	sd_afile_abort(f);
	return r;
}

void sd_afile_abort(sd_afile_t *f)
{
	if (f == NULL)
		return;
	if (f->fd >= 0)
		close(f->fd);
	if (f->tmp)
		unlink(f->tmp);
	free(f->path);
	free(f->tmp);
	free(f);
}

static int open_for_read(const char *path, size_t max, int *fd_out, size_t *size_out)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		int e = errno;
		return sd_error(e == ENOENT ? SD_ERR_NOENT : SD_ERR_IO, "%s: %s", path, strerror(e));
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return sd_error(SD_ERR_IO, "%s: not a regular file", path);
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return sd_error(SD_ERR_TOOBIG, "%s: larger than %zu bytes", path, max);
	}
	*fd_out = fd;
	*size_out = (size_t)st.st_size;
	return 0;
}

/* Reads the file into a buffer from alloc(); one byte more is attempted so a file that
 * grew after fstat is still caught by the size limit. */
static int read_into(const char *path, size_t max, void *(*alloc)(size_t), void (*dealloc)(void *), uint8_t **out,
                     size_t *len)
{
	int fd = -1, r;
	size_t size = 0, got = 0;
	uint8_t *buf;

	*out = NULL;
	*len = 0;
	if ((r = open_for_read(path, max, &fd, &size)) < 0)
		return r;
	buf = alloc(size + 2);
	if (buf == NULL) {
		close(fd);
		return SD_ERR_NOMEM;
	}
	r = sd_read_full(fd, buf, size + 1, &got);
	close(fd);
	if (r == 0 && got > size) {
		r = sd_error(SD_ERR_IO, "%s changed while it was read", path);
	}
	if (r < 0) {
		dealloc(buf);
		return r;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

int sd_file_read(const char *path, size_t max, uint8_t **out, size_t *len)
{
	return read_into(path, max, malloc, free, out, len);
}

int sd_file_read_secret(const char *path, size_t max, char **out, size_t *len)
{
	uint8_t *buf;
	size_t n;
	int r = read_into(path, max, sodium_malloc, sodium_free, &buf, &n);

	if (r < 0)
		return r;
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '\r')
		buf[--n] = '\0';
	*out = (char *)buf;
	*len = n;
	return 0;
}

int sd_file_write(const char *path, const void *buf, size_t len, mode_t mode, int flags)
{
	sd_afile_t *f;
	int r = sd_afile_open(&f, path, mode);

	if (r < 0)
		return r;
	if ((r = sd_afile_write(f, buf, len)) < 0) {
		sd_afile_abort(f);
		return r;
	}
	return sd_afile_commit(f, flags);
}

/* --- the client's state directory ---------------------------------------------------- */

int sd_mkdir_p(char *path)
{
	struct stat st;

	for (char *p = path + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			int e = errno;
			int r = sd_error(e == ENOENT ? SD_ERR_NOENT : SD_ERR_IO, "cannot create %s: %s", path,
			                 strerror(e));
			*p = c;
			return r;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return sd_error(SD_ERR_IO, "%s is not a directory", path);
	return 0;
}

int sd_state_dir(char **out)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	int n;

	*out = NULL;
	if (xdg != NULL && xdg[0] == '/')
		n = asprintf(out, "%s/sealdrop", xdg);
	else if (home != NULL && home[0] == '/')
		n = asprintf(out, "%s/.local/state/sealdrop", home);
	else
		return sd_error(SD_ERR_CONFIG,
		                "neither XDG_STATE_HOME nor HOME names a directory for sealdrop's state");
	if (n < 0) {
		*out = NULL;
		return SD_ERR_NOMEM;
	}
	return 0;
}

int sd_lock_dir(const char *dir, int *fd)
{
	char *path = NULL;

	if (asprintf(&path, "%s/.lock", dir) < 0)
		return SD_ERR_NOMEM;
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (*fd < 0 || flock(*fd, LOCK_EX) != 0) {
		int r = sd_error(SD_ERR_IO, "cannot lock %s: %s", path, strerror(errno));
		free(path);
		return r;
	}
	free(path);
	return 0;
}
