/*
 * tls.c — sealdropd's TLS server context (include/sealdrop/tls.h), one of the two
 * modules that call OpenSSL (the other is the CA, server/ca.c).
 *
 * Start at sd_tls_server_new(): ctx_configure() is the whole policy — TLS 1.3 and
 * nothing else, no renegotiation, no compression, no session tickets and no session
 * cache, so that nothing lets the server (or anyone holding its key later) link one
 * client's connections. A client certificate is requested and any one is taken here
 * (accept_chain: OpenSSL does not even build its chain, which the routes would only do
 * again): the routes decide with sd_ca_verify_client, so a missing or foreign certificate
 * gets an HTTP 401/403 with a reason instead of a bare handshake alert. The handshake still
 * checks the client's CertificateVerify, so whoever presents a certificate holds its key.
 *
 * Why a handshake failed is kept per connection (note_alert): the alert sent or received
 * and, for one we sent, OpenSSL's reason at that moment, since the error queue itself is
 * per thread and is emptied by whoever reads it next. The OpenSSL helpers it shares with
 * the CA (error details, reading a PEM key) are server/ossl.c's.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "sealdrop/fileio.h"
#include "sealdrop/ossl.h"
#include "sealdrop/sealdrop.h"
#include "sealdrop/tls.h"

#define PEM_FILE_MAX (64u << 10)
#define ALERT_NOTED  (1u << 16) /* in the alert slot: an alert was seen */
#define ALERT_SENT   (1u << 17) /* ... and we sent it */
#define REASON_MAX   160

struct sd_tls {
	SSL_CTX *ctx;
};

static pthread_once_t ex_once = PTHREAD_ONCE_INIT;
static int alert_idx = -1, reason_idx = -1;

static void ex_init(void)
{
	alert_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	reason_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

/* Replaces OpenSSL's chain verification: every client certificate passes the TLS layer,
 * and the routes verify it (file comment). */
static int accept_chain(X509_STORE_CTX *store, void *arg)
{
	(void)store;
	(void)arg;
	return 1;
}

/* The message callback sees each alert as it is sent or read: the last one is kept. */
static void note_alert(int write_p, int version, int content_type, const void *buf, size_t len, SSL *ssl, void *arg)
{
	const uint8_t *alert = buf;
	uintptr_t v;

	(void)version;
	(void)arg;
	if (content_type != SSL3_RT_ALERT || len != 2 || alert_idx < 0)
		return;
	v = ALERT_NOTED | (write_p ? ALERT_SENT : 0) | (uintptr_t)alert[0] << 8 | alert[1];
	SSL_set_ex_data(ssl, alert_idx, (void *)v);
	if (write_p && ERR_peek_last_error() != 0) {
		const char *why = ERR_reason_error_string(ERR_peek_last_error());
		SSL_set_ex_data(ssl, reason_idx, (void *)(uintptr_t)why); /* a static string */
	}
}

static int ctx_configure(SSL_CTX *ctx)
{
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 || SSL_CTX_set_num_tickets(ctx, 0) != 1)
		return sd_ossl_error(SD_ERR_INTERNAL, "configuring TLS 1.3");
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_NO_TICKET |
	                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS); /* idle connections hold no buffers */
	/* The chain sent is the certificate file's (load_cert_chain); without this, a file
	 * holding the leaf alone has OpenSSL build a chain from the trust store at every
	 * handshake (an X509_verify_cert each), from a store that is empty here (client
	 * certificates are checked by server/ca.c against its own). */
	SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_cert_verify_callback(ctx, accept_chain, NULL);
	SSL_CTX_set_msg_callback(ctx, note_alert);
	return 0;
}

/* The server certificate, then any intermediate certificates after it in the file. */
static int load_cert_chain(SSL_CTX *ctx, const char *path)
{
	uint8_t *text = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	X509 *x = NULL;
	int r;

	if ((r = sd_file_read(path, PEM_FILE_MAX, &text, &len)) < 0)
		return r;
	if ((bio = BIO_new_mem_buf(text, (int)len)) == NULL) {
		r = sd_ossl_error(SD_ERR_NOMEM, "reading the server certificate");
		goto out;
	}
	if ((x = PEM_read_bio_X509(bio, NULL, sd_ossl_no_passphrase, NULL)) == NULL) {
		r = sd_ossl_error(SD_ERR_FORMAT, "the server certificate file holds no PEM certificate");
		goto out;
	}
	if (SSL_CTX_use_certificate(ctx, x) != 1) {
		r = sd_ossl_error(SD_ERR_FORMAT, "the server certificate is not usable");
		goto out;
	}
	X509_free(x);
	while ((x = PEM_read_bio_X509(bio, NULL, sd_ossl_no_passphrase, NULL)) != NULL) {
		if (SSL_CTX_add0_chain_cert(ctx, x) != 1) {
			r = sd_ossl_error(SD_ERR_FORMAT, "an intermediate certificate is not usable");
			goto out;
		}
		x = NULL; /* owned by ctx */
	}
	ERR_clear_error(); /* the end of the file */
	r = 0;
out:
	X509_free(x);
	BIO_free(bio);
	free(text);
	return r;
}

static int load_key(SSL_CTX *ctx, const char *path)
{
	EVP_PKEY *key = NULL;
	int r;

	if ((r = sd_ossl_key_read(path, PEM_FILE_MAX, "reading the server key",
	                          "the server key file holds no unencrypted PEM private key", &key)) < 0)
		return r;
	if (SSL_CTX_use_PrivateKey(ctx, key) != 1 || SSL_CTX_check_private_key(ctx) != 1)
		r = sd_ossl_error(SD_ERR_INVALID, "the server key does not belong to the server certificate");
	EVP_PKEY_free(key);
	return r;
}

/* The CA is announced as the one acceptable issuer of client certificates. */
static int load_client_ca(SSL_CTX *ctx, const char *ca_pem)
{
	BIO *bio = NULL;
	X509 *ca = NULL;
	int r;

	if (ca_pem == NULL)
		return sd_error(SD_ERR_USAGE, "no CA certificate");
	if ((bio = BIO_new_mem_buf(ca_pem, -1)) == NULL) {
		r = sd_ossl_error(SD_ERR_NOMEM, "reading the CA certificate");
		goto out;
	}
	if ((ca = PEM_read_bio_X509(bio, NULL, sd_ossl_no_passphrase, NULL)) == NULL) {
		r = sd_ossl_error(SD_ERR_FORMAT, "the CA certificate is not a PEM certificate");
		goto out;
	}
	if (SSL_CTX_add_client_CA(ctx, ca) != 1) {
		r = sd_ossl_error(SD_ERR_NOMEM, "announcing the CA");
		goto out;
	}
	r = 0;
out:
	X509_free(ca);
	BIO_free(bio);
	return r;
}

int sd_tls_server_new(const char *cert_path, const char *key_path, const char *ca_pem, sd_tls_t **out)
{
	sd_tls_t *t = NULL;
	int r;

	*out = NULL;
	if (cert_path == NULL || key_path == NULL)
		return sd_error(SD_ERR_USAGE, "no server certificate or key");
	pthread_once(&ex_once, ex_init);
	if (alert_idx < 0 || reason_idx < 0)
		return sd_ossl_error(SD_ERR_NOMEM, "allocating TLS connection data");
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return SD_ERR_NOMEM;
	if ((t->ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		r = sd_ossl_error(SD_ERR_NOMEM, "creating the TLS context");
		goto out;
	}
	if ((r = ctx_configure(t->ctx)) < 0 || (r = load_cert_chain(t->ctx, cert_path)) < 0 ||
	    (r = load_key(t->ctx, key_path)) < 0 || (r = load_client_ca(t->ctx, ca_pem)) < 0)
		goto out;
	*out = t;
	t = NULL;
	r = 0;
out:
	sd_tls_free_(t);
	return r;
}

void sd_tls_free_(sd_tls_t *t)
{
	if (t == NULL)
		return;
	SSL_CTX_free(t->ctx);
	free(t);
}

SSL *sd_tls_ssl_new(sd_tls_t *t)
{
	SSL *ssl = SSL_new(t->ctx);

	if (ssl == NULL)
		ERR_clear_error();
	return ssl;
}

int sd_tls_peer_cert(SSL *ssl, uint8_t **der, size_t *len)
{
	X509 *x = SSL_get0_peer_certificate(ssl);
	unsigned char *p;
	int n;

	*der = NULL;
	*len = 0;
	if (x == NULL)
		return 0;
	if ((n = i2d_X509(x, NULL)) <= 0)
		return sd_ossl_error(SD_ERR_NOMEM, "encoding the client certificate");
	if ((*der = malloc((size_t)n)) == NULL)
		return SD_ERR_NOMEM;
	p = *der;
	if (i2d_X509(x, &p) != n) {
		free(*der);
		*der = NULL;
		return sd_ossl_error(SD_ERR_INTERNAL, "encoding the client certificate");
	}
	*len = (size_t)n;
	return 0;
}

int sd_tls_peer_fingerprint(SSL *ssl, uint8_t out[SD_TLS_FINGERPRINT_BYTES])
{
	X509 *x = SSL_get0_peer_certificate(ssl);
	unsigned int n = 0;

	if (x == NULL)
		return SD_ERR_NOENT;
	if (X509_digest(x, EVP_sha256(), out, &n) != 1 || n != SD_TLS_FINGERPRINT_BYTES)
		return sd_ossl_error(SD_ERR_INTERNAL, "SHA-256 of the client certificate");
	return 0;
}

const char *sd_tls_error_reason(SSL *ssl)
{
	static _Thread_local char buf[REASON_MAX];
	uintptr_t alert = 0;
	const char *why = NULL;

	pthread_once(&ex_once, ex_init);
	if (ssl != NULL && alert_idx >= 0) {
		alert = (uintptr_t)SSL_get_ex_data(ssl, alert_idx);
		why = (const char *)(uintptr_t)SSL_get_ex_data(ssl, reason_idx);
	}
	if (why == NULL && ERR_peek_last_error() != 0)
		why = ERR_reason_error_string(ERR_peek_last_error());
	if ((alert & ALERT_NOTED) != 0)
		snprintf(buf, sizeof(buf), "%s%s%s alert \"%s\"", why != NULL ? why : "", why != NULL ? ", " : "",
		         (alert & ALERT_SENT) != 0 ? "sent" : "received",
		         SSL_alert_desc_string_long((int)(alert & 0xff)));
	else
		snprintf(buf, sizeof(buf), "%s", why != NULL ? why : "the handshake did not complete");
	return buf;
}
