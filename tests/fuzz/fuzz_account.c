/*
 * fuzz_account.c — libFuzzer target for stored account records (docs/STORE.md):
 * sd_account_decode() on arbitrary bytes. A record it accepts must encode and decode
 * back to the same account, and its encoding must be a fixed point, so what the server
 * writes is exactly what it reads.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sealdrop/accounts.h"

static int same(const sd_account_t *a, const sd_account_t *b)
{
	return strcmp(a->name, b->name) == 0 && a->role == b->role && a->enabled == b->enabled &&
	       a->has_box_key == b->has_box_key && sd_equal(a->box_pk, b->box_pk, sizeof(a->box_pk)) &&
	       sd_equal(a->serial, b->serial, sizeof(a->serial)) && sd_date_cmp(a->enrolled, b->enrolled) == 0 &&
	       (a->enabled || sd_date_cmp(a->disabled, b->disabled) == 0) && a->cert_not_after == b->cert_not_after;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sd_account_t acc, back;
	uint8_t *enc = NULL, *again = NULL;
	size_t len = 0, len2 = 0;
	int r;

	r = sd_account_decode(data, size, &acc);
	if (r == SD_ERR_NOMEM)
		return 0;
	if (r != 0) {
		if (r != SD_ERR_FORMAT && r != SD_ERR_VERSION && r != SD_ERR_INVALID)
			abort();
		return 0;
	}
	if (sd_account_encode(&acc, &enc, &len) != 0)
		abort();
	if (sd_account_decode(enc, len, &back) != 0 || !same(&acc, &back))
		abort();
	if (sd_account_encode(&back, &again, &len2) != 0 || len2 != len || !sd_equal(enc, again, len))
		abort();
	free(enc);
	free(again);
	return 0;
}
