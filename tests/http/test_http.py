#!/usr/bin/env python3
"""Black-box tests of the service skeleton: health, errors, security
headers, staff log-in (API and web), limits, metrics, shutdown, check.

usage: test_http.py path/to/civicard"""

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import harness
from harness import Server, check, raw, test

CLERK_PASSWORD = "clerk password 1"        # invented for the tests
ADMIN_NEW_PASSWORD = "admin's new password"


# ---------------------------------------------------------------- tests

@test
def health(s):
    status, hdrs, body = s.json("GET", "/healthz")
    check(status == 200 and body == {"status": "ok"}, f"healthz: {status} {body}")
    check(hdrs["Content-Type"].startswith("application/json"), "healthz content type")
    status, _, data = s.request("HEAD", "/healthz")
    check(status == 200 and data == b"", "HEAD /healthz")


@test
def security_headers_everywhere(s):
    for method, path in [("GET", "/healthz"), ("GET", "/api/v1/nope"), ("GET", "/login"),
                         ("POST", "/api/v1/login"), ("GET", "/static/style.css")]:
        _, h, _ = s.request(method, path)
        csp = h.get("Content-Security-Policy", "")
        check("default-src 'none'" in csp, f"{path}: CSP default-src: {csp}")
        check("script-src 'self'" in csp and "unsafe-inline" not in csp, f"{path}: CSP script-src")
        check("frame-ancestors 'none'" in csp, f"{path}: frame-ancestors")
        check("http" not in csp.replace("'self'", ""), f"{path}: no third-party origin in CSP")
        check(h.get("X-Content-Type-Options") == "nosniff", f"{path}: nosniff")
        check(h.get("Referrer-Policy") == "no-referrer", f"{path}: referrer policy")


@test
def not_found_and_wrong_method_are_json(s):
    for path in ["/api/v1/nope", "/nope", "/api/v1/cards/../../etc/passwd"]:
        status, h, body = s.json("GET", path)
        check(status == 404, f"{path}: {status}")
        check(body and body.get("error") == "not_found" and body.get("message"), f"{path}: {body}")
    status, h, body = s.json("GET", "/api/v1/login")
    check(status == 405 and body["error"] == "method_not_allowed", f"405: {status} {body}")
    check(h.get("Allow") == "POST", f"Allow: {h.get('Allow')}")
    status, h, body = s.json("DELETE", "/healthz")
    check(status == 405 and "GET" in h.get("Allow", ""), "DELETE /healthz")


@test
def login_failure_is_401(s):
    status, _, body = s.login("admin", "not the password")
    check(status == 401 and body["error"] == "invalid_credentials", f"wrong password: {status} {body}")
    status, _, body = s.login("nobody-here", "whatever it is")
    check(status == 401 and body["error"] == "invalid_credentials", f"unknown user: {status} {body}")


@test
def no_token_is_401(s):
    status, h, body = s.json("GET", "/api/v1/me")
    check(status == 401 and body["error"] == "unauthorized", f"no token: {status} {body}")
    check(h.get("WWW-Authenticate") == "Bearer", "WWW-Authenticate")
    status, _, body = s.json("GET", "/api/v1/me", token="A" * 43)
    check(status == 401, f"forged token: {status}")
    status, _, body = s.json("POST", "/api/v1/logout", token="garbage")
    check(status == 401, f"logout without a session: {status}")


@test
def first_admin_must_change_password(s):
    check(s.admin_password, "the first start printed a one-time admin password")
    status, _, body = s.login("admin", s.admin_password)
    check(status == 200, f"admin login: {status} {body}")
    check(body["role"] == "admin" and body["must_change_password"] is True, f"login body: {body}")
    check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["expires_at"]), "expires_at")
    token = body["token"]
    status, _, me = s.json("GET", "/api/v1/me", token=token)
    check(status == 200 and me["username"] == "admin" and me["must_change_password"], f"me: {me}")
    status, _, body = s.json("POST", "/api/v1/password",
                             {"current_password": s.admin_password, "new_password": "short"}, token)
    check(status == 400 and body["error"] == "invalid_field" and body["field"] == "new_password",
          f"weak password: {status} {body}")
    status, _, body = s.json("POST", "/api/v1/password",
                             {"current_password": "wrong one!", "new_password": ADMIN_NEW_PASSWORD}, token)
    check(status == 401, f"wrong current password: {status} {body}")
    status, _, body = s.json("POST", "/api/v1/password",
                             {"current_password": s.admin_password, "new_password": ADMIN_NEW_PASSWORD}, token)
    check(status == 200, f"change password: {status} {body}")
    status, _, me = s.json("GET", "/api/v1/me", token=token)
    check(status == 200 and me["must_change_password"] is False, "flag cleared")
    check(s.login("admin", s.admin_password)[0] == 401, "the one-time password is spent")
    status, _, body = s.login("admin", ADMIN_NEW_PASSWORD)
    check(status == 200 and body["must_change_password"] is False, "new password works")


@test
def clerk_account_token_and_logout(s):
    r = s.cli("user", "add", "clerk1", "--role", "clerk", stdin=CLERK_PASSWORD + "\n")
    check(r.returncode == 0, f"user add: {r.returncode} {r.stderr}")
    r = s.cli("user", "add", "clerk1", "--role", "clerk", stdin=CLERK_PASSWORD + "\n")
    check(r.returncode == 1 and "already exists" in r.stderr, f"duplicate user: {r.returncode} {r.stderr}")
    r = s.cli("user", "add", "clerk2", "--role", "mayor", stdin=CLERK_PASSWORD + "\n")
    check(r.returncode == 2, f"bad role is a usage error: {r.returncode}")
    r = s.cli("user", "add", "clerk3", "--role", "clerk", stdin="short\n")
    check(r.returncode == 1, f"weak password refused: {r.returncode}")
    status, _, body = s.login("clerk1", CLERK_PASSWORD)
    check(status == 200 and body["role"] == "clerk" and body["must_change_password"] is False,
          f"clerk login: {status} {body}")
    token = body["token"]
    status, _, me = s.json("GET", "/api/v1/me", token=token)
    check(status == 200 and me["role"] == "clerk", f"me: {me}")
    status, _, _ = s.json("GET", "/metrics", token=token, headers={"X-Forwarded-For": "8.8.8.8"})
    check(status == 200, "metrics from loopback")  # loopback wins, whatever the header says
    status, _, body = s.json("POST", "/api/v1/logout", token=token)
    check(status == 200, f"logout: {status} {body}")
    status, _, _ = s.json("GET", "/api/v1/me", token=token)
    check(status == 401, "token dead after logout")


@test
def oversized_body_is_413(s):
    big = b'{"username":"' + b"a" * (2 * 1024 * 1024) + b'","password":"x"}'
    status, _, body = s.json("POST", "/api/v1/login", big)
    check(status == 413 and body["error"] == "payload_too_large", f"2 MB body: {status} {body}")
    # Without Content-Length (chunked), the server hangs up rather than read on.
    payload = (b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
               b"".join(b"10000\r\n" + b"a" * 0x10000 + b"\r\n" for _ in range(40)) + b"0\r\n\r\n")
    try:
        reply = raw(s.port, payload)
        check(not reply.startswith(b"HTTP/1.1 200"), "chunked 2.5 MB body not accepted")
    except (ConnectionResetError, BrokenPipeError):
        pass
    check(s.json("GET", "/healthz")[0] == 200, "still serving")


@test
def malformed_json_is_400(s):
    cases = [
        (b'{"username": "admin", "password": ', "invalid_json"),
        (b"[1, 2]", "invalid_json"),
        (b"", "invalid_json"),
        (b'{"username":"a","username":"b","password":"c"}', "invalid_json"),
        (b'{"username": "admin", "password": "x", "nationality": "x"}', "unknown_field"),
        (b'{"username": "admin"}', "invalid_field"),
        (b'{"username": 12, "password": "x"}', "invalid_field"),
        (b'{"username": "a\\u0000b", "password": "x"}', "invalid_json"),
        (b'{"username": "\xff\xfe", "password": "x"}', "invalid_json"),
    ]
    for raw_body, code in cases:
        status, _, body = s.json("POST", "/api/v1/login", raw_body)
        check(status == 400 and body and body["error"] == code, f"{raw_body[:40]!r}: {status} {body}")
    status, _, body = s.json("POST", "/api/v1/login", b'{"username":"x","password":"y","immigration_status":"z"}')
    check(body.get("field") == "immigration_status", "unknown_field names the field")


@test
def api_refuses_other_web_sites(s):
    """A page on another site can make a browser POST text/plain 'JSON'
    without a preflight; the browser labels it, and the API says no."""
    body = json.dumps({"username": "nobody", "password": "wrong password"})
    for site in ("cross-site", "same-site"):
        status, _, r = s.json("POST", "/api/v1/login", body,
                              headers={"Content-Type": "text/plain", "Sec-Fetch-Site": site})
        check(status == 403 and r["error"] == "cross_site", f"{site}: {status} {r}")
    # The same request from the service's own pages, or from curl.
    for h in ({"Sec-Fetch-Site": "same-origin"}, {}):
        status, _, r = s.json("POST", "/api/v1/login", body, headers=h)
        check(status == 401, f"{h}: {status} {r}")
    # Reading stays open: verification pages on other sites may fetch keys.
    status, _, _ = s.json("GET", "/api/v1/keys", headers={"Sec-Fetch-Site": "cross-site"})
    check(status == 200, f"GET keys cross-site: {status}")


@test
def duplicate_content_length_is_400(s):
    body = b'{"username":"admin","password":"x"}'
    req = (b"POST /api/v1/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
           b"Content-Length: %d\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % (len(body), len(body))) + body
    reply = raw(s.port, req)
    check(reply.startswith(b"HTTP/1.1 400"), f"duplicate Content-Length: {reply[:60]!r}")
    req = (b"POST /api/v1/login HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
           b"Content-Length: 4\r\nConnection: close\r\n\r\n0\r\n\r\n")
    reply = raw(s.port, req)
    check(reply.startswith(b"HTTP/1.1 400"), f"Content-Length with chunked: {reply[:60]!r}")


@test
def login_throttled_per_account(s):
    r = s.cli("user", "add", "target", "--role", "auditor", stdin="the real password\n")
    check(r.returncode == 0, "user add")
    for i in range(5):
        status, _, _ = s.login("target", f"guess number {i}")
        check(status == 401, f"guess {i}: {status}")
    status, h, body = s.login("target", "the real password")
    check(status == 429 and body["error"] == "too_many_attempts", f"locked: {status} {body}")
    check(int(h["Retry-After"]) > 0, "Retry-After")
    # Other accounts are not affected.
    check(s.login("clerk1", CLERK_PASSWORD)[0] == 200, "another account still logs in")


@test
def auditor_reads_the_audit_log(s):
    r = s.cli("user", "add", "auditor1", "--role", "auditor", stdin="auditor password 1\n")
    check(r.returncode == 0, "user add auditor")
    tok = s.login("auditor1", "auditor password 1")[2]["token"]
    status, _, body = s.json("GET", "/api/v1/audit?limit=500", token=tok)
    check(status == 200 and body["chain"] == "intact", f"audit: {status} {body.get('chain')}")
    actions = {e["action"] for e in body["entries"]}
    check({"user.create", "login", "login.failed"} <= actions, f"actions: {actions}")
    ids = [e["id"] for e in body["entries"]]
    check(ids == sorted(ids, reverse=True), "newest first")
    older = s.json("GET", f"/api/v1/audit?before={ids[0]}&limit=1", token=tok)[2]["entries"]
    check([e["id"] for e in older] == [ids[1]], "paging with before")
    clerk = s.login("clerk1", CLERK_PASSWORD)[2]["token"]
    check(s.json("GET", "/api/v1/audit", token=clerk)[0] == 403, "clerks cannot read it")
    check(s.json("GET", "/api/v1/audit?limit=0", token=tok)[0] == 400, "bad limit")


@test
def metrics_prometheus(s):
    s.request("GET", "/healthz")
    status, h, data = s.request("GET", "/metrics")
    text = data.decode()
    check(status == 200 and h["Content-Type"].startswith("text/plain"), f"metrics: {status}")
    check(re.search(r'civicard_http_requests_total\{method="GET",route="/healthz",status="200"\} \d+', text),
          "request counter by route and status")
    check('civicard_http_request_duration_seconds_bucket{method="POST",route="/api/v1/login",le="+Inf"}' in text,
          "latency histogram")
    check("clerk1" not in text and "admin" not in text, "no names in metrics")


@test
def static_files_cached(s):
    status, h, data = s.request("GET", "/static/style.css")
    check(status == 200 and h["Content-Type"].startswith("text/css") and len(data) > 100, "style.css")
    check("max-age" in h["Cache-Control"] and h.get("ETag"), "caching headers")
    status, _, data = s.request("GET", "/static/style.css", headers={"If-None-Match": h["ETag"]})
    check(status == 304 and data == b"", f"304: {status}")
    check(s.request("GET", "/static/nope.css")[0] == 404, "missing static file")


def cookies_of(headers):
    jar = {}
    for v in headers.get_all("Set-Cookie") or []:
        name, _, rest = v.partition("=")
        jar[name] = (rest.split(";")[0], v)
    return jar


@test
def web_login_with_csrf(s):
    html = {"Accept": "text/html"}
    status, h, data = s.request("GET", "/login", headers=html)
    page = data.decode()
    check(status == 200 and h["Content-Type"].startswith("text/html"), f"login page: {status}")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    check(csrf, "login form carries a CSRF token")
    jar = cookies_of(h)
    check("civicard_login" in jar and "HttpOnly" in jar["civicard_login"][1], "pre-login cookie")
    pre = jar["civicard_login"][0]
    form = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": "civicard_login=" + pre}

    # Without the token, or with another one: refused, nobody logged in.
    status, h, _ = s.request("POST", "/login", f"username=clerk1&password={CLERK_PASSWORD.replace(' ', '+')}", form)
    check(status == 303 and "expired" in h["Location"], f"no CSRF: {status}")
    check("civicard_session" not in cookies_of(h), "no session without CSRF")

    body = f"username=clerk1&password=wrong+one&csrf={csrf.group(1)}"
    status, h, data = s.request("POST", "/login", body, form)
    check(status == 401 and "civicard_session" not in cookies_of(h), f"wrong password: {status}")

    body = f"username=clerk1&password={CLERK_PASSWORD.replace(' ', '+')}&csrf={csrf.group(1)}"
    status, h, _ = s.request("POST", "/login", body, form)
    check(status == 303 and h["Location"] == "/dashboard", f"login: {status} {h.get('Location')}")
    jar = cookies_of(h)
    check("civicard_session" in jar, "session cookie set")
    attrs = jar["civicard_session"][1]
    check("HttpOnly" in attrs and "SameSite=Strict" in attrs, f"cookie attributes: {attrs}")
    session = "civicard_session=" + jar["civicard_session"][0]

    status, _, data = s.request("GET", "/dashboard", headers={"Cookie": session, **html})
    page = data.decode()
    check(status == 200 and "clerk1" in page, f"dashboard: {status}")
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    check(token, "dashboard logout form has a CSRF token")

    # Logout without the token is refused; with it, the session ends.
    status, _, _ = s.request("POST", "/logout", "", {"Cookie": session, **html,
                                                    "Content-Type": "application/x-www-form-urlencoded"})
    check(status == 403, f"logout without CSRF: {status}")
    status, h, _ = s.request("POST", "/logout", "csrf=" + token.group(1),
                             {"Cookie": session, "Content-Type": "application/x-www-form-urlencoded"})
    check(status == 303 and h["Location"] == "/login", f"logout: {status}")
    status, h, _ = s.request("GET", "/dashboard", headers={"Cookie": session})
    check(status == 303 and h["Location"] == "/login", "session ended")


@test
def web_pages_in_french_and_english(s):
    _, _, en = s.request("GET", "/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    _, _, fr = s.request("GET", "/login", headers={"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.5"})
    check(b'lang="en"' in en and b'lang="fr"' in fr, "language from Accept-Language")
    check(en != fr, "the French page differs from the English one")
    status, h, fr2 = s.request("GET", "/login?lang=fr", headers={"Accept-Language": "en"})
    check(b'lang="fr"' in fr2 and "lang=fr" in h.get("Set-Cookie", ""), "language switch remembered")


@test
def web_first_login_goes_to_password_change(s):
    r = s.cli("user", "add", "temp-admin", "--role", "admin", stdin="temporary pass\n")
    check(r.returncode == 0, "user add")
    # An account created from the CLI logs straight in; the bootstrap admin
    # is covered by the API test. Check the page needs a session.
    status, h, _ = s.request("GET", "/password")
    check(status == 303 and h["Location"] == "/login", "password page needs a session")


@test
def argon2_does_not_stall_other_requests(s):
    # Eight log-ins at once keep the workers busy; health stays quick.
    threads = [threading.Thread(target=s.login, args=("clerk1", "wrong password x")) for _ in range(8)]
    for t in threads:
        t.start()
    t0 = time.time()
    status, _, _ = s.json("GET", "/healthz")
    elapsed = time.time() - t0
    for t in threads:
        t.join()
    check(status == 200, "health answered during log-ins")
    print(f"    (health answered in {elapsed * 1000:.1f} ms during 8 concurrent log-ins)")


@test
def check_command(s):
    r = s.cli("check")
    check(r.returncode == 0 and "audit log: ok" in r.stdout, f"check: {r.returncode} {r.stdout} {r.stderr}")
    r = subprocess.run([harness.BINARY, "bogus"], capture_output=True, text=True)
    check(r.returncode == 2, "unknown command is a usage error")
    r = subprocess.run([harness.BINARY, "purge", "--data", s.data], capture_output=True, text=True)
    check(r.returncode == 2, "purge without a mode is a usage error")
    r = subprocess.run([harness.BINARY, "check", "--data", s.data + "-missing"], capture_output=True, text=True)
    check(r.returncode == 1 and r.stderr.count("\n") == 1, "check on a missing folder: one line")


@test
def timezone_must_be_a_zone(s):
    """A folder or a table under /usr/share/zoneinfo would silently mean
    UTC, and dates on cards a day off around midnight."""
    for bad in ("America", "zone.tab", "../../etc/passwd", "Nowhere/Atall"):
        r = subprocess.run([harness.BINARY, "serve", "--timezone", bad, "--data", s.data + "-tz"],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 2 and "--timezone" in r.stderr, f"{bad}: {r.returncode} {r.stderr}")
    check(not os.path.exists(s.data + "-tz"), "nothing was created")
    conf = s.data + "-tz.conf"
    try:
        for zone, ok in (("America/Montreal", True), ("America", False)):
            with open(conf, "w") as f:
                f.write(f"timezone = {zone}\n")
            r = subprocess.run([harness.BINARY, "config", "--config", conf],
                               capture_output=True, text=True, timeout=30)
            if ok:
                check(r.returncode == 0 and re.search(rf"^timezone = {zone}$", r.stdout, re.M),
                      f"{zone} accepted: {r.returncode} {r.stderr}")
            else:
                check(r.returncode != 0 and ":1: timezone:" in r.stderr,
                      f"{zone} refused with the line: {r.returncode} {r.stderr}")
    finally:
        os.unlink(conf)


@test
def server_is_sandboxed(s):
    """Once serving, the process may not gain privileges, its system calls
    are filtered, and (with Landlock) it says its files are confined."""
    with open(f"/proc/{s.proc.pid}/status") as f:
        status = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
    check(status.get("NoNewPrivs") == "1", f"NoNewPrivs: {status.get('NoNewPrivs')}")
    with open("/proc/self/status") as f:
        kernel_has_seccomp = any(line.startswith("Seccomp:") for line in f)
    if kernel_has_seccomp:
        check(status.get("Seccomp") == "2", f"Seccomp mode: {status.get('Seccomp')} (2 = filter)")
    log = "".join(s.stderr)
    check("sandbox: files only in the data folder" in log or "has no Landlock" in log,
          "the log says how far the sandbox goes")


@test
def no_secrets_in_logs(s):
    log = "".join(s.stderr)
    for secret in [CLERK_PASSWORD, ADMIN_NEW_PASSWORD, s.admin_password, "the real password"]:
        check(secret not in log, "a password reached the log")
    check(re.search(r"POST /api/v1/login 200", log), "access log names the route")


def sigterm_finishes_in_flight():
    """A log-in in flight when SIGTERM arrives still gets its answer."""
    s = Server()
    try:
        result = {}

        def slow_login():
            result["r"] = s.login("admin", s.admin_password)

        threads = [threading.Thread(target=slow_login) for _ in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.05)
        s.proc.send_signal(signal.SIGTERM)
        for t in threads:
            t.join(30)
        code = s.proc.wait(timeout=60)
        check(code == 0, f"exit status after SIGTERM: {code}\n{''.join(s.stderr)[-2000:]}")
        check(result.get("r", (0,))[0] == 200, f"in-flight log-in answered: {result.get('r')}")
        return s
    finally:
        if s.proc.poll() is None:
            s.proc.kill()


def tampered_audit_log_detected(data):
    db = sqlite3.connect(os.path.join(data, "civicard.db"))
    db.execute("DROP TRIGGER audit_log_no_update")
    db.execute("UPDATE audit_log SET actor = 'mallory' WHERE id = 2")
    db.commit()
    db.close()
    r = subprocess.run([harness.BINARY, "check", "--data", data], capture_output=True, text=True)
    check(r.returncode == 1 and "entry 2" in r.stderr, f"tampered chain: {r.returncode} {r.stderr}")


def behind_a_trusted_proxy(_):
    """With --trusted-proxy, the client is the address the proxy forwarded:
    loopback no longer opens /metrics, and an https public URL makes the
    cookies Secure."""
    p = Server(args=("--trusted-proxy", "127.0.0.1", "--public-url", "https://id.example.org"))
    try:
        status, _, _ = p.json("GET", "/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
        check(status == 401, f"/metrics for a forwarded outside client: {status}")
        status, _, _ = p.json("GET", "/metrics", headers={"X-Forwarded-For": "8.8.8.8, 127.0.0.1"})
        check(status == 200, f"the proxy's own last hop is loopback: {status}")
        _, h, _ = p.request("GET", "/login")
        check("Secure" in h.get("Set-Cookie", ""), "Secure cookie behind an https terminator")
    finally:
        check(p.stop() == 0, "clean stop:\n" + "".join(p.stderr)[-3000:])
        shutil.rmtree(p.data, ignore_errors=True)


def cut_audit_tail_detected_by_anchor(data):
    """The chain proves order and content, not length: cutting entries off
    its end leaves it intact. An anchor written down earlier catches it."""
    def run(*args):
        return subprocess.run([harness.BINARY, "check", "--data", data, *args],
                              capture_output=True, text=True)
    r = run()
    m = re.search(r"^audit anchor: (\d+):([0-9a-f]{64})$", r.stdout, re.M)
    check(r.returncode == 0 and m, f"check prints an anchor: {r.stdout} {r.stderr}")
    anchor = f"{m.group(1)}:{m.group(2)}"
    r = run("--audit-anchor", anchor)
    check(r.returncode == 0 and "anchor still there" in r.stdout, f"anchor holds: {r.stdout} {r.stderr}")
    r = run("--audit-anchor", f"{m.group(1)}:{'0' * 64}")
    check(r.returncode == 1 and "not the one anchored" in r.stderr, f"a wrong anchor: {r.stderr}")
    r = run("--audit-anchor", "twelve")
    check(r.returncode == 2, "a malformed anchor is a usage error")
    db = sqlite3.connect(os.path.join(data, "civicard.db"))
    db.execute("DROP TRIGGER audit_log_no_delete")
    db.execute("DELETE FROM audit_log WHERE id >= ?", (int(m.group(1)) - 1,))
    db.commit()
    db.close()
    r = run()
    check(r.returncode == 0, f"without the anchor the cut chain looks intact: {r.stderr}")
    r = run("--audit-anchor", anchor)
    check(r.returncode == 1 and f"entry {m.group(1)} is not the one anchored" in r.stderr,
          f"the cut is caught: {r.returncode} {r.stderr}")


def stop_then_check(s):
    code = s.stop()
    check(code == 0, f"exit status {code}:\n{''.join(s.stderr)[-3000:]}")
    r = s.cli("check")
    check(r.returncode == 0, f"check after stop: {r.stdout} {r.stderr}")
    cut_audit_tail_detected_by_anchor(s.data)
    tampered_audit_log_detected(s.data)


def sigterm_run(_):
    shutil.rmtree(sigterm_finishes_in_flight().data, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(harness.run_tests(os.path.abspath(sys.argv[1]), [
        ("behind_a_trusted_proxy", behind_a_trusted_proxy),
        ("clean_exit_on_sigterm_then_check", stop_then_check),
        ("sigterm_finishes_in_flight", sigterm_run),
    ]))
