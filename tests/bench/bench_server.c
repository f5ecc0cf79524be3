/*
 * bench_server.c — the load generator of `make bench` for sealdropd (issue 3, "Tests and
 * measurements") and for its nginx baseline, both driven in the same run by
 * scripts/bench-server.sh. A TLS 1.3 client on OpenSSL 3, one thread per connection.
 *
 *   mint             seals COUNT packages in parallel into a directory (against a --test
 *                    key directory, whose codename KDF is minimal: thousands take seconds)
 *   put              durable chunk PUTs: an upload per package is created first (untimed),
 *                    then each package's largest chunk is PUT once (timed), keep-alive
 *   file             whole filings, keep-alive: POST the header, PUT every chunk, commit;
 *                    a filing counts only when the commit answers 201 with a receipt
 *   file-newconn     the same over a new mutual-TLS connection per filing
 *   handshake        a new mutual-TLS connection per GET (sealdropd: /v1/health)
 *   nginx-post       POST of BODY bytes (64 KiB) to nginx's `return 204`, keep-alive
 *   nginx-handshake  `handshake` against nginx (ssl_verify_client on)
 *   watch            samples the given pids' memory until SIGTERM (around `sealdrop file`)
 *   soak             the crash soak's load (tests/soak/crash.sh): files every package and
 *                    runs consent/transition operations on the first cases while the server
 *                    is killed and restarted under it, retrying across its deaths, and
 *                    appends each ACKNOWLEDGED operation to --acks, fsync'd before going on
 *
 * Each mode prints one line of key=value fields: operations per second, p50/p99 latency,
 * this process's CPU share and, given the server's pids (--pid), the server's CPU time
 * and peak RSS over the timed part (VmHWM, reset first through /proc/PID/clear_refs; and
 * the sampled peaks of anonymous and file-backed pages, which VmHWM lumps together); put
 * adds the mean size of the chunks it sent (put_bytes), for the raw LMDB baseline.
 *
 * Start reading at main(), then run_mode(): every connection is opened (and, for put,
 * every upload created) before two barriers start the clock and the server's counters;
 * a shared counter then hands out the work, so every package is used exactly once.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "sealdrop/bytes.h"
#include "sealdrop/codename.h"
#include "sealdrop/directory.h"
#include "sealdrop/envelope.h"
#include "sealdrop/fileio.h"
#include "sealdrop/record.h"
#include "sealdrop/sealdrop.h"

#include "bench.h"

#define MAX_CONC      256
#define MAX_PIDS      32
#define MAX_TASKS     128         /* threads followed over all pids */
#define RBUF_BYTES    (64u << 10) /* response head and body: the server's answers are small */
#define UPLOAD_ID_MAX 128
#define IO_TIMEOUT_S  60
#define FAILS_SHOWN   10
#define REPORT_MAX    (4u << 20)
#define IDENTITY_MAX  (64u << 10)

/* ---- options ---------------------------------------------------------------------- */

typedef struct {
	const char *mode;
	const char *directory, *root, *report, *identity, *out; /* mint */
	unsigned evidence_bytes, threads;
	const char *ca, *cert, *key, *packages, *path; /* load */
	uint16_t port;
	unsigned first, count, conc;
	size_t body_bytes;
	pid_t pids[MAX_PIDS];
	size_t n_pids;
	bool codenames;                                /* mint: PKG.codename beside each package */
	const char *acks, *off_cert, *off_key, *kills; /* soak */
	const char *today, *agency;                    /* soak: the server's today, a listed agency */
	unsigned ops, kills_total, life_ms, give_up_s;
} opts_t;

static void usage(void)
{
	fprintf(stderr,
	        "usage: bench_server mint --directory D --root ROOT.pub --report R.json --identity I.json\n"
	        "                         --evidence-bytes N --count N --out DIR [--threads T]\n"
	        "       bench_server put|file|file-newconn --port P --ca CA --cert C --key K\n"
	        "                         --packages DIR [--first I] --count N --concurrency C [--pid PID]...\n"
	        "       bench_server handshake|nginx-handshake|nginx-post --port P --ca CA [--cert C --key K]\n"
	        "                         [--path /] [--body-bytes 65536] --count N --concurrency C [--pid PID]...\n"
	        "       bench_server watch --pid PID...   (peak RSS until SIGTERM)\n"
	        "       bench_server soak --port P --ca CA --cert C --key K --packages DIR --count N --acks FILE\n"
	        "                         [--concurrency C] [--ops M --officer-cert C --officer-key K --today D\n"
	        "                         --agency ID] [--kills FILE --kills-total K --life-ms MS] [--give-up S]\n"
	        "       (mint --codenames also writes each package's codename beside it, for consents)\n");
	exit(64);
}

static void die(const char *what)
{
	fprintf(stderr, "bench_server: %s\n", what);
	exit(1);
}

static void die_sd(const char *what, int r)
{
	fprintf(stderr, "bench_server: %s: %s (%s)\n", what, sd_strerror(r), sd_error_detail());
	exit(1);
}

static void die_tls(const char *what)
{
	fprintf(stderr, "bench_server: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static unsigned long num_arg(const char *s, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v > max)
		usage();
	return v;
}

static const struct option long_options[] = {
        {"directory", required_argument, NULL, 'd'},   {"root", required_argument, NULL, 'r'},
        {"report", required_argument, NULL, 'R'},      {"identity", required_argument, NULL, 'I'},
        {"out", required_argument, NULL, 'o'},         {"evidence-bytes", required_argument, NULL, 'e'},
        {"threads", required_argument, NULL, 't'},     {"ca", required_argument, NULL, 'a'},
        {"cert", required_argument, NULL, 'c'},        {"key", required_argument, NULL, 'k'},
        {"packages", required_argument, NULL, 'P'},    {"path", required_argument, NULL, 'u'},
        {"port", required_argument, NULL, 'p'},        {"first", required_argument, NULL, 'f'},
        {"count", required_argument, NULL, 'n'},       {"concurrency", required_argument, NULL, 'C'},
        {"body-bytes", required_argument, NULL, 'b'},  {"pid", required_argument, NULL, 'i'},
        {"codenames", no_argument, NULL, 'W'},         {"acks", required_argument, NULL, 'A'},
        {"ops", required_argument, NULL, 'O'},         {"officer-cert", required_argument, NULL, 'x'},
        {"officer-key", required_argument, NULL, 'y'}, {"kills", required_argument, NULL, 'K'},
        {"kills-total", required_argument, NULL, 'N'}, {"life-ms", required_argument, NULL, 'L'},
        {"give-up", required_argument, NULL, 'G'},     {"today", required_argument, NULL, 'T'},
        {"agency", required_argument, NULL, 'g'},      {NULL, 0, NULL, 0},
};

/* The options naming a file or a path: true when c is one of them. */
static bool parse_path_opt(opts_t *o, int c, const char *arg)
{
	const char **slot = c == 'd'   ? &o->directory
	                    : c == 'r' ? &o->root
	                    : c == 'R' ? &o->report
	                    : c == 'I' ? &o->identity
	                    : c == 'o' ? &o->out
	                    : c == 'a' ? &o->ca
	                    : c == 'c' ? &o->cert
	                    : c == 'k' ? &o->key
	                    : c == 'P' ? &o->packages
	                    : c == 'u' ? &o->path
	                    : c == 'A' ? &o->acks
	                    : c == 'x' ? &o->off_cert
	                    : c == 'y' ? &o->off_key
	                    : c == 'K' ? &o->kills
	                    : c == 'T' ? &o->today
	                    : c == 'g' ? &o->agency
	                               : NULL;

	if (slot == NULL)
		return false;
	*slot = arg;
	return true;
}

static void parse_soak_opt(opts_t *o, int c, const char *arg);

static void parse_opt(opts_t *o, int c, const char *arg)
{
	if (parse_path_opt(o, c, arg))
		return;
	switch (c) {
	case 'e':
		o->evidence_bytes = (unsigned)num_arg(arg, 1u << 30);
		break;
	case 't':
		o->threads = (unsigned)num_arg(arg, MAX_CONC);
		break;
	case 'p':
		o->port = (uint16_t)num_arg(arg, 65535);
		break;
	case 'f':
		o->first = (unsigned)num_arg(arg, 999999);
		break;
	case 'n':
		o->count = (unsigned)num_arg(arg, 1000000);
		break;
	case 'C':
		o->conc = (unsigned)num_arg(arg, MAX_CONC);
		break;
	case 'b':
		o->body_bytes = num_arg(arg, 1u << 20);
		break;
	case 'i':
		if (o->n_pids == MAX_PIDS)
			usage();
		o->pids[o->n_pids++] = (pid_t)num_arg(arg, INT_MAX);
		break;
	case 'W':
		o->codenames = true;
		break;
	default:
		parse_soak_opt(o, c, arg);
	}
}

/* The soak's numeric options. */
static void parse_soak_opt(opts_t *o, int c, const char *arg)
{
	switch (c) {
	case 'O':
		o->ops = (unsigned)num_arg(arg, 1000000);
		break;
	case 'N':
		o->kills_total = (unsigned)num_arg(arg, 1000000);
		break;
	case 'L':
		o->life_ms = (unsigned)num_arg(arg, 3600000);
		break;
	case 'G':
		o->give_up_s = (unsigned)num_arg(arg, 86400);
		break;
	default:
		usage();
	}
}

static void parse_args(int argc, char **argv, opts_t *o)
{
	int c;

	*o = (opts_t){.threads = 4, .conc = 1, .body_bytes = 64u << 10, .path = NULL, .life_ms = 300, .give_up_s = 120};
	if (argc < 2)
		usage();
	o->mode = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1)
		parse_opt(o, c, optarg);
	if (optind != argc || (o->count == 0 && strcmp(o->mode, "watch") != 0) || o->conc == 0)
		usage();
}

/* ---- minting ---------------------------------------------------------------------- */

typedef struct {
	const sd_directory_t *dir;
	char *report, *identity;
	size_t report_len, identity_len;
	sd_evidence_src_t ev;
	const char *out;
	unsigned count;
	bool codenames;
	atomic_uint next;
	atomic_int failed;
} mint_t;

static int mint_one(mint_t *m, char *codename, unsigned i)
{
	sd_codename_keys_t *keys = NULL;
	sd_seal_params_t p;
	char path[PATH_MAX];
	struct stat st;
	int r;

	snprintf(path, sizeof(path), "%s/pkg-%06u.sdx", m->out, i);
	if (stat(path, &st) == 0)
		return 0; /* minted by an earlier run */
	if ((r = sd_codename_generate(codename, SD_CODENAME_MAX)) < 0 ||
	    (r = sd_codename_derive(codename, m->dir->deployment, &m->dir->codename_kdf, &keys)) < 0)
		return r;
	p = (sd_seal_params_t){.dir = m->dir,
	                       .wb = keys,
	                       .report = m->report,
	                       .report_len = m->report_len,
	                       .identity = m->identity,
	                       .identity_len = m->identity_len,
	                       .evidence = &m->ev,
	                       .n_evidence = 1,
	                       .created = sd_date_today()};
	r = sd_envelope_seal(&p, path);
	sd_codename_keys_free(keys);
	if (r == 0 && m->codenames) {
		/* A test's codename, on disk on purpose: the soak makes consents with it. */
		snprintf(path, sizeof(path), "%s/pkg-%06u.codename", m->out, i);
		r = sd_file_write(path, codename, strlen(codename), 0600, SD_AFILE_REPLACE);
	}
	return r;
}

static void *mint_thread(void *arg)
{
	mint_t *m = arg;
	char *codename = sd_secret_alloc(SD_CODENAME_MAX);
	unsigned i;
	int r;

	if (codename == NULL)
		die("out of secure memory");
	while (atomic_load(&m->failed) == 0 && (i = atomic_fetch_add(&m->next, 1)) < m->count) {
		if ((r = mint_one(m, codename, i)) < 0) {
			fprintf(stderr, "bench_server: sealing package %u: %s (%s)\n", i, sd_strerror(r),
			        sd_error_detail());
			atomic_store(&m->failed, 1);
		}
	}
	sd_secret_free(codename);
	return NULL;
}

/* The records, validated as `sealdrop seal` does, and the one random evidence file. */
static void mint_load_inputs(const opts_t *o, mint_t *m, char *ev_path, size_t ev_path_len)
{
	uint8_t *raw = NULL, *ev;
	size_t len = 0;
	int r;

	if ((r = sd_file_read(o->report, REPORT_MAX, &raw, &len)) < 0 ||
	    (r = sd_report_validate(raw, len, &m->report, &m->report_len)) < 0)
		die_sd(o->report, r);
	free(raw);
	if ((r = sd_file_read(o->identity, IDENTITY_MAX, &raw, &len)) < 0 ||
	    (r = sd_identity_validate(raw, len, sd_date_today(), &m->identity, &m->identity_len)) < 0)
		die_sd(o->identity, r);
	free(raw);
	snprintf(ev_path, ev_path_len, "%s/evidence.bin", o->out);
	if ((ev = malloc(o->evidence_bytes + 1u)) == NULL)
		die("out of memory");
	for (size_t got = 0; got < o->evidence_bytes;) {
		ssize_t n = getrandom(ev + got, o->evidence_bytes - got, 0);
		if (n < 0)
			die("getrandom failed");
		got += (size_t)n;
	}
	if ((r = sd_file_write(ev_path, ev, o->evidence_bytes, 0600, SD_AFILE_REPLACE)) < 0)
		die_sd(ev_path, r);
	free(ev);
	m->ev = (sd_evidence_src_t){.path = ev_path, .name = "evidence.bin", .media_type = NULL};
}

static int cmd_mint(const opts_t *o)
{
	sd_directory_t *dir = NULL;
	sd_pubkey_t root;
	mint_t m;
	pthread_t th[MAX_CONC];
	char ev_path[PATH_MAX];
	double t;
	int r;

	if (o->directory == NULL || o->root == NULL || o->report == NULL || o->identity == NULL || o->out == NULL)
		usage();
	if ((r = sd_pubkey_read(o->root, &root)) < 0 ||
	    (r = sd_directory_load(o->directory, &root, sd_date_today(), &dir)) < 0)
		die_sd(o->directory, r);
	if (!dir->test)
		fprintf(stderr, "bench_server: %s is not a --test directory: every package costs a full Argon2id\n",
		        o->directory);
	if (mkdir(o->out, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "bench_server: cannot create %s: %s\n", o->out, strerror(errno));
		return 1;
	}
	memset(&m, 0, sizeof(m));
	m.dir = dir;
	m.out = o->out;
	m.codenames = o->codenames;
	m.count = o->first + o->count;
	atomic_store(&m.next, o->first);
	mint_load_inputs(o, &m, ev_path, sizeof(ev_path));
	t = bench_now();
	for (unsigned i = 0; i < o->threads; i++)
		if (pthread_create(&th[i], NULL, mint_thread, &m) != 0)
			die("cannot start a thread");
	for (unsigned i = 0; i < o->threads; i++)
		pthread_join(th[i], NULL);
	t = bench_now() - t;
	if (atomic_load(&m.failed) != 0)
		return 1;
	printf("mint count=%u threads=%u secs=%.3f rate=%.1f evidence_bytes=%u\n", o->count, o->threads, t,
	       (double)o->count / t, o->evidence_bytes);
	free(m.report);
	sd_secret_free(m.identity);
	sd_directory_free(dir);
	return 0;
}

/* ---- packages --------------------------------------------------------------------- */

typedef struct {
	uint32_t blob, chunk;
	size_t off, len;
} chunk_ref_t;

typedef struct {
	uint8_t *bytes; /* the whole package */
	size_t size, header_len;
	chunk_ref_t *chunks;
	size_t n_chunks, largest; /* largest: index of the biggest chunk */
	char upload[UPLOAD_ID_MAX + 1];
} pkg_t;

/* Every chunk's place in the package: blob offset, then each chunk's exact size. */
static void pkg_index(pkg_t *p, const sd_header_t *h, const char *path)
{
	size_t n = 0;

	for (uint32_t b = 0; b < h->n_blobs; b++)
		n += h->blobs[b].n_chunks;
	if ((p->chunks = calloc(n, sizeof(*p->chunks))) == NULL)
		die("out of memory");
	for (uint32_t b = 0; b < h->n_blobs; b++) {
		uint64_t off = h->blobs[b].offset;
		for (uint32_t c = 0; c < h->blobs[b].n_chunks; c++) {
			uint64_t len = sd_header_chunk_size(h, b, c);
			p->chunks[p->n_chunks] = (chunk_ref_t){b, c, (size_t)off, (size_t)len};
			if (len > p->chunks[p->largest].len)
				p->largest = p->n_chunks;
			p->n_chunks++;
			off += len;
		}
		if (off != h->blobs[b].offset + h->blobs[b].size || off > p->size) {
			fprintf(stderr, "bench_server: %s: blob %u's chunks do not add up\n", path, b);
			exit(1);
		}
	}
}

static void pkg_load(pkg_t *p, const char *path)
{
	sd_header_t *h = NULL;
	size_t got = 0;
	struct stat st;
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0) {
		fprintf(stderr, "bench_server: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	if ((r = sd_header_read(fd, &h)) < 0)
		die_sd(path, r);
	p->size = (size_t)st.st_size;
	p->header_len = h->raw_len;
	if (h->package_size != p->size || h->n_blobs == 0 || h->blobs[0].offset != h->raw_len)
		die("a package's size or layout does not match its header");
	if ((p->bytes = malloc(p->size)) == NULL)
		die("out of memory");
	while (got < p->size) {
		ssize_t n = pread(fd, p->bytes + got, p->size - got, (off_t)got);
		if (n <= 0)
			die_sd(path, SD_ERR_TRUNCATED);
		got += (size_t)n;
	}
	close(fd);
	pkg_index(p, h, path);
	sd_header_free(h);
}

static pkg_t *pkgs_load(const opts_t *o, size_t *max_body)
{
	pkg_t *p = calloc(o->count, sizeof(*p));
	char path[PATH_MAX];

	if (p == NULL)
		die("out of memory");
	*max_body = 0;
	for (unsigned i = 0; i < o->count; i++) {
		snprintf(path, sizeof(path), "%s/pkg-%06u.sdx", o->packages, o->first + i);
		pkg_load(&p[i], path);
		if (p[i].header_len > *max_body)
			*max_body = p[i].header_len;
		if (p[i].chunks[p[i].largest].len > *max_body)
			*max_body = p[i].chunks[p[i].largest].len;
	}
	return p;
}

/* ---- TLS and HTTP/1.1 client ------------------------------------------------------ */

static SSL_CTX *tls_ctx_new(const opts_t *o)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_load_verify_locations(ctx, o->ca, NULL) != 1)
		die_tls("cannot set up TLS 1.3 with the CA file");
	if (o->cert != NULL &&
	    (SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1 ||
	     SSL_CTX_use_PrivateKey_file(ctx, o->key != NULL ? o->key : o->cert, SSL_FILETYPE_PEM) != 1 ||
	     SSL_CTX_check_private_key(ctx) != 1))
		die_tls("cannot load the client certificate and key");
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	/* As the sealdrop client: the certificate file's chain only, not one built from the
	 * trust store (which would add the CA the server already has). */
	SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN);
	/* Every new connection is a full handshake: nothing cached, nothing resumed. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	return ctx;
}

typedef struct {
	SSL *ssl;
	int fd;
	size_t rlen;
	uint8_t rbuf[RBUF_BYTES];
} conn_t;

typedef struct {
	int status;
	bool close;
	size_t len;
	char body[RBUF_BYTES + 1];
} resp_t;

static void conn_close(conn_t *c)
{
	if (c->ssl != NULL) {
		SSL_shutdown(c->ssl); /* close_notify; we do not wait for the server's */
		SSL_free(c->ssl);
	}
	if (c->fd >= 0)
		close(c->fd);
	c->ssl = NULL;
	c->fd = -1;
	c->rlen = 0;
}

static int conn_open(conn_t *c, SSL_CTX *ctx, uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct timeval tv = {.tv_sec = IO_TIMEOUT_S};
	int one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->ssl = NULL;
	c->rlen = 0;
	if ((c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) != 0 || (c->ssl = SSL_new(ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1 || X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), "127.0.0.1") != 1 ||
	    SSL_connect(c->ssl) != 1) {
		ERR_clear_error();
		conn_close(c);
		return -1;
	}
	return 0;
}

static int conn_fill(conn_t *c)
{
	int n;

	if (c->rlen == sizeof(c->rbuf))
		return -1;
	n = SSL_read(c->ssl, c->rbuf + c->rlen, (int)(sizeof(c->rbuf) - c->rlen));
	if (n <= 0) {
		ERR_clear_error();
		return -1;
	}
	c->rlen += (size_t)n;
	return 0;
}

/* One header line "Name: value" (without CRLF): Content-Length and Connection: close. */
static void http_header(const char *line, size_t len, size_t *clen, resp_t *r)
{
	static const char cl[] = "content-length:", co[] = "connection:";

	if (len > sizeof(cl) - 1 && strncasecmp(line, cl, sizeof(cl) - 1) == 0)
		*clen = strtoul(line + sizeof(cl) - 1, NULL, 10);
	else if (len > sizeof(co) - 1 && strncasecmp(line, co, sizeof(co) - 1) == 0)
		r->close = memmem(line, len, "close", 5) != NULL;
}

/* Reads one response (status line, headers, a Content-Length body) into r. */
static int http_read(conn_t *c, resp_t *r)
{
	uint8_t *end;
	size_t hlen, clen = 0;
	char *line, *eol;

	while ((end = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4)) == NULL)
		if (conn_fill(c) < 0)
			return -1;
	hlen = (size_t)(end - c->rbuf) + 4;
	if (hlen < 12 || strncmp((char *)c->rbuf, "HTTP/1.1 ", 9) != 0)
		return -1;
	r->status = atoi((char *)c->rbuf + 9);
	r->close = false;
	line = memmem(c->rbuf, hlen, "\r\n", 2);
	for (line += 2;
	     (eol = memmem(line, hlen - (size_t)((uint8_t *)line - c->rbuf), "\r\n", 2)) != NULL && eol != line;
	     line = eol + 2)
		http_header(line, (size_t)(eol - line), &clen, r);
	if (clen > sizeof(c->rbuf) - hlen)
		return -1;
	while (c->rlen < hlen + clen)
		if (conn_fill(c) < 0)
			return -1;
	memcpy(r->body, c->rbuf + hlen, clen);
	r->body[clen] = '\0';
	r->len = clen;
	c->rlen -= hlen + clen;
	memmove(c->rbuf, c->rbuf + hlen + clen, c->rlen);
	return 0;
}

/* ---- the run ---------------------------------------------------------------------- */

typedef struct run run_t;
typedef struct soak soak_t; /* the crash soak's state (cmd_soak) */

typedef struct {
	run_t *run;
	soak_t *soak;
	conn_t conn;
	resp_t resp;
	uint8_t *wbuf;
	size_t wcap;
} worker_t;

typedef struct {
	const char *name;
	bool needs_pkgs;
	bool keepalive; /* connections opened before the clock starts */
	int (*prep)(worker_t *w, unsigned i);
	int (*op)(worker_t *w, unsigned i);
	const char *unit;
} bench_mode_t;

struct run {
	const opts_t *o;
	const bench_mode_t *m;
	SSL_CTX *ctx;
	pkg_t *pkgs;
	uint8_t *post_body;
	unsigned count;
	atomic_uint next_prep, next, ok, fail, shown;
	uint32_t *lat_us; /* per operation; UINT32_MAX when it failed */
	pthread_barrier_t ready, go;
	worker_t workers[MAX_CONC];
};

static int fail(worker_t *w, const char *what, const resp_t *r)
{
	if (atomic_fetch_add(&w->run->shown, 1) < FAILS_SHOWN) {
		if (r != NULL)
			fprintf(stderr, "bench_server: %s: HTTP %d %.200s\n", what, r->status, r->body);
		else
			fprintf(stderr, "bench_server: %s: connection failed\n", what);
	}
	return -1;
}

/* One request on the worker's connection (opened if needed); the answer in *r. */
static int request(worker_t *w, const char *method, const char *path, const uint8_t *body, size_t len, bool close_after,
                   resp_t *r)
{
	conn_t *c = &w->conn;
	int n;

	if (c->ssl == NULL && conn_open(c, w->run->ctx, w->run->o->port) < 0)
		return -1;
	n = snprintf((char *)w->wbuf, w->wcap, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %zu\r\n%s\r\n",
	             method, path, len, close_after ? "Connection: close\r\n" : "");
	if (n < 0 || (size_t)n + len > w->wcap)
		die("request too large for the write buffer");
	if (len > 0)
		memcpy(w->wbuf + n, body, len);
	/* Head and body in one SSL_write: one flight of records, as a real client sends it. */
	if (SSL_write(c->ssl, w->wbuf, (int)((size_t)n + len)) <= 0 || http_read(c, r) < 0) {
		ERR_clear_error();
		conn_close(c);
		return -1;
	}
	if (r->close)
		conn_close(c);
	return 0;
}

static int expect(worker_t *w, const char *what, int rc, const resp_t *r, int status)
{
	if (rc < 0)
		return fail(w, what, NULL);
	if (r->status != status)
		return fail(w, what, r);
	return 0;
}

/* POST /v1/uploads with the header; the new upload's id into p->upload. */
/* The upload id of an answer about an upload into p->upload; -1 when it has none. */
static int upload_id_of(const resp_t *r, pkg_t *p)
{
	json_t *j = json_loadb(r->body, r->len, 0, NULL), *id = json_object_get(j, "upload");
	int ok = json_is_string(id) && json_string_length(id) > 0 && json_string_length(id) <= UPLOAD_ID_MAX &&
	         strspn(json_string_value(id), "0123456789abcdefABCDEF-") == json_string_length(id);

	if (ok)
		memcpy(p->upload, json_string_value(id), json_string_length(id) + 1);
	json_decref(j);
	return ok ? 0 : -1;
}

static int upload_create(worker_t *w, pkg_t *p, resp_t *r)
{
	int rc = request(w, "POST", "/v1/uploads", p->bytes, p->header_len, false, r);

	if (expect(w, "POST /v1/uploads", rc, r, 201) < 0)
		return -1;
	if (upload_id_of(r, p) < 0)
		return fail(w, "POST /v1/uploads: no upload id", r);
	return 0;
}

/* PUT of one chunk; request()'s status. */
static int chunk_request(worker_t *w, const pkg_t *p, const chunk_ref_t *ch, resp_t *r)
{
	char path[UPLOAD_ID_MAX + 64];

	snprintf(path, sizeof(path), "/v1/uploads/%s/blobs/%u/chunks/%u", p->upload, ch->blob, ch->chunk);
	return request(w, "PUT", path, p->bytes + ch->off, ch->len, false, r);
}

static int chunk_put(worker_t *w, const pkg_t *p, const chunk_ref_t *ch, resp_t *r)
{
	/* 200 would mean the server already had it: not a store write, so not counted. */
	return expect(w, "PUT chunk", chunk_request(w, p, ch, r), r, 201);
}

/* A whole filing: create, every chunk, commit; 0 only for a 201 with a receipt. */
static int file_package(worker_t *w, pkg_t *p)
{
	resp_t *r = &w->resp;
	char path[UPLOAD_ID_MAX + 32];
	int rc;

	if (upload_create(w, p, r) < 0)
		return -1;
	for (size_t i = 0; i < p->n_chunks; i++)
		if (chunk_put(w, p, &p->chunks[i], r) < 0)
			return -1;
	snprintf(path, sizeof(path), "/v1/uploads/%s/commit", p->upload);
	rc = request(w, "POST", path, NULL, 0, false, r);
	if ((rc = expect(w, "POST commit", rc, r, 201)) == 0 && strstr(r->body, "\"receipt\"") == NULL)
		rc = fail(w, "POST commit: no receipt", r);
	return rc;
}

static int prep_create(worker_t *w, unsigned i)
{
	return upload_create(w, &w->run->pkgs[i], &w->resp);
}

static int op_put(worker_t *w, unsigned i)
{
	const pkg_t *p = &w->run->pkgs[i];

	if (p->upload[0] == '\0')
		return -1; /* its upload could not be created: reported then */
	return chunk_put(w, p, &p->chunks[p->largest], &w->resp);
}

static int op_file(worker_t *w, unsigned i)
{
	return file_package(w, &w->run->pkgs[i]);
}

static int op_file_newconn(worker_t *w, unsigned i)
{
	int rc;

	conn_close(&w->conn);
	if (conn_open(&w->conn, w->run->ctx, w->run->o->port) < 0)
		return fail(w, "new connection", NULL);
	rc = file_package(w, &w->run->pkgs[i]);
	conn_close(&w->conn);
	return rc;
}

static int op_post(worker_t *w, unsigned i)
{
	const run_t *run = w->run;

	(void)i;
	return expect(w, "POST", request(w, "POST", run->o->path, run->post_body, run->o->body_bytes, false, &w->resp),
	              &w->resp, 204);
}

/* A new connection (TCP + full mutual-TLS handshake), one GET, close. */
static int op_handshake(worker_t *w, unsigned i)
{
	int rc, want = strcmp(w->run->m->name, "handshake") == 0 ? 200 : 204;

	(void)i;
	conn_close(&w->conn);
	if (conn_open(&w->conn, w->run->ctx, w->run->o->port) < 0)
		rc = fail(w, "new mutual-TLS connection", NULL);
	else
		rc = expect(w, "GET", request(w, "GET", w->run->o->path, NULL, 0, true, &w->resp), &w->resp, want);
	conn_close(&w->conn);
	return rc;
}

static const bench_mode_t modes[] = {
        {"put", true, true, prep_create, op_put, "req"},
        {"file", true, true, NULL, op_file, "filings"},
        {"file-newconn", true, false, NULL, op_file_newconn, "filings"},
        {"handshake", false, false, NULL, op_handshake, "conn"},
        {"nginx-post", false, true, NULL, op_post, "req"},
        {"nginx-handshake", false, false, NULL, op_handshake, "conn"},
};

static void *worker_main(void *arg)
{
	worker_t *w = arg;
	run_t *run = w->run;
	unsigned i;

	if (run->m->keepalive && conn_open(&w->conn, run->ctx, run->o->port) < 0)
		fail(w, "opening a keep-alive connection", NULL);
	if (run->m->prep != NULL)
		while ((i = atomic_fetch_add(&run->next_prep, 1)) < run->count)
			run->m->prep(w, i);
	pthread_barrier_wait(&run->ready);
	pthread_barrier_wait(&run->go);
	while ((i = atomic_fetch_add(&run->next, 1)) < run->count) {
		double t = bench_now();
		if (run->m->op(w, i) == 0) {
			run->lat_us[i] = (uint32_t)((bench_now() - t) * 1e6);
			atomic_fetch_add(&run->ok, 1);
		} else {
			run->lat_us[i] = UINT32_MAX;
			atomic_fetch_add(&run->fail, 1);
		}
	}
	conn_close(&w->conn);
	return NULL;
}

/* ---- the server's counters -------------------------------------------------------- */

/* utime + stime from a /proc stat file, in clock ticks; 0 if it cannot be read. */
static unsigned long long stat_ticks(const char *path)
{
	unsigned long long ut, st;
	char buf[1024], *p;
	FILE *f;
	size_t n;

	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* After "pid (comm) ": state is field 3, utime 14, stime 15. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return 0;
	return ut + st;
}

/* utime + stime of every pid, in clock ticks (all threads of each process). */
static unsigned long long proc_cpu_ticks(const opts_t *o)
{
	unsigned long long sum = 0;
	char path[64];

	for (size_t k = 0; k < o->n_pids; k++) {
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)o->pids[k]);
		sum += stat_ticks(path);
	}
	return sum;
}

/* Each thread's CPU over the timed part, to tell the event loop from the store thread. */
typedef struct {
	pid_t pid, tid;
	unsigned long long ticks;
} task_cpu_t;

typedef struct {
	task_cpu_t t[MAX_TASKS];
	size_t n;
} tasks_t;

static void tasks_start(tasks_t *ts, const opts_t *o)
{
	char path[96];
	struct dirent *e;

	ts->n = 0;
	for (size_t k = 0; k < o->n_pids; k++) {
		DIR *d;
		snprintf(path, sizeof(path), "/proc/%d/task", (int)o->pids[k]);
		if ((d = opendir(path)) == NULL)
			continue;
		while ((e = readdir(d)) != NULL && ts->n < MAX_TASKS) {
			task_cpu_t *t = &ts->t[ts->n];
			if (e->d_name[0] == '.')
				continue;
			t->pid = o->pids[k];
			t->tid = (pid_t)atoi(e->d_name);
			snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)t->pid, (int)t->tid);
			t->ticks = stat_ticks(path);
			ts->n++;
		}
		closedir(d);
	}
}

/* " server_threads=TID:PCT,..." for the threads that used 1% of a core or more. */
static void tasks_report(const tasks_t *ts, double secs)
{
	char path[96];
	const char *sep = "=";
	double hz = (double)sysconf(_SC_CLK_TCK);

	printf(" server_threads");
	for (size_t k = 0; k < ts->n; k++) {
		unsigned long long now_ticks;
		double pct;
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)ts->t[k].pid, (int)ts->t[k].tid);
		now_ticks = stat_ticks(path);
		pct = now_ticks > ts->t[k].ticks ? 100.0 * (double)(now_ticks - ts->t[k].ticks) / hz / secs : 0.0;
		if (pct < 1.0)
			continue;
		printf("%s%s%d:%.0f", sep, ts->t[k].tid == ts->t[k].pid ? "main" : "", (int)ts->t[k].tid, pct);
		sep = ",";
	}
	if (*sep == '=')
		printf("=none");
}

/* Busy ticks of the whole machine (all CPUs, everything but idle and iowait), so a
 * result can say how much CPU neither the server nor this program used: other work
 * on the machine, which skews the figures. */
static unsigned long long machine_busy_ticks(void)
{
	unsigned long long v[10] = {0}, sum = 0;
	FILE *f = fopen("/proc/stat", "r");

	if (f == NULL)
		return 0;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
	           &v[6], &v[7], &v[8], &v[9]) < 8)
		v[3] = v[4] = 0;
	fclose(f);
	/* user nice system idle iowait irq softirq steal (guest and guest_nice are in user). */
	for (int k = 0; k < 8; k++)
		if (k != 3 && k != 4)
			sum += v[k];
	return sum;
}

/* Resets each process's peak RSS to its current RSS (Linux >= 4.0; root or owner). */
static void proc_reset_hwm(const opts_t *o)
{
	char path[64];

	for (size_t k = 0; k < o->n_pids; k++) {
		FILE *f;
		snprintf(path, sizeof(path), "/proc/%d/clear_refs", (int)o->pids[k]);
		if ((f = fopen(path, "w")) != NULL) {
			fputs("5", f);
			fclose(f);
		}
	}
}

/* One "Name:  N kB" field of /proc/PID/status, summed over the pids. */
static long proc_status_kib(const opts_t *o, const char *field)
{
	char path[64], line[256];
	size_t flen = strlen(field);
	long sum = 0;

	for (size_t k = 0; k < o->n_pids; k++) {
		FILE *f;
		snprintf(path, sizeof(path), "/proc/%d/status", (int)o->pids[k]);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		while (fgets(line, sizeof(line), f) != NULL)
			if (strncmp(line, field, flen) == 0 && line[flen] == ':')
				sum += strtol(line + flen + 1, NULL, 10);
		fclose(f);
	}
	return sum;
}

/* Peak RSS split in anonymous memory (the heap, buffers) and file pages mapped in (for
 * sealdropd, LMDB's memory map: page cache the kernel may reclaim), sampled every 20 ms:
 * VmHWM alone cannot tell them apart. */
typedef struct {
	const opts_t *o;
	atomic_bool stop;
	bool running;
	long anon, file; /* peaks, KiB */
	pthread_t th;
} sampler_t;

static void *sampler_main(void *arg)
{
	sampler_t *s = arg;
	struct timespec ts = {0, 20 * 1000 * 1000};

	do {
		long a = proc_status_kib(s->o, "RssAnon"), f = proc_status_kib(s->o, "RssFile");
		if (a > s->anon)
			s->anon = a;
		if (f > s->file)
			s->file = f;
		nanosleep(&ts, NULL);
	} while (!atomic_load(&s->stop));
	return NULL;
}

static void sampler_start(sampler_t *s, const opts_t *o)
{
	memset(s, 0, sizeof(*s));
	s->o = o;
	atomic_store(&s->stop, false);
	s->running = o->n_pids > 0 && pthread_create(&s->th, NULL, sampler_main, s) == 0;
}

static void sampler_stop(sampler_t *s)
{
	atomic_store(&s->stop, true);
	if (s->running)
		pthread_join(s->th, NULL);
	s->running = false;
}

/* `watch`: samples the pids until SIGTERM or SIGINT, then prints the peaks (for a run
 * driven by another program, such as `sealdrop file`): VmHWM summed over the pids and the
 * first one's alone, and the sampled anonymous and file-backed peaks of the sum. */
static int cmd_watch(const opts_t *o)
{
	sampler_t s;
	sigset_t set;
	opts_t first = *o;
	int sig;

	if (o->n_pids == 0)
		usage();
	first.n_pids = 1;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sampler_start(&s, o);
	sigwait(&set, &sig);
	sampler_stop(&s);
	printf("WATCH server_hwm_kib=%ld first_hwm_kib=%ld server_peak_anon_kib=%ld server_peak_file_kib=%ld\n",
	       proc_status_kib(o, "VmHWM"), proc_status_kib(&first, "VmHWM"), s.anon, s.file);
	return 0;
}

/* ---- results ---------------------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of the n sorted latencies, in ms. */
static double pct_ms(const uint32_t *v, size_t n, unsigned pct)
{
	size_t rank = (n * pct + 99) / 100;

	if (n == 0)
		return 0;
	return (double)v[rank == 0 ? 0 : rank - 1] / 1000.0;
}

/* The mean size of the chunks the put mode sends (each package's largest). */
static double put_bytes_mean(const run_t *run)
{
	double sum = 0;

	for (unsigned i = 0; i < run->count; i++)
		sum += (double)run->pkgs[i].chunks[run->pkgs[i].largest].len;
	return run->count > 0 ? sum / run->count : 0;
}

static void report(const run_t *run, double secs, unsigned long long ticks, const sampler_t *rss, const tasks_t *ts,
                   double client_cpu, unsigned long long busy)
{
	const opts_t *o = run->o;
	unsigned ok = atomic_load(&run->ok);
	uint32_t *v = malloc((run->count + 1u) * sizeof(*v));
	size_t n = 0;
	double hz = (double)sysconf(_SC_CLK_TCK), cpu = (double)ticks / hz;

	if (v == NULL)
		die("out of memory");
	for (unsigned i = 0; i < run->count; i++)
		if (run->lat_us[i] != UINT32_MAX)
			v[n++] = run->lat_us[i];
	qsort(v, n, sizeof(*v), cmp_u32);
	printf("RESULT mode=%s conc=%u count=%u ok=%u fail=%u secs=%.3f rate=%.1f unit=%s/s p50_ms=%.2f "
	       "p99_ms=%.2f",
	       run->m->name, o->conc, run->count, ok, atomic_load(&run->fail), secs, (double)ok / secs, run->m->unit,
	       pct_ms(v, n, 50), pct_ms(v, n, 99));
	printf(" client_cpu_pct=%.0f client_cpu_ms_per_op=%.4f", 100.0 * client_cpu / secs,
	       ok > 0 ? 1000.0 * client_cpu / ok : 0.0);
	/* What the machine did besides this program and the server, in % of one core. */
	printf(" other_cpu_pct=%.0f", 100.0 * ((double)busy / hz - client_cpu - cpu) / secs);
	if (o->n_pids > 0)
		printf(" server_cpu_s=%.2f server_cpu_pct=%.0f server_cpu_ms_per_op=%.3f server_hwm_kib=%ld"
		       " server_peak_anon_kib=%ld server_peak_file_kib=%ld",
		       cpu, 100.0 * cpu / secs, ok > 0 ? 1000.0 * cpu / ok : 0.0, proc_status_kib(o, "VmHWM"),
		       rss->anon, rss->file);
	if (o->n_pids > 0)
		tasks_report(ts, secs);
	if (run->m->prep == prep_create)
		printf(" put_bytes=%.0f", put_bytes_mean(run));
	printf("\n");
	fflush(stdout);
	free(v);
}

static int run_mode(const opts_t *o, const bench_mode_t *m)
{
	run_t *run = calloc(1, sizeof(*run));
	pthread_t th[MAX_CONC];
	size_t max_body = o->body_bytes;
	unsigned long long ticks, busy;
	sampler_t rss;
	tasks_t *ts = malloc(sizeof(*ts));
	double t, cpu;

	if (run == NULL || ts == NULL || (run->lat_us = calloc(o->count, sizeof(uint32_t))) == NULL)
		die("out of memory");
	run->o = o;
	run->m = m;
	run->count = o->count;
	run->ctx = tls_ctx_new(o);
	if (m->needs_pkgs)
		run->pkgs = pkgs_load(o, &max_body);
	if ((run->post_body = malloc(o->body_bytes + 1)) == NULL)
		die("out of memory");
	memset(run->post_body, 'x', o->body_bytes);
	pthread_barrier_init(&run->ready, NULL, o->conc + 1);
	pthread_barrier_init(&run->go, NULL, o->conc + 1);
	for (unsigned k = 0; k < o->conc; k++) {
		worker_t *w = &run->workers[k];
		w->run = run;
		w->conn.fd = -1;
		w->wcap = max_body + 1024;
		if ((w->wbuf = malloc(w->wcap)) == NULL || pthread_create(&th[k], NULL, worker_main, w) != 0)
			die("cannot start a worker");
	}
	pthread_barrier_wait(&run->ready);
	proc_reset_hwm(o);
	sampler_start(&rss, o);
	tasks_start(ts, o);
	ticks = proc_cpu_ticks(o);
	busy = machine_busy_ticks();
	cpu = bench_cpu_self();
	t = bench_now();
	pthread_barrier_wait(&run->go);
	for (unsigned k = 0; k < o->conc; k++)
		pthread_join(th[k], NULL);
	t = bench_now() - t;
	ticks = proc_cpu_ticks(o) - ticks;
	busy = machine_busy_ticks() - busy;
	cpu = bench_cpu_self() - cpu;
	sampler_stop(&rss);
	report(run, t, ticks, &rss, ts, cpu, busy);
	return atomic_load(&run->fail) == 0 ? 0 : 2;
}

/* ---- the crash soak (tests/soak/crash.sh) ----------------------------------------- */

/*
 * The server is killed (kill -9) and restarted under this load many times. Every
 * operation is retried until the server answers it, over new connections, with a
 * backoff; it is written to --acks (one line, fsync'd) only once the server answered
 * success, and only then does the worker move on:
 *
 *   F PKG CASE HEADER_DIGEST LEAF_INDEX SIG   a filing's receipt (pkg-PKG.sdx)
 *   T CASE STEP ACTION                       a transition (the case's step STEP)
 *   C CASE CONSENT_ID LEAF_INDEX             a consent relayed by the filing attorney
 *
 * A filing is retried from its POST /v1/uploads, which resumes the open upload or, when
 * the commit made it to disk before the server died, answers with the case's receipt:
 * a retry is never a second case. Transitions and consents are not idempotent: after an
 * attempt whose answer was lost, the case is read first (GET /v1/cases/{case}: is the
 * step there?), and a consent's replayed nonce (409) says it was stored. Those are
 * counted as applied without an acknowledgement, never written as acks.
 *
 * The load is paced over the kills (--kills: the killer appends a byte per kill, so its
 * size is the count and its mtime the last kill's time): it aims to finish just after
 * the last kill, busy all along, so the kills land during filings. Ops on case c wait
 * for the filing of package c. Package i's case is known only from its ack.
 */
#define SOAK_OPS_PER_CASE 4 /* extend, refer, consent, outcome */
#define SOAK_TEXT_BYTES   96
#define SOAK_LINE_MAX     512
#define SOAK_CASE_MAX     16
#define SOAK_SIG_MAX      128
#define SOAK_SDC_MAX      (64u << 10)

enum { SOAK_OK = 0, SOAK_RETRY = -1, SOAK_FATAL = -2, SOAK_APPLIED = -3, SOAK_VIA_COMMIT = -4 };

struct soak {
	const opts_t *o;
	run_t *att, *off; /* the attorney's and the officer's TLS contexts */
	int acks_fd;
	pthread_mutex_t lock;
	char (*cases)[SOAK_CASE_MAX]; /* package i's case, once acknowledged */
	atomic_uchar *acked;          /* ... set after cases[i] is written and its ack durable */
	atomic_uint next, filed, ops_done;
	atomic_uint retries, resumed, refound, ops_acked, ops_unacked, fatal, create_500;
	double t0, t0_real, last_ok;
};

static double now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* One ack line, appended and fsync'd before the caller moves on. */
static void soak_ack(soak_t *s, const char *line)
{
	size_t len = strlen(line);

	pthread_mutex_lock(&s->lock);
	if (write(s->acks_fd, line, len) != (ssize_t)len || fdatasync(s->acks_fd) != 0)
		die("cannot append to the acks file");
	s->last_ok = bench_now();
	pthread_mutex_unlock(&s->lock);
}

/* How many of total operations may have started by now: the share of the run's
 * expected length (kills_total lives of the mean length measured so far) gone by. */
static unsigned soak_target(const soak_t *s, unsigned total)
{
	const opts_t *o = s->o;
	struct stat st;
	double life = o->life_ms / 1000.0, frac;

	if (o->kills == NULL || o->kills_total == 0 || stat(o->kills, &st) != 0)
		return total;
	if ((unsigned)st.st_size >= o->kills_total)
		return total;
	if (st.st_size >= 3)
		life = ((double)st.st_mtim.tv_sec + (double)st.st_mtim.tv_nsec / 1e9 - s->t0_real) / (double)st.st_size;
	frac = (now_real() - s->t0_real) / (life * o->kills_total * 1.05);
	return frac >= 1.0 ? total : 1u + (unsigned)(frac * total);
}

static void soak_pace(const soak_t *s, unsigned i, unsigned total)
{
	while (i >= soak_target(s, total))
		sleep_ms(5);
}

/* After a failed attempt: wait a little (longer each time), or give up the whole run
 * when nothing succeeded for --give-up seconds. */
static void soak_backoff(soak_t *s, unsigned *tries)
{
	double quiet;

	atomic_fetch_add(&s->retries, 1);
	pthread_mutex_lock(&s->lock);
	quiet = bench_now() - s->last_ok;
	pthread_mutex_unlock(&s->lock);
	if (quiet > s->o->give_up_s) {
		fprintf(stderr, "bench_server: soak: nothing succeeded for %.0f s: giving up\n", quiet);
		exit(1);
	}
	sleep_ms(*tries < 6 ? 10u << *tries : 500);
	(*tries)++;
}

/* A response's status as the soak sees it: transient (the server died, is starting,
 * or asks for a retry) or final. */
static int soak_status(worker_t *w, const char *what, int rc, const resp_t *r, int ok1, int ok2)
{
	if (rc < 0)
		return SOAK_RETRY;
	if (r->status == ok1 || r->status == ok2)
		return SOAK_OK;
	if (r->status == 503 || (r->status == 409 && (strstr(r->body, "\"conflict\"") != NULL ||
	                                              strstr(r->body, "\"commit_in_progress\"") != NULL)))
		return SOAK_RETRY;
	fail(w, what, r);
	return SOAK_FATAL;
}

/* "F PKG CASE DIGEST LEAF SIG" from a {"case", "receipt": {"receipt": {…}, "signature"}}. */
static int soak_receipt_line(const resp_t *r, unsigned pkg, char *line, size_t cap, char *case_out)
{
	json_t *j = json_loadb(r->body, r->len, 0, NULL);
	json_t *rc = json_object_get(json_object_get(j, "receipt"), "receipt");
	const char *cn = json_string_value(json_object_get(rc, "case"));
	const char *dg = json_string_value(json_object_get(rc, "header_digest"));
	const char *sig =
	        json_string_value(json_object_get(json_object_get(json_object_get(j, "receipt"), "signature"), "sig"));
	json_t *leaf = json_object_get(rc, "leaf_index");
	int ok = cn != NULL && dg != NULL && sig != NULL && json_is_integer(leaf) && strlen(cn) < SOAK_CASE_MAX &&
	         strlen(sig) < SOAK_SIG_MAX && strlen(dg) == 64;

	if (ok) {
		snprintf(line, cap, "F %06u %s %s %lld %s\n", pkg, cn, dg, (long long)json_integer_value(leaf), sig);
		snprintf(case_out, SOAK_CASE_MAX, "%s", cn);
	}
	json_decref(j);
	return ok ? 0 : -1;
}

/* POST /v1/uploads: a new or resumed upload (its id into p->upload), or *committed when
 * the package is already a case (its receipt is then in w->resp). A 500 for a package
 * whose upload we know is counted and answered by a repeated commit (SOAK_VIA_COMMIT):
 * what a server does when the case is on disk but its receipt is not (a kill between
 * commit.c's two writes), which is a server bug the soak reports, not a lost filing. */
static int soak_create(soak_t *s, worker_t *w, pkg_t *p, bool *committed)
{
	resp_t *r = &w->resp;
	int rc = request(w, "POST", "/v1/uploads", p->bytes, p->header_len, false, r);

	if (rc == 0 && r->status == 500) {
		atomic_fetch_add(&s->create_500, 1);
		if (p->upload[0] != '\0')
			return SOAK_VIA_COMMIT;
	}
	if ((rc = soak_status(w, "soak: POST /v1/uploads", rc, r, 201, 200)) != SOAK_OK)
		return rc;
	*committed = strstr(r->body, "\"receipt\"") != NULL; /* the answer of a filed package */
	if (!*committed && upload_id_of(r, p) < 0) {
		fail(w, "soak: POST /v1/uploads: no upload id", r);
		return SOAK_FATAL;
	}
	return SOAK_OK;
}

/* One attempt at filing package i: create or resume, every chunk (201 new, 200 had it),
 * commit (201, or 200 for a repeated commit); the receipt's line into line. */
static int soak_file_try(soak_t *s, worker_t *w, unsigned i, char *line, size_t cap)
{
	pkg_t *p = &w->run->pkgs[i];
	resp_t *r = &w->resp;
	char path[UPLOAD_ID_MAX + 64];
	bool committed = false;
	int rc;

	if ((rc = soak_create(s, w, p, &committed)) == SOAK_VIA_COMMIT)
		goto commit;
	if (rc != SOAK_OK)
		return rc;
	if (committed)
		atomic_fetch_add(&s->refound, 1);
	for (size_t k = 0; !committed && k < p->n_chunks; k++)
		if ((rc = soak_status(w, "soak: PUT chunk", chunk_request(w, p, &p->chunks[k], r), r, 201, 200)) !=
		    SOAK_OK)
			return rc;
commit:
	if (!committed) {
		snprintf(path, sizeof(path), "/v1/uploads/%s/commit", p->upload);
		rc = request(w, "POST", path, NULL, 0, false, r);
		if ((rc = soak_status(w, "soak: POST commit", rc, r, 201, 200)) != SOAK_OK)
			return rc;
	}
	if (soak_receipt_line(r, s->o->first + i, line, cap, s->cases[i]) < 0) {
		fail(w, "soak: a filing's answer has no complete receipt", r);
		return SOAK_FATAL;
	}
	return SOAK_OK;
}

static void *soak_filer(void *arg)
{
	worker_t *w = arg;
	soak_t *s = w->soak;
	char line[SOAK_LINE_MAX];
	unsigned i;

	while ((i = atomic_fetch_add(&s->next, 1)) < s->o->count) {
		unsigned tries = 0;
		int rc;
		soak_pace(s, i, s->o->count);
		while ((rc = soak_file_try(s, w, i, line, sizeof(line))) == SOAK_RETRY) {
			conn_close(&w->conn);
			soak_backoff(s, &tries);
		}
		if (tries > 0)
			atomic_fetch_add(&s->resumed, 1);
		if (rc != SOAK_OK) {
			atomic_fetch_add(&s->fatal, 1);
			continue;
		}
		soak_ack(s, line);
		atomic_store(&s->acked[i], 1);
		atomic_fetch_add(&s->filed, 1);
	}
	conn_close(&w->conn);
	return NULL;
}

/* --- consent and transition operations on the first cases --- */

/* The number of steps case cn has now (GET /v1/cases/{case}, officer), or a SOAK_ code. */
static int soak_steps(worker_t *w, const char *cn)
{
	char path[64];
	json_t *j, *h;
	int rc, n;

	snprintf(path, sizeof(path), "/v1/cases/%s", cn);
	rc = request(w, "GET", path, NULL, 0, false, &w->resp);
	if ((rc = soak_status(w, "soak: GET case", rc, &w->resp, 200, 200)) != SOAK_OK)
		return rc;
	j = json_loadb(w->resp.body, w->resp.len, 0, NULL);
	h = json_object_get(j, "history");
	n = json_is_array(h) ? (int)json_array_size(h) : SOAK_FATAL;
	json_decref(j);
	return n;
}

/* The body of transition `step` (0 extend, 1 refer, 2 outcome). */
static void soak_transition_body(const soak_t *s, unsigned step, char *out, size_t cap)
{
	uint8_t text[SOAK_TEXT_BYTES];
	char b64[2 * SOAK_TEXT_BYTES];

	/* Stands for a reason sealed to the intake key: the server cannot tell, by design. */
	if (getrandom(text, sizeof(text), 0) != (ssize_t)sizeof(text))
		die("getrandom failed");
	sd_base64_encode(text, sizeof(text), b64);
	if (step == 0)
		snprintf(out, cap, "{\"action\":\"extend\",\"text\":\"%s\"}", b64);
	else if (step == 1)
		snprintf(out, cap, "{\"action\":\"refer\",\"kind\":\"inspection\",\"agency\":\"%s\"}", s->o->agency);
	else
		snprintf(out, cap, "{\"action\":\"outcome\",\"concluded\":\"%s\",\"text\":\"%s\"}", s->o->today, b64);
}

/* One attempt at transition `step` of case cn; *sent says an earlier attempt may have
 * reached the server, so the case is read first. */
static int soak_transition_try(soak_t *s, worker_t *w, const char *cn, unsigned step, bool *sent)
{
	static const char *const actions[] = {"extend", "refer", "outcome"};
	char path[64], body[512], line[SOAK_LINE_MAX];
	int rc;

	if (*sent) {
		if ((rc = soak_steps(w, cn)) < 0)
			return rc;
		if ((unsigned)rc > step)
			return SOAK_APPLIED;
		if ((unsigned)rc < step) {
			fprintf(stderr, "bench_server: soak: case %s has %d steps, step %u was acknowledged\n", cn, rc,
			        step - 1);
			return SOAK_FATAL;
		}
	}
	soak_transition_body(s, step, body, sizeof(body));
	snprintf(path, sizeof(path), "/v1/cases/%s/transition", cn);
	*sent = true;
	rc = request(w, "POST", path, (const uint8_t *)body, strlen(body), false, &w->resp);
	if ((rc = soak_status(w, "soak: POST transition", rc, &w->resp, 200, 200)) != SOAK_OK)
		return rc;
	snprintf(line, sizeof(line), "T %s %u %s\n", cn, step, actions[step]);
	soak_ack(s, line);
	return SOAK_OK;
}

/* One attempt at relaying case c's consent (pkg-N.sdc beside the package). */
static int soak_consent_try(soak_t *s, worker_t *w, const uint8_t *sdc, size_t len, const char *cn, bool *sent)
{
	char line[SOAK_LINE_MAX];
	json_t *j;
	const char *id;
	int rc = request(w, "POST", "/v1/consents", sdc, len, false, &w->resp);

	if (rc == 0 && w->resp.status == 409 && *sent && strstr(w->resp.body, "consent_replayed") != NULL)
		return SOAK_APPLIED; /* the lost attempt stored it: its nonce is taken */
	*sent = true;
	if ((rc = soak_status(w, "soak: POST /v1/consents", rc, &w->resp, 201, 201)) != SOAK_OK)
		return rc;
	j = json_loadb(w->resp.body, w->resp.len, 0, NULL);
	id = json_string_value(json_object_get(j, "consent_id"));
	if (id == NULL || strlen(id) != 64 || !json_is_integer(json_object_get(j, "leaf_index"))) {
		json_decref(j);
		fail(w, "soak: a consent's answer has no id", &w->resp);
		return SOAK_FATAL;
	}
	snprintf(line, sizeof(line), "C %s %s %lld\n", cn, id,
	         (long long)json_integer_value(json_object_get(j, "leaf_index")));
	json_decref(j);
	soak_ack(s, line);
	return SOAK_OK;
}

/* Operation k of the run, on case k / 4, until the server answered it. */
static int soak_op(soak_t *s, worker_t *off, worker_t *att, unsigned k, const uint8_t *sdc, size_t sdc_len)
{
	unsigned c = k / SOAK_OPS_PER_CASE, kind = k % SOAK_OPS_PER_CASE, tries = 0;
	bool sent = false;
	int rc;

	while (!atomic_load(&s->acked[c])) {
		if (atomic_load(&s->fatal) > 0)
			return SOAK_FATAL; /* its filing failed: the run fails anyway */
		sleep_ms(5);
	}
	for (;;) {
		if (kind == 2)
			rc = soak_consent_try(s, att, sdc, sdc_len, s->cases[c], &sent);
		else
			rc = soak_transition_try(s, off, s->cases[c], kind == 3 ? 2 : kind, &sent);
		if (rc != SOAK_RETRY)
			return rc;
		conn_close(&off->conn);
		conn_close(&att->conn);
		soak_backoff(s, &tries);
	}
}

static void *soak_operator(void *arg)
{
	worker_t *w = arg, *att = w + 1;
	soak_t *s = w->soak;
	char path[PATH_MAX];
	uint8_t *sdc = NULL;
	size_t len = 0;
	int r;

	for (unsigned k = 0; k < s->o->ops; k++) {
		soak_pace(s, k, s->o->ops);
		if (k % SOAK_OPS_PER_CASE == 2) {
			snprintf(path, sizeof(path), "%s/pkg-%06u.sdc", s->o->packages,
			         s->o->first + k / SOAK_OPS_PER_CASE);
			free(sdc);
			sdc = NULL;
			if ((r = sd_file_read(path, SOAK_SDC_MAX, &sdc, &len)) < 0)
				die_sd(path, r);
		}
		r = soak_op(s, w, att, k, sdc, len);
		if (r == SOAK_OK)
			atomic_fetch_add(&s->ops_acked, 1);
		else if (r == SOAK_APPLIED)
			atomic_fetch_add(&s->ops_unacked, 1);
		else
			atomic_fetch_add(&s->fatal, 1);
	}
	free(sdc);
	conn_close(&w->conn);
	conn_close(&att->conn);
	return NULL;
}

/* --- the run --- */

static worker_t *soak_workers(soak_t *s, run_t *run, unsigned n, size_t wcap)
{
	worker_t *w = calloc(n, sizeof(*w));

	if (w == NULL)
		die("out of memory");
	for (unsigned k = 0; k < n; k++) {
		w[k] = (worker_t){.run = run, .soak = s, .conn.fd = -1, .wcap = wcap};
		if ((w[k].wbuf = malloc(wcap)) == NULL)
			die("out of memory");
	}
	return w;
}

static run_t *soak_run(const opts_t *o, const char *cert, const char *key)
{
	run_t *run = calloc(1, sizeof(*run));
	opts_t co = *o;

	if (run == NULL)
		die("out of memory");
	co.cert = cert;
	co.key = key;
	run->o = o;
	run->ctx = tls_ctx_new(&co);
	run->count = o->count;
	return run;
}

static void soak_setup(soak_t *s, const opts_t *o)
{
	memset(s, 0, sizeof(*s));
	s->o = o;
	pthread_mutex_init(&s->lock, NULL);
	if ((s->cases = calloc(o->count, sizeof(*s->cases))) == NULL ||
	    (s->acked = calloc(o->count, sizeof(*s->acked))) == NULL)
		die("out of memory");
	s->acks_fd = open(o->acks, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (s->acks_fd < 0) {
		fprintf(stderr, "bench_server: %s: %s\n", o->acks, strerror(errno));
		exit(1);
	}
	s->att = soak_run(o, o->cert, o->key);
	s->att->pkgs = pkgs_load(o, &(size_t){0});
	if (o->ops > 0)
		s->off = soak_run(o, o->off_cert, o->off_key);
	s->t0 = s->last_ok = bench_now();
	s->t0_real = now_real();
}

static int cmd_soak(const opts_t *o)
{
	soak_t s;
	pthread_t th[MAX_CONC + 1];
	worker_t *fw, *ow = NULL;
	double t;

	if (o->acks == NULL || (o->ops > 0 && (o->off_cert == NULL || o->off_key == NULL || o->today == NULL ||
	                                       o->agency == NULL || o->ops > o->count * SOAK_OPS_PER_CASE)))
		usage();
	signal(SIGPIPE, SIG_IGN); /* a write to a killed server is an error, not our end */
	soak_setup(&s, o);
	fw = soak_workers(&s, s.att, o->conc, (4u << 20) + 4096);
	for (unsigned k = 0; k < o->conc; k++)
		if (pthread_create(&th[k], NULL, soak_filer, &fw[k]) != 0)
			die("cannot start a worker");
	if (o->ops > 0) {
		ow = soak_workers(&s, s.off, 2, SOAK_SDC_MAX + 4096);
		ow[1].run = s.att; /* consents are relayed by the filing attorney */
		if (pthread_create(&th[o->conc], NULL, soak_operator, ow) != 0)
			die("cannot start a worker");
	}
	for (unsigned k = 0; k < o->conc + (o->ops > 0); k++)
		pthread_join(th[k], NULL);
	t = bench_now() - s.t0;
	printf("SOAK filings=%u acked=%u resumed=%u refound=%u create_500=%u ops=%u ops_acked=%u "
	       "ops_applied_unacked=%u "
	       "retries=%u fatal=%u secs=%.1f\n",
	       o->count, atomic_load(&s.filed), atomic_load(&s.resumed), atomic_load(&s.refound),
	       atomic_load(&s.create_500), o->ops, atomic_load(&s.ops_acked), atomic_load(&s.ops_unacked),
	       atomic_load(&s.retries), atomic_load(&s.fatal), t);
	fflush(stdout);
	return atomic_load(&s.fatal) == 0 && atomic_load(&s.filed) == o->count ? 0 : 1;
}

int main(int argc, char **argv)
{
	opts_t o;

	parse_args(argc, argv, &o);
	if (sd_init() != 0)
		die("cannot initialise libsealdrop");
	if (strcmp(o.mode, "mint") == 0)
		return cmd_mint(&o);
	if (strcmp(o.mode, "watch") == 0)
		return cmd_watch(&o);
	if (strcmp(o.mode, "soak") == 0) {
		if (o.port == 0 || o.ca == NULL || o.cert == NULL || o.packages == NULL)
			usage();
		return cmd_soak(&o);
	}
	for (size_t k = 0; k < sizeof(modes) / sizeof(modes[0]); k++) {
		if (strcmp(o.mode, modes[k].name) != 0)
			continue;
		if (o.port == 0 || o.ca == NULL || (modes[k].needs_pkgs && (o.packages == NULL || o.cert == NULL)))
			usage();
		if (o.path == NULL)
			o.path = strcmp(o.mode, "handshake") == 0 ? "/v1/health" : "/";
		return run_mode(&o, &modes[k]);
	}
	usage();
	return 64;
}
