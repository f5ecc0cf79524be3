/*
 * consent.c — the whistleblower's signed consent to release their identity, its signed
 * revocation, and the offline .sdc file carrying either (include/sealdrop/consent.h;
 * normative description: docs/FORMAT.md, "Consent").
 *
 * Start at sd_consent_grant(): it checks the package and the codename, finds the grantee
 * key in the verified directory (never anywhere else), unwraps s_w from the header and
 * seals it to the grantee, then signs. Readers go sd_consent_parse() (JSON syntax, the
 * envelope, the field rules of sdc_check_consent()), sd_consent_verify() (against the header
 * the document names) and sd_consent_check() (the server's stateless rules). The signed
 * bytes are always rebuilt from the parsed record (body_msg()): what is verified is
 * exactly what is used. Field helpers come from crypto/json.c; the envelope differs from
 * the receipt's only in naming no key id (the signer is the header's consent key).
 * The Art. 7(2) explanation texts are in crypto/consent_text.c (sd_consent_explain()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <sodium.h>

#include "consent_int.h"
#include "envelope_int.h"
#include "sealdrop/bytes.h"
#include "sealdrop/consent.h"
#include "sealdrop/hash.h"
#include "sealdrop/json.h"
#include "sealdrop/sealdrop.h"
#include "sealdrop/sign.h"

#define CS_KEY_B64_BYTES     45 /* base64 of 32 bytes, with its NUL */
#define CS_SIG_B64_BYTES     89
#define CS_RELEASE_B64_BYTES 109
#define CS_FILE_CONSENT      "sealdrop-consent"
#define CS_FILE_REVOCATION   "sealdrop-revocation"
#define CS_FILE_WHAT         "consent file"

typedef enum { DOC_CONSENT, DOC_REVOCATION } doc_kind_t;

static const struct {
	const char *what; /* the first word of a message, and the body's member name */
	sd_purpose_t purpose;
	sd_json_signed_t load; /* only what and max_bytes: sd_json_signed_load() */
} docs[] = {
        [DOC_CONSENT] = {"consent", SD_PURPOSE_CONSENT, {.what = "consent", .max_bytes = SD_CONSENT_MAX_BYTES}},
        [DOC_REVOCATION] = {"revocation", SD_PURPOSE_REVOKE, {.what = "revocation", .max_bytes = SD_CONSENT_MAX_BYTES}},
};

static const char *const consent_fields[] = {
        "version",      "deployment", "header_digest", "scope", "grantee_key", "grantee_key_id",
        "release_hash", "issued",     "expires",       "nonce", NULL};
static const char *const revocation_fields[] = {"version", "deployment", "header_digest", "consent", "date",
                                                "nonce",   NULL};

/* --- scope ---------------------------------------------------------------------------- */

static int scope_error(int err)
{
	return sd_error(err,
	                "consent: the scope must be \"commission\" or \"agency:ID\" (an agency id of 1 to %d of "
	                "a-z, 0-9 and '-', not starting or ending with '-')",
	                SD_AGENCY_ID_MAX);
}

static int scope_from_text(sd_consent_t *c, const char *text, int err)
{
	c->agency[0] = '\0';
	if (text != NULL && strcmp(text, "commission") == 0) {
		c->scope = SD_CONSENT_COMMISSION;
		return 0;
	}
	if (text != NULL && strncmp(text, "agency:", 7) == 0 && sd_deployment_is_valid(text + 7)) {
		c->scope = SD_CONSENT_AGENCY;
		memcpy(c->agency, text + 7, strlen(text + 7) + 1);
		return 0;
	}
	return scope_error(err);
}

int sd_consent_scope_set(sd_consent_t *c, const char *text)
{
	return scope_from_text(c, text, SD_ERR_USAGE);
}

void sd_consent_scope_text(const sd_consent_t *c, char out[SD_CONSENT_SCOPE_MAX])
{
	if (c->scope == SD_CONSENT_AGENCY)
		snprintf(out, SD_CONSENT_SCOPE_MAX, "agency:%s", c->agency);
	else
		snprintf(out, SD_CONSENT_SCOPE_MAX, "commission");
}

static sd_key_kind_t grantee_kind(const sd_consent_t *c)
{
	return c->scope == SD_CONSENT_AGENCY ? SD_KEY_AGENCY : SD_KEY_IDENTITY;
}

int sd_consent_directory_key(const sd_consent_t *c, const sd_directory_t *d, const sd_pubkey_t **out)
{
	const sd_agency_t *a;

	*out = NULL;
	if (c->scope == SD_CONSENT_COMMISSION) {
		*out = &d->identity;
		return 0;
	}
	if (c->scope != SD_CONSENT_AGENCY || (a = sd_directory_find_agency(d, c->agency)) == NULL)
		return sd_error(SD_ERR_REFUSED, "consent: agency '%s' is not in the directory (version %u)", c->agency,
		                d->version);
	*out = &a->key;
	return 0;
}

/* --- field rules shared by parse and sign --------------------------------------------- */

static int check_common(const char *what, uint32_t version, const char *deployment, int err)
{
	if (version != SD_CONSENT_VERSION)
		return sd_error(err == SD_ERR_FORMAT ? SD_ERR_VERSION : err,
		                "%s: version %u is not supported (this build reads version %d)", what, version,
		                SD_CONSENT_VERSION);
	if (!sd_deployment_is_valid(deployment))
		return sd_error(err,
		                "%s: %s.deployment must be 1 to %d of a-z, 0-9 and '-', not starting or ending with "
		                "'-'",
		                what, what, SD_DEPLOYMENT_MAX);
	return 0;
}

static bool date_is_valid(sd_date_t d)
{
	return sd_date_is_valid(d.y, d.m, d.d);
}

int sdc_check_consent(const sd_consent_t *c, int err)
{
	uint8_t id[SD_KEY_ID_BYTES];
	int64_t days;
	int r;

	if ((r = check_common("consent", c->version, c->deployment, err)) < 0)
		return r;
	if (!(c->scope == SD_CONSENT_COMMISSION && c->agency[0] == '\0') &&
	    !(c->scope == SD_CONSENT_AGENCY && sd_deployment_is_valid(c->agency)))
		return scope_error(err);
	sd_key_id(grantee_kind(c), c->grantee_pk, id);
	if (!sd_equal(id, c->grantee_key_id, sizeof(id)))
		return sd_error(err, "consent: consent.grantee_key_id is not the id of consent.grantee_key as %s key",
		                sd_key_kind_name(grantee_kind(c)));
	if (!date_is_valid(c->issued) || !date_is_valid(c->expires))
		return sd_error(err, "consent: consent.issued and consent.expires must be calendar dates");
	days = sd_date_to_days(c->expires) - sd_date_to_days(c->issued);
	if (days < 1 || days > SD_CONSENT_MAX_DAYS)
		return sd_error(err, "consent: consent.expires must be 1 to %d days after consent.issued, not %lld",
		                SD_CONSENT_MAX_DAYS, (long long)days);
	return 0;
}

int sdc_check_revocation(const sd_revocation_t *rv, int err)
{
	int r;

	if ((r = check_common("revocation", rv->version, rv->deployment, err)) < 0)
		return r;
	if (!date_is_valid(rv->date))
		return sd_error(err, "revocation: revocation.date must be a calendar date");
	return 0;
}

/* --- bodies, the signed bytes and the documents ---------------------------------------- */

static json_t *date_json(sd_date_t d)
{
	char text[SD_DATE_TEXT_BYTES];

	sd_date_format(d, text);
	return json_string(text);
}

/* The "consent" object, members in the documented order. json_object_set_new consumes
 * its value even when it fails, so one flag collects every failure. */
static json_t *consent_body(const sd_consent_t *c)
{
	char scope[SD_CONSENT_SCOPE_MAX];
	json_t *o = json_object();
	int fail = o == NULL;

	sd_consent_scope_text(c, scope);
	fail |= json_object_set_new(o, "version", json_integer(c->version));
	fail |= json_object_set_new(o, "deployment", json_string(c->deployment));
	fail |= json_object_set_new(o, "header_digest", sd_json_hex_string(c->header_digest, SD_HASH_BYTES));
	fail |= json_object_set_new(o, "scope", json_string(scope));
	fail |= json_object_set_new(o, "grantee_key", sd_json_base64_string(c->grantee_pk, SD_KEY_PUBLIC_BYTES));
	fail |= json_object_set_new(o, "grantee_key_id", sd_json_hex_string(c->grantee_key_id, SD_KEY_ID_BYTES));
	fail |= json_object_set_new(o, "release_hash", sd_json_hex_string(c->release_hash, SD_HASH_BYTES));
	fail |= json_object_set_new(o, "issued", date_json(c->issued));
	fail |= json_object_set_new(o, "expires", date_json(c->expires));
	fail |= json_object_set_new(o, "nonce", sd_json_hex_string(c->nonce, SD_CONSENT_NONCE_BYTES));
	if (fail) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *revocation_body(const sd_revocation_t *rv)
{
	json_t *o = json_object();
	int fail = o == NULL;

	fail |= json_object_set_new(o, "version", json_integer(rv->version));
	fail |= json_object_set_new(o, "deployment", json_string(rv->deployment));
	fail |= json_object_set_new(o, "header_digest", sd_json_hex_string(rv->header_digest, SD_HASH_BYTES));
	fail |= json_object_set_new(
	        o, "consent", rv->all ? json_string("all") : sd_json_hex_string(rv->consent_id, SD_CONSENT_ID_BYTES));
	fail |= json_object_set_new(o, "date", date_json(rv->date));
	fail |= json_object_set_new(o, "nonce", sd_json_hex_string(rv->nonce, SD_CONSENT_NONCE_BYTES));
	if (fail) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The signed bytes: the body, compact, members sorted (taken: body is released). */
static int body_msg(json_t *body, char **msg)
{
	*msg = body != NULL ? json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(body);
	return *msg != NULL ? 0 : SD_ERR_NOMEM;
}

/* {what: body, "signature": {"sig": base64}} (body taken). */
static json_t *signed_doc(doc_kind_t k, json_t *body, const uint8_t sig[64])
{
	char b64[CS_SIG_B64_BYTES];
	json_t *doc = json_object();
	int fail = doc == NULL || body == NULL;

	sd_base64_encode(sig, 64, b64);
	if (doc != NULL) {
		fail |= json_object_set_new(doc, docs[k].what, body);
		fail |= json_object_set_new(doc, "signature", json_pack("{s:s}", "sig", b64));
	} else {
		json_decref(body);
	}
	if (fail) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

/* Pretty-printed (JSON_INDENT(2), insertion order), newline-terminated, within max. */
static int render(json_t *doc, const char *what, size_t max, char **out)
{
	char *text = doc != NULL ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	size_t n;
	int r = SD_ERR_NOMEM;

	json_decref(doc);
	if (text == NULL)
		return r;
	n = strlen(text);
	if (n + 1 > max)
		r = sd_error(SD_ERR_TOOBIG, "%s: %zu bytes, more than %zu", what, n + 1, max);
	else if ((*out = malloc(n + 2)) != NULL) {
		memcpy(*out, text, n);
		memcpy(*out + n, "\n", 2);
		r = 0;
	}
	free(text);
	return r;
}

static int sign_msg(sd_purpose_t p, const uint8_t sk[64], json_t *body, uint8_t sig[64])
{
	char *msg;
	int r;

	if ((r = body_msg(body, &msg)) < 0)
		return r;
	/* libsodium's secret key ends with its public half: a mismatched key is caught here */
	if ((r = sd_sign(p, sk, (const uint8_t *)msg, strlen(msg), sig)) == 0 &&
	    sd_sign_verify(p, sk + 32, (const uint8_t *)msg, strlen(msg), sig) != 0)
		r = sd_error(SD_ERR_USAGE, "the consent secret key does not match its public half");
	free(msg);
	return r;
}

static int verify_msg(doc_kind_t k, const uint8_t pk[32], json_t *body, const uint8_t sig[64])
{
	char *msg;
	int r;

	if ((r = body_msg(body, &msg)) < 0)
		return r;
	r = sd_sign_verify(docs[k].purpose, pk, (const uint8_t *)msg, strlen(msg), sig);
	free(msg);
	if (r < 0)
		return sd_error(SD_ERR_VERIFY,
		                "%s: the signature does not verify with the package's consent key (made with another "
		                "codename, or altered)",
		                docs[k].what);
	return 0;
}

static int id_of(json_t *body, uint8_t id[SD_CONSENT_ID_BYTES])
{
	char *msg;
	int r;

	memset(id, 0, SD_CONSENT_ID_BYTES);
	if ((r = body_msg(body, &msg)) < 0)
		return r;
	sd_hash((const uint8_t *)msg, strlen(msg), id);
	free(msg);
	return 0;
}

int sd_consent_sign(sd_consent_t *c, const uint8_t consent_sk[64], char **json_out)
{
	int r;

	*json_out = NULL;
	if (c == NULL || consent_sk == NULL)
		return sd_error(SD_ERR_USAGE, "consent: signing needs a record and the consent secret key");
	if ((r = sdc_check_consent(c, SD_ERR_INVALID)) < 0 ||
	    (r = sign_msg(SD_PURPOSE_CONSENT, consent_sk, consent_body(c), c->sig)) < 0)
		return r;
	return sd_consent_format(c, json_out);
}

int sd_consent_format(const sd_consent_t *c, char **json_out)
{
	int r;

	*json_out = NULL;
	if ((r = sdc_check_consent(c, SD_ERR_INVALID)) < 0)
		return r;
	return render(signed_doc(DOC_CONSENT, consent_body(c), c->sig), "consent", SD_CONSENT_MAX_BYTES, json_out);
}

int sd_consent_id(const sd_consent_t *c, uint8_t id[SD_CONSENT_ID_BYTES])
{
	int r;

	memset(id, 0, SD_CONSENT_ID_BYTES);
	if ((r = sdc_check_consent(c, SD_ERR_INVALID)) < 0)
		return r;
	return id_of(consent_body(c), id);
}

int sd_revocation_sign(sd_revocation_t *rv, const uint8_t consent_sk[64], char **json_out)
{
	int r;

	*json_out = NULL;
	if (rv == NULL || consent_sk == NULL)
		return sd_error(SD_ERR_USAGE, "revocation: signing needs a record and the consent secret key");
	if ((r = sdc_check_revocation(rv, SD_ERR_INVALID)) < 0 ||
	    (r = sign_msg(SD_PURPOSE_REVOKE, consent_sk, revocation_body(rv), rv->sig)) < 0)
		return r;
	return sd_revocation_format(rv, json_out);
}

int sd_revocation_format(const sd_revocation_t *rv, char **json_out)
{
	int r;

	*json_out = NULL;
	if ((r = sdc_check_revocation(rv, SD_ERR_INVALID)) < 0)
		return r;
	return render(signed_doc(DOC_REVOCATION, revocation_body(rv), rv->sig), "revocation", SD_CONSENT_MAX_BYTES,
	              json_out);
}

int sd_revocation_id(const sd_revocation_t *rv, uint8_t id[SD_CONSENT_ID_BYTES])
{
	int r;

	memset(id, 0, SD_CONSENT_ID_BYTES);
	if ((r = sdc_check_revocation(rv, SD_ERR_INVALID)) < 0)
		return r;
	return id_of(revocation_body(rv), id);
}

/* --- parsing ---------------------------------------------------------------------------- */

/* {what: {...}, "signature": {"sig"}}: *body borrowed from doc. */
static int parse_envelope(doc_kind_t k, json_t *doc, json_t **body, uint8_t sig[64])
{
	static const char *const sig_fields[] = {"sig", NULL};
	const char *what = docs[k].what;
	const char *const top[] = {what, "signature", NULL};
	json_t *s, *v;
	int r;

	if (!json_is_object(doc))
		return sd_error(SD_ERR_FORMAT, "%s: the document must be a JSON object", what);
	if ((r = sd_json_only_fields(doc, what, "", top)) < 0 ||
	    (r = sd_json_member(doc, what, "", what, SD_JSON_OBJECT, true, body)) < 0 ||
	    (r = sd_json_member(doc, what, "", "signature", SD_JSON_OBJECT, true, &s)) < 0 ||
	    (r = sd_json_only_fields(s, what, "signature", sig_fields)) < 0 ||
	    (r = sd_json_member(s, what, "signature", "sig", SD_JSON_STRING, true, &v)) < 0)
		return r;
	if (sd_base64_decode_exact(json_string_value(v), sig, 64) < 0)
		return sd_error(SD_ERR_FORMAT, "%s: signature.sig must be the base64 of 64 bytes", what);
	return 0;
}

static int parse_b64(json_t *o, const char *what, const char *base, const char *name, uint8_t *out, size_t len)
{
	char p[SD_JSON_PATH_MAX];
	json_t *v;
	int r;

	if ((r = sd_json_member(o, what, base, name, SD_JSON_STRING, true, &v)) < 0)
		return r;
	if (sd_base64_decode_exact(json_string_value(v), out, len) < 0)
		return sd_error(SD_ERR_FORMAT, "%s: %s must be the base64 of %zu bytes", what,
		                sd_json_path(p, base, name), len);
	return 0;
}

static int parse_consent_body(json_t *o, sd_consent_t *c)
{
	char scope[SD_CONSENT_SCOPE_MAX];
	int r;

	if ((r = sd_json_only_fields(o, "consent", "consent", consent_fields)) < 0 ||
	    (r = sd_json_member_version(o, "consent", "consent", SD_CONSENT_VERSION)) < 0 ||
	    (r = sd_json_member_text(o, "consent", "consent", "deployment", c->deployment, sizeof(c->deployment))) <
	            0 ||
	    (r = sd_json_member_hex(o, "consent", "consent", "header_digest", c->header_digest, SD_HASH_BYTES)) < 0 ||
	    (r = sd_json_member_text(o, "consent", "consent", "scope", scope, sizeof(scope))) < 0 ||
	    (r = scope_from_text(c, scope, SD_ERR_FORMAT)) < 0 ||
	    (r = parse_b64(o, "consent", "consent", "grantee_key", c->grantee_pk, SD_KEY_PUBLIC_BYTES)) < 0 ||
	    (r = sd_json_member_hex(o, "consent", "consent", "grantee_key_id", c->grantee_key_id, SD_KEY_ID_BYTES)) <
	            0 ||
	    (r = sd_json_member_hex(o, "consent", "consent", "release_hash", c->release_hash, SD_HASH_BYTES)) < 0 ||
	    (r = sd_json_member_date(o, "consent", "consent", "issued", &c->issued)) < 0 ||
	    (r = sd_json_member_date(o, "consent", "consent", "expires", &c->expires)) < 0 ||
	    (r = sd_json_member_hex(o, "consent", "consent", "nonce", c->nonce, SD_CONSENT_NONCE_BYTES)) < 0)
		return r;
	c->version = SD_CONSENT_VERSION;
	return sdc_check_consent(c, SD_ERR_FORMAT);
}

static int parse_revocation_consent(json_t *o, sd_revocation_t *rv)
{
	json_t *v;
	int r;

	if ((r = sd_json_member(o, "revocation", "revocation", "consent", SD_JSON_STRING, true, &v)) < 0)
		return r;
	rv->all = strcmp(json_string_value(v), "all") == 0;
	if (rv->all)
		return 0;
	if (sd_json_hex(v, "revocation", "revocation", "consent", rv->consent_id, SD_CONSENT_ID_BYTES) < 0)
		return sd_error(SD_ERR_FORMAT,
		                "revocation: revocation.consent must be \"all\" or a consent id (64 lower-case "
		                "hexadecimal digits)");
	return 0;
}

static int parse_revocation_body(json_t *o, sd_revocation_t *rv)
{
	int r;

	if ((r = sd_json_only_fields(o, "revocation", "revocation", revocation_fields)) < 0 ||
	    (r = sd_json_member_version(o, "revocation", "revocation", SD_CONSENT_VERSION)) < 0 ||
	    (r = sd_json_member_text(o, "revocation", "revocation", "deployment", rv->deployment,
	                             sizeof(rv->deployment))) < 0 ||
	    (r = sd_json_member_hex(o, "revocation", "revocation", "header_digest", rv->header_digest, SD_HASH_BYTES)) <
	            0 ||
	    (r = parse_revocation_consent(o, rv)) < 0 ||
	    (r = sd_json_member_date(o, "revocation", "revocation", "date", &rv->date)) < 0 ||
	    (r = sd_json_member_hex(o, "revocation", "revocation", "nonce", rv->nonce, SD_CONSENT_NONCE_BYTES)) < 0)
		return r;
	rv->version = SD_CONSENT_VERSION;
	return sdc_check_revocation(rv, SD_ERR_FORMAT);
}

static int parse_consent_doc(json_t *doc, sd_consent_t *out)
{
	json_t *body;
	int r;

	if ((r = parse_envelope(DOC_CONSENT, doc, &body, out->sig)) < 0 || (r = parse_consent_body(body, out)) < 0)
		memset(out, 0, sizeof(*out));
	return r;
}

static int parse_revocation_doc(json_t *doc, sd_revocation_t *out)
{
	json_t *body;
	int r;

	if ((r = parse_envelope(DOC_REVOCATION, doc, &body, out->sig)) < 0 ||
	    (r = parse_revocation_body(body, out)) < 0)
		memset(out, 0, sizeof(*out));
	return r;
}

int sd_consent_parse(const uint8_t *json, size_t len, sd_consent_t *out)
{
	json_t *doc = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	if (json == NULL && len > 0)
		return sd_error(SD_ERR_USAGE, "consent: no document");
	if ((r = sd_json_signed_load(&docs[DOC_CONSENT].load, json, len, &doc)) < 0)
		return r;
	r = parse_consent_doc(doc, out);
	json_decref(doc);
	return r;
}

int sd_revocation_parse(const uint8_t *json, size_t len, sd_revocation_t *out)
{
	json_t *doc = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	if (json == NULL && len > 0)
		return sd_error(SD_ERR_USAGE, "revocation: no document");
	if ((r = sd_json_signed_load(&docs[DOC_REVOCATION].load, json, len, &doc)) < 0)
		return r;
	r = parse_revocation_doc(doc, out);
	json_decref(doc);
	return r;
}

/* --- verification against the header, and the server's rules --------------------------- */

static int check_package(const char *what, const uint8_t digest[SD_HASH_BYTES], const char *deployment,
                         const sd_header_t *h)
{
	char want[17], have[17];

	if (!sd_equal(digest, h->digest, SD_HASH_BYTES)) {
		sd_hex_encode(digest, 8, have);
		sd_hex_encode(h->digest, 8, want);
		return sd_error(SD_ERR_VERIFY,
		                "%s: made for another package (header digest %s..., this package is %s...)", what, have,
		                want);
	}
	if (strcmp(deployment, h->deployment) != 0)
		return sd_error(SD_ERR_DEPLOYMENT, "%s: made for deployment '%s', the package is '%s''s", what,
		                deployment, h->deployment);
	return 0;
}

int sd_consent_verify(const sd_consent_t *c, const sd_header_t *h)
{
	int r;

	if (c == NULL || h == NULL)
		return sd_error(SD_ERR_USAGE, "consent: verifying needs a consent and a package header");
	if ((r = sdc_check_consent(c, SD_ERR_INVALID)) < 0 ||
	    (r = check_package("consent", c->header_digest, c->deployment, h)) < 0)
		return r;
	return verify_msg(DOC_CONSENT, h->consent_pk, consent_body(c), c->sig);
}

int sd_revocation_verify(const sd_revocation_t *rv, const sd_header_t *h)
{
	int r;

	if (rv == NULL || h == NULL)
		return sd_error(SD_ERR_USAGE, "revocation: verifying needs a revocation and a package header");
	if ((r = sdc_check_revocation(rv, SD_ERR_INVALID)) < 0 ||
	    (r = check_package("revocation", rv->header_digest, rv->deployment, h)) < 0)
		return r;
	return verify_msg(DOC_REVOCATION, h->consent_pk, revocation_body(rv), rv->sig);
}

bool sd_consent_is_live(const sd_consent_t *c, sd_date_t today)
{
	return sd_date_cmp(c->issued, today) <= 0 && sd_date_cmp(today, c->expires) <= 0;
}

static int check_grantee(const sd_consent_t *c, const sd_directory_t *d)
{
	char scope[SD_CONSENT_SCOPE_MAX], got[SD_KEY_ID_HEX_BYTES], want[SD_KEY_ID_HEX_BYTES];
	const sd_pubkey_t *key;
	int r;

	if ((r = sd_consent_directory_key(c, d, &key)) < 0)
		return r;
	if (!sd_equal(key->pk, c->grantee_pk, SD_KEY_PUBLIC_BYTES)) {
		sd_consent_scope_text(c, scope);
		sd_key_id_hex(c->grantee_key_id, got);
		sd_key_id_hex(key->id, want);
		return sd_error(SD_ERR_WRONG_KEY,
		                "consent: the grantee key %s is not the directory's key %s for scope %s", got, want,
		                scope);
	}
	return 0;
}

static int check_release(const sd_consent_t *c, const uint8_t *release, size_t len)
{
	uint8_t h[SD_HASH_BYTES];

	if (release == NULL || len != SD_CONSENT_RELEASE_BYTES)
		return sd_error(SD_ERR_VERIFY, "consent: the release is %zu bytes, not %d", release ? len : 0,
		                SD_CONSENT_RELEASE_BYTES);
	sd_hash(release, len, h);
	if (!sd_equal(h, c->release_hash, SD_HASH_BYTES))
		return sd_error(SD_ERR_VERIFY, "consent: the release does not hash to consent.release_hash (altered "
		                               "or swapped)");
	return 0;
}

int sd_consent_check(const sd_consent_t *c, const sd_directory_t *d, const uint8_t *release, size_t release_len,
                     sd_date_t today)
{
	char a[SD_DATE_TEXT_BYTES], b[SD_DATE_TEXT_BYTES];
	int r;

	if (c == NULL || d == NULL)
		return sd_error(SD_ERR_USAGE, "consent: checking needs a consent and the directory");
	if ((r = sdc_check_consent(c, SD_ERR_INVALID)) < 0)
		return r;
	if (strcmp(c->deployment, d->deployment) != 0)
		return sd_error(SD_ERR_DEPLOYMENT, "consent: made for deployment '%s', not '%s'", c->deployment,
		                d->deployment);
	if ((r = check_grantee(c, d)) < 0 || (r = check_release(c, release, release_len)) < 0)
		return r;
	sd_date_format(today, b);
	if (sd_date_cmp(c->issued, today) > 0) {
		sd_date_format(c->issued, a);
		return sd_error(SD_ERR_INVALID, "consent: issued %s, after today (%s)", a, b);
	}
	if (sd_date_cmp(today, c->expires) > 0) {
		sd_date_format(c->expires, a);
		return sd_error(SD_ERR_EXPIRED, "consent: expired after %s (today is %s)", a, b);
	}
	return 0;
}

int sd_revocation_check(const sd_revocation_t *rv, const sd_directory_t *d, sd_date_t today)
{
	char a[SD_DATE_TEXT_BYTES], b[SD_DATE_TEXT_BYTES];
	int r;

	if (rv == NULL || d == NULL)
		return sd_error(SD_ERR_USAGE, "revocation: checking needs a revocation and the directory");
	if ((r = sdc_check_revocation(rv, SD_ERR_INVALID)) < 0)
		return r;
	if (strcmp(rv->deployment, d->deployment) != 0)
		return sd_error(SD_ERR_DEPLOYMENT, "revocation: made for deployment '%s', not '%s'", rv->deployment,
		                d->deployment);
	if (sd_date_cmp(rv->date, today) > 0) {
		sd_date_format(rv->date, a);
		sd_date_format(today, b);
		return sd_error(SD_ERR_INVALID, "revocation: dated %s, after today (%s)", a, b);
	}
	return 0;
}

/* --- the share and the release ---------------------------------------------------------- */

static int check_sealer(const sd_header_t *h, const sd_codename_keys_t *wb)
{
	if (!sd_equal(wb->consent_pk, h->consent_pk, 32))
		return sd_error(SD_ERR_WRONG_KEY, "this codename did not seal this package (its consent key differs)");
	return 0;
}

int sd_consent_unwrap_share(const sd_header_t *h, const sd_codename_keys_t *wb, uint8_t s_w[SD_CONSENT_SHARE_BYTES])
{
	unsigned long long n = 0;
	size_t ad_len;
	int r;

	if (h == NULL || wb == NULL || s_w == NULL)
		return sd_error(SD_ERR_USAGE, "unwrapping the share needs a header and the codename's keys");
	memset(s_w, 0, SD_CONSENT_SHARE_BYTES);
	if ((r = check_sealer(h, wb)) < 0)
		return r;
	/* as crypto/envelope_seal.c wraps it: AD = every preamble byte before the field */
	ad_len = sdx_share_ad_len(h);
	if (h->raw == NULL || ad_len + SD_WRAPPED_SHARE_BYTES > h->raw_len)
		return sd_error(SD_ERR_USAGE, "unwrapping the share needs the header's raw bytes");
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(s_w, &n, NULL, h->wrapped_sw + SDX_AEAD_NONCE,
	                                               SD_WRAPPED_SHARE_BYTES - SDX_AEAD_NONCE, h->raw, ad_len,
	                                               h->wrapped_sw, wb->share_wrap) != 0 ||
	    n != SD_CONSENT_SHARE_BYTES) {
		sodium_memzero(s_w, SD_CONSENT_SHARE_BYTES);
		return sd_error(SD_ERR_VERIFY, "the package's wrapped share does not open with this codename");
	}
	return 0;
}

int sd_consent_release_open(const sd_consent_t *c, const uint8_t *release, size_t len, const sd_seckey_t *grantee,
                            uint8_t s_w[SD_CONSENT_SHARE_BYTES])
{
	int r;

	if (c == NULL || grantee == NULL || grantee->sk == NULL || s_w == NULL)
		return sd_error(SD_ERR_USAGE, "opening a release needs the consent and the grantee's secret key");
	memset(s_w, 0, SD_CONSENT_SHARE_BYTES);
	if (grantee->kind != grantee_kind(c) || !sd_equal(grantee->pk, c->grantee_pk, SD_KEY_PUBLIC_BYTES))
		return sd_error(SD_ERR_WRONG_KEY, "consent: the release is sealed to another key than this %s key",
		                sd_key_kind_name(grantee->kind));
	if ((r = check_release(c, release, len)) < 0)
		return r;
	if (crypto_box_seal_open(s_w, release, len, grantee->pk, grantee->sk) != 0) {
		sodium_memzero(s_w, SD_CONSENT_SHARE_BYTES);
		return sd_error(SD_ERR_VERIFY, "consent: the release does not open with the grantee key");
	}
	return 0;
}

/* --- making a consent and a revocation -------------------------------------------------- */

int sd_consent_prepare(const sd_consent_params_t *p, sd_consent_t *c)
{
	const sd_pubkey_t *key;
	uint32_t days;
	int r;

	memset(c, 0, sizeof(*c));
	if (p == NULL || p->wb == NULL || p->h == NULL || p->dir == NULL)
		return sd_error(SD_ERR_USAGE, "consent: granting needs the codename, the package and the directory");
	days = p->days == 0 ? SD_CONSENT_DEFAULT_DAYS : p->days;
	if (days > SD_CONSENT_MAX_DAYS)
		return sd_error(SD_ERR_USAGE, "consent: a consent lasts 1 to %d days, not %u", SD_CONSENT_MAX_DAYS,
		                days);
	if ((r = sd_header_check_deployment(p->h, p->dir)) < 0 || (r = check_sealer(p->h, p->wb)) < 0 ||
	    (r = sd_consent_scope_set(c, p->scope)) < 0 || (r = sd_consent_directory_key(c, p->dir, &key)) < 0)
		return r;
	c->version = SD_CONSENT_VERSION;
	memcpy(c->deployment, p->h->deployment, strlen(p->h->deployment) + 1);
	memcpy(c->header_digest, p->h->digest, SD_HASH_BYTES);
	memcpy(c->grantee_pk, key->pk, SD_KEY_PUBLIC_BYTES);
	sd_key_id(grantee_kind(c), key->pk, c->grantee_key_id);
	c->issued = p->issued;
	c->expires = sd_date_add_days(p->issued, days);
	return 0;
}

int sd_consent_grant(const sd_consent_params_t *p, sd_consent_t *out, char **json_out,
                     uint8_t release[SD_CONSENT_RELEASE_BYTES])
{
	uint8_t *s_w = NULL;
	sd_consent_t c;
	int r;

	*json_out = NULL;
	if (release == NULL)
		return sd_error(SD_ERR_USAGE, "consent: granting needs a buffer for the release");
	memset(release, 0, SD_CONSENT_RELEASE_BYTES);
	if ((r = sd_consent_prepare(p, &c)) < 0)
		goto out;
	if ((s_w = sd_secret_alloc(SD_CONSENT_SHARE_BYTES)) == NULL) {
		r = SD_ERR_NOMEM;
		goto out;
	}
	if ((r = sd_consent_unwrap_share(p->h, p->wb, s_w)) < 0)
		goto out;
	if (crypto_box_seal(release, s_w, SD_CONSENT_SHARE_BYTES, c.grantee_pk) != 0) {
		r = sd_error(SD_ERR_INVALID,
		             "consent: the grantee key is a low-order point: nothing can be sealed to it");
		goto out;
	}
	sd_hash(release, SD_CONSENT_RELEASE_BYTES, c.release_hash);
	randombytes_buf(c.nonce, sizeof(c.nonce));
	if ((r = sd_consent_sign(&c, p->wb->consent_sk, json_out)) < 0)
		goto out;
	if (out != NULL)
		*out = c;
out:
	sd_secret_free(s_w);
	if (r < 0)
		sodium_memzero(release, SD_CONSENT_RELEASE_BYTES);
	return r;
}

int sd_revocation_make(const sd_codename_keys_t *wb, const sd_header_t *h, const uint8_t *consent_id, sd_date_t date,
                       sd_revocation_t *out, char **json_out)
{
	sd_revocation_t rv;
	int r;

	*json_out = NULL;
	if (wb == NULL || h == NULL)
		return sd_error(SD_ERR_USAGE, "revocation: needs the codename and the package");
	if ((r = check_sealer(h, wb)) < 0)
		return r;
	memset(&rv, 0, sizeof(rv));
	rv.version = SD_CONSENT_VERSION;
	memcpy(rv.deployment, h->deployment, strlen(h->deployment) + 1);
	memcpy(rv.header_digest, h->digest, SD_HASH_BYTES);
	rv.all = consent_id == NULL;
	if (consent_id != NULL)
		memcpy(rv.consent_id, consent_id, SD_CONSENT_ID_BYTES);
	rv.date = date;
	randombytes_buf(rv.nonce, sizeof(rv.nonce));
	if ((r = sd_revocation_sign(&rv, wb->consent_sk, json_out)) == 0 && out != NULL)
		*out = rv;
	return r;
}

/* --- the offline file ------------------------------------------------------------------- */

static int file_render(const char *type, const char *member, json_t *inner, json_t *release, char **out)
{
	json_t *doc = json_object();
	int fail = doc == NULL || inner == NULL;

	if (doc == NULL) {
		json_decref(inner);
		json_decref(release);
		return SD_ERR_NOMEM;
	}
	fail |= json_object_set_new(doc, "type", json_string(type));
	fail |= json_object_set_new(doc, "version", json_integer(SD_CONSENT_VERSION));
	fail |= json_object_set_new(doc, member, inner);
	if (release != NULL)
		fail |= json_object_set_new(doc, "release", release);
	if (fail) {
		json_decref(doc);
		return SD_ERR_NOMEM;
	}
	return render(doc, CS_FILE_WHAT, SD_CONSENT_FILE_MAX_BYTES, out);
}

int sd_consent_file_encode(const sd_consent_t *c, const uint8_t release[SD_CONSENT_RELEASE_BYTES], char **out)
{
	int r;

	*out = NULL;
	if (c == NULL || release == NULL)
		return sd_error(SD_ERR_USAGE, "%s: needs a signed consent and its release", CS_FILE_WHAT);
	if ((r = sdc_check_consent(c, SD_ERR_INVALID)) < 0 ||
	    (r = check_release(c, release, SD_CONSENT_RELEASE_BYTES)) < 0)
		return r;
	return file_render(CS_FILE_CONSENT, "consent", signed_doc(DOC_CONSENT, consent_body(c), c->sig),
	                   sd_json_base64_string(release, SD_CONSENT_RELEASE_BYTES), out);
}

int sd_revocation_file_encode(const sd_revocation_t *rv, char **out)
{
	int r;

	*out = NULL;
	if (rv == NULL)
		return sd_error(SD_ERR_USAGE, "%s: needs a signed revocation", CS_FILE_WHAT);
	if ((r = sdc_check_revocation(rv, SD_ERR_INVALID)) < 0)
		return r;
	return file_render(CS_FILE_REVOCATION, "revocation", signed_doc(DOC_REVOCATION, revocation_body(rv), rv->sig),
	                   NULL, out);
}

static int file_type(json_t *doc, sd_consent_file_kind_t *kind)
{
	json_t *v;
	int r;

	if (!json_is_object(doc))
		return sd_error(SD_ERR_FORMAT, "%s: the file must be a JSON object", CS_FILE_WHAT);
	if ((r = sd_json_member(doc, CS_FILE_WHAT, "", "type", SD_JSON_STRING, true, &v)) < 0)
		return r;
	if (strcmp(json_string_value(v), CS_FILE_CONSENT) == 0)
		*kind = SD_CONSENT_FILE_CONSENT;
	else if (strcmp(json_string_value(v), CS_FILE_REVOCATION) == 0)
		*kind = SD_CONSENT_FILE_REVOCATION;
	else
		return sd_error(SD_ERR_FORMAT,
		                CS_FILE_WHAT ": type must be \"" CS_FILE_CONSENT "\" or \"" CS_FILE_REVOCATION "\"");
	return sd_json_member_version(doc, CS_FILE_WHAT, "", SD_CONSENT_VERSION);
}

static int file_fields(json_t *doc, sd_consent_file_t *f)
{
	static const char *const consent_top[] = {"type", "version", "consent", "release", NULL};
	static const char *const revocation_top[] = {"type", "version", "revocation", NULL};
	json_t *inner;
	int r;

	if ((r = file_type(doc, &f->kind)) < 0)
		return r;
	if (f->kind == SD_CONSENT_FILE_REVOCATION) {
		if ((r = sd_json_only_fields(doc, CS_FILE_WHAT, "", revocation_top)) < 0 ||
		    (r = sd_json_member(doc, CS_FILE_WHAT, "", "revocation", SD_JSON_OBJECT, true, &inner)) < 0)
			return r;
		return parse_revocation_doc(inner, &f->revocation);
	}
	if ((r = sd_json_only_fields(doc, CS_FILE_WHAT, "", consent_top)) < 0 ||
	    (r = sd_json_member(doc, CS_FILE_WHAT, "", "consent", SD_JSON_OBJECT, true, &inner)) < 0 ||
	    (r = parse_b64(doc, CS_FILE_WHAT, "", "release", f->release, SD_CONSENT_RELEASE_BYTES)) < 0 ||
	    (r = parse_consent_doc(inner, &f->consent)) < 0)
		return r;
	/* The release's hash is sd_consent_check's to judge, so that a server records an
	 * altered release as a refused consent rather than a malformed request. */
	return 0;
}

int sd_consent_file_parse(const uint8_t *buf, size_t len, sd_consent_file_t *out)
{
	static const sd_json_signed_t load = {.what = CS_FILE_WHAT, .max_bytes = SD_CONSENT_FILE_MAX_BYTES};
	json_t *doc = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	if (buf == NULL && len > 0)
		return sd_error(SD_ERR_USAGE, "%s: no file", CS_FILE_WHAT);
	if ((r = sd_json_signed_load(&load, buf, len, &doc)) < 0)
		return r;
	if ((r = file_fields(doc, out)) < 0)
		memset(out, 0, sizeof(*out));
	json_decref(doc);
	return r;
}
