/*
 * shamir.c — Shamir's secret sharing over GF(2^8), the one cryptographic primitive
 * sealdrop writes itself (DESIGN.md, "Consent-gated identity release": the custodian
 * quorum). Each of the 32 secret bytes is the constant term of its own random polynomial
 * of degree k - 1; share i is the 32 values of those polynomials at x = i.
 *
 * Start at sd_gf256_mul(): everything rests on it. It multiplies by shifting and xoring
 * under masks made from the operands' bits, so its time and memory accesses are the
 * same for every input — there is no log/exp table a cache could betray. Inversion is
 * a^254 by a fixed chain of those multiplications. Byte layout and known answers:
 * docs/FORMAT.md, "Identity key shares"; recomputed by tests/vectors/shamir.py.
 */
#include <stdint.h>
#include <string.h>
#include <sodium.h>

#include "sealdrop/sealdrop.h"
#include "sealdrop/shamir.h"
#include "shamir_int.h"

#define GF_REDUCE 0x1b /* x^8 = x^4 + x^3 + x + 1 */

uint8_t sd_gf256_mul(uint8_t a, uint8_t b)
{
	unsigned p = 0, aa = a, bb = b;

	for (int i = 0; i < 8; i++) {
		p ^= aa & (0u - (bb & 1u));                                /* add a when the bit of b is set */
		aa = ((aa << 1) ^ (GF_REDUCE & (0u - (aa >> 7)))) & 0xffu; /* a *= x, reduced */
		bb >>= 1;
	}
	return (uint8_t)p;
}

uint8_t sd_gf256_inv(uint8_t a)
{
	/* 254 = 2 + 4 + 8 + 16 + 32 + 64 + 128: square seven times, multiplying each in. */
	uint8_t sq = sd_gf256_mul(a, a); /* a^2 */
	uint8_t r = sq;

	for (int i = 0; i < 6; i++) {
		sq = sd_gf256_mul(sq, sq); /* a^4, a^8, ..., a^128 */
		r = sd_gf256_mul(r, sq);
	}
	return r;
}

static int check_k_n(unsigned k, unsigned n)
{
	if (k < SD_SHAMIR_MIN_K)
		return sd_error(SD_ERR_USAGE, "a split needs at least %d shares to recombine, not %u", SD_SHAMIR_MIN_K,
		                k);
	if (n > SD_SHAMIR_MAX_N)
		return sd_error(SD_ERR_USAGE, "at most %d shares, not %u", SD_SHAMIR_MAX_N, n);
	if (k > n)
		return sd_error(SD_ERR_USAGE, "%u shares cannot meet a threshold of %u", n, k);
	return 0;
}

int sd_shamir_split_with(const uint8_t secret[SD_SHAMIR_SECRET_BYTES], const uint8_t *coeffs, unsigned k, unsigned n,
                         sd_shamir_share_t *shares)
{
	int r;

	if (secret == NULL || coeffs == NULL || shares == NULL)
		return sd_error(SD_ERR_USAGE, "no secret, coefficients or room for the shares");
	if ((r = check_k_n(k, n)) < 0)
		return r;
	for (unsigned i = 0; i < n; i++) {
		uint8_t x = (uint8_t)(i + 1);

		shares[i].x = x;
		for (size_t b = 0; b < SD_SHAMIR_SECRET_BYTES; b++) {
			/* Horner: ((c[k-1] x + c[k-2]) x + ...) x + secret. */
			uint8_t y = 0;
			for (unsigned j = k - 1; j >= 1; j--)
				y = sd_gf256_mul(y, x) ^ coeffs[(j - 1) * SD_SHAMIR_SECRET_BYTES + b];
			shares[i].y[b] = sd_gf256_mul(y, x) ^ secret[b];
		}
	}
	return 0;
}

int sd_shamir_split(const uint8_t secret[SD_SHAMIR_SECRET_BYTES], unsigned k, unsigned n, sd_shamir_share_t *shares)
{
	uint8_t *coeffs;
	size_t len;
	int r;

	if ((r = check_k_n(k, n)) < 0)
		return r;
	len = (size_t)(k - 1) * SD_SHAMIR_SECRET_BYTES;
	if ((coeffs = sd_secret_alloc(len)) == NULL)
		return sd_error(SD_ERR_NOMEM, "cannot allocate protected memory for the polynomials");
	randombytes_buf(coeffs, len);
	r = sd_shamir_split_with(secret, coeffs, k, n, shares);
	sodium_memzero(coeffs, len);
	sd_secret_free(coeffs);
	if (r < 0 && shares != NULL)
		sodium_memzero(shares, (size_t)n * sizeof(*shares));
	return r;
}

/* The indexes are public (each share file names its own), so checking them may branch. */
static int check_indexes(const sd_shamir_share_t *shares, size_t count)
{
	if (shares == NULL || count < SD_SHAMIR_MIN_K)
		return sd_error(SD_ERR_USAGE, "%zu share%s given: recombining needs at least %d", count,
		                count == 1 ? "" : "s", SD_SHAMIR_MIN_K);
	if (count > SD_SHAMIR_MAX_N)
		return sd_error(SD_ERR_USAGE, "%zu shares given: a split has at most %d", count, SD_SHAMIR_MAX_N);
	for (size_t i = 0; i < count; i++) {
		if (shares[i].x == 0)
			return sd_error(SD_ERR_USAGE, "a share has index 0, which no split gives out");
		for (size_t j = 0; j < i; j++)
			if (shares[j].x == shares[i].x)
				return sd_error(SD_ERR_USAGE, "share %u is given twice", shares[i].x);
	}
	return 0;
}

/* The Lagrange basis polynomial of share i at 0: prod over j != i of x_j / (x_i - x_j)
 * (subtraction is xor in GF(2^8)). */
static uint8_t lagrange_at_zero(const sd_shamir_share_t *shares, size_t count, size_t i)
{
	uint8_t num = 1, den = 1;

	for (size_t j = 0; j < count; j++) {
		if (j == i)
			continue;
		num = sd_gf256_mul(num, shares[j].x);
		den = sd_gf256_mul(den, shares[i].x ^ shares[j].x);
	}
	return sd_gf256_mul(num, sd_gf256_inv(den));
}

int sd_shamir_combine(const sd_shamir_share_t *shares, size_t count, uint8_t secret[SD_SHAMIR_SECRET_BYTES])
{
	int r;

	if (secret == NULL)
		return sd_error(SD_ERR_USAGE, "no room for the secret");
	sodium_memzero(secret, SD_SHAMIR_SECRET_BYTES);
	if ((r = check_indexes(shares, count)) < 0)
		return r;
	for (size_t i = 0; i < count; i++) {
		uint8_t l = lagrange_at_zero(shares, count, i);

		for (size_t b = 0; b < SD_SHAMIR_SECRET_BYTES; b++)
			secret[b] ^= sd_gf256_mul(l, shares[i].y[b]);
	}
	return 0;
}
