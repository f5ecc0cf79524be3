/*
 * envelope_open.c — verifies a package without keys (inspect), and verifies and
 * decrypts it with the intake key (open).
 *
 * Every chunk is checked against the signed manifest before it is decrypted. Output is
 * built in a private temporary directory next to the destination and renamed into place
 * only when the whole package has verified, so a tampered or truncated package leaves
 * nothing behind, even when the damage is in its last byte. The identity blob is
 * verified like every other but never decrypted here: that takes the whistleblower's
 * consent (DESIGN.md, Consent-gated identity release).
 *
 * Start reading at sd_envelope_open().
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "envelope_int.h"
#include "sealdrop/fileio.h"
#include "sealdrop/sealdrop.h"

int sd_envelope_verify(const char *path, sd_progress_fn progress, void *ctx, sd_header_t **hdr_out)
{
	sdx_reader_t r;
	sd_header_t *h = NULL;
	const uint8_t *ct;
	size_t len;
	int ret;

	if (hdr_out)
		*hdr_out = NULL;
	if ((ret = sdx_reader_open(&r, path, &h)) < 0)
		return ret;
	r.progress = progress;
	r.progress_ctx = ctx;
	for (uint32_t b = 0; b < h->n_blobs && ret == 0; b++)
		for (uint32_t c = 0; c < h->blobs[b].n_chunks && ret == 0; c++)
			ret = sdx_reader_next(&r, b, c, &ct, &len);
	sdx_reader_close(&r);
	if (ret == 0 && hdr_out) {
		*hdr_out = h;
		h = NULL;
	}
	sd_header_free(h);
	return ret;
}

/* --- opening ------------------------------------------------------------------ */

typedef struct {
	uint8_t dek[SDX_KEY_BYTES];
	uint8_t key[SDX_KEY_BYTES];
	crypto_secretstream_xchacha20poly1305_state ss;
} open_secrets_t;

/* Opening runs as a pipeline: a thread reads and verifies chunks (read_stage), the
 * caller decrypts them (open_*), a thread writes the plaintext out. */
typedef struct {
	int fd; /* borrowed: positioned at the first chunk */
	const sd_header_t *h;
	open_secrets_t *sec;
	sdx_pipe_t *pipe;
	uint32_t next_blob, next_chunk; /* read_stage's position */
	char *tmp;                      /* the private staging directory */
	int tmp_fd;                     /* an open handle on it */
	int ev_fd;                      /* its evidence/ subdirectory */
	int cur_fd;                     /* the evidence file being written, until its last slot is handed on */
	uint64_t done;
	sd_progress_fn progress;
	void *progress_ctx;
} opener_t;

/* Removes the staging directory and what it holds (only what open created: flat files
 * in it and in evidence/). */
static void remove_tree(int dirfd, const char *path)
{
	DIR *d;
	struct dirent *e;
	int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (unlinkat(fd, e->d_name, 0) != 0 && (errno == EISDIR || errno == EPERM))
			remove_tree(fd, e->d_name);
	}
	closedir(d);
	unlinkat(dirfd, path, AT_REMOVEDIR);
}

static bool dir_is_absent_or_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	bool empty = true;

	if (d == NULL)
		return errno == ENOENT;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			empty = false;
	closedir(d);
	return empty;
}

/* A staging directory of an earlier open of the same output, killed before it could
 * clean up (SIGKILL, a power cut), still holds plaintext: remove it. Only names open
 * itself makes match: ".<base>.tmp-" and six mkdtemp characters. */
static void sweep_stale_staging(const char *out_dir)
{
	char *a = strdup(out_dir), *b = strdup(out_dir), prefix[PATH_MAX];
	size_t plen;
	struct dirent *e;
	DIR *d;
	int fd = -1;

	if (a != NULL && b != NULL) {
		snprintf(prefix, sizeof(prefix), ".%s.tmp-", basename(a));
		fd = open(dirname(b), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	free(a);
	free(b);
	if (fd < 0)
		return;
	plen = strlen(prefix);
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL)
		if (e->d_type == DT_DIR && strncmp(e->d_name, prefix, plen) == 0 && strlen(e->d_name) == plen + 6)
			remove_tree(fd, e->d_name);
	closedir(d);
}

static int make_staging(opener_t *o, const char *out_dir)
{
	char *copy = strdup(out_dir), *base;
	size_t n;

	if (copy == NULL)
		return SD_ERR_NOMEM;
	base = basename(copy);
	n = strlen(out_dir) + 32;
	if ((o->tmp = malloc(n)) == NULL) {
		free(copy);
		return SD_ERR_NOMEM;
	}
	snprintf(o->tmp, n, "%.*s.%s.tmp-XXXXXX", (int)(strlen(out_dir) - strlen(base)), out_dir, base);
	free(copy);
	if (mkdtemp(o->tmp) == NULL) {
		int e = errno;
		free(o->tmp);
		o->tmp = NULL;
		return sd_error(e == ENOENT ? SD_ERR_NOENT : SD_ERR_IO, "cannot create %s: %s", out_dir, strerror(e));
	}
	o->tmp_fd = open(o->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (o->tmp_fd < 0 || mkdirat(o->tmp_fd, "evidence", 0700) != 0 ||
	    (o->ev_fd = openat(o->tmp_fd, "evidence", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return sd_error(SD_ERR_IO, "%s: %s", o->tmp, strerror(errno));
	return 0;
}

static int write_file_at(int dirfd, const char *name, const uint8_t *buf, size_t len)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	int ret;

	if (fd < 0)
		return sd_error(errno == EEXIST ? SD_ERR_FORMAT : SD_ERR_IO, "cannot create %s: %s", name,
		                errno == EEXIST ? "two evidence files have this name" : strerror(errno));
	ret = sd_write_full(fd, buf, len);
	if (ret == 0 && fsync(fd) != 0)
		ret = sd_error(SD_ERR_IO, "fsync %s: %s", name, strerror(errno));
	close(fd);
	return ret;
}

int sdx_unwrap_dek(const sd_header_t *h, const sd_seckey_t *intake, uint8_t dek[SDX_KEY_BYTES])
{
	char want[SD_KEY_ID_HEX_BYTES], have[SD_KEY_ID_HEX_BYTES];

	if (intake->kind != SD_KEY_INTAKE)
		return sd_error(SD_ERR_USAGE, "opening a package takes an intake key, not a %s key",
		                sd_key_kind_name(intake->kind));
	if (sodium_memcmp(h->intake_id, intake->id, SD_KEY_ID_BYTES) != 0) {
		sd_key_id_hex(h->intake_id, want);
		sd_key_id_hex(intake->id, have);
		return sd_error(SD_ERR_WRONG_KEY,
		                "the package was sealed to intake key %s (deployment '%s'); this key is %s", want,
		                h->deployment, have);
	}
	if (crypto_box_seal_open(dek, h->sealed_dek, SD_SEALED_KEY_BYTES, intake->pk, intake->sk) != 0)
		return sd_error(SD_ERR_VERIFY, "the content key does not open with this intake key");
	return 0;
}

/* Source stage (own thread): the next chunk in package order, read and checked
 * against the manifest before anyone decrypts it. */
static int read_stage(void *ctx, sdx_slot_t *slot)
{
	opener_t *o = ctx;
	uint32_t b = o->next_blob, c = o->next_chunk;
	uint64_t want;
	size_t got = 0;
	int ret;

	while (b < o->h->n_blobs && o->h->blobs[b].n_chunks == 0) /* a bundle's withheld identity */
		o->next_blob = ++b;
	if (b >= o->h->n_blobs)
		return 1;
	want = sd_header_chunk_size(o->h, b, c);
	if ((ret = sd_read_full(o->fd, slot->buf, (size_t)want, &got)) < 0)
		return ret;
	if (got != want)
		return sd_error(SD_ERR_TRUNCATED, "package is truncated in blob %u", b);
	if ((ret = sd_header_check_chunk(o->h, b, c, slot->buf, (size_t)want)) < 0)
		return ret;
	slot->blob = b;
	slot->chunk = c;
	slot->len = (size_t)want;
	slot->fd = -1;
	slot->off = 0;
	slot->out_len = 0;
	slot->close_fd = false;
	if (++o->next_chunk == o->h->blobs[b].n_chunks) {
		o->next_blob++;
		o->next_chunk = 0;
	}
	return 0;
}

static int open_report(opener_t *o, sdx_slot_t *slot)
{
	uint8_t ad[SDX_BLOB_AD_BYTES];
	size_t bucket = slot->len - SDX_AEAD_NONCE - SDX_AEAD_TAG, text_len = 0;
	int ret;

	sdx_blob_ad(o->h->binding, SD_BLOB_REPORT, 0, ad);
	sdx_blob_key(o->sec->dek, 0, o->sec->key);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(slot->out, NULL, NULL, slot->buf + SDX_AEAD_NONCE,
	                                               slot->len - SDX_AEAD_NONCE, ad, sizeof(ad), slot->buf,
	                                               o->sec->key) != 0)
		return sd_error(SD_ERR_VERIFY, "the report does not decrypt: the package is damaged");
	if (sodium_unpad(&text_len, slot->out, bucket, bucket) != 0)
		return sd_error(SD_ERR_FORMAT, "the report's padding is malformed");
	ret = write_file_at(o->tmp_fd, "report.json", slot->out, text_len);
	sodium_memzero(slot->out, bucket);
	return ret;
}

static int pull(opener_t *o, sdx_slot_t *slot, const uint8_t *ct, size_t len, const uint8_t *ad, unsigned char want_tag)
{
	unsigned long long n = 0;
	unsigned char tag = 0;

	if (crypto_secretstream_xchacha20poly1305_pull(&o->sec->ss, slot->out, &n, &tag, ct, len, ad,
	                                               SDX_BLOB_AD_BYTES) != 0)
		return sd_error(SD_ERR_VERIFY, "evidence %u does not decrypt: the package is damaged", slot->blob - 2);
	if (tag != want_tag)
		return sd_error(SD_ERR_FORMAT, "evidence %u has a misplaced end of stream", slot->blob - 2);
	slot->out_len = (size_t)n;
	return 0;
}

/* Chunk 0: stream header and metadata; checks the metadata agrees with the manifest and
 * creates the output file. */
static int open_evidence_meta(opener_t *o, sdx_slot_t *slot, const uint8_t *ad, sdx_meta_t *m)
{
	uint32_t n_chunks;
	uint64_t ct_size;
	int ret;

	sdx_blob_key(o->sec->dek, slot->blob, o->sec->key);
	if (crypto_secretstream_xchacha20poly1305_init_pull(&o->sec->ss, slot->buf, o->sec->key) != 0)
		return sd_error(SD_ERR_VERIFY, "evidence %u has a bad stream header", slot->blob - 2);
	if ((ret = pull(o, slot, slot->buf + SDX_SS_HEADER, slot->len - SDX_SS_HEADER, ad, 0)) < 0 ||
	    (ret = sdx_meta_decode(slot->out, slot->out_len, m)) < 0)
		return ret;
	sodium_memzero(slot->out, slot->out_len);
	slot->out_len = 0;
	if (sdx_evidence_layout(m->size, &n_chunks, &ct_size) < 0 || n_chunks != o->h->blobs[slot->blob].n_chunks ||
	    ct_size != o->h->blobs[slot->blob].size)
		return sd_error(SD_ERR_FORMAT, "evidence %u: its stated size disagrees with the manifest",
		                slot->blob - 2);
	o->cur_fd = openat(o->ev_fd, m->name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (o->cur_fd < 0)
		return sd_error(errno == EEXIST ? SD_ERR_FORMAT : SD_ERR_IO, "evidence '%s': %s", m->name,
		                errno == EEXIST ? "two evidence files have this name" : strerror(errno));
	/* Full chunks are 1 MiB at 1 MiB offsets from an aligned buffer: they can bypass
	 * the page cache. The last chunk's tail goes buffered (sdx_pwrite). */
	sdx_direct_enable(o->cur_fd);
	return 0;
}

/* Decrypts one data chunk into the slot for the write stage; the last one is unpadded,
 * checked against the stated size, and closes the file once written. */
static int open_evidence_chunk(opener_t *o, sdx_slot_t *slot, const uint8_t *ad, const sdx_meta_t *m, uint64_t *written)
{
	bool last = slot->chunk + 1 == o->h->blobs[slot->blob].n_chunks;
	size_t text_len;
	int ret;

	if ((ret = pull(o, slot, slot->buf, slot->len, ad,
	                last ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0)) < 0)
		return ret;
	text_len = slot->out_len;
	if (last && sodium_unpad(&text_len, slot->out, slot->out_len, slot->out_len) != 0)
		return sd_error(SD_ERR_FORMAT, "evidence '%s': malformed padding", m->name);
	slot->out_len = text_len;
	slot->off = *written;
	*written += text_len;
	if (last && *written != m->size)
		return sd_error(SD_ERR_FORMAT, "evidence '%s': decrypted size differs from its stated size", m->name);
	slot->fd = o->cur_fd;
	if (last) {
		slot->close_fd = true; /* the write stage owns the descriptor from here */
		o->cur_fd = -1;
	}
	return 0;
}

/* The caller's stage: every chunk in package order. */
static int open_all(opener_t *o)
{
	uint8_t ad[SDX_BLOB_AD_BYTES];
	sdx_meta_t m;
	sdx_slot_t *slot;
	uint64_t written = 0;
	int ret = 0;

	for (uint32_t b = 0; b < o->h->n_blobs; b++) {
		sdx_blob_ad(o->h->binding, o->h->blobs[b].kind, b, ad);
		for (uint32_t c = 0; c < o->h->blobs[b].n_chunks; c++) {
			if ((ret = sdx_pipe_take(o->pipe, &slot)) < 0)
				return ret;
			if (o->h->blobs[b].kind == SD_BLOB_REPORT)
				ret = open_report(o, slot);
			else if (o->h->blobs[b].kind == SD_BLOB_IDENTITY)
				ret = 0; /* the identity is verified by read_stage, never decrypted here */
			else if (c == 0) {
				written = 0;
				ret = open_evidence_meta(o, slot, ad, &m);
			} else
				ret = open_evidence_chunk(o, slot, ad, &m, &written);
			if (ret < 0) {
				sdx_pipe_fail(o->pipe, ret);
				return ret;
			}
			o->done += slot->len;
			if ((ret = sdx_pipe_give(o->pipe)) < 0)
				return ret;
			if (o->progress)
				o->progress(o->progress_ctx, o->done, o->h->package_size - o->h->raw_len);
		}
	}
	return sdx_pipe_drain(o->pipe);
}

static int publish(opener_t *o, const char *out_dir)
{
	char *copy;
	int fd, ret = 0;

	if (sd_is_cancelled()) /* the last chance: after the rename the output exists */
		return sd_error(SD_ERR_CANCELLED, "interrupted; nothing was written");
	if (fsync(o->ev_fd) != 0 || fsync(o->tmp_fd) != 0)
		return sd_error(SD_ERR_IO, "fsync %s: %s", o->tmp, strerror(errno));
	if (rename(o->tmp, out_dir) != 0) {
		int e = errno;
		return sd_error(e == ENOTEMPTY || e == EEXIST ? SD_ERR_EXISTS : SD_ERR_IO, "%s: %s", out_dir,
		                e == ENOTEMPTY || e == EEXIST ? "exists and is not empty" : strerror(e));
	}
	free(o->tmp);
	o->tmp = NULL;
	if ((copy = strdup(out_dir)) == NULL)
		return SD_ERR_NOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0)
		ret = sd_error(SD_ERR_IO, "fsync the parent of %s: %s", out_dir, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(copy);
	return ret;
}

static void opener_free(opener_t *o)
{
	sdx_pipe_free(o->pipe); /* joins the threads first: they use the fds below */
	if (o->cur_fd >= 0)
		close(o->cur_fd);
	if (o->ev_fd >= 0)
		close(o->ev_fd);
	if (o->tmp_fd >= 0)
		close(o->tmp_fd);
	if (o->tmp) {
		remove_tree(AT_FDCWD, o->tmp);
		free(o->tmp);
	}
	sodium_free(o->sec);
}

int sdx_open_content(int fd, const sd_header_t *h, const uint8_t dek[SDX_KEY_BYTES], const char *out_dir,
                     sd_progress_fn progress, void *ctx)
{
	static const sdx_stage_fn stages[] = {read_stage, NULL, sdx_stage_write_plaintext};
	opener_t o = {
	        .fd = fd, .h = h, .tmp_fd = -1, .ev_fd = -1, .cur_fd = -1, .progress = progress, .progress_ctx = ctx};
	int ret;

	if (!dir_is_absent_or_empty(out_dir))
		return sd_error(SD_ERR_EXISTS, "%s exists and is not empty; nothing was written", out_dir);
	if ((o.sec = sodium_malloc(sizeof(*o.sec))) == NULL)
		return SD_ERR_NOMEM;
	memcpy(o.sec->dek, dek, SDX_KEY_BYTES);
	sweep_stale_staging(out_dir);
	if ((ret = make_staging(&o, out_dir)) < 0)
		goto out;
	/* Threads start only now: everything above can fail without them. */
	if ((ret = sdx_pipe_new(&o.pipe, stages, 3, &o, SDX_SS_HEADER + SDX_EVIDENCE_FULL_CHUNK, true)) < 0 ||
	    (ret = open_all(&o)) < 0)
		goto out;
	sdx_pipe_free(o.pipe);
	o.pipe = NULL;
	ret = publish(&o, out_dir);
out:
	opener_free(&o);
	return ret;
}

int sd_envelope_open(const char *path, const sd_seckey_t *intake, const char *out_dir, sd_progress_fn progress,
                     void *ctx, sd_header_t **hdr_out)
{
	sdx_reader_t rd = {.fd = -1};
	sd_header_t *h = NULL;
	uint8_t *dek = NULL;
	int ret;

	if (hdr_out)
		*hdr_out = NULL;
	if (!dir_is_absent_or_empty(out_dir))
		return sd_error(SD_ERR_EXISTS, "%s exists and is not empty; nothing was written", out_dir);
	if ((ret = sdx_reader_open(&rd, path, &h)) < 0)
		return ret;
	if ((dek = sodium_malloc(SDX_KEY_BYTES)) == NULL) {
		ret = SD_ERR_NOMEM;
		goto out;
	}
	if ((ret = sdx_unwrap_dek(h, intake, dek)) < 0 ||
	    (ret = sdx_open_content(rd.fd, h, dek, out_dir, progress, ctx)) < 0)
		goto out;
	if (hdr_out) {
		*hdr_out = h;
		h = NULL;
	}
out:
	sodium_free(dek);
	sdx_reader_close(&rd);
	sd_header_free(h);
	return ret;
}
