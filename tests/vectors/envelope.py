#!/usr/bin/python3
"""An independent reader of the .sdx package, written from docs/FORMAT.md alone.

It opens tests/vectors/package-v1.sdx (made by tests/unit/test_vectors.c) with Python's
hashlib and PyNaCl — never sealdrop's C code — and checks every rule the specification
states. Prints TAP; exits non-zero on any mismatch.
"""
import hashlib
import os
import struct
import sys

import nacl.bindings as nb

HERE = os.path.dirname(os.path.abspath(__file__))
results = []


def check(desc, cond):
    results.append((bool(cond), desc))


def H(data, size=32, **kw):
    return hashlib.blake2b(data, digest_size=size, **kw).digest()


def kdf(key, subkey_id, ctx):
    return H(b"", 32, key=key, salt=struct.pack("<Q", subkey_id) + bytes(8), person=ctx + bytes(8))


def unpad(buf, block):
    """sodium_unpad: strip trailing zeros and the 0x80 marker inside the last block."""
    i = len(buf) - 1
    while i >= len(buf) - block and buf[i] == 0:
        i -= 1
    assert buf[i] == 0x80, "bad padding"
    return buf[:i]


class Reader:
    def __init__(self, data):
        self.d, self.o = data, 0

    def take(self, n):
        assert self.o + n <= len(self.d), "truncated"
        b = self.d[self.o:self.o + n]
        self.o += n
        return b

    def u(self, fmt):
        return struct.unpack("<" + fmt, self.take(struct.calcsize(fmt)))[0]


def codename_keys(codename, deployment, ops, mem):
    salt = H(b"sealdrop codename v1" + deployment, 16)
    master = nb.crypto_pwhash_alg(32, codename, salt, ops, mem, nb.crypto_pwhash_ALG_ARGON2ID13)
    sub = {i: kdf(master, i, b"sdcodenm") for i in (1, 2, 3, 4)}
    consent_pk, _ = nb.crypto_sign_seed_keypair(sub[2])
    notice_pk, _ = nb.crypto_box_seed_keypair(sub[3])
    return sub[1], consent_pk, notice_pk, sub[4]


def main():
    pkg = open(os.path.join(HERE, "package-v1.sdx"), "rb").read()
    r = Reader(pkg)
    check("magic", r.take(8) == b"\x89SDX\r\n\x1a\n")
    check("format version 1", r.u("H") == 1)
    check("flags zero", r.u("H") == 0)
    header_len = r.u("I")
    L = r.u("B")
    deployment = r.take(L)
    check("deployment is demo", deployment == b"demo")
    check("created 2026-11-22", r.u("I") == 20261122)
    check("directory version 1", r.u("I") == 1)
    intake_id, identity_id = r.take(8), r.take(8)
    consent_pk, notice_pk, locator_hash = r.take(32), r.take(32), r.take(32)
    sealed_dek, sealed_sc = r.take(80), r.take(80)
    share_ad = pkg[:r.o]
    wrapped_sw = r.take(72)
    n = r.u("I")
    preamble = pkg[:r.o]
    check("two records and two evidence blobs", n == 4)

    blobs = []
    for i in range(n):
        kind, chunks, size = r.u("B"), r.u("I"), r.u("Q")
        hashes = [r.take(32) for _ in range(chunks)]
        blobs.append((kind, chunks, size, hashes))
    manifest_end = r.o
    signature = r.take(64)
    check("header_len covers preamble, manifest and signature", r.o == header_len)
    check("kinds in order report, identity, evidence", [b[0] for b in blobs] == [1, 2, 3, 3])
    check("file is exactly header plus blobs", len(pkg) == header_len + sum(b[2] for b in blobs))

    binding = H(preamble)
    header_digest = H(pkg[:manifest_end])
    check("header_digest matches FORMAT.md vector",
          header_digest.hex() == "94bffae3d6ed758fbace7bb0211b48cb6c2178a96f0568b6a7b8b06ec415626a")
    to_sign = H(b"sealdrop header v1" + header_digest)
    try:
        nb.crypto_sign_open(signature + to_sign, consent_pk)
        check("header signature verifies with the consent key", True)
    except Exception:
        check("header signature verifies with the consent key", False)

    # Chunk boundaries and hashes, checked before anything is decrypted.
    off, chunk_data = header_len, []
    for kind, chunks, size, hashes in blobs:
        if kind == 3:
            sizes = [553] + [(1 << 20) + 17] * (chunks - 2) + [size - 553 - ((1 << 20) + 17) * (chunks - 2)]
            last = sizes[-1] - 17
            check("evidence last chunk is a power-of-two bucket", last >= 4096 and last & (last - 1) == 0)
        else:
            sizes = [size]
        parts = []
        for s, h in zip(sizes, hashes):
            parts.append(pkg[off:off + s])
            check("chunk hash matches manifest", H(pkg[off:off + s]) == h)
            off += s
        chunk_data.append(parts)
    check("report blob is 24 + 16 KiB + 16", blobs[0][2] == 24 + 16384 + 16)
    check("identity blob is 4136 bytes", blobs[1][2] == 4136)

    def ad(i, kind):
        return binding + bytes([kind]) + struct.pack("<I", i)

    intake_sk = bytes(range(0x20, 0x40))
    intake_pk = nb.crypto_scalarmult_base(intake_sk)
    keyid = H(b"sealdrop keyid v1" + bytes([2]) + intake_pk)[:8]
    check("intake key id", keyid == intake_id)
    dek = nb.crypto_box_seal_open(sealed_dek, intake_pk, intake_sk)

    rep = chunk_data[0][0]
    pt = nb.crypto_aead_xchacha20poly1305_ietf_decrypt(rep[24:], ad(0, 1), rep[:24], kdf(dek, 1, b"sdcontnt"))
    report = unpad(pt, len(pt))
    check("report decrypts to the vector text", report.startswith(b'{\n  "accused_organization": "Example Corporation"'))

    names = []
    for i in (2, 3):
        parts = chunk_data[i]
        state = nb.crypto_secretstream_xchacha20poly1305_state()
        nb.crypto_secretstream_xchacha20poly1305_init_pull(state, parts[0][:24], kdf(dek, i + 1, b"sdcontnt"))
        meta, tag = nb.crypto_secretstream_xchacha20poly1305_pull(state, parts[0][24:], ad(i, 3))
        check("metadata message is not final", tag == nb.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE)
        meta = unpad(meta, 512)
        size = struct.unpack("<Q", meta[:8])[0]
        name = meta[9:9 + meta[8]]
        mtype = meta[10 + meta[8]:]
        data = b""
        for j, c in enumerate(parts[1:]):
            m, tag = nb.crypto_secretstream_xchacha20poly1305_pull(state, c, ad(i, 3))
            final = j == len(parts) - 2
            check("FINAL exactly on the last chunk",
                  (tag == nb.crypto_secretstream_xchacha20poly1305_TAG_FINAL) == final)
            data += unpad(m, len(m)) if final else m
        check("evidence %s has its stated size" % name.decode(), len(data) == size)
        names.append((name, mtype, data))
    check("evidence names and types",
          [(n, t) for n, t, _ in names] == [(b"memo.txt", b"text/plain"), (b"empty.bin", b"application/octet-stream")])
    check("memo text", names[0][2].startswith(b"Meeting notes, 2026-10-02"))

    # The identity: s_c from the identity key, s_w from the codename.
    identity_sk = bytes(range(0x40, 0x60))
    identity_pk = nb.crypto_scalarmult_base(identity_sk)
    s_c = nb.crypto_box_seal_open(sealed_sc, identity_pk, identity_sk)
    locator, cpk, npk, share_wrap = codename_keys(
        b"abacus abdomen abdominal abide abiding ability ablaze able", b"demo", 1, 8192)
    check("consent key derives from the codename", cpk == consent_pk)
    check("notice key derives from the codename", npk == notice_pk)
    check("locator hash", H(locator) == locator_hash)
    s_w = nb.crypto_aead_xchacha20poly1305_ietf_decrypt(wrapped_sw[24:], share_ad, wrapped_sw[:24], share_wrap)
    id_key = H(b"sealdrop identity v1" + s_c + s_w)
    blob = chunk_data[1][0]
    pt = nb.crypto_aead_xchacha20poly1305_ietf_decrypt(blob[24:], ad(1, 2), blob[:24], id_key)
    check("identity decrypts with s_c and s_w together", b'"rrn": "850314-2123456"' in unpad(pt, 4096))
    try:
        nb.crypto_aead_xchacha20poly1305_ietf_decrypt(blob[24:], ad(1, 2), blob[:24],
                                                      H(b"sealdrop identity v1" + s_c + bytes(32)))
        check("identity stays sealed without s_w", False)
    except Exception:
        check("identity stays sealed without s_w", True)

    failed = 0
    for i, (ok, desc) in enumerate(results, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", i, desc))
        failed += not ok
    print("1..%d" % len(results))
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # a parse failure is a test failure, never a pass
        print("not ok - envelope vector could not be read: %r" % (e,))
        sys.exit(1)
