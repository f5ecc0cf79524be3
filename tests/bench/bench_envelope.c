/*
 * bench_envelope.c — seal and open throughput against the raw cost of the same
 * primitives over the same bytes, measured in the same run (issue: "make bench").
 *
 *   raw seal: secretstream push + BLAKE2b-256 of every ciphertext chunk, in memory
 *   raw open: BLAKE2b-256 + secretstream pull of every chunk, in memory
 *   seal/open: sd_envelope_seal / sd_envelope_open on a file, key derivation left out;
 *              open twice: the package cold (dropped from the page cache) and warm
 *              (the codename keys and the intake key are made before the clock starts)
 *
 * Usage: bench_envelope FILE [SCRATCH_DIR]. Prints one line per measurement and the
 * ratios raw/ours (1.0 = as fast as the bare primitives; above 1.0 = faster, which the
 * two-core pipeline can reach by overlapping work the raw loop does serially).
 */
#include <fcntl.h>
#include <stdbool.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sealdrop/envelope.h"
#include "sealdrop/fileio.h"
#include "sealdrop/sealdrop.h"

#include "bench.h"

static double mib_per_s(uint64_t bytes, double secs)
{
	return (double)bytes / (1024.0 * 1024.0) / secs;
}

/* One pass of the raw primitives over `chunks` chunks of 1 MiB; returns seconds. */
static double raw_seal(uint64_t chunks, uint8_t *pt, uint8_t *ct)
{
	crypto_secretstream_xchacha20poly1305_state st;
	uint8_t key[32], header[24], hash[32];
	double t = bench_now();

	randombytes_buf(key, sizeof(key));
	crypto_secretstream_xchacha20poly1305_init_push(&st, header, key);
	for (uint64_t i = 0; i < chunks; i++) {
		crypto_secretstream_xchacha20poly1305_push(&st, ct, NULL, pt, SD_CHUNK_BYTES, NULL, 0, 0);
		crypto_generichash(hash, sizeof(hash), ct, SD_CHUNK_BYTES + 17, NULL, 0);
	}
	return bench_now() - t;
}

static double raw_open(uint64_t chunks, uint8_t *pt, uint8_t *ct)
{
	crypto_secretstream_xchacha20poly1305_state st;
	uint8_t key[32], header[24], hash[32];
	double t;

	randombytes_buf(key, sizeof(key));
	crypto_secretstream_xchacha20poly1305_init_push(&st, header, key);
	crypto_secretstream_xchacha20poly1305_push(&st, ct, NULL, pt, SD_CHUNK_BYTES, NULL, 0, 0);
	t = bench_now();
	for (uint64_t i = 0; i < chunks; i++) {
		crypto_secretstream_xchacha20poly1305_state s2;
		crypto_secretstream_xchacha20poly1305_init_pull(&s2, header, key);
		crypto_generichash(hash, sizeof(hash), ct, SD_CHUNK_BYTES + 17, NULL, 0);
		if (crypto_secretstream_xchacha20poly1305_pull(&s2, pt, NULL, NULL, ct, SD_CHUNK_BYTES + 17, NULL, 0) !=
		    0)
			abort();
	}
	return bench_now() - t;
}

/* Puts the package in the page cache (warm) or drops it from there (cold). */
static void set_cache(const char *path, bool warm)
{
	static uint8_t buf[1 << 20];
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		abort();
	if (warm)
		while (read(fd, buf, sizeof(buf)) > 0)
			;
	else if (fdatasync(fd) != 0 || posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) != 0)
		abort();
	close(fd);
}

static double time_open(const char *pkg, const char *out, const sd_seckey_t *intake, bool warm)
{
	char cmd[600];
	double t;

	set_cache(pkg, warm);
	t = bench_now();
	if (sd_envelope_open(pkg, intake, out, NULL, NULL, NULL) != 0) {
		fprintf(stderr, "open: %s\n", sd_error_detail());
		exit(1);
	}
	t = bench_now() - t;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", out);
	if (system(cmd) != 0)
		exit(1);
	return t;
}

static double time_kdf(uint64_t ops, size_t mem)
{
	uint8_t out[32], salt[16] = {0};
	double t = bench_now();
	if (crypto_pwhash(out, 32, "abacus abdomen abdominal abide abiding ability ablaze able", 56, salt, ops, mem,
	                  crypto_pwhash_ALG_ARGON2ID13) != 0)
		abort();
	return bench_now() - t;
}

int main(int argc, char **argv)
{
	sd_directory_t d = {.version = 1};
	sd_seckey_t *intake, *identity;
	sd_codename_keys_t *wb;
	struct stat st;
	char pkg[512], out[512], cmd[1200];
	const char *scratch = argc > 2 ? argv[2] : "/tmp";
	uint8_t *pt, *ct;
	double t, seal_s, open_warm, open_cold, rs, ro;

	if (argc < 2 || sd_init() != 0 || stat(argv[1], &st) != 0) {
		fprintf(stderr, "usage: bench_envelope FILE [SCRATCH_DIR]\n");
		return 64;
	}
	uint64_t size = (uint64_t)st.st_size, chunks = size / SD_CHUNK_BYTES;
	snprintf(d.deployment, sizeof(d.deployment), "bench");
	if (sd_seckey_generate(SD_KEY_INTAKE, &intake) || sd_seckey_generate(SD_KEY_IDENTITY, &identity))
		return 70;
	sd_seckey_public(intake, &d.intake);
	sd_seckey_public(identity, &d.identity);
	wb = sodium_malloc(sizeof(*wb));
	randombytes_buf(wb->locator, 32);
	crypto_sign_keypair(wb->consent_pk, wb->consent_sk);
	crypto_box_keypair(wb->notice_pk, wb->notice_sk);
	randombytes_buf(wb->share_wrap, 32);
	pt = malloc(SD_CHUNK_BYTES);
	ct = malloc(SD_CHUNK_BYTES + 64);
	randombytes_buf(pt, SD_CHUNK_BYTES);

	rs = raw_seal(chunks, pt, ct);
	ro = raw_open(chunks, pt, ct);

	snprintf(pkg, sizeof(pkg), "%s/bench-%d.sdx", scratch, (int)getpid());
	snprintf(out, sizeof(out), "%s/bench-%d.out", scratch, (int)getpid());
	sd_evidence_src_t ev = {.path = argv[1]};
	sd_seal_params_t p = {.dir = &d,
	                      .wb = wb,
	                      .report = "{}\n",
	                      .report_len = 3,
	                      .identity = "{}\n",
	                      .identity_len = 3,
	                      .evidence = &ev,
	                      .n_evidence = 1,
	                      .created = sd_date_today()};
	t = bench_now();
	if (sd_envelope_seal(&p, pkg) != 0) {
		fprintf(stderr, "seal: %s\n", sd_error_detail());
		return 1;
	}
	seal_s = bench_now() - t;
	open_cold = time_open(pkg, out, intake, false);
	open_warm = time_open(pkg, out, intake, true);

	printf("file: %.1f MiB\n", (double)size / 1048576.0);
	printf("raw seal  (secretstream push + BLAKE2b, memory): %7.3f s  %8.1f MiB/s\n", rs, mib_per_s(size, rs));
	printf("sealdrop seal (file to file, fsync'd):          %7.3f s  %8.1f MiB/s  ratio %.2fx\n", seal_s,
	       mib_per_s(size, seal_s), rs / seal_s);
	printf("raw open  (BLAKE2b + secretstream pull, memory): %7.3f s  %8.1f MiB/s\n", ro, mib_per_s(size, ro));
	printf("sealdrop open warm (package in page cache):     %7.3f s  %8.1f MiB/s  ratio %.2fx\n", open_warm,
	       mib_per_s(size, open_warm), ro / open_warm);
	printf("sealdrop open cold (package read from disk):    %7.3f s  %8.1f MiB/s  ratio %.2fx\n", open_cold,
	       mib_per_s(size, open_cold), ro / open_cold);
	printf("Argon2id INTERACTIVE (codename, 64 MiB):        %7.3f s\n",
	       time_kdf(crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE));
	printf("Argon2id MODERATE (key files, 256 MiB):         %7.3f s\n",
	       time_kdf(crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", pkg, out);
	if (system(cmd) != 0)
		return 1;
	sd_seckey_free(intake);
	sd_seckey_free(identity);
	sodium_free(wb);
	free(pt);
	free(ct);
	return 0;
}
