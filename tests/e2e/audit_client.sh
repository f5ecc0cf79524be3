# audit_client.sh — the client side of the audit log (issue 4) against the real server:
# `sealdrop audit verify` keeps the last verified head and refuses a log that was rolled
# back (a restored copy of the store), forked (a clone of the server, signing with the
# same log key, that went another way) or rewritten, leaving its state file untouched;
# `sealdrop receipt verify --server` finds a filing in the log once a head covers it, and
# not a filing from the fork; `sealdrop audit show` lists a case's events for an officer,
# each checked by its inclusion proof. Heads are published on demand with
# `sealdropd audit publish` (the schedule is hourly).
. "$(dirname "$0")/lib.sh"

# --- help and usage (no server needed) ---
check "audit --help names verify and show" sd audit --help
if grep -q 'verify' "$OUT" && grep -q 'show' "$OUT"; then ok "  it lists both"; else not_ok "  it lists both"; fi
check "audit verify --help" sd audit verify --help
if grep -q 'log-heads/DEPLOYMENT.json' "$OUT" && grep -q -- '--state-file' "$OUT"; then ok "  it documents the state file"; else not_ok "  it documents the state file"; fi
check "audit show --help" sd audit show --help
if grep -q -- '--cert' "$OUT" && grep -q -- '--directory' "$OUT"; then ok "  it documents --cert and --directory"; else not_ok "  it documents --cert and --directory"; fi
check "receipt verify --help" sd receipt verify --help
if grep -q -- '--server URL' "$OUT" && grep -q 'audit log' "$OUT"; then ok "  it documents --server"; else not_ok "  it documents --server"; fi
expect_exit 64 "audit verify without --server is a usage error" -m '--server' sd audit verify --ca x --directory x --root x
expect_exit 64 "audit show with a malformed case number is a usage error" -m 'case number' \
	sd audit show 2026-1 --server https://127.0.0.1:1 --ca x --cert x --key x
expect_exit 64 "receipt verify --server without --ca is a usage error" -m '--ca' \
	sd receipt verify x --directory x --root x --server https://127.0.0.1:1

# Heads come only from `sealdropd audit publish` here: the schedule is set to daily.
mkserver --head-interval 86400 || done_testing
CONF=$D/sealdropd.conf
STATE=$XDG_STATE_HOME/sealdrop/log-heads/demo.json
PID_B=""
trap '[ -n "$PID_B" ] && kill -KILL "$PID_B" 2>/dev/null; _server_cleanup' EXIT

publish() { # [conf]
	run sdd audit publish --config "${1:-$CONF}"
	[ "$RC" -eq 0 ] || { not_ok "set-up: audit publish ${1:-$CONF}"; _diag_output; }
}
av() { # [options...]: audit verify against server A unless --server comes again
	sd audit verify --server "$URL" --ca "$D/ca.pem" --directory "$D/directory.json" --root "$P/root.key.pub" "$@"
}
head_size() { # url
	curl -s --cacert "$D/ca.pem" "$1/v1/log/head" >"$T/h.json"
	json_get "$T/h.json" 'd["head"]["size"]' 2>/dev/null
}
seal_file() { # package url servdir
	run sd seal --directory "$D/directory.json" --root "$P/root.key.pub" --report docs/examples/report.json \
		--identity docs/examples/identity.json --out "$1" --codename-out "$1.codename" --quiet
	[ "$RC" -eq 0 ] || { not_ok "set-up: seal $1"; _diag_output; return 1; }
	run sd file "$1" --server "$2" --ca "$3/ca.pem" --cert "$3/att/cert.pem" --key "$3/att/key.pem" \
		--root "$P/root.key.pub"
	[ "$RC" -eq 0 ] || { not_ok "set-up: file $1"; _diag_output; return 1; }
}
rv() { # receipt [options...]
	_r=$1
	shift
	sd receipt verify "$_r" --directory "$D/directory.json" --root "$P/root.key.pub" "$@"
}
same_file() { # description a b
	if cmp -s "$2" "$3"; then ok "$1"; else not_ok "$1"; fi
}

# --- the first head: written to the state file as served ---
publish
N1=$(head_size "$URL")
expect_exit 0 "audit verify: the first head verifies" av
if grep -q 'first head seen: nothing to compare' "$OUT"; then ok "  it says there was nothing to compare"; else not_ok "  it says there was nothing to compare"; _diag_output out; fi
check "  the state file is written" test -s "$STATE"
if [ "$(file_mode "$STATE")" = 600 ]; then ok "  mode 0600"; else not_ok "  mode 0600 ($(file_mode "$STATE"))"; fi
if [ "$(file_mode "$XDG_STATE_HOME/sealdrop/log-heads")" = 700 ] && [ "$(file_mode "$XDG_STATE_HOME/sealdrop")" = 700 ]; then
	ok "  its directories are 0700"
else
	not_ok "  its directories are 0700"
fi
curl -s --cacert "$D/ca.pem" "$URL/v1/log/head" >"$T/served.json"
same_file "  it holds the head exactly as the server serves it" "$STATE" "$T/served.json"
check "  sealdropd audit check --expect-head accepts it" sdd audit check --config "$CONF" --expect-head "$STATE"
expect_exit 0 "audit verify again with the same head" av
if grep -q "consistent with the head of size $N1 seen before" "$OUT"; then ok "  consistent with the head of size $N1"; else not_ok "  consistent with the head of size $N1"; _diag_output out; fi

# A copy of the store at this head (for the rollback), and a clone of the whole server that
# will go another way with the same log key (the fork).
stop_server
cp -a "$D/store" "$T/store.old"
D2=$T/d2
PORT2=$(free_port)
URL2=https://127.0.0.1:$PORT2
cp -a "$D" "$D2"
rm -f "$D2/control.sock"
sed -e "s|^dir .*|dir $D2|" -e "s|^listen .*|listen 127.0.0.1:$PORT2|" "$CONF" >"$D2/sealdropd.conf"
start_server "$CONF" || { not_ok "set-up: restart server A"; done_testing; }
PID_A=$SERVER_PID
start_server "$D2/sealdropd.conf" "$T/server2.log" || { not_ok "set-up: start the clone B"; done_testing; }
PID_B=$SERVER_PID
SERVER_PID=$PID_A

# --- a filing: not in a published head yet, then in the log ---
seal_file "$T/a.sdx" "$URL" "$D" || done_testing
RA=$T/a.sdx.receipt.json
LEAF=$(json_get "$RA" 'd["receipt"]["leaf_index"]')
CASE=$(json_get "$RA" 'd["receipt"]["case"]')
expect_exit 69 "receipt verify --server before a head covers the filing: try again later" \
	-m "leaf $LEAF" -m 'not in a published head yet' rv "$RA" --server "$URL" --ca "$D/ca.pem"
run sdd enroll --dir "$D" --role officer --name "Officer Park" --out "$D/off"
[ "$RC" -eq 0 ] || { not_ok "set-up: enroll the officer"; _diag_output; }
publish
N2=$(head_size "$URL")
expect_exit 0 "receipt verify --server after the head: the filing is in the log" rv "$RA" --server "$URL" --ca "$D/ca.pem"
if grep -q "in the audit log: leaf $LEAF of the head of size $N2" "$OUT"; then ok "  leaf $LEAF of the head of size $N2"; else not_ok "  leaf $LEAF of the head of size $N2"; _diag_output out; fi
expect_exit 0 "  --json" rv "$RA" --server "$URL" --ca "$D/ca.pem" --json
if [ "$(json_get "$OUT" 'd["log"]["included"] and d["log"]["leaf_index"] == '"$LEAF"' and d["log"]["head_size"] == '"$N2")" = true ]; then
	ok "  --json has log.included, the leaf and the head's size"
else
	not_ok "  --json has log.included, the leaf and the head's size"
fi
expect_exit 0 "receipt verify without --server stays offline" rv "$RA"
if grep -q 'audit log' "$OUT"; then not_ok "  and says nothing of the log"; else ok "  and says nothing of the log"; fi
json_edit "$RA" "$T/moved.receipt.json" 'd["receipt"]["leaf_index"] = 0'
expect_exit 65 "a receipt whose leaf_index was changed fails its signature" -m 'signature' \
	rv "$T/moved.receipt.json" --server "$URL" --ca "$D/ca.pem"

# --- the log grew: consistency with the head seen before ---
expect_exit 0 "audit verify after more events: consistent" av --json
if [ "$(json_get "$OUT" 'd["previous"]["size"] == '"$N1"' and d["size"] == '"$N2"' and d["consistent"]')" = true ]; then
	ok "  from size $N1 to $N2"
else
	not_ok "  from size $N1 to $N2"
	_diag_output out
fi
same_file "  the state file holds the new head" "$STATE" "$T/h.json"
cp "$STATE" "$T/state.N2"

# --- audit show ---
show() { # who case [options...]
	_who=$1
	_case=$2
	shift 2
	sd audit show "$_case" --server "$URL" --ca "$D/ca.pem" --cert "$D/$_who/cert.pem" --key "$D/$_who/key.pem" "$@"
}
expect_exit 0 "audit show as the officer" show off "$CASE"
if grep -Eq "^ *$LEAF +[0-9-]+ +filing +attorney " "$OUT"; then ok "  lists the filing at leaf $LEAF"; else not_ok "  lists the filing at leaf $LEAF"; _diag_output out; fi
expect_exit 0 "audit show --directory --root checks each event" show off "$CASE" --directory "$D/directory.json" \
	--root "$P/root.key.pub"
if grep -q "verified in the head of size $N2" "$OUT"; then ok "  verified in the head of size $N2"; else not_ok "  verified in the head of size $N2"; _diag_output out; fi
expect_exit 0 "  --json" show off "$CASE" --directory "$D/directory.json" --root "$P/root.key.pub" --json
if [ "$(json_get "$OUT" 'd["verified"] and d["events"][0]["index"] == '"$LEAF"' and d["events"][0]["event"]["event"] == "filing"')" = true ]; then
	ok "  --json lists the verified filing"
else
	not_ok "  --json lists the verified filing"
fi
expect_exit 77 "audit show as the attorney is refused" -m 'role' show att "$CASE"
expect_exit 0 "audit show of a case without events" show off 2026-000999
if grep -q 'no published events for 2026-000999' "$OUT"; then ok "  says there are none yet"; else not_ok "  says there are none yet"; fi

# --- wrong root, tampered state, unreachable server ---
mkkey root "$T/other-root.key"
expect_exit 65 "audit verify with another root key is refused" -m 'root' av --root "$T/other-root.key.pub"
same_file "  the state file is untouched" "$STATE" "$T/state.N2"
cp "$STATE" "$T/flipped.json"
flip_byte "$T/flipped.json" 120
cp "$T/flipped.json" "$STATE"
expect_exit 65 "a state file with a flipped bit is refused" -m 'state file' av
same_file "  and left as it was" "$STATE" "$T/flipped.json"
json_edit "$T/state.N2" "$STATE" 'd["head"]["size"] = 1'
cp "$STATE" "$T/edited.json"
expect_exit 65 "a state file whose size was edited fails its signature" -m 'state file' -m 'signature' av
same_file "  and is left as it was" "$STATE" "$T/edited.json"
cp "$T/state.N2" "$STATE"
expect_exit 69 "audit verify against a server that is not there: unavailable" \
	av --server "https://127.0.0.1:$(free_port)"

# --- the fork: the clone B signs with the same log key but went another way ---
seal_file "$T/b.sdx" "$URL2" "$D2" || done_testing
RB=$T/b.sdx.receipt.json
LEAFB=$(json_get "$RB" 'd["receipt"]["leaf_index"]')
publish "$D2/sealdropd.conf"
expect_exit 0 "the fork's receipt is in the fork's log" rv "$RB" --server "$URL2" --ca "$D/ca.pem"
expect_exit 65 "the fork's receipt is not in server A's log" -m "not in the server's log at leaf $LEAFB" \
	rv "$RB" --server "$URL" --ca "$D/ca.pem"
i=0
while [ "$(head_size "$URL2")" -lt "$N2" ] && [ $i -lt 20 ]; do
	run sdd enroll --dir "$D2" --role custodian --name "Custodian $i" --out "$D2/c$i"
	publish "$D2/sealdropd.conf"
	i=$((i + 1))
done
if [ "$(head_size "$URL2")" = "$N2" ]; then ok "set-up: the fork's head has $N2 leaves too"; else not_ok "set-up: the fork's head has $N2 leaves too"; fi
expect_exit 65 "the fork's head of the same size is refused" -m 'another root' -m 'forked' av --server "$URL2"
same_file "  the state file is untouched" "$STATE" "$T/state.N2"
run sdd enroll --dir "$D2" --role custodian --name "Custodian more" --out "$D2/cmore"
publish "$D2/sealdropd.conf"
expect_exit 65 "the fork's bigger head fails the consistency proof" -m 'not an extension' av --server "$URL2"
same_file "  the state file is untouched" "$STATE" "$T/state.N2"
SERVER_PID=$PID_B
stop_server
PID_B=""
SERVER_PID=$PID_A
expect_exit 0 "server A still verifies against the kept head" av
same_file "  the state file is the same head" "$STATE" "$T/state.N2"

# --- the rollback: server A restarted on the copy of its store taken at size $N1 ---
stop_server
rm -rf "$D/store"
cp -a "$T/store.old" "$D/store"
start_server "$CONF" || { not_ok "set-up: restart A on the old store"; done_testing; }
if [ "$(head_size "$URL")" = "$N1" ]; then ok "set-up: the restored server's head has $N1 leaves"; else not_ok "set-up: the restored server's head has $N1 leaves"; fi
expect_exit 65 "audit verify refuses the rolled-back log" -m "has $N1 leaves, fewer than the $N2" -m 'rolled back' av
same_file "  the state file is untouched" "$STATE" "$T/state.N2"
cp "$T/state.N2" "$T/kept.json"
expect_exit 65 "  the same with --state-file" -m 'rolled back' av --state-file "$T/kept.json"
same_file "  which is untouched" "$T/kept.json" "$T/state.N2"
mkdir "$T/fresh"
expect_exit 0 "a new --state-file is written" av --state-file "$T/fresh/head.json"
if [ "$(file_mode "$T/fresh/head.json")" = 600 ] && grep -q 'first head seen' "$OUT"; then ok "  mode 0600, first head"; else not_ok "  mode 0600, first head"; fi
stop_server
done_testing
