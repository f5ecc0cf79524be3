/*
 * keys.h — sealdrop's long-lived keys: kinds, key ids, public key files and
 * passphrase-protected secret key files (byte layout: docs/FORMAT.md, "Key files").
 *
 * Secret key material lives only in sodium_malloc'd memory and is wiped on free.
 * Key files are created 0600 with O_EXCL|O_NOFOLLOW semantics (never overwritten).
 */
#ifndef SEALDROP_KEYS_H
#define SEALDROP_KEYS_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "sealdrop/error.h"

typedef enum {
	SD_KEY_ROOT = 1,     /* Ed25519: signs the directory */
	SD_KEY_INTAKE = 2,   /* X25519: unwraps report/evidence keys */
	SD_KEY_IDENTITY = 3, /* X25519: opens the Commission share s_c */
	SD_KEY_AGENCY = 4,   /* X25519: an inspection/investigative agency */
	SD_KEY_ATTORNEY = 5, /* X25519: an attorney's box key for notices */
	SD_KEY_LOG = 6,      /* Ed25519: the server's log signing key */
} sd_key_kind_t;

typedef enum { SD_ALG_ED25519 = 1, SD_ALG_X25519 = 2 } sd_key_alg_t;

#define SD_KEY_ID_BYTES     8
#define SD_KEY_ID_HEX_BYTES 17
#define SD_KEY_PUBLIC_BYTES 32
#define SD_KEY_SECRET_BYTES 32  /* the Ed25519 seed, or the X25519 scalar */
#define SD_KEYFILE_BYTES    116 /* docs/FORMAT.md */

typedef struct {
	uint64_t opslimit;
	uint64_t memlimit;
} sd_kdf_limits_t;

/* Argon2id limits: MODERATE is the key-file default (DESIGN.md). */
sd_kdf_limits_t sd_kdf_interactive(void);
sd_kdf_limits_t sd_kdf_moderate(void);
sd_kdf_limits_t sd_kdf_sensitive(void);
sd_kdf_limits_t sd_kdf_minimum(void); /* only for directories flagged `test` */
/* Limits a file may ask for: at least the minimum, at most SENSITIVE ops and 1 GiB. */
bool sd_kdf_limits_are_sane(const sd_kdf_limits_t *l);

typedef struct {
	sd_key_kind_t kind;
	uint8_t pk[SD_KEY_PUBLIC_BYTES];
	uint8_t id[SD_KEY_ID_BYTES];
} sd_pubkey_t;

typedef struct {
	sd_key_kind_t kind;
	uint8_t pk[SD_KEY_PUBLIC_BYTES];
	uint8_t id[SD_KEY_ID_BYTES];
	/* sodium_malloc'd: 64 bytes (libsodium Ed25519 secret key) or 32 (X25519). */
	uint8_t *sk;
} sd_seckey_t;

const char *sd_key_kind_name(sd_key_kind_t k); /* "root", "intake", ... */
int sd_key_kind_from_name(const char *name, sd_key_kind_t *out);
sd_key_alg_t sd_key_kind_alg(sd_key_kind_t k);

/* id = first 8 bytes of BLAKE2b-256("sealdrop keyid v1" || kind || pk). */
void sd_key_id(sd_key_kind_t k, const uint8_t pk[SD_KEY_PUBLIC_BYTES], uint8_t id[SD_KEY_ID_BYTES]);
void sd_key_id_hex(const uint8_t id[SD_KEY_ID_BYTES], char out[SD_KEY_ID_HEX_BYTES]);

int sd_seckey_generate(sd_key_kind_t k, sd_seckey_t **out) SD_WUR;
/* From a 32-byte secret (seed or scalar): for test vectors and derived keys. */
int sd_seckey_from_secret(sd_key_kind_t k, const uint8_t secret[SD_KEY_SECRET_BYTES], sd_seckey_t **out) SD_WUR;
void sd_seckey_free_(sd_seckey_t *k);
#define sd_seckey_free(k)                                                                                              \
	do {                                                                                                           \
		sd_seckey_free_(k);                                                                                    \
		(k) = NULL;                                                                                            \
	} while (0)
void sd_seckey_public(const sd_seckey_t *k, sd_pubkey_t *out);

/* Secret key file: Argon2id(passphrase) → XChaCha20-Poly1305 over the secret, the file's
 * header as associated data. encode/decode work on bytes (tests, fuzzing); write/read on
 * paths. salt and nonce NULL means random (non-NULL only for test vectors). */
int sd_keyfile_encode(const sd_seckey_t *k, const char *pass, size_t passlen, const sd_kdf_limits_t *limits,
                      const uint8_t *salt, const uint8_t *nonce, uint8_t out[SD_KEYFILE_BYTES]) SD_WUR;
/* SD_ERR_FORMAT/VERSION/TRUNCATED for a damaged file, SD_ERR_PASSPHRASE when the
 * passphrase is wrong (or the file was tampered with: the two are indistinguishable). */
int sd_keyfile_decode(const uint8_t *buf, size_t len, const char *pass, size_t passlen, sd_seckey_t **out) SD_WUR;
/* Reads only the public header fields (kind, limits) without the passphrase. */
int sd_keyfile_peek(const uint8_t *buf, size_t len, sd_key_kind_t *kind, sd_kdf_limits_t *limits) SD_WUR;
int sd_keyfile_write(const char *path, const sd_seckey_t *k, const char *pass, size_t passlen,
                     const sd_kdf_limits_t *limits) SD_WUR;
int sd_keyfile_read(const char *path, const char *pass, size_t passlen, sd_seckey_t **out) SD_WUR;

/* Public key file: one text line, "sealdrop-pubkey-v1 <kind> <key id hex> <base64 key>\n". */
#define SD_PUBKEY_TEXT_BYTES 128
int sd_pubkey_format(const sd_pubkey_t *k, char out[SD_PUBKEY_TEXT_BYTES]);
int sd_pubkey_parse(const char *text, size_t len, sd_pubkey_t *out) SD_WUR;
int sd_pubkey_write(const char *path, const sd_pubkey_t *k) SD_WUR;
int sd_pubkey_read(const char *path, sd_pubkey_t *out) SD_WUR;
/* Base64 of the 32 key bytes alone, as the directory carries them. */
int sd_pubkey_from_base64(sd_key_kind_t kind, const char *b64, sd_pubkey_t *out) SD_WUR;

#endif
