/*
 * fuzz_auditleaf.c — libFuzzer target for sd_audit_leaf_parse(). The oracle is the
 * leaf's own promise: whatever parses is the canonical leaf of its event, so encoding
 * the parsed event must give back exactly the input bytes, and the event's JSON object
 * must exist. A leaf accepted in two spellings would give one event two leaf hashes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sealdrop/audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sd_audit_event_t ev;
	uint8_t *leaf;
	size_t len;
	json_t *o;

	if (sd_audit_leaf_parse(data, size, &ev) != 0)
		return 0;
	if (sd_audit_leaf_encode(&ev, &leaf, &len) != 0 || len != size || memcmp(leaf, data, size) != 0)
		abort();
	if ((o = sd_audit_event_json(&ev)) == NULL)
		abort();
	json_decref(o);
	free(leaf);
	return 0;
}
