/*
 * notice.c — a notice about a case (include/sealdrop/notice.h): three sealed boxes of the
 * same text, signed by the log key, and the Commission's standard wording for each step
 * of the case (Decree Art. 11-4).
 *
 * Start at sd_notice_parse(): JSON syntax and the envelope first, then the log key's
 * signature over the compact, key-sorted serialisation of "notice", and only then the
 * field rules (check_struct(), shared with sd_notice_sign() and sd_notice_digest(), so
 * the server can never sign or log a notice clients refuse). The signed envelope is
 * crypto/json.c's, exactly as crypto/receipt.c uses it. sd_notice_open() is what a reader
 * calls next, on the box sealed to them. Normative description: docs/FORMAT.md, "Notice".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "sealdrop/bytes.h"
#include "sealdrop/hash.h"
#include "sealdrop/json.h"
#include "sealdrop/notice.h"
#include "sealdrop/sealdrop.h"
#include "sealdrop/sign.h"

#define NT_SEQ_MAX     (((json_int_t)1 << 31) - 1) /* a notice's number within its case */
#define NT_BOX_MIN     (SD_SEALBOX_OVERHEAD + 1)   /* a box holds at least one byte of text */
#define NT_BOX_B64_MAX (4 * ((SD_NOTICE_BOX_MAX + 2) / 3))
#define NT_DETAIL_MAX  (SD_AGENCY_NAME_MAX + 16) /* "investigation: " and an agency's name */
#define NT_BODY_MAX    2048                      /* one language's part of a standard text */
#define NT_STD_MAX     (4 * NT_BODY_MAX)
#define WHAT           "notice" /* the first word of a message */

static const char *const signature_fields[] = {"key_id", "sig", NULL};
static const char *const notice_fields[] = {"version", "deployment",       "case",        "seq",           "date",
                                            "kind",    "to_whistleblower", "to_attorney", "to_commission", NULL};

static const sd_json_signed_t nt_signed = {
        .what = WHAT,
        .body = "notice",
        .signature_fields = signature_fields,
        .max_bytes = SD_NOTICE_MAX_BYTES,
        .purpose = SD_PURPOSE_NOTICE,
        .kind = SD_KEY_LOG,
        .signer = "log key",
        .key = "log",
};

#define KIND_LIST "receipt, extension, referral, forwarding, termination, result, reinvestigation, closing, written"

/* --- kinds ----------------------------------------------------------------------------- */

static bool kind_is_valid(sd_notice_kind_t k)
{
	return k >= SD_NOTICE_RECEIPT && k <= SD_NOTICE_IDENTITY_ACCESS;
}

const char *sd_notice_kind_name(sd_notice_kind_t k)
{
	static const char *const names[] = {NULL,         "receipt",     "extension",      "referral",
	                                    "forwarding", "termination", "result",         "reinvestigation",
	                                    "closing",    "written",     "identity-access"};

	return kind_is_valid(k) ? names[k] : NULL;
}

bool sd_notice_kind_from_name(const char *name, sd_notice_kind_t *out)
{
	for (int k = SD_NOTICE_RECEIPT; name != NULL && k <= SD_NOTICE_IDENTITY_ACCESS; k++) {
		if (strcmp(name, sd_notice_kind_name((sd_notice_kind_t)k)) == 0) {
			*out = (sd_notice_kind_t)k;
			return true;
		}
	}
	return false;
}

/* --- field rules shared by parse, sign and digest -------------------------------------- */

/* Valid UTF-8 without control characters (but newline and tab when lines is set): the
 * first bad byte's offset in *bad. */
static bool text_is_clean(const char *s, size_t n, bool lines, size_t *bad)
{
	size_t i = 0;
	uint32_t cp;

	while (i < n) {
		*bad = i;
		if (!sd_utf8_decode(s, n, &i, &cp))
			return false;
		if ((cp < 0x20 && !(lines && (cp == '\n' || cp == '\t'))) || (cp >= 0x7f && cp <= 0x9f))
			return false;
	}
	return true;
}

/* A notice's text, as sealed and as opened: err with a message naming the byte. */
static int check_text(const char *s, size_t n, int err)
{
	size_t bad = 0;

	if (n == 0)
		return sd_error(err, "%s: the text is empty", WHAT);
	if (n > SD_NOTICE_TEXT_MAX)
		return sd_error(SD_ERR_TOOBIG, "%s: the text is %zu bytes, more than %u", WHAT, n, SD_NOTICE_TEXT_MAX);
	if (!text_is_clean(s, n, true, &bad))
		return sd_error(err,
		                "%s: the text is not UTF-8 without control characters (only newline and tab are "
		                "allowed): byte %zu",
		                WHAT, bad);
	return 0;
}

static bool box_len_is_valid(size_t len)
{
	return len >= NT_BOX_MIN && len <= SD_NOTICE_BOX_MAX;
}

static int box_error(int err, const char *name)
{
	return sd_error(err, "%s: notice.%s must be base64 of a sealed box (%d to %u bytes)", WHAT, name, NT_BOX_MIN,
	                SD_NOTICE_BOX_MAX);
}

static int check_boxes(const sd_notice_t *n, int err)
{
	if (n->to_whistleblower == NULL || !box_len_is_valid(n->whistleblower_len))
		return box_error(err, "to_whistleblower");
	if (n->to_attorney != NULL ? !box_len_is_valid(n->attorney_len) : n->attorney_len != 0)
		return box_error(err, "to_attorney");
	if (n->to_commission == NULL || !box_len_is_valid(n->commission_len))
		return box_error(err, "to_commission");
	return 0;
}

static int check_struct(const sd_notice_t *n, int err)
{
	if (n->version != SD_NOTICE_VERSION)
		return sd_error(err == SD_ERR_FORMAT ? SD_ERR_VERSION : err,
		                "%s: version %u is not supported (this build reads version %d)", WHAT, n->version,
		                SD_NOTICE_VERSION);
	if (!sd_deployment_is_valid(n->deployment))
		return sd_error(
		        err,
		        "%s: notice.deployment must be 1 to %d of a-z, 0-9 and '-', not starting or ending with '-'",
		        WHAT, SD_DEPLOYMENT_MAX);
	if (!sd_case_number_is_valid(n->case_number))
		return sd_error(err,
		                "%s: notice.case must be YYYY-NNNNNN (a year 2000-9999 and six digits, not all zero)",
		                WHAT);
	if ((json_int_t)n->seq > NT_SEQ_MAX)
		return sd_error(err, "%s: notice.seq must be between 0 and %lld", WHAT, (long long)NT_SEQ_MAX);
	if (!sd_date_is_valid(n->date.y, n->date.m, n->date.d))
		return sd_error(err, "%s: notice.date must be a calendar date YYYY-MM-DD", WHAT);
	if (!kind_is_valid(n->kind))
		return sd_error(err, "%s: notice.kind must be one of %s", WHAT, KIND_LIST);
	return check_boxes(n, err);
}

/* --- parsing --------------------------------------------------------------------------- */

/* A string member of at most cap - 1 bytes (no NUL inside), copied into out. */
static int member_text(json_t *obj, const char *name, char *out, size_t cap)
{
	return sd_json_member_text(obj, WHAT, "notice", name, out, cap);
}

static int parse_version(json_t *o, sd_notice_t *n)
{
	int r = sd_json_member_version(o, WHAT, "notice", SD_NOTICE_VERSION);

	if (r == 0)
		n->version = SD_NOTICE_VERSION;
	return r;
}

static int parse_kind(json_t *o, sd_notice_t *n)
{
	json_t *v;
	int r;

	if ((r = sd_json_member(o, WHAT, "notice", "kind", SD_JSON_STRING, true, &v)) < 0)
		return r;
	if (!sd_notice_kind_from_name(json_string_value(v), &n->kind))
		return sd_error(SD_ERR_FORMAT, "%s: notice.kind must be one of %s", WHAT, KIND_LIST);
	return 0;
}

/* Padded standard base64 of NT_BOX_MIN..SD_NOTICE_BOX_MAX bytes, canonical, into *box
 * (malloc'd). An absent optional member leaves *box NULL. */
static int parse_box(json_t *o, const char *name, bool required, uint8_t **box, size_t *len)
{
	const char *s;
	size_t n, pad = 0;
	json_t *v;
	int r;

	if ((r = sd_json_member(o, WHAT, "notice", name, SD_JSON_STRING, required, &v)) < 0 || v == NULL)
		return r;
	s = json_string_value(v);
	n = json_string_length(v);
	if (n == 0 || n > NT_BOX_B64_MAX || n % 4 != 0 || strlen(s) != n)
		return box_error(SD_ERR_FORMAT, name);
	while (pad < 2 && s[n - 1 - pad] == '=')
		pad++;
	*len = n / 4 * 3 - pad;
	if (!box_len_is_valid(*len))
		return box_error(SD_ERR_FORMAT, name);
	if ((*box = malloc(*len)) == NULL)
		return SD_ERR_NOMEM;
	if (sd_base64_decode_exact(s, *box, *len) < 0)
		return box_error(SD_ERR_FORMAT, name); /* the caller frees *box */
	return 0;
}

static int parse_fields(json_t *o, sd_notice_t *n)
{
	json_int_t seq;
	int r;

	if ((r = sd_json_only_fields(o, WHAT, "notice", notice_fields)) < 0 || (r = parse_version(o, n)) < 0 ||
	    (r = member_text(o, "deployment", n->deployment, sizeof(n->deployment))) < 0 ||
	    (r = member_text(o, "case", n->case_number, sizeof(n->case_number))) < 0 ||
	    (r = sd_json_member_int(o, WHAT, "notice", "seq", 0, NT_SEQ_MAX, &seq)) < 0 ||
	    (r = sd_json_member_date(o, WHAT, "notice", "date", &n->date)) < 0 || (r = parse_kind(o, n)) < 0 ||
	    (r = parse_box(o, "to_whistleblower", true, &n->to_whistleblower, &n->whistleblower_len)) < 0 ||
	    (r = parse_box(o, "to_attorney", false, &n->to_attorney, &n->attorney_len)) < 0 ||
	    (r = parse_box(o, "to_commission", true, &n->to_commission, &n->commission_len)) < 0)
		return r;
	n->seq = (uint32_t)seq;
	return check_struct(n, SD_ERR_FORMAT);
}

void sd_notice_clear(sd_notice_t *n)
{
	if (n == NULL)
		return;
	free(n->to_whistleblower);
	free(n->to_attorney);
	free(n->to_commission);
	memset(n, 0, sizeof(*n));
}

static int notice_body_fields(json_t *body, void *out)
{
	return parse_fields(body, out);
}

int sd_notice_parse(const uint8_t *json, size_t len, const sd_pubkey_t *log, sd_notice_t *out)
{
	uint8_t key_id[SD_KEY_ID_BYTES];
	sd_notice_t n;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&n, 0, sizeof(n));
	if ((r = sd_json_signed_read_log(&nt_signed, json, len, log, notice_body_fields, &n, key_id)) < 0) {
		sd_notice_clear(&n);
		return r;
	}
	memcpy(n.log_key_id, key_id, SD_KEY_ID_BYTES);
	*out = n; /* the boxes are out's now */
	return 0;
}

int sd_notice_verify_with_directory(const uint8_t *json, size_t len, const sd_directory_t *d, sd_notice_t *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	if (d == NULL)
		return sd_error(SD_ERR_USAGE, "%s: a verified directory is needed", WHAT);
	if (!d->has_log)
		return sd_error(SD_ERR_INVALID, "%s: the directory for deployment %s lists no log key", WHAT,
		                d->deployment);
	if ((r = sd_notice_parse(json, len, sd_directory_doc_log_key(d, json, len), out)) < 0)
		return r;
	if (strcmp(out->deployment, d->deployment) != 0) {
		r = sd_error(SD_ERR_DEPLOYMENT, "%s: issued for deployment '%s', not '%s'", WHAT, out->deployment,
		             d->deployment);
		sd_notice_clear(out);
		return r;
	}
	return 0;
}

/* --- signing and the digest ------------------------------------------------------------ */

/* The "notice" object of a checked n, members in the documented order.
 * json_object_set_new consumes its value even when it fails, so one flag collects every
 * failure. */
static json_t *notice_to_json(const sd_notice_t *n)
{
	char date[SD_DATE_TEXT_BYTES];
	json_t *o = json_object();
	int fail = o == NULL;

	sd_date_format(n->date, date);
	fail |= json_object_set_new(o, "version", json_integer(n->version));
	fail |= json_object_set_new(o, "deployment", json_string(n->deployment));
	fail |= json_object_set_new(o, "case", json_string(n->case_number));
	fail |= json_object_set_new(o, "seq", json_integer(n->seq));
	fail |= json_object_set_new(o, "date", json_string(date));
	fail |= json_object_set_new(o, "kind", json_string(sd_notice_kind_name(n->kind)));
	fail |= json_object_set_new(o, "to_whistleblower",
	                            sd_json_base64_string(n->to_whistleblower, n->whistleblower_len));
	if (n->to_attorney != NULL)
		fail |= json_object_set_new(o, "to_attorney", sd_json_base64_string(n->to_attorney, n->attorney_len));
	fail |= json_object_set_new(o, "to_commission", sd_json_base64_string(n->to_commission, n->commission_len));
	if (fail) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int sd_notice_sign(const sd_notice_t *n, const sd_seckey_t *log, char **json_out)
{
	int r;

	*json_out = NULL;
	if (n == NULL || log == NULL || log->kind != SD_KEY_LOG || log->sk == NULL)
		return sd_error(SD_ERR_USAGE, "%s: signing needs the log secret key", WHAT);
	if ((r = check_struct(n, SD_ERR_INVALID)) < 0)
		return r;
	return sd_json_signed_sign_body(&nt_signed, log, notice_to_json(n), json_out);
}

int sd_notice_digest(const sd_notice_t *n, uint8_t out[SD_NOTICE_DIGEST_BYTES])
{
	json_t *body;
	char *msg;
	int r;

	memset(out, 0, SD_NOTICE_DIGEST_BYTES);
	if (n == NULL)
		return sd_error(SD_ERR_USAGE, "%s: no notice to digest", WHAT);
	if ((r = check_struct(n, SD_ERR_INVALID)) < 0)
		return r;
	if ((body = notice_to_json(n)) == NULL)
		return SD_ERR_NOMEM;
	/* The bytes the signature covers (sd_json_signed_sign): parse keeps every value
	 * exactly, so this is the same for the notice as signed and as parsed. */
	msg = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(body);
	if (msg == NULL)
		return SD_ERR_NOMEM;
	sd_hash((const uint8_t *)msg, strlen(msg), out);
	free(msg);
	return 0;
}

/* --- sealing and opening --------------------------------------------------------------- */

int sd_notice_seal(sd_notice_t *n, const char *text, const uint8_t notice_pk[32], const uint8_t *attorney_pk,
                   const sd_pubkey_t *intake)
{
	uint8_t *wb = NULL, *at = NULL, *cm = NULL;
	size_t wl = 0, al = 0, cl = 0, len;
	int r;

	if (n == NULL || text == NULL || notice_pk == NULL || intake == NULL || intake->kind != SD_KEY_INTAKE)
		return sd_error(SD_ERR_USAGE, "%s: sealing needs a text, the notice key and the intake key", WHAT);
	len = strnlen(text, SD_NOTICE_TEXT_MAX + 1);
	if ((r = check_text(text, len, SD_ERR_INVALID)) < 0)
		return r;
	/* crypto_box_seal: a fresh ephemeral key pair for each box */
	if ((r = sd_sealbox_seal_raw(notice_pk, (const uint8_t *)text, len, &wb, &wl)) < 0 ||
	    (attorney_pk != NULL && (r = sd_sealbox_seal_raw(attorney_pk, (const uint8_t *)text, len, &at, &al)) < 0) ||
	    (r = sd_sealbox_seal(intake, (const uint8_t *)text, len, &cm, &cl)) < 0)
		goto out;
	free(n->to_whistleblower);
	free(n->to_attorney);
	free(n->to_commission);
	n->to_whistleblower = wb;
	n->to_attorney = at;
	n->to_commission = cm;
	n->whistleblower_len = wl;
	n->attorney_len = al;
	n->commission_len = cl;
	wb = at = cm = NULL;
	r = 0;
out:
	free(wb);
	free(at);
	free(cm);
	return r;
}

int sd_notice_open(const uint8_t *box, size_t len, const uint8_t pk[32], const uint8_t sk[32], char **text,
                   size_t *text_len)
{
	uint8_t *plain = NULL;
	size_t plain_len = 0;
	int r;

	*text = NULL;
	*text_len = 0;
	if (box == NULL || pk == NULL || sk == NULL)
		return sd_error(SD_ERR_USAGE, "%s: opening needs a box and an X25519 key pair", WHAT);
	if (len > SD_NOTICE_BOX_MAX)
		return sd_error(SD_ERR_TOOBIG, "%s: a box of %zu bytes is larger than any notice (%u)", WHAT, len,
		                SD_NOTICE_BOX_MAX);
	if (len < NT_BOX_MIN)
		return sd_error(SD_ERR_TRUNCATED, "%s: a box of %zu bytes is too short to hold any text", WHAT, len);
	if ((r = sd_sealbox_open_raw(pk, sk, box, len, &plain, &plain_len)) < 0) {
		if (r == SD_ERR_VERIFY)
			r = sd_error(SD_ERR_VERIFY,
			             "%s: the box does not open with this key (sealed to another key, or altered)",
			             WHAT);
		return r;
	}
	if ((r = check_text((const char *)plain, plain_len, SD_ERR_FORMAT)) < 0) {
		sd_secret_free(plain);
		return r;
	}
	*text = (char *)plain;
	*text_len = plain_len;
	return 0;
}

/* --- the standard texts ---------------------------------------------------------------- */

/* Each text is the Korean, then the English: a title line naming the case, a blank line,
 * the body. The wording is the Commission's, read by someone who may be frightened:
 * short sentences, what happened, what happens next, what they may do. */
typedef struct {
	const char *ko_title, *ko_body, *en_title, *en_body;
} nt_wording_t;

/* The kinds whose text needs no detail. */
static const nt_wording_t plain_wording[] = {
        [SD_NOTICE_RECEIPT] =
                {"공익신고가 접수되었습니다.",
                 "귀하의 공익신고가 위원회에 접수되었습니다. 위원회는 접수일부터 60일 이내에 이 신고를 "
                 "조사기관이나 수사기관에 이첩하거나 송부할지, 또는 종결할지 결정합니다. 이 기간은 한 번만 "
                 "30일 이내에서 연장될 수 있습니다(시행령 제8조).\n"
                 "귀하의 동의 없이는 귀하의 신원이 공개되지 않습니다. 진행 상황과 통지는 코드네임으로 "
                 "확인하실 수 있습니다.",
                 "your report has been received.",
                 "The Commission received your public interest report under this case number. It will "
                 "decide within 60 days of receipt whether to refer or forward it to an agency, or to close "
                 "it; this period may be extended once, by up to 30 days (Decree Art. 8).\n"
                 "Your identity will not be disclosed without your consent. You can follow the case and read "
                 "its notices with your codename."},
        [SD_NOTICE_EXTENSION] =
                {"처리 기간이 연장되었습니다.",
                 "위원회는 이 사건의 결정 기간을 30일 연장하였습니다(시행령 제8조제2항). 기간은 한 번만 "
                 "연장할 수 있습니다. 위원회는 연장된 기간 안에 이첩, 송부 또는 종결 여부를 결정하여 "
                 "알려 드립니다.",
                 "the decision period has been extended.",
                 "The Commission extended the period for deciding on this case by 30 days (Decree Art. "
                 "8(2)). It can be extended only once. Within the extended period the Commission will decide "
                 "whether to refer, forward or close the case, and will tell you."},
        [SD_NOTICE_REINVESTIGATION] =
                {"재조사를 요구하였습니다.",
                 "위원회는 귀하의 이의신청에 따라 기관에 재조사를 요구하였습니다(시행령 제11조의3제2항). "
                 "재조사 결과가 나오면 다시 알려 드리며, 그 결과에 대해서도 이의를 신청하실 수 있습니다.",
                 "a reinvestigation has been requested.",
                 "Following your objection, the Commission asked the agency to reinvestigate (Decree Art. "
                 "11-3(2)). You will be told the new result, and you may object to it as well."},
        [SD_NOTICE_CLOSING] = {"사건 처리가 끝났습니다.",
                               "이 사건에 대한 위원회의 처리가 모두 끝났습니다. 공익신고를 해 주셔서 감사합니다.\n"
                               "귀하의 동의 없이는 귀하의 신원이 공개되지 않습니다. 신고 때문에 불이익을 받았거나 받을 "
                               "우려가 있으면 위원회에 보호를 요청하실 수 있습니다.",
                               "the case is closed.",
                               "The Commission has finished handling this case. Thank you for your report.\n"
                               "Your identity will not be disclosed without your consent. If you suffer, or fear, any "
                               "disadvantage because of your report, you may ask the Commission for protection."},
};

static const struct {
	const char *name, *ko, *en;
} termination_reasons[] = {
        {"unrelated", "신고하신 내용이 법에서 정한 공익침해행위와 관련이 없다고 판단하였습니다.",
         "the facts reported do not concern a violation of the public interest as the law defines it."},
        {"no-evidence", "신고하신 내용을 확인할 수 있는 증거나 자료가 충분하지 않다고 판단하였습니다.",
         "there is not enough evidence or material to confirm the facts reported."},
        {"not-inspectable", "신고하신 사안은 조사나 수사를 할 수 없는 경우에 해당한다고 판단하였습니다.",
         "the matter is one that cannot be inspected or investigated."},
};

static int need_detail(sd_notice_kind_t kind, const char *detail, const char *what)
{
	size_t n, bad = 0;

	if (detail == NULL)
		return sd_error(SD_ERR_USAGE, "%s: the standard %s notice needs %s", WHAT, sd_notice_kind_name(kind),
		                what);
	n = strnlen(detail, NT_DETAIL_MAX + 1);
	if (n == 0 || n > NT_DETAIL_MAX || !text_is_clean(detail, n, false, &bad))
		return sd_error(SD_ERR_USAGE, "%s: the standard %s notice needs %s: 1 to %d bytes of UTF-8 on one line",
		                WHAT, sd_notice_kind_name(kind), what, NT_DETAIL_MAX);
	return 0;
}

/* detail "inspection: NAME", "investigation: NAME" or just the agency's name. */
static int word_referral(const char *detail, char ko[NT_BODY_MAX], char en[NT_BODY_MAX])
{
	const char *name = detail, *ko_kind = "", *ko_work = "조사 또는 수사", *en_kind = "";

	if (strncmp(detail, "inspection: ", 12) == 0)
		name = detail + 12, ko_kind = "조사기관인 ", ko_work = "조사", en_kind = ", for inspection";
	else if (strncmp(detail, "investigation: ", 15) == 0)
		name = detail + 15, ko_kind = "수사기관인 ", ko_work = "수사", en_kind = ", for investigation";
	if (name[0] == '\0')
		return sd_error(SD_ERR_USAGE, "%s: the standard referral notice needs the agency's name", WHAT);
	snprintf(ko, NT_BODY_MAX,
	         "위원회는 귀하의 신고를 %s%s에 이첩하였습니다(시행령 제9조제1항). 기관이 %s를 마치면 그 결과를 "
	         "알려 드립니다.\n귀하가 동의하지 않는 한 귀하의 신원은 기관에 전달되지 않습니다.",
	         ko_kind, name, ko_work);
	snprintf(en, NT_BODY_MAX,
	         "The Commission referred your report to %s%s (Decree Art. 9(1)). You will be told the result "
	         "when the agency concludes.\nYour identity is not passed to the agency unless you consent.",
	         name, en_kind);
	return 0;
}

static int word_forwarding(const char *detail, char ko[NT_BODY_MAX], char en[NT_BODY_MAX])
{
	snprintf(ko, NT_BODY_MAX,
	         "위원회는 귀하의 신고를 %s에 송부하였습니다(시행령 제10조). 기관이 처리를 마치면 그 결과를 알려 "
	         "드립니다.\n귀하가 동의하지 않는 한 귀하의 신원은 기관에 전달되지 않습니다.",
	         detail);
	snprintf(en, NT_BODY_MAX,
	         "The Commission forwarded your report to %s (Decree Art. 10). You will be told the result when "
	         "it concludes.\nYour identity is not passed on unless you consent.",
	         detail);
	return 0;
}

static int word_termination(const char *detail, char ko[NT_BODY_MAX], char en[NT_BODY_MAX])
{
	size_t i = 0, n = sizeof(termination_reasons) / sizeof(termination_reasons[0]);

	while (i < n && strcmp(detail, termination_reasons[i].name) != 0)
		i++;
	if (i == n)
		return sd_error(SD_ERR_USAGE,
		                "%s: the standard termination notice needs the reason unrelated, no-evidence or "
		                "not-inspectable",
		                WHAT);
	snprintf(ko, NT_BODY_MAX,
	         "위원회는 귀하의 신고를 조사기관이나 수사기관에 이첩하지 않고 종결하였습니다(시행령 제12조). "
	         "%s\n궁금한 점이 있으시면 변호사를 통해 위원회에 문의하실 수 있습니다.",
	         termination_reasons[i].ko);
	snprintf(en, NT_BODY_MAX,
	         "The Commission closed your report without referring it to an agency (Decree Art. 12), because "
	         "%s\nIf you have questions, your attorney can ask the Commission.",
	         termination_reasons[i].en);
	return 0;
}

/* detail: who was given access, "the Commission" or the agency's name. */
static int word_identity_access(const char *detail, char ko[NT_BODY_MAX], char en[NT_BODY_MAX])
{
	snprintf(ko, NT_BODY_MAX,
	         "귀하의 동의에 따라 %s이(가) 오늘 귀하의 신원 정보를 열람할 수 있도록 귀하의 신원 키 조각이 "
	         "전달되었습니다(시행령 제7조제1항 단서, 제13조). 동의는 sealdrop consent revoke 명령으로 언제든지 "
	         "철회할 수 있으며, 철회하면 그 뒤의 열람은 거부됩니다. 이미 열람된 정보는 철회로 되돌릴 수 "
	         "없습니다. 이 열람을 허락한 적이 없다면 즉시 변호사에게 알리십시오.",
	         detail);
	snprintf(en, NT_BODY_MAX,
	         "Under your consent, your identity share was released today so that %s can read your identity "
	         "(Decree Art. 7(1) proviso, Art. 13). You can revoke the consent at any time with the command "
	         "sealdrop consent revoke; later access is then refused, but what was already read cannot be "
	         "taken back. If you never allowed this, tell your attorney at once.",
	         detail);
	return 0;
}

static int word_result(const char *detail, char ko[NT_BODY_MAX], char en[NT_BODY_MAX])
{
	sd_date_t d;

	if (sd_date_parse(detail, &d) < 0)
		return sd_error(SD_ERR_USAGE, "%s: the standard result notice needs the conclusion date YYYY-MM-DD",
		                WHAT);
	snprintf(ko, NT_BODY_MAX,
	         "기관이 %d년 %d월 %d일에 조사(또는 수사)를 마치고 그 결과를 위원회에 통보하였습니다(시행령 제11조). "
	         "결과에 "
	         "이의가 있으시면 이 통지를 받은 날부터 7일 이내에 이의를 신청하실 수 있습니다(시행령 "
	         "제11조의3제1항). 이의신청은 sealdrop object 명령으로 하며, 그 내용은 위원회만 읽을 수 "
	         "있습니다.",
	         d.y, d.m, d.d);
	snprintf(en, NT_BODY_MAX,
	         "The agency concluded its inspection or investigation on %s and reported the result to the Commission "
	         "(Decree "
	         "Art. 11). If you disagree with the result, you may object within 7 days after this notice "
	         "(Decree Art. 11-3(1)) with the command sealdrop object; only the Commission can read what "
	         "you write.",
	         detail);
	return 0;
}

/* The body of a kind that names something: the detail checked, then worded. */
static int word_detail(sd_notice_kind_t kind, const char *detail, char ko[NT_BODY_MAX], char en[NT_BODY_MAX])
{
	static const char *const needs[] = {
	        [SD_NOTICE_REFERRAL] = "the agency (\"inspection: NAME\", \"investigation: NAME\" or NAME)",
	        [SD_NOTICE_FORWARDING] = "the agency's name",
	        [SD_NOTICE_TERMINATION] = "the reason",
	        [SD_NOTICE_RESULT] = "the conclusion date",
	        [SD_NOTICE_IDENTITY_ACCESS] = "who was given access",
	};
	int r;

	if ((r = need_detail(kind, detail, needs[kind])) < 0)
		return r;
	switch (kind) {
	case SD_NOTICE_REFERRAL:
		return word_referral(detail, ko, en);
	case SD_NOTICE_FORWARDING:
		return word_forwarding(detail, ko, en);
	case SD_NOTICE_TERMINATION:
		return word_termination(detail, ko, en);
	case SD_NOTICE_IDENTITY_ACCESS:
		return word_identity_access(detail, ko, en);
	default:
		return word_result(detail, ko, en);
	}
}

static const char *const detail_titles[][2] = {
        [SD_NOTICE_REFERRAL] = {"신고가 이첩되었습니다.", "your report has been referred to an agency."},
        [SD_NOTICE_FORWARDING] = {"신고가 송부되었습니다.", "your report has been forwarded."},
        [SD_NOTICE_TERMINATION] = {"신고 처리가 종결되었습니다.", "your report has been closed."},
        [SD_NOTICE_RESULT] = {"기관의 처리 결과가 통보되었습니다.", "the agency has reported its result."},
        [SD_NOTICE_IDENTITY_ACCESS] = {"귀하의 신원 정보에 대한 열람이 있었습니다.",
                                       "your identity was accessed under your consent."},
};

int sd_notice_standard_text(sd_notice_kind_t kind, const char *case_number, const char *detail, char **out)
{
	char ko[NT_BODY_MAX], en[NT_BODY_MAX];
	nt_wording_t w;
	int r;

	*out = NULL;
	if (!kind_is_valid(kind) || kind == SD_NOTICE_WRITTEN)
		return sd_error(SD_ERR_USAGE, "%s: only the standard kinds have a standard text", WHAT);
	if (!sd_case_number_is_valid(case_number))
		return sd_error(SD_ERR_USAGE, "%s: a standard text needs a valid case number", WHAT);
	if (kind == SD_NOTICE_REFERRAL || kind == SD_NOTICE_FORWARDING || kind == SD_NOTICE_TERMINATION ||
	    kind == SD_NOTICE_RESULT || kind == SD_NOTICE_IDENTITY_ACCESS) {
		if ((r = word_detail(kind, detail, ko, en)) < 0)
			return r;
		w = (nt_wording_t){detail_titles[kind][0], ko, detail_titles[kind][1], en};
	} else if (detail != NULL) {
		return sd_error(SD_ERR_USAGE, "%s: the standard %s notice takes no detail", WHAT,
		                sd_notice_kind_name(kind));
	} else {
		w = plain_wording[kind];
	}
	if ((*out = malloc(NT_STD_MAX)) == NULL)
		return SD_ERR_NOMEM;
	snprintf(*out, NT_STD_MAX, "사건번호 %s: %s\n\n%s\n\nCase %s: %s\n\n%s\n", case_number, w.ko_title, w.ko_body,
	         case_number, w.en_title, w.en_body);
	return 0;
}
