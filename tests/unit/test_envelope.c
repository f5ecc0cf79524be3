/*
 * test_envelope.c — the sealed package: round trip, every-byte tamper detection, every
 * truncation, wrong keys, nothing left behind on failure, the two-share identity
 * scheme (s_c under the identity key, s_w under the codename) opening the identity blob,
 * and direct (O_DIRECT) output agreeing with the buffered fallback.
 */
#include "unit.h"

#include <dirent.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sealdrop/bytes.h"
#include "sealdrop/envelope.h"
#include "sealdrop/fileio.h"
#include "../../crypto/envelope_int.h" /* sdx_direct_allow / sdx_direct_bytes / sdx_pwrite */

typedef struct {
	char dir[64];
	sd_directory_t d;
	sd_seckey_t *intake, *identity;
	sd_codename_keys_t *wb;
	char pkg[128];
} fixture_t;

static const char report[] = "{\n  \"accused_organization\": \"Example Corp\"\n}\n";
static const char identity[] = "{\n  \"name\": \"Hong Gildong\"\n}\n";

static void write_random_file(const char *path, size_t len)
{
	uint8_t *buf = malloc(len ? len : 1);
	assert_non_null(buf);
	randombytes_buf(buf, len);
	assert_int_equal(sd_file_write(path, buf, len, 0600, SD_AFILE_REPLACE), 0);
	free(buf);
}

/* Test-only rewrite of a scratch file: no fsync, so thousands of variants stay cheap. */
static void write_plain(const char *path, const uint8_t *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(sd_write_full(fd, buf, len), 0);
	close(fd);
}

static void fake_codename_keys(sd_codename_keys_t *k)
{
	randombytes_buf(k->locator, sizeof(k->locator));
	crypto_sign_keypair(k->consent_pk, k->consent_sk);
	crypto_box_keypair(k->notice_pk, k->notice_sk);
	randombytes_buf(k->share_wrap, sizeof(k->share_wrap));
}

static fixture_t *fixture_new(void)
{
	fixture_t *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/sd-envelope-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(sd_seckey_generate(SD_KEY_INTAKE, &f->intake), 0);
	assert_int_equal(sd_seckey_generate(SD_KEY_IDENTITY, &f->identity), 0);
	snprintf(f->d.deployment, sizeof(f->d.deployment), "demo");
	f->d.version = 3;
	sd_seckey_public(f->intake, &f->d.intake);
	sd_seckey_public(f->identity, &f->d.identity);
	f->wb = sodium_malloc(sizeof(*f->wb));
	assert_non_null(f->wb);
	fake_codename_keys(f->wb);
	snprintf(f->pkg, sizeof(f->pkg), "%s/pkg.sdx", f->dir);
	return f;
}

static void fixture_free(fixture_t *f)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	sd_seckey_free(f->intake);
	sd_seckey_free(f->identity);
	sodium_free(f->wb);
	free(f);
}

static int seal_files(fixture_t *f, const char *out, const sd_evidence_src_t *ev, size_t n)
{
	sd_seal_params_t p = {
	        .dir = &f->d,
	        .wb = f->wb,
	        .report = report,
	        .report_len = sizeof(report) - 1,
	        .identity = identity,
	        .identity_len = sizeof(identity) - 1,
	        .evidence = ev,
	        .n_evidence = n,
	        .created = {2026, 11, 22},
	};
	return sd_envelope_seal(&p, out);
}

/* Seals a small package with one evidence file; returns its bytes. */
static uint8_t *seal_small(fixture_t *f, size_t ev_len, size_t *len)
{
	char ev_path[128];
	uint8_t *buf;
	sd_evidence_src_t ev;

	snprintf(ev_path, sizeof(ev_path), "%s/memo.txt", f->dir);
	write_random_file(ev_path, ev_len);
	ev = (sd_evidence_src_t){.path = ev_path};
	assert_int_equal(seal_files(f, f->pkg, &ev, 1), 0);
	assert_int_equal(sd_file_read(f->pkg, 1u << 26, &buf, len), 0);
	return buf;
}

static void assert_files_equal(const char *a, const char *b)
{
	uint8_t *x, *y;
	size_t xl, yl;
	assert_int_equal(sd_file_read(a, 1u << 30, &x, &xl), 0);
	assert_int_equal(sd_file_read(b, 1u << 30, &y, &yl), 0);
	assert_int_equal(xl, yl);
	assert_true(xl == 0 || sd_equal(x, y, xl));
	free(x);
	free(y);
}

static bool path_exists(const char *p)
{
	struct stat st;
	return lstat(p, &st) == 0;
}

/* No staging directories or temporary files may survive a failure. */
static void assert_no_leftovers(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		assert_null(strstr(e->d_name, ".tmp-"));
	closedir(d);
}

static void test_round_trip(void **state)
{
	(void)state;
	fixture_t *f = fixture_new();
	static const size_t sizes[] = {0, 1, SD_CHUNK_BYTES - 1, SD_CHUNK_BYTES, 2 * SD_CHUNK_BYTES + 12345};
	enum { N = sizeof(sizes) / sizeof(sizes[0]) };
	sd_evidence_src_t ev[N];
	char paths[N][128], names[N][16], out[128], got[512];
	sd_header_t *h = NULL;

	for (size_t i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "e%zu.bin", i);
		snprintf(paths[i], sizeof(paths[i]), "%s/%s", f->dir, names[i]);
		write_random_file(paths[i], sizes[i]);
		ev[i] = (sd_evidence_src_t){.path = paths[i]};
	}
	assert_int_equal(seal_files(f, f->pkg, ev, N), 0);
	assert_int_equal(sd_envelope_verify(f->pkg, NULL, NULL, &h), 0);
	assert_int_equal(h->n_blobs, N + 2);
	assert_string_equal(h->deployment, "demo");
	assert_int_equal(h->directory_version, 3);
	assert_int_equal(sd_date_to_u32(h->created), 20261122);
	assert_true(sd_equal(h->intake_id, f->intake->id, SD_KEY_ID_BYTES));
	assert_true(sd_equal(h->consent_pk, f->wb->consent_pk, 32));
	sd_header_free(h);

	snprintf(out, sizeof(out), "%s/opened", f->dir);
	assert_int_equal(sd_envelope_open(f->pkg, f->intake, out, NULL, NULL, &h), 0);
	sd_header_free(h);
	snprintf(got, sizeof(got), "%s/report.json", out);
	uint8_t *text;
	size_t len;
	assert_int_equal(sd_file_read(got, 1 << 20, &text, &len), 0);
	assert_int_equal(len, sizeof(report) - 1);
	assert_memory_equal(text, report, len);
	free(text);
	for (size_t i = 0; i < N; i++) {
		snprintf(got, sizeof(got), "%s/evidence/%s", out, names[i]);
		assert_files_equal(paths[i], got);
	}
	/* The identity never reaches the output. */
	snprintf(got, sizeof(got), "%s/identity.json", out);
	assert_false(path_exists(got));
	fixture_free(f);
}

/* Flipping any single byte anywhere is detected without a key. */
static void test_every_byte_flip_is_refused(void **state)
{
	(void)state;
	fixture_t *f = fixture_new();
	size_t len;
	uint8_t *pkg = seal_small(f, 5000, &len);
	char bad[128];

	snprintf(bad, sizeof(bad), "%s/bad.sdx", f->dir);
	for (size_t i = 0; i < len; i++) {
		pkg[i] ^= 0x01;
		write_plain(bad, pkg, len);
		int r = sd_envelope_verify(bad, NULL, NULL, NULL);
		if (r == 0)
			fail_msg("flipping byte %zu of %zu was not detected", i, len);
		pkg[i] ^= 0x01;
	}
	free(pkg);
	fixture_free(f);
}

/* sd_header_parse_known: a header bound to a verified digest parses without a signature
 * check, so it gives the same header as sd_header_parse; any change to what the digest
 * covers, another digest, or a broken structure is refused. Only the signature's own
 * bytes are left to the caller's earlier verification. */
static void test_parse_known_digest(void **state)
{
	(void)state;
	fixture_t *f = fixture_new();
	size_t len;
	uint8_t *pkg = seal_small(f, 2000, &len);
	sd_header_t *h = NULL, *k = NULL;
	uint8_t digest[SD_HASH_BYTES], other[SD_HASH_BYTES];
	size_t hlen;

	hlen = sd_load_le32(pkg + 12);
	assert_int_equal(sd_header_parse(pkg, hlen, &h), 0);
	memcpy(digest, h->digest, sizeof(digest));
	assert_int_equal(sd_header_parse_known(pkg, hlen, digest, &k), 0);
	assert_int_equal(k->raw_len, h->raw_len);
	assert_memory_equal(k->raw, h->raw, h->raw_len);
	assert_memory_equal(k->binding, h->binding, SD_HASH_BYTES);
	assert_int_equal(k->n_blobs, h->n_blobs);
	assert_int_equal(k->package_size, h->package_size);
	sd_header_free(k);

	memcpy(other, digest, sizeof(other));
	other[0] ^= 1;
	k = h; /* a failed parse leaves NULL, whatever was there */
	assert_int_equal(sd_header_parse_known(pkg, hlen, other, &k), SD_ERR_VERIFY);
	assert_null(k);
	assert_non_null(strstr(sd_error_detail(), "not the one whose signature was verified"));

	/* A byte of the manifest, just before the signature: the digest no longer matches. */
	pkg[hlen - 64 - 1] ^= 1;
	assert_int_equal(sd_header_parse_known(pkg, hlen, digest, &k), SD_ERR_VERIFY);
	assert_int_equal(sd_header_parse(pkg, hlen, &k), SD_ERR_VERIFY);
	pkg[hlen - 64 - 1] ^= 1;
	/* The signature alone: sd_header_parse refuses it, the digest cannot see it. */
	pkg[hlen - 1] ^= 1;
	assert_int_equal(sd_header_parse(pkg, hlen, &k), SD_ERR_VERIFY);
	assert_int_equal(sd_header_parse_known(pkg, hlen, digest, &k), 0);
	sd_header_free(k);
	pkg[hlen - 1] ^= 1;
	/* Structure first: short input is refused before any digest. */
	for (size_t cut = 0; cut < hlen; cut += 37) {
		k = h;
		assert_true(sd_header_parse_known(pkg, cut, digest, &k) < 0);
		assert_null(k);
	}
	sd_header_free(h);
	free(pkg);
	fixture_free(f);
}

/* Every truncation and any appended byte are refused, by verify and by open. */
static void test_truncation_and_trailing_data(void **state)
{
	(void)state;
	fixture_t *f = fixture_new();
	size_t len;
	uint8_t *pkg = seal_small(f, 3000, &len);
	char bad[128], out[128];

	snprintf(bad, sizeof(bad), "%s/bad.sdx", f->dir);
	snprintf(out, sizeof(out), "%s/out", f->dir);
	for (size_t cut = 0; cut < len; cut += (cut < 2048 ? 1 : 97)) {
		write_plain(bad, pkg, cut);
		int r = sd_envelope_verify(bad, NULL, NULL, NULL);
		if (r != SD_ERR_TRUNCATED && r != SD_ERR_FORMAT)
			fail_msg("truncation to %zu bytes gave %d (%s)", cut, r, sd_error_detail());
	}
	assert_int_equal(sd_file_write(bad, pkg, len - 1, 0600, SD_AFILE_REPLACE), 0);
	assert_int_equal(sd_envelope_open(bad, f->intake, out, NULL, NULL, NULL), SD_ERR_TRUNCATED);
	assert_false(path_exists(out));

	uint8_t *longer = malloc(len + 1);
	memcpy(longer, pkg, len);
	longer[len] = 0;
	assert_int_equal(sd_file_write(bad, longer, len + 1, 0600, SD_AFILE_REPLACE), 0);
	assert_int_equal(sd_envelope_verify(bad, NULL, NULL, NULL), SD_ERR_FORMAT);
	free(longer);
	free(pkg);
	assert_no_leftovers(f->dir);
	fixture_free(f);
}

/* Damage in the very last byte is found only at the end: open must leave nothing. */
static void test_open_leaves_nothing_on_late_damage(void **state)
{
	(void)state;
	fixture_t *f = fixture_new();
	size_t len;
	uint8_t *pkg = seal_small(f, 3 * SD_CHUNK_BYTES, &len);
	char bad[128], out[128];

	snprintf(bad, sizeof(bad), "%s/bad.sdx", f->dir);
	snprintf(out, sizeof(out), "%s/out", f->dir);
	pkg[len - 1] ^= 0x80;
	assert_int_equal(sd_file_write(bad, pkg, len, 0600, SD_AFILE_REPLACE), 0);
	assert_int_equal(sd_envelope_open(bad, f->intake, out, NULL, NULL, NULL), SD_ERR_VERIFY);
	assert_false(path_exists(out));
	assert_no_leftovers(f->dir);
	free(pkg);
	fixture_free(f);
}

static void test_wrong_key_and_existing_output(void **state)
{
	(void)state;
	fixture_t *f = fixture_new();
	size_t len;
	uint8_t *pkg = seal_small(f, 100, &len);
	sd_seckey_t *other;
	char out[128], file[160];

	snprintf(out, sizeof(out), "%s/out", f->dir);
	assert_int_equal(sd_seckey_generate(SD_KEY_INTAKE, &other), 0);
	assert_int_equal(sd_envelope_open(f->pkg, other, out, NULL, NULL, NULL), SD_ERR_WRONG_KEY);
	assert_non_null(strstr(sd_error_detail(), "sealed to intake key"));
	assert_false(path_exists(out));
	/* The identity key is not an intake key. */
	assert_int_equal(sd_envelope_open(f->pkg, f->identity, out, NULL, NULL, NULL), SD_ERR_USAGE);
	/* A non-empty output directory is never written into. */
	assert_int_equal(mkdir(out, 0700), 0);
	snprintf(file, sizeof(file), "%s/keep", out);
	assert_int_equal(sd_file_write(file, "x", 1, 0600, SD_AFILE_REPLACE), 0);
	assert_int_equal(sd_envelope_open(f->pkg, f->intake, out, NULL, NULL, NULL), SD_ERR_EXISTS);
	/* An existing package is never overwritten. */
	sd_evidence_src_t none[1];
	assert_int_equal(seal_files(f, f->pkg, none, 0), SD_ERR_EXISTS);
	sd_seckey_free(other);
	free(pkg);
	assert_no_leftovers(f->dir);
	fixture_free(f);
}

static void test_bad_evidence_inputs(void **state)
{
	(void)state;
	fixture_t *f = fixture_new();
	char a[128], b[128], out[128];
	sd_evidence_src_t ev[2];

	snprintf(a, sizeof(a), "%s/a.txt", f->dir);
	snprintf(b, sizeof(b), "%s/sub", f->dir);
	snprintf(out, sizeof(out), "%s/x.sdx", f->dir);
	write_random_file(a, 10);
	assert_int_equal(mkdir(b, 0700), 0);
	ev[0] = (sd_evidence_src_t){.path = a};
	ev[1] = (sd_evidence_src_t){.path = a};
	assert_int_equal(seal_files(f, out, ev, 2), SD_ERR_USAGE); /* duplicate name */
	ev[1] = (sd_evidence_src_t){.path = b};
	assert_int_equal(seal_files(f, out, ev, 2), SD_ERR_USAGE); /* a directory */
	ev[1] = (sd_evidence_src_t){.path = "/nonexistent/file"};
	assert_int_equal(seal_files(f, out, ev, 2), SD_ERR_NOENT);
	ev[1] = (sd_evidence_src_t){.path = a, .name = "../escape"};
	assert_int_equal(seal_files(f, out, ev, 2), SD_ERR_USAGE);
	/* Names that would act on an officer's terminal or read as another name. */
	static const char *const unsafe[] = {
	        "a\xc2\x9b"
	        "31mRED.txt", /* U+009B, CSI */
	        "evil\xe2\x80\xae"
	        "txt.exe",          /* U+202E, right-to-left override */
	        "bad\xff.txt",      /* not UTF-8 */
	        "over\xc0\xaflong", /* an overlong '/' */
	        "del\x7f",
	};
	for (size_t i = 0; i < sizeof(unsafe) / sizeof(unsafe[0]); i++) {
		ev[1] = (sd_evidence_src_t){.path = a, .name = unsafe[i]};
		if (seal_files(f, out, ev, 2) != SD_ERR_USAGE)
			fail_msg("unsafe name %zu was accepted", i);
	}
	/* A Korean name ("증거 자료.pdf") is a name like any other. */
	char korean_pkg[160];
	snprintf(korean_pkg, sizeof(korean_pkg), "%s/korean.sdx", f->dir);
	ev[1] = (sd_evidence_src_t){.path = a, .name = "\xec\xa6\x9d\xea\xb1\xb0 \xec\x9e\x90\xeb\xa3\x8c.pdf"};
	assert_int_equal(seal_files(f, korean_pkg, ev, 2), 0);
	assert_false(path_exists(out));
	assert_no_leftovers(f->dir);
	fixture_free(f);
}

/* The identity opens from s_c (identity key) and s_w (codename share-wrap key) together. */
static void test_two_share_identity(void **state)
{
	(void)state;
	fixture_t *f = fixture_new();
	size_t len;
	uint8_t *pkg = seal_small(f, 10, &len);
	sd_header_t *h;
	uint8_t s_c[32], s_w[32], key[32], ad[37], pt[4096];
	unsigned long long n;
	size_t text_len;

	assert_int_equal(sd_header_read(open(f->pkg, O_RDONLY), &h), 0);
	assert_int_equal(
	        crypto_box_seal_open(s_c, h->sealed_sc, sizeof(h->sealed_sc), f->identity->pk, f->identity->sk), 0);
	/* s_w's associated data is the preamble up to the wrapped share. */
	size_t ad_len = SD_SDX_PREFIX_BYTES + 1 + strlen(h->deployment) + 4 + 4 + 8 + 8 + 32 + 32 + 32 + 80 + 80;
	assert_int_equal(crypto_aead_xchacha20poly1305_ietf_decrypt(s_w, &n, NULL, h->wrapped_sw + 24, 48, h->raw,
	                                                            ad_len, h->wrapped_sw, f->wb->share_wrap),
	                 0);
	/* id_key = BLAKE2b-256("sealdrop identity v1" || s_c || s_w) */
	uint8_t msg[20 + 64];
	memcpy(msg, "sealdrop identity v1", 20);
	memcpy(msg + 20, s_c, 32);
	memcpy(msg + 52, s_w, 32);
	crypto_generichash(key, 32, msg, sizeof(msg), NULL, 0);
	memcpy(ad, h->binding, 32);
	ad[32] = SD_BLOB_IDENTITY;
	sd_store_le32(ad + 33, 1);
	const uint8_t *blob = pkg + h->blobs[1].offset;
	assert_int_equal(crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &n, NULL, blob + 24, h->blobs[1].size - 24, ad,
	                                                            sizeof(ad), blob, key),
	                 0);
	assert_int_equal(n, 4096);
	assert_int_equal(sodium_unpad(&text_len, pt, 4096, 4096), 0);
	assert_int_equal(text_len, sizeof(identity) - 1);
	assert_memory_equal(pt, identity, text_len);
	/* Without s_w (say, a guess of zeros) the identity stays sealed. */
	memset(msg + 52, 0, 32);
	crypto_generichash(key, 32, msg, sizeof(msg), NULL, 0);
	assert_int_not_equal(crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &n, NULL, blob + 24, h->blobs[1].size - 24,
	                                                                ad, sizeof(ad), blob, key),
	                     0);
	sd_header_free(h);
	free(pkg);
	fixture_free(f);
}

/* Padding hides lengths: reports of 10 and 10,000 bytes give packages of equal size. */
static void test_padding_hides_record_lengths(void **state)
{
	(void)state;
	fixture_t *f = fixture_new();
	char big[10001], out2[128];
	struct stat a, b;
	sd_evidence_src_t none[1];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(seal_files(f, f->pkg, none, 0), 0);
	sd_seal_params_t p = {
	        .dir = &f->d,
	        .wb = f->wb,
	        .report = big,
	        .report_len = sizeof(big) - 1,
	        .identity = identity,
	        .identity_len = sizeof(identity) - 1,
	        .created = {2026, 11, 22},
	};
	snprintf(out2, sizeof(out2), "%s/big.sdx", f->dir);
	assert_int_equal(sd_envelope_seal(&p, out2), 0);
	assert_int_equal(stat(f->pkg, &a), 0);
	assert_int_equal(stat(out2, &b), 0);
	assert_int_equal(a.st_size, b.st_size);
	fixture_free(f);
}

/* Does the file system under dir take O_DIRECT? (Some do not: the fallback is tested
 * on every machine by sdx_direct_allow(false), the direct path only where it exists.) */
static bool dir_takes_direct(const char *dir)
{
	char path[160];
	int fd, flags;
	bool ok;

	snprintf(path, sizeof(path), "%s/probe", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	flags = fcntl(fd, F_GETFL);
	ok = fcntl(fd, F_SETFL, flags | O_DIRECT) == 0;
	close(fd);
	unlink(path);
	return ok;
}

/* Bytes open writes directly for evidence of `size`: the full 1 MiB chunks, and the
 * last one only if it happens to be a multiple of the alignment. */
static uint64_t open_direct_bytes(uint64_t size)
{
	uint64_t rest = size % SD_CHUNK_BYTES;
	return size - (rest % SDX_DIRECT_ALIGN == 0 ? 0 : rest);
}

/* Sizes around the direct-I/O alignment, the chunk size and the seal writer's buffer. */
static const size_t direct_sizes[] = {
        0, 1, 4095, 4096, SD_CHUNK_BYTES, SD_CHUNK_BYTES + 4096, 5 * SD_CHUNK_BYTES + 12345};
enum { N_DIRECT = sizeof(direct_sizes) / sizeof(direct_sizes[0]) };

/* Seals with direct output allowed or not; checks how many bytes went direct: all of
 * the package from the header's last block up to the last whole block. */
static void seal_direct_or_not(fixture_t *f, const sd_evidence_src_t *ev, const char *pkg, bool direct, bool direct_fs,
                               struct stat *st)
{
	uint64_t before = sdx_direct_bytes(), want = 0;
	sd_header_t *h;

	sdx_direct_allow(direct);
	assert_int_equal(seal_files(f, pkg, ev, N_DIRECT), 0);
	sdx_direct_allow(true);
	assert_int_equal(sd_envelope_verify(pkg, NULL, NULL, &h), 0);
	assert_int_equal(stat(pkg, st), 0);
	assert_int_equal(h->package_size, (uint64_t)st->st_size);
	if (direct && direct_fs)
		want = h->package_size / SDX_DIRECT_ALIGN * SDX_DIRECT_ALIGN -
		       h->raw_len / SDX_DIRECT_ALIGN * SDX_DIRECT_ALIGN;
	assert_int_equal(sdx_direct_bytes() - before, want);
	sd_header_free(h);
}

/* Every pairing of direct and buffered seal and open gives the same evidence back, and
 * both seals give packages of the same size that verify. */
static void test_direct_and_buffered_agree(void **state)
{
	(void)state;
	fixture_t *f = fixture_new();
	bool direct_fs = dir_takes_direct(f->dir);
	sd_evidence_src_t ev[N_DIRECT];
	char paths[N_DIRECT][128], names[N_DIRECT][16], pkg[2][128], out[160], got[320];
	struct stat st[2];
	uint64_t want = 0;

	for (size_t i = 0; i < N_DIRECT; i++) {
		snprintf(names[i], sizeof(names[i]), "e%zu.bin", i);
		snprintf(paths[i], sizeof(paths[i]), "%s/%s", f->dir, names[i]);
		write_random_file(paths[i], direct_sizes[i]);
		ev[i] = (sd_evidence_src_t){.path = paths[i]};
		want += open_direct_bytes(direct_sizes[i]);
	}
	for (int s = 0; s < 2; s++) {
		snprintf(pkg[s], sizeof(pkg[s]), "%s/p%d.sdx", f->dir, s);
		seal_direct_or_not(f, ev, pkg[s], s == 0, direct_fs, &st[s]);
	}
	assert_int_equal(st[0].st_size, st[1].st_size);
	for (int s = 0; s < 2; s++)
		for (int o = 0; o < 2; o++) {
			uint64_t before = sdx_direct_bytes();
			snprintf(out, sizeof(out), "%s/out-%d%d", f->dir, s, o);
			sdx_direct_allow(o == 0);
			assert_int_equal(sd_envelope_open(pkg[s], f->intake, out, NULL, NULL, NULL), 0);
			sdx_direct_allow(true);
			assert_int_equal(sdx_direct_bytes() - before, o == 0 && direct_fs ? want : 0);
			for (size_t i = 0; i < N_DIRECT; i++) {
				snprintf(got, sizeof(got), "%s/evidence/%s", out, names[i]);
				assert_files_equal(paths[i], got);
			}
		}
	assert_no_leftovers(f->dir);
	fixture_free(f);
}

static bool fd_is_direct(int fd)
{
	return (fcntl(fd, F_GETFL) & O_DIRECT) != 0;
}

/* sdx_pwrite goes direct only when buffer, length and offset are all aligned, and
 * otherwise leaves direct mode and still writes every byte where it belongs. */
static void test_pwrite_direct_fallback(void **state)
{
	(void)state;
	fixture_t *f = fixture_new();
	bool direct_fs = dir_takes_direct(f->dir);
	char path[160];
	uint8_t *buf, *back, want[3 * 4096] = {0};
	size_t len;
	uint64_t before;
	int fd;

	assert_int_equal(posix_memalign((void **)&buf, SDX_DIRECT_ALIGN, 2 * 4096), 0);
	randombytes_buf(buf, 2 * 4096);
	snprintf(path, sizeof(path), "%s/out.bin", f->dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	sdx_direct_enable(fd);
	assert_int_equal(fd_is_direct(fd), direct_fs);
	before = sdx_direct_bytes();
	assert_int_equal(sdx_pwrite(fd, buf, 4096, 4096), 0); /* aligned: direct */
	assert_int_equal(sdx_direct_bytes() - before, direct_fs ? 4096 : 0);
	assert_int_equal(fd_is_direct(fd), direct_fs);
	assert_int_equal(sdx_pwrite(fd, buf + 1, 4096, 8192), 0); /* misaligned buffer */
	assert_false(fd_is_direct(fd));
	sdx_direct_enable(fd);
	assert_int_equal(sdx_pwrite(fd, buf + 4096, 100, 0), 0); /* short length */
	assert_false(fd_is_direct(fd));
	sdx_direct_allow(false);
	sdx_direct_enable(fd);
	sdx_direct_allow(true);
	assert_false(fd_is_direct(fd)); /* the tests' switch holds */
	assert_int_equal(sdx_direct_bytes() - before, direct_fs ? 4096 : 0);
	close(fd);
	memcpy(want, buf + 4096, 100);
	memcpy(want + 4096, buf, 4096);
	memcpy(want + 8192, buf + 1, 4096);
	assert_int_equal(sd_file_read(path, 1 << 20, &back, &len), 0);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(back, want, len);
	free(back);
	free(buf);
	fixture_free(f);
}

/* A report in the largest bucket (1 MiB) passes inspect and open alike. */
static void test_largest_report_bucket(void **state)
{
	(void)state;
	fixture_t *f = fixture_new();
	size_t len = 600 * 1000;
	char *big = malloc(len + 1), out[128];
	sd_header_t *h = NULL;

	assert_non_null(big);
	memset(big, 'r', len);
	big[len] = '\0';
	sd_seal_params_t p = {
	        .dir = &f->d,
	        .wb = f->wb,
	        .report = big,
	        .report_len = len,
	        .identity = identity,
	        .identity_len = sizeof(identity) - 1,
	        .created = {2026, 11, 22},
	};
	assert_int_equal(sd_envelope_seal(&p, f->pkg), 0);
	assert_int_equal(sd_envelope_verify(f->pkg, NULL, NULL, &h), 0);
	assert_int_equal(h->blobs[0].size, 24 + (1u << 20) + 16);
	sd_header_free(h);
	snprintf(out, sizeof(out), "%s/opened", f->dir);
	assert_int_equal(sd_envelope_open(f->pkg, f->intake, out, NULL, NULL, NULL), 0);
	free(big);
	fixture_free(f);
}

/* Evidence beyond what one manifest can describe is refused before anything is written
 * (a sparse file: its size is all that is read). */
static void test_oversized_evidence_is_refused(void **state)
{
	(void)state;
	fixture_t *f = fixture_new();
	char huge[128];
	int fd;

	snprintf(huge, sizeof(huge), "%s/huge.bin", f->dir);
	fd = open(huge, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	if (ftruncate(fd, (off_t)SD_EVIDENCE_MAX_BYTES + 1) != 0) {
		close(fd);
		fixture_free(f);
		skip(); /* a file system without sparse files this large */
	}
	close(fd);
	sd_evidence_src_t ev = {.path = huge};
	assert_int_equal(seal_files(f, f->pkg, &ev, 1), SD_ERR_TOOBIG);
	assert_false(path_exists(f->pkg));
	assert_no_leftovers(f->dir);
	/* The layout refuses sizes that would overflow its arithmetic outright. */
	uint32_t n;
	uint64_t ct;
	assert_int_equal(sdx_evidence_layout(UINT64_C(1) << 52, &n, &ct), SD_ERR_TOOBIG);
	assert_int_equal(sdx_evidence_layout(SD_EVIDENCE_MAX_BYTES, &n, &ct), 0);
	assert_int_equal(n, SD_SDX_MAX_HEADER / SD_HASH_BYTES);
	fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_round_trip),
	        cmocka_unit_test(test_every_byte_flip_is_refused),
	        cmocka_unit_test(test_parse_known_digest),
	        cmocka_unit_test(test_truncation_and_trailing_data),
	        cmocka_unit_test(test_open_leaves_nothing_on_late_damage),
	        cmocka_unit_test(test_wrong_key_and_existing_output),
	        cmocka_unit_test(test_bad_evidence_inputs),
	        cmocka_unit_test(test_two_share_identity),
	        cmocka_unit_test(test_padding_hides_record_lengths),
	        cmocka_unit_test(test_largest_report_bucket),
	        cmocka_unit_test(test_oversized_evidence_is_refused),
	        cmocka_unit_test(test_direct_and_buffered_agree),
	        cmocka_unit_test(test_pwrite_direct_fallback),
	};
	return cmocka_run_group_tests(tests, unit_setup, NULL);
}
