#!/usr/bin/python3
"""Independent check of the receipt test vector (docs/FORMAT.md, "Receipt").

Builds the fixed receipt from the specification alone -- hashlib for BLAKE2b, PyNaCl for
Ed25519, Python's json for the canonical serialisation -- and compares the canonical
message, its digests, the signature and the pretty-printed file with the vector that
tests/unit/test_receipt.c asserts against the C implementation.
Prints TAP; exits non-zero on any mismatch.
"""
import base64
import hashlib
import json
import sys

import nacl.bindings as nb

KIND_LOG = 6

# The vector (also in tests/unit/test_receipt.c and docs/FORMAT.md).
EXPECT = {
    "log_key_id": "89d4e152054dfb5e",
    "msg_len": 259,
    "msg_blake2b": "190c57bcdbd5e63f861344cbca1269e1b95f98ec4767e855a2fa6ec3e03ab635",
    "sign_digest": "7f060a0b2e1c2e82375d6fa2f08a03fea298d404f3210a26d98402f5bec8a206",
    "sig": "458efa9c545b78df4b209f76cfca0babeebbf07cc09ed14564e11713491901ec"
    "254899b7591b3b5a9732fc5278252c02771890c47caad0df988b8c506e0f240f",
    "file_len": 486,
    "file_blake2b": "1368e08d323246d74c09f71fdcb491ad6d278cd4a333e45544174eeefe235b08",
}


def blake2b256(data):
    return hashlib.blake2b(data, digest_size=32).digest()


def main():
    results = []
    seed = bytes(range(0x60, 0x80))
    pk, sk = nb.crypto_sign_seed_keypair(seed)
    log_id = blake2b256(b"sealdrop keyid v1" + bytes([KIND_LOG]) + pk)[:8].hex()
    receipt = {
        "version": 1,
        "deployment": "demo",
        "case": "2026-000001",
        "header_digest": bytes(range(0x80, 0xA0)).hex(),
        "received": "2026-11-23",
        "decision_due": "2027-01-22",
        "attorney": "Attorney Kim (김민지)",
        "log_key_id": log_id,
    }
    msg = json.dumps(receipt, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    digest = blake2b256(b"sealdrop receipt v1" + msg)
    sig = nb.crypto_sign(digest, sk)[:64]
    doc = {"receipt": receipt, "signature": {"key_id": log_id, "sig": base64.b64encode(sig).decode()}}
    text = (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()
    got = {
        "log_key_id": log_id,
        "msg_len": len(msg),
        "msg_blake2b": blake2b256(msg).hex(),
        "sign_digest": digest.hex(),
        "sig": sig.hex(),
        "file_len": len(text),
        "file_blake2b": blake2b256(text).hex(),
    }
    if len(sys.argv) > 1 and sys.argv[1] == "--print":
        print(msg.decode())
        print(text.decode(), end="")
        for k, v in got.items():
            print(k, v)
        return 0
    print("1..%d" % len(EXPECT))
    bad = 0
    for i, (k, v) in enumerate(EXPECT.items(), 1):
        if got[k] == v:
            print("ok %d - %s" % (i, k))
        else:
            bad += 1
            print("not ok %d - %s: computed %s, expected %s" % (i, k, got[k], v))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
