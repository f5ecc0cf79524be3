/*
 * envelope.c — the .sdx header: parsing and validation, the blob layout rules, the key
 * schedule, evidence metadata, and the verified chunk reader that open and inspect share.
 *
 * Start with sd_header_parse(): it is the gate every package passes through, whether it
 * comes from a file (inspect, open) or, later, from the network (the server). The byte
 * layout is specified in docs/FORMAT.md, "The sealed package".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "envelope_int.h"
#include "sealdrop/bytes.h"
#include "sealdrop/fileio.h"
#include "sealdrop/sealdrop.h"
#include "sealdrop/sign.h"

static const char *const blob_kind_names[] = {"?", "report", "identity", "evidence"};

uint64_t sdx_bucket(uint64_t n, uint64_t min)
{
	uint64_t b = min;

	while (b < n)
		b <<= 1;
	return b;
}

bool sdx_is_pow2_between(uint64_t n, uint64_t lo, uint64_t hi)
{
	return n >= lo && n <= hi && (n & (n - 1)) == 0;
}

void sdx_blob_ad(const uint8_t binding[SD_HASH_BYTES], sd_blob_kind_t kind, uint32_t index,
                 uint8_t ad[SDX_BLOB_AD_BYTES])
{
	memcpy(ad, binding, SD_HASH_BYTES);
	ad[SD_HASH_BYTES] = (uint8_t)kind;
	sd_store_le32(ad + SD_HASH_BYTES + 1, index);
}

void sdx_blob_key(const uint8_t dek[SDX_KEY_BYTES], uint32_t index, uint8_t key[SDX_KEY_BYTES])
{
	crypto_kdf_derive_from_key(key, SDX_KEY_BYTES, (uint64_t)index + 1, "sdcontnt", dek);
}

void sdx_identity_key(const uint8_t s_c[32], const uint8_t s_w[32], uint8_t key[SDX_KEY_BYTES])
{
	static const char domain[] = "sealdrop identity v1";
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, SDX_KEY_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)domain, sizeof(domain) - 1);
	crypto_generichash_update(&st, s_c, 32);
	crypto_generichash_update(&st, s_w, 32);
	crypto_generichash_final(&st, key, SDX_KEY_BYTES);
	sodium_memzero(&st, sizeof(st));
}

/* The preamble's fixed fields after the deployment name, up to the wrapped share. */
#define PREAMBLE_FIXED_BEFORE_SHARE (4 + 4 + SD_KEY_ID_BYTES * 2 + 32 + 32 + SD_HASH_BYTES + SD_SEALED_KEY_BYTES * 2)

size_t sdx_share_ad_len(const sd_header_t *h)
{
	return SD_SDX_PREFIX_BYTES + 1 + strlen(h->deployment) + PREAMBLE_FIXED_BEFORE_SHARE;
}

/* Code points a file name must not carry: they would act on the officer's terminal
 * (C0, DEL, C1 — e.g. U+009B is CSI) or make a name read as another (bidirectional
 * controls: "evil\u202etxt.exe"). */
static bool is_unsafe_in_name(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == '/' || cp == '\\' || cp == 0x200e || cp == 0x200f ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

bool sdx_name_is_valid(const char *name)
{
	size_t n = strlen(name);
	uint32_t cp;

	if (n == 0 || n > SD_EVIDENCE_NAME_MAX || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	for (size_t i = 0; i < n;)
		if (!sd_utf8_decode(name, n, &i, &cp) || is_unsafe_in_name(cp))
			return false;
	return true;
}

bool sdx_media_type_is_valid(const char *type)
{
	size_t n = strlen(type), slashes = 0;

	if (n < 3 || n > SD_EVIDENCE_TYPE_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)type[i];
		if (c == '/')
			slashes++;
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("+-.", c)))
			return false;
	}
	return slashes == 1 && type[0] != '/' && type[n - 1] != '/';
}

int sdx_meta_encode(const sdx_meta_t *m, uint8_t out[SDX_META_BUCKET])
{
	size_t nlen = strlen(m->name), tlen = strlen(m->media_type), padded = 0;
	sd_wr_t w = sd_wr_init(out, SDX_META_BUCKET);

	if (!sdx_name_is_valid(m->name) || !sdx_media_type_is_valid(m->media_type))
		return sd_error(SD_ERR_USAGE, "invalid evidence name or media type");
	sd_wr_u64(&w, m->size);
	sd_wr_u8(&w, (uint8_t)nlen);
	sd_wr_bytes(&w, m->name, nlen);
	sd_wr_u8(&w, (uint8_t)tlen);
	sd_wr_bytes(&w, m->media_type, tlen);
	if (w.failed || sodium_pad(&padded, out, w.len, SDX_META_BUCKET, SDX_META_BUCKET) != 0 ||
	    padded != SDX_META_BUCKET)
		return sd_error(SD_ERR_INTERNAL, "evidence metadata does not fit its block");
	return 0;
}

int sdx_meta_decode(const uint8_t *buf, size_t len, sdx_meta_t *m)
{
	size_t unpadded = 0, nlen, tlen;
	sd_rd_t r;

	if (len != SDX_META_BUCKET || sodium_unpad(&unpadded, buf, len, SDX_META_BUCKET) != 0)
		return sd_error(SD_ERR_FORMAT, "evidence metadata is not correctly padded");
	r = sd_rd_init(buf, unpadded);
	m->size = sd_rd_u64(&r);
	nlen = sd_rd_u8(&r);
	if (!sd_rd_copy(&r, m->name, nlen))
		return sd_error(SD_ERR_FORMAT, "evidence metadata is truncated");
	m->name[nlen] = '\0';
	tlen = sd_rd_u8(&r);
	if (tlen > SD_EVIDENCE_TYPE_MAX || !sd_rd_copy(&r, m->media_type, tlen))
		return sd_error(SD_ERR_FORMAT, "evidence metadata is truncated");
	m->media_type[tlen] = '\0';
	if (sd_rd_finish(&r, "evidence metadata") < 0)
		return SD_ERR_FORMAT;
	if (memchr(m->name, '\0', nlen) != NULL || !sdx_name_is_valid(m->name))
		return sd_error(SD_ERR_FORMAT, "evidence file name is not a safe file name");
	if (memchr(m->media_type, '\0', tlen) != NULL || !sdx_media_type_is_valid(m->media_type))
		return sd_error(SD_ERR_FORMAT, "evidence media type is malformed");
	return 0;
}

int sdx_evidence_layout(uint64_t size, uint32_t *n_chunks, uint64_t *ct_size)
{
	uint64_t full = size / SD_CHUNK_BYTES, rest = size % SD_CHUNK_BYTES;
	uint64_t last = sdx_bucket(rest + 1, SDX_FINAL_MIN_BUCKET);

	/* Bounding the size first keeps every quantity below far from overflowing. */
	if (size > SD_EVIDENCE_MAX_BYTES)
		return sd_error(SD_ERR_TOOBIG, "evidence of %llu bytes is more than one package can hold (%llu)",
		                (unsigned long long)size, (unsigned long long)SD_EVIDENCE_MAX_BYTES);
	*n_chunks = (uint32_t)(full + 2);
	*ct_size = SDX_EVIDENCE_FIRST_CHUNK + full * SDX_EVIDENCE_FULL_CHUNK + last + SDX_SS_TAG;
	return 0;
}

uint64_t sd_header_chunk_size(const sd_header_t *h, uint32_t blob, uint32_t chunk)
{
	const sd_blob_t *b = &h->blobs[blob];

	if (b->kind != SD_BLOB_EVIDENCE)
		return b->size;
	if (chunk == 0)
		return SDX_EVIDENCE_FIRST_CHUNK;
	if (chunk + 1 < b->n_chunks)
		return SDX_EVIDENCE_FULL_CHUNK;
	return b->size - SDX_EVIDENCE_FIRST_CHUNK - (uint64_t)(b->n_chunks - 2) * SDX_EVIDENCE_FULL_CHUNK;
}

int sd_header_check_chunk(const sd_header_t *h, uint32_t blob, uint32_t chunk, const uint8_t *ct, size_t len)
{
	uint8_t hash[SD_HASH_BYTES];
	const sd_blob_t *b;

	if (blob >= h->n_blobs || chunk >= h->blobs[blob].n_chunks)
		return sd_error(SD_ERR_FORMAT, "no chunk %u of blob %u in this package", chunk, blob);
	b = &h->blobs[blob];
	if (len != sd_header_chunk_size(h, blob, chunk))
		return sd_error(SD_ERR_VERIFY, "chunk %u of the %s blob (blob %u) has the wrong size", chunk,
		                blob_kind_names[b->kind], blob);
	crypto_generichash(hash, sizeof(hash), ct, len, NULL, 0);
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	if (sodium_memcmp(hash, b->chunk_hashes + (size_t)chunk * SD_HASH_BYTES, SD_HASH_BYTES) != 0)
		return sd_error(SD_ERR_VERIFY,
		                "chunk %u of the %s blob (blob %u) does not match the manifest: the package is "
		                "corrupted or has been tampered with",
		                chunk, blob_kind_names[b->kind], blob);
#endif
	return 0;
}

bool sdx_blob_shape_ok(const sd_blob_t *b)
{
	uint64_t fixed;

	switch (b->kind) {
	case SD_BLOB_REPORT:
		return b->n_chunks == 1 && b->size > SDX_AEAD_NONCE + SDX_AEAD_TAG &&
		       sdx_is_pow2_between(b->size - SDX_AEAD_NONCE - SDX_AEAD_TAG, SDX_REPORT_MIN_BUCKET,
		                           SDX_REPORT_MAX_BUCKET);
	case SD_BLOB_IDENTITY:
		return b->n_chunks == 1 && b->size == SDX_IDENTITY_BLOB_BYTES;
	case SD_BLOB_EVIDENCE:
		if (b->n_chunks < 2)
			return false;
		fixed = SDX_EVIDENCE_FIRST_CHUNK + (uint64_t)(b->n_chunks - 2) * SDX_EVIDENCE_FULL_CHUNK;
		return b->size > fixed + SDX_SS_TAG &&
		       sdx_is_pow2_between(b->size - fixed - SDX_SS_TAG, SDX_FINAL_MIN_BUCKET, SD_CHUNK_BYTES);
	}
	return false;
}

/* Checks that a manifest entry has exactly the shape its kind allows. */
static int check_blob_shape(const sd_blob_t *b, uint32_t index)
{
	if (sdx_blob_shape_ok(b))
		return 0;
	return sd_error(SD_ERR_FORMAT, "manifest entry %u (%s) has an impossible size or chunk count", index,
	                blob_kind_names[b->kind <= SD_BLOB_EVIDENCE ? b->kind : 0]);
}

static int parse_preamble(sd_rd_t *r, sd_header_t *h, uint32_t *header_len)
{
	const uint8_t *magic = sd_rd_take(r, SD_SDX_MAGIC_BYTES);
	uint32_t date;
	size_t dlen;

	if (magic == NULL || sodium_memcmp(magic, SDX_MAGIC, SD_SDX_MAGIC_BYTES) != 0)
		return sd_error(SD_ERR_FORMAT, "not a sealdrop package (bad magic)");
	h->version = sd_rd_u16(r);
	if (h->version != SD_SDX_VERSION)
		return sd_error(SD_ERR_VERSION, "package format version %u is not supported (this build reads %u)",
		                h->version, SD_SDX_VERSION);
	if (sd_rd_u16(r) != 0)
		return sd_error(SD_ERR_FORMAT, "package header has unknown flags set");
	*header_len = sd_rd_u32(r);
	dlen = sd_rd_u8(r);
	if (dlen == 0 || dlen > SD_DEPLOYMENT_MAX || !sd_rd_copy(r, h->deployment, dlen))
		return sd_error(SD_ERR_FORMAT, "package header: bad deployment name length");
	h->deployment[dlen] = '\0';
	if (memchr(h->deployment, '\0', dlen) != NULL || !sd_deployment_is_valid(h->deployment))
		return sd_error(SD_ERR_FORMAT, "package header: malformed deployment name");
	date = sd_rd_u32(r);
	h->directory_version = sd_rd_u32(r);
	sd_rd_copy(r, h->intake_id, SD_KEY_ID_BYTES);
	sd_rd_copy(r, h->identity_id, SD_KEY_ID_BYTES);
	sd_rd_copy(r, h->consent_pk, 32);
	sd_rd_copy(r, h->notice_pk, 32);
	sd_rd_copy(r, h->locator_hash, SD_HASH_BYTES);
	sd_rd_copy(r, h->sealed_dek, SD_SEALED_KEY_BYTES);
	sd_rd_copy(r, h->sealed_sc, SD_SEALED_KEY_BYTES);
	sd_rd_copy(r, h->wrapped_sw, SD_WRAPPED_SHARE_BYTES);
	h->n_blobs = sd_rd_u32(r);
	if (r->failed)
		return sd_error(SD_ERR_TRUNCATED, "package header is truncated");
	if (sd_date_from_u32(date, &h->created) < 0)
		return sd_error(SD_ERR_FORMAT, "package header: creation date %u is not a calendar date", date);
	if (h->n_blobs < 2 || h->n_blobs > 2 + SD_SDX_MAX_EVIDENCE)
		return sd_error(SD_ERR_FORMAT, "package header: %u blobs is out of range", h->n_blobs);
	return 0;
}

static int parse_manifest(sd_rd_t *r, sd_header_t *h)
{
	uint64_t offset = h->raw_len;
	int ret;

	h->blobs = calloc(h->n_blobs, sizeof(*h->blobs));
	if (h->blobs == NULL)
		return SD_ERR_NOMEM;
	for (uint32_t i = 0; i < h->n_blobs; i++) {
		sd_blob_t *b = &h->blobs[i];
		sd_blob_kind_t want = i == 0 ? SD_BLOB_REPORT : i == 1 ? SD_BLOB_IDENTITY : SD_BLOB_EVIDENCE;

		b->kind = sd_rd_u8(r);
		b->n_chunks = sd_rd_u32(r);
		b->size = sd_rd_u64(r);
		if (r->failed)
			return sd_error(SD_ERR_TRUNCATED, "package manifest is truncated");
		if (b->kind != want)
			return sd_error(SD_ERR_FORMAT, "manifest entry %u is of kind %u; expected %s", i, b->kind,
			                blob_kind_names[want]);
		if ((ret = check_blob_shape(b, i)) < 0)
			return ret;
		if ((uint64_t)b->n_chunks * SD_HASH_BYTES > sd_rd_left(r))
			return sd_error(SD_ERR_TRUNCATED, "package manifest is truncated");
		b->chunk_hashes = sd_rd_take(r, (size_t)b->n_chunks * SD_HASH_BYTES);
		b->offset = offset;
		if (b->size > UINT64_MAX / 2 - offset)
			return sd_error(SD_ERR_FORMAT, "package manifest sizes overflow");
		offset += b->size;
	}
	h->package_size = offset;
	return 0;
}

static void header_digests(sd_header_t *h, size_t preamble_len, size_t manifest_end)
{
	crypto_generichash(h->binding, SD_HASH_BYTES, h->raw, preamble_len, NULL, 0);
	crypto_generichash(h->digest, SD_HASH_BYTES, h->raw, manifest_end, NULL, 0);
}

/* The header's structure and digests, its signature not yet checked: shared by the two
 * public parsers below, which differ only in what vouches for the bytes. */
static int header_parse_unchecked(const uint8_t *buf, size_t len, sd_header_t **out)
{
	sd_header_t *h = NULL;
	sd_rd_t r;
	uint32_t header_len = 0;
	size_t preamble_len, manifest_end;
	int ret = SD_ERR_NOMEM;

	*out = NULL;
	if (len > SD_SDX_MAX_HEADER)
		return sd_error(SD_ERR_TOOBIG, "package header is larger than %u bytes", SD_SDX_MAX_HEADER);
	if ((h = calloc(1, sizeof(*h))) == NULL || (h->raw = malloc(len ? len : 1)) == NULL)
		goto out;
	memcpy(h->raw, buf, len);
	h->raw_len = len;
	r = sd_rd_init(h->raw, len);
	if ((ret = parse_preamble(&r, h, &header_len)) < 0)
		goto out;
	if (header_len != len) {
		ret = sd_error(header_len > len ? SD_ERR_TRUNCATED : SD_ERR_FORMAT,
		               "package header says it is %u bytes long, but %zu were given", header_len, len);
		goto out;
	}
	preamble_len = r.off;
	if ((ret = parse_manifest(&r, h)) < 0)
		goto out;
	manifest_end = r.off;
	sd_rd_copy(&r, h->signature, SDX_SIG_BYTES);
	if ((ret = sd_rd_finish(&r, "package header")) < 0)
		goto out;
	header_digests(h, preamble_len, manifest_end);
	*out = h;
	h = NULL;
	ret = 0;
out:
	sd_header_free(h);
	return ret;
}

int sd_header_parse(const uint8_t *buf, size_t len, sd_header_t **out)
{
	sd_header_t *h;
	int ret;

	*out = NULL;
	if ((ret = header_parse_unchecked(buf, len, &h)) < 0)
		return ret;
	if (sd_sign_verify(SD_PURPOSE_HEADER, h->consent_pk, h->digest, SD_HASH_BYTES, h->signature) != 0) {
		sd_header_free(h);
		return sd_error(SD_ERR_VERIFY, "package header signature does not verify: the package is "
		                               "corrupted or has been tampered with");
	}
	*out = h;
	return 0;
}

int sd_header_parse_known(const uint8_t *buf, size_t len, const uint8_t digest[SD_HASH_BYTES], sd_header_t **out)
{
	sd_header_t *h;
	int ret;

	*out = NULL;
	if ((ret = header_parse_unchecked(buf, len, &h)) < 0)
		return ret;
	if (!sd_equal(h->digest, digest, SD_HASH_BYTES)) {
		sd_header_free(h);
		return sd_error(SD_ERR_VERIFY, "package header is not the one whose signature was verified");
	}
	*out = h;
	return 0;
}

int sd_header_read(int fd, sd_header_t **out)
{
	uint8_t prefix[SD_SDX_PREFIX_BYTES], *buf = NULL;
	size_t got = 0;
	uint32_t header_len;
	int ret;

	*out = NULL;
	if ((ret = sd_read_full(fd, prefix, sizeof(prefix), &got)) < 0)
		return ret;
	if (got >= SD_SDX_MAGIC_BYTES && sodium_memcmp(prefix, SDX_MAGIC, SD_SDX_MAGIC_BYTES) != 0)
		return sd_error(SD_ERR_FORMAT, "not a sealdrop package (bad magic)");
	if (got < sizeof(prefix))
		return sd_error(SD_ERR_TRUNCATED, "package is truncated: only %zu bytes", got);
	header_len = sd_load_le32(prefix + 12);
	if (header_len > SD_SDX_MAX_HEADER)
		return sd_error(SD_ERR_TOOBIG, "package header claims %u bytes, more than the %u allowed", header_len,
		                SD_SDX_MAX_HEADER);
	if (header_len < sizeof(prefix))
		return sd_error(SD_ERR_FORMAT, "package header claims an impossible length %u", header_len);
	if ((buf = malloc(header_len)) == NULL)
		return SD_ERR_NOMEM;
	memcpy(buf, prefix, sizeof(prefix));
	ret = sd_read_full(fd, buf + sizeof(prefix), header_len - sizeof(prefix), &got);
	if (ret == 0 && got != header_len - sizeof(prefix))
		ret = sd_error(SD_ERR_TRUNCATED, "package is truncated inside its header");
	if (ret == 0)
		ret = sd_header_parse(buf, header_len, out);
	free(buf);
	return ret;
}

int sd_header_check_deployment(const sd_header_t *h, const sd_directory_t *d)
{
	if (strcmp(h->deployment, d->deployment) != 0)
		return sd_error(SD_ERR_DEPLOYMENT, "the package was sealed for deployment '%s', not '%s'",
		                h->deployment, d->deployment);
	return 0;
}

void sd_header_free_(sd_header_t *h)
{
	if (h == NULL)
		return;
	free(h->blobs);
	free(h->raw);
	free(h);
}

/* --- the verified chunk reader ------------------------------------------------ */

int sdx_reader_open(sdx_reader_t *r, const char *path, sd_header_t **hdr)
{
	struct stat st;
	int ret;

	memset(r, 0, sizeof(*r));
	*hdr = NULL;
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0) {
		int e = errno;
		return sd_error(e == ENOENT ? SD_ERR_NOENT : SD_ERR_IO, "%s: %s", path, strerror(e));
	}
	if (fstat(r->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		ret = sd_error(SD_ERR_IO, "%s: not a regular file", path);
		goto fail;
	}
	if ((ret = sd_header_read(r->fd, hdr)) < 0)
		goto fail;
	if ((uint64_t)st.st_size != (*hdr)->package_size) {
		ret = sd_error((uint64_t)st.st_size < (*hdr)->package_size ? SD_ERR_TRUNCATED : SD_ERR_FORMAT,
		               "%s is %llu bytes but its manifest describes %llu: the package is %s", path,
		               (unsigned long long)st.st_size, (unsigned long long)(*hdr)->package_size,
		               (uint64_t)st.st_size < (*hdr)->package_size ? "truncated" : "followed by extra data");
		goto fail;
	}
	r->h = *hdr;
	r->cap = SDX_MAX_CHUNK;
	if ((r->buf = malloc(r->cap)) == NULL) {
		ret = SD_ERR_NOMEM;
		goto fail;
	}
	return 0;
fail:
	sd_header_free(*hdr);
	close(r->fd);
	r->fd = -1;
	return ret;
}

int sdx_reader_next(sdx_reader_t *r, uint32_t blob, uint32_t chunk, const uint8_t **ct, size_t *len)
{
	uint64_t want = sd_header_chunk_size(r->h, blob, chunk);
	size_t got = 0;
	int ret;

	if (sd_is_cancelled())
		return sd_error(SD_ERR_CANCELLED, "interrupted");
	if (want > r->cap)
		return sd_error(SD_ERR_INTERNAL, "chunk larger than the reader's buffer");
	if ((ret = sd_read_full(r->fd, r->buf, (size_t)want, &got)) < 0)
		return ret;
	if (got != want)
		return sd_error(SD_ERR_TRUNCATED, "package is truncated in blob %u", blob);
	if ((ret = sd_header_check_chunk(r->h, blob, chunk, r->buf, (size_t)want)) < 0)
		return ret;
	r->done += want;
	if (r->progress)
		r->progress(r->progress_ctx, r->done, r->h->package_size - r->h->raw_len);
	*ct = r->buf;
	*len = (size_t)want;
	return 0;
}

void sdx_reader_close(sdx_reader_t *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	free(r->buf);
	r->buf = NULL;
}
