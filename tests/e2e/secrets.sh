# secrets.sh — no plaintext where a seizure or a crash could expose it (issue 7,
# Acceptance "Secrets"). A real deployment: a package is sealed whose report carries a
# random marker, whose identity carries another in the name (and the example's resident
# registration number), with a codename; it is filed, the officer refers it, the
# whistleblower asks for its status. Then every byte the server left behind is searched,
# as raw bytes, for the report marker, the identity marker and number, the codename (whole,
# and every pair of its adjacent words), and the secret identity and intake keys (raw,
# hex, base64):
#	- the server's logs and every file under its directory (the store's data.mdb and
#	  lock.mdb, keys, certificates, configuration);
#	- a core dump attempt: with `ulimit -c unlimited` in the shell, the running release
#	  server is sent SIGSEGV and then SIGABRT (under sanitizers SIGABRT only: ASan reports
#	  a SIGSEGV itself); it sets RLIMIT_CORE 0 and is not dumpable, so no core file may
#	  appear where /proc/sys/kernel/core_pattern would put one;
#	- the client's temporary directory (TMPDIR), state and home, and the sealed package.
# Positive controls show each search can fail: the same scanner finds the markers in the
# plaintext inputs, the keys in a blob that holds them, a case number in data.mdb, and a
# core file with the marker from an ordinary process killed the same way.
. "$(dirname "$0")/lib.sh"

if [ ! -x "$SEALDROPD_TESTCLOCK" ] || [ ! -x "$SEALDROPD" ]; then
	not_ok "$SEALDROPD and $SEALDROPD_TESTCLOCK are built (make all-tests)"
	done_testing
fi

# scan NEEDLES FILE...: prints "needle-name<TAB>file" for every needle found in a file.
# NEEDLES is a file of "name hex-bytes" lines. Files are read whole, as bytes.
scan() {
	"$PY" -c 'import sys
needles = [(l.split()[0], bytes.fromhex(l.split()[1])) for l in open(sys.argv[1]) if l.strip()]
for path in sys.argv[2:]:
    try:
        data = open(path, "rb").read()
    except OSError:
        continue
    for name, b in needles:
        if b in data:
            print(name + "\t" + path)' "$@"
}

# needle NAME TEXT: appends TEXT (its UTF-8 bytes) to $NEEDLES.
needle() {
	printf '%s %s\n' "$1" "$(printf '%s' "$2" | od -An -tx1 | tr -d ' \n')" >>"$NEEDLES"
}

# The 32-byte secret of a key file (docs/FORMAT.md, "Secret key file"), as hex, opened with
# libsodium through ctypes (the test's own reader: no sealdrop code involved).
key_secret_hex() { # keyfile passfile
	"$PY" -c 'import ctypes, ctypes.util, sys
so = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
if so.sodium_init() < 0:
    sys.exit(1)
f = open(sys.argv[1], "rb").read()
ops, mem = int.from_bytes(f[12:20], "little"), int.from_bytes(f[20:28], "little")
salt, nonce, ct = f[28:44], f[44:68], f[68:116]
def open_with(pw):
    key = ctypes.create_string_buffer(32)
    if so.crypto_pwhash(key, ctypes.c_ulonglong(32), pw, ctypes.c_ulonglong(len(pw)), salt, ctypes.c_ulonglong(ops),
                        ctypes.c_size_t(mem), ctypes.c_int(2)) != 0:
        return None
    m, mlen = ctypes.create_string_buffer(48), ctypes.c_ulonglong(0)
    if so.crypto_aead_xchacha20poly1305_ietf_decrypt(m, ctypes.byref(mlen), None, ct, ctypes.c_ulonglong(len(ct)),
                                                      f[:68], ctypes.c_ulonglong(68), nonce, key) != 0:
        return None
    return m.raw[:mlen.value]
pw = open(sys.argv[2], "rb").read()
s = open_with(pw.rstrip(b"\n")) or open_with(pw)
if s is None or len(s) != 32:
    sys.exit(1)
print(s.hex())' "$1" "$2"
}

# Adds a key secret's raw bytes, hex (both cases) and base64 as needles.
key_needles() { # name hex
	printf '%s %s\n' "$1-raw" "$2" >>"$NEEDLES"
	needle "$1-hex" "$2"
	needle "$1-HEX" "$(printf '%s' "$2" | tr a-f A-F)"
	needle "$1-base64" "$("$PY" -c 'import base64, sys; print(base64.b64encode(bytes.fromhex(sys.argv[1])).decode())' "$2")"
}

# Prints what scan found, as diagnostics, and passes when nothing was.
expect_none() { # description scan-output-file
	if [ ! -s "$2" ]; then
		ok "$1"
	else
		not_ok "$1"
		diag "$(sed 's/^/found: /' "$2" | head -n 20)"
	fi
}

# --- the deployment and the package ---

TODAY=$(date +%F)
mkwbserver "$T/today" "$TODAY"
run sdd enroll --dir "$D" --role attorney --name "Attorney Kim" --out "$D/att"
[ "$RC" -eq 0 ] || { not_ok "set-up: enroll the attorney"; _diag_output; done_testing; }
run sdd enroll --dir "$D" --role officer --name "Officer Park" --out "$D/off"
[ "$RC" -eq 0 ] || { not_ok "set-up: enroll the officer"; _diag_output; done_testing; }
OFF="--server $URL --ca $D/ca.pem --cert $D/off/cert.pem --key $D/off/key.pem --root $P/root.key.pub"
WB="--server $URL --ca $D/ca.pem --directory $D/directory.json --root $P/root.key.pub"

marker() {
	"$PY" -c 'import secrets, string; print("".join(secrets.choice(string.ascii_lowercase) for _ in range(24)))'
}
REPORT_MARK=$(marker)
IDENT_MARK=$(marker)
RRN=850314-2748316
IN=$T/in
mkdir -p "$IN" "$T/tmp"
json_edit docs/examples/report.json "$IN/report.json" 'd["details"] += " '"$REPORT_MARK"'"' &&
	json_edit docs/examples/identity.json "$IN/identity.json" 'd["name"] = "김서연 '"$IDENT_MARK"'"; d["rrn"] = "'"$RRN"'"' ||
	{ not_ok "set-up: the report and identity"; done_testing; }

# Every client command writes its temporary files under $T/tmp.
export TMPDIR="$T/tmp"
run sd seal --directory "$D/directory.json" --root "$P/root.key.pub" --report "$IN/report.json" \
	--identity "$IN/identity.json" --out "$T/a.sdx" --codename-out "$IN/a.codename" --quiet
[ "$RC" -eq 0 ] || { not_ok "set-up: seal"; _diag_output; done_testing; }
run sd file "$T/a.sdx" --server "$URL" --ca "$D/ca.pem" --cert "$D/att/cert.pem" --key "$D/att/key.pem" \
	--root "$P/root.key.pub" --json
[ "$RC" -eq 0 ] || { not_ok "set-up: file"; _diag_output; done_testing; }
A=$(json_get "$OUT" 'd["case"]')
ok "sealed with distinctive plaintext and filed: case $A"
check "the officer refers it to bai" sd transition "$A" refer --agency bai --kind inspection $OFF
check "the officer reads the case" sd case "$A" --server "$URL" --ca "$D/ca.pem" --cert "$D/off/cert.pem" \
	--key "$D/off/key.pem"
check "the whistleblower asks for its status with the codename" sd status $WB --codename-file "$IN/a.codename"

# --- what to look for ---

NEEDLES=$T/needles
: >"$NEEDLES"
needle report-marker "$REPORT_MARK"
needle identity-marker "$IDENT_MARK"
needle identity-rrn "$RRN"
CODENAME=$(tr -s ' \n' '  ' <"$IN/a.codename" | sed 's/^ *//; s/ *$//')
needle codename "$CODENAME"
set -f
# shellcheck disable=SC2086 # the codename's words, one by one
set -- $CODENAME
set +f
nwords=$#
while [ $# -ge 2 ]; do
	needle "codename-words" "$1 $2"
	shift
done
if [ "$nwords" -ge 4 ]; then ok "the codename has $nwords words (each adjacent pair searched)"; else
	not_ok "the codename has words to search for ('$CODENAME')"
fi
IDSEC=$(key_secret_hex "$P/identity.key" "$PW")
INSEC=$(key_secret_hex "$P/intake.key" "$PW")
if [ ${#IDSEC} -eq 64 ] && [ ${#INSEC} -eq 64 ]; then ok "the identity and intake secret keys read from their files"; else
	not_ok "the identity and intake secret keys read from their files"
fi
key_needles identity-key "$IDSEC"
key_needles intake-key "$INSEC"

# --- positive controls: the scanner finds what is there ---

scan "$NEEDLES" "$IN/report.json" "$IN/identity.json" "$IN/a.codename" >"$T/found-inputs"
miss=""
for n in report-marker identity-marker identity-rrn codename codename-words; do
	grep -q "^$n	" "$T/found-inputs" || miss="$miss $n"
done
if [ -z "$miss" ]; then ok "control: the markers, the number and the codename are found in the plaintext inputs"; else
	not_ok "control: found in the plaintext inputs (missing:$miss)"
fi
{
	head -c 1000 /dev/urandom
	printf '%s' "$IDSEC" | "$PY" -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read()))'
	printf '%s' "$INSEC"
	head -c 1000 /dev/urandom
} >"$T/blob"
scan "$NEEDLES" "$T/blob" >"$T/found-blob"
if grep -q '^identity-key-raw	' "$T/found-blob" && grep -q '^intake-key-hex	' "$T/found-blob"; then
	ok "control: a key's raw bytes and hex are found inside binary data"
else
	not_ok "control: a key's raw bytes and hex are found inside binary data"
fi
printf 'case-number %s\n' "$(printf '%s' "$A" | od -An -tx1 | tr -d ' \n')" >"$T/needle-case"
if scan "$T/needle-case" "$D/store/data.mdb" | grep -q .; then ok "control: the store is readable and holds the case number $A"; else
	not_ok "control: the store ($D/store/data.mdb) holds the case number $A"
fi

# --- the server's files ---

server_files() {
	find "$D" -type f
	ls "$T"/server*.log
}
server_files >"$T/files"
check "the store's data.mdb and lock.mdb are among the $(wc -l <"$T/files") files searched" \
	sh -c 'grep -q "/store/data.mdb$" "$1" && grep -q "/store/lock.mdb$" "$1"' - "$T/files"
# shellcheck disable=SC2046 # our own paths, without spaces
scan "$NEEDLES" $(cat "$T/files") >"$T/found-server"
expect_none "no marker, codename or secret key in the server's logs and files (running)" "$T/found-server"
scan "$NEEDLES" "$T/a.sdx" >"$T/found-sdx"
expect_none "  nor in the sealed package" "$T/found-sdx"
stop_server
find "$D" -type f >"$T/files"
# shellcheck disable=SC2046
scan "$NEEDLES" $(cat "$T/files") "$T"/server*.log >"$T/found-stopped"
expect_none "  nor once the server stopped (its last writes flushed)" "$T/found-stopped"

# --- the client's leftovers ---

find "$T/tmp" "$HOME" "$XDG_STATE_HOME" -type f >"$T/client-files"
find "$T" -maxdepth 1 -name '.*tmp-*' >>"$T/client-files"
# shellcheck disable=SC2046
scan "$NEEDLES" $(cat "$T/client-files") >"$T/found-client"
expect_none "no marker, codename or key in the client's temporary files, state or home ($(wc -l <"$T/client-files") files)" \
	"$T/found-client"

# --- a core dump attempt on the running release server ---

PATTERN=$(cat /proc/sys/kernel/core_pattern 2>/dev/null)
diag "core_pattern: $PATTERN; core_uses_pid: $(cat /proc/sys/kernel/core_uses_pid 2>/dev/null)"
if ! ulimit -c unlimited 2>/dev/null; then
	skip "core dumps: this shell may not raise its core limit (hard limit $(ulimit -H -c))"
	done_testing
fi
case $PATTERN in
'|'*)
	# A handler (systemd-coredump, apport) receives cores: look where they keep them.
	diag "cores are piped to ${PATTERN#|}; searching /var/lib/systemd/coredump and /var/crash"
	CORE_DIRS="/var/lib/systemd/coredump /var/crash"
	;;
/*) CORE_DIRS=$(dirname "$PATTERN") ;;
*) CORE_DIRS="" ;; # relative: the dying process's working directory, added per process
esac

# Core files newer than STAMP in the core directories and DIR (a process's cwd).
new_cores() { # stamp cwd
	for _d in $CORE_DIRS "$2"; do
		[ -d "$_d" ] && find "$_d" -maxdepth 1 -type f -newer "$1" \( -name 'core*' -o -name '*.core*' \) 2>/dev/null
	done
}

# Control: an ordinary process holding the marker, killed by SIGABRT, leaves a core.
mkdir -p "$T/ctl"
touch "$T/stamp-ctl"
# (an inner shell that does not exec, so its "Aborted (core dumped)" goes to /dev/null)
sh -c 'cd "$1" && "$2" -c "import os, signal, sys
held = (\"marker: \" + sys.argv[1]) * 64
os.kill(os.getpid(), signal.SIGABRT)" "$3"; exit 0' - "$T/ctl" "$PY" "$REPORT_MARK" >/dev/null 2>&1
new_cores "$T/stamp-ctl" "$T/ctl" >"$T/ctl-cores"
if [ -s "$T/ctl-cores" ]; then
	# shellcheck disable=SC2046
	if scan "$NEEDLES" $(cat "$T/ctl-cores") | grep -q '^report-marker'; then
		ok "control: a process that may dump, killed by SIGABRT, leaves a core holding the marker"
	else
		not_ok "control: the control process's core holds the marker"
	fi
	# shellcheck disable=SC2046
	rm -f $(cat "$T/ctl-cores")
	CORE_CONTROL=yes
else
	skip "control: no core from an ordinary process (core_pattern '$PATTERN'): the absence below proves less"
	CORE_CONTROL=no
fi

if [ -n "${SEALDROP_SANITIZED:-}" ]; then SIGNALS=ABRT; else SIGNALS="SEGV ABRT"; fi
for sig in $SIGNALS; do
	if ! start_server "$D/sealdropd.conf" "$T/server-$sig.log"; then
		not_ok "the release server starts for SIG$sig"
		diag "$(tail -n 5 "$T/server-$sig.log")"
		continue
	fi
	run sd status $WB --codename-file "$IN/a.codename"
	[ "$RC" -eq 0 ] || { not_ok "  status before SIG$sig"; _diag_output; }
	pid=$SERVER_PID
	cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null || echo "$TOP")
	lim=$(awk '/^Max core file size/ {print $5}' "/proc/$pid/limits")
	touch "$T/stamp-$sig"
	kill "-$sig" "$pid"
	stop_server
	if [ "$sig" = SEGV ]; then want=139; else want=134; fi
	new_cores "$T/stamp-$sig" "$cwd" >"$T/cores-$sig"
	new_cores "$T/stamp-$sig" "$D" >>"$T/cores-$sig"
	if [ "$SERVER_RC" = "$want" ] && [ ! -s "$T/cores-$sig" ]; then
		ok "SIG$sig kills the server (exit $SERVER_RC, its core limit $lim) and leaves no core (cwd $cwd, $D)"
	else
		not_ok "SIG$sig: exit $SERVER_RC (expected $want), core limit $lim, cores: $(tr '\n' ' ' <"$T/cores-$sig")"
	fi
	if [ -s "$T/cores-$sig" ]; then
		# shellcheck disable=SC2046
		scan "$NEEDLES" $(cat "$T/cores-$sig") >"$T/found-core-$sig"
		expect_none "  the core holds no marker, codename or key" "$T/found-core-$sig"
	fi
	scan "$NEEDLES" "$T/server-$sig.log" >"$T/found-log-$sig"
	expect_none "  its log holds none of them either" "$T/found-log-$sig"
done
[ "$CORE_CONTROL" = yes ] || diag "without a working control, 'no core' may only mean cores go elsewhere"
done_testing
