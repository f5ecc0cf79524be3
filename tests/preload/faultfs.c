/*
 * faultfs.c — a TEST SHIM, never part of sealdropd: an LD_PRELOAD library that makes the
 * store's file fail on demand, for tests/e2e/faults.sh. Start at the environment
 * variables below, then is_armed().
 *
 *   SD_FAULT_ENOSPC_FILE=PATH  while PATH exists, every write to a file whose name ends
 *                              in "/data.mdb" (write, pwrite, writev, pwritev) fails
 *                              with ENOSPC: a full disk, as LMDB sees it
 *   SD_FAULT_FSYNC_FILE=PATH   while PATH exists, fsync and fdatasync of such a file
 *                              fail with EIO: a failed write-back
 *
 * The descriptors of data.mdb are learnt by interposing open, open64, openat and
 * openat64, and forgotten on close. The trigger's directory is opened (O_PATH) when the
 * library loads, before the server chroots and drops its privileges, and the trigger
 * is looked up from it with fstatat, which the server's system-call filter allows. The
 * directory must be searchable by the server's user. libc and libdl only.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define FD_MAX 65536

struct trigger {
	int dirfd; /* -1: not configured */
	char name[256];
};

static struct trigger enospc = {-1, ""}, eio = {-1, ""};
static unsigned char tracked[FD_MAX]; /* 1: a descriptor of data.mdb */

static void trigger_init(struct trigger *t, const char *var)
{
	const char *path = getenv(var), *slash;
	char dir[4096];

	if (path == NULL || (slash = strrchr(path, '/')) == NULL || strlen(slash + 1) >= sizeof(t->name) ||
	    (size_t)(slash - path) >= sizeof(dir))
		return;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	memcpy(t->name, slash + 1, strlen(slash + 1) + 1);
	t->dirfd = open(slash == path ? "/" : dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	/* Parked at 900 or above, where sealdropd's store process leaves a shim's descriptors
	 * open (server/storeproc.c, child_shed_fds). */
	if (t->dirfd >= 0 && t->dirfd < 900) {
		int high = fcntl(t->dirfd, F_DUPFD_CLOEXEC, 900);
		close(t->dirfd);
		t->dirfd = high;
	}
}

__attribute__((constructor)) static void faultfs_init(void)
{
	trigger_init(&enospc, "SD_FAULT_ENOSPC_FILE");
	trigger_init(&eio, "SD_FAULT_FSYNC_FILE");
}

static bool is_armed(const struct trigger *t, int fd)
{
	struct stat st;

	if (t->dirfd < 0 || fd < 0 || fd >= FD_MAX || !__atomic_load_n(&tracked[fd], __ATOMIC_RELAXED))
		return false;
	return fstatat(t->dirfd, t->name, &st, 0) == 0;
}

static void track(int fd, const char *path)
{
	size_t n = path != NULL ? strlen(path) : 0, k = strlen("data.mdb");

	if (fd < 0 || fd >= FD_MAX)
		return;
	bool data = n >= k && strcmp(path + n - k, "data.mdb") == 0 && (n == k || path[n - k - 1] == '/');
	__atomic_store_n(&tracked[fd], data ? 1 : 0, __ATOMIC_RELAXED);
}

static void *next(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

/* --- opening and closing ---------------------------------------------------------------- */

/* The mode argument, present when the flags create a file. */
#define MODE_ARG(flags, mode)                                                                                          \
	do {                                                                                                           \
		if ((flags) & (O_CREAT | O_TMPFILE)) {                                                                 \
			va_list ap;                                                                                    \
			va_start(ap, flags);                                                                           \
			mode = (mode_t)va_arg(ap, int);                                                                \
			va_end(ap);                                                                                    \
		}                                                                                                      \
	} while (0)

typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);

static int open_as(const char *name, const char *path, int flags, mode_t mode)
{
	open_fn real = (open_fn)next(name);
	int fd = real(path, flags, mode);

	track(fd, path);
	return fd;
}

static int openat_as(const char *name, int dirfd, const char *path, int flags, mode_t mode)
{
	openat_fn real = (openat_fn)next(name);
	int fd = real(dirfd, path, flags, mode);

	track(fd, path);
	return fd;
}

int open(const char *path, int flags, ...)
{
	mode_t mode = 0;

	MODE_ARG(flags, mode);
	return open_as("open", path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;

	MODE_ARG(flags, mode);
	return open_as("open64", path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	MODE_ARG(flags, mode);
	return openat_as("openat", dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	MODE_ARG(flags, mode);
	return openat_as("openat64", dirfd, path, flags, mode);
}

int close(int fd)
{
	static int (*real)(int);

	if (real == NULL)
		real = (int (*)(int))next("close");
	if (fd >= 0 && fd < FD_MAX)
		__atomic_store_n(&tracked[fd], 0, __ATOMIC_RELAXED);
	return real(fd);
}

/* --- writes: ENOSPC while armed ------------------------------------------------------------ */

#define FAIL_IF(t, fd, err)                                                                                            \
	if (is_armed(&(t), fd)) {                                                                                      \
		errno = err;                                                                                           \
		return -1;                                                                                             \
	}

ssize_t write(int fd, const void *buf, size_t n)
{
	static ssize_t (*real)(int, const void *, size_t);

	if (real == NULL)
		real = (ssize_t(*)(int, const void *, size_t))next("write");
	FAIL_IF(enospc, fd, ENOSPC);
	return real(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	static ssize_t (*real)(int, const void *, size_t, off_t);

	if (real == NULL)
		real = (ssize_t(*)(int, const void *, size_t, off_t))next("pwrite");
	FAIL_IF(enospc, fd, ENOSPC);
	return real(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	static ssize_t (*real)(int, const void *, size_t, off_t);

	if (real == NULL)
		real = (ssize_t(*)(int, const void *, size_t, off_t))next("pwrite64");
	FAIL_IF(enospc, fd, ENOSPC);
	return real(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int n)
{
	static ssize_t (*real)(int, const struct iovec *, int);

	if (real == NULL)
		real = (ssize_t(*)(int, const struct iovec *, int))next("writev");
	FAIL_IF(enospc, fd, ENOSPC);
	return real(fd, iov, n);
}

ssize_t pwritev(int fd, const struct iovec *iov, int n, off_t off)
{
	static ssize_t (*real)(int, const struct iovec *, int, off_t);

	if (real == NULL)
		real = (ssize_t(*)(int, const struct iovec *, int, off_t))next("pwritev");
	FAIL_IF(enospc, fd, ENOSPC);
	return real(fd, iov, n, off);
}

ssize_t pwritev64(int fd, const struct iovec *iov, int n, off_t off)
{
	static ssize_t (*real)(int, const struct iovec *, int, off_t);

	if (real == NULL)
		real = (ssize_t(*)(int, const struct iovec *, int, off_t))next("pwritev64");
	FAIL_IF(enospc, fd, ENOSPC);
	return real(fd, iov, n, off);
}

/* --- syncs: EIO while armed ------------------------------------------------------------- */

int fsync(int fd)
{
	static int (*real)(int);

	if (real == NULL)
		real = (int (*)(int))next("fsync");
	FAIL_IF(eio, fd, EIO);
	return real(fd);
}

int fdatasync(int fd)
{
	static int (*real)(int);

	if (real == NULL)
		real = (int (*)(int))next("fdatasync");
	FAIL_IF(eio, fd, EIO);
	return real(fd);
}
