/*
 * powercut.c — a TEST SHIM, never part of sealdropd: an LD_PRELOAD library that journals
 * every write to the store's data file (DIR/store/data.mdb) so that a power cut can be
 * simulated afterwards (tests/soak/powerloss.sh, issue 7 "Power loss"). Start reading at
 * the constructor powercut_init, then pc_write_begin / pc_write_end and pc_sync.
 *
 * A kill -9 does not test power loss: the page cache survives the process. This shim
 * records, in the order they happen, what the page cache receives (every write, pwrite,
 * writev, pwritev, pwritev2 to the tracked file, with its offset and bytes) and what the
 * kernel has promised is on the disk (fsync, fdatasync and msync(MS_SYNC) that returned
 * 0; writes through a descriptor opened O_DSYNC or O_SYNC, or with RWF_DSYNC/RWF_SYNC,
 * that returned). tests/tools/sd-powercut.c replays that journal onto a copy of the file
 * as it was when the server started, keeping every durable write and only a random,
 * reordered, possibly torn subset of the rest.
 *
 * The journal (path in SD_POWERCUT_JOURNAL; without it the shim only passes calls on) is
 * opened in the constructor, before sealdropd chroots, drops privileges and installs its
 * seccomp filter, and moved to a high descriptor. Afterwards the shim makes only calls the
 * server's allow-list has (write, lseek, newfstatat, futex). A record is complete in the
 * journal (the page cache: it survives kill -9) before the real call is made, and the
 * record that says a call returned is written after it returned and before the caller
 * sees it. Records are appended under one mutex: LMDB writes on the store thread while
 * the reply thread syncs.
 *
 * Record: a fixed header (struct pc_rec, host byte order) then `plen` payload bytes.
 *   OPEN   a descriptor now refers to tracked file `file` (payload: the path; off: flags)
 *   WRITE  `len` bytes at `off` (payload: the bytes); flag PC_F_DSYNC for O_DSYNC & co
 *   DONE   the call of record `ref` returned `len` (bytes written, or -1)
 *   SYNC0  an fsync/fdatasync/msync of `file` begins
 *   SYNC1  the sync that began at record `ref` returned `len` (0: success)
 *   TRUNC  ftruncate(file, off); FALLOC fallocate(file, off, len); MAPW a writable
 *          shared mapping of the file (writes the shim cannot see); CLOSE
 *   CUT    the shim killed the process right after record `ref` (SD_POWERCUT_CUT_AT)
 * With SD_POWERCUT_CUT_AT=N the shim itself cuts the power: once record N is in the
 * journal it appends CUT and sends the process SIGKILL (tgkill, on the allow-list) before
 * doing anything else, so the cut lands at an I/O event — before a write, just after one
 * returned, before or after a sync — rather than at a wall-clock moment that mostly finds
 * the server idle. Other threads may be inside a call at that moment, as at a real cut.
 * What a sync makes durable: every write to that file whose DONE came before its SYNC0.
 * sd-powercut refuses a journal with TRUNC, FALLOC or MAPW of the file it rebuilds: LMDB
 * (without MDB_WRITEMAP, as sealdropd opens it) never does them, and they are not modelled.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define PC_MAGIC   0x43504453u /* "SDPC" */
#define PC_FD_MAX  4096
#define PC_FILES   64
#define PC_MAPS    64
#define PC_JFD_MIN 900 /* the journal's descriptor, out of the server's way */

enum { PC_OPEN = 1, PC_WRITE, PC_DONE, PC_SYNC0, PC_SYNC1, PC_TRUNC, PC_FALLOC, PC_MAPW, PC_CLOSE, PC_CUT };
#define PC_F_DSYNC 0x1 /* WRITE: durable when it returns */

struct pc_rec {
	uint32_t magic;
	uint16_t type;
	uint16_t flags;
	uint32_t file; /* 1.. ; 0 none */
	int32_t fd;
	uint64_t seq;
	uint64_t ref;
	int64_t off;
	int64_t len;
	uint64_t plen; /* payload bytes after this header */
};

struct pc_file {
	dev_t dev;
	ino_t ino;
};

struct pc_map {
	uintptr_t addr;
	size_t len;
	uint32_t file;
};

/* Shared with a forked child (MAP_SHARED), so sequence numbers stay one order. */
struct pc_shared {
	pthread_mutex_t mu;
	uint64_t seq;
};

static int jfd = -1;
static uint64_t cut_at; /* 0: never */
static struct pc_shared *sh;
static pid_t root_pid; /* the process the shim was loaded into (sealdropd's front end) */
static const char *suffix = "/data.mdb";
static uint32_t fd_file[PC_FD_MAX]; /* 0: untracked */
static uint32_t fd_oflags[PC_FD_MAX];
static struct pc_file files[PC_FILES + 1];
static uint32_t nfiles;
static struct pc_map maps[PC_MAPS];

/* --- the real functions ------------------------------------------------------------ */

#define REAL(name) static __typeof__(name) *real_##name
REAL(open);
REAL(open64);
REAL(openat);
REAL(openat64);
REAL(creat);
REAL(creat64);
REAL(write);
REAL(pwrite);
REAL(pwrite64);
REAL(writev);
REAL(pwritev);
REAL(pwritev64);
REAL(pwritev2);
REAL(pwritev64v2);
REAL(fsync);
REAL(fdatasync);
REAL(msync);
REAL(ftruncate);
REAL(ftruncate64);
REAL(fallocate);
REAL(fallocate64);
REAL(close);
REAL(dup);
REAL(dup2);
REAL(dup3);
REAL(fcntl);
REAL(mmap);
REAL(mmap64);
REAL(munmap);
REAL(mprotect);
REAL(lseek);
static int (*real_open_2)(const char *, int);
static int (*real_openat_2)(int, const char *, int);

static void *pc_sym(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (p == NULL) {
		fprintf(stderr, "powercut: no %s in the next library\n", name);
		abort();
	}
	return p;
}
#define RESOLVE(name)                                                                                                  \
	do {                                                                                                           \
		if (real_##name == NULL)                                                                               \
			real_##name = (__typeof__(real_##name))pc_sym(#name);                                          \
	} while (0)

static void pc_resolve(void)
{
	RESOLVE(open);
	RESOLVE(open64);
	RESOLVE(openat);
	RESOLVE(openat64);
	RESOLVE(creat);
	RESOLVE(creat64);
	RESOLVE(write);
	RESOLVE(pwrite);
	RESOLVE(pwrite64);
	RESOLVE(writev);
	RESOLVE(pwritev);
	RESOLVE(pwritev64);
	RESOLVE(pwritev2);
	RESOLVE(pwritev64v2);
	RESOLVE(fsync);
	RESOLVE(fdatasync);
	RESOLVE(msync);
	RESOLVE(ftruncate);
	RESOLVE(ftruncate64);
	RESOLVE(fallocate);
	RESOLVE(fallocate64);
	RESOLVE(close);
	RESOLVE(dup);
	RESOLVE(dup2);
	RESOLVE(dup3);
	RESOLVE(fcntl);
	RESOLVE(mmap);
	RESOLVE(mmap64);
	RESOLVE(munmap);
	RESOLVE(mprotect);
	RESOLVE(lseek);
	if (real_open_2 == NULL)
		real_open_2 = (int (*)(const char *, int))pc_sym("__open_2");
	if (real_openat_2 == NULL)
		real_openat_2 = (int (*)(int, const char *, int))pc_sym("__openat_2");
}

/* --- the journal ------------------------------------------------------------------- */

/* The shared lock; one whose holder died (a cut) is taken over as it stands. */
static void pc_lock(void)
{
	if (pthread_mutex_lock(&sh->mu) == EOWNERDEAD)
		pthread_mutex_consistent(&sh->mu);
}

static void pc_die(void)
{
	static const char msg[] = "powercut: the journal cannot record this run\n";

	(void)real_write(2, msg, sizeof(msg) - 1);
	abort(); /* a journal with a hole would model nothing: stop loudly */
}

static void pc_put(const void *buf, size_t len)
{
	const uint8_t *p = buf;

	/* pwrite64, not write: on Linux a pwrite to an O_APPEND descriptor appends whatever
	 * the offset, and pwrite64 is on the allow-list of sealdropd's store process (the
	 * writer of data.mdb), which allows write only on its socket and stderr. */
	while (len > 0) {
		ssize_t n = real_pwrite64(jfd, p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			pc_die();
		p += n;
		len -= (size_t)n;
	}
}

/* Appends one record with payload iov[0..iovcnt) and returns its sequence number. */
static uint64_t pc_append(struct pc_rec *r, const struct iovec *iov, int iovcnt)
{
	int saved = errno;
	uint64_t seq;

	r->magic = PC_MAGIC;
	r->plen = 0;
	for (int i = 0; i < iovcnt; i++)
		r->plen += iov[i].iov_len;
	pc_lock();
	seq = r->seq = ++sh->seq;
	pc_put(r, sizeof(*r));
	for (int i = 0; i < iovcnt; i++)
		pc_put(iov[i].iov_base, iov[i].iov_len);
	if (seq == cut_at) {
		struct pc_rec cut = {.magic = PC_MAGIC, .type = PC_CUT, .seq = ++sh->seq, .ref = seq};
		pc_put(&cut, sizeof(cut));
		/* Power goes for the whole server: when the cut lands in sealdropd's store process,
		 * the front end the shim was loaded into dies first (tgkill is on every allow-list). */
		if (getpid() != root_pid)
			syscall(SYS_tgkill, root_pid, root_pid, SIGKILL);
		raise(SIGKILL); /* with the mutex held: no record after this one */
	}
	pthread_mutex_unlock(&sh->mu);
	errno = saved;
	return seq;
}

static uint64_t pc_simple(uint16_t type, uint32_t file, int fd, uint64_t ref, int64_t off, int64_t len)
{
	struct pc_rec r = {.type = type, .file = file, .fd = fd, .ref = ref, .off = off, .len = len};

	return pc_append(&r, NULL, 0);
}

__attribute__((constructor)) static void powercut_init(void)
{
	const char *path = getenv("SD_POWERCUT_JOURNAL"), *s = getenv("SD_POWERCUT_SUFFIX");
	const char *cut = getenv("SD_POWERCUT_CUT_AT");
	pthread_mutexattr_t ma;
	int fd;

	pc_resolve();
	root_pid = getpid();
	if (path == NULL || path[0] == '\0')
		return;
	if (s != NULL && s[0] != '\0')
		suffix = s;
	if (cut != NULL)
		cut_at = strtoull(cut, NULL, 10);
	sh = real_mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		pc_die();
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	/* Robust: a cut kills the process that holds it (sealdropd's store process), and the
	 * front end and key process it shares the lock with must not hang on it. */
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&sh->mu, &ma);
	pthread_mutexattr_destroy(&ma);
	fd = real_open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "powercut: cannot open the journal %s: %s\n", path, strerror(errno));
		abort();
	}
	jfd = real_fcntl(fd, F_DUPFD_CLOEXEC, PC_JFD_MIN);
	if (jfd < 0)
		pc_die();
	real_close(fd);
}

/* --- descriptors ------------------------------------------------------------------- */

static int pc_active(void)
{
	return jfd >= 0;
}

static uint32_t pc_file_of(int fd)
{
	return pc_active() && fd >= 0 && fd < PC_FD_MAX ? __atomic_load_n(&fd_file[fd], __ATOMIC_ACQUIRE) : 0;
}

static int pc_is_tracked_path(const char *path)
{
	size_t n = strlen(path), m = strlen(suffix);

	if (n >= m && strcmp(path + n - m, suffix) == 0)
		return 1;
	/* "data.mdb" relative to the working or a given directory */
	return suffix[0] == '/' && strcmp(path, suffix + 1) == 0;
}

/* Called after a successful open of path as fd. */
static void pc_opened(int fd, const char *path, int flags)
{
	struct stat st;
	uint32_t id = 0;

	if (!pc_active() || fd < 0 || !pc_is_tracked_path(path))
		return;
	if (fd >= PC_FD_MAX || fstat(fd, &st) != 0)
		pc_die(); /* a write the journal would miss: better no run than a false pass */
	pc_lock();
	for (uint32_t i = 1; i <= nfiles; i++)
		if (files[i].dev == st.st_dev && files[i].ino == st.st_ino)
			id = i;
	if (id == 0 && nfiles == PC_FILES)
		pc_die();
	if (id == 0) {
		id = ++nfiles;
		files[id].dev = st.st_dev;
		files[id].ino = st.st_ino;
	}
	fd_oflags[fd] = (uint32_t)flags;
	__atomic_store_n(&fd_file[fd], id, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&sh->mu);
	if (id != 0) {
		struct pc_rec r = {.type = PC_OPEN, .file = id, .fd = fd, .off = flags};
		struct iovec iov = {(void *)(uintptr_t)path, strlen(path)};
		pc_append(&r, &iov, 1);
	}
}

static void pc_forget(int fd)
{
	uint32_t f = pc_file_of(fd);

	if (f == 0)
		return;
	__atomic_store_n(&fd_file[fd], 0, __ATOMIC_RELEASE);
	pc_simple(PC_CLOSE, f, fd, 0, 0, 0);
}

/* newfd now refers to what oldfd does (dup, dup2, dup3, F_DUPFD). */
static void pc_duped(int oldfd, int newfd)
{
	uint32_t f = pc_file_of(oldfd);

	if (!pc_active() || newfd < 0 || newfd >= PC_FD_MAX || newfd == oldfd)
		return;
	pc_forget(newfd);
	if (f == 0)
		return;
	fd_oflags[newfd] = fd_oflags[oldfd] & ~(uint32_t)O_CLOEXEC;
	__atomic_store_n(&fd_file[newfd], f, __ATOMIC_RELEASE);
	pc_simple(PC_OPEN, f, newfd, 0, fd_oflags[newfd], 0);
}

static mode_t pc_mode(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & __O_TMPFILE) == __O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = pc_mode(flags, ap);
	va_end(ap);
	RESOLVE(open);
	int fd = real_open(path, flags, mode);
	pc_opened(fd, path, flags);
	return fd;
}

int open64(const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = pc_mode(flags, ap);
	va_end(ap);
	RESOLVE(open64);
	int fd = real_open64(path, flags, mode);
	pc_opened(fd, path, flags);
	return fd;
}

int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = pc_mode(flags, ap);
	va_end(ap);
	RESOLVE(openat);
	int fd = real_openat(dirfd, path, flags, mode);
	pc_opened(fd, path, flags);
	return fd;
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = pc_mode(flags, ap);
	va_end(ap);
	RESOLVE(openat64);
	int fd = real_openat64(dirfd, path, flags, mode);
	pc_opened(fd, path, flags);
	return fd;
}

int __open_2(const char *path, int flags);
int __open_2(const char *path, int flags)
{
	pc_resolve();
	int fd = real_open_2(path, flags);
	pc_opened(fd, path, flags);
	return fd;
}

int __open64_2(const char *path, int flags);
int __open64_2(const char *path, int flags)
{
	return __open_2(path, flags);
}

int __openat_2(int dirfd, const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags)
{
	pc_resolve();
	int fd = real_openat_2(dirfd, path, flags);
	pc_opened(fd, path, flags);
	return fd;
}

int __openat64_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags)
{
	return __openat_2(dirfd, path, flags);
}

int creat(const char *path, mode_t mode)
{
	RESOLVE(creat);
	int fd = real_creat(path, mode);
	pc_opened(fd, path, O_CREAT | O_WRONLY | O_TRUNC);
	return fd;
}

int creat64(const char *path, mode_t mode)
{
	RESOLVE(creat64);
	int fd = real_creat64(path, mode);
	pc_opened(fd, path, O_CREAT | O_WRONLY | O_TRUNC);
	return fd;
}

int close(int fd)
{
	RESOLVE(close);
	pc_forget(fd);
	return real_close(fd);
}

int dup(int oldfd)
{
	RESOLVE(dup);
	int fd = real_dup(oldfd);
	pc_duped(oldfd, fd);
	return fd;
}

int dup2(int oldfd, int newfd)
{
	RESOLVE(dup2);
	int fd = real_dup2(oldfd, newfd);
	pc_duped(oldfd, fd);
	return fd;
}

int dup3(int oldfd, int newfd, int flags)
{
	RESOLVE(dup3);
	int fd = real_dup3(oldfd, newfd, flags);
	pc_duped(oldfd, fd);
	return fd;
}

/* Every fcntl argument is an int or a pointer: passing it on as an unsigned long is how
 * glibc's own wrappers do it on this ABI. */
static int pc_fcntl(int fd, int cmd, unsigned long arg)
{
	RESOLVE(fcntl);
	int r = real_fcntl(fd, cmd, arg);
	if (r >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC))
		pc_duped(fd, r);
	else if (r >= 0 && cmd == F_SETFL && pc_file_of(fd) != 0)
		fd_oflags[fd] = (fd_oflags[fd] & ~(uint32_t)O_APPEND) | ((uint32_t)arg & O_APPEND);
	return r;
}

int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	unsigned long arg = va_arg(ap, unsigned long);
	va_end(ap);
	return pc_fcntl(fd, cmd, arg);
}

int fcntl64(int fd, int cmd, ...);
int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	unsigned long arg = va_arg(ap, unsigned long);
	va_end(ap);
	return pc_fcntl(fd, cmd, arg);
}

/* --- writes ------------------------------------------------------------------------ */

static int pc_fd_dsync(int fd)
{
	return (fd_oflags[fd] & O_DSYNC) == O_DSYNC; /* O_SYNC includes O_DSYNC's bit */
}

/* The offset a write at the descriptor's position lands at. */
static int64_t pc_cur_offset(int fd)
{
	struct stat st;

	if ((fd_oflags[fd] & O_APPEND) && fstat(fd, &st) == 0)
		return st.st_size;
	return real_lseek(fd, 0, SEEK_CUR);
}

/* Journals a write of iov to file f at off; returns its record's number. */
static uint64_t pc_write_begin(uint32_t f, int fd, int64_t off, const struct iovec *iov, int iovcnt, int dsync)
{
	struct pc_rec r = {.type = PC_WRITE, .file = f, .fd = fd, .off = off};

	r.flags = dsync ? PC_F_DSYNC : 0;
	for (int i = 0; i < iovcnt; i++)
		r.len += (int64_t)iov[i].iov_len;
	return pc_append(&r, iov, iovcnt);
}

static void pc_write_end(uint32_t f, int fd, uint64_t seq, ssize_t result, int dsync)
{
	pc_simple(PC_DONE, f, fd, seq, dsync && result > 0 ? 1 : 0, result);
}

static ssize_t pc_pwrite_any(int fd, const void *buf, size_t len, off_t off, __typeof__(pwrite) *real)
{
	uint32_t f = pc_file_of(fd);
	struct iovec iov = {(void *)(uintptr_t)buf, len};

	if (f == 0)
		return real(fd, buf, len, off);
	uint64_t seq = pc_write_begin(f, fd, off, &iov, 1, pc_fd_dsync(fd));
	ssize_t n = real(fd, buf, len, off);
	pc_write_end(f, fd, seq, n, pc_fd_dsync(fd));
	return n;
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
	RESOLVE(pwrite);
	return pc_pwrite_any(fd, buf, len, off, real_pwrite);
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off64_t off)
{
	RESOLVE(pwrite64);
	return pc_pwrite_any(fd, buf, len, off, real_pwrite64);
}

ssize_t write(int fd, const void *buf, size_t len)
{
	RESOLVE(write);
	uint32_t f = pc_file_of(fd);
	struct iovec iov = {(void *)(uintptr_t)buf, len};

	if (f == 0)
		return real_write(fd, buf, len);
	uint64_t seq = pc_write_begin(f, fd, pc_cur_offset(fd), &iov, 1, pc_fd_dsync(fd));
	ssize_t n = real_write(fd, buf, len);
	pc_write_end(f, fd, seq, n, pc_fd_dsync(fd));
	return n;
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
	RESOLVE(writev);
	uint32_t f = pc_file_of(fd);

	if (f == 0 || iovcnt < 0)
		return real_writev(fd, iov, iovcnt);
	uint64_t seq = pc_write_begin(f, fd, pc_cur_offset(fd), iov, iovcnt, pc_fd_dsync(fd));
	ssize_t n = real_writev(fd, iov, iovcnt);
	pc_write_end(f, fd, seq, n, pc_fd_dsync(fd));
	return n;
}

static ssize_t pc_pwritev_any(int fd, const struct iovec *iov, int iovcnt, off_t off, int flags, int v2,
                              __typeof__(pwritev2) *real2, __typeof__(pwritev) *real1)
{
	uint32_t f = pc_file_of(fd);

	if (f == 0 || iovcnt < 0)
		return v2 ? real2(fd, iov, iovcnt, off, flags) : real1(fd, iov, iovcnt, off);
	int dsync = pc_fd_dsync(fd) || (v2 && (flags & (RWF_DSYNC | RWF_SYNC)));
	int64_t at = off;
	struct stat st;
	if (v2 && (flags & RWF_APPEND))
		at = fstat(fd, &st) == 0 ? st.st_size : -1;
	else if (v2 && off == -1)
		at = pc_cur_offset(fd);
	uint64_t seq = pc_write_begin(f, fd, at, iov, iovcnt, dsync);
	ssize_t n = v2 ? real2(fd, iov, iovcnt, off, flags) : real1(fd, iov, iovcnt, off);
	pc_write_end(f, fd, seq, n, dsync);
	return n;
}

ssize_t pwritev(int fd, const struct iovec *iov, int iovcnt, off_t off)
{
	RESOLVE(pwritev);
	return pc_pwritev_any(fd, iov, iovcnt, off, 0, 0, NULL, real_pwritev);
}

ssize_t pwritev64(int fd, const struct iovec *iov, int iovcnt, off64_t off)
{
	RESOLVE(pwritev64);
	return pc_pwritev_any(fd, iov, iovcnt, off, 0, 0, NULL, real_pwritev64);
}

ssize_t pwritev2(int fd, const struct iovec *iov, int iovcnt, off_t off, int flags)
{
	RESOLVE(pwritev2);
	return pc_pwritev_any(fd, iov, iovcnt, off, flags, 1, real_pwritev2, NULL);
}

ssize_t pwritev64v2(int fd, const struct iovec *iov, int iovcnt, off64_t off, int flags)
{
	RESOLVE(pwritev64v2);
	return pc_pwritev_any(fd, iov, iovcnt, off, flags, 1, real_pwritev64v2, NULL);
}

/* --- syncs and size changes ---------------------------------------------------------- */

/* SYNC0 before the call, SYNC1 after it: only writes that had returned before the sync
 * began are promised; one racing it is not (it may or may not be on the disk). */
static int pc_sync(int fd, uint32_t f, int (*real)(int), uint16_t kind)
{
	if (f == 0)
		return real(fd);
	uint64_t begin = pc_simple(PC_SYNC0, f, fd, kind, 0, 0);
	int r = real(fd);
	pc_simple(PC_SYNC1, f, fd, begin, 0, r);
	return r;
}

int fsync(int fd)
{
	RESOLVE(fsync);
	return pc_sync(fd, pc_file_of(fd), real_fsync, 1);
}

int fdatasync(int fd)
{
	RESOLVE(fdatasync);
	return pc_sync(fd, pc_file_of(fd), real_fdatasync, 2);
}

static uint32_t pc_map_file(uintptr_t addr, size_t len)
{
	for (int i = 0; i < PC_MAPS; i++)
		if (maps[i].file != 0 && addr < maps[i].addr + maps[i].len && maps[i].addr < addr + len)
			return maps[i].file;
	return 0;
}

int msync(void *addr, size_t len, int flags)
{
	RESOLVE(msync);
	uint32_t f = pc_active() && (flags & MS_SYNC) ? pc_map_file((uintptr_t)addr, len) : 0;

	if (f == 0)
		return real_msync(addr, len, flags);
	uint64_t begin = pc_simple(PC_SYNC0, f, -1, 3, 0, 0);
	int r = real_msync(addr, len, flags);
	pc_simple(PC_SYNC1, f, -1, begin, 0, r);
	return r;
}

static void *pc_mapped(void *p, size_t len, int prot, int flags, int fd)
{
	uint32_t f = pc_file_of(fd);

	if (p == MAP_FAILED || f == 0 || !(flags & MAP_SHARED))
		return p;
	pc_lock();
	for (int i = 0; i < PC_MAPS; i++)
		if (maps[i].file == 0) {
			maps[i] = (struct pc_map){(uintptr_t)p, len, f};
			break;
		}
	pthread_mutex_unlock(&sh->mu);
	if (prot & PROT_WRITE)
		pc_simple(PC_MAPW, f, fd, 0, 0, (int64_t)len);
	return p;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	RESOLVE(mmap);
	return pc_mapped(real_mmap(addr, len, prot, flags, fd, off), len, prot, flags, fd);
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
	RESOLVE(mmap64);
	return pc_mapped(real_mmap64(addr, len, prot, flags, fd, off), len, prot, flags, fd);
}

int munmap(void *addr, size_t len)
{
	RESOLVE(munmap);
	if (pc_active()) {
		pc_lock();
		for (int i = 0; i < PC_MAPS; i++)
			if (maps[i].file != 0 && maps[i].addr == (uintptr_t)addr)
				maps[i].file = 0;
		pthread_mutex_unlock(&sh->mu);
	}
	return real_munmap(addr, len);
}

int mprotect(void *addr, size_t len, int prot)
{
	RESOLVE(mprotect);
	uint32_t f = pc_active() && (prot & PROT_WRITE) ? pc_map_file((uintptr_t)addr, len) : 0;

	if (f != 0)
		pc_simple(PC_MAPW, f, -1, 0, 0, (int64_t)len);
	return real_mprotect(addr, len, prot);
}

/* Recorded before the call: sd-powercut refuses any of these on the file it rebuilds,
 * whatever the call then returned. */
static void pc_resize(int fd, uint16_t type, int64_t off, int64_t len)
{
	uint32_t f = pc_file_of(fd);

	if (f != 0)
		pc_simple(type, f, fd, 0, off, len);
}

int ftruncate(int fd, off_t len)
{
	RESOLVE(ftruncate);
	pc_resize(fd, PC_TRUNC, len, 0);
	return real_ftruncate(fd, len);
}

int ftruncate64(int fd, off64_t len)
{
	RESOLVE(ftruncate64);
	pc_resize(fd, PC_TRUNC, len, 0);
	return real_ftruncate64(fd, len);
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
	RESOLVE(fallocate);
	pc_resize(fd, PC_FALLOC, off, len);
	return real_fallocate(fd, mode, off, len);
}

int fallocate64(int fd, int mode, off64_t off, off64_t len)
{
	RESOLVE(fallocate64);
	pc_resize(fd, PC_FALLOC, off, len);
	return real_fallocate64(fd, mode, off, len);
}
