/*
 * fuzz_keyfile.c — libFuzzer target for the two key file parsers. The first byte picks
 * the parser, the rest is the file:
 *
 *   even: sd_keyfile_peek + sd_keyfile_decode (passphrase "fuzz"; in fuzzing builds the
 *         KDF is one BLAKE2b, so seeds from tests/fuzz/corpus/keyfile/ do open)
 *   odd:  sd_pubkey_parse, and sd_pubkey_from_base64 on the same bytes
 *
 * Whatever parses must re-encode to exactly the input: the formats are canonical.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "fuzz.h"
#include "sealdrop/keys.h"
#include "sealdrop/sealdrop.h"

#define FUZZ_PASS "fuzz"

static void fuzz_secret_file(const uint8_t *data, size_t size)
{
	sd_seckey_t *k = NULL;
	sd_key_kind_t kind;
	sd_kdf_limits_t limits;
	uint8_t again[SD_KEYFILE_BYTES];
	int peek = sd_keyfile_peek(data, size, &kind, &limits);

	if (sd_keyfile_decode(data, size, FUZZ_PASS, sizeof(FUZZ_PASS) - 1, &k) < 0) {
		if (k != NULL)
			abort(); /* a failed decode must not hand out a key */
		return;
	}
	if (peek < 0 || kind != k->kind)
		abort();
	/* Same salt (offset 28) and nonce (offset 44): the identical 116 bytes. */
	if (sd_keyfile_encode(k, FUZZ_PASS, sizeof(FUZZ_PASS) - 1, &limits, data + 28, data + 44, again) < 0 ||
	    size != SD_KEYFILE_BYTES || sodium_memcmp(again, data, SD_KEYFILE_BYTES) != 0)
		abort();
	sd_seckey_free(k);
}

static void fuzz_public_file(const uint8_t *data, size_t size)
{
	sd_pubkey_t k, k2;
	char text[SD_PUBKEY_TEXT_BYTES];
	char *copy;

	if (sd_pubkey_parse((const char *)data, size, &k) == 0) {
		size_t n = size > 0 && data[size - 1] == '\n' ? size - 1 : size;
		if (sd_pubkey_format(&k, text) < 0 || strlen(text) != n + 1 || sodium_memcmp(text, data, n) != 0)
			abort();
	}
	copy = malloc(size + 1);
	if (copy == NULL)
		return;
	memcpy(copy, data, size);
	copy[size] = '\0';
	if (sd_pubkey_from_base64(SD_KEY_INTAKE, copy, &k2) == 0 && strlen(copy) != 44)
		abort();
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{

	if (size < 1)
		return 0;
	if ((data[0] & 1) == 0)
		fuzz_secret_file(data + 1, size - 1);
	else
		fuzz_public_file(data + 1, size - 1);
	return 0;
}
