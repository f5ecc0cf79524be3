/*
 * storeproc.c — the store process (include/sealdrop/storeproc.h): the one sealdropd process
 * that holds the LMDB environment, as OpenSMTPD's queue process holds its queue.
 *
 * Start at sd_storeproc_start: it forks; the child runs child_main (shed every descriptor
 * and privilege, open the store, sandbox, then serve) and never returns; the parent waits
 * for READY (or STORE_FAILED, with sd_store_open's error) and keeps a remote sd_store_t
 * (server/store_remote.c). sd_storeproc_serve is the child's loop: each request is decoded
 * exactly (server/store_wire.c), checked against the policy, and queued on the ordinary
 * store; the store's reply thread writes each answer back in order (reply_done).
 *
 * The policy limits what a compromised front end can write: not the audit log's databases
 * except through LOG-APPEND of a well-formed leaf, no deletes where the server never
 * deletes, no overwrites where it writes once. It cannot tell a true event from a false one:
 * the front end still decides what happened (docs/DECISIONS.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "sealdrop/audit.h"
#include "sealdrop/date.h"
#include "sealdrop/log.h"
#include "sealdrop/privsep.h"
#include "sealdrop/sandbox.h"
#include "sealdrop/storeproc.h"
#include "sealdrop/storewire.h"
#include "store_int.h"

#define CHILD_FD      3     /* the store process's socket, once it shed everything else */
#define CHILD_END_MS  30000 /* after the socket closes: the last batch commits, then it is killed */
#define EXIT_SETUP    1
#define EXIT_PROTOCOL 2
#define START_TIMEOUT 120 /* seconds for the store to open (a large store's first open) */

struct sd_storeproc {
	pid_t pid;
	bool reaped;
	int status; /* as sd_storeproc_wait returns it, once reaped */
	pthread_mutex_t mu;
};

static void (*probe)(void);

void sd_storeproc_set_probe(void (*fn)(void))
{
	probe = fn;
}

/* --- The store process: its loop ------------------------------------------------------------- */

struct serve {
	int fd;
	bool broken; /* the reply thread's: a reply could not be written */
};

/* On the store's reply thread: the answer, in order; then the request is done with. */
static void reply_done(sd_store_req_t *req, void *ctx)
{
	struct serve *sv = ctx;
	uint8_t *msg = NULL;
	size_t len = 0;
	int r;

	if (!sv->broken && ((r = sd_storewire_encode_reply(req, req->seq, &msg, &len)) < 0 ||
	                    (r = sd_privsep_send(sv->fd, SD_PRIVSEP_STORE_REPLY, msg, len)) < 0)) {
		sv->broken = true;
		sd_log(SD_LOG_ERROR, "store process: cannot answer the front end: %s", sd_error_detail());
	}
	free(msg);
	sd_store_req_free(req);
}

/* The next request, decoded and numbered in order; SD_ERR_UNAVAILABLE at a clean end. */
static int next_request(int fd, uint64_t expect, sd_store_req_t **req)
{
	uint8_t *p = NULL;
	uint32_t type;
	size_t len;
	uint64_t seq = 0;
	int r = sd_privsep_recv(fd, &type, &p, &len);

	*req = NULL;
	if (r == 0 && type != SD_PRIVSEP_STORE_REQUEST)
		r = sd_error(SD_ERR_PROTOCOL, "store message: type 0x%x is not a request", type);
	if (r == 0)
		r = sd_storewire_decode_req(p, len, &seq, req);
	free(p);
	if (r == 0 && seq != expect) {
		sd_store_req_free(*req);
		r = sd_error(SD_ERR_PROTOCOL, "store message: request %llu, where %llu was next",
		             (unsigned long long)seq, (unsigned long long)expect);
	}
	if (r == 0)
		(*req)->seq = seq;
	return r;
}

int sd_storeproc_serve(int fd, sd_store_t *store)
{
	struct serve sv = {.fd = fd};
	sd_store_req_t *req;
	uint64_t seq = 1;
	int r;

	for (;; seq++) {
		if ((r = next_request(fd, seq, &req)) == SD_ERR_UNAVAILABLE) {
			r = 0;
			break;
		}
		if (r < 0)
			break;
		if (sd_storewire_policy_check(req) < 0)
			sd_log(SD_LOG_WARN, "%s", req->refusal);
		if ((r = sd_store_submit(store, req, reply_done, &sv)) < 0) {
			/* The front end keeps no more outstanding than the queue holds. */
			sd_store_req_free(req);
			r = sd_error(SD_ERR_PROTOCOL, "a request the store cannot queue: %s", sd_error_detail());
			break;
		}
	}
	if (r < 0)
		sd_log(SD_LOG_ERROR, "store process: %s; stopping", sd_error_detail());
	sd_store_close(store); /* answers everything queued */
	return r;
}

/* --- The store process: setting up ----------------------------------------------------------- */

/* Whatever the leaf check (jansson's hash seed reads /dev/urandom) sets up on first use is
 * done before the filter. */
static int child_warm_up(void)
{
	sd_audit_event_t ev = {.type = SD_AUDIT_FILING, .date = sd_date_today()};
	uint8_t *leaf = NULL;
	size_t len = 0;
	int r;

	snprintf(ev.role, sizeof(ev.role), "%s", "server");
	if ((r = sd_audit_leaf_encode(&ev, &leaf, &len)) == 0)
		r = sd_audit_leaf_parse(leaf, len, &ev);
	free(leaf);
	return r;
}

/* Only the socket (as CHILD_FD) and the standard descriptors stay open — and, when a
 * test runs the server under an LD_PRELOAD shim (tests/preload/), the descriptors from
 * PRELOAD_FD_MIN up, where the shims park theirs (powercut's journal, faultfs's trigger
 * directories): the shims sit under the store, so the store process must keep them. */
#define PRELOAD_FD_MIN 900

static int child_shed_fds(int fd)
{
	unsigned last = getenv("LD_PRELOAD") != NULL ? PRELOAD_FD_MIN - 1 : ~0U;

	if (fd != CHILD_FD && dup2(fd, CHILD_FD) < 0)
		return sd_error(SD_ERR_INTERNAL, "dup2: %s", strerror(errno));
	if (close_range(CHILD_FD + 1, last, 0) < 0)
		return sd_error(SD_ERR_INTERNAL, "close_range: %s", strerror(errno));
	return 0;
}

static int child_setup(int fd, const sd_storeproc_opts_t *o, sd_store_t **store, int *sock)
{
	int r;

	sd_sandbox_set_name(SD_STOREPROC_NAME);
	/* Like the key process: the group's ^C and SIGTERM are the front end's to act on; this
	 * process ends when the front end closes the socket. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	if ((r = child_shed_fds(fd)) < 0)
		return r;
	*sock = CHILD_FD;
	if (o->drop && (r = sd_sandbox_become(o->dir, o->uid, o->gid)) < 0)
		return r;
	if ((r = sd_sandbox_harden()) < 0 || (r = sd_store_open(o->drop ? "/" : o->dir, &o->store, store)) < 0 ||
	    (r = child_warm_up()) < 0)
		return r;
	return sd_sandbox_enter_storeproc(*sock);
}

static void __attribute__((noreturn)) child_main(int fd, const sd_storeproc_opts_t *o)
{
	sd_store_t *store = NULL;
	uint8_t *msg = NULL;
	size_t len = 0;
	int r, sock = fd, status = EXIT_SETUP;

	if ((r = child_setup(fd, o, &store, &sock)) < 0) {
		if (sd_privsep_encode_failure(r, sd_error_detail(), &msg, &len) == 0 &&
		    sd_privsep_send(sock, SD_PRIVSEP_STORE_FAILED, msg, len) < 0)
			sd_log(SD_LOG_ERROR, "store process: cannot start, nor tell the front end why");
		free(msg);
		sd_store_close(store);
		_exit(status);
	}
	if (sd_privsep_send(sock, SD_PRIVSEP_READY, NULL, 0) < 0) {
		sd_store_close(store);
		_exit(status);
	}
	if (probe != NULL)
		probe();
	status = sd_storeproc_serve(sock, store) < 0 ? EXIT_PROTOCOL : 0;
	_exit(status);
}

/* --- The front end's side -------------------------------------------------------------------- */

/* "exited with status N" or "killed by signal N (NAME)". */
static void describe_status(int st, char *out, size_t cap)
{
	if (WIFSIGNALED(st))
		snprintf(out, cap, "killed by signal %d (SIG%s)%s", WTERMSIG(st), sigabbrev_np(WTERMSIG(st)),
		         WTERMSIG(st) == SIGSYS ? ": a system call outside its allow-list" : "");
	else
		snprintf(out, cap, "exited with status %d", WEXITSTATUS(st));
}

/* With sp->mu held: records a reaped status; the loud line unless it was a clean 0. */
static void reaped_locked(sd_storeproc_t *sp, int st)
{
	char why[96];

	sp->reaped = true;
	sp->status = WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
	if (sp->status == 0)
		return;
	describe_status(st, why, sizeof(why));
	sd_log(SD_LOG_ERROR, "store process died (%s)", why);
}

/* READY, or the child's STORE_FAILED as this process's error. */
static int await_ready(sd_storeproc_t *sp, int fd)
{
	char text[SD_PRIVSEP_FAILURE_TEXT_MAX + 1];
	uint8_t *p = NULL;
	uint32_t type = 0;
	size_t len;
	int r, code = 0, st;

	r = sd_privsep_recv(fd, &type, &p, &len);
	if (r == 0 && type == SD_PRIVSEP_STORE_FAILED && (r = sd_privsep_decode_failure(p, len, &code, text)) == 0)
		r = sd_error(code, "%s", text);
	else if (r == 0 && type != SD_PRIVSEP_READY)
		r = sd_error(SD_ERR_PROTOCOL, "the store process answered type 0x%x, not READY", type);
	else if (r < 0)
		r = sd_error(SD_ERR_INTERNAL, "the store process did not start: %s", sd_error_detail());
	free(p);
	if (r < 0 && waitpid(sp->pid, &st, 0) == sp->pid) {
		snprintf(text, sizeof(text), "%s", sd_error_detail());
		pthread_mutex_lock(&sp->mu);
		sp->reaped = true;
		sp->status = WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
		pthread_mutex_unlock(&sp->mu);
		r = sd_error(r, "%s", text);
	}
	return r;
}

static int start_fork(sd_storeproc_t *sp, const sd_storeproc_opts_t *opts, int sv[2])
{
	struct timeval tv = {.tv_sec = START_TIMEOUT, .tv_usec = 0};

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return sd_error(SD_ERR_INTERNAL, "socketpair: %s", strerror(errno));
	(void)setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if ((sp->pid = fork()) < 0)
		return sd_error(SD_ERR_INTERNAL, "fork: %s", strerror(errno));
	if (sp->pid == 0)
		child_main(sv[1], opts);
	close(sv[1]);
	sv[1] = -1;
	return 0;
}

int sd_storeproc_start(const sd_storeproc_opts_t *opts, sd_storeproc_t **out, sd_store_t **store)
{
	sd_storeproc_t *sp = calloc(1, sizeof(*sp));
	struct timeval none = {0, 0};
	int sv[2] = {-1, -1}, r = SD_ERR_NOMEM;

	*out = NULL;
	*store = NULL;
	if (sp == NULL)
		return r;
	sp->pid = -1;
	pthread_mutex_init(&sp->mu, NULL);
	if ((r = start_fork(sp, opts, sv)) < 0 || (r = await_ready(sp, sv[0])) < 0)
		goto out;
	(void)setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none)); /* the reader waits as long as it must */
	r = sd_store_open_remote(sv[0], &opts->store, store);
	sv[0] = -1;
	if (r < 0)
		goto out;
	sd_log(SD_LOG_INFO, "store process %ld holds the store; this process has no LMDB handle", (long)sp->pid);
	*out = sp;
	sp = NULL;
out:
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	sd_storeproc_free(sp);
	return r;
}

bool sd_storeproc_check(sd_storeproc_t *sp)
{
	int st;
	bool gone;

	pthread_mutex_lock(&sp->mu);
	if (!sp->reaped && sp->pid > 0 && waitpid(sp->pid, &st, WNOHANG) == sp->pid)
		reaped_locked(sp, st);
	gone = sp->reaped;
	pthread_mutex_unlock(&sp->mu);
	return gone;
}

int sd_storeproc_wait(sd_storeproc_t *sp, int ms)
{
	struct timespec tick = {0, 10 * 1000 * 1000};
	int status;

	for (int waited = 0; !sd_storeproc_check(sp) && waited < ms; waited += 10)
		nanosleep(&tick, NULL);
	pthread_mutex_lock(&sp->mu);
	status = sp->reaped ? sp->status : -1;
	pthread_mutex_unlock(&sp->mu);
	return status;
}

pid_t sd_storeproc_pid(const sd_storeproc_t *sp)
{
	return sp->pid;
}

void sd_storeproc_free_(sd_storeproc_t *sp)
{
	int st;

	if (sp == NULL)
		return;
	pthread_mutex_lock(&sp->mu);
	if (sp->pid > 0 && !sp->reaped && sd_privsep_reap(sp->pid, &st, CHILD_END_MS) == 0)
		reaped_locked(sp, st);
	pthread_mutex_unlock(&sp->mu);
	pthread_mutex_destroy(&sp->mu);
	free(sp);
}
