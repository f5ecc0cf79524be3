# privsep.sh — privilege separation (issue 7, item 1; server/keyproc.c, server/storeproc.c):
# a running sealdropd is three processes, the front end and its children "sealdropd-keys"
# and "sealdropd-store". Only the key process holds the log signing key: the front end's
# memory (and the store process's) is searched for the key's 32-byte seed (read from
# DIR/log.key) and must not hold it, while the key process's must (which shows the search
# works). Only the store process holds LMDB: the front end has no mapping of data.mdb and
# no descriptor on it, the store process has both. Each child keeps only its socket (and,
# for the store, its LMDB files) and the standard descriptors, runs as the server's user
# under its own seccomp filter, and is killed by that filter for a system call the front
# end may make (openat for the key process, socket for the store process), shown with the test build's hooks SEALDROPD_TEST_KEYPROC_SYSCALL=1
# and SEALDROPD_TEST_STORE_SYSCALL=1. Filings still get receipts that verify; a killed child
# takes the front end down loudly (non-zero, "key process died" / "store process died") and
# nothing is answered after; a killed front end lets the store process end and release the
# store; SIGTERM stops all three with status 0.
. "$(dirname "$0")/lib.sh"

# The front end's children, and the one named NAME.
children() { # pid
	ps -o pid= --ppid "$1" | tr -d ' '
}
child_named() { # front-end pid name
	for _c in $(children "$1"); do
		[ "$(cat "/proc/$_c/comm" 2>/dev/null)" = "$2" ] && echo "$_c"
	done
}
key_pid() { # front-end pid
	child_named "$1" sealdropd-keys
}
store_pid() { # front-end pid
	child_named "$1" sealdropd-store
}
# Whether PID has data.mdb mapped, and open.
maps_store() { grep -q 'data\.mdb' "/proc/$1/maps"; }
opens_store() { # pid
	for _f in /proc/"$1"/fd/*; do
		case $(readlink "$_f") in *data.mdb) return 0 ;; esac
	done
	return 1
}
# The sandbox checks, on a child.
child_sandboxed() { # pid what
	uid=$(proc_status "$1" Uid | awk '{print $2}')
	fuid=$(proc_status "$pid" Uid | awk '{print $2}')
	if [ "$uid" != 0 ] && [ "$uid" = "$fuid" ]; then ok "the $2 runs as the server's user (uid $uid)"; else not_ok "the $2 runs as the server's user (uid $uid, front end $fuid)"; fi
	if [ "$(proc_status "$1" NoNewPrivs)" = 1 ] && [ "$(proc_status "$1" Seccomp)" = 2 ]; then
		ok "  with NoNewPrivs and its own seccomp filter"
	else
		not_ok "  with NoNewPrivs and its own seccomp filter"
		diag "$(grep -E '^(NoNewPrivs|Seccomp)' "/proc/$1/status")"
	fi
	if [ "$(stat -c %u "/proc/$1/status")" = 0 ]; then ok "  not dumpable (/proc/$1 belongs to root)"; else not_ok "  not dumpable"; fi
	core=$(awk '/^Max core file size/ {print $5 " " $6}' "/proc/$1/limits")
	if [ "$core" = "0 0" ]; then ok "  no core file (RLIMIT_CORE 0)"; else not_ok "  no core file (RLIMIT_CORE $core)"; fi
	if [ "$(readlink "/proc/$1/root")" = "$D" ] || [ "$(readlink "/proc/$1/root")" = "$(cd "$D" && pwd -P)" ]; then ok "  chrooted into the server's dir"; else not_ok "  chrooted into the server's dir ($(readlink "/proc/$1/root"))"; fi
}
# Waits up to 10 s for PID to end.
gone_within() { # pid
	_i=0
	while [ $_i -lt 100 ] && kill -0 "$1" 2>/dev/null; do
		sleep 0.1
		_i=$((_i + 1))
	done
	! kill -0 "$1" 2>/dev/null
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

# --- the hooks exist only in the test build ---
for s in SEALDROPD_TEST_KEYPROC_SYSCALL "the key process makes a forbidden system call" SEALDROPD_TEST_STORE_SYSCALL \
	"the store process makes a forbidden system call"; do
	if bin_has "$RELEASE" "$s"; then not_ok "the release sealdropd holds no '$s'"; else ok "the release sealdropd holds no '$s'"; fi
	if bin_has "$SEALDROPD_TESTCLOCK" "$s"; then ok "  the test build does"; else not_ok "  the test build does"; fi
done

# --- three processes ---
mkserver || done_testing
pid=$SERVER_PID
kp=$(key_pid "$pid")
sp=$(store_pid "$pid")
n=$(children "$pid" | wc -l)
case $kp/$sp/$n in
*[!0-9/]* | /* | */ | */*/ | *//*) not_ok "the front end has two children, the key and store processes (children: $(children "$pid" | tr '\n' ' '))"; done_testing ;;
*/*/2) ok "the front end has two children, the key process ($kp) and the store process ($sp)" ;;
*) not_ok "the front end has exactly two children ($n)"; done_testing ;;
esac
if [ -z "$(children "$kp")" ] && [ -z "$(children "$sp")" ]; then ok "  which have no child of their own: three sealdropd processes in all"; else not_ok "  which have no child of their own"; fi
check "  the front end's log names the key process" grep -q "key process $kp holds the log key" "$SERVER_LOG"
check "  and the store process" grep -q "store process $sp holds the store" "$SERVER_LOG"

# --- what each holds ---
fds=$(ls "/proc/$kp/fd" | sort -n | tr '\n' ' ')
if [ "$fds" = "0 1 2 3 " ] && readlink "/proc/$kp/fd/3" | grep -q '^socket:'; then
	ok "the key process holds only its socket (fd 3) and the standard descriptors"
else
	not_ok "the key process holds only its socket (fd 3) and the standard descriptors (fds: $fds)"
	diag "$(ls -l "/proc/$kp/fd")"
fi
if maps_store "$kp" || opens_store "$kp"; then not_ok "  and no store"; else ok "  and no store"; fi
if maps_store "$pid"; then not_ok "the front end has no mapping of data.mdb"; diag "$(grep mdb "/proc/$pid/maps" | head -3)"; else ok "the front end has no mapping of data.mdb"; fi
if opens_store "$pid"; then not_ok "  and no descriptor on it"; else ok "  and no descriptor on it"; fi
lmdb=no
for f in /proc/"$pid"/fd/*; do
	case $(readlink "$f") in *.mdb | *sealdropd.lock) lmdb=yes ;; esac
done
if [ $lmdb = no ]; then ok "  nor on lock.mdb or the store's lock"; else not_ok "  nor on lock.mdb or the store's lock"; diag "$(ls -l "/proc/$pid/fd")"; fi
if maps_store "$sp" && opens_store "$sp"; then ok "the store process has data.mdb mapped and open"; else not_ok "the store process has data.mdb mapped and open"; fi
if readlink "/proc/$sp/fd/3" | grep -q '^socket:'; then ok "  and its socket as fd 3"; else not_ok "  and its socket as fd 3"; fi
other=""
for f in /proc/"$sp"/fd/*; do
	n=${f##*/}
	[ "$n" -le 3 ] && continue
	case $(readlink "$f") in *.mdb | *sealdropd.lock) ;; *) other="$other $n:$(readlink "$f")" ;; esac
done
if [ -z "$other" ]; then ok "  and nothing but its LMDB files besides"; else not_ok "  and nothing but its LMDB files besides ($other)"; fi
for f in /proc/"$sp"/fd/*; do
	case $(readlink "$f") in *log.key* | *.key) not_ok "the store process has a key file open ($(readlink "$f"))" ;; esac
done
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
store=$(seed_in_memory "$sp" "$D/log.key")
case $store in
absent) ok "the log key's seed is not in the store process's memory" ;;
unreadable*) skip "the store process's memory cannot be read here ($store)" ;;
*) not_ok "the log key's seed is not in the store process's memory ($store)" ;;
esac
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
	child_sandboxed "$kp" "key process"
	lck=$(proc_status "$kp" VmLck | awk '{print $1}')
	if [ "${lck:-0}" -gt 0 ]; then ok "  the key in locked memory (VmLck $lck kB)"; else not_ok "  the key in locked memory (VmLck ${lck:-?} kB)"; fi
	child_sandboxed "$sp" "store process"
fi

# --- SIGTERM stops all three, cleanly ---
stop_server
if [ "$SERVER_RC" = 0 ]; then ok "SIGTERM stops the front end with status 0"; else not_ok "SIGTERM stops the front end with status 0 (exit $SERVER_RC)"; fi
if kill -0 "$kp" 2>/dev/null; then not_ok "  and the key process with it"; else ok "  and the key process with it"; fi
if kill -0 "$sp" 2>/dev/null; then not_ok "  and the store process with it"; else ok "  and the store process with it"; fi
if grep -qE '(key|store) process (exited|killed|died)' "$SERVER_LOG"; then not_ok "  which ended with status 0 (the front end reaped them)"; diag "$(grep -E '(key|store) process' "$SERVER_LOG")"; else ok "  which ended with status 0 (the front end reaped them)"; fi

# --- a killed store process takes the front end down ---
start_server "$D/sealdropd.conf" "$T/kill-store.log" || { not_ok "the server starts again"; done_testing; }
pid=$SERVER_PID
sp=$(store_pid "$pid")
kill -KILL "$sp"
if gone_within "$pid"; then
	rc=0
	wait "$pid" || rc=$?
	SERVER_PID=""
	if [ "$rc" != 0 ]; then ok "kill -9 of the store process stops the front end, non-zero (exit $rc)"; else not_ok "kill -9 of the store process stops the front end, non-zero (exit 0)"; fi
else
	not_ok "kill -9 of the store process stops the front end"
	stop_server
fi
check "  saying so in its log" grep -q 'store process died' "$T/kill-store.log"
check "  with how it ended" grep -q 'killed by signal 9 (SIGKILL)' "$T/kill-store.log"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$D/ca.pem" "$URL/v1/health")
case $code in 2*) not_ok "  and answers nothing after (health: $code)" ;; *) ok "  and answers nothing after (health: $code)" ;; esac

# --- a killed front end: the store process sees its socket close, ends, frees the store ---
start_server "$D/sealdropd.conf" "$T/kill-front.log" || { not_ok "the server starts again"; done_testing; }
pid=$SERVER_PID
sp=$(store_pid "$pid")
kp=$(key_pid "$pid")
kill -KILL "$pid"
wait "$pid" 2>/dev/null
SERVER_PID=""
if gone_within "$sp"; then ok "kill -9 of the front end: the store process ends too"; else not_ok "kill -9 of the front end: the store process ends too"; fi
if gone_within "$kp"; then ok "  and the key process"; else not_ok "  and the key process"; fi
if start_server "$D/sealdropd.conf" "$T/after-front.log"; then ok "  and the server starts again on the same store (its lock is free)"; else not_ok "  and the server starts again on the same store (its lock is free)"; diag "$(tail -n 3 "$T/after-front.log")"; fi
stop_server

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
SEALDROPD_TEST_STORE_SYSCALL=1 SEALDROPD_TEST_TODAY_FILE=$T/today $_timeout "$SEALDROPD_TESTCLOCK" run \
	--config "$D/sealdropd.conf" </dev/null >"$T/sys-store.log" 2>&1
rc=$?
if [ "$rc" != 0 ] && [ "$rc" != 159 ]; then ok "with the store hook, the test build stops (exit $rc), its front end not killed itself"; else
	not_ok "with the store hook, the test build stops non-zero, its front end not killed itself (exit $rc)"
	diag "$(tail -n 5 "$T/sys-store.log")"
fi
check "  after the store process said it would make a socket" grep -q 'the store process makes a forbidden system call (socket)' "$T/sys-store.log"
check "  and its filter killed it with SIGSYS" grep -q 'store process died.*killed by signal 31 (SIGSYS)' "$T/sys-store.log"
if grep -q 'its filter did not hold' "$T/sys-store.log"; then not_ok "  the call never returned"; else ok "  the call never returned"; fi
if start_server "$D/sealdropd.conf"; then ok "the release server starts again on the same directory"; else not_ok "the release server starts again on the same directory"; fi
stop_server
done_testing
