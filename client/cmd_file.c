/*
 * cmd_file.c — `sealdrop file`: the attorney files a sealed package with the server
 * (docs/API.md) and keeps the signed receipt.
 *
 * In order (file_run()): the package's header is read and checked; the directory is
 * fetched from the server and trusted only once the pinned root key verifies it (and it
 * is not older than one already seen); the header is posted, which creates the upload or
 * finds the one already there; the chunks the server lacks are read with pread(2),
 * checked against the manifest and sent over N kept-alive connections (upload_chunks(),
 * one thread each); the commit answers with the receipt, which is verified against the
 * directory's log key and written next to the package. The upload id is kept in
 * PKG.upload.json until then, so an interrupted filing is resumed by running the same
 * command again: the server recognises the header and only missing chunks are sent.
 *
 * Two runs of the same filing at once (say, started twice by mistake) share one upload:
 * the server runs one commit and tells the other to retry (409 commit_in_progress), which
 * commit() does until it gets the first one's receipt; a run still sending chunks when
 * the other commits stops sending (409 upload_committed) and commits too. They share
 * PKG.upload.json and PKG.receipt.json as well, which are only ever replaced whole
 * (sd_file_write: a temporary name of its own, then rename) with the same contents.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sealdrop/bytes.h"
#include "sealdrop/envelope.h"
#include "sealdrop/fileio.h"
#include "sealdrop/receipt.h"
#include "sealdrop/sealdrop.h"
#include "cli.h"
#include "https.h"

#define PARALLEL_DEFAULT 4
#define PARALLEL_MAX     16
#define UPLOAD_ID_MAX    64
#define STATE_MAX        4096
#define BUSY_RETRIES     5 /* a 503 is retried after 1, 2, 4, 8, 16 seconds */
/* Another commit of the package running (409 commit_in_progress) is waited for: retried
 * after 250 ms, doubling up to 2 s, for about 30 s in all. */
#define COMMIT_WAIT_FIRST_MS 250
#define COMMIT_WAIT_MAX_MS   2000
#define COMMIT_WAIT_TOTAL_MS 30000
#define RECEIPT_SUFFIX       ".receipt.json"
#define STATE_SUFFIX         ".upload.json"
#define OCTETS               "application/octet-stream"
#define HEX_DIGEST_BYTES     (2 * SD_HASH_BYTES + 1)

static const cli_cmd_t cmd = {
        "file",
        N_("usage: sealdrop file PKG.sdx --server URL --ca CA.pem --cert CERT.pem --key KEY.pem\n"
           "                     --root ROOTPUB [--parallel N] [--json]\n"),
        N_("\n"
           "Files a sealed package with the server as the attorney the client certificate names,\n"
           "and writes the server's signed receipt to PKG.sdx.receipt.json.\n"
           "\n"
           "The directory is fetched from the server and trusted only if the pinned root key signed\n"
           "it; the package must belong to its deployment, and the receipt must verify against its\n"
           "log key. Only chunks the server does not have yet are sent, so an interrupted filing\n"
           "resumes when the same command is run again (the upload is noted in PKG.sdx.upload.json\n"
           "until the receipt is written). Filing the same package again returns the same case.\n"
           "\n"
           "  --server URL            the server, https://HOST[:PORT]\n"
           "  --ca CA.pem             the server's CA certificate: the only one trusted\n"
           "  --cert CERT.pem         the attorney's client certificate\n"
           "  --key KEY.pem           its private key (keep it mode 0600)\n"
           "  --root ROOTPUB          the pinned root public key the directory must be signed by\n"
           "  --parallel N            upload over N connections at once (1-16, default 4)\n"
           "  --json                  print the result as one JSON object\n"
           "  -h, --help              this help\n"),
};

enum { OPT_SERVER = 256, OPT_CA, OPT_CERT, OPT_KEY, OPT_ROOT, OPT_PARALLEL, OPT_JSON };

typedef struct {
	const char *pkg, *server, *ca, *cert, *key, *root;
	unsigned parallel;
	bool json;
} file_args_t;

typedef struct {
	uint32_t blob, chunk;
	uint64_t offset, size;
} chunk_t;

/* Everything one filing holds; released by file_state_free. */
typedef struct {
	const file_args_t *a;
	int fd;
	sd_header_t *h;
	sd_directory_t *dir;
	cli_https_ctx_t *ctx;
	cli_https_conn_t *conn;
	char *state_path, *receipt_path;
	char upload[UPLOAD_ID_MAX + 1];
	char digest[HEX_DIGEST_BYTES];
	bool resumed;
	chunk_t *todo;
	size_t n_todo;
	uint64_t chunks, skipped, uploaded, bytes_uploaded, bytes_done, bytes_total;
	json_t *answer; /* the last JSON answer that carries the state of the upload */
	sd_receipt_t rc;
} file_state_t;

static void file_state_free(file_state_t *s)
{
	if (s->fd >= 0)
		close(s->fd);
	sd_header_free(s->h);
	sd_directory_free(s->dir);
	cli_https_conn_free(s->conn);
	cli_https_ctx_free(s->ctx);
	free(s->state_path);
	free(s->receipt_path);
	free(s->todo);
	json_decref(s->answer);
}

static char *path_with(const char *base, const char *suffix)
{
	size_t n = strlen(base), k = strlen(suffix);
	char *p = malloc(n + k + 1);

	if (p != NULL) {
		memcpy(p, base, n);
		memcpy(p + n, suffix, k + 1);
	}
	return p;
}

/* --- talking to the server ------------------------------------------------------------ */

/* A request, retried while the server answers 503 (busy: its body budget or store queue
 * is full). */
static int request(cli_https_conn_t *c, const cli_https_request_t *req, cli_https_response_t *resp)
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

/* A JSON object answer with one of the wanted statuses (want2 0: only want). */
static int json_answer(const cli_https_response_t *resp, int want, int want2, const char *what, json_t **out)
{
	*out = NULL;
	if (resp->status != want && (want2 == 0 || resp->status != want2))
		return cli_http_fail(resp, what);
	return cli_answer_object(resp, what, out);
}

/* --- the package and the directory ---------------------------------------------------- */

static int package_open(file_state_t *s)
{
	struct stat st;
	int r;

	if ((s->fd = open(s->a->pkg, O_RDONLY | O_CLOEXEC)) < 0)
		return sd_error(errno == ENOENT ? SD_ERR_NOENT : SD_ERR_IO, "%s: %s", s->a->pkg, strerror(errno));
	if (fstat(s->fd, &st) != 0 || !S_ISREG(st.st_mode))
		return sd_error(SD_ERR_NOENT, _("%s: not a regular file"), s->a->pkg);
	if ((r = sd_header_read(s->fd, &s->h)) < 0)
		return cli_error_prefix(r, "%s", s->a->pkg);
	if ((uint64_t)st.st_size != s->h->package_size)
		return sd_error(SD_ERR_TRUNCATED, _("%s: the file has %llu bytes, its header describes %llu"),
		                s->a->pkg, (unsigned long long)st.st_size, (unsigned long long)s->h->package_size);
	sd_hex_encode(s->h->digest, sizeof(s->h->digest), s->digest);
	return 0;
}

static int connect_server(file_state_t *s)
{
	cli_https_config_t cfg = {
	        .url = s->a->server, .ca_file = s->a->ca, .cert_file = s->a->cert, .key_file = s->a->key};
	int r;

	if ((r = cli_https_ctx_new(&cfg, &s->ctx)) < 0)
		return r;
	if (cli_https_key_is_exposed(s->ctx))
		cli_warn(cmd.name, _("%s can be read by other users; make it private: chmod 600 %s"), s->a->key,
		         s->a->key);
	return cli_https_conn_new(s->ctx, &s->conn);
}

/* The server's directory (cli_directory_fetch: verified against the pinned root, not
 * rolled back, listing the CA we trust), listing a log key, of the package's deployment. */
static int fetch_directory(file_state_t *s)
{
	int r;

	if ((r = cli_directory_fetch(s->ctx, s->conn, s->a->root, s->a->ca, &s->dir)) < 0)
		return r;
	if (!s->dir->has_log)
		return sd_error(SD_ERR_INVALID, _("the server's directory lists no log key: its receipt could not be "
		                                  "verified"));
	return sd_header_check_deployment(s->h, s->dir);
}

/* --- the resume state ----------------------------------------------------------------- */

/* The upload id an earlier run recorded for this package on this server, or "". */
static void state_read(file_state_t *s, char prior[UPLOAD_ID_MAX + 1])
{
	uint8_t *buf = NULL;
	size_t len = 0;
	json_t *o = NULL;
	const char *server, *upload, *digest;

	prior[0] = '\0';
	if (sd_file_read(s->state_path, STATE_MAX, &buf, &len) < 0)
		return;
	o = json_loadb((const char *)buf, len, 0, NULL);
	if (json_unpack(o, "{s:s, s:s, s:s}", "server", &server, "upload", &upload, "header_digest", &digest) != 0 ||
	    strlen(upload) > UPLOAD_ID_MAX)
		cli_warn(cmd.name, _("%s is not a resume state this client wrote; it will be replaced"), s->state_path);
	else if (strcmp(digest, s->digest) != 0)
		cli_warn(cmd.name, _("%s belongs to another package; it will be replaced"), s->state_path);
	else if (strcmp(server, s->a->server) == 0)
		snprintf(prior, UPLOAD_ID_MAX + 1, "%s", upload);
	json_decref(o);
	free(buf);
}

static int state_write(const file_state_t *s)
{
	json_t *o =
	        json_pack("{s:s, s:s, s:s}", "server", s->a->server, "upload", s->upload, "header_digest", s->digest);
	char *text = o != NULL ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	int r = SD_ERR_NOMEM;

	if (text != NULL && (r = sd_file_write(s->state_path, text, strlen(text), 0600, SD_AFILE_REPLACE)) < 0)
		r = cli_error_prefix(r, "%s", s->state_path);
	free(text);
	json_decref(o);
	return r;
}

/* --- the upload's state on the server ------------------------------------------------- */

static bool upload_id_is_valid(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > UPLOAD_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'z') ||
		      (id[i] >= 'A' && id[i] <= 'Z') || id[i] == '-' || id[i] == '_'))
			return false;
	return true;
}

static int mismatch(const char *what)
{
	return sd_error(CLI_ERR_PROTOCOL, _("the server's account of the upload does not match the package (%s)"),
	                what);
}

/* One blob of the status: the same shape as the package's, and the chunks to send. */
static int plan_blob(file_state_t *s, json_t *b, uint32_t k)
{
	const sd_blob_t *blob = &s->h->blobs[k];
	json_int_t size, chunks;
	const char *present;
	size_t nbits = blob->n_chunks, nbytes = (nbits + 7) / 8;
	uint8_t *bits;
	uint64_t off = blob->offset;

	if (json_unpack(b, "{s:I, s:I, s:s}", "size", &size, "chunks", &chunks, "present", &present) != 0)
		return mismatch(_("a blob without size, chunks or present"));
	if ((uint64_t)size != blob->size || (uint64_t)chunks != nbits)
		return mismatch(_("a blob of another size"));
	if ((bits = malloc(nbytes)) == NULL)
		return SD_ERR_NOMEM;
	if (sd_base64_decode_exact(present, bits, nbytes) < 0) {
		free(bits);
		return mismatch(_("the bitmap of present chunks"));
	}
	for (uint32_t j = 0; j < blob->n_chunks; j++) {
		uint64_t n = sd_header_chunk_size(s->h, k, j);
		if (bits[j / 8] & (1u << (j % 8))) {
			s->skipped++;
			s->bytes_done += n;
		} else {
			s->todo[s->n_todo++] = (chunk_t){k, j, off, n};
		}
		off += n;
	}
	free(bits);
	return 0;
}

/* From the upload's status: the chunks that are missing, in package order. */
static int plan_chunks(file_state_t *s, json_t *status)
{
	json_t *blobs = json_object_get(status, "blobs");
	int r;

	s->chunks = s->n_todo = 0;
	s->skipped = s->bytes_done = s->bytes_total = 0;
	for (uint32_t k = 0; k < s->h->n_blobs; k++) {
		s->chunks += s->h->blobs[k].n_chunks;
		s->bytes_total += s->h->blobs[k].size;
	}
	if (!json_is_array(blobs) || json_array_size(blobs) != s->h->n_blobs)
		return mismatch(_("the number of blobs"));
	free(s->todo);
	if ((s->todo = calloc(s->chunks, sizeof(*s->todo))) == NULL)
		return SD_ERR_NOMEM;
	for (uint32_t k = 0; k < s->h->n_blobs; k++)
		if ((r = plan_blob(s, json_array_get(blobs, k), k)) < 0)
			return r;
	return 0;
}

static bool answer_is_committed(const file_state_t *s)
{
	json_t *state = json_object_get(s->answer, "state");

	return json_is_string(state) && strcmp(json_string_value(state), "committed") == 0;
}

/* POST /v1/uploads with the header: a new upload (201), this attorney's unfinished or
 * already filed one (200). */
static int post_header(file_state_t *s)
{
	cli_https_request_t req = {.method = "POST",
	                           .path = "/v1/uploads",
	                           .content_type = OCTETS,
	                           .body = s->h->raw,
	                           .body_len = s->h->raw_len,
	                           .body_fd = -1};
	cli_https_response_t resp;
	const char *id, *digest;
	int r;

	if ((r = request(s->conn, &req, &resp)) < 0 ||
	    (r = json_answer(&resp, 201, 200, _("the package"), &s->answer)) < 0)
		goto out;
	s->resumed = resp.status == 200;
	id = json_string_value(json_object_get(s->answer, "upload"));
	digest = json_string_value(json_object_get(s->answer, "header_digest"));
	/* A filed package is answered with its receipt, which is checked on its own. */
	if ((id == NULL || digest == NULL) && answer_is_committed(s))
		goto out;
	if (id == NULL || !upload_id_is_valid(id))
		r = mismatch(_("no upload id"));
	else if (digest == NULL || strcmp(digest, s->digest) != 0)
		r = mismatch(_("another header digest"));
	else
		snprintf(s->upload, sizeof(s->upload), "%s", id);
out:
	cli_https_response_free(&resp);
	return r;
}

/* --- sending the chunks ----------------------------------------------------------------- */

/* What became of a chunk sent: stored now, had already, or refused because the upload
 * is committed (by another run of the same filing: the server has every chunk). */
typedef enum { CHUNK_HAD, CHUNK_STORED, CHUNK_COMMITTED } chunk_fate_t;

typedef struct {
	file_state_t *s;
	pthread_mutex_t lock;
	size_t next;
	bool stop;
	bool committed; /* a chunk was refused as the upload is committed */
	int err;
	char detail[512];
	cli_progress_t prog;
} pool_t;

typedef struct {
	pool_t *pool;
	cli_https_conn_t *conn;
	bool own_conn;
	pthread_t thread;
	uint8_t *buf;
} worker_t;

static int chunk_read(const file_state_t *s, const chunk_t *ch, uint8_t *buf)
{
	uint64_t done = 0;
	int r;

	while (done < ch->size) {
		ssize_t got = pread(s->fd, buf + done, (size_t)(ch->size - done), (off_t)(ch->offset + done));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return sd_error(got < 0 ? SD_ERR_IO : SD_ERR_TRUNCATED, "%s: %s", s->a->pkg,
			                got < 0 ? strerror(errno) : _("the file became shorter while it was filed"));
		done += (uint64_t)got;
	}
	if ((r = sd_header_check_chunk(s->h, ch->blob, ch->chunk, buf, (size_t)ch->size)) < 0)
		return cli_error_prefix(r, "%s", s->a->pkg);
	return 0;
}

/* Reads, checks and sends one chunk and says what became of it. */
static int chunk_send(worker_t *w, const chunk_t *ch, chunk_fate_t *fate)
{
	const file_state_t *s = w->pool->s;
	char p[UPLOAD_ID_MAX + 64], what[96];
	cli_https_request_t req = {.method = "PUT", .path = p, .content_type = OCTETS, .body_fd = -1};
	cli_https_response_t resp;
	int r;

	if ((r = chunk_read(s, ch, w->buf)) < 0)
		return r;
	snprintf(p, sizeof(p), "/v1/uploads/%s/blobs/%u/chunks/%u", s->upload, ch->blob, ch->chunk);
	req.body = w->buf;
	req.body_len = (size_t)ch->size;
	if ((r = request(w->conn, &req, &resp)) < 0)
		goto out;
	if (resp.status == 201 || resp.status == 200) {
		*fate = resp.status == 201 ? CHUNK_STORED : CHUNK_HAD;
	} else if (resp.status == 409 && strcmp(resp.error, "upload_committed") == 0) {
		*fate = CHUNK_COMMITTED; /* or expired: the commit's answer tells which */
	} else {
		snprintf(what, sizeof(what), _("chunk %u of blob %u"), ch->chunk, ch->blob);
		r = cli_http_fail(&resp, what);
	}
out:
	cli_https_response_free(&resp);
	return r;
}

/* The next chunk to send, or NULL when there is none or the pool stops. */
static const chunk_t *pool_take(pool_t *pool)
{
	const chunk_t *ch = NULL;

	pthread_mutex_lock(&pool->lock);
	if (sd_is_cancelled() && !pool->stop) {
		pool->stop = true;
		pool->err = SD_ERR_CANCELLED;
		snprintf(pool->detail, sizeof(pool->detail), "%s", _("interrupted"));
	}
	if (!pool->stop && pool->next < pool->s->n_todo)
		ch = &pool->s->todo[pool->next++];
	pthread_mutex_unlock(&pool->lock);
	return ch;
}

static void pool_done(pool_t *pool, const chunk_t *ch, int r, chunk_fate_t fate)
{
	file_state_t *s = pool->s;

	pthread_mutex_lock(&pool->lock);
	if (r < 0 && !pool->stop) {
		pool->stop = true;
		pool->err = r;
		snprintf(pool->detail, sizeof(pool->detail), "%s", sd_error_detail());
	} else if (r == 0 && fate == CHUNK_COMMITTED) {
		pool->stop = true;
		pool->committed = true;
	} else if (r == 0) {
		if (fate == CHUNK_STORED) {
			s->uploaded++;
			s->bytes_uploaded += ch->size;
		} else {
			s->skipped++; /* the server had it after all */
		}
		s->bytes_done += ch->size;
		cli_progress_cb(&pool->prog, s->bytes_done, s->bytes_total);
	}
	pthread_mutex_unlock(&pool->lock);
}

static void *worker_main(void *arg)
{
	worker_t *w = arg;
	const chunk_t *ch;

	while ((ch = pool_take(w->pool)) != NULL) {
		chunk_fate_t fate = CHUNK_HAD;
		int r = chunk_send(w, ch, &fate);
		pool_done(w->pool, ch, r, fate);
	}
	return NULL;
}

static uint64_t largest_chunk(const file_state_t *s)
{
	uint64_t max = 0;

	for (size_t i = 0; i < s->n_todo; i++)
		max = s->todo[i].size > max ? s->todo[i].size : max;
	return max;
}

/* Starts the workers: the first uses the connection already open, each other its own. */
static size_t workers_start(pool_t *pool, worker_t *ws, size_t n)
{
	file_state_t *s = pool->s;
	uint64_t bufsize = largest_chunk(s);
	size_t started = 0;

	for (size_t i = 0; i < n; i++) {
		worker_t *w = &ws[i];
		w->pool = pool;
		w->own_conn = i > 0;
		w->conn = s->conn;
		if ((w->own_conn && cli_https_conn_new(s->ctx, &w->conn) < 0) || (w->buf = malloc(bufsize)) == NULL ||
		    pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			pool_done(pool, NULL, sd_error(SD_ERR_NOMEM, _("cannot start the upload threads")), CHUNK_HAD);
			break;
		}
		started++;
	}
	return started;
}

static int upload_chunks(file_state_t *s)
{
	size_t n = s->n_todo < s->a->parallel ? s->n_todo : s->a->parallel, started;
	worker_t ws[PARALLEL_MAX];
	pool_t pool;

	if (s->n_todo == 0)
		return 0;
	memset(&pool, 0, sizeof(pool));
	memset(ws, 0, sizeof(ws));
	pool.s = s;
	pthread_mutex_init(&pool.lock, NULL);
	cli_progress_init(&pool.prog, _("uploading"), !s->a->json);
	cli_progress_cb(&pool.prog, s->bytes_done, s->bytes_total);
	started = workers_start(&pool, ws, n);
	for (size_t i = 0; i < n; i++) {
		if (i < started)
			pthread_join(ws[i].thread, NULL);
		if (ws[i].own_conn)
			cli_https_conn_free(ws[i].conn);
		free(ws[i].buf);
	}
	cli_progress_end(&pool.prog);
	pthread_mutex_destroy(&pool.lock);
	if (pool.err < 0)
		return sd_error(pool.err, "%s", pool.detail);
	if (pool.committed)
		s->skipped = s->chunks - s->uploaded; /* the rest are on the server */
	return 0;
}

/* --- the receipt ---------------------------------------------------------------------- */

/* POST /v1/uploads/{id}/commit: the case and its receipt; *running when another commit
 * of the package is running (409 commit_in_progress) and this one should be retried. */
static int commit_once(file_state_t *s, bool *running)
{
	char p[UPLOAD_ID_MAX + 32];
	cli_https_request_t req = {.method = "POST", .path = p, .body_fd = -1};
	cli_https_response_t resp;
	int r;

	snprintf(p, sizeof(p), "/v1/uploads/%s/commit", s->upload);
	json_decref(s->answer);
	s->answer = NULL;
	*running = false;
	if ((r = request(s->conn, &req, &resp)) == 0) {
		*running = resp.status == 409 && strcmp(resp.error, "commit_in_progress") == 0;
		if (!*running)
			r = json_answer(&resp, 201, 200, _("the commit"), &s->answer);
	}
	cli_https_response_free(&resp);
	return r;
}

/* The commit, waiting while another one of the same package runs (another run of this
 * filing): once that one is done, the server answers with its case and receipt. */
static int commit(file_state_t *s)
{
	unsigned wait = COMMIT_WAIT_FIRST_MS, waited = 0;
	bool running;
	int r;

	for (;;) {
		if ((r = commit_once(s, &running)) < 0 || !running)
			return r;
		if (waited >= COMMIT_WAIT_TOTAL_MS)
			return sd_error(CLI_ERR_UNAVAILABLE,
			                _("another commit of this package has been running on the server for %u "
			                  "seconds (HTTP 409 commit_in_progress); run the same command again later "
			                  "to get its receipt"),
			                waited / 1000);
		cli_nap(wait);
		if (sd_is_cancelled())
			return sd_error(SD_ERR_CANCELLED, _("interrupted"));
		waited += wait;
		wait = wait * 2 < COMMIT_WAIT_MAX_MS ? wait * 2 : COMMIT_WAIT_MAX_MS;
	}
}

/* The receipt in the answer (the signed document, as an object or as its text), checked
 * against the directory's log key and the package; written next to the package. */
static int keep_receipt(file_state_t *s)
{
	json_t *doc = json_object_get(s->answer, "receipt"), *c = json_object_get(s->answer, "case");
	char *text = NULL;
	size_t len;
	int r;

	if (json_is_object(doc))
		text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	else if (json_is_string(doc))
		text = strdup(json_string_value(doc));
	if (text == NULL)
		return doc == NULL ? sd_error(CLI_ERR_PROTOCOL, _("the server's answer carries no receipt"))
		                   : SD_ERR_NOMEM;
	len = strlen(text);
	if ((r = sd_receipt_verify_with_directory((const uint8_t *)text, len, s->dir, &s->rc)) < 0)
		r = cli_error_prefix(r, _("the server's receipt"));
	else if (!sd_equal(s->rc.header_digest, s->h->digest, SD_HASH_BYTES))
		r = sd_error(SD_ERR_VERIFY, _("the server's receipt is for another package (header digest)"));
	else if (json_is_string(c) && strcmp(json_string_value(c), s->rc.case_number) != 0)
		r = sd_error(SD_ERR_VERIFY, _("the server's receipt names another case than its answer"));
	else if ((r = sd_file_write(s->receipt_path, text, len, 0644, SD_AFILE_REPLACE)) < 0)
		r = cli_error_prefix(r, "%s", s->receipt_path);
	else if (unlink(s->state_path) != 0 && errno != ENOENT)
		cli_warn(cmd.name, _("cannot remove %s: %s"), s->state_path, strerror(errno));
	free(text);
	return r;
}

static int summary(const file_state_t *s)
{
	char received[SD_DATE_TEXT_BYTES], due[SD_DATE_TEXT_BYTES], id[SD_KEY_ID_HEX_BYTES];

	if (s->a->json)
		return cli_json_print(json_pack(
		        "{s:s, s:s, s:o, s:o, s:s, s:s, s:I, s:I, s:I, s:b, s:I}", "package", s->a->pkg, "case",
		        s->rc.case_number, "received", cli_json_date(s->rc.received), "decision_due",
		        cli_json_date(s->rc.decision_due), "receipt", s->receipt_path, "upload", s->upload, "chunks",
		        (json_int_t)s->chunks, "uploaded", (json_int_t)s->uploaded, "skipped", (json_int_t)s->skipped,
		        "resumed", s->resumed, "bytes_uploaded", (json_int_t)s->bytes_uploaded));
	sd_date_format(s->rc.received, received);
	sd_date_format(s->rc.decision_due, due);
	sd_key_id_hex(s->rc.log_key_id, id);
	printf(_("filed %s: case %s\n"), s->a->pkg, s->rc.case_number);
	printf(_("  received       %s\n"), received);
	printf(_("  decision due   %s (Art. 8(1): 60 days from receipt)\n"), due);
	printf(_("  attorney       %s\n"), s->rc.attorney);
	printf(_("  header digest  %s\n"), s->digest);
	printf(_("  receipt        %s (signed by log key %s, verified)\n"), s->receipt_path, id);
	printf(_("  chunks         %llu: %llu sent, %llu already on the server\n"), (unsigned long long)s->chunks,
	       (unsigned long long)s->uploaded, (unsigned long long)s->skipped);
	return 0;
}

static int file_run(const file_args_t *a)
{
	char prior[UPLOAD_ID_MAX + 1];
	file_state_t s;
	int r;

	memset(&s, 0, sizeof(s));
	s.a = a;
	s.fd = -1;
	r = SD_ERR_NOMEM;
	if ((s.state_path = path_with(a->pkg, STATE_SUFFIX)) == NULL ||
	    (s.receipt_path = path_with(a->pkg, RECEIPT_SUFFIX)) == NULL)
		goto out;
	if ((r = package_open(&s)) < 0 || (r = connect_server(&s)) < 0 || (r = fetch_directory(&s)) < 0)
		goto out;
	state_read(&s, prior);
	if ((r = post_header(&s)) < 0)
		goto out;
	if (!answer_is_committed(&s)) {
		if (prior[0] != '\0' && strcmp(prior, s.upload) != 0)
			cli_note(a->json, _("the earlier upload %s is gone from the server; starting again"), prior);
		if ((r = state_write(&s)) < 0 || (r = plan_chunks(&s, s.answer)) < 0 || (r = upload_chunks(&s)) < 0)
			goto out;
		if (sd_is_cancelled()) {
			r = sd_error(SD_ERR_CANCELLED, _("interrupted"));
			goto out;
		}
		if ((r = commit(&s)) < 0)
			goto out;
	} else {
		/* filed before: the server has every chunk (its answer need not list them) */
		if ((r = plan_chunks(&s, s.answer)) == SD_ERR_NOMEM)
			goto out;
		s.n_todo = 0;
		s.skipped = s.chunks;
	}
	if ((r = keep_receipt(&s)) == 0)
		r = summary(&s);
out:
	if (r == SD_ERR_CANCELLED && s.upload[0] != '\0')
		r = sd_error(r, _("interrupted; run the same command again to resume the upload (%s)"), s.state_path);
	file_state_free(&s);
	return r;
}

/* --- options -------------------------------------------------------------------------- */

/* --parallel N: a cli_opt_t take function, out an unsigned. */
static int parse_parallel(const char *v, void *out)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0 || n < 1 || n > PARALLEL_MAX)
		return cli_usage_error(&cmd, _("--parallel '%s' must be a whole number from 1 to %d"), v, PARALLEL_MAX);
	*(unsigned *)out = (unsigned)n;
	return 0;
}

/* Returns -1 to go on, or the exit status (help, usage error). */
static int parse(int argc, char **argv, file_args_t *a)
{
	const cli_opt_t opts[] = {
	        {"server", OPT_SERVER, .value = &a->server},
	        {"ca", OPT_CA, .value = &a->ca},
	        {"cert", OPT_CERT, .value = &a->cert},
	        {"key", OPT_KEY, .value = &a->key},
	        {"root", OPT_ROOT, .value = &a->root},
	        {"parallel", OPT_PARALLEL, .take = parse_parallel, .dst = &a->parallel},
	        {"json", OPT_JSON, .flag = &a->json},
	        {0},
	};
	int r;

	if ((r = cli_getopt(&cmd, argc, argv, opts)) >= 0)
		return r;
	if ((r = cli_one_argument(&cmd, argc, argv, _("missing the package PKG.sdx"), &a->pkg)) != 0)
		return r;
	if (a->server == NULL || a->ca == NULL || a->cert == NULL || a->key == NULL || a->root == NULL)
		return cli_usage_error(&cmd, _("missing %s"),
		                       a->server == NULL ? "--server"
		                       : a->ca == NULL   ? "--ca"
		                       : a->cert == NULL ? "--cert"
		                       : a->key == NULL  ? "--key"
		                                         : "--root");
	return -1;
}

int cmd_file(int argc, char **argv)
{
	file_args_t a = {.parallel = PARALLEL_DEFAULT};
	int r = parse(argc, argv, &a);

	if (r >= 0)
		return r;
	sd_error_clear();
	if ((r = file_run(&a)) < 0)
		return cli_fail(cmd.name, r);
	return 0;
}
