/*
 * sd-eventcheck.c — a TEST TOOL, never part of sealdropd: checks, read-only, that a
 * stopped server's store (DIR/store) holds no half-applied event, and optionally that
 * every operation a client was told succeeded is there (tests/soak/crash.sh). Start at
 * main().
 *
 *   sd-eventcheck STOREDIR [--acks FILE]
 *
 * Every case event has its audit leaf and every leaf its event (docs/STORE.md, "Filing:
 * who writes what"; docs/FORMAT.md, "Audit log"):
 *   - the log's leaves are 0 … log_size − 1, each a canonical leaf, and case_events
 *     indexes exactly the leaves that name a case;
 *   - each case record has one `filing` leaf with its header digest, one `transition`
 *     leaf per step in the same order (the detail starts with the step's action), one
 *     `notice` leaf per notice it counts, and a row in `notices` for each; each consent
 *     row one `consent-accepted` leaf (digest = the consent id), and a revoked one its
 *     `consent-revoked` leaf; its indexes agree (case_digests, case_summaries and
 *     case_by_state with the record's state, the upload committed to this case);
 *   - no leaf names a case, a filing or a consent the store does not have.
 * The acks file has the lines tests/bench/bench_server.c's `soak` mode writes, each an
 * operation the server acknowledged: F (a receipt: the case with that digest, its filing
 * leaf at that index), T (the case's step STEP is ACTION), C (the consent row, its leaf).
 *
 * Prints "eventcheck: …" figures; exit status 0, or 1 after listing (up to 20) problems.
 * The environment is opened MDB_RDONLY in one read transaction: a consistent snapshot.
 */
#include <errno.h>
#include <jansson.h>
#include <lmdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sealdrop/audit.h"
#include "sealdrop/bytes.h"
#include "sealdrop/sealdrop.h"
#include "sealdrop/store.h"
#include "sealdrop/workflow.h"

#define CASE_LEN       11 /* "YYYY-NNNNNN" */
#define PROBLEMS_SHOWN 20

typedef struct {
	MDB_txn *txn;
	MDB_dbi dbi[SD_STORE_DB_COUNT];
	json_t *by_case;                        /* case number → what the leaves say of it (case_of_leaves) */
	char (*leaf_case)[SD_AUDIT_CASE_BYTES]; /* each leaf's case, "" for none */
	uint64_t n_leaves, cap_leaves;
	unsigned long problems, cases, steps, notices, consents, receipts;
	unsigned long ack_f, ack_t, ack_c, lost;
} check_t;

static void problem(check_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(check_t *c, const char *fmt, ...)
{
	va_list ap;

	if (c->problems++ >= PROBLEMS_SHOWN)
		return;
	va_start(ap, fmt);
	fputs("eventcheck: problem: ", stdout);
	vprintf(fmt, ap);
	fputs("\n", stdout);
	va_end(ap);
}

static int get(const check_t *c, sd_store_db_t db, const void *k, size_t klen, MDB_val *v)
{
	MDB_val key = {klen, (void *)(uintptr_t)k};

	return mdb_get(c->txn, c->dbi[db], &key, v);
}

/* What the leaves say of case cn: {"filing": n, "digest", "transitions": [detail],
 * "notices": n, "accepted": {id: index}, "revoked": {id: index}}. */
static json_t *case_of_leaves(check_t *c, const char *cn)
{
	json_t *e = json_object_get(c->by_case, cn);

	if (e == NULL) {
		e = json_pack("{s:i, s:[], s:i, s:{}, s:{}}", "filing", 0, "transitions", "notices", 0, "accepted",
		              "revoked");
		if (e == NULL || json_object_set_new(c->by_case, cn, e) != 0) {
			fputs("eventcheck: out of memory\n", stderr);
			exit(1);
		}
	}
	return e;
}

static void count_in(json_t *e, const char *member)
{
	json_object_set_new(e, member, json_integer(json_integer_value(json_object_get(e, member)) + 1));
}

/* One leaf with a case: what it says goes into by_case; its case_events entry must be. */
static void leaf_of_case(check_t *c, uint64_t idx, const sd_audit_event_t *ev)
{
	json_t *e = case_of_leaves(c, ev->case_number);
	char hex[2 * SD_AUDIT_ID_BYTES + 1];
	uint8_t key[CASE_LEN + 8];
	MDB_val v;

	memcpy(key, ev->case_number, CASE_LEN);
	sd_store_be64(key + CASE_LEN, idx);
	if (get(c, SD_STORE_DB_CASE_EVENTS, key, sizeof(key), &v) != 0)
		problem(c, "leaf %llu of case %s is not in case_events", (unsigned long long)idx, ev->case_number);
	sd_hex_encode(ev->digest, SD_AUDIT_ID_BYTES, hex);
	if (ev->type == SD_AUDIT_FILING) {
		count_in(e, "filing");
		json_object_set_new(e, "digest", json_string(hex));
	} else if (ev->type == SD_AUDIT_TRANSITION) {
		json_array_append_new(json_object_get(e, "transitions"), json_string(ev->detail));
	} else if (ev->type == SD_AUDIT_NOTICE) {
		count_in(e, "notices");
	} else if (ev->type == SD_AUDIT_CONSENT_ACCEPTED || ev->type == SD_AUDIT_CONSENT_REVOKED) {
		json_object_set_new(json_object_get(e, ev->type == SD_AUDIT_CONSENT_ACCEPTED ? "accepted" : "revoked"),
		                    hex, json_integer((json_int_t)idx));
	}
}

/* Every leaf, in index order: contiguous from 0, canonical, log_size of them. */
static int scan_leaves(check_t *c)
{
	MDB_cursor *cur;
	MDB_val k, v;
	sd_audit_event_t ev;
	int rc;

	if ((rc = mdb_cursor_open(c->txn, c->dbi[SD_STORE_DB_LOG_LEAVES], &cur)) != 0)
		return rc;
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
		uint64_t idx = k.mv_size == 8 ? sd_load_be64(k.mv_data) : UINT64_MAX;
		if (idx != c->n_leaves) {
			problem(c, "log_leaves: leaf %llu where %llu was expected", (unsigned long long)idx,
			        (unsigned long long)c->n_leaves);
			break;
		}
		if (idx == c->cap_leaves) {
			c->cap_leaves = c->cap_leaves * 2 + 1024;
			if ((c->leaf_case = realloc(c->leaf_case, c->cap_leaves * sizeof(*c->leaf_case))) == NULL)
				return ENOMEM;
		}
		c->leaf_case[idx][0] = '\0';
		c->n_leaves++;
		if (sd_audit_leaf_parse(v.mv_data, v.mv_size, &ev) < 0) {
			problem(c, "leaf %llu does not parse: %s", (unsigned long long)idx, sd_error_detail());
			continue;
		}
		memcpy(c->leaf_case[idx], ev.case_number, SD_AUDIT_CASE_BYTES);
		if (ev.case_number[0] != '\0')
			leaf_of_case(c, idx, &ev);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* meta log_size, and every case_events entry pointing at a leaf of its case. */
static int check_log_index(check_t *c)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	if (get(c, SD_STORE_DB_META, "log_size", 8, &v) != 0 || v.mv_size != 8 ||
	    sd_load_le64(v.mv_data) != c->n_leaves)
		problem(c, "meta log_size is not the %llu leaves stored", (unsigned long long)c->n_leaves);
	if ((rc = mdb_cursor_open(c->txn, c->dbi[SD_STORE_DB_CASE_EVENTS], &cur)) != 0)
		return rc;
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
		uint64_t idx = k.mv_size == CASE_LEN + 8 ? sd_load_be64((uint8_t *)k.mv_data + CASE_LEN) : UINT64_MAX;
		if (idx >= c->n_leaves || strncmp(c->leaf_case[idx], k.mv_data, CASE_LEN) != 0 ||
		    c->leaf_case[idx][CASE_LEN] != '\0')
			problem(c, "case_events has %.11s at %llu, which is not a leaf of that case", (char *)k.mv_data,
			        (unsigned long long)idx);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Its steps against its transition leaves, in order. */
static void check_steps(check_t *c, const char *cn, json_t *rec, json_t *e)
{
	json_t *steps = json_object_get(rec, "steps"), *tr = json_object_get(e, "transitions");
	size_t n = json_array_size(steps);

	c->steps += n;
	if (json_array_size(tr) != n) {
		problem(c, "case %s has %zu steps and %zu transition leaves", cn, n, json_array_size(tr));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const char *action = json_string_value(json_object_get(json_array_get(steps, i), "action"));
		const char *detail = json_string_value(json_array_get(tr, i));
		size_t al = action != NULL ? strlen(action) : 0;
		if (action == NULL || strncmp(detail, action, al) != 0 || (detail[al] != '\0' && detail[al] != ':'))
			problem(c, "case %s: step %zu is %s, its leaf says %s", cn, i, action ? action : "?", detail);
	}
}

/* Its notices: the count, the rows in `notices`, the leaves. */
static void check_notices(check_t *c, const char *cn, json_t *rec, json_t *e)
{
	json_int_t n = json_integer_value(json_object_get(rec, "notices"));
	uint8_t key[CASE_LEN + 4];
	MDB_val v;

	c->notices += (unsigned long)n;
	if (json_integer_value(json_object_get(e, "notices")) != n)
		problem(c, "case %s counts %lld notices and has %lld notice leaves", cn, (long long)n,
		        (long long)json_integer_value(json_object_get(e, "notices")));
	memcpy(key, cn, CASE_LEN);
	for (json_int_t i = 0; i < n; i++) {
		key[CASE_LEN] = (uint8_t)(i >> 24);
		key[CASE_LEN + 1] = (uint8_t)(i >> 16);
		key[CASE_LEN + 2] = (uint8_t)(i >> 8);
		key[CASE_LEN + 3] = (uint8_t)i;
		if (get(c, SD_STORE_DB_NOTICES, key, sizeof(key), &v) != 0)
			problem(c, "case %s: notice %lld is missing", cn, (long long)i);
	}
}

/* Its consent rows against its consent-accepted and consent-revoked leaves; a row's key
 * is case ‖ consent id. The leaves' sets are emptied as rows match them. */
static int check_consents(check_t *c, const char *cn, json_t *e)
{
	json_t *acc = json_object_get(e, "accepted"), *rev = json_object_get(e, "revoked");
	char id[2 * SD_AUDIT_ID_BYTES + 1];
	MDB_cursor *cur;
	MDB_val k = {CASE_LEN, (void *)(uintptr_t)cn}, v;
	int rc, op = MDB_SET_RANGE;

	if ((rc = mdb_cursor_open(c->txn, c->dbi[SD_STORE_DB_CONSENTS], &cur)) != 0)
		return rc;
	while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0 && k.mv_size == CASE_LEN + SD_AUDIT_ID_BYTES &&
	       strncmp(k.mv_data, cn, CASE_LEN) == 0) {
		json_t *row = json_loadb(v.mv_data, v.mv_size, 0, NULL);
		op = MDB_NEXT;
		c->consents++;
		sd_hex_encode((uint8_t *)k.mv_data + CASE_LEN, SD_AUDIT_ID_BYTES, id);
		if (json_object_del(acc, id) != 0)
			problem(c, "case %s: consent %.16s… has no consent-accepted leaf", cn, id);
		if (json_object_get(row, "revoked") != NULL && json_object_del(rev, id) != 0)
			problem(c, "case %s: consent %.16s… is revoked without its consent-revoked leaf", cn, id);
		json_decref(row);
	}
	mdb_cursor_close(cur);
	if (json_object_size(acc) > 0)
		problem(c, "case %s: %zu consent-accepted leaves without their consent row", cn, json_object_size(acc));
	if (json_object_size(rev) > 0)
		problem(c, "case %s: %zu consent-revoked leaves without a revoked row", cn, json_object_size(rev));
	return rc == MDB_NOTFOUND || rc == 0 ? 0 : rc;
}

/* The state's number, 0 for none. */
static unsigned state_of(const char *name)
{
	for (unsigned s = 1; name != NULL && s <= SD_CASE_STATE_COUNT; s++)
		if (strcmp(sd_case_state_name((sd_case_state_t)s), name) == 0)
			return s;
	return 0;
}

/* The indexes written with the record: digest, summary and state, the upload. */
static void check_indexes(check_t *c, const char *cn, json_t *rec)
{
	const char *digest = json_string_value(json_object_get(rec, "digest"));
	const char *upload = json_string_value(json_object_get(rec, "upload"));
	unsigned st = state_of(json_string_value(json_object_get(rec, "state")));
	uint8_t bin[SD_AUDIT_ID_BYTES], key[1 + CASE_LEN];
	json_t *up = NULL;
	MDB_val v;

	if (digest == NULL || sd_hex_decode(digest, bin, sizeof(bin)) < 0 ||
	    get(c, SD_STORE_DB_CASE_DIGESTS, bin, sizeof(bin), &v) != 0 || v.mv_size != CASE_LEN ||
	    strncmp(v.mv_data, cn, CASE_LEN) != 0)
		problem(c, "case %s: case_digests does not lead to it", cn);
	if (get(c, SD_STORE_DB_CASE_SUMMARIES, cn, CASE_LEN, &v) != 0 || v.mv_size < 2 ||
	    ((uint8_t *)v.mv_data)[1] != st)
		problem(c, "case %s: its summary is missing or not in its state", cn);
	key[0] = (uint8_t)st;
	memcpy(key + 1, cn, CASE_LEN);
	if (st == 0 || get(c, SD_STORE_DB_CASE_BY_STATE, key, sizeof(key), &v) != 0)
		problem(c, "case %s: case_by_state has no entry for its state", cn);
	if (upload == NULL || strlen(upload) > 2 * sizeof(bin) || sd_hex_decode(upload, bin, strlen(upload) / 2) < 0 ||
	    get(c, SD_STORE_DB_UPLOADS, bin, strlen(upload) / 2, &v) != 0 ||
	    (up = json_loadb(v.mv_data, v.mv_size, 0, NULL)) == NULL ||
	    strcmp(json_string_value(json_object_get(up, "state")) ?: "", "committed") != 0 ||
	    strcmp(json_string_value(json_object_get(up, "case")) ?: "", cn) != 0)
		problem(c, "case %s: its upload is not recorded as committed to it", cn);
	json_decref(up);
	if (get(c, SD_STORE_DB_RECEIPTS, cn, CASE_LEN, &v) == 0)
		c->receipts++;
}

/* One case record against its leaves; marks the leaves' entry as seen. */
static int check_case(check_t *c, const char *cn, const MDB_val *v)
{
	json_t *rec = json_loadb(v->mv_data, v->mv_size, 0, NULL), *e = json_object_get(c->by_case, cn);
	const char *digest = json_string_value(json_object_get(rec, "digest"));
	int rc = 0;

	c->cases++;
	if (rec == NULL || e == NULL) {
		problem(c, "case %s: %s", cn, rec == NULL ? "its record does not parse" : "no leaf names it");
		json_decref(rec);
		return 0;
	}
	if (json_integer_value(json_object_get(e, "filing")) != 1 ||
	    strcmp(json_string_value(json_object_get(e, "digest")) ?: "", digest ?: "-") != 0)
		problem(c, "case %s: not exactly one filing leaf with its header digest", cn);
	check_steps(c, cn, rec, e);
	check_notices(c, cn, rec, e);
	check_indexes(c, cn, rec);
	rc = check_consents(c, cn, e);
	json_object_set_new(e, "seen", json_true());
	json_decref(rec);
	return rc;
}

static int scan_cases(check_t *c)
{
	char cn[CASE_LEN + 1];
	MDB_cursor *cur;
	MDB_val k, v;
	const char *key;
	json_t *e;
	int rc;

	if ((rc = mdb_cursor_open(c->txn, c->dbi[SD_STORE_DB_CASES], &cur)) != 0)
		return rc;
	while (rc == 0 && (rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
		if (k.mv_size != CASE_LEN) {
			problem(c, "cases: a key of %zu bytes", k.mv_size);
			continue;
		}
		memcpy(cn, k.mv_data, CASE_LEN);
		cn[CASE_LEN] = '\0';
		rc = check_case(c, cn, &v);
	}
	mdb_cursor_close(cur);
	json_object_foreach(c->by_case, key, e) if (json_object_get(e, "seen") == NULL)
	        problem(c, "leaves name case %s, which the store does not have", key);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The case record of cn, parsed, or NULL. */
static json_t *record(check_t *c, const char *cn)
{
	MDB_val v;

	if (strlen(cn) != CASE_LEN || get(c, SD_STORE_DB_CASES, cn, CASE_LEN, &v) != 0)
		return NULL;
	return json_loadb(v.mv_data, v.mv_size, 0, NULL);
}

static bool leaf_is_of(const check_t *c, unsigned long long idx, const char *cn)
{
	return idx < c->n_leaves && strcmp(c->leaf_case[idx], cn) == 0;
}

/* One acknowledged operation: is it in the store? */
static void check_ack(check_t *c, const char *line)
{
	char kind, cn[16], a[80], b[160];
	unsigned long long n;
	json_t *rec;
	bool ok = false;

	if (sscanf(line, "%c %*u %15s %79s %llu %159s", &kind, cn, a, &n, b) == 5 && kind == 'F') {
		c->ack_f++;
		rec = record(c, cn);
		ok = rec != NULL && strcmp(json_string_value(json_object_get(rec, "digest")) ?: "", a) == 0 &&
		     leaf_is_of(c, n, cn);
	} else if (sscanf(line, "%c %15s %llu %79s", &kind, cn, &n, a) == 4 && kind == 'T') {
		c->ack_t++;
		rec = record(c, cn);
		ok = rec != NULL && strcmp(json_string_value(json_object_get(
		                                   json_array_get(json_object_get(rec, "steps"), (size_t)n), "action"))
		                                   ?: "",
		                           a) == 0;
	} else if (sscanf(line, "%c %15s %79s %llu", &kind, cn, a, &n) == 4 && kind == 'C') {
		uint8_t key[CASE_LEN + SD_AUDIT_ID_BYTES];
		MDB_val v;
		c->ack_c++;
		rec = NULL;
		ok = strlen(cn) == CASE_LEN && strlen(a) == 2 * SD_AUDIT_ID_BYTES &&
		     sd_hex_decode(a, key + CASE_LEN, SD_AUDIT_ID_BYTES) == 0 &&
		     (memcpy(key, cn, CASE_LEN), get(c, SD_STORE_DB_CONSENTS, key, sizeof(key), &v) == 0) &&
		     leaf_is_of(c, n, cn);
	} else {
		problem(c, "acks: a line that is none of F, T, C: %.60s", line);
		return;
	}
	json_decref(rec);
	if (!ok) {
		c->lost++;
		problem(c, "acknowledged but not (all) in the store: %.200s", line);
	}
}

static int check_acks(check_t *c, const char *path)
{
	char line[512];
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		fprintf(stderr, "eventcheck: %s: cannot open it\n", path);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL)
		check_ack(c, line);
	fclose(f);
	return 0;
}

static int open_store(const char *dir, MDB_env **env, check_t *c)
{
	int rc;

	if ((rc = mdb_env_create(env)) != 0 || (rc = mdb_env_set_maxdbs(*env, SD_STORE_DB_COUNT)) != 0 ||
	    (rc = mdb_env_set_mapsize(*env, SD_STORE_MAPSIZE_DEFAULT)) != 0 ||
	    (rc = mdb_env_open(*env, dir, MDB_RDONLY | MDB_NOTLS, 0600)) != 0 ||
	    (rc = mdb_txn_begin(*env, NULL, MDB_RDONLY, &c->txn)) != 0)
		return rc;
	for (int db = 0; db < SD_STORE_DB_COUNT; db++)
		if ((rc = mdb_dbi_open(c->txn, sd_store_db_name((sd_store_db_t)db), 0, &c->dbi[db])) != 0)
			return rc;
	return 0;
}

int main(int argc, char **argv)
{
	check_t c = {0};
	MDB_env *env = NULL;
	int rc;

	if (argc != 2 && !(argc == 4 && strcmp(argv[2], "--acks") == 0)) {
		fputs("usage: sd-eventcheck STOREDIR [--acks FILE]\n", stderr);
		return 1;
	}
	if (sd_init() != 0 || (c.by_case = json_object()) == NULL)
		return 1;
	if ((rc = open_store(argv[1], &env, &c)) != 0 || (rc = scan_leaves(&c)) != 0 ||
	    (rc = check_log_index(&c)) != 0 || (rc = scan_cases(&c)) != 0) {
		fprintf(stderr, "eventcheck: %s: %s\n", argv[1], mdb_strerror(rc));
		return 1;
	}
	if (argc == 4 && check_acks(&c, argv[3]) < 0)
		return 1;
	printf("eventcheck: cases=%lu leaves=%llu steps=%lu notices=%lu consents=%lu stored_receipts=%lu "
	       "problems=%lu\n",
	       c.cases, (unsigned long long)c.n_leaves, c.steps, c.notices, c.consents, c.receipts, c.problems);
	if (argc == 4)
		printf("eventcheck: acks filings=%lu transitions=%lu consents=%lu lost=%lu\n", c.ack_f, c.ack_t,
		       c.ack_c, c.lost);
	mdb_txn_abort(c.txn);
	mdb_env_close(env);
	json_decref(c.by_case);
	free(c.leaf_case);
	return c.problems == 0 ? 0 : 1;
}
