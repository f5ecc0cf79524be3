/*
 * test_receipt.c — the filing receipt: the fixed-key vector, sign/parse round trips,
 * every field altered after signing (the signature must catch it), every field's absence
 * and malformation (each case re-signed by the log key so the field rules, not the
 * signature, must catch it), the wrong key, verification against a directory, and case
 * numbers.
 */
#include "unit.h"
#include "unit_json.h"

#include <jansson.h>
#include <sodium.h>

#include "sealdrop/bytes.h"
#include "sealdrop/receipt.h"
#include "sealdrop/sign.h"

/* The vector: log seed 60..7f, header digest 80..9f (docs/FORMAT.md, "Receipt"). */
#define VEC_LOG_ID      "89d4e152054dfb5e"
#define VEC_MSG_LEN     259
#define VEC_MSG_BLAKE2B "190c57bcdbd5e63f861344cbca1269e1b95f98ec4767e855a2fa6ec3e03ab635"
#define VEC_SIGN_DIGEST "7f060a0b2e1c2e82375d6fa2f08a03fea298d404f3210a26d98402f5bec8a206"
#define VEC_SIG                                                                                                        \
	"458efa9c545b78df4b209f76cfca0babeebbf07cc09ed14564e11713491901ec254899b7591b3b5a9732fc5278252c02"             \
	"771890c47caad0df988b8c506e0f240f"
#define VEC_FILE_BYTES   486
#define VEC_FILE_BLAKE2B "1368e08d323246d74c09f71fdcb491ad6d278cd4a333e45544174eeefe235b08"
#define VEC_MSG                                                                                                        \
	"{\"attorney\":\"Attorney Kim (김민지)\",\"case\":\"2026-000001\",\"decision_due\":\"2027-01-22\",\"depl"   \
	"oyment\":\"demo\",\"header_digest\":\"808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e"         \
	"9f\",\"log_key_id\":\"89d4e152054dfb5e\",\"received\":\"2026-11-23\",\"version\":1}"

static sd_seckey_t *k_log, *k_other_log, *k_root;

static int keys_setup(void **state)
{
	if (unit_setup(state) != 0)
		return -1;
	k_log = unit_key_from_byte(SD_KEY_LOG, 0x60);
	k_other_log = unit_key_from_byte(SD_KEY_LOG, 0xa0);
	k_root = unit_key_from_byte(SD_KEY_ROOT, 0x00);
	return 0;
}

static int keys_teardown(void **state)
{
	(void)state;
	sd_seckey_free(k_log);
	sd_seckey_free(k_other_log);
	sd_seckey_free(k_root);
	return 0;
}

static sd_pubkey_t pub(const sd_seckey_t *k)
{
	sd_pubkey_t p;
	sd_seckey_public(k, &p);
	return p;
}

/* The vector's receipt. */
static void base_receipt(sd_receipt_t *rc)
{
	memset(rc, 0, sizeof(*rc));
	rc->version = SD_RECEIPT_VERSION;
	snprintf(rc->deployment, sizeof(rc->deployment), "demo");
	snprintf(rc->case_number, sizeof(rc->case_number), "2026-000001");
	for (int i = 0; i < 32; i++)
		rc->header_digest[i] = (uint8_t)(0x80 + i);
	rc->received = (sd_date_t){2026, 11, 23};
	rc->decision_due = (sd_date_t){2027, 1, 22};
	snprintf(rc->attorney, sizeof(rc->attorney), "Attorney Kim (김민지)");
}

static char *sign_ok(const sd_receipt_t *rc, const sd_seckey_t *log)
{
	char *text = NULL;
	assert_int_equal(sd_receipt_sign(rc, log, &text), 0);
	assert_non_null(text);
	return text;
}

static int parse_text(const char *text, const sd_seckey_t *log, sd_receipt_t *out)
{
	sd_pubkey_t lp = pub(log);
	return sd_receipt_parse((const uint8_t *)text, strlen(text), &lp, out);
}

static void blake2b_hex(const void *p, size_t n, char out[65])
{
	uint8_t h[32];
	crypto_generichash(h, sizeof(h), p, n, NULL, 0);
	sd_hex_encode(h, sizeof(h), out);
}

static void assert_same(const sd_receipt_t *a, const sd_receipt_t *b)
{
	assert_int_equal(a->version, b->version);
	assert_string_equal(a->deployment, b->deployment);
	assert_string_equal(a->case_number, b->case_number);
	assert_memory_equal(a->header_digest, b->header_digest, 32);
	assert_int_equal(sd_date_cmp(a->received, b->received), 0);
	assert_int_equal(sd_date_cmp(a->decision_due, b->decision_due), 0);
	assert_string_equal(a->attorney, b->attorney);
	assert_int_equal(a->has_leaf, b->has_leaf);
	assert_true(a->leaf_index == b->leaf_index);
}

/* --- the vector ------------------------------------------------------------------- */

static void test_vector(void **state)
{
	sd_receipt_t rc, got;
	uint8_t digest[SD_DIGEST_BYTES], sig[SD_SIGN_BYTES];
	char hex[129], id[SD_KEY_ID_HEX_BYTES], *text, *msg;
	json_t *doc;

	(void)state;
	sd_key_id_hex(k_log->id, id);
	assert_string_equal(id, VEC_LOG_ID);
	base_receipt(&rc);
	text = sign_ok(&rc, k_log);
	assert_int_equal(strlen(text), VEC_FILE_BYTES);
	blake2b_hex(text, strlen(text), hex);
	assert_string_equal(hex, VEC_FILE_BLAKE2B);

	assert_non_null(doc = json_loads(text, 0, NULL));
	msg = json_dumps(json_object_get(doc, "receipt"), JSON_COMPACT | JSON_SORT_KEYS);
	assert_int_equal(strlen(msg), VEC_MSG_LEN);
	assert_string_equal(msg, VEC_MSG);
	blake2b_hex(msg, strlen(msg), hex);
	assert_string_equal(hex, VEC_MSG_BLAKE2B);
	sd_sign_digest(SD_PURPOSE_RECEIPT, (const uint8_t *)msg, strlen(msg), digest);
	sd_hex_encode(digest, sizeof(digest), hex);
	assert_string_equal(hex, VEC_SIGN_DIGEST);
	assert_int_equal(
	        sd_base64_decode_exact(json_string_value(json_object_get(json_object_get(doc, "signature"), "sig")),
	                               sig, sizeof(sig)),
	        0);
	sd_hex_encode(sig, sizeof(sig), hex);
	assert_string_equal(hex, VEC_SIG);
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "signature"), "key_id")),
	                    VEC_LOG_ID);

	assert_int_equal(parse_text(text, k_log, &got), 0);
	memcpy(rc.log_key_id, k_log->id, SD_KEY_ID_BYTES);
	assert_same(&got, &rc);
	assert_memory_equal(got.log_key_id, k_log->id, SD_KEY_ID_BYTES);
	assert_false(got.has_leaf);
	free(msg);
	free(text);
	json_decref(doc);
}

/* --- round trips -------------------------------------------------------------------- */

static void test_roundtrip_leaf(void **state)
{
	sd_receipt_t rc, got;
	char *text;

	(void)state;
	base_receipt(&rc);
	rc.has_leaf = true;
	rc.leaf_index = ((uint64_t)1 << 53) - 1;
	snprintf(rc.case_number, sizeof(rc.case_number), "9999-999999");
	snprintf(rc.deployment, sizeof(rc.deployment), "acrc-2026");
	rc.decision_due = sd_date_add_days(rc.received, 120);
	/* 64 bytes exactly: 21 three-byte characters and one byte */
	memset(rc.attorney, 0, sizeof(rc.attorney));
	for (int i = 0; i < 21; i++)
		memcpy(rc.attorney + 3 * i, "김", 3);
	rc.attorney[63] = 'K';
	text = sign_ok(&rc, k_log);
	assert_int_equal(text[strlen(text) - 1], '\n');
	assert_non_null(strstr(text, "\"leaf_index\": 9007199254740991"));
	assert_int_equal(parse_text(text, k_log, &got), 0);
	memcpy(rc.log_key_id, k_log->id, SD_KEY_ID_BYTES);
	assert_same(&got, &rc);
	free(text);

	rc.has_leaf = true;
	rc.leaf_index = 0;
	text = sign_ok(&rc, k_log);
	assert_int_equal(parse_text(text, k_log, &got), 0);
	assert_true(got.has_leaf);
	assert_true(got.leaf_index == 0);
	free(text);
}

/* Layout, member order and escaping of the file do not matter: only the values are
 * signed. */
static void test_reformatted_still_verifies(void **state)
{
	sd_receipt_t rc, got;
	char *text, *compact;
	json_t *doc;

	(void)state;
	base_receipt(&rc);
	text = sign_ok(&rc, k_log);
	assert_non_null(doc = json_loads(text, 0, NULL));
	compact = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	assert_null(strstr(compact, "김"));
	assert_int_equal(parse_text(compact, k_log, &got), 0);
	assert_string_equal(got.attorney, rc.attorney);
	free(compact);
	free(text);
	json_decref(doc);
}

/* --- altered after signing ------------------------------------------------------------ */

static json_t *signed_doc(void)
{
	sd_receipt_t rc;
	char *text;
	json_t *doc;

	base_receipt(&rc);
	rc.has_leaf = true;
	rc.leaf_index = 7;
	text = sign_ok(&rc, k_log);
	assert_non_null(doc = json_loads(text, 0, NULL));
	free(text);
	return doc;
}

static int parse_doc(json_t *doc, const sd_seckey_t *log, sd_receipt_t *out)
{
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	int r;

	assert_non_null(text);
	r = parse_text(text, log, out);
	free(text);
	return r;
}

static void test_every_field_altered(void **state)
{
	static const struct {
		const char *path, *value;
	} cases[] = {
	        {"receipt.version", "2"},
	        {"receipt.deployment", "\"demp\""},
	        {"receipt.case", "\"2026-000002\""},
	        {"receipt.header_digest", "\"808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9e\""},
	        {"receipt.received", "\"2026-11-24\""},
	        {"receipt.decision_due", "\"2027-01-23\""},
	        {"receipt.attorney", "\"Attorney Kim (김민주)\""},
	        {"receipt.log_key_id", "\"0000000000000000\""},
	        {"receipt.leaf_index", "8"},
	        {"receipt.leaf_index", NULL},
	        {"receipt.extra", "1"},
	};
	sd_receipt_t got;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *doc = signed_doc();

		assert_int_equal(parse_doc(doc, k_log, &got), 0);
		unit_json_set(doc, cases[i].path, cases[i].value);
		sd_error_clear();
		if (parse_doc(doc, k_log, &got) != SD_ERR_VERIFY)
			fail_msg("altered %s: got '%s'", cases[i].path, sd_error_detail());
		assert_non_null(strstr(sd_error_detail(), "signature does not verify"));
		json_decref(doc);
	}
}

static void test_signature_altered(void **state)
{
	uint8_t sig[SD_SIGN_BYTES];
	char b64[SD_SIGN_BYTES * 2];
	sd_receipt_t got;
	json_t *doc = signed_doc(), *s = json_object_get(doc, "signature");

	(void)state;
	assert_int_equal(sd_base64_decode_exact(json_string_value(json_object_get(s, "sig")), sig, sizeof(sig)), 0);
	for (size_t i = 0; i < sizeof(sig); i += 9) {
		sig[i] ^= 0x01;
		sd_base64_encode(sig, sizeof(sig), b64);
		json_object_set_new(s, "sig", json_string(b64));
		assert_int_equal(parse_doc(doc, k_log, &got), SD_ERR_VERIFY);
		sig[i] ^= 0x01;
	}
	json_decref(doc);
}

/* --- keys --------------------------------------------------------------------------- */

static void test_wrong_key(void **state)
{
	sd_receipt_t rc, got;
	char *text, other[SD_KEY_ID_HEX_BYTES], ours[SD_KEY_ID_HEX_BYTES], want[128];
	sd_pubkey_t root = pub(k_root);

	(void)state;
	base_receipt(&rc);
	sd_key_id_hex(k_other_log->id, other);
	sd_key_id_hex(k_log->id, ours);
	/* signed by another log key, checked against ours */
	text = sign_ok(&rc, k_other_log);
	assert_int_equal(parse_text(text, k_log, &got), SD_ERR_VERIFY);
	snprintf(want, sizeof(want), "receipt was signed by key %s, not the log key %s", other, ours);
	assert_string_equal(sd_error_detail(), want);
	assert_int_equal(parse_text(text, k_other_log, &got), 0);
	free(text);
	/* the right receipt checked against another key */
	text = sign_ok(&rc, k_log);
	assert_int_equal(parse_text(text, k_other_log, &got), SD_ERR_VERIFY);
	/* not a log key at all */
	assert_int_equal(sd_receipt_parse((const uint8_t *)text, strlen(text), &root, &got), SD_ERR_USAGE);
	assert_int_equal(sd_receipt_parse((const uint8_t *)text, strlen(text), NULL, &got), SD_ERR_USAGE);
	free(text);
	/* only a log key signs */
	assert_int_equal(sd_receipt_sign(&rc, k_root, &text), SD_ERR_USAGE);
	assert_null(text);
	assert_int_equal(sd_receipt_sign(&rc, NULL, &text), SD_ERR_USAGE);
}

/* The log key's signature for another purpose is not a receipt signature. */
static void test_wrong_purpose(void **state)
{
	uint8_t sig[SD_SIGN_BYTES];
	char b64[SD_SIGN_BYTES * 2], *msg;
	sd_receipt_t got;
	json_t *doc = signed_doc(), *r = json_object_get(doc, "receipt");

	(void)state;
	assert_non_null(msg = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS));
	assert_int_equal(sd_sign(SD_PURPOSE_HEAD, k_log->sk, (const uint8_t *)msg, strlen(msg), sig), 0);
	sd_base64_encode(sig, sizeof(sig), b64);
	json_object_set_new(json_object_get(doc, "signature"), "sig", json_string(b64));
	assert_int_equal(parse_doc(doc, k_log, &got), SD_ERR_VERIFY);
	assert_int_equal(sd_sign(SD_PURPOSE_RECEIPT, k_log->sk, (const uint8_t *)msg, strlen(msg), sig), 0);
	sd_base64_encode(sig, sizeof(sig), b64);
	json_object_set_new(json_object_get(doc, "signature"), "sig", json_string(b64));
	assert_int_equal(parse_doc(doc, k_log, &got), 0);
	free(msg);
	json_decref(doc);
}

/* --- re-signed malformations ---------------------------------------------------------- */

/* Re-signs doc's "receipt" with the log key, as a server with a bug would. */
static void resign(json_t *doc)
{
	uint8_t sig[SD_SIGN_BYTES];
	char b64[SD_SIGN_BYTES * 2];
	char *msg = json_dumps(json_object_get(doc, "receipt"), JSON_COMPACT | JSON_SORT_KEYS);

	assert_non_null(msg);
	assert_int_equal(sd_sign(SD_PURPOSE_RECEIPT, k_log->sk, (const uint8_t *)msg, strlen(msg), sig), 0);
	sd_base64_encode(sig, sizeof(sig), b64);
	assert_int_equal(json_object_set_new(json_object_get(doc, "signature"), "sig", json_string(b64)), 0);
	free(msg);
}

struct field_case {
	const char *path;
	const char *value; /* NULL: delete */
	int err;
	const char *detail; /* substring of the detail */
};

static char long_dep[SD_DEPLOYMENT_MAX + 8], max_dep[SD_DEPLOYMENT_MAX + 8];
static char long_name[SD_RECEIPT_NAME_MAX + 8], max_name[SD_RECEIPT_NAME_MAX + 8];

static const struct field_case field_cases[] = {
        /* version */
        {"receipt.version", NULL, SD_ERR_FORMAT, "receipt: missing field receipt.version"},
        {"receipt.version", "2", SD_ERR_VERSION, "version 2 is not supported"},
        {"receipt.version", "0", SD_ERR_VERSION, "version 0 is not supported"},
        {"receipt.version", "\"1\"", SD_ERR_FORMAT, "receipt.version must be an integer"},
        {"receipt.version", "1.0", SD_ERR_FORMAT, "receipt.version must be an integer"},
        /* deployment */
        {"receipt.deployment", NULL, SD_ERR_FORMAT, "missing field receipt.deployment"},
        {"receipt.deployment", "\"\"", SD_ERR_FORMAT, "receipt.deployment must be 1 to 64"},
        {"receipt.deployment", "\"Demo\"", SD_ERR_FORMAT, "receipt.deployment must be 1 to 64"},
        {"receipt.deployment", "\"-demo\"", SD_ERR_FORMAT, "receipt.deployment must be 1 to 64"},
        {"receipt.deployment", "\"de mo\"", SD_ERR_FORMAT, "receipt.deployment must be 1 to 64"},
        {"receipt.deployment", long_dep, SD_ERR_FORMAT, "receipt.deployment is longer than 64 bytes"},
        {"receipt.deployment", max_dep, 0, NULL},
        {"receipt.deployment", "7", SD_ERR_FORMAT, "receipt.deployment must be a string"},
        /* case */
        {"receipt.case", NULL, SD_ERR_FORMAT, "missing field receipt.case"},
        {"receipt.case", "\"2026-000000\"", SD_ERR_FORMAT, "receipt.case must be YYYY-NNNNNN"},
        {"receipt.case", "\"1999-000001\"", SD_ERR_FORMAT, "receipt.case must be YYYY-NNNNNN"},
        {"receipt.case", "\"2026-00001\"", SD_ERR_FORMAT, "receipt.case must be YYYY-NNNNNN"},
        {"receipt.case", "\"2026_000001\"", SD_ERR_FORMAT, "receipt.case must be YYYY-NNNNNN"},
        {"receipt.case", "\"2026-0000001\"", SD_ERR_FORMAT, "receipt.case is longer than 11 bytes"},
        {"receipt.case", "\"2026-00000١\"", SD_ERR_FORMAT, "receipt.case is longer than 11 bytes"},
        {"receipt.case", "\"2026-00000a\"", SD_ERR_FORMAT, "receipt.case must be YYYY-NNNNNN"},
        {"receipt.case", "2026000001", SD_ERR_FORMAT, "receipt.case must be a string"},
        {"receipt.case", "\"9999-999999\"", 0, NULL},
        /* header_digest */
        {"receipt.header_digest", NULL, SD_ERR_FORMAT, "missing field receipt.header_digest"},
        {"receipt.header_digest", "\"808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e\"", SD_ERR_FORMAT,
         "receipt.header_digest must be 64 lower-case hexadecimal digits"},
        {"receipt.header_digest", "\"808182838485868788898A8B8C8D8E8F909192939495969798999A9B9C9D9E9F\"", SD_ERR_FORMAT,
         "receipt.header_digest must be 64 lower-case"},
        {"receipt.header_digest", "\"808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f00\"",
         SD_ERR_FORMAT, "receipt.header_digest must be 64 lower-case"},
        {"receipt.header_digest", "\"g08182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f\"", SD_ERR_FORMAT,
         "receipt.header_digest must be 64 lower-case"},
        {"receipt.header_digest", "[]", SD_ERR_FORMAT, "receipt.header_digest must be a string"},
        /* dates */
        {"receipt.received", NULL, SD_ERR_FORMAT, "missing field receipt.received"},
        {"receipt.received", "\"2026-02-30\"", SD_ERR_FORMAT, "receipt.received must be a calendar date"},
        {"receipt.received", "\"2026-11-23T00:00:00Z\"", SD_ERR_FORMAT, "receipt.received must be a calendar date"},
        {"receipt.received", "20261123", SD_ERR_FORMAT, "receipt.received must be a string"},
        {"receipt.decision_due", NULL, SD_ERR_FORMAT, "missing field receipt.decision_due"},
        {"receipt.decision_due", "\"2027-1-22\"", SD_ERR_FORMAT, "receipt.decision_due must be a calendar date"},
        {"receipt.decision_due", "\"2026-11-23\"", SD_ERR_FORMAT,
         "receipt.decision_due must be 60 to 120 days after receipt.received, not 0"},
        {"receipt.decision_due", "\"2027-01-21\"", SD_ERR_FORMAT,
         "must be 60 to 120 days after receipt.received, not 59"},
        {"receipt.decision_due", "\"2027-03-23\"", 0, NULL},
        {"receipt.decision_due", "\"2027-03-24\"", SD_ERR_FORMAT, "not 121"},
        {"receipt.decision_due", "\"2026-11-22\"", SD_ERR_FORMAT, "not -1"},
        {"receipt.decision_due", "\"2027-01-25\"", 0, NULL},
        /* attorney */
        {"receipt.attorney", NULL, SD_ERR_FORMAT, "missing field receipt.attorney"},
        {"receipt.attorney", "\"\"", SD_ERR_FORMAT, "receipt.attorney must be 1 to 64 bytes of UTF-8"},
        {"receipt.attorney", long_name, SD_ERR_FORMAT, "receipt.attorney is longer than 64 bytes"},
        {"receipt.attorney", max_name, 0, NULL},
        {"receipt.attorney", "\"Kim\\tMinji\"", SD_ERR_FORMAT, "receipt.attorney must be 1 to 64"},
        {"receipt.attorney", "\"Kim\\nMinji\"", SD_ERR_FORMAT, "receipt.attorney must be 1 to 64"},
        {"receipt.attorney", "\"Kim\\u007f\"", SD_ERR_FORMAT, "receipt.attorney must be 1 to 64"},
        {"receipt.attorney", "\"Kim\\u0085\"", SD_ERR_FORMAT, "receipt.attorney must be 1 to 64"},
        {"receipt.attorney", "\"Kim\\u00a0Minji\"", 0, NULL},
        {"receipt.attorney", "{}", SD_ERR_FORMAT, "receipt.attorney must be a string"},
        /* log_key_id */
        {"receipt.log_key_id", NULL, SD_ERR_FORMAT, "missing field receipt.log_key_id"},
        {"receipt.log_key_id", "\"0000000000000000\"", SD_ERR_FORMAT,
         "receipt.log_key_id does not name the log key that signed it"},
        {"receipt.log_key_id", "\"00000000000000\"", SD_ERR_FORMAT,
         "receipt.log_key_id must be 16 lower-case hexadecimal digits"},
        {"receipt.log_key_id", "\"000000000000000G\"", SD_ERR_FORMAT, "receipt.log_key_id must be 16 lower-case"},
        {"receipt.log_key_id", "0", SD_ERR_FORMAT, "receipt.log_key_id must be a string"},
        /* leaf_index */
        {"receipt.leaf_index", NULL, 0, NULL},
        {"receipt.leaf_index", "-1", SD_ERR_FORMAT, "receipt.leaf_index must be between 0 and 9007199254740991"},
        {"receipt.leaf_index", "9007199254740992", SD_ERR_FORMAT, "receipt.leaf_index must be between 0 and"},
        {"receipt.leaf_index", "9007199254740991", 0, NULL},
        {"receipt.leaf_index", "\"5\"", SD_ERR_FORMAT, "receipt.leaf_index must be an integer"},
        {"receipt.leaf_index", "5.0", SD_ERR_FORMAT, "receipt.leaf_index must be an integer"},
        {"receipt.leaf_index", "null", SD_ERR_FORMAT, "receipt.leaf_index must be an integer"},
        /* unknown fields */
        {"receipt.Case", "\"2026-000001\"", SD_ERR_FORMAT, "receipt: unknown field receipt.Case"},
        {"receipt.head", "{}", SD_ERR_FORMAT, "receipt: unknown field receipt.head"},
};

static void init_lengths(void)
{
	memset(long_dep, 0, sizeof(long_dep));
	memset(max_dep, 0, sizeof(max_dep));
	long_dep[0] = max_dep[0] = '"';
	memset(long_dep + 1, 'a', SD_DEPLOYMENT_MAX + 1);
	memset(max_dep + 1, 'a', SD_DEPLOYMENT_MAX);
	long_dep[SD_DEPLOYMENT_MAX + 2] = max_dep[SD_DEPLOYMENT_MAX + 1] = '"';
	memset(long_name, 0, sizeof(long_name));
	memset(max_name, 0, sizeof(max_name));
	long_name[0] = max_name[0] = '"';
	memset(long_name + 1, 'n', SD_RECEIPT_NAME_MAX + 1);
	memset(max_name + 1, 'n', SD_RECEIPT_NAME_MAX);
	long_name[SD_RECEIPT_NAME_MAX + 2] = max_name[SD_RECEIPT_NAME_MAX + 1] = '"';
}

static void test_field_cases(void **state)
{
	sd_receipt_t got;

	(void)state;
	init_lengths();
	for (size_t i = 0; i < sizeof(field_cases) / sizeof(field_cases[0]); i++) {
		const struct field_case *c = &field_cases[i];
		json_t *doc = signed_doc();
		int r;

		unit_json_set(doc, c->path, c->value);
		resign(doc);
		sd_error_clear();
		r = parse_doc(doc, k_log, &got);
		if (r != c->err || (c->detail != NULL && strstr(sd_error_detail(), c->detail) == NULL))
			fail_msg("%s = %s: got %d '%s', want %d '%s'", c->path, c->value ? c->value : "(deleted)", r,
			         sd_error_detail(), c->err, c->detail ? c->detail : "");
		if (r < 0) {
			/* nothing half-parsed is left behind */
			assert_int_equal(got.case_number[0], '\0');
			assert_int_equal(got.version, 0);
		}
		json_decref(doc);
	}
}

/* The envelope is checked before the signature: no re-signing needed. */
static void test_envelope_cases(void **state)
{
	static const struct field_case cases[] = {
	        {"receipt", NULL, SD_ERR_FORMAT, "receipt: missing field receipt"},
	        {"receipt", "[]", SD_ERR_FORMAT, "receipt: receipt must be an object"},
	        {"signature", NULL, SD_ERR_FORMAT, "receipt: missing field signature"},
	        {"signature", "\"x\"", SD_ERR_FORMAT, "receipt: signature must be an object"},
	        {"signature.key_id", NULL, SD_ERR_FORMAT, "missing field signature.key_id"},
	        {"signature.key_id", "\"xyz\"", SD_ERR_FORMAT, "signature.key_id must be 16 lower-case"},
	        {"signature.key_id", "1", SD_ERR_FORMAT, "signature.key_id must be a string"},
	        {"signature.sig", NULL, SD_ERR_FORMAT, "missing field signature.sig"},
	        {"signature.sig", "\"AAAA\"", SD_ERR_FORMAT, "signature.sig must be the base64 of 64 bytes"},
	        {"signature.sig", "[]", SD_ERR_FORMAT, "signature.sig must be a string"},
	        {"signature.alg", "\"ed25519\"", SD_ERR_FORMAT, "receipt: unknown field signature.alg"},
	        {"signed", "{}", SD_ERR_FORMAT, "receipt: unknown field signed"},
	};
	sd_receipt_t got;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *doc = signed_doc();
		int r;

		unit_json_set(doc, cases[i].path, cases[i].value);
		sd_error_clear();
		r = parse_doc(doc, k_log, &got);
		if (r != cases[i].err || strstr(sd_error_detail(), cases[i].detail) == NULL)
			fail_msg("%s: got %d '%s'", cases[i].path, r, sd_error_detail());
		json_decref(doc);
	}
}

static void test_malformed_documents(void **state)
{
	static const struct {
		const char *text;
		int err;
		const char *detail;
	} cases[] = {
	        {"", SD_ERR_FORMAT, "receipt: invalid JSON"},
	        {"{", SD_ERR_FORMAT, "receipt: invalid JSON"},
	        {"[]", SD_ERR_FORMAT, "the document must be a JSON object"},
	        {"\"receipt\"", SD_ERR_FORMAT, "invalid JSON"},
	        {"{\"receipt\": {}, \"receipt\": {}, \"signature\": {}}", SD_ERR_FORMAT, "invalid JSON"},
	        {"{\"receipt\": {}, \"signature\": {}} {}", SD_ERR_FORMAT, "invalid JSON"},
	        {"{\"receipt\": {\"attorney\": \"\\u0000\"}, \"signature\": {}}", SD_ERR_FORMAT, "invalid JSON"},
	        {"{\"receipt\": {\"attorney\": \"\xff\"}, \"signature\": {}}", SD_ERR_FORMAT, "invalid JSON"},
	};
	sd_receipt_t got;
	sd_pubkey_t lp = pub(k_log);
	char *big;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sd_error_clear();
		assert_int_equal(sd_receipt_parse((const uint8_t *)cases[i].text, strlen(cases[i].text), &lp, &got),
		                 cases[i].err);
		assert_non_null(strstr(sd_error_detail(), cases[i].detail));
	}
	assert_int_equal(sd_receipt_parse(NULL, 1, &lp, &got), SD_ERR_USAGE);
	/* the size limit is checked before parsing */
	assert_non_null(big = malloc(SD_RECEIPT_MAX_BYTES + 1));
	memset(big, ' ', SD_RECEIPT_MAX_BYTES + 1);
	assert_int_equal(sd_receipt_parse((const uint8_t *)big, SD_RECEIPT_MAX_BYTES + 1, &lp, &got), SD_ERR_TOOBIG);
	big[0] = '{';
	big[SD_RECEIPT_MAX_BYTES - 1] = '}';
	assert_int_equal(sd_receipt_parse((const uint8_t *)big, SD_RECEIPT_MAX_BYTES, &lp, &got), SD_ERR_FORMAT);
	assert_non_null(strstr(sd_error_detail(), "missing field receipt"));
	free(big);
}

/* Non-canonical base64 of the right signature is refused before it is checked. */
static void test_noncanonical_sig(void **state)
{
	char b64[SD_SIGN_BYTES * 2];
	sd_receipt_t got;
	json_t *doc = signed_doc(), *s = json_object_get(doc, "signature");
	size_t n;

	(void)state;
	snprintf(b64, sizeof(b64), "%s", json_string_value(json_object_get(s, "sig")));
	n = strlen(b64);
	assert_int_equal(n, 88);
	assert_string_equal(b64 + n - 2, "==");
	/* 64 bytes leave 4 unused bits in the last character before the padding */
	b64[n - 3] = b64[n - 3] == 'A' ? 'B' : (char)(b64[n - 3] ^ 1);
	json_object_set_new(s, "sig", json_string(b64));
	assert_int_equal(parse_doc(doc, k_log, &got), SD_ERR_FORMAT);
	assert_non_null(strstr(sd_error_detail(), "signature.sig"));
	json_decref(doc);
}

/* --- signing refuses what parsing would refuse ---------------------------------------- */

static void test_sign_refuses(void **state)
{
	sd_receipt_t rc;
	char *text = NULL;

	(void)state;
	base_receipt(&rc);
	rc.version = 2;
	assert_int_equal(sd_receipt_sign(&rc, k_log, &text), SD_ERR_INVALID);
	base_receipt(&rc);
	snprintf(rc.case_number, sizeof(rc.case_number), "2026-000000");
	assert_int_equal(sd_receipt_sign(&rc, k_log, &text), SD_ERR_INVALID);
	assert_non_null(strstr(sd_error_detail(), "receipt.case"));
	base_receipt(&rc);
	rc.deployment[0] = '\0';
	assert_int_equal(sd_receipt_sign(&rc, k_log, &text), SD_ERR_INVALID);
	base_receipt(&rc);
	rc.decision_due = sd_date_add_days(rc.received, 59);
	assert_int_equal(sd_receipt_sign(&rc, k_log, &text), SD_ERR_INVALID);
	base_receipt(&rc);
	rc.received = (sd_date_t){2026, 2, 30};
	assert_int_equal(sd_receipt_sign(&rc, k_log, &text), SD_ERR_INVALID);
	base_receipt(&rc);
	rc.attorney[0] = '\0';
	assert_int_equal(sd_receipt_sign(&rc, k_log, &text), SD_ERR_INVALID);
	base_receipt(&rc);
	memcpy(rc.attorney, "a\x1b[31m", 7);
	assert_int_equal(sd_receipt_sign(&rc, k_log, &text), SD_ERR_INVALID);
	base_receipt(&rc);
	memcpy(rc.attorney, "\xc3\x28", 3); /* invalid UTF-8 */
	assert_int_equal(sd_receipt_sign(&rc, k_log, &text), SD_ERR_INVALID);
	base_receipt(&rc);
	rc.has_leaf = true;
	rc.leaf_index = (uint64_t)1 << 53;
	assert_int_equal(sd_receipt_sign(&rc, k_log, &text), SD_ERR_INVALID);
	assert_null(text);
	/* the caller's log_key_id is not trusted: the key's own id is written */
	base_receipt(&rc);
	memset(rc.log_key_id, 0xee, sizeof(rc.log_key_id));
	text = sign_ok(&rc, k_log);
	assert_null(strstr(text, "eeeeeeee"));
	free(text);
}

/* --- against a directory -------------------------------------------------------------- */

static void test_with_directory(void **state)
{
	sd_directory_t d;
	sd_receipt_t rc, got;
	char *text;

	(void)state;
	memset(&d, 0, sizeof(d));
	snprintf(d.deployment, sizeof(d.deployment), "demo");
	base_receipt(&rc);
	text = sign_ok(&rc, k_log);
	assert_int_equal(sd_receipt_verify_with_directory((const uint8_t *)text, strlen(text), &d, &got),
	                 SD_ERR_INVALID);
	assert_non_null(strstr(sd_error_detail(), "lists no log key"));
	d.has_log = true;
	d.log = pub(k_log);
	assert_int_equal(sd_receipt_verify_with_directory((const uint8_t *)text, strlen(text), &d, &got), 0);
	assert_string_equal(got.case_number, "2026-000001");
	d.log = pub(k_other_log);
	assert_int_equal(sd_receipt_verify_with_directory((const uint8_t *)text, strlen(text), &d, &got),
	                 SD_ERR_VERIFY);
	d.log = pub(k_log);
	snprintf(d.deployment, sizeof(d.deployment), "demo2");
	assert_int_equal(sd_receipt_verify_with_directory((const uint8_t *)text, strlen(text), &d, &got),
	                 SD_ERR_DEPLOYMENT);
	assert_string_equal(sd_error_detail(), "receipt: issued for deployment 'demo', not 'demo2'");
	assert_int_equal(got.case_number[0], '\0');
	assert_int_equal(sd_receipt_verify_with_directory((const uint8_t *)text, strlen(text), NULL, &got),
	                 SD_ERR_USAGE);
	free(text);
}

/* --- case numbers --------------------------------------------------------------------- */

static void test_case_numbers(void **state)
{
	static const char *const good[] = {"2026-000001", "2000-000001", "9999-999999", "2026-100000", "2026-000010"};
	static const char *const bad[] = {"",
	                                  "2026",
	                                  "2026-",
	                                  "2026-000000",
	                                  "1999-000001",
	                                  "0000-000001",
	                                  "2026-00001",
	                                  "2026-0000001",
	                                  "2026_000001",
	                                  "2026-00000a",
	                                  "20a6-000001",
	                                  "+026-000001",
	                                  " 2026-00001",
	                                  "2026-000001 ",
	                                  "2026--00001",
	                                  "2026-+00001",
	                                  "2026-000001\n"};
	char out[SD_CASE_NUMBER_BYTES];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(sd_case_number_is_valid(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (sd_case_number_is_valid(bad[i]))
			fail_msg("'%s' accepted", bad[i]);
	assert_false(sd_case_number_is_valid(NULL));

	assert_int_equal(sd_case_number_format(2026, 1, out), 0);
	assert_string_equal(out, "2026-000001");
	assert_int_equal(sd_case_number_format(2026, 999999, out), 0);
	assert_string_equal(out, "2026-999999");
	assert_int_equal(sd_case_number_format(2000, 4321, out), 0);
	assert_string_equal(out, "2000-004321");
	assert_true(sd_case_number_is_valid(out));
	assert_int_equal(sd_case_number_format(2026, 1000000, out), SD_ERR_TOOBIG);
	assert_int_equal(sd_case_number_format(2026, 0, out), SD_ERR_USAGE);
	assert_int_equal(sd_case_number_format(1999, 1, out), SD_ERR_USAGE);
	assert_int_equal(sd_case_number_format(10000, 1, out), SD_ERR_USAGE);
	assert_int_equal(sd_case_number_format(-2026, 1, out), SD_ERR_USAGE);
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_vector),
	        cmocka_unit_test(test_roundtrip_leaf),
	        cmocka_unit_test(test_reformatted_still_verifies),
	        cmocka_unit_test(test_every_field_altered),
	        cmocka_unit_test(test_signature_altered),
	        cmocka_unit_test(test_wrong_key),
	        cmocka_unit_test(test_wrong_purpose),
	        cmocka_unit_test(test_field_cases),
	        cmocka_unit_test(test_envelope_cases),
	        cmocka_unit_test(test_malformed_documents),
	        cmocka_unit_test(test_noncanonical_sig),
	        cmocka_unit_test(test_sign_refuses),
	        cmocka_unit_test(test_with_directory),
	        cmocka_unit_test(test_case_numbers),
	};

	return cmocka_run_group_tests(tests, keys_setup, keys_teardown);
}
