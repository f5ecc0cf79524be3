# privsep.sh — the key process (issue 7, item 1; server/keyproc.c): a running sealdropd is
# two processes, the front end and its child "sealdropd-keys", and only the child holds
# the log signing key. The front end's memory is searched for the key's 32-byte seed (read
# from DIR/log.key) and must not hold it, while the key process's must (which shows the
# search works). The key process keeps only its socket and the standard descriptors, has
# no store, runs as the server's user under its own seccomp filter, and is killed by that
# filter for a system call the front end may make (openat), shown with the test build's
# hook SEALDROPD_TEST_KEYPROC_SYSCALL=1. Filings still get receipts that verify; a killed
# key process takes the front end down loudly (non-zero, "key process died"); SIGTERM
# stops both with status 0.
. "$(dirname "$0")/lib.sh"

RELEASE=$TOP/${BUILD:-build}/sealdropd

bin_has() { # binary text
	if command -v strings >/dev/null 2>&1; then
		strings -a "$1" | grep -qF -- "$2"
	else
		grep -qaF -- "$2" "$1"
	fi
}

proc_status() { # pid field
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"
}

# The key process: the front end's one child.
key_pid() { # front-end pid
	ps -o pid= --ppid "$1" | tr -d ' '
}

# Whether the seed in KEYFILE (bytes 16..47 of a service key file) is anywhere in the
# readable memory of PID: prints "found", "absent" or "unreadable: why".
seed_in_memory() { # pid keyfile
	"$PY" -c 'import re, sys
pid, keyfile = sys.argv[1], sys.argv[2]
seed = open(keyfile, "rb").read()[16:48]
assert len(seed) == 32
found = False
try:
    maps = open("/proc/%s/maps" % pid).read().splitlines()
    mem = open("/proc/%s/mem" % pid, "rb", 0)
except OSError as e:
    print("unreadable: %s" % e)
    sys.exit(0)
readable = 0
for line in maps:
    f = line.split()
    lo, hi = (int(x, 16) for x in f[0].split("-"))
    path = f[5] if len(f) > 5 else ""
    # the store maps 64 GiB of address space; the vDSO pages cannot be read
    if "r" not in f[1] or path.endswith(".mdb") or path in ("[vvar]", "[vsyscall]") or hi - lo > (1 << 30):
        continue
    try:
        mem.seek(lo)
        data = mem.read(hi - lo)
    except OSError:
        continue
    readable += len(data)
    if seed in data:
        found = True
        break
print("found" if found else ("absent" if readable > 0 else "unreadable: no region could be read"))' "$1" "$2"
}

if [ ! -x "$RELEASE" ] || [ ! -x "$SEALDROPD_TESTCLOCK" ]; then
	not_ok "$RELEASE and $SEALDROPD_TESTCLOCK are built (make all-tests)"
	done_testing
fi

# --- the hook exists only in the test build ---
for s in SEALDROPD_TEST_KEYPROC_SYSCALL "the key process makes a forbidden system call"; do
	if bin_has "$RELEASE" "$s"; then not_ok "the release sealdropd holds no '$s'"; else ok "the release sealdropd holds no '$s'"; fi
	if bin_has "$SEALDROPD_TESTCLOCK" "$s"; then ok "  the test build does"; else not_ok "  the test build does"; fi
done

# --- two processes ---
mkserver || done_testing
pid=$SERVER_PID
kp=$(key_pid "$pid")
case $kp in
'' | *[!0-9]*) not_ok "the front end has exactly one child, the key process (children: '$kp')"; done_testing ;;
*) ok "the front end has exactly one child, the key process ($kp)" ;;
esac
if [ "$(cat "/proc/$kp/comm")" = sealdropd-keys ]; then ok "  named sealdropd-keys"; else not_ok "  named sealdropd-keys ($(cat "/proc/$kp/comm"))"; fi
if [ -z "$(key_pid "$kp")" ]; then ok "  which has no child of its own: two sealdropd processes in all"; else not_ok "  which has no child of its own"; fi
check "  the front end's log names it" grep -q "key process $kp holds the log key" "$SERVER_LOG"

# --- what each holds ---
fds=$(ls "/proc/$kp/fd" | sort -n | tr '\n' ' ')
if [ "$fds" = "0 1 2 3 " ] && readlink "/proc/$kp/fd/3" | grep -q '^socket:'; then
	ok "the key process holds only its socket (fd 3) and the standard descriptors"
else
	not_ok "the key process holds only its socket (fd 3) and the standard descriptors (fds: $fds)"
	diag "$(ls -l "/proc/$kp/fd")"
fi
if grep -q 'data\.mdb' "/proc/$kp/maps"; then not_ok "  and no store mapping"; else ok "  and no store mapping"; fi
if grep -q 'data\.mdb' "/proc/$pid/maps"; then ok "  (the front end still has the store: the store process is the next step)"; else not_ok "  (the front end has the store mapped)"; fi
open_key=no
for f in /proc/"$pid"/fd/*; do
	case $(readlink "$f") in *log.key*) open_key=yes ;; esac
done
if [ $open_key = no ]; then ok "the front end has no log.key open"; else not_ok "the front end has no log.key open"; fi

# --- a filing is still signed ---
run sd seal --directory "$D/directory.json" --root "$P/root.key.pub" --report docs/examples/report.json \
	--identity docs/examples/identity.json --out "$T/pkg.sdx" --codename-out "$T/pkg.sdx.codename" --quiet
check "a filing goes through" sd file "$T/pkg.sdx" --server "$URL" --ca "$D/ca.pem" --cert "$D/att/cert.pem" \
	--key "$D/att/key.pem" --root "$P/root.key.pub"
check "  and its receipt, signed by the key process, verifies" sd receipt verify "$T/pkg.sdx.receipt.json" \
	--directory "$D/directory.json" --root "$P/root.key.pub"

# --- the seed is in the key process's memory, and only there ---
front=$(seed_in_memory "$pid" "$D/log.key")
keys=$(seed_in_memory "$kp" "$D/log.key")
case "$front/$keys" in
absent/found) ok "the log key's seed is in the key process's memory" && ok "  and nowhere in the front end's, after a filing" ;;
unreadable*) skip "the front end's memory cannot be read here ($front)" ;;
*)
	if [ "$keys" = found ]; then ok "the log key's seed is in the key process's memory"; else not_ok "the log key's seed is in the key process's memory ($keys)"; fi
	not_ok "  and nowhere in the front end's, after a filing ($front)"
	;;
esac

# --- the key process's own sandbox ---
if [ -n "${SEALDROP_SANITIZED:-}" ]; then
	skip "sanitizer build: no seccomp filter and dumpable processes (ASan's leak checker uses ptrace)"
else
	uid=$(proc_status "$kp" Uid | awk '{print $2}')
	fuid=$(proc_status "$pid" Uid | awk '{print $2}')
	if [ "$uid" != 0 ] && [ "$uid" = "$fuid" ]; then ok "the key process runs as the server's user (uid $uid)"; else not_ok "the key process runs as the server's user (uid $uid, front end $fuid)"; fi
	if [ "$(proc_status "$kp" NoNewPrivs)" = 1 ] && [ "$(proc_status "$kp" Seccomp)" = 2 ]; then
		ok "  with NoNewPrivs and its own seccomp filter"
	else
		not_ok "  with NoNewPrivs and its own seccomp filter"
		diag "$(grep -E '^(NoNewPrivs|Seccomp)' "/proc/$kp/status")"
	fi
	if [ "$(stat -c %u "/proc/$kp/status")" = 0 ]; then ok "  not dumpable (/proc/$kp belongs to root)"; else not_ok "  not dumpable"; fi
	core=$(awk '/^Max core file size/ {print $5 " " $6}' "/proc/$kp/limits")
	if [ "$core" = "0 0" ]; then ok "  no core file (RLIMIT_CORE 0)"; else not_ok "  no core file (RLIMIT_CORE $core)"; fi
	lck=$(proc_status "$kp" VmLck | awk '{print $1}')
	if [ "${lck:-0}" -gt 0 ]; then ok "  the key in locked memory (VmLck $lck kB)"; else not_ok "  the key in locked memory (VmLck ${lck:-?} kB)"; fi
fi

# --- SIGTERM stops both, cleanly ---
stop_server
if [ "$SERVER_RC" = 0 ]; then ok "SIGTERM stops the front end with status 0"; else not_ok "SIGTERM stops the front end with status 0 (exit $SERVER_RC)"; fi
if kill -0 "$kp" 2>/dev/null; then not_ok "  and the key process with it"; else ok "  and the key process with it"; fi
if grep -qE 'key process (exited|killed|died)' "$SERVER_LOG"; then not_ok "  which ended with status 0 (the front end reaped it)"; diag "$(grep 'key process' "$SERVER_LOG")"; else ok "  which ended with status 0 (the front end reaped it)"; fi

# --- a killed key process takes the front end down ---
start_server "$D/sealdropd.conf" "$T/kill.log" || { not_ok "the server starts again"; done_testing; }
pid=$SERVER_PID
kp=$(key_pid "$pid")
kill -KILL "$kp"
i=0
while [ $i -lt 100 ] && kill -0 "$pid" 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
if kill -0 "$pid" 2>/dev/null; then
	not_ok "kill -9 of the key process stops the front end"
	stop_server
else
	rc=0
	wait "$pid" || rc=$?
	SERVER_PID=""
	if [ "$rc" != 0 ]; then ok "kill -9 of the key process stops the front end, non-zero (exit $rc)"; else not_ok "kill -9 of the key process stops the front end, non-zero (exit 0)"; fi
fi
check "  saying so in its log" grep -q 'key process died.*killed by signal 9 (SIGKILL)' "$T/kill.log"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$D/ca.pem" "$URL/v1/health")
case $code in 2*) not_ok "  and answers nothing after (health: $code)" ;; *) ok "  and answers nothing after (health: $code)" ;; esac

# --- the key process's own filter kills it for a call the front end may make ---
if [ -n "${SEALDROP_SANITIZED:-}" ]; then
	skip "sanitizer build: no seccomp filter"
	done_testing
fi
set_today "$T/today" "$(date +%F)"
SEALDROPD_TEST_KEYPROC_SYSCALL=1 SEALDROPD_TEST_TODAY_FILE=$T/today $_timeout "$SEALDROPD_TESTCLOCK" run \
	--config "$D/sealdropd.conf" </dev/null >"$T/sys.log" 2>&1
rc=$?
if [ "$rc" != 0 ] && [ "$rc" != 159 ]; then ok "with the hook, the test build stops (exit $rc), its front end not killed itself"; else
	not_ok "with the hook, the test build stops non-zero, its front end not killed itself (exit $rc)"
	diag "$(tail -n 5 "$T/sys.log")"
fi
check "  after the key process said it would open a file" grep -q 'the key process makes a forbidden system call (openat)' "$T/sys.log"
check "  and its filter killed it with SIGSYS" grep -q 'key process died.*killed by signal 31 (SIGSYS)' "$T/sys.log"
if grep -q 'its filter did not hold' "$T/sys.log"; then not_ok "  the call never returned"; else ok "  the call never returned"; fi
if start_server "$D/sealdropd.conf"; then ok "the release server starts again on the same directory"; else not_ok "the release server starts again on the same directory"; fi
stop_server
done_testing
