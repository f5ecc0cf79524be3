/*
 * socks5.c — a SOCKS5 CONNECT (RFC 1928) with optional username/password (RFC 1929) over
 * a socket already connected to the proxy (see socks5.h). https.c calls
 * cli_socks5_handshake() when the user gave --socks5; start reading there.
 *
 * The server's name goes to the proxy as a domain name (ATYP 3) and is never resolved
 * here: that is the point of the option (an .onion name has no address anyway, and a
 * look-up would tell the local resolver which server this machine talks to). Each
 * answer is read to its exact length, field by field; a proxy that answers anything else
 * ends the command with a protocol error rather than a guess.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sealdrop/bytes.h"
#include "sealdrop/sealdrop.h"
#include "cli.h"
#include "socks5.h"

/* --- the proxy's address ------------------------------------------------------------- */

static int proxy_port(const char *p, const char *text, cli_socks5_proxy_t *out)
{
	unsigned long v = 0;
	const char *s = p;

	if (*p != ':')
		return sd_error(SD_ERR_USAGE, _("--socks5 %s: expected HOST:PORT (Tor: 127.0.0.1:9050)"), text);
	for (p++; *p >= '0' && *p <= '9' && v <= 65535; p++)
		v = v * 10 + (unsigned long)(*p - '0');
	if (p == s + 1 || *p != '\0' || v == 0 || v > 65535)
		return sd_error(SD_ERR_USAGE, _("--socks5 %s: the port must be a number from 1 to 65535"), text);
	out->port = (uint16_t)v;
	return 0;
}

static bool name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

int cli_socks5_proxy_parse(const char *text, cli_socks5_proxy_t *out)
{
	struct in6_addr a6;
	const char *h = text, *end;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (text == NULL || text[0] == '\0')
		return sd_error(SD_ERR_USAGE, _("--socks5 needs HOST:PORT (Tor: 127.0.0.1:9050)"));
	if (*h == '[') {
		if ((end = strchr(++h, ']')) == NULL)
			return sd_error(SD_ERR_USAGE, _("--socks5 %s: an IPv6 address needs a closing ']'"), text);
		out->is_ipv6 = true;
	} else {
		for (end = h; name_char_ok(*end); end++)
			;
	}
	n = (size_t)(end - h);
	if (n == 0 || n > CLI_SOCKS5_HOST_MAX)
		return sd_error(SD_ERR_USAGE, _("--socks5 %s: expected HOST:PORT (Tor: 127.0.0.1:9050)"), text);
	memcpy(out->host, h, n);
	out->host[n] = '\0';
	if (out->is_ipv6 && inet_pton(AF_INET6, out->host, &a6) != 1)
		return sd_error(SD_ERR_USAGE, _("--socks5 %s: not an IPv6 address between the brackets"), text);
	if (!out->is_ipv6 && (h[0] == '.' || h[0] == '-' || strstr(out->host, "..") != NULL))
		return sd_error(SD_ERR_USAGE, _("--socks5 %s: not a host name or address"), text);
	return proxy_port(end + (out->is_ipv6 ? 1 : 0), text, out);
}

void cli_socks5_proxy_format(const cli_socks5_proxy_t *p, char *out, size_t cap)
{
	snprintf(out, cap, p->is_ipv6 ? "[%s]:%u" : "%s:%u", p->host, p->port);
}

int cli_socks5_auth_fresh(cli_socks5_auth_t *out)
{
	uint8_t b[2 * CLI_SOCKS5_CRED_BYTES];
	ssize_t got;

	do
		got = getrandom(b, sizeof(b), 0);
	while (got < 0 && errno == EINTR);
	if (got != (ssize_t)sizeof(b))
		return sd_error(SD_ERR_INTERNAL, "getrandom: %s", got < 0 ? strerror(errno) : "short read");
	sd_hex_encode(b, CLI_SOCKS5_CRED_BYTES, out->user);
	sd_hex_encode(b + CLI_SOCKS5_CRED_BYTES, CLI_SOCKS5_CRED_BYTES, out->pass);
	return 0;
}

/* --- the messages -------------------------------------------------------------------- */

size_t cli_socks5_greeting(bool auth, uint8_t out[CLI_SOCKS5_GREETING_BYTES])
{
	out[0] = CLI_SOCKS5_VERSION;
	out[1] = auth ? 2 : 1;
	out[2] = CLI_SOCKS5_METHOD_NONE;
	out[3] = CLI_SOCKS5_METHOD_USER;
	return auth ? 4 : 3;
}

static int not_socks5(void)
{
	return sd_error(SD_ERR_PROTOCOL, _("the --socks5 proxy's answer is not SOCKS version 5"));
}

int cli_socks5_choice_parse(const uint8_t in[CLI_SOCKS5_CHOICE_BYTES], bool offered_auth, uint8_t *method)
{
	if (in[0] != CLI_SOCKS5_VERSION)
		return not_socks5();
	if (in[1] == CLI_SOCKS5_METHOD_REFUSED)
		return sd_error(SD_ERR_UNAVAILABLE,
		                _("the --socks5 proxy refused the authentication methods offered "
		                  "(no authentication%s)"),
		                offered_auth ? _(", username and password") : "");
	if (in[1] != CLI_SOCKS5_METHOD_NONE && !(in[1] == CLI_SOCKS5_METHOD_USER && offered_auth))
		return sd_error(SD_ERR_PROTOCOL,
		                _("the --socks5 proxy chose authentication method %u, which was not "
		                  "offered"),
		                in[1]);
	*method = in[1];
	return 0;
}

int cli_socks5_auth_request(const cli_socks5_auth_t *a, uint8_t *out, size_t cap, size_t *len)
{
	size_t u = strlen(a->user), p = strlen(a->pass);

	*len = 0;
	if (u == 0 || u > 255 || p == 0 || p > 255 || cap < 3 + u + p)
		return sd_error(SD_ERR_USAGE, "SOCKS5 credentials must be 1 to 255 bytes each");
	out[0] = CLI_SOCKS5_AUTH_VERSION;
	out[1] = (uint8_t)u;
	memcpy(out + 2, a->user, u);
	out[2 + u] = (uint8_t)p;
	memcpy(out + 3 + u, a->pass, p);
	*len = 3 + u + p;
	return 0;
}

int cli_socks5_auth_reply_parse(const uint8_t in[CLI_SOCKS5_AUTH_REPLY])
{
	if (in[0] != CLI_SOCKS5_AUTH_VERSION)
		return sd_error(SD_ERR_PROTOCOL, _("the --socks5 proxy's answer to the username and password is not "
		                                   "RFC 1929 version 1"));
	if (in[1] != 0)
		return sd_error(SD_ERR_UNAVAILABLE,
		                _("the --socks5 proxy refused the username and password (status "
		                  "%u)"),
		                in[1]);
	return 0;
}

int cli_socks5_connect_request(const char *host, uint16_t port, uint8_t *out, size_t cap, size_t *len)
{
	uint8_t addr[16];
	size_t n = 4, h = strlen(host);

	*len = 0;
	if (cap < CLI_SOCKS5_REQUEST_MAX)
		return sd_error(SD_ERR_USAGE, "SOCKS5: no room for the request");
	out[0] = CLI_SOCKS5_VERSION;
	out[1] = CLI_SOCKS5_CMD_CONNECT;
	out[2] = 0;
	if (inet_pton(AF_INET, host, addr) == 1) {
		out[3] = CLI_SOCKS5_ATYP_IPV4;
		memcpy(out + n, addr, 4);
		n += 4;
	} else if (inet_pton(AF_INET6, host, addr) == 1) {
		out[3] = CLI_SOCKS5_ATYP_IPV6;
		memcpy(out + n, addr, 16);
		n += 16;
	} else {
		if (h == 0 || h > CLI_SOCKS5_HOST_MAX)
			return sd_error(SD_ERR_USAGE, _("the server's name is longer than SOCKS5 allows (%d bytes)"),
			                CLI_SOCKS5_HOST_MAX);
		out[3] = CLI_SOCKS5_ATYP_DOMAIN;
		out[n++] = (uint8_t)h;
		memcpy(out + n, host, h);
		n += h;
	}
	out[n++] = (uint8_t)(port >> 8);
	out[n++] = (uint8_t)(port & 0xff);
	*len = n;
	return 0;
}

const char *cli_socks5_reply_reason(uint8_t rep)
{
	static const char *const rfc[] = {
	        NULL,
	        N_("general SOCKS server failure"),
	        N_("connection not allowed by its rules"),
	        N_("network unreachable"),
	        N_("host unreachable"),
	        N_("connection refused"),
	        N_("TTL expired"),
	        N_("command not supported"),
	        N_("address type not supported"),
	};
	/* Tor's extended errors (SocksPort ExtendedErrors, proposal 304). */
	static const char *const tor[] = {
	        N_("onion service descriptor not found: the onion address is wrong or the service is offline"),
	        N_("onion service descriptor is invalid"),
	        N_("onion service introduction failed"),
	        N_("onion service rendezvous failed"),
	        N_("onion service needs client authorization"),
	        N_("onion service client authorization is wrong"),
	        N_("invalid onion address"),
	        N_("onion service introduction timed out"),
	};

	if (rep >= 1 && rep < sizeof(rfc) / sizeof(rfc[0]))
		return _(rfc[rep]);
	if (rep >= 0xf0 && rep < 0xf0 + sizeof(tor) / sizeof(tor[0]))
		return _(tor[rep - 0xf0]);
	return _("unknown reply code");
}

int cli_socks5_reply_head_parse(const uint8_t in[CLI_SOCKS5_REPLY_HEAD], size_t *rest)
{
	*rest = 0;
	if (in[0] != CLI_SOCKS5_VERSION)
		return not_socks5();
	if (in[1] != 0)
		return sd_error(SD_ERR_UNAVAILABLE,
		                _("the --socks5 proxy could not connect to the server: %s (SOCKS5 "
		                  "reply %u)"),
		                cli_socks5_reply_reason(in[1]), in[1]);
	if (in[2] != 0)
		return sd_error(SD_ERR_PROTOCOL, _("the --socks5 proxy's reply has a reserved byte set"));
	switch (in[3]) {
	case CLI_SOCKS5_ATYP_IPV4:
		*rest = 4 - 1 + 2;
		return 0;
	case CLI_SOCKS5_ATYP_IPV6:
		*rest = 16 - 1 + 2;
		return 0;
	case CLI_SOCKS5_ATYP_DOMAIN:
		if (in[4] == 0)
			return sd_error(SD_ERR_PROTOCOL, _("the --socks5 proxy's reply has an empty bound name"));
		*rest = (size_t)in[4] + 2;
		return 0;
	default:
		return sd_error(SD_ERR_PROTOCOL, _("the --socks5 proxy's reply has an unknown address type %u"), in[3]);
	}
}

/* --- the exchange -------------------------------------------------------------------- */

static int io_error(int e)
{
	if (sd_is_cancelled())
		return sd_error(SD_ERR_CANCELLED, _("interrupted"));
	if (e == EAGAIN || e == EWOULDBLOCK)
		return sd_error(SD_ERR_UNAVAILABLE, _("the --socks5 proxy did not answer in time"));
	return sd_error(SD_ERR_UNAVAILABLE, _("the connection to the --socks5 proxy failed: %s"), strerror(e));
}

static int send_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR && !sd_is_cancelled())
			continue;
		if (n < 0)
			return io_error(errno);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Exactly len bytes: never a byte of what follows (the server's TLS). */
static int recv_exact(int fd, uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = recv(fd, p, len, 0);

		if (n < 0 && errno == EINTR && !sd_is_cancelled())
			continue;
		if (n < 0)
			return io_error(errno);
		if (n == 0)
			return sd_error(SD_ERR_PROTOCOL,
			                _("the --socks5 proxy closed the connection in the middle of the "
			                  "SOCKS5 exchange"));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int authenticate(int fd, const cli_socks5_auth_t *auth)
{
	uint8_t msg[CLI_SOCKS5_AUTH_MAX], reply[CLI_SOCKS5_AUTH_REPLY];
	size_t len;
	int r;

	if ((r = cli_socks5_auth_request(auth, msg, sizeof(msg), &len)) < 0 || (r = send_all(fd, msg, len)) < 0 ||
	    (r = recv_exact(fd, reply, sizeof(reply))) < 0)
		return r;
	return cli_socks5_auth_reply_parse(reply);
}

int cli_socks5_handshake(int fd, const cli_socks5_auth_t *auth, const char *host, uint16_t port)
{
	uint8_t msg[CLI_SOCKS5_REPLY_MAX > CLI_SOCKS5_REQUEST_MAX ? CLI_SOCKS5_REPLY_MAX : CLI_SOCKS5_REQUEST_MAX];
	uint8_t method = CLI_SOCKS5_METHOD_NONE;
	size_t len, rest;
	int r;

	len = cli_socks5_greeting(auth != NULL, msg);
	if ((r = send_all(fd, msg, len)) < 0 || (r = recv_exact(fd, msg, CLI_SOCKS5_CHOICE_BYTES)) < 0 ||
	    (r = cli_socks5_choice_parse(msg, auth != NULL, &method)) < 0)
		return r;
	if (method == CLI_SOCKS5_METHOD_USER && (r = authenticate(fd, auth)) < 0)
		return r;
	if ((r = cli_socks5_connect_request(host, port, msg, sizeof(msg), &len)) < 0 ||
	    (r = send_all(fd, msg, len)) < 0 || (r = recv_exact(fd, msg, CLI_SOCKS5_REPLY_HEAD)) < 0 ||
	    (r = cli_socks5_reply_head_parse(msg, &rest)) < 0)
		return r;
	return recv_exact(fd, msg + CLI_SOCKS5_REPLY_HEAD, rest);
}
