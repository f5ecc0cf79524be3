# socks5.sh — the client's --socks5 HOST:PORT (issue 8, item 7): every command that talks
# to a server goes through a SOCKS5 proxy, as it would through Tor's SocksPort, asking for
# the server by NAME (ATYP 3), so nothing is resolved on this machine. A SOCKS5 server
# written for the test (tests/tools/socks5.py) logs each CONNECT, the authentication used,
# and can misbehave on purpose. Checked, against the real server on the test clock:
#	- `file` and `status` (the whistleblower) through the proxy; the proxy's log shows a
#	  CONNECT to "localhost" as a domain name, and an IP literal as ATYP 1;
#	- each command offers fresh username/password credentials (Tor's IsolateSOCKSAuth:
#	  circuits of its own), the same for all of one command's connections;
#	- a proxy that prefers no authentication (ssh -D) works too;
#	- the config file's `socks5` setting is honoured (by `file`, which otherwise reads no
#	  config file), and a malformed one is exit 78;
#	- a refusal (reply 5, Tor's 0xF0, no acceptable method, credentials refused) is 69 with
#	  its reason; a malformed reply (version 4, an unoffered method, a reply cut short, a
#	  reserved byte set, an unknown address type, a proxy that hangs up) is 76; a proxy
#	  that is down is 69 — and then no direct connection is made (a listener standing in
#	  for the server counts none);
#	- an .onion --server without --socks5 is 64, with --socks5 it goes to the proxy by name;
#	- the torrc of docs/DEPLOY_TOR.md passes `tor --verify-config` (SKIP without tor).
. "$(dirname "$0")/lib.sh"

PROXY=$TOP/tests/tools/socks5.py
if [ ! -x "$SEALDROPD_TESTCLOCK" ]; then
	not_ok "$SEALDROPD_TESTCLOCK is built (make all-tests)"
	done_testing
fi

# --- proxies ---
PROXY_PIDS=""
# start_proxy NAME [socks5.py options...]: a proxy logging to $T/NAME.log; sets PPORT.
start_proxy() {
	_name=$1
	shift
	rm -f "$T/$_name.port"
	"$PY" "$PROXY" --log "$T/$_name.log" --port-file "$T/$_name.port" --parent $$ "$@" </dev/null \
		>>"$T/proxies.err" 2>&1 &
	PROXY_PIDS="$PROXY_PIDS $!"
	_i=0
	while [ ! -s "$T/$_name.port" ] && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	PPORT=$(cat "$T/$_name.port" 2>/dev/null)
	[ -n "$PPORT" ] || {
		not_ok "set-up: the proxy $_name starts"
		diag "$(tail -n 5 "$T/proxies.err")"
		return 1
	}
}
_socks5_cleanup() {
	for _p in $PROXY_PIDS; do kill "$_p" 2>/dev/null; done
	_server_cleanup
}
trap _socks5_cleanup EXIT

# --- no server needed ---
expect_exit 64 "an .onion --server without --socks5 is refused" -m 'onion address needs --socks5 127.0.0.1:9050' \
	sd cases --server https://sealdropexampleaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.onion --ca /x --cert /x --key /x
expect_exit 64 "  also for the whistleblower's status" -m 'onion address needs --socks5' \
	sd status --server https://abc.onion:8443 --ca /x --root /x --codename-file /x
expect_exit 64 "--socks5 without a port" -m 'HOST:PORT' sd status --server https://localhost --ca /x --root /x \
	--socks5 127.0.0.1
expect_exit 64 "--socks5 with port 0" -m '1 to 65535' sd file /x --server https://localhost --ca /x --cert /x \
	--key /x --root /x --socks5 127.0.0.1:0
expect_exit 64 "--socks5 is not an option of an offline command" -m "unknown option '--socks5'" \
	sd keygen --kind root --out "$T/k" --socks5 127.0.0.1:9050
check "file --help lists --socks5" sd file --help
if grep -q -- '--socks5 HOST:PORT' "$OUT" && grep -q '127.0.0.1:9050' "$OUT"; then ok "  with Tor's port"; else not_ok "  with Tor's port"; fi
check "status --help lists --socks5" sd status --help
if grep -q -- '--socks5 HOST:PORT' "$OUT"; then ok "  it does"; else not_ok "  it does"; fi

# --- a deployment on the test clock ---
TODAYFILE=$T/today
mkwbserver "$TODAYFILE" 2026-03-12
run sdd enroll --dir "$D" --role attorney --name "Attorney Kim" --out "$D/att"
[ "$RC" -eq 0 ] || { not_ok "set-up: enroll the attorney"; _diag_output; done_testing; }
if openssl x509 -in "$D/server.pem" -noout -ext subjectAltName 2>/dev/null | grep -q 'DNS:localhost'; then
	ok "the server's certificate names localhost (sealdropd init's default)"
else
	not_ok "the server's certificate names localhost (sealdropd init's default)"
fi
NAMED=https://localhost:$PORT # PORT, URL, P, D: mkwbserver
ATT="--ca $D/ca.pem --cert $D/att/cert.pem --key $D/att/key.pem --root $P/root.key.pub"
WB="--ca $D/ca.pem --directory $D/directory.json --root $P/root.key.pub"
run sd seal --directory "$D/directory.json" --root "$P/root.key.pub" --report docs/examples/report.json \
	--identity docs/examples/identity.json --out "$T/a.sdx" --codename-out "$T/a.sdx.codename" --quiet
[ "$RC" -eq 0 ] || { not_ok "set-up: seal"; _diag_output; done_testing; }
cp "$T/a.sdx" "$T/b.sdx"

start_proxy ok || done_testing
OKPORT=$PPORT
# shellcheck disable=SC2086
expect_exit 0 "file through the proxy, --server https://localhost:PORT" \
	sd file "$T/a.sdx" --server "$NAMED" $ATT --socks5 "127.0.0.1:$OKPORT" --json
CASE=$(json_get "$OUT" 'd["case"]' 2>/dev/null)
if [ -n "$CASE" ] && [ -s "$T/a.sdx.receipt.json" ]; then ok "  case $CASE, the receipt written"; else not_ok "  a case and its receipt"; _diag_output out; fi
if grep -q "^CONNECT atyp=3 host=localhost port=$PORT " "$T/ok.log" && ! grep -q '^CONNECT atyp=[14]' "$T/ok.log"; then
	ok "  the proxy was asked for 'localhost' as a domain name (ATYP 3): nothing resolved here"
else
	not_ok "  the proxy was asked for 'localhost' as a domain name (ATYP 3): nothing resolved here"
	diag "$(head -n 6 "$T/ok.log")"
fi
users=$(sed -n 's/^AUTH userpass user=\([0-9a-f]*\) pass=\([0-9a-f]*\)$/\1 \2/p' "$T/ok.log" | sort -u)
nconn=$(grep -c '^CONNECT' "$T/ok.log")
if [ "$(echo "$users" | wc -l)" -eq 1 ] && [ "${#users}" -eq 65 ] && ! grep -q '^AUTH none' "$T/ok.log"; then
	ok "  username/password offered and used: one random pair for the command's $nconn connections"
else
	not_ok "  username/password offered and used: one random pair for the command's $nconn connections"
	diag "$(grep '^AUTH' "$T/ok.log" | head -n 4)"
fi
FIRST_USER=$(echo "$users" | cut -d' ' -f1)

: >"$T/ok.log"
# shellcheck disable=SC2086
expect_exit 0 "status through the proxy (the whistleblower, codename)" \
	sd status --server "$NAMED" $WB --codename-file "$T/a.sdx.codename" --socks5 "127.0.0.1:$OKPORT"
if grep -q "^case $CASE" "$OUT"; then ok "  shows case $CASE"; else not_ok "  shows case $CASE"; _diag_output out; fi
if grep -q "^CONNECT atyp=3 host=localhost port=$PORT " "$T/ok.log"; then ok "  by name through the proxy"; else not_ok "  by name through the proxy"; fi
U2=$(sed -n 's/^AUTH userpass user=\([0-9a-f]*\) .*/\1/p' "$T/ok.log" | sort -u)
if [ -n "$U2" ] && [ "$(echo "$U2" | wc -l)" -eq 1 ] && [ "$U2" != "$FIRST_USER" ]; then
	ok "  another command, other credentials: Tor puts it on other circuits (IsolateSOCKSAuth)"
else
	not_ok "  another command, other credentials: Tor puts it on other circuits (IsolateSOCKSAuth)"
	diag "file: $FIRST_USER" "status: $U2"
fi

: >"$T/ok.log"
# shellcheck disable=SC2086
expect_exit 0 "audit verify through the proxy, --server https://127.0.0.1:PORT" \
	sd audit verify --server "$URL" --ca "$D/ca.pem" --directory "$D/directory.json" --root "$P/root.key.pub" \
	--socks5 "127.0.0.1:$OKPORT"
# (no head published yet is fine too: what matters is the way there)
if grep -q "^CONNECT atyp=1 host=127.0.0.1 port=$PORT " "$T/ok.log"; then ok "  an IP literal goes as ATYP 1"; else not_ok "  an IP literal goes as ATYP 1"; diag "$(head -n 4 "$T/ok.log")"; fi

start_proxy noauthpref --prefer none || done_testing
# shellcheck disable=SC2086
expect_exit 0 "a proxy that chooses no authentication (ssh -D) works too" \
	sd status --server "$NAMED" $WB --codename-file "$T/a.sdx.codename" --socks5 "127.0.0.1:$PPORT"
if grep -q '^AUTH none' "$T/noauthpref.log"; then ok "  it chose none"; else not_ok "  it chose none"; fi

# --- the config file ---
mkdir -p "$HOME/.config/sealdrop"
printf 'socks5 127.0.0.1:%s\n' "$OKPORT" >"$HOME/.config/sealdrop/config"
: >"$T/ok.log"
# shellcheck disable=SC2086
expect_exit 0 "file with 'socks5' in the config file (filing the same package again)" \
	sd file "$T/b.sdx" --server "$NAMED" $ATT --json
if grep -q "^CONNECT atyp=3 host=localhost port=$PORT " "$T/ok.log"; then ok "  went through the proxy"; else not_ok "  went through the proxy"; fi
printf 'socks5 127.0.0.1\n' >"$HOME/.config/sealdrop/config"
# shellcheck disable=SC2086
expect_exit 78 "a malformed 'socks5' setting" -m 'config:1' -m 'HOST:PORT' sd file "$T/b.sdx" --server "$NAMED" $ATT
rm -f "$HOME/.config/sealdrop/config"

# --- refusals (69) and malformed replies (76) ---
# misbehave STATUS MODE DESCRIPTION WORD [WORD]: status through a proxy in that mode.
misbehave() {
	_rc=$1
	_m=$2
	_d=$3
	_w1=$4
	_w2=${5:-$4}
	start_proxy "$_m" --mode "$_m" || return
	# shellcheck disable=SC2086
	expect_exit "$_rc" "$_d" -m "$_w1" -m "$_w2" sd status --server "$NAMED" $WB \
		--codename-file "$T/a.sdx.codename" --socks5 "127.0.0.1:$PPORT"
}
misbehave 69 refuse "the proxy refuses the CONNECT (reply 5): 69" 'connection refused' 'SOCKS5 reply 5'
misbehave 69 onion "Tor's extended error 0xF0: 69" 'descriptor not found'
misbehave 69 noauth "no acceptable authentication method (0xFF): 69" 'refused the authentication methods'
misbehave 69 authfail "the credentials refused (RFC 1929): 69" 'refused the username and password'
DEAD=$(free_port)
# shellcheck disable=SC2086
expect_exit 69 "the proxy is down: 69" -m "cannot connect to the --socks5 proxy 127.0.0.1:$DEAD" -m 'Tor running' \
	sd file "$T/a.sdx" --server "$NAMED" $ATT --socks5 "127.0.0.1:$DEAD"
misbehave 76 version "a reply of SOCKS version 4: 76" 'not SOCKS version 5'
misbehave 76 badmethod "a method that was not offered: 76" 'method 1,'
misbehave 76 truncate "a CONNECT reply cut short: 76" 'closed the connection in the middle'
misbehave 76 rsv "a reserved byte set: 76" 'reserved byte'
misbehave 76 atyp "an unknown address type: 76" 'address type 9'
misbehave 76 close "a proxy that hangs up after the greeting: 76" 'closed the connection'

# --- fail closed: a listener standing in for the server sees nothing when the proxy is down ---
start_proxy canary || done_testing
CANARY=$PPORT
# shellcheck disable=SC2086
expect_exit 69 "status with the proxy down (--server https://127.0.0.1:LISTENER)" -m '--socks5 proxy' \
	sd status --server "https://127.0.0.1:$CANARY" $WB --codename-file "$T/a.sdx.codename" --socks5 "127.0.0.1:$DEAD"
# shellcheck disable=SC2086
expect_exit 69 "file with the proxy down (--server https://localhost:LISTENER)" -m '--socks5 proxy' \
	sd file "$T/a.sdx" --server "https://localhost:$CANARY" $ATT --socks5 "127.0.0.1:$DEAD"
if [ ! -s "$T/canary.log" ]; then
	ok "  no direct connection was made: the listener counted none"
else
	not_ok "  no direct connection was made: the listener counted $(grep -c ACCEPT "$T/canary.log")"
fi
# the check can fail: without --socks5 the same command reaches the listener
# shellcheck disable=SC2086
run sd status --server "https://127.0.0.1:$CANARY" $WB --codename-file "$T/a.sdx.codename"
if grep -q ACCEPT "$T/canary.log"; then ok "  (and without --socks5 the listener does see a connection)"; else not_ok "  (and without --socks5 the listener does see a connection)"; fi

# --- an onion name goes to the proxy as it is ---
: >"$T/ok.log"
ONION=sealdropexampleaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.onion
# shellcheck disable=SC2086
expect_exit 69 "an .onion --server with --socks5: the proxy is asked (and cannot reach it here)" \
	-m 'host unreachable' sd status --server "https://$ONION" $WB --codename-file "$T/a.sdx.codename" \
	--socks5 "127.0.0.1:$OKPORT"
if grep -q "^CONNECT atyp=3 host=$ONION port=443 " "$T/ok.log"; then ok "  CONNECT $ONION:443 by name"; else not_ok "  CONNECT $ONION:443 by name"; diag "$(head -n 4 "$T/ok.log")"; fi

# --- TLS over the proxy is still checked against the server's name ---
start_proxy mapped --map "$ONION=127.0.0.1" || done_testing
# shellcheck disable=SC2086
expect_exit 76 "an onion name the server's certificate does not carry is refused (TLS checked by name)" \
	-m 'not issued for the host name' sd status --server "https://$ONION:$PORT" $WB \
	--codename-file "$T/a.sdx.codename" --socks5 "127.0.0.1:$PPORT"
if grep -q "^CONNECT atyp=3 host=$ONION port=$PORT .*" "$T/mapped.log" && grep -q '^REPLY rep=0' "$T/mapped.log"; then
	ok "  the proxy did connect it: the refusal is the certificate's"
else
	not_ok "  the proxy did connect it: the refusal is the certificate's"
fi
run sdd init --dir "$T/onion" --listen "127.0.0.1:$(free_port)" --hostname "$ONION" --hostname localhost
if [ "$RC" -eq 0 ] && openssl x509 -in "$T/onion/server.pem" -noout -ext subjectAltName | grep -q "DNS:$ONION"; then
	ok "sealdropd init --hostname NAME.onion puts the onion name in the server's certificate"
else
	not_ok "sealdropd init --hostname NAME.onion puts the onion name in the server's certificate"
	_diag_output
fi

# --- the torrc of docs/DEPLOY_TOR.md ---
awk '/^```torrc$/ { on = 1; next } /^```$/ { on = 0 } on' docs/DEPLOY_TOR.md >"$T/torrc"
if [ -s "$T/torrc" ] && grep -q '^HiddenServicePort 443 127.0.0.1:8443' "$T/torrc"; then
	ok "docs/DEPLOY_TOR.md has a torrc block with HiddenServicePort 443 127.0.0.1:8443"
else
	not_ok "docs/DEPLOY_TOR.md has a torrc block with HiddenServicePort 443 127.0.0.1:8443"
fi
if command -v tor >/dev/null 2>&1; then
	# Its directories, moved into $T: verify-config checks them, and this is not root's tor.
	mkdir -p "$T/tor/data" "$T/tor/hs"
	chmod 700 "$T/tor/data" "$T/tor/hs"
	sed -e "s#/var/lib/tor/sealdrop/#$T/tor/hs/#" -e "s#^DataDirectory .*#DataDirectory $T/tor/data#" \
		-e '/^User /d' "$T/torrc" >"$T/torrc.test"
	grep -q '^DataDirectory' "$T/torrc.test" || echo "DataDirectory $T/tor/data" >>"$T/torrc.test"
	check "tor --verify-config accepts it" tor --verify-config -f "$T/torrc.test" --defaults-torrc /dev/null
	if [ -f /usr/share/tor/tor-service-defaults-torrc ]; then
		check "  also on top of Debian's tor-service-defaults-torrc" tor --verify-config -f "$T/torrc.test" \
			--defaults-torrc /usr/share/tor/tor-service-defaults-torrc --User "$(id -un)" \
			--DataDirectory "$T/tor/data" --PidFile "$T/tor/pid" --ControlSocket 0 --CookieAuthentication 0
	else
		skip "Debian's tor-service-defaults-torrc is not installed"
	fi
	sed 's#^HiddenServicePort .*#HiddenServicePort 443 127.0.0.1:notaport#' "$T/torrc.test" >"$T/torrc.bad"
	run tor --verify-config -f "$T/torrc.bad" --defaults-torrc /dev/null
	if [ "$RC" -ne 0 ]; then ok "  (and refuses a broken HiddenServicePort: the check can fail)"; else not_ok "  (and refuses a broken HiddenServicePort: the check can fail)"; fi
else
	skip "tor not installed"
	skip "tor not installed"
	skip "tor not installed"
fi

done_testing
