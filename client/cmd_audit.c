/*
 * cmd_audit.c — `sealdrop audit verify` and `sealdrop audit show`: the client side of the
 * audit log (DESIGN.md, Audit log; docs/API.md, "Audit log"), and the log requests that
 * `sealdrop receipt verify --server` shares (cli_log_*).
 *
 * verify does what a Certificate Transparency monitor does: it fetches the signed tree
 * head without a client certificate, checks it with the log key of a directory the pinned
 * root signed, and checks that it extends the last head this client verified, kept in a
 * state file exactly as the server served it (a smaller tree, another root for the same
 * size or a consistency proof that fails means the log was rolled back, forked or
 * rewritten). show lists one case's published events for an officer and, given the
 * directory, checks each one's inclusion proof against a verified head.
 *
 * Start at verify_run() and show_run(); the server's answers are parsed by
 * crypto/loghead.c and checked by crypto/merkle.c's RFC 9162 verifiers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sealdrop/audit.h"
#include "sealdrop/bytes.h"
#include "sealdrop/fileio.h"
#include "sealdrop/loghead.h"
#include "sealdrop/merkle.h"
#include "sealdrop/receipt.h"
#include "sealdrop/sealdrop.h"
#include "cli.h"
#include "https.h"

#define BUSY_RETRIES    3   /* a busy server (503) is asked again after 1, 2 and 4 seconds */
#define QUERY_MAX       128 /* a request path with its query */
#define WHAT_MAX        128 /* "the inclusion proof of leaf N" */
#define HASH_HEX        (2 * SD_MERKLE_HASH_BYTES + 1)
#define ACTOR_SHOWN     16     /* hex digits of a fingerprint in the table */
#define SHOW_EVENTS_MAX 100000 /* events of one case the client holds */
#define STATE_SUBDIR    "log-heads"

static const cli_cmd_t cmd_top = {
        "audit",
        N_("usage: sealdrop audit verify --server URL --ca CA.pem --directory D --root ROOTPUB\n"
           "                            [--state-file F] [--json]\n"
           "       sealdrop audit show CASE --server URL --ca CA.pem --cert CERT.pem --key KEY.pem\n"
           "                            [--directory D --root ROOTPUB] [--json]\n"),
        N_("\n"
           "  verify   check the server's signed audit log head and that it extends the last one seen\n"
           "  show     list a case's published events (officer), checking each one with --directory\n"),
};

static const cli_cmd_t cmd_verify = {
        "audit verify",
        N_("usage: sealdrop audit verify --server URL --ca CA.pem --directory D --root ROOTPUB\n"
           "                            [--state-file F] [--json]\n"),
        N_("\n"
           "Fetches the server's latest signed tree head of the audit log (no client certificate is\n"
           "sent) and checks its signature with the log key of the directory D, which must verify\n"
           "against the pinned root public key. Then checks that the log only grew since the last\n"
           "head this client verified: a log with fewer leaves, another root for the same number of\n"
           "leaves, or a consistency proof that does not verify means the server's log was rolled\n"
           "back, forked or rewritten, and the command fails (exit 65) leaving the state file as it\n"
           "was. On success the new head is written to the state file exactly as the server served\n"
           "it (mode 0600); an operator can give that file to 'sealdropd audit check --expect-head'.\n"
           "\n"
           "One shorter log is accepted, with a WARNING on stderr (exit 0): one that holds the epoch\n"
           "statement 'restored to size N' as its leaf N, signed in the new head, N below the head\n"
           "seen before — the operator restored a backup and the events after leaf N are lost. The\n"
           "client cannot check that the first N leaves are the ones it saw; it says so.\n"
           "\n"
           "The state file is by default $XDG_STATE_HOME/sealdrop/log-heads/DEPLOYMENT.json, or\n"
           "~/.local/state/sealdrop/log-heads/DEPLOYMENT.json without XDG_STATE_HOME (the\n"
           "directories are created mode 0700). Run this regularly, from more than one place.\n"
           "\n"
           "  --server URL            the server, https://HOST[:PORT]\n"
           "  --ca CA.pem             the server's CA certificate: the only one trusted\n"
           "  --directory D           the signed key directory (it names the log key)\n"
           "  --root ROOTPUB          the pinned root public key that must have signed it\n"
           "  --state-file F          the last verified head, read and then replaced\n"
           "  --json                  print the result as one JSON object\n"
           "  -h, --help              this help\n"),
};

static const cli_cmd_t cmd_show = {
        "audit show",
        N_("usage: sealdrop audit show CASE --server URL --ca CA.pem --cert CERT.pem --key KEY.pem\n"
           "                            [--directory D --root ROOTPUB] [--json]\n"),
        N_("\n"
           "Lists the events of case CASE (YYYY-NNNNNN) in the server's audit log: index, date,\n"
           "event, role, the acting certificate's fingerprint (first 16 hex digits) and detail.\n"
           "Needs an officer's (or custodian's, or operator's) client certificate. Only events\n"
           "covered by a published head are listed; the server publishes one every hour or so.\n"
           "With --directory and --root the latest head is verified and each event's inclusion\n"
           "proof is checked against it; any failure ends the command (exit 65).\n"
           "\n"
           "  --server URL            the server, https://HOST[:PORT]\n"
           "  --ca CA.pem             the server's CA certificate: the only one trusted\n"
           "  --cert CERT.pem         the officer's client certificate\n"
           "  --key KEY.pem           its private key (keep it mode 0600)\n"
           "  --directory D           the signed key directory, to verify every event\n"
           "  --root ROOTPUB          the pinned root public key that must have signed it\n"
           "  --json                  print the events as one JSON object\n"
           "  -h, --help              this help\n"),
};

enum { OPT_SERVER = 256, OPT_CA, OPT_CERT, OPT_KEY, OPT_DIRECTORY, OPT_ROOT, OPT_STATE, OPT_JSON };

/* A head as JSON for --json: size, root, date. */
static json_t *head_json(const sd_loghead_t *h)
{
	return json_pack("{s:I, s:o, s:o}", "size", (json_int_t)h->size, "root", cli_json_hex(h->root, sizeof(h->root)),
	                 "date", cli_json_date(h->date));
}

/* --- audit verify: the state file ----------------------------------------------------- */

typedef struct {
	const char *server, *ca, *dir, *root, *state;
	bool json;
} verify_args_t;

/* One check of a head against the state file (the directory, the log and the head are
 * the caller's); released by verify_free. */
typedef struct {
	const char *state; /* NULL: the default path */
	const sd_directory_t *d;
	cli_log_t *log;
	char *path;
	int lock;
	bool has_prev;
	sd_loghead_t prev, head;
	bool epoch;           /* the log is shorter than prev, and states why (epoch_find) */
	uint64_t epoch_size;  /* the size it was restored to: the epoch leaf's index and number */
	sd_date_t epoch_date; /* the day of the restore */
	const uint8_t *text;  /* the new head as served */
	size_t len;
} verify_t;

static void verify_free(verify_t *v)
{
	if (v->lock >= 0)
		close(v->lock); /* releases the lock */
	free(v->path);
}

/* $XDG_STATE_HOME/sealdrop/log-heads/DEPLOYMENT.json (the XDG spec ignores a relative
 * value), else $HOME/.local/state/sealdrop/log-heads/DEPLOYMENT.json. */
static int state_path_default(const char *deployment, char **out)
{
	char *base = NULL, *dir = NULL;
	int r;

	*out = NULL;
	if ((r = sd_state_dir(&base)) < 0)
		return sd_error(r, _("neither XDG_STATE_HOME nor HOME names a directory for the state file: give "
		                     "--state-file"));
	if (asprintf(&dir, "%s/" STATE_SUBDIR, base) < 0)
		dir = NULL;
	free(base);
	if (dir == NULL)
		return SD_ERR_NOMEM;
	if ((r = sd_mkdir_p(dir)) == 0 && asprintf(out, "%s/%s.json", dir, deployment) < 0) {
		*out = NULL;
		r = SD_ERR_NOMEM;
	}
	free(dir);
	return r;
}

/* Two verifications at once must not let the older head be written last: the read,
 * compare and write run under an exclusive flock(2) on the state file's directory. */
static int state_lock(const char *path, int *fd)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash == NULL ? strdup(".") : slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
	int r = 0;

	if (dir == NULL)
		return SD_ERR_NOMEM;
	if ((*fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || flock(*fd, LOCK_EX) != 0)
		r = sd_error(errno == ENOENT ? SD_ERR_NOENT : SD_ERR_IO,
		             _("cannot lock the directory %s of the state file: %s"), dir, strerror(errno));
	free(dir);
	return r;
}

/* The last head this client verified, if there is one: it must still verify. */
/* The kept head: signed by the directory's log key or, after a rotation, by one it lists
 * as retired. It is this client's own record, verified when it was new; the consistency
 * proof to the fresh head, which only the current key may sign, links the two. */
static int prev_verify(verify_t *v, const uint8_t *text, size_t len)
{
	const sd_pubkey_t *k = sd_directory_doc_log_key(v->d, text, len);
	sd_loghead_t *h = &v->prev;
	int r;

	if (k == NULL || k == &v->d->log)
		return sd_loghead_verify_with_directory(text, len, v->d, h);
	if ((r = sd_loghead_parse(text, len, k, h)) == 0 && strcmp(h->deployment, v->d->deployment) != 0)
		r = sd_error(SD_ERR_DEPLOYMENT, _("the head is for deployment '%s', not '%s'"), h->deployment,
		             v->d->deployment);
	return r;
}

static int state_read(verify_t *v)
{
	uint8_t *text = NULL;
	size_t len = 0;
	int r;

	if ((r = sd_file_read(v->path, SD_LOGHEAD_MAX_BYTES, &text, &len)) == SD_ERR_NOENT) {
		sd_error_clear();
		return 0;
	}
	if (r < 0)
		return cli_error_prefix(r, "%s", v->path);
	if ((r = prev_verify(v, text, len)) < 0)
		r = cli_error_prefix(r == SD_ERR_TOOBIG ? SD_ERR_FORMAT : r,
		                     _("the state file %s, the last head this client verified, is damaged or was "
		                       "altered"),
		                     v->path);
	else
		v->has_prev = true;
	free(text);
	return r;
}

/* --- audit verify: the epoch statement -------------------------------------------------- */

#define EPOCH_SEARCH_MAX 512 /* leaves appended since the restore that the search looks back over */
#define EPOCH_DAYS_MAX   400 /* days between the last head seen and this one that a restore may fall on */

/* Whether leaf `index` of the new head is exactly the epoch statement "restored to size
 * index" dated one of the days from the previous head's (less a day) to this head's: the
 * client rebuilds the leaf — it is canonical, so it knows its bytes — and checks it against
 * the proof. 0 found (v->epoch_*), 1 not, or an error fetching the proof. */
static int epoch_try(verify_t *v, uint64_t index)
{
	char path[QUERY_MAX], what[WHAT_MAX];
	uint8_t hash[SD_MERKLE_HASH_BYTES];
	sd_date_t d = v->head.date, first = sd_date_add_days(v->prev.date, -1);
	cli_https_response_t resp;
	sd_logproof_t p;
	int r;

	snprintf(path, sizeof(path), "/v1/log/proof/inclusion?index=%llu&size=%llu", (unsigned long long)index,
	         (unsigned long long)v->head.size);
	snprintf(what, sizeof(what), _("the inclusion proof of leaf %llu"), (unsigned long long)index);
	if ((r = cli_log_get(v->log, path, what, &resp)) < 0)
		goto out;
	if ((r = sd_logproof_inclusion_parse(resp.body, resp.body_len, &p)) < 0 || p.a != index ||
	    p.b != v->head.size) {
		r = cli_log_answer_error(r < 0 ? r : SD_ERR_FORMAT, what);
		goto out;
	}
	r = 1;
	for (int i = 0; i < EPOCH_DAYS_MAX && (i == 0 || sd_date_cmp(d, first) >= 0) && r == 1; i++) {
		sd_audit_event_t ev = {.type = SD_AUDIT_RESTORE, .date = d, .has_number = true, .number = index};
		uint8_t *leaf = NULL;
		size_t len = 0;

		snprintf(ev.role, sizeof(ev.role), "%s", "operator");
		if (sd_audit_leaf_encode(&ev, &leaf, &len) == 0) {
			sd_merkle_leaf_hash(leaf, len, hash);
			if (sd_merkle_verify_inclusion(index, v->head.size, hash,
			                               (const uint8_t(*)[SD_MERKLE_HASH_BYTES])p.hashes, p.n,
			                               v->head.root) == 0) {
				v->epoch = true;
				v->epoch_size = index;
				v->epoch_date = d;
				r = 0;
			}
		}
		free(leaf);
		d = sd_date_add_days(d, -1);
	}
	sd_error_clear();
out:
	cli_https_response_free(&resp);
	return r;
}

/* The log is not an extension of the previous head. It may hold an epoch statement: the
 * operator restored a backup of N leaves, N below the previous head's size, and appended
 * "restored to size N" as leaf N. The latest such leaf is searched for, from the newest
 * leaf back (at most EPOCH_SEARCH_MAX). 0 found, 1 not, or an error. */
static int epoch_find(verify_t *v)
{
	uint64_t top = v->head.size - 1, n;
	int r = 1;

	if (v->head.size == 0)
		return 1;
	if (top > v->prev.size - 1)
		top = v->prev.size - 1;
	for (n = 0; n < EPOCH_SEARCH_MAX && n <= top && r == 1; n++)
		r = epoch_try(v, top - n);
	return r;
}

/* The new head must extend the previous one (RFC 9162 consistency, as CT monitors check),
 * or the log must state, signed, that it was restored to an earlier size (epoch_find). */
static int heads_compare(verify_t *v)
{
	unsigned long long old = v->prev.size, now = v->head.size;
	char date[SD_DATE_TEXT_BYTES];
	int r;

	if (!v->has_prev || old == 0)
		return 0; /* the empty tree is a prefix of every tree */
	sd_date_format(v->prev.date, date);
	if (old < now && (r = cli_log_check_consistency(v->log, &v->prev, &v->head)) != SD_ERR_VERIFY)
		return r;
	if (old == now && sd_equal(v->prev.root, v->head.root, SD_MERKLE_HASH_BYTES))
		return 0;
	if ((r = epoch_find(v)) <= 0)
		return r;
	if (old > now)
		return sd_error(SD_ERR_VERIFY,
		                _("the server's log has %llu leaves, fewer than the %llu of a head it signed earlier "
		                  "(%s): the log was rolled back or forked"),
		                now, old, date);
	if (old == now)
		return sd_error(SD_ERR_VERIFY,
		                _("the server's log of %llu leaves has another root than the head of the same size it "
		                  "signed earlier (%s): the log was forked or rewritten"),
		                now, date);
	return sd_error(SD_ERR_VERIFY,
	                _("the server's log is not an extension of the head of size %llu it signed earlier (%s)"), old,
	                date);
}

/* The epoch, loudly: on stderr whatever the output format. */
static void epoch_warn(const verify_t *v)
{
	char date[SD_DATE_TEXT_BYTES];

	sd_date_format(v->epoch_date, date);
	cli_warn("audit",
	         _("the audit log was RESTORED from a backup on %s: the server's log states, signed "
	           "by the log key, that it was restored to %llu leaves; the %llu leaves after those that this "
	           "client saw (head of %llu leaves) are lost, and their events may be missing from the server. "
	           "This client cannot check that the first %llu leaves are the ones it saw: ask the operator why"),
	         date, (unsigned long long)v->epoch_size, (unsigned long long)(v->prev.size - v->epoch_size),
	         (unsigned long long)v->prev.size, (unsigned long long)v->epoch_size);
}

static json_t *epoch_json(const verify_t *v)
{
	char date[SD_DATE_TEXT_BYTES];

	sd_date_format(v->epoch_date, date);
	return json_pack("{s:I, s:I, s:s, s:I}", "restored_size", (json_int_t)v->epoch_size, "index",
	                 (json_int_t)v->epoch_size, "date", date, "previous_size", (json_int_t)v->prev.size);
}

static int verify_report(const verify_args_t *a, const verify_t *v)
{
	char root[HASH_HEX], id[SD_KEY_ID_HEX_BYTES], date[SD_DATE_TEXT_BYTES];

	sd_hex_encode(v->head.root, sizeof(v->head.root), root);
	sd_key_id_hex(v->head.log_key_id, id);
	sd_date_format(v->head.date, date);
	if (v->epoch)
		epoch_warn(v);
	if (a->json)
		return cli_json_print(json_pack(
		        "{s:s, s:I, s:s, s:s, s:s, s:o, s:b, s:b, s:s, s:b, s:o}", "deployment", v->head.deployment,
		        "size", (json_int_t)v->head.size, "root", root, "date", date, "log_key_id", id, "previous",
		        v->has_prev ? head_json(&v->prev) : json_null(), "first", !v->has_prev, "consistent", !v->epoch,
		        "state_file", v->path, "verified", 1, "epoch", v->epoch ? epoch_json(v) : json_null()));
	printf(_("log head verified: deployment %s, signed by log key %s\n"), v->head.deployment, id);
	printf(_("  leaves       %llu\n"), (unsigned long long)v->head.size);
	printf(_("  root         %s\n"), root);
	printf(_("  published    %s\n"), date);
	if (v->epoch) {
		sd_date_format(v->epoch_date, date);
		printf(_("  history      RESTORED on %s to %llu leaves (epoch statement, leaf %llu); the head seen "
		         "before had %llu\n"),
		       date, (unsigned long long)v->epoch_size, (unsigned long long)v->epoch_size,
		       (unsigned long long)v->prev.size);
	} else if (v->has_prev) {
		sd_date_format(v->prev.date, date);
		printf(_("  history      consistent with the head of size %llu seen before (%s)\n"),
		       (unsigned long long)v->prev.size, date);
	} else {
		printf(_("  history      first head seen: nothing to compare\n"));
	}
	printf(_("  state file   %s\n"), v->path);
	return 0;
}

/* Under the lock: the previous head, the comparison, the new head written. */
static int state_advance(verify_t *v)
{
	int r;

	if (v->state != NULL)
		r = (v->path = strdup(v->state)) == NULL ? SD_ERR_NOMEM : 0;
	else
		r = state_path_default(v->d->deployment, &v->path);
	if (r < 0 || (r = state_lock(v->path, &v->lock)) < 0 || (r = state_read(v)) < 0 || (r = heads_compare(v)) < 0)
		return r;
	if ((r = sd_file_write(v->path, v->text, v->len, 0600, SD_AFILE_REPLACE)) < 0)
		return cli_error_prefix(r, "%s", v->path);
	return 0;
}

int cli_log_state_advance(cli_log_t *log, const sd_directory_t *d, const char *state, const sd_loghead_t *h,
                          const uint8_t *text, size_t len)
{
	verify_t v = {.state = state, .d = d, .log = log, .lock = -1, .head = *h, .text = text, .len = len};
	int r = state_advance(&v);

	if (r == 0 && v.epoch)
		epoch_warn(&v);

	verify_free(&v);
	return r;
}

static int verify_run(const verify_args_t *a)
{
	verify_t v = {.state = a->state, .lock = -1};
	sd_directory_t *d = NULL;
	cli_log_t *log = NULL;
	uint8_t *text = NULL;
	int r;

	if ((r = cli_directory_load(a->dir, a->root, &d)) < 0 ||
	    (r = cli_log_open(a->server, a->ca, NULL, NULL, &log)) < 0 ||
	    (r = cli_log_head(log, d, &v.head, &text, &v.len)) < 0)
		goto out;
	v.d = d;
	v.log = log;
	v.text = text;
	if ((r = state_advance(&v)) == 0)
		r = verify_report(a, &v);
out:
	verify_free(&v);
	free(text);
	cli_log_free(log);
	sd_directory_free(d);
	return r;
}

static int audit_verify(int argc, char **argv)
{
	verify_args_t a = {0};
	const cli_opt_t opts[] = {
	        {"server", OPT_SERVER, .value = &a.server},
	        {"ca", OPT_CA, .value = &a.ca},
	        {"directory", OPT_DIRECTORY, .value = &a.dir},
	        {"root", OPT_ROOT, .value = &a.root},
	        {"state-file", OPT_STATE, .value = &a.state},
	        {"json", OPT_JSON, .flag = &a.json},
	        {0},
	};
	int r;

	if ((r = cli_getopt(&cmd_verify, argc, argv, opts)) >= 0)
		return r;
	if (optind < argc)
		return cli_usage_error(&cmd_verify, _("unexpected argument '%s'"), argv[optind]);
	if (a.server == NULL || a.ca == NULL || a.dir == NULL || a.root == NULL)
		return cli_usage_error(&cmd_verify, _("missing %s"),
		                       a.server == NULL ? "--server"
		                       : a.ca == NULL   ? "--ca"
		                       : a.dir == NULL  ? "--directory"
		                                        : "--root");
	sd_error_clear();
	if ((r = verify_run(&a)) < 0)
		return cli_fail(cmd_verify.name, r);
	return 0;
}

/* --- audit show ------------------------------------------------------------------------- */

typedef struct {
	const char *case_number, *server, *ca, *cert, *key, *dir, *root;
	bool json;
} show_args_t;

/* The case's events as the server listed them; released by show_free. */
typedef struct {
	const show_args_t *a;
	sd_directory_t *d;
	cli_log_t *log;
	sd_logentry_t *e;
	size_t n, cap;
	bool verified;
	sd_loghead_t head;
} show_t;

static void show_free(show_t *s)
{
	sd_logentries_free(s->e, s->n);
	sd_directory_free(s->d);
	cli_log_free(s->log);
}

/* One page of the case's entries from `start` (first: from the beginning). */
static int entries_page(show_t *s, bool first, uint64_t start, sd_logentry_t **page, size_t *n)
{
	char path[QUERY_MAX], what[WHAT_MAX];
	cli_https_response_t resp;
	int r;

	*page = NULL;
	*n = 0;
	if (first)
		snprintf(path, sizeof(path), "/v1/log/entries?case=%s", s->a->case_number);
	else
		snprintf(path, sizeof(path), "/v1/log/entries?case=%s&start=%llu", s->a->case_number,
		         (unsigned long long)start);
	snprintf(what, sizeof(what), _("the events of case %s"), s->a->case_number);
	if ((r = cli_log_get(s->log, path, what, &resp)) < 0) {
		if (cli_log_is_no_head(&resp)) /* nothing is published yet: no events to list */
			r = 0;
		goto out;
	}
	if ((r = sd_logentries_parse(resp.body, resp.body_len, page, n)) < 0)
		r = cli_log_answer_error(r, what);
out:
	cli_https_response_free(&resp);
	return r;
}

/* A page must go on from start (so paging ends) and hold only the case's events. */
static int page_check(const show_t *s, bool first, uint64_t start, const sd_logentry_t *page, size_t n)
{
	if (n > 0 && !first && page[0].index < start)
		return sd_error(CLI_ERR_PROTOCOL,
		                _("the server listed leaf %llu again when asked for leaves from %llu"),
		                (unsigned long long)page[0].index, (unsigned long long)start);
	for (size_t i = 0; i < n; i++)
		if (strcmp(page[i].event.case_number, s->a->case_number) != 0)
			return sd_error(CLI_ERR_PROTOCOL, _("the server listed leaf %llu, not an event of case %s"),
			                (unsigned long long)page[i].index, s->a->case_number);
	if (s->n + n > SHOW_EVENTS_MAX)
		return sd_error(CLI_ERR_PROTOCOL, _("the server lists more than %d events for case %s"),
		                SHOW_EVENTS_MAX, s->a->case_number);
	return 0;
}

/* Moves a page's entries (and their leaves) to the end of s->e. */
static int page_take(show_t *s, sd_logentry_t *page, size_t n)
{
	if (s->n + n > s->cap) {
		size_t cap = s->cap == 0 ? n : s->cap * 2 > s->n + n ? s->cap * 2 : s->n + n;
		sd_logentry_t *e = realloc(s->e, cap * sizeof(*e));
		if (e == NULL)
			return SD_ERR_NOMEM;
		s->e = e;
		s->cap = cap;
	}
	memcpy(s->e + s->n, page, n * sizeof(*page));
	s->n += n;
	free(page); /* the leaves belong to s->e now */
	return 0;
}

/* Every page, asking again from the last index + 1 until a page comes back empty or not
 * full. */
static int entries_fetch(show_t *s)
{
	sd_logentry_t *page;
	uint64_t start = 0;
	size_t n;
	int r;

	for (bool first = true;; first = false) {
		if ((r = entries_page(s, first, start, &page, &n)) < 0)
			return r;
		if (n == 0) {
			sd_logentries_free(page, n);
			return 0;
		}
		if ((r = page_check(s, first, start, page, n)) < 0) {
			sd_logentries_free(page, n);
			return r;
		}
		start = page[n - 1].index + 1;
		if ((r = page_take(s, page, n)) < 0) {
			sd_logentries_free(page, n);
			return r;
		}
		if (n < SD_LOGENTRIES_MAX) /* a page that is not full is the last */
			return 0;
	}
}

/* The latest head, verified, and each event's inclusion proof against it. The events were
 * listed first, so a head the server published meanwhile covers them too. */
static int entries_verify(show_t *s)
{
	int r;

	if ((r = cli_log_head(s->log, s->d, &s->head, NULL, NULL)) < 0)
		return r;
	for (size_t i = 0; i < s->n; i++) {
		unsigned long long index = s->e[i].index, size = s->head.size;
		if (index >= size)
			return sd_error(SD_ERR_VERIFY,
			                _("the event at leaf %llu is not covered by the server's latest "
			                  "head (size %llu): the log was rolled back"),
			                index, size);
		r = cli_log_check_inclusion(s->log, &s->head, index, s->e[i].leaf, s->e[i].leaf_len);
		if (r == SD_ERR_VERIFY)
			return cli_error_prefix(
			        r, _("the event at leaf %llu is not in the server's log head of size %llu"), index,
			        size);
		if (r < 0)
			return r;
	}
	s->verified = true;
	return 0;
}

static int show_json(const show_t *s)
{
	json_t *list = json_array(), *o;
	char id[SD_KEY_ID_HEX_BYTES];

	for (size_t i = 0; list != NULL && i < s->n; i++) {
		o = json_pack("{s:I, s:o}", "index", (json_int_t)s->e[i].index, "event",
		              sd_audit_event_json(&s->e[i].event));
		if (o == NULL || json_array_append_new(list, o) < 0) {
			json_decref(list);
			list = NULL;
		}
	}
	if (list == NULL)
		return SD_ERR_NOMEM;
	sd_key_id_hex(s->head.log_key_id, id);
	return cli_json_print(json_pack(
	        "{s:s, s:o, s:b, s:o}", "case", s->a->case_number, "events", list, "verified", s->verified, "head",
	        s->verified ? json_pack("{s:I, s:o, s:o, s:s}", "size", (json_int_t)s->head.size, "root",
	                                cli_json_hex(s->head.root, SD_MERKLE_HASH_BYTES), "date",
	                                cli_json_date(s->head.date), "log_key_id", id)
	                    : json_null()));
}

static void show_row(const sd_logentry_t *e)
{
	char date[SD_DATE_TEXT_BYTES], actor[2 * SD_AUDIT_ID_BYTES + 1];
	const sd_audit_event_t *ev = &e->event;

	sd_date_format(ev->date, date);
	if (ev->has_actor)
		sd_hex_encode(ev->actor, sizeof(ev->actor), actor);
	else
		snprintf(actor, sizeof(actor), "-");
	actor[ACTOR_SHOWN] = '\0';
	printf("%8llu  %s  %-19s  %-13s  %-16s  %s\n", (unsigned long long)e->index, date, sd_audit_type_name(ev->type),
	       ev->role[0] != '\0' ? ev->role : "-", actor, ev->detail[0] != '\0' ? ev->detail : "-");
}

static int show_report(const show_t *s)
{
	char date[SD_DATE_TEXT_BYTES], id[SD_KEY_ID_HEX_BYTES];

	if (s->a->json)
		return show_json(s);
	printf(_("case %s, published events: %zu\n"), s->a->case_number, s->n);
	printf("%8s  %-10s  %-19s  %-13s  %-16s  %s\n", _("index"), _("date"), _("event"), _("role"), _("actor"),
	       _("detail"));
	for (size_t i = 0; i < s->n; i++)
		show_row(&s->e[i]);
	if (!s->verified) {
		printf(_("not verified: give --directory and --root to check each event against a signed head\n"));
		return 0;
	}
	sd_date_format(s->head.date, date);
	sd_key_id_hex(s->head.log_key_id, id);
	printf(_("verified in the head of size %llu (%s, signed by log key %s): every event's inclusion proof "
	         "checks\n"),
	       (unsigned long long)s->head.size, date, id);
	return 0;
}

static int show_run(const show_args_t *a)
{
	show_t s = {.a = a};
	int r;

	if (a->dir != NULL && (r = cli_directory_load(a->dir, a->root, &s.d)) < 0)
		goto out;
	if ((r = cli_log_open(a->server, a->ca, a->cert, a->key, &s.log)) < 0 || (r = entries_fetch(&s)) < 0)
		goto out;
	if (s.n == 0) {
		if (a->json)
			r = cli_json_print(json_pack("{s:s, s:[], s:b, s:n}", "case", a->case_number, "events",
			                             "verified", 0, "head"));
		else
			printf(_("no published events for %s (events appear when the next head is published)\n"),
			       a->case_number);
		goto out;
	}
	if (s.d != NULL && (r = entries_verify(&s)) < 0)
		goto out;
	r = show_report(&s);
out:
	show_free(&s);
	return r;
}

static int show_missing(const show_args_t *a)
{
	if (a->server == NULL || a->ca == NULL || a->cert == NULL || a->key == NULL)
		return cli_usage_error(&cmd_show, _("missing %s"),
		                       a->server == NULL ? "--server"
		                       : a->ca == NULL   ? "--ca"
		                       : a->cert == NULL ? "--cert"
		                                         : "--key");
	if ((a->dir == NULL) != (a->root == NULL))
		return cli_usage_error(&cmd_show, _("--directory and --root go together"));
	if (!sd_case_number_is_valid(a->case_number))
		return cli_usage_error(&cmd_show, _("'%s' is not a case number (YYYY-NNNNNN)"), a->case_number);
	return 0;
}

static int audit_show(int argc, char **argv)
{
	show_args_t a = {0};
	const cli_opt_t opts[] = {
	        {"server", OPT_SERVER, .value = &a.server},    {"ca", OPT_CA, .value = &a.ca},
	        {"cert", OPT_CERT, .value = &a.cert},          {"key", OPT_KEY, .value = &a.key},
	        {"directory", OPT_DIRECTORY, .value = &a.dir}, {"root", OPT_ROOT, .value = &a.root},
	        {"json", OPT_JSON, .flag = &a.json},           {0},
	};
	int r;

	if ((r = cli_getopt(&cmd_show, argc, argv, opts)) >= 0)
		return r;
	if ((r = cli_one_argument(&cmd_show, argc, argv, _("missing the CASE number"), &a.case_number)) != 0 ||
	    (r = show_missing(&a)) != 0)
		return r;
	sd_error_clear();
	if ((r = show_run(&a)) < 0)
		return cli_fail(cmd_show.name, r);
	return 0;
}

int cmd_audit(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error(&cmd_top, _("missing verify or show"));
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cli_help(&cmd_top);
	if (strcmp(argv[1], "verify") == 0)
		return audit_verify(argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return audit_show(argc - 1, argv + 1);
	return cli_usage_error(&cmd_top, _("unknown subcommand '%s'"), argv[1]);
}
