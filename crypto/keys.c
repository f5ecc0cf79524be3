/*
 * keys.c — sealdrop's long-lived keys: their kinds and ids, the one-line public key
 * file, and the passphrase-protected secret key file (Argon2id + XChaCha20-Poly1305).
 *
 * Start at sd_keyfile_decode(): it is the parser facing files that may have been
 * tampered with. It checks every header field, and refuses Argon2id limits outside a
 * sane range *before* running the KDF, so a crafted file cannot make us allocate
 * gigabytes or spin for hours. Secret material lives only in sodium_malloc'd memory.
 * The passphrase-protected file itself (sd_pwfile_*, crypto/keys_int.h) is shared with
 * the identity key share files of crypto/keyshare.c, which add header fields of their own.
 * Byte layout and vectors: docs/FORMAT.md, "Keys".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "sealdrop/bytes.h"
#include "sealdrop/fileio.h"
#include "sealdrop/keys.h"
#include "keys_int.h"

#define KEYID_DOMAIN           "sealdrop keyid v1"
#define KEYFILE_MAGIC          "SDSECKEY"
#define KEYFILE_MAGIC_BYTES    8
#define KEYFILE_VERSION        1
#define KEYFILE_KDF_ARGON2ID13 1
#define KEYFILE_SALT_BYTES     16
#define KEYFILE_NONCE_BYTES    crypto_aead_xchacha20poly1305_ietf_NPUBBYTES /* 24 */
#define KEYFILE_KEY_BYTES      crypto_aead_xchacha20poly1305_ietf_KEYBYTES  /* 32 */
#define KEYFILE_TAG_BYTES      crypto_aead_xchacha20poly1305_ietf_ABYTES    /* 16 */
#define KEYFILE_AD_BYTES       68                                           /* everything before the ciphertext */
#define KEYFILE_READ_MAX       4096
#define KDF_MEMLIMIT_MAX       (1024ULL * 1024 * 1024)
#define PUBKEY_MAGIC           "sealdrop-pubkey-v1"
#define PUBKEY_MAGIC_STEM      "sealdrop-pubkey-v"

_Static_assert(KEYFILE_AD_BYTES + SD_KEY_SECRET_BYTES + KEYFILE_TAG_BYTES == SD_KEYFILE_BYTES, "key file layout");
_Static_assert(KEYFILE_MAGIC_BYTES + 4 + 8 + 8 + KEYFILE_SALT_BYTES + KEYFILE_NONCE_BYTES == KEYFILE_AD_BYTES,
               "key file header layout");
_Static_assert(SD_PWFILE_PREFIX_BYTES == KEYFILE_AD_BYTES && SD_PWFILE_SALT_BYTES == KEYFILE_SALT_BYTES &&
                       SD_PWFILE_NONCE_BYTES == KEYFILE_NONCE_BYTES &&
                       SD_PWFILE_BODY_BYTES == SD_KEY_SECRET_BYTES + KEYFILE_TAG_BYTES,
               "passphrase file layout");

static const char *const kind_names[] = {
        [SD_KEY_ROOT] = "root",     [SD_KEY_INTAKE] = "intake",     [SD_KEY_IDENTITY] = "identity",
        [SD_KEY_AGENCY] = "agency", [SD_KEY_ATTORNEY] = "attorney", [SD_KEY_LOG] = "log",
};

#define KIND_MAX SD_KEY_LOG

static bool kind_is_valid(sd_key_kind_t k)
{
	return k >= SD_KEY_ROOT && k <= KIND_MAX;
}

/* --- kinds, ids, limits ------------------------------------------------------------ */

const char *sd_key_kind_name(sd_key_kind_t k)
{
	return kind_is_valid(k) ? kind_names[k] : "unknown";
}

int sd_key_kind_from_name(const char *name, sd_key_kind_t *out)
{
	for (int k = SD_KEY_ROOT; k <= KIND_MAX; k++) {
		if (name != NULL && strcmp(name, kind_names[k]) == 0) {
			*out = (sd_key_kind_t)k;
			return 0;
		}
	}
	return sd_error(SD_ERR_FORMAT,
	                "unknown key kind '%.32s' (expected root, intake, identity, agency, "
	                "attorney or log)",
	                name ? name : "");
}

/* 0 (no algorithm) for a kind outside sd_key_kind_t. */
sd_key_alg_t sd_key_kind_alg(sd_key_kind_t k)
{
	if (k == SD_KEY_ROOT || k == SD_KEY_LOG)
		return SD_ALG_ED25519;
	if (kind_is_valid(k))
		return SD_ALG_X25519;
	return (sd_key_alg_t)0;
}

void sd_key_id(sd_key_kind_t k, const uint8_t pk[SD_KEY_PUBLIC_BYTES], uint8_t id[SD_KEY_ID_BYTES])
{
	crypto_generichash_state st;
	uint8_t digest[crypto_generichash_BYTES];
	uint8_t kind = (uint8_t)k;

	crypto_generichash_init(&st, NULL, 0, sizeof(digest));
	crypto_generichash_update(&st, (const uint8_t *)KEYID_DOMAIN, sizeof(KEYID_DOMAIN) - 1);
	crypto_generichash_update(&st, &kind, 1);
	crypto_generichash_update(&st, pk, SD_KEY_PUBLIC_BYTES);
	crypto_generichash_final(&st, digest, sizeof(digest));
	memcpy(id, digest, SD_KEY_ID_BYTES);
}

void sd_key_id_hex(const uint8_t id[SD_KEY_ID_BYTES], char out[SD_KEY_ID_HEX_BYTES])
{
	sd_hex_encode(id, SD_KEY_ID_BYTES, out);
}

sd_kdf_limits_t sd_kdf_interactive(void)
{
	return (sd_kdf_limits_t){crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
	                         crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE};
}

sd_kdf_limits_t sd_kdf_moderate(void)
{
	return (sd_kdf_limits_t){crypto_pwhash_argon2id_OPSLIMIT_MODERATE, crypto_pwhash_argon2id_MEMLIMIT_MODERATE};
}

sd_kdf_limits_t sd_kdf_sensitive(void)
{
	return (sd_kdf_limits_t){crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE, crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE};
}

sd_kdf_limits_t sd_kdf_minimum(void)
{
	return (sd_kdf_limits_t){crypto_pwhash_argon2id_OPSLIMIT_MIN, crypto_pwhash_argon2id_MEMLIMIT_MIN};
}

bool sd_kdf_limits_are_sane(const sd_kdf_limits_t *l)
{
	return l != NULL && l->opslimit >= crypto_pwhash_argon2id_OPSLIMIT_MIN &&
	       l->opslimit <= crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE &&
	       l->memlimit >= crypto_pwhash_argon2id_MEMLIMIT_MIN && l->memlimit <= KDF_MEMLIMIT_MAX &&
	       l->memlimit % 1024 == 0;
}

/* --- secret keys in memory ---------------------------------------------------------- */

static size_t seckey_sk_bytes(sd_key_kind_t k)
{
	return sd_key_kind_alg(k) == SD_ALG_ED25519 ? crypto_sign_SECRETKEYBYTES : crypto_box_SECRETKEYBYTES;
}

static int seckey_alloc(sd_key_kind_t k, sd_seckey_t **out)
{
	sd_seckey_t *key;

	*out = NULL;
	if (!kind_is_valid(k))
		return sd_error(SD_ERR_USAGE, "unknown key kind %d", (int)k);
	key = calloc(1, sizeof(*key));
	if (key == NULL)
		return sd_error(SD_ERR_NOMEM, "out of memory for a secret key");
	key->kind = k;
	key->sk = sodium_malloc(seckey_sk_bytes(k));
	if (key->sk == NULL) {
		free(key);
		return sd_error(SD_ERR_NOMEM, "cannot allocate protected memory for a secret key");
	}
	*out = key;
	return 0;
}

void sd_seckey_free_(sd_seckey_t *k)
{
	if (k == NULL)
		return;
	if (k->sk != NULL) {
		sodium_memzero(k->sk, seckey_sk_bytes(k->kind));
		sodium_free(k->sk);
	}
	sodium_memzero(k, sizeof(*k));
	free(k);
}

int sd_seckey_generate(sd_key_kind_t k, sd_seckey_t **out)
{
	sd_seckey_t *key;
	int r;

	*out = NULL;
	if ((r = seckey_alloc(k, &key)) < 0)
		return r;
	if (sd_key_kind_alg(k) == SD_ALG_ED25519)
		r = crypto_sign_keypair(key->pk, key->sk);
	else
		r = crypto_box_keypair(key->pk, key->sk);
	if (r != 0) {
		sd_seckey_free(key);
		return sd_error(SD_ERR_INTERNAL, "key generation failed");
	}
	sd_key_id(k, key->pk, key->id);
	*out = key;
	return 0;
}

int sd_seckey_from_secret(sd_key_kind_t k, const uint8_t secret[SD_KEY_SECRET_BYTES], sd_seckey_t **out)
{
	sd_seckey_t *key;
	int r;

	*out = NULL;
	if ((r = seckey_alloc(k, &key)) < 0)
		return r;
	if (sd_key_kind_alg(k) == SD_ALG_ED25519) {
		r = crypto_sign_seed_keypair(key->pk, key->sk, secret);
	} else {
		memcpy(key->sk, secret, SD_KEY_SECRET_BYTES);
		r = crypto_scalarmult_base(key->pk, key->sk);
	}
	if (r != 0) {
		sd_seckey_free(key);
		return sd_error(SD_ERR_FORMAT, "this secret does not give a usable %s key", sd_key_kind_name(k));
	}
	sd_key_id(k, key->pk, key->id);
	*out = key;
	return 0;
}

void sd_seckey_public(const sd_seckey_t *k, sd_pubkey_t *out)
{
	out->kind = k->kind;
	memcpy(out->pk, k->pk, sizeof(out->pk));
	memcpy(out->id, k->id, sizeof(out->id));
}

/* --- passphrase-protected files (secret key files and key share files) -------------- */

static const sd_pwfile_spec_t keyfile_spec = {KEYFILE_MAGIC, "secret key file", "key file", 0};

size_t sd_pwfile_bytes(const sd_pwfile_spec_t *s)
{
	return KEYFILE_AD_BYTES + s->extra_bytes + SD_PWFILE_BODY_BYTES;
}

/* The file key. Fuzzing builds swap Argon2id for one BLAKE2b of the same inputs so the
 * fuzzer spends its time in the parser, not in the KDF. */
static int keyfile_derive(uint8_t key[KEYFILE_KEY_BYTES], const char *pass, size_t passlen,
                          const uint8_t salt[KEYFILE_SALT_BYTES], const sd_kdf_limits_t *l)
{
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	(void)l;
	if (crypto_generichash(key, KEYFILE_KEY_BYTES, (const uint8_t *)pass, passlen, salt, KEYFILE_SALT_BYTES) != 0)
		return sd_error(SD_ERR_INTERNAL, "BLAKE2b failed");
	return 0;
#else
	if (!sd_kdf_limits_are_sane(l)) /* callers checked; this is the last line of defence */
		return sd_error(SD_ERR_INTERNAL, "Argon2id limits out of range");
	if (crypto_pwhash(key, KEYFILE_KEY_BYTES, pass, passlen, salt, l->opslimit, (size_t)l->memlimit,
	                  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return sd_error(SD_ERR_NOMEM, "Argon2id could not allocate %" PRIu64 " bytes", l->memlimit);
	return 0;
#endif
}

static int keyfile_check_pass(const char *pass, size_t passlen)
{
	if (pass == NULL && passlen > 0)
		return sd_error(SD_ERR_USAGE, "passphrase pointer is NULL");
	if (passlen > crypto_pwhash_PASSWD_MAX)
		return sd_error(SD_ERR_USAGE, "passphrase is too long");
	return 0;
}

/* The fields after the magic: version, kind, algorithm, KDF, limits. */
static int pwfile_check_fields(const sd_pwfile_spec_t *s, uint8_t version, uint8_t kind, uint8_t alg, uint8_t kdf,
                               sd_pwfile_header_t *h)
{
	if (version != KEYFILE_VERSION)
		return sd_error(SD_ERR_VERSION, "%s version %u is not supported (this build reads %d)", s->noun,
		                version, KEYFILE_VERSION);
	if (!kind_is_valid((sd_key_kind_t)kind))
		return sd_error(SD_ERR_FORMAT, "%s names unknown key kind %u", s->noun, kind);
	h->kind = (sd_key_kind_t)kind;
	if (alg != sd_key_kind_alg(h->kind))
		return sd_error(SD_ERR_FORMAT, "%s's algorithm %u does not match its kind (%s)", s->noun, alg,
		                sd_key_kind_name(h->kind));
	if (kdf != KEYFILE_KDF_ARGON2ID13)
		return sd_error(SD_ERR_FORMAT, "%s names unknown key derivation %u", s->noun, kdf);
	if (!sd_kdf_limits_are_sane(&h->limits))
		return sd_error(SD_ERR_FORMAT,
		                "%s asks for unreasonable Argon2id limits (opslimit %" PRIu64 ", memlimit %" PRIu64
		                " bytes)",
		                s->short_noun, h->limits.opslimit, h->limits.memlimit);
	return 0;
}

int sd_pwfile_parse(const sd_pwfile_spec_t *s, const uint8_t *buf, size_t len, sd_pwfile_header_t *h)
{
	size_t want = sd_pwfile_bytes(s);
	sd_rd_t rd;
	const uint8_t *magic;
	uint8_t version, kind, alg, kdf;

	if (buf == NULL && len > 0)
		return sd_error(SD_ERR_USAGE, "%s buffer is NULL", s->short_noun);
	if (len < want)
		return sd_error(SD_ERR_TRUNCATED, "%s is truncated: %zu bytes, expected %zu", s->noun, len, want);
	if (len > want)
		return sd_error(SD_ERR_FORMAT, "%s is %zu bytes, expected %zu: trailing data", s->noun, len, want);
	rd = sd_rd_init(buf, len);
	magic = sd_rd_take(&rd, KEYFILE_MAGIC_BYTES);
	version = sd_rd_u8(&rd);
	kind = sd_rd_u8(&rd);
	alg = sd_rd_u8(&rd);
	kdf = sd_rd_u8(&rd);
	h->limits.opslimit = sd_rd_u64(&rd);
	h->limits.memlimit = sd_rd_u64(&rd);
	h->salt = sd_rd_take(&rd, KEYFILE_SALT_BYTES);
	h->nonce = sd_rd_take(&rd, KEYFILE_NONCE_BYTES);
	h->extra = sd_rd_take(&rd, s->extra_bytes);
	h->ciphertext = sd_rd_take(&rd, SD_PWFILE_BODY_BYTES);
	if (sd_rd_finish(&rd, s->noun) < 0)
		return sd_error(SD_ERR_INTERNAL, "%s layout does not add up", s->noun);
	if (sodium_memcmp(magic, s->magic, KEYFILE_MAGIC_BYTES) != 0)
		return sd_error(SD_ERR_FORMAT, "not a sealdrop %s", s->noun);
	return pwfile_check_fields(s, version, kind, alg, kdf, h);
}

static int pwfile_write_header(const sd_pwfile_spec_t *s, sd_key_kind_t kind, const sd_kdf_limits_t *l,
                               const uint8_t *salt, const uint8_t *nonce, const uint8_t *extra, uint8_t *out)
{
	size_t ad = KEYFILE_AD_BYTES + s->extra_bytes;
	sd_wr_t w = sd_wr_init(out, ad);

	sd_wr_bytes(&w, s->magic, KEYFILE_MAGIC_BYTES);
	sd_wr_u8(&w, KEYFILE_VERSION);
	sd_wr_u8(&w, (uint8_t)kind);
	sd_wr_u8(&w, (uint8_t)sd_key_kind_alg(kind));
	sd_wr_u8(&w, KEYFILE_KDF_ARGON2ID13);
	sd_wr_u64(&w, l->opslimit);
	sd_wr_u64(&w, l->memlimit);
	sd_wr_bytes(&w, salt, KEYFILE_SALT_BYTES);
	sd_wr_bytes(&w, nonce, KEYFILE_NONCE_BYTES);
	if (s->extra_bytes > 0)
		sd_wr_bytes(&w, extra, s->extra_bytes);
	if (w.failed || w.len != ad)
		return sd_error(SD_ERR_INTERNAL, "%s header layout does not add up", s->noun);
	return 0;
}

/* Everything sd_pwfile_seal refuses before it derives a key. */
static int pwfile_check_seal(const sd_pwfile_spec_t *s, sd_key_kind_t kind, const uint8_t *extra, const uint8_t *secret,
                             const char *pass, size_t passlen, const sd_kdf_limits_t *l)
{
	int r;

	if (!kind_is_valid(kind) || secret == NULL || (s->extra_bytes > 0 && extra == NULL))
		return sd_error(SD_ERR_USAGE, "no secret key to write");
	if ((r = keyfile_check_pass(pass, passlen)) < 0)
		return r;
	if (passlen < 1)
		return sd_error(SD_ERR_USAGE, "an empty passphrase cannot protect a %s", s->short_noun);
	if (!sd_kdf_limits_are_sane(l))
		return sd_error(SD_ERR_USAGE,
		                "Argon2id limits out of range (opslimit %" PRIu64 ", memlimit %" PRIu64 " bytes)",
		                l->opslimit, l->memlimit);
	return 0;
}

int sd_pwfile_seal(const sd_pwfile_spec_t *s, sd_key_kind_t kind, const uint8_t *extra,
                   const uint8_t secret[SD_KEY_SECRET_BYTES], const char *pass, size_t passlen,
                   const sd_kdf_limits_t *limits, const uint8_t *salt, const uint8_t *nonce, uint8_t *out)
{
	sd_kdf_limits_t l = limits ? *limits : sd_kdf_moderate();
	uint8_t rsalt[KEYFILE_SALT_BYTES], rnonce[KEYFILE_NONCE_BYTES];
	size_t ad = KEYFILE_AD_BYTES + s->extra_bytes;
	uint8_t *key = NULL;
	unsigned long long clen = 0;
	int r;

	if (out == NULL)
		return sd_error(SD_ERR_USAGE, "no buffer for the %s", s->noun);
	if ((r = pwfile_check_seal(s, kind, extra, secret, pass, passlen, &l)) < 0)
		goto out;
	if (salt == NULL) {
		randombytes_buf(rsalt, sizeof(rsalt));
		salt = rsalt;
	}
	if (nonce == NULL) {
		randombytes_buf(rnonce, sizeof(rnonce));
		nonce = rnonce;
	}
	if ((r = pwfile_write_header(s, kind, &l, salt, nonce, extra, out)) < 0)
		goto out;
	if ((key = sodium_malloc(KEYFILE_KEY_BYTES)) == NULL) {
		r = sd_error(SD_ERR_NOMEM, "cannot allocate protected memory for the file key");
		goto out;
	}
	if ((r = keyfile_derive(key, pass, passlen, salt, &l)) < 0)
		goto out;
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(out + ad, &clen, secret, SD_KEY_SECRET_BYTES, out, ad, NULL,
	                                               nonce, key) != 0 ||
	    clen != SD_PWFILE_BODY_BYTES) {
		r = sd_error(SD_ERR_INTERNAL, "%s encryption failed", s->short_noun);
		goto out;
	}
	r = 0;
out:
	if (key != NULL) {
		sodium_memzero(key, KEYFILE_KEY_BYTES);
		sodium_free(key);
	}
	if (r < 0)
		sodium_memzero(out, sd_pwfile_bytes(s));
	return r;
}

int sd_pwfile_open(const sd_pwfile_spec_t *s, const uint8_t *buf, const sd_pwfile_header_t *h, const char *pass,
                   size_t passlen, uint8_t secret[SD_KEY_SECRET_BYTES])
{
	uint8_t *key = NULL;
	unsigned long long mlen = 0;
	int r;

	if ((r = keyfile_check_pass(pass, passlen)) < 0)
		return r;
	if (passlen < 1)
		return sd_error(SD_ERR_PASSPHRASE, "an empty passphrase never opens a %s", s->short_noun);
	if ((key = sodium_malloc(KEYFILE_KEY_BYTES)) == NULL)
		return sd_error(SD_ERR_NOMEM, "cannot allocate protected memory for a secret key");
	if ((r = keyfile_derive(key, pass, passlen, h->salt, &h->limits)) < 0)
		goto out;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(secret, &mlen, NULL, h->ciphertext, SD_PWFILE_BODY_BYTES, buf,
	                                               KEYFILE_AD_BYTES + s->extra_bytes, h->nonce, key) != 0 ||
	    mlen != SD_KEY_SECRET_BYTES) {
		sodium_memzero(secret, SD_KEY_SECRET_BYTES);
		r = sd_error(SD_ERR_PASSPHRASE, "wrong passphrase, or the %s was altered", s->short_noun);
		goto out;
	}
	r = 0;
out:
	sodium_memzero(key, KEYFILE_KEY_BYTES);
	sodium_free(key);
	return r;
}

int sd_pwfile_error_with_path(int r, const char *path)
{
	char detail[512];

	snprintf(detail, sizeof(detail), "%s", sd_error_detail());
	return sd_error(r, "%s: %s", path, detail[0] ? detail : sd_strerror(r));
}

/* --- secret key files --------------------------------------------------------------- */

/* limits NULL means MODERATE, the default of DESIGN.md. */
int sd_keyfile_encode(const sd_seckey_t *k, const char *pass, size_t passlen, const sd_kdf_limits_t *limits,
                      const uint8_t *salt, const uint8_t *nonce, uint8_t out[SD_KEYFILE_BYTES])
{
	if (k == NULL || k->sk == NULL || !kind_is_valid(k->kind) || out == NULL)
		return sd_error(SD_ERR_USAGE, "no secret key to write");
	/* The secret is the first 32 bytes of sk for both algorithms: the Ed25519 seed of
	 * libsodium's seed||pk form, or the X25519 scalar. */
	return sd_pwfile_seal(&keyfile_spec, k->kind, NULL, k->sk, pass, passlen, limits, salt, nonce, out);
}

int sd_keyfile_peek(const uint8_t *buf, size_t len, sd_key_kind_t *kind, sd_kdf_limits_t *limits)
{
	sd_pwfile_header_t h;
	int r = sd_pwfile_parse(&keyfile_spec, buf, len, &h);

	if (r < 0)
		return r;
	if (kind != NULL)
		*kind = h.kind;
	if (limits != NULL)
		*limits = h.limits;
	return 0;
}

int sd_keyfile_decode(const uint8_t *buf, size_t len, const char *pass, size_t passlen, sd_seckey_t **out)
{
	sd_pwfile_header_t h;
	uint8_t *secret = NULL;
	int r;

	*out = NULL;
	if ((r = sd_pwfile_parse(&keyfile_spec, buf, len, &h)) < 0)
		return r;
	if ((secret = sodium_malloc(SD_KEY_SECRET_BYTES)) == NULL)
		return sd_error(SD_ERR_NOMEM, "cannot allocate protected memory for a secret key");
	if ((r = sd_pwfile_open(&keyfile_spec, buf, &h, pass, passlen, secret)) == 0)
		r = sd_seckey_from_secret(h.kind, secret, out);
	sodium_memzero(secret, SD_KEY_SECRET_BYTES);
	sodium_free(secret);
	return r;
}

int sd_keyfile_write(const char *path, const sd_seckey_t *k, const char *pass, size_t passlen,
                     const sd_kdf_limits_t *limits)
{
	uint8_t buf[SD_KEYFILE_BYTES];
	int r;

	if (path == NULL)
		return sd_error(SD_ERR_USAGE, "no path for the secret key file");
	if ((r = sd_keyfile_encode(k, pass, passlen, limits, NULL, NULL, buf)) < 0)
		return r;
	r = sd_file_write(path, buf, sizeof(buf), 0600, SD_AFILE_NOCLOBBER);
	sodium_memzero(buf, sizeof(buf));
	return r;
}

int sd_keyfile_read(const char *path, const char *pass, size_t passlen, sd_seckey_t **out)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	if (path == NULL)
		return sd_error(SD_ERR_USAGE, "no path for the secret key file");
	if ((r = sd_file_read(path, KEYFILE_READ_MAX, &buf, &len)) < 0)
		return r; /* fileio's detail already names the path */
	r = sd_keyfile_decode(buf, len, pass, passlen, out);
	if (r < 0)
		r = sd_pwfile_error_with_path(r, path);
	sodium_memzero(buf, len);
	free(buf);
	return r;
}

/* --- public key files --------------------------------------------------------------- */

int sd_pubkey_format(const sd_pubkey_t *k, char out[SD_PUBKEY_TEXT_BYTES])
{
	uint8_t id[SD_KEY_ID_BYTES];
	char idhex[SD_KEY_ID_HEX_BYTES];
	char b64[sodium_base64_ENCODED_LEN(SD_KEY_PUBLIC_BYTES, sodium_base64_VARIANT_ORIGINAL)];
	int n;

	if (k == NULL || out == NULL || !kind_is_valid(k->kind))
		return sd_error(SD_ERR_USAGE, "no public key, or an unknown kind, to format");
	sd_key_id(k->kind, k->pk, id);
	if (sodium_memcmp(id, k->id, sizeof(id)) != 0)
		return sd_error(SD_ERR_USAGE, "public key's id does not match its key");
	sd_key_id_hex(id, idhex);
	sd_base64_encode(k->pk, SD_KEY_PUBLIC_BYTES, b64);
	n = snprintf(out, SD_PUBKEY_TEXT_BYTES, "%s %s %s %s\n", PUBKEY_MAGIC, sd_key_kind_name(k->kind), idhex, b64);
	if (n < 0 || n >= SD_PUBKEY_TEXT_BYTES)
		return sd_error(SD_ERR_INTERNAL, "public key line does not fit");
	return 0;
}

/* Splits off the next space-separated field of *p in place; NULL if it is empty. */
static char *pubkey_next_field(char **p)
{
	char *start = *p, *sp;

	if (start == NULL || *start == '\0' || *start == ' ')
		return NULL;
	sp = strchr(start, ' ');
	if (sp != NULL) {
		*sp = '\0';
		*p = sp + 1;
	} else {
		*p = NULL;
	}
	return start;
}

static bool is_lower_hex(const char *s, size_t len)
{
	if (strlen(s) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* Copies the single line of text into line[] (NUL-terminated), without its newline. */
static int pubkey_take_line(const char *text, size_t len, char line[SD_PUBKEY_TEXT_BYTES])
{
	if (text == NULL)
		return sd_error(SD_ERR_USAGE, "no public key text");
	if (len > 0 && text[len - 1] == '\n')
		len--;
	if (len >= SD_PUBKEY_TEXT_BYTES)
		return sd_error(SD_ERR_FORMAT, "public key line is longer than %d bytes", SD_PUBKEY_TEXT_BYTES - 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == '\n')
			return sd_error(SD_ERR_FORMAT, "public key file has more than one line");
		if (c < 0x20 || c > 0x7e)
			return sd_error(SD_ERR_FORMAT, "public key line has a control or non-ASCII byte at offset %zu",
			                i);
	}
	memcpy(line, text, len);
	line[len] = '\0';
	return 0;
}

int sd_pubkey_parse(const char *text, size_t len, sd_pubkey_t *out)
{
	char line[SD_PUBKEY_TEXT_BYTES];
	char *p = line, *magic, *kindname, *idhex, *b64;
	sd_pubkey_t k;
	uint8_t id[SD_KEY_ID_BYTES];
	int r;

	if ((r = pubkey_take_line(text, len, line)) < 0)
		return r;
	magic = pubkey_next_field(&p);
	if (magic == NULL || strcmp(magic, PUBKEY_MAGIC) != 0) {
		if (magic != NULL && strncmp(magic, PUBKEY_MAGIC_STEM, sizeof(PUBKEY_MAGIC_STEM) - 1) == 0)
			return sd_error(SD_ERR_VERSION,
			                "public key file format '%.24s' is not supported (this "
			                "build reads %s)",
			                magic, PUBKEY_MAGIC);
		return sd_error(SD_ERR_FORMAT, "not a sealdrop public key (expected a line starting with '%s')",
		                PUBKEY_MAGIC);
	}
	kindname = pubkey_next_field(&p);
	idhex = pubkey_next_field(&p);
	b64 = pubkey_next_field(&p);
	if (kindname == NULL || idhex == NULL || b64 == NULL || p != NULL)
		return sd_error(SD_ERR_FORMAT,
		                "public key line must be '%s <kind> <key id> <base64 key>', "
		                "separated by single spaces",
		                PUBKEY_MAGIC);
	if ((r = sd_key_kind_from_name(kindname, &k.kind)) < 0)
		return r;
	if (!is_lower_hex(idhex, 2 * SD_KEY_ID_BYTES) || sd_hex_decode(idhex, k.id, SD_KEY_ID_BYTES) < 0)
		return sd_error(SD_ERR_FORMAT, "public key id must be %d lower-case hexadecimal digits",
		                2 * SD_KEY_ID_BYTES);
	if (sd_base64_decode_exact(b64, k.pk, SD_KEY_PUBLIC_BYTES) < 0)
		return sd_error(SD_ERR_FORMAT, "public key is not the canonical base64 of %d bytes",
		                SD_KEY_PUBLIC_BYTES);
	sd_key_id(k.kind, k.pk, id);
	if (sodium_memcmp(id, k.id, sizeof(id)) != 0)
		return sd_error(SD_ERR_VERIFY, "public key file's key id does not match its key");
	*out = k;
	return 0;
}

int sd_pubkey_write(const char *path, const sd_pubkey_t *k)
{
	char text[SD_PUBKEY_TEXT_BYTES];
	int r;

	if (path == NULL)
		return sd_error(SD_ERR_USAGE, "no path for the public key file");
	if ((r = sd_pubkey_format(k, text)) < 0)
		return r;
	return sd_file_write(path, text, strlen(text), 0644, SD_AFILE_NOCLOBBER);
}

int sd_pubkey_read(const char *path, sd_pubkey_t *out)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	if (path == NULL)
		return sd_error(SD_ERR_USAGE, "no path for the public key file");
	if ((r = sd_file_read(path, KEYFILE_READ_MAX, &buf, &len)) < 0)
		return r;
	r = sd_pubkey_parse((const char *)buf, len, out);
	if (r < 0)
		r = sd_pwfile_error_with_path(r, path);
	free(buf);
	return r;
}

int sd_pubkey_from_base64(sd_key_kind_t kind, const char *b64, sd_pubkey_t *out)
{
	sd_pubkey_t k;

	if (!kind_is_valid(kind))
		return sd_error(SD_ERR_USAGE, "unknown key kind %d", (int)kind);
	if (b64 == NULL || sd_base64_decode_exact(b64, k.pk, SD_KEY_PUBLIC_BYTES) < 0)
		return sd_error(SD_ERR_FORMAT, "%s key is not the canonical base64 of %d bytes", sd_key_kind_name(kind),
		                SD_KEY_PUBLIC_BYTES);
	k.kind = kind;
	sd_key_id(kind, k.pk, k.id);
	*out = k;
	return 0;
}
