#!/bin/sh
# tls-audit.sh — `make tls-audit`: issue 7's "TLS audit" acceptance line. It sets up a
# throwaway deployment in a temporary directory (sealdropd init on a free port, a signed
# directory, an enrolled attorney), starts the server, and audits its TLS:
#
#   1. testssl.sh (Debian's, with --add-ca for the deployment's CA): every finding is
#      printed; the audit FAILS on any finding rated MEDIUM or worse, and on any protocol
#      but TLS 1.3 offered.
#   2. sslscan, without and with the attorney's certificate (testssl.sh cannot present
#      one): only TLS 1.3 is enabled either way.
#   3. openssl s_client on the certificate-required routes: TLS 1.2 is refused; a TLS 1.3
#      connection gets no session ticket and a second one resumes nothing; GET /v1/cases
#      with the attorney's certificate is 200, without a certificate 401.
#
# Prints "ok"/"FAIL" lines and a summary; exits 1 on any failure, 0 otherwise.
#	BUILD=build scripts/tls-audit.sh      (binaries from $BUILD; make tls-audit builds them)
#	TLS_AUDIT_KEEP=1                      keep the temporary directory (testssl's JSON)
set -u
BUILD=${BUILD:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
SD=${SEALDROP:-$BUILD/sealdrop}
SDD=${SEALDROPD:-$BUILD/sealdropd}
TESTSSL=$(command -v testssl || command -v testssl.sh || true)

for b in "$SD" "$SDD"; do
	[ -x "$b" ] || {
		echo "tls-audit: $b is not built (make tls-audit builds it)" >&2
		exit 1
	}
done
for t in "$TESTSSL" "$(command -v sslscan)" "$(command -v openssl)"; do
	[ -n "$t" ] || {
		echo "tls-audit: testssl.sh, sslscan and openssl are needed (scripts/deps.sh --soak)" >&2
		exit 1
	}
done

T=$(mktemp -d "${TMPDIR:-/tmp}/sd-tls-audit.XXXXXX") || exit 1
SERVER_PID=""
cleanup() {
	[ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
	if [ "${TLS_AUDIT_KEEP:-0}" = 1 ]; then echo "tls-audit: kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
export XDG_STATE_HOME="$T/state" HOME="$T/home"
mkdir -p "$XDG_STATE_HOME" "$HOME"

failed=0
pass() { echo "ok   $*"; }
fail() {
	echo "FAIL $*"
	failed=$((failed + 1))
}
die() {
	echo "tls-audit: $*" >&2
	exit 1
}

# --- a throwaway deployment -------------------------------------------------------------
PORT=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
D=$T/d
P=$T/p
mkdir -p "$P"
printf 'tls audit passphrase\n' >"$P/pw"
for k in root intake identity; do
	"$SD" keygen --kind "$k" --out "$P/$k.key" --passphrase-file "$P/pw" --kdf interactive >/dev/null 2>"$T/err" ||
		die "keygen $k: $(cat "$T/err")"
done
"$SDD" init --dir "$D" --listen "127.0.0.1:$PORT" >"$T/init.log" 2>&1 || die "sealdropd init: $(cat "$T/init.log")"
"$SD" directory create --deployment audit --intake "$P/intake.key.pub" --identity "$P/identity.key.pub" \
	--log "$D/log.key.pub" --tls-ca "$D/ca.pem" --root "$P/root.key" --passphrase-file "$P/pw" \
	--out "$D/directory.json" >/dev/null 2>"$T/err" || die "directory create: $(cat "$T/err")"
"$SDD" run --config "$D/sealdropd.conf" </dev/null >"$T/server.log" 2>&1 &
SERVER_PID=$!
i=0
until curl -s -o /dev/null --max-time 2 --cacert "$D/ca.pem" "https://127.0.0.1:$PORT/v1/health"; do
	kill -0 "$SERVER_PID" 2>/dev/null && [ $i -lt 200 ] || die "sealdropd did not start: $(tail -n 5 "$T/server.log")"
	sleep 0.1
	i=$((i + 1))
done
"$SDD" enroll --dir "$D" --role attorney --name "Audit Attorney" --out "$D/att" >/dev/null 2>"$T/err" ||
	die "enroll: $(cat "$T/err")"
echo "== sealdropd on 127.0.0.1:$PORT (deployment in $T)"

# --- 1. testssl.sh ------------------------------------------------------------------------
echo "== testssl.sh $(dpkg-query -W -f '${Version}' testssl.sh 2>/dev/null)"
"$TESTSSL" --quiet --color 0 --warnings off --nodns min --add-ca "$D/ca.pem" --jsonfile "$T/testssl.json" \
	"127.0.0.1:$PORT" >"$T/testssl.txt" 2>&1
rc=$?
[ -s "$T/testssl.json" ] || {
	cat "$T/testssl.txt"
	die "testssl.sh wrote no findings (exit status $rc)"
}
python3 - "$T/testssl.json" >"$T/testssl.verdict" <<'PYEOF'
import json, sys
rank = {"OK": 0, "INFO": 0, "LOW": 1, "MEDIUM": 2, "HIGH": 3, "CRITICAL": 4, "WARN": 0, "DEBUG": 0}
findings = json.load(open(sys.argv[1]))
bad, protos, shown = [], [], {}
for f in findings:
    sev, fid, text = f.get("severity", ""), f.get("id", ""), f.get("finding", "")
    shown.setdefault(sev, []).append("%s: %s" % (fid, text))
    if rank.get(sev, 0) >= 2:
        bad.append("%s %s: %s" % (sev, fid, text))
    if fid in ("SSLv2", "SSLv3", "TLS1", "TLS1_1", "TLS1_2") and text.startswith("offered"):
        protos.append(fid)
    if fid == "TLS1_3" and not text.startswith("offered"):
        protos.append("TLS1_3 " + text)
for sev in ("CRITICAL", "HIGH", "MEDIUM", "LOW", "WARN"):
    for line in shown.get(sev, []):
        print("finding %-8s %s" % (sev, line))
print("findings %d: %s" % (len(findings), ", ".join("%s %d" % (s, len(v)) for s, v in sorted(shown.items()))))
for b in bad:
    print("BAD " + b)
for p in protos:
    print("PROTO " + p)
PYEOF
sed -n 's/^finding /   /p' "$T/testssl.verdict"
echo "   $(sed -n 's/^findings //p' "$T/testssl.verdict")"
n=$(grep -c '^BAD ' "$T/testssl.verdict")
if [ "$n" -eq 0 ]; then pass "testssl.sh: no finding rated MEDIUM or worse"; else
	fail "testssl.sh: $n findings rated MEDIUM or worse:"
	sed -n 's/^BAD /       /p' "$T/testssl.verdict"
fi
if grep -q '^PROTO ' "$T/testssl.verdict"; then fail "testssl.sh: protocols other than TLS 1.3 (or not 1.3): $(sed -n 's/^PROTO //p' "$T/testssl.verdict" | tr '\n' ' ')"; else
	pass "testssl.sh: TLS 1.3 offered, SSLv2, SSLv3, TLS 1.0, 1.1 and 1.2 not"
fi
grep -E '^ *(TLS 1\.3|Cipher order|TLS_AES|TLS_CHACHA|Session Ticket|Session Resumption|Client Authentication)' \
	"$T/testssl.txt" | head -n 12 | sed 's/^ */   testssl: /'

# --- 2. sslscan -----------------------------------------------------------------------------
sslscan_protocols() { # [sslscan options]: "TLSv1.3" and so on, the enabled ones
	sslscan --no-colour "$@" "127.0.0.1:$PORT" 2>&1 | tee -a "$T/sslscan.txt" |
		sed -n 's/^\(SSLv[23]\|TLSv1\.[0-3]\) *enabled$/\1/p' | tr '\n' ' '
}
p=$(sslscan_protocols)
if [ "$p" = "TLSv1.3 " ]; then pass "sslscan: only TLSv1.3 enabled"; else fail "sslscan: enabled protocols '$p' (want TLSv1.3 only)"; fi
p=$(sslscan_protocols --certs="$D/att/cert.pem" --pk="$D/att/key.pem")
if [ "$p" = "TLSv1.3 " ]; then pass "sslscan with the attorney's certificate: only TLSv1.3 enabled"; else fail "sslscan with the attorney's certificate: '$p'"; fi
grep -E '^(Accepted|Preferred) ' "$T/sslscan.txt" | sort -u | sed 's/^/   sslscan: /'

# --- 3. openssl s_client on the certificate-required routes --------------------------------
sclient() { # output-file [s_client options]: GET /v1/cases on one connection
	_o=$1
	shift
	{
		printf 'GET /v1/cases HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'
		sleep 1
	} | timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -servername localhost -CAfile "$D/ca.pem" \
		-ign_eof "$@" >"$_o" 2>&1
}
CERT="-cert $D/att/cert.pem -key $D/att/key.pem"
# shellcheck disable=SC2086 # $CERT is two options
sclient "$T/s12" -tls1_2 $CERT
if grep -q '^HTTP/1.1' "$T/s12" || grep -q '^New, TLSv1.2, Cipher is [A-Z]' "$T/s12"; then fail "TLS 1.2 with a client certificate was accepted"; else
	pass "TLS 1.2 refused ($(grep -o 'alert [a-z ]*' "$T/s12" | head -n 1))"
fi
# shellcheck disable=SC2086
sclient "$T/s13" -tls1_3 $CERT -sess_out "$T/sess"
st=$(sed -n 's/^HTTP\/1.1 \([0-9]*\).*/\1/p' "$T/s13" | head -n 1)
if [ "$st" = 200 ]; then pass "TLS 1.3 with the attorney's certificate: GET /v1/cases 200"; else fail "TLS 1.3 with the attorney's certificate: GET /v1/cases ($st)"; fi
if grep -q 'New Session Ticket\|TLS session ticket:' "$T/s13"; then fail "a session ticket was sent"; else pass "no session ticket"; fi
if [ -s "$T/sess" ]; then
	# shellcheck disable=SC2086
	sclient "$T/s13r" -tls1_3 $CERT -sess_in "$T/sess"
	if grep -q '^Reused' "$T/s13r"; then fail "a session was resumed"; else pass "no resumption ($(grep -E '^(New|Reused),' "$T/s13r" | head -n 1))"; fi
else
	pass "no resumption (no session to offer)"
fi
sclient "$T/snocert" -tls1_3
st=$(sed -n 's/^HTTP\/1.1 \([0-9]*\).*/\1/p' "$T/snocert" | head -n 1)
if [ "$st" = 401 ]; then pass "TLS 1.3 without a certificate: GET /v1/cases 401"; else fail "TLS 1.3 without a certificate: GET /v1/cases ($st)"; fi
grep -E '^(Protocol|Cipher|Server Temp Key|Peer signature type|Verify return code)' "$T/s13" | sort -u | sed 's/^ */   s_client: /'

kill -0 "$SERVER_PID" 2>/dev/null || fail "the server is still running after the audit"
if [ "$failed" -eq 0 ]; then
	echo "tls-audit: all checks passed"
	exit 0
fi
echo "tls-audit: $failed checks failed"
exit 1
