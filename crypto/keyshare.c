/*
 * keyshare.c — identity key share files: the custodians' k-of-n split of the identity
 * key (DESIGN.md, "Consent-gated identity release", custodian quorum). Each file is a
 * secret key file's passphrase envelope (crypto/keys_int.h, shared with keys.c) around one
 * Shamir share (crypto/shamir.c), with a clear header naming the share's index, K, N and
 * the key it belongs to.
 *
 * Start at sd_keyshare_decode() (the parser facing files that may have been tampered
 * with: every header field is checked before the KDF runs) and sd_keyshare_combine()
 * (every refusal a ceremony can meet, each with its own message). Byte layout and
 * vectors: docs/FORMAT.md, "Identity key shares".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "sealdrop/bytes.h"
#include "sealdrop/fileio.h"
#include "sealdrop/keys.h"
#include "sealdrop/keyshare.h"
#include "sealdrop/sealdrop.h"
#include "sealdrop/shamir.h"
#include "keys_int.h"

#define KEYSHARE_MAGIC    "SDKSHARE"
#define KEYSHARE_EXTRA    44 /* x, k, n, reserved, key id, public key */
#define KEYSHARE_READ_MAX 4096
#define KEYSHARE_OFF_X    SD_PWFILE_PREFIX_BYTES /* 68 */

static const sd_pwfile_spec_t keyshare_spec = {KEYSHARE_MAGIC, "key share file", "key share file", KEYSHARE_EXTRA};

_Static_assert(SD_PWFILE_PREFIX_BYTES + KEYSHARE_EXTRA + SD_PWFILE_BODY_BYTES == SD_KEYSHARE_BYTES,
               "key share file layout");
_Static_assert(4 + SD_KEY_ID_BYTES + SD_KEY_PUBLIC_BYTES == KEYSHARE_EXTRA, "key share header layout");
_Static_assert(SD_SHAMIR_SECRET_BYTES == SD_KEY_SECRET_BYTES, "a share is as long as a secret");

void sd_keyshare_free_(sd_keyshare_t *s)
{
	sd_secret_free(s); /* sodium_free wipes the whole allocation */
}

/* --- the clear header ------------------------------------------------------------- */

static bool info_is_consistent(const sd_keyshare_info_t *in)
{
	uint8_t id[SD_KEY_ID_BYTES];

	if (in->key.kind != SD_KEY_IDENTITY || in->k < SD_SHAMIR_MIN_K || in->k > in->n || in->x < 1 || in->x > in->n)
		return false;
	sd_key_id(in->key.kind, in->key.pk, id);
	return sd_equal(id, in->key.id, sizeof(id));
}

/* The share fields of a header sd_pwfile_parse accepted, in file order. */
static int parse_extra(const sd_pwfile_header_t *h, sd_keyshare_info_t *out)
{
	sd_rd_t rd = sd_rd_init(h->extra, KEYSHARE_EXTRA);
	sd_keyshare_info_t in = {.limits = h->limits};
	uint8_t reserved, id[SD_KEY_ID_BYTES];

	in.x = sd_rd_u8(&rd);
	in.k = sd_rd_u8(&rd);
	in.n = sd_rd_u8(&rd);
	reserved = sd_rd_u8(&rd);
	in.key.kind = h->kind;
	if (!sd_rd_copy(&rd, in.key.id, SD_KEY_ID_BYTES) || !sd_rd_copy(&rd, in.key.pk, SD_KEY_PUBLIC_BYTES) ||
	    sd_rd_finish(&rd, "key share header") < 0)
		return sd_error(SD_ERR_INTERNAL, "key share header layout does not add up");
	if (h->kind != SD_KEY_IDENTITY)
		return sd_error(SD_ERR_FORMAT, "key share file holds a share of %s key; only identity keys are split",
		                sd_key_kind_name(h->kind));
	if (in.k < SD_SHAMIR_MIN_K || in.k > in.n)
		return sd_error(SD_ERR_FORMAT, "key share file's threshold %u does not fit its %u shares", in.k, in.n);
	if (in.x < 1 || in.x > in.n)
		return sd_error(SD_ERR_FORMAT, "key share file's index %u is not within 1..%u", in.x, in.n);
	if (reserved != 0)
		return sd_error(SD_ERR_FORMAT, "key share file's reserved byte is %u, not 0", reserved);
	sd_key_id(in.key.kind, in.key.pk, id);
	if (!sd_equal(id, in.key.id, sizeof(id)))
		return sd_error(SD_ERR_FORMAT, "key share file's key id does not match its public key");
	*out = in;
	return 0;
}

int sd_keyshare_peek(const uint8_t *buf, size_t len, sd_keyshare_info_t *out)
{
	sd_pwfile_header_t h;
	int r;

	if (out == NULL)
		return sd_error(SD_ERR_USAGE, "no room for the key share header");
	if ((r = sd_pwfile_parse(&keyshare_spec, buf, len, &h)) < 0)
		return r;
	return parse_extra(&h, out);
}

/* --- encoding and decoding --------------------------------------------------------- */

int sd_keyshare_encode(const sd_keyshare_t *s, const char *pass, size_t passlen, const sd_kdf_limits_t *limits,
                       const uint8_t *salt, const uint8_t *nonce, uint8_t out[SD_KEYSHARE_BYTES])
{
	uint8_t extra[KEYSHARE_EXTRA];
	sd_wr_t w = sd_wr_init(extra, sizeof(extra));

	if (s == NULL || out == NULL || !info_is_consistent(&s->info) || s->share.x != s->info.x)
		return sd_error(SD_ERR_USAGE, "no consistent identity key share to write");
	sd_wr_u8(&w, s->info.x);
	sd_wr_u8(&w, s->info.k);
	sd_wr_u8(&w, s->info.n);
	sd_wr_u8(&w, 0);
	sd_wr_bytes(&w, s->info.key.id, SD_KEY_ID_BYTES);
	sd_wr_bytes(&w, s->info.key.pk, SD_KEY_PUBLIC_BYTES);
	if (w.failed || w.len != sizeof(extra))
		return sd_error(SD_ERR_INTERNAL, "key share header layout does not add up");
	return sd_pwfile_seal(&keyshare_spec, s->info.key.kind, extra, s->share.y, pass, passlen, limits, salt, nonce,
	                      out);
}

int sd_keyshare_decode(const uint8_t *buf, size_t len, const char *pass, size_t passlen, sd_keyshare_t **out)
{
	sd_pwfile_header_t h;
	sd_keyshare_info_t info;
	sd_keyshare_t *s;
	int r;

	*out = NULL;
	if ((r = sd_pwfile_parse(&keyshare_spec, buf, len, &h)) < 0 || (r = parse_extra(&h, &info)) < 0)
		return r;
	if ((s = sd_secret_alloc(sizeof(*s))) == NULL)
		return sd_error(SD_ERR_NOMEM, "cannot allocate protected memory for a key share");
	s->info = info;
	s->share.x = info.x;
	if ((r = sd_pwfile_open(&keyshare_spec, buf, &h, pass, passlen, s->share.y)) < 0) {
		sd_keyshare_free(s);
		return r;
	}
	*out = s;
	return 0;
}

/* --- splitting --------------------------------------------------------------------- */

/* Recombines shares [first, first + k) of a fresh split and checks they give key back:
 * a split is only handed out once it is known to work. */
static int split_self_check(const sd_keyshare_t *shares, unsigned first, unsigned k)
{
	const sd_keyshare_t *set[SD_SHAMIR_MAX_N];
	sd_seckey_t *back = NULL;
	int r;

	for (unsigned i = 0; i < k; i++)
		set[i] = &shares[first + i];
	if ((r = sd_keyshare_combine(set, k, &back)) < 0) {
		char detail[256];

		snprintf(detail, sizeof(detail), "%s", sd_error_detail());
		return sd_error(SD_ERR_INTERNAL, "a fresh split does not recombine: %s", detail);
	}
	sd_seckey_free(back);
	return 0;
}

int sd_keyshare_split(const sd_seckey_t *key, unsigned k, unsigned n, sd_keyshare_t **out)
{
	sd_shamir_share_t *raw = NULL;
	sd_keyshare_t *s = NULL;
	int r;

	*out = NULL;
	if (key == NULL || key->sk == NULL || key->kind != SD_KEY_IDENTITY)
		return sd_error(SD_ERR_USAGE, "only identity keys are split into shares");
	if (n < 1 || n > SD_SHAMIR_MAX_N || k > n)
		return sd_error(SD_ERR_USAGE, "cannot split into %u of %u shares", k, n);
	raw = sd_secret_alloc((size_t)n * sizeof(*raw));
	s = sd_secret_alloc((size_t)n * sizeof(*s));
	if (raw == NULL || s == NULL) {
		r = sd_error(SD_ERR_NOMEM, "cannot allocate protected memory for %u key shares", n);
		goto out;
	}
	if ((r = sd_shamir_split(key->sk, k, n, raw)) < 0)
		goto out;
	for (unsigned i = 0; i < n; i++) {
		s[i].info = (sd_keyshare_info_t){.x = raw[i].x, .k = (uint8_t)k, .n = (uint8_t)n};
		sd_seckey_public(key, &s[i].info.key);
		s[i].share = raw[i];
	}
	if ((r = split_self_check(s, 0, k)) < 0 || (r = split_self_check(s, n - k, k)) < 0)
		goto out;
	*out = s;
	s = NULL;
	r = 0;
out:
	sd_secret_free(raw);
	sd_keyshare_free(s);
	return r;
}

/* --- combining --------------------------------------------------------------------- */

static int check_same_key(const sd_keyshare_info_t *a, const sd_keyshare_info_t *b)
{
	char ida[SD_KEY_ID_HEX_BYTES], idb[SD_KEY_ID_HEX_BYTES];

	sd_key_id_hex(a->key.id, ida);
	sd_key_id_hex(b->key.id, idb);
	if (a->key.kind != b->key.kind || !sd_equal(a->key.id, b->key.id, SD_KEY_ID_BYTES) ||
	    !sd_equal(a->key.pk, b->key.pk, SD_KEY_PUBLIC_BYTES))
		return sd_error(SD_ERR_WRONG_KEY,
		                "key shares of different keys: share %u is of key %s, share %u of key %s", a->x, ida,
		                b->x, idb);
	if (a->k != b->k || a->n != b->n)
		return sd_error(SD_ERR_WRONG_KEY,
		                "key shares of two different splits of key %s: %u of %u, and %u of %u", ida, a->k, a->n,
		                b->k, b->n);
	return 0;
}

int sd_keyshare_check_set(const sd_keyshare_info_t *const *infos, size_t count)
{
	int r;

	if (infos == NULL || count == 0)
		return sd_error(SD_ERR_USAGE, "no key shares given");
	for (size_t i = 0; i < count; i++) {
		if (infos[i] == NULL || !info_is_consistent(infos[i]))
			return sd_error(SD_ERR_USAGE, "key share %zu is missing or inconsistent", i + 1);
		if (i > 0 && (r = check_same_key(infos[0], infos[i])) < 0)
			return r;
		for (size_t j = 0; j < i; j++)
			if (infos[j]->x == infos[i]->x)
				return sd_error(SD_ERR_USAGE, "share %u is given twice", infos[i]->x);
	}
	if (count < infos[0]->k)
		return sd_error(SD_ERR_USAGE, "%zu share%s given, this key needs %u", count, count == 1 ? "" : "s",
		                infos[0]->k);
	return 0;
}

static int combine_checked(const sd_keyshare_t *const *shares, size_t count, sd_seckey_t **out)
{
	sd_shamir_share_t *raw = NULL;
	uint8_t *secret = NULL;
	int r;

	raw = sd_secret_alloc(count * sizeof(*raw));
	secret = sd_secret_alloc(SD_KEY_SECRET_BYTES);
	if (raw == NULL || secret == NULL) {
		r = sd_error(SD_ERR_NOMEM, "cannot allocate protected memory to recombine the key");
		goto out;
	}
	for (size_t i = 0; i < count; i++)
		raw[i] = shares[i]->share;
	if ((r = sd_shamir_combine(raw, count, secret)) < 0)
		goto out;
	r = sd_seckey_from_secret(SD_KEY_IDENTITY, secret, out);
out:
	sd_secret_free(raw);
	sd_secret_free(secret);
	return r;
}

int sd_keyshare_combine(const sd_keyshare_t *const *shares, size_t count, sd_seckey_t **out)
{
	const sd_keyshare_info_t *infos[SD_SHAMIR_MAX_N];
	const sd_pubkey_t *want;
	char id[SD_KEY_ID_HEX_BYTES];
	int r;

	*out = NULL;
	if (shares == NULL || count == 0)
		return sd_error(SD_ERR_USAGE, "no key shares given");
	if (count > SD_SHAMIR_MAX_N)
		return sd_error(SD_ERR_USAGE, "%zu key shares given: a split has at most %d", count, SD_SHAMIR_MAX_N);
	for (size_t i = 0; i < count; i++) {
		if (shares[i] == NULL)
			return sd_error(SD_ERR_USAGE, "key share %zu is missing", i + 1);
		if (shares[i]->share.x != shares[i]->info.x)
			return sd_error(SD_ERR_USAGE, "key share %zu's index does not match its header", i + 1);
		infos[i] = &shares[i]->info;
	}
	if ((r = sd_keyshare_check_set(infos, count)) < 0)
		return r;
	if ((r = combine_checked(shares, count, out)) < 0)
		return r;
	want = &shares[0]->info.key;
	if (!sd_equal((*out)->pk, want->pk, SD_KEY_PUBLIC_BYTES) || !sd_equal((*out)->id, want->id, SD_KEY_ID_BYTES)) {
		sd_seckey_free(*out);
		sd_key_id_hex(want->id, id);
		return sd_error(SD_ERR_VERIFY,
		                "the shares do not rebuild identity key %s: one is damaged, or they come from two "
		                "different splits of the key",
		                id);
	}
	return 0;
}

/* --- files ------------------------------------------------------------------------- */

int sd_keyshare_write(const char *path, const sd_keyshare_t *s, const char *pass, size_t passlen,
                      const sd_kdf_limits_t *limits)
{
	uint8_t buf[SD_KEYSHARE_BYTES];
	int r;

	if (path == NULL)
		return sd_error(SD_ERR_USAGE, "no path for the key share file");
	if ((r = sd_keyshare_encode(s, pass, passlen, limits, NULL, NULL, buf)) < 0)
		return r;
	r = sd_file_write(path, buf, sizeof(buf), 0600, SD_AFILE_NOCLOBBER);
	sodium_memzero(buf, sizeof(buf));
	return r;
}

/* The file's bytes (free them); fileio's errors already name the path. */
static int read_bytes(const char *path, uint8_t **buf, size_t *len)
{
	if (path == NULL)
		return sd_error(SD_ERR_USAGE, "no path for the key share file");
	return sd_file_read(path, KEYSHARE_READ_MAX, buf, len);
}

int sd_keyshare_read_info(const char *path, sd_keyshare_info_t *out)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	if ((r = read_bytes(path, &buf, &len)) < 0)
		return r;
	if ((r = sd_keyshare_peek(buf, len, out)) < 0)
		r = sd_pwfile_error_with_path(r, path);
	free(buf);
	return r;
}

int sd_keyshare_read(const char *path, const char *pass, size_t passlen, sd_keyshare_t **out)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	if ((r = read_bytes(path, &buf, &len)) < 0)
		return r;
	if ((r = sd_keyshare_decode(buf, len, pass, passlen, out)) < 0)
		r = sd_pwfile_error_with_path(r, path);
	sodium_memzero(buf, len);
	free(buf);
	return r;
}
