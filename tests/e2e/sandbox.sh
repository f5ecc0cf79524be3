# sandbox.sh — least privilege for a running sealdropd (issue 7, item 2; server/sandbox.c):
# once it serves, the server has no new privileges (NoNewPrivs: 1), runs under a seccomp
# filter (Seccomp: 2), is not dumpable (its /proc entry belongs to root), may write no
# core file, keeps its log key in locked memory (VmLck), and is killed by SIGSYS when it
# makes a system call outside its allow-list. The last is shown with the test build
# ($BUILD/sealdropd-testclock), which makes a forbidden call (ptrace) when
# SEALDROPD_TEST_FORBIDDEN_SYSCALL=1; the release sealdropd holds no trace of that hook.
. "$(dirname "$0")/lib.sh"

if [ ! -x "$RELEASE" ] || [ ! -x "$SEALDROPD_TESTCLOCK" ]; then
	not_ok "$RELEASE and $SEALDROPD_TESTCLOCK are built (make all-tests)"
	done_testing
fi

# --- the hook exists only in the test build ---
for s in SEALDROPD_TEST_FORBIDDEN_SYSCALL "forbidden system call"; do
	if bin_has "$RELEASE" "$s"; then not_ok "the release sealdropd holds no '$s'"; else ok "the release sealdropd holds no '$s'"; fi
	if bin_has "$SEALDROPD_TESTCLOCK" "$s"; then ok "  the test build does"; else not_ok "  the test build does"; fi
done

if [ -n "${SEALDROP_SANITIZED:-}" ]; then
	skip "sanitizer build: no seccomp filter and a dumpable process (ASan's leak checker uses ptrace)"
	done_testing
fi

# --- the running release server ---
mkserver || done_testing
pid=$SERVER_PID
if [ "$(proc_status "$pid" NoNewPrivs)" = 1 ]; then ok "the running server has NoNewPrivs: 1"; else
	not_ok "the running server has NoNewPrivs: 1"
	diag "$(grep -E '^(NoNewPrivs|Seccomp)' "/proc/$pid/status")"
fi
if [ "$(proc_status "$pid" Seccomp)" = 2 ]; then ok "  and Seccomp: 2 (a filter)"; else
	not_ok "  and Seccomp: 2 (a filter)"
	diag "$(grep -E '^Seccomp' "/proc/$pid/status")"
fi
# Every thread (event loop, store, sync, worker) runs under the filter: TSYNC.
bad=""
for t in /proc/"$pid"/task/*; do
	[ "$(sed -n 's/^Seccomp:[[:space:]]*//p' "$t/status")" = 2 ] || bad="$bad ${t##*/}"
done
nthreads=$(ls /proc/"$pid"/task | wc -l)
if [ -z "$bad" ] && [ "$nthreads" -ge 3 ]; then ok "  on every one of its $nthreads threads"; else
	not_ok "  on every one of its $nthreads threads (unfiltered:$bad)"
fi
# A process that is not dumpable has its /proc entry owned by root, whoever it runs as.
uid=$(proc_status "$pid" Uid | awk '{print $2}')
owner=$(stat -c %u "/proc/$pid/status")
if [ "$uid" != 0 ] && [ "$owner" = 0 ]; then ok "  it is not dumpable (runs as uid $uid, /proc/$pid belongs to root)"; else
	not_ok "  it is not dumpable (runs as uid $uid, /proc/$pid belongs to uid $owner)"
fi
core=$(awk '/^Max core file size/ {print $5 " " $6}' "/proc/$pid/limits")
if [ "$core" = "0 0" ]; then ok "  and may write no core file (RLIMIT_CORE 0)"; else not_ok "  and may write no core file (RLIMIT_CORE $core)"; fi
lck=$(proc_status "$pid" VmLck | awk '{print $1}')
if [ "${lck:-0}" -gt 0 ]; then ok "  its secrets are in locked memory (VmLck $lck kB, sodium_malloc)"; else
	not_ok "  its secrets are in locked memory (VmLck ${lck:-?} kB)"
fi
check "  its log says it is sandboxed" grep -q 'sandboxed: [0-9]* system calls allowed' "$SERVER_LOG"
# Under the filter it still does its work: a status over the control socket and a filing.
today=$(server_today "$D" 2>/dev/null)
case $today in
[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]) ok "  the sandboxed server answers on its control socket ($today)" ;;
*) not_ok "  the sandboxed server answers on its control socket ('$today')" ;;
esac
run sd seal --directory "$D/directory.json" --root "$P/root.key.pub" --report docs/examples/report.json \
	--identity docs/examples/identity.json --out "$T/pkg.sdx" --codename-out "$T/pkg.sdx.codename" --quiet
check "  and files a case" sd file "$T/pkg.sdx" --server "$URL" --ca "$D/ca.pem" --cert "$D/att/cert.pem" \
	--key "$D/att/key.pem" --root "$P/root.key.pub"
check "  and lists it" curl -sf -o "$T/cases.json" --cacert "$D/ca.pem" --cert "$D/att/cert.pem" \
	--key "$D/att/key.pem" "$URL/v1/cases"
jtrue "  one case" "$T/cases.json" 'len(d["cases"]) == 1'
if kill -0 "$pid" 2>/dev/null; then ok "  and is still running"; else not_ok "  and is still running"; fi
stop_server
if [ "$SERVER_RC" = 0 ]; then ok "  and stops cleanly on SIGTERM, filter and all"; else not_ok "  and stops cleanly on SIGTERM (exit $SERVER_RC)"; fi

# --- a forbidden system call kills the server ---
# The release binary ignores the variable: it starts and serves.
SEALDROPD_TEST_FORBIDDEN_SYSCALL=1 start_server "$D/sealdropd.conf" "$T/release.log"
if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then ok "the release server ignores SEALDROPD_TEST_FORBIDDEN_SYSCALL"; else
	not_ok "the release server ignores SEALDROPD_TEST_FORBIDDEN_SYSCALL"
	diag "$(tail -n 5 "$T/release.log")"
fi
stop_server
# The test build without the variable serves too: the hook alone makes the call.
set_today "$T/today" "$(date +%F)"
if start_server_testclock "$D/sealdropd.conf" "$T/today" "$T/tc.log"; then ok "the test build serves without the variable"; else
	not_ok "the test build serves without the variable"
	diag "$(tail -n 5 "$T/tc.log")"
fi
stop_server
SEALDROPD_TEST_FORBIDDEN_SYSCALL=1 SEALDROPD_TEST_TODAY_FILE=$T/today $_timeout "$SEALDROPD_TESTCLOCK" run \
	--config "$D/sealdropd.conf" </dev/null >"$T/killed.log" 2>&1
rc=$?
if [ "$rc" = 159 ]; then ok "with the variable, the test build is killed by SIGSYS (exit 159)"; else
	not_ok "with the variable, the test build is killed by SIGSYS (exit $rc, expected 159)"
	diag "$(tail -n 5 "$T/killed.log")"
fi
check "  after it said it would make the forbidden call" grep -q 'making a forbidden system call' "$T/killed.log"
if grep -q 'did not hold' "$T/killed.log"; then not_ok "  and the call never returned"; else ok "  and the call never returned"; fi
if start_server "$D/sealdropd.conf"; then ok "the release server starts again on the same directory"; else not_ok "the release server starts again on the same directory"; fi
stop_server

# --- the keys and the store are their owner's alone, or the server does not start ---
refused_start() { # description status words...
	_what=$1
	_want=$2
	shift 2
	timeout -k 5 20 "$SEALDROPD" run --config "$D/sealdropd.conf" </dev/null >"$T/mode.log" 2>&1
	_rc=$?
	_miss=""
	for _w; do grep -qF -- "$_w" "$T/mode.log" || _miss="$_miss '$_w'"; done
	if [ "$_rc" = "$_want" ] && [ -z "$_miss" ]; then ok "$_what: refused ($_want)"; else
		not_ok "$_what: refused ($_want; got $_rc${_miss:+, missing$_miss})"
		diag "$(tail -n 3 "$T/mode.log")"
	fi
}
chmod 644 "$D/log.key"
refused_start "a log key others can read" 77 "log.key is accessible to group or others" "chmod 600"
chmod 600 "$D/log.key"
chmod 750 "$D/store"
refused_start "a store its group can enter" 78 "store is mode 750" "chmod 700"
chmod 700 "$D/store"
chmod 777 "$D"
refused_start "a directory others can write to" 78 "is mode 777: others may write" "chmod 700"
chmod 700 "$D"
if start_server "$D/sealdropd.conf"; then ok "  with the modes back, it starts"; else not_ok "  with the modes back, it starts"; fi
stop_server
done_testing
