# directory.sh — the signed key directory: create and verify (text and --json), a wrong
# root, an edited file, anti-rollback state under $XDG_STATE_HOME, the TEST warning,
# agencies, and public key files of the wrong kind.
. "$(dirname "$0")/lib.sh"

D="$T/keys"
mkdir -p "$D"
mkkey root "$D/root.key" && mkkey intake "$D/intake.key" && mkkey identity "$D/identity.key" &&
	mkkey agency "$D/agency1.key" && mkkey agency "$D/agency2.key" && mkkey root "$D/other-root.key" ||
	done_testing

create() { # out [options...]
	_o=$1
	shift
	sd directory create --deployment dirtest --intake "$D/intake.key.pub" --identity "$D/identity.key.pub" \
		--root "$D/root.key" --passphrase-file "$PW" --out "$_o" "$@"
}
verify() { # file [options...]
	_f=$1
	shift
	sd directory verify "$_f" --root "$D/root.key.pub" "$@"
}
has() { # file word: the file mentions word
	grep -qF -- "$2" "$1"
}

# --- round trip ---
expect_exit 0 "create version 1" create "$T/v1.json"
keep_output
check "create says what it signed (deployment)" has "$KEPT_OUT" dirtest
expect_exit 0 "create version 2 with --json" create "$T/v2.json" --version 2 --json
keep_output
check "create --json prints valid JSON" json_is_valid "$KEPT_OUT"
check "the directory file is valid JSON" json_is_valid "$T/v2.json"
expect_exit 0 "verify version 2" verify "$T/v2.json"
keep_output
check "verify shows the deployment" has "$KEPT_OUT" dirtest
check "verify shows the intake key id" has "$KEPT_OUT" "$(cut -d' ' -f3 "$D/intake.key.pub")"
expect_exit 0 "verify version 2 --json" verify "$T/v2.json" --json
keep_output
if grep -q TEST "$KEPT_ERR"; then not_ok "a normal directory gets no TEST warning"; else ok "a normal directory gets no TEST warning"; fi
check "verify --json prints valid JSON" json_is_valid "$KEPT_OUT"
v=$(json_get "$KEPT_OUT" 'd["deployment"], d["version"], d["test"]' 2>/dev/null)
if [ "$v" = "('dirtest', 2, False)" ]; then
	ok "verify --json: deployment dirtest, version 2, not a test directory"
else
	not_ok "verify --json: deployment dirtest, version 2, not a test directory (got $v)"
fi

# --- wrong root, edited file ---
expect_exit 65 "verify against another root key exits 65" \
	sd directory verify "$T/v2.json" --root "$D/other-root.key.pub"
expect_exit 65 "verify with an intake key as --root is refused" -m root \
	sd directory verify "$T/v2.json" --root "$D/intake.key.pub"
sed 's/"deployment": "dirtest"/"deployment": "dirtesu"/' "$T/v2.json" >"$T/edited.json"
if cmp -s "$T/v2.json" "$T/edited.json"; then not_ok "set-up: sed edited the deployment"; fi
expect_exit 65 "a directory with an edited deployment exits 65" -m signature verify "$T/edited.json"
sed 's/"not_after": "\([0-9]*\)-/"not_after": "2\1-/' "$T/v2.json" >"$T/edited2.json"
if cmp -s "$T/v2.json" "$T/edited2.json"; then not_ok "set-up: sed edited not_after"; fi
expect_exit 65 "a directory with an edited not_after exits 65" verify "$T/edited2.json"
sed 's/"sig": "\(.\)/"sig": "A\1/; s/"sig": "AA/"sig": "BA/' "$T/v2.json" >"$T/edited3.json"
expect_exit 65 "a directory with an edited signature exits 65" verify "$T/edited3.json"

# --- anti-rollback ---
expect_exit 65 "after version 2, version 1 of the same deployment is refused" -m version verify "$T/v1.json"
expect_exit 0 "version 2 is still accepted" verify "$T/v2.json"
if [ -n "$(find "$XDG_STATE_HOME/sealdrop" -type f 2>/dev/null)" ]; then
	ok "the highest version seen is recorded under \$XDG_STATE_HOME/sealdrop"
else
	not_ok "the highest version seen is recorded under \$XDG_STATE_HOME/sealdrop"
fi
seal_v1() {
	sd seal --directory "$T/v1.json" --root "$D/root.key.pub" --report docs/examples/report.json \
		--identity docs/examples/identity.json --out "$T/rollback.sdx" --codename-out "$T/rollback.code" --quiet
}
expect_exit 65 "seal refuses the rolled-back directory too" -m version seal_v1
if [ -e "$T/rollback.sdx" ] || [ -e "$T/rollback.code" ]; then
	not_ok "the refused seal left nothing behind"
else
	ok "the refused seal left nothing behind"
fi
expect_exit 0 "a client with fresh state accepts version 1 (state is per \$XDG_STATE_HOME)" \
	env XDG_STATE_HOME="$T/fresh-state" "$SEALDROP" directory verify "$T/v1.json" --root "$D/root.key.pub"
expect_exit 0 "the same version again is accepted" verify "$T/v2.json"

# --- a TEST directory ---
expect_exit 0 "create a --test directory (version 3)" create "$T/test.json" --version 3 --test
keep_output
check "create warns about the TEST directory" grep -q TEST "$KEPT_ERR"
expect_exit 0 "verify the --test directory" verify "$T/test.json"
keep_output
check "verify prints the TEST warning on stderr" grep -q TEST "$KEPT_ERR"
expect_exit 0 "verify --json shows test: true" verify "$T/test.json" --json
v=$(json_get "$OUT" 'd["test"]' 2>/dev/null)
if [ "$v" = true ]; then ok "verify --json: \"test\": true"; else not_ok "verify --json: \"test\": true (got '$v')"; fi
seal_test() {
	sd seal --directory "$T/test.json" --root "$D/root.key.pub" --report docs/examples/report.json \
		--identity docs/examples/identity.json --out "$T/test.sdx" --codename-out "$T/test.code" --quiet
}
expect_exit 0 "seal with the --test directory" seal_test
keep_output
check "seal prints the TEST warning on stderr, even with --quiet" grep -q TEST "$KEPT_ERR"

# --- agencies ---
expect_exit 0 "create with two agencies (version 4)" create "$T/agencies.json" --version 4 \
	--agency "inspect-1:Board of Audit and Inspection:$D/agency1.key.pub" \
	--agency "police-2:Korean National Police: Cyber Bureau:$D/agency2.key.pub"
expect_exit 0 "verify the directory with agencies" verify "$T/agencies.json"
keep_output
check "verify lists agency inspect-1 and its name" grep -q "inspect-1.*Board of Audit and Inspection" "$KEPT_OUT"
check "verify lists agency police-2, its name keeping the ':'" grep -q "police-2.*Korean National Police: Cyber Bureau" "$KEPT_OUT"
check "verify lists agency police-2's key id" has "$KEPT_OUT" "$(cut -d' ' -f3 "$D/agency2.key.pub")"
expect_exit 0 "verify --json with agencies" verify "$T/agencies.json" --json
v=$(json_get "$OUT" '" ".join(a["id"] for a in d["agencies"])' 2>/dev/null)
if [ "$v" = "inspect-1 police-2" ]; then ok "verify --json lists both agencies"; else not_ok "verify --json lists both agencies (got '$v')"; fi
expect_exit 65 "an --agency with an intake key is refused" -m agency \
	create "$T/bad-agency.json" --version 5 --agency "x:X:$D/intake.key.pub"
expect_exit 64 "an --agency without a key file part is refused as usage" \
	create "$T/bad-agency2.json" --version 5 --agency "x"
expect_exit 64 "two agencies with the same id are refused" -m "'x'" \
	create "$T/bad-agency3.json" --version 5 --agency "x:X:$D/agency1.key.pub" --agency "x:Y:$D/agency2.key.pub"

# --- wrong kinds and bad values ---
expect_exit 65 "--intake with an identity public key is refused" -m intake \
	sd directory create --deployment dirtest --intake "$D/identity.key.pub" --identity "$D/identity.key.pub" \
	--root "$D/root.key" --passphrase-file "$PW" --out "$T/bad1.json"
expect_exit 65 "--identity with an intake public key is refused" -m identity \
	sd directory create --deployment dirtest --intake "$D/intake.key.pub" --identity "$D/intake.key.pub" \
	--root "$D/root.key" --passphrase-file "$PW" --out "$T/bad2.json"
expect_exit 65 "--root with an intake secret key is refused" -m root \
	sd directory create --deployment dirtest --intake "$D/intake.key.pub" --identity "$D/identity.key.pub" \
	--root "$D/intake.key" --passphrase-file "$PW" --out "$T/bad3.json"
expect_exit 64 "a deployment id with capitals is refused as usage" -m deployment \
	sd directory create --deployment DirTest --intake "$D/intake.key.pub" --identity "$D/identity.key.pub" \
	--root "$D/root.key" --passphrase-file "$PW" --out "$T/bad4.json"
expect_exit 64 "a --not-after in the past is refused" -m not-after create "$T/bad5.json" --not-after 2020-01-01
expect_exit 64 "--version 0 is refused" -m version create "$T/bad6.json" --version 0
for f in bad1 bad2 bad3 bad4 bad5 bad6 bad-agency bad-agency2 bad-agency3; do
	[ -e "$T/$f.json" ] && not_ok "refused create left $f.json behind"
done
expect_exit 73 "create never overwrites an existing directory file" create "$T/v1.json" --version 9

done_testing
