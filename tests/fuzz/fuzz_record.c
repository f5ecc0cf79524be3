/*
 * fuzz_record.c — libFuzzer target for the report and identity validators. The first
 * byte picks the validator (even: report, odd: identity); the rest is the JSON. A record
 * that validates must validate again from its own canonical text to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "fuzz.h"
#include "sealdrop/record.h"
#include "sealdrop/sealdrop.h"

static const sd_date_t TODAY = {2026, 11, 22};

static void fuzz_report(const uint8_t *data, size_t size)
{
	char *out = NULL, *again = NULL;
	size_t outlen = 0, againlen = 0;

	if (sd_report_validate(data, size, &out, &outlen) != 0)
		return;
	if (strlen(out) != outlen || outlen == 0 || out[outlen - 1] != '\n' || outlen > SD_REPORT_MAX_BYTES)
		abort();
	if (sd_report_validate((const uint8_t *)out, outlen, &again, &againlen) != 0 || againlen != outlen ||
	    memcmp(again, out, outlen) != 0)
		abort();
	free(again);
	free(out);
}

static void fuzz_identity(const uint8_t *data, size_t size)
{
	char *out = NULL, *again = NULL;
	size_t outlen = 0, againlen = 0;

	if (sd_identity_validate(data, size, TODAY, &out, &outlen) != 0)
		return;
	if (strlen(out) != outlen || outlen == 0 || out[outlen - 1] != '\n' || outlen > SD_IDENTITY_MAX_BYTES)
		abort();
	if (sd_identity_validate((const uint8_t *)out, outlen, TODAY, &again, &againlen) != 0 || againlen != outlen ||
	    memcmp(again, out, outlen) != 0)
		abort();
	sodium_free(again);
	sodium_free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{

	if (size == 0)
		return 0;
	if (data[0] & 1)
		fuzz_identity(data + 1, size - 1);
	else
		fuzz_report(data + 1, size - 1);
	return 0;
}
