/*
 * accounts.c — the enrolled accounts: who a client certificate belongs to, in what role,
 * and whether it may still act (include/sealdrop/accounts.h; records: docs/STORE.md).
 *
 * The store is the truth; this module keeps a copy of every account in memory (two
 * sorted arrays of pointers, by fingerprint and by name) and the revoked serials, so a
 * request learns who is calling without waiting for the store. The copy changes only
 * after the store made the change durable: the sd_accounts_req_* functions add the
 * operations to a store request, and sd_accounts_added / sd_accounts_disabled apply
 * the change once the store answered 0.
 *
 * An account may hold several certificates (a renewal adds one): the first one's record is
 * the account's and is the only one in the by-name index; each later one is a record of
 * its own that names the first fingerprint, and a request made with it acts as the
 * account, by the first fingerprint, so everything keyed by that (cases, uploads, the
 * audit log's actor) carries on across renewals.
 *
 * Start at sd_accounts_authenticate(), what every connection with a certificate calls;
 * sd_account_decode() is the strict parser of stored records (fuzzed).
 */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "sealdrop/accounts.h"
#include "sealdrop/bytes.h"
#include "sealdrop/sealdrop.h"

#define ACCOUNT_RECORD_VERSION 1
#define ACCOUNT_RECORD_FIELDS  9
#define ACCOUNT_RECORD_MAX     4096
#define SERIAL_HEX_BYTES       (2 * SD_CA_SERIAL_BYTES + 1)

struct sd_accounts {
	sd_account_t **by_fp;   /* every certificate's record, sorted by fingerprint; owns them */
	sd_account_t **by_name; /* the accounts' first records alone, sorted by name (strcmp) */
	size_t n, n_names, cap;
	sd_ca_revoked_t *revoked;
	size_t n_revoked, cap_revoked;
	size_t names_seen; /* while loading: entries of account_names checked */
};

/* --- names and roles ------------------------------------------------------------- */

/* The CA's rule for a CN, on a counted string that must hold no NUL. */
static bool name_is_valid(const char *name, size_t n)
{
	return strlen(name) == n && sd_ca_name_is_valid(name);
}

static int fp_cmp(const uint8_t *a, const uint8_t *b)
{
	for (size_t i = 0; i < SD_CA_FINGERPRINT_BYTES; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

static bool serial_equal(const uint8_t *a, const uint8_t *b)
{
	return sd_equal(a, b, SD_CA_SERIAL_BYTES) == 1;
}

/* --- the in-memory table --------------------------------------------------------- */

static int cmp_fp(const sd_account_t *acc, const void *fp)
{
	return fp_cmp(acc->fingerprint, fp);
}

static int cmp_name(const sd_account_t *acc, const void *name)
{
	return strcmp(acc->name, name);
}

/* The index where key is in arr (n accounts sorted by cmp), or where it would go; *found
 * says which. */
static size_t pos_in(sd_account_t *const *arr, size_t n, int (*cmp)(const sd_account_t *, const void *),
                     const void *key, bool *found)
{
	size_t lo = 0, hi = n;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp(arr[mid], key);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static size_t pos_fp(const sd_accounts_t *a, const uint8_t *fp, bool *found)
{
	return pos_in(a->by_fp, a->n, cmp_fp, fp, found);
}

static size_t pos_name(const sd_accounts_t *a, const char *name, bool *found)
{
	return pos_in(a->by_name, a->n_names, cmp_name, name, found);
}

static int grow(sd_accounts_t *a)
{
	size_t cap = a->cap ? 2 * a->cap : 64;
	sd_account_t **fp, **name;

	if (cap > SD_ACCOUNTS_MAX)
		cap = SD_ACCOUNTS_MAX;
	if ((fp = realloc(a->by_fp, cap * sizeof(*fp))) == NULL)
		return sd_error(SD_ERR_NOMEM, "out of memory for the account table");
	a->by_fp = fp;
	if ((name = realloc(a->by_name, cap * sizeof(*name))) == NULL)
		return sd_error(SD_ERR_NOMEM, "out of memory for the account table");
	a->by_name = name;
	a->cap = cap;
	return 0;
}

/* Puts a copy of acc into the fingerprint index, and an account's first record into the
 * name index. SD_ERR_EXISTS if its fingerprint, or a first record's name, is there. */
static int table_insert(sd_accounts_t *a, const sd_account_t *acc)
{
	bool fp_found, name_found;
	size_t i = pos_fp(a, acc->fingerprint, &fp_found), j = pos_name(a, acc->name, &name_found);
	sd_account_t *copy;
	int r;

	if (fp_found)
		return sd_error(SD_ERR_EXISTS, "a certificate with this fingerprint is already enrolled");
	if (name_found && !acc->is_renewal)
		return sd_error(SD_ERR_EXISTS, "an account named '%s' already exists", acc->name);
	if (a->n == SD_ACCOUNTS_MAX)
		return sd_error(SD_ERR_TOOBIG, "already %d accounts, the most this server holds", SD_ACCOUNTS_MAX);
	if (a->n == a->cap && (r = grow(a)) < 0)
		return r;
	if ((copy = malloc(sizeof(*copy))) == NULL)
		return sd_error(SD_ERR_NOMEM, "out of memory for an account");
	*copy = *acc;
	memmove(a->by_fp + i + 1, a->by_fp + i, (a->n - i) * sizeof(*a->by_fp));
	a->by_fp[i] = copy;
	a->n++;
	if (acc->is_renewal)
		return 0;
	memmove(a->by_name + j + 1, a->by_name + j, (a->n_names - j) * sizeof(*a->by_name));
	a->by_name[j] = copy;
	a->n_names++;
	return 0;
}

static const sd_ca_revoked_t *revoked_find(const sd_accounts_t *a, const uint8_t *serial)
{
	for (size_t i = 0; i < a->n_revoked; i++)
		if (serial_equal(a->revoked[i].serial, serial))
			return &a->revoked[i];
	return NULL;
}

/* Adds a serial to the revoked list, unless it is there already. */
static int revoked_add(sd_accounts_t *a, const uint8_t *serial, int64_t when)
{
	if (revoked_find(a, serial) != NULL)
		return 0;
	if (a->n_revoked == a->cap_revoked) {
		size_t cap = a->cap_revoked ? 2 * a->cap_revoked : 16;
		sd_ca_revoked_t *p = realloc(a->revoked, cap * sizeof(*p));
		if (p == NULL)
			return sd_error(SD_ERR_NOMEM, "out of memory for the revocation list");
		a->revoked = p;
		a->cap_revoked = cap;
	}
	memcpy(a->revoked[a->n_revoked].serial, serial, SD_CA_SERIAL_BYTES);
	a->revoked[a->n_revoked].revoked_at = when;
	a->n_revoked++;
	return 0;
}

const sd_account_t *sd_accounts_find(const sd_accounts_t *a, const uint8_t fp[SD_CA_FINGERPRINT_BYTES])
{
	bool found;
	size_t i;

	if (a == NULL || fp == NULL)
		return NULL;
	i = pos_fp(a, fp, &found);
	return found ? a->by_fp[i] : NULL;
}

const sd_account_t *sd_accounts_find_name(const sd_accounts_t *a, const char *name)
{
	bool found;
	size_t i;

	if (a == NULL || name == NULL)
		return NULL;
	i = pos_name(a, name, &found);
	return found ? a->by_name[i] : NULL;
}

const sd_account_t *sd_accounts_owner(const sd_accounts_t *a, const sd_account_t *acc)
{
	const sd_account_t *owner;

	if (acc == NULL || !acc->is_renewal)
		return acc;
	owner = sd_accounts_find(a, acc->account);
	return owner != NULL && !owner->is_renewal ? owner : NULL;
}

/* Whether acc is a certificate of the account whose first record is owner. */
static bool is_of(const sd_account_t *acc, const sd_account_t *owner)
{
	return fp_cmp(acc->fingerprint, owner->fingerprint) == 0 ||
	       (acc->is_renewal && fp_cmp(acc->account, owner->fingerprint) == 0);
}

size_t sd_accounts_live_count(const sd_accounts_t *a, const sd_account_t *owner)
{
	size_t n = 0;

	/* A walk over every record: renewals are rare and this runs only for the operator. */
	for (size_t i = 0; a != NULL && owner != NULL && i < a->n; i++)
		n += is_of(a->by_fp[i], owner) && a->by_fp[i]->enabled;
	return n;
}

bool sd_accounts_is_live(const sd_accounts_t *a, const sd_account_t *owner)
{
	return sd_accounts_live_count(a, owner) > 0;
}

size_t sd_accounts_count(const sd_accounts_t *a)
{
	return a != NULL ? a->n_names : 0;
}

size_t sd_accounts_cert_count(const sd_accounts_t *a)
{
	return a != NULL ? a->n : 0;
}

const sd_ca_revoked_t *sd_accounts_revoked(const sd_accounts_t *a, size_t *n)
{
	*n = a != NULL ? a->n_revoked : 0;
	return a != NULL ? a->revoked : NULL;
}

void sd_accounts_free_(sd_accounts_t *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n; i++)
		free(a->by_fp[i]);
	free(a->by_fp);
	free(a->by_name);
	free(a->revoked);
	free(a);
}

/* --- records ----------------------------------------------------------------------- */

static json_t *json_date_or_null(bool present, sd_date_t d)
{
	char text[SD_DATE_TEXT_BYTES];

	if (!present)
		return json_null();
	sd_date_format(d, text);
	return json_string(text);
}

int sd_account_encode(const sd_account_t *acc, uint8_t **out, size_t *len)
{
	char serial[SERIAL_HEX_BYTES], enrolled[SD_DATE_TEXT_BYTES], box[64];
	const char *role;
	json_t *o;
	char *text;

	*out = NULL;
	*len = 0;
	role = acc != NULL ? sd_role_name(acc->role) : NULL;
	if (role == NULL || !name_is_valid(acc->name, strnlen(acc->name, sizeof(acc->name))))
		return sd_error(SD_ERR_USAGE, "an account needs a valid name and role to be stored");
	sd_hex_encode(acc->serial, SD_CA_SERIAL_BYTES, serial);
	sd_date_format(acc->enrolled, enrolled);
	if (acc->has_box_key)
		sd_base64_encode(acc->box_pk, sizeof(acc->box_pk), box);
	o = json_pack("{s:i, s:s, s:s, s:b, s:s, s:s, s:o, s:I, s:o}", "v", ACCOUNT_RECORD_VERSION, "name", acc->name,
	              "role", role, "enabled", acc->enabled, "serial", serial, "enrolled", enrolled, "disabled",
	              json_date_or_null(!acc->enabled, acc->disabled), "not_after", (json_int_t)acc->cert_not_after,
	              "box_pk", acc->has_box_key ? json_string(box) : json_null());
	/* Only a renewal has "account": a first record keeps the layout it always had. */
	if (o != NULL && acc->is_renewal) {
		char account[2 * SD_CA_FINGERPRINT_BYTES + 1];
		sd_hex_encode(acc->account, SD_CA_FINGERPRINT_BYTES, account);
		if (json_object_set_new(o, "account", json_string(account)) != 0) {
			json_decref(o);
			o = NULL;
		}
	}
	if (o == NULL)
		return sd_error(SD_ERR_NOMEM, "out of memory encoding an account");
	text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (text == NULL)
		return sd_error(SD_ERR_NOMEM, "out of memory encoding an account");
	*out = (uint8_t *)text;
	*len = strlen(text);
	return 0;
}

static bool is_lower_hex(const char *s, size_t n)
{
	if (strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* Every member must be one the record defines: a misspelt or extra field is an error. */
static int decode_check_members(json_t *o)
{
	static const char *const known[] = {"v",        "name",     "role",      "enabled", "serial",
	                                    "enrolled", "disabled", "not_after", "box_pk",  "account"};
	size_t want = ACCOUNT_RECORD_FIELDS + (json_object_get(o, "account") != NULL);
	const char *key;
	json_t *v;

	json_object_foreach(o, key, v)
	{
		bool ok = false;
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			ok = ok || strcmp(key, known[i]) == 0;
		if (!ok) {
			char shown[40];
			return sd_error(SD_ERR_INVALID, "account record has an unknown field '%s'",
			                sd_error_printable(key, shown, sizeof(shown)));
		}
	}
	if (json_object_size(o) != want)
		return sd_error(SD_ERR_INVALID, "account record must have exactly %d fields (%d with 'account')",
		                ACCOUNT_RECORD_FIELDS, ACCOUNT_RECORD_FIELDS + 1);
	return 0;
}

/* "account": a renewal's first fingerprint, 64 lower-case hex; absent on a first record. */
static int decode_account(json_t *o, sd_account_t *acc)
{
	json_t *v = json_object_get(o, "account");

	acc->is_renewal = v != NULL;
	if (v == NULL)
		return 0;
	if (!json_is_string(v) || !is_lower_hex(json_string_value(v), 2 * SD_CA_FINGERPRINT_BYTES) ||
	    sd_hex_decode(json_string_value(v), acc->account, SD_CA_FINGERPRINT_BYTES) < 0)
		return sd_error(SD_ERR_INVALID, "account record's 'account' is not %d lower-case hex digits",
		                2 * SD_CA_FINGERPRINT_BYTES);
	return 0;
}

static int decode_identity(json_t *o, sd_account_t *acc)
{
	json_t *name = json_object_get(o, "name"), *role = json_object_get(o, "role");
	json_t *serial = json_object_get(o, "serial");
	sd_role_t r;

	if (!json_is_string(name) || !name_is_valid(json_string_value(name), json_string_length(name)))
		return sd_error(SD_ERR_INVALID, "account record's 'name' is not a valid name");
	memcpy(acc->name, json_string_value(name), json_string_length(name) + 1);
	if (!json_is_string(role) || !sd_role_from_name(json_string_value(role), &r))
		return sd_error(SD_ERR_INVALID, "account record's 'role' is not a known role");
	acc->role = r;
	if (!json_is_string(serial) || !is_lower_hex(json_string_value(serial), 2 * SD_CA_SERIAL_BYTES) ||
	    sd_hex_decode(json_string_value(serial), acc->serial, SD_CA_SERIAL_BYTES) < 0)
		return sd_error(SD_ERR_INVALID, "account record's 'serial' is not %d lower-case hex digits",
		                2 * SD_CA_SERIAL_BYTES);
	return 0;
}

static int decode_state(json_t *o, sd_account_t *acc)
{
	json_t *enabled = json_object_get(o, "enabled"), *enrolled = json_object_get(o, "enrolled");
	json_t *disabled = json_object_get(o, "disabled"), *not_after = json_object_get(o, "not_after");
	json_t *box = json_object_get(o, "box_pk");

	if (!json_is_boolean(enabled))
		return sd_error(SD_ERR_INVALID, "account record's 'enabled' is not true or false");
	acc->enabled = json_is_true(enabled);
	if (!json_is_string(enrolled) || sd_date_parse(json_string_value(enrolled), &acc->enrolled) < 0)
		return sd_error(SD_ERR_INVALID, "account record's 'enrolled' is not a date");
	if (acc->enabled
	            ? !json_is_null(disabled)
	            : (!json_is_string(disabled) || sd_date_parse(json_string_value(disabled), &acc->disabled) < 0))
		return sd_error(SD_ERR_INVALID, "account record's 'disabled' must be null while enabled, else a date");
	if (!json_is_integer(not_after))
		return sd_error(SD_ERR_INVALID, "account record's 'not_after' is not an integer");
	acc->cert_not_after = (int64_t)json_integer_value(not_after);
	acc->has_box_key = !json_is_null(box);
	if (acc->has_box_key && (!json_is_string(box) ||
	                         sd_base64_decode_exact(json_string_value(box), acc->box_pk, sizeof(acc->box_pk)) < 0))
		return sd_error(SD_ERR_INVALID, "account record's 'box_pk' is neither null nor base64 of 32 bytes");
	return 0;
}

int sd_account_decode(const uint8_t *buf, size_t len, sd_account_t *out)
{
	sd_account_t acc = {0};
	json_error_t jerr;
	json_t *o = NULL, *v;
	int r;

	memset(out, 0, sizeof(*out));
	if (buf == NULL || len > ACCOUNT_RECORD_MAX)
		return sd_error(SD_ERR_FORMAT, "account record is missing or longer than %d bytes", ACCOUNT_RECORD_MAX);
	o = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(o)) {
		r = sd_error(SD_ERR_FORMAT, "account record is not a JSON object");
		goto out;
	}
	v = json_object_get(o, "v");
	if (!json_is_integer(v) || json_integer_value(v) != ACCOUNT_RECORD_VERSION) {
		r = sd_error(SD_ERR_VERSION, "account record version is not %d", ACCOUNT_RECORD_VERSION);
		goto out;
	}
	if ((r = decode_check_members(o)) < 0 || (r = decode_identity(o, &acc)) < 0 ||
	    (r = decode_state(o, &acc)) < 0 || (r = decode_account(o, &acc)) < 0)
		goto out;
	*out = acc;
	r = 0;
out:
	json_decref(o);
	return r;
}

/* --- loading from the store -------------------------------------------------------- */

typedef int (*entry_fn)(sd_accounts_t *a, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen);

/* Calls fn for every entry of db, SD_STORE_SCAN_MAX at a time. */
static int scan_all(sd_store_t *store, sd_store_db_t db, sd_accounts_t *a, entry_fn fn)
{
	uint8_t after[SD_STORE_KEY_MAX];
	size_t after_len = 0;
	bool more = true;
	int r = 0;

	while (more && r == 0) {
		sd_store_req_t *req = sd_store_req_new();
		const uint8_t *k, *v;
		size_t kl, vl, n;

		if (req == NULL)
			return sd_error(SD_ERR_NOMEM, "out of memory reading the accounts");
		r = sd_store_req_scan(req, db, NULL, 0, after_len ? after : NULL, after_len, SD_STORE_SCAN_MAX);
		if (r >= 0)
			r = sd_store_call(store, req);
		n = r == 0 ? sd_store_req_scan_count(req, 0, &more) : 0;
		for (size_t i = 0; r == 0 && i < n; i++) {
			if ((r = sd_store_req_scan_entry(req, 0, i, &k, &kl, &v, &vl)) < 0 ||
			    (r = fn(a, k, kl, v, vl)) < 0)
				break;
			memcpy(after, k, kl); /* kl <= SD_STORE_KEY_MAX, the store's own bound */
			after_len = kl;
		}
		more = more && n > 0;
		sd_store_req_free(req);
	}
	return r < 0 ? r : 0;
}

static int load_account(sd_accounts_t *a, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	sd_account_t acc;
	int r;

	if (klen != SD_CA_FINGERPRINT_BYTES)
		return sd_error(SD_ERR_INVALID, "the store's accounts hold a key of %zu bytes, not a fingerprint",
		                klen);
	if ((r = sd_account_decode(val, vlen, &acc)) < 0)
		return r;
	memcpy(acc.fingerprint, key, SD_CA_FINGERPRINT_BYTES);
	if ((r = table_insert(a, &acc)) == SD_ERR_EXISTS)
		return sd_error(SD_ERR_INVALID, "the store holds two accounts named '%s'", acc.name);
	return r;
}

static int load_revoked(sd_accounts_t *a, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	if (klen != SD_CA_SERIAL_BYTES || vlen != 8)
		return sd_error(SD_ERR_INVALID, "the store's revocation list holds a malformed entry");
	return revoked_add(a, key, (int64_t)sd_load_le64(val));
}

/* account_names must name exactly the accounts there are, each with its fingerprint. */
static int load_check_name(sd_accounts_t *a, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	char name[SD_CA_NAME_BYTES];
	const sd_account_t *acc;

	if (klen == 0 || klen > SD_CA_NAME_MAX || vlen != SD_CA_FINGERPRINT_BYTES)
		return sd_error(SD_ERR_INVALID, "the store's account names hold a malformed entry");
	memcpy(name, key, klen);
	name[klen] = '\0';
	acc = sd_accounts_find_name(a, name);
	if (acc == NULL || fp_cmp(acc->fingerprint, val) != 0)
		return sd_error(SD_ERR_INVALID, "the store's account names do not match its accounts");
	a->names_seen++;
	return 0;
}

/* Every renewal names an account's first record, of its own name and role. */
static int load_check_renewals(const sd_accounts_t *a)
{
	for (size_t i = 0; i < a->n; i++) {
		const sd_account_t *acc = a->by_fp[i], *owner = sd_accounts_owner(a, acc);

		if (owner == NULL || strcmp(owner->name, acc->name) != 0 || owner->role != acc->role)
			return sd_error(SD_ERR_INVALID,
			                "the store holds a renewed certificate of '%s' that names no such account",
			                acc->name);
	}
	return 0;
}

int sd_accounts_load(sd_store_t *store, sd_accounts_t **out)
{
	sd_accounts_t *a;
	int r;

	*out = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return sd_error(SD_ERR_NOMEM, "out of memory for the accounts");
	if ((r = scan_all(store, SD_STORE_DB_ACCOUNTS, a, load_account)) < 0 ||
	    (r = scan_all(store, SD_STORE_DB_REVOKED, a, load_revoked)) < 0 ||
	    (r = scan_all(store, SD_STORE_DB_ACCOUNT_NAMES, a, load_check_name)) < 0)
		goto fail;
	/* Names are unique keys and each matched its own account: as many as accounts means
	 * every account has its name entry. */
	if (a->names_seen != a->n_names) {
		r = sd_error(SD_ERR_INVALID, "the store has %zu accounts but %zu account names", a->n_names,
		             a->names_seen);
		goto fail;
	}
	if ((r = load_check_renewals(a)) < 0)
		goto fail;
	*out = a;
	return 0;
fail:
	sd_accounts_free(a);
	return r;
}

/* --- changes: store operations first, then the memory copy --------------------------- */

int sd_accounts_req_add(sd_store_req_t *req, const sd_account_t *acc)
{
	uint8_t *rec = NULL;
	size_t len = 0;
	int r;

	if (req == NULL || acc == NULL)
		return sd_error(SD_ERR_USAGE, "no request or account to add");
	if (!acc->enabled)
		return sd_error(SD_ERR_USAGE, "a new account must be enabled");
	if ((r = sd_account_encode(acc, &rec, &len)) < 0)
		return r;
	r = sd_store_req_put(req, SD_STORE_DB_ACCOUNTS, acc->fingerprint, SD_CA_FINGERPRINT_BYTES, rec, len,
	                     SD_STORE_NOOVERWRITE);
	if (r >= 0)
		r = sd_store_req_put(req, SD_STORE_DB_ACCOUNT_NAMES, (const uint8_t *)acc->name, strlen(acc->name),
		                     acc->fingerprint, SD_CA_FINGERPRINT_BYTES, SD_STORE_NOOVERWRITE);
	free(rec);
	return r < 0 ? r : 0;
}

int sd_accounts_added(sd_accounts_t *a, const sd_account_t *acc)
{
	if (a == NULL || acc == NULL)
		return sd_error(SD_ERR_USAGE, "no accounts or account");
	return table_insert(a, acc);
}

int sd_accounts_req_disable(sd_store_req_t *req, const sd_account_t *acc, sd_date_t today, int64_t now)
{
	sd_account_t after;
	uint8_t *old = NULL, *rec = NULL, when[8];
	size_t old_len = 0, len = 0;
	int r;

	if (req == NULL || acc == NULL)
		return sd_error(SD_ERR_USAGE, "no request or account to disable");
	if (!acc->enabled)
		return sd_error(SD_ERR_USAGE, "account '%s' is already disabled", acc->name);
	after = *acc;
	after.enabled = false;
	after.disabled = today;
	sd_store_le64(when, (uint64_t)now);
	if ((r = sd_account_encode(acc, &old, &old_len)) < 0 || (r = sd_account_encode(&after, &rec, &len)) < 0)
		goto out;
	/* Compare-and-set: the record must still be the one this copy was made from. */
	r = sd_store_req_check_equal(req, SD_STORE_DB_ACCOUNTS, acc->fingerprint, SD_CA_FINGERPRINT_BYTES, old,
	                             old_len);
	if (r >= 0)
		r = sd_store_req_put(req, SD_STORE_DB_ACCOUNTS, acc->fingerprint, SD_CA_FINGERPRINT_BYTES, rec, len, 0);
	if (r >= 0)
		r = sd_store_req_put(req, SD_STORE_DB_REVOKED, acc->serial, SD_CA_SERIAL_BYTES, when, sizeof(when), 0);
out:
	free(old);
	free(rec);
	return r < 0 ? r : 0;
}

int sd_accounts_disabled(sd_accounts_t *a, const uint8_t fp[SD_CA_FINGERPRINT_BYTES], sd_date_t today, int64_t now)
{
	bool found;
	size_t i;
	sd_account_t *acc;

	if (a == NULL || fp == NULL)
		return sd_error(SD_ERR_USAGE, "no accounts or fingerprint");
	i = pos_fp(a, fp, &found);
	if (!found)
		return sd_error(SD_ERR_NOENT, "no account has this certificate");
	acc = a->by_fp[i];
	/* Refused first, which cannot fail; the CRL entry may (out of memory), and the next
	 * start reads both from the store anyway. */
	if (acc->enabled) {
		acc->enabled = false;
		acc->disabled = today;
	}
	return revoked_add(a, acc->serial, now);
}

int sd_accounts_req_disable_account(sd_store_req_t *req, const sd_accounts_t *a, const sd_account_t *owner,
                                    sd_date_t today, int64_t now)
{
	size_t n = 0;
	int r = 0;

	if (a == NULL || owner == NULL)
		return sd_error(SD_ERR_USAGE, "no accounts or account to disable");
	for (size_t i = 0; r == 0 && i < a->n; i++) {
		if (!is_of(a->by_fp[i], owner) || !a->by_fp[i]->enabled)
			continue;
		r = sd_accounts_req_disable(req, a->by_fp[i], today, now);
		n++;
	}
	if (r == 0 && n == 0)
		return sd_error(SD_ERR_USAGE, "account '%s' is already disabled", owner->name);
	return r;
}

int sd_accounts_disabled_account(sd_accounts_t *a, const uint8_t owner_fp[SD_CA_FINGERPRINT_BYTES], sd_date_t today,
                                 int64_t now)
{
	const sd_account_t *owner = sd_accounts_find(a, owner_fp);
	int r = 0;

	if (owner == NULL)
		return sd_error(SD_ERR_NOENT, "no account has this certificate");
	for (size_t i = 0; r == 0 && i < a->n; i++)
		if (is_of(a->by_fp[i], owner) && a->by_fp[i]->enabled)
			r = sd_accounts_disabled(a, a->by_fp[i]->fingerprint, today, now);
	return r;
}

int sd_accounts_req_renew(sd_store_req_t *req, const sd_account_t *owner, sd_account_t *cert)
{
	uint8_t *old = NULL, *rec = NULL;
	size_t old_len = 0, len = 0;
	int r;

	if (req == NULL || owner == NULL || cert == NULL || owner->is_renewal)
		return sd_error(SD_ERR_USAGE, "no request, account or certificate to renew");
	memcpy(cert->name, owner->name, sizeof(cert->name));
	cert->role = owner->role;
	cert->has_box_key = owner->has_box_key;
	memcpy(cert->box_pk, owner->box_pk, sizeof(cert->box_pk));
	cert->enabled = true;
	cert->is_renewal = true;
	memcpy(cert->account, owner->fingerprint, SD_CA_FINGERPRINT_BYTES);
	if ((r = sd_account_encode(owner, &old, &old_len)) < 0 || (r = sd_account_encode(cert, &rec, &len)) < 0)
		goto out;
	/* The account's first record must be as this copy saw it (not disabled meanwhile). */
	r = sd_store_req_check_equal(req, SD_STORE_DB_ACCOUNTS, owner->fingerprint, SD_CA_FINGERPRINT_BYTES, old,
	                             old_len);
	if (r >= 0)
		r = sd_store_req_put(req, SD_STORE_DB_ACCOUNTS, cert->fingerprint, SD_CA_FINGERPRINT_BYTES, rec, len,
		                     SD_STORE_NOOVERWRITE);
out:
	free(old);
	free(rec);
	return r < 0 ? r : 0;
}

int sd_accounts_renewed(sd_accounts_t *a, const sd_account_t *cert)
{
	if (a == NULL || cert == NULL || !cert->is_renewal)
		return sd_error(SD_ERR_USAGE, "no accounts or renewed certificate");
	return table_insert(a, cert);
}

int sd_accounts_authenticate(const sd_accounts_t *a, const sd_ca_t *ca, const uint8_t *der, size_t len, int64_t now,
                             sd_principal_t *out)
{
	sd_ca_cert_info_t info;
	const sd_account_t *acc, *owner;
	sd_role_t role;
	int r;

	memset(out, 0, sizeof(*out));
	if (a == NULL || ca == NULL || der == NULL)
		return sd_error(SD_ERR_USAGE, "nothing to authenticate against");
	if ((r = sd_ca_verify_client(ca, der, len, a->revoked, a->n_revoked, now, &info)) < 0)
		return r;
	if ((acc = sd_accounts_find(a, info.fingerprint)) == NULL)
		return sd_error(SD_ERR_NOENT, "this certificate is not enrolled");
	if (!acc->enabled)
		return sd_error(SD_ERR_REFUSED, "this account is disabled");
	if ((owner = sd_accounts_owner(a, acc)) == NULL)
		return sd_error(SD_ERR_INVALID, "this certificate names no account");
	if (!sd_role_from_name(info.role, &role) || role != owner->role)
		return sd_error(SD_ERR_REFUSED, "the certificate's role does not match its account's");
	/* A renewed certificate acts as its account: by the account's first fingerprint. */
	memcpy(out->fingerprint, owner->fingerprint, SD_CA_FINGERPRINT_BYTES);
	memcpy(out->name, owner->name, sizeof(out->name));
	out->role = owner->role;
	return 0;
}
