# export_identity.sh — `sealdrop export --with-identity` (issue 6, item 3: "the bundle
# carries the identity for that agency only") and `sealdrop open FILE.sdr` of such a
# bundle, on a real server (the test build on a test clock, proof of work 8 bits) with the
# real client. The directory lists two agencies, bai and police. Then:
#	- usage: the identity options without --with-identity, both key forms, none (64);
#	- without a consent for the agency, a custodian's --with-identity export is refused
#	  (77, "the identity stays out of the bundle") and no bundle is written; an officer's
#	  is refused too (the unseal route is the custodians': 77);
#	- the whistleblower grants `--scope agency:bai` online; the custodian exports for bai
#	  with the identity key; bai's key opens it: identity.json (0600) is exactly the
#	  identity sealed (docs/examples/identity.json's canonical form), beside report.json;
#	- police's key does not open bai's bundle (65), and a bundle for police (no consent for
#	  police) is refused --with-identity (77) while a plain one carries no identity.json;
#	- the audit log holds the unseal (detail agency:bai, and refused:agency:police);
#	- after `consent revoke --all`, a new --with-identity export is refused (77);
#	- a flipped byte in the identity bundle is refused (65), nothing written.
. "$(dirname "$0")/lib.sh"

if [ ! -x "$SEALDROPD_TESTCLOCK" ]; then
	not_ok "$SEALDROPD_TESTCLOCK is built (make all-tests)"
	done_testing
fi
"$PY" -c 'import nacl.bindings' 2>/dev/null || { skip "python3-nacl is not installed"; done_testing; }

# --- usage (no server needed) ---
NET="--server https://127.0.0.1:1 --ca /x --cert /x --key /x --root /x --intake /x"
# shellcheck disable=SC2086
{
	expect_exit 64 "--identity-key without --with-identity" -m 'go with --with-identity' \
		sd export 2026-000001 --agency bai --out "$T/x.sdr" --identity-key /x $NET
	expect_exit 64 "--with-identity without a key" -m 'either --identity-key or --share' \
		sd export 2026-000001 --agency bai --out "$T/x.sdr" --with-identity $NET
	expect_exit 64 "--with-identity with both key forms" -m 'not both' \
		sd export 2026-000001 --agency bai --out "$T/x.sdr" --with-identity --identity-key /x --share /y:/z $NET
}
check "export --help documents --with-identity" sd export --help
if grep -q -- '--with-identity' "$OUT" && grep -q 'agency:ID' "$OUT"; then ok "  and the agency consent"; else not_ok "  and the agency consent"; fi

# --- a test deployment with agencies bai and police, on the test clock ---
TODAYFILE=$T/today
TODAY=$(TZ=Asia/Seoul date +%F)
P=$T/p
D=$T/d
PORT=$(free_port)
URL=https://127.0.0.1:$PORT
mkdir -p "$P"
mkkey root "$P/root.key" && mkkey intake "$P/intake.key" && mkkey identity "$P/identity.key" &&
	mkkey agency "$P/bai.key" && mkkey agency "$P/police.key" || done_testing
run sdd init --dir "$D" --listen "127.0.0.1:$PORT"
[ "$RC" -eq 0 ] || { not_ok "set-up: sealdropd init"; _diag_output; done_testing; }
sed -i 's/^pow_bits .*/pow_bits 8/' "$D/sealdropd.conf"
run sd directory create --deployment demo --intake "$P/intake.key.pub" --identity "$P/identity.key.pub" \
	--log "$D/log.key.pub" --tls-ca "$D/ca.pem" --root "$P/root.key" --passphrase-file "$PW" \
	--agency "bai:Board of Audit and Inspection:$P/bai.key.pub" \
	--agency "police:National Police Agency:$P/police.key.pub" --test --out "$D/directory.json"
[ "$RC" -eq 0 ] || { not_ok "set-up: directory create"; _diag_output; done_testing; }
set_today "$TODAYFILE" "$TODAY"
start_server_testclock "$D/sealdropd.conf" "$TODAYFILE" ||
	{ not_ok "set-up: the test-clock server starts"; diag "$(tail -n 5 "$SERVER_LOG")"; done_testing; }
for who in "attorney att Attorney Kim" "officer off Officer Park" "custodian cus Custodian Choi"; do
	set -- $who
	run sdd enroll --dir "$D" --role "$1" --name "$3 $4" --out "$D/$2"
	[ "$RC" -eq 0 ] || { not_ok "set-up: enroll $2"; _diag_output; done_testing; }
done
WB="--server $URL --ca $D/ca.pem --directory $D/directory.json --root $P/root.key.pub"
SRV="--server $URL --ca $D/ca.pem --root $P/root.key.pub"
CUS="--cert $D/cus/cert.pem --key $D/cus/key.pem"
OFF="--cert $D/off/cert.pem --key $D/off/key.pem"
INTAKE="--intake $P/intake.key --passphrase-file $PW"
IDKEY="--with-identity --identity-key $P/identity.key --identity-passphrase-file $PW"

run sd seal --directory "$D/directory.json" --root "$P/root.key.pub" --report docs/examples/report.json \
	--identity docs/examples/identity.json --out "$T/a.sdx" --codename-out "$T/a.codename" --quiet
[ "$RC" -eq 0 ] || { not_ok "set-up: seal"; _diag_output; done_testing; }
run sd file "$T/a.sdx" --server "$URL" --ca "$D/ca.pem" --cert "$D/att/cert.pem" --key "$D/att/key.pem" \
	--root "$P/root.key.pub" --json
[ "$RC" -eq 0 ] || { not_ok "set-up: file"; _diag_output; done_testing; }
A=$(json_get "$OUT" 'd["case"]')
ok "a package with docs/examples/identity.json sealed and filed: case $A"
# The canonical record `seal` sealed (docs/FORMAT.md, "Records": 2-space indent, input order).
"$PY" -c 'import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
open(sys.argv[2], "w", encoding="utf-8").write(json.dumps(d, indent=2, ensure_ascii=False) + "\n")' \
	docs/examples/identity.json "$T/identity.canonical" || { not_ok "set-up: the canonical identity"; done_testing; }

# The audit leaves of case A with EVENT and DETAIL, after a head is published.
leaves() { # event detail
	sdd audit publish --config "$D/sealdropd.conf" >/dev/null 2>&1
	curl_status off GET "/v1/log/entries?case=$A" >/dev/null
	"$PY" -c 'import base64, json, sys
n = 0
for e in json.load(open(sys.argv[1]))["entries"]:
    l = json.loads(base64.b64decode(e["leaf"]))
    if l.get("event") == sys.argv[2] and l.get("detail", "") == sys.argv[3]:
        n += 1
print(n)' "$OUT" "$1" "$2"
}

# --- no consent for the agency: no identity, no bundle ---
# shellcheck disable=SC2086
{
	expect_exit 77 "no consent for bai: --with-identity is refused (77)" \
		-m 'no live consent for agency bai' -m 'identity stays out of the bundle' \
		sd export "$A" --agency bai --out "$T/none.sdr" $SRV $CUS $INTAKE $IDKEY
	if [ ! -e "$T/none.sdr" ] && [ -z "$(tmp_leftovers "$T")" ]; then ok "  no bundle, no temporary file"; else not_ok "  no bundle, no temporary file"; fi
}

# --- the whistleblower's consent for bai ---
# shellcheck disable=SC2086
expect_exit 0 "the whistleblower grants agency:bai online" sd consent grant $WB --codename-file "$T/a.codename" \
	--scope agency:bai --yes --json
CID=$(json_get "$T/.stdout" 'd["consent_id"]')

# shellcheck disable=SC2086
expect_exit 77 "an officer cannot export with the identity (the unseal is the custodians')" \
	sd export "$A" --agency bai --out "$T/off.sdr" $SRV $OFF $INTAKE $IDKEY
if [ ! -e "$T/off.sdr" ]; then ok "  no bundle written"; else not_ok "  no bundle written"; fi

before=$(leaves unseal agency:bai)
# shellcheck disable=SC2086
expect_exit 0 "the custodian exports case $A for bai with the identity" \
	sd export "$A" --agency bai --out "$T/bai.sdr" $SRV $CUS $INTAKE $IDKEY --json
jtrue "  the summary names the consent and the identity included" "$T/.stdout" \
	'd["identity"] == "included for this agency" and d["consent_id"] == "'"$CID"'"'
after=$(leaves unseal agency:bai)
if [ "$after" -eq $((before + 1)) ]; then ok "  the audit log holds the unseal (detail agency:bai)"; else not_ok "  the audit log holds the unseal (detail agency:bai)"; diag "$before -> $after"; fi
if [ "$(leaves export bai)" -ge 1 ]; then ok "  and the export (detail bai)"; else not_ok "  and the export (detail bai)"; fi
if [ "$(leaves unseal refused:agency:bai)" -ge 1 ]; then ok "  and the earlier refused attempt (refused:agency:bai)"; else not_ok "  and the earlier refused attempt (refused:agency:bai)"; fi

# --- bai opens it ---
expect_exit 0 "bai's key opens the bundle" \
	sd open "$T/bai.sdr" --agency "$P/bai.key" --passphrase-file "$PW" --root "$P/root.key.pub" --out "$T/bai"
if grep -q "included under the whistleblower's consent $CID" "$OUT"; then ok "  it says the identity came under consent $CID"; else not_ok "  it says the identity came under consent $CID"; _diag_output out; fi
if cmp -s "$T/bai/identity.json" "$T/identity.canonical"; then ok "  identity.json is exactly the identity sealed"; else not_ok "  identity.json is exactly the identity sealed"; fi
if [ "$(file_mode "$T/bai/identity.json")" = 600 ]; then ok "  identity.json is mode 600"; else not_ok "  identity.json is mode 600"; fi
if [ -s "$T/bai/report.json" ]; then ok "  report.json beside it"; else not_ok "  report.json beside it"; fi

# --- another agency ---
expect_exit 65 "police's key does not open bai's bundle" \
	sd open "$T/bai.sdr" --agency "$P/police.key" --passphrase-file "$PW" --root "$P/root.key.pub" --out "$T/pol"
if [ ! -e "$T/pol" ]; then ok "  nothing written"; else not_ok "  nothing written"; fi
# shellcheck disable=SC2086
expect_exit 77 "no consent for police: --with-identity for police is refused" -m 'no live consent for agency police' \
	sd export "$A" --agency police --out "$T/police.sdr" $SRV $CUS $INTAKE $IDKEY
# shellcheck disable=SC2086
expect_exit 0 "a plain bundle for police" sd export "$A" --agency police --out "$T/police.sdr" $SRV $OFF $INTAKE
expect_exit 0 "police opens it" sd open "$T/police.sdr" --agency "$P/police.key" --passphrase-file "$PW" \
	--root "$P/root.key.pub" --out "$T/pol2"
if [ ! -e "$T/pol2/identity.json" ] && [ -s "$T/pol2/report.json" ]; then ok "  no identity in it"; else not_ok "  no identity in it"; fi
if ! grep -qF "$(json_get docs/examples/identity.json 'd["rrn"]')" "$T/police.sdr"; then ok "  (nor the rrn in clear anywhere)"; else not_ok "  (nor the rrn in clear anywhere)"; fi

# --- a flipped byte ---
cp "$T/bai.sdr" "$T/flip.sdr"
flip_byte "$T/flip.sdr" 200
expect_exit 65 "a flipped byte in the identity bundle is refused" \
	sd open "$T/flip.sdr" --agency "$P/bai.key" --passphrase-file "$PW" --root "$P/root.key.pub" --out "$T/flip"
if [ ! -e "$T/flip" ]; then ok "  nothing written"; else not_ok "  nothing written"; fi

# --- revoked ---
# shellcheck disable=SC2086
expect_exit 0 "the whistleblower revokes every consent" sd consent revoke $WB --codename-file "$T/a.codename" \
	--all --yes
# shellcheck disable=SC2086
expect_exit 77 "after the revocation --with-identity is refused" -m 'no live consent for agency bai' \
	sd export "$A" --agency bai --out "$T/late.sdr" $SRV $CUS $INTAKE $IDKEY
if [ ! -e "$T/late.sdr" ]; then ok "  no bundle written"; else not_ok "  no bundle written"; fi

done_testing
