# unseal.sh — the custodians' `sealdrop unseal` (issue 6, items 3 and 4) and the adversarial
# acceptance test "no consent, no identity", on a real server with real certificates and
# the real client, twice: once with a plain identity key file, once with the identity key
# split 2/3 (`sealdrop keygen --kind identity --split 2/3`). In each deployment a package is
# sealed with docs/examples/identity.json and filed. Then:
#	- without consent, `unseal` is refused (77, "the identity stays sealed");
#	- with a COPY of the server's LMDB files, the intake key and the identity key (every
#	  share), tests/tools/sd-steal-identity opens s_c and the content key but not the
#	  identity (no s_w anywhere in the store), and the raw store holds none of the
#	  identity's fields;
#	- share misuse (fewer than K, two splits, one share twice) is refused before any
#	  network; an officer's certificate gets 403;
#	- after a valid consent (built here from docs/FORMAT.md "Consent", as
#	  tests/vectors/consent.py does, and relayed by the attorney to POST /v1/consents),
#	  unseal prints exactly the identity sealed, --out writes it 0600, --json; the access
#	  is an audit event (unseal, custodian) and the whistleblower's status shows an
#	  identity-access notice;
#	- the honest limit: a store copy taken while the consent is live opens for the grantee
#	  (sd-steal-identity recovers the identity from the release in the copy).
. "$(dirname "$0")/lib.sh"

STEAL=$BUILD_DIR/tools/sd-steal-identity
if [ ! -x "$STEAL" ]; then
	not_ok "$STEAL is built (make all-tests)"
	done_testing
fi

# The identity's fields the raw store must never hold.
NAME=$(json_get docs/examples/identity.json 'd["name"]')
RRN=$(json_get docs/examples/identity.json 'd["rrn"]')
PHONE=$(json_get docs/examples/identity.json 'd["phone"]')
ADDRESS=$(json_get docs/examples/identity.json 'd["address"]')
# The canonical record `seal` sealed (docs/FORMAT.md, "Records": 2-space indent, input order).
"$PY" -c 'import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
open(sys.argv[2], "w", encoding="utf-8").write(json.dumps(d, indent=2, ensure_ascii=False) + "\n")' \
	docs/examples/identity.json "$T/identity.canonical" || { not_ok "set-up: the canonical identity"; done_testing; }

# A consent for the Commission, signed with the codename's consent key, its release sealed
# to the identity public key IDPUB: the .sdc object of docs/API.md, written to OUT.
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

# Greps the raw files of a store copy for the identity's fields; one check each.
store_holds_no_identity() { # storedir label
	for f in "$NAME" "$RRN" "$PHONE" "$ADDRESS"; do
		if grep -qaF "$f" "$1"/*.mdb; then
			not_ok "$2: the raw store never holds the identity field '${f%%-*}…'"
		else
			ok "$2: the raw store never holds the identity field '${f%%-*}…'"
		fi
	done
}

# A deployment whose identity public key is IDPUB, its server started: sets D, URL, CUST,
# OFF, A (the case filed), PKG (the package) and CN (its codename file).
deploy() { # name idpub
	D=$T/$1
	PORT=$(free_port)
	URL=https://127.0.0.1:$PORT
	run sdd init --dir "$D" --listen "127.0.0.1:$PORT"
	[ "$RC" -eq 0 ] || { not_ok "set-up $1: sealdropd init"; _diag_output; return 1; }
	run sd directory create --deployment demo --intake "$P/intake.key.pub" --identity "$2" \
		--log "$D/log.key.pub" --tls-ca "$D/ca.pem" --root "$P/root.key" --passphrase-file "$PW" --test \
		--out "$D/directory.json"
	[ "$RC" -eq 0 ] || { not_ok "set-up $1: directory create"; _diag_output; return 1; }
	start_server "$D/sealdropd.conf" || { not_ok "set-up $1: sealdropd run"; return 1; }
	for who in att:attorney cust:custodian off:officer; do
		run sdd enroll --dir "$D" --role "${who#*:}" --name "$1 ${who#*:}" --out "$D/${who%%:*}"
		[ "$RC" -eq 0 ] || { not_ok "set-up $1: enroll the ${who#*:}"; _diag_output; return 1; }
	done
	CUST="--server $URL --ca $D/ca.pem --cert $D/cust/cert.pem --key $D/cust/key.pem --root $P/root.key.pub"
	OFF="--server $URL --ca $D/ca.pem --cert $D/off/cert.pem --key $D/off/key.pem --root $P/root.key.pub"
	PKG=$T/$1.sdx
	CN=$PKG.codename
	run sd seal --directory "$D/directory.json" --root "$P/root.key.pub" --report docs/examples/report.json \
		--identity docs/examples/identity.json --out "$PKG" --codename-out "$CN" --quiet
	[ "$RC" -eq 0 ] || { not_ok "set-up $1: seal"; _diag_output; return 1; }
	run sd file "$PKG" --server "$URL" --ca "$D/ca.pem" --cert "$D/att/cert.pem" --key "$D/att/key.pem" \
		--root "$P/root.key.pub" --json
	[ "$RC" -eq 0 ] || { not_ok "set-up $1: file"; _diag_output; return 1; }
	A=$(json_get "$OUT" 'd["case"]')
	ok "$1: a package with docs/examples/identity.json sealed and filed: case $A"
}

# The whole story for one form of the identity key: KEYARGS are unseal's key options,
# STEALKEY the steal tool's.
scenario() { # name idpub keyargs stealkey
	_n=$1
	deploy "$1" "$2" || return 1
	# shellcheck disable=SC2086
	{
		expect_exit 77 "$_n: no consent: unseal is refused" -m 'no live consent' -m 'identity stays sealed' \
			sd unseal "$A" $3 $CUST
		if [ ! -s "$OUT" ]; then ok "$_n:   nothing printed"; else not_ok "$_n:   nothing printed"; fi
		expect_exit 77 "$_n: an officer's certificate: 403" -m 'HTTP 403' sd unseal "$A" $3 $OFF
	}

	# --- the store copy, the intake key and the identity key: no identity ---
	stop_server
	cp -a "$D/store" "$T/$_n-copy"
	# shellcheck disable=SC2086
	run "$STEAL" "$T/$_n-copy" "$A" --intake "$P/intake.key" $4 --passphrase-file "$PW"
	if [ "$RC" -eq 2 ] && grep -q '^identity not recoverable' "$OUT" && grep -q 's_c opens' "$OUT" &&
		grep -q 'the content key opens' "$OUT" && grep -q "releases in the store for case $A: 0" "$OUT" &&
		! grep -q 'RECOVERED' "$OUT"; then
		ok "$_n: store copy + intake key + identity key, no consent: s_c opens, the identity does not"
	else
		not_ok "$_n: store copy + intake key + identity key, no consent: s_c opens, the identity does not"
		diag "exit $RC" "$(cat "$OUT" "$ERR")"
	fi
	if grep -qaF "$A" "$T/$_n-copy"/*.mdb; then ok "$_n: the copied store holds the case (the grep finds what is there)"; else not_ok "$_n: the copied store holds the case"; fi
	store_holds_no_identity "$T/$_n-copy" "$_n"
	start_server "$D/sealdropd.conf" || { not_ok "$_n: the server restarts"; return 1; }

	# --- a valid consent, relayed by the attorney ---
	make_consent "$PKG" "$CN" "$2" "$T/$_n.sdc" || { not_ok "$_n: set-up: the consent"; return 1; }
	code=$(curl_status att POST /v1/consents -H 'Content-Type: application/json' --data-binary "@$T/$_n.sdc")
	if [ "$code" = 201 ]; then ok "$_n: the attorney relays the consent: 201"; else not_ok "$_n: the attorney relays the consent: 201 (got $code)"; diag "$(cat "$OUT")"; fi
	# shellcheck disable=SC2086
	{
		expect_exit 0 "$_n: with the consent, unseal" sd unseal "$A" $3 $CUST
		keep_output
		ok_all=true
		for f in "$NAME" "$RRN" "$PHONE" "$ADDRESS"; do grep -qF "$f" "$KEPT_OUT" || ok_all=false; done
		if $ok_all && grep -q "^identity of case $A" "$KEPT_OUT" && grep -q 'audit log' "$KEPT_OUT"; then
			ok "$_n:   it prints the identity sealed: name, rrn, address, phone"
		else
			not_ok "$_n:   it prints the identity sealed: name, rrn, address, phone"
			diag "$(cat "$KEPT_OUT" "$KEPT_ERR")"
		fi
		expect_exit 0 "$_n: unseal --out" sd unseal "$A" $3 $CUST --out "$T/$_n.identity.json"
		if cmp -s "$T/$_n.identity.json" "$T/identity.canonical" && [ "$(file_mode "$T/$_n.identity.json")" = 600 ]; then
			ok "$_n:   --out holds exactly the identity sealed at seal time, mode 0600"
		else
			not_ok "$_n:   --out holds exactly the identity sealed at seal time, mode 0600"
		fi
		expect_exit 73 "$_n:   --out never overwrites" sd unseal "$A" $3 $CUST --out "$T/$_n.identity.json"
		expect_exit 0 "$_n: unseal --json" sd unseal "$A" $3 $CUST --json
		if [ "$(json_get "$OUT" 'd["identity"] == json.load(open("docs/examples/identity.json")) and d["case"] == "'"$A"'" and d["scope"] == "commission" and len(d["consent_id"]) == 64')" = true ]; then
			ok "$_n:   --json: the identity object, case, scope and consent id"
		else
			not_ok "$_n:   --json: the identity object, case, scope and consent id"
			diag "$(head -c 800 "$OUT")"
		fi
	}

	# --- every access is visible ---
	run sdd audit publish --config "$D/sealdropd.conf"
	# shellcheck disable=SC2086
	expect_exit 0 "$_n: the officer lists the case's audit events" sd audit show "$A" $OFF --directory "$D/directory.json" --json
	n=$(json_get "$OUT" 'sum(1 for e in d["events"] if e["event"]["event"] == "unseal" and e["event"].get("detail") == "commission")' 2>/dev/null)
	r=$(json_get "$OUT" 'sum(1 for e in d["events"] if e["event"]["event"] == "unseal" and e["event"].get("detail") == "refused:commission")' 2>/dev/null)
	if [ "${n:-0}" -ge 3 ] && [ "${r:-0}" -ge 1 ]; then
		ok "$_n:   unseal events: $n accesses and $r refused attempt in the audit log"
	else
		not_ok "$_n:   unseal events in the audit log (accesses ${n:-?}, refused ${r:-?})"
		diag "$(head -c 1500 "$OUT")"
	fi
	if [ "$(json_get "$OUT" '[e["event"]["role"] for e in d["events"] if e["event"]["event"] == "unseal"] == ["custodian"] * (1 + '"$n"') and len(set(e["event"]["actor"] for e in d["events"] if e["event"]["event"] == "unseal")) == 1' 2>/dev/null)" = true ]; then
		ok "$_n:   the accesses name the custodian as actor"
	else
		not_ok "$_n:   the accesses name the custodian as actor"
	fi
	expect_exit 0 "$_n: the whistleblower's status" sd status --server "$URL" --ca "$D/ca.pem" \
		--directory "$D/directory.json" --root "$P/root.key.pub" --codename-file "$CN"
	if grep -q 'identity-access' "$OUT"; then ok "$_n:   it shows the identity-access notice"; else not_ok "$_n:   it shows the identity-access notice"; _diag_output out; fi

	# --- the honest limit: a copy taken while the consent is live ---
	stop_server
	cp -a "$D/store" "$T/$_n-live-copy"
	# shellcheck disable=SC2086
	run "$STEAL" "$T/$_n-live-copy" "$A" --intake "$P/intake.key" $4 --passphrase-file "$PW"
	if [ "$RC" -eq 0 ] && grep -q 'IDENTITY RECOVERED' "$OUT" && grep -qF "$RRN" "$OUT"; then
		ok "$_n: the honest limit: a store copy taken while the consent is live opens for the identity key"
	else
		not_ok "$_n: the honest limit: a store copy taken while the consent is live opens for the identity key"
		diag "exit $RC" "$(cat "$OUT" "$ERR")"
	fi
	store_holds_no_identity "$T/$_n-live-copy" "$_n (consent live)"
}

P=$T/p
mkdir -p "$P"
mkkey root "$P/root.key" && mkkey intake "$P/intake.key" && mkkey identity "$P/identity.key" || done_testing
run sd keygen --kind identity --split 2/3 --out "$P/cust" --passphrase-file "$PW" --kdf interactive
[ "$RC" -eq 0 ] || { not_ok "set-up: keygen --split 2/3"; _diag_output; done_testing; }
run sd keygen --kind identity --split 2/3 --out "$P/other" --passphrase-file "$PW" --kdf interactive
[ "$RC" -eq 0 ] || { not_ok "set-up: a second split"; _diag_output; done_testing; }

# --- share misuse: refused before any network (the server named does not exist) ---
NOWHERE="--server https://127.0.0.1:9 --ca $PW --cert $PW --key $PW --root $P/root.key.pub"
# shellcheck disable=SC2086
{
	expect_exit 64 "one share of a 2/3 split: refused before any network or passphrase" -m '1 share' \
		-m 'needs 2' sd unseal 2026-000001 --share "$P/cust.share1:$T/no-such-passphrase-file" $NOWHERE
	expect_exit 65 "shares of two different split keys: refused before any network" -m 'different keys' \
		sd unseal 2026-000001 --share "$P/cust.share1:$PW" --share "$P/other.share2:$PW" $NOWHERE
	expect_exit 64 "one share given twice: refused" -m 'share' \
		sd unseal 2026-000001 --share "$P/cust.share1:$PW" --share "$P/cust.share1:$PW" $NOWHERE
	expect_exit 64 "--identity-key and --share together: a usage error" \
		sd unseal 2026-000001 --identity-key "$P/identity.key" --share "$P/cust.share1:$PW" $NOWHERE
	expect_exit 64 "neither: a usage error" sd unseal 2026-000001 $NOWHERE
}

scenario plain "$P/identity.key.pub" "--identity-key $P/identity.key --passphrase-file $PW" \
	"--identity-key $P/identity.key"
stop_server
scenario split "$P/cust.pub" "--share $P/cust.share3:$PW --share $P/cust.share1:$PW" \
	"--share $P/cust.share1 --share $P/cust.share2 --share $P/cust.share3"
# The plain key is not the split deployment's identity key.
start_server "$D/sealdropd.conf" || not_ok "split: the server restarts"
# shellcheck disable=SC2086
expect_exit 65 "split: another identity key than the directory's: refused before the unseal" \
	-m "sealed to identity key" sd unseal "$A" --identity-key "$P/identity.key" --passphrase-file "$PW" $CUST
stop_server

done_testing
