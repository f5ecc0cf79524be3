/*
 * test_accounts_renew.c — an account with several certificates (server/accounts.c,
 * docs/STORE.md "Account"), against a real store and real certificates: a record of the
 * old layout still decodes (no "account"), a renewal's record round-trips with it and
 * bad values are refused; a renewed certificate authenticates as its account (the first
 * fingerprint, name and role), both certificates work, one certificate revoked leaves the
 * other, disabling the account takes every certificate and every serial; a reload gives
 * the same, and a renewal that names no account makes the store unreadable. The control
 * socket's renew and revoke requests parse (server/control_request.c).
 */
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "sealdrop/accounts.h"
#include "sealdrop/bytes.h"
#include "sealdrop/store.h"
#include "../../server/control_int.h"

#define CRL_URL "https://localhost:8443/v1/crl"

static char tmp[64];
static sd_ca_t *ca;
static sd_store_t *store;
static const sd_date_t today = {2026, 11, 22};

static int setup(void **state)
{
	char ca_dir[128];

	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/sd-test-renew-XXXXXX");
	if (mkdtemp(tmp) == NULL)
		return -1;
	snprintf(ca_dir, sizeof(ca_dir), "%s/ca", tmp);
	if (mkdir(ca_dir, 0700) != 0 || sd_ca_create(ca_dir, "test CA", 30) != 0 || sd_ca_load(ca_dir, &ca) != 0)
		return -1;
	return sd_store_open(tmp, NULL, &store) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	sd_store_close(store);
	sd_ca_free(ca);
	return unit_rm_tree(tmp);
}

/* A certificate for (role, name): its DER in *der, its fingerprint, serial and expiry in acc. */
static void issue(const char *role, const char *name, uint8_t **der, size_t *der_len, sd_account_t *acc)
{
	char *cert = NULL, *key = NULL;
	sd_ca_cert_info_t info;

	assert_int_equal(sd_ca_issue_client(ca, role, name, NULL, 0, 30, CRL_URL, &cert, &key, &info), 0);
	assert_int_equal(sd_ca_cert_from_pem(cert, strlen(cert), der, der_len), 0);
	memset(acc, 0, sizeof(*acc));
	memcpy(acc->fingerprint, info.fingerprint, sizeof(acc->fingerprint));
	memcpy(acc->serial, info.serial, sizeof(acc->serial));
	snprintf(acc->name, sizeof(acc->name), "%s", name);
	assert_true(sd_role_from_name(role, &acc->role));
	acc->enabled = true;
	acc->enrolled = today;
	acc->cert_not_after = info.not_after;
	free(cert);
	sd_secret_free(key);
}

static int call(sd_store_req_t *req)
{
	int r = sd_store_call(store, req);

	sd_store_req_free(req);
	return r;
}

static sd_accounts_t *reload(void)
{
	sd_accounts_t *a = NULL;

	assert_int_equal(sd_accounts_load(store, &a), 0);
	return a;
}

/* --- records --------------------------------------------------------------------- */

static const char old_record[] = "{\"box_pk\":null,\"disabled\":null,\"enabled\":true,\"enrolled\":\"2026-03-02\","
                                 "\"name\":\"Attorney Kim\",\"not_after\":1800000000,\"role\":\"attorney\","
                                 "\"serial\":\"0123456789abcdef0123456789abcdef\",\"v\":1}";

static void test_records(void **state)
{
	sd_account_t acc, back;
	uint8_t *buf = NULL;
	size_t len = 0;
	char text[1024];

	(void)state;
	/* A record written before renewals existed is an account's first record. */
	assert_int_equal(sd_account_decode((const uint8_t *)old_record, strlen(old_record), &acc), 0);
	assert_false(acc.is_renewal);
	/* ... and encodes back to the same bytes (compare-and-set on old records works). */
	assert_int_equal(sd_account_encode(&acc, &buf, &len), 0);
	assert_int_equal(len, strlen(old_record));
	assert_memory_equal(buf, old_record, len);
	free(buf);
	acc.is_renewal = true;
	for (size_t i = 0; i < sizeof(acc.account); i++)
		acc.account[i] = (uint8_t)(0xa0 + i);
	assert_int_equal(sd_account_encode(&acc, &buf, &len), 0);
	assert_non_null(strstr((const char *)buf, "\"account\":\"a0a1a2a3"));
	assert_int_equal(sd_account_decode(buf, len, &back), 0);
	assert_true(back.is_renewal);
	assert_memory_equal(back.account, acc.account, sizeof(acc.account));
	free(buf);
	/* Bad "account" values: upper-case, short, not a string. */
	const char *bad[] = {"\"A0A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2B3B4B5B6B7B8B9BABBBCBDBEBF\"", "\"a0a1\"", "7",
	                     "null"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "{\"account\":%s,%s", bad[i], old_record + 1);
		assert_int_equal(sd_account_decode((const uint8_t *)text, strlen(text), &back), SD_ERR_INVALID);
	}
}

/* --- renewal through the store ---------------------------------------------------- */

static void test_renew(void **state)
{
	sd_accounts_t *a = NULL;
	sd_account_t first, second, other;
	uint8_t *der1 = NULL, *der2 = NULL, *der3 = NULL;
	size_t len1 = 0, len2 = 0, len3 = 0, n_revoked = 0;
	const sd_account_t *owner;
	sd_principal_t p;
	sd_store_req_t *req;
	int64_t now = (int64_t)time(NULL);

	(void)state;
	issue("attorney", "Attorney Kim", &der1, &len1, &first);
	first.has_box_key = true;
	memset(first.box_pk, 0x42, sizeof(first.box_pk));
	assert_non_null(req = sd_store_req_new());
	assert_int_equal(sd_accounts_req_add(req, &first), 0);
	assert_int_equal(call(req), 0);
	a = reload();
	/* The second certificate: the CA names it for the same account. */
	issue("attorney", "Attorney Kim", &der2, &len2, &second);
	memset(second.name, 0, sizeof(second.name));
	owner = sd_accounts_find_name(a, "Attorney Kim");
	assert_non_null(owner);
	assert_non_null(req = sd_store_req_new());
	assert_int_equal(sd_accounts_req_renew(req, owner, &second), 0);
	assert_int_equal(call(req), 0);
	assert_int_equal(sd_accounts_renewed(a, &second), 0);
	assert_string_equal(second.name, "Attorney Kim");
	assert_true(second.has_box_key);
	assert_int_equal(sd_accounts_live_count(a, owner), 2);
	assert_int_equal(sd_accounts_count(a), 1); /* one person, two certificates */
	assert_int_equal(sd_accounts_cert_count(a), 2);
	assert_ptr_equal(sd_accounts_find_name(a, "Attorney Kim"), owner); /* the name: the first record */
	/* Both certificates act as the account, by its first fingerprint. */
	assert_int_equal(sd_accounts_authenticate(a, ca, der1, len1, now, &p), 0);
	assert_memory_equal(p.fingerprint, first.fingerprint, sizeof(p.fingerprint));
	assert_int_equal(sd_accounts_authenticate(a, ca, der2, len2, now, &p), 0);
	assert_memory_equal(p.fingerprint, first.fingerprint, sizeof(p.fingerprint));
	assert_string_equal(p.name, "Attorney Kim");
	assert_ptr_equal(sd_accounts_owner(a, sd_accounts_find(a, second.fingerprint)), owner);
	sd_accounts_free(a);

	/* The store reads it back the same. */
	a = reload();
	owner = sd_accounts_find_name(a, "Attorney Kim");
	assert_int_equal(sd_accounts_live_count(a, owner), 2);
	assert_int_equal(sd_accounts_authenticate(a, ca, der2, len2, now, &p), 0);
	assert_memory_equal(p.fingerprint, first.fingerprint, sizeof(p.fingerprint));

	/* Revoking the first certificate alone leaves the second. */
	assert_non_null(req = sd_store_req_new());
	assert_int_equal(sd_accounts_req_disable(req, owner, today, now), 0);
	assert_int_equal(call(req), 0);
	assert_int_equal(sd_accounts_disabled(a, first.fingerprint, today, now), 0);
	assert_int_equal(sd_accounts_authenticate(a, ca, der1, len1, now, &p), SD_ERR_REFUSED);
	assert_int_equal(sd_accounts_authenticate(a, ca, der2, len2, now, &p), 0);
	assert_memory_equal(p.fingerprint, first.fingerprint, sizeof(p.fingerprint));
	assert_true(sd_accounts_is_live(a, owner));
	sd_accounts_revoked(a, &n_revoked);
	assert_int_equal(n_revoked, 1);
	/* A name stays one account: a new enrolment of it is refused. */
	issue("attorney", "Attorney Kim", &der3, &len3, &other);
	assert_non_null(req = sd_store_req_new());
	assert_int_equal(sd_accounts_req_add(req, &other), 0);
	assert_int_equal(call(req), SD_ERR_EXISTS);
	free(der3);

	/* Disabling the account takes every certificate still live. */
	assert_non_null(req = sd_store_req_new());
	assert_int_equal(sd_accounts_req_disable_account(req, a, owner, today, now), 0);
	assert_int_equal(call(req), 0);
	assert_int_equal(sd_accounts_disabled_account(a, first.fingerprint, today, now), 0);
	assert_false(sd_accounts_is_live(a, owner));
	assert_int_equal(sd_accounts_authenticate(a, ca, der2, len2, now, &p), SD_ERR_REFUSED); /* revoked */
	sd_accounts_revoked(a, &n_revoked);
	assert_int_equal(n_revoked, 2);
	assert_non_null(req = sd_store_req_new());
	assert_int_equal(sd_accounts_req_disable_account(req, a, owner, today, now), SD_ERR_USAGE);
	sd_store_req_free(req);
	sd_accounts_free(a);
	a = reload();
	assert_false(sd_accounts_is_live(a, sd_accounts_find_name(a, "Attorney Kim")));
	sd_accounts_free(a);
	free(der1);
	free(der2);
}

/* A renewal whose account is not in the store: the store is refused, not half-read. */
static void test_orphan(void **state)
{
	sd_account_t orphan;
	uint8_t *der = NULL, *rec = NULL;
	size_t len = 0, rec_len = 0;
	sd_accounts_t *a = NULL;
	sd_store_req_t *req;

	(void)state;
	issue("officer", "Officer Lee", &der, &len, &orphan);
	orphan.is_renewal = true;
	memset(orphan.account, 0x77, sizeof(orphan.account));
	assert_int_equal(sd_account_encode(&orphan, &rec, &rec_len), 0);
	assert_non_null(req = sd_store_req_new());
	assert_true(sd_store_req_put(req, SD_STORE_DB_ACCOUNTS, orphan.fingerprint, SD_CA_FINGERPRINT_BYTES, rec,
	                             rec_len, SD_STORE_NOOVERWRITE) >= 0);
	assert_int_equal(call(req), 0);
	assert_int_equal(sd_accounts_load(store, &a), SD_ERR_INVALID);
	assert_non_null(strstr(sd_error_detail(), "names no such account"));
	assert_null(a);
	free(rec);
	free(der);
}

/* --- control requests ------------------------------------------------------------- */

static int parse(const char *line, sd_control_req_t *req)
{
	return sd_control_parse_request((const uint8_t *)line, strlen(line), req);
}

static void test_control_requests(void **state)
{
	sd_control_req_t req;

	(void)state;
	assert_int_equal(parse("{\"op\":\"renew\",\"name\":\"Attorney Kim\"}", &req), 0);
	assert_int_equal(req.op, SD_CONTROL_RENEW);
	assert_string_equal(req.name, "Attorney Kim");
	assert_null(req.csr);
	sd_control_req_clear(&req);
	assert_int_equal(parse("{\"op\":\"renew\",\"name\":\"A\",\"csr\":\"x\"}", &req), 0);
	assert_non_null(req.csr);
	sd_control_req_clear(&req);
	assert_int_equal(parse("{\"op\":\"renew\"}", &req), SD_ERR_INVALID);
	assert_int_equal(parse("{\"op\":\"renew\",\"name\":\"A\",\"role\":\"officer\"}", &req), SD_ERR_INVALID);
	assert_int_equal(parse("{\"op\":\"revoke\",\"fingerprint\":"
	                       "\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\"}",
	                       &req),
	                 0);
	assert_int_equal(req.op, SD_CONTROL_REVOKE);
	assert_true(req.has_fingerprint);
	assert_int_equal(req.fingerprint[31], 0x1f);
	sd_control_req_clear(&req);
	const char *bad[] = {
	        "{\"op\":\"revoke\"}",
	        "{\"op\":\"revoke\",\"fingerprint\":\"0001\"}",
	        "{\"op\":\"revoke\",\"fingerprint\":"
	        "\"000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F\"}",
	        "{\"op\":\"revoke\",\"fingerprint\":"
	        "\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g\"}",
	        "{\"op\":\"revoke\",\"fingerprint\":"
	        "\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f00\"}",
	        "{\"op\":\"revoke\",\"fingerprint\":7}",
	        "{\"op\":\"revoke\",\"name\":\"A\",\"fingerprint\":"
	        "\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\"}",
	        "{\"op\":\"disable\",\"name\":\"A\",\"fingerprint\":"
	        "\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = parse(bad[i], &req);
		assert_true(r == SD_ERR_INVALID || r == SD_ERR_TOOBIG);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_records),
	        cmocka_unit_test_setup_teardown(test_renew, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_orphan, setup, teardown),
	        cmocka_unit_test(test_control_requests),
	};

	return cmocka_run_group_tests(tests, unit_setup, NULL);
}
