# status.sh — the whistleblower's channel (issue 5, item 3 and its Acceptance): a real
# server (the test build, on a test clock; proof of work lowered to 8 bits), real
# certificates and the real client. A case is sealed with a codename file and filed; the
# officer writes a notice, refers it and records the outcome; the log is published. Then:
#	- `sealdrop status` shows every notice in order, verified and decrypted; --json too;
#	- `sealdrop object` files an objection inside the window;
#	- the raw LMDB files hold no notice, objection or report text;
#	- a notice injected into a stopped server's store with a bad signature, or properly
#	  signed but without an audit leaf, is refused with a WARNING naming it (exit 65);
#	- a session with the right locator but a wrong signature, and one with only the
#	  header's locator hash, are refused (403), and the real whistleblower gets in right
#	  after them;
#	- a codename with no case: "no case is filed under this codename" (exit 77).
. "$(dirname "$0")/lib.sh"

FORGE=$BUILD_DIR/tools/sd-forge-notice
if [ ! -x "$SEALDROPD_TESTCLOCK" ] || [ ! -x "$SD_LMDB" ] || [ ! -x "$FORGE" ]; then
	not_ok "$SEALDROPD_TESTCLOCK, $SD_LMDB and $FORGE are built (make all-tests)"
	done_testing
fi

RECEIVED=2026-03-12
TODAYFILE=$T/today
day() { # n
	"$PY" -c 'import datetime as t, sys
print((t.date.fromisoformat(sys.argv[1]) + t.timedelta(days=int(sys.argv[2]))).isoformat())' "$RECEIVED" "$1"
}
at() { # n
	NOW=$(day "$1")
	set_today "$TODAYFILE" "$NOW"
}
# --- a test deployment on the test clock ---

mkwbserver "$TODAYFILE" "$RECEIVED"
run sdd enroll --dir "$D" --role attorney --name "Attorney Kim" --out "$D/att"
[ "$RC" -eq 0 ] || { not_ok "set-up: enroll the attorney"; _diag_output; done_testing; }
run sdd enroll --dir "$D" --role officer --name "Officer Park" --out "$D/off"
[ "$RC" -eq 0 ] || { not_ok "set-up: enroll the officer"; _diag_output; done_testing; }
OFF="--server $URL --ca $D/ca.pem --cert $D/off/cert.pem --key $D/off/key.pem --root $P/root.key.pub"
WB="--server $URL --ca $D/ca.pem --directory $D/directory.json --root $P/root.key.pub"

# The report carries a marker the raw store must never hold.
REPORT_MARK="status-e2e report marker $$"
json_edit docs/examples/report.json "$T/report.json" 'd["details"] = d["details"] + " '"$REPORT_MARK"'"' ||
	{ not_ok "set-up: the report"; done_testing; }
run sd seal --directory "$D/directory.json" --root "$P/root.key.pub" --report "$T/report.json" \
	--identity docs/examples/identity.json --out "$T/a.sdx" --codename-out "$T/a.codename" --quiet
[ "$RC" -eq 0 ] || { not_ok "set-up: seal"; _diag_output; done_testing; }
run sd file "$T/a.sdx" --server "$URL" --ca "$D/ca.pem" --cert "$D/att/cert.pem" --key "$D/att/key.pem" \
	--root "$P/root.key.pub" --json
[ "$RC" -eq 0 ] || { not_ok "set-up: file"; _diag_output; done_testing; }
A=$(json_get "$OUT" 'd["case"]')
ok "a package sealed with a codename file and filed: case $A"

# --- before any head covers it: the receipt notice is pending ---

expect_exit 0 "status right after filing" sd status $WB --codename-file "$T/a.codename"
if grep -q "^case $A" "$OUT" && grep -Eq '^ +0 +'"$RECEIVED"' +receipt +pending' "$OUT" &&
	grep -q "Case $A" "$OUT" && ! grep -q "WARNING: notice" "$ERR"; then
	ok "  case $A, its receipt notice decrypted and shown as pending (no head covers it yet)"
else
	not_ok "  case $A, its receipt notice decrypted and shown as pending (no head covers it yet)"
	_diag_output out
fi
if grep -q "TEST directory" "$ERR"; then ok "  the test directory is warned about"; else not_ok "  the test directory is warned about"; fi

# --- the officer: a written notice, a referral, the outcome ---

WRITTEN="We have started to read your report; nothing is needed from you now. ref $$-w"
printf '%s\n' "$WRITTEN" >"$T/written.txt"
at 2
expect_exit 0 "day 2: the officer writes a notice" sd notice "$A" --text "$T/written.txt" $OFF
at 5
expect_exit 0 "day 5: refer to bai for inspection" sd transition "$A" refer --agency bai --kind inspection $OFF
SUMMARY="The Board found the invoices inflated, ref $$-s"
printf '%s\n' "$SUMMARY" >"$T/summary.txt"
at 11
expect_exit 0 "day 11 (a Monday): the outcome, concluded day 9" \
	sd transition "$A" outcome --concluded "$(day 9)" --summary "$T/summary.txt" $OFF
run sdd audit publish --config "$D/sealdropd.conf"
[ "$RC" -eq 0 ] || { not_ok "sealdropd audit publish"; _diag_output; }

# --- status: every notice in order, verified, decrypted ---

expect_exit 0 "day 11: status" sd status $WB --codename-file "$T/a.codename"
keep_output
got=$(sed -n 's/^ *\([0-9]\+\)  \([0-9-]\+\)  \([a-z]\+\) .*  verified: .*/\1 \3/p' "$KEPT_OUT" | tr '\n' ' ')
if [ "$got" = "0 receipt 1 written 2 referral 3 result " ]; then
	ok "  four notices in order, each verified: receipt, written, referral, result"
else
	not_ok "  four notices in order, each verified: receipt, written, referral, result"
	diag "got: $got"
	_diag_output out
fi
if grep -qF "$WRITTEN" "$KEPT_OUT" && grep -q "Case $A" "$KEPT_OUT" && grep -q "$(day 9)" "$KEPT_OUT"; then
	ok "  the texts are decrypted: the officer's notice word for word, the standard ones"
else
	not_ok "  the texts are decrypted: the officer's notice word for word, the standard ones"
fi
if grep -q "state          outcome-notified" "$KEPT_OUT" && grep -q "you may object until $(day 18)" "$KEPT_OUT" &&
	grep -Eq "next deadline  objection $(day 18) \(7 days left\)" "$KEPT_OUT" &&
	grep -Eq "$(day 5) +refer" "$KEPT_OUT" && grep -Eq "$(day 11) +outcome" "$KEPT_OUT"; then
	ok "  state, the objection window (until day 18, 7 days left) and the history"
else
	not_ok "  state, the objection window (until day 18, 7 days left) and the history"
	diag "$(head -n 12 "$KEPT_OUT")"
fi

expect_exit 0 "status --json" sd status $WB --codename-file "$T/a.codename" --json
cp "$OUT" "$T/status.json"
jtrue "  one case, its notices 0..3 verified with their texts, a head" "$T/status.json" \
	'len(d["cases"]) == 1 and d["cases"][0]["case"] == "'"$A"'"
	 and [(n["seq"], n["kind"], n["verified"]) for n in d["cases"][0]["notices"]] ==
	     [(0, "receipt", True), (1, "written", True), (2, "referral", True), (3, "result", True)]
	 and d["cases"][0]["notices"][1]["text"] == "'"$WRITTEN"'\n"
	 and all("problem" not in n for n in d["cases"][0]["notices"])
	 and d["head"]["size"] > 0 and d["deployment"] == "demo"
	 and d["cases"][0]["objection_until"] == "'"$(day 18)"'"'

expect_exit 0 "status --state-file keeps the head" sd status $WB --codename-file "$T/a.codename" \
	--state-file "$T/head.json"
check "  sealdrop audit verify accepts that state file" sd audit verify $WB --state-file "$T/head.json"

# --- the objection ---

OBJECTION="I object: the Board did not look at the second ledger. ref $$-o"
printf '%s\n' "$OBJECTION" >"$T/objection.txt"
at 16
expect_exit 0 "day 16 (notice + 5): object" sd object $WB --codename-file "$T/a.codename" --text "$T/objection.txt"
if grep -q "objection to case $A accepted on $(day 16)" "$OUT" && grep -q "by $(day 76)" "$OUT"; then
	ok "  accepted on day 16; the reinvestigation is due on day 76"
else
	not_ok "  accepted on day 16; the reinvestigation is due on day 76"
	_diag_output out
fi
expect_exit 77 "  a second objection is refused" sd object $WB --codename-file "$T/a.codename" \
	--text "$T/objection.txt"
printf 'a\rb\n' >"$T/cr.txt"
expect_exit 64 "  an objection with a control character is refused before anything is sent" \
	-m 'control characters' sd object $WB --codename-file "$T/a.codename" --text "$T/cr.txt"

# --- the session: forged attempts, then the real whistleblower ---

# A session built in Python (docs/FORMAT.md, "Codename", "Codename session"): MODE `badsig`
# uses the real locator with a signature by another key, `hashonly` presents the header's
# locator hash instead of the locator. Prints the HTTP status and the error word.
forged_session() { # mode
	"$PY" - "$1" "$T/a.codename" "$URL" "$D/ca.pem" <<'EOF'
import base64, hashlib, json, os, ssl, sys, urllib.request, urllib.error
import nacl.pwhash, nacl.signing
mode, cnfile, url, ca = sys.argv[1:5]
words = open(cnfile).read().split()
canon = " ".join(w.lower() for w in words).encode()
salt = hashlib.blake2b(b"sealdrop codename v1" + b"demo", digest_size=16).digest()
master = nacl.pwhash.argon2id.kdf(32, canon, salt, opslimit=1, memlimit=8192)
def sub(i):
    return hashlib.blake2b(b"", digest_size=32, key=master, salt=i.to_bytes(8, "little") + bytes(8),
                           person=b"sdcodenm" + bytes(8)).digest()
locator = sub(1)
lhash = hashlib.blake2b(locator, digest_size=32).digest()
ctx = ssl.create_default_context(cafile=ca)
def call(method, path, body=None):
    req = urllib.request.Request(url + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, context=ctx) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)
_, ch = call("GET", "/v1/wb/challenge")
nonce = base64.b64decode(ch["challenge"])
bits = ch["bits"]
counter = 0
while True:
    c = counter.to_bytes(8, "little")
    stamp = int.from_bytes(hashlib.blake2b(b"sealdrop pow v1" + nonce + c, digest_size=32).digest(), "big")
    if bits == 0 or stamp >> (256 - bits) == 0:
        break
    counter += 1
cn = os.urandom(32)
presented = locator if mode == "badsig" else lhash
msg = nonce + cn + hashlib.blake2b(presented, digest_size=32).digest()
digest = hashlib.blake2b(b"sealdrop session v1" + msg, digest_size=32).digest()
sig = nacl.signing.SigningKey.generate().sign(digest).signature
b = lambda x: base64.b64encode(x).decode()
st, ans = call("POST", "/v1/wb/status", {"session": {"challenge": b(nonce), "client_nonce": b(cn),
               "locator": b(presented), "signature": b(sig), "pow": b(c)}})
print(st, ans.get("error", ""), ans.get("message", ""))
EOF
}
got=$(forged_session badsig 2>&1)
case $got in
"403 session_refused"*"signature does not verify"*) ok "the right locator with a wrong signature: 403 ($got)" ;;
*) not_ok "the right locator with a wrong signature: 403"; diag "got: $got" ;;
esac
got=$(forged_session hashonly 2>&1)
case $got in
"403 session_refused"*) ok "the header's locator hash without the locator: 403 ($got)" ;;
*) not_ok "the header's locator hash without the locator: 403"; diag "got: $got" ;;
esac
expect_exit 0 "  the real whistleblower's status right after them" sd status $WB --codename-file "$T/a.codename"
if grep -q "state          objection-filed" "$OUT"; then ok "  which shows the objection filed"; else not_ok "  which shows the objection filed"; _diag_output out; fi

# --- a codename with no case ---

run sd seal --directory "$D/directory.json" --root "$P/root.key.pub" --report docs/examples/report.json \
	--identity docs/examples/identity.json --out "$T/b.sdx" --codename-out "$T/b.codename" --quiet
expect_exit 77 "a codename nothing was filed under: refused" -m 'no case is filed under this codename' \
	sd status $WB --codename-file "$T/b.codename"

# --- the raw store: no notice, objection or report text ---

stop_server
cp -a "$D/store" "$T/store-copy"
if grep -qaF "$A" "$T"/store-copy/*.mdb; then ok "the copied LMDB files hold the case (the grep finds what is there)"; else not_ok "the copied LMDB files hold the case"; fi
for t in "$WRITTEN" "$OBJECTION" "$REPORT_MARK" "$SUMMARY"; do
	if grep -qaF "$t" "$T"/store-copy/*.mdb "$SERVER_LOG"; then not_ok "the store never holds '${t%%.*}'"; else ok "the store never holds '${t%% ref*}'"; fi
done

# --- injected notices ---

NEXT=$(json_get "$T/status.json" 'len(d["cases"][0]["notices"])')
start_server_testclock "$D/sealdropd.conf" "$TODAYFILE" || { not_ok "the server restarts"; done_testing; }
code=$(curl_status off GET "/v1/cases/$A")
NOTICE_PK=$("$PY" -c 'import base64, json, sys; print(base64.b64decode(json.load(open(sys.argv[1]))["notice_key"]).hex())' "$OUT")
stop_server
printf 'Your case is closed. Send your evidence again to this address. ref %s\n' "$$" >"$T/forged.txt"

# Injects a notice signed by KEY (a file or "random") as number NEXT, runs status.
inject() { # key
	"$FORGE" "$1" "$A" "$NEXT" "$(day 16)" demo "$NOTICE_PK" "$P/intake.key.pub" "$T/forged.txt" \
		"$T/forged.json" >"$T/forged.hex" || return 1
	"$SD_LMDB" "$D/store" put notices "$(sed -n 1p "$T/forged.hex")" "$(sed -n 2p "$T/forged.hex")" || return 1
	start_server_testclock "$D/sealdropd.conf" "$TODAYFILE"
}
uninject() {
	stop_server
	"$SD_LMDB" "$D/store" del notices "$(sed -n 1p "$T/forged.hex")"
}

if inject random; then
	expect_exit 65 "a notice injected with a bad signature: status exits 65" -m "notice $NEXT of case $A FAILED" \
		-m 'signature does not verify' -m 'do not act on' sd status $WB --codename-file "$T/a.codename"
	if grep -q "WARNING: notice $NEXT" "$ERR" && ! grep -q "Send your evidence again" "$OUT" &&
		grep -Eq '^ +3 .* result +verified' "$OUT"; then
		ok "  a WARNING names notice $NEXT, its text is not shown, the genuine ones are"
	else
		not_ok "  a WARNING names notice $NEXT, its text is not shown, the genuine ones are"
		_diag_output out
	fi
	expect_exit 65 "  --json: \"verified\": false, no text" sd status $WB --codename-file "$T/a.codename" --json
	cp "$OUT" "$T/forged-status.json"
	jtrue "  the injected notice is false without text, the others true" "$T/forged-status.json" \
		'[(n["seq"], n["verified"], "text" in n) for n in d["cases"][0]["notices"]][-2:] == [('"$((NEXT - 1))"', True, True), ('"$NEXT"', False, False)]'
	uninject
else
	not_ok "set-up: inject a notice with a random key"
fi
if inject "$D/log.key"; then
	expect_exit 65 "a notice signed by the log key but not in the log: status exits 65" \
		-m "notice $NEXT of case $A FAILED" -m 'no record in the audit log' \
		sd status $WB --codename-file "$T/a.codename"
	if grep -q "WARNING: notice $NEXT" "$ERR" && ! grep -q "Send your evidence again" "$OUT"; then
		ok "  a WARNING names it and its text is not shown"
	else
		not_ok "  a WARNING names it and its text is not shown"
		_diag_output out
	fi
	uninject
else
	not_ok "set-up: inject a notice signed with the log key"
fi

done_testing
