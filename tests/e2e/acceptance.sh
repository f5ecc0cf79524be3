# acceptance.sh — the Acceptance block of issue 2, run as written (same commands, same
# flags, same file names), then checked: what each command promised to write, that the
# opened evidence is byte-identical, that no identity data leaves the package, and that
# two seals share neither codename nor bytes.
#
# Two departures, both for `make test` itself: the block's first line, `make test`, is
# what runs this script, so it is not repeated here; and the evidence is 64 MiB instead
# of 300M to keep the suite fast (memory.sh covers large files, tamper.sh damage).
. "$(dirname "$0")/lib.sh"

P=$(mktemp -d); echo 'correct horse battery staple' > $P/pw
rm_at_exit "$P"

check "keygen --kind root" ./sealdrop keygen --kind root --out $P/root.key --passphrase-file $P/pw        # writes root.key (0600) and root.key.pub
check "keygen --kind intake" ./sealdrop keygen --kind intake --out $P/intake.key --passphrase-file $P/pw
check "keygen --kind identity" ./sealdrop keygen --kind identity --out $P/identity.key --passphrase-file $P/pw
check "directory create --deployment demo" ./sealdrop directory create --deployment demo --intake $P/intake.key.pub --identity $P/identity.key.pub \
    --root $P/root.key --passphrase-file $P/pw --out $P/directory.json
check "directory verify" ./sealdrop directory verify $P/directory.json --root $P/root.key.pub
head -c 64M /dev/urandom > $P/big.bin; cp README.md $P/memo.txt
check "seal 64 MiB + README evidence" ./sealdrop seal --directory $P/directory.json --root $P/root.key.pub --report docs/examples/report.json \
    --identity docs/examples/identity.json --evidence $P/big.bin --evidence $P/memo.txt --out $P/pkg.sdx --codename-out $P/codename
check "inspect --json" ./sealdrop inspect $P/pkg.sdx --json
cp "$OUT" "$T/inspect.json"
check "open with the intake key" ./sealdrop open $P/pkg.sdx --intake $P/intake.key --passphrase-file $P/pw --out $P/opened   # opened/report.json, opened/evidence/big.bin, opened/evidence/memo.txt

# --- what keygen wrote ---
for k in root intake identity; do
	m=$(file_mode $P/$k.key 2>/dev/null)
	if [ "$m" = 600 ]; then ok "$k.key has mode 0600"; else not_ok "$k.key has mode 0600 (it is '$m')"; fi
	check "$k.key.pub exists and is not empty" test -s $P/$k.key.pub
done

# --- inspect --json ---
check "inspect --json prints valid JSON" json_is_valid "$T/inspect.json"
v=$(json_get "$T/inspect.json" 'd["deployment"]' 2>/dev/null)
if [ "$v" = demo ]; then ok "inspect names deployment demo"; else not_ok "inspect names deployment demo (got '$v')"; fi
v=$(json_get "$T/inspect.json" 'len(d["blobs"])' 2>/dev/null)
if [ "$v" = 4 ]; then ok "inspect lists 4 blobs"; else not_ok "inspect lists 4 blobs (got '$v')"; fi
v=$(json_get "$T/inspect.json" '",".join(b["kind"] for b in d["blobs"])' 2>/dev/null)
if [ "$v" = report,identity,evidence,evidence ]; then
	ok "blobs are report, identity, evidence, evidence"
else
	not_ok "blobs are report, identity, evidence, evidence (got '$v')"
fi

# --- opened output ---
check "opened/report.json is the report, byte for byte" cmp docs/examples/report.json $P/opened/report.json
check "opened/evidence/big.bin is byte-identical" cmp $P/big.bin $P/opened/evidence/big.bin
check "opened/evidence/memo.txt is byte-identical" cmp $P/memo.txt $P/opened/evidence/memo.txt
files=$(cd $P/opened && find . -type f | sort | tr '\n' ' ')
if [ "$files" = "./evidence/big.bin ./evidence/memo.txt ./report.json " ]; then
	ok "opened/ holds exactly report.json and the two evidence files"
else
	not_ok "opened/ holds exactly report.json and the two evidence files (it holds: $files)"
fi
if [ -z "$(find $P/opened -iname 'identity*')" ]; then
	ok "no file named identity* in opened/"
else
	not_ok "no file named identity* in opened/ (found: $(find $P/opened -iname 'identity*'))"
fi
for field in name rrn phone email; do
	value=$(json_get docs/examples/identity.json "d[\"$field\"]" 2>/dev/null)
	if [ -z "$value" ] || ! grep -qF -- "$value" docs/examples/identity.json; then
		not_ok "identity $field read from docs/examples/identity.json (got '$value')"
		continue
	fi
	if grep -rqF -- "$value" $P/opened; then
		not_ok "opened/ does not contain the identity's $field"
		diag "found in: $(grep -rlF -- "$value" $P/opened | tr '\n' ' ')"
	else
		ok "opened/ does not contain the identity's $field"
	fi
done

# --- codename ---
cut -f2 crypto/data/eff_large_wordlist.txt >"$T/words"
codename_ok() { # file
	[ "$(wc -l <"$1")" -eq 1 ] || return 1
	# shellcheck disable=SC2046 # split into words on purpose
	set -- $(cat "$1")
	[ $# -eq 8 ] || return 1
	for w; do grep -qxF -- "$w" "$T/words" || return 1; done
}
if codename_ok $P/codename; then
	ok "codename file: one line of 8 words, each in the EFF large wordlist"
else
	not_ok "codename file: one line of 8 words, each in the EFF large wordlist"
	diag "codename file has $(wc -l <$P/codename) lines, $(wc -w <$P/codename) words"
fi
m=$(file_mode $P/codename 2>/dev/null)
if [ "$m" = 600 ]; then ok "codename file has mode 0600"; else not_ok "codename file has mode 0600 (it is '$m')"; fi

# --- a second seal of the same inputs ---
check "second seal of the same inputs" ./sealdrop seal --directory $P/directory.json --root $P/root.key.pub --report docs/examples/report.json \
    --identity docs/examples/identity.json --evidence $P/big.bin --evidence $P/memo.txt --out $P/pkg2.sdx --codename-out $P/codename2
check "second codename is valid too" codename_ok $P/codename2
if cmp -s $P/codename $P/codename2; then
	not_ok "the two seals give different codenames"
else
	ok "the two seals give different codenames"
fi
if cmp -s $P/pkg.sdx $P/pkg2.sdx; then
	not_ok "the two seals give different packages"
else
	ok "the two seals give different packages"
fi
run ./sealdrop inspect $P/pkg2.sdx --json
cp "$OUT" "$T/inspect2.json"
d1=$(json_get "$T/inspect.json" 'd["header_digest"]' 2>/dev/null)
d2=$(json_get "$T/inspect2.json" 'd["header_digest"]' 2>/dev/null)
if [ ${#d1} -eq 64 ] && [ ${#d2} -eq 64 ] && [ "$d1" != "$d2" ]; then
	ok "the two packages have different header digests"
else
	not_ok "the two packages have different header digests ('$d1' vs '$d2')"
fi

done_testing
