/*
 * wbgate.h — what stands before the whistleblower's anonymous routes (DESIGN.md, "Server
 * API"; docs/API.md, "The whistleblower's channel"; server/wbgate.c).
 *
 * Challenges are stateless (include/sealdrop/session.h), so asking for one costs the
 * server a hash and leaves nothing behind. An answer is admitted cheapest check first:
 *   1. its proof of work (one BLAKE2b), so an unpaid answer costs nothing more;
 *   2. its challenge: issued by this server, not expired;
 *   3. the global rate (`anon_rate_per_minute`, a token bucket over all clients together);
 *   4. not answered before (each challenge buys one request).
 * Nothing is kept per client or per locator, and nothing about who asked: only the tags of
 * challenges already answered, until they expire. So a stranger holding a package header
 * cannot lock the whistleblower out, and a flood needs a proof of work per request.
 *
 * Loop thread only (no locks). Times are the caller's monotonic clock in milliseconds.
 */
#ifndef SEALDROP_WBGATE_H
#define SEALDROP_WBGATE_H

#include <stddef.h>
#include <stdint.h>
#include "sealdrop/error.h"
#include "sealdrop/session.h"

#define SD_WBGATE_CHALLENGE_TTL 300        /* seconds a challenge stays good */
#define SD_WBGATE_USED_MAX      (1u << 20) /* answered challenges remembered per generation */

typedef struct sd_wbgate sd_wbgate_t;

/* bits: the proof of work asked (0..SD_POW_BITS_MAX); rate_per_minute >= 1. */
int sd_wbgate_new(unsigned bits, uint32_t rate_per_minute, sd_wbgate_t **out) SD_WUR;
void sd_wbgate_free(sd_wbgate_t *g);
unsigned sd_wbgate_bits(const sd_wbgate_t *g);

/* A new challenge, good for SD_WBGATE_CHALLENGE_TTL seconds from now_ms. */
void sd_wbgate_challenge(sd_wbgate_t *g, uint64_t now_ms, uint8_t out[SD_SESSION_NONCE_BYTES]);

/* Admits p's answer at now_ms (checks 1–4 above; the locator and the signature are the
 * caller's, against the case it names). 0, or:
 *   SD_ERR_VERIFY / SD_ERR_EXPIRED  the proof of work, the challenge, or a challenge already
 *                                   answered (403; the detail says which);
 *   SD_ERR_UNAVAILABLE              the rate is spent or the table of answered challenges is
 *                                   full (503); *retry_after: seconds until a retry can pass. */
int sd_wbgate_admit(sd_wbgate_t *g, const sd_session_proof_t *p, uint64_t now_ms, unsigned *retry_after) SD_WUR;

#endif
