/*
 * test_notice.c — notices (crypto/notice.c): the fixed-key vector (hand-built boxes,
 * recomputed by tests/vectors/notice.py), seal/sign/parse/open round trips, every field
 * altered after signing (the signature must catch it), every field's absence and
 * malformation (re-signed by the log key so the field rules must catch it), boxes that
 * do not open or hold a text no reader may be shown, the wrong key, the digest, checking
 * against a directory, and the standard texts of every kind.
 */
#include "unit.h"
#include "unit_json.h"

#include <jansson.h>
#include <sodium.h>

#include "sealdrop/bytes.h"
#include "sealdrop/notice.h"
#include "sealdrop/sign.h"

/* The vector: log seed 60..7f; whistleblower's notice key 20..3f, ephemeral 40..5f;
 * intake key c0..df, ephemeral 80..9f (docs/FORMAT.md, "Notice"). */
#define VEC_TEXT "사건번호 2026-000001: 테스트 통지입니다.\n\nCase 2026-000001: a test notice.\n"
#define VEC_TO_WHISTLEBLOWER                                                                                           \
	"79a631eede1bf9c98f12032cdeadd0e7a079398fc786b88cc846ec89af85a51a8efd57736cb2bf82ab84d9a2214d6c1f"             \
	"61c3385f084e219aa185be19441c5d620007e7c7eb2713e590094b4177ed8653b6c666dd4591c19a5c4ad80d2b99aa3e"             \
	"3d88ed4da866dba3b321e4eeab4dc136e7a8761ad51b8b594d056dfde550fe41901399fdd1e3a2"
#define VEC_TO_COMMISSION                                                                                              \
	"493e82fc74464a59268817623d2053c5eb8e2cc4a988b4fee179ec6b010d531d7ae556ab742c82daf3f547674d4c497a"             \
	"46c92b3a72a35eb1d4cd34d44830562c5b87ef1a1bd2b3257675b8f779c2e0f9823a4260a56796c0887307b4b46da339"             \
	"d1d280d086c9281519c8022f14e29c92000cb7440942f58daa302aeec60c93b230558c7ba1d51c"
#define VEC_MSG_LEN     500
#define VEC_DIGEST      "9de08b5e9914b8a43b24b542df013be2020f50ca580f6986dcffd676bc627a80"
#define VEC_SIGN_DIGEST "ff0b5248bf88512e97dd66c3300528acdd59d54b438f94374d5e89f3cefce57e"
#define VEC_SIG                                                                                                        \
	"942efb3c96af651142aadfa9ae4c5d7d9b56e54f6dff610c5cf7dd52788ae9df138b8789b182b6c39641e0daca65a943"             \
	"7729c7257497301f107c4fc69a2eec01"
#define VEC_FILE_BYTES   726
#define VEC_FILE_BLAKE2B "3b5a3412321402fb9b80b654c4a6c4368417709eb39b2b9779afc7bbe5a172b7"

static sd_seckey_t *k_log, *k_other_log, *k_root, *k_notice, *k_intake, *k_attorney, *k_other;

static int keys_setup(void **state)
{
	if (unit_setup(state) != 0)
		return -1;
	k_log = unit_key_from_byte(SD_KEY_LOG, 0x60);
	k_other_log = unit_key_from_byte(SD_KEY_LOG, 0xa0);
	k_root = unit_key_from_byte(SD_KEY_ROOT, 0x00);
	/* the whistleblower's notice key is a raw X25519 pair: any X25519 kind holds one */
	k_notice = unit_key_from_byte(SD_KEY_ATTORNEY, 0x20);
	k_intake = unit_key_from_byte(SD_KEY_INTAKE, 0xc0);
	k_attorney = unit_key_from_byte(SD_KEY_ATTORNEY, 0xe0);
	k_other = unit_key_from_byte(SD_KEY_INTAKE, 0x10);
	return 0;
}

static int keys_teardown(void **state)
{
	(void)state;
	sd_seckey_free(k_log);
	sd_seckey_free(k_other_log);
	sd_seckey_free(k_root);
	sd_seckey_free(k_notice);
	sd_seckey_free(k_intake);
	sd_seckey_free(k_attorney);
	sd_seckey_free(k_other);
	return 0;
}

static sd_pubkey_t pub(const sd_seckey_t *k)
{
	sd_pubkey_t p;
	sd_seckey_public(k, &p);
	return p;
}

static void base_fields(sd_notice_t *n)
{
	memset(n, 0, sizeof(*n));
	n->version = SD_NOTICE_VERSION;
	snprintf(n->deployment, sizeof(n->deployment), "demo");
	snprintf(n->case_number, sizeof(n->case_number), "2026-000001");
	n->seq = 0;
	n->date = (sd_date_t){2026, 11, 23};
	n->kind = SD_NOTICE_RECEIPT;
}

/* A notice sealed three ways (attorney optional). */
static void sealed_notice(sd_notice_t *n, const char *text, bool attorney)
{
	sd_pubkey_t intake = pub(k_intake);

	base_fields(n);
	assert_int_equal(sd_notice_seal(n, text, k_notice->pk, attorney ? k_attorney->pk : NULL, &intake), 0);
}

static char *sign_ok(const sd_notice_t *n, const sd_seckey_t *log)
{
	char *text = NULL;
	assert_int_equal(sd_notice_sign(n, log, &text), 0);
	assert_non_null(text);
	return text;
}

static int parse_text(const char *text, const sd_seckey_t *log, sd_notice_t *out)
{
	sd_pubkey_t lp = pub(log);
	return sd_notice_parse((const uint8_t *)text, strlen(text), &lp, out);
}

static void blake2b_hex(const void *p, size_t n, char out[65])
{
	uint8_t h[32];
	crypto_generichash(h, sizeof(h), p, n, NULL, 0);
	sd_hex_encode(h, sizeof(h), out);
}

static void assert_box(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	assert_int_equal(alen, blen);
	if (alen > 0)
		assert_memory_equal(a, b, alen);
	else
		assert_true(a == NULL && b == NULL);
}

static void assert_same(const sd_notice_t *a, const sd_notice_t *b)
{
	assert_int_equal(a->version, b->version);
	assert_string_equal(a->deployment, b->deployment);
	assert_string_equal(a->case_number, b->case_number);
	assert_int_equal(a->seq, b->seq);
	assert_int_equal(sd_date_cmp(a->date, b->date), 0);
	assert_int_equal(a->kind, b->kind);
	assert_box(a->to_whistleblower, a->whistleblower_len, b->to_whistleblower, b->whistleblower_len);
	assert_box(a->to_attorney, a->attorney_len, b->to_attorney, b->attorney_len);
	assert_box(a->to_commission, a->commission_len, b->to_commission, b->commission_len);
}

static void assert_opens(const uint8_t *box, size_t len, const sd_seckey_t *k, const char *want)
{
	char *text = NULL;
	size_t n = 0;

	assert_int_equal(sd_notice_open(box, len, k->pk, k->sk, &text, &n), 0);
	assert_int_equal(n, strlen(want));
	assert_string_equal(text, want);
	sd_secret_free(text);
}

/* --- the vector ------------------------------------------------------------------------ */

static uint8_t *hex_box(const char *hex, size_t *len)
{
	uint8_t *b;

	*len = strlen(hex) / 2;
	assert_non_null(b = malloc(*len));
	unit_hex(hex, b, *len);
	return b;
}

static void test_vector(void **state)
{
	uint8_t digest[SD_NOTICE_DIGEST_BYTES], sd[SD_DIGEST_BYTES], sig[SD_SIGN_BYTES];
	char hex[129], *text, *msg;
	sd_notice_t n, got;
	json_t *doc;

	(void)state;
	base_fields(&n);
	n.to_whistleblower = hex_box(VEC_TO_WHISTLEBLOWER, &n.whistleblower_len);
	n.to_commission = hex_box(VEC_TO_COMMISSION, &n.commission_len);
	/* the hand-built boxes open as crypto_box_seal's do */
	assert_opens(n.to_whistleblower, n.whistleblower_len, k_notice, VEC_TEXT);
	assert_opens(n.to_commission, n.commission_len, k_intake, VEC_TEXT);

	text = sign_ok(&n, k_log);
	assert_int_equal(strlen(text), VEC_FILE_BYTES);
	blake2b_hex(text, strlen(text), hex);
	assert_string_equal(hex, VEC_FILE_BLAKE2B);
	assert_int_equal(sd_notice_digest(&n, digest), 0);
	sd_hex_encode(digest, sizeof(digest), hex);
	assert_string_equal(hex, VEC_DIGEST);

	assert_non_null(doc = json_loads(text, 0, NULL));
	assert_non_null(msg = json_dumps(json_object_get(doc, "notice"), JSON_COMPACT | JSON_SORT_KEYS));
	assert_int_equal(strlen(msg), VEC_MSG_LEN);
	sd_sign_digest(SD_PURPOSE_NOTICE, (const uint8_t *)msg, strlen(msg), sd);
	sd_hex_encode(sd, sizeof(sd), hex);
	assert_string_equal(hex, VEC_SIGN_DIGEST);
	assert_int_equal(
	        sd_base64_decode_exact(json_string_value(json_object_get(json_object_get(doc, "signature"), "sig")),
	                               sig, sizeof(sig)),
	        0);
	sd_hex_encode(sig, sizeof(sig), hex);
	assert_string_equal(hex, VEC_SIG);
	assert_null(json_object_get(json_object_get(doc, "notice"), "to_attorney"));

	assert_int_equal(parse_text(text, k_log, &got), 0);
	assert_same(&got, &n);
	assert_memory_equal(got.log_key_id, k_log->id, SD_KEY_ID_BYTES);
	assert_int_equal(sd_notice_digest(&got, digest), 0);
	sd_hex_encode(digest, sizeof(digest), hex);
	assert_string_equal(hex, VEC_DIGEST);
	sd_notice_clear(&got);
	assert_null(got.to_whistleblower);
	assert_int_equal(got.whistleblower_len, 0);
	sd_notice_clear(&n);
	free(msg);
	free(text);
	json_decref(doc);
}

static void test_kind_names(void **state)
{
	static const char *const names[] = {"receipt", "extension",       "referral", "forwarding", "termination",
	                                    "result",  "reinvestigation", "closing",  "written",    "identity-access"};
	sd_notice_kind_t k;

	(void)state;
	for (int i = 0; i < 10; i++) {
		assert_string_equal(sd_notice_kind_name((sd_notice_kind_t)(i + 1)), names[i]);
		assert_true(sd_notice_kind_from_name(names[i], &k));
		assert_int_equal(k, i + 1);
	}
	assert_null(sd_notice_kind_name((sd_notice_kind_t)0));
	assert_null(sd_notice_kind_name((sd_notice_kind_t)11));
	assert_false(sd_notice_kind_from_name("Receipt", &k));
	assert_false(sd_notice_kind_from_name("", &k));
	assert_false(sd_notice_kind_from_name(NULL, &k));
	assert_int_equal(SD_NOTICE_RECEIPT, 1);
	assert_int_equal(SD_NOTICE_WRITTEN, 9);
	assert_int_equal(SD_NOTICE_IDENTITY_ACCESS, 10);
}

/* --- round trips ----------------------------------------------------------------------- */

static void test_roundtrip(void **state)
{
	const char *msg = "결과를 알려 드립니다.\n\tThe agency concluded.";
	sd_notice_t n, got, again;
	char *text;

	(void)state;
	sealed_notice(&n, msg, true);
	n.seq = 2147483647u;
	n.kind = SD_NOTICE_WRITTEN;
	snprintf(n.case_number, sizeof(n.case_number), "9999-999999");
	snprintf(n.deployment, sizeof(n.deployment), "acrc-2026");
	assert_int_equal(n.whistleblower_len, strlen(msg) + SD_SEALBOX_OVERHEAD);
	assert_int_equal(n.attorney_len, strlen(msg) + SD_SEALBOX_OVERHEAD);
	assert_int_equal(n.commission_len, strlen(msg) + SD_SEALBOX_OVERHEAD);
	text = sign_ok(&n, k_log);
	assert_int_equal(text[strlen(text) - 1], '\n');
	assert_non_null(strstr(text, "\"seq\": 2147483647"));
	assert_non_null(strstr(text, "\"kind\": \"written\""));
	assert_int_equal(parse_text(text, k_log, &got), 0);
	assert_same(&got, &n);
	/* each box opens with its own key, and only with it */
	assert_opens(got.to_whistleblower, got.whistleblower_len, k_notice, msg);
	assert_opens(got.to_attorney, got.attorney_len, k_attorney, msg);
	assert_opens(got.to_commission, got.commission_len, k_intake, msg);
	/* fresh ephemeral keys: the same text never gives the same box twice */
	assert_memory_not_equal(got.to_whistleblower, got.to_commission, SD_SEALBOX_OVERHEAD);
	sealed_notice(&again, msg, true);
	assert_memory_not_equal(again.to_whistleblower, got.to_whistleblower, got.whistleblower_len);
	/* sealing again replaces the boxes (no leak: the test runs under ASan in CI) */
	assert_int_equal(sd_notice_seal(&again, "x", k_notice->pk, NULL, &(sd_pubkey_t){0}), SD_ERR_USAGE);
	{
		sd_pubkey_t intake = pub(k_intake);
		assert_int_equal(sd_notice_seal(&again, "x", k_notice->pk, NULL, &intake), 0);
	}
	assert_null(again.to_attorney);
	assert_int_equal(again.attorney_len, 0);
	assert_opens(again.to_whistleblower, again.whistleblower_len, k_notice, "x");
	sd_notice_clear(&again);
	sd_notice_clear(&got);
	sd_notice_clear(&n);
	free(text);
}

static void test_roundtrip_without_attorney_and_max_text(void **state)
{
	sd_notice_t n, got;
	char *big, *text;

	(void)state;
	assert_non_null(big = malloc(SD_NOTICE_TEXT_MAX + 1));
	/* the largest text: 3-byte characters, then newlines */
	for (size_t i = 0; i < SD_NOTICE_TEXT_MAX / 3; i++)
		memcpy(big + 3 * i, "통", 3);
	memset(big + SD_NOTICE_TEXT_MAX / 3 * 3, '\n', SD_NOTICE_TEXT_MAX % 3);
	big[SD_NOTICE_TEXT_MAX] = '\0';
	assert_int_equal(strlen(big), SD_NOTICE_TEXT_MAX);
	sealed_notice(&n, big, false);
	assert_null(n.to_attorney);
	assert_int_equal(n.whistleblower_len, SD_NOTICE_BOX_MAX);
	text = sign_ok(&n, k_log);
	assert_true(strlen(text) < SD_NOTICE_MAX_BYTES);
	assert_null(strstr(text, "to_attorney"));
	assert_int_equal(parse_text(text, k_log, &got), 0);
	assert_same(&got, &n);
	assert_null(got.to_attorney);
	assert_opens(got.to_commission, got.commission_len, k_intake, big);
	sd_notice_clear(&got);
	sd_notice_clear(&n);
	free(text);
	free(big);
}

/* Layout, member order and escaping of the file do not matter: only the values are
 * signed. */
static void test_reformatted_still_verifies(void **state)
{
	sd_notice_t n, got;
	char *text, *compact;
	json_t *doc;

	(void)state;
	sealed_notice(&n, "reformatted", true);
	text = sign_ok(&n, k_log);
	assert_non_null(doc = json_loads(text, 0, NULL));
	assert_non_null(compact = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII));
	assert_int_equal(parse_text(compact, k_log, &got), 0);
	assert_same(&got, &n);
	sd_notice_clear(&got);
	sd_notice_clear(&n);
	free(compact);
	free(text);
	json_decref(doc);
}

/* --- sealing and opening --------------------------------------------------------------- */

static void test_seal_refuses(void **state)
{
	static const struct {
		const char *text;
		int err;
		const char *detail;
	} cases[] = {
	        {"", SD_ERR_INVALID, "notice: the text is empty"},
	        {"a\x01z", SD_ERR_INVALID, "byte 1"},
	        {"bell\a", SD_ERR_INVALID, "byte 4"},
	        {"crlf\r\n", SD_ERR_INVALID, "only newline and tab"},
	        {"esc\x1b[31m", SD_ERR_INVALID, "byte 3"},
	        {"del\x7f", SD_ERR_INVALID, "byte 3"},
	        {"c1 \xc2\x85", SD_ERR_INVALID, "byte 3"},
	        {"bad \xc3\x28", SD_ERR_INVALID, "not UTF-8"},
	        {"overlong \xc0\xaf", SD_ERR_INVALID, "byte 9"},
	        {"surrogate \xed\xa0\x80", SD_ERR_INVALID, "byte 10"},
	        {"cut \xea\xb0", SD_ERR_INVALID, "byte 4"},
	};
	sd_pubkey_t intake = pub(k_intake), attorney = pub(k_attorney);
	uint8_t zero[32] = {0};
	sd_notice_t n;
	char *big;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		base_fields(&n);
		sd_error_clear();
		if (sd_notice_seal(&n, cases[i].text, k_notice->pk, NULL, &intake) != cases[i].err ||
		    strstr(sd_error_detail(), cases[i].detail) == NULL)
			fail_msg("case %zu: '%s'", i, sd_error_detail());
		assert_null(n.to_whistleblower);
		assert_null(n.to_commission);
	}
	assert_non_null(big = malloc(SD_NOTICE_TEXT_MAX + 2));
	memset(big, 'a', SD_NOTICE_TEXT_MAX + 1);
	big[SD_NOTICE_TEXT_MAX + 1] = '\0';
	assert_int_equal(sd_notice_seal(&n, big, k_notice->pk, NULL, &intake), SD_ERR_TOOBIG);
	big[SD_NOTICE_TEXT_MAX] = '\0';
	assert_int_equal(sd_notice_seal(&n, big, k_notice->pk, NULL, &intake), 0);
	sd_notice_clear(&n);
	free(big);
	/* the boxes go to an intake key, never to another kind */
	assert_int_equal(sd_notice_seal(&n, "x", k_notice->pk, NULL, &attorney), SD_ERR_USAGE);
	assert_int_equal(sd_notice_seal(&n, "x", k_notice->pk, NULL, NULL), SD_ERR_USAGE);
	assert_int_equal(sd_notice_seal(&n, NULL, k_notice->pk, NULL, &intake), SD_ERR_USAGE);
	assert_int_equal(sd_notice_seal(&n, "x", NULL, NULL, &intake), SD_ERR_USAGE);
	/* a low-order point: nothing can be sealed to it, and n keeps what it had */
	sealed_notice(&n, "kept", false);
	assert_int_equal(sd_notice_seal(&n, "x", zero, NULL, &intake), SD_ERR_INVALID);
	assert_int_equal(sd_notice_seal(&n, "x", k_notice->pk, zero, &intake), SD_ERR_INVALID);
	assert_opens(n.to_whistleblower, n.whistleblower_len, k_notice, "kept");
	sd_notice_clear(&n);
}

static void test_open_refuses(void **state)
{
#define S(x)                                                                                                           \
	{                                                                                                              \
		x, sizeof(x) - 1                                                                                       \
	}
	static const struct {
		const char *s;
		size_t n;
	} unshowable[] = {S("a\x01"), S("\x1b[2J"), S("tab\tok but \r not"), S("\xc3\x28"), S("nul\0x"), S("\xc2\x9b")};
#undef S
	uint8_t *box = NULL, *big;
	size_t len = 0;
	sd_notice_t n;
	char *text = NULL;
	size_t tl = 0;

	(void)state;
	sealed_notice(&n, "line one\n\tindented", true);
	assert_opens(n.to_whistleblower, n.whistleblower_len, k_notice, "line one\n\tindented");
	/* the wrong pair, or a pair whose halves do not match */
	assert_int_equal(
	        sd_notice_open(n.to_whistleblower, n.whistleblower_len, k_attorney->pk, k_attorney->sk, &text, &tl),
	        SD_ERR_VERIFY);
	assert_non_null(strstr(sd_error_detail(), "does not open with this key"));
	assert_null(text);
	assert_int_equal(
	        sd_notice_open(n.to_whistleblower, n.whistleblower_len, k_notice->pk, k_attorney->sk, &text, &tl),
	        SD_ERR_VERIFY);
	assert_int_equal(sd_notice_open(n.to_attorney, n.attorney_len, k_intake->pk, k_intake->sk, &text, &tl),
	                 SD_ERR_VERIFY);
	/* any altered byte */
	for (size_t i = 0; i < n.commission_len; i += 5) {
		n.to_commission[i] ^= 0x20;
		assert_int_equal(
		        sd_notice_open(n.to_commission, n.commission_len, k_intake->pk, k_intake->sk, &text, &tl),
		        SD_ERR_VERIFY);
		assert_null(text);
		n.to_commission[i] ^= 0x20;
	}
	assert_int_equal(sd_notice_open(n.to_commission, SD_SEALBOX_OVERHEAD, k_intake->pk, k_intake->sk, &text, &tl),
	                 SD_ERR_TRUNCATED);
	assert_int_equal(sd_notice_open(n.to_commission, n.commission_len - 1, k_intake->pk, k_intake->sk, &text, &tl),
	                 SD_ERR_VERIFY);
	assert_non_null(big = calloc(1, SD_NOTICE_BOX_MAX + 1));
	assert_int_equal(sd_notice_open(big, SD_NOTICE_BOX_MAX + 1, k_intake->pk, k_intake->sk, &text, &tl),
	                 SD_ERR_TOOBIG);
	free(big);
	assert_int_equal(sd_notice_open(NULL, 60, k_intake->pk, k_intake->sk, &text, &tl), SD_ERR_USAGE);
	assert_int_equal(sd_notice_open(n.to_commission, n.commission_len, NULL, k_intake->sk, &text, &tl),
	                 SD_ERR_USAGE);
	sd_notice_clear(&n);
	/* a box that opens but holds what no reader may be shown (a sender that is not sealdrop) */
	for (size_t i = 0; i < sizeof(unshowable) / sizeof(unshowable[0]); i++) {
		assert_int_equal(sd_sealbox_seal_raw(k_notice->pk, (const uint8_t *)unshowable[i].s, unshowable[i].n,
		                                     &box, &len),
		                 0);
		if (sd_notice_open(box, len, k_notice->pk, k_notice->sk, &text, &tl) != SD_ERR_FORMAT)
			fail_msg("unshowable %zu opened", i);
		assert_null(text);
		assert_int_equal(tl, 0);
		free(box);
	}
}

/* The raw sealed-box functions added for notices, next to the key-file ones. */
static void test_sealbox_raw(void **state)
{
	uint8_t *box = NULL, *plain = NULL, zero[32] = {0};
	size_t len = 0, pl = 0;

	(void)state;
	assert_int_equal(sd_sealbox_seal_raw(k_notice->pk, (const uint8_t *)"abc", 3, &box, &len), 0);
	assert_int_equal(len, 3 + SD_SEALBOX_OVERHEAD);
	assert_int_equal(sd_sealbox_open_raw(k_notice->pk, k_notice->sk, box, len, &plain, &pl), 0);
	assert_int_equal(pl, 3);
	assert_string_equal((const char *)plain, "abc");
	sd_secret_free(plain);
	/* a box to an attorney key file's public half opens with the key file */
	assert_int_equal(sd_sealbox_open(k_notice, box, len, &plain, &pl), 0);
	sd_secret_free(plain);
	assert_int_equal(sd_sealbox_open_raw(k_intake->pk, k_intake->sk, box, len, &plain, &pl), SD_ERR_VERIFY);
	assert_null(plain);
	assert_int_equal(sd_sealbox_open(k_intake, box, len, &plain, &pl), SD_ERR_VERIFY);
	assert_non_null(strstr(sd_error_detail(), "with key intake"));
	free(box);
	assert_int_equal(sd_sealbox_seal_raw(zero, (const uint8_t *)"abc", 3, &box, &len), SD_ERR_INVALID);
	assert_null(box);
	assert_int_equal(sd_sealbox_seal_raw(NULL, (const uint8_t *)"abc", 3, &box, &len), SD_ERR_USAGE);
	assert_int_equal(sd_sealbox_seal_raw(k_notice->pk, NULL, 3, &box, &len), SD_ERR_USAGE);
}

/* --- altered after signing -------------------------------------------------------------- */

static json_t *signed_doc(void)
{
	sd_notice_t n;
	char *text;
	json_t *doc;

	sealed_notice(&n, "a notice", true);
	n.seq = 3;
	n.kind = SD_NOTICE_RESULT;
	text = sign_ok(&n, k_log);
	sd_notice_clear(&n);
	assert_non_null(doc = json_loads(text, 0, NULL));
	free(text);
	return doc;
}

static int parse_doc(json_t *doc, const sd_seckey_t *log, sd_notice_t *out)
{
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	int r;

	assert_non_null(text);
	r = parse_text(text, log, out);
	free(text);
	return r;
}

/* Another box of the same length, sealed to the same key. */
static char *other_box_json(void)
{
	static char json[256];
	uint8_t *box = NULL;
	size_t len = 0;
	char b64[200];

	assert_int_equal(sd_sealbox_seal_raw(k_notice->pk, (const uint8_t *)"a notice", 8, &box, &len), 0);
	sd_base64_encode(box, len, b64);
	snprintf(json, sizeof(json), "\"%s\"", b64);
	free(box);
	return json;
}

static void test_every_field_altered(void **state)
{
	struct {
		const char *path, *value;
	} cases[] = {
	        {"notice.version", "2"},
	        {"notice.deployment", "\"demp\""},
	        {"notice.case", "\"2026-000002\""},
	        {"notice.seq", "4"},
	        {"notice.date", "\"2026-11-24\""},
	        {"notice.kind", "\"closing\""},
	        {"notice.to_whistleblower", other_box_json()},
	        {"notice.to_attorney", NULL},
	        {"notice.to_commission", NULL},
	        {"notice.extra", "1"},
	};
	sd_notice_t got;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *doc = signed_doc();

		assert_int_equal(parse_doc(doc, k_log, &got), 0);
		sd_notice_clear(&got);
		unit_json_set(doc, cases[i].path, cases[i].value);
		sd_error_clear();
		if (parse_doc(doc, k_log, &got) != SD_ERR_VERIFY)
			fail_msg("altered %s: got '%s'", cases[i].path, sd_error_detail());
		assert_non_null(strstr(sd_error_detail(), "notice: the log key's signature does not verify"));
		assert_null(got.to_whistleblower);
		json_decref(doc);
	}
}

static void test_signature_altered(void **state)
{
	uint8_t sig[SD_SIGN_BYTES];
	char b64[SD_SIGN_BYTES * 2];
	sd_notice_t got;
	json_t *doc = signed_doc(), *s = json_object_get(doc, "signature");

	(void)state;
	assert_int_equal(sd_base64_decode_exact(json_string_value(json_object_get(s, "sig")), sig, sizeof(sig)), 0);
	for (size_t i = 0; i < sizeof(sig); i += 9) {
		sig[i] ^= 0x01;
		sd_base64_encode(sig, sizeof(sig), b64);
		json_object_set_new(s, "sig", json_string(b64));
		assert_int_equal(parse_doc(doc, k_log, &got), SD_ERR_VERIFY);
		sig[i] ^= 0x01;
	}
	json_decref(doc);
}

/* --- keys ------------------------------------------------------------------------------ */

static void test_wrong_key(void **state)
{
	char *text, other[SD_KEY_ID_HEX_BYTES], ours[SD_KEY_ID_HEX_BYTES], want[128];
	sd_pubkey_t root = pub(k_root);
	sd_notice_t n, got;

	(void)state;
	sealed_notice(&n, "signed by someone else", false);
	sd_key_id_hex(k_other_log->id, other);
	sd_key_id_hex(k_log->id, ours);
	/* signed by another log key, checked against ours */
	text = sign_ok(&n, k_other_log);
	assert_int_equal(parse_text(text, k_log, &got), SD_ERR_VERIFY);
	snprintf(want, sizeof(want), "notice was signed by key %s, not the log key %s", other, ours);
	assert_string_equal(sd_error_detail(), want);
	assert_null(got.to_whistleblower);
	assert_int_equal(parse_text(text, k_other_log, &got), 0);
	assert_memory_equal(got.log_key_id, k_other_log->id, SD_KEY_ID_BYTES);
	sd_notice_clear(&got);
	free(text);
	/* the right notice checked against another key */
	text = sign_ok(&n, k_log);
	assert_int_equal(parse_text(text, k_other_log, &got), SD_ERR_VERIFY);
	/* not a log key at all */
	assert_int_equal(sd_notice_parse((const uint8_t *)text, strlen(text), &root, &got), SD_ERR_USAGE);
	assert_int_equal(sd_notice_parse((const uint8_t *)text, strlen(text), NULL, &got), SD_ERR_USAGE);
	free(text);
	/* only a log key signs */
	assert_int_equal(sd_notice_sign(&n, k_root, &text), SD_ERR_USAGE);
	assert_null(text);
	assert_int_equal(sd_notice_sign(&n, NULL, &text), SD_ERR_USAGE);
	sd_notice_clear(&n);
}

/* The log key's signature for another purpose (a receipt, a head) is not a notice's. */
static void test_wrong_purpose(void **state)
{
	uint8_t sig[SD_SIGN_BYTES];
	char b64[SD_SIGN_BYTES * 2], *msg;
	sd_notice_t got;
	json_t *doc = signed_doc();

	(void)state;
	assert_non_null(msg = json_dumps(json_object_get(doc, "notice"), JSON_COMPACT | JSON_SORT_KEYS));
	assert_int_equal(sd_sign(SD_PURPOSE_RECEIPT, k_log->sk, (const uint8_t *)msg, strlen(msg), sig), 0);
	sd_base64_encode(sig, sizeof(sig), b64);
	json_object_set_new(json_object_get(doc, "signature"), "sig", json_string(b64));
	assert_int_equal(parse_doc(doc, k_log, &got), SD_ERR_VERIFY);
	assert_int_equal(sd_sign(SD_PURPOSE_NOTICE, k_log->sk, (const uint8_t *)msg, strlen(msg), sig), 0);
	sd_base64_encode(sig, sizeof(sig), b64);
	json_object_set_new(json_object_get(doc, "signature"), "sig", json_string(b64));
	assert_int_equal(parse_doc(doc, k_log, &got), 0);
	sd_notice_clear(&got);
	free(msg);
	json_decref(doc);
}

/* --- re-signed malformations ----------------------------------------------------------- */

/* Re-signs doc's "notice" with the log key, as a server with a bug would. */
static void resign(json_t *doc)
{
	uint8_t sig[SD_SIGN_BYTES];
	char b64[SD_SIGN_BYTES * 2];
	char *msg = json_dumps(json_object_get(doc, "notice"), JSON_COMPACT | JSON_SORT_KEYS);

	assert_non_null(msg);
	assert_int_equal(sd_sign(SD_PURPOSE_NOTICE, k_log->sk, (const uint8_t *)msg, strlen(msg), sig), 0);
	sd_base64_encode(sig, sizeof(sig), b64);
	assert_int_equal(json_object_set_new(json_object_get(doc, "signature"), "sig", json_string(b64)), 0);
	free(msg);
}

struct field_case {
	const char *path;
	const char *value; /* NULL: delete */
	int err;
	const char *detail; /* substring of the detail */
};

#define B64_JSON(n) (4 * (((n) + 2) / 3) + 3)
static char long_dep[SD_DEPLOYMENT_MAX + 8], max_dep[SD_DEPLOYMENT_MAX + 8];
static char box48[B64_JSON(48)], box49[B64_JSON(49)], box_max[B64_JSON(SD_NOTICE_BOX_MAX)];
static char box_over[B64_JSON(SD_NOTICE_BOX_MAX + 1)], box_noncanon[B64_JSON(49)], box_nopad[B64_JSON(49)];
static char box_urlsafe[B64_JSON(49)], box_space[B64_JSON(49)];

#define BOX_RULE(f) "notice: notice." f " must be base64 of a sealed box (49 to 16432 bytes)"

static const struct field_case field_cases[] = {
        /* version */
        {"notice.version", NULL, SD_ERR_FORMAT, "notice: missing field notice.version"},
        {"notice.version", "2", SD_ERR_VERSION, "notice: version 2 is not supported"},
        {"notice.version", "0", SD_ERR_VERSION, "version 0 is not supported"},
        {"notice.version", "\"1\"", SD_ERR_FORMAT, "notice.version must be an integer"},
        {"notice.version", "1.0", SD_ERR_FORMAT, "notice.version must be an integer"},
        /* deployment */
        {"notice.deployment", NULL, SD_ERR_FORMAT, "missing field notice.deployment"},
        {"notice.deployment", "\"\"", SD_ERR_FORMAT, "notice.deployment must be 1 to 64"},
        {"notice.deployment", "\"Demo\"", SD_ERR_FORMAT, "notice.deployment must be 1 to 64"},
        {"notice.deployment", "\"demo-\"", SD_ERR_FORMAT, "notice.deployment must be 1 to 64"},
        {"notice.deployment", long_dep, SD_ERR_FORMAT, "notice.deployment is longer than 64 bytes"},
        {"notice.deployment", max_dep, 0, NULL},
        {"notice.deployment", "7", SD_ERR_FORMAT, "notice.deployment must be a string"},
        /* case */
        {"notice.case", NULL, SD_ERR_FORMAT, "missing field notice.case"},
        {"notice.case", "\"2026-000000\"", SD_ERR_FORMAT, "notice.case must be YYYY-NNNNNN"},
        {"notice.case", "\"1999-000001\"", SD_ERR_FORMAT, "notice.case must be YYYY-NNNNNN"},
        {"notice.case", "\"2026-00001\"", SD_ERR_FORMAT, "notice.case must be YYYY-NNNNNN"},
        {"notice.case", "\"2026-0000001\"", SD_ERR_FORMAT, "notice.case is longer than 11 bytes"},
        {"notice.case", "2026000001", SD_ERR_FORMAT, "notice.case must be a string"},
        {"notice.case", "\"9999-999999\"", 0, NULL},
        /* seq */
        {"notice.seq", NULL, SD_ERR_FORMAT, "missing field notice.seq"},
        {"notice.seq", "-1", SD_ERR_FORMAT, "notice.seq must be between 0 and 2147483647"},
        {"notice.seq", "2147483648", SD_ERR_FORMAT, "notice.seq must be between 0 and 2147483647"},
        {"notice.seq", "4294967299", SD_ERR_FORMAT, "notice.seq must be between 0 and 2147483647"},
        {"notice.seq", "2147483647", 0, NULL},
        {"notice.seq", "0", 0, NULL},
        {"notice.seq", "\"3\"", SD_ERR_FORMAT, "notice.seq must be an integer"},
        {"notice.seq", "3.0", SD_ERR_FORMAT, "notice.seq must be an integer"},
        /* date */
        {"notice.date", NULL, SD_ERR_FORMAT, "missing field notice.date"},
        {"notice.date", "\"2026-02-30\"", SD_ERR_FORMAT, "notice.date must be a calendar date YYYY-MM-DD"},
        {"notice.date", "\"2026-1-05\"", SD_ERR_FORMAT, "notice.date must be a calendar date YYYY-MM-DD"},
        {"notice.date", "\"2026-11-23T00:00\"", SD_ERR_FORMAT, "notice.date must be a calendar date"},
        {"notice.date", "20261123", SD_ERR_FORMAT, "notice.date must be a string"},
        {"notice.date", "\"2028-02-29\"", 0, NULL},
        /* kind */
        {"notice.kind", NULL, SD_ERR_FORMAT, "missing field notice.kind"},
        {"notice.kind", "\"Result\"", SD_ERR_FORMAT, "notice.kind must be one of receipt, extension,"},
        {"notice.kind", "\"\"", SD_ERR_FORMAT, "notice.kind must be one of"},
        {"notice.kind", "\"notice\"", SD_ERR_FORMAT, "notice.kind must be one of"},
        {"notice.kind", "6", SD_ERR_FORMAT, "notice.kind must be a string"},
        {"notice.kind", "\"written\"", 0, NULL},
        {"notice.kind", "\"reinvestigation\"", 0, NULL},
        /* the boxes */
        {"notice.to_whistleblower", NULL, SD_ERR_FORMAT, "missing field notice.to_whistleblower"},
        {"notice.to_commission", NULL, SD_ERR_FORMAT, "missing field notice.to_commission"},
        {"notice.to_attorney", NULL, 0, NULL},
        {"notice.to_attorney", "null", SD_ERR_FORMAT, "notice.to_attorney must be a string"},
        {"notice.to_whistleblower", "5", SD_ERR_FORMAT, "notice.to_whistleblower must be a string"},
        {"notice.to_whistleblower", "\"\"", SD_ERR_FORMAT, BOX_RULE("to_whistleblower")},
        {"notice.to_whistleblower", box48, SD_ERR_FORMAT, BOX_RULE("to_whistleblower")},
        {"notice.to_whistleblower", box49, 0, NULL},
        {"notice.to_attorney", box48, SD_ERR_FORMAT, BOX_RULE("to_attorney")},
        {"notice.to_attorney", box_max, 0, NULL},
        {"notice.to_attorney", box_over, SD_ERR_FORMAT, BOX_RULE("to_attorney")},
        {"notice.to_commission", box_max, 0, NULL},
        {"notice.to_commission", box_over, SD_ERR_FORMAT, BOX_RULE("to_commission")},
        {"notice.to_commission", box_noncanon, SD_ERR_FORMAT, BOX_RULE("to_commission")},
        {"notice.to_commission", box_nopad, SD_ERR_FORMAT, BOX_RULE("to_commission")},
        {"notice.to_commission", box_urlsafe, SD_ERR_FORMAT, BOX_RULE("to_commission")},
        {"notice.to_commission", box_space, SD_ERR_FORMAT, BOX_RULE("to_commission")},
        {"notice.to_commission", "\"====\"", SD_ERR_FORMAT, BOX_RULE("to_commission")},
        /* unknown fields */
        {"notice.Seq", "1", SD_ERR_FORMAT, "notice: unknown field notice.Seq"},
        {"notice.log_key_id", "\"89d4e152054dfb5e\"", SD_ERR_FORMAT, "notice: unknown field notice.log_key_id"},
        {"notice.text", "\"plain\"", SD_ERR_FORMAT, "notice: unknown field notice.text"},
};

static void quoted_b64(const uint8_t *bin, size_t len, char *out)
{
	out[0] = '"';
	sd_base64_encode(bin, len, out + 1);
	memcpy(out + strlen(out), "\"", 2);
}

static void init_values(void)
{
	uint8_t *zero = calloc(1, SD_NOTICE_BOX_MAX + 1);
	size_t n;

	assert_non_null(zero);
	memset(long_dep, 0, sizeof(long_dep));
	memset(max_dep, 0, sizeof(max_dep));
	long_dep[0] = max_dep[0] = '"';
	memset(long_dep + 1, 'a', SD_DEPLOYMENT_MAX + 1);
	memset(max_dep + 1, 'a', SD_DEPLOYMENT_MAX);
	long_dep[SD_DEPLOYMENT_MAX + 2] = max_dep[SD_DEPLOYMENT_MAX + 1] = '"';
	quoted_b64(zero, 48, box48);
	quoted_b64(zero, 49, box49);
	quoted_b64(zero, SD_NOTICE_BOX_MAX, box_max);
	quoted_b64(zero, SD_NOTICE_BOX_MAX + 1, box_over);
	free(zero);
	/* 49 bytes: "AAAA...AA==", the last 'A' carrying 4 unused bits */
	n = strlen(box49);
	memcpy(box_noncanon, box49, n + 1);
	box_noncanon[n - 4] = 'B';
	memcpy(box_nopad, box49, n + 1);
	memcpy(box_nopad + n - 3, "\"", 2);
	memcpy(box_urlsafe, box49, n + 1);
	box_urlsafe[5] = '-';
	memcpy(box_space, box49, n + 1);
	box_space[9] = ' ';
}

static void test_field_cases(void **state)
{
	sd_notice_t got;

	(void)state;
	init_values();
	for (size_t i = 0; i < sizeof(field_cases) / sizeof(field_cases[0]); i++) {
		const struct field_case *c = &field_cases[i];
		json_t *doc = signed_doc();
		int r;

		unit_json_set(doc, c->path, c->value);
		resign(doc);
		sd_error_clear();
		r = parse_doc(doc, k_log, &got);
		if (r != c->err || (c->detail != NULL && strstr(sd_error_detail(), c->detail) == NULL))
			fail_msg("%s = %.40s: got %d '%s', want %d '%s'", c->path, c->value ? c->value : "(deleted)", r,
			         sd_error_detail(), c->err, c->detail ? c->detail : "");
		if (r < 0) {
			/* nothing half-parsed is left behind */
			assert_int_equal(got.case_number[0], '\0');
			assert_int_equal(got.version, 0);
			assert_null(got.to_whistleblower);
			assert_null(got.to_attorney);
			assert_null(got.to_commission);
		}
		sd_notice_clear(&got);
		json_decref(doc);
	}
}

/* The envelope is checked before the signature: no re-signing needed. */
static void test_envelope_cases(void **state)
{
	static const struct field_case cases[] = {
	        {"notice", NULL, SD_ERR_FORMAT, "notice: missing field notice"},
	        {"notice", "[]", SD_ERR_FORMAT, "notice: notice must be an object"},
	        {"signature", NULL, SD_ERR_FORMAT, "notice: missing field signature"},
	        {"signature", "\"x\"", SD_ERR_FORMAT, "notice: signature must be an object"},
	        {"signature.key_id", NULL, SD_ERR_FORMAT, "missing field signature.key_id"},
	        {"signature.key_id", "\"xyz\"", SD_ERR_FORMAT, "signature.key_id must be 16 lower-case"},
	        {"signature.sig", NULL, SD_ERR_FORMAT, "missing field signature.sig"},
	        {"signature.sig", "\"AAAA\"", SD_ERR_FORMAT, "signature.sig must be the base64 of 64 bytes"},
	        {"signature.key", "\"AAAA\"", SD_ERR_FORMAT, "notice: unknown field signature.key"},
	        {"receipt", "{}", SD_ERR_FORMAT, "notice: unknown field receipt"},
	};
	sd_notice_t got;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *doc = signed_doc();
		int r;

		unit_json_set(doc, cases[i].path, cases[i].value);
		sd_error_clear();
		r = parse_doc(doc, k_log, &got);
		if (r != cases[i].err || strstr(sd_error_detail(), cases[i].detail) == NULL)
			fail_msg("%s: got %d '%s'", cases[i].path, r, sd_error_detail());
		json_decref(doc);
	}
}

static void test_malformed_documents(void **state)
{
	static const struct {
		const char *text;
		const char *detail;
	} cases[] = {
	        {"", "notice: invalid JSON"},
	        {"{", "notice: invalid JSON"},
	        {"[]", "the document must be a JSON object"},
	        {"{\"notice\": {}, \"notice\": {}, \"signature\": {}}", "invalid JSON"},
	        {"{\"notice\": {}, \"signature\": {}} {}", "invalid JSON"},
	        {"{\"notice\": {\"kind\": \"\\u0000\"}, \"signature\": {}}", "invalid JSON"},
	        {"{\"notice\": {\"kind\": \"\xff\"}, \"signature\": {}}", "invalid JSON"},
	};
	sd_pubkey_t lp = pub(k_log);
	sd_notice_t got;
	char *big;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sd_error_clear();
		assert_int_equal(sd_notice_parse((const uint8_t *)cases[i].text, strlen(cases[i].text), &lp, &got),
		                 SD_ERR_FORMAT);
		assert_non_null(strstr(sd_error_detail(), cases[i].detail));
	}
	assert_int_equal(sd_notice_parse(NULL, 1, &lp, &got), SD_ERR_USAGE);
	/* the size limit is checked before parsing */
	assert_non_null(big = malloc(SD_NOTICE_MAX_BYTES + 1));
	memset(big, ' ', SD_NOTICE_MAX_BYTES + 1);
	assert_int_equal(sd_notice_parse((const uint8_t *)big, SD_NOTICE_MAX_BYTES + 1, &lp, &got), SD_ERR_TOOBIG);
	big[0] = '{';
	big[SD_NOTICE_MAX_BYTES - 1] = '}';
	assert_int_equal(sd_notice_parse((const uint8_t *)big, SD_NOTICE_MAX_BYTES, &lp, &got), SD_ERR_FORMAT);
	assert_non_null(strstr(sd_error_detail(), "missing field notice"));
	free(big);
}

/* --- signing and the digest refuse what parsing would refuse --------------------------- */

static void test_sign_refuses(void **state)
{
	sd_notice_t n;
	uint8_t digest[SD_NOTICE_DIGEST_BYTES], *keep;
	char *text = NULL;
	size_t keep_len;

	(void)state;
	sealed_notice(&n, "refused", true);
#define REFUSED(what)                                                                                                  \
	do {                                                                                                           \
		assert_int_equal(sd_notice_sign(&n, k_log, &text), SD_ERR_INVALID);                                    \
		assert_non_null(strstr(sd_error_detail(), what));                                                      \
		assert_int_equal(sd_notice_digest(&n, digest), SD_ERR_INVALID);                                        \
		assert_null(text);                                                                                     \
	} while (0)
	n.version = 2;
	REFUSED("version 2");
	n.version = SD_NOTICE_VERSION;
	snprintf(n.case_number, sizeof(n.case_number), "2026-000000");
	REFUSED("notice.case");
	snprintf(n.case_number, sizeof(n.case_number), "2026-000001");
	n.deployment[0] = '\0';
	REFUSED("notice.deployment");
	snprintf(n.deployment, sizeof(n.deployment), "demo");
	n.seq = 2147483648u;
	REFUSED("notice.seq");
	n.seq = 1;
	n.date = (sd_date_t){2026, 2, 30};
	REFUSED("notice.date");
	n.date = (sd_date_t){2026, 2, 28};
	n.kind = (sd_notice_kind_t)0;
	REFUSED("notice.kind");
	n.kind = (sd_notice_kind_t)11;
	REFUSED("notice.kind");
	n.kind = SD_NOTICE_CLOSING;
	keep = n.to_commission, keep_len = n.commission_len;
	n.to_commission = NULL;
	REFUSED("notice.to_commission");
	n.to_commission = keep;
	n.commission_len = SD_SEALBOX_OVERHEAD;
	REFUSED("notice.to_commission");
	n.commission_len = SD_NOTICE_BOX_MAX + 1;
	REFUSED("notice.to_commission");
	n.commission_len = keep_len;
	keep = n.to_attorney, keep_len = n.attorney_len;
	n.to_attorney = NULL;
	REFUSED("notice.to_attorney"); /* a length without a box */
	n.attorney_len = 0;
	text = sign_ok(&n, k_log);
	free(text);
	n.to_attorney = keep, n.attorney_len = keep_len;
	keep = n.to_whistleblower;
	n.to_whistleblower = NULL;
	REFUSED("notice.to_whistleblower");
	n.to_whistleblower = keep;
#undef REFUSED
	assert_int_equal(sd_notice_digest(NULL, digest), SD_ERR_USAGE);
	sd_notice_clear(&n);
}

static void test_digest(void **state)
{
	uint8_t d1[SD_NOTICE_DIGEST_BYTES], d2[SD_NOTICE_DIGEST_BYTES], want[32];
	sd_notice_t n, got;
	char *text, *msg;
	json_t *doc;

	(void)state;
	sealed_notice(&n, "digest", true);
	assert_int_equal(sd_notice_digest(&n, d1), 0);
	assert_int_equal(sd_notice_digest(&n, d2), 0);
	assert_memory_equal(d1, d2, sizeof(d1));
	/* BLAKE2b-256 of the bytes the signature covers, recomputed from the signed file */
	text = sign_ok(&n, k_log);
	assert_non_null(doc = json_loads(text, 0, NULL));
	assert_non_null(msg = json_dumps(json_object_get(doc, "notice"), JSON_COMPACT | JSON_SORT_KEYS));
	crypto_generichash(want, sizeof(want), (const uint8_t *)msg, strlen(msg), NULL, 0);
	assert_memory_equal(d1, want, sizeof(want));
	/* the parsed notice has the same digest */
	assert_int_equal(parse_text(text, k_log, &got), 0);
	assert_int_equal(sd_notice_digest(&got, d2), 0);
	assert_memory_equal(d1, d2, sizeof(d1));
	/* and every field changes it */
	got.seq++;
	assert_int_equal(sd_notice_digest(&got, d2), 0);
	assert_memory_not_equal(d1, d2, sizeof(d1));
	got.seq--;
	got.kind = SD_NOTICE_CLOSING;
	assert_int_equal(sd_notice_digest(&got, d2), 0);
	assert_memory_not_equal(d1, d2, sizeof(d1));
	got.kind = n.kind;
	got.to_attorney[7] ^= 1;
	assert_int_equal(sd_notice_digest(&got, d2), 0);
	assert_memory_not_equal(d1, d2, sizeof(d1));
	sd_notice_clear(&got);
	sd_notice_clear(&n);
	free(msg);
	free(text);
	json_decref(doc);
}

/* --- against a directory --------------------------------------------------------------- */

static void test_with_directory(void **state)
{
	sd_directory_t d;
	sd_notice_t n, got;
	char *text;

	(void)state;
	memset(&d, 0, sizeof(d));
	snprintf(d.deployment, sizeof(d.deployment), "demo");
	sealed_notice(&n, "directory", false);
	text = sign_ok(&n, k_log);
	assert_int_equal(sd_notice_verify_with_directory((const uint8_t *)text, strlen(text), &d, &got),
	                 SD_ERR_INVALID);
	assert_non_null(strstr(sd_error_detail(), "lists no log key"));
	d.has_log = true;
	d.log = pub(k_log);
	assert_int_equal(sd_notice_verify_with_directory((const uint8_t *)text, strlen(text), &d, &got), 0);
	assert_string_equal(got.case_number, "2026-000001");
	sd_notice_clear(&got);
	d.log = pub(k_other_log);
	assert_int_equal(sd_notice_verify_with_directory((const uint8_t *)text, strlen(text), &d, &got), SD_ERR_VERIFY);
	d.log = pub(k_log);
	snprintf(d.deployment, sizeof(d.deployment), "demo2");
	assert_int_equal(sd_notice_verify_with_directory((const uint8_t *)text, strlen(text), &d, &got),
	                 SD_ERR_DEPLOYMENT);
	assert_string_equal(sd_error_detail(), "notice: issued for deployment 'demo', not 'demo2'");
	assert_int_equal(got.case_number[0], '\0');
	assert_null(got.to_whistleblower);
	assert_int_equal(sd_notice_verify_with_directory((const uint8_t *)text, strlen(text), NULL, &got),
	                 SD_ERR_USAGE);
	sd_notice_clear(&n);
	free(text);
}

/* --- the standard texts ---------------------------------------------------------------- */

/* Valid UTF-8, only newline as a control character, Korean before English. */
static void assert_readable(const char *text, const char *case_number)
{
	char ko[64], en[64];
	const char *k, *e;

	assert_true(sd_utf8_is_valid(text, strlen(text)));
	for (const char *p = text; *p; p++)
		assert_true((unsigned char)*p >= 0x20 || *p == '\n');
	snprintf(ko, sizeof(ko), "사건번호 %s: ", case_number);
	snprintf(en, sizeof(en), "\n\nCase %s: ", case_number);
	assert_non_null(k = strstr(text, ko));
	assert_true(k == text);
	assert_non_null(e = strstr(text, en));
	/* polite formal Korean: every Korean sentence of the first part ends in 다. */
	assert_non_null(strstr(text, "니다."));
	assert_null(strstr(e, "니다"));
	assert_int_equal(text[strlen(text) - 1], '\n');
}

static void test_standard_texts(void **state)
{
	static const struct {
		sd_notice_kind_t kind;
		const char *detail;
		const char *has[4]; /* substrings the text must contain */
	} cases[] = {
	        {SD_NOTICE_RECEIPT,
	         NULL,
	         {"접수되었습니다", "60일", "received your public interest report", "60 days"}},
	        {SD_NOTICE_EXTENSION, NULL, {"30일 연장", "제8조제2항", "by 30 days", "Art. 8(2)"}},
	        {SD_NOTICE_REFERRAL,
	         "inspection: 공정거래위원회",
	         {"조사기관인 공정거래위원회에 이첩", "제9조제1항",
	          "referred your report to 공정거래위원회, for inspection", "Art. 9(1)"}},
	        {SD_NOTICE_REFERRAL,
	         "investigation: Seoul Central District Prosecutors' Office",
	         {"수사기관인 Seoul Central", "수사를 마치면", "Office, for investigation", "unless you consent"}},
	        {SD_NOTICE_REFERRAL,
	         "Ministry of Environment",
	         {"귀하의 신고를 Ministry of Environment에 이첩", "조사 또는 수사를",
	          "referred your report to Ministry of Environment (Decree", NULL}},
	        {SD_NOTICE_FORWARDING,
	         "환경부",
	         {"환경부에 송부", "제10조", "forwarded your report to 환경부", "Art. 10"}},
	        {SD_NOTICE_TERMINATION, "unrelated", {"관련이 없다고", "제12조", "do not concern", "Art. 12"}},
	        {SD_NOTICE_TERMINATION,
	         "no-evidence",
	         {"증거나 자료가 충분하지 않다고", "제12조", "not enough evidence", NULL}},
	        {SD_NOTICE_TERMINATION,
	         "not-inspectable",
	         {"조사나 수사를 할 수 없는", "제12조", "cannot be inspected", NULL}},
	        {SD_NOTICE_RESULT,
	         "2026-03-04",
	         {"2026년 3월 4일", "7일 이내", "on 2026-03-04",
	          "within 7 days after this notice (Decree Art. 11-3(1)) with the command sealdrop object"}},
	        {SD_NOTICE_REINVESTIGATION,
	         NULL,
	         {"재조사를 요구하였습니다", "제11조의3제2항", "reinvestigate", "Art. 11-3(2)"}},
	        {SD_NOTICE_CLOSING, NULL, {"처리가 모두 끝났습니다", "보호를 요청", "finished handling", "protection"}},
	};
	bool seen[SD_NOTICE_WRITTEN + 1] = {false};
	sd_pubkey_t intake = pub(k_intake);
	sd_notice_t n;
	char *text;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		text = NULL;
		if (sd_notice_standard_text(cases[i].kind, "2026-000042", cases[i].detail, &text) != 0)
			fail_msg("case %zu: %s", i, sd_error_detail());
		assert_readable(text, "2026-000042");
		if (strlen(text) >= 1024)
			fail_msg("case %zu is %zu bytes", i, strlen(text));
		for (int j = 0; j < 4; j++)
			if (cases[i].has[j] != NULL && strstr(text, cases[i].has[j]) == NULL)
				fail_msg("case %zu lacks '%s':\n%s", i, cases[i].has[j], text);
		/* every standard text is one a notice can carry */
		base_fields(&n);
		assert_int_equal(sd_notice_seal(&n, text, k_notice->pk, NULL, &intake), 0);
		assert_opens(n.to_whistleblower, n.whistleblower_len, k_notice, text);
		sd_notice_clear(&n);
		seen[cases[i].kind] = true;
		free(text);
	}
	for (int k = SD_NOTICE_RECEIPT; k < SD_NOTICE_WRITTEN; k++)
		assert_true(seen[k]);
}

static void test_standard_text_refusals(void **state)
{
	static const struct {
		sd_notice_kind_t kind;
		const char *case_number, *detail, *msg;
	} cases[] = {
	        {SD_NOTICE_WRITTEN, "2026-000001", NULL, "only the standard kinds"},
	        {(sd_notice_kind_t)0, "2026-000001", NULL, "only the standard kinds"},
	        {(sd_notice_kind_t)11, "2026-000001", NULL, "only the standard kinds"},
	        {SD_NOTICE_IDENTITY_ACCESS, "2026-000001", NULL, "needs who was given access"},
	        {SD_NOTICE_RECEIPT, "2026-00001", NULL, "valid case number"},
	        {SD_NOTICE_RECEIPT, NULL, NULL, "valid case number"},
	        {SD_NOTICE_RECEIPT, "2026-000001", "extra", "the standard receipt notice takes no detail"},
	        {SD_NOTICE_CLOSING, "2026-000001", "", "takes no detail"},
	        {SD_NOTICE_REFERRAL, "2026-000001", NULL, "the standard referral notice needs the agency"},
	        {SD_NOTICE_REFERRAL, "2026-000001", "", "needs the agency"},
	        {SD_NOTICE_REFERRAL, "2026-000001", "inspection: ", "needs the agency's name"},
	        {SD_NOTICE_REFERRAL, "2026-000001", "Agency\nName", "1 to 272 bytes of UTF-8"},
	        {SD_NOTICE_FORWARDING, "2026-000001", NULL, "needs the agency's name"},
	        {SD_NOTICE_FORWARDING, "2026-000001", "\xc3\x28", "1 to 272 bytes of UTF-8"},
	        {SD_NOTICE_TERMINATION, "2026-000001", NULL, "needs the reason"},
	        {SD_NOTICE_TERMINATION, "2026-000001", "no_evidence", "unrelated, no-evidence or not-inspectable"},
	        {SD_NOTICE_RESULT, "2026-000001", NULL, "needs the conclusion date"},
	        {SD_NOTICE_RESULT, "2026-000001", "2026-02-30", "the conclusion date YYYY-MM-DD"},
	        {SD_NOTICE_RESULT, "2026-000001", "yesterday", "the conclusion date YYYY-MM-DD"},
	};
	char *text, long_name[400];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		text = (char *)"unchanged";
		sd_error_clear();
		if (sd_notice_standard_text(cases[i].kind, cases[i].case_number, cases[i].detail, &text) !=
		            SD_ERR_USAGE ||
		    strstr(sd_error_detail(), cases[i].msg) == NULL)
			fail_msg("case %zu: '%s'", i, sd_error_detail());
		assert_null(text);
	}
	/* the longest agency name a directory lists fits, and is named whole */
	memcpy(long_name, "investigation: ", 15);
	memset(long_name + 15, 'N', SD_AGENCY_NAME_MAX);
	long_name[15 + SD_AGENCY_NAME_MAX] = '\0';
	assert_int_equal(sd_notice_standard_text(SD_NOTICE_REFERRAL, "2026-000001", long_name, &text), 0);
	assert_non_null(strstr(text, long_name + 15));
	assert_readable(text, "2026-000001");
	free(text);
	memset(long_name, 'N', 273);
	long_name[273] = '\0';
	assert_int_equal(sd_notice_standard_text(SD_NOTICE_FORWARDING, "2026-000001", long_name, &text), SD_ERR_USAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_vector),
	        cmocka_unit_test(test_kind_names),
	        cmocka_unit_test(test_roundtrip),
	        cmocka_unit_test(test_roundtrip_without_attorney_and_max_text),
	        cmocka_unit_test(test_reformatted_still_verifies),
	        cmocka_unit_test(test_seal_refuses),
	        cmocka_unit_test(test_open_refuses),
	        cmocka_unit_test(test_sealbox_raw),
	        cmocka_unit_test(test_every_field_altered),
	        cmocka_unit_test(test_signature_altered),
	        cmocka_unit_test(test_wrong_key),
	        cmocka_unit_test(test_wrong_purpose),
	        cmocka_unit_test(test_field_cases),
	        cmocka_unit_test(test_envelope_cases),
	        cmocka_unit_test(test_malformed_documents),
	        cmocka_unit_test(test_sign_refuses),
	        cmocka_unit_test(test_digest),
	        cmocka_unit_test(test_with_directory),
	        cmocka_unit_test(test_standard_texts),
	        cmocka_unit_test(test_standard_text_refusals),
	};

	return cmocka_run_group_tests(tests, keys_setup, keys_teardown);
}
