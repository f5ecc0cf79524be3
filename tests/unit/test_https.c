/*
 * test_https.c — the client's HTTPS (client/https.c) against a small TLS server that runs
 * in a thread of this test, with certificates minted by the project's CA (server/ca.c)
 * in a temporary directory. The server is plain OpenSSL and can misbehave on purpose:
 * close kept-alive connections, answer too much, not answer, speak only TLS 1.2, or
 * present a certificate from another CA or for other names.
 */
#include "unit.h"

#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "sealdrop/ca.h"
#include "../../client/https.h"

#define CRL_URL "https://localhost/v1/crl"
#define BIG     (CLI_HTTPS_MAX_BODY + 1u)

static char tmp[] = "/tmp/sd-test-https-XXXXXX";

enum mode {
	M_ECHO,          /* answer every request, keep the connection */
	M_CLOSE_AFTER,   /* answer one request per connection, then close silently */
	M_CLOSE_ON_NEXT, /* on a connection's second request: read it, close without answering */
	M_CLOSE_ALWAYS,  /* read every request, never answer, close */
	M_SILENT,        /* read the request, never answer, keep the connection open */
	M_MAX_BODY,      /* answer with exactly CLI_HTTPS_MAX_BODY bytes */
	M_TOO_BIG,       /* announce one byte more */
	M_ERROR,         /* 403 with a JSON error body */
	M_UNTIL_CLOSE,   /* a body without Content-Length, ended by closing */
};

typedef struct {
	SSL_CTX *ctx;
	int lfd;
	uint16_t port;
	enum mode mode;
	pthread_t thread;
	atomic_bool stop;
	atomic_int connections, requests;
} server_t;

/* --- files ----------------------------------------------------------------------- */

static const char *path(const char *name)
{
	static char bufs[8][512];
	static int next;
	char *p = bufs[next++ % 8];

	snprintf(p, 512, "%s/%s", tmp, name);
	return p;
}

static void write_file(const char *name, const char *text, mode_t mode)
{
	int fd = open(path(name), O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(chmod(path(name), mode), 0);
}

static int setup(void **state)
{
	static const char *const good[] = {"localhost", "127.0.0.1", "::1"};
	static const char *const wrong[] = {"example.org", "10.9.9.9"};
	sd_ca_t *ca = NULL, *other = NULL;
	char *cert = NULL, *key = NULL;

	if (unit_setup(state) != 0 || mkdtemp(tmp) == NULL || mkdir(path("ca"), 0700) != 0 ||
	    mkdir(path("other"), 0700) != 0)
		return -1;
	if (sd_ca_create(path("ca"), "Test CA", 30) != 0 || sd_ca_create(path("other"), "Other CA", 30) != 0 ||
	    sd_ca_load(path("ca"), &ca) != 0 || sd_ca_load(path("other"), &other) != 0)
		return -1;
	if (sd_ca_issue_server(ca, good, 3, 30, CRL_URL, path("server.pem"), path("server.key"), NULL) != 0 ||
	    sd_ca_issue_server(ca, wrong, 2, 30, CRL_URL, path("wrong.pem"), path("wrong.key"), NULL) != 0 ||
	    sd_ca_issue_server(other, good, 3, 30, CRL_URL, path("foreign.pem"), path("foreign.key"), NULL) != 0)
		return -1;
	if (sd_ca_issue_client(ca, "attorney", "Attorney Kim", NULL, 0, 30, CRL_URL, &cert, &key, NULL) != 0)
		return -1;
	write_file("att.pem", cert, 0644);
	write_file("att.key", key, 0600);
	write_file("att-open.key", key, 0644);
	write_file("garbage.pem", "not a certificate\n", 0644);
	free(cert);
	sd_secret_free(key);
	sd_ca_free(ca);
	sd_ca_free(other);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return unit_rm_tree(tmp);
}

/* --- the server ---------------------------------------------------------------------- */

static bool srv_write(SSL *ssl, const void *p, size_t n)
{
	size_t done;

	return n == 0 || (SSL_write_ex(ssl, p, n, &done) == 1 && done == n);
}

/* One request: head and body. Returns the body length, or -1 when the client is gone. */
static long srv_read_request(SSL *ssl, char *head, size_t cap)
{
	size_t len = 0, got;
	char *end = NULL, *cl;
	long body;

	while (end == NULL) {
		if (len + 1 >= cap || SSL_read_ex(ssl, head + len, cap - 1 - len, &got) != 1)
			return -1;
		len += got;
		head[len] = '\0';
		end = strstr(head, "\r\n\r\n");
	}
	cl = strcasestr(head, "\r\nContent-Length: ");
	body = cl != NULL ? strtol(cl + 18, NULL, 10) : 0;
	for (long have = (long)(len - (size_t)(end + 4 - head)); have < body; have += (long)got) {
		char buf[65536];
		if (SSL_read_ex(ssl, buf, sizeof(buf), &got) != 1)
			return -1;
	}
	end[2] = '\0';
	return body;
}

static bool srv_answer_echo(server_t *s, SSL *ssl, const char *head, long body, int conn, int req)
{
	const char *host = strcasestr(head, "\r\nHost: "), *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	char hostv[128] = "", cn[128] = "", line[1024], *text;
	X509 *peer = SSL_get_peer_certificate(ssl);
	STACK_OF(X509) *sent = SSL_get_peer_cert_chain(ssl); /* on a server: without the peer's own */
	json_t *o;
	bool ok;

	if (host != NULL)
		sscanf(host + 8, "%127[^\r]", hostv);
	if (peer != NULL)
		X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof(cn));
	X509_free(peer);
	o = json_pack("{s:i, s:i, s:s#, s:I, s:s, s:b, s:s, s:i, s:s}", "conn", conn, "req", req, "line", head,
	              (int)strcspn(head, "\r"), "len", (json_int_t)body, "host", hostv, "ua",
	              strcasestr(head, "User-Agent") != NULL, "cn", cn, "chain", sent ? sk_X509_num(sent) : 0, "sni",
	              sni ? sni : "");
	text = json_dumps(o, JSON_COMPACT);
	snprintf(line, sizeof(line), "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
	         strlen(text));
	ok = srv_write(ssl, line, strlen(line)) && srv_write(ssl, text, strlen(text));
	free(text);
	json_decref(o);
	(void)s;
	return ok;
}

static bool srv_answer_sized(SSL *ssl, size_t announce, size_t send)
{
	char line[256];
	uint8_t *body = calloc(1, send + 1);
	bool ok;

	snprintf(line, sizeof(line), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", announce);
	ok = body != NULL && srv_write(ssl, line, strlen(line)) && srv_write(ssl, body, send);
	free(body);
	return ok;
}

/* Answers one request as the mode says; false closes the connection. */
static bool srv_answer(server_t *s, SSL *ssl, const char *head, long body, int conn, int req)
{
	static const char err[] = "{\"error\": \"role_forbidden\", \"message\": \"officers may not file\\u001b[2J\"}";
	static const char until_close[] = "HTTP/1.1 200 OK\r\n\r\n{\"until\": \"close\"}";
	char line[256];

	switch (s->mode) {
	case M_CLOSE_ON_NEXT:
		return req == 1 && srv_answer_echo(s, ssl, head, body, conn, req);
	case M_CLOSE_ALWAYS:
		return false;
	case M_SILENT:
		sleep(2);
		return false;
	case M_MAX_BODY:
		return srv_answer_sized(ssl, CLI_HTTPS_MAX_BODY, CLI_HTTPS_MAX_BODY);
	case M_TOO_BIG:
		return srv_answer_sized(ssl, BIG, 0);
	case M_ERROR:
		snprintf(line, sizeof(line),
		         "HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
		         strlen(err));
		return srv_write(ssl, line, strlen(line)) && srv_write(ssl, err, strlen(err));
	case M_UNTIL_CLOSE:
		srv_write(ssl, until_close, strlen(until_close));
		SSL_shutdown(ssl);
		return false;
	case M_CLOSE_AFTER:
		srv_answer_echo(s, ssl, head, body, conn, req);
		return false;
	default:
		return srv_answer_echo(s, ssl, head, body, conn, req);
	}
}

static void srv_connection(server_t *s, int fd)
{
	struct timeval tv = {5, 0};
	char head[16384];
	SSL *ssl = SSL_new(s->ctx);
	int conn = ++s->connections, req = 0;
	long body;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	SSL_set_fd(ssl, fd);
	if (SSL_accept(ssl) == 1) {
		while ((body = srv_read_request(ssl, head, sizeof(head))) >= 0) {
			s->requests++;
			if (!srv_answer(s, ssl, head, body, conn, ++req))
				break;
		}
	}
	SSL_free(ssl);
	close(fd);
	ERR_clear_error();
}

static void *srv_main(void *arg)
{
	server_t *s = arg;

	while (!s->stop) {
		struct pollfd p = {.fd = s->lfd, .events = POLLIN};
		int fd;

		if (poll(&p, 1, 50) != 1 || (fd = accept(s->lfd, NULL, NULL)) < 0)
			continue;
		srv_connection(s, fd);
	}
	return NULL;
}

static int srv_listen(server_t *s, bool v6)
{
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = v6 ? sizeof(a6) : sizeof(a4);
	struct sockaddr *a = v6 ? (struct sockaddr *)&a6 : (struct sockaddr *)&a4;
	int one = 1;

	if ((s->lfd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (v6)
		setsockopt(s->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(s->lfd, a, len) != 0 || listen(s->lfd, 16) != 0 || getsockname(s->lfd, a, &len) != 0) {
		close(s->lfd);
		return -1;
	}
	s->port = ntohs(v6 ? a6.sin6_port : a4.sin_port);
	return 0;
}

/* A server presenting cert/key (names in tmp), TLS 1.3 unless tls12, asking for an
 * optional client certificate from the test CA. */
static server_t *srv_start(const char *cert, const char *key, enum mode mode, bool tls12, bool v6)
{
	server_t *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->mode = mode;
	assert_non_null(s->ctx = SSL_CTX_new(TLS_server_method()));
	SSL_CTX_set_min_proto_version(s->ctx, tls12 ? TLS1_2_VERSION : TLS1_3_VERSION);
	SSL_CTX_set_max_proto_version(s->ctx, tls12 ? TLS1_2_VERSION : TLS1_3_VERSION);
	assert_int_equal(SSL_CTX_use_certificate_file(s->ctx, path(cert), SSL_FILETYPE_PEM), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey_file(s->ctx, path(key), SSL_FILETYPE_PEM), 1);
	assert_int_equal(SSL_CTX_load_verify_file(s->ctx, path("ca/ca.pem")), 1);
	SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER, NULL);
	if (srv_listen(s, v6) != 0) {
		SSL_CTX_free(s->ctx);
		free(s);
		return NULL;
	}
	assert_int_equal(pthread_create(&s->thread, NULL, srv_main, s), 0);
	return s;
}

static void srv_stop(server_t *s)
{
	s->stop = true;
	pthread_join(s->thread, NULL);
	close(s->lfd);
	SSL_CTX_free(s->ctx);
	free(s);
}

/* --- the client ---------------------------------------------------------------------- */

static int client_new(const server_t *s, const char *host, const char *ca, bool cert, int timeout_ms,
                      cli_https_ctx_t **ctx)
{
	char url[128];
	cli_https_config_t cfg = {.url = url,
	                          .ca_file = path(ca),
	                          .cert_file = cert ? path("att.pem") : NULL,
	                          .key_file = cert ? path("att.key") : NULL,
	                          .timeout_ms = timeout_ms};

	snprintf(url, sizeof(url), "https://%s:%u", host, s->port);
	return cli_https_ctx_new(&cfg, ctx);
}

static int get(cli_https_conn_t *c, const char *p, cli_https_response_t *resp)
{
	cli_https_request_t req = {.method = "GET", .path = p, .body_fd = -1};

	return cli_https_request(c, &req, resp);
}

static json_t *body_json(const cli_https_response_t *resp)
{
	json_t *o = json_loadb((const char *)resp->body, resp->body_len, 0, NULL);

	assert_non_null(o);
	return o;
}

static json_int_t jint(json_t *o, const char *k)
{
	assert_true(json_is_integer(json_object_get(o, k)));
	return json_integer_value(json_object_get(o, k));
}

static const char *jstr(json_t *o, const char *k)
{
	assert_true(json_is_string(json_object_get(o, k)));
	return json_string_value(json_object_get(o, k));
}

/* --- tests --------------------------------------------------------------------------- */

static void test_url_parse(void **state)
{
	static const struct {
		const char *url, *host;
		unsigned port;
		bool ip, v6;
	} good[] = {
	        {"https://127.0.0.1:8443", "127.0.0.1", 8443, true, false},
	        {"https://127.0.0.1", "127.0.0.1", 443, true, false},
	        {"https://[::1]:8443", "::1", 8443, true, true},
	        {"https://[2001:db8::7]", "2001:db8::7", 443, true, true},
	        {"https://sealdrop.example.org:1/", "sealdrop.example.org", 1, false, false},
	        {"HTTPS://localhost:65535", "localhost", 65535, false, false},
	};
	static const char *const bad[] = {
	        "http://127.0.0.1:8443", "127.0.0.1:8443",     "https://",
	        "https://:8443",         "https://[::1",       "https://[zz::1]:8443",
	        "https://host:0",        "https://host:65536", "https://host:",
	        "https://host:8443/v1",  "https://user@host",  "https://host?x",
	        "https://ho st",         "https://.host",      "https://a..b",
	        "https://host:84x",      "ftp://host",
	};
	cli_https_url_t u;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (cli_https_url_parse(good[i].url, &u) != 0)
			fail_msg("%s: %s", good[i].url, sd_error_detail());
		assert_string_equal(u.host, good[i].host);
		assert_int_equal(u.port, good[i].port);
		assert_int_equal(u.is_ip, good[i].ip);
		assert_int_equal(u.is_ipv6, good[i].v6);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (cli_https_url_parse(bad[i], &u) != SD_ERR_USAGE)
			fail_msg("%s accepted", bad[i]);
	assert_int_equal(cli_https_url_parse(NULL, &u), SD_ERR_USAGE);
}

/* TLS 1.3 with a client certificate; three requests on one kept-alive connection, one
 * of them with a body read from a file range; no User-Agent. */
static void test_keepalive(void **state)
{
	server_t *s = srv_start("server.pem", "server.key", M_ECHO, false, false);
	cli_https_ctx_t *ctx = NULL;
	cli_https_conn_t *c = NULL;
	cli_https_response_t resp;
	uint8_t payload[100000];
	char want[64];
	int fd;
	json_t *o;

	(void)state;
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)i;
	assert_int_equal(client_new(s, "127.0.0.1", "ca/ca.pem", true, 0, &ctx), 0);
	assert_false(cli_https_key_is_exposed(ctx));
	assert_int_equal(cli_https_conn_new(ctx, &c), 0);
	assert_int_equal(cli_https_conn_opened(c), 0);

	assert_int_equal(get(c, "/v1/health", &resp), 0);
	assert_int_equal(resp.status, 200);
	assert_string_equal(resp.content_type, "application/json");
	o = body_json(&resp);
	assert_string_equal(jstr(o, "line"), "GET /v1/health HTTP/1.1");
	snprintf(want, sizeof(want), "127.0.0.1:%u", s->port);
	assert_string_equal(jstr(o, "host"), want);
	assert_string_equal(jstr(o, "cn"), "Attorney Kim");
	/* Its certificate alone: not the CA, which OpenSSL would add from the trust store. */
	assert_int_equal(jint(o, "chain"), 0);
	assert_string_equal(jstr(o, "sni"), ""); /* no SNI for an address */
	assert_false(json_is_true(json_object_get(o, "ua")));
	assert_int_equal(jint(o, "len"), 0);
	json_decref(o);
	cli_https_response_free(&resp);

	cli_https_request_t post = {.method = "POST",
	                            .path = "/v1/uploads",
	                            .content_type = "application/octet-stream",
	                            .body = payload,
	                            .body_len = sizeof(payload),
	                            .body_fd = -1};
	assert_int_equal(cli_https_request(c, &post, &resp), 0);
	o = body_json(&resp);
	assert_int_equal(jint(o, "len"), sizeof(payload));
	assert_int_equal(jint(o, "conn"), 1);
	assert_int_equal(jint(o, "req"), 2);
	json_decref(o);
	cli_https_response_free(&resp);

	write_file("range.bin", "0123456789abcdefghij", 0600);
	assert_true((fd = open(path("range.bin"), O_RDONLY)) >= 0);
	cli_https_request_t put = {.method = "PUT",
	                           .path = "/v1/uploads/x/blobs/0/chunks/0",
	                           .content_type = "application/octet-stream",
	                           .body_len = 7,
	                           .body_fd = fd,
	                           .body_offset = 10};
	assert_int_equal(cli_https_request(c, &put, &resp), 0);
	o = body_json(&resp);
	assert_int_equal(jint(o, "len"), 7);
	assert_int_equal(jint(o, "req"), 3);
	json_decref(o);
	cli_https_response_free(&resp);
	/* a range past the end of the file fails the request, not the process */
	put.body_len = 50;
	assert_int_equal(cli_https_request(c, &put, &resp), SD_ERR_IO);
	assert_non_null(strstr(sd_error_detail(), "shorter than expected"));
	close(fd);

	assert_int_equal(cli_https_conn_opened(c), 1);
	assert_int_equal(s->connections, 1);
	cli_https_conn_free(c);
	assert_null(c);
	cli_https_ctx_free(ctx);
	assert_null(ctx);
	srv_stop(s);
}

/* By name: SNI and the name check; by IPv6 address when the machine has ::1. */
static void test_names(void **state)
{
	server_t *s = srv_start("server.pem", "server.key", M_ECHO, false, false), *s6;
	cli_https_ctx_t *ctx = NULL;
	cli_https_conn_t *c = NULL;
	cli_https_response_t resp;
	char want[64];
	json_t *o;

	(void)state;
	assert_int_equal(client_new(s, "localhost", "ca/ca.pem", false, 0, &ctx), 0);
	assert_int_equal(cli_https_conn_new(ctx, &c), 0);
	assert_int_equal(get(c, "/", &resp), 0);
	o = body_json(&resp);
	assert_string_equal(jstr(o, "sni"), "localhost");
	assert_string_equal(jstr(o, "cn"), "");
	json_decref(o);
	cli_https_response_free(&resp);
	cli_https_conn_free(c);
	cli_https_ctx_free(ctx);
	srv_stop(s);

	if ((s6 = srv_start("server.pem", "server.key", M_ECHO, false, true)) == NULL)
		return; /* no IPv6 loopback here */
	assert_int_equal(client_new(s6, "[::1]", "ca/ca.pem", false, 0, &ctx), 0);
	assert_int_equal(cli_https_conn_new(ctx, &c), 0);
	assert_int_equal(get(c, "/", &resp), 0);
	o = body_json(&resp);
	snprintf(want, sizeof(want), "[::1]:%u", s6->port);
	assert_string_equal(jstr(o, "host"), want);
	json_decref(o);
	cli_https_response_free(&resp);
	cli_https_conn_free(c);
	cli_https_ctx_free(ctx);
	srv_stop(s6);
}

static void expect_refused(const char *cert, const char *key, bool tls12, const char *host, const char *detail)
{
	server_t *s = srv_start(cert, key, M_ECHO, tls12, false);
	cli_https_ctx_t *ctx = NULL;
	cli_https_conn_t *c = NULL;
	cli_https_response_t resp;

	assert_int_equal(client_new(s, host, "ca/ca.pem", true, 0, &ctx), 0);
	assert_int_equal(cli_https_conn_new(ctx, &c), 0);
	sd_error_clear();
	assert_int_equal(get(c, "/", &resp), CLI_ERR_PROTOCOL);
	if (strstr(sd_error_detail(), detail) == NULL)
		fail_msg("%s %s: '%s'", cert, host, sd_error_detail());
	assert_null(resp.body);
	assert_int_equal(s->requests, 0);
	cli_https_conn_free(c);
	cli_https_ctx_free(ctx);
	srv_stop(s);
}

static void test_refusals(void **state)
{
	(void)state;
	expect_refused("foreign.pem", "foreign.key", false, "127.0.0.1", "does not verify against the CA file");
	expect_refused("foreign.pem", "foreign.key", false, "localhost", "does not verify against the CA file");
	expect_refused("wrong.pem", "wrong.key", false, "127.0.0.1", "not issued for the address in the server URL");
	expect_refused("wrong.pem", "wrong.key", false, "localhost", "not issued for the host name in the server URL");
	expect_refused("server.pem", "server.key", true, "127.0.0.1", "TLS 1.3 handshake with the server failed");
}

/* A server that closes a kept-alive connection while it is idle: the next request goes
 * out on a new connection, every time. */
static void test_reconnect_idle(void **state)
{
	server_t *s = srv_start("server.pem", "server.key", M_CLOSE_AFTER, false, false);
	cli_https_ctx_t *ctx = NULL;
	cli_https_conn_t *c = NULL;
	cli_https_response_t resp;

	(void)state;
	assert_int_equal(client_new(s, "127.0.0.1", "ca/ca.pem", true, 0, &ctx), 0);
	assert_int_equal(cli_https_conn_new(ctx, &c), 0);
	for (int i = 1; i <= 3; i++) {
		json_t *o;
		assert_int_equal(get(c, "/", &resp), 0);
		o = body_json(&resp);
		assert_int_equal(jint(o, "conn"), i);
		json_decref(o);
		cli_https_response_free(&resp);
		usleep(50000); /* the close has arrived */
	}
	assert_int_equal(cli_https_conn_opened(c), 3);
	cli_https_conn_free(c);
	cli_https_ctx_free(ctx);
	srv_stop(s);
}

/* The server closes as the request arrives: retried once on a new connection; a fresh
 * connection that fails is not retried. */
static void test_reconnect_once(void **state)
{
	server_t *s = srv_start("server.pem", "server.key", M_CLOSE_ON_NEXT, false, false);
	cli_https_ctx_t *ctx = NULL;
	cli_https_conn_t *c = NULL;
	cli_https_response_t resp;
	json_t *o;

	(void)state;
	assert_int_equal(client_new(s, "127.0.0.1", "ca/ca.pem", true, 0, &ctx), 0);
	assert_int_equal(cli_https_conn_new(ctx, &c), 0);
	for (int i = 1; i <= 3; i++) {
		assert_int_equal(get(c, "/", &resp), 0);
		o = body_json(&resp);
		assert_int_equal(jint(o, "conn"), i);
		assert_int_equal(jint(o, "req"), 1);
		json_decref(o);
		cli_https_response_free(&resp);
	}
	assert_int_equal(cli_https_conn_opened(c), 3);
	assert_int_equal(s->requests, 5);
	cli_https_conn_free(c);
	cli_https_ctx_free(ctx);
	srv_stop(s);

	s = srv_start("server.pem", "server.key", M_CLOSE_ALWAYS, false, false);
	assert_int_equal(client_new(s, "127.0.0.1", "ca/ca.pem", true, 0, &ctx), 0);
	assert_int_equal(cli_https_conn_new(ctx, &c), 0);
	assert_int_equal(get(c, "/", &resp), CLI_ERR_UNAVAILABLE);
	assert_non_null(strstr(sd_error_detail(), "closed the connection"));
	assert_int_equal(cli_https_conn_opened(c), 1);
	assert_int_equal(s->requests, 1);
	cli_https_conn_free(c);
	cli_https_ctx_free(ctx);
	srv_stop(s);
}

static void test_size_limit(void **state)
{
	server_t *s = srv_start("server.pem", "server.key", M_MAX_BODY, false, false);
	cli_https_ctx_t *ctx = NULL;
	cli_https_conn_t *c = NULL;
	cli_https_response_t resp;

	(void)state;
	assert_int_equal(client_new(s, "127.0.0.1", "ca/ca.pem", true, 0, &ctx), 0);
	assert_int_equal(cli_https_conn_new(ctx, &c), 0);
	assert_int_equal(get(c, "/", &resp), 0);
	assert_int_equal(resp.body_len, CLI_HTTPS_MAX_BODY);
	assert_int_equal(resp.body[resp.body_len], 0);
	cli_https_response_free(&resp);
	assert_int_equal(get(c, "/", &resp), 0);
	cli_https_response_free(&resp);
	assert_int_equal(cli_https_conn_opened(c), 1);
	cli_https_conn_free(c);
	cli_https_ctx_free(ctx);
	srv_stop(s);

	s = srv_start("server.pem", "server.key", M_TOO_BIG, false, false);
	assert_int_equal(client_new(s, "127.0.0.1", "ca/ca.pem", true, 0, &ctx), 0);
	assert_int_equal(cli_https_conn_new(ctx, &c), 0);
	assert_int_equal(get(c, "/", &resp), SD_ERR_TOOBIG);
	assert_non_null(strstr(sd_error_detail(), "larger than 16 MiB"));
	cli_https_response_free(&resp);
	cli_https_conn_free(c);
	cli_https_ctx_free(ctx);
	srv_stop(s);

	/* no Content-Length: the body ends when the server closes */
	s = srv_start("server.pem", "server.key", M_UNTIL_CLOSE, false, false);
	assert_int_equal(client_new(s, "127.0.0.1", "ca/ca.pem", true, 0, &ctx), 0);
	assert_int_equal(cli_https_conn_new(ctx, &c), 0);
	assert_int_equal(get(c, "/", &resp), 0);
	assert_string_equal((const char *)resp.body, "{\"until\": \"close\"}");
	cli_https_response_free(&resp);
	cli_https_conn_free(c);
	cli_https_ctx_free(ctx);
	srv_stop(s);
}

static void test_error_message(void **state)
{
	server_t *s = srv_start("server.pem", "server.key", M_ERROR, false, false);
	cli_https_ctx_t *ctx = NULL;
	cli_https_conn_t *c = NULL;
	cli_https_response_t resp;

	(void)state;
	assert_int_equal(client_new(s, "127.0.0.1", "ca/ca.pem", true, 0, &ctx), 0);
	assert_int_equal(cli_https_conn_new(ctx, &c), 0);
	assert_int_equal(get(c, "/v1/cases", &resp), 0);
	assert_int_equal(resp.status, 403);
	assert_string_equal(resp.error, "role_forbidden");
	assert_string_equal(resp.message, "officers may not file?[2J");
	cli_https_response_free(&resp);
	assert_int_equal(resp.status, 0);
	cli_https_conn_free(c);
	cli_https_ctx_free(ctx);
	srv_stop(s);
}

static void test_timeouts(void **state)
{
	server_t *s = srv_start("server.pem", "server.key", M_SILENT, false, false);
	cli_https_ctx_t *ctx = NULL;
	cli_https_conn_t *c = NULL;
	cli_https_response_t resp;
	struct timespec a, b;
	uint16_t port;

	(void)state;
	assert_int_equal(client_new(s, "127.0.0.1", "ca/ca.pem", true, 300, &ctx), 0);
	assert_int_equal(cli_https_conn_new(ctx, &c), 0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(get(c, "/", &resp), CLI_ERR_UNAVAILABLE);
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_non_null(strstr(sd_error_detail(), "did not answer"));
	assert_true(b.tv_sec - a.tv_sec < 2);
	cli_https_conn_free(c);
	cli_https_ctx_free(ctx);
	port = s->port;
	srv_stop(s);

	/* nobody listening any more */
	server_t gone = {.port = port};
	assert_int_equal(client_new(&gone, "127.0.0.1", "ca/ca.pem", true, 300, &ctx), 0);
	assert_int_equal(cli_https_conn_new(ctx, &c), 0);
	assert_int_equal(get(c, "/", &resp), CLI_ERR_UNAVAILABLE);
	assert_non_null(strstr(sd_error_detail(), "cannot connect to the server"));
	cli_https_conn_free(c);
	cli_https_ctx_free(ctx);
}

static void test_files(void **state)
{
	server_t fake = {.port = 8443};
	cli_https_ctx_t *ctx = NULL;
	cli_https_config_t cfg = {.url = "https://127.0.0.1:8443", .ca_file = path("ca/ca.pem")};
	uint8_t *pem;
	FILE *f;
	long n;

	(void)state;
	assert_int_equal(client_new(&fake, "127.0.0.1", "missing.pem", false, 0, &ctx), SD_ERR_NOENT);
	assert_int_equal(client_new(&fake, "127.0.0.1", "garbage.pem", false, 0, &ctx), SD_ERR_FORMAT);
	cfg.cert_file = path("att.pem");
	cfg.key_file = path("att-open.key");
	assert_int_equal(cli_https_ctx_new(&cfg, &ctx), 0);
	assert_true(cli_https_key_is_exposed(ctx));
	assert_int_equal(cli_https_url(ctx)->port, 8443);
	/* the CA the directory names: the same certificate, another, or none */
	assert_non_null(f = fopen(path("ca/ca.pem"), "r"));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	assert_non_null(pem = calloc(1, (size_t)n + 1));
	assert_int_equal(fread(pem, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	assert_int_equal(cli_https_ca_matches(ctx, (const char *)pem), 0);
	free(pem);
	assert_non_null(f = fopen(path("other/ca.pem"), "r"));
	assert_non_null(pem = calloc(1, 8192));
	assert_true(fread(pem, 1, 8191, f) > 0);
	fclose(f);
	assert_int_equal(cli_https_ca_matches(ctx, (const char *)pem), SD_ERR_VERIFY);
	free(pem);
	assert_int_equal(cli_https_ca_matches(ctx, "-----BEGIN CERTIFICATE-----\nAAAA\n"), SD_ERR_FORMAT);
	cli_https_ctx_free(ctx);
	/* a key that is not the certificate's */
	cfg.key_file = path("server.key");
	assert_int_equal(cli_https_ctx_new(&cfg, &ctx), SD_ERR_FORMAT);
	assert_non_null(strstr(sd_error_detail(), "does not belong to certificate"));
	cfg.key_file = path("nope.key");
	assert_int_equal(cli_https_ctx_new(&cfg, &ctx), SD_ERR_NOENT);
	cfg.url = "http://127.0.0.1";
	assert_int_equal(cli_https_ctx_new(&cfg, &ctx), SD_ERR_USAGE);
	assert_null(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_url_parse),      cmocka_unit_test(test_keepalive),
	        cmocka_unit_test(test_names),          cmocka_unit_test(test_refusals),
	        cmocka_unit_test(test_reconnect_idle), cmocka_unit_test(test_reconnect_once),
	        cmocka_unit_test(test_size_limit),     cmocka_unit_test(test_error_message),
	        cmocka_unit_test(test_timeouts),       cmocka_unit_test(test_files),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
