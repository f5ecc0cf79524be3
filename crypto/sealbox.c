/*
 * sealbox.c — anonymous sealed boxes to an X25519 key (include/sealdrop/sealbox.h): a
 * thin, checked wrapper over libsodium's crypto_box_seal and crypto_box_seal_open.
 * The key-file forms check the key's kind and call the raw forms, which hold the
 * length rules.
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "sealdrop/sealbox.h"
#include "sealdrop/sealdrop.h"

int sd_sealbox_seal_raw(const uint8_t pk[32], const uint8_t *msg, size_t len, uint8_t **out, size_t *out_len)
{
	*out = NULL;
	*out_len = 0;
	if (pk == NULL)
		return sd_error(SD_ERR_USAGE, "a sealed box needs an X25519 public key");
	if (len > SD_SEALBOX_MAX || (msg == NULL && len > 0))
		return sd_error(SD_ERR_USAGE, "a sealed box holds at most %u bytes", SD_SEALBOX_MAX);
	if ((*out = malloc(len + SD_SEALBOX_OVERHEAD)) == NULL)
		return SD_ERR_NOMEM;
	/* It fails only when the shared secret is all zero: pk is a low-order point. */
	if (crypto_box_seal(*out, len > 0 ? msg : (const uint8_t *)"", len, pk) != 0) {
		free(*out);
		*out = NULL;
		return sd_error(SD_ERR_INVALID,
		                "the X25519 public key is a low-order point: nothing can be sealed to it");
	}
	*out_len = len + SD_SEALBOX_OVERHEAD;
	return 0;
}

int sd_sealbox_seal(const sd_pubkey_t *pk, const uint8_t *msg, size_t len, uint8_t **out, size_t *out_len)
{
	*out = NULL;
	*out_len = 0;
	if (pk == NULL || sd_key_kind_alg(pk->kind) != SD_ALG_X25519)
		return sd_error(SD_ERR_USAGE, "a sealed box needs an X25519 public key");
	return sd_sealbox_seal_raw(pk->pk, msg, len, out, out_len);
}

int sd_sealbox_open_raw(const uint8_t pk[32], const uint8_t sk[32], const uint8_t *box, size_t len, uint8_t **out,
                        size_t *out_len)
{
	*out = NULL;
	*out_len = 0;
	if (pk == NULL || sk == NULL)
		return sd_error(SD_ERR_USAGE, "opening a sealed box needs an X25519 key pair");
	if (box == NULL || len < SD_SEALBOX_OVERHEAD)
		return sd_error(SD_ERR_TRUNCATED, "a sealed box of %zu bytes is shorter than its %d bytes of overhead",
		                len, SD_SEALBOX_OVERHEAD);
	if (len - SD_SEALBOX_OVERHEAD > SD_SEALBOX_MAX)
		return sd_error(SD_ERR_TOOBIG, "a sealed box holds at most %u bytes", SD_SEALBOX_MAX);
	if ((*out = sd_secret_alloc(len - SD_SEALBOX_OVERHEAD + 1)) == NULL)
		return SD_ERR_NOMEM;
	if (crypto_box_seal_open(*out, box, len, pk, sk) != 0) {
		sd_secret_free(*out);
		*out = NULL;
		return sd_error(SD_ERR_VERIFY, "the sealed box does not open with this key");
	}
	(*out)[len - SD_SEALBOX_OVERHEAD] = '\0';
	*out_len = len - SD_SEALBOX_OVERHEAD;
	return 0;
}

int sd_sealbox_open(const sd_seckey_t *sk, const uint8_t *box, size_t len, uint8_t **out, size_t *out_len)
{
	int r;

	*out = NULL;
	*out_len = 0;
	if (sk == NULL || sk->sk == NULL || sd_key_kind_alg(sk->kind) != SD_ALG_X25519)
		return sd_error(SD_ERR_USAGE, "opening a sealed box needs an X25519 secret key");
	if ((r = sd_sealbox_open_raw(sk->pk, sk->sk, box, len, out, out_len)) == SD_ERR_VERIFY)
		return sd_error(SD_ERR_VERIFY, "the sealed box does not open with key %s", sd_key_kind_name(sk->kind));
	return r;
}
