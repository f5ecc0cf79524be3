/*
 * shamir_int.h — inside libsealdrop and its tests only: the field arithmetic and the
 * deterministic split behind sd_shamir_split(), exposed so tests/unit/test_shamir.c can
 * check them against a slow reference and against the known-answer vectors of
 * docs/FORMAT.md ("Identity key shares"). Nothing else may choose coefficients.
 */
#ifndef SEALDROP_SHAMIR_INT_H
#define SEALDROP_SHAMIR_INT_H

#include <stdint.h>

#include "sealdrop/shamir.h"

/* Product in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1, by shift and masked xor. */
uint8_t sd_gf256_mul(uint8_t a, uint8_t b);
/* a^254: the inverse of a non-zero a, and 0 for 0. */
uint8_t sd_gf256_inv(uint8_t a);

/* sd_shamir_split with the coefficients given: coeffs holds (k - 1) * 32 bytes, the
 * coefficient of x^j for secret byte b at coeffs[(j - 1) * 32 + b]. */
int sd_shamir_split_with(const uint8_t secret[SD_SHAMIR_SECRET_BYTES], const uint8_t *coeffs, unsigned k, unsigned n,
                         sd_shamir_share_t *shares) SD_WUR;

#endif
