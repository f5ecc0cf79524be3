#!/bin/sh
# demo.sh — what `make run` runs: the offline demo deployment under ./var/demo.
#
# Until the server exists (a later issue), the demo walks through everything sealdrop
# does today with the real binary: the operator's keys and signed key directory, a
# whistleblower sealing docs/examples/report.json and identity.json with evidence, a
# keyless check of the package, and an officer opening it with the intake key while the
# identity stays sealed. Each run starts from an empty ./var/demo. Exits non-zero if any
# step fails.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
SEALDROP=./sealdrop
V=var/demo

if [ ! -x "$SEALDROP" ]; then
	echo "demo: ./sealdrop is not built; run 'make run' (or 'make' first)" >&2
	exit 1
fi

# Everything the demo writes, including the client's anti-rollback state, stays here.
rm -rf "$V"
mkdir -p "$V/keys" "$V/state"
chmod 700 "$V"
export XDG_STATE_HOME="$top/$V/state"

n=0
step() {
	n=$((n + 1))
	printf '\n== %d. %s\n' "$n" "$1"
	shift
	for line; do printf '   %s\n' "$line"; done
}

# Prints the command, runs it, and stops the demo if it fails.
sd() {
	printf '\n$ sealdrop %s\n' "$*"
	rc=0
	"$SEALDROP" "$@" || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "demo: step $n failed: 'sealdrop $1' exited with status $rc" >&2
		exit "$rc"
	fi
}

cat <<'EOF'
sealdrop offline demo
=====================
A whistleblower seals a report for the Commission; an officer opens it. No server is
involved yet: the package is a file that an attorney would carry. Everything is written
under ./var/demo and replaced on the next run.
EOF

step "The demo passphrase" \
	"Key files are encrypted under a passphrase (Argon2id + XChaCha20-Poly1305)." \
	"DEMO ONLY: the passphrase is written to $V/passphrase and given to every command with" \
	"--passphrase-file. A passphrase in a file can be copied or seized with the disk; real" \
	"operators and officers type it at the no-echo prompt instead."
echo 'demo passphrase - never use a file like this for real keys' >"$V/passphrase"
chmod 600 "$V/passphrase"

step "Operator: the root key" \
	"The root key signs the key directory. It belongs offline; clients pin its public half."
sd keygen --kind root --out "$V/keys/root.key" --passphrase-file "$V/passphrase"

step "Operator: the Commission's intake and identity keys" \
	"Intake opens reports and evidence (held by officers). Identity opens only the" \
	"Commission's half of a sealed identity (held by custodians); it is useless without" \
	"the half that only the whistleblower can release."
sd keygen --kind intake --out "$V/keys/intake.key" --passphrase-file "$V/passphrase"
sd keygen --kind identity --out "$V/keys/identity.key" --passphrase-file "$V/passphrase"

step "Operator: sign the key directory for deployment 'demo'" \
	"The directory tells clients which keys to seal to. It is signed by the root key, has a" \
	"version (clients refuse to go back to an older one) and a not-after date."
sd directory create --deployment demo --intake "$V/keys/intake.key.pub" \
	--identity "$V/keys/identity.key.pub" --root "$V/keys/root.key" \
	--passphrase-file "$V/passphrase" --out "$V/directory.json"

step "Whistleblower: check the directory against the pinned root key" \
	"The highest version seen is remembered under $V/state (XDG_STATE_HOME)."
sd directory verify "$V/directory.json" --root "$V/keys/root.key.pub"

step "Whistleblower: seal the report, the identity and evidence" \
	"Inputs: docs/examples/report.json (what happened, Decree Art. 7(1) 2-7)," \
	"docs/examples/identity.json (who is reporting, Art. 7(1) 1; its resident registration" \
	"number is checked first), and README.md as an evidence file. A real whistleblower" \
	"would omit --codename-out: the codename is then shown once on the terminal and must" \
	"be typed back. The demo writes it to a file only so that it can run unattended."
sd seal --directory "$V/directory.json" --root "$V/keys/root.key.pub" \
	--report docs/examples/report.json --identity docs/examples/identity.json \
	--evidence README.md --out "$V/package.sdx" --codename-out "$V/codename"
printf '\n   codename: %s\n' "$(cat "$V/codename")"
cat <<'EOF'
   These eight words are the whistleblower's only credential for this case (following it,
   reading notices, giving consent). They are written on paper and never kept on the
   device: a file like var/demo/codename is evidence on a seized laptop.
EOF

step "Attorney (or anyone): check the package without any key" \
	"inspect verifies the header signature and the hash of every chunk. It shows sizes," \
	"dates and key ids, never the content."
sd inspect "$V/package.sdx"

step "A damaged copy is refused" \
	"One bit of a copy of the package is flipped; inspect must refuse it (exit status 65)."
cp "$V/package.sdx" "$V/damaged.sdx"
b=$(od -An -tu1 -j 3000 -N1 "$V/damaged.sdx" | tr -d ' ')
# shellcheck disable=SC2059
printf "\\$(printf '%03o' $((b ^ 1)))" | dd of="$V/damaged.sdx" bs=1 seek=3000 conv=notrunc 2>/dev/null
printf '\n$ sealdrop inspect %s\n' "$V/damaged.sdx"
rc=0
"$SEALDROP" inspect "$V/damaged.sdx" || rc=$?
if [ "$rc" -ne 65 ]; then
	echo "demo: step $n failed: the damaged package gave status $rc, not 65" >&2
	exit 1
fi
echo "   refused, as it must be (status $rc)"
rm -f "$V/damaged.sdx"

step "Officer: open the package with the intake key" \
	"Everything is verified before anything is written; the output appears all at once."
sd open "$V/package.sdx" --intake "$V/keys/intake.key" --passphrase-file "$V/passphrase" \
	--out "$V/opened"

step "Officer: what was opened" "$V/opened:"
(cd "$V/opened" && find . -type f | sort | sed 's|^\./|     |')
printf '\n   the first lines of report.json:\n'
# Cut by characters, not bytes: the report is Korean (UTF-8).
python3 -c 'import sys
for line in open(sys.argv[1], encoding="utf-8").readlines()[:6]:
    line = line.rstrip("\n")
    print("     " + (line[:44] + " ..." if len(line) > 44 else line))' "$V/opened/report.json"

name=$(sed -n 's/^ *"name": "\(.*\)",$/\1/p' docs/examples/identity.json)
if [ -z "$name" ] || grep -rqF -- "$name" "$V/opened"; then
	echo "demo: the whistleblower's name should not be anywhere in $V/opened" >&2
	exit 1
fi
cat <<EOF

== What stays sealed, and why
   The whistleblower's name (in the example, the fictional $name), resident
   registration number, address and contacts are nowhere in $V/opened. The
   identity was sealed under a key made from two halves: one sealed to the identity key,
   one wrapped under a key only the codename produces. The Decree (Art. 7(1) proviso,
   Art. 13) forbids the Commission to look at it without the whistleblower's consent, and
   here that is arithmetic, not an access rule: without the codename holder's consent no
   officer, custodian or server can open it. Consent comes in a later version.

Done. Files are in $V; run 'make run' again to start over.
EOF
