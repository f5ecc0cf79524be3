/*
 * store_log.c — the store's LOG-APPEND operation: one leaf appended to the audit log's
 * Merkle tree inside the caller's LMDB transaction (include/sealdrop/store.h, "The audit
 * log"; include/sealdrop/merkle.h).
 *
 * Appending leaf n writes the leaf, its hash as the node (0, n), and then, for as long as
 * the new node is a right child — while bit L of n is set — the parent (L+1, n >> (L+1))
 * from the stored left sibling (L, (n >> L) - 1) and the new node. That is at most one
 * write per level, one on average: every stored node is a complete subtree and never
 * changes again, so proofs and roots for any published size read only stored nodes.
 * Every node written ends at leaf n, the largest leaf so far, so its key (last leaf,
 * level) sorts after every key stored: the leaf and the nodes are written with
 * MDB_APPEND, and a key that does not sort last (MDB_KEYEXIST) means a damaged log.
 * Runs on the store thread; the caller's nested transaction makes it atomic with the
 * event it records.
 */
#include <string.h>

#include "sealdrop/bytes.h"
#include "sealdrop/merkle.h"
#include "sealdrop/store.h"
#include "store_int.h"

static int read_size(MDB_txn *txn, const store_log_dbs_t *dbs, uint64_t *size, const char **what)
{
	MDB_val k = {.mv_size = strlen(SD_STORE_LOG_SIZE_KEY), .mv_data = (void *)SD_STORE_LOG_SIZE_KEY}, v;
	int rc = mdb_get(txn, dbs->meta, &k, &v);

	*size = 0;
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0) {
		*what = "mdb_get (log size)";
		return rc;
	}
	if (v.mv_size != 8) {
		*what = "the log size is not 8 bytes";
		return STORE_LOG_CORRUPT;
	}
	*size = sd_load_le64(v.mv_data);
	if (*size >= SD_MERKLE_SIZE_MAX - 1) {
		*what = "the log size is out of range";
		return STORE_LOG_CORRUPT;
	}
	return 0;
}

static int put(MDB_txn *txn, MDB_dbi dbi, void *key, size_t klen, void *val, size_t vlen, unsigned flags,
               const char *name, const char **what)
{
	MDB_val k = {.mv_size = klen, .mv_data = key}, v = {.mv_size = vlen, .mv_data = val};
	int rc = mdb_put(txn, dbi, &k, &v, flags);

	if (rc == MDB_KEYEXIST) {
		*what = "a leaf or node is stored past the log's size";
		return STORE_LOG_CORRUPT;
	}
	if (rc != 0)
		*what = name;
	return rc;
}

/* Stores the node (0, n) and every parent it completes. */
static int put_nodes(MDB_txn *txn, const store_log_dbs_t *dbs, uint64_t n, uint8_t hash[SD_MERKLE_HASH_BYTES],
                     const char **what)
{
	uint8_t key[SD_STORE_LOG_NODE_KEY];
	MDB_val k = {.mv_size = sizeof(key), .mv_data = key}, v;
	unsigned level = 0;
	int rc;

	for (;;) {
		sd_store_log_node_key(key, level, n >> level);
		if ((rc = put(txn, dbs->nodes, key, sizeof(key), hash, SD_MERKLE_HASH_BYTES, MDB_APPEND,
		              "mdb_put (log node)", what)) != 0)
			return rc;
		if (((n >> level) & 1) == 0)
			return 0;
		sd_store_log_node_key(key, level, (n >> level) - 1);
		if ((rc = mdb_get(txn, dbs->nodes, &k, &v)) != 0 || v.mv_size != SD_MERKLE_HASH_BYTES) {
			*what = "a left sibling of the new leaf is missing";
			return rc == MDB_NOTFOUND || rc == 0 ? STORE_LOG_CORRUPT : rc;
		}
		sd_merkle_node_hash(v.mv_data, hash, hash);
		level++;
	}
}

int store_log_append(MDB_txn *txn, const store_log_dbs_t *dbs, const MDB_val *leaf, const MDB_val *case_key,
                     uint64_t *index, const char **what)
{
	uint8_t idx[8], size_le[8], hash[SD_MERKLE_HASH_BYTES], ckey[SD_STORE_KEY_MAX];
	uint64_t n;
	int rc;

	if ((rc = read_size(txn, dbs, &n, what)) != 0)
		return rc;
	sd_store_be64(idx, n);
	if ((rc = put(txn, dbs->leaves, idx, sizeof(idx), leaf->mv_data, leaf->mv_size, MDB_APPEND,
	              "mdb_put (log leaf)", what)) != 0)
		return rc;
	sd_merkle_leaf_hash(leaf->mv_data, leaf->mv_size, hash);
	if ((rc = put_nodes(txn, dbs, n, hash, what)) != 0)
		return rc;
	sd_store_le64(size_le, n + 1);
	if ((rc = put(txn, dbs->meta, (void *)SD_STORE_LOG_SIZE_KEY, strlen(SD_STORE_LOG_SIZE_KEY), size_le,
	              sizeof(size_le), 0, "mdb_put (log size)", what)) != 0)
		return rc;
	if (case_key != NULL) {
		if (case_key->mv_size > sizeof(ckey) - sizeof(idx)) {
			*what = "the case key is too long";
			return STORE_LOG_CORRUPT;
		}
		memcpy(ckey, case_key->mv_data, case_key->mv_size);
		memcpy(ckey + case_key->mv_size, idx, sizeof(idx));
		if ((rc = put(txn, dbs->case_events, ckey, case_key->mv_size + sizeof(idx), NULL, 0, 0,
		              "mdb_put (case event)", what)) != 0)
			return rc;
	}
	*index = n;
	return 0;
}
