# server_auth.sh — who may do what on sealdropd, and what TLS it speaks (issue 3):
# a missing certificate, one from another CA, an account never enrolled, a disabled
# account and an officer on the filing routes are refused with 401/403 and store
# nothing; TLS 1.2 is refused; TLS 1.3 works and never issues a session ticket.
. "$(dirname "$0")/lib.sh"

mkserver || done_testing
run sd seal --directory "$D/directory.json" --root "$P/root.key.pub" --report docs/examples/report.json \
	--identity docs/examples/identity.json --out "$T/pkg.sdx" --codename-out "$T/pkg.codename" --quiet
[ "$RC" -eq 0 ] || { not_ok "set-up: seal"; _diag_output; }
# The envelope header alone: what POST /v1/uploads takes.
hlen=$("$PY" -c 'import struct,sys; d=open(sys.argv[1],"rb").read(16); print(struct.unpack("<I", d[12:16])[0])' "$T/pkg.sdx")
head -c "$hlen" "$T/pkg.sdx" >"$T/header.bin"

expect_status() { # want description who method path [curl options]
	_want=$1
	_d=$2
	shift 2
	_got=$(curl_status "$@")
	if [ "$_got" = "$_want" ]; then ok "$_d ($_want)"; else not_ok "$_d: status $_got, expected $_want"; diag "$(head -c 300 "$OUT")"; fi
}
expect_error() { # code
	_e=$(json_get "$OUT" 'd["error"]' 2>/dev/null)
	if [ "$_e" = "$1" ]; then ok "  error is $1"; else not_ok "  error is $1 (got '$_e')"; fi
}

# --- public routes ---
expect_status 200 "GET /v1/health needs no certificate" - GET /v1/health
expect_status 200 "GET /v1/directory needs no certificate" - GET /v1/directory
cp "$OUT" "$T/served.json"
check "/v1/directory serves the installed directory" cmp "$T/served.json" "$D/directory.json"
expect_status 200 "GET /v1/crl needs no certificate" - GET /v1/crl
cp "$OUT" "$T/served.crl"
check "/v1/crl is a CRL signed by the CA" openssl crl -inform DER -in "$T/served.crl" -CAfile "$D/ca.pem" -noout
expect_status 404 "an unknown route" - GET /v1/nothing
expect_error not_found
expect_status 405 "a known route with another method" - POST /v1/health -D "$T/405.head"
expect_error method_not_allowed
if tr -d '\r' <"$T/405.head" | grep -qx 'Allow: GET, HEAD'; then ok "  its Allow header lists GET, HEAD"; else not_ok "  its Allow header lists GET, HEAD"; diag "$(cat "$T/405.head")"; fi
expect_status 405 "a route that takes two methods" - PUT /v1/cases/2026-000001/notices -D "$T/405b.head"
if tr -d '\r' <"$T/405b.head" | grep -qx 'Allow: GET, HEAD, POST'; then ok "  its Allow header lists GET, HEAD, POST"; else not_ok "  its Allow header lists GET, HEAD, POST"; diag "$(cat "$T/405b.head")"; fi

# --- no certificate ---
expect_status 401 "POST /v1/uploads without a certificate" - POST /v1/uploads --data-binary @"$T/header.bin" -H 'Content-Type: application/octet-stream'
expect_error certificate_required
expect_status 401 "GET /v1/cases without a certificate" - GET /v1/cases

# --- a certificate from another CA, same names ---
mkdir -p "$D/rogue"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/OU=attorney/CN=Attorney Kim" \
	-keyout "$D/rogue/key.pem" -out "$D/rogue/cert.pem" 2>/dev/null
expect_status 401 "a certificate from another CA" rogue POST /v1/uploads --data-binary @"$T/header.bin"
expect_error certificate_invalid

# --- an officer on the filing routes ---
check "enroll an officer" sdd enroll --dir "$D" --role officer --name "Officer Park" --out "$D/officer"
expect_status 403 "an officer may not create uploads" officer POST /v1/uploads --data-binary @"$T/header.bin"
expect_error role_forbidden
expect_status 403 "an officer may not commit an upload" officer POST /v1/uploads/00112233445566778899aabbccddeeff/commit
expect_status 200 "an officer lists the Commission's cases (issue 5)" officer GET /v1/cases

# --- a disabled attorney, live ---
check "enroll a second attorney" sdd enroll --dir "$D" --role attorney --name "Attorney Lee" --out "$D/lee"
expect_status 200 "the second attorney may list cases" lee GET /v1/cases
serial=$(openssl x509 -in "$D/lee/cert.pem" -noout -serial | sed 's/^serial=//')
check "disable the second attorney" sdd disable --dir "$D" --name "Attorney Lee"
expect_status 403 "a disabled account is refused at once" lee POST /v1/uploads --data-binary @"$T/header.bin"
expect_error account_disabled
curl -s --cacert "$D/ca.pem" "$URL/v1/crl" -o "$T/crl.der"
if openssl crl -inform DER -in "$T/crl.der" -noout -text | tr -d ':' | grep -qi "$serial"; then
	ok "the disabled certificate's serial is on the CRL"
else
	not_ok "the disabled certificate's serial is on the CRL"
fi

# --- nothing was stored by any refusal ---
expect_status 200 "the enrolled attorney lists cases" att GET /v1/cases
n=$(json_get "$OUT" 'len(d["cases"])' 2>/dev/null)
if [ "$n" = 0 ]; then ok "no case exists after the refusals"; else not_ok "no case exists after the refusals (n=$n)"; fi
stop_server
entries=$(mdb_stat -s uploads "$D/store" 2>/dev/null | sed -n 's/^ *Entries: //p')
if [ "$entries" = 0 ]; then ok "no upload was stored"; else not_ok "no upload was stored (entries: $entries)"; fi
start_server "$D/sealdropd.conf" || not_ok "restart"

# --- TLS ---
if openssl s_client -tls1_2 -connect "127.0.0.1:$PORT" -CAfile "$D/ca.pem" </dev/null >"$T/tls12.txt" 2>&1; then
	not_ok "TLS 1.2 is refused"
else
	ok "TLS 1.2 is refused"
fi
if (sleep 1; echo) | openssl s_client -tls1_3 -msg -connect "127.0.0.1:$PORT" -CAfile "$D/ca.pem" -verify_return_error \
	-sess_out "$T/sess.pem" >"$T/tls13.txt" 2>&1; then
	ok "TLS 1.3 works and the server certificate verifies against ca.pem"
else
	not_ok "TLS 1.3 works and the server certificate verifies against ca.pem"
	diag "$(tail -n 5 "$T/tls13.txt")"
fi
if grep -q 'NewSessionTicket' "$T/tls13.txt"; then not_ok "no session ticket is sent"; else ok "no session ticket is sent"; fi
check "the handshake was TLSv1.3" grep -q 'TLSv1.3' "$T/tls13.txt"
stop_server
done_testing
