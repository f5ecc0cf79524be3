/*
 * sealbox.h — anonymous sealed boxes to an X25519 public key (libsodium's
 * crypto_box_seal: an ephemeral key pair, X25519 + XSalsa20-Poly1305, 48 bytes of
 * overhead). What a client uses to send text only the Commission can read (a reason, an
 * outcome summary, an objection: sealed to the intake key), and what notices are sealed
 * with (to the whistleblower's notice key, the attorney's box key, the intake key).
 */
#ifndef SEALDROP_SEALBOX_H
#define SEALDROP_SEALBOX_H

#include <stddef.h>
#include <stdint.h>
#include "sealdrop/error.h"
#include "sealdrop/keys.h"

#define SD_SEALBOX_OVERHEAD 48          /* crypto_box_SEALBYTES */
#define SD_SEALBOX_MAX      (16u << 20) /* plaintext bytes one box holds here */

/* Seals msg (0..SD_SEALBOX_MAX bytes) to pk, an X25519 key of any kind: *out (malloc'd),
 * *out_len = len + SD_SEALBOX_OVERHEAD. SD_ERR_USAGE for an Ed25519 key or a message
 * too long. */
int sd_sealbox_seal(const sd_pubkey_t *pk, const uint8_t *msg, size_t len, uint8_t **out, size_t *out_len) SD_WUR;

/* Opens a box sealed to sk's public key: *out in secret memory (sd_secret_alloc; free
 * with sd_secret_free), NUL-terminated (not counted in *out_len). SD_ERR_VERIFY when it
 * was not sealed to this key or was altered; SD_ERR_TRUNCATED below the overhead. */
int sd_sealbox_open(const sd_seckey_t *sk, const uint8_t *box, size_t len, uint8_t **out, size_t *out_len) SD_WUR;

/* The same with raw X25519 keys, for keys that are not sealdrop key files (the
 * whistleblower's notice key, derived from the codename; a package header's notice_pk).
 * seal: SD_ERR_INVALID when pk is a low-order point no box can be sealed to. open:
 * SD_ERR_VERIFY when the box was not sealed to pk, was altered, or sk is not pk's. */
int sd_sealbox_seal_raw(const uint8_t pk[32], const uint8_t *msg, size_t len, uint8_t **out, size_t *out_len) SD_WUR;
int sd_sealbox_open_raw(const uint8_t pk[32], const uint8_t sk[32], const uint8_t *box, size_t len, uint8_t **out,
                        size_t *out_len) SD_WUR;

#endif
