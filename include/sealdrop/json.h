/*
 * json.h — the strict JSON reading and the signed envelope that the directory and the
 * receipt share (docs/FORMAT.md, "Directory" and "Receipt").
 *
 * Every message starts with `what` ("directory", "receipt") and names the field by its
 * dotted path, so the two documents report the same mistake the same way. A signed
 * document is {"<body>": {...}, "signature": {"key_id": hex, "sig": base64, ...}} where
 * the signature is over the compact, key-sorted serialisation of the body.
 */
#ifndef SEALDROP_JSON_H
#define SEALDROP_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "sealdrop/date.h"
#include "sealdrop/error.h"
#include "sealdrop/keys.h"
#include "sealdrop/sign.h"

#define SD_JSON_PATH_MAX   96 /* a field path in a message */
#define SD_JSON_NAME_SHOWN 40 /* bytes of an unknown field's name repeated in a message */

typedef enum { SD_JSON_STRING, SD_JSON_INTEGER, SD_JSON_BOOLEAN, SD_JSON_OBJECT, SD_JSON_ARRAY } sd_json_type_t;

/* "base.name" ("name" when base is ""), cut with "..." when it does not fit. Returns out. */
const char *sd_json_path(char out[SD_JSON_PATH_MAX], const char *base, const char *name);

/* SD_ERR_FORMAT "<what>: unknown field <path>" for a member of obj not in allowed. */
int sd_json_only_fields(json_t *obj, const char *what, const char *base, const char *const allowed[]) SD_WUR;
/* *out = obj[name] of the given type, or NULL when it is absent and not required. */
int sd_json_member(json_t *obj, const char *what, const char *base, const char *name, sd_json_type_t type,
                   bool required, json_t **out) SD_WUR;
/* A required integer member within lo..hi. */
int sd_json_member_int(json_t *obj, const char *what, const char *base, const char *name, json_int_t lo, json_int_t hi,
                       json_int_t *out) SD_WUR;
/* A required integer member "version" equal to want: SD_ERR_VERSION ("<what>: version N is
 * not supported (this build reads version W)") for another integer. */
int sd_json_member_version(json_t *obj, const char *what, const char *base, uint32_t want) SD_WUR;
/* A required string member of at most cap - 1 bytes, no NUL inside, copied into out:
 * SD_ERR_FORMAT "<what>: <base.name> is longer than N bytes". */
int sd_json_member_text(json_t *obj, const char *what, const char *base, const char *name, char *out,
                        size_t cap) SD_WUR;
/* A required string member holding a calendar date YYYY-MM-DD. */
int sd_json_member_date(json_t *obj, const char *what, const char *base, const char *name, sd_date_t *out) SD_WUR;

/* s is exactly digits lower-case hexadecimal digits. */
bool sd_json_is_lower_hex(const char *s, size_t digits);
/* The string v (obj's member name, for the message) as lower-case hex of exactly len bytes. */
int sd_json_hex(const json_t *v, const char *what, const char *base, const char *name, uint8_t *out, size_t len) SD_WUR;
/* A required string member, decoded as sd_json_hex() does. */
int sd_json_member_hex(json_t *obj, const char *what, const char *base, const char *name, uint8_t *out,
                       size_t len) SD_WUR;

/* p as a JSON string: lower-case hex, or standard padded base64. NULL when out of memory. */
json_t *sd_json_hex_string(const uint8_t *p, size_t len);
json_t *sd_json_base64_string(const uint8_t *p, size_t len);

/* How one kind of signed document is read, verified and written. */
typedef struct {
	const char *what;                    /* "directory": the first word of every message */
	const char *body;                    /* "signed": the member the signature covers */
	const char *const *signature_fields; /* the members "signature" may have */
	size_t max_bytes;                    /* the largest document accepted or written */
	sd_purpose_t purpose;
	sd_key_kind_t kind; /* of the signing key */
	const char *signer; /* "pinned root": "signed by key X, not the pinned root Y" */
	const char *key;    /* "root": "the root key's signature does not verify" */
} sd_json_signed_t;

/* Checks the size and the JSON syntax (duplicate members refused); *doc to json_decref. */
int sd_json_signed_load(const sd_json_signed_t *t, const uint8_t *json, size_t len, json_t **doc) SD_WUR;
/* The envelope's syntax: *body (borrowed from doc), the signature's key id and bytes. */
int sd_json_signed_parse(const sd_json_signed_t *t, json_t *doc, json_t **body, uint8_t key_id[SD_KEY_ID_BYTES],
                         uint8_t sig[SD_SIGN_BYTES]) SD_WUR;
/* SD_ERR_VERIFY unless key_id names pk and sig is pk's signature over body. Fuzzing
 * builds accept any signature so the fuzzer reaches the field rules. */
int sd_json_signed_verify(const sd_json_signed_t *t, const json_t *body, const sd_pubkey_t *pk,
                          const uint8_t key_id[SD_KEY_ID_BYTES], const uint8_t sig[SD_SIGN_BYTES]) SD_WUR;
/* The whole read of a document the log key signs (a receipt, a notice, a tree head, an
 * export receipt): the log key checked to be one, the size and syntax, the envelope, the
 * signature, then fields(body, out) for the field rules; key_id gets the signature's key
 * id. SD_ERR_USAGE without a log key or document. */
int sd_json_signed_read_log(const sd_json_signed_t *t, const uint8_t *json, size_t len, const sd_pubkey_t *log,
                            int (*fields)(json_t *body, void *out), void *out, uint8_t key_id[SD_KEY_ID_BYTES]) SD_WUR;

/* Signs doc[t->body] with sk (checking the signature against sk's public half), adds
 * "signature" {"key_id", ["key",] "sig"} to doc and writes the whole document,
 * pretty-printed and newline-terminated, to *json_out (malloc'd). */
int sd_json_signed_sign(const sd_json_signed_t *t, const sd_seckey_t *sk, json_t *doc, bool with_key,
                        char **json_out) SD_WUR;
/* The same for a body alone (taken, also on error; NULL is SD_ERR_NOMEM): the document
 * {t->body: body}, signed by the log key (sk must be a log key), without "signature.key". */
int sd_json_signed_sign_body(const sd_json_signed_t *t, const sd_seckey_t *sk, json_t *body, char **json_out) SD_WUR;

#endif
