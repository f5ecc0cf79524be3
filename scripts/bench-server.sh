#!/bin/sh
# bench-server.sh — `make bench` for the server (issue 3): sealdropd under load, with nginx
# measured in the same run as the baseline. Results go into docs/BENCHMARKS.md ("Server
# (issue 3)") by hand. Called at the end of scripts/bench.sh; runs alone too:
#	BUILD=build scripts/bench-server.sh
#
# It sets up a throwaway deployment in a scratch directory: `sealdropd init` on a free
# port, a --test key directory listing the server's log key and CA (so packages seal in
# milliseconds), the server run with room for 64+ connections per certificate, and an
# attorney enrolled. build/tests/bench_server mints the packages and drives every mode
# at 1, 8 and 64 connections; nginx (TLS 1.3 only, `return 204`, and a second server with
# ssl_verify_client on) runs on free ports beside it; after each concurrency's chunk PUTs,
# build/tests/bench_floor puts as many chunks straight into LMDB (the raw baseline), and
# once it times libsodium's calls a filing makes. Then `sealdrop file` files a 1 GiB
# package, and the issue's ratios are printed. Everything is torn down on exit, failure
# included.
#
#	BENCH_QUICK=1      small counts and a 64 MiB large filing: checks that the script works
#	BENCH_SERVER_DIR   the scratch directory (default build/bench-server-PID); its absolute
#	                   path must stay short (sealdropd's state directory: at most 94 bytes)
#	BENCH_PERF=0       no perf profiles (extra `file` and `handshake` runs, nginx's handshakes)
#	BENCH_KEEP=1       keep the scratch directory (logs, perf.data, results.txt)
#	BENCH_AUDIT_COST   0: skip the audit log's end-to-end cost (issue 4); only: measure that
#	                   alone (the same server built without the log is the baseline)
#	BENCH_GEN_NICE     the load generator's nice value (default 10; 0: as before session 14)
set -eu
BUILD=${BUILD:-build}
QUICK=${BENCH_QUICK:-0}
PERF=${BENCH_PERF:-1}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
DIR=${BENCH_SERVER_DIR:-$BUILD/bench-server-$$}
case $DIR in /*) ;; *) DIR=$top/$DIR ;; esac
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
BS=$BUILD/tests/bench_server
# The load generator shares the two cores with the server it measures. Each of its 64
# threads wakes at every answer and, at the same priority, preempts whichever server
# thread is running (the scheduler favours a thread that slept); a real client runs on
# another machine. Run below the servers' priority, it still gets every idle cycle, and
# both servers — sealdropd and nginx alike — get the CPU first (docs/BENCHMARKS.md,
# session 14, for the figures both ways).
GEN_NICE=${BENCH_GEN_NICE:-10}
gen() { nice -n "$GEN_NICE" "$BS" "$@"; }
BF=$BUILD/tests/bench_floor
SD=$BUILD/sealdrop
SDD=$BUILD/sealdropd

SERVER_PID="" SERVER_PIDS="" NGINX_PID="" PERF_PID="" WATCH_PID=""
cleanup() {
	# Only what this script started, by pid.
	[ -n "$WATCH_PID" ] && kill -TERM "$WATCH_PID" 2>/dev/null && wait "$WATCH_PID" 2>/dev/null
	[ -n "$PERF_PID" ] && kill -INT "$PERF_PID" 2>/dev/null && wait "$PERF_PID" 2>/dev/null
	[ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
	[ -n "$NGINX_PID" ] && kill -TERM "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
	if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "bench-server: kept $DIR"; else rm -rf "$DIR"; fi
}
rm -rf "$DIR"
mkdir -p "$DIR"
chmod 755 "$DIR"
trap 'cleanup' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
export XDG_STATE_HOME="$DIR/state"
RESULTS=$DIR/results.txt
: >"$RESULTS"

say() { printf '%s\n' "$*"; }
fail() {
	say "bench-server: $*" >&2
	exit 1
}
free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}
# Waits until https://127.0.0.1:PORT/PATH answers at all (any status).
wait_https() { # port path ca pid
	_i=0
	while [ $_i -lt 200 ]; do
		kill -0 "$4" 2>/dev/null || return 1
		curl -s -o /dev/null --max-time 2 --cacert "$3" "https://127.0.0.1:$1$2" && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# --- counts: operations at 1, 8 and 64 connections ---------------------------------------
if [ "$QUICK" = 1 ]; then
	N_PUT="100 200 256" N_FILE="50 100 256" N_NEWCONN="30 60 128" N_POST="500 1000 2000"
	N_HS="100 200 400" N_PERF=256 LARGE_MB=64 N_AUDIT=256 AUDIT_PAIRS=2
else
	N_PUT="2000 5000 12000" N_FILE="500 2000 10000" N_NEWCONN="300 1000 3000" N_POST="20000 50000 100000"
	N_HS="1000 3000 5000" N_PERF=5000 LARGE_MB=1024 N_AUDIT=4000 AUDIT_PAIRS=3
fi
AUDIT_COST=${BENCH_AUDIT_COST:-1}
if [ "$AUDIT_COST" = only ]; then
	N_PUT="0 0 0" N_FILE="0 0 0" N_NEWCONN="0 0 0" N_POST="0 0 0" N_HS="0 0 0" PERF=0
fi
[ "$AUDIT_COST" = 0 ] && AUDIT_PAIRS=0
CONCS="1 8 64"
sum() { echo "$*" | tr ' ' '\n' | awk '{ s += $1 } END { print s }'; }

# --- tools -------------------------------------------------------------------------------
[ -x "$BS" ] || fail "$BS is not built (make $BUILD/tests/bench_server)"
[ -x "$BF" ] || fail "$BF is not built (make $BUILD/tests/bench_floor)"
[ -x "$SD" ] || fail "$SD is not built (make sealdrop)"
if ! command -v nginx >/dev/null 2>&1 && [ -x /usr/sbin/nginx ]; then PATH=$PATH:/usr/sbin; fi
if ! command -v nginx >/dev/null 2>&1; then
	[ "$(id -u)" -eq 0 ] || fail "nginx is missing: sudo apt-get install nginx"
	say "bench-server: installing nginx (the baseline)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null ||
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null; }
	PATH=$PATH:/usr/sbin
fi
HAVE_SERVER=1
[ -x "$SDD" ] || {
	HAVE_SERVER=0
	say "bench-server: $SDD is not built: only the nginx baseline runs" >&2
}

say "== server benchmark (issue 3): $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1)," \
	"$(openssl version | cut -d' ' -f1-2), $(nginx -v 2>&1 | sed 's/.*version: //'), kernel $(uname -r)"
say "== scratch: $DIR ($(df -T "$DIR" | awk 'NR==2 {print $2}')); the load generator at nice $GEN_NICE"
# Other work on the machine skews everything: the load average goes into the record.
say "== load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- the deployment ----------------------------------------------------------------------
SDD_RUN=$SDD # the binary start_server runs
start_server() {
	"$SDD_RUN" run --config "$D/sealdropd.conf" </dev/null >>"$DIR/server.log" 2>&1 &
	SERVER_PID=$!
	wait_https "$PORT" /v1/health "$D/ca.pem" "$SERVER_PID" || {
		tail -n 20 "$DIR/server.log" >&2
		fail "sealdropd did not start"
	}
	# The server is three processes (the front end, sealdropd-keys, sealdropd-store, both
	# forked before it answers): its CPU and memory are theirs together, the front end's first.
	SERVER_PIDS="$SERVER_PID $(pgrep -P "$SERVER_PID" | tr '\n' ' ')"
}
stop_server() {
	kill -TERM "$SERVER_PID" 2>/dev/null
	wait "$SERVER_PID" 2>/dev/null || fail "sealdropd did not stop cleanly: $(tail -n 3 "$DIR/server.log")"
	SERVER_PID=""
}
P=$DIR/p D=$DIR/d
mkdir -p "$P"
echo "bench passphrase" >"$P/pw"
for k in root intake identity; do
	"$SD" keygen --kind "$k" --kdf interactive --out "$P/$k.key" --passphrase-file "$P/pw" >/dev/null
done
PORT=$(free_port)
URL=https://127.0.0.1:$PORT
if [ "$HAVE_SERVER" = 1 ]; then
	"$SDD" init --dir "$D" --listen "127.0.0.1:$PORT" >"$DIR/init.log" 2>&1 || {
		cat "$DIR/init.log" >&2
		fail "sealdropd init failed"
	}
	"$SD" directory create --deployment bench --intake "$P/intake.key.pub" --identity "$P/identity.key.pub" \
		--log "$D/log.key.pub" --tls-ca "$D/ca.pem" --test --root "$P/root.key" --passphrase-file "$P/pw" \
		--out "$D/directory.json" >/dev/null 2>"$DIR/directory.log" || fail "directory create: $(cat "$DIR/directory.log")"
	DIRECTORY=$D/directory.json
	# 64+ keep-alive connections with one attorney's certificate, and every upload of the
	# put mode open at once (each is a distinct, never committed upload).
	sed -i -e 's/^max_connections_per_cert .*/max_connections_per_cert 256/' \
		-e 's/^max_uploads_per_account .*/max_uploads_per_account 100000/' "$D/sealdropd.conf"
	grep -q '^max_connections_per_cert 256$' "$D/sealdropd.conf" || fail "could not raise max_connections_per_cert"
	start_server
	"$SDD" enroll --dir "$D" --role attorney --name "Bench Attorney" --out "$D/att" >/dev/null 2>"$DIR/enroll.log" ||
		fail "enroll: $(cat "$DIR/enroll.log")"
	CA=$D/ca.pem CERT=$D/att/cert.pem KEY=$D/att/key.pem CLIENT_CA=$D/ca.pem
else
	"$SD" directory create --deployment bench --intake "$P/intake.key.pub" --identity "$P/identity.key.pub" \
		--test --root "$P/root.key" --passphrase-file "$P/pw" --out "$P/directory.json" >/dev/null 2>&1
	DIRECTORY=$P/directory.json
fi

# --- nginx -------------------------------------------------------------------------------
N=$DIR/nginx
mkdir -p "$N/tmp"
ec_cert() { # name subject ca-name extensions: an ECDSA P-256 key and certificate signed by CA
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$N/$1.key" -subj "$2" \
		-out "$N/$1.csr" 2>/dev/null
	printf '%s\n' "$4" >"$N/$1.ext"
	openssl x509 -req -in "$N/$1.csr" -CA "$N/$3.pem" -CAkey "$N/$3.key" -CAcreateserial -days 2 \
		-extfile "$N/$1.ext" -out "$N/$1.pem" 2>/dev/null
}
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$N/ca.key" \
	-subj "/CN=bench nginx CA" -days 2 -out "$N/ca.pem" 2>/dev/null
ec_cert server "/CN=localhost" ca "subjectAltName=DNS:localhost,IP:127.0.0.1
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth"
if [ "$HAVE_SERVER" = 0 ]; then
	# No sealdropd CA to mint the attorney: an equivalent client certificate from ours.
	ec_cert client "/CN=Bench Attorney" ca "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
	CERT=$N/client.pem KEY=$N/client.key CLIENT_CA=$N/ca.pem
fi
NPORT=$(free_port)
MPORT=$(free_port)
cat >"$N/nginx.conf" <<EOF
# The baseline: TLS 1.3 only, the same kind of certificate as sealdropd's (ECDSA P-256),
# no session cache or tickets (sealdropd has none), keep-alive, and a 204 for anything.
worker_processes auto;
daemon off;
pid $N/nginx.pid;
error_log $N/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $N/tmp/body;
	proxy_temp_path $N/tmp/proxy;
	fastcgi_temp_path $N/tmp/fastcgi;
	uwsgi_temp_path $N/tmp/uwsgi;
	scgi_temp_path $N/tmp/scgi;
	ssl_protocols TLSv1.3;
	ssl_certificate $N/server.pem;
	ssl_certificate_key $N/server.key;
	ssl_session_cache off;
	ssl_session_tickets off;
	keepalive_timeout 60s;
	keepalive_requests 1000000;
	client_max_body_size 1m;
	client_body_buffer_size 128k;
	server {
		listen 127.0.0.1:$NPORT ssl;
		location / { return 204; }
	}
	server {
		listen 127.0.0.1:$MPORT ssl;
		ssl_client_certificate $CLIENT_CA;
		ssl_verify_client on;
		location / { return 204; }
	}
}
EOF
nginx -t -p "$N/" -c "$N/nginx.conf" -e "$N/error.log" >"$N/test.log" 2>&1 || fail "nginx -t: $(cat "$N/test.log")"
nginx -p "$N/" -c "$N/nginx.conf" -e "$N/error.log" </dev/null >>"$N/stdout.log" 2>&1 &
NGINX_PID=$!
wait_https "$NPORT" / "$N/ca.pem" "$NGINX_PID" || fail "nginx did not start: $(tail -n 5 "$N/error.log")"
NGINX_PIDS=$(pgrep -P "$NGINX_PID" | tr '\n' ' ')
[ -n "$NGINX_PIDS" ] || fail "nginx has no worker processes"
say "== nginx: master $NGINX_PID, workers $NGINX_PIDS"

# --- packages ----------------------------------------------------------------------------
TOTAL=0
if [ "$HAVE_SERVER" = 1 ]; then
	TOTAL=$(($(sum "$N_PUT") + $(sum "$N_FILE") + $(sum "$N_NEWCONN") + N_PERF + 2 * AUDIT_PAIRS * N_AUDIT))
	# 40 KiB of evidence: the package is 87,275 bytes (report 16 KiB, identity 4 KiB,
	# evidence metadata 0.5 KiB and its last chunk padded to 64 KiB), five chunks.
	say "== minting $TOTAL packages (--test directory)"
	"$BS" mint --directory "$DIRECTORY" --root "$P/root.key.pub" --report docs/examples/report.json \
		--identity docs/examples/identity.json --evidence-bytes 40960 --count "$TOTAL" --out "$DIR/pkgs" \
		--threads 16 >"$DIR/mint.out" 2>"$DIR/mint.log" || fail "mint: $(tail -n 3 "$DIR/mint.log")"
	say "$(cat "$DIR/mint.out"); package: $(stat -c %s "$DIR/pkgs/pkg-000000.sdx") bytes"
fi
NEXT=0
pidargs() { for _p in "$@"; do printf ' --pid %s' "$_p"; done; }

# One mode at one concurrency: bench MODE "N1 N8 N64" CONC PORT CA "PIDS" (N by position).
bench() {
	_k=0
	for _c in $CONCS; do
		_k=$((_k + 1))
		[ "$_c" = "$3" ] && break
	done
	_n=$(echo "$2" | cut -d' ' -f$_k)
	_pk=""
	case $1 in put | file*)
		_pk="--packages $DIR/pkgs --first $NEXT"
		NEXT=$((NEXT + _n))
		;;
	esac
	# shellcheck disable=SC2046,SC2086 # word lists on purpose
	if ! gen "$1" --port "$4" --ca "$5" --cert "$CERT" --key "$KEY" $_pk --count "$_n" \
		--concurrency "$3" $(pidargs $6) >"$DIR/run.out" 2>>"$DIR/errors.log"; then
		say "bench-server: $1 at $3 connections had failures (see the first errors below)" >&2
	fi
	tee -a "$RESULTS" <"$DIR/run.out"
}

# The raw LMDB baseline of the PUTs just measured: as many values of their mean size,
# put durably by one thread with nothing else to do, CONC of them per commit (the most
# sealdropd's group commit can gather when each of CONC connections has one PUT waiting).
# Its database is in the scratch directory, on the file system of sealdropd's store.
raw_lmdb() { # conc
	rm -rf "$DIR/raw-lmdb"
	_b=$(grep "^RESULT mode=put conc=$1 " "$RESULTS" | tail -n1 | sed -n 's/.* put_bytes=\([0-9]*\).*/\1/p')
	_n=$(grep "^RESULT mode=put conc=$1 " "$RESULTS" | tail -n1 | sed -n 's/.* ok=\([0-9]*\).*/\1/p')
	[ -n "$_b" ] && [ "${_n:-0}" -gt 0 ] || return 0
	"$BF" lmdb --dir "$DIR/raw-lmdb" --value-bytes "$_b" --batch "$1" --count "$_n" 2>>"$DIR/errors.log" |
		tee -a "$RESULTS"
}

# Each sealdropd figure right after the nginx figure it is compared with, at the same
# concurrency, so that other work on the machine drifts as little as possible between them.
[ "$AUDIT_COST" = only ] && CONCS=""
[ -n "$CONCS" ] && "$BF" crypto | tee -a "$RESULTS"
for c in $CONCS; do
	say "== $c connection(s)"
	bench nginx-post "$N_POST" "$c" "$NPORT" "$N/ca.pem" "$NGINX_PIDS"
	if [ "$HAVE_SERVER" = 1 ]; then
		bench put "$N_PUT" "$c" "$PORT" "$CA" "$SERVER_PIDS"
		raw_lmdb "$c"
	fi
	bench nginx-handshake "$N_HS" "$c" "$MPORT" "$N/ca.pem" "$NGINX_PIDS"
	if [ "$HAVE_SERVER" = 1 ]; then
		bench handshake "$N_HS" "$c" "$PORT" "$CA" "$SERVER_PIDS"
		bench file-newconn "$N_NEWCONN" "$c" "$PORT" "$CA" "$SERVER_PIDS"
		bench file "$N_FILE" "$c" "$PORT" "$CA" "$SERVER_PIDS"
	fi
done
if [ -s "$DIR/errors.log" ]; then
	say "== first errors"
	head -n 10 "$DIR/errors.log"
fi

# --- what the audit log costs a filing, end to end (issue 4) ------------------------------
# The baseline is the same server built with -DSD_BENCH_NO_AUDIT_LOG, where sd_audit_add
# adds nothing (include/sealdrop/auditlog.h). Both serve the same deployment in turn,
# `file` at 64 keep-alive connections, in the order log, nolog, nolog, log, ... so that
# drift on the machine hits both alike.
audit_run() { # log|nolog
	stop_server
	if [ "$1" = nolog ]; then SDD_RUN=$BUILD-nolog/sealdropd; else SDD_RUN=$SDD; fi
	start_server
	# shellcheck disable=SC2046 # one --pid per word
	gen file --port "$PORT" --ca "$CA" --cert "$CERT" --key "$KEY" --packages "$DIR/pkgs" --first "$NEXT" \
		--count "$N_AUDIT" --concurrency 64 $(pidargs $SERVER_PIDS) 2>>"$DIR/errors.log" |
		sed "s/^RESULT mode=file /RESULT mode=file-$1 /" | tee -a "$RESULTS"
	NEXT=$((NEXT + N_AUDIT))
}
if [ "$HAVE_SERVER" = 1 ] && [ "$AUDIT_PAIRS" -gt 0 ]; then
	say "== audit log cost: building the baseline without the log ($BUILD-nolog/sealdropd)"
	make -s BUILD="$BUILD-nolog" EXTRA_CFLAGS=-DSD_BENCH_NO_AUDIT_LOG "$BUILD-nolog/sealdropd" \
		>"$DIR/nolog-build.log" 2>&1 || fail "the baseline build failed: $(tail -n 3 "$DIR/nolog-build.log")"
	i=0
	while [ "$i" -lt "$AUDIT_PAIRS" ]; do
		if [ $((i % 2)) = 0 ]; then order="log nolog"; else order="nolog log"; fi
		for which in $order; do audit_run "$which"; done
		i=$((i + 1))
	done
	SDD_RUN=$SDD
	stop_server
	start_server
fi

# --- the large filing: `sealdrop file` of a 1 GiB package ----------------------------------
proc_ticks() { for _p in "$@"; do cat "/proc/$_p/stat"; done | awk '{ t += $14 + $15 } END { print t }'; }
# The machine's own cost of putting new data into the page cache, just before the large
# filing: dd of as many MiB of zeros into a new file (the store's writes land in new page
# cache pages the same way). On this kind of virtual machine the first touch of guest
# memory the host has taken back (free page reporting) costs far more than the copy.
pagecache_probe() {
	_t0=$(date +%s.%N)
	dd if=/dev/zero of="$DIR/pagecache.probe" bs=1M count="$LARGE_MB" status=none 2>/dev/null || return 0
	_t1=$(date +%s.%N)
	rm -f "$DIR/pagecache.probe"
	awk -v n="$LARGE_MB" -v t0="$_t0" -v t1="$_t1" 'BEGIN {
		printf "RESULT mode=pagecache-probe mib=%d secs=%.3f mb_s=%.1f\n", n, t1 - t0, n * 1.048576 / (t1 - t0) }' |
		tee -a "$RESULTS"
}
large_filing() {
	say "== sealdropd: \`sealdrop file\` of a ${LARGE_MB} MiB package (evidence of random bytes), server restarted first"
	head -c "${LARGE_MB}M" /dev/urandom >"$DIR/large.bin"
	"$SD" seal --directory "$DIRECTORY" --root "$P/root.key.pub" --report docs/examples/report.json \
		--identity docs/examples/identity.json --evidence "$DIR/large.bin" --out "$DIR/large.sdx" \
		--codename-out "$DIR/large.codename" --quiet 2>"$DIR/large-seal.log" ||
		fail "sealing the large package failed: $(tail -n 3 "$DIR/large-seal.log")"
	rm -f "$DIR/large.bin"
	sync
	pagecache_probe
	cat "$DIR/large.sdx" >/dev/null # in the page cache, like a package just copied over
	# A fresh process: the runs above left LMDB's map pages resident in it (RssFile).
	stop_server
	start_server
	for _p in $SERVER_PIDS; do echo 5 >"/proc/$_p/clear_refs" 2>/dev/null || true; done
	# shellcheck disable=SC2046 # one --pid per word; the front end's comes first
	"$BS" watch $(pidargs $SERVER_PIDS) >"$DIR/large.watch" &
	WATCH_PID=$!
	_t0=$(date +%s.%N) _c0=$(proc_ticks $SERVER_PIDS)
	_rc=0 _time=""
	echo 0 >"$DIR/large.rss"
	[ -x /usr/bin/time ] && _time="/usr/bin/time -f %M -o $DIR/large.rss"
	$_time "$SD" file "$DIR/large.sdx" --server "$URL" --ca "$CA" --cert "$CERT" \
		--key "$KEY" --root "$P/root.key.pub" --json >"$DIR/large.json" 2>"$DIR/large.err" || _rc=$?
	_t1=$(date +%s.%N) _c1=$(proc_ticks $SERVER_PIDS)
	kill -TERM "$WATCH_PID" 2>/dev/null
	wait "$WATCH_PID" 2>/dev/null || true
	WATCH_PID=""
	_size=$(stat -c %s "$DIR/large.sdx")
	if [ "$_rc" -ne 0 ]; then
		say "bench-server: sealdrop file failed ($_rc): $(tail -n 3 "$DIR/large.err")" >&2
		return 0
	fi
	awk -v s="$_size" -v t0="$_t0" -v t1="$_t1" -v c="$((_c1 - _c0))" -v hz="$(getconf CLK_TCK)" \
		-v mem="$(sed -n 's/^WATCH //p' "$DIR/large.watch")" -v crss="$(cat "$DIR/large.rss")" 'BEGIN {
		printf "RESULT mode=large-file size=%d secs=%.3f mb_s=%.1f mib_s=%.1f server_cpu_s=%.2f %s client_maxrss_kib=%d\n",
			s, t1 - t0, s / 1e6 / (t1 - t0), s / 1048576 / (t1 - t0), c / hz, mem, crss }' | tee -a "$RESULTS"
	say "case: $(sed -n 's/.*"case": *"\([^"]*\)".*/\1/p' "$DIR/large.json" | head -n1)"
}

# --- where the server's time goes: perf during extra runs at 64 connections ---------------
# profile NAME "PIDS" PORT CA BENCH-ARGS...: perf record -g on those processes while
# bench_server runs at 64 connections.
profile() {
	_name=$1 _pids=$2 _port=$3 _ca=$4
	shift 4
	say "== perf: $_name during \`$*\` at 64 connections (not counted above)"
	perf record -g -p "$(echo "$_pids" | tr ' ' ',')" -o "$DIR/perf-$_name.data" >/dev/null 2>"$DIR/perf-$_name.log" &
	PERF_PID=$!
	sleep 1
	# shellcheck disable=SC2046,SC2086 # one --pid per word
	gen "$@" --port "$_port" --ca "$_ca" --cert "$CERT" --key "$KEY" --concurrency 64 $(pidargs $_pids) \
		2>>"$DIR/errors.log" | sed 's/^RESULT/(under perf)/' || true
	kill -INT "$PERF_PID" 2>/dev/null
	wait "$PERF_PID" 2>/dev/null || true
	PERF_PID=""
	_r="perf report -i $DIR/perf-$_name.data --stdio -g none"
	$_r --no-children --sort dso >"$DIR/perf-$_name-dso.txt" 2>&1 || true
	$_r --no-children --sort dso,symbol >"$DIR/perf-$_name-sym.txt" 2>&1 || true
	$_r --children --sort symbol >"$DIR/perf-$_name-children.txt" 2>&1 || true
	if ! grep -qE '^ +[0-9.]+%' "$DIR/perf-$_name-dso.txt"; then
		say "(perf recorded nothing: $(tail -n 2 "$DIR/perf-$_name.log" | tr '\n' ' '))"
		return 0
	fi
	say "-- self time by library"
	awk '/^ +[0-9.]+%/ && $1 + 0 >= 0.5 { printf "   %7s  %s\n", $1, $2 }' "$DIR/perf-$_name-dso.txt"
	say "-- self time by symbol (top 30)"
	awk '/^ +[0-9.]+%/ { s = ""; for (i = 4; i <= NF && $i != "-"; i++) s = s " " $i; printf "   %7s  %-22s%s\n", $1, $2, s }' \
		"$DIR/perf-$_name-sym.txt" | head -n 30
	say "-- including callees (top 20; user-space stacks are partial without frame pointers)"
	awk '/^ +[0-9.]+%/ { s = ""; for (i = 4; i <= NF && $i != "-"; i++) s = s " " $i; printf "   %7s %7s %s\n", $1, $2, s }' \
		"$DIR/perf-$_name-children.txt" | head -n 20
}

if [ "$HAVE_SERVER" = 1 ] && [ "$AUDIT_COST" != only ]; then
	if [ "$PERF" = 1 ] && command -v perf >/dev/null 2>&1; then
		profile sealdropd-file "$SERVER_PIDS" "$PORT" "$CA" file --packages "$DIR/pkgs" --first "$NEXT" --count "$N_PERF"
		NEXT=$((NEXT + N_PERF))
		profile sealdropd-handshake "$SERVER_PIDS" "$PORT" "$CA" handshake --count "$N_PERF"
		profile nginx-handshake "$NGINX_PIDS" "$MPORT" "$N/ca.pem" nginx-handshake --count "$N_PERF"
	elif [ "$PERF" = 1 ]; then
		say "(perf is not installed: no profile)"
	fi
	large_filing
fi
if [ -s "$DIR/errors.log" ]; then
	say "== first errors"
	head -n 10 "$DIR/errors.log"
fi

# --- the issue's targets, each a ratio within this run ------------------------------------
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
rate() { grep "^RESULT mode=$1 conc=$2 " "$RESULTS" | field rate | head -n1; }
best() { grep "^RESULT mode=$1 " "$RESULTS" | field rate | sort -g | tail -n1; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { if (v == "n/a" || v == "") print "NOT MEASURED"; else if (v + 0 >= t + 0) print "met"; else print "MISSED" }'; }
per_conc() { # mode-a mode-b: a/b at each concurrency
	for _c in $CONCS; do printf ' %s:%s' "$_c" "$(div "$(rate "$1" "$_c")" "$(rate "$2" "$_c")")"; done
}
say "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
say "== targets"
[ "$HAVE_SERVER" = 1 ] || say "(sealdropd was not built: only the nginx figures exist)"
r=$(div "$(best put)" "$(best nginx-post)")
say "chunk PUTs / nginx POST->204 (keep-alive): best $(best put) / $(best nginx-post) = ${r}x," \
	"per concurrency$(per_conc put nginx-post); target >= 0.5x: $(verdict "$r" 0.5)"
lrate() { grep "^RESULT mode=raw-lmdb batch=$1 " "$RESULTS" | field rate | head -n1; }
if [ -n "$(lrate 64)" ]; then
	_lr="" _ln=""
	for _c in $CONCS; do
		_lr="$_lr $_c:$(div "$(rate put "$_c")" "$(lrate "$_c")")"
		_ln="$_ln $_c:$(div "$(lrate "$_c")" "$(rate nginx-post "$_c")")"
	done
	say "(baseline) raw LMDB, the same chunks put durably by one thread alone, as many per commit as" \
		"connections: per concurrency$(for _c in $CONCS; do printf ' %s:%s' "$_c" "$(lrate "$_c")"; done) puts/s;" \
		"chunk PUTs / raw LMDB:$_lr; raw LMDB / nginx POST->204:$_ln (the PUT target is 0.5x nginx)"
fi
# What the PUT target leaves, by this run's own figures: at 0.5x nginx, the CPU of what a
# PUT cannot do without — BLAKE2b of the chunk (checked as it arrives), raw LMDB's cheapest
# durable put of it (the issue's store), the load generator's cheapest 64 KiB request (it
# shares the cores, as in nginx's run), and nginx's own cheapest CPU per 64 KiB POST (the
# TLS decryption, socket reads and HTTP that a PUT needs too, done by the baseline itself)
# — against the machine's cores. The hop to the store process and the store's bookkeeping
# come on top and are not counted.
c=$(grep '^RESULT mode=raw-libsodium ' "$RESULTS" | tail -n1)
# The size of every minted package (all are alike), for the per-filing figures below.
pkg=""
[ -f "$DIR/pkgs/pkg-000000.sdx" ] && pkg=$(stat -c %s "$DIR/pkgs/pkg-000000.sdx")
# The lowest FIELD over MODE's lines (runs where nothing succeeded left out).
low() {
	grep "^RESULT mode=$1 " "$RESULTS" | awk -v want="$2" '{
		delete f; for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
		if (!("ok" in f) || f["ok"] + 0 > 0) print f[want] }' | grep . | sort -g | head -n1
}
min2() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "") print b; else if (b == "" || a + 0 <= b + 0) print a; else print b }'; }
# One 64 KiB request at its cheapest, for both bounds: nginx's own CPU per POST, and the
# generator's (in nginx's run or sealdropd's, whichever is lower).
post_srv=$(low nginx-post server_cpu_ms_per_op)
post_gen=$(min2 "$(low nginx-post client_cpu_ms_per_op)" "$(low put client_cpu_ms_per_op)")
if [ -n "$c" ] && [ -n "$(lrate 64)" ] && [ -n "$(best nginx-post)" ]; then
	awk -v n="$(best nginx-post)" -v m="$(echo "$c" | field blake2b_mb_s)" -v l="$(low raw-lmdb cpu_ms_per_op)" \
		-v vb="$(low raw-lmdb value_bytes)" -v cores="$(nproc)" \
		-v g="$post_gen" -v x="$post_srv" 'BEGIN {
		if (n + 0 <= 0 || m + 0 <= 0 || g == "" || x == "") exit
		t = 0.5 * n; h = vb / (m * 1000); per = h + l + g + x
		printf "(bound) the PUT target, %.0f PUTs/s, takes at least %.2f of this machine'"'"'s %d cores in work a" \
			" PUT cannot do without: BLAKE2b of the chunk %.3f ms + raw LMDB'"'"'s cheapest durable put of it" \
			" %.3f ms + the generator'"'"'s cheapest 64 KiB request %.3f ms + nginx'"'"'s own cheapest CPU per" \
			" 64 KiB POST (TLS decryption, reads, HTTP) %.3f ms = %.3f ms of CPU per PUT; the process hop and" \
			" the store'"'"'s bookkeeping come on top\n", t, t * per / 1000, cores, h, l, g, x, per }'
fi
f=$(rate file 64)
say "filings/s, 64 keep-alive connections: ${f:-n/a}; target >= 1000: $(verdict "${f:-n/a}" 1000)"
if [ -n "$c" ] && [ -n "$f" ]; then
	# A filing verifies the header's signature, signs and checks a receipt and a notice, and
	# hashes every byte of the package (its chunks as they arrive, its header once).
	say "(baseline) libsodium alone: BLAKE2b $(echo "$c" | field blake2b_mb_s) MB/s, Ed25519 sign" \
		"$(echo "$c" | field ed25519_sign_us) us, verify $(echo "$c" | field ed25519_verify_us) us;" \
		"a filing's own crypto (3 verifications, 2 signatures, BLAKE2b of its $pkg bytes):" \
		"$(awk -v s="$(echo "$c" | field ed25519_sign_us)" -v v="$(echo "$c" | field ed25519_verify_us)" \
			-v m="$(echo "$c" | field blake2b_mb_s)" -v b="$pkg" 'BEGIN { printf "%.0f", 3 * v + 2 * s + b / m }') us of CPU;" \
		"sealdropd's server CPU per filing at 64 connections: $(grep '^RESULT mode=file conc=64 ' "$RESULTS" | head -n1 | field server_cpu_ms_per_op) ms"
fi
r=$(div "$(best file-newconn)" "$(best nginx-handshake)")
say "filings with a new mutual-TLS connection each / nginx mutual-TLS handshakes: best $(best file-newconn)" \
	"/ $(best nginx-handshake) = ${r}x, per concurrency$(per_conc file-newconn nginx-handshake); target >= 0.8x: $(verdict "$r" 0.8)"
# The same for new-connection filings: at 0.8x nginx's handshakes, the CPU per filing the
# cores allow, less the cheapest handshake seen (sealdropd's or nginx's, server and
# generator), the libsodium calls a filing cannot do without (the header's signature
# checked, the receipt and its notice signed, every byte hashed), raw LMDB's put of
# one chunk and one 64 KiB request at nginx's cheapest (server and generator: a filing
# sends its 64 KiB evidence chunk in one request, among six others): what is left must
# pay for everything else.
if [ -n "$c" ] && [ -n "$(best nginx-handshake)" ] && [ -n "$(best handshake)" ] && [ -n "$(lrate 64)" ]; then
	nc=$(grep '^RESULT mode=file-newconn conc=64 ' "$RESULTS" | head -n1)
	awk -v n="$(best nginx-handshake)" -v cores="$(nproc)" \
		-v hs="$(min2 "$(low handshake server_cpu_ms_per_op)" "$(low nginx-handshake server_cpu_ms_per_op)")" \
		-v hg="$(min2 "$(low handshake client_cpu_ms_per_op)" "$(low nginx-handshake client_cpu_ms_per_op)")" \
		-v s="$(echo "$c" | field ed25519_sign_us)" -v v="$(echo "$c" | field ed25519_verify_us)" \
		-v m="$(echo "$c" | field blake2b_mb_s)" -v b="$pkg" -v l="$(low raw-lmdb cpu_ms_per_op)" \
		-v ns="$(echo "$nc" | field server_cpu_ms_per_op)" -v ng="$(echo "$nc" | field client_cpu_ms_per_op)" \
		-v ps="$post_srv" -v pg="$post_gen" 'BEGIN {
		if (n + 0 <= 0 || m + 0 <= 0 || hg == "" || ps == "" || pg == "") exit
		t = 0.8 * n; cr = (v + 2 * s + b / m) / 1000; floor = hs + hg + cr + l + ps + pg; allowed = cores * 1000 / t
		measured = (ns == "" || ng == "") ? "n/a" : sprintf("%.3f ms (server %.3f + generator %.3f)", ns + ng, ns, ng)
		printf "(bound) the new-connection target, %.0f filings/s, allows %.3f ms of CPU per filing on %d cores;" \
			" the cheapest handshake (server %.3f + generator %.3f ms), the libsodium calls a filing cannot do" \
			" without (%.3f ms), raw LMDB'"'"'s put of one chunk (%.3f ms) and one 64 KiB request at nginx'"'"'s" \
			" cheapest (server %.3f + generator %.3f ms) take %.3f ms, leaving %.3f ms for all else; a" \
			" new-connection filing at 64 connections measured %s\n",
			t, allowed, cores, hs, hg, cr, l, ps, pg, floor, allowed - floor, measured }'
fi
r=$(div "$(best handshake)" "$(best nginx-handshake)")
say "(for reference) sealdropd handshakes / nginx handshakes: best $(best handshake) / $(best nginx-handshake) = ${r}x"
median() { grep "^RESULT mode=$1 " "$RESULTS" | field rate | sort -g | awk '{ r[NR] = $1 } END { if (NR) print r[int((NR + 1) / 2)] }'; }
if [ "$AUDIT_PAIRS" -gt 0 ]; then
	a=$(median file-nolog) b=$(median file-log) r=$(div "$(median file-log)" "$(median file-nolog)")
	say "audit log cost, filings/s at 64 keep-alive connections, median of $AUDIT_PAIRS runs each: with the log" \
		"${b:-n/a}, without ${a:-n/a} = ${r}x; cost $(awk -v r="$r" 'BEGIN { if (r == "n/a") print "n/a"; else printf "%.1f%%", (1 - r) * 100 }')" \
		"(target < 10%: $(awk -v r="$r" 'BEGIN { if (r == "n/a") print "NOT MEASURED"; else if (1 - r < 0.10) print "met"; else print "MISSED" }'))"
fi
l=$(grep '^RESULT mode=large-file ' "$RESULTS" | tail -n1)
if [ -n "$l" ]; then
	probe=$(grep '^RESULT mode=pagecache-probe ' "$RESULTS" | tail -n1 | field mb_s)
	mb=$(echo "$l" | field mb_s) hwm=$(echo "$l" | field server_hwm_kib) front=$(echo "$l" | field first_hwm_kib)
	anon=$(echo "$l" | field server_peak_anon_kib) file=$(echo "$l" | field server_peak_file_kib)
	say "${LARGE_MB} MiB filing: $mb MB/s (target >= 200: $(verdict "$mb" 200)); server peak RSS (VmHWM, its three" \
		"processes together) $hwm KiB (target < 65536: $(awk -v h="$hwm" 'BEGIN { print (h != "" && h + 0 < 65536) ? "met" : "MISSED" }'))," \
		"the front end's $front KiB; sampled peaks $anon KiB anonymous, $file KiB file-backed (mostly LMDB's map," \
		"in the store process: page cache the kernel can reclaim); for reference, dd of as much into new page cache" \
		"just before: ${probe:-n/a} MB/s"
else
	say "${LARGE_MB} MiB filing: not measured"
fi
