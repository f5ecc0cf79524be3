# wb_gate.sh — the whistleblower's routes on the real server (issue 5, item 3 and the
# acceptance line on sessions; docs/API.md, "The whistleblower's channel"): challenges,
# a session's every part refused on its own (wrong signature, the header's locator hash
# instead of the locator, no proof of work, a challenge answered twice, one from before a
# restart), the global rate with its Retry-After, malformed bodies, and that none of it
# slows down the real whistleblower: their status passes right after twenty failed
# attempts. Sessions are built by tests/tools/wbsession.py, written from the formats
# independently of the C client. The server logs nothing about these requests.
. "$(dirname "$0")/lib.sh"

WB="$PY $TOP/tests/tools/wbsession.py"
mkserver || done_testing
stop_server
sed -i 's/^pow_bits .*/pow_bits 10/; s/^anon_rate_per_minute .*/anon_rate_per_minute 1000/' "$D/sealdropd.conf"
start_server "$D/sealdropd.conf" || { not_ok "restart with pow_bits 10"; done_testing; }

wb() { # codename-file route [options]: one line per answer in $OUT
	_c=$1
	_r=$2
	shift 2
	run $WB "$URL" "$D/ca.pem" "$D/directory.json" "$_c" "$_r" "$@"
}
answer() { # N expression: evaluates on the Nth answer line of $OUT
	"$PY" -c 'import json, sys
d = json.loads(open(sys.argv[1]).read().splitlines()[int(sys.argv[2]) - 1])
print(eval(sys.argv[3]))' "$OUT" "$1" "$2"
}
is() { # description got want
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; diag "got:  $2" "want: $3"; fi
}

# --- challenges ---
check "GET /v1/wb/challenge (no certificate)" curl -sf --cacert "$D/ca.pem" -o "$T/ch1" "$URL/v1/wb/challenge"
curl -sf --cacert "$D/ca.pem" -o "$T/ch2" "$URL/v1/wb/challenge"
is "  32 bytes, the work asked, 300 s" "$("$PY" -c 'import base64, json, sys
d = json.load(open(sys.argv[1]))
print(len(base64.b64decode(d["challenge"], validate=True)), d["bits"], d["expires_in"], sorted(d))' "$T/ch1")" \
	"32 10 300 ['bits', 'challenge', 'expires_in']"
if ! cmp -s "$T/ch1" "$T/ch2"; then ok "  each challenge is new"; else not_ok "  each challenge is new"; fi

# --- a codename with no case, then a filed one ---
run sd seal --directory "$D/directory.json" --root "$P/root.key.pub" --report docs/examples/report.json \
	--identity docs/examples/identity.json --out "$T/a.sdx" --codename-out "$T/a.codename" --quiet
wb "$T/a.codename" status
is "before the filing: no case under the codename (403)" "$(answer 1 '(d["status"], d["body"]["error"], d["body"]["message"])')" \
	"(403, 'session_refused', 'no case is filed under this codename')"
run sd file "$T/a.sdx" --server "$URL" --ca "$D/ca.pem" --cert "$D/att/cert.pem" --key "$D/att/key.pem" \
	--root "$P/root.key.pub" --json
CASE=$(json_get "$OUT" 'd["case"]')
wb "$T/a.codename" status
is "the whistleblower's status: 200, the case, received" "$(answer 1 '(d["status"], [c["case"] for c in d["body"]["cases"]], d["body"]["cases"][0]["state"])')" \
	"(200, ['$CASE'], 'received')"
is "  the receipt notice, with its leaf (event notice)" "$(answer 1 '[(n["seq"], n["kind"], __import__("json").loads(__import__("base64").b64decode(n["leaf"]))["event"]) for n in d["body"]["cases"][0]["notices"]]')" \
	"[(0, 'receipt', 'notice')]"
is "  no attorney, no officer, no key in the answer" "$(answer 1 'sorted(k for k in ("attorney", "attorney_box_key", "notice_key", "legal") if k in d["body"]["cases"][0])')" "[]"
is "  and a head (the server published one at start)" "$(answer 1 'sorted(d["body"]["head"])')" "['head', 'signature']"
is "  padded: with its head, a size bucket (16 KiB, doubling; wb_padding.sh measures it)" \
	"$(answer 1 '16384 - 300 < d["length"] < 16384')" True

# --- every part of a session, refused on its own ---
wb "$T/a.codename" status --repeat 2
is "the same answer twice: the second is refused" "$(answer 1 'd["status"]') $(answer 2 '(d["status"], d["body"]["message"])')" \
	"200 (403, 'the challenge was already answered: ask for a new one')"
wb "$T/a.codename" status --bad-signature
is "the right locator, a wrong signature: 403" "$(answer 1 '(d["status"], d["body"]["error"], d["body"]["message"])')" \
	"(403, 'session_refused', 'the session signature does not verify')"
wb "$T/a.codename" status --locator-hash-only
is "the header's locator hash instead of the locator (an attorney's attempt): 403" \
	"$(answer 1 '(d["status"], d["body"]["message"])')" "(403, 'no case is filed under this codename')"
wb "$T/a.codename" status --no-pow
case $(answer 1 '(d["status"], d["body"]["message"])') in
"(403, 'the proof of work has "*"10 are needed')") ok "no proof of work: 403, saying how much is needed" ;;
*) not_ok "no proof of work: 403, saying how much is needed"; diag "$(cat "$OUT")" ;;
esac

# --- failed attempts do not lock the whistleblower out ---
n=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	wb "$T/a.codename" status --bad-signature
	[ "$(answer 1 'd["status"]')" = 403 ] && n=$((n + 1))
	wb "$T/a.codename" status --locator-hash-only
	[ "$(answer 1 'd["status"]')" = 403 ] && n=$((n + 1))
done
is "twenty failed sessions, each refused" "$n" 20
wb "$T/a.codename" status
is "  then the real whistleblower's status passes at once" "$(answer 1 'd["status"]')" 200

# --- bodies ---
ch=$(json_get "$T/ch1" 'd["challenge"]')
for body in 'not json' '{}' '{"session": {}}' "{\"session\": {\"challenge\": \"$ch\"}}" '[1]'; do
	code=$(curl_status - POST /v1/wb/status -H 'Content-Type: application/json' --data "$body")
	is "status body '$body': 400 bad_request" "$code $(json_get "$OUT" 'd["error"]')" "400 bad_request"
done
wb "$T/a.codename" objection
is "an objection without its text: 400" "$(answer 1 '(d["status"], d["body"]["message"])')" \
	"(400, \"an objection needs its 'text', sealed to the intake key\")"
wb "$T/a.codename" status --body '{"case": "'"$CASE"'"}'
is "a status with an objection's member: 400" "$(answer 1 'd["status"]')" 400
TEXT=$(head -c 200 /dev/urandom | base64 -w0)
wb "$T/a.codename" objection --body '{"text": "'"$TEXT"'"}'
is "an objection to a case just received: 409 illegal_transition" "$(answer 1 '(d["status"], d["body"]["error"])')" \
	"(409, 'illegal_transition')"
wb "$T/a.codename" objection --body '{"text": "'"$TEXT"'", "case": "2026-999999"}'
is "an objection to a case not under the codename: 404" "$(answer 1 '(d["status"], d["body"]["error"])')" "(404, 'not_found')"

# --- roles: the officer routes need a certificate; the whistleblower's a session ---
check "enroll an officer" sdd enroll --dir "$D" --role officer --name "Officer Park" --out "$D/off"
is "GET /v1/cases without a certificate: 401" "$(curl_status - GET /v1/cases)" 401
is "GET /v1/cases/{case}/notices without a certificate: 401" "$(curl_status - GET "/v1/cases/$CASE/notices")" 401
is "POST /v1/cases/{case}/transition with the attorney's certificate: 403" \
	"$(curl_status att POST "/v1/cases/$CASE/transition" -H 'Content-Type: application/json' --data '{"action":"close"}')" 403
is "POST /v1/wb/status with an officer's certificate but no session: 400" \
	"$(curl_status off POST /v1/wb/status -H 'Content-Type: application/json' --data '{}')" 400

# --- nothing logged about the whistleblower's requests ---
lines=$(wc -l <"$SERVER_LOG")
wb "$T/a.codename" status
wb "$T/a.codename" status --bad-signature
is "two more sessions, one refused: not one line in the server's log" "$(wc -l <"$SERVER_LOG")" "$lines"

# --- a restart voids every challenge ---
wb "$T/a.codename" status --save-challenge "$T/kept"
stop_server
sed -i 's/^anon_rate_per_minute .*/anon_rate_per_minute 3/' "$D/sealdropd.conf"
start_server "$D/sealdropd.conf" || { not_ok "restart with anon_rate_per_minute 3"; done_testing; }
wb "$T/a.codename" status --use-challenge "$T/kept"
is "a challenge from before the restart: 403" "$(answer 1 '(d["status"], d["body"]["message"])')" \
	"(403, 'the challenge was not issued by this server (or it restarted since): ask for a new one')"

# --- the global rate: three answers a minute ---
got=""
for i in 1 2 3 4; do
	wb "$T/a.codename" status
	got="$got $(answer 1 'd["status"]')"
done
is "anon_rate_per_minute 3: three answers pass, the fourth is 503" "$got" " 200 200 200 503"
case $(answer 1 '(d["body"]["error"], d["retry_after"])') in
"('busy', '"[0-9]*"')") ok "  busy, with a Retry-After in seconds" ;;
*) not_ok "  busy, with a Retry-After in seconds"; diag "$(cat "$OUT")" ;;
esac
check "  challenges are still free meanwhile" curl -sf --cacert "$D/ca.pem" -o /dev/null "$URL/v1/wb/challenge"
stop_server
done_testing
