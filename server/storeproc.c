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
#include "sealdrop/bytes.h"
#include "sealdrop/date.h"
#include "sealdrop/log.h"
#include "sealdrop/privsep.h"
#include "sealdrop/sandbox.h"
#include "sealdrop/storeproc.h"
#include "sealdrop/storewire.h"
#include "store_int.h"
#include "backup.h"
#include "store_stats.h"

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

/* A backup: one at a time, copied on a thread of its own (backup_main) while the store
 * thread writes on. Guarded by mu; the reply thread starts and joins the thread. */
struct backup {
	pthread_mutex_t mu;
	sd_storewire_backup_state_t state;
	int status;
	uint64_t log_size, bytes;
	pthread_t thread;
	bool joinable;
	bool closing; /* the store is closing: no backup starts */
	sd_store_t *store;
};

struct serve {
	int fd;
	bool broken;            /* the reply thread's: a reply could not be written */
	sd_privsep_batch_t out; /* the reply thread's: a batch's replies, written together */
	struct backup backup;
};

/* A control request waiting for its turn in the store's queue (ctl_done). */
struct ctl {
	struct serve *sv;
	uint8_t kind;
	int fd;          /* BACKUP-START: the file, or -1 */
	sd_date_t today; /* STATS: the front end's date */
};

/* On the store's reply thread: an answer could not be made or written. The front end is
 * told nothing more (it sees the process end); what the batch held is dropped. */
static void answer_broken(struct serve *sv)
{
	sv->broken = true;
	sd_privsep_batch_drop(&sv->out);
	sd_log(SD_LOG_ERROR, "store process: cannot answer the front end: %s", sd_error_detail());
}

/* On the store's reply thread: an answer (msg, malloc'd, taken) joins the batch's, which
 * are written together after the batch's last (one write, one wake-up of the front end's
 * reader, where each answer used to take two of each). */
static void answer(struct serve *sv, uint8_t *msg, size_t len, bool last)
{
	int r;

	if (sv->broken) {
		free(msg);
		return;
	}
	if ((r = sd_privsep_batch_add(&sv->out, sv->fd, SD_PRIVSEP_STORE_REPLY, msg, len)) == 0 && last)
		r = sd_privsep_batch_flush(&sv->out, sv->fd);
	if (r < 0)
		answer_broken(sv);
}

/* A control answer, built on the stack: copied for the batch. */
static void answer_copy(struct serve *sv, const uint8_t *msg, size_t len, bool last)
{
	uint8_t *copy = malloc(len);

	if (copy == NULL) {
		(void)sd_error(SD_ERR_NOMEM, "out of memory for an answer");
		answer_broken(sv);
		return;
	}
	memcpy(copy, msg, len);
	answer(sv, copy, len, last);
}

/* On the store's reply thread: the answer, in order; then the request is done with. */
static void reply_done(sd_store_req_t *req, void *ctx)
{
	struct serve *sv = ctx;
	uint8_t *msg = NULL;
	size_t len = 0;

	if (!sv->broken && sd_storewire_encode_reply(req, req->seq, &msg, &len) < 0)
		answer_broken(sv);
	answer(sv, msg, len, req->batch_last);
	sd_store_req_free(req);
}

/* --- The store process: backups ------------------------------------------------------------ */

static void *backup_main(void *arg)
{
	struct backup *b = arg;
	off_t end;
	int r = sd_store_copy_fd(b->store, SD_STOREPROC_BACKUP_FD);

	if (r == 0 && fsync(SD_STOREPROC_BACKUP_FD) != 0)
		r = sd_error(SD_ERR_IO, "fsync of the backup: %s", strerror(errno));
	end = lseek(SD_STOREPROC_BACKUP_FD, 0, SEEK_END);
	close(SD_STOREPROC_BACKUP_FD);
	if (r < 0)
		sd_log(SD_LOG_ERROR, "store process: the backup failed: %s", sd_error_detail());
	pthread_mutex_lock(&b->mu);
	b->status = r;
	b->bytes = end > 0 ? (uint64_t)end : 0;
	b->state = r == 0 ? SD_STOREWIRE_BACKUP_DONE : SD_STOREWIRE_BACKUP_FAILED;
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

/* BACKUP-START on the reply thread, in the request's turn: one backup at a time. */
static int backup_start(struct backup *b, int fd, uint64_t log_size)
{
	sigset_t all, old;
	int rc;

	if (b->state == SD_STOREWIRE_BACKUP_RUNNING)
		return sd_error(SD_ERR_REFUSED, "a backup is running");
	if (b->closing)
		return sd_error(SD_ERR_UNAVAILABLE, "the store is closing");
	if (b->joinable) {
		pthread_join(b->thread, NULL);
		b->joinable = false;
	}
	if (fd < 0 || dup3(fd, SD_STOREPROC_BACKUP_FD, O_CLOEXEC) < 0)
		return sd_error(SD_ERR_IO, "the backup's file did not arrive: %s", strerror(errno));
	b->state = SD_STOREWIRE_BACKUP_RUNNING;
	b->status = 0;
	b->log_size = log_size;
	b->bytes = 0;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&b->thread, NULL, backup_main, b);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		close(SD_STOREPROC_BACKUP_FD);
		b->state = SD_STOREWIRE_BACKUP_FAILED;
		return b->status = sd_error(SD_ERR_NOMEM, "cannot start the backup's thread");
	}
	b->joinable = true;
	return 0;
}

/* STATS, in its turn on the reply thread: the counters and the published commit
 * histograms (server/store_stats.h), rolled to the front end's date when it is later. */
static void stats_answer(struct ctl *c, uint64_t seq, bool last)
{
	sd_store_stats_t st;
	uint8_t msg[SD_STOREWIRE_STATS_REPLY_BYTES];

	if (sd_store_stats_fetch(c->sv->backup.store, c->today, &st) < 0)
		memset(&st, 0, sizeof(st)); /* a local store always answers */
	sd_storewire_encode_stats_reply(seq, &st, msg);
	answer_copy(c->sv, msg, sizeof(msg), last);
}

/* The control request's turn came (its read of meta log_size is done): it runs, and is
 * answered here, on the reply thread, in order with every other answer. */
static void ctl_done(sd_store_req_t *req, void *ctx)
{
	struct ctl *c = ctx;
	struct backup *b = &c->sv->backup;
	sd_storewire_ctl_reply_t rep = {0};
	uint8_t msg[SD_STOREWIRE_CTL_REPLY_BYTES];
	const uint8_t *v = NULL;
	size_t vlen = 0;
	uint64_t size = 0;

	if (c->kind == SD_STOREWIRE_CTL_STATS) {
		stats_answer(c, req->seq, req->batch_last);
		free(c);
		sd_store_req_free(req);
		return;
	}
	if (sd_store_req_status(req) == 0 && sd_store_req_found(req, 0) && sd_store_req_value(req, 0, &v, &vlen) == 0 &&
	    vlen == 8)
		size = sd_load_le64(v);
	pthread_mutex_lock(&b->mu);
	if (c->kind == SD_STOREWIRE_CTL_BACKUP_START)
		rep.status = backup_start(b, c->fd, size);
	else
		rep.status = b->state == SD_STOREWIRE_BACKUP_FAILED ? b->status : 0;
	rep.state = b->state;
	rep.log_size = b->log_size;
	rep.bytes = b->bytes;
	pthread_mutex_unlock(&b->mu);
	if (c->fd >= 0)
		close(c->fd);
	sd_storewire_encode_ctl_reply(req->seq, &rep, msg);
	answer_copy(c->sv, msg, sizeof(msg), req->batch_last);
	free(c);
	sd_store_req_free(req);
}

/* A control request becomes a read of meta log_size queued like any request, so that it
 * is answered in its turn (ctl_done). */
static int ctl_request(struct serve *sv, uint64_t seq, uint8_t kind, int *fd, sd_date_t today, sd_store_req_t **req)
{
	struct ctl *c = calloc(1, sizeof(*c));

	if (c == NULL || (*req = sd_store_req_new()) == NULL) {
		free(c);
		return SD_ERR_NOMEM;
	}
	*c = (struct ctl){
	        .sv = sv, .kind = kind, .fd = kind == SD_STOREWIRE_CTL_BACKUP_START ? *fd : -1, .today = today};
	if (kind == SD_STOREWIRE_CTL_BACKUP_START)
		*fd = -1;
	(void)sd_store_req_get(*req, SD_STORE_DB_META, (const uint8_t *)SD_STORE_LOG_SIZE_KEY,
	                       strlen(SD_STORE_LOG_SIZE_KEY));
	(*req)->seq = seq;
	(*req)->done = ctl_done;
	(*req)->ctx = c;
	return 0;
}

/* One message, as sd_privsep_recv reads it, and the descriptor that came with it (-1). */
static int recv_with_fd(int fd, uint32_t *type, uint8_t **p, size_t *len, int *passed)
{
	uint8_t head[SD_PRIVSEP_HEADER_BYTES];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = head, .iov_len = sizeof(head)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
	ssize_t n;
	size_t got = 0;
	long max;
	int r;

	*p = NULL;
	*passed = -1;
	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return SD_ERR_UNAVAILABLE;
	if (n < 0)
		return sd_error(SD_ERR_IO, "store message: %s", strerror(errno));
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(passed, CMSG_DATA(cm), sizeof(int));
	if ((size_t)n < sizeof(head) && (r = sd_privsep_read_full(fd, head + n, sizeof(head) - (size_t)n, &got)) < 0)
		return r == SD_ERR_UNAVAILABLE ? SD_ERR_IO : r;
	*type = sd_load_le32(head);
	*len = sd_load_le32(head + 4);
	if ((max = sd_privsep_max(*type)) < 0 || *len > (size_t)max)
		return sd_error(SD_ERR_PROTOCOL, "store message: type 0x%x of %zu bytes", *type, *len);
	if (*len == 0)
		return 0;
	if ((*p = malloc(*len)) == NULL)
		return SD_ERR_NOMEM;
	if ((r = sd_privsep_read_full(fd, *p, *len, &got)) < 0)
		return r == SD_ERR_UNAVAILABLE ? SD_ERR_IO : r;
	return 0;
}

/* A STATS request's date (the front end's today); nothing for the other control requests. */
static int ctl_date(const uint8_t *p, size_t len, uint8_t kind, sd_date_t *today)
{
	uint64_t seq;

	return kind == SD_STOREWIRE_CTL_STATS ? sd_storewire_decode_stats_req(p, len, &seq, today) : 0;
}

/* The next request, decoded and numbered in order; SD_ERR_UNAVAILABLE at a clean end. A
 * control request (a backup's) comes back as a request too, answered by ctl_done. */
static int next_request(struct serve *sv, uint64_t expect, sd_store_req_t **req)
{
	uint8_t *p = NULL;
	uint32_t type = 0;
	size_t len = 0;
	uint64_t seq = 0;
	uint8_t kind = 0;
	sd_date_t today = {0, 0, 0};
	int passed = -1, r = recv_with_fd(sv->fd, &type, &p, &len, &passed);

	*req = NULL;
	if (r == 0 && type != SD_PRIVSEP_STORE_REQUEST)
		r = sd_error(SD_ERR_PROTOCOL, "store message: type 0x%x is not a request", type);
	if (r == 0 && (r = sd_storewire_decode_ctl_req(p, len, &seq, &kind)) == 0 &&
	    (passed >= 0) != (kind == SD_STOREWIRE_CTL_BACKUP_START))
		r = sd_error(SD_ERR_PROTOCOL, "store message: a descriptor with the wrong request");
	else if (r == 0 && (r = ctl_date(p, len, kind, &today)) == 0)
		r = ctl_request(sv, seq, kind, &passed, today, req);
	else if (r == 1 && passed >= 0)
		r = sd_error(SD_ERR_PROTOCOL, "store message: a descriptor with a data request");
	else if (r == 1)
		r = sd_storewire_decode_req(p, len, &seq, req);
	if (passed >= 0)
		close(passed);
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
	struct serve sv = {.fd = fd, .backup = {.store = store}};
	sd_store_req_t *req;
	uint64_t seq = 1;
	int r;

	pthread_mutex_init(&sv.backup.mu, NULL);
	for (;; seq++) {
		if ((r = next_request(&sv, seq, &req)) == SD_ERR_UNAVAILABLE) {
			r = 0;
			break;
		}
		if (r < 0)
			break;
		if (sd_storewire_policy_check(req) < 0)
			sd_log(SD_LOG_WARN, "%s", req->refusal);
		if ((r = req->done == ctl_done ? sd_store_submit(store, req, ctl_done, req->ctx)
		                               : sd_store_submit(store, req, reply_done, &sv)) < 0) {
			/* The front end keeps no more outstanding than the queue holds. */
			sd_store_req_free(req);
			r = sd_error(SD_ERR_PROTOCOL, "a request the store cannot queue: %s", sd_error_detail());
			break;
		}
	}
	if (r < 0)
		sd_log(SD_LOG_ERROR, "store process: %s; stopping", sd_error_detail());
	pthread_mutex_lock(&sv.backup.mu);
	sv.backup.closing = true;
	pthread_mutex_unlock(&sv.backup.mu);
	if (sv.backup.joinable) /* a copy still running ends before the environment closes */
		pthread_join(sv.backup.thread, NULL);
	sd_store_close(store); /* answers everything queued, each batch's answers written after its last */
	if (!sv.broken && sd_privsep_batch_flush(&sv.out, fd) < 0)
		sd_log(SD_LOG_ERROR, "store process: cannot answer the front end: %s", sd_error_detail());
	sd_privsep_batch_drop(&sv.out);
	pthread_mutex_destroy(&sv.backup.mu);
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
	sd_sandbox_tune_malloc();
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

/* With sp->mu held: records a reaped status; the loud line unless it was a clean 0. */
static void reaped_locked(sd_storeproc_t *sp, int st)
{
	char why[96];

	sp->reaped = true;
	sp->status = WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
	if (sp->status == 0)
		return;
	sd_privsep_describe_status(st, why, sizeof(why));
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
