# retention.sh — destroying closed cases after the configured period (issue 8, item 4): a
# real server on the test clock, whose days run from 500 days ago to today (the store
# process checks a destruction against the real date, so the test never runs ahead of it),
# real certificates and the real client. Three cases filed 500 days ago:
#	A  closed 460 days ago, with 3 MiB of evidence: due under retention_days 100
#	B  closed 10 days ago: not due
#	C  still open (referred)
# With retention_days 0 (the default) nothing is due. With 100, `sealdropd retention
# --dry-run` lists A alone and changes nothing; the real run destroys A: no key of A's
# (its case number, its upload id, its digest) is left in any database but the audit log's
# case_events, its case_by_locator entry and its tombstone; an officer's GET answers 410
# with the date; the whistleblower's status says it was destroyed; the audit log holds the
# case-destroyed leaf and still verifies; B and C are untouched; a second run destroys
# nothing; the backup after is smaller than the one before; and a front end whose clock
# runs 1000 days ahead lists B as due but the store process, on its own clock, refuses it.
. "$(dirname "$0")/lib.sh"

if [ ! -x "$SEALDROPD_TESTCLOCK" ] || [ ! -x "$SEALDROPD" ]; then
	not_ok "$SEALDROPD and $SEALDROPD_TESTCLOCK are built (make sealdropd build/sealdropd-testclock)"
	done_testing
fi
if [ ! -x "$SD_LMDB" ] || ! command -v mdb_stat >/dev/null 2>&1; then
	not_ok "$SD_LMDB (make $BUILD_DIR/tools/sd-lmdb) and mdb_stat (lmdb-utils) are there"
	done_testing
fi

TODAYFILE=$T/today
# The KST date N days from today (N negative: before).
kst() { # n
	"$PY" -c 'import datetime as t, sys
print((t.datetime.now(t.timezone(t.timedelta(hours=9))).date() + t.timedelta(days=int(sys.argv[1]))).isoformat())' "$1"
}
at() { # n
	NOW=$(kst "$1")
	set_today "$TODAYFILE" "$NOW"
	[ "$(server_today "$D")" = "$NOW" ] || { not_ok "the server's today moves to $NOW"; return 1; }
}
# Restarts the server with retention_days N.
restart_with() { # n
	stop_server
	sed -i '/^retention_days /d' "$D/sealdropd.conf"
	printf 'retention_days %s\n' "$1" >>"$D/sealdropd.conf"
	start_server_testclock "$D/sealdropd.conf" "$TODAYFILE" ||
		{ not_ok "the server restarts with retention_days $1"; diag "$(tail -n 5 "$SERVER_LOG")"; done_testing; }
}
# A hot backup into $T/NAME.mdb, and a copy of it as an environment $T/NAME/ to read.
backup() { # name
	run sdd backup --config "$D/sealdropd.conf" --out "$T/$1.mdb"
	[ "$RC" -eq 0 ] || { not_ok "backup $1"; _diag_output; return 1; }
	mkdir -p "$T/$1" && cp "$T/$1.mdb" "$T/$1/data.mdb"
}
# Every database of backup NAME, one a line.
dbs_of() { # name
	mdb_stat -a "$T/$1" | sed -n 's/^Status of //p' | grep -v '^Main DB$'
}
# Every key of backup NAME as "DB HEX", one a line.
keys_of() { # name
	for _db in $(dbs_of "$1"); do
		"$SD_LMDB" "$T/$1" keys "$_db" | sed "s/^/$_db /"
	done
}
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
unhex() { "$PY" -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read().strip()))'; }

# --- a deployment whose days begin 500 days ago ---

mkwbserver "$TODAYFILE" "$(kst -500)"
run sdd enroll --dir "$D" --role attorney --name "Attorney Kim" --out "$D/att"
[ "$RC" -eq 0 ] || { not_ok "set-up: enroll the attorney"; _diag_output; done_testing; }
run sdd enroll --dir "$D" --role officer --name "Officer Park" --out "$D/off"
[ "$RC" -eq 0 ] || { not_ok "set-up: enroll the officer"; _diag_output; done_testing; }
OFFC="--server $URL --ca $D/ca.pem --cert $D/off/cert.pem --key $D/off/key.pem"
OFF="$OFFC --root $P/root.key.pub"
WB="--server $URL --ca $D/ca.pem --directory $D/directory.json --root $P/root.key.pub"

file_one() { # name [seal options]: seals and files $T/name.sdx as Attorney Kim
	_n=$1
	shift
	run sd seal --directory "$D/directory.json" --root "$P/root.key.pub" --report docs/examples/report.json \
		--identity docs/examples/identity.json --out "$T/$_n.sdx" --codename-out "$T/$_n.codename" --quiet "$@"
	[ "$RC" -eq 0 ] || { _diag_output; return 1; }
	run sd file "$T/$_n.sdx" --server "$URL" --ca "$D/ca.pem" --cert "$D/att/cert.pem" --key "$D/att/key.pem" \
		--root "$P/root.key.pub" --json
	[ "$RC" -eq 0 ] || { _diag_output; return 1; }
	cp "$OUT" "$T/$_n.filed.json"
}
random_file "$T/scan.bin" 3
if file_one a --evidence "$T/scan.bin" && file_one b && file_one c; then
	A=$(json_get "$T/a.filed.json" 'd["case"]')
	B=$(json_get "$T/b.filed.json" 'd["case"]')
	C=$(json_get "$T/c.filed.json" 'd["case"]')
	A_UPLOAD=$(json_get "$T/a.filed.json" 'd["upload"]')
	ok "three packages filed on $(kst -500): $A (3 MiB of evidence), $B, $C"
else
	not_ok "three packages filed on $(kst -500)"
	done_testing
fi
printf 'The agency found the complaint substantiated.\n' >"$T/summary.txt"
for c in "$A" "$B" "$C"; do
	check "refer $c" sd transition "$c" refer --agency bai --kind inspection $OFF
done
at -480 && check "day -480: outcome for $A" sd transition "$A" outcome --concluded "$(kst -481)" \
	--summary "$T/summary.txt" $OFF
at -460 && check "day -460: close $A" sd transition "$A" close $OFF
at -30 && check "day -30: outcome for $B" sd transition "$B" outcome --concluded "$(kst -31)" \
	--summary "$T/summary.txt" $OFF
at -10 && check "day -10: close $B" sd transition "$B" close $OFF
at 0 || done_testing
check "today: $A's whistleblower consents to the Commission" sd consent grant $WB --codename-file "$T/a.codename" \
	--package "$T/a.sdx" --scope commission --expires 30d --yes

# --- retention_days 0, the default: nothing is ever due ---

expect_exit 0 "retention_days 0: the dry run runs" sdd retention --dir "$D" --dry-run
if grep -q "retention_days is 0" "$OUT" && ! grep -q "$A" "$OUT"; then ok "  and says nothing is due"; else not_ok "  and says nothing is due"; _diag_output; fi
expect_exit 0 "retention_days 0: the real run runs" sdd retention --dir "$D" --json
jtrue "  and destroys nothing" "$OUT" 'd["cases"] == [] and d["destroyed"] == 0 and d["retention_days"] == 0'

# --- retention_days 100: the dry run lists A alone and changes nothing ---

restart_with 100
backup b0 || done_testing
expect_exit 0 "retention_days 100: the dry run" sdd retention --dir "$D" --dry-run
if grep -q "^$A  closed $(kst -460)  [0-9]* bytes$" "$OUT" && ! grep -q "$B\|$C" "$OUT" &&
	grep -q "^total: 1 case, [0-9]* bytes would be destroyed" "$OUT"; then
	ok "  lists $A (closed $(kst -460)) alone, with its bytes and a total"
else
	not_ok "  lists $A (closed $(kst -460)) alone, with its bytes and a total"
	_diag_output
fi
expect_exit 0 "the dry run, --json" sdd retention --dir "$D" --dry-run --json
jtrue "  one case, more than 3 MiB, nothing destroyed" "$OUT" \
	'd["dry_run"] is True and [c["case"] for c in d["cases"]] == ["'"$A"'"] and d["cases"][0]["bytes"] > 3 << 20
	 and d["total_bytes"] == d["cases"][0]["bytes"] and d["destroyed"] == 0 and d["cases"][0]["state"] == "closed"'
backup b1 || done_testing
keys_of b0 | grep -v '^log_heads \|^meta ' >"$T/k0"
keys_of b1 | grep -v '^log_heads \|^meta ' >"$T/k1"
if [ -s "$T/k0" ] && cmp -s "$T/k0" "$T/k1"; then ok "  the store is unchanged: every key of every database as before"; else not_ok "  the store is unchanged"; diff "$T/k0" "$T/k1" | head -5; fi
expect_exit 0 "  $A is still there" sd case "$A" $OFFC

# --- the real run destroys A ---

expect_exit 0 "retention_days 100: the real run" sdd retention --dir "$D"
if grep -q "^$A  closed $(kst -460)  [0-9]* bytes  destroyed$" "$OUT" && ! grep -q "$B\|$C" "$OUT" &&
	grep -q "^total: 1 case, [0-9]* bytes destroyed" "$OUT"; then
	ok "  destroys $A alone, and says so"
else
	not_ok "  destroys $A alone, and says so"
	_diag_output
fi
backup b2 || done_testing

# Every key that names A: its case number, its upload id, its header digest.
A_HEX=$(hex "$A")
"$SD_LMDB" "$T/b1" get cases "$A_HEX" | unhex >"$T/a.record.json"
A_DIGEST=$(json_get "$T/a.record.json" 'd["digest"]')
keys_of b1 >"$T/all1"
keys_of b2 >"$T/all2"
names_a() { grep -E "$A_HEX|$A_UPLOAD|$A_DIGEST" "$1"; }
before=$(names_a "$T/all1" | cut -d' ' -f1 | sort -u | tr '\n' ' ')
case "$before" in
*cases*chunks*consents*notices*receipts*uploads*) ok "before: $A's keys are in $before" ;;
*) not_ok "before: $A's keys are in cases, chunks, consents, notices, receipts, uploads ... (found in: $before)" ;;
esac
left=$(names_a "$T/all2" | grep -v "^case_events \|^case_by_locator \|^meta $(hex "destroyed/$A")$")
if [ -z "$left" ]; then
	ok "after: no key of $A's is left in any of $(dbs_of b2 | wc -l) databases but case_events, case_by_locator and the tombstone"
else
	not_ok "after: no key of $A's is left in any database"
	diag "$left"
fi
if grep -q "^meta $(hex "destroyed/$A")$" "$T/all2"; then ok "  its tombstone is there"; else not_ok "  its tombstone is there"; fi
if [ "$(grep -c "^case_events $A_HEX" "$T/all2")" -gt "$(grep -c "^case_events $A_HEX" "$T/all1")" ]; then
	ok "  and the log's index of its leaves grew by the destruction's"
else
	not_ok "  and the log's index of its leaves grew by the destruction's"
fi
s1=$(file_size "$T/b1.mdb")
s2=$(file_size "$T/b2.mdb")
if [ "$s2" -lt "$((s1 - 3 * 1024 * 1024))" ]; then ok "the backup after is compacted: $s2 bytes, 3 MiB less than $s1"; else not_ok "the backup after is compacted: $s2 < $s1 - 3 MiB"; fi

# --- what the officer, the whistleblower and the log see ---

code=$(curl_status off GET "/v1/cases/$A")
jtrue "an officer's GET of $A: 410 case_destroyed, with the date" "$OUT" \
	'"'"$code"'" == "410" and d["error"] == "case_destroyed" and d["destroyed"] == "'"$NOW"'"'
code=$(curl_status att GET "/v1/cases/$A")
if [ "$code" = 404 ]; then ok "  the attorney's: 404, as for any case not theirs"; else not_ok "  the attorney's: 404 (got $code)"; fi
expect_exit 0 "the whistleblower's status for $A" sd status $WB --codename-file "$T/a.codename" --json
jtrue "  says it was closed and destroyed under retention, on $NOW" "$OUT" \
	'[c for c in d["cases"] if c["case"] == "'"$A"'" and c["state"] == "destroyed" and c["destroyed"] == "'"$NOW"'"]'
run sd status $WB --codename-file "$T/a.codename"
if [ "$RC" -eq 0 ] && grep -q "^case $A" "$OUT" && grep -q "state *destroyed" "$OUT"; then ok "  and in text: state destroyed"; else not_ok "  and in text: state destroyed"; _diag_output; fi
printf 'I object.\n' >"$T/objection.txt"
run sd object $WB --codename-file "$T/a.codename" --text "$T/objection.txt"
if [ "$RC" -ne 0 ] && grep -q "destroyed under the retention period" "$ERR"; then ok "  an objection to it is refused: destroyed (exit $RC)"; else not_ok "  an objection to it is refused: destroyed"; _diag_output; fi
run sd status $WB --codename-file "$T/b.codename" --json
jtrue "  $B's whistleblower still sees it closed" "$OUT" '[c["state"] for c in d["cases"]] == ["closed"]'
check "publish a head" sdd audit publish --config "$D/sealdropd.conf"
last=$("$SD_LMDB" "$T/b2" keys log_leaves | tail -n 1)
leaf=$("$SD_LMDB" "$T/b2" get log_leaves "$last" | unhex)
if printf '%s' "$leaf" | grep -q '"case":"'"$A"'"' && printf '%s' "$leaf" | grep -q '"event":"case-destroyed"' &&
	printf '%s' "$leaf" | grep -q '"role":"operator"' && ! printf '%s' "$leaf" | grep -q '"actor"'; then
	ok "the audit log's last leaf: case-destroyed, $A, the operator, no actor"
else
	not_ok "the audit log's last leaf: case-destroyed, $A, the operator, no actor"
	diag "$leaf"
fi
check "sealdropd audit check passes" sdd audit check --config "$D/sealdropd.conf"
check "sealdrop audit verify passes" sd audit verify --server "$URL" --ca "$D/ca.pem" --directory "$D/directory.json" \
	--root "$P/root.key.pub" --state-file "$T/audit.state"

# --- the others are untouched; a second run destroys nothing ---

expect_exit 0 "$B (closed 10 days ago) is still there" sd case "$B" $OFFC
expect_exit 0 "$C (open) is still there" sd case "$C" $OFFC
run sd fetch "$B" $OFF --intake "$P/intake.key" --passphrase-file "$PW" --out "$T/fetch-b"
if [ "$RC" -eq 0 ] && [ -s "$T/fetch-b/report.json" ]; then ok "  and $B's package still fetches and opens"; else not_ok "  and $B's package still fetches and opens"; _diag_output; fi
expect_exit 0 "a second run" sdd retention --dir "$D" --json
jtrue "  destroys nothing" "$OUT" 'd["cases"] == [] and d["destroyed"] == 0 and d["retention_days"] == 100'
if grep -q "retention: destroyed case $A" "$SERVER_LOG"; then ok "the server's log names the destroyed case"; else not_ok "the server's log names the destroyed case"; fi

# --- the store process judges by its own clock: a front end a thousand days ahead ---

at 1000 || done_testing
expect_exit 0 "a front end 1000 days ahead: its dry run lists $B" sdd retention --dir "$D" --dry-run --json
jtrue "  (by its own date)" "$OUT" '[c["case"] for c in d["cases"]] == ["'"$B"'"]'
expect_exit 77 "  but the store process refuses to destroy it (77)" -m "store process refused" \
	sdd retention --dir "$D"
if grep -q "store process refused operation [0-9]* (case destruction)" "$SERVER_LOG"; then ok "  and the server's log says so"; else not_ok "  and the server's log says so"; fi
at 0 || done_testing
expect_exit 0 "  $B is still there" sd case "$B" $OFFC

stop_server
expect_exit 69 "with the server stopped: 69" -m "running" sdd retention --dir "$D" --dry-run
expect_exit 64 "without --dir: 64" -m "--dir is required" sdd retention --dry-run
run sdd scrub --config "$D/sealdropd.conf"
if [ "$RC" -eq 0 ]; then ok "scrub finds the store whole after the destruction"; else not_ok "scrub finds the store whole after the destruction"; _diag_output; fi
restart_with 100
expect_exit 0 "the server restarts on it, and $B is listed" sd cases $OFFC --json
jtrue "  the listing has $B and $C, not $A" "$OUT" 'sorted(c["case"] for c in d["cases"]) == ["'"$B"'", "'"$C"'"]'
stop_server
done_testing
