/*
 * identity.c — opens the whistleblower's identity record for the custodians (include/
 * sealdrop/identity.h): s_c from the header with the identity key, then the identity blob
 * under id_key = BLAKE2b("sealdrop identity v1" || s_c || s_w), exactly as
 * crypto/envelope_seal.c sealed it (seal_record: nonce || AEAD(pad(text, 4096)), AD(1)).
 * Start at sd_identity_open(); every intermediate (s_c, id_key, the padded plaintext)
 * lives in sodium_malloc memory and is wiped before it is freed.
 */
#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "sealdrop/identity.h"
#include "sealdrop/record.h"
#include "sealdrop/sealdrop.h"
#include "envelope_int.h"

#define IDENTITY_BLOB 1u /* docs/FORMAT.md, "Manifest": blob 1 is always the identity */

int sd_identity_open_share(const sd_header_t *h, const sd_seckey_t *identity, uint8_t s_c[SD_IDENTITY_SHARE_BYTES])
{
	char want[SD_KEY_ID_HEX_BYTES], have[SD_KEY_ID_HEX_BYTES];

	if (h == NULL || identity == NULL || identity->sk == NULL || s_c == NULL)
		return sd_error(SD_ERR_USAGE, "opening the Commission share needs the header and the identity key");
	memset(s_c, 0, SD_IDENTITY_SHARE_BYTES);
	if (identity->kind != SD_KEY_IDENTITY)
		return sd_error(SD_ERR_USAGE, "the Commission share opens with an identity key, not a %s key",
		                sd_key_kind_name(identity->kind));
	if (!sd_equal(h->identity_id, identity->id, SD_KEY_ID_BYTES)) {
		sd_key_id_hex(h->identity_id, want);
		sd_key_id_hex(identity->id, have);
		return sd_error(SD_ERR_WRONG_KEY, "the package's share is sealed to identity key %s; this key is %s",
		                want, have);
	}
	if (crypto_box_seal_open(s_c, h->sealed_sc, SD_SEALED_KEY_BYTES, identity->pk, identity->sk) != 0) {
		sodium_memzero(s_c, SD_IDENTITY_SHARE_BYTES);
		return sd_error(SD_ERR_VERIFY, "the package's Commission share does not open with this identity key");
	}
	return 0;
}

/* The manifest's identity entry: one chunk of the fixed size, or none at all. */
static int identity_blob(const sd_header_t *h, const uint8_t *ct, size_t len)
{
	if (h->n_blobs <= IDENTITY_BLOB || h->blobs[IDENTITY_BLOB].kind != SD_BLOB_IDENTITY)
		return sd_error(SD_ERR_FORMAT, "the package has no identity blob");
	if (h->blobs[IDENTITY_BLOB].n_chunks == 0)
		return sd_error(SD_ERR_NOENT, "this package carries no identity (a referral bundle withholds it)");
	if (ct == NULL || len != SD_IDENTITY_BLOB_BYTES || sd_header_check_chunk(h, IDENTITY_BLOB, 0, ct, len) < 0)
		return sd_error(SD_ERR_VERIFY,
		                "the identity blob does not match the package's signed manifest: damaged or forged");
	return 0;
}

int sd_identity_decrypt(const sd_header_t *h, const uint8_t *ct, size_t len, const uint8_t s_c[SD_IDENTITY_SHARE_BYTES],
                        const uint8_t s_w[SD_IDENTITY_SHARE_BYTES], char **out, size_t *outlen)
{
	uint8_t ad[SDX_BLOB_AD_BYTES], *key = NULL, *pt = NULL;
	unsigned long long n = 0;
	size_t unpadded = 0;
	char *text = NULL;
	int r;

	*out = NULL;
	*outlen = 0;
	if (s_c == NULL || s_w == NULL)
		return sd_error(SD_ERR_USAGE, "opening the identity needs both shares");
	if ((r = identity_blob(h, ct, len)) < 0)
		return r;
	r = SD_ERR_NOMEM;
	if ((key = sodium_malloc(SDX_KEY_BYTES)) == NULL || (pt = sodium_malloc(SDX_IDENTITY_BUCKET)) == NULL)
		goto out;
	sdx_identity_key(s_c, s_w, key);
	sdx_blob_ad(h->binding, SD_BLOB_IDENTITY, IDENTITY_BLOB, ad);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &n, NULL, ct + SDX_AEAD_NONCE, len - SDX_AEAD_NONCE, ad,
	                                               sizeof(ad), ct, key) != 0 ||
	    n != SDX_IDENTITY_BUCKET) {
		r = sd_error(SD_ERR_VERIFY, "the identity does not open with these shares");
		goto out;
	}
	if (sodium_unpad(&unpadded, pt, SDX_IDENTITY_BUCKET, SDX_IDENTITY_BUCKET) != 0 || unpadded == 0) {
		r = sd_error(SD_ERR_FORMAT, "the identity record's padding is damaged");
		goto out;
	}
	if ((text = sodium_malloc(unpadded + 1)) == NULL)
		goto out;
	memcpy(text, pt, unpadded);
	text[unpadded] = '\0';
	*out = text;
	*outlen = unpadded;
	r = 0;
out:
	sodium_free(key);
	sodium_free(pt);
	return r;
}

int sd_identity_open(const sd_header_t *h, const uint8_t *ct, size_t len, const uint8_t s_c[SD_IDENTITY_SHARE_BYTES],
                     const uint8_t s_w[SD_IDENTITY_SHARE_BYTES], char **out, size_t *outlen)
{
	char *text = NULL, why[256];
	size_t text_len = 0;
	int r;

	*out = NULL;
	*outlen = 0;
	if ((r = sd_identity_decrypt(h, ct, len, s_c, s_w, &text, &text_len)) < 0)
		return r;
	r = sd_identity_validate((const uint8_t *)text, text_len, h->created, out, outlen);
	sd_secret_free(text);
	if (r < 0) {
		snprintf(why, sizeof(why), "%s", sd_error_detail()); /* the detail buffer is rewritten below */
		return sd_error(SD_ERR_FORMAT, "the opened identity is not a valid record: %s", why);
	}
	return 0;
}
