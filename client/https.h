/*
 * https.h — the sealdrop client's HTTPS: a small blocking HTTP/1.1 client over TLS 1.3
 * that trusts one CA file and nothing else (not the system store), checks the server's
 * name or address against its certificate, presents the user's client certificate, and
 * keeps connections alive (DESIGN.md, Server API; docs/API.md).
 *
 * A cli_https_ctx_t holds the TLS configuration and the parsed URL and may be shared by
 * threads; a cli_https_conn_t is one connection, used by one thread at a time, opened on
 * its first request and reopened once, transparently, when the server closed it while it
 * was idle. No OpenSSL type crosses this header; the client never sends a User-Agent.
 *
 * Errors: CLI_ERR_UNAVAILABLE when the server (or the SOCKS5 proxy) cannot be reached,
 * the connection fails or times out, or the proxy refuses it; CLI_ERR_PROTOCOL when the
 * server's certificate does not verify, TLS 1.3 cannot be negotiated, the answer is not
 * HTTP, or the proxy does not speak SOCKS5 (socks5.h); SD_ERR_TOOBIG for a response body
 * beyond CLI_HTTPS_MAX_BODY; SD_ERR_USAGE for a malformed URL, or an .onion one without
 * the proxy; SD_ERR_NOENT / SD_ERR_FORMAT for unreadable certificate and key files. An HTTP status of 400 or more is
 * not an error here: the caller reads it, and the JSON error's message, from the response.
 */
#ifndef SEALDROP_CLIENT_HTTPS_H
#define SEALDROP_CLIENT_HTTPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sealdrop/error.h"

#define CLI_ERR_UNAVAILABLE SD_ERR_UNAVAILABLE /* sysexits 69 */
#define CLI_ERR_PROTOCOL    SD_ERR_PROTOCOL    /* sysexits 76 */

#define CLI_HTTPS_HOST_MAX         255 /* a DNS name; an IP literal is shorter */
#define CLI_HTTPS_DEFAULT_PORT     443
#define CLI_HTTPS_TIMEOUT_MS       60000
#define CLI_HTTPS_MAX_BODY         (16u << 20) /* the largest response body read */
#define CLI_HTTPS_MAX_HEAD         16384       /* status line and headers */
#define CLI_HTTPS_MESSAGE_MAX      256         /* the error message kept from a JSON body */
#define CLI_HTTPS_ERROR_WORD_MAX   64
#define CLI_HTTPS_CONTENT_TYPE_MAX 128

/* https://HOST[:PORT][/] — HOST a DNS name, an IPv4 address or [an IPv6 address]. */
typedef struct {
	char host[CLI_HTTPS_HOST_MAX + 1]; /* without brackets */
	uint16_t port;
	bool is_ip;
	bool is_ipv6;
} cli_https_url_t;

int cli_https_url_parse(const char *url, cli_https_url_t *out) SD_WUR;
/* True for a name under .onion (any case, a trailing dot allowed). */
bool cli_https_host_is_onion(const char *host);

/* Every context made after this call reaches its server through the SOCKS5 proxy at
 * HOST:PORT (socks5.h), with credentials fresh for this process; there is no way back to
 * direct connections (fail closed). A context refuses an .onion server without it
 * (SD_ERR_USAGE). SD_ERR_USAGE for a malformed HOST:PORT. */
int cli_https_socks5_set(const char *hostport) SD_WUR;
bool cli_https_socks5_is_set(void);

typedef struct {
	const char *url;
	const char *ca_file;   /* PEM: the only trust anchors */
	const char *cert_file; /* the client certificate (PEM), or NULL */
	const char *key_file;  /* its private key (PEM), or NULL: then cert_file holds both */
	int timeout_ms;        /* connect and each read or write; 0: CLI_HTTPS_TIMEOUT_MS */
} cli_https_config_t;

typedef struct cli_https_ctx cli_https_ctx_t;
typedef struct cli_https_conn cli_https_conn_t;

/* Reads the CA, certificate and key files (the key must match the certificate). */
int cli_https_ctx_new(const cli_https_config_t *cfg, cli_https_ctx_t **out) SD_WUR;
void cli_https_ctx_free_(cli_https_ctx_t *ctx);
#define cli_https_ctx_free(c)                                                                                          \
	do {                                                                                                           \
		cli_https_ctx_free_(c);                                                                                \
		(c) = NULL;                                                                                            \
	} while (0)
/* True when the key file is readable or writable by group or others (the caller warns). */
bool cli_https_key_is_exposed(const cli_https_ctx_t *ctx);
const cli_https_url_t *cli_https_url(const cli_https_ctx_t *ctx);
/* 0 if pem's first certificate is the CA certificate the context trusts (the first in
 * ca_file); SD_ERR_VERIFY if it is another; SD_ERR_FORMAT if pem holds none. */
int cli_https_ca_matches(const cli_https_ctx_t *ctx, const char *pem) SD_WUR;

/* Never fails: the connection is made by the first request. */
int cli_https_conn_new(cli_https_ctx_t *ctx, cli_https_conn_t **out) SD_WUR;
void cli_https_conn_free_(cli_https_conn_t *c);
#define cli_https_conn_free(c)                                                                                         \
	do {                                                                                                           \
		cli_https_conn_free_(c);                                                                               \
		(c) = NULL;                                                                                            \
	} while (0)
/* How many TLS connections this connection object has opened (tests, statistics). */
unsigned cli_https_conn_opened(const cli_https_conn_t *c);

/* A request. The body is either body/body_len, or (body NULL, body_fd >= 0) body_len
 * bytes read with pread(2) from body_fd at body_offset. content_type NULL: none (and no
 * body). */
typedef struct {
	const char *method; /* "GET", "POST", "PUT" */
	const char *path;   /* "/v1/uploads", starts with '/' */
	const char *content_type;
	const uint8_t *body;
	size_t body_len;
	int body_fd;
	uint64_t body_offset;
} cli_https_request_t;

typedef struct cli_https_response {
	int status;
	uint8_t *body; /* malloc'd, NUL-terminated (not counted in body_len), or NULL */
	size_t body_len;
	char content_type[CLI_HTTPS_CONTENT_TYPE_MAX];
	/* From a JSON body with status >= 400: "error" and "message", control bytes as '?',
	 * cut to fit; "" when absent. */
	char error[CLI_HTTPS_ERROR_WORD_MAX];
	char message[CLI_HTTPS_MESSAGE_MAX];
} cli_https_response_t;

/* Sends req and reads the whole response into *resp (released with
 * cli_https_response_free, also after a failure). */
int cli_https_request(cli_https_conn_t *c, const cli_https_request_t *req, cli_https_response_t *resp) SD_WUR;
void cli_https_response_free(cli_https_response_t *resp);

#endif
