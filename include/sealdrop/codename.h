/*
 * codename.h — the whistleblower's only credential: 8 words of the EFF large wordlist
 * (≈103 bits), and the keys derived from it (DESIGN.md, Codename; docs/FORMAT.md).
 *
 *   salt   = BLAKE2b-128("sealdrop codename v1" || deployment_id)
 *   master = Argon2id(canonical codename, salt, directory's limits)
 *   subkey i = crypto_kdf_derive_from_key(32, i, "sdcodenm", master):
 *     1 locator, 2 consent signing seed, 3 notice box seed, 4 share-wrap key.
 */
#ifndef SEALDROP_CODENAME_H
#define SEALDROP_CODENAME_H

#include <stddef.h>
#include <stdint.h>
#include "sealdrop/error.h"
#include "sealdrop/keys.h"

#define SD_WORDLIST_SIZE       7776
#define SD_CODENAME_WORDS      8
#define SD_CODENAME_MAX        128 /* canonical text incl. NUL: 8 words of <= 9 letters */
#define SD_CODENAME_SALT_BYTES 16

extern const char *const sd_wordlist_words[SD_WORDLIST_SIZE];

/* Index of the word (exact, lower case), or -1. */
int sd_wordlist_find(const char *word, size_t len);

/* 8 uniformly random words, canonical form, into out (use sodium_malloc'd memory). */
int sd_codename_generate(char *out, size_t outlen) SD_WUR;
/* Lower-cases, folds runs of white space to one space, trims, and checks every word
 * against the list: SD_ERR_CODENAME with a detail such as
 * "word 3 'zookeper' is not in the word list (did you mean 'zookeeper'?)".
 * At most 4096 input bytes (SD_ERR_TOOBIG); out is wiped on any error. */
int sd_codename_canonicalize(const char *in, size_t inlen, char *out, size_t outlen) SD_WUR;

typedef struct {
	uint8_t locator[32];
	uint8_t consent_pk[32];
	uint8_t consent_sk[64]; /* Ed25519, libsodium form */
	uint8_t notice_pk[32];
	uint8_t notice_sk[32];  /* X25519 */
	uint8_t share_wrap[32]; /* XChaCha20-Poly1305 key for s_w */
} sd_codename_keys_t;

void sd_codename_salt(const char *deployment, uint8_t salt[SD_CODENAME_SALT_BYTES]);
/* Allocates (sodium_malloc) and fills *out. canonical must come from canonicalize or
 * generate. SD_ERR_USAGE for limits outside sd_kdf_limits_are_sane(). */
int sd_codename_derive(const char *canonical, const char *deployment, const sd_kdf_limits_t *limits,
                       sd_codename_keys_t **out) SD_WUR;
void sd_codename_keys_free_(sd_codename_keys_t *k);
#define sd_codename_keys_free(k)                                                                                       \
	do {                                                                                                           \
		sd_codename_keys_free_(k);                                                                             \
		(k) = NULL;                                                                                            \
	} while (0)

#endif
