# testclock.sh — the test build's clock (issue 5, "Time in tests"): the release sealdropd
# holds no trace of it (no string, no symbol) and ignores its variables; the test build,
# $BUILD/sealdropd-testclock, started on a date file (start_server_testclock in lib.sh),
# counts from that date, sees a date written later without a restart, keeps the last good
# date when the file stops holding one, refuses to start on a malformed file, and says
# loudly in its log that its clock is a test clock.
. "$(dirname "$0")/lib.sh"

# Today's date in Korea Standard Time, or N days later.
kst_date() { # [days]
	"$PY" -c 'import datetime as t, sys
print((t.datetime.now(t.timezone(t.timedelta(hours=9))).date() + t.timedelta(days=int(sys.argv[1]))).isoformat())' "${1:-0}"
}

# --- the binaries ---

if [ ! -x "$RELEASE" ] || [ ! -x "$SEALDROPD_TESTCLOCK" ]; then
	not_ok "$RELEASE and $SEALDROPD_TESTCLOCK are built (make all-tests)"
	done_testing
fi
if bin_has "$RELEASE" "sealdropd" && bin_has "$SEALDROPD_TESTCLOCK" "sealdropd"; then
	ok "the string check finds a string both binaries hold"
else
	not_ok "the string check finds a string both binaries hold"
fi
for s in SEALDROPD_TEST TEST_TODAY "TEST CLOCK"; do
	if bin_has "$RELEASE" "$s"; then not_ok "the release sealdropd holds no '$s'"; else ok "the release sealdropd holds no '$s'"; fi
	if bin_has "$SEALDROPD_TESTCLOCK" "$s"; then ok "  the test build does"; else not_ok "  the test build does"; fi
done
if command -v nm >/dev/null 2>&1; then
	if nm -a "$RELEASE" 2>/dev/null | grep -qi test_clock; then not_ok "the release sealdropd has no test_clock symbol"; else ok "the release sealdropd has no test_clock symbol"; fi
	if nm -a "$SEALDROPD_TESTCLOCK" 2>/dev/null | grep -qi test_clock; then ok "  the test build has"; else not_ok "  the test build has"; fi
else
	skip "nm (binutils) is not installed: the symbol check"
	skip "nm (binutils) is not installed: the symbol check"
fi

# --- the release server ignores the variables ---

mkserver || done_testing
stop_server
set_today "$T/today" "$(kst_date 40)"
before=$(kst_date)
SEALDROPD_TEST_TODAY=$(kst_date 20) SEALDROPD_TEST_TODAY_FILE=$T/today SEALDROPD_TODAY=$(kst_date 30)
export SEALDROPD_TEST_TODAY SEALDROPD_TEST_TODAY_FILE SEALDROPD_TODAY
start_server "$D/sealdropd.conf" || { not_ok "the release server starts"; diag "$(tail -n 5 "$SERVER_LOG")"; done_testing; }
unset SEALDROPD_TEST_TODAY SEALDROPD_TEST_TODAY_FILE SEALDROPD_TODAY
got=$(server_today "$D")
after=$(kst_date)
if [ "$got" = "$before" ] || [ "$got" = "$after" ]; then
	ok "the release server ignores SEALDROPD_TEST_TODAY(_FILE): today is the real date"
else
	not_ok "the release server ignores SEALDROPD_TEST_TODAY(_FILE): today is '$got', not $before"
fi
if grep -qi "test clock" "$SERVER_LOG"; then not_ok "  and its log says nothing of a test clock"; else ok "  and its log says nothing of a test clock"; fi
stop_server

# --- the test build on a date file ---

d1=$(kst_date 10)
d2=$(kst_date 101)
set_today "$T/today" "$d1"
if start_server_testclock "$D/sealdropd.conf" "$T/today" "$T/tc.log"; then
	ok "the test-clock server starts on a date file"
else
	not_ok "the test-clock server starts on a date file"
	diag "$(tail -n 5 "$T/tc.log")"
	done_testing
fi
pid=$SERVER_PID
if grep -q "warning: TEST CLOCK: this is sealdropd-testclock, a test build; today is $d1" "$T/tc.log"; then
	ok "  it warns loudly at start that its clock is a test clock"
else
	not_ok "  it warns loudly at start that its clock is a test clock"
	diag "$(tail -n 5 "$T/tc.log")"
fi
got=$(server_today "$D")
if [ "$got" = "$d1" ]; then ok "  today is the file's date, $d1"; else not_ok "  today is the file's date, $d1 (got '$got')"; fi
set_today "$T/today" "$d2"
got=$(server_today "$D")
if [ "$got" = "$d2" ] && [ "$SERVER_PID" = "$pid" ] && kill -0 "$pid" 2>/dev/null; then
	ok "  a date written 91 days later is seen at once, without a restart"
else
	not_ok "  a date written 91 days later is seen at once, without a restart (got '$got')"
fi
# The audit log's signed head carries the server's date too: published on the new day.
run sdd audit publish --config "$D/sealdropd.conf"
code=$(curl_status - GET /v1/log/head)
if [ "$RC" -eq 0 ] && [ "$code" = 200 ] && [ "$(json_get "$OUT" 'd["head"]["date"]' 2>/dev/null)" = "$d2" ]; then
	ok "  the log head published now is dated $d2"
else
	not_ok "  the log head published now is dated $d2 (publish $RC, HTTP $code)"
	diag "$(head -c 300 "$OUT")"
fi
printf 'next tuesday\n' >"$T/today"
got=$(server_today "$D")
got2=$(server_today "$D")
if [ "$got" = "$d2" ] && [ "$got2" = "$d2" ]; then ok "  a file that stops holding a date keeps the last good one"; else not_ok "  a file that stops holding a date keeps the last good one (got '$got', '$got2')"; fi
n=$(grep -c "test clock: SEALDROPD_TEST_TODAY_FILE does not hold one date" "$T/tc.log")
if [ "$n" = 1 ]; then ok "  with one warning in the log"; else not_ok "  with one warning in the log ($n)"; fi
set_today "$T/today" "$d1"
got=$(server_today "$D")
if [ "$got" = "$d1" ]; then ok "  and a good date again is taken (even an earlier one)"; else not_ok "  and a good date again is taken (got '$got')"; fi
stop_server
if [ "$SERVER_RC" = 0 ]; then ok "  SIGTERM stops it cleanly"; else not_ok "  SIGTERM stops it cleanly (exit $SERVER_RC)"; fi

# --- refusals, and the fixed date ---

printf '2027-02-30\n' >"$T/today"
if start_server_testclock "$D/sealdropd.conf" "$T/today" "$T/bad.log"; then
	not_ok "a malformed date file at start: the test-clock server refuses to start"
	stop_server
elif grep -q "SEALDROPD_TEST_TODAY_FILE $T/today does not hold one date YYYY-MM-DD" "$T/bad.log"; then
	ok "a malformed date file at start: the test-clock server refuses to start, naming the file"
else
	not_ok "a malformed date file at start: the test-clock server refuses to start, naming the file"
	diag "$(tail -n 3 "$T/bad.log")"
fi
if start_server_testclock "$D/sealdropd.conf" "$T/absent" "$T/bad2.log"; then
	not_ok "a missing date file: it refuses to start"
	stop_server
else
	ok "a missing date file: it refuses to start"
fi
d3=$(kst_date 61)
# shellcheck disable=SC2034 # start_server (lib.sh) runs $SEALDROPD
SEALDROPD=$SEALDROPD_TESTCLOCK
export SEALDROPD_TEST_TODAY=$d3
if start_server "$D/sealdropd.conf" "$T/fixed.log" && [ "$(server_today "$D")" = "$d3" ]; then
	ok "SEALDROPD_TEST_TODAY fixes today in the test build"
else
	not_ok "SEALDROPD_TEST_TODAY fixes today in the test build"
	diag "$(tail -n 3 "$T/fixed.log")"
fi
stop_server
set_today "$T/today" "$d1"
export SEALDROPD_TEST_TODAY_FILE=$T/today
if start_server "$D/sealdropd.conf" "$T/both.log"; then
	not_ok "both variables set: the test build refuses to start"
	stop_server
elif grep -q "not both" "$T/both.log"; then
	ok "both variables set: the test build refuses to start"
else
	not_ok "both variables set: the test build refuses to start, saying why"
	diag "$(tail -n 3 "$T/both.log")"
fi
unset SEALDROPD_TEST_TODAY SEALDROPD_TEST_TODAY_FILE
done_testing
