/*
 * test_consent.c — the consent, its revocation and the offline .sdc file
 * (include/sealdrop/consent.h): the known-answer vectors of docs/FORMAT.md ("Consent",
 * recomputed by tests/vectors/consent.py) over the header of tests/vectors/package-v1.sdx,
 * whose identity record the vector's release really opens; round trips for both scopes;
 * and every refusal — another codename's signature, another package, each tampered
 * member, a modified release, expired, issued in the future, a grantee key that is not
 * the directory's, an unknown agency, another deployment, unknown or missing members,
 * oversized documents and files.
 */
#include "unit.h"

#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <unistd.h>

#include "sealdrop/bytes.h"
#include "sealdrop/consent.h"
#include "sealdrop/envelope.h"
#include "sealdrop/fileio.h"

#define VEC_PACKAGE   "tests/vectors/package-v1.sdx"
#define VEC_CODENAME  "abacus abdomen abdominal abide abiding ability ablaze able"
#define VEC_OTHER     "zoom zoom zoom zoom zoom zoom zoom zoom"
#define VEC_DIGEST    "94bffae3d6ed758fbace7bb0211b48cb6c2178a96f0568b6a7b8b06ec415626a"
#define VEC_S_W       "3a38c617724f6f99df430b3789e5d532eaaf01bdf8d4056aa8a7a2daf2594c25"
#define VEC_ID_KEY_ID "ce9391590d7a7c13"
/* crypto_box_seal(s_w, identity key 40..5f) with the ephemeral secret a0..bf */
#define VEC_RELEASE                                                                                                    \
	"605a725d2a4adfeeb1a29e17edd621c1b7593ee8cdbc44ac6c4ab6e2f805d23c"                                             \
	"15ee7e8d59052b88309dc0fad8f5bd3830ba558e370f8a793ca5941de5933433"                                             \
	"3e411fcf3b0260f889949b5da0414ce2"
#define VEC_RELEASE_HASH "dc0cfad72666faecb0cf1e8e81298acd5c1b265e0072fde3fbc6a3bb68c2179a"
#define VEC_CONSENT_SIG                                                                                                \
	"b870bb5c577cedecdfa79aea77d523814ec79c56d95984dfe19fc537cf7f203b"                                             \
	"0f57d889d21d29adc196d678492a7f74681a0c6c3f7d58e1e47d475a8b6c8101"
#define VEC_CONSENT_ID        "17172036ba3f5973b9962c4a3e2c5b45ea54541dbb678604302cd462c31b2247"
#define VEC_CONSENT_FILE_LEN  641
#define VEC_CONSENT_FILE_HASH "84d0153683bc37f3dc263689a198dcf14a2ab0befd6fe8e29109d007cf99c314"
#define VEC_REVOKE_SIG                                                                                                 \
	"207bb61be7f8c0778cc26c34bd2fc396aeafc8b5df8db3b6db521d5af7cb08ba"                                             \
	"871c32ad232bb686eb0276831914126e35616d4a2c12796587660138f7819a09"
#define VEC_REVOKE_ID        "603d3d0d33fa3ab14c8792a4d6498faf1de5455db29350dcae5a5a345af133d7"
#define VEC_REVOKE_FILE_LEN  472
#define VEC_REVOKE_FILE_HASH "6de73786e43de7032bf998c507c3bed2676b78f9abb41d1793e4af276ec6da80"
#define VEC_SDC_LEN          861
#define VEC_SDC_HASH         "40f2e563a2aba53affc73e410853140762236a6a88b8420b6abe22e6ceb50583"
#define VEC_RSDC_LEN         565
#define VEC_RSDC_HASH        "a9fa5598b327f7948882f53c982bf30d25153fc9cea0485dd2d3429d24ccf2f0"

static const char report[] = "{\n  \"accused_organization\": \"Example Corp\"\n}\n";
static const char identity[] = "{\n  \"name\": \"Hong Gildong\"\n}\n";

typedef struct {
	char dir[64];
	sd_header_t *h;  /* the vector package */
	sd_header_t *h2; /* another package sealed by the same codename */
	sd_codename_keys_t *wb, *other;
	sd_seckey_t *intake, *identity, *agency, *stranger;
	sd_directory_t *d; /* demo: the identity key, agency "police" */
	uint8_t release[SD_CONSENT_RELEASE_BYTES];
} fx_t;

static fx_t fx;

static const sd_date_t issued = {2026, 11, 24}, expires = {2026, 12, 24};

static void assert_hex(const uint8_t *got, size_t len, const char *want)
{
	uint8_t buf[128];

	assert_true(len <= sizeof(buf));
	unit_hex(want, buf, len);
	assert_memory_equal(got, buf, len);
}

static void assert_text_hash(const char *text, size_t want_len, const char *want_hash)
{
	uint8_t h[32];

	assert_int_equal(strlen(text), want_len);
	crypto_generichash(h, 32, (const uint8_t *)text, strlen(text), NULL, 0);
	assert_hex(h, 32, want_hash);
}

static sd_pubkey_t pub(const sd_seckey_t *k)
{
	sd_pubkey_t p;

	sd_seckey_public(k, &p);
	return p;
}

static sd_directory_t *make_dir(const char *deployment, const sd_seckey_t *id_key, bool with_agency)
{
	sd_directory_t *d = calloc(1, sizeof(*d));

	assert_non_null(d);
	snprintf(d->deployment, sizeof(d->deployment), "%s", deployment);
	d->version = 3;
	d->intake = pub(fx.intake);
	d->identity = pub(id_key);
	if (with_agency) {
		d->agencies = calloc(1, sizeof(*d->agencies));
		assert_non_null(d->agencies);
		d->n_agencies = 1;
		snprintf(d->agencies[0].id, sizeof(d->agencies[0].id), "police");
		snprintf(d->agencies[0].name, sizeof(d->agencies[0].name), "경찰청 (Korean National Police Agency)");
		d->agencies[0].key = pub(fx.agency);
	}
	return d;
}

static sd_codename_keys_t *derive(const char *codename)
{
	sd_kdf_limits_t lim = sd_kdf_minimum();
	sd_codename_keys_t *k = NULL;

	assert_int_equal(sd_codename_derive(codename, "demo", &lim, &k), 0);
	return k;
}

static sd_header_t *read_header(const char *path)
{
	sd_header_t *h = NULL;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(sd_header_read(fd, &h), 0);
	close(fd);
	return h;
}

/* A second package from the same whistleblower: same consent key, another digest. */
static void seal_second(void)
{
	char path[128];
	sd_seal_params_t p = {.dir = fx.d,
	                      .wb = fx.wb,
	                      .report = report,
	                      .report_len = sizeof(report) - 1,
	                      .identity = identity,
	                      .identity_len = sizeof(identity) - 1,
	                      .created = {2026, 11, 23}};

	snprintf(path, sizeof(path), "%s/second.sdx", fx.dir);
	assert_int_equal(sd_envelope_seal(&p, path), 0);
	fx.h2 = read_header(path);
}

static int setup(void **state)
{
	if (unit_setup(state) != 0)
		return -1;
	snprintf(fx.dir, sizeof(fx.dir), "/tmp/sd-consent-XXXXXX");
	if (mkdtemp(fx.dir) == NULL)
		return -1;
	fx.intake = unit_key_from_byte(SD_KEY_INTAKE, 0x20);
	fx.identity = unit_key_from_byte(SD_KEY_IDENTITY, 0x40);
	fx.agency = unit_key_from_byte(SD_KEY_AGENCY, 0x70);
	fx.stranger = unit_key_from_byte(SD_KEY_IDENTITY, 0x90);
	fx.d = make_dir("demo", fx.identity, true);
	fx.h = read_header(VEC_PACKAGE);
	fx.wb = derive(VEC_CODENAME);
	fx.other = derive(VEC_OTHER);
	seal_second();
	unit_hex(VEC_RELEASE, fx.release, sizeof(fx.release));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sd_header_free(fx.h);
	sd_header_free(fx.h2);
	sd_codename_keys_free(fx.wb);
	sd_codename_keys_free(fx.other);
	sd_seckey_free(fx.intake);
	sd_seckey_free(fx.identity);
	sd_seckey_free(fx.agency);
	sd_seckey_free(fx.stranger);
	sd_directory_free(fx.d);
	return unit_rm_tree(fx.dir);
}

/* The vector's consent, filled field by field from docs/FORMAT.md. */
static sd_consent_t vector_consent(void)
{
	sd_consent_t c = {.version = 1, .scope = SD_CONSENT_COMMISSION, .issued = issued, .expires = expires};

	snprintf(c.deployment, sizeof(c.deployment), "demo");
	unit_hex(VEC_DIGEST, c.header_digest, 32);
	memcpy(c.grantee_pk, fx.identity->pk, 32);
	unit_hex(VEC_ID_KEY_ID, c.grantee_key_id, 8);
	unit_hex(VEC_RELEASE_HASH, c.release_hash, 32);
	for (int i = 0; i < 32; i++)
		c.nonce[i] = (uint8_t)(0xc0 + i);
	return c;
}

static sd_revocation_t vector_revocation(void)
{
	sd_revocation_t rv = {.version = 1, .date = {2026, 11, 30}};

	snprintf(rv.deployment, sizeof(rv.deployment), "demo");
	unit_hex(VEC_DIGEST, rv.header_digest, 32);
	unit_hex(VEC_CONSENT_ID, rv.consent_id, 32);
	for (int i = 0; i < 32; i++)
		rv.nonce[i] = (uint8_t)(0xe0 + i);
	return rv;
}

static char *signed_vector(sd_consent_t *c)
{
	char *json = NULL;

	*c = vector_consent();
	assert_int_equal(sd_consent_sign(c, fx.wb->consent_sk, &json), 0);
	return json;
}

/* --- vectors ---------------------------------------------------------------------------- */

static void test_vector_consent(void **state)
{
	uint8_t id[32], s_w[32], unwrapped[32];
	sd_consent_t c, p;
	char *json;

	(void)state;
	assert_hex(fx.h->digest, 32, VEC_DIGEST);
	json = signed_vector(&c);
	assert_hex(c.sig, 64, VEC_CONSENT_SIG);
	assert_text_hash(json, VEC_CONSENT_FILE_LEN, VEC_CONSENT_FILE_HASH);
	assert_int_equal(sd_consent_id(&c, id), 0);
	assert_hex(id, 32, VEC_CONSENT_ID);
	crypto_generichash(id, 32, fx.release, sizeof(fx.release), NULL, 0);
	assert_hex(id, 32, VEC_RELEASE_HASH);
	/* and back: parse, verify against the vector package, the server's rules */
	assert_int_equal(sd_consent_parse((const uint8_t *)json, strlen(json), &p), 0);
	assert_memory_equal(&p, &c, sizeof(c));
	assert_int_equal(sd_consent_verify(&p, fx.h), 0);
	assert_int_equal(sd_consent_check(&p, fx.d, fx.release, sizeof(fx.release), issued), 0);
	/* the release carries exactly the share the header wraps */
	assert_int_equal(sd_consent_release_open(&p, fx.release, sizeof(fx.release), fx.identity, s_w), 0);
	assert_hex(s_w, 32, VEC_S_W);
	assert_int_equal(sd_consent_unwrap_share(fx.h, fx.wb, unwrapped), 0);
	assert_memory_equal(s_w, unwrapped, 32);
	free(json);
}

static void test_vector_revocation(void **state)
{
	sd_revocation_t rv = vector_revocation(), p;
	uint8_t id[32];
	char *json = NULL;

	(void)state;
	assert_int_equal(sd_revocation_sign(&rv, fx.wb->consent_sk, &json), 0);
	assert_hex(rv.sig, 64, VEC_REVOKE_SIG);
	assert_text_hash(json, VEC_REVOKE_FILE_LEN, VEC_REVOKE_FILE_HASH);
	assert_int_equal(sd_revocation_id(&rv, id), 0);
	assert_hex(id, 32, VEC_REVOKE_ID);
	assert_int_equal(sd_revocation_parse((const uint8_t *)json, strlen(json), &p), 0);
	assert_memory_equal(&p, &rv, sizeof(rv));
	assert_int_equal(sd_revocation_verify(&p, fx.h), 0);
	assert_int_equal(sd_revocation_check(&p, fx.d, rv.date), 0);
	free(json);
}

static void test_vector_files(void **state)
{
	sd_revocation_t rv = vector_revocation();
	sd_consent_file_t f;
	sd_consent_t c;
	char *json = signed_vector(&c), *sdc = NULL, *rsdc = NULL, *rjson = NULL;

	(void)state;
	assert_int_equal(sd_consent_file_encode(&c, fx.release, &sdc), 0);
	assert_text_hash(sdc, VEC_SDC_LEN, VEC_SDC_HASH);
	assert_int_equal(sd_consent_file_parse((const uint8_t *)sdc, strlen(sdc), &f), 0);
	assert_int_equal(f.kind, SD_CONSENT_FILE_CONSENT);
	assert_memory_equal(&f.consent, &c, sizeof(c));
	assert_memory_equal(f.release, fx.release, sizeof(fx.release));
	assert_int_equal(sd_revocation_sign(&rv, fx.wb->consent_sk, &rjson), 0);
	assert_int_equal(sd_revocation_file_encode(&rv, &rsdc), 0);
	assert_text_hash(rsdc, VEC_RSDC_LEN, VEC_RSDC_HASH);
	assert_int_equal(sd_consent_file_parse((const uint8_t *)rsdc, strlen(rsdc), &f), 0);
	assert_int_equal(f.kind, SD_CONSENT_FILE_REVOCATION);
	assert_memory_equal(&f.revocation, &rv, sizeof(rv));
	free(json);
	free(sdc);
	free(rsdc);
	free(rjson);
}

/* With the release (and s_c from the identity key), the vector package's identity record
 * decrypts, exactly as docs/FORMAT.md's blob rules say; without s_w it does not. */
static void test_vector_release_opens_identity(void **state)
{
	static const char domain[] = "sealdrop identity v1";
	uint8_t s_c[32], s_w[32], key[32], ad[37], blob[4136], pt[4096];
	unsigned long long n = 0;
	crypto_generichash_state st;
	sd_consent_t c = vector_consent();
	int fd;

	(void)state;
	assert_int_equal(sd_consent_release_open(&c, fx.release, sizeof(fx.release), fx.identity, s_w), 0);
	assert_int_equal(crypto_box_seal_open(s_c, fx.h->sealed_sc, 80, fx.identity->pk, fx.identity->sk), 0);
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)domain, sizeof(domain) - 1);
	crypto_generichash_update(&st, s_c, 32);
	crypto_generichash_update(&st, s_w, 32);
	crypto_generichash_final(&st, key, 32);
	memcpy(ad, fx.h->binding, 32);
	ad[32] = SD_BLOB_IDENTITY;
	sd_store_le32(ad + 33, 1);
	fd = open(VEC_PACKAGE, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, blob, sizeof(blob), (off_t)fx.h->blobs[1].offset), (ssize_t)sizeof(blob));
	close(fd);
	assert_int_equal(crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &n, NULL, blob + 24, sizeof(blob) - 24, ad,
	                                                            sizeof(ad), blob, key),
	                 0);
	assert_non_null(memmem(pt, (size_t)n, "850314-2123456", 14));
	key[0] ^= 1;
	assert_int_not_equal(crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &n, NULL, blob + 24, sizeof(blob) - 24, ad,
	                                                                sizeof(ad), blob, key),
	                     0);
}

/* --- grant round trips -------------------------------------------------------------------- */

static void grant_ok(const char *scope, uint32_t days, sd_consent_t *c, char **json, uint8_t release[80])
{
	sd_consent_params_t p = {.wb = fx.wb, .h = fx.h, .dir = fx.d, .scope = scope, .issued = issued, .days = days};

	assert_int_equal(sd_consent_grant(&p, c, json, release), 0);
}

static void test_grant_commission(void **state)
{
	uint8_t release[80], s_w[32], want[32];
	sd_consent_t c, p;
	char *json = NULL;

	(void)state;
	grant_ok("commission", 0, &c, &json, release);
	assert_int_equal(sd_date_to_days(c.expires) - sd_date_to_days(c.issued), SD_CONSENT_DEFAULT_DAYS);
	assert_int_equal(sd_consent_parse((const uint8_t *)json, strlen(json), &p), 0);
	assert_memory_equal(&p, &c, sizeof(c));
	assert_int_equal(sd_consent_verify(&p, fx.h), 0);
	assert_int_equal(sd_consent_check(&p, fx.d, release, sizeof(release), issued), 0);
	assert_int_equal(sd_consent_check(&p, fx.d, release, sizeof(release), p.expires), 0);
	assert_true(sd_consent_is_live(&p, p.expires));
	assert_int_equal(sd_consent_release_open(&p, release, sizeof(release), fx.identity, s_w), 0);
	assert_int_equal(sd_consent_unwrap_share(fx.h, fx.wb, want), 0);
	assert_memory_equal(s_w, want, 32);
	/* the agency key is not the grantee */
	assert_int_equal(sd_consent_release_open(&p, release, sizeof(release), fx.agency, s_w), SD_ERR_WRONG_KEY);
	free(json);
}

static void test_grant_agency(void **state)
{
	uint8_t release[80], s_w[32], want[32];
	sd_consent_t c, p;
	char *json = NULL;

	(void)state;
	grant_ok("agency:police", 365, &c, &json, release);
	assert_int_equal(c.scope, SD_CONSENT_AGENCY);
	assert_string_equal(c.agency, "police");
	assert_memory_equal(c.grantee_pk, fx.agency->pk, 32);
	assert_non_null(strstr(json, "\"scope\": \"agency:police\""));
	assert_int_equal(sd_consent_parse((const uint8_t *)json, strlen(json), &p), 0);
	assert_int_equal(sd_consent_verify(&p, fx.h), 0);
	assert_int_equal(sd_consent_check(&p, fx.d, release, sizeof(release), issued), 0);
	assert_int_equal(sd_consent_release_open(&p, release, sizeof(release), fx.agency, s_w), 0);
	assert_int_equal(sd_consent_unwrap_share(fx.h, fx.wb, want), 0);
	assert_memory_equal(s_w, want, 32);
	/* the Commission's identity key cannot open an agency's release */
	assert_int_equal(sd_consent_release_open(&p, release, sizeof(release), fx.identity, s_w), SD_ERR_WRONG_KEY);
	assert_int_not_equal(crypto_box_seal_open(s_w, release, 80, fx.identity->pk, fx.identity->sk), 0);
	free(json);
}

static void test_grant_fresh_each_time(void **state)
{
	uint8_t r1[80], r2[80], id1[32], id2[32];
	sd_consent_t a, b;
	char *j1 = NULL, *j2 = NULL;

	(void)state;
	grant_ok("commission", 30, &a, &j1, r1);
	grant_ok("commission", 30, &b, &j2, r2);
	assert_memory_not_equal(a.nonce, b.nonce, 32);
	assert_memory_not_equal(r1, r2, 80);
	assert_int_equal(sd_consent_id(&a, id1), 0);
	assert_int_equal(sd_consent_id(&b, id2), 0);
	assert_memory_not_equal(id1, id2, 32);
	free(j1);
	free(j2);
}

static void test_grant_refusals(void **state)
{
	sd_directory_t *other = make_dir("other", fx.identity, true);
	sd_consent_params_t p = {.wb = fx.wb, .h = fx.h, .dir = fx.d, .scope = "commission", .issued = issued};
	uint8_t release[80];
	char *json = NULL;

	(void)state;
	p.scope = "agency:fss";
	assert_int_equal(sd_consent_grant(&p, NULL, &json, release), SD_ERR_REFUSED);
	assert_non_null(strstr(sd_error_detail(), "'fss' is not in the directory"));
	p.scope = "agency:";
	assert_int_equal(sd_consent_grant(&p, NULL, &json, release), SD_ERR_USAGE);
	p.scope = "Commission";
	assert_int_equal(sd_consent_grant(&p, NULL, &json, release), SD_ERR_USAGE);
	p.scope = "commission";
	p.days = SD_CONSENT_MAX_DAYS + 1;
	assert_int_equal(sd_consent_grant(&p, NULL, &json, release), SD_ERR_USAGE);
	p.days = 0;
	p.wb = fx.other;
	assert_int_equal(sd_consent_grant(&p, NULL, &json, release), SD_ERR_WRONG_KEY);
	p.wb = fx.wb;
	p.dir = other;
	assert_int_equal(sd_consent_grant(&p, NULL, &json, release), SD_ERR_DEPLOYMENT);
	assert_null(json);
	for (size_t i = 0; i < sizeof(release); i++)
		assert_int_equal(release[i], 0);
	sd_directory_free(other);
}

/* --- verification refusals ---------------------------------------------------------------- */

static void test_verify_wrong_signer(void **state)
{
	sd_consent_t c = vector_consent(), p;
	char *json = NULL;

	(void)state;
	/* another codename signs a consent naming the vector package */
	assert_int_equal(sd_consent_sign(&c, fx.other->consent_sk, &json), 0);
	assert_int_equal(sd_consent_parse((const uint8_t *)json, strlen(json), &p), 0);
	assert_int_equal(sd_consent_verify(&p, fx.h), SD_ERR_VERIFY);
	assert_non_null(strstr(sd_error_detail(), "does not verify"));
	free(json);
}

static void test_verify_other_package(void **state)
{
	sd_consent_t c;
	char *json = signed_vector(&c);

	(void)state;
	/* the same whistleblower's other package: same consent key, another digest */
	assert_memory_equal(fx.h2->consent_pk, fx.h->consent_pk, 32);
	assert_int_equal(sd_consent_verify(&c, fx.h2), SD_ERR_VERIFY);
	assert_non_null(strstr(sd_error_detail(), "another package"));
	free(json);
}

/* The document with body.member replaced (value taken). */
static char *tamper(const char *json, const char *body, const char *member, json_t *value)
{
	json_t *doc = json_loads(json, 0, NULL);
	char *out;

	assert_non_null(doc);
	assert_int_equal(json_object_set_new(json_object_get(doc, body), member, value), 0);
	out = json_dumps(doc, JSON_INDENT(2));
	json_decref(doc);
	assert_non_null(out);
	return out;
}

static void test_verify_tampered_members(void **state)
{
	static const struct {
		const char *member, *value;
		int err;
	} cases[] = {
	        {"deployment", "demo2", SD_ERR_DEPLOYMENT},
	        {"header_digest", "0000000000000000000000000000000000000000000000000000000000000000", SD_ERR_VERIFY},
	        {"scope", "agency:police", SD_ERR_FORMAT}, /* the key id no longer fits the scope's kind */
	        {"grantee_key", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", SD_ERR_FORMAT},
	        {"grantee_key_id", "0000000000000000", SD_ERR_FORMAT},
	        {"release_hash", "00000000000000000000000000000000000000000000000000000000000000ff", SD_ERR_VERIFY},
	        {"issued", "2026-11-23", SD_ERR_VERIFY},
	        {"expires", "2027-11-24", SD_ERR_VERIFY},
	        {"nonce", "00000000000000000000000000000000000000000000000000000000000000ff", SD_ERR_VERIFY},
	};
	sd_consent_t c, p;
	char *json = signed_vector(&c);

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *t = tamper(json, "consent", cases[i].member, json_string(cases[i].value));
		int r = sd_consent_parse((const uint8_t *)t, strlen(t), &p);

		if (r == 0)
			r = sd_consent_verify(&p, fx.h);
		if (r != cases[i].err)
			fail_msg("tampered %s: %d, expected %d (%s)", cases[i].member, r, cases[i].err,
			         sd_error_detail());
		free(t);
	}
	free(json);
}

/* --- the server's stateless rules ----------------------------------------------------------- */

static void test_check_refusals(void **state)
{
	sd_directory_t *rotated = make_dir("demo", fx.stranger, false), *other = make_dir("other", fx.identity, true);
	uint8_t release[80];
	sd_consent_t c, a;
	char *json = signed_vector(&c), *ja = NULL;

	(void)state;
	memcpy(release, fx.release, sizeof(release));
	release[40] ^= 1;
	assert_int_equal(sd_consent_check(&c, fx.d, release, sizeof(release), issued), SD_ERR_VERIFY);
	assert_int_equal(sd_consent_check(&c, fx.d, fx.release, sizeof(fx.release) - 1, issued), SD_ERR_VERIFY);
	assert_int_equal(sd_consent_check(&c, fx.d, NULL, 0, issued), SD_ERR_VERIFY);
	assert_int_equal(sd_consent_check(&c, fx.d, fx.release, 80, sd_date_add_days(expires, 1)), SD_ERR_EXPIRED);
	assert_false(sd_consent_is_live(&c, sd_date_add_days(expires, 1)));
	assert_int_equal(sd_consent_check(&c, fx.d, fx.release, 80, sd_date_add_days(issued, -1)), SD_ERR_INVALID);
	assert_non_null(strstr(sd_error_detail(), "after today"));
	/* a grantee key that is not (or no longer) the directory's identity key */
	assert_int_equal(sd_consent_check(&c, rotated, fx.release, 80, issued), SD_ERR_WRONG_KEY);
	assert_int_equal(sd_consent_check(&c, other, fx.release, 80, issued), SD_ERR_DEPLOYMENT);
	/* an agency consent checked against a directory that does not list the agency */
	grant_ok("agency:police", 30, &a, &ja, release);
	assert_int_equal(sd_consent_check(&a, rotated, release, 80, issued), SD_ERR_REFUSED);
	sd_directory_free(rotated);
	sd_directory_free(other);
	free(json);
	free(ja);
}

/* --- parse refusals --------------------------------------------------------------------------- */

static void test_parse_refusals(void **state)
{
	static const struct {
		const char *member, *value; /* NULL value: delete the member */
		int err;
		const char *detail;
	} cases[] = {
	        {"extra", "x", SD_ERR_FORMAT, "unknown field consent.extra"},
	        {"nonce", NULL, SD_ERR_FORMAT, "missing field consent.nonce"},
	        {"scope", "agency:", SD_ERR_FORMAT, "scope must be"},
	        {"scope", "agency:Police", SD_ERR_FORMAT, "scope must be"},
	        {"scope", "commission ", SD_ERR_FORMAT, "scope must be"},
	        {"header_digest", "94BFFAE3D6ED758FBACE7BB0211B48CB6C2178A96F0568B6A7B8B06EC415626A", SD_ERR_FORMAT,
	         "lower-case"},
	        {"grantee_key", "eaYx7t4b+cmPEgMs3q3Q56B5OY/HhriMyEbsia+FpRo", SD_ERR_FORMAT, "base64 of 32"},
	        {"expires", "2026-11-24", SD_ERR_FORMAT, "1 to 365 days"},
	        {"expires", "2027-11-25", SD_ERR_FORMAT, "not 366"},
	        {"expires", "2026-02-30", SD_ERR_FORMAT, "calendar date"},
	        {"nonce", "c0c1", SD_ERR_FORMAT, "64 lower-case"},
	};
	sd_consent_t c, p;
	char *json = signed_vector(&c);

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *doc = json_loads(json, 0, NULL);
		char *t;
		int r;

		if (cases[i].value != NULL)
			json_object_set_new(json_object_get(doc, "consent"), cases[i].member,
			                    json_string(cases[i].value));
		else
			json_object_del(json_object_get(doc, "consent"), cases[i].member);
		t = json_dumps(doc, 0);
		json_decref(doc);
		r = sd_consent_parse((const uint8_t *)t, strlen(t), &p);
		if (r != cases[i].err || strstr(sd_error_detail(), cases[i].detail) == NULL)
			fail_msg("case %zu (%s): %d '%s'", i, cases[i].member, r, sd_error_detail());
		assert_int_equal(p.version, 0); /* zeroed on failure */
		free(t);
	}
	free(json);
}

static void test_parse_envelope_refusals(void **state)
{
	sd_consent_t c, p;
	char *json = signed_vector(&c), *t, *big;
	json_t *doc;

	(void)state;
	/* a key id in the signature is not part of this format */
	t = tamper(json, "signature", "key_id", json_string("ce9391590d7a7c13"));
	assert_int_equal(sd_consent_parse((const uint8_t *)t, strlen(t), &p), SD_ERR_FORMAT);
	assert_non_null(strstr(sd_error_detail(), "unknown field signature.key_id"));
	free(t);
	t = tamper(json, "consent", "version", json_integer(2));
	assert_int_equal(sd_consent_parse((const uint8_t *)t, strlen(t), &p), SD_ERR_VERSION);
	free(t);
	doc = json_loads(json, 0, NULL);
	json_object_set_new(doc, "release", json_string("x"));
	t = json_dumps(doc, 0);
	json_decref(doc);
	assert_int_equal(sd_consent_parse((const uint8_t *)t, strlen(t), &p), SD_ERR_FORMAT);
	free(t);
	assert_int_equal(sd_consent_parse((const uint8_t *)"[]", 2, &p), SD_ERR_FORMAT);
	assert_int_equal(sd_consent_parse((const uint8_t *)"{\"consent\":{},\"consent\":{}}", 27, &p), SD_ERR_FORMAT);
	/* the signature of a consent is not a revocation's, and the other way round */
	assert_int_equal(sd_revocation_parse((const uint8_t *)json, strlen(json), &(sd_revocation_t){0}),
	                 SD_ERR_FORMAT);
	big = calloc(1, SD_CONSENT_MAX_BYTES + 2);
	assert_non_null(big);
	memset(big, ' ', SD_CONSENT_MAX_BYTES + 1);
	memcpy(big, json, strlen(json));
	assert_int_equal(sd_consent_parse((const uint8_t *)big, SD_CONSENT_MAX_BYTES + 1, &p), SD_ERR_TOOBIG);
	assert_int_equal(sd_consent_parse((const uint8_t *)big, SD_CONSENT_MAX_BYTES, &p), 0);
	free(big);
	free(json);
}

/* --- revocation ---------------------------------------------------------------------------- */

static void test_revocation_roundtrip_all(void **state)
{
	sd_revocation_t rv, p;
	char *json = NULL;

	(void)state;
	assert_int_equal(sd_revocation_make(fx.wb, fx.h, NULL, issued, &rv, &json), 0);
	assert_true(rv.all);
	assert_non_null(strstr(json, "\"consent\": \"all\""));
	assert_int_equal(sd_revocation_parse((const uint8_t *)json, strlen(json), &p), 0);
	assert_memory_equal(&p, &rv, sizeof(rv));
	assert_int_equal(sd_revocation_verify(&p, fx.h), 0);
	/* never too old: a revocation relayed late still counts */
	assert_int_equal(sd_revocation_check(&p, fx.d, sd_date_add_days(issued, 3650)), 0);
	assert_int_equal(sd_revocation_check(&p, fx.d, sd_date_add_days(issued, -1)), SD_ERR_INVALID);
	free(json);
}

static void test_revocation_refusals(void **state)
{
	sd_directory_t *other = make_dir("other", fx.identity, false);
	sd_revocation_t rv = vector_revocation(), p;
	uint8_t id[32];
	char *json = NULL, *t;

	(void)state;
	unit_hex(VEC_CONSENT_ID, id, 32);
	assert_int_equal(sd_revocation_make(fx.other, fx.h, id, issued, &p, &json), SD_ERR_WRONG_KEY);
	assert_int_equal(sd_revocation_sign(&rv, fx.other->consent_sk, &json), 0);
	assert_int_equal(sd_revocation_parse((const uint8_t *)json, strlen(json), &p), 0);
	assert_int_equal(sd_revocation_verify(&p, fx.h), SD_ERR_VERIFY);
	free(json);
	assert_int_equal(sd_revocation_sign(&rv, fx.wb->consent_sk, &json), 0);
	assert_int_equal(sd_revocation_parse((const uint8_t *)json, strlen(json), &p), 0);
	assert_int_equal(sd_revocation_verify(&p, fx.h2), SD_ERR_VERIFY);
	assert_int_equal(sd_revocation_check(&p, other, rv.date), SD_ERR_DEPLOYMENT);
	t = tamper(json, "revocation", "consent", json_string("all"));
	assert_int_equal(sd_revocation_parse((const uint8_t *)t, strlen(t), &p), 0);
	assert_int_equal(sd_revocation_verify(&p, fx.h), SD_ERR_VERIFY);
	free(t);
	t = tamper(json, "revocation", "consent", json_string("ALL"));
	assert_int_equal(sd_revocation_parse((const uint8_t *)t, strlen(t), &p), SD_ERR_FORMAT);
	free(t);
	t = tamper(json, "revocation", "date", json_string("2026-12-01"));
	assert_int_equal(sd_revocation_parse((const uint8_t *)t, strlen(t), &p), 0);
	assert_int_equal(sd_revocation_verify(&p, fx.h), SD_ERR_VERIFY);
	free(t);
	t = tamper(json, "revocation", "reason", json_string("x"));
	assert_int_equal(sd_revocation_parse((const uint8_t *)t, strlen(t), &p), SD_ERR_FORMAT);
	free(t);
	sd_directory_free(other);
	free(json);
}

/* --- the offline file ------------------------------------------------------------------------ */

static int file_parse_text(const char *t)
{
	sd_consent_file_t f;

	return sd_consent_file_parse((const uint8_t *)t, strlen(t), &f);
}

/* The vector .sdc with top-level member `name` set to value (NULL: deleted). */
static int file_with(const char *sdc, const char *name, json_t *value)
{
	json_t *doc = json_loads(sdc, 0, NULL);
	char *t;
	int r;

	if (value != NULL)
		json_object_set_new(doc, name, value);
	else
		json_object_del(doc, name);
	t = json_dumps(doc, 0);
	json_decref(doc);
	r = file_parse_text(t);
	free(t);
	return r;
}

static void test_file_refusals(void **state)
{
	uint8_t release[80];
	sd_consent_file_t f;
	sd_consent_t c;
	char *json = signed_vector(&c), *sdc = NULL, *big, b64[120];

	(void)state;
	assert_int_equal(sd_consent_file_encode(&c, fx.release, &sdc), 0);
	assert_int_equal(file_with(sdc, "type", json_string("sealdrop-package")), SD_ERR_FORMAT);
	assert_int_equal(file_with(sdc, "version", json_integer(2)), SD_ERR_VERSION);
	assert_int_equal(file_with(sdc, "note", json_string("x")), SD_ERR_FORMAT);
	assert_int_equal(file_with(sdc, "release", NULL), SD_ERR_FORMAT);
	assert_int_equal(file_with(sdc, "revocation", json_object()), SD_ERR_FORMAT);
	assert_int_equal(file_with(sdc, "type", json_string("sealdrop-revocation")), SD_ERR_FORMAT);
	memcpy(release, fx.release, 80);
	release[0] ^= 0x80;
	sd_base64_encode(release, 80, b64);
	/* an altered release parses (the server must record it as refused), and
	 * sd_consent_check refuses it */
	assert_int_equal(file_with(sdc, "release", json_string(b64)), 0);
	assert_int_equal(sd_consent_check(&c, fx.d, release, sizeof(release), issued), SD_ERR_VERIFY);
	assert_int_equal(file_with(sdc, "consent", json_string("{}")), SD_ERR_FORMAT);
	assert_int_equal(sd_consent_file_encode(&c, release, &big), SD_ERR_VERIFY);
	/* size: the limit holds before parsing */
	big = calloc(1, SD_CONSENT_FILE_MAX_BYTES + 2);
	assert_non_null(big);
	memset(big, ' ', SD_CONSENT_FILE_MAX_BYTES + 1);
	memcpy(big, sdc, strlen(sdc));
	assert_int_equal(sd_consent_file_parse((const uint8_t *)big, SD_CONSENT_FILE_MAX_BYTES + 1, &f), SD_ERR_TOOBIG);
	assert_int_equal(f.kind, 0);
	assert_int_equal(sd_consent_file_parse((const uint8_t *)big, SD_CONSENT_FILE_MAX_BYTES, &f), 0);
	free(big);
	free(sdc);
	free(json);
}

/* --- the explanations --------------------------------------------------------------------------- */

static void test_explain(void **state)
{
	sd_consent_params_t p = {.wb = fx.wb, .h = fx.h, .dir = fx.d, .scope = "commission", .issued = issued};
	sd_directory_t *bare = make_dir("demo", fx.identity, false);
	sd_revocation_t rv = vector_revocation();
	sd_consent_t c;
	char *text = NULL;

	(void)state;
	assert_int_equal(sd_consent_prepare(&p, &c), 0);
	assert_int_equal(sd_consent_explain(&c, fx.d, &text), 0);
	assert_true(sd_utf8_is_valid(text, strlen(text)));
	assert_non_null(strstr(text, "시행령 제7조제2항"));
	assert_non_null(strstr(text, "Art. 7(2)"));
	assert_non_null(strstr(text, "2026-12-24"));
	assert_non_null(strstr(text, "94bffae3d6ed758f"));
	assert_non_null(strstr(text, "custodians"));
	assert_non_null(strstr(text, "sealdrop consent revoke"));
	assert_non_null(strstr(text, "cannot pass your identity to any agency"));
	free(text);
	p.scope = "agency:police";
	p.days = 7;
	assert_int_equal(sd_consent_prepare(&p, &c), 0);
	assert_int_equal(sd_consent_explain(&c, fx.d, &text), 0);
	assert_non_null(strstr(text, "경찰청 (Korean National Police Agency)"));
	assert_non_null(strstr(text, "not even the Commission"));
	assert_non_null(strstr(text, "2026-12-01"));
	free(text);
	assert_int_equal(sd_consent_explain(&c, bare, &text), SD_ERR_REFUSED);
	assert_null(text);
	assert_int_equal(sd_revocation_explain(&rv, &text), 0);
	assert_non_null(strstr(text, "17172036ba3f5973"));
	assert_non_null(strstr(text, "cannot be taken back"));
	free(text);
	rv.all = true;
	assert_int_equal(sd_revocation_explain(&rv, &text), 0);
	assert_non_null(strstr(text, "every consent on this report"));
	free(text);
	sd_directory_free(bare);
}

static void test_unwrap_share(void **state)
{
	sd_codename_keys_t *k = sodium_malloc(sizeof(*k));
	uint8_t s_w[32], want[32];

	(void)state;
	unit_hex(VEC_S_W, want, 32);
	assert_int_equal(sd_consent_unwrap_share(fx.h, fx.wb, s_w), 0);
	assert_memory_equal(s_w, want, 32);
	assert_int_equal(sd_consent_unwrap_share(fx.h, fx.other, s_w), SD_ERR_WRONG_KEY);
	/* the right consent key but another share-wrap key: the AEAD refuses */
	assert_non_null(k);
	memcpy(k, fx.wb, sizeof(*k));
	k->share_wrap[0] ^= 1;
	assert_int_equal(sd_consent_unwrap_share(fx.h, k, s_w), SD_ERR_VERIFY);
	for (int i = 0; i < 32; i++)
		assert_int_equal(s_w[i], 0);
	sodium_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_vector_consent),
	        cmocka_unit_test(test_vector_revocation),
	        cmocka_unit_test(test_vector_files),
	        cmocka_unit_test(test_vector_release_opens_identity),
	        cmocka_unit_test(test_grant_commission),
	        cmocka_unit_test(test_grant_agency),
	        cmocka_unit_test(test_grant_fresh_each_time),
	        cmocka_unit_test(test_grant_refusals),
	        cmocka_unit_test(test_verify_wrong_signer),
	        cmocka_unit_test(test_verify_other_package),
	        cmocka_unit_test(test_verify_tampered_members),
	        cmocka_unit_test(test_check_refusals),
	        cmocka_unit_test(test_parse_refusals),
	        cmocka_unit_test(test_parse_envelope_refusals),
	        cmocka_unit_test(test_revocation_roundtrip_all),
	        cmocka_unit_test(test_revocation_refusals),
	        cmocka_unit_test(test_file_refusals),
	        cmocka_unit_test(test_explain),
	        cmocka_unit_test(test_unwrap_share),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
