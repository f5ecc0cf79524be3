# faults.sh — the store's faults (issue 7, item 5; include/sealdrop/store.h, CAVEATS):
#   - its map grows online while packages are filed; past store_max_bytes a filing is
#     answered 507 store_full while reads go on; a higher ceiling and a restart let it in;
#   - a full disk (ENOSPC, from the LD_PRELOAD shim tests/preload/faultfs.c) is 507 too,
#     reads go on, and once the disk has room the same filing completes, once;
#   - a failed fsync acknowledges nothing, logs one loud line and ends the server with
#     status 74; it restarts on the same store and the filing is never duplicated;
#   - a foreign LMDB environment (made with mdb_load) is refused with 78, a garbage or
#     truncated data.mdb with 65, a store of a newer format with 65 naming both formats.
. "$(dirname "$0")/lib.sh"

SHIM=${SD_FAULTFS:-$BUILD_DIR/preload/faultfs.so}
REAL_SEALDROPD=$SEALDROPD
for f in "$SHIM" "$SD_LMDB"; do
	[ -e "$f" ] || { not_ok "$f is built (make all-tests)"; done_testing; }
done
command -v mdb_load >/dev/null 2>&1 || { not_ok "mdb_load is installed (lmdb-utils)"; done_testing; }

MK_DIRECTORY_OPTS=--test mkserver || done_testing
run sdd enroll --dir "$D" --role officer --name "Officer Lee" --out "$D/off"
[ "$RC" -eq 0 ] || { not_ok "set-up: enroll an officer"; _diag_output; done_testing; }
stop_server
CONF=$D/sealdropd.conf
DATA=$D/store/data.mdb

# The triggers live in a directory the server's user may search (it drops root).
FAULTS=$T/faults
mkdir -p "$FAULTS" && chmod 755 "$FAULTS"
# The server under the shim: a wrapper that start_server runs instead of sealdropd. An
# ASan build wants its runtime first among the preloaded libraries (make check).
PRELOAD=$SHIM
ASAN_RT=$(ldd "$REAL_SEALDROPD" 2>/dev/null | awk '/libasan/ { print $3 }')
[ -z "$ASAN_RT" ] || PRELOAD="$ASAN_RT $SHIM"
cat >"$T/sealdropd-faulty" <<EOF
#!/bin/sh
LD_PRELOAD="$PRELOAD" SD_FAULT_ENOSPC_FILE=$FAULTS/enospc SD_FAULT_FSYNC_FILE=$FAULTS/eio exec $REAL_SEALDROPD "\$@"
EOF
chmod 755 "$T/sealdropd-faulty"

seal_pkg() { # name evidence-MiB (0: none)
	_ev=""
	if [ "$2" -gt 0 ]; then
		head -c "$2"M /dev/urandom >"$T/$1.bin"
		_ev="--evidence $T/$1.bin"
	fi
	# shellcheck disable=SC2086 # _ev is one option and a path without spaces, or nothing
	run sd seal --directory "$D/directory.json" --root "$P/root.key.pub" --report docs/examples/report.json \
		--identity docs/examples/identity.json $_ev --out "$T/$1.sdx" --codename-out "$T/$1.codename" --quiet
	[ "$RC" -eq 0 ] || { not_ok "set-up: seal $1"; _diag_output; done_testing; }
}
file_pkg() { # name
	run sd file "$T/$1.sdx" --server "$URL" --ca "$D/ca.pem" --cert "$D/att/cert.pem" --key "$D/att/key.pem" \
		--root "$P/root.key.pub" --json
}
cases_get() { # GET /v1/cases: its status in $CST, the number of cases in $NCASES
	CST=$(curl_status att GET /v1/cases)
	NCASES=$(json_get "$OUT" 'len(d["cases"])' 2>/dev/null)
}
# The number of cases filed from package NAME (its header digest), from the listing.
cases_of() { # name
	curl_status att GET /v1/cases >/dev/null
	"$PY" -c 'import json, subprocess, sys
info = json.loads(subprocess.run([sys.argv[3], "inspect", sys.argv[2], "--json"], capture_output=True, check=True).stdout)
d = json.load(open(sys.argv[1]))
print(sum(1 for c in d["cases"] if c.get("header_digest") == info.get("header_digest")))' "$OUT" "$T/$1.sdx" "$SEALDROP"
}
set_conf() { # name value
	sed -i "/^$1 /d" "$CONF" && echo "$1 $2" >>"$CONF"
}

# --- 1. the map grows online, up to store_max_bytes ------------------------------------
set_conf store_max_bytes 64M
set_conf max_uploads_per_account 1000 # the store fills before the account's cap
start_server "$CONF" || { not_ok "set-up: the server starts"; diag "$(tail -n 5 "$SERVER_LOG")"; done_testing; }
size0=$(file_size "$DATA")
grown0=$(grep -c 'the map grew' "$SERVER_LOG")
for p in g1 g2 g3; do seal_pkg $p 2; done
okfiled=0
for p in g1 g2 g3; do file_pkg $p && okfiled=$((okfiled + 1)); done
if [ $okfiled -eq 3 ]; then ok "three 2 MiB packages are filed from a small map"; else not_ok "three 2 MiB packages are filed from a small map ($okfiled of 3)"; _diag_output; fi
size1=$(file_size "$DATA")
grown=$(($(grep -c 'the map grew' "$SERVER_LOG") - grown0))
diag "data.mdb: $size0 bytes before, $size1 after; the map grew $grown times while filing"
if [ "$grown" -ge 2 ] && [ "$size1" -gt $((size0 + 6000000)) ]; then
	ok "the map grew online ($grown steps) and the data file with it"
else
	not_ok "the map grew online and the data file with it ($grown steps, $size0 -> $size1 bytes)"
fi
stop_server

# A ceiling just above what the data uses: the next package does not fit.
set_conf store_max_bytes "$((size1 / 1024 + 200))K"
start_server "$CONF" || { not_ok "set-up: the server starts with a low store_max_bytes"; diag "$(tail -n 5 "$SERVER_LOG")"; done_testing; }
seal_pkg big 4
cases_get
before=$NCASES
file_pkg big
if [ "$RC" -ne 0 ] && grep -qi 'store is full' "$ERR"; then ok "past store_max_bytes a filing is refused: store is full"; else not_ok "past store_max_bytes a filing is refused: store is full"; _diag_output; fi
# The status itself, from the server, for the first request that writes: an upload's
# creation (a small header, a new package each time), once the room left is filled.
ntiny=0
create_status() { # the status in $st
	ntiny=$((ntiny + 1))
	seal_pkg "tiny$ntiny" 0
	"$PY" -c 'import struct,sys; d=open(sys.argv[1],"rb").read(16); sys.stdout.buffer.write(open(sys.argv[1],"rb").read(struct.unpack("<I", d[12:16])[0]))' "$T/tiny$ntiny.sdx" >"$T/tiny.hdr"
	st=$(curl_status att POST /v1/uploads -H 'Content-Type: application/octet-stream' --data-binary @"$T/tiny.hdr")
}
create_status
while [ "$st" = 201 ] && [ $ntiny -lt 400 ]; do create_status; done
diag "$ntiny uploads created before the store was full"
if [ "$st" = 507 ] && [ "$(json_get "$OUT" 'd["error"]')" = store_full ]; then
	ok "the server answers 507 {\"error\": \"store_full\"}"
else
	not_ok "the server answers 507 {\"error\": \"store_full\"} (got $st)"
	diag "$(head -c 300 "$OUT")"
fi
if cases_get && [ "$CST" = 200 ] && [ "$NCASES" -ge "$before" ]; then ok "GET /v1/cases still answers 200 ($NCASES cases)"; else not_ok "GET /v1/cases still answers 200"; fi
if [ "$(curl_status - GET /v1/health)" = 200 ]; then ok "GET /v1/health still answers 200"; else not_ok "GET /v1/health still answers 200"; fi
curl_status att GET /v1/cases >/dev/null
case1=$(json_get "$OUT" 'd["cases"][0]["case"]')
if [ "$(curl_status off GET "/v1/cases/$case1/header")" = 200 ]; then ok "a package still downloads (its header, 200)"; else not_ok "a package still downloads (its header, 200)"; fi
if grep -q 'store is full: its map of' "$SERVER_LOG"; then ok "the log says the store is full and why"; else not_ok "the log says the store is full and why"; fi
stop_server
set_conf store_max_bytes 64G
start_server "$CONF" || { not_ok "set-up: the server starts with store_max_bytes 64G"; done_testing; }
file_pkg big
if [ "$RC" -eq 0 ]; then ok "after raising store_max_bytes and a restart the filing succeeds"; else not_ok "after raising store_max_bytes and a restart the filing succeeds"; _diag_output; fi
if [ "$(cases_of big)" = 1 ]; then ok "that package is one case"; else not_ok "that package is one case ($(cases_of big))"; fi
stop_server

# --- 2. a full disk: ENOSPC from the file system ------------------------------------------
SEALDROPD=$T/sealdropd-faulty
start_server "$CONF" || { not_ok "set-up: the server starts under the shim"; diag "$(tail -n 5 "$SERVER_LOG")"; done_testing; }
seal_pkg nospace 1
cases_get
before=$NCASES
: >"$FAULTS/enospc"
file_pkg nospace
if [ "$RC" -ne 0 ] && grep -qi 'store is full' "$ERR"; then ok "with the disk full (ENOSPC) a filing is refused: store is full"; else not_ok "with the disk full (ENOSPC) a filing is refused: store is full"; _diag_output; fi
create_status
if [ "$st" = 507 ] && [ "$(json_get "$OUT" 'd["error"]')" = store_full ]; then ok "ENOSPC is answered 507 store_full, not 500"; else not_ok "ENOSPC is answered 507 store_full, not 500 (got $st)"; diag "$(head -c 300 "$OUT")"; fi
if cases_get && [ "$CST" = 200 ] && [ "$NCASES" = "$before" ]; then ok "reads go on while the disk is full ($NCASES cases, none half-written)"; else not_ok "reads go on while the disk is full ($NCASES cases, $before before)"; fi
if [ "$(curl_status off GET "/v1/cases/$case1/header")" = 200 ]; then ok "downloads go on while the disk is full"; else not_ok "downloads go on while the disk is full"; fi
if kill -0 "$SERVER_PID" 2>/dev/null; then ok "the server keeps running"; else not_ok "the server keeps running"; fi
rm -f "$FAULTS/enospc"
file_pkg nospace
if [ "$RC" -eq 0 ]; then ok "once there is room the same filing completes"; else not_ok "once there is room the same filing completes"; _diag_output; fi
if [ "$(cases_of nospace)" = 1 ] && cases_get && [ "$CST" = 200 ] && [ "$NCASES" = $((before + 1)) ]; then
	ok "it is one case, and the only new one"
else
	not_ok "it is one case, and the only new one ($NCASES cases, $before before)"
fi
if grep -q 'no write after this can be trusted' "$SERVER_LOG"; then not_ok "a full disk is not taken for a failed fsync"; else ok "a full disk is not taken for a failed fsync"; fi

# --- 3. a failed fsync is fatal -----------------------------------------------------------
seal_pkg nosync 1
cases_get
before=$NCASES
: >"$FAULTS/eio"
file_pkg nosync
if [ "$RC" -ne 0 ] && [ ! -e "$T/nosync.sdx.receipt.json" ]; then ok "with fsync failing the filing gets no receipt"; else not_ok "with fsync failing the filing gets no receipt"; _diag_output; fi
i=0
while [ $i -lt 100 ] && kill -0 "$SERVER_PID" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
SERVER_RC=0
wait "$SERVER_PID" 2>/dev/null || SERVER_RC=$?
SERVER_PID=""
if [ "$SERVER_RC" -eq 74 ]; then ok "the server exits with status 74"; else not_ok "the server exits with status 74 (got $SERVER_RC)"; fi
if [ "$(grep -c 'fsync.* of the store.* failed: Input/output error; stopping: no write after this can be trusted' "$SERVER_LOG")" = 1 ]; then
	ok "it says so in one loud line"
else
	not_ok "it says so in one loud line"
	diag "$(tail -n 5 "$SERVER_LOG")"
fi
rm -f "$FAULTS/eio"
if start_server "$CONF"; then ok "it restarts cleanly on the same store"; else not_ok "it restarts cleanly on the same store"; diag "$(tail -n 5 "$SERVER_LOG")"; done_testing; fi
n=$(cases_of nosync)
diag "after the restart the unacknowledged filing is there $n time(s)"
if [ "$n" -le 1 ]; then ok "the unacknowledged filing is absent or there once"; else not_ok "the unacknowledged filing is absent or there once ($n)"; fi
file_pkg nosync
if [ "$RC" -eq 0 ] && [ "$(cases_of nosync)" = 1 ]; then ok "filing it again ends with exactly one case"; else not_ok "filing it again ends with exactly one case"; _diag_output; fi
stop_server
SEALDROPD=$REAL_SEALDROPD

# --- 4. what is not a sealdropd store is refused at start ---------------------------------
owner=$(stat -c %u:%g "$DATA")
cp "$DATA" "$T/data.mdb.good"
put_data() { # file: installs it as data.mdb
	rm -f "$DATA" "$D/store/lock.mdb" && cp "$1" "$DATA" && chown "$owner" "$DATA" && chmod 600 "$DATA"
}
run_refused() { # code description [-m word]...
	_c=$1
	_d=$2
	shift 2
	expect_exit "$_c" "$_d" "$@" timeout -k 5 30 "$SEALDROPD" run --config "$CONF"
}
printf 'VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n 616c696365\n 31\nDATA=END\n' >"$T/users.dump"
mkdir -p "$T/foreign"
if mdb_load -s users -f "$T/users.dump" "$T/foreign"; then
	put_data "$T/foreign/data.mdb"
	run_refused 78 "a foreign LMDB environment is refused with 78" -m "data.mdb is not a sealdropd store" -m users
else
	not_ok "set-up: mdb_load makes a foreign environment"
fi
head -c 65536 /dev/urandom >"$T/garbage"
put_data "$T/garbage"
run_refused 65 "a data.mdb of garbage is refused with 65" -m data.mdb -m "not a readable LMDB store"
head -c 3000 "$T/data.mdb.good" >"$T/short"
put_data "$T/short"
run_refused 65 "a data.mdb cut in its meta pages is refused with 65" -m data.mdb -m MDB_INVALID
head -c 65536 "$T/data.mdb.good" >"$T/short"
put_data "$T/short"
run_refused 65 "a truncated data.mdb is refused with 65" -m data.mdb -m truncated
put_data "$T/data.mdb.good"
marker=$(printf format | od -An -tx1 | tr -d ' \n')
run "$SD_LMDB" "$D/store" put meta "$marker" "$(printf 'sealdrop-store 2' | od -An -tx1 | tr -d ' \n')"
chown -R "$owner" "$D/store"
run_refused 65 "a store of a newer format is refused, naming both" -m "format 2" -m "format 1"
run "$SD_LMDB" "$D/store" del meta "$marker"
chown -R "$owner" "$D/store"
if start_server "$CONF"; then ok "the real store, without its marker, starts (ours: it is marked)"; else not_ok "the real store, without its marker, starts"; diag "$(tail -n 5 "$SERVER_LOG")"; fi
stop_server
run "$SD_LMDB" "$D/store" get meta "$marker"
if [ "$(cat "$OUT")" = "$(printf 'sealdrop-store 1' | od -An -tx1 | tr -d ' \n')" ]; then ok "the marker is written: sealdrop-store 1"; else not_ok "the marker is written: sealdrop-store 1"; _diag_output out; fi
done_testing
