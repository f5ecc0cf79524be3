#!/usr/bin/python3
"""Independent check of the Shamir and key share vectors (docs/FORMAT.md, "Identity key
shares"), recomputed from the specification with PyNaCl, hashlib and Python integers only —
never by calling sealdrop's C code. The field arithmetic here is the textbook one
(carry-less product, then polynomial long division by 0x11b; inverses by search), not
the C code's shift-and-mask loop. Prints TAP; exits non-zero on any mismatch.

Run: /usr/bin/python3 tests/vectors/shamir.py
Print the computed values instead of checking them: ... shamir.py --print
"""
import hashlib
import itertools
import struct
import sys

import nacl.bindings as nb

POLY = 0x11B  # x^8 + x^4 + x^3 + x + 1
SECRET = bytes(range(32))  # the identity key's X25519 scalar 0x00..0x1f
COEFFS = bytes(range(0x20, 0x60))  # c1 = 0x20..0x3f, c2 = 0x40..0x5f (3-of-5)
PASSPHRASE = b"correct horse battery staple"
SALT = bytes(range(0xA0, 0xB0))
NONCE = bytes(range(0xB0, 0xC8))
OPSLIMIT_MIN, MEMLIMIT_MIN = 1, 8192
KIND_IDENTITY, ALG_X25519 = 3, 2


def gf_mul(a, b):
    p = 0
    for i in range(8):
        if (b >> i) & 1:
            p ^= a << i
    for bit in range(14, 7, -1):  # reduce the up-to-15-bit product modulo POLY
        if (p >> bit) & 1:
            p ^= POLY << (bit - 8)
    return p


INV = {a: next(b for b in range(1, 256) if gf_mul(a, b) == 1) for a in range(1, 256)}


def split(secret, coeffs, k, n):
    """Share x = f(x) for each byte: f(x) = secret[b] + sum_j coeffs[(j-1)*32 + b] x^j."""
    shares = []
    for x in range(1, n + 1):
        y = bytearray()
        for b in range(32):
            acc, xp = secret[b], 1
            for j in range(1, k):
                xp = gf_mul(xp, x)
                acc ^= gf_mul(coeffs[(j - 1) * 32 + b], xp)
            y.append(acc)
        shares.append((x, bytes(y)))
    return shares


def combine(shares):
    out = bytearray(32)
    for i, (xi, yi) in enumerate(shares):
        num, den = 1, 1
        for j, (xj, _) in enumerate(shares):
            if j != i:
                num, den = gf_mul(num, xj), gf_mul(den, xi ^ xj)
        lag = gf_mul(num, INV[den])
        for b in range(32):
            out[b] ^= gf_mul(lag, yi[b])
    return bytes(out)


def key_id(kind, pk):
    return hashlib.blake2b(b"sealdrop keyid v1" + bytes([kind]) + pk, digest_size=32).digest()[:8]


def share_file(x, k, n, y, pk):
    header = (b"SDKSHARE" + bytes([1, KIND_IDENTITY, ALG_X25519, 1]) + struct.pack("<QQ", OPSLIMIT_MIN, MEMLIMIT_MIN)
              + SALT + NONCE + bytes([x, k, n, 0]) + key_id(KIND_IDENTITY, pk) + pk)
    assert len(header) == 112
    key = nb.crypto_pwhash_alg(32, PASSPHRASE, SALT, OPSLIMIT_MIN, MEMLIMIT_MIN, nb.crypto_pwhash_ALG_ARGON2ID13)
    out = header + nb.crypto_aead_xchacha20poly1305_ietf_encrypt(y, header, NONCE, key)
    assert len(out) == 160
    return out


def compute():
    v = {}
    v["gf mul 57 83"] = "%02x" % gf_mul(0x57, 0x83)
    v["gf mul 57 13"] = "%02x" % gf_mul(0x57, 0x13)
    v["gf inv 53"] = "%02x" % INV[0x53]
    v["gf inv 01"] = "%02x" % INV[0x01]
    v["gf inv ff"] = "%02x" % INV[0xFF]
    shares = split(SECRET, COEFFS, 3, 5)
    for x, y in shares:
        v["3of5 share %d" % x] = y.hex()
    two = split(SECRET, COEFFS[:32], 2, 255)
    v["2of255 share 255"] = two[254][1].hex()
    pk = nb.crypto_scalarmult_base(SECRET)
    v["identity public key"] = pk.hex()
    v["share file 3of5 x=2"] = share_file(2, 3, 5, shares[1][1], pk).hex()
    return v


EXPECTED = {
    "gf mul 57 83": 'c1',
    "gf mul 57 13": 'fe',
    "gf inv 53": 'ca',
    "gf inv 01": '01',
    "gf inv ff": '1c',
    "3of5 share 1": '606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f',
    "3of5 share 2": '5b5c55524740494e63646d6a7f7871762b2c25223730393e13141d1a0f080106',
    "3of5 share 3": '3b3c35322720292e03040d0a1f1811164b4c45425750595e73747d7a6f686166',
    "3of5 share 4": 'ecf9c6d3b8ad928744516e7b10053a2fa7b28d98f3e6d9cc0f1a25305b4e7164',
    "3of5 share 5": '8c99a6b3d8cdf2e724310e1b70655a4fc7d2edf89386b9ac6f7a45503b2e1104',
    "2of255 share 255": 'd22c35cb07f9e01e639d847ab64851afab554cb27e8099671ae4fd03cf3128d6',
    "identity public key": '8f40c5adb68f25624ae5b214ea767a6ec94d829d3d7b5e1ad1ba6f3e2138285f',
    "share file 3of5 x=2": '53444b53484152450103020101000000000000000020000000000000a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c702030500b1e96bbbfd1f48438f40c5adb68f25624ae5b214ea767a6ec94d829d3d7b5e1ad1ba6f3e2138285f01f7ee7b69fb760bd37ef1e119b586d6d97457ae16a6baa4989a0dcb2fb871c2daab10ccfdba9c75683bbca965c4023a',
}


def main():
    v = compute()
    if "--print" in sys.argv:
        for name, value in v.items():
            print('    "%s": %r,' % (name, value))
        return 0
    checks = []
    for name, want in EXPECTED.items():
        checks.append((name, v.get(name) == want))
    checks.append(("all 3-subsets of the 3/5 split give the secret back",
                   all(combine(list(s)) == SECRET for s in itertools.combinations(split(SECRET, COEFFS, 3, 5), 3))))
    checks.append(("the 4- and 5-subsets too",
                   all(combine(list(s)) == SECRET for m in (4, 5)
                       for s in itertools.combinations(split(SECRET, COEFFS, 3, 5), m))))
    two = split(SECRET, COEFFS[:32], 2, 255)
    checks.append(("2/255: shares 1 and 255 give the secret back", combine([two[0], two[254]]) == SECRET))
    checks.append(("FIPS-197 4.2: {57}.{83} = {c1}", gf_mul(0x57, 0x83) == 0xC1))
    checks.append(("FIPS-197 4.2.1: {57}.{13} = {fe}", gf_mul(0x57, 0x13) == 0xFE))
    checks.append(("the vectors' list is complete", set(EXPECTED) == set(v)))
    print("1..%d" % len(checks))
    failed = 0
    for i, (name, ok) in enumerate(checks, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", i, name))
        failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
