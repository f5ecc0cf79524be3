/*
 * test_consents.c — the server's stored consent rows (include/sealdrop/consents.h): a row
 * round-trips in one encoding, before and after its revocation (which drops the release);
 * what the decoder refuses; the key; the status's view of a row, live or not.
 */
#include <sodium.h>

#include "unit.h"
#include "sealdrop/consents.h"

static const sd_date_t issued = {2026, 11, 22}, expires = {2026, 12, 22};

/* A consent signed by a fixed seed's key, to a random grantee. */
static sd_consent_row_t signed_row(void)
{
	sd_consent_row_t row = {.accepted = {2026, 11, 23}, .has_release = true};
	uint8_t seed[32], pk[32], sk[64];
	char *json = NULL;

	memset(seed, 0x42, sizeof(seed));
	crypto_sign_seed_keypair(pk, sk, seed);
	row.c = (sd_consent_t){.version = 1, .scope = SD_CONSENT_COMMISSION, .issued = issued, .expires = expires};
	snprintf(row.c.deployment, sizeof(row.c.deployment), "demo");
	randombytes_buf(row.c.header_digest, sizeof(row.c.header_digest));
	randombytes_buf(row.c.grantee_pk, sizeof(row.c.grantee_pk));
	sd_key_id(SD_KEY_IDENTITY, row.c.grantee_pk, row.c.grantee_key_id);
	randombytes_buf(row.release, sizeof(row.release));
	crypto_generichash(row.c.release_hash, 32, row.release, sizeof(row.release), NULL, 0);
	randombytes_buf(row.c.nonce, sizeof(row.c.nonce));
	assert_int_equal(sd_consent_sign(&row.c, sk, &json), 0);
	assert_int_equal(sd_consent_id(&row.c, row.id), 0);
	free(json);
	return row;
}

static void round_trip(const sd_consent_row_t *row)
{
	sd_consent_row_t back;
	uint8_t *enc, *again;
	size_t len, len2;

	assert_int_equal(sd_consent_row_encode(row, &enc, &len), 0);
	assert_int_equal(sd_consent_row_decode(enc, len, &back), 0);
	assert_memory_equal(back.id, row->id, sizeof(row->id));
	assert_int_equal(back.has_release, row->has_release);
	if (row->has_release)
		assert_memory_equal(back.release, row->release, sizeof(row->release));
	assert_int_equal(back.revoked, row->revoked);
	assert_int_equal(back.relayed, row->relayed);
	assert_int_equal(sd_date_cmp(back.accepted, row->accepted), 0);
	assert_int_equal(sd_consent_row_encode(&back, &again, &len2), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(enc, again, len);
	free(enc);
	free(again);
}

static void test_round_trip(void **state)
{
	sd_consent_row_t row = signed_row();
	uint8_t *enc;
	size_t len;

	(void)state;
	round_trip(&row);
	row.relayed = true;
	round_trip(&row);
	/* revoked: the release is gone from the bytes */
	row.revoked = true;
	row.revoked_on = (sd_date_t){2026, 11, 30};
	row.has_release = false;
	round_trip(&row);
	assert_int_equal(sd_consent_row_encode(&row, &enc, &len), 0);
	assert_null(memmem(enc, len, "\"release\":", 10));
	assert_non_null(memmem(enc, len, "\"revoked\":\"2026-11-30\"", 22));
	free(enc);
}

/* Replaces the first `from` in the row's text with `to` and decodes. */
static int decode_edited(const sd_consent_row_t *row, const char *from, const char *to)
{
	sd_consent_row_t out;
	uint8_t *enc;
	size_t len;
	char buf[8192];
	const char *at;
	int r;

	assert_int_equal(sd_consent_row_encode(row, &enc, &len), 0);
	assert_true(len < sizeof(buf));
	memcpy(buf, enc, len);
	buf[len] = '\0';
	free(enc);
	at = strstr(buf, from);
	if (at == NULL)
		fail_msg("'%s' is not in %s", from, buf);
	{
		char out_text[8192];
		snprintf(out_text, sizeof(out_text), "%.*s%s%s", (int)(at - buf), buf, to, at + strlen(from));
		r = sd_consent_row_decode((const uint8_t *)out_text, strlen(out_text), &out);
	}
	if (r < 0) { /* nothing half-decoded is left */
		uint8_t zero[sizeof(out)];
		memset(zero, 0, sizeof(zero));
		assert_memory_equal(&out, zero, sizeof(out));
	}
	return r;
}

static void test_refused(void **state)
{
	sd_consent_row_t row = signed_row();

	(void)state;
	assert_int_equal(decode_edited(&row, "\"by\":\"whistleblower\"", "\"by\":\"officer\""), SD_ERR_FORMAT);
	assert_int_equal(decode_edited(&row, "\"accepted\":\"2026-11-23\"", "\"accepted\":\"2026-02-30\""),
	                 SD_ERR_FORMAT);
	assert_int_equal(decode_edited(&row, "\"accepted\":\"2026-11-23\",", ""), SD_ERR_FORMAT);
	assert_int_equal(decode_edited(&row, "\"by\":", "\"extra\":1,\"by\":"), SD_ERR_FORMAT);
	assert_int_equal(decode_edited(&row, "\"release\":\"", "\"release\":\"AAAA"), SD_ERR_FORMAT);
	assert_int_equal(decode_edited(&row, "\"version\":1", "\"version\":2"), SD_ERR_VERSION);
	assert_int_equal(sd_consent_row_decode((const uint8_t *)"[]", 2, &row), SD_ERR_FORMAT);
}

static void test_key_and_view(void **state)
{
	sd_consent_row_t row = signed_row();
	uint8_t key[SD_CONSENTS_KEY_BYTES];
	json_t *v;

	(void)state;
	sd_consents_key("2026-000042", row.id, key);
	assert_memory_equal(key, "2026-000042", 11);
	assert_memory_equal(key + 11, row.id, 32);
	v = sd_consent_row_json(&row, (sd_date_t){2026, 12, 1});
	assert_true(json_is_true(json_object_get(v, "live")));
	assert_string_equal(json_string_value(json_object_get(v, "scope")), "commission");
	assert_string_equal(json_string_value(json_object_get(v, "by")), "whistleblower");
	assert_true(json_is_null(json_object_get(v, "revoked")));
	json_decref(v);
	v = sd_consent_row_json(&row, (sd_date_t){2026, 12, 23}); /* past its last day */
	assert_true(json_is_false(json_object_get(v, "live")));
	json_decref(v);
	row.revoked = true;
	row.has_release = false;
	v = sd_consent_row_json(&row, (sd_date_t){2026, 12, 1});
	assert_true(json_is_false(json_object_get(v, "live")));
	json_decref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_round_trip),
	        cmocka_unit_test(test_refused),
	        cmocka_unit_test(test_key_and_view),
	};

	return cmocka_run_group_tests(tests, unit_setup, NULL);
}
