#!/bin/sh
# Runs libFuzzer targets (build-fuzz/fuzz_<name>, built by `make fuzz-build`) and prints,
# per target, the executions and executions per second libFuzzer reports
# (-print_final_stats=1), then a summary table. Any crash, leak, timeout or
# out-of-memory fails the run and leaves the reproducer in $FUZZ_BUILD/artifacts-<name>/.
#
#	scripts/run-fuzz.sh [--long | --merge] build-fuzz/fuzz_<name>...
#
# Without an option (make fuzz): FUZZ_SECONDS (20) each, on a scratch copy of the
# committed seeds (tests/fuzz/corpus/<name>/), so a short run never rewrites anything.
#
# --long (make fuzz-long): FUZZ_SECONDS each on a corpus that persists between runs in
# $FUZZ_LONG_DIR/<name>/ (default build-fuzz/long/): the committed seeds are read, what the
# fuzzer finds new is kept there, and the next run (another day, another session)
# continues from it. Each run appends "date seconds executions" to
# $FUZZ_LONG_DIR/<name>.runs, and the table shows the total over all runs too.
#
# --merge (make fuzz-minimize): merges the grown corpus back into tests/fuzz/corpus/<name>/
# with -merge=1: only inputs that add coverage are copied, the committed ones stay. The
# targets that run a KDF (keyfile, keyshare, codename) are merged only when FUZZ_TARGETS
# names them: the fuzzing build replaces Argon2id with BLAKE2b, so grown inputs may ask for
# 1 GiB limits that `make test`'s replay (real Argon2id) would then pay for on every run.
#
# FUZZ_TARGETS="envelope http" limits any mode to those targets.
set -u
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}
FUZZ_LONG_DIR=${FUZZ_LONG_DIR:-$FUZZ_BUILD/long}
FUZZ_TARGETS=${FUZZ_TARGETS:-}
mode=short
case ${1:-} in
--long) mode=long; shift ;;
--merge) mode=merge; shift ;;
esac

status=0 pass=0 fail=0
table=$(mktemp)
trap 'rm -f "$table"' EXIT

# A libFuzzer final statistic from a log: stat NAME LOG.
stat() {
	grep -o "stat::$1: *[0-9]*" "$2" | tail -n 1 | grep -o '[0-9]*$'
}

selected() { # name
	[ -z "$FUZZ_TARGETS" ] && return 0
	for t in $FUZZ_TARGETS; do
		[ "$t" = "$1" ] || [ "$t" = "fuzz_$1" ] && return 0
	done
	return 1
}

# The corpus directories for one target: the first is where new inputs go.
corpus_dirs() { # name
	seeds="tests/fuzz/corpus/$1"
	case $mode in
	long)
		mkdir -p "$FUZZ_LONG_DIR/$1"
		if [ -d "$seeds" ]; then echo "$FUZZ_LONG_DIR/$1 $seeds"; else echo "$FUZZ_LONG_DIR/$1"; fi
		;;
	*)
		work="$FUZZ_BUILD/corpus-$1"
		rm -rf "$work"
		mkdir -p "$work"
		[ -d "$seeds" ] && cp -r "$seeds/." "$work/"
		echo "$work"
		;;
	esac
}

merge_one() { # bin name
	seeds="tests/fuzz/corpus/$2"
	case " keyfile keyshare codename " in
	*" $2 "*)
		if [ -z "$FUZZ_TARGETS" ]; then
			echo "skip fuzz_$2: runs a KDF, merged only when FUZZ_TARGETS names it"
			return
		fi
		;;
	esac
	if [ ! -d "$FUZZ_LONG_DIR/$2" ]; then
		echo "skip fuzz_$2: no grown corpus in $FUZZ_LONG_DIR/$2 (run make fuzz-long first)"
		return
	fi
	mkdir -p "$seeds"
	before=$(ls "$seeds" | wc -l)
	if "$1" -merge=1 -timeout=10 -rss_limit_mb=2048 "$seeds" "$FUZZ_LONG_DIR/$2" >"$FUZZ_BUILD/merge-$2.log" 2>&1; then
		echo "ok   fuzz_$2: $before -> $(ls "$seeds" | wc -l) committed inputs ($(ls "$FUZZ_LONG_DIR/$2" | wc -l) grown)"
		pass=$((pass + 1))
	else
		echo "FAIL fuzz_$2: merge failed, see $FUZZ_BUILD/merge-$2.log"
		fail=$((fail + 1)); status=1
	fi
}

run_one() { # bin name
	dirs=$(corpus_dirs "$2")
	arts="$FUZZ_BUILD/artifacts-$2"
	log="$FUZZ_BUILD/fuzz-$2.log"
	mkdir -p "$arts"
	# shellcheck disable=SC2086 # $dirs is a list of our own paths without spaces
	"$1" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$arts/" $dirs >"$log" 2>&1
	rc=$?
	execs=$(stat number_of_executed_units "$log")
	[ -n "$execs" ] || execs=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | sed 's/^#\([0-9]*\).*/\1/')
	rate=$(stat average_exec_per_sec "$log")
	units=$(ls "${dirs%% *}" | wc -l)
	total=${execs:-0}
	if [ "$mode" = long ]; then
		echo "$(date -u +%FT%TZ) $FUZZ_SECONDS ${execs:-0}" >>"$FUZZ_LONG_DIR/$2.runs"
		total=$(awk '{ n += $3 } END { print n + 0 }' "$FUZZ_LONG_DIR/$2.runs")
	fi
	if [ "$rc" -eq 0 ]; then
		result=ok
		echo "ok   fuzz_$2: ${FUZZ_SECONDS}s, ${execs:-?} executions (${rate:-?}/s), corpus $units, no findings"
		pass=$((pass + 1))
	else
		result=FAIL
		found=$(grep -oE '(crash|leak|timeout|oom|slow-unit)-[0-9a-f]+' "$log" | tail -n 1)
		echo "FAIL fuzz_$2: exit $rc after ${execs:-?} executions, see $log"
		[ -n "$found" ] && echo "     reproducer: $arts/$found  (replay: $1 $arts/$found)"
		tail -n 40 "$log" | sed 's/^/     /'
		fail=$((fail + 1)); status=1
	fi
	printf '%-14s %7s %14s %10s %8s %16s  %s\n' "$2" "$FUZZ_SECONDS" "${execs:-?}" "${rate:-?}" "$units" \
		"$total" "$result" >>"$table"
}

mkdir -p "$FUZZ_BUILD"
for bin in "$@"; do
	name=$(basename "$bin" | sed 's/^fuzz_//')
	selected "$name" || continue
	if [ ! -x "$bin" ]; then
		echo "FAIL fuzz_$name: $bin is not built (make fuzz-build)"
		fail=$((fail + 1)); status=1
		continue
	fi
	if [ "$mode" = merge ]; then merge_one "$bin" "$name"; else run_one "$bin" "$name"; fi
done

if [ -s "$table" ]; then
	echo
	printf '%-14s %7s %14s %10s %8s %16s  %s\n' target seconds executions exec/s corpus "all runs" result
	cat "$table"
	[ "$mode" = long ] && echo "(corpora kept in $FUZZ_LONG_DIR/; \"all runs\" sums $FUZZ_LONG_DIR/<name>.runs)"
fi
echo "$pass passed, $fail failed"
[ "$pass" -gt 0 ] || status=1
exit $status
