/*
 * keyshare.h — identity key share files: one custodian's Shamir share of the identity
 * secret key, passphrase-protected exactly as a secret key file is (Argon2id +
 * XChaCha20-Poly1305), with a public header naming the share's index, K, N and the key
 * (its id and public key). Byte layout and vectors: docs/FORMAT.md, "Identity key shares".
 *
 * A key ceremony, not threshold decryption: K custodians bring their shares to one
 * workstation, the key is rebuilt in sodium_malloc memory for one unseal, and freed.
 */
#ifndef SEALDROP_KEYSHARE_H
#define SEALDROP_KEYSHARE_H

#include <stddef.h>
#include <stdint.h>

#include "sealdrop/error.h"
#include "sealdrop/keys.h"
#include "sealdrop/shamir.h"

#define SD_KEYSHARE_BYTES 160 /* docs/FORMAT.md */

/* What a share file says in the clear. */
typedef struct {
	uint8_t x;       /* this share's index, 1..n */
	uint8_t k;       /* shares needed, 2..n */
	uint8_t n;       /* shares made, k..255 */
	sd_pubkey_t key; /* the identity key split (kind identity; id checked against pk) */
	sd_kdf_limits_t limits;
} sd_keyshare_info_t;

/* A share in memory: always in sd_secret_alloc memory (the y bytes are secret); free with
 * sd_keyshare_free, which wipes. */
typedef struct {
	sd_keyshare_info_t info;
	sd_shamir_share_t share;
} sd_keyshare_t;

void sd_keyshare_free_(sd_keyshare_t *s);
#define sd_keyshare_free(s)                                                                                            \
	do {                                                                                                           \
		sd_keyshare_free_(s);                                                                                  \
		(s) = NULL;                                                                                            \
	} while (0)

/* Splits an identity secret key into n shares, any k of which rebuild it: *out is an
 * array of n (sd_keyshare_free frees it whole). SD_ERR_USAGE for another kind of key,
 * k < 2, k > n or n > 255. */
int sd_keyshare_split(const sd_seckey_t *key, unsigned k, unsigned n, sd_keyshare_t **out) SD_WUR;

/* The file's bytes (tests, fuzzing): limits NULL means MODERATE, salt and nonce NULL mean
 * random (non-NULL only for test vectors). */
int sd_keyshare_encode(const sd_keyshare_t *s, const char *pass, size_t passlen, const sd_kdf_limits_t *limits,
                       const uint8_t *salt, const uint8_t *nonce, uint8_t out[SD_KEYSHARE_BYTES]) SD_WUR;
/* The clear header only, without the passphrase: SD_ERR_TRUNCATED/FORMAT/VERSION. */
int sd_keyshare_peek(const uint8_t *buf, size_t len, sd_keyshare_info_t *out) SD_WUR;
/* Header checks as peek, then SD_ERR_PASSPHRASE: "wrong passphrase, or the key share
 * file was altered" (the two are indistinguishable). *out from sd_secret_alloc. */
int sd_keyshare_decode(const uint8_t *buf, size_t len, const char *pass, size_t passlen, sd_keyshare_t **out) SD_WUR;

/* Mode 0600, through a temporary file, never replacing one (SD_ERR_EXISTS). */
int sd_keyshare_write(const char *path, const sd_keyshare_t *s, const char *pass, size_t passlen,
                      const sd_kdf_limits_t *limits) SD_WUR;
/* Errors are prefixed with the path. */
int sd_keyshare_read_info(const char *path, sd_keyshare_info_t *out) SD_WUR;
int sd_keyshare_read(const char *path, const char *pass, size_t passlen, sd_keyshare_t **out) SD_WUR;

/* Whether these shares can rebuild their key, from the clear headers alone (so a caller
 * can refuse before asking any passphrase): all of one key and one split
 * (SD_ERR_WRONG_KEY), no index twice (SD_ERR_USAGE), at least k of them (SD_ERR_USAGE:
 * "2 shares given, this key needs 3"). */
int sd_keyshare_check_set(const sd_keyshare_info_t *const *infos, size_t count) SD_WUR;
/* sd_keyshare_check_set, then Lagrange interpolation of every share given into an
 * identity secret key (sd_seckey_free it), whose public key must be the one the shares
 * name: SD_ERR_VERIFY otherwise (a damaged share, or shares of two splits of one key). */
int sd_keyshare_combine(const sd_keyshare_t *const *shares, size_t count, sd_seckey_t **out) SD_WUR;

#endif
