/*
 * cmd_fetch.c — `sealdrop fetch`: an officer downloads a filed case's package from the
 * server and opens it on their own machine with the intake key (docs/API.md, "GET
 * /v1/cases/{case}/header" and ".../blobs/{k}/chunks/{n}").
 *
 * In order (fetch_run()): the directory is fetched and trusted only once the pinned root
 * key verifies it; the case's header digest is read, and the header the server sends
 * must hash to it, carry a valid signature and belong to the directory's deployment (what
 * `inspect` checks); the intake key is unlocked, and must be the one the package is
 * sealed to, before anything is downloaded. Then every chunk goes into DIR/CASE.sdx.part
 * at its offset, over N kept-alive connections (one thread each), each checked against
 * the signed manifest BEFORE it is written: a chunk that does not match means the
 * server's copy is damaged or forged, and the download is discarded (exit 65). Chunks
 * written are listed in DIR/CASE.sdx.fetch.json, so the same command run again resumes,
 * re-checking from the disk what the list claims. Finally the package is opened as
 * `sealdrop open` opens it (cmd_open.c) and renamed to DIR/CASE.sdx. The identity blob
 * is downloaded as ciphertext, part of the package, and stays sealed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
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
#define BUSY_RETRIES     5                 /* a 503 is retried after 1, 2, 4, 8, 16 seconds */
#define STATE_MAX        ((size_t)1 << 20) /* the bitmap of a maximal manifest is 32 KiB */
#define STATE_EVERY_NS   1000000000ull     /* the resume state is rewritten at most once a second */
#define PATH_EXTRA       32                /* bytes the names below add to DIR/CASE */
#define PART_SUFFIX      ".sdx.part"
#define STATE_SUFFIX     ".sdx.fetch.json"
#define TMP_SUFFIX       ".tmp" /* the state file's next version, before its rename */
#define HEX_DIGEST_BYTES (2 * SD_HASH_BYTES + 1)

static const cli_cmd_t cmd = {
        "fetch",
        N_("usage: sealdrop fetch CASE --intake KEY... [--passphrase-file F] --out DIR [--parallel N] [--json]\n"
           "                      [--server URL --ca CA.pem --cert CERT.pem --key KEY.pem --root ROOTPUB]\n"),
        N_("\n"
           "Downloads case CASE's package (officer or custodian certificate) and opens it with the\n"
           "intake secret key into DIR, as `sealdrop open` does: DIR/report.json and\n"
           "DIR/evidence/<name>, and the package itself as DIR/CASE.sdx. The whistleblower's identity\n"
           "stays sealed: it can be opened only with their consent.\n"
           "\n"
           "Nothing the server sends is trusted: the header must be the case's, signed, and of the\n"
           "deployment of the directory the pinned root key signed, and every chunk must match the\n"
           "header's manifest before it is kept. A chunk that does not means the server's copy is\n"
           "damaged or forged: the download is discarded and fetch exits with status 65. An\n"
           "interrupted download resumes when the same command is run again (the chunks already\n"
           "here are listed in DIR/CASE.sdx.fetch.json until the package is opened).\n"
           "\n"
           "  --intake KEY            the intake secret key file; repeat it for each key kept (the\n"
           "                          one the package is sealed to is chosen by the KEY.pub beside\n"
           "                          each, and only it is asked its passphrase)\n"
           "  --passphrase-file F     its passphrase from F instead of the terminal\n"
           "                          (RISK: a passphrase in a file can be copied or seized)\n"
           "  --out DIR               where to put the package, the report and the evidence (a new or\n"
           "                          empty directory, or one an interrupted fetch of CASE left)\n"
           "  --server URL            the server, https://HOST[:PORT]\n"
           "  --ca CA.pem             the server's CA certificate: the only one trusted\n"
           "  --cert CERT.pem         your client certificate (officer or custodian)\n"
           "  --key KEY.pem           its private key (keep it mode 0600)\n"
           "  --root ROOTPUB          the pinned root public key the directory must be signed by\n"
           "  --parallel N            download over N connections at once (1-16, default 4)\n"
           "  --json                  print what was written as one JSON object\n"
           "  -h, --help              this help\n"
           "\n"
           "Options not given are taken from the config file $XDG_CONFIG_HOME/sealdrop/config\n"
           "(~/.config/sealdrop/config; SEALDROP_CONFIG=FILE names another): server, ca, cert, key,\n"
           "root and intake.\n"),
};

enum {
	OPT_SERVER = 256,
	OPT_CA,
	OPT_CERT,
	OPT_KEY,
	OPT_ROOT,
	OPT_INTAKE,
	OPT_PASSFILE,
	OPT_OUT,
	OPT_PARALLEL,
	OPT_JSON
};

typedef struct {
	cli_remote_opts_t o; /* server, ca, cert, key, root, intake (the config file's) */
	cli_config_t cfg;
	cli_keys_t intake;
	const char *case_number, *passfile, *out;
	unsigned parallel;
	bool json;
} fetch_args_t;

typedef struct {
	uint32_t blob, chunk;
	size_t index; /* in package order, over every blob: the bit in the resume state */
	uint64_t offset, size;
} chunk_t;

/* Everything one fetch holds; released by fetch_free. */
typedef struct {
	const fetch_args_t *a;
	cli_https_ctx_t *ctx;
	cli_https_conn_t *conn;
	sd_directory_t *dir;
	sd_header_t *h;
	sd_seckey_t *key;
	char *pkg_path, *part_path, *state_path, *open_path;
	char digest[HEX_DIGEST_BYTES];
	bool made_dir, resumed;
	int fd;
	uint8_t *done; /* a bit per chunk: written and checked */
	size_t n_chunks;
	chunk_t *todo;
	size_t n_todo;
	uint64_t skipped, downloaded, bytes_done, bytes_total, bytes_downloaded;
} fetch_t;

static void fetch_free(fetch_t *s)
{
	if (s->fd >= 0)
		close(s->fd);
	cli_https_conn_free(s->conn);
	cli_https_ctx_free(s->ctx);
	sd_directory_free(s->dir);
	sd_header_free(s->h);
	sd_seckey_free(s->key);
	free(s->pkg_path);
	free(s->part_path);
	free(s->state_path);
	free(s->open_path);
	free(s->done);
	free(s->todo);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* --- talking to the server ------------------------------------------------------------ */

/* GET path, retried while the server answers 503 (busy); a status other than 200 is
 * cli_http_fail's (4xx: refused, 77; 5xx: unavailable, 69). */
static int get(cli_https_conn_t *c, const char *path, const char *what, cli_https_response_t *resp)
{
	cli_https_request_t req = {.method = "GET", .path = path, .body_fd = -1};
	int r;

	for (unsigned i = 0;; i++) {
		if ((r = cli_https_request(c, &req, resp)) < 0)
			return r;
		if (resp->status != 503 || i == BUSY_RETRIES)
			break;
		cli_https_response_free(resp);
		cli_nap(1000u << i);
		if (sd_is_cancelled())
			return sd_error(SD_ERR_CANCELLED, _("interrupted"));
	}
	if (resp->status != 200)
		return cli_http_fail(resp, what);
	return 0;
}

static int connect_server(fetch_t *s)
{
	const cli_remote_opts_t *o = &s->a->o;
	cli_https_config_t cfg = {.url = o->server, .ca_file = o->ca, .cert_file = o->cert, .key_file = o->key};
	int r;

	if ((r = cli_https_ctx_new(&cfg, &s->ctx)) < 0)
		return r;
	if (cli_https_key_is_exposed(s->ctx))
		cli_warn(cmd.name, _("%s can be read by other users; make it private: chmod 600 %s"), o->key, o->key);
	if ((r = cli_https_conn_new(s->ctx, &s->conn)) < 0)
		return r;
	return cli_directory_fetch(s->ctx, s->conn, o->root, o->ca, &s->dir);
}

/* GET /v1/cases/{case}: the header digest the case was filed with, as hex in s->digest. */
static int case_digest(fetch_t *s)
{
	char path[64];
	cli_https_response_t resp;
	json_t *o = NULL;
	const char *c, *d;
	int r;

	snprintf(path, sizeof(path), "/v1/cases/%s", s->a->case_number);
	memset(&resp, 0, sizeof(resp));
	if ((r = get(s->conn, path, _("the case"), &resp)) < 0)
		goto out;
	if (resp.body != NULL)
		o = json_loadb((const char *)resp.body, resp.body_len, JSON_REJECT_DUPLICATES, NULL);
	c = json_string_value(json_object_get(o, "case"));
	d = json_string_value(json_object_get(o, "header_digest"));
	if (c == NULL || strcmp(c, s->a->case_number) != 0 || d == NULL || strlen(d) != HEX_DIGEST_BYTES - 1)
		r = sd_error(CLI_ERR_PROTOCOL, _("the server's answer about case %s names no header digest"),
		             s->a->case_number);
	else
		snprintf(s->digest, sizeof(s->digest), "%s", d);
out:
	json_decref(o);
	cli_https_response_free(&resp);
	return r;
}

/* GET /v1/cases/{case}/header: parsed (signature checked), the case's, of the
 * directory's deployment. */
static int fetch_header(fetch_t *s)
{
	char path[64], hex[HEX_DIGEST_BYTES];
	cli_https_response_t resp;
	int r;

	snprintf(path, sizeof(path), "/v1/cases/%s/header", s->a->case_number);
	memset(&resp, 0, sizeof(resp));
	if ((r = get(s->conn, path, _("the package's header"), &resp)) < 0)
		goto out;
	if ((r = sd_header_parse(resp.body, resp.body_len, &s->h)) < 0) {
		r = cli_error_prefix(r, _("the header the server sent"));
		goto out;
	}
	sd_hex_encode(s->h->digest, SD_HASH_BYTES, hex);
	if (strcmp(hex, s->digest) != 0)
		r = sd_error(SD_ERR_VERIFY,
		             _("the header the server sent is not case %s's (its digest is %s, the case's %s)"),
		             s->a->case_number, hex, s->digest);
	else if ((r = sd_header_check_deployment(s->h, s->dir)) < 0)
		r = cli_error_prefix(r, _("case %s's package"), s->a->case_number);
out:
	cli_https_response_free(&resp);
	return r;
}

/* The intake key the package's content key is sealed to, of those given, unlocked. */
static int load_key(fetch_t *s)
{
	char what[64];

	snprintf(what, sizeof(what), _("case %s's package"), s->a->case_number);
	return cli_seckey_load_matching(&s->a->intake, SD_KEY_INTAKE, s->h->intake_id, what, s->a->passfile, &s->key);
}

/* --- the output directory ------------------------------------------------------------- */

static char *path_of(const fetch_t *s, const char *prefix, const char *suffix)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%s%s%s", s->a->out, prefix, s->a->case_number, suffix) < 0)
		return NULL;
	return p;
}

/* A name an interrupted fetch of this case leaves in DIR: the partial package, the
 * resume state, the opened package not yet moved into place, open's staging. */
static bool is_ours(const fetch_t *s, const char *name)
{
	const char *cn = s->a->case_number;
	size_t n = strlen(cn);
	char staging[PATH_EXTRA];

	snprintf(staging, sizeof(staging), "..%s.open.tmp-", cn);
	if (strncmp(name, staging, strlen(staging)) == 0)
		return true;
	if (name[0] == '.' && strncmp(name + 1, cn, n) == 0 && strcmp(name + 1 + n, ".open") == 0)
		return true;
	return strncmp(name, cn, n) == 0 &&
	       (strcmp(name + n, PART_SUFFIX) == 0 || strcmp(name + n, STATE_SUFFIX) == 0 ||
	        strcmp(name + n, STATE_SUFFIX TMP_SUFFIX) == 0);
}

/* DIR is missing, empty, or holds only what an interrupted fetch of this case left. */
static int out_dir_check(const fetch_t *s)
{
	char shown[64];
	struct dirent *e;
	DIR *dp = opendir(s->a->out);
	int r = 0;

	if (dp == NULL) {
		if (errno == ENOENT)
			return 0;
		return sd_error(errno == ENOTDIR ? SD_ERR_EXISTS : SD_ERR_IO, "--out %s: %s", s->a->out,
		                errno == ENOTDIR ? _("exists and is not a directory") : strerror(errno));
	}
	while (r == 0 && (e = readdir(dp)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 || is_ours(s, e->d_name))
			continue;
		r = sd_error(SD_ERR_EXISTS,
		             _("--out %s: holds %s; give a new or empty directory (nothing was overwritten)"),
		             s->a->out, sd_error_printable(e->d_name, shown, sizeof(shown)));
	}
	closedir(dp);
	return r;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) == 0 || errno == ENOENT ? 0 : -1;
}

/* What an earlier run opened but did not move into place (it holds plaintext). */
static int remove_opened(const fetch_t *s)
{
	if (nftw(s->open_path, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT)
		return sd_error(SD_ERR_IO, _("cannot remove %s: %s"), s->open_path, strerror(errno));
	return 0;
}

/* --- the resume state ----------------------------------------------------------------- */

static size_t bitmap_bytes(const fetch_t *s)
{
	return (s->n_chunks + 7) / 8;
}

/* The chunks an earlier run of this fetch wrote, into s->done; nothing when the state is
 * missing or about another server, case or package. */
static void state_read(fetch_t *s)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	json_t *o = NULL;
	const char *server, *cn, *digest, *done;
	json_int_t chunks;

	if (sd_file_read(s->state_path, STATE_MAX, &buf, &len) < 0)
		return;
	o = json_loadb((const char *)buf, len, 0, NULL);
	if (json_unpack(o, "{s:s, s:s, s:s, s:I, s:s}", "server", &server, "case", &cn, "header_digest", &digest,
	                "chunks", &chunks, "done", &done) != 0 ||
	    (uint64_t)chunks != s->n_chunks || sd_base64_decode_exact(done, s->done, bitmap_bytes(s)) < 0)
		cli_warn(cmd.name, _("%s is not a resume state this client wrote; starting again"), s->state_path);
	else if (strcmp(server, s->a->o.server) != 0 || strcmp(cn, s->a->case_number) != 0 ||
	         strcmp(digest, s->digest) != 0)
		cli_warn(cmd.name, _("%s is about another download; starting again"), s->state_path);
	else
		s->resumed = true;
	if (!s->resumed)
		memset(s->done, 0, bitmap_bytes(s));
	json_decref(o);
	free(buf);
}

/* Replaces the state file with text. Not sd_file_write: that refuses to commit once the
 * user asked to stop, which is exactly when the state must be kept. */
static int state_put(const fetch_t *s, const char *text)
{
	char *tmp = NULL;
	int fd = -1, r = 0;

	if (asprintf(&tmp, "%s%s", s->state_path, TMP_SUFFIX) < 0)
		return SD_ERR_NOMEM;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0 ||
	    sd_write_full(fd, text, strlen(text)) < 0 || fsync(fd) != 0 || rename(tmp, s->state_path) != 0)
		r = sd_error(SD_ERR_IO, "%s: %s", s->state_path, strerror(errno));
	if (fd >= 0)
		close(fd);
	if (r < 0)
		unlink(tmp);
	free(tmp);
	return r;
}

static int state_write(const fetch_t *s)
{
	char *b64, *text = NULL;
	json_t *o = NULL;
	int r = SD_ERR_NOMEM;

	if (s->state_path == NULL) /* export's download (cli_fetch_content) keeps no state */
		return 0;
	if ((b64 = malloc(sd_base64_len(bitmap_bytes(s)))) == NULL)
		return r;
	sd_base64_encode(s->done, bitmap_bytes(s), b64);
	o = json_pack("{s:s, s:s, s:s, s:I, s:s}", "server", s->a->o.server, "case", s->a->case_number, "header_digest",
	              s->digest, "chunks", (json_int_t)s->n_chunks, "done", b64);
	if (o != NULL && (text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) != NULL)
		r = state_put(s, text);
	free(text);
	json_decref(o);
	free(b64);
	return r;
}

static bool bit_has(const uint8_t *bits, size_t i)
{
	return (bits[i / 8] >> (i % 8)) & 1u;
}

static void bit_set(uint8_t *bits, size_t i, bool on)
{
	if (on)
		bits[i / 8] |= (uint8_t)(1u << (i % 8));
	else
		bits[i / 8] &= (uint8_t) ~(1u << (i % 8));
}

/* --- the partial package -------------------------------------------------------------- */

static int part_io(const fetch_t *s, bool write, uint8_t *buf, uint64_t len, uint64_t off)
{
	uint64_t done = 0;

	while (done < len) {
		ssize_t n = write ? pwrite(s->fd, buf + done, (size_t)(len - done), (off_t)(off + done))
		                  : pread(s->fd, buf + done, (size_t)(len - done), (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sd_error(SD_ERR_IO, "%s: %s", s->part_path, strerror(errno));
		if (n == 0)
			return SD_ERR_TRUNCATED; /* a hole past the end: not there yet */
		done += (uint64_t)n;
	}
	return 0;
}

/* Creates DIR and opens DIR/CASE.sdx.part at the package's size, its header written. */
static int part_open(fetch_t *s)
{
	int r;

	if (mkdir(s->a->out, 0700) == 0)
		s->made_dir = true;
	else if (errno != EEXIST)
		return sd_error(SD_ERR_IO, "--out %s: %s", s->a->out, strerror(errno));
	if ((r = remove_opened(s)) < 0)
		return r;
	s->fd = open(s->part_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (s->fd < 0)
		return sd_error(SD_ERR_IO, "%s: %s", s->part_path, strerror(errno));
	if (flock(s->fd, LOCK_EX | LOCK_NB) != 0)
		return sd_error(errno == EWOULDBLOCK ? SD_ERR_REFUSED : SD_ERR_IO, "%s: %s", s->part_path,
		                errno == EWOULDBLOCK ? _("another fetch is writing it") : strerror(errno));
	if (ftruncate(s->fd, (off_t)s->h->package_size) != 0)
		return sd_error(SD_ERR_IO, "%s: %s", s->part_path, strerror(errno));
	return part_io(s, true, s->h->raw, s->h->raw_len, 0);
}

/* Every chunk in package order: those the state lists and the disk confirms are kept,
 * the others go into s->todo. */
static int plan(fetch_t *s)
{
	uint8_t *buf = malloc(SD_CHUNK_BYTES + 64);
	cli_progress_t prog;
	uint64_t off;
	size_t i = 0;

	if (buf == NULL || (s->todo = calloc(s->n_chunks, sizeof(*s->todo))) == NULL) {
		free(buf);
		return SD_ERR_NOMEM;
	}
	cli_progress_init(&prog, _("checking"), s->resumed && !s->a->json);
	for (uint32_t k = 0; k < s->h->n_blobs; k++) {
		off = s->h->blobs[k].offset;
		for (uint32_t j = 0; j < s->h->blobs[k].n_chunks; j++, i++) {
			chunk_t ch = {k, j, i, off, sd_header_chunk_size(s->h, k, j)};
			bool have = bit_has(s->done, i) && ch.size <= SD_CHUNK_BYTES + 64 &&
			            part_io(s, false, buf, ch.size, off) == 0 &&
			            sd_header_check_chunk(s->h, k, j, buf, (size_t)ch.size) == 0;
			bit_set(s->done, i, have);
			if (have) {
				s->skipped++;
				s->bytes_done += ch.size;
				cli_progress_cb(&prog, s->bytes_done, s->bytes_total);
			} else {
				s->todo[s->n_todo++] = ch;
			}
			off += ch.size;
		}
	}
	cli_progress_end(&prog);
	free(buf);
	return 0;
}

/* --- downloading the chunks ------------------------------------------------------------- */

typedef struct {
	fetch_t *s;
	pthread_mutex_t lock;
	size_t next;
	bool stop, dirty;
	int err;
	char detail[512];
	uint64_t saved_ns;
	cli_progress_t prog;
} pool_t;

typedef struct {
	pool_t *pool;
	cli_https_conn_t *conn;
	bool own_conn;
	pthread_t thread;
} worker_t;

/* GETs one chunk, checks it against the manifest and writes it at its offset. */
static int chunk_fetch(worker_t *w, const chunk_t *ch)
{
	const fetch_t *s = w->pool->s;
	char path[128], what[96];
	cli_https_response_t resp;
	int r;

	memset(&resp, 0, sizeof(resp));
	snprintf(path, sizeof(path), "/v1/cases/%s/blobs/%u/chunks/%u", s->a->case_number, ch->blob, ch->chunk);
	snprintf(what, sizeof(what), _("chunk %u of blob %u"), ch->chunk, ch->blob);
	if ((r = get(w->conn, path, what, &resp)) < 0)
		goto out;
	if (resp.body == NULL || resp.body_len != ch->size ||
	    sd_header_check_chunk(s->h, ch->blob, ch->chunk, resp.body, resp.body_len) < 0) {
		r = sd_error(SD_ERR_VERIFY,
		             _("chunk %u of blob %u from the server does not match the package's signed manifest: "
		               "the server's copy is damaged or forged; the download was discarded"),
		             ch->chunk, ch->blob);
		goto out;
	}
	r = part_io(s, true, resp.body, resp.body_len, ch->offset);
out:
	cli_https_response_free(&resp);
	return r;
}

/* The first failure stops the pool; a request cut short by the user is an interruption. */
static void pool_fail(pool_t *pool, int r, const char *detail)
{
	if (pool->stop)
		return;
	pool->stop = true;
	pool->err = sd_is_cancelled() && r != SD_ERR_VERIFY ? SD_ERR_CANCELLED : r;
	snprintf(pool->detail, sizeof(pool->detail), "%s", pool->err == r ? detail : _("interrupted"));
}

/* The next chunk to fetch, or NULL when there is none or the pool stops. */
static const chunk_t *pool_take(pool_t *pool)
{
	const chunk_t *ch = NULL;

	pthread_mutex_lock(&pool->lock);
	if (sd_is_cancelled())
		pool_fail(pool, SD_ERR_CANCELLED, _("interrupted"));
	if (!pool->stop && pool->next < pool->s->n_todo)
		ch = &pool->s->todo[pool->next++];
	pthread_mutex_unlock(&pool->lock);
	return ch;
}

static void pool_done(pool_t *pool, const chunk_t *ch, int r)
{
	fetch_t *s = pool->s;
	uint64_t now;

	pthread_mutex_lock(&pool->lock);
	if (r < 0) {
		pool_fail(pool, r, sd_error_detail());
	} else {
		bit_set(s->done, ch->index, true);
		pool->dirty = true;
		s->downloaded++;
		s->bytes_downloaded += ch->size;
		s->bytes_done += ch->size;
		cli_progress_cb(&pool->prog, s->bytes_done, s->bytes_total);
		if ((now = now_ns()) - pool->saved_ns >= STATE_EVERY_NS) {
			pool->saved_ns = now;
			pool->dirty = false;
			if ((r = state_write(s)) < 0)
				pool_fail(pool, r, sd_error_detail());
		}
	}
	pthread_mutex_unlock(&pool->lock);
}

static void *worker_main(void *arg)
{
	worker_t *w = arg;
	const chunk_t *ch;

	while ((ch = pool_take(w->pool)) != NULL)
		pool_done(w->pool, ch, chunk_fetch(w, ch));
	return NULL;
}

/* Starts the workers: the first uses the connection already open, each other its own. */
static size_t workers_start(pool_t *pool, worker_t *ws, size_t n)
{
	size_t started = 0;

	for (size_t i = 0; i < n; i++) {
		worker_t *w = &ws[i];
		w->pool = pool;
		w->own_conn = i > 0;
		w->conn = pool->s->conn;
		if ((w->own_conn && cli_https_conn_new(pool->s->ctx, &w->conn) < 0) ||
		    pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			pthread_mutex_lock(&pool->lock);
			pool_fail(pool, SD_ERR_NOMEM, _("cannot start the download threads"));
			pthread_mutex_unlock(&pool->lock);
			break;
		}
		started++;
	}
	return started;
}

static int download(fetch_t *s)
{
	size_t n = s->n_todo < s->a->parallel ? s->n_todo : s->a->parallel, started;
	worker_t ws[PARALLEL_MAX];
	pool_t pool;
	int r;

	if (s->n_todo == 0)
		return 0;
	memset(&pool, 0, sizeof(pool));
	memset(ws, 0, sizeof(ws));
	pool.s = s;
	pool.saved_ns = now_ns();
	pthread_mutex_init(&pool.lock, NULL);
	cli_progress_init(&pool.prog, _("downloading"), !s->a->json);
	cli_progress_cb(&pool.prog, s->bytes_done, s->bytes_total);
	started = workers_start(&pool, ws, n);
	for (size_t i = 0; i < n; i++) {
		if (i < started)
			pthread_join(ws[i].thread, NULL);
		if (ws[i].own_conn)
			cli_https_conn_free(ws[i].conn);
	}
	cli_progress_end(&pool.prog);
	pthread_mutex_destroy(&pool.lock);
	/* What was written is kept for the next run, unless the server was caught lying. */
	r = pool.dirty && pool.err != SD_ERR_VERIFY ? state_write(s) : 0;
	if (pool.err < 0)
		return sd_error(pool.err, "%s", pool.detail);
	return r;
}

/* --- opening ------------------------------------------------------------------------------ */

/* Moves DIR/.CASE.open/NAME to DIR/NAME (when there is one). */
static int move_up(const fetch_t *s, const char *name)
{
	char *from = NULL, *to = NULL;
	int r = SD_ERR_NOMEM;

	if (asprintf(&from, "%s/%s", s->open_path, name) < 0 || asprintf(&to, "%s/%s", s->a->out, name) < 0)
		from = to = NULL;
	else if (rename(from, to) == 0 || errno == ENOENT)
		r = 0;
	else
		r = sd_error(SD_ERR_IO, _("cannot move %s to %s: %s"), from, to, strerror(errno));
	free(from);
	free(to);
	return r;
}

static int fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;

	if (fd < 0 || fsync(fd) != 0)
		r = sd_error(SD_ERR_IO, "%s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return r;
}

/* Opens the complete package as `open` does, then puts everything in its place: the
 * report and evidence in DIR, the package as DIR/CASE.sdx; the resume state goes. */
static int open_and_place(fetch_t *s)
{
	int r;

	if (fsync(s->fd) != 0)
		return sd_error(SD_ERR_IO, "%s: %s", s->part_path, strerror(errno));
	if ((r = cli_open_package(s->part_path, s->key, s->open_path, s->a->json)) < 0)
		return r;
	if ((r = move_up(s, "report.json")) < 0 || (r = move_up(s, "evidence")) < 0)
		return r;
	if (rmdir(s->open_path) != 0)
		return sd_error(SD_ERR_IO, _("cannot remove %s: %s"), s->open_path, strerror(errno));
	/* link, not rename: a DIR/CASE.sdx that appeared meanwhile is not replaced */
	if (link(s->part_path, s->pkg_path) != 0)
		return sd_error(errno == EEXIST ? SD_ERR_EXISTS : SD_ERR_IO, "%s: %s", s->pkg_path, strerror(errno));
	if (unlink(s->part_path) != 0)
		cli_warn(cmd.name, _("cannot remove %s: %s"), s->part_path, strerror(errno));
	if (unlink(s->state_path) != 0 && errno != ENOENT)
		cli_warn(cmd.name, _("cannot remove %s: %s"), s->state_path, strerror(errno));
	return fsync_dir(s->a->out);
}

static int summary(const fetch_t *s)
{
	json_t *extra = NULL;

	if (s->a->json) {
		extra = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:b, s:I}", "case", s->a->case_number, "package",
		                  s->pkg_path, "header_digest", s->digest, "chunks", (json_int_t)s->n_chunks,
		                  "downloaded", (json_int_t)s->downloaded, "skipped", (json_int_t)s->skipped, "resumed",
		                  s->resumed, "bytes_downloaded", (json_int_t)s->bytes_downloaded);
		if (extra == NULL)
			return SD_ERR_NOMEM;
	} else {
		printf(_("fetched case %s: %s\n"), s->a->case_number, s->pkg_path);
		printf(_("  header digest  %s (signature and every chunk verified)\n"), s->digest);
		printf(_("  chunks         %zu: %llu downloaded, %llu already here\n"), s->n_chunks,
		       (unsigned long long)s->downloaded, (unsigned long long)s->skipped);
	}
	return cli_open_print(s->a->out, s->a->json, extra);
}

/* --- the whole command ---------------------------------------------------------------------- */

/* After a failure: a download the server was caught forging is removed, with the
 * directory if this run made it; anything else is kept for the next run to resume. */
static void fetch_cleanup(fetch_t *s, int r)
{
	if (r != SD_ERR_VERIFY && s->fd >= 0)
		return;
	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
		unlink(s->part_path);
		unlink(s->state_path);
	}
	(void)remove_opened(s);
	if (s->made_dir)
		rmdir(s->a->out);
}

static int fetch_prepare(fetch_t *s)
{
	int r;

	for (uint32_t k = 0; k < s->h->n_blobs; k++) {
		s->n_chunks += s->h->blobs[k].n_chunks;
		s->bytes_total += s->h->blobs[k].size;
	}
	if ((s->done = calloc(bitmap_bytes(s) + 1, 1)) == NULL)
		return SD_ERR_NOMEM;
	if ((r = part_open(s)) < 0)
		return r;
	state_read(s);
	return plan(s);
}

static int fetch_run(const fetch_args_t *a)
{
	fetch_t s;
	int r = SD_ERR_NOMEM;

	memset(&s, 0, sizeof(s));
	s.a = a;
	s.fd = -1;
	if ((s.pkg_path = path_of(&s, "", ".sdx")) == NULL || (s.part_path = path_of(&s, "", PART_SUFFIX)) == NULL ||
	    (s.state_path = path_of(&s, "", STATE_SUFFIX)) == NULL || (s.open_path = path_of(&s, ".", ".open")) == NULL)
		goto out;
	if ((r = out_dir_check(&s)) < 0 || (r = connect_server(&s)) < 0 || (r = case_digest(&s)) < 0 ||
	    (r = fetch_header(&s)) < 0 || (r = load_key(&s)) < 0)
		goto out;
	if ((r = fetch_prepare(&s)) < 0 || (r = download(&s)) < 0)
		goto out;
	if (sd_is_cancelled()) {
		r = sd_error(SD_ERR_CANCELLED, _("interrupted"));
		goto out;
	}
	if ((r = open_and_place(&s)) == 0)
		r = summary(&s);
out:
	if (r < 0)
		fetch_cleanup(&s, r);
	if (r == SD_ERR_CANCELLED && s.fd >= 0)
		r = sd_error(r, _("interrupted; run the same command again to resume the download (%s)"), s.state_path);
	fetch_free(&s);
	return r;
}

/* --- the download alone, for export ------------------------------------------------------------ */

/* Every chunk but the identity's, in package order. */
static int plan_content(fetch_t *s)
{
	size_t i = 0;

	for (uint32_t k = 0; k < s->h->n_blobs; k++) {
		s->n_chunks += s->h->blobs[k].n_chunks;
		if (s->h->blobs[k].kind != SD_BLOB_IDENTITY)
			s->bytes_total += s->h->blobs[k].size;
	}
	if ((s->done = calloc(bitmap_bytes(s) + 1, 1)) == NULL ||
	    (s->todo = calloc(s->n_chunks, sizeof(*s->todo))) == NULL)
		return SD_ERR_NOMEM;
	for (uint32_t k = 0; k < s->h->n_blobs; k++) {
		uint64_t off = s->h->blobs[k].offset;
		for (uint32_t j = 0; j < s->h->blobs[k].n_chunks; j++, i++) {
			chunk_t ch = {k, j, i, off, sd_header_chunk_size(s->h, k, j)};
			if (s->h->blobs[k].kind != SD_BLOB_IDENTITY)
				s->todo[s->n_todo++] = ch;
			off += ch.size;
		}
	}
	return 0;
}

int cli_fetch_content(struct cli_https_ctx *ctx, struct cli_https_conn *conn, sd_directory_t *d, const char *server,
                      const char *case_number, bool quiet, int fd, sd_header_t **h)
{
	fetch_args_t a = {.parallel = PARALLEL_DEFAULT, .case_number = case_number, .json = quiet};
	fetch_t s;
	int r;

	*h = NULL;
	memset(&s, 0, sizeof(s));
	a.o.server = server;
	s.a = &a;
	s.ctx = ctx;
	s.conn = conn;
	s.dir = d;
	s.fd = fd;
	if (asprintf(&s.part_path, _("the temporary copy of %s.sdx"), case_number) < 0) {
		s.part_path = NULL;
		r = SD_ERR_NOMEM;
	} else if ((r = case_digest(&s)) == 0 && (r = fetch_header(&s)) == 0 && (r = plan_content(&s)) == 0 &&
	           (r = part_io(&s, true, s.h->raw, s.h->raw_len, 0)) == 0 && (r = download(&s)) == 0) {
		*h = s.h;
		s.h = NULL;
	}
	s.ctx = NULL; /* borrowed */
	s.conn = NULL;
	s.dir = NULL;
	s.fd = -1;
	fetch_free(&s);
	return r;
}

int cli_fetch_header(struct cli_https_conn *conn, sd_directory_t *d, const char *case_number, sd_header_t **h)
{
	fetch_args_t a = {.case_number = case_number};
	fetch_t s;
	int r;

	*h = NULL;
	memset(&s, 0, sizeof(s));
	s.a = &a;
	s.conn = conn;
	s.dir = d;
	s.fd = -1;
	if ((r = case_digest(&s)) == 0 && (r = fetch_header(&s)) == 0) {
		*h = s.h;
		s.h = NULL;
	}
	s.conn = NULL; /* borrowed */
	s.dir = NULL;
	fetch_free(&s);
	return r;
}

/* --- options ---------------------------------------------------------------------------------- */

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

/* Returns -1 to go on, or the exit status (help, usage error, a bad config file). */
static int parse(int argc, char **argv, fetch_args_t *a)
{
	const cli_opt_t opts[] = {
	        {"server", OPT_SERVER, .value = &a->o.server},
	        {"ca", OPT_CA, .value = &a->o.ca},
	        {"cert", OPT_CERT, .value = &a->o.cert},
	        {"key", OPT_KEY, .value = &a->o.key},
	        {"root", OPT_ROOT, .value = &a->o.root},
	        {"intake", OPT_INTAKE, .take = cli_keys_take, .dst = &a->intake},
	        {"passphrase-file", OPT_PASSFILE, .value = &a->passfile},
	        {"out", OPT_OUT, .value = &a->out},
	        {"parallel", OPT_PARALLEL, .take = parse_parallel, .dst = &a->parallel},
	        {"json", OPT_JSON, .flag = &a->json},
	        {0},
	};
	int r;

	a->intake.cmd = &cmd;
	a->intake.opt = "--intake";
	if ((r = cli_getopt(&cmd, argc, argv, opts)) >= 0)
		return r;
	if ((r = cli_one_argument(&cmd, argc, argv, _("missing the case number CASE"), &a->case_number)) != 0)
		return r;
	if (!sd_case_number_is_valid(a->case_number))
		return cli_usage_error(&cmd, _("'%s' is not a case number (YYYY-NNNNNN)"), a->case_number);
	if (a->out == NULL)
		return cli_usage_error(&cmd, _("missing %s"), "--out");
	a->o.intake = a->intake.n > 0 ? a->intake.path[0] : NULL;
	if ((r = cli_remote_complete(&cmd, &a->cfg, &a->o, CLI_NEED_ROOT | CLI_NEED_INTAKE)) >= 0)
		return r;
	cli_keys_default(&a->intake, a->o.intake);
	return -1;
}

int cmd_fetch(int argc, char **argv)
{
	fetch_args_t a = {.parallel = PARALLEL_DEFAULT};
	int r = parse(argc, argv, &a);

	if (r < 0) {
		sd_error_clear();
		if ((r = fetch_run(&a)) < 0)
			r = cli_fail(cmd.name, r);
	}
	cli_config_free(&a.cfg);
	return r;
}
