# powerloss.sh — power loss (issue 7, Acceptance "Power loss"): SOAK_CUTS simulated power
# cuts (default 200) of the real sealdropd during filings. A kill -9 leaves the page cache
# whole, so it cannot test this; instead each round runs the server under the LD_PRELOAD
# shim tests/preload/powercut.so, which journals every write to DIR/store/data.mdb and
# every sync of it, while two filers run `sealdrop file`. The power goes either at a random
# journal record (the shim SIGKILLs the server: before a write, after one, around a sync;
# two rounds in three) or by kill -9 at a random moment (0.02 … SOAK_MAX_UP_MS after the
# server answers). tests/tools/sd-powercut (its seed printed) then rebuilds data.mdb as
# the disk could hold it: the file as the round began, every write the kernel had
# promised durable (fdatasync/fsync returned, or O_DSYNC), then a random subset of the
# other writes in a random order, some torn (sector prefix or page subset). On that image
# a normal sealdropd must:
#	- start (the store opens clean), with `mdb_dump -a` reading it first;
#	- pass `sealdropd audit check`;
#	- list, for the attorney (GET /v1/cases), every filing acknowledged in this round and
#	  every earlier one, with the receipt's header digest: 0 lost.
# Each round starts from the previous round's post-cut image, so the store grows and
# every cut also tests the survivors of earlier cuts (a fixed base would test one small
# store again and again). After the cuts, every filing a cut interrupted must complete
# against an uncut server. Controls: a self-test of shim and replay on a known write
# pattern; every round, the keep-all replay (every write kept) must equal the file the
# kill -9 left, byte for byte but for a write still running at the cut (the journal misses
# nothing); over the run some unsynced writes must have been dropped (a shim that never
# drops tests nothing); and SOAK_NEG_CUTS final rounds (default 3) replay with
# --ignore-sync (as if no sync had happened: only the round's base survives), where the
# same checker must report lost filings (the test can fail). A failed round keeps its
# journal, base image and seed in SOAK_KEEP (default /tmp) and stops the run.
# Small: SOAK_CUTS=10 (about 30 s).
. "$(dirname "$0")/../e2e/lib.sh"

CUTS=${SOAK_CUTS:-200}
NEG=${SOAK_NEG_CUTS:-3}
MAX_UP_MS=${SOAK_MAX_UP_MS:-600}
CUT_RANGE=${SOAK_CUT_RECORDS:-600} # the shim cuts at a record in 1 … this (then: one round's)
PER_FILER=${SOAK_PER_FILER:-4} # filings each of the two filers starts per round
BUILD=${BUILD:-build}
case $BUILD in /*) BDIR=$BUILD ;; *) BDIR=$TOP/$BUILD ;; esac
PC=$BDIR/tools/sd-powercut
SHIM=$BDIR/preload/powercut.so
SEED=${SOAK_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
START=$(date +%s)

if [ ! -x "$PC" ] || [ ! -f "$SHIM" ]; then
	make -s BUILD="$BUILD" "$PC" "$SHIM" >"$T/build.log" 2>&1 ||
		{ not_ok "$PC and $SHIM are built"; diag "$(tail -n 5 "$T/build.log")"; done_testing; }
fi
command -v mdb_dump >/dev/null || { not_ok "mdb_dump is installed (lmdb-utils)"; done_testing; }
diag "run seed $SEED (SOAK_SEED): round r replays with seed $SEED + r"

# --- the model on a known pattern, before the server: a write synced by fdatasync, a
# writev at the descriptor's offset, a write through a second descriptor opened O_DSYNC,
# a write past the end, none of the last three synced ---
mkdir -p "$T/st"
head -c 8192 /dev/zero | tr '\0' A >"$T/st/data.mdb"
cp "$T/st/data.mdb" "$T/st/base"
SD_POWERCUT_JOURNAL=$T/st/journal LD_PRELOAD=$SHIM "$PY" -c 'import os, sys
p = sys.argv[1]
fd = os.open(p, os.O_RDWR)
os.pwrite(fd, b"B" * 4096, 0)
os.fdatasync(fd)
os.lseek(fd, 4096, os.SEEK_SET)
os.writev(fd, [b"C" * 1000, b"D" * 1000])
fd2 = os.open(p, os.O_WRONLY | os.O_DSYNC)
os.pwrite(fd2, b"E" * 512, 6144)
os.pwrite(fd, b"F" * 4096, 8192)' "$T/st/data.mdb"
"$PC" --journal "$T/st/journal" --base "$T/st/base" --out "$T/st/keep" --seed 1 --mode keep-all >/dev/null
if cmp -s "$T/st/keep" "$T/st/data.mdb"; then ok "self-test: the keep-all replay equals the written file"; else not_ok "self-test: the keep-all replay equals the written file"; fi
"$PC" --journal "$T/st/journal" --base "$T/st/base" --out "$T/st/drop" --seed 1 --mode drop-all >"$T/st/drop.out"
if "$PY" -c 'import sys; sys.exit(0 if open(sys.argv[1], "rb").read() == b"B" * 4096 + b"A" * 2048 + b"E" * 512 + b"A" * 1536 else 1)' "$T/st/drop" &&
	grep -q ' durable=2 .* nondurable=2 .* dropped=2 ' "$T/st/drop.out"; then ok "self-test: drop-all keeps exactly the fdatasync'd and the O_DSYNC write"; else not_ok "self-test: drop-all keeps exactly the fdatasync'd and the O_DSYNC write"; diag "$(cat "$T/st/drop.out")"; fi
st_bad=0 st_varied=0 s=1
while [ $s -le 40 ]; do
	"$PC" --journal "$T/st/journal" --base "$T/st/base" --out "$T/st/rnd" --seed $s >/dev/null
	"$PC" --journal "$T/st/journal" --base "$T/st/base" --out "$T/st/rnd2" --seed $s >/dev/null
	cmp -s "$T/st/rnd" "$T/st/rnd2" || st_bad=$((st_bad + 1)) # the seed reproduces the image
	"$PY" -c 'import sys
b = open(sys.argv[1], "rb").read()
sys.exit(0 if b[:4096] == b"B" * 4096 and b[6144:6656] == b"E" * 512 and len(b) >= 8192 else 1)' "$T/st/rnd" ||
		st_bad=$((st_bad + 1))
	cmp -s "$T/st/rnd" "$T/st/keep" || st_varied=$((st_varied + 1))
	s=$((s + 1))
done
if [ $st_bad -eq 0 ] && [ $st_varied -gt 0 ]; then
	ok "self-test: 40 random replays keep every durable byte, repeat by seed, and differ from keep-all ($st_varied)"
else
	not_ok "self-test: 40 random replays keep every durable byte, repeat by seed, and differ from keep-all ($st_bad bad, $st_varied differ)"
fi

MK_DIRECTORY_OPTS=--test mkserver || done_testing
stop_server
STORE=$D/store/data.mdb
REAL_SEALDROPD=$SEALDROPD
# The shimmed server: the same binary, the shim preloaded into it alone (not into curl).
cat >"$T/shimmed" <<EOF
#!/bin/sh
SD_POWERCUT_JOURNAL='$T/journal' LD_PRELOAD='$SHIM' exec '$REAL_SEALDROPD' "\$@"
EOF
chmod +x "$T/shimmed"

# --- packages: sealed ahead (a --test directory makes sealing take milliseconds) ---
mkdir -p "$T/q"
NSEALED=0
seal_more() { # count
	_end=$((NSEALED + $1))
	while [ $NSEALED -lt $_end ]; do
		head -c $((500 + NSEALED * 37 % 4000)) /dev/urandom >"$T/q/e$NSEALED"
		run sd seal --directory "$D/directory.json" --root "$P/root.key.pub" --report docs/examples/report.json \
			--identity docs/examples/identity.json --evidence "$T/q/e$NSEALED" --out "$T/q/p$NSEALED.sdx" \
			--codename-out "$T/q/p$NSEALED.codename" --quiet
		[ "$RC" -eq 0 ] || { not_ok "set-up: seal package $NSEALED"; _diag_output; done_testing; }
		NSEALED=$((NSEALED + 1))
	done
}
seal_more 40
NEXT=0 # the first package without a receipt

# Files packages without a receipt, from FIRST with step 2 (two filers share the queue),
# until PER_FILER first attempts are made or the server is gone. A package whose filing
# a cut interrupted is resumed in every later round (its .err file exists). An
# acknowledged filing is one `sealdrop file` reported with exit 0: its number goes to
# $T/acked.new.
filer() { # first
	_j=$1
	_n=0
	while [ $_j -lt $NSEALED ] && [ $_n -lt "$PER_FILER" ]; do
		if [ ! -e "$T/q/p$_j.sdx.receipt.json" ]; then
			[ -e "$T/q/p$_j.err" ] || _n=$((_n + 1))
			"$SEALDROP" file "$T/q/p$_j.sdx" --server "$URL" --ca "$D/ca.pem" --cert "$D/att/cert.pem" \
				--key "$D/att/key.pem" --root "$P/root.key.pub" --json >"$T/q/p$_j.out" 2>"$T/q/p$_j.err" \
				</dev/null && echo "$_j" >>"$T/acked.new"
		fi
		_j=$((_j + 2))
	done
}

# Packages never tried yet.
untried() {
	_u=0
	_j=$NEXT
	while [ $_j -lt $NSEALED ]; do
		[ -e "$T/q/p$_j.err" ] || _u=$((_u + 1))
		_j=$((_j + 1))
	done
	echo $_u
}

# Adds this round's acknowledged filings ("case header_digest", from the receipt the
# client checked and wrote) to $T/acked.
record_acks() {
	[ -s "$T/acked.new" ] || return 0
	"$PY" - "$T" <<'PYEOF' >>"$T/acked"
import json, sys
t = sys.argv[1]
for j in open(t + "/acked.new").read().split():
    out = json.load(open("%s/q/p%s.out" % (t, j)))
    r = json.load(open(out["receipt"]))["receipt"]
    assert r["case"] == out["case"]
    print(r["case"], r["header_digest"])
PYEOF
	rm -f "$T/acked.new"
}

# Prints how many acknowledged filings ($T/acked) the running server does not list for
# the attorney with the same header digest (paging through GET /v1/cases), and names the
# first few on stderr.
count_lost() {
	"$PY" - "$T/acked" "$URL" "$D" <<'PYEOF'
import json, subprocess, sys
acked, url, d = sys.argv[1], sys.argv[2], sys.argv[3]
listed, after = {}, None
while True:
    q = url + "/v1/cases" + ("?after=" + after if after else "")
    out = subprocess.run(["curl", "-sf", "--cacert", d + "/ca.pem", "--cert", d + "/att/cert.pem",
                          "--key", d + "/att/key.pem", q], capture_output=True, check=True).stdout
    page = json.loads(out)
    for c in page["cases"]:
        listed[c["case"]] = c["header_digest"]
    if not page["more"] or not page["cases"]:
        break
    after = page["cases"][-1]["case"]
lost = []
for line in open(acked).read().splitlines():
    case, digest = line.split()
    if listed.get(case) != digest:
        lost.append("%s (%s)" % (case, "missing" if case not in listed else "digest differs"))
print(len(lost))
if lost:
    print("lost: " + " ".join(lost[:8]), file=sys.stderr)
PYEOF
}

# Keeps what reproduces a failed round and stops the run.
keep_evidence() { # round why
	_keep=$(mktemp -d "${SOAK_KEEP:-/tmp}/powerloss-fail.XXXXXX")
	cp "$T/base.mdb" "$T/journal" "$T/acked" "$_keep/" 2>/dev/null
	cp "$SERVER_LOG" "$_keep/server.log" 2>/dev/null
	diag "round $1: $2" "kept in $_keep: sd-powercut --journal $_keep/journal --base $_keep/base.mdb --out X --seed $RSEED" \
		"$(tail -n 3 "$SERVER_LOG")"
	FAILED=1
}

rand_sleep() {
	"$PY" -c 'import random, sys; print(round(random.uniform(0.02, int(sys.argv[1]) / 1000), 3))' "$MAX_UP_MS"
}

# One round: the shimmed server, filings, the cut, the replay (MODE, extra sd-powercut
# options), the checks. Sets R_* for the caller. MODE random: two rounds in three the
# shim cuts at a random journal record (an I/O event: before a write, after one, around a
# sync), one in three a kill -9 lands at a random wall-clock moment; negative: a kill -9
# after the first acknowledged filing, and a replay that ignores every sync.
one_round() { # round mode [options...]
	_round=$1
	_mode=$2
	shift 2
	R_STARTED=0 R_CONTROL=0 R_UP=0 R_DUMP=0 R_AUDIT=0 R_LOST=-1 R_STATS=""
	RSEED=$((SEED + _round))
	[ "$(untried)" -ge $((2 * PER_FILER)) ] || seal_more $((4 * PER_FILER))
	cp "$STORE" "$T/base.mdb"
	rm -f "$T/journal" "$T/acked.new"
	_at=$("$PY" -c 'import random, sys
random.seed(int(sys.argv[1]))
print(random.randint(1, int(sys.argv[2])) if sys.argv[3] == "random" and random.random() < 2 / 3 else 0)' \
		"$RSEED" "$CUT_RANGE" "$_mode")
	[ "$_at" -gt 0 ] && export SD_POWERCUT_CUT_AT="$_at"
	SEALDROPD=$T/shimmed
	start_server "$D/sealdropd.conf" && R_STARTED=1
	SEALDROPD=$REAL_SEALDROPD
	unset SD_POWERCUT_CUT_AT
	if [ $R_STARTED -eq 0 ]; then
		# A cut during start-up (the shim's record came before the server answered) is a
		# cut like any other; anything else is a failure.
		if "$PC" --journal "$T/journal" --list 2>/dev/null | grep -q ' CUT '; then
			R_STARTED=1
			# A key process forked before the cut: orphaned now, found by this
			# deployment's own configuration path.
			_kids=$(ps -eo pid=,ppid=,args= | awk -v c="$D/sealdropd.conf" '$2 == 1 && index($0, c) { print $1 }')
			# shellcheck disable=SC2086 # a list of process ids
			[ -z "$_kids" ] || kill -KILL $_kids 2>/dev/null
		else
			keep_evidence "$_round" "the shimmed server did not start"
			return
		fi
	else
		# The server's own children (the key process) lose power with it.
		_kids=$(ps -o pid= --ppid "$SERVER_PID" | tr -d ' ' | tr '\n' ' ')
		filer "$NEXT" &
		_f1=$!
		filer $((NEXT + 1)) &
		_f2=$!
		if [ "$_mode" = negative ]; then # wait for an acknowledged filing, so there is one to lose
			_i=0
			while [ ! -s "$T/acked.new" ] && [ $_i -lt 100 ]; do sleep 0.05; _i=$((_i + 1)); done
		fi
		if [ "$_at" -gt 0 ]; then wait $_f1 $_f2 2>/dev/null; else sleep "$(rand_sleep)"; fi
		# shellcheck disable=SC2086 # a list of process ids
		kill -KILL "$SERVER_PID" $_kids 2>/dev/null
		_rc=0
		wait "$SERVER_PID" 2>/dev/null || _rc=$?
		SERVER_PID=""
		wait $_f1 $_f2 2>/dev/null
		# shellcheck disable=SC2086 # a list of process ids; after a cut by the shim
		[ -z "$_kids" ] || kill -KILL $_kids 2>/dev/null
		# 137: SIGKILL, ours or the shim's; anything else (159 = SIGSYS: the sandbox
		# refused a call) means the server died on its own before the cut.
		[ $_rc -eq 137 ] || { keep_evidence "$_round" "the shimmed server exited with status $_rc before the cut"; return; }
	fi
	record_acks
	while [ -e "$T/q/p$NEXT.sdx.receipt.json" ]; do NEXT=$((NEXT + 1)); done

	# The control: keeping every write must give back the file the kill left (but for
	# the bytes of a write still running at the cut).
	_c=0
	"$PC" --journal "$T/journal" --base "$T/base.mdb" --out "$T/keep.mdb" --seed "$RSEED" --mode keep-all \
		--control "$STORE" >"$T/control.out" || _c=$?
	case $_c in
	0) R_CONTROL=1 ;;
	3) diag "round $_round: $(cat "$T/control.out")" ;;
	*)
		keep_evidence "$_round" "sd-powercut keep-all failed"
		return
		;;
	esac
	rm -f "$T/keep.mdb"
	if [ "$_mode" = negative ]; then
		R_STATS=$("$PC" --journal "$T/journal" --base "$T/base.mdb" --out "$T/cut.mdb" --seed "$RSEED" \
			--mode drop-all --ignore-sync) || { keep_evidence "$_round" "sd-powercut failed"; return; }
	else
		R_STATS=$("$PC" --journal "$T/journal" --base "$T/base.mdb" --out "$T/cut.mdb" --seed "$RSEED" "$@") ||
			{ keep_evidence "$_round" "sd-powercut failed"; return; }
	fi
	cp "$T/cut.mdb" "$STORE" # in place: keeps the server user's ownership
	rm -f "$T/cut.mdb"

	mdb_dump -a "$D/store" >/dev/null 2>&1 && R_DUMP=1
	start_server "$D/sealdropd.conf" && R_UP=1
	if [ $R_UP -eq 1 ]; then
		sdd audit check --config "$D/sealdropd.conf" >"$T/audit.out" 2>&1 && R_AUDIT=1
		R_LOST=$(count_lost 2>"$T/lost.err") || R_LOST=-1
		stop_server
	fi
	if [ "$_mode" != negative ]; then
		[ $R_DUMP -eq 1 ] || keep_evidence "$_round" "mdb_dump -a cannot read the post-cut image"
		[ $R_UP -eq 1 ] || keep_evidence "$_round" "the server does not start on the post-cut image"
		[ $R_AUDIT -eq 1 ] || keep_evidence "$_round" "audit check fails: $(tail -n 2 "$T/audit.out")"
		[ "$R_LOST" = 0 ] || keep_evidence "$_round" "$R_LOST acknowledged filings lost: $(cat "$T/lost.err")"
	fi
}

# "key=value" out of an sd-powercut line.
stat_of() { # line key
	printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

: >"$T/acked"
FAILED=0 round=1
lost=0 started=0 control=0 ups=0 dumps=0 audits=0 clean=0
dropped=0 dropped_bytes=0 torn=0 reordered=0 nondurable=0 zext=0 cut_rounds=0 drop_rounds=0
while [ $round -le "$CUTS" ] && [ $FAILED -eq 0 ]; do
	one_round $round random
	started=$((started + R_STARTED))
	control=$((control + R_CONTROL))
	ups=$((ups + R_UP)) dumps=$((dumps + R_DUMP)) audits=$((audits + R_AUDIT))
	[ "$R_LOST" = 0 ] && clean=$((clean + 1))
	[ "$R_LOST" -gt 0 ] 2>/dev/null && lost=$((lost + R_LOST))
	if [ -n "$R_STATS" ]; then
		_d=$(stat_of "$R_STATS" dropped) _n=$(stat_of "$R_STATS" nondurable)
		dropped=$((dropped + _d)) nondurable=$((nondurable + _n))
		dropped_bytes=$((dropped_bytes + $(stat_of "$R_STATS" dropped_bytes)))
		torn=$((torn + $(stat_of "$R_STATS" torn))) reordered=$((reordered + $(stat_of "$R_STATS" reordered)))
		zext=$((zext + $(stat_of "$R_STATS" zero_extended)))
		[ "$_n" -gt 0 ] && cut_rounds=$((cut_rounds + 1))
		[ "$_d" -gt 0 ] && drop_rounds=$((drop_rounds + 1))
	fi
	diag "round $round: $(wc -l <"$T/acked") acked; ${R_STATS#sd-powercut: }"
	# The shim's cut points spread over one whole round's journal: as long as the last
	# round the shim did not cut.
	case $R_STATS in *" cut=kill "*) _r=$(stat_of "$R_STATS" records) && [ "$_r" -gt 100 ] && CUT_RANGE=$_r ;; esac
	round=$((round + 1))
done
ROUNDS=$((round - 1))
NACK=$(wc -l <"$T/acked")

if [ $started -eq "$CUTS" ]; then ok "the shimmed server ran and was cut $CUTS times"; else not_ok "the shimmed server ran and was cut $CUTS times ($started)"; fi
if [ $control -eq "$ROUNDS" ]; then ok "the keep-all replay equals the file kill -9 left, every round ($control)"; else not_ok "the keep-all replay equals the file kill -9 left, every round ($control of $ROUNDS)"; fi
if [ $dumps -eq "$CUTS" ]; then ok "mdb_dump -a read every post-cut image ($dumps)"; else not_ok "mdb_dump -a read every post-cut image ($dumps of $CUTS)"; fi
if [ $ups -eq "$CUTS" ]; then ok "the server started on every post-cut image ($ups)"; else not_ok "the server started on every post-cut image ($ups of $CUTS)"; fi
if [ $audits -eq "$CUTS" ]; then ok "audit check passed on every post-cut image ($audits)"; else not_ok "audit check passed on every post-cut image ($audits of $CUTS)"; fi
if [ $clean -eq "$CUTS" ]; then ok "every acknowledged filing survived every cut ($NACK acknowledged, 0 lost)"; else not_ok "every acknowledged filing survived every cut ($clean of $CUTS rounds clean)"; fi
if [ "$NACK" -ge 1 ]; then ok "filings were acknowledged between the cuts ($NACK)"; else not_ok "filings were acknowledged between the cuts"; fi
if [ $dropped -gt 0 ]; then
	ok "unsynced writes were dropped ($dropped writes, $dropped_bytes bytes, in $drop_rounds rounds)"
else
	not_ok "unsynced writes were dropped (none: the shim tested nothing)"
fi

# --- every filing a cut interrupted completes afterwards (no cut): a store that opens but
# cannot finish a filing it half-knows has lost something too ---
pending=0 resumed=0
start_server "$D/sealdropd.conf" || { not_ok "the server starts after the cuts"; done_testing; }
rm -f "$T/acked.new"
j=0
while [ $j -lt $NSEALED ]; do
	if [ -e "$T/q/p$j.err" ] && [ ! -e "$T/q/p$j.sdx.receipt.json" ]; then
		pending=$((pending + 1))
		if "$SEALDROP" file "$T/q/p$j.sdx" --server "$URL" --ca "$D/ca.pem" --cert "$D/att/cert.pem" \
			--key "$D/att/key.pem" --root "$P/root.key.pub" --json >"$T/q/p$j.out" 2>"$T/q/p$j.err" </dev/null; then
			resumed=$((resumed + 1))
			echo "$j" >>"$T/acked.new"
		else
			diag "package $j: $(cat "$T/q/p$j.err")"
		fi
	fi
	j=$((j + 1))
done
record_acks
R_LOST=$(count_lost 2>"$T/lost.err") || R_LOST=-1
stop_server
if [ $resumed -eq $pending ]; then ok "every filing a cut interrupted completed afterwards ($pending)"; else
	not_ok "every filing a cut interrupted completed afterwards ($resumed of $pending)"
	diag "server log: $(grep -c 'lacks its receipt' "$SERVER_LOG") x 'a filed case lacks its receipt or upload record'"
fi
if [ "$R_LOST" = 0 ]; then ok "and every acknowledged filing is listed ($(wc -l <"$T/acked"))"; else not_ok "and every acknowledged filing is listed: $R_LOST lost $(cat "$T/lost.err")"; fi
NACK=$(wc -l <"$T/acked")

# --- the negative control: the same checker on images that ignore every sync ---
neg_lost=0 neg_rounds=0
cp "$T/acked" "$T/acked.main"
if [ $FAILED -eq 0 ]; then
	r=1
	while [ $r -le "$NEG" ]; do
		cp "$T/acked.main" "$T/acked" # each negative round counts its own losses only
		one_round $((CUTS + r)) negative
		diag "negative round $r: ${R_STATS#sd-powercut: }; lost $R_LOST: $(cat "$T/lost.err" 2>/dev/null)"
		[ "$R_LOST" -gt 0 ] 2>/dev/null && neg_lost=$((neg_lost + R_LOST)) neg_rounds=$((neg_rounds + 1))
		r=$((r + 1))
	done
fi
if [ $neg_lost -gt 0 ]; then
	ok "the checker detects loss when syncs are ignored ($neg_lost lost in $neg_rounds of $NEG rounds)"
else
	not_ok "the checker detects loss when syncs are ignored"
fi

diag "power cuts $ROUNDS in $(($(date +%s) - START)) s; acknowledged filings $NACK; lost $lost" \
	"non-durable writes at the cuts $nondurable (in $cut_rounds rounds): dropped $dropped ($dropped_bytes bytes," \
	"in $drop_rounds rounds), torn $torn, reordered $reordered, zero-extended $zext; data.mdb $(file_size "$STORE") bytes"
done_testing
