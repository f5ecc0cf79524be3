/*
 * sandbox.c — least privilege for a running sealdropd (include/sealdrop/sandbox.h): no new
 * privileges, no core dumps, and a seccomp-bpf allow-list of system calls. Start reading
 * at allowed[], the list itself, then sd_sandbox_enter.
 *
 * The list is what the server makes once it serves: the event loop (epoll, accept4, TLS
 * reads and writes on sockets it already holds, ioctl FIONREAD), the store thread and its
 * sync thread (LMDB: pread and pwrite, lseek and writev, fdatasync and fsync, mmap), the
 * worker and the control socket's threads (futex, clone for threads only), sodium_malloc
 * (mlock), a directory install (openat, rename, fsync), the log (dup2 on SIGHUP) and the
 * clock. It was found by running the whole end-to-end suite with the filter's default
 * action set to log instead of kill, reading what the kernel logged (dmesg, type=1326),
 * and dropping every call no run needed; docs/DECISIONS.md says how to repeat that.
 * Nothing on it creates a socket, binds, connects, forks, executes, changes an identity,
 * chroots, ptraces or loads a module: a compromised server cannot reach out, start a
 * shell or raise its privileges.
 *
 * Threads: clone is allowed only with CLONE_THREAD (a thread, never a new process); clone3,
 * whose flags sit in memory a filter cannot read, fails with ENOSYS, and glibc then falls
 * back to clone.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <seccomp.h>

#include "sealdrop/log.h"
#include "sealdrop/sandbox.h"

#if defined(__SANITIZE_ADDRESS__)
#define SD_SANDBOX_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SD_SANDBOX_SANITIZER 1
#endif
#endif

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
        /* files: LMDB (pread, pwrite, fdatasync, fsync), spools, backups, the log */
        "openat",
        "newfstatat", /* glibc's fstat */
        "lseek",
        "pread64",
        "pwrite64",
        "fsync",
        "fdatasync",
        "fcntl",
        "rename", /* directory install (sd_file_write, SD_AFILE_REPLACE) */
        "unlink",
        "dup2", /* the log, reopened on SIGHUP */
        /* time and randomness */
        "clock_gettime",
        "getrandom",
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

/* The filter: the list, clone for threads only, clone3 refused so glibc uses clone. */
static int build(scmp_filter_ctx ctx)
{
	/* Spelt out: SCMP_A0/SCMP_A1 leave datum_b out, which clang -Wextra refuses. */
	const struct scmp_arg_cmp fionread = {.arg = 1, .op = SCMP_CMP_EQ, .datum_a = FIONREAD, .datum_b = 0};
	const struct scmp_arg_cmp thread = {
	        .arg = 0, .op = SCMP_CMP_MASKED_EQ, .datum_a = CLONE_THREAD, .datum_b = CLONE_THREAD};
	int nr;

	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) != 0 ||
	    seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) != 0)
		return sd_error(SD_ERR_INTERNAL, "seccomp: cannot set the filter's attributes");
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		if ((nr = seccomp_syscall_resolve_name(allowed[i])) == __NR_SCMP_ERROR)
			continue;
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) != 0)
			return sd_error(SD_ERR_INTERNAL, "seccomp: cannot allow %s", allowed[i]);
	}
	/* libevent asks how many bytes a socket holds before it reads (FIONREAD) */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, fionread) != 0)
		return sd_error(SD_ERR_INTERNAL, "seccomp: cannot allow ioctl(FIONREAD)");
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1, thread) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) != 0)
		return sd_error(SD_ERR_INTERNAL, "seccomp: cannot allow clone for threads");
	return 0;
}

int sd_sandbox_enter(void)
{
	scmp_filter_ctx ctx;
	int r, rc;

#ifdef SD_SANDBOX_SANITIZER
	sd_log(SD_LOG_WARN, "sanitizer build: no system-call filter (the leak checker needs ptrace)");
	return 0;
#endif
	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL)
		return sd_error(SD_ERR_INTERNAL, "seccomp: cannot create a filter");
	if ((r = build(ctx)) == 0 && (rc = seccomp_load(ctx)) != 0)
		r = sd_error(SD_ERR_INTERNAL, "seccomp: the kernel refused the filter: %s", strerror(-rc));
	seccomp_release(ctx);
	if (r == 0)
		sd_log(SD_LOG_INFO, "sandboxed: %u system calls allowed, any other kills the server",
		       sd_sandbox_allowed_count());
	return r;
}
