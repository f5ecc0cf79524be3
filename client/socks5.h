/*
 * socks5.h — the client's way to the server through a SOCKS5 proxy (RFC 1928), Tor's
 * SocksPort above all: a CONNECT to the server's host NAME, which the proxy resolves (an
 * .onion name can only be), so this machine never looks the name up and makes no direct
 * connection. Username/password authentication (RFC 1929) is offered with credentials
 * fresh for each process, which Tor (IsolateSOCKSAuth, on by default) uses to put each
 * sealdrop command on circuits of its own: two commands, say the status of two codenames,
 * are not linked by a shared circuit. https.c opens the TCP connection to the proxy and
 * runs TLS over the stream cli_socks5_handshake() leaves; docs/DEPLOY_TOR.md.
 *
 * The messages are built and parsed by the functions below (tests/unit/test_socks5.c);
 * every reply is read to its exact length, no byte more. Errors: SD_ERR_USAGE for a
 * malformed HOST:PORT; SD_ERR_UNAVAILABLE (69) when the proxy cannot be reached, times
 * out, refuses the connection or the credentials; SD_ERR_PROTOCOL (76) when its answer is
 * not SOCKS5 as RFC 1928/1929 specify (wrong version, a method not offered, a reserved
 * byte set, an unknown address type, a reply cut short).
 */
#ifndef SEALDROP_CLIENT_SOCKS5_H
#define SEALDROP_CLIENT_SOCKS5_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sealdrop/error.h"

#define CLI_SOCKS5_VERSION        5
#define CLI_SOCKS5_AUTH_VERSION   1    /* RFC 1929's subnegotiation */
#define CLI_SOCKS5_METHOD_NONE    0x00 /* no authentication */
#define CLI_SOCKS5_METHOD_USER    0x02 /* username/password */
#define CLI_SOCKS5_METHOD_REFUSED 0xff /* none of the methods offered is acceptable */
#define CLI_SOCKS5_CMD_CONNECT    1
#define CLI_SOCKS5_ATYP_IPV4      1
#define CLI_SOCKS5_ATYP_DOMAIN    3
#define CLI_SOCKS5_ATYP_IPV6      4

#define CLI_SOCKS5_HOST_MAX       255                         /* a domain name in a request: one length byte */
#define CLI_SOCKS5_GREETING_BYTES 4                           /* VER NMETHODS NONE USER */
#define CLI_SOCKS5_CHOICE_BYTES   2                           /* VER METHOD */
#define CLI_SOCKS5_CRED_BYTES     16                          /* random bytes of the username, and of the password */
#define CLI_SOCKS5_CRED_MAX       (2 * CLI_SOCKS5_CRED_BYTES) /* as hex */
#define CLI_SOCKS5_AUTH_MAX       (3 + 2 * 255)               /* VER ULEN UNAME PLEN PASSWD */
#define CLI_SOCKS5_AUTH_REPLY     2                           /* VER STATUS */
#define CLI_SOCKS5_REQUEST_MAX    (5 + CLI_SOCKS5_HOST_MAX + 2)
#define CLI_SOCKS5_REPLY_HEAD     5 /* VER REP RSV ATYP and BND.ADDR's first byte */
#define CLI_SOCKS5_REPLY_MAX      (4 + 1 + 255 + 2)

/* The proxy: HOST:PORT, HOST an IPv4 address, [an IPv6 address] or a name (the proxy's
 * own name is resolved here; the server's never is). */
typedef struct {
	char host[CLI_SOCKS5_HOST_MAX + 1]; /* without brackets */
	uint16_t port;
	bool is_ipv6;
} cli_socks5_proxy_t;

int cli_socks5_proxy_parse(const char *text, cli_socks5_proxy_t *out) SD_WUR;
/* "HOST:PORT" (brackets for IPv6) into out. */
void cli_socks5_proxy_format(const cli_socks5_proxy_t *p, char *out, size_t cap);

/* The username and password offered for stream isolation: hex of random bytes. */
typedef struct {
	char user[CLI_SOCKS5_CRED_MAX + 1];
	char pass[CLI_SOCKS5_CRED_MAX + 1];
} cli_socks5_auth_t;

/* Fresh random credentials (getrandom(2)). */
int cli_socks5_auth_fresh(cli_socks5_auth_t *out) SD_WUR;

/* --- the messages -------------------------------------------------------------------- */

/* The method selection: no authentication and, when auth is true, username/password;
 * its length. */
size_t cli_socks5_greeting(bool auth, uint8_t out[CLI_SOCKS5_GREETING_BYTES]);
/* The proxy's choice; *method one of those offered. */
int cli_socks5_choice_parse(const uint8_t in[CLI_SOCKS5_CHOICE_BYTES], bool offered_auth, uint8_t *method) SD_WUR;
/* RFC 1929's request: each credential 1..255 bytes. */
int cli_socks5_auth_request(const cli_socks5_auth_t *a, uint8_t *out, size_t cap, size_t *len) SD_WUR;
int cli_socks5_auth_reply_parse(const uint8_t in[CLI_SOCKS5_AUTH_REPLY]) SD_WUR;
/* CONNECT to host:port: an IPv4 or IPv6 literal (without brackets) as ATYP 1 or 4,
 * anything else as a domain name (ATYP 3), never resolved. */
int cli_socks5_connect_request(const char *host, uint16_t port, uint8_t *out, size_t cap, size_t *len) SD_WUR;
/* The first CLI_SOCKS5_REPLY_HEAD bytes of the CONNECT reply: 0 with *rest, the bytes of
 * the reply still to read (the rest of BND.ADDR and BND.PORT), when the proxy connected;
 * SD_ERR_UNAVAILABLE naming its reason when it did not. */
int cli_socks5_reply_head_parse(const uint8_t in[CLI_SOCKS5_REPLY_HEAD], size_t *rest) SD_WUR;
/* RFC 1928's reply codes (and Tor's extended ones for onion services) in words. */
const char *cli_socks5_reply_reason(uint8_t rep);

/* --- the exchange -------------------------------------------------------------------- */

/* Over fd, connected to the proxy (a blocking socket with its timeouts set): the
 * greeting, the credentials when auth is not NULL and the proxy takes them, the CONNECT
 * and its reply. On success fd is a stream to host:port; on failure the caller closes it. */
int cli_socks5_handshake(int fd, const cli_socks5_auth_t *auth, const char *host, uint16_t port) SD_WUR;

#endif
