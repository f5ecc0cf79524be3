#!/usr/bin/python3
"""Recomputes the codename test vectors (docs/FORMAT.md (Codename)) from the specification
alone -- hashlib's BLAKE2b and SHA-512, PyNaCl's Argon2id and key-pair derivation -- without
calling sealdrop's C code, and prints TAP. Exits non-zero on any mismatch."""
import hashlib
import os
import sys

import nacl.bindings as nb

HERE = os.path.dirname(os.path.abspath(__file__))
WORDLIST = os.path.join(HERE, "..", "..", "crypto", "data", "eff_large_wordlist.txt")

CODENAME = "abacus abdomen abdominal abide abiding ability ablaze able"
DEPLOYMENT = "demo"
SALT = "2975b4ca2ba10aca9962d9c2cf0741cf"

# (opslimit, memlimit) -> expected values (hex); the same constants are in
# tests/unit/test_codename.c and docs/FORMAT.md (Codename).
VECTORS = [
    ((1, 8192), {
        "locator": "59e42ad31b7c046682efa1d17737d30cd82f63c8aadc00fc3e0b6c0a096ae2a0",
        "consent_pk": "158b95ec5c34495230d1a483b1132e3e811d4858c92c2a771a8bdbbab75b7647",
        "notice_pk": "ea65161dfcc764e2e9cfd67d90d359664248dc5e8b04b957422ec720eccc5b39",
        "share_wrap": "383be2a4e787161212a6631191c1b17361534003e0e0676f8f1050c1837b2c39",
    }),
    ((2, 67108864), {
        "locator": "423d671a03f81529412c08a5a65071471757bb51661184443e4dcde4fd48e99b",
    }),
]

n = 0
failed = 0


def check(desc, got, want):
    global n, failed
    n += 1
    if got == want:
        print("ok %d - %s" % (n, desc))
    else:
        failed += 1
        print("not ok %d - %s" % (n, desc))
        print("#   got  %s" % got)
        print("#   want %s" % want)


def kdf(key, subkey_id):
    """crypto_kdf_derive_from_key(32, id, "sdcodenm", key), written out as BLAKE2b."""
    return hashlib.blake2b(digest_size=32, key=key,
                           salt=subkey_id.to_bytes(8, "little") + bytes(8),
                           person=b"sdcodenm" + bytes(8)).digest()


def x25519_pk_from_box_seed(seed):
    """crypto_box_seed_keypair: sk = SHA-512(seed)[0:32], pk = X25519(sk, 9)."""
    sk = hashlib.sha512(seed).digest()[:32]
    return nb.crypto_scalarmult_base(sk)


def main():
    words = []
    with open(WORDLIST, encoding="ascii") as f:
        for line in f:
            words.append(line.rstrip("\n").split("\t")[1])
    check("the word list has 7776 sorted unique words",
          (len(words), sorted(set(words)) == words), (7776, True))
    check("the vector's codename is the first 8 words of the list",
          CODENAME, " ".join(words[:8]))

    salt = hashlib.blake2b(b"sealdrop codename v1" + DEPLOYMENT.encode("ascii"),
                           digest_size=16).digest()
    check("salt = BLAKE2b-128(\"sealdrop codename v1\" || \"demo\")", salt.hex(), SALT)

    for (ops, mem), want in VECTORS:
        master = nb.crypto_pwhash_alg(32, CODENAME.encode("ascii"), salt, ops, mem,
                                      nb.crypto_pwhash_ALG_ARGON2ID13)
        tag = "ops %d mem %d" % (ops, mem)
        got = {"locator": kdf(master, 1).hex(), "share_wrap": kdf(master, 4).hex()}
        sign_pk, _ = nb.crypto_sign_seed_keypair(kdf(master, 2))
        got["consent_pk"] = sign_pk.hex()
        box_pk, box_sk = nb.crypto_box_seed_keypair(kdf(master, 3))
        got["notice_pk"] = box_pk.hex()
        for name in sorted(want):
            check("%s: %s" % (tag, name), got[name], want[name])
        check("%s: notice key pair = SHA-512(seed)[0:32] and its X25519 public key" % tag,
              (box_sk.hex(), x25519_pk_from_box_seed(kdf(master, 3)).hex()),
              (hashlib.sha512(kdf(master, 3)).digest()[:32].hex(), box_pk.hex()))
        if hasattr(nb, "crypto_scalarmult_ed25519_base"):
            # Ed25519 from a seed: the clamped first half of SHA-512(seed) times the base point.
            a = hashlib.sha512(kdf(master, 2)).digest()[:32]
            check("%s: consent pk = [clamp(SHA-512(seed)[0:32])]B" % tag,
                  nb.crypto_scalarmult_ed25519_base(a).hex(), sign_pk.hex())

    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
