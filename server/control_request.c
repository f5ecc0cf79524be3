/*
 * control_request.c — the control socket's requests as the server reads them
 * (include/sealdrop/control.h, server/control_int.h; protocol: docs/API.md, "Control
 * socket"): sd_control_parse_request() checks one line — the op, only its fields, each
 * well-formed — before server/control.c runs it. Pure and fuzzed (tests/fuzz/fuzz_control.c).
 * Also the error words both sides share, and the CRL URL the CA writes into certificates.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sealdrop/bytes.h"
#include "sealdrop/loghead.h"
#include "sealdrop/sealdrop.h"
#include "sealdrop/server.h"
#include "control_int.h"

/* --- requests -------------------------------------------------------------------- */

static const struct {
	const char *name;
	sd_control_op_t op;
	const char *fields[5]; /* besides "op"; the first `required` of them must be there */
	size_t required;
} ops[] = {
        {"enroll", SD_CONTROL_ENROLL, {"role", "name", "csr", "box_pubkey"}, 2},
        {"disable", SD_CONTROL_DISABLE, {"name"}, 1},
        {"directory_install", SD_CONTROL_DIRECTORY_INSTALL, {"directory"}, 1},
        {"status", SD_CONTROL_STATUS, {NULL}, 0},
        {"publish", SD_CONTROL_PUBLISH, {NULL}, 0},
        {"audit_check", SD_CONTROL_AUDIT_CHECK, {"expect_head"}, 0},
        {"retention", SD_CONTROL_RETENTION, {"dry_run"}, 0},
        {"renew", SD_CONTROL_RENEW, {"name", "csr"}, 1},
        {"revoke", SD_CONTROL_REVOKE, {"fingerprint"}, 1},
};

/* The CA's rule for a CN, on a counted string that must hold no NUL. */
static bool name_is_valid(const char *name, size_t n)
{
	return strlen(name) == n && sd_ca_name_is_valid(name);
}

static bool field_is_allowed(size_t op, const char *key)
{
	if (strcmp(key, "op") == 0)
		return true;
	for (size_t i = 0; i < sizeof(ops[op].fields) / sizeof(ops[op].fields[0]) && ops[op].fields[i]; i++)
		if (strcmp(key, ops[op].fields[i]) == 0)
			return true;
	return false;
}

static int parse_members(json_t *o, size_t op)
{
	char shown[40];
	const char *key;
	json_t *v;

	json_object_foreach(o, key, v)
	{
		if (!field_is_allowed(op, key))
			return sd_error(SD_ERR_INVALID, "'%s' takes no field '%s'", ops[op].name,
			                sd_error_printable(key, shown, sizeof(shown)));
	}
	for (size_t i = 0; i < ops[op].required; i++)
		if (json_object_get(o, ops[op].fields[i]) == NULL)
			return sd_error(SD_ERR_INVALID, "'%s' needs the field '%s'", ops[op].name, ops[op].fields[i]);
	return 0;
}

/* A string member of at most max bytes, or NULL when absent; SD_ERR_INVALID / TOOBIG. */
static int parse_text(json_t *o, const char *key, size_t max, const char **text, size_t *len)
{
	json_t *v = json_object_get(o, key);

	*text = NULL;
	*len = 0;
	if (v == NULL)
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0)
		return sd_error(SD_ERR_INVALID, "field '%s' must be a non-empty string", key);
	if (json_string_length(v) > max)
		return sd_error(SD_ERR_TOOBIG, "field '%s' is longer than %zu bytes", key, max);
	*text = json_string_value(v);
	*len = json_string_length(v);
	return 0;
}

static int parse_fields(json_t *o, sd_control_req_t *req)
{
	const char *text;
	size_t len;
	int r;

	if ((r = parse_text(o, "name", SD_CA_NAME_MAX, &text, &len)) < 0)
		return r;
	if (text != NULL) {
		if (!name_is_valid(text, len))
			return sd_error(SD_ERR_INVALID,
			                "'name' must be 1 to %d bytes of text without control "
			                "characters or spaces at either end",
			                SD_CA_NAME_MAX);
		memcpy(req->name, text, len + 1);
	}
	if ((r = parse_text(o, "role", SD_CA_ROLE_BYTES, &text, &len)) < 0)
		return r;
	if (text != NULL && !sd_role_from_name(text, &req->role))
		return sd_error(SD_ERR_INVALID, "'role' must be attorney, officer, custodian or operator");
	if ((r = parse_text(o, "box_pubkey", 64, &text, &len)) < 0)
		return r;
	if (text != NULL && sd_base64_decode_exact(text, req->box_pk, sizeof(req->box_pk)) < 0)
		return sd_error(SD_ERR_INVALID, "'box_pubkey' must be the base64 of a %d-byte X25519 key",
		                SD_CONTROL_BOX_KEY_BYTES);
	req->has_box_key = text != NULL;
	if ((r = parse_text(o, "csr", SD_CA_CSR_MAX_BYTES, &text, &req->csr_len)) < 0)
		return r;
	req->csr = (const uint8_t *)text;
	if ((r = parse_text(o, "directory", SD_DIRECTORY_MAX_BYTES, &text, &req->directory_len)) < 0)
		return r;
	req->directory = (const uint8_t *)text;
	if ((r = parse_text(o, "expect_head", SD_LOGHEAD_MAX_BYTES, &text, &req->expect_head_len)) < 0)
		return r;
	req->expect_head = (const uint8_t *)text;
	if (json_object_get(o, "dry_run") != NULL && !json_is_boolean(json_object_get(o, "dry_run")))
		return sd_error(SD_ERR_INVALID, "field 'dry_run' must be true or false");
	req->dry_run = json_is_true(json_object_get(o, "dry_run"));
	return 0;
}

/* "fingerprint" (revoke): 64 lower-case hex digits. */
static int parse_fingerprint(json_t *o, sd_control_req_t *req)
{
	const char *text;
	size_t len;
	int r;

	if ((r = parse_text(o, "fingerprint", 2 * SD_CA_FINGERPRINT_BYTES, &text, &len)) < 0 || text == NULL)
		return r;
	for (size_t i = 0; i < len; i++)
		if (!((text[i] >= '0' && text[i] <= '9') || (text[i] >= 'a' && text[i] <= 'f')))
			len = 0;
	if (len != 2 * SD_CA_FINGERPRINT_BYTES || sd_hex_decode(text, req->fingerprint, SD_CA_FINGERPRINT_BYTES) < 0)
		return sd_error(SD_ERR_INVALID, "'fingerprint' must be %d lower-case hex digits",
		                2 * SD_CA_FINGERPRINT_BYTES);
	req->has_fingerprint = true;
	return 0;
}

int sd_control_parse_request(const uint8_t *line, size_t len, sd_control_req_t *req)
{
	json_error_t jerr;
	json_t *o, *op;
	size_t i;
	int r;

	memset(req, 0, sizeof(*req));
	if (line == NULL || len > SD_CONTROL_MAX_REQUEST)
		return sd_error(SD_ERR_TOOBIG, "a request is one line of at most %u bytes", SD_CONTROL_MAX_REQUEST);
	o = json_loadb((const char *)line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(o)) {
		json_decref(o);
		return sd_error(SD_ERR_FORMAT, "a request is one JSON object on one line");
	}
	op = json_object_get(o, "op");
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (json_is_string(op) && strcmp(json_string_value(op), ops[i].name) == 0)
			break;
	if (i == sizeof(ops) / sizeof(ops[0])) {
		json_decref(o);
		return sd_error(SD_ERR_INVALID,
		                "'op' must be enroll, disable, directory_install, status, publish, audit_check, "
		                "retention, renew or revoke");
	}
	req->op = ops[i].op;
	if ((r = parse_members(o, i)) < 0 || (r = parse_fields(o, req)) < 0 || (r = parse_fingerprint(o, req)) < 0) {
		json_decref(o);
		memset(req, 0, sizeof(*req));
		return r;
	}
	req->json = o;
	return 0;
}

void sd_control_req_clear(sd_control_req_t *req)
{
	if (req == NULL)
		return;
	json_decref(req->json);
	memset(req, 0, sizeof(*req));
}

/* --- error words and the CRL URL ------------------------------------------------------ */

const char *sd_control_error_word(int err)
{
	switch (err) {
	case SD_ERR_EXISTS:
		return "exists";
	case SD_ERR_NOENT:
		return "not_found";
	case SD_ERR_REFUSED:
	case SD_ERR_VERIFY:
	case SD_ERR_EXPIRED:
	case SD_ERR_ROLLBACK:
	case SD_ERR_CONFIG:
	case SD_ERR_DEPLOYMENT:
		return "refused";
	case SD_ERR_FORMAT:
	case SD_ERR_INVALID:
	case SD_ERR_USAGE:
	case SD_ERR_TOOBIG:
	case SD_ERR_TRUNCATED:
	case SD_ERR_VERSION:
		return "invalid";
	default:
		return "internal";
	}
}

int sd_control_error_code(const char *word)
{
	static const struct {
		const char *word;
		int code;
	} words[] = {{"exists", SD_ERR_EXISTS},
	             {"not_found", SD_ERR_NOENT},
	             {"refused", SD_ERR_REFUSED},
	             {"invalid", SD_ERR_INVALID},
	             {"internal", SD_ERR_INTERNAL}};

	for (size_t i = 0; word != NULL && i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(word, words[i].word) == 0)
			return words[i].code;
	return SD_ERR_REFUSED;
}

int sd_control_crl_url(const sd_config_t *c, char out[SD_CA_URL_MAX])
{
	const char *host;
	int n;

	if (c == NULL || c->n_hostnames == 0 || c->hostnames == NULL)
		return sd_error(SD_ERR_CONFIG, "the configuration names no hostname for the CRL URL");
	host = c->hostnames[0];
	n = snprintf(out, SD_CA_URL_MAX, strchr(host, ':') ? "https://[%s]:%u/v1/crl" : "https://%s:%u/v1/crl", host,
	             (unsigned)c->listen_port);
	if (n < 0 || n >= (int)SD_CA_URL_MAX)
		return sd_error(SD_ERR_CONFIG, "the CRL URL for hostname '%s' is too long", host);
	return 0;
}
