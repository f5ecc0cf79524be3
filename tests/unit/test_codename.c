/*
 * test_codename.c — the word list, codename generation, the canonical form and its typo
 * reports, and the key derivation's known-answer vectors (docs/FORMAT.md (Codename), which
 * tests/vectors/codename.py recomputes independently).
 */
#include <time.h>

#include <sodium.h>

#include "unit.h"
#include "sealdrop/codename.h"

#define VEC_CODENAME            "abacus abdomen abdominal abide abiding ability ablaze able"
#define VEC_SALT                "2975b4ca2ba10aca9962d9c2cf0741cf"
#define VEC_MIN_LOCATOR         "59e42ad31b7c046682efa1d17737d30cd82f63c8aadc00fc3e0b6c0a096ae2a0"
#define VEC_MIN_CONSENT_PK      "158b95ec5c34495230d1a483b1132e3e811d4858c92c2a771a8bdbbab75b7647"
#define VEC_MIN_NOTICE_PK       "ea65161dfcc764e2e9cfd67d90d359664248dc5e8b04b957422ec720eccc5b39"
#define VEC_MIN_SHARE_WRAP      "383be2a4e787161212a6631191c1b17361534003e0e0676f8f1050c1837b2c39"
#define VEC_INTERACTIVE_LOCATOR "423d671a03f81529412c08a5a65071471757bb51661184443e4dcde4fd48e99b"

static const sd_kdf_limits_t lim_min = {1, 8192};
static const sd_kdf_limits_t lim_interactive = {2, 67108864};

static void assert_hex(const uint8_t *got, size_t len, const char *want)
{
	uint8_t buf[64];

	assert_true(len <= sizeof(buf));
	unit_hex(want, buf, len);
	assert_memory_equal(got, buf, len);
}

/* --- word list ---------------------------------------------------------------------- */

static void test_wordlist_shape(void **state)
{
	size_t hyphenated = 0, longest = 0;

	(void)state;
	for (size_t i = 0; i < SD_WORDLIST_SIZE; i++) {
		const char *w = sd_wordlist_words[i];
		size_t n = strlen(w);

		assert_true(n >= 3);
		if (n > longest)
			longest = n;
		for (size_t j = 0; j < n; j++)
			assert_true((w[j] >= 'a' && w[j] <= 'z') || w[j] == '-');
		if (strchr(w, '-') != NULL)
			hyphenated++;
		if (i > 0)
			assert_true(strcmp(sd_wordlist_words[i - 1], w) < 0);
		assert_int_equal(sd_wordlist_find(w, n), (int)i);
	}
	/* The canonical-length bound in codename.h and the suggestion table rely on this. */
	assert_int_equal(longest, 9);
	assert_true(SD_CODENAME_WORDS * (longest + 1) <= SD_CODENAME_MAX);
	assert_int_equal(hyphenated, 4);
	assert_string_equal(sd_wordlist_words[0], "abacus");
	assert_string_equal(sd_wordlist_words[SD_WORDLIST_SIZE - 1], "zoom");
}

static void test_wordlist_find_absent(void **state)
{
	(void)state;
	assert_int_equal(sd_wordlist_find("abacus", 6), 0);
	assert_int_equal(sd_wordlist_find("abacus", 5), -1); /* "abacu" */
	assert_int_equal(sd_wordlist_find("abacuss", 7), -1);
	assert_int_equal(sd_wordlist_find("Abacus", 6), -1); /* exact: no case folding */
	assert_int_equal(sd_wordlist_find("aaa", 3), -1);    /* before the first word */
	assert_int_equal(sd_wordlist_find("zzzz", 4), -1);   /* after the last */
	assert_int_equal(sd_wordlist_find("", 0), -1);
	assert_int_equal(sd_wordlist_find(NULL, 6), -1);
	assert_int_equal(sd_wordlist_find("able\0x", 6), -1); /* embedded NUL */
	assert_int_equal(sd_wordlist_find("ab\0cus", 6), -1);
	assert_int_equal(sd_wordlist_find("abandonment", 11), -1);
	assert_true(sd_wordlist_find("yo-yo", 5) >= 0);
	assert_true(sd_wordlist_find("yoyo", 4) >= 0);
	assert_int_equal(sd_wordlist_find("zoom", 4), SD_WORDLIST_SIZE - 1);
}

/* --- generate ----------------------------------------------------------------------- */

static void assert_is_codename(const char *c)
{
	char buf[SD_CODENAME_MAX];
	const char *p = c;
	int words = 0;

	assert_int_equal(sd_codename_canonicalize(c, strlen(c), buf, sizeof(buf)), 0);
	assert_string_equal(buf, c);
	while (*p != '\0') {
		const char *sp = strchr(p, ' ');
		size_t n = sp != NULL ? (size_t)(sp - p) : strlen(p);

		assert_true(sd_wordlist_find(p, n) >= 0);
		words++;
		p += n;
		if (*p == ' ')
			p++;
	}
	assert_int_equal(words, SD_CODENAME_WORDS);
}

static void test_generate(void **state)
{
	char *a = sodium_malloc(SD_CODENAME_MAX), *b = sodium_malloc(SD_CODENAME_MAX);

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(sd_codename_generate(a, SD_CODENAME_MAX), 0);
	assert_int_equal(sd_codename_generate(b, SD_CODENAME_MAX), 0);
	assert_is_codename(a);
	assert_is_codename(b);
	assert_string_not_equal(a, b);
	for (int i = 0; i < 200; i++) {
		assert_int_equal(sd_codename_generate(a, SD_CODENAME_MAX), 0);
		assert_is_codename(a);
	}
	assert_int_equal(sd_codename_generate(a, SD_CODENAME_MAX - 1), SD_ERR_USAGE);
	assert_int_equal(sd_codename_generate(NULL, SD_CODENAME_MAX), SD_ERR_USAGE);
	sodium_free(a);
	sodium_free(b);
}

/* --- canonicalize ------------------------------------------------------------------- */

static const struct {
	const char *in;
	const char *want;
} canon_ok[] = {
        {VEC_CODENAME, VEC_CODENAME},
        {"ABACUS Abdomen abDOMinal ABIDE abiding Ability ablaze ABLE", VEC_CODENAME},
        {"  abacus\tabdomen\n\nabdominal   abide\r\nabiding \t ability ablaze able \n", VEC_CODENAME},
        {"\r\n\t abacus abdomen abdominal abide abiding ability ablaze able", VEC_CODENAME},
        {"drop-down felt-tip t-shirt yo-yo yoyo Drop-Down T-SHIRT zoom",
         "drop-down felt-tip t-shirt yo-yo yoyo drop-down t-shirt zoom"},
};

static const struct {
	const char *in;
	int err;
	const char *detail;
} canon_bad[] = {
        {"abacus abdomen abdominal abide abiding ability ablaze", SD_ERR_CODENAME,
         "a codename has 8 words; this has 7"},
        {VEC_CODENAME " zoom", SD_ERR_CODENAME, "a codename has 8 words; this has 9"},
        {"", SD_ERR_CODENAME, "a codename has 8 words; this has 0"},
        {" \t\r\n ", SD_ERR_CODENAME, "a codename has 8 words; this has 0"},
        {"abacus-abdomen abdominal abide abiding ability ablaze able zoom", SD_ERR_CODENAME,
         "word 1 'abacus-abdomen' is not in the word list"},
        {"abacus abdomen abdominl abide abiding ability ablaze able", SD_ERR_CODENAME,
         "word 3 'abdominl' is not in the word list (did you mean 'abdominal'?)"},
        {"abacus abdomen abdominal abide abiding ability ablaze zookeper", SD_ERR_CODENAME,
         "word 8 'zookeper' is not in the word list (did you mean 'zookeeper'?)"},
        /* Transposition: Levenshtein would tie 'ablaze' and 'able'; OSA does not. */
        {"abacus abdomen abdominal abide abiding ability ablaez able", SD_ERR_CODENAME,
         "word 7 'ablaez' is not in the word list (did you mean 'ablaze'?)"},
        {"abacsu abdomen abdominal abide abiding ability ablaze able", SD_ERR_CODENAME,
         "word 1 'abacsu' is not in the word list (did you mean 'abacus'?)"},
        {"abacus Xyzzy abdominal abide abiding ability ablaze able", SD_ERR_CODENAME,
         "word 2 'xyzzy' is not in the word list (did you mean 'dizzy'?)"},
        {"abacus abdomen drpo-down abide abiding ability ablaze able", SD_ERR_CODENAME,
         "word 3 'drpo-down' is not in the word list (did you mean 'drop-down'?)"},
        /* Three words are one edit away (bakery, battery, eatery): no guess. */
        {"abacus abdomen abdominal batery abiding ability ablaze able", SD_ERR_CODENAME,
         "word 4 'batery' is not in the word list"},
        {"abacus abdomen abdominal abide abiding tshirt ablaze able", SD_ERR_CODENAME,
         "word 6 'tshirt' is not in the word list"},
        {"abacus abdomen abdominal abide abiding ability ablaze qqqqqqqqq", SD_ERR_CODENAME,
         "word 8 'qqqqqqqqq' is not in the word list"},
        /* The first wrong word is the one reported. */
        {"abacus abdomen abdominl abide abidng ability ablaze able", SD_ERR_CODENAME,
         "word 3 'abdominl' is not in the word list (did you mean 'abdominal'?)"},
        {"abacus abdomen ab1de abide abiding ability ablaze able", SD_ERR_CODENAME,
         "word 3 'ab1de' is not in the word list (did you mean 'abide'?)"},
        {"abacus aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa abdominal abide abiding ability ablaze able", SD_ERR_CODENAME,
         "word 2 'aaaaaaaaaaaaaaaaaaaaaaaa...' is not in the word list"},
        {"abacus abdomen ab\xc3\xa9"
         "de abide abiding ability ablaze able",
         SD_ERR_CODENAME, "word 3 contains a character that is not a letter or hyphen"},
        {"abacus abdomen abdominal abide abiding ability ablaze able\x7f", SD_ERR_CODENAME,
         "word 8 contains a character that is not a letter or hyphen"},
        {"abacus\vabdomen abdominal abide abiding ability ablaze able", SD_ERR_CODENAME,
         "word 1 contains a character that is not a letter or hyphen"},
        /* A no-break space glues two words: the byte is named, not a wrong word count. */
        {"abacus abdomen\xc2\xa0"
         "abdominal abide abiding ability ablaze able",
         SD_ERR_CODENAME, "word 2 contains a character that is not a letter or hyphen"},
        {"abacus abdomen abdominal abide abiding ability ablaze able \x1b[0m", SD_ERR_CODENAME,
         "word 9 contains a character that is not a letter or hyphen"},
};

static void test_canonicalize_ok(void **state)
{
	char out[SD_CODENAME_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(canon_ok) / sizeof(canon_ok[0]); i++) {
		memset(out, 'X', sizeof(out));
		assert_int_equal(sd_codename_canonicalize(canon_ok[i].in, strlen(canon_ok[i].in), out, sizeof(out)), 0);
		assert_string_equal(out, canon_ok[i].want);
	}
}

static void test_canonicalize_bad(void **state)
{
	char out[SD_CODENAME_MAX], zero[SD_CODENAME_MAX] = {0};

	(void)state;
	for (size_t i = 0; i < sizeof(canon_bad) / sizeof(canon_bad[0]); i++) {
		sd_error_clear();
		memset(out, 'X', sizeof(out));
		assert_int_equal(sd_codename_canonicalize(canon_bad[i].in, strlen(canon_bad[i].in), out, sizeof(out)),
		                 canon_bad[i].err);
		assert_string_equal(sd_error_detail(), canon_bad[i].detail);
		assert_memory_equal(out, zero, sizeof(out)); /* nothing half-made is left behind */
	}
}

/* Only the one wrong word may appear in a message: never the rest of the codename. */
static void test_canonicalize_no_echo(void **state)
{
	const char *in = "abacus abdomen abdominal abide zzzz ability ablaze able";
	char out[SD_CODENAME_MAX];

	(void)state;
	assert_int_equal(sd_codename_canonicalize(in, strlen(in), out, sizeof(out)), SD_ERR_CODENAME);
	assert_non_null(strstr(sd_error_detail(), "word 5 'zzzz'"));
	assert_null(strstr(sd_error_detail(), "abacus"));
	assert_null(strstr(sd_error_detail(), "ablaze"));
	assert_int_equal(sd_codename_canonicalize("\x01\x02\x03", 3, out, sizeof(out)), SD_ERR_CODENAME);
	assert_null(strchr(sd_error_detail(), '\x01'));
}

/* Every word of the list passes, in capitals too: no word is unreachable. */
static void test_canonicalize_every_word(void **state)
{
	char in[8 * 10 + 1], want[8 * 10 + 1], out[SD_CODENAME_MAX];

	(void)state;
	for (size_t base = 0; base < SD_WORDLIST_SIZE; base += SD_CODENAME_WORDS) {
		size_t n = 0;

		for (size_t k = 0; k < SD_CODENAME_WORDS; k++) {
			const char *w = sd_wordlist_words[base + k];

			for (size_t j = 0; w[j] != '\0'; j++, n++) {
				want[n] = w[j];
				in[n] = (char)(w[j] >= 'a' && w[j] <= 'z' ? w[j] - 'a' + 'A' : w[j]);
			}
			want[n] = in[n] = ' ';
			n++;
		}
		want[n - 1] = '\0';
		assert_int_equal(sd_codename_canonicalize(in, n, out, sizeof(out)), 0);
		assert_string_equal(out, want);
	}
}

static void test_canonicalize_limits(void **state)
{
	char *in = malloc(4097), out[SD_CODENAME_MAX], zero[SD_CODENAME_MAX] = {0};
	size_t vl = strlen(VEC_CODENAME);

	(void)state;
	assert_non_null(in);
	memset(in, ' ', 4097);
	memcpy(in + 100, VEC_CODENAME, vl);
	in[4095] = '\n';
	assert_int_equal(sd_codename_canonicalize(in, 4096, out, sizeof(out)), 0);
	assert_string_equal(out, VEC_CODENAME);
	memset(out, 'X', sizeof(out));
	assert_int_equal(sd_codename_canonicalize(in, 4097, out, sizeof(out)), SD_ERR_TOOBIG);
	assert_memory_equal(out, zero, sizeof(out));
	free(in);

	/* The output buffer: exactly enough works, one byte less does not. */
	assert_int_equal(sd_codename_canonicalize(VEC_CODENAME, vl, out, vl + 1), 0);
	assert_int_equal(sd_codename_canonicalize(VEC_CODENAME, vl, out, vl), SD_ERR_USAGE);
	assert_int_equal(sd_codename_canonicalize(NULL, 0, out, sizeof(out)), SD_ERR_USAGE);
	assert_int_equal(sd_codename_canonicalize(VEC_CODENAME, vl, NULL, sizeof(out)), SD_ERR_USAGE);
	assert_int_equal(sd_codename_canonicalize(VEC_CODENAME, vl, out, 0), SD_ERR_USAGE);
	/* inlen, not the NUL, ends the input: a cut-off codename is short of a word. */
	assert_int_equal(sd_codename_canonicalize(VEC_CODENAME, vl - 5, out, sizeof(out)), SD_ERR_CODENAME);
	assert_string_equal(sd_error_detail(), "a codename has 8 words; this has 7");
	assert_int_equal(sd_codename_canonicalize(VEC_CODENAME, vl - 1, out, sizeof(out)), SD_ERR_CODENAME);
	assert_string_equal(sd_error_detail(), "word 8 'abl' is not in the word list (did you mean 'able'?)");
}

static void test_canonicalize_in_place(void **state)
{
	char buf[SD_CODENAME_MAX];
	const char *messy = "  Abacus\tABDOMEN  abdominal abide\nabiding ability ablaze able  ";

	(void)state;
	assert_true(strlen(messy) < sizeof(buf));
	memcpy(buf, messy, strlen(messy) + 1);
	assert_int_equal(sd_codename_canonicalize(buf, strlen(buf), buf, sizeof(buf)), 0);
	assert_string_equal(buf, VEC_CODENAME);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The suggestion scans the whole list; it must stay far below what a person notices. */
static void test_suggestion_is_cheap(void **state)
{
	const char *in = "abacus abdomen abdominal abide abiding ability ablaze ablr";
	char out[SD_CODENAME_MAX];
	double t0 = now_ms(), per;

	(void)state;
	for (int i = 0; i < 50; i++)
		assert_int_equal(sd_codename_canonicalize(in, strlen(in), out, sizeof(out)), SD_ERR_CODENAME);
	per = (now_ms() - t0) / 50;
	assert_string_equal(sd_error_detail(), "word 8 'ablr' is not in the word list (did you mean 'able'?)");
	print_message("# suggestion: %.3f ms per call\n", per);
	assert_true(per < 25.0); /* generous: sanitizer builds are several times slower */
}

/* --- salt and derive ---------------------------------------------------------------- */

static void test_salt(void **state)
{
	uint8_t s1[SD_CODENAME_SALT_BYTES], s2[SD_CODENAME_SALT_BYTES], s3[SD_CODENAME_SALT_BYTES];

	(void)state;
	sd_codename_salt("demo", s1);
	assert_hex(s1, sizeof(s1), VEC_SALT);
	sd_codename_salt("demo2", s2);
	assert_memory_not_equal(s1, s2, sizeof(s1));
	sd_codename_salt(NULL, s2);
	sd_codename_salt("", s3);
	assert_memory_equal(s2, s3, sizeof(s2));
	assert_memory_not_equal(s1, s3, sizeof(s1));
}

static void assert_keys_consistent(const sd_codename_keys_t *k)
{
	uint8_t pk[32], sm[64 + 3];
	unsigned long long smlen;

	/* The consent key signs, and its pk is the second half of the libsodium sk. */
	assert_memory_equal(k->consent_sk + 32, k->consent_pk, 32);
	assert_int_equal(crypto_sign(sm, &smlen, (const uint8_t *)"abc", 3, k->consent_sk), 0);
	assert_int_equal(crypto_sign_open(pk, NULL, sm, smlen, k->consent_pk), 0);
	assert_int_equal(crypto_scalarmult_base(pk, k->notice_sk), 0);
	assert_memory_equal(pk, k->notice_pk, 32);
}

static void test_derive_vector_minimum(void **state)
{
	sd_codename_keys_t *k = NULL;

	(void)state;
	assert_int_equal(sd_codename_derive(VEC_CODENAME, "demo", &lim_min, &k), 0);
	assert_non_null(k);
	assert_hex(k->locator, 32, VEC_MIN_LOCATOR);
	assert_hex(k->consent_pk, 32, VEC_MIN_CONSENT_PK);
	assert_hex(k->notice_pk, 32, VEC_MIN_NOTICE_PK);
	assert_hex(k->share_wrap, 32, VEC_MIN_SHARE_WRAP);
	assert_keys_consistent(k);
	sd_codename_keys_free(k);
	assert_null(k);
}

static void test_derive_vector_interactive(void **state)
{
	sd_codename_keys_t *k = NULL;

	(void)state;
	assert_int_equal(sd_codename_derive(VEC_CODENAME, "demo", &lim_interactive, &k), 0);
	assert_hex(k->locator, 32, VEC_INTERACTIVE_LOCATOR);
	assert_keys_consistent(k);
	sd_codename_keys_free(k);
}

/* Each of the four outputs depends on the deployment, the codename and the limits. */
static void assert_all_differ(const sd_codename_keys_t *a, const sd_codename_keys_t *b)
{
	assert_memory_not_equal(a->locator, b->locator, 32);
	assert_memory_not_equal(a->consent_pk, b->consent_pk, 32);
	assert_memory_not_equal(a->notice_pk, b->notice_pk, 32);
	assert_memory_not_equal(a->share_wrap, b->share_wrap, 32);
}

static void test_derive_separation(void **state)
{
	const char *other = "abacus abdomen abdominal abide abiding ability ablaze zoom";
	sd_codename_keys_t *a = NULL, *b = NULL;
	const sd_kdf_limits_t ops2 = {2, 8192}, mem2 = {1, 16384};

	(void)state;
	assert_int_equal(sd_codename_derive(VEC_CODENAME, "demo", &lim_min, &a), 0);
	assert_int_equal(sd_codename_derive(VEC_CODENAME, "demo2", &lim_min, &b), 0);
	assert_all_differ(a, b);
	sd_codename_keys_free(b);
	assert_int_equal(sd_codename_derive(other, "demo", &lim_min, &b), 0);
	assert_all_differ(a, b);
	sd_codename_keys_free(b);
	assert_int_equal(sd_codename_derive(VEC_CODENAME, "demo", &ops2, &b), 0);
	assert_all_differ(a, b);
	sd_codename_keys_free(b);
	assert_int_equal(sd_codename_derive(VEC_CODENAME, "demo", &mem2, &b), 0);
	assert_all_differ(a, b);
	sd_codename_keys_free(b);
	/* The four subkeys are distinct from one another. */
	assert_memory_not_equal(a->locator, a->share_wrap, 32);
	assert_memory_not_equal(a->consent_sk, a->notice_sk, 32);
	sd_codename_keys_free(a);
}

static void test_derive_refuses(void **state)
{
	static const sd_kdf_limits_t insane[] = {
	        {0, 8192}, {1, 8191}, {1, 0}, {5, 8192}, {UINT64_MAX, 8192}, {1, (1ULL << 30) + 1}, {1, UINT64_MAX},
	};
	static const char *noncanonical[] = {
	        "abacus  abdomen abdominal abide abiding ability ablaze able",
	        "Abacus abdomen abdominal abide abiding ability ablaze able",
	        " abacus abdomen abdominal abide abiding ability ablaze able",
	        "abacus abdomen abdominal abide abiding ability ablaze able ",
	        "abacus\tabdomen abdominal abide abiding ability ablaze able",
	};
	static const char *bad_dep[] = {"", "Demo", "de mo", "d\xc3\xa9mo",
	                                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" /* 65 */};
	sd_codename_keys_t *k = (sd_codename_keys_t *)1;

	(void)state;
	for (size_t i = 0; i < sizeof(insane) / sizeof(insane[0]); i++) {
		assert_int_equal(sd_codename_derive(VEC_CODENAME, "demo", &insane[i], &k), SD_ERR_USAGE);
		assert_null(k);
	}
	for (size_t i = 0; i < sizeof(noncanonical) / sizeof(noncanonical[0]); i++) {
		assert_int_equal(sd_codename_derive(noncanonical[i], "demo", &lim_min, &k), SD_ERR_USAGE);
		assert_null(k);
	}
	for (size_t i = 0; i < sizeof(bad_dep) / sizeof(bad_dep[0]); i++)
		assert_int_equal(sd_codename_derive(VEC_CODENAME, bad_dep[i], &lim_min, &k), SD_ERR_USAGE);
	assert_int_equal(sd_codename_derive(VEC_CODENAME, NULL, &lim_min, &k), SD_ERR_USAGE);
	assert_int_equal(sd_codename_derive(NULL, "demo", &lim_min, &k), SD_ERR_USAGE);
	assert_int_equal(sd_codename_derive(VEC_CODENAME, "demo", NULL, &k), SD_ERR_USAGE);
	assert_int_equal(sd_codename_derive(VEC_CODENAME, "demo", &lim_min, NULL), SD_ERR_USAGE);
	assert_int_equal(
	        sd_codename_derive("abacus abdomen abdominal abide abiding ability ablaze zzzz", "demo", &lim_min, &k),
	        SD_ERR_CODENAME);
	assert_null(k);
	assert_int_equal(sd_codename_derive("abacus abdomen", "demo", &lim_min, &k), SD_ERR_CODENAME);
	sd_codename_keys_free(k); /* NULL: a no-op */
}

/* What the client does: canonicalize what was typed, then derive. */
static void test_derive_from_typed(void **state)
{
	const char *typed = "  ABACUS abdomen\tabdominal abide\n abiding ability ablaze able\n";
	char *canon = sodium_malloc(SD_CODENAME_MAX);
	sd_codename_keys_t *k = NULL;

	(void)state;
	assert_non_null(canon);
	assert_int_equal(sd_codename_canonicalize(typed, strlen(typed), canon, SD_CODENAME_MAX), 0);
	assert_int_equal(sd_codename_derive(canon, "demo", &lim_min, &k), 0);
	assert_hex(k->locator, 32, VEC_MIN_LOCATOR);
	sd_codename_keys_free(k);
	sodium_free(canon);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_wordlist_shape),
	        cmocka_unit_test(test_wordlist_find_absent),
	        cmocka_unit_test(test_generate),
	        cmocka_unit_test(test_canonicalize_ok),
	        cmocka_unit_test(test_canonicalize_bad),
	        cmocka_unit_test(test_canonicalize_no_echo),
	        cmocka_unit_test(test_canonicalize_every_word),
	        cmocka_unit_test(test_canonicalize_limits),
	        cmocka_unit_test(test_canonicalize_in_place),
	        cmocka_unit_test(test_suggestion_is_cheap),
	        cmocka_unit_test(test_salt),
	        cmocka_unit_test(test_derive_vector_minimum),
	        cmocka_unit_test(test_derive_vector_interactive),
	        cmocka_unit_test(test_derive_separation),
	        cmocka_unit_test(test_derive_refuses),
	        cmocka_unit_test(test_derive_from_typed),
	};

	return cmocka_run_group_tests(tests, unit_setup, NULL);
}
