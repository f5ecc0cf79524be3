#!/usr/bin/python3
"""Independent check of the notice test vector (docs/FORMAT.md, "Notice").

Builds the fixed notice from the specification alone -- hashlib for BLAKE2b, PyNaCl for
X25519, XSalsa20-Poly1305 and Ed25519, Python's json for the canonical serialisation.
The two sealed boxes are built by hand as crypto_box_seal builds them (ephemeral public
key, then crypto_box with the nonce BLAKE2b-192(epk || pk)) from fixed ephemeral secrets,
so they are reproducible; libsodium's own crypto_box_seal_open must open them. Compares
the boxes, the canonical message, the notice digest, the signature and the pretty-printed
file with the vector that tests/unit/test_notice.c asserts against the C implementation.
Prints TAP; exits non-zero on any mismatch. --print shows the computed values.
"""
import base64
import hashlib
import json
import sys

import nacl.bindings as nb

KIND_LOG = 6
TEXT = "사건번호 2026-000001: 테스트 통지입니다.\n\nCase 2026-000001: a test notice.\n"

# The vector (also in tests/unit/test_notice.c and docs/FORMAT.md).
EXPECT = {
    "log_key_id": "89d4e152054dfb5e",
    "to_whistleblower": "79a631eede1bf9c98f12032cdeadd0e7a079398fc786b88cc846ec89af85a51a"
    "8efd57736cb2bf82ab84d9a2214d6c1f61c3385f084e219aa185be19441c5d62"
    "0007e7c7eb2713e590094b4177ed8653b6c666dd4591c19a5c4ad80d2b99aa3e"
    "3d88ed4da866dba3b321e4eeab4dc136e7a8761ad51b8b594d056dfde550fe41"
    "901399fdd1e3a2",
    "to_commission": "493e82fc74464a59268817623d2053c5eb8e2cc4a988b4fee179ec6b010d531d"
    "7ae556ab742c82daf3f547674d4c497a46c92b3a72a35eb1d4cd34d44830562c"
    "5b87ef1a1bd2b3257675b8f779c2e0f9823a4260a56796c0887307b4b46da339"
    "d1d280d086c9281519c8022f14e29c92000cb7440942f58daa302aeec60c93b2"
    "30558c7ba1d51c",
    "msg_len": 500,
    "digest": "9de08b5e9914b8a43b24b542df013be2020f50ca580f6986dcffd676bc627a80",
    "sign_digest": "ff0b5248bf88512e97dd66c3300528acdd59d54b438f94374d5e89f3cefce57e",
    "sig": "942efb3c96af651142aadfa9ae4c5d7d9b56e54f6dff610c5cf7dd52788ae9df"
    "138b8789b182b6c39641e0daca65a9437729c7257497301f107c4fc69a2eec01",
    "file_len": 726,
    "file_blake2b": "3b5a3412321402fb9b80b654c4a6c4368417709eb39b2b9779afc7bbe5a172b7",
}


def blake2b(data, size=32):
    return hashlib.blake2b(data, digest_size=size).digest()


def seq_bytes(first):
    return bytes((first + i) & 0xFF for i in range(32))


def seal(msg, pk, esk):
    """crypto_box_seal with a chosen ephemeral secret."""
    epk = nb.crypto_scalarmult_base(esk)
    nonce = blake2b(epk + pk, 24)
    return epk + nb.crypto_box(msg, nonce, pk, esk)


def compute():
    seed = seq_bytes(0x60)
    log_pk, log_sk = nb.crypto_sign_seed_keypair(seed)
    log_id = blake2b(b"sealdrop keyid v1" + bytes([KIND_LOG]) + log_pk)[:8].hex()
    text = TEXT.encode()
    keys = {}
    boxes = {}
    for name, secret, eph in (("to_whistleblower", 0x20, 0x40), ("to_commission", 0xC0, 0x80)):
        sk = seq_bytes(secret)
        pk = nb.crypto_scalarmult_base(sk)
        keys[name] = (pk, sk)
        boxes[name] = seal(text, pk, seq_bytes(eph))
        if nb.crypto_box_seal_open(boxes[name], pk, sk) != text:
            raise SystemExit("libsodium does not open the hand-built box " + name)
    notice = {
        "version": 1,
        "deployment": "demo",
        "case": "2026-000001",
        "seq": 0,
        "date": "2026-11-23",
        "kind": "receipt",
        "to_whistleblower": base64.b64encode(boxes["to_whistleblower"]).decode(),
        "to_commission": base64.b64encode(boxes["to_commission"]).decode(),
    }
    msg = json.dumps(notice, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    digest = blake2b(b"sealdrop notice v1" + msg)
    sig = nb.crypto_sign(digest, log_sk)[:64]
    doc = {"notice": notice, "signature": {"key_id": log_id, "sig": base64.b64encode(sig).decode()}}
    out = (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()
    return msg, out, {
        "log_key_id": log_id,
        "to_whistleblower": boxes["to_whistleblower"].hex(),
        "to_commission": boxes["to_commission"].hex(),
        "msg_len": len(msg),
        "digest": blake2b(msg).hex(),
        "sign_digest": digest.hex(),
        "sig": sig.hex(),
        "file_len": len(out),
        "file_blake2b": blake2b(out).hex(),
    }


def main():
    msg, out, got = compute()
    if len(sys.argv) > 1 and sys.argv[1] == "--print":
        print(msg.decode())
        print(out.decode(), end="")
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
