# fetch.sh — `sealdrop fetch` end to end (issue 5): an officer downloads a filed case's
# package from a real server, chunk by chunk, and opens it with the intake key; the
# report and evidence equal the originals and the identity stays sealed. The download
# routes refuse attorneys and anonymous clients; an interrupted fetch resumes and
# downloads only what it lacked; and a chunk altered in the server's store (a COPY of the
# stopped server's LMDB files, edited with build/tools/sd-lmdb) is caught before it is
# kept: exit 65, nothing left behind.
. "$(dirname "$0")/lib.sh"

require_built "$SEALDROPD" "$SD_LMDB"
if ! "$SEALDROP" fetch --help >/dev/null 2>&1; then
	not_ok "sealdrop fetch exists (sealdrop fetch --help)"
	done_testing
fi

mkserver || done_testing
run sdd enroll --dir "$D" --role officer --name "Officer Lee" --out "$D/off"
[ "$RC" -eq 0 ] || { not_ok "set-up: enroll an officer"; _diag_output; done_testing; }

# A package with two evidence files (one of several MiB), filed by the attorney.
seal_filed() { # out [seal options]
	_out=$1
	shift
	run sd seal --directory "$D/directory.json" --root "$P/root.key.pub" --report docs/examples/report.json \
		--identity docs/examples/identity.json --out "$_out" --codename-out "$_out.codename" --quiet "$@"
	[ "$RC" -eq 0 ] || { not_ok "set-up: seal $_out"; _diag_output; return 1; }
	run sd file "$_out" --server "$URL" --ca "$D/ca.pem" --cert "$D/att/cert.pem" --key "$D/att/key.pem" \
		--root "$P/root.key.pub" --json
	[ "$RC" -eq 0 ] || { not_ok "set-up: file $_out"; _diag_output; return 1; }
	cp "$OUT" "$_out.filed.json"
}
# fetch CASE OUT [options]: as the officer (WHO=att for the attorney's certificate).
fetch() {
	_case=$1
	_dir=$2
	shift 2
	run sd fetch "$_case" --server "$URL" --ca "$D/ca.pem" --cert "$D/${WHO:-off}/cert.pem" \
		--key "$D/${WHO:-off}/key.pem" --root "$P/root.key.pub" --intake "$P/intake.key" \
		--passphrase-file "$PW" --out "$_dir" "$@"
}
# What a directory holds, one relative path a line, sorted.
tree_of() {
	(cd "$1" && find . -mindepth 1 | sort)
}

random_file "$T/scan.bin" 5
printf 'minutes of the procurement committee, 2026-03-14\n' >"$T/memo.txt"
seal_filed "$T/a.sdx" --evidence "$T/scan.bin" --evidence "$T/memo.txt" || done_testing
CASE=$(json_get "$T/a.sdx.filed.json" 'd["case"]')
UPLOAD=$(json_get "$T/a.sdx.filed.json" 'd["upload"]')
# What `open` makes of the same package, to compare the report with.
run sd open "$T/a.sdx" --intake "$P/intake.key" --passphrase-file "$PW" --out "$T/ref"
[ "$RC" -eq 0 ] || { not_ok "set-up: open the package locally"; _diag_output; }

# --- the routes -----------------------------------------------------------------------------
hl=$("$PY" -c 'import struct,sys; d=open(sys.argv[1],"rb").read(16); print(struct.unpack("<I", d[12:16])[0])' "$T/a.sdx")
head -c "$hl" "$T/a.sdx" >"$T/a.hdr"
code=$(curl_status off GET "/v1/cases/$CASE/header")
if [ "$code" = 200 ] && cmp -s "$OUT" "$T/a.hdr"; then ok "an officer GETs the header: the uploaded bytes"; else not_ok "an officer GETs the header (status $code)"; fi
code=$(curl_status off GET "/v1/cases/$CASE/blobs/0/chunks/0")
if [ "$code" = 200 ] && cmp -s "$OUT" "$T/a.sdx" -i "0:$hl" -n "$(file_size "$OUT")" && [ "$(file_size "$OUT")" -gt 16384 ]; then
	ok "an officer GETs the report's chunk: the package's bytes after the header"
else
	not_ok "an officer GETs the report's chunk (status $code)"
fi
code=$(curl_status att GET "/v1/cases/$CASE/header")
if [ "$code" = 403 ] && grep -q role_forbidden "$OUT"; then ok "an attorney may not (403 role_forbidden)"; else not_ok "an attorney may not (status $code)"; fi
code=$(curl_status att GET "/v1/cases/$CASE/blobs/2/chunks/0")
if [ "$code" = 403 ]; then ok "  nor read a chunk (403)"; else not_ok "  nor read a chunk (status $code)"; fi
code=$(curl_status - GET "/v1/cases/$CASE/blobs/2/chunks/0")
if [ "$code" = 401 ]; then ok "no certificate: 401"; else not_ok "no certificate: 401 (status $code)"; fi
for p in "/v1/cases/2026-999999/header" "/v1/cases/$CASE/blobs/9/chunks/0" "/v1/cases/$CASE/blobs/2/chunks/99" \
	"/v1/cases/$CASE/blobs/02/chunks/0" "/v1/cases/nonsense/header"; do
	code=$(curl_status off GET "$p")
	if [ "$code" = 404 ] && grep -q not_found "$OUT"; then ok "404 not_found for $p"; else not_ok "404 not_found for $p (status $code)"; fi
done

# --- fetch ------------------------------------------------------------------------------------
check "sealdrop fetch as the officer (--json)" fetch "$CASE" "$T/out" --json
cp "$OUT" "$T/fetch.json"
check "  the evidence equals the original (cmp scan.bin)" cmp "$T/out/evidence/scan.bin" "$T/scan.bin"
check "  (cmp memo.txt)" cmp "$T/out/evidence/memo.txt" "$T/memo.txt"
check "  the report is what open writes (cmp report.json)" cmp "$T/out/report.json" "$T/ref/report.json"
check "  the package is kept as DIR/CASE.sdx, the filed bytes" cmp "$T/out/$CASE.sdx" "$T/a.sdx"
want=$(printf '%s\n' ./$CASE.sdx ./evidence ./evidence/memo.txt ./evidence/scan.bin ./report.json)
if [ "$(tree_of "$T/out")" = "$want" ]; then
	ok "  nothing else: no identity, no resume state, no partial or temporary file"
else
	not_ok "  nothing else: no identity, no resume state, no partial or temporary file"
	diag "$(tree_of "$T/out")"
fi
if grep -rqF -e "김서연" -e "850314-2748316" -e "seoyeon.kim" "$T/out" "$T/fetch.json"; then
	not_ok "  no identity data anywhere in the output"
else
	ok "  no identity data anywhere in the output"
fi
if json_is_valid "$T/fetch.json" && [ "$(json_get "$T/fetch.json" 'd["identity"]')" = sealed ] &&
	[ "$(json_get "$T/fetch.json" 'd["case"]')" = "$CASE" ] &&
	[ "$(json_get "$T/fetch.json" 'd["downloaded"]')" = "$(json_get "$T/fetch.json" 'd["chunks"]')" ] &&
	[ "$(json_get "$T/fetch.json" 'd["skipped"]')" = 0 ] &&
	[ "$(json_get "$T/fetch.json" 'len(d["evidence"])')" = 2 ]; then
	ok "  --json: the case, every chunk downloaded, two evidence files, identity sealed"
else
	not_ok "  --json: the case, every chunk downloaded, two evidence files, identity sealed"
	diag "$(cat "$T/fetch.json")"
fi
check "fetch without --json prints what it wrote" fetch "$CASE" "$T/out-text"
if grep -q "report.json" "$OUT" && grep -q "identity stays sealed" "$OUT" && grep -q "$CASE" "$OUT"; then
	ok "  the case, the report and that the identity stays sealed"
else
	not_ok "  the case, the report and that the identity stays sealed"
	_diag_output out
fi

# --- refusals ---------------------------------------------------------------------------------
WHO=att
expect_exit 77 "an attorney's certificate is refused (77)" -m "403" fetch "$CASE" "$T/out-att"
WHO=off
check "  and nothing was written" test ! -e "$T/out-att"
expect_exit 77 "an unknown case is refused (77)" fetch 2026-999999 "$T/out-none"
check "  and nothing was written" test ! -e "$T/out-none"
echo 'not the passphrase' >"$T/wrongpw"
run sd fetch "$CASE" --server "$URL" --ca "$D/ca.pem" --cert "$D/off/cert.pem" --key "$D/off/key.pem" \
	--root "$P/root.key.pub" --intake "$P/intake.key" --passphrase-file "$T/wrongpw" --out "$T/out-pw"
if [ "$RC" = 77 ] && [ ! -e "$T/out-pw" ]; then ok "a wrong passphrase: 77 before anything is downloaded"; else not_ok "a wrong passphrase: 77 before anything is downloaded (exit $RC)"; _diag_output; fi
mkdir "$T/busy" && echo keep >"$T/busy/notes.txt"
expect_exit 73 "an --out directory holding other files is refused (73)" -m "notes.txt" fetch "$CASE" "$T/busy"
check "  and left as it was" test "$(tree_of "$T/busy")" = ./notes.txt
expect_exit 73 "a second fetch into the same directory is refused (73)" fetch "$CASE" "$T/out"
expect_exit 64 "a malformed case number is a usage error" fetch 2026-1 "$T/out-bad"

# --- an interrupted fetch resumes ---------------------------------------------------------------
random_file "$T/big.bin" 48
seal_filed "$T/b.sdx" --evidence "$T/big.bin" || done_testing
BCASE=$(json_get "$T/b.sdx.filed.json" 'd["case"]')
"$SEALDROP" fetch "$BCASE" --server "$URL" --ca "$D/ca.pem" --cert "$D/off/cert.pem" --key "$D/off/key.pem" \
	--root "$P/root.key.pub" --intake "$P/intake.key" --passphrase-file "$PW" --out "$T/outb" --parallel 1 \
	</dev/null >"$T/int.out" 2>"$T/int.err" &
fetcher=$!
# Once some MiB are on disk, freeze the server so the fetch is surely mid-way, interrupt
# the fetch (Ctrl-C), and let the server go on: the chunk in flight completes, no more.
stopped=no
i=0
while [ $i -lt 1500 ] && kill -0 $fetcher 2>/dev/null; do
	if [ -f "$T/outb/$BCASE.sdx.part" ] && [ "$(du -k "$T/outb/$BCASE.sdx.part" | cut -f1)" -ge 4096 ]; then
		kill -STOP "$SERVER_PID" && stopped=yes
		break
	fi
	sleep 0.01
	i=$((i + 1))
done
kill -INT $fetcher 2>/dev/null
sleep 0.3
[ $stopped = yes ] && kill -CONT "$SERVER_PID"
RC=0
wait $fetcher || RC=$?
if [ $stopped = yes ] && [ "$RC" = 130 ]; then ok "fetch interrupted mid-way dies of SIGINT (130)"; else not_ok "fetch interrupted mid-way dies of SIGINT (stopped=$stopped, exit $RC)"; diag "$(cat "$T/int.err")"; fi
if grep -q "run the same command again" "$T/int.err"; then ok "  and says how to resume"; else not_ok "  and says how to resume"; diag "$(cat "$T/int.err")"; fi
check "  the resume state is kept" test -s "$T/outb/$BCASE.sdx.fetch.json"
check "  no report, no evidence, no package under its final name yet" \
	test ! -e "$T/outb/report.json" -a ! -e "$T/outb/evidence" -a ! -e "$T/outb/$BCASE.sdx"
check "running it again completes" fetch "$BCASE" "$T/outb" --json
cp "$OUT" "$T/resume.json"
skipped=$(json_get "$T/resume.json" 'd["skipped"]' 2>/dev/null)
downloaded=$(json_get "$T/resume.json" 'd["downloaded"]' 2>/dev/null)
total=$(json_get "$T/resume.json" 'd["chunks"]' 2>/dev/null)
if [ -n "$skipped" ] && [ "$skipped" -ge 3 ] && [ "$(json_get "$T/resume.json" 'd["resumed"]')" = true ]; then
	ok "  it skipped the $skipped chunks already here"
else
	not_ok "  it skipped the chunks already here (skipped=$skipped)"
fi
if [ -n "$downloaded" ] && [ $((skipped + downloaded)) = "$total" ] && [ "$downloaded" -ge 1 ]; then
	ok "  skipped + downloaded = every chunk ($total)"
else
	not_ok "  skipped + downloaded = every chunk ($skipped + $downloaded vs $total)"
fi
check "  the evidence equals the original" cmp "$T/outb/evidence/big.bin" "$T/big.bin"
check "  the package equals the filed one" cmp "$T/outb/$BCASE.sdx" "$T/b.sdx"
check "  the resume state is gone" test ! -e "$T/outb/$BCASE.sdx.fetch.json" -a ! -e "$T/outb/$BCASE.sdx.part"

# --- a chunk altered in the server's store --------------------------------------------------------
# A copy of the stopped server in $T/tampered with one byte of blob 2's first chunk (the
# evidence's 553-byte metadata chunk) flipped; the server then runs on the copy.
stop_server
rm -rf "$T/tampered" && cp -a "$D" "$T/tampered" && rm -f "$T/tampered/control.sock"
sed "s|^dir .*|dir $T/tampered|" "$D/sealdropd.conf" >"$T/tampered/sealdropd.conf" && chmod 640 "$T/tampered/sealdropd.conf"
key=${UPLOAD}0000000200000000
val=$("$SD_LMDB" "$T/tampered/store" get chunks "$key")
bad=$("$PY" -c 'import sys; b = bytearray.fromhex(sys.argv[1]); b[100] ^= 1; print(b.hex())' "$val")
check "flip one byte of chunk 0 of blob 2 in the copy's store" "$SD_LMDB" "$T/tampered/store" put chunks "$key" "$bad"
if [ -n "$val" ] && [ "$("$SD_LMDB" "$T/tampered/store" get chunks "$key")" = "$bad" ] && [ "$bad" != "$val" ]; then
	ok "  the stored chunk now differs"
else
	not_ok "  the stored chunk now differs"
fi
start_server "$T/tampered/sealdropd.conf" || { not_ok "a server starts on the altered copy"; done_testing; }
expect_exit 65 "fetch catches the altered chunk (65)" -m "chunk 0 of blob 2" -m "manifest" fetch "$CASE" "$T/out-t"
check "  and leaves nothing behind" test ! -e "$T/out-t"
# The same with a directory that was already there: emptied of everything fetch wrote.
mkdir "$T/out-t2"
expect_exit 65 "into an existing directory too (65)" fetch "$CASE" "$T/out-t2" --parallel 1
check "  which is left empty" test -z "$(tree_of "$T/out-t2")"
stop_server

done_testing
