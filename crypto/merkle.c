/*
 * merkle.c — the audit log's Merkle tree (include/sealdrop/merkle.h), hashed as RFC 9162
 * section 2.1 hashes it. Start with sd_merkle_range_nodes: every hash the server serves is
 * the right fold of a few complete subtrees, so the proof "plans" below only say which
 * leaf ranges the RFC's recursion visits; the verifiers are the RFC's algorithms
 * (§2.1.3.2, §2.1.4.2) step for step, after a count of the hashes each will consume so a
 * proof with a hash too many or too few is refused with a message that says so.
 * Nothing here allocates, and nothing recurses: the RFC's recursions are loops that walk
 * from the root down and then reverse what they collected (the RFC lists leaf-side first).
 */
#include <inttypes.h>
#include <string.h>
#include <sodium.h>

#include "sealdrop/merkle.h"
#include "sealdrop/sealdrop.h"

_Static_assert(SD_MERKLE_HASH_BYTES == crypto_hash_sha256_BYTES, "RFC 9162 trees hash with SHA-256");
_Static_assert(SD_MERKLE_SIZE_MAX >> (SD_MERKLE_LEVELS - 1) == 1, "levels 0..62 cover every size below the max");

enum { LEAF_PREFIX = 0x00, NODE_PREFIX = 0x01 };

void sd_merkle_leaf_hash(const uint8_t *leaf, size_t len, uint8_t out[SD_MERKLE_HASH_BYTES])
{
	static const uint8_t prefix = LEAF_PREFIX;
	crypto_hash_sha256_state st;

	(void)crypto_hash_sha256_init(&st);
	(void)crypto_hash_sha256_update(&st, &prefix, 1);
	if (len > 0)
		(void)crypto_hash_sha256_update(&st, leaf, len);
	(void)crypto_hash_sha256_final(&st, out);
}

void sd_merkle_node_hash(const uint8_t left[SD_MERKLE_HASH_BYTES], const uint8_t right[SD_MERKLE_HASH_BYTES],
                         uint8_t out[SD_MERKLE_HASH_BYTES])
{
	uint8_t buf[1 + 2 * SD_MERKLE_HASH_BYTES];

	/* out may be left or right (the folds below hash in place), so read both first. */
	buf[0] = NODE_PREFIX;
	memcpy(buf + 1, left, SD_MERKLE_HASH_BYTES);
	memcpy(buf + 1 + SD_MERKLE_HASH_BYTES, right, SD_MERKLE_HASH_BYTES);
	(void)crypto_hash_sha256(out, buf, sizeof(buf));
}

void sd_merkle_empty_root(uint8_t out[SD_MERKLE_HASH_BYTES])
{
	(void)crypto_hash_sha256(out, NULL, 0);
}

/* The largest power of two strictly below n (n >= 2): the RFC's split point k. */
static uint64_t split_below(uint64_t n)
{
	uint64_t k = 1;

	while (k < n - k)
		k <<= 1;
	return k;
}

/* The largest power of two not above n (n >= 1). */
static uint64_t pow2_floor(uint64_t n)
{
	return (uint64_t)1 << (63 - __builtin_clzll(n));
}

size_t sd_merkle_range_nodes(uint64_t begin, uint64_t end, sd_merkle_node_t out[SD_MERKLE_RANGE_MAX])
{
	size_t count = 0;

	if (begin >= end || end >= SD_MERKLE_SIZE_MAX)
		return 0;
	/* Only such ranges are MTH-shaped: their left part is always one aligned subtree. */
	if (begin % pow2_floor(end - begin) != 0)
		return 0;
	for (int level = SD_MERKLE_LEVELS - 1; level >= 0 && begin < end; level--) {
		uint64_t width = (uint64_t)1 << level;
		if (end - begin < width)
			continue;
		out[count].level = (uint8_t)level;
		out[count].index = begin >> level;
		count++;
		begin += width;
	}
	return count;
}

void sd_merkle_fold(const uint8_t (*hashes)[SD_MERKLE_HASH_BYTES], size_t n, uint8_t out[SD_MERKLE_HASH_BYTES])
{
	uint8_t acc[SD_MERKLE_HASH_BYTES];

	/* No subtrees cover no leaves: the empty tree's root, rather than reading hashes[-1]. */
	if (n == 0) {
		sd_merkle_empty_root(out);
		return;
	}
	memcpy(acc, hashes[n - 1], sizeof(acc));
	for (size_t i = n - 1; i > 0; i--)
		sd_merkle_node_hash(hashes[i - 1], acc, acc);
	memcpy(out, acc, sizeof(acc));
}

static void reverse_ranges(sd_merkle_range_t *r, size_t n)
{
	for (size_t i = 0; i < n / 2; i++) {
		sd_merkle_range_t t = r[i];
		r[i] = r[n - 1 - i];
		r[n - 1 - i] = t;
	}
}

static int push_range(sd_merkle_range_t out[SD_MERKLE_PROOF_MAX], size_t *n, uint64_t begin, uint64_t end)
{
	if (*n >= SD_MERKLE_PROOF_MAX)
		return sd_error(SD_ERR_INTERNAL, "a Merkle proof plan is longer than %d hashes", SD_MERKLE_PROOF_MAX);
	out[*n].begin = begin;
	out[*n].end = end;
	(*n)++;
	return 0;
}

/*
 * PATH(m, D[n]): in the subtree [lo, hi) holding the leaf, split at k; the sibling half is
 * one element of the path and the walk goes on in the leaf's half. The root's split gives
 * the path's last element, so the list is reversed at the end.
 */
int sd_merkle_inclusion_plan(uint64_t index, uint64_t size, sd_merkle_range_t out[SD_MERKLE_PROOF_MAX], size_t *n)
{
	uint64_t lo = 0, hi = size;
	int r;

	*n = 0;
	if (size >= SD_MERKLE_SIZE_MAX)
		return sd_error(SD_ERR_USAGE, "a tree of %" PRIu64 " leaves is beyond the limit", size);
	if (index >= size)
		return sd_error(SD_ERR_USAGE, "leaf %" PRIu64 " is not in a tree of %" PRIu64 " leaves", index, size);
	while (hi - lo > 1) {
		uint64_t mid = lo + split_below(hi - lo);
		if (index < mid) {
			r = push_range(out, n, mid, hi);
			hi = mid;
		} else {
			r = push_range(out, n, lo, mid);
			lo = mid;
		}
		if (r < 0)
			return r;
	}
	reverse_ranges(out, *n);
	return 0;
}

/*
 * PROOF(m, D[n]) = SUBPROOF(m, D[n], true): while the old tree's size m is not the whole
 * subtree [lo, hi), split at k; m at or left of the split keeps the right half MTH(D[k:n])
 * as an element and goes left, otherwise the left half MTH(D[0:k]) is an element and the
 * walk goes right with b = false. Where m fills the subtree, SUBPROOF adds MTH of it unless
 * b is still true (the old root itself, which the verifier already holds).
 */
int sd_merkle_consistency_plan(uint64_t from, uint64_t to, sd_merkle_range_t out[SD_MERKLE_PROOF_MAX], size_t *n)
{
	uint64_t lo = 0, hi = to;
	bool whole = true;
	int r = 0;

	*n = 0;
	if (to >= SD_MERKLE_SIZE_MAX)
		return sd_error(SD_ERR_USAGE, "a tree of %" PRIu64 " leaves is beyond the limit", to);
	if (from == 0 || from > to)
		return sd_error(SD_ERR_USAGE, "no consistency proof from %" PRIu64 " to %" PRIu64 " leaves", from, to);
	while (from != hi) {
		uint64_t mid = lo + split_below(hi - lo);
		if (from <= mid) {
			r = push_range(out, n, mid, hi);
			hi = mid;
		} else {
			r = push_range(out, n, lo, mid);
			lo = mid;
			whole = false;
		}
		if (r < 0)
			return r;
	}
	if (!whole && (r = push_range(out, n, lo, hi)) < 0)
		return r;
	reverse_ranges(out, *n);
	return 0;
}

/* How many hashes §2.1.3.2's loop consumes for (index, size) before sn reaches 0. */
static size_t inclusion_proof_len(uint64_t fn, uint64_t sn)
{
	size_t len = 0;

	while (sn != 0) {
		if ((fn & 1) == 0 && fn == sn) {
			while ((fn & 1) == 0 && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		}
		fn >>= 1;
		sn >>= 1;
		len++;
	}
	return len;
}

int sd_merkle_verify_inclusion(uint64_t index, uint64_t size, const uint8_t leaf_hash[SD_MERKLE_HASH_BYTES],
                               const uint8_t (*proof)[SD_MERKLE_HASH_BYTES], size_t n,
                               const uint8_t root[SD_MERKLE_HASH_BYTES])
{
	uint8_t r[SD_MERKLE_HASH_BYTES];
	uint64_t fn, sn;
	size_t need;

	if (size >= SD_MERKLE_SIZE_MAX)
		return sd_error(SD_ERR_VERIFY, "a tree of %" PRIu64 " leaves is beyond the limit", size);
	/* Step 1. */
	if (index >= size)
		return sd_error(SD_ERR_VERIFY, "leaf %" PRIu64 " is not in a tree of %" PRIu64 " leaves", index, size);
	need = inclusion_proof_len(index, size - 1);
	if (n != need)
		return sd_error(SD_ERR_VERIFY,
		                "the inclusion proof has %zu hashes, leaf %" PRIu64 " of a tree of %" PRIu64
		                " leaves needs %zu",
		                n, index, size, need);
	/* Steps 2-4. */
	fn = index;
	sn = size - 1;
	memcpy(r, leaf_hash, sizeof(r));
	for (size_t i = 0; i < n; i++) {
		if (sn == 0)
			return sd_error(SD_ERR_VERIFY, "the inclusion proof has more hashes than the tree has levels");
		if ((fn & 1) == 1 || fn == sn) {
			sd_merkle_node_hash(proof[i], r, r);
			while ((fn & 1) == 0 && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			sd_merkle_node_hash(r, proof[i], r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	/* Step 5. */
	if (sn != 0)
		return sd_error(SD_ERR_VERIFY, "the inclusion proof stops below the root");
	if (!sd_equal(r, root, sizeof(r)))
		return sd_error(SD_ERR_VERIFY, "the inclusion proof's root differs from the tree head's");
	return 0;
}

static bool is_pow2(uint64_t x)
{
	return x != 0 && (x & (x - 1)) == 0;
}

/* How many hashes §2.1.4.2 consumes for 0 < first < second, counting the first_hash it
 * prepends itself when first is a power of two, and not counting it in the result. */
static size_t consistency_proof_len(uint64_t first, uint64_t second)
{
	uint64_t fn = first - 1, sn = second - 1;
	size_t len = 1;

	while ((fn & 1) == 1) {
		fn >>= 1;
		sn >>= 1;
	}
	while (sn != 0) {
		if ((fn & 1) == 1 || fn == sn) {
			while ((fn & 1) == 0 && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		}
		fn >>= 1;
		sn >>= 1;
		len++;
	}
	return is_pow2(first) ? len - 1 : len;
}

/* The sizes §2.1.4.2 does not cover (from == 0, from >= to, out of range): their verdict,
 * or 1 when 0 < from < to and the RFC's algorithm decides. */
static int consistency_trivial(uint64_t from, uint64_t to, const uint8_t from_root[SD_MERKLE_HASH_BYTES],
                               const uint8_t to_root[SD_MERKLE_HASH_BYTES], size_t n)
{
	uint8_t empty[SD_MERKLE_HASH_BYTES];

	if (to >= SD_MERKLE_SIZE_MAX)
		return sd_error(SD_ERR_VERIFY, "a tree of %" PRIu64 " leaves is beyond the limit", to);
	if (from > to)
		return sd_error(SD_ERR_VERIFY, "the tree shrank from %" PRIu64 " to %" PRIu64 " leaves", from, to);
	if (from < to && from > 0)
		return 1;
	if (n != 0)
		return sd_error(SD_ERR_VERIFY,
		                "the consistency proof has %zu hashes, from %" PRIu64 " to %" PRIu64
		                " leaves needs none",
		                n, from, to);
	sd_merkle_empty_root(empty);
	if (from == 0 && !sd_equal(from_root, empty, sizeof(empty)))
		return sd_error(SD_ERR_VERIFY, "the earlier head has 0 leaves but not the empty tree's root");
	if (from == to && !sd_equal(from_root, to_root, SD_MERKLE_HASH_BYTES))
		return sd_error(SD_ERR_VERIFY, "two heads of %" PRIu64 " leaves have different roots", to);
	return 0;
}

/* Step 6b of §2.1.4.2 for one proof hash c. */
static void consistency_step(const uint8_t c[SD_MERKLE_HASH_BYTES], uint8_t fr[SD_MERKLE_HASH_BYTES],
                             uint8_t sr[SD_MERKLE_HASH_BYTES], uint64_t *fn, uint64_t *sn)
{
	if ((*fn & 1) == 1 || *fn == *sn) {
		sd_merkle_node_hash(c, fr, fr);
		sd_merkle_node_hash(c, sr, sr);
		while ((*fn & 1) == 0 && *fn != 0) {
			*fn >>= 1;
			*sn >>= 1;
		}
	} else {
		sd_merkle_node_hash(sr, c, sr);
	}
}

int sd_merkle_verify_consistency(uint64_t from, uint64_t to, const uint8_t from_root[SD_MERKLE_HASH_BYTES],
                                 const uint8_t to_root[SD_MERKLE_HASH_BYTES],
                                 const uint8_t (*proof)[SD_MERKLE_HASH_BYTES], size_t n)
{
	uint8_t fr[SD_MERKLE_HASH_BYTES], sr[SD_MERKLE_HASH_BYTES];
	uint64_t fn, sn;
	size_t need, i = 0;
	int r;

	if ((r = consistency_trivial(from, to, from_root, to_root, n)) <= 0)
		return r;
	need = consistency_proof_len(from, to);
	if (n != need)
		return sd_error(SD_ERR_VERIFY,
		                "the consistency proof has %zu hashes, from %" PRIu64 " to %" PRIu64
		                " leaves needs %zu",
		                n, from, to, need);
	/* Steps 1-5; step 2 prepends first_hash, which here means starting from it. */
	if (n == 0)
		return sd_error(SD_ERR_VERIFY, "the consistency proof is empty");
	fn = from - 1;
	sn = to - 1;
	while ((fn & 1) == 1) {
		fn >>= 1;
		sn >>= 1;
	}
	memcpy(fr, is_pow2(from) ? from_root : proof[i++], sizeof(fr));
	memcpy(sr, fr, sizeof(sr));
	/* Step 6. */
	for (; i < n; i++) {
		if (sn == 0)
			return sd_error(SD_ERR_VERIFY,
			                "the consistency proof has more hashes than the tree has levels");
		consistency_step(proof[i], fr, sr, &fn, &sn);
		fn >>= 1;
		sn >>= 1;
	}
	/* Step 7. */
	if (sn != 0)
		return sd_error(SD_ERR_VERIFY, "the consistency proof stops below the root");
	if (!sd_equal(fr, from_root, sizeof(fr)))
		return sd_error(SD_ERR_VERIFY, "the consistency proof's old root differs from the earlier head's");
	if (!sd_equal(sr, to_root, sizeof(sr)))
		return sd_error(SD_ERR_VERIFY, "the consistency proof's new root differs from the later head's");
	return 0;
}

void sd_merkle_stream_init(sd_merkle_stream_t *st)
{
	memset(st, 0, sizeof(*st));
}

int sd_merkle_stream_push(sd_merkle_stream_t *st, const uint8_t leaf_hash[SD_MERKLE_HASH_BYTES])
{
	uint8_t h[SD_MERKLE_HASH_BYTES];
	int level = 0;

	if (st->size >= SD_MERKLE_SIZE_MAX - 1)
		return sd_error(SD_ERR_TOOBIG, "the tree already has %" PRIu64 " leaves, the most it may hold",
		                st->size);
	/* Each set low bit of size is a complete subtree the new leaf's subtree joins. */
	memcpy(h, leaf_hash, sizeof(h));
	while ((st->size >> level) & 1) {
		sd_merkle_node_hash(st->stack[level], h, h);
		level++;
	}
	memcpy(st->stack[level], h, sizeof(h));
	st->size++;
	return 0;
}

void sd_merkle_stream_root(const sd_merkle_stream_t *st, uint8_t out[SD_MERKLE_HASH_BYTES])
{
	uint8_t acc[SD_MERKLE_HASH_BYTES];
	bool any = false;

	/* The right fold of the size's subtrees, smallest (rightmost) first. */
	for (int level = 0; level < SD_MERKLE_LEVELS; level++) {
		if (((st->size >> level) & 1) == 0)
			continue;
		if (any)
			sd_merkle_node_hash(st->stack[level], acc, acc);
		else
			memcpy(acc, st->stack[level], sizeof(acc));
		any = true;
	}
	if (any)
		memcpy(out, acc, sizeof(acc));
	else
		sd_merkle_empty_root(out);
}
