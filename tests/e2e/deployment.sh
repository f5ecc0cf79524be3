# deployment.sh — a package sealed for another deployment is refused when the directory
# is given, even when both deployments share the same intake key (so the key-id check
# alone would not notice), and the refusal happens before any passphrase or decryption.
. "$(dirname "$0")/lib.sh"

D="$T/demo"
mkdeployment "$D" demo || done_testing
check "a second deployment 'other' signed with the same root and the same keys" \
	sd directory create --deployment other --intake "$D/intake.key.pub" --identity "$D/identity.key.pub" \
	--root "$D/root.key" --passphrase-file "$PW" --out "$T/other.json"
mkdir -p "$T/o" && cp "$T/other.json" "$T/o/directory.json" && cp "$D/root.key.pub" "$T/o/root.key.pub"
seal_example "$T/o" "$T/other.sdx"
check "sealing for 'other' works" test "$RC" -eq 0
seal_example "$D" "$T/demo.sdx"
check "sealing for 'demo' works" test "$RC" -eq 0

expect_exit 65 "open --directory demo refuses a package sealed for 'other'" -m "deployment" -m "other" \
	sd open "$T/other.sdx" --intake "$D/intake.key" --passphrase-file "$PW" --out "$T/out1" \
	--directory "$D/directory.json" --root "$D/root.key.pub"
check "the refused open wrote nothing" test ! -e "$T/out1"
expect_exit 65 "inspect --directory demo refuses it too" -m "deployment" \
	sd inspect "$T/other.sdx" --directory "$D/directory.json" --root "$D/root.key.pub"
expect_exit 0 "open --directory demo accepts a package sealed for 'demo'" \
	sd open "$T/demo.sdx" --intake "$D/intake.key" --passphrase-file "$PW" --out "$T/out2" \
	--directory "$D/directory.json" --root "$D/root.key.pub"
check "and wrote the report" test -f "$T/out2/report.json"
expect_exit 64 "--directory without --root is a usage error" \
	sd open "$T/demo.sdx" --intake "$D/intake.key" --passphrase-file "$PW" --out "$T/out3" \
	--directory "$D/directory.json"
done_testing
