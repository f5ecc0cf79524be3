/*
 * record.c — the two records a whistleblower seals: the report (Decree Art. 7(1) 2–7)
 * and the identity record (Art. 7(1) 1), and the resident registration number check.
 *
 * Each validator parses JSON with jansson, refuses unknown, missing, mistyped and empty
 * fields with a message naming the field (never, for the identity, the field's value),
 * and returns the canonical text that gets sealed: 2-space indent, input order, trailing
 * newline. Start at sd_report_validate() and sd_identity_validate().
 * Description and limits: docs/FORMAT.md, "Records".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <sodium.h>

#include "sealdrop/record.h"

#define REPORT_INPUT_MAX   (4u << 20)
#define REPORT_TEXT_MAX    (256u << 10) /* each string of the report */
#define REPORT_FILINGS_MAX 64
#define IDENTITY_INPUT_MAX (64u << 10)
#define LABEL_MAX          64 /* "prior_filings[63].reference" and the like */
#define NAME_SHOWN         40 /* bytes of an unknown field's name repeated in a message */
#define PHONE_DIGITS_MIN   7
#define PHONE_DIGITS_MAX   20
#define EMAIL_MAX          254
#define RRN_LEN            14

static const char *const report_text_fields[] = {"accused_organization", "particulars",     "purpose", "details",
                                                 "relationship",         "evidence_summary"};
static const char *const report_fields[] = {
        "accused_organization", "particulars",         "purpose", "details", "relationship", "evidence_summary",
        "prior_filings",        "identity_disclosure", NULL};
static const char *const filing_fields[] = {"agency", "date", "reference", "outcome", NULL};
static const char *const disclosure_values[] = {"consent", "no-consent", "undecided"};
static const char *const identity_fields[] = {"name",      "rrn",   "address", "occupation",
                                              "workplace", "phone", "email",   NULL};

/* Length of the white space character at s (n bytes left), or 0: ASCII white space, and
 * the Unicode spaces a Korean IME or a copy from a web page leaves behind. */
static size_t space_at(const unsigned char *s, size_t n)
{
	static const char *const wide[] = {
	        "\xc2\x85",     "\xc2\xa0",     "\xe1\x9a\x80", "\xe2\x80\xa8", "\xe2\x80\xa9",
	        "\xe2\x80\xaf", "\xe2\x81\x9f", "\xe3\x80\x80", "\xef\xbb\xbf",
	};

	if (*s == ' ' || (*s >= '\t' && *s <= '\r'))
		return 1;
	if (n >= 3 && s[0] == 0xe2 && s[1] == 0x80 && s[2] >= 0x80 && s[2] <= 0x8b)
		return 3; /* U+2000..U+200B */
	for (size_t i = 0; i < sizeof(wide) / sizeof(wide[0]); i++) {
		size_t w = strlen(wide[i]);
		if (n >= w && strncmp((const char *)s, wide[i], w) == 0)
			return w;
	}
	return 0;
}

static bool text_is_blank(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t w;

	for (size_t i = 0; i < n; i += w)
		if ((w = space_at(s + i, n - i)) == 0)
			return false;
	return true;
}

/* Whether an unknown identity member's name may be repeated: only when it looks like a
 * field name (a letter, then letters, digits, '_' or '-'; at most 32 bytes), never when
 * it could be a value typed in the wrong place ("900101-1234567", "hong@example.kr"). */
static bool name_is_showable(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

/* Refuses members of obj not in allowed; what is "report has" or "report field
 * 'prior_filings[2]' has". secret: the object holds identity data. */
static int only_fields(json_t *obj, const char *what, const char *const allowed[], bool secret)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v)
	{
		size_t i = 0;
		char name[NAME_SHOWN];

		while (allowed[i] != NULL && strcmp(allowed[i], key) != 0)
			i++;
		if (allowed[i] != NULL)
			continue;
		if (secret && !name_is_showable(key))
			return sd_error(SD_ERR_INVALID,
			                "%s an unknown field (its name is not shown: it does not look "
			                "like a field name and may be identity data)",
			                what);
		return sd_error(SD_ERR_INVALID, "%s an unknown field '%s'", what,
		                sd_error_printable(key, name, sizeof(name)));
	}
	(void)v;
	return 0;
}

/* A string of at most max bytes; non-blank if required. label is the field's name in
 * messages; rec is "report" or "identity". Values are never repeated. */
static int check_text(json_t *v, const char *rec, const char *label, bool nonblank, size_t max)
{
	if (!json_is_string(v))
		return sd_error(SD_ERR_INVALID, "%s field '%s' must be a string", rec, label);
	if (json_string_length(v) > max)
		return sd_error(SD_ERR_TOOBIG, "%s field '%s' is longer than %zu bytes", rec, label, max);
	if (nonblank && text_is_blank(json_string_value(v), json_string_length(v)))
		return sd_error(SD_ERR_INVALID, "%s field '%s' must not be empty", rec, label);
	return 0;
}

static int check_member(json_t *obj, const char *rec, const char *key, const char *label, bool required, size_t max)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL)
		return required ? sd_error(SD_ERR_INVALID, "%s field '%s' is missing", rec, label) : 0;
	return check_text(v, rec, label, required, max);
}

/* One {agency, date?, reference?, outcome?} entry of prior_filings. */
static int check_filing(json_t *f, size_t i)
{
	char what[LABEL_MAX + 32], label[LABEL_MAX], why[128];
	sd_date_t date;
	json_t *v;
	int r;

	snprintf(what, sizeof(what), "report field 'prior_filings[%zu]' has", i);
	if (!json_is_object(f))
		return sd_error(SD_ERR_INVALID, "report field 'prior_filings[%zu]' must be an object", i);
	if ((r = only_fields(f, what, filing_fields, false)) < 0)
		return r;
	for (size_t k = 0; filing_fields[k] != NULL; k++) {
		snprintf(label, sizeof(label), "prior_filings[%zu].%s", i, filing_fields[k]);
		if ((r = check_member(f, "report", filing_fields[k], label, k == 0, REPORT_TEXT_MAX)) < 0)
			return r;
	}
	if ((v = json_object_get(f, "date")) != NULL && sd_date_parse(json_string_value(v), &date) < 0) {
		snprintf(why, sizeof(why), "%s", sd_error_detail());
		return sd_error(SD_ERR_INVALID, "report field 'prior_filings[%zu].date': %s", i, why);
	}
	return 0;
}

static int check_report(json_t *obj)
{
	json_t *v;
	int r;

	if ((r = only_fields(obj, "report has", report_fields, false)) < 0)
		return r;
	for (size_t i = 0; i < sizeof(report_text_fields) / sizeof(report_text_fields[0]); i++)
		if ((r = check_member(obj, "report", report_text_fields[i], report_text_fields[i], true,
		                      REPORT_TEXT_MAX)) < 0)
			return r;
	if ((v = json_object_get(obj, "prior_filings")) == NULL)
		return sd_error(SD_ERR_INVALID, "report field 'prior_filings' is missing");
	if (!json_is_array(v))
		return sd_error(SD_ERR_INVALID, "report field 'prior_filings' must be an array");
	if (json_array_size(v) > REPORT_FILINGS_MAX)
		return sd_error(SD_ERR_INVALID, "report field 'prior_filings' has more than %d entries",
		                REPORT_FILINGS_MAX);
	for (size_t i = 0; i < json_array_size(v); i++)
		if ((r = check_filing(json_array_get(v, i), i)) < 0)
			return r;
	if ((v = json_object_get(obj, "identity_disclosure")) == NULL)
		return sd_error(SD_ERR_INVALID, "report field 'identity_disclosure' is missing");
	if (!json_is_string(v))
		return sd_error(SD_ERR_INVALID, "report field 'identity_disclosure' must be a string");
	for (size_t i = 0; i < sizeof(disclosure_values) / sizeof(disclosure_values[0]); i++)
		if (strcmp(json_string_value(v), disclosure_values[i]) == 0)
			return 0;
	return sd_error(SD_ERR_INVALID,
	                "report field 'identity_disclosure' must be \"consent\", \"no-consent\" or \"undecided\"");
}

/* jansson's canonical form plus the trailing newline, into memory from alloc. The
 * intermediate copy is wiped: it holds the record's text. */
static int canonical_text(json_t *obj, size_t max, const char *rec, void *(*alloc)(size_t), char **out, size_t *outlen)
{
	char *dump = json_dumps(obj, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	size_t n;
	int r = 0;

	if (dump == NULL)
		return SD_ERR_NOMEM;
	n = strlen(dump);
	if (n + 1 > max)
		r = sd_error(SD_ERR_TOOBIG,
		             "%s is %zu bytes in canonical form, more than the %zu that fit its padded size", rec,
		             n + 1, max);
	else if ((*out = alloc(n + 2)) == NULL)
		r = SD_ERR_NOMEM;
	else {
		memcpy(*out, dump, n);
		memcpy(*out + n, "\n", 2);
		*outlen = n + 1;
	}
	sodium_memzero(dump, n);
	free(dump);
	return r;
}

int sd_report_validate(const uint8_t *json, size_t len, char **out, size_t *outlen)
{
	json_error_t jerr;
	json_t *obj;
	int r;

	*out = NULL;
	*outlen = 0;
	if (json == NULL && len > 0)
		return sd_error(SD_ERR_USAGE, "report: no input");
	if (len > REPORT_INPUT_MAX)
		return sd_error(SD_ERR_TOOBIG, "report is larger than %u bytes", REPORT_INPUT_MAX);
	if ((obj = json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return sd_error(SD_ERR_FORMAT, "report is not valid JSON: line %d column %d: %s", jerr.line,
		                jerr.column, jerr.text);
	if (!json_is_object(obj))
		r = sd_error(SD_ERR_FORMAT, "report must be a JSON object");
	else if ((r = check_report(obj)) == 0)
		r = canonical_text(obj, SD_REPORT_MAX_BYTES, "report", malloc, out, outlen);
	json_decref(obj);
	return r;
}

/* --- identity ----------------------------------------------------------------------- */

static bool phone_is_valid(const char *s)
{
	size_t digits = 0;

	for (; *s; s++) {
		if (*s >= '0' && *s <= '9')
			digits++;
		else if (*s != ' ' && *s != '+' && *s != '-' && *s != '(' && *s != ')')
			return false;
	}
	return digits >= PHONE_DIGITS_MIN && digits <= PHONE_DIGITS_MAX;
}

/* One '@', a non-empty local part, a domain with a dot inside it, no white space or
 * control characters, at most 254 bytes. Deliverability is not our business. */
static bool email_is_valid(const char *s)
{
	size_t n = strlen(s), at = n, ats = 0;
	const char *dot;

	if (n > EMAIL_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return false;
		if (s[i] == '@') {
			ats++;
			at = i;
		}
	}
	if (ats != 1 || at == 0 || at + 1 >= n)
		return false;
	dot = strchr(s + at + 1, '.');
	return dot != NULL && dot != s + at + 1 && s[n - 1] != '.';
}

static int check_contact(json_t *obj)
{
	json_t *phone = json_object_get(obj, "phone"), *email = json_object_get(obj, "email");
	bool has_phone = phone != NULL && json_string_length(phone) > 0;
	bool has_email = email != NULL && json_string_length(email) > 0;

	if (has_phone && !phone_is_valid(json_string_value(phone)))
		return sd_error(SD_ERR_INVALID,
		                "identity field 'phone' must have %d to %d digits and only digits, "
		                "spaces, '+', '-', '(' and ')'",
		                PHONE_DIGITS_MIN, PHONE_DIGITS_MAX);
	if (has_email && !email_is_valid(json_string_value(email)))
		return sd_error(SD_ERR_INVALID,
		                "identity field 'email' must be an address of the form name@domain.tld "
		                "(one '@', no spaces, at most %d bytes)",
		                EMAIL_MAX);
	if (!has_phone && !has_email)
		return sd_error(SD_ERR_INVALID, "identity needs a way to reach the whistleblower: "
		                                "field 'phone' or 'email' must not be empty");
	return 0;
}

static int check_identity(json_t *obj, sd_date_t today)
{
	int r;

	if ((r = only_fields(obj, "identity has", identity_fields, true)) < 0)
		return r;
	/* name, rrn, address required; the rest optional. */
	for (size_t i = 0; identity_fields[i] != NULL; i++)
		if ((r = check_member(obj, "identity", identity_fields[i], identity_fields[i], i < 3,
		                      SD_IDENTITY_MAX_BYTES)) < 0)
			return r;
	if ((r = sd_rrn_check(json_string_value(json_object_get(obj, "rrn")), today)) < 0)
		return r;
	return check_contact(obj);
}

int sd_identity_validate(const uint8_t *json, size_t len, sd_date_t today, char **out, size_t *outlen)
{
	json_error_t jerr;
	json_t *obj;
	int r;

	*out = NULL;
	*outlen = 0;
	if (json == NULL && len > 0)
		return sd_error(SD_ERR_USAGE, "identity: no input");
	if (len > IDENTITY_INPUT_MAX)
		return sd_error(SD_ERR_TOOBIG, "identity is larger than %u bytes", IDENTITY_INPUT_MAX);
	/* jansson's message can quote the input near the error: only the position is safe. */
	if ((obj = json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		r = sd_error(SD_ERR_FORMAT, "identity is not valid JSON (line %d, column %d)", jerr.line, jerr.column);
		sodium_memzero(&jerr, sizeof(jerr));
		return r;
	}
	if (!json_is_object(obj))
		r = sd_error(SD_ERR_FORMAT, "identity must be a JSON object");
	else if ((r = check_identity(obj, today)) == 0)
		r = canonical_text(obj, SD_IDENTITY_MAX_BYTES, "identity", sodium_malloc, out, outlen);
	json_decref(obj);
	return r;
}

/* --- resident registration number ---------------------------------------------------- */

int sd_rrn_check(const char *rrn, sd_date_t today)
{
	/* The gender/century digit G: 1,2,5,6 born in the 1900s; 3,4,7,8 in the 2000s;
	 * 9,0 in the 1800s (5-8 are registered foreigners). */
	static const int century[10] = {1800, 1900, 1900, 2000, 2000, 1900, 1900, 2000, 2000, 1800};
	char when[SD_DATE_TEXT_BYTES];
	sd_date_t birth;

	if (rrn == NULL || strnlen(rrn, RRN_LEN + 1) != RRN_LEN)
		return sd_error(SD_ERR_INVALID, "rrn must have the form YYMMDD-GNNNNNN");
	for (int i = 0; i < RRN_LEN; i++)
		if (i == 6 ? rrn[i] != '-' : (rrn[i] < '0' || rrn[i] > '9'))
			return sd_error(SD_ERR_INVALID, "rrn must have the form YYMMDD-GNNNNNN");
	birth.y = century[rrn[7] - '0'] + (rrn[0] - '0') * 10 + (rrn[1] - '0');
	birth.m = (rrn[2] - '0') * 10 + (rrn[3] - '0');
	birth.d = (rrn[4] - '0') * 10 + (rrn[5] - '0');
	/* The message names the birth date (the user needs it to see the typo), never the
	 * serial digits after G. */
	if (!sd_date_is_valid(birth.y, birth.m, birth.d))
		return sd_error(SD_ERR_INVALID, "rrn: %04d-%02d-%02d is not a calendar date", birth.y, birth.m,
		                birth.d);
	if (sd_date_cmp(birth, today) > 0) {
		sd_date_format(birth, when);
		return sd_error(SD_ERR_INVALID, "rrn: century digit %c makes the birth date %s, which is in the future",
		                rrn[7], when);
	}
	return 0;
}
