/*
 * sd-lmdb.c — a TEST TOOL, never part of sealdropd: reads and edits one named database
 * of a server's LMDB environment (DIR/store), so the end-to-end tests can tamper with a
 * COPY of a stopped server's store (tests/e2e/audit.sh). Start at main().
 *
 *   sd-lmdb DIR get DB KEYHEX          prints the value as hex
 *   sd-lmdb DIR put DB KEYHEX VALHEX
 *   sd-lmdb DIR del DB KEYHEX
 *   sd-lmdb DIR keys DB                prints every key as hex, one a line, in key order
 *   sd-lmdb DIR flip DB KEYHEX OFFSET  inverts every bit of the value's byte at OFFSET (a
 *                                      value too large for a hex argument: a chunk)
 *
 * Keys and values are given in hex, also the ASCII keys of meta ("log_size" is
 * 6c6f675f73697a65). The environment is opened as server/store.c opens it (the same
 * number of named databases), the command runs in one write transaction, and that
 * transaction commits. It takes no lock against a running server: use it only on copies.
 * Exit status 0, or 1 with a message on stderr.
 */
#include <errno.h>
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sealdrop/bytes.h"
#include "sealdrop/store.h"

static const char usage[] = "usage: sd-lmdb DIR get|del DB KEYHEX\n"
                            "       sd-lmdb DIR put DB KEYHEX VALHEX\n"
                            "       sd-lmdb DIR flip DB KEYHEX OFFSET\n"
                            "       sd-lmdb DIR keys DB\n";

/* Decodes hex text into a malloc'd buffer (at least 1 byte, so an empty value works). */
static int hex_arg(const char *what, const char *hex, MDB_val *out)
{
	size_t n = strlen(hex);
	uint8_t *buf;

	if (n % 2 != 0 || (buf = malloc(n / 2 + 1)) == NULL) {
		fprintf(stderr, "sd-lmdb: %s must be an even number of hexadecimal digits\n", what);
		return -1;
	}
	if (sd_hex_decode(hex, buf, n / 2) < 0) {
		fprintf(stderr, "sd-lmdb: %s is not hexadecimal\n", what);
		free(buf);
		return -1;
	}
	out->mv_data = buf;
	out->mv_size = n / 2;
	return 0;
}

static void print_hex(const MDB_val *v)
{
	const uint8_t *p = v->mv_data;

	for (size_t i = 0; i < v->mv_size; i++)
		printf("%02x", p[i]);
	printf("\n");
}

static int list_keys(MDB_txn *txn, MDB_dbi dbi)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
		return rc;
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0)
		print_hex(&k);
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Inverts the byte at offset of key's value, in place (a copy put back). */
static int flip(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, const char *offset)
{
	char *end;
	unsigned long long off = strtoull(offset, &end, 10);
	MDB_val v;
	uint8_t *copy;
	int rc;

	if ((rc = mdb_get(txn, dbi, key, &v)) != 0)
		return rc;
	if (*offset == '\0' || *end != '\0' || off >= v.mv_size) {
		fprintf(stderr, "sd-lmdb: offset %s is not within the value's %zu bytes\n", offset, v.mv_size);
		return EINVAL;
	}
	if ((copy = malloc(v.mv_size)) == NULL)
		return ENOMEM;
	memcpy(copy, v.mv_data, v.mv_size);
	copy[off] ^= 0xff;
	v.mv_data = copy;
	rc = mdb_put(txn, dbi, key, &v, 0);
	free(copy);
	return rc;
}

/* Runs the command in txn; rc is LMDB's. */
static int run(MDB_txn *txn, MDB_dbi dbi, char **argv, MDB_val *key, MDB_val *val)
{
	const char *cmd = argv[2];
	int rc;

	if (strcmp(cmd, "keys") == 0)
		return list_keys(txn, dbi);
	if (strcmp(cmd, "put") == 0)
		return mdb_put(txn, dbi, key, val, 0);
	if (strcmp(cmd, "del") == 0)
		return mdb_del(txn, dbi, key, NULL);
	if (strcmp(cmd, "flip") == 0)
		return flip(txn, dbi, key, argv[5]);
	if ((rc = mdb_get(txn, dbi, key, val)) == 0)
		print_hex(val);
	return rc;
}

/* Checks the command's arguments; 0, or -1 after a message. */
static int parse_args(int argc, char **argv, MDB_val *key, MDB_val *val)
{
	const char *cmd = argc >= 3 ? argv[2] : "";
	int want = strcmp(cmd, "keys") == 0 ? 4 : strcmp(cmd, "put") == 0 || strcmp(cmd, "flip") == 0 ? 6 : 5;

	if (argc != want || (strcmp(cmd, "get") != 0 && strcmp(cmd, "del") != 0 && strcmp(cmd, "put") != 0 &&
	                     strcmp(cmd, "keys") != 0 && strcmp(cmd, "flip") != 0)) {
		fputs(usage, stderr);
		return -1;
	}
	if (want >= 5 && hex_arg("KEYHEX", argv[4], key) < 0)
		return -1;
	if (want == 6 && strcmp(cmd, "put") == 0 && hex_arg("VALHEX", argv[5], val) < 0)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	MDB_val key = {0, NULL}, val = {0, NULL};
	void *kbuf, *vbuf;
	const char *step = "mdb_env_create";
	int rc, status = 1;

	if (parse_args(argc, argv, &key, &val) < 0)
		return 1;
	kbuf = key.mv_data;
	vbuf = val.mv_data;
	if ((rc = mdb_env_create(&env)) != 0 ||
	    (step = "mdb_env_set_maxdbs", rc = mdb_env_set_maxdbs(env, SD_STORE_DB_COUNT)) != 0 ||
	    (step = "mdb_env_set_mapsize", rc = mdb_env_set_mapsize(env, SD_STORE_MAPSIZE_DEFAULT)) != 0 ||
	    (step = "mdb_env_open", rc = mdb_env_open(env, argv[1], MDB_NOTLS, 0600)) != 0 ||
	    (step = "mdb_txn_begin", rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0 ||
	    (step = "mdb_dbi_open", rc = mdb_dbi_open(txn, argv[3], 0, &dbi)) != 0 ||
	    (step = argv[2], rc = run(txn, dbi, argv, &key, &val)) != 0)
		goto out;
	step = "mdb_txn_commit";
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc == 0)
		status = 0;
out:
	if (status != 0)
		fprintf(stderr, "sd-lmdb: %s %s: %s: %s\n", argv[1], argc > 3 ? argv[3] : "", step, mdb_strerror(rc));
	if (txn != NULL)
		mdb_txn_abort(txn);
	if (env != NULL)
		mdb_env_close(env);
	free(kbuf);
	free(vbuf);
	return status;
}
