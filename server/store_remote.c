/*
 * store_remote.c — the front end's half of the store process (include/sealdrop/store.h,
 * sd_store_open_remote): the same requests, sent as typed messages over a socket.
 *
 * Start at store_remote_submit: under one mutex a request gets the next number, joins the
 * queue of outstanding requests and is written to the socket — or held with others until
 * the event loop's store_remote_flush, and written before anything sent after it — so
 * the order on the wire is the order of the queue. The store process answers in that
 * order (FIFO, store.h), so the reader thread (reader_main) pairs each reply with the
 * queue's head, decodes it into the request (server/store_wire.c, exact lengths) and calls
 * its done callback, as the local store's reply thread does. Anything else from the store
 * process — a short or foreign message, a reply to nothing, the socket closing while
 * requests are outstanding — is fatal (lost): nothing outstanding is answered as done. Control requests (a backup's,
 * the statistics': store_remote_ctl_call, store_remote_stats_call) join the same queue
 * and wait for their answer.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "sealdrop/bytes.h"
#include "sealdrop/log.h"
#include "sealdrop/privsep.h"
#include "sealdrop/storewire.h"
#include "store_int.h"
#include "backup.h"
#include "store_stats.h"

#define SOCKET_BUFFER (4 << 20)   /* bytes: most requests leave without waiting for the store process */
#define READ_BUFFER   (256 << 10) /* bytes: a batch's replies in one read; a larger one gets its own */

struct store_remote {
	int fd;
	pthread_mutex_t mu; /* guards everything below, and the socket's write side */
	sd_store_req_t *head, *tail;
	size_t outstanding, queue_max;
	uint64_t next_seq;
	sd_privsep_batch_t held; /* requests queued, not yet written (store_remote_flush) */
	bool stopping, lost, reader_started;
	pthread_t reader;
	sd_store_stats_t stats;
	void (*on_lost)(void *ctx);
	void *lost_ctx;
};

/* Every outstanding request fails (never as done), once, loudly; then the lost callback. */
static void lose(struct store_remote *rs, const char *why)
{
	sd_store_req_t *req, *next;
	void (*fn)(void *ctx);
	void *ctx;

	pthread_mutex_lock(&rs->mu);
	if (rs->lost) {
		pthread_mutex_unlock(&rs->mu);
		return;
	}
	rs->lost = true;
	sd_privsep_batch_drop(&rs->held);
	req = rs->head;
	rs->head = rs->tail = NULL;
	rs->outstanding = 0;
	fn = rs->on_lost;
	ctx = rs->lost_ctx;
	pthread_mutex_unlock(&rs->mu);
	sd_log(SD_LOG_ERROR, "store process died or broke the protocol (%s): nothing more can be stored; shutting down",
	       why);
	(void)shutdown(rs->fd, SHUT_RDWR);
	for (; req != NULL; req = next) {
		next = req->next;
		store_req_results_clear(req);
		req->status = SD_ERR_UNAVAILABLE;
		snprintf(req->detail, sizeof(req->detail), "the store process is gone: nothing was stored");
		req->queued = false;
		req->done(req, req->ctx);
	}
	if (fn != NULL)
		fn(ctx);
}

/* The outstanding request a reply answers: the queue's head. */
static sd_store_req_t *pop(struct store_remote *rs)
{
	sd_store_req_t *req;

	pthread_mutex_lock(&rs->mu);
	if ((req = rs->head) != NULL) {
		rs->head = req->next;
		if (rs->head == NULL)
			rs->tail = NULL;
		rs->outstanding--;
		req->next = NULL;
	}
	pthread_mutex_unlock(&rs->mu);
	return req;
}

/* A control request's waiter (store_remote_ctl_call, store_remote_stats_call): its ctx. */
struct ctl_wait {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	sd_store_stats_t *stats; /* a STATS request's: where its reply is decoded; else NULL */
};

/* A control request's reply: a backup's decoded into the request's out buffer, which
 * store_remote_ctl_call reads; the statistics into the waiter's. One that does not decode
 * loses the store process. */
static int take_ctl_reply(sd_store_req_t *req, const uint8_t *p, size_t len)
{
	struct ctl_wait *w = req->ctx;
	sd_storewire_ctl_reply_t c;
	size_t off;
	int r = w->stats != NULL ? sd_storewire_decode_stats_reply(p, len, req->seq, w->stats)
	                         : sd_storewire_decode_ctl_reply(p, len, req->seq, &c);

	store_req_results_clear(req);
	if (r == 0 && w->stats == NULL && store_buf_append(&req->out, &c, sizeof(c), &off) != 0)
		r = SD_ERR_NOMEM;
	req->status = r < 0 ? SD_ERR_UNAVAILABLE : 0;
	req->queued = false;
	req->done(req, req->ctx);
	return r;
}

/* One reply: decoded into its request, which is then answered. */
static int take_reply(struct store_remote *rs, const uint8_t *p, size_t len)
{
	sd_store_req_t *req = pop(rs);
	int r;

	if (req == NULL)
		return sd_error(SD_ERR_PROTOCOL, "a reply to no request");
	if (req->n_ops == 0)
		return take_ctl_reply(req, p, len);
	if ((r = sd_storewire_decode_reply(p, len, req->seq, req)) < 0) {
		char why[SD_STORE_DETAIL_BYTES];
		snprintf(why, sizeof(why), "%s", sd_error_detail());
		store_req_results_clear(req);
		req->status = SD_ERR_UNAVAILABLE;
		snprintf(req->detail, sizeof(req->detail), "the store process is gone: nothing was stored");
		req->queued = false;
		req->done(req, req->ctx);
		return sd_error(r, "%s", why);
	}
	pthread_mutex_lock(&rs->mu);
	rs->stats.requests++;
	if (req->status != 0)
		rs->stats.failed++;
	pthread_mutex_unlock(&rs->mu);
	req->queued = false;
	req->done(req, req->ctx);
	return 0;
}

/* The store process writes a batch's replies at once: one read takes in all of them. */
static void *reader_main(void *arg)
{
	struct store_remote *rs = arg;
	sd_privsep_reader_t rd;
	const uint8_t *p;
	uint32_t type;
	size_t len;
	int r = sd_privsep_reader_init(&rd, rs->fd, READ_BUFFER);

	while (r == 0) {
		r = sd_privsep_reader_next(&rd, &type, &p, &len);
		if (r == 0 && type != SD_PRIVSEP_STORE_REPLY)
			r = sd_error(SD_ERR_PROTOCOL, "a message of type 0x%x, not a store reply", type);
		if (r == 0)
			r = take_reply(rs, p, len);
	}
	sd_privsep_reader_free(&rd);
	pthread_mutex_lock(&rs->mu);
	bool clean = r == SD_ERR_UNAVAILABLE && rs->stopping && rs->head == NULL;
	pthread_mutex_unlock(&rs->mu);
	if (!clean)
		lose(rs, r == SD_ERR_UNAVAILABLE ? "it closed its socket" : sd_error_detail());
	return NULL;
}

int store_remote_new(int fd, const sd_store_opts_t *opts, struct store_remote **out)
{
	struct store_remote *rs = calloc(1, sizeof(*rs));
	struct timeval tv = {.tv_sec = SD_STORE_REMOTE_TIMEOUT, .tv_usec = 0};
	int size = SOCKET_BUFFER, rc;
	sigset_t all, old;

	*out = NULL;
	if (rs == NULL) {
		close(fd);
		return sd_error(SD_ERR_NOMEM, "out of memory opening the store");
	}
	rs->fd = fd;
	rs->queue_max = opts != NULL && opts->queue_max ? opts->queue_max : SD_STORE_QUEUE_MAX_DEFAULT;
	rs->next_seq = 1;
	pthread_mutex_init(&rs->mu, NULL);
	/* A store process that takes nothing for this long is as lost as a dead one. */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old); /* signals stay the event loop's */
	rc = pthread_create(&rs->reader, NULL, reader_main, rs);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		store_remote_free(rs);
		return sd_error(SD_ERR_NOMEM, "cannot start the store's reader thread: %s", strerror(rc));
	}
	rs->reader_started = true;
	*out = rs;
	return 0;
}

/* With rs->mu held: req joins the end of the queue of requests awaiting their reply. */
static void enqueue_locked(struct store_remote *rs, sd_store_req_t *req)
{
	req->queued = true;
	req->next = NULL;
	if (rs->tail != NULL)
		rs->tail->next = req;
	else
		rs->head = req;
	rs->tail = req;
	rs->outstanding++;
}

/* With rs->mu held: queue req and write it after whatever is held; a failed write loses
 * the store process. */
static int send_locked(struct store_remote *rs, sd_store_req_t *req, const uint8_t *msg, size_t len)
{
	int r;

	enqueue_locked(rs, req);
	if ((r = sd_privsep_batch_flush(&rs->held, rs->fd)) < 0)
		return r;
	return sd_privsep_send(rs->fd, SD_PRIVSEP_STORE_REQUEST, msg, len);
}

/* With rs->mu held: queue req and hold its message (msg, taken), or write it with
 * everything held before it. A batch that fills up writes itself. */
static int hold_locked(struct store_remote *rs, sd_store_req_t *req, uint8_t *msg, size_t len, bool held)
{
	int r;

	enqueue_locked(rs, req);
	if ((r = sd_privsep_batch_add(&rs->held, rs->fd, SD_PRIVSEP_STORE_REQUEST, msg, len)) < 0 || held)
		return r;
	return sd_privsep_batch_flush(&rs->held, rs->fd);
}

void store_remote_flush(struct store_remote *rs)
{
	int r = 0;

	pthread_mutex_lock(&rs->mu);
	if (!rs->lost)
		r = sd_privsep_batch_flush(&rs->held, rs->fd);
	pthread_mutex_unlock(&rs->mu);
	if (r < 0)
		lose(rs, sd_error_detail());
}

int store_remote_submit(struct store_remote *rs, sd_store_req_t *req, sd_store_done_fn done, void *ctx, bool held)
{
	uint8_t *msg = NULL;
	size_t len = 0;
	bool enqueued = false;
	int r = 0;

	pthread_mutex_lock(&rs->mu);
	if (req->queued)
		r = sd_error(SD_ERR_USAGE, "store request is already submitted");
	else if (rs->lost)
		r = sd_error(SD_ERR_UNAVAILABLE, "the store process is gone");
	else if (rs->stopping)
		r = sd_error(SD_ERR_REFUSED, "store is closing");
	else if (rs->outstanding >= rs->queue_max)
		r = sd_error(SD_ERR_REFUSED, "store queue is full (%zu requests waiting)", rs->outstanding);
	else if ((r = sd_storewire_encode_req(req, rs->next_seq, &msg, &len)) == 0) {
		req->seq = rs->next_seq++;
		req->done = done;
		req->ctx = ctx;
		store_req_results_clear(req);
		r = hold_locked(rs, req, msg, len, held);
		msg = NULL;
		enqueued = true;
	}
	pthread_mutex_unlock(&rs->mu);
	free(msg);
	if (r < 0 && enqueued) {
		/* Queued but not (wholly) sent: the stream is out of step. The request is answered
		 * with the others — perhaps already, by the reader thread that saw the store
		 * process go — so the submit itself succeeded. Not req->queued, read here without
		 * the lock: that answer may have cleared it. */
		lose(rs, sd_error_detail());
		return 0;
	}
	return r;
}

bool store_remote_is_reader(struct store_remote *rs)
{
	return rs->reader_started && pthread_equal(pthread_self(), rs->reader);
}

void store_remote_stats(struct store_remote *rs, sd_store_stats_t *out)
{
	pthread_mutex_lock(&rs->mu);
	*out = rs->stats;
	pthread_mutex_unlock(&rs->mu);
}

void store_remote_on_lost(struct store_remote *rs, void (*fn)(void *ctx), void *ctx)
{
	pthread_mutex_lock(&rs->mu);
	rs->on_lost = fn;
	rs->lost_ctx = ctx;
	pthread_mutex_unlock(&rs->mu);
}

bool store_remote_is_lost(struct store_remote *rs)
{
	pthread_mutex_lock(&rs->mu);
	bool lost = rs->lost;
	pthread_mutex_unlock(&rs->mu);
	return lost;
}

void store_remote_free(struct store_remote *rs)
{
	if (rs == NULL)
		return;
	store_remote_flush(rs);
	pthread_mutex_lock(&rs->mu);
	rs->stopping = true;
	pthread_mutex_unlock(&rs->mu);
	/* The store process reads to the end, answers everything, closes: the reader sees EOF. */
	(void)shutdown(rs->fd, SHUT_WR);
	if (rs->reader_started)
		pthread_join(rs->reader, NULL);
	close(rs->fd);
	pthread_mutex_destroy(&rs->mu);
	free(rs);
}

/* --- Control requests: the backup (include/sealdrop/storewire.h, CONTROL) --------------------- */

static void ctl_done(sd_store_req_t *req, void *ctx)
{
	struct ctl_wait *w = ctx;

	(void)req;
	pthread_mutex_lock(&w->mu);
	w->done = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* The message, with fd as SCM_RIGHTS when fd >= 0, in one sendmsg. */
static int send_ctl_locked(struct store_remote *rs, sd_store_req_t *req, uint8_t kind, int fd)
{
	uint8_t msg[SD_PRIVSEP_HEADER_BYTES + SD_STOREWIRE_CTL_REQ_BYTES];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = msg, .iov_len = sizeof(msg)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	sd_wr_t w = sd_wr_init(msg, SD_PRIVSEP_HEADER_BYTES);
	ssize_t n;
	int r;

	sd_wr_u32(&w, SD_PRIVSEP_STORE_REQUEST);
	sd_wr_u32(&w, SD_STOREWIRE_CTL_REQ_BYTES);
	sd_storewire_encode_ctl_req(rs->next_seq, kind, msg + SD_PRIVSEP_HEADER_BYTES);
	if (fd >= 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	req->seq = rs->next_seq++;
	enqueue_locked(rs, req);
	if ((r = sd_privsep_batch_flush(&rs->held, rs->fd)) < 0)
		return r;
	do
		n = sendmsg(rs->fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(msg))
		return sd_error(SD_ERR_IO, "store process: cannot send a control request: %s",
		                n < 0 ? strerror(errno) : "short write");
	return 0;
}

/* A control request waited for on w: its answer comes to ctl_done; NULL without memory. */
static sd_store_req_t *ctl_wait_begin(struct ctl_wait *w)
{
	sd_store_req_t *req = sd_store_req_new();

	if (req == NULL)
		return NULL;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	req->done = ctl_done;
	req->ctx = w;
	return req;
}

static void ctl_wait_end(struct ctl_wait *w, sd_store_req_t *req)
{
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	sd_store_req_free(req);
}

/* After the send (r: its result; enqueued: whether req joined the queue): waits for the
 * answer, which a lost store process also gives; returns r, or the answer's failure. */
static int ctl_wait_answer(struct store_remote *rs, sd_store_req_t *req, struct ctl_wait *w, int r, bool enqueued)
{
	if (r < 0 && enqueued)
		lose(rs, sd_error_detail()); /* answers req, if the reader has not: the wait below ends */
	if (enqueued) {
		pthread_mutex_lock(&w->mu);
		while (!w->done)
			pthread_cond_wait(&w->cv, &w->mu);
		pthread_mutex_unlock(&w->mu);
		if (r == 0 && req->status < 0)
			r = sd_error(req->status, "%s",
			             req->detail[0] != '\0' ? req->detail : "the store process is gone");
	}
	return r;
}

int store_remote_ctl_call(struct store_remote *rs, uint8_t kind, int fd, sd_storewire_ctl_reply_t *out)
{
	struct ctl_wait w = {.done = false};
	sd_store_req_t *req = ctl_wait_begin(&w);
	bool enqueued = false;
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (req == NULL)
		return SD_ERR_NOMEM;
	pthread_mutex_lock(&rs->mu);
	if (rs->lost || rs->stopping) {
		r = sd_error(SD_ERR_UNAVAILABLE, "the store process is gone or closing");
	} else {
		r = send_ctl_locked(rs, req, kind, fd);
		enqueued = true; /* send_ctl_locked queues req before it writes */
	}
	pthread_mutex_unlock(&rs->mu);
	if ((r = ctl_wait_answer(rs, req, &w, r, enqueued)) == 0 && req->out.len == sizeof(*out))
		memcpy(out, req->out.p, sizeof(*out));
	ctl_wait_end(&w, req);
	return r;
}

/* --- Control requests: the statistics (include/sealdrop/storewire.h, STATS) ------------------- */

int store_remote_stats_call(struct store_remote *rs, sd_date_t today, sd_store_stats_t *out)
{
	uint8_t msg[SD_STOREWIRE_STATS_REQ_BYTES];
	sd_store_stats_t st;
	struct ctl_wait w = {.done = false, .stats = &st};
	sd_store_req_t *req = ctl_wait_begin(&w);
	bool enqueued = false;
	int r = 0;

	store_remote_stats(rs, &st); /* the front end's request counts */
	*out = st;
	if (req == NULL)
		return SD_ERR_NOMEM;
	pthread_mutex_lock(&rs->mu);
	if (rs->lost || rs->stopping) {
		r = sd_error(SD_ERR_UNAVAILABLE, "the store process is gone or closing");
	} else if (rs->outstanding >= rs->queue_max) {
		r = sd_error(SD_ERR_REFUSED, "store queue is full (%zu requests waiting)", rs->outstanding);
	} else {
		sd_storewire_encode_stats_req(rs->next_seq, today, msg);
		req->seq = rs->next_seq++;
		r = send_locked(rs, req, msg, sizeof(msg));
		enqueued = true; /* send_locked queues req before it writes */
	}
	pthread_mutex_unlock(&rs->mu);
	if ((r = ctl_wait_answer(rs, req, &w, r, enqueued)) == 0)
		*out = st;
	ctl_wait_end(&w, req);
	return r;
}
