# server_acceptance.sh — the Acceptance block of issue 3 (the server), run as written
# with one change: the server listens on a free port instead of 8443, so the suite can
# run beside a demo or another test. Then checked: the case number, the receipt (its
# signature offline, and that a second filing returns the same receipt), GET /v1/cases.
. "$(dirname "$0")/lib.sh"

# P as the foundation's acceptance commands prepare it.
P=$(mktemp -d); echo 'correct horse battery staple' > $P/pw
D=$(mktemp -d)
rm_at_exit "$P"
rm_at_exit "$D"
PORT=$(free_port)
check "keygen root" ./sealdrop keygen --kind root --out $P/root.key --passphrase-file $P/pw --kdf interactive
check "keygen intake" ./sealdrop keygen --kind intake --out $P/intake.key --passphrase-file $P/pw --kdf interactive
check "keygen identity" ./sealdrop keygen --kind identity --out $P/identity.key --passphrase-file $P/pw --kdf interactive
cp README.md $P/memo.txt

# --- the block ---
check "sealdropd init" ./sealdropd init --dir $D --listen 127.0.0.1:$PORT
check "directory create --log --tls-ca" ./sealdrop directory create --deployment demo --intake $P/intake.key.pub --identity $P/identity.key.pub \
    --log $D/log.key.pub --tls-ca $D/ca.pem --root $P/root.key --passphrase-file $P/pw --out $D/directory.json
check "seal against the server's directory" ./sealdrop seal --directory $D/directory.json --root $P/root.key.pub --report docs/examples/report.json \
    --identity docs/examples/identity.json --evidence $P/memo.txt --out $P/pkg.sdx --codename-out $P/codename
if start_server $D/sealdropd.conf; then ok "sealdropd run answers /v1/health"; else not_ok "sealdropd run answers /v1/health"; diag "$(tail -n 5 "$SERVER_LOG")"; fi
check "sealdropd enroll an attorney" ./sealdropd enroll --dir $D --role attorney --name "Attorney Kim" --out $D/att
check "sealdrop file --json" ./sealdrop file $P/pkg.sdx --server https://127.0.0.1:$PORT --ca $D/ca.pem --cert $D/att/cert.pem --key $D/att/key.pem \
    --root $P/root.key.pub --json
cp "$OUT" "$T/file.json"
check "curl /v1/cases with the attorney's certificate" curl -sf --cacert $D/ca.pem --cert $D/att/cert.pem --key $D/att/key.pem https://127.0.0.1:$PORT/v1/cases
cp "$OUT" "$T/cases.json"

# --- what they did ---
for f in ca.pem ca.key server.pem server.key log.key log.key.pub sealdropd.conf; do
	check "init wrote $f" test -s $D/$f
done
m=$(file_mode $D/att/key.pem 2>/dev/null)
if [ "$m" = 600 ]; then ok "the attorney's key.pem has mode 0600"; else not_ok "the attorney's key.pem has mode 0600 (it is '$m')"; fi
case_no=$(json_get "$T/file.json" 'd["case"]' 2>/dev/null)
if printf '%s' "$case_no" | grep -Eq '^[0-9]{4}-[0-9]{6}$'; then ok "file printed a case number ($case_no)"; else not_ok "file printed a case number (got '$case_no')"; fi
check "PKG.receipt.json was written" test -s $P/pkg.sdx.receipt.json
check "receipt verify offline" ./sealdrop receipt verify $P/pkg.sdx.receipt.json --directory $D/directory.json --root $P/root.key.pub
rc_case=$(json_get $P/pkg.sdx.receipt.json 'd["receipt"]["case"]' 2>/dev/null)
if [ "$rc_case" = "$case_no" ]; then ok "the receipt names the same case"; else not_ok "the receipt names the same case ($rc_case vs $case_no)"; fi
n=$(json_get "$T/cases.json" 'len(d["cases"])' 2>/dev/null)
c=$(json_get "$T/cases.json" 'd["cases"][0]["case"]' 2>/dev/null)
if [ "$n" = 1 ] && [ "$c" = "$case_no" ]; then ok "/v1/cases lists exactly that case"; else not_ok "/v1/cases lists exactly that case (n=$n, first=$c)"; diag "$(cat "$T/cases.json")"; fi
received=$(json_get "$T/cases.json" 'd["cases"][0]["received"]' 2>/dev/null)
due=$(json_get "$T/cases.json" 'd["cases"][0]["decision_due"]' 2>/dev/null)
if [ -n "$received" ] && [ -n "$due" ] && [ "$due" \> "$received" ]; then ok "the case has a receipt date and a later decision deadline"; else not_ok "the case has a receipt date and a later decision deadline ($received, $due)"; fi

# Filing again is a retry, not a second case: the same receipt comes back.
cp $P/pkg.sdx.receipt.json "$T/first.receipt.json"
rm -f $P/pkg.sdx.receipt.json
check "filing the same package again succeeds" ./sealdrop file $P/pkg.sdx --server https://127.0.0.1:$PORT --ca $D/ca.pem --cert $D/att/cert.pem --key $D/att/key.pem \
    --root $P/root.key.pub --json
check "and returns the identical receipt" cmp "$T/first.receipt.json" $P/pkg.sdx.receipt.json
curl -sf --cacert $D/ca.pem --cert $D/att/cert.pem --key $D/att/key.pem https://127.0.0.1:$PORT/v1/cases >"$T/cases2.json"
n=$(json_get "$T/cases2.json" 'len(d["cases"])' 2>/dev/null)
if [ "$n" = 1 ]; then ok "still one case"; else not_ok "still one case (n=$n)"; fi

stop_server
if [ "$SERVER_RC" = 0 ]; then ok "SIGTERM stops the server cleanly (exit 0)"; else not_ok "SIGTERM stops the server cleanly (exit $SERVER_RC)"; diag "$(tail -n 5 "$SERVER_LOG")"; fi
# Every client connected from 127.0.0.1; only the line naming the listen address may say it.
if grep -v 'listening on' "$SERVER_LOG" | grep -q '127\.0\.0\.1'; then
	not_ok "the server log holds no client address"
else
	ok "the server log holds no client address"
fi
if grep -Eq '[0-9]{2}:[0-9]{2}:[0-9]{2}' "$SERVER_LOG"; then not_ok "the server log holds no time of day"; else ok "the server log holds no time of day"; fi
check "mdb_dump -a reads the store" mdb_dump -a $D/store
done_testing
