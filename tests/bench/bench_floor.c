/*
 * bench_floor.c — the raw baselines of the server's benchmark (scripts/bench-server.sh),
 * measured in the same run as sealdropd and nginx: what the machine's LMDB and libsodium
 * do with nothing around them, so that sealdropd's rates can be read against them.
 *
 *   lmdb    durable puts straight into LMDB: one thread, no network, no hashing, no other
 *           process. Each transaction puts BATCH values of VALUE_BYTES under random keys
 *           of a chunk key's length and commits with LMDB's default sync (data, then meta
 *           page, both on disk before mdb_txn_commit returns) — sealdropd's durability
 *           with its group commit at its best: BATCH requests per commit.
 *   crypto  the libsodium calls a filing makes, one at a time: BLAKE2b-256 of BYTES (a
 *           chunk is hashed as it arrives), Ed25519 signing and verification (a header's
 *           signature is verified at POST /v1/uploads; a receipt and a notice are each
 *           signed and the signature checked before it leaves the key process).
 *
 * Usage:
 *   bench_floor lmdb --dir DIR --value-bytes N --batch B --count N
 *   bench_floor crypto [--bytes N] [--count N]
 * Each prints one RESULT line of key=value fields. lmdb creates DIR (which must not
 * exist) and removes its files before it exits.
 */
#include <errno.h>
#include <getopt.h>
#include <lmdb.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sealdrop/uploads.h"

#include "bench.h"

typedef struct {
	const char *dir;
	size_t value_bytes, batch, count, bytes;
} opts_t;

static void usage(void)
{
	fprintf(stderr, "usage: bench_floor lmdb --dir DIR --value-bytes N --batch B --count N\n"
	                "       bench_floor crypto [--bytes N] [--count N]\n");
	exit(64);
}

static void die(const char *what, const char *why)
{
	fprintf(stderr, "bench_floor: %s: %s\n", what, why);
	exit(1);
}

static size_t num_arg(const char *s, size_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v == 0 || v > max)
		usage();
	return (size_t)v;
}

static void opts_parse(int argc, char **argv, opts_t *o)
{
	static const struct option longs[] = {
	        {"dir", required_argument, NULL, 'd'},   {"value-bytes", required_argument, NULL, 'v'},
	        {"batch", required_argument, NULL, 'b'}, {"count", required_argument, NULL, 'n'},
	        {"bytes", required_argument, NULL, 'B'}, {NULL, 0, NULL, 0}};
	int c;

	*o = (opts_t){.bytes = 64u << 10, .count = 2000};
	optind = 2;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->dir = optarg;
			break;
		case 'v':
			o->value_bytes = num_arg(optarg, 16u << 20);
			break;
		case 'b':
			o->batch = num_arg(optarg, 100000);
			break;
		case 'n':
			o->count = num_arg(optarg, 10000000);
			break;
		case 'B':
			o->bytes = num_arg(optarg, 16u << 20);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
}

/* ---- lmdb ------------------------------------------------------------------------- */

static void lmdb_check(int rc, const char *what)
{
	if (rc != 0)
		die(what, mdb_strerror(rc));
}

/* One transaction of n puts of value under fresh random keys, committed durably. */
static void lmdb_batch(MDB_env *env, size_t n, uint8_t *value, size_t value_bytes)
{
	uint8_t key[SD_UPLOAD_CHUNK_KEY_BYTES];
	MDB_txn *txn;
	MDB_dbi dbi;

	lmdb_check(mdb_txn_begin(env, NULL, 0, &txn), "mdb_txn_begin");
	lmdb_check(mdb_dbi_open(txn, NULL, 0, &dbi), "mdb_dbi_open");
	for (size_t i = 0; i < n; i++) {
		randombytes_buf(key, sizeof(key));
		memcpy(value, key, sizeof(key)); /* each value differs, as chunks do */
		MDB_val k = {sizeof(key), key}, v = {value_bytes, value};
		lmdb_check(mdb_put(txn, dbi, &k, &v, MDB_NOOVERWRITE), "mdb_put");
	}
	lmdb_check(mdb_txn_commit(txn), "mdb_txn_commit");
}

static void lmdb_remove(const char *dir)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	unlink(path);
	rmdir(dir);
}

static int run_lmdb(const opts_t *o)
{
	MDB_env *env;
	uint8_t *value;
	double t, cpu;

	if (o->dir == NULL || o->value_bytes == 0 || o->batch == 0)
		usage();
	if (mkdir(o->dir, 0700) != 0)
		die(o->dir, strerror(errno));
	if ((value = malloc(o->value_bytes)) == NULL)
		die("value", "out of memory");
	randombytes_buf(value, o->value_bytes);
	lmdb_check(mdb_env_create(&env), "mdb_env_create");
	lmdb_check(mdb_env_set_mapsize(env, o->count * (o->value_bytes + 4096) * 2 + (64u << 20)),
	           "mdb_env_set_mapsize");
	lmdb_check(mdb_env_open(env, o->dir, MDB_NOTLS, 0600), "mdb_env_open");
	t = bench_now();
	cpu = bench_cpu_self();
	for (size_t done = 0; done < o->count; done += o->batch)
		lmdb_batch(env, o->count - done < o->batch ? o->count - done : o->batch, value, o->value_bytes);
	t = bench_now() - t;
	cpu = bench_cpu_self() - cpu;
	mdb_env_close(env);
	lmdb_remove(o->dir);
	free(value);
	printf("RESULT mode=raw-lmdb batch=%zu value_bytes=%zu count=%zu secs=%.3f rate=%.1f unit=put/s mb_s=%.1f "
	       "cpu_ms_per_op=%.3f\n",
	       o->batch, o->value_bytes, o->count, t, (double)o->count / t,
	       (double)o->count * (double)o->value_bytes / 1e6 / t, 1000.0 * cpu / (double)o->count);
	return 0;
}

/* ---- crypto ----------------------------------------------------------------------- */

/* Microseconds per call of each primitive, over count calls. */
static int run_crypto(const opts_t *o)
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES], sig[crypto_sign_BYTES];
	uint8_t msg[crypto_generichash_BYTES], hash[crypto_generichash_BYTES];
	uint8_t *data = malloc(o->bytes);
	double t, hash_us, sign_us, verify_us;

	if (data == NULL)
		die("data", "out of memory");
	randombytes_buf(data, o->bytes);
	randombytes_buf(msg, sizeof(msg));
	crypto_sign_keypair(pk, sk);
	t = bench_now();
	for (size_t i = 0; i < o->count; i++)
		crypto_generichash(hash, sizeof(hash), data, o->bytes, NULL, 0);
	hash_us = (bench_now() - t) * 1e6 / (double)o->count;
	t = bench_now();
	for (size_t i = 0; i < o->count; i++)
		crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk);
	sign_us = (bench_now() - t) * 1e6 / (double)o->count;
	t = bench_now();
	for (size_t i = 0; i < o->count; i++)
		if (crypto_sign_verify_detached(sig, msg, sizeof(msg), pk) != 0)
			die("crypto_sign_verify_detached", "a signature just made does not verify");
	verify_us = (bench_now() - t) * 1e6 / (double)o->count;
	sodium_memzero(sk, sizeof(sk));
	free(data);
	printf("RESULT mode=raw-libsodium count=%zu blake2b_bytes=%zu blake2b_us=%.1f blake2b_mb_s=%.1f "
	       "ed25519_sign_us=%.1f ed25519_verify_us=%.1f\n",
	       o->count, o->bytes, hash_us, (double)o->bytes / hash_us, sign_us, verify_us);
	return 0;
}

int main(int argc, char **argv)
{
	opts_t o;

	if (argc < 2)
		usage();
	if (sodium_init() < 0)
		die("sodium_init", "libsodium cannot start");
	opts_parse(argc, argv, &o);
	if (strcmp(argv[1], "lmdb") == 0)
		return run_lmdb(&o);
	if (strcmp(argv[1], "crypto") == 0)
		return run_crypto(&o);
	usage();
	return 64;
}
