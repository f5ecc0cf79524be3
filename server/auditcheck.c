/*
 * auditcheck.c — recomputes the audit log's tree from its stored leaves and compares it
 * with signed heads (include/sealdrop/auditcheck.h). Start at sd_audit_check().
 *
 * The leaves are read in pages of SD_STORE_SCAN_MAX, in index order, and pushed into a
 * streaming root (O(log n) memory), which is sampled when it reaches the size of each
 * head to compare. Then the root as the stored nodes give it is read the way proofs read
 * it, and must be the same.
 *
 * Heads are checked with the log key and, after a rotation, with the keys the directory
 * lists as retired (sd_audit_check_keys): a head the operator kept from before the
 * rotation was signed by a key that no longer signs.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sealdrop/auditcheck.h"
#include "sealdrop/auditlog.h"
#include "sealdrop/bytes.h"
#include "sealdrop/directory.h"
#include "sealdrop/fileio.h"
#include "sealdrop/i18n.h"
#include "sealdrop/sealdrop.h"
#include "sealdrop/server.h"

struct walk {
	sd_merkle_stream_t st;
	uint64_t want[2]; /* sizes to sample the root at: the head's, the kept head's */
	bool sampled[2];
	uint8_t sample[2][SD_MERKLE_HASH_BYTES];
};

/* The first problem found: in English in the report (its JSON is for scripts, and the
 * running server logs it), and in the reader's language (gettext, domain "sealdropd") in
 * the detail, which `sealdropd audit check` prints when the check ran in its own process.
 * The running server binds no catalogue, so its detail is English too. */
static int problem(sd_audit_report_t *rep, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int problem(sd_audit_report_t *rep, const char *fmt, ...)
{
	char text[SD_AUDIT_PROBLEM_MAX];
	va_list ap;

	if (rep->problem[0] != '\0')
		return sd_error(SD_ERR_VERIFY, "%s", rep->problem);
	va_start(ap, fmt);
	vsnprintf(rep->problem, sizeof(rep->problem), fmt, ap);
	va_end(ap);
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), sd_gettext(fmt), ap);
	va_end(ap);
	return sd_error(SD_ERR_VERIFY, "%s", text);
}

static void walk_sample(struct walk *w)
{
	for (size_t i = 0; i < 2; i++) {
		if (!w->sampled[i] && w->st.size == w->want[i]) {
			sd_merkle_stream_root(&w->st, w->sample[i]);
			w->sampled[i] = true;
		}
	}
}

/* Pushes one page of leaves; *more when the scan stopped at its limit. */
static int walk_page(sd_store_t *store, struct walk *w, sd_audit_report_t *rep, bool *more)
{
	sd_store_req_t *req = sd_store_req_new();
	uint8_t after[8], hash[SD_MERKLE_HASH_BYTES];
	const uint8_t *k, *v;
	size_t klen, vlen, n;
	int r;

	if (req == NULL)
		return SD_ERR_NOMEM;
	sd_store_be64(after, rep->leaves - 1);
	sd_store_req_scan(req, SD_STORE_DB_LOG_LEAVES, NULL, 0, rep->leaves > 0 ? after : NULL,
	                  rep->leaves > 0 ? sizeof(after) : 0, SD_STORE_SCAN_MAX);
	if ((r = sd_store_call(store, req)) < 0)
		goto out;
	n = sd_store_req_scan_count(req, 0, more);
	for (size_t i = 0; i < n && r == 0; i++) {
		if ((r = sd_store_req_scan_entry(req, 0, i, &k, &klen, &v, &vlen)) < 0)
			break;
		if (klen != 8 || sd_load_be64(k) != rep->leaves) {
			r = problem(rep, "leaf %llu is missing: the next stored key is not it (leaves dropped)",
			            (unsigned long long)rep->leaves);
			break;
		}
		sd_merkle_leaf_hash(v, vlen, hash);
		if ((r = sd_merkle_stream_push(&w->st, hash)) < 0)
			break;
		rep->leaves++;
		walk_sample(w);
	}
out:
	sd_store_req_free(req);
	return r;
}

/* The root at rep->leaves as the stored nodes give it: what every proof is built from. */
static int nodes_root(sd_store_t *store, const sd_audit_report_t *rep, uint8_t out[SD_MERKLE_HASH_BYTES])
{
	sd_merkle_range_t all = {0, rep->leaves};
	sd_store_req_t *req;
	int r;

	if (rep->leaves == 0) {
		sd_merkle_empty_root(out);
		return 0;
	}
	if ((req = sd_store_req_new()) == NULL)
		return SD_ERR_NOMEM;
	if ((r = sd_auditlog_req_ranges(req, &all, 1)) >= 0 && (r = sd_store_call(store, req)) >= 0)
		r = sd_auditlog_fold_ranges(req, 0, &all, 1, (uint8_t(*)[SD_MERKLE_HASH_BYTES])out);
	sd_store_req_free(req);
	return r;
}

/* --- the keys heads are checked with ---------------------------------------------------------- */

size_t sd_audit_keys(const sd_pubkey_t *log, const sd_directory_t *d, sd_pubkey_t keys[SD_AUDIT_KEYS_MAX])
{
	size_t n = 0;

	keys[n++] = *log;
	for (size_t i = 0; d != NULL && i < d->n_log_retired && n < SD_AUDIT_KEYS_MAX; i++)
		keys[n++] = d->log_retired[i];
	return n;
}

size_t sd_audit_keys_load(const char *dir, const sd_pubkey_t *log, sd_pubkey_t keys[SD_AUDIT_KEYS_MAX])
{
	char path[PATH_MAX];
	sd_directory_t *d = NULL;
	uint8_t *json = NULL;
	size_t len = 0, n;
	sd_pubkey_t root;
	int k = snprintf(path, sizeof(path), "%s/%s", dir, SD_SERVER_DIRECTORY);

	if (k > 0 && (size_t)k < sizeof(path) && sd_file_read(path, SD_DIRECTORY_MAX_BYTES, &json, &len) == 0 &&
	    sd_directory_signer(json, len, &root) == 0 &&
	    sd_directory_parse(json, len, &root, sd_date_today(), &d) == 0)
		n = sd_audit_keys(log, d, keys);
	else
		n = sd_audit_keys(log, NULL, keys);
	sd_error_clear();
	sd_directory_free(d);
	free(json);
	return n;
}

/* The head parsed and verified with the key among keys whose id it names (keys[0], the
 * log key, when it names none of them, so that the message says which key signed it). */
static int head_parse(const sd_pubkey_t *keys, size_t n_keys, const uint8_t *json, size_t len, sd_loghead_t *out)
{
	uint8_t id[SD_KEY_ID_BYTES];
	const sd_pubkey_t *k = &keys[0];

	if (sd_directory_doc_key_id(json, len, id) == 0)
		for (size_t i = 1; i < n_keys; i++)
			if (sd_equal(keys[i].id, id, SD_KEY_ID_BYTES))
				k = &keys[i];
	return sd_loghead_parse(json, len, k, out);
}

/* The store's own head and the kept one, parsed and verified. */
static int load_heads(sd_store_t *store, const sd_pubkey_t *keys, size_t n_keys, const uint8_t *expect,
                      size_t expect_len, sd_audit_report_t *rep)
{
	char *json = NULL;
	int r;

	if ((r = sd_auditlog_read_state(store, &rep->stored_size, &json)) < 0)
		return r;
	if (json != NULL) {
		r = head_parse(keys, n_keys, (const uint8_t *)json, strlen(json), &rep->head);
		free(json);
		if (r < 0)
			return problem(rep, "the store's latest head does not verify with the log key: %s",
			               sd_error_detail());
		rep->has_head = true;
	}
	if (expect != NULL) {
		if ((r = head_parse(keys, n_keys, expect, expect_len, &rep->expect)) < 0)
			return sd_error(r == SD_ERR_NOMEM ? r : SD_ERR_FORMAT, "the kept head: %s", sd_error_detail());
		rep->has_expect = true;
	}
	return 0;
}

/* i: 0 the store's latest signed head, 1 the head the operator kept (each message whole,
 * for the translators). */
static int compare(const struct walk *w, sd_audit_report_t *rep, size_t i, const sd_loghead_t *h)
{
	unsigned long long size = h->size, leaves = rep->leaves;

	if (h->size > rep->leaves)
		return i == 0 ? problem(rep,
		                        "the store's latest signed head covers %llu leaves but the store holds %llu: "
		                        "leaves were dropped, or the store was reverted to an older copy",
		                        size, leaves)
		              : problem(rep,
		                        "the head you kept covers %llu leaves but the store holds %llu: leaves were "
		                        "dropped, or the store was reverted to an older copy",
		                        size, leaves);
	if (!w->sampled[i] || !sd_equal(h->root, w->sample[i], SD_MERKLE_HASH_BYTES))
		return i == 0 ? problem(rep,
		                        "the tree recomputed from the stored leaves differs from the store's latest "
		                        "signed head at size %llu: a leaf was rewritten, or the log was forked",
		                        size)
		              : problem(rep,
		                        "the tree recomputed from the stored leaves differs from the head you kept at "
		                        "size %llu: a leaf was rewritten, or the log was forked",
		                        size);
	return 0;
}

static int check_all(sd_store_t *store, struct walk *w, sd_audit_report_t *rep)
{
	uint8_t from_nodes[SD_MERKLE_HASH_BYTES];
	bool more = true;
	int r = 0;

	while (more && r == 0)
		r = walk_page(store, w, rep, &more);
	if (r < 0)
		return r;
	sd_merkle_stream_root(&w->st, rep->root);
	if (rep->stored_size != rep->leaves)
		return problem(rep, "the log's size record says %llu leaves, %llu are stored",
		               (unsigned long long)rep->stored_size, (unsigned long long)rep->leaves);
	if (rep->has_head && (r = compare(w, rep, 0, &rep->head)) < 0)
		return r;
	if (rep->has_expect && (r = compare(w, rep, 1, &rep->expect)) < 0)
		return r;
	if ((r = nodes_root(store, rep, from_nodes)) == SD_ERR_INTERNAL)
		return problem(rep, "%s", sd_error_detail()); /* a node is missing */
	if (r < 0)
		return r;
	if (!sd_equal(from_nodes, rep->root, SD_MERKLE_HASH_BYTES))
		return problem(rep, "the stored tree nodes, from which proofs are built, disagree with the leaves");
	return 0;
}

int sd_audit_check(sd_store_t *store, const sd_pubkey_t *log, const uint8_t *expect_json, size_t expect_len,
                   sd_audit_report_t *rep)
{
	return sd_audit_check_keys(store, log, 1, expect_json, expect_len, rep);
}

int sd_audit_check_keys(sd_store_t *store, const sd_pubkey_t *keys, size_t n_keys, const uint8_t *expect_json,
                        size_t expect_len, sd_audit_report_t *rep)
{
	struct walk w;
	int r;

	memset(rep, 0, sizeof(*rep));
	memset(&w, 0, sizeof(w));
	sd_merkle_stream_init(&w.st);
	if (keys == NULL || n_keys == 0)
		return sd_error(SD_ERR_USAGE, "audit check: no log key");
	if ((r = load_heads(store, keys, n_keys, expect_json, expect_len, rep)) < 0)
		return r;
	w.want[0] = rep->has_head ? rep->head.size : UINT64_MAX;
	w.want[1] = rep->has_expect ? rep->expect.size : UINT64_MAX;
	walk_sample(&w); /* heads of size 0 */
	return check_all(store, &w, rep);
}

static json_t *head_json(bool has, const sd_loghead_t *h)
{
	char root[2 * SD_MERKLE_HASH_BYTES + 1], date[SD_DATE_TEXT_BYTES];

	if (!has)
		return json_null();
	sd_hex_encode(h->root, SD_MERKLE_HASH_BYTES, root);
	sd_date_format(h->date, date);
	return json_pack("{s:I, s:s, s:s}", "size", (json_int_t)h->size, "root", root, "date", date);
}

json_t *sd_audit_report_json(const sd_audit_report_t *rep)
{
	char root[2 * SD_MERKLE_HASH_BYTES + 1];

	sd_hex_encode(rep->root, SD_MERKLE_HASH_BYTES, root);
	return json_pack("{s:b, s:I, s:I, s:s, s:o, s:o, s:s}", "ok", rep->problem[0] == '\0', "leaves",
	                 (json_int_t)rep->leaves, "size", (json_int_t)rep->stored_size, "root", root, "head",
	                 head_json(rep->has_head, &rep->head), "expect", head_json(rep->has_expect, &rep->expect),
	                 "problem", rep->problem);
}
