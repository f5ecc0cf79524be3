/*
 * fuzz_export.c — libFuzzer target for the referral bundle's readers: the first byte
 * picks sd_bundle_parse() (a whole .sdr), sd_export_receipt_parse() (the export receipt;
 * fuzzing builds accept any signature so the field rules are reached) or
 * sd_exports_body_parse() (the body of POST /v1/cases/{case}/exports). What a parser
 * accepts must be consistent: a bundle's digest and sizes (the identity blob has one chunk
 * exactly when the identity flag is set, with a consent for the bundle's agency), a receipt
 * that signs again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sealdrop/export.h"
#include "sealdrop/exports.h"

static void bundle(const uint8_t *data, size_t size)
{
	sd_bundle_t *b = NULL;

	if (sd_bundle_parse(data, size, &b) != 0)
		return;
	if (b->content->n_blobs < 2 || b->content->blobs[1].n_chunks != (b->has_identity ? 1u : 0u) ||
	    b->receipt_len == 0 || b->ciphertext_end + 4 + b->receipt_len != size || b->content->raw_len > size)
		abort();
	if (b->has_identity &&
	    (b->consent_len == 0 || b->consent_len > SD_CONSENT_MAX_BYTES ||
	     b->consent_rec.scope != SD_CONSENT_AGENCY || strcmp(b->consent_rec.agency, b->agency) != 0))
		abort();
	if (!b->has_identity && (b->consent != NULL || b->flags != 0))
		abort();
	sd_bundle_free(b);
}

static void receipt(const uint8_t *data, size_t size)
{
	static sd_seckey_t *log;
	sd_export_receipt_t er;
	sd_pubkey_t pub;
	char *again = NULL;

	if (log == NULL && sd_seckey_generate(SD_KEY_LOG, &log) != 0)
		abort();
	sd_seckey_public(log, &pub);
	if (sd_export_receipt_parse(data, size, &pub, &er) != 0)
		return;
	if (sd_export_receipt_sign(&er, log, &again) != 0) /* accepted means signable */
		abort();
	free(again);
}

static void body(const uint8_t *data, size_t size)
{
	sd_exports_body_t b;

	if (sd_exports_body_parse(data, size, &b) == 0 && (b.agency[0] == '\0' || strlen(b.agency) > SD_AGENCY_ID_MAX))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0:
		bundle(data + 1, size - 1);
		break;
	case 1:
		receipt(data + 1, size - 1);
		break;
	default:
		body(data + 1, size - 1);
	}
	return 0;
}
