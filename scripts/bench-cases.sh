#!/bin/sh
# bench-cases.sh — `make bench` for the case listing (issue 5): GET /v1/cases with 100,000
# cases in the store (target: p99 below 20 ms), every figure beside GET /v1/health on the
# same server, connections and certificate in the same run (the floor of any request).
# Results go into docs/BENCHMARKS.md ("Case listing (issue 5)") by hand. Called by
# scripts/bench.sh; runs alone too:
#	BUILD=build scripts/bench-cases.sh
#
# A throwaway deployment in a scratch directory: `sealdropd init` on a free port, a
# --test key directory, an officer and an attorney enrolled; then the server is stopped,
# build/tests/bench_cases fill writes the cases into its store (tests/bench/bench_cases.c
# says what they look like), the server starts again, and bench_cases get times each
# request over TLS keep-alive connections with the officer's certificate, 1 and 8 at once:
#	health    GET /v1/health: the baseline
#	list      GET /v1/cases: the first page (1,000 cases)
#	overdue   GET /v1/cases?overdue=1
#	referred  GET /v1/cases?state=referred
#	due7      GET /v1/cases?due_within=7
#	case      GET /v1/cases/{case} of random cases
#	rare      GET /v1/cases?state=objection-filed: a state almost no case is in (before the
#	          case_by_state index this read the whole store; now the few index entries)
#	attorney  GET /v1/cases with the attorney's certificate (a quarter of the cases are theirs)
# Then perf (if installed) profiles the server during `list`. Everything is torn down on
# exit, failure included.
#
#	BENCH_QUICK=1      10,000 cases and fewer requests: checks that the script works
#	BENCH_CASES_DIR    the scratch directory (default build/bench-cases-PID); its absolute
#	                   path must stay short (sealdropd's state directory: at most 94 bytes)
#	BENCH_PERF=0       no perf profile
#	BENCH_KEEP=1       keep the scratch directory (logs, perf.data, results.txt)
set -eu
BUILD=${BUILD:-build}
QUICK=${BENCH_QUICK:-0}
PERF=${BENCH_PERF:-1}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
DIR=${BENCH_CASES_DIR:-$BUILD/bench-cases-$$}
case $DIR in /*) ;; *) DIR=$top/$DIR ;; esac
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
BC=$BUILD/tests/bench_cases
SD=$BUILD/sealdrop
SDD=$BUILD/sealdropd
TARGET_MS=20

if [ "$QUICK" = 1 ]; then
	CASES=10000 N_LIST="40 80" N_FILTER="40 80" N_RARE="5 8" N_ONE="1000 2000" N_PERF=30
else
	CASES=100000 N_LIST="100 200" N_FILTER="50 100" N_RARE="5 8" N_ONE="2000 4000" N_PERF=50
fi
CONCS="1 8"

NAME=bench-cases
. "$top/scripts/bench-lib.sh"

say "== case listing benchmark (issue 5): $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1)," \
	"LMDB $(pkg-config --modversion lmdb), kernel $(uname -r)"
say "== scratch: $DIR ($(df -T "$DIR" | awk 'NR==2 {print $2}'))"
say "== load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- the deployment ----------------------------------------------------------------------
P=$DIR/p D=$DIR/d
mkdir -p "$P"
echo "bench passphrase" >"$P/pw"
for k in root intake identity; do
	"$SD" keygen --kind "$k" --kdf interactive --out "$P/$k.key" --passphrase-file "$P/pw" >/dev/null
done
PORT=$(free_port)
"$SDD" init --dir "$D" --listen "127.0.0.1:$PORT" >"$DIR/init.log" 2>&1 || fail "sealdropd init: $(tail -n 5 "$DIR/init.log")"
"$SD" directory create --deployment bench --intake "$P/intake.key.pub" --identity "$P/identity.key.pub" \
	--log "$D/log.key.pub" --tls-ca "$D/ca.pem" --test --root "$P/root.key" --passphrase-file "$P/pw" \
	--out "$D/directory.json" >/dev/null 2>"$DIR/directory.log" || fail "directory create: $(cat "$DIR/directory.log")"
# The whole-store scan takes seconds: the other connections must not be dropped as idle
# while they wait for it.
sed -i -e 's/^idle_timeout .*/idle_timeout 10m/' -e 's/^request_timeout .*/request_timeout 10m/' "$D/sealdropd.conf"
start_server
OFFICER=$(enroll officer "Bench Officer")
ATTORNEY=$(enroll attorney "Bench Attorney")
if [ -z "$OFFICER" ] || [ -z "$ATTORNEY" ]; then fail "no fingerprint in sealdropd enroll --json"; fi
stop_server

say "== filling the store with $CASES cases (server stopped)"
"$BC" fill --config "$D/sealdropd.conf" --cases "$CASES" --attorney "$ATTORNEY:Bench Attorney" \
	--numbers-out "$DIR/numbers.txt" >"$DIR/fill.out" 2>"$DIR/fill.log" || fail "fill: $(tail -n 3 "$DIR/fill.log")"
cat "$DIR/fill.out"
say "store: $(du -m "$D/store/data.mdb" | cut -f1) MB"
start_server
say "== sealdropd $SERVER_PID serving $CASES cases"

# --- the measurements --------------------------------------------------------------------
# get NAME PATH "N1 N8" CONC [CERT-DIR]
get() {
	if [ "$4" = 1 ]; then _n=$(echo "$3" | cut -d' ' -f1); else _n=$(echo "$3" | cut -d' ' -f2); fi
	_who=${5:-officer}
	"$BC" get --port "$PORT" --ca "$D/ca.pem" --cert "$DIR/$_who/cert.pem" --key "$DIR/$_who/key.pem" \
		--path "$2" --numbers "$DIR/numbers.txt" --count "$_n" --concurrency "$4" --label "$1" \
		--pid "$SERVER_PID" >"$DIR/run.out" 2>>"$DIR/errors.log" ||
		say "bench-cases: $1 at $4 connections had failures (see the first errors below)" >&2
	tee -a "$RESULTS" <"$DIR/run.out"
}
for c in $CONCS; do
	say "== $c connection(s)"
	get health /v1/health "$N_ONE" "$c"
	get list /v1/cases "$N_LIST" "$c"
	get overdue "/v1/cases?overdue=1" "$N_FILTER" "$c"
	get referred "/v1/cases?state=referred" "$N_FILTER" "$c"
	get due7 "/v1/cases?due_within=7" "$N_FILTER" "$c"
	get case "/v1/cases/{case}" "$N_ONE" "$c"
	get rare "/v1/cases?state=objection-filed" "$N_RARE" "$c"
	get attorney /v1/cases "$N_FILTER" "$c" attorney
	get health /v1/health "$N_ONE" "$c"
done
if [ -s "$DIR/errors.log" ]; then
	say "== first errors"
	head -n 10 "$DIR/errors.log"
fi
say "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- where the listing's time goes ---------------------------------------------------------
if [ "$PERF" = 1 ] && command -v perf >/dev/null 2>&1; then
	say "== perf: sealdropd during $N_PERF x GET /v1/cases at 1 connection (not counted above)"
	perf record --call-graph dwarf,16384 -F 499 -p "$SERVER_PID" -o "$DIR/perf.data" >/dev/null 2>"$DIR/perf.log" &
	PERF_PID=$!
	sleep 1
	"$BC" get --port "$PORT" --ca "$D/ca.pem" --cert "$DIR/officer/cert.pem" --key "$DIR/officer/key.pem" \
		--path /v1/cases --count "$N_PERF" --label list-under-perf >/dev/null 2>>"$DIR/errors.log" || true
	kill -INT "$PERF_PID" 2>/dev/null
	wait "$PERF_PID" 2>/dev/null || true
	PERF_PID=""
	perf report -i "$DIR/perf.data" --stdio -g none --children --sort symbol >"$DIR/perf-children.txt" 2>/dev/null || true
	say "-- share of the server's samples, including callees (the listing's own functions)"
	grep -E '^ +[0-9.]+%' "$DIR/perf-children.txt" |
		grep -E ' (officer_scanned|listing_take|sd_case_rec_decode|record_load_object|json_loadb|case_fields_decode|steps_decode|workflow_replay|record_member_hex|sd_case_summary_json|listing_reply|sd_request_reply_json|json_dumps|json_delete|SSL_write|store_thread|mdb_cursor_get|sd_store_req_scan_entry) ' |
		awk '!seen[$4]++ { printf "   %7s  %s\n", $1, $4 }'
elif [ "$PERF" = 1 ]; then
	say "(perf is not installed: no profile)"
fi

# --- the target ----------------------------------------------------------------------------
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
res() { grep "^RESULT mode=get name=$1 conc=$2 " "$RESULTS" | head -n1; }
say "== p50 / p99 in ms (the same request's server CPU), GET /v1/health the baseline; target p99 < $TARGET_MS ms"
for c in $CONCS; do
	h=$(res health "$c")
	say "-- $c connection(s): health p50 $(echo "$h" | field p50_ms) p99 $(echo "$h" | field p99_ms)"
	for name in list overdue referred due7 rare attorney case; do
		r=$(res "$name" "$c")
		[ -n "$r" ] || continue
		p99=$(echo "$r" | field p99_ms)
		verdict=$(awk -v p="$p99" -v t="$TARGET_MS" 'BEGIN { if (p == "") print "NOT MEASURED";
			else if (p + 0 < t + 0) print "met"; else printf "MISSED by %.1f ms (%.1fx)", p - t, p / t }')
		[ "$name" = case ] && verdict="(one case: not a listing)"
		printf '   %-9s p50 %8s  p99 %8s  cpu/req %8s ms  page %5s  %s\n' "$name" "$(echo "$r" | field p50_ms)" \
			"$p99" "$(echo "$r" | field server_cpu_ms_per_req)" "$(echo "$r" | field page)" "$verdict"
	done
done
# The rare filter reads only the index entries of its state: its CPU per request is the
# floor of a filtered listing.
r=$(res rare 1)
if [ -n "$r" ]; then
	say "== server CPU of the rare filter (1 connection): $(echo "$r" | field server_cpu_ms_per_req) ms a request;" \
		"$(echo "$r" | field page) cases matched"
fi
