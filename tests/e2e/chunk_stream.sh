# chunk_stream.sh — a large chunk hashed as it streams in (issue 3): the server copies a
# chunk body as it arrives and hands each 256 KiB of it to its worker thread to hash
# (server/upload_chunk.c), then compares the digest with the manifest's. For a 1 MiB chunk
# (four hash jobs) and a 512 KiB + 17 one (two jobs, then 17 bytes): a byte changed in the first,
# a middle or the last stretch is refused with 422 and nothing stored; the right bytes are
# stored (201, then 200 again); connections that close after 700 KiB of a body, once after
# a pause and five times at once (the chunk then freed by its last hash job), leave the
# server serving and the chunk not stored, and the chunk is taken afterwards.
. "$(dirname "$0")/lib.sh"

require_built "$SEALDROPD"

mkserver || done_testing
head -c $(((2 << 20) + (300 << 10))) /dev/urandom >"$T/ev"
run sd seal --directory "$D/directory.json" --root "$P/root.key.pub" --report docs/examples/report.json \
	--identity docs/examples/identity.json --evidence "$T/ev" --out "$T/a.sdx" --codename-out "$T/a.codename" --quiet
[ "$RC" -eq 0 ] || { not_ok "set-up: seal"; _diag_output; done_testing; }
split_pkg "$T/a.sdx"
code=$(curl_status att POST /v1/uploads --data-binary @"$T/a.sdx.hdr")
id=$(json_get "$OUT" 'd["upload"]' 2>/dev/null)
if [ "$code" = 201 ] && [ ${#id} = 32 ]; then ok "an upload (201)"; else not_ok "an upload ($code)"; done_testing; fi
# The evidence is blob 2; its chunk 1 is a whole 1 MiB (+17) chunk, its chunk 3 the last:
# 2 MiB + 300 KiB of evidence is padded to 2.5 MiB, so 512 KiB (+17), two hash steps exactly.
CH=$T/a.sdx.chunks/2_1
size=$(file_size "$CH")
if [ "$size" = $(((1 << 20) + 17)) ]; then ok "chunk 1 of the evidence is 1 MiB + 17 bytes"; else not_ok "chunk 1 of the evidence is 1 MiB + 17 bytes ($size)"; fi
CH3=$T/a.sdx.chunks/2_3
size3=$(file_size "$CH3")
if [ "$size3" = $(((512 << 10) + 17)) ]; then ok "chunk 3 of the evidence is 512 KiB + 17 bytes"; else not_ok "chunk 3 of the evidence is 512 KiB + 17 bytes ($size3)"; fi
put_chunk() { # file [chunk]
	curl_status att PUT "/v1/uploads/$id/blobs/2/chunks/${2:-1}" --data-binary @"$1" \
		-H 'Content-Type: application/octet-stream'
}
present() { # how many chunks of the evidence the server has
	curl_status att GET "/v1/uploads/$id" >/dev/null
	"$PY" -c 'import base64, json, sys
b = json.load(open(sys.argv[1]))["blobs"][2]
bits = base64.b64decode(b["present"])
print(sum(bits[n // 8] >> (n % 8) & 1 for n in range(b["chunks"])))' "$OUT"
}

for at in 100 $((600 << 10)) $((size - 1)); do
	cp "$CH" "$T/bad"
	flip_byte "$T/bad" $at
	code=$(put_chunk "$T/bad")
	if [ "$code" = 422 ] && grep -q 'does not match its hash' "$OUT"; then
		ok "a byte changed at $at of $size: 422, it does not match its hash"
	else
		not_ok "a byte changed at $at of $size: 422 ($code)"
		diag "$(head -c 300 "$OUT")"
	fi
done
if [ "$(present)" = 0 ]; then ok "  nothing was stored"; else not_ok "  nothing was stored ($(present) chunks present)"; fi
for at in 100 $((300 << 10)) $((size3 - 1)); do
	cp "$CH3" "$T/bad3"
	flip_byte "$T/bad3" $at
	code=$(put_chunk "$T/bad3" 3)
	if [ "$code" = 422 ]; then ok "chunk 3, a byte changed at $at of $size3: 422"; else not_ok "chunk 3, a byte changed at $at of $size3: 422 ($code)"; fi
done

# 700 KiB of the body (two hash jobs handed out), then the connection closes: once after a
# pause (every job back first), then five connections at once that close right away.
cut_off() { # pause connections
	"$PY" - "$PORT" "$D" "$id" "$CH" "$1" "$2" <<'PYEOF'
import socket, ssl, sys, time
port, d, upload, path, pause, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]), int(sys.argv[6])
body = open(path, "rb").read()
ctx = ssl.create_default_context(cafile=d + "/ca.pem")
ctx.load_cert_chain(d + "/att/cert.pem", d + "/att/key.pem")
conns = [ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="127.0.0.1") for _ in range(n)]
for s in conns:
    s.sendall(("PUT /v1/uploads/%s/blobs/2/chunks/1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               "Content-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n" % (upload, len(body))).encode())
    s.sendall(body[:700 << 10])
time.sleep(pause)
for s in conns:
    s.close()
print("sent 700 KiB on %d and closed" % n)
PYEOF
}
if cut_off 0.3 1 2>&1 | grep -q "sent 700 KiB on 1 and closed"; then ok "a body cut off after 700 KiB"; else not_ok "a body cut off after 700 KiB"; fi
if cut_off 0 5 2>&1 | grep -q "sent 700 KiB on 5 and closed"; then ok "five bodies cut off after 700 KiB at once"; else not_ok "five bodies cut off after 700 KiB at once"; fi
code=$(curl_status - GET /v1/health)
if [ "$code" = 200 ]; then ok "  the server still answers"; else not_ok "  the server still answers ($code)"; fi
if [ "$(present)" = 0 ]; then ok "  and did not store it"; else not_ok "  and did not store it"; fi

code=$(put_chunk "$CH")
if [ "$code" = 201 ]; then ok "the right bytes are stored (201)"; else not_ok "the right bytes are stored ($code)"; diag "$(head -c 300 "$OUT")"; fi
code=$(put_chunk "$CH")
if [ "$code" = 200 ]; then ok "  and sent again, taken as already there (200)"; else not_ok "  and sent again, taken as already there ($code)"; fi
code=$(put_chunk "$CH3" 3)
if [ "$code" = 201 ]; then ok "chunk 3's right bytes are stored (201)"; else not_ok "chunk 3's right bytes are stored ($code)"; fi
if [ "$(present)" = 2 ]; then ok "  two chunks of the evidence are present"; else not_ok "  two chunks of the evidence are present ($(present))"; fi
stop_server
if [ "$SERVER_RC" = 0 ]; then ok "the server stops cleanly (status 0)"; else not_ok "the server stops cleanly (status $SERVER_RC)"; fi

done_testing
