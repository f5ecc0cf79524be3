# cases_client.sh — the officer's commands against the real server (issue 5, item 1):
# `sealdrop cases`, `sealdrop case` and `sealdrop transition` through every path one day
# reaches (refer; forward then outcome; terminate; extend, and a second extension
# refused), an illegal action refused with the server's list of legal ones (exit 77), an
# agency the directory does not list refused before anything is sent, a reason that never
# reaches the server in the clear, an attorney who sees their own filings but may not
# move them, and the per-user config file: its defaults, an option that overrides them,
# and a broken or unsafe file refused (exit 78) naming FILE:LINE.
. "$(dirname "$0")/lib.sh"

CONFDIR=$HOME/.config/sealdrop
CONF=$CONFDIR/config

# --- help and usage (no server needed) ---
check "cases --help" sd cases --help
if grep -q -- '--overdue' "$OUT" && grep -q 'sealdrop/config' "$OUT"; then ok "  documents --overdue and the config file"; else not_ok "  documents --overdue and the config file"; fi
check "case --help" sd case --help
check "transition --help" sd transition --help
if grep -q 'not-inspectable' "$OUT" && grep -q -- '--summary FILE' "$OUT" && grep -q 'intake key' "$OUT"; then
	ok "  lists the actions and says texts are sealed to the intake key"
else
	not_ok "  lists the actions and says texts are sealed to the intake key"
fi
check "sealdrop --help lists the three commands" sd --help
if grep -q '^  cases ' "$OUT" && grep -q '^  case ' "$OUT" && grep -q '^  transition ' "$OUT"; then ok "  cases, case, transition"; else not_ok "  cases, case, transition"; fi
NET="--server https://127.0.0.1:1 --ca /x --cert /x --key /x"
# shellcheck disable=SC2086
{
	expect_exit 64 "cases --state with an unknown state" -m 'not a state' sd cases --state pending $NET
	expect_exit 64 "cases --due-within above 3650" -m 'due-within' sd cases --due-within 3651 $NET
	expect_exit 64 "cases with an operand" -m 'unexpected' sd cases 2026-000001 $NET
	expect_exit 64 "case with a malformed number" -m 'case number' sd case 2026-1 $NET
	expect_exit 64 "transition without an ACTION" -m 'ACTION' sd transition 2026-000001 $NET
	expect_exit 64 "transition with an unknown ACTION" -m "unknown ACTION 'approve'" sd transition 2026-000001 approve $NET
	expect_exit 64 "transition object is the whistleblower's" -m 'whistleblower' sd transition 2026-000001 object $NET
	expect_exit 64 "refer without --kind" -m 'refer needs --kind' sd transition 2026-000001 refer --agency police $NET --root /x
	expect_exit 64 "refer with a bad --kind" -m 'inspection or investigation' \
		sd transition 2026-000001 refer --agency police --kind audit $NET --root /x
	expect_exit 64 "close with --reason" -m '--reason does not go with close' sd transition 2026-000001 close --reason x $NET
	expect_exit 64 "terminate with a free-text reason" -m 'no-evidence' \
		sd transition 2026-000001 terminate --reason 'not enough' $NET
	expect_exit 64 "outcome with a malformed date" -m 'YYYY-MM-DD' \
		sd transition 2026-000001 outcome --concluded 2026-13-01 --summary /x $NET --root /x
	expect_exit 64 "extend without --root" -m '--root' sd transition 2026-000001 extend --reason x $NET
}
expect_exit 64 "cases without --server nor a config file" -m 'missing --server' -m 'config file' sd cases

# --- config file errors (no server needed) ---
mkdir -p "$CONFDIR"
printf '# officer defaults\nserver https://127.0.0.1:1\nsevrer https://x\n' >"$CONF"
chmod 600 "$CONF"
expect_exit 78 "an unknown name in the config file" -m "$CONF:3" -m "unknown setting 'sevrer'" sd cases
printf 'ca relative/ca.pem\n' >"$CONF"
expect_exit 78 "a relative path in the config file" -m "$CONF:1" -m 'absolute' sd case 2026-000001
printf 'server https://a\n\nserver https://b\n' >"$CONF"
expect_exit 78 "a name set twice" -m "$CONF:3" -m 'first on line 1' sd cases
printf 'server\n' >"$CONF"
expect_exit 78 "a name without a value" -m "$CONF:1" -m 'needs a value' sd cases
printf 'server https://127.0.0.1:1\n' >"$CONF"
chmod 620 "$CONF"
expect_exit 78 "a group-writable config file is not read" -m 'other users' -m 'chmod go-w' sd cases
chmod 602 "$CONF"
expect_exit 78 "nor a world-writable one, even with every option given" -m 'other users' \
	sd cases --server https://127.0.0.1:1 --ca /x --cert /x --key /x
rm -f "$CONF"
expect_exit 78 "SEALDROP_CONFIG naming a missing file" -m 'SEALDROP_CONFIG' -m 'does not exist' \
	env SEALDROP_CONFIG="$T/nothing" "$SEALDROP" cases
expect_exit 78 "the config file is read by transition too" -m 'other users' \
	sh -c 'printf "server https://a\n" >"$1"; chmod 666 "$1"; SEALDROP_CONFIG=$1 exec "$2" transition 2026-000001 close' \
	- "$T/c666" "$SEALDROP"

# --- a deployment with one agency, an officer and some filings ---
mkkey agency "$T/police.key" || done_testing
MK_DIRECTORY_OPTS="--agency police:Police:$T/police.key.pub" mkserver || done_testing
run sdd enroll --dir "$D" --role officer --name "Officer Park" --out "$D/off"
[ "$RC" -eq 0 ] || { not_ok "set-up: enroll the officer"; _diag_output; done_testing; }
run sdd enroll --dir "$D" --role attorney --name "Attorney Lee" --out "$D/att2"
[ "$RC" -eq 0 ] || { not_ok "set-up: enroll a second attorney"; _diag_output; done_testing; }
OFFICER_FP=$(openssl x509 -in "$D/off/cert.pem" -outform DER | sha256sum | cut -c1-16)

file_one() { # name: seals and files $T/name.sdx as Attorney Kim, prints the case
	run sd seal --directory "$D/directory.json" --root "$P/root.key.pub" --report docs/examples/report.json \
		--identity docs/examples/identity.json --out "$T/$1.sdx" --codename-out "$T/$1.sdx.codename" --quiet
	[ "$RC" -eq 0 ] || { _diag_output >&2; return 1; }
	run sd file "$T/$1.sdx" --server "$URL" --ca "$D/ca.pem" --cert "$D/att/cert.pem" --key "$D/att/key.pem" \
		--root "$P/root.key.pub" --json
	[ "$RC" -eq 0 ] || { _diag_output >&2; return 1; }
	json_get "$OUT" 'd["case"]'
}
A=$(file_one a) && B=$(file_one b) && C=$(file_one c) && E=$(file_one e) && F=$(file_one f) ||
	{ not_ok "set-up: seal and file five packages"; done_testing; }
TODAY=$(server_today "$D")

# Daily use: the officer's defaults in the config file, no flags.
printf '# Officer Park\nserver %s\nca %s\n\ncert %s\nkey %s\nroot %s\n' "$URL" "$D/ca.pem" "$D/off/cert.pem" \
	"$D/off/key.pem" "$P/root.key.pub" >"$CONF"
chmod 600 "$CONF"
ATT="--cert $D/att/cert.pem --key $D/att/key.pem"

# --- cases ---
expect_exit 0 "cases with the config file's defaults" sd cases
if [ "$(grep -c '^20[0-9][0-9]-[0-9]\{6\}  received .* decision ' "$OUT")" = 5 ]; then ok "  five received cases with a decision deadline"; else not_ok "  five received cases with a decision deadline"; _diag_output out; fi
if grep -q "^$A  received  *$TODAY  decision  " "$OUT"; then ok "  $A received today"; else not_ok "  $A received today"; _diag_output out; fi
if grep -q '^5 cases, 0 overdue$' "$OUT"; then ok "  and the count"; else not_ok "  and the count"; _diag_output out; fi
if [ "$RC" -eq 0 ] && ! grep -q OVERDUE "$OUT"; then ok "  nothing is marked overdue"; else not_ok "  nothing is marked overdue"; fi
expect_exit 0 "cases --json" sd cases --json
curl_status off GET /v1/cases >/dev/null
cp "$OUT" "$T/served.json"
run sd cases --json
if [ "$(json_get "$OUT" 'len(d["cases"])')" = 5 ] && [ "$(json_get "$OUT" 'd["cases"]')" = "$(json_get "$T/served.json" 'd["cases"]')" ]; then ok "  the cases exactly as the server gives them"; else not_ok "  the cases exactly as the server gives them"; fi
expect_exit 0 "cases --overdue: none yet" sd cases --overdue
if grep -q '^no cases$' "$OUT"; then ok "  says so"; else not_ok "  says so"; _diag_output out; fi
expect_exit 0 "cases --due-within 3650" sd cases --due-within 3650
if grep -q '^5 cases' "$OUT"; then ok "  all five"; else not_ok "  all five"; _diag_output out; fi
expect_exit 0 "cases --due-within 0: none due today" sd cases --due-within 0
if grep -q '^no cases$' "$OUT"; then ok "  none"; else not_ok "  none"; _diag_output out; fi

# --- case ---
expect_exit 0 "case $A" sd case "$A"
if grep -q "^case $A: received" "$OUT" && grep -q 'history: 0 steps' "$OUT" && grep -q 'legal actions .*refer' "$OUT"; then
	ok "  state, no history yet, the legal actions"
else
	not_ok "  state, no history yet, the legal actions"
	_diag_output out
fi
if grep -q "^notices: 1 " "$OUT" && grep -Eq '^ +0  20[0-9-]+  receipt +audit leaf [0-9]+$' "$OUT"; then
	ok "  its notices: the receipt notice, with its audit leaf"
else
	not_ok "  its notices: the receipt notice, with its audit leaf"
	_diag_output out
fi
expect_exit 0 "case --json" sd case "$A" --json
if [ "$(json_get "$OUT" 'd["case"] == "'"$A"'" and d["history"] == [] and [n["kind"] for n in d["notices"]] == ["receipt"]')" = true ]; then
	ok "  the server's object, with the notices"
else
	not_ok "  the server's object, with the notices"
fi
expect_exit 77 "case of a case that does not exist" -m 'not' sd case 2026-999999

# --- refer ---
expect_exit 0 "transition refer" sd transition "$A" refer --agency police --kind inspection
if grep -q "case $A: refer done; the case is now referred" "$OUT" && grep -q 'next deadline .*none' "$OUT"; then
	ok "  referred, nothing due from the Commission"
else
	not_ok "  referred, nothing due from the Commission"
	_diag_output out
fi
expect_exit 0 "case $A shows the step" sd case "$A"
if grep -Eq "^ +0  $TODAY  refer +$OFFICER_FP  inspection; agency police" "$OUT"; then ok "  step 0, today, refer, the officer's fingerprint, the details"; else not_ok "  step 0, today, refer, the officer's fingerprint, the details"; _diag_output out; fi
expect_exit 77 "refer again is illegal: the server names the legal actions" -m "$A" -m 'is referred' \
	-m 'legal actions are outcome' sd transition "$A" refer --agency police --kind inspection
expect_exit 77 "close a referred case is illegal" -m 'outcome' sd transition "$A" close

# --- an agency the directory does not list: refused before sending ---
expect_exit 77 "forward to an agency the directory does not list" -m "no agency 'prosecutor'" -m 'police' \
	sd transition "$E" forward --agency prosecutor
run sd case "$E" --json
if [ "$(json_get "$OUT" 'd["state"]')" = received ]; then ok "  the case is untouched"; else not_ok "  the case is untouched"; fi
mkkey root "$T/other-root.key"
expect_exit 65 "a directory signed by another root is refused" -m 'directory' \
	sd transition "$E" forward --agency police --root "$T/other-root.key.pub"

# --- forward, then the outcome (concluded today) ---
expect_exit 0 "transition forward" sd transition "$B" forward --agency police --json
if [ "$(json_get "$OUT" 'd["state"]')" = forwarded ]; then ok "  forwarded (--json)"; else not_ok "  forwarded (--json)"; fi
printf 'The agency found the report substantiated and fined the company.\n' >"$T/summary.txt"
head -c 65489 /dev/zero | tr '\0' 'x' >"$T/big-summary.txt"
expect_exit 65 "a summary above 65488 bytes is refused before sending" -m 'summary' \
	sd transition "$B" outcome --concluded "$TODAY" --summary "$T/big-summary.txt"
expect_exit 66 "a missing summary file" -m 'nothing.txt' \
	sd transition "$B" outcome --concluded "$TODAY" --summary "$T/nothing.txt"
expect_exit 0 "transition outcome" sd transition "$B" outcome --concluded "$TODAY" --summary "$T/summary.txt"
if grep -q 'the case is now outcome-notified' "$OUT" && grep -q "next deadline .*objection .*whistleblower" "$OUT"; then
	ok "  outcome-notified, the whistleblower's objection window next"
else
	not_ok "  outcome-notified, the whistleblower's objection window next"
	_diag_output out
fi
expect_exit 77 "close inside the objection window is refused" -m "$B" sd transition "$B" close
expect_exit 77 "reinvestigate without an objection is illegal" -m 'legal actions' \
	sd transition "$B" reinvestigate --reason 'asked again'

# --- terminate ---
expect_exit 0 "transition terminate" sd transition "$C" terminate --reason no-evidence
if grep -q 'the case is now terminated' "$OUT" && grep -q 'next deadline .*none' "$OUT"; then ok "  terminated, nothing due"; else not_ok "  terminated, nothing due"; _diag_output out; fi
expect_exit 0 "case $C shows the reason" sd case "$C"
if grep -Eq "^ +0  $TODAY  terminate +$OFFICER_FP  no-evidence" "$OUT"; then ok "  terminate, no-evidence"; else not_ok "  terminate, no-evidence"; _diag_output out; fi

# --- extend, twice ---
REASON="the evidence needs a specialist reading $$"
expect_exit 0 "transition extend" sd transition "$E" extend --reason "$REASON"
if grep -q 'the case is now extended' "$OUT" && grep -q 'next deadline .*decision' "$OUT"; then ok "  extended, the decision still due"; else not_ok "  extended, the decision still due"; _diag_output out; fi
expect_exit 0 "case $E" sd case "$E"
if grep -q 'extended once by 30 days' "$OUT" && grep -Eq "^ +0  $TODAY  extend +$OFFICER_FP  text sealed to the intake key" "$OUT"; then
	ok "  the extension and its sealed reason"
else
	not_ok "  the extension and its sealed reason"
	_diag_output out
fi
if grep -rqF "$REASON" "$D/store" "$SERVER_LOG"; then not_ok "the reason never reached the server in the clear"; else ok "the reason never reached the server in the clear"; fi
expect_exit 77 "a second extension is refused" -m "$E" -m 'legal actions' sd transition "$E" extend --reason 'again'
expect_exit 0 "cases --state extended" sd cases --state extended
if grep -q "^$E  extended " "$OUT" && grep -q '^1 case, 0 overdue$' "$OUT"; then ok "  just $E"; else not_ok "  just $E"; _diag_output out; fi

# --- the attorney: their own filings, read only ---
# shellcheck disable=SC2086
{
	expect_exit 0 "cases as the attorney (the command line overrides the config file)" sd cases $ATT
	if [ "$(grep -c '^20[0-9][0-9]-[0-9]\{6\}  ' "$OUT")" = 5 ] && grep -q "^$A  referred " "$OUT"; then
		ok "  their five filings, with states"
	else
		not_ok "  their five filings, with states"
		_diag_output out
	fi
	# A: the receipt notice and the referral's; every row counts its notices.
	if grep -Eq "^$A  referred .* 2\$" "$OUT" && grep -q ' notices$' "$OUT"; then
		ok "  and their notices: 2 for $A (the receipt and the referral)"
	else
		not_ok "  and their notices: 2 for $A (the receipt and the referral)"
		_diag_output out
	fi
	expect_exit 0 "case as the attorney" sd case "$A" $ATT
	if grep -q "^case $A: referred" "$OUT"; then ok "  shows it"; else not_ok "  shows it"; fi
	expect_exit 77 "transition as the attorney is refused" -m 'refused' sd transition "$F" close $ATT
	expect_exit 77 "  also with a text to seal" -m 'refused' sd transition "$F" extend --reason x $ATT
	expect_exit 0 "another attorney lists no cases" sd cases --cert "$D/att2/cert.pem" --key "$D/att2/key.pem"
	if grep -q '^no cases$' "$OUT"; then ok "  none"; else not_ok "  none"; _diag_output out; fi
	expect_exit 77 "another attorney cannot read the case" sd case "$A" --cert "$D/att2/cert.pem" --key "$D/att2/key.pem"
}
run sd case "$F" --json
if [ "$(json_get "$OUT" 'd["state"]')" = received ]; then ok "the attorney's attempts left $F received"; else not_ok "the attorney's attempts left $F received"; fi

# --- config file against the server ---
printf 'server %s\nca %s\ncert %s\nkey %s\n' "$URL" "$D/ca.pem" "$D/off/cert.pem" "$D/off/key.pem" >"$CONF"
expect_exit 64 "extend needs root: from the config file or the command line" -m '--root' sd transition "$F" extend --reason x
expect_exit 0 "  given on the command line" sd transition "$F" extend --reason 'x' --root "$P/root.key.pub"
printf 'server %s\n' "https://127.0.0.1:$(free_port)" >>"$CONF"
expect_exit 78 "a server set twice in the config file" -m "$CONF:5" sd cases --server "$URL"
printf 'server %s\nca %s\ncert %s\nkey %s\n' "https://127.0.0.1:$(free_port)" "$D/ca.pem" "$D/off/cert.pem" \
	"$D/off/key.pem" >"$CONF"
expect_exit 69 "the config file's server, unreachable" sd cases
expect_exit 0 "  --server on the command line wins" sd cases --server "$URL"

stop_server
done_testing
