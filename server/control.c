/*
 * control.c — the control socket: how `sealdropd enroll`, `disable` and `directory
 * install` reach the running server (include/sealdrop/control.h; protocol: docs/API.md,
 * "Control socket"), like OpenSMTPD's smtpctl socket.
 *
 * The server's side lives here (requests are parsed in control_request.c, the operator's
 * side is control_call.c). It runs on the server's event loop: it accepts on
 * DIR/control.sock, checks the peer's uid (SO_PEERCRED: root, or the user the server
 * started as), reads one line, parses it with sd_control_parse_request() (pure, fuzzed),
 * runs the operation and answers one line. Every change to the accounts goes through
 * the store (sd_server_store_submit) and reaches the in-memory copy only once durable.
 *
 * Start reading at conn_handle(), then op_enroll() and job_done().
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "sealdrop/auditcheck.h"
#include "sealdrop/auditlog.h"
#include "sealdrop/bytes.h"
#include "sealdrop/hash.h"
#include "sealdrop/retention.h"
#include "sealdrop/sealdrop.h"
#include "sealdrop/server.h"
#include "sealdrop/uploads.h"
#include "control_int.h"
#include "backup.h"
#include "server_int.h"

#define CONTROL_BACKLOG   16
#define CONTROL_MAX_CONNS 16 /* operator commands at once; more are turned away */
#define MESSAGE_MAX       512
#define BACKUP_NAME_MAX   64 /* "sealdropd-backup-YYYYMMDDTHHMMSSZ.mdb" */
/* --- binding ------------------------------------------------------------------------ */

/* The uid besides root that may use the socket: the server's, when it bound the socket. */
static uid_t owner_uid = (uid_t)-1;

int sd_control_socket_path(const char *dir, struct sockaddr_un *sa, const char **path)
{
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (dir == NULL)
		return sd_error(SD_ERR_USAGE, "no directory for the control socket");
	n = snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s", dir, SD_SERVER_CONTROL_SOCK);
	if (n < 0 || (size_t)n >= sizeof(sa->sun_path))
		return sd_error(SD_ERR_CONFIG, "%s/%s is too long for a Unix socket (at most %zu bytes)", dir,
		                SD_SERVER_CONTROL_SOCK, sizeof(sa->sun_path) - 1);
	*path = sa->sun_path;
	return 0;
}

/* Removes a socket file nobody answers on; refuses while a server listens there. */
static int clear_stale(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, r = 0;

	if (lstat(sa->sun_path, &st) != 0)
		return errno == ENOENT ? 0 : sd_error(SD_ERR_IO, "%s: %s", sa->sun_path, strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return sd_error(SD_ERR_REFUSED, "%s exists and is not a socket; remove it", sa->sun_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return sd_error(SD_ERR_IO, "socket: %s", strerror(errno));
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
		r = sd_error(SD_ERR_REFUSED, "another sealdropd is running: it answers on %s", sa->sun_path);
	else if (errno != ECONNREFUSED)
		r = sd_error(SD_ERR_IO, "%s: %s", sa->sun_path, strerror(errno));
	else if (unlink(sa->sun_path) != 0)
		r = sd_error(SD_ERR_IO, "cannot remove the stale %s: %s", sa->sun_path, strerror(errno));
	close(fd);
	return r;
}

int sd_control_bind(const char *dir, int *fd)
{
	struct sockaddr_un sa;
	const char *path;
	mode_t old;
	int s, r;

	*fd = -1;
	if ((r = sd_control_socket_path(dir, &sa, &path)) < 0 || (r = clear_stale(&sa)) < 0)
		return r;
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		return sd_error(SD_ERR_IO, "socket: %s", strerror(errno));
	old = umask(0177); /* born 0600: no moment where others could connect */
	r = bind(s, (const struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r != 0) {
		r = sd_error(SD_ERR_IO, "cannot bind %s: %s", path, strerror(errno));
		close(s);
		return r;
	}
	if (chmod(path, 0600) != 0 || listen(s, CONTROL_BACKLOG) != 0) {
		r = sd_error(SD_ERR_IO, "cannot listen on %s: %s", path, strerror(errno));
		close(s);
		unlink(path);
		return r;
	}
	owner_uid = geteuid();
	*fd = s;
	return 0;
}

/* --- the server side --------------------------------------------------------------- */

struct ctl_job;

/* One operator connection: reading its line, running it (perhaps waiting for the
 * store), writing the answer, then closed. */
struct ctl_conn {
	sd_control_t *ctl;
	struct bufferevent *bev;
	struct ctl_conn *prev, *next;
	enum { CONN_READING, CONN_RUNNING, CONN_WRITING } state;
	size_t scanned; /* bytes of input already searched for the end of the line */
	sd_control_req_t req;
	struct ctl_job *job; /* the store request out for this connection, if any */
};

struct sd_control {
	sd_server_t *s;
	struct evconnlistener *listener;
	struct ctl_conn *conns;
	size_t n_conns;
	uid_t owner;
	struct ctl_job *checks; /* audit checks and backup requests whose thread runs */
	/* the backup the store process copies: DIR/backup/NAME.tmp, renamed NAME when done */
	char backup_tmp[PATH_MAX], backup_file[PATH_MAX], backup_name[BACKUP_NAME_MAX];
	bool backup_starting; /* a BACKUP-START is out to the store process */
};

/* A change waiting for the store. It outlives its connection if the operator goes
 * away: the change is applied to the memory copy whether or not anyone hears of it. */
struct ctl_job {
	sd_server_t *s;
	struct ctl_conn *conn; /* NULL once the connection is gone */
	sd_control_op_t op;
	bool submitted; /* handed to the store: counted in account_changes until freed */
	sd_account_t acc;
	char *cert_pem; /* enroll: malloc'd */
	char *key_pem;  /* enroll without a CSR: secret memory */
	sd_date_t today;
	int64_t now;
	/* audit_check: the check runs on a thread of its own, then wakes the loop */
	pthread_t thread;
	struct event *finished;
	uint8_t *expect;
	size_t expect_len;
	sd_audit_report_t report;
	sd_pubkey_t keys[SD_AUDIT_KEYS_MAX]; /* audit_check: the log key, then the retired ones */
	size_t n_keys;
	int status;
	struct ctl_job *next_check; /* in sd_control's list of running checks */
	sd_control_t *ctl;
	/* directory_install: installed once its audit leaf is durable */
	sd_directory_t *directory;
	uint8_t *directory_json;
	size_t directory_len;
	/* backup, backup_status: the store process's answer, on the job's thread */
	uint8_t backup_kind;
	int backup_fd;
	sd_storewire_ctl_reply_t backup;
};

/* Changes to an existing account's certificates (disable, renew, revoke) waiting for the
 * store. Each reads the account's certificates from memory, which changes only once the
 * store answered: two at once could each miss the other's (a renewal left enabled by a
 * disable, two revokes leaving no certificate), so one runs at a time. The loop's alone. */
static unsigned account_changes;

static bool is_account_change(sd_control_op_t op)
{
	return op == SD_CONTROL_DISABLE || op == SD_CONTROL_RENEW || op == SD_CONTROL_REVOKE;
}

static void job_free(struct ctl_job *job)
{
	if (job == NULL)
		return;
	if (job->submitted && is_account_change(job->op))
		account_changes--;
	if (job->conn != NULL)
		job->conn->job = NULL;
	free(job->cert_pem);
	sd_secret_free(job->key_pem);
	free(job->expect);
	sd_directory_free(job->directory);
	free(job->directory_json);
	if (job->backup_fd > 0)
		close(job->backup_fd);
	if (job->finished != NULL)
		event_free(job->finished);
	free(job);
}

static void conn_close(struct ctl_conn *c)
{
	if (c->job != NULL)
		c->job->conn = NULL;
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else if (c->ctl != NULL)
		c->ctl->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	if (c->ctl != NULL)
		c->ctl->n_conns--;
	sd_control_req_clear(&c->req);
	free(c);
}

static void free_secret_line(const void *data, size_t len, void *extra)
{
	(void)data;
	(void)len;
	sd_secret_free(extra);
}

/* Appends ,"key":"<pem>"} to text (which ends in '}') in secret memory: the generated
 * private key never sits in ordinary heap memory on its way out. */
static char *splice_secret(const char *text, const char *pem, size_t *len)
{
	size_t n = strlen(text), need = n + 16 + 6 * strlen(pem);
	char *out = sd_secret_alloc(need), *p;

	if (out == NULL || n == 0)
		goto fail;
	memcpy(out, text, n - 1);
	p = out + n - 1;
	p += snprintf(p, need - (size_t)(p - out), ",\"key\":\"");
	for (const char *s = pem; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '\n')
			p += snprintf(p, need - (size_t)(p - out), "\\n");
		else if (ch == '"' || ch == '\\')
			p += snprintf(p, need - (size_t)(p - out), "\\%c", ch);
		else if (ch < 0x20)
			p += snprintf(p, need - (size_t)(p - out), "\\u%04x", ch);
		else
			*p++ = (char)ch;
	}
	p += snprintf(p, need - (size_t)(p - out), "\"}\n");
	*len = (size_t)(p - out);
	return out;
fail:
	sd_secret_free(out);
	return NULL;
}

static void conn_event(struct bufferevent *bev, short what, void *arg);

static void conn_written(struct bufferevent *bev, void *arg)
{
	struct ctl_conn *c = arg;

	if (c->state == CONN_WRITING && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		conn_close(c);
}

/* Answers obj (taking it) and the secret key when there is one, then closes. */
static void conn_reply(struct ctl_conn *c, json_t *obj, const char *secret_key)
{
	static const char fallback[] = "{\"ok\":false,\"error\":\"internal\",\"message\":\"out of memory\"}\n";
	struct evbuffer *out = bufferevent_get_output(c->bev);
	char *text = obj != NULL ? json_dumps(obj, JSON_COMPACT) : NULL, *line;
	size_t len = 0;
	int r = -1;

	json_decref(obj);
	if (text != NULL && secret_key != NULL) {
		if ((line = splice_secret(text, secret_key, &len)) != NULL &&
		    (r = evbuffer_add_reference(out, line, len, free_secret_line, line)) != 0)
			sd_secret_free(line);
	} else if (text != NULL) {
		r = evbuffer_add(out, text, strlen(text));
		if (r == 0)
			r = evbuffer_add(out, "\n", 1);
	}
	if (r != 0)
		evbuffer_add(out, fallback, sizeof(fallback) - 1);
	free(text);
	c->state = CONN_WRITING;
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_setcb(c->bev, NULL, conn_written, conn_event, c);
	bufferevent_enable(c->bev, EV_WRITE);
}

/* Text fit for a JSON string: jansson refuses invalid UTF-8, so such text loses its
 * non-ASCII bytes instead of the whole message. */
static json_t *json_text(const char *s)
{
	char copy[MESSAGE_MAX];
	json_t *v = json_string(s);

	if (v != NULL)
		return v;
	snprintf(copy, sizeof(copy), "%s", s);
	for (char *p = copy; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	return json_string(copy);
}

static void conn_error(struct ctl_conn *c, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void conn_error(struct ctl_conn *c, int err, const char *fmt, ...)
{
	char msg[MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	conn_reply(
	        c,
	        json_pack("{s:b, s:s, s:o}", "ok", 0, "error", sd_control_error_word(err), "message", json_text(msg)),
	        NULL);
}

/* Answers with the library's explanation of r. */
static void conn_fail(struct ctl_conn *c, int r)
{
	const char *detail = sd_error_detail();

	conn_error(c, r, "%s", detail[0] != '\0' ? detail : sd_strerror(r));
}

/* True, with c answered, when another account change is under way. */
static bool account_change_busy(struct ctl_conn *c)
{
	if (account_changes == 0)
		return false;
	conn_error(c, SD_ERR_REFUSED, "another change to an account is under way; try again in a moment");
	return true;
}

/* --- operations ---------------------------------------------------------------------- */

static void job_done(sd_store_req_t *req, void *ctx);

static struct ctl_job *job_new(struct ctl_conn *c, sd_control_op_t op)
{
	struct ctl_job *job = calloc(1, sizeof(*job));

	if (job != NULL) {
		job->s = c->ctl->s;
		job->op = op;
		job->today = sd_server_today(job->s);
		job->now = (int64_t)time(NULL);
	}
	return job;
}

/* Hands req (built with status r so far) to the store; the answer comes in job_done. */
static void job_submit(struct ctl_conn *c, struct ctl_job *job, sd_store_req_t *req, int r)
{
	if (req == NULL)
		r = sd_error(SD_ERR_NOMEM, "out of memory for a store request");
	if (r >= 0)
		r = sd_server_store_submit(job->s, req, job_done, job);
	if (r < 0) {
		sd_store_req_free(req);
		job_free(job);
		conn_fail(c, r);
		return;
	}
	job->submitted = true;
	account_changes += is_account_change(job->op);
	job->conn = c;
	c->job = job;
}

/* The operator's change to an account, as an audit event on the request that makes it. */
static int audit_account(sd_store_req_t *req, sd_audit_type_t type, const struct ctl_job *job)
{
	sd_audit_event_t ev;

	sd_audit_event_init(&ev, type, job->today, NULL);
	ev.has_subject = true;
	memcpy(ev.subject, job->acc.fingerprint, sizeof(ev.subject));
	snprintf(ev.subject_role, sizeof(ev.subject_role), "%s", sd_role_name(job->acc.role));
	/* A renewal names the account it joins by its first fingerprint; a revoke says that
	 * only this certificate went. */
	ev.has_digest = job->op == SD_CONTROL_RENEW;
	memcpy(ev.digest, job->acc.account, sizeof(ev.digest));
	if (job->op == SD_CONTROL_REVOKE)
		snprintf(ev.detail, sizeof(ev.detail), "certificate");
	return sd_audit_add(req, &ev);
}

static void op_enroll(struct ctl_conn *c)
{
	sd_server_t *s = c->ctl->s;
	sd_accounts_t *a = sd_server_accounts(s);
	const sd_control_req_t *q = &c->req;
	char url[SD_CA_URL_MAX];
	sd_ca_cert_info_t info;
	struct ctl_job *job;
	sd_store_req_t *req;
	int r;

	if (sd_accounts_find_name(a, q->name) != NULL) {
		conn_error(c, SD_ERR_EXISTS, "an account named '%s' already exists", q->name);
		return;
	}
	if (sd_accounts_cert_count(a) >= SD_ACCOUNTS_MAX) {
		conn_error(c, SD_ERR_REFUSED, "this server already holds %d accounts, its most", SD_ACCOUNTS_MAX);
		return;
	}
	if ((r = sd_control_crl_url(sd_server_config(s), url)) < 0) {
		conn_fail(c, r);
		return;
	}
	if ((job = job_new(c, SD_CONTROL_ENROLL)) == NULL) {
		conn_error(c, SD_ERR_NOMEM, "out of memory");
		return;
	}
	r = sd_ca_issue_client(sd_server_ca(s), sd_role_name(q->role), q->name, q->csr, q->csr_len, SD_CA_LEAF_MAX_DAYS,
	                       url, &job->cert_pem, q->csr != NULL ? NULL : &job->key_pem, &info);
	if (r < 0) {
		job_free(job);
		conn_fail(c, r);
		return;
	}
	memcpy(job->acc.fingerprint, info.fingerprint, sizeof(job->acc.fingerprint));
	memcpy(job->acc.serial, info.serial, sizeof(job->acc.serial));
	memcpy(job->acc.name, q->name, sizeof(job->acc.name));
	job->acc.role = q->role;
	job->acc.enabled = true;
	job->acc.has_box_key = q->has_box_key;
	memcpy(job->acc.box_pk, q->box_pk, sizeof(job->acc.box_pk));
	job->acc.enrolled = job->today;
	job->acc.cert_not_after = info.not_after;
	req = sd_store_req_new();
	r = req != NULL ? sd_accounts_req_add(req, &job->acc) : 0;
	if (r >= 0 && req != NULL)
		r = audit_account(req, SD_AUDIT_ENROLLMENT, job);
	job_submit(c, job, req, r);
}

static void enroll_done(struct ctl_job *job, sd_store_req_t *req, int status)
{
	struct ctl_conn *c = job->conn;
	char fp[2 * SD_CA_FINGERPRINT_BYTES + 1];

	sd_hex_encode(job->acc.fingerprint, SD_CA_FINGERPRINT_BYTES, fp);
	if (status == 0) {
		if (sd_accounts_added(sd_server_accounts(job->s), &job->acc) < 0)
			sd_log(SD_LOG_ERROR,
			       "control: account %.16s is stored but not in memory (%s); restart sealdropd", fp,
			       sd_error_detail());
		sd_log(SD_LOG_INFO, "control: enrolled an %s account, certificate %.16s", sd_role_name(job->acc.role),
		       fp);
		if (c != NULL)
			conn_reply(c,
			           json_pack("{s:b, s:s, s:s, s:s, s:s}", "ok", 1, "fingerprint", fp, "name",
			                     job->acc.name, "role", sd_role_name(job->acc.role), "cert", job->cert_pem),
			           job->key_pem);
		return;
	}
	if (c == NULL)
		return;
	if (status == SD_ERR_EXISTS && sd_store_req_failed_op(req) == 1)
		conn_error(c, SD_ERR_EXISTS, "an account named '%s' already exists", job->acc.name);
	else if (status == SD_ERR_EXISTS)
		conn_error(c, SD_ERR_EXISTS, "this certificate is already enrolled");
	else
		conn_error(c, SD_ERR_INTERNAL, "the store could not record the account: %s", sd_store_req_detail(req));
}

/* The store request that disables acc — the whole account (disable) or this certificate
 * of it (revoke) — with its account-disabled leaf; disable_done answers. */
static void submit_disable(struct ctl_conn *c, sd_control_op_t op, const sd_account_t *acc)
{
	sd_accounts_t *a = sd_server_accounts(c->ctl->s);
	struct ctl_job *job = job_new(c, op);
	sd_store_req_t *req;
	int r = 0;

	if (job == NULL) {
		conn_error(c, SD_ERR_NOMEM, "out of memory");
		return;
	}
	job->acc = *acc;
	if ((req = sd_store_req_new()) != NULL) {
		r = op == SD_CONTROL_DISABLE ? sd_accounts_req_disable_account(req, a, &job->acc, job->today, job->now)
		                             : sd_accounts_req_disable(req, &job->acc, job->today, job->now);
		if (r >= 0)
			r = audit_account(req, SD_AUDIT_ACCOUNT_DISABLED, job);
	}
	job_submit(c, job, req, r);
}

static void op_disable(struct ctl_conn *c)
{
	sd_accounts_t *a = sd_server_accounts(c->ctl->s);
	const sd_account_t *acc = sd_accounts_find_name(a, c->req.name);
	char fp[2 * SD_CA_FINGERPRINT_BYTES + 1];

	if (acc == NULL) {
		conn_error(c, SD_ERR_NOENT, "no account is named '%s'", c->req.name);
		return;
	}
	if (account_change_busy(c))
		return;
	sd_hex_encode(acc->fingerprint, SD_CA_FINGERPRINT_BYTES, fp);
	if (!sd_accounts_is_live(a, acc)) { /* idempotent: the operator's wish is already true */
		conn_reply(c, json_pack("{s:b, s:s, s:b}", "ok", 1, "fingerprint", fp, "already_disabled", 1), NULL);
		return;
	}
	submit_disable(c, SD_CONTROL_DISABLE, acc);
}

static void disable_done(struct ctl_job *job, sd_store_req_t *req, int status)
{
	struct ctl_conn *c = job->conn;
	sd_accounts_t *a = sd_server_accounts(job->s);
	const sd_account_t *acc;
	char fp[2 * SD_CA_FINGERPRINT_BYTES + 1], why[MESSAGE_MAX];

	sd_hex_encode(job->acc.fingerprint, SD_CA_FINGERPRINT_BYTES, fp);
	if (status == 0) {
		if ((job->op == SD_CONTROL_DISABLE ? sd_accounts_disabled_account : sd_accounts_disabled)(
		            a, job->acc.fingerprint, job->today, job->now) < 0)
			sd_log(SD_LOG_ERROR, "control: account %.16s is disabled in the store, not in memory (%s)", fp,
			       sd_error_detail());
		sd_log(SD_LOG_INFO, "control: disabled the account with certificate %.16s", fp);
		if (sd_server_refresh_crl(job->s) < 0) {
			snprintf(why, sizeof(why), "%s", sd_error_detail());
			sd_log(SD_LOG_ERROR, "control: the CRL could not be regenerated: %s", why);
			if (c != NULL)
				conn_error(c, SD_ERR_INTERNAL,
				           "the account is disabled, but the CRL could not be regenerated: %s", why);
			return;
		}
		if (c != NULL)
			conn_reply(c, json_pack("{s:b, s:s}", "ok", 1, "fingerprint", fp), NULL);
		return;
	}
	if (c == NULL)
		return;
	/* Another disable won the race: the record changed under this one. */
	acc = sd_accounts_find(a, job->acc.fingerprint);
	if (status == SD_ERR_REFUSED && acc != NULL && !acc->enabled)
		conn_reply(c, json_pack("{s:b, s:s, s:b}", "ok", 1, "fingerprint", fp, "already_disabled", 1), NULL);
	else
		conn_error(c, SD_ERR_INTERNAL, "the store could not disable the account: %s", sd_store_req_detail(req));
}

/* A new certificate for a live account (its name, role and box key): the account's other
 * certificates keep working until they expire or are revoked (op_revoke). */
static void op_renew(struct ctl_conn *c)
{
	sd_server_t *s = c->ctl->s;
	sd_accounts_t *a = sd_server_accounts(s);
	const sd_control_req_t *q = &c->req;
	const sd_account_t *owner = sd_accounts_find_name(a, q->name);
	char url[SD_CA_URL_MAX];
	sd_ca_cert_info_t info;
	struct ctl_job *job;
	sd_store_req_t *req;
	int r;

	if (owner == NULL) {
		conn_error(c, SD_ERR_NOENT, "no account is named '%s'", q->name);
		return;
	}
	if (account_change_busy(c))
		return;
	if (!sd_accounts_is_live(a, owner)) {
		conn_error(c, SD_ERR_REFUSED, "account '%s' is disabled; a disabled account is not renewed", q->name);
		return;
	}
	if (sd_accounts_cert_count(a) >= SD_ACCOUNTS_MAX) {
		conn_error(c, SD_ERR_REFUSED, "this server already holds %d certificates, its most", SD_ACCOUNTS_MAX);
		return;
	}
	if ((r = sd_control_crl_url(sd_server_config(s), url)) < 0 || (job = job_new(c, SD_CONTROL_RENEW)) == NULL) {
		conn_fail(c, r < 0 ? r : sd_error(SD_ERR_NOMEM, "out of memory"));
		return;
	}
	r = sd_ca_issue_client(sd_server_ca(s), sd_role_name(owner->role), owner->name, q->csr, q->csr_len,
	                       SD_CA_LEAF_MAX_DAYS, url, &job->cert_pem, q->csr != NULL ? NULL : &job->key_pem, &info);
	if (r < 0) {
		job_free(job);
		conn_fail(c, r);
		return;
	}
	memcpy(job->acc.fingerprint, info.fingerprint, sizeof(job->acc.fingerprint));
	memcpy(job->acc.serial, info.serial, sizeof(job->acc.serial));
	job->acc.enrolled = job->today;
	job->acc.cert_not_after = info.not_after;
	req = sd_store_req_new();
	r = req != NULL ? sd_accounts_req_renew(req, owner, &job->acc) : 0;
	if (r >= 0 && req != NULL)
		r = audit_account(req, SD_AUDIT_CERTIFICATE_RENEWED, job);
	job_submit(c, job, req, r);
}

static void renew_done(struct ctl_job *job, sd_store_req_t *req, int status)
{
	struct ctl_conn *c = job->conn;
	char fp[2 * SD_CA_FINGERPRINT_BYTES + 1], account[2 * SD_CA_FINGERPRINT_BYTES + 1];

	sd_hex_encode(job->acc.fingerprint, SD_CA_FINGERPRINT_BYTES, fp);
	sd_hex_encode(job->acc.account, SD_CA_FINGERPRINT_BYTES, account);
	if (status == 0) {
		if (sd_accounts_renewed(sd_server_accounts(job->s), &job->acc) < 0)
			sd_log(SD_LOG_ERROR,
			       "control: certificate %.16s is stored but not in memory (%s); restart sealdropd", fp,
			       sd_error_detail());
		sd_log(SD_LOG_INFO, "control: renewed the %s account %.16s with certificate %.16s",
		       sd_role_name(job->acc.role), account, fp);
		if (c != NULL)
			conn_reply(c,
			           json_pack("{s:b, s:s, s:s, s:s, s:s, s:s}", "ok", 1, "fingerprint", fp, "account",
			                     account, "name", job->acc.name, "role", sd_role_name(job->acc.role),
			                     "cert", job->cert_pem),
			           job->key_pem);
		return;
	}
	if (c == NULL)
		return;
	if (status == SD_ERR_REFUSED)
		conn_error(c, SD_ERR_REFUSED,
		           "account '%s' changed while its certificate was issued; nothing was recorded",
		           job->acc.name);
	else if (status == SD_ERR_EXISTS)
		conn_error(c, SD_ERR_EXISTS, "this certificate is already enrolled");
	else
		conn_error(c, SD_ERR_INTERNAL, "the store could not record the certificate: %s",
		           sd_store_req_detail(req));
}

/* One certificate of an account that keeps another: the old one, once its user switched
 * to the renewed one. Its serial goes on the CRL; disable_done answers. */
static void op_revoke(struct ctl_conn *c)
{
	sd_accounts_t *a = sd_server_accounts(c->ctl->s);
	const sd_account_t *acc = sd_accounts_find(a, c->req.fingerprint), *owner = sd_accounts_owner(a, acc);
	char fp[2 * SD_CA_FINGERPRINT_BYTES + 1];

	sd_hex_encode(c->req.fingerprint, SD_CA_FINGERPRINT_BYTES, fp);
	if (acc == NULL || owner == NULL) {
		conn_error(c, SD_ERR_NOENT, "no account has the certificate %s", fp);
		return;
	}
	if (account_change_busy(c))
		return;
	if (!acc->enabled) { /* idempotent, as disable */
		conn_reply(c, json_pack("{s:b, s:s, s:b}", "ok", 1, "fingerprint", fp, "already_disabled", 1), NULL);
		return;
	}
	if (sd_accounts_live_count(a, owner) < 2) {
		conn_error(c, SD_ERR_REFUSED,
		           "this is the last certificate account '%s' can use: disable the account instead",
		           owner->name);
		return;
	}
	submit_disable(c, SD_CONTROL_REVOKE, acc);
}

static void directory_done(struct ctl_job *job, sd_store_req_t *req, int status);

static void job_done(sd_store_req_t *req, void *ctx)
{
	struct ctl_job *job = ctx;
	int status = sd_store_req_status(req);

	if (job->op == SD_CONTROL_ENROLL)
		enroll_done(job, req, status);
	else if (job->op == SD_CONTROL_RENEW)
		renew_done(job, req, status);
	else if (job->op == SD_CONTROL_DIRECTORY_INSTALL)
		directory_done(job, req, status);
	else
		disable_done(job, req, status);
	sd_store_req_free(req);
	job_free(job);
}

/* The directory is served once the leaf recording it is durable (a crash in between
 * leaves a leaf for a directory the operator must install again: never the reverse). */
static void directory_done(struct ctl_job *job, sd_store_req_t *req, int status)
{
	struct ctl_conn *c = job->conn;
	char deployment[SD_DEPLOYMENT_MAX + 1];
	uint32_t version = job->directory->version;
	int r;

	if (status < 0) {
		if (c != NULL)
			conn_error(c, SD_ERR_INTERNAL, "the store could not record the change: %s",
			           sd_store_req_detail(req));
		return;
	}
	snprintf(deployment, sizeof(deployment), "%s", job->directory->deployment);
	/* set_directory takes both, whatever it answers. */
	r = sd_server_set_directory(job->s, job->directory, job->directory_json, job->directory_len);
	job->directory = NULL;
	job->directory_json = NULL;
	if (r < 0) {
		sd_log(SD_LOG_ERROR, "control: directory version %u is in the audit log but not installed: %s",
		       (unsigned)version, sd_error_detail());
		if (c != NULL)
			conn_fail(c, r);
		return;
	}
	sd_log(SD_LOG_INFO, "control: installed directory version %u of deployment %s", (unsigned)version, deployment);
	if (c != NULL)
		conn_reply(
		        c,
		        json_pack("{s:b, s:I, s:s}", "ok", 1, "version", (json_int_t)version, "deployment", deployment),
		        NULL);
}

static void op_directory_install(struct ctl_conn *c)
{
	sd_server_t *s = c->ctl->s;
	const sd_pubkey_t *root = sd_server_root(s);
	size_t len = c->req.directory_len;
	struct ctl_job *job;
	sd_audit_event_t ev;
	sd_store_req_t *req;
	int r;

	if (root == NULL) {
		conn_error(c, SD_ERR_INTERNAL, "the server has no pinned root key");
		return;
	}
	if ((job = job_new(c, SD_CONTROL_DIRECTORY_INSTALL)) == NULL || (job->directory_json = malloc(len)) == NULL) {
		job_free(job);
		conn_error(c, SD_ERR_NOMEM, "out of memory");
		return;
	}
	memcpy(job->directory_json, c->req.directory, len);
	job->directory_len = len;
	if ((r = sd_directory_parse(c->req.directory, len, root, job->today, &job->directory)) < 0 ||
	    (r = sd_server_check_directory(s, job->directory, c->req.directory, len)) < 0) {
		job_free(job);
		conn_fail(c, r);
		return;
	}
	sd_audit_event_init(&ev, SD_AUDIT_DIRECTORY_INSTALLED, job->today, NULL);
	ev.has_number = true;
	ev.number = job->directory->version;
	ev.has_digest = true;
	sd_hash(c->req.directory, len, ev.digest);
	req = sd_store_req_new();
	r = req != NULL ? sd_audit_add(req, &ev) : 0;
	if (req != NULL && r == 0)
		r = sd_server_req_directory_version(req, job->directory->version);
	job_submit(c, job, req, r);
}

static void op_status(struct ctl_conn *c)
{
	sd_server_t *s = c->ctl->s;
	const sd_directory_t *d = sd_server_directory(s);
	char today[SD_DATE_TEXT_BYTES];
	size_t n_revoked = 0;

	sd_accounts_revoked(sd_server_accounts(s), &n_revoked);
	sd_date_format(sd_server_today(s), today);
	conn_reply(c,
	           json_pack("{s:b, s:I, s:I, s:I, s:I, s:s, s:I, s:s}", "ok", 1, "accounts",
	                     (json_int_t)sd_accounts_count(sd_server_accounts(s)), "revoked", (json_int_t)n_revoked,
	                     "uploads", (json_int_t)sd_uploads_open_count(sd_server_uploads(s)), "connections",
	                     (json_int_t)sd_server_connection_count(s), "deployment", d != NULL ? d->deployment : "",
	                     "directory_version", (json_int_t)(d != NULL ? d->version : 0), "today", today),
	           NULL);
}

/* --- the audit log -------------------------------------------------------------------- */

static json_t *head_object(sd_server_t *s)
{
	size_t len = 0;
	const char *json = sd_auditlog_head_json(sd_server_auditlog(s), &len);

	return json != NULL ? json_loadb(json, len, 0, NULL) : json_null();
}

static void publish_done(void *ctx, int status)
{
	struct ctl_job *job = ctx;
	struct ctl_conn *c = job->conn;

	if (c != NULL && status == 0)
		conn_reply(c, json_pack("{s:b, s:o}", "ok", 1, "head", head_object(job->s)), NULL);
	else if (c != NULL)
		conn_error(c, status == SD_ERR_VERIFY ? SD_ERR_REFUSED : SD_ERR_INTERNAL,
		           "the head could not be published (see the server's log)");
	job_free(job);
}

/* A job for op, c's from now on; NULL, with c answered, when there is no memory. */
static struct ctl_job *job_attached(struct ctl_conn *c, sd_control_op_t op)
{
	struct ctl_job *job = job_new(c, op);

	if (job == NULL) {
		conn_error(c, SD_ERR_NOMEM, "out of memory");
		return NULL;
	}
	job->conn = c;
	c->job = job;
	return job;
}

static void op_publish(struct ctl_conn *c)
{
	struct ctl_job *job = job_attached(c, SD_CONTROL_PUBLISH);
	int r;

	if (job == NULL)
		return;
	if ((r = sd_auditlog_publish(sd_server_auditlog(job->s), publish_done, job)) < 0) {
		job_free(job);
		conn_fail(c, r);
	}
}

static void *check_main(void *arg)
{
	struct ctl_job *job = arg;

	job->status = sd_audit_check_keys(sd_server_store(job->s), job->keys, job->n_keys, job->expect, job->expect_len,
	                                  &job->report);
	if (job->status < 0 && job->status != SD_ERR_VERIFY)
		snprintf(job->report.problem, sizeof(job->report.problem), "%s", sd_error_detail());
	event_active(job->finished, EV_TIMEOUT, 1); /* thread-safe: evthread_use_pthreads ran */
	return NULL;
}

static void check_unlist(sd_control_t *ctl, struct ctl_job *job)
{
	for (struct ctl_job **p = &ctl->checks; *p != NULL; p = &(*p)->next_check) {
		if (*p == job) {
			*p = job->next_check;
			return;
		}
	}
}

static void check_finished(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_job *job = arg;
	struct ctl_conn *c = job->conn;

	(void)fd;
	(void)what;
	pthread_join(job->thread, NULL);
	check_unlist(job->ctl, job);
	if (c != NULL) {
		if (job->status == 0 || job->status == SD_ERR_VERIFY)
			conn_reply(c, json_pack("{s:b, s:o}", "ok", 1, "report", sd_audit_report_json(&job->report)),
			           NULL);
		else
			conn_error(c, job->status == SD_ERR_FORMAT ? SD_ERR_INVALID : SD_ERR_INTERNAL, "%s",
			           job->report.problem);
	}
	job_free(job);
}

static void op_audit_check(struct ctl_conn *c)
{
	struct ctl_job *job = job_new(c, SD_CONTROL_AUDIT_CHECK);

	if (job == NULL || (job->finished = event_new(sd_server_base(c->ctl->s), -1, 0, check_finished, job)) == NULL ||
	    (c->req.expect_head != NULL && (job->expect = malloc(c->req.expect_head_len)) == NULL)) {
		job_free(job);
		conn_error(c, SD_ERR_NOMEM, "out of memory");
		return;
	}
	if (c->req.expect_head != NULL) {
		memcpy(job->expect, c->req.expect_head, c->req.expect_head_len);
		job->expect_len = c->req.expect_head_len;
	}
	/* copied here, on the loop: a directory install may replace the directory meanwhile */
	job->n_keys = sd_audit_keys(sd_server_log_pub(c->ctl->s), sd_server_directory(c->ctl->s), job->keys);
	if (pthread_create(&job->thread, NULL, check_main, job) != 0) {
		job_free(job);
		conn_error(c, SD_ERR_INTERNAL, "cannot start the check's thread");
		return;
	}
	job->conn = c;
	c->job = job;
	job->ctl = c->ctl;
	job->next_check = c->ctl->checks;
	c->ctl->checks = job;
}

/* --- retention (server/retention.c) ------------------------------------------------------ */

static void retention_done(void *ctx, int status, json_t *result)
{
	struct ctl_job *job = ctx;

	if (job->conn != NULL && status == 0)
		conn_reply(job->conn, json_pack("{s:b, s:o}", "ok", 1, "retention", result), NULL);
	else if (job->conn != NULL)
		conn_fail(job->conn, status);
	if (status != 0)
		json_decref(result);
	job_free(job);
}

static void op_retention(struct ctl_conn *c)
{
	struct ctl_job *job = job_attached(c, SD_CONTROL_RETENTION);
	int r;

	if (job == NULL)
		return;
	if ((r = sd_retention_run(job->s, c->req.dry_run, retention_done, job)) < 0) {
		job_free(job);
		conn_fail(c, r);
	}
}

/* --- backup (docs/STORE.md, "Backup and restore") ---------------------------------------- */

/* {"op":"backup"} or {"op":"backup_status"}, and nothing else: 1 and 2; 0 for any other
 * request, which goes to sd_control_parse_request. */
static int backup_op_of(const uint8_t *line, size_t len)
{
	json_t *o = json_loadb((const char *)line, len, JSON_REJECT_DUPLICATES, NULL);
	const char *op = json_string_value(json_object_get(o, "op"));
	int which = 0;

	if (o != NULL && json_object_size(o) == 1 && op != NULL)
		which = strcmp(op, "backup") == 0 ? 1 : strcmp(op, "backup_status") == 0 ? 2 : 0;
	json_decref(o);
	return which;
}

static void *backup_main(void *arg)
{
	struct ctl_job *job = arg;

	job->status = sd_store_backup_ctl(sd_server_store(job->s), job->backup_kind, job->backup_fd, &job->backup);
	if (job->status < 0)
		snprintf(job->report.problem, sizeof(job->report.problem), "%s", sd_error_detail());
	event_active(job->finished, EV_TIMEOUT, 1);
	return NULL;
}

static const char *const backup_states[] = {"none", "running", "done", "failed"};

/* The copy is complete and fsync'd: NAME.tmp becomes NAME, the directory synced. */
static int backup_publish(sd_control_t *ctl)
{
	char dir[PATH_MAX];
	int fd, r = 0;

	if (ctl->backup_tmp[0] == '\0')
		return 0;
	if (rename(ctl->backup_tmp, ctl->backup_file) != 0)
		r = sd_error(SD_ERR_IO, "backup: cannot rename the copy: %s", strerror(errno));
	else if (sd_server_path(ctl->s, SD_CONTROL_BACKUP_DIR, dir, sizeof(dir)) == 0 &&
	         (fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	ctl->backup_tmp[0] = '\0';
	return r;
}

static void backup_answer(struct ctl_job *job, struct ctl_conn *c)
{
	sd_control_t *ctl = job->ctl;
	const sd_storewire_ctl_reply_t *b = &job->backup;
	int r = job->status;

	if (r == 0 && b->state == SD_STOREWIRE_BACKUP_DONE)
		r = backup_publish(ctl);
	if (r == 0 && b->state == SD_STOREWIRE_BACKUP_FAILED) {
		if (ctl->backup_tmp[0] != '\0')
			(void)unlink(ctl->backup_tmp);
		ctl->backup_tmp[0] = '\0';
		r = b->status < 0 ? b->status : SD_ERR_IO;
		snprintf(job->report.problem, sizeof(job->report.problem), "the store process's copy failed (%s)",
		         sd_strerror(r));
	}
	if (c == NULL)
		return;
	if (r < 0) {
		conn_error(c, r, "%s",
		           r == job->status || b->state == SD_STOREWIRE_BACKUP_FAILED ? job->report.problem
		                                                                      : sd_error_detail());
		return;
	}
	conn_reply(c,
	           json_pack("{s:b, s:s, s:I, s:I, s:s}", "ok", 1, "state", backup_states[b->state], "log_size",
	                     (json_int_t)b->log_size, "bytes", (json_int_t)b->bytes, "file",
	                     b->state == SD_STOREWIRE_BACKUP_DONE ? ctl->backup_name : ""),
	           NULL);
}

static void backup_finished(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_job *job = arg;
	sd_control_t *ctl = job->ctl;

	(void)fd;
	(void)what;
	pthread_join(job->thread, NULL);
	check_unlist(ctl, job);
	if (job->backup_kind == SD_STOREWIRE_CTL_BACKUP_START)
		ctl->backup_starting = false;
	if (job->backup_kind == SD_STOREWIRE_CTL_BACKUP_START && job->status == 0 && job->backup.status == 0) {
		/* running: NAME.tmp is renamed NAME once a status request finds the copy done */
		snprintf(ctl->backup_tmp, sizeof(ctl->backup_tmp), "%.*s.tmp", PATH_MAX - 8, ctl->backup_file);
	} else if (job->backup_kind == SD_STOREWIRE_CTL_BACKUP_START) {
		char tmp[PATH_MAX + 8];
		snprintf(tmp, sizeof(tmp), "%s.tmp", ctl->backup_file);
		(void)unlink(tmp);
		if (job->status == 0)
			job->status = job->backup.status;
		snprintf(job->report.problem, sizeof(job->report.problem), "%s",
		         job->status == SD_ERR_REFUSED ? "a backup is running already" : sd_strerror(job->status));
	}
	backup_answer(job, job->conn);
	job_free(job);
}

/* A new file in DIR/backup (which `sealdropd backup` made) for the store process to fill. */
static int backup_open(sd_control_t *ctl, int *fd)
{
	char name[BACKUP_NAME_MAX], rel[PATH_MAX], tmp[PATH_MAX + 8];
	time_t now = time(NULL);
	struct tm tm;
	int r;

	gmtime_r(&now, &tm);
	strftime(name, sizeof(name), "sealdropd-backup-%Y%m%dT%H%M%SZ.mdb", &tm);
	snprintf(rel, sizeof(rel), "%s/%s", SD_CONTROL_BACKUP_DIR, name);
	if ((r = sd_server_path(ctl->s, rel, ctl->backup_file, sizeof(ctl->backup_file))) < 0)
		return r;
	snprintf(tmp, sizeof(tmp), "%s.tmp", ctl->backup_file);
	if ((*fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
		return sd_error(errno == EEXIST ? SD_ERR_REFUSED : SD_ERR_IO, "backup: cannot create %s/%s.tmp: %s",
		                SD_CONTROL_BACKUP_DIR, name, strerror(errno));
	snprintf(ctl->backup_name, sizeof(ctl->backup_name), "%s", name);
	return 0;
}

static void op_backup(struct ctl_conn *c, uint8_t kind)
{
	sd_control_t *ctl = c->ctl;
	struct ctl_job *job = job_new(c, SD_CONTROL_STATUS);
	int r;

	if (job == NULL || (job->finished = event_new(sd_server_base(ctl->s), -1, 0, backup_finished, job)) == NULL) {
		job_free(job);
		conn_error(c, SD_ERR_NOMEM, "out of memory");
		return;
	}
	job->backup_kind = kind;
	job->backup_fd = -1;
	if (kind == SD_STOREWIRE_CTL_BACKUP_START && (ctl->backup_starting || ctl->backup_tmp[0] != '\0')) {
		job_free(job);
		conn_error(c, SD_ERR_REFUSED, "a backup is running already");
		return;
	}
	if (kind == SD_STOREWIRE_CTL_BACKUP_START && (r = backup_open(ctl, &job->backup_fd)) < 0) {
		job_free(job);
		conn_fail(c, r);
		return;
	}
	ctl->backup_starting = kind == SD_STOREWIRE_CTL_BACKUP_START || ctl->backup_starting;
	if (pthread_create(&job->thread, NULL, backup_main, job) != 0) {
		if (kind == SD_STOREWIRE_CTL_BACKUP_START)
			ctl->backup_starting = false;
		job_free(job);
		conn_error(c, SD_ERR_INTERNAL, "cannot start the backup request's thread");
		return;
	}
	job->conn = c;
	c->job = job;
	job->ctl = ctl;
	job->next_check = ctl->checks;
	ctl->checks = job;
}

/* --- connections ---------------------------------------------------------------------- */

/* The request is the first len bytes of the input, followed by eol bytes of line end. */
static void conn_handle(struct ctl_conn *c, size_t len, size_t eol)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	const uint8_t *line = len > 0 ? evbuffer_pullup(in, (ev_ssize_t)len) : (const uint8_t *)"";
	int backup = line != NULL ? backup_op_of(line, len) : 0;
	int r = line == NULL ? SD_ERR_NOMEM : backup != 0 ? 0 : sd_control_parse_request(line, len, &c->req);

	evbuffer_drain(in, len + eol);
	c->state = CONN_RUNNING;
	bufferevent_disable(c->bev, EV_READ);
	if (r < 0) {
		conn_fail(c, r);
		return;
	}
	if (backup != 0) {
		op_backup(c, backup == 1 ? SD_STOREWIRE_CTL_BACKUP_START : SD_STOREWIRE_CTL_BACKUP_STATUS);
		return;
	}
	switch (c->req.op) {
	case SD_CONTROL_ENROLL:
		op_enroll(c);
		return;
	case SD_CONTROL_DISABLE:
		op_disable(c);
		return;
	case SD_CONTROL_RENEW:
		op_renew(c);
		return;
	case SD_CONTROL_REVOKE:
		op_revoke(c);
		return;
	case SD_CONTROL_DIRECTORY_INSTALL:
		op_directory_install(c);
		return;
	case SD_CONTROL_STATUS:
		op_status(c);
		return;
	case SD_CONTROL_PUBLISH:
		op_publish(c);
		return;
	case SD_CONTROL_AUDIT_CHECK:
		op_audit_check(c);
		return;
	case SD_CONTROL_RETENTION:
		op_retention(c);
		return;
	}
	conn_error(c, SD_ERR_INTERNAL, "unhandled operation");
}

static void conn_read(struct bufferevent *bev, void *arg)
{
	struct ctl_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr at, eol;
	size_t eol_len = 0;

	if (c->state != CONN_READING)
		return;
	/* Search only what arrived since the last call: a long line costs one pass. */
	if (evbuffer_ptr_set(in, &at, c->scanned, EVBUFFER_PTR_SET) != 0)
		return;
	eol = evbuffer_search_eol(in, &at, &eol_len, EVBUFFER_EOL_LF);
	if (eol.pos >= 0) {
		conn_handle(c, (size_t)eol.pos, eol_len);
		return;
	}
	c->scanned = evbuffer_get_length(in);
	if (c->scanned > SD_CONTROL_MAX_REQUEST) {
		c->state = CONN_RUNNING;
		conn_error(c, SD_ERR_TOOBIG, "a request is one line of at most %u bytes", SD_CONTROL_MAX_REQUEST);
	}
}

static void conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct ctl_conn *c = arg;
	size_t len = evbuffer_get_length(bufferevent_get_input(bev));

	/* A request that ends at the end of input instead of a newline is still one. */
	if ((what & BEV_EVENT_EOF) && c->state == CONN_READING && len > 0 && len <= SD_CONTROL_MAX_REQUEST) {
		conn_handle(c, len, 0);
		return;
	}
	conn_close(c);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int socklen, void *arg)
{
	sd_control_t *ctl = arg;
	struct timeval tv = {SD_CONTROL_TIMEOUT, 0};
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct ctl_conn *c = NULL;

	(void)sa;
	(void)socklen;
	if (ctl->n_conns >= CONTROL_MAX_CONNS || (c = calloc(1, sizeof(*c))) == NULL ||
	    (c->bev = bufferevent_socket_new(evconnlistener_get_base(l), fd, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		sd_log(SD_LOG_WARN, "control: an operator connection was turned away (%zu open)", ctl->n_conns);
		free(c);
		close(fd);
		return;
	}
	c->ctl = ctl;
	c->next = ctl->conns;
	if (ctl->conns != NULL)
		ctl->conns->prev = c;
	ctl->conns = c;
	ctl->n_conns++;
	bufferevent_setcb(c->bev, conn_read, NULL, conn_event, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, SD_CONTROL_MAX_REQUEST + 1);
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof(cred) ||
	    (cred.uid != 0 && cred.uid != ctl->owner)) {
		sd_log(SD_LOG_WARN, "control: refused a connection from uid %ld",
		       len == sizeof(cred) ? (long)cred.uid : -1L);
		c->state = CONN_RUNNING;
		conn_error(c, SD_ERR_REFUSED, "the control socket is only for root and the server's own user");
		return;
	}
	bufferevent_enable(c->bev, EV_READ);
}

int sd_control_start(sd_server_t *s, int fd, sd_control_t **out)
{
	sd_control_t *ctl;

	*out = NULL;
	if (s == NULL || fd < 0)
		return sd_error(SD_ERR_USAGE, "no server or socket for the control socket");
	if ((ctl = calloc(1, sizeof(*ctl))) == NULL) {
		close(fd);
		return sd_error(SD_ERR_NOMEM, "out of memory for the control socket");
	}
	ctl->s = s;
	ctl->owner = owner_uid != (uid_t)-1 ? owner_uid : geteuid();
	evutil_make_socket_nonblocking(fd);
	ctl->listener = evconnlistener_new(sd_server_base(s), on_accept, ctl,
	                                   LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (ctl->listener == NULL) {
		close(fd);
		free(ctl);
		return sd_error(SD_ERR_IO, "cannot serve the control socket");
	}
	*out = ctl;
	return 0;
}

/* Closes every connection; a store request still out completes on its own later (its
 * change is applied; nobody hears the answer). */
void sd_control_free_(sd_control_t *ctl)
{
	if (ctl == NULL)
		return;
	evconnlistener_free(ctl->listener);
	while (ctl->conns != NULL)
		conn_close(ctl->conns);
	/* A check reads the store, which closes next: wait for it. */
	while (ctl->checks != NULL) {
		struct ctl_job *job = ctl->checks;
		ctl->checks = job->next_check;
		pthread_join(job->thread, NULL);
		job_free(job);
	}
	free(ctl);
}
