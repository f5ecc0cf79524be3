/*
 * logkey.h — rotating the server's log signing key (server/logkey.c; docs/OPERATIONS.md,
 * "Rotate the log key"). Private to the server: `sealdropd log-key new` and `sealdropd
 * log-key rotate` (server/cmd_logkey.c) are its callers.
 */
#ifndef SEALDROP_SERVER_LOGKEY_H
#define SEALDROP_SERVER_LOGKEY_H

#include <stdbool.h>
#include <stdint.h>

#include "sealdrop/error.h"
#include "sealdrop/keys.h"

#define SD_LOGKEY_NEXT_FILE     "log.key.next"     /* DIR/: the next log key, 0600, until rotate */
#define SD_LOGKEY_NEXT_PUB_FILE "log.key.next.pub" /* DIR/: its public half, for the root holder */

/* What a rotation did. */
typedef struct {
	uint8_t old_id[SD_KEY_ID_BYTES]; /* the retired key */
	uint8_t new_id[SD_KEY_ID_BYTES]; /* the log key from now on */
	uint32_t version;                /* the directory installed */
	uint64_t size;                   /* the log's size after the two leaves */
	uint64_t leaf;                   /* the index of the log-key-rotated leaf */
	bool resumed;                    /* an earlier, interrupted run had done some of it */
} sd_logkey_rotation_t;

/* Generates the next log key into DIR/log.key.next (0600, owned as DIR/log.key is) and its
 * public half into pub_path (NULL: DIR/log.key.next.pub). SD_ERR_EXISTS when
 * DIR/log.key.next exists. The server may be running. */
int sd_logkey_new(const char *dir, const char *pub_path, sd_pubkey_t *out) SD_WUR;

/* Rotates the stopped server in DIR to DIR/log.key.next, installing the root-signed
 * directory `file` that names it as keys.log and the current key among keys.log_retired.
 * SD_ERR_REFUSED while a server holds the store; SD_ERR_INVALID / SD_ERR_ROLLBACK /
 * SD_ERR_DEPLOYMENT for a directory that does not fit (nothing changed). Re-running it
 * after a crash finishes what the crashed run began. */
int sd_logkey_rotate(const char *dir, const char *file, sd_logkey_rotation_t *out) SD_WUR;

#endif
