/*
 * ca.c — sealdropd's certificate authority, the one module besides TLS that calls
 * OpenSSL (STYLE.md). It mints the CA (sd_ca_create), the server certificate, the
 * client certificates that carry an account's role (from a generated key or from the
 * user's CSR), the CRL, and it decides whether a presented client certificate is one of
 * ours (sd_ca_verify_client). Start at leaf_new(): every leaf gets the same fixed
 * extensions, and the only caller-supplied bytes that reach a certificate are the
 * subject name, the subjectAltNames and the CRL URL, each validated first and built as
 * ASN.1 structures, never pasted into an OpenSSL configuration string.
 *
 * The CA's private key is kept by OpenSSL; every PEM copy of a private key goes through
 * a secure-memory BIO and sd_secret_alloc, and no key or key text is ever logged. The
 * OpenSSL helpers it shares with the TLS context are server/ossl.c's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sealdrop/bytes.h"
#include "sealdrop/ca.h"
#include "sealdrop/fileio.h"
#include "sealdrop/ossl.h"
#include "sealdrop/sealdrop.h"

#define CA_BACKDATE_SECONDS 300 /* tolerates a little clock skew on the relying party */
#define DAY_SECONDS         86400
#define KEY_FILE_MAX        16384
#define P256_GROUP          "prime256v1"
#define VERIFIED_SLOTS      64 /* client certificates remembered as verified */

/* Client certificates whose chain sd_ca_verify_client checked, by fingerprint: parsing a
 * certificate and checking its signature is most of a new connection's CPU (OpenSSL 3's
 * key decoders), and an attorney's connections all present the same bytes. Only what
 * cannot change for those bytes is remembered (the chain, the signature, the fields); the
 * validity dates, the CA's and the revocation list are checked again on every call. */
struct verified {
	pthread_mutex_t lock;
	size_t n, next;
	sd_ca_cert_info_t info[VERIFIED_SLOTS];
};

struct sd_ca {
	X509 *cert;
	EVP_PKEY *key;
	X509_STORE *store; /* the CA alone, as the trust anchor of sd_ca_verify_client */
	char *cert_pem;
	int64_t not_before, not_after;
	struct verified *verified; /* changed behind a const sd_ca_t *: a cache, under its lock */
};

static const char *const roles[] = {"attorney", "officer", "custodian", "operator"};

bool sd_ca_role_is_valid(const char *role)
{
	if (role == NULL)
		return false;
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (strcmp(role, roles[i]) == 0)
			return true;
	return false;
}

/* A person's or a CA's name: UTF-8, no control characters (C0, DEL, C1), no
 * surrounding space, 1..SD_CA_NAME_MAX bytes. */
bool sd_ca_name_is_valid(const char *name)
{
	size_t n, i = 0;
	uint32_t cp;

	if (name == NULL || (n = strlen(name)) == 0 || n > SD_CA_NAME_MAX || !sd_utf8_is_valid(name, n))
		return false;
	if (name[0] == ' ' || name[n - 1] == ' ')
		return false;
	while (i < n) {
		if (!sd_utf8_decode(name, n, &i, &cp) || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return false;
	}
	return true;
}

/* LDH labels of 1..63 bytes, not starting or ending with a hyphen, 253 bytes at most. */
static bool dns_name_is_valid(const char *h)
{
	size_t n = strlen(h), label = 0;

	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i <= n; i++) {
		char c = h[i];
		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || h[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		bool ldh = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
		if (!ldh || (label == 0 && c == '-'))
			return false;
		label++;
	}
	return true;
}

/* http:// or https://, printable ASCII without spaces, bounded. */
static bool url_is_valid(const char *url)
{
	size_t n, skip;

	if (url == NULL || (n = strlen(url)) > SD_CA_URL_MAX)
		return false;
	if (strncmp(url, "https://", 8) == 0)
		skip = 8;
	else if (strncmp(url, "http://", 7) == 0)
		skip = 7;
	else
		return false;
	if (n == skip || url[skip] == '/')
		return false;
	for (size_t i = 0; i < n; i++)
		if (url[i] <= 0x20 || url[i] >= 0x7f)
			return false;
	return true;
}

/* The kinds of certificate whose validity check_days() checks: whole sentences for each,
 * so that each translates as one. */
enum cert_kind { CERT_CA, CERT_SERVER, CERT_CLIENT };

static int check_days(int days, int max, enum cert_kind kind)
{
	static const char *const too_short[] = {
	        [CERT_CA] = SD_N_("the CA's validity must be at least 1 day, not %d"),
	        [CERT_SERVER] = SD_N_("a server certificate's validity must be at least 1 day, not %d"),
	        [CERT_CLIENT] = SD_N_("a client certificate's validity must be at least 1 day, not %d"),
	};
	static const char *const too_long[] = {
	        [CERT_CA] = SD_N_("the CA's validity of %d days is beyond the limit of %d"),
	        [CERT_SERVER] = SD_N_("a server certificate's validity of %d days is beyond the limit of %d"),
	        [CERT_CLIENT] = SD_N_("a client certificate's validity of %d days is beyond the limit of %d"),
	};

	if (days < 1)
		return sd_error(SD_ERR_USAGE, too_short[kind], days);
	if (days > max)
		return sd_error(SD_ERR_REFUSED, too_long[kind], days, max);
	return 0;
}

static int64_t asn1_time_to_unix(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

static int set_random_serial(X509 *x, uint8_t out[SD_CA_SERIAL_BYTES])
{
	uint8_t b[SD_CA_SERIAL_BYTES];
	BIGNUM *bn = NULL;
	int r = SD_ERR_INTERNAL;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return sd_ossl_error(SD_ERR_INTERNAL, "no random bytes for a serial number");
	/* Positive (RFC 5280 4.1.2.2) and always 16 bytes long: 126 random bits. */
	b[0] = (uint8_t)((b[0] & 0x7f) | 0x40);
	if ((bn = BN_bin2bn(b, sizeof(b), NULL)) == NULL || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL) {
		r = sd_ossl_error(SD_ERR_NOMEM, "setting the serial number");
		goto out;
	}
	memcpy(out, b, sizeof(b));
	r = 0;
out:
	BN_free(bn);
	return r;
}

/* The serial as SD_CA_SERIAL_BYTES big-endian bytes; SD_ERR_VERIFY if it cannot be one
 * of ours (negative or longer). */
static int serial_bytes(const ASN1_INTEGER *serial, uint8_t out[SD_CA_SERIAL_BYTES])
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(serial, NULL);
	int r = 0;

	if (bn == NULL)
		return sd_ossl_error(SD_ERR_FORMAT, "unreadable serial number");
	if (BN_is_negative(bn) || BN_num_bytes(bn) > SD_CA_SERIAL_BYTES ||
	    BN_bn2binpad(bn, out, SD_CA_SERIAL_BYTES) != SD_CA_SERIAL_BYTES)
		r = sd_error(SD_ERR_VERIFY, "serial number is not one this CA issues");
	BN_free(bn);
	return r;
}

/* An extension from a fixed OpenSSL configuration value (never caller text). */
static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return sd_ossl_error(SD_ERR_INTERNAL, "building a certificate extension");
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : sd_ossl_error(SD_ERR_NOMEM, "adding a certificate extension");
}

static GENERAL_NAME *general_name_new(int type, const void *bytes, size_t len)
{
	GENERAL_NAME *g = GENERAL_NAME_new();
	ASN1_STRING *s = ASN1_STRING_type_new(type == GEN_IPADD ? V_ASN1_OCTET_STRING : V_ASN1_IA5STRING);

	if (g == NULL || s == NULL || ASN1_STRING_set(s, bytes, (int)len) != 1) {
		GENERAL_NAME_free(g);
		ASN1_STRING_free(s);
		return NULL;
	}
	GENERAL_NAME_set0_value(g, type, s);
	return g;
}

/* An IPv4/IPv6 literal is an iPAddress (*len 4 or 16 bytes in ip), anything else must
 * be a DNS name; -1 for neither. */
static int host_kind(const char *h, uint8_t ip[16], size_t *len)
{
	if (h == NULL)
		return -1;
	if (inet_pton(AF_INET, h, ip) == 1) {
		*len = 4;
		return GEN_IPADD;
	}
	if (inet_pton(AF_INET6, h, ip) == 1) {
		*len = 16;
		return GEN_IPADD;
	}
	return dns_name_is_valid(h) ? GEN_DNS : -1;
}

static int hosts_check(const char *const *hostnames, size_t n)
{
	uint8_t ip[16];
	size_t len;
	char shown[80];

	if (hostnames == NULL || n == 0 || n > SD_CA_HOSTNAMES_MAX)
		return sd_error(SD_ERR_USAGE, "a server certificate needs 1 to %d hostnames, not %zu",
		                SD_CA_HOSTNAMES_MAX, n);
	for (size_t i = 0; i < n; i++)
		if (host_kind(hostnames[i], ip, &len) < 0)
			return sd_error(SD_ERR_USAGE, "'%s' is neither an IP address nor a DNS name",
			                hostnames[i] == NULL ? "(null)"
			                                     : sd_error_printable(hostnames[i], shown, sizeof(shown)));
	return 0;
}

/* subjectAltName from hostnames already passed through hosts_check(). */
static int add_san(X509 *x, const char *const *hostnames, size_t n)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	GENERAL_NAME *g = NULL;
	uint8_t ip[16];
	size_t len = 0;
	int r = SD_ERR_NOMEM;

	if (gens == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (host_kind(hostnames[i], ip, &len) == GEN_IPADD)
			g = general_name_new(GEN_IPADD, ip, len);
		else
			g = general_name_new(GEN_DNS, hostnames[i], strlen(hostnames[i]));
		if (g == NULL || sk_GENERAL_NAME_push(gens, g) == 0)
			goto out;
		g = NULL;
	}
	if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) != 1)
		goto out;
	r = 0;
out:
	if (r < 0)
		r = sd_ossl_error(r, "adding subjectAltNames");
	GENERAL_NAME_free(g);
	GENERAL_NAMES_free(gens);
	return r;
}

/* cRLDistributionPoints with one fullName URI (RFC 5280 4.2.1.13). */
static int add_crl_dp(X509 *x, const char *url)
{
	CRL_DIST_POINTS *dps = sk_DIST_POINT_new_null();
	DIST_POINT *dp = DIST_POINT_new();
	GENERAL_NAME *g = general_name_new(GEN_URI, url, strlen(url));
	int r = SD_ERR_NOMEM;

	if (dps == NULL || dp == NULL || g == NULL || (dp->distpoint = DIST_POINT_NAME_new()) == NULL ||
	    (dp->distpoint->name.fullname = sk_GENERAL_NAME_new_null()) == NULL)
		goto out;
	dp->distpoint->type = 0;
	if (sk_GENERAL_NAME_push(dp->distpoint->name.fullname, g) == 0)
		goto out;
	g = NULL;
	if (sk_DIST_POINT_push(dps, dp) == 0)
		goto out;
	dp = NULL;
	if (X509_add1_ext_i2d(x, NID_crl_distribution_points, dps, 0, X509V3_ADD_DEFAULT) != 1)
		goto out;
	r = 0;
out:
	if (r < 0)
		r = sd_ossl_error(r, "adding the CRL distribution point");
	GENERAL_NAME_free(g);
	DIST_POINT_free(dp);
	CRL_DIST_POINTS_free(dps);
	return r;
}

static int add_name_entry(X509_NAME *n, int nid, const char *value)
{
	if (X509_NAME_add_entry_by_NID(n, nid, MBSTRING_UTF8, (const unsigned char *)value, -1, -1, 0) != 1)
		return sd_ossl_error(SD_ERR_NOMEM, "building a certificate name");
	return 0;
}

/* notBefore a little in the past; notAfter so that the validity period, counted
 * inclusively as RFC 5280 does, is exactly `days` days. */
static int set_validity(X509 *x, int days, int64_t *nb, int64_t *na)
{
	*nb = (int64_t)time(NULL) - CA_BACKDATE_SECONDS;
	*na = *nb + (int64_t)days * DAY_SECONDS - 1;
	if (ASN1_TIME_set(X509_getm_notBefore(x), (time_t)*nb) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x), (time_t)*na) == NULL)
		return sd_ossl_error(SD_ERR_INTERNAL, "setting the validity period");
	return 0;
}

/* A certificate with everything but the name-specific parts: v3, random serial,
 * issuer, validity, key, and the extensions every certificate of this CA carries. */
static int cert_new(X509 *issuer, X509_NAME *subject, EVP_PKEY *pub, int days, X509 **out, sd_ca_cert_info_t *info)
{
	X509 *x = X509_new();
	int r = SD_ERR_INTERNAL;

	*out = NULL;
	if (x == NULL)
		return sd_ossl_error(SD_ERR_NOMEM, "allocating a certificate");
	if (X509_set_version(x, X509_VERSION_3) != 1 || X509_set_subject_name(x, subject) != 1 ||
	    X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : subject) != 1 ||
	    X509_set_pubkey(x, pub) != 1) {
		r = sd_ossl_error(SD_ERR_NOMEM, "building a certificate");
		goto out;
	}
	if ((r = set_random_serial(x, info->serial)) < 0 ||
	    (r = set_validity(x, days, &info->not_before, &info->not_after)) < 0 ||
	    (r = add_ext(x, x, NID_subject_key_identifier, "hash")) < 0 ||
	    (r = add_ext(x, issuer != NULL ? issuer : x, NID_authority_key_identifier, "keyid:always")) < 0)
		goto out;
	*out = x;
	x = NULL;
	r = 0;
out:
	X509_free(x);
	return r;
}

/* A leaf: not a CA, digitalSignature only, one EKU, the CRL distribution point. */
static int leaf_new(const sd_ca_t *ca, X509_NAME *subject, EVP_PKEY *pub, int days, const char *eku,
                    const char *crl_url, X509 **out, sd_ca_cert_info_t *info)
{
	X509 *x = NULL;
	int r;

	*out = NULL;
	if ((r = cert_new(ca->cert, subject, pub, days, &x, info)) < 0)
		return r;
	if ((r = add_ext(x, ca->cert, NID_basic_constraints, "critical,CA:FALSE")) < 0 ||
	    (r = add_ext(x, ca->cert, NID_key_usage, "critical,digitalSignature")) < 0 ||
	    (r = add_ext(x, ca->cert, NID_ext_key_usage, eku)) < 0 || (r = add_crl_dp(x, crl_url)) < 0) {
		X509_free(x);
		return r;
	}
	*out = x;
	return 0;
}

/* SHA-256 of bytes already known to be one certificate: no second parse. */
static int der_sha256(const uint8_t *der, size_t len, uint8_t out[SD_CA_FINGERPRINT_BYTES])
{
	unsigned int n = 0;

	if (EVP_Digest(der, len, out, &n, EVP_sha256(), NULL) != 1 || n != SD_CA_FINGERPRINT_BYTES)
		return sd_ossl_error(SD_ERR_INTERNAL, "SHA-256 of a certificate");
	return 0;
}

static int cert_fingerprint(X509 *x, uint8_t out[SD_CA_FINGERPRINT_BYTES])
{
	unsigned char *der = NULL;
	int len = i2d_X509(x, &der);
	int r;

	if (len <= 0)
		return sd_ossl_error(SD_ERR_INTERNAL, "encoding a certificate");
	r = der_sha256(der, (size_t)len, out);
	OPENSSL_free(der);
	return r;
}

static int cert_sign(const sd_ca_t *ca, X509 *x, EVP_PKEY *self_key, sd_ca_cert_info_t *info)
{
	if (X509_sign(x, self_key != NULL ? self_key : ca->key, EVP_sha256()) <= 0)
		return sd_ossl_error(SD_ERR_INTERNAL, "signing a certificate");
	return cert_fingerprint(x, info->fingerprint);
}

static EVP_PKEY *p256_generate(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", P256_GROUP);

	if (k == NULL)
		(void)sd_ossl_error(SD_ERR_INTERNAL, "generating a P-256 key");
	return k;
}

static bool key_is_p256(EVP_PKEY *k)
{
	char group[32];
	size_t glen = 0;

	return EVP_PKEY_is_a(k, "EC") && EVP_PKEY_get_group_name(k, group, sizeof(group), &glen) == 1 &&
	       strcmp(group, P256_GROUP) == 0;
}

/* --- PEM and DER in and out ------------------------------------------------ */

static int bio_to_string(BIO *bio, void *(*alloc)(size_t), char **out)
{
	char *data = NULL;
	long n = BIO_get_mem_data(bio, &data);
	char *s;

	*out = NULL;
	if (n <= 0 || data == NULL)
		return sd_ossl_error(SD_ERR_INTERNAL, "encoding PEM");
	if ((s = alloc((size_t)n + 1)) == NULL)
		return SD_ERR_NOMEM;
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	*out = s;
	return 0;
}

static int cert_to_pem(X509 *x, char **out)
{
	BIO *bio = BIO_new(BIO_s_mem());
	int r;

	*out = NULL;
	if (bio == NULL || PEM_write_bio_X509(bio, x) != 1)
		r = sd_ossl_error(SD_ERR_NOMEM, "encoding a certificate as PEM");
	else
		r = bio_to_string(bio, malloc, out);
	BIO_free(bio);
	return r;
}

/* PKCS#8 PEM in a secure-memory BIO: OpenSSL wipes it when the BIO is freed. */
static BIO *key_to_pem_bio(EVP_PKEY *k)
{
	BIO *bio = BIO_new(BIO_s_secmem());

	if (bio == NULL || PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL) != 1) {
		BIO_free(bio);
		(void)sd_ossl_error(SD_ERR_NOMEM, "encoding a private key");
		return NULL;
	}
	return bio;
}

static int bio_to_file(BIO *bio, const char *path, mode_t mode)
{
	char *data = NULL;
	long n = BIO_get_mem_data(bio, &data);

	if (n <= 0 || data == NULL)
		return sd_ossl_error(SD_ERR_INTERNAL, "encoding PEM");
	return sd_file_write(path, data, (size_t)n, mode, SD_AFILE_NOCLOBBER);
}

/* Writes the key (0600) and then the certificate (0644), neither over an existing
 * file; if the certificate cannot be written the key just written is removed again. */
static int write_pair(X509 *x, EVP_PKEY *k, const char *cert_path, const char *key_path)
{
	BIO *kb = NULL, *cb = NULL;
	int r;

	if (access(cert_path, F_OK) == 0)
		return sd_error(SD_ERR_EXISTS, "%s already exists; nothing was written", cert_path);
	if ((kb = key_to_pem_bio(k)) == NULL)
		return SD_ERR_NOMEM;
	if ((cb = BIO_new(BIO_s_mem())) == NULL || PEM_write_bio_X509(cb, x) != 1) {
		r = sd_ossl_error(SD_ERR_NOMEM, "encoding a certificate as PEM");
		goto out;
	}
	if ((r = bio_to_file(kb, key_path, 0600)) < 0)
		goto out;
	if ((r = bio_to_file(cb, cert_path, 0644)) < 0) {
		char detail[512];
		snprintf(detail, sizeof(detail), "%s", sd_error_detail());
		(void)unlink(key_path);
		r = sd_error(r, "%s; %s was removed again", detail, key_path);
	}
out:
	BIO_free(kb);
	BIO_free(cb);
	return r;
}

static bool is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Exactly one PEM block labelled label1 or label2, nothing but whitespace around it,
 * no encryption headers. *der is OPENSSL_malloc'd. */
static int pem_block(const uint8_t *data, size_t len, const char *label1, const char *label2, unsigned char **der,
                     long *der_len, const char *what)
{
	static const char begin[] = "-----BEGIN ";
	char *name = NULL, *header = NULL, *rest = NULL;
	size_t i = 0;
	long left;
	BIO *bio = NULL;
	int r = SD_ERR_FORMAT;

	*der = NULL;
	while (i < len && is_space(data[i]))
		i++;
	if (len - i < sizeof(begin) - 1 || strncmp((const char *)data + i, begin, sizeof(begin) - 1) != 0)
		return sd_error(SD_ERR_FORMAT, "%s: not PEM", what);
	if ((bio = BIO_new_mem_buf(data + i, (int)(len - i))) == NULL)
		return sd_ossl_error(SD_ERR_NOMEM, what);
	if (PEM_read_bio(bio, &name, &header, der, der_len) != 1) {
		r = sd_ossl_error(SD_ERR_FORMAT, "unreadable PEM");
		goto out;
	}
	if (strcmp(name, label1) != 0 && (label2 == NULL || strcmp(name, label2) != 0)) {
		r = sd_error(SD_ERR_FORMAT, "%s: a PEM block of the wrong kind", what);
		goto out;
	}
	if (header[0] != '\0') {
		r = sd_error(SD_ERR_FORMAT, "%s: unexpected PEM headers", what);
		goto out;
	}
	left = BIO_get_mem_data(bio, &rest);
	for (long j = 0; j < left; j++)
		if (!is_space((uint8_t)rest[j])) {
			r = sd_error(SD_ERR_FORMAT, "%s: data after the PEM block", what);
			goto out;
		}
	r = 0;
out:
	if (r < 0) {
		OPENSSL_free(*der);
		*der = NULL;
	}
	OPENSSL_free(name);
	OPENSSL_free(header);
	BIO_free(bio);
	return r;
}

static int cert_from_der(const uint8_t *der, size_t len, X509 **out)
{
	const unsigned char *p = der;
	X509 *x;

	*out = NULL;
	if (der == NULL || len == 0)
		return sd_error(SD_ERR_FORMAT, "certificate is empty");
	if (len > SD_CA_CERT_MAX_BYTES)
		return sd_error(SD_ERR_TOOBIG, "certificate is larger than %d bytes", SD_CA_CERT_MAX_BYTES);
	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL)
		return sd_ossl_error(SD_ERR_FORMAT, "not a DER certificate");
	if (p != der + len) {
		X509_free(x);
		return sd_error(SD_ERR_FORMAT, "%zu bytes after the certificate", len - (size_t)(p - der));
	}
	*out = x;
	return 0;
}

int sd_ca_cert_from_pem(const char *pem, size_t len, uint8_t **der, size_t *der_len)
{
	unsigned char *d = NULL;
	long dlen = 0;
	X509 *x = NULL;
	int r;

	*der = NULL;
	*der_len = 0;
	if (pem == NULL || len > SD_CA_CERT_MAX_BYTES * 2)
		return sd_error(pem == NULL ? SD_ERR_USAGE : SD_ERR_TOOBIG, "certificate PEM missing or too large");
	if ((r = pem_block((const uint8_t *)pem, len, "CERTIFICATE", NULL, &d, &dlen, "certificate")) < 0)
		return r;
	if ((r = cert_from_der(d, (size_t)dlen, &x)) < 0)
		goto out;
	if ((*der = malloc((size_t)dlen)) == NULL) {
		r = SD_ERR_NOMEM;
		goto out;
	}
	memcpy(*der, d, (size_t)dlen);
	*der_len = (size_t)dlen;
	r = 0;
out:
	X509_free(x);
	OPENSSL_free(d);
	return r;
}

int sd_ca_fingerprint(const uint8_t *der, size_t len, uint8_t out[SD_CA_FINGERPRINT_BYTES])
{
	X509 *x = NULL;
	int r;

	if ((r = cert_from_der(der, len, &x)) < 0)
		return r;
	X509_free(x);
	return der_sha256(der, len, out);
}

/* --- the CA itself ---------------------------------------------------------- */

static int dir_path(const char *dir, const char *file, char out[PATH_MAX])
{
	int n = snprintf(out, PATH_MAX, "%s/%s", dir, file);

	if (n < 0 || n >= PATH_MAX)
		return sd_error(SD_ERR_USAGE, "path of %s is too long", file);
	return 0;
}

int sd_ca_create(const char *dir, const char *name, int days)
{
	char cert_path[PATH_MAX], key_path[PATH_MAX];
	sd_ca_t self = {0};
	sd_ca_cert_info_t info;
	X509_NAME *subject = NULL;
	int r;

	if (dir == NULL || !sd_ca_name_is_valid(name))
		return sd_error(SD_ERR_USAGE, "a CA needs a directory and a name of 1 to %d bytes of UTF-8 text",
		                SD_CA_NAME_MAX);
	if ((r = check_days(days, SD_CA_ROOT_MAX_DAYS, CERT_CA)) < 0 ||
	    (r = dir_path(dir, SD_CA_CERT_FILE, cert_path)) < 0 || (r = dir_path(dir, SD_CA_KEY_FILE, key_path)) < 0)
		return r;
	if (access(key_path, F_OK) == 0)
		return sd_error(SD_ERR_EXISTS, "%s already exists; nothing was written", key_path);
	if ((self.key = p256_generate()) == NULL) {
		r = SD_ERR_INTERNAL;
		goto out;
	}
	if ((subject = X509_NAME_new()) == NULL) {
		r = sd_ossl_error(SD_ERR_NOMEM, "building the CA's name");
		goto out;
	}
	if ((r = add_name_entry(subject, NID_commonName, name)) < 0 ||
	    (r = cert_new(NULL, subject, self.key, days, &self.cert, &info)) < 0 ||
	    (r = add_ext(self.cert, self.cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0")) < 0 ||
	    (r = add_ext(self.cert, self.cert, NID_key_usage, "critical,keyCertSign,cRLSign")) < 0 ||
	    (r = cert_sign(&self, self.cert, self.key, &info)) < 0)
		goto out;
	r = write_pair(self.cert, self.key, cert_path, key_path);
out:
	X509_NAME_free(subject);
	X509_free(self.cert);
	EVP_PKEY_free(self.key);
	return r;
}

static int load_key(const char *path, EVP_PKEY **out)
{
	struct stat st;

	*out = NULL;
	if (lstat(path, &st) != 0)
		return sd_error(errno == ENOENT ? SD_ERR_NOENT : SD_ERR_IO, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return sd_error(SD_ERR_REFUSED, "%s is not a regular file", path);
	if ((st.st_mode & 077) != 0)
		return sd_error(SD_ERR_REFUSED, "%s is accessible to group or others (mode %04o); chmod 600 it", path,
		                (unsigned)(st.st_mode & 07777));
	return sd_ossl_key_read(path, KEY_FILE_MAX, "reading the CA key",
	                        "the CA key is not an unencrypted PEM private key", out);
}

static int load_cert(const char *path, X509 **out)
{
	uint8_t *text = NULL, *der = NULL;
	size_t len = 0, der_len = 0;
	int r;

	*out = NULL;
	if ((r = sd_file_read(path, SD_CA_CERT_MAX_BYTES * 2, &text, &len)) < 0)
		return r;
	if ((r = sd_ca_cert_from_pem((const char *)text, len, &der, &der_len)) == 0)
		r = cert_from_der(der, der_len, out);
	if (r < 0)
		r = sd_error(r, "%s: %s", path, sd_error_detail());
	free(text);
	free(der);
	return r;
}

/* The pair must be a P-256 CA that signed itself with this very key. */
static int check_ca(sd_ca_t *ca, const char *dir)
{
	if (!key_is_p256(ca->key))
		return sd_error(SD_ERR_FORMAT, "%s/%s is not a P-256 key", dir, SD_CA_KEY_FILE);
	if (X509_check_private_key(ca->cert, ca->key) != 1)
		return sd_ossl_error(SD_ERR_WRONG_KEY, "ca.key does not belong to ca.pem");
	if (X509_check_ca(ca->cert) != 1 || X509_self_signed(ca->cert, 1) != 1)
		return sd_ossl_error(SD_ERR_FORMAT, "ca.pem is not a self-signed CA certificate");
	if ((ca->store = X509_STORE_new()) == NULL || X509_STORE_add_cert(ca->store, ca->cert) != 1)
		return sd_ossl_error(SD_ERR_NOMEM, "building the trust store");
	if ((ca->verified = calloc(1, sizeof(*ca->verified))) == NULL)
		return SD_ERR_NOMEM;
	pthread_mutex_init(&ca->verified->lock, NULL);
	ca->not_before = asn1_time_to_unix(X509_get0_notBefore(ca->cert));
	ca->not_after = asn1_time_to_unix(X509_get0_notAfter(ca->cert));
	return cert_to_pem(ca->cert, &ca->cert_pem);
}

int sd_ca_load(const char *dir, sd_ca_t **out)
{
	char cert_path[PATH_MAX], key_path[PATH_MAX];
	sd_ca_t *ca;
	int r;

	*out = NULL;
	if (dir == NULL)
		return sd_error(SD_ERR_USAGE, "no CA directory");
	if ((r = dir_path(dir, SD_CA_CERT_FILE, cert_path)) < 0 || (r = dir_path(dir, SD_CA_KEY_FILE, key_path)) < 0)
		return r;
	if ((ca = calloc(1, sizeof(*ca))) == NULL)
		return SD_ERR_NOMEM;
	if ((r = load_cert(cert_path, &ca->cert)) < 0 || (r = load_key(key_path, &ca->key)) < 0 ||
	    (r = check_ca(ca, dir)) < 0) {
		sd_ca_free_(ca);
		return r;
	}
	*out = ca;
	return 0;
}

void sd_ca_free_(sd_ca_t *ca)
{
	if (ca == NULL)
		return;
	if (ca->verified != NULL) {
		pthread_mutex_destroy(&ca->verified->lock);
		free(ca->verified);
	}
	X509_STORE_free(ca->store);
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	free(ca->cert_pem);
	free(ca);
}

const char *sd_ca_cert_pem(const sd_ca_t *ca)
{
	return ca->cert_pem;
}

/* --- leaf certificates --------------------------------------------------------- */

int sd_ca_issue_server(sd_ca_t *ca, const char *const *hostnames, size_t n, int days, const char *crl_url,
                       const char *cert_path, const char *key_path, sd_ca_cert_info_t *info)
{
	sd_ca_cert_info_t tmp = {0};
	X509_NAME *subject = NULL;
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	int r;

	if (ca == NULL || cert_path == NULL || key_path == NULL)
		return sd_error(SD_ERR_USAGE, "sd_ca_issue_server: missing CA or output path");
	if ((r = check_days(days, SD_CA_LEAF_MAX_DAYS, CERT_SERVER)) < 0)
		return r;
	if (!url_is_valid(crl_url))
		return sd_error(SD_ERR_USAGE, "the CRL URL must be an http:// or https:// URL without spaces");
	if ((r = hosts_check(hostnames, n)) < 0)
		return r;
	if ((subject = X509_NAME_new()) == NULL) {
		r = sd_ossl_error(SD_ERR_NOMEM, "building the server's name");
		goto out;
	}
	/* The CN is a courtesy for people reading the certificate; clients match the SANs. */
	if (strlen(hostnames[0]) <= SD_CA_NAME_MAX && (r = add_name_entry(subject, NID_commonName, hostnames[0])) < 0)
		goto out;
	if ((key = p256_generate()) == NULL) {
		r = SD_ERR_INTERNAL;
		goto out;
	}
	if ((r = leaf_new(ca, subject, key, days, "serverAuth", crl_url, &x, &tmp)) < 0 ||
	    (r = add_san(x, hostnames, n)) < 0 || (r = cert_sign(ca, x, NULL, &tmp)) < 0 ||
	    (r = write_pair(x, key, cert_path, key_path)) < 0)
		goto out;
	if (info != NULL)
		*info = tmp;
	r = 0;
out:
	X509_NAME_free(subject);
	X509_free(x);
	EVP_PKEY_free(key);
	return r;
}

/* The CSR's public key rebuilt from its bare point (or raw Ed25519 key), so the
 * certificate always carries a canonical named-curve SubjectPublicKeyInfo whatever
 * parameter encoding the CSR used. */
static int key_canonical(EVP_PKEY *in, EVP_PKEY **out, sd_ca_key_type_t *type)
{
	char group[] = P256_GROUP;
	uint8_t pub[133];
	size_t len = 0;
	EVP_PKEY_CTX *ctx = NULL;
	OSSL_PARAM params[3];
	int r = SD_ERR_REFUSED;

	*out = NULL;
	if (EVP_PKEY_is_a(in, "ED25519")) {
		len = sizeof(pub);
		if (EVP_PKEY_get_raw_public_key(in, pub, &len) != 1 || len != 32 ||
		    (*out = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, len)) == NULL)
			return sd_ossl_error(SD_ERR_FORMAT, "unreadable Ed25519 key in the CSR");
		*type = SD_CA_KEY_ED25519;
		return 0;
	}
	if (!key_is_p256(in))
		return sd_error(SD_ERR_REFUSED, "the CSR's key is neither ECDSA P-256 nor Ed25519");
	if (EVP_PKEY_get_octet_string_param(in, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &len) != 1)
		return sd_ossl_error(SD_ERR_FORMAT, "unreadable P-256 key in the CSR");
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pub, len);
	params[2] = OSSL_PARAM_construct_end();
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		r = sd_ossl_error(SD_ERR_FORMAT, "the CSR's P-256 key is not a valid point");
		goto out;
	}
	*type = SD_CA_KEY_P256;
	r = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	return r;
}

/* The key must be a valid public key for its group before anything is signed for it. */
static int key_public_check(EVP_PKEY *k)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
	int ok = ctx != NULL && EVP_PKEY_public_check(ctx) == 1;

	EVP_PKEY_CTX_free(ctx);
	return ok ? 0 : sd_ossl_error(SD_ERR_FORMAT, "the CSR's public key is not valid");
}

static int csr_decode(const uint8_t *csr, size_t len, X509_REQ **out)
{
	unsigned char *pem_der = NULL;
	const unsigned char *p;
	const uint8_t *der = csr;
	long der_len = (long)len;
	int r = 0;

	*out = NULL;
	if (csr == NULL || len == 0)
		return sd_error(SD_ERR_FORMAT, "the CSR is empty");
	if (len > SD_CA_CSR_MAX_BYTES)
		return sd_error(SD_ERR_TOOBIG, "the CSR is larger than %d bytes", SD_CA_CSR_MAX_BYTES);
	if (csr[0] != 0x30) {
		if ((r = pem_block(csr, len, "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST", &pem_der, &der_len,
		                   "CSR")) < 0)
			return r;
		der = pem_der;
	}
	p = der;
	if ((*out = d2i_X509_REQ(NULL, &p, der_len)) == NULL)
		r = sd_ossl_error(SD_ERR_FORMAT, "the CSR is not a DER certification request");
	else if (p != der + der_len)
		r = sd_error(SD_ERR_FORMAT, "%ld bytes after the CSR", der_len - (long)(p - der));
	else if (X509_REQ_get_version(*out) != X509_REQ_VERSION_1)
		r = sd_error(SD_ERR_FORMAT, "the CSR has an unknown version");
	if (r < 0) {
		X509_REQ_free(*out);
		*out = NULL;
	}
	OPENSSL_free(pem_der);
	return r;
}

/* Decodes, checks the key type and the self-signature; *key is the canonical key to
 * certify. Nothing else in the CSR (subject, attributes, extensions) is ever used. */
static int csr_parse(const uint8_t *csr, size_t len, EVP_PKEY **key, sd_ca_key_type_t *type)
{
	X509_REQ *req = NULL;
	EVP_PKEY *pub;
	int r;

	*key = NULL;
	if ((r = csr_decode(csr, len, &req)) < 0)
		return r;
	if ((pub = X509_REQ_get0_pubkey(req)) == NULL) {
		r = sd_ossl_error(SD_ERR_FORMAT, "the CSR's public key is unreadable");
		goto out;
	}
	if ((r = key_canonical(pub, key, type)) < 0 || (r = key_public_check(*key)) < 0)
		goto out;
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	/* Proof of possession: the requester holds the private key. */
	if (X509_REQ_verify(req, *key) != 1) {
		r = sd_ossl_error(SD_ERR_VERIFY, "the CSR's signature does not verify");
		goto out;
	}
#endif
	r = 0;
out:
	if (r < 0) {
		EVP_PKEY_free(*key);
		*key = NULL;
	}
	X509_REQ_free(req);
	return r;
}

int sd_ca_csr_check(const uint8_t *csr, size_t len, sd_ca_key_type_t *type)
{
	sd_ca_key_type_t t = 0;
	EVP_PKEY *key = NULL;
	int r = csr_parse(csr, len, &key, &t);

	EVP_PKEY_free(key);
	if (r == 0 && type != NULL)
		*type = t;
	return r;
}

static int client_args_check(const sd_ca_t *ca, const char *role, const char *name, int days, const char *crl_url,
                             char **cert_pem, char **key_pem, bool from_csr)
{
	if (ca == NULL || cert_pem == NULL || (!from_csr && key_pem == NULL))
		return sd_error(SD_ERR_USAGE, "sd_ca_issue_client: missing CA or output");
	if (!sd_ca_role_is_valid(role))
		return sd_error(SD_ERR_USAGE, "the role must be attorney, officer, custodian or operator");
	if (!sd_ca_name_is_valid(name))
		return sd_error(SD_ERR_USAGE,
		                "the name must be 1 to %d bytes of UTF-8 text without control characters "
		                "or surrounding spaces",
		                SD_CA_NAME_MAX);
	if (!url_is_valid(crl_url))
		return sd_error(SD_ERR_USAGE, "the CRL URL must be an http:// or https:// URL without spaces");
	return check_days(days, SD_CA_LEAF_MAX_DAYS, CERT_CLIENT);
}

static int client_key(const uint8_t *csr, size_t csr_len, EVP_PKEY **key, char **key_pem)
{
	sd_ca_key_type_t type;
	BIO *bio;
	int r;

	if (csr != NULL)
		return csr_parse(csr, csr_len, key, &type);
	if ((*key = p256_generate()) == NULL)
		return SD_ERR_INTERNAL;
	if ((bio = key_to_pem_bio(*key)) == NULL)
		return SD_ERR_NOMEM;
	r = bio_to_string(bio, sd_secret_alloc, key_pem);
	BIO_free(bio);
	return r;
}

int sd_ca_issue_client(sd_ca_t *ca, const char *role, const char *name, const uint8_t *csr, size_t csr_len, int days,
                       const char *crl_url, char **cert_pem, char **key_pem, sd_ca_cert_info_t *info)
{
	sd_ca_cert_info_t tmp = {0};
	X509_NAME *subject = NULL;
	EVP_PKEY *key = NULL;
	char *kp = NULL;
	X509 *x = NULL;
	int r;

	if (cert_pem != NULL)
		*cert_pem = NULL;
	if (key_pem != NULL)
		*key_pem = NULL;
	if ((r = client_args_check(ca, role, name, days, crl_url, cert_pem, key_pem, csr != NULL)) < 0)
		return r;
	if ((r = client_key(csr, csr_len, &key, &kp)) < 0)
		goto out;
	if ((subject = X509_NAME_new()) == NULL) {
		r = sd_ossl_error(SD_ERR_NOMEM, "building the client's name");
		goto out;
	}
	if ((r = add_name_entry(subject, NID_organizationalUnitName, role)) < 0 ||
	    (r = add_name_entry(subject, NID_commonName, name)) < 0 ||
	    (r = leaf_new(ca, subject, key, days, "clientAuth", crl_url, &x, &tmp)) < 0 ||
	    (r = cert_sign(ca, x, NULL, &tmp)) < 0 || (r = cert_to_pem(x, cert_pem)) < 0)
		goto out;
	snprintf(tmp.role, sizeof(tmp.role), "%s", role);
	snprintf(tmp.name, sizeof(tmp.name), "%s", name);
	if (info != NULL)
		*info = tmp;
	if (key_pem != NULL) {
		*key_pem = kp;
		kp = NULL;
	}
	r = 0;
out:
	sd_secret_free(kp);
	X509_NAME_free(subject);
	X509_free(x);
	EVP_PKEY_free(key);
	return r;
}

/* --- revocation ------------------------------------------------------------------ */

static int serial_cmp(const uint8_t *a, const uint8_t *b)
{
	for (size_t i = 0; i < SD_CA_SERIAL_BYTES; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

static int revoked_cmp(const void *a, const void *b)
{
	return serial_cmp(((const sd_ca_revoked_t *)a)->serial, ((const sd_ca_revoked_t *)b)->serial);
}

static int crl_add_entry(X509_CRL *crl, const sd_ca_revoked_t *e)
{
	X509_REVOKED *rev = X509_REVOKED_new();
	BIGNUM *bn = BN_bin2bn(e->serial, SD_CA_SERIAL_BYTES, NULL);
	ASN1_INTEGER *serial = bn != NULL ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
	ASN1_TIME *when = ASN1_TIME_set(NULL, (time_t)e->revoked_at);
	int ok = rev != NULL && serial != NULL && when != NULL && X509_REVOKED_set_serialNumber(rev, serial) == 1 &&
	         X509_REVOKED_set_revocationDate(rev, when) == 1 && X509_CRL_add0_revoked(crl, rev) == 1;

	if (!ok)
		X509_REVOKED_free(rev);
	BN_free(bn);
	ASN1_INTEGER_free(serial);
	ASN1_TIME_free(when);
	return ok ? 0 : sd_ossl_error(SD_ERR_NOMEM, "adding a CRL entry");
}

/* crlNumber and authorityKeyIdentifier, both required by RFC 5280 5.2. */
static int crl_add_extensions(X509_CRL *crl, X509 *issuer, uint64_t number)
{
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(issuer);
	int ok = num != NULL && akid != NULL && ski != NULL && ASN1_INTEGER_set_uint64(num, number) == 1 &&
	         (akid->keyid = ASN1_OCTET_STRING_dup(ski)) != NULL &&
	         X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, X509V3_ADD_DEFAULT) == 1 &&
	         X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, akid, 0, X509V3_ADD_DEFAULT) == 1;

	ASN1_INTEGER_free(num);
	AUTHORITY_KEYID_free(akid);
	return ok ? 0 : sd_ossl_error(SD_ERR_NOMEM, "adding CRL extensions");
}

static int crl_args_check(const sd_ca_revoked_t *revoked, size_t n, uint64_t number, int days)
{
	sd_ca_revoked_t *sorted;
	int r = 0;

	if (number == 0)
		return sd_error(SD_ERR_USAGE, "CRL numbers start at 1");
	if (days < 1 || days > SD_CA_CRL_MAX_DAYS)
		return sd_error(SD_ERR_USAGE, "a CRL's next update must be 1 to %d days away", SD_CA_CRL_MAX_DAYS);
	if (n == 0)
		return 0;
	if (revoked == NULL || n > (size_t)INT_MAX)
		return sd_error(SD_ERR_USAGE, "sd_ca_crl: missing list of revoked certificates");
	if ((sorted = malloc(n * sizeof(*sorted))) == NULL)
		return SD_ERR_NOMEM;
	memcpy(sorted, revoked, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), revoked_cmp);
	for (size_t i = 1; i < n && r == 0; i++)
		if (serial_cmp(sorted[i - 1].serial, sorted[i].serial) == 0)
			r = sd_error(SD_ERR_USAGE, "a serial number is listed twice for the CRL");
	free(sorted);
	return r;
}

static int crl_encode(X509_CRL *crl, char **pem, uint8_t **der, size_t *der_len)
{
	BIO *bio = NULL;
	unsigned char *d = NULL;
	int n, r = 0;

	if (der != NULL) {
		if ((n = i2d_X509_CRL(crl, &d)) <= 0) {
			r = sd_ossl_error(SD_ERR_INTERNAL, "encoding the CRL");
			goto out;
		}
		if ((*der = malloc((size_t)n)) == NULL) {
			r = SD_ERR_NOMEM;
			goto out;
		}
		memcpy(*der, d, (size_t)n);
		*der_len = (size_t)n;
	}
	if (pem != NULL) {
		if ((bio = BIO_new(BIO_s_mem())) == NULL || PEM_write_bio_X509_CRL(bio, crl) != 1)
			r = sd_ossl_error(SD_ERR_NOMEM, "encoding the CRL as PEM");
		else
			r = bio_to_string(bio, malloc, pem);
	}
out:
	if (r < 0 && der != NULL) {
		free(*der);
		*der = NULL;
		*der_len = 0;
	}
	OPENSSL_free(d);
	BIO_free(bio);
	return r;
}

int sd_ca_crl(sd_ca_t *ca, const sd_ca_revoked_t *revoked, size_t n, uint64_t number, int next_update_days, char **pem,
              uint8_t **der, size_t *der_len)
{
	X509_CRL *crl = NULL;
	ASN1_TIME *t = NULL;
	time_t now = time(NULL);
	int r;

	if (pem != NULL)
		*pem = NULL;
	if (der != NULL)
		*der = NULL;
	if (der_len != NULL)
		*der_len = 0;
	if (ca == NULL || (der != NULL && der_len == NULL))
		return sd_error(SD_ERR_USAGE, "sd_ca_crl: missing CA or output length");
	if ((r = crl_args_check(revoked, n, number, next_update_days)) < 0)
		return r;
	if ((crl = X509_CRL_new()) == NULL || (t = ASN1_TIME_set(NULL, now)) == NULL ||
	    X509_CRL_set_version(crl, X509_CRL_VERSION_2) != 1 ||
	    X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->cert)) != 1 ||
	    X509_CRL_set1_lastUpdate(crl, t) != 1 || X509_time_adj_ex(t, next_update_days, 0, &now) == NULL ||
	    X509_CRL_set1_nextUpdate(crl, t) != 1) {
		r = sd_ossl_error(SD_ERR_NOMEM, "building the CRL");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if ((r = crl_add_entry(crl, &revoked[i])) < 0)
			goto out;
	if ((r = crl_add_extensions(crl, ca->cert, number)) < 0)
		goto out;
	if (X509_CRL_sort(crl) != 1 || X509_CRL_sign(crl, ca->key, EVP_sha256()) <= 0) {
		r = sd_ossl_error(SD_ERR_INTERNAL, "signing the CRL");
		goto out;
	}
	r = crl_encode(crl, pem, der, der_len);
out:
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
	return r;
}

/* --- deciding who is knocking ---------------------------------------------------- */

static int chain_check(const sd_ca_t *ca, X509 *x, int64_t now)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_VERIFY_PARAM *param;
	int err, r;

	if (ctx == NULL || X509_STORE_CTX_init(ctx, ca->store, x, NULL) != 1) {
		X509_STORE_CTX_free(ctx);
		return sd_ossl_error(SD_ERR_NOMEM, "preparing certificate verification");
	}
	param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_time(param, (time_t)now);
	X509_VERIFY_PARAM_set_depth(param, 0); /* directly under this CA, no intermediates */
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
	if (X509_verify_cert(ctx) == 1) {
		r = 0;
	} else {
		err = X509_STORE_CTX_get_error(ctx);
		if (err == X509_V_ERR_CERT_HAS_EXPIRED || err == X509_V_ERR_CERT_NOT_YET_VALID)
			r = sd_error(SD_ERR_EXPIRED, "client certificate: %s", X509_verify_cert_error_string(err));
		else if (err == X509_V_ERR_INVALID_PURPOSE)
			r = sd_error(SD_ERR_INVALID, "not a client certificate (no clientAuth)");
		else
			r = sd_error(SD_ERR_VERIFY, "client certificate: %s", X509_verify_cert_error_string(err));
	}
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return r;
}

/* The one entry of `nid` in the subject as UTF-8; SD_ERR_INVALID if absent, repeated
 * or too long. */
static int subject_entry(X509 *x, int nid, char *out, size_t cap)
{
	X509_NAME *name = X509_get_subject_name(x);
	int i = X509_NAME_get_index_by_NID(name, nid, -1);
	unsigned char *s = NULL;
	int len;

	if (i < 0 || X509_NAME_get_index_by_NID(name, nid, i) >= 0)
		return sd_error(SD_ERR_INVALID, "client certificate must name exactly one %s", OBJ_nid2sn(nid));
	len = ASN1_STRING_to_UTF8(&s, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
	if (len < 0 || (size_t)len >= cap || strlen((const char *)s) != (size_t)len) {
		OPENSSL_free(s);
		return sd_ossl_error(SD_ERR_INVALID, "client certificate has an unreadable name");
	}
	memcpy(out, s, (size_t)len + 1);
	OPENSSL_free(s);
	return 0;
}

static int client_fields(X509 *x, const sd_ca_revoked_t *revoked, size_t n_revoked, sd_ca_cert_info_t *info)
{
	int r;

	if ((X509_get_extension_flags(x) & EXFLAG_XKUSAGE) == 0 ||
	    (X509_get_extended_key_usage(x) & XKU_SSL_CLIENT) == 0)
		return sd_error(SD_ERR_INVALID, "not a client certificate (no clientAuth)");
	if (X509_check_ca(x) != 0)
		return sd_error(SD_ERR_INVALID, "a CA certificate cannot identify a client");
	if ((r = serial_bytes(X509_get0_serialNumber(x), info->serial)) < 0)
		return r;
	for (size_t i = 0; i < n_revoked; i++)
		if (serial_cmp(revoked[i].serial, info->serial) == 0)
			return sd_error(SD_ERR_REFUSED, "client certificate has been revoked");
	if ((r = subject_entry(x, NID_organizationalUnitName, info->role, sizeof(info->role))) < 0 ||
	    (r = subject_entry(x, NID_commonName, info->name, sizeof(info->name))) < 0)
		return r;
	if (!sd_ca_role_is_valid(info->role))
		return sd_error(SD_ERR_INVALID, "client certificate names an unknown role");
	info->not_before = asn1_time_to_unix(X509_get0_notBefore(x));
	info->not_after = asn1_time_to_unix(X509_get0_notAfter(x));
	return 0;
}

/* What a remembered certificate needs checked again: today's date against its validity
 * and the CA's (X509_verify_cert's rule: notBefore <= now < notAfter, here on whole
 * seconds), and the revocation list. 1 when fp was not verified before. */
static int verified_recheck(const sd_ca_t *ca, const uint8_t fp[SD_CA_FINGERPRINT_BYTES],
                            const sd_ca_revoked_t *revoked, size_t n_revoked, int64_t now, sd_ca_cert_info_t *info)
{
	struct verified *v = ca->verified;
	int r = 1;

	pthread_mutex_lock(&v->lock);
	for (size_t i = 0; i < v->n; i++) {
		if (sd_equal(v->info[i].fingerprint, fp, SD_CA_FINGERPRINT_BYTES)) {
			*info = v->info[i];
			r = 0;
			break;
		}
	}
	pthread_mutex_unlock(&v->lock);
	if (r != 0)
		return r;
	if (now < info->not_before || now >= info->not_after || now < ca->not_before || now >= ca->not_after)
		return sd_error(SD_ERR_EXPIRED, "client certificate: %s",
		                X509_verify_cert_error_string(now < info->not_before || now < ca->not_before
		                                                      ? X509_V_ERR_CERT_NOT_YET_VALID
		                                                      : X509_V_ERR_CERT_HAS_EXPIRED));
	for (size_t i = 0; i < n_revoked; i++)
		if (serial_cmp(revoked[i].serial, info->serial) == 0)
			return sd_error(SD_ERR_REFUSED, "client certificate has been revoked");
	return 0;
}

static void verified_add(const sd_ca_t *ca, const sd_ca_cert_info_t *info)
{
	struct verified *v = ca->verified;

	if (info->not_after <= info->not_before) /* dates that did not convert: never remembered */
		return;
	pthread_mutex_lock(&v->lock);
	v->info[v->next] = *info;
	v->next = (v->next + 1) % VERIFIED_SLOTS;
	if (v->n < VERIFIED_SLOTS)
		v->n++;
	pthread_mutex_unlock(&v->lock);
}

int sd_ca_verify_client(const sd_ca_t *ca, const uint8_t *der, size_t len, const sd_ca_revoked_t *revoked,
                        size_t n_revoked, int64_t now, sd_ca_cert_info_t *info)
{
	sd_ca_cert_info_t tmp = {0};
	uint8_t fp[SD_CA_FINGERPRINT_BYTES];
	X509 *x = NULL;
	int r;

	if (ca == NULL || info == NULL || (revoked == NULL && n_revoked > 0))
		return sd_error(SD_ERR_USAGE, "sd_ca_verify_client: missing CA, revocation list or output");
	if (der == NULL || len == 0 || len > SD_CA_CERT_MAX_BYTES)
		return cert_from_der(der, len, &x); /* its error */
	if ((r = der_sha256(der, len, fp)) < 0 || (r = verified_recheck(ca, fp, revoked, n_revoked, now, &tmp)) <= 0)
		goto done;
	memset(&tmp, 0, sizeof(tmp));
	if ((r = cert_from_der(der, len, &x)) < 0)
		return r;
	if ((r = chain_check(ca, x, now)) < 0 || (r = client_fields(x, revoked, n_revoked, &tmp)) < 0)
		goto out;
	memcpy(tmp.fingerprint, fp, SD_CA_FINGERPRINT_BYTES);
	verified_add(ca, &tmp);
	r = 0;
done:
	if (r == 0)
		*info = tmp;
out:
	X509_free(x);
	return r;
}
