/*
 * fileio.h — files written whole or not at all, and bounded reads.
 *
 * Outputs go to a temporary name in the destination's directory (mode given, O_EXCL,
 * O_NOFOLLOW), are fsync'd, and only then get their final name; a failure or a crash
 * leaves no half-written file under the final name. SD_AFILE_NOCLOBBER commits with
 * link(2), so an existing file is never replaced.
 */
#ifndef SEALDROP_FILEIO_H
#define SEALDROP_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "sealdrop/error.h"

typedef struct sd_afile sd_afile_t;

enum { SD_AFILE_REPLACE = 0, SD_AFILE_NOCLOBBER = 1 };

int sd_afile_open(sd_afile_t **out, const char *path, mode_t mode) SD_WUR;
int sd_afile_fd(const sd_afile_t *f);
int sd_afile_write(sd_afile_t *f, const void *buf, size_t len) SD_WUR;
int sd_afile_pwrite(sd_afile_t *f, const void *buf, size_t len, uint64_t off) SD_WUR;
/* fsync, rename (or link for NOCLOBBER: SD_ERR_EXISTS if the name is taken), fsync the
 * directory; frees f in every case. */
int sd_afile_commit(sd_afile_t *f, int flags) SD_WUR;
/* Removes the temporary file and frees f; NULL is fine. */
void sd_afile_abort(sd_afile_t *f);

/* Whole small file into malloc'd memory (NUL-terminated for convenience, *len excludes
 * it). SD_ERR_NOENT if missing, SD_ERR_TOOBIG beyond max bytes. */
int sd_file_read(const char *path, size_t max, uint8_t **out, size_t *len) SD_WUR;
/* The same into sodium_malloc'd memory, for passphrases and codenames; the trailing
 * newline (LF or CRLF) is removed. Free with sodium_free. */
int sd_file_read_secret(const char *path, size_t max, char **out, size_t *len) SD_WUR;
/* Whole buffer to a new file, atomically. */
int sd_file_write(const char *path, const void *buf, size_t len, mode_t mode, int flags) SD_WUR;

/* read(2)/write(2) until done, retrying EINTR. sd_read_full sets *got to the bytes read
 * (short only at end of file). */
int sd_read_full(int fd, void *buf, size_t len, size_t *got) SD_WUR;
int sd_write_full(int fd, const void *buf, size_t len) SD_WUR;

/* The client's state (the highest directory versions seen, the last audit log heads). */
/* mkdir -p: every missing directory of path created 0700. path is modified and restored. */
int sd_mkdir_p(char *path) SD_WUR;
/* $XDG_STATE_HOME/sealdrop (the XDG spec ignores a relative value), else
 * $HOME/.local/state/sealdrop, malloc'd (not created). SD_ERR_CONFIG without either. */
int sd_state_dir(char **out) SD_WUR;
/* An exclusive flock(2) on dir/.lock (created 0600): two clients updating the same state
 * at once must not let the older value be written last. Close *fd to release. */
int sd_lock_dir(const char *dir, int *fd) SD_WUR;

#endif
