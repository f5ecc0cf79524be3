# crash.sh — crash consistency (issue 7, Acceptance "Crash consistency"): SOAK_KILLS
# `kill -9`s of the real sealdropd at random moments (0 … SOAK_MAX_UP_MS after each
# restart) during SOAK_FILINGS filings and SOAK_OPS consent/transition operations, then:
#	- the server restarted after every kill;
#	- the load finished: every package and every operation was answered in the end (an
#	  attempt cut off by a kill is retried after the restart);
#	- 0 acknowledged operations lost: every ack the client fsync'd (the receipt of a
#	  filing, a transition, a consent) is in the store (tests/tools/sd-eventcheck.c);
#	- 0 half-applied events: every case event has its audit leaf and every leaf its event
#	  (sd-eventcheck), `sealdropd audit check` recomputes the tree, `mdb_dump -a` reads
#	  the store;
#	- the attorney's GET /v1/cases lists every acknowledged case with its header digest,
#	  and exactly as many cases as packages: a retry is never a second case;
#	- filing every package once more returns the same receipt, byte for byte;
#	- a sample of cases fetched whole by an officer (`sealdrop fetch`) equals its package.
# The load is tests/bench/bench_server.c's `soak` mode (packages minted against a --test
# directory; ops on the first SOAK_OPS/4 cases: extend, refer, a consent relayed by the
# attorney, outcome). Small: SOAK_KILLS=30 SOAK_FILINGS=600 SOAK_OPS=60.
. "$(dirname "$0")/../e2e/lib.sh"

KILLS=${SOAK_KILLS:-1000}
FILINGS=${SOAK_FILINGS:-10000}
OPS=${SOAK_OPS:-1000}
MAX_UP_MS=${SOAK_MAX_UP_MS:-300}
CONC=${SOAK_CONCURRENCY:-4}
FETCHES=${SOAK_FETCHES:-10}
BUILD=${BUILD:-build}
BS=$BUILD/tests/bench_server # relative to the top, where lib.sh moved
EC=$BUILD/tools/sd-eventcheck
SDL=$BUILD/tools/sd-lmdb
START=$(date +%s)

# make soak builds the tools (all-tests), not the load generator: built here if missing.
if [ ! -x "$BS" ] || [ ! -x "$EC" ] || [ ! -x "$SDL" ]; then
	make -s BUILD="$BUILD" "$BS" "$EC" "$SDL" >"$T/build.log" 2>&1 ||
		{ not_ok "$BS, $EC and $SDL are built"; diag "$(tail -n 5 "$T/build.log")"; done_testing; }
fi
if [ $((OPS / 4)) -gt "$FILINGS" ]; then
	not_ok "SOAK_OPS ($OPS) needs at least SOAK_OPS/4 filings"
	done_testing
fi
LOAD_PID=""
_soak_cleanup() {
	[ -n "$LOAD_PID" ] && kill -TERM "$LOAD_PID" 2>/dev/null
	_server_cleanup
}
trap _soak_cleanup EXIT

# --- the deployment: a --test directory listing an agency, an attorney and an officer ---
mkdir -p "$T/p"
mkkey agency "$T/p/bai.key" || done_testing
MK_DIRECTORY_OPTS="--test --agency bai:BAI:$T/p/bai.key.pub" mkserver || done_testing
run sdd enroll --dir "$D" --role officer --name "Officer Park" --out "$D/off"
[ "$RC" -eq 0 ] || { not_ok "set-up: enroll the officer"; _diag_output; done_testing; }
TODAY=$(server_today "$D")

# --- the packages, and a consent for each case the ops touch ---
NCASES=$(((OPS + 3) / 4))
"$BS" mint --directory "$D/directory.json" --root "$P/root.key.pub" --report docs/examples/report.json \
	--identity docs/examples/identity.json --evidence-bytes 1000 --count "$FILINGS" --out "$T/pkgs" \
	--threads 2 --codenames >"$T/mint.out" 2>&1 || { not_ok "set-up: mint $FILINGS packages"; diag "$(tail -n 3 "$T/mint.out")"; done_testing; }
i=0
while [ $i -lt "$NCASES" ]; do
	n=$(printf '%06d' $i)
	run sd consent grant --package "$T/pkgs/pkg-$n.sdx" --out "$T/pkgs/pkg-$n.sdc" --scope commission \
		--directory "$D/directory.json" --root "$P/root.key.pub" --codename-file "$T/pkgs/pkg-$n.codename" --yes
	[ "$RC" -eq 0 ] || { not_ok "set-up: consent for package $n"; _diag_output; done_testing; }
	i=$((i + 1))
done
diag "set-up: $FILINGS packages, $NCASES consents, $(($(date +%s) - START)) s"

# --- the load, and the killer ---
: >"$T/kills"
"$BS" soak --port "$PORT" --ca "$D/ca.pem" --cert "$D/att/cert.pem" --key "$D/att/key.pem" \
	--packages "$T/pkgs" --count "$FILINGS" --concurrency "$CONC" --acks "$T/acks" --ops "$OPS" \
	--officer-cert "$D/off/cert.pem" --officer-key "$D/off/key.pem" --today "$TODAY" --agency bai \
	--kills "$T/kills" --kills-total "$KILLS" --life-ms $((MAX_UP_MS / 2 + 150)) >"$T/soak.out" 2>"$T/soak.err" &
LOAD_PID=$!

# A random pause of 0 … MAX_UP_MS ms.
pause() {
	_ms=$(($(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % (MAX_UP_MS + 1)))
	sleep "$((_ms / 1000)).$(printf '%03d' $((_ms % 1000)))"
}
kills=0 restarts=0 startfails=0 during=0
while [ $kills -lt "$KILLS" ] && kill -0 "$LOAD_PID" 2>/dev/null; do
	pause
	kill -0 "$LOAD_PID" 2>/dev/null && during=$((during + 1))
	# The server and its own children (the key process), by pid.
	# shellcheck disable=SC2046 # one pid a word
	kill -KILL "$SERVER_PID" $(pgrep -P "$SERVER_PID") 2>/dev/null
	wait "$SERVER_PID" 2>/dev/null
	SERVER_PID=""
	kills=$((kills + 1))
	printf x >>"$T/kills"
	if start_server "$D/sealdropd.conf"; then
		restarts=$((restarts + 1))
	else
		startfails=$((startfails + 1))
		diag "kill $kills: the server did not start" "$(tail -n 3 "$SERVER_LOG")"
		[ $startfails -ge 3 ] && break
		start_server "$D/sealdropd.conf" || break
	fi
done
wait "$LOAD_PID"
load_rc=$?
LOAD_PID=""
SOAK=$(grep '^SOAK ' "$T/soak.out")
field() { echo "$SOAK" | sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
if [ $restarts -eq $kills ] && [ $kills -gt 0 ] && [ $startfails -eq 0 ]; then
	ok "the server restarted after every kill -9 ($restarts of $kills)"
else
	not_ok "the server restarted after every kill -9 ($restarts of $kills, $startfails failures to start)"
fi
if [ $during -eq "$KILLS" ]; then ok "every kill came while the load ran ($during)"; else not_ok "every kill came while the load ran ($during of $KILLS)"; fi
if [ $load_rc -eq 0 ] && [ "$(field acked)" = "$FILINGS" ] && [ "$(field fatal)" = 0 ]; then
	ok "the load finished: $FILINGS of $FILINGS filings acknowledged, $OPS operations answered"
else
	not_ok "the load finished (status $load_rc)"
	diag "${SOAK:-no SOAK line}" "$(head -n 10 "$T/soak.err")"
fi
diag "$SOAK"

# --- the store, with the server stopped ---
stop_server
if [ "$SERVER_RC" -eq 0 ]; then ok "the server stopped cleanly after the soak"; else not_ok "the server stopped cleanly after the soak (status $SERVER_RC)"; fi
check "mdb_dump -a reads the store" mdb_dump -a -f /dev/null "$D/store"
check "sealdropd audit check: the audit log's tree matches its signed head" sdd audit check --config "$D/sealdropd.conf"
check "sealdropd scrub: every stored blob and record verifies" sdd scrub --config "$D/sealdropd.conf"
run "$EC" "$D/store" --acks "$T/acks"
EVC=$RC
keep_output
diag "$(grep -v '^eventcheck: problem' "$KEPT_OUT")"
lost=$(sed -n 's/.* lost=\([0-9]*\).*/\1/p' "$KEPT_OUT")
problems=$(sed -n 's/.* problems=\([0-9]*\).*/\1/p' "$KEPT_OUT")
half=$((${problems:-1} - ${lost:-0}))
acked_ops=$(($(grep -c '^[TC] ' "$T/acks")))
if [ "$EVC" -eq 0 ] && [ "${lost:-x}" = 0 ]; then
	ok "0 acknowledged operations lost ($FILINGS filings, $acked_ops transitions/consents)"
else
	not_ok "0 acknowledged operations lost (${lost:-?} lost)"
fi
if [ "$EVC" -eq 0 ] && [ "$half" -eq 0 ]; then
	ok "0 half-applied events: every case event has its audit leaf and every leaf its event"
else
	not_ok "0 half-applied events ($half problems)"
	grep '^eventcheck: problem' "$KEPT_OUT" | head -n 20 | sed 's/^/# /'
fi

# The checker must be able to fail: a copy of the store without one case_events entry.
rm -rf "$T/damaged"
cp -r "$D/store" "$T/damaged"
"$SDL" "$T/damaged" del case_events "$("$SDL" "$T/damaged" keys case_events | head -n 1)"
run "$EC" "$T/damaged" --acks "$T/acks"
if [ "$RC" -ne 0 ] && grep -q 'is not in case_events' "$OUT"; then
	ok "sd-eventcheck fails on a copy of the store that lost one case_events entry"
else
	not_ok "sd-eventcheck fails on a copy of the store that lost one case_events entry"
fi
rm -rf "$T/damaged"

# --- through the server: the case list, refiling, fetching ---
start_server "$D/sealdropd.conf" || { not_ok "the server starts after the soak"; done_testing; }
list_cases() { # every page of the attorney's GET /v1/cases: "case digest" lines
	_after=""
	: >"$T/listed"
	while :; do
		curl_status att GET "/v1/cases${_after:+?after=$_after}" >/dev/null
		"$PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
for c in d["cases"]:
    print(c["case"], c["header_digest"])
print("MORE" if d.get("more") else "END", d["cases"][-1]["case"] if d["cases"] else "")' "$OUT" >"$T/page" || return 1
		grep -v '^MORE\|^END' "$T/page" >>"$T/listed"
		# shellcheck disable=SC2046 # two words on purpose
		set -- $(tail -n 1 "$T/page")
		[ "$1" = MORE ] || return 0
		_after=$2
	done
}
awk '$1 == "F" { print $3, $4 }' "$T/acks" | sort >"$T/acked"
if list_cases && sort "$T/listed" >"$T/listed.s" && [ -z "$(comm -23 "$T/acked" "$T/listed.s")" ]; then
	ok "GET /v1/cases lists every acknowledged case with its header digest ($(wc -l <"$T/acked"))"
else
	not_ok "GET /v1/cases lists every acknowledged case with its header digest"
	diag "missing: $(comm -23 "$T/acked" "$T/listed.s" | head -n 5 | tr '\n' ' ')"
fi
distinct=$(awk '$1 == "F" { print $2 }' "$T/acks" | sort -u | wc -l)
ncases=$(wc -l <"$T/listed")
if [ "$ncases" -eq "$distinct" ]; then
	ok "as many cases as packages acknowledged: a retry was never a second case ($ncases)"
else
	not_ok "as many cases as packages acknowledged ($ncases cases, $distinct packages)"
fi
run "$BS" soak --port "$PORT" --ca "$D/ca.pem" --cert "$D/att/cert.pem" --key "$D/att/key.pem" \
	--packages "$T/pkgs" --count "$FILINGS" --concurrency "$CONC" --acks "$T/refiled"
grep '^F ' "$T/acks" | sort >"$T/a1"
sort "$T/refiled" >"$T/a2"
r500=$(sed -n 's/.* create_500=\([0-9]*\).*/\1/p' "$OUT")
nref=$(wc -l <"$T/a2")
if [ -z "$(comm -13 "$T/a1" "$T/a2")" ] && [ $((nref + ${r500:-0})) -eq "$FILINGS" ] && grep -q " refound=$nref " "$OUT"; then
	ok "filing every package again returns the same receipt: case, digest, leaf and signature ($nref answered)"
else
	not_ok "filing every package again returns the same receipt"
	diag "$(cat "$OUT")" "$(head -n 5 "$ERR")" "$(comm -13 "$T/a1" "$T/a2" | head -n 4)"
fi
c500=$(field create_500)
if [ "${c500:-x}" = 0 ] && [ "${r500:-x}" = 0 ]; then
	ok "a retried filing of a filed package always gets its receipt (POST /v1/uploads never answered 500)"
else
	not_ok "a retried filing of a filed package always gets its receipt: POST /v1/uploads answered 500 ${c500:-?} times during the load, ${r500:-?} times refiling"
	diag "a case on disk without its stored receipt (a kill between commit.c's two writes): server/upload_create.c" \
		"create_reply_committed answers 500 where commit.c's answer_committed signs the receipt again"
fi
list_cases
if [ "$(wc -l <"$T/listed")" -eq "$distinct" ]; then ok "... and adds no case"; else not_ok "... and adds no case ($(wc -l <"$T/listed") cases)"; fi
fetched=0
for pk in $(awk '$1 == "F" { print $2 }' "$T/acks" | shuf -n "$FETCHES"); do
	cn=$(awk -v p="$pk" '$1 == "F" && $2 == p { print $3 }' "$T/acks")
	rm -rf "$T/fetch"
	run sd fetch "$cn" --intake "$P/intake.key" --passphrase-file "$PW" --out "$T/fetch" --server "$URL" \
		--ca "$D/ca.pem" --cert "$D/off/cert.pem" --key "$D/off/key.pem" --root "$P/root.key.pub"
	if [ "$RC" -eq 0 ] && cmp -s "$T/fetch/$cn.sdx" "$T/pkgs/pkg-$pk.sdx"; then fetched=$((fetched + 1)); else diag "case $cn (package $pk) does not read back whole: status $RC"; _diag_output; fi
done
if [ "$fetched" -eq "$FETCHES" ]; then ok "$FETCHES random cases fetched by the officer are their packages, byte for byte"; else not_ok "$FETCHES random cases fetched whole ($fetched)"; fi
stop_server

ELAPSED=$(($(date +%s) - START))
diag "crash soak: $kills kills, $(field acked) filings acknowledged ($(field refound) found filed on retry, $(field resumed) retried)," \
	"$acked_ops transitions/consents acknowledged ($(field ops_applied_unacked) applied without an answer), ${lost:-?} lost," \
	"$half half-applied, restarts $restarts/$KILLS, elapsed ${ELAPSED} s"
done_testing
