#!/bin/sh
# Runs each libFuzzer target for FUZZ_SECONDS on a scratch copy of its committed seed
# corpus (tests/fuzz/corpus/<name>/), so a short run never rewrites the repository.
# A crash, leak or timeout fails the run and leaves the reproducer in build-fuzz/.
set -u
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}
status=0 pass=0 fail=0
for bin in "$@"; do
	name=$(basename "$bin" | sed 's/^fuzz_//')
	work="$FUZZ_BUILD/corpus-$name"
	rm -rf "$work"; mkdir -p "$work" "$FUZZ_BUILD/artifacts-$name"
	[ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$work/"
	log="$FUZZ_BUILD/fuzz-$name.log"
	if "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$FUZZ_BUILD/artifacts-$name/" "$work" >"$log" 2>&1; then
		execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
		[ -n "$execs" ] || execs=$(grep -E '^#[0-9]+' "$log" | tail -n1 | sed 's/^#\([0-9]*\).*/\1/')
		echo "ok   fuzz_$name: ${FUZZ_SECONDS}s, ${execs:-?} executions, no findings"
		pass=$((pass + 1))
	else
		echo "FAIL fuzz_$name: finding, see $log and $FUZZ_BUILD/artifacts-$name/"
		tail -n 40 "$log"
		fail=$((fail + 1)); status=1
	fi
done
echo "$pass passed, $fail failed"
exit $status
