/*
 * directory.c — the signed key directory: the one document that tells a client which
 * intake, identity, log and agency keys to seal to, and which codename KDF limits to use.
 *
 * Start at sd_directory_parse(): JSON syntax and the envelope first, then the pinned
 * root's signature over the compact, key-sorted serialisation of "signed", and only then
 * the field rules (check_struct(), shared with sd_directory_sign() so the operator can
 * never produce a directory clients refuse), and last the not-after date.
 * sd_directory_check_version() is the anti-rollback state kept per (root, deployment).
 * The strict JSON helpers and the signed envelope are crypto/json.c's, shared with the receipt.
 * Byte-level description: docs/FORMAT.md, "Directory".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include <sodium.h>

#include "sealdrop/bytes.h"
#include "sealdrop/directory.h"
#include "sealdrop/fileio.h"
#include "sealdrop/json.h"
#include "sealdrop/sealdrop.h"
#include "sealdrop/sign.h"

#define DIR_TYPE        "sealdrop-directory"
#define DIR_FORMAT      1
#define DIR_KDF_ALG     "argon2id13"
#define DIR_VERSION_MAX ((json_int_t)1 << 31)
#define DIR_STATE_MAX   16 /* "2147483648\n" and then some */
#define KEY_B64_BYTES   sodium_base64_ENCODED_LEN(SD_KEY_PUBLIC_BYTES, sodium_base64_VARIANT_ORIGINAL)
#define WHAT            "directory" /* the first word of a message */

static const char *const signature_fields[] = {"key_id", "sig", "key", NULL};
static const char *const signed_fields[] = {"type", "format",       "deployment", "version", "issued",   "not_after",
                                            "test", "codename_kdf", "keys",       "tls_ca",  "agencies", NULL};
static const char *const kdf_fields[] = {"alg", "opslimit", "memlimit", NULL};
static const char *const keys_fields[] = {"intake", "identity", "log", "log_retired", NULL};
static const char *const key_fields[] = {"id", "public", NULL};
static const char *const agency_fields[] = {"id", "name", "key", NULL};

static const sd_json_signed_t dir_signed = {
        .what = WHAT,
        .body = "signed",
        .signature_fields = signature_fields,
        .max_bytes = SD_DIRECTORY_MAX_BYTES,
        .purpose = SD_PURPOSE_DIRECTORY,
        .kind = SD_KEY_ROOT,
        .signer = "pinned root",
        .key = "root",
};

bool sd_deployment_is_valid(const char *s)
{
	size_t n;

	if (s == NULL)
		return false;
	n = strnlen(s, SD_DEPLOYMENT_MAX + 1);
	if (n < 1 || n > SD_DEPLOYMENT_MAX || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

static int check_name(const char *s, const char *path, int err)
{
	if (!sd_deployment_is_valid(s))
		return sd_error(err,
		                "directory: %s must be 1 to 64 of a-z, 0-9 and '-', not starting or ending with '-'",
		                path);
	return 0;
}

/* --- field rules shared by parse and sign ------------------------------------------ */

static int check_key(const sd_pubkey_t *k, sd_key_kind_t kind, const char *path, int err)
{
	uint8_t id[SD_KEY_ID_BYTES];

	if (k->kind != kind)
		return sd_error(err, "directory: %s must be a key of kind %s", path, sd_key_kind_name(kind));
	sd_key_id(kind, k->pk, id);
	if (sodium_memcmp(id, k->id, SD_KEY_ID_BYTES) != 0)
		return sd_error(err, "directory: %s.id does not match its key", path);
	return 0;
}

static int check_kdf(const sd_directory_t *d, int err)
{
	sd_kdf_limits_t floor = sd_kdf_interactive();

	if (!sd_kdf_limits_are_sane(&d->codename_kdf))
		return sd_error(err,
		                "directory: signed.codename_kdf limits (opslimit %llu, memlimit %llu) are outside "
		                "what any client accepts",
		                (unsigned long long)d->codename_kdf.opslimit,
		                (unsigned long long)d->codename_kdf.memlimit);
	if (!d->test && (d->codename_kdf.opslimit < floor.opslimit || d->codename_kdf.memlimit < floor.memlimit))
		return sd_error(err,
		                "directory: signed.codename_kdf is below the INTERACTIVE floor (opslimit %llu, "
		                "memlimit %llu) and the directory is not flagged test",
		                (unsigned long long)floor.opslimit, (unsigned long long)floor.memlimit);
	return 0;
}

static int check_agencies(const sd_directory_t *d, int err)
{
	char p[SD_JSON_PATH_MAX];
	int r;

	if (d->n_agencies > SD_DIRECTORY_MAX_AGENCIES)
		return sd_error(err, "directory: more than %d agencies", SD_DIRECTORY_MAX_AGENCIES);
	if (d->n_agencies > 0 && d->agencies == NULL)
		return sd_error(SD_ERR_USAGE, "directory: n_agencies is %zu but agencies is NULL", d->n_agencies);
	for (size_t i = 0; i < d->n_agencies; i++) {
		const sd_agency_t *a = &d->agencies[i];
		size_t namelen = strnlen(a->name, sizeof(a->name));

		snprintf(p, sizeof(p), "signed.agencies[%zu].id", i);
		if ((r = check_name(a->id, p, err)) < 0)
			return r;
		if (namelen == 0 || namelen > SD_AGENCY_NAME_MAX || !sd_utf8_is_valid(a->name, namelen))
			return sd_error(err, "directory: signed.agencies[%zu].name must be 1 to %d bytes of UTF-8", i,
			                SD_AGENCY_NAME_MAX);
		snprintf(p, sizeof(p), "signed.agencies[%zu].key", i);
		if ((r = check_key(&a->key, SD_KEY_AGENCY, p, err)) < 0)
			return r;
		for (size_t j = 0; j < i; j++)
			if (strcmp(d->agencies[j].id, a->id) == 0)
				return sd_error(err, "directory: agency id '%s' appears twice", a->id);
	}
	return 0;
}

/* keys.log_retired: only beside a log key, at most 16, each a log key, none twice, and
 * never the current one (a key is either signing now or retired). */
static int check_log_retired(const sd_directory_t *d, int err)
{
	char p[SD_JSON_PATH_MAX];
	int r;

	if (d->n_log_retired == 0)
		return 0;
	if (!d->has_log)
		return sd_error(err, "directory: signed.keys.log_retired needs signed.keys.log");
	if (d->n_log_retired > SD_DIRECTORY_MAX_LOG_RETIRED)
		return sd_error(err, "directory: signed.keys.log_retired lists more than %d keys",
		                SD_DIRECTORY_MAX_LOG_RETIRED);
	for (size_t i = 0; i < d->n_log_retired; i++) {
		const sd_pubkey_t *k = &d->log_retired[i];

		snprintf(p, sizeof(p), "signed.keys.log_retired[%zu]", i);
		if ((r = check_key(k, SD_KEY_LOG, p, err)) < 0)
			return r;
		if (sd_equal(k->pk, d->log.pk, SD_KEY_PUBLIC_BYTES))
			return sd_error(err, "directory: %s is the current log key (signed.keys.log)", p);
		for (size_t j = 0; j < i; j++)
			if (sd_equal(d->log_retired[j].pk, k->pk, SD_KEY_PUBLIC_BYTES))
				return sd_error(err, "directory: %s is listed twice", p);
	}
	return 0;
}

static int check_struct(const sd_directory_t *d, int err)
{
	char a[SD_DATE_TEXT_BYTES], b[SD_DATE_TEXT_BYTES];
	int r;

	if ((r = check_name(d->deployment, "signed.deployment", err)) < 0)
		return r;
	if (d->version < 1 || d->version > (uint32_t)DIR_VERSION_MAX)
		return sd_error(err, "directory: signed.version must be between 1 and %lld",
		                (long long)DIR_VERSION_MAX);
	if (!sd_date_is_valid(d->issued.y, d->issued.m, d->issued.d) ||
	    !sd_date_is_valid(d->not_after.y, d->not_after.m, d->not_after.d))
		return sd_error(err, "directory: signed.issued and signed.not_after must be calendar dates");
	if (sd_date_cmp(d->not_after, d->issued) <= 0) {
		sd_date_format(d->issued, a);
		sd_date_format(d->not_after, b);
		return sd_error(err, "directory: signed.not_after (%s) must be after signed.issued (%s)", b, a);
	}
	if ((r = check_kdf(d, err)) < 0)
		return r;
	if ((r = check_key(&d->intake, SD_KEY_INTAKE, "signed.keys.intake", err)) < 0 ||
	    (r = check_key(&d->identity, SD_KEY_IDENTITY, "signed.keys.identity", err)) < 0 ||
	    (d->has_log && (r = check_key(&d->log, SD_KEY_LOG, "signed.keys.log", err)) < 0) ||
	    (r = check_log_retired(d, err)) < 0)
		return r;
	if (d->tls_ca_pem != NULL &&
	    (d->tls_ca_pem[0] == '\0' || !sd_utf8_is_valid(d->tls_ca_pem, strlen(d->tls_ca_pem))))
		return sd_error(err, "directory: signed.tls_ca must be non-empty UTF-8 text");
	return check_agencies(d, err);
}

/* --- parsing ------------------------------------------------------------------------ */

/* Shorthands for crypto/json.c's helpers, every message starting "directory: ". */
static int only_fields(json_t *obj, const char *base, const char *const allowed[])
{
	return sd_json_only_fields(obj, WHAT, base, allowed);
}

static int member(json_t *obj, const char *base, const char *name, sd_json_type_t type, bool required, json_t **out)
{
	return sd_json_member(obj, WHAT, base, name, type, required, out);
}

/* A {"id", "public"} object: the id must be the one computed from kind and key. */
static int parse_key(json_t *k, const char *path, sd_key_kind_t kind, sd_pubkey_t *out)
{
	char p[SD_JSON_PATH_MAX], why[128];
	uint8_t id[SD_KEY_ID_BYTES];
	json_t *v_id, *v_pub;
	int r;

	if ((r = only_fields(k, path, key_fields)) < 0 ||
	    (r = member(k, path, "id", SD_JSON_STRING, true, &v_id)) < 0 ||
	    (r = member(k, path, "public", SD_JSON_STRING, true, &v_pub)) < 0)
		return r;
	if ((r = sd_json_hex(v_id, WHAT, path, "id", id, sizeof(id))) < 0)
		return r;
	if (sd_pubkey_from_base64(kind, json_string_value(v_pub), out) < 0) {
		snprintf(why, sizeof(why), "%s", sd_error_detail());
		return sd_error(SD_ERR_FORMAT, "directory: %s: %s", sd_json_path(p, path, "public"), why);
	}
	if (sodium_memcmp(id, out->id, SD_KEY_ID_BYTES) != 0)
		return sd_error(SD_ERR_FORMAT, "directory: %s does not match its key", sd_json_path(p, path, "id"));
	return 0;
}

static int parse_key_member(json_t *obj, const char *base, const char *name, sd_key_kind_t kind, bool required,
                            sd_pubkey_t *out, bool *present)
{
	char p[SD_JSON_PATH_MAX];
	json_t *v;
	int r;

	if ((r = member(obj, base, name, SD_JSON_OBJECT, required, &v)) < 0)
		return r;
	if (present != NULL)
		*present = v != NULL;
	return v == NULL ? 0 : parse_key(v, sd_json_path(p, base, name), kind, out);
}

static int parse_head(json_t *s, sd_directory_t *d)
{
	json_t *v;
	json_int_t n;
	int r;

	if ((r = member(s, "signed", "type", SD_JSON_STRING, true, &v)) < 0)
		return r;
	if (strcmp(json_string_value(v), DIR_TYPE) != 0)
		return sd_error(SD_ERR_FORMAT, "directory: signed.type must be \"" DIR_TYPE "\"");
	if ((r = member(s, "signed", "format", SD_JSON_INTEGER, true, &v)) < 0)
		return r;
	if (json_integer_value(v) != DIR_FORMAT)
		return sd_error(SD_ERR_VERSION, "directory: format %lld is not supported (this build reads format %d)",
		                (long long)json_integer_value(v), DIR_FORMAT);
	if ((r = member(s, "signed", "deployment", SD_JSON_STRING, true, &v)) < 0 ||
	    (r = check_name(json_string_value(v), "signed.deployment", SD_ERR_FORMAT)) < 0)
		return r;
	snprintf(d->deployment, sizeof(d->deployment), "%s", json_string_value(v));
	if ((r = sd_json_member_int(s, WHAT, "signed", "version", 1, DIR_VERSION_MAX, &n)) < 0)
		return r;
	d->version = (uint32_t)n;
	if ((r = sd_json_member_date(s, WHAT, "signed", "issued", &d->issued)) < 0 ||
	    (r = sd_json_member_date(s, WHAT, "signed", "not_after", &d->not_after)) < 0 ||
	    (r = member(s, "signed", "test", SD_JSON_BOOLEAN, true, &v)) < 0)
		return r;
	d->test = json_is_true(v);
	return 0;
}

static int parse_kdf(json_t *s, sd_directory_t *d)
{
	static const char path[] = "signed.codename_kdf";
	json_t *k, *v;
	json_int_t ops, mem;
	int r;

	if ((r = member(s, "signed", "codename_kdf", SD_JSON_OBJECT, true, &k)) < 0 ||
	    (r = only_fields(k, path, kdf_fields)) < 0 || (r = member(k, path, "alg", SD_JSON_STRING, true, &v)) < 0)
		return r;
	if (strcmp(json_string_value(v), DIR_KDF_ALG) != 0)
		return sd_error(SD_ERR_FORMAT, "directory: signed.codename_kdf.alg must be \"" DIR_KDF_ALG "\"");
	if ((r = sd_json_member_int(k, WHAT, path, "opslimit", 0, INT64_MAX, &ops)) < 0 ||
	    (r = sd_json_member_int(k, WHAT, path, "memlimit", 0, INT64_MAX, &mem)) < 0)
		return r;
	d->codename_kdf.opslimit = (uint64_t)ops;
	d->codename_kdf.memlimit = (uint64_t)mem;
	return 0;
}

static int parse_log_retired(json_t *keys, sd_directory_t *d)
{
	static const char path[] = "signed.keys.log_retired";
	char p[SD_JSON_PATH_MAX];
	json_t *arr, *k;
	size_t n;
	int r;

	if ((r = member(keys, "signed.keys", "log_retired", SD_JSON_ARRAY, false, &arr)) < 0 || arr == NULL)
		return r;
	if (!d->has_log)
		return sd_error(SD_ERR_FORMAT, "directory: %s needs signed.keys.log", path);
	n = json_array_size(arr);
	if (n > SD_DIRECTORY_MAX_LOG_RETIRED)
		return sd_error(SD_ERR_FORMAT, "directory: %s lists more than %d keys", path,
		                SD_DIRECTORY_MAX_LOG_RETIRED);
	for (size_t i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s[%zu]", path, i);
		if (!json_is_object(k = json_array_get(arr, i)))
			return sd_error(SD_ERR_FORMAT, "directory: %s must be an object", p);
		if ((r = parse_key(k, p, SD_KEY_LOG, &d->log_retired[i])) < 0)
			return r;
		d->n_log_retired = i + 1;
	}
	return 0;
}

static int parse_keys(json_t *s, sd_directory_t *d)
{
	static const char path[] = "signed.keys";
	json_t *k, *v;
	int r;

	if ((r = member(s, "signed", "keys", SD_JSON_OBJECT, true, &k)) < 0 ||
	    (r = only_fields(k, path, keys_fields)) < 0 ||
	    (r = parse_key_member(k, path, "intake", SD_KEY_INTAKE, true, &d->intake, NULL)) < 0 ||
	    (r = parse_key_member(k, path, "identity", SD_KEY_IDENTITY, true, &d->identity, NULL)) < 0 ||
	    (r = parse_key_member(k, path, "log", SD_KEY_LOG, false, &d->log, &d->has_log)) < 0 ||
	    (r = parse_log_retired(k, d)) < 0)
		return r;
	if ((r = member(s, "signed", "tls_ca", SD_JSON_STRING, false, &v)) < 0)
		return r;
	if (v != NULL && (d->tls_ca_pem = strdup(json_string_value(v))) == NULL)
		return SD_ERR_NOMEM;
	return 0;
}

static int parse_agency(json_t *a, const char *path, sd_agency_t *out)
{
	char p[SD_JSON_PATH_MAX];
	json_t *v;
	int r;

	if (!json_is_object(a))
		return sd_error(SD_ERR_FORMAT, "directory: %s must be an object", path);
	if ((r = only_fields(a, path, agency_fields)) < 0 ||
	    (r = member(a, path, "id", SD_JSON_STRING, true, &v)) < 0 ||
	    (r = check_name(json_string_value(v), sd_json_path(p, path, "id"), SD_ERR_FORMAT)) < 0)
		return r;
	snprintf(out->id, sizeof(out->id), "%s", json_string_value(v));
	if ((r = member(a, path, "name", SD_JSON_STRING, true, &v)) < 0)
		return r;
	if (json_string_length(v) == 0 || json_string_length(v) > SD_AGENCY_NAME_MAX)
		return sd_error(SD_ERR_FORMAT, "directory: %s must be 1 to %d bytes of UTF-8",
		                sd_json_path(p, path, "name"), SD_AGENCY_NAME_MAX);
	memcpy(out->name, json_string_value(v), json_string_length(v) + 1);
	return parse_key_member(a, path, "key", SD_KEY_AGENCY, true, &out->key, NULL);
}

static int parse_agencies(json_t *s, sd_directory_t *d)
{
	char p[SD_JSON_PATH_MAX];
	json_t *arr;
	size_t n;
	int r;

	if ((r = member(s, "signed", "agencies", SD_JSON_ARRAY, true, &arr)) < 0)
		return r;
	n = json_array_size(arr);
	if (n > SD_DIRECTORY_MAX_AGENCIES)
		return sd_error(SD_ERR_FORMAT, "directory: more than %d agencies", SD_DIRECTORY_MAX_AGENCIES);
	if (n == 0)
		return 0;
	if ((d->agencies = calloc(n, sizeof(*d->agencies))) == NULL)
		return SD_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "signed.agencies[%zu]", i);
		if ((r = parse_agency(json_array_get(arr, i), p, &d->agencies[i])) < 0)
			return r;
		d->n_agencies = i + 1;
	}
	return 0;
}

static int parse_signed(json_t *s, sd_directory_t *d)
{
	int r;

	if ((r = only_fields(s, "signed", signed_fields)) < 0 || (r = parse_head(s, d)) < 0 ||
	    (r = parse_kdf(s, d)) < 0 || (r = parse_keys(s, d)) < 0 || (r = parse_agencies(s, d)) < 0)
		return r;
	return check_struct(d, SD_ERR_FORMAT);
}

/* signature.key, when present: the signer's public key, whose id must be signature.key_id.
 * 0 with *has = false when absent. */
static int parse_signer(json_t *doc, const uint8_t key_id[SD_KEY_ID_BYTES], sd_pubkey_t *signer, bool *has)
{
	json_t *v = json_object_get(json_object_get(doc, "signature"), "key");

	*has = false;
	if (v == NULL)
		return 0;
	if (!json_is_string(v) || sd_pubkey_from_base64(SD_KEY_ROOT, json_string_value(v), signer) < 0)
		return sd_error(SD_ERR_FORMAT, "directory: signature.key must be the base64 of a 32-byte root key");
	if (!sd_equal(signer->id, key_id, SD_KEY_ID_BYTES))
		return sd_error(SD_ERR_FORMAT, "directory: signature.key is not the key signature.key_id names");
	*has = true;
	return 0;
}

int sd_directory_signer(const uint8_t *json, size_t len, sd_pubkey_t *out)
{
	uint8_t key_id[SD_KEY_ID_BYTES], sig[SD_SIGN_BYTES];
	json_t *doc, *signed_obj;
	bool has = false;
	int r;

	if ((r = sd_json_signed_load(&dir_signed, json, len, &doc)) < 0)
		return r;
	if ((r = sd_json_signed_parse(&dir_signed, doc, &signed_obj, key_id, sig)) == 0 &&
	    (r = parse_signer(doc, key_id, out, &has)) == 0 && !has)
		r = sd_error(SD_ERR_INVALID, "directory: the signature does not name its key (signature.key); "
		                             "sign it again with this version of sealdrop");
	json_decref(doc);
	return r;
}

int sd_directory_parse(const uint8_t *json, size_t len, const sd_pubkey_t *root, sd_date_t today, sd_directory_t **out)
{
	uint8_t key_id[SD_KEY_ID_BYTES], sig[SD_SIGN_BYTES];
	char when[SD_DATE_TEXT_BYTES];
	sd_directory_t *d = NULL;
	json_t *doc = NULL, *signed_obj;
	sd_pubkey_t signer;
	bool has_signer = false;
	int r = SD_ERR_INTERNAL;

	*out = NULL;
	if (root == NULL || root->kind != SD_KEY_ROOT || (json == NULL && len > 0))
		return sd_error(SD_ERR_USAGE, "directory: a pinned root key and a document are needed");
	if ((r = sd_json_signed_load(&dir_signed, json, len, &doc)) < 0)
		return r;
	if ((r = sd_json_signed_parse(&dir_signed, doc, &signed_obj, key_id, sig)) < 0 ||
	    (r = parse_signer(doc, key_id, &signer, &has_signer)) < 0 ||
	    (r = sd_json_signed_verify(&dir_signed, signed_obj, root, key_id, sig)) < 0)
		goto out;
	if (has_signer && !sd_equal(signer.pk, root->pk, SD_KEY_PUBLIC_BYTES)) {
		r = sd_error(SD_ERR_VERIFY, "directory: signature.key is not the pinned root key");
		goto out;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		r = SD_ERR_NOMEM;
		goto out;
	}
	if ((r = parse_signed(signed_obj, d)) < 0)
		goto out;
	if (sd_date_cmp(today, d->not_after) > 0) {
		sd_date_format(d->not_after, when);
		r = sd_error(SD_ERR_EXPIRED, "directory expired on %s", when);
		goto out;
	}
	sd_key_id(SD_KEY_ROOT, root->pk, d->root_id);
	*out = d;
	d = NULL;
	r = 0;
out:
	sd_directory_free(d);
	json_decref(doc);
	return r;
}

int sd_directory_load(const char *path, const sd_pubkey_t *root, sd_date_t today, sd_directory_t **out)
{
	char why[512];
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	if ((r = sd_file_read(path, SD_DIRECTORY_MAX_BYTES, &buf, &len)) < 0)
		return r;
	r = sd_directory_parse(buf, len, root, today, out);
	free(buf);
	if (r < 0) {
		snprintf(why, sizeof(why), "%s", sd_error_detail());
		return sd_error(r, "%s: %s", path, why);
	}
	return 0;
}

/* --- signing ------------------------------------------------------------------------ */

static json_t *key_to_json(const sd_pubkey_t *k)
{
	char id[SD_KEY_ID_HEX_BYTES], pub[KEY_B64_BYTES];

	sd_key_id_hex(k->id, id);
	sd_base64_encode(k->pk, SD_KEY_PUBLIC_BYTES, pub);
	return json_pack("{s:s, s:s}", "id", id, "public", pub);
}

static json_t *log_retired_to_json(const sd_directory_t *d)
{
	json_t *arr = json_array();
	int fail = arr == NULL;

	for (size_t i = 0; !fail && i < d->n_log_retired; i++)
		fail |= json_array_append_new(arr, key_to_json(&d->log_retired[i]));
	if (fail) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

static json_t *agencies_to_json(const sd_directory_t *d)
{
	json_t *arr = json_array(), *a;
	int fail = arr == NULL;

	for (size_t i = 0; !fail && i < d->n_agencies; i++) {
		fail |= (a = json_object()) == NULL;
		fail |= json_object_set_new(a, "id", json_string(d->agencies[i].id));
		fail |= json_object_set_new(a, "name", json_string(d->agencies[i].name));
		fail |= json_object_set_new(a, "key", key_to_json(&d->agencies[i].key));
		fail |= json_array_append_new(arr, a);
	}
	if (fail) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

/* The "signed" object, members in the documented order. json_object_set_new consumes
 * its value even when it fails, so one flag collects every failure. */
static json_t *signed_to_json(const sd_directory_t *d)
{
	char issued[SD_DATE_TEXT_BYTES], not_after[SD_DATE_TEXT_BYTES];
	json_t *s = json_object(), *keys = json_object();
	int fail = s == NULL || keys == NULL;

	sd_date_format(d->issued, issued);
	sd_date_format(d->not_after, not_after);
	fail |= json_object_set_new(keys, "intake", key_to_json(&d->intake));
	fail |= json_object_set_new(keys, "identity", key_to_json(&d->identity));
	if (d->has_log)
		fail |= json_object_set_new(keys, "log", key_to_json(&d->log));
	if (d->n_log_retired > 0)
		fail |= json_object_set_new(keys, "log_retired", log_retired_to_json(d));
	fail |= json_object_set_new(s, "type", json_string(DIR_TYPE));
	fail |= json_object_set_new(s, "format", json_integer(DIR_FORMAT));
	fail |= json_object_set_new(s, "deployment", json_string(d->deployment));
	fail |= json_object_set_new(s, "version", json_integer(d->version));
	fail |= json_object_set_new(s, "issued", json_string(issued));
	fail |= json_object_set_new(s, "not_after", json_string(not_after));
	fail |= json_object_set_new(s, "test", json_boolean(d->test));
	fail |= json_object_set_new(s, "codename_kdf",
	                            json_pack("{s:s, s:I, s:I}", "alg", DIR_KDF_ALG, "opslimit",
	                                      (json_int_t)d->codename_kdf.opslimit, "memlimit",
	                                      (json_int_t)d->codename_kdf.memlimit));
	fail |= json_object_set_new(s, "keys", keys);
	if (d->tls_ca_pem != NULL)
		fail |= json_object_set_new(s, "tls_ca", json_string(d->tls_ca_pem));
	fail |= json_object_set_new(s, "agencies", agencies_to_json(d));
	if (fail) {
		json_decref(s);
		return NULL;
	}
	return s;
}

int sd_directory_sign(const sd_directory_t *d, const sd_seckey_t *root, char **json_out)
{
	json_t *doc;
	int r;

	*json_out = NULL;
	if (d == NULL || root == NULL || root->kind != SD_KEY_ROOT || root->sk == NULL)
		return sd_error(SD_ERR_USAGE, "directory: signing needs the root secret key");
	if ((r = check_struct(d, SD_ERR_INVALID)) < 0)
		return r;
	if ((doc = json_object()) == NULL || json_object_set_new(doc, "signed", signed_to_json(d)) < 0)
		r = SD_ERR_NOMEM;
	else
		r = sd_json_signed_sign(&dir_signed, root, doc, true, json_out);
	json_decref(doc);
	return r;
}

/* --- anti-rollback state -------------------------------------------------------------- */

/* asprintf that leaves NULL on failure. */
static char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *str_printf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

/* The highest version seen, or 0 when there is no state file yet. */
static int state_read(const char *path, uint32_t *seen)
{
	uint8_t *buf = NULL;
	size_t n = 0, i;
	uint64_t v = 0;
	int r = sd_file_read(path, DIR_STATE_MAX, &buf, &n);

	*seen = 0;
	if (r == SD_ERR_NOENT)
		return 0;
	if (r < 0 && r != SD_ERR_TOOBIG)
		return r;
	for (i = 0; r == 0 && i + 1 < n && buf[i] >= '0' && buf[i] <= '9'; i++)
		v = v * 10 + (uint64_t)(buf[i] - '0');
	if (r < 0 || n < 2 || i != n - 1 || buf[i] != '\n' || buf[0] == '0' || v > (uint64_t)DIR_VERSION_MAX) {
		free(buf);
		return sd_error(SD_ERR_FORMAT,
		                "%s is corrupt (expected a directory version and a newline); it is not reset "
		                "automatically, since that would allow a rollback",
		                path);
	}
	free(buf);
	*seen = (uint32_t)v;
	return 0;
}

int sd_directory_check_version(const sd_directory_t *d, const char *state_dir)
{
	char *base = NULL, *dir = NULL, *path = NULL, id[SD_KEY_ID_HEX_BYTES], text[DIR_STATE_MAX];
	uint32_t seen;
	int r, lock = -1;

	if (d == NULL || !sd_deployment_is_valid(d->deployment) || d->version < 1)
		return sd_error(SD_ERR_USAGE, "directory: no valid directory to record");
	if (state_dir == NULL && (r = sd_state_dir(&base)) < 0)
		return r;
	r = SD_ERR_NOMEM;
	sd_key_id_hex(d->root_id, id);
	if ((dir = str_printf("%s/directories", state_dir ? state_dir : base)) == NULL ||
	    (path = str_printf("%s/%s-%s", dir, id, d->deployment)) == NULL)
		goto out;
	if ((r = sd_mkdir_p(dir)) < 0 || (r = sd_lock_dir(dir, &lock)) < 0 || (r = state_read(path, &seen)) < 0)
		goto out;
	if (d->version < seen) {
		r = sd_error(SD_ERR_ROLLBACK,
		             "directory version %u is older than version %u already seen for deployment %s", d->version,
		             seen, d->deployment);
		goto out;
	}
	r = 0;
	if (d->version > seen) {
		snprintf(text, sizeof(text), "%u\n", d->version);
		r = sd_file_write(path, text, strlen(text), 0600, SD_AFILE_REPLACE);
	}
out:
	if (lock >= 0)
		close(lock); /* releases the lock */
	free(path);
	free(dir);
	free(base);
	return r;
}

/* --- the log keys a directory trusts -------------------------------------------------- */

const sd_pubkey_t *sd_directory_log_key(const sd_directory_t *d, const uint8_t id[SD_KEY_ID_BYTES])
{
	if (d == NULL || !d->has_log || id == NULL)
		return NULL;
	if (sd_equal(d->log.id, id, SD_KEY_ID_BYTES))
		return &d->log;
	for (size_t i = 0; i < d->n_log_retired && i < SD_DIRECTORY_MAX_LOG_RETIRED; i++)
		if (sd_equal(d->log_retired[i].id, id, SD_KEY_ID_BYTES))
			return &d->log_retired[i];
	return NULL;
}

int sd_directory_doc_key_id(const uint8_t *json, size_t len, uint8_t id[SD_KEY_ID_BYTES])
{
	json_t *doc, *v;
	int r = SD_ERR_FORMAT;

	if (json == NULL || len > SD_DIRECTORY_MAX_BYTES ||
	    (doc = json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return sd_error(SD_ERR_FORMAT, "the document is not JSON");
	v = json_object_get(json_object_get(doc, "signature"), "key_id");
	if (json_is_string(v) && sd_json_is_lower_hex(json_string_value(v), 2 * SD_KEY_ID_BYTES) &&
	    sd_hex_decode(json_string_value(v), id, SD_KEY_ID_BYTES) == 0)
		r = 0;
	json_decref(doc);
	return r == 0 ? 0 : sd_error(r, "the document names no signing key (signature.key_id)");
}

const sd_pubkey_t *sd_directory_doc_log_key(const sd_directory_t *d, const uint8_t *json, size_t len)
{
	uint8_t id[SD_KEY_ID_BYTES];
	const sd_pubkey_t *k = NULL;

	if (d == NULL || !d->has_log)
		return NULL;
	if (sd_directory_doc_key_id(json, len, id) == 0)
		k = sd_directory_log_key(d, id);
	return k != NULL ? k : &d->log;
}

const sd_agency_t *sd_directory_find_agency(const sd_directory_t *d, const char *id)
{
	if (d == NULL || id == NULL)
		return NULL;
	for (size_t i = 0; i < d->n_agencies; i++)
		if (strcmp(d->agencies[i].id, id) == 0)
			return &d->agencies[i];
	return NULL;
}

void sd_directory_free_(sd_directory_t *d)
{
	if (d == NULL)
		return;
	free(d->tls_ca_pem);
	free(d->agencies);
	free(d);
}
