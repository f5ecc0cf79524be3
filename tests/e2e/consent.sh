# consent.sh — the whistleblower's consent and its refusals (issue 6, items 1, 2 and 5 and
# the adversarial Acceptance), on a real server (the test build, on a test clock set to
# today in KST; proof of work 8 bits) with the real client:
#	- without --yes and without a terminal, nothing is signed (exit 64);
#	- an online grant is accepted (201) and `status` and `consent list` show it live, with
#	  its audit event verified against the head;
#	- an offline grant relayed by the filing attorney is accepted the same; another
#	  attorney's relay is refused (403);
#	- refused, each with its own consent-refused audit leaf (reason as its detail): a forged
#	  consent (another codename's key), a consent naming another codename's package, one
#	  naming a package never filed (unknown-package), a replayed nonce (409), a grantee key
#	  the directory does not list, a scope whose key is another, an unknown agency, a
#	  modified release, an expired consent (the clock moved past its last day);
#	- revocation online (consent-revoked leaf, status shows it revoked), offline through the
#	  attorney, and --all.
. "$(dirname "$0")/lib.sh"

FORGE="$PY $TOP/tests/tools/consentforge.py"
if [ ! -x "$SEALDROPD_TESTCLOCK" ]; then
	not_ok "$SEALDROPD_TESTCLOCK is built (make all-tests)"
	done_testing
fi
"$PY" -c 'import nacl.bindings' 2>/dev/null || { skip "python3-nacl is not installed"; done_testing; }

TODAYFILE=$T/today
TODAY=$(TZ=Asia/Seoul date +%F)
day() { # n: today + n days
	"$PY" -c 'import datetime as t, sys
print((t.date.fromisoformat(sys.argv[1]) + t.timedelta(days=int(sys.argv[2]))).isoformat())' "$TODAY" "$1"
}
# --- a test deployment on the test clock ---

mkwbserver "$TODAYFILE" "$TODAY"
for who in "attorney att Attorney Kim" "attorney att2 Attorney Lee" "officer off Officer Park" "custodian cus Custodian Choi"; do
	set -- $who
	run sdd enroll --dir "$D" --role "$1" --name "$3 $4" --out "$D/$2"
	[ "$RC" -eq 0 ] || { not_ok "set-up: enroll $2"; _diag_output; done_testing; }
done
WB="--server $URL --ca $D/ca.pem --directory $D/directory.json --root $P/root.key.pub"
OFFLINE="--directory $D/directory.json --root $P/root.key.pub"
ATT="--server $URL --ca $D/ca.pem --cert $D/att/cert.pem --key $D/att/key.pem"
ATT2="--server $URL --ca $D/ca.pem --cert $D/att2/cert.pem --key $D/att2/key.pem"

# Two packages under two codenames, filed by Kim; a third under A's codename, never filed.
seal_pkg() { # name [seal options]
	_n=$1
	shift
	run sd seal --directory "$D/directory.json" --root "$P/root.key.pub" --report docs/examples/report.json \
		--identity docs/examples/identity.json --out "$T/$_n.sdx" --quiet "$@"
}
seal_pkg a --codename-out "$T/a.codename" && seal_pkg b --codename-out "$T/b.codename" &&
	seal_pkg a2 --codename-file "$T/a.codename" || { not_ok "set-up: seal"; _diag_output; done_testing; }
file_pkg() { # name
	run sd file "$T/$1.sdx" $ATT --root "$P/root.key.pub" --json
	[ "$RC" -eq 0 ] || { not_ok "set-up: file $1"; _diag_output; done_testing; }
	json_get "$OUT" 'd["case"]'
}
A=$(file_pkg a)
B=$(file_pkg b)
ok "two packages filed: case $A (codename a), case $B (codename b)"

# The audit leaves of CASE (or of the whole log with -) matching EVENT and DETAIL, counted
# after a head is published (GET /v1/log/entries with the officer's certificate).
leaves() { # case|- event [detail]
	sdd audit publish --config "$D/sealdropd.conf" >/dev/null 2>&1
	if [ "$1" = - ]; then _q="start=0"; else _q="case=$1"; fi
	curl_status off GET "/v1/log/entries?$_q" >/dev/null
	"$PY" -c 'import base64, json, sys
ev, detail = sys.argv[2], sys.argv[3]
n = 0
for e in json.load(open(sys.argv[1]))["entries"]:
    l = json.loads(base64.b64decode(e["leaf"]))
    if l.get("event") == ev and (detail == "*" or l.get("detail", "") == detail):
        n += 1
print(n)' "$OUT" "$2" "${3:-*}"
}
# Runs a refusal and checks its status, its words and that it added one leaf of its own.
refused() { # description case|- detail code word command...
	_desc=$1 _case=$2 _detail=$3 _code=$4 _word=$5
	shift 5
	_before=$(leaves "$_case" consent-refused "$_detail")
	expect_exit "$_code" "$_desc: refused ($_code)" -m "$_word" "$@"
	_after=$(leaves "$_case" consent-refused "$_detail")
	if [ "$_after" -eq $((_before + 1)) ]; then
		ok "  its own audit leaf: consent-refused, detail $_detail"
	else
		not_ok "  its own audit leaf: consent-refused, detail $_detail"
		diag "leaves before: $_before, after: $_after"
	fi
}

# The same, the file posted as is with curl (what a client that checks nothing would send).
refused_raw() { # description case|- detail http-status file
	_before=$(leaves "$2" consent-refused "$3")
	_got=$(curl_status att POST /v1/consents -H 'Content-Type: application/json' --data-binary "@$5")
	if [ "$_got" = "$4" ]; then ok "$1: refused by the server ($_got)"; else not_ok "$1: refused by the server ($4)"; diag "got $_got: $(head -c 300 "$OUT")"; fi
	_after=$(leaves "$2" consent-refused "$3")
	if [ "$_after" -eq $((_before + 1)) ]; then
		ok "  its own audit leaf: consent-refused, detail $3"
	else
		not_ok "  its own audit leaf: consent-refused, detail $3"
		diag "leaves before: $_before, after: $_after"
	fi
}

# --- confirmation ---

if command -v setsid >/dev/null 2>&1; then
	expect_exit 64 "no terminal and no --yes: nothing is signed" -m 'no terminal to confirm on' \
		setsid $_timeout "$SEALDROP" consent grant $WB --codename-file "$T/a.codename" --scope commission
else
	skip "setsid is not installed"
fi
expect_exit 64 "--expires 400d is refused" -m 'number of days' \
	sd consent grant $WB --codename-file "$T/a.codename" --scope commission --expires 400d --yes

# --- online grant ---

expect_exit 0 "online grant (commission, with --package)" sd consent grant $WB --codename-file "$T/a.codename" \
	--package "$T/a.sdx" --scope commission --expires 30d --yes --json
cp "$OUT" "$T/grant1.json"
jtrue "  201: the case, the scope and the expiry" "$T/grant1.json" \
	'd["case"] == "'"$A"'" and d["scope"] == "commission" and d["expires"] == "'"$(day 30)"'" and len(d["consent_id"]) == 64'
C1=$(json_get "$T/grant1.json" 'd["consent_id"]')
if grep -q "Art. 7(2)\|revoke" "$ERR"; then ok "  the explanation was printed before signing"; else not_ok "  the explanation was printed before signing"; _diag_output; fi
run sdd audit publish --config "$D/sealdropd.conf"
expect_exit 0 "status after the grant" sd status $WB --codename-file "$T/a.codename"
if grep -Eq "^    $(printf %.16s "$C1")  commission .* LIVE" "$OUT" &&
	grep -Eq "consent accepted \(commission\) +whistleblower +verified in the audit log" "$OUT"; then
	ok "  status shows the consent live and its audit event verified against the head"
else
	not_ok "  status shows the consent live and its audit event verified against the head"
	_diag_output out
fi
expect_exit 0 "consent list" sd consent list $WB --codename-file "$T/a.codename" --json
jtrue "  lists it live, by the whistleblower" "$T/.stdout" \
	'[(c["consent_id"], c["live"], c["by"]) for c in d["cases"][0]["consents"]] == [("'"$C1"'", True, "whistleblower")]'
run sd consent grant $WB --codename-file "$T/a.codename" --scope agency:bai --expires 5d --yes
if [ "$RC" -eq 0 ]; then
	ok "online grant without --package (the header from the status answer)"
else
	not_ok "online grant without --package (the header from the status answer)"
	_diag_output
fi

# --- an identity access, seen by the whistleblower ---

code=$(curl_status cus POST "/v1/cases/$A/unseal" -H 'Content-Type: application/json' --data '{"scope":"commission"}')
if [ "$code" = 200 ]; then ok "a custodian fetches the release of the live consent (200)"; else not_ok "a custodian fetches the release of the live consent (200)"; diag "got $code: $(head -c 300 "$OUT")"; fi
run sdd audit publish --config "$D/sealdropd.conf"
expect_exit 0 "status after the identity access" sd status $WB --codename-file "$T/a.codename"
if grep -Eq "$TODAY +IDENTITY ACCESS \(commission\) +custodian +verified in the audit log" "$OUT" &&
	grep -q "identity-access" "$OUT"; then
	ok "  it shows the access (date, scope, custodian), verified, and the notice about it"
else
	not_ok "  it shows the access (date, scope, custodian), verified, and the notice about it"
	_diag_output out
fi

# --- offline grant, relayed ---

expect_exit 0 "offline grant into a file (no server)" sd consent grant $OFFLINE --codename-file "$T/a.codename" \
	--package "$T/a.sdx" --scope agency:bai --expires 10d --out "$T/c2.sdc" --yes
if [ "$(file_mode "$T/c2.sdc")" = 600 ] && json_is_valid "$T/c2.sdc"; then ok "  the .sdc file is JSON, mode 600"; else not_ok "  the .sdc file is JSON, mode 600"; fi
expect_exit 77 "another attorney's relay: refused" -m 403 sd relay "$T/c2.sdc" $ATT2
expect_exit 0 "the filing attorney relays it" sd relay "$T/c2.sdc" $ATT --json
cp "$OUT" "$T/relay2.json"
jtrue "  accepted the same (201: case, scope agency:bai)" "$T/relay2.json" \
	'd["case"] == "'"$A"'" and d["scope"] == "agency:bai" and d["expires"] == "'"$(day 10)"'"'
C2=$(json_get "$T/relay2.json" 'd["consent_id"]')
expect_exit 0 "consent list shows it by the attorney" sd consent list $WB --codename-file "$T/a.codename" --json
jtrue "  by attorney, live" "$T/.stdout" \
	'any(c["consent_id"] == "'"$C2"'" and c["by"] == "attorney" and c["live"] for c in d["cases"][0]["consents"])'

# --- refusals, each with its own audit leaf ---

refused "a replayed consent (the same file again)" "$A" replay 77 'already handed in' sd relay "$T/c2.sdc" $ATT

$FORGE "$D/directory.json" "$T/a.codename" "$T/a.sdx" "$T/forged.sdc" --signer "$T/b.codename" >/dev/null
refused "a forged consent (signed by another codename's key)" "$A" bad-signature 77 'consent_refused' \
	sd relay "$T/forged.sdc" $ATT

$FORGE "$D/directory.json" "$T/a.codename" "$T/a.sdx" "$T/other.sdc" --digest-of "$T/b.sdx" >/dev/null
refused "a consent by codename a naming codename b's package" "$B" bad-signature 77 'consent_refused' \
	sd relay "$T/other.sdc" $ATT

$FORGE "$D/directory.json" "$T/a.codename" "$T/a2.sdx" "$T/unfiled.sdc" >/dev/null
refused "a consent for a package never filed (same codename)" - unknown-package 77 'no case was filed' \
	sd relay "$T/unfiled.sdc" $ATT

$FORGE "$D/directory.json" "$T/a.codename" "$T/a.sdx" "$T/random.sdc" --grantee random >/dev/null
refused "a grantee key the directory does not list" "$A" wrong-grantee 77 'consent_refused' \
	sd relay "$T/random.sdc" $ATT

$FORGE "$D/directory.json" "$T/a.codename" "$T/a.sdx" "$T/scope.sdc" --scope agency:bai --grantee identity >/dev/null
refused "the wrong scope (agency:bai with the identity key)" "$A" wrong-grantee 77 'consent_refused' \
	sd relay "$T/scope.sdc" $ATT

$FORGE "$D/directory.json" "$T/a.codename" "$T/a.sdx" "$T/agency.sdc" --scope agency:nosuch >/dev/null
refused "an agency the directory does not list" "$A" unknown-agency 77 'consent_refused' \
	sd relay "$T/agency.sdc" $ATT

$FORGE "$D/directory.json" "$T/a.codename" "$T/a.sdx" "$T/release.sdc" --tamper-release >/dev/null
expect_exit 65 "a modified release: the attorney's client refuses to relay it" -m 'release does not hash' \
	sd relay "$T/release.sdc" $ATT
refused_raw "  the same file posted as is" "$A" bad-release 422 "$T/release.sdc"

$FORGE "$D/directory.json" "$T/a.codename" "$T/a.sdx" "$T/future.sdc" --issued "$(day 3)" --expires "$(day 10)" >/dev/null
refused "a consent dated in the future" "$A" future 77 'consent_refused' sd relay "$T/future.sdc" $ATT

expect_exit 0 "a consent valid one day (offline)" sd consent grant $OFFLINE --codename-file "$T/a.codename" \
	--package "$T/a.sdx" --scope commission --expires 1d --out "$T/short.sdc" --yes
set_today "$TODAYFILE" "$(day 2)"
refused "relayed after its last day (the clock moved 2 days)" "$A" expired 77 'consent_expired' \
	sd relay "$T/short.sdc" $ATT

# --- revocation ---

before=$(leaves "$A" consent-revoked)
expect_exit 0 "revoke the online consent" sd consent revoke $WB --codename-file "$T/a.codename" \
	--package "$T/a.sdx" --consent "$C1" --yes --json
jtrue "  200: it is in \"revoked\"" "$T/.stdout" 'd["revoked"] == ["'"$C1"'"]'
after=$(leaves "$A" consent-revoked)
if [ "$after" -eq $((before + 1)) ]; then ok "  a consent-revoked audit leaf"; else not_ok "  a consent-revoked audit leaf"; diag "$before -> $after"; fi
expect_exit 0 "status after the revocation" sd status $WB --codename-file "$T/a.codename" --json
jtrue "  the consent shows revoked and not live; the revoked event is verified" "$T/.stdout" \
	'any(c["consent_id"] == "'"$C1"'" and c["revoked"] == "'"$(day 2)"'" and not c["live"] for c in d["cases"][0]["consents"])
	 and any(e["event"] == "consent-revoked" and e["verified"] is True for e in d["cases"][0]["events"])'
expect_exit 77 "revoking a consent the case does not have: refused" sd consent revoke $WB --codename-file "$T/a.codename" \
	--package "$T/a.sdx" --consent "$(printf '%064d' 0)" --yes

expect_exit 0 "an offline revocation of every consent" sd consent revoke $OFFLINE --codename-file "$T/a.codename" \
	--package "$T/a.sdx" --all --out "$T/all.sdc" --yes
expect_exit 0 "  relayed by the attorney" sd relay "$T/all.sdc" $ATT --json
jtrue "  the relayed --all ends the agency consent" "$T/.stdout" '"'"$C2"'" in d["revoked"]'
expect_exit 77 "  relayed twice: refused as a replay" -m 'already handed in' sd relay "$T/all.sdc" $ATT
expect_exit 0 "a new consent, then revoke --all online" sd consent grant $WB --codename-file "$T/a.codename" \
	--package "$T/a.sdx" --scope commission --yes --json
C3=$(json_get "$T/.stdout" 'd["consent_id"]')
expect_exit 0 "  revoke --all" sd consent revoke $WB --codename-file "$T/a.codename" --package "$T/a.sdx" --all --yes
if grep -q "$C3" "$OUT"; then ok "  it names the new consent"; else not_ok "  it names the new consent"; _diag_output out; fi
code=$(curl_status cus POST "/v1/cases/$A/unseal" -H 'Content-Type: application/json' --data '{"scope":"commission"}')
if [ "$code" = 403 ]; then ok "after revoke --all a custodian's fetch is refused (403)"; else not_ok "after revoke --all a custodian's fetch is refused (403)"; diag "got $code"; fi
run sdd audit publish --config "$D/sealdropd.conf"
expect_exit 0 "status shows the refused attempt" sd status $WB --codename-file "$T/a.codename" --json
jtrue "  an unseal event refused:commission by a custodian, verified" "$T/.stdout" \
	'any(e["event"] == "unseal" and e["detail"] == "refused:commission" and e["role"] == "custodian" and e["verified"] is True for e in d["cases"][0]["events"])'
expect_exit 0 "consent list: nothing live" sd consent list $WB --codename-file "$T/a.codename" --json
jtrue "  every consent of case $A is revoked" "$T/.stdout" \
	'all(c["revoked"] is not None and not c["live"] for c in d["cases"][0]["consents"]) and len(d["cases"][0]["consents"]) == 4'

stop_server
done_testing
