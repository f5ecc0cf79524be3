# notices.sh — a case's notices on a real server (issue 5, item 1; docs/API.md, "GET
# /v1/cases/{case}/notices", "POST /v1/cases/{case}/notices"): the filing writes the
# receipt notice, each transition its standard notice (extension, referral, result,
# closing; termination; forwarding) in order, an officer posts a written notice sealed on
# their side. Every notice is signed by the log key (checked here with PyNaCl against
# log.key.pub), has the case, seq, date and kind it should, boxes to the whistleblower,
# the attorney (only one who enrolled a box key) and the Commission, and an audit leaf
# whose digest is the notice's (after `sealdropd audit publish`). Attorneys read their
# own cases' notices only; a written notice with an attorney box for an attorney without
# a box key is refused (422), malformed ones 400; and the LMDB file holds none of the
# standard texts' nor the written notice's plaintext.
. "$(dirname "$0")/lib.sh"

if [ ! -x "$SEALDROPD_TESTCLOCK" ] || [ ! -x "$SEALDROPD" ]; then
	not_ok "$SEALDROPD and $SEALDROPD_TESTCLOCK are built (make sealdropd build/sealdropd-testclock)"
	done_testing
fi

RECEIVED=2026-03-12
TODAYFILE=$T/today
AGENCY_NAME="Korean National Police Agency"
WRITTEN="Written notice 7f3a: the Commission asks you to wait for the agency's answer."

day() { # n: the date N days after the receipt
	"$PY" -c 'import datetime as t, sys
print((t.date.fromisoformat(sys.argv[1]) + t.timedelta(days=int(sys.argv[2]))).isoformat())' "$RECEIVED" "$1"
}

at() { # n: moves the server's today to day N
	set_today "$TODAYFILE" "$(day "$1")"
	[ "$(server_today "$D")" = "$(day "$1")" ] && return 0
	not_ok "the server's today moves to day $1"
	return 1
}

# ok when the Python expression holds of the JSON file's d; shows the file when not.
# Seals text (a file) with crypto_box_seal to raw keys: prints base64 boxes, one a line.
cat >"$T/seal.py" <<'EOF'
import base64, sys
import nacl.public
text = open(sys.argv[1], "rb").read()
for k in sys.argv[2:]:
    box = nacl.public.SealedBox(nacl.public.PublicKey(base64.b64decode(k))).encrypt(text)
    print(base64.b64encode(box).decode())
EOF
# The raw key of a sealdrop public key file ("sealdrop-pubkey-v1 KIND ID BASE64").
pubkey() { # file
	awk '{ print $4 }' "$1"
}

# Checks a notices list ($1) against the log key ($2) and the expected kinds ($3, comma
# separated) for case $4: prints "OK" or the first thing wrong.
cat >"$T/check.py" <<'EOF'
import base64, hashlib, json, sys
import nacl.signing
lst, logpub, kinds, case = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3].split(","), sys.argv[4]
has_attorney = sys.argv[5] == "yes"
pk = base64.b64decode(open(logpub).read().split()[3])
entries = lst["notices"]
def fail(msg):
    print(msg)
    sys.exit(1)
if [e["kind"] for e in entries] != kinds:
    fail("kinds %s, not %s" % ([e["kind"] for e in entries], kinds))
leaves = []
for i, e in enumerate(entries):
    if set(e) != {"seq", "kind", "date", "leaf_index", "notice"}:
        fail("entry %d has members %s" % (i, sorted(e)))
    doc = e["notice"]
    n = doc["notice"]
    msg = json.dumps(n, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    try:
        nacl.signing.VerifyKey(pk).verify(hashlib.blake2b(b"sealdrop notice v1" + msg, digest_size=32).digest(),
                                          base64.b64decode(doc["signature"]["sig"]))
    except Exception as x:
        fail("notice %d: the signature does not verify: %s" % (i, x))
    if (n["seq"], n["kind"], n["date"], n["case"], n["version"], n["deployment"]) != \
            (i, e["kind"], e["date"], case, 1, "demo") or e["seq"] != i:
        fail("notice %d: %s" % (i, n))
    boxes = [k for k in ("to_whistleblower", "to_attorney", "to_commission") if k in n]
    if len(boxes) != (3 if has_attorney else 2):
        fail("notice %d has boxes %s" % (i, boxes))
    sizes = {len(base64.b64decode(n[k])) for k in boxes}
    if len(sizes) != 1 or min(sizes) < 49:
        fail("notice %d: the boxes differ in size or are empty: %s" % (i, sizes))
    if not isinstance(e["leaf_index"], int):
        fail("notice %d has no leaf_index" % i)
    leaves.append(e["leaf_index"])
if leaves != sorted(set(leaves)):
    fail("leaf indexes %s are not increasing" % leaves)
print("OK")
EOF

# Checks each notice's leaf in /v1/log/entries ($2) against the list ($1): event notice,
# the case, the date, digest = BLAKE2b-256 of the canonical body; prints the roles.
cat >"$T/leaves.py" <<'EOF'
import base64, hashlib, json, sys
lst, entries = json.load(open(sys.argv[1]))["notices"], json.load(open(sys.argv[2]))["entries"]
by_index = {e["index"]: json.loads(base64.b64decode(e["leaf"])) for e in entries}
roles = []
for e in lst:
    n = e["notice"]["notice"]
    msg = json.dumps(n, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    leaf = by_index.get(e["leaf_index"])
    want = {"event": "notice", "case": n["case"], "date": n["date"],
            "digest": hashlib.blake2b(msg, digest_size=32).hexdigest()}
    if leaf is None or any(leaf.get(k) != v for k, v in want.items()):
        print("BAD seq %d: leaf %s, want %s" % (n["seq"], leaf, want))
        sys.exit(1)
    roles.append(leaf["role"] + ("+actor" if "actor" in leaf else ""))
print(" ".join(roles))
EOF

notices() { # who case: the list into $T/list.json, prints the status
	_c=$(curl_status "$1" GET "/v1/cases/$2/notices")
	cp "$OUT" "$T/list.json"
	echo "$_c"
}

# --- a deployment on the test clock: one agency, two attorneys (one with a box key), an officer ---
P=$T/p
D=$T/d
PORT=$(free_port)
URL=https://127.0.0.1:$PORT
mkdir -p "$P"
mkkey root "$P/root.key" && mkkey intake "$P/intake.key" && mkkey identity "$P/identity.key" &&
	mkkey agency "$P/police.key" && mkkey attorney "$T/lee-box.key" || done_testing
run sdd init --dir "$D" --listen "127.0.0.1:$PORT"
[ "$RC" -eq 0 ] || { not_ok "set-up: sealdropd init"; _diag_output; done_testing; }
run sd directory create --deployment demo --intake "$P/intake.key.pub" --identity "$P/identity.key.pub" \
	--log "$D/log.key.pub" --tls-ca "$D/ca.pem" --root "$P/root.key" --passphrase-file "$PW" \
	--agency "police:$AGENCY_NAME:$P/police.key.pub" --out "$D/directory.json"
[ "$RC" -eq 0 ] || { not_ok "set-up: directory create"; _diag_output; done_testing; }
set_today "$TODAYFILE" "$RECEIVED"
start_server_testclock "$D/sealdropd.conf" "$TODAYFILE" || {
	not_ok "set-up: the test-clock server starts"
	diag "$(tail -n 5 "$SERVER_LOG")"
	done_testing
}
check "enroll Attorney Kim (no box key)" sdd enroll --dir "$D" --role attorney --name "Attorney Kim" --out "$D/att"
check "enroll Attorney Lee with a box key" sdd enroll --dir "$D" --role attorney --name "Attorney Lee" \
	--out "$D/lee" --box-pubkey "$T/lee-box.key.pub"
check "enroll an officer" sdd enroll --dir "$D" --role officer --name "Officer Park" --out "$D/off"

file_one() { # name attorney-dir: prints the case number
	run sd seal --directory "$D/directory.json" --root "$P/root.key.pub" --report docs/examples/report.json \
		--identity docs/examples/identity.json --out "$T/$1.sdx" --codename-out "$T/$1.codename" --quiet
	[ "$RC" -eq 0 ] || { _diag_output >&2; return 1; }
	run sd file "$T/$1.sdx" --server "$URL" --ca "$D/ca.pem" --cert "$D/$2/cert.pem" --key "$D/$2/key.pem" \
		--root "$P/root.key.pub" --json
	[ "$RC" -eq 0 ] || { _diag_output >&2; return 1; }
	json_get "$OUT" 'd["case"]'
}
if A=$(file_one a lee) && K=$(file_one k att) && F=$(file_one f lee); then
	ok "three packages filed: $A and $F by Attorney Lee, $K by Attorney Kim"
else
	not_ok "three packages filed"
	done_testing
fi
LOGPUB=$D/log.key.pub
LEE_PK=$(pubkey "$T/lee-box.key.pub")
INTAKE_PK=$(pubkey "$P/intake.key.pub")

# --- the receipt notice ---
code=$(notices lee "$A")
cp "$T/list.json" "$T/a0.json"
if [ "$code" = 200 ]; then ok "Attorney Lee lists the notices of $A (200)"; else not_ok "Attorney Lee lists the notices of $A (status $code)"; diag "$(cat "$T/list.json")"; fi
jtrue "  one: seq 0, receipt, dated $RECEIVED, with a leaf index" "$T/a0.json" \
	'len(d["notices"]) == 1 and d["notices"][0]["seq"] == 0 and d["notices"][0]["kind"] == "receipt"
	 and d["notices"][0]["date"] == "'"$RECEIVED"'" and isinstance(d["notices"][0]["leaf_index"], int)'
r=$("$PY" "$T/check.py" "$T/a0.json" "$LOGPUB" receipt "$A" yes 2>&1)
if [ "$r" = OK ]; then ok "  signed by the log key; three boxes of one size"; else not_ok "  signed by the log key; three boxes of one size"; diag "$r"; fi
code=$(notices off "$A")
if [ "$code" = 200 ] && cmp -s "$T/list.json" "$T/a0.json"; then ok "the officer reads the same list"; else not_ok "the officer reads the same list (status $code)"; fi
code=$(notices att "$A")
if [ "$code" = 404 ]; then ok "Attorney Kim may not read Attorney Lee's case's notices (404)"; else not_ok "Attorney Kim may not read Attorney Lee's case's notices (status $code)"; fi
code=$(notices lee "$K")
if [ "$code" = 404 ]; then ok "nor Attorney Lee Attorney Kim's (404)"; else not_ok "nor Attorney Lee Attorney Kim's (status $code)"; fi
code=$(notices off 2026-999999)
if [ "$code" = 404 ]; then ok "a case that does not exist: 404"; else not_ok "a case that does not exist: 404 (status $code)"; fi
code=$(curl_status - GET "/v1/cases/$A/notices")
if [ "$code" = 401 ]; then ok "no certificate: 401"; else not_ok "no certificate: 401 (status $code)"; fi
code=$(notices att "$K")
r=$("$PY" "$T/check.py" "$T/list.json" "$LOGPUB" receipt "$K" no 2>&1)
if [ "$code" = 200 ] && [ "$r" = OK ]; then ok "$K (attorney without a box key): a receipt notice without to_attorney"; else not_ok "$K (attorney without a box key): a receipt notice without to_attorney"; diag "$r"; fi

# The case gives the keys an officer's client seals a written notice to.
code=$(curl_status off GET "/v1/cases/$A")
cp "$OUT" "$T/a.json"
jtrue "GET /v1/cases/$A: notice_key (32 bytes) and attorney_box_key = Attorney Lee's box key" "$T/a.json" \
	'len(__import__("base64").b64decode(d["notice_key"])) == 32 and d["attorney_box_key"] == "'"$LEE_PK"'"'
NOTICE_KEY=$(json_get "$T/a.json" 'd["notice_key"]')
curl_status off GET "/v1/cases/$K" >/dev/null
cp "$OUT" "$T/k.json"
jtrue "GET /v1/cases/$K: attorney_box_key null" "$T/k.json" 'd["attorney_box_key"] is None and len(d["notice_key"]) == 44'
K_NOTICE_KEY=$(json_get "$T/k.json" 'd["notice_key"]')
if [ "$NOTICE_KEY" != "$K_NOTICE_KEY" ]; then ok "  each case has its own notice key"; else not_ok "  each case has its own notice key"; fi

# --- transitions, each with its standard notice ---
printf 'a reason only the Commission reads\n' >"$T/reason.txt"
SEALED=$("$PY" "$T/seal.py" "$T/reason.txt" "$INTAKE_PK")
step() { # day description case body-json: on day N, a transition that must succeed (200)
	at "$1" || return 1
	_c=$(curl_status off POST "/v1/cases/$3/transition" -H 'Content-Type: application/json' -d "$4")
	if [ "$_c" = 200 ]; then ok "day $1: $2"; else not_ok "day $1: $2 (status $_c)"; diag "$(cat "$OUT")"; fi
}
step 1 "$A extended" "$A" '{"action": "extend", "text": "'"$SEALED"'"}'
step 2 "$A referred to police for inspection" "$A" '{"action": "refer", "kind": "inspection", "agency": "police"}'
step 2 "$K terminated (no-evidence)" "$K" '{"action": "terminate", "reason": "no-evidence"}'
step 2 "$F forwarded to police" "$F" '{"action": "forward", "agency": "police"}'
step 10 "$A outcome (concluded day 9)" "$A" '{"action": "outcome", "concluded": "'"$(day 9)"'", "text": "'"$SEALED"'"}'
step 20 "$A closed" "$A" '{"action": "close"}'
jtrue "  the case answers with its keys still" "$OUT" 'd["state"] == "closed" and d["notice_key"] == "'"$NOTICE_KEY"'"'
code=$(curl_status off POST "/v1/cases/$A/transition" -H 'Content-Type: application/json' -d '{"action": "close"}')
if [ "$code" = 409 ]; then ok "an illegal transition (409) adds no notice"; else not_ok "an illegal transition (409) adds no notice (status $code)"; fi

notices lee "$A" >/dev/null
cp "$T/list.json" "$T/a-steps.json"
r=$("$PY" "$T/check.py" "$T/list.json" "$LOGPUB" receipt,extension,referral,result,closing "$A" yes 2>&1)
if [ "$r" = OK ]; then ok "$A: receipt, extension, referral, result, closing — seq 0-4, each signed, with its leaf"; else not_ok "$A: the notices of every step, in order"; diag "$r"; fi
jtrue "  dated the day of their step" "$T/a-steps.json" \
	'[e["date"] for e in d["notices"]] == ["'"$RECEIVED"'", "'"$(day 1)"'", "'"$(day 2)"'", "'"$(day 10)"'", "'"$(day 20)"'"]'
notices att "$K" >/dev/null
r=$("$PY" "$T/check.py" "$T/list.json" "$LOGPUB" receipt,termination "$K" no 2>&1)
if [ "$r" = OK ]; then ok "$K: receipt, termination — no attorney box"; else not_ok "$K: receipt, termination — no attorney box"; diag "$r"; fi
notices off "$F" >/dev/null
r=$("$PY" "$T/check.py" "$T/list.json" "$LOGPUB" receipt,forwarding "$F" yes 2>&1)
if [ "$r" = OK ]; then ok "$F: receipt, forwarding"; else not_ok "$F: receipt, forwarding"; diag "$r"; fi

# --- a written notice, sealed on the officer's side ---
printf '%s\n' "$WRITTEN" >"$T/written.txt"
WLEN=$(wc -c <"$T/written.txt")
# shellcheck disable=SC2046 # three boxes, one a line
set -- $("$PY" "$T/seal.py" "$T/written.txt" "$NOTICE_KEY" "$LEE_PK" "$INTAKE_PK")
BODY='{"to_whistleblower": "'$1'", "to_attorney": "'$2'", "to_commission": "'$3'"}'
code=$(curl_status off POST "/v1/cases/$A/notices" -H 'Content-Type: application/json' -d "$BODY")
cp "$OUT" "$T/w.json"
if [ "$code" = 201 ]; then ok "an officer posts a written notice to $A (201)"; else not_ok "an officer posts a written notice to $A (status $code)"; diag "$(cat "$OUT")"; fi
jtrue "  the entry: seq 5, written, today, a leaf index, the boxes as sent ($WLEN + 48 bytes)" "$T/w.json" \
	'd["seq"] == 5 and d["kind"] == "written" and d["date"] == "'"$(day 20)"'" and isinstance(d["leaf_index"], int)
	 and d["notice"]["notice"]["to_whistleblower"] == "'"$1"'" and d["notice"]["notice"]["to_attorney"] == "'"$2"'"
	 and d["notice"]["notice"]["to_commission"] == "'"$3"'"
	 and all(len(__import__("base64").b64decode(d["notice"]["notice"][k])) == '"$WLEN"' + 48
	         for k in ("to_whistleblower", "to_attorney", "to_commission"))'
notices lee "$A" >/dev/null
cp "$T/list.json" "$T/a-all.json"
r=$("$PY" "$T/check.py" "$T/list.json" "$LOGPUB" receipt,extension,referral,result,closing,written "$A" yes 2>&1)
if [ "$r" = OK ]; then ok "  the list ends with it, signed"; else not_ok "  the list ends with it, signed"; diag "$r"; fi
jtrue "  as the POST answered it" "$T/a-all.json" 'd["notices"][5] == __import__("json").load(open("'"$T/w.json"'"))'

W2=$(printf '%s' "$BODY" | sed 's/"to_attorney": "[^"]*", //')
code=$(curl_status off POST "/v1/cases/$A/notices" -H 'Content-Type: application/json' -d "$W2")
if [ "$code" = 400 ] && grep -q 'to_attorney' "$OUT"; then ok "without to_attorney for an attorney with a box key: 400"; else not_ok "without to_attorney for an attorney with a box key: 400 (status $code)"; diag "$(cat "$OUT")"; fi
code=$(curl_status off POST "/v1/cases/$K/notices" -H 'Content-Type: application/json' -d "$BODY")
if [ "$code" = 422 ] && [ "$(json_get "$OUT" 'd["error"]')" = no_attorney_key ]; then ok "to_attorney for an attorney without a box key: 422 no_attorney_key"; else not_ok "to_attorney for an attorney without a box key: 422 no_attorney_key (status $code)"; diag "$(cat "$OUT")"; fi
# shellcheck disable=SC2046 # two boxes, one a line
set -- $("$PY" "$T/seal.py" "$T/written.txt" "$K_NOTICE_KEY" "$INTAKE_PK")
code=$(curl_status off POST "/v1/cases/$K/notices" -H 'Content-Type: application/json' \
	-d '{"to_whistleblower": "'"$1"'", "to_commission": "'"$2"'"}')
if [ "$code" = 201 ] && [ "$(json_get "$OUT" 'd["seq"]')" = 2 ]; then ok "$K: a written notice without to_attorney (201, seq 2)"; else not_ok "$K: a written notice without to_attorney (status $code)"; diag "$(cat "$OUT")"; fi
SHORT=$(head -c 48 /dev/urandom | base64 -w0)
bad_post() { # description body
	_c=$(curl_status off POST "/v1/cases/$K/notices" -H 'Content-Type: application/json' -d "$2")
	if [ "$_c" = 400 ] && [ "$(json_get "$OUT" 'd["error"]')" = bad_request ]; then ok "$1: 400"; else not_ok "$1: 400 (status $_c)"; diag "$(cat "$OUT")"; fi
}
bad_post "a box of 48 bytes (no text)" '{"to_whistleblower": "'"$SHORT"'", "to_commission": "'"$2"'"}'
bad_post "an unknown member" '{"to_whistleblower": "'"$1"'", "to_commission": "'"$2"'", "text": "hello"}'
bad_post "no to_commission" '{"to_whistleblower": "'"$1"'"}'
printf x >"$T/x.txt"                                      # a box of 49 bytes: base64 ends in ==
X=$("$PY" "$T/seal.py" "$T/x.txt" "$K_NOTICE_KEY" | tr -d =)
bad_post "unpadded base64" '{"to_whistleblower": "'"$X"'", "to_commission": "'"$2"'"}'
bad_post "base64 with a space" '{"to_whistleblower": "'"$(printf '%s' "$1" | cut -c1-80) $(printf '%s' "$1" | cut -c82-)"'", "to_commission": "'"$2"'"}'
bad_post "not JSON" 'to_whistleblower='
code=$(curl_status lee POST "/v1/cases/$A/notices" -H 'Content-Type: application/json' -d "$BODY")
if [ "$code" = 403 ]; then ok "an attorney may not post a notice (403)"; else not_ok "an attorney may not post a notice (status $code)"; fi
code=$(curl_status off POST "/v1/cases/2026-999999/notices" -H 'Content-Type: application/json' -d "$BODY")
if [ "$code" = 404 ]; then ok "a written notice to a case that does not exist: 404"; else not_ok "a written notice to a case that does not exist: 404 (status $code)"; fi
notices off "$K" >/dev/null
r=$("$PY" "$T/check.py" "$T/list.json" "$LOGPUB" receipt,termination,written "$K" no 2>&1)
if [ "$r" = OK ]; then ok "$K: nothing refused was stored"; else not_ok "$K: nothing refused was stored"; diag "$r"; fi
cp "$T/list.json" "$T/k-all.json"

# --- the audit leaves ---
check "publish a head" sdd audit publish --config "$D/sealdropd.conf"
code=$(curl_status off GET "/v1/log/entries?start=0")
cp "$OUT" "$T/entries.json"
r=$("$PY" "$T/leaves.py" "$T/a-all.json" "$T/entries.json" 2>&1)
if [ "$r" = "server server server server server officer+actor" ]; then
	ok "each notice of $A has its leaf: event notice, its case, date and digest; the server's, the written one the officer's"
else
	not_ok "each notice of $A has its leaf"
	diag "$r"
fi
r=$("$PY" "$T/leaves.py" "$T/k-all.json" "$T/entries.json" 2>&1)
if [ "$r" = "server server officer+actor" ]; then ok "and each of $K"; else not_ok "and each of $K"; diag "$r"; fi
n=$("$PY" -c 'import base64, json, sys
print(sum(json.loads(base64.b64decode(e["leaf"]))["event"] == "notice" for e in json.load(open(sys.argv[1]))["entries"]))' "$T/entries.json")
if [ "$n" = 11 ]; then ok "11 notice leaves in all, one per notice"; else not_ok "11 notice leaves in all (got $n)"; fi

# --- nothing in the clear at rest ---
stop_server
found=""
for s in "your report has been received" "The Commission referred your report to $AGENCY_NAME" \
	"the case is closed" "The Commission forwarded your report" "there is not enough evidence" \
	"공익신고가 접수되었습니다" "Written notice 7f3a" "a reason only the Commission reads"; do
	if grep -qaF "$s" "$D/store/data.mdb"; then found="$found '$s'"; fi
done
if [ -z "$found" ]; then ok "the LMDB file holds no notice text in the clear"; else not_ok "the LMDB file holds notice text in the clear:$found"; fi
if grep -qaF '"kind": "referral"' "$D/store/data.mdb"; then ok "  (while it does hold the signed notices)"; else not_ok "  (while it does hold the signed notices)"; fi

done_testing
