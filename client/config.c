/*
 * config.c — what a networked command starts from: the per-user config file that supplies
 * defaults for --server, --ca, --cert, --key, --root, --intake and --socks5 (cli.h, "the
 * server"), the connection to the server, and the server's directory, trusted only once
 * the pinned root key verifies it.
 *
 * The config file is $SEALDROP_CONFIG, else $XDG_CONFIG_HOME/sealdrop/config, else
 * ~/.config/sealdrop/config: lines of `name value`, whole-line `#` comments and blank
 * lines. It names files that decide whom the client trusts (--ca, --root), so it is read
 * strictly: it must be a regular file of the user's (or root's) that nobody else may
 * write, every name must be known and set once, paths must be absolute, and the first
 * fault ends the command (exit 78) naming FILE:LINE. Start at cli_config_load(); the
 * commands that read it (cmd_cases.c) call cli_config_apply() after their options, so an
 * option on the command line always wins. The socks5 setting is the exception: every
 * command that talks to a server honours it, also those that read no other setting, so
 * cli_getopt() (cli.c) applies it (a user who set it expects no command to go around
 * Tor).
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sealdrop/bytes.h"
#include "sealdrop/sealdrop.h"
#include "cli.h"
#include "https.h"
#include "socks5.h"

#define BUSY_RETRIES 5 /* a busy server (503) is asked again after 1, 2, 4, 8, 16 seconds */
#define CONFIG_NAME  "sealdrop/config"

static const char *const names[CLI_CONFIG_N] = {"server", "ca", "cert", "key", "root", "intake", "socks5"};

/* --- the file ---------------------------------------------------------------------------- */

void cli_config_free(cli_config_t *c)
{
	for (size_t i = 0; i < CLI_CONFIG_N; i++) {
		free(c->value[i]);
		c->value[i] = NULL;
	}
	free(c->path);
	c->path = NULL;
}

static int line_error(const char *path, size_t line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int line_error(const char *path, size_t line, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return sd_error(SD_ERR_CONFIG, "%s:%zu: %s", path, line, what);
}

/* `socks5 HOST:PORT`: checked here, so the file's line is named when it is malformed. */
static int socks5_value(const char *path, size_t line, const char *v, size_t n, cli_config_t *c)
{
	cli_socks5_proxy_t p;
	char *text = strndup(v, n);

	if (text == NULL)
		return SD_ERR_NOMEM;
	if (cli_socks5_proxy_parse(text, &p) < 0) {
		free(text);
		return line_error(path, line, _("'socks5' must be HOST:PORT, the proxy (Tor: 127.0.0.1:9050)"));
	}
	c->value[CLI_CONFIG_SOCKS5] = text;
	return 0;
}

/* One `name value` line (trimmed, not empty, not a comment) into c. */
static int config_line(const char *path, size_t line, const char *s, size_t n, cli_config_t *c, size_t *set_on)
{
	char shown[64];
	size_t k = 0, v;
	size_t i;

	while (k < n && s[k] != ' ' && s[k] != '\t')
		k++;
	for (v = k; v < n && (s[v] == ' ' || s[v] == '\t'); v++)
		;
	for (i = 0; i < CLI_CONFIG_N; i++)
		if (strlen(names[i]) == k && strncmp(s, names[i], k) == 0)
			break;
	if (i == CLI_CONFIG_N) {
		snprintf(shown, sizeof(shown), "%.*s", (int)(k < 40 ? k : 40), s);
		return line_error(path, line,
		                  _("unknown setting '%s' (the settings are server, ca, cert, key, root, intake and "
		                    "socks5)"),
		                  shown);
	}
	if (v == n)
		return line_error(path, line, _("'%s' needs a value"), names[i]);
	if (c->value[i] != NULL)
		return line_error(path, line, _("'%s' is set a second time (first on line %zu)"), names[i], set_on[i]);
	set_on[i] = line;
	if (i == CLI_CONFIG_SOCKS5)
		return socks5_value(path, line, s + v, n - v, c);
	if (i == CLI_CONFIG_SERVER ? strncmp(s + v, "https://", 8) != 0 : s[v] != '/')
		return line_error(path, line,
		                  i == CLI_CONFIG_SERVER ? _("'%s' must be a URL https://HOST[:PORT]")
		                                         : _("'%s' must be an absolute path (starting with '/')"),
		                  names[i]);
	if ((c->value[i] = strndup(s + v, n - v)) == NULL)
		return SD_ERR_NOMEM;
	return 0;
}

/* Checks one raw line (without its newline) and hands what it says to config_line. */
static int config_raw_line(const char *path, size_t line, const char *s, size_t n, cli_config_t *c, size_t *set_on)
{
	if (n > 0 && s[n - 1] == '\r')
		n--; /* a file written on Windows */
	if (n > CLI_CONFIG_LINE_MAX)
		return line_error(path, line, _("the line is longer than %d bytes"), CLI_CONFIG_LINE_MAX);
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
			return line_error(path, line, _("a control character (or NUL byte) in the line"));
	if (!sd_utf8_is_valid(s, n))
		return line_error(path, line, _("the line is not valid UTF-8"));
	while (n > 0 && (s[0] == ' ' || s[0] == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0 || s[0] == '#')
		return 0;
	return config_line(path, line, s, n, c, set_on);
}

int cli_config_parse(const char *path, const char *text, size_t len, cli_config_t *out)
{
	size_t set_on[CLI_CONFIG_N] = {0}, line = 1, start = 0;
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (len > CLI_CONFIG_MAX_BYTES)
		return sd_error(SD_ERR_CONFIG, _("%s: larger than %d bytes"), path, CLI_CONFIG_MAX_BYTES);
	for (size_t i = 0; i <= len && r == 0; i++) {
		if (i < len && text[i] != '\n')
			continue;
		if (i > start || i < len)
			r = config_raw_line(path, line, text + start, i - start, out, set_on);
		start = i + 1;
		line++;
	}
	if (r == 0 && (out->path = strdup(path)) == NULL)
		r = SD_ERR_NOMEM;
	if (r < 0)
		cli_config_free(out);
	return r;
}

/* $SEALDROP_CONFIG (*named), else the XDG place; NULL in *out when there is none (no
 * absolute XDG_CONFIG_HOME or HOME). */
static int config_path(char **out, bool *named)
{
	const char *env = getenv("SEALDROP_CONFIG"), *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	int n = 0;

	*out = NULL;
	*named = env != NULL && env[0] != '\0';
	if (*named)
		n = (*out = strdup(env)) == NULL ? -1 : 0;
	else if (xdg != NULL && xdg[0] == '/') /* the XDG spec ignores a relative value */
		n = asprintf(out, "%s/" CONFIG_NAME, xdg);
	else if (home != NULL && home[0] == '/')
		n = asprintf(out, "%s/.config/" CONFIG_NAME, home);
	if (n < 0) {
		*out = NULL;
		return SD_ERR_NOMEM;
	}
	return 0;
}

/* The open file must be the user's, nobody else's to write, and not too large. */
static int config_check(const char *path, int fd)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return sd_error(SD_ERR_CONFIG, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return sd_error(SD_ERR_CONFIG, _("%s: not a regular file"), path);
	if (st.st_uid != getuid() && st.st_uid != 0)
		return sd_error(SD_ERR_CONFIG, _("%s belongs to another user; it is not read"), path);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return sd_error(SD_ERR_CONFIG, _("%s can be changed by other users; it is not read: chmod go-w %s"),
		                path, path);
	if (st.st_size > (off_t)CLI_CONFIG_MAX_BYTES)
		return sd_error(SD_ERR_CONFIG, _("%s: larger than %d bytes"), path, CLI_CONFIG_MAX_BYTES);
	return 0;
}

static int config_read(const char *path, int fd, char *buf, size_t cap, size_t *len)
{
	ssize_t got;

	*len = 0;
	while ((got = read(fd, buf + *len, cap - *len)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return sd_error(SD_ERR_CONFIG, "%s: %s", path, strerror(errno));
		*len += (size_t)got;
		if (*len == cap)
			return sd_error(SD_ERR_CONFIG, _("%s: larger than %d bytes"), path, CLI_CONFIG_MAX_BYTES);
	}
	return 0;
}

int cli_config_load(cli_config_t *out)
{
	char *path = NULL, *buf = NULL;
	bool named;
	size_t len;
	int fd = -1, r;

	memset(out, 0, sizeof(*out));
	if ((r = config_path(&path, &named)) < 0 || path == NULL)
		goto out;
	/* O_NONBLOCK: a FIFO put in its place must not hang the command; it is refused. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0) {
		if (errno == ENOENT && !named)
			r = 0; /* no config file: no defaults */
		else if (errno == ENOENT)
			r = sd_error(SD_ERR_CONFIG, _("SEALDROP_CONFIG names %s, which does not exist"), path);
		else
			r = sd_error(SD_ERR_CONFIG, "%s: %s", path, strerror(errno));
		goto out;
	}
	if ((r = config_check(path, fd)) < 0)
		goto out;
	r = SD_ERR_NOMEM;
	if ((buf = malloc(CLI_CONFIG_MAX_BYTES + 1)) == NULL ||
	    (r = config_read(path, fd, buf, CLI_CONFIG_MAX_BYTES + 1, &len)) < 0)
		goto out;
	r = cli_config_parse(path, buf, len, out);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	free(path);
	return r;
}

void cli_config_apply(const cli_config_t *c, cli_remote_opts_t *o)
{
	const char **opt[CLI_CONFIG_N_REMOTE] = {&o->server, &o->ca, &o->cert, &o->key, &o->root, &o->intake};

	for (size_t i = 0; i < CLI_CONFIG_N_REMOTE; i++)
		if (*opt[i] == NULL)
			*opt[i] = c->value[i];
}

/* --- the server ---------------------------------------------------------------------------- */

struct cli_remote {
	const cli_remote_opts_t *o;
	cli_https_ctx_t *ctx;
	cli_https_conn_t *conn;
};

struct cli_https_conn *cli_remote_conn(cli_remote_t *r)
{
	return r->conn;
}

void cli_remote_free(cli_remote_t *r)
{
	if (r == NULL)
		return;
	cli_https_conn_free(r->conn);
	cli_https_ctx_free(r->ctx);
	free(r);
}

int cli_remote_open(const cli_remote_opts_t *o, const char *cmd, cli_remote_t **out)
{
	cli_https_config_t cfg = {.url = o->server, .ca_file = o->ca, .cert_file = o->cert, .key_file = o->key};
	cli_remote_t *rm = calloc(1, sizeof(*rm));
	int r;

	*out = NULL;
	if (rm == NULL)
		return SD_ERR_NOMEM;
	rm->o = o;
	if ((r = cli_https_ctx_new(&cfg, &rm->ctx)) < 0 || (r = cli_https_conn_new(rm->ctx, &rm->conn)) < 0) {
		cli_remote_free(rm);
		return r;
	}
	if (o->key != NULL && cli_https_key_is_exposed(rm->ctx))
		cli_warn(cmd, _("%s can be read by other users; make it private: chmod 600 %s"), o->key, o->key);
	*out = rm;
	return 0;
}

/* A request, asked again while the server answers 503 (busy). */
static int request_busy(cli_https_conn_t *c, const cli_https_request_t *req, cli_https_response_t *resp)
{
	int r;

	for (unsigned i = 0;; i++) {
		if ((r = cli_https_request(c, req, resp)) < 0 || resp->status != 503 || i == BUSY_RETRIES)
			return r;
		cli_https_response_free(resp);
		cli_nap(1000u << i);
		if (sd_is_cancelled())
			return sd_error(SD_ERR_CANCELLED, _("interrupted"));
	}
}

int cli_remote_request(cli_remote_t *rm, const char *method, const char *path, const json_t *body,
                       cli_https_response_t *resp)
{
	cli_https_request_t req = {.method = method, .path = path, .body_fd = -1};
	char *text = NULL;
	int r;

	memset(resp, 0, sizeof(*resp));
	if (body != NULL) {
		if ((text = json_dumps(body, JSON_COMPACT)) == NULL)
			return SD_ERR_NOMEM;
		req.content_type = "application/json";
		req.body = (const uint8_t *)text;
		req.body_len = strlen(text);
	}
	r = request_busy(rm->conn, &req, resp);
	free(text);
	return r;
}

int cli_directory_fetch(cli_https_ctx_t *ctx, cli_https_conn_t *conn, const char *root_path, const char *ca_path,
                        sd_directory_t **out)
{
	cli_https_request_t req = {.method = "GET", .path = "/v1/directory", .body_fd = -1};
	cli_https_response_t resp;
	sd_pubkey_t root;
	int r;

	*out = NULL;
	memset(&resp, 0, sizeof(resp));
	if ((r = cli_pubkey_load("--root", root_path, SD_KEY_ROOT, &root)) < 0)
		return r;
	if ((r = request_busy(conn, &req, &resp)) < 0 ||
	    (resp.status != 200 && (r = cli_http_fail(&resp, _("the directory"))) < 0))
		goto out;
	if ((r = sd_directory_parse(resp.body, resp.body_len, &root, sd_date_today(), out)) < 0 ||
	    (r = sd_directory_check_version(*out, NULL)) < 0) {
		r = cli_error_prefix(r, _("the server's directory"));
		goto out;
	}
	if ((*out)->tls_ca_pem != NULL && cli_https_ca_matches(ctx, (*out)->tls_ca_pem) < 0)
		r = sd_error(CLI_ERR_PROTOCOL, _("--ca %s is not the TLS CA the server's directory lists"), ca_path);
out:
	if (r < 0)
		sd_directory_free(*out);
	cli_https_response_free(&resp);
	return r;
}

int cli_remote_directory(cli_remote_t *rm, sd_directory_t **out)
{
	return cli_directory_fetch(rm->ctx, rm->conn, rm->o->root, rm->o->ca, out);
}

int cli_remote_complete(const cli_cmd_t *cmd, cli_config_t *cfg, cli_remote_opts_t *o, unsigned need)
{
	const char *const options[] = {"--server", "--ca", "--cert", "--key", "--root", "--intake"};
	const bool needed[] = {true, true, true, true, (need & CLI_NEED_ROOT) != 0, (need & CLI_NEED_INTAKE) != 0};
	int r;

	sd_error_clear();
	if ((r = cli_config_load(cfg)) < 0)
		return cli_fail(cmd->name, r);
	cli_config_apply(cfg, o);
	const char *const values[] = {o->server, o->ca, o->cert, o->key, o->root, o->intake};
	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
		if (needed[i] && values[i] == NULL)
			return cli_usage_error(cmd, _("missing %s (give it, or set it in the config file)"),
			                       options[i]);
	return -1;
}

int cli_answer_object(const struct cli_https_response *resp, const char *what, json_t **out)
{
	*out = NULL;
	if (resp->body != NULL)
		*out = json_loadb((const char *)resp->body, resp->body_len, JSON_REJECT_DUPLICATES, NULL);
	if (json_is_object(*out))
		return 0;
	json_decref(*out);
	*out = NULL;
	return sd_error(CLI_ERR_PROTOCOL, _("the server's answer to %s is not a JSON object"), what);
}
