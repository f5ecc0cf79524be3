/*
 * session.h — the whistleblower's codename session and the proof of work that guards the
 * anonymous routes (DESIGN.md, "Codename" and "Server API"; docs/FORMAT.md, "Codename
 * session"). Pure: the client builds, the server checks; no certificate is involved.
 *
 * A session proves two things without revealing who is asking:
 *   - knowledge of the locator itself (the codename's subkey 1), whose BLAKE2b-256 the
 *     package header carries — holding the header (as the attorney does) is not enough;
 *   - possession of the consent signing key (subkey 2), whose public half the header
 *     carries: an Ed25519 signature, purpose `session`, over
 *         "sealdrop session v1" domain ‖ server_nonce (32) ‖ client_nonce (32) ‖ BLAKE2b-256(locator)
 *     (sd_sign with SD_PURPOSE_SESSION over server_nonce ‖ client_nonce ‖ locator_hash).
 *
 * The server hands out a fresh server nonce per attempt (GET /v1/wb/challenge) together
 * with the proof-of-work difficulty; the client answers with the locator, its own nonce,
 * the signature and a hashcash stamp: 8 bytes `counter` such that
 *     BLAKE2b-256("sealdrop pow v1" ‖ server_nonce ‖ counter)
 * has at least `bits` leading zero bits. Cheap to check (one hash), never memory-hard on
 * the server, and never tied to a locator, so nobody can lock a whistleblower out.
 */
#ifndef SEALDROP_SESSION_H
#define SEALDROP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sealdrop/codename.h"
#include "sealdrop/error.h"

#define SD_SESSION_NONCE_BYTES 32
#define SD_SESSION_SIG_BYTES   64
#define SD_POW_COUNTER_BYTES   8
#define SD_POW_BITS_MAX        32

typedef struct {
	uint8_t server_nonce[SD_SESSION_NONCE_BYTES];
	uint8_t client_nonce[SD_SESSION_NONCE_BYTES];
	uint8_t locator[32];
	uint8_t signature[SD_SESSION_SIG_BYTES];
	uint8_t pow[SD_POW_COUNTER_BYTES];
} sd_session_proof_t;

/* Client: a fresh client nonce (randombytes), the signature with k's consent key, and a
 * proof of work of `bits` (0..SD_POW_BITS_MAX; 0: none needed) over server_nonce.
 * SD_ERR_CANCELLED when sd_is_cancelled() turns true while working. */
int sd_session_prove(const sd_codename_keys_t *k, const uint8_t server_nonce[SD_SESSION_NONCE_BYTES], unsigned bits,
                     sd_session_proof_t *out) SD_WUR;

/* Server: checks p against what the header says (its locator hash and consent public
 * key) and the nonce the server issued: SD_ERR_VERIFY with a detail naming which part
 * failed ("the locator does not match the package", "the session signature does not
 * verify", "the proof of work has N leading zero bits, M are needed", "the session
 * answers another challenge"). A server accepts each challenge nonce once: the proof of
 * work is tied to it, not to a locator. Constant-time
 * comparisons. The checks run cheapest first (the proof of work, then the locator hash,
 * then the signature). */
int sd_session_verify(const sd_session_proof_t *p, const uint8_t server_nonce[SD_SESSION_NONCE_BYTES], unsigned bits,
                      const uint8_t locator_hash[32], const uint8_t consent_pk[32]) SD_WUR;

/* The proof-of-work check alone: the stamp's leading zero bits >= bits. */
bool sd_pow_check(const uint8_t server_nonce[SD_SESSION_NONCE_BYTES], const uint8_t counter[SD_POW_COUNTER_BYTES],
                  unsigned bits);
/* The number of leading zero bits of the stamp's hash (for messages and tests). */
unsigned sd_pow_zero_bits(const uint8_t server_nonce[SD_SESSION_NONCE_BYTES],
                          const uint8_t counter[SD_POW_COUNTER_BYTES]);

/* The header's locator hash: BLAKE2b-256(locator), exactly as the package header stores it
 * (check crypto/envelope_seal.c for the precise hash and use the same function). */
void sd_session_locator_hash(const uint8_t locator[32], uint8_t out[32]);

/* --- Challenges -------------------------------------------------------------------------
 *
 * The server's challenge (the session's server_nonce) is stateless, so issuing one costs
 * nothing and an unanswered one holds no memory:
 *     expiry (8, little-endian seconds on the server's clock) || random (8) ||
 *     BLAKE2b-128 keyed with the server's challenge key over "sealdrop challenge v1" || expiry || random
 * The key is random per server start (SD_SESSION_CHALLENGE_KEY_BYTES, secret memory);
 * a restart voids every outstanding challenge. Whether a challenge was already answered
 * is the server's business (server/wbgate.c): this only says it is genuine and alive. */
#define SD_SESSION_CHALLENGE_KEY_BYTES 32

/* A fresh random challenge key in secret memory (sd_secret_free), or NULL. */
uint8_t *sd_session_challenge_key_new(void);
/* A new challenge expiring at `expiry`. */
void sd_session_challenge_new(const uint8_t key[SD_SESSION_CHALLENGE_KEY_BYTES], uint64_t expiry,
                              uint8_t out[SD_SESSION_NONCE_BYTES]);
/* 0 when c was made with key and has not expired at `now` (expiry >= now); SD_ERR_VERIFY
 * "the challenge was not issued by this server (or it restarted since): ask for a new
 * one", SD_ERR_EXPIRED "the challenge expired: ask for a new one". Constant-time tag
 * comparison. */
int sd_session_challenge_check(const uint8_t key[SD_SESSION_CHALLENGE_KEY_BYTES],
                               const uint8_t c[SD_SESSION_NONCE_BYTES], uint64_t now) SD_WUR;

#endif
