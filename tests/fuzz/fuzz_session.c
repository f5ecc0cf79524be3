/*
 * fuzz_session.c — libFuzzer target for the codename session's server side:
 * sd_session_verify() and sd_pow_check() on arbitrary proofs, nonces, difficulties,
 * locator hashes and keys. In this build signatures are accepted (crypto/sign.c), so the
 * answer must be exactly: refused as a usage error above SD_POW_BITS_MAX, else accepted
 * if and only if the stamp, the nonce and the locator hash all match. Input layout:
 *     bits (1) ‖ flags (1) ‖ proof (32 + 32 + 32 + 64 + 8) ‖ server nonce (32) ‖
 *     locator hash (32) ‖ consent public key (32), zero-padded when short;
 * flags bit 0 makes the locator hash the proof's own, bit 1 the nonce the proof's own, so
 * the fuzzer gets past the cheap checks. A valid proof from sd_session_prove() must pass.
 * Replayed without that build mode (make test), a signature that does not verify may
 * refuse a proof the rest would pass.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sealdrop/codename.h"
#include "sealdrop/session.h"

#define INPUT_BYTES (2 + 168 + 32 + 32 + 32)

static void load_proof(const uint8_t *in, sd_session_proof_t *p)
{
	memcpy(p->server_nonce, in, 32);
	memcpy(p->client_nonce, in + 32, 32);
	memcpy(p->locator, in + 64, 32);
	memcpy(p->signature, in + 96, 64);
	memcpy(p->pow, in + 160, 8);
}

static void check_pow(const uint8_t nonce[32], const uint8_t counter[8], unsigned bits)
{
	unsigned have = sd_pow_zero_bits(nonce, counter);
	bool want = bits <= SD_POW_BITS_MAX && (bits == 0 || have >= bits);

	if (have > 256 || sd_pow_check(nonce, counter, bits) != want || sd_pow_zero_bits(nonce, counter) != have)
		abort();
	if (!sd_pow_check(nonce, counter, 0) || sd_pow_check(nonce, counter, SD_POW_BITS_MAX + 1))
		abort();
}

static void check_prove(const uint8_t nonce[32], unsigned bits)
{
	static sd_codename_keys_t *k;
	static const sd_kdf_limits_t minimum = {1, 8192};
	sd_session_proof_t p;
	uint8_t lh[32];

	if (k == NULL &&
	    sd_codename_derive("abacus abdomen abdominal abide abiding ability ablaze able", "fuzz", &minimum, &k) != 0)
		abort();
	if (sd_session_prove(k, nonce, bits, &p) != 0)
		abort();
	sd_session_locator_hash(k->locator, lh);
	if (sd_session_verify(&p, nonce, bits, lh, k->consent_pk) != 0 || !sd_pow_check(nonce, p.pow, bits))
		abort();
}

/* Whether sd_session_verify answered R for a proof whose checks other than the signature
 * PASS. Replayed in an ordinary build (tests/fuzz/replay.c) the signature is checked too,
 * and the corpus cannot carry one for every mutation: there a passing proof may still be
 * refused, but never a failing one accepted. */
static bool answer_is_right(int r, bool pass)
{
	if (!pass)
		return r == SD_ERR_VERIFY;
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	return r == 0;
#else
	return r == 0 || r == SD_ERR_VERIFY;
#endif
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t in[INPUT_BYTES] = {0}, nonce[32], lh[32], pk[32], own[32];
	sd_session_proof_t p;
	unsigned bits;
	bool pass;
	int r;

	memcpy(in, data, size < sizeof(in) ? size : sizeof(in));
	bits = in[0] % 40; /* past SD_POW_BITS_MAX too */
	load_proof(in + 2, &p);
	memcpy(nonce, in + 170, 32);
	memcpy(lh, in + 202, 32);
	memcpy(pk, in + 234, 32);
	sd_session_locator_hash(p.locator, own);
	if (in[1] & 1)
		memcpy(lh, own, 32);
	if (in[1] & 2)
		memcpy(nonce, p.server_nonce, 32);
	check_pow(nonce, p.pow, bits);
	check_pow(p.server_nonce, p.pow, in[0]);
	r = sd_session_verify(&p, nonce, bits, lh, pk);
	pass = sd_pow_check(nonce, p.pow, bits) && sd_equal(nonce, p.server_nonce, 32) && sd_equal(lh, own, 32);
	if (bits > SD_POW_BITS_MAX ? r != SD_ERR_USAGE : !answer_is_right(r, pass))
		abort();
	if (in[1] & 4)
		check_prove(nonce, in[0] % 4);
	return 0;
}
