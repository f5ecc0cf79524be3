# audit.sh — the audit log end to end (issue 4, "Acceptance"): a real server records
# every event class that exists (enrollment, filing, account disabled, directory
# installed), publishes signed heads only when asked or on its schedule, and serves the
# leaves to an officer; each leaf names its event, role, case and fingerprints and never
# a name, an address or a time. Then the three attacks of the acceptance, each on a COPY
# of the stopped server's LMDB store, edited with build/tools/sd-lmdb: a rewritten leaf
# (fully consistent nodes, and a flipped byte) and a dropped last leaf are found by
# `sealdropd audit check`; a store reverted to an older, internally consistent copy
# passes that check alone but fails it with --expect-head (the later head the operator
# kept), and fails `sealdrop audit verify --state-file` for a client that saw the later
# head.
#
# Later capabilities extend this test: add their events where the server runs (before
# "publish H2"), and a line per leaf to EXPECTED_EVENTS below.
. "$(dirname "$0")/lib.sh"

require_built "$SEALDROPD" "$SD_LMDB"
lmdb() { "$SD_LMDB" "$@"; }
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
LOG_SIZE_KEY=$(hex log_size)

# Every leaf the run below makes, one "event role" line each, in any order. The test
# compares this list with the leaves the server serves, exactly: a missing and an extra
# leaf both fail. Capabilities 4 (workflow) and 5 (consent) add their lines here.
EXPECTED_EVENTS="enrollment operator
enrollment operator
enrollment operator
filing attorney
notice server
account-disabled operator
directory-installed operator"

# A copy of the stopped server's directory in $T/NAME, its configuration pointing at it:
# prints the copy's configuration file.
copy_server() { # name
	rm -rf "${T:?}/$1"
	cp -a "$D" "$T/$1" && rm -f "$T/$1/control.sock" &&
		sed "s|^dir .*|dir $T/$1|" "$D/sealdropd.conf" >"$T/$1/sealdropd.conf" && chmod 640 "$T/$1/sealdropd.conf"
	echo "$T/$1/sealdropd.conf"
}

# Rewrites the stored tree nodes of STORE from its first N leaves: every complete
# subtree's hash recomputed (RFC 9162), nodes beyond N deleted. What a careful attacker
# does so that the store is consistent with itself; only a signed head can tell.
cat >"$T/nodes.py" <<'EOF'
import hashlib, subprocess, sys
tool, store, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def lmdb(*a):
    return subprocess.run([tool, store] + list(a), check=True, capture_output=True, text=True).stdout.split()
leaves = [bytes.fromhex(lmdb("get", "log_leaves", "%016x" % i)[0]) for i in range(n)]
def mth(l):
    if len(l) == 1:
        return hashlib.sha256(b"\0" + l[0]).digest()
    k = 1
    while k * 2 < len(l):
        k *= 2
    return hashlib.sha256(b"\1" + mth(l[:k]) + mth(l[k:])).digest()
for key in lmdb("keys", "log_nodes"):
    last, level = int(key[:16], 16), int(key[16:], 16)  # (last leaf covered, level)
    index = ((last + 1) >> level) - 1
    if (index + 1) << level <= n:
        lmdb("put", "log_nodes", key, mth(leaves[index << level:(index + 1) << level]).hex())
    else:
        lmdb("del", "log_nodes", key)
EOF

# Checks the served leaves ($1: a /v1/log/entries answer) and prints one "event role"
# line per leaf, or "BAD ..." lines naming what is wrong with a leaf.
cat >"$T/leaves.py" <<'EOF'
import base64, datetime, json, re, sys
entries = json.load(open(sys.argv[1]))["entries"]
forbidden = sys.argv[2:]
today = datetime.date.today()
for i, e in enumerate(entries):
    raw = base64.b64decode(e["leaf"], validate=True)
    text = raw.decode("utf-8")
    if e["index"] != i:
        print("BAD index %d at position %d" % (e["index"], i))
    d = json.loads(text)
    if json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False) != text:
        print("BAD leaf %d is not compact, sorted JSON" % i)
    for word in forbidden:
        if word in text:
            print("BAD leaf %d contains %r" % (i, word))
    if re.search(r"\d{2}:\d{2}|\d{4}-\d{2}-\d{2}T", text):
        print("BAD leaf %d contains a time" % i)
    date = d.get("date", "")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date) or \
            abs((datetime.date.fromisoformat(date) - today).days) > 1:
        print("BAD leaf %d has date %r, not today's YYYY-MM-DD" % (i, date))
    print(d.get("event"), d.get("role"))
EOF

# The leaf of the first entry with this event: its members as shell-readable lines.
leaf_of() { # entries-file event
	"$PY" -c 'import base64, json, sys
for e in json.load(open(sys.argv[1]))["entries"]:
    d = json.loads(base64.b64decode(e["leaf"]))
    if d["event"] == sys.argv[2]:
        print(json.dumps(d, sort_keys=True))
        break' "$1" "$2"
}

# --- a server and its events -------------------------------------------------------------
mkserver || done_testing
att_fp=$(sed -n 's/^fingerprint //p' "$OUT")
printf '%s' "$att_fp" | grep -qxE '[0-9a-f]{64}' || not_ok "set-up: the attorney's enroll printed its fingerprint"
have_verify=no
if sd audit verify --help >/dev/null 2>&1; then have_verify=yes; fi
verify() { # state-file [more options]
	_sf=$1
	shift
	run sd audit verify --server "$URL" --ca "$D/ca.pem" --directory "$D/directory.json" \
		--root "$P/root.key.pub" --state-file "$_sf" "$@"
}

check "enroll an officer (--json)" sdd enroll --dir "$D" --role officer --name "Officer Lee" --out "$D/off" --json
off_fp=$(json_get "$OUT" 'd["fingerprint"]')
check "publish the first head (H1)" sdd audit publish --config "$D/sealdropd.conf"
code=$(curl_status - GET /v1/log/head)
cp "$OUT" "$T/h1.json"
if [ "$code" = 200 ] && [ "$(json_get "$T/h1.json" 'd["head"]["size"]')" = 2 ]; then
	ok "/v1/log/head serves H1 of 2 leaves (two enrollments)"
else
	not_ok "/v1/log/head serves H1 of 2 leaves (status $code)"
	diag "$(cat "$T/h1.json")"
fi
if grep -Eq '"date": *"[0-9]{4}-[0-9]{2}-[0-9]{2}"' "$T/h1.json" && ! grep -q 'T[0-9][0-9]:' "$T/h1.json"; then
	ok "the head carries a date, not a time"
else
	not_ok "the head carries a date, not a time"
fi

# Keep the store as H1 saw it (the stopped server's files), for the revert below.
stop_server
cp -a "$D/store" "$T/store-h1"
start_server "$D/sealdropd.conf" || { not_ok "the server restarts"; done_testing; }
if [ "$have_verify" = yes ]; then
	verify "$T/client.state"
	if [ "$RC" = 0 ] && [ -s "$T/client.state" ]; then ok "a client verifies H1 and keeps it"; else not_ok "a client verifies H1 and keeps it (exit $RC)"; _diag_output; fi
fi

# Filing.
run sd seal --directory "$D/directory.json" --root "$P/root.key.pub" --report docs/examples/report.json \
	--identity docs/examples/identity.json --out "$T/r.sdx" --codename-out "$T/r.codename" --quiet
[ "$RC" = 0 ] || { not_ok "set-up: seal"; _diag_output; }
check "file a package" sd file "$T/r.sdx" --server "$URL" --ca "$D/ca.pem" --cert "$D/att/cert.pem" \
	--key "$D/att/key.pem" --root "$P/root.key.pub" --json
case_no=$(json_get "$OUT" 'd["case"]' 2>/dev/null)
# Enrollment and disabling of a third account.
check "enroll a custodian (--json)" sdd enroll --dir "$D" --role custodian --name "Custodian Ray" --out "$D/cus" --json
cus_fp=$(json_get "$OUT" 'd["fingerprint"]')
check "disable the custodian" sdd disable --dir "$D" --name "Custodian Ray"
# Key rotation: directory version 2.
# shellcheck disable=SC2086 # the options split on purpose
check "sign directory version 2" sd directory create --deployment demo --intake "$P/intake.key.pub" \
	--identity "$P/identity.key.pub" --log "$D/log.key.pub" --tls-ca "$D/ca.pem" --root "$P/root.key" \
	--passphrase-file "$PW" --version 2 --out "$T/dir2.json" ${MK_DIRECTORY_OPTS:-}
check "install directory version 2" sdd directory install --dir "$D" "$T/dir2.json"
# (Capabilities 4 and 5: add the events of their routes here.)

# Nothing after H1 is served before the next publication.
code=$(curl_status off GET "/v1/log/entries?start=0")
n=$(json_get "$OUT" 'len(d["entries"])' 2>/dev/null)
if [ "$code" = 200 ] && [ "$n" = 2 ]; then ok "before publication, entries stop at H1 (2)"; else not_ok "before publication, entries stop at H1 (status $code, $n entries)"; fi

check "publish H2" sdd audit publish --config "$D/sealdropd.conf"
expected_n=$(printf '%s\n' "$EXPECTED_EVENTS" | wc -l)
if grep -q "size $expected_n" "$OUT"; then ok "publish prints the new head's size ($expected_n)"; else not_ok "publish prints the new head's size ($expected_n)"; _diag_output out; fi
curl_status - GET /v1/log/head >/dev/null
cp "$OUT" "$T/h2.json"
n_leaves=$(json_get "$T/h2.json" 'd["head"]["size"]')
if [ "$n_leaves" = "$expected_n" ]; then ok "H2 covers $expected_n leaves"; else not_ok "H2 covers $expected_n leaves (it covers '$n_leaves')"; fi
if [ "$have_verify" = yes ]; then
	verify "$T/client.state"
	if [ "$RC" = 0 ]; then ok "the client verifies H2 consistent with H1"; else not_ok "the client verifies H2 consistent with H1 (exit $RC)"; _diag_output; fi
fi

# --- the leaves --------------------------------------------------------------------------
code=$(curl_status off GET "/v1/log/entries?start=0")
cp "$OUT" "$T/entries.json"
if [ "$code" = 200 ] && json_is_valid "$T/entries.json"; then ok "an officer reads /v1/log/entries"; else not_ok "an officer reads /v1/log/entries (status $code)"; fi
code=$(curl_status att GET "/v1/log/entries?start=0")
if [ "$code" = 403 ]; then ok "an attorney may not read every entry (403)"; else not_ok "an attorney may not read every entry (status $code)"; fi
first=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["entries"][0]["leaf"])' "$T/entries.json")
if printf '%s' "$first" | base64 -d 2>/dev/null | grep -q '^{"date":"[0-9-]*","event":"enrollment"'; then
	ok "leaf 0 decodes (base64 -d) to the first enrollment"
else
	not_ok "leaf 0 decodes (base64 -d) to the first enrollment"
	diag "$(printf '%s' "$first" | base64 -d 2>&1)"
fi
"$PY" "$T/leaves.py" "$T/entries.json" "Attorney Kim" "Officer Lee" "Custodian Ray" "Kim" "127.0.0.1" \
	"localhost" >"$T/got.txt" 2>&1
if grep -q '^BAD' "$T/got.txt" || [ ! -s "$T/got.txt" ]; then
	not_ok "every leaf is canonical, dated today, free of names, addresses and times"
	diag "$(grep -v '^[a-z-]* [a-z]*$' "$T/got.txt")"
else
	ok "every leaf is canonical, dated today, free of names, addresses and times"
fi
# One loop over the table: each "event role" line must match one leaf, and no leaf more.
printf '%s\n' "$EXPECTED_EVENTS" | sort >"$T/want.txt"
grep -v '^BAD' "$T/got.txt" | sort >"$T/got-sorted.txt"
sort -u "$T/want.txt" >"$T/want-classes.txt"
while read -r ev role; do
	w=$(grep -cx "$ev $role" "$T/want.txt")
	g=$(grep -cx "$ev $role" "$T/got-sorted.txt")
	if [ "$w" = "$g" ]; then ok "$w '$ev' leaf(s) by '$role'"; else not_ok "$w '$ev' leaf(s) by '$role' (got $g)"; fi
done <"$T/want-classes.txt"
if cmp -s "$T/want.txt" "$T/got-sorted.txt"; then
	ok "no leaf beyond the expected ones"
else
	not_ok "no leaf beyond the expected ones"
	diag "$(diff "$T/want.txt" "$T/got-sorted.txt")"
fi

# The members of each event class.
leaf_is() { # description event python-condition-on-d
	_l=$(leaf_of "$T/entries.json" "$2")
	if [ -n "$_l" ] && printf '%s' "$_l" | "$PY" -c 'import json, sys
d = json.load(sys.stdin)
sys.exit(0 if eval(sys.argv[1]) else 1)' "$3"; then
		ok "$1"
	else
		not_ok "$1"
		diag "leaf: $_l"
	fi
}
"$PY" -c 'import base64, json, sys
for e in json.load(open(sys.argv[1]))["entries"]:
    d = json.loads(base64.b64decode(e["leaf"]))
    if d["event"] == "enrollment":
        print(d.get("subject"), d.get("subject_role"))' "$T/entries.json" >"$T/enrolled.txt"
if [ "$(cat "$T/enrolled.txt")" = "$att_fp attorney
$off_fp officer
$cus_fp custodian" ]; then
	ok "the enrollment leaves name each account's fingerprint and role, in order"
else
	not_ok "the enrollment leaves name each account's fingerprint and role, in order"
	diag "got: $(cat "$T/enrolled.txt")" "want: $att_fp $off_fp $cus_fp"
fi
leaf_is "the filing leaf: its case, the attorney's fingerprint, a digest" filing \
	"d.get('case') == '$case_no' and d.get('actor') == '$att_fp' and len(d.get('digest', '')) == 64"
leaf_is "the account-disabled leaf names the custodian's fingerprint" account-disabled \
	"d.get('subject') == '$cus_fp' and 'actor' not in d"
dir_digest=$("$PY" -c 'import hashlib, sys; print(hashlib.blake2b(open(sys.argv[1], "rb").read(), digest_size=32).hexdigest())' "$T/dir2.json")
leaf_is "the directory-installed leaf: number 2 and the directory's digest" directory-installed \
	"d.get('number') == 2 and d.get('digest') == '$dir_digest'"

# --- the operator's check on the intact store ---------------------------------------------
check "audit check through the running server" sdd audit check --config "$D/sealdropd.conf"
check "audit check through the running server, --expect-head H1" sdd audit check --config "$D/sealdropd.conf" \
	--expect-head "$T/h1.json"
json_edit "$T/h2.json" "$T/forged.json" 'd["head"]["size"] = 1'
expect_exit 65 "online: a kept head whose signature does not verify is refused" \
	sdd audit check --config "$D/sealdropd.conf" --expect-head "$T/forged.json"
stop_server
check "audit check on the stopped server's store" sdd audit check --config "$D/sealdropd.conf"
if grep -q "matches the signed head" "$OUT"; then ok "it says the tree matches the signed head"; else not_ok "it says the tree matches the signed head"; _diag_output out; fi
check "audit check --expect-head H2 --json" sdd audit check --config "$D/sealdropd.conf" --expect-head "$T/h2.json" --json
if json_is_valid "$OUT" && [ "$(json_get "$OUT" 'd["ok"]')" = true ] && [ "$(json_get "$OUT" 'd["leaves"]')" = "$n_leaves" ] &&
	[ "$(json_get "$OUT" 'd["expect"]["size"]')" = "$n_leaves" ]; then
	ok "the --json report parses: ok, $n_leaves leaves, the kept head"
else
	not_ok "the --json report parses: ok, $n_leaves leaves, the kept head"
	_diag_output out
fi
expect_exit 65 "a kept head whose signature does not verify is refused" -m "kept head" \
	sdd audit check --config "$D/sealdropd.conf" --expect-head "$T/forged.json"
# A head another server's log key signed (its first head, published when it starts).
oport=$(free_port)
run sdd init --dir "$T/other" --listen "127.0.0.1:$oport"
# shellcheck disable=SC2086
run sd directory create --deployment demo --intake "$P/intake.key.pub" --identity "$P/identity.key.pub" \
	--log "$T/other/log.key.pub" --tls-ca "$T/other/ca.pem" --root "$P/root.key" --passphrase-file "$PW" \
	--out "$T/other/directory.json" ${MK_DIRECTORY_OPTS:-}
if start_server "$T/other/sealdropd.conf" "$T/other.log"; then
	curl -s -o "$T/otherkey.json" --cacert "$T/other/ca.pem" "https://127.0.0.1:$oport/v1/log/head"
	stop_server
fi
if [ "$(json_get "$T/otherkey.json" 'd["signature"]["key_id"]' 2>/dev/null)" = "$(cut -d' ' -f3 "$T/other/log.key.pub")" ]; then
	ok "set-up: another server's log key signed a head"
else
	not_ok "set-up: another server's log key signed a head"
fi
expect_exit 65 "a kept head signed by another log key is refused" -m "kept head" \
	sdd audit check --config "$D/sealdropd.conf" --expect-head "$T/otherkey.json"
echo 'not json' >"$T/garbage.json"
expect_exit 65 "a kept head that is not JSON is refused" sdd audit check --config "$D/sealdropd.conf" \
	--expect-head "$T/garbage.json"

# --- a) a rewritten leaf ---------------------------------------------------------------------
conf=$(copy_server ta)
leaf3=$(lmdb "$T/ta/store" get log_leaves 0000000000000003)
leaf1=$(lmdb "$T/ta/store" get log_leaves 0000000000000001)
check "rewrite leaf 1 with leaf 3's (valid, canonical) bytes" lmdb "$T/ta/store" put log_leaves 0000000000000001 "$leaf3"
check "recompute every stored node from the rewritten leaves" "$PY" "$T/nodes.py" "$SD_LMDB" "$T/ta/store" "$n_leaves"
if [ -n "$leaf1" ] && [ "$leaf1" != "$leaf3" ] && [ "$(lmdb "$T/ta/store" get log_leaves 0000000000000001)" = "$leaf3" ]; then
	ok "the copy's leaf 1 is now different"
else
	not_ok "the copy's leaf 1 is now different"
fi
expect_exit 65 "audit check finds the rewritten leaf" -m "differs" -m "rewritten" sdd audit check --config "$conf"
expect_exit 65 "audit check --json finds it too" sdd audit check --config "$conf" --json
if json_is_valid "$OUT" && [ "$(json_get "$OUT" 'd["ok"]')" = false ] && [ -n "$(json_get "$OUT" 'd["problem"]')" ]; then
	ok "the --json report says ok: false and the problem"
else
	not_ok "the --json report says ok: false and the problem"
fi

conf=$(copy_server tb)
leaf=$(lmdb "$T/tb/store" get log_leaves 0000000000000002)
"$PY" -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]))' "$leaf" >"$T/leaf.bin"
flip_byte "$T/leaf.bin" 20
check "flip a byte of leaf 2 (the filing)" lmdb "$T/tb/store" put log_leaves 0000000000000002 "$(od -An -tx1 "$T/leaf.bin" | tr -d ' \n')"
expect_exit 65 "audit check finds the flipped byte" -m "differs" sdd audit check --config "$conf"

# --- b) the last leaf dropped ----------------------------------------------------------------
conf=$(copy_server tc)
last=$(printf '%016x' $((n_leaves - 1)))
check "drop the last leaf" lmdb "$T/tc/store" del log_leaves "$last"
check "set the log's size to one less" lmdb "$T/tc/store" put meta "$LOG_SIZE_KEY" \
	"$("$PY" -c 'import struct, sys; print(struct.pack("<Q", int(sys.argv[1])).hex())' $((n_leaves - 1)))"
check "delete the nodes that covered it" "$PY" "$T/nodes.py" "$SD_LMDB" "$T/tc/store" $((n_leaves - 1))
expect_exit 65 "audit check finds the dropped leaf" -m "covers $n_leaves leaves" -m "holds $((n_leaves - 1))" \
	sdd audit check --config "$conf"

# --- c) the store reverted to H1's copy --------------------------------------------------------
conf=$(copy_server td)
rm -rf "$T/td/store" && cp -a "$T/store-h1" "$T/td/store"
check "the reverted store passes audit check alone (nothing in it can tell)" sdd audit check --config "$conf"
expect_exit 65 "with --expect-head H2 it fails: the store is older" -m "reverted to an older copy" \
	sdd audit check --config "$conf" --expect-head "$T/h2.json"
check "with --expect-head H1 it passes" sdd audit check --config "$conf" --expect-head "$T/h1.json"
if start_server "$conf"; then
	ok "a server starts on the reverted store"
	curl_status - GET /v1/log/head >/dev/null
	if [ "$(json_get "$OUT" 'd["head"]["size"]')" = 2 ]; then ok "it serves the older head (2 leaves)"; else not_ok "it serves the older head (2 leaves)"; fi
	expect_exit 65 "online audit check --expect-head H2 fails on it" -m "older" \
		sdd audit check --config "$conf" --expect-head "$T/h2.json"
	if [ "$have_verify" = yes ]; then
		cp "$T/client.state" "$T/client.state.saw-h2"
		verify "$T/client.state"
		if [ "$RC" = 65 ] && grep -q '^sealdrop: ' "$ERR"; then
			ok "sealdrop audit verify --state-file (saw H2) detects the rollback (65)"
		else
			not_ok "sealdrop audit verify --state-file (saw H2) detects the rollback (exit $RC, expected 65)"
			_diag_output
		fi
		if cmp -s "$T/client.state" "$T/client.state.saw-h2"; then ok "the state file still holds H2"; else not_ok "the state file still holds H2"; fi
		verify "$T/fresh.state"
		if [ "$RC" = 0 ]; then ok "a client that saw nothing later accepts the older head"; else not_ok "a client that saw nothing later accepts the older head (exit $RC)"; _diag_output; fi
	else
		skip "sealdrop audit verify is not built (sealdrop audit verify --help fails)"
	fi
	stop_server
else
	not_ok "a server starts on the reverted store"
	diag "$(tail -n 5 "$SERVER_LOG")"
fi

done_testing
