#!/usr/bin/python3
"""consentforge.py — crafts consent files (.sdc) the real client never makes, for the e2e
tests of the server's consent rules (tests/e2e/consent.sh). Written from docs/FORMAT.md
("Consent", "Codename") the way tests/vectors/consent.py checks the vectors, with
PyNaCl and hashlib only, so a bug shared with crypto/consent.c does not hide itself.

    consentforge.py DIRECTORY.json CODENAME_FILE PACKAGE.sdx OUT.sdc [options]

By default the consent is a genuine one: for PACKAGE's header, signed by CODENAME's
consent key, the release being the codename's share sealed to the directory's identity
key, issued today (KST) and valid 30 days. Each option breaks one thing:

  --signer CODENAME_FILE   sign with another codename's consent key (a forgery)
  --digest-of PKG.sdx      name another package's header digest
  --scope S                the scope written ("commission" or "agency:ID")
  --grantee KEY            identity (default), agency:ID (the directory's key of that
                           agency) or random (an X25519 key the directory does not list)
  --issued YYYY-MM-DD      the issue date (default today in KST)
  --expires YYYY-MM-DD     the last valid day (default issued + 30 days)
  --tamper-release         flip a bit of the release after it was signed
Prints the consent id (hex). Exit 2 on a usage or file error.
"""
import argparse, base64, datetime, hashlib, json, os, struct, sys

import nacl.bindings as nb

KIND_IDENTITY, KIND_AGENCY = 3, 4


def H(data, size=32, **kw):
    return hashlib.blake2b(data, digest_size=size, **kw).digest()


def kdf(key, subkey_id):
    return H(b"", 32, key=key, salt=struct.pack("<Q", subkey_id) + bytes(8), person=b"sdcodenm" + bytes(8))


def codename_keys(path, deployment, limits):
    code = " ".join(open(path).read().lower().split()).encode()
    salt = H(b"sealdrop codename v1" + deployment.encode(), 16)
    master = nb.crypto_pwhash_alg(32, code, salt, limits["opslimit"], limits["memlimit"],
                                  nb.crypto_pwhash_ALG_ARGON2ID13)
    _, sk = nb.crypto_sign_seed_keypair(kdf(master, 2))
    return sk, kdf(master, 4)


def header_fields(pkg):
    """As tests/vectors/consent.py reads them: docs/FORMAT.md's preamble offsets."""
    L = pkg[16]
    base = 17 + L
    share_at = base + 280
    n = struct.unpack("<I", pkg[share_at + 72:share_at + 76])[0]
    off = share_at + 76
    for _ in range(n):
        chunks = struct.unpack("<I", pkg[off + 1:off + 5])[0]
        off += 13 + 32 * chunks
    return pkg[17:base].decode(), pkg[:share_at], pkg[share_at:share_at + 72], H(pkg[:off])


def canonical(body):
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def grantee(signed, which):
    if which == "identity":
        return base64.b64decode(signed["keys"]["identity"]["public"])
    if which == "random":
        return nb.crypto_scalarmult_base(os.urandom(32))
    if which.startswith("agency:"):
        for a in signed["agencies"]:
            if a["id"] == which[7:]:
                return base64.b64decode(a["key"]["public"])
    raise ValueError("no grantee %s in the directory" % which)


def main():
    ap = argparse.ArgumentParser()
    for a in ("directory", "codename", "package", "out"):
        ap.add_argument(a)
    ap.add_argument("--signer")
    ap.add_argument("--digest-of")
    ap.add_argument("--scope", default="commission")
    ap.add_argument("--grantee", default="identity")
    ap.add_argument("--issued")
    ap.add_argument("--expires")
    ap.add_argument("--tamper-release", action="store_true")
    o = ap.parse_args()
    signed = json.load(open(o.directory))["signed"]
    deployment, share_ad, wrapped, digest = header_fields(open(o.package, "rb").read())
    if o.digest_of:
        digest = header_fields(open(o.digest_of, "rb").read())[3]
    sk, wrap = codename_keys(o.codename, deployment, signed["codename_kdf"])
    if o.signer:
        sk = codename_keys(o.signer, deployment, signed["codename_kdf"])[0]
    s_w = nb.crypto_aead_xchacha20poly1305_ietf_decrypt(wrapped[24:], share_ad, wrapped[:24], wrap)
    gpk = grantee(signed, o.grantee)
    kind = KIND_AGENCY if o.scope.startswith("agency:") else KIND_IDENTITY  # the id the scope's key would have
    release = bytearray(nb.crypto_box_seal(s_w, gpk))
    kst = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=9))).date()
    issued = datetime.date.fromisoformat(o.issued) if o.issued else kst
    expires = o.expires or (issued + datetime.timedelta(days=30)).isoformat()
    body = {
        "version": 1,
        "deployment": deployment,
        "header_digest": digest.hex(),
        "scope": o.scope,
        "grantee_key": base64.b64encode(gpk).decode(),
        "grantee_key_id": H(b"sealdrop keyid v1" + bytes([kind]) + gpk)[:8].hex(),
        "release_hash": H(bytes(release)).hex(),
        "issued": issued.isoformat(),
        "expires": expires,
        "nonce": os.urandom(32).hex(),
    }
    msg = canonical(body)
    sig = nb.crypto_sign(H(b"sealdrop consent v1" + msg), sk)[:64]
    if o.tamper_release:
        release[40] ^= 0x01
    doc = {"consent": body, "signature": {"sig": base64.b64encode(sig).decode()}}
    f = {"type": "sealdrop-consent", "version": 1, "consent": doc, "release": base64.b64encode(bytes(release)).decode()}
    with open(o.out, "w") as out:
        out.write(json.dumps(f, indent=2, ensure_ascii=False) + "\n")
    print(H(msg).hex())


if __name__ == "__main__":
    try:
        main()
    except (OSError, ValueError, KeyError) as e:
        print("consentforge.py: %s" % e, file=sys.stderr)
        sys.exit(2)
