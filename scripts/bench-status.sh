#!/bin/sh
# bench-status.sh — `make bench` for the whistleblower's status (issue 5): the round trip
# GET /v1/wb/challenge + POST /v1/wb/status on a kept-alive TLS 1.3 connection without a
# certificate (target: p99 below 50 ms), excluding the client's own deliberate work, which
# is measured apart: the proof of work at the server's pow_bits, and the Argon2id
# derivation of the codename's keys. GET /v1/health on the same kind of connection, in the
# same run, is the baseline. Results go into docs/BENCHMARKS.md ("Whistleblower status
# (issue 5)") by hand. Called by scripts/bench.sh; runs alone too:
#	BUILD=build scripts/bench-status.sh
#
# A throwaway deployment in a scratch directory, as deployed: `sealdropd init` (pow_bits
# stays at its default, 20), a directory that is not --test (so the codename's Argon2id
# limits are the real floor, INTERACTIVE), an officer and an attorney enrolled. Two
# settings differ from the defaults, and only so that the bench measures the server
# rather than its guards: anon_rate_per_minute 1000000 (the default, 60 a minute for all
# whistleblowers together, would answer 503 after a second of this load), and
# idle_timeout 10m (the connections wait, idle, while the bench solves the next batch's
# proofs of work; with 30 s they would be closed and every batch would pay a handshake).
# The server is stopped, build/tests/bench_cases fill writes 100,000 cases into its store
# (the status finds its cases through an index, but reads the same LMDB file), and it
# starts again. Then the real client seals and files 5 cases under 4 codenames:
#	codename 1  one case with 10 notices: receipt, extension, 6 written, referral, result
#	codename 2  two cases (sealed with --codename-file), a receipt notice each
#	codename 3, 4  one case each, a receipt notice
# and a head is published. `sealdrop status --json` checks every codename end to end
# (and is timed whole, Argon2id and proof of work included). bench_cases wbstatus then
# times the rounds at 1 and at 8 connections, each round for a codename drawn at random
# (tests/bench/bench_cases.c, "wbstatus", says how the proof of work is kept out of the
# time), with the Argon2id and proof-of-work figures before the first run.
#
#	BENCH_QUICK=1             10,000 cases, 200 rounds, 10 searches: checks the script
#	BENCH_STATUS_ROUNDS       rounds per run (default 2000)
#	BENCH_STATUS_FILL         cases written into the store first (default 100000; 0: none)
#	BENCH_STATUS_POW_BITS     pow_bits of the server (default: sealdropd's, 20)
#	BENCH_STATUS_DIR          the scratch directory (default build/bench-status-PID); its
#	                          absolute path must stay short (the state directory: <= 94 bytes)
#	BENCH_PERF=0              no perf profile (otherwise: if perf is installed, the server
#	                          during a quarter as many rounds again, at 1 connection)
#	BENCH_KEEP=1              keep the scratch directory (logs, results.txt, latencies, perf.data)
set -eu
BUILD=${BUILD:-build}
QUICK=${BENCH_QUICK:-0}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
DIR=${BENCH_STATUS_DIR:-$BUILD/bench-status-$$}
case $DIR in /*) ;; *) DIR=$top/$DIR ;; esac
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
BC=$BUILD/tests/bench_cases
SD=$BUILD/sealdrop
SDD=$BUILD/sealdropd
TARGET_MS=50

if [ "$QUICK" = 1 ]; then
	FILL=${BENCH_STATUS_FILL:-10000} ROUNDS=${BENCH_STATUS_ROUNDS:-200} POW_RUNS=10 KDF_RUNS=2 N_HEALTH=1000
else
	FILL=${BENCH_STATUS_FILL:-100000} ROUNDS=${BENCH_STATUS_ROUNDS:-2000} POW_RUNS=50 KDF_RUNS=5 N_HEALTH=4000
fi
CONCS="1 8"
PERF=${BENCH_PERF:-1}
N_PERF=$((ROUNDS / 4))

NAME=bench-status
. "$top/scripts/bench-lib.sh"
# quiet NAME command...: runs it, its output in $DIR/NAME.out/.err; fails the bench on error.
quiet() {
	_n=$1
	shift
	"$@" </dev/null >"$DIR/$_n.out" 2>"$DIR/$_n.err" || fail "$_n: $(tail -n 3 "$DIR/$_n.err")"
}

say "== whistleblower status benchmark (issue 5): $(nproc) cores," \
	"$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1), libsodium $(pkg-config --modversion libsodium)," \
	"OpenSSL $(pkg-config --modversion openssl), kernel $(uname -r)"
say "== scratch: $DIR ($(df -T "$DIR" | awk 'NR==2 {print $2}'))"
say "== load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- the deployment ------------------------------------------------------------------------
P=$DIR/p D=$DIR/d
mkdir -p "$P"
echo "bench passphrase" >"$P/pw"
for k in root intake identity agency; do
	quiet "keygen-$k" "$SD" keygen --kind "$k" --kdf interactive --out "$P/$k.key" --passphrase-file "$P/pw"
done
PORT=$(free_port)
quiet init "$SDD" init --dir "$D" --listen "127.0.0.1:$PORT"
quiet directory "$SD" directory create --deployment bench --intake "$P/intake.key.pub" \
	--identity "$P/identity.key.pub" --log "$D/log.key.pub" --tls-ca "$D/ca.pem" \
	--agency "bai:Board of Audit and Inspection:$P/agency.key.pub" --root "$P/root.key" \
	--passphrase-file "$P/pw" --out "$D/directory.json"
sed -i -e 's/^anon_rate_per_minute .*/anon_rate_per_minute 1000000/' -e 's/^idle_timeout .*/idle_timeout 10m/' \
	"$D/sealdropd.conf"
if [ -n "${BENCH_STATUS_POW_BITS:-}" ]; then
	sed -i "s/^pow_bits .*/pow_bits $BENCH_STATUS_POW_BITS/" "$D/sealdropd.conf"
fi
grep -q '^anon_rate_per_minute 1000000$' "$D/sealdropd.conf" || fail "no anon_rate_per_minute line to raise"
say "== sealdropd.conf: $(grep -E '^(pow_bits|anon_rate_per_minute|idle_timeout) ' "$D/sealdropd.conf" | tr '\n' ' ')"
start_server
OFFICER=$(enroll officer "Bench Officer")
ATTORNEY=$(enroll attorney "Bench Attorney")
if [ -z "$OFFICER" ] || [ -z "$ATTORNEY" ]; then fail "no fingerprint in sealdropd enroll --json"; fi
if [ "$FILL" -gt 0 ]; then
	stop_server
	say "== filling the store with $FILL cases (server stopped)"
	quiet fill "$BC" fill --config "$D/sealdropd.conf" --cases "$FILL" --attorney "$ATTORNEY:Bench Attorney"
	cat "$DIR/fill.out"
	start_server
fi
say "store: $(du -m "$D/store/data.mdb" | cut -f1) MB"

# --- the whistleblowers' cases, by the real client ------------------------------------------
URL=https://127.0.0.1:$PORT
ATT="--server $URL --ca $D/ca.pem --cert $DIR/attorney/cert.pem --key $DIR/attorney/key.pem --root $P/root.key.pub"
OFF="--server $URL --ca $D/ca.pem --cert $DIR/officer/cert.pem --key $DIR/officer/key.pem --root $P/root.key.pub"
WB="--server $URL --ca $D/ca.pem --directory $D/directory.json --root $P/root.key.pub"
# file_case NAME --codename-out|--codename-file FILE: seals docs/examples' report and files
# it; prints the case.
file_case() {
	quiet "seal-$1" "$SD" seal --directory "$D/directory.json" --root "$P/root.key.pub" \
		--report docs/examples/report.json --identity docs/examples/identity.json --out "$DIR/$1.sdx" --quiet "$2" "$3"
	# shellcheck disable=SC2086 # $ATT is a list of options
	quiet "file-$1" "$SD" file "$DIR/$1.sdx" $ATT --json
	sed -n 's/.*"case": *"\([0-9-]*\)".*/\1/p' "$DIR/file-$1.out" | head -n1
}
CN=$DIR/codenames
mkdir -p "$CN"
A=$(file_case a --codename-out "$CN/1")
file_case b1 --codename-out "$CN/2" >/dev/null
file_case b2 --codename-file "$CN/2" >/dev/null
file_case c --codename-out "$CN/3" >/dev/null
file_case d --codename-out "$CN/4" >/dev/null
[ -n "$A" ] || fail "no case number in sealdrop file --json"
TODAY=$(sed -n 's/.*"received": *"\([0-9-]*\)".*/\1/p' "$DIR/file-a.out") # the server's day (its time zone)
# shellcheck disable=SC2086
{
	quiet extend "$SD" transition "$A" extend --reason "more documents to read" $OFF
	for i in 1 2 3 4 5; do
		printf 'Notice %s: we are reading the documents you sent; nothing is needed from you now.\n' "$i" \
			>"$DIR/written.txt"
		quiet "written-$i" "$SD" notice "$A" --text "$DIR/written.txt" $OFF
	done
	quiet refer "$SD" transition "$A" refer --agency bai --kind inspection $OFF
	quiet written-6 "$SD" notice "$A" --text "$DIR/written.txt" $OFF
	echo "The Board found the invoices inflated and ordered a repayment." >"$DIR/summary.txt"
	quiet outcome "$SD" transition "$A" outcome --concluded "$TODAY" --summary "$DIR/summary.txt" $OFF
}
quiet publish "$SDD" audit publish --config "$D/sealdropd.conf"
say "== 5 cases under 4 codenames (codename 1: case $A); the real client's status, every notice checked:"
for k in 1 2 3 4; do
	t0=$(date +%s.%N)
	# shellcheck disable=SC2086
	quiet "status-$k" "$SD" status $WB --codename-file "$CN/$k" --json
	t1=$(date +%s.%N)
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
n = [len(c["notices"]) for c in d["cases"]]
bad = [x for c in d["cases"] for x in c["notices"] if not x.get("verified")]
print("   codename %s: %d case(s), %s notice(s), %d not verified; sealdrop status took %.2f s whole" %
      (sys.argv[2], len(n), "+".join(map(str, n)), len(bad), float(sys.argv[3])))
sys.exit(1 if bad else 0)' "$DIR/status-$k.out" "$k" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" || fail "codename $k: a notice is not verified"
done

# --- the measurements ------------------------------------------------------------------------
# health N CONC: the baseline on the same kind of connection (no certificate)
health() {
	"$BC" get --port "$PORT" --ca "$D/ca.pem" --path /v1/health --count "$1" --concurrency "$2" --label health \
		--pid "$SERVER_PID" >"$DIR/run.out" 2>>"$DIR/errors.log" ||
		say "bench-status: health at $2 connections had failures" >&2
	tee -a "$RESULTS" <"$DIR/run.out"
}
# status CONC [wbstatus options...]
status() {
	_c=$1
	shift
	"$BC" wbstatus --port "$PORT" --ca "$D/ca.pem" --directory "$D/directory.json" --codename "$CN/1" \
		--codename "$CN/2" --codename "$CN/3" --codename "$CN/4" --count "$ROUNDS" --concurrency "$_c" \
		--label status --pid "$SERVER_PID" --latencies "$DIR/latencies-$_c.txt" "$@" >"$DIR/run.out" \
		2>>"$DIR/errors.log" || say "bench-status: status at $_c connections had failures" >&2
	tee -a "$RESULTS" <"$DIR/run.out"
}
for c in $CONCS; do
	say "== $c connection(s)"
	health "$N_HEALTH" "$c"
	if [ "$c" = 1 ]; then
		status "$c" --kdf-runs "$KDF_RUNS" --pow-runs "$POW_RUNS"
	else
		status "$c"
	fi
	health "$N_HEALTH" "$c"
done
if [ -s "$DIR/errors.log" ]; then
	say "== first errors"
	head -n 10 "$DIR/errors.log"
fi
say "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- where the server's time goes ----------------------------------------------------------
if [ "$PERF" = 1 ] && command -v perf >/dev/null 2>&1; then
	say "== perf: sealdropd during $N_PERF rounds at 1 connection (not counted above; the server idles while"
	say "   the proofs of work are solved, so the samples are the rounds')"
	perf record -F 999 -g -p "$SERVER_PID" -o "$DIR/perf.data" >/dev/null 2>"$DIR/perf.log" &
	PERF_PID=$!
	sleep 1
	status 1 --count "$N_PERF" --label status-under-perf >/dev/null
	kill -INT "$PERF_PID" 2>/dev/null
	wait "$PERF_PID" 2>/dev/null || true
	PERF_PID=""
	perf report -i "$DIR/perf.data" --stdio --no-children --sort dso -g none >"$DIR/perf-dso.txt" 2>/dev/null || true
	perf report -i "$DIR/perf.data" --stdio --no-children --sort dso,symbol -g none >"$DIR/perf-self.txt" 2>/dev/null || true
	say "-- the server's samples by library (self)"
	grep -E '^ +[0-9.]+%' "$DIR/perf-dso.txt" | head -n 8 | awk '{ printf "   %7s  %s\n", $1, $2 }'
	say "-- by function (self), the top 12"
	grep -E '^ +[0-9.]+%' "$DIR/perf-self.txt" | head -n 12 | awk '{ printf "   %7s  %-22s %s\n", $1, $2, $4 }'
elif [ "$PERF" = 1 ]; then
	say "(perf is not installed: no profile)"
fi

# --- the target ----------------------------------------------------------------------------
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
res() { grep "^RESULT mode=$1 name=$2 conc=$3 " "$RESULTS" | head -n1; }
say "== round trip (GET challenge + POST status), ms; GET /v1/health the baseline; target p99 < $TARGET_MS ms"
for c in $CONCS; do
	h=$(res get health "$c")
	s=$(res wbstatus status "$c")
	if [ -z "$s" ] || [ -z "$h" ]; then continue; fi
	hp50=$(echo "$h" | field p50_ms) hp99=$(echo "$h" | field p99_ms)
	sp50=$(echo "$s" | field p50_ms) sp99=$(echo "$s" | field p99_ms)
	verdict=$(awk -v p="$sp99" -v t="$TARGET_MS" 'BEGIN { if (p + 0 < t + 0) print "met"; else print "MISSED" }')
	say "-- $c connection(s): status p50 $sp50 p99 $sp99 max $(echo "$s" | field max_ms)" \
		"(challenge p99 $(echo "$s" | field challenge_p99_ms), POST p99 $(echo "$s" | field status_p99_ms))," \
		"server CPU $(echo "$s" | field server_cpu_ms_per_round) ms a round; target $verdict"
	say "   health p50 $hp50 p99 $hp99; status/health: p50 $(awk -v a="$sp50" -v b="$hp50" 'BEGIN { printf "%.1f", a / b }')x," \
		"p99 $(awk -v a="$sp99" -v b="$hp99" 'BEGIN { printf "%.1f", a / b }')x"
done
p=$(grep '^RESULT mode=wbstatus name=pow ' "$RESULTS" | head -n1)
[ -n "$p" ] && say "== proof of work ($(echo "$p" | field bits) bits, one core, $(echo "$p" | field count) searches):" \
	"p50 $(echo "$p" | field p50_ms) ms, p99 $(echo "$p" | field p99_ms) ms, mean $(echo "$p" | field mean_ms) ms"
grep '^RESULT mode=wbstatus name=kdf-' "$RESULTS" | while read -r k; do
	say "== Argon2id $(echo "$k" | sed -n 's/.* name=kdf-\([^ ]*\).*/\1/p') (ops $(echo "$k" | field opslimit)," \
		"$(echo "$k" | field memlimit_mib) MiB): p50 $(echo "$k" | field p50_ms) ms, max $(echo "$k" | field max_ms) ms"
done
