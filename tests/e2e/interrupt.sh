# interrupt.sh — Ctrl-C (SIGINT) or SIGTERM in the middle of sealing or opening leaves
# nothing behind: no package, no hidden temporary file, no codename file, no output
# directory, and the command dies of the signal as a shell expects.
. "$(dirname "$0")/lib.sh"

D="$T/demo"
mkdeployment "$D" demo || done_testing
# Large enough that the work is still running when the signal arrives.
head -c 1024M /dev/zero >"$T/big.bin"

# Starts a command in the background, signals it once it has been busy a moment, and
# sets RC to its exit status. The signal is sent twice in quick succession, as a process
# group's signal (timeout(1), a supervisor, a doubled Ctrl-C) arrives in practice: the
# copy must not cut the clean-up short.
interrupt() { # signal command...
	_sig=$1
	shift
	"$@" </dev/null >"$OUT" 2>"$ERR" &
	_pid=$!
	sleep 0.7
	kill "-$_sig" "$_pid" 2>/dev/null
	kill "-$_sig" "$_pid" 2>/dev/null
	RC=0
	wait "$_pid" || RC=$?
}

interrupt INT $_timeout "$SEALDROP" seal --directory "$D/directory.json" --root "$D/root.key.pub" \
	--report docs/examples/report.json --identity docs/examples/identity.json \
	--evidence "$T/big.bin" --out "$T/pkg.sdx" --codename-out "$T/codename" --quiet
if [ "$RC" -eq 0 ]; then
	skip "seal finished before SIGINT arrived; nothing to check"
else
	check "interrupted seal exits as killed by SIGINT (130)" test "$RC" -eq 130
	check "no package" test ! -e "$T/pkg.sdx"
	check "no codename file" test ! -e "$T/codename"
	check "no hidden temporary file" test -z "$(tmp_leftovers "$T")"
fi

# A package to interrupt the opening of.
seal_example "$D" "$T/ok.sdx" --evidence "$T/big.bin"
check "set-up: seal a 1 GiB package" test "$RC" -eq 0
interrupt TERM $_timeout "$SEALDROP" open "$T/ok.sdx" --intake "$D/intake.key" --passphrase-file "$PW" \
	--out "$T/opened"
if [ "$RC" -eq 0 ]; then
	skip "open finished before SIGTERM arrived; nothing to check"
else
	check "interrupted open exits as killed by SIGTERM (143)" test "$RC" -eq 143
	check "no output directory" test ! -e "$T/opened"
	check "no staging directory" test -z "$(tmp_leftovers "$T")"
fi
# What a kill no handler can catch (SIGKILL, a power cut) leaves is swept by the next open
# into the same place: a staging directory holding plaintext must not linger.
mkdir -p "$T/.again.tmp-Zq3xYw/evidence"
echo "decrypted words" >"$T/.again.tmp-Zq3xYw/report.json"
mkdir -p "$T/.unrelated.tmp-Zq3xYw"
seal_example "$D" "$T/small.sdx"
expect_exit 0 "open into the place a killed open had used" \
	sd open "$T/small.sdx" --intake "$D/intake.key" --passphrase-file "$PW" --out "$T/again"
check "its stale staging directory is gone" test ! -e "$T/.again.tmp-Zq3xYw"
check "a staging directory of another output is left alone" test -d "$T/.unrelated.tmp-Zq3xYw"
done_testing
