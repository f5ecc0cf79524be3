/*
 * keyproc.h — the key process: the only sealdropd process that holds the log signing key
 * (server/keyproc.c; the messages are include/sealdrop/privsep.h).
 *
 * `sealdropd run` starts it as soon as the key is loaded, as root and before anything
 * else is read: a fork over a socketpair. The child keeps the key and its end of the
 * socket, closes every other descriptor, names itself "sealdropd-keys", drops to the
 * server's user (chrooted into the server's dir), turns off core dumps and new privileges,
 * and installs its own seccomp allow-list (sd_sandbox_enter_keyproc): reads and writes on
 * its socket and memory management, nothing else. It then answers signing requests, one
 * at a time, until the socket closes, and exits 0. The front end wipes its own copy of
 * the key once the child said it is ready, and from then on keeps only the public half.
 *
 * Everything but sd_keyproc_start and sd_keyproc_set_probe is called by the front end
 * only; the sign functions from any thread (one request is in flight at a time).
 * A key process that dies, answers out of protocol or stops answering is fatal: every
 * later call fails, and the lost callback tells the server to stop.
 */
#ifndef SEALDROP_KEYPROC_H
#define SEALDROP_KEYPROC_H

#include <stdbool.h>
#include <sys/types.h>

#include "sealdrop/error.h"
#include "sealdrop/export.h"
#include "sealdrop/keys.h"
#include "sealdrop/loghead.h"
#include "sealdrop/notice.h"
#include "sealdrop/receipt.h"

typedef struct sd_keyproc sd_keyproc_t;

/* Who the key process becomes: chrooted into dir (NULL: no chroot) as uid/gid (when drop). */
typedef struct {
	const char *dir;
	bool drop;
	uid_t uid;
	gid_t gid;
} sd_keyproc_opts_t;

/* Starts the key process with *key and waits until it is sandboxed and ready. In this
 * process *key is wiped, freed and set to NULL, whether the start succeeds or not. */
int sd_keyproc_start(sd_seckey_t **key, const sd_keyproc_opts_t *opts, sd_keyproc_t **out) SD_WUR;

/* What sd_server_sign_* do: the structure goes to the key process, the signed document
 * comes back (*json malloc'd, NUL-terminated). A refusal (the structure's fields do not
 * check) is the signing function's error code; a dead or misbehaving key process is
 * SD_ERR_UNAVAILABLE, now and for every later call. */
int sd_keyproc_sign_receipt(sd_keyproc_t *kp, const sd_receipt_t *rc, char **json) SD_WUR;
int sd_keyproc_sign_notice(sd_keyproc_t *kp, const sd_notice_t *n, char **json) SD_WUR;
int sd_keyproc_sign_head(sd_keyproc_t *kp, const sd_loghead_t *h, char **json) SD_WUR;
int sd_keyproc_sign_export(sd_keyproc_t *kp, const sd_export_receipt_t *er, char **json) SD_WUR;

/* fn(ctx) runs once, on the thread that finds the key process lost (dead, out of
 * protocol, or silent for SD_KEYPROC_TIMEOUT seconds), after the loud log line. */
#define SD_KEYPROC_TIMEOUT 10
void sd_keyproc_on_lost(sd_keyproc_t *kp, void (*fn)(void *ctx), void *ctx);
/* Reaps the key process if it has exited (never waits): true, with the log line, when it
 * is gone. For the loop's SIGCHLD. */
bool sd_keyproc_check(sd_keyproc_t *kp);
bool sd_keyproc_is_lost(sd_keyproc_t *kp);
pid_t sd_keyproc_pid(const sd_keyproc_t *kp);
/* The front end's end of the socket: for the tests, which speak out of protocol on it. */
int sd_keyproc_fd(const sd_keyproc_t *kp);

/* Closes the socket, which ends the key process, and reaps it. */
void sd_keyproc_free_(sd_keyproc_t *kp);
#define sd_keyproc_free(kp)                                                                                            \
	do {                                                                                                           \
		sd_keyproc_free_(kp);                                                                                  \
		(kp) = NULL;                                                                                           \
	} while (0)

/* The test build's probe (sealdropd-testclock only, server/server.c): fn runs in the key
 * process right after it said it is ready, under its filter. */
void sd_keyproc_set_probe(void (*fn)(void));

#endif
