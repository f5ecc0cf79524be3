/*
 * server.c — sealdropd's running state and its event loop (include/sealdrop/server.h).
 *
 * sd_server_new (at the end) builds the server in the order the privilege drop needs:
 * hand the log key to the key process (keyproc.c), read every other file, bind the
 * sockets, chroot and drop to the configured user, open the store (server_start.c).
 * sd_server_run then serves until SIGTERM/SIGINT and drains. In between, this file keeps
 * what connections share: the list of connections, the body budget with its queue of
 * waiters, the hand-over of store answers from the store thread to the loop (store_done
 * → hop_run), the worker thread for the loop's CPU-bound jobs (sd_server_work →
 * worker_main → hop_run), the directory, the CRL and the timers.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <event2/thread.h>

#include "server_int.h"
#include "sealdrop/auditlog.h"
#include "sealdrop/export.h"
#include "sealdrop/bytes.h"
#include "sealdrop/fileio.h"
#include "sealdrop/metrics.h"
#include "sealdrop/sandbox.h"
#include "sealdrop/sealdrop.h"

#define CRL_DAYS        30  /* a CRL's nextUpdate; it is re-issued daily and on every disable */
#define ACCEPT_PAUSE_MS 100 /* accepting rests this long when out of descriptors */
#define FD_RESERVE      64  /* descriptors beside the connections' */

/* A store answer (done) or a worker job (work, then after) on its way to the loop. */
struct hop {
	struct hop *next;
	sd_server_t *server;
	sd_store_req_t *req;
	void (*done)(sd_store_req_t *req, void *ctx);
	void (*work)(void *ctx);
	void (*after)(void *ctx);
	void *ctx;
};

struct timer {
	struct timer *next;
	struct event *ev;
	void (*fn)(void *ctx);
	void *ctx;
};

/* --- Today ------------------------------------------------------------------------------ */

#ifdef SD_TEST_CLOCK
/*
 * The test clock, compiled only into $(BUILD)/sealdropd-testclock (-DSD_TEST_CLOCK): the
 * release sealdropd holds none of this code and none of its strings, which
 * tests/e2e/testclock.sh checks. SEALDROPD_TEST_TODAY=YYYY-MM-DD fixes today;
 * SEALDROPD_TEST_TODAY_FILE=PATH reads today from PATH on every call, so an end-to-end
 * test walks a case across months by rewriting the file while the server runs. The file
 * is opened once, before the chroot and the privilege drop, and read with pread: a test
 * rewrites it in place (tests/e2e/lib.sh, set_today), never replaces it by a rename.
 * A file that stops holding a date keeps the last good one, with one warning.
 */
#define TEST_CLOCK_TEXT_MAX 64

static struct {
	pthread_mutex_t lock;
	bool active;
	int fd;         /* the date file, or -1 for a fixed date */
	sd_date_t date; /* the fixed date, or the file's last good one */
	bool bad;       /* the file did not hold a date at the last read */
} test_clock = {PTHREAD_MUTEX_INITIALIZER, false, -1, {0, 0, 0}, false};

/* The file's date: "YYYY-MM-DD", then at most a line ending. */
static int test_clock_read(int fd, sd_date_t *out)
{
	char text[TEST_CLOCK_TEXT_MAX];
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);

	if (n < 0)
		return sd_error(SD_ERR_IO, "cannot read SEALDROPD_TEST_TODAY_FILE: %s", strerror(errno));
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		n--;
	text[n] = '\0';
	if ((size_t)n == sizeof(text) - 1 || strlen(text) != (size_t)n || sd_date_parse(text, out) < 0)
		return sd_error(SD_ERR_FORMAT, "SEALDROPD_TEST_TODAY_FILE does not hold one date YYYY-MM-DD");
	return 0;
}

static int test_clock_start(void)
{
	const char *fixed = getenv("SEALDROPD_TEST_TODAY"), *path = getenv("SEALDROPD_TEST_TODAY_FILE");
	char shown[SD_DATE_TEXT_BYTES];
	int fd;

	fixed = fixed != NULL && fixed[0] != '\0' ? fixed : NULL;
	path = path != NULL && path[0] != '\0' ? path : NULL;
	if (fixed != NULL && path != NULL)
		return sd_error(SD_ERR_CONFIG, "set SEALDROPD_TEST_TODAY or SEALDROPD_TEST_TODAY_FILE, not both");
	if (fixed != NULL && sd_date_parse(fixed, &test_clock.date) < 0)
		return sd_error(SD_ERR_CONFIG, "SEALDROPD_TEST_TODAY is not a date YYYY-MM-DD");
	if (path != NULL) {
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			return sd_error(SD_ERR_CONFIG, "SEALDROPD_TEST_TODAY_FILE %s: %s", path, strerror(errno));
		if (test_clock_read(fd, &test_clock.date) < 0) {
			close(fd);
			return sd_error(SD_ERR_CONFIG, "SEALDROPD_TEST_TODAY_FILE %s does not hold one date YYYY-MM-DD",
			                path);
		}
		test_clock.fd = fd;
	}
	if (fixed == NULL && path == NULL)
		return 0;
	test_clock.active = true;
	sd_date_format(test_clock.date, shown);
	sd_log(SD_LOG_WARN,
	       "TEST CLOCK: this is sealdropd-testclock, a test build; today is %s%s%s, not the real "
	       "date. Never run it in production.",
	       shown, path != NULL ? ", read from " : " (SEALDROPD_TEST_TODAY)", path != NULL ? path : "");
	return 0;
}

/* The file is re-read on every call: a test that rewrites it sees the new date at once. */
static sd_date_t test_clock_today(void)
{
	char shown[SD_DATE_TEXT_BYTES];
	sd_date_t d, today;

	pthread_mutex_lock(&test_clock.lock);
	if (test_clock.fd >= 0) {
		if (test_clock_read(test_clock.fd, &d) < 0) {
			if (!test_clock.bad)
				sd_log(SD_LOG_WARN, "test clock: %s; keeping today as it was", sd_error_detail());
			test_clock.bad = true;
		} else {
			if (sd_date_cmp(d, test_clock.date) != 0) {
				sd_date_format(d, shown);
				sd_log(SD_LOG_WARN, "test clock: today is now %s", shown);
			}
			test_clock.date = d;
			test_clock.bad = false;
		}
	}
	today = test_clock.date;
	pthread_mutex_unlock(&test_clock.lock);
	return today;
}
#endif

sd_date_t sd_server_today(const sd_server_t *s)
{
	(void)s;
#ifdef SD_TEST_CLOCK
	if (test_clock.active)
		return test_clock_today();
#endif
	return sd_date_today();
}

/* --- Accessors --------------------------------------------------------------------------- */

const sd_config_t *sd_server_config(const sd_server_t *s)
{
	return s->config;
}

struct event_base *sd_server_base(sd_server_t *s)
{
	return s->base;
}

const sd_directory_t *sd_server_directory(const sd_server_t *s)
{
	return s->directory;
}

const uint8_t *sd_server_directory_json(const sd_server_t *s, size_t *len)
{
	*len = s->directory_len;
	return s->directory_json;
}

const sd_pubkey_t *sd_server_root(const sd_server_t *s)
{
	return &s->root_key;
}

sd_ca_t *sd_server_ca(sd_server_t *s)
{
	return s->ca;
}

size_t sd_server_connection_count(const sd_server_t *s)
{
	return s->n_conns;
}

sd_accounts_t *sd_server_accounts(sd_server_t *s)
{
	return s->accounts;
}

sd_uploads_t *sd_server_uploads(sd_server_t *s)
{
	return s->uploads;
}

sd_store_t *sd_server_store(sd_server_t *s)
{
	return s->store;
}

struct sd_tls *sd_server_tls(sd_server_t *s)
{
	return s->tls;
}

const uint8_t *sd_server_crl(const sd_server_t *s, size_t *len)
{
	*len = s->crl_len;
	return s->crl;
}

bool sd_server_is_draining(const sd_server_t *s)
{
	return s->draining;
}

/* The log key is the key process's alone (server/keyproc.c): these send it the structure
 * and wait for the signed document, from the loop or the worker alike. */
int sd_server_sign_receipt(sd_server_t *s, sd_receipt_t *rc, char **json_out)
{
	memcpy(rc->log_key_id, s->log_pub.id, SD_KEY_ID_BYTES);
	return sd_keyproc_sign_receipt(s->keyproc, rc, json_out);
}

int sd_server_sign_notice(sd_server_t *s, const sd_notice_t *n, char **json_out)
{
	return sd_keyproc_sign_notice(s->keyproc, n, json_out);
}

int sd_server_sign_head(sd_server_t *s, sd_loghead_t *h, char **json_out)
{
	memcpy(h->log_key_id, s->log_pub.id, SD_KEY_ID_BYTES);
	return sd_keyproc_sign_head(s->keyproc, h, json_out);
}

int sd_server_sign_export(sd_server_t *s, sd_export_receipt_t *er, char **json_out)
{
	memcpy(er->log_key_id, s->log_pub.id, SD_KEY_ID_BYTES);
	return sd_keyproc_sign_export(s->keyproc, er, json_out);
}

const sd_pubkey_t *sd_server_log_pub(const sd_server_t *s)
{
	return &s->log_pub;
}

sd_auditlog_t *sd_server_auditlog(sd_server_t *s)
{
	return s->auditlog;
}

sd_wbgate_t *sd_server_wbgate(sd_server_t *s)
{
	return s->wbgate;
}

uint64_t sd_server_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* --- The directory and the CRL -------------------------------------------------------------- */

int sd_server_directory_lists(const sd_directory_t *d, const sd_pubkey_t *log_pub, const uint8_t *ca_der,
                              size_t ca_der_len)
{
	char id[SD_KEY_ID_HEX_BYTES];
	uint8_t *der = NULL;
	size_t der_len = 0;
	bool same_ca;

	sd_key_id_hex(log_pub->id, id);
	if (!d->has_log || !sd_equal(d->log.pk, log_pub->pk, SD_KEY_PUBLIC_BYTES))
		return sd_error(SD_ERR_CONFIG, "the directory does not list this server's log key (%s, id %s)",
		                SD_SERVER_LOGPUB_FILE, id);
	if (d->tls_ca_pem == NULL || sd_ca_cert_from_pem(d->tls_ca_pem, strlen(d->tls_ca_pem), &der, &der_len) < 0)
		return sd_error(SD_ERR_CONFIG, "the directory does not list this server's TLS CA (%s)",
		                SD_CA_CERT_FILE);
	same_ca = der_len == ca_der_len && sd_equal(der, ca_der, der_len);
	free(der);
	if (!same_ca)
		return sd_error(SD_ERR_CONFIG, "the directory lists another TLS CA than this server's (%s)",
		                SD_CA_CERT_FILE);
	return 0;
}

int sd_server_check_directory(const sd_server_t *s, const sd_directory_t *d, const uint8_t *json, size_t len)
{
	const sd_directory_t *cur = s->directory;
	int r;

	if ((r = sd_server_directory_lists(d, &s->log_pub, s->ca_der, s->ca_der_len)) < 0 || cur == NULL)
		return r;
	if (strcmp(cur->deployment, d->deployment) != 0)
		return sd_error(SD_ERR_CONFIG, "the directory is for deployment '%s', this server serves '%s'",
		                d->deployment, cur->deployment);
	if (d->version < cur->version)
		return sd_error(SD_ERR_ROLLBACK, "the directory's version %u is lower than the served version %u",
		                d->version, cur->version);
	if (d->version == cur->version &&
	    (json == NULL || len != s->directory_len || !sd_equal(json, s->directory_json, len)))
		return sd_error(SD_ERR_ROLLBACK,
		                "the directory has the served version %u but different contents: raise its version",
		                d->version);
	/* a retired log key stays listed: the receipts it signed must keep verifying */
	for (size_t i = 0; i < cur->n_log_retired; i++)
		if (sd_directory_log_key(d, cur->log_retired[i].id) == NULL) {
			char id[SD_KEY_ID_HEX_BYTES];
			sd_key_id_hex(cur->log_retired[i].id, id);
			return sd_error(SD_ERR_CONFIG,
			                "the directory drops the retired log key %s the served one lists", id);
		}
	return 0;
}

int sd_server_set_directory(sd_server_t *s, sd_directory_t *d, uint8_t *json, size_t len)
{
	char path[SD_CONFIG_DIR_MAX + 64];
	int r;

	if ((r = sd_server_path(s, SD_SERVER_DIRECTORY, path, sizeof(path))) < 0 ||
	    (r = sd_file_write(path, json, len, 0644, SD_AFILE_REPLACE)) < 0) {
		sd_directory_free(d);
		free(json);
		return r;
	}
	sd_directory_free(s->directory);
	free(s->directory_json);
	s->directory = d;
	s->directory_json = json;
	s->directory_len = len;
	sd_log(SD_LOG_INFO, "serving directory version %u of deployment %s", d->version, d->deployment);
	return 0;
}

int sd_server_refresh_crl(sd_server_t *s)
{
	const sd_ca_revoked_t *revoked;
	uint64_t number = (uint64_t)time(NULL);
	uint8_t *der = NULL;
	size_t n, len = 0;
	int r;

	/* CRL numbers must increase (RFC 5280): the time in seconds does, across restarts too. */
	if (number <= s->crl_number)
		number = s->crl_number + 1;
	revoked = sd_accounts_revoked(s->accounts, &n);
	if ((r = sd_ca_crl(s->ca, revoked, n, number, CRL_DAYS, NULL, &der, &len)) < 0)
		return r;
	free(s->crl);
	s->crl = der;
	s->crl_len = len;
	s->crl_number = number;
	return 0;
}

static void crl_daily(void *ctx)
{
	if (sd_server_refresh_crl(ctx) < 0)
		sd_log(SD_LOG_ERROR, "cannot re-issue the CRL: %s", sd_error_detail());
}

/* --- Store answers: from the store thread to the loop ---------------------------------------- */

/* h at the tail of a queue of hops (the loop's, or the worker's), under its lock. */
static void hop_append(struct hop **head, struct hop **tail, struct hop *h)
{
	if (*tail != NULL)
		(*tail)->next = h;
	else
		*head = h;
	*tail = h;
}

/* On the store or the worker thread: queue the hop and wake the loop (event_active is
 * thread-safe once evthread_use_pthreads ran). */
static void hop_push(sd_server_t *s, struct hop *h)
{
	pthread_mutex_lock(&s->hop_lock);
	hop_append(&s->hop_head, &s->hop_tail, h);
	pthread_mutex_unlock(&s->hop_lock);
	event_active(s->hop_event, EV_READ, 0);
}

static void store_done(sd_store_req_t *req, void *ctx)
{
	struct hop *h = ctx;

	(void)req;
	hop_push(h->server, h);
}

/* On the loop: every answer queued so far, in order. */
static void hop_run(evutil_socket_t fd, short what, void *ctx)
{
	sd_server_t *s = ctx;
	struct hop *h, *next;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&s->hop_lock);
	h = s->hop_head;
	s->hop_head = s->hop_tail = NULL;
	pthread_mutex_unlock(&s->hop_lock);
	for (; h != NULL; h = next) {
		next = h->next;
		if (h->after != NULL)
			h->after(h->ctx);
		else
			h->done(h->req, h->ctx);
		free(h);
	}
}

int sd_server_store_submit(sd_server_t *s, sd_store_req_t *req, void (*done)(sd_store_req_t *req, void *ctx), void *ctx)
{
	struct hop *h;
	int r;

	if (s->store == NULL)
		return sd_error(SD_ERR_REFUSED, "the store is closed");
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return SD_ERR_NOMEM;
	*h = (struct hop){.server = s, .req = req, .done = done, .ctx = ctx};
	if ((r = sd_store_submit_held(s->store, req, store_done, h)) < 0)
		free(h);
	else
		event_active(s->store_flush_event, 0, 0); /* runs after this turn's other callbacks */
	return r;
}

/* Once per turn of the loop in which routes submitted requests: they leave together. */
static void store_flush_run(evutil_socket_t fd, short what, void *ctx)
{
	sd_server_t *s = ctx;

	(void)fd;
	(void)what;
	sd_store_flush(s->store);
}

/* --- The worker: CPU-bound jobs off the loop ------------------------------------------------- */

/* Takes the jobs in order until told to stop with none left; each goes back to the loop
 * through the hops, which keeps their order. */
static void *worker_main(void *arg)
{
	sd_server_t *s = arg;
	struct hop *h;

	for (;;) {
		pthread_mutex_lock(&s->work_lock);
		while (s->work_head == NULL && s->worker_running)
			pthread_cond_wait(&s->work_cond, &s->work_lock);
		if ((h = s->work_head) != NULL && (s->work_head = h->next) == NULL)
			s->work_tail = NULL;
		pthread_mutex_unlock(&s->work_lock);
		if (h == NULL)
			return NULL;
		h->next = NULL;
		h->work(h->ctx);
		hop_push(s, h);
	}
}

static int worker_start(sd_server_t *s)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old); /* signals stay with the loop */
	s->worker_running = true;
	rc = pthread_create(&s->worker, NULL, worker_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		s->worker_running = false;
		return sd_error(SD_ERR_INTERNAL, "cannot start the worker thread: %s", strerror(rc));
	}
	return 0;
}

/* Lets the worker finish the jobs queued so far (their hops wait for hop_run), then joins it. */
static void worker_stop(sd_server_t *s)
{
	bool joinable;

	pthread_mutex_lock(&s->work_lock);
	joinable = s->worker_running;
	s->worker_running = false;
	pthread_cond_signal(&s->work_cond);
	pthread_mutex_unlock(&s->work_lock);
	if (joinable)
		pthread_join(s->worker, NULL);
}

int sd_server_work_queue(sd_server_t *s, void (*work)(void *ctx), void (*done)(void *ctx), void *ctx)
{
	struct hop *h = calloc(1, sizeof(*h));
	bool queued = false;

	if (h == NULL)
		return SD_ERR_NOMEM;
	*h = (struct hop){.server = s, .work = work, .after = done, .ctx = ctx};
	pthread_mutex_lock(&s->work_lock);
	if ((queued = s->worker_running)) {
		hop_append(&s->work_head, &s->work_tail, h);
		pthread_cond_signal(&s->work_cond);
	}
	pthread_mutex_unlock(&s->work_lock);
	if (!queued) {
		free(h);
		return SD_ERR_UNAVAILABLE;
	}
	return 0;
}

void sd_server_work(sd_server_t *s, void (*work)(void *ctx), void (*done)(void *ctx), void *ctx)
{
	if (sd_server_work_queue(s, work, done, ctx) < 0) {
		work(ctx);
		done(ctx);
	}
}

/* --- Connections and the body budget --------------------------------------------------------- */

static int grow(void *pp, size_t *cap, size_t n, size_t elem)
{
	void **p = pp;
	size_t ncap = *cap == 0 ? 16 : *cap * 2;
	void *np;

	if (n < *cap)
		return 0;
	if ((np = realloc(*p, ncap * elem)) == NULL)
		return SD_ERR_NOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

/* The table is full: the oldest connection that is not an enrolled account's and is not
 * waiting for the server goes (OpenSSH's MaxStartups, with age instead of chance), so
 * sockets that trickle cannot keep an attorney out. None: the newcomer is refused. */
static bool evict_oldest(sd_server_t *s)
{
	sd_conn_t *victim = NULL;
	uint64_t oldest = UINT64_MAX, t;

	for (size_t i = 0; i < s->n_conns; i++)
		if (sd_conn_is_evictable(s->conns[i], &t) && t < oldest) {
			oldest = t;
			victim = s->conns[i];
		}
	if (victim == NULL)
		return false;
	sd_log(SD_LOG_DEBUG, "%u connections open: closing the oldest untrusted one", s->config->max_connections);
	sd_metrics_count_refusal(SD_LIMIT_EVICTED);
	sd_conn_abort(victim);
	return true;
}

int sd_server_conn_add(sd_server_t *s, sd_conn_t *c)
{
	if (s->draining || (s->n_conns >= s->config->max_connections && !evict_oldest(s)))
		return SD_ERR_REFUSED;
	if (grow(&s->conns, &s->cap_conns, s->n_conns, sizeof(*s->conns)) < 0)
		return SD_ERR_NOMEM;
	s->conns[s->n_conns++] = c;
	return 0;
}

void sd_server_conn_remove(sd_server_t *s, sd_conn_t *c)
{
	for (size_t i = 0; i < s->n_conns; i++) {
		if (s->conns[i] == c) {
			s->conns[i] = s->conns[--s->n_conns];
			break;
		}
	}
	if (s->draining && s->n_conns == 0)
		event_base_loopexit(s->base, NULL);
}

unsigned sd_server_conns_with_cert(sd_server_t *s, const uint8_t fp[SD_CA_FINGERPRINT_BYTES])
{
	unsigned n = 0;

	for (size_t i = 0; i < s->n_conns; i++)
		n += sd_conn_has_fingerprint(s->conns[i], fp);
	return n;
}

bool sd_server_budget_take(sd_server_t *s, sd_conn_t *c, uint64_t n)
{
	uint64_t half = s->config->body_budget_bytes / 2;

	if (!sd_conn_is_trusted(c)) { /* the anonymous share: never queued (conn.h) */
		if (s->n_waiters > 0 || s->budget_used > half || n > half - s->budget_used)
			return false;
		s->budget_used += n;
		return true;
	}
	if (s->n_waiters == 0 && n <= s->config->body_budget_bytes - s->budget_used) {
		s->budget_used += n;
		return true;
	}
	if (grow(&s->waiters, &s->cap_waiters, s->n_waiters, sizeof(*s->waiters)) < 0)
		return false; /* not queued: the connection's timer answers 503 */
	s->waiters[s->n_waiters++] = (struct waiter){c, n};
	return false;
}

void sd_server_budget_cancel(sd_server_t *s, sd_conn_t *c)
{
	for (size_t i = 0; i < s->n_waiters; i++) {
		if (s->waiters[i].conn == c) {
			memmove(&s->waiters[i], &s->waiters[i + 1], (s->n_waiters - i - 1) * sizeof(*s->waiters));
			s->n_waiters--;
			return;
		}
	}
}

void sd_server_budget_release(sd_server_t *s, uint64_t n)
{
	s->budget_used -= n < s->budget_used ? n : s->budget_used;
	/* First come, first served: the head waits until its whole body fits. */
	while (s->n_waiters > 0 && s->waiters[0].bytes <= s->config->body_budget_bytes - s->budget_used) {
		struct waiter w = s->waiters[0];

		memmove(&s->waiters[0], &s->waiters[1], (s->n_waiters - 1) * sizeof(*s->waiters));
		s->n_waiters--;
		s->budget_used += w.bytes;
		sd_conn_budget_ready(w.conn);
	}
}

/* --- Timers, signals, the loop ------------------------------------------------------------------ */

static void timer_fire(evutil_socket_t fd, short what, void *ctx)
{
	struct timer *t = ctx;

	(void)fd;
	(void)what;
	t->fn(t->ctx);
}

int sd_server_every(sd_server_t *s, unsigned seconds, void (*fn)(void *ctx), void *ctx)
{
	struct timeval tv = {.tv_sec = seconds, .tv_usec = 0};
	struct timer *t = calloc(1, sizeof(*t));

	if (t == NULL || (t->ev = event_new(s->base, -1, EV_PERSIST, timer_fire, t)) == NULL) {
		free(t);
		return SD_ERR_NOMEM;
	}
	t->fn = fn;
	t->ctx = ctx;
	t->next = s->timers;
	s->timers = t;
	event_add(t->ev, &tv);
	return 0;
}

static void drain_deadline(evutil_socket_t fd, short what, void *ctx)
{
	sd_server_t *s = ctx;

	(void)fd;
	(void)what;
	sd_log(SD_LOG_WARN, "%zu connections still busy after %u s; closing them", s->n_conns,
	       s->config->request_timeout);
	event_base_loopbreak(s->base);
}

static void begin_drain(sd_server_t *s)
{
	/* Past every in-flight request's own deadline and lingering close, so each gets its
	 * answer (or its 408) before the loop stops. */
	struct timeval tv = {.tv_sec = s->config->request_timeout + SD_CONN_LINGER_SECONDS + 1, .tv_usec = 0};

	if (s->draining)
		return;
	s->draining = true;
	sd_log(SD_LOG_INFO, "shutting down: finishing %zu open connections", s->n_conns);
	evconnlistener_disable(s->listener);
	sd_control_free(s->control);
	/* sd_conn_drain may free the connection, which removes it from the list. */
	for (size_t i = s->n_conns; i > 0; i--) {
		if (i - 1 < s->n_conns)
			sd_conn_drain(s->conns[i - 1]);
	}
	if (s->n_conns == 0) {
		event_base_loopexit(s->base, NULL);
		return;
	}
	if ((s->drain_timer = evtimer_new(s->base, drain_deadline, s)) != NULL)
		event_add(s->drain_timer, &tv);
}

static void on_signal(evutil_socket_t sig, short what, void *ctx)
{
	sd_server_t *s = ctx;

	(void)what;
	if (sig == SIGHUP) {
		if (sd_log_reopen() < 0)
			sd_log(SD_LOG_ERROR, "%s", sd_error_detail());
		else
			sd_log(SD_LOG_INFO, "log reopened");
		return;
	}
	begin_drain(s);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *addr, int len, void *ctx)
{
	/* The peer's address is never looked at, let alone logged. */
	(void)l;
	(void)addr;
	(void)len;
	if (sd_conn_accept(ctx, fd) < 0)
		sd_log(SD_LOG_DEBUG, "connection refused: %s", sd_strerror(SD_ERR_REFUSED));
}

static void accept_resume(evutil_socket_t fd, short what, void *ctx)
{
	sd_server_t *s = ctx;

	(void)fd;
	(void)what;
	if (!s->draining && s->listener != NULL)
		evconnlistener_enable(s->listener);
}

/* accept() failed: out of descriptors (EMFILE, ENFILE) or memory. The pending
 * connection stays in the backlog and the socket stays readable, so listening on would
 * spin the loop: pause accepting for ACCEPT_PAUSE_MS instead (nginx does the same). */
static void on_accept_error(struct evconnlistener *l, void *ctx)
{
	struct timeval tv = {.tv_sec = 0, .tv_usec = ACCEPT_PAUSE_MS * 1000};
	sd_server_t *s = ctx;
	int e = EVUTIL_SOCKET_ERROR();

	if (e != EMFILE && e != ENFILE && e != ENOBUFS && e != ENOMEM)
		return;
	sd_log(SD_LOG_WARN, "cannot accept a connection (%s): pausing for %d ms", strerror(e), ACCEPT_PAUSE_MS);
	evconnlistener_disable(l);
	if (event_base_once(s->base, -1, EV_TIMEOUT, accept_resume, s, &tv) < 0)
		evconnlistener_enable(l);
}

/* Each connection is a descriptor: max_connections needs that many, and some for the
 * store, the log and the control socket. Raise the soft limit as far as the hard one
 * allows; short of that, say so, as accept() would fail (and pause) before the cap. */
static void check_fd_limit(const sd_server_t *s)
{
	rlim_t want = (rlim_t)s->config->max_connections + FD_RESERVE;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want)
		sd_log(SD_LOG_WARN, "max_connections %u needs %llu open files, the limit is %llu: raise it (ulimit -n)",
		       s->config->max_connections, (unsigned long long)want, (unsigned long long)rl.rlim_cur);
}

static int start_loop_events(sd_server_t *s)
{
	check_fd_limit(s);
	s->listener = evconnlistener_new(s->base, on_accept, s, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1,
	                                 s->listen_fd);
	if (s->listener == NULL)
		return sd_error(SD_ERR_IO, "cannot listen on %s:%u", s->config->listen_addr, s->config->listen_port);
	evconnlistener_set_error_cb(s->listener, on_accept_error);
	s->listen_fd = -1;
	s->sig_term = evsignal_new(s->base, SIGTERM, on_signal, s);
	s->sig_int = evsignal_new(s->base, SIGINT, on_signal, s);
	s->sig_hup = evsignal_new(s->base, SIGHUP, on_signal, s);
	if (s->sig_term == NULL || s->sig_int == NULL || s->sig_hup == NULL || event_add(s->sig_term, NULL) < 0 ||
	    event_add(s->sig_int, NULL) < 0 || event_add(s->sig_hup, NULL) < 0)
		return sd_error(SD_ERR_INTERNAL, "cannot install the signal handlers");
	return 0;
}

#ifdef SD_TEST_CLOCK
/* The sandbox's test (tests/e2e/sandbox.sh), in the test build only: with
 * SEALDROPD_TEST_FORBIDDEN_SYSCALL=1, once the filter is on, a system call it lacks
 * (ptrace); the kernel must kill the process with SIGSYS before the second line. */
static void test_forbidden_syscall(void)
{
	const char *v = getenv("SEALDROPD_TEST_FORBIDDEN_SYSCALL");
	long rc;

	if (v == NULL || strcmp(v, "1") != 0)
		return;
	sd_log(SD_LOG_WARN, "TEST: making a forbidden system call (ptrace); the sandbox must kill the server");
	rc = syscall(SYS_ptrace, 0L /* PTRACE_TRACEME */, 0L, 0L, 0L);
	sd_log(SD_LOG_ERROR, "TEST: the forbidden system call returned %ld: the sandbox did not hold", rc);
}

/* The key process's own filter, tested the same way (tests/e2e/privsep.sh): with
 * SEALDROPD_TEST_KEYPROC_SYSCALL=1 the key process, once ready, opens a file — a call
 * the front end may make, its filter may not. */
static void test_keyproc_forbidden_syscall(void)
{
	const char *v = getenv("SEALDROPD_TEST_KEYPROC_SYSCALL");
	long rc;

	if (v == NULL || strcmp(v, "1") != 0)
		return;
	sd_log(SD_LOG_WARN, "TEST: the key process makes a forbidden system call (openat); its filter must kill it");
	rc = syscall(SYS_openat, AT_FDCWD, "/", O_RDONLY | O_CLOEXEC);
	sd_log(SD_LOG_ERROR, "TEST: the key process's forbidden system call returned %ld: its filter did not hold", rc);
}

/* And the store process's (tests/e2e/privsep.sh): with SEALDROPD_TEST_STORE_SYSCALL=1 it
 * makes a socket once ready — the front end may reach out, its filter may not. */
static void test_storeproc_forbidden_syscall(void)
{
	const char *v = getenv("SEALDROPD_TEST_STORE_SYSCALL");
	long rc;

	if (v == NULL || strcmp(v, "1") != 0)
		return;
	sd_log(SD_LOG_WARN, "TEST: the store process makes a forbidden system call (socket); its filter must kill it");
	rc = syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
	sd_log(SD_LOG_ERROR, "TEST: the store process's forbidden system call returned %ld: its filter did not hold",
	       rc);
}
#endif

/* --- The key process: watched from the loop ---------------------------------------------------- */

/* Any thread that finds the key process gone: the loop stops, sd_server_run fails. */
static void keyproc_lost(void *ctx)
{
	sd_server_t *s = ctx;

	event_base_loopbreak(s->base);
}

static void on_child(evutil_socket_t sig, short what, void *ctx)
{
	sd_server_t *s = ctx;

	(void)sig;
	(void)what;
	(void)sd_keyproc_check(s->keyproc);
	/* The store process's socket closes with it: its reader finds it lost and stops the loop. */
	if (s->storeproc != NULL && sd_storeproc_check(s->storeproc))
		event_base_loopbreak(s->base);
}

/* SIGCHLD says the key process died; one look now for a death before the handler was in. */
static int keyproc_watch(sd_server_t *s)
{
	sd_keyproc_on_lost(s->keyproc, keyproc_lost, s);
	if ((s->sig_chld = evsignal_new(s->base, SIGCHLD, on_child, s)) == NULL || event_add(s->sig_chld, NULL) < 0)
		return sd_error(SD_ERR_INTERNAL, "cannot install the SIGCHLD handler");
	if (sd_keyproc_check(s->keyproc) || sd_keyproc_is_lost(s->keyproc))
		return sd_error(SD_ERR_INTERNAL, "the key process died before the server started serving");
	sd_store_on_lost(s->store, keyproc_lost, s);
	if ((s->storeproc != NULL && sd_storeproc_check(s->storeproc)) || sd_store_is_lost(s->store))
		return sd_error(SD_ERR_INTERNAL, "the store process died before the server started serving");
	return 0;
}

/* A lost store process: the exit says whether a failed fsync ended it (74, as a
 * one-process server would have exited) or anything else did. */
static int storeproc_lost(sd_server_t *s)
{
	int st = s->storeproc != NULL ? sd_storeproc_wait(s->storeproc, 2000) : -1;

	return sd_error(st == SD_STORE_EXIT_FATAL ? SD_ERR_IO : SD_ERR_INTERNAL,
	                "the store process died: stopped without finishing open connections");
}

int sd_server_run(sd_server_t *s)
{
	int r;

	if ((r = start_loop_events(s)) < 0 || (r = keyproc_watch(s)) < 0)
		return r;
	if ((r = sd_control_start(s, s->control_fd, &s->control)) < 0)
		return r;
	s->control_fd = -1;
	if ((r = sd_server_every(s, 86400, crl_daily, s)) < 0)
		return r;
	/* Every file and socket is open and every thread runs: from here, the allow-list. */
	if ((r = sd_sandbox_enter()) < 0)
		return r;
#ifdef SD_TEST_CLOCK
	test_forbidden_syscall();
#endif
	sd_log(SD_LOG_INFO, "listening on %s%s%s:%u", s->config->listen_family == AF_INET6 ? "[" : "",
	       s->config->listen_addr, s->config->listen_family == AF_INET6 ? "]" : "", s->config->listen_port);
	if (event_base_dispatch(s->base) < 0)
		return sd_error(SD_ERR_INTERNAL, "the event loop failed");
	if (sd_keyproc_is_lost(s->keyproc))
		return sd_error(SD_ERR_INTERNAL, "the key process died: stopped without finishing open connections");
	if (sd_store_is_lost(s->store) || (s->storeproc != NULL && sd_storeproc_check(s->storeproc)))
		return storeproc_lost(s);
	sd_log(SD_LOG_INFO, "stopped");
	return 0;
}

/* The event base, with the epoll backend's changelist: a connection's read and write
 * interest changes several times per request (reading paused while the store answers,
 * writing armed for the reply and disarmed once it left), and with the changelist libevent
 * makes one epoll_ctl per descriptor per turn of the loop, for the net change, instead of
 * one per change. Its one caveat, descriptors that are dup()s of each other, does not
 * arise: the loop watches each socket through one descriptor. */
static struct event_base *base_new(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base = NULL;

	if (cfg == NULL)
		return NULL;
	if (event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST) == 0)
		base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

/* --- Building and freeing ------------------------------------------------------------------------ */

static int server_alloc(const sd_config_t *config, const char *config_path, sd_server_t **out)
{
	sd_server_t *s = calloc(1, sizeof(*s));

	*out = s;
	if (s == NULL || (s->config_path = strdup(config_path != NULL ? config_path : "")) == NULL)
		return SD_ERR_NOMEM;
	s->config = config;
	s->listen_fd = s->control_fd = -1;
	s->started_uid = geteuid();
	pthread_mutex_init(&s->hop_lock, NULL);
	pthread_mutex_init(&s->work_lock, NULL);
	pthread_cond_init(&s->work_cond, NULL);
	snprintf(s->root, sizeof(s->root), "%s", config->dir);
#ifdef SD_TEST_CLOCK
	int r;

	if ((r = test_clock_start()) < 0)
		return r;
	sd_keyproc_set_probe(test_keyproc_forbidden_syscall);
	sd_storeproc_set_probe(test_storeproc_forbidden_syscall);
#endif
	if (evthread_use_pthreads() < 0 || (s->base = base_new()) == NULL ||
	    (s->hop_event = event_new(s->base, -1, 0, hop_run, s)) == NULL ||
	    (s->store_flush_event = event_new(s->base, -1, 0, store_flush_run, s)) == NULL)
		return sd_error(SD_ERR_INTERNAL, "cannot create the event loop");
	return 0;
}

int sd_server_new(const sd_config_t *config, const char *config_path, sd_server_t **out)
{
	sd_server_t *s = NULL;
	int r;

	*out = NULL;
	signal(SIGPIPE, SIG_IGN);
	sd_log_set_level(config->log_level);
	sd_sandbox_tune_malloc(); /* before the store process forks: it inherits the settings */
	if ((r = server_alloc(config, config_path, &s)) < 0 || (r = sd_server_load_files(s)) < 0 ||
	    (r = sd_server_bind(s)) < 0 || (r = sd_server_drop_privileges(s)) < 0 || (r = sd_sandbox_harden()) < 0 ||
	    (r = sd_server_open_store(s)) < 0 || (r = sd_server_refresh_crl(s)) < 0 ||
	    (r = sd_uploads_start(s, &s->uploads)) < 0 || (r = sd_auditlog_start(s, &s->auditlog)) < 0 ||
	    (r = sd_wbgate_new(config->pow_bits, config->anon_rate_per_minute, &s->wbgate)) < 0 ||
	    (r = worker_start(s)) < 0) {
		sd_server_free(s);
		return r;
	}
	*out = s;
	return 0;
}

static void event_free_if(struct event *ev)
{
	if (ev != NULL)
		event_free(ev);
}

static void free_timers(sd_server_t *s)
{
	struct timer *t, *next;

	for (t = s->timers; t != NULL; t = next) {
		next = t->next;
		event_free(t->ev);
		free(t);
	}
	s->timers = NULL;
}

void sd_server_free_(sd_server_t *s)
{
	if (s == NULL)
		return;
	/* Connections first (a request a route still waits on stays with its hop), then the
	 * store, whose close answers every queued request, then those answers, and only then
	 * what the answers' callbacks use (the uploads' state, the accounts). */
	s->draining = false; /* no loopexit from here */
	while (s->n_conns > 0)
		sd_conn_abort(s->conns[s->n_conns - 1]);
	sd_control_free(s->control);
	worker_stop(s);                  /* its last jobs' hops, like the store's answers, run just below */
	sd_store_close(s->store);        /* the store process answers the rest, then exits */
	sd_storeproc_free(s->storeproc); /* and is reaped */
	if (s->hop_event != NULL)
		hop_run(-1, 0, s); /* the routes' and control's last answers, into the void */
	sd_uploads_free(s->uploads);
	sd_auditlog_free(s->auditlog);
	sd_keyproc_free(s->keyproc); /* after the last answers, which may sign; it exits on the closed socket */
	sd_wbgate_free(s->wbgate);
	free_timers(s);
	if (s->listener != NULL)
		evconnlistener_free(s->listener);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->control_fd >= 0)
		close(s->control_fd);
	event_free_if(s->sig_term);
	event_free_if(s->sig_int);
	event_free_if(s->sig_hup);
	event_free_if(s->sig_chld);
	/* Freeing the events gave the signals their default action back: a second SIGTERM
	 * (an impatient operator, a supervisor) must not cut short what is left of the exit. */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	event_free_if(s->drain_timer);
	event_free_if(s->hop_event);
	event_free_if(s->store_flush_event);
	if (s->base != NULL)
		event_base_free(s->base);
	sd_accounts_free(s->accounts);
	sd_directory_free(s->directory);
	free(s->directory_json);
	sd_seckey_free(s->log_key);
	sd_tls_free(s->tls);
	sd_ca_free(s->ca);
	free(s->ca_der);
	free(s->crl);
	free(s->conns);
	free(s->waiters);
	free(s->config_path);
	pthread_mutex_destroy(&s->hop_lock);
	pthread_mutex_destroy(&s->work_lock);
	pthread_cond_destroy(&s->work_cond);
	free(s);
}
