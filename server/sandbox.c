/*
 * sandbox.c — least privilege for a running sealdropd (include/sealdrop/sandbox.h): no new
 * privileges, no core dumps, and a seccomp-bpf allow-list of system calls. Start reading
 * at allowed[], the list itself, then sd_sandbox_enter.
 *
 * The list is what the front end makes once it serves: the event loop (epoll, accept4, TLS
 * reads and writes on sockets it already holds, ioctl FIONREAD), the store's reader thread
 * (reads on the store process's socket), the worker and the control socket's threads (futex, clone for threads only),
 * sodium_malloc (mlock), a directory install (openat, rename, fsync), the log (dup2 on SIGHUP) and the clock. It was
 * found by running the whole end-to-end suite with the filter's default action set to log instead of kill, reading what
 * the kernel logged (dmesg, type=1326), and dropping every call no run needed; docs/DECISIONS.md says how to repeat
 * that. Nothing on it creates a socket, binds, connects, forks, executes, changes an identity, chroots, ptraces or
 * loads a module: a compromised server cannot reach out, start a shell or raise its privileges.
 *
 * Threads: clone is allowed only with CLONE_THREAD (a thread, never a new process); clone3,
 * whose flags sit in memory a filter cannot read, fails with ENOSYS, and glibc then falls
 * back to clone. wait4 reaps the key process, the front end's one child.
 *
 * The key process (server/keyproc.c) gets its own, much shorter list, keyproc_allowed[]:
 * it reads and writes its one socket (the descriptor is in the rule), writes its log line
 * to stderr, manages memory and exits. The store process (server/storeproc.c) gets a third,
 * storeproc_allowed[]: the same socket rules, plus LMDB's file calls (which the front end,
 * holding no LMDB handle, no longer has: no pwrite, fdatasync or fstatfs). All three lists
 * are loaded by the same code (load()). sd_sandbox_become is the privilege drop they share.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <malloc.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <seccomp.h>

#include "sealdrop/log.h"
#include "sealdrop/sandbox.h"
#include "sealdrop/storewire.h"

/* Names, not numbers: libseccomp resolves them for the architecture, and a name this
 * architecture lacks (an old call a newer one replaced) is skipped. */
static const char *const allowed[] = {
        /* memory */
        "brk",
        "mmap",
        "munmap",
        "mremap",
        "mprotect",
        "madvise",
        "mlock", /* sodium_malloc, for every secret made while serving */
        "munlock",
        /* threads, locks, signals */
        "futex",
        "set_robust_list",
        "rseq",
        "gettid",
        "getpid",
        "tgkill", /* abort(), so a failed assertion still ends in SIGABRT */
        "exit",
        "exit_group",
        "rt_sigprocmask",
        "rt_sigaction", /* OpenSSL and libevent, per connection */
        "rt_sigreturn",
        /* the event loop and the sockets it already holds */
        "epoll_wait",
        "epoll_ctl",
        "accept4",
        "read",
        "write",
        "readv",
        "writev",
        "setsockopt",
        "getsockopt",
        "close",
        "shutdown", /* the store process's socket, at the end or when it is lost */
        "sendmsg",  /* a backup's file descriptor to the store process (SCM_RIGHTS) */
        /* files: a directory install, the log, the test build's clock (pread); LMDB is the
         * store process's (storeproc_allowed) */
        "openat",
        "newfstatat", /* glibc's fstat */
        "lseek",
        "pread64",
        "fsync",
        "fcntl",
        "rename", /* directory install (sd_file_write, SD_AFILE_REPLACE) */
        "unlink",
        "dup2",            /* the log, reopened on SIGHUP */
        "wait4",           /* the key and store processes, reaped when they die or at the end */
        "clock_nanosleep", /* a dead store process's status, waited for a moment */
        "kill",            /* a child that has not ended after its socket closed */
        /* time and randomness */
        "clock_gettime",
        "getrandom",
        /* glibc's qsort, the first time it sorts 1 KiB or more in a process, asks the
         * machine's memory size (sysconf(_SC_PHYS_PAGES), that is sysinfo): OpenSSL sorts
         * a CRL's revoked entries and jansson an object's keys with it. It reads counters
         * (uptime, load, memory), changes nothing. */
        "sysinfo",
};

/* The key process: memory (glibc's malloc and jansson; sodium_free at the end), its exit
 * and abort(), and sysinfo for glibc's qsort (jansson sorts the keys of what it signs; see
 * allowed[]). read and write are added in build_keyproc, on its descriptors only. */
static const char *const keyproc_allowed[] = {
        "brk",     "mmap",   "munmap", "mremap",        "mprotect",     "madvise",
        "munlock", "futex",  "exit",   "exit_group",    "rt_sigreturn", "rt_sigprocmask",
        "getpid",  "gettid", "tgkill", "clock_gettime", "sysinfo",
};

/* The store process: memory and threads (the store thread and its reply thread, started
 * before the filter), LMDB's file calls (pread and pwrite, lseek and writev for its page
 * flush, fdatasync and fsync, fstat and fstatfs before the map grows, munmap and mmap when
 * it grows or gives its pages back, madvise for malloc's trim, close at the end), the clock for its log line's date,
 * sysinfo for glibc's qsort (a batch's written ranges are sorted: store_drop_written; see allowed[]).
 * read and write are added in build_storeproc, on its socket (and stderr) only, and
 * fadvise64 for POSIX_FADV_DONTNEED only (a written chunk's cache handed back). */
static const char *const storeproc_allowed[] = {
        "brk",           "mmap",       "munmap",         "mremap",
        "mprotect",      "madvise",    "futex",          "set_robust_list",
        "rseq",          "gettid",     "getpid",         "tgkill",
        "exit",          "exit_group", "rt_sigprocmask", "rt_sigreturn",
        "clock_gettime", "pread64",    "pwrite64",       "pwritev",
        "writev",        "lseek",      "fsync",          "fdatasync",
        "fstatfs",       "newfstatat", "close",          "sysinfo",
};

unsigned sd_sandbox_allowed_count(void)
{
	/* clone (threads only) and ioctl (FIONREAD only) are added by hand, in build() */
	return (unsigned)(sizeof(allowed) / sizeof(allowed[0])) + 2;
}

int sd_sandbox_harden(void)
{
	const struct rlimit none = {0, 0};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return sd_error(SD_ERR_INTERNAL, "prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
	if (setrlimit(RLIMIT_CORE, &none) != 0)
		return sd_error(SD_ERR_INTERNAL, "setrlimit(RLIMIT_CORE): %s", strerror(errno));
#ifdef SD_SANDBOX_SANITIZER
	sd_log(SD_LOG_WARN, "sanitizer build: the process stays dumpable, for the leak checker");
#else
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return sd_error(SD_ERR_INTERNAL, "prctl(PR_SET_DUMPABLE): %s", strerror(errno));
#endif
	return 0;
}

/* glibc's defaults trim the heap whenever 128 KiB are free at its top: with 64 KiB chunks
 * that is every other request, and each fresh buffer page-faults again. These are the
 * values glibc's own dynamic threshold settles on once a 4 MiB chunk has been freed (the
 * mmap threshold the largest chunk with its request around it, trimming at twice that), so
 * a server of large chunks keeps the memory it kept before and one of small chunks stops
 * giving its buffers back. mallopt makes no system call; malloc then makes the same calls
 * (brk, mmap, munmap), fewer of them. */
#define MALLOC_MMAP_THRESHOLD ((4 << 20) + (512 << 10))

void sd_sandbox_tune_malloc(void)
{
	(void)mallopt(M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD);
	(void)mallopt(M_TRIM_THRESHOLD, 2 * MALLOC_MMAP_THRESHOLD);
}

unsigned sd_sandbox_keyproc_allowed_count(void)
{
	/* read and write, on given descriptors, are added by hand, in build_keyproc() */
	return (unsigned)(sizeof(keyproc_allowed) / sizeof(keyproc_allowed[0])) + 2;
}

void sd_sandbox_set_name(const char *name)
{
	(void)prctl(PR_SET_NAME, name, 0, 0, 0);
}

int sd_sandbox_become(const char *dir, uid_t uid, gid_t gid)
{
	if (dir != NULL && (chroot(dir) < 0 || chdir("/") < 0))
		return sd_error(SD_ERR_INTERNAL, "chroot %s: %s", dir, strerror(errno));
	if (setgroups(1, &gid) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
		return sd_error(SD_ERR_INTERNAL, "cannot become uid %u: %s", (unsigned)uid, strerror(errno));
	if (setuid(0) == 0 || geteuid() != uid)
		return sd_error(SD_ERR_INTERNAL, "the privilege drop to uid %u did not hold", (unsigned)uid);
	return 0;
}

/* The shared core: the filter's attributes and a list of calls allowed whatever their
 * arguments. */
static int allow_names(scmp_filter_ctx ctx, const char *const *names, size_t n)
{
	int nr;

	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) != 0 ||
	    seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) != 0)
		return sd_error(SD_ERR_INTERNAL, "seccomp: cannot set the filter's attributes");
	for (size_t i = 0; i < n; i++) {
		if ((nr = seccomp_syscall_resolve_name(names[i])) == __NR_SCMP_ERROR)
			continue;
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) != 0)
			return sd_error(SD_ERR_INTERNAL, "seccomp: cannot allow %s", names[i]);
	}
	return 0;
}

/* The front end's filter: the list, clone for threads only, clone3 refused so glibc uses clone. */
static int build(scmp_filter_ctx ctx, int unused)
{
	/* Spelt out: SCMP_A0/SCMP_A1 leave datum_b out, which clang -Wextra refuses. */
	const struct scmp_arg_cmp fionread = {.arg = 1, .op = SCMP_CMP_EQ, .datum_a = FIONREAD, .datum_b = 0};
	const struct scmp_arg_cmp thread = {
	        .arg = 0, .op = SCMP_CMP_MASKED_EQ, .datum_a = CLONE_THREAD, .datum_b = CLONE_THREAD};
	int r;

	(void)unused;
	if ((r = allow_names(ctx, allowed, sizeof(allowed) / sizeof(allowed[0]))) < 0)
		return r;
	/* libevent asks how many bytes a socket holds before it reads (FIONREAD) */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, fionread) != 0)
		return sd_error(SD_ERR_INTERNAL, "seccomp: cannot allow ioctl(FIONREAD)");
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1, thread) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) != 0)
		return sd_error(SD_ERR_INTERNAL, "seccomp: cannot allow clone for threads");
	return 0;
}

/* The key process's filter: its list, then read on its socket, write on its socket or
 * on stderr (its one log line). */
static int build_keyproc(scmp_filter_ctx ctx, int fd)
{
	const struct scmp_arg_cmp on_sock = {.arg = 0, .op = SCMP_CMP_EQ, .datum_a = (scmp_datum_t)fd, .datum_b = 0};
	const struct scmp_arg_cmp on_err = {.arg = 0, .op = SCMP_CMP_EQ, .datum_a = 2, .datum_b = 0};
	int r;

	if ((r = allow_names(ctx, keyproc_allowed, sizeof(keyproc_allowed) / sizeof(keyproc_allowed[0]))) < 0)
		return r;
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(read), 1, on_sock) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1, on_sock) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1, on_err) != 0)
		return sd_error(SD_ERR_INTERNAL, "seccomp: cannot allow I/O on descriptor %d", fd);
	return 0;
}

/* A backup (server/storeproc.c, backup_main): the file's descriptor comes with its message
 * (recvmsg on the socket), is moved to SD_STOREPROC_BACKUP_FD (dup3 onto that number only),
 * and LMDB's compacting copy writes it (write on that number only) from a thread of its own
 * and one of LMDB's (clone for threads only, clone3 refused so glibc uses clone). */
static int build_storeproc_backup(scmp_filter_ctx ctx, int fd)
{
	const struct scmp_arg_cmp on_sock = {.arg = 0, .op = SCMP_CMP_EQ, .datum_a = (scmp_datum_t)fd, .datum_b = 0};
	const struct scmp_arg_cmp on_backup = {
	        .arg = 0, .op = SCMP_CMP_EQ, .datum_a = SD_STOREPROC_BACKUP_FD, .datum_b = 0};
	const struct scmp_arg_cmp to_backup = {
	        .arg = 1, .op = SCMP_CMP_EQ, .datum_a = SD_STOREPROC_BACKUP_FD, .datum_b = 0};
	const struct scmp_arg_cmp thread = {
	        .arg = 0, .op = SCMP_CMP_MASKED_EQ, .datum_a = CLONE_THREAD, .datum_b = CLONE_THREAD};
	const struct scmp_arg_cmp setlk = {.arg = 1, .op = SCMP_CMP_EQ, .datum_a = F_SETLK, .datum_b = 0};
	const struct scmp_arg_cmp getlk = {.arg = 1, .op = SCMP_CMP_EQ, .datum_a = F_GETLK, .datum_b = 0};

	/* The copy's read transaction is the process's first: LMDB marks the process live in its
	 * lock file with a byte-range lock (mdb_reader_pid: fcntl F_SETLK, F_GETLK). */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1, setlk) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1, getlk) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(recvmsg), 1, on_sock) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1, on_backup) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(dup3), 1, to_backup) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1, thread) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) != 0)
		return sd_error(SD_ERR_INTERNAL, "seccomp: cannot allow a backup's calls");
	return 0;
}

/* The store process's filter: its list, then read on its socket, write on its socket or
 * on stderr (its log lines), the one advice it gives, and a backup's calls. */
static int build_storeproc(scmp_filter_ctx ctx, int fd)
{
	const struct scmp_arg_cmp on_sock = {.arg = 0, .op = SCMP_CMP_EQ, .datum_a = (scmp_datum_t)fd, .datum_b = 0};
	const struct scmp_arg_cmp on_err = {.arg = 0, .op = SCMP_CMP_EQ, .datum_a = 2, .datum_b = 0};
	const struct scmp_arg_cmp dontneed = {
	        .arg = 3, .op = SCMP_CMP_EQ, .datum_a = POSIX_FADV_DONTNEED, .datum_b = 0};
	int r;

	if ((r = allow_names(ctx, storeproc_allowed, sizeof(storeproc_allowed) / sizeof(storeproc_allowed[0]))) < 0)
		return r;
	/* glibc's malloc reads /proc/sys/vm/overcommit_memory the first time a thread's heap
	 * shrinks, and copes when it cannot: open fails (EACCES) rather than kill the store. */
	if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 0) != 0)
		return sd_error(SD_ERR_INTERNAL, "seccomp: cannot refuse openat");
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(read), 1, on_sock) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1, on_sock) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1, on_err) != 0)
		return sd_error(SD_ERR_INTERNAL, "seccomp: cannot allow I/O on descriptor %d", fd);
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fadvise64), 1, dontneed) != 0)
		return sd_error(SD_ERR_INTERNAL, "seccomp: cannot allow fadvise64(POSIX_FADV_DONTNEED)");
	return build_storeproc_backup(ctx, fd);
}

unsigned sd_sandbox_storeproc_allowed_count(void)
{
	/* read, write and fadvise64, on given arguments, are added by hand, in
	 * build_storeproc(); recvmsg, dup3, clone and fcntl in build_storeproc_backup() */
	return (unsigned)(sizeof(storeproc_allowed) / sizeof(storeproc_allowed[0])) + 7;
}

static int load(int (*fill)(scmp_filter_ctx ctx, int arg), int arg)
{
	scmp_filter_ctx ctx;
	int r, rc;

	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL)
		return sd_error(SD_ERR_INTERNAL, "seccomp: cannot create a filter");
	if ((r = fill(ctx, arg)) == 0 && (rc = seccomp_load(ctx)) != 0)
		r = sd_error(SD_ERR_INTERNAL, "seccomp: the kernel refused the filter: %s", strerror(-rc));
	seccomp_release(ctx);
	return r;
}

int sd_sandbox_enter(void)
{
	int r;

#ifdef SD_SANDBOX_SANITIZER
	sd_log(SD_LOG_WARN, "sanitizer build: no system-call filter (the leak checker needs ptrace)");
	return 0;
#endif
	if ((r = load(build, 0)) == 0)
		sd_log(SD_LOG_INFO, "sandboxed: %u system calls allowed, any other kills the server",
		       sd_sandbox_allowed_count());
	return r;
}

int sd_sandbox_enter_keyproc(int fd)
{
#ifdef SD_SANDBOX_SANITIZER
	return 0; /* the front end's log already says the build has no filter */
#endif
	return load(build_keyproc, fd);
}

int sd_sandbox_enter_storeproc(int fd)
{
#ifdef SD_SANDBOX_SANITIZER
	return 0; /* the front end's log already says the build has no filter */
#endif
	return load(build_storeproc, fd);
}
