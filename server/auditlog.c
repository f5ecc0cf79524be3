/*
 * auditlog.c — the server's audit log (include/sealdrop/auditlog.h): recording events on
 * store requests, reading the tree's stored nodes back, and publishing signed tree heads
 * on the schedule.
 *
 * Start at sd_auditlog_start(). Publication (publish_*) is three store hops on the loop:
 * the log's size; the complete subtrees whose fold is the root at that size; then the
 * signed head, written to meta (the latest) and to log_heads (every head ever
 * published, by size and date). A head is signed only when the tree grew or the date
 * changed since the last, and never for a tree smaller than one already signed.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sealdrop/auditlog.h"
#include "sealdrop/bytes.h"
#include "sealdrop/log.h"
#include "sealdrop/sealdrop.h"
#include "server_int.h"

#define TICK_SECONDS_MAX 60 /* how late after its slot a scheduled head may come */

struct publish_waiter {
	void (*done)(void *ctx, int status);
	void *ctx;
	struct publish_waiter *next;
};

struct sd_auditlog {
	sd_server_t *s;
	bool has_head;
	sd_loghead_t head;
	char *head_json;
	size_t head_len;
	uint64_t slot;        /* the schedule's slot of the last tick: time / head_interval */
	bool busy;            /* a publication is under way */
	bool again;           /* ... and another was asked for after it read the size */
	bool force;           /* sign even an unchanged tree (none yet) */
	uint64_t size;        /* of the publication under way */
	sd_loghead_t pending; /* signed, being stored: served once durable */
	char *pending_json;
	struct publish_waiter *waiting, *running;
};

/* --- Recording events ---------------------------------------------------------------- */

#ifdef SD_BENCH_NO_AUDIT_LOG
int sd_audit_add(sd_store_req_t *req, const sd_audit_event_t *ev)
{
	(void)req;
	(void)ev;
	return SD_AUDIT_NO_OP; /* the benchmark's baseline build (auditlog.h) */
}
#else
int sd_audit_add(sd_store_req_t *req, const sd_audit_event_t *ev)
{
	uint8_t *leaf = NULL;
	size_t len = 0;
	int r;

	if ((r = sd_audit_leaf_encode(ev, &leaf, &len)) < 0) {
		/* Poison the request: an event that cannot be logged must not happen. */
		sd_log(SD_LOG_ERROR, "an audit event cannot be encoded: %s", sd_error_detail());
		(void)sd_store_req_log_append(req, NULL, 0, NULL, 0);
		return r;
	}
	r = sd_store_req_log_append(req, leaf, len,
	                            ev->case_number[0] != '\0' ? (const uint8_t *)ev->case_number : NULL,
	                            strlen(ev->case_number));
	free(leaf);
	return r;
}
#endif

void sd_audit_event_init(sd_audit_event_t *ev, sd_audit_type_t type, sd_date_t today, const sd_principal_t *p)
{
	*ev = (sd_audit_event_t){.type = type, .date = today};
	if (p == NULL) {
		snprintf(ev->role, sizeof(ev->role), "%s", "operator");
		return;
	}
	snprintf(ev->role, sizeof(ev->role), "%s", sd_role_name(p->role));
	ev->has_actor = true;
	memcpy(ev->actor, p->fingerprint, sizeof(ev->actor));
}

/* --- Reading the tree ------------------------------------------------------------------ */

int sd_auditlog_req_ranges(sd_store_req_t *req, const sd_merkle_range_t *ranges, size_t n)
{
	sd_merkle_node_t nodes[SD_MERKLE_RANGE_MAX];
	uint8_t key[SD_STORE_LOG_NODE_KEY];
	int added = 0, r;

	for (size_t i = 0; i < n; i++) {
		size_t k = sd_merkle_range_nodes(ranges[i].begin, ranges[i].end, nodes);
		if (k == 0)
			return sd_error(SD_ERR_USAGE, "an empty range of the audit log");
		for (size_t j = 0; j < k; j++) {
			sd_store_log_node_key(key, nodes[j].level, nodes[j].index);
			if ((r = sd_store_req_get(req, SD_STORE_DB_LOG_NODES, key, sizeof(key))) < 0)
				return r;
			added++;
		}
	}
	return added;
}

int sd_auditlog_fold_ranges(const sd_store_req_t *req, size_t first, const sd_merkle_range_t *ranges, size_t n,
                            uint8_t (*hashes)[SD_MERKLE_HASH_BYTES])
{
	sd_merkle_node_t nodes[SD_MERKLE_RANGE_MAX];
	uint8_t found[SD_MERKLE_RANGE_MAX][SD_MERKLE_HASH_BYTES];
	size_t op = first;

	for (size_t i = 0; i < n; i++) {
		size_t k = sd_merkle_range_nodes(ranges[i].begin, ranges[i].end, nodes);
		for (size_t j = 0; j < k; j++, op++) {
			const uint8_t *v;
			size_t len;
			if (sd_store_req_value(req, op, &v, &len) < 0 || len != SD_MERKLE_HASH_BYTES)
				return sd_error(SD_ERR_INTERNAL,
				                "the audit log is damaged: its node (%u, %llu) is missing",
				                (unsigned)nodes[j].level, (unsigned long long)nodes[j].index);
			memcpy(found[j], v, SD_MERKLE_HASH_BYTES);
		}
		sd_merkle_fold((const uint8_t(*)[SD_MERKLE_HASH_BYTES])found, k, hashes[i]);
	}
	return 0;
}

int sd_auditlog_read_state(sd_store_t *store, uint64_t *size, char **head_json)
{
	sd_store_req_t *req = sd_store_req_new();
	const uint8_t *v;
	size_t len;
	int r;

	*size = 0;
	*head_json = NULL;
	if (req == NULL)
		return SD_ERR_NOMEM;
	sd_store_req_get(req, SD_STORE_DB_META, (const uint8_t *)SD_STORE_LOG_SIZE_KEY, strlen(SD_STORE_LOG_SIZE_KEY));
	sd_store_req_get(req, SD_STORE_DB_META, (const uint8_t *)SD_AUDITLOG_HEAD_KEY, strlen(SD_AUDITLOG_HEAD_KEY));
	if ((r = sd_store_call(store, req)) < 0)
		goto out;
	if (sd_store_req_value(req, 0, &v, &len) == 0) {
		if (len != 8) {
			r = sd_error(SD_ERR_INTERNAL, "the audit log is damaged: its size is %zu bytes, not 8", len);
			goto out;
		}
		*size = sd_load_le64(v);
	}
	if (sd_store_req_value(req, 1, &v, &len) == 0 && (*head_json = strndup((const char *)v, len)) == NULL)
		r = SD_ERR_NOMEM;
out:
	sd_store_req_free(req);
	return r;
}

/* --- Publishing -------------------------------------------------------------------------- */

static void publish_start(sd_auditlog_t *l);

/* Ends the publication under way: its waiters get status, and a publication asked for
 * meanwhile starts. */
static void publish_end(sd_auditlog_t *l, int status)
{
	struct publish_waiter *w = l->running;

	l->running = NULL;
	l->busy = false;
	while (w != NULL) {
		struct publish_waiter *next = w->next;
		w->done(w->ctx, status);
		free(w);
		w = next;
	}
	if (l->again) {
		l->again = false;
		publish_start(l);
	}
}

static void publish_failed(sd_auditlog_t *l, int status, const char *what)
{
	sd_log(SD_LOG_ERROR, "cannot publish the audit log's head: %s", what);
	publish_end(l, status < 0 ? status : SD_ERR_INTERNAL);
}

static void publish_stored(sd_store_req_t *req, void *ctx)
{
	sd_auditlog_t *l = ctx;
	int st = sd_store_req_status(req);

	sd_store_req_free(req);
	if (st < 0) {
		free(l->pending_json);
		l->pending_json = NULL;
		publish_failed(l, st, "the store could not record it");
		return;
	}
	free(l->head_json);
	l->head = l->pending;
	l->head_json = l->pending_json;
	l->head_len = strlen(l->head_json);
	l->has_head = true;
	l->pending_json = NULL;
	sd_log(SD_LOG_INFO, "published the audit log's head at size %llu", (unsigned long long)l->head.size);
	publish_end(l, 0);
}

/* Signs the head of size l->size with root, and stores it. */
static void publish_sign(sd_auditlog_t *l, const uint8_t root[SD_MERKLE_HASH_BYTES])
{
	const sd_directory_t *d = sd_server_directory(l->s);
	sd_loghead_t h = {.version = SD_LOGHEAD_VERSION, .size = l->size, .date = sd_server_today(l->s)};
	sd_store_req_t *req;
	uint8_t key[8 + 4];
	char *json = NULL;
	int r;

	snprintf(h.deployment, sizeof(h.deployment), "%s", d != NULL ? d->deployment : "");
	memcpy(h.root, root, SD_MERKLE_HASH_BYTES);
	if ((r = sd_server_sign_head(l->s, &h, &json)) < 0) {
		publish_failed(l, r, sd_error_detail());
		return;
	}
	sd_store_be64(key, h.size);
	sd_store_le32(key + 8, sd_date_to_u32(h.date));
	if ((req = sd_store_req_new()) == NULL) {
		free(json);
		publish_failed(l, SD_ERR_NOMEM, "out of memory");
		return;
	}
	sd_store_req_put(req, SD_STORE_DB_META, (const uint8_t *)SD_AUDITLOG_HEAD_KEY, strlen(SD_AUDITLOG_HEAD_KEY),
	                 (const uint8_t *)json, strlen(json), 0);
	sd_store_req_put(req, SD_STORE_DB_LOG_HEADS, key, sizeof(key), (const uint8_t *)json, strlen(json), 0);
	l->pending = h;
	l->pending_json = json;
	if ((r = sd_server_store_submit(l->s, req, publish_stored, l)) < 0) {
		sd_store_req_free(req);
		free(json);
		l->pending_json = NULL;
		publish_failed(l, r, sd_error_detail());
	}
}

static void publish_rooted(sd_store_req_t *req, void *ctx)
{
	sd_auditlog_t *l = ctx;
	sd_merkle_range_t all = {0, l->size};
	uint8_t root[1][SD_MERKLE_HASH_BYTES];
	int st = sd_store_req_status(req);

	if (st == 0)
		st = sd_auditlog_fold_ranges(req, 0, &all, 1, root);
	sd_store_req_free(req);
	if (st < 0) {
		publish_failed(l, st, sd_error_detail());
		return;
	}
	publish_sign(l, root[0]);
}

static bool head_is_current(const sd_auditlog_t *l, uint64_t size)
{
	return l->has_head && l->head.size == size && sd_date_cmp(l->head.date, sd_server_today(l->s)) == 0;
}

static void publish_sized(sd_store_req_t *req, void *ctx)
{
	sd_auditlog_t *l = ctx;
	sd_merkle_range_t all;
	const uint8_t *v;
	size_t len;
	int st = sd_store_req_status(req), r;

	l->size = 0;
	if (st == 0 && sd_store_req_value(req, 0, &v, &len) == 0)
		l->size = len == 8 ? sd_load_le64(v) : UINT64_MAX;
	sd_store_req_free(req);
	if (st < 0 || l->size >= SD_MERKLE_SIZE_MAX) {
		publish_failed(l, st < 0 ? st : SD_ERR_INTERNAL, "the log's size cannot be read");
		return;
	}
	if (l->has_head && l->size < l->head.size) {
		sd_log(SD_LOG_ERROR, "the audit log has %llu leaves, fewer than the %llu of a head already signed",
		       (unsigned long long)l->size, (unsigned long long)l->head.size);
		publish_end(l, SD_ERR_VERIFY);
		return;
	}
	if (head_is_current(l, l->size) && !l->force) {
		publish_end(l, 0);
		return;
	}
	l->force = false;
	if (l->size == 0) {
		uint8_t root[SD_MERKLE_HASH_BYTES];
		sd_merkle_empty_root(root);
		publish_sign(l, root);
		return;
	}
	all = (sd_merkle_range_t){0, l->size};
	if ((req = sd_store_req_new()) == NULL || (r = sd_auditlog_req_ranges(req, &all, 1)) < 0 ||
	    (r = sd_server_store_submit(l->s, req, publish_rooted, l)) < 0) {
		sd_store_req_free(req);
		publish_failed(l, req == NULL ? SD_ERR_NOMEM : r, sd_error_detail());
	}
}

static void publish_start(sd_auditlog_t *l)
{
	sd_store_req_t *req = sd_store_req_new();
	int r = SD_ERR_NOMEM;

	l->busy = true;
	l->running = l->waiting;
	l->waiting = NULL;
	if (req != NULL)
		sd_store_req_get(req, SD_STORE_DB_META, (const uint8_t *)SD_STORE_LOG_SIZE_KEY,
		                 strlen(SD_STORE_LOG_SIZE_KEY));
	if (req == NULL || (r = sd_server_store_submit(l->s, req, publish_sized, l)) < 0) {
		sd_store_req_free(req);
		publish_failed(l, r, "the store is not available");
	}
}

int sd_auditlog_publish(sd_auditlog_t *l, void (*done)(void *ctx, int status), void *ctx)
{
	struct publish_waiter *w;

	if (done != NULL) {
		if ((w = calloc(1, sizeof(*w))) == NULL)
			return SD_ERR_NOMEM;
		*w = (struct publish_waiter){.done = done, .ctx = ctx, .next = l->waiting};
		l->waiting = w;
	}
	if (l->busy)
		l->again = true;
	else
		publish_start(l);
	return 0;
}

/* Runs every few seconds; publishes when the wall clock entered a new slot. */
static void schedule_tick(void *ctx)
{
	sd_auditlog_t *l = ctx;
	uint64_t slot = (uint64_t)time(NULL) / sd_server_config(l->s)->head_interval;

	if (slot == l->slot)
		return;
	l->slot = slot;
	if (sd_auditlog_publish(l, NULL, NULL) < 0)
		sd_log(SD_LOG_ERROR, "cannot schedule the audit log's head: out of memory");
}

/* --- Starting -------------------------------------------------------------------------------- */

static int load_head(sd_auditlog_t *l, uint64_t size, char *json)
{
	const sd_pubkey_t *pub = sd_server_log_pub(l->s);
	int r;

	if ((r = sd_loghead_parse((const uint8_t *)json, strlen(json), pub, &l->head)) < 0) {
		free(json);
		return sd_error(r, "the audit log's last head does not verify with the log key: %s", sd_error_detail());
	}
	l->head_json = json;
	l->head_len = strlen(json);
	l->has_head = true;
	if (size < l->head.size)
		return sd_error(SD_ERR_VERIFY,
		                "the store is older than the audit log's last signed head: it holds %llu leaves, the "
		                "head covers %llu (restored from a backup, or damaged); run 'sealdropd audit check'",
		                (unsigned long long)size, (unsigned long long)l->head.size);
	return 0;
}

int sd_auditlog_start(sd_server_t *s, sd_auditlog_t **out)
{
	sd_auditlog_t *l = calloc(1, sizeof(*l));
	unsigned interval = sd_server_config(s)->head_interval;
	uint64_t size;
	char *json = NULL;
	int r;

	*out = l;
	if (l == NULL)
		return SD_ERR_NOMEM;
	l->s = s;
	l->slot = (uint64_t)time(NULL) / interval;
	if ((r = sd_auditlog_read_state(sd_server_store(s), &size, &json)) < 0)
		return sd_error(r, "cannot read the audit log: %s", sd_error_detail());
	if (json != NULL && (r = load_head(l, size, json)) < 0)
		return r;
	if (!l->has_head) {
		l->force = true; /* a new deployment: its first head, so clients have one to start from */
		if ((r = sd_auditlog_publish(l, NULL, NULL)) < 0)
			return r;
	}
	return sd_server_every(s, interval < TICK_SECONDS_MAX ? 1 : TICK_SECONDS_MAX, schedule_tick, l);
}

void sd_auditlog_free_(sd_auditlog_t *l)
{
	struct publish_waiter *lists[2];

	if (l == NULL)
		return;
	lists[0] = l->waiting;
	lists[1] = l->running;
	for (size_t i = 0; i < 2; i++) {
		while (lists[i] != NULL) {
			struct publish_waiter *next = lists[i]->next;
			lists[i]->done(lists[i]->ctx, SD_ERR_REFUSED);
			free(lists[i]);
			lists[i] = next;
		}
	}
	free(l->head_json);
	free(l->pending_json);
	free(l);
}

const sd_loghead_t *sd_auditlog_head(const sd_auditlog_t *l)
{
	return l != NULL && l->has_head && l->head_json != NULL ? &l->head : NULL;
}

const char *sd_auditlog_head_json(const sd_auditlog_t *l, size_t *len)
{
	if (sd_auditlog_head(l) == NULL)
		return NULL;
	*len = l->head_len;
	return l->head_json;
}
