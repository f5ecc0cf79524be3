/*
 * sealbox.c — anonymous sealed boxes to an X25519 key (include/sealdrop/sealbox.h): a
 * thin, checked wrapper over libsodium's crypto_box_seal and crypto_box_seal_open.
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "sealdrop/sealbox.h"
#include "sealdrop/sealdrop.h"

int sd_sealbox_seal(const sd_pubkey_t *pk, const uint8_t *msg, size_t len, uint8_t **out, size_t *out_len)
{
	*out = NULL;
	*out_len = 0;
	if (pk == NULL || sd_key_kind_alg(pk->kind) != SD_ALG_X25519)
		return sd_error(SD_ERR_USAGE, "a sealed box needs an X25519 public key");
	if (len > SD_SEALBOX_MAX || (msg == NULL && len > 0))
		return sd_error(SD_ERR_USAGE, "a sealed box holds at most %u bytes", SD_SEALBOX_MAX);
	if ((*out = malloc(len + SD_SEALBOX_OVERHEAD)) == NULL)
		return SD_ERR_NOMEM;
	if (crypto_box_seal(*out, len > 0 ? msg : (const uint8_t *)"", len, pk->pk) != 0) {
		free(*out);
		*out = NULL;
		return sd_error(SD_ERR_INTERNAL, "crypto_box_seal failed");
	}
	*out_len = len + SD_SEALBOX_OVERHEAD;
	return 0;
}

int sd_sealbox_open(const sd_seckey_t *sk, const uint8_t *box, size_t len, uint8_t **out, size_t *out_len)
{
	*out = NULL;
	*out_len = 0;
	if (sk == NULL || sk->sk == NULL || sd_key_kind_alg(sk->kind) != SD_ALG_X25519)
		return sd_error(SD_ERR_USAGE, "opening a sealed box needs an X25519 secret key");
	if (box == NULL || len < SD_SEALBOX_OVERHEAD)
		return sd_error(SD_ERR_TRUNCATED, "a sealed box of %zu bytes is shorter than its %d bytes of overhead",
		                len, SD_SEALBOX_OVERHEAD);
	if (len - SD_SEALBOX_OVERHEAD > SD_SEALBOX_MAX)
		return sd_error(SD_ERR_TOOBIG, "a sealed box holds at most %u bytes", SD_SEALBOX_MAX);
	if ((*out = sd_secret_alloc(len - SD_SEALBOX_OVERHEAD + 1)) == NULL)
		return SD_ERR_NOMEM;
	if (crypto_box_seal_open(*out, box, len, sk->pk, sk->sk) != 0) {
		sd_secret_free(*out);
		*out = NULL;
		return sd_error(SD_ERR_VERIFY, "the sealed box does not open with key %s", sd_key_kind_name(sk->kind));
	}
	(*out)[len - SD_SEALBOX_OVERHEAD] = '\0';
	*out_len = len - SD_SEALBOX_OVERHEAD;
	return 0;
}
