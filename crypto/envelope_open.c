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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "envelope_int.h"
#include "sealdrop/fileio.h"

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

typedef struct {
	sdx_reader_t rd;
	sd_header_t *h;
	open_secrets_t *sec;
	uint8_t *pt;
	char *tmp;    /* the private staging directory */
	int tmp_fd;   /* an open handle on it */
	int ev_fd;    /* its evidence/ subdirectory */
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

static int open_content_key(opener_t *o, const sd_seckey_t *intake)
{
	char want[SD_KEY_ID_HEX_BYTES], have[SD_KEY_ID_HEX_BYTES];

	if (intake->kind != SD_KEY_INTAKE)
		return sd_error(SD_ERR_USAGE, "opening a package takes an intake key, not a %s key",
				sd_key_kind_name(intake->kind));
	if (sodium_memcmp(o->h->intake_id, intake->id, SD_KEY_ID_BYTES) != 0) {
		sd_key_id_hex(o->h->intake_id, want);
		sd_key_id_hex(intake->id, have);
		return sd_error(SD_ERR_WRONG_KEY,
				"the package was sealed to intake key %s (deployment '%s'); this key is %s", want,
				o->h->deployment, have);
	}
	if (crypto_box_seal_open(o->sec->dek, o->h->sealed_dek, SD_SEALED_KEY_BYTES, intake->pk, intake->sk) != 0)
		return sd_error(SD_ERR_VERIFY, "the content key does not open with this intake key");
	return 0;
}

static int open_report(opener_t *o)
{
	uint8_t ad[SDX_BLOB_AD_BYTES];
	const uint8_t *ct;
	size_t len, bucket, text_len = 0;
	int ret;

	if ((ret = sdx_reader_next(&o->rd, 0, 0, &ct, &len)) < 0)
		return ret;
	bucket = len - SDX_AEAD_NONCE - SDX_AEAD_TAG;
	sdx_blob_ad(o->h->binding, SD_BLOB_REPORT, 0, ad);
	sdx_blob_key(o->sec->dek, 0, o->sec->key);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(o->pt, NULL, NULL, ct + SDX_AEAD_NONCE, len - SDX_AEAD_NONCE,
						       ad, sizeof(ad), ct, o->sec->key) != 0)
		return sd_error(SD_ERR_VERIFY, "the report does not decrypt: the package is damaged");
	if (sodium_unpad(&text_len, o->pt, bucket, bucket) != 0)
		return sd_error(SD_ERR_FORMAT, "the report's padding is malformed");
	return write_file_at(o->tmp_fd, "report.json", o->pt, text_len);
}

static int pull(opener_t *o, const uint8_t *ct, size_t len, const uint8_t *ad, unsigned char want_tag,
		size_t *pt_len, uint32_t blob)
{
	unsigned long long n = 0;
	unsigned char tag = 0;

	if (crypto_secretstream_xchacha20poly1305_pull(&o->sec->ss, o->pt, &n, &tag, ct, len, ad,
						       SDX_BLOB_AD_BYTES) != 0)
		return sd_error(SD_ERR_VERIFY, "evidence %u does not decrypt: the package is damaged", blob - 2);
	if (tag != want_tag)
		return sd_error(SD_ERR_FORMAT, "evidence %u has a misplaced end of stream", blob - 2);
	*pt_len = (size_t)n;
	return 0;
}

/* Chunk 0: stream header and metadata; checks the metadata agrees with the manifest. */
static int open_evidence_meta(opener_t *o, uint32_t blob, const uint8_t *ad, sdx_meta_t *m)
{
	const uint8_t *ct;
	size_t len, pt_len;
	uint32_t n_chunks;
	uint64_t ct_size;
	int ret;

	if ((ret = sdx_reader_next(&o->rd, blob, 0, &ct, &len)) < 0)
		return ret;
	sdx_blob_key(o->sec->dek, blob, o->sec->key);
	if (crypto_secretstream_xchacha20poly1305_init_pull(&o->sec->ss, ct, o->sec->key) != 0)
		return sd_error(SD_ERR_VERIFY, "evidence %u has a bad stream header", blob - 2);
	if ((ret = pull(o, ct + SDX_SS_HEADER, len - SDX_SS_HEADER, ad, 0, &pt_len, blob)) < 0 ||
	    (ret = sdx_meta_decode(o->pt, pt_len, m)) < 0)
		return ret;
	sdx_evidence_layout(m->size, &n_chunks, &ct_size);
	if (n_chunks != o->h->blobs[blob].n_chunks || ct_size != o->h->blobs[blob].size)
		return sd_error(SD_ERR_FORMAT, "evidence %u: its stated size disagrees with the manifest", blob - 2);
	return 0;
}

static int open_evidence(opener_t *o, uint32_t blob)
{
	uint8_t ad[SDX_BLOB_AD_BYTES];
	sdx_meta_t m;
	const uint8_t *ct;
	size_t len, pt_len, text_len;
	uint32_t n = o->h->blobs[blob].n_chunks;
	int fd = -1, ret;

	sdx_blob_ad(o->h->binding, SD_BLOB_EVIDENCE, blob, ad);
	if ((ret = open_evidence_meta(o, blob, ad, &m)) < 0)
		return ret;
	fd = openat(o->ev_fd, m.name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return sd_error(errno == EEXIST ? SD_ERR_FORMAT : SD_ERR_IO, "evidence '%s': %s", m.name,
				errno == EEXIST ? "two evidence files have this name" : strerror(errno));
	for (uint32_t c = 1; c < n; c++) {
		bool last = c + 1 == n;
		if ((ret = sdx_reader_next(&o->rd, blob, c, &ct, &len)) < 0 ||
		    (ret = pull(o, ct, len, ad, last ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0, &pt_len,
				blob)) < 0)
			goto out;
		text_len = pt_len;
		if (last && sodium_unpad(&text_len, o->pt, pt_len, pt_len) != 0) {
			ret = sd_error(SD_ERR_FORMAT, "evidence '%s': malformed padding", m.name);
			goto out;
		}
		if ((ret = sd_write_full(fd, o->pt, text_len)) < 0)
			goto out;
	}
	if (lseek(fd, 0, SEEK_CUR) != (off_t)m.size) {
		ret = sd_error(SD_ERR_FORMAT, "evidence '%s': decrypted size differs from its stated size", m.name);
		goto out;
	}
	if (fsync(fd) != 0)
		ret = sd_error(SD_ERR_IO, "fsync evidence '%s': %s", m.name, strerror(errno));
out:
	close(fd);
	return ret;
}

/* The identity blob is verified, not decrypted. */
static int skip_identity(opener_t *o)
{
	const uint8_t *ct;
	size_t len;

	return sdx_reader_next(&o->rd, 1, 0, &ct, &len);
}

static int publish(opener_t *o, const char *out_dir)
{
	char *copy;
	int fd, ret = 0;

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
	if (o->ev_fd >= 0)
		close(o->ev_fd);
	if (o->tmp_fd >= 0)
		close(o->tmp_fd);
	if (o->tmp) {
		remove_tree(AT_FDCWD, o->tmp);
		free(o->tmp);
	}
	sdx_reader_close(&o->rd);
	sodium_free(o->sec);
	sodium_free(o->pt);
}

int sd_envelope_open(const char *path, const sd_seckey_t *intake, const char *out_dir, sd_progress_fn progress,
		     void *ctx, sd_header_t **hdr_out)
{
	opener_t o = { .tmp_fd = -1, .ev_fd = -1, .rd = { .fd = -1 } };
	int ret;

	if (hdr_out)
		*hdr_out = NULL;
	if (!dir_is_absent_or_empty(out_dir))
		return sd_error(SD_ERR_EXISTS, "%s exists and is not empty; nothing was written", out_dir);
	if ((ret = sdx_reader_open(&o.rd, path, &o.h)) < 0)
		return ret;
	o.rd.progress = progress;
	o.rd.progress_ctx = ctx;
	o.sec = sodium_malloc(sizeof(*o.sec));
	o.pt = sodium_malloc(SD_CHUNK_BYTES);
	if (o.sec == NULL || o.pt == NULL) {
		ret = SD_ERR_NOMEM;
		goto out;
	}
	if ((ret = open_content_key(&o, intake)) < 0 || (ret = make_staging(&o, out_dir)) < 0 ||
	    (ret = open_report(&o)) < 0 || (ret = skip_identity(&o)) < 0)
		goto out;
	for (uint32_t b = 2; b < o.h->n_blobs; b++)
		if ((ret = open_evidence(&o, b)) < 0)
			goto out;
	if ((ret = publish(&o, out_dir)) < 0)
		goto out;
	if (hdr_out) {
		*hdr_out = o.h;
		o.h = NULL;
	}
out:
	opener_free(&o);
	sd_header_free(o.h);
	return ret;
}
