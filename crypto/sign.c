/*
 * sign.c — the one place sealdrop makes or checks a signature. Every signature is
 * Ed25519 over BLAKE2b-256("sealdrop <purpose> v1" || message), so a signature made for
 * one purpose (a consent, a tree head, ...) never verifies as another purpose's, and
 * nobody can get a key to sign raw bytes of their choosing. Start at sd_sign_digest().
 * Byte-level description and vectors: docs/FORMAT.md, "Signatures".
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "sealdrop/sign.h"

static const char *const purpose_names[] = {
        [SD_PURPOSE_HEADER] = "header",   [SD_PURPOSE_CONSENT] = "consent", [SD_PURPOSE_REVOKE] = "revoke",
        [SD_PURPOSE_SESSION] = "session", [SD_PURPOSE_RECEIPT] = "receipt", [SD_PURPOSE_HEAD] = "head",
        [SD_PURPOSE_NOTICE] = "notice",   [SD_PURPOSE_EXPORT] = "export",   [SD_PURPOSE_DIRECTORY] = "directory",
};

#define PURPOSE_COUNT (sizeof(purpose_names) / sizeof(purpose_names[0]))

static int purpose_is_valid(sd_purpose_t p)
{
	return (unsigned)p < PURPOSE_COUNT;
}

/* NULL for a value outside sd_purpose_t: such a value is a bug in the caller. */
const char *sd_purpose_name(sd_purpose_t p)
{
	return purpose_is_valid(p) ? purpose_names[p] : NULL;
}

void sd_sign_digest(sd_purpose_t p, const uint8_t *msg, size_t len, uint8_t out[SD_DIGEST_BYTES])
{
	static const char prefix[] = "sealdrop ", suffix[] = " v1";
	crypto_generichash_state st;
	const char *name = sd_purpose_name(p);

	/* No caller can reach this with input it received: purposes are constants in code.
	 * Signing under an unnamed domain would be worse than stopping. */
	if (name == NULL)
		abort();
	crypto_generichash_init(&st, NULL, 0, SD_DIGEST_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)prefix, sizeof(prefix) - 1);
	crypto_generichash_update(&st, (const uint8_t *)name, strlen(name));
	crypto_generichash_update(&st, (const uint8_t *)suffix, sizeof(suffix) - 1);
	if (len > 0)
		crypto_generichash_update(&st, msg, len);
	crypto_generichash_final(&st, out, SD_DIGEST_BYTES);
	sodium_memzero(&st, sizeof(st));
}

int sd_sign(sd_purpose_t p, const uint8_t sk[SD_SIGN_SECRETKEYBYTES], const uint8_t *msg, size_t len,
            uint8_t sig[SD_SIGN_BYTES])
{
	uint8_t digest[SD_DIGEST_BYTES];

	if (!purpose_is_valid(p))
		return sd_error(SD_ERR_USAGE, "unknown signature purpose %d", (int)p);
	if (sk == NULL || sig == NULL || (msg == NULL && len > 0))
		return sd_error(SD_ERR_USAGE, "sd_sign: missing key, message or output");
	sd_sign_digest(p, msg, len, digest);
	if (crypto_sign_detached(sig, NULL, digest, sizeof(digest), sk) != 0)
		return sd_error(SD_ERR_INTERNAL, "Ed25519 signing failed");
	return 0;
}

int sd_sign_verify(sd_purpose_t p, const uint8_t pk[SD_SIGN_PUBLICKEYBYTES], const uint8_t *msg, size_t len,
                   const uint8_t sig[SD_SIGN_BYTES])
{
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	/* Lets the fuzzer reach the parsers behind a signature; never in a real build. */
	(void)p;
	(void)pk;
	(void)msg;
	(void)len;
	(void)sig;
	return 0;
#else
	uint8_t digest[SD_DIGEST_BYTES];

	if (!purpose_is_valid(p))
		return sd_error(SD_ERR_VERIFY, "unknown signature purpose %d", (int)p);
	if (pk == NULL || sig == NULL || (msg == NULL && len > 0))
		return sd_error(SD_ERR_VERIFY, "signature does not verify (missing key, message or signature)");
	sd_sign_digest(p, msg, len, digest);
	if (crypto_sign_verify_detached(sig, digest, sizeof(digest), pk) != 0)
		return sd_error(SD_ERR_VERIFY, "signature does not verify");
	return 0;
#endif
}
