/*
 * json.c — strict JSON reading and the signed envelope, shared by the key directory
 * (crypto/directory.c) and the filing receipt (crypto/receipt.c).
 *
 * Start at sd_json_member(): every field is looked up with the type it must have, and
 * every object is checked for members it must not have (sd_json_only_fields()), each
 * failure a message that names the field's path. sd_json_signed_parse(),
 * sd_json_signed_verify() and sd_json_signed_sign() are the envelope both documents use:
 * a body and an Ed25519 signature over its compact, key-sorted serialisation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <sodium.h>

#include "sealdrop/bytes.h"
#include "sealdrop/json.h"
#include "sealdrop/sealdrop.h"

#define KEY_B64_BYTES sodium_base64_ENCODED_LEN(SD_KEY_PUBLIC_BYTES, sodium_base64_VARIANT_ORIGINAL)
#define SIG_B64_BYTES sodium_base64_ENCODED_LEN(SD_SIGN_BYTES, sodium_base64_VARIANT_ORIGINAL)

static const char *const type_text[] = {"a string", "an integer", "true or false", "an object", "an array"};

const char *sd_json_path(char out[SD_JSON_PATH_MAX], const char *base, const char *name)
{
	/* A path too long for the buffer is cut: it only ever appears in a message. */
	if (snprintf(out, SD_JSON_PATH_MAX, "%s%s%s", base, base[0] ? "." : "", name) >= SD_JSON_PATH_MAX)
		memcpy(out + SD_JSON_PATH_MAX - 4, "...", 4);
	return out;
}

int sd_json_only_fields(json_t *obj, const char *what, const char *base, const char *const allowed[])
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v)
	{
		size_t i = 0;
		char name[SD_JSON_NAME_SHOWN], p[SD_JSON_PATH_MAX];

		while (allowed[i] != NULL && strcmp(allowed[i], key) != 0)
			i++;
		if (allowed[i] == NULL)
			return sd_error(SD_ERR_FORMAT, "%s: unknown field %s", what,
			                sd_json_path(p, base, sd_error_printable(key, name, sizeof(name))));
	}
	(void)v;
	return 0;
}

static bool has_type(const json_t *v, sd_json_type_t type)
{
	switch (type) {
	case SD_JSON_STRING:
		return json_is_string(v);
	case SD_JSON_INTEGER:
		return json_is_integer(v);
	case SD_JSON_BOOLEAN:
		return json_is_boolean(v);
	case SD_JSON_OBJECT:
		return json_is_object(v);
	case SD_JSON_ARRAY:
		return json_is_array(v);
	}
	return false;
}

int sd_json_member(json_t *obj, const char *what, const char *base, const char *name, sd_json_type_t type,
                   bool required, json_t **out)
{
	char p[SD_JSON_PATH_MAX];
	json_t *v = json_object_get(obj, name);

	*out = v;
	if (v == NULL)
		return required ? sd_error(SD_ERR_FORMAT, "%s: missing field %s", what, sd_json_path(p, base, name))
		                : 0;
	if (!has_type(v, type))
		return sd_error(SD_ERR_FORMAT, "%s: %s must be %s", what, sd_json_path(p, base, name), type_text[type]);
	return 0;
}

int sd_json_member_int(json_t *obj, const char *what, const char *base, const char *name, json_int_t lo, json_int_t hi,
                       json_int_t *out)
{
	char p[SD_JSON_PATH_MAX];
	json_t *v;
	int r;

	if ((r = sd_json_member(obj, what, base, name, SD_JSON_INTEGER, true, &v)) < 0)
		return r;
	*out = json_integer_value(v);
	if (*out < lo || *out > hi)
		return sd_error(SD_ERR_FORMAT, "%s: %s must be between %lld and %lld", what,
		                sd_json_path(p, base, name), (long long)lo, (long long)hi);
	return 0;
}

int sd_json_member_date(json_t *obj, const char *what, const char *base, const char *name, sd_date_t *out)
{
	char p[SD_JSON_PATH_MAX];
	json_t *v;
	int r;

	if ((r = sd_json_member(obj, what, base, name, SD_JSON_STRING, true, &v)) < 0)
		return r;
	if (sd_date_parse(json_string_value(v), out) < 0)
		return sd_error(SD_ERR_FORMAT, "%s: %s must be a calendar date YYYY-MM-DD", what,
		                sd_json_path(p, base, name));
	return 0;
}

bool sd_json_is_lower_hex(const char *s, size_t digits)
{
	if (strlen(s) != digits)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

int sd_json_hex(const json_t *v, const char *what, const char *base, const char *name, uint8_t *out, size_t len)
{
	char p[SD_JSON_PATH_MAX];

	if (!sd_json_is_lower_hex(json_string_value(v), 2 * len) || sd_hex_decode(json_string_value(v), out, len) < 0)
		return sd_error(SD_ERR_FORMAT, "%s: %s must be %zu lower-case hexadecimal digits", what,
		                sd_json_path(p, base, name), 2 * len);
	return 0;
}

int sd_json_member_hex(json_t *obj, const char *what, const char *base, const char *name, uint8_t *out, size_t len)
{
	json_t *v;
	int r;

	if ((r = sd_json_member(obj, what, base, name, SD_JSON_STRING, true, &v)) < 0)
		return r;
	return sd_json_hex(v, what, base, name, out, len);
}

/* --- the signed envelope -------------------------------------------------------------- */

int sd_json_signed_load(const sd_json_signed_t *t, const uint8_t *json, size_t len, json_t **doc)
{
	json_error_t jerr;

	if (len > t->max_bytes)
		return sd_error(SD_ERR_TOOBIG, "%s: larger than %zu bytes", t->what, t->max_bytes);
	if ((*doc = json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return sd_error(SD_ERR_FORMAT, "%s: invalid JSON at line %d column %d: %s", t->what, jerr.line,
		                jerr.column, jerr.text);
	return 0;
}

int sd_json_signed_parse(const sd_json_signed_t *t, json_t *doc, json_t **body, uint8_t key_id[SD_KEY_ID_BYTES],
                         uint8_t sig[SD_SIGN_BYTES])
{
	const char *const top_fields[] = {t->body, "signature", NULL};
	json_t *s, *v;
	int r;

	if (!json_is_object(doc))
		return sd_error(SD_ERR_FORMAT, "%s: the document must be a JSON object", t->what);
	if ((r = sd_json_only_fields(doc, t->what, "", top_fields)) < 0 ||
	    (r = sd_json_member(doc, t->what, "", t->body, SD_JSON_OBJECT, true, body)) < 0 ||
	    (r = sd_json_member(doc, t->what, "", "signature", SD_JSON_OBJECT, true, &s)) < 0 ||
	    (r = sd_json_only_fields(s, t->what, "signature", t->signature_fields)) < 0 ||
	    (r = sd_json_member_hex(s, t->what, "signature", "key_id", key_id, SD_KEY_ID_BYTES)) < 0 ||
	    (r = sd_json_member(s, t->what, "signature", "sig", SD_JSON_STRING, true, &v)) < 0)
		return r;
	if (sd_base64_decode_exact(json_string_value(v), sig, SD_SIGN_BYTES) < 0)
		return sd_error(SD_ERR_FORMAT, "%s: signature.sig must be the base64 of 64 bytes", t->what);
	return 0;
}

int sd_json_signed_verify(const sd_json_signed_t *t, const json_t *body, const sd_pubkey_t *pk,
                          const uint8_t key_id[SD_KEY_ID_BYTES], const uint8_t sig[SD_SIGN_BYTES])
{
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	/* Lets the fuzzer reach the field rules; never in a real build. */
	(void)t;
	(void)body;
	(void)pk;
	(void)key_id;
	(void)sig;
	return 0;
#else
	char got[SD_KEY_ID_HEX_BYTES], want[SD_KEY_ID_HEX_BYTES];
	uint8_t pk_id[SD_KEY_ID_BYTES];
	char *msg;
	int r;

	sd_key_id(t->kind, pk->pk, pk_id);
	if (!sd_equal(key_id, pk_id, SD_KEY_ID_BYTES)) {
		sd_key_id_hex(key_id, got);
		sd_key_id_hex(pk_id, want);
		return sd_error(SD_ERR_VERIFY, "%s was signed by key %s, not the %s %s", t->what, got, t->signer, want);
	}
	if ((msg = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		return SD_ERR_NOMEM;
	r = sd_sign_verify(t->purpose, pk->pk, (const uint8_t *)msg, strlen(msg), sig);
	free(msg);
	if (r < 0)
		return sd_error(SD_ERR_VERIFY, "%s: the %s key's signature does not verify (altered or forged)",
		                t->what, t->key);
	return 0;
#endif
}

/* Signs msg and checks the signature against the key's public half: a key struct whose
 * halves do not match would sign documents nobody accepts. */
static int sign_checked(const sd_json_signed_t *t, const sd_seckey_t *sk, const char *msg, uint8_t sig[SD_SIGN_BYTES])
{
	sd_pubkey_t pk;
	int r;

	if ((r = sd_sign(t->purpose, sk->sk, (const uint8_t *)msg, strlen(msg), sig)) < 0)
		return r;
	sd_seckey_public(sk, &pk);
	if (sd_sign_verify(t->purpose, pk.pk, (const uint8_t *)msg, strlen(msg), sig) < 0)
		return sd_error(SD_ERR_USAGE, "%s: the %s secret key does not match its public key", t->what, t->key);
	return 0;
}

/* {"key_id", ["key",] "sig"}, in that order. */
static json_t *signature_to_json(const sd_json_signed_t *t, const sd_seckey_t *sk, bool with_key,
                                 const uint8_t sig[SD_SIGN_BYTES])
{
	char key_id[SD_KEY_ID_HEX_BYTES], pk_b64[KEY_B64_BYTES], sig_b64[SIG_B64_BYTES];
	uint8_t id[SD_KEY_ID_BYTES];

	sd_key_id(t->kind, sk->pk, id);
	sd_key_id_hex(id, key_id);
	sd_base64_encode(sig, SD_SIGN_BYTES, sig_b64);
	if (!with_key)
		return json_pack("{s:s, s:s}", "key_id", key_id, "sig", sig_b64);
	sd_base64_encode(sk->pk, SD_KEY_PUBLIC_BYTES, pk_b64);
	return json_pack("{s:s, s:s, s:s}", "key_id", key_id, "key", pk_b64, "sig", sig_b64);
}

/* The whole document, pretty-printed, newline-terminated, within t->max_bytes. */
static int render(const sd_json_signed_t *t, json_t *doc, char **json_out)
{
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	size_t n;
	int r = SD_ERR_NOMEM;

	if (text == NULL)
		return r;
	n = strlen(text);
	if (n + 1 > t->max_bytes) {
		r = sd_error(SD_ERR_TOOBIG, "%s: %zu bytes, more than clients accept", t->what, n + 1);
	} else if ((*json_out = malloc(n + 2)) != NULL) {
		memcpy(*json_out, text, n);
		memcpy(*json_out + n, "\n", 2);
		r = 0;
	}
	free(text);
	return r;
}

int sd_json_signed_sign(const sd_json_signed_t *t, const sd_seckey_t *sk, json_t *doc, bool with_key, char **json_out)
{
	uint8_t sig[SD_SIGN_BYTES];
	char *msg;
	int r;

	*json_out = NULL;
	if ((msg = json_dumps(json_object_get(doc, t->body), JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		return SD_ERR_NOMEM;
	r = sign_checked(t, sk, msg, sig);
	free(msg);
	if (r < 0)
		return r;
	if (json_object_set_new(doc, "signature", signature_to_json(t, sk, with_key, sig)) < 0)
		return SD_ERR_NOMEM;
	return render(t, doc, json_out);
}

int sd_json_member_version(json_t *obj, const char *what, const char *base, uint32_t want)
{
	json_t *v;
	int r;

	if ((r = sd_json_member(obj, what, base, "version", SD_JSON_INTEGER, true, &v)) < 0)
		return r;
	if (json_integer_value(v) != (json_int_t)want)
		return sd_error(SD_ERR_VERSION, "%s: version %lld is not supported (this build reads version %u)", what,
		                (long long)json_integer_value(v), (unsigned)want);
	return 0;
}

int sd_json_signed_sign_body(const sd_json_signed_t *t, const sd_seckey_t *sk, json_t *body, char **json_out)
{
	json_t *doc = json_object();
	int r;

	*json_out = NULL;
	if (doc == NULL || body == NULL || json_object_set_new(doc, t->body, body) < 0) {
		if (doc == NULL)
			json_decref(body);
		json_decref(doc);
		return SD_ERR_NOMEM;
	}
	r = sd_json_signed_sign(t, sk, doc, false, json_out);
	json_decref(doc);
	return r;
}

int sd_json_member_text(json_t *obj, const char *what, const char *base, const char *name, char *out, size_t cap)
{
	char p[SD_JSON_PATH_MAX];
	json_t *v;
	int r;

	if ((r = sd_json_member(obj, what, base, name, SD_JSON_STRING, true, &v)) < 0)
		return r;
	if (json_string_length(v) >= cap || strlen(json_string_value(v)) != json_string_length(v))
		return sd_error(SD_ERR_FORMAT, "%s: %s is longer than %zu bytes", what, sd_json_path(p, base, name),
		                cap - 1);
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

/* --- writing bytes ------------------------------------------------------------------------ */

json_t *sd_json_hex_string(const uint8_t *p, size_t len)
{
	char *hex = malloc(2 * len + 1);
	json_t *v;

	if (hex == NULL)
		return NULL;
	sd_hex_encode(p, len, hex);
	v = json_string(hex);
	free(hex);
	return v;
}

json_t *sd_json_base64_string(const uint8_t *p, size_t len)
{
	char *b64 = malloc(sd_base64_len(len));
	json_t *v;

	if (b64 == NULL)
		return NULL;
	sd_base64_encode(p, len, b64);
	v = json_string(b64);
	free(b64);
	return v;
}

int sd_json_signed_read_log(const sd_json_signed_t *t, const uint8_t *json, size_t len, const sd_pubkey_t *log,
                            int (*fields)(json_t *body, void *out), void *out, uint8_t key_id[SD_KEY_ID_BYTES])
{
	uint8_t sig[SD_SIGN_BYTES];
	json_t *doc = NULL, *body;
	int r;

	if (log == NULL || log->kind != SD_KEY_LOG || (json == NULL && len > 0))
		return sd_error(SD_ERR_USAGE, "%s: the log public key and a document are needed", t->what);
	if ((r = sd_json_signed_load(t, json, len, &doc)) < 0)
		return r;
	if ((r = sd_json_signed_parse(t, doc, &body, key_id, sig)) == 0 &&
	    (r = sd_json_signed_verify(t, body, log, key_id, sig)) == 0)
		r = fields(body, out);
	json_decref(doc);
	return r;
}
