#!/usr/bin/python3
"""Independent check of the signature and key vectors (docs/FORMAT.md, "Signatures"
and "Keys"), recomputed from the specification with PyNaCl and hashlib only — never
by calling sealdrop's C code. Prints TAP; exits non-zero on any mismatch.

Run: /usr/bin/python3 tests/vectors/keys.py
Print the computed values instead of checking them: ... keys.py --print
"""
import base64
import hashlib
import struct
import sys

import nacl.bindings as nb

SEED = bytes(range(32))  # the fixed Ed25519 seed / X25519 scalar 0x00..0x1f
MESSAGE = b"sealdrop test message"
PASSPHRASE = b"correct horse battery staple"
SALT = bytes(range(0xA0, 0xB0))
NONCE = bytes(range(0xB0, 0xC8))
OPSLIMIT_MIN, MEMLIMIT_MIN = 1, 8192

PURPOSES = ["header", "consent", "revoke", "session", "receipt", "head", "notice", "export", "directory"]
KINDS = {"root": 1, "intake": 2, "identity": 3, "agency": 4, "attorney": 5, "log": 6}
ED25519_KINDS = {"root", "log"}


def digest(purpose, msg):
    return hashlib.blake2b(b"sealdrop " + purpose.encode() + b" v1" + msg, digest_size=32).digest()


def key_id(kind, pk):
    return hashlib.blake2b(b"sealdrop keyid v1" + bytes([KINDS[kind]]) + pk, digest_size=32).digest()[:8]


def public_key(kind, secret):
    if kind in ED25519_KINDS:
        pk, _sk = nb.crypto_sign_seed_keypair(secret)
        return pk
    return nb.crypto_scalarmult_base(secret)


def keyfile(kind, secret, passphrase, salt, nonce, opslimit, memlimit):
    alg = 1 if kind in ED25519_KINDS else 2
    header = b"SDSECKEY" + bytes([1, KINDS[kind], alg, 1]) + struct.pack("<QQ", opslimit, memlimit) + salt + nonce
    assert len(header) == 68
    key = nb.crypto_pwhash_alg(32, passphrase, salt, opslimit, memlimit, nb.crypto_pwhash_ALG_ARGON2ID13)
    body = nb.crypto_aead_xchacha20poly1305_ietf_encrypt(secret, header, nonce, key)
    out = header + body
    assert len(out) == 116
    return out


def pubkey_line(kind, pk):
    return "sealdrop-pubkey-v1 %s %s %s\n" % (kind, key_id(kind, pk).hex(), base64.b64encode(pk).decode())


def compute():
    v = {}
    ed_pk, ed_sk = nb.crypto_sign_seed_keypair(SEED)
    v["ed25519 public key"] = ed_pk.hex()
    v["x25519 public key"] = nb.crypto_scalarmult_base(SEED).hex()
    for p in PURPOSES:
        v["digest " + p] = digest(p, MESSAGE).hex()
    v["digest header (empty message)"] = digest("header", b"").hex()
    # crypto_sign returns signature || message; the detached signature is its first 64 bytes.
    v["signature header"] = nb.crypto_sign(digest("header", MESSAGE), ed_sk)[:64].hex()
    for kind in KINDS:
        v["key id " + kind] = key_id(kind, public_key(kind, SEED)).hex()
    for kind in ("root", "intake"):
        v["keyfile " + kind] = keyfile(kind, SEED, PASSPHRASE, SALT, NONCE, OPSLIMIT_MIN, MEMLIMIT_MIN).hex()
    for kind in KINDS:
        v["pubkey line " + kind] = pubkey_line(kind, public_key(kind, SEED))
    return v


EXPECTED = {
    "ed25519 public key": '03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8',
    "x25519 public key": '8f40c5adb68f25624ae5b214ea767a6ec94d829d3d7b5e1ad1ba6f3e2138285f',
    "digest header": 'c8f9daeaa9d25c5d0732b04861e829b7060fb4c2fb35b855b04779eb4df57814',
    "digest consent": 'e38b88422fd5717c09d5c9fe063024c7b98766773c24476b8caf37ea28fc7a84',
    "digest revoke": '8a19316b6c77104b3fdadb6d4403381dbb872d760ccab1847206305f64e4a338',
    "digest session": 'abed7a51ded7303646525665695f5e6bbae983c6c8fb032c90c749fef38c352c',
    "digest receipt": '47a60f3bab67e1897b8029bea5244721acbba328616cce1a733979df51d114a4',
    "digest head": 'f3d2a768c4d470606b5d57fc7cc20ec7b2cd3a8e536f78d94e73c7da4a28a372',
    "digest notice": '72da79eef793ea6487f4538c6ced558119b7683607ffd497f5b4fbb175a27e33',
    "digest export": '458c10caca6d2a1c60f52def025f3d513c6839663607dafbfad4b14e10b07dfa',
    "digest directory": 'f21ef12b6976258dbc5a7b18ad8ddfa6ad12ba654ec3e77efea70b18f18a4ce9',
    "digest header (empty message)": '70f671490e28069ba88935087723c077ebe787d43b7b66c590f65ba41df972e0',
    "signature header": (
        "12f37d9f4214853f5a823fec21b3a9cb543fb95e393b4fd5210aecab110b5e5a"
        "d7467f246f6535c27f86432d0f7e126d1192d1dce21c9a06bd61c8820ebd5103"
    ),
    "key id root": '2ffdef4971a0d119',
    "key id intake": 'd8499c0859baacdc',
    "key id identity": 'b1e96bbbfd1f4843',
    "key id agency": '4eb410780be07346',
    "key id attorney": 'cb2f9b7286de854a',
    "key id log": '524c32d40d04f4c6',
    "keyfile root": (
        "53445345434b45590101010101000000000000000020000000000000a0a1a2a3"
        "a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3"
        "c4c5c6c75aaab92a2abe3942b81396806ac0f9afe249609f3583958d93970aca"
        "3cad6edb547b0ea4792d46b76ebfb1aa31aa8fc7"
    ),
    "keyfile intake": (
        "53445345434b45590102020101000000000000000020000000000000a0a1a2a3"
        "a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3"
        "c4c5c6c75aaab92a2abe3942b81396806ac0f9afe249609f3583958d93970aca"
        "3cad6edb791c31faaa367683c4fc8771471f4ecc"
    ),
    "pubkey line root": 'sealdrop-pubkey-v1 root 2ffdef4971a0d119 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=\n',
    "pubkey line intake": 'sealdrop-pubkey-v1 intake d8499c0859baacdc j0DFrbaPJWJK5bIU6nZ6bslNgp09e14a0bpvPiE4KF8=\n',
    "pubkey line identity": 'sealdrop-pubkey-v1 identity b1e96bbbfd1f4843 j0DFrbaPJWJK5bIU6nZ6bslNgp09e14a0bpvPiE4KF8=\n',
    "pubkey line agency": 'sealdrop-pubkey-v1 agency 4eb410780be07346 j0DFrbaPJWJK5bIU6nZ6bslNgp09e14a0bpvPiE4KF8=\n',
    "pubkey line attorney": 'sealdrop-pubkey-v1 attorney cb2f9b7286de854a j0DFrbaPJWJK5bIU6nZ6bslNgp09e14a0bpvPiE4KF8=\n',
    "pubkey line log": 'sealdrop-pubkey-v1 log 524c32d40d04f4c6 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=\n',
}


def main():
    got = compute()
    if "--print" in sys.argv:
        for name, value in got.items():
            print("%s = %r" % (name, value))
        return 0
    failed = 0
    print("1..%d" % len(EXPECTED))
    for n, (name, want) in enumerate(EXPECTED.items(), 1):
        if got.get(name) == want:
            print("ok %d - %s" % (n, name))
        else:
            failed += 1
            print("not ok %d - %s" % (n, name))
            print("#   expected %r" % want)
            print("#   computed %r" % got.get(name))
    return 1 if failed or not EXPECTED else 0


if __name__ == "__main__":
    sys.exit(main())
