#!/usr/bin/env python3
"""TLS served by civicard itself (--tls-cert/--tls-key: libmicrohttpd with
GnuTLS): TLS 1.3 and 1.2 work, 1.1 and 1.0 are refused by the server (the
same client succeeds against a control server that allows them), plain
HTTP on the TLS port does no harm, and bad certificate or key files stop
`serve` at start with a message naming the file.

usage: test_tls.py path/to/civicard
Needs openssl and curl (scripts/install-deps --test)."""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import harness
from harness import check

OLD = "DEFAULT@SECLEVEL=0"      # lets OpenSSL 3 offer TLS 1.0/1.1 at all


def close(server):
    """Kill the server if it still runs; remove its data folder."""
    if server.proc.poll() is None:
        server.proc.kill()
        server.proc.wait()
    shutil.rmtree(server.data, ignore_errors=True)


def make_cert(folder, name):
    """A self-signed P-256 certificate for 127.0.0.1; returns (cert, key)."""
    cert, key = os.path.join(folder, name + ".pem"), os.path.join(folder, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                    "-subj", "/CN=civicard test", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert],
                   check=True, capture_output=True, timeout=60)
    os.chmod(key, 0o600)
    return cert, key


def curl(port, cert, *args):
    """GET /healthz with curl; returns (exit status, body, verbose log)."""
    r = subprocess.run(["curl", "-sS", "-v", "--max-time", "10", "--cacert", cert, *args,
                        f"https://127.0.0.1:{port}/healthz"],
                       capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout, r.stderr


def s_client(port, version):
    """An OpenSSL handshake offering only `version` (-tls1, -tls1_1, ...).
    Returns the protocol agreed, or None when the handshake failed."""
    r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", version,
                        "-cipher", OLD, "-brief"],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    m = re.search(r"Protocol version: (\S+)", r.stdout + r.stderr)
    return m.group(1) if r.returncode == 0 and m else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- tests

def modern_versions(tls, cert):
    for args, version in ((["--tlsv1.3"], "TLSv1.3"), (["--tlsv1.2", "--tls-max", "1.2"], "TLSv1.2")):
        code, body, log = curl(tls.port, cert, *args)
        check(code == 0 and body == '{"status":"ok"}', f"{version}: curl {code}: {log[-800:]}")
        check(f"SSL connection using {version}" in log, f"{version} not used: {log[-800:]}")
        check(re.search(r"< strict-transport-security: max-age=\d+", log, re.I),
              f"{version}: no HSTS header")


def old_versions_refused(tls, cert, key):
    # The control: the same client and certificate, a server that allows
    # the old versions. The handshake works there, so the refusal below is
    # civicard's and not the client's own.
    port = free_port()
    control = subprocess.Popen(
        ["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", cert, "-key", key,
         "-min_protocol", "TLSv1", "-cipher", OLD, "-www"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        for flag, version in (("-tls1_1", "TLSv1.1"), ("-tls1", "TLSv1")):
            check(s_client(port, flag) == version, f"control server: {version} handshake failed")
            agreed = s_client(tls.port, flag)
            check(agreed is None, f"civicard accepted {agreed}")
        check(s_client(tls.port, "-tls1_2") == "TLSv1.2", "the same client with TLS 1.2")
    finally:
        control.kill()
        control.wait()


def plain_http_on_tls_port(tls, cert):
    with socket.create_connection(("127.0.0.1", tls.port), timeout=10) as c:
        c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        reply = b""
        try:
            while True:
                chunk = c.recv(4096)
                if not chunk:
                    break
                reply += chunk
        except (ConnectionResetError, socket.timeout):
            pass
    check(b"status" not in reply and not reply.startswith(b"HTTP/1.1 200"),
          f"answered plain HTTP: {reply[:80]!r}")
    # Half a ClientHello, then silence: the server must not wait on it forever
    # in a way that blocks others.
    with socket.create_connection(("127.0.0.1", tls.port), timeout=10) as c:
        c.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
        code, body, log = curl(tls.port, cert)
        check(code == 0 and body == '{"status":"ok"}', f"healthz beside a stalled handshake: {log[-800:]}")


def bad_files_stop_serve(folder, cert, key, other_key):
    missing = os.path.join(folder, "missing.pem")
    cases = [
        ("missing certificate", missing, key, ["cannot read the TLS certificate", missing]),
        ("missing key", cert, missing, ["cannot read the TLS key", missing]),
        ("a key given as the certificate", key, key, ["TLS"]),
        ("a key that does not match", cert, other_key, ["do not match"]),
    ]
    open_key = os.path.join(folder, "open.key")
    shutil.copy(key, open_key)
    os.chmod(open_key, 0o644)
    cases.append(("a key other users can read", cert, open_key, ["open to other users", open_key]))
    data = tempfile.mkdtemp(prefix="civicard-tls-bad-")
    try:
        for name, c, k, words in cases:
            r = subprocess.run([harness.BINARY, "serve", "--data", data, "--listen", "127.0.0.1:0",
                                "--tls-cert", c, "--tls-key", k],
                               capture_output=True, text=True, timeout=60)
            check(r.returncode == 1, f"{name}: exit status {r.returncode}\n{r.stderr[-1500:]}")
            check("listening on" not in r.stdout, f"{name}: it served")
            for w in words:
                check(w in r.stderr, f"{name}: {w!r} not in the message:\n{r.stderr[-1500:]}")
        # `check` says so before a restart does.
        conf = os.path.join(folder, "open.conf")
        with open(conf, "w") as f:
            f.write(f"tls_cert = {cert}\ntls_key = {open_key}\n")
        os.chmod(conf, 0o600)
        r = subprocess.run([harness.BINARY, "check", "--config", conf, "--data", data],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 1 and f"TLS key \"{open_key}\" is open to other users" in r.stderr,
              f"check with an open key: {r.returncode} {r.stdout} {r.stderr}")
    finally:
        shutil.rmtree(data, ignore_errors=True)


def alive_clean_stop(tls, cert):
    code, body, log = curl(tls.port, cert)
    check(code == 0 and body == '{"status":"ok"}', f"healthz at the end: {log[-800:]}")
    check(tls.stop() == 0, "exit status after SIGTERM:\n" + "".join(tls.stderr)[-3000:])
    err = "".join(tls.stderr)
    for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
        check(marker not in err, f"sanitizer report:\n{err[-4000:]}")


if __name__ == "__main__":
    harness.BINARY = os.path.abspath(sys.argv[1])
    folder = tempfile.mkdtemp(prefix="civicard-tls-certs-")
    tls = None
    try:
        cert, key = make_cert(folder, "server")
        _, other_key = make_cert(folder, "other")
        # harness.Server on https://127.0.0.1:PORT, its own data folder.
        tls = harness.Server(args=["--tls-cert", cert, "--tls-key", key])
        status = harness.run_tests(harness.BINARY, [
            ("tls13_and_tls12_work", lambda _: modern_versions(tls, cert)),
            ("tls11_and_tls10_refused", lambda _: old_versions_refused(tls, cert, key)),
            ("plain_http_on_the_tls_port", lambda _: plain_http_on_tls_port(tls, cert)),
            ("bad_certificate_or_key_stops_serve",
             lambda _: bad_files_stop_serve(folder, cert, key, other_key)),
            ("tls_server_alive_then_stops_cleanly", lambda _: alive_clean_stop(tls, cert)),
        ])
    finally:
        if tls:
            close(tls)
        shutil.rmtree(folder, ignore_errors=True)
    sys.exit(status)
