/*
 * servicekey.h — a key a service uses unattended (the server's log signing key): kept in
 * a file protected by its owner and mode, like an OpenSSH host key, not by a passphrase
 * nobody would be there to type (docs/FORMAT.md, "Service key files").
 *
 * Layout, 56 bytes: magic "SDSVCKEY" (8) | version u16 LE = 1 | kind u16 LE | reserved
 * u32 = 0 | the 32-byte secret (Ed25519 seed or X25519 scalar) | the key id (8) of the
 * public key the secret derives. The key id makes a damaged file fail to load instead of
 * silently becoming another key.
 */
#ifndef SEALDROP_SERVICEKEY_H
#define SEALDROP_SERVICEKEY_H

#include "sealdrop/error.h"
#include "sealdrop/keys.h"

#define SD_SERVICEKEY_BYTES 56

/* Writes k to path, 0600, never overwriting (SD_ERR_EXISTS). */
int sd_servicekey_write(const char *path, const sd_seckey_t *k) SD_WUR;
/* Reads a service key of kind `kind`. SD_ERR_REFUSED when the file is readable or
 * writable by group or others; SD_ERR_FORMAT / SD_ERR_VERSION / SD_ERR_TRUNCATED for a
 * damaged file; SD_ERR_INVALID for another kind. */
int sd_servicekey_read(const char *path, sd_key_kind_t kind, sd_seckey_t **out) SD_WUR;

#endif
