/*
 * test_ca.c — the certificate authority (server/ca.c). Every certificate the CA makes
 * is checked with OpenSSL's own verifier and field accessors, not with the module's
 * code: the CA's extensions, the server certificate's SANs / EKU / validity / CRL
 * distribution point, client certificates from a generated key and from CSRs (P-256,
 * Ed25519; RSA, P-384 and bad signatures refused; every bit flip and truncation of a
 * CSR refused), the CRL (read back, and used by OpenSSL's CRL check), client
 * verification (other CA, expired, revoked, wrong purpose or role, every bit flip),
 * fingerprints against the openssl command, and files that are never overwritten.
 */
#include "unit.h"

#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sealdrop/ca.h"

#define CRL_URL "https://localhost:8443/v1/crl"
#define DAY     86400

static char tmp[] = "/tmp/sd-test-ca-XXXXXX";
static sd_ca_t *ca, *other;

/* --- helpers ------------------------------------------------------------------- */

static const char *path(const char *name)
{
	static char bufs[8][512];
	static int next;
	char *p = bufs[next++ % 8];

	snprintf(p, 512, "%s/%s", tmp, name);
	return p;
}

static uint8_t *slurp(const char *p, size_t *len)
{
	FILE *f = fopen(p, "rb");
	uint8_t *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = 0;
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void spit(const char *p, const void *buf, size_t len, mode_t mode)
{
	FILE *f = fopen(p, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);
	assert_int_equal(chmod(p, mode), 0);
}

static int file_mode(const char *p)
{
	struct stat st;

	assert_int_equal(stat(p, &st), 0);
	return (int)(st.st_mode & 07777);
}

static bool exists(const char *p)
{
	return access(p, F_OK) == 0;
}

static X509 *pem_x509(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);

	BIO_free(b);
	assert_non_null(x);
	return x;
}

static X509 *file_x509(const char *p)
{
	size_t len;
	char *text = (char *)slurp(p, &len);
	X509 *x = pem_x509(text);

	free(text);
	return x;
}

static uint8_t *x509_der(X509 *x, size_t *len)
{
	unsigned char *d = NULL;
	int n = i2d_X509(x, &d);
	uint8_t *out;

	assert_true(n > 0);
	out = malloc((size_t)n);
	assert_non_null(out);
	memcpy(out, d, (size_t)n);
	OPENSSL_free(d);
	*len = (size_t)n;
	return out;
}

static uint8_t *pem_der(const char *pem, size_t *len)
{
	X509 *x = pem_x509(pem);
	uint8_t *d = x509_der(x, len);

	X509_free(x);
	return d;
}

static void sha256(const uint8_t *p, size_t len, uint8_t out[32])
{
	unsigned int n = 0;

	assert_int_equal(EVP_Digest(p, len, out, &n, EVP_sha256(), NULL), 1);
	assert_int_equal(n, 32);
}

/* OpenSSL's verdict on x against DIR/ca.pem (and optionally a CRL): 0 or X509_V_ERR_*. */
static int openssl_verify(const char *ca_pem_path, X509 *x, int purpose, X509_CRL *crl)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509 *root = file_x509(ca_pem_path);
	int ok, err;

	assert_int_equal(X509_STORE_add_cert(store, root), 1);
	if (crl != NULL) {
		assert_int_equal(X509_STORE_add_crl(store, crl), 1);
		X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
	}
	assert_int_equal(X509_STORE_CTX_init(ctx, store, x, NULL), 1);
	X509_STORE_CTX_set_purpose(ctx, purpose);
	X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx), X509_V_FLAG_X509_STRICT);
	ok = X509_verify_cert(ctx);
	err = X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(root);
	ERR_clear_error();
	return ok == 1 ? 0 : (err != 0 ? err : -1);
}

static bool ext_is_critical(X509 *x, int nid)
{
	int i = X509_get_ext_by_NID(x, nid, -1);

	assert_true(i >= 0);
	return X509_EXTENSION_get_critical(X509_get_ext(x, i)) == 1;
}

static void assert_name_entry(X509 *x, int nid, const char *want)
{
	X509_NAME *n = X509_get_subject_name(x);
	int i = X509_NAME_get_index_by_NID(n, nid, -1);
	unsigned char *s = NULL;

	assert_true(i >= 0);
	assert_true(X509_NAME_get_index_by_NID(n, nid, i) < 0);
	assert_true(ASN1_STRING_to_UTF8(&s, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i))) >= 0);
	assert_string_equal((char *)s, want);
	OPENSSL_free(s);
}

static int64_t x509_time(const ASN1_TIME *t)
{
	struct tm tm;

	assert_int_equal(ASN1_TIME_to_tm(t, &tm), 1);
	return (int64_t)timegm(&tm);
}

static void assert_crl_dp(X509 *x, const char *url)
{
	CRL_DIST_POINTS *dps = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
	DIST_POINT *dp;
	GENERAL_NAME *g;

	assert_non_null(dps);
	assert_int_equal(sk_DIST_POINT_num(dps), 1);
	dp = sk_DIST_POINT_value(dps, 0);
	assert_non_null(dp->distpoint);
	assert_int_equal(dp->distpoint->type, 0);
	assert_int_equal(sk_GENERAL_NAME_num(dp->distpoint->name.fullname), 1);
	g = sk_GENERAL_NAME_value(dp->distpoint->name.fullname, 0);
	assert_int_equal(g->type, GEN_URI);
	assert_int_equal(ASN1_STRING_length(g->d.uniformResourceIdentifier), (int)strlen(url));
	assert_true(strncmp((const char *)ASN1_STRING_get0_data(g->d.uniformResourceIdentifier), url, strlen(url)) ==
	            0);
	CRL_DIST_POINTS_free(dps);
}

static void assert_serial(X509 *x, const uint8_t want[SD_CA_SERIAL_BYTES])
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	uint8_t got[SD_CA_SERIAL_BYTES];

	assert_non_null(bn);
	assert_int_equal(BN_num_bytes(bn), SD_CA_SERIAL_BYTES);
	assert_int_equal(BN_bn2binpad(bn, got, sizeof(got)), SD_CA_SERIAL_BYTES);
	assert_memory_equal(got, want, SD_CA_SERIAL_BYTES);
	assert_int_equal(want[0] & 0xc0, 0x40);
	BN_free(bn);
}

/* A CSR for k, signed by signer, asking for things the CA must ignore: another
 * subject, CA:TRUE, a SAN and serverAuth. DER, or PEM when pem is set. */
static uint8_t *csr_make(EVP_PKEY *k, EVP_PKEY *signer, bool pem, size_t *len)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *n = X509_NAME_new();
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	const EVP_MD *md = EVP_PKEY_is_a(signer, "ED25519") ? NULL : EVP_sha256();
	BIO *b = BIO_new(BIO_s_mem());
	char *data = NULL;
	uint8_t *out;
	long n_out;

	assert_non_null(req);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"evil", -1, -1, 0),
	                 1);
	assert_int_equal(
	        X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_ASC, (const unsigned char *)"operator", -1, -1, 0), 1);
	assert_int_equal(X509_REQ_set_subject_name(req, n), 1);
	assert_int_equal(X509_REQ_set_pubkey(req, k), 1);
	sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints, "critical,CA:TRUE"));
	sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, "DNS:evil.example"));
	sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(NULL, NULL, NID_ext_key_usage, "serverAuth"));
	assert_int_equal(X509_REQ_add_extensions(req, exts), 1);
	assert_true(X509_REQ_sign(req, signer, md) > 0);
	if (pem)
		assert_int_equal(PEM_write_bio_X509_REQ(b, req), 1);
	else
		assert_true(i2d_X509_REQ_bio(b, req) == 1);
	n_out = BIO_get_mem_data(b, &data);
	out = malloc((size_t)n_out + 1);
	assert_non_null(out);
	memcpy(out, data, (size_t)n_out);
	out[n_out] = 0;
	*len = (size_t)n_out;
	BIO_free(b);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_NAME_free(n);
	X509_REQ_free(req);
	return out;
}

static EVP_PKEY *load_key_file(const char *p)
{
	FILE *f = fopen(p, "r");
	EVP_PKEY *k;

	assert_non_null(f);
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(k);
	return k;
}

/* A client certificate for `role` (NULL: no OU) signed with DIR/ca.key directly, as a
 * CA bug or a stolen key might make it. */
static uint8_t *forge_client(const char *role, size_t *len)
{
	X509 *x = X509_new(), *root = file_x509(path("ca/ca.pem"));
	EVP_PKEY *cakey = load_key_file(path("ca/ca.key")), *k = EVP_EC_gen("P-256");
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	uint8_t *der;

	if (role != NULL)
		X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_ASC, (const unsigned char *)role, -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"Forged", -1, -1, 0);
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 0x4242);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, X509_get_subject_name(root));
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), DAY);
	X509_set_pubkey(x, k);
	X509V3_set_ctx(&ctx, root, x, NULL, NULL, 0);
	/* Everything our leaves carry (X509_STRICT wants the key identifiers), so only the
	 * role differs. */
	static const struct {
		int nid;
		const char *value;
	} exts[] = {
	        {NID_subject_key_identifier, "hash"},
	        {NID_authority_key_identifier, "keyid:always"},
	        {NID_basic_constraints, "critical,CA:FALSE"},
	        {NID_key_usage, "critical,digitalSignature"},
	        {NID_ext_key_usage, "clientAuth"},
	};
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		ext = X509V3_EXT_conf_nid(NULL, &ctx, exts[i].nid, exts[i].value);
		assert_non_null(ext);
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	assert_true(X509_sign(x, cakey, EVP_sha256()) > 0);
	der = x509_der(x, len);
	X509_NAME_free(n);
	EVP_PKEY_free(k);
	EVP_PKEY_free(cakey);
	X509_free(root);
	X509_free(x);
	return der;
}

/* --- fixtures ------------------------------------------------------------------ */

static int group_setup(void **state)
{
	if (unit_setup(state) != 0)
		return -1;
	umask(022);
	if (mkdtemp(tmp) == NULL || mkdir(path("ca"), 0700) != 0 || mkdir(path("other"), 0700) != 0)
		return -1;
	if (sd_ca_create(path("ca"), "sealdrop test CA", 3650) != 0 ||
	    sd_ca_create(path("other"), "another CA", 30) != 0)
		return -1;
	if (sd_ca_load(path("ca"), &ca) != 0 || sd_ca_load(path("other"), &other) != 0)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	sd_ca_free(ca);
	sd_ca_free(other);
	unit_rm_tree(tmp);
	return 0;
}

static char *issue(sd_ca_t *c, const char *role, const char *name, sd_ca_cert_info_t *info)
{
	char *cert = NULL, *key = NULL;

	assert_int_equal(sd_ca_issue_client(c, role, name, NULL, 0, 30, CRL_URL, &cert, &key, info), 0);
	assert_non_null(key);
	sd_secret_free(key);
	return cert;
}

/* --- the CA ---------------------------------------------------------------------- */

static void test_roles(void **state)
{
	static const char *const good[] = {"attorney", "officer", "custodian", "operator"};
	static const char *const bad[] = {"", "Attorney", "attorney ", "admin", "whistleblower", "operators"};

	(void)state;
	for (size_t i = 0; i < 4; i++)
		assert_true(sd_ca_role_is_valid(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(sd_ca_role_is_valid(bad[i]));
	assert_false(sd_ca_role_is_valid(NULL));
}

static void test_ca_certificate(void **state)
{
	X509 *x = file_x509(path("ca/ca.pem"));
	EVP_PKEY *k = load_key_file(path("ca/ca.key"));
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x), *aki = X509_get0_authority_key_id(x);
	size_t len;
	char *text;
	char group[32];

	(void)state;
	assert_int_equal(X509_get_version(x), X509_VERSION_3);
	assert_name_entry(x, NID_commonName, "sealdrop test CA");
	assert_int_equal(X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)), 0);
	assert_int_equal(X509_self_signed(x, 1), 1);
	assert_int_equal(X509_check_ca(x), 1);
	assert_true(ext_is_critical(x, NID_basic_constraints));
	assert_int_equal(X509_get_pathlen(x), 0);
	assert_true(ext_is_critical(x, NID_key_usage));
	assert_int_equal(X509_get_key_usage(x), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	assert_int_equal(X509_get_ext_by_NID(x, NID_ext_key_usage, -1), -1);
	assert_non_null(ski);
	assert_non_null(aki);
	assert_int_equal(ASN1_OCTET_STRING_cmp(ski, aki), 0);
	assert_int_equal(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);
	assert_int_equal(x509_time(X509_get0_notAfter(x)) - x509_time(X509_get0_notBefore(x)), 3650 * DAY - 1);
	assert_true(llabs(x509_time(X509_get0_notBefore(x)) - ((int64_t)time(NULL) - 300)) < 120);
	assert_int_equal(X509_check_private_key(x, k), 1);
	assert_true(EVP_PKEY_is_a(k, "EC"));
	assert_int_equal(EVP_PKEY_get_group_name(k, group, sizeof(group), NULL), 1);
	assert_string_equal(group, "prime256v1");
	assert_int_equal(file_mode(path("ca/ca.pem")), 0644);
	assert_int_equal(file_mode(path("ca/ca.key")), 0600);
	text = (char *)slurp(path("ca/ca.pem"), &len);
	assert_string_equal(sd_ca_cert_pem(ca), text);
	free(text);
	text = (char *)slurp(path("ca/ca.key"), &len);
	assert_non_null(strstr(text, "-----BEGIN PRIVATE KEY-----"));
	free(text);
	EVP_PKEY_free(k);
	X509_free(x);
}

static void test_create_never_overwrites(void **state)
{
	uint8_t *cert1, *key1, *cert2, *key2;
	size_t c1, k1, c2, k2;

	(void)state;
	assert_int_equal(mkdir(path("c1"), 0700), 0);
	assert_int_equal(sd_ca_create(path("c1"), "first", 10), 0);
	cert1 = slurp(path("c1/ca.pem"), &c1);
	key1 = slurp(path("c1/ca.key"), &k1);
	assert_int_equal(sd_ca_create(path("c1"), "second", 10), SD_ERR_EXISTS);
	cert2 = slurp(path("c1/ca.pem"), &c2);
	key2 = slurp(path("c1/ca.key"), &k2);
	assert_int_equal(c1, c2);
	assert_int_equal(k1, k2);
	assert_memory_equal(cert1, cert2, c1);
	assert_memory_equal(key1, key2, k1);
	/* A key alone, or a certificate alone, blocks creation too, and nothing is added. */
	assert_int_equal(unlink(path("c1/ca.pem")), 0);
	assert_int_equal(sd_ca_create(path("c1"), "third", 10), SD_ERR_EXISTS);
	assert_false(exists(path("c1/ca.pem")));
	assert_int_equal(rename(path("c1/ca.key"), path("c1/old.key")), 0);
	spit(path("c1/ca.pem"), cert1, c1, 0644);
	assert_int_equal(sd_ca_create(path("c1"), "fourth", 10), SD_ERR_EXISTS);
	assert_false(exists(path("c1/ca.key")));
	free(cert1);
	free(key1);
	free(cert2);
	free(key2);
}

static void test_create_refusals(void **state)
{
	char long_name[SD_CA_NAME_MAX + 2];

	(void)state;
	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(mkdir(path("c2"), 0700), 0);
	assert_int_equal(sd_ca_create(path("c2"), "x", 0), SD_ERR_USAGE);
	assert_int_equal(sd_ca_create(path("c2"), "x", -5), SD_ERR_USAGE);
	assert_int_equal(sd_ca_create(path("c2"), "x", 3651), SD_ERR_REFUSED);
	assert_int_equal(sd_ca_create(path("c2"), "", 10), SD_ERR_USAGE);
	assert_int_equal(sd_ca_create(path("c2"), long_name, 10), SD_ERR_USAGE);
	assert_int_equal(sd_ca_create(path("c2"), "bad\nname", 10), SD_ERR_USAGE);
	assert_int_equal(sd_ca_create(path("c2"), NULL, 10), SD_ERR_USAGE);
	assert_int_equal(sd_ca_create(NULL, "x", 10), SD_ERR_USAGE);
	assert_false(exists(path("c2/ca.pem")));
	assert_false(exists(path("c2/ca.key")));
	assert_int_equal(sd_ca_create(path("missing"), "x", 10), SD_ERR_NOENT);
	assert_false(exists(path("missing")));
	/* 64 bytes of UTF-8 is the longest name. */
	long_name[SD_CA_NAME_MAX] = '\0';
	assert_int_equal(sd_ca_create(path("c2"), long_name, 10), 0);
}

static void test_load_refusals(void **state)
{
	sd_ca_t *c = NULL;
	uint8_t *buf;
	size_t len;

	(void)state;
	assert_int_equal(mkdir(path("l1"), 0700), 0);
	assert_int_equal(sd_ca_load(path("l1"), &c), SD_ERR_NOENT);
	assert_null(c);
	/* A key others can read is refused, as ssh refuses one. */
	assert_int_equal(sd_ca_create(path("l1"), "load test", 10), 0);
	assert_int_equal(chmod(path("l1/ca.key"), 0640), 0);
	assert_int_equal(sd_ca_load(path("l1"), &c), SD_ERR_REFUSED);
	assert_null(c);
	assert_int_equal(chmod(path("l1/ca.key"), 0600), 0);
	assert_int_equal(sd_ca_load(path("l1"), &c), 0);
	sd_ca_free(c);
	assert_null(c);
	/* Another CA's key with this certificate. */
	assert_int_equal(unlink(path("l1/ca.key")), 0);
	buf = slurp(path("other/ca.key"), &len);
	spit(path("l1/ca.key"), buf, len, 0600);
	free(buf);
	assert_int_equal(sd_ca_load(path("l1"), &c), SD_ERR_WRONG_KEY);
	assert_null(c);
	/* Garbage in place of the certificate. */
	assert_int_equal(unlink(path("l1/ca.pem")), 0);
	spit(path("l1/ca.pem"), "not a certificate\n", 18, 0644);
	assert_int_equal(sd_ca_load(path("l1"), &c), SD_ERR_FORMAT);
	/* A leaf certificate and its key are not a CA. */
	assert_int_equal(mkdir(path("l2"), 0700), 0);
	const char *hosts[] = {"localhost"};
	assert_int_equal(sd_ca_issue_server(ca, hosts, 1, 10, CRL_URL, path("l2/ca.pem"), path("l2/ca.key"), NULL), 0);
	assert_int_equal(sd_ca_load(path("l2"), &c), SD_ERR_FORMAT);
	assert_null(c);
}

/* --- server certificate ------------------------------------------------------------ */

static void assert_sans(X509 *x)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	static const uint8_t v4[4] = {127, 0, 0, 1};
	static const uint8_t v6[16] = {[15] = 1};
	GENERAL_NAME *g;

	assert_non_null(gens);
	assert_int_equal(sk_GENERAL_NAME_num(gens), 4);
	g = sk_GENERAL_NAME_value(gens, 0);
	assert_int_equal(g->type, GEN_DNS);
	assert_string_equal((const char *)ASN1_STRING_get0_data(g->d.dNSName), "localhost");
	g = sk_GENERAL_NAME_value(gens, 1);
	assert_int_equal(g->type, GEN_IPADD);
	assert_int_equal(ASN1_STRING_length(g->d.iPAddress), 4);
	assert_memory_equal(ASN1_STRING_get0_data(g->d.iPAddress), v4, 4);
	g = sk_GENERAL_NAME_value(gens, 2);
	assert_int_equal(g->type, GEN_IPADD);
	assert_int_equal(ASN1_STRING_length(g->d.iPAddress), 16);
	assert_memory_equal(ASN1_STRING_get0_data(g->d.iPAddress), v6, 16);
	g = sk_GENERAL_NAME_value(gens, 3);
	assert_int_equal(g->type, GEN_DNS);
	assert_string_equal((const char *)ASN1_STRING_get0_data(g->d.dNSName), "drop.example-1.kr");
	GENERAL_NAMES_free(gens);
}

static void test_server_certificate(void **state)
{
	const char *hosts[] = {"localhost", "127.0.0.1", "::1", "drop.example-1.kr"};
	sd_ca_cert_info_t info;
	uint8_t fp[32], *der;
	size_t len;
	X509 *x, *root = file_x509(path("ca/ca.pem"));
	EVP_PKEY *k;

	(void)state;
	assert_int_equal(sd_ca_issue_server(ca, hosts, 4, 398, CRL_URL, path("server.pem"), path("server.key"), &info),
	                 0);
	assert_int_equal(file_mode(path("server.pem")), 0644);
	assert_int_equal(file_mode(path("server.key")), 0600);
	x = file_x509(path("server.pem"));
	k = load_key_file(path("server.key"));
	assert_int_equal(openssl_verify(path("ca/ca.pem"), x, X509_PURPOSE_SSL_SERVER, NULL), 0);
	assert_int_equal(openssl_verify(path("other/ca.pem"), x, X509_PURPOSE_SSL_SERVER, NULL),
	                 X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
	assert_int_equal(X509_check_private_key(x, k), 1);
	assert_int_equal(X509_check_host(x, "localhost", 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(x, "drop.example-1.kr", 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(x, "evil.example", 0, 0, NULL), 0);
	assert_int_equal(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
	assert_int_equal(X509_check_ip_asc(x, "::1", 0), 1);
	assert_int_equal(X509_check_ip_asc(x, "127.0.0.2", 0), 0);
	assert_sans(x);
	assert_name_entry(x, NID_commonName, "localhost");
	assert_int_equal(X509_get_extended_key_usage(x), XKU_SSL_SERVER);
	assert_true(ext_is_critical(x, NID_key_usage));
	assert_int_equal(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE);
	assert_true(ext_is_critical(x, NID_basic_constraints));
	assert_int_equal(X509_check_ca(x), 0);
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x), X509_get0_subject_key_id(root)), 0);
	assert_crl_dp(x, CRL_URL);
	/* 398 days counted inclusively, as RFC 5280 and the CA/Browser Forum count. */
	assert_int_equal(x509_time(X509_get0_notAfter(x)) - x509_time(X509_get0_notBefore(x)), 398 * DAY - 1);
	assert_int_equal(info.not_before, x509_time(X509_get0_notBefore(x)));
	assert_int_equal(info.not_after, x509_time(X509_get0_notAfter(x)));
	assert_serial(x, info.serial);
	der = x509_der(x, &len);
	sha256(der, len, fp);
	assert_memory_equal(info.fingerprint, fp, 32);
	assert_string_equal(info.role, "");
	/* A server certificate does not log anybody in. */
	sd_ca_cert_info_t ci;
	assert_int_equal(sd_ca_verify_client(ca, der, len, NULL, 0, time(NULL), &ci), SD_ERR_INVALID);
	free(der);
	EVP_PKEY_free(k);
	X509_free(x);
	X509_free(root);
}

static void test_server_never_overwrites(void **state)
{
	const char *hosts[] = {"localhost"};
	uint8_t *c1, *k1, *c2, *k2;
	size_t cl1, kl1, cl2, kl2;

	(void)state;
	assert_int_equal(sd_ca_issue_server(ca, hosts, 1, 30, CRL_URL, path("s1.pem"), path("s1.key"), NULL), 0);
	c1 = slurp(path("s1.pem"), &cl1);
	k1 = slurp(path("s1.key"), &kl1);
	assert_int_equal(sd_ca_issue_server(ca, hosts, 1, 30, CRL_URL, path("s1.pem"), path("s1.key"), NULL),
	                 SD_ERR_EXISTS);
	/* An existing key with a new certificate name: the key stays, no certificate appears. */
	assert_int_equal(sd_ca_issue_server(ca, hosts, 1, 30, CRL_URL, path("s2.pem"), path("s1.key"), NULL),
	                 SD_ERR_EXISTS);
	assert_false(exists(path("s2.pem")));
	/* An existing certificate with a new key name: no orphan key is left behind. */
	assert_int_equal(sd_ca_issue_server(ca, hosts, 1, 30, CRL_URL, path("s1.pem"), path("s2.key"), NULL),
	                 SD_ERR_EXISTS);
	assert_false(exists(path("s2.key")));
	c2 = slurp(path("s1.pem"), &cl2);
	k2 = slurp(path("s1.key"), &kl2);
	assert_int_equal(cl1, cl2);
	assert_int_equal(kl1, kl2);
	assert_memory_equal(c1, c2, cl1);
	assert_memory_equal(k1, k2, kl1);
	free(c1);
	free(k1);
	free(c2);
	free(k2);
}

static void test_server_refusals(void **state)
{
	static const char *const bad_hosts[] = {
	        "",
	        "bad host",
	        "-lead.example",
	        "trail-.example",
	        "a..b",
	        ".example",
	        "example.",
	        "under_score.example",
	        "::1%lo",
	        "[::1]",
	        "caf\xc3\xa9.example",
	        "*.example",
	        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example", /* 64-byte label */
	};
	static const char *const bad_urls[] = {
	        "",
	        "ftp://localhost/crl",
	        "https://",
	        "https:///crl",
	        "https://local host/crl",
	        "localhost/crl",
	        "https://localhost/\x01",
	        "https://localhost/cr\xc3\xa9",
	};
	const char *hosts[SD_CA_HOSTNAMES_MAX + 1];
	char long_url[SD_CA_URL_MAX + 2];

	(void)state;
	for (size_t i = 0; i <= SD_CA_HOSTNAMES_MAX; i++)
		hosts[i] = "localhost";
	assert_int_equal(sd_ca_issue_server(ca, hosts, 1, 399, CRL_URL, path("r.pem"), path("r.key"), NULL),
	                 SD_ERR_REFUSED);
	assert_int_equal(sd_ca_issue_server(ca, hosts, 1, 0, CRL_URL, path("r.pem"), path("r.key"), NULL),
	                 SD_ERR_USAGE);
	assert_int_equal(sd_ca_issue_server(ca, hosts, 0, 30, CRL_URL, path("r.pem"), path("r.key"), NULL),
	                 SD_ERR_USAGE);
	assert_int_equal(
	        sd_ca_issue_server(ca, hosts, SD_CA_HOSTNAMES_MAX + 1, 30, CRL_URL, path("r.pem"), path("r.key"), NULL),
	        SD_ERR_USAGE);
	for (size_t i = 0; i < sizeof(bad_hosts) / sizeof(bad_hosts[0]); i++) {
		const char *h[2] = {"localhost", bad_hosts[i]};
		assert_int_equal(sd_ca_issue_server(ca, h, 2, 30, CRL_URL, path("r.pem"), path("r.key"), NULL),
		                 SD_ERR_USAGE);
	}
	hosts[1] = NULL;
	assert_int_equal(sd_ca_issue_server(ca, hosts, 2, 30, CRL_URL, path("r.pem"), path("r.key"), NULL),
	                 SD_ERR_USAGE);
	for (size_t i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); i++)
		assert_int_equal(sd_ca_issue_server(ca, hosts, 1, 30, bad_urls[i], path("r.pem"), path("r.key"), NULL),
		                 SD_ERR_USAGE);
	assert_int_equal(sd_ca_issue_server(ca, hosts, 1, 30, NULL, path("r.pem"), path("r.key"), NULL), SD_ERR_USAGE);
	memcpy(long_url, "https://", 8);
	memset(long_url + 8, 'a', sizeof(long_url) - 9);
	long_url[sizeof(long_url) - 1] = '\0';
	assert_int_equal(sd_ca_issue_server(ca, hosts, 1, 30, long_url, path("r.pem"), path("r.key"), NULL),
	                 SD_ERR_USAGE);
	assert_false(exists(path("r.pem")));
	assert_false(exists(path("r.key")));
	/* The limits themselves are fine: 32 names, 398 days, a 63-byte label, http. */
	hosts[1] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example";
	assert_int_equal(sd_ca_issue_server(ca, hosts, SD_CA_HOSTNAMES_MAX, 398, "http://crl.example/ca.crl",
	                                    path("r.pem"), path("r.key"), NULL),
	                 0);
}

/* --- client certificates --------------------------------------------------------- */

static void assert_client_cert(X509 *x, const char *role, const char *name)
{
	assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(x)), 2);
	assert_name_entry(x, NID_organizationalUnitName, role);
	assert_name_entry(x, NID_commonName, name);
	assert_int_equal(X509_get_extended_key_usage(x), XKU_SSL_CLIENT);
	assert_int_equal(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE);
	assert_int_equal(X509_check_ca(x), 0);
	assert_int_equal(X509_get_ext_by_NID(x, NID_subject_alt_name, -1), -1);
	assert_crl_dp(x, CRL_URL);
	assert_int_equal(openssl_verify(path("ca/ca.pem"), x, X509_PURPOSE_SSL_CLIENT, NULL), 0);
	assert_int_equal(openssl_verify(path("ca/ca.pem"), x, X509_PURPOSE_SSL_SERVER, NULL),
	                 X509_V_ERR_INVALID_PURPOSE);
}

static void test_client_generated_key(void **state)
{
	sd_ca_cert_info_t info, seen;
	char *cert = NULL, *key = NULL;
	uint8_t fp[32], fp2[32], *der, *der2;
	size_t len, len2;
	X509 *x;
	EVP_PKEY *k;
	BIO *b;

	(void)state;
	assert_int_equal(sd_ca_issue_client(ca, "attorney", "Attorney Kim", NULL, 0, 398, CRL_URL, &cert, &key, &info),
	                 0);
	x = pem_x509(cert);
	assert_client_cert(x, "attorney", "Attorney Kim");
	assert_int_equal(x509_time(X509_get0_notAfter(x)) - x509_time(X509_get0_notBefore(x)), 398 * DAY - 1);
	b = BIO_new_mem_buf(key, -1);
	k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	assert_non_null(k);
	assert_int_equal(X509_check_private_key(x, k), 1);
	assert_non_null(strstr(key, "-----BEGIN PRIVATE KEY-----"));
	assert_string_equal(info.role, "attorney");
	assert_string_equal(info.name, "Attorney Kim");
	assert_serial(x, info.serial);
	der = x509_der(x, &len);
	sha256(der, len, fp);
	assert_memory_equal(info.fingerprint, fp, 32);
	/* The fingerprint is a function of the certificate alone, whichever way it came. */
	assert_int_equal(sd_ca_fingerprint(der, len, fp2), 0);
	assert_memory_equal(fp2, fp, 32);
	assert_int_equal(sd_ca_cert_from_pem(cert, strlen(cert), &der2, &len2), 0);
	assert_int_equal(len2, len);
	assert_memory_equal(der2, der, len);
	assert_int_equal(sd_ca_verify_client(ca, der, len, NULL, 0, time(NULL), &seen), 0);
	assert_memory_equal(seen.fingerprint, fp, 32);
	assert_memory_equal(seen.serial, info.serial, SD_CA_SERIAL_BYTES);
	assert_string_equal(seen.role, "attorney");
	assert_string_equal(seen.name, "Attorney Kim");
	assert_int_equal(seen.not_before, info.not_before);
	assert_int_equal(seen.not_after, info.not_after);
	free(der);
	free(der2);
	free(cert);
	sd_secret_free(key);
	EVP_PKEY_free(k);
	X509_free(x);
}

static void client_from_csr(EVP_PKEY *k, bool pem, sd_ca_key_type_t want_type)
{
	sd_ca_cert_info_t info, seen;
	sd_ca_key_type_t type = 0;
	char *cert = NULL, *key = (char *)"sentinel";
	size_t len, dlen;
	uint8_t *csr = csr_make(k, k, pem, &len), *der;
	X509 *x;

	assert_int_equal(sd_ca_csr_check(csr, len, &type), 0);
	assert_int_equal(type, want_type);
	assert_int_equal(sd_ca_issue_client(ca, "officer", "Officer Lee", csr, len, 90, CRL_URL, &cert, &key, &info),
	                 0);
	assert_null(key);
	x = pem_x509(cert);
	/* Only the key came from the CSR: its subject and extensions were ignored. */
	assert_client_cert(x, "officer", "Officer Lee");
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), k), 1);
	der = x509_der(x, &dlen);
	assert_int_equal(sd_ca_verify_client(ca, der, dlen, NULL, 0, time(NULL), &seen), 0);
	assert_memory_equal(seen.fingerprint, info.fingerprint, 32);
	assert_string_equal(seen.role, "officer");
	/* key_pem may be NULL when a CSR is given. */
	free(cert);
	assert_int_equal(sd_ca_issue_client(ca, "officer", "Officer Lee", csr, len, 90, CRL_URL, &cert, NULL, NULL), 0);
	free(cert);
	free(der);
	free(csr);
	X509_free(x);
}

static void test_client_from_csr(void **state)
{
	EVP_PKEY *p256 = EVP_EC_gen("P-256"), *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

	(void)state;
	client_from_csr(p256, true, SD_CA_KEY_P256);
	client_from_csr(p256, false, SD_CA_KEY_P256);
	client_from_csr(ed, true, SD_CA_KEY_ED25519);
	EVP_PKEY_free(p256);
	EVP_PKEY_free(ed);
}

static void assert_csr_refused(const uint8_t *csr, size_t len, int want)
{
	char *cert = (char *)"x", *key = (char *)"y";

	assert_int_equal(sd_ca_csr_check(csr, len, NULL), want);
	assert_int_equal(sd_ca_issue_client(ca, "attorney", "A", csr, len, 30, CRL_URL, &cert, &key, NULL), want);
	assert_null(cert);
	assert_null(key);
	assert_int_equal(ERR_peek_error(), 0); /* nothing left behind in OpenSSL's queue */
}

static void test_csr_wrong_keys(void **state)
{
	EVP_PKEY *rsa = EVP_RSA_gen(2048), *p384 = EVP_EC_gen("P-384"), *a = EVP_EC_gen("P-256"),
	         *b = EVP_EC_gen("P-256");
	uint8_t *csr;
	size_t len;

	(void)state;
	csr = csr_make(rsa, rsa, true, &len);
	assert_csr_refused(csr, len, SD_ERR_REFUSED);
	assert_string_equal(sd_error_detail(), "the CSR's key is neither ECDSA P-256 nor Ed25519");
	free(csr);
	csr = csr_make(p384, p384, false, &len);
	assert_csr_refused(csr, len, SD_ERR_REFUSED);
	free(csr);
	/* A's public key, B's signature: no proof that the requester holds A's key. */
	csr = csr_make(a, b, true, &len);
	assert_csr_refused(csr, len, SD_ERR_VERIFY);
	free(csr);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
}

static void test_csr_damage(void **state)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	size_t len, plen;
	uint8_t *csr = csr_make(k, k, false, &len), *pem = csr_make(k, k, true, &plen), *buf;
	size_t accepted = 0;

	(void)state;
	buf = malloc(len + SD_CA_CSR_MAX_BYTES + 1);
	assert_non_null(buf);
	/* The signature's last byte. */
	memcpy(buf, csr, len);
	buf[len - 1] ^= 0x01;
	assert_csr_refused(buf, len, SD_ERR_VERIFY);
	for (size_t i = 0; i < len * 8; i++) {
		memcpy(buf, csr, len);
		buf[i / 8] ^= (uint8_t)(1u << (i % 8));
		if (sd_ca_csr_check(buf, len, NULL) == 0)
			accepted++;
	}
	assert_int_equal(accepted, 0);
	for (size_t n = 0; n < len; n++)
		assert_true(sd_ca_csr_check(csr, n, NULL) < 0);
	memcpy(buf, csr, len);
	buf[len] = 0;
	assert_int_equal(sd_ca_csr_check(buf, len + 1, NULL), SD_ERR_FORMAT);
	assert_int_equal(sd_ca_csr_check(NULL, 0, NULL), SD_ERR_FORMAT);
	memset(buf, ' ', SD_CA_CSR_MAX_BYTES + 1);
	assert_int_equal(sd_ca_csr_check(buf, SD_CA_CSR_MAX_BYTES + 1, NULL), SD_ERR_TOOBIG);
	/* PEM: whitespace around is fine, anything else around is not. */
	buf[0] = '\n';
	memcpy(buf + 1, pem, plen);
	memcpy(buf + 1 + plen, "\n \r\n", 4);
	assert_int_equal(sd_ca_csr_check(buf, plen + 5, NULL), 0);
	memcpy(buf, "junk\n", 5);
	memcpy(buf + 5, pem, plen);
	assert_int_equal(sd_ca_csr_check(buf, plen + 5, NULL), SD_ERR_FORMAT);
	memcpy(buf, pem, plen);
	memcpy(buf + plen, "junk\n", 5);
	assert_int_equal(sd_ca_csr_check(buf, plen + 5, NULL), SD_ERR_FORMAT);
	memcpy(buf, pem, plen);
	memcpy(buf + plen, pem, plen);
	assert_int_equal(sd_ca_csr_check(buf, 2 * plen, NULL), SD_ERR_FORMAT);
	for (size_t n = 0; n < plen - 1; n += 7)
		assert_true(sd_ca_csr_check(pem, n, NULL) < 0);
	assert_int_equal(sd_ca_csr_check((const uint8_t *)sd_ca_cert_pem(ca), strlen(sd_ca_cert_pem(ca)), NULL),
	                 SD_ERR_FORMAT);
	free(buf);
	free(csr);
	free(pem);
	EVP_PKEY_free(k);
}

static void test_client_refusals(void **state)
{
	static const char *const bad_names[] = {
	        "",
	        " Kim",
	        "Kim ",
	        "Kim\nLee",
	        "Kim\x7f",
	        "Kim\xc2\x85",
	        "\xc3\x28",
	        "Kim\tLee",
	        "12345678901234567890123456789012345678901234567890123456789012345", /* 65 bytes */
	};
	/* 21 Hangul syllables (63 bytes) + 1 = the longest name, in the script users write. */
	char korean[SD_CA_NAME_BYTES] = "";
	char *cert = NULL, *key = NULL;
	X509 *x;

	(void)state;
	for (int i = 0; i < 21; i++)
		memcpy(korean + 3 * i, "\xea\xb9\x80", 3); /* 김 */
	memcpy(korean + 63, "a", 2);
	assert_int_equal(strlen(korean), SD_CA_NAME_MAX);
	assert_int_equal(sd_ca_issue_client(ca, "attorney", "A", NULL, 0, 399, CRL_URL, &cert, &key, NULL),
	                 SD_ERR_REFUSED);
	assert_non_null(strstr(sd_error_detail(), "399 days is beyond the limit of 398"));
	assert_int_equal(sd_ca_issue_client(ca, "attorney", "A", NULL, 0, 0, CRL_URL, &cert, &key, NULL), SD_ERR_USAGE);
	assert_int_equal(sd_ca_issue_client(ca, "admin", "A", NULL, 0, 30, CRL_URL, &cert, &key, NULL), SD_ERR_USAGE);
	assert_int_equal(sd_ca_issue_client(ca, NULL, "A", NULL, 0, 30, CRL_URL, &cert, &key, NULL), SD_ERR_USAGE);
	assert_int_equal(sd_ca_issue_client(ca, "attorney", "A", NULL, 0, 30, "ftp://x", &cert, &key, NULL),
	                 SD_ERR_USAGE);
	assert_int_equal(sd_ca_issue_client(ca, "attorney", "A", NULL, 0, 30, CRL_URL, &cert, NULL, NULL),
	                 SD_ERR_USAGE);
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++)
		assert_int_equal(
		        sd_ca_issue_client(ca, "custodian", bad_names[i], NULL, 0, 30, CRL_URL, &cert, &key, NULL),
		        SD_ERR_USAGE);
	assert_null(cert);
	assert_null(key);
	assert_int_equal(sd_ca_issue_client(ca, "custodian", korean, NULL, 0, 30, CRL_URL, &cert, &key, NULL), 0);
	x = pem_x509(cert);
	assert_client_cert(x, "custodian", korean);
	X509_free(x);
	free(cert);
	sd_secret_free(key);
}

static void test_serials_are_random(void **state)
{
	sd_ca_cert_info_t info[8];

	(void)state;
	for (int i = 0; i < 8; i++) {
		free(issue(ca, "operator", "Op", &info[i]));
		assert_int_equal(info[i].serial[0] & 0xc0, 0x40);
		for (int j = 0; j < i; j++) {
			assert_memory_not_equal(info[i].serial, info[j].serial, SD_CA_SERIAL_BYTES);
			assert_memory_not_equal(info[i].fingerprint, info[j].fingerprint, 32);
		}
	}
}

/* --- verification and revocation --------------------------------------------------- */

static void test_verify_client_refusals(void **state)
{
	sd_ca_cert_info_t info, seen;
	char *cert = issue(ca, "attorney", "Attorney Park", &info), *foreign = issue(other, "attorney", "Park", NULL);
	size_t len, flen, accepted = 0;
	uint8_t *der = pem_der(cert, &len), *fder = pem_der(foreign, &flen), *buf, *forged;
	time_t now = time(NULL);

	(void)state;
	assert_int_equal(sd_ca_verify_client(ca, der, len, NULL, 0, now, &seen), 0);
	assert_int_equal(sd_ca_verify_client(ca, fder, flen, NULL, 0, now, &seen), SD_ERR_VERIFY);
	assert_int_equal(sd_ca_verify_client(other, der, len, NULL, 0, now, &seen), SD_ERR_VERIFY);
	assert_int_equal(sd_ca_verify_client(other, fder, flen, NULL, 0, now, &seen), 0);
	assert_int_equal(sd_ca_verify_client(ca, der, len, NULL, 0, now + 31 * DAY, &seen), SD_ERR_EXPIRED);
	assert_int_equal(sd_ca_verify_client(ca, der, len, NULL, 0, now - DAY, &seen), SD_ERR_EXPIRED);
	assert_int_equal(sd_ca_verify_client(ca, der, len, NULL, 1, now, &seen), SD_ERR_USAGE);
	assert_int_equal(sd_ca_verify_client(ca, der, len, NULL, 0, now, NULL), SD_ERR_USAGE);
	assert_int_equal(sd_ca_verify_client(ca, der, 0, NULL, 0, now, &seen), SD_ERR_FORMAT);
	/* The CA's own certificate is not a client. */
	uint8_t *cader = pem_der(sd_ca_cert_pem(ca), &flen);
	assert_int_equal(sd_ca_verify_client(ca, cader, flen, NULL, 0, now, &seen), SD_ERR_INVALID);
	free(cader);
	/* Signed with the CA's key but with an unknown role, or none. */
	forged = forge_client("admin", &flen);
	assert_int_equal(sd_ca_verify_client(ca, forged, flen, NULL, 0, now, &seen), SD_ERR_INVALID);
	free(forged);
	forged = forge_client(NULL, &flen);
	assert_int_equal(sd_ca_verify_client(ca, forged, flen, NULL, 0, now, &seen), SD_ERR_INVALID);
	free(forged);
	forged = forge_client("officer", &flen);
	assert_int_equal(sd_ca_verify_client(ca, forged, flen, NULL, 0, now, &seen), 0);
	free(forged);
	buf = malloc(len + 1);
	assert_non_null(buf);
	memcpy(buf, der, len);
	buf[len] = 0;
	assert_int_equal(sd_ca_verify_client(ca, buf, len + 1, NULL, 0, now, &seen), SD_ERR_FORMAT);
	for (size_t n = 0; n < len; n += 3)
		assert_true(sd_ca_verify_client(ca, der, n, NULL, 0, now, &seen) < 0);
	for (size_t i = 0; i < len * 8; i++) {
		memcpy(buf, der, len);
		buf[i / 8] ^= (uint8_t)(1u << (i % 8));
		if (sd_ca_verify_client(ca, buf, len, NULL, 0, now, &seen) == 0)
			accepted++;
	}
	assert_int_equal(accepted, 0);
	assert_int_equal(ERR_peek_error(), 0);
	free(buf);
	free(der);
	free(fder);
	free(cert);
	free(foreign);
}

static X509_CRL *pem_crl(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509_CRL *crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);

	BIO_free(b);
	assert_non_null(crl);
	return crl;
}

static void assert_crl_fields(X509_CRL *crl, const sd_ca_revoked_t *rev, uint64_t number, int days)
{
	X509 *root = file_x509(path("ca/ca.pem"));
	STACK_OF(X509_REVOKED) *entries = X509_CRL_get_REVOKED(crl);
	ASN1_INTEGER *num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	AUTHORITY_KEYID *akid = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, NULL, NULL);
	uint64_t got = 0;
	uint8_t serial[SD_CA_SERIAL_BYTES];
	BIGNUM *bn;

	assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(root)), 1);
	assert_int_equal(X509_CRL_get_version(crl), X509_CRL_VERSION_2);
	assert_int_equal(X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(root)), 0);
	assert_int_equal(x509_time(X509_CRL_get0_nextUpdate(crl)) - x509_time(X509_CRL_get0_lastUpdate(crl)),
	                 (int64_t)days * DAY);
	assert_non_null(num);
	assert_int_equal(ASN1_INTEGER_get_uint64(&got, num), 1);
	assert_int_equal(got, number);
	assert_non_null(akid);
	assert_int_equal(ASN1_OCTET_STRING_cmp(akid->keyid, X509_get0_subject_key_id(root)), 0);
	assert_int_equal(sk_X509_REVOKED_num(entries), 1);
	bn = ASN1_INTEGER_to_BN(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(entries, 0)), NULL);
	assert_int_equal(BN_bn2binpad(bn, serial, sizeof(serial)), SD_CA_SERIAL_BYTES);
	assert_memory_equal(serial, rev->serial, SD_CA_SERIAL_BYTES);
	assert_int_equal(x509_time(X509_REVOKED_get0_revocationDate(sk_X509_REVOKED_value(entries, 0))),
	                 rev->revoked_at);
	BN_free(bn);
	ASN1_INTEGER_free(num);
	AUTHORITY_KEYID_free(akid);
	X509_free(root);
}

static void test_crl_and_revocation(void **state)
{
	sd_ca_cert_info_t a, b, seen;
	char *ca_pem = issue(ca, "attorney", "Revoked", &a), *cb_pem = issue(ca, "attorney", "Kept", &b), *pem = NULL;
	sd_ca_revoked_t rev[2];
	uint8_t *der = NULL, *da, *db;
	size_t dlen = 0, la, lb;
	X509_CRL *crl;
	X509 *xa = pem_x509(ca_pem), *xb = pem_x509(cb_pem);
	time_t now = time(NULL);
	const unsigned char *p;

	(void)state;
	memcpy(rev[0].serial, a.serial, SD_CA_SERIAL_BYTES);
	rev[0].revoked_at = 1767225600; /* 2026-01-01 00:00:00 UTC */
	assert_int_equal(sd_ca_crl(ca, rev, 1, 7, 30, &pem, &der, &dlen), 0);
	crl = pem_crl(pem);
	assert_crl_fields(crl, &rev[0], 7, 30);
	p = der;
	X509_CRL *crl2 = d2i_X509_CRL(NULL, &p, (long)dlen);
	assert_non_null(crl2);
	assert_ptr_equal(p, der + dlen);
	assert_int_equal(X509_CRL_cmp(crl, crl2), 0);
	X509_CRL_free(crl2);
	/* OpenSSL's own CRL check agrees, so a TLS stack given this CRL refuses too. */
	assert_int_equal(openssl_verify(path("ca/ca.pem"), xa, X509_PURPOSE_SSL_CLIENT, crl), X509_V_ERR_CERT_REVOKED);
	assert_int_equal(openssl_verify(path("ca/ca.pem"), xb, X509_PURPOSE_SSL_CLIENT, crl), 0);
	da = x509_der(xa, &la);
	db = x509_der(xb, &lb);
	assert_int_equal(sd_ca_verify_client(ca, da, la, rev, 1, now, &seen), SD_ERR_REFUSED);
	assert_int_equal(sd_ca_verify_client(ca, db, lb, rev, 1, now, &seen), 0);
	assert_string_equal(seen.name, "Kept");
	X509_CRL_free(crl);
	free(pem);
	free(der);
	/* No revocations: a valid, empty CRL; either output alone is fine. */
	assert_int_equal(sd_ca_crl(ca, NULL, 0, 8, 1, &pem, NULL, NULL), 0);
	crl = pem_crl(pem);
	assert_true(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)) <= 0); /* -1: no list at all */
	assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(xa)), 0);  /* signed by the CA, not a client */
	ERR_clear_error();
	X509_CRL_free(crl);
	free(pem);
	assert_int_equal(sd_ca_crl(ca, rev, 1, 9, SD_CA_CRL_MAX_DAYS, NULL, &der, &dlen), 0);
	assert_true(dlen > 0);
	free(der);
	/* Refusals. */
	memcpy(&rev[1], &rev[0], sizeof(rev[0]));
	assert_int_equal(sd_ca_crl(ca, rev, 2, 10, 30, &pem, NULL, NULL), SD_ERR_USAGE);
	assert_null(pem);
	rev[1].serial[15] ^= 1;
	assert_int_equal(sd_ca_crl(ca, rev, 2, 10, 30, &pem, NULL, NULL), 0);
	free(pem);
	assert_int_equal(sd_ca_crl(ca, rev, 1, 0, 30, &pem, NULL, NULL), SD_ERR_USAGE);
	assert_int_equal(sd_ca_crl(ca, rev, 1, 10, 0, &pem, NULL, NULL), SD_ERR_USAGE);
	assert_int_equal(sd_ca_crl(ca, rev, 1, 10, SD_CA_CRL_MAX_DAYS + 1, &pem, NULL, NULL), SD_ERR_USAGE);
	assert_int_equal(sd_ca_crl(ca, NULL, 1, 10, 30, &pem, NULL, NULL), SD_ERR_USAGE);
	assert_int_equal(sd_ca_crl(ca, rev, 1, 10, 30, NULL, &der, NULL), SD_ERR_USAGE);
	free(da);
	free(db);
	free(ca_pem);
	free(cb_pem);
	X509_free(xa);
	X509_free(xb);
}

/* --- interoperability ---------------------------------------------------------------- */

static void test_cert_from_pem(void **state)
{
	const char *pem = sd_ca_cert_pem(ca);
	size_t n = strlen(pem), len;
	char *buf = malloc(2 * n + 16);
	uint8_t *der = NULL;

	(void)state;
	assert_non_null(buf);
	snprintf(buf, 2 * n + 16, "\n  %s\n\n", pem);
	assert_int_equal(sd_ca_cert_from_pem(buf, strlen(buf), &der, &len), 0);
	free(der);
	snprintf(buf, 2 * n + 16, "%s%s", pem, pem);
	assert_int_equal(sd_ca_cert_from_pem(buf, strlen(buf), &der, &len), SD_ERR_FORMAT);
	assert_null(der);
	snprintf(buf, 2 * n + 16, "x%s", pem);
	assert_int_equal(sd_ca_cert_from_pem(buf, strlen(buf), &der, &len), SD_ERR_FORMAT);
	assert_int_equal(sd_ca_cert_from_pem(pem, n / 2, &der, &len), SD_ERR_FORMAT);
	assert_int_equal(sd_ca_cert_from_pem("", 0, &der, &len), SD_ERR_FORMAT);
	/* A private key is not a certificate, and its text never reaches the detail. */
	size_t klen;
	char *key = (char *)slurp(path("ca/ca.key"), &klen);
	assert_int_equal(sd_ca_cert_from_pem(key, klen, &der, &len), SD_ERR_FORMAT);
	assert_null(strstr(sd_error_detail(), "PRIVATE"));
	free(key);
	assert_int_equal(sd_ca_fingerprint((const uint8_t *)"\x30\x00", 2, (uint8_t[32]){0}), SD_ERR_FORMAT);
	free(buf);
}

static int run(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Runs the openssl command on a certificate file and compares its SHA-256 fingerprint
 * ("sha256 Fingerprint=AB:CD:...") with ours. */
static void assert_cli_fingerprint(const char *file, const uint8_t fp[32])
{
	char cmd[1024], line[256], want[32 * 3];
	FILE *f;
	char *eq;

	snprintf(cmd, sizeof(cmd), "openssl x509 -in '%s' -noout -fingerprint -sha256", file);
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_int_equal(pclose(f), 0);
	eq = strchr(line, '=');
	assert_non_null(eq);
	for (int i = 0; i < 32; i++)
		snprintf(want + 3 * i, 4, "%02X%s", fp[i], i < 31 ? ":" : "");
	assert_true(strncmp(eq + 1, want, 95) == 0);
	assert_true(eq[96] == '\n' || eq[96] == '\0');
}

static void test_openssl_cli(void **state)
{
	sd_ca_cert_info_t ci, ri;
	char *cert = issue(ca, "custodian", "Custodian Choi", &ci), *revoked = issue(ca, "officer", "Gone", &ri);
	char *crl = NULL, cmd[2048];
	sd_ca_revoked_t rev;
	const char *hosts[] = {"localhost", "127.0.0.1"};
	sd_ca_cert_info_t si;

	(void)state;
	if (run("command -v openssl >/dev/null 2>&1") != 0) {
		free(cert);
		free(revoked);
		skip();
	}
	spit(path("cli-client.pem"), cert, strlen(cert), 0644);
	spit(path("cli-revoked.pem"), revoked, strlen(revoked), 0644);
	assert_int_equal(
	        sd_ca_issue_server(ca, hosts, 2, 200, CRL_URL, path("cli-server.pem"), path("cli-server.key"), &si), 0);
	assert_cli_fingerprint(path("cli-client.pem"), ci.fingerprint);
	assert_cli_fingerprint(path("cli-server.pem"), si.fingerprint);
	memcpy(rev.serial, ri.serial, SD_CA_SERIAL_BYTES);
	rev.revoked_at = (int64_t)time(NULL) - DAY;
	assert_int_equal(sd_ca_crl(ca, &rev, 1, 1, 7, &crl, NULL, NULL), 0);
	spit(path("cli-crl.pem"), crl, strlen(crl), 0644);
	snprintf(cmd, sizeof(cmd), "openssl verify -x509_strict -purpose sslserver -CAfile '%s' '%s' >/dev/null 2>&1",
	         path("ca/ca.pem"), path("cli-server.pem"));
	assert_int_equal(run(cmd), 0);
	snprintf(cmd, sizeof(cmd), "openssl verify -x509_strict -purpose sslclient -CAfile '%s' '%s' >/dev/null 2>&1",
	         path("ca/ca.pem"), path("cli-client.pem"));
	assert_int_equal(run(cmd), 0);
	snprintf(cmd, sizeof(cmd), "openssl verify -CAfile '%s' '%s' >/dev/null 2>&1", path("other/ca.pem"),
	         path("cli-client.pem"));
	assert_int_not_equal(run(cmd), 0);
	snprintf(cmd, sizeof(cmd), "openssl crl -in '%s' -noout -CAfile '%s' 2>&1 | grep -q '^verify OK$'",
	         path("cli-crl.pem"), path("ca/ca.pem"));
	assert_int_equal(run(cmd), 0);
	snprintf(cmd, sizeof(cmd), "openssl verify -crl_check -CRLfile '%s' -CAfile '%s' '%s' >/dev/null 2>&1",
	         path("cli-crl.pem"), path("ca/ca.pem"), path("cli-client.pem"));
	assert_int_equal(run(cmd), 0);
	snprintf(cmd, sizeof(cmd), "openssl verify -crl_check -CRLfile '%s' -CAfile '%s' '%s' >/dev/null 2>&1",
	         path("cli-crl.pem"), path("ca/ca.pem"), path("cli-revoked.pem"));
	assert_int_not_equal(run(cmd), 0);
	free(crl);
	free(cert);
	free(revoked);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_roles),
	        cmocka_unit_test(test_ca_certificate),
	        cmocka_unit_test(test_create_never_overwrites),
	        cmocka_unit_test(test_create_refusals),
	        cmocka_unit_test(test_load_refusals),
	        cmocka_unit_test(test_server_certificate),
	        cmocka_unit_test(test_server_never_overwrites),
	        cmocka_unit_test(test_server_refusals),
	        cmocka_unit_test(test_client_generated_key),
	        cmocka_unit_test(test_client_from_csr),
	        cmocka_unit_test(test_csr_wrong_keys),
	        cmocka_unit_test(test_csr_damage),
	        cmocka_unit_test(test_client_refusals),
	        cmocka_unit_test(test_serials_are_random),
	        cmocka_unit_test(test_verify_client_refusals),
	        cmocka_unit_test(test_crl_and_revocation),
	        cmocka_unit_test(test_cert_from_pem),
	        cmocka_unit_test(test_openssl_cli),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
