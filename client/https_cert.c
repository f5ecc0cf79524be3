/*
 * https_cert.c — reading the user's certificate files for `sealdrop doctor` (see
 * https_cert.h): dates and names of a certificate, its issuer, its key. Kept apart from
 * https.c, which connects, because nothing here touches the network; like https.c it is
 * a place the client calls OpenSSL, and the only other one. Start at cli_cert_info_read().
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sealdrop/sealdrop.h"
#include "https_cert.h"

/* The first certificate of a PEM file. */
static int cert_read(const char *path, X509 **out)
{
	FILE *f;

	*out = NULL;
	if ((f = fopen(path, "re")) == NULL)
		return sd_error(errno == ENOENT ? SD_ERR_NOENT : SD_ERR_IO, "%s: %s", path, strerror(errno));
	*out = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ERR_clear_error();
	if (*out == NULL)
		return sd_error(SD_ERR_FORMAT, "%s holds no PEM certificate", path);
	return 0;
}

static int64_t asn1_seconds(const ASN1_TIME *t)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

/* The UTF-8 text of the subject's first entry of nid into out ("" when absent). */
static void subject_text(X509 *x, int nid, char *out, size_t cap)
{
	const X509_NAME *name = X509_get_subject_name(x);
	int i = X509_NAME_get_index_by_NID(name, nid, -1);
	unsigned char *utf8 = NULL;
	int n;

	out[0] = '\0';
	if (i < 0)
		return;
	n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
	if (n >= 0)
		sd_error_printable((const char *)utf8, out, cap);
	OPENSSL_free(utf8);
}

int cli_cert_info_read(const char *path, cli_cert_info_t *out)
{
	X509 *x;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = cert_read(path, &x)) < 0)
		return r;
	out->not_before = asn1_seconds(X509_get0_notBefore(x));
	out->not_after = asn1_seconds(X509_get0_notAfter(x));
	subject_text(x, NID_commonName, out->cn, sizeof(out->cn));
	subject_text(x, NID_organizationalUnitName, out->role, sizeof(out->role));
	out->is_ca = X509_check_ca(x) != 0;
	X509_free(x);
	ERR_clear_error();
	return 0;
}

int cli_cert_issuer_check(const char *cert_path, const char *ca_path)
{
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509 *x = NULL;
	int r;

	if ((r = cert_read(cert_path, &x)) < 0)
		return r;
	r = SD_ERR_NOMEM;
	if ((store = X509_STORE_new()) == NULL || (ctx = X509_STORE_CTX_new()) == NULL)
		goto out;
	if (X509_STORE_load_file(store, ca_path) != 1) {
		r = sd_error(SD_ERR_FORMAT, "%s holds no PEM certificate", ca_path);
		goto out;
	}
	if (X509_STORE_CTX_init(ctx, store, x, NULL) != 1)
		goto out;
	/* The dates are the doctor's to judge, with its own clock and its own words. */
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_NO_CHECK_TIME);
	r = X509_verify_cert(ctx) == 1
	            ? 0
	            : sd_error(SD_ERR_VERIFY, "%s", X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(x);
	ERR_clear_error();
	return r;
}

/* Never asks: a key file that needs a passphrase is not one the client can use. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

int cli_cert_key_check(const char *cert_path, const char *key_path)
{
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	FILE *f = NULL;
	int r;

	if ((r = cert_read(cert_path, &x)) < 0)
		return r;
	if ((f = fopen(key_path, "re")) == NULL) {
		r = sd_error(errno == ENOENT ? SD_ERR_NOENT : SD_ERR_IO, "%s: %s", key_path, strerror(errno));
		goto out;
	}
	if ((key = PEM_read_PrivateKey(f, NULL, no_passphrase, NULL)) == NULL)
		r = sd_error(SD_ERR_FORMAT, "%s holds no unencrypted PEM private key", key_path);
	else if (X509_check_private_key(x, key) != 1)
		r = sd_error(SD_ERR_VERIFY, "%s is not the key of the certificate %s", key_path, cert_path);
out:
	if (f != NULL)
		fclose(f);
	EVP_PKEY_free(key);
	X509_free(x);
	ERR_clear_error();
	return r;
}

int cli_cert_same(const char *path, const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *mine = NULL, *theirs = b != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	int r;

	BIO_free(b);
	ERR_clear_error();
	if (theirs == NULL)
		return sd_error(SD_ERR_FORMAT, "the directory's TLS CA is not a PEM certificate");
	if ((r = cert_read(path, &mine)) == 0 && X509_cmp(mine, theirs) != 0)
		r = sd_error(SD_ERR_VERIFY, "%s is not the TLS CA the directory lists", path);
	X509_free(mine);
	X509_free(theirs);
	return r;
}
