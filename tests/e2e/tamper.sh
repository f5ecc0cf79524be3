# tamper.sh — a damaged or foreign package is refused, and refusing leaves nothing behind.
#
# One small package (a 3 MiB and a small evidence file) is damaged in turn: a byte flipped
# at ~40 offsets spread over every part of the file (prefix, preamble, manifest, signature,
# each blob, the last byte), truncated at several lengths, extended by a byte. Each must
# make `inspect` and `open` exit 65, and `open` must leave neither its output directory
# nor a staging directory. Then: a package for another deployment, a wrong passphrase, an
# output directory that is not empty.
. "$(dirname "$0")/lib.sh"

D="$T/demo"
mkdeployment "$D" demo || done_testing
random_file "$T/evidence.bin" 3
printf 'a short memo\n' >"$T/memo.txt"
PKG="$T/pkg.sdx"
seal_example "$D" "$PKG" --evidence "$T/evidence.bin" --evidence "$T/memo.txt"
if [ "$RC" -ne 0 ]; then
	not_ok "set-up: seal the package to damage"
	_diag_output
	done_testing
fi

# The control: the undamaged package verifies and opens.
expect_exit 0 "the undamaged package passes inspect" sd inspect "$PKG" --json
cp "$OUT" "$T/inspect.json"
expect_exit 0 "the undamaged package opens" sd open "$PKG" --intake "$D/intake.key" --passphrase-file "$PW" --out "$T/control"
check "the undamaged package's evidence opens byte-identical" cmp "$T/evidence.bin" "$T/control/evidence/evidence.bin"

size=$(file_size "$PKG")
hlen=$(od -An -tu4 -j12 -N4 "$PKG" | tr -d ' ')
# Blob sizes in package order (report, identity, evidence, evidence); blobs follow the header.
# shellcheck disable=SC2046 # one word per blob size
set -- $(json_get "$T/inspect.json" '" ".join(str(b["size"]) for b in d["blobs"])')
if [ $# -ne 4 ] || [ $((hlen + $1 + $2 + $3 + $4)) -ne "$size" ]; then
	not_ok "set-up: header length $hlen and blob sizes '$*' add up to the package size $size"
	done_testing
fi
r0=$hlen
r1=$((r0 + $1))
r2=$((r1 + $2))
r3=$((r2 + $3))
mib=1048576
# offset:where — each region's first, some middle and last bytes.
offsets="0:magic 3:magic 7:magic 8:version 9:version 10:flags 11:flags 12:header-length
13:header-length 15:header-length 16:deployment-length 17:deployment 22:date 30:intake-key-id
40:identity-key-id 60:consent-key
200:sealed-dek $((hlen / 2)):header-middle $((hlen - 200)):manifest $((hlen - 65)):manifest-end
$((hlen - 64)):signature $((hlen - 30)):signature $((hlen - 1)):header-last
$r0:report-first $((r0 + 23)):report-nonce $((r0 + $1 / 2)):report-middle $((r1 - 1)):report-last
$r1:identity-first $((r1 + $2 / 2)):identity-middle $((r2 - 1)):identity-last
$r2:evidence1-first $((r2 + 552)):evidence1-chunk0-last $((r2 + 553)):evidence1-chunk1-first
$((r2 + 553 + mib / 2)):evidence1-chunk1-middle $((r2 + 553 + mib + 17)):evidence1-chunk2-first
$((r2 + $3 / 2)):evidence1-middle $((r3 - 1)):evidence1-last
$r3:evidence2-first $((r3 + 600)):evidence2-chunk1 $((size - 2)):evidence2-near-end
$((size - 1)):last-byte"

# A damaged copy must fail inspect and open with 65, leaving nothing behind.
refused() { # file what
	expect_exit 65 "$2: inspect exits 65" sd inspect "$1"
	expect_exit 65 "$2: open exits 65" sd open "$1" --intake "$D/intake.key" --passphrase-file "$PW" --out "$T/out/opened"
	if [ -e "$T/out/opened" ]; then
		not_ok "$2: open left no output directory (it left $T/out/opened)"
	elif [ -n "$(tmp_leftovers "$T/out")" ]; then
		not_ok "$2: open left no staging files ($(tmp_leftovers "$T/out" | tr '\n' ' '))"
	elif [ -n "$(ls -A "$T/out")" ]; then
		not_ok "$2: open left nothing at all ($(ls -A "$T/out" | tr '\n' ' '))"
	else
		ok "$2: open left nothing behind"
	fi
}

mkdir -p "$T/out"
for entry in $offsets; do
	off=${entry%%:*}
	what=${entry#*:}
	cp "$PKG" "$T/bad.sdx"
	flip_byte "$T/bad.sdx" "$off"
	if cmp -s "$PKG" "$T/bad.sdx"; then
		not_ok "set-up: byte $off ($what) flipped"
		continue
	fi
	refused "$T/bad.sdx" "byte $off flipped ($what)"
done

for len in 0 10 100 $((hlen - 1)) "$hlen" $((r2 + $3 / 2)) $((size - 1)); do
	head -c "$len" "$PKG" >"$T/bad.sdx"
	refused "$T/bad.sdx" "truncated to $len of $size bytes"
done

cp "$PKG" "$T/bad.sdx"
printf '\0' >>"$T/bad.sdx"
refused "$T/bad.sdx" "one byte appended"

# A package sealed for another deployment, with its own intake key, opened with ours.
mkdeployment "$T/other" other || done_testing
seal_example "$T/other" "$T/other.sdx"
[ "$RC" -eq 0 ] || { not_ok "set-up: seal for deployment other"; _diag_output; }
expect_exit 0 "the other deployment's package passes inspect (it is intact)" sd inspect "$T/other.sdx"
expect_exit 65 "another deployment's package: open with our intake key exits 65" \
	-m intake -m deployment \
	sd open "$T/other.sdx" --intake "$D/intake.key" --passphrase-file "$PW" --out "$T/out/opened"
if [ -e "$T/out/opened" ] || [ -n "$(ls -A "$T/out")" ]; then
	not_ok "another deployment's package: nothing left behind"
else
	ok "another deployment's package: nothing left behind"
fi

# Wrong passphrase for the intake key.
echo 'not the passphrase' >"$T/wrong-pw"
expect_exit 77 "wrong passphrase: open exits 77 and says so" -m passphrase \
	sd open "$PKG" --intake "$D/intake.key" --passphrase-file "$T/wrong-pw" --out "$T/out/opened"
if [ -e "$T/out/opened" ] || [ -n "$(ls -A "$T/out")" ]; then
	not_ok "wrong passphrase: nothing left behind"
else
	ok "wrong passphrase: nothing left behind"
fi

# An output directory that exists and is not empty is never written into.
mkdir -p "$T/out/full"
printf 'keep me\n' >"$T/out/full/keep.txt"
expect_exit 73 "open into a non-empty directory exits 73" \
	sd open "$PKG" --intake "$D/intake.key" --passphrase-file "$PW" --out "$T/out/full"
if [ "$(ls -A "$T/out/full")" = keep.txt ] && [ "$(cat "$T/out/full/keep.txt")" = "keep me" ]; then
	ok "the non-empty directory is untouched"
else
	not_ok "the non-empty directory is untouched (it holds: $(ls -A "$T/out/full" | tr '\n' ' '))"
fi
rm -rf "$T/out/full"
if [ -z "$(tmp_leftovers "$T/out")" ]; then ok "no staging files left beside it"; else not_ok "no staging files left beside it"; fi

# An empty output directory is allowed ("must not exist, or be empty").
mkdir -p "$T/out/empty"
expect_exit 0 "open into an existing empty directory works" \
	sd open "$PKG" --intake "$D/intake.key" --passphrase-file "$PW" --out "$T/out/empty"
check "and the evidence is there" cmp "$T/memo.txt" "$T/out/empty/evidence/memo.txt"

done_testing
