# receipt_lost.sh — a filing's receipt lost to a crash is signed again, byte for byte
# (issue 7, crash consistency). A commit is two writes: the case with its filing leaf,
# then the signed receipt; a kill -9 between them leaves a case without a stored receipt
# (tests/soak/crash.sh found it). Here the receipts row of a filed case is deleted from
# the stopped server's store (tests/tools/sd-lmdb), as such a kill leaves it, and every
# route that answers with the receipt must give the one the attorney first got: `sealdrop
# file` again (POST /v1/uploads), GET /v1/uploads/{id}, a repeated POST .../commit, and
# several of them at once; each time the receipt is stored again, the same bytes. A case
# whose first leaf is not its filing gets no receipt signed (500), never a wrong one.
. "$(dirname "$0")/lib.sh"

require_built "$SEALDROPD" "$SD_LMDB"
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }

MK_DIRECTORY_OPTS=--test mkserver || done_testing
PKG=$T/pkg.sdx
run sd seal --directory "$D/directory.json" --root "$P/root.key.pub" --report docs/examples/report.json \
	--identity docs/examples/identity.json --out "$PKG" --codename-out "$PKG.codename" --quiet
[ "$RC" -eq 0 ] || { not_ok "set-up: seal a package"; _diag_output; done_testing; }
FILE_ARGS="--server $URL --ca $D/ca.pem --cert $D/att/cert.pem --key $D/att/key.pem --root $P/root.key.pub --json"
# shellcheck disable=SC2086
check "file a package" sd file "$PKG" $FILE_ARGS
CASE=$(json_get "$OUT" 'd["case"]')
UPLOAD=$(json_get "$OUT" 'd["upload"]')
cp "$PKG.receipt.json" "$T/first.receipt.json"
CASE_HEX=$(hex "$CASE")
stop_server
run "$SD_LMDB" "$D/store" get receipts "$CASE_HEX"
STORED=$(cat "$OUT")
if [ "$RC" -eq 0 ] && [ -n "$STORED" ]; then
	ok "the receipt of case $CASE is stored"
else
	not_ok "the receipt of case $CASE is stored"
	_diag_output
	done_testing
fi

# Deletes the stored receipt, as a kill between the commit's two writes leaves it.
lose_receipt() { # what
	stop_server
	check "$1: delete receipts[$CASE]" "$SD_LMDB" "$D/store" del receipts "$CASE_HEX"
	run "$SD_LMDB" "$D/store" get receipts "$CASE_HEX"
	if [ "$RC" -ne 0 ]; then ok "$1: no receipt is stored"; else not_ok "$1: no receipt is stored"; fi
	start_server "$D/sealdropd.conf" || { not_ok "$1: the server starts"; done_testing; }
}

# After the server stopped (so that its queued writes are done): stored again, the same.
stored_again() { # what
	stop_server
	run "$SD_LMDB" "$D/store" get receipts "$CASE_HEX"
	if [ "$RC" -eq 0 ] && [ "$(cat "$OUT")" = "$STORED" ]; then
		ok "$1: the receipt is stored again, byte for byte the first"
	else
		not_ok "$1: the receipt is stored again, byte for byte the first"
		_diag_output
	fi
}

# Passes when the answer in FILE carries the first receipt (as its JSON object).
same_receipt() { # description file
	if "$PY" -c 'import json, sys
a = json.load(open(sys.argv[1]))["receipt"]
b = json.load(open(sys.argv[2]))
sys.exit(0 if a == b else 1)' "$2" "$T/first.receipt.json" 2>/dev/null; then
		ok "$1"
	else
		not_ok "$1"
		diag "answer: $(head -c 600 "$2")"
	fi
}

# 1. `sealdrop file` again: POST /v1/uploads answers "committed" with the receipt.
lose_receipt "refile"
rm -f "$PKG.receipt.json"
# shellcheck disable=SC2086
check "refile: sealdrop file again exits 0" sd file "$PKG" $FILE_ARGS
if [ "$(json_get "$OUT" 'd["case"]' 2>/dev/null)" = "$CASE" ]; then ok "refile: the same case"; else not_ok "refile: the same case"; fi
if cmp -s "$PKG.receipt.json" "$T/first.receipt.json"; then
	ok "refile: the receipt written is the first one, byte for byte"
else
	not_ok "refile: the receipt written is the first one, byte for byte"
fi
stored_again "refile"

# 2. GET /v1/uploads/{id}.
lose_receipt "status"
code=$(curl_status att GET "/v1/uploads/$UPLOAD")
if [ "$code" = 200 ]; then ok "status: GET /v1/uploads/{id} answers 200"; else not_ok "status: GET /v1/uploads/{id} answers 200 (got $code)"; fi
same_receipt "status: with the first receipt" "$OUT"
stored_again "status"

# 3. A repeated commit.
lose_receipt "commit"
code=$(curl_status att POST "/v1/uploads/$UPLOAD/commit")
if [ "$code" = 200 ]; then ok "commit: a repeated commit answers 200"; else not_ok "commit: a repeated commit answers 200 (got $code)"; fi
same_receipt "commit: with the first receipt" "$OUT"
stored_again "commit"

# 4. Six requests at once: each signs it again or reads it; one copy is stored.
lose_receipt "race"
for i in 1 2 3 4 5 6; do
	if [ $((i % 2)) = 0 ]; then m=GET p=/v1/uploads/$UPLOAD; else m=POST p=/v1/uploads/$UPLOAD/commit; fi
	curl -s -o "$T/race$i.json" -w '%{http_code}' --cacert "$D/ca.pem" --cert "$D/att/cert.pem" \
		--key "$D/att/key.pem" -X "$m" "$URL$p" >"$T/race$i.code" &
	pids="${pids:-} $!"
done
# shellcheck disable=SC2086
wait $pids # not the server's
n=0
for i in 1 2 3 4 5 6; do
	[ "$(cat "$T/race$i.code")" = 200 ] && n=$((n + 1))
	same_receipt "race: answer $i carries the first receipt" "$T/race$i.json"
done
if [ $n = 6 ]; then ok "race: all six answered 200"; else not_ok "race: all six answered 200 ($n did)"; fi
stored_again "race"
if grep -q 'differs from the one stored' "$SERVER_LOG"; then not_ok "race: no two receipts differ"; else ok "race: no two receipts differ"; fi

# 5. The leaf a receipt signed again names must be the filing it states: with the case's
# filing leaf dropped from its index (case_events), its first leaf is the receipt
# notice's, and nothing is signed.
lose_receipt "no filing leaf"
stop_server
FIRST=$("$SD_LMDB" "$D/store" keys case_events | grep "^$CASE_HEX" | head -n 1)
check "no filing leaf: delete case_events[$FIRST]" "$SD_LMDB" "$D/store" del case_events "$FIRST"
start_server "$D/sealdropd.conf" || { not_ok "no filing leaf: the server starts"; done_testing; }
code=$(curl_status att GET "/v1/uploads/$UPLOAD")
if [ "$code" = 500 ]; then ok "no filing leaf: GET /v1/uploads/{id} answers 500"; else not_ok "no filing leaf: GET /v1/uploads/{id} answers 500 (got $code)"; fi
if grep -q 'first leaf is not its filing' "$SERVER_LOG"; then ok "no filing leaf: the log says why"; else not_ok "no filing leaf: the log says why"; fi
stop_server
run "$SD_LMDB" "$D/store" get receipts "$CASE_HEX"
if [ "$RC" -ne 0 ]; then ok "no filing leaf: no receipt is stored"; else not_ok "no filing leaf: no receipt is stored"; fi

done_testing
