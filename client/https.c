/*
 * https.c — the client's blocking HTTPS/1.1 over OpenSSL 3 (see https.h). The only file
 * of the client that calls OpenSSL.
 *
 * Start at cli_https_request(): it reopens a connection the server closed while it was
 * idle (idle_is_dead()), sends the request (send_request()) and reads the response
 * (read_response()); a kept-alive connection that fails before the first byte of the
 * answer is retried once on a new one, which is safe because every sealdrop request is
 * idempotent on the server. Trust comes from the CA file alone; the peer is checked by
 * name (SSL_set1_host) or address (X509_VERIFY_PARAM_set1_ip_asc); TLS 1.3 only.
 *
 * With --socks5 (cli_https_socks5_set()) every connection of the process goes through the
 * proxy: tcp_connect() then connects to the proxy alone and asks it, by name, for the
 * server (socks5.c); TLS runs over that stream exactly as over a direct one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "sealdrop/sealdrop.h"
#include "cli.h"
#include "https.h"
#include "socks5.h"

#define IO_CHUNK   (64u << 10) /* bytes of a file body read and written at a time */
#define REQ_HEAD   2048        /* the request line and headers */
#define REASON_MAX 160

struct cli_https_ctx {
	SSL_CTX *ssl_ctx;
	X509 *ca; /* the first certificate of the CA file */
	cli_https_url_t url;
	int timeout_ms;
	bool key_exposed;
	bool via_proxy; /* the process's SOCKS5 proxy, copied when the context was made */
	cli_socks5_proxy_t proxy;
	cli_socks5_auth_t auth;
};

/* The SOCKS5 proxy of this process (--socks5, or the config file's socks5) and the
 * credentials that keep its streams on circuits of their own (socks5.h). Once set it is
 * never unset: a command that asked for the proxy cannot make a direct connection. */
static struct {
	bool set;
	cli_socks5_proxy_t proxy;
	cli_socks5_auth_t auth;
} proxy_of_process;

struct cli_https_conn {
	cli_https_ctx_t *ctx;
	int fd;
	SSL *ssl;
	unsigned opened;
	unsigned served; /* responses read on the current connection */
	bool must_close; /* the server said so, or the stream is out of step */
	bool peer_gone;  /* the last failure was the server closing or resetting */
	uint8_t buf[CLI_HTTPS_MAX_HEAD];
	size_t len, off; /* bytes read and not yet consumed: buf[off..len) */
};

/* --- URLs ---------------------------------------------------------------------------- */

static bool host_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static int url_port(const char *s, const char *url, cli_https_url_t *out)
{
	unsigned long v = 0;
	const char *p = s;

	out->port = CLI_HTTPS_DEFAULT_PORT;
	if (*p == ':') {
		for (p++; *p >= '0' && *p <= '9' && v <= 65535; p++)
			v = v * 10 + (unsigned long)(*p - '0');
		if (p == s + 1 || v == 0 || v > 65535)
			return sd_error(SD_ERR_USAGE, "%s: the port must be a number from 1 to 65535", url);
		out->port = (uint16_t)v;
	}
	if (*p != '\0' && strcmp(p, "/") != 0)
		return sd_error(SD_ERR_USAGE, "%s: expected https://HOST[:PORT] with no path", url);
	return 0;
}

int cli_https_url_parse(const char *url, cli_https_url_t *out)
{
	struct in6_addr a6;
	struct in_addr a4;
	const char *h, *end;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (url == NULL || strncasecmp(url, "https://", 8) != 0)
		return sd_error(SD_ERR_USAGE, "%s: the server URL must start with https://", url ? url : "");
	h = url + 8;
	if (*h == '[') {
		if ((end = strchr(h, ']')) == NULL)
			return sd_error(SD_ERR_USAGE, "%s: an IPv6 address needs a closing ']'", url);
		n = (size_t)(end - h - 1);
		h++;
		end++;
	} else {
		for (end = h; host_char_ok(*end); end++)
			;
		n = (size_t)(end - h);
	}
	if (n == 0 || n > CLI_HTTPS_HOST_MAX)
		return sd_error(SD_ERR_USAGE, "%s: no host name or address, or a longer one than %d bytes", url,
		                CLI_HTTPS_HOST_MAX);
	memcpy(out->host, h, n);
	out->host[n] = '\0';
	if (h[-1] == '[') {
		if (inet_pton(AF_INET6, out->host, &a6) != 1)
			return sd_error(SD_ERR_USAGE, "%s: not an IPv6 address between the brackets", url);
		out->is_ip = out->is_ipv6 = true;
	} else {
		out->is_ip = inet_pton(AF_INET, out->host, &a4) == 1;
		if (!out->is_ip && (out->host[0] == '.' || out->host[0] == '-' || strstr(out->host, "..") != NULL))
			return sd_error(SD_ERR_USAGE, "%s: not a host name", url);
	}
	return url_port(end, url, out);
}

bool cli_https_host_is_onion(const char *host)
{
	size_t n = strlen(host);

	if (n > 0 && host[n - 1] == '.')
		n--; /* a fully qualified name */
	return n >= 6 && strncasecmp(host + n - 6, ".onion", 6) == 0;
}

int cli_https_socks5_set(const char *hostport)
{
	cli_socks5_proxy_t p;
	int r;

	if ((r = cli_socks5_proxy_parse(hostport, &p)) < 0)
		return r;
	if (!proxy_of_process.set && (r = cli_socks5_auth_fresh(&proxy_of_process.auth)) < 0)
		return r;
	proxy_of_process.proxy = p;
	proxy_of_process.set = true;
	return 0;
}

bool cli_https_socks5_is_set(void)
{
	return proxy_of_process.set;
}

/* --- errors -------------------------------------------------------------------------- */

/* The first queued OpenSSL error's reason, and an empty queue. */
static const char *ssl_reason(char out[REASON_MAX])
{
	unsigned long e = ERR_get_error();
	const char *why = e != 0 ? ERR_reason_error_string(e) : NULL;

	snprintf(out, REASON_MAX, "%s", why != NULL ? why : "unknown error");
	ERR_clear_error();
	return out;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* --- the context --------------------------------------------------------------------- */

static int load_ca(cli_https_ctx_t *ctx, const char *path)
{
	char why[REASON_MAX];
	FILE *f;

	if ((f = fopen(path, "re")) == NULL)
		return sd_error(errno == ENOENT ? SD_ERR_NOENT : SD_ERR_IO, "CA file %s: %s", path, strerror(errno));
	ctx->ca = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (ctx->ca == NULL)
		return sd_error(SD_ERR_FORMAT, "CA file %s: no PEM certificate (%s)", path, ssl_reason(why));
	if (SSL_CTX_load_verify_file(ctx->ssl_ctx, path) != 1)
		return sd_error(SD_ERR_FORMAT, "CA file %s: %s", path, ssl_reason(why));
	return 0;
}

static int load_identity(cli_https_ctx_t *ctx, const char *cert, const char *key)
{
	char why[REASON_MAX];
	struct stat st;

	if (key == NULL)
		key = cert;
	if (access(cert, R_OK) != 0 || stat(key, &st) != 0)
		return sd_error(errno == ENOENT ? SD_ERR_NOENT : SD_ERR_IO, "%s: %s", access(cert, R_OK) ? cert : key,
		                strerror(errno));
	ctx->key_exposed = (st.st_mode & (S_IRWXG | S_IRWXO)) != 0;
	if (SSL_CTX_use_certificate_chain_file(ctx->ssl_ctx, cert) != 1)
		return sd_error(SD_ERR_FORMAT, "certificate %s: %s", cert, ssl_reason(why));
	/* OpenSSL checks the pair as it loads the key, and again here for a key without a
	 * public half. */
	if (SSL_CTX_use_PrivateKey_file(ctx->ssl_ctx, key, SSL_FILETYPE_PEM) != 1 &&
	    ERR_GET_REASON(ERR_peek_last_error()) != X509_R_KEY_VALUES_MISMATCH)
		return sd_error(SD_ERR_FORMAT, "key %s is not a PEM private key (%s)", key, ssl_reason(why));
	if (ERR_peek_error() != 0 || SSL_CTX_check_private_key(ctx->ssl_ctx) != 1) {
		ERR_clear_error();
		return sd_error(SD_ERR_FORMAT, "key %s does not belong to certificate %s", key, cert);
	}
	return 0;
}

static int ctx_configure(cli_https_ctx_t *ctx)
{
	char why[REASON_MAX];

	if ((ctx->ssl_ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return sd_error(SD_ERR_NOMEM, "TLS: %s", ssl_reason(why));
	if (SSL_CTX_set_min_proto_version(ctx->ssl_ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx->ssl_ctx, TLS1_3_VERSION) != 1)
		return sd_error(SD_ERR_INTERNAL, "TLS: this OpenSSL cannot speak TLS 1.3 (%s)", ssl_reason(why));
	SSL_CTX_set_verify(ctx->ssl_ctx, SSL_VERIFY_PEER, NULL);
	/* Send the certificate file's chain as it is. Otherwise OpenSSL builds one from the
	 * trust store at every handshake and adds the CA, which the server has already and
	 * would parse again for nothing. */
	SSL_CTX_set_mode(ctx->ssl_ctx, SSL_MODE_NO_AUTO_CHAIN);
	/* Every connection is a full handshake: nothing about the client outlives it. */
	SSL_CTX_set_session_cache_mode(ctx->ssl_ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx->ssl_ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
	return 0;
}

/* An onion address can only be reached through Tor; without the proxy the look-up would
 * leak the name to the local resolver for nothing. */
static int onion_check(const cli_https_ctx_t *ctx)
{
	if (cli_https_host_is_onion(ctx->url.host) && !ctx->via_proxy)
		return sd_error(SD_ERR_USAGE, _("an onion address needs --socks5 127.0.0.1:9050 (Tor)"));
	return 0;
}

int cli_https_ctx_new(const cli_https_config_t *cfg, cli_https_ctx_t **out)
{
	cli_https_ctx_t *ctx;
	int r;

	*out = NULL;
	if (cfg == NULL || cfg->ca_file == NULL)
		return sd_error(SD_ERR_USAGE, "https: a CA file is needed");
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return SD_ERR_NOMEM;
	/* A server that closes while we write must be an error to handle, not a signal that
	 * kills the client before it can keep its resume state. */
	signal(SIGPIPE, SIG_IGN);
	ERR_clear_error();
	ctx->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : CLI_HTTPS_TIMEOUT_MS;
	ctx->via_proxy = proxy_of_process.set;
	ctx->proxy = proxy_of_process.proxy;
	ctx->auth = proxy_of_process.auth;
	if ((r = cli_https_url_parse(cfg->url, &ctx->url)) < 0 || (r = onion_check(ctx)) < 0 ||
	    (r = ctx_configure(ctx)) < 0 || (r = load_ca(ctx, cfg->ca_file)) < 0 ||
	    (cfg->cert_file != NULL && (r = load_identity(ctx, cfg->cert_file, cfg->key_file)) < 0)) {
		cli_https_ctx_free_(ctx);
		return r;
	}
	*out = ctx;
	return 0;
}

void cli_https_ctx_free_(cli_https_ctx_t *ctx)
{
	if (ctx == NULL)
		return;
	SSL_CTX_free(ctx->ssl_ctx);
	X509_free(ctx->ca);
	free(ctx);
}

bool cli_https_key_is_exposed(const cli_https_ctx_t *ctx)
{
	return ctx->key_exposed;
}

const cli_https_url_t *cli_https_url(const cli_https_ctx_t *ctx)
{
	return &ctx->url;
}

int cli_https_ca_matches(const cli_https_ctx_t *ctx, const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = b != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	int r;

	BIO_free(b);
	ERR_clear_error();
	if (x == NULL)
		return sd_error(SD_ERR_FORMAT, "the directory's TLS CA is not a PEM certificate");
	r = X509_cmp(x, ctx->ca) == 0 ? 0
	                              : sd_error(SD_ERR_VERIFY, "the CA file is not the TLS CA the directory lists");
	X509_free(x);
	return r;
}

/* --- connections --------------------------------------------------------------------- */

int cli_https_conn_new(cli_https_ctx_t *ctx, cli_https_conn_t **out)
{
	cli_https_conn_t *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (c == NULL)
		return SD_ERR_NOMEM;
	c->ctx = ctx;
	c->fd = -1;
	*out = c;
	return 0;
}

static void conn_close(cli_https_conn_t *c)
{
	if (c->ssl != NULL) {
		/* A close_notify if it goes out at once; the socket closes either way. */
		if (!c->must_close && !c->peer_gone)
			SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->len = c->off = 0;
	c->served = 0;
	c->must_close = false;
	ERR_clear_error();
}

void cli_https_conn_free_(cli_https_conn_t *c)
{
	if (c == NULL)
		return;
	conn_close(c);
	free(c);
}

unsigned cli_https_conn_opened(const cli_https_conn_t *c)
{
	return c->opened;
}

/* A non-blocking connect bounded by the timeout, then a blocking socket whose reads and
 * writes time out too. */
static int tcp_try(const struct addrinfo *ai, int timeout_ms, int *fd_out)
{
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	struct pollfd p;
	socklen_t len = sizeof(int);
	int fd, err = 0, one = 1;

	if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol)) < 0)
		return errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		err = errno;
		if (err == EINPROGRESS) {
			p = (struct pollfd){.fd = fd, .events = POLLOUT};
			err = poll(&p, 1, timeout_ms) == 1 ? 0 : ETIMEDOUT;
			if (err == 0 && (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0))
				err = errno;
		}
	}
	if (err == 0 && (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0 ||
	                 setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	                 setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0))
		err = errno;
	if (err != 0) {
		close(fd);
		return err;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*fd_out = fd;
	return 0;
}

/* Through the proxy: a TCP connection to it, then its CONNECT to the server by name. */
static int proxy_connect(cli_https_conn_t *c)
{
	const cli_https_ctx_t *x = c->ctx;
	struct addrinfo hints, *res = NULL;
	char port[8], shown[CLI_SOCKS5_HOST_MAX + 16];
	int e, err = ENOTCONN, r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", x->proxy.port);
	cli_socks5_proxy_format(&x->proxy, shown, sizeof(shown));
	if ((e = getaddrinfo(x->proxy.host, port, &hints, &res)) != 0)
		return sd_error(CLI_ERR_UNAVAILABLE, _("cannot find the --socks5 proxy %s: %s"), shown,
		                e == EAI_SYSTEM ? strerror(errno) : gai_strerror(e));
	for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next)
		if ((err = tcp_try(ai, x->timeout_ms, &c->fd)) == 0)
			break;
	freeaddrinfo(res);
	if (err != 0)
		return sd_error(CLI_ERR_UNAVAILABLE, _("cannot connect to the --socks5 proxy %s: %s (is Tor running?)"),
		                shown, err == ETIMEDOUT ? _("timed out") : strerror(err));
	if ((r = cli_socks5_handshake(c->fd, &x->auth, x->url.host, x->url.port)) < 0) {
		close(c->fd);
		c->fd = -1;
	}
	return r;
}

static int tcp_connect(cli_https_conn_t *c)
{
	const cli_https_url_t *u = &c->ctx->url;
	struct addrinfo hints, *res = NULL;
	char port[8];
	int e, err = ENOTCONN;

	if (c->ctx->via_proxy)
		return proxy_connect(c);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (u->is_ip ? AI_NUMERICHOST : 0);
	snprintf(port, sizeof(port), "%u", u->port);
	if ((e = getaddrinfo(u->host, port, &hints, &res)) != 0)
		return sd_error(CLI_ERR_UNAVAILABLE, "cannot find the server %s: %s", u->host,
		                e == EAI_SYSTEM ? strerror(errno) : gai_strerror(e));
	for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next)
		if ((err = tcp_try(ai, c->ctx->timeout_ms, &c->fd)) == 0)
			break;
	freeaddrinfo(res);
	if (err != 0)
		return sd_error(CLI_ERR_UNAVAILABLE, "cannot connect to the server: %s",
		                err == ETIMEDOUT ? "timed out" : strerror(err));
	return 0;
}

/* Why a handshake failed: the certificate (CLI_ERR_PROTOCOL, precisely), TLS itself
 * (CLI_ERR_PROTOCOL), or the network (CLI_ERR_UNAVAILABLE). */
static int handshake_error(cli_https_conn_t *c, int ret)
{
	const cli_https_url_t *u = &c->ctx->url;
	long v = SSL_get_verify_result(c->ssl);
	int e = SSL_get_error(c->ssl, ret), saved = errno;
	char why[REASON_MAX];

	if (v == X509_V_ERR_HOSTNAME_MISMATCH || v == X509_V_ERR_IP_ADDRESS_MISMATCH) {
		ERR_clear_error();
		return sd_error(CLI_ERR_PROTOCOL, "the server's certificate is not issued for the %s in the server URL",
		                u->is_ip ? "address" : "host name");
	}
	if (v != X509_V_OK) {
		ERR_clear_error();
		return sd_error(CLI_ERR_PROTOCOL, "the server's certificate does not verify against the CA file: %s",
		                X509_verify_cert_error_string(v));
	}
	if (e == SSL_ERROR_SSL)
		return sd_error(CLI_ERR_PROTOCOL, "TLS 1.3 handshake with the server failed: %s", ssl_reason(why));
	ERR_clear_error();
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return sd_error(CLI_ERR_UNAVAILABLE, "the server did not complete the TLS handshake: timed out");
	return sd_error(CLI_ERR_UNAVAILABLE, "the server closed the connection during the TLS handshake%s%s",
	                saved != 0 ? ": " : "", saved != 0 ? strerror(saved) : "");
}

/* SSL_connect, resumed after a signal interrupted it (EINTR looks like a timeout). */
static int handshake(cli_https_conn_t *c)
{
	uint64_t started = now_ms();
	int ret, e;

	for (;;) {
		errno = 0;
		if ((ret = SSL_connect(c->ssl)) == 1)
			return ret;
		e = SSL_get_error(c->ssl, ret);
		if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) || errno != EINTR || sd_is_cancelled() ||
		    now_ms() - started >= (uint64_t)c->ctx->timeout_ms)
			return ret;
		ERR_clear_error();
	}
}

static int conn_open(cli_https_conn_t *c)
{
	const cli_https_url_t *u = &c->ctx->url;
	int r, ret;

	if ((r = tcp_connect(c)) < 0)
		return r;
	ERR_clear_error();
	if ((c->ssl = SSL_new(c->ctx->ssl_ctx)) == NULL || SSL_set_fd(c->ssl, c->fd) != 1)
		goto nomem;
	if (u->is_ip) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), u->host) != 1)
			goto nomem;
	} else if (SSL_set_tlsext_host_name(c->ssl, u->host) != 1 || SSL_set1_host(c->ssl, u->host) != 1) {
		goto nomem;
	}
	if ((ret = handshake(c)) != 1) {
		r = sd_is_cancelled() ? sd_error(SD_ERR_CANCELLED, "interrupted") : handshake_error(c, ret);
		c->peer_gone = true;
		conn_close(c);
		return r;
	}
	c->opened++;
	c->peer_gone = false;
	return 0;
nomem:
	conn_close(c);
	return sd_error(SD_ERR_NOMEM, "TLS: out of memory");
}

/* An idle kept-alive connection with something to read was closed by the server (or
 * got a late post-handshake message, which reading without blocking absorbs). */
static bool idle_is_dead(cli_https_conn_t *c)
{
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	int flags = fcntl(c->fd, F_GETFL), ret, e;
	uint8_t b;
	size_t got = 0;

	if (c->len > c->off)
		return true; /* bytes nobody asked for: out of step */
	if (poll(&p, 1, 0) != 1)
		return false;
	if (flags < 0 || fcntl(c->fd, F_SETFL, flags | O_NONBLOCK) != 0)
		return true;
	ret = SSL_peek_ex(c->ssl, &b, 1, &got);
	e = SSL_get_error(c->ssl, ret);
	fcntl(c->fd, F_SETFL, flags);
	ERR_clear_error();
	return !(ret != 1 && e == SSL_ERROR_WANT_READ);
}

/* --- reading and writing ------------------------------------------------------------- */

/* The server closed the connection: cleanly, or (what OpenSSL 3 reports as an error)
 * without a close_notify, or with a reset. */
static bool is_peer_close(int e, int saved)
{
	return e == SSL_ERROR_ZERO_RETURN ||
	       (e == SSL_ERROR_SYSCALL && (saved == 0 || saved == ECONNRESET || saved == EPIPE)) ||
	       (e == SSL_ERROR_SSL && ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING);
}

/* The result of an SSL read or write that did not succeed. */
static int io_error(cli_https_conn_t *c, int ret, uint64_t started, bool *retry)
{
	int e = SSL_get_error(c->ssl, ret), saved = errno;
	char why[REASON_MAX];

	*retry = false;
	if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) && !sd_is_cancelled() &&
	    now_ms() - started < (uint64_t)c->ctx->timeout_ms) {
		/* EINTR: a signal that did not ask us to stop */
		ERR_clear_error();
		*retry = true;
		return 0;
	}
	c->must_close = true;
	if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) && sd_is_cancelled()) {
		ERR_clear_error();
		return sd_error(SD_ERR_CANCELLED, "interrupted");
	}
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		ERR_clear_error();
		return sd_error(CLI_ERR_UNAVAILABLE, "the server did not answer in %d seconds",
		                c->ctx->timeout_ms / 1000);
	}
	if (is_peer_close(e, saved)) {
		c->peer_gone = true;
		ERR_clear_error();
		return sd_error(CLI_ERR_UNAVAILABLE, "the server closed the connection");
	}
	if (e == SSL_ERROR_SSL)
		return sd_error(CLI_ERR_PROTOCOL, "TLS error: %s", ssl_reason(why));
	ERR_clear_error();
	return sd_error(CLI_ERR_UNAVAILABLE, "connection to the server failed: %s", strerror(saved));
}

static int write_all(cli_https_conn_t *c, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t started = now_ms();
	bool retry;
	int r;

	while (len > 0) {
		size_t done = 0;
		int ret;

		ERR_clear_error();
		errno = 0;
		ret = SSL_write_ex(c->ssl, p, len, &done);
		if (ret == 1) {
			p += done;
			len -= done;
			started = now_ms();
			continue;
		}
		if ((r = io_error(c, ret, started, &retry)) < 0)
			return r;
		if (!retry)
			return SD_ERR_INTERNAL;
	}
	return 0;
}

/* Up to cap bytes into p; *got 0 only at the server's end of stream (then peer_gone). */
static int read_some(cli_https_conn_t *c, uint8_t *p, size_t cap, size_t *got)
{
	uint64_t started = now_ms();
	bool retry;
	int r, ret, saved;

	for (;;) {
		ERR_clear_error();
		errno = 0;
		if ((ret = SSL_read_ex(c->ssl, p, cap, got)) == 1)
			return 0;
		saved = errno;
		/* not a reset: that fails the request (and may retry it) in io_error */
		if (is_peer_close(SSL_get_error(c->ssl, ret), saved) && saved != ECONNRESET) {
			ERR_clear_error();
			*got = 0;
			c->peer_gone = true;
			c->must_close = true;
			return 0;
		}
		if ((r = io_error(c, ret, started, &retry)) < 0)
			return r;
	}
}

static int send_file_body(cli_https_conn_t *c, int fd, uint64_t off, size_t len)
{
	uint8_t *buf = malloc(IO_CHUNK);
	int r = 0;

	if (buf == NULL)
		return SD_ERR_NOMEM;
	while (r == 0 && len > 0) {
		size_t want = len < IO_CHUNK ? len : IO_CHUNK;
		ssize_t got = pread(fd, buf, want, (off_t)off);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			/* The request cannot be finished: the connection is out of step. */
			c->must_close = true;
			r = sd_error(SD_ERR_IO, "reading the request body: %s",
			             got < 0 ? strerror(errno) : "the file is shorter than expected");
			break;
		}
		r = write_all(c, buf, (size_t)got);
		off += (uint64_t)got;
		len -= (size_t)got;
	}
	free(buf);
	return r;
}

static int send_request(cli_https_conn_t *c, const cli_https_request_t *req)
{
	const cli_https_url_t *u = &c->ctx->url;
	char head[REQ_HEAD], host[CLI_HTTPS_HOST_MAX + 16], port[8] = "";
	bool has_body = req->body_len > 0 || strcmp(req->method, "GET") != 0;
	int n, r;

	if (u->port != CLI_HTTPS_DEFAULT_PORT)
		snprintf(port, sizeof(port), ":%u", u->port);
	snprintf(host, sizeof(host), u->is_ipv6 ? "[%s]%s" : "%s%s", u->host, port);
	n = snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: %s\r\nAccept: application/json\r\n", req->method,
	             req->path, host);
	if (n > 0 && (size_t)n < sizeof(head) && req->content_type != NULL)
		n += snprintf(head + n, sizeof(head) - (size_t)n, "Content-Type: %s\r\n", req->content_type);
	if (n > 0 && (size_t)n < sizeof(head) && has_body)
		n += snprintf(head + n, sizeof(head) - (size_t)n, "Content-Length: %zu\r\n", req->body_len);
	if (n > 0 && (size_t)n < sizeof(head))
		n += snprintf(head + n, sizeof(head) - (size_t)n, "\r\n");
	if (n <= 0 || (size_t)n >= sizeof(head))
		return sd_error(SD_ERR_USAGE, "https: the request line and headers are too long");
	if ((r = write_all(c, head, (size_t)n)) < 0 || req->body_len == 0)
		return r;
	if (req->body != NULL)
		return write_all(c, req->body, req->body_len);
	return send_file_body(c, req->body_fd, req->body_offset, req->body_len);
}

/* --- the response -------------------------------------------------------------------- */

typedef struct {
	int status;
	bool http10, close, keep_alive, has_length;
	uint64_t length;
} head_t;

static bool header_is(const char *line, size_t n, const char *name, const char **value)
{
	size_t k = strlen(name);

	if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
		return false;
	for (*value = line + k + 1; **value == ' ' || **value == '\t'; (*value)++)
		;
	return true;
}

static bool token_in(const char *v, const char *token)
{
	size_t k = strlen(token);

	for (const char *p = v; *p; p++)
		if (strncasecmp(p, token, k) == 0 && (p == v || p[-1] == ' ' || p[-1] == ',') &&
		    (p[k] == '\0' || p[k] == ',' || p[k] == ' '))
			return true;
	return false;
}

static int parse_length(const char *v, head_t *h)
{
	uint64_t n = 0;
	const char *p = v;

	for (; *p >= '0' && *p <= '9' && n < ((uint64_t)1 << 60); p++)
		n = n * 10 + (uint64_t)(*p - '0');
	while (*p == ' ' || *p == '\t')
		p++;
	if (p == v || *p != '\0' || (h->has_length && h->length != n))
		return sd_error(CLI_ERR_PROTOCOL, "the server sent an invalid Content-Length");
	h->has_length = true;
	h->length = n;
	return 0;
}

/* One header line (NUL-terminated, without CRLF). */
static int parse_header(char *line, size_t n, head_t *h, cli_https_response_t *resp)
{
	const char *v;

	if (n == 0 || line[0] == ' ' || line[0] == '\t' || memchr(line, ':', n) == NULL)
		return sd_error(CLI_ERR_PROTOCOL, "the server sent a malformed header line");
	if (header_is(line, n, "Content-Length", &v))
		return parse_length(v, h);
	if (header_is(line, n, "Transfer-Encoding", &v) && strcasecmp(v, "identity") != 0)
		return sd_error(CLI_ERR_PROTOCOL, "the server sent a body in a transfer encoding this client does not "
		                                  "read");
	if (header_is(line, n, "Connection", &v)) {
		h->close |= token_in(v, "close");
		h->keep_alive |= token_in(v, "keep-alive");
	}
	if (header_is(line, n, "Content-Type", &v))
		snprintf(resp->content_type, sizeof(resp->content_type), "%s", v);
	return 0;
}

static int parse_status(const char *line, head_t *h)
{
	if (strncmp(line, "HTTP/1.", 7) != 0 || (line[7] != '0' && line[7] != '1') || line[8] != ' ' || line[9] < '1' ||
	    line[9] > '5' || line[10] < '0' || line[10] > '9' || line[11] < '0' || line[11] > '9' ||
	    (line[12] != ' ' && line[12] != '\0'))
		return sd_error(CLI_ERR_PROTOCOL, "the server's answer is not HTTP/1.1");
	h->http10 = line[7] == '0';
	h->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
	return 0;
}

/* Reads until the blank line; *end is the offset just past it. */
static int read_head_bytes(cli_https_conn_t *c, size_t *end, bool *got_any)
{
	for (;;) {
		uint8_t *hit = NULL;
		size_t got;
		int r;

		if (c->len - c->off >= 4)
			hit = memmem(c->buf + c->off, c->len - c->off, "\r\n\r\n", 4);
		if (hit != NULL) {
			*end = (size_t)(hit - c->buf) + 4;
			return 0;
		}
		if (c->off > 0) {
			memmove(c->buf, c->buf + c->off, c->len - c->off);
			c->len -= c->off;
			c->off = 0;
		}
		if (c->len == sizeof(c->buf)) {
			c->must_close = true;
			return sd_error(CLI_ERR_PROTOCOL, "the server's response headers are larger than %d bytes",
			                CLI_HTTPS_MAX_HEAD);
		}
		if ((r = read_some(c, c->buf + c->len, sizeof(c->buf) - c->len, &got)) < 0)
			return r;
		if (got == 0)
			return sd_error(CLI_ERR_UNAVAILABLE, "the server closed the connection without answering");
		*got_any = true;
		c->len += got;
	}
}

/* The status line and headers of one response (1xx answers are skipped). */
static int read_head(cli_https_conn_t *c, head_t *h, cli_https_response_t *resp, bool *got_any)
{
	int r;

	do {
		size_t end = 0;
		char *line, *save = NULL;

		memset(h, 0, sizeof(*h));
		if ((r = read_head_bytes(c, &end, got_any)) < 0)
			return r;
		c->buf[end - 2] = '\0'; /* the blank line's CR: the head is now one string */
		line = strtok_r((char *)c->buf + c->off, "\n", &save);
		c->off = end;
		for (bool first = true; line != NULL; line = strtok_r(NULL, "\n", &save), first = false) {
			size_t n = strlen(line);

			if (n > 0 && line[n - 1] == '\r')
				line[--n] = '\0';
			if ((r = first ? parse_status(line, h) : parse_header(line, n, h, resp)) < 0)
				return r;
		}
	} while (h->status < 200);
	return 0;
}

/* The body: Content-Length bytes, or everything until the server closes. */
static int read_body(cli_https_conn_t *c, const head_t *h, cli_https_response_t *resp)
{
	size_t cap = h->has_length ? (size_t)h->length : CLI_HTTPS_MAX_BODY, have, got;
	int r;

	if (h->has_length && h->length > CLI_HTTPS_MAX_BODY) {
		c->must_close = true;
		return sd_error(SD_ERR_TOOBIG, "the server's response is larger than %u MiB", CLI_HTTPS_MAX_BODY >> 20);
	}
	if ((resp->body = malloc(cap + 1)) == NULL)
		return SD_ERR_NOMEM;
	have = c->len - c->off < cap ? c->len - c->off : cap;
	memcpy(resp->body, c->buf + c->off, have);
	c->off += have;
	while (have < cap || !h->has_length) {
		if ((r = read_some(c, resp->body + have, cap - have + (h->has_length ? 0 : 1), &got)) < 0)
			return r;
		if (got == 0 && h->has_length)
			return sd_error(CLI_ERR_UNAVAILABLE,
			                "the server closed the connection in the middle of its answer");
		if (got == 0)
			break;
		if ((have += got) > cap)
			return sd_error(SD_ERR_TOOBIG, "the server's response is larger than %u MiB",
			                CLI_HTTPS_MAX_BODY >> 20);
	}
	resp->body[have] = '\0';
	resp->body_len = have;
	return 0;
}

/* "error" and "message" of a JSON error body, fit to quote. */
static void error_fields(cli_https_response_t *resp)
{
	json_t *doc, *v;

	if (resp->status < 400 || resp->body == NULL)
		return;
	if ((doc = json_loadb((const char *)resp->body, resp->body_len, 0, NULL)) == NULL)
		return;
	if (json_is_string(v = json_object_get(doc, "message")))
		sd_error_printable(json_string_value(v), resp->message, sizeof(resp->message));
	if (json_is_string(v = json_object_get(doc, "error")))
		sd_error_printable(json_string_value(v), resp->error, sizeof(resp->error));
	json_decref(doc);
}

static int read_response(cli_https_conn_t *c, const cli_https_request_t *req, cli_https_response_t *resp, bool *got_any)
{
	head_t h;
	int r;

	if ((r = read_head(c, &h, resp, got_any)) < 0)
		return r;
	resp->status = h.status;
	if (h.close || (h.http10 && !h.keep_alive) || !h.has_length)
		c->must_close = true;
	if (h.status == 204 || h.status == 304 || strcmp(req->method, "HEAD") == 0)
		return 0;
	if ((r = read_body(c, &h, resp)) < 0)
		return r;
	if (c->off != c->len)
		c->must_close = true; /* more than the answer: out of step */
	error_fields(resp);
	return 0;
}

/* --- requests ------------------------------------------------------------------------ */

void cli_https_response_free(cli_https_response_t *resp)
{
	free(resp->body);
	memset(resp, 0, sizeof(*resp));
}

static int check_request(const cli_https_request_t *req)
{
	if (req == NULL || req->method == NULL || req->path == NULL || req->path[0] != '/' ||
	    strpbrk(req->path, " \r\n\t") != NULL || strpbrk(req->method, " \r\n\t/") != NULL ||
	    (req->content_type != NULL && strpbrk(req->content_type, "\r\n") != NULL) ||
	    (req->body == NULL && req->body_len > 0 && req->body_fd < 0))
		return sd_error(SD_ERR_USAGE, "https: malformed request");
	return 0;
}

/* One attempt on the current (or a new) connection. */
static int attempt(cli_https_conn_t *c, const cli_https_request_t *req, cli_https_response_t *resp, bool *reused,
                   bool *got_any)
{
	int r;

	*got_any = false;
	if (c->ssl != NULL && idle_is_dead(c)) {
		c->peer_gone = true;
		conn_close(c);
	}
	*reused = c->ssl != NULL;
	if (c->ssl == NULL && (r = conn_open(c)) < 0)
		return r;
	c->peer_gone = false;
	if ((r = send_request(c, req)) < 0)
		return r;
	return read_response(c, req, resp, got_any);
}

int cli_https_request(cli_https_conn_t *c, const cli_https_request_t *req, cli_https_response_t *resp)
{
	bool reused, got_any;
	int r;

	memset(resp, 0, sizeof(*resp));
	if ((r = check_request(req)) < 0)
		return r;
	r = attempt(c, req, resp, &reused, &got_any);
	/* The server closed a kept-alive connection as we used it: once more, on a new one. */
	if (r < 0 && reused && !got_any && c->peer_gone && !sd_is_cancelled()) {
		conn_close(c);
		cli_https_response_free(resp);
		r = attempt(c, req, resp, &reused, &got_any);
	}
	if (r < 0 || c->must_close)
		conn_close(c);
	else
		c->served++;
	return r;
}
