/*
 * test_tls.c — the TLS server context (server/tls.c), against an OpenSSL client in the
 * same process over a socketpair, with real certificates from the CA (server/ca.c):
 * a TLS 1.3 handshake that hands the server the client's certificate (its fingerprint
 * the one the CA issued) and announces the CA as the acceptable issuer; a client
 * limited to TLS 1.2 refused, with a reason; no session ticket ever reaching a client
 * (checked against a default OpenSSL server that does send them, so the check can
 * fail); a handshake without a client certificate, and with another CA's certificate,
 * both taken (routes decide); and the refusals of sd_tls_server_new.
 */
#include "unit.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "sealdrop/ca.h"
#include "sealdrop/tls.h"

#define CRL_URL "https://localhost:8443/v1/crl"

static char tmp[] = "/tmp/sd-test-tls-XXXXXX";
static sd_ca_t *ca, *foreign;
static char *client_cert, *client_key, *foreign_cert, *foreign_key;
static sd_ca_cert_info_t client_info, foreign_info;
static int tickets_seen;

static const char *path(const char *name)
{
	static char bufs[8][512];
	static int next;
	char *p = bufs[next++ % 8];

	snprintf(p, 512, "%s/%s", tmp, name);
	return p;
}

static void spit(const char *p, const char *text)
{
	FILE *f = fopen(p, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	fclose(f);
}

static int make_ca(const char *name, sd_ca_t **out)
{
	if (mkdir(path(name), 0700) != 0 || sd_ca_create(path(name), name, 30) != 0 || sd_ca_load(path(name), out) != 0)
		return -1;
	return 0;
}

static int group_setup(void **state)
{
	static const char *const hosts[] = {"localhost", "127.0.0.1"};

	if (unit_setup(state) != 0 || mkdtemp(tmp) == NULL || make_ca("ca", &ca) != 0 ||
	    make_ca("foreign", &foreign) != 0)
		return -1;
	if (sd_ca_issue_server(ca, hosts, 2, 30, CRL_URL, path("server.pem"), path("server.key"), NULL) != 0 ||
	    sd_ca_issue_server(ca, hosts, 2, 30, CRL_URL, path("other.pem"), path("other.key"), NULL) != 0)
		return -1;
	if (sd_ca_issue_client(ca, "attorney", "Kim Min-ji", NULL, 0, 30, CRL_URL, &client_cert, &client_key,
	                       &client_info) != 0 ||
	    sd_ca_issue_client(foreign, "attorney", "Mallory", NULL, 0, 30, CRL_URL, &foreign_cert, &foreign_key,
	                       &foreign_info) != 0)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	sd_ca_free(ca);
	sd_ca_free(foreign);
	free(client_cert);
	free(foreign_cert);
	sd_secret_free(client_key);
	sd_secret_free(foreign_key);
	unit_rm_tree(tmp);
	return 0;
}

/* --- the client side, plain OpenSSL ----------------------------------------------- */

static int count_ticket(SSL *ssl, SSL_SESSION *sess)
{
	(void)ssl;
	(void)sess;
	tickets_seen++;
	return 0; /* not kept */
}

static SSL_CTX *client_ctx(int max_version, const char *cert_pem, const char *key_pem)
{
	SSL_CTX *c = SSL_CTX_new(TLS_client_method());
	BIO *bio;
	X509 *x;
	EVP_PKEY *k;

	assert_non_null(c);
	assert_int_equal(SSL_CTX_set_max_proto_version(c, max_version), 1);
	/* The client trusts the CA alone and checks the server's name. */
	bio = BIO_new_mem_buf(sd_ca_cert_pem(ca), -1);
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	assert_non_null(x);
	assert_int_equal(X509_STORE_add_cert(SSL_CTX_get_cert_store(c), x), 1);
	X509_free(x);
	BIO_free(bio);
	SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(c, count_ticket);
	if (cert_pem != NULL) {
		bio = BIO_new_mem_buf(cert_pem, -1);
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		BIO_free(bio);
		bio = BIO_new_mem_buf(key_pem, -1);
		k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
		BIO_free(bio);
		assert_non_null(x);
		assert_non_null(k);
		assert_int_equal(SSL_CTX_use_certificate(c, x), 1);
		assert_int_equal(SSL_CTX_use_PrivateKey(c, k), 1);
		X509_free(x);
		EVP_PKEY_free(k);
	}
	return c;
}

typedef struct {
	SSL *srv, *cli;
	SSL_CTX *cli_ctx;
	int fds[2];
} pair_t;

static void pair_open(pair_t *p, SSL *srv, SSL_CTX *cli_ctx)
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, p->fds), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(fcntl(p->fds[i], F_SETFL, O_NONBLOCK), 0);
	p->srv = srv;
	p->cli_ctx = cli_ctx;
	assert_non_null(p->srv);
	assert_non_null(p->cli = SSL_new(cli_ctx));
	assert_int_equal(SSL_set_fd(p->srv, p->fds[0]), 1);
	assert_int_equal(SSL_set_fd(p->cli, p->fds[1]), 1);
	SSL_set_accept_state(p->srv);
	SSL_set_connect_state(p->cli);
	assert_int_equal(SSL_set1_host(p->cli, "localhost"), 1);
	assert_int_equal(SSL_set_tlsext_host_name(p->cli, "localhost"), 1);
}

static void pair_close(pair_t *p)
{
	SSL_free(p->srv);
	SSL_free(p->cli);
	SSL_CTX_free(p->cli_ctx);
	close(p->fds[0]);
	close(p->fds[1]);
}

/* One step of a non-blocking handshake: 1 done, 0 wants more, -1 failed. */
static int step(SSL *ssl)
{
	int r = SSL_do_handshake(ssl), e;

	if (r == 1)
		return 1;
	e = SSL_get_error(ssl, r);
	return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
}

/* Both ends' handshakes, turn by turn: 0 when both completed, -1 when either failed. */
static int handshake(pair_t *p)
{
	int s = 0, c = 0;

	for (int i = 0; i < 100 && (s != 1 || c != 1); i++) {
		if (c != 1 && (c = step(p->cli)) < 0)
			return -1;
		if (s != 1 && (s = step(p->srv)) < 0)
			return -1;
	}
	return s == 1 && c == 1 ? 0 : -1;
}

/* Data both ways; the client's read is where it would take any session ticket. */
static void exchange(pair_t *p)
{
	char buf[16];
	int n = -1;

	assert_int_equal(SSL_write(p->srv, "hello", 5), 5);
	for (int i = 0; i < 10 && n <= 0; i++)
		n = SSL_read(p->cli, buf, sizeof(buf));
	assert_int_equal(n, 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(SSL_write(p->cli, "world", 5), 5);
	n = -1;
	for (int i = 0; i < 10 && n <= 0; i++)
		n = SSL_read(p->srv, buf, sizeof(buf));
	assert_int_equal(n, 5);
	assert_memory_equal(buf, "world", 5);
}

static sd_tls_t *server(void)
{
	sd_tls_t *t = NULL;
	int r = sd_tls_server_new(path("server.pem"), path("server.key"), sd_ca_cert_pem(ca), &t);

	if (r != 0)
		print_error("sd_tls_server_new: %s\n", sd_error_detail());
	assert_int_equal(r, 0);
	assert_non_null(t);
	return t;
}

/* --- tests ------------------------------------------------------------------------- */

static void test_handshake_with_client_certificate(void **state)
{
	sd_tls_t *t = server();
	pair_t p;
	uint8_t *der = NULL, fp[SD_CA_FINGERPRINT_BYTES];
	size_t len = 0;
	sd_ca_cert_info_t info;
	STACK_OF(X509_NAME) * names;
	X509 *ca_x;
	BIO *bio;

	(void)state;
	tickets_seen = 0;
	pair_open(&p, sd_tls_ssl_new(t), client_ctx(TLS1_3_VERSION, client_cert, client_key));
	assert_int_equal(handshake(&p), 0);
	assert_int_equal(SSL_version(p.srv), TLS1_3_VERSION);
	assert_int_equal(SSL_get_verify_result(p.cli), X509_V_OK); /* the server certificate, by the client */
	assert_null(SSL_get_current_compression(p.srv));
	/* The client was told which CA to pick a certificate from. */
	names = SSL_get_client_CA_list(p.cli);
	assert_non_null(names);
	assert_int_equal(sk_X509_NAME_num(names), 1);
	bio = BIO_new_mem_buf(sd_ca_cert_pem(ca), -1);
	ca_x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	assert_int_equal(X509_NAME_cmp(sk_X509_NAME_value(names, 0), X509_get_subject_name(ca_x)), 0);
	X509_free(ca_x);
	BIO_free(bio);
	/* The server holds the client's certificate, exactly as issued. */
	assert_int_equal(sd_tls_peer_cert(p.srv, &der, &len), 0);
	assert_non_null(der);
	assert_int_equal(sd_ca_fingerprint(der, len, fp), 0);
	assert_memory_equal(fp, client_info.fingerprint, sizeof(fp));
	assert_int_equal(sd_ca_verify_client(ca, der, len, NULL, 0, (int64_t)time(NULL), &info), 0);
	assert_string_equal(info.name, "Kim Min-ji");
	assert_string_equal(info.role, "attorney");
	free(der);
	/* No ticket, nothing to resume. */
	exchange(&p);
	assert_int_equal(tickets_seen, 0);
	assert_false(SSL_session_reused(p.cli));
	assert_int_equal(SSL_SESSION_is_resumable(SSL_get_session(p.cli)), 0);
	pair_close(&p);
	sd_tls_free(t);
	assert_null(t);
}

/* The ticket check above can fail: OpenSSL's defaults send two tickets. */
static void test_ticket_check_sees_default_tickets(void **state)
{
	SSL_CTX *plain = SSL_CTX_new(TLS_server_method());
	pair_t p;

	(void)state;
	assert_int_equal(SSL_CTX_use_certificate_file(plain, path("server.pem"), SSL_FILETYPE_PEM), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey_file(plain, path("server.key"), SSL_FILETYPE_PEM), 1);
	tickets_seen = 0;
	pair_open(&p, SSL_new(plain), client_ctx(TLS1_3_VERSION, NULL, NULL));
	assert_int_equal(handshake(&p), 0);
	exchange(&p);
	assert_true(tickets_seen > 0);
	assert_int_equal(SSL_SESSION_is_resumable(SSL_get_session(p.cli)), 1);
	pair_close(&p);
	SSL_CTX_free(plain);
}

static void test_tls12_refused(void **state)
{
	sd_tls_t *t = server();
	pair_t p;
	const char *why;

	(void)state;
	pair_open(&p, sd_tls_ssl_new(t), client_ctx(TLS1_2_VERSION, client_cert, client_key));
	assert_int_equal(handshake(&p), -1);
	why = sd_tls_error_reason(p.srv);
	assert_non_null(strstr(why, "unsupported protocol"));
	assert_non_null(strstr(why, "sent alert \"protocol version\""));
	ERR_clear_error();
	pair_close(&p);
	/* A fresh connection has nothing to report. */
	SSL *fresh = sd_tls_ssl_new(t);
	assert_string_equal(sd_tls_error_reason(fresh), "the handshake did not complete");
	SSL_free(fresh);
	sd_tls_free(t);
}

static void test_no_client_certificate(void **state)
{
	sd_tls_t *t = server();
	pair_t p;
	uint8_t *der = (uint8_t *)"x";
	size_t len = 1;

	(void)state;
	pair_open(&p, sd_tls_ssl_new(t), client_ctx(TLS1_3_VERSION, NULL, NULL));
	assert_int_equal(handshake(&p), 0);
	assert_int_equal(sd_tls_peer_cert(p.srv, &der, &len), 0);
	assert_null(der);
	assert_int_equal(len, 0);
	exchange(&p);
	pair_close(&p);
	sd_tls_free(t);
}

/* Another CA's certificate passes TLS too: the route refuses it with a reason. */
static void test_foreign_client_certificate(void **state)
{
	sd_tls_t *t = server();
	pair_t p;
	uint8_t *der = NULL, fp[SD_CA_FINGERPRINT_BYTES];
	size_t len = 0;
	sd_ca_cert_info_t info;

	(void)state;
	pair_open(&p, sd_tls_ssl_new(t), client_ctx(TLS1_3_VERSION, foreign_cert, foreign_key));
	assert_int_equal(handshake(&p), 0);
	assert_int_equal(sd_tls_peer_cert(p.srv, &der, &len), 0);
	assert_int_equal(sd_ca_fingerprint(der, len, fp), 0);
	assert_memory_equal(fp, foreign_info.fingerprint, sizeof(fp));
	assert_int_equal(sd_ca_verify_client(ca, der, len, NULL, 0, (int64_t)time(NULL), &info), SD_ERR_VERIFY);
	free(der);
	pair_close(&p);
	sd_tls_free(t);
}

static void test_server_new_refusals(void **state)
{
	const char *ca_pem = sd_ca_cert_pem(ca);
	sd_tls_t *t = (sd_tls_t *)1;

	(void)state;
	spit(path("garbage.pem"), "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
	spit(path("empty.pem"), "");
	spit(path("garbage.key"), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
	assert_int_equal(sd_tls_server_new(path("server.pem"), path("other.key"), ca_pem, &t), SD_ERR_INVALID);
	assert_null(t);
	assert_non_null(strstr(sd_error_detail(), "does not belong"));
	assert_int_equal(sd_tls_server_new(path("other.pem"), path("server.key"), ca_pem, &t), SD_ERR_INVALID);
	assert_int_equal(sd_tls_server_new(path("server.key"), path("server.key"), ca_pem, &t), SD_ERR_FORMAT);
	assert_int_equal(sd_tls_server_new(path("server.pem"), path("server.pem"), ca_pem, &t), SD_ERR_FORMAT);
	assert_int_equal(sd_tls_server_new(path("missing.pem"), path("server.key"), ca_pem, &t), SD_ERR_NOENT);
	assert_int_equal(sd_tls_server_new(path("server.pem"), path("missing.key"), ca_pem, &t), SD_ERR_NOENT);
	assert_int_equal(sd_tls_server_new(path("garbage.pem"), path("server.key"), ca_pem, &t), SD_ERR_FORMAT);
	assert_int_equal(sd_tls_server_new(path("empty.pem"), path("server.key"), ca_pem, &t), SD_ERR_FORMAT);
	assert_int_equal(sd_tls_server_new(path("server.pem"), path("garbage.key"), ca_pem, &t), SD_ERR_FORMAT);
	assert_int_equal(sd_tls_server_new(path("server.pem"), path("server.key"), "not a certificate", &t),
	                 SD_ERR_FORMAT);
	assert_int_equal(sd_tls_server_new(path("server.pem"), path("server.key"), client_key, &t), SD_ERR_FORMAT);
	assert_int_equal(sd_tls_server_new(path("server.pem"), path("server.key"), NULL, &t), SD_ERR_USAGE);
	assert_int_equal(sd_tls_server_new(NULL, path("server.key"), ca_pem, &t), SD_ERR_USAGE);
	assert_null(t);
	/* OpenSSL's error queue is left empty for the next caller. */
	assert_int_equal(ERR_peek_error(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_handshake_with_client_certificate),
	        cmocka_unit_test(test_ticket_check_sees_default_tickets),
	        cmocka_unit_test(test_tls12_refused),
	        cmocka_unit_test(test_no_client_certificate),
	        cmocka_unit_test(test_foreign_client_certificate),
	        cmocka_unit_test(test_server_new_refusals),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
