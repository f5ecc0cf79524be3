# notice_client.sh — `sealdrop notice` and `sealdrop notices` against the real server
# (issue 5, items 1 and 4): an officer sends a written notice sealed on their own machine;
# the filing attorney lists the case's notices with their box key and reads the receipt
# notice's standard text and the written text verbatim; the officer reads the same with
# the intake key; every notice's signature is checked against the directory's log key
# (a notice altered in transit shows as NOT VERIFIED, exit 65). A text over 16 KiB is
# refused before anything is sent (64), an attorney may not send a notice (77), and the
# LMDB file never holds the written text.
. "$(dirname "$0")/lib.sh"

WRITTEN="Written notice 9c1e: the Commission asks you to send the contract's second page."

# --- help and usage (no server needed) ---
check "notice --help" sd notice --help
if grep -q -- '--text FILE' "$OUT" && grep -q 'sealed on this machine' "$OUT"; then ok "  says the text is sealed on this machine"; else not_ok "  says the text is sealed on this machine"; fi
check "notices --help" sd notices --help
if grep -q -- '--box-key' "$OUT" && grep -q 'NOT VERIFIED' "$OUT"; then ok "  documents --box-key and NOT VERIFIED"; else not_ok "  documents --box-key and NOT VERIFIED"; fi
NET="--server https://127.0.0.1:1 --ca /x --cert /x --key /x --root /x"
printf 'hello\n' >"$T/hello.txt"
: >"$T/empty.txt"
printf 'bell \007\n' >"$T/ctl.txt"
head -c 16384 /dev/zero | tr '\0' a >"$T/max.txt"
printf 'a' >>"$T/max.txt"
# shellcheck disable=SC2086
{
	expect_exit 64 "notice without --text" -m 'missing --text' sd notice 2026-000001 $NET
	expect_exit 64 "notice with a malformed case number" -m 'case number' sd notice 2026-1 --text "$T/hello.txt" $NET
	expect_exit 64 "notices with both keys" -m 'do not go together' sd notices 2026-000001 --box-key /x --intake /y $NET
	expect_exit 64 "notices --passphrase-file without a key" -m 'goes with' sd notices 2026-000001 --passphrase-file /x $NET
	expect_exit 64 "an empty text" -m 'is empty' sd notice 2026-000001 --text "$T/empty.txt" $NET
	expect_exit 64 "a text with a control character" -m 'byte 5' sd notice 2026-000001 --text "$T/ctl.txt" $NET
	expect_exit 64 "a text of 16 KiB + 1 byte" -m 'longer than 16384' sd notice 2026-000001 --text "$T/max.txt" $NET
}
expect_exit 64 "notices without --root" -m 'missing --root' \
	sd notices 2026-000001 --server https://127.0.0.1:1 --ca /x --cert /x --key /x

# --- a deployment: Attorney Kim (mkserver, no box key), Attorney Lee with a box key, an officer ---
mkkey attorney "$T/lee-box.key" || done_testing
mkserver || done_testing
check "enroll Attorney Lee with a box key" sdd enroll --dir "$D" --role attorney --name "Attorney Lee" \
	--out "$D/lee" --box-pubkey "$T/lee-box.key.pub"
check "enroll an officer" sdd enroll --dir "$D" --role officer --name "Officer Park" --out "$D/off"
SRV="--server $URL --ca $D/ca.pem --root $P/root.key.pub"
OFF="--cert $D/off/cert.pem --key $D/off/key.pem"
LEE="--cert $D/lee/cert.pem --key $D/lee/key.pem"

file_one() { # name attorney-dir: prints the case number
	run sd seal --directory "$D/directory.json" --root "$P/root.key.pub" --report docs/examples/report.json \
		--identity docs/examples/identity.json --out "$T/$1.sdx" --codename-out "$T/$1.codename" --quiet
	[ "$RC" -eq 0 ] || { _diag_output >&2; return 1; }
	run sd file "$T/$1.sdx" --server "$URL" --ca "$D/ca.pem" --cert "$D/$2/cert.pem" --key "$D/$2/key.pem" \
		--root "$P/root.key.pub" --json
	[ "$RC" -eq 0 ] || { _diag_output >&2; return 1; }
	json_get "$OUT" 'd["case"]'
}
if A=$(file_one a lee) && K=$(file_one k att); then
	ok "two packages filed: $A by Attorney Lee, $K by Attorney Kim"
else
	not_ok "two packages filed"
	done_testing
fi

# --- the officer sends a written notice ---
printf '%s\n\tSecond line, indented with a tab; 한국어도 됩니다.\n' "$WRITTEN" >"$T/written.txt"
# shellcheck disable=SC2086
expect_exit 0 "the officer sends a written notice to $A" sd notice "$A" --text "$T/written.txt" $SRV $OFF
if grep -q "^case $A: notice 1 (written) of 20[0-9-]* sent" "$OUT" && grep -q 'the attorney' "$OUT"; then ok "  notice 1, written, dated, sealed to the attorney too"; else not_ok "  notice 1, written, dated, sealed to the attorney too"; _diag_output out; fi
# shellcheck disable=SC2086
expect_exit 0 "and one to $K (no attorney box key) with --json" sd notice "$K" --text "$T/written.txt" $SRV $OFF --json
if [ "$(json_get "$OUT" '(d["seq"], d["kind"], "to_attorney" in d["notice"]["notice"])')" = "(1, 'written', False)" ]; then ok "  the entry: seq 1, written, no attorney box"; else not_ok "  the entry: seq 1, written, no attorney box"; _diag_output out; fi

# --- the attorney reads them with the box key ---
# shellcheck disable=SC2086
expect_exit 0 "Attorney Lee lists $A's notices with the box key" \
	sd notices "$A" --box-key "$T/lee-box.key" --passphrase-file "$PW" $SRV $LEE
keep_output
if grep -q '^     0  20[0-9-]*  receipt  *verified$' "$KEPT_OUT" && grep -q '^     1  20[0-9-]*  written  *verified$' "$KEPT_OUT"; then ok "  0 receipt and 1 written, each verified"; else not_ok "  0 receipt and 1 written, each verified"; diag "$(cat "$KEPT_OUT")"; fi
if grep -q "$A" "$KEPT_OUT" && grep -q 'your report has been received' "$KEPT_OUT" && grep -q '공익신고가 접수되었습니다' "$KEPT_OUT"; then ok "  the receipt notice's standard text, Korean and English"; else not_ok "  the receipt notice's standard text, Korean and English"; diag "$(head -c 1500 "$KEPT_OUT")"; fi
if grep -qF "$WRITTEN" "$KEPT_OUT" && grep -qF '한국어도 됩니다.' "$KEPT_OUT"; then ok "  the written text"; else not_ok "  the written text"; fi
if grep -q '^2 notices, each signed by the log key of deployment demo$' "$KEPT_OUT"; then ok "  and the count"; else not_ok "  and the count"; fi
# shellcheck disable=SC2086
run sd notices "$A" --box-key "$T/lee-box.key" --passphrase-file "$PW" $SRV $LEE --json
r=$("$PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(d["notices"][1]["text"] == open(sys.argv[2], encoding="utf-8").read() and all(e["verified"] for e in d["notices"]))' \
	"$OUT" "$T/written.txt" 2>&1)
if [ "$RC" -eq 0 ] && [ "$r" = True ]; then ok "  --json: the written text byte for byte"; else not_ok "  --json: the written text byte for byte ($RC, $r)"; fi

# --- the officer reads them with the intake key, or without a key ---
# shellcheck disable=SC2086
expect_exit 0 "the officer lists $A's notices with the intake key" \
	sd notices "$A" --intake "$P/intake.key" --passphrase-file "$PW" $SRV $OFF
if cmp -s "$OUT" "$KEPT_OUT"; then ok "  the same list and texts as the attorney's"; else not_ok "  the same list and texts as the attorney's"; diag "$(diff "$KEPT_OUT" "$OUT" | head -n 8)"; fi
# shellcheck disable=SC2086
expect_exit 0 "without a key: the list without text" sd notices "$A" $SRV $OFF
if grep -q ' written  *verified$' "$OUT" && ! grep -qF "$WRITTEN" "$OUT"; then ok "  no text shown"; else not_ok "  no text shown"; _diag_output out; fi
# shellcheck disable=SC2086
expect_exit 65 "$K has no attorney box: Attorney Lee's box key opens none (65)" -m 'do not open' \
	sd notices "$K" --box-key "$T/lee-box.key" --passphrase-file "$PW" $SRV $OFF
if grep -q 'no box is sealed to the attorney' "$OUT"; then ok "  each notice says there is no attorney box"; else not_ok "  each notice says there is no attorney box"; _diag_output out; fi

# --- refusals ---
head -c 16385 /dev/zero | tr '\0' b >"$T/big.txt"
# shellcheck disable=SC2086
expect_exit 64 "a text over 16 KiB is refused before anything is sent" -m '16384' sd notice "$A" --text "$T/big.txt" $SRV $OFF
# shellcheck disable=SC2086
expect_exit 77 "an attorney may not send a notice" sd notice "$A" --text "$T/written.txt" $SRV $LEE
# shellcheck disable=SC2086
expect_exit 77 "Attorney Kim may not list Attorney Lee's case's notices" sd notices "$A" $SRV \
	--cert "$D/att/cert.pem" --key "$D/att/key.pem"
# shellcheck disable=SC2086
run sd notices "$A" $SRV $OFF
if [ "$(grep -c ' verified$' "$OUT")" = 2 ]; then ok "  nothing refused was stored"; else not_ok "  nothing refused was stored"; _diag_output out; fi

# --- a notice that does not verify: the answer altered on its way (through a proxy) ---
cat >"$T/proxy.py" <<'EOF'
import http.server, json, ssl, sys, urllib.request
port, upstream, ca, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        ctx = ssl.create_default_context(cafile=ca)
        ctx.check_hostname = False
        ctx.load_cert_chain(cert, key)
        body = urllib.request.urlopen(upstream + self.path, context=ctx).read()
        if self.path.endswith("/notices"):
            d = json.loads(body)
            d["notices"][1]["notice"]["notice"]["date"] = "2020-01-01"
            body = json.dumps(d).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer(("127.0.0.1", port), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[6], sys.argv[7])
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
EOF
# The proxy presents a certificate of the deployment's CA for 127.0.0.1: the officer's
# client trusts the CA, so only the log key's signature can catch the change.
PPORT=$(free_port)
if [ -r "$D/server.key" ] && [ -r "$D/server.pem" ]; then
	"$PY" "$T/proxy.py" "$PPORT" "$URL" "$D/ca.pem" "$D/off/cert.pem" "$D/off/key.pem" "$D/server.pem" \
		"$D/server.key" 2>"$T/proxy.log" &
	PROXY=$!
	sleep 1
	# shellcheck disable=SC2086
	expect_exit 65 "a notice altered in transit" -m 'do NOT verify' \
		sd notices "$A" --server "https://127.0.0.1:$PPORT" --ca "$D/ca.pem" --root "$P/root.key.pub" $OFF
	if grep -q '^     0  .* receipt  *verified$' "$OUT" && grep -q '^     1  .* written  *NOT VERIFIED: .*signature' "$OUT"; then ok "  shown as NOT VERIFIED, the others verified"; else not_ok "  shown as NOT VERIFIED, the others verified"; _diag_output out; diag "$(tail -n 3 "$T/proxy.log")"; fi
	kill "$PROXY" 2>/dev/null
	wait "$PROXY" 2>/dev/null
else
	skip "a notice altered in transit (no server key readable in $D)"
fi

# --- nothing in the clear at rest ---
stop_server
if grep -qaF "Written notice 9c1e" "$D/store/data.mdb" || grep -qaF "한국어도 됩니다" "$D/store/data.mdb"; then not_ok "the LMDB file does not hold the written text"; else ok "the LMDB file does not hold the written text"; fi
if grep -qaF '"kind": "written"' "$D/store/data.mdb"; then ok "  (while it does hold the written notices)"; else not_ok "  (while it does hold the written notices)"; fi

done_testing
