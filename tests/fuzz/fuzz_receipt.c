/*
 * fuzz_receipt.c — libFuzzer target for sd_receipt_parse(). In the fuzzing build the log
 * key's signature is not checked, so inputs reach every field rule. Whatever parses must
 * also pass sd_receipt_sign() (which checks the same rules) and parse back to the same
 * values: a receipt the client accepts but the server could not have produced, or one
 * that changes on a round trip, is a bug.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sealdrop/receipt.h"

static void check_same(const sd_receipt_t *a, const sd_receipt_t *b)
{
	bool same = a->version == b->version && strcmp(a->deployment, b->deployment) == 0 &&
	            strcmp(a->case_number, b->case_number) == 0 &&
	            memcmp(a->header_digest, b->header_digest, sizeof(a->header_digest)) == 0 &&
	            sd_date_cmp(a->received, b->received) == 0 && sd_date_cmp(a->decision_due, b->decision_due) == 0 &&
	            strcmp(a->attorney, b->attorney) == 0 &&
	            memcmp(a->log_key_id, b->log_key_id, sizeof(a->log_key_id)) == 0 && a->has_leaf == b->has_leaf &&
	            a->leaf_index == b->leaf_index;

	if (!same)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static sd_seckey_t *log;
	uint8_t seed[SD_KEY_SECRET_BYTES];
	sd_receipt_t rc, again;
	sd_pubkey_t lp;
	char *text = NULL;

	if (log == NULL) {
		for (int i = 0; i < SD_KEY_SECRET_BYTES; i++)
			seed[i] = (uint8_t)(0x60 + i);
		if (sd_seckey_from_secret(SD_KEY_LOG, seed, &log) != 0)
			abort();
	}
	sd_seckey_public(log, &lp);
	if (sd_receipt_parse(data, size, &lp, &rc) != 0)
		return 0;
	if (!sd_case_number_is_valid(rc.case_number))
		abort();
	/* a receipt within the size limit stays within it when re-signed: every field is bounded */
	if (sd_receipt_sign(&rc, log, &text) != 0)
		abort();
	/* the key id that the fuzzer's input named is the one sign writes only for our key */
	memcpy(rc.log_key_id, lp.id, sizeof(rc.log_key_id));
	if (sd_receipt_parse((const uint8_t *)text, strlen(text), &lp, &again) != 0)
		abort();
	check_same(&rc, &again);
	free(text);
	return 0;
}
