# upload_miss.sh — a chunk PUT whose upload is not in the header cache (issue 3): the
# server reads the upload's record and header back from the store and parses the header
# on its worker thread (server/upload.c, find_parse_work), bound to the record by the
# digest the record names (its signature was verified at POST /v1/uploads; DECISIONS 103),
# before the chunk is taken. After a restart (the cache starts empty) chunks are stored,
# also several at once for the same upload; a header altered in the store (a COPY of the
# stopped server's LMDB files, edited with build/tools/sd-lmdb) is refused with 500 and a
# log line naming the cause, for a changed manifest and for another package's header
# alike, and no chunk lands; a changed signature byte, which the digest does not cover,
# is left to `sealdropd scrub`, which names it.
. "$(dirname "$0")/lib.sh"

require_built "$SEALDROPD" "$SD_LMDB"

mkserver || done_testing

# A package of one small evidence file, split (split_pkg): report, identity and evidence
# chunks (the evidence's 553-byte first chunk, then the rest).
seal_split() { # out
	run sd seal --directory "$D/directory.json" --root "$P/root.key.pub" --report docs/examples/report.json \
		--identity docs/examples/identity.json --evidence "$T/ev" --out "$1" --codename-out "$1.codename" --quiet
	[ "$RC" -eq 0 ] || { not_ok "set-up: seal $1"; _diag_output; return 1; }
	split_pkg "$1"
}
put_chunk() { # id package k n
	curl_status att PUT "/v1/uploads/$1/blobs/$3/chunks/$4" --data-binary @"$2.chunks/$3_$4" \
		-H 'Content-Type: application/octet-stream'
}
present_of() { # status file: "k:n k:n ..."
	"$PY" -c 'import base64, json, sys
d = json.load(open(sys.argv[1]))
out = []
for k, b in enumerate(d["blobs"]):
    bits = base64.b64decode(b["present"])
    out += ["%d:%d" % (k, n) for n in range(b["chunks"]) if bits[n // 8] >> (n % 8) & 1]
print(" ".join(out))' "$1"
}
restart() { # conf description
	stop_server
	start_server "$1" || { not_ok "$2"; diag "$(tail -n 5 "$SERVER_LOG")"; done_testing; }
}

head -c 200000 /dev/urandom >"$T/ev"
seal_split "$T/a.sdx" || done_testing
seal_split "$T/b.sdx" || done_testing
seal_split "$T/c.sdx" || done_testing
code=$(curl_status att POST /v1/uploads --data-binary @"$T/a.sdx.hdr")
id=$(json_get "$OUT" 'd["upload"]' 2>/dev/null)
c2=$(put_chunk "$id" "$T/a.sdx" 0 0)
if [ "$code$c2" = 201201 ] && [ ${#id} = 32 ]; then ok "an upload and its first chunk (201, 201)"; else not_ok "an upload and its first chunk ($code $c2)"; fi

# --- a miss: the header is read back and checked, then the chunk is stored ---
restart "$D/sealdropd.conf" "the server restarts (its header cache empty)"
code=$(put_chunk "$id" "$T/a.sdx" 1 0)
if [ "$code" = 201 ]; then ok "after a restart, a chunk of the upload is stored (201)"; else not_ok "after a restart, a chunk of the upload is stored ($code)"; diag "$(head -c 300 "$OUT")"; fi
restart "$D/sealdropd.conf" "the server restarts again"
# Both remaining chunks at once, each missing the cache: two reads of one upload in flight.
put_chunk "$id" "$T/a.sdx" 2 0 >"$T/c20" &
p1=$!
OUT=$T/out2 put_chunk "$id" "$T/a.sdx" 2 1 >"$T/c21" &
p2=$!
wait $p1 $p2
if [ "$(cat "$T/c20")$(cat "$T/c21")" = 201201 ]; then ok "two chunks of the same uncached upload at once: both stored (201)"; else not_ok "two chunks of the same uncached upload at once ($(cat "$T/c20") $(cat "$T/c21"))"; fi
curl_status att GET "/v1/uploads/$id" >/dev/null
if [ "$(present_of "$OUT")" = "0:0 1:0 2:0 2:1" ]; then ok "  the status shows all four chunks"; else not_ok "  the status shows all four chunks ($(present_of "$OUT"))"; fi
code=$(curl_status att POST /v1/uploads --data-binary @"$T/b.sdx.hdr")
idb=$(json_get "$OUT" 'd["upload"]' 2>/dev/null)
if [ "$code" = 201 ] && [ ${#idb} = 32 ]; then ok "a second upload (201)"; else not_ok "a second upload ($code)"; fi
code=$(curl_status att POST /v1/uploads --data-binary @"$T/c.sdx.hdr")
idc=$(json_get "$OUT" 'd["upload"]' 2>/dev/null)
if [ "$code" = 201 ] && [ ${#idc} = 32 ]; then ok "a third upload (201)"; else not_ok "a third upload ($code)"; fi

# --- headers altered in a copy of the store ---
# In $T/tampered: upload b's header with one byte of its manifest (just before the
# signature, its last 64 bytes: the chunk hashes) flipped; upload a's header replaced by
# b's, whose signature verifies but which is not the header a's record names.
stop_server
rm -rf "$T/tampered" && cp -a "$D" "$T/tampered" && rm -f "$T/tampered/control.sock"
sed "s|^dir .*|dir $T/tampered|" "$D/sealdropd.conf" >"$T/tampered/sealdropd.conf" && chmod 640 "$T/tampered/sealdropd.conf"
hb=$("$SD_LMDB" "$T/tampered/store" get upload_headers "$idb")
bad=$("$PY" -c 'import sys; b = bytearray.fromhex(sys.argv[1]); b[-70] ^= 1; print(b.hex())' "$hb")
check "flip one byte of upload b's header manifest in the copy's store" \
	"$SD_LMDB" "$T/tampered/store" put upload_headers "$idb" "$bad"
check "put upload b's header in place of upload a's in the copy's store" \
	"$SD_LMDB" "$T/tampered/store" put upload_headers "$id" "$hb"
# Upload c: one byte of the signature itself, which the digest does not cover.
hc=$("$SD_LMDB" "$T/tampered/store" get upload_headers "$idc")
badc=$("$PY" -c 'import sys; b = bytearray.fromhex(sys.argv[1]); b[-10] ^= 1; print(b.hex())' "$hc")
check "flip one byte of upload c's header signature in the copy's store" \
	"$SD_LMDB" "$T/tampered/store" put upload_headers "$idc" "$badc"
start_server "$T/tampered/sealdropd.conf" || { not_ok "a server starts on the altered copy"; done_testing; }
code=$(put_chunk "$idb" "$T/b.sdx" 0 0)
err=$(json_get "$OUT" 'd["error"]' 2>/dev/null)
if [ "$code" = 500 ] && [ "$err" = internal ] && grep -q 'damaged' "$OUT"; then
	ok "a chunk for the upload whose header manifest was changed: 500, the stored data is damaged"
else
	not_ok "a chunk for the upload whose header manifest was changed: 500 ($code $err)"
fi
if grep -q 'does not read back: package header is not the one whose signature was verified' "$SERVER_LOG"; then
	ok "  the log says the header is not the one verified"
else
	not_ok "  the log says the header is not the one verified"
	diag "$(tail -n 5 "$SERVER_LOG")"
fi
code=$(curl_status att GET "/v1/uploads/$id")
if [ "$code" = 500 ] && grep -q 'damaged' "$OUT"; then ok "the upload whose header is another package's: 500 on its status"; else not_ok "the upload whose header is another package's: 500 on its status ($code)"; fi
if [ "$(grep -c 'does not read back: package header is not the one whose signature was verified' "$SERVER_LOG")" = 2 ]; then
	ok "  the log says the header is not the record's"
else
	not_ok "  the log says the header is not the record's"
	diag "$(tail -n 5 "$SERVER_LOG")"
fi
code=$(curl_status att GET /v1/health)
if [ "$code" = 200 ]; then ok "the server keeps serving"; else not_ok "the server keeps serving ($code)"; fi
# The signature's own bytes are not the digest's: a chunk PUT takes them (the manifest it
# checks against is the verified one, DECISIONS 103); scrub is what finds them.
code=$(put_chunk "$idc" "$T/c.sdx" 0 0)
if [ "$code" = 201 ]; then ok "a chunk for the upload whose signature bytes changed is checked by the digest (201)"; else not_ok "a chunk for the upload whose signature bytes changed is checked by the digest ($code)"; fi
stop_server
expect_exit 65 "sealdropd scrub finds the three damaged headers (65)" -m "3 damaged items" \
	sdd scrub --config "$T/tampered/sealdropd.conf"
if grep -i "$idc" "$OUT" | grep -qi "signature does not verify"; then
	ok "  and names upload c's signature"
else
	not_ok "  and names upload c's signature"
	diag "$(cat "$OUT")"
fi
if [ -z "$("$SD_LMDB" "$T/tampered/store" get chunks "${idb}0000000000000000" 2>/dev/null)" ]; then
	ok "  no chunk of upload b was stored"
else
	not_ok "  no chunk of upload b was stored"
fi

done_testing
