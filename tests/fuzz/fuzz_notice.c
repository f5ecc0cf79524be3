/*
 * fuzz_notice.c — libFuzzer target for sd_notice_parse(). In the fuzzing build the log
 * key's signature is not checked, so inputs reach every field rule. Whatever parses must
 * also pass sd_notice_sign() and sd_notice_digest() (which check the same rules) and
 * parse back to the same values with the same digest: a notice a client accepts but the
 * server could not have produced, or one that changes on a round trip (and so would not
 * be found in the log by its digest), is a bug. The boxes go to sd_notice_open() too,
 * which must refuse them cleanly (the fuzzer does not know the key).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sealdrop/notice.h"

static bool same_box(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return alen == blen && (a == NULL) == (b == NULL) && (alen == 0 || memcmp(a, b, alen) == 0);
}

static void check_same(const sd_notice_t *a, const sd_notice_t *b)
{
	bool same = a->version == b->version && strcmp(a->deployment, b->deployment) == 0 &&
	            strcmp(a->case_number, b->case_number) == 0 && a->seq == b->seq &&
	            sd_date_cmp(a->date, b->date) == 0 && a->kind == b->kind &&
	            same_box(a->to_whistleblower, a->whistleblower_len, b->to_whistleblower, b->whistleblower_len) &&
	            same_box(a->to_attorney, a->attorney_len, b->to_attorney, b->attorney_len) &&
	            same_box(a->to_commission, a->commission_len, b->to_commission, b->commission_len);

	if (!same)
		abort();
}

/* Nobody sealed these boxes to the fixed key: each must be refused, never opened. */
static void check_open_refuses(const uint8_t *box, size_t len)
{
	static const uint8_t sk[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	static const uint8_t pk[32] = {9};
	char *text = NULL;
	size_t text_len = 0;

	if (box == NULL)
		return;
	if (sd_notice_open(box, len, pk, sk, &text, &text_len) != SD_ERR_VERIFY || text != NULL || text_len != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static sd_seckey_t *log;
	uint8_t seed[SD_KEY_SECRET_BYTES], d1[SD_NOTICE_DIGEST_BYTES], d2[SD_NOTICE_DIGEST_BYTES];
	sd_notice_t n, again;
	sd_pubkey_t lp;
	char *text = NULL;

	if (log == NULL) {
		for (int i = 0; i < SD_KEY_SECRET_BYTES; i++)
			seed[i] = (uint8_t)(0x60 + i);
		if (sd_seckey_from_secret(SD_KEY_LOG, seed, &log) != 0)
			abort();
	}
	sd_seckey_public(log, &lp);
	if (sd_notice_parse(data, size, &lp, &n) != 0) {
		if (n.to_whistleblower != NULL || n.to_attorney != NULL || n.to_commission != NULL)
			abort();
		return 0;
	}
	if (sd_notice_kind_name(n.kind) == NULL || n.to_whistleblower == NULL || n.to_commission == NULL)
		abort();
	/* every field is bounded: what parses is within the size limit when re-signed */
	if (sd_notice_sign(&n, log, &text) != 0 || sd_notice_digest(&n, d1) != 0)
		abort();
	if (sd_notice_parse((const uint8_t *)text, strlen(text), &lp, &again) != 0)
		abort();
	check_same(&n, &again);
	if (memcmp(again.log_key_id, lp.id, sizeof(lp.id)) != 0 || sd_notice_digest(&again, d2) != 0 ||
	    memcmp(d1, d2, sizeof(d1)) != 0)
		abort();
	check_open_refuses(n.to_whistleblower, n.whistleblower_len);
	check_open_refuses(n.to_attorney, n.attorney_len);
	free(text);
	sd_notice_clear(&again);
	sd_notice_clear(&n);
	return 0;
}
