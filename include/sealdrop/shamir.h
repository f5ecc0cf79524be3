/*
 * shamir.h — Shamir's secret sharing of a 32-byte secret over GF(2^8) (the AES field,
 * x^8 + x^4 + x^3 + x + 1), byte by byte: the custodian quorum's primitive (DESIGN.md,
 * "Consent-gated identity release"; docs/FORMAT.md, "Identity key shares").
 *
 * K of N shares give the secret back; K - 1 give nothing (every secret is equally
 * consistent with them). The arithmetic is constant time: no table is indexed by a
 * secret and no branch depends on one. Shares are secrets: keep them in sd_secret_alloc
 * memory. The combination cannot tell how many shares the split needed — a key share file
 * carries K so its reader can refuse too few (crypto/keyshare.c).
 */
#ifndef SEALDROP_SHAMIR_H
#define SEALDROP_SHAMIR_H

#include <stddef.h>
#include <stdint.h>

#include "sealdrop/error.h"

#define SD_SHAMIR_SECRET_BYTES 32
#define SD_SHAMIR_MIN_K        2
#define SD_SHAMIR_MAX_N        255

typedef struct {
	uint8_t x;                         /* the share's index, 1..255; never 0 (that is the secret) */
	uint8_t y[SD_SHAMIR_SECRET_BYTES]; /* f(x), one polynomial per secret byte */
} sd_shamir_share_t;

/* Splits secret into n shares (shares[i].x = i + 1), any k of which give it back:
 * 2 <= k <= n <= 255, else SD_ERR_USAGE. The random coefficients come from randombytes
 * and live in sodium_malloc memory, wiped before return. shares must hold n entries. */
int sd_shamir_split(const uint8_t secret[SD_SHAMIR_SECRET_BYTES], unsigned k, unsigned n,
                    sd_shamir_share_t *shares) SD_WUR;

/* Lagrange interpolation at 0 over count shares (2..255): the secret, if at least k of
 * one split were given. Refuses (SD_ERR_USAGE) fewer than 2 shares, an index 0 and two
 * shares with the same index. secret is wiped on failure. */
int sd_shamir_combine(const sd_shamir_share_t *shares, size_t count, uint8_t secret[SD_SHAMIR_SECRET_BYTES]) SD_WUR;

#endif
