/*
 * test_export.c — the referral bundle and the export receipt: a bundle written from a
 * sealed package and opened with the agency key gives back the report and evidence; every
 * truncation is refused; every flipped byte is caught by the structure, the chunk
 * hashes, the receipt's signature or the digest it signs; the receipt round-trips,
 * refuses another log key, unknown members and malformed fields; another agency's key
 * does not open the bundle; and nothing of the identity is in it. An identity bundle (flag
 * bit 0), made under the whistleblower's consent for the agency, opens to exactly the
 * identity sealed, only with that agency's key, and is refused whole when any byte or
 * section is wrong; the writer refuses a consent for another agency or a bad release.
 */
#include "unit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <jansson.h>
#include <sodium.h>
#include <unistd.h>

#include "sealdrop/bytes.h"
#include "sealdrop/consent.h"
#include "sealdrop/envelope.h"
#include "sealdrop/export.h"
#include "sealdrop/fileio.h"
#include "sealdrop/json.h"
#include "sealdrop/record.h"

static const char report[] = "{\n  \"accused_organization\": \"Example Corp\"\n}\n";
static const char identity_in[] = "{\"name\": \"Hong Gildong\", \"rrn\": \"850314-2748316\", "
                                  "\"address\": \"Seoul\", \"email\": \"hong@example.kr\"}";
static const char directory_json[] = "{\"signed\": {\"deployment\": \"demo\"}}\n";
static const uint8_t evidence[] = "minutes of the committee";

typedef struct {
	char dir[64], pkg[128], sdr[128], out[128], sdr_id[128];
	sd_seckey_t *intake, *identity, *agency, *other, *log, *other_log;
	sd_agency_t ag, agencies[2];
	sd_directory_t d;
	sd_codename_keys_t *wb;
	sd_header_t *h;
	uint8_t *bundle;
	size_t bundle_len;
	uint8_t digest[SD_HASH_BYTES];
	char *id_text; /* the identity, canonical, as sealed */
	size_t id_text_len;
	char *consent; /* the agency consent, and its release */
	uint8_t release[SD_CONSENT_RELEASE_BYTES];
	uint8_t *bundle_id; /* the identity bundle */
	size_t bundle_id_len;
	uint8_t digest_id[SD_HASH_BYTES];
} fx_t;

static fx_t fx;

static sd_pubkey_t pub(const sd_seckey_t *k)
{
	sd_pubkey_t p;
	sd_seckey_public(k, &p);
	return p;
}

static void make_package(void)
{
	sd_directory_t d = {.version = 2};
	sd_codename_keys_t *wb = fx.wb = sodium_malloc(sizeof(*wb));
	char ev_path[160];
	sd_evidence_src_t ev = {.path = ev_path, .name = "memo.txt"};
	sd_seal_params_t p = {.dir = &d,
	                      .wb = wb,
	                      .report = report,
	                      .report_len = sizeof(report) - 1,
	                      .identity = fx.id_text,
	                      .identity_len = fx.id_text_len,
	                      .evidence = &ev,
	                      .n_evidence = 1,
	                      .created = {2026, 11, 22}};
	int fd;

	assert_non_null(wb);
	randombytes_buf(wb->locator, sizeof(wb->locator));
	crypto_sign_keypair(wb->consent_pk, wb->consent_sk);
	crypto_box_keypair(wb->notice_pk, wb->notice_sk);
	randombytes_buf(wb->share_wrap, sizeof(wb->share_wrap));
	snprintf(d.deployment, sizeof(d.deployment), "demo");
	d.intake = pub(fx.intake);
	d.identity = pub(fx.identity);
	snprintf(ev_path, sizeof(ev_path), "%s/memo.txt", fx.dir);
	assert_int_equal(sd_file_write(ev_path, evidence, sizeof(evidence), 0600, SD_AFILE_REPLACE), 0);
	assert_int_equal(sd_envelope_seal(&p, fx.pkg), 0);
	fd = open(fx.pkg, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(sd_header_read(fd, &fx.h), 0);
	close(fd);
}

static sd_export_receipt_t base_receipt(void)
{
	sd_export_receipt_t er = {.version = SD_EXPORT_RECEIPT_VERSION, .date = {2026, 11, 23}, .leaf_index = 7};
	snprintf(er.deployment, sizeof(er.deployment), "demo");
	snprintf(er.case_number, sizeof(er.case_number), "2026-000001");
	snprintf(er.agency, sizeof(er.agency), "police");
	memcpy(er.agency_key_id, fx.ag.key.id, SD_KEY_ID_BYTES);
	memcpy(er.header_digest, fx.h->digest, SD_HASH_BYTES);
	memcpy(er.bundle_digest, fx.digest, SD_HASH_BYTES);
	return er;
}

/* Writes a bundle (with the identity when id is not NULL) to path; its digest into digest. */
static int write_bundle(const char *path, const sd_bundle_identity_t *id, uint8_t digest[SD_HASH_BYTES])
{
	sd_bundle_params_t p = {.h = fx.h,
	                        .intake = fx.intake,
	                        .case_number = "2026-000001",
	                        .agency = &fx.ag,
	                        .directory = (const uint8_t *)directory_json,
	                        .directory_len = sizeof(directory_json) - 1,
	                        .identity = id};
	sd_export_receipt_t er;
	sd_afile_t *af = NULL;
	char *json = NULL;
	int r;

	p.pkg_fd = open(fx.pkg, O_RDONLY);
	assert_true(p.pkg_fd >= 0);
	assert_int_equal(sd_afile_open(&af, path, 0600), 0);
	if ((r = sd_bundle_write(&p, af, digest)) == 0) {
		er = base_receipt();
		memcpy(er.bundle_digest, digest, SD_HASH_BYTES);
		assert_int_equal(sd_export_receipt_sign(&er, fx.log, &json), 0);
		assert_int_equal(sd_bundle_write_receipt(af, json, strlen(json)), 0);
		assert_int_equal(sd_afile_commit(af, SD_AFILE_NOCLOBBER), 0);
	} else
		sd_afile_abort(af);
	close(p.pkg_fd);
	free(json);
	return r;
}

/* The whistleblower's consent for agency "police", and the identity bundle made with it. */
static void make_identity_bundle(void)
{
	sd_consent_params_t cp = {
	        .wb = fx.wb, .h = fx.h, .dir = &fx.d, .scope = "agency:police", .issued = {2026, 11, 23}, .days = 30};
	sd_bundle_identity_t id;

	assert_int_equal(sd_consent_grant(&cp, NULL, &fx.consent, fx.release), 0);
	id = (sd_bundle_identity_t){fx.identity, (const uint8_t *)fx.consent, strlen(fx.consent), fx.release};
	assert_int_equal(write_bundle(fx.sdr_id, &id, fx.digest_id), 0);
	assert_int_equal(sd_file_read(fx.sdr_id, 1u << 24, &fx.bundle_id, &fx.bundle_id_len), 0);
	/* SD_EXPORT_SEED_ID=FILE keeps a copy for the fuzz corpus (tests/fuzz/corpus/export). */
	if (getenv("SD_EXPORT_SEED_ID") != NULL)
		assert_int_equal(sd_file_write(getenv("SD_EXPORT_SEED_ID"), fx.bundle_id, fx.bundle_id_len, 0644,
		                               SD_AFILE_REPLACE),
		                 0);
}

static void make_bundle(void)
{
	sd_bundle_params_t p = {.h = fx.h,
	                        .intake = fx.intake,
	                        .case_number = "2026-000001",
	                        .agency = &fx.ag,
	                        .directory = (const uint8_t *)directory_json,
	                        .directory_len = sizeof(directory_json) - 1};
	sd_export_receipt_t er;
	sd_afile_t *af = NULL;
	char *json = NULL;

	p.pkg_fd = open(fx.pkg, O_RDONLY);
	assert_true(p.pkg_fd >= 0);
	assert_int_equal(sd_afile_open(&af, fx.sdr, 0600), 0);
	assert_int_equal(sd_bundle_write(&p, af, fx.digest), 0);
	er = base_receipt();
	assert_int_equal(sd_export_receipt_sign(&er, fx.log, &json), 0);
	assert_int_equal(sd_bundle_write_receipt(af, json, strlen(json)), 0);
	assert_int_equal(sd_afile_commit(af, SD_AFILE_NOCLOBBER), 0);
	close(p.pkg_fd);
	free(json);
	assert_int_equal(sd_file_read(fx.sdr, 1u << 24, &fx.bundle, &fx.bundle_len), 0);
	/* SD_EXPORT_SEED=FILE keeps a copy for the fuzz corpus (tests/fuzz/corpus/export). */
	if (getenv("SD_EXPORT_SEED") != NULL)
		assert_int_equal(
		        sd_file_write(getenv("SD_EXPORT_SEED"), fx.bundle, fx.bundle_len, 0644, SD_AFILE_REPLACE), 0);
}

static int setup(void **state)
{
	if (unit_setup(state) != 0)
		return -1;
	snprintf(fx.dir, sizeof(fx.dir), "/tmp/sd-export-XXXXXX");
	if (mkdtemp(fx.dir) == NULL)
		return -1;
	snprintf(fx.pkg, sizeof(fx.pkg), "%s/a.sdx", fx.dir);
	snprintf(fx.sdr, sizeof(fx.sdr), "%s/a.sdr", fx.dir);
	snprintf(fx.out, sizeof(fx.out), "%s/out", fx.dir);
	fx.intake = unit_key_from_byte(SD_KEY_INTAKE, 0x10);
	fx.identity = unit_key_from_byte(SD_KEY_IDENTITY, 0x20);
	fx.agency = unit_key_from_byte(SD_KEY_AGENCY, 0x30);
	fx.other = unit_key_from_byte(SD_KEY_AGENCY, 0x40);
	fx.log = unit_key_from_byte(SD_KEY_LOG, 0x60);
	fx.other_log = unit_key_from_byte(SD_KEY_LOG, 0xa0);
	snprintf(fx.ag.id, sizeof(fx.ag.id), "police");
	snprintf(fx.ag.name, sizeof(fx.ag.name), "National Police Agency");
	fx.ag.key = pub(fx.agency);
	snprintf(fx.sdr_id, sizeof(fx.sdr_id), "%s/id.sdr", fx.dir);
	fx.agencies[0] = fx.ag;
	snprintf(fx.agencies[1].id, sizeof(fx.agencies[1].id), "customs");
	snprintf(fx.agencies[1].name, sizeof(fx.agencies[1].name), "Korea Customs Service");
	fx.agencies[1].key = pub(fx.other);
	fx.d = (sd_directory_t){.version = 2, .n_agencies = 2, .agencies = fx.agencies};
	snprintf(fx.d.deployment, sizeof(fx.d.deployment), "demo");
	fx.d.intake = pub(fx.intake);
	fx.d.identity = pub(fx.identity);
	if (sd_identity_validate((const uint8_t *)identity_in, sizeof(identity_in) - 1, (sd_date_t){2026, 11, 22},
	                         &fx.id_text, &fx.id_text_len) != 0)
		return -1;
	make_package();
	make_bundle();
	make_identity_bundle();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unit_rm_tree(fx.dir);
	sd_seckey_free(fx.intake);
	sd_seckey_free(fx.identity);
	sd_seckey_free(fx.agency);
	sd_seckey_free(fx.other);
	sd_seckey_free(fx.log);
	sd_seckey_free(fx.other_log);
	sd_header_free(fx.h);
	free(fx.bundle);
	free(fx.bundle_id);
	free(fx.consent);
	sd_secret_free(fx.id_text);
	sodium_free(fx.wb);
	return 0;
}

/* What an agency checks before decrypting: structure and chunks, the receipt's signature
 * and the digest it signs. */
static int verify_all(const uint8_t *buf, size_t len)
{
	sd_bundle_t *b = NULL;
	sd_export_receipt_t er;
	sd_pubkey_t log = pub(fx.log);
	int r;

	if ((r = sd_bundle_parse(buf, len, &b)) < 0)
		return r;
	if ((r = sd_export_receipt_parse(b->receipt, b->receipt_len, &log, &er)) == 0 &&
	    !sd_equal(er.bundle_digest, b->digest, SD_HASH_BYTES))
		r = SD_ERR_VERIFY;
	sd_bundle_free(b);
	return r;
}

static void test_round_trip(void **state)
{
	sd_bundle_t *b = NULL;
	uint8_t *got = NULL;
	size_t len = 0;
	char path[192];

	(void)state;
	assert_int_equal(sd_bundle_read(fx.sdr, NULL, NULL, &b), 0);
	assert_string_equal(b->case_number, "2026-000001");
	assert_string_equal(b->agency, "police");
	assert_memory_equal(b->header_digest, fx.h->digest, SD_HASH_BYTES);
	assert_memory_equal(b->digest, fx.digest, SD_HASH_BYTES);
	assert_int_equal(b->directory_len, sizeof(directory_json) - 1);
	assert_memory_equal(b->directory, directory_json, b->directory_len);
	assert_int_equal(b->content->n_blobs, 3);
	assert_int_equal(b->content->blobs[1].n_chunks, 0); /* the identity, withheld */
	assert_int_equal(verify_all(fx.bundle, fx.bundle_len), 0);
	/* Another agency's key: not sealed to it. */
	assert_int_equal(sd_bundle_open(b, fx.sdr, fx.other, fx.out, NULL, NULL), SD_ERR_WRONG_KEY);
	assert_int_equal(sd_bundle_open(b, fx.sdr, fx.intake, fx.out, NULL, NULL), SD_ERR_USAGE);
	assert_int_equal(sd_bundle_open(b, fx.sdr, fx.agency, fx.out, NULL, NULL), 0);
	snprintf(path, sizeof(path), "%s/report.json", fx.out);
	assert_int_equal(sd_file_read(path, 1u << 20, &got, &len), 0);
	assert_int_equal(len, sizeof(report) - 1);
	assert_memory_equal(got, report, len);
	free(got);
	snprintf(path, sizeof(path), "%s/evidence/memo.txt", fx.out);
	assert_int_equal(sd_file_read(path, 1u << 20, &got, &len), 0);
	assert_int_equal(len, sizeof(evidence));
	assert_memory_equal(got, evidence, len);
	free(got);
	sd_bundle_free(b);
}

static bool contains(const uint8_t *hay, size_t n, const uint8_t *needle, size_t m)
{
	for (size_t i = 0; i + m <= n; i++)
		if (sd_equal(hay + i, needle, m))
			return true;
	return false;
}

static void test_no_identity(void **state)
{
	const sd_blob_t *id = &fx.h->blobs[1];
	uint8_t *pkg = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(sd_file_read(fx.pkg, 1u << 24, &pkg, &len), 0);
	assert_int_equal(id->kind, SD_BLOB_IDENTITY);
	assert_false(contains(fx.bundle, fx.bundle_len, fx.h->sealed_sc, sizeof(fx.h->sealed_sc)));
	assert_false(contains(fx.bundle, fx.bundle_len, fx.h->wrapped_sw, sizeof(fx.h->wrapped_sw)));
	assert_false(contains(fx.bundle, fx.bundle_len, fx.h->consent_pk, sizeof(fx.h->consent_pk)));
	assert_false(contains(fx.bundle, fx.bundle_len, fx.h->notice_pk, sizeof(fx.h->notice_pk)));
	assert_false(contains(fx.bundle, fx.bundle_len, fx.h->locator_hash, sizeof(fx.h->locator_hash)));
	assert_false(contains(fx.bundle, fx.bundle_len, id->chunk_hashes, SD_HASH_BYTES));
	for (size_t i = 0; i + 32 <= id->size; i += 32)
		assert_false(contains(fx.bundle, fx.bundle_len, pkg + id->offset + i, 32));
	free(pkg);
}

static void test_every_truncation(void **state)
{
	(void)state;
	for (size_t n = 0; n < fx.bundle_len; n++)
		if (verify_all(fx.bundle, n) == 0)
			fail_msg("a bundle cut to %zu of %zu bytes was accepted", n, fx.bundle_len);
}

static void test_every_byte(void **state)
{
	uint8_t *copy = malloc(fx.bundle_len);

	(void)state;
	assert_non_null(copy);
	memcpy(copy, fx.bundle, fx.bundle_len);
	for (size_t i = 0; i < fx.bundle_len; i++) {
		copy[i] ^= 0x01;
		if (verify_all(copy, fx.bundle_len) == 0)
			fail_msg("a bundle with byte %zu flipped was accepted", i);
		copy[i] ^= 0x01;
	}
	/* Extra bytes after the receipt. */
	free(copy);
	copy = malloc(fx.bundle_len + 1);
	assert_non_null(copy);
	memcpy(copy, fx.bundle, fx.bundle_len);
	copy[fx.bundle_len] = '\n';
	assert_int_equal(verify_all(copy, fx.bundle_len + 1), SD_ERR_FORMAT);
	free(copy);
}

static void test_receipt(void **state)
{
	sd_export_receipt_t er = base_receipt(), got;
	sd_pubkey_t log = pub(fx.log), other = pub(fx.other_log);
	sd_directory_t d = {.has_log = true, .n_agencies = 1, .agencies = &fx.ag};
	char *json = NULL;

	(void)state;
	snprintf(d.deployment, sizeof(d.deployment), "demo");
	d.log = log;
	assert_int_equal(sd_export_receipt_sign(&er, fx.log, &json), 0);
	assert_int_equal(sd_export_receipt_parse((const uint8_t *)json, strlen(json), &log, &got), 0);
	assert_string_equal(got.case_number, "2026-000001");
	assert_string_equal(got.agency, "police");
	assert_int_equal(got.leaf_index, 7);
	assert_memory_equal(got.bundle_digest, fx.digest, SD_HASH_BYTES);
	assert_memory_equal(got.log_key_id, log.id, SD_KEY_ID_BYTES);
	assert_int_equal(sd_export_receipt_parse((const uint8_t *)json, strlen(json), &other, &got), SD_ERR_VERIFY);
	assert_int_equal(sd_export_receipt_verify_with_directory((const uint8_t *)json, strlen(json), &d, &got), 0);
	snprintf(d.deployment, sizeof(d.deployment), "other");
	assert_int_equal(sd_export_receipt_verify_with_directory((const uint8_t *)json, strlen(json), &d, &got),
	                 SD_ERR_DEPLOYMENT);
	snprintf(d.deployment, sizeof(d.deployment), "demo");
	d.agencies = NULL;
	d.n_agencies = 0;
	assert_int_equal(sd_export_receipt_verify_with_directory((const uint8_t *)json, strlen(json), &d, &got),
	                 SD_ERR_VERIFY);
	free(json);
	/* The server never signs what clients refuse. */
	er.case_number[4] = 'x';
	assert_int_equal(sd_export_receipt_sign(&er, fx.log, &json), SD_ERR_INVALID);
	assert_int_equal(sd_export_receipt_sign(&er, fx.other, &json), SD_ERR_USAGE);
}

/* A field altered, then re-signed by the log key: the field rules must refuse it. */
static void test_receipt_fields(void **state)
{
	static const char *const sig_fields[] = {"key_id", "sig", NULL};
	static const sd_json_signed_t t = {.what = "export receipt",
	                                   .body = "export",
	                                   .signature_fields = sig_fields,
	                                   .max_bytes = SD_EXPORT_RECEIPT_MAX_BYTES,
	                                   .purpose = SD_PURPOSE_EXPORT,
	                                   .kind = SD_KEY_LOG,
	                                   .signer = "log key",
	                                   .key = "log"};
	static const char *const edits[][2] = {
	        {"extra", "1"},         {"leaf_index", "-1"},     {"date", "\"2026-02-30\""},
	        {"case", "\"2026-1\""}, {"agency", "\"Police\""}, {"bundle_digest", "\"00\""},
	        {"version", "2"},       {"agency_key_id", "1"},   {"deployment", "\"\""},
	};
	sd_export_receipt_t er = base_receipt(), got;
	sd_pubkey_t log = pub(fx.log);
	char *json = NULL, *resigned = NULL;

	(void)state;
	assert_int_equal(sd_export_receipt_sign(&er, fx.log, &json), 0);
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		json_t *doc = json_loads(json, 0, NULL), *body = json_deep_copy(json_object_get(doc, "export"));
		assert_non_null(body);
		json_object_set_new(body, edits[i][0], json_loads(edits[i][1], JSON_DECODE_ANY, NULL));
		assert_int_equal(sd_json_signed_sign_body(&t, fx.log, body, &resigned), 0);
		if (sd_export_receipt_parse((const uint8_t *)resigned, strlen(resigned), &log, &got) == 0)
			fail_msg("export.%s = %s was accepted", edits[i][0], edits[i][1]);
		free(resigned);
		json_decref(doc);
	}
	/* And one member missing. */
	json_t *doc = json_loads(json, 0, NULL), *body = json_deep_copy(json_object_get(doc, "export"));
	json_object_del(body, "date");
	assert_int_equal(sd_json_signed_sign_body(&t, fx.log, body, &resigned), 0);
	assert_int_equal(sd_export_receipt_parse((const uint8_t *)resigned, strlen(resigned), &log, &got),
	                 SD_ERR_FORMAT);
	free(resigned);
	json_decref(doc);
	free(json);
}

/* --- the identity bundle ------------------------------------------------------------- */

static void test_identity_round_trip(void **state)
{
	sd_bundle_t *b = NULL;
	uint8_t *got = NULL;
	size_t len = 0;
	char path[192], out[160];
	struct stat st;

	(void)state;
	snprintf(out, sizeof(out), "%s/out-id", fx.dir);
	assert_int_equal(sd_bundle_read(fx.sdr_id, NULL, NULL, &b), 0);
	assert_true(b->has_identity);
	assert_int_equal(b->flags, SD_SDR_FLAG_IDENTITY);
	assert_int_equal(b->content->n_blobs, 3);
	assert_int_equal(b->content->blobs[1].n_chunks, 1);
	assert_memory_equal(b->content->blobs[1].chunk_hashes, fx.h->blobs[1].chunk_hashes, SD_HASH_BYTES);
	assert_memory_equal(b->consent_pk, fx.h->consent_pk, 32);
	assert_string_equal(b->consent_rec.agency, "police");
	assert_int_equal(b->consent_len, strlen(fx.consent));
	assert_memory_equal(b->release, fx.release, sizeof(fx.release));
	assert_memory_equal(b->digest, fx.digest_id, SD_HASH_BYTES);
	assert_int_equal(verify_all(fx.bundle_id, fx.bundle_id_len), 0);
	/* Another agency's key opens neither the content key nor the shares; nothing written. */
	assert_int_equal(sd_bundle_open(b, fx.sdr_id, fx.other, out, NULL, NULL), SD_ERR_WRONG_KEY);
	assert_int_equal(access(out, F_OK), -1);
	assert_int_equal(sd_bundle_open(b, fx.sdr_id, fx.agency, out, NULL, NULL), 0);
	snprintf(path, sizeof(path), "%s/identity.json", out);
	assert_int_equal(sd_file_read(path, 1u << 20, &got, &len), 0);
	assert_int_equal(len, fx.id_text_len);
	assert_memory_equal(got, fx.id_text, len);
	free(got);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/report.json", out);
	assert_int_equal(sd_file_read(path, 1u << 20, &got, &len), 0);
	assert_memory_equal(got, report, sizeof(report) - 1);
	free(got);
	sd_bundle_free(b);
}

/* What stays out even of an identity bundle: the wrapped s_w, s_c as sealed to the
 * identity key, the locator hash and the notice key. */
static void test_identity_keeps_out(void **state)
{
	(void)state;
	assert_false(contains(fx.bundle_id, fx.bundle_id_len, fx.h->sealed_sc, sizeof(fx.h->sealed_sc)));
	assert_false(contains(fx.bundle_id, fx.bundle_id_len, fx.h->wrapped_sw, sizeof(fx.h->wrapped_sw)));
	assert_false(contains(fx.bundle_id, fx.bundle_id_len, fx.h->notice_pk, sizeof(fx.h->notice_pk)));
	assert_false(contains(fx.bundle_id, fx.bundle_id_len, fx.h->locator_hash, sizeof(fx.h->locator_hash)));
	assert_true(contains(fx.bundle_id, fx.bundle_id_len, fx.h->blobs[1].chunk_hashes, SD_HASH_BYTES));
}

static void test_identity_every_truncation(void **state)
{
	(void)state;
	for (size_t n = 0; n < fx.bundle_id_len; n++)
		if (verify_all(fx.bundle_id, n) == 0)
			fail_msg("an identity bundle cut to %zu of %zu bytes was accepted", n, fx.bundle_id_len);
}

static void test_identity_every_byte(void **state)
{
	uint8_t *copy = malloc(fx.bundle_id_len);

	(void)state;
	assert_non_null(copy);
	memcpy(copy, fx.bundle_id, fx.bundle_id_len);
	for (size_t i = 0; i < fx.bundle_id_len; i++) {
		copy[i] ^= 0x01;
		if (verify_all(copy, fx.bundle_id_len) == 0)
			fail_msg("an identity bundle with byte %zu flipped was accepted", i);
		copy[i] ^= 0x01;
	}
	free(copy);
}

/* The flag without its section, the section without the flag, an unknown flag: refused
 * by the structure alone (sd_bundle_parse), before any receipt. */
static void test_identity_flag(void **state)
{
	uint8_t *copy = malloc(fx.bundle_id_len);
	sd_bundle_t *b = NULL;

	(void)state;
	assert_non_null(copy);
	memcpy(copy, fx.bundle, fx.bundle_len);
	copy[10] |= 0x01;
	assert_int_not_equal(sd_bundle_parse(copy, fx.bundle_len, &b), 0);
	assert_null(b);
	memcpy(copy, fx.bundle_id, fx.bundle_id_len);
	copy[10] &= (uint8_t)~0x01;
	assert_int_not_equal(sd_bundle_parse(copy, fx.bundle_id_len, &b), 0);
	copy[10] = 0x03;
	assert_int_equal(sd_bundle_parse(copy, fx.bundle_id_len, &b), SD_ERR_FORMAT);
	copy[10] = 0x01;
	copy[11] = 0x80;
	assert_int_equal(sd_bundle_parse(copy, fx.bundle_id_len, &b), SD_ERR_FORMAT);
	free(copy);
	/* Without the flag, the bundle is as before. */
	assert_int_equal(sd_bundle_parse(fx.bundle, fx.bundle_len, &b), 0);
	assert_false(b->has_identity);
	assert_null(b->consent);
	sd_bundle_free(b);
}

/* The writer refuses what the reader would: a consent for another agency or the
 * Commission, a release that is not the signed one, a consent for another package. */
static void test_identity_writer_refuses(void **state)
{
	sd_consent_params_t cp = {
	        .wb = fx.wb, .h = fx.h, .dir = &fx.d, .scope = "agency:customs", .issued = {2026, 11, 23}, .days = 30};
	uint8_t release[SD_CONSENT_RELEASE_BYTES], digest[SD_HASH_BYTES];
	sd_bundle_identity_t id = {fx.identity, NULL, 0, release};
	char *json = NULL, path[160];

	(void)state;
	snprintf(path, sizeof(path), "%s/refused.sdr", fx.dir);
	assert_int_equal(sd_consent_grant(&cp, NULL, &json, release), 0);
	id.consent = (const uint8_t *)json;
	id.consent_len = strlen(json);
	assert_int_equal(write_bundle(path, &id, digest), SD_ERR_VERIFY);
	free(json);
	cp.scope = "commission";
	assert_int_equal(sd_consent_grant(&cp, NULL, &json, release), 0);
	id.consent = (const uint8_t *)json;
	id.consent_len = strlen(json);
	assert_int_equal(write_bundle(path, &id, digest), SD_ERR_VERIFY);
	free(json);
	memcpy(release, fx.release, sizeof(release));
	release[5] ^= 1;
	id.consent = (const uint8_t *)fx.consent;
	id.consent_len = strlen(fx.consent);
	assert_int_equal(write_bundle(path, &id, digest), SD_ERR_VERIFY);
	id.release = fx.release;
	id.identity = fx.intake;
	assert_int_equal(write_bundle(path, &id, digest), SD_ERR_USAGE);
	assert_int_equal(access(path, F_OK), -1);
}

static void test_magic(void **state)
{
	(void)state;
	assert_true(sd_bundle_has_magic(fx.bundle, fx.bundle_len));
	assert_false(sd_bundle_has_magic((const uint8_t *)"\x89SDX\r\n\x1a\n", 8));
	assert_int_equal(verify_all((const uint8_t *)"\x89SDX\r\n\x1a\n", 8), SD_ERR_FORMAT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_round_trip),
	        cmocka_unit_test(test_no_identity),
	        cmocka_unit_test(test_every_truncation),
	        cmocka_unit_test(test_every_byte),
	        cmocka_unit_test(test_receipt),
	        cmocka_unit_test(test_receipt_fields),
	        cmocka_unit_test(test_magic),
	        cmocka_unit_test(test_identity_round_trip),
	        cmocka_unit_test(test_identity_keeps_out),
	        cmocka_unit_test(test_identity_every_truncation),
	        cmocka_unit_test(test_identity_every_byte),
	        cmocka_unit_test(test_identity_flag),
	        cmocka_unit_test(test_identity_writer_refuses),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
