#!/usr/bin/python3
"""wbsession.py — a whistleblower's codename session, written from docs/FORMAT.md
("Codename", "Codename session") and docs/API.md ("The whistleblower's channel")
independently of the C client, so the e2e tests can send what the real client never
would: a wrong signature, the header's locator hash instead of the locator, an answer
sent twice, one without its proof of work, one to a challenge kept from before a restart.

    wbsession.py URL CA DIRECTORY.json CODENAME_FILE ROUTE [options]

ROUTE is status or objection. Prints one JSON line per request sent:
{"status": N, "retry_after": "…" | null, "length": bytes, "body": {…}}. Exit 0 (the statuses are the
caller's to check), 2 on a usage or connection error.

Options:
  --bad-signature          sign with another key
  --locator-hash-only      present BLAKE2b(locator) as the locator (what a header holds)
  --no-pow                 send counter 0 whatever the work asked
  --repeat N               send the same answer N times on one connection
  --save-challenge FILE    keep the challenge in FILE (hex) and answer it
  --use-challenge FILE     answer the challenge kept in FILE instead of asking anew
  --body JSON              members added to the body (an objection's "text", "case")
"""
import argparse, base64, hashlib, http.client, json, os, ssl, struct, sys, urllib.parse

import nacl.bindings as nb


def H(data, size=32, **kw):
    return hashlib.blake2b(data, digest_size=size, **kw).digest()


def codename_keys(codename, deployment, ops, mem):
    salt = H(b"sealdrop codename v1" + deployment, 16)
    master = nb.crypto_pwhash_alg(32, codename, salt, ops, mem, nb.crypto_pwhash_ALG_ARGON2ID13)
    sub = lambda i: H(b"", 32, key=master, salt=struct.pack("<Q", i) + bytes(8), person=b"sdcodenm" + bytes(8))
    pk, sk = nb.crypto_sign_seed_keypair(sub(2))
    return sub(1), sk


def pow_counter(nonce, bits):
    i = 0
    while True:
        ctr = struct.pack("<Q", i)
        if bits == 0 or int.from_bytes(H(b"sealdrop pow v1" + nonce + ctr), "big") >> (256 - bits) == 0:
            return ctr
        i += 1


def main():
    ap = argparse.ArgumentParser()
    for a in ("url", "ca", "directory", "codename", "route"):
        ap.add_argument(a)
    ap.add_argument("--bad-signature", action="store_true")
    ap.add_argument("--locator-hash-only", action="store_true")
    ap.add_argument("--no-pow", action="store_true")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--save-challenge")
    ap.add_argument("--use-challenge")
    ap.add_argument("--body", default="{}")
    o = ap.parse_args()
    signed = json.load(open(o.directory))["signed"]
    kdf = signed["codename_kdf"]
    code = " ".join(open(o.codename).read().split()).encode()
    locator, sk = codename_keys(code, signed["deployment"].encode(), kdf["opslimit"], kdf["memlimit"])
    if o.bad_signature:
        _, sk = nb.crypto_sign_seed_keypair(os.urandom(32))
    u = urllib.parse.urlsplit(o.url)
    ctx = ssl.create_default_context(cafile=o.ca)
    ctx.check_hostname = False
    conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=30)
    if o.use_challenge:
        nonce, bits = bytes.fromhex(open(o.use_challenge).read().split()[0]), int(open(o.use_challenge).read().split()[1])
    else:
        conn.request("GET", "/v1/wb/challenge")
        ch = json.loads(conn.getresponse().read())
        nonce, bits = base64.b64decode(ch["challenge"]), ch["bits"]
    if o.save_challenge:
        open(o.save_challenge, "w").write("%s %d\n" % (nonce.hex(), bits))
    ctr = bytes(8) if o.no_pow else pow_counter(nonce, bits)
    shown = H(locator) if o.locator_hash_only else locator
    client_nonce = os.urandom(32)
    digest = H(b"sealdrop session v1" + nonce + client_nonce + H(shown))
    sig = nb.crypto_sign(digest, sk)[:64]
    b64 = lambda x: base64.b64encode(x).decode()
    body = {"session": {"challenge": b64(nonce), "client_nonce": b64(client_nonce), "locator": b64(shown),
                        "signature": b64(sig), "pow": b64(ctr)}}
    body.update(json.loads(o.body))
    for _ in range(o.repeat):
        conn.request("POST", "/v1/wb/" + o.route, body=json.dumps(body), headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        text = r.read()
        print(json.dumps({"status": r.status, "retry_after": r.getheader("Retry-After"),
                          "length": len(text), "body": json.loads(text) if text else None}))


if __name__ == "__main__":
    try:
        main()
    except (OSError, ValueError, KeyError) as e:
        print("wbsession.py: %s" % e, file=sys.stderr)
        sys.exit(2)
