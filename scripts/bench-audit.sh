#!/bin/sh
# bench-audit.sh — `make bench` for the audit log (issue 4): what a filing's LOG-APPEND
# costs inside the store's group commit, proof latency at 1,000,000 leaves, and the
# store's growth per event, each against a baseline measured in the same run
# (tests/bench/bench_audit.c says how). Results go into docs/BENCHMARKS.md ("Audit log
# (issue 4)") by hand. Called at the end of scripts/bench.sh; runs alone too:
#	BUILD=build scripts/bench-audit.sh
#
#	BENCH_QUICK=1   100,000 leaves, fewer filings and proofs: checks that the script works
#	BENCH_DIR       the scratch directory goes under it (default: build/bench-audit-PID);
#	                put it on the disk under test: the stores are written durably there
#	                (about 500 MB for 1,000,000 leaves), and it is removed afterwards
set -eu
BUILD=${BUILD:-build}
QUICK=${BENCH_QUICK:-0}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
if [ -n "${BENCH_DIR:-}" ]; then DIR=$BENCH_DIR/bench-audit-$$; else DIR=$BUILD/bench-audit-$$; fi

make --no-print-directory BUILD="$BUILD" "$BUILD/tests/bench_audit"
rm -rf "$DIR"
mkdir -p "$DIR"
trap 'rm -rf "$DIR"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "$QUICK" = 1 ]; then
	ARGS="--leaves 100000 --filings 2000 --runs 2 --threads 16,64 --proofs 2000"
else
	ARGS="--leaves 1000000 --filings 20000 --runs 5 --threads 16,64 --proofs 10000"
fi

echo "== audit log benchmark (issue 4): $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1), LMDB $(pkg-config --modversion lmdb), kernel $(uname -r)"
echo "== scratch: $DIR ($(df -T "$DIR" | awk 'NR==2 {print $2}'), $(df -h "$DIR" | awk 'NR==2 {print $4}') free)"
echo "== load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== bench_audit $ARGS"
# shellcheck disable=SC2086 # ARGS is a list of options
"$BUILD/tests/bench_audit" $ARGS "$DIR"
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
