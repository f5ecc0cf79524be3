# metrics.sh — GET /v1/metrics and GET /v1/health (issue 8, item 5), against the real
# server (the test build: its calendar is a file the test moves) with real certificates
# and the real client:
#	- the operator gets 200, Content-Type text/plain; version=0.0.4, and an exposition
#	  every line of which is a HELP, a TYPE or a sample (a checker in Python);
#	- no certificate 401, an attorney 403;
#	- after a filing, sealdrop_filings_total and the POST /v1/uploads route counter went up;
#	- a whistleblower's `sealdrop status` moves no series at all (only the scrape's own
#	  counter); the anonymous count appears the next day, as one daily total;
#	- the exposition holds no case number, upload id, fingerprint or account name;
#	- the store's commit histograms (batch sizes, latencies) are published a day at a
#	  time: N filings today leave them as they were; the next day they count those
#	  commits (buckets cumulative, _count = +Inf, latency count = batch count); a
#	  whistleblower's action that day moves neither until the day after;
#	- /v1/health is 200 {"status":"ok"} while serving and 503 "draining" after SIGTERM.
. "$(dirname "$0")/lib.sh"

if [ ! -x "$SEALDROPD_TESTCLOCK" ]; then
	not_ok "$SEALDROPD_TESTCLOCK is built (make all-tests)"
	done_testing
fi

TODAYFILE=$T/today
mkwbserver "$TODAYFILE" 2026-03-12
for who in "attorney att Attorney-Kim" "operator op Operator-Choi"; do
	set -- $who
	run sdd enroll --dir "$D" --role "$1" --name "$3" --out "$D/$2"
	[ "$RC" -eq 0 ] || { not_ok "set-up: enroll the $1"; _diag_output; done_testing; }
done

# The exposition's checker: every line a comment or `name{labels} value`, each family's
# HELP and TYPE once and before its samples. Prints one "series<TAB>value" line per sample.
cat >"$T/expo.py" <<'EOF'
import re, sys
name = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
label = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
sample = re.compile(r'^(' + name + r')(\{(?:' + label + r')(?:,' + label + r')*\})? (-?[0-9][0-9.e+-]*|NaN|[+-]Inf)$')
text = open(sys.argv[1], encoding="utf-8").read()
if not text.endswith("\n"):
    sys.exit("the exposition does not end with a newline")
helped, typed, seen, hists = set(), set(), set(), set()
for n, line in enumerate(text.split("\n")[:-1], 1):
    m = re.match(r'^# (HELP|TYPE) (' + name + r') (.+)$', line)
    if m:
        kind, fam, rest = m.groups()
        if kind == "HELP":
            if fam in helped or fam in seen:
                sys.exit("line %d: HELP for %s again or after its samples" % (n, fam))
            helped.add(fam)
        else:
            if fam in typed or fam not in helped or rest not in ("counter", "gauge", "histogram", "summary", "untyped"):
                sys.exit("line %d: bad TYPE line %r" % (n, line))
            typed.add(fam)
            if rest == "histogram":
                hists.add(fam)
        continue
    m = sample.match(line)
    if not m:
        sys.exit("line %d is neither a comment nor a sample: %r" % (n, line))
    fam = m.group(1)
    h = re.match(r'^(.*)_(bucket|sum|count)$', fam)
    if h and h.group(1) in hists:
        fam = h.group(1)
        if (h.group(2) == "bucket") != bool(m.group(2) and 'le="' in m.group(2)):
            sys.exit("line %d: a histogram's bucket without le, or le elsewhere: %r" % (n, line))
    if fam not in typed:
        sys.exit("line %d: %s has no TYPE before it" % (n, fam))
    seen.add(fam)
    print(m.group(1) + (m.group(2) or "") + "\t" + m.group(3))
EOF

scrape() { # file: the operator's scrape, checked, its samples in FILE.samples
	_st=$(curl_status op GET /v1/metrics -D "$1.head")
	cp "$OUT" "$1"
	if [ "$_st" != 200 ]; then
		not_ok "the operator's scrape: status $_st"
		diag "$(head -c 300 "$1")"
		return 1
	fi
	"$PY" "$T/expo.py" "$1" >"$1.samples" 2>"$1.err" || { not_ok "the exposition parses: $(cat "$1.err")"; return 1; }
	return 0
}
value() { # file series
	awk -F '\t' -v s="$2" '$1 == s { print $2; found = 1 } END { if (!found) print "absent" }' "$1.samples"
}

# --- health ------------------------------------------------------------------------------
st=$(curl_status - GET /v1/health)
if [ "$st" = 200 ] && [ "$(json_get "$OUT" 'd["status"]')" = ok ]; then ok "GET /v1/health: 200 {\"status\": \"ok\"}, no certificate"; else not_ok "GET /v1/health: 200 ok (got $st)"; diag "$(cat "$OUT")"; fi

# --- who may read the metrics ------------------------------------------------------------
st=$(curl_status - GET /v1/metrics)
if [ "$st" = 401 ]; then ok "no certificate: 401"; else not_ok "no certificate: 401 (got $st)"; fi
st=$(curl_status att GET /v1/metrics)
if [ "$st" = 403 ] && [ "$(json_get "$OUT" 'd["error"]')" = role_forbidden ]; then ok "an attorney: 403 role_forbidden"; else not_ok "an attorney: 403 (got $st)"; fi

if scrape "$T/m0"; then ok "the operator: 200, and every line of the exposition is a comment or a sample"; fi
if grep -qi '^content-type: text/plain; version=0.0.4' "$T/m0.head"; then ok "  Content-Type: text/plain; version=0.0.4"; else not_ok "  Content-Type: text/plain; version=0.0.4"; diag "$(cat "$T/m0.head")"; fi
missing=""
for f in sealdrop_requests_total sealdrop_rejected_total sealdrop_anonymous_requests_total sealdrop_filings_total \
	sealdrop_connections_open sealdrop_store_bytes; do
	grep -q "^# TYPE $f " "$T/m0" || missing="$missing $f"
done
if [ -z "$missing" ]; then ok "  it has requests, rejections, the anonymous total, filings, connections and the store's size"; else not_ok "  the exposition lacks$missing"; fi
if [ "$(value "$T/m0" 'sealdrop_requests_total{route="GET /v1/metrics",status="403"}')" = 1 ] &&
	[ "$(value "$T/m0" 'sealdrop_requests_total{route="GET /v1/metrics",status="401"}')" = 1 ]; then
	ok "  the refused scrapes are counted under the route's template"
else
	not_ok "  the refused scrapes are counted under the route's template"
	diag "$(grep metrics "$T/m0.samples")"
fi

# --- a filing ----------------------------------------------------------------------------
run sd seal --directory "$D/directory.json" --root "$P/root.key.pub" --report docs/examples/report.json \
	--identity docs/examples/identity.json --out "$T/a.sdx" --codename-out "$T/a.codename" --quiet
[ "$RC" -eq 0 ] || { not_ok "set-up: seal"; _diag_output; }
run sd file "$T/a.sdx" --server "$URL" --ca "$D/ca.pem" --cert "$D/att/cert.pem" --key "$D/att/key.pem" \
	--root "$P/root.key.pub" --json
[ "$RC" -eq 0 ] || { not_ok "set-up: file"; _diag_output; }
A=$(json_get "$OUT" 'd["case"]')
scrape "$T/m1"
f0=$(value "$T/m0" sealdrop_filings_total)
f1=$(value "$T/m1" sealdrop_filings_total)
u1=$(value "$T/m1" 'sealdrop_requests_total{route="POST /v1/uploads",status="201"}')
c1=$(value "$T/m1" 'sealdrop_requests_total{route="POST /v1/uploads/{id}/commit",status="201"}')
if [ "$f0" = 0 ] && [ "$f1" = 1 ] && [ "$u1" = 1 ] && [ "$c1" = 1 ]; then
	ok "after filing case $A: filings 0 -> 1, POST /v1/uploads 201 and the commit 201 counted once"
else
	not_ok "after a filing: filings $f0 -> $f1, POST /v1/uploads 201: $u1, commit 201: $c1"
	diag "$(cat "$T/m1.samples")"
fi
ub=$(value "$T/m1" sealdrop_upload_bytes_total)
if [ "$ub" != absent ] && [ "$ub" -gt 0 ]; then ok "  the chunks' bytes are counted ($ub)"; else not_ok "  the chunks' bytes are counted ($ub)"; fi

# --- a whistleblower acts: no series moves -------------------------------------------------
WB="--server $URL --ca $D/ca.pem --directory $D/directory.json --root $P/root.key.pub"
scrape "$T/m2"
# shellcheck disable=SC2086
expect_exit 0 "the whistleblower checks the case's status" sd status $WB --codename-file "$T/a.codename"
scrape "$T/m3"
# Only the scrape's own counter may differ between the scrapes around the whistleblower.
moved=$("$PY" -c 'import sys
a = dict(l.rstrip("\n").split("\t") for l in open(sys.argv[1]))
b = dict(l.rstrip("\n").split("\t") for l in open(sys.argv[2]))
own = "sealdrop_requests_total{route=\"GET /v1/metrics\",status=\"200\"}"
print(" ".join(sorted(k for k in set(a) | set(b) if k != own and a.get(k) != b.get(k))))' "$T/m2.samples" "$T/m3.samples")
if [ -z "$moved" ]; then
	ok "  no series moved while the whistleblower acted (only the scrape's own counter)"
else
	not_ok "  no series moved while the whistleblower acted: $moved"
fi
if grep -q '/v1/wb\|/v1/log/head\|/v1/log/proof' "$T/m3.samples"; then not_ok "  no anonymous route has a series of its own"; else ok "  no anonymous route has a series of its own"; fi

# --- the next day: one daily total --------------------------------------------------------
set_today "$TODAYFILE" 2026-03-13
scrape "$T/m4"
n3=$(value "$T/m3" sealdrop_anonymous_requests_total)
n4=$(value "$T/m4" sealdrop_anonymous_requests_total)
if [ "$n3" = 0 ] && [ "$n4" != absent ] && [ "$n4" -ge 2 ]; then
	ok "the next day, the anonymous requests of the day before appear as one total ($n3 -> $n4)"
else
	not_ok "the next day, the anonymous requests of the day before appear as one total ($n3 -> $n4)"
fi

# --- nothing that names a person or a case -------------------------------------------------
leaks=""
grep -q "$A" "$T/m4" && leaks="$leaks case-number"
grep -Eqi '[0-9a-f]{32}' "$T/m4" && leaks="$leaks hex-id"
grep -qi 'Kim\|Choi\|Attorney-\|Operator-' "$T/m4" && leaks="$leaks account-name"
for who in att op; do
	fp=$(openssl x509 -in "$D/$who/cert.pem" -noout -fingerprint -sha256 | sed 's/.*=//')
	fpx=$(printf '%s' "$fp" | tr -d ':' | tr 'A-F' 'a-f')
	grep -qi "$fp\|$fpx\|$(printf '%s' "$fpx" | cut -c1-16)" "$T/m4" && leaks="$leaks fingerprint-$who"
done
grep -Eq '127\.0\.0\.1|curl|python' "$T/m4" && leaks="$leaks address-or-agent"
if [ -z "$leaks" ]; then ok "the exposition names no case, upload, account, fingerprint, address or agent"; else not_ok "the exposition leaks:$leaks"; fi

# --- the store's commit histograms, a day at a time ---------------------------------------
# The store process publishes a day when its own calendar or the front end's passes it:
# the test clock is set to the real date (KST) here, so both agree, then moves ahead.
kst_date() { # [days]
	"$PY" -c 'import datetime as t, sys
print((t.datetime.now(t.timezone(t.timedelta(hours=9))).date() + t.timedelta(days=int(sys.argv[1]))).isoformat())' "${1:-0}"
}
# One scrape's two histograms checked (9 and 12 buckets, cumulative, +Inf = _count):
# prints "count sum latency_count", or why not and fails.
cat >"$T/hist.py" <<'EOF'
import re, sys
v = {}
for l in open(sys.argv[1]):
    k, x = l.rstrip("\n").split("\t")
    v[k] = float(x)
def hist(name):
    b = sorted((float(m.group(1)), x) for k, x in v.items()
               for m in [re.match(name + r'_bucket\{le="([^"]+)"\}$', k)] if m)
    if not b or name + "_count" not in v or name + "_sum" not in v:
        sys.exit("%s: missing" % name)
    order = [x for _, x in b]
    if any(a > c for a, c in zip(order, order[1:])):
        sys.exit("%s: buckets not cumulative: %r" % (name, order))
    if b[-1][0] != float("inf") or order[-1] != v[name + "_count"]:
        sys.exit("%s: +Inf bucket %r is not _count %r" % (name, order[-1], v[name + "_count"]))
    return len(b), v[name + "_count"], v[name + "_sum"]
nb, n, s = hist("sealdrop_store_commit_batch_size")
nl, ln, ls = hist("sealdrop_store_commit_seconds")
if nb != 9 or nl != 12:
    sys.exit("bucket counts %d and %d, not 9 and 12" % (nb, nl))
print("%d %d %d" % (n, s, ln))
EOF
hist_check() { # file
	"$PY" "$T/hist.py" "$1.samples"
}
N=3
set_today "$TODAYFILE" "$(kst_date 0)"
scrape "$T/h0"
if h0=$(hist_check "$T/h0" 2>&1); then ok "the commit histograms: 9 and 12 buckets, cumulative, +Inf = _count ($h0)"; else not_ok "the commit histograms are well formed: $h0"; fi
i=1
while [ $i -le $N ]; do
	run sd seal --directory "$D/directory.json" --root "$P/root.key.pub" --report docs/examples/report.json \
		--identity docs/examples/identity.json --out "$T/h$i.sdx" --codename-out "$T/h$i.codename" --quiet
	[ "$RC" -eq 0 ] || { not_ok "set-up: seal $i"; _diag_output; }
	run sd file "$T/h$i.sdx" --server "$URL" --ca "$D/ca.pem" --cert "$D/att/cert.pem" --key "$D/att/key.pem" \
		--root "$P/root.key.pub" --json
	[ "$RC" -eq 0 ] || { not_ok "set-up: file $i"; _diag_output; }
	i=$((i + 1))
done
scrape "$T/h1"
h1=$(hist_check "$T/h1" 2>&1)
if hist_check "$T/h0" >/dev/null 2>&1 && [ "$h1" = "$h0" ]; then ok "  $N filings today: the histograms are as they were ($h1)"; else not_ok "  $N filings today left the histograms as they were: $h0 -> $h1"; fi
set_today "$TODAYFILE" "$(kst_date 1)"
scrape "$T/h2"
if h2=$(hist_check "$T/h2" 2>&1); then
	set -- $h0
	c0=$1 s0=$2
	set -- $h2
	if [ "$1" -ge $((c0 + N)) ] && [ "$2" -ge $((s0 + N)) ] && [ "$3" = "$1" ]; then
		ok "  the next day they count the day's commits: $h0 -> $h2 (at least $N more, latency count = batch count)"
	else
		not_ok "  the next day they count the day's commits: $h0 -> $h2"
	fi
else
	not_ok "  the next day's histograms are well formed: $h2"
fi
# shellcheck disable=SC2086
expect_exit 0 "the whistleblower checks the case's status that day" sd status $WB --codename-file "$T/h1.codename"
scrape "$T/h3"
moved=$("$PY" -c 'import sys
a = dict(l.rstrip("\n").split("\t") for l in open(sys.argv[1]))
b = dict(l.rstrip("\n").split("\t") for l in open(sys.argv[2]))
print(" ".join(sorted(k for k in set(a) | set(b) if k.startswith("sealdrop_store_commit") and a.get(k) != b.get(k))))' "$T/h2.samples" "$T/h3.samples")
if [ -z "$moved" ]; then ok "  and no number of the histograms moves that day"; else not_ok "  no number of the histograms moves that day: $moved"; fi
set_today "$TODAYFILE" "$(kst_date 2)"
scrape "$T/h4"
h4=$(hist_check "$T/h4" 2>&1)
set -- $h2
c2=$1
set -- $h4
if [ "$1" -ge "$c2" ] && [ "$3" = "$1" ]; then ok "  the day after, that day is published ($h2 -> $h4)"; else not_ok "  the day after, that day is published: $h2 -> $h4"; fi

# --- draining: health says 503 so a balancer stops sending ------------------------------------
# A request whose head is half sent when SIGTERM comes is still answered (the drain
# finishes open requests): its answer is the draining health.
"$PY" - "$D/ca.pem" "$PORT" "$SERVER_PID" >"$T/drain.txt" 2>&1 <<'EOF'
import os, signal, socket, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[1])
ctx.check_hostname = False
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=20))
s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: sealdrop\r\n")
time.sleep(0.3)
os.kill(int(sys.argv[3]), signal.SIGTERM)
time.sleep(0.5)
s.sendall(b"\r\n")
b = b""
while True:
    c = s.recv(65536)
    if not c:
        break
    b += c
print(b.decode("utf-8", "replace"))
EOF
if head -n 1 "$T/drain.txt" | grep -q '^HTTP/1.1 503' && grep -q '"status":"draining"' "$T/drain.txt"; then
	ok "after SIGTERM, /v1/health answers 503 {\"status\": \"draining\"}"
else
	not_ok "after SIGTERM, /v1/health answers 503 draining"
	diag "$(head -c 400 "$T/drain.txt")"
fi
stop_server
if [ "$SERVER_RC" = 0 ]; then ok "the server stopped cleanly after the drain"; else not_ok "the server stopped cleanly after the drain (exit $SERVER_RC)"; fi
done_testing
