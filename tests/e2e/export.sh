# export.sh — `sealdrop export` and `sealdrop open FILE.sdr` end to end (issue 5, item 1):
# an agency's key is added by a new directory version the operator installs; an officer
# exports a filed case's referral bundle for it; the agency opens it and recovers the
# report and evidence byte for byte; the export receipt verifies and its audit leaf is in
# the log. A flipped byte, a truncated bundle and a swapped receipt are refused (65); an
# agency the directory does not list is refused before anything is sent; an attorney may
# not export (403); and the bundle holds no identity material: its sections are listed,
# and none of the .sdx's identity bytes (sealed s_c, wrapped s_w, the identity blob, the
# whistleblower's keys and locator hash) occur anywhere in it.
. "$(dirname "$0")/lib.sh"

if ! "$SEALDROP" export --help >/dev/null 2>&1; then
	not_ok "sealdrop export exists (sealdrop export --help)"
	done_testing
fi

# --- help and usage (no server needed) ---
check "export --help" sd export --help
if grep -q -- '--agency ID' "$OUT" && grep -q 'not in it' "$OUT"; then ok "  documents --agency and the identity's absence"; else not_ok "  documents --agency and the identity's absence"; fi
check "open --help documents FILE.sdr" sd open --help
if grep -q 'FILE.sdr --agency KEY' "$OUT"; then ok "  the bundle synopsis"; else not_ok "  the bundle synopsis"; fi
NET="--server https://127.0.0.1:1 --ca /x --cert /x --key /x --root /x --intake /x"
# shellcheck disable=SC2086
{
	expect_exit 64 "export without --agency" -m 'missing --agency' sd export 2026-000001 --out "$T/x.sdr" $NET
	expect_exit 64 "export without --out" -m 'missing --out' sd export 2026-000001 --agency police $NET
	expect_exit 64 "export with a malformed agency id" -m 'agency id' sd export 2026-000001 --agency 'Po lice' --out "$T/x.sdr" $NET
	expect_exit 64 "export with a malformed case number" -m 'case number' sd export 2026-1 --agency police --out "$T/x.sdr" $NET
}

# --- a deployment; the agency's key; directory version 2 lists it ---
mkserver || done_testing
check "enroll an officer" sdd enroll --dir "$D" --role officer --name "Officer Park" --out "$D/off"
mkkey agency "$T/police.key" || done_testing
mkkey agency "$T/other.key" || done_testing
check "sign directory version 2 with agency police" sd directory create --deployment demo \
	--intake "$P/intake.key.pub" --identity "$P/identity.key.pub" --log "$D/log.key.pub" --tls-ca "$D/ca.pem" \
	--root "$P/root.key" --passphrase-file "$PW" --version 2 --out "$T/dir2.json" \
	--agency "police:National Police Agency:$T/police.key.pub"
check "install it" sdd directory install --dir "$D" "$T/dir2.json"
SRV="--server $URL --ca $D/ca.pem --root $P/root.key.pub"
OFF="--cert $D/off/cert.pem --key $D/off/key.pem"
INTAKE="--intake $P/intake.key --passphrase-file $PW"

random_file "$T/scan.bin" 3
printf 'minutes of the procurement committee, 2026-03-14\n' >"$T/memo.txt"
run sd seal --directory "$T/dir2.json" --root "$P/root.key.pub" --report docs/examples/report.json \
	--identity docs/examples/identity.json --out "$T/a.sdx" --codename-out "$T/a.codename" --quiet \
	--evidence "$T/scan.bin" --evidence "$T/memo.txt"
[ "$RC" -eq 0 ] || { not_ok "set-up: seal"; _diag_output; done_testing; }
run sd file "$T/a.sdx" --server "$URL" --ca "$D/ca.pem" --cert "$D/att/cert.pem" --key "$D/att/key.pem" \
	--root "$P/root.key.pub" --json
[ "$RC" -eq 0 ] || { not_ok "set-up: file"; _diag_output; done_testing; }
CASE=$(json_get "$OUT" 'd["case"]')
ok "a package filed as case $CASE"
run sd open "$T/a.sdx" --intake "$P/intake.key" --passphrase-file "$PW" --out "$T/ref"
[ "$RC" -eq 0 ] || { not_ok "set-up: open the package locally"; _diag_output; }

# --- refusals before anything is sent ---
# shellcheck disable=SC2086
expect_exit 65 "an agency the directory does not list is refused (65)" -m "'customs' is not in the directory" \
	sd export "$CASE" --agency customs --out "$T/c.sdr" $SRV $OFF $INTAKE
if [ ! -e "$T/c.sdr" ]; then ok "  no bundle written"; else not_ok "  no bundle written"; fi
code=$(curl_status off POST "/v1/cases/$CASE/exports" -H 'Content-Type: application/json' \
	-d '{"agency":"customs","bundle_digest":"'"$(printf '%064d' 0)"'"}')
if [ "$code" = 422 ] && grep -q unknown_agency "$OUT"; then ok "  the server refuses it too (422 unknown_agency)"; else not_ok "  the server refuses it too ($code)"; diag "$(cat "$OUT")"; fi
code=$(curl_status att POST "/v1/cases/$CASE/exports" -H 'Content-Type: application/json' \
	-d '{"agency":"police","bundle_digest":"'"$(printf '%064d' 0)"'"}')
if [ "$code" = 403 ]; then ok "an attorney's certificate gets 403 on the export route"; else not_ok "an attorney's certificate gets 403 on the export route ($code)"; fi
code=$(curl_status off POST "/v1/cases/2026-999999/exports" -H 'Content-Type: application/json' \
	-d '{"agency":"police","bundle_digest":"'"$(printf '%064d' 0)"'"}')
if [ "$code" = 404 ]; then ok "an unknown case: 404"; else not_ok "an unknown case: 404 ($code)"; fi
code=$(curl_status off POST "/v1/cases/$CASE/exports" -H 'Content-Type: application/json' \
	-d '{"agency":"police","bundle_digest":"00","extra":1}')
if [ "$code" = 400 ]; then ok "a malformed body: 400"; else not_ok "a malformed body: 400 ($code)"; fi

# --- the export ---
# shellcheck disable=SC2086
expect_exit 0 "the officer exports $CASE for police" sd export "$CASE" --agency police --out "$T/a.sdr" $SRV $OFF $INTAKE --json
cp "$OUT" "$T/export.json"
if [ "$(file_mode "$T/a.sdr")" = 600 ]; then ok "  the bundle is mode 600"; else not_ok "  the bundle is mode 600"; fi
if [ -z "$(tmp_leftovers "$T")" ]; then ok "  no temporary file left"; else not_ok "  no temporary file left"; diag "$(tmp_leftovers "$T")"; fi
LEAF=$(json_get "$T/export.json" 'd["leaf_index"]')
DIGEST=$(json_get "$T/export.json" 'd["bundle_digest"]')
# shellcheck disable=SC2086
expect_exit 73 "an existing output is not overwritten" sd export "$CASE" --agency police --out "$T/a.sdr" $SRV $OFF $INTAKE

# --- the bundle's structure, and no identity in it ---
cat >"$T/sdr.py" <<'EOF'
import hashlib, json, struct, sys
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"\x89SDR\r\n\x1a\n", "magic"
ver, flags, head_len = struct.unpack_from("<HHI", b, 8)
o = 16
def take(n):
    global o
    v = b[o:o + n]; o += n; return v
sections = ["prefix"]
n = take(1)[0]; case = take(n).decode(); sections.append("case")
n = take(1)[0]; agency = take(n).decode(); sections.append("agency")
take(32); sections.append("header_digest")
take(32); sections.append("binding")
take(80); sections.append("sealed_dek")
n, = struct.unpack("<I", take(4)); d = json.loads(take(n)); sections.append("directory")
n, = struct.unpack("<I", take(4)); sections.append("manifest:%d" % n)
kinds = []
size = 0
for i in range(n):
    k, c, s = struct.unpack("<BIQ", take(13)); take(32 * c); kinds.append(k); size += s
assert o == head_len, (o, head_len)
o += size
sections.append("ciphertext")
digest = hashlib.blake2b(b[:o], digest_size=32).hexdigest()
n, = struct.unpack("<I", take(4)); r = json.loads(take(n)); sections.append("receipt")
assert o == len(b), "trailing bytes"
print(" ".join(sections), "kinds=" + ",".join(map(str, kinds)), case, agency, digest,
      sorted(r), sorted(r["export"]))
EOF
cat >"$T/sdx_identity.py" <<'EOF'
import struct, sys
b = open(sys.argv[1], "rb").read()
hl, = struct.unpack_from("<I", b, 12)
o = 16
dl = b[o]; o += 1 + dl + 4 + 4 + 8 + 8
parts = {}
parts["consent_pk"] = b[o:o + 32]; o += 32
parts["notice_pk"] = b[o:o + 32]; o += 32
parts["locator_hash"] = b[o:o + 32]; o += 32
o += 80  # sealed content key (re-sealed in the bundle, so never equal)
parts["sealed_sc"] = b[o:o + 80]; o += 80
parts["wrapped_sw"] = b[o:o + 72]; o += 72
n, = struct.unpack_from("<I", b, o); o += 4
sizes = []
for i in range(n):
    k, c, s = struct.unpack_from("<BIQ", b, o); o += 13
    if k == 2:
        parts["identity_chunk_hash"] = b[o:o + 32]
    o += 32 * c; sizes.append(s)
parts["identity_blob"] = b[hl + sizes[0]:hl + sizes[0] + sizes[1]]
bundle = open(sys.argv[2], "rb").read()
found = [k for k, v in parts.items() if v in bundle or v[:16] in bundle or v[-16:] in bundle]
# any 16-byte window of the identity blob
blob = parts["identity_blob"]
for i in range(0, len(blob) - 16, 8):
    if blob[i:i + 16] in bundle:
        found.append("identity_blob@%d" % i); break
print("found:" + ",".join(found) if found else "none", len(blob))
EOF
run "$PY" "$T/sdr.py" "$T/a.sdr"
if [ "$RC" -eq 0 ] && grep -q "^prefix case agency header_digest binding sealed_dek directory manifest:3 ciphertext receipt kinds=1,3,3 $CASE police $DIGEST \['export', 'signature'\]" "$OUT"; then
	ok "the bundle's sections: case, agency, digests, sealed key, directory, report + 2 evidence, ciphertext, receipt"
else
	not_ok "the bundle's sections"
	_diag_output out
fi
run "$PY" "$T/sdx_identity.py" "$T/a.sdx" "$T/a.sdr"
if [ "$RC" -eq 0 ] && grep -q '^none 4136$' "$OUT"; then ok "none of the package's identity bytes (s_c, s_w, identity blob, consent/notice keys, locator hash) occur in the bundle"; else not_ok "no identity bytes in the bundle"; _diag_output out; fi

# --- the agency opens it ---
expect_exit 0 "the agency opens the bundle" sd open "$T/a.sdr" --agency "$T/police.key" --passphrase-file "$PW" \
	--root "$P/root.key.pub" --out "$T/opened"
if grep -q "export receipt of .*audit leaf $LEAF, verified" "$OUT"; then ok "  says the receipt verified"; else not_ok "  says the receipt verified"; _diag_output out; fi
if cmp -s "$T/opened/report.json" "$T/ref/report.json" && cmp -s "$T/opened/evidence/scan.bin" "$T/scan.bin" &&
	cmp -s "$T/opened/evidence/memo.txt" "$T/memo.txt"; then
	ok "  report and evidence byte-identical to what was sealed"
else
	not_ok "  report and evidence byte-identical to what was sealed"
fi
if [ "$(cd "$T/opened" && find . -mindepth 1 | sort | tr '\n' ' ')" = "./evidence ./evidence/memo.txt ./evidence/scan.bin ./report.json " ]; then ok "  nothing else (no identity)"; else not_ok "  nothing else (no identity)"; fi
expect_exit 0 "without --root: opened, with a warning" -m 'NOT checked against a pinned root' \
	sd open "$T/a.sdr" --agency "$T/police.key" --passphrase-file "$PW" --out "$T/opened2" --json
if [ "$(json_get "$OUT" '(d["case"], d["agency"], d["receipt_verified"], d["leaf_index"])')" = "('$CASE', 'police', True, $LEAF)" ]; then ok "  --json names case, agency and leaf"; else not_ok "  --json names case, agency and leaf"; _diag_output out; fi
expect_exit 65 "another agency key is refused (65)" -m 'not the key the directory lists' \
	sd open "$T/a.sdr" --agency "$T/other.key" --passphrase-file "$PW" --root "$P/root.key.pub" --out "$T/o3"
expect_exit 64 "an intake key does not open a bundle" -m '--agency' \
	sd open "$T/a.sdr" --intake "$P/intake.key" --passphrase-file "$PW" --out "$T/o3"

# --- tampering ---
size=$(file_size "$T/a.sdr")
for off in 40 $((size / 2)) $((size - 30)); do
	cp "$T/a.sdr" "$T/f.sdr"
	flip_byte "$T/f.sdr" "$off"
	expect_exit 65 "a byte flipped at $off of $size is refused (65)" \
		sd open "$T/f.sdr" --agency "$T/police.key" --passphrase-file "$PW" --root "$P/root.key.pub" --out "$T/f$off"
	if [ ! -e "$T/f$off" ]; then ok "  nothing written"; else not_ok "  nothing written"; fi
done
head -c $((size - 100)) "$T/a.sdr" >"$T/t.sdr"
expect_exit 65 "a truncated bundle is refused (65)" -m truncated \
	sd open "$T/t.sdr" --agency "$T/police.key" --passphrase-file "$PW" --root "$P/root.key.pub" --out "$T/t"

# A second export of the same case: its receipt swapped into the first bundle.
# shellcheck disable=SC2086
check "a second export of $CASE" sd export "$CASE" --agency police --out "$T/b.sdr" $SRV $OFF $INTAKE
"$PY" - "$T/a.sdr" "$T/b.sdr" "$T/s.sdr" <<'EOF'
import struct, sys
def split(p):
    b = open(p, "rb").read()
    # the trailer starts where the head and manifest say the ciphertext ends
    hl, = struct.unpack_from("<I", b, 12)
    o = 16; o += 1 + b[o]; o += 1 + b[o]; o += 32 + 32 + 80
    dl, = struct.unpack_from("<I", b, o); o += 4 + dl
    n, = struct.unpack_from("<I", b, o); o += 4
    size = 0
    for i in range(n):
        k, c, s = struct.unpack_from("<BIQ", b, o); o += 13 + 32 * c; size += s
    return b[:hl + size], b[hl + size:]
a, _ = split(sys.argv[1])
_, rb = split(sys.argv[2])
open(sys.argv[3], "wb").write(a + rb)
EOF
expect_exit 65 "a bundle with another bundle's receipt is refused (65)" -m 'not the one its export receipt signs' \
	sd open "$T/s.sdr" --agency "$T/police.key" --passphrase-file "$PW" --root "$P/root.key.pub" --out "$T/s"

# --- the audit leaf ---
check "publish a head" sdd audit publish --config "$D/sealdropd.conf"
code=$(curl_status off GET "/v1/log/entries?case=$CASE")
r=$("$PY" -c 'import base64, json, sys
d = json.load(open(sys.argv[1]))
leaf = [json.loads(base64.b64decode(e["leaf"])) for e in d["entries"] if e["index"] == int(sys.argv[2])]
e = leaf[0] if leaf else {}
print(e.get("event"), e.get("case"), e.get("role"), e.get("detail"), e.get("digest") == sys.argv[3], "actor" in e)' \
	"$OUT" "$LEAF" "$DIGEST" 2>&1)
if [ "$code" = 200 ] && [ "$r" = "export $CASE officer police True True" ]; then
	ok "leaf $LEAF: event export, the case, role officer, detail police, the bundle digest, the actor"
else
	not_ok "the export's audit leaf is in the log ($code, $r)"
	diag "$(head -c 600 "$OUT")"
fi

stop_server
done_testing
