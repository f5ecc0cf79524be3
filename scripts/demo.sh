#!/bin/sh
# demo.sh — what `make run` runs: the demo deployment on 127.0.0.1:8443 under ./var/demo.
#
# First run: the operator's keys and signed directory, a sealdropd server (its CA, TLS
# certificate, log key and store in var/demo/server), a demo attorney, officer and
# custodian enrolled, the example report sealed by a whistleblower and filed by the
# attorney, with the receipt checked offline. Then the server stays in the foreground
# (Ctrl-C stops it) and the commands a newcomer can try next are printed. The last setup
# step writes var/demo/.setup-complete: a later run reuses a demo that has it (delete
# var/demo to start over), and builds one that stopped part-way again from scratch.
# DEMO_PORT changes the port of a new demo (a reused one keeps the port it was made for).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
SEALDROP=./sealdrop
SEALDROPD=./sealdropd
V=var/demo
S=$V/server
MARKER=$V/.setup-complete
PORT=${DEMO_PORT:-8443}
URL=https://127.0.0.1:$PORT

for b in "$SEALDROP" "$SEALDROPD"; do
	if [ ! -x "$b" ]; then
		echo "demo: $b is not built; run 'make run' (or 'make' first)" >&2
		exit 1
	fi
done

export XDG_STATE_HOME="$top/$V/state"
server_pid=""
trap 'if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; fi' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

n=0
step() {
	n=$((n + 1))
	printf '\n== %d. %s\n' "$n" "$1"
	shift
	for line; do printf '   %s\n' "$line"; done
}

# Prints the command, runs it, and stops the demo if it fails.
do_cmd() {
	printf '\n$ %s\n' "$*"
	rc=0
	"$@" || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "demo: step $n failed: '$1 $2' exited with status $rc" >&2
		exit "$rc"
	fi
}

port_is_free() {
	if curl -s -o /dev/null --max-time 2 -k "$URL/v1/health"; then
		echo "demo: something already answers on $URL; stop it or run with DEMO_PORT=NNNN" >&2
		exit 1
	fi
}

start_server() {
	port_is_free
	printf '\n$ %s run --config %s/sealdropd.conf &\n' "$SEALDROPD" "$S"
	"$SEALDROPD" run --config "$S/sealdropd.conf" &
	server_pid=$!
	i=0
	until curl -s -o /dev/null --max-time 2 --cacert "$S/ca.pem" "$URL/v1/health"; do
		if ! kill -0 "$server_pid" 2>/dev/null || [ $i -ge 100 ]; then
			echo "demo: sealdropd did not start (see the messages above)" >&2
			exit 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
}

setup_keys() {
	step "The demo passphrase" \
		"Key files are encrypted under a passphrase (Argon2id + XChaCha20-Poly1305)." \
		"DEMO ONLY: it is in $V/passphrase and given to every command with --passphrase-file." \
		"Real operators and officers type it at the no-echo prompt instead."
	echo 'demo passphrase - never use a file like this for real keys' >"$V/passphrase"
	chmod 600 "$V/passphrase"

	step "Operator: the root, intake and identity keys" \
		"Root signs the key directory (kept offline; clients pin its public half). Intake opens" \
		"reports and evidence (officers). Identity opens only the Commission's half of a sealed" \
		"identity (custodians): useless without the half only the whistleblower can release."
	for k in root intake identity; do
		do_cmd "$SEALDROP" keygen --kind "$k" --out "$V/keys/$k.key" --passphrase-file "$V/passphrase" \
			--kdf interactive
	done

	step "Agency: the police's own key" \
		"An inspection or investigative agency makes its key on its own machine and gives the" \
		"operator the public half; the directory lists it, so referrals are sealed to it."
	mkdir -p "$V/police"
	do_cmd "$SEALDROP" keygen --kind agency --out "$V/police/agency.key" --passphrase-file "$V/passphrase" \
		--kdf interactive
}

setup_server() {
	step "Operator: initialise the server" \
		"A TLS CA, the server certificate (localhost, 127.0.0.1), the log signing key, the" \
		"LMDB store and a commented sealdropd.conf, in $S."
	do_cmd "$SEALDROPD" init --dir "$S" --listen "127.0.0.1:$PORT"

	step "Operator: sign the key directory" \
		"It lists the intake and identity keys, the server's log key and CA (so that clients" \
		"can check receipts and the server's certificate) and the agencies' keys."
	do_cmd "$SEALDROP" directory create --deployment demo --intake "$V/keys/intake.key.pub" \
		--identity "$V/keys/identity.key.pub" --log "$S/log.key.pub" --tls-ca "$S/ca.pem" \
		--root "$V/keys/root.key" --passphrase-file "$V/passphrase" --out "$S/directory.json" \
		--agency "police:National Police Agency (demo):$V/police/agency.key.pub"
}

enroll_people() {
	step "Operator: enroll a demo attorney, officer and custodian" \
		"Each gets a client certificate (and, here, a key made for them) in $V/<role>/." \
		"In production each user sends a CSR instead, so their key never leaves them."
	do_cmd "$SEALDROPD" enroll --dir "$S" --role attorney --name "Attorney Kim (demo)" --out "$V/attorney"
	do_cmd "$SEALDROPD" enroll --dir "$S" --role officer --name "Officer Park (demo)" --out "$V/officer"
	do_cmd "$SEALDROPD" enroll --dir "$S" --role custodian --name "Custodian Choi (demo)" --out "$V/custodian"
}

seal_and_file() {
	step "Whistleblower: seal the report, the identity and evidence (offline)" \
		"docs/examples/report.json (Decree Art. 7(1) 2-7), docs/examples/identity.json" \
		"(Art. 7(1) 1) and README.md as evidence. A real whistleblower omits --codename-out:" \
		"the eight-word codename is shown once and must be written on paper."
	rm -f "$V/package.sdx" "$V/codename"
	do_cmd "$SEALDROP" seal --directory "$S/directory.json" --root "$V/keys/root.key.pub" \
		--report docs/examples/report.json --identity docs/examples/identity.json \
		--evidence README.md --out "$V/package.sdx" --codename-out "$V/codename"

	step "Attorney: file the package" \
		"Over TLS 1.3 with the attorney's certificate, in resumable chunks; the receipt is" \
		"signed by the server's log key and checked against the directory."
	do_cmd "$SEALDROP" file "$V/package.sdx" --server "$URL" --ca "$S/ca.pem" \
		--cert "$V/attorney/cert.pem" --key "$V/attorney/key.pem" --root "$V/keys/root.key.pub"
	do_cmd "$SEALDROP" receipt verify "$V/package.sdx.receipt.json" --directory "$S/directory.json" \
		--root "$V/keys/root.key.pub"
	check_log
}

check_log() {
	step "Anyone: check the filing is in the audit log, and the log's history" \
		"The server signs a tree head of its audit log every hour; the operator publishes one" \
		"now. The receipt's filing is then proven to be in it, and audit verify records the" \
		"head so that a later rewrite or rollback of the log is caught."
	do_cmd "$SEALDROPD" audit publish --config "$S/sealdropd.conf"
	do_cmd "$SEALDROP" receipt verify "$V/package.sdx.receipt.json" --directory "$S/directory.json" \
		--root "$V/keys/root.key.pub" --server "$URL" --ca "$S/ca.pem"
	do_cmd "$SEALDROP" audit verify --server "$URL" --ca "$S/ca.pem" --directory "$S/directory.json" \
		--root "$V/keys/root.key.pub"
}

# The demo package's case number, from its receipt: $case_no.
case_number() {
	case_no=$("$SEALDROP" receipt verify "$V/package.sdx.receipt.json" --directory "$S/directory.json" \
		--root "$V/keys/root.key.pub" --json | sed -n 's/.*"case": *"\([0-9-]*\)".*/\1/p')
}

officer_work() {
	step "Officer: the case list, the package opened on the officer's machine, a decision" \
		"The officer lists the cases with their deadlines, downloads the package (each chunk" \
		"checked against the signed manifest) and opens it with the intake key: the report" \
		"and evidence, never the identity, into $V/fetched. Then the decision period is extended" \
		"(Art. 8(2)); the reason is sealed to the intake key before it leaves the officer's machine."
	off="--server $URL --ca $S/ca.pem --cert $V/officer/cert.pem --key $V/officer/key.pem"
	case_number
	# shellcheck disable=SC2086 # the options on purpose
	do_cmd "$SEALDROP" cases $off
	rm -rf "$V/fetched"
	# shellcheck disable=SC2086
	do_cmd "$SEALDROP" fetch "$case_no" --intake "$V/keys/intake.key" --passphrase-file "$V/passphrase" \
		--out "$V/fetched" --root "$V/keys/root.key.pub" $off
	# shellcheck disable=SC2086
	do_cmd "$SEALDROP" transition "$case_no" extend --reason "the evidence needs a second reading" \
		--root "$V/keys/root.key.pub" $off
	# shellcheck disable=SC2086
	do_cmd "$SEALDROP" transition "$case_no" refer --agency police --kind inspection \
		--root "$V/keys/root.key.pub" $off
	# shellcheck disable=SC2086
	do_cmd "$SEALDROP" case "$case_no" $off

	step "Officer: the referral bundle for the police; the police open it" \
		"Built on the officer's machine: the report and evidence re-wrapped to the police's key" \
		"as the signed directory lists it, never the identity (Art. 9(3)). The server records" \
		"the bundle in the audit log and signs an export receipt that travels with it."
	rm -rf "$V/police/case" "$V/police/case.sdr"
	# shellcheck disable=SC2086
	do_cmd "$SEALDROP" export "$case_no" --agency police --intake "$V/keys/intake.key" \
		--passphrase-file "$V/passphrase" --out "$V/police/case.sdr" --root "$V/keys/root.key.pub" $off
	do_cmd "$SEALDROP" open "$V/police/case.sdr" --agency "$V/police/agency.key" \
		--passphrase-file "$V/passphrase" --root "$V/keys/root.key.pub" --out "$V/police/case"
}

whistleblower_status() {
	step "Whistleblower: follow the case with the codename" \
		"No account and no certificate: the codename proves itself to the server without being" \
		"sent. Every notice is checked (the log's signature, its place in the audit log) before" \
		"it is decrypted here. The operator publishes a log head first (hourly otherwise), so" \
		"the latest notices are provable now rather than pending. A real whistleblower types" \
		"the codename at the prompt instead of --codename-file."
	do_cmd "$SEALDROPD" audit publish --config "$S/sealdropd.conf"
	do_cmd "$SEALDROP" status --server "$URL" --ca "$S/ca.pem" --directory "$S/directory.json" \
		--root "$V/keys/root.key.pub" --codename-file "$V/codename"
}

identity_release() {
	step "Whistleblower: consent to the Commission reading the identity, for 30 days" \
		"The client explains what the consent allows, to whom and until when (Art. 7(2)) and" \
		"asks; --yes answers for the demo. The consent is signed with the codename and the" \
		"server checks it against the package and the directory."
	do_cmd "$SEALDROP" consent grant --scope commission --yes --server "$URL" --ca "$S/ca.pem" \
		--directory "$S/directory.json" --root "$V/keys/root.key.pub" --codename-file "$V/codename"

	step "Custodian: unseal the identity (only while the consent is live)" \
		"The custodian's identity key opens the Commission's share; the consent's release" \
		"the whistleblower's. The access is in the audit log and the whistleblower is told."
	do_cmd "$SEALDROP" unseal "$case_no" --identity-key "$V/keys/identity.key" --passphrase-file "$V/passphrase" \
		--root "$V/keys/root.key.pub" --server "$URL" --ca "$S/ca.pem" --cert "$V/custodian/cert.pem" \
		--key "$V/custodian/key.pem"
}

# The whole setup, on an empty var/demo; its last step writes the marker.
build_demo() {
	mkdir -p "$V/keys" "$V/state"
	chmod 700 "$V"
	setup_keys
	setup_server
	start_server
	enroll_people
	seal_and_file
	officer_work
	whistleblower_status
	identity_release
	date -u '+%Y-%m-%dT%H:%M:%SZ' >"$MARKER"
	printf '\nThe setup is complete (%s): the next run reuses this demo.\n' "$MARKER"
}

# A demo made before the marker existed, whose filing went through: it is reused too.
old_demo_is_complete() {
	[ -f "$S/sealdropd.conf" ] && [ -f "$S/directory.json" ] && [ -f "$V/officer/cert.pem" ] &&
		[ -f "$V/package.sdx.receipt.json" ] && [ -f "$V/codename" ]
}

if [ ! -f "$MARKER" ] && [ -d "$V" ] && old_demo_is_complete; then
	date -u '+%Y-%m-%dT%H:%M:%SZ' >"$MARKER"
fi
reuse=false
made=""
if [ -f "$MARKER" ] && [ -f "$S/sealdropd.conf" ] && [ -f "$S/directory.json" ]; then
	reuse=true
	made=$(sed -n 's/^listen 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$S/sealdropd.conf")
	if [ -n "$made" ] && [ "$made" != "$PORT" ]; then
		PORT=$made
		URL=https://127.0.0.1:$PORT
	else
		made=""
	fi
fi

cat <<EOF
sealdrop demo deployment
========================
Everything lives under ./var/demo; the server listens on $URL only.
EOF
port_is_free
if $reuse; then
	[ -z "$made" ] || echo "The demo in $V was made for port $PORT (its sealdropd.conf): using that port."
	echo "Reusing the demo in $V, set up on $(cat "$MARKER") (delete $V to start over)."
	if [ -e "$V/opened" ] || [ -e "$V/second.sdx" ]; then
		echo "Clearing $V/opened and $V/second.sdx* (made by the commands below) so they can run again."
		rm -rf "$V/opened" "$V/second.sdx" "$V/second.sdx.receipt.json"
	fi
	start_server
	case_number
else
	if [ -e "$V" ]; then
		echo "The demo in $V did not finish its setup (an earlier run stopped part-way):"
		echo "deleting it and building it again from scratch."
		rm -rf "$V"
	fi
	build_demo
fi

cat <<EOF

== The demo is running: $URL (Ctrl-C stops it)
Try, in another terminal, from $top:

  # the public routes
  curl --cacert $S/ca.pem $URL/v1/health
  curl --cacert $S/ca.pem $URL/v1/directory

  # the attorney's filings
  curl --cacert $S/ca.pem --cert $V/attorney/cert.pem --key $V/attorney/key.pem $URL/v1/cases

  # the audit log: the signed head, a case's events (officer), the operator's check
  curl --cacert $S/ca.pem $URL/v1/log/head
  ./sealdrop audit show $case_no --server $URL --ca $S/ca.pem --cert $V/officer/cert.pem \\
      --key $V/officer/key.pem --directory $S/directory.json --root $V/keys/root.key.pub
  ./sealdropd audit check --config $S/sealdropd.conf

  # an officer may not file (403), nobody without a certificate may (401)
  curl --cacert $S/ca.pem --cert $V/officer/cert.pem --key $V/officer/key.pem -X POST $URL/v1/uploads

  # seal and file another report (in a terminal: seal shows a new codename and asks it back)
  ./sealdrop seal --directory $S/directory.json --root $V/keys/root.key.pub \\
      --report docs/examples/report.json --identity docs/examples/identity.json --out $V/second.sdx
  ./sealdrop file $V/second.sdx --server $URL --ca $S/ca.pem \\
      --cert $V/attorney/cert.pem --key $V/attorney/key.pem --root $V/keys/root.key.pub

  # an officer reads the report on their own machine (the identity stays sealed)
  ./sealdrop open $V/package.sdx --intake $V/keys/intake.key --passphrase-file $V/passphrase --out $V/opened

  # the whistleblower: status with the codename (no certificate); an objection is taken
  # only within 7 days after a result notice
  ./sealdrop status --server $URL --ca $S/ca.pem --directory $S/directory.json \\
      --root $V/keys/root.key.pub --codename-file $V/codename

  # the whistleblower's consents and the accesses to their identity; ending the consent
  ./sealdrop consent list --server $URL --ca $S/ca.pem --directory $S/directory.json \\
      --root $V/keys/root.key.pub --codename-file $V/codename
  ./sealdrop consent revoke --all --yes --server $URL --ca $S/ca.pem --directory $S/directory.json \\
      --root $V/keys/root.key.pub --codename-file $V/codename

  # the operator: enroll, disable
  ./sealdropd enroll --dir $S --role attorney --name "Attorney Lee" --out $V/lee
  ./sealdropd disable --dir $S --name "Attorney Lee"

The passphrase of every demo key is in $V/passphrase.
EOF
wait "$server_pid"
server_pid=""
