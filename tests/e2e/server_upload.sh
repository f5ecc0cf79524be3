# server_upload.sh — the filing routes driven with curl against the real server (issue 3,
# docs/API.md): the public routes; an upload's status with its present-chunk bitmaps as
# chunks arrive; a chunk of the wrong length refused before its body; commit, its
# receipt (verified offline), the repeated commit and the re-posted header answering the
# same case and receipt; no chunks after commit; another attorney refused the same
# package and shown none of the cases; /v1/cases paging; the per-account limit on
# unfinished uploads; and expiry: restarted some days later (the test build's clock,
# start_server_testclock), the server removes the unfinished upload, its chunks and its
# digest index, and keeps the committed one.
. "$(dirname "$0")/lib.sh"

mkserver || done_testing
stop_server
# Two unfinished uploads at most, so the limit is reachable.
sed -i 's/^max_uploads_per_account .*/max_uploads_per_account 2/' "$D/sealdropd.conf"
start_server "$D/sealdropd.conf" || { not_ok "set-up: restart with max_uploads_per_account 2"; done_testing; }

seal_server() { # out [seal options]
	_out=$1
	shift
	run sd seal --directory "$D/directory.json" --root "$P/root.key.pub" --report docs/examples/report.json \
		--identity docs/examples/identity.json --out "$_out" --codename-out "$_out.codename" --quiet "$@"
	[ "$RC" -eq 0 ] || { not_ok "set-up: seal $_out"; _diag_output; }
}
post_header() { # who package
	curl_status "$1" POST /v1/uploads --data-binary @"$2.hdr" -H 'Content-Type: application/octet-stream'
}
put_chunk() { # who id package k n
	curl_status "$1" PUT "/v1/uploads/$2/blobs/$4/chunks/$5" --data-binary @"$3.chunks/$4_$5" \
		-H 'Content-Type: application/octet-stream'
}
err_of() {
	json_get "$OUT" 'd["error"]' 2>/dev/null
}
# Which chunks a status document says are present: "k:n k:n ...".
present_of() { # status file
	"$PY" -c 'import base64, json, sys
d = json.load(open(sys.argv[1]))
out = []
for k, b in enumerate(d["blobs"]):
    bits = base64.b64decode(b["present"])
    assert len(bits) == (b["chunks"] + 7) // 8
    out += ["%d:%d" % (k, n) for n in range(b["chunks"]) if bits[n // 8] >> (n % 8) & 1]
print(" ".join(out))' "$1"
}

# --- public routes ---
code=$(curl_status - GET /v1/health)
if [ "$code" = 200 ] && [ "$(json_get "$OUT" 'd["status"]')" = ok ] && [ -n "$(json_get "$OUT" 'd["version"]')" ]; then
	ok "GET /v1/health answers ok and a version without a certificate"
else
	not_ok "GET /v1/health answers ok and a version ($code)"
fi
code=$(curl_status - GET /v1/directory)
if [ "$code" = 200 ] && cmp -s "$OUT" "$D/directory.json"; then ok "GET /v1/directory serves the installed directory byte for byte"; else not_ok "GET /v1/directory serves the installed directory ($code)"; fi
code=$(curl_status - GET /v1/crl)
if [ "$code" = 200 ] && openssl crl -inform DER -in "$OUT" -noout 2>/dev/null; then ok "GET /v1/crl serves a DER CRL"; else not_ok "GET /v1/crl serves a DER CRL ($code)"; fi
code=$(curl_status - GET /v1/cases)
if [ "$code" = 401 ]; then ok "GET /v1/cases without a certificate is 401"; else not_ok "GET /v1/cases without a certificate is 401 ($code)"; fi

# --- an upload, chunk by chunk, with its status ---
head -c 2500000 /dev/urandom >"$T/ev"
seal_server "$T/a.sdx" --evidence "$T/ev"
split_pkg "$T/a.sdx"
code=$(post_header att "$T/a.sdx")
cp "$OUT" "$T/a.status"
id=$(json_get "$T/a.status" 'd["upload"]' 2>/dev/null)
if [ "$code" = 201 ] && [ ${#id} = 32 ]; then ok "POST /v1/uploads: 201 with a 32-hex upload id"; else not_ok "POST /v1/uploads: 201 ($code)"; diag "$(head -c 300 "$OUT")"; fi
digest=$(./sealdrop inspect "$T/a.sdx" --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["header_digest"])')
if [ "$(json_get "$T/a.status" 'd["header_digest"]')" = "$digest" ] && [ "$(json_get "$T/a.status" 'd["state"]')" = open ] &&
	[ "$(json_get "$T/a.status" 'd["chunks"]')" = 6 ] && [ "$(json_get "$T/a.status" 'd["missing"]')" = 6 ] &&
	[ "$(present_of "$T/a.status")" = "" ]; then
	ok "  the new upload's status: open, the header digest, 6 chunks, all missing"
else
	not_ok "  the new upload's status"
	diag "$(cat "$T/a.status")"
fi
code=$(put_chunk att "$id" "$T/a.sdx" 0 0)
c2=$(put_chunk att "$id" "$T/a.sdx" 2 3)
c3=$(put_chunk att "$id" "$T/a.sdx" 2 1)
if [ "$code$c2$c3" = 201201201 ]; then ok "three chunks stored (201)"; else not_ok "three chunks stored ($code $c2 $c3)"; fi
curl_status att GET "/v1/uploads/$id" >/dev/null
cp "$OUT" "$T/a.status"
if [ "$(present_of "$T/a.status")" = "0:0 2:1 2:3" ] && [ "$(json_get "$T/a.status" 'd["missing"]')" = 3 ]; then
	ok "GET /v1/uploads/{id}: the bitmaps show exactly the stored chunks"
else
	not_ok "GET /v1/uploads/{id}: the bitmaps show exactly the stored chunks ($(present_of "$T/a.status"))"
fi
head -c 100 "$T/a.sdx.chunks/2_2" >"$T/short"
code=$(curl_status att PUT "/v1/uploads/$id/blobs/2/chunks/2" --data-binary @"$T/short")
if [ "$code" = 422 ] && [ "$(err_of)" = chunk_mismatch ] && grep -q 'bytes' "$OUT"; then ok "a chunk of the wrong length is refused (422 chunk_mismatch, naming the sizes)"; else not_ok "a chunk of the wrong length is refused ($code $(err_of))"; fi
code=$(curl_status att PUT "/v1/uploads/$id/blobs/2/chunks/4" --data-binary @"$T/short")
if [ "$code" = 404 ]; then ok "a chunk index past the blob's last is 404"; else not_ok "a chunk index past the blob's last is 404 ($code)"; fi
code=$(curl_status att PUT "/v1/uploads/$id/blobs/2/chunks/01" --data-binary @"$T/short")
if [ "$code" = 404 ]; then ok "an index with a leading zero is 404"; else not_ok "an index with a leading zero is 404 ($code)"; fi
code=$(curl_status att GET /v1/uploads/00000000000000000000000000000000)
c2=$(curl_status att GET /v1/uploads/nothex)
if [ "$code" = 404 ] && [ "$c2" = 404 ]; then ok "an unknown or malformed upload id is 404"; else not_ok "an unknown or malformed upload id is 404 ($code $c2)"; fi
code=$(curl_status att POST "/v1/uploads/$id/commit")
if [ "$code" = 409 ] && [ "$(err_of)" = incomplete ] && [ "$(json_get "$OUT" 'len(d["missing"])')" = 3 ] &&
	grep -q 'blob 1 chunk 0' "$OUT"; then
	ok "commit with 3 chunks missing: 409 incomplete listing them"
else
	not_ok "commit with 3 chunks missing: 409 incomplete listing them ($code)"
	diag "$(head -c 300 "$OUT")"
fi
for kn in "1 0" "2 0" "2 2"; do
	# shellcheck disable=SC2086
	put_chunk att "$id" "$T/a.sdx" $kn >/dev/null
done
curl_status att GET "/v1/uploads/$id" >/dev/null
if [ "$(json_get "$OUT" 'd["missing"]')" = 0 ]; then ok "every chunk is present"; else not_ok "every chunk is present"; fi

# --- commit, receipt, repeats ---
code=$(curl_status att POST "/v1/uploads/$id/commit")
cp "$OUT" "$T/commit1.json"
case_no=$(json_get "$T/commit1.json" 'd["case"]' 2>/dev/null)
if [ "$code" = 201 ] && [ "$(json_get "$T/commit1.json" 'd["receipt"]["receipt"]["case"]')" = "$case_no" ] &&
	[ "$(json_get "$T/commit1.json" 'd["receipt"]["receipt"]["header_digest"]')" = "$digest" ] &&
	[ "$(json_get "$T/commit1.json" 'd["receipt"]["receipt"]["attorney"]')" = "Attorney Kim" ]; then
	ok "commit: 201 with case $case_no and a receipt naming it, the digest and the attorney"
else
	not_ok "commit: 201 with a case and its receipt ($code)"
	diag "$(head -c 400 "$T/commit1.json")"
fi
json_get "$T/commit1.json" 'd["receipt"]' >"$T/a.receipt.json"
check "the receipt verifies offline against the directory's log key" \
	sd receipt verify "$T/a.receipt.json" --directory "$D/directory.json" --root "$P/root.key.pub"
code=$(curl_status att POST "/v1/uploads/$id/commit")
if [ "$code" = 200 ] && [ "$(json_get "$OUT" 'd')" = "$(json_get "$T/commit1.json" 'd')" ]; then ok "a repeated commit: 200, the same case and receipt"; else not_ok "a repeated commit: 200, the same case and receipt ($code)"; fi
code=$(post_header att "$T/a.sdx")
if [ "$code" = 200 ] && [ "$(json_get "$OUT" 'd["state"]')" = committed ] && [ "$(json_get "$OUT" 'd["case"]')" = "$case_no" ] &&
	[ "$(json_get "$OUT" 'd["receipt"]')" = "$(json_get "$T/commit1.json" 'd["receipt"]')" ] &&
	[ "$(json_get "$OUT" 'd["upload"]')" = "$id" ]; then
	ok "posting the header again: 200 committed, the same upload, case and receipt"
else
	not_ok "posting the header again: 200 committed with the same case ($code)"
	diag "$(head -c 300 "$OUT")"
fi
code=$(put_chunk att "$id" "$T/a.sdx" 0 0)
if [ "$code" = 409 ] && [ "$(err_of)" = upload_committed ]; then ok "a chunk after commit: 409 upload_committed"; else not_ok "a chunk after commit: 409 upload_committed ($code $(err_of))"; fi
curl_status att GET "/v1/uploads/$id" >/dev/null
if [ "$(json_get "$OUT" 'd["state"]')" = committed ] && [ "$(json_get "$OUT" 'd["case"]')" = "$case_no" ] &&
	[ "$(json_get "$OUT" 'd["missing"]')" = 0 ] && [ "$(json_get "$OUT" 'd["receipt"]["receipt"]["case"]')" = "$case_no" ]; then
	ok "the committed upload's status names the case and carries the receipt"
else
	not_ok "the committed upload's status names the case and carries the receipt"
fi

# --- cases ---
code=$(curl_status att GET /v1/cases)
cp "$OUT" "$T/cases.json"
received=$(json_get "$T/commit1.json" 'd["receipt"]["receipt"]["received"]')
due=$(json_get "$T/commit1.json" 'd["receipt"]["receipt"]["decision_due"]')
if [ "$code" = 200 ] && [ "$(json_get "$T/cases.json" 'len(d["cases"])')" = 1 ] &&
	[ "$(json_get "$T/cases.json" 'd["cases"][0]["case"]')" = "$case_no" ] &&
	[ "$(json_get "$T/cases.json" 'd["cases"][0]["received"]')" = "$received" ] &&
	[ "$(json_get "$T/cases.json" 'd["cases"][0]["decision_due"]')" = "$due" ] &&
	[ "$(json_get "$T/cases.json" 'd["cases"][0]["state"]')" = received ] &&
	[ "$(json_get "$T/cases.json" 'd["more"]')" = false ]; then
	ok "GET /v1/cases: the case with the receipt's dates, state received"
else
	not_ok "GET /v1/cases: the case with the receipt's dates"
	diag "$(head -c 400 "$T/cases.json")"
fi
days=$("$PY" -c 'import datetime as t, sys; a, b = (t.date.fromisoformat(x) for x in sys.argv[1:]); print((b - a).days)' "$received" "$due")
if [ "$days" -ge 60 ] && [ "$days" -le 70 ]; then ok "  the decision is due 60 days after receipt, or the next working day ($days)"; else not_ok "  the decision is due 60 days after receipt ($days)"; fi
code=$(curl_status att GET "/v1/cases?after=$case_no")
if [ "$code" = 200 ] && [ "$(json_get "$OUT" 'len(d["cases"])')" = 0 ]; then ok "?after= the last case gives an empty page"; else not_ok "?after= the last case gives an empty page ($code)"; fi
code=$(curl_status att GET "/v1/cases?limit=5")
if [ "$code" = 400 ]; then ok "any other query is 400"; else not_ok "any other query is 400 ($code)"; fi

# --- concurrent commits of one package: one case ---
seal_server "$T/p.sdx"
split_pkg "$T/p.sdx"
post_header att "$T/p.sdx" >/dev/null
idp=$(json_get "$OUT" 'd["upload"]' 2>/dev/null)
put_chunk att "$idp" "$T/p.sdx" 0 0 >/dev/null
put_chunk att "$idp" "$T/p.sdx" 1 0 >/dev/null
pids=""
for i in 1 2 3 4 5 6; do
	curl -s --max-time 60 -o "$T/pc$i.json" -w '%{http_code}\n' --cacert "$D/ca.pem" --cert "$D/att/cert.pem" \
		--key "$D/att/key.pem" -X POST "$URL/v1/uploads/$idp/commit" >"$T/pc$i.code" &
	pids="$pids $!"
done
# shellcheck disable=SC2086 # the list of pids
wait $pids # not the server's
created=$(cat "$T"/pc*.code | grep -c '^201$')
others=$(cat "$T"/pc*.code | grep -vc '^201$')
busy=$(cat "$T"/pc*.json | grep -c 'commit_in_progress')
repeats=$(cat "$T"/pc*.code | grep -c '^200$')
if [ "$created" = 1 ] && [ $((busy + repeats)) = "$others" ]; then
	ok "six concurrent commits: one 201, the rest 200 (same case) or 409 commit_in_progress"
else
	not_ok "six concurrent commits: one 201 ($created created, $busy in progress, $repeats repeats)"
fi
curl_status att GET /v1/cases >/dev/null
if [ "$(json_get "$OUT" 'len(d["cases"])')" = 2 ]; then ok "  and exactly one more case"; else not_ok "  and exactly one more case"; fi

# --- another attorney ---
check "enroll a second attorney" sdd enroll --dir "$D" --role attorney --name "Attorney Lee" --out "$D/lee"
code=$(post_header lee "$T/a.sdx")
if [ "$code" = 409 ] && [ "$(err_of)" = already_filed ]; then ok "the same package from another attorney: 409 already_filed"; else not_ok "the same package from another attorney: 409 already_filed ($code $(err_of))"; fi
code=$(curl_status lee GET /v1/cases)
if [ "$code" = 200 ] && [ "$(json_get "$OUT" 'len(d["cases"])')" = 0 ]; then ok "the other attorney sees none of Kim's cases"; else not_ok "the other attorney sees none of Kim's cases ($code)"; fi
code=$(curl_status lee POST "/v1/uploads/$id/commit")
if [ "$code" = 404 ]; then ok "nor can commit Kim's upload (404)"; else not_ok "nor can commit Kim's upload ($code)"; fi

# --- the limit on unfinished uploads ---
seal_server "$T/b.sdx"
seal_server "$T/c.sdx"
seal_server "$T/d.sdx"
for x in b c d; do split_pkg "$T/$x.sdx"; done
cb=$(post_header att "$T/b.sdx")
idb=$(json_get "$OUT" 'd["upload"]' 2>/dev/null)
put_chunk att "$idb" "$T/b.sdx" 0 0 >/dev/null
cc=$(post_header att "$T/c.sdx")
idc=$(json_get "$OUT" 'd["upload"]' 2>/dev/null)
c4=$(post_header att "$T/d.sdx")
if [ "$cb$cc" = 201201 ] && [ "$c4" = 429 ] && [ "$(err_of)" = too_many_uploads ]; then ok "a third unfinished upload: 429 too_many_uploads"; else not_ok "a third unfinished upload: 429 ($cb $cc $c4)"; fi
code=$(post_header att "$T/b.sdx")
if [ "$code" = 200 ] && [ "$(json_get "$OUT" 'd["upload"]')" = "$idb" ]; then ok "  resuming one of the two is still fine (200)"; else not_ok "  resuming one of the two is still fine ($code)"; fi
code=$(post_header lee "$T/d.sdx")
idd=$(json_get "$OUT" 'd["upload"]' 2>/dev/null)
if [ "$code" = 201 ]; then ok "  the limit is per account"; else not_ok "  the limit is per account ($code)"; fi
# Ids are a sequence number and random bytes (DECISIONS 106): later uploads sort later.
ids_ok=1
for x in "$id" "$idp" "$idb" "$idc" "$idd"; do [ ${#x} = 32 ] || ids_ok=0; done
if [ "$ids_ok" = 1 ] && printf '%s\n' "$id" "$idp" "$idb" "$idc" "$idd" | sort -c -u 2>/dev/null; then
	ok "upload ids begun one after the other sort one after the other"
else
	not_ok "upload ids begun one after the other sort one after the other"
	diag "$id $idp $idb $idc $idd"
fi

# --- expiry: the server restarted after upload_expiry_days (7) ---
stop_server
stopped_clean() {
	if [ "$SERVER_RC" = 0 ]; then ok "SIGTERM stops the server cleanly"; else not_ok "SIGTERM stops the server cleanly (exit $SERVER_RC)"; diag "$(tail -n 20 "$SERVER_LOG")"; fi
}
stopped_clean
later=$("$PY" -c 'import datetime as t; print((t.datetime.now(t.timezone(t.timedelta(hours=9))).date() + t.timedelta(days=9)).isoformat())')
set_today "$T/today" "$later"
start_server_testclock "$D/sealdropd.conf" "$T/today" || not_ok "the test-clock server starts on $later"
code=$(curl_status att GET "/v1/uploads/$idb")
if [ "$code" = 404 ]; then ok "an unfinished upload past its expiry date is gone (404)"; else not_ok "an unfinished upload past its expiry date is gone ($code)"; fi
code=$(curl_status att GET "/v1/uploads/$id")
if [ "$code" = 200 ] && [ "$(json_get "$OUT" 'd["state"]')" = committed ]; then ok "the committed upload stays"; else not_ok "the committed upload stays ($code)"; fi
code=$(post_header att "$T/b.sdx")
idb2=$(json_get "$OUT" 'd["upload"]' 2>/dev/null)
c2=$(post_header att "$T/d.sdx")
if [ "$code" = 201 ] && [ "$idb2" != "$idb" ] && [ "$c2" = 201 ]; then ok "  its package can be uploaded afresh, and the account's count is back down"; else not_ok "  its package can be uploaded afresh ($code $c2)"; fi
# The largest id was removed at start-up with the expired uploads; the next id still
# follows it, by one step of the sequence (1 to 65,536: nothing was drawn in between).
step=-1
if [ ${#idd} = 32 ] && [ ${#idb2} = 32 ]; then
	step=$(($(printf '%d' "0x${idb2%????????????????}") - $(printf '%d' "0x${idd%????????????????}")))
fi
if [ "$step" -ge 1 ] && [ "$step" -le 65536 ]; then
	ok "  after a restart, the next upload id follows the largest the store held, by one step"
else
	not_ok "  after a restart, the next upload id follows the largest the store held ($idd, then $idb2: $step)"
fi
stop_server
stopped_clean
if grep -q 'removed 3 expired uploads' "$SERVER_LOG"; then ok "  the start-up collection logged the three removals"; else not_ok "  the start-up collection logged the three removals"; diag "$(tail -n 5 "$SERVER_LOG")"; fi
mdb_dump -s chunks "$D/store" >"$T/chunks.dump" 2>/dev/null
if [ -s "$T/chunks.dump" ] && ! grep -q "^ $idb" "$T/chunks.dump" && grep -q "^ $id" "$T/chunks.dump"; then
	ok "  its chunks are deleted from the store; the committed upload's remain"
else
	not_ok "  its chunks are deleted from the store; the committed upload's remain"
fi
if ! mdb_dump -s uploads "$D/store" 2>/dev/null | grep -q "^ $idb"; then ok "  its record is deleted"; else not_ok "  its record is deleted"; fi
done_testing
