/*
 * sealdrop.h — libsealdrop's entry point: call sd_init() once before anything else.
 */
#ifndef SEALDROP_SEALDROP_H
#define SEALDROP_SEALDROP_H

#include "sealdrop/error.h"

#define SD_VERSION_STRING "0.2.0"

/* Initialises libsodium. 0, or SD_ERR_INTERNAL if the library cannot start. */
int sd_init(void) SD_WUR;

#include <stdbool.h>
#include <stddef.h>

/* Guarded, locked memory for secrets (passphrases, codenames, identity text), so code
 * outside crypto/ never calls libsodium itself. sd_secret_free wipes; NULL is fine. */
void *sd_secret_alloc(size_t len);
void sd_secret_free(void *p);
/* Wipes len bytes in a way the compiler cannot optimise away. */
void sd_wipe(void *p, size_t len);
/* Asks long operations (sealing, opening, verifying) to stop at the next chunk and clean
 * up as on any error, returning SD_ERR_CANCELLED. Async-signal-safe: call it from a
 * signal handler, so an interrupted command leaves no temporary file behind. */
void sd_cancel_request(void);
bool sd_is_cancelled(void);

/* Constant-time equality of two equal-length buffers: 1 if equal. */
int sd_equal(const void *a, const void *b, size_t len);

#endif
