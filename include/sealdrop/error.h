/*
 * error.h — libsealdrop's error codes.
 *
 * Every library function returns 0 or a negative SD_ERR_* code. A function that fails
 * may also leave a one-line explanation for this thread (sd_error_detail()), naming what
 * was wrong ("report field 'purpose' is missing"); it never contains a secret.
 * sd_exit_code() maps a code to the sysexits(3) status the command-line tools exit with.
 */
#ifndef SEALDROP_ERROR_H
#define SEALDROP_ERROR_H

#include <stddef.h>

#define SD_WUR __attribute__((warn_unused_result))

enum sd_err {
	SD_OK = 0,
	SD_ERR_INTERNAL = -1, /* a broken invariant: a bug */
	SD_ERR_NOMEM = -2,
	SD_ERR_IO = -3,           /* read/write/fsync/rename failed */
	SD_ERR_NOENT = -4,        /* an input file does not exist */
	SD_ERR_EXISTS = -5,       /* an output already exists; nothing is overwritten */
	SD_ERR_USAGE = -6,        /* a caller passed an impossible argument */
	SD_ERR_FORMAT = -7,       /* malformed input */
	SD_ERR_TRUNCATED = -8,    /* input ends early */
	SD_ERR_TOOBIG = -9,       /* input beyond a documented limit */
	SD_ERR_VERSION = -10,     /* a format version this build does not read */
	SD_ERR_VERIFY = -11,      /* a signature, MAC or hash does not verify */
	SD_ERR_PASSPHRASE = -12,  /* a key file does not open with this passphrase */
	SD_ERR_WRONG_KEY = -13,   /* data was sealed to another key */
	SD_ERR_DEPLOYMENT = -14,  /* data belongs to another deployment */
	SD_ERR_EXPIRED = -15,     /* past its not-after date */
	SD_ERR_ROLLBACK = -16,    /* older than a version already seen */
	SD_ERR_INVALID = -17,     /* a record field is missing or invalid */
	SD_ERR_CODENAME = -18,    /* a codename is mistyped */
	SD_ERR_CONFIG = -19,      /* configuration error */
	SD_ERR_REFUSED = -20,     /* refused by policy */
	SD_ERR_CANCELLED = -21,   /* stopped by sd_cancel_request() (a signal) */
	SD_ERR_UNAVAILABLE = -22, /* a server cannot be reached, timed out or failed (5xx) */
	SD_ERR_PROTOCOL = -23,    /* a peer broke the protocol, or its TLS identity does not verify */
};

/* The text of err, translated when a translator is set. */
const char *sd_strerror(int err);

/* Marks a message for the translators' catalogue (xgettext --keyword=SD_N_) without
 * translating it where it stands. */
#define SD_N_(s) (s)

/* A translator maps an English message (a format or an error's text) to the reader's
 * language, or returns it unchanged. The client sets gettext here once, at start and
 * before any thread exists, so the library's error details reach a Korean reader in
 * Korean; the server sets none, and its logs stay in the English the docs quote. A
 * translation keeps its format's conversions (msgfmt --check verifies it). */
typedef const char *(*sd_translate_fn)(const char *msgid);
void sd_error_set_translator(sd_translate_fn fn);

/* The sysexits(3) status for err: 64 usage, 65 data, 66 no input, 70 internal,
 * 71 out of memory, 73 cannot create, 74 I/O, 77 refused/permission, 78 config,
 * 69 unavailable, 76 protocol, 130 cancelled (as a shell reports an interrupted command). */
int sd_exit_code(int err);

/* Records a one-line explanation for this thread and returns err, so callers write
 * `return sd_error(SD_ERR_FORMAT, "...", ...);`. Never pass secrets. */
int sd_error(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The explanation recorded by the last sd_error() on this thread, or "". */
const char *sd_error_detail(void);

/* Untrusted text made fit to quote in a message: control bytes become '?', and text
 * longer than cap - 1 bytes is cut on a UTF-8 boundary and marked "..." (cap >= 4).
 * Returns out. */
const char *sd_error_printable(const char *in, char *out, size_t cap);
void sd_error_clear(void);

#endif
