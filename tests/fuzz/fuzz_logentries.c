/*
 * fuzz_logentries.c — libFuzzer target for sd_logentries_parse(), a page of audit log
 * entries as the server serves it. Whatever parses must hold strictly rising indexes
 * and leaves that are the canonical encoding of their parsed events; everything is
 * freed, so a leak on any path is a finding.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sealdrop/loghead.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sd_logentry_t *e;
	uint8_t *leaf;
	size_t n, len;

	if (sd_logentries_parse(data, size, &e, &n) != 0)
		return 0;
	if (n > SD_LOGENTRIES_MAX || (n > 0 && e == NULL))
		abort();
	for (size_t i = 0; i < n; i++) {
		if ((i > 0 && e[i].index <= e[i - 1].index) || e[i].index >= SD_MERKLE_SIZE_MAX)
			abort();
		if (sd_audit_leaf_encode(&e[i].event, &leaf, &len) != 0 || len != e[i].leaf_len ||
		    memcmp(leaf, e[i].leaf, len) != 0)
			abort();
		free(leaf);
	}
	sd_logentries_free(e, n);
	return 0;
}
