/*
 * control_call.c — the operator's side of the control socket (include/sealdrop/control.h):
 * sd_control_call() connects to DIR/control.sock, sends one request line and waits for
 * the one-line answer, all within a deadline; `sealdropd enroll`, `disable`, `directory
 * install` and `audit` use it. The server's side is server/control.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sealdrop/i18n.h"
#include "sealdrop/sealdrop.h"
#include "control_int.h"

/* --- the operator side ------------------------------------------------------------- */

static _Thread_local bool unreachable;

bool sd_control_was_unreachable(void)
{
	return unreachable;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is ready for `events`, or the deadline passes (SD_ERR_IO, unreachable). */
static int wait_fd(int fd, short events, int64_t deadline, const char *path)
{
	struct pollfd p = {.fd = fd, .events = events};
	int n;

	do {
		int64_t left = deadline - now_ms();
		if (left <= 0) {
			unreachable = true;
			return sd_error(SD_ERR_IO, "sealdropd at %s did not answer within %d seconds", path,
			                SD_CONTROL_TIMEOUT);
		}
		n = poll(&p, 1, (int)left);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return sd_error(SD_ERR_IO, "poll: %s", strerror(errno));
	return 0;
}

/* A server started a moment ago (`sealdropd run ... &` and the next command at once) may
 * not have bound its socket yet: a missing or refusing socket is retried this long. */
#define CONNECT_GRACE_MS 3000

/* A new socket connected to sa: retried (with a new socket each time, as POSIX leaves a
 * socket whose connect failed unspecified) while the path is missing or refuses, for up to
 * CONNECT_GRACE_MS. -1 with errno set otherwise. */
static int connect_patiently(const struct sockaddr_un *sa)
{
	struct timeval tv = {SD_CONTROL_TIMEOUT, 0};
	int64_t until = now_ms() + CONNECT_GRACE_MS;
	int fd, e;

	for (;;) {
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			return -1;
		/* A full backlog makes a Unix connect wait: bounded by the send timeout. */
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
			return fd;
		e = errno;
		close(fd);
		errno = e;
		if ((e != ENOENT && e != ECONNREFUSED) || now_ms() >= until)
			return -1;
		usleep(100 * 1000);
	}
}

static int call_connect(const struct sockaddr_un *sa, int *fd_out)
{
	int fd, e;

	if ((fd = connect_patiently(sa)) < 0) {
		e = errno;
		if (e == EACCES || e == EPERM)
			return sd_error(
			        SD_ERR_REFUSED,
			        "permission denied on %s: only root and the server's user may use it (connect: %s)",
			        sa->sun_path, strerror(e));
		unreachable = true;
		return sd_error(SD_ERR_IO, "cannot reach sealdropd at %s: is it running? (connect: %s)", sa->sun_path,
		                strerror(e));
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
		close(fd);
		return sd_error(SD_ERR_IO, "fcntl: %s", strerror(errno));
	}
	*fd_out = fd;
	return 0;
}

static int call_send(int fd, const char *text, size_t len, int64_t deadline, const char *path)
{
	size_t off = 0;
	int r;

	while (off < len) {
		ssize_t n = send(fd, text + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if ((r = wait_fd(fd, POLLOUT, deadline, path)) < 0)
				return r;
			continue;
		}
		if (n < 0) {
			unreachable = errno == EPIPE || errno == ECONNRESET;
			return sd_error(SD_ERR_IO, "sending to sealdropd at %s: %s", path, strerror(errno));
		}
		off += (size_t)n;
	}
	return 0;
}

/* Reads the answer line into secret memory (it may carry a private key). */
static int call_receive(int fd, int64_t deadline, const char *path, char **out, size_t *out_len)
{
	size_t cap = 64u << 10, len = 0;
	char *buf = sd_secret_alloc(cap), *bigger;
	int r = 0;

	while (buf != NULL && (len == 0 || buf[len - 1] != '\n')) {
		if (len == cap) {
			size_t next = 2 * cap > SD_CONTROL_MAX_REPLY + 1 ? SD_CONTROL_MAX_REPLY + 1 : 2 * cap;
			if (cap > SD_CONTROL_MAX_REPLY || (bigger = sd_secret_alloc(next)) == NULL) {
				r = sd_error(SD_ERR_TOOBIG, "sealdropd's answer is longer than %u bytes",
				             SD_CONTROL_MAX_REPLY);
				break;
			}
			memcpy(bigger, buf, len);
			sd_secret_free(buf);
			buf = bigger;
			cap = next;
		}
		ssize_t n = recv(fd, buf + len, cap - len, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if ((r = wait_fd(fd, POLLIN, deadline, path)) < 0)
				break;
			continue;
		}
		if (n <= 0) {
			unreachable = true;
			r = sd_error(SD_ERR_IO, "sealdropd at %s closed the connection without an answer", path);
			break;
		}
		len += (size_t)n;
	}
	if (buf == NULL)
		return sd_error(SD_ERR_NOMEM, "out of memory for sealdropd's answer");
	if (r < 0) {
		sd_secret_free(buf);
		return r;
	}
	*out = buf;
	*out_len = len - 1; /* without the newline */
	return 0;
}

/* 0 for {"ok": true, ...}; the error word's code, with the message as the detail. */
static int call_parse(const char *text, size_t len, json_t **reply)
{
	json_error_t jerr;
	json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr), *ok, *msg;

	if (!json_is_object(o) || !json_is_boolean(ok = json_object_get(o, "ok"))) {
		json_decref(o);
		return sd_error(SD_ERR_FORMAT, "sealdropd sent an answer that is not a control reply");
	}
	*reply = o;
	if (json_is_true(ok))
		return 0;
	/* The running server writes its messages in English (server/main.c); one without
	 * values (most refusals) is also this command's catalogue's, and reads translated. */
	msg = json_object_get(o, "message");
	return sd_error(
	        sd_control_error_code(json_string_value(json_object_get(o, "error"))), "%s",
	        sd_gettext(json_is_string(msg) ? json_string_value(msg) : SD_N_("sealdropd refused the request")));
}

int sd_control_call(const char *dir, json_t *request, json_t **reply)
{
	struct sockaddr_un sa;
	const char *path;
	int64_t deadline = now_ms() + SD_CONTROL_TIMEOUT * 1000;
	char *text = NULL, *answer = NULL;
	size_t len = 0;
	int fd = -1, r;

	*reply = NULL;
	unreachable = false;
	if (request == NULL)
		return sd_error(SD_ERR_USAGE, "no request for sealdropd");
	if ((r = sd_control_socket_path(dir, &sa, &path)) < 0 || (r = call_connect(&sa, &fd)) < 0)
		return r;
	if ((text = json_dumps(request, JSON_COMPACT)) == NULL) {
		r = sd_error(SD_ERR_NOMEM, "out of memory for the request");
		goto out;
	}
	if ((r = call_send(fd, text, strlen(text), deadline, path)) < 0 ||
	    (r = call_send(fd, "\n", 1, deadline, path)) < 0 ||
	    (r = call_receive(fd, deadline, path, &answer, &len)) < 0)
		goto out;
	r = call_parse(answer, len, reply);
out:
	if (answer != NULL)
		sd_secret_free(answer);
	free(text);
	close(fd);
	return r;
}
