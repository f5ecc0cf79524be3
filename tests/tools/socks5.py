#!/usr/bin/env python3
"""socks5.py - a SOCKS5 proxy on loopback for tests/e2e/socks5.sh (stdlib only).

It speaks RFC 1928 (CONNECT only) with no authentication or RFC 1929 username/password,
resolves the target itself as Tor does, relays bytes both ways, and logs one line per
event to --log:

    ACCEPT                                      a TCP connection came in
    AUTH none | AUTH userpass user=U pass=P     the method the client got
    CONNECT atyp=1|3|4 host=H port=N            what the client asked for
    REPLY rep=N                                 what the proxy answered

It can misbehave on purpose (--mode):

    ok          work (the default)
    refuse      answer every CONNECT with reply 5, connection refused
    onion       answer with Tor's extended error 0xF0 (descriptor not found)
    noauth      answer the method selection with 0xFF (no acceptable method)
    authfail    refuse every username and password (RFC 1929 status 1)
    version     answer the method selection as SOCKS version 4
    badmethod   choose method 0x01 (GSSAPI), which nobody offered
    truncate    send the first 3 bytes of the CONNECT reply, then close
    rsv         set the reserved byte of the CONNECT reply
    atyp        answer with address type 9
    close       close right after the greeting, without a word

--map NAME=ADDR sends a CONNECT to NAME to ADDR instead (repeatable), as Tor takes an
.onion name to its service. --prefer none makes it choose no authentication even when username/password is
offered (as ssh -D does); by default it prefers username/password, as Tor does.
--port-file F receives the port it listens on (0: any free one), written once it
listens. It exits when the process --parent names is gone, so a test that dies never
leaves it behind.
"""
import argparse
import ipaddress
import os
import socket
import struct
import sys
import threading
import time

LOCK = threading.Lock()


def log(path, line):
    with LOCK, open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError("short read")
        b += c
    return b


def relay(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def reply(c, rep, atyp=1, rsv=0, version=5):
    return struct.pack("!BBBB", version, rep, rsv, atyp) + b"\0\0\0\0" + b"\0\0"


def negotiate(c, opts):
    """The method selection and, if chosen, RFC 1929. False when the client is refused."""
    ver, n = recv_exact(c, 2)
    methods = recv_exact(c, n)
    if ver != 5:
        return False
    if opts.mode == "close":
        return False
    if opts.mode == "version":
        c.sendall(b"\x04\x00")
        return False
    if opts.mode == "badmethod":
        c.sendall(b"\x05\x01")
        return False
    if opts.mode == "noauth":
        c.sendall(b"\x05\xff")
        return False
    if 2 in methods and not (opts.prefer == "none" and 0 in methods):
        c.sendall(b"\x05\x02")
        v, ulen = recv_exact(c, 2)
        user = recv_exact(c, ulen)
        (plen,) = recv_exact(c, 1)
        pw = recv_exact(c, plen)
        log(opts.log, "AUTH userpass user=%s pass=%s" % (user.decode("ascii", "replace"), pw.decode("ascii", "replace")))
        if v != 1 or opts.mode == "authfail":
            c.sendall(b"\x01\x01")
            return False
        c.sendall(b"\x01\x00")
        return True
    if 0 in methods:
        c.sendall(b"\x05\x00")
        log(opts.log, "AUTH none")
        return True
    c.sendall(b"\x05\xff")
    return False


def read_request(c, opts):
    ver, cmd, rsv, atyp = recv_exact(c, 4)
    if atyp == 1:
        host = str(ipaddress.IPv4Address(recv_exact(c, 4)))
    elif atyp == 4:
        host = str(ipaddress.IPv6Address(recv_exact(c, 16)))
    elif atyp == 3:
        (n,) = recv_exact(c, 1)
        host = recv_exact(c, n).decode("ascii", "replace")
    else:
        raise ValueError("atyp")
    (port,) = struct.unpack("!H", recv_exact(c, 2))
    log(opts.log, "CONNECT atyp=%d host=%s port=%d cmd=%d ver=%d rsv=%d" % (atyp, host, port, cmd, ver, rsv))
    return host, port


def answer(c, opts, host, port):
    """The CONNECT reply; the upstream socket when the proxy connected."""
    if opts.mode == "refuse":
        rep = 5
    elif opts.mode == "onion":
        rep = 0xF0
    elif opts.mode == "truncate":
        c.sendall(reply(c, 0)[:3])
        log(opts.log, "REPLY truncated")
        return None
    elif opts.mode == "rsv":
        c.sendall(reply(c, 0, rsv=1))
        log(opts.log, "REPLY rsv=1")
        return None
    elif opts.mode == "atyp":
        c.sendall(reply(c, 0, atyp=9))
        log(opts.log, "REPLY atyp=9")
        return None
    else:
        try:
            up = socket.create_connection((opts.maps.get(host, host), port), timeout=10)
            up.settimeout(None)
            rep = 0
        except OSError:
            up, rep = None, 4
    c.sendall(reply(c, rep))
    log(opts.log, "REPLY rep=%d" % rep)
    return up if rep == 0 else None


def serve(c, opts):
    try:
        log(opts.log, "ACCEPT")
        if not negotiate(c, opts):
            return
        host, port = read_request(c, opts)
        up = answer(c, opts, host, port)
        if up is None:
            return
        t = threading.Thread(target=relay, args=(up, c), daemon=True)
        t.start()
        relay(c, up)
        t.join(30)
        up.close()
    except (OSError, EOFError, ValueError):
        pass
    finally:
        c.close()


def watch_parent(pid):
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:
            pass
        time.sleep(0.5)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--mode", default="ok",
                    choices=["ok", "refuse", "onion", "noauth", "authfail", "version", "badmethod", "truncate",
                             "rsv", "atyp", "close"])
    ap.add_argument("--prefer", default="userpass", choices=["userpass", "none"])
    ap.add_argument("--parent", type=int, default=0)
    ap.add_argument("--map", action="append", default=[])
    opts = ap.parse_args()
    opts.maps = dict(m.split("=", 1) for m in opts.map)
    if opts.parent:
        threading.Thread(target=watch_parent, args=(opts.parent,), daemon=True).start()
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", opts.port))
    ls.listen(64)
    open(opts.log, "a").close()
    if opts.port_file:
        tmp = opts.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % ls.getsockname()[1])
        os.rename(tmp, opts.port_file)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=serve, args=(c, opts), daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
