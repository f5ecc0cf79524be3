/*
 * keys_int.h — inside libsealdrop only: the passphrase-protected file that secret key
 * files (crypto/keys.c) and identity key share files (crypto/keyshare.c) both are.
 *
 * Layout (docs/FORMAT.md, "Secret key file" and "Identity key shares"): a 68-byte prefix
 * (magic, version 1, kind, algorithm, kdf, opslimit, memlimit, salt, nonce), then
 * `extra_bytes` of header that belong to the caller's format, then the
 * XChaCha20-Poly1305 ciphertext of a 32-byte secret and its tag, under
 * Argon2id(passphrase, salt), with the whole header (prefix and extra) as associated data.
 */
#ifndef SEALDROP_KEYS_INT_H
#define SEALDROP_KEYS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "sealdrop/keys.h"

#define SD_PWFILE_PREFIX_BYTES 68
#define SD_PWFILE_SALT_BYTES   16
#define SD_PWFILE_NONCE_BYTES  24
#define SD_PWFILE_BODY_BYTES   48 /* the 32-byte secret and the 16-byte tag */

/* What differs between the two formats. */
typedef struct {
	const char *magic;      /* 8 ASCII bytes */
	const char *noun;       /* in messages: "secret key file" */
	const char *short_noun; /* in messages: "key file" */
	size_t extra_bytes;     /* header bytes after the prefix */
} sd_pwfile_spec_t;

/* A parsed header; the pointers point into the buffer parsed. */
typedef struct {
	sd_key_kind_t kind;
	sd_kdf_limits_t limits;
	const uint8_t *salt;
	const uint8_t *nonce;
	const uint8_t *extra; /* spec->extra_bytes */
	const uint8_t *ciphertext;
} sd_pwfile_header_t;

/* The file's exact length. */
size_t sd_pwfile_bytes(const sd_pwfile_spec_t *s);
/* Checks, in this order: length, magic, version, kind, algorithm, KDF, limits. */
int sd_pwfile_parse(const sd_pwfile_spec_t *s, const uint8_t *buf, size_t len, sd_pwfile_header_t *h) SD_WUR;
/* Writes the whole file into out (sd_pwfile_bytes): limits NULL means MODERATE, salt and
 * nonce NULL mean random. out is wiped on failure. */
int sd_pwfile_seal(const sd_pwfile_spec_t *s, sd_key_kind_t kind, const uint8_t *extra,
                   const uint8_t secret[SD_KEY_SECRET_BYTES], const char *pass, size_t passlen,
                   const sd_kdf_limits_t *limits, const uint8_t *salt, const uint8_t *nonce, uint8_t *out) SD_WUR;
/* Decrypts the secret of a file sd_pwfile_parse accepted into secret (32 bytes the caller
 * allocated with sodium_malloc); SD_ERR_PASSPHRASE when the AEAD fails. */
int sd_pwfile_open(const sd_pwfile_spec_t *s, const uint8_t *buf, const sd_pwfile_header_t *h, const char *pass,
                   size_t passlen, uint8_t secret[SD_KEY_SECRET_BYTES]) SD_WUR;
/* Prefixes the current error detail with path, so a message says which file was bad. */
int sd_pwfile_error_with_path(int r, const char *path);

#endif
