/*
 * fuzz_keyshare.c — libFuzzer target for the identity key share file parser
 * (crypto/keyshare.c). The first byte picks what to do with the rest:
 *
 *   even: sd_keyshare_peek + sd_keyshare_decode of one file (passphrase "fuzz"; in
 *         fuzzing builds the KDF is one BLAKE2b, so seeds from tests/fuzz/corpus/keyshare/
 *         do open). Whatever decodes must re-encode to exactly the input.
 *   odd:  the rest cut into 160-byte files, each decoded, and whatever decoded combined:
 *         a key may come out only if its public key is the one the shares name.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "fuzz.h"
#include "sealdrop/keys.h"
#include "sealdrop/keyshare.h"
#include "sealdrop/sealdrop.h"

#define FUZZ_PASS  "fuzz"
#define FUZZ_FILES 4

static void fuzz_one(const uint8_t *data, size_t size)
{
	sd_keyshare_t *s = NULL;
	sd_keyshare_info_t info;
	uint8_t again[SD_KEYSHARE_BYTES];
	int peek = sd_keyshare_peek(data, size, &info);

	if (sd_keyshare_decode(data, size, FUZZ_PASS, sizeof(FUZZ_PASS) - 1, &s) < 0) {
		if (s != NULL)
			abort(); /* a failed decode must not hand out a share */
		return;
	}
	if (peek < 0 || sodium_memcmp(&info, &s->info, sizeof(info)) != 0 || s->share.x != info.x)
		abort();
	/* Same limits, salt (offset 28) and nonce (offset 44): the identical 160 bytes. */
	if (sd_keyshare_encode(s, FUZZ_PASS, sizeof(FUZZ_PASS) - 1, &info.limits, data + 28, data + 44, again) < 0 ||
	    size != SD_KEYSHARE_BYTES || sodium_memcmp(again, data, SD_KEYSHARE_BYTES) != 0)
		abort();
	sd_keyshare_free(s);
}

static void fuzz_combine(const uint8_t *data, size_t size)
{
	sd_keyshare_t *s[FUZZ_FILES] = {NULL};
	const sd_keyshare_t *set[FUZZ_FILES];
	sd_seckey_t *key = NULL;
	size_t n = 0;

	for (size_t i = 0; i < FUZZ_FILES && (i + 1) * SD_KEYSHARE_BYTES <= size; i++)
		if (sd_keyshare_decode(data + i * SD_KEYSHARE_BYTES, SD_KEYSHARE_BYTES, FUZZ_PASS,
		                       sizeof(FUZZ_PASS) - 1, &s[n]) == 0)
			n++;
	for (size_t i = 0; i < n; i++)
		set[i] = s[i];
	if (n > 0 && sd_keyshare_combine(set, n, &key) == 0) {
		if (key == NULL || key->kind != SD_KEY_IDENTITY ||
		    sodium_memcmp(key->pk, s[0]->info.key.pk, SD_KEY_PUBLIC_BYTES) != 0 || n < s[0]->info.k)
			abort();
		sd_seckey_free(key);
	} else if (key != NULL) {
		abort();
	}
	for (size_t i = 0; i < n; i++)
		sd_keyshare_free(s[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if ((data[0] & 1) == 0)
		fuzz_one(data + 1, size - 1);
	else
		fuzz_combine(data + 1, size - 1);
	return 0;
}
