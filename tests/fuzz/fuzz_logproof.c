/*
 * fuzz_logproof.c — libFuzzer target for the inclusion and consistency proof parsers;
 * the first byte chooses which (even: inclusion, odd: consistency), the rest is the
 * document. Whatever parses must be written back by the matching writer and parse to
 * the same proof.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sealdrop/loghead.h"

static bool same(const sd_logproof_t *a, const sd_logproof_t *b)
{
	return a->a == b->a && a->b == b->b && a->n == b->n &&
	       memcmp(a->hashes, b->hashes, a->n * SD_MERKLE_HASH_BYTES) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static sd_logproof_t p, again; /* 4 KiB each: off the stack */
	bool consistency;
	char *text;
	int r;

	if (size == 0)
		return 0;
	consistency = data[0] & 1;
	r = consistency ? sd_logproof_consistency_parse(data + 1, size - 1, &p)
	                : sd_logproof_inclusion_parse(data + 1, size - 1, &p);
	if (r != 0)
		return 0;
	if (p.n > SD_MERKLE_PROOF_MAX || p.a >= SD_MERKLE_SIZE_MAX || p.b >= SD_MERKLE_SIZE_MAX)
		abort();
	r = consistency ? sd_logproof_consistency_json(&p, &text) : sd_logproof_inclusion_json(&p, &text);
	if (r != 0 || strlen(text) > SD_LOGPROOF_MAX_BYTES)
		abort();
	r = consistency ? sd_logproof_consistency_parse((const uint8_t *)text, strlen(text), &again)
	                : sd_logproof_inclusion_parse((const uint8_t *)text, strlen(text), &again);
	if (r != 0 || !same(&p, &again))
		abort();
	free(text);
	return 0;
}
