# file_concurrent.sh — two `sealdrop file` runs of the same new package at the same time
# (issue 3). The server lets one commit run and tells the other "409 commit_in_progress:
# retry"; the client must wait and retry, and get the first commit's receipt. A run that
# finds the upload committed by the other while it still sends chunks must go on to the
# commit too. Both runs exit 0 with the same case and account for every chunk, the
# receipts are the same bytes, the resume state next to the package is gone with no
# temporary file left, and the server holds exactly one case per package. The old client
# exited 77 in one run of nearly every pair.
#
# Pairs 1-6 file the same path (sharing PKG.upload.json and PKG.receipt.json); pairs 7-9
# file two copies of one package in two directories, so each run's receipt can be
# compared byte for byte with the other's.
. "$(dirname "$0")/lib.sh"

require_built "$SEALDROPD"
mkserver || done_testing
run sdd enroll --dir "$D" --role operator --name "Operator Choi" --out "$D/op"
[ "$RC" -eq 0 ] || { not_ok "set-up: enroll the operator"; _diag_output; done_testing; }
FILE_ARGS="--server $URL --ca $D/ca.pem --cert $D/att/cert.pem --key $D/att/key.pem --root $P/root.key.pub --json"
mkdir -p "$T/a" "$T/b"

# Seals package I (a report and two small evidence files: a few chunks to send).
seal_pkg() { # i
	head -c 20000 /dev/urandom >"$T/e$1.bin"
	head -c 3000 /dev/urandom >"$T/f$1.bin"
	run sd seal --directory "$D/directory.json" --root "$P/root.key.pub" --report docs/examples/report.json \
		--identity docs/examples/identity.json --evidence "$T/e$1.bin" --evidence "$T/f$1.bin" \
		--out "$T/a/p$1.sdx" --codename-out "$T/p$1.codename" --quiet
	[ "$RC" -eq 0 ] || { not_ok "set-up: seal package $1"; _diag_output; done_testing; }
}

# Starts one filing of PKG in the background; its output in OUT.json, OUT.err, OUT.rc.
file_bg() { # pkg out
	# shellcheck disable=SC2086
	(
		rc=0
		sd file "$1" $FILE_ARGS </dev/null >"$2.json" 2>"$2.err" || rc=$?
		echo $rc >"$2.rc"
	) &
}

# Checks the two runs X and Y of pair I: both exit 0, the same case (left in CASE), every
# chunk sent or found on the server.
check_pair() { # i x y
	rx=$(cat "$2.rc") ry=$(cat "$3.rc")
	if [ "$rx" = 0 ] && [ "$ry" = 0 ]; then
		ok "pair $1: both runs exit 0"
	else
		not_ok "pair $1: both runs exit 0 (exit $rx and $ry)"
		diag "$(cat "$2.err" "$3.err")"
	fi
	cx=$(json_get "$2.json" 'd["case"]' 2>/dev/null) cy=$(json_get "$3.json" 'd["case"]' 2>/dev/null)
	if [ -n "$cx" ] && [ "$cx" = "$cy" ]; then
		ok "pair $1: both print case $cx"
	else
		not_ok "pair $1: both print the same case ('$cx' and '$cy')"
	fi
	CASE=${cx:-$cy}
	if [ "$(json_get "$2.json" 'd["skipped"] + d["uploaded"] == d["chunks"]' 2>/dev/null)" = true ] &&
		[ "$(json_get "$3.json" 'd["skipped"] + d["uploaded"] == d["chunks"]' 2>/dev/null)" = true ]; then
		ok "pair $1: each run accounts for every chunk (sent or already on the server)"
	else
		not_ok "pair $1: each run accounts for every chunk (sent or already on the server)"
		diag "$(cat "$2.json" "$3.json" 2>/dev/null)"
	fi
}

# Passes when the receipt file (which the client verified before writing it) names CASE.
receipt_names_case() { # description receipt
	if "$PY" -c 'import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(0 if r["receipt"]["case"] == sys.argv[2] else 1)' "$2" "$CASE" 2>/dev/null; then
		ok "$1"
	else
		not_ok "$1"
		diag "$(head -c 600 "$2" 2>/dev/null)"
	fi
}

N=9
i=1
while [ $i -le $N ]; do
	seal_pkg $i
	i=$((i + 1))
done

# Files PKG-A and PKG-B (the same package) at once, then checks the pair's outputs.
file_pair() { # i pkg-a pkg-b
	file_bg "$2" "$T/r$1.x"
	_pa=$!
	file_bg "$3" "$T/r$1.y"
	_pb=$!
	wait $_pa $_pb
	check_pair "$1" "$T/r$1.x" "$T/r$1.y"
}

# --- the same path, twice at once ---
i=1
while [ $i -le 6 ]; do
	file_pair $i "$T/a/p$i.sdx" "$T/a/p$i.sdx"
	receipt_names_case "pair $i: the receipt next to the package is for case $CASE" "$T/a/p$i.sdx.receipt.json"
	check "pair $i: the resume state is gone" test ! -e "$T/a/p$i.sdx.upload.json"
	echo "$CASE" >>"$T/cases.txt"
	i=$((i + 1))
done
if [ -z "$(tmp_leftovers "$T/a")" ]; then ok "no temporary file is left next to the packages"; else not_ok "no temporary file is left next to the packages: $(tmp_leftovers "$T/a")"; fi

# Filing again later gives the same receipt, byte for byte.
cp "$T/a/p1.sdx.receipt.json" "$T/p1.first.receipt.json"
# shellcheck disable=SC2086
check "pair 1: filing again later exits 0" sd file "$T/a/p1.sdx" $FILE_ARGS
if cmp -s "$T/a/p1.sdx.receipt.json" "$T/p1.first.receipt.json"; then
	ok "pair 1: filing again later writes the same receipt"
else
	not_ok "pair 1: filing again later writes the same receipt"
fi

# --- two copies, twice at once: each run's receipt kept apart ---
while [ $i -le $N ]; do
	cp "$T/a/p$i.sdx" "$T/b/p$i.sdx"
	file_pair $i "$T/a/p$i.sdx" "$T/b/p$i.sdx"
	if [ -s "$T/a/p$i.sdx.receipt.json" ] && cmp -s "$T/a/p$i.sdx.receipt.json" "$T/b/p$i.sdx.receipt.json"; then
		ok "pair $i: the two runs wrote the same receipt, byte for byte"
	else
		not_ok "pair $i: the two runs wrote the same receipt, byte for byte"
	fi
	receipt_names_case "pair $i: that receipt is for case $CASE" "$T/a/p$i.sdx.receipt.json"
	echo "$CASE" >>"$T/cases.txt"
	i=$((i + 1))
done

# --- the server: one case per package ---
code=$(curl_status att GET /v1/cases)
cp "$OUT" "$T/list.json"
if [ "$code" = 200 ]; then ok "GET /v1/cases answers 200"; else not_ok "GET /v1/cases answers 200 (got $code)"; fi
jtrue "the server lists $N cases, one per package" "$T/list.json" "len(d['cases']) == $N"
if "$PY" -c 'import json, sys
cases = json.load(open(sys.argv[1]))["cases"]
printed = sorted(open(sys.argv[2]).read().split())
digests = [c["header_digest"] for c in cases]
sys.exit(0 if sorted(c["case"] for c in cases) == printed and len(set(digests)) == len(digests) else 1)' \
	"$T/list.json" "$T/cases.txt" 2>/dev/null; then
	ok "the cases listed are the ones the runs printed, each for another package"
else
	not_ok "the cases listed are the ones the runs printed, each for another package"
	diag "printed: $(tr '\n' ' ' <"$T/cases.txt")"
fi

# Whether the races were run into (the server's count of its answers, GET /v1/metrics):
# a pair can also happen to run one after the other, so a count of 0 is only noted.
code=$(curl_status op GET /v1/metrics)
answers() { # route status
	grep -F "sealdrop_requests_total{route=\"$1\",status=\"$2\"}" "$OUT" | awk '{ n += $NF } END { print n + 0 }'
}
busy=$(answers "POST /v1/uploads/{id}/commit" 409)
late=$(answers "PUT /v1/uploads/{id}/blobs/{k}/chunks/{n}" 409)
if [ "$code" != 200 ]; then
	not_ok "GET /v1/metrics answers 200 (got $code)"
elif [ "$busy" -gt 0 ]; then
	ok "the race was run into: $busy commits answered 409 commit_in_progress, $late chunks 409 upload_committed"
else
	skip "no commit was answered 409 commit_in_progress this time ($late chunks 409 upload_committed)"
fi

done_testing
