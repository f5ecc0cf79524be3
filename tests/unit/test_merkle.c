/*
 * test_merkle.c — the audit log's Merkle tree (crypto/merkle.c) against a reference written
 * here straight from the text of RFC 9162 section 2.1: MTH, PATH, PROOF and SUBPROOF as
 * the RFC's recursions over an array of leaf hashes, hashing with libsodium directly.
 *
 * The test tree's leaf i is the ASCII bytes "leaf " followed by i in decimal ("leaf 0",
 * "leaf 1", ..., "leaf 299"), as in tests/vectors/merkle.py and docs/FORMAT.md. For every
 * size 1..300 and every leaf, and for every pair of sizes 1 <= m <= n <= 300, the plans
 * are resolved the way the server resolves them — sd_merkle_range_nodes, then the hashes
 * of those complete subtrees computed once from the real leaves, then sd_merkle_fold —
 * and must equal the reference proofs hash for hash, and the verifiers must accept them
 * and refuse them altered. Known answers, computed independently by
 * tests/vectors/merkle.py, pin the hashing to the RFC 6962 reference data.
 */
#include "unit.h"

#include <inttypes.h>
#include <stdbool.h>
#include <sodium.h>

#include "sealdrop/merkle.h"

#define N      300
#define LEVELS 9 /* complete subtrees of up to 256 leaves */
#define HB     SD_MERKLE_HASH_BYTES

typedef uint8_t hash_t[HB];

/* A tree of up to N leaves: its leaf hashes and the hash of each complete subtree, the way
 * the server stores them (sub[level][index] covers leaves [index << level, ...)). */
struct tree {
	size_t n;
	hash_t sub[LEVELS][N];
};

static struct tree test_tree, ct_tree;

/* --- the reference, from RFC 9162 §2.1 --------------------------------------------- */

static hash_t memo[N + 1][N + 1];
static bool memo_set[N + 1][N + 1];

/* "the largest power of two smaller than n" */
static size_t ref_split(size_t n)
{
	size_t k = 1;
	while (2 * k < n)
		k *= 2;
	return k;
}

static void ref_leaf_hash(const uint8_t *leaf, size_t len, hash_t out)
{
	crypto_hash_sha256_state st;
	uint8_t zero = 0x00;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &zero, 1);
	crypto_hash_sha256_update(&st, leaf, len);
	crypto_hash_sha256_final(&st, out);
}

/* MTH(D[begin:end]) of the test tree, D given by its leaf hashes sub[0]; memoised so the
 * exhaustive loops below stay fast, but computed only by the RFC's recursion. */
static const uint8_t *ref_mth(size_t begin, size_t end)
{
	uint8_t buf[1 + 2 * HB];
	size_t k;

	assert_true(begin < end && end <= N);
	if (memo_set[begin][end])
		return memo[begin][end];
	if (end - begin == 1) {
		memcpy(memo[begin][end], test_tree.sub[0][begin], HB);
	} else {
		k = ref_split(end - begin);
		buf[0] = 0x01;
		memcpy(buf + 1, ref_mth(begin, begin + k), HB);
		memcpy(buf + 1 + HB, ref_mth(begin + k, end), HB);
		crypto_hash_sha256(memo[begin][end], buf, sizeof(buf));
	}
	memo_set[begin][end] = true;
	return memo[begin][end];
}

/* A proof as the reference gives it: the leaf ranges whose MTH are its elements. */
struct ref_proof {
	size_t n;
	sd_merkle_range_t r[SD_MERKLE_PROOF_MAX];
};

static void ref_add(struct ref_proof *p, size_t begin, size_t end)
{
	assert_true(p->n < SD_MERKLE_PROOF_MAX);
	p->r[p->n].begin = begin;
	p->r[p->n].end = end;
	p->n++;
}

/* PATH(m, D[n]) over D = leaves [begin, end). */
static void ref_path(size_t m, size_t begin, size_t end, struct ref_proof *p)
{
	size_t n = end - begin, k;

	if (n == 1)
		return;
	k = ref_split(n);
	if (m < k) {
		ref_path(m, begin, begin + k, p);
		ref_add(p, begin + k, end);
	} else {
		ref_path(m - k, begin + k, end, p);
		ref_add(p, begin, begin + k);
	}
}

/* SUBPROOF(m, D[n], b) over D = leaves [begin, end). */
static void ref_subproof(size_t m, size_t begin, size_t end, bool b, struct ref_proof *p)
{
	size_t n = end - begin, k;

	if (m == n) {
		if (!b)
			ref_add(p, begin, end);
		return;
	}
	k = ref_split(n);
	if (m <= k) {
		ref_subproof(m, begin, begin + k, b, p);
		ref_add(p, begin + k, end);
	} else {
		ref_subproof(m - k, begin + k, end, false, p);
		ref_add(p, begin, begin + k);
	}
}

/* --- the trees and the server's way of resolving a plan ----------------------------- */

static void tree_build(struct tree *t, size_t n, const uint8_t *const *leaves, const size_t *lens)
{
	uint8_t check[HB];

	t->n = n;
	for (size_t i = 0; i < n; i++) {
		ref_leaf_hash(leaves[i], lens[i], t->sub[0][i]);
		sd_merkle_leaf_hash(leaves[i], lens[i], check);
		assert_memory_equal(check, t->sub[0][i], HB);
	}
	for (size_t l = 1; l < LEVELS; l++)
		for (size_t i = 0; ((i + 1) << l) <= n; i++)
			sd_merkle_node_hash(t->sub[l - 1][2 * i], t->sub[l - 1][2 * i + 1], t->sub[l][i]);
}

static void build_test_tree(void)
{
	static char text[N][16];
	const uint8_t *leaves[N];
	size_t lens[N];

	for (size_t i = 0; i < N; i++) {
		lens[i] = (size_t)snprintf(text[i], sizeof(text[i]), "leaf %zu", i);
		leaves[i] = (const uint8_t *)text[i];
	}
	tree_build(&test_tree, N, leaves, lens);
}

/* MTH of [begin, end) of t from its complete subtrees, as the server computes it. */
static void resolve(const struct tree *t, const sd_merkle_range_t *r, hash_t out)
{
	sd_merkle_node_t nodes[SD_MERKLE_RANGE_MAX];
	hash_t hashes[SD_MERKLE_RANGE_MAX];
	size_t n = sd_merkle_range_nodes(r->begin, r->end, nodes);

	assert_true(n >= 1 && r->end <= t->n);
	for (size_t i = 0; i < n; i++) {
		assert_true(nodes[i].level < LEVELS);
		assert_true(((nodes[i].index + 1) << nodes[i].level) <= t->n);
		assert_true(i == 0 || nodes[i].level < nodes[i - 1].level);
		memcpy(hashes[i], t->sub[nodes[i].level][nodes[i].index], HB);
	}
	sd_merkle_fold((const uint8_t(*)[HB])hashes, n, out);
}

static void resolve_all(const struct tree *t, const sd_merkle_range_t *r, size_t n, hash_t *out)
{
	for (size_t i = 0; i < n; i++)
		resolve(t, &r[i], out[i]);
}

static void root_of(const struct tree *t, uint64_t size, hash_t out)
{
	sd_merkle_range_t whole = {0, size};
	resolve(t, &whole, out);
}

#define PROOF(p) ((const uint8_t(*)[HB])(p))

static int setup(void **state)
{
	if (unit_setup(state) != 0)
		return -1;
	build_test_tree();
	return 0;
}

/* --- known answers (tests/vectors/merkle.py, docs/FORMAT.md) ------------------------ */

static const char kat_empty_root[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
static const char kat_empty_leaf[] = "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d";

/* RFC 6962's reference tree: Certificate Transparency's eight test leaves and its roots. */
static const char *const ct_leaves_hex[8] = {
        "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f",
};
static const char *const ct_roots[8] = {
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};
static const char *const ct_incl_0_8[] = {
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
};

static const struct {
	uint64_t size;
	const char *root;
} kat_roots[] = {
        {1, "1bb97dcc21635d47e2663efdfd0a174686d98dd701352dd2cd06e8b43fd3d305"},
        {2, "fc5f6b88ff8554f75bb2f9e6f39c31b1936d44b69276edf7b1205a955b9761e3"},
        {3, "d4f92c8fbb89720eb3b55677c7d7efaddfeb10d11a1a84a0ba8f1a23337faa95"},
        {4, "4f631084a157c54f54fcfb23ff5eb8650c4ba160c295bb13a9832b109d52677e"},
        {5, "341515982d650e23520dbd54d7fcf0afa1b70cc3a16a411d464dc9c1ac96c301"},
        {7, "5a61fc2b54f9cfa71774f2432143dd40c6cb2b11947faf65a7d3da5cb65199c8"},
        {8, "c5c2c820ed342fdda8ce896b6b9cf5b8c00a21cc4b20714cc6e5d3c05c35240b"},
        {300, "e7afc82d38944fc7930545328091d45823288c1f734cbdac06396713ebd4b5d5"},
};

static const char *const kat_incl_2_7[] = {
        "58bd1496e1684aac9201c2e687ee7ae4f51c96a8b0d81ef3583628b93d3cd345",
        "fc5f6b88ff8554f75bb2f9e6f39c31b1936d44b69276edf7b1205a955b9761e3",
        "01571b557bc70672650d467c7bad8337e09a7f354a72051f23b43a782c0f48e6",
};
static const char *const kat_incl_299_300[] = {
        "608d6b9f7ebc566a128d299c891332bb3767604708d9ebc1b3662db4fdcc9d3e",
        "26ae6a7c454dab4384ff683006d3486b535d911ed1507719aee3bf6110e9805a",
        "fbedf282e16ee3d218bddc21d184c56c845363b16ee91b3fa0be3b7b7a5cb192",
        "ca0090b607ab2afb55e1945270cfb192dad42174f80c7937420547f6a3d218a0",
        "cf5effdb11d0927a2edf53b0e73c7837f659414e00537da5d90eb5c4c49ff274",
};
static const char *const kat_cons_3_7[] = {
        "ab37ba34d1dfe29015de717a6d5764a8fb029c3a7a0f5b64b93b54351885bf7c",
        "58bd1496e1684aac9201c2e687ee7ae4f51c96a8b0d81ef3583628b93d3cd345",
        "fc5f6b88ff8554f75bb2f9e6f39c31b1936d44b69276edf7b1205a955b9761e3",
        "01571b557bc70672650d467c7bad8337e09a7f354a72051f23b43a782c0f48e6",
};
static const char *const kat_cons_4_8[] = {
        "c3e6b3b91f3a13b9a4270b2cd911623abb3a7a855af5e6e4b71c84f990cdc469",
};
static const char *const kat_cons_6_300[] = {
        "75ab928268c86f44da5d4241188ed71e4aab2d4d77d6d50117dad94a842ede03",
        "6ebcc54b6710ee0610a7fc82cde51713db280e3dc84515bde9632a19b65a0b93",
        "4f631084a157c54f54fcfb23ff5eb8650c4ba160c295bb13a9832b109d52677e",
        "a800a9786c988ce79d32396a32d94a7eabce331b32aa4db237159bbf94c532fe",
        "86772b5aa3dad91a776125e544e79daf3a54bb0d7875133165fc9ab6fc4869b7",
        "91aea861490a4db1c47a565c05829371aeb2f7bb8655d7b3eb17aae18b6fdce1",
        "b491ee573803d604311ddc37f8da2e13a2664525e488c6d81f891ae19b6e8166",
        "4e7758be140708640b20e028268c946b12867d7287bc99fa6df19e827b0d900a",
        "777422898ecbf7fff5401659d40bc81077ef7ec17fa3db8da8f9cfe892a359f8",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	bool inclusion;
	uint64_t a, b; /* (index, size) or (from, to) */
	const char *const *hashes;
	size_t n;
} kat_proofs[] = {
        {true, 2, 7, kat_incl_2_7, COUNT(kat_incl_2_7)},
        {true, 299, 300, kat_incl_299_300, COUNT(kat_incl_299_300)},
        {false, 3, 7, kat_cons_3_7, COUNT(kat_cons_3_7)},
        {false, 4, 8, kat_cons_4_8, COUNT(kat_cons_4_8)},
        {false, 6, 300, kat_cons_6_300, COUNT(kat_cons_6_300)},
};

static void assert_hash_hex(const uint8_t *got, const char *hex)
{
	uint8_t want[HB];
	unit_hex(hex, want, HB);
	assert_memory_equal(got, want, HB);
}

static void test_known_answers_rfc6962(void **state)
{
	uint8_t bytes[8][16], h[HB];
	const uint8_t *leaves[8];
	size_t lens[8], n;
	sd_merkle_stream_t st;
	sd_merkle_range_t plan[SD_MERKLE_PROOF_MAX];
	hash_t proof[SD_MERKLE_PROOF_MAX];

	(void)state;
	sd_merkle_empty_root(h);
	assert_hash_hex(h, kat_empty_root);
	sd_merkle_leaf_hash((const uint8_t *)"", 0, h);
	assert_hash_hex(h, kat_empty_leaf);
	sd_merkle_leaf_hash(NULL, 0, h);
	assert_hash_hex(h, kat_empty_leaf);

	for (size_t i = 0; i < 8; i++) {
		lens[i] = strlen(ct_leaves_hex[i]) / 2;
		unit_hex(ct_leaves_hex[i], bytes[i], lens[i]);
		leaves[i] = bytes[i];
	}
	tree_build(&ct_tree, 8, leaves, lens);
	sd_merkle_stream_init(&st);
	sd_merkle_stream_root(&st, h);
	assert_hash_hex(h, kat_empty_root);
	for (size_t i = 0; i < 8; i++) {
		assert_int_equal(sd_merkle_stream_push(&st, ct_tree.sub[0][i]), 0);
		sd_merkle_stream_root(&st, h);
		assert_hash_hex(h, ct_roots[i]);
		root_of(&ct_tree, i + 1, h);
		assert_hash_hex(h, ct_roots[i]);
	}
	assert_int_equal(sd_merkle_inclusion_plan(0, 8, plan, &n), 0);
	assert_int_equal(n, COUNT(ct_incl_0_8));
	resolve_all(&ct_tree, plan, n, proof);
	for (size_t i = 0; i < n; i++)
		assert_hash_hex(proof[i], ct_incl_0_8[i]);
	root_of(&ct_tree, 8, h);
	assert_int_equal(sd_merkle_verify_inclusion(0, 8, ct_tree.sub[0][0], PROOF(proof), n, h), 0);
}

static void test_known_answers(void **state)
{
	uint8_t h[HB], from_root[HB], to_root[HB];
	sd_merkle_range_t plan[SD_MERKLE_PROOF_MAX];
	hash_t proof[SD_MERKLE_PROOF_MAX];
	size_t n;

	(void)state;
	for (size_t i = 0; i < COUNT(kat_roots); i++) {
		root_of(&test_tree, kat_roots[i].size, h);
		assert_hash_hex(h, kat_roots[i].root);
	}
	for (size_t i = 0; i < COUNT(kat_proofs); i++) {
		uint64_t a = kat_proofs[i].a, b = kat_proofs[i].b;
		if (kat_proofs[i].inclusion)
			assert_int_equal(sd_merkle_inclusion_plan(a, b, plan, &n), 0);
		else
			assert_int_equal(sd_merkle_consistency_plan(a, b, plan, &n), 0);
		assert_int_equal(n, kat_proofs[i].n);
		resolve_all(&test_tree, plan, n, proof);
		for (size_t j = 0; j < n; j++)
			assert_hash_hex(proof[j], kat_proofs[i].hashes[j]);
		root_of(&test_tree, b, to_root);
		if (kat_proofs[i].inclusion) {
			assert_int_equal(
			        sd_merkle_verify_inclusion(a, b, test_tree.sub[0][a], PROOF(proof), n, to_root), 0);
		} else {
			root_of(&test_tree, a, from_root);
			assert_int_equal(sd_merkle_verify_consistency(a, b, from_root, to_root, PROOF(proof), n), 0);
		}
	}
}

/* --- exhaustive agreement with the reference ---------------------------------------- */

static void assert_plan_is_ref(const sd_merkle_range_t *plan, size_t n, const struct ref_proof *ref, hash_t *proof)
{
	assert_int_equal(n, ref->n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(plan[i].begin, ref->r[i].begin);
		assert_int_equal(plan[i].end, ref->r[i].end);
	}
	resolve_all(&test_tree, plan, n, proof);
	for (size_t i = 0; i < n; i++)
		assert_memory_equal(proof[i], ref_mth(ref->r[i].begin, ref->r[i].end), HB);
}

static void test_roots_every_size(void **state)
{
	sd_merkle_stream_t st;
	uint8_t h[HB];

	(void)state;
	sd_merkle_stream_init(&st);
	for (size_t size = 1; size <= N; size++) {
		assert_int_equal(sd_merkle_stream_push(&st, test_tree.sub[0][size - 1]), 0);
		assert_int_equal(st.size, size);
		sd_merkle_stream_root(&st, h);
		assert_memory_equal(h, ref_mth(0, size), HB);
		root_of(&test_tree, size, h);
		assert_memory_equal(h, ref_mth(0, size), HB);
	}
	/* The complete subtrees the resolver uses are the reference's too. */
	for (size_t l = 0; l < LEVELS; l++)
		for (size_t i = 0; ((i + 1) << l) <= N; i++)
			assert_memory_equal(test_tree.sub[l][i], ref_mth(i << l, (i + 1) << l), HB);
}

/* Up to this size every hash of every proof is damaged in turn; above it, one hash of each
 * proof, a different position from one proof to the next (the time stays a few seconds). */
#define FLIP_ALL 128

/* Every way of damaging a valid inclusion proof is refused. */
static void inclusion_negatives(uint64_t index, uint64_t size, hash_t *proof, size_t n, const uint8_t *root)
{
	const uint8_t *leaf = test_tree.sub[0][index];
	uint8_t other[HB];

	for (size_t i = 0; i < n; i++) {
		size_t bit = (i * 37 + index) % (8 * HB);
		if (size > FLIP_ALL && i != (index + size) % n)
			continue;
		proof[i][bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(sd_merkle_verify_inclusion(index, size, leaf, PROOF(proof), n, root), SD_ERR_VERIFY);
		proof[i][bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	memcpy(proof[n], root, HB); /* an extra hash */
	assert_int_equal(sd_merkle_verify_inclusion(index, size, leaf, PROOF(proof), n + 1, root), SD_ERR_VERIFY);
	if (n > 0) {
		assert_int_equal(sd_merkle_verify_inclusion(index, size, leaf, PROOF(proof), n - 1, root),
		                 SD_ERR_VERIFY);
		assert_int_equal(sd_merkle_verify_inclusion(index, size, leaf, PROOF(proof + 1), n - 1, root),
		                 SD_ERR_VERIFY);
	}
	if (index + 1 < size)
		assert_int_equal(sd_merkle_verify_inclusion(index + 1, size, leaf, PROOF(proof), n, root),
		                 SD_ERR_VERIFY);
	if (index > 0)
		assert_int_equal(sd_merkle_verify_inclusion(index - 1, size, leaf, PROOF(proof), n, root),
		                 SD_ERR_VERIFY);
	assert_int_equal(sd_merkle_verify_inclusion(size, size, leaf, PROOF(proof), n, root), SD_ERR_VERIFY);
	/* Another size, checked against that size's real root. */
	if (size < N)
		assert_int_equal(
		        sd_merkle_verify_inclusion(index, size + 1, leaf, PROOF(proof), n, ref_mth(0, size + 1)),
		        SD_ERR_VERIFY);
	if (index + 1 < size)
		assert_int_equal(
		        sd_merkle_verify_inclusion(index, size - 1, leaf, PROOF(proof), n, ref_mth(0, size - 1)),
		        SD_ERR_VERIFY);
	memcpy(other, leaf, HB);
	other[index % HB] ^= 0x80;
	assert_int_equal(sd_merkle_verify_inclusion(index, size, other, PROOF(proof), n, root), SD_ERR_VERIFY);
	assert_int_equal(sd_merkle_verify_inclusion(index, size, leaf, PROOF(proof), n, other), SD_ERR_VERIFY);
}

static void test_inclusion_every_leaf(void **state)
{
	sd_merkle_range_t plan[SD_MERKLE_PROOF_MAX];
	hash_t proof[SD_MERKLE_PROOF_MAX + 1];
	struct ref_proof ref;
	const uint8_t *root;
	size_t n;

	(void)state;
	for (uint64_t size = 1; size <= N; size++) {
		root = ref_mth(0, size);
		for (uint64_t index = 0; index < size; index++) {
			ref.n = 0;
			ref_path(index, 0, size, &ref);
			assert_int_equal(sd_merkle_inclusion_plan(index, size, plan, &n), 0);
			assert_plan_is_ref(plan, n, &ref, proof);
			assert_int_equal(
			        sd_merkle_verify_inclusion(index, size, test_tree.sub[0][index], PROOF(proof), n, root),
			        0);
			inclusion_negatives(index, size, proof, n, root);
		}
	}
}

/* Every way of damaging a valid consistency proof is refused. */
static void consistency_negatives(uint64_t from, uint64_t to, hash_t *proof, size_t n)
{
	const uint8_t *fr = ref_mth(0, from), *tr = ref_mth(0, to);

	for (size_t i = 0; i < n; i++) {
		size_t bit = (i * 37 + from + to) % (8 * HB);
		if (to > FLIP_ALL && i != (from + to) % n)
			continue;
		proof[i][bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(sd_merkle_verify_consistency(from, to, fr, tr, PROOF(proof), n), SD_ERR_VERIFY);
		proof[i][bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	memcpy(proof[n], tr, HB); /* an extra hash */
	assert_int_equal(sd_merkle_verify_consistency(from, to, fr, tr, PROOF(proof), n + 1), SD_ERR_VERIFY);
	if (n > 0) {
		assert_int_equal(sd_merkle_verify_consistency(from, to, fr, tr, PROOF(proof), n - 1), SD_ERR_VERIFY);
		assert_int_equal(sd_merkle_verify_consistency(from, to, fr, tr, PROOF(proof + 1), n - 1),
		                 SD_ERR_VERIFY);
		assert_int_equal(sd_merkle_verify_consistency(from, to, tr, fr, PROOF(proof), n), SD_ERR_VERIFY);
	}
	/* Other sizes, checked against those sizes' real roots. */
	if (from > 1)
		assert_int_equal(sd_merkle_verify_consistency(from - 1, to, ref_mth(0, from - 1), tr, PROOF(proof), n),
		                 SD_ERR_VERIFY);
	if (from < to)
		assert_int_equal(sd_merkle_verify_consistency(from + 1, to, ref_mth(0, from + 1), tr, PROOF(proof), n),
		                 SD_ERR_VERIFY);
	if (to < N)
		assert_int_equal(sd_merkle_verify_consistency(from, to + 1, fr, ref_mth(0, to + 1), PROOF(proof), n),
		                 SD_ERR_VERIFY);
	if (from < to)
		assert_int_equal(sd_merkle_verify_consistency(from, to - 1, fr, ref_mth(0, to - 1), PROOF(proof), n),
		                 SD_ERR_VERIFY);
	assert_int_equal(sd_merkle_verify_consistency(to, from, tr, fr, PROOF(proof), n),
	                 from == to ? 0 : SD_ERR_VERIFY);
}

static void test_consistency_every_pair(void **state)
{
	sd_merkle_range_t plan[SD_MERKLE_PROOF_MAX];
	hash_t proof[SD_MERKLE_PROOF_MAX + 1];
	struct ref_proof ref;
	size_t n;

	(void)state;
	for (uint64_t to = 1; to <= N; to++) {
		for (uint64_t from = 1; from <= to; from++) {
			ref.n = 0;
			ref_subproof(from, 0, to, true, &ref);
			assert_int_equal(sd_merkle_consistency_plan(from, to, plan, &n), 0);
			assert_plan_is_ref(plan, n, &ref, proof);
			assert_int_equal(sd_merkle_verify_consistency(from, to, ref_mth(0, from), ref_mth(0, to),
			                                              PROOF(proof), n),
			                 0);
			consistency_negatives(from, to, proof, n);
		}
	}
}

/* --- edges, limits and messages ----------------------------------------------------- */

static void assert_detail(const char *want)
{
	if (strstr(sd_error_detail(), want) == NULL)
		fail_msg("detail \"%s\" does not say \"%s\"", sd_error_detail(), want);
}

static void test_verify_edges(void **state)
{
	const uint8_t *r3 = ref_mth(0, 3), *r7 = ref_mth(0, 7), *l2 = test_tree.sub[0][2];
	sd_merkle_range_t plan[SD_MERKLE_PROOF_MAX];
	hash_t proof[SD_MERKLE_PROOF_MAX + 1] = {{0}};
	uint8_t empty[HB];
	size_t n;

	(void)state;
	sd_merkle_empty_root(empty);
	/* A tree of one leaf: its root is the leaf hash, with an empty path. */
	assert_int_equal(sd_merkle_verify_inclusion(0, 1, test_tree.sub[0][0], NULL, 0, ref_mth(0, 1)), 0);
	assert_int_equal(sd_merkle_verify_inclusion(0, 1, test_tree.sub[0][1], NULL, 0, ref_mth(0, 1)), SD_ERR_VERIFY);
	assert_int_equal(sd_merkle_verify_inclusion(0, 0, l2, NULL, 0, empty), SD_ERR_VERIFY);
	assert_int_equal(sd_merkle_verify_inclusion(7, 7, l2, PROOF(proof), 3, r7), SD_ERR_VERIFY);
	assert_detail("leaf 7 is not in a tree of 7 leaves");
	assert_int_equal(sd_merkle_verify_inclusion(2, 7, l2, PROOF(proof), 4, r7), SD_ERR_VERIFY);
	assert_detail("the inclusion proof has 4 hashes, leaf 2 of a tree of 7 leaves needs 3");
	assert_int_equal(sd_merkle_verify_inclusion(2, 7, l2, PROOF(proof), 3, r7), SD_ERR_VERIFY);
	assert_detail("root differs");
	assert_int_equal(sd_merkle_verify_inclusion(0, SD_MERKLE_SIZE_MAX, l2, PROOF(proof), 62, r7), SD_ERR_VERIFY);
	assert_int_equal(sd_merkle_verify_inclusion(0, 7, l2, PROOF(proof), SD_MERKLE_PROOF_MAX + 1, r7),
	                 SD_ERR_VERIFY);

	/* Equal sizes: no hashes and the same root; the empty tree: no hashes, its root. */
	assert_int_equal(sd_merkle_consistency_plan(7, 7, plan, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(sd_merkle_verify_consistency(7, 7, r7, r7, NULL, 0), 0);
	assert_int_equal(sd_merkle_verify_consistency(7, 7, r7, r3, NULL, 0), SD_ERR_VERIFY);
	assert_int_equal(sd_merkle_verify_consistency(7, 7, r7, r7, PROOF(proof), 1), SD_ERR_VERIFY);
	assert_detail("needs none");
	assert_int_equal(sd_merkle_verify_consistency(0, 7, empty, r7, NULL, 0), 0);
	assert_int_equal(sd_merkle_verify_consistency(0, 0, empty, empty, NULL, 0), 0);
	assert_int_equal(sd_merkle_verify_consistency(0, 7, empty, r7, PROOF(proof), 1), SD_ERR_VERIFY);
	assert_int_equal(sd_merkle_verify_consistency(0, 7, r3, r7, NULL, 0), SD_ERR_VERIFY);
	assert_int_equal(sd_merkle_verify_consistency(0, 0, empty, r3, NULL, 0), SD_ERR_VERIFY);
	/* A tree never shrinks. */
	assert_int_equal(sd_merkle_verify_consistency(7, 3, r7, r3, PROOF(proof), 4), SD_ERR_VERIFY);
	assert_detail("shrank from 7 to 3");
	assert_int_equal(sd_merkle_verify_consistency(3, 7, r3, r7, PROOF(proof), 3), SD_ERR_VERIFY);
	assert_detail("the consistency proof has 3 hashes, from 3 to 7 leaves needs 4");
	assert_int_equal(sd_merkle_verify_consistency(3, 7, r3, r7, PROOF(proof), SD_MERKLE_PROOF_MAX + 1),
	                 SD_ERR_VERIFY);
	assert_int_equal(sd_merkle_verify_consistency(3, SD_MERKLE_SIZE_MAX, r3, r7, PROOF(proof), 4), SD_ERR_VERIFY);
}

static void test_plan_usage(void **state)
{
	sd_merkle_range_t plan[SD_MERKLE_PROOF_MAX];
	size_t n = 99;

	(void)state;
	assert_int_equal(sd_merkle_inclusion_plan(0, 0, plan, &n), SD_ERR_USAGE);
	assert_int_equal(n, 0);
	assert_int_equal(sd_merkle_inclusion_plan(7, 7, plan, &n), SD_ERR_USAGE);
	assert_int_equal(sd_merkle_inclusion_plan(8, 7, plan, &n), SD_ERR_USAGE);
	assert_int_equal(sd_merkle_inclusion_plan(0, SD_MERKLE_SIZE_MAX, plan, &n), SD_ERR_USAGE);
	assert_int_equal(sd_merkle_inclusion_plan(0, UINT64_MAX, plan, &n), SD_ERR_USAGE);
	assert_int_equal(sd_merkle_inclusion_plan(0, 1, plan, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(sd_merkle_consistency_plan(0, 7, plan, &n), SD_ERR_USAGE);
	assert_int_equal(sd_merkle_consistency_plan(0, 0, plan, &n), SD_ERR_USAGE);
	assert_int_equal(sd_merkle_consistency_plan(8, 7, plan, &n), SD_ERR_USAGE);
	assert_int_equal(sd_merkle_consistency_plan(1, SD_MERKLE_SIZE_MAX, plan, &n), SD_ERR_USAGE);
	assert_int_equal(sd_merkle_consistency_plan(SD_MERKLE_SIZE_MAX, SD_MERKLE_SIZE_MAX, plan, &n), SD_ERR_USAGE);
}

static void test_range_nodes(void **state)
{
	sd_merkle_node_t nodes[SD_MERKLE_RANGE_MAX];
	uint8_t h[HB];

	(void)state;
	assert_int_equal(sd_merkle_range_nodes(5, 5, nodes), 0);
	assert_int_equal(sd_merkle_range_nodes(6, 5, nodes), 0);
	assert_int_equal(sd_merkle_range_nodes(1, 4, nodes), 0); /* not a shape the RFC splits into */
	assert_int_equal(sd_merkle_range_nodes(2, 6, nodes), 0);
	assert_int_equal(sd_merkle_range_nodes(0, SD_MERKLE_SIZE_MAX, nodes), 0);
	assert_int_equal(sd_merkle_range_nodes(5, 6, nodes), 1);
	assert_true(nodes[0].level == 0 && nodes[0].index == 5);
	assert_int_equal(sd_merkle_range_nodes(4, 7, nodes), 2);
	assert_true(nodes[0].level == 1 && nodes[0].index == 2 && nodes[1].level == 0 && nodes[1].index == 6);
	assert_int_equal(sd_merkle_range_nodes(256, 300, nodes), 3);
	assert_true(nodes[0].level == 5 && nodes[0].index == 8);
	assert_true(nodes[1].level == 3 && nodes[1].index == 36);
	assert_true(nodes[2].level == 2 && nodes[2].index == 74);
	assert_int_equal(sd_merkle_range_nodes(0, SD_MERKLE_SIZE_MAX - 1, nodes), 62);
	for (size_t i = 0; i < 62; i++)
		assert_true(nodes[i].level == 61 - i && nodes[i].index == (((SD_MERKLE_SIZE_MAX - 1) >> (61 - i)) - 1));
	/* Every range the RFC splits into, up to 300: the fold is the reference MTH. */
	for (uint64_t end = 1; end <= N; end++) {
		for (uint64_t begin = 0; begin < end; begin++) {
			uint64_t p = 1;
			while (2 * p <= end - begin)
				p *= 2;
			if (begin % p != 0) {
				assert_int_equal(sd_merkle_range_nodes(begin, end, nodes), 0);
				continue;
			}
			sd_merkle_range_t r = {begin, end};
			resolve(&test_tree, &r, h);
			assert_memory_equal(h, ref_mth(begin, end), HB);
		}
	}
	/* No subtrees at all (outside the contract, n >= 1): the empty root, not a crash. */
	sd_merkle_fold(NULL, 0, h);
	assert_hash_hex(h, kat_empty_root);
}

/* Plans for trees near the size limit: bounded, every range resolvable, and exactly as
 * many hashes as the verifiers consume (they fail on the root, not on the count). */
static void check_big_plan(bool inclusion, uint64_t a, uint64_t b)
{
	sd_merkle_range_t plan[SD_MERKLE_PROOF_MAX];
	sd_merkle_node_t nodes[SD_MERKLE_RANGE_MAX];
	static const hash_t zero[SD_MERKLE_PROOF_MAX];
	uint8_t x[HB] = {1}, y[HB] = {2};
	size_t n;

	if (inclusion)
		assert_int_equal(sd_merkle_inclusion_plan(a, b, plan, &n), 0);
	else
		assert_int_equal(sd_merkle_consistency_plan(a, b, plan, &n), 0);
	assert_true(n <= SD_MERKLE_PROOF_MAX && n <= 64);
	for (size_t i = 0; i < n; i++) {
		assert_true(plan[i].begin < plan[i].end && plan[i].end <= b);
		assert_true(sd_merkle_range_nodes(plan[i].begin, plan[i].end, nodes) > 0);
	}
	if (inclusion)
		assert_int_equal(sd_merkle_verify_inclusion(a, b, x, zero, n, y), SD_ERR_VERIFY);
	else
		assert_int_equal(sd_merkle_verify_consistency(a, b, x, y, zero, n), SD_ERR_VERIFY);
	assert_detail("differs");
}

static void test_big_trees(void **state)
{
	const uint64_t top = SD_MERKLE_SIZE_MAX - 1, half = SD_MERKLE_SIZE_MAX / 2;
	uint64_t x = 0x9e3779b97f4a7c15u;

	(void)state;
	check_big_plan(true, 0, top);
	check_big_plan(true, top - 1, top);
	check_big_plan(true, half, half + 1);
	check_big_plan(true, half - 1, half);
	check_big_plan(false, 1, top);
	check_big_plan(false, top - 1, top);
	check_big_plan(false, half, top);
	check_big_plan(false, half + 1, top);
	check_big_plan(false, half - 1, half + 1);
	check_big_plan(false, 3, half);
	for (int i = 0; i < 2000; i++) {
		uint64_t a, b;
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		b = (x >> (2 + i % 60)) % SD_MERKLE_SIZE_MAX;
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		if (b < 2)
			continue;
		a = x % b;
		check_big_plan(true, a, b);
		if (a > 0)
			check_big_plan(false, a, b);
	}
}

static void test_stream_limit(void **state)
{
	sd_merkle_stream_t st;
	uint8_t h[HB];

	(void)state;
	sd_merkle_stream_init(&st);
	sd_merkle_stream_root(&st, h);
	assert_hash_hex(h, kat_empty_root);
	st.size = SD_MERKLE_SIZE_MAX - 2;
	assert_int_equal(sd_merkle_stream_push(&st, test_tree.sub[0][0]), 0);
	assert_int_equal(st.size, SD_MERKLE_SIZE_MAX - 1);
	assert_int_equal(sd_merkle_stream_push(&st, test_tree.sub[0][0]), SD_ERR_TOOBIG);
	assert_int_equal(st.size, SD_MERKLE_SIZE_MAX - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_known_answers_rfc6962),
	        cmocka_unit_test(test_known_answers),
	        cmocka_unit_test(test_roots_every_size),
	        cmocka_unit_test(test_inclusion_every_leaf),
	        cmocka_unit_test(test_consistency_every_pair),
	        cmocka_unit_test(test_verify_edges),
	        cmocka_unit_test(test_plan_usage),
	        cmocka_unit_test(test_range_nodes),
	        cmocka_unit_test(test_big_trees),
	        cmocka_unit_test(test_stream_limit),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
