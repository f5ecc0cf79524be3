# cli.sh — the command line itself: --help on every command, --version, usage errors
# (64), missing input files (66), outputs that exist (73), the one-line error format, and
# that `seal` refuses to run without a terminal to show the codename on unless it is told
# where the codename goes.
. "$(dirname "$0")/lib.sh"

D="$T/demo"
mkdeployment "$D" demo || done_testing
seal_example "$D" "$T/pkg.sdx"
[ "$RC" -eq 0 ] || { not_ok "set-up: seal a package"; _diag_output; }

# --- help and version ---
expect_exit 0 "sealdrop --help" sd --help
keep_output
check "sealdrop --help prints usage and every command" \
	grep -q "^usage: sealdrop" "$KEPT_OUT"
for c in keygen directory seal inspect open; do
	grep -q "^  $c " "$KEPT_OUT" || not_ok "sealdrop --help lists $c"
done
for c in keygen directory "directory create" "directory verify" seal inspect open; do
	# shellcheck disable=SC2086
	expect_exit 0 "sealdrop $c --help exits 0" sd $c --help
	keep_output
	check "sealdrop $c --help prints its usage" grep -q "^usage: sealdrop $c" "$KEPT_OUT"
done
expect_exit 0 "sealdrop --version" sd --version
keep_output
check "--version prints 'sealdrop X.Y.Z'" grep -qE '^sealdrop [0-9]+\.[0-9]+(\.[0-9]+)?' "$KEPT_OUT"

# --- usage errors: 64 ---
expect_exit 64 "no command" sd
expect_exit 64 "unknown command" -m frobnicate sd frobnicate
expect_exit 64 "unknown global option" sd --frobnicate
expect_exit 64 "directory without a subcommand" sd directory
expect_exit 64 "unknown directory subcommand" sd directory frobnicate
for c in keygen "directory create" "directory verify" seal inspect open; do
	# shellcheck disable=SC2086
	expect_exit 64 "$c: unknown option" -m --frobnicate sd $c --frobnicate
done
expect_exit 64 "keygen without --kind" -m kind sd keygen --out "$T/k" --passphrase-file "$PW"
expect_exit 64 "keygen without --out" -m out sd keygen --kind intake --passphrase-file "$PW"
expect_exit 64 "keygen --kind with an unknown kind" -m kind sd keygen --kind wizard --out "$T/k" --passphrase-file "$PW"
expect_exit 64 "keygen --kdf with an unknown level" -m kdf sd keygen --kind intake --kdf fast --out "$T/k" --passphrase-file "$PW"
expect_exit 64 "keygen --out without its value" sd keygen --kind intake --out
expect_exit 64 "directory create without --deployment" -m deployment \
	sd directory create --intake "$D/intake.key.pub" --identity "$D/identity.key.pub" --root "$D/root.key" \
	--passphrase-file "$PW" --out "$T/d.json"
expect_exit 64 "directory verify without --root" -m root sd directory verify "$D/directory.json"
expect_exit 64 "seal without --out" -m out \
	sd seal --directory "$D/directory.json" --root "$D/root.key.pub" --report docs/examples/report.json \
	--identity docs/examples/identity.json --codename-out "$T/c"
expect_exit 64 "seal without --report" -m report \
	sd seal --directory "$D/directory.json" --root "$D/root.key.pub" \
	--identity docs/examples/identity.json --out "$T/p.sdx" --codename-out "$T/c"
expect_exit 64 "seal with both --codename-out and --codename-file" \
	sd seal --directory "$D/directory.json" --root "$D/root.key.pub" --report docs/examples/report.json \
	--identity docs/examples/identity.json --out "$T/p.sdx" --codename-out "$T/c" --codename-file "$T/pkg.sdx.codename"
expect_exit 64 "inspect without a package" sd inspect
expect_exit 64 "open without --intake" -m intake sd open "$T/pkg.sdx" --out "$T/o"
expect_exit 64 "open without --out" -m out sd open "$T/pkg.sdx" --intake "$D/intake.key" --passphrase-file "$PW"
for f in k d.json p.sdx c o; do
	[ -e "$T/$f" ] && not_ok "a usage error left $f behind"
done

# --- missing input files: 66 ---
expect_exit 66 "inspect a missing package" sd inspect "$T/missing.sdx"
keep_output
n=$(wc -l <"$KEPT_ERR")
if [ "$n" -eq 1 ] && grep -q "^sealdrop: inspect: .*missing.sdx" "$KEPT_ERR"; then
	ok "the error is one line: 'sealdrop: inspect: <message>' naming the file"
else
	not_ok "the error is one line: 'sealdrop: inspect: <message>' naming the file ($n lines)"
	sed 's/^/#   /' "$KEPT_ERR"
fi
expect_exit 66 "open a missing package" -m missing.sdx \
	sd open "$T/missing.sdx" --intake "$D/intake.key" --passphrase-file "$PW" --out "$T/o"
expect_exit 66 "open with a missing intake key" -m nokey \
	sd open "$T/pkg.sdx" --intake "$T/nokey" --passphrase-file "$PW" --out "$T/o"
expect_exit 66 "directory verify a missing file" -m missing.json \
	sd directory verify "$T/missing.json" --root "$D/root.key.pub"
expect_exit 66 "directory verify with a missing root key" -m noroot \
	sd directory verify "$D/directory.json" --root "$T/noroot.pub"
expect_exit 66 "keygen with a missing passphrase file" -m nopw \
	sd keygen --kind intake --out "$T/k" --passphrase-file "$T/nopw"
expect_exit 66 "seal with a missing report" -m missing-report.json \
	sd seal --directory "$D/directory.json" --root "$D/root.key.pub" --report "$T/missing-report.json" \
	--identity docs/examples/identity.json --out "$T/p.sdx" --codename-out "$T/c"
expect_exit 66 "seal with a missing evidence file" -m missing-evidence.bin \
	sd seal --directory "$D/directory.json" --root "$D/root.key.pub" --report docs/examples/report.json \
	--identity docs/examples/identity.json --evidence "$T/missing-evidence.bin" --out "$T/p.sdx" --codename-out "$T/c"
expect_exit 66 "seal with a missing directory" -m missing-dir.json \
	sd seal --directory "$T/missing-dir.json" --root "$D/root.key.pub" --report docs/examples/report.json \
	--identity docs/examples/identity.json --out "$T/p.sdx" --codename-out "$T/c"
for f in k p.sdx c o; do
	[ -e "$T/$f" ] && not_ok "a missing input left $f behind"
done

# --- outputs are never overwritten: 73 ---
cp "$D/intake.key" "$T/intake.copy"
expect_exit 73 "keygen onto an existing key file" sd keygen --kind intake --out "$D/intake.key" --passphrase-file "$PW" --kdf interactive
check "the existing key file is unchanged" cmp "$D/intake.key" "$T/intake.copy"
cp "$T/pkg.sdx" "$T/pkg.copy"
expect_exit 73 "seal onto an existing package" \
	sd seal --directory "$D/directory.json" --root "$D/root.key.pub" --report docs/examples/report.json \
	--identity docs/examples/identity.json --out "$T/pkg.sdx" --codename-out "$T/c"
check "the existing package is unchanged" cmp "$T/pkg.sdx" "$T/pkg.copy"
[ -e "$T/c" ] && not_ok "the refused seal left its codename file behind"
expect_exit 73 "seal with --codename-out onto an existing file" \
	sd seal --directory "$D/directory.json" --root "$D/root.key.pub" --report docs/examples/report.json \
	--identity docs/examples/identity.json --out "$T/p.sdx" --codename-out "$T/pkg.copy"
[ -e "$T/p.sdx" ] && not_ok "the refused seal left its package behind"

# --- --json on keygen ---
expect_exit 0 "keygen --json" sd keygen --kind attorney --out "$T/att.key" --passphrase-file "$PW" --kdf interactive --json
keep_output
check "keygen --json prints valid JSON" json_is_valid "$KEPT_OUT"
v=$(json_get "$KEPT_OUT" 'd["kind"]' 2>/dev/null)
if [ "$v" = attorney ]; then ok "keygen --json names the kind"; else not_ok "keygen --json names the kind (got '$v')"; fi
check "--kdf sensitive is accepted" sd keygen --kind log --out "$T/log.key" --passphrase-file "$PW" --kdf sensitive
check "a public key file is one line naming its kind" grep -qx 'sealdrop-pubkey-v1 log [0-9a-f]\{16\} [A-Za-z0-9+/]\{43\}=' "$T/log.key.pub"

# --- the codename needs a terminal, or a file ---
# setsid starts sealdrop in a new session: no controlling terminal, so /dev/tty cannot
# be opened, as when seal runs from cron or a pipe.
seal_no_tty() {
	setsid -w "$SEALDROP" seal --directory "$D/directory.json" --root "$D/root.key.pub" \
		--report docs/examples/report.json --identity docs/examples/identity.json --out "$T/notty.sdx"
}
if command -v setsid >/dev/null 2>&1 && setsid -w true </dev/null >/dev/null 2>&1; then
	expect_exit 64 "seal without a terminal and without --codename-out/--codename-file exits 64" \
		-m codename seal_no_tty
	if [ -e "$T/notty.sdx" ]; then not_ok "and writes no package"; else ok "and writes no package"; fi
else
	skip "setsid -w is not available: seal without a terminal is not tested"
fi
seal_out_no_tty() {
	setsid -w "$SEALDROP" seal --directory "$D/directory.json" --root "$D/root.key.pub" \
		--report docs/examples/report.json --identity docs/examples/identity.json --out "$T/notty2.sdx" \
		--codename-out "$T/notty2.codename" --quiet
}
if command -v setsid >/dev/null 2>&1; then
	expect_exit 0 "with --codename-out, seal needs no terminal" seal_out_no_tty
else
	expect_exit 0 "with --codename-out, seal needs no terminal (stdin /dev/null)" seal_example "$D" "$T/notty2.sdx"
fi

# On a terminal (a pseudo-terminal driven by python3's pty module), seal shows the codename
# once, waits for Enter and asks for it back; stdout and stderr, which may be logged,
# never carry it. The driver prints the codename it saw, or types a wrong one.
cat >"$T/terminal_driver.py" <<'PYEOF'
import os, pty, re, select, sys, time
mode, out, err = sys.argv[1], sys.argv[2], sys.argv[3]
pid, fd = pty.fork()
if pid == 0:
    os.dup2(os.open("/dev/null", os.O_RDONLY), 0)
    os.dup2(os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 1)
    os.dup2(os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 2)
    os.execv(sys.argv[4], sys.argv[4:])
seen, done, codename, status = b"", 0, None, None
deadline = time.monotonic() + 120
while status is None and time.monotonic() < deadline:
    # Until sealdrop opens /dev/tty nothing holds the terminal open and reads fail: poll.
    data = b""
    if select.select([fd], [], [], 0.1)[0]:
        try:
            data = os.read(fd, 4096)
        except OSError:
            time.sleep(0.05)
    seen += data
    m = re.search(rb"\n    ([a-z-]+(?: [a-z-]+){7})\r?\n", seen)
    codename = codename or (m and m.group(1))
    tail = seen[done:]
    if tail.rstrip().endswith(b"Press Enter once you have written it down."):
        os.write(fd, b"\n")
        done = len(seen)
    elif tail.endswith(b"(it is not shown): "):
        typed = codename if mode == "right" else b"abacus " * 7 + b"abdomen"
        os.write(fd, typed + b"\n")
        done = len(seen)
    if not data:
        wpid, st = os.waitpid(pid, os.WNOHANG)
        status = os.waitstatus_to_exitcode(st) if wpid else None
if status is None:
    os.kill(pid, 9)
    status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
print((codename or b"").decode())
sys.exit(status)
PYEOF
seal_on_tty() { # right|wrong out.sdx
	_st=0
	"$PY" "$T/terminal_driver.py" "$1" "$T/tty.stdout" "$T/tty.stderr" "$SEALDROP" seal \
		--directory "$D/directory.json" --root "$D/root.key.pub" --report docs/examples/report.json \
		--identity docs/examples/identity.json --out "$2" || _st=$?
	cat "$T/tty.stderr" >&2 # sealdrop's own stderr, for expect_exit
	return "${_st:-0}"
}
expect_exit 0 "seal on a terminal: the codename typed back is accepted" seal_on_tty right "$T/tty.sdx"
shown=$(cat "$OUT")
echo "$shown" >"$T/tty.codename"
if [ "$(echo "$shown" | wc -w)" -eq 8 ]; then ok "the codename was shown on the terminal"; else not_ok "the codename was shown on the terminal (saw '$shown')"; fi
if [ -s "$T/tty.sdx" ]; then ok "and the package was written"; else not_ok "and the package was written"; fi
if [ -n "$shown" ] && grep -qF -- "$shown" "$T/tty.stdout" "$T/tty.stderr"; then
	not_ok "the codename is not on stdout or stderr"
else
	ok "the codename is not on stdout or stderr"
fi
check "the codename shown is the one sealed with (--codename-file gives the same locator)" \
	sd seal --directory "$D/directory.json" --root "$D/root.key.pub" --report docs/examples/report.json \
	--identity docs/examples/identity.json --out "$T/tty2.sdx" --codename-file "$T/tty.codename" --quiet
a=$(sd inspect "$T/tty.sdx" --json 2>/dev/null | json_get /dev/stdin 'd["locator_hash"]' 2>/dev/null)
b=$(sd inspect "$T/tty2.sdx" --json 2>/dev/null | json_get /dev/stdin 'd["locator_hash"]' 2>/dev/null)
if [ -n "$a" ] && [ "$a" = "$b" ]; then ok "same locator hash"; else not_ok "same locator hash ('$a' vs '$b')"; fi
expect_exit 65 "seal on a terminal: a wrong codename typed back three times is refused" \
	seal_on_tty wrong "$T/tty-wrong.sdx"
if grep -q 'not confirmed' "$T/tty.stderr"; then ok "and says the codename was not confirmed"; else not_ok "and says the codename was not confirmed"; fi
if [ -e "$T/tty-wrong.sdx" ]; then not_ok "and writes no package"; else ok "and writes no package"; fi

# --codename-file reuses a codename: same codename, same locator and consent key.
check "seal --codename-file with the first package's codename" \
	sd seal --directory "$D/directory.json" --root "$D/root.key.pub" --report docs/examples/report.json \
	--identity docs/examples/identity.json --out "$T/again.sdx" --codename-file "$T/pkg.sdx.codename" --quiet
run sd inspect "$T/pkg.sdx" --json
cp "$OUT" "$T/a.json"
run sd inspect "$T/again.sdx" --json
cp "$OUT" "$T/b.json"
a=$(json_get "$T/a.json" 'd["locator_hash"], d["consent_public_key"]' 2>/dev/null)
b=$(json_get "$T/b.json" 'd["locator_hash"], d["consent_public_key"]' 2>/dev/null)
if [ -n "$a" ] && [ "$a" = "$b" ]; then
	ok "the same codename gives the same locator hash and consent key"
else
	not_ok "the same codename gives the same locator hash and consent key ($a vs $b)"
fi
echo "abacus abdomen abdominal abide abiding ability ablaze zookeper" >"$T/typo"
expect_exit 65 "a mistyped codename word is reported as a typo" -m zookeper \
	sd seal --directory "$D/directory.json" --root "$D/root.key.pub" --report docs/examples/report.json \
	--identity docs/examples/identity.json --out "$T/typo.sdx" --codename-file "$T/typo" --quiet
[ -e "$T/typo.sdx" ] && not_ok "the mistyped codename left a package behind"

done_testing
