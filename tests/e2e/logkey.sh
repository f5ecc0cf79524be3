# logkey.sh — the log key's rotation as a logged event (issue 8, item 4): `sealdropd log-key
# new` makes the next key while the server runs, the root key holder signs directory
# version 2 naming it as keys.log and the old key under keys.log_retired, and `sealdropd
# log-key rotate` (server stopped) appends the log-key-rotated and directory-installed
# leaves, signs the handover head with the old key, installs the directory and puts the new
# key in place. Afterwards the server starts and serves version 2, a receipt signed by the
# old key still verifies, new receipts and heads are signed by the new key, `sealdrop audit
# verify` passes across the rotation with the new directory and names the unknown signer
# with the old one, and `sealdropd audit check` passes. Refused: a directory that does not
# name log.key.next, one of a lower version, one that does not retire the current key,
# and a rotation while the server runs — each leaving log.key and the log untouched.
. "$(dirname "$0")/lib.sh"

# --- help and usage (no server needed) ---
check "log-key --help" sdd log-key --help
if grep -q 'rotate' "$OUT" && grep -q 'new' "$OUT"; then ok "  it names new and rotate"; else not_ok "  it names new and rotate"; fi
check "log-key rotate --help" sdd log-key rotate --help
if grep -q -- '--directory FILE' "$OUT"; then ok "  it documents --directory"; else not_ok "  it documents --directory"; fi
expect_exit 64 "log-key without a subcommand is a usage error" -m 'new' sdd log-key
expect_exit 64 "log-key rotate without --directory is a usage error" -m '--directory' sdd log-key rotate --dir /nonexistent
expect_exit 64 "log-key new without --dir is a usage error" -m '--dir' sdd log-key new

mkserver --head-interval 86400 || done_testing
CONF=$D/sealdropd.conf
STATE=$T/state.json

publish() {
	run sdd audit publish --config "$CONF"
	[ "$RC" -eq 0 ] || { not_ok "set-up: audit publish"; _diag_output; }
}
av() { # directory [options...]
	_av_dir=$1
	shift
	sd audit verify --server "$URL" --ca "$D/ca.pem" --directory "$_av_dir" --root "$P/root.key.pub" \
		--state-file "$STATE" "$@"
}
file_one() { # name: seals and files $T/NAME.sdx (receipt $T/NAME.sdx.receipt.json)
	run sd seal --directory "$D/directory.json" --root "$P/root.key.pub" --report docs/examples/report.json \
		--identity docs/examples/identity.json --out "$T/$1.sdx" --codename-out "$T/$1.codename" --quiet
	[ "$RC" -eq 0 ] || { not_ok "set-up: seal $1"; _diag_output; return 1; }
	run sd file "$T/$1.sdx" --server "$URL" --ca "$D/ca.pem" --cert "$D/att/cert.pem" --key "$D/att/key.pem" \
		--root "$P/root.key.pub"
	[ "$RC" -eq 0 ] || { not_ok "set-up: file $1"; _diag_output; return 1; }
}
receipt_key() { # receipt file: the key id that signed it
	json_get "$1" 'd["signature"]["key_id"]'
}
leaves() { # the offline audit check's leaf count (server stopped)
	sdd audit check --config "$CONF" --json 2>/dev/null | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["leaves"])'
}
sign_dir() { # out version log-pub [directory create options...]
	_out=$1
	_ver=$2
	_log=$3
	shift 3
	run sd directory create --deployment demo --intake "$P/intake.key.pub" --identity "$P/identity.key.pub" \
		--log "$_log" --tls-ca "$D/ca.pem" --root "$P/root.key" --passphrase-file "$PW" --version "$_ver" \
		--out "$_out" "$@"
	[ "$RC" -eq 0 ] || { not_ok "set-up: directory create $_out"; _diag_output; return 1; }
}

run sdd enroll --dir "$D" --role officer --name "Officer Lee" --out "$D/off"
[ "$RC" -eq 0 ] || { not_ok "set-up: enroll the officer"; _diag_output; done_testing; }

# --- before: a filing signed by key 1, a head the client verified and kept ---
file_one r1 || done_testing
publish
check "audit verify before the rotation" av "$D/directory.json"
cp "$STATE" "$T/state.before"
curl -s --cacert "$D/ca.pem" "$URL/v1/log/head" >"$T/head.before.json"
cp "$D/directory.json" "$T/dir-v1.json"
cp "$D/log.key" "$T/old.key"
cp "$D/log.key.pub" "$T/old.key.pub"
OLD_ID=$(receipt_key "$T/r1.sdx.receipt.json")
jtrue "  receipt R1 is signed by the log key of directory version 1" "$T/head.before.json" \
	'd["signature"]["key_id"] == "'"$OLD_ID"'"'

# --- log-key new, with the server running ---
check "log-key new while the server runs" sdd log-key new --dir "$D" --json
NEW_ID=$(json_get "$OUT" 'd["next_key_id"]')
if [ "$(file_mode "$D/log.key.next")" = 600 ] && [ -s "$D/log.key.next.pub" ]; then ok "  log.key.next is 0600, beside its public key"; else not_ok "  log.key.next is 0600, beside its public key"; fi
if [ -n "$NEW_ID" ] && [ "$NEW_ID" != "$OLD_ID" ]; then ok "  a new key id ($NEW_ID)"; else not_ok "  a new key id ($NEW_ID, old $OLD_ID)"; fi
cp "$D/log.key.next.pub" "$T/new.key.pub"
cp "$D/log.key.next" "$T/next.key.before"
expect_exit 73 "a second log-key new is refused" -m 'log.key.next' sdd log-key new --dir "$D"
check "  and leaves log.key.next as it was" cmp -s "$D/log.key.next" "$T/next.key.before"

# --- the root key holder signs version 2 (and the directories that must be refused) ---
sign_dir "$T/dir-v2.json" 2 "$T/new.key.pub" --log-retired "$T/old.key.pub" || done_testing
check "directory verify shows the retired log key" sd directory verify "$T/dir-v2.json" --root "$P/root.key.pub"
if grep -q "retired log *$OLD_ID" "$OUT"; then ok "  retired log $OLD_ID"; else not_ok "  retired log $OLD_ID"; _diag_output out; fi
mkdir -p "$T/other"
run sd keygen --kind log --out "$T/other/log.key" --passphrase-file "$PW" --kdf interactive
sign_dir "$T/dir-wrong.json" 2 "$T/other/log.key.pub" --log-retired "$T/old.key.pub" || done_testing
sign_dir "$T/dir-low.json" 1 "$T/new.key.pub" --log-retired "$T/old.key.pub" || done_testing
sign_dir "$T/dir-noretire.json" 2 "$T/new.key.pub" || done_testing
expect_exit 64 "directory create: --log-retired without --log is refused" -m 'log-retired' \
	sd directory create --deployment demo --intake "$P/intake.key.pub" --identity "$P/identity.key.pub" \
	--log-retired "$T/old.key.pub" --root "$P/root.key" --passphrase-file "$PW" --out "$T/x.json"
expect_exit 65 "directory create: the current log key listed as retired is refused" -m 'current log key' \
	sd directory create --deployment demo --intake "$P/intake.key.pub" --identity "$P/identity.key.pub" \
	--log "$T/old.key.pub" --log-retired "$T/old.key.pub" --root "$P/root.key" --passphrase-file "$PW" \
	--out "$T/x.json"

# --- refused while the server runs ---
run sdd directory install --dir "$D" "$T/dir-v2.json"
if [ "$RC" -ne 0 ] && grep -q "log key" "$ERR"; then ok "live directory install of a directory that drops the server's log key is refused"; else not_ok "live directory install of a directory that drops the server's log key is refused (exit $RC)"; _diag_output; fi
expect_exit 77 "log-key rotate while the server runs is refused" -m 'running' \
	sdd log-key rotate --dir "$D" --directory "$T/dir-v2.json"
stop_server
N0=$(leaves)

# --- refused with a directory that does not fit; nothing changes ---
unchanged() { # description
	if cmp -s "$D/log.key" "$T/old.key" && cmp -s "$D/directory.json" "$T/dir-v1.json" &&
		[ -f "$D/log.key.next" ] && [ "$(leaves)" = "$N0" ]; then
		ok "  $1: log.key, the directory and the log ($N0 leaves) unchanged"
	else
		not_ok "  $1: log.key, the directory and the log ($N0 leaves) unchanged"
	fi
}
expect_exit 65 "rotate with a directory whose log key is not log.key.next is refused" -m 'log.key.next' \
	sdd log-key rotate --dir "$D" --directory "$T/dir-wrong.json"
unchanged "another log key"
expect_exit 65 "rotate with a directory of a lower version is refused" -m 'version' \
	sdd log-key rotate --dir "$D" --directory "$T/dir-low.json"
unchanged "lower version"
expect_exit 65 "rotate with a directory that does not retire the current key is refused" -m 'log_retired' \
	sdd log-key rotate --dir "$D" --directory "$T/dir-noretire.json"
unchanged "current key not retired"

# --- the rotation ---
check "log-key rotate" sdd log-key rotate --dir "$D" --directory "$T/dir-v2.json" --json
cp "$OUT" "$T/rotate.json"
jtrue "  it names both keys and the directory version" "$T/rotate.json" \
	'd["old_key_id"] == "'"$OLD_ID"'" and d["new_key_id"] == "'"$NEW_ID"'" and d["directory_version"] == 2 and not d["resumed"]'
N1=$(leaves)
if [ "$N1" = "$((N0 + 2))" ]; then ok "  two leaves appended ($N0 -> $N1)"; else not_ok "  two leaves appended ($N0 -> $N1)"; fi
check "  log.key.next is gone" test ! -e "$D/log.key.next"
check "  log.key.pub is the new key's" cmp -s "$D/log.key.pub" "$T/new.key.pub"
check "  DIR/directory.json is version 2" cmp -s "$D/directory.json" "$T/dir-v2.json"
if [ "$(file_mode "$D/log.key")" = 600 ]; then ok "  log.key is 0600"; else not_ok "  log.key is 0600"; fi
run "$PY" -c 'import os, sys
secret = open(sys.argv[1], "rb").read()[16:48]
hits = []
for root, dirs, files in os.walk(sys.argv[2]):
    for f in files:
        p = os.path.join(root, f)
        if os.path.islink(p) or not os.path.isfile(p):
            continue
        with open(p, "rb") as fh:
            if secret in fh.read():
                hits.append(p)
print("\n".join(hits))
sys.exit(1 if hits else 0)' "$T/old.key" "$D"
if [ "$RC" -eq 0 ]; then ok "  the old log key's bytes are nowhere in DIR"; else not_ok "  the old log key's bytes are nowhere in DIR"; _diag_output out; fi
check "rotate again with the same directory: nothing more to do" sdd log-key rotate --dir "$D" --directory "$T/dir-v2.json" --json
jtrue "  it says so (resumed), and appends nothing" "$OUT" 'd["resumed"] and d["log_size"] == '"$N1"
check "sealdropd audit check (offline) after the rotation" sdd audit check --config "$CONF"

# --- the rotated server ---
start_server "$CONF" || { not_ok "the server starts after the rotation"; diag "$(tail -n 5 "$SERVER_LOG")"; done_testing; }
ok "the server starts after the rotation"
curl -s --cacert "$D/ca.pem" "$URL/v1/directory" >"$T/served.json"
jtrue "  it serves directory version 2" "$T/served.json" 'd["signed"]["version"] == 2'
curl -s --cacert "$D/ca.pem" "$URL/v1/log/head" >"$T/head.after.json"
jtrue "  its head is signed by the new key" "$T/head.after.json" 'd["signature"]["key_id"] == "'"$NEW_ID"'"'
check "receipt R1 (old key) verifies against directory version 2" \
	sd receipt verify "$T/r1.sdx.receipt.json" --directory "$T/dir-v2.json" --root "$P/root.key.pub"
check "receipt R1: its filing is in the log under the new key's head (--server)" \
	sd receipt verify "$T/r1.sdx.receipt.json" --directory "$T/dir-v2.json" --root "$P/root.key.pub" \
	--server "$URL" --ca "$D/ca.pem"
expect_exit 65 "receipt R1 does not verify against a directory that does not retire its key" \
	sd receipt verify "$T/r1.sdx.receipt.json" --directory "$T/dir-noretire.json" --root "$P/root.key.pub"
file_one r2 || done_testing
K2=$(receipt_key "$T/r2.sdx.receipt.json")
if [ "$K2" = "$NEW_ID" ]; then ok "a new filing's receipt is signed by the new key"; else not_ok "a new filing's receipt is signed by the new key ($K2)"; fi
CASE1=$(json_get "$T/r1.sdx.receipt.json" 'd["receipt"]["case"]')
check "the notices of case R1 (signed by the old key) are still listed" sd notices "$CASE1" --server "$URL" \
	--ca "$D/ca.pem" --cert "$D/off/cert.pem" --key "$D/off/key.pem" --root "$P/root.key.pub" --json
publish

# --- the client across the rotation ---
# A client that still has directory version 1 (and never saw version 2: a state of its own).
mkdir -p "$T/old-client"
expect_exit 65 "audit verify with the old directory names the unknown signer" -m "$NEW_ID" -m 'new directory' \
	env XDG_STATE_HOME="$T/old-client" "$SEALDROP" audit verify --server "$URL" --ca "$D/ca.pem" \
	--directory "$T/dir-v1.json" --root "$P/root.key.pub" --state-file "$STATE"
check "  the state file is unchanged" cmp -s "$STATE" "$T/state.before"
check "audit verify with directory version 2 passes across the rotation" av "$T/dir-v2.json" --json
jtrue "  the new head extends the kept one" "$OUT" 'd.get("epoch") in (None, False)'
code=$(curl_status off GET "/v1/log/entries?start=0")
cp "$OUT" "$T/entries.json"
run "$PY" -c 'import base64, json, sys
e = json.load(open(sys.argv[1]))["entries"]
leaves = [json.loads(base64.b64decode(x["leaf"])) for x in e]
rot = [l for l in leaves if l["event"] == "log-key-rotated"]
assert len(rot) == 1, rot
l = rot[0]
assert l["detail"] == sys.argv[2] + ":" + sys.argv[3], l
assert l["role"] == "operator" and "actor" not in l, l
i = leaves.index(l)
assert leaves[i + 1]["event"] == "directory-installed" and leaves[i + 1]["number"] == 2, leaves[i + 1]
print(json.dumps(l))' "$T/entries.json" "$OLD_ID" "$NEW_ID"
if [ "$code" = 200 ] && [ "$RC" -eq 0 ]; then ok "the log holds log-key-rotated $OLD_ID:$NEW_ID, then directory-installed 2"; else not_ok "the log holds log-key-rotated $OLD_ID:$NEW_ID, then directory-installed 2 (status $code)"; _diag_output; fi
check "sealdropd audit check (server running) after the rotation" sdd audit check --config "$CONF"
check "sealdropd audit check with a head kept from before the rotation (old key)" \
	sdd audit check --config "$CONF" --expect-head "$T/head.before.json"
sign_dir "$T/dir-v3-drop.json" 3 "$T/new.key.pub" || done_testing
run sdd directory install --dir "$D" "$T/dir-v3-drop.json"
if [ "$RC" -ne 0 ] && grep -q "retired log key $OLD_ID" "$ERR"; then ok "live install of a directory that drops a retired key is refused"; else not_ok "live install of a directory that drops a retired key is refused (exit $RC)"; _diag_output; fi
sign_dir "$T/dir-v3.json" 3 "$T/new.key.pub" --log-retired "$T/old.key.pub" || done_testing
check "live install of version 3, still retiring the old key" sdd directory install --dir "$D" "$T/dir-v3.json"

# --- a second rotation, interrupted after its leaves and handover head, then finished ---
check "log-key new for a second rotation" sdd log-key new --dir "$D" --json
ID3=$(json_get "$OUT" 'd["next_key_id"]')
cp "$D/log.key.next.pub" "$T/key3.pub"
sign_dir "$T/dir-v4.json" 4 "$T/key3.pub" --log-retired "$T/old.key.pub" --log-retired "$T/new.key.pub" || done_testing
stop_server
check "sealdropd audit check (offline) with the kept head" \
	sdd audit check --config "$CONF" --expect-head "$T/head.before.json"
cp "$D/log.key" "$T/key2.key"
N2=$(leaves)
# DIR read-only, DIR/store writable: the rotation stops at step C (installing the directory),
# as a crash there would. Root ignores modes, so root does it with a read-only bind mount.
ro_rotate() { # directory
	if [ "$(id -u)" != 0 ]; then
		chmod a-w "$D"
		run sdd log-key rotate --dir "$D" --directory "$1"
		chmod u+w "$D"
	else
		run unshare -m sh -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" &&
			mount --bind "$1/store" "$1/store" && mount -o remount,bind,rw "$1/store" &&
			exec "$2" log-key rotate --dir "$1" --directory "$3"' sh "$D" "$SEALDROPD" "$1"
	fi
}
if [ "$(id -u)" != 0 ] || unshare -m sh -c 'mount --bind "$1" "$1"' sh "$T" 2>/dev/null; then
	ro_rotate "$T/dir-v4.json"
	if [ "$RC" -ne 0 ] && [ "$(leaves)" = "$((N2 + 2))" ] && cmp -s "$D/log.key" "$T/key2.key" &&
		cmp -s "$D/directory.json" "$T/dir-v3.json"; then
		ok "a rotation that cannot write DIR stops after its leaves: key and directory unchanged"
	else
		not_ok "a rotation that cannot write DIR stops after its leaves: key and directory unchanged (exit $RC)"
		_diag_output
	fi
	start_server "$CONF" || { not_ok "  the server starts from that state"; diag "$(tail -n 5 "$SERVER_LOG")"; done_testing; }
	ok "  the server starts from that state"
	curl -s --cacert "$D/ca.pem" "$URL/v1/log/head" >"$T/head.handover.json"
	jtrue "  and serves the handover head, signed by the retiring key" "$T/head.handover.json" \
		'd["signature"]["key_id"] == "'"$NEW_ID"'" and d["head"]["size"] == '"$((N2 + 2))"
	stop_server
else
	skip "an interrupted rotation (neither a non-root user nor a mount namespace to make DIR read-only)"
fi
check "log-key rotate finishes the second rotation" sdd log-key rotate --dir "$D" --directory "$T/dir-v4.json" --json
jtrue "  from key 2 to key 3" "$OUT" 'd["old_key_id"] == "'"$NEW_ID"'" and d["new_key_id"] == "'"$ID3"'" and d["log_size"] == '"$((N2 + 2))"
start_server "$CONF" || { not_ok "the server starts after the second rotation"; diag "$(tail -n 5 "$SERVER_LOG")"; done_testing; }
ok "the server starts after the second rotation"
check "receipt R1 (key 1) verifies against directory version 4" \
	sd receipt verify "$T/r1.sdx.receipt.json" --directory "$T/dir-v4.json" --root "$P/root.key.pub"
check "receipt R2 (key 2) verifies against directory version 4" \
	sd receipt verify "$T/r2.sdx.receipt.json" --directory "$T/dir-v4.json" --root "$P/root.key.pub"
check "audit verify with directory version 4 passes across the second rotation" av "$T/dir-v4.json"
check "sealdropd audit check with the head kept before the first rotation" \
	sdd audit check --config "$CONF" --expect-head "$T/head.before.json"
stop_server
check "sealdropd scrub after two rotations (receipts of three keys)" sdd scrub --config "$CONF"

done_testing
