#!/usr/bin/python3
"""Independent check of the Merkle tree vectors (docs/FORMAT.md, "Merkle tree known-answer
vectors").

Computes, from the text of RFC 9162 section 2.1 alone (hashlib's SHA-256, the recursive
definitions of MTH, PATH, PROOF and SUBPROOF, and the verification algorithms of
2.1.3.2 and 2.1.4.2), the roots and proofs that tests/unit/test_merkle.c asserts against
the C implementation, and compares them with the same hard-coded constants.
Leaf i of the test trees is the ASCII bytes "leaf " followed by i in decimal ("leaf 0",
"leaf 1", ...). The RFC 6962 reference data (the leaves of the Certificate Transparency
test suite) anchors the hashing itself to values other implementations publish.
Prints TAP; exits non-zero on any mismatch. `--print` prints the computed values.
"""
import hashlib
import sys


def sha256(data):
    return hashlib.sha256(data).digest()


def leaf(i):
    return b"leaf " + str(i).encode()


def split(n):
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while 2 * k < n:
        k *= 2
    return k


def mth(d):
    """2.1.1: the Merkle Tree Hash of the list of leaf inputs d."""
    n = len(d)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return sha256(b"\x00" + d[0])
    k = split(n)
    return sha256(b"\x01" + mth(d[:k]) + mth(d[k:]))


def path(m, d):
    """2.1.3.1: PATH(m, D[n])."""
    n = len(d)
    if n == 1:
        return []
    k = split(n)
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


def subproof(m, d, b):
    """2.1.4.1: SUBPROOF(m, D[n], b)."""
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = split(n)
    if m <= k:
        return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


def proof(m, d):
    """2.1.4.1: PROOF(m, D[n]) for 0 < m <= n."""
    return subproof(m, d, True)


def node(left, right):
    return sha256(b"\x01" + left + right)


def verify_inclusion(index, size, leaf_hash, inclusion_path, root):
    """2.1.3.2, step for step."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in inclusion_path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first, second, first_hash, second_hash, consistency_path):
    """2.1.4.2, step for step, for 0 < first < second."""
    if not consistency_path:
        return False
    if first & (first - 1) == 0:
        consistency_path = [first_hash] + consistency_path
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = consistency_path[0]
    for c in consistency_path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node(c, fr)
            sr = node(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_hash and sr == second_hash and sn == 0


# The vectors (also in tests/unit/test_merkle.c and docs/merkle-vectors.md).
EXPECT = {
    "empty root": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "leaf hash of the empty leaf": "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    # The RFC 6962 reference tree (Certificate Transparency's test leaves), sizes 1..8.
    "rfc6962 root 1": "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "rfc6962 root 2": "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "rfc6962 root 3": "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "rfc6962 root 4": "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "rfc6962 root 5": "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "rfc6962 root 6": "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "rfc6962 root 7": "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "rfc6962 root 8": "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    "rfc6962 inclusion 0 in 8": "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7 "
    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e "
    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    # The test tree: leaf i is b"leaf %d" % i.
    "root 1": "1bb97dcc21635d47e2663efdfd0a174686d98dd701352dd2cd06e8b43fd3d305",
    "root 2": "fc5f6b88ff8554f75bb2f9e6f39c31b1936d44b69276edf7b1205a955b9761e3",
    "root 3": "d4f92c8fbb89720eb3b55677c7d7efaddfeb10d11a1a84a0ba8f1a23337faa95",
    "root 4": "4f631084a157c54f54fcfb23ff5eb8650c4ba160c295bb13a9832b109d52677e",
    "root 5": "341515982d650e23520dbd54d7fcf0afa1b70cc3a16a411d464dc9c1ac96c301",
    "root 7": "5a61fc2b54f9cfa71774f2432143dd40c6cb2b11947faf65a7d3da5cb65199c8",
    "root 8": "c5c2c820ed342fdda8ce896b6b9cf5b8c00a21cc4b20714cc6e5d3c05c35240b",
    "root 300": "e7afc82d38944fc7930545328091d45823288c1f734cbdac06396713ebd4b5d5",
    "inclusion 2 in 7": "58bd1496e1684aac9201c2e687ee7ae4f51c96a8b0d81ef3583628b93d3cd345 "
    "fc5f6b88ff8554f75bb2f9e6f39c31b1936d44b69276edf7b1205a955b9761e3 "
    "01571b557bc70672650d467c7bad8337e09a7f354a72051f23b43a782c0f48e6",
    "inclusion 299 in 300": "608d6b9f7ebc566a128d299c891332bb3767604708d9ebc1b3662db4fdcc9d3e "
    "26ae6a7c454dab4384ff683006d3486b535d911ed1507719aee3bf6110e9805a "
    "fbedf282e16ee3d218bddc21d184c56c845363b16ee91b3fa0be3b7b7a5cb192 "
    "ca0090b607ab2afb55e1945270cfb192dad42174f80c7937420547f6a3d218a0 "
    "cf5effdb11d0927a2edf53b0e73c7837f659414e00537da5d90eb5c4c49ff274",
    "consistency 3 to 7": "ab37ba34d1dfe29015de717a6d5764a8fb029c3a7a0f5b64b93b54351885bf7c "
    "58bd1496e1684aac9201c2e687ee7ae4f51c96a8b0d81ef3583628b93d3cd345 "
    "fc5f6b88ff8554f75bb2f9e6f39c31b1936d44b69276edf7b1205a955b9761e3 "
    "01571b557bc70672650d467c7bad8337e09a7f354a72051f23b43a782c0f48e6",
    "consistency 4 to 8": "c3e6b3b91f3a13b9a4270b2cd911623abb3a7a855af5e6e4b71c84f990cdc469",
    "consistency 6 to 300": "75ab928268c86f44da5d4241188ed71e4aab2d4d77d6d50117dad94a842ede03 "
    "6ebcc54b6710ee0610a7fc82cde51713db280e3dc84515bde9632a19b65a0b93 "
    "4f631084a157c54f54fcfb23ff5eb8650c4ba160c295bb13a9832b109d52677e "
    "a800a9786c988ce79d32396a32d94a7eabce331b32aa4db237159bbf94c532fe "
    "86772b5aa3dad91a776125e544e79daf3a54bb0d7875133165fc9ab6fc4869b7 "
    "91aea861490a4db1c47a565c05829371aeb2f7bb8655d7b3eb17aae18b6fdce1 "
    "b491ee573803d604311ddc37f8da2e13a2664525e488c6d81f891ae19b6e8166 "
    "4e7758be140708640b20e028268c946b12867d7287bc99fa6df19e827b0d900a "
    "777422898ecbf7fff5401659d40bc81077ef7ec17fa3db8da8f9cfe892a359f8",
}

RFC6962_LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f")]


def hexlist(hashes):
    return " ".join(h.hex() for h in hashes)


def compute():
    d = [leaf(i) for i in range(300)]
    c = RFC6962_LEAVES
    got = {
        "empty root": mth([]).hex(),
        "leaf hash of the empty leaf": mth([b""]).hex(),
    }
    for n in range(1, 9):
        got["rfc6962 root %d" % n] = mth(c[:n]).hex()
    got["rfc6962 inclusion 0 in 8"] = hexlist(path(0, c))
    for n in (1, 2, 3, 4, 5, 7, 8, 300):
        got["root %d" % n] = mth(d[:n]).hex()
    for m, n in ((2, 7), (299, 300)):
        got["inclusion %d in %d" % (m, n)] = hexlist(path(m, d[:n]))
    for m, n in ((3, 7), (4, 8), (6, 300)):
        got["consistency %d to %d" % (m, n)] = hexlist(proof(m, d[:n]))
    return got


def checks_verify(d):
    """The RFC's verifiers accept the vectors' proofs and refuse them altered."""
    ok = True
    for m, n in ((2, 7), (299, 300)):
        p, root, lh = path(m, d[:n]), mth(d[:n]), mth([d[m]])
        ok &= verify_inclusion(m, n, lh, p, root)
        ok &= not verify_inclusion(m, n, lh, p + [root], root)
        ok &= not verify_inclusion(m, n, lh, p[:-1], root)
        ok &= not verify_inclusion(m - 1, n, lh, p, root)
    for m, n in ((3, 7), (4, 8), (6, 300)):
        p, r1, r2 = proof(m, d[:n]), mth(d[:m]), mth(d[:n])
        ok &= verify_consistency(m, n, r1, r2, p)
        ok &= not verify_consistency(m, n, r1, r2, p + [r2])
        ok &= not verify_consistency(m, n, r1, r2, p[:-1])
        ok &= not verify_consistency(m, n, r2, r1, p)
    return ok


def main():
    d = [leaf(i) for i in range(300)]
    got = compute()
    if len(sys.argv) > 1 and sys.argv[1] == "--print":
        for k, v in got.items():
            print("%s: %s" % (k, v))
        return 0
    names = list(EXPECT)
    assert set(got) == set(names), "computed and expected vectors differ in name"
    print("1..%d" % (len(names) + 1))
    bad = 0
    for i, k in enumerate(names, 1):
        if got.get(k) == EXPECT[k]:
            print("ok %d - %s" % (i, k))
        else:
            bad += 1
            print("not ok %d - %s: computed %s, expected %s" % (i, k, got.get(k), EXPECT[k]))
    if checks_verify(d):
        print("ok %d - the RFC's verifiers accept the proofs and refuse altered ones" % (len(names) + 1))
    else:
        bad += 1
        print("not ok %d - the RFC's verifiers disagree with the proofs" % (len(names) + 1))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
