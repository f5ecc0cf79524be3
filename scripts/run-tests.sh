#!/bin/sh
# Runs every unit test binary, every fuzz target's corpus replay and every end-to-end
# script, reading their TAP output, and ends with one line: "N passed, N failed[, N
# skipped]". Exits 1 on any failure.
# A test binary that dies without reporting counts as a failure, never as nothing.
set -u
BUILD=${BUILD:-build}
export BUILD
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
pass=0 fail=0 skip=0

run_one() { # name, command...
	name=$1; shift
	out="$log/$(echo "$name" | tr '/' '_').out"
	"$@" >"$out" 2>&1
	rc=$?
	p=$(grep -cE '^ok ' "$out")
	s=$(grep -cE '^ok .*# (SKIP|skip)' "$out")
	# cmocka reports a skip() as "not ok N # SKIP": a skip, not a failure.
	cs=$(grep -cE '^not ok .*# (SKIP|skip)' "$out")
	f=$(($(grep -cE '^not ok ' "$out") - cs))
	p=$((p - s))
	s=$((s + cs))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $name exited with status $rc without reporting a failure" >>"$out"
	fi
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
	if [ "$f" -gt 0 ]; then
		echo "FAIL $name ($p passed, $f failed)"
		sed 's/^/    /' "$out" | tail -n 60
	else
		echo "ok   $name ($p passed${s:+, $s skipped})" | sed 's/, 0 skipped//'
		# A named script (make soak) ends with its figures: show them.
		[ -z "$show_figures" ] || grep -E '^# ' "$out" | tail -n 6 | sed 's/^/    /'
	fi
}

run_suite() { # every unit test, test vector and end-to-end script
	for t in "$BUILD"/tests/test_*; do
		[ -x "$t" ] || continue
		CMOCKA_MESSAGE_OUTPUT=TAP run_one "unit/$(basename "$t")" "$t"
	done
	# Every fuzz target's committed corpus (tests/fuzz/corpus/<name>/), replayed by the
	# target built like the tests (tests/fuzz/replay.c): real signature checks and key
	# derivation, and under make check the sanitizers.
	for src in tests/fuzz/fuzz_*.c; do
		[ -f "$src" ] || continue
		n=$(basename "$src" .c)
		run_one "fuzz/${n#fuzz_}" "$BUILD/replay/$n" "tests/fuzz/corpus/${n#fuzz_}"
	done
	# Test vectors recomputed from the specification by an independent implementation
	# (Python hashlib + PyNaCl), never by calling our C code.
	for t in tests/vectors/*.py; do
		[ -f "$t" ] || continue
		run_one "vectors/$(basename "$t" .py)" /usr/bin/python3 "$t"
	done
	for t in tests/e2e/*.sh; do
		[ -f "$t" ] || continue
		run_one "e2e/$(basename "$t" .sh)" sh "$t"
	done
}

# With arguments, only those scripts (make soak passes tests/soak/*.sh); else the suite.
show_figures=""
if [ "$#" -gt 0 ]; then
	show_figures=1
	for t in "$@"; do
		[ -f "$t" ] || { echo "run-tests: no such test script: $t" >&2; exit 66; }
		run_one "$(basename "$(dirname "$t")")/$(basename "$t" .sh)" sh "$t"
	done
else
	run_suite
fi

if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
