# server_signals.sh — sealdropd's signals and log (issue 3): SIGHUP reopens the log file
# after rotation; SIGTERM lets a request in flight finish before the server exits 0; a
# second server on the same directory is refused; a missing or foreign directory stops
# `run` with a message naming the problem.
. "$(dirname "$0")/lib.sh"

mkserver || done_testing
stop_server

# --- the log file and SIGHUP ---
"$SEALDROPD" run --config "$D/sealdropd.conf" --log "$D/server.log" </dev/null >"$T/run.out" 2>&1 &
SERVER_PID=$!
i=0
until curl -s -o /dev/null --cacert "$D/ca.pem" "$URL/v1/health" || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
check "--log writes the log to the file" grep -q 'listening on' "$D/server.log"
mv "$D/server.log" "$D/server.log.1"
kill -HUP "$SERVER_PID"
sleep 0.5
check "after SIGHUP a new log file is started" grep -q 'log reopened' "$D/server.log"
check "and the rotated one is left alone" test ! -s "$T/run.out"

# --- a second server on the same directory ---
expect_exit 77 "a second server on the same directory is refused (its store is in use)" "$SEALDROPD" run --config "$D/sealdropd.conf"


# --- SIGTERM with a request in flight: it finishes, then the server exits 0 ---
head -c 1500000 /dev/urandom >"$T/slow.bin"
curl -s -o "$T/slow.out" -w '%{http_code}' --limit-rate 500k --cacert "$D/ca.pem" --cert "$D/att/cert.pem" \
	--key "$D/att/key.pem" -X POST --data-binary @"$T/slow.bin" -H 'Content-Type: application/octet-stream' \
	"$URL/v1/uploads" >"$T/slow.code" &
cpid=$!
sleep 1
kill -TERM "$SERVER_PID"
wait $cpid
code=$(cat "$T/slow.code")
# The body is not a header, so the answer is a refusal: what matters is that it came.
case $code in 4[0-9][0-9]) ok "the request in flight got its answer after SIGTERM ($code)" ;; *) not_ok "the request in flight got its answer after SIGTERM ($code)" ;; esac
wait "$SERVER_PID"
rc=$?
SERVER_PID=""
if [ $rc = 0 ]; then ok "then the server exited 0"; else not_ok "then the server exited 0 ($rc)"; fi
check "it said it was shutting down" grep -q 'shutting down' "$D/server.log"

# --- refusals at start ---
mv "$D/directory.json" "$T/directory.json"
expect_exit 78 "run refuses to start without a directory" -m directory.json -m "directory create" "$SEALDROPD" run --config "$D/sealdropd.conf"
mkdeployment "$T/other" demo --log "$D/log.key.pub"
cp "$T/other/directory.json" "$D/directory.json"
expect_exit 78 "run refuses a directory without this server's CA" -m "TLS CA" "$SEALDROPD" run --config "$D/sealdropd.conf"
run sd directory create --deployment demo --intake "$P/intake.key.pub" --identity "$P/identity.key.pub" \
	--log "$D/log.key.pub" --tls-ca "$D/ca.pem" --root "$T/other/root.key" --passphrase-file "$PW" \
	--out "$T/foreign.json" --version 5
cp "$T/foreign.json" "$D/directory.json"
expect_exit 78 "run refuses a directory signed by another root than the pinned one" -m pinned "$SEALDROPD" run --config "$D/sealdropd.conf"
cp "$T/directory.json" "$D/directory.json"
if start_server "$D/sealdropd.conf"; then ok "with its own directory back, it starts"; else not_ok "with its own directory back, it starts"; fi
stop_server
done_testing
