#!/usr/bin/env python3
"""Slow and abusive clients against the real server: stalled connections
(slowloris), oversized headers, endless chunked bodies, request smuggling.
An honest client keeps being served, every abuse gets a clear refusal or a
closed connection, and the server is alive and clean at the end.

Attackers bind to other loopback addresses (127.0.0.2, ...) so that the
per-address connection limit hits them and not the honest 127.0.0.1.

usage: test_abuse.py path/to/civicard"""

import os
import re
import resource
import select
import shutil
import socket
import sys
import threading
import time

import harness
from harness import Server, check, test

PER_IP_LIMIT = 200          # config.c: per_ip_limit

# Enough descriptors for a few hundred attacker sockets here and in the
# server, which inherits the limit.
_soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if _hard == resource.RLIM_INFINITY or _hard > 4096:
    _want = 4096
else:
    _want = _hard
if _soft != resource.RLIM_INFINITY and _soft < _want:
    resource.setrlimit(resource.RLIMIT_NOFILE, (_want, _hard))


# ---------------------------------------------------------------- helpers

def exchange(port, payload, wait=5.0):
    """Send payload; read until the server closes or wait seconds pass.
    Returns (reply bytes, True when the server closed the connection)."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as c:
        try:
            c.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass
        data, deadline = b"", time.monotonic() + wait
        while time.monotonic() < deadline:
            r, _, _ = select.select([c], [], [], deadline - time.monotonic())
            if not r:
                return data, False
            try:
                chunk = c.recv(65536)
            except ConnectionResetError:
                return data, True
            if not chunk:
                return data, True
            data += chunk
        return data, False


def statuses(reply):
    """The status code of every response in reply, in order."""
    return [int(m) for m in re.findall(rb"(?:^|\r\n)HTTP/1\.[01] (\d{3}) ", reply)]


def counter(s, route):
    """How many GET requests to route the server has answered (/metrics)."""
    _, _, body = s.request("GET", "/metrics")
    total = 0
    for m in re.finditer(r'civicard_http_requests_total\{method="GET",route="([^"]*)",'
                         r'status="\d+"\} (\d+)', body.decode()):
        if m.group(1) == route:
            total += int(m.group(2))
    return total


def healthy(s):
    status, _, body = s.json("GET", "/healthz")
    return status == 200 and body == {"status": "ok"}


def attacker(addr, port):
    """A connection from another loopback address, or None when refused
    at once."""
    a = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    a.bind((addr, 0))
    try:
        a.connect(("127.0.0.1", port))
    except OSError:
        a.close()
        return None
    return a


def closed_now(sock, wait=0.0):
    """True when the server has closed sock (EOF or reset)."""
    r, _, _ = select.select([sock], [], [], wait)
    if not r:
        return False
    try:
        return sock.recv(4096) == b""
    except OSError:
        return True


def no_sanitizer_report(s):
    err = "".join(s.stderr)
    for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
        check(marker not in err, f"sanitizer report in the server's stderr:\n{err[-4000:]}")


# ---------------------------------------------------------------- oversized requests

@test
def oversized_headers_refused(s):
    cases = [
        ("one 100 KB header",
         b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n",
         (431,)),
        ("5000 headers",
         b"GET /healthz HTTP/1.1\r\nHost: x\r\n" +
         b"".join(b"X-H%d: v\r\n" % i for i in range(5000)) + b"\r\n",
         (431,)),
        ("100 KB URL",
         b"GET /healthz?" + b"q" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
         (414,)),
        ("100 KB cookie",
         b"GET /healthz HTTP/1.1\r\nHost: x\r\nCookie: a=" + b"c" * 100_000 + b"\r\n\r\n",
         (431,)),
    ]
    for name, payload, expect in cases:
        reply, closed = exchange(s.port, payload)
        check(statuses(reply)[:1] == list(expect) and closed,
              f"{name}: {reply[:80]!r} closed={closed}")
        check(healthy(s), f"still serving after {name}")


# ---------------------------------------------------------------- endless bodies

def endless_chunked(port, path, cap=20 * 1024 * 1024):
    """POST an endless chunked body; return (bytes sent before the server
    answered or hung up, the reply)."""
    chunk = b"4000\r\n" + b"{" * 0x4000 + b"\r\n"
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        c.sendall(b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n")
        while sent < cap:
            try:
                c.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                return sent, b""
            except socket.timeout:
                break           # the server stopped reading and did not hang up
            sent += 0x4000
            if select.select([c], [], [], 0)[0]:
                try:
                    return sent, c.recv(65536)
                except ConnectionResetError:
                    return sent, b""
    return sent, None


@test
def endless_chunked_body_is_cut(s):
    # Body limits (routes.c): verify 16 KB, login 4 KB. libmicrohttpd 0.9.75
    # cannot queue a response in the middle of a body, so the server hangs up.
    for path in (b"/api/v1/verify", b"/api/v1/login"):
        sent, reply = endless_chunked(s.port, path)
        check(reply is not None, f"{path}: still reading after {sent} bytes")
        check(sent < 20 * 1024 * 1024, f"{path}: read {sent} bytes")
        check(reply == b"" or statuses(reply)[:1] == [413], f"{path}: {reply[:80]!r}")
        check(healthy(s), f"still serving after the endless body to {path}")
        print(f"     {path.decode()}: cut after {sent // 1024} KB sent "
              f"({'413' if reply else 'closed'})", flush=True)


# ---------------------------------------------------------------- smuggling

# A request that, if executed, shows up in /metrics (route /api/v1/keys).
HIDDEN = b"GET /api/v1/keys HTTP/1.1\r\nHost: x\r\n\r\n"
JSON = b"Content-Type: application/json\r\n"


def post(headers, body=HIDDEN, line=b"POST /api/v1/verify HTTP/1.1"):
    return line + b"\r\nHost: x\r\n" + JSON + headers + b"\r\n" + body


def chunk(data):
    return b"%x\r\n" % len(data) + data + b"\r\n0\r\n\r\n"


def smuggle(headers, **kw):
    """post() with HIDDEN after the body the headers frame: by their
    Content-Length (its %d is HIDDEN's length), else after an empty
    chunked body."""
    if b"%d" in headers:
        return post(headers % len(HIDDEN), **kw)
    return post(headers, b"0\r\n\r\n" + HIDDEN, **kw)


# Framing a proxy in front could read differently: refused with 400, and
# the connection is closed so nothing after the headers is read as a request.
REFUSED = [
    ("Transfer-Encoding: xchunked", post(b"Transfer-Encoding: xchunked\r\n")),
    ("Transfer-Encoding: chunked, identity", smuggle(b"Transfer-Encoding: chunked, identity\r\n")),
    ("Transfer-Encoding: identity, chunked", smuggle(b"Transfer-Encoding: identity, chunked\r\n")),
    ("Transfer-Encoding with trailing space", smuggle(b"Transfer-Encoding: chunked \r\n")),
    ("Transfer-Encoding in HTTP/1.0",
     smuggle(b"Transfer-Encoding: chunked\r\n", line=b"POST /api/v1/verify HTTP/1.0")),
    ("two Transfer-Encoding headers",
     smuggle(b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n")),
    ("space before the colon, Content-Length", smuggle(b"Content-Length : %d\r\n")),
    ("space before the colon, Transfer-Encoding", smuggle(b"Transfer-Encoding : chunked\r\n")),
    ("obs-fold hides a Content-Length", smuggle(b"X-Note: a\r\n Content-Length: %d\r\n")),
    ("obs-fold with a tab hides a Transfer-Encoding",
     smuggle(b"X-Note: a\r\n\tTransfer-Encoding: chunked\r\n")),
    ("obs-fold continues the Content-Length value", smuggle(b"Content-Length:\r\n %d\r\n")),
    ("obs-fold continues the Transfer-Encoding value",
     smuggle(b"Transfer-Encoding:\r\n chunked\r\n")),
]

# Framing that is unambiguous: exactly one request, whose body carries the
# hidden one as data (the verify handler then says the body is not JSON).
ONE_REQUEST = [
    ("Content-Length body that looks like a request", smuggle(b"Content-Length: %d\r\n")),
    ("Transfer-Encoding:<tab>chunked", post(b"Transfer-Encoding:\tchunked\r\n", chunk(HIDDEN))),
    ("Transfer-Encoding:  chunked", post(b"Transfer-Encoding:  chunked\r\n", chunk(HIDDEN))),
    ("Transfer-Encoding: CHUNKED", post(b"Transfer-Encoding: CHUNKED\r\n", chunk(HIDDEN))),
    ("bare LF line ends",
     b"POST /api/v1/verify HTTP/1.1\nHost: x\nContent-Type: application/json\n"
     b"Content-Length: %d\n\n" % len(HIDDEN) + HIDDEN),
    ("GET with a Content-Length body",
     b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(HIDDEN) + HIDDEN),
]


@test
def smuggled_requests_not_executed(s):
    before = counter(s, "/api/v1/keys")
    for name, payload in REFUSED:
        reply, closed = exchange(s.port, payload)
        check(statuses(reply) == [400] and b'"error":"bad_request"' in reply and closed,
              f"{name}: not refused with one 400 and a close: {reply[:300]!r} closed={closed}")
    for name, payload in ONE_REQUEST:
        reply, _ = exchange(s.port, payload, wait=1.5)
        check(len(statuses(reply)) == 1, f"{name}: {len(statuses(reply))} responses: {reply[:300]!r}")
        if payload.startswith(b"POST"):
            check(statuses(reply) == [400] and b'"error":"invalid_json"' in reply,
                  f"{name}: the body was not read as the body: {reply[:300]!r}")
    check(counter(s, "/api/v1/keys") == before, "a hidden request was executed")
    # The control: sent in the open, the same request is executed and counted.
    reply, _ = exchange(s.port, HIDDEN, wait=1.5)
    check(statuses(reply) == [200] and counter(s, "/api/v1/keys") == before + 1,
          f"the hidden request in the open: {reply[:100]!r}")


@test
def alive_and_clean_after_abuse(s):
    check(s.proc.poll() is None, "the server died:\n" + "".join(s.stderr)[-3000:])
    check(healthy(s), "/healthz")
    no_sanitizer_report(s)


# ---------------------------------------------------------------- slowloris

def trickle(socks, stop, first=b"GET /healthz HTTP/1.1\r\nX-Slow: "):
    """Send each socket a request line, then one header byte a second,
    never ending the headers."""
    for a in socks:
        try:
            a.sendall(first)
        except OSError:
            pass
    while not stop.wait(1.0):
        for a in socks:
            try:
                a.send(b"a")
            except OSError:
                pass


def slowloris(_):
    timeout = 3     # seconds of silence before a connection is closed
    p = Server(args=["--quiet", "--connection-timeout", str(timeout)])
    socks, stop = [], threading.Event()
    try:
        # 250 connections from one address: the per-address limit cuts 50.
        one = [attacker("127.0.0.2", p.port) for _ in range(PER_IP_LIMIT + 50)]
        # 300 more from three other addresses, under their limits.
        many = [attacker(f"127.0.0.{3 + i % 3}", p.port) for i in range(300)]
        socks = [a for a in one + many if a]
        t = threading.Thread(target=trickle, args=(socks, stop), daemon=True)
        t.start()
        time.sleep(1.0)
        refused = sum(1 for a in one if a is None or closed_now(a))
        kept = len(one) - refused
        check(kept == PER_IP_LIMIT, f"127.0.0.2 kept {kept} connections (limit {PER_IP_LIMIT})")
        check(not any(closed_now(a) for a in many if a), "an attacker under its limit was cut")

        # The honest client is answered while ~500 connections trickle.
        worst = 0.0
        for _ in range(20):
            t0 = time.monotonic()
            check(healthy(p), "/healthz during the attack")
            worst = max(worst, time.monotonic() - t0)
        check(worst < 5, f"an honest request took {worst:.1f} s during the attack")
        status, _, body = p.json("POST", "/api/v1/verify", {"token": "x"})
        check(status == 400, f"verify during the attack: {status} {body}")
        print(f"     honest client: worst of 20 requests {worst * 1000:.0f} ms "
              f"with {len(socks) - refused} stalled connections", flush=True)

        # Stalled connections (no byte sent any more) are closed after the
        # connection timeout.
        stop.set()
        t.join()
        alive = [a for a in socks if not closed_now(a)]
        t0 = time.monotonic()
        deadline = t0 + timeout + 10
        while alive and time.monotonic() < deadline:
            r, _, _ = select.select(alive, [], [], 1.0)
            for a in r:
                if closed_now(a):
                    alive.remove(a)
        waited = time.monotonic() - t0
        check(not alive, f"{len(alive)} stalled connections still open after {waited:.0f} s "
              f"(timeout {timeout} s)")
        print(f"     stalled connections closed {waited:.1f} s after their last byte "
              f"(timeout {timeout} s)", flush=True)
        check(healthy(p), "/healthz after the attack")
        check(p.stop() == 0, "clean stop:\n" + "".join(p.stderr)[-3000:])
        no_sanitizer_report(p)
    finally:
        stop.set()
        for a in socks:
            a.close()
        if p.proc.poll() is None:
            p.proc.kill()
            p.proc.wait()
        shutil.rmtree(p.data, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(harness.run_tests(os.path.abspath(sys.argv[1]), [
        ("slowloris", slowloris),
    ]))
