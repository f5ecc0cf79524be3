/*
 * receipt.c — the filing receipt the server signs with its log key when it creates a
 * case, and that anyone holding the directory can check offline.
 *
 * Start at sd_receipt_parse(): JSON syntax and the envelope first, then the log key's
 * signature over the compact, key-sorted serialisation of "receipt", and only then the
 * field rules (check_struct(), shared with sd_receipt_sign() so the server can never
 * sign a receipt clients refuse). It mirrors crypto/directory.c, which signs the
 * directory the same way, through crypto/json.c's strict JSON helpers and signed envelope.
 * Normative description: docs/FORMAT.md, "Receipt".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <sodium.h>

#include "sealdrop/bytes.h"
#include "sealdrop/json.h"
#include "sealdrop/receipt.h"
#include "sealdrop/sign.h"

#define RC_DUE_MIN_DAYS 60 /* Art. 8(1): the decision period */
#define RC_DUE_MAX_DAYS 120
#define RC_LEAF_MAX     (((json_int_t)1 << 53) - 1) /* exact in every JSON implementation */
#define RC_YEAR_MIN     2000
#define RC_YEAR_MAX     9999
#define RC_SEQ_MAX      999999u
#define RC_DIGEST_HEX   64        /* hex digits of a header digest */
#define WHAT            "receipt" /* the first word of a message */

static const char *const signature_fields[] = {"key_id", "sig", NULL};
static const char *const receipt_fields[] = {"version",    "deployment",           "case",     "header_digest",
                                             "received",   "decision_due",         "attorney", "log_key_id",
                                             "leaf_index", "attorney_certificate", NULL};

static const sd_json_signed_t rc_signed = {
        .what = WHAT,
        .body = "receipt",
        .signature_fields = signature_fields,
        .max_bytes = SD_RECEIPT_MAX_BYTES,
        .purpose = SD_PURPOSE_RECEIPT,
        .kind = SD_KEY_LOG,
        .signer = "log key",
        .key = "log",
};

/* --- case numbers -------------------------------------------------------------------- */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

bool sd_case_number_is_valid(const char *s)
{
	int year = 0;
	bool nonzero = false;

	if (s == NULL || strnlen(s, SD_CASE_NUMBER_BYTES) != SD_CASE_NUMBER_BYTES - 1 || s[4] != '-')
		return false;
	for (int i = 0; i < 4; i++) {
		if (!is_digit(s[i]))
			return false;
		year = year * 10 + (s[i] - '0');
	}
	for (int i = 5; i < SD_CASE_NUMBER_BYTES - 1; i++) {
		if (!is_digit(s[i]))
			return false;
		nonzero |= s[i] != '0';
	}
	return year >= RC_YEAR_MIN && year <= RC_YEAR_MAX && nonzero;
}

int sd_case_number_format(int year, uint32_t seq, char out[SD_CASE_NUMBER_BYTES])
{
	out[0] = '\0';
	if (year < RC_YEAR_MIN || year > RC_YEAR_MAX)
		return sd_error(SD_ERR_USAGE, "case number: year %d is outside %d-%d", year, RC_YEAR_MIN, RC_YEAR_MAX);
	if (seq == 0)
		return sd_error(SD_ERR_USAGE, "case number: sequence numbers start at 1");
	if (seq > RC_SEQ_MAX)
		return sd_error(SD_ERR_TOOBIG, "case number: more than %u cases in %d", RC_SEQ_MAX, year);
	snprintf(out, SD_CASE_NUMBER_BYTES, "%04d-%06u", year, seq);
	return 0;
}

/* --- field rules shared by parse and sign -------------------------------------------- */

/* 1..SD_RECEIPT_NAME_MAX bytes of UTF-8 without C0, DEL or C1 control characters. */
static bool attorney_is_valid(const char *s)
{
	size_t n = strnlen(s, SD_RECEIPT_NAME_MAX + 1), i = 0;
	uint32_t cp;

	if (n == 0 || n > SD_RECEIPT_NAME_MAX)
		return false;
	while (i < n) {
		if (!sd_utf8_decode(s, n, &i, &cp) || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return false;
	}
	return true;
}

static int check_dates(const sd_receipt_t *rc, int err)
{
	int64_t days;

	if (!sd_date_is_valid(rc->received.y, rc->received.m, rc->received.d) ||
	    !sd_date_is_valid(rc->decision_due.y, rc->decision_due.m, rc->decision_due.d))
		return sd_error(err, "receipt: receipt.received and receipt.decision_due must be calendar dates");
	days = sd_date_to_days(rc->decision_due) - sd_date_to_days(rc->received);
	if (days < RC_DUE_MIN_DAYS || days > RC_DUE_MAX_DAYS)
		return sd_error(err,
		                "receipt: receipt.decision_due must be %d to %d days after receipt.received, not "
		                "%lld",
		                RC_DUE_MIN_DAYS, RC_DUE_MAX_DAYS, (long long)days);
	return 0;
}

static int check_struct(const sd_receipt_t *rc, int err)
{
	int r;

	if (rc->version != SD_RECEIPT_VERSION)
		return sd_error(err == SD_ERR_FORMAT ? SD_ERR_VERSION : err,
		                "receipt: version %u is not supported (this build reads version %d)", rc->version,
		                SD_RECEIPT_VERSION);
	if (!sd_deployment_is_valid(rc->deployment))
		return sd_error(err,
		                "receipt: receipt.deployment must be 1 to %d of a-z, 0-9 and '-', not starting "
		                "or ending with '-'",
		                SD_DEPLOYMENT_MAX);
	if (!sd_case_number_is_valid(rc->case_number))
		return sd_error(err,
		                "receipt: receipt.case must be YYYY-NNNNNN (a year %d-%d and six digits, not all "
		                "zero)",
		                RC_YEAR_MIN, RC_YEAR_MAX);
	if ((r = check_dates(rc, err)) < 0)
		return r;
	if (!attorney_is_valid(rc->attorney))
		return sd_error(err,
		                "receipt: receipt.attorney must be 1 to %d bytes of UTF-8 without control "
		                "characters",
		                SD_RECEIPT_NAME_MAX);
	if (rc->has_leaf && rc->leaf_index > (uint64_t)RC_LEAF_MAX)
		return sd_error(err, "receipt: receipt.leaf_index must be between 0 and %lld", (long long)RC_LEAF_MAX);
	return 0;
}

/* --- parsing ------------------------------------------------------------------------- */

static int member_text(json_t *obj, const char *name, char *out, size_t cap)
{
	return sd_json_member_text(obj, WHAT, "receipt", name, out, cap);
}

static int parse_version(json_t *o, sd_receipt_t *rc)
{
	int r = sd_json_member_version(o, WHAT, "receipt", SD_RECEIPT_VERSION);

	if (r == 0)
		rc->version = SD_RECEIPT_VERSION;
	return r;
}

static int parse_leaf(json_t *o, sd_receipt_t *rc)
{
	json_t *v;
	json_int_t n;
	int r;

	if ((r = sd_json_member(o, WHAT, "receipt", "leaf_index", SD_JSON_INTEGER, false, &v)) < 0 || v == NULL ||
	    (r = sd_json_member_int(o, WHAT, "receipt", "leaf_index", 0, RC_LEAF_MAX, &n)) < 0)
		return r;
	rc->has_leaf = true;
	rc->leaf_index = (uint64_t)n;
	return 0;
}

static int parse_attorney_cert(json_t *o, sd_receipt_t *rc)
{
	json_t *v;
	int r;

	if ((r = sd_json_member(o, WHAT, "receipt", "attorney_certificate", SD_JSON_STRING, false, &v)) < 0 ||
	    v == NULL)
		return r;
	if ((r = sd_json_hex(v, WHAT, "receipt", "attorney_certificate", rc->attorney_cert,
	                     sizeof(rc->attorney_cert))) < 0)
		return r;
	rc->has_attorney_cert = true;
	return 0;
}

static int parse_fields(json_t *o, sd_receipt_t *rc)
{
	int r;

	if ((r = sd_json_only_fields(o, WHAT, "receipt", receipt_fields)) < 0 || (r = parse_version(o, rc)) < 0 ||
	    (r = member_text(o, "deployment", rc->deployment, sizeof(rc->deployment))) < 0 ||
	    (r = member_text(o, "case", rc->case_number, sizeof(rc->case_number))) < 0 ||
	    (r = sd_json_member_hex(o, WHAT, "receipt", "header_digest", rc->header_digest,
	                            sizeof(rc->header_digest))) < 0 ||
	    (r = sd_json_member_date(o, WHAT, "receipt", "received", &rc->received)) < 0 ||
	    (r = sd_json_member_date(o, WHAT, "receipt", "decision_due", &rc->decision_due)) < 0 ||
	    (r = member_text(o, "attorney", rc->attorney, sizeof(rc->attorney))) < 0 ||
	    (r = sd_json_member_hex(o, WHAT, "receipt", "log_key_id", rc->log_key_id, sizeof(rc->log_key_id))) < 0 ||
	    (r = parse_leaf(o, rc)) < 0 || (r = parse_attorney_cert(o, rc)) < 0)
		return r;
	return check_struct(rc, SD_ERR_FORMAT);
}

static int receipt_body_fields(json_t *body, void *out)
{
	return parse_fields(body, out);
}

int sd_receipt_parse(const uint8_t *json, size_t len, const sd_pubkey_t *log, sd_receipt_t *out)
{
	uint8_t key_id[SD_KEY_ID_BYTES];
	sd_receipt_t rc;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&rc, 0, sizeof(rc));
	if ((r = sd_json_signed_read_log(&rc_signed, json, len, log, receipt_body_fields, &rc, key_id)) < 0)
		return r;
	if (sodium_memcmp(rc.log_key_id, key_id, SD_KEY_ID_BYTES) != 0)
		return sd_error(SD_ERR_FORMAT, "receipt: receipt.log_key_id does not name the log key that signed it");
	*out = rc;
	return 0;
}

int sd_receipt_verify_with_directory(const uint8_t *json, size_t len, const sd_directory_t *d, sd_receipt_t *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	if (d == NULL)
		return sd_error(SD_ERR_USAGE, "receipt: a verified directory is needed");
	if (!d->has_log)
		return sd_error(SD_ERR_INVALID, "receipt: the directory for deployment %s lists no log key",
		                d->deployment);
	if ((r = sd_receipt_parse(json, len, sd_directory_doc_log_key(d, json, len), out)) < 0)
		return r;
	if (strcmp(out->deployment, d->deployment) != 0) {
		r = sd_error(SD_ERR_DEPLOYMENT, "receipt: issued for deployment '%s', not '%s'", out->deployment,
		             d->deployment);
		memset(out, 0, sizeof(*out));
		return r;
	}
	return 0;
}

/* --- signing ------------------------------------------------------------------------- */

/* The "receipt" object, members in the documented order. json_object_set_new consumes
 * its value even when it fails, so one flag collects every failure. */
static json_t *receipt_to_json(const sd_receipt_t *rc, const uint8_t log_id[SD_KEY_ID_BYTES])
{
	char received[SD_DATE_TEXT_BYTES], due[SD_DATE_TEXT_BYTES], digest[RC_DIGEST_HEX + 1];
	char id[SD_KEY_ID_HEX_BYTES];
	json_t *o = json_object();
	int fail = o == NULL;

	sd_date_format(rc->received, received);
	sd_date_format(rc->decision_due, due);
	sd_hex_encode(rc->header_digest, sizeof(rc->header_digest), digest);
	sd_key_id_hex(log_id, id);
	fail |= json_object_set_new(o, "version", json_integer(rc->version));
	fail |= json_object_set_new(o, "deployment", json_string(rc->deployment));
	fail |= json_object_set_new(o, "case", json_string(rc->case_number));
	fail |= json_object_set_new(o, "header_digest", json_string(digest));
	fail |= json_object_set_new(o, "received", json_string(received));
	fail |= json_object_set_new(o, "decision_due", json_string(due));
	fail |= json_object_set_new(o, "attorney", json_string(rc->attorney));
	fail |= json_object_set_new(o, "log_key_id", json_string(id));
	if (rc->has_leaf)
		fail |= json_object_set_new(o, "leaf_index", json_integer((json_int_t)rc->leaf_index));
	if (rc->has_attorney_cert) {
		char cert[2 * sizeof(rc->attorney_cert) + 1];
		sd_hex_encode(rc->attorney_cert, sizeof(rc->attorney_cert), cert);
		fail |= json_object_set_new(o, "attorney_certificate", json_string(cert));
	}
	if (fail) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int sd_receipt_sign(const sd_receipt_t *rc, const sd_seckey_t *log, char **json_out)
{
	uint8_t log_id[SD_KEY_ID_BYTES];
	int r;

	*json_out = NULL;
	if (rc == NULL || log == NULL || log->kind != SD_KEY_LOG || log->sk == NULL)
		return sd_error(SD_ERR_USAGE, "receipt: signing needs the log secret key");
	if ((r = check_struct(rc, SD_ERR_INVALID)) < 0)
		return r;
	sd_key_id(SD_KEY_LOG, log->pk, log_id);
	return sd_json_signed_sign_body(&rc_signed, log, receipt_to_json(rc, log_id), json_out);
}

int sd_receipt_filing_event(const sd_receipt_t *rc, sd_audit_event_t *ev)
{
	if (!rc->has_attorney_cert)
		return sd_error(SD_ERR_INVALID,
		                "receipt: it names no attorney certificate, so it predates the audit log");
	*ev = (sd_audit_event_t){.type = SD_AUDIT_FILING, .date = rc->received, .has_actor = true, .has_digest = true};
	snprintf(ev->case_number, sizeof(ev->case_number), "%s", rc->case_number);
	snprintf(ev->role, sizeof(ev->role), "%s", "attorney");
	memcpy(ev->actor, rc->attorney_cert, sizeof(ev->actor));
	memcpy(ev->digest, rc->header_digest, sizeof(ev->digest));
	return 0;
}
