#!/bin/sh
# make bench: seal/open throughput against the raw primitives (same run, same bytes),
# and peak memory of the real client on 1 GiB vs 1 MiB of evidence; then the server
# under load against nginx (scripts/bench-server.sh, issue 3).
# Results go into docs/BENCHMARKS.md by hand, with this command: `make bench`.
#   BENCH_SIZE_MB   evidence size (default 1024)
#   BENCH_RUNS      repetitions of the throughput measurement (default 3)
#   BENCH_DIR       scratch directory on the disk under test (default build/bench)
#   BENCH_SERVER    0: skip the server part; only: run nothing else
#                   (its own settings: scripts/bench-server.sh)
#   BENCH_AUDIT     0: skip the audit log part; only: run nothing else (scripts/bench-audit.sh)
#   BENCH_CASES     0: skip the case listing part; only: run nothing else (scripts/bench-cases.sh)
#   BENCH_STATUS    0: skip the whistleblower status part; only: run nothing else
#                   (scripts/bench-status.sh)
set -eu
if [ "${BENCH_SERVER:-1}" = only ]; then
	exec "$(dirname "$0")/bench-server.sh"
fi
if [ "${BENCH_AUDIT:-1}" = only ]; then
	exec "$(dirname "$0")/bench-audit.sh"
fi
if [ "${BENCH_CASES:-1}" = only ]; then
	exec "$(dirname "$0")/bench-cases.sh"
fi
if [ "${BENCH_STATUS:-1}" = only ]; then
	exec "$(dirname "$0")/bench-status.sh"
fi
BUILD=${BUILD:-build}
SIZE=${BENCH_SIZE_MB:-1024}
RUNS=${BENCH_RUNS:-3}
DIR=${BENCH_DIR:-$BUILD/bench-$$}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
rm -rf "$DIR"; mkdir -p "$DIR"
trap 'rm -rf "$DIR"' EXIT
export XDG_STATE_HOME="$DIR/state"

echo "== machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1), libsodium $(pkg-config --modversion libsodium)"
echo "== evidence: ${SIZE} MiB of random bytes in $DIR ($(df -T "$DIR" | awk 'NR==2 {print $2}'))"
head -c "${SIZE}M" /dev/urandom > "$DIR/big.bin"
head -c 1M /dev/urandom > "$DIR/small.bin"

echo "== throughput, $RUNS runs (raw = libsodium alone over the same bytes in memory)"
i=0
while [ "$i" -lt "$RUNS" ]; do
	sync; sleep 2 # let the previous run's writeback settle
	"$BUILD/tests/bench_envelope" "$DIR/big.bin" "$DIR" | tee "$DIR/run-$i.txt"
	i=$((i + 1))
done
for what in "seal" "open warm" "open cold"; do
	cat "$DIR"/run-*.txt | sed -n "s/^sealdrop $what .*ratio \([0-9.]*\)x/\1/p" | sort -n |
		awk -v w="$what" '{ r[NR] = $1 } END { printf "%s ratio (raw/sealdrop): best %.2fx, median %.2fx, worst %.2fx over %d runs\n", w, r[NR], r[int((NR + 1) / 2)], r[1], NR }'
done

echo "== peak memory of the client (/usr/bin/time, max RSS)"
pw="$DIR/pw"; echo "bench passphrase" > "$pw"
for k in root intake identity; do
	./sealdrop keygen --kind "$k" --kdf interactive --out "$DIR/$k.key" --passphrase-file "$pw" >/dev/null
done
./sealdrop directory create --deployment bench --intake "$DIR/intake.key.pub" --identity "$DIR/identity.key.pub" \
	--root "$DIR/root.key" --passphrase-file "$pw" --out "$DIR/directory.json" >/dev/null
rss() { /usr/bin/time -f %M -o "$DIR/rss" "$@" >/dev/null && cat "$DIR/rss"; }
seal_small=0 seal_big=0 open_small=0 open_big=0 # set by the eval below
for f in small big; do
	seal=$(rss ./sealdrop seal --directory "$DIR/directory.json" --root "$DIR/root.key.pub" \
		--report docs/examples/report.json --identity docs/examples/identity.json \
		--evidence "$DIR/$f.bin" --out "$DIR/$f.sdx" --codename-out "$DIR/$f.codename" --quiet)
	open=$(rss ./sealdrop open "$DIR/$f.sdx" --intake "$DIR/intake.key" --passphrase-file "$pw" --out "$DIR/$f.out")
	cmp -s "$DIR/$f.bin" "$DIR/$f.out/evidence/$f.bin" || { echo "bench: $f opened differently" >&2; exit 1; }
	eval "seal_$f=$seal open_$f=$open"
	rm -rf "$DIR/$f.sdx" "$DIR/$f.out"
done
echo "seal: 1 MiB ${seal_small} KiB, ${SIZE} MiB ${seal_big} KiB, difference $((seal_big - seal_small)) KiB"
echo "open: 1 MiB ${open_small} KiB, ${SIZE} MiB ${open_big} KiB, difference $((open_big - open_small)) KiB"
echo "(the fixed Argon2id memory — 64 MiB codename, key-file limits — is in both)"

if [ "${BENCH_SERVER:-1}" != 0 ]; then
	echo
	BUILD="$BUILD" "$top/scripts/bench-server.sh"
fi
if [ "${BENCH_AUDIT:-1}" != 0 ]; then
	echo
	BUILD="$BUILD" "$top/scripts/bench-audit.sh"
fi
if [ "${BENCH_CASES:-1}" != 0 ]; then
	echo
	BUILD="$BUILD" "$top/scripts/bench-cases.sh"
fi
if [ "${BENCH_STATUS:-1}" != 0 ]; then
	echo
	BUILD="$BUILD" "$top/scripts/bench-status.sh"
fi
