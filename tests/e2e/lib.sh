# lib.sh — what every end-to-end test shares. Each tests/e2e/*.sh sources it first:
#
#	. "$(dirname "$0")/lib.sh"
#
# It moves to the repository root, makes a private temporary directory $T (removed on
# exit, even on a signal), points XDG_STATE_HOME and HOME into it so a test never reads
# or writes the real user's anti-rollback state nor another test's, and provides TAP
# output ("ok N - text" / "not ok N - text") for scripts/run-tests.sh. A script ends
# with done_testing, which prints the plan and exits non-zero if anything failed.
#
# Under sanitizers (make check sets SEALDROP_SANITIZED=1) every process the script starts,
# the server in the background as much as a client in the foreground, writes its
# ASan/LSan/UBSan report to a file of $T/sanitizer/ (log_path) instead of to a stderr a
# test may not read; done_testing stops a running server with SIGTERM, so LeakSanitizer
# runs at its exit, and ends with one more check: no report from any process, and none
# in any server log.
#
# Assertions:
#	check "description" command...           passes when the command exits 0
#	expect_exit CODE "description" [-m WORD]... command...
#	                                         passes when the command exits CODE and,
#	                                         for CODE != 0, stderr has a "sealdrop: "
#	                                         line and contains every WORD (any case)
#	ok / not_ok / skip "description"         record a result decided by the caller
# After check/expect_exit/run, $RC is the exit status and $OUT / $ERR hold the command's
# stdout and stderr until the next one; keep_output copies them to $KEPT_OUT / $KEPT_ERR
# for assertions that run commands themselves. Every command's stdin is /dev/null.

set -u

cd "$(dirname "$0")/../.." || exit 1
TOP=$(pwd)
SEALDROP=${SEALDROP:-$TOP/sealdrop}
# The build under test, as an absolute path ($BUILD may be either), and the tool the
# tests edit a stopped server's store with (tests/tools/sd-lmdb.c).
case ${BUILD:-build} in
/*) BUILD_DIR=$BUILD ;;
*) BUILD_DIR=$TOP/${BUILD:-build} ;;
esac
SD_LMDB=${SD_LMDB:-$BUILD_DIR/tools/sd-lmdb}
export LC_ALL=C # the messages the tests look for are the untranslated ones

_tap_n=0
_tap_failed=0
_rm_at_exit=""

T=$(mktemp -d "${TMPDIR:-/tmp}/sealdrop-e2e.XXXXXXXX") || {
	echo "not ok 1 - cannot create a temporary directory"
	exit 1
}
_lib_cleanup() {
	rm -rf "$T"
	for _p in $_rm_at_exit; do rm -rf "$_p"; done
}
trap _lib_cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

export XDG_STATE_HOME="$T/state" HOME="$T/home"
unset XDG_CONFIG_HOME XDG_DATA_HOME
mkdir -p "$XDG_STATE_HOME" "$HOME"
OUT="$T/.stdout"
ERR="$T/.stderr"
KEPT_OUT="$T/.kept-stdout"
KEPT_ERR="$T/.kept-stderr"
RC=0
_san_dir=""
_server_logs=""
if [ -n "${SEALDROP_SANITIZED:-}" ]; then
	_san_dir=$T/sanitizer
	mkdir -p "$_san_dir"
	# The last log_path wins, so a report always lands here; pid is appended per process.
	ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}log_path=$_san_dir/report"
	UBSAN_OPTIONS="${UBSAN_OPTIONS:-}${UBSAN_OPTIONS:+:}log_path=$_san_dir/report"
	export ASAN_OPTIONS UBSAN_OPTIONS
fi
# Passphrase used for every key the tests make.
PW="$T/pw"
echo 'e2e test passphrase, not a secret' >"$PW"

# Python for JSON (python3-nacl, installed by scripts/deps.sh, brings it).
if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi
# A hung command (say, one that unexpectedly waits on a terminal) fails instead of
# stalling the suite.
if command -v timeout >/dev/null 2>&1; then _timeout="timeout -k 10 ${SD_TIMEOUT:-300}"; else _timeout=""; fi

# --- TAP -------------------------------------------------------------------------------

ok() {
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n - $*"
}

not_ok() {
	_tap_n=$((_tap_n + 1))
	_tap_failed=$((_tap_failed + 1))
	echo "not ok $_tap_n - $*"
}

skip() {
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n - # SKIP $*"
}

# Diagnostic lines, as TAP comments.
diag() {
	printf '%s\n' "$@" | sed 's/^/# /'
}

# The last command's stderr (and stdout, when asked), shortened, as diagnostics.
_diag_output() {
	[ -s "$ERR" ] && head -n 8 "$ERR" | sed 's/^/#   stderr: /'
	[ "${1:-}" = out ] && [ -s "$OUT" ] && head -n 8 "$OUT" | sed 's/^/#   stdout: /'
	return 0
}

# What a sanitizer writes when it finds something (stderr, or a log_path file).
_SAN_PATTERN='ERROR: (Address|Leak|Memory|Thread|UndefinedBehavior)Sanitizer|AddressSanitizer:DEADLYSIGNAL|runtime error: '

# Under sanitizers: stops a server still running (SIGTERM, so LeakSanitizer checks it at
# exit; at most 30 s), then one check that no process wrote a report and no server log
# holds one.
_sanitizer_check() {
	[ -n "$_san_dir" ] || return 0
	if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -TERM "$SERVER_PID" 2>/dev/null
		_i=0
		while kill -0 "$SERVER_PID" 2>/dev/null && [ $_i -lt 300 ]; do
			sleep 0.1
			_i=$((_i + 1))
		done
		kill -KILL "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
		SERVER_PID=""
	fi
	_bad=""
	for _f in "$_san_dir"/report*; do
		[ -s "$_f" ] && _bad="$_bad $_f"
	done
	for _f in $_server_logs; do
		[ -f "$_f" ] && grep -Eq "$_SAN_PATTERN" "$_f" && _bad="$_bad $_f"
	done
	_nlogs=$(echo $_server_logs | wc -w)
	if [ -z "$_bad" ]; then
		ok "no sanitizer report from any process of this script ($_nlogs server logs checked too)"
		return 0
	fi
	not_ok "no sanitizer report from any process of this script"
	for _f in $_bad; do
		diag "${_f##*/}:"
		grep -Ev '^[[:space:]]*$' "$_f" | grep -E -A 24 "$_SAN_PATTERN" | head -n 25 | sed 's/^/#   /'
	done
}

done_testing() {
	_sanitizer_check
	echo "1..$_tap_n"
	if [ "$_tap_failed" -gt 0 ]; then
		echo "# $_tap_failed of $_tap_n failed"
		exit 1
	fi
	echo "# all $_tap_n passed"
	exit 0
}

# --- running commands ------------------------------------------------------------------

# The sealdrop binary under test (with a time limit when timeout(1) exists).
sd() {
	$_timeout "$SEALDROP" "$@"
}

# Runs a command: stdin /dev/null, stdout to $OUT, stderr to $ERR, status in $RC.
run() {
	RC=0
	"$@" </dev/null >"$OUT" 2>"$ERR" || RC=$?
}

check() {
	_desc=$1
	shift
	run "$@"
	if [ "$RC" -eq 0 ]; then
		ok "$_desc"
		return 0
	fi
	not_ok "$_desc"
	diag "command: $*" "exit status $RC, expected 0"
	_diag_output out
	return 1
}

expect_exit() {
	_code=$1
	_desc=$2
	shift 2
	_words=""
	while [ $# -ge 2 ] && [ "$1" = "-m" ]; do
		_words="$_words$2
"
		shift 2
	done
	run "$@"
	_why=""
	[ "$RC" -eq "$_code" ] || _why="exit status $RC, expected $_code"
	if [ "$_code" -ne 0 ] && ! grep -Eq '^sealdropd?: ' "$ERR"; then
		_why="${_why:+$_why; }no 'sealdrop: ...' error line on stderr"
	fi
	_ifs=$IFS
	IFS='
'
	set -f
	for _w in $_words; do
		grep -qiF -- "$_w" "$ERR" || _why="${_why:+$_why; }stderr does not mention '$_w'"
	done
	set +f
	IFS=$_ifs
	if [ -z "$_why" ]; then
		ok "$_desc"
		return 0
	fi
	not_ok "$_desc"
	diag "command: $*" "$_why"
	_diag_output
	return 1
}

# Keeps the last command's output for later assertions: $KEPT_OUT and $KEPT_ERR.
keep_output() {
	cp "$OUT" "$KEPT_OUT" && cp "$ERR" "$KEPT_ERR"
}

# Removes PATH when the script exits (for directories made outside $T).
rm_at_exit() {
	_rm_at_exit="$_rm_at_exit $1"
}

# --- files -----------------------------------------------------------------------------

# Octal permission bits of a file, e.g. 600.
file_mode() {
	stat -c %a "$1"
}

# Size in bytes.
file_size() {
	stat -c %s "$1"
}

# Inverts every bit of the byte at OFFSET in FILE, in place.
flip_byte() { # file offset
	_b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	[ -n "$_b" ] || return 1
	# shellcheck disable=SC2059
	printf "\\$(printf '%03o' $((_b ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

# A file of N MiB of random bytes.
random_file() { # path mib
	head -c "$2"M /dev/urandom >"$1"
}

# Temporary or staging names (".name.tmp-...") left in a directory.
tmp_leftovers() { # dir
	# shellcheck disable=SC2010 # the names are ours and plain
	ls -A "$1" | grep -F '.tmp-'
}

# --- JSON (python3) --------------------------------------------------------------------

json_is_valid() { # file
	if command -v "$PY" >/dev/null 2>&1; then
		"$PY" -c 'import json, sys; json.load(open(sys.argv[1], encoding="utf-8"))' "$1" 2>/dev/null
	else
		jq -e . "$1" >/dev/null 2>&1
	fi
}

# Prints a value of a JSON file: json_get FILE 'd["blobs"][0]["kind"]'.
json_get() { # file expression
	"$PY" -c 'import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
v = eval(sys.argv[2])
print(json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list, bool)) or v is None else v)' "$1" "$2"
}

# Writes a copy of a JSON file with one Python statement applied to d:
#	json_edit IN OUT 'del d["purpose"]'
json_edit() { # in out statement
	"$PY" -c 'import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
exec(sys.argv[3])
with open(sys.argv[2], "w", encoding="utf-8") as f:
    json.dump(d, f, ensure_ascii=False, indent=2)' "$1" "$2" "$3"
}

# --- keys and deployments --------------------------------------------------------------

# A key pair with the test passphrase and the fast (interactive) Argon2id level; the
# tests that are about key files choose their own. Reports a failure, silent on success.
mkkey() { # kind file
	run sd keygen --kind "$1" --out "$2" --passphrase-file "$PW" --kdf interactive
	[ "$RC" -eq 0 ] && return 0
	not_ok "set-up: keygen --kind $1 --out $2"
	diag "exit status $RC"
	_diag_output
	return 1
}

# A deployment in directory DIR: root.key, intake.key, identity.key (each with .pub) and
# directory.json signed for deployment NAME; extra arguments go to `directory create`.
mkdeployment() { # dir name [directory create options...]
	_dir=$1
	_name=$2
	shift 2
	mkdir -p "$_dir" || return 1
	mkkey root "$_dir/root.key" && mkkey intake "$_dir/intake.key" &&
		mkkey identity "$_dir/identity.key" || return 1
	run sd directory create --deployment "$_name" --intake "$_dir/intake.key.pub" \
		--identity "$_dir/identity.key.pub" --root "$_dir/root.key" --passphrase-file "$PW" \
		--out "$_dir/directory.json" "$@"
	[ "$RC" -eq 0 ] && return 0
	not_ok "set-up: directory create --deployment $_name"
	diag "exit status $RC"
	_diag_output
	return 1
}

# Seals the example report and identity for the deployment in DIR into OUT, writing the
# codename to OUT.codename; extra arguments (e.g. --evidence F) go to `seal`. The
# outcome is in $RC and $ERR, for the caller to assert.
seal_example() { # dir out [seal options...]
	_dir=$1
	_out=$2
	shift 2
	run sd seal --directory "$_dir/directory.json" --root "$_dir/root.key.pub" \
		--report docs/examples/report.json --identity docs/examples/identity.json \
		--out "$_out" --codename-out "$_out.codename" --quiet "$@"
}

# --- the server ----------------------------------------------------------------------

SEALDROPD=${SEALDROPD:-$TOP/sealdropd}
SERVER_PID=""

# A TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
	"$PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# The sealdropd binary under test.
sdd() {
	$_timeout "$SEALDROPD" "$@"
}

# Runs a command with exactly the locale variables given (LC_ALL=C, exported above, and
# the others unset first), for the language tests:
#	in_locale LANG=ko_KR.UTF-8 -- sd seal --help
in_locale() (
	unset LC_ALL LC_MESSAGES LANG LANGUAGE
	while [ "$1" != -- ]; do
		# shellcheck disable=SC2163 # "$1" is NAME=value
		export "$1"
		shift
	done
	shift
	"$@"
)

# Ends the script, with one failed check, unless every binary given is built.
require_built() { # binary...
	for _rb in "$@"; do
		if [ ! -x "$_rb" ]; then
			not_ok "$_rb is built (run make all-tests)"
			done_testing
		fi
	done
}

# The header into PKG.hdr, each chunk into PKG.chunks/K_N (sizes as docs/FORMAT.md lays
# them out: one chunk for the report and the identity; for evidence a 553-byte first
# chunk, then whole chunks of 1 MiB + 17, then the rest).
split_pkg() { # package
	"$PY" - "$1" <<'PYEOF'
import json, os, struct, subprocess, sys
p = sys.argv[1]
data = open(p, "rb").read()
open(p + ".hdr", "wb").write(data[:struct.unpack("<I", data[12:16])[0]])
info = json.loads(subprocess.run(["./sealdrop", "inspect", p, "--json"], capture_output=True, check=True).stdout)
os.makedirs(p + ".chunks", exist_ok=True)
for k, b in enumerate(info["blobs"]):
    blob = data[b["offset"]:b["offset"] + b["size"]]
    if b["kind"] != "evidence":
        sizes = [len(blob)]
    else:
        full = b["chunks"] - 2
        sizes = [553] + [(1 << 20) + 17] * full + [len(blob) - 553 - full * ((1 << 20) + 17)]
    off = 0
    for n, s in enumerate(sizes):
        open("%s.chunks/%d_%d" % (p, k, n), "wb").write(blob[off:off + s])
        off += s
    assert off == len(blob)
PYEOF
}

# Starts `sealdropd run --config CONF` in the background (its log in $T/server.log, or
# LOG) and waits until it answers /v1/health over TLS. Fails if it exits or stays silent
# for 20 s.
start_server() { # conf [log]
	_start_sealdropd "$SEALDROPD" "" "$@"
}

# The release sealdropd of this build (sandbox.sh, privsep.sh: what it must not contain).
RELEASE=$BUILD_DIR/sealdropd

# Whether a binary holds a string (strings(1) when there, else grep -a).
bin_has() { # binary text
	if command -v strings >/dev/null 2>&1; then
		strings -a "$1" | grep -qF -- "$2"
	else
		grep -qaF -- "$2" "$1"
	fi
}

# A field of /proc/PID/status, e.g. "Seccomp" → 2.
proc_status() { # pid field
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"
}

# The test build of the server (make all-tests builds it): the same sealdropd but for a
# clock the tests set. Never installed; the release binary has no such clock
# (tests/e2e/testclock.sh checks it).
SEALDROPD_TESTCLOCK=${SEALDROPD_TESTCLOCK:-$BUILD_DIR/sealdropd-testclock}

# start_server with the test build, whose today is the date in DATEFILE
# (SEALDROPD_TEST_TODAY_FILE), re-read whenever the server asks for today: set_today
# moves it while the server runs. Write DATEFILE with set_today before starting.
start_server_testclock() { # conf datefile [log]
	_tc_conf=$1
	_tc_file=$2
	shift 2
	_start_sealdropd "$SEALDROPD_TESTCLOCK" "$_tc_file" "$_tc_conf" "$@"
}

# Writes DATE (YYYY-MM-DD) into DATEFILE for start_server_testclock. In place, never by a
# rename: the server holds the file open from before its chroot. The new date is written
# over the old one and the file then cut to its length, so a server reading at the same
# moment sees one date or the other, never an empty file.
set_today() { # datefile YYYY-MM-DD
	printf '%s\n' "$2" | dd of="$1" conv=notrunc status=none && truncate -s "$(printf '%s\n' "$2" | wc -c)" "$1"
}

# A field of a running server's status, from the control socket of DIR (docs/API.md,
# "Control socket"): e.g. "today", the date it counts deadlines from, or "connections".
server_status() { # dir field
	"$PY" -c 'import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(20)
s.connect(sys.argv[1] + "/control.sock")
s.sendall(b"{\"op\": \"status\"}\n")
b = b""
while not b.endswith(b"\n"):
    c = s.recv(65536)
    if not c:
        break
    b += c
print(json.loads(b)[sys.argv[2]])' "$1" "$2"
}

# The date a running server in DIR counts its deadlines from.
server_today() { # dir
	server_status "$1" today
}

_start_sealdropd() { # binary datefile|"" conf [log]
	_bin=$1
	_datefile=$2
	_conf=$3
	SERVER_LOG=${4:-$T/server.log}
	case " $_server_logs " in *" $SERVER_LOG "*) ;; *) _server_logs="$_server_logs $SERVER_LOG" ;; esac
	_dir=$(sed -n 's/^dir[ =]*//p' "$_conf" | tr -d '"')
	_port=$(sed -n 's/^listen[ =]*.*:\([0-9]*\)$/\1/p' "$_conf")
	if [ -n "$_datefile" ]; then
		SEALDROPD_TEST_TODAY_FILE=$_datefile "$_bin" run --config "$_conf" </dev/null >>"$SERVER_LOG" 2>&1 &
	else
		"$_bin" run --config "$_conf" </dev/null >>"$SERVER_LOG" 2>&1 &
	fi
	SERVER_PID=$!
	_i=0
	while [ $_i -lt 200 ]; do
		if ! kill -0 "$SERVER_PID" 2>/dev/null; then
			wait "$SERVER_PID" 2>/dev/null
			SERVER_PID=""
			return 1
		fi
		curl -s -o /dev/null --max-time 2 --cacert "$_dir/ca.pem" "https://127.0.0.1:$_port/v1/health" && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# Stops the server started by start_server with SIGTERM and waits for it; its exit
# status is in $SERVER_RC.
stop_server() {
	SERVER_RC=0
	[ -n "$SERVER_PID" ] || return 0
	kill -TERM "$SERVER_PID" 2>/dev/null
	wait "$SERVER_PID" 2>/dev/null || SERVER_RC=$?
	SERVER_PID=""
}

_server_cleanup() {
	[ -n "$SERVER_PID" ] && kill -KILL "$SERVER_PID" 2>/dev/null
	_lib_cleanup
}
trap _server_cleanup EXIT

# A running deployment for the tests: keys and a signed directory in $P (as the
# foundation's acceptance made them, with the test passphrase), a server initialised in
# $D on a free port with the directory installed, started, and an attorney enrolled in
# $D/att. Sets P, D, PORT, URL. Extra arguments go to `sealdropd init`; MK_DIRECTORY_OPTS
# (e.g. --test) go to `sealdrop directory create`.
mkserver() { # [init options...]
	P=$T/p
	D=$T/d
	PORT=$(free_port)
	URL=https://127.0.0.1:$PORT
	mkdir -p "$P"
	mkkey root "$P/root.key" && mkkey intake "$P/intake.key" && mkkey identity "$P/identity.key" || return 1
	run sdd init --dir "$D" --listen "127.0.0.1:$PORT" "$@"
	[ "$RC" -eq 0 ] || { not_ok "set-up: sealdropd init"; _diag_output; return 1; }
	run sd directory create --deployment demo --intake "$P/intake.key.pub" --identity "$P/identity.key.pub" \
		--log "$D/log.key.pub" --tls-ca "$D/ca.pem" --root "$P/root.key" --passphrase-file "$PW" \
		--out "$D/directory.json" ${MK_DIRECTORY_OPTS:-}
	[ "$RC" -eq 0 ] || { not_ok "set-up: directory create"; _diag_output; return 1; }
	start_server "$D/sealdropd.conf" || { not_ok "set-up: sealdropd run"; diag "$(tail -n 5 "$SERVER_LOG")"; return 1; }
	run sdd enroll --dir "$D" --role attorney --name "Attorney Kim" --out "$D/att"
	[ "$RC" -eq 0 ] || { not_ok "set-up: enroll the attorney"; _diag_output; return 1; }
	return 0
}

# Passes when the Python expression holds of FILE's JSON (as d); else shows both.
jtrue() { # description file expression
	if [ "$(json_get "$2" "bool($3)" 2>/dev/null)" = true ]; then
		ok "$1"
		return 0
	fi
	not_ok "$1"
	diag "expected of $2: $3" "$(head -c 1500 "$2")"
	return 1
}

# A deployment on the test clock for the whistleblower's channel: keys and a --test
# directory in $P listing the agency "bai" ($P/bai.key), a server in $D with pow_bits 8
# (a whistleblower's proof of work in a few milliseconds), today DATE in TODAYFILE.
# Sets P, D, PORT, URL; enrolls nobody. Ends the test on a failure.
mkwbserver() { # todayfile date
	P=$T/p
	D=$T/d
	PORT=$(free_port)
	URL=https://127.0.0.1:$PORT
	mkdir -p "$P"
	mkkey root "$P/root.key" && mkkey intake "$P/intake.key" && mkkey identity "$P/identity.key" &&
		mkkey agency "$P/bai.key" || done_testing
	run sdd init --dir "$D" --listen "127.0.0.1:$PORT"
	[ "$RC" -eq 0 ] || { not_ok "set-up: sealdropd init"; _diag_output; done_testing; }
	sed -i 's/^pow_bits .*/pow_bits 8/' "$D/sealdropd.conf"
	run sd directory create --deployment demo --intake "$P/intake.key.pub" --identity "$P/identity.key.pub" \
		--log "$D/log.key.pub" --tls-ca "$D/ca.pem" --root "$P/root.key" --passphrase-file "$PW" \
		--agency "bai:Board of Audit and Inspection:$P/bai.key.pub" --test --out "$D/directory.json"
	[ "$RC" -eq 0 ] || { not_ok "set-up: directory create"; _diag_output; done_testing; }
	set_today "$1" "$2"
	start_server_testclock "$D/sealdropd.conf" "$1" ||
		{ not_ok "set-up: the test-clock server starts"; diag "$(tail -n 5 "$SERVER_LOG")"; done_testing; }
}

# curl with the deployment's CA and, when NAME is given, that account's certificate
# ($D/NAME/cert.pem, key.pem). Prints the HTTP status; the body goes to $OUT.
curl_status() { # name|- method path [curl options...]
	_who=$1
	_method=$2
	_path=$3
	shift 3
	if [ "$_who" = - ]; then
		curl -s -o "$OUT" -w '%{http_code}' --cacert "$D/ca.pem" -X "$_method" "$URL$_path" "$@"
	else
		curl -s -o "$OUT" -w '%{http_code}' --cacert "$D/ca.pem" --cert "$D/$_who/cert.pem" \
			--key "$D/$_who/key.pem" -X "$_method" "$URL$_path" "$@"
	fi
}

if [ ! -x "$SEALDROP" ]; then
	not_ok "$SEALDROP is built (run make)"
	done_testing
fi

# Run on its own (scripts/run-tests.sh runs every tests/e2e/*.sh), the library tests its
# own assertions: each must be able to fail.
_lib_self_test() {
	printf 'abc' >"$T/f"
	flip_byte "$T/f" 1
	if [ "$(od -An -tx1 "$T/f" | tr -d ' ')" = 619d63 ]; then ok "flip_byte inverts one byte"; else not_ok "flip_byte inverts one byte"; fi
	flip_byte "$T/f" 1
	if [ "$(cat "$T/f")" = abc ]; then ok "flipping it again restores it"; else not_ok "flipping it again restores it"; fi
	_o=$(check "x" false)
	case $_o in "not ok"*) ok "check fails on a non-zero status" ;; *) not_ok "check fails on a non-zero status" ;; esac
	_o=$(expect_exit 3 "x" -m BOOM sh -c 'echo "sealdrop: t: boom" >&2; exit 3')
	case $_o in "ok"*) ok "expect_exit passes on the status and word" ;; *) not_ok "expect_exit passes on the status and word" ;; esac
	_o=$(expect_exit 4 "x" sh -c 'echo "sealdrop: t: boom" >&2; exit 3')
	case $_o in "not ok"*) ok "expect_exit fails on another status" ;; *) not_ok "expect_exit fails on another status" ;; esac
	_o=$(expect_exit 3 "x" -m boom -m bang sh -c 'echo "sealdrop: t: boom" >&2; exit 3')
	case $_o in "not ok"*) ok "expect_exit fails on a missing word" ;; *) not_ok "expect_exit fails on a missing word" ;; esac
	_o=$(expect_exit 3 "x" sh -c 'echo "boom" >&2; exit 3')
	case $_o in "not ok"*) ok "expect_exit fails without a 'sealdrop: ' line" ;; *) not_ok "expect_exit fails without a 'sealdrop: ' line" ;; esac
	echo '{"a": [1]}' >"$T/good.json"
	echo '{"a": [1}' >"$T/bad.json"
	if json_is_valid "$T/good.json" && ! json_is_valid "$T/bad.json"; then
		ok "json_is_valid tells valid from invalid JSON"
	else
		not_ok "json_is_valid tells valid from invalid JSON"
	fi
	done_testing
}

case $0 in
lib.sh | */lib.sh) _lib_self_test ;;
esac
