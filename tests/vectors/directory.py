#!/usr/bin/python3
"""Independent check of the directory test vector (docs/FORMAT.md, "Directory").

Builds the fixed directory from the specification alone -- hashlib for BLAKE2b, PyNaCl
for Ed25519 and X25519, Python's json for the canonical serialisation -- and compares
the canonical message's digests, the signature and the pretty-printed file with the
vector that tests/unit/test_directory.c asserts against the C implementation.
Prints TAP; exits non-zero on any mismatch.
"""
import base64
import hashlib
import json
import os
import re
import sys

import nacl.bindings as nb

KIND_ROOT, KIND_INTAKE, KIND_IDENTITY = 1, 2, 3

# The vector (also in tests/unit/test_directory.c and docs/FORMAT.md).
EXPECT = {
    "msg_blake2b": "0a3a96b071de1499b22d02ba72acd5bd2bcc74f7063bc181b2c4073a3d3d9d13",
    "sign_digest": "96a196791436ed111607e1b318160fcce6230962a0f69b384c9ed4c05e8f7151",
    "sig": "acb03c1b7c54cc61ed98be79fe91b4c109d71905c3205d8a08a1121790ae5708"
    "aa9681650520d2f54b151ef1e03ba4c63a439c1b80be525521b173470fe6fd09",
    "file_blake2b": "34135ceb59f04d71451bf4b9e98784b8a8085bc4c4d418efeb9577a11f4b9428",
}
EXPECT_MSG_LEN = 408


def blake2b256(data):
    return hashlib.blake2b(data, digest_size=32).digest()


def key_id(kind, pk):
    return blake2b256(b"sealdrop keyid v1" + bytes([kind]) + pk)[:8]


def key_entry(kind, pk):
    return {"id": key_id(kind, pk).hex(), "public": base64.b64encode(pk).decode()}


def build():
    root_pk, root_sk = nb.crypto_sign_seed_keypair(bytes(range(0x00, 0x20)))
    intake_pk = nb.crypto_scalarmult_base(bytes(range(0x20, 0x40)))
    identity_pk = nb.crypto_scalarmult_base(bytes(range(0x40, 0x60)))
    signed = {
        "type": "sealdrop-directory",
        "format": 1,
        "deployment": "demo",
        "version": 1,
        "issued": "2026-11-22",
        "not_after": "2027-11-22",
        "test": False,
        # libsodium's crypto_pwhash_argon2id_{OPS,MEM}LIMIT_INTERACTIVE
        "codename_kdf": {"alg": "argon2id13", "opslimit": 2, "memlimit": 67108864},
        "keys": {
            "intake": key_entry(KIND_INTAKE, intake_pk),
            "identity": key_entry(KIND_IDENTITY, identity_pk),
        },
        "agencies": [],
    }
    msg = json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    digest = blake2b256(b"sealdrop directory v1" + msg)
    sig = nb.crypto_sign(digest, root_sk)[:64]
    nb.crypto_sign_open(sig + digest, root_pk)  # raises if it does not verify
    doc = {
        "signed": signed,
        "signature": {"key_id": key_id(KIND_ROOT, root_pk).hex(), "key": base64.b64encode(root_pk).decode(),
                      "sig": base64.b64encode(sig).decode()},
    }
    text = (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    return msg, digest, sig, text


def main():
    msg, digest, sig, text = build()
    got = {
        "msg_blake2b": blake2b256(msg).hex(),
        "sign_digest": digest.hex(),
        "sig": sig.hex(),
        "file_blake2b": blake2b256(text).hex(),
    }
    checks = [("canonical message length", EXPECT_MSG_LEN, len(msg))]
    checks += [(name, EXPECT[name], got[name]) for name in ("msg_blake2b", "sign_digest", "sig", "file_blake2b")]
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    others = ["tests/unit/test_directory.c", "docs/FORMAT.md"]
    print("1..%d" % (len(checks) + len(others)))
    failed = 0
    n = 0
    for name, want, have in checks:
        n += 1
        if want == have:
            print("ok %d - %s" % (n, name))
        else:
            failed += 1
            print("not ok %d - %s: expected %s, computed %s" % (n, name, want, have))
    for rel in others:
        n += 1
        try:
            with open(os.path.join(top, rel), encoding="utf-8") as f:
                body = f.read()
        except OSError as e:
            failed += 1
            print("not ok %d - %s: %s" % (n, rel, e))
            continue
        # C splits long literals ("ab" \ newline "cd"): join adjacent string literals first
        flat = re.sub(r'"\s*(\\\s*)?"', "", body)
        missing = [k for k in ("msg_blake2b", "sign_digest", "sig") if got[k] not in flat]
        if missing:
            failed += 1
            print("not ok %d - %s carries the vector (missing %s)" % (n, rel, ", ".join(missing)))
        else:
            print("ok %d - %s carries the vector" % (n, rel))
    if os.environ.get("SHOW"):
        sys.stdout.write("# msg: %s\n" % msg.decode())
        for k, v in got.items():
            sys.stdout.write("# %s %s\n" % (k, v))
        sys.stdout.write("# msg_len %d\n" % len(msg))
        sys.stdout.write(text.decode())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
