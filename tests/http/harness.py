"""Shared by the black-box tests: start the real `civicard serve` on a
loopback port with a temporary data folder, and speak HTTP to it."""

import http.client
import json
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import signal

BINARY = None   # set by run_tests()


class Server:
    """One `civicard serve` with its own data folder."""

    def __init__(self, data=None, args=()):
        self.data = data or tempfile.mkdtemp(prefix="civicard-http-")
        self.stderr = []
        self.admin_password = None
        self.proc = subprocess.Popen(
            [BINARY, "serve", "--data", self.data, "--listen", "127.0.0.1:0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        deadline = time.time() + 30
        self.port = None
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            m = re.search(r"one-time password: (\S+)", line)
            if m:
                self.admin_password = m.group(1)
            m = re.search(r"listening on https?://127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                break
        if not self.port:
            self.proc.kill()
            raise RuntimeError("server did not start:\n" + "".join(self.stderr))
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    def _drain_stderr(self):
        for line in self.proc.stderr:
            self.stderr.append(line)

    def request(self, method, path, body=None, headers=None, timeout=30):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return r.status, r.headers, data

    def json(self, method, path, body=None, token=None, headers=None):
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        if body is not None:
            h.setdefault("Content-Type", "application/json")
        status, hdrs, data = self.request(method, path, body, h)
        try:
            parsed = json.loads(data) if data else None
        except ValueError:
            parsed = None
        return status, hdrs, parsed

    def login(self, username, password):
        return self.json("POST", "/api/v1/login", {"username": username, "password": password})

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout=60)

    def cli(self, *args, stdin=""):
        return subprocess.run([BINARY, *args, "--data", self.data], input=stdin,
                              capture_output=True, text=True, timeout=60)


def raw(port, payload, timeout=10):
    """Send bytes as they are; return the whole reply."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(payload)
        chunks = []
        try:
            while True:
                c = s.recv(65536)
                if not c:
                    break
                chunks.append(c)
        except socket.timeout:
            pass
    return b"".join(chunks)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def run_tests(binary, extra=()):
    """Run every @test against one server, then each callable in extra
    (name, fn) on its own; print one line per test and the closing line."""
    global BINARY
    BINARY = binary
    passed = failed = 0

    def run(name, fn, *args):
        nonlocal passed, failed
        try:
            fn(*args)
            print(f"ok   {name}", flush=True)
            passed += 1
        except Exception:
            print(f"FAIL {name}", flush=True)
            traceback.print_exc()
            failed += 1

    s = Server()
    try:
        for fn in TESTS:
            run(fn.__name__, fn, s)
        for name, fn in extra:
            run(name, fn, s)
        if s.proc.poll() is None:
            # A clean stop, so the sanitizer build checks the server for
            # leaks and errors at exit too.
            run("server_stops_cleanly", lambda: check(
                s.stop() == 0, "exit status after SIGTERM:\n" + "".join(s.stderr)[-3000:]))
    finally:
        if s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()
        import shutil
        shutil.rmtree(s.data, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0
