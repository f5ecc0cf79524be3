/*
 * fuzz_loghead.c — libFuzzer target for sd_loghead_parse(). In the fuzzing build the
 * log key's signature is not checked, so inputs reach every field rule. Whatever parses
 * must also pass sd_loghead_sign() (which checks the same rules) and parse back to the
 * same statement: a head a client accepts but the server could not have signed, or one
 * that changes on a round trip, is a bug.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sealdrop/loghead.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static sd_seckey_t *log;
	uint8_t seed[SD_KEY_SECRET_BYTES];
	sd_loghead_t h, again;
	sd_pubkey_t lp;
	char *text = NULL;

	if (log == NULL) {
		for (int i = 0; i < SD_KEY_SECRET_BYTES; i++)
			seed[i] = (uint8_t)(0x60 + i);
		if (sd_seckey_from_secret(SD_KEY_LOG, seed, &log) != 0)
			abort();
	}
	sd_seckey_public(log, &lp);
	if (sd_loghead_parse(data, size, &lp, &h) != 0)
		return 0;
	if (h.version != SD_LOGHEAD_VERSION || h.size >= SD_MERKLE_SIZE_MAX ||
	    !sd_date_is_valid(h.date.y, h.date.m, h.date.d))
		abort();
	if (sd_loghead_sign(&h, log, &text) != 0)
		abort();
	if (sd_loghead_parse((const uint8_t *)text, strlen(text), &lp, &again) != 0 || !sd_loghead_same(&h, &again) ||
	    memcmp(again.log_key_id, lp.id, SD_KEY_ID_BYTES) != 0)
		abort();
	free(text);
	return 0;
}
