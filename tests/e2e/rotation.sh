# rotation.sh — key rotation, an officer leaving and certificate renewal, end to end
# (issue 8, item 4; docs/OPERATIONS.md, "An officer leaves", "Rotate the intake or
# identity key", "Renew a certificate"). On a live server: case A is sealed to intake
# key 1; a directory version 2 with intake key 2 is installed; a whistleblower who takes
# the server's directory after that seals case B to key 2. An officer who keeps both key
# files (--intake twice) opens both cases, and only the file the package names is asked
# its passphrase; with key 2 alone, case A is refused naming key 1's id. After the
# identity key too is rotated (version 3), a custodian unseals case A with both identity
# keys: the package's (key 1) and the one the new consent grants (key 2). The leaving
# officer's account is disabled: refused, its serial on /v1/crl. An attorney renews its
# certificate: both certificates work, the new one sees and files the account's cases
# (also after a restart), the audit log has the certificate-renewed leaf, and once the old
# certificate is revoked it is refused and on the CRL.
. "$(dirname "$0")/lib.sh"

if [ ! -x "$SEALDROPD" ]; then
	not_ok "$SEALDROPD is built (run make)"
	done_testing
fi
# A test directory: the consent below derives the codename's keys with the minimal limits.
MK_DIRECTORY_OPTS=--test
mkserver || done_testing
run sdd enroll --dir "$D" --role custodian --name "Custodian Han" --out "$D/cust"
[ "$RC" -eq 0 ] || { not_ok "set-up: enroll a custodian"; _diag_output; done_testing; }
run sdd enroll --dir "$D" --role officer --name "Officer Lee" --out "$D/off"
[ "$RC" -eq 0 ] || { not_ok "set-up: enroll an officer"; _diag_output; done_testing; }
run sdd enroll --dir "$D" --role officer --name "Officer Cho" --out "$D/cho"
[ "$RC" -eq 0 ] || { not_ok "set-up: enroll the officer who leaves"; _diag_output; done_testing; }

NET="--server $URL --ca $D/ca.pem --root $P/root.key.pub"
OFF="--cert $D/off/cert.pem --key $D/off/key.pem"
# seal_file DIRECTORY OUT: a whistleblower seals with DIRECTORY, the attorney (WHO) files
# it; the case number in $CASE.
seal_file() {
	CASE=""
	run sd seal --directory "$1" --root "$P/root.key.pub" --report docs/examples/report.json \
		--identity docs/examples/identity.json --out "$2" --codename-out "$2.codename" --quiet
	[ "$RC" -eq 0 ] || { not_ok "set-up: seal $2"; _diag_output; return 1; }
	run sd file "$2" $NET --cert "$D/${WHO:-att}/cert.pem" --key "$D/${WHO:-att}/key.pem" --json
	[ "$RC" -eq 0 ] || { not_ok "set-up: file $2"; _diag_output; return 1; }
	CASE=$(json_get "$OUT" 'd["case"]')
}
# fetch CASE OUT [options]: as the officer.
fetch() {
	_case=$1
	_out=$2
	shift 2
	run sd fetch "$_case" $NET $OFF --out "$_out" "$@"
}
# The status of GET PATH with WHO's certificate ($D/WHO): body in $OUT.
as() { # who method path
	curl_status "$@"
}
# Whether the serial of a certificate is on the served CRL.
on_crl() { # cert.pem
	_serial=$(openssl x509 -in "$1" -noout -serial | sed 's/^serial=//')
	curl -s --cacert "$D/ca.pem" "$URL/v1/crl" -o "$T/crl.der"
	openssl crl -inform DER -in "$T/crl.der" -noout -text | tr -d ':' | grep -qi "$_serial"
}
fingerprint() { # cert.pem
	openssl x509 -in "$1" -outform DER | sha256sum | cut -c1-64
}

K1_ID=$(json_get "$D/directory.json" 'd["signed"]["keys"]["intake"]["id"]')
seal_file "$D/directory.json" "$T/a.sdx" || done_testing
CASE_A=$CASE
ok "case A ($CASE_A) is sealed to intake key 1 ($K1_ID) and filed"

# --- rotate the intake key: directory version 2, installed live ----------------------------
run sd keygen --kind intake --out "$P/intake2.key" --passphrase-file "$PW" --kdf interactive --json
K2_ID=$(json_get "$OUT" 'd["key_id"]')
check "a new intake key (key 2)" test -n "$K2_ID"
check "the root key holder signs directory version 2 with intake key 2" \
	sd directory create --deployment demo --version 2 --intake "$P/intake2.key.pub" \
	--identity "$P/identity.key.pub" --log "$D/log.key.pub" --tls-ca "$D/ca.pem" --root "$P/root.key" \
	--passphrase-file "$PW" --test --out "$T/directory-v2.json"
check "the operator installs it while the server runs" sdd directory install --dir "$D" "$T/directory-v2.json"
code=$(as - GET /v1/directory)
cp "$OUT" "$T/wb-directory.json"
if [ "$code" = 200 ] && [ "$(json_get "$T/wb-directory.json" 'd["signed"]["version"]')" = 2 ] &&
	[ "$(json_get "$T/wb-directory.json" 'd["signed"]["keys"]["intake"]["id"]')" = "$K2_ID" ]; then
	ok "a whistleblower's client now gets version 2, naming intake key 2"
else
	not_ok "a whistleblower's client now gets version 2, naming intake key 2 (status $code)"
fi
seal_file "$T/wb-directory.json" "$T/b.sdx" || done_testing
CASE_B=$CASE
ok "case B ($CASE_B) is sealed with the served directory and filed"

# --- an officer keeps both intake keys --------------------------------------------------------
fetch "$CASE_A" "$T/fa" --intake "$P/intake.key" --intake "$P/intake2.key" --passphrase-file "$PW"
if [ "$RC" -eq 0 ] && cmp -s "$T/fa/report.json" docs/examples/report.json; then
	ok "--intake k1 --intake k2 opens case A"
else
	not_ok "--intake k1 --intake k2 opens case A (exit $RC)"
	_diag_output
fi
fetch "$CASE_B" "$T/fb" --intake "$P/intake.key" --intake "$P/intake2.key" --passphrase-file "$PW"
if [ "$RC" -eq 0 ] && cmp -s "$T/fb/report.json" docs/examples/report.json; then
	ok "--intake k1 --intake k2 opens case B (sealed to key 2)"
else
	not_ok "--intake k1 --intake k2 opens case B (exit $RC)"
	_diag_output
fi
expect_exit 65 "with key 2 alone, case A is refused naming key 1's id and the id given" \
	-m "intake key $K1_ID" -m "is key $K2_ID" \
	sd fetch "$CASE_A" $NET $OFF --out "$T/fa2" --intake "$P/intake2.key" --passphrase-file "$PW"
check "  and nothing is left of the refused fetch" sh -c "! ls -A '$T/fa2' 2>/dev/null | grep -q sdx"
# A key file whose passphrase is not the one given: never asked, since its KEY.pub names
# another key than the package's.
echo 'another passphrase' >"$T/pw3"
run sd keygen --kind intake --out "$P/other.key" --passphrase-file "$T/pw3" --kdf interactive
fetch "$CASE_A" "$T/fa3" --intake "$P/other.key" --intake "$P/intake.key" --passphrase-file "$PW"
if [ "$RC" -eq 0 ]; then ok "a key file the package does not name is never unlocked"; else not_ok "a key file the package does not name is never unlocked (exit $RC)"; _diag_output; fi
# Without KEY.pub, a file is unlocked to learn its id, only when no KEY.pub names the key.
cp "$P/intake.key" "$T/nopub.key"
fetch "$CASE_A" "$T/fa4" --intake "$P/intake2.key" --intake "$T/nopub.key" --passphrase-file "$PW"
if [ "$RC" -eq 0 ]; then ok "a key file without KEY.pub is tried when no KEY.pub matches"; else not_ok "a key file without KEY.pub is tried (exit $RC)"; _diag_output; fi
cp "$P/intake2.key" "$T/liar.key" && cp "$P/intake.key.pub" "$T/liar.key.pub"
expect_exit 65 "  a KEY.pub that is not its key's is an error, not a silent mismatch" -m "is not the public key of" \
	sd fetch "$CASE_A" $NET $OFF --out "$T/fa6" --intake "$T/liar.key" --intake "$P/intake2.key" \
	--passphrase-file "$PW"
check "open PKG.sdx takes --intake twice too" \
	sd open "$T/a.sdx" --intake "$P/intake2.key" --intake "$P/intake.key" --passphrase-file "$PW" --out "$T/oa"
expect_exit 65 "open with the wrong key alone names the package's key" -m "$K2_ID" \
	sd open "$T/b.sdx" --intake "$P/intake.key" --passphrase-file "$PW" --out "$T/ob"
check "notices of case A open with --intake k2 --intake k1" \
	sd notices "$CASE_A" $NET $OFF --intake "$P/intake2.key" \
	--intake "$P/intake.key" --passphrase-file "$PW"

# --- rotate the identity key: the custodians keep both ------------------------------------------
# A consent for the Commission, signed with the codename's consent key, its release sealed
# to the identity public key IDPUB (as tests/e2e/unseal.sh makes it).
make_consent() { # package codename-file idpub out
	"$PY" - "$@" <<'EOF'
import base64, datetime, hashlib, json, os, sys
sys.path.insert(0, "tests/vectors")
import nacl.bindings as nb
from consent import H, kdf, header_fields, signed
pkg_path, cn_path, idpub_path, out = sys.argv[1:5]
pkg = open(pkg_path, "rb").read()
deployment, consent_pk, share_ad, wrapped, digest = header_fields(pkg)
words = " ".join(open(cn_path).read().split()).lower().encode()
salt = H(b"sealdrop codename v1" + deployment.encode(), 16)
master = nb.crypto_pwhash_alg(32, words, salt, 1, 8192, nb.crypto_pwhash_ALG_ARGON2ID13)
cpk, csk = nb.crypto_sign_seed_keypair(kdf(master, 2, b"sdcodenm"))
assert cpk == consent_pk, "the codename did not seal this package"
s_w = nb.crypto_aead_xchacha20poly1305_ietf_decrypt(wrapped[24:], share_ad, wrapped[:24], kdf(master, 4, b"sdcodenm"))
_, kind, kid, b64 = open(idpub_path).read().split()
id_pk = base64.b64decode(b64)
release = nb.crypto_box_seal(s_w, id_pk)
today = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=9)).date()
body = {"version": 1, "deployment": deployment, "header_digest": digest.hex(), "scope": "commission",
        "grantee_key": b64, "grantee_key_id": kid, "release_hash": H(release).hex(),
        "issued": today.isoformat(), "expires": (today + datetime.timedelta(days=30)).isoformat(),
        "nonce": os.urandom(32).hex()}
_, _, _, doc = signed(body, "consent", b"consent", csk)
json.dump({"type": "sealdrop-consent", "version": 1, "consent": doc,
           "release": base64.b64encode(release).decode()}, open(out, "w"), indent=2)
EOF
}
CUST="$NET --cert $D/cust/cert.pem --key $D/cust/key.pem"
ID1_ID=$(json_get "$D/directory.json" 'd["signed"]["keys"]["identity"]["id"]')
mkkey identity "$P/identity2.key"
mkkey identity "$T/unused.key"
check "directory version 3 with identity key 2 (and intake key 2)" \
	sd directory create --deployment demo --version 3 --intake "$P/intake2.key.pub" \
	--identity "$P/identity2.key.pub" --log "$D/log.key.pub" --tls-ca "$D/ca.pem" --root "$P/root.key" \
	--passphrase-file "$PW" --test --out "$T/directory-v3.json"
check "  installed live" sdd directory install --dir "$D" "$T/directory-v3.json"
ID2_ID=$(json_get "$T/directory-v3.json" 'd["signed"]["keys"]["identity"]["id"]')
# The whistleblower of case A consents now: the consent grants the directory's key, key 2.
make_consent "$T/a.sdx" "$T/a.sdx.codename" "$P/identity2.key.pub" "$T/a.sdc" || not_ok "set-up: the consent"
code=$(as att POST /v1/consents -H 'Content-Type: application/json' --data-binary "@$T/a.sdc")
if [ "$code" = 201 ]; then
	ok "the attorney relays case A's consent, granting identity key 2"
else
	not_ok "the consent is relayed (status $code)"
	diag "$(head -c 300 "$OUT")"
fi
expect_exit 65 "unseal with identity key 2 alone: case A's package is sealed to key 1" -m "identity key $ID1_ID" \
	sd unseal "$CASE_A" --identity-key "$P/identity2.key" --passphrase-file "$PW" $CUST
expect_exit 65 "unseal with key 1 alone: the consent's release is sealed to key 2" -m "identity key $ID2_ID" \
	sd unseal "$CASE_A" --identity-key "$P/identity.key" --passphrase-file "$PW" $CUST
check "unseal with --identity-key given three times opens case A's identity (keys 1 and 2 used)" \
	sd unseal "$CASE_A" --identity-key "$T/unused.key" --identity-key "$P/identity2.key" \
	--identity-key "$P/identity.key" --passphrase-file "$PW" $CUST --json
if [ "$(json_get "$OUT" 'd["identity"]["name"]' 2>/dev/null)" = "$(json_get docs/examples/identity.json 'd["name"]')" ]; then
	ok "  the identity is the one sealed"
else
	not_ok "  the identity is the one sealed"
fi

# --- an officer leaves --------------------------------------------------------------------------
code=$(as cho GET /v1/cases)
if [ "$code" = 200 ]; then ok "the leaving officer lists cases before"; else not_ok "the leaving officer lists cases before (status $code)"; fi
check "disable the leaving officer's account" sdd disable --dir "$D" --name "Officer Cho"
code=$(as cho GET /v1/cases)
if [ "$code" = 403 ] && grep -q account_disabled "$OUT"; then
	ok "the leaving officer is refused (403 account_disabled)"
else
	not_ok "the leaving officer is refused (status $code)"
fi
if on_crl "$D/cho/cert.pem"; then ok "its serial is on /v1/crl"; else not_ok "its serial is on /v1/crl"; fi
expect_exit 77 "a disabled account is not renewed" -m disabled sdd renew --dir "$D" --name "Officer Cho" --out "$T/cho2"
expect_exit 66 "renewing an unknown name" -m "no account" sdd renew --dir "$D" --name "Nobody" --out "$T/nobody"

# --- an attorney renews --------------------------------------------------------------------------
FP1=$(fingerprint "$D/att/cert.pem")
run sdd renew --dir "$D" --name "Attorney Kim" --out "$D/att2" --json
keep_output
FP2=$(json_get "$KEPT_OUT" 'd["fingerprint"]' 2>/dev/null)
if [ "$RC" -eq 0 ] && [ "$FP2" = "$(fingerprint "$D/att2/cert.pem")" ] &&
	[ "$(json_get "$KEPT_OUT" 'd["account"]')" = "$FP1" ] && [ "$FP2" != "$FP1" ]; then
	ok "renew issues a new certificate for the same account"
else
	not_ok "renew issues a new certificate for the same account (exit $RC)"
	_diag_output out
fi
subject=$(openssl x509 -in "$D/att2/cert.pem" -noout -subject)
case $subject in *"Attorney Kim"*attorney* | *attorney*"Attorney Kim"*) ok "  same name and role in the certificate" ;; *) not_ok "  same name and role ($subject)" ;; esac
code=$(as att2 GET /v1/cases)
if [ "$code" = 200 ] && [ "$(json_get "$OUT" "any(c['case'] == '$CASE_A' for c in d['cases'])")" = true ]; then
	ok "the new certificate lists the account's earlier case"
else
	not_ok "the new certificate lists the account's earlier case (status $code)"
	diag "$(head -c 400 "$OUT")"
fi
code=$(as att2 GET "/v1/cases/$CASE_A")
if [ "$code" = 200 ]; then ok "  and reads it"; else not_ok "  and reads it (status $code)"; fi
as - GET /v1/directory >/dev/null && cp "$OUT" "$T/wb-directory3.json"
WHO=att2 seal_file "$T/wb-directory3.json" "$T/c.sdx" && ok "the new certificate files case C"
CASE_C=$CASE
code=$(as att GET /v1/cases)
if [ "$code" = 200 ] && [ "$(json_get "$OUT" "any(c['case'] == '$CASE_C' for c in d['cases'])")" = true ]; then
	ok "the old certificate still works, and sees case C: one account"
else
	not_ok "the old certificate still works, and sees case C (status $code)"
fi
run sdd audit publish --config "$D/sealdropd.conf"
code=$(as off GET "/v1/log/entries?start=0")
cp "$OUT" "$T/entries.json"
leaf=$("$PY" -c 'import base64, json, sys
for e in json.load(open(sys.argv[1]))["entries"]:
    l = json.loads(base64.b64decode(e["leaf"]))
    if l["event"] == "certificate-renewed":
        print(l.get("subject"), l.get("subject_role"), l.get("digest"), l.get("role"))' "$T/entries.json")
if [ "$leaf" = "$FP2 attorney $FP1 operator" ]; then
	ok "the audit log has the certificate-renewed leaf (subject: new, digest: the account's first)"
else
	not_ok "the audit log has the certificate-renewed leaf (got '$leaf')"
fi

# The store reads renewed certificates back.
stop_server
start_server "$D/sealdropd.conf" || { not_ok "the server restarts"; done_testing; }
code=$(as att2 GET /v1/cases)
if [ "$code" = 200 ]; then ok "after a restart, the new certificate works"; else not_ok "after a restart, the new certificate works (status $code)"; fi
expect_exit 77 "revoking an account's only certificate is refused" -m "disable the account" \
	sdd revoke --dir "$D" --fingerprint "$(fingerprint "$D/off/cert.pem")"
expect_exit 66 "revoking an unknown fingerprint" -m "no account" \
	sdd revoke --dir "$D" --fingerprint 0000000000000000000000000000000000000000000000000000000000000000
check "revoke the old certificate once the attorney switched" sdd revoke --dir "$D" --fingerprint "$FP1"
code=$(as att GET /v1/cases)
if [ "$code" = 403 ]; then ok "the old certificate is refused (403)"; else not_ok "the old certificate is refused (status $code)"; fi
if on_crl "$D/att/cert.pem"; then ok "  its serial is on /v1/crl"; else not_ok "  its serial is on /v1/crl"; fi
if on_crl "$D/att2/cert.pem"; then not_ok "  the new one's is not"; else ok "  the new one's is not"; fi
code=$(as att2 GET /v1/cases)
if [ "$code" = 200 ]; then ok "the new certificate still works"; else not_ok "the new certificate still works (status $code)"; fi
check "revoking it again is not an error" sdd revoke --dir "$D" --fingerprint "$FP1"
expect_exit 77 "the new certificate, now the last, is not revoked alone" -m "disable the account" \
	sdd revoke --dir "$D" --fingerprint "$FP2"
check "disable the attorney: every certificate of the account goes" sdd disable --dir "$D" --name "Attorney Kim"
code=$(as att2 GET /v1/cases)
if [ "$code" = 403 ] && on_crl "$D/att2/cert.pem"; then ok "  the renewed one is refused and on the CRL"; else not_ok "  the renewed one is refused and on the CRL (status $code)"; fi
stop_server
done_testing
