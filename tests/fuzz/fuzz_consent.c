/*
 * fuzz_consent.c — libFuzzer target for the consent's three parsers: sd_consent_parse(),
 * sd_revocation_parse() and sd_consent_file_parse() (.sdc), each run on every input.
 * Whatever parses must be written back by the matching format or encode function and
 * parse again to the same record with the same id: a document a server accepts but no
 * client could have written, or one that changes on a round trip (and so would no longer
 * match its signature or its audit leaf), is a bug. A refused input must leave the
 * output zeroed. The parsed records also go through the server's stateless checks and the
 * Art. 7(2) explanation against a fixed directory, which must answer without crashing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sealdrop/error.h"
#include "sealdrop/consent.h"

static const uint8_t zero[sizeof(sd_consent_file_t)];

static sd_directory_t *directory(void)
{
	static sd_directory_t d = {.deployment = "demo", .version = 1};
	static sd_agency_t a = {.id = "police", .name = "police"};

	d.agencies = &a;
	d.n_agencies = 1;
	return &d;
}

static void consent_roundtrip(const sd_consent_t *c, const uint8_t *release)
{
	uint8_t id1[SD_CONSENT_ID_BYTES], id2[SD_CONSENT_ID_BYTES];
	sd_consent_t again;
	char *text = NULL;

	if (sd_consent_format(c, &text) != 0 || sd_consent_id(c, id1) != 0)
		abort();
	if (sd_consent_parse((const uint8_t *)text, strlen(text), &again) != 0 || memcmp(c, &again, sizeof(*c)) != 0 ||
	    sd_consent_id(&again, id2) != 0 || memcmp(id1, id2, sizeof(id1)) != 0)
		abort();
	free(text);
	/* accepted or refused, both are answers: only a crash or a leak is a finding */
	if (sd_consent_check(c, directory(), release, release ? SD_CONSENT_RELEASE_BYTES : 0, c->issued) != 0)
		sd_error_clear();
	if (sd_consent_explain(c, directory(), &text) == 0)
		free(text);
}

static void revocation_roundtrip(const sd_revocation_t *rv)
{
	uint8_t id1[SD_CONSENT_ID_BYTES], id2[SD_CONSENT_ID_BYTES];
	sd_revocation_t again;
	char *text = NULL;

	if (sd_revocation_format(rv, &text) != 0 || sd_revocation_id(rv, id1) != 0)
		abort();
	if (sd_revocation_parse((const uint8_t *)text, strlen(text), &again) != 0 ||
	    memcmp(rv, &again, sizeof(*rv)) != 0 || sd_revocation_id(&again, id2) != 0 ||
	    memcmp(id1, id2, sizeof(id1)) != 0)
		abort();
	free(text);
	if (sd_revocation_check(rv, directory(), rv->date) != 0)
		sd_error_clear();
	if (sd_revocation_explain(rv, &text) == 0)
		free(text);
}

static void file_roundtrip(const sd_consent_file_t *f)
{
	sd_consent_file_t again;
	char *text = NULL;
	int r;

	if (f->kind == SD_CONSENT_FILE_CONSENT) {
		consent_roundtrip(&f->consent, f->release);
		r = sd_consent_file_encode(&f->consent, f->release, &text);
	} else if (f->kind == SD_CONSENT_FILE_REVOCATION) {
		revocation_roundtrip(&f->revocation);
		r = sd_revocation_file_encode(&f->revocation, &text);
	} else {
		abort();
	}
	if (r == SD_ERR_VERIFY && f->kind == SD_CONSENT_FILE_CONSENT)
		return; /* a parsed file may carry an altered release; the encoder writes none */
	if (r != 0 || sd_consent_file_parse((const uint8_t *)text, strlen(text), &again) != 0 ||
	    memcmp(f, &again, sizeof(*f)) != 0)
		abort();
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sd_consent_file_t f;
	sd_revocation_t rv;
	sd_consent_t c;

	if (sd_consent_parse(data, size, &c) == 0)
		consent_roundtrip(&c, NULL);
	else if (memcmp(&c, zero, sizeof(c)) != 0)
		abort();
	if (sd_revocation_parse(data, size, &rv) == 0)
		revocation_roundtrip(&rv);
	else if (memcmp(&rv, zero, sizeof(rv)) != 0)
		abort();
	if (sd_consent_file_parse(data, size, &f) == 0)
		file_roundtrip(&f);
	else if (memcmp(&f, zero, sizeof(f)) != 0)
		abort();
	return 0;
}
