# doctor.sh — `sealdrop doctor` against a real deployment (issue 8, item 8): a good
# attorney set-up is all ok (exit 0), also read from a config file; --json lists every
# check as {"check", "status", "detail", "fix"}; a key.pem others can read is a FAIL with
# the chmod fix (77); an expired and a not-yet-valid certificate (signed here with the
# deployment's CA key by `openssl ca`, whose dates can be chosen) are FAILs; a stopped
# server is FAIL 69 "is the server running"; another deployment's directory and root, and
# a directory older than one already seen, are FAILs (65); the whistleblower's set-up (no
# certificate) skips the certificate checks; the locale is checked; the clock is compared
# with the server's signed log head (the test build's clock moves the server's date:
# three days ahead is FAIL 78 with the timedatectl fix, a day ahead a warning); a
# disabled account's certificate is not accepted (77).
. "$(dirname "$0")/lib.sh"

# --- usage ---
check "doctor --help" sd doctor --help
if grep -q -- '--directory D' "$OUT" && grep -q 'Exit status' "$OUT"; then ok "  documents its options and exit status"; else not_ok "  documents its options and exit status"; fi
expect_exit 64 "doctor with a stray argument" -m 'unexpected argument' sd doctor extra
expect_exit 64 "doctor with an unknown option" -m 'unknown option' sd doctor --bogus

# --- a deployment on the test clock: keys in $P, the server in $D, Attorney Kim in $D/att ---
if [ ! -x "$SEALDROPD_TESTCLOCK" ]; then
	not_ok "the test-clock server is built: $SEALDROPD_TESTCLOCK (make all-tests)"
	done_testing
fi
TODAY=$(date -u -d '+9 hours' +%F) # Korea Standard Time, as the client and server count days
day() { date -u -d "$TODAY $1 days" +%F; }
P=$T/p
D=$T/d
PORT=$(free_port)
URL=https://127.0.0.1:$PORT
mkdir -p "$P"
mkkey root "$P/root.key" && mkkey intake "$P/intake.key" && mkkey identity "$P/identity.key" || done_testing
run sdd init --dir "$D" --listen "127.0.0.1:$PORT"
[ "$RC" -eq 0 ] || { not_ok "set-up: sealdropd init"; _diag_output; done_testing; }
run sd directory create --deployment demo --intake "$P/intake.key.pub" --identity "$P/identity.key.pub" \
	--log "$D/log.key.pub" --tls-ca "$D/ca.pem" --root "$P/root.key" --passphrase-file "$PW" --out "$D/directory.json"
[ "$RC" -eq 0 ] || { not_ok "set-up: directory create"; _diag_output; done_testing; }
set_today "$T/today" "$TODAY"
start_server_testclock "$D/sealdropd.conf" "$T/today" || { not_ok "set-up: the server starts"; done_testing; }
run sdd enroll --dir "$D" --role attorney --name "Attorney Kim" --out "$D/att"
[ "$RC" -eq 0 ] || { not_ok "set-up: enroll the attorney"; _diag_output; done_testing; }

export LC_ALL=C.UTF-8 # an English UTF-8 locale: the locale check is ok
WB="--server $URL --ca $D/ca.pem --directory $D/directory.json --root $P/root.key.pub"
ATT="$WB --cert $D/att/cert.pem --key $D/att/key.pem"

# line CHECK: the text output's line for CHECK (status, check, detail).
line() {
	awk -v c="$1" '$2 == c' "$OUT"
}
# has STATUS CHECK [WORD]: the line of CHECK has STATUS (and mentions WORD).
has() {
	_l=$(line "$2")
	case $_l in "$1 "*) ;; *) return 1 ;; esac
	[ $# -lt 3 ] || printf '%s' "$_l" | grep -qiF -- "$3"
}
assert() { # description has-arguments...
	_d=$1
	shift
	if has "$@"; then ok "$_d"; else not_ok "$_d"; diag "$(line "$2")"; fi
}

# --- a good attorney set-up ---
# shellcheck disable=SC2086
check "a good attorney set-up: exit 0" sd doctor $ATT
n_ok=$(grep -c '^ok ' "$OUT")
if [ "$n_ok" -eq 16 ] && has skipped config && ! grep -Eq '^(warning|FAIL) ' "$OUT"; then
	ok "  every check ok (16), the config file skipped (there is none)"
else
	not_ok "  every check ok (16; $n_ok are), the config file skipped"
	diag "$(cat "$OUT")"
fi
assert "  the directory: deployment, version, root key" ok directory "deployment demo, version 1"
assert "  the certificate: name, role and expiry" ok cert '"Attorney Kim", role attorney'
assert "  the server's directory is the same" ok server-directory "the same as yours"
assert "  the certificate is accepted" ok account "accepts your certificate"
assert "  the clock agrees with the server's log head" ok clock "$TODAY"
if tail -n 1 "$OUT" | grep -q '^17 checks: 16 ok, 0 warnings, 0 failed, 1 skipped$'; then ok "  ends with the count"; else not_ok "  ends with the count"; diag "$(tail -n 1 "$OUT")"; fi

# the same from a config file
printf 'server %s\nca %s\ncert %s\nkey %s\nroot %s\n' "$URL" "$D/ca.pem" "$D/att/cert.pem" "$D/att/key.pem" \
	"$P/root.key.pub" >"$T/config"
chmod 600 "$T/config"
check "the same set-up from --config FILE: exit 0" sd doctor --config "$T/config" --directory "$D/directory.json"
assert "  the config file is read" ok config "$T/config"
assert "  and its certificate checked" ok account "accepts your certificate"
printf 'server %s\nbogus 1\n' "$URL" >"$T/bad-config"
expect_exit 78 "a config file with an unknown setting: exit 78, naming FILE:LINE" -m "bad-config:2" \
	sd doctor --config "$T/bad-config"

# --json
# shellcheck disable=SC2086
check "--json: exit 0" sd doctor $ATT --json
if json_is_valid "$OUT"; then ok "  parses"; else not_ok "  parses"; fi
jtrue "  every check has check, status, detail and fix" "$OUT" \
	'len(d["checks"]) == 17 and all(sorted(c) == ["check", "detail", "fix", "status"] and c["status"] in ("ok", "warning", "fail", "skipped") for c in d["checks"])'
jtrue "  counts and exit status" "$OUT" 'd["ok"] == 16 and d["failed"] == 0 and d["skipped"] == 1 and d["exit"] == 0'

# --- the locale ---
# shellcheck disable=SC2086
check "LC_ALL=C: still exit 0 (a warning)" env LC_ALL=C "$SEALDROP" doctor $ATT
assert "  the locale is a warning with the fix" warning locale "LANG=ko_KR.UTF-8"

# --- the whistleblower: a directory and the root key, no certificate ---
# shellcheck disable=SC2086
check "the whistleblower's set-up: exit 0" sd doctor $WB
for c in key cert cert-key cert-ca account; do
	assert "  $c: skipped, no certificate" skipped $c "no certificate"
done
assert "  the server's directory checked" ok server-directory "the same as yours"
cp "$D/directory.json" "$T/wb-dir.json"
check "  offline (directory and root only): exit 0" sd doctor --directory "$T/wb-dir.json" --root "$P/root.key.pub"
assert "  the directory verified" ok directory "signed by your root key"
assert "  the server skipped" skipped server "no server"

# --- key.pem others can read ---
mkdir -p "$T/att644"
cp "$D/att/cert.pem" "$D/att/key.pem" "$T/att644/"
chmod 644 "$T/att644/key.pem"
# shellcheck disable=SC2086
expect_exit 77 "a 0644 key.pem: FAIL 77" sd doctor $WB --cert "$T/att644/cert.pem" --key "$T/att644/key.pem"
assert "  with the chmod fix" FAIL key "fix: chmod 600 $T/att644/key.pem"

# --- certificates with chosen dates, signed with the deployment's CA key ---
# dated NAME START END: $T/NAME/cert.pem for Attorney Kim's key, valid START..END
# (YYYYMMDDHHMMSSZ), by `openssl ca` with the CA's own key $D/ca.key.
mkdir -p "$T/ca-db"
: >"$T/ca-db/index.txt"
cat >"$T/ca-db/openssl.cnf" <<EOF
[ ca ]
default_ca = doctor
[ doctor ]
database = $T/ca-db/index.txt
new_certs_dir = $T/ca-db
serial = $T/ca-db/serial
default_md = sha256
policy = anything
unique_subject = no
x509_extensions = client
[ anything ]
organizationalUnitName = optional
commonName = supplied
[ client ]
basicConstraints = CA:FALSE
keyUsage = digitalSignature
extendedKeyUsage = clientAuth
EOF
openssl req -new -key "$D/att/key.pem" -subj "/OU=attorney/CN=Attorney Kim" -out "$T/att.csr" 2>/dev/null
dated() {
	mkdir -p "$T/$1"
	cp "$D/att/key.pem" "$T/$1/key.pem"
	openssl rand -hex 16 >"$T/ca-db/serial"
	openssl ca -batch -notext -config "$T/ca-db/openssl.cnf" -cert "$D/ca.pem" -keyfile "$D/ca.key" \
		-in "$T/att.csr" -out "$T/$1/cert.pem" -startdate "$2" -enddate "$3" >"$T/ca-db/log" 2>&1
}
if dated expired "$(date -u -d '-40 days' +%Y%m%d%H%M%SZ)" "$(date -u -d '-2 days' +%Y%m%d%H%M%SZ)" &&
	dated future "$(date -u -d '+5 days' +%Y%m%d%H%M%SZ)" "$(date -u -d '+60 days' +%Y%m%d%H%M%SZ)" &&
	dated soon "$(date -u -d '-1 days' +%Y%m%d%H%M%SZ)" "$(date -u -d '+10 days' +%Y%m%d%H%M%SZ)"; then
	ok "set-up: certificates with chosen dates from the deployment's CA key"
	# shellcheck disable=SC2086
	expect_exit 65 "an expired certificate: FAIL 65" sd doctor $WB --cert "$T/expired/cert.pem" --key "$T/expired/key.pem"
	assert "  says when it expired" FAIL cert "expired on $(date -u -d '+9 hours -2 days' +%F)"
	assert "  says how to renew" FAIL cert "sealdropd renew"
	assert "  the server does not accept it either" FAIL account "not accepted"
	# shellcheck disable=SC2086
	expect_exit 78 "a certificate not valid yet: FAIL 78" sd doctor $WB --cert "$T/future/cert.pem" --key "$T/future/key.pem"
	assert "  your clock is behind" FAIL cert "your clock is behind"
	# shellcheck disable=SC2086
	run sd doctor $WB --cert "$T/soon/cert.pem" --key "$T/soon/key.pem"
	assert "a certificate that expires in 10 days: a warning to renew" warning cert "ask your operator to renew"
else
	not_ok "set-up: certificates with chosen dates from the deployment's CA key"
	diag "$(tail -n 5 "$T/ca-db/log")"
fi
# a certificate from another CA
mkdir -p "$T/other-ca"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=Other CA" -days 30 \
	-keyout "$T/other-ca/key.pem" -out "$T/other-ca/cert.pem" 2>/dev/null
# shellcheck disable=SC2086
expect_exit 65 "a certificate from another CA: FAIL 65" sd doctor $WB --cert "$T/other-ca/cert.pem" --key "$T/other-ca/key.pem"
assert "  not issued by --ca" FAIL cert-ca "was not issued by"
# a key that is not the certificate's
mkdir -p "$T/mixed"
cp "$D/att/cert.pem" "$T/mixed/cert.pem"
cp "$T/other-ca/key.pem" "$T/mixed/key.pem"
# shellcheck disable=SC2086
expect_exit 65 "a key that is not the certificate's: FAIL 65" sd doctor $WB --cert "$T/mixed/cert.pem" --key "$T/mixed/key.pem"
assert "  says so" FAIL cert-key "is not the key of"

# --- another deployment's directory and root ---
mkdeployment "$T/other" other || done_testing
expect_exit 65 "another deployment's directory and root against this server: FAIL 65" \
	sd doctor --server "$URL" --ca "$D/ca.pem" --directory "$T/other/directory.json" --root "$T/other/root.key.pub"
assert "  the server's directory is not signed by that root" FAIL server-directory "another deployment"
expect_exit 65 "another deployment's directory with this root: FAIL 65" \
	sd doctor --directory "$T/other/directory.json" --root "$P/root.key.pub"
assert "  not signed by your root key" FAIL directory "not signed by your root key"

# --- versions: a newer local directory, then the older one again ---
run sd directory create --deployment demo --intake "$P/intake.key.pub" --identity "$P/identity.key.pub" \
	--log "$D/log.key.pub" --tls-ca "$D/ca.pem" --root "$P/root.key" --passphrase-file "$PW" --version 2 \
	--out "$T/dir-v2.json"
# shellcheck disable=SC2086
expect_exit 65 "a local directory newer than the server's: FAIL 65" \
	env XDG_STATE_HOME="$T/state2" "$SEALDROP" doctor --server "$URL" --ca "$D/ca.pem" --directory "$T/dir-v2.json" \
	--root "$P/root.key.pub"
assert "  the server's is older" FAIL server-directory "older than yours"
expect_exit 65 "then version 1 again (a rollback): FAIL 65" \
	env XDG_STATE_HOME="$T/state2" "$SEALDROP" doctor --directory "$D/directory.json" --root "$P/root.key.pub"
assert "  older than a version already seen" FAIL directory-version "already seen"

# --- the clock: the server's date moves (the test build's clock), a head is published ---
set_today "$T/today" "$(day +3)"
run sdd audit publish --config "$D/sealdropd.conf"
# shellcheck disable=SC2086
expect_exit 78 "the server's date 3 days ahead: FAIL 78" sd doctor $ATT
assert "  your clock is behind, with the fix" FAIL clock "3 days behind"
assert "  the fix sets the clock" FAIL clock "timedatectl set-ntp true"
set_today "$T/today" "$(day +1)"
run sdd audit publish --config "$D/sealdropd.conf"
# shellcheck disable=SC2086
check "the server's date a day ahead: exit 0" sd doctor $ATT
assert "  a warning" warning clock "a day after"
set_today "$T/today" "$TODAY"
run sdd audit publish --config "$D/sealdropd.conf"
# shellcheck disable=SC2086
check "the server's date today again: exit 0" sd doctor $ATT
assert "  the clock is ok" ok clock "agrees"

# --- a disabled account ---
run sdd disable --dir "$D" --name "Attorney Kim"
# shellcheck disable=SC2086
expect_exit 77 "a disabled account's certificate: FAIL 77" sd doctor $ATT
assert "  is the account disabled?" FAIL account "is the account disabled"

# --- the server stopped ---
stop_server
# shellcheck disable=SC2086
expect_exit 69 "the server stopped: FAIL 69" sd doctor $WB
assert "  is the server running?" FAIL server "is the server running"
for c in health server-directory; do
	assert "  $c: skipped" skipped $c "not reached"
done

done_testing
