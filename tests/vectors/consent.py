#!/usr/bin/python3
"""Independent check of the consent, revocation and .sdc vectors (docs/FORMAT.md, "Consent").

Written from the specification alone -- hashlib for BLAKE2b, PyNaCl for Argon2id,
XChaCha20-Poly1305, X25519 and Ed25519, Python's json for the canonical serialisation.
It reads the header of tests/vectors/package-v1.sdx (the whole-package vector), derives
the codename's keys, unwraps the whistleblower's share s_w, builds the release by hand as
crypto_box_seal builds it (from a fixed ephemeral secret, so it is reproducible; libsodium's
crypto_box_seal_open must open it with the identity key), then the signed consent, its id,
a revocation of it and both offline files. Compares everything with the vector that
tests/unit/test_consent.c asserts against the C implementation. Prints TAP; exits non-zero
on any mismatch. --print shows the computed values and documents.
"""
import base64
import hashlib
import json
import os
import struct
import sys

import nacl.bindings as nb

HERE = os.path.dirname(os.path.abspath(__file__))
CODENAME = b"abacus abdomen abdominal abide abiding ability ablaze able"
KIND_IDENTITY = 3

# The vector (also in tests/unit/test_consent.c and docs/FORMAT.md).
EXPECT = {
    "header_digest": "94bffae3d6ed758fbace7bb0211b48cb6c2178a96f0568b6a7b8b06ec415626a",
    "consent_pk": "158b95ec5c34495230d1a483b1132e3e811d4858c92c2a771a8bdbbab75b7647",
    "header consent_pk is the codename's": "True",
    "s_w": "3a38c617724f6f99df430b3789e5d532eaaf01bdf8d4056aa8a7a2daf2594c25",
    "identity_key_id": "ce9391590d7a7c13",
    "release": "605a725d2a4adfeeb1a29e17edd621c1b7593ee8cdbc44ac6c4ab6e2f805d23c"
    "15ee7e8d59052b88309dc0fad8f5bd3830ba558e370f8a793ca5941de5933433"
    "3e411fcf3b0260f889949b5da0414ce2",
    "release_hash": "dc0cfad72666faecb0cf1e8e81298acd5c1b265e0072fde3fbc6a3bb68c2179a",
    "consent msg_len": 436,
    "consent sign_digest": "0b586cbd854009bb019736cb14610e643589606556f211eadb25ae2faecc5fd5",
    "consent sig": "b870bb5c577cedecdfa79aea77d523814ec79c56d95984dfe19fc537cf7f203b"
    "0f57d889d21d29adc196d678492a7f74681a0c6c3f7d58e1e47d475a8b6c8101",
    "consent_id": "17172036ba3f5973b9962c4a3e2c5b45ea54541dbb678604302cd462c31b2247",
    "consent file_len": 641,
    "consent file_blake2b": "84d0153683bc37f3dc263689a198dcf14a2ab0befd6fe8e29109d007cf99c314",
    "revocation msg_len": 288,
    "revocation sign_digest": "d2d6c2f2a782be37e5de209662a7891c3723e6017461baa4335d192ed597d210",
    "revocation sig": "207bb61be7f8c0778cc26c34bd2fc396aeafc8b5df8db3b6db521d5af7cb08ba"
    "871c32ad232bb686eb0276831914126e35616d4a2c12796587660138f7819a09",
    "revocation id": "603d3d0d33fa3ab14c8792a4d6498faf1de5455db29350dcae5a5a345af133d7",
    "revocation file_len": 472,
    "revocation file_blake2b": "6de73786e43de7032bf998c507c3bed2676b78f9abb41d1793e4af276ec6da80",
    "consent.sdc len": 861,
    "consent.sdc blake2b": "40f2e563a2aba53affc73e410853140762236a6a88b8420b6abe22e6ceb50583",
    "revocation.sdc len": 565,
    "revocation.sdc blake2b": "a9fa5598b327f7948882f53c982bf30d25153fc9cea0485dd2d3429d24ccf2f0",
}


def H(data, size=32, **kw):
    return hashlib.blake2b(data, digest_size=size, **kw).digest()


def kdf(key, subkey_id, ctx):
    return H(b"", 32, key=key, salt=struct.pack("<Q", subkey_id) + bytes(8), person=ctx + bytes(8))


def seq_bytes(first):
    return bytes((first + i) & 0xFF for i in range(32))


def seal(msg, pk, esk):
    """crypto_box_seal with a chosen ephemeral secret."""
    epk = nb.crypto_scalarmult_base(esk)
    return epk + nb.crypto_box(msg, H(epk + pk, 24), pk, esk)


def header_fields(pkg):
    """The preamble fields the consent needs, by the offsets of docs/FORMAT.md."""
    L = pkg[16]
    base = 17 + L
    deployment = pkg[17:base].decode()
    consent_pk = pkg[base + 24:base + 56]
    share_at = base + 280
    wrapped = pkg[share_at:share_at + 72]
    n = struct.unpack("<I", pkg[share_at + 72:share_at + 76])[0]
    off = share_at + 76
    for _ in range(n):
        chunks = struct.unpack("<I", pkg[off + 1:off + 5])[0]
        off += 13 + 32 * chunks
    return deployment, consent_pk, pkg[:share_at], wrapped, H(pkg[:off])


def dumps_pretty(doc):
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()


def canonical(body):
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signed(body, name, purpose, sk):
    msg = canonical(body)
    digest = H(b"sealdrop " + purpose + b" v1" + msg)
    sig = nb.crypto_sign(digest, sk)[:64]
    return msg, digest, sig, {name: body, "signature": {"sig": base64.b64encode(sig).decode()}}


def compute():
    pkg = open(os.path.join(HERE, "package-v1.sdx"), "rb").read()
    deployment, consent_pk, share_ad, wrapped, header_digest = header_fields(pkg)
    salt = H(b"sealdrop codename v1" + deployment.encode(), 16)
    master = nb.crypto_pwhash_alg(32, CODENAME, salt, 1, 8192, nb.crypto_pwhash_ALG_ARGON2ID13)
    cpk, csk = nb.crypto_sign_seed_keypair(kdf(master, 2, b"sdcodenm"))
    s_w = nb.crypto_aead_xchacha20poly1305_ietf_decrypt(wrapped[24:], share_ad, wrapped[:24],
                                                        kdf(master, 4, b"sdcodenm"))
    id_sk = seq_bytes(0x40)
    id_pk = nb.crypto_scalarmult_base(id_sk)
    id_kid = H(b"sealdrop keyid v1" + bytes([KIND_IDENTITY]) + id_pk)[:8]
    release = seal(s_w, id_pk, seq_bytes(0xA0))
    if nb.crypto_box_seal_open(release, id_pk, id_sk) != s_w:
        raise SystemExit("libsodium does not open the hand-built release")
    consent = {
        "version": 1,
        "deployment": deployment,
        "header_digest": header_digest.hex(),
        "scope": "commission",
        "grantee_key": base64.b64encode(id_pk).decode(),
        "grantee_key_id": id_kid.hex(),
        "release_hash": H(release).hex(),
        "issued": "2026-11-24",
        "expires": "2026-12-24",
        "nonce": seq_bytes(0xC0).hex(),
    }
    cmsg, cdig, csig, cdoc = signed(consent, "consent", b"consent", csk)
    consent_id = H(cmsg)
    revocation = {
        "version": 1,
        "deployment": deployment,
        "header_digest": header_digest.hex(),
        "consent": consent_id.hex(),
        "date": "2026-11-30",
        "nonce": seq_bytes(0xE0).hex(),
    }
    rmsg, rdig, rsig, rdoc = signed(revocation, "revocation", b"revoke", csk)
    cfile = dumps_pretty({"type": "sealdrop-consent", "version": 1, "consent": cdoc,
                          "release": base64.b64encode(release).decode()})
    rfile = dumps_pretty({"type": "sealdrop-revocation", "version": 1, "revocation": rdoc})
    out = {"consent.json": dumps_pretty(cdoc), "revocation.json": dumps_pretty(rdoc),
           "consent.sdc": cfile, "revocation.sdc": rfile, "consent msg": cmsg, "revocation msg": rmsg}
    return out, {
        "header_digest": header_digest.hex(),
        "consent_pk": cpk.hex(),
        "header consent_pk is the codename's": str(cpk == consent_pk),
        "s_w": s_w.hex(),
        "identity_key_id": id_kid.hex(),
        "release": release.hex(),
        "release_hash": H(release).hex(),
        "consent msg_len": len(cmsg),
        "consent sign_digest": cdig.hex(),
        "consent sig": csig.hex(),
        "consent_id": consent_id.hex(),
        "consent file_len": len(out["consent.json"]),
        "consent file_blake2b": H(out["consent.json"]).hex(),
        "revocation msg_len": len(rmsg),
        "revocation sign_digest": rdig.hex(),
        "revocation sig": rsig.hex(),
        "revocation id": H(rmsg).hex(),
        "revocation file_len": len(out["revocation.json"]),
        "revocation file_blake2b": H(out["revocation.json"]).hex(),
        "consent.sdc len": len(cfile),
        "consent.sdc blake2b": H(cfile).hex(),
        "revocation.sdc len": len(rfile),
        "revocation.sdc blake2b": H(rfile).hex(),
    }


def main():
    out, got = compute()
    if len(sys.argv) > 1 and sys.argv[1] == "--print":
        for k, v in out.items():
            print("==", k)
            sys.stdout.write(v.decode() + ("" if v.endswith(b"\n") else "\n"))
        for k, v in got.items():
            print(k, v)
        return 0
    if len(sys.argv) > 2 and sys.argv[1] == "--write":
        for k in ("consent.json", "revocation.json", "consent.sdc", "revocation.sdc"):
            open(os.path.join(sys.argv[2], k), "wb").write(out[k])
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
    try:
        sys.exit(main())
    except Exception as e:  # a failure to compute is a test failure, never a pass
        print("not ok - consent vector could not be computed: %r" % (e,))
        sys.exit(1)
