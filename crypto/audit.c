/*
 * audit.c — one audit log event and its leaf, the exact bytes the Merkle tree hashes
 * (include/sealdrop/audit.h; docs/FORMAT.md, "Audit log").
 *
 * Start at sd_audit_leaf_encode(): check_event() holds every rule an event obeys, and
 * event_to_json() builds the object that jansson writes compact with its members sorted
 * by name. Every value is ASCII from a small alphabet (names, digits, hex, '-', '.', ':'),
 * so no string is ever escaped and the bytes are fixed by the event alone.
 * sd_audit_leaf_parse() reads strictly with crypto/json.c's helpers, applies the same
 * rules, then encodes the event again and accepts only when the bytes are identical: one
 * event has exactly one leaf, and so one leaf hash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "sealdrop/audit.h"
#include "sealdrop/bytes.h"
#include "sealdrop/json.h"
#include "sealdrop/receipt.h"
#include "sealdrop/sealdrop.h"

#define AU_NUMBER_MAX (((json_int_t)1 << 53) - 1) /* exact in every JSON implementation */
#define AU_HEX_BYTES  (2 * SD_AUDIT_ID_BYTES + 1)
#define WHAT          "audit leaf" /* the first word of a message */

_Static_assert(SD_AUDIT_CASE_BYTES == SD_CASE_NUMBER_BYTES, "a leaf's case number is a receipt's");

static const char *const leaf_fields[] = {"v",       "event",        "date",   "case",   "role",   "actor",
                                          "subject", "subject_role", "digest", "number", "detail", NULL};
static const char *const roles[] = {"attorney", "officer", "custodian", "operator", "whistleblower", "server", NULL};

#define AU_NAME_(name, text) text,
static const char *const type_names[SD_AUDIT_EVENT_COUNT] = {NULL, SD_AUDIT_EVENTS(AU_NAME_)};
#undef AU_NAME_

#define ROLE_RULE   "one of attorney, officer, custodian, operator, whistleblower and server"
#define DETAIL_RULE "1 to 127 of a-z, 0-9, '.', ':' and '-', starting with a letter or digit"
#define CASE_RULE   "YYYY-NNNNNN (a year 2000-9999 and six digits, not all zero)"

const char *sd_audit_type_name(sd_audit_type_t t)
{
	return t > SD_AUDIT_NONE && t < SD_AUDIT_EVENT_COUNT ? type_names[t] : NULL;
}

bool sd_audit_type_from_name(const char *name, sd_audit_type_t *out)
{
	for (int t = SD_AUDIT_NONE + 1; name != NULL && t < SD_AUDIT_EVENT_COUNT; t++) {
		if (strcmp(type_names[t], name) == 0) {
			*out = (sd_audit_type_t)t;
			return true;
		}
	}
	return false;
}

/* --- the rules ------------------------------------------------------------------------ */

/* s (within cap bytes) is a NUL-terminated string in the role vocabulary. */
static bool role_is_valid(const char *s, size_t cap)
{
	if (strnlen(s, cap) >= cap)
		return false;
	for (size_t i = 0; roles[i] != NULL; i++)
		if (strcmp(roles[i], s) == 0)
			return true;
	return false;
}

/* [a-z0-9][a-z0-9.:-]{0,126}: a word from a fixed vocabulary, never free text. */
static bool detail_is_valid(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	if (n == 0 || n >= cap || n > SD_AUDIT_DETAIL_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '.' && c != ':' && c != '-')))
			return false;
	}
	return true;
}

static bool case_is_valid(const char *s, size_t cap)
{
	return strnlen(s, cap) < cap && sd_case_number_is_valid(s);
}

/* Every rule of an event; err is SD_ERR_USAGE for a caller's event, SD_ERR_FORMAT for a leaf. */
static int check_event(const sd_audit_event_t *ev, int err)
{
	if (sd_audit_type_name(ev->type) == NULL)
		return sd_error(err, "%s: event type %d is not an event", WHAT, (int)ev->type);
	if (!sd_date_is_valid(ev->date.y, ev->date.m, ev->date.d))
		return sd_error(err, "%s: date must be a calendar date YYYY-MM-DD", WHAT);
	if (ev->case_number[0] != '\0' && !case_is_valid(ev->case_number, sizeof(ev->case_number)))
		return sd_error(err, "%s: case must be %s", WHAT, CASE_RULE);
	if (ev->role[0] != '\0' && !role_is_valid(ev->role, sizeof(ev->role)))
		return sd_error(err, "%s: role must be %s", WHAT, ROLE_RULE);
	if (ev->subject_role[0] != '\0' && !role_is_valid(ev->subject_role, sizeof(ev->subject_role)))
		return sd_error(err, "%s: subject_role must be %s", WHAT, ROLE_RULE);
	if (ev->detail[0] != '\0' && !detail_is_valid(ev->detail, sizeof(ev->detail)))
		return sd_error(err, "%s: detail must be %s", WHAT, DETAIL_RULE);
	if (ev->has_number && ev->number > (uint64_t)AU_NUMBER_MAX)
		return sd_error(err, "%s: number must be between 0 and %lld", WHAT, (long long)AU_NUMBER_MAX);
	return 0;
}

/* --- writing -------------------------------------------------------------------------- */

static int set_hex(json_t *o, const char *name, bool has, const uint8_t id[SD_AUDIT_ID_BYTES])
{
	char hex[AU_HEX_BYTES];

	if (!has)
		return 0;
	sd_hex_encode(id, SD_AUDIT_ID_BYTES, hex);
	return json_object_set_new(o, name, json_string(hex));
}

static int set_text(json_t *o, const char *name, const char *s)
{
	return s[0] == '\0' ? 0 : json_object_set_new(o, name, json_string(s));
}

/* The event's members, of an event check_event() accepted. json_object_set_new consumes
 * its value even when it fails, so one flag collects every failure. */
static json_t *event_to_json(const sd_audit_event_t *ev)
{
	char date[SD_DATE_TEXT_BYTES];
	json_t *o = json_object();
	int fail = o == NULL;

	sd_date_format(ev->date, date);
	fail |= json_object_set_new(o, "v", json_integer(SD_AUDIT_LEAF_VERSION));
	fail |= json_object_set_new(o, "event", json_string(sd_audit_type_name(ev->type)));
	fail |= json_object_set_new(o, "date", json_string(date));
	fail |= set_text(o, "case", ev->case_number);
	fail |= set_text(o, "role", ev->role);
	fail |= set_hex(o, "actor", ev->has_actor, ev->actor);
	fail |= set_hex(o, "subject", ev->has_subject, ev->subject);
	fail |= set_text(o, "subject_role", ev->subject_role);
	fail |= set_hex(o, "digest", ev->has_digest, ev->digest);
	if (ev->has_number)
		fail |= json_object_set_new(o, "number", json_integer((json_int_t)ev->number));
	fail |= set_text(o, "detail", ev->detail);
	if (fail) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *sd_audit_event_json(const sd_audit_event_t *ev)
{
	if (ev == NULL || check_event(ev, SD_ERR_USAGE) < 0)
		return NULL;
	return event_to_json(ev);
}

/* The canonical bytes of a checked event. */
static int encode_checked(const sd_audit_event_t *ev, uint8_t **out, size_t *len)
{
	json_t *o = event_to_json(ev);
	char *text;
	size_t n;

	if (o == NULL)
		return SD_ERR_NOMEM;
	text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (text == NULL)
		return SD_ERR_NOMEM;
	n = strlen(text);
	if (n > SD_AUDIT_LEAF_MAX) { /* every member is bounded far below: a bug */
		free(text);
		return sd_error(SD_ERR_INTERNAL, "%s: %zu bytes, more than %d", WHAT, n, SD_AUDIT_LEAF_MAX);
	}
	*out = (uint8_t *)text;
	*len = n;
	return 0;
}

int sd_audit_leaf_encode(const sd_audit_event_t *ev, uint8_t **out, size_t *len)
{
	int r;

	*out = NULL;
	*len = 0;
	if (ev == NULL)
		return sd_error(SD_ERR_USAGE, "%s: no event", WHAT);
	if ((r = check_event(ev, SD_ERR_USAGE)) < 0)
		return r;
	return encode_checked(ev, out, len);
}

/* --- reading -------------------------------------------------------------------------- */

/* An optional string member of fewer than cap bytes that passes valid(). */
static int parse_word(json_t *o, const char *name, char *out, size_t cap, bool (*valid)(const char *, size_t),
                      const char *rule)
{
	json_t *v;
	int r;

	if ((r = sd_json_member(o, WHAT, "", name, SD_JSON_STRING, false, &v)) < 0 || v == NULL)
		return r;
	if (json_string_length(v) >= cap || !valid(json_string_value(v), cap))
		return sd_error(SD_ERR_FORMAT, "%s: %s must be %s", WHAT, name, rule);
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

/* An optional member of SD_AUDIT_ID_BYTES as lower-case hex. */
static int parse_id(json_t *o, const char *name, bool *has, uint8_t out[SD_AUDIT_ID_BYTES])
{
	json_t *v;
	int r;

	if ((r = sd_json_member(o, WHAT, "", name, SD_JSON_STRING, false, &v)) < 0 || v == NULL)
		return r;
	*has = true;
	return sd_json_hex(v, WHAT, "", name, out, SD_AUDIT_ID_BYTES);
}

static int parse_head(json_t *o, sd_audit_event_t *ev)
{
	char shown[SD_JSON_NAME_SHOWN];
	json_int_t version;
	json_t *v;
	int r;

	if ((r = sd_json_member_int(o, WHAT, "", "v", SD_AUDIT_LEAF_VERSION, SD_AUDIT_LEAF_VERSION, &version)) < 0 ||
	    (r = sd_json_member(o, WHAT, "", "event", SD_JSON_STRING, true, &v)) < 0)
		return r;
	if (strlen(json_string_value(v)) != json_string_length(v) ||
	    !sd_audit_type_from_name(json_string_value(v), &ev->type))
		return sd_error(SD_ERR_FORMAT, "%s: unknown event '%s' (a newer log? update sealdrop)", WHAT,
		                sd_error_printable(json_string_value(v), shown, sizeof(shown)));
	return sd_json_member_date(o, WHAT, "", "date", &ev->date);
}

static int parse_number(json_t *o, sd_audit_event_t *ev)
{
	json_int_t n;
	json_t *v;
	int r;

	if ((r = sd_json_member(o, WHAT, "", "number", SD_JSON_INTEGER, false, &v)) < 0 || v == NULL ||
	    (r = sd_json_member_int(o, WHAT, "", "number", 0, AU_NUMBER_MAX, &n)) < 0)
		return r;
	ev->has_number = true;
	ev->number = (uint64_t)n;
	return 0;
}

static int parse_fields(json_t *o, sd_audit_event_t *ev)
{
	int r;

	if (!json_is_object(o))
		return sd_error(SD_ERR_FORMAT, "%s: a leaf must be a JSON object", WHAT);
	if ((r = sd_json_only_fields(o, WHAT, "", leaf_fields)) < 0 || (r = parse_head(o, ev)) < 0 ||
	    (r = parse_word(o, "case", ev->case_number, sizeof(ev->case_number), case_is_valid, CASE_RULE)) < 0 ||
	    (r = parse_word(o, "role", ev->role, sizeof(ev->role), role_is_valid, ROLE_RULE)) < 0 ||
	    (r = parse_id(o, "actor", &ev->has_actor, ev->actor)) < 0 ||
	    (r = parse_id(o, "subject", &ev->has_subject, ev->subject)) < 0 ||
	    (r = parse_word(o, "subject_role", ev->subject_role, sizeof(ev->subject_role), role_is_valid, ROLE_RULE)) <
	            0 ||
	    (r = parse_id(o, "digest", &ev->has_digest, ev->digest)) < 0 || (r = parse_number(o, ev)) < 0 ||
	    (r = parse_word(o, "detail", ev->detail, sizeof(ev->detail), detail_is_valid, DETAIL_RULE)) < 0)
		return r;
	return check_event(ev, SD_ERR_FORMAT);
}

int sd_audit_leaf_parse(const uint8_t *leaf, size_t len, sd_audit_event_t *out)
{
	sd_audit_event_t ev;
	json_error_t jerr;
	json_t *o = NULL;
	uint8_t *again = NULL;
	size_t again_len = 0;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&ev, 0, sizeof(ev));
	if (leaf == NULL && len > 0)
		return sd_error(SD_ERR_USAGE, "%s: no leaf", WHAT);
	if (len > SD_AUDIT_LEAF_MAX)
		return sd_error(SD_ERR_TOOBIG, "%s: larger than %d bytes", WHAT, SD_AUDIT_LEAF_MAX);
	if ((o = json_loadb((const char *)leaf, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return sd_error(SD_ERR_FORMAT, "%s: invalid JSON at column %d: %s", WHAT, jerr.column, jerr.text);
	if ((r = parse_fields(o, &ev)) < 0 || (r = encode_checked(&ev, &again, &again_len)) < 0)
		goto out;
	if (again_len != len || !sd_equal(again, leaf, len)) {
		r = sd_error(SD_ERR_FORMAT, "%s: not in canonical form", WHAT);
		goto out;
	}
	*out = ev;
	r = 0;
out:
	free(again);
	json_decref(o);
	return r;
}
