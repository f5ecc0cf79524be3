/*
 * backup.h — backing up a store and restoring one (server/backup.c; docs/STORE.md,
 * "Backup and restore"). Private to the server: `sealdropd backup` and `sealdropd
 * restore` (server/cmd_backup.c) are its callers.
 */
#ifndef SEALDROP_SERVER_BACKUP_H
#define SEALDROP_SERVER_BACKUP_H

#include <stdbool.h>
#include <stdint.h>

#include "sealdrop/error.h"
#include "sealdrop/store.h"
#include "sealdrop/storewire.h"

#define SD_CONTROL_BACKUP_DIR "backup" /* DIR/backup: where the store process's copy is made, 0700 */
#define SD_BACKUP_META_SUFFIX ".json"  /* the sidecar next to a backup file */
#define SD_BACKUP_FORMAT      1        /* the sidecar's "v" */
#define SD_BACKUP_ASIDE_MAX   64       /* "data.mdb.before-restore-YYYYMMDDTHHMMSSZ" and a counter */

/* A compacted copy of a local store (one sd_store_open returned, not a remote one) written
 * to fd from one read transaction: mdb_env_copyfd2 with MDB_CP_COMPACT. Writes go on
 * meanwhile (LMDB readers never block the writer). SD_ERR_USAGE for a remote store.
 * Lives in server/store.c, the one file that holds LMDB handles. */
int sd_store_copy_fd(sd_store_t *store, int fd) SD_WUR;

/* The front end's side of a hot backup: a control request to the store process (kind
 * SD_STOREWIRE_CTL_BACKUP_START with the file's descriptor fd, or _STATUS with -1), answered
 * in order with the data requests; blocks until the answer, so never on the event loop.
 * SD_ERR_USAGE for a store without a store process. (server/store.c) */
int sd_store_backup_ctl(sd_store_t *store, uint8_t kind, int fd, sd_storewire_ctl_reply_t *out) SD_WUR;
struct store_remote;
int store_remote_ctl_call(struct store_remote *rs, uint8_t kind, int fd, sd_storewire_ctl_reply_t *out);

/* The whole backup of a stopped server's store in DIR: `out` (data.mdb, compacted; 0600,
 * fsync'd, written under a temporary name and renamed) and out.json (the sidecar: v, dir,
 * date, log_size, store). *log_size: the leaves the copy holds. */
int sd_backup_offline(sd_store_t *store, const char *dir, const char *out, uint64_t *log_size) SD_WUR;

/* out.json: {"v", "dir", "date", "log_size", "store"} (0600, atomic). */
int sd_backup_sidecar(const char *out, const char *dir, uint64_t size) SD_WUR;

/* `sealdropd restore`: installs `from` (a backup's data.mdb) as DIR/store/data.mdb, the
 * old one kept as DIR/store/data.mdb.before-restore-DATE (never deleted), opens it, and
 * appends the epoch statement (a `restore` leaf numbered with the restored log's size N,
 * at index N). SD_ERR_REFUSED while a server holds the store. *size: N; aside: the name
 * the old store was kept under ("" when there was none). */
int sd_backup_restore(const char *dir, const char *from, uint64_t *size, char aside[SD_BACKUP_ASIDE_MAX]) SD_WUR;

#endif
