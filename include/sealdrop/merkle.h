/*
 * merkle.h — the audit log's Merkle tree, hashed as RFC 9162 (Certificate Transparency
 * 2.0) section 2.1 hashes it: SHA-256, a leaf hashed as SHA-256(0x00 ‖ leaf), an inner
 * node as SHA-256(0x01 ‖ left ‖ right), the tree over n leaves split at the largest power
 * of two below n (DESIGN.md, Audit log; docs/FORMAT.md, "Audit log").
 *
 * The server never holds the whole tree in memory. It stores the hash of every *complete*
 * subtree — the node (level L, index i) covers leaves [i·2^L, (i+1)·2^L) — as leaves are
 * appended, and any other hash the RFC needs (the root of a tree of size n, a proof's
 * right-edge subtree) is the fold of a few complete subtrees. So a proof is computed in
 * two steps, each of them pure:
 *
 *   1. plan: sd_merkle_inclusion_plan / sd_merkle_consistency_plan give the proof as a
 *      list of leaf ranges [begin, end), in the RFC's order;
 *   2. each range is the fold of the complete subtrees sd_merkle_range_nodes lists, which
 *      the caller looks up (in LMDB) and folds with sd_merkle_fold.
 *
 * The verifiers are the RFC's algorithms (9162 §2.1.3.2 and §2.1.4.2), used by clients.
 * Sizes and indexes are uint64_t below SD_MERKLE_SIZE_MAX.
 */
#ifndef SEALDROP_MERKLE_H
#define SEALDROP_MERKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sealdrop/error.h"

#define SD_MERKLE_HASH_BYTES 32
#define SD_MERKLE_SIZE_MAX   ((uint64_t)1 << 62) /* leaves in a tree, exclusive */
#define SD_MERKLE_LEVELS     63                  /* levels 0..62 of complete subtrees */
#define SD_MERKLE_PROOF_MAX  128                 /* hashes in any proof of a tree below SIZE_MAX */
#define SD_MERKLE_RANGE_MAX  64                  /* complete subtrees in one range */

/* A complete subtree: leaves [index << level, (index + 1) << level). */
typedef struct {
	uint8_t level;
	uint64_t index;
} sd_merkle_node_t;

/* Leaves [begin, end), begin < end. */
typedef struct {
	uint64_t begin, end;
} sd_merkle_range_t;

/* SHA-256(0x00 ‖ leaf). */
void sd_merkle_leaf_hash(const uint8_t *leaf, size_t len, uint8_t out[SD_MERKLE_HASH_BYTES]);
/* SHA-256(0x01 ‖ left ‖ right). out may be left or right. */
void sd_merkle_node_hash(const uint8_t left[SD_MERKLE_HASH_BYTES], const uint8_t right[SD_MERKLE_HASH_BYTES],
                         uint8_t out[SD_MERKLE_HASH_BYTES]);
/* The root of the empty tree, SHA-256 of nothing. */
void sd_merkle_empty_root(uint8_t out[SD_MERKLE_HASH_BYTES]);

/* The complete subtrees whose fold is MTH(D[begin:end]), left to right, largest first;
 * returns how many (1..SD_MERKLE_RANGE_MAX), or 0 when the range is empty or invalid.
 * The RFC's recursion only ever splits a tree into ranges whose begin is a multiple of
 * the largest power of two not above their size, and for those this decomposition is
 * the RFC's: that is the only kind of range the plans below produce, and the root of a
 * tree, [0, n), is one too. */
size_t sd_merkle_range_nodes(uint64_t begin, uint64_t end, sd_merkle_node_t out[SD_MERKLE_RANGE_MAX]);

/* MTH of a range from its complete subtrees' hashes, in sd_merkle_range_nodes' order:
 * the right fold H(h0, H(h1, ... H(h[n-2], h[n-1]))). n >= 1. */
void sd_merkle_fold(const uint8_t (*hashes)[SD_MERKLE_HASH_BYTES], size_t n, uint8_t out[SD_MERKLE_HASH_BYTES]);

/* The inclusion proof of leaf `index` in the tree of `size` leaves (RFC 9162 §2.1.3.1,
 * PATH(m, D[n])) as ranges, nearest the leaf first: SD_ERR_USAGE unless index < size <
 * SD_MERKLE_SIZE_MAX. *n may be 0 (a tree of one leaf). */
int sd_merkle_inclusion_plan(uint64_t index, uint64_t size, sd_merkle_range_t out[SD_MERKLE_PROOF_MAX],
                             size_t *n) SD_WUR;

/* The consistency proof between the trees of `from` and `to` leaves (RFC 9162 §2.1.4.1,
 * PROOF(m, D[n])): SD_ERR_USAGE unless 0 < from <= to < SD_MERKLE_SIZE_MAX. *n is 0 when
 * from == to. */
int sd_merkle_consistency_plan(uint64_t from, uint64_t to, sd_merkle_range_t out[SD_MERKLE_PROOF_MAX],
                               size_t *n) SD_WUR;

/* RFC 9162 §2.1.3.2: 0 when the proof puts leaf_hash at index in the tree of size with
 * this root; SD_ERR_VERIFY (the detail says which check failed) otherwise, and for an
 * index not below size. */
int sd_merkle_verify_inclusion(uint64_t index, uint64_t size, const uint8_t leaf_hash[SD_MERKLE_HASH_BYTES],
                               const uint8_t (*proof)[SD_MERKLE_HASH_BYTES], size_t n,
                               const uint8_t root[SD_MERKLE_HASH_BYTES]) SD_WUR;

/* RFC 9162 §2.1.4.2: 0 when the proof shows the tree of size `to` with to_root extends
 * the tree of size `from` with from_root; SD_ERR_VERIFY otherwise. from == to needs an
 * empty proof and equal roots. from == 0 (the empty tree) is consistent with every tree,
 * with an empty proof. from > to is SD_ERR_VERIFY (a tree never shrinks). */
int sd_merkle_verify_consistency(uint64_t from, uint64_t to, const uint8_t from_root[SD_MERKLE_HASH_BYTES],
                                 const uint8_t to_root[SD_MERKLE_HASH_BYTES],
                                 const uint8_t (*proof)[SD_MERKLE_HASH_BYTES], size_t n) SD_WUR;

/* Streaming root computation, O(log n) memory: push leaf hashes in order; the root of
 * the leaves pushed so far at any time. For recomputing a whole tree from its leaves
 * (sealdropd audit check) and for tests. */
typedef struct {
	uint64_t size;
	uint8_t stack[SD_MERKLE_LEVELS][SD_MERKLE_HASH_BYTES]; /* one complete subtree per set bit of size */
} sd_merkle_stream_t;

void sd_merkle_stream_init(sd_merkle_stream_t *st);
/* SD_ERR_TOOBIG at SD_MERKLE_SIZE_MAX leaves. */
int sd_merkle_stream_push(sd_merkle_stream_t *st, const uint8_t leaf_hash[SD_MERKLE_HASH_BYTES]) SD_WUR;
/* MTH of everything pushed (the empty root for none). */
void sd_merkle_stream_root(const sd_merkle_stream_t *st, uint8_t out[SD_MERKLE_HASH_BYTES]);

#endif
