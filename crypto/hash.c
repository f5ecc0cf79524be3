/*
 * hash.c — BLAKE2b-256 for the rest of sealdrop (include/sealdrop/hash.h): a thin,
 * allocation-free wrapper over libsodium's crypto_generichash, so the server can hash
 * a chunk body piece by piece without calling libsodium itself. The opaque state in the
 * header must hold libsodium's state: the static assertions below are the proof.
 */
#include <stdalign.h>
#include <sodium.h>

#include "sealdrop/envelope.h"
#include "sealdrop/hash.h"

_Static_assert(sizeof(sd_hash_state_t) >= sizeof(crypto_generichash_state),
               "sd_hash_state_t is too small for crypto_generichash_state");
_Static_assert(alignof(sd_hash_state_t) >= alignof(crypto_generichash_state),
               "sd_hash_state_t is less aligned than crypto_generichash_state");
_Static_assert(SD_HASH_DIGEST_BYTES == SD_HASH_BYTES, "the manifest's chunk hashes are BLAKE2b-256");
_Static_assert(SD_HASH_DIGEST_BYTES >= crypto_generichash_BYTES_MIN &&
                       SD_HASH_DIGEST_BYTES <= crypto_generichash_BYTES_MAX,
               "BLAKE2b cannot give SD_HASH_DIGEST_BYTES");

static crypto_generichash_state *state_of(sd_hash_state_t *st)
{
	return (crypto_generichash_state *)(void *)st->opaque;
}

void sd_hash_init(sd_hash_state_t *st)
{
	/* Only a bad output length or key length can fail, and both are constants here. */
	(void)crypto_generichash_init(state_of(st), NULL, 0, SD_HASH_DIGEST_BYTES);
}

void sd_hash_update(sd_hash_state_t *st, const uint8_t *data, size_t len)
{
	if (len > 0)
		(void)crypto_generichash_update(state_of(st), data, len);
}

void sd_hash_final(sd_hash_state_t *st, uint8_t out[SD_HASH_DIGEST_BYTES])
{
	(void)crypto_generichash_final(state_of(st), out, SD_HASH_DIGEST_BYTES);
	sodium_memzero(st, sizeof(*st));
}

void sd_hash(const uint8_t *data, size_t len, uint8_t out[SD_HASH_DIGEST_BYTES])
{
	(void)crypto_generichash(out, SD_HASH_DIGEST_BYTES, data, len, NULL, 0);
}
