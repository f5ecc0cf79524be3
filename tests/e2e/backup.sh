# backup.sh — backup and restore (issue 8, item 3): `sealdropd backup` has the running
# server's store process write a compacted copy of the store while filings go on (one
# backup at a time), with its sidecar, `sealdropd restore` installs it (keeping the old store
# aside) and appends the signed epoch statement "restored to size N" to the audit log;
# every case filed before the backup is there after the restore, `sealdropd audit check`
# passes, and a client that saw a later head reports the epoch with a warning (exit 0),
# while a shorter log without an epoch statement is still a rollback (65).
. "$(dirname "$0")/lib.sh"

# --- help and usage (no server needed) ---
check "backup --help" sdd backup --help
if grep -q -- '--out FILE' "$OUT"; then ok "  it documents --out"; else not_ok "  it documents --out"; fi
check "restore --help" sdd restore --help
if grep -q 'before-restore' "$OUT" && grep -q 'epoch' "$OUT"; then ok "  it documents the kept store and the epoch"; else not_ok "  it documents the kept store and the epoch"; fi
expect_exit 64 "backup without --out is a usage error" -m '--out' sdd backup --config /nonexistent
expect_exit 64 "restore without --dir is a usage error" -m '--dir' sdd restore --from /nonexistent

mkserver --head-interval 86400 || done_testing
CONF=$D/sealdropd.conf
STATE=$T/state.json

publish() {
	run sdd audit publish --config "$CONF"
	[ "$RC" -eq 0 ] || { not_ok "set-up: audit publish"; _diag_output; }
}
av() { # [options...]
	sd audit verify --server "$URL" --ca "$D/ca.pem" --directory "$D/directory.json" --root "$P/root.key.pub" \
		--state-file "$STATE" "$@"
}
head_size() {
	curl -s --cacert "$D/ca.pem" "$URL/v1/log/head" >"$T/h.json"
	json_get "$T/h.json" 'd["head"]["size"]' 2>/dev/null
}
file_one() { # name: seals and files $T/NAME.sdx; its case number in $T/NAME.case
	run sd seal --directory "$D/directory.json" --root "$P/root.key.pub" --report docs/examples/report.json \
		--identity docs/examples/identity.json --out "$T/$1.sdx" --codename-out "$T/$1.codename" --quiet
	[ "$RC" -eq 0 ] || { not_ok "set-up: seal $1"; _diag_output; return 1; }
	run sd file "$T/$1.sdx" --server "$URL" --ca "$D/ca.pem" --cert "$D/att/cert.pem" --key "$D/att/key.pem" \
		--root "$P/root.key.pub"
	[ "$RC" -eq 0 ] || { not_ok "set-up: file $1"; _diag_output; return 1; }
	json_get "$T/$1.sdx.receipt.json" 'd["receipt"]["case"]' >"$T/$1.case"
}

# --- cases before the backup, a head, a client that saw it ---
for n in 1 2 3; do file_one "before$n" || done_testing; done
publish
check "audit verify: the first head" av

# --- one backup at a time (the control socket's ops, as sealdropd backup sends them) ---
ctl() { # op...: each op's answer on a line of its own
	"$PY" -c 'import socket, sys
for op in sys.argv[2:]:
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(20)
    s.connect(sys.argv[1] + "/control.sock")
    s.sendall(b"{\"op\": \"" + op.encode() + b"\"}\n")
    b = b""
    while not b.endswith(b"\n"):
        c = s.recv(65536)
        if not c:
            break
        b += c
    sys.stdout.write(b.decode())' "$D" "$@"
}
mkdir -p "$D/backup" && chown --reference="$D/store" "$D/backup" 2>/dev/null
ctl backup backup >"$T/two.txt"
if [ "$(sed -n 1p "$T/two.txt" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["state"])')" = running ] &&
	sed -n 2p "$T/two.txt" | grep -q '"refused"'; then
	ok "a second backup while one runs is refused"
else
	not_ok "a second backup while one runs is refused"
	diag "$(cat "$T/two.txt")"
fi
ctl backup_status >"$T/status.txt"
jtrue "  backup_status: done, the file named" "$T/status.txt" 'd["state"] == "done" and d["file"].startswith("sealdropd-backup-")'
rm -f "$D"/backup/sealdropd-backup-*

# --- the backup, hot, under load: a loop files packages meanwhile ---
for n in 1 2 3 4 5 6 7 8 9 10; do
	run sd seal --directory "$D/directory.json" --root "$P/root.key.pub" --report docs/examples/report.json \
		--identity docs/examples/identity.json --out "$T/load$n.sdx" --codename-out "$T/load$n.codename" --quiet
	[ "$RC" -eq 0 ] || { not_ok "set-up: seal load$n"; done_testing; }
done
: >"$T/acked"
(
	for n in 1 2 3 4 5 6 7 8 9 10; do
		if "$SEALDROP" file "$T/load$n.sdx" --server "$URL" --ca "$D/ca.pem" --cert "$D/att/cert.pem" \
			--key "$D/att/key.pem" --root "$P/root.key.pub" </dev/null >/dev/null 2>&1; then
			echo "load$n" >>"$T/acked"
		fi
	done
) &
LOAD_PID=$!
trap '[ -n "$LOAD_PID" ] && kill "$LOAD_PID" 2>/dev/null; _server_cleanup' EXIT
while [ "$(wc -l <"$T/acked")" -lt 3 ] && kill -0 "$LOAD_PID" 2>/dev/null; do sleep 0.05; done
cp "$T/acked" "$T/acked.before" # every case acknowledged before the backup started
check "backup while the server runs and files (through its store process)" \
	sdd backup --config "$CONF" --out "$T/backup.mdb"
wait "$LOAD_PID"
LOAD_PID=""
if [ "$(wc -l <"$T/acked")" -eq 10 ]; then ok "  filings went on: all 10 acknowledged"; else not_ok "  filings went on: all 10 acknowledged ($(wc -l <"$T/acked"))"; fi
check "  the server still runs" kill -0 "$SERVER_PID"
check "  the backup file is written" test -s "$T/backup.mdb"
if [ "$(file_mode "$T/backup.mdb")" = 600 ] && [ "$(file_mode "$T/backup.mdb.json")" = 600 ]; then ok "  mode 0600, with its sidecar"; else not_ok "  mode 0600, with its sidecar"; fi
N=$(json_get "$T/backup.mdb.json" 'd["log_size"]')
jtrue "  the sidecar names the log size, the date and the directory" "$T/backup.mdb.json" \
	'd["v"] == 1 and d["log_size"] > 0 and len(d["date"]) == 10 and d["dir"] == "'"$D"'"'
check "  nothing is left in DIR/backup" sh -c "[ -z \"\$(ls -A '$D/backup')\" ]"
check "  no temporary file is left" sh -c "! ls -a '$T' | grep -q 'backup.mdb.*tmp'"
stop_server
check "backup of the stopped store (by the command itself)" sdd backup --config "$CONF" --out "$T/offline.mdb"
jtrue "  its sidecar" "$T/offline.mdb.json" 'd["log_size"] >= '"$N"
start_server "$CONF" || { not_ok "set-up: restart"; done_testing; }

# --- more cases after the backup; the client sees a later head of size M > N ---
for n in 1 2; do file_one "after$n" || done_testing; done
publish
M=$(head_size)
check "audit verify: the later head (size $M)" av
if [ "$M" -gt "$N" ]; then ok "  the later head ($M) is longer than the backup's log ($N)"; else not_ok "  the later head ($M) is longer than the backup's log ($N)"; fi
cp "$STATE" "$T/state.M"

# --- a rollback without an epoch statement is still an attack ---
stop_server
cp -a "$D/store/data.mdb" "$T/data.mdb.current"
cp "$T/backup.mdb" "$D/store/data.mdb"
start_server "$CONF" || { not_ok "set-up: start on the copied store"; done_testing; }
publish
expect_exit 65 "a shorter log without an epoch statement: rolled back" -m 'rolled back' av
check "  the state file is unchanged" cmp -s "$STATE" "$T/state.M"
stop_server
cp "$T/data.mdb.current" "$D/store/data.mdb"

# --- restore ---
start_server "$CONF" || { not_ok "set-up: start again"; done_testing; }
expect_exit 77 "restore while the server runs is refused" -m 'running' sdd restore --from "$T/backup.mdb" --dir "$D"
stop_server
expect_exit 66 "restore from a missing file" -m 'nonexistent' sdd restore --from "$T/nonexistent" --dir "$D"
head -c 100000 /dev/urandom >"$T/junk.mdb"
run sdd restore --from "$T/junk.mdb" --dir "$D"
if [ "$RC" -ne 0 ] && cmp -s "$D/store/data.mdb" "$T/data.mdb.current"; then ok "restore of a file that is not a store fails and puts the old store back"; else not_ok "restore of a file that is not a store fails and puts the old store back"; _diag_output; fi
rm -f "$D"/store/data.mdb.before-restore-*
check "restore the backup" sdd restore --from "$T/backup.mdb" --dir "$D" --json
jtrue "  restored to size $N" "$OUT" 'd["restored_size"] == '"$N"' and d["kept_aside"].startswith("data.mdb.before-restore-")'
ASIDE=$D/store/$(json_get "$OUT" 'd["kept_aside"]')
check "  the replaced store is kept aside, unchanged" cmp -s "$ASIDE" "$T/data.mdb.current"
check "sealdropd audit check passes on the restored log (the epoch leaf parses)" sdd audit check --config "$CONF"

start_server "$CONF" || { not_ok "set-up: start on the restored store"; diag "$(tail -n 5 "$SERVER_LOG")"; done_testing; }
publish
for n in 1 2 3; do echo "before$n"; done >>"$T/acked.before"
for name in $(cat "$T/acked.before"); do
	[ -s "$T/$name.case" ] || json_get "$T/$name.sdx.receipt.json" 'd["receipt"]["case"]' >"$T/$name.case"
	CASE=$(cat "$T/$name.case")
	run sd file "$T/$name.sdx" --server "$URL" --ca "$D/ca.pem" --cert "$D/att/cert.pem" --key "$D/att/key.pem" \
		--root "$P/root.key.pub"
	if [ "$RC" -eq 0 ] && [ "$(json_get "$T/$name.sdx.receipt.json" 'd["receipt"]["case"]')" = "$CASE" ]; then
		ok "case $CASE, filed before the backup, is there (filing again answers its receipt)"
	else
		not_ok "case $CASE, filed before the backup, is there (filing again answers its receipt)"
		_diag_output
	fi
done
check "sealdropd audit check passes with the server running" sdd audit check --config "$CONF"

# --- the client that saw the later head: the epoch, with a warning, not an attack ---
expect_exit 0 "audit verify with the head of size $M: accepted" av --json
if grep -q 'warning: the audit log was RESTORED from a backup' "$ERR" && grep -q "restored to $N leaves" "$ERR"; then ok "  with a warning naming the size $N"; else not_ok "  with a warning naming the size $N"; _diag_output; fi
jtrue "  --json: the epoch, not consistent" "$OUT" \
	'd["epoch"]["restored_size"] == '"$N"' and d["epoch"]["previous_size"] == '"$M"' and not d["consistent"]'
expect_exit 0 "audit verify once more: consistent from the new head" av
if grep -q 'consistent with the head' "$OUT" && ! grep -q 'RESTORED' "$ERR"; then ok "  no warning any more"; else not_ok "  no warning any more"; _diag_output; fi
cp "$T/state.M" "$STATE"
expect_exit 0 "  the human output says RESTORED" av
if grep -q "RESTORED on .* to $N leaves" "$OUT"; then ok "  in the history line"; else not_ok "  in the history line"; _diag_output out; fi

stop_server
done_testing
