/*
 * codename.c — the whistleblower's codename: 8 words of the EFF large wordlist, its one
 * canonical text form, and the keys Argon2id derives from it (DESIGN.md, Codename;
 * docs/FORMAT.md, "Codename").
 *
 * Start at sd_codename_canonicalize(): every word a person types is checked against the
 * list before anything is derived, so a typo is reported as a typo (with a suggestion
 * when one word is clearly meant) instead of silently yielding a different set of keys.
 * sd_codename_derive() then turns the canonical text into the locator, the consent
 * signing key, the notice box key and the share-wrap key.
 *
 * The codename is the only credential a whistleblower has: texts and scratch copies live
 * in sodium_malloc'd memory and are wiped; error details name at most the one wrong word.
 */
#include <string.h>

#include <sodium.h>

#include "sealdrop/codename.h"
#include "sealdrop/directory.h"
#include "sealdrop/keys.h"

#define SD_CODENAME_INPUT_MAX   4096 /* bytes a caller may hand to canonicalize */
#define SD_CODENAME_DOMAIN      "sealdrop codename v1"
#define SD_CODENAME_KDF_CONTEXT "sdcodenm"
#define SD_CODENAME_KEY_BYTES   32
#define SD_SUGGEST_DISTANCE     2 /* furthest typo a suggestion covers */
#define SD_WORD_MAX             9 /* longest word in the list */
#define SD_SUGGEST_LEN_MAX      (SD_WORD_MAX + SD_SUGGEST_DISTANCE)
#define SD_ECHO_MAX             24 /* longest prefix of a wrong word an error shows */

enum {
	SD_CODENAME_SUBKEY_LOCATOR = 1,
	SD_CODENAME_SUBKEY_CONSENT = 2,
	SD_CODENAME_SUBKEY_NOTICE = 3,
	SD_CODENAME_SUBKEY_SHARE_WRAP = 4,
};

/* Orders the (word, len) string against the NUL-terminated list entry s, like strcmp. */
static int word_compare(const char *word, size_t len, const char *s)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char a = (unsigned char)word[i], b = (unsigned char)s[i];

		if (b == '\0')
			return 1; /* word is longer, even if what follows is a NUL */
		if (a != b)
			return (int)a - (int)b;
	}
	return s[len] == '\0' ? 0 : -1;
}

int sd_wordlist_find(const char *word, size_t len)
{
	size_t lo = 0, hi = SD_WORDLIST_SIZE;

	if (word == NULL || len == 0 || len > SD_WORD_MAX)
		return -1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = word_compare(word, len, sd_wordlist_words[mid]);

		if (c == 0)
			return (int)mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

int sd_codename_generate(char *out, size_t outlen)
{
	const char *w = NULL;
	uint32_t idx = 0;
	size_t n = 0, wl = 0;

	if (out == NULL || outlen < SD_CODENAME_MAX)
		return sd_error(SD_ERR_USAGE, "a codename needs a buffer of %d bytes; this one has %zu",
		                SD_CODENAME_MAX, outlen);
	for (int i = 0; i < SD_CODENAME_WORDS; i++) {
		idx = randombytes_uniform(SD_WORDLIST_SIZE);
		w = sd_wordlist_words[idx];
		wl = strlen(w);
		if (i > 0)
			out[n++] = ' ';
		memcpy(out + n, w, wl);
		n += wl;
	}
	out[n] = '\0';
	sodium_memzero(&idx, sizeof(idx));
	sodium_memzero(&w, sizeof(w));
	sodium_memzero(&wl, sizeof(wl));
	return 0;
}

/* --- typo suggestions ------------------------------------------------------------- */

/* Optimal string alignment distance (Damerau–Levenshtein without repeated edits of a
 * substring) between a and b, both at most SD_SUGGEST_LEN_MAX long; d is the caller's
 * table so that it can be wiped once after the whole search. */
static int osa_distance(const char *a, size_t la, const char *b, size_t lb,
                        int d[SD_SUGGEST_LEN_MAX + 1][SD_SUGGEST_LEN_MAX + 1])
{
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			int cost = a[i - 1] == b[j - 1] ? 0 : 1;
			int v = d[i - 1][j] + 1;

			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

/* The one list word closest to word within SD_SUGGEST_DISTANCE, or NULL when there is
 * none or when two or more words are equally close (a guess would mislead). */
static const char *suggest(const char *word, size_t len)
{
	int d[SD_SUGGEST_LEN_MAX + 1][SD_SUGGEST_LEN_MAX + 1];
	const char *best = NULL;
	int best_dist = SD_SUGGEST_DISTANCE + 1, ties = 0;

	if (len > SD_SUGGEST_LEN_MAX)
		return NULL;
	for (size_t i = 0; i < SD_WORDLIST_SIZE; i++) {
		const char *w = sd_wordlist_words[i];
		size_t wl = strlen(w);
		int dist;

		if (wl > len + SD_SUGGEST_DISTANCE || len > wl + SD_SUGGEST_DISTANCE)
			continue;
		dist = osa_distance(word, len, w, wl, d);
		if (dist < best_dist) {
			best_dist = dist;
			best = w;
			ties = 0;
		} else if (dist == best_dist) {
			ties++;
		}
	}
	sodium_memzero(d, sizeof(d));
	return ties == 0 ? best : NULL;
}

/* SD_ERR_CODENAME naming word k (1-based) and, when one word is clearly meant, that. */
static int unknown_word(int k, const char *word, size_t len)
{
	const char *s = suggest(word, len);
	int shown = len > SD_ECHO_MAX ? SD_ECHO_MAX : (int)len;
	const char *more = len > SD_ECHO_MAX ? "..." : "";

	if (s != NULL)
		return sd_error(SD_ERR_CODENAME, "word %d '%.*s%s' is not in the word list (did you mean '%s'?)", k,
		                shown, word, more, s);
	return sd_error(SD_ERR_CODENAME, "word %d '%.*s%s' is not in the word list", k, shown, word, more);
}

/* --- canonical form --------------------------------------------------------------- */

static int is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * Copies in to scratch as lower-case words separated by single spaces, recording where
 * the first SD_CODENAME_WORDS words start, and counts all words in *nwords. Refuses a
 * byte outside printable ASCII, naming only the number of the word it is in.
 */
static int fold_words(const char *in, size_t inlen, char *scratch, size_t *slen, size_t start[SD_CODENAME_WORDS],
                      size_t wlen[SD_CODENAME_WORDS], size_t *nwords)
{
	size_t n = 0, words = 0;
	int inword = 0;

	for (size_t i = 0; i < inlen; i++) {
		unsigned char c = (unsigned char)in[i];

		if (is_space(c)) {
			inword = 0;
			continue;
		}
		if (!inword) {
			if (words > 0)
				scratch[n++] = ' ';
			if (words < SD_CODENAME_WORDS) {
				start[words] = n;
				wlen[words] = 0;
			}
			words++;
			inword = 1;
		}
		if (c < 0x21 || c > 0x7e)
			return sd_error(SD_ERR_CODENAME, "word %zu contains a character that is not a letter or hyphen",
			                words);
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		scratch[n++] = (char)c;
		if (words <= SD_CODENAME_WORDS)
			wlen[words - 1]++;
	}
	scratch[n] = '\0';
	*slen = n;
	*nwords = words;
	return 0;
}

int sd_codename_canonicalize(const char *in, size_t inlen, char *out, size_t outlen)
{
	size_t start[SD_CODENAME_WORDS] = {0}, wlen[SD_CODENAME_WORDS] = {0};
	size_t slen = 0, nwords = 0, cap = inlen + 1;
	char *scratch = NULL;
	int r = SD_ERR_INTERNAL;

	if (in == NULL || out == NULL || outlen == 0)
		return sd_error(SD_ERR_USAGE, "canonicalize needs an input and an output buffer");
	if (inlen > SD_CODENAME_INPUT_MAX) {
		r = sd_error(SD_ERR_TOOBIG, "a codename is at most %d bytes long; this input has %zu",
		             SD_CODENAME_INPUT_MAX, inlen);
		goto out;
	}
	/* Single spaces never outnumber the white space they replace: inlen + 1 suffices. */
	if ((scratch = sodium_malloc(cap)) == NULL) {
		r = sd_error(SD_ERR_NOMEM, "no memory for the codename");
		goto out;
	}
	if ((r = fold_words(in, inlen, scratch, &slen, start, wlen, &nwords)) != 0)
		goto out;
	if (nwords != SD_CODENAME_WORDS) {
		r = sd_error(SD_ERR_CODENAME, "a codename has %d words; this has %zu", SD_CODENAME_WORDS, nwords);
		goto out;
	}
	for (int k = 0; k < SD_CODENAME_WORDS; k++) {
		if (sd_wordlist_find(scratch + start[k], wlen[k]) < 0) {
			r = unknown_word(k + 1, scratch + start[k], wlen[k]);
			goto out;
		}
	}
	if (slen + 1 > outlen) {
		r = sd_error(SD_ERR_USAGE, "the canonical codename needs %zu bytes; the buffer has %zu", slen + 1,
		             outlen);
		goto out;
	}
	memcpy(out, scratch, slen + 1);
	r = 0;
out:
	if (r != 0)
		sodium_memzero(out, outlen);
	if (scratch != NULL) {
		sodium_memzero(scratch, cap);
		sodium_free(scratch);
	}
	sodium_memzero(start, sizeof(start));
	sodium_memzero(wlen, sizeof(wlen));
	return r;
}

/* --- keys ------------------------------------------------------------------------- */

void sd_codename_salt(const char *deployment, uint8_t salt[SD_CODENAME_SALT_BYTES])
{
	crypto_generichash_state st;
	const char *dep = deployment != NULL ? deployment : "";

	crypto_generichash_init(&st, NULL, 0, SD_CODENAME_SALT_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)SD_CODENAME_DOMAIN, strlen(SD_CODENAME_DOMAIN));
	crypto_generichash_update(&st, (const uint8_t *)dep, strlen(dep));
	crypto_generichash_final(&st, salt, SD_CODENAME_SALT_BYTES);
	sodium_memzero(&st, sizeof(st));
}

/* Refuses a text that canonicalize would change: a stray double space or capital letter
 * would otherwise derive a different, unrecoverable set of keys without any error. */
static int check_canonical(const char *canonical, size_t *len)
{
	char *copy = NULL;
	size_t n = strnlen(canonical, SD_CODENAME_MAX);
	int r = SD_ERR_INTERNAL;

	if (n >= SD_CODENAME_MAX)
		return sd_error(SD_ERR_USAGE, "the codename is longer than any canonical codename");
	if ((copy = sodium_malloc(SD_CODENAME_MAX)) == NULL)
		return sd_error(SD_ERR_NOMEM, "no memory for the codename");
	if ((r = sd_codename_canonicalize(canonical, n, copy, SD_CODENAME_MAX)) != 0)
		goto out;
	if (strlen(copy) != n || sodium_memcmp(copy, canonical, n) != 0) {
		r = sd_error(SD_ERR_USAGE, "the codename is not in canonical form");
		goto out;
	}
	*len = n;
	r = 0;
out:
	sodium_memzero(copy, SD_CODENAME_MAX);
	sodium_free(copy);
	return r;
}

/* master = Argon2id(text, salt, limits); a keyed BLAKE2b when fuzzing, so that the
 * fuzzer spends its time in the parser rather than in memory-hard hashing. */
static int derive_master(uint8_t master[SD_CODENAME_KEY_BYTES], const char *text, size_t len,
                         const uint8_t salt[SD_CODENAME_SALT_BYTES], const sd_kdf_limits_t *limits)
{
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	(void)limits;
	crypto_generichash(master, SD_CODENAME_KEY_BYTES, (const uint8_t *)text, len, salt, SD_CODENAME_SALT_BYTES);
	return 0;
#else
	if (crypto_pwhash(master, SD_CODENAME_KEY_BYTES, text, len, salt, limits->opslimit, (size_t)limits->memlimit,
	                  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return sd_error(SD_ERR_NOMEM, "Argon2id could not get %llu bytes of memory for the codename",
		                (unsigned long long)limits->memlimit);
	return 0;
#endif
}

struct derive_scratch {
	uint8_t master[SD_CODENAME_KEY_BYTES];
	uint8_t seed[SD_CODENAME_KEY_BYTES];
};

/* Fills k from the master key: subkeys 1..4 under context "sdcodenm". */
static void derive_subkeys(sd_codename_keys_t *k, struct derive_scratch *s)
{
	crypto_kdf_derive_from_key(k->locator, sizeof(k->locator), SD_CODENAME_SUBKEY_LOCATOR, SD_CODENAME_KDF_CONTEXT,
	                           s->master);
	crypto_kdf_derive_from_key(s->seed, sizeof(s->seed), SD_CODENAME_SUBKEY_CONSENT, SD_CODENAME_KDF_CONTEXT,
	                           s->master);
	crypto_sign_seed_keypair(k->consent_pk, k->consent_sk, s->seed);
	crypto_kdf_derive_from_key(s->seed, sizeof(s->seed), SD_CODENAME_SUBKEY_NOTICE, SD_CODENAME_KDF_CONTEXT,
	                           s->master);
	/* libsodium hashes this seed with SHA-512 and takes the first 32 bytes as the
	 * X25519 secret key (docs/FORMAT.md spells this out for other implementations). */
	crypto_box_seed_keypair(k->notice_pk, k->notice_sk, s->seed);
	crypto_kdf_derive_from_key(k->share_wrap, sizeof(k->share_wrap), SD_CODENAME_SUBKEY_SHARE_WRAP,
	                           SD_CODENAME_KDF_CONTEXT, s->master);
}

int sd_codename_derive(const char *canonical, const char *deployment, const sd_kdf_limits_t *limits,
                       sd_codename_keys_t **out)
{
	uint8_t salt[SD_CODENAME_SALT_BYTES];
	struct derive_scratch *s = NULL;
	sd_codename_keys_t *k = NULL;
	size_t len = 0;
	int r = SD_ERR_INTERNAL;

	if (out == NULL)
		return sd_error(SD_ERR_USAGE, "derive needs somewhere to put the keys");
	*out = NULL;
	if (canonical == NULL || limits == NULL)
		return sd_error(SD_ERR_USAGE, "derive needs a codename and KDF limits");
	if (!sd_kdf_limits_are_sane(limits))
		return sd_error(SD_ERR_USAGE,
		                "codename KDF limits (ops %llu, memory %llu bytes) are outside the sane range",
		                (unsigned long long)limits->opslimit, (unsigned long long)limits->memlimit);
	if (deployment == NULL || !sd_deployment_is_valid(deployment))
		return sd_error(SD_ERR_USAGE, "a deployment id is 1 to %d characters of a-z, 0-9 and '-'",
		                SD_DEPLOYMENT_MAX);
	if ((r = check_canonical(canonical, &len)) != 0)
		return r;
	s = sodium_malloc(sizeof(*s));
	k = sodium_malloc(sizeof(*k));
	if (s == NULL || k == NULL) {
		r = sd_error(SD_ERR_NOMEM, "no memory for the codename keys");
		goto out;
	}
	sd_codename_salt(deployment, salt);
	if ((r = derive_master(s->master, canonical, len, salt, limits)) != 0)
		goto out;
	derive_subkeys(k, s);
	*out = k;
	k = NULL;
	r = 0;
out:
	if (s != NULL) {
		sodium_memzero(s, sizeof(*s));
		sodium_free(s);
	}
	sd_codename_keys_free_(k);
	return r;
}

void sd_codename_keys_free_(sd_codename_keys_t *k)
{
	if (k == NULL)
		return;
	sodium_memzero(k, sizeof(*k));
	sodium_free(k);
}
