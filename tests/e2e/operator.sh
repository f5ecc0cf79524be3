# operator.sh — the operator's commands (issue 3, "Operator commands"), driven the way an
# operator types them: `sealdropd init` (every file, its mode and owner, the certificates'
# names and CRL point, refusing a second init), `check-config` on a good and a broken
# file, the control-socket commands failing with exit 69 while no server runs, then a
# running server on a free port: enroll (fingerprint, files, a duplicate name refused,
# from a CSR, --cert-out and --out checked before anything is recorded, a write failing
# afterwards naming the recovery), disable (live, idempotent, the serial on the CRL served at /v1/crl), and
# directory install (a lower version or one without the server's keys refused, a higher
# one served at /v1/directory), and a clean exit on SIGTERM.
. "$(dirname "$0")/lib.sh"

if [ ! -x "$SEALDROPD" ]; then
	not_ok "$SEALDROPD is built (run make)"
	done_testing
fi


mode_is() { # want path description
	_m=$(file_mode "$2" 2>/dev/null)
	if [ "$_m" = "$1" ]; then ok "$3 has mode $1"; else not_ok "$3 has mode $1 (it is '$_m')"; fi
}

P=$T/p
D=$T/d
PORT=$(free_port)
URL=https://127.0.0.1:$PORT

# --- the binary ------------------------------------------------------------------------
check "sealdropd --version" sdd --version
if grep -q '^sealdropd [0-9]' "$OUT"; then ok "--version names sealdropd"; else not_ok "--version names sealdropd"; fi
check "sealdropd --help" sdd --help
cp "$OUT" "$T/help.txt"
for c in init run check-config enroll disable directory; do
	grep -q "^  $c " "$T/help.txt" || not_ok "--help lists $c"
	check "sealdropd $c --help" sdd $c --help
done
expect_exit 64 "an unknown command is a usage error" -m "unknown command" sdd frobnicate
expect_exit 64 "init without --dir is a usage error" -m "--dir" sdd init
expect_exit 64 "enroll with both --out and --csr is a usage error" sdd enroll --dir "$D" --role attorney --name x \
	--out "$T/x" --csr "$T/x.csr" --cert-out "$T/x.pem"
expect_exit 64 "enroll with an unknown role is a usage error" -m "--role" sdd enroll --dir "$D" --role admin --name x --out "$T/x"

# --- init ------------------------------------------------------------------------------
expect_exit 64 "init with a bad --listen is refused" -m "listen" sdd init --dir "$T/bad" --listen 127.0.0.1:99999
if [ -e "$T/bad" ]; then not_ok "a refused init leaves no directory behind"; else ok "a refused init leaves no directory behind"; fi

check "init --dir D --listen 127.0.0.1:PORT" sdd init --dir "$D" --listen "127.0.0.1:$PORT"
keep_output
if grep -q "sealdrop directory create" "$KEPT_OUT" && grep -q -- "--log $D/log.key.pub --tls-ca $D/ca.pem" "$KEPT_OUT" &&
	grep -q "sealdropd run --config $D/sealdropd.conf" "$KEPT_OUT"; then
	ok "init prints the next steps: directory create, then run"
else
	not_ok "init prints the next steps: directory create, then run"
	diag "$(cat "$KEPT_OUT")"
fi
mode_is 700 "$D" "DIR"
for f in ca.key server.key log.key; do mode_is 600 "$D/$f" "$f"; done
for f in ca.pem server.pem log.key.pub; do mode_is 644 "$D/$f" "$f"; done
mode_is 640 "$D/sealdropd.conf" "sealdropd.conf"
mode_is 700 "$D/store" "store/"
check "the LMDB environment exists and mdb_stat reads it" mdb_stat -e "$D/store"
user=$(sed -n 's/^user //p' "$D/sealdropd.conf")
if [ "$(id -u)" = 0 ]; then
	bad=$(find "$D" ! -user "$user" | head -n 3)
	if [ -n "$user" ] && id "$user" >/dev/null 2>&1 && [ -z "$bad" ]; then
		ok "as root, init made the user '$user' and gave it everything in DIR"
	else
		not_ok "as root, init made the user '$user' and gave it everything in DIR (not: $bad)"
	fi
else
	skip "ownership by the server's user (not root)"
fi
if grep -qx "listen 127.0.0.1:$PORT" "$D/sealdropd.conf" && grep -qx "hostname localhost" "$D/sealdropd.conf" &&
	grep -qx "hostname 127.0.0.1" "$D/sealdropd.conf" && grep -q '^# ' "$D/sealdropd.conf"; then
	ok "sealdropd.conf: listen, the default hostnames, comments"
else
	not_ok "sealdropd.conf: listen, the default hostnames, comments"
fi
check "log.key.pub is a sealdrop log public key" grep -q '^sealdrop-pubkey-v1 log ' "$D/log.key.pub"
check "the server certificate verifies against the CA" openssl verify -CAfile "$D/ca.pem" "$D/server.pem"
openssl x509 -in "$D/server.pem" -noout -text >"$T/server.txt" 2>&1
if grep -q 'DNS:localhost' "$T/server.txt" && grep -q 'IP Address:127.0.0.1' "$T/server.txt"; then
	ok "the server certificate names localhost and 127.0.0.1"
else
	not_ok "the server certificate names localhost and 127.0.0.1"
fi
if grep -q "URI:https://localhost:$PORT/v1/crl" "$T/server.txt"; then
	ok "the server certificate's CRL point is https://localhost:$PORT/v1/crl"
else
	not_ok "the server certificate's CRL point is https://localhost:$PORT/v1/crl"
fi
days=$("$PY" -c 'import subprocess, sys, datetime
def when(flag):
    out = subprocess.run(["openssl", "x509", "-in", sys.argv[1], "-noout", flag], capture_output=True, text=True).stdout
    return datetime.datetime.strptime(out.split("=", 1)[1].strip(), "%b %d %H:%M:%S %Y %Z")
print((when("-enddate") - when("-startdate")).days)' "$D/server.pem" 2>/dev/null)
if [ -n "$days" ] && [ "$days" -le 398 ]; then ok "the server certificate is valid $days days (<= 398)"; else not_ok "server certificate validity <= 398 days (got '$days')"; fi
if openssl x509 -in "$D/ca.pem" -noout -text | grep -q 'prime256v1\|P-256'; then ok "the CA key is ECDSA P-256"; else not_ok "the CA key is ECDSA P-256"; fi

sum_before=$(cat "$D/ca.pem" "$D/sealdropd.conf" | sha256sum)
expect_exit 73 "a second init of the same DIR is refused" -m "already holds" sdd init --dir "$D" --listen "127.0.0.1:$PORT"
if [ "$(cat "$D/ca.pem" "$D/sealdropd.conf" | sha256sum)" = "$sum_before" ]; then
	ok "the refused init changed nothing"
else
	not_ok "the refused init changed nothing"
fi

# Other names: the listen address joins them, the first names the CRL point.
check "init with --hostname and another listen address" sdd init --dir "$T/d2" --hostname drop.example.org \
	--listen 127.0.0.2:8444 --head-interval 600 --user "${user:-sealdrop}"
if grep -qx "hostname drop.example.org" "$T/d2/sealdropd.conf" && grep -qx "hostname 127.0.0.2" "$T/d2/sealdropd.conf" &&
	! grep -qx "hostname localhost" "$T/d2/sealdropd.conf" && grep -qx "head_interval 10m" "$T/d2/sealdropd.conf"; then
	ok "--hostname replaces the defaults, the listen address is added, --head-interval is kept"
else
	not_ok "--hostname replaces the defaults, the listen address is added, --head-interval is kept"
	diag "$(grep -E '^(hostname|listen|head_interval)' "$T/d2/sealdropd.conf")"
fi
if openssl x509 -in "$T/d2/server.pem" -noout -text | grep -q 'URI:https://drop.example.org:8444/v1/crl'; then
	ok "its CRL point uses the first hostname"
else
	not_ok "its CRL point uses the first hostname"
fi

# --- check-config ----------------------------------------------------------------------
check "check-config on the new configuration" sdd check-config --config "$D/sealdropd.conf"
if grep -qx "configuration ok.*" "$OUT" && grep -q "sealdrop directory create" "$ERR"; then
	ok "check-config: ok, with a warning that directory.json is missing and how to make it"
else
	not_ok "check-config: ok, with a warning that directory.json is missing and how to make it"
	_diag_output out
fi
cp "$D/sealdropd.conf" "$T/broken.conf"
printf 'listen nowhere\nmax_connections 0\nfrobs 3\n' >>"$T/broken.conf"
expect_exit 78 "check-config on a broken file exits 78" sdd check-config --config "$T/broken.conf"
n=$(grep -c "^$T/broken.conf:[0-9][0-9]*: " "$ERR")
if [ "$n" -eq 3 ]; then ok "every error is named FILE:LINE (3)"; else not_ok "every error is named FILE:LINE (3; got $n)"; diag "$(cat "$ERR")"; fi
expect_exit 66 "check-config on a missing file" sdd check-config --config "$T/nothing.conf"
chmod 644 "$D/ca.key"
expect_exit 78 "check-config notices a CA key others can read" -m "ca.key" -m "chmod 600" sdd check-config --config "$D/sealdropd.conf"
chmod 600 "$D/ca.key"
mv "$D/log.key" "$T/log.key.aside"
expect_exit 78 "check-config notices a missing log key" -m "log.key" sdd check-config --config "$D/sealdropd.conf"
mv "$T/log.key.aside" "$D/log.key"

# --- while no server runs --------------------------------------------------------------
expect_exit 69 "enroll while the server is down exits 69" -m "cannot reach sealdropd at $D/control.sock" \
	-m "is it running?" sdd enroll --dir "$D" --role attorney --name "Attorney Kim" --out "$T/att"
if [ -e "$T/att" ]; then not_ok "the failed enroll left no OUTDIR"; else ok "the failed enroll left no OUTDIR"; fi
expect_exit 69 "disable while the server is down exits 69" -m "is it running?" sdd disable --dir "$D" --name "Attorney Kim"
echo '{}' >"$T/empty.json"
expect_exit 69 "directory install while the server is down exits 69" -m "is it running?" \
	sdd directory install --dir "$D" "$T/empty.json"

# --- a running server -------------------------------------------------------------------
mkdir -p "$P"
mkkey root "$P/root.key" && mkkey intake "$P/intake.key" && mkkey identity "$P/identity.key"
mkdir_opts="--deployment demo --intake $P/intake.key.pub --identity $P/identity.key.pub --root $P/root.key --passphrase-file $PW"
# shellcheck disable=SC2086 # the options split on purpose
check "sign a directory listing the log key and the CA" sd directory create $mkdir_opts \
	--log "$D/log.key.pub" --tls-ca "$D/ca.pem" --out "$D/directory.json"
[ "$(id -u)" = 0 ] && [ -n "$user" ] && chown "$user" "$D/directory.json"
if ! start_server "$D/sealdropd.conf"; then
	not_ok "sealdropd run starts"
	diag "$(tail -n 8 "$SERVER_LOG")"
	done_testing
fi
ok "sealdropd run starts and answers /v1/health"

check "enroll an attorney with a new key" sdd enroll --dir "$D" --role attorney --name "Attorney Kim" --out "$T/att"
fp=$(sed -n 's/^fingerprint //p' "$OUT")
if printf '%s' "$fp" | grep -qxE '[0-9a-f]{64}'; then ok "enroll prints the fingerprint"; else not_ok "enroll prints the fingerprint (got '$fp')"; fi
mode_is 600 "$T/att/key.pem" "OUTDIR/key.pem"
mode_is 644 "$T/att/cert.pem" "OUTDIR/cert.pem"
mode_is 700 "$T/att" "OUTDIR"
real=$(openssl x509 -in "$T/att/cert.pem" -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1)
if [ "$real" = "$fp" ]; then ok "the fingerprint is the SHA-256 of the certificate"; else not_ok "the fingerprint is the SHA-256 of the certificate"; fi
openssl x509 -in "$T/att/cert.pem" -noout -subject -nameopt RFC2253 >"$T/subject.txt" 2>&1
if grep -q 'CN=Attorney Kim' "$T/subject.txt" && grep -q 'OU=attorney' "$T/subject.txt"; then
	ok "the certificate says CN=Attorney Kim, OU=attorney"
else
	not_ok "the certificate says CN=Attorney Kim, OU=attorney ($(cat "$T/subject.txt"))"
fi
if openssl x509 -in "$T/att/cert.pem" -noout -text | grep -q "URI:https://localhost:$PORT/v1/crl"; then
	ok "the client certificate names the CRL point"
else
	not_ok "the client certificate names the CRL point"
fi
check "the attorney's key is the certificate's" sh -c "[ \"\$(openssl pkey -in '$T/att/key.pem' -pubout)\" = \"\$(openssl x509 -in '$T/att/cert.pem' -noout -pubkey)\" ]"

expect_exit 73 "a second account with the same name is refused" -m "already exists" \
	sdd enroll --dir "$D" --role officer --name "Attorney Kim" --out "$T/att2"
if [ -e "$T/att2" ]; then not_ok "the refused enroll left no OUTDIR"; else ok "the refused enroll left no OUTDIR"; fi
expect_exit 73 "enroll never overwrites an existing key.pem" -m "key.pem" \
	sdd enroll --dir "$D" --role officer --name "Officer Lee" --out "$T/att"

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=ignored" \
	-keyout "$T/own.key" -out "$T/own.csr" 2>/dev/null
check "enroll from a CSR" sdd enroll --dir "$D" --role officer --name "Officer Lee" --csr "$T/own.csr" \
	--cert-out "$T/lee.pem" --json
if json_is_valid "$OUT" && [ "$(json_get "$OUT" 'd["role"]')" = officer ]; then ok "enroll --json prints JSON"; else not_ok "enroll --json prints JSON"; fi
if [ "$(openssl pkey -in "$T/own.key" -pubout)" = "$(openssl x509 -in "$T/lee.pem" -noout -pubkey)" ]; then
	ok "the certificate from a CSR carries the CSR's key"
else
	not_ok "the certificate from a CSR carries the CSR's key"
fi

# --- --cert-out is checked before the server records anything ---
newcsr() { # name
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=ignored" \
		-keyout "$T/$1.key" -out "$T/$1.csr" 2>/dev/null
}
newcsr yoon
expect_exit 66 "enroll --cert-out into a missing directory is refused" -m "$T/nodir" -m "nothing was changed" \
	sdd enroll --dir "$D" --role attorney --name "Attorney Yoon" --csr "$T/yoon.csr" --cert-out "$T/nodir/yoon.pem"
if [ -e "$T/nodir" ]; then not_ok "the refused enroll made no directory"; else ok "the refused enroll made no directory"; fi
check "nothing was recorded: the same name then enrolls with a good --cert-out" \
	sdd enroll --dir "$D" --role attorney --name "Attorney Yoon" --csr "$T/yoon.csr" --cert-out "$T/yoon.pem"
if [ "$(openssl pkey -in "$T/yoon.key" -pubout)" = "$(openssl x509 -in "$T/yoon.pem" -noout -pubkey 2>/dev/null)" ]; then
	ok "its certificate is written"
else
	not_ok "its certificate is written"
fi
newcsr han
echo 'an earlier certificate' >"$T/taken.pem"
expect_exit 73 "enroll --cert-out onto an existing file is refused" -m "$T/taken.pem" -m "already exists" \
	sdd enroll --dir "$D" --role attorney --name "Attorney Han" --csr "$T/han.csr" --cert-out "$T/taken.pem"
if [ "$(cat "$T/taken.pem")" = 'an earlier certificate' ]; then ok "the existing file is untouched"; else not_ok "the existing file is untouched"; fi
check "nothing was recorded: the same name then enrolls" \
	sdd enroll --dir "$D" --role attorney --name "Attorney Han" --csr "$T/han.csr" --cert-out "$T/han.pem"
expect_exit 66 "renew --cert-out into a missing directory is refused" -m "$T/nodir" \
	sdd renew --dir "$D" --name "Attorney Han" --csr "$T/han.csr" --cert-out "$T/nodir/han.pem"
expect_exit 66 "enroll --out under a missing directory is refused" -m "$T/nodir" \
	sdd enroll --dir "$D" --role attorney --name "Attorney Nam" --out "$T/nodir/nam"

# A write that fails after the server recorded the certificate (here: a file size limit
# of 0, as a full disk would): the message says what stands and how to recover, and the
# commands it gives work. Its stderr goes through a pipe: the limit would stop a file.
newcsr seo
: >"$OUT"
RC=$({ {
	sh -c 'trap "" XFSZ; ulimit -f 0; exec "$@"' sh "$SEALDROPD" enroll --dir "$D" --role attorney \
		--name "Attorney Seo" --csr "$T/seo.csr" --cert-out "$T/seo.pem" 2>&1 >/dev/null </dev/null
	echo $? >&3
} | cat >"$ERR"; } 3>&1)
lost=$(sed -n 's/.*(fingerprint \([0-9a-f]\{64\}\)).*/\1/p' "$ERR")
if [ "$RC" = 74 ] && [ -n "$lost" ] && grep -qF "the account is enrolled" "$ERR" &&
	grep -qF "sealdropd renew --dir $D --name 'Attorney Seo'" "$ERR" &&
	grep -qF "sealdropd revoke --dir $D --fingerprint $lost" "$ERR"; then
	ok "a certificate write failing after the enrolment exits 74 and names renew and revoke"
else
	not_ok "a certificate write failing after the enrolment exits 74 and names renew and revoke (exit $RC)"
	_diag_output
fi
if [ -e "$T/seo.pem" ] || [ -n "$(tmp_leftovers "$T")" ]; then not_ok "it left no file behind"; else ok "it left no file behind"; fi
check "the recovery: renew writes a certificate" \
	sdd renew --dir "$D" --name "Attorney Seo" --csr "$T/seo.csr" --cert-out "$T/seo.pem"
check "the recovery: the unwritten certificate is revoked" sdd revoke --dir "$D" --fingerprint "$lost"

# --- disable ---
serial=$(openssl x509 -in "$T/att/cert.pem" -noout -serial | sed 's/^serial=//')
check "disable the attorney" sdd disable --dir "$D" --name "Attorney Kim"
check "disabling again is not an error" sdd disable --dir "$D" --name "Attorney Kim"
grep -q "already disabled" "$OUT" || not_ok "the second disable says it was already disabled"
expect_exit 66 "disable an unknown name" -m "no account" sdd disable --dir "$D" --name "Nobody"
code=$(curl -s -o "$T/crl.der" -w '%{http_code}' --cacert "$D/ca.pem" "$URL/v1/crl")
if [ "$code" = 200 ] && openssl crl -inform DER -in "$T/crl.der" -noout -text 2>/dev/null | grep -qi "Serial Number: $serial"; then
	ok "/v1/crl lists the disabled certificate's serial"
else
	not_ok "/v1/crl lists the disabled certificate's serial ($serial; status $code)"
fi
check "the CRL verifies against the CA" openssl crl -inform DER -in "$T/crl.der" -CAfile "$D/ca.pem" -noout

# --- directory install ---
# shellcheck disable=SC2086
sd directory create $mkdir_opts --log "$D/log.key.pub" --tls-ca "$D/ca.pem" --version 3 --out "$T/dir3.json" >/dev/null 2>&1
# shellcheck disable=SC2086
sd directory create $mkdir_opts --log "$D/log.key.pub" --tls-ca "$D/ca.pem" --version 2 --out "$T/dir2.json" >/dev/null 2>&1
# shellcheck disable=SC2086
sd directory create $mkdir_opts --version 4 --out "$T/dir4-nokeys.json" >/dev/null 2>&1
check "install directory version 3" sdd directory install --dir "$D" "$T/dir3.json"
code=$(curl -s -o "$T/served.json" -w '%{http_code}' --cacert "$D/ca.pem" "$URL/v1/directory")
if [ "$code" = 200 ] && cmp -s "$T/served.json" "$T/dir3.json"; then ok "/v1/directory serves version 3 at once"; else not_ok "/v1/directory serves version 3 at once (status $code)"; fi
if cmp -s "$D/directory.json" "$T/dir3.json"; then ok "DIR/directory.json is version 3"; else not_ok "DIR/directory.json is version 3"; fi
expect_exit 77 "a lower version is refused" -m "lower" sdd directory install --dir "$D" "$T/dir2.json"
expect_exit 77 "a directory without the server's log key and CA is refused" -m "log key" \
	sdd directory install --dir "$D" "$T/dir4-nokeys.json"
expect_exit 65 "a file that is not a directory is refused" sdd directory install --dir "$D" "$T/empty.json"
curl -s -o "$T/served.json" --cacert "$D/ca.pem" "$URL/v1/directory"
if cmp -s "$T/served.json" "$T/dir3.json"; then ok "after the refusals version 3 is still served"; else not_ok "after the refusals version 3 is still served"; fi

# --- stopping ---
stop_server
if [ "$SERVER_RC" = 0 ]; then ok "SIGTERM stops the server with status 0"; else not_ok "SIGTERM stops the server with status 0 (got $SERVER_RC)"; fi
expect_exit 69 "once it stopped, enroll exits 69 again" -m "is it running?" \
	sdd enroll --dir "$D" --role attorney --name "Attorney Choi" --out "$T/choi"

done_testing
