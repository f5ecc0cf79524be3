# bench-lib.sh — what the server benchmarks share (scripts/bench-cases.sh,
# scripts/bench-status.sh). Source it after setting NAME (the script's name for
# messages), DIR (its scratch directory), BUILD, BC (the bench_cases binary), SD and SDD
# (the client and server). It checks the binaries, builds BC, makes DIR, traps the
# exits (the server and perf this script started are stopped, by pid; DIR is removed
# unless BENCH_KEEP=1), and provides say, fail, free_port, start_server, stop_server
# and enroll. Set D (the server's directory) and PORT before start_server.

SERVER_PID="" PERF_PID=""
cleanup() {
	[ -n "$PERF_PID" ] && kill -INT "$PERF_PID" 2>/dev/null && wait "$PERF_PID" 2>/dev/null
	[ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
	if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "$NAME: kept $DIR"; else rm -rf "$DIR"; fi
}
say() { printf '%s\n' "$*"; }
fail() {
	say "$NAME: $*" >&2
	exit 1
}
if [ ! -x "$SD" ] || [ ! -x "$SDD" ]; then fail "$SD and $SDD are not built (make sealdrop sealdropd)"; fi
make --no-print-directory -s BUILD="$BUILD" "$BC" || fail "cannot build $BC"
rm -rf "$DIR"
mkdir -p "$DIR"
chmod 755 "$DIR"
trap 'cleanup' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
export XDG_STATE_HOME="$DIR/state"
RESULTS=$DIR/results.txt
: >"$RESULTS"

free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}
start_server() {
	"$SDD" run --config "$D/sealdropd.conf" </dev/null >>"$DIR/server.log" 2>&1 &
	SERVER_PID=$!
	_i=0
	until curl -s -o /dev/null --max-time 2 --cacert "$D/ca.pem" "https://127.0.0.1:$PORT/v1/health"; do
		if ! kill -0 "$SERVER_PID" 2>/dev/null || [ $_i -ge 200 ]; then
			tail -n 20 "$DIR/server.log" >&2
			fail "sealdropd did not start"
		fi
		sleep 0.1
		_i=$((_i + 1))
	done
}
stop_server() {
	kill -TERM "$SERVER_PID" 2>/dev/null
	wait "$SERVER_PID" 2>/dev/null || fail "sealdropd did not stop cleanly: $(tail -n 3 "$DIR/server.log")"
	SERVER_PID=""
}
enroll() { # role name: the fingerprint
	"$SDD" enroll --dir "$D" --role "$1" --name "$2" --out "$DIR/$1" --json >"$DIR/enroll-$1.json" \
		2>"$DIR/enroll.log" || fail "enroll $1: $(cat "$DIR/enroll.log")"
	sed -n 's/.*"fingerprint": *"\([0-9a-f]*\)".*/\1/p' "$DIR/enroll-$1.json"
}
