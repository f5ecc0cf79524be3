# wb_padding.sh — traffic analysis on the whistleblower's channel (issue 7, item 4):
# every answer under /v1/wb/, whatever it says (a challenge, a status with a case, each
# kind of refusal, a malformed body, an unknown route, the rate limit's 503), is the same
# number of bytes on the wire, head and body together; and no answer anywhere carries a
# Date or Server header. Lengths are measured from the raw answer: curl -i for the
# requests curl can make, tests/tools/wbsession.py (wrapped to count the head it read)
# for codename sessions.
. "$(dirname "$0")/lib.sh"

WB="$PY $TOP/tests/tools/wbsession.py"
mkserver || done_testing
stop_server
sed -i 's/^pow_bits .*/pow_bits 10/; s/^anon_rate_per_minute .*/anon_rate_per_minute 1000/' "$D/sealdropd.conf"
start_server "$D/sealdropd.conf" || { not_ok "restart with pow_bits 10"; done_testing; }

# wbsession.py, printing "TOTAL status bytes" for each answer: the head as received
# (http.client keeps the header lines as sent) plus the body.
cat >"$T/wbtotal.py" <<'PYEOF'
import http.client, runpy, sys
orig = http.client.HTTPResponse.read
def read(self, *a):
    data = orig(self, *a)
    if not a:
        head = "HTTP/1.1 %d %s\r\n" % (self.status, self.reason)
        head += "".join("%s: %s\r\n" % kv for kv in self.getheaders()) + "\r\n"
        print("TOTAL %d %d" % (self.status, len(head.encode()) + len(data)))
    return data
http.client.HTTPResponse.read = read
sys.argv = [sys.argv[1]] + sys.argv[2:]
runpy.run_path(sys.argv[0], run_name="__main__")
PYEOF
wbtotal() { # codename-file route [options]: "status bytes" of the last answer
	_c=$1
	_r=$2
	shift 2
	"$PY" "$T/wbtotal.py" "$TOP/tests/tools/wbsession.py" "$URL" "$D/ca.pem" "$D/directory.json" "$_c" "$_r" "$@" |
		sed -n 's/^TOTAL //p' | tail -n 1
}
raw() { # method path [curl options]: the whole answer in $T/raw, "status bytes" printed
	_m=$1
	_p=$2
	shift 2
	curl -s -i --cacert "$D/ca.pem" -X "$_m" "$URL$_p" "$@" >"$T/raw"
	echo "$(sed -n '1s/^HTTP\/1.1 \([0-9]*\).*/\1/p' "$T/raw") $(wc -c <"$T/raw")"
}

# --- what each answer weighs ---
results=""
note() { # label "status bytes"
	results="$results
$1: $2"
}
note "challenge" "$(raw GET /v1/wb/challenge)"
run sd seal --directory "$D/directory.json" --root "$P/root.key.pub" --report docs/examples/report.json \
	--identity docs/examples/identity.json --out "$T/a.sdx" --codename-out "$T/a.codename" --quiet
note "status, no case yet" "$(wbtotal "$T/a.codename" status)"
run sd file "$T/a.sdx" --server "$URL" --ca "$D/ca.pem" --cert "$D/att/cert.pem" --key "$D/att/key.pem" \
	--root "$P/root.key.pub" --json
[ "$RC" -eq 0 ] || { not_ok "file a package"; _diag_output; done_testing; }
note "status with the case" "$(wbtotal "$T/a.codename" status)"
note "status, wrong signature" "$(wbtotal "$T/a.codename" status --bad-signature)"
note "status, no proof of work" "$(wbtotal "$T/a.codename" status --no-pow)"
note "status, challenge answered twice" "$(wbtotal "$T/a.codename" status --repeat 2)"
note "objection without its text" "$(wbtotal "$T/a.codename" objection)"
note "objection, case not under the codename" \
	"$(wbtotal "$T/a.codename" objection --body '{"text": "'"$(head -c 90 /dev/urandom | base64 -w0)"'", "case": "2026-999999"}')"
note "status, body not JSON" "$(raw POST /v1/wb/status -H 'Content-Type: application/json' --data 'not json')"
note "status, empty object" "$(raw POST /v1/wb/status -H 'Content-Type: application/json' --data '{}')"
note "consents, garbage" "$(raw POST /v1/wb/consents -H 'Content-Type: application/json' --data '[1]')"
note "status with GET (405)" "$(raw GET /v1/wb/status)"
note "unknown route under /v1/wb/ (404)" "$(raw GET /v1/wb/nothing-here)"
note "status, body over the limit (413)" "$(raw POST /v1/wb/status -H 'Content-Type: application/json' \
	-H 'Content-Length: 9999999' --data 'x' --max-time 5)"

# The global rate's 503, with its Retry-After: a restart with one answer a minute.
stop_server
sed -i 's/^anon_rate_per_minute .*/anon_rate_per_minute 1/' "$D/sealdropd.conf"
start_server "$D/sealdropd.conf" || { not_ok "restart with anon_rate_per_minute 1"; done_testing; }
wbtotal "$T/a.codename" status >/dev/null
note "status over the global rate (503)" "$(wbtotal "$T/a.codename" status)"

diag "answers on /v1/wb/ (status bytes):$results"
want=$(echo "$results" | sed -n 's/^status with the case: [0-9]* //p')
statuses=$(echo "$results" | sed -n 's/^[^:]*: \([0-9]*\) .*/\1/p' | sort -u | tr '\n' ' ')
sizes=$(echo "$results" | sed -n 's/^[^:]*: [0-9]* \([0-9]*\)$/\1/p' | sort -u | tr '\n' ' ')
case $statuses in
*200*403*) ;;
*) not_ok "the answers measured include successes and refusals ($statuses)" ;;
esac
case $statuses in *400*404*405*413*503*) ok "the answers measured: statuses $statuses" ;; *) not_ok "the answers measured: statuses $statuses" ;; esac
if [ "$sizes" = "$want " ] && [ "$want" -ge 4096 ]; then
	ok "every answer on /v1/wb/, success or error, is $want bytes on the wire"
else
	not_ok "every answer on /v1/wb/, success or error, has one length (got: $sizes)"
fi
if [ $((want & (want - 1))) -eq 0 ]; then ok "  a size bucket (a power of two, from 16 KiB)"; else not_ok "  a size bucket ($want)"; fi

# --- no Date, no Server ---
bad=""
for spec in "- GET /v1/health" "- GET /v1/wb/challenge" "- GET /v1/nothing" "- GET /v1/cases" \
	"att GET /v1/cases" "att GET /v1/log/head" "- POST /v1/uploads"; do
	set -- $spec
	if [ "$1" = - ]; then
		curl -s -i --cacert "$D/ca.pem" -X "$2" "$URL$3" >"$T/raw"
	else
		curl -s -i --cacert "$D/ca.pem" --cert "$D/$1/cert.pem" --key "$D/$1/key.pem" -X "$2" "$URL$3" >"$T/raw"
	fi
	head -c 1 "$T/raw" | grep -q H || bad="$bad [$spec: no answer]"
	sed '/^\r*$/q' "$T/raw" | grep -Eiq '^(date|server):' && bad="$bad [$spec]"
done
if [ -z "$bad" ]; then ok "no Date or Server header on seven kinds of answer"; else not_ok "no Date or Server header:$bad"; fi
curl -s -i --cacert "$D/ca.pem" -H 'Expect: 100-continue' -X POST "$URL/v1/wb/status" \
	-H 'Content-Type: application/json' --data "$(head -c 2000 /dev/zero | tr '\0' 'a')" >"$T/raw"
if grep -Eiq '^(date|server):' "$T/raw"; then not_ok "  nor on a 100 Continue"; else ok "  nor on a 100 Continue"; fi
stop_server
done_testing
