/*
 * storeproc.h — the store process: the only sealdropd process that holds an LMDB handle
 * (server/storeproc.c; the messages are include/sealdrop/privsep.h and storewire.h).
 *
 * `sealdropd run` starts it right after the key process, before any other secret (the TLS
 * key, the CA key) is read: a fork over a socketpair. The child keeps its end of the socket
 * and the standard descriptors, names itself "sealdropd-store", chroots into the server's
 * dir and drops to the server's user, turns off core dumps and new privileges, opens
 * DIR/store (store.h: the same store, thread, group commit and faults as in one process),
 * installs its own seccomp allow-list (sd_sandbox_enter_storeproc) and says READY. It then
 * checks every request against its policy (sd_storewire_policy_check) and runs it, until
 * the front end closes the socket: it answers everything queued, closes the store and exits
 * 0. A request that does not decode ends it (exit 2) after the same drain; a failed fsync
 * ends it with SD_STORE_EXIT_FATAL, as it would end a one-process server.
 *
 * The front end reaches it through the sd_store_t that sd_storeproc_start returns
 * (sd_store_open_remote). A store process that dies is fatal to the front end.
 */
#ifndef SEALDROP_STOREPROC_H
#define SEALDROP_STOREPROC_H

#include <stdbool.h>
#include <sys/types.h>

#include "sealdrop/error.h"
#include "sealdrop/store.h"

#define SD_STOREPROC_NAME "sealdropd-store"

typedef struct sd_storeproc sd_storeproc_t;

typedef struct {
	const char *dir; /* the server's dir: chrooted into when drop, else the store's parent */
	bool drop;       /* chroot into dir and become uid/gid */
	uid_t uid;
	gid_t gid;
	sd_store_opts_t store;
} sd_storeproc_opts_t;

/* Starts the store process and waits until it has opened the store and is sandboxed:
 * *store is the front end's handle on it. When it cannot open the store, its error code
 * and detail (sd_store_open's) are returned here, and it has exited. */
int sd_storeproc_start(const sd_storeproc_opts_t *opts, sd_storeproc_t **out, sd_store_t **store) SD_WUR;

/* Reaps the store process if it has exited (never waits): true, with a loud log line, when
 * it is gone; then the store's lost callback has run or runs (its socket closed). For
 * the loop's SIGCHLD. */
bool sd_storeproc_check(sd_storeproc_t *sp);
/* Waits up to ms milliseconds for it to exit; its exit status (0..255), 128 + the signal
 * that killed it, or -1 when it has not exited. Logs how it ended unless that was 0. */
int sd_storeproc_wait(sd_storeproc_t *sp, int ms);
pid_t sd_storeproc_pid(const sd_storeproc_t *sp);

/* Waits for the store process (its socket must be closed first: sd_store_close) and frees. */
void sd_storeproc_free_(sd_storeproc_t *sp);
#define sd_storeproc_free(sp)                                                                                          \
	do {                                                                                                           \
		sd_storeproc_free_(sp);                                                                                \
		(sp) = NULL;                                                                                           \
	} while (0)

/* The test build's probe (sealdropd-testclock only, server/server.c): fn runs in the store
 * process right after it said it is ready, under its filter. */
void sd_storeproc_set_probe(void (*fn)(void));

/* The store process's loop, for the tests: serves requests on fd with store until the peer
 * closes fd (0) or breaks the protocol (SD_ERR_PROTOCOL); closes the store either way. */
int sd_storeproc_serve(int fd, sd_store_t *store) SD_WUR;

#endif
