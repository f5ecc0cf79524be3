/*
 * keyproc.c — the key process (include/sealdrop/keyproc.h): the one sealdropd process that
 * holds the log signing key, as OpenSMTPD's ca.c holds its TLS keys.
 *
 * Start at sd_keyproc_start: it forks; the child runs child_main (lock the key down, shed
 * every descriptor and privilege, sandbox, then serve) and never returns; the parent
 * waits for READY and wipes its copy of the key. The front end's half is below the child:
 * call() sends one typed request and checks the answer, under a mutex, for whichever
 * thread signs. The messages and their exact decoding are server/privsep.c.
 *
 * The key process signs what the signing functions of crypto/ accept and nothing else; it
 * cannot tell a true receipt from a false one, so a compromised front end still gets
 * well-formed documents signed (docs/DECISIONS.md). One thing it does check on its own:
 * tree heads never go back (a smaller size, or the same size with another root, after one
 * it signed), which keeps a compromised front end from getting a forked log signed while
 * this process lives.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "sealdrop/keyproc.h"
#include "sealdrop/log.h"
#include "sealdrop/privsep.h"
#include "sealdrop/sandbox.h"
#include "sealdrop/sealdrop.h"

#define CHILD_FD      3    /* the key process's socket, once it shed everything else */
#define CHILD_END_MS  5000 /* a key process that outlives its closed socket this long is killed */
#define EXIT_SETUP    1
#define EXIT_PROTOCOL 2
#define PROCESS_NAME  "sealdropd-keys"

struct sd_keyproc {
	int fd;
	pid_t pid;
	pthread_mutex_t lock;
	bool lost;   /* dead, out of protocol or silent: nothing more is sent */
	bool reaped; /* waitpid collected it */
	void (*on_lost)(void *ctx);
	void *ctx;
};

static void (*probe)(void);

void sd_keyproc_set_probe(void (*fn)(void))
{
	probe = fn;
}

/* --- The key process ----------------------------------------------------------------------- */

/* What the key process remembers: the last tree head it signed. */
struct child {
	const sd_seckey_t *key;
	bool has_head;
	uint64_t head_size;
	uint8_t head_root[SD_MERKLE_HASH_BYTES];
};

/* A head that goes back (smaller, or the same size with another root) is refused. */
static int head_check(struct child *c, const sd_loghead_t *h)
{
	if (c->has_head && (h->size < c->head_size ||
	                    (h->size == c->head_size && !sd_equal(h->root, c->head_root, sizeof(h->root))))) {
		sd_log(SD_LOG_ERROR,
		       "key process: refused to sign a tree head of size %llu after one of size %llu: the log "
		       "would fork",
		       (unsigned long long)h->size, (unsigned long long)c->head_size);
		return SD_ERR_ROLLBACK;
	}
	return 0;
}

static void head_signed(struct child *c, const sd_loghead_t *h)
{
	c->has_head = true;
	c->head_size = h->size;
	memcpy(c->head_root, h->root, sizeof(c->head_root));
}

/* One request decoded and signed into *json; SD_ERR_PROTOCOL when it does not decode,
 * any other error is the signing function's refusal. */
static int child_sign(struct child *c, uint32_t type, const uint8_t *p, size_t len, char **json)
{
	sd_receipt_t rc;
	sd_notice_t n;
	sd_loghead_t h;
	sd_export_receipt_t er;
	int r;

	switch (type) {
	case SD_PRIVSEP_SIGN_RECEIPT:
		return (r = sd_privsep_decode_receipt(p, len, &rc)) < 0 ? r : sd_receipt_sign(&rc, c->key, json);
	case SD_PRIVSEP_SIGN_NOTICE:
		if ((r = sd_privsep_decode_notice(p, len, &n)) < 0)
			return r;
		r = sd_notice_sign(&n, c->key, json);
		sd_notice_clear(&n);
		return r;
	case SD_PRIVSEP_SIGN_HEAD:
		if ((r = sd_privsep_decode_head(p, len, &h)) < 0)
			return r;
		if ((r = head_check(c, &h)) < 0 || (r = sd_loghead_sign(&h, c->key, json)) < 0)
			return r;
		head_signed(c, &h);
		return 0;
	case SD_PRIVSEP_SIGN_EXPORT:
		return (r = sd_privsep_decode_export(p, len, &er)) < 0 ? r : sd_export_receipt_sign(&er, c->key, json);
	default:
		return sd_error(SD_ERR_PROTOCOL, "key process message: type 0x%x is not a request", type);
	}
}

/* Answers one request: the signed document, or REFUSED with the code. */
static int child_answer(struct child *c, int fd, uint32_t type, const uint8_t *p, size_t len)
{
	uint8_t code[4];
	char *json = NULL;
	size_t n;
	int r = child_sign(c, type, p, len, &json);

	if (r == SD_ERR_PROTOCOL)
		return r;
	n = r == 0 ? strlen(json) : 0;
	if (r == 0 && (long)n > sd_privsep_max(sd_privsep_answer_type(type)))
		r = SD_ERR_TOOBIG;
	if (r == 0) {
		r = sd_privsep_send(fd, sd_privsep_answer_type(type), (const uint8_t *)json, n);
	} else {
		sd_privsep_encode_refused(r, code);
		r = sd_privsep_send(fd, SD_PRIVSEP_REFUSED, code, sizeof(code));
	}
	free(json);
	return r;
}

/* Serves until the front end closes its end (0) or breaks the protocol. */
static int child_serve(struct child *c, int fd)
{
	uint8_t *p;
	uint32_t type;
	size_t len;
	int r;

	for (;;) {
		if ((r = sd_privsep_recv(fd, &type, &p, &len)) == SD_ERR_UNAVAILABLE)
			return 0;
		if (r == 0)
			r = child_answer(c, fd, type, p, len);
		free(p);
		if (r < 0) {
			sd_log(SD_LOG_ERROR, "key process: %s; stopping", sd_error_detail());
			return r;
		}
	}
}

/* Signs one throwaway head with a throwaway key, before the filter: whatever the signing
 * path sets up on first use (jansson's hash seed reads /dev/urandom) is done by then. */
static int child_warm_up(void)
{
	sd_loghead_t h = {.version = SD_LOGHEAD_VERSION, .size = 1, .date = sd_date_today()};
	sd_seckey_t *k = NULL;
	char *json = NULL;
	int r;

	snprintf(h.deployment, sizeof(h.deployment), "%s", "warm-up");
	if ((r = sd_seckey_generate(SD_KEY_LOG, &k)) == 0)
		r = sd_loghead_sign(&h, k, &json);
	free(json);
	sd_seckey_free(k);
	return r;
}

/* Only the socket (as CHILD_FD) and the standard descriptors stay open. */
static int child_shed_fds(int fd)
{
	if (fd != CHILD_FD && dup2(fd, CHILD_FD) < 0)
		return sd_error(SD_ERR_INTERNAL, "dup2: %s", strerror(errno));
	/* The front end's end of the socket, the listener-to-be, the test clock's file: all
	 * above CHILD_FD (a socket below it sits in an unused standard slot). */
	if (close_range(CHILD_FD + 1, ~0U, 0) < 0)
		return sd_error(SD_ERR_INTERNAL, "close_range: %s", strerror(errno));
	return 0;
}

/* The key, copied into memory locked in this process: mlock does not survive a fork. */
static int child_lock_key(sd_seckey_t **key)
{
	sd_seckey_t *fresh = NULL;
	int r;

	if ((r = sd_seckey_from_secret((*key)->kind, (*key)->sk, &fresh)) < 0)
		return r;
	sd_seckey_free(*key);
	*key = fresh;
	return 0;
}

static int child_setup(int fd, sd_seckey_t **key, const sd_keyproc_opts_t *o)
{
	int r;

	sd_sandbox_set_name(PROCESS_NAME);
	/* The operator's ^C and systemd's SIGTERM reach the whole group; the key process
	 * outlives the front end's drain and ends when the front end closes the socket. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	if ((r = child_shed_fds(fd)) < 0 || (r = child_lock_key(key)) < 0)
		return r;
	if (o->drop && (r = sd_sandbox_become(o->dir, o->uid, o->gid)) < 0)
		return r;
	if ((r = sd_sandbox_harden()) < 0 || (r = child_warm_up()) < 0)
		return r;
	return sd_sandbox_enter_keyproc(CHILD_FD);
}

static void __attribute__((noreturn)) child_main(int fd, sd_seckey_t *key, const sd_keyproc_opts_t *o)
{
	struct child c = {0};
	int status = EXIT_SETUP;

	if (child_setup(fd, &key, o) < 0) {
		sd_log(SD_LOG_ERROR, "key process: cannot start: %s", sd_error_detail());
		goto out;
	}
	if (sd_privsep_send(CHILD_FD, SD_PRIVSEP_READY, NULL, 0) < 0)
		goto out;
	if (probe != NULL)
		probe();
	c.key = key;
	status = child_serve(&c, CHILD_FD) < 0 ? EXIT_PROTOCOL : 0;
out:
	sd_seckey_free(key);
	_exit(status);
}

/* --- The front end's side ------------------------------------------------------------------ */

/* Marks the key process lost, once, loudly; the caller holds kp->lock. */
static void lost_locked(sd_keyproc_t *kp, const char *why)
{
	if (kp->lost)
		return;
	kp->lost = true;
	sd_log(SD_LOG_ERROR, "key process died or broke the protocol (%s): nothing more can be signed; shutting down",
	       why);
	if (kp->on_lost != NULL)
		kp->on_lost(kp->ctx);
}

/* Waits for the child's READY, with the socket's timeout. */
static int await_ready(sd_keyproc_t *kp)
{
	uint8_t *p = NULL;
	uint32_t type;
	size_t len;
	int r, st;
	char why[96];

	if ((r = sd_privsep_recv(kp->fd, &type, &p, &len)) == 0 && type != SD_PRIVSEP_READY)
		r = sd_error(SD_ERR_PROTOCOL, "the key process answered type 0x%x, not READY", type);
	free(p);
	if (r == 0)
		return 0;
	if (waitpid(kp->pid, &st, 0) == kp->pid) {
		kp->reaped = true;
		sd_privsep_describe_status(st, why, sizeof(why));
		return sd_error(SD_ERR_INTERNAL, "the key process did not start (%s); its log line says why", why);
	}
	return sd_error(SD_ERR_INTERNAL, "the key process did not start: %s", sd_error_detail());
}

static int socket_pair(int sv[2])
{
	struct timeval tv = {.tv_sec = SD_KEYPROC_TIMEOUT, .tv_usec = 0};

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return sd_error(SD_ERR_INTERNAL, "socketpair: %s", strerror(errno));
	/* A key process that stops answering is as lost as a dead one. */
	if (setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
		close(sv[0]);
		close(sv[1]);
		return sd_error(SD_ERR_INTERNAL, "setsockopt: %s", strerror(errno));
	}
	return 0;
}

int sd_keyproc_start(sd_seckey_t **key, const sd_keyproc_opts_t *opts, sd_keyproc_t **out)
{
	sd_keyproc_t *kp = calloc(1, sizeof(*kp));
	int sv[2] = {-1, -1}, r = SD_ERR_NOMEM;

	*out = NULL;
	if (kp == NULL)
		goto out;
	kp->fd = kp->pid = -1;
	pthread_mutex_init(&kp->lock, NULL);
	if ((r = socket_pair(sv)) < 0)
		goto out;
	kp->fd = sv[0];
	if ((kp->pid = fork()) < 0) {
		r = sd_error(SD_ERR_INTERNAL, "fork: %s", strerror(errno));
		goto out;
	}
	if (kp->pid == 0)
		child_main(sv[1], *key, opts);
	close(sv[1]);
	sv[1] = -1;
	if ((r = await_ready(kp)) < 0)
		goto out;
	sd_log(SD_LOG_INFO, "key process %ld holds the log key; this process keeps only its public half",
	       (long)kp->pid);
	*out = kp;
	kp = NULL;
out:
	sd_seckey_free(*key);
	if (sv[1] >= 0)
		close(sv[1]);
	sd_keyproc_free(kp);
	return r;
}

/* One request, one answer; the lock keeps other threads' requests out in between. */
static int call_locked(sd_keyproc_t *kp, uint32_t type, const uint8_t *req, size_t req_len, char **json)
{
	uint8_t *p = NULL;
	uint32_t got = 0;
	size_t len;
	int r, code = 0;

	/* Any failure but a well-formed refusal leaves the stream out of step: lost. */
	if ((r = sd_privsep_send(kp->fd, type, req, req_len)) < 0 || (r = sd_privsep_recv(kp->fd, &got, &p, &len)) < 0)
		goto out;
	if (got == SD_PRIVSEP_REFUSED)
		r = sd_privsep_decode_refused(p, len, &code);
	else if (got != sd_privsep_answer_type(type))
		r = sd_error(SD_ERR_PROTOCOL, "the key process answered type 0x%x to a request of type 0x%x", got,
		             type);
	else
		r = sd_privsep_decode_json(got, p, len, json);
out:
	free(p);
	if (r < 0) {
		lost_locked(kp, sd_error_detail());
		return sd_error(SD_ERR_UNAVAILABLE, "the key process is gone: nothing can be signed");
	}
	if (got == SD_PRIVSEP_REFUSED)
		return sd_error(code, "the key process refused to sign it: %s", sd_strerror(code));
	return 0;
}

static int call(sd_keyproc_t *kp, uint32_t type, uint8_t *req, size_t req_len, int encoded, char **json)
{
	int r = encoded;

	*json = NULL;
	if (r == 0) {
		pthread_mutex_lock(&kp->lock);
		r = kp->lost ? sd_error(SD_ERR_UNAVAILABLE, "the key process is gone: nothing can be signed")
		             : call_locked(kp, type, req, req_len, json);
		pthread_mutex_unlock(&kp->lock);
	}
	free(req);
	return r;
}

int sd_keyproc_sign_receipt(sd_keyproc_t *kp, const sd_receipt_t *rc, char **json)
{
	uint8_t *req = NULL;
	size_t len = 0;
	int r = sd_privsep_encode_receipt(rc, &req, &len);

	return call(kp, SD_PRIVSEP_SIGN_RECEIPT, req, len, r, json);
}

int sd_keyproc_sign_notice(sd_keyproc_t *kp, const sd_notice_t *n, char **json)
{
	uint8_t *req = NULL;
	size_t len = 0;
	int r = sd_privsep_encode_notice(n, &req, &len);

	return call(kp, SD_PRIVSEP_SIGN_NOTICE, req, len, r, json);
}

int sd_keyproc_sign_head(sd_keyproc_t *kp, const sd_loghead_t *h, char **json)
{
	uint8_t *req = NULL;
	size_t len = 0;
	int r = sd_privsep_encode_head(h, &req, &len);

	return call(kp, SD_PRIVSEP_SIGN_HEAD, req, len, r, json);
}

int sd_keyproc_sign_export(sd_keyproc_t *kp, const sd_export_receipt_t *er, char **json)
{
	uint8_t *req = NULL;
	size_t len = 0;
	int r = sd_privsep_encode_export(er, &req, &len);

	return call(kp, SD_PRIVSEP_SIGN_EXPORT, req, len, r, json);
}

void sd_keyproc_on_lost(sd_keyproc_t *kp, void (*fn)(void *ctx), void *ctx)
{
	pthread_mutex_lock(&kp->lock);
	kp->on_lost = fn;
	kp->ctx = ctx;
	pthread_mutex_unlock(&kp->lock);
}

bool sd_keyproc_check(sd_keyproc_t *kp)
{
	char why[96];
	int st;

	if (kp->reaped || waitpid(kp->pid, &st, WNOHANG) != kp->pid)
		return kp->reaped;
	kp->reaped = true;
	sd_privsep_describe_status(st, why, sizeof(why));
	/* A request in flight holds the lock only until its answer fails or times out. */
	pthread_mutex_lock(&kp->lock);
	lost_locked(kp, why);
	pthread_mutex_unlock(&kp->lock);
	return true;
}

bool sd_keyproc_is_lost(sd_keyproc_t *kp)
{
	bool lost;

	pthread_mutex_lock(&kp->lock);
	lost = kp->lost;
	pthread_mutex_unlock(&kp->lock);
	return lost;
}

pid_t sd_keyproc_pid(const sd_keyproc_t *kp)
{
	return kp->pid;
}

int sd_keyproc_fd(const sd_keyproc_t *kp)
{
	return kp->fd;
}

void sd_keyproc_free_(sd_keyproc_t *kp)
{
	char why[96];
	int st;

	if (kp == NULL)
		return;
	if (kp->fd >= 0)
		close(kp->fd);
	/* The key process ends on the closed socket; a clean end is status 0. */
	if (kp->pid > 0 && !kp->reaped && sd_privsep_reap(kp->pid, &st, CHILD_END_MS) == 0 &&
	    !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
		sd_privsep_describe_status(st, why, sizeof(why));
		sd_log(SD_LOG_ERROR, "key process %s", why);
	}
	pthread_mutex_destroy(&kp->lock);
	free(kp);
}
