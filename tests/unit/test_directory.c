/*
 * test_directory.c — the signed key directory: the fixed-keys vector, sign/parse round
 * trips, every field's absence and malformation (each case re-signed by the root so the
 * field rules, not the signature, must catch it), tampering, the wrong root, expiry, the
 * test flag, and the anti-rollback state file.
 */
#include "unit.h"
#include "unit_json.h"

#include <errno.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <jansson.h>
#include <sodium.h>

#include "sealdrop/bytes.h"
#include "sealdrop/directory.h"
#include "sealdrop/fileio.h"
#include "sealdrop/loghead.h"
#include "sealdrop/receipt.h"
#include "sealdrop/sign.h"

/* The vector: root seed 00..1f, intake secret 20..3f, identity secret 40..5f. Recomputed
 * independently by tests/vectors/directory.py. */
#define VEC_MSG_LEN     408
#define VEC_MSG_BLAKE2B "0a3a96b071de1499b22d02ba72acd5bd2bcc74f7063bc181b2c4073a3d3d9d13"
#define VEC_SIGN_DIGEST "96a196791436ed111607e1b318160fcce6230962a0f69b384c9ed4c05e8f7151"
#define VEC_SIG                                                                                                        \
	"acb03c1b7c54cc61ed98be79fe91b4c109d71905c3205d8a08a1121790ae5708aa9681650520d2f54b151ef1e03ba4c63a439c1b80be" \
	"525521b173470fe6fd09"
#define VEC_FILE_BLAKE2B "34135ceb59f04d71451bf4b9e98784b8a8085bc4c4d418efeb9577a11f4b9428"
#define VEC_MSG                                                                                                        \
	"{\"agencies\":[],\"codename_kdf\":{\"alg\":\"argon2id13\",\"memlimit\":67108864,\"opslimit\":2},"             \
	"\"deployment\":\"demo\",\"format\":1,\"issued\":\"2026-11-22\",\"keys\":{\"identity\":{\"id\":"               \
	"\"ce9391590d7a7c13\",\"public\":\"eaYx7t4b+cmPEgMs3q3Q56B5OY/HhriMyEbsia+FpRo=\"},\"intake\":{\"id\":"        \
	"\"2893bd9c104b837c\",\"public\":\"NYBy1jZYgNGu6jKa35EhODhR7SGijjt16WXQ0s0WYlQ=\"}},\"not_after\":"            \
	"\"2027-11-22\",\"test\":false,\"type\":\"sealdrop-directory\",\"version\":1}"

static const sd_date_t TODAY = {2026, 12, 1};

static sd_seckey_t *k_root, *k_intake, *k_identity, *k_log, *k_agency, *k_other_root;

static int keys_setup(void **state)
{
	if (unit_setup(state) != 0)
		return -1;
	k_root = unit_key_from_byte(SD_KEY_ROOT, 0x00);
	k_intake = unit_key_from_byte(SD_KEY_INTAKE, 0x20);
	k_identity = unit_key_from_byte(SD_KEY_IDENTITY, 0x40);
	k_log = unit_key_from_byte(SD_KEY_LOG, 0x60);
	k_agency = unit_key_from_byte(SD_KEY_AGENCY, 0x80);
	k_other_root = unit_key_from_byte(SD_KEY_ROOT, 0xa0);
	return 0;
}

static int keys_teardown(void **state)
{
	(void)state;
	sd_seckey_free(k_root);
	sd_seckey_free(k_intake);
	sd_seckey_free(k_identity);
	sd_seckey_free(k_log);
	sd_seckey_free(k_agency);
	sd_seckey_free(k_other_root);
	return 0;
}

static sd_pubkey_t pub(const sd_seckey_t *k)
{
	sd_pubkey_t p;
	sd_seckey_public(k, &p);
	return p;
}

/* The vector's directory. */
static void base_dir(sd_directory_t *d)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->deployment, sizeof(d->deployment), "demo");
	d->version = 1;
	d->issued = (sd_date_t){2026, 11, 22};
	d->not_after = (sd_date_t){2027, 11, 22};
	d->codename_kdf = sd_kdf_interactive();
	d->intake = pub(k_intake);
	d->identity = pub(k_identity);
}

static char *sign_ok(const sd_directory_t *d)
{
	char *text = NULL;
	assert_int_equal(sd_directory_sign(d, k_root, &text), 0);
	assert_non_null(text);
	return text;
}

static int parse_text(const char *text, const sd_seckey_t *root, sd_date_t today, sd_directory_t **out)
{
	sd_pubkey_t rp = pub(root);
	return sd_directory_parse((const uint8_t *)text, strlen(text), &rp, today, out);
}

static void blake2b_hex(const void *p, size_t n, char out[65])
{
	uint8_t h[32];
	crypto_generichash(h, sizeof(h), p, n, NULL, 0);
	sd_hex_encode(h, sizeof(h), out);
}

/* --- the vector ------------------------------------------------------------------- */

static void test_vector(void **state)
{
	sd_directory_t d, *got = NULL;
	uint8_t digest[SD_DIGEST_BYTES], sig[SD_SIGN_BYTES];
	char hex[129], *text, *msg;
	json_t *doc, *s;

	(void)state;
	base_dir(&d);
	text = sign_ok(&d);
	blake2b_hex(text, strlen(text), hex);
	assert_string_equal(hex, VEC_FILE_BLAKE2B);

	doc = json_loads(text, 0, NULL);
	assert_non_null(doc);
	s = json_object_get(doc, "signed");
	msg = json_dumps(s, JSON_COMPACT | JSON_SORT_KEYS);
	assert_int_equal(strlen(msg), VEC_MSG_LEN);
	assert_string_equal(msg, VEC_MSG);
	blake2b_hex(msg, strlen(msg), hex);
	assert_string_equal(hex, VEC_MSG_BLAKE2B);
	sd_sign_digest(SD_PURPOSE_DIRECTORY, (const uint8_t *)msg, strlen(msg), digest);
	sd_hex_encode(digest, sizeof(digest), hex);
	assert_string_equal(hex, VEC_SIGN_DIGEST);
	assert_int_equal(
	        sd_base64_decode_exact(json_string_value(json_object_get(json_object_get(doc, "signature"), "sig")),
	                               sig, sizeof(sig)),
	        0);
	sd_hex_encode(sig, sizeof(sig), hex);
	assert_string_equal(hex, VEC_SIG);
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "signature"), "key_id")),
	                    "2ffdef4971a0d119");

	assert_int_equal(parse_text(text, k_root, TODAY, &got), 0);
	assert_int_equal(got->version, 1);
	sd_hex_encode(got->root_id, sizeof(got->root_id), hex);
	assert_string_equal(hex, "2ffdef4971a0d119");
	sd_directory_free(got);
	assert_null(got);
	free(msg);
	free(text);
	json_decref(doc);
}

/* --- round trips -------------------------------------------------------------------- */

static void full_dir(sd_directory_t *d, sd_agency_t ag[2])
{
	base_dir(d);
	snprintf(d->deployment, sizeof(d->deployment), "acrc-2026");
	d->version = 7;
	d->has_log = true;
	d->log = pub(k_log);
	d->tls_ca_pem = (char *)(uintptr_t) "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
	memset(ag, 0, 2 * sizeof(*ag));
	snprintf(ag[0].id, sizeof(ag[0].id), "acrc-inspection");
	snprintf(ag[0].name, sizeof(ag[0].name), "국민권익위원회 조사과");
	ag[0].key = pub(k_agency);
	snprintf(ag[1].id, sizeof(ag[1].id), "police");
	snprintf(ag[1].name, sizeof(ag[1].name), "National Police Agency \"Cyber\" / bureau");
	ag[1].key = pub(k_agency);
	d->agencies = ag;
	d->n_agencies = 2;
}

static void test_roundtrip(void **state)
{
	sd_directory_t d, *got = NULL;
	sd_agency_t ag[2];
	char *text;

	(void)state;
	full_dir(&d, ag);
	text = sign_ok(&d);
	assert_int_equal(text[strlen(text) - 1], '\n');
	assert_int_equal(parse_text(text, k_root, TODAY, &got), 0);
	assert_string_equal(got->deployment, "acrc-2026");
	assert_int_equal(got->version, 7);
	assert_int_equal(sd_date_cmp(got->issued, d.issued), 0);
	assert_int_equal(sd_date_cmp(got->not_after, d.not_after), 0);
	assert_false(got->test);
	assert_int_equal(got->codename_kdf.opslimit, d.codename_kdf.opslimit);
	assert_int_equal(got->codename_kdf.memlimit, d.codename_kdf.memlimit);
	assert_int_equal(got->intake.kind, SD_KEY_INTAKE);
	assert_memory_equal(got->intake.pk, k_intake->pk, 32);
	assert_memory_equal(got->intake.id, k_intake->id, 8);
	assert_int_equal(got->identity.kind, SD_KEY_IDENTITY);
	assert_memory_equal(got->identity.pk, k_identity->pk, 32);
	assert_true(got->has_log);
	assert_int_equal(got->log.kind, SD_KEY_LOG);
	assert_memory_equal(got->log.pk, k_log->pk, 32);
	assert_string_equal(got->tls_ca_pem, d.tls_ca_pem);
	assert_int_equal(got->n_agencies, 2);
	assert_string_equal(got->agencies[0].id, "acrc-inspection");
	assert_string_equal(got->agencies[0].name, "국민권익위원회 조사과");
	assert_int_equal(got->agencies[0].key.kind, SD_KEY_AGENCY);
	assert_memory_equal(got->agencies[0].key.pk, k_agency->pk, 32);
	assert_string_equal(got->agencies[1].name, ag[1].name);
	assert_memory_equal(got->root_id, k_root->id, 8);
	assert_ptr_equal(sd_directory_find_agency(got, "police"), &got->agencies[1]);
	assert_null(sd_directory_find_agency(got, "polic"));
	assert_null(sd_directory_find_agency(got, "police "));
	sd_directory_free(got);
	free(text);
}

/* Any layout and key order of the same values verifies: the signature is over the
 * compact, key-sorted re-serialisation. */
static void test_reformatted_still_verifies(void **state)
{
	sd_directory_t d, *got = NULL;
	sd_agency_t ag[2];
	char *text, *compact;
	json_t *doc;

	(void)state;
	full_dir(&d, ag);
	text = sign_ok(&d);
	doc = json_loads(text, 0, NULL);
	compact = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	assert_int_equal(parse_text(compact, k_root, TODAY, &got), 0);
	assert_string_equal(got->agencies[0].name, "국민권익위원회 조사과");
	sd_directory_free(got);
	free(compact);
	free(text);
	json_decref(doc);
}

/* --- re-signed malformations ---------------------------------------------------------- */

/* The signed object of the round-trip directory, as jansson sees it. */
static json_t *base_signed(void)
{
	sd_directory_t d;
	sd_agency_t ag[2];
	char *text;
	json_t *doc, *s;

	full_dir(&d, ag);
	text = sign_ok(&d);
	doc = json_loads(text, 0, NULL);
	assert_non_null(doc);
	s = json_incref(json_object_get(doc, "signed"));
	json_decref(doc);
	free(text);
	return s;
}

static char *wrap(json_t *s, const char *key_id_hex, const uint8_t sig[SD_SIGN_BYTES])
{
	char b64[SD_SIGN_BYTES * 2], *text;
	json_t *doc;

	sd_base64_encode(sig, SD_SIGN_BYTES, b64);
	doc = json_pack("{s:O, s:{s:s, s:s}}", "signed", s, "signature", "key_id", key_id_hex, "sig", b64);
	assert_non_null(doc);
	text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	return text;
}

/* Signs s as the root would, for `purpose`. */
static char *resign(json_t *s, const sd_seckey_t *root, sd_purpose_t purpose)
{
	uint8_t sig[SD_SIGN_BYTES];
	char id[SD_KEY_ID_HEX_BYTES];
	char *msg = json_dumps(s, JSON_COMPACT | JSON_SORT_KEYS), *text;

	assert_non_null(msg);
	assert_int_equal(sd_sign(purpose, root->sk, (const uint8_t *)msg, strlen(msg), sig), 0);
	sd_key_id_hex(root->id, id);
	text = wrap(s, id, sig);
	free(msg);
	return text;
}

/* value NULL deletes; otherwise JSON text (any type). */
static void mutate(json_t *s, const char *path, const char *value)
{
	unit_json_set(s, path, value);
}

struct field_case {
	const char *path;
	const char *value; /* NULL: delete */
	int err;
	const char *detail; /* substring of the detail */
};

static char long_name[SD_AGENCY_NAME_MAX + 8], max_name[SD_AGENCY_NAME_MAX + 8];
static char long_dep[SD_DEPLOYMENT_MAX + 8], max_dep[SD_DEPLOYMENT_MAX + 8];

static const struct field_case field_cases[] = {
        /* type, format */
        {"type", NULL, SD_ERR_FORMAT, "directory: missing field signed.type"},
        {"type", "\"sealdrop-directorz\"", SD_ERR_FORMAT, "signed.type must be \"sealdrop-directory\""},
        {"type", "1", SD_ERR_FORMAT, "signed.type must be a string"},
        {"format", NULL, SD_ERR_FORMAT, "missing field signed.format"},
        {"format", "2", SD_ERR_VERSION, "format 2 is not supported"},
        {"format", "0", SD_ERR_VERSION, "format 0 is not supported"},
        {"format", "\"1\"", SD_ERR_FORMAT, "signed.format must be an integer"},
        {"format", "1.0", SD_ERR_FORMAT, "signed.format must be an integer"},
        /* deployment */
        {"deployment", NULL, SD_ERR_FORMAT, "missing field signed.deployment"},
        {"deployment", "\"\"", SD_ERR_FORMAT, "signed.deployment must be 1 to 64"},
        {"deployment", "\"Demo\"", SD_ERR_FORMAT, "signed.deployment must be 1 to 64"},
        {"deployment", "\"-demo\"", SD_ERR_FORMAT, "signed.deployment must be 1 to 64"},
        {"deployment", "\"demo-\"", SD_ERR_FORMAT, "signed.deployment must be 1 to 64"},
        {"deployment", "\"de mo\"", SD_ERR_FORMAT, "signed.deployment must be 1 to 64"},
        {"deployment", "\"de/mo\"", SD_ERR_FORMAT, "signed.deployment must be 1 to 64"},
        {"deployment", "\"..\"", SD_ERR_FORMAT, "signed.deployment must be 1 to 64"},
        {"deployment", long_dep, SD_ERR_FORMAT, "signed.deployment must be 1 to 64"},
        {"deployment", max_dep, 0, NULL},
        {"deployment", "\"a\"", 0, NULL},
        {"deployment", "\"a--b\"", 0, NULL},
        {"deployment", "7", SD_ERR_FORMAT, "signed.deployment must be a string"},
        /* version */
        {"version", NULL, SD_ERR_FORMAT, "missing field signed.version"},
        {"version", "0", SD_ERR_FORMAT, "signed.version must be between 1 and 2147483648"},
        {"version", "-1", SD_ERR_FORMAT, "signed.version must be between 1 and 2147483648"},
        {"version", "2147483649", SD_ERR_FORMAT, "signed.version must be between 1 and 2147483648"},
        {"version", "2147483648", 0, NULL},
        {"version", "\"1\"", SD_ERR_FORMAT, "signed.version must be an integer"},
        {"version", "1.5", SD_ERR_FORMAT, "signed.version must be an integer"},
        {"version", "1e3", SD_ERR_FORMAT, "signed.version must be an integer"},
        {"version", "true", SD_ERR_FORMAT, "signed.version must be an integer"},
        {"version", "null", SD_ERR_FORMAT, "signed.version must be an integer"},
        /* dates */
        {"issued", NULL, SD_ERR_FORMAT, "missing field signed.issued"},
        {"issued", "\"2026-02-30\"", SD_ERR_FORMAT, "signed.issued must be a calendar date"},
        {"issued", "\"26-11-22\"", SD_ERR_FORMAT, "signed.issued must be a calendar date"},
        {"issued", "\"2026-11-22 \"", SD_ERR_FORMAT, "signed.issued must be a calendar date"},
        {"issued", "20261122", SD_ERR_FORMAT, "signed.issued must be a string"},
        {"not_after", NULL, SD_ERR_FORMAT, "missing field signed.not_after"},
        {"not_after", "\"2027-13-01\"", SD_ERR_FORMAT, "signed.not_after must be a calendar date"},
        {"not_after", "\"2026-11-22\"", SD_ERR_FORMAT,
         "not_after (2026-11-22) must be after signed.issued (2026-11-22)"},
        {"not_after", "\"2026-11-21\"", SD_ERR_FORMAT, "must be after signed.issued"},
        {"not_after", "\"2026-11-23\"", SD_ERR_EXPIRED, "directory expired on 2026-11-23"},
        /* test */
        {"test", NULL, SD_ERR_FORMAT, "missing field signed.test"},
        {"test", "\"false\"", SD_ERR_FORMAT, "signed.test must be true or false"},
        {"test", "0", SD_ERR_FORMAT, "signed.test must be true or false"},
        {"test", "true", 0, NULL},
        /* codename_kdf */
        {"codename_kdf", NULL, SD_ERR_FORMAT, "missing field signed.codename_kdf"},
        {"codename_kdf", "[]", SD_ERR_FORMAT, "signed.codename_kdf must be an object"},
        {"codename_kdf.alg", NULL, SD_ERR_FORMAT, "missing field signed.codename_kdf.alg"},
        {"codename_kdf.alg", "\"argon2i13\"", SD_ERR_FORMAT, "signed.codename_kdf.alg must be \"argon2id13\""},
        {"codename_kdf.opslimit", NULL, SD_ERR_FORMAT, "missing field signed.codename_kdf.opslimit"},
        {"codename_kdf.memlimit", NULL, SD_ERR_FORMAT, "missing field signed.codename_kdf.memlimit"},
        {"codename_kdf.opslimit", "-1", SD_ERR_FORMAT, "signed.codename_kdf.opslimit must be between 0 and"},
        {"codename_kdf.memlimit", "\"64M\"", SD_ERR_FORMAT, "signed.codename_kdf.memlimit must be an integer"},
        {"codename_kdf.opslimit", "1", SD_ERR_FORMAT, "below the INTERACTIVE floor"},
        {"codename_kdf.memlimit", "67107840", SD_ERR_FORMAT, "below the INTERACTIVE floor"},
        {"codename_kdf.opslimit", "5", SD_ERR_FORMAT, "outside what any client accepts"},
        {"codename_kdf.memlimit", "2147483648", SD_ERR_FORMAT, "outside what any client accepts"},
        {"codename_kdf.opslimit", "4", 0, NULL},
        {"codename_kdf.salt", "\"x\"", SD_ERR_FORMAT, "unknown field signed.codename_kdf.salt"},
        /* keys */
        {"keys", NULL, SD_ERR_FORMAT, "missing field signed.keys"},
        {"keys", "\"x\"", SD_ERR_FORMAT, "signed.keys must be an object"},
        {"keys.intake", NULL, SD_ERR_FORMAT, "missing field signed.keys.intake"},
        {"keys.identity", NULL, SD_ERR_FORMAT, "missing field signed.keys.identity"},
        {"keys.log", NULL, 0, NULL},
        {"keys.intak", "{}", SD_ERR_FORMAT, "directory: unknown field signed.keys.intak"},
        {"keys.intake.id", NULL, SD_ERR_FORMAT, "missing field signed.keys.intake.id"},
        {"keys.intake.public", NULL, SD_ERR_FORMAT, "missing field signed.keys.intake.public"},
        {"keys.intake.id", "\"0000000000000000\"", SD_ERR_FORMAT, "signed.keys.intake.id does not match its key"},
        {"keys.intake.id", "\"2893BD9C104B837C\"", SD_ERR_FORMAT, "signed.keys.intake.id must be 16 lower-case"},
        {"keys.intake.id", "\"2893bd9c104b837\"", SD_ERR_FORMAT, "signed.keys.intake.id must be 16 lower-case"},
        {"keys.intake.id", "\"2893bd9c104b837c0\"", SD_ERR_FORMAT, "signed.keys.intake.id must be 16 lower-case"},
        {"keys.intake.id", "\"2893bd9c104b837g\"", SD_ERR_FORMAT, "signed.keys.intake.id must be 16 lower-case"},
        {"keys.intake.id", "2893", SD_ERR_FORMAT, "signed.keys.intake.id must be a string"},
        {"keys.intake.public", "\"NYBy1jZYgNGu6jKa35EhODhR7SGijjt16WXQ0s0WYl=\"", SD_ERR_FORMAT,
         "signed.keys.intake.public: "},
        {"keys.intake.public", "\"NYBy1jZYgNGu6jKa35EhODhR7SGijjt16WXQ0s0WYlQ\"", SD_ERR_FORMAT,
         "signed.keys.intake.public: "},
        {"keys.intake.public", "\"NYBy1jZYgNGu6jKa35EhODhR7SGijjt16WXQ0s0WYlR=\"", SD_ERR_FORMAT,
         "signed.keys.intake.public: "},
        {"keys.intake.public", "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"", SD_ERR_FORMAT,
         "signed.keys.intake.id does not match its key"},
        /* the identity key where the intake key belongs: ids are per kind */
        {"keys.intake", "{\"id\": \"ce9391590d7a7c13\", \"public\": \"eaYx7t4b+cmPEgMs3q3Q56B5OY/HhriMyEbsia+FpRo=\"}",
         SD_ERR_FORMAT, "signed.keys.intake.id does not match its key"},
        {"keys.intake.x", "1", SD_ERR_FORMAT, "unknown field signed.keys.intake.x"},
        {"keys.log.id", "\"0000000000000000\"", SD_ERR_FORMAT, "signed.keys.log.id does not match its key"},
        {"keys.log", "[]", SD_ERR_FORMAT, "signed.keys.log must be an object"},
        /* tls_ca */
        {"tls_ca", NULL, 0, NULL},
        {"tls_ca", "5", SD_ERR_FORMAT, "signed.tls_ca must be a string"},
        {"tls_ca", "\"\"", SD_ERR_FORMAT, "signed.tls_ca must be non-empty"},
        /* agencies */
        {"agencies", NULL, SD_ERR_FORMAT, "missing field signed.agencies"},
        {"agencies", "{}", SD_ERR_FORMAT, "signed.agencies must be an array"},
        {"agencies", "[]", 0, NULL},
        {"agencies.0", "1", SD_ERR_FORMAT, "signed.agencies[0] must be an object"},
        {"agencies.1.id", NULL, SD_ERR_FORMAT, "missing field signed.agencies[1].id"},
        {"agencies.1.id", "\"Police\"", SD_ERR_FORMAT, "signed.agencies[1].id must be 1 to 64"},
        {"agencies.1.id", "\"\"", SD_ERR_FORMAT, "signed.agencies[1].id must be 1 to 64"},
        {"agencies.1.id", "\"acrc-inspection\"", SD_ERR_FORMAT, "agency id 'acrc-inspection' appears twice"},
        {"agencies.1.name", NULL, SD_ERR_FORMAT, "missing field signed.agencies[1].name"},
        {"agencies.1.name", "\"\"", SD_ERR_FORMAT, "signed.agencies[1].name must be 1 to 256 bytes"},
        {"agencies.1.name", long_name, SD_ERR_FORMAT, "signed.agencies[1].name must be 1 to 256 bytes"},
        {"agencies.1.name", max_name, 0, NULL},
        {"agencies.1.name", "[\"x\"]", SD_ERR_FORMAT, "signed.agencies[1].name must be a string"},
        {"agencies.1.key", NULL, SD_ERR_FORMAT, "missing field signed.agencies[1].key"},
        {"agencies.1.key.id", "\"2893bd9c104b837c\"", SD_ERR_FORMAT,
         "signed.agencies[1].key.id does not match its key"},
        {"agencies.1.url", "\"https://x\"", SD_ERR_FORMAT, "unknown field signed.agencies[1].url"},
        /* unknown fields at the top of "signed" */
        {"extra", "1", SD_ERR_FORMAT, "directory: unknown field signed.extra"},
        {"Type", "\"x\"", SD_ERR_FORMAT, "directory: unknown field signed.Type"},
        {"bad\\u0001name", "1", SD_ERR_FORMAT, "directory: unknown field signed.bad?name"},
};

static void fill_long_strings(void)
{
	memset(long_name, 'x', sizeof(long_name));
	long_name[0] = '"';
	long_name[SD_AGENCY_NAME_MAX + 2] = '"';
	long_name[SD_AGENCY_NAME_MAX + 3] = '\0';
	memcpy(max_name, long_name, sizeof(max_name));
	max_name[SD_AGENCY_NAME_MAX + 1] = '"';
	max_name[SD_AGENCY_NAME_MAX + 2] = '\0';
	memset(long_dep, 'a', sizeof(long_dep));
	long_dep[0] = '"';
	long_dep[SD_DEPLOYMENT_MAX + 2] = '"';
	long_dep[SD_DEPLOYMENT_MAX + 3] = '\0';
	memcpy(max_dep, long_dep, sizeof(max_dep));
	max_dep[SD_DEPLOYMENT_MAX + 1] = '"';
	max_dep[SD_DEPLOYMENT_MAX + 2] = '\0';
}

static void test_field_cases(void **state)
{
	(void)state;
	fill_long_strings();
	for (size_t i = 0; i < sizeof(field_cases) / sizeof(field_cases[0]); i++) {
		const struct field_case *c = &field_cases[i];
		json_t *s = base_signed();
		sd_directory_t *got = NULL;
		char *path = NULL, *text;
		int r;

		/* a key with an escape in it: set it by hand */
		if (strchr(c->path, '\\') != NULL)
			assert_int_equal(json_object_set_new(s, "bad\001name", json_integer(1)), 0);
		else
			mutate(s, (path = strdup(c->path)), c->value);
		text = resign(s, k_root, SD_PURPOSE_DIRECTORY);
		r = parse_text(text, k_root, (sd_date_t){2026, 11, 25}, &got);
		if (r != c->err || (c->detail != NULL && strstr(sd_error_detail(), c->detail) == NULL))
			fail_msg("case %zu (%s = %s): got %d '%s', expected %d '%s'", i, c->path,
			         c->value ? c->value : "(deleted)", r, sd_error_detail(), c->err,
			         c->detail ? c->detail : "");
		if (r == 0)
			assert_non_null(got);
		else
			assert_null(got);
		sd_directory_free(got);
		free(path);
		free(text);
		json_decref(s);
	}
}

/* --- the envelope: checked before the signature ---------------------------------------- */

struct envelope_case {
	const char *text;
	int err;
	const char *detail;
};

static void test_envelope_cases(void **state)
{
	char id[SD_KEY_ID_HEX_BYTES], buf[1024];
	static const char *const sig_ok =
	        "\"rLA8G3xUzGHtmL55/pG0wQnXGQXDIF2KCKESF5CuVwiqloFlBSDS9UsVHvHgO6TGOkOcG4C+UlUhsXNHD+b9CQ==\"";
	const struct envelope_case cases[] = {
	        {"", SD_ERR_FORMAT, "directory: invalid JSON at line"},
	        {"[]", SD_ERR_FORMAT, "directory: the document must be a JSON object"},
	        {"{", SD_ERR_FORMAT, "invalid JSON"},
	        {"{} x", SD_ERR_FORMAT, "invalid JSON"},
	        {"{}", SD_ERR_FORMAT, "missing field signed"},
	        {"{\"signed\": {}}", SD_ERR_FORMAT, "missing field signature"},
	        {"{\"signed\": [], \"signature\": {}}", SD_ERR_FORMAT, "signed must be an object"},
	        {"{\"signed\": {}, \"signature\": []}", SD_ERR_FORMAT, "signature must be an object"},
	        {"{\"signed\": {}, \"signature\": {}, \"x\": 1}", SD_ERR_FORMAT, "unknown field x"},
	        {"{\"signed\": {}, \"signed\": {}, \"signature\": {}}", SD_ERR_FORMAT, "duplicate"},
	        {"{\"signed\": {}, \"signature\": {}}", SD_ERR_FORMAT, "missing field signature.key_id"},
	        {"{\"signed\": {}, \"signature\": {\"key_id\": \"2ffdef4971a0d119\"}}", SD_ERR_FORMAT,
	         "missing field signature.sig"},
	        {"{\"signed\": {}, \"signature\": {\"key_id\": \"2ffdef4971a0d11\", \"sig\": \"\"}}", SD_ERR_FORMAT,
	         "signature.key_id must be 16 lower-case hexadecimal digits"},
	        {"{\"signed\": {}, \"signature\": {\"key_id\": \"2FFDEF4971A0D119\", \"sig\": \"\"}}", SD_ERR_FORMAT,
	         "signature.key_id must be 16 lower-case hexadecimal digits"},
	        {"{\"signed\": {}, \"signature\": {\"key_id\": \"2ffdef4971a0d119\", \"sig\": \"AAAA\"}}",
	         SD_ERR_FORMAT, "signature.sig must be the base64 of 64 bytes"},
	        {"{\"signed\": {}, \"signature\": {\"key_id\": \"2ffdef4971a0d119\", \"sig\": 1}}", SD_ERR_FORMAT,
	         "signature.sig must be a string"},
	        {"{\"signed\": {}, \"signature\": {\"key_id\": \"2ffdef4971a0d119\", \"sig\": \"\", \"alg\": 1}}",
	         SD_ERR_FORMAT, "unknown field signature.alg"},
	};
	sd_directory_t *got = NULL;

	(void)state;
	sd_key_id_hex(k_root->id, id);
	assert_string_equal(id, "2ffdef4971a0d119");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = parse_text(cases[i].text, k_root, TODAY, &got);
		if (r != cases[i].err || strstr(sd_error_detail(), cases[i].detail) == NULL)
			fail_msg("case %zu: got %d '%s'", i, r, sd_error_detail());
		assert_null(got);
	}
	/* A well-formed envelope around an empty signed object: the signature fails first,
	 * before any field of "signed" is looked at. */
	snprintf(buf, sizeof(buf), "{\"signed\": {}, \"signature\": {\"key_id\": \"%s\", \"sig\": %s}}", id, sig_ok);
	assert_int_equal(parse_text(buf, k_root, TODAY, &got), SD_ERR_VERIFY);
}

static void test_size_limit(void **state)
{
	sd_pubkey_t rp = pub(k_root);
	sd_directory_t *got = NULL;
	size_t n = SD_DIRECTORY_MAX_BYTES + 1;
	uint8_t *big = malloc(n);

	(void)state;
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	assert_int_equal(sd_directory_parse(big, n, &rp, TODAY, &got), SD_ERR_TOOBIG);
	/* one byte less is only a (very spacious) syntax matter */
	big[n - 2] = '}';
	assert_int_equal(sd_directory_parse(big, n - 1, &rp, TODAY, &got), SD_ERR_FORMAT);
	assert_null(got);
	free(big);
	/* a root key of the wrong kind is the caller's mistake */
	rp.kind = SD_KEY_LOG;
	assert_int_equal(sd_directory_parse((const uint8_t *)"{}", 2, &rp, TODAY, &got), SD_ERR_USAGE);
}

/* --- tampering and the wrong root ------------------------------------------------------ */

/* Replaces the first occurrence of from by to (same length) in text. */
static void replace_once(char *text, const char *from, const char *to)
{
	char *p = strstr(text, from);
	assert_non_null(p);
	assert_int_equal(strlen(from), strlen(to));
	memcpy(p, to, strlen(to));
}

static void test_tampered(void **state)
{
	sd_directory_t d, *got = NULL;
	char *text, *t;

	(void)state;
	base_dir(&d);
	text = sign_ok(&d);

	t = strdup(text);
	replace_once(t, "\"version\": 1", "\"version\": 2");
	assert_int_equal(parse_text(t, k_root, TODAY, &got), SD_ERR_VERIFY);
	assert_string_equal(sd_error_detail(),
	                    "directory: the root key's signature does not verify (altered or forged)");
	free(t);

	/* another valid intake key, with its correct id: only the signature catches it */
	t = strdup(text);
	{
		char id[SD_KEY_ID_HEX_BYTES], b64[64], oid[SD_KEY_ID_HEX_BYTES], ob64[64];
		sd_key_id_hex(k_intake->id, oid);
		sd_base64_encode(k_intake->pk, 32, ob64);
		sd_seckey_t *other = unit_key_from_byte(SD_KEY_INTAKE, 0xc0);
		sd_key_id_hex(other->id, id);
		sd_base64_encode(other->pk, 32, b64);
		replace_once(t, oid, id);
		replace_once(t, ob64, b64);
		sd_seckey_free(other);
	}
	assert_int_equal(parse_text(t, k_root, TODAY, &got), SD_ERR_VERIFY);
	free(t);

	t = strdup(text);
	replace_once(t, "\"test\": false", "\"test\": true ");
	assert_int_equal(parse_text(t, k_root, TODAY, &got), SD_ERR_VERIFY);
	free(t);

	t = strdup(text);
	replace_once(t, "\"2027-11-22\"", "\"2028-11-22\"");
	assert_int_equal(parse_text(t, k_root, TODAY, &got), SD_ERR_VERIFY);
	free(t);

	/* a different signature in the right form */
	t = strdup(text);
	replace_once(t, "\"sig\": \"rLA8", "\"sig\": \"rLA9");
	assert_int_equal(parse_text(t, k_root, TODAY, &got), SD_ERR_VERIFY);
	free(t);
	assert_null(got);
	free(text);
}

/* Every single-bit flip (lowest bit of each byte) and every truncation is refused. */
static void test_every_flip_and_truncation(void **state)
{
	sd_pubkey_t rp = pub(k_root);
	sd_directory_t d, *got = NULL;
	char *text;
	size_t n;

	(void)state;
	base_dir(&d);
	text = sign_ok(&d);
	n = strlen(text);
	/* the trailing newline is white space either way: flips stop before it */
	for (size_t i = 0; i + 1 < n; i++) {
		uint8_t *t = (uint8_t *)strdup(text);
		for (int bit = 0; bit < 8; bit++) {
			t[i] ^= (uint8_t)(1u << bit);
			if (sd_directory_parse(t, n, &rp, TODAY, &got) == 0)
				fail_msg("flip of bit %d at byte %zu accepted", bit, i);
			t[i] ^= (uint8_t)(1u << bit);
		}
		free(t);
	}
	for (size_t len = 0; len + 1 < n; len++)
		if (sd_directory_parse((const uint8_t *)text, len, &rp, TODAY, &got) == 0)
			fail_msg("truncation to %zu bytes accepted", len);
	assert_int_equal(sd_directory_parse((const uint8_t *)text, n - 1, &rp, TODAY, &got), 0);
	sd_directory_free(got);
	free(text);
}

static void test_wrong_root(void **state)
{
	sd_directory_t d, *got = NULL;
	char *text, expect[160], a[SD_KEY_ID_HEX_BYTES], b[SD_KEY_ID_HEX_BYTES];
	json_t *s = base_signed();
	uint8_t sig[SD_SIGN_BYTES];
	char *msg;

	(void)state;
	base_dir(&d);
	text = sign_ok(&d);
	sd_key_id_hex(k_root->id, a);
	sd_key_id_hex(k_other_root->id, b);
	snprintf(expect, sizeof(expect), "directory was signed by key %s, not the pinned root %s", a, b);
	assert_int_equal(parse_text(text, k_other_root, TODAY, &got), SD_ERR_VERIFY);
	assert_string_equal(sd_error_detail(), expect);
	free(text);

	/* signed by another root that claims to be the pinned one */
	msg = json_dumps(s, JSON_COMPACT | JSON_SORT_KEYS);
	assert_int_equal(sd_sign(SD_PURPOSE_DIRECTORY, k_other_root->sk, (const uint8_t *)msg, strlen(msg), sig), 0);
	text = wrap(s, a, sig);
	assert_int_equal(parse_text(text, k_root, TODAY, &got), SD_ERR_VERIFY);
	free(text);
	free(msg);

	/* the right root, the wrong purpose */
	text = resign(s, k_root, SD_PURPOSE_HEAD);
	assert_int_equal(parse_text(text, k_root, TODAY, &got), SD_ERR_VERIFY);
	free(text);
	text = resign(s, k_root, SD_PURPOSE_DIRECTORY);
	assert_int_equal(parse_text(text, k_root, TODAY, &got), 0);
	sd_directory_free(got);
	free(text);
	json_decref(s);
}

static void test_expiry(void **state)
{
	sd_directory_t d, *got = NULL;
	char *text;

	(void)state;
	base_dir(&d);
	text = sign_ok(&d);
	assert_int_equal(parse_text(text, k_root, (sd_date_t){2027, 11, 22}, &got), 0);
	sd_directory_free(got);
	assert_int_equal(parse_text(text, k_root, (sd_date_t){2027, 11, 23}, &got), SD_ERR_EXPIRED);
	assert_string_equal(sd_error_detail(), "directory expired on 2027-11-22");
	assert_null(got);
	assert_int_equal(parse_text(text, k_root, (sd_date_t){2031, 1, 1}, &got), SD_ERR_EXPIRED);
	free(text);
}

/* --- signing-side checks ----------------------------------------------------------------- */

static void test_test_flag(void **state)
{
	sd_directory_t d, *got = NULL;
	char *text = NULL;

	(void)state;
	base_dir(&d);
	d.codename_kdf = sd_kdf_minimum();
	assert_int_equal(sd_directory_sign(&d, k_root, &text), SD_ERR_INVALID);
	assert_non_null(strstr(sd_error_detail(), "below the INTERACTIVE floor"));
	assert_null(text);
	d.test = true;
	text = sign_ok(&d);
	assert_int_equal(parse_text(text, k_root, TODAY, &got), 0);
	assert_true(got->test);
	assert_int_equal(got->codename_kdf.opslimit, sd_kdf_minimum().opslimit);
	assert_int_equal(got->codename_kdf.memlimit, sd_kdf_minimum().memlimit);
	sd_directory_free(got);
	free(text);
	/* below the minimum even a test directory may not go */
	d.codename_kdf.memlimit = 4096;
	assert_int_equal(sd_directory_sign(&d, k_root, &text), SD_ERR_INVALID);
	assert_non_null(strstr(sd_error_detail(), "outside what any client accepts"));
}

static void test_sign_checks(void **state)
{
	sd_directory_t d;
	sd_agency_t ag[2];
	char *text = NULL;
	sd_seckey_t broken;

	(void)state;
	base_dir(&d);
	d.version = 0;
	assert_int_equal(sd_directory_sign(&d, k_root, &text), SD_ERR_INVALID);
	assert_string_equal(sd_error_detail(), "directory: signed.version must be between 1 and 2147483648");
	base_dir(&d);
	d.version = 0x80000001u;
	assert_int_equal(sd_directory_sign(&d, k_root, &text), SD_ERR_INVALID);
	base_dir(&d);
	d.not_after = d.issued;
	assert_int_equal(sd_directory_sign(&d, k_root, &text), SD_ERR_INVALID);
	assert_string_equal(sd_error_detail(),
	                    "directory: signed.not_after (2026-11-22) must be after signed.issued (2026-11-22)");
	base_dir(&d);
	d.issued = (sd_date_t){2026, 2, 30};
	assert_int_equal(sd_directory_sign(&d, k_root, &text), SD_ERR_INVALID);
	base_dir(&d);
	snprintf(d.deployment, sizeof(d.deployment), "Demo");
	assert_int_equal(sd_directory_sign(&d, k_root, &text), SD_ERR_INVALID);
	base_dir(&d);
	d.intake = pub(k_identity);
	assert_int_equal(sd_directory_sign(&d, k_root, &text), SD_ERR_INVALID);
	assert_string_equal(sd_error_detail(), "directory: signed.keys.intake must be a key of kind intake");
	base_dir(&d);
	d.identity.id[0] ^= 1;
	assert_int_equal(sd_directory_sign(&d, k_root, &text), SD_ERR_INVALID);
	assert_string_equal(sd_error_detail(), "directory: signed.keys.identity.id does not match its key");
	base_dir(&d);
	d.has_log = true; /* log left zeroed: kind 0 */
	assert_int_equal(sd_directory_sign(&d, k_root, &text), SD_ERR_INVALID);
	full_dir(&d, ag);
	snprintf(ag[1].id, sizeof(ag[1].id), "acrc-inspection");
	assert_int_equal(sd_directory_sign(&d, k_root, &text), SD_ERR_INVALID);
	assert_string_equal(sd_error_detail(), "directory: agency id 'acrc-inspection' appears twice");
	full_dir(&d, ag);
	snprintf(ag[1].name, sizeof(ag[1].name), "bad \xc3\x28 utf-8");
	assert_int_equal(sd_directory_sign(&d, k_root, &text), SD_ERR_INVALID);
	assert_string_equal(sd_error_detail(), "directory: signed.agencies[1].name must be 1 to 256 bytes of UTF-8");
	full_dir(&d, ag);
	ag[0].name[0] = '\0';
	assert_int_equal(sd_directory_sign(&d, k_root, &text), SD_ERR_INVALID);
	full_dir(&d, ag);
	ag[1].key = pub(k_intake);
	assert_int_equal(sd_directory_sign(&d, k_root, &text), SD_ERR_INVALID);
	full_dir(&d, ag);
	d.tls_ca_pem = (char *)(uintptr_t) "";
	assert_int_equal(sd_directory_sign(&d, k_root, &text), SD_ERR_INVALID);
	full_dir(&d, ag);
	d.n_agencies = SD_DIRECTORY_MAX_AGENCIES + 1;
	assert_int_equal(sd_directory_sign(&d, k_root, &text), SD_ERR_INVALID);
	assert_null(text);

	/* the signer must be a root key whose halves match */
	base_dir(&d);
	assert_int_equal(sd_directory_sign(&d, k_log, &text), SD_ERR_USAGE);
	broken = *k_root;
	broken.pk[0] ^= 1;
	assert_int_equal(sd_directory_sign(&d, &broken, &text), SD_ERR_USAGE);
	assert_null(text);
}

static void test_deployment_is_valid(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} cases[] = {
	        {"demo", true},
	        {"a", true},
	        {"0", true},
	        {"acrc-2026", true},
	        {"a--b", true},
	        {"", false},
	        {"-", false},
	        {"-a", false},
	        {"a-", false},
	        {"A", false},
	        {"a_b", false},
	        {"a.b", false},
	        {"a/b", false},
	        {"..", false},
	        {"a b", false},
	        {"é", false},
	        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true},
	        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
	};

	(void)state;
	assert_int_equal(strlen(cases[16].s), 64);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (sd_deployment_is_valid(cases[i].s) != cases[i].ok)
			fail_msg("'%s' should be %s", cases[i].s, cases[i].ok ? "valid" : "invalid");
	assert_false(sd_deployment_is_valid(NULL));
}

/* --- anti-rollback --------------------------------------------------------------------- */

static char *tmpdir_new(void)
{
	char tmpl[] = "/tmp/sd-test-directory-XXXXXX";
	char *p = mkdtemp(tmpl);
	assert_non_null(p);
	return strdup(p);
}

static void state_path(char *out, size_t cap, const char *base, const sd_directory_t *d)
{
	char id[SD_KEY_ID_HEX_BYTES];
	sd_key_id_hex(d->root_id, id);
	assert_true(snprintf(out, cap, "%s/directories/%s-%s", base, id, d->deployment) < (int)cap);
}

static void assert_file(const char *path, const char *content, mode_t mode)
{
	uint8_t *buf = NULL;
	size_t n = 0;
	struct stat st;

	assert_int_equal(sd_file_read(path, 64, &buf, &n), 0);
	assert_int_equal(n, strlen(content));
	assert_memory_equal(buf, content, n);
	free(buf);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, mode);
}

static void test_rollback(void **state)
{
	char *base = tmpdir_new(), path[512], dir[512];
	sd_directory_t d;
	struct stat st;

	(void)state;
	base_dir(&d);
	memcpy(d.root_id, k_root->id, sizeof(d.root_id));
	state_path(path, sizeof(path), base, &d);
	d.version = 3;
	assert_int_equal(sd_directory_check_version(&d, base), 0);
	assert_file(path, "3\n", 0600);
	snprintf(dir, sizeof(dir), "%s/directories", base);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(sd_directory_check_version(&d, base), 0);
	assert_file(path, "3\n", 0600);
	d.version = 4;
	assert_int_equal(sd_directory_check_version(&d, base), 0);
	assert_file(path, "4\n", 0600);
	d.version = 2;
	assert_int_equal(sd_directory_check_version(&d, base), SD_ERR_ROLLBACK);
	assert_string_equal(sd_error_detail(),
	                    "directory version 2 is older than version 4 already seen for deployment demo");
	assert_file(path, "4\n", 0600);
	d.version = 4;
	assert_int_equal(sd_directory_check_version(&d, base), 0);

	/* another deployment, another root: separate histories */
	snprintf(d.deployment, sizeof(d.deployment), "other");
	d.version = 1;
	assert_int_equal(sd_directory_check_version(&d, base), 0);
	snprintf(d.deployment, sizeof(d.deployment), "demo");
	memcpy(d.root_id, k_other_root->id, sizeof(d.root_id));
	assert_int_equal(sd_directory_check_version(&d, base), 0);
	memcpy(d.root_id, k_root->id, sizeof(d.root_id));
	assert_int_equal(sd_directory_check_version(&d, base), SD_ERR_ROLLBACK);

	/* a deployment that could escape the directory is refused before any path is built */
	snprintf(d.deployment, sizeof(d.deployment), "../x");
	assert_int_equal(sd_directory_check_version(&d, base), SD_ERR_USAGE);
	assert_int_equal(unit_rm_tree(base), 0);
	free(base);
}

/* Many clients at once: whatever the interleaving, the highest version is what stays. */
static void test_rollback_concurrent(void **state)
{
	enum { CHILDREN = 16 };
	char *base = tmpdir_new(), path[512];
	int gate[2], status;
	pid_t pids[CHILDREN];
	sd_directory_t d;

	(void)state;
	base_dir(&d);
	memcpy(d.root_id, k_root->id, sizeof(d.root_id));
	state_path(path, sizeof(path), base, &d);
	assert_int_equal(pipe(gate), 0);
	for (int i = 0; i < CHILDREN; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			char c;
			int r;

			close(gate[1]);
			if (read(gate[0], &c, 1) != 0)
				_exit(2);
			d.version = (uint32_t)(i + 1);
			r = sd_directory_check_version(&d, base);
			_exit(r == 0 || r == SD_ERR_ROLLBACK ? 0 : 1);
		}
	}
	close(gate[0]);
	close(gate[1]); /* all children start now */
	for (int i = 0; i < CHILDREN; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_file(path, "16\n", 0600);
	assert_int_equal(unit_rm_tree(base), 0);
	free(base);
}

static void test_rollback_corrupt_state(void **state)
{
	static const char *const bad[] = {"",
	                                  "\n",
	                                  "abc\n",
	                                  "4",
	                                  "04\n",
	                                  " 4\n",
	                                  "4\n\n",
	                                  "4 \n",
	                                  "-4\n",
	                                  "0\n",
	                                  "2147483649\n",
	                                  "99999999999999\n",
	                                  "4\r\n",
	                                  "12345678901234567\n"};
	char *base = tmpdir_new(), path[512];
	sd_directory_t d;

	(void)state;
	base_dir(&d);
	memcpy(d.root_id, k_root->id, sizeof(d.root_id));
	d.version = 5;
	state_path(path, sizeof(path), base, &d);
	assert_int_equal(sd_directory_check_version(&d, base), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(sd_file_write(path, bad[i], strlen(bad[i]), 0600, SD_AFILE_REPLACE), 0);
		if (sd_directory_check_version(&d, base) != SD_ERR_FORMAT)
			fail_msg("state '%s' accepted", bad[i]);
		assert_non_null(strstr(sd_error_detail(), path));
		assert_non_null(strstr(sd_error_detail(), "is corrupt"));
		/* and it is left alone, not reset */
		assert_file(path, bad[i], 0600);
	}
	assert_int_equal(sd_file_write(path, "2147483648\n", 11, 0600, SD_AFILE_REPLACE), 0);
	assert_int_equal(sd_directory_check_version(&d, base), SD_ERR_ROLLBACK);
	assert_int_equal(unit_rm_tree(base), 0);
	free(base);
}

static void test_rollback_default_dir(void **state)
{
	char *base = tmpdir_new(), path[512], sub[512];
	const char *old_home = getenv("HOME"), *old_xdg = getenv("XDG_STATE_HOME");
	char *save_home = old_home ? strdup(old_home) : NULL, *save_xdg = old_xdg ? strdup(old_xdg) : NULL;
	sd_directory_t d;

	(void)state;
	base_dir(&d);
	memcpy(d.root_id, k_root->id, sizeof(d.root_id));
	d.version = 9;
	assert_true(snprintf(sub, sizeof(sub), "%s/xdg", base) < (int)sizeof(sub));
	setenv("XDG_STATE_HOME", sub, 1);
	assert_int_equal(sd_directory_check_version(&d, NULL), 0);
	assert_true(snprintf(sub, sizeof(sub), "%s/xdg/sealdrop", base) < (int)sizeof(sub));
	state_path(path, sizeof(path), sub, &d);
	assert_file(path, "9\n", 0600);

	unsetenv("XDG_STATE_HOME");
	setenv("HOME", base, 1);
	assert_int_equal(sd_directory_check_version(&d, NULL), 0);
	assert_true(snprintf(sub, sizeof(sub), "%s/.local/state/sealdrop", base) < (int)sizeof(sub));
	state_path(path, sizeof(path), sub, &d);
	assert_file(path, "9\n", 0600);
	/* a relative XDG_STATE_HOME is ignored, as the XDG spec says */
	setenv("XDG_STATE_HOME", "relative", 1);
	d.version = 8;
	assert_int_equal(sd_directory_check_version(&d, NULL), SD_ERR_ROLLBACK);
	unsetenv("XDG_STATE_HOME");
	unsetenv("HOME");
	assert_int_equal(sd_directory_check_version(&d, NULL), SD_ERR_CONFIG);

	if (save_home)
		setenv("HOME", save_home, 1);
	if (save_xdg)
		setenv("XDG_STATE_HOME", save_xdg, 1);
	free(save_home);
	free(save_xdg);
	assert_int_equal(unit_rm_tree(base), 0);
	free(base);
}

/* --- loading from a file ---------------------------------------------------------------- */

static void test_load(void **state)
{
	char *base = tmpdir_new(), path[512], *text;
	sd_pubkey_t rp = pub(k_root);
	sd_directory_t d, *got = NULL;

	(void)state;
	base_dir(&d);
	text = sign_ok(&d);
	snprintf(path, sizeof(path), "%s/directory.json", base);
	assert_int_equal(sd_file_write(path, text, strlen(text), 0644, SD_AFILE_NOCLOBBER), 0);
	assert_int_equal(sd_directory_load(path, &rp, TODAY, &got), 0);
	assert_string_equal(got->deployment, "demo");
	sd_directory_free(got);
	assert_int_equal(sd_directory_load(path, &rp, (sd_date_t){2028, 1, 1}, &got), SD_ERR_EXPIRED);
	assert_non_null(strstr(sd_error_detail(), path));
	assert_non_null(strstr(sd_error_detail(), "directory expired on 2027-11-22"));
	text[10] = '#';
	snprintf(path, sizeof(path), "%s/broken.json", base);
	assert_int_equal(sd_file_write(path, text, strlen(text), 0644, SD_AFILE_NOCLOBBER), 0);
	assert_int_equal(sd_directory_load(path, &rp, TODAY, &got), SD_ERR_FORMAT);
	assert_non_null(strstr(sd_error_detail(), path));
	snprintf(path, sizeof(path), "%s/missing.json", base);
	assert_int_equal(sd_directory_load(path, &rp, TODAY, &got), SD_ERR_NOENT);
	assert_null(got);
	free(text);
	assert_int_equal(unit_rm_tree(base), 0);
	free(base);
}

/* --- keys.log_retired and the log keys a directory trusts ------------------------------- */

static sd_seckey_t *retired_key(uint8_t b)
{
	return unit_key_from_byte(SD_KEY_LOG, b);
}

static void test_log_retired_roundtrip(void **state)
{
	sd_seckey_t *r1 = retired_key(0x61), *r2 = retired_key(0x62);
	sd_directory_t d, *got = NULL;
	sd_agency_t ag[2];
	char *text;

	(void)state;
	full_dir(&d, ag);
	d.log_retired[0] = pub(r1);
	d.log_retired[1] = pub(r2);
	d.n_log_retired = 2;
	text = sign_ok(&d);
	/* written after keys.log, in the order given */
	assert_non_null(strstr(text, "\"log_retired\": ["));
	assert_true(strstr(text, "\"log\": {") < strstr(text, "\"log_retired\""));
	assert_int_equal(parse_text(text, k_root, TODAY, &got), 0);
	assert_int_equal(got->n_log_retired, 2);
	assert_int_equal(got->log_retired[0].kind, SD_KEY_LOG);
	assert_memory_equal(got->log_retired[0].pk, r1->pk, 32);
	assert_memory_equal(got->log_retired[1].pk, r2->pk, 32);
	assert_ptr_equal(sd_directory_log_key(got, k_log->id), &got->log);
	assert_ptr_equal(sd_directory_log_key(got, r2->id), &got->log_retired[1]);
	assert_null(sd_directory_log_key(got, k_intake->id));
	sd_directory_free(got);
	free(text);
	/* none: the member is not written at all */
	full_dir(&d, ag);
	text = sign_ok(&d);
	assert_null(strstr(text, "log_retired"));
	assert_int_equal(parse_text(text, k_root, TODAY, &got), 0);
	assert_int_equal(got->n_log_retired, 0);
	assert_null(sd_directory_log_key(got, r1->id));
	sd_directory_free(got);
	free(text);
	sd_seckey_free(r1);
	sd_seckey_free(r2);
}

static void test_log_retired_sign_checks(void **state)
{
	sd_seckey_t *r1 = retired_key(0x61);
	sd_directory_t d;
	sd_agency_t ag[2];
	char *text = NULL;

	(void)state;
	full_dir(&d, ag);
	d.log_retired[0] = pub(r1);
	d.log_retired[1] = pub(r1);
	d.n_log_retired = 2;
	assert_int_equal(sd_directory_sign(&d, k_root, &text), SD_ERR_INVALID);
	assert_string_equal(sd_error_detail(), "directory: signed.keys.log_retired[1] is listed twice");
	d.log_retired[1] = pub(k_log);
	assert_int_equal(sd_directory_sign(&d, k_root, &text), SD_ERR_INVALID);
	assert_string_equal(sd_error_detail(),
	                    "directory: signed.keys.log_retired[1] is the current log key (signed.keys.log)");
	d.log_retired[1] = pub(k_intake);
	assert_int_equal(sd_directory_sign(&d, k_root, &text), SD_ERR_INVALID);
	assert_string_equal(sd_error_detail(), "directory: signed.keys.log_retired[1] must be a key of kind log");
	d.n_log_retired = 1;
	d.has_log = false;
	assert_int_equal(sd_directory_sign(&d, k_root, &text), SD_ERR_INVALID);
	assert_string_equal(sd_error_detail(), "directory: signed.keys.log_retired needs signed.keys.log");
	full_dir(&d, ag);
	for (size_t i = 0; i < SD_DIRECTORY_MAX_LOG_RETIRED; i++) {
		sd_seckey_t *k = retired_key((uint8_t)(0xc0 + i));
		d.log_retired[i] = pub(k);
		sd_seckey_free(k);
	}
	d.n_log_retired = SD_DIRECTORY_MAX_LOG_RETIRED;
	text = sign_ok(&d); /* 16 is the most */
	free(text);
	text = NULL;
	d.n_log_retired = SD_DIRECTORY_MAX_LOG_RETIRED + 1;
	assert_int_equal(sd_directory_sign(&d, k_root, &text), SD_ERR_INVALID);
	assert_null(text);
	sd_seckey_free(r1);
}

/* Each case sets signed.keys.log_retired (or removes keys.log) in a re-signed document. */
static void test_log_retired_parse_cases(void **state)
{
	sd_seckey_t *r1 = retired_key(0x61);
	char id[SD_KEY_ID_HEX_BYTES], cur[SD_KEY_ID_HEX_BYTES], b64[64], b64c[64], one[256], two[512], same[512],
	        wrong_id[256], many[17 * 120 + 8];
	struct {
		const char *value;
		bool drop_log;
		int err;
		const char *detail;
	} cases[] = {
	        {one, false, 0, NULL},
	        {"[]", false, 0, NULL},
	        {two, false, SD_ERR_FORMAT, "signed.keys.log_retired[1] is listed twice"},
	        {same, false, SD_ERR_FORMAT, "signed.keys.log_retired[1] is the current log key"},
	        {wrong_id, false, SD_ERR_FORMAT, "signed.keys.log_retired[0].id does not match its key"},
	        {"{}", false, SD_ERR_FORMAT, "signed.keys.log_retired must be an array"},
	        {"[1]", false, SD_ERR_FORMAT, "signed.keys.log_retired[0] must be an object"},
	        {"[{\"id\": \"00\"}]", false, SD_ERR_FORMAT, "signed.keys.log_retired[0]"},
	        {many, false, SD_ERR_FORMAT, "signed.keys.log_retired lists more than 16 keys"},
	        {one, true, SD_ERR_FORMAT, "signed.keys.log_retired needs signed.keys.log"},
	};
	size_t n;

	(void)state;
	sd_key_id_hex(r1->id, id);
	sd_key_id_hex(k_log->id, cur);
	sd_base64_encode(r1->pk, 32, b64);
	sd_base64_encode(k_log->pk, 32, b64c);
	snprintf(one, sizeof(one), "[{\"id\": \"%s\", \"public\": \"%s\"}]", id, b64);
	snprintf(two, sizeof(two), "[{\"id\": \"%s\", \"public\": \"%s\"}, {\"id\": \"%s\", \"public\": \"%s\"}]", id,
	         b64, id, b64);
	snprintf(same, sizeof(same), "[{\"id\": \"%s\", \"public\": \"%s\"}, {\"id\": \"%s\", \"public\": \"%s\"}]", id,
	         b64, cur, b64c);
	snprintf(wrong_id, sizeof(wrong_id), "[{\"id\": \"%s\", \"public\": \"%s\"}]", cur, b64);
	n = (size_t)snprintf(many, sizeof(many), "[");
	for (int i = 0; i < 17; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "%s{\"id\": \"%s\", \"public\": \"%s\"}",
		                      i ? ", " : "", id, b64);
	snprintf(many + n, sizeof(many) - n, "]");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *s = base_signed();
		sd_directory_t *got = NULL;
		char *text;
		int r;

		mutate(s, "keys.log_retired", cases[i].value);
		if (cases[i].drop_log)
			mutate(s, "keys.log", NULL);
		text = resign(s, k_root, SD_PURPOSE_DIRECTORY);
		r = parse_text(text, k_root, TODAY, &got);
		if (r != cases[i].err ||
		    (cases[i].detail != NULL && strstr(sd_error_detail(), cases[i].detail) == NULL))
			fail_msg("case %zu: got %d '%s', expected %d '%s'", i, r, sd_error_detail(), cases[i].err,
			         cases[i].detail ? cases[i].detail : "");
		sd_directory_free(got);
		free(text);
		json_decref(s);
	}
	sd_seckey_free(r1);
}

/* A receipt, notice or export receipt signed by a retired log key verifies against a
 * directory that lists it; one signed by any other log key does not. */
static void test_log_retired_receipts(void **state)
{
	sd_seckey_t *r1 = retired_key(0x61), *stranger = retired_key(0x63);
	sd_directory_t d;
	sd_agency_t ag[2];
	sd_receipt_t rc, got;
	char *old = NULL, *cur = NULL, *bad = NULL;
	uint8_t id[SD_KEY_ID_BYTES];

	(void)state;
	full_dir(&d, ag);
	snprintf(d.deployment, sizeof(d.deployment), "demo");
	d.log_retired[0] = pub(r1);
	d.n_log_retired = 1;
	memset(&rc, 0, sizeof(rc));
	rc.version = SD_RECEIPT_VERSION;
	snprintf(rc.deployment, sizeof(rc.deployment), "demo");
	snprintf(rc.case_number, sizeof(rc.case_number), "2026-000001");
	rc.received = (sd_date_t){2026, 11, 23};
	rc.decision_due = (sd_date_t){2027, 1, 22};
	snprintf(rc.attorney, sizeof(rc.attorney), "Attorney Kim");
	assert_int_equal(sd_receipt_sign(&rc, r1, &old), 0);
	assert_int_equal(sd_receipt_sign(&rc, k_log, &cur), 0);
	assert_int_equal(sd_receipt_sign(&rc, stranger, &bad), 0);
	assert_int_equal(sd_directory_doc_key_id((const uint8_t *)old, strlen(old), id), 0);
	assert_memory_equal(id, r1->id, SD_KEY_ID_BYTES);
	assert_int_equal(sd_directory_doc_key_id((const uint8_t *)"{}", 2, id), SD_ERR_FORMAT);
	assert_int_equal(sd_receipt_verify_with_directory((const uint8_t *)old, strlen(old), &d, &got), 0);
	assert_memory_equal(got.log_key_id, r1->id, SD_KEY_ID_BYTES);
	assert_int_equal(sd_receipt_verify_with_directory((const uint8_t *)cur, strlen(cur), &d, &got), 0);
	assert_memory_equal(got.log_key_id, k_log->id, SD_KEY_ID_BYTES);
	/* neither current nor retired: refused, naming the key that signed it */
	assert_int_equal(sd_receipt_verify_with_directory((const uint8_t *)bad, strlen(bad), &d, &got), SD_ERR_VERIFY);
	assert_non_null(strstr(sd_error_detail(), "was signed by key"));
	/* the retired key's signature counts only while the directory lists it */
	d.n_log_retired = 0;
	assert_int_equal(sd_receipt_verify_with_directory((const uint8_t *)old, strlen(old), &d, &got), SD_ERR_VERIFY);
	/* an entry whose id is not its key's own does not make another key trusted */
	d.n_log_retired = 1;
	d.log_retired[0] = pub(stranger);
	memcpy(d.log_retired[0].id, r1->id, SD_KEY_ID_BYTES);
	assert_int_equal(sd_receipt_verify_with_directory((const uint8_t *)old, strlen(old), &d, &got), SD_ERR_VERIFY);
	free(old);
	free(cur);
	free(bad);
	sd_seckey_free(r1);
	sd_seckey_free(stranger);
}

/* A tree head is trusted only from the current log key, never a retired one. */
static void test_log_retired_heads(void **state)
{
	sd_seckey_t *r1 = retired_key(0x61);
	sd_directory_t d;
	sd_agency_t ag[2];
	sd_loghead_t h = {.version = SD_LOGHEAD_VERSION, .size = 3, .date = {2026, 11, 23}}, got;
	char *text = NULL;

	(void)state;
	full_dir(&d, ag);
	snprintf(d.deployment, sizeof(d.deployment), "demo");
	snprintf(h.deployment, sizeof(h.deployment), "demo");
	d.log_retired[0] = pub(r1);
	d.n_log_retired = 1;
	assert_int_equal(sd_loghead_sign(&h, r1, &text), 0);
	assert_int_equal(sd_loghead_verify_with_directory((const uint8_t *)text, strlen(text), &d, &got),
	                 SD_ERR_VERIFY);
	free(text);
	assert_int_equal(sd_loghead_sign(&h, k_log, &text), 0);
	assert_int_equal(sd_loghead_verify_with_directory((const uint8_t *)text, strlen(text), &d, &got), 0);
	free(text);
	sd_seckey_free(r1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_vector),
	        cmocka_unit_test(test_roundtrip),
	        cmocka_unit_test(test_reformatted_still_verifies),
	        cmocka_unit_test(test_field_cases),
	        cmocka_unit_test(test_envelope_cases),
	        cmocka_unit_test(test_size_limit),
	        cmocka_unit_test(test_tampered),
	        cmocka_unit_test(test_every_flip_and_truncation),
	        cmocka_unit_test(test_wrong_root),
	        cmocka_unit_test(test_expiry),
	        cmocka_unit_test(test_test_flag),
	        cmocka_unit_test(test_sign_checks),
	        cmocka_unit_test(test_deployment_is_valid),
	        cmocka_unit_test(test_rollback),
	        cmocka_unit_test(test_rollback_concurrent),
	        cmocka_unit_test(test_rollback_corrupt_state),
	        cmocka_unit_test(test_rollback_default_dir),
	        cmocka_unit_test(test_load),
	        cmocka_unit_test(test_log_retired_roundtrip),
	        cmocka_unit_test(test_log_retired_sign_checks),
	        cmocka_unit_test(test_log_retired_parse_cases),
	        cmocka_unit_test(test_log_retired_receipts),
	        cmocka_unit_test(test_log_retired_heads),
	};
	return cmocka_run_group_tests(tests, keys_setup, keys_teardown);
}
