# server_limits.sh — sealdropd's limits (issue 3, item 6; issue 7, item 3), each driven
# past its bound on a raw TLS connection: connections per certificate (429), a slow body
# (408), a body trickling below min_body_rate (408), a head trickling past header_timeout
# (408), a TLS handshake that never ends (closed), an idle kept-alive connection
# (closed), a header section too large (431), a target too long (414), the body budget
# shared by all connections (503 after backpressure) and its anonymous half (503 at
# once), and max_connections: the oldest untrusted connection makes room for an
# attorney, and with only attorneys' connections open a newcomer is closed at once.
# Nothing is stored by any of them.
. "$(dirname "$0")/lib.sh"

mkserver || done_testing
stop_server
conf=$D/sealdropd.conf
set_conf() { # name value
	sed -i "s/^$1 .*/$1 $2/" "$conf"
}
set_conf max_connections 4
set_conf max_connections_per_cert 2
set_conf header_timeout 3s
set_conf min_body_rate 1K
set_conf slow_body_timeout 2s
set_conf idle_timeout 2s
set_conf request_timeout 8s
set_conf chunk_bytes 1100000
set_conf max_header_bytes 1M
set_conf body_budget_bytes 1100000
set_conf max_package_bytes 2M
check "the tightened configuration is valid" sdd check-config --config "$conf"
start_server "$conf" || { not_ok "restart with tight limits"; diag "$(tail -n 5 "$SERVER_LOG")"; done_testing; }

# One Python helper drives raw TLS connections with the attorney's certificate.
cat >"$T/tls.py" <<'PYEOF'
import select, socket, ssl, sys, time
port, ca, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
def conn(cert=cert, key=key):
    ctx = ssl.create_default_context(cafile=ca)
    if cert:
        ctx.load_cert_chain(cert, key)
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    return ctx.wrap_socket(s, server_hostname="127.0.0.1")
def anon():
    return conn(None, None)
def closed_within(s, limit):
    """Seconds until the peer closes s (EOF or reset), or -1 if it stays open."""
    t = time.time()
    s.settimeout(0.2)
    while time.time() - t < limit:
        try:
            if s.recv(4096) == b"":
                return time.time() - t
        except socket.timeout:
            continue
        except (ConnectionError, ssl.SSLError, OSError):
            return time.time() - t
    return -1
def status(s):
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            b = s.recv(4096)
            if not b:
                break
            data += b
    except (ConnectionError, socket.timeout, ssl.SSLError):
        pass
    return int(data.split(b" ")[1]) if data.startswith(b"HTTP/1.1 ") else 0
def req(path, extra=b"", method=b"GET"):
    return method + b" " + path + b" HTTP/1.1\r\nHost: x\r\n" + extra + b"\r\n"
what = sys.argv[5]
if what == "per-cert":
    a, b = conn(), conn()
    for s in (a, b):
        s.sendall(req(b"/v1/cases")); print(status(s))
    c = conn(); c.sendall(req(b"/v1/cases")); print(status(c))
elif what == "slow-body":
    s = conn(); s.sendall(req(b"/v1/uploads", b"Content-Length: 1000\r\n", b"POST") + b"x" * 10)
    t = time.time(); st = status(s); print(st, int(time.time() - t))
elif what == "idle":
    s = conn(); s.sendall(req(b"/v1/health")); st = status(s)
    time.sleep(3.5)
    try:
        s.sendall(req(b"/v1/health")); again = status(s)
    except (ConnectionError, ssl.SSLError, OSError):
        again = 0
    print(st, again)
elif what == "big-head":
    s = conn(); s.sendall(req(b"/v1/health", b"X-Pad: " + b"a" * 9000 + b"\r\n")); print(status(s))
elif what == "long-target":
    s = conn(); s.sendall(req(b"/v1/" + b"a" * 1100)); print(status(s))
elif what == "linger":
    s = conn(); s.sendall(req(b"/v1/nope", b"Content-Length: 100000\r\n", b"POST"))
    st = status(s); t = time.time(); closed = None
    while time.time() - t < 8:
        try:
            s.sendall(b"x" * 10)
            time.sleep(0.3)
        except (ConnectionError, ssl.SSLError, OSError):
            closed = time.time() - t
            break
    print(st, -1 if closed is None else int(closed))
elif what == "head-trickle":
    s = anon(); s.sendall(b"GET /v1/health HTTP/1.1\r\n")
    t = time.time(); st = 0
    s.settimeout(0.4)
    while time.time() - t < 10 and st == 0:
        try:
            s.sendall(b"X"); data = s.recv(4096)
            st = int(data.split(b" ")[1]) if data.startswith(b"HTTP/1.1 ") else -1
        except socket.timeout:
            pass
        except (ConnectionError, ssl.SSLError, OSError):
            st = -1
    print(st, int(time.time() - t))
elif what == "handshake-stall":
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    s.sendall(bytes.fromhex("160301"))   # the first bytes of a ClientHello, and no more
    print(int(closed_within(s, 10)))
elif what == "body-rate":
    s = conn(); s.sendall(req(b"/v1/uploads", b"Content-Length: 100000\r\n", b"POST"))
    t = time.time(); st = 0; s.settimeout(0.4); data = b""
    while time.time() - t < 12 and st == 0:
        try:
            s.sendall(b"x" * 20)        # 50 bytes a second: never idle, far below 1K/s
            data = s.recv(4096)
            st = int(data.split(b" ")[1]) if data.startswith(b"HTTP/1.1 ") else -1
        except socket.timeout:
            pass
        except (ConnectionError, ssl.SSLError, OSError):
            st = -1
    print(st, int(time.time() - t), b"slower than 1024 bytes a second" in data)
elif what == "evict":
    slow = []
    for _ in range(4):                # max_connections 4, all anonymous heads in progress
        x = anon(); x.sendall(b"GET /v1/health HTTP/1.1\r\n"); slow.append(x); time.sleep(0.05)
    a = conn(); a.sendall(req(b"/v1/cases")); st = status(a)
    print(st, closed_within(slow[0], 1) >= 0, closed_within(slow[3], 0.5) < 0)
elif what == "refuse":
    cert2, key2 = sys.argv[6], sys.argv[7]
    held = [conn(), conn(), conn(cert2, key2), conn(cert2, key2)]
    for h in held:
        h.sendall(req(b"/v1/health")); status(h)
    t = time.time()
    try:
        x = anon(); x.sendall(req(b"/v1/health")); st = status(x)
    except (ConnectionError, ssl.SSLError, OSError):
        st = 0
    print(st, int((time.time() - t) * 1000))
elif what == "anon-budget":
    a = conn(); a.sendall(req(b"/v1/uploads", b"Content-Length: 1000000\r\n", b"POST") + b"x" * 1000)
    time.sleep(0.3)
    b = anon(); t = time.time()
    b.sendall(req(b"/v1/wb/status", b"Content-Type: application/json\r\nContent-Length: 200000\r\n", b"POST"))
    print(status(b), int((time.time() - t) * 1000))
elif what == "budget":
    a = conn(); a.sendall(req(b"/v1/uploads", b"Content-Length: 1000000\r\n", b"POST") + b"x" * 1000)
    time.sleep(0.3)
    b = conn(); b.sendall(req(b"/v1/uploads", b"Content-Length: 500000\r\n", b"POST"))
    t = time.time()
    for _ in range(8):              # keep A's body trickling so only B waits
        time.sleep(0.5); a.sendall(b"x" * 100)
        if select.select([b], [], [], 0)[0]:
            break
    print(status(b), int(time.time() - t))
PYEOF
tls() { "$PY" "$T/tls.py" "$PORT" "$D/ca.pem" "$D/att/cert.pem" "$D/att/key.pem" "$@"; }

out=$(tls per-cert | tr '\n' ' ')
if [ "$out" = "200 200 429 " ]; then ok "a third connection with one certificate gets 429 (max_connections_per_cert 2)"; else not_ok "a third connection with one certificate gets 429 ($out)"; fi
set -- $(tls slow-body)
if [ "${1:-}" = 408 ] && [ "${2:-9}" -le 4 ]; then ok "a body that stops arriving gets 408 after slow_body_timeout (${2}s)"; else not_ok "a body that stops arriving gets 408 after slow_body_timeout ($*)"; fi
out=$(tls idle)
if [ "$out" = "200 0" ]; then ok "a kept-alive connection idle past idle_timeout is closed"; else not_ok "a kept-alive connection idle past idle_timeout is closed ($out)"; fi
out=$(tls big-head)
if [ "$out" = 431 ]; then ok "a header section over 8 KiB gets 431"; else not_ok "a header section over 8 KiB gets 431 ($out)"; fi
out=$(tls long-target)
if [ "$out" = 414 ]; then ok "a target over 1 KiB gets 414"; else not_ok "a target over 1 KiB gets 414 ($out)"; fi
set -- $(tls linger)
if [ "${1:-}" = 404 ] && [ "${2:--1}" -ge 0 ] && [ "${2:--1}" -le 4 ]; then ok "after an early answer the server discards the rest for at most 2 s, however it trickles (${2}s)"; else not_ok "after an early answer the lingering close is bounded ($*)"; fi
set -- $(tls head-trickle)
if [ "${1:-}" = 408 ] && [ "${2:-9}" -ge 2 ] && [ "${2:-9}" -le 4 ]; then ok "a head trickling a byte every 0.4 s gets 408 after header_timeout 3s (${2}s)"; else not_ok "a head trickling past header_timeout gets 408 ($*)"; fi
out=$(tls handshake-stall)
if [ "${out:--1}" -ge 2 ] && [ "${out:--1}" -le 4 ]; then ok "a TLS handshake that stalls is closed after header_timeout (${out}s)"; else not_ok "a TLS handshake that stalls is closed after header_timeout ($out)"; fi
set -- $(tls body-rate)
if [ "${1:-}" = 408 ] && [ "${2:-9}" -ge 2 ] && [ "${2:-9}" -le 5 ] && [ "${3:-}" = True ]; then ok "a body trickling at 50 B/s gets 408 (min_body_rate 1K, after ${2}s)"; else not_ok "a body trickling below min_body_rate gets 408 ($*)"; fi
set -- $(tls evict)
if [ "$*" = "200 True True" ]; then ok "max_connections 4 full of anonymous heads: an attorney gets in, the oldest is closed, the newest kept"; else not_ok "an attorney gets in past anonymous heads at max_connections ($*)"; fi
check "enroll a second attorney" sdd enroll --dir "$D" --role attorney --name "Attorney Lee" --out "$D/att2"
set -- $(tls refuse "$D/att2/cert.pem" "$D/att2/key.pem")
if [ "${1:-}" = 0 ] && [ "${2:-9999}" -lt 1000 ]; then ok "four attorneys' connections open: a newcomer is closed at once (${2} ms), not queued"; else not_ok "at max_connections with nothing to evict a newcomer is closed at once ($*)"; fi
set -- $(tls anon-budget)
if [ "${1:-}" = 503 ] && [ "${2:-9999}" -lt 1000 ]; then ok "an anonymous body past half the body budget gets 503 at once (${2} ms)"; else not_ok "an anonymous body past half the body budget gets 503 at once ($*)"; fi
set -- $(tls budget)
if [ "${1:-}" = 503 ] && [ "${2:-0}" -ge 1 ]; then ok "a body that does not fit the body budget waits, then gets 503 (after ${2}s)"; else not_ok "a body that does not fit the body budget waits, then gets 503 ($*)"; fi
# A package larger than max_package_bytes is refused at its header, before any chunk.
random_file "$T/big.bin" 3
run sd seal --directory "$D/directory.json" --root "$P/root.key.pub" --report docs/examples/report.json \
	--identity docs/examples/identity.json --evidence "$T/big.bin" --out "$T/big.sdx" --codename-out "$T/big.codename" --quiet
hl=$("$PY" -c 'import struct,sys; d=open(sys.argv[1],"rb").read(16); print(struct.unpack("<I", d[12:16])[0])' "$T/big.sdx")
head -c "$hl" "$T/big.sdx" >"$T/big.hdr"
code=$(curl_status att POST /v1/uploads --data-binary @"$T/big.hdr" -H 'Content-Type: application/octet-stream')
msg=$(json_get "$OUT" 'd["message"]' 2>/dev/null)
if [ "$code" = 413 ]; then ok "a package over max_package_bytes is refused at its header (413: $msg)"; else not_ok "a package over max_package_bytes is refused at its header ($code $msg)"; fi
code=$(curl_status att GET /v1/health)
if [ "$code" = 200 ]; then ok "the server still answers"; else not_ok "the server still answers ($code)"; fi
stop_server
entries=$(mdb_stat -s uploads "$D/store" 2>/dev/null | sed -n 's/^ *Entries: //p')
if [ "$entries" = 0 ]; then ok "nothing was stored"; else not_ok "nothing was stored (uploads: $entries)"; fi
done_testing
