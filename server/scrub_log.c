/*
 * scrub_log.c — `sealdropd scrub`'s look at the audit log (include/sealdrop/scrub.h):
 * each leaf against its own hash in the tree and against its parser, the whole tree
 * against the stored nodes and the signed head (server/auditcheck.c), and each case's
 * leaves (case_events) so that a damaged leaf is reported under its case. Start at
 * scrub_log_leaves(), which runs before the case pass.
 *
 * Every leaf's hash is stored as the tree node (0, i) (server/store_log.c), so a flipped
 * byte in a leaf — or in that node — shows on the leaf itself, not only as a root that
 * differs from the signed head's. Leaves are read SCRUB_LEAF_PAGE at a time.
 */
#include <stdlib.h>
#include <string.h>

#include "sealdrop/auditcheck.h"
#include "sealdrop/bytes.h"
#include "sealdrop/merkle.h"
#include "sealdrop/sealdrop.h"
#include "cmd.h"
#include "scrub_int.h"

#define LOG_SUBJECT N_("audit log")
/* What a damaged leaf held in s->bad says (English, as the JSON report keeps it; the
 * printed line translates it: report_leaf). */
#define LEAF_NO_HASH N_("its hash (tree node 0) is missing")
#define LEAF_CHANGED N_("it does not match its hash in the tree (the leaf or its node was changed)")
#define LEAF_PARSE   "it does not parse: "

/* Reports a damaged leaf's held problem: matched back to its message, so that
 * sd_scrub_damage can translate the line it prints. */
static void report_leaf(scrub_t *s, sd_scrub_kind_t kind, const char *subject, const char *what, const char *problem)
{
	size_t n = strlen(LEAF_PARSE);

	if (strcmp(problem, LEAF_NO_HASH) == 0)
		sd_scrub_damage(s->rep, kind, subject, what, LEAF_NO_HASH);
	else if (strcmp(problem, LEAF_CHANGED) == 0)
		sd_scrub_damage(s->rep, kind, subject, what, LEAF_CHANGED);
	else if (strncmp(problem, LEAF_PARSE, n) == 0)
		sd_scrub_damage(s->rep, kind, subject, what, "it does not parse: %s", problem + n);
	else
		sd_scrub_damage(s->rep, kind, subject, what, "%s", problem);
}

static void bad_leaf(scrub_t *s, uint64_t index, const char *problem)
{
	char what[SD_SCRUB_WHAT_MAX];
	scrub_bad_leaf_t *b;

	if (s->n_bad >= SD_SCRUB_BAD_LEAVES) { /* too many to hold: reported without its case */
		snprintf(what, sizeof(what), "leaf %llu", (unsigned long long)index);
		report_leaf(s, SD_SCRUB_LOG, LOG_SUBJECT, what, problem);
		return;
	}
	b = &s->bad[s->n_bad++];
	b->index = index;
	b->attributed = false;
	snprintf(b->problem, sizeof(b->problem), "%s", problem);
}

static scrub_bad_leaf_t *find_bad(scrub_t *s, uint64_t index)
{
	size_t lo = 0, hi = s->n_bad;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->bad[mid].index == index)
			return &s->bad[mid];
		if (s->bad[mid].index < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* One leaf against node (0, index) and the parser. */
static void check_leaf(scrub_t *s, uint64_t index, const uint8_t *leaf, size_t len, const sd_store_req_t *nodes,
                       size_t op)
{
	uint8_t hash[SD_MERKLE_HASH_BYTES];
	const uint8_t *node;
	size_t node_len;
	sd_audit_event_t ev;
	char problem[160];

	s->rep->records++;
	if (sd_store_req_value(nodes, op, &node, &node_len) < 0) {
		bad_leaf(s, index, LEAF_NO_HASH);
		return;
	}
	sd_merkle_leaf_hash(leaf, len, hash);
	if (node_len != sizeof(hash) || !sd_equal(hash, node, sizeof(hash))) {
		bad_leaf(s, index, LEAF_CHANGED);
		return;
	}
	if (sd_audit_leaf_parse(leaf, len, &ev) < 0) {
		snprintf(problem, sizeof(problem), LEAF_PARSE "%s", sd_error_detail());
		bad_leaf(s, index, problem);
	}
}

/* One page of leaves after `next - 1`; *more when there may be others. */
static int leaf_page(scrub_t *s, uint64_t *next, bool *more)
{
	sd_store_req_t *scan = sd_store_req_new(), *nodes = sd_store_req_new();
	uint8_t after[8], key[SD_STORE_LOG_NODE_KEY];
	const uint8_t *k, *v;
	size_t klen, vlen, n;
	int r = SD_ERR_NOMEM;

	if (scan == NULL || nodes == NULL)
		goto out;
	sd_store_be64(after, *next - 1);
	sd_store_req_scan(scan, SD_STORE_DB_LOG_LEAVES, NULL, 0, *next > 0 ? after : NULL, *next > 0 ? 8 : 0,
	                  SCRUB_LEAF_PAGE);
	if ((r = sd_store_call(s->store, scan)) < 0)
		goto out;
	n = sd_store_req_scan_count(scan, 0, more);
	for (size_t i = 0; i < n; i++) {
		if ((r = sd_store_req_scan_entry(scan, 0, i, &k, &klen, &v, &vlen)) < 0)
			goto out;
		sd_store_log_node_key(key, 0, klen == 8 ? sd_load_be64(k) : 0);
		sd_store_req_get(nodes, SD_STORE_DB_LOG_NODES, key, sizeof(key));
	}
	if (n > 0 && (r = sd_store_call(s->store, nodes)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if ((r = sd_store_req_scan_entry(scan, 0, i, &k, &klen, &v, &vlen)) < 0)
			goto out;
		if (klen != 8) { /* auditcheck names the gap this makes */
			sd_scrub_damage(s->rep, SD_SCRUB_LOG, LOG_SUBJECT, "log_leaves", "a key of %zu bytes", klen);
			continue;
		}
		*next = sd_load_be64(k) + 1;
		check_leaf(s, sd_load_be64(k), v, vlen, nodes, i);
	}
	r = 0;
out:
	sd_store_req_free(scan);
	sd_store_req_free(nodes);
	return r;
}

int scrub_log_leaves(scrub_t *s)
{
	uint64_t next = 0;
	bool more = true;
	int r = 0;

	if (s->bad == NULL && (s->bad = calloc(SD_SCRUB_BAD_LEAVES, sizeof(*s->bad))) == NULL)
		return sd_error(SD_ERR_NOMEM, "out of memory");
	while (more && r == 0)
		r = leaf_page(s, &next, &more);
	return r;
}

int scrub_log_tree(scrub_t *s)
{
	sd_audit_report_t arep;
	int r = sd_audit_check(s->store, s->log, NULL, 0, &arep);

	if (r == SD_ERR_VERIFY) {
		sd_scrub_damage(s->rep, SD_SCRUB_LOG, LOG_SUBJECT, N_("tree"), "%s", arep.problem);
		return 0;
	}
	return r;
}

void scrub_log_unclaimed(scrub_t *s)
{
	char what[SD_SCRUB_WHAT_MAX];

	for (size_t i = 0; i < s->n_bad; i++) {
		if (s->bad[i].attributed)
			continue;
		snprintf(what, sizeof(what), "leaf %llu", (unsigned long long)s->bad[i].index);
		report_leaf(s, SD_SCRUB_LOG, LOG_SUBJECT, what, s->bad[i].problem);
	}
}

void scrub_leaves_clear(scrub_leaves_t *l)
{
	free(l->notice_digests);
	memset(l, 0, sizeof(*l));
}

/* What a leaf of the case tells: the filing, a notice's digest. */
static void leaf_learn(scrub_t *s, const char *cn, const sd_case_rec_t *rec, uint64_t index, const uint8_t *leaf,
                       size_t len, scrub_leaves_t *out)
{
	char what[SD_SCRUB_WHAT_MAX];
	sd_audit_event_t ev;

	snprintf(what, sizeof(what), "leaf %llu", (unsigned long long)index);
	if (sd_audit_leaf_parse(leaf, len, &ev) < 0) { /* past the log pass's size: not seen there */
		sd_scrub_damage(s->rep, SD_SCRUB_CASE, cn, what, "it does not parse: %s", sd_error_detail());
		return;
	}
	if (strcmp(ev.case_number, cn) != 0) {
		sd_scrub_damage(s->rep, SD_SCRUB_CASE, cn, what, "case_events lists it, but it names case '%s'",
		                ev.case_number);
		return;
	}
	if (ev.type == SD_AUDIT_FILING && !out->has_filing) {
		out->has_filing = true;
		out->filing_index = index;
		memcpy(out->filing_leaf, leaf, len);
		out->filing_len = len;
		if (rec != NULL && (!ev.has_digest || !sd_equal(ev.digest, rec->digest, SD_HASH_BYTES)))
			sd_scrub_damage(s->rep, SD_SCRUB_CASE, cn, what,
			                "the filing leaf's digest is not the record's");
	}
	if (ev.type == SD_AUDIT_NOTICE && ev.has_digest && out->n_notices < SCRUB_CASE_NOTICE_MAX)
		memcpy(out->notice_digests[out->n_notices++], ev.digest, SD_AUDIT_ID_BYTES);
}

/* The leaves of one page of case_events keys (op 0 of keys). */
static int case_leaf_page(scrub_t *s, const char *cn, const sd_case_rec_t *rec, const sd_store_req_t *keys, size_t n,
                          scrub_leaves_t *out)
{
	sd_store_req_t *req = sd_store_req_new();
	const uint8_t *k, *v;
	size_t klen, vlen;
	char what[SD_SCRUB_WHAT_MAX];
	int r = SD_ERR_NOMEM;

	if (req == NULL)
		return r;
	for (size_t i = 0; i < n; i++)
		if (sd_store_req_scan_entry(keys, 0, i, &k, &klen, &v, &vlen) == 0 && klen == SD_CASE_NUMBER_LEN + 8)
			sd_store_req_get(req, SD_STORE_DB_LOG_LEAVES, k + SD_CASE_NUMBER_LEN, 8);
		else
			sd_store_req_get(req, SD_STORE_DB_LOG_LEAVES, (const uint8_t *)"?", 1);
	if ((r = sd_store_call(s->store, req)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		scrub_bad_leaf_t *b;
		uint64_t index;

		if ((r = sd_store_req_scan_entry(keys, 0, i, &k, &klen, &v, &vlen)) < 0)
			goto out;
		if (klen != SD_CASE_NUMBER_LEN + 8) {
			sd_scrub_damage(s->rep, SD_SCRUB_CASE, cn, "case_events", "a key of %zu bytes", klen);
			continue;
		}
		index = sd_load_be64(k + SD_CASE_NUMBER_LEN);
		snprintf(what, sizeof(what), "leaf %llu", (unsigned long long)index);
		if ((b = find_bad(s, index)) != NULL) {
			b->attributed = true;
			report_leaf(s, SD_SCRUB_CASE, cn, what, b->problem);
		} else if (sd_store_req_value(req, i, &v, &vlen) < 0) {
			sd_scrub_damage(s->rep, SD_SCRUB_CASE, cn, what, "case_events lists it, but it is not stored");
		} else {
			leaf_learn(s, cn, rec, index, v, vlen, out);
		}
	}
	r = 0;
out:
	sd_store_req_free(req);
	return r;
}

int scrub_case_leaves(scrub_t *s, const char *cn, const sd_case_rec_t *rec, scrub_leaves_t *out)
{
	sd_store_req_t *keys = sd_store_req_new();
	uint8_t after[SD_CASE_NUMBER_LEN + 8];
	const uint8_t *k, *v;
	size_t klen, vlen, n;
	bool more = true, first = true;
	int r = SD_ERR_NOMEM;

	memset(out, 0, sizeof(*out));
	if (keys == NULL || (out->notice_digests = calloc(SCRUB_CASE_NOTICE_MAX, SD_AUDIT_ID_BYTES)) == NULL)
		goto out;
	while (more) {
		sd_store_req_reset(keys);
		sd_store_req_scan_keys(keys, SD_STORE_DB_CASE_EVENTS, (const uint8_t *)cn, SD_CASE_NUMBER_LEN,
		                       first ? NULL : after, first ? 0 : sizeof(after), SCRUB_LEAF_PAGE);
		if ((r = sd_store_call(s->store, keys)) < 0)
			goto out;
		if ((n = sd_store_req_scan_count(keys, 0, &more)) == 0)
			break;
		if ((r = case_leaf_page(s, cn, rec, keys, n, out)) < 0 ||
		    (r = sd_store_req_scan_entry(keys, 0, n - 1, &k, &klen, &v, &vlen)) < 0)
			goto out;
		if (klen != sizeof(after))
			break; /* reported; paging on from it is not possible */
		memcpy(after, k, klen);
		first = false;
	}
	r = 0;
out:
	sd_store_req_free(keys);
	return r;
}
