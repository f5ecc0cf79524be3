/*
 * session.c — the whistleblower's codename session (include/sealdrop/session.h): the
 * client proves it knows the locator and holds the consent signing key, and pays a small
 * hashcash stamp so the anonymous routes cannot be flooded; the server checks all three
 * with one hash, one comparison and one signature. Nothing here touches the network or
 * the store. Start at sd_session_prove() and sd_session_verify(); byte layout and a
 * known-answer vector: docs/FORMAT.md, "Codename session".
 */
#include <string.h>
#include <sodium.h>

#include "sealdrop/bytes.h"
#include "sealdrop/sealdrop.h"
#include "sealdrop/session.h"
#include "sealdrop/sign.h"

#define POW_HASH_BYTES    32
#define LOCATOR_BYTES     32
#define SESSION_MSG_BYTES (2 * SD_SESSION_NONCE_BYTES + LOCATOR_BYTES)
/* How many stamps the search tries between two looks at sd_is_cancelled(). */
#define POW_CANCEL_EVERY 65536u

static const char pow_domain[] = "sealdrop pow v1";

_Static_assert(SESSION_MSG_BYTES == 96, "the session message is 96 bytes (docs/FORMAT.md)");
_Static_assert(sizeof(((sd_session_proof_t *)0)->locator) == LOCATOR_BYTES, "the locator is 32 bytes");
_Static_assert(SD_SESSION_SIG_BYTES == SD_SIGN_BYTES, "the session signature is an sd_sign signature");

void sd_session_locator_hash(const uint8_t locator[32], uint8_t out[32])
{
	/* The same call crypto/envelope_seal.c makes for the header: unkeyed BLAKE2b-256. */
	(void)crypto_generichash(out, 32, locator, LOCATOR_BYTES, NULL, 0);
}

/* server_nonce ‖ client_nonce ‖ BLAKE2b-256(locator): what the consent key signs. */
static void session_message(const uint8_t server_nonce[SD_SESSION_NONCE_BYTES],
                            const uint8_t client_nonce[SD_SESSION_NONCE_BYTES], const uint8_t locator[32],
                            uint8_t msg[SESSION_MSG_BYTES])
{
	memcpy(msg, server_nonce, SD_SESSION_NONCE_BYTES);
	memcpy(msg + SD_SESSION_NONCE_BYTES, client_nonce, SD_SESSION_NONCE_BYTES);
	sd_session_locator_hash(locator, msg + 2 * SD_SESSION_NONCE_BYTES);
}

/* The stamp hash's state after "sealdrop pow v1" ‖ server_nonce, so the search only adds
 * the counter for each try. */
static void pow_prefix(const uint8_t server_nonce[SD_SESSION_NONCE_BYTES], crypto_generichash_state *st)
{
	(void)crypto_generichash_init(st, NULL, 0, POW_HASH_BYTES);
	(void)crypto_generichash_update(st, (const uint8_t *)pow_domain, sizeof(pow_domain) - 1);
	(void)crypto_generichash_update(st, server_nonce, SD_SESSION_NONCE_BYTES);
}

static unsigned leading_zero_bits(const uint8_t h[POW_HASH_BYTES])
{
	unsigned n = 0;

	for (size_t i = 0; i < POW_HASH_BYTES; i++) {
		uint8_t b = h[i];

		if (b == 0) {
			n += 8;
			continue;
		}
		while ((b & 0x80) == 0) {
			n++;
			b = (uint8_t)(b << 1);
		}
		break;
	}
	return n;
}

static unsigned pow_bits_after_prefix(const crypto_generichash_state *prefix,
                                      const uint8_t counter[SD_POW_COUNTER_BYTES])
{
	crypto_generichash_state st = *prefix;
	uint8_t h[POW_HASH_BYTES];

	(void)crypto_generichash_update(&st, counter, SD_POW_COUNTER_BYTES);
	(void)crypto_generichash_final(&st, h, sizeof(h));
	return leading_zero_bits(h);
}

unsigned sd_pow_zero_bits(const uint8_t server_nonce[SD_SESSION_NONCE_BYTES],
                          const uint8_t counter[SD_POW_COUNTER_BYTES])
{
	crypto_generichash_state st;

	pow_prefix(server_nonce, &st);
	return pow_bits_after_prefix(&st, counter);
}

bool sd_pow_check(const uint8_t server_nonce[SD_SESSION_NONCE_BYTES], const uint8_t counter[SD_POW_COUNTER_BYTES],
                  unsigned bits)
{
	if (bits > SD_POW_BITS_MAX)
		return false;
	if (bits == 0)
		return true;
	return sd_pow_zero_bits(server_nonce, counter) >= bits;
}

/* Counts up from a random start (so two clients on one nonce do not race through the same
 * stamps), little-endian, until a stamp has `bits` leading zero bits. */
static int pow_search(const uint8_t server_nonce[SD_SESSION_NONCE_BYTES], unsigned bits,
                      uint8_t counter[SD_POW_COUNTER_BYTES])
{
	crypto_generichash_state prefix;
	uint64_t c;

	randombytes_buf(counter, SD_POW_COUNTER_BYTES);
	c = sd_load_le64(counter);
	if (bits == 0)
		return 0;
	pow_prefix(server_nonce, &prefix);
	for (uint64_t tries = 1;; tries++, c++) {
		sd_store_le64(counter, c);
		if (pow_bits_after_prefix(&prefix, counter) >= bits)
			return 0;
		if (tries % POW_CANCEL_EVERY == 0 && sd_is_cancelled())
			return sd_error(SD_ERR_CANCELLED, "stopped while working on the proof of work");
	}
}

int sd_session_prove(const sd_codename_keys_t *k, const uint8_t server_nonce[SD_SESSION_NONCE_BYTES], unsigned bits,
                     sd_session_proof_t *out)
{
	uint8_t msg[SESSION_MSG_BYTES];
	int r;

	if (k == NULL || server_nonce == NULL || out == NULL)
		return sd_error(SD_ERR_USAGE, "sd_session_prove: missing keys, nonce or output");
	if (bits > SD_POW_BITS_MAX)
		return sd_error(SD_ERR_USAGE, "a proof of work of %u bits is beyond the limit of %d", bits,
		                SD_POW_BITS_MAX);
	memmove(out->server_nonce, server_nonce, SD_SESSION_NONCE_BYTES);
	randombytes_buf(out->client_nonce, SD_SESSION_NONCE_BYTES);
	memcpy(out->locator, k->locator, sizeof(out->locator));
	session_message(out->server_nonce, out->client_nonce, out->locator, msg);
	r = sd_sign(SD_PURPOSE_SESSION, k->consent_sk, msg, sizeof(msg), out->signature);
	if (r == 0)
		r = pow_search(out->server_nonce, bits, out->pow);
	if (r != 0)
		sodium_memzero(out, sizeof(*out));
	return r;
}

int sd_session_verify(const sd_session_proof_t *p, const uint8_t server_nonce[SD_SESSION_NONCE_BYTES], unsigned bits,
                      const uint8_t locator_hash[32], const uint8_t consent_pk[32])
{
	uint8_t msg[SESSION_MSG_BYTES];
	unsigned have;

	if (p == NULL || server_nonce == NULL || locator_hash == NULL || consent_pk == NULL)
		return sd_error(SD_ERR_USAGE, "sd_session_verify: missing proof, nonce, locator hash or key");
	if (bits > SD_POW_BITS_MAX)
		return sd_error(SD_ERR_USAGE, "a proof of work of %u bits is beyond the limit of %d", bits,
		                SD_POW_BITS_MAX);
	if (bits > 0 && (have = sd_pow_zero_bits(server_nonce, p->pow)) < bits)
		return sd_error(SD_ERR_VERIFY, "the proof of work has %u leading zero bits, %u are needed", have, bits);
	/* The proof answers the nonce this server issued, and its signature covers that nonce. */
	if (!sd_equal(p->server_nonce, server_nonce, SD_SESSION_NONCE_BYTES))
		return sd_error(SD_ERR_VERIFY, "the session answers another challenge");
	session_message(server_nonce, p->client_nonce, p->locator, msg);
	if (!sd_equal(msg + 2 * SD_SESSION_NONCE_BYTES, locator_hash, LOCATOR_BYTES))
		return sd_error(SD_ERR_VERIFY, "the locator does not match the package");
	if (sd_sign_verify(SD_PURPOSE_SESSION, consent_pk, msg, sizeof(msg), p->signature) != 0)
		return sd_error(SD_ERR_VERIFY, "the session signature does not verify");
	return 0;
}

/* --- Challenges ------------------------------------------------------------------------- */

#define CHALLENGE_EXPIRY_BYTES 8
#define CHALLENGE_RANDOM_BYTES 8
#define CHALLENGE_TAG_BYTES    16
_Static_assert(CHALLENGE_EXPIRY_BYTES + CHALLENGE_RANDOM_BYTES + CHALLENGE_TAG_BYTES == SD_SESSION_NONCE_BYTES,
               "a challenge is one session nonce");

static const char challenge_domain[] = "sealdrop challenge v1";

static void challenge_tag(const uint8_t key[SD_SESSION_CHALLENGE_KEY_BYTES], const uint8_t c[SD_SESSION_NONCE_BYTES],
                          uint8_t tag[CHALLENGE_TAG_BYTES])
{
	crypto_generichash_state st;

	(void)crypto_generichash_init(&st, key, SD_SESSION_CHALLENGE_KEY_BYTES, CHALLENGE_TAG_BYTES);
	(void)crypto_generichash_update(&st, (const uint8_t *)challenge_domain, sizeof(challenge_domain) - 1);
	(void)crypto_generichash_update(&st, c, CHALLENGE_EXPIRY_BYTES + CHALLENGE_RANDOM_BYTES);
	(void)crypto_generichash_final(&st, tag, CHALLENGE_TAG_BYTES);
	sodium_memzero(&st, sizeof(st));
}

uint8_t *sd_session_challenge_key_new(void)
{
	uint8_t *key = sd_secret_alloc(SD_SESSION_CHALLENGE_KEY_BYTES);

	if (key != NULL)
		randombytes_buf(key, SD_SESSION_CHALLENGE_KEY_BYTES);
	return key;
}

void sd_session_challenge_new(const uint8_t key[SD_SESSION_CHALLENGE_KEY_BYTES], uint64_t expiry,
                              uint8_t out[SD_SESSION_NONCE_BYTES])
{
	sd_store_le64(out, expiry);
	randombytes_buf(out + CHALLENGE_EXPIRY_BYTES, CHALLENGE_RANDOM_BYTES);
	challenge_tag(key, out, out + CHALLENGE_EXPIRY_BYTES + CHALLENGE_RANDOM_BYTES);
}

int sd_session_challenge_check(const uint8_t key[SD_SESSION_CHALLENGE_KEY_BYTES],
                               const uint8_t c[SD_SESSION_NONCE_BYTES], uint64_t now)
{
	uint8_t tag[CHALLENGE_TAG_BYTES];

	challenge_tag(key, c, tag);
	if (sodium_memcmp(tag, c + CHALLENGE_EXPIRY_BYTES + CHALLENGE_RANDOM_BYTES, CHALLENGE_TAG_BYTES) != 0)
		return sd_error(
		        SD_ERR_VERIFY,
		        "the challenge was not issued by this server (or it restarted since): ask for a new one");
	if (sd_load_le64(c) < now)
		return sd_error(SD_ERR_EXPIRED, "the challenge expired: ask for a new one");
	return 0;
}
