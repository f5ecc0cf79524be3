# server_filing.sh — filing through the real server (issue 3): an interrupted
# `sealdrop file` resumes where it stopped and ends with one case; a tampered chunk, a
# swapped blob, a package for another deployment and a header whose signature does not
# verify are refused with a message naming the cause, by the client and by the server
# (driven with curl), and leave no case behind.
. "$(dirname "$0")/lib.sh"

mkserver || done_testing
file_pkg() { # package [file options]
	_pkg=$1
	shift
	run sd file "$_pkg" --server "$URL" --ca "$D/ca.pem" --cert "$D/att/cert.pem" --key "$D/att/key.pem" \
		--root "$P/root.key.pub" "$@"
}
seal_server() { # out [seal options]
	_out=$1
	shift
	run sd seal --directory "$D/directory.json" --root "$P/root.key.pub" --report docs/examples/report.json \
		--identity docs/examples/identity.json --out "$_out" --codename-out "$_out.codename" --quiet "$@"
	[ "$RC" -eq 0 ] || { not_ok "set-up: seal $_out"; _diag_output; }
}
n_cases() {
	curl -s --cacert "$D/ca.pem" --cert "$D/att/cert.pem" --key "$D/att/key.pem" "$URL/v1/cases" >"$T/cases.json"
	json_get "$T/cases.json" 'len(d["cases"])' 2>/dev/null
}
header_of() { # package out
	_hl=$("$PY" -c 'import struct,sys; d=open(sys.argv[1],"rb").read(16); print(struct.unpack("<I", d[12:16])[0])' "$1")
	head -c "$_hl" "$1" >"$2"
}

# --- resume after a kill ---
random_file "$T/big.bin" 96
seal_server "$T/big.sdx" --evidence "$T/big.bin"
sd file "$T/big.sdx" --server "$URL" --ca "$D/ca.pem" --cert "$D/att/cert.pem" --key "$D/att/key.pem" \
	--root "$P/root.key.pub" --parallel 1 --json >"$T/first.json" 2>"$T/first.err" </dev/null &
filer=$!
# Kill it once the server holds some chunks of the upload but not all.
killed=no
i=0
while [ $i -lt 600 ] && kill -0 $filer 2>/dev/null; do
	if [ -s "$T/big.sdx.upload.json" ]; then
		id=$(json_get "$T/big.sdx.upload.json" 'd["upload"]' 2>/dev/null)
		curl -s --cacert "$D/ca.pem" --cert "$D/att/cert.pem" --key "$D/att/key.pem" "$URL/v1/uploads/$id" >"$T/st.json"
		have=$(json_get "$T/st.json" 'd["chunks"] - d["missing"]' 2>/dev/null)
		if [ -n "$have" ] && [ "$have" -ge 3 ]; then
			kill -KILL $filer
			killed=yes
			break
		fi
	fi
	sleep 0.02
	i=$((i + 1))
done
wait $filer 2>/dev/null
if [ $killed = yes ]; then ok "sealdrop file was killed mid-upload"; else not_ok "sealdrop file was killed mid-upload"; fi
check "the resume state is kept next to the package" test -s "$T/big.sdx.upload.json"
file_pkg "$T/big.sdx" --json
if [ "$RC" -eq 0 ]; then ok "running it again finishes the filing"; else not_ok "running it again finishes the filing"; _diag_output; fi
cp "$OUT" "$T/second.json"
skipped=$(json_get "$T/second.json" 'd["skipped"]' 2>/dev/null)
uploaded=$(json_get "$T/second.json" 'd["uploaded"]' 2>/dev/null)
total=$(json_get "$T/second.json" 'd["chunks"]' 2>/dev/null)
if [ -n "$skipped" ] && [ "$skipped" -ge 3 ]; then ok "the second run skipped the $skipped chunks the server had"; else not_ok "the second run skipped chunks the server had (skipped=$skipped)"; fi
if [ -n "$uploaded" ] && [ -n "$total" ] && [ $((skipped + uploaded)) -eq "$total" ]; then ok "skipped + uploaded = every chunk ($total)"; else not_ok "skipped + uploaded = every chunk ($skipped + $uploaded vs $total)"; fi
check "the resume state is gone after the receipt" test ! -e "$T/big.sdx.upload.json"
if [ "$(n_cases)" = 1 ]; then ok "exactly one case"; else not_ok "exactly one case ($(n_cases))"; fi

# --- refusals: a tampered chunk ---
seal_server "$T/t.sdx" --evidence README.md
hl=$("$PY" -c 'import struct,sys; d=open(sys.argv[1],"rb").read(16); print(struct.unpack("<I", d[12:16])[0])' "$T/t.sdx")
flip_byte "$T/t.sdx" $((hl + 100))
file_pkg "$T/t.sdx"
if [ "$RC" -ne 0 ] && grep -qi 'chunk' "$ERR"; then ok "a tampered chunk is refused, naming the chunk (exit $RC)"; else not_ok "a tampered chunk is refused, naming the chunk (exit $RC)"; _diag_output; fi
if [ "$(n_cases)" = 1 ]; then ok "  no case was created"; else not_ok "  no case was created"; fi

# --- a swapped blob: two equal-sized evidence files trade places ---
head -c 3000 /dev/urandom >"$T/e1"; head -c 3000 /dev/urandom >"$T/e2"
seal_server "$T/s.sdx" --evidence "$T/e1" --evidence "$T/e2"
"$PY" - "$T/s.sdx" <<'PYEOF'
import json, subprocess, sys
p = sys.argv[1]
info = json.loads(subprocess.run(["./sealdrop", "inspect", p, "--json"], capture_output=True, check=True).stdout)
ev = [b for b in info["blobs"] if b["kind"] == "evidence"]
a, b = ev[0], ev[1]
data = bytearray(open(p, "rb").read())
A = bytes(data[a["offset"]:a["offset"] + a["size"]]); B = bytes(data[b["offset"]:b["offset"] + b["size"]])
assert len(A) == len(B)
data[a["offset"]:a["offset"] + a["size"]] = B; data[b["offset"]:b["offset"] + b["size"]] = A
open(p, "wb").write(data)
PYEOF
file_pkg "$T/s.sdx"
if [ "$RC" -ne 0 ] && grep -qi 'chunk' "$ERR"; then ok "a swapped blob is refused (exit $RC)"; else not_ok "a swapped blob is refused (exit $RC)"; _diag_output; fi

# --- a package for another deployment ---
mkdeployment "$T/other" other
seal_example "$T/other" "$T/o.sdx"
file_pkg "$T/o.sdx"
if [ "$RC" -ne 0 ] && grep -qi 'deployment' "$ERR"; then ok "a package for another deployment is refused by the client (exit $RC)"; else not_ok "a package for another deployment is refused by the client (exit $RC)"; _diag_output; fi
header_of "$T/o.sdx" "$T/o.hdr"
code=$(curl_status att POST /v1/uploads --data-binary @"$T/o.hdr" -H 'Content-Type: application/octet-stream')
e=$(json_get "$OUT" 'd["error"]' 2>/dev/null)
if [ "$code" = 422 ] && [ "$e" = wrong_deployment ]; then ok "the server refuses it too (422 wrong_deployment)"; else not_ok "the server refuses it too ($code $e)"; fi

# --- a header whose signature does not verify ---
seal_server "$T/g.sdx"
header_of "$T/g.sdx" "$T/g.hdr"
hl=$(file_size "$T/g.hdr")
flip_byte "$T/g.hdr" $((hl - 10))
code=$(curl_status att POST /v1/uploads --data-binary @"$T/g.hdr" -H 'Content-Type: application/octet-stream')
e=$(json_get "$OUT" 'd["error"]' 2>/dev/null)
m=$(json_get "$OUT" 'd["message"]' 2>/dev/null)
if [ "$code" = 422 ] && [ "$e" = signature_invalid ]; then ok "a header with a bad signature is refused (422 signature_invalid: $m)"; else not_ok "a header with a bad signature is refused ($code $e $m)"; fi
cp "$T/g.sdx" "$T/g2.sdx"
flip_byte "$T/g2.sdx" $((hl - 10))
file_pkg "$T/g2.sdx"
if [ "$RC" -ne 0 ] && grep -qi 'signature' "$ERR"; then ok "the client refuses it too, naming the signature (exit $RC)"; else not_ok "the client refuses it too, naming the signature (exit $RC)"; _diag_output; fi

# --- chunk PUT rules, with curl ---
seal_server "$T/c.sdx" --evidence README.md
header_of "$T/c.sdx" "$T/c.hdr"
code=$(curl_status att POST /v1/uploads --data-binary @"$T/c.hdr" -H 'Content-Type: application/octet-stream')
if [ "$code" = 201 ]; then ok "POST /v1/uploads creates an upload (201)"; else not_ok "POST /v1/uploads creates an upload ($code)"; diag "$(head -c 300 "$OUT")"; fi
id=$(json_get "$OUT" 'd["upload"]' 2>/dev/null)
code=$(curl_status att POST /v1/uploads --data-binary @"$T/c.hdr" -H 'Content-Type: application/octet-stream')
id2=$(json_get "$OUT" 'd["upload"]' 2>/dev/null)
if [ "$code" = 200 ] && [ "$id2" = "$id" ]; then ok "posting the same header again resumes the same upload (200)"; else not_ok "posting the same header again resumes the same upload ($code, $id2 vs $id)"; fi
"$PY" - "$T/c.sdx" "$T" <<'PYEOF'
import json, subprocess, sys
p, t = sys.argv[1], sys.argv[2]
info = json.loads(subprocess.run(["./sealdrop", "inspect", p, "--json"], capture_output=True, check=True).stdout)
rep = info["blobs"][0]
data = open(p, "rb").read()
open(t + "/chunk0", "wb").write(data[rep["offset"]:rep["offset"] + rep["size"]])
bad = bytearray(data[rep["offset"]:rep["offset"] + rep["size"]]); bad[5] ^= 1
open(t + "/chunk0.bad", "wb").write(bad)
PYEOF
code=$(curl_status att PUT "/v1/uploads/$id/blobs/0/chunks/0" --data-binary @"$T/chunk0.bad" -H 'Content-Type: application/octet-stream')
e=$(json_get "$OUT" 'd["error"]' 2>/dev/null)
if [ "$code" = 422 ] && [ "$e" = chunk_mismatch ]; then ok "a chunk with different bytes is refused (422 chunk_mismatch)"; else not_ok "a chunk with different bytes is refused ($code $e)"; fi
code=$(curl_status att PUT "/v1/uploads/$id/blobs/0/chunks/0" --data-binary @"$T/chunk0" -H 'Content-Type: application/octet-stream')
if [ "$code" = 201 ]; then ok "the right chunk is stored (201)"; else not_ok "the right chunk is stored ($code)"; diag "$(head -c 300 "$OUT")"; fi
code=$(curl_status att PUT "/v1/uploads/$id/blobs/0/chunks/0" --data-binary @"$T/chunk0" -H 'Content-Type: application/octet-stream')
if [ "$code" = 200 ]; then ok "the same chunk again is fine (200, idempotent)"; else not_ok "the same chunk again is fine ($code)"; fi
code=$(curl_status att PUT "/v1/uploads/$id/blobs/9/chunks/0" --data-binary @"$T/chunk0" -H 'Content-Type: application/octet-stream')
if [ "$code" = 404 ]; then ok "a blob outside the manifest is 404"; else not_ok "a blob outside the manifest is 404 ($code)"; fi
code=$(curl_status att POST "/v1/uploads/$id/commit")
e=$(json_get "$OUT" 'd["error"]' 2>/dev/null)
if [ "$code" = 409 ] && [ "$e" = incomplete ]; then ok "commit with chunks missing is refused (409 incomplete)"; else not_ok "commit with chunks missing is refused ($code $e)"; fi
check "lee" sdd enroll --dir "$D" --role attorney --name "Attorney Lee" --out "$D/lee"
code=$(curl_status lee GET "/v1/uploads/$id")
if [ "$code" = 404 ]; then ok "another attorney cannot see the upload (404)"; else not_ok "another attorney cannot see the upload ($code)"; fi
code=$(curl_status att PUT "/v1/uploads/$id/blobs/0/chunks/0" -H 'Transfer-Encoding: chunked' --data-binary @"$T/chunk0")
if [ "$code" = 411 ]; then ok "a chunked body is refused (411)"; else not_ok "a chunked body is refused ($code)"; fi
head -c $((3 * 1024 * 1024)) /dev/zero >"$T/toobig"
code=$(curl_status att PUT "/v1/uploads/$id/blobs/0/chunks/0" --data-binary @"$T/toobig")
if [ "$code" = 413 ]; then ok "a body over chunk_bytes is refused (413)"; else not_ok "a body over chunk_bytes is refused ($code)"; fi
if [ "$(n_cases)" = 1 ]; then ok "still exactly one case"; else not_ok "still exactly one case ($(n_cases))"; fi
stop_server
done_testing
