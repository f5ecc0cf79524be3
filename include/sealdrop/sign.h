/*
 * sign.h — every signature in sealdrop is Ed25519 over a domain-separated digest:
 *
 *     sig = Ed25519(sk, BLAKE2b-256("sealdrop <purpose> v1" || message))
 *
 * so one key's signature for one purpose can never be replayed as another purpose's, and
 * no caller ever signs raw bytes chosen by someone else (DESIGN.md, Keys).
 */
#ifndef SEALDROP_SIGN_H
#define SEALDROP_SIGN_H

#include <stddef.h>
#include <stdint.h>
#include "sealdrop/error.h"

#define SD_SIGN_PUBLICKEYBYTES 32
#define SD_SIGN_SECRETKEYBYTES 64 /* libsodium's seed || public key form */
#define SD_SIGN_SEEDBYTES      32
#define SD_SIGN_BYTES          64
#define SD_DIGEST_BYTES        32

typedef enum {
	SD_PURPOSE_HEADER,
	SD_PURPOSE_CONSENT,
	SD_PURPOSE_REVOKE,
	SD_PURPOSE_SESSION,
	SD_PURPOSE_RECEIPT,
	SD_PURPOSE_HEAD,
	SD_PURPOSE_NOTICE,
	SD_PURPOSE_EXPORT,
	SD_PURPOSE_DIRECTORY,
} sd_purpose_t;

/* "header", "consent", ... */
const char *sd_purpose_name(sd_purpose_t p);
/* BLAKE2b-256("sealdrop <purpose> v1" || msg). */
void sd_sign_digest(sd_purpose_t p, const uint8_t *msg, size_t len, uint8_t out[SD_DIGEST_BYTES]);
int sd_sign(sd_purpose_t p, const uint8_t sk[SD_SIGN_SECRETKEYBYTES], const uint8_t *msg, size_t len,
            uint8_t sig[SD_SIGN_BYTES]);
/* 0 or SD_ERR_VERIFY. */
int sd_sign_verify(sd_purpose_t p, const uint8_t pk[SD_SIGN_PUBLICKEYBYTES], const uint8_t *msg, size_t len,
                   const uint8_t sig[SD_SIGN_BYTES]) SD_WUR;

#endif
