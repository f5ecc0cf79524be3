# check_config.sh — `sealdropd check-config` finds what `sealdropd run` would refuse to
# start with (issue 3, item 1: "validates and explains every error"): a directory that is
# unsigned, tampered or does not list this server's log key or CA; a server key
# that is not a key, or not the certificate's; files that do not belong to the user the
# server becomes, or a store open to others. Each broken setting is checked with both
# commands: check-config exits 78 naming it, and `run` refuses too. Nothing here needs a
# running server.
. "$(dirname "$0")/lib.sh"

P=$T/p
D=$T/d
mkdir -p "$P"
mkkey root "$P/root.key" && mkkey intake "$P/intake.key" && mkkey identity "$P/identity.key" || done_testing
mkkey root "$P/other.key" || done_testing
PORT=$(free_port)
check "sealdropd init" sdd init --dir "$D" --listen "127.0.0.1:$PORT"
mkdir_opts() { # out root-key [directory create options...]
	_out=$1
	_root=$2
	shift 2
	sd directory create --deployment demo --intake "$P/intake.key.pub" --identity "$P/identity.key.pub" \
		--root "$_root" --passphrase-file "$PW" --out "$_out" "$@"
}
check "a directory listing this server" mkdir_opts "$P/good.json" "$P/root.key" --log "$D/log.key.pub" --tls-ca "$D/ca.pem"
cp "$P/good.json" "$D/directory.json"
conf=$D/sealdropd.conf
check "check-config on the deployment as made" sdd check-config --config "$conf"

# Puts FILE in place of DIR/NAME, runs both commands, puts the original back.
both_refuse() { # description name file word... (each word one token)
	_d=$1
	_name=$2
	_file=$3
	shift 3
	_words=""
	for _w in "$@"; do _words="$_words -m $_w"; done
	cp -p "$D/$_name" "$T/saved"
	cp "$_file" "$D/$_name"
	# shellcheck disable=SC2086 # one -m per word
	expect_exit 78 "check-config: $_d" $_words sdd check-config --config "$conf"
	run sdd run --config "$conf"
	if [ "$RC" -ne 0 ]; then ok "  and run refuses it too (exit $RC)"; else not_ok "  and run refuses it too"; fi
	cp -p "$T/saved" "$D/$_name"
}

# --- the directory -------------------------------------------------------------------------
check "a directory without this server's keys" mkdir_opts "$P/nokeys.json" "$P/root.key"
both_refuse "a directory that does not list the log key" directory.json "$P/nokeys.json" directory.json log.key.pub
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=another CA" \
	-addext basicConstraints=critical,CA:TRUE -keyout "$T/otherca.key" -out "$T/otherca.pem" 2>/dev/null
check "a directory with another TLS CA" mkdir_opts "$P/otherca.json" "$P/root.key" --log "$D/log.key.pub" --tls-ca "$T/otherca.pem"
both_refuse "a directory that lists another TLS CA" directory.json "$P/otherca.json" directory.json ca.pem
json_edit "$P/good.json" "$P/unsigned.json" 'del d["signature"]'
both_refuse "an unsigned directory" directory.json "$P/unsigned.json" directory.json
json_edit "$P/good.json" "$P/tampered.json" 'd["signed"]["deployment"] = "other"'
both_refuse "a tampered directory" directory.json "$P/tampered.json" directory.json

# --- the server's TLS key ------------------------------------------------------------------
both_refuse "a server key file that holds a certificate" server.key "$D/server.pem" server.key TLS
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/stranger.key" 2>/dev/null
chmod 600 "$T/stranger.key"
both_refuse "a server key that is not the certificate's" server.key "$T/stranger.key" server.key TLS

# --- ownership and modes (as root, the server becomes its user) ----------------------------
user=$(sed -n 's/^user //p' "$conf")
if [ "$(id -u)" -eq 0 ] && id "$user" >/dev/null 2>&1; then
	chown root "$D"
	expect_exit 78 "check-config: a directory owned by root, not by $user" -m "chown -R $user" \
		sdd check-config --config "$conf"
	if [ -n "${SEALDROP_SANITIZED:-}" ]; then
		# It would serve (until the time limit): a sanitizer build neither drops privileges
		# nor checks owners, for LeakSanitizer (server/server_start.c).
		skip "  run: a sanitizer build keeps root and checks no owner"
	else
		run sdd run --config "$conf"
		if [ "$RC" -ne 0 ]; then ok "  and run refuses it too (exit $RC)"; else not_ok "  and run refuses it too"; fi
	fi
	chown "$user" "$D"
	chmod 755 "$D/store"
	expect_exit 78 "check-config: a store others may read" -m "chmod 700" sdd check-config --config "$conf"
	chmod 700 "$D/store"
else
	skip "ownership: needs root and the user '$user'"
	skip "modes: needs root and the user '$user'"
fi
check "check-config on the deployment put back" sdd check-config --config "$conf"
done_testing
