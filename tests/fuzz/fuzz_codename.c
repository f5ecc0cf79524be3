/*
 * fuzz_codename.c — libFuzzer target for what a person types as a codename:
 * sd_codename_canonicalize() on arbitrary bytes, then, for what it accepts, the checks
 * that the canonical form is a fixed point and sd_codename_derive() on it (with the
 * minimum limits; in this build Argon2id is replaced by BLAKE2b). Also feeds
 * sd_wordlist_find() the raw bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sealdrop/codename.h"
#include "sealdrop/sealdrop.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const sd_kdf_limits_t minimum = {1, 8192};
	char out[SD_CODENAME_MAX], again[SD_CODENAME_MAX];
	sd_codename_keys_t *k = NULL;

	if (sd_wordlist_find((const char *)data, size) >= 0 && (size == 0 || size > 9))
		abort();
	if (sd_codename_canonicalize((const char *)data, size, out, sizeof(out)) != 0)
		return 0;
	/* What canonicalize accepts, it leaves unchanged the second time. */
	if (strlen(out) >= SD_CODENAME_MAX - 1 ||
	    sd_codename_canonicalize(out, strlen(out), again, sizeof(again)) != 0 || strcmp(out, again) != 0)
		abort();
	if (sd_codename_derive(out, "fuzz", &minimum, &k) != 0)
		abort();
	sd_codename_keys_free(k);
	return 0;
}
