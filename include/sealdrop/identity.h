/*
 * identity.h — opening the whistleblower's identity record (Decree Art. 7(1) 1) on the
 * custodians' workstation: the Commission share s_c from the package header with the
 * identity secret key, then the identity blob with s_c and the whistleblower's share s_w
 * (from a consent's release, include/sealdrop/consent.h). DESIGN.md, "Consent-gated
 * identity release"; docs/FORMAT.md, "Blob keys" and "Blobs":
 *
 *   id_key   = BLAKE2b-256("sealdrop identity v1" || s_c || s_w)
 *   blob 1   = nonce (24) || XChaCha20-Poly1305-IETF(pad(identity, 4096), id_key, AD(1))
 *
 * Neither share alone opens anything: without s_w the identity key holders learn nothing,
 * and the whistleblower's release alone is useless without s_c. Pure: no network, no store.
 */
#ifndef SEALDROP_IDENTITY_H
#define SEALDROP_IDENTITY_H

#include <stddef.h>
#include <stdint.h>
#include "sealdrop/envelope.h"
#include "sealdrop/error.h"
#include "sealdrop/keys.h"

#define SD_IDENTITY_SHARE_BYTES 32   /* s_c and s_w */
#define SD_IDENTITY_BLOB_BYTES  4136 /* 24 + 4096 + 16: the identity blob's one chunk */

/* s_c, opened from h's sealed share with the identity secret key: SD_ERR_USAGE for another
 * kind of key, SD_ERR_WRONG_KEY when h was sealed to another identity key (both ids named),
 * SD_ERR_VERIFY when the sealed share does not open. s_c should be secret memory; it is
 * wiped on failure. */
int sd_identity_open_share(const sd_header_t *h, const sd_seckey_t *identity,
                           uint8_t s_c[SD_IDENTITY_SHARE_BYTES]) SD_WUR;

/* The identity blob's plaintext, as sealed: ct must be chunk 0 of h's identity blob (size
 * and hash checked against the signed manifest first: SD_ERR_VERIFY), then decrypted under
 * id_key with AD(1) and unpadded. SD_ERR_NOENT when h carries no identity (a referral
 * bundle withholds it), SD_ERR_VERIFY "the identity does not open with these shares" when
 * s_c or s_w is not the package's. *out is secret memory (sd_secret_free), NUL-terminated,
 * *outlen bytes without the NUL. */
int sd_identity_decrypt(const sd_header_t *h, const uint8_t *ct, size_t len, const uint8_t s_c[SD_IDENTITY_SHARE_BYTES],
                        const uint8_t s_w[SD_IDENTITY_SHARE_BYTES], char **out, size_t *outlen) SD_WUR;

/* sd_identity_decrypt, then the record checked by sd_identity_validate (include/sealdrop/
 * record.h) as of the package's creation date, the day it was sealed: SD_ERR_FORMAT when
 * the plaintext is not an identity record (the validator's detail, which never repeats a
 * value). *out is the canonical text in secret memory (sd_secret_free). */
int sd_identity_open(const sd_header_t *h, const uint8_t *ct, size_t len, const uint8_t s_c[SD_IDENTITY_SHARE_BYTES],
                     const uint8_t s_w[SD_IDENTITY_SHARE_BYTES], char **out, size_t *outlen) SD_WUR;

#endif
