/*
 * loghead.c — the audit log's documents as the server serves them and clients check them:
 * the signed tree head, inclusion and consistency proofs, and a page of entries
 * (include/sealdrop/loghead.h; docs/API.md and docs/FORMAT.md, "Audit log").
 *
 * Start at sd_loghead_parse(): the head is signed by the log key with purpose `head`
 * exactly as the receipt is signed with purpose `receipt` (crypto/receipt.c): JSON syntax
 * and the envelope first, then the signature over the compact, key-sorted "head", and
 * only then the field rules (check_head(), shared with sd_loghead_sign()). The proofs and
 * the entries are not signed: a proof is checked against a signed head by
 * sd_merkle_verify_*, an entry by its inclusion proof, so their parsers check only
 * syntax and limits, every failure naming the field.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <sodium.h>

#include "sealdrop/bytes.h"
#include "sealdrop/json.h"
#include "sealdrop/loghead.h"
#include "sealdrop/sealdrop.h"
#include "sealdrop/sign.h"

#define LH_SIZE_MAX  ((json_int_t)(SD_MERKLE_SIZE_MAX - 1))
#define LH_HASH_HEX  (2 * SD_MERKLE_HASH_BYTES + 1)
#define LH_LEAF_B64  (sodium_base64_ENCODED_LEN(SD_AUDIT_LEAF_MAX, sodium_base64_VARIANT_ORIGINAL) - 1)
#define LH_NAME_MAX  24 /* "entries[999].leaf" and the like */
#define WHAT         "log head"
#define WHAT_INCL    "inclusion proof"
#define WHAT_CONS    "consistency proof"
#define WHAT_ENTRIES "log entries"

static const char *const signature_fields[] = {"key_id", "sig", NULL};
static const char *const head_fields[] = {"version", "deployment", "size", "root", "date", NULL};

static const sd_json_signed_t head_signed = {
        .what = WHAT,
        .body = "head",
        .signature_fields = signature_fields,
        .max_bytes = SD_LOGHEAD_MAX_BYTES,
        .purpose = SD_PURPOSE_HEAD,
        .kind = SD_KEY_LOG,
        .signer = "log key",
        .key = "log",
};

/* --- the signed tree head ------------------------------------------------------------- */

static int check_head(const sd_loghead_t *h, int err)
{
	if (h->version != SD_LOGHEAD_VERSION)
		return sd_error(err == SD_ERR_FORMAT ? SD_ERR_VERSION : err,
		                "%s: version %u is not supported (this build reads version %d)", WHAT, h->version,
		                SD_LOGHEAD_VERSION);
	if (!sd_deployment_is_valid(h->deployment))
		return sd_error(
		        err, "%s: head.deployment must be 1 to %d of a-z, 0-9 and '-', not starting or ending with '-'",
		        WHAT, SD_DEPLOYMENT_MAX);
	if (h->size > (uint64_t)LH_SIZE_MAX)
		return sd_error(err, "%s: head.size must be between 0 and %lld", WHAT, (long long)LH_SIZE_MAX);
	if (!sd_date_is_valid(h->date.y, h->date.m, h->date.d))
		return sd_error(err, "%s: head.date must be a calendar date YYYY-MM-DD", WHAT);
	return 0;
}

static int parse_version(json_t *o, sd_loghead_t *h)
{
	int r = sd_json_member_version(o, WHAT, "head", SD_LOGHEAD_VERSION);

	if (r == 0)
		h->version = SD_LOGHEAD_VERSION;
	return r;
}

static int parse_head_fields(json_t *o, sd_loghead_t *h)
{
	json_int_t size;
	int r;

	if ((r = sd_json_only_fields(o, WHAT, "head", head_fields)) < 0 || (r = parse_version(o, h)) < 0 ||
	    (r = sd_json_member_text(o, WHAT, "head", "deployment", h->deployment, sizeof(h->deployment))) < 0 ||
	    (r = sd_json_member_int(o, WHAT, "head", "size", 0, LH_SIZE_MAX, &size)) < 0 ||
	    (r = sd_json_member_hex(o, WHAT, "head", "root", h->root, sizeof(h->root))) < 0 ||
	    (r = sd_json_member_date(o, WHAT, "head", "date", &h->date)) < 0)
		return r;
	h->size = (uint64_t)size;
	return check_head(h, SD_ERR_FORMAT);
}

static int head_body_fields(json_t *body, void *out)
{
	return parse_head_fields(body, out);
}

int sd_loghead_parse(const uint8_t *json, size_t len, const sd_pubkey_t *log, sd_loghead_t *out)
{
	uint8_t key_id[SD_KEY_ID_BYTES];
	sd_loghead_t h;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&h, 0, sizeof(h));
	if ((r = sd_json_signed_read_log(&head_signed, json, len, log, head_body_fields, &h, key_id)) < 0)
		return r;
	memcpy(h.log_key_id, key_id, SD_KEY_ID_BYTES);
	*out = h;
	return 0;
}

int sd_loghead_verify_with_directory(const uint8_t *json, size_t len, const sd_directory_t *d, sd_loghead_t *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	if (d == NULL)
		return sd_error(SD_ERR_USAGE, "%s: a verified directory is needed", WHAT);
	if (!d->has_log)
		return sd_error(SD_ERR_INVALID, "%s: the directory for deployment %s lists no log key", WHAT,
		                d->deployment);
	if ((r = sd_loghead_parse(json, len, &d->log, out)) < 0)
		return r;
	if (strcmp(out->deployment, d->deployment) != 0) {
		r = sd_error(SD_ERR_DEPLOYMENT, "%s: signed for deployment '%s', not '%s'", WHAT, out->deployment,
		             d->deployment);
		memset(out, 0, sizeof(*out));
		return r;
	}
	return 0;
}

bool sd_loghead_same(const sd_loghead_t *a, const sd_loghead_t *b)
{
	return strcmp(a->deployment, b->deployment) == 0 && a->size == b->size &&
	       sd_equal(a->root, b->root, SD_MERKLE_HASH_BYTES) && sd_date_cmp(a->date, b->date) == 0;
}

/* The "head" object, members in the documented order. */
static json_t *head_to_json(const sd_loghead_t *h)
{
	char date[SD_DATE_TEXT_BYTES], root[LH_HASH_HEX];
	json_t *o = json_object();
	int fail = o == NULL;

	sd_date_format(h->date, date);
	sd_hex_encode(h->root, sizeof(h->root), root);
	fail |= json_object_set_new(o, "version", json_integer(h->version));
	fail |= json_object_set_new(o, "deployment", json_string(h->deployment));
	fail |= json_object_set_new(o, "size", json_integer((json_int_t)h->size));
	fail |= json_object_set_new(o, "root", json_string(root));
	fail |= json_object_set_new(o, "date", json_string(date));
	if (fail) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int sd_loghead_sign(const sd_loghead_t *h, const sd_seckey_t *log, char **json_out)
{
	int r;

	*json_out = NULL;
	if (h == NULL || log == NULL || log->kind != SD_KEY_LOG || log->sk == NULL)
		return sd_error(SD_ERR_USAGE, "%s: signing needs the log secret key", WHAT);
	if ((r = check_head(h, SD_ERR_INVALID)) < 0)
		return r;
	return sd_json_signed_sign_body(&head_signed, log, head_to_json(h), json_out);
}

/* --- unsigned documents --------------------------------------------------------------- */

/* The size limit, the JSON syntax (duplicate members refused) and an object at the top. */
static int load_object(const char *what, size_t max, const uint8_t *json, size_t len, json_t **doc)
{
	json_error_t jerr;

	*doc = NULL;
	if (json == NULL && len > 0)
		return sd_error(SD_ERR_USAGE, "%s: no document", what);
	if (len > max)
		return sd_error(SD_ERR_TOOBIG, "%s: larger than %zu bytes", what, max);
	if ((*doc = json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return sd_error(SD_ERR_FORMAT, "%s: invalid JSON at line %d column %d: %s", what, jerr.line,
		                jerr.column, jerr.text);
	if (!json_is_object(*doc)) {
		json_decref(*doc);
		*doc = NULL;
		return sd_error(SD_ERR_FORMAT, "%s: the document must be a JSON object", what);
	}
	return 0;
}

/* Compact JSON text, newline-terminated, malloc'd. */
static int render(json_t *doc, char **out)
{
	char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	size_t n;

	if (text == NULL)
		return SD_ERR_NOMEM;
	n = strlen(text);
	if ((*out = malloc(n + 2)) != NULL) {
		memcpy(*out, text, n);
		memcpy(*out + n, "\n", 2);
	}
	free(text);
	return *out == NULL ? SD_ERR_NOMEM : 0;
}

/* --- proofs --------------------------------------------------------------------------- */

static int proof_to_json(const sd_logproof_t *p, const char *what, const char *const names[3], char **out)
{
	char hex[LH_HASH_HEX];
	json_t *doc = json_object(), *a = json_array();
	int fail = doc == NULL || a == NULL, r;

	*out = NULL;
	for (size_t i = 0; !fail && i < p->n; i++) {
		sd_hex_encode(p->hashes[i], SD_MERKLE_HASH_BYTES, hex);
		fail |= json_array_append_new(a, json_string(hex));
	}
	fail |= json_object_set_new(doc, names[0], json_integer((json_int_t)p->a));
	fail |= json_object_set_new(doc, names[1], json_integer((json_int_t)p->b));
	fail |= json_object_set_new(doc, names[2], a);
	r = fail ? sd_error(SD_ERR_NOMEM, "%s: out of memory", what) : render(doc, out);
	json_decref(doc);
	return r;
}

static int proof_write(const sd_logproof_t *p, const char *what, const char *const names[3], char **out)
{
	*out = NULL;
	if (p == NULL || p->n > SD_MERKLE_PROOF_MAX)
		return sd_error(SD_ERR_USAGE, "%s: at most %d hashes", what, SD_MERKLE_PROOF_MAX);
	if (p->a > (uint64_t)LH_SIZE_MAX || p->b > (uint64_t)LH_SIZE_MAX)
		return sd_error(SD_ERR_USAGE, "%s: %s and %s must be below %llu", what, names[0], names[1],
		                (unsigned long long)SD_MERKLE_SIZE_MAX);
	return proof_to_json(p, what, names, out);
}

static const char *const incl_names[] = {"index", "size", "path", NULL};
static const char *const cons_names[] = {"from", "to", "proof", NULL};

int sd_logproof_inclusion_json(const sd_logproof_t *p, char **out)
{
	return proof_write(p, WHAT_INCL, incl_names, out);
}

int sd_logproof_consistency_json(const sd_logproof_t *p, char **out)
{
	return proof_write(p, WHAT_CONS, cons_names, out);
}

/* The array member name: at most SD_MERKLE_PROOF_MAX hashes, each 64 lower-case hex digits. */
static int parse_hashes(json_t *doc, const char *what, const char *name, sd_logproof_t *p)
{
	char item[LH_NAME_MAX];
	json_t *a, *v;
	int r;

	if ((r = sd_json_member(doc, what, "", name, SD_JSON_ARRAY, true, &a)) < 0)
		return r;
	if (json_array_size(a) > SD_MERKLE_PROOF_MAX)
		return sd_error(SD_ERR_TOOBIG, "%s: %s has %zu hashes, more than %d", what, name, json_array_size(a),
		                SD_MERKLE_PROOF_MAX);
	for (p->n = 0; p->n < json_array_size(a); p->n++) {
		snprintf(item, sizeof(item), "%s[%zu]", name, p->n);
		v = json_array_get(a, p->n);
		if (!json_is_string(v))
			return sd_error(SD_ERR_FORMAT, "%s: %s must be a string", what, item);
		if ((r = sd_json_hex(v, what, "", item, p->hashes[p->n], SD_MERKLE_HASH_BYTES)) < 0)
			return r;
	}
	return 0;
}

static int proof_parse(const uint8_t *json, size_t len, const char *what, const char *const names[], sd_logproof_t *out)
{
	json_int_t a, b;
	json_t *doc = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = load_object(what, SD_LOGPROOF_MAX_BYTES, json, len, &doc)) < 0)
		return r;
	if ((r = sd_json_only_fields(doc, what, "", names)) < 0 ||
	    (r = sd_json_member_int(doc, what, "", names[0], 0, LH_SIZE_MAX, &a)) < 0 ||
	    (r = sd_json_member_int(doc, what, "", names[1], 0, LH_SIZE_MAX, &b)) < 0 ||
	    (r = parse_hashes(doc, what, names[2], out)) < 0) {
		memset(out, 0, sizeof(*out));
		goto out;
	}
	out->a = (uint64_t)a;
	out->b = (uint64_t)b;
out:
	json_decref(doc);
	return r;
}

int sd_logproof_inclusion_parse(const uint8_t *json, size_t len, sd_logproof_t *out)
{
	return proof_parse(json, len, WHAT_INCL, incl_names, out);
}

int sd_logproof_consistency_parse(const uint8_t *json, size_t len, sd_logproof_t *out)
{
	return proof_parse(json, len, WHAT_CONS, cons_names, out);
}

/* --- entries -------------------------------------------------------------------------- */

static const char *const entry_fields[] = {"index", "leaf", NULL};
static const char *const entries_fields[] = {"entries", NULL};

/* Standard padded base64 of at most SD_AUDIT_LEAF_MAX bytes, canonical, into leaf. */
static int decode_leaf(const json_t *v, const char *item, uint8_t leaf[SD_AUDIT_LEAF_MAX], size_t *len)
{
	const char *s = json_string_value(v);
	size_t n = json_string_length(v), pad = 0;

	if (n > LH_LEAF_B64)
		return sd_error(SD_ERR_TOOBIG, "%s: %s.leaf is longer than %d bytes", WHAT_ENTRIES, item,
		                SD_AUDIT_LEAF_MAX);
	if (n % 4 != 0 || strlen(s) != n)
		return sd_error(SD_ERR_FORMAT, "%s: %s.leaf must be padded standard base64", WHAT_ENTRIES, item);
	while (pad < 2 && pad < n && s[n - 1 - pad] == '=')
		pad++;
	*len = n / 4 * 3 - pad;
	if (*len > SD_AUDIT_LEAF_MAX)
		return sd_error(SD_ERR_TOOBIG, "%s: %s.leaf is longer than %d bytes", WHAT_ENTRIES, item,
		                SD_AUDIT_LEAF_MAX);
	if (sd_base64_decode_exact(s, leaf, *len) < 0)
		return sd_error(SD_ERR_FORMAT, "%s: %s.leaf must be padded standard base64", WHAT_ENTRIES, item);
	return 0;
}

/* entries[i], {"index", "leaf"}: the leaf must be the canonical bytes of a valid event. */
static int parse_entry(json_t *v, size_t i, sd_logentry_t *e)
{
	char item[LH_NAME_MAX], detail[256];
	uint8_t leaf[SD_AUDIT_LEAF_MAX];
	json_int_t index;
	json_t *s;
	int r;

	snprintf(item, sizeof(item), "entries[%zu]", i);
	if (!json_is_object(v))
		return sd_error(SD_ERR_FORMAT, "%s: %s must be an object", WHAT_ENTRIES, item);
	if ((r = sd_json_only_fields(v, WHAT_ENTRIES, item, entry_fields)) < 0 ||
	    (r = sd_json_member_int(v, WHAT_ENTRIES, item, "index", 0, LH_SIZE_MAX, &index)) < 0 ||
	    (r = sd_json_member(v, WHAT_ENTRIES, item, "leaf", SD_JSON_STRING, true, &s)) < 0 ||
	    (r = decode_leaf(s, item, leaf, &e->leaf_len)) < 0)
		return r;
	e->index = (uint64_t)index;
	if ((r = sd_audit_leaf_parse(leaf, e->leaf_len, &e->event)) < 0) {
		snprintf(detail, sizeof(detail), "%s", sd_error_detail());
		return sd_error(r, "%s: %s.leaf: %s", WHAT_ENTRIES, item, detail);
	}
	if ((e->leaf = malloc(e->leaf_len + 1)) == NULL)
		return SD_ERR_NOMEM;
	memcpy(e->leaf, leaf, e->leaf_len);
	e->leaf[e->leaf_len] = '\0';
	return 0;
}

static int parse_entries(json_t *a, sd_logentry_t *e, size_t *n)
{
	int r;

	for (*n = 0; *n < json_array_size(a); (*n)++) {
		if ((r = parse_entry(json_array_get(a, *n), *n, &e[*n])) < 0) {
			free(e[*n].leaf);
			return r;
		}
		if (*n > 0 && e[*n].index <= e[*n - 1].index) {
			free(e[*n].leaf);
			return sd_error(SD_ERR_FORMAT, "%s: entries[%zu].index must be above entries[%zu].index",
			                WHAT_ENTRIES, *n, *n - 1);
		}
	}
	return 0;
}

int sd_logentries_parse(const uint8_t *json, size_t len, sd_logentry_t **out, size_t *n)
{
	sd_logentry_t *e = NULL;
	size_t got = 0;
	json_t *doc = NULL, *a;
	int r;

	*out = NULL;
	*n = 0;
	if ((r = load_object(WHAT_ENTRIES, SD_LOGENTRIES_MAX_BYTES, json, len, &doc)) < 0)
		return r;
	if ((r = sd_json_only_fields(doc, WHAT_ENTRIES, "", entries_fields)) < 0 ||
	    (r = sd_json_member(doc, WHAT_ENTRIES, "", "entries", SD_JSON_ARRAY, true, &a)) < 0)
		goto out;
	if (json_array_size(a) > SD_LOGENTRIES_MAX) {
		r = sd_error(SD_ERR_TOOBIG, "%s: %zu entries, more than %d", WHAT_ENTRIES, json_array_size(a),
		             SD_LOGENTRIES_MAX);
		goto out;
	}
	if (json_array_size(a) > 0 && (e = calloc(json_array_size(a), sizeof(*e))) == NULL) {
		r = SD_ERR_NOMEM;
		goto out;
	}
	if ((r = parse_entries(a, e, &got)) < 0)
		goto out;
	*out = e;
	*n = got;
	e = NULL;
	got = 0;
out:
	sd_logentries_free(e, got);
	json_decref(doc);
	return r;
}

void sd_logentries_free(sd_logentry_t *e, size_t n)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(e[i].leaf);
	free(e);
}
