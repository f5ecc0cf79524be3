# server_durability.sh — acknowledged filings survive kill -9 (issue 3). For 50 rounds:
# start the server, let two filers run `sealdrop file` over a queue of packages, kill -9
# the server at a random moment, and check that it starts again, that `mdb_dump -a` reads
# the store, and that every filing that got a receipt is listed as a case. At the end,
# every receipted package is read back from the LMDB file itself, chunk by chunk, and
# compared with the package's bytes. DURABILITY_ROUNDS overrides the 50 rounds.
. "$(dirname "$0")/lib.sh"

ROUNDS=${DURABILITY_ROUNDS:-50}
NPKG=${DURABILITY_PACKAGES:-160}
QUOTA=2 # new filings each filer starts per round, so the stream lasts across the rounds
MK_DIRECTORY_OPTS=--test mkserver || done_testing
stop_server

# The queue: small packages, each with its own evidence, sealed once.
mkdir -p "$T/q"
i=0
while [ $i -lt "$NPKG" ]; do
	head -c $((2000 + i * 997)) /dev/urandom >"$T/q/e$i"
	run sd seal --directory "$D/directory.json" --root "$P/root.key.pub" --report docs/examples/report.json \
		--identity docs/examples/identity.json --evidence "$T/q/e$i" --out "$T/q/p$i.sdx" \
		--codename-out "$T/q/p$i.codename" --quiet
	[ "$RC" -eq 0 ] || { not_ok "set-up: seal package $i"; _diag_output; done_testing; }
	i=$((i + 1))
done

# Files up to QUOTA packages that have no receipt yet (resuming interrupted ones), in
# order, until killed or done.
filer() { # first step
	_j=$1
	_n=0
	while [ $_j -lt "$NPKG" ] && [ $_n -lt $QUOTA ]; do
		if [ ! -e "$T/q/p$_j.sdx.receipt.json" ]; then
			"$SEALDROP" file "$T/q/p$_j.sdx" --server "$URL" --ca "$D/ca.pem" --cert "$D/att/cert.pem" \
				--key "$D/att/key.pem" --root "$P/root.key.pub" --json >/dev/null 2>&1 </dev/null
			_n=$((_n + 1))
		fi
		_j=$((_j + $2))
	done
}

receipted_cases() {
	"$PY" -c 'import glob, json, sys
for r in sorted(glob.glob(sys.argv[1] + "/q/*.receipt.json")):
    print(json.load(open(r))["receipt"]["case"])' "$T" | sort
}

starts=0 dumps=0 listed=0 round=1
while [ $round -le "$ROUNDS" ]; do
	if start_server "$D/sealdropd.conf"; then starts=$((starts + 1)); else diag "round $round: the server did not start" "$(tail -n 3 "$SERVER_LOG")"; break; fi
	filer 0 2 &
	f1=$!
	filer 1 2 &
	f2=$!
	sleep "$("$PY" -c 'import random; print(round(random.uniform(0.05, 0.6), 3))')"
	kill -KILL "$SERVER_PID"
	wait "$SERVER_PID" 2>/dev/null
	SERVER_PID=""
	wait $f1 $f2 2>/dev/null
	mdb_dump -a "$D/store" >/dev/null 2>&1 && dumps=$((dumps + 1))
	if start_server "$D/sealdropd.conf"; then
		curl -s --cacert "$D/ca.pem" --cert "$D/att/cert.pem" --key "$D/att/key.pem" "$URL/v1/cases" >"$T/cases.json"
		json_get "$T/cases.json" '"\n".join(c["case"] for c in d["cases"])' | sort >"$T/listed"
		receipted_cases >"$T/receipted"
		if [ -z "$(comm -23 "$T/receipted" "$T/listed")" ]; then listed=$((listed + 1)); else diag "round $round: receipted but not listed: $(comm -23 "$T/receipted" "$T/listed" | tr '\n' ' ')"; fi
		stop_server
	fi
	round=$((round + 1))
done
ROUNDS_RUN=$((round - 1))
if [ $starts -eq "$ROUNDS" ]; then ok "the server started after every kill -9 ($starts of $ROUNDS)"; else not_ok "the server started after every kill -9 ($starts of $ROUNDS)"; fi
if [ $dumps -eq "$ROUNDS_RUN" ]; then ok "mdb_dump -a read the store after every kill ($dumps)"; else not_ok "mdb_dump -a read the store after every kill ($dumps of $ROUNDS_RUN)"; fi
if [ $listed -eq "$ROUNDS_RUN" ]; then ok "every receipted filing was a case after every kill ($listed rounds)"; else not_ok "every receipted filing was a case after every kill ($listed of $ROUNDS_RUN rounds)"; fi
nrec=$(receipted_cases | wc -l)
diag "$nrec of $NPKG packages got a receipt during the kills"
if [ "$nrec" -ge 1 ]; then ok "filings completed between the kills ($nrec)"; else not_ok "filings completed between the kills"; fi

# Read every receipted filing back out of the LMDB file and compare it with the package.
mdb_dump -s cases "$D/store" >"$T/cases.dump" && mdb_dump -s chunks "$D/store" >"$T/chunks.dump"
if "$PY" - "$T" <<'PYEOF'; then ok "every receipted package reads back whole from the store"; else not_ok "every receipted package reads back whole from the store"; fi
import glob, json, struct, subprocess, sys
t = sys.argv[1]
def dump(path):
    out, lines = {}, open(path).read().split("HEADER=END\n", 1)[1].splitlines()
    for k, v in zip(lines[0::2], lines[1::2]):
        if k == "DATA=END":
            break
        out[bytes.fromhex(k.strip())] = bytes.fromhex(v.strip())
    return out
cases = {k.decode(): json.loads(v) for k, v in dump(t + "/cases.dump").items()}
chunks = dump(t + "/chunks.dump")
bad = 0
for r in glob.glob(t + "/q/*.sdx.receipt.json"):
    pkg = r[: -len(".receipt.json")]
    rc = json.load(open(r))["receipt"]
    c = cases.get(rc["case"])
    if c is None:
        print("# no case record for", rc["case"]); bad += 1; continue
    upload = bytes.fromhex(c["upload"])
    info = json.loads(subprocess.run(["./sealdrop", "inspect", pkg, "--json"], capture_output=True, check=True).stdout)
    data = open(pkg, "rb").read()
    for k, b in enumerate(info["blobs"]):
        got = b"".join(chunks.get(upload + struct.pack(">II", k, n), b"?") for n in range(b["chunks"]))
        if got != data[b["offset"]:b["offset"] + b["size"]]:
            print("# case", rc["case"], "blob", k, "differs"); bad += 1
sys.exit(1 if bad else 0)
PYEOF
done_testing
