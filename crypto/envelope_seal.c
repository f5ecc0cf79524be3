/*
 * envelope_seal.c — writes a sealed package, streaming.
 *
 * The layout is fixed before a byte of evidence is read: evidence sizes come from
 * fstat(2), so the header's length is known and the blobs are written after a hole the
 * header will fill. Each chunk is encrypted, hashed into its manifest slot and written;
 * when the last one is out, the header is completed, signed with the whistleblower's
 * consent key and written at offset 0, and the file is committed under its final name.
 * Memory is fixed whatever the evidence size: one plaintext chunk, the pipeline's ring of
 * ciphertext chunks and the writer's buffer (which lets it use O_DIRECT, envelope_pipe.c).
 *
 * Start reading at sd_envelope_seal().
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "envelope_int.h"
#include "sealdrop/bytes.h"
#include "sealdrop/fileio.h"
#include "sealdrop/record.h"
#include "sealdrop/sign.h"

typedef struct {
	int fd;
	uint64_t size;
	sdx_meta_t meta;
} evidence_in_t;

/* Secrets of one sealing, in one sodium_malloc'd block. */
typedef struct {
	uint8_t dek[SDX_KEY_BYTES];
	uint8_t s_c[32];
	uint8_t s_w[32];
	uint8_t key[SDX_KEY_BYTES]; /* the blob key in use */
	crypto_secretstream_xchacha20poly1305_state ss;
} seal_secrets_t;

typedef struct {
	const sd_seal_params_t *p;
	sd_afile_t *out;
	evidence_in_t *ev;
	seal_secrets_t *sec;
	uint8_t *hdr; /* the whole header, preamble through signature */
	size_t hdr_len;
	size_t preamble_len;
	size_t manifest_end;
	uint8_t **slots; /* per blob: where its chunk hashes go inside hdr */
	uint8_t binding[SD_HASH_BYTES];
	uint8_t *pt;      /* one plaintext chunk (sodium_malloc) */
	sdx_pipe_t *pipe; /* ciphertext chunks go to the writer thread */
	sdx_cwriter_t w;  /* the writer thread's state; it owns the file offset */
	uint64_t done, total;
} sealer_t;

static const struct {
	const char *ext;
	const char *type;
} media_types[] = {
        {"txt", "text/plain"},
        {"csv", "text/csv"},
        {"pdf", "application/pdf"},
        {"json", "application/json"},
        {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},
        {"png", "image/png"},
        {"gif", "image/gif"},
        {"heic", "image/heic"},
        {"mp3", "audio/mpeg"},
        {"m4a", "audio/mp4"},
        {"wav", "audio/wav"},
        {"mp4", "video/mp4"},
        {"mov", "video/quicktime"},
        {"zip", "application/zip"},
        {"eml", "message/rfc822"},
        {"hwp", "application/x-hwp"},
        {"hwpx", "application/hwp+zip"},
        {"doc", "application/msword"},
        {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
        {"xls", "application/vnd.ms-excel"},
        {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
        {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
};

static const char *guess_media_type(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (dot != NULL)
		for (size_t i = 0; i < sizeof(media_types) / sizeof(media_types[0]); i++)
			if (strcasecmp(dot + 1, media_types[i].ext) == 0)
				return media_types[i].type;
	return "application/octet-stream";
}

static int copy_text(char *dst, size_t cap, const char *src, const char *what, const char *path)
{
	size_t n = strlen(src);

	if (n >= cap)
		return sd_error(SD_ERR_USAGE, "%s: %s is longer than %zu bytes", path, what, cap - 1);
	memcpy(dst, src, n + 1);
	return 0;
}

/* Opens one evidence file and fixes its name, type and size. */
static int evidence_open(const sd_evidence_src_t *src, evidence_in_t *ev)
{
	struct stat st;
	char *copy;
	int ret;

	ev->fd = open(src->path, O_RDONLY | O_CLOEXEC);
	if (ev->fd < 0) {
		int e = errno;
		return sd_error(e == ENOENT ? SD_ERR_NOENT : SD_ERR_IO, "evidence %s: %s", src->path, strerror(e));
	}
	if (fstat(ev->fd, &st) != 0 || !S_ISREG(st.st_mode))
		return sd_error(SD_ERR_USAGE, "evidence %s: not a regular file", src->path);
	ev->size = ev->meta.size = (uint64_t)st.st_size;
	if (ev->size > SD_EVIDENCE_MAX_BYTES)
		return sd_error(SD_ERR_TOOBIG, "evidence %s is larger than one package can hold (%llu GiB)", src->path,
		                (unsigned long long)(SD_EVIDENCE_MAX_BYTES >> 30));
	if ((copy = strdup(src->path)) == NULL)
		return SD_ERR_NOMEM;
	ret = copy_text(ev->meta.name, sizeof(ev->meta.name), src->name ? src->name : basename(copy), "file name",
	                src->path);
	free(copy);
	if (ret == 0)
		ret = copy_text(ev->meta.media_type, sizeof(ev->meta.media_type),
		                src->media_type ? src->media_type : guess_media_type(ev->meta.name), "media type",
		                src->path);
	if (ret < 0)
		return ret;
	if (!sdx_name_is_valid(ev->meta.name))
		return sd_error(SD_ERR_USAGE, "evidence %s: '%s' cannot be used as a file name", src->path,
		                ev->meta.name);
	if (!sdx_media_type_is_valid(ev->meta.media_type))
		return sd_error(SD_ERR_USAGE, "evidence %s: malformed media type", src->path);
	return 0;
}

static int evidence_open_all(sealer_t *s)
{
	const sd_seal_params_t *p = s->p;
	int ret;

	for (size_t i = 0; i < p->n_evidence; i++)
		s->ev[i].fd = -1;
	for (size_t i = 0; i < p->n_evidence; i++) {
		if ((ret = evidence_open(&p->evidence[i], &s->ev[i])) < 0)
			return ret;
		for (size_t j = 0; j < i; j++)
			if (strcmp(s->ev[j].meta.name, s->ev[i].meta.name) == 0)
				return sd_error(SD_ERR_USAGE, "two evidence files are named '%s'; rename one",
				                s->ev[i].meta.name);
	}
	return 0;
}

static uint64_t report_blob_size(size_t report_len)
{
	return SDX_AEAD_NONCE + sdx_bucket(report_len + 1, SDX_REPORT_MIN_BUCKET) + SDX_AEAD_TAG;
}

/* Writes the preamble: everything the whistleblower commits to before any blob. */
static int write_preamble(sealer_t *s, sd_wr_t *w)
{
	const sd_seal_params_t *p = s->p;
	const sd_directory_t *d = p->dir;
	uint8_t locator_hash[SD_HASH_BYTES], sealed[SD_SEALED_KEY_BYTES], nonce[SDX_AEAD_NONCE];
	uint8_t wrapped[32 + SDX_AEAD_TAG];
	size_t dlen = strlen(d->deployment);

	sd_wr_bytes(w, SDX_MAGIC, SD_SDX_MAGIC_BYTES);
	sd_wr_u16(w, SD_SDX_VERSION);
	sd_wr_u16(w, 0);
	sd_wr_u32(w, (uint32_t)s->hdr_len);
	sd_wr_u8(w, (uint8_t)dlen);
	sd_wr_bytes(w, d->deployment, dlen);
	sd_wr_u32(w, sd_date_to_u32(p->created));
	sd_wr_u32(w, d->version);
	sd_wr_bytes(w, d->intake.id, SD_KEY_ID_BYTES);
	sd_wr_bytes(w, d->identity.id, SD_KEY_ID_BYTES);
	sd_wr_bytes(w, p->wb->consent_pk, 32);
	sd_wr_bytes(w, p->wb->notice_pk, 32);
	crypto_generichash(locator_hash, sizeof(locator_hash), p->wb->locator, sizeof(p->wb->locator), NULL, 0);
	sd_wr_bytes(w, locator_hash, sizeof(locator_hash));
	if (crypto_box_seal(sealed, s->sec->dek, SDX_KEY_BYTES, d->intake.pk) != 0)
		return sd_error(SD_ERR_INTERNAL, "sealing the content key failed");
	sd_wr_bytes(w, sealed, sizeof(sealed));
	if (crypto_box_seal(sealed, s->sec->s_c, 32, d->identity.pk) != 0)
		return sd_error(SD_ERR_INTERNAL, "sealing the Commission share failed");
	sd_wr_bytes(w, sealed, sizeof(sealed));
	/* s_w is bound to everything the preamble says before it. */
	randombytes_buf(nonce, sizeof(nonce));
	if (w->failed)
		return sd_error(SD_ERR_INTERNAL, "package header buffer too small");
	crypto_aead_xchacha20poly1305_ietf_encrypt(wrapped, NULL, s->sec->s_w, 32, w->p, w->len, NULL, nonce,
	                                           p->wb->share_wrap);
	sd_wr_bytes(w, nonce, sizeof(nonce));
	sd_wr_bytes(w, wrapped, sizeof(wrapped));
	sd_wr_u32(w, (uint32_t)(2 + p->n_evidence));
	return w->failed ? sd_error(SD_ERR_INTERNAL, "package header buffer too small") : 0;
}

/* Manifest entries with zeroed hash slots, filled as the chunks are written. */
static void write_manifest(sealer_t *s, sd_wr_t *w, const uint32_t *chunks, const uint64_t *sizes, uint32_t n)
{
	static const uint8_t zero[SD_HASH_BYTES];

	for (uint32_t i = 0; i < n; i++) {
		sd_wr_u8(w, (uint8_t)(i == 0 ? SD_BLOB_REPORT : i == 1 ? SD_BLOB_IDENTITY : SD_BLOB_EVIDENCE));
		sd_wr_u32(w, chunks[i]);
		sd_wr_u64(w, sizes[i]);
		s->slots[i] = w->p + w->len;
		for (uint32_t c = 0; c < chunks[i]; c++)
			sd_wr_bytes(w, zero, sizeof(zero));
	}
}

/* Works out every blob's size, allocates the header and writes preamble and manifest. */
static int build_header(sealer_t *s)
{
	const sd_seal_params_t *p = s->p;
	uint32_t n = (uint32_t)(2 + p->n_evidence), *chunks = calloc(n, sizeof(*chunks));
	uint64_t *sizes = calloc(n, sizeof(*sizes)), len;
	sd_wr_t w;
	int ret = SD_ERR_NOMEM;

	s->slots = calloc(n, sizeof(*s->slots));
	if (chunks == NULL || sizes == NULL || s->slots == NULL)
		goto out;
	chunks[0] = chunks[1] = 1;
	sizes[0] = report_blob_size(p->report_len);
	sizes[1] = SDX_IDENTITY_BLOB_BYTES;
	for (uint32_t i = 2; i < n; i++)
		if ((ret = sdx_evidence_layout(s->ev[i - 2].size, &chunks[i], &sizes[i])) < 0)
			goto out;
	len = SD_SDX_PREFIX_BYTES + 1 + strlen(p->dir->deployment) + 4 + 4 + 2 * SD_KEY_ID_BYTES + 32 + 32 +
	      SD_HASH_BYTES + 2 * SD_SEALED_KEY_BYTES + SD_WRAPPED_SHARE_BYTES + 4 + SDX_SIG_BYTES;
	for (uint32_t i = 0; i < n; i++) {
		len += SDX_MANIFEST_ENTRY_BYTES + (uint64_t)chunks[i] * SD_HASH_BYTES;
		s->total += sizes[i];
	}
	if (len > SD_SDX_MAX_HEADER) {
		ret = sd_error(SD_ERR_TOOBIG, "the evidence is too large for one package (header of %llu bytes)",
		               (unsigned long long)len);
		goto out;
	}
	s->hdr_len = (size_t)len;
	if ((s->hdr = calloc(1, s->hdr_len)) == NULL)
		goto out;
	w = sd_wr_init(s->hdr, s->hdr_len);
	if ((ret = write_preamble(s, &w)) < 0)
		goto out;
	s->preamble_len = w.len;
	crypto_generichash(s->binding, SD_HASH_BYTES, s->hdr, s->preamble_len, NULL, 0);
	write_manifest(s, &w, chunks, sizes, n);
	s->manifest_end = w.len;
	ret = w.failed || w.len + SDX_SIG_BYTES != s->hdr_len ? sd_error(SD_ERR_INTERNAL, "header size mismatch") : 0;
out:
	free(chunks);
	free(sizes);
	return ret;
}

/* Passes an encrypted chunk on: the hash stage puts its BLAKE2b-256 in the manifest,
 * the write stage writes it. */
static int emit_chunk(sealer_t *s, sdx_slot_t *slot, uint32_t blob, uint32_t chunk, size_t len)
{
	int ret;

	slot->len = len;
	slot->hash = s->slots[blob] + (size_t)chunk * SD_HASH_BYTES;
	if ((ret = sdx_pipe_give(s->pipe)) < 0)
		return ret;
	s->done += len;
	if (s->p->progress)
		s->p->progress(s->p->progress_ctx, s->done, s->total);
	return 0;
}

/* A one-chunk record blob: nonce || XChaCha20-Poly1305(padded text). */
static int seal_record(sealer_t *s, uint32_t blob, const char *text, size_t len, size_t bucket,
                       const uint8_t key[SDX_KEY_BYTES])
{
	uint8_t ad[SDX_BLOB_AD_BYTES];
	sdx_slot_t *slot;
	size_t padded = 0;
	int ret;

	if (len + 1 > bucket)
		return sd_error(SD_ERR_TOOBIG, "record of %zu bytes does not fit its %zu-byte bucket", len, bucket);
	memcpy(s->pt, text, len);
	if (sodium_pad(&padded, s->pt, len, bucket, bucket) != 0 || padded != bucket)
		return sd_error(SD_ERR_INTERNAL, "padding failed");
	sdx_blob_ad(s->binding, blob == 0 ? SD_BLOB_REPORT : SD_BLOB_IDENTITY, blob, ad);
	if ((ret = sdx_pipe_take(s->pipe, &slot)) < 0)
		return ret;
	randombytes_buf(slot->buf, SDX_AEAD_NONCE);
	crypto_aead_xchacha20poly1305_ietf_encrypt(slot->buf + SDX_AEAD_NONCE, NULL, s->pt, bucket, ad, sizeof(ad),
	                                           NULL, slot->buf, key);
	sodium_memzero(s->pt, bucket);
	return emit_chunk(s, slot, blob, 0, SDX_AEAD_NONCE + bucket + SDX_AEAD_TAG);
}

static int push_chunk(sealer_t *s, uint32_t blob, uint32_t chunk, size_t pt_len, unsigned char tag, const uint8_t *ad)
{
	unsigned long long ct_len = 0;
	sdx_slot_t *slot;
	int ret;

	if ((ret = sdx_pipe_take(s->pipe, &slot)) < 0)
		return ret;
	crypto_secretstream_xchacha20poly1305_push(&s->sec->ss, slot->buf, &ct_len, s->pt, pt_len, ad,
	                                           SDX_BLOB_AD_BYTES, tag);
	return emit_chunk(s, slot, blob, chunk, (size_t)ct_len);
}

static int read_exact(sealer_t *s, evidence_in_t *ev, size_t len)
{
	size_t got = 0;
	int ret = sd_read_full(ev->fd, s->pt, len, &got);

	if (ret < 0)
		return sd_error(ret, "evidence %s: %s", ev->meta.name, sd_error_detail());
	if (got != len)
		return sd_error(SD_ERR_IO, "evidence %s shrank while it was being sealed", ev->meta.name);
	return 0;
}

/* Evidence: chunk 0 is the stream header and the padded metadata; then full 1 MiB
 * chunks; the last chunk is the remainder padded to a power-of-two bucket, tagged FINAL. */
static int seal_evidence(sealer_t *s, uint32_t blob, evidence_in_t *ev)
{
	uint8_t ad[SDX_BLOB_AD_BYTES], probe;
	sdx_slot_t *slot;
	uint64_t full = ev->size / SD_CHUNK_BYTES;
	size_t rest = (size_t)(ev->size % SD_CHUNK_BYTES), padded = 0, got = 0;
	unsigned long long ct_len = 0;
	uint32_t chunk = 1;
	int ret;

	sdx_blob_ad(s->binding, SD_BLOB_EVIDENCE, blob, ad);
	sdx_blob_key(s->sec->dek, blob, s->sec->key);
	if ((ret = sdx_meta_encode(&ev->meta, s->pt)) < 0 || (ret = sdx_pipe_take(s->pipe, &slot)) < 0)
		return ret;
	crypto_secretstream_xchacha20poly1305_init_push(&s->sec->ss, slot->buf, s->sec->key);
	crypto_secretstream_xchacha20poly1305_push(&s->sec->ss, slot->buf + SDX_SS_HEADER, &ct_len, s->pt,
	                                           SDX_META_BUCKET, ad, sizeof(ad), 0);
	if ((ret = emit_chunk(s, slot, blob, 0, SDX_SS_HEADER + (size_t)ct_len)) < 0)
		return ret;
	for (uint64_t i = 0; i < full; i++, chunk++)
		if ((ret = read_exact(s, ev, SD_CHUNK_BYTES)) < 0 ||
		    (ret = push_chunk(s, blob, chunk, SD_CHUNK_BYTES, 0, ad)) < 0)
			return ret;
	if ((ret = read_exact(s, ev, rest)) < 0)
		return ret;
	if (sd_read_full(ev->fd, &probe, 1, &got) < 0 || got != 0)
		return sd_error(SD_ERR_IO, "evidence %s grew while it was being sealed", ev->meta.name);
	size_t bucket = (size_t)sdx_bucket(rest + 1, SDX_FINAL_MIN_BUCKET);
	if (sodium_pad(&padded, s->pt, rest, bucket, bucket) != 0 || padded != bucket)
		return sd_error(SD_ERR_INTERNAL, "padding failed");
	return push_chunk(s, blob, chunk, bucket, crypto_secretstream_xchacha20poly1305_TAG_FINAL, ad);
}

static int seal_blobs(sealer_t *s)
{
	const sd_seal_params_t *p = s->p;
	size_t report_bucket = (size_t)sdx_bucket(p->report_len + 1, SDX_REPORT_MIN_BUCKET);
	int ret;

	sdx_blob_key(s->sec->dek, 0, s->sec->key);
	if ((ret = seal_record(s, 0, p->report, p->report_len, report_bucket, s->sec->key)) < 0)
		return ret;
	sdx_identity_key(s->sec->s_c, s->sec->s_w, s->sec->key);
	if ((ret = seal_record(s, 1, p->identity, p->identity_len, SDX_IDENTITY_BUCKET, s->sec->key)) < 0)
		return ret;
	for (size_t i = 0; i < p->n_evidence; i++)
		if ((ret = seal_evidence(s, (uint32_t)(2 + i), &s->ev[i])) < 0)
			return ret;
	/* Every chunk hash must be in the manifest before the header is signed, and every
	 * ciphertext byte out (and O_DIRECT off) before the header is written. */
	if ((ret = sdx_pipe_drain(s->pipe)) < 0)
		return ret;
	return sdx_cwriter_finish(&s->w);
}

static int finish_header(sealer_t *s)
{
	uint8_t digest[SD_HASH_BYTES];
	int ret;

	crypto_generichash(digest, sizeof(digest), s->hdr, s->manifest_end, NULL, 0);
	if ((ret = sd_sign(SD_PURPOSE_HEADER, s->p->wb->consent_sk, digest, sizeof(digest), s->hdr + s->manifest_end)) <
	    0)
		return ret;
	return sd_afile_pwrite(s->out, s->hdr, s->hdr_len, 0);
}

static int check_params(const sd_seal_params_t *p)
{
	if (p->dir == NULL || p->wb == NULL || p->report == NULL || p->identity == NULL)
		return sd_error(SD_ERR_USAGE, "seal: directory, codename keys, report and identity are required");
	if (p->report_len > SD_REPORT_MAX_BYTES)
		return sd_error(SD_ERR_TOOBIG, "the report is larger than %u bytes", SD_REPORT_MAX_BYTES);
	if (p->identity_len > SD_IDENTITY_MAX_BYTES)
		return sd_error(SD_ERR_TOOBIG, "the identity record is larger than %u bytes", SD_IDENTITY_MAX_BYTES);
	if (p->n_evidence > SD_SDX_MAX_EVIDENCE)
		return sd_error(SD_ERR_TOOBIG, "at most %d evidence files fit in one package", SD_SDX_MAX_EVIDENCE);
	if (!sd_deployment_is_valid(p->dir->deployment))
		return sd_error(SD_ERR_USAGE, "the directory's deployment name is malformed");
	return 0;
}

static void sealer_free(sealer_t *s)
{
	sdx_pipe_free(s->pipe); /* joins the writer before its fd, buffer or manifest slots go away */
	sdx_cwriter_free(&s->w);
	for (size_t i = 0; s->ev && i < s->p->n_evidence; i++)
		if (s->ev[i].fd >= 0)
			close(s->ev[i].fd);
	free(s->ev);
	sodium_free(s->sec);
	sodium_free(s->pt);
	free(s->hdr);
	free(s->slots);
	sd_afile_abort(s->out);
}

int sd_envelope_seal(const sd_seal_params_t *p, const char *out_path)
{
	sealer_t s = {.p = p};
	int ret;

	if ((ret = check_params(p)) < 0)
		return ret;
	ret = SD_ERR_NOMEM;
	s.ev = calloc(p->n_evidence ? p->n_evidence : 1, sizeof(*s.ev));
	s.sec = sodium_malloc(sizeof(*s.sec));
	s.pt = sodium_malloc(SD_CHUNK_BYTES);
	if (s.ev == NULL || s.sec == NULL || s.pt == NULL)
		goto out;
	if ((ret = evidence_open_all(&s)) < 0)
		goto out;
	randombytes_buf(s.sec->dek, sizeof(s.sec->dek));
	randombytes_buf(s.sec->s_c, sizeof(s.sec->s_c));
	randombytes_buf(s.sec->s_w, sizeof(s.sec->s_w));
	if ((ret = build_header(&s)) < 0)
		goto out;
	/* Blobs go after a hole the header fills at the end. */
	if ((ret = sd_afile_open(&s.out, out_path, 0600)) < 0 ||
	    (ret = sdx_cwriter_init(&s.w, sd_afile_fd(s.out), s.hdr_len)) < 0)
		goto out;
	static const sdx_stage_fn stages[] = {NULL, sdx_stage_hash, sdx_stage_write_ciphertext};
	if ((ret = sdx_pipe_new(&s.pipe, stages, 3, &s.w, SDX_SS_HEADER + SDX_EVIDENCE_FULL_CHUNK, false)) < 0 ||
	    (ret = seal_blobs(&s)) < 0 || (ret = finish_header(&s)) < 0)
		goto out;
	ret = sd_afile_commit(s.out, SD_AFILE_NOCLOBBER);
	s.out = NULL;
out:
	sealer_free(&s);
	return ret;
}
