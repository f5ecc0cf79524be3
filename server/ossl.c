/*
 * ossl.c — OpenSSL helpers shared by the server's TLS context (server/tls.c) and its CA
 * (server/ca.c): how an OpenSSL failure becomes a one-line detail (sd_ossl_error), and
 * how an unencrypted PEM private key is read from a file without it ever leaving secure
 * memory as text (sd_ossl_key_read). Part of the TLS and certificate modules: only
 * those two include include/sealdrop/ossl.h.
 */
#include <stdlib.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "sealdrop/fileio.h"
#include "sealdrop/ossl.h"
#include "sealdrop/sealdrop.h"

int sd_ossl_error(int err, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	const char *reason = e != 0 ? ERR_reason_error_string(e) : NULL;

	ERR_clear_error();
	if (reason != NULL)
		return sd_error(err, "%s (%s)", what, reason);
	return sd_error(err, "%s", what);
}

int sd_ossl_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

int sd_ossl_key_read(const char *path, size_t max, const char *reading, const char *not_key, EVP_PKEY **out)
{
	char *text = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	int r;

	*out = NULL;
	if ((r = sd_file_read_secret(path, max, &text, &len)) < 0)
		return r;
	if ((bio = BIO_new_mem_buf(text, (int)len)) == NULL) {
		r = sd_ossl_error(SD_ERR_NOMEM, reading);
		goto out;
	}
	if ((*out = PEM_read_bio_PrivateKey(bio, NULL, sd_ossl_no_passphrase, NULL)) == NULL) {
		r = sd_ossl_error(SD_ERR_FORMAT, not_key);
		goto out;
	}
	r = 0;
out:
	BIO_free(bio);
	sd_secret_free(text);
	return r;
}
