/*
 * sandbox.h — what a running sealdropd may still do once it has started (server/sandbox.c):
 * the only module that calls prctl, setrlimit for core files, and libseccomp, for both
 * of sealdropd's three processes (the front end, the key process, include/sealdrop/keyproc.h,
 * and the store process, include/sealdrop/storeproc.h).
 *
 * Two steps, in the order sd_server_new and sd_server_run take them:
 *
 *   sd_sandbox_harden   right after the privilege drop: no new privileges ever
 *                       (PR_SET_NO_NEW_PRIVS, so no set-uid program or file capability
 *                       can raise them again), not dumpable (PR_SET_DUMPABLE 0: no core
 *                       file, no ptrace by the same uid, /proc/PID owned by root) and
 *                       RLIMIT_CORE 0;
 *   sd_sandbox_enter    when every file and socket the server needs is open, just before
 *                       the event loop: a seccomp-bpf allow-list of the system calls the
 *                       running server makes, synchronised onto every thread already
 *                       running (SECCOMP_FILTER_FLAG_TSYNC) and inherited by every thread
 *                       started later. Any other system call kills the whole process with
 *                       SIGSYS (exit status 159 from a shell).
 *
 * There is no switch to turn either off: a release sealdropd always runs sandboxed. A
 * sanitizer build (ASan's leak checker stops the world with ptrace) keeps only the first
 * step's no-new-privileges and core limit, and says so in its log.
 */
#ifndef SEALDROP_SANDBOX_H
#define SEALDROP_SANDBOX_H

#include <sys/types.h>

#include "sealdrop/error.h"

/* Defined in a sanitizer build (gcc's __SANITIZE_ADDRESS__, clang's address_sanitizer),
 * whose allocator and leak checker the sandbox and the malloc settings must make room for
 * or leave alone. */
#if defined(__SANITIZE_ADDRESS__)
#define SD_SANDBOX_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SD_SANDBOX_SANITIZER 1
#endif
#endif

/* No new privileges, not dumpable, no core files. SD_ERR_INTERNAL when the kernel refuses. */
int sd_sandbox_harden(void) SD_WUR;
/* malloc keeps freed memory up to a few MiB instead of trimming its heap after each
 * request (the front end and the store process, before their first request). */
void sd_sandbox_tune_malloc(void);
/* The system-call allow-list on every thread of the process. SD_ERR_INTERNAL when a call
 * cannot be named or the kernel refuses the filter; the server must not run on. */
int sd_sandbox_enter(void) SD_WUR;
/* The number of system calls the allow-list lets through (for the log and the tests). */
unsigned sd_sandbox_allowed_count(void);

/* The key process's own allow-list (server/keyproc.c): read and write on fd,
 * write on stderr, memory management, exit: nothing that opens a file, makes a socket,
 * writes to another descriptor, forks or executes. */
int sd_sandbox_enter_keyproc(int fd) SD_WUR;
unsigned sd_sandbox_keyproc_allowed_count(void);
/* The store process's own allow-list (server/storeproc.c): read and write on fd, write on
 * stderr, LMDB's file calls on the descriptors it already holds, memory and threads' locks:
 * nothing that makes a socket, forks or executes kills it; opening a file fails (EACCES:
 * glibc's malloc tries one /proc file and copes). */
int sd_sandbox_enter_storeproc(int fd) SD_WUR;
unsigned sd_sandbox_storeproc_allowed_count(void);
/* The process's name (PR_SET_NAME: ps, top, /proc/PID/comm), at most 15 bytes. */
void sd_sandbox_set_name(const char *name);

/* The privilege drop both processes take: chroot into dir (NULL: none) and become
 * uid/gid for good (all three ids, supplementary groups to gid alone), checked by trying
 * to get root back. */
int sd_sandbox_become(const char *dir, uid_t uid, gid_t gid) SD_WUR;

#endif
