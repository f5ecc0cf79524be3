/*
 * fuzz_directory.c — libFuzzer target for sd_directory_parse(). In the fuzzing build the
 * root's signature is not checked, so inputs reach every field rule. Whatever parses must
 * also pass sd_directory_sign() (which checks the same rules) and parse back to the same
 * values: a directory the client accepts but the operator could not have produced, or
 * one that changes on a round trip, is a bug.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sealdrop/directory.h"
#include "sealdrop/sealdrop.h"

static const sd_date_t TODAY = {2026, 12, 1};

static bool key_same(const sd_pubkey_t *a, const sd_pubkey_t *b)
{
	return a->kind == b->kind && memcmp(a->pk, b->pk, sizeof(a->pk)) == 0 &&
	       memcmp(a->id, b->id, sizeof(a->id)) == 0;
}

static void check_same(const sd_directory_t *a, const sd_directory_t *b)
{
	bool same = strcmp(a->deployment, b->deployment) == 0 && a->version == b->version &&
	            sd_date_cmp(a->issued, b->issued) == 0 && sd_date_cmp(a->not_after, b->not_after) == 0 &&
	            a->test == b->test && a->codename_kdf.opslimit == b->codename_kdf.opslimit &&
	            a->codename_kdf.memlimit == b->codename_kdf.memlimit && key_same(&a->intake, &b->intake) &&
	            key_same(&a->identity, &b->identity) && a->has_log == b->has_log &&
	            (!a->has_log || key_same(&a->log, &b->log)) && (a->tls_ca_pem == NULL) == (b->tls_ca_pem == NULL) &&
	            (a->tls_ca_pem == NULL || strcmp(a->tls_ca_pem, b->tls_ca_pem) == 0) &&
	            a->n_agencies == b->n_agencies && memcmp(a->root_id, b->root_id, sizeof(a->root_id)) == 0;

	for (size_t i = 0; same && i < a->n_agencies; i++)
		same = strcmp(a->agencies[i].id, b->agencies[i].id) == 0 &&
		       strcmp(a->agencies[i].name, b->agencies[i].name) == 0 &&
		       key_same(&a->agencies[i].key, &b->agencies[i].key);
	if (!same)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static sd_seckey_t *root;
	uint8_t seed[SD_KEY_SECRET_BYTES];
	sd_directory_t *d = NULL, *again = NULL;
	sd_pubkey_t rp;
	char *text = NULL;
	int r;

	if (root == NULL) {
		for (int i = 0; i < SD_KEY_SECRET_BYTES; i++)
			seed[i] = (uint8_t)i;
		if (sd_seckey_from_secret(SD_KEY_ROOT, seed, &root) != 0)
			abort();
	}
	sd_seckey_public(root, &rp);
	if (sd_directory_parse(data, size, &rp, TODAY, &d) != 0)
		return 0;
	/* agency ids are unique, so each finds itself */
	for (size_t i = 0; i < d->n_agencies; i++)
		if (sd_directory_find_agency(d, d->agencies[i].id) != &d->agencies[i])
			abort();
	r = sd_directory_sign(d, root, &text);
	/* pretty-printing may push a compact 1 MiB document over the limit; nothing else */
	if (r != 0 && r != SD_ERR_TOOBIG)
		abort();
	if (r == 0) {
		if (sd_directory_parse((const uint8_t *)text, strlen(text), &rp, TODAY, &again) != 0)
			abort();
		check_same(d, again);
	}
	sd_directory_free(again);
	sd_directory_free(d);
	free(text);
	return 0;
}
