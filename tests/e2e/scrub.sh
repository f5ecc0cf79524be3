# scrub.sh — `sealdropd scrub` (issue 7, item 5): a real server files three cases (the
# second with an evidence file of several chunks) and holds one upload in progress;
# scrub refuses while the server runs, scrubs an mdb_copy of the running store, and,
# with the server stopped, finds nothing on the intact store and counts exactly what is
# stored. Then each kind of damage, on a COPY of the store edited with
# build/tools/sd-lmdb (flip), is found and named by case: a flipped chunk byte, a
# deleted chunk, a corrupted case record, a corrupted receipt, a corrupted audit leaf,
# a flipped chunk of the upload in progress (named by upload id); the other cases are
# never named. --json parses and carries the same counts.
. "$(dirname "$0")/lib.sh"

require_built "$SEALDROPD" "$SD_LMDB"
lmdb() { "$SD_LMDB" "$@"; }
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
unhex() { "$PY" -c 'import sys; sys.stdout.write(bytes.fromhex(sys.argv[1]).decode())' "$1"; }
hlen() { od -An -tu4 -j12 -N4 "$1" | tr -d ' '; }

mkserver || done_testing
seal() { # out [seal options]
	_o=$1
	shift
	run sd seal --directory "$D/directory.json" --root "$P/root.key.pub" --report docs/examples/report.json \
		--identity docs/examples/identity.json --out "$_o" --codename-out "$_o.codename" --quiet "$@"
	[ "$RC" = 0 ] || { not_ok "set-up: seal $_o"; _diag_output; }
}
file_case() { # package -> prints the case number; adds its chunks and bytes to the totals
	run sd file "$1" --server "$URL" --ca "$D/ca.pem" --cert "$D/att/cert.pem" --key "$D/att/key.pem" \
		--root "$P/root.key.pub" --json
	[ "$RC" = 0 ] || { not_ok "set-up: file $1"; _diag_output; return 1; }
	json_get "$OUT" 'd["case"]'
}

# --- three cases, one upload in progress ------------------------------------------------
head -c 2600000 /dev/urandom >"$T/ev.bin"
seal "$T/p1.sdx"
seal "$T/p2.sdx" --evidence "$T/ev.bin"
seal "$T/p3.sdx"
seal "$T/p4.sdx"
c1=$(file_case "$T/p1.sdx")
c2=$(file_case "$T/p2.sdx")
c3=$(file_case "$T/p3.sdx")
if [ -n "$c1" ] && [ -n "$c2" ] && [ -n "$c3" ]; then ok "three cases filed ($c1 $c2 $c3)"; else not_ok "three cases filed"; done_testing; fi

# The fourth package's header posted, and its report blob (blob 0, one chunk) put.
hl4=$(hlen "$T/p4.sdx")
head -c "$hl4" "$T/p4.sdx" >"$T/p4.hdr"
code=$(curl_status att POST /v1/uploads -H 'Content-Type: application/octet-stream' --data-binary @"$T/p4.hdr")
cp "$OUT" "$T/up4.json"
u4=$(json_get "$T/up4.json" 'd["upload"]' 2>/dev/null)
rsize=$(json_get "$T/up4.json" 'd["blobs"][0]["size"]' 2>/dev/null)
tail -c +$((hl4 + 1)) "$T/p4.sdx" | head -c "$rsize" >"$T/p4.report"
code2=$(curl_status att PUT "/v1/uploads/$u4/blobs/0/chunks/0" -H 'Content-Type: application/octet-stream' \
	--data-binary @"$T/p4.report")
if [ "$code" = 201 ] && [ "$code2" = 201 ]; then ok "an upload in progress holds one chunk"; else not_ok "an upload in progress holds one chunk ($code, $code2)"; fi

# What scrub must count: every chunk of the three packages and the upload's one, and
# their bytes (a package is its header, then every chunk).
want_chunks=1
want_bytes=$rsize
for p in p1 p2 p3; do
	hl=$(hlen "$T/$p.sdx")
	head -c "$hl" "$T/$p.sdx" >"$T/$p.hdr"
	curl_status att POST /v1/uploads -H 'Content-Type: application/octet-stream' --data-binary @"$T/$p.hdr" >/dev/null
	n=$(json_get "$OUT" 'sum(b["chunks"] for b in d["blobs"])' 2>/dev/null)
	want_chunks=$((want_chunks + ${n:-0}))
	want_bytes=$((want_bytes + $(file_size "$T/$p.sdx") - hl))
done
n2=$(curl_status att POST /v1/uploads -H 'Content-Type: application/octet-stream' --data-binary @"$T/p2.hdr" >/dev/null && json_get "$OUT" 'd["blobs"][2]["chunks"]')
if [ "${n2:-0}" -ge 3 ]; then ok "case 2's evidence blob has $n2 chunks"; else not_ok "case 2's evidence blob has several chunks ($n2)"; fi

# --- while the server runs -----------------------------------------------------------
expect_exit 77 "scrub while the server runs is refused" -m "the server is running: stop it" \
	sdd scrub --config "$D/sealdropd.conf"
if command -v mdb_copy >/dev/null 2>&1; then
	mkdir -p "$T/live/store"
	if mdb_copy "$D/store" "$T/live/store" 2>"$ERR"; then
		check "scrub --copy of an mdb_copy of the running store" sdd scrub --config "$D/sealdropd.conf" --copy "$T/live"
	else
		not_ok "mdb_copy of the running store"
		_diag_output
	fi
else
	skip "mdb_copy is not installed (lmdb-utils)"
fi
stop_server

# --- the intact store ----------------------------------------------------------------
summary="scrub: 3 cases, $want_chunks chunks ($want_bytes bytes),"
check "scrub of the intact store exits 0" sdd scrub --config "$D/sealdropd.conf"
if grep -qF "$summary" "$OUT" && grep -q 'checked: 0 damaged in 0 cases' "$OUT" && [ "$(wc -l <"$OUT")" = 1 ]; then
	ok "it counts 3 cases, $want_chunks chunks, $want_bytes bytes, nothing damaged"
else
	not_ok "it counts 3 cases, $want_chunks chunks, $want_bytes bytes, nothing damaged"
	diag "want: $summary" "got: $(cat "$OUT")"
fi
records=$(sed -n 's/.*bytes), \([0-9]*\) records checked.*/\1/p' "$OUT")
check "scrub --json" sdd scrub --config "$D/sealdropd.conf" --json
if json_is_valid "$OUT"; then ok "--json parses"; else not_ok "--json parses"; fi
jtrue "--json has the same counts" "$OUT" \
	"d['ok'] is True and d['cases'] == 3 and d['chunks'] == $want_chunks and d['bytes'] == $want_bytes and d['records'] == ${records:-0} and d['uploads'] == 1 and d['damaged'] == 0 and d['items'] == []"
expect_exit 66 "a server directory without a store: 66" -m "no store" \
	sdd scrub --config "$D/sealdropd.conf" --copy "$T/nowhere"
if [ ! -e "$T/nowhere" ]; then ok "  and nothing was created there"; else not_ok "  and nothing was created there"; fi
expect_exit 66 "a configuration file that does not exist: 66" sdd scrub --config "$T/nonexistent.conf"
sed 's/^dir /no_such_option 1\ndir /' "$D/sealdropd.conf" >"$T/bad.conf"
expect_exit 78 "a configuration that does not load: 78" sdd scrub --config "$T/bad.conf"

# --- damage, each on a fresh copy ----------------------------------------------------
copy_server() { # name -> prints the copy's configuration file
	rm -rf "${T:?}/$1"
	cp -a "$D" "$T/$1" && rm -f "$T/$1/control.sock" &&
		sed "s|^dir .*|dir $T/$1|" "$D/sealdropd.conf" >"$T/$1/sealdropd.conf" && chmod 640 "$T/$1/sealdropd.conf"
	echo "$T/$1/sealdropd.conf"
}
# Passes when the last scrub named WANT (a fixed string) and none of the other cases.
names() { # description want case-not-named...
	_d=$1
	_w=$2
	shift 2
	_bad=""
	for _c in "$@"; do grep -q "^$_c:" "$OUT" && _bad="$_bad $_c"; done
	if grep -qF -- "$_w" "$OUT" && [ -z "$_bad" ]; then
		ok "$_d"
	else
		not_ok "$_d"
		diag "want a line with: $_w${_bad:+ (and not:$_bad)}"
		_diag_output out
	fi
}
rec2=$(unhex "$(lmdb "$D/store" get cases "$(hex "$c2")")")
up2=$(printf '%s' "$rec2" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["upload"])')
key21=${up2}0000000200000001 # blob 2 (the evidence), chunk 1
key22=${up2}0000000200000002

conf=$(copy_server t1)
check "flip a byte of case 2's blob 2 chunk 1" lmdb "$T/t1/store" flip chunks "$key21" 1000
expect_exit 65 "scrub finds the flipped chunk (65)" -m "1 damaged item in 1 case" sdd scrub --config "$conf"
names "it names case 2, blob 2 chunk 1, hash mismatch, and not cases 1 and 3" "$c2: blob 2 chunk 1: hash mismatch" "$c1" "$c3"
expect_exit 65 "scrub --json on the damaged copy (65)" sdd scrub --config "$conf" --json
jtrue "--json: 1 damaged in 1 case, the item names case 2's chunk" "$OUT" \
	"d['ok'] is False and d['damaged'] == 1 and d['damaged_cases'] == 1 and d['items'][0]['subject'] == '$c2' and d['items'][0]['what'] == 'blob 2 chunk 1' and d['chunks'] == $want_chunks"

conf=$(copy_server t2)
check "delete case 2's blob 2 chunk 2" lmdb "$T/t2/store" del chunks "$key22"
expect_exit 65 "scrub finds the deleted chunk" sdd scrub --config "$conf"
names "it names case 2, blob 2 chunk 2: missing" "$c2: blob 2 chunk 2: missing" "$c1" "$c3"

conf=$(copy_server t3)
check "flip a byte of case 3's record" lmdb "$T/t3/store" flip cases "$(hex "$c3")" 30
expect_exit 65 "scrub finds the corrupted record" sdd scrub --config "$conf"
names "it names case 3's record" "$c3: record:" "$c1" "$c2"

conf=$(copy_server t4)
rlen=$(($(lmdb "$T/t4/store" get receipts "$(hex "$c1")" | tr -d '\n' | wc -c) / 2))
check "flip a byte of case 1's receipt" lmdb "$T/t4/store" flip receipts "$(hex "$c1")" $((rlen - 30))
expect_exit 65 "scrub finds the corrupted receipt" sdd scrub --config "$conf"
names "it names case 1's receipt" "$c1: receipt:" "$c2" "$c3"

conf=$(copy_server t5)
leaf=$(lmdb "$T/t5/store" keys case_events | grep "^$(hex "$c2")" | head -n 1 | cut -c 23-)
check "flip a byte of case 2's first audit leaf ($leaf)" lmdb "$T/t5/store" flip log_leaves "$leaf" 20
expect_exit 65 "scrub finds the corrupted leaf" sdd scrub --config "$conf"
names "it names case 2 and the leaf" "$c2: leaf $(printf '%d' "0x$leaf"):" "$c1" "$c3"
if grep -q '^audit log: tree:' "$OUT"; then ok "and the tree no longer matches the signed head"; else not_ok "and the tree no longer matches the signed head"; _diag_output out; fi

conf=$(copy_server t6)
check "flip a byte of the upload in progress's chunk" lmdb "$T/t6/store" flip chunks "${u4}0000000000000000" 10
expect_exit 65 "scrub finds it" -m "in 0 cases" sdd scrub --config "$conf"
names "it names the upload by id, not a case" "$u4: blob 0 chunk 0: hash mismatch" "$c1" "$c2" "$c3"

done_testing
