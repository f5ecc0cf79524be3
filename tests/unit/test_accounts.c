/*
 * test_accounts.c — the accounts (server/accounts.c) against a real store in a temporary
 * directory and real certificates from a real CA: records encoded and decoded strictly
 * (a table of damaged records, each refused), enrolment through the store with duplicate
 * names and fingerprints refused, authentication (enrolled, unknown, another CA's
 * certificate, a role that does not match, a disabled account), disabling (the serial
 * lands in the revoked list, a stale copy cannot disable twice), and a reload from the
 * store that gives back the same table; a store whose names disagree is refused.
 */
#include <ftw.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "sealdrop/accounts.h"
#include "sealdrop/bytes.h"
#include "sealdrop/store.h"

#define CRL_URL "https://localhost:8443/v1/crl"

static char tmp[64];
static sd_ca_t *ca, *other;
static sd_store_t *store;

static const char *path(const char *name)
{
	static char bufs[4][128];
	static int next;
	char *p = bufs[next++ % 4];

	snprintf(p, 128, "%s/%s", tmp, name);
	return p;
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/sd-test-accounts-XXXXXX");
	if (mkdtemp(tmp) == NULL || mkdir(path("ca"), 0700) != 0 || mkdir(path("other"), 0700) != 0)
		return -1;
	if (sd_ca_create(path("ca"), "test CA", 30) != 0 || sd_ca_load(path("ca"), &ca) != 0 ||
	    sd_ca_create(path("other"), "other CA", 30) != 0 || sd_ca_load(path("other"), &other) != 0)
		return -1;
	return sd_store_open(tmp, NULL, &store) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	sd_store_close(store);
	sd_ca_free(ca);
	sd_ca_free(other);
	return unit_rm_tree(tmp);
}

/* A certificate issued by c for (role, name): its DER in *der and the account it makes. */
static void issue(sd_ca_t *c, const char *role, const char *name, uint8_t **der, size_t *der_len, sd_account_t *acc)
{
	char *cert = NULL, *key = NULL;
	sd_ca_cert_info_t info;

	assert_int_equal(sd_ca_issue_client(c, role, name, NULL, 0, 30, CRL_URL, &cert, &key, &info), 0);
	assert_int_equal(sd_ca_cert_from_pem(cert, strlen(cert), der, der_len), 0);
	memset(acc, 0, sizeof(*acc));
	memcpy(acc->fingerprint, info.fingerprint, sizeof(acc->fingerprint));
	memcpy(acc->serial, info.serial, sizeof(acc->serial));
	snprintf(acc->name, sizeof(acc->name), "%s", name);
	assert_true(sd_role_from_name(role, &acc->role));
	acc->enabled = true;
	acc->enrolled = (sd_date_t){2026, 3, 2};
	acc->cert_not_after = info.not_after;
	free(cert);
	sd_secret_free(key);
}

static int store_add(const sd_account_t *acc)
{
	sd_store_req_t *req = sd_store_req_new();
	int r;

	assert_non_null(req);
	assert_int_equal(sd_accounts_req_add(req, acc), 0);
	r = sd_store_call(store, req);
	sd_store_req_free(req);
	return r;
}

static int store_disable(const sd_account_t *acc, sd_date_t today, int64_t now)
{
	sd_store_req_t *req = sd_store_req_new();
	int r;

	assert_non_null(req);
	assert_int_equal(sd_accounts_req_disable(req, acc, today, now), 0);
	r = sd_store_call(store, req);
	sd_store_req_free(req);
	return r;
}

static void assert_account_equal(const sd_account_t *a, const sd_account_t *b)
{
	assert_memory_equal(a->fingerprint, b->fingerprint, sizeof(a->fingerprint));
	assert_memory_equal(a->serial, b->serial, sizeof(a->serial));
	assert_string_equal(a->name, b->name);
	assert_int_equal(a->role, b->role);
	assert_int_equal(a->enabled, b->enabled);
	assert_int_equal(a->has_box_key, b->has_box_key);
	if (a->has_box_key)
		assert_memory_equal(a->box_pk, b->box_pk, sizeof(a->box_pk));
	assert_int_equal(sd_date_cmp(a->enrolled, b->enrolled), 0);
	if (!a->enabled)
		assert_int_equal(sd_date_cmp(a->disabled, b->disabled), 0);
	assert_int_equal(a->cert_not_after, b->cert_not_after);
}

/* --- records --------------------------------------------------------------------- */

static const char good_record[] = "{\"box_pk\":null,\"disabled\":null,\"enabled\":true,\"enrolled\":\"2026-03-02\","
                                  "\"name\":\"Attorney Kim\",\"not_after\":1800000000,\"role\":\"attorney\","
                                  "\"serial\":\"0123456789abcdef0123456789abcdef\",\"v\":1}";

static void test_record_roundtrip(void **state)
{
	sd_account_t acc = {0}, back;
	uint8_t *buf = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(sd_account_decode((const uint8_t *)good_record, strlen(good_record), &acc), 0);
	assert_string_equal(acc.name, "Attorney Kim");
	assert_int_equal(acc.role, SD_ROLE_ATTORNEY);
	assert_true(acc.enabled);
	assert_false(acc.has_box_key);
	assert_int_equal(acc.cert_not_after, 1800000000);
	assert_int_equal(acc.serial[0], 0x01);
	assert_int_equal(acc.serial[15], 0xef);
	/* Encoding is canonical: the record above is exactly what encode writes. */
	assert_int_equal(sd_account_encode(&acc, &buf, &len), 0);
	assert_int_equal(len, strlen(good_record));
	assert_memory_equal(buf, good_record, len);
	free(buf);

	acc.enabled = false;
	acc.disabled = (sd_date_t){2026, 4, 1};
	acc.has_box_key = true;
	for (size_t i = 0; i < sizeof(acc.box_pk); i++)
		acc.box_pk[i] = (uint8_t)(i * 7);
	snprintf(acc.name, sizeof(acc.name), "%s", "변호사 김 — officer \"x\"");
	acc.role = SD_ROLE_CUSTODIAN;
	assert_int_equal(sd_account_encode(&acc, &buf, &len), 0);
	assert_int_equal(sd_account_decode(buf, len, &back), 0);
	assert_account_equal(&acc, &back);
	free(buf);

	acc.role = (sd_role_t)3; /* two roles at once is no role */
	assert_int_equal(sd_account_encode(&acc, &buf, &len), SD_ERR_USAGE);
	acc.role = SD_ROLE_OFFICER;
	acc.name[0] = '\0';
	assert_int_equal(sd_account_encode(&acc, &buf, &len), SD_ERR_USAGE);
}

/* Each row replaces `from` in the good record with `to`; the result must be refused. */
static const struct {
	const char *from, *to;
	int want;
} bad_records[] = {
        {"\"v\":1", "\"v\":2", SD_ERR_VERSION},
        {"\"v\":1", "\"v\":\"1\"", SD_ERR_VERSION},
        {",\"v\":1", "", SD_ERR_VERSION},
        {"\"v\":1", "\"v\":1,\"extra\":0", SD_ERR_INVALID},
        {"\"box_pk\":null,", "", SD_ERR_INVALID},
        {"\"name\":\"Attorney Kim\"", "\"name\":\"\"", SD_ERR_INVALID},
        {"\"name\":\"Attorney Kim\"", "\"name\":\" Kim\"", SD_ERR_INVALID},
        {"\"name\":\"Attorney Kim\"", "\"name\":\"Kim\\n\"", SD_ERR_INVALID},
        {"\"name\":\"Attorney Kim\"", "\"name\":\"Kim\\u0085\"", SD_ERR_INVALID},
        {"\"name\":\"Attorney Kim\"", "\"name\":7", SD_ERR_INVALID},
        {"\"name\":\"Attorney Kim\"", "\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
         SD_ERR_INVALID},
        {"\"role\":\"attorney\"", "\"role\":\"admin\"", SD_ERR_INVALID},
        {"\"role\":\"attorney\"", "\"role\":\"Attorney\"", SD_ERR_INVALID},
        {"0123456789abcdef0123456789abcdef", "0123456789ABCDEF0123456789abcdef", SD_ERR_INVALID},
        {"0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcde", SD_ERR_INVALID},
        {"\"enabled\":true", "\"enabled\":1", SD_ERR_INVALID},
        {"\"enabled\":true", "\"enabled\":false", SD_ERR_INVALID}, /* disabled, yet no date */
        {"\"disabled\":null", "\"disabled\":\"2026-04-01\"", SD_ERR_INVALID},
        {"\"enrolled\":\"2026-03-02\"", "\"enrolled\":\"2026-02-30\"", SD_ERR_INVALID},
        {"\"enrolled\":\"2026-03-02\"", "\"enrolled\":null", SD_ERR_INVALID},
        {"\"not_after\":1800000000", "\"not_after\":1.5", SD_ERR_INVALID},
        {"\"not_after\":1800000000", "\"not_after\":\"1800000000\"", SD_ERR_INVALID},
        {"\"box_pk\":null", "\"box_pk\":\"AAAA\"", SD_ERR_INVALID},
        {"\"box_pk\":null", "\"box_pk\":true", SD_ERR_INVALID},
        {"\"v\":1}", "\"v\":1,\"v\":1}", SD_ERR_FORMAT}, /* a duplicate member */
        {"\"v\":1}", "\"v\":1} x", SD_ERR_FORMAT},
        {"{", "[{", SD_ERR_FORMAT},
};

static void test_record_strict(void **state)
{
	char buf[1024];
	sd_account_t acc;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_records) / sizeof(bad_records[0]); i++) {
		const char *at = strstr(good_record, bad_records[i].from);
		assert_non_null(at);
		snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - good_record), good_record, bad_records[i].to,
		         at + strlen(bad_records[i].from));
		int r = sd_account_decode((const uint8_t *)buf, strlen(buf), &acc);
		if (r != bad_records[i].want)
			print_error("row %zu (%s): got %d (%s)\n", i, buf, r, sd_error_detail());
		assert_int_equal(r, bad_records[i].want);
	}
	/* Every truncation of a good record is refused. */
	for (size_t n = 0; n < strlen(good_record); n++)
		assert_true(sd_account_decode((const uint8_t *)good_record, n, &acc) < 0);
	assert_int_equal(sd_account_decode(NULL, 0, &acc), SD_ERR_FORMAT);
}

/* --- through the store ------------------------------------------------------------ */

static void test_enroll_authenticate_disable_reload(void **state)
{
	sd_accounts_t *a = NULL, *back = NULL;
	sd_account_t kim, lee, kim2, foreign, stray;
	uint8_t *kim_der, *lee_der, *kim2_der, *foreign_der, *stray_der;
	size_t kim_len, lee_len, kim2_len, foreign_len, stray_len, n_revoked;
	const sd_ca_revoked_t *rev;
	sd_principal_t who;
	int64_t now = (int64_t)time(NULL);
	sd_date_t today = {2026, 3, 5};

	(void)state;
	assert_int_equal(sd_accounts_load(store, &a), 0);
	assert_int_equal(sd_accounts_count(a), 0);
	issue(ca, "attorney", "Attorney Kim", &kim_der, &kim_len, &kim);
	issue(ca, "officer", "Officer Lee", &lee_der, &lee_len, &lee);
	issue(ca, "attorney", "Attorney Kim", &kim2_der, &kim2_len, &kim2); /* same name, new cert */
	issue(other, "attorney", "Attorney Park", &foreign_der, &foreign_len, &foreign);
	issue(ca, "attorney", "Attorney Stray", &stray_der, &stray_len, &stray);
	lee.has_box_key = true;
	memset(lee.box_pk, 0x42, sizeof(lee.box_pk));

	assert_int_equal(store_add(&kim), 0);
	assert_int_equal(sd_accounts_added(a, &kim), 0);
	assert_int_equal(store_add(&lee), 0);
	assert_int_equal(sd_accounts_added(a, &lee), 0);
	assert_int_equal(sd_accounts_count(a), 2);

	/* A name or a fingerprint already taken: refused by the store and by the table. */
	assert_int_equal(store_add(&kim2), SD_ERR_EXISTS);
	assert_int_equal(sd_accounts_added(a, &kim2), SD_ERR_EXISTS);
	snprintf(kim2.name, sizeof(kim2.name), "%s", "Attorney Kim Two");
	memcpy(kim2.fingerprint, kim.fingerprint, sizeof(kim2.fingerprint));
	assert_int_equal(store_add(&kim2), SD_ERR_EXISTS);
	assert_int_equal(sd_accounts_added(a, &kim2), SD_ERR_EXISTS);
	assert_int_equal(sd_accounts_count(a), 2);

	assert_non_null(sd_accounts_find(a, kim.fingerprint));
	assert_string_equal(sd_accounts_find_name(a, "Officer Lee")->name, "Officer Lee");
	assert_null(sd_accounts_find_name(a, "Officer"));
	assert_null(sd_accounts_find(a, stray.fingerprint));

	assert_int_equal(sd_accounts_authenticate(a, ca, kim_der, kim_len, now, &who), 0);
	assert_string_equal(who.name, "Attorney Kim");
	assert_int_equal(who.role, SD_ROLE_ATTORNEY);
	assert_memory_equal(who.fingerprint, kim.fingerprint, sizeof(who.fingerprint));
	assert_int_equal(sd_accounts_authenticate(a, ca, lee_der, lee_len, now, &who), 0);
	assert_int_equal(who.role, SD_ROLE_OFFICER);
	assert_int_equal(sd_accounts_authenticate(a, ca, stray_der, stray_len, now, &who), SD_ERR_NOENT);
	assert_int_equal(sd_accounts_authenticate(a, ca, foreign_der, foreign_len, now, &who), SD_ERR_VERIFY);
	assert_int_equal(sd_accounts_authenticate(a, ca, kim_der, kim_len, now + 40 * 86400, &who), SD_ERR_EXPIRED);

	/* Disable Kim: durable first, then in memory; the serial is revoked. */
	assert_int_equal(store_disable(&kim, today, now), 0);
	assert_int_equal(sd_accounts_disabled(a, kim.fingerprint, today, now), 0);
	assert_false(sd_accounts_find(a, kim.fingerprint)->enabled);
	assert_int_equal(sd_accounts_authenticate(a, ca, kim_der, kim_len, now, &who), SD_ERR_REFUSED);
	rev = sd_accounts_revoked(a, &n_revoked);
	assert_int_equal(n_revoked, 1);
	assert_memory_equal(rev[0].serial, kim.serial, sizeof(kim.serial));
	assert_int_equal(rev[0].revoked_at, now);
	/* A stale copy (still enabled) cannot disable again: the record changed. */
	assert_int_equal(store_disable(&kim, today, now + 1), SD_ERR_REFUSED);
	assert_int_equal(sd_accounts_disabled(a, kim.fingerprint, today, now + 1), 0);
	sd_accounts_revoked(a, &n_revoked);
	assert_int_equal(n_revoked, 1);
	assert_int_equal(sd_accounts_disabled(a, stray.fingerprint, today, now), SD_ERR_NOENT);
	/* Lee stays in. */
	assert_int_equal(sd_accounts_authenticate(a, ca, lee_der, lee_len, now, &who), 0);

	/* Reload: the same table. */
	assert_int_equal(sd_accounts_load(store, &back), 0);
	assert_int_equal(sd_accounts_count(back), 2);
	assert_account_equal(sd_accounts_find(back, kim.fingerprint), sd_accounts_find(a, kim.fingerprint));
	assert_account_equal(sd_accounts_find(back, lee.fingerprint), sd_accounts_find(a, lee.fingerprint));
	assert_account_equal(sd_accounts_find_name(back, "Officer Lee"), &lee);
	rev = sd_accounts_revoked(back, &n_revoked);
	assert_int_equal(n_revoked, 1);
	assert_memory_equal(rev[0].serial, kim.serial, sizeof(kim.serial));
	assert_int_equal(rev[0].revoked_at, now);
	assert_int_equal(sd_accounts_authenticate(back, ca, kim_der, kim_len, now, &who), SD_ERR_REFUSED);
	assert_int_equal(sd_accounts_authenticate(back, ca, lee_der, lee_len, now, &who), 0);

	sd_accounts_free(back);
	sd_accounts_free(a);
	assert_null(a);
	free(kim_der);
	free(lee_der);
	free(kim2_der);
	free(foreign_der);
	free(stray_der);
}

static void test_role_must_match(void **state)
{
	sd_accounts_t *a = NULL;
	sd_account_t acc;
	uint8_t *der;
	size_t len;
	sd_principal_t who;

	(void)state;
	assert_int_equal(sd_accounts_load(store, &a), 0);
	issue(ca, "officer", "Officer Choi", &der, &len, &acc);
	acc.role = SD_ROLE_CUSTODIAN; /* the account says custodian, the certificate officer */
	assert_int_equal(store_add(&acc), 0);
	assert_int_equal(sd_accounts_added(a, &acc), 0);
	assert_int_equal(sd_accounts_authenticate(a, ca, der, len, (int64_t)time(NULL), &who), SD_ERR_REFUSED);
	assert_int_equal(who.role, 0);
	sd_accounts_free(a);
	free(der);
}

static void test_inconsistent_store_refused(void **state)
{
	sd_accounts_t *a = NULL;
	sd_store_req_t *req;
	uint8_t fp[SD_CA_FINGERPRINT_BYTES] = {1};

	(void)state;
	req = sd_store_req_new();
	assert_int_equal(
	        sd_store_req_put(req, SD_STORE_DB_ACCOUNT_NAMES, (const uint8_t *)"Nobody", 6, fp, sizeof(fp), 0), 0);
	assert_int_equal(sd_store_call(store, req), 0);
	sd_store_req_free(req);
	assert_int_equal(sd_accounts_load(store, &a), SD_ERR_INVALID);
	assert_null(a);
	req = sd_store_req_new();
	assert_int_equal(sd_store_req_del(req, SD_STORE_DB_ACCOUNT_NAMES, (const uint8_t *)"Nobody", 6), 0);
	assert_int_equal(sd_store_req_put(req, SD_STORE_DB_ACCOUNTS, fp, sizeof(fp), (const uint8_t *)"{}", 2, 0), 1);
	assert_int_equal(sd_store_call(store, req), 0);
	sd_store_req_free(req);
	assert_int_equal(sd_accounts_load(store, &a), SD_ERR_VERSION);
	assert_null(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_record_roundtrip),
	        cmocka_unit_test(test_record_strict),
	        cmocka_unit_test_setup_teardown(test_enroll_authenticate_disable_reload, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_role_must_match, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_inconsistent_store_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, unit_setup, NULL);
}
