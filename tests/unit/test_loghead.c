/*
 * test_loghead.c — the audit log's documents: the signed tree head (sign/parse round
 * trips, every field altered after signing, every field malformed and re-signed, another
 * key, another purpose, another deployment), and the inclusion proof, consistency proof
 * and entries parsers with each of their error paths.
 */
#include "unit.h"
#include "unit_json.h"

#include <jansson.h>
#include <sodium.h>

#include "sealdrop/bytes.h"
#include "sealdrop/loghead.h"
#include "sealdrop/sign.h"

#define HASH_A "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
#define LEAF_1 "{\"date\":\"2026-11-22\",\"event\":\"filing\",\"v\":1}"
#define LEAF_2 "{\"date\":\"2026-11-23\",\"detail\":\"open\",\"event\":\"transition\",\"v\":1}"

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

static void base_head(sd_loghead_t *h)
{
	memset(h, 0, sizeof(*h));
	h->version = SD_LOGHEAD_VERSION;
	snprintf(h->deployment, sizeof(h->deployment), "demo");
	h->size = 300;
	for (int i = 0; i < SD_MERKLE_HASH_BYTES; i++)
		h->root[i] = (uint8_t)(0x40 + i);
	h->date = (sd_date_t){2026, 11, 22};
}

static char *sign_ok(const sd_loghead_t *h, const sd_seckey_t *log)
{
	char *text = NULL;
	assert_int_equal(sd_loghead_sign(h, log, &text), 0);
	assert_non_null(text);
	return text;
}

static int parse_text(const char *text, const sd_seckey_t *log, sd_loghead_t *out)
{
	sd_pubkey_t lp = pub(log);
	return sd_loghead_parse((const uint8_t *)text, strlen(text), &lp, out);
}

static json_t *signed_doc(void)
{
	sd_loghead_t h;
	char *text;
	json_t *doc;

	base_head(&h);
	text = sign_ok(&h, k_log);
	assert_non_null(doc = json_loads(text, 0, NULL));
	free(text);
	return doc;
}

static int parse_doc(json_t *doc, const sd_seckey_t *log, sd_loghead_t *out)
{
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	int r;

	assert_non_null(text);
	r = parse_text(text, log, out);
	free(text);
	return r;
}

/* Re-signs doc's "head" with the log key, as a server with a bug would. */
static void resign(json_t *doc, sd_purpose_t purpose)
{
	uint8_t sig[SD_SIGN_BYTES];
	char b64[SD_SIGN_BYTES * 2];
	char *msg = json_dumps(json_object_get(doc, "head"), JSON_COMPACT | JSON_SORT_KEYS);

	assert_non_null(msg);
	assert_int_equal(sd_sign(purpose, k_log->sk, (const uint8_t *)msg, strlen(msg), sig), 0);
	sd_base64_encode(sig, sizeof(sig), b64);
	assert_int_equal(json_object_set_new(json_object_get(doc, "signature"), "sig", json_string(b64)), 0);
	free(msg);
}

/* --- the head ------------------------------------------------------------------------- */

static void test_head_roundtrip(void **state)
{
	static const uint64_t sizes[] = {0, 1, 300, ((uint64_t)1 << 53) + 1, SD_MERKLE_SIZE_MAX - 1};
	sd_loghead_t h, got;
	char *text, *msg;
	json_t *doc;

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		base_head(&h);
		h.size = sizes[i];
		memset(h.log_key_id, 0xee, sizeof(h.log_key_id)); /* not trusted: the key's own id is written */
		text = sign_ok(&h, k_log);
		assert_int_equal(text[strlen(text) - 1], '\n');
		assert_int_equal(parse_text(text, k_log, &got), 0);
		assert_true(sd_loghead_same(&got, &h));
		assert_true(got.size == sizes[i]);
		assert_int_equal(got.version, SD_LOGHEAD_VERSION);
		assert_memory_equal(got.log_key_id, k_log->id, SD_KEY_ID_BYTES);
		free(text);
	}
	/* exactly the five members are signed */
	base_head(&h);
	text = sign_ok(&h, k_log);
	assert_non_null(doc = json_loads(text, 0, NULL));
	assert_non_null(msg = json_dumps(json_object_get(doc, "head"), JSON_COMPACT | JSON_SORT_KEYS));
	assert_string_equal(msg, "{\"date\":\"2026-11-22\",\"deployment\":\"demo\",\"root\":\"" HASH_A
	                         "\",\"size\":300,\"version\":1}");
	free(msg);
	json_decref(doc);
	free(text);
}

static void test_head_tampered(void **state)
{
	static const struct {
		const char *path, *value;
	} cases[] = {
	        {"head.version", "2"},
	        {"head.deployment", "\"demp\""},
	        {"head.size", "301"},
	        {"head.size", "299"},
	        {"head.root", "\"504142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f\""},
	        {"head.date", "\"2026-11-23\""},
	        {"head.extra", "1"},
	        {"head.date", NULL},
	};
	sd_loghead_t got;
	char root[2 * SD_MERKLE_HASH_BYTES + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *doc = signed_doc();

		assert_int_equal(parse_doc(doc, k_log, &got), 0);
		unit_json_set(doc, cases[i].path, cases[i].value);
		sd_error_clear();
		if (parse_doc(doc, k_log, &got) != SD_ERR_VERIFY)
			fail_msg("altered %s: got '%s'", cases[i].path, sd_error_detail());
		assert_non_null(strstr(sd_error_detail(), "log head: the log key's signature does not verify"));
		assert_int_equal(got.size, 0);
		json_decref(doc);
	}
	/* every single bit of the root */
	for (size_t bit = 0; bit < 8 * SD_MERKLE_HASH_BYTES; bit++) {
		json_t *doc = signed_doc();
		uint8_t r[SD_MERKLE_HASH_BYTES];

		assert_int_equal(sd_hex_decode(HASH_A, r, sizeof(r)), 0);
		r[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		sd_hex_encode(r, sizeof(r), root);
		json_object_set_new(json_object_get(doc, "head"), "root", json_string(root));
		assert_int_equal(parse_doc(doc, k_log, &got), SD_ERR_VERIFY);
		json_decref(doc);
	}
}

static void test_head_keys(void **state)
{
	sd_loghead_t h, got;
	char *text, other[SD_KEY_ID_HEX_BYTES], ours[SD_KEY_ID_HEX_BYTES], want[128];
	sd_pubkey_t root = pub(k_root);
	json_t *doc;

	(void)state;
	base_head(&h);
	sd_key_id_hex(k_other_log->id, other);
	sd_key_id_hex(k_log->id, ours);
	text = sign_ok(&h, k_other_log);
	assert_int_equal(parse_text(text, k_log, &got), SD_ERR_VERIFY);
	snprintf(want, sizeof(want), "log head was signed by key %s, not the log key %s", other, ours);
	assert_string_equal(sd_error_detail(), want);
	assert_int_equal(parse_text(text, k_other_log, &got), 0);
	assert_memory_equal(got.log_key_id, k_other_log->id, SD_KEY_ID_BYTES);
	free(text);
	/* checked against another log key */
	text = sign_ok(&h, k_log);
	assert_non_null(doc = json_loads(text, 0, NULL));
	assert_int_equal(parse_text(text, k_other_log, &got), SD_ERR_VERIFY);
	assert_int_equal(sd_loghead_parse((const uint8_t *)text, strlen(text), &root, &got), SD_ERR_USAGE);
	assert_int_equal(sd_loghead_parse((const uint8_t *)text, strlen(text), NULL, &got), SD_ERR_USAGE);
	free(text);
	/* another purpose's signature by the right key */
	resign(doc, SD_PURPOSE_RECEIPT);
	assert_int_equal(parse_doc(doc, k_log, &got), SD_ERR_VERIFY);
	resign(doc, SD_PURPOSE_HEAD);
	assert_int_equal(parse_doc(doc, k_log, &got), 0);
	json_decref(doc);
	/* only a log key signs */
	assert_int_equal(sd_loghead_sign(&h, k_root, &text), SD_ERR_USAGE);
	assert_null(text);
	assert_int_equal(sd_loghead_sign(&h, NULL, &text), SD_ERR_USAGE);
	assert_int_equal(sd_loghead_sign(NULL, k_log, &text), SD_ERR_USAGE);
}

struct field_case {
	const char *path;
	const char *value; /* NULL: delete */
	int err;
	const char *detail;
};

static void test_head_fields(void **state)
{
	static const struct field_case cases[] = {
	        {"head.version", NULL, SD_ERR_FORMAT, "log head: missing field head.version"},
	        {"head.version", "2", SD_ERR_VERSION, "log head: version 2 is not supported"},
	        {"head.version", "\"1\"", SD_ERR_FORMAT, "head.version must be an integer"},
	        {"head.deployment", NULL, SD_ERR_FORMAT, "missing field head.deployment"},
	        {"head.deployment", "\"\"", SD_ERR_FORMAT, "head.deployment must be 1 to 64"},
	        {"head.deployment", "\"Demo\"", SD_ERR_FORMAT, "head.deployment must be 1 to 64"},
	        {"head.deployment", "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
	         SD_ERR_FORMAT, "head.deployment is longer than 64 bytes"},
	        {"head.deployment", "1", SD_ERR_FORMAT, "head.deployment must be a string"},
	        {"head.size", NULL, SD_ERR_FORMAT, "missing field head.size"},
	        {"head.size", "-1", SD_ERR_FORMAT, "head.size must be between 0 and 4611686018427387903"},
	        {"head.size", "4611686018427387904", SD_ERR_FORMAT, "head.size must be between"},
	        {"head.size", "4611686018427387903", 0, NULL},
	        {"head.size", "0", 0, NULL},
	        {"head.size", "\"5\"", SD_ERR_FORMAT, "head.size must be an integer"},
	        {"head.size", "5.0", SD_ERR_FORMAT, "head.size must be an integer"},
	        {"head.root", NULL, SD_ERR_FORMAT, "missing field head.root"},
	        {"head.root", "\"4041\"", SD_ERR_FORMAT, "head.root must be 64 lower-case hexadecimal digits"},
	        {"head.root", "\"404142434445464748494A4B4C4D4E4F505152535455565758595A5B5C5D5E5F\"", SD_ERR_FORMAT,
	         "head.root must be 64 lower-case"},
	        {"head.root", "[]", SD_ERR_FORMAT, "head.root must be a string"},
	        {"head.date", NULL, SD_ERR_FORMAT, "missing field head.date"},
	        {"head.date", "\"2026-02-29\"", SD_ERR_FORMAT, "head.date must be a calendar date"},
	        {"head.date", "\"2026-11-22T10:00:00Z\"", SD_ERR_FORMAT, "head.date must be a calendar date"},
	        {"head.log_key_id", "\"89d4e152054dfb5e\"", SD_ERR_FORMAT, "log head: unknown field head.log_key_id"},
	        {"head.timestamp", "1", SD_ERR_FORMAT, "log head: unknown field head.timestamp"},
	};
	sd_loghead_t got;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct field_case *c = &cases[i];
		json_t *doc = signed_doc();
		int r;

		unit_json_set(doc, c->path, c->value);
		resign(doc, SD_PURPOSE_HEAD);
		sd_error_clear();
		r = parse_doc(doc, k_log, &got);
		if (r != c->err || (c->detail != NULL && strstr(sd_error_detail(), c->detail) == NULL))
			fail_msg("%s = %s: got %d '%s', want %d '%s'", c->path, c->value ? c->value : "(deleted)", r,
			         sd_error_detail(), c->err, c->detail ? c->detail : "");
		if (r < 0)
			assert_int_equal(got.version, 0);
		json_decref(doc);
	}
}

static void test_head_envelope(void **state)
{
	static const struct field_case cases[] = {
	        {"head", NULL, SD_ERR_FORMAT, "log head: missing field head"},
	        {"head", "[]", SD_ERR_FORMAT, "log head: head must be an object"},
	        {"signature", NULL, SD_ERR_FORMAT, "missing field signature"},
	        {"signature.key_id", "\"xyz\"", SD_ERR_FORMAT, "signature.key_id must be 16 lower-case"},
	        {"signature.sig", "\"AAAA\"", SD_ERR_FORMAT, "signature.sig must be the base64 of 64 bytes"},
	        {"signature.key", "\"AAAA\"", SD_ERR_FORMAT, "unknown field signature.key"},
	        {"receipt", "{}", SD_ERR_FORMAT, "log head: unknown field receipt"},
	};
	static const char *const docs[] = {"", "[]", "{", "{\"head\":{},\"head\":{},\"signature\":{}}"};
	sd_loghead_t got;
	sd_pubkey_t lp = pub(k_log);
	char *big;

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
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		assert_int_equal(parse_text(docs[i], k_log, &got), SD_ERR_FORMAT);
	assert_int_equal(sd_loghead_parse(NULL, 1, &lp, &got), SD_ERR_USAGE);
	assert_non_null(big = malloc(SD_LOGHEAD_MAX_BYTES + 1));
	memset(big, ' ', SD_LOGHEAD_MAX_BYTES + 1);
	assert_int_equal(sd_loghead_parse((const uint8_t *)big, SD_LOGHEAD_MAX_BYTES + 1, &lp, &got), SD_ERR_TOOBIG);
	free(big);
}

static void test_head_sign_refuses(void **state)
{
	sd_loghead_t h;
	char *text = NULL;

	(void)state;
	base_head(&h);
	h.version = 2;
	assert_int_equal(sd_loghead_sign(&h, k_log, &text), SD_ERR_INVALID);
	base_head(&h);
	h.deployment[0] = '\0';
	assert_int_equal(sd_loghead_sign(&h, k_log, &text), SD_ERR_INVALID);
	assert_non_null(strstr(sd_error_detail(), "head.deployment"));
	base_head(&h);
	h.size = SD_MERKLE_SIZE_MAX;
	assert_int_equal(sd_loghead_sign(&h, k_log, &text), SD_ERR_INVALID);
	assert_non_null(strstr(sd_error_detail(), "head.size"));
	base_head(&h);
	h.date = (sd_date_t){2026, 13, 1};
	assert_int_equal(sd_loghead_sign(&h, k_log, &text), SD_ERR_INVALID);
	assert_non_null(strstr(sd_error_detail(), "head.date"));
	assert_null(text);
}

static void test_head_with_directory(void **state)
{
	sd_directory_t d;
	sd_loghead_t h, got;
	char *text;

	(void)state;
	memset(&d, 0, sizeof(d));
	snprintf(d.deployment, sizeof(d.deployment), "demo");
	base_head(&h);
	text = sign_ok(&h, k_log);
	assert_int_equal(sd_loghead_verify_with_directory((const uint8_t *)text, strlen(text), &d, &got),
	                 SD_ERR_INVALID);
	assert_non_null(strstr(sd_error_detail(), "lists no log key"));
	d.has_log = true;
	d.log = pub(k_log);
	assert_int_equal(sd_loghead_verify_with_directory((const uint8_t *)text, strlen(text), &d, &got), 0);
	assert_true(sd_loghead_same(&got, &h));
	d.log = pub(k_other_log);
	assert_int_equal(sd_loghead_verify_with_directory((const uint8_t *)text, strlen(text), &d, &got),
	                 SD_ERR_VERIFY);
	d.log = pub(k_log);
	snprintf(d.deployment, sizeof(d.deployment), "demo2");
	assert_int_equal(sd_loghead_verify_with_directory((const uint8_t *)text, strlen(text), &d, &got),
	                 SD_ERR_DEPLOYMENT);
	assert_string_equal(sd_error_detail(), "log head: signed for deployment 'demo', not 'demo2'");
	assert_int_equal(got.size, 0);
	assert_int_equal(got.deployment[0], '\0');
	assert_int_equal(sd_loghead_verify_with_directory((const uint8_t *)text, strlen(text), NULL, &got),
	                 SD_ERR_USAGE);
	free(text);
}

static void test_head_same(void **state)
{
	sd_loghead_t a, b;

	(void)state;
	base_head(&a);
	base_head(&b);
	memset(b.log_key_id, 1, sizeof(b.log_key_id)); /* not part of the statement */
	assert_true(sd_loghead_same(&a, &b));
	b.size++;
	assert_false(sd_loghead_same(&a, &b));
	base_head(&b);
	b.root[31] ^= 1;
	assert_false(sd_loghead_same(&a, &b));
	base_head(&b);
	b.date.d++;
	assert_false(sd_loghead_same(&a, &b));
	base_head(&b);
	b.deployment[0] = 'e';
	assert_false(sd_loghead_same(&a, &b));
}

/* --- proofs --------------------------------------------------------------------------- */

static void fill_proof(sd_logproof_t *p, uint64_t a, uint64_t b, size_t n)
{
	memset(p, 0, sizeof(*p));
	p->a = a;
	p->b = b;
	p->n = n;
	for (size_t i = 0; i < n && i < SD_MERKLE_PROOF_MAX; i++)
		for (size_t j = 0; j < SD_MERKLE_HASH_BYTES; j++)
			p->hashes[i][j] = (uint8_t)(i * 7 + j);
}

static void assert_same_proof(const sd_logproof_t *a, const sd_logproof_t *b)
{
	assert_true(a->a == b->a);
	assert_true(a->b == b->b);
	assert_int_equal(a->n, b->n);
	assert_memory_equal(a->hashes, b->hashes, a->n * SD_MERKLE_HASH_BYTES);
}

static void test_proof_roundtrip(void **state)
{
	static const size_t counts[] = {0, 1, 9, SD_MERKLE_PROOF_MAX};
	sd_logproof_t p, got;
	char *text;

	(void)state;
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		fill_proof(&p, 5, SD_MERKLE_SIZE_MAX - 1, counts[i]);
		assert_int_equal(sd_logproof_inclusion_json(&p, &text), 0);
		assert_true(strlen(text) <= SD_LOGPROOF_MAX_BYTES);
		assert_int_equal(sd_logproof_inclusion_parse((const uint8_t *)text, strlen(text), &got), 0);
		assert_same_proof(&got, &p);
		/* the one kind is not the other */
		assert_int_equal(sd_logproof_consistency_parse((const uint8_t *)text, strlen(text), &got),
		                 SD_ERR_FORMAT);
		free(text);
		assert_int_equal(sd_logproof_consistency_json(&p, &text), 0);
		assert_int_equal(sd_logproof_consistency_parse((const uint8_t *)text, strlen(text), &got), 0);
		assert_same_proof(&got, &p);
		free(text);
	}
	fill_proof(&p, 0, 9, 1);
	memset(p.hashes[0], 0x40, SD_MERKLE_HASH_BYTES);
	assert_int_equal(sd_logproof_inclusion_json(&p, &text), 0);
	assert_string_equal(text, "{\"index\":0,\"size\":9,\"path\":["
	                          "\"4040404040404040404040404040404040404040404040404040404040404040\"]}\n");
	free(text);
	fill_proof(&p, 3, 7, 0);
	assert_int_equal(sd_logproof_consistency_json(&p, &text), 0);
	assert_string_equal(text, "{\"from\":3,\"to\":7,\"proof\":[]}\n");
	free(text);
	/* the writers refuse what the parsers would */
	fill_proof(&p, 0, 1, SD_MERKLE_PROOF_MAX + 1);
	assert_int_equal(sd_logproof_inclusion_json(&p, &text), SD_ERR_USAGE);
	assert_null(text);
	fill_proof(&p, 0, SD_MERKLE_SIZE_MAX, 0);
	assert_int_equal(sd_logproof_consistency_json(&p, &text), SD_ERR_USAGE);
	assert_int_equal(sd_logproof_inclusion_json(NULL, &text), SD_ERR_USAGE);
}

/* "{...,\"path\":[" followed by n copies of hash h and "]}" (malloc'd). */
static char *hashes_doc(const char *prefix, const char *member, size_t n, const char *h)
{
	size_t cap = strlen(prefix) + strlen(member) + n * (strlen(h) + 3) + 16;
	char *s = malloc(cap);
	size_t off;

	assert_non_null(s);
	off = (size_t)snprintf(s, cap, "%s\"%s\":[", prefix, member);
	for (size_t i = 0; i < n; i++)
		off += (size_t)snprintf(s + off, cap - off, "%s\"%s\"", i ? "," : "", h);
	snprintf(s + off, cap - off, "]}");
	return s;
}

static void test_proof_errors(void **state)
{
	static const struct {
		bool consistency;
		const char *text, *detail;
		int err;
	} cases[] = {
	        {false, "{\"size\":2,\"path\":[]}", "inclusion proof: missing field index", SD_ERR_FORMAT},
	        {false, "{\"index\":0,\"path\":[]}", "inclusion proof: missing field size", SD_ERR_FORMAT},
	        {false, "{\"index\":0,\"size\":2}", "inclusion proof: missing field path", SD_ERR_FORMAT},
	        {false, "{\"index\":-1,\"size\":2,\"path\":[]}", "inclusion proof: index must be between 0 and",
	         SD_ERR_FORMAT},
	        {false, "{\"index\":0,\"size\":4611686018427387904,\"path\":[]}", "size must be between 0 and",
	         SD_ERR_FORMAT},
	        {false, "{\"index\":\"0\",\"size\":2,\"path\":[]}", "index must be an integer", SD_ERR_FORMAT},
	        {false, "{\"index\":0,\"size\":2.5,\"path\":[]}", "size must be an integer", SD_ERR_FORMAT},
	        {false, "{\"index\":0,\"size\":2,\"path\":{}}", "inclusion proof: path must be an array",
	         SD_ERR_FORMAT},
	        {false, "{\"index\":0,\"size\":2,\"path\":[\"" HASH_A "\",1]}",
	         "inclusion proof: path[1] must be a string", SD_ERR_FORMAT},
	        {false, "{\"index\":0,\"size\":2,\"path\":[\"" HASH_A "\",\"" HASH_A "\",\"" HASH_A "\",\"ab\"]}",
	         "inclusion proof: path[3] must be 64 lower-case hexadecimal digits", SD_ERR_FORMAT},
	        {false,
	         "{\"index\":0,\"size\":2,\"path\":["
	         "\"404142434445464748494A4B4C4D4E4F505152535455565758595A5B5C5D5E5F\"]}",
	         "path[0] must be 64 lower-case", SD_ERR_FORMAT},
	        {false, "{\"index\":0,\"size\":2,\"path\":[],\"root\":\"\"}", "inclusion proof: unknown field root",
	         SD_ERR_FORMAT},
	        {false, "{\"index\":0,\"index\":0,\"size\":2,\"path\":[]}", "inclusion proof: invalid JSON",
	         SD_ERR_FORMAT},
	        {false, "[]", "inclusion proof: the document must be a JSON object", SD_ERR_FORMAT},
	        {false, "", "inclusion proof: invalid JSON", SD_ERR_FORMAT},
	        {true, "{\"to\":2,\"proof\":[]}", "consistency proof: missing field from", SD_ERR_FORMAT},
	        {true, "{\"from\":1,\"proof\":[]}", "consistency proof: missing field to", SD_ERR_FORMAT},
	        {true, "{\"from\":1,\"to\":2}", "consistency proof: missing field proof", SD_ERR_FORMAT},
	        {true, "{\"from\":1,\"to\":2,\"path\":[]}", "consistency proof: unknown field path", SD_ERR_FORMAT},
	        {true, "{\"from\":1,\"to\":-2,\"proof\":[]}", "consistency proof: to must be between", SD_ERR_FORMAT},
	        {true, "{\"from\":1,\"to\":2,\"proof\":[null]}", "consistency proof: proof[0] must be a string",
	         SD_ERR_FORMAT},
	        {true, "{\"from\":1,\"to\":2,\"proof\":[\"" HASH_A "0\"]}", "proof[0] must be 64 lower-case",
	         SD_ERR_FORMAT},
	};
	sd_logproof_t got;
	char *s, *big;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const uint8_t *t = (const uint8_t *)cases[i].text;
		int r;

		memset(&got, 0x55, sizeof(got));
		sd_error_clear();
		r = cases[i].consistency ? sd_logproof_consistency_parse(t, strlen(cases[i].text), &got)
		                         : sd_logproof_inclusion_parse(t, strlen(cases[i].text), &got);
		if (r != cases[i].err || strstr(sd_error_detail(), cases[i].detail) == NULL)
			fail_msg("%s: got %d '%s', want '%s'", cases[i].text, r, sd_error_detail(), cases[i].detail);
		assert_int_equal(got.n, 0);
		assert_true(got.a == 0);
	}
	/* the most hashes, and one more */
	s = hashes_doc("{\"index\":0,\"size\":2,", "path", SD_MERKLE_PROOF_MAX, HASH_A);
	assert_int_equal(sd_logproof_inclusion_parse((const uint8_t *)s, strlen(s), &got), 0);
	assert_int_equal(got.n, SD_MERKLE_PROOF_MAX);
	free(s);
	s = hashes_doc("{\"from\":1,\"to\":2,", "proof", SD_MERKLE_PROOF_MAX + 1, HASH_A);
	assert_int_equal(sd_logproof_consistency_parse((const uint8_t *)s, strlen(s), &got), SD_ERR_TOOBIG);
	assert_non_null(strstr(sd_error_detail(), "consistency proof: proof has 129 hashes, more than 128"));
	free(s);
	/* the byte limit is checked before parsing */
	assert_non_null(big = malloc(SD_LOGPROOF_MAX_BYTES + 1));
	memset(big, ' ', SD_LOGPROOF_MAX_BYTES + 1);
	assert_int_equal(sd_logproof_inclusion_parse((const uint8_t *)big, SD_LOGPROOF_MAX_BYTES + 1, &got),
	                 SD_ERR_TOOBIG);
	free(big);
	assert_int_equal(sd_logproof_inclusion_parse(NULL, 1, &got), SD_ERR_USAGE);
}

/* --- entries -------------------------------------------------------------------------- */

static char *b64(const char *leaf)
{
	size_t n = strlen(leaf);
	char *s = malloc(sd_base64_len(n));

	assert_non_null(s);
	sd_base64_encode((const uint8_t *)leaf, n, s);
	return s;
}

/* {"entries":[{"index":i0,"leaf":b64(l0)}, ...]} of up to three entries (l NULL ends). */
static char *entries_doc(const uint64_t idx[3], const char *const leaves[3])
{
	char *out = malloc(8192), *e;
	size_t off;

	assert_non_null(out);
	off = (size_t)snprintf(out, 8192, "{\"entries\":[");
	for (size_t i = 0; i < 3 && leaves[i] != NULL; i++) {
		e = b64(leaves[i]);
		off += (size_t)snprintf(out + off, 8192 - off, "%s{\"index\":%llu,\"leaf\":\"%s\"}", i ? "," : "",
		                        (unsigned long long)idx[i], e);
		free(e);
	}
	snprintf(out + off, 8192 - off, "]}");
	return out;
}

static void test_entries_roundtrip(void **state)
{
	static const uint64_t idx[3] = {0, 5, SD_MERKLE_SIZE_MAX - 1};
	static const char *const leaves[3] = {LEAF_1, LEAF_2, LEAF_1};
	sd_logentry_t *e = NULL;
	size_t n = 99;
	char *doc = entries_doc(idx, leaves);

	(void)state;
	assert_int_equal(sd_logentries_parse((const uint8_t *)doc, strlen(doc), &e, &n), 0);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_true(e[i].index == idx[i]);
		assert_int_equal(e[i].leaf_len, strlen(leaves[i]));
		assert_memory_equal(e[i].leaf, leaves[i], e[i].leaf_len);
	}
	assert_int_equal(e[0].event.type, SD_AUDIT_FILING);
	assert_int_equal(e[1].event.type, SD_AUDIT_TRANSITION);
	assert_string_equal(e[1].event.detail, "open");
	sd_logentries_free(e, n);
	free(doc);
	/* an empty page */
	assert_int_equal(sd_logentries_parse((const uint8_t *)"{\"entries\":[]}", 14, &e, &n), 0);
	assert_int_equal(n, 0);
	sd_logentries_free(e, n);
	sd_logentries_free(NULL, 0);
}

static void test_entries_errors(void **state)
{
	static const struct {
		const char *text, *detail;
		int err;
	} cases[] = {
	        {"{}", "log entries: missing field entries", SD_ERR_FORMAT},
	        {"{\"entries\":{}}", "log entries: entries must be an array", SD_ERR_FORMAT},
	        {"{\"entries\":[],\"next\":5}", "log entries: unknown field next", SD_ERR_FORMAT},
	        {"[]", "log entries: the document must be a JSON object", SD_ERR_FORMAT},
	        {"{\"entries\":[5]}", "log entries: entries[0] must be an object", SD_ERR_FORMAT},
	        {"{\"entries\":[{\"leaf\":\"e30=\"}]}", "log entries: missing field entries[0].index", SD_ERR_FORMAT},
	        {"{\"entries\":[{\"index\":-1,\"leaf\":\"e30=\"}]}", "entries[0].index must be between 0 and",
	         SD_ERR_FORMAT},
	        {"{\"entries\":[{\"index\":\"1\",\"leaf\":\"e30=\"}]}", "entries[0].index must be an integer",
	         SD_ERR_FORMAT},
	        {"{\"entries\":[{\"index\":1}]}", "log entries: missing field entries[0].leaf", SD_ERR_FORMAT},
	        {"{\"entries\":[{\"index\":1,\"leaf\":5}]}", "entries[0].leaf must be a string", SD_ERR_FORMAT},
	        {"{\"entries\":[{\"index\":1,\"leaf\":\"e30=\",\"hash\":\"\"}]}", "unknown field entries[0].hash",
	         SD_ERR_FORMAT},
	        {"{\"entries\":[{\"index\":1,\"leaf\":\"e30\"}]}", "entries[0].leaf must be padded standard base64",
	         SD_ERR_FORMAT},
	        {"{\"entries\":[{\"index\":1,\"leaf\":\"e3 =\"}]}", "entries[0].leaf must be padded standard base64",
	         SD_ERR_FORMAT},
	        {"{\"entries\":[{\"index\":1,\"leaf\":\"e31=\"}]}", "entries[0].leaf must be padded standard base64",
	         SD_ERR_FORMAT},
	        {"{\"entries\":[{\"index\":1,\"leaf\":\"e3-=\"}]}", "entries[0].leaf must be padded standard base64",
	         SD_ERR_FORMAT},
	        {"{\"entries\":[{\"index\":1,\"leaf\":\"e===\"}]}", "entries[0].leaf must be padded standard base64",
	         SD_ERR_FORMAT},
	        {"{\"entries\":[{\"index\":1,\"leaf\":\"\"}]}", "entries[0].leaf: audit leaf: invalid JSON",
	         SD_ERR_FORMAT},
	        {"{\"entries\":[{\"index\":1,\"leaf\":\"e30=\"}]}",
	         "log entries: entries[0].leaf: audit leaf: missing "
	         "field v",
	         SD_ERR_FORMAT},
	        {"{\"entries\":[]", "log entries: invalid JSON", SD_ERR_FORMAT},
	        {"", "log entries: invalid JSON", SD_ERR_FORMAT},
	};
	sd_logentry_t *e = (sd_logentry_t *)1;
	size_t n = 5;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r;

		sd_error_clear();
		r = sd_logentries_parse((const uint8_t *)cases[i].text, strlen(cases[i].text), &e, &n);
		if (r != cases[i].err || strstr(sd_error_detail(), cases[i].detail) == NULL)
			fail_msg("%s: got %d '%s', want '%s'", cases[i].text, r, sd_error_detail(), cases[i].detail);
		assert_null(e);
		assert_int_equal(n, 0);
	}
	assert_int_equal(sd_logentries_parse(NULL, 1, &e, &n), SD_ERR_USAGE);
}

/* Errors after some entries were already taken: nothing is returned, nothing leaks. */
static void test_entries_late_errors(void **state)
{
	static const uint64_t rising[3] = {1, 2, 3}, equal[3] = {1, 2, 2}, falling[3] = {4, 3, 5};
	static const char *const good[3] = {LEAF_1, LEAF_2, LEAF_1};
	static const char *const spaced[3] = {LEAF_1, LEAF_2,
	                                      "{\"date\":\"2026-11-22\", \"event\":\"filing\",\"v\":1}"};
	static const char *const unknown[3] = {LEAF_1, "{\"date\":\"2026-11-22\",\"event\":\"lunch\",\"v\":1}", NULL};
	sd_logentry_t *e;
	size_t n;
	char *doc;

	(void)state;
	doc = entries_doc(equal, good);
	assert_int_equal(sd_logentries_parse((const uint8_t *)doc, strlen(doc), &e, &n), SD_ERR_FORMAT);
	assert_string_equal(sd_error_detail(), "log entries: entries[2].index must be above entries[1].index");
	assert_null(e);
	free(doc);
	doc = entries_doc(falling, good);
	assert_int_equal(sd_logentries_parse((const uint8_t *)doc, strlen(doc), &e, &n), SD_ERR_FORMAT);
	assert_string_equal(sd_error_detail(), "log entries: entries[1].index must be above entries[0].index");
	free(doc);
	doc = entries_doc(rising, spaced);
	assert_int_equal(sd_logentries_parse((const uint8_t *)doc, strlen(doc), &e, &n), SD_ERR_FORMAT);
	assert_string_equal(sd_error_detail(), "log entries: entries[2].leaf: audit leaf: not in canonical form");
	free(doc);
	doc = entries_doc(rising, unknown);
	assert_int_equal(sd_logentries_parse((const uint8_t *)doc, strlen(doc), &e, &n), SD_ERR_FORMAT);
	assert_non_null(strstr(sd_error_detail(), "entries[1].leaf: audit leaf: unknown event 'lunch'"));
	assert_null(e);
	assert_int_equal(n, 0);
	free(doc);
}

static void test_entries_limits(void **state)
{
	uint8_t raw[SD_AUDIT_LEAF_MAX + 3];
	char *leaf64, *doc;
	size_t cap = SD_LOGENTRIES_MAX_BYTES + 16, off;
	sd_logentry_t *e;
	size_t n;

	(void)state;
	/* a leaf of 1025 and of 1026 bytes: too long before it is parsed */
	memset(raw, 'a', sizeof(raw));
	assert_non_null(leaf64 = malloc(sd_base64_len(sizeof(raw))));
	assert_non_null(doc = malloc(cap));
	for (size_t len = SD_AUDIT_LEAF_MAX + 1; len <= SD_AUDIT_LEAF_MAX + 3; len++) {
		sd_base64_encode(raw, len, leaf64);
		snprintf(doc, cap, "{\"entries\":[{\"index\":0,\"leaf\":\"%s\"}]}", leaf64);
		assert_int_equal(sd_logentries_parse((const uint8_t *)doc, strlen(doc), &e, &n), SD_ERR_TOOBIG);
		assert_non_null(strstr(sd_error_detail(), "entries[0].leaf is longer than 1024 bytes"));
	}
	/* 1024 bytes are read, and refused only as a leaf */
	sd_base64_encode(raw, SD_AUDIT_LEAF_MAX, leaf64);
	snprintf(doc, cap, "{\"entries\":[{\"index\":0,\"leaf\":\"%s\"}]}", leaf64);
	assert_int_equal(sd_logentries_parse((const uint8_t *)doc, strlen(doc), &e, &n), SD_ERR_FORMAT);
	assert_non_null(strstr(sd_error_detail(), "entries[0].leaf: audit leaf: invalid JSON"));
	free(leaf64);

	/* SD_LOGENTRIES_MAX entries, and one more */
	leaf64 = b64(LEAF_1);
	for (int extra = 0; extra <= 1; extra++) {
		off = (size_t)snprintf(doc, cap, "{\"entries\":[");
		for (size_t i = 0; i < SD_LOGENTRIES_MAX + (size_t)extra; i++)
			off += (size_t)snprintf(doc + off, cap - off, "%s{\"index\":%zu,\"leaf\":\"%s\"}", i ? "," : "",
			                        i, leaf64);
		snprintf(doc + off, cap - off, "]}");
		if (!extra) {
			assert_int_equal(sd_logentries_parse((const uint8_t *)doc, strlen(doc), &e, &n), 0);
			assert_int_equal(n, SD_LOGENTRIES_MAX);
			assert_true(e[SD_LOGENTRIES_MAX - 1].index == SD_LOGENTRIES_MAX - 1);
			sd_logentries_free(e, n);
		} else {
			assert_int_equal(sd_logentries_parse((const uint8_t *)doc, strlen(doc), &e, &n), SD_ERR_TOOBIG);
			assert_string_equal(sd_error_detail(), "log entries: 1001 entries, more than 1000");
		}
	}
	free(leaf64);
	/* the byte limit is checked before parsing */
	memset(doc, ' ', cap);
	assert_int_equal(sd_logentries_parse((const uint8_t *)doc, SD_LOGENTRIES_MAX_BYTES + 1, &e, &n), SD_ERR_TOOBIG);
	free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_head_roundtrip),      cmocka_unit_test(test_head_tampered),
	        cmocka_unit_test(test_head_keys),           cmocka_unit_test(test_head_fields),
	        cmocka_unit_test(test_head_envelope),       cmocka_unit_test(test_head_sign_refuses),
	        cmocka_unit_test(test_head_with_directory), cmocka_unit_test(test_head_same),
	        cmocka_unit_test(test_proof_roundtrip),     cmocka_unit_test(test_proof_errors),
	        cmocka_unit_test(test_entries_roundtrip),   cmocka_unit_test(test_entries_errors),
	        cmocka_unit_test(test_entries_late_errors), cmocka_unit_test(test_entries_limits),
	};

	return cmocka_run_group_tests(tests, keys_setup, keys_teardown);
}
