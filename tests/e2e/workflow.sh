# workflow.sh — the Commission's workflow across 90+ days (issue 5, Acceptance 1): a real
# server (the test build, whose today is a date file the test moves), real certificates
# and the real client walk cases received on Thursday 2026-03-12 (day 60, 2026-05-11, and
# day 90, 2026-06-10, are working days with the built-in holidays) through every path the
# officer's commands reach:
#	A  received → extend (day 10) → refer inspection (day 20) → outcome (day 40, concluded
#	   day 38) → close refused while the objection window is open (day 47) → close (day 48);
#	   the objection and reinvestigation between them wait for the whistleblower's channel
#	   (`sealdrop object`, item 3): a TODO block that skips, so TAP shows it
#	B  received → terminate no-evidence; nothing after it is legal
#	C  received → forward
#	D  untouched: due within 7 days on day 53 (not 52), overdue on day 61 (not 60)
#	E  extended on day 5: overdue on day 91 (not 90)
# then A's whole history and its deadline at each stage, the audit log's transition leaves
# (one per step, the right detail words, no text a person wrote), and the raw LMDB files,
# which hold neither the reasons nor the summary.
. "$(dirname "$0")/lib.sh"

if [ ! -x "$SEALDROPD_TESTCLOCK" ] || [ ! -x "$SEALDROPD" ]; then
	not_ok "$SEALDROPD and $SEALDROPD_TESTCLOCK are built (make sealdropd build/sealdropd-testclock)"
	done_testing
fi

RECEIVED=2026-03-12
TODAYFILE=$T/today

# The date N days after the receipt.
day() { # n
	"$PY" -c 'import datetime as t, sys
print((t.date.fromisoformat(sys.argv[1]) + t.timedelta(days=int(sys.argv[2]))).isoformat())' "$RECEIVED" "$1"
}

# Moves the server's today to day N and checks it took (silent when it did).
at() { # n
	NOW=$(day "$1")
	set_today "$TODAYFILE" "$NOW"
	_got=$(server_today "$D")
	[ "$_got" = "$NOW" ] && return 0
	not_ok "the server's today moves to day $1, $NOW (it is '$_got')"
	return 1
}

# ok when the Python expression holds of the JSON file's d; shows the file when not.
# `sealdrop case CASE --json` into $T/CASE.json (a failure is reported).
case_json() { # case
	run sd case "$1" --json
	cp "$OUT" "$T/$1.json"
	[ "$RC" -eq 0 ] && return 0
	not_ok "sealdrop case $1 --json"
	_diag_output
	return 1
}

# `sealdrop cases --json [options]` into $T/list.json.
cases_json() { # [options...]
	run sd cases --json "$@"
	cp "$OUT" "$T/list.json"
	[ "$RC" -eq 0 ] && return 0
	not_ok "sealdrop cases --json $*"
	_diag_output
	return 1
}

# Python: the listed case c of $T/list.json (None when not listed).
listed() { # case
	printf 'next((c for c in d["cases"] if c["case"] == "%s"), None)' "$1"
}

# --- a deployment on the test clock: two agencies, an attorney, an officer ---

P=$T/p
D=$T/d
PORT=$(free_port)
URL=https://127.0.0.1:$PORT
mkdir -p "$P"
mkkey root "$P/root.key" && mkkey intake "$P/intake.key" && mkkey identity "$P/identity.key" &&
	mkkey agency "$P/police.key" && mkkey agency "$P/audit.key" || done_testing
run sdd init --dir "$D" --listen "127.0.0.1:$PORT"
[ "$RC" -eq 0 ] || { not_ok "set-up: sealdropd init"; _diag_output; done_testing; }
run sd directory create --deployment demo --intake "$P/intake.key.pub" --identity "$P/identity.key.pub" \
	--log "$D/log.key.pub" --tls-ca "$D/ca.pem" --root "$P/root.key" --passphrase-file "$PW" \
	--agency "police:Korean National Police:$P/police.key.pub" \
	--agency "bai:Board of Audit and Inspection:$P/audit.key.pub" --out "$D/directory.json"
[ "$RC" -eq 0 ] || { not_ok "set-up: directory create with two agencies"; _diag_output; done_testing; }
set_today "$TODAYFILE" "$RECEIVED"
if start_server_testclock "$D/sealdropd.conf" "$TODAYFILE"; then
	ok "the test-clock server starts on $RECEIVED"
else
	not_ok "the test-clock server starts on $RECEIVED"
	diag "$(tail -n 5 "$SERVER_LOG")"
	done_testing
fi
at 0 || done_testing
run sdd enroll --dir "$D" --role attorney --name "Attorney Kim" --out "$D/att"
[ "$RC" -eq 0 ] || { not_ok "set-up: enroll the attorney"; _diag_output; done_testing; }
run sdd enroll --dir "$D" --role officer --name "Officer Park" --out "$D/off"
[ "$RC" -eq 0 ] || { not_ok "set-up: enroll the officer"; _diag_output; done_testing; }
OFFICER_FP=$(openssl x509 -in "$D/off/cert.pem" -outform DER | sha256sum | cut -c1-64)

# The officer's daily defaults.
mkdir -p "$HOME/.config/sealdrop"
printf 'server %s\nca %s\ncert %s\nkey %s\nroot %s\n' "$URL" "$D/ca.pem" "$D/off/cert.pem" "$D/off/key.pem" \
	"$P/root.key.pub" >"$HOME/.config/sealdrop/config"
chmod 600 "$HOME/.config/sealdrop/config"

file_one() { # name: seals and files $T/name.sdx as Attorney Kim, prints the case number
	run sd seal --directory "$D/directory.json" --root "$P/root.key.pub" --report docs/examples/report.json \
		--identity docs/examples/identity.json --out "$T/$1.sdx" --codename-out "$T/$1.sdx.codename" --quiet
	[ "$RC" -eq 0 ] || { _diag_output >&2; return 1; }
	run sd file "$T/$1.sdx" --server "$URL" --ca "$D/ca.pem" --cert "$D/att/cert.pem" --key "$D/att/key.pem" \
		--root "$P/root.key.pub" --json
	[ "$RC" -eq 0 ] || { _diag_output >&2; return 1; }
	json_get "$OUT" 'd["case"]'
}
if A=$(file_one a) && B=$(file_one b) && C=$(file_one c) && CD=$(file_one d) && E=$(file_one e); then
	ok "five packages filed on $RECEIVED: $A $B $C $CD $E"
else
	not_ok "five packages filed on $RECEIVED"
	done_testing
fi
DAY60=$(day 60)
DAY90=$(day 90)
if [ "$DAY60" != 2026-05-11 ] || [ "$DAY90" != 2026-06-10 ]; then not_ok "day 60 and day 90 are 2026-05-11 and 2026-06-10"; fi
case_json "$A" &&
	jtrue "day 0: $A received on $RECEIVED, decision due day 60 ($DAY60), 60 days left, no history" "$T/$A.json" \
		'd["state"] == "received" and d["received"] == "'"$RECEIVED"'" and d["decision_due"] == "'"$DAY60"'"
		 and d["deadline"] == {"kind": "decision", "due": "'"$DAY60"'", "days_left": 60, "commission": True}
		 and d["history"] == [] and d["extended"] is False and d["overdue"] is False'

# --- day 5: E extended ---

REASON_E="E needs the tax records from the regional office, ref $$-e"
at 5
expect_exit 0 "day 5: extend $E" sd transition "$E" extend --reason "$REASON_E"
case_json "$E" &&
	jtrue "  its decision is due on day 90 ($DAY90), 85 days left" "$T/$E.json" \
		'd["state"] == "extended" and d["extended"] is True and d["deadline"]["due"] == "'"$DAY90"'"
		 and d["deadline"]["days_left"] == 85'

# --- case A: extend, refer, outcome, (objection, reinvestigation,) close ---

REASON_A="A's evidence needs a forensic accountant, ref $$-a"
at 10
expect_exit 0 "day 10: extend $A" sd transition "$A" extend --reason "$REASON_A"
if grep -q "case $A: extend done; the case is now extended" "$OUT" && grep -q "next deadline .*decision $DAY90" "$OUT"; then
	ok "  extended, the decision now due on day 90"
else
	not_ok "  extended, the decision now due on day 90"
	_diag_output out
fi
case_json "$A" &&
	jtrue "  --json: decision due at receipt $DAY60, the deadline now $DAY90 (80 days left)" "$T/$A.json" \
		'd["state"] == "extended" and d["extended"] is True and d["decision_due"] == "'"$DAY60"'"
		 and d["deadline"] == {"kind": "decision", "due": "'"$DAY90"'", "days_left": 80, "commission": True}
		 and d["legal"] == ["refer", "forward", "terminate"]'
expect_exit 77 "  a second extension is refused" -m "$A" -m 'extended only once' \
	sd transition "$A" extend --reason 'once more'

at 20
expect_exit 0 "day 20: refer $A to bai for inspection" sd transition "$A" refer --agency bai --kind inspection
case_json "$A" &&
	jtrue "  referred: nothing due from the Commission, the agency and kind recorded" "$T/$A.json" \
		'd["state"] == "referred" and d["deadline"] is None and d["agency"] == "bai"
		 and d["kind"] == "inspection" and d["legal"] == ["outcome"] and d["overdue"] is False'
SUMMARY="The Board found the invoices inflated and referred two managers, ref $$-s"
printf '%s\n' "$SUMMARY" >"$T/summary.txt"
expect_exit 77 "  an outcome concluded before the referral is refused" -m "$A" \
	-m "conclusion date $(day 19) is before the case went to the agency on $(day 20)" \
	sd transition "$A" outcome --concluded "$(day 19)" --summary "$T/summary.txt"

# B and C on the same day.
expect_exit 0 "day 20: terminate $B (no-evidence)" sd transition "$B" terminate --reason no-evidence
case_json "$B" &&
	jtrue "  terminated, nothing due, nothing legal" "$T/$B.json" \
		'd["state"] == "terminated" and d["deadline"] is None and d["legal"] == []
		 and [h["reason"] for h in d["history"]] == ["no-evidence"]'
expect_exit 77 "  refer after terminate: no legal actions" -m "$B" -m 'no legal actions' \
	sd transition "$B" refer --agency police --kind investigation
expect_exit 77 "  close after terminate: no legal actions" -m 'no legal actions' sd transition "$B" close
expect_exit 77 "  terminate again: no legal actions" -m 'no legal actions' \
	sd transition "$B" terminate --reason unrelated
expect_exit 0 "day 20: forward $C to police" sd transition "$C" forward --agency police
case_json "$C" &&
	jtrue "  forwarded to police, waiting for the agency" "$T/$C.json" \
		'd["state"] == "forwarded" and d["agency"] == "police" and d["deadline"] is None
		 and [(h["action"], h["agency"], h["date"]) for h in d["history"]] == [("forward", "police", "'"$(day 20)"'")]'

at 40
expect_exit 77 "day 40: an outcome concluded tomorrow is refused" -m "$A" -m "$(day 41) is in the future" \
	sd transition "$A" outcome --concluded "$(day 41)" --summary "$T/summary.txt"
expect_exit 0 "day 40: outcome for $A, concluded on day 38" \
	sd transition "$A" outcome --concluded "$(day 38)" --summary "$T/summary.txt"
OBJ_DUE=$(day 47)
case_json "$A" &&
	jtrue "  outcome-notified: the whistleblower's window until notice + 7 ($OBJ_DUE), not the Commission's" \
		"$T/$A.json" \
		'd["state"] == "outcome-notified" and d["concluded"] == "'"$(day 38)"'" and d["notified"] == "'"$NOW"'"
		 and d["deadline"] == {"kind": "objection", "due": "'"$OBJ_DUE"'", "days_left": 7, "commission": False}
		 and d["legal"] == [] and d["overdue"] is False'
expect_exit 77 "  close on day 40 is refused" -m "$A" -m "objection window is open until $OBJ_DUE" \
	sd transition "$A" close

# The whistleblower's objection (Art. 11-3), on C, forwarded on day 20: its outcome on day
# 40, the objection on day 45 (notice + 5) with `sealdrop object`, a reinvestigation, and
# (on day 91, so that its window stays out of the day-52 lists) a second outcome. A's window stays untouched; an objection to A on day 48
# (notice + 8) is refused below.
OBJECTION_C="C's agency never asked the second witness, ref $$-o"
printf '%s\n' "$OBJECTION_C" >"$T/objection.txt"
WB_C="--directory $D/directory.json --codename-file $T/c.sdx.codename"
expect_exit 0 "day 40: outcome for $C, concluded on day 38" \
	sd transition "$C" outcome --concluded "$(day 38)" --summary "$T/summary.txt"
at 45
expect_exit 0 "day 45 (notice + 5): the whistleblower objects to $C" sd object $WB_C --text "$T/objection.txt"
if grep -q "objection to case $C accepted on $(day 45)" "$OUT" && grep -q "by $(day 105)" "$OUT"; then
	ok "  accepted on day 45; a reinvestigation is due by day 105"
else
	not_ok "  accepted on day 45; a reinvestigation is due by day 105"
	_diag_output out
fi
case_json "$C" &&
	jtrue "  $C: objection-filed on day 45, the Commission's reinvestigation deadline" "$T/$C.json" \
		'd["state"] == "objection-filed" and d["objected"] == "'"$(day 45)"'"
		 and d["deadline"]["kind"] == "reinvestigation" and d["deadline"]["commission"] is True'
expect_exit 0 "  reinvestigate $C (its second outcome comes on day 91)" \
	sd transition "$C" reinvestigate --reason "the second witness, ref $$-r"

at 47
expect_exit 77 "day 47 (notice + 7): close is still refused, the window is open" -m "$A" \
	-m "objection window is open until $OBJ_DUE" sd transition "$A" close
case_json "$A" &&
	jtrue "  the case is unchanged: outcome-notified, 3 steps, 0 days left in the window" "$T/$A.json" \
		'd["state"] == "outcome-notified" and len(d["history"]) == 3 and d["deadline"]["days_left"] == 0'
at 48
expect_exit 77 "day 48 (notice + 8): the whistleblower's objection to $A is refused" -m "$A" \
	-m "closed on $OBJ_DUE" sd object --directory "$D/directory.json" --codename-file "$T/a.sdx.codename" \
	--text "$T/objection.txt"
expect_exit 0 "day 48, the first day after the window: close $A" sd transition "$A" close
case_json "$A" &&
	jtrue "  closed, nothing due" "$T/$A.json" 'd["state"] == "closed" and d["deadline"] is None and d["legal"] == []'
expect_exit 77 "  a closed case takes no action" -m 'no legal actions' sd transition "$A" reinvestigate --reason x

# --- D: due within 7 days from day 53 ---

at 52
cases_json --due-within 7 &&
	jtrue "day 52: --due-within 7 lists nothing (D has 8 days left)" "$T/list.json" 'd["cases"] == []'
cases_json &&
	jtrue "  the full list: D's decision $DAY60, 8 days left; E's 38 days left" "$T/list.json" \
		"$(listed "$CD")"'["deadline"] == {"kind": "decision", "due": "'"$DAY60"'", "days_left": 8, "commission": True}
		 and '"$(listed "$E")"'["deadline"]["days_left"] == 38 and len(d["cases"]) == 5'
at 53
cases_json --due-within 7 &&
	jtrue "day 53: --due-within 7 lists D alone, 7 days left" "$T/list.json" \
		'[(c["case"], c["deadline"]["days_left"], c["overdue"]) for c in d["cases"]] == [("'"$CD"'", 7, False)]'
expect_exit 0 "  the table" sd cases --due-within 7
if grep -Eq "^$CD  received .* decision +$DAY60 +7 +1$" "$OUT" && grep -q '^1 case, 0 overdue$' "$OUT"; then
	ok "  D, decision $DAY60, 7 days left, not overdue"
else
	not_ok "  D, decision $DAY60, 7 days left, not overdue"
	_diag_output out
fi

# --- overdue: D after day 60, E (extended) after day 90 ---

at 60
expect_exit 0 "day 60: cases --overdue" sd cases --overdue
if grep -q '^no cases$' "$OUT" && ! grep -q OVERDUE "$OUT"; then ok "  none: D's last day is today"; else not_ok "  none: D's last day is today"; _diag_output out; fi
cases_json &&
	jtrue "  --json: D 0 days left, not overdue" "$T/list.json" \
		"$(listed "$CD")"'["deadline"]["days_left"] == 0 and '"$(listed "$CD")"'["overdue"] is False
		 and not any(c["overdue"] for c in d["cases"])'
at 61
expect_exit 0 "day 61: cases --overdue" sd cases --overdue
if grep -Eq "^$CD  received .* decision +$DAY60 +-1 +1  OVERDUE\$" "$OUT" && grep -q '^1 case, 1 overdue$' "$OUT" &&
	! grep -q "^$E " "$OUT"; then
	ok "  lists D, marked OVERDUE (-1 day), and not E"
else
	not_ok "  lists D, marked OVERDUE (-1 day), and not E"
	_diag_output out
fi
cases_json --overdue &&
	jtrue "  --json: D alone, \"overdue\": true, days_left -1" "$T/list.json" \
		'[(c["case"], c["overdue"], c["deadline"]["days_left"]) for c in d["cases"]] == [("'"$CD"'", True, -1)]'
expect_exit 0 "  case D says it" sd case "$CD"
if grep -q "next deadline .*decision $DAY60 (1 day late).*OVERDUE" "$OUT"; then ok "  1 day late, OVERDUE"; else not_ok "  1 day late, OVERDUE"; _diag_output out; fi

at 90
cases_json --overdue &&
	jtrue "day 90: --overdue lists D (30 days late) but not E, whose extended decision is due today" \
		"$T/list.json" '[(c["case"], c["deadline"]["days_left"]) for c in d["cases"]] == [("'"$CD"'", -30)]'
case_json "$E" &&
	jtrue "  E: 0 days left, not overdue" "$T/$E.json" 'd["deadline"]["days_left"] == 0 and d["overdue"] is False'
at 91
cases_json --overdue &&
	jtrue "day 91: --overdue lists D and E, E \"overdue\": true with days_left -1" "$T/list.json" \
		'[(c["case"], c["overdue"], c["deadline"]["days_left"]) for c in d["cases"]] == [("'"$CD"'", True, -31), ("'"$E"'", True, -1)]'
expect_exit 0 "  the table" sd cases --overdue
if grep -Eq "^$E  extended .* decision +$DAY90 +-1 +[0-9]+  OVERDUE\$" "$OUT" && grep -q '^2 cases, 2 overdue$' "$OUT"; then
	ok "  E marked OVERDUE, 2 cases, 2 overdue"
else
	not_ok "  E marked OVERDUE, 2 cases, 2 overdue"
	_diag_output out
fi
cases_json --state closed &&
	jtrue "  closed, terminated, forwarded cases are never overdue" "$T/list.json" \
		'[(c["case"], c["overdue"]) for c in d["cases"]] == [("'"$A"'", False)]'

# --- C after its reinvestigation: a second outcome, new windows ---

expect_exit 0 "day 91: the second outcome for $C, concluded on day 90" \
	sd transition "$C" outcome --concluded "$(day 90)" --summary "$T/summary.txt"
case_json "$C" &&
	jtrue "  $C: outcome-notified again, a new objection window from day 91, the objection kept" "$T/$C.json" \
		'd["state"] == "outcome-notified" and d["notified"] == "'"$(day 91)"'" and d["objected"] == "'"$(day 45)"'"
		 and d["deadline"]["kind"] == "objection" and d["deadline"]["due"] >= "'"$(day 98)"'"'

# --- A's whole history ---

case_json "$A" &&
	jtrue "case $A --json: extend, refer, outcome, close in order, dated, by the officer" "$T/$A.json" \
		'[(h["step"], h["action"], h["date"], h["actor"]) for h in d["history"]] == [
		  (0, "extend", "'"$(day 10)"'", "'"$OFFICER_FP"'"), (1, "refer", "'"$(day 20)"'", "'"$OFFICER_FP"'"),
		  (2, "outcome", "'"$(day 40)"'", "'"$OFFICER_FP"'"), (3, "close", "'"$(day 48)"'", "'"$OFFICER_FP"'")]'
jtrue "  each step's details: the sealed texts flagged, the referral, the conclusion date" "$T/$A.json" \
	'[(h["text"], h["kind"], h["agency"], h["concluded"], h["reason"]) for h in d["history"]] == [
	  (True, None, None, None, None), (False, "inspection", "bai", None, None),
	  (True, None, None, "'"$(day 38)"'", None), (False, None, None, None, None)]'
jtrue "  and the dates: received, decision due at receipt, extended, concluded, notified, no objection" "$T/$A.json" \
	'(d["received"], d["decision_due"], d["extended"], d["concluded"], d["notified"], d["objected"]) ==
	 ("'"$RECEIVED"'", "'"$DAY60"'", True, "'"$(day 38)"'", "'"$(day 40)"'", None)'
expect_exit 0 "case $A (the table)" sd case "$A"
if grep -q 'history: 4 steps' "$OUT" && grep -Eq "^ +1  $(day 20)  refer +${OFFICER_FP%"${OFFICER_FP#????????????????}"}  inspection; agency bai" "$OUT"; then
	ok "  4 steps, step 1 the referral with the officer's fingerprint"
else
	not_ok "  4 steps, step 1 the referral with the officer's fingerprint"
	_diag_output out
fi

# --- the audit log ---

run sdd audit publish --config "$D/sealdropd.conf"
[ "$RC" -eq 0 ] || { not_ok "sealdropd audit publish"; _diag_output; }
# One line per transition leaf of a case: "date detail role actor", after checking that
# no leaf holds a word of the texts.
leaves() { # case
	code=$(curl_status off GET "/v1/log/entries?case=$1")
	[ "$code" = 200 ] || { echo "HTTP $code"; return 1; }
	"$PY" -c 'import base64, json, sys
for e in json.load(open(sys.argv[1]))["entries"]:
    raw = base64.b64decode(e["leaf"], validate=True).decode("ascii")
    for secret in sys.argv[3:]:
        if secret in raw:
            print("TEXT IN LEAF", e["index"])
    d = json.loads(raw)
    if d.get("case") != sys.argv[2]:
        print("ANOTHER CASE IN LEAF", e["index"])
    if d["event"] == "transition":
        print(d["date"], d["detail"], d["role"], d.get("actor", "-"))' "$OUT" "$1" "$REASON_A" "$REASON_E" "$SUMMARY" "$OBJECTION_C"
}
fp=$OFFICER_FP
expected_a="$(day 10) extend officer $fp
$(day 20) refer:inspection:bai officer $fp
$(day 40) outcome officer $fp
$(day 48) close officer $fp"
got=$(leaves "$A")
if [ "$got" = "$expected_a" ]; then
	ok "the log has one transition leaf per step of $A, with its date, detail and the officer"
else
	not_ok "the log has one transition leaf per step of $A, with its date, detail and the officer"
	diag "got:" "$got"
fi
got=$(leaves "$B")
if [ "$got" = "$(day 20) terminate:no-evidence officer $fp" ]; then ok "  $B: terminate:no-evidence alone (refusals leave none)"; else not_ok "  $B: terminate:no-evidence alone (refusals leave none)"; diag "got:" "$got"; fi
got=$(leaves "$C")
expected_c="$(day 20) forward:police officer $fp
$(day 40) outcome officer $fp
$(day 45) object whistleblower -
$(day 45) reinvestigate officer $fp
$(day 91) outcome officer $fp"
if [ "$got" = "$expected_c" ]; then ok "  $C: forward, outcome, the whistleblower's objection (no actor), reinvestigate, outcome"; else not_ok "  $C: forward, outcome, the whistleblower's objection (no actor), reinvestigate, outcome"; diag "got:" "$got"; fi
got=$(leaves "$CD")
if [ -z "$got" ]; then ok "  $CD: none"; else not_ok "  $CD: none"; diag "got:" "$got"; fi
got=$(leaves "$E")
if [ "$got" = "$(day 5) extend officer $fp" ]; then ok "  $E: extend"; else not_ok "  $E: extend"; diag "got:" "$got"; fi

# --- the raw store: no reason, no summary ---

MDB=$D/store/data.mdb
if [ -f "$MDB" ] && grep -qaF "$A" "$MDB" && grep -qaF "Attorney Kim" "$MDB"; then
	ok "the raw store holds the case records (the grep finds what is there)"
else
	not_ok "the raw store holds the case records (the grep finds what is there)"
fi
for t in "$REASON_A" "$REASON_E" "$SUMMARY" "$OBJECTION_C"; do
	if grep -qaF "$t" "$D"/store/*.mdb "$SERVER_LOG"; then not_ok "the store and log never hold '$t'"; else ok "the store and log never hold '${t%%,*}...'"; fi
done

stop_server
if [ "$SERVER_RC" = 0 ]; then ok "the server stops cleanly"; else not_ok "the server stops cleanly (exit $SERVER_RC)"; fi
done_testing
