# directory_rollback.sh — a served directory never goes back, across restarts too: the
# store keeps the highest version the server served (raised at start-up and by each
# `directory install`), and `sealdropd run` refuses a directory.json below it, such as an
# older copy put back by hand or from a backup. The newest one put back, it starts again.
. "$(dirname "$0")/lib.sh"

# `run` in the foreground, stopped after 30 s should it start where it must not.
run_briefly() { timeout -k 5 30 "$SEALDROPD" run "$@"; }

mkserver || done_testing
cp "$D/directory.json" "$T/directory-v1.json"
newer() { # version out
	sd directory create --deployment demo --version "$1" --intake "$P/intake.key.pub" \
		--identity "$P/identity.key.pub" --log "$D/log.key.pub" --tls-ca "$D/ca.pem" --root "$P/root.key" \
		--passphrase-file "$PW" --out "$2"
}
check "a version 2 of the directory" newer 2 "$T/directory-v2.json"
check "installed while the server runs" sdd directory install --dir "$D" "$T/directory-v2.json"
stop_server

cp "$T/directory-v1.json" "$D/directory.json"
expect_exit 65 "run refuses version 1 after version 2 was served" -m "version 1" -m "served version 2" \
	run_briefly --config "$D/sealdropd.conf"

cp "$T/directory-v2.json" "$D/directory.json"
if start_server "$D/sealdropd.conf"; then ok "with version 2 back, it starts"; else not_ok "with version 2 back, it starts"; fi
stop_server

# A version written straight into directory.json (no install) is raised at start-up too.
check "a version 3" newer 3 "$T/directory-v3.json"
cp "$T/directory-v3.json" "$D/directory.json"
if start_server "$D/sealdropd.conf"; then ok "version 3 put in place by hand starts"; else not_ok "version 3 put in place by hand starts"; fi
stop_server
cp "$T/directory-v2.json" "$D/directory.json"
expect_exit 65 "and then version 2 is refused" -m "version 2" -m "served version 3" \
	run_briefly --config "$D/sealdropd.conf"
done_testing
