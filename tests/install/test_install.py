#!/usr/bin/env python3
"""`meson install --destdir` into a temporary folder, then run the
installed civicard the way a city would: a configuration file, a clerk
made with `civicard user add`, a card issued over the API and verified.

usage: test_install.py BUILD_DIR path/to/make-photo

The installed binary must find its templates and fonts next to itself
(PREFIX/share/civicard), not in the source tree or the build tree."""

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from datetime import date

BUILD, MAKE_PHOTO = sys.argv[1], sys.argv[2]
WORK = tempfile.mkdtemp(prefix="civicard-install-")
DEST = os.path.join(WORK, "dest")
CLERK = ("clerk-install", "install clerk password")     # invented
ADMIN = ("city-admin", "install admin password")         # invented


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def prefix():
    intro = json.loads(subprocess.run(["meson", "introspect", "--buildoptions", BUILD],
                                      capture_output=True, text=True, check=True).stdout)
    return {o["name"]: o["value"] for o in intro}


def install():
    r = subprocess.run(["meson", "install", "-C", BUILD, "--destdir", DEST, "--no-rebuild",
                        "--quiet"], capture_output=True, text=True, timeout=300)
    check(r.returncode == 0, f"meson install: {r.stdout} {r.stderr}")


def inst(path):
    """An installed path (absolute, under the prefix) inside DEST."""
    return os.path.join(DEST, path.lstrip("/"))


class Installed:
    def __init__(self, opts):
        p = opts["prefix"]
        self.prefix = p
        self.binary = inst(os.path.join(p, opts["sbindir"], "civicard"))
        self.share = inst(os.path.join(p, opts["datadir"], "civicard"))
        self.man = inst(os.path.join(p, opts["mandir"], "man8", "civicard.8"))
        self.doc = inst(os.path.join(p, opts["datadir"], "doc", "civicard"))
        unit_dir = opts.get("systemd_unit_dir") or os.path.join(p, "lib", "systemd", "system")
        self.unit = inst(os.path.join(unit_dir, "civicard.service"))
        self.sbin = os.path.join(p, opts["sbindir"])

    def run(self, *args, stdin="", env=None):
        return subprocess.run([self.binary, *args], input=stdin, capture_output=True, text=True,
                              timeout=120, cwd=WORK, env=env or clean_env())


def clean_env():
    """No CIVICARD_* from the caller (meson test sets CIVICARD_TEMPLATES)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("CIVICARD_")}


def files_in_place(i):
    for path in (i.binary, os.path.join(i.share, "templates", "login.html"),
                 os.path.join(i.share, "templates", "i18n", "fr.txt"),
                 os.path.join(i.share, "templates", "static"),
                 os.path.join(i.share, "fonts", "CardSans.ttf"),
                 os.path.join(i.share, "fonts", "CardSans-Bold.ttf"),
                 os.path.join(i.share, "migrations", "0001_staff.sql"),
                 os.path.join(i.doc, "civicard.conf.example"),
                 os.path.join(i.doc, "operations.md"), i.man, i.unit):
        check(os.path.exists(path), f"installed: {path}")
    check(os.access(i.binary, os.X_OK), "the binary is executable")


def unit_follows_prefix(i):
    with open(i.unit, encoding="utf-8") as f:
        unit = f.read()
    m = re.search(r"^ExecStart=(\S+) ", unit, re.M)
    check(m and m.group(1) == os.path.join(i.sbin, "civicard"),
          f"ExecStart names the installed binary {i.sbin}/civicard: {m and m.group(1)}")
    for opt in ("User=civicard", "StateDirectory=civicard", "ProtectSystem=strict",
                "NoNewPrivileges=yes", "PrivateTmp=yes", "Restart=on-failure"):
        check(re.search(f"^{re.escape(opt)}$", unit, re.M), f"unit has {opt}")
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        print("    (systemd-analyze not found: unit not verified)")
        return
    # Verify a copy whose ExecStart points into DEST, where the binary is.
    copy = os.path.join(WORK, "civicard.service")
    with open(copy, "w", encoding="utf-8") as f:
        f.write(unit.replace(f"ExecStart={i.sbin}/civicard", f"ExecStart={i.binary}"))
    r = subprocess.run([analyze, "verify", "--man=no", copy], capture_output=True, text=True,
                       timeout=60)
    check(r.returncode == 0 and "civicard.service" not in r.stdout + r.stderr,
          f"systemd-analyze verify: {r.returncode} {r.stdout} {r.stderr}")


def man_page_matches_help(i):
    """The man page is made from --help's text and the example file: every
    command and every key shows up in it."""
    help_text = i.run("--help").stdout
    with open(i.man, encoding="utf-8") as f:
        man = f.read().replace("\\-", "-").replace("\\e", "\\")
    commands = re.findall(r"^  ([a-z]+(?: [a-z]+)?)", help_text.split("Commands:")[1]
                          .split("\n\n")[0], re.M)
    check(len(commands) >= 8, f"commands in --help: {commands}")
    for c in commands:
        check(f".B {c}" in man, f"man page has the command {c!r}")
    keys = [l.split(" =")[0] for l in i.run("config").stdout.splitlines()
            if l and not l.startswith("#")]
    for k in keys:
        check(k in man, f"man page documents the key {k}")
    if shutil.which("groff"):
        r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-Wbreak", "-z", i.man], capture_output=True,
                           text=True, timeout=60)
        check(r.returncode == 0 and not r.stderr.strip(), f"groff warns: {r.stderr}")


def example_documents_every_default(i):
    """The example configuration shows every key with its built-in default:
    uncommented, it is the configuration `civicard config` prints."""
    example = {}
    with open(os.path.join(i.doc, "civicard.conf.example"), encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^#([a-z_.]+) =(.*)$", line.rstrip("\n"))
            if m:
                example[m.group(1)] = m.group(2).strip()
    printed = {}
    for line in i.run("config").stdout.splitlines():
        if line and not line.startswith("#"):
            k, _, v = line.partition(" =")
            printed[k] = v.strip()
    check(example == printed, "example and defaults differ: "
          f"{sorted(set(example.items()) ^ set(printed.items()))}")


# ---- the city's configuration, and a card ----

CONF = """# a test city
data = {data}
listen = 127.0.0.1:0
languages = es, fr
card_languages = es, en
city_name.es = Ciudad de Prueba
card_title.es = Tarjeta de residente
label_family.es = Apellidos
label_given.es = Nombres
label_dob.es = Fecha de nacimiento
label_number.es = N.º de tarjeta
label_expires.es = Vence
verify_label.es = Verificar
return_line.es = ¿Encontró esta tarjeta? Déjela en un buzón.
city_name.en = Test City
validity = 0:2, 18:10
evidence_types = passport, school_record
retention_days = 30
threads = 2
workers = 2
login_failures_per_account = 3
"""


def write_conf(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, 0o640)


def multipart(fields, photo):
    b = "----civicard" + uuid.uuid4().hex
    out = [f'--{b}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'.encode() + v.encode()
           + b"\r\n" for k, v in fields]
    out.append(f'--{b}\r\nContent-Disposition: form-data; name="photo"; filename="face.jpg"\r\n'
               "Content-Type: image/jpeg\r\n\r\n".encode() + photo + b"\r\n")
    out.append(f"--{b}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={b}"


def request(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    if isinstance(body, dict):
        body = json.dumps(body)
        headers = {"Content-Type": "application/json", **(headers or {})}
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, r.headers, data


def years_after(d, n):
    try:
        return d.replace(year=d.year + n)
    except ValueError:                     # 29 February
        return d.replace(year=d.year + n, day=28)


def serve_a_city(i):
    data = os.path.join(WORK, "data")
    conf = os.path.join(WORK, "civicard.conf")
    write_conf(conf, CONF.format(data=data))

    r = i.run("--config", conf, "check")
    check(r.returncode == 1 and "does not exist" in r.stderr, f"check before any start: {r.stderr}")
    check("configuration " + conf + ": ok" in r.stdout, f"check reads the file: {r.stdout}")

    # A mistake names the file, the line and the key.
    bad = os.path.join(WORK, "bad.conf")
    write_conf(bad, CONF.format(data=data) + "retention_days = forever\n")
    r = i.run("--config", bad, "check")
    n = CONF.count("\n") + 1
    check(r.returncode == 1 and f"bad.conf:{n}: retention_days: given twice" in r.stderr,
          f"a repeated key: {r.stderr}")
    write_conf(bad, CONF.format(data=data).replace("retention_days = 30", "retention_days = soon"))
    r = i.run("--config", bad, "check")
    line = CONF.split("\n").index("retention_days = 30") + 1
    check(r.returncode == 1 and f"bad.conf:{line}: retention_days: must be a number of days"
          in r.stderr, f"a wrong value: {r.stderr}")
    # " ;" would end the value there for inih: refused, not cut short.
    write_conf(bad, CONF.format(data=data) + "city_name.fr = Ville de Saint-Jean ; Québec\n")
    r = i.run("--config", bad, "check")
    check(r.returncode == 1 and f"bad.conf:{n}: a space before \";\"" in r.stderr,
          f"a semicolon after a space: {r.stderr}")

    # Staff first: with an admin made by hand, no one-time password is printed.
    for (name, pw), role in ((ADMIN, "admin"), (CLERK, "clerk")):
        r = i.run("--config", conf, "user", "add", name, "--role", role, stdin=pw + "\n")
        check(r.returncode == 0, f"user add {name}: {r.stderr}")
    check(os.path.isdir(data) and os.stat(data).st_mode & 0o077 == 0, "data folder 0700")

    proc = subprocess.Popen([i.binary, "--config", conf, "serve"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=WORK, env=clean_env())
    err = []
    threading.Thread(target=lambda: err.extend(proc.stderr), daemon=True).start()
    port, out = None, []
    deadline = time.time() + 60
    while time.time() < deadline and not port:
        line = proc.stdout.readline()
        if not line:
            break
        out.append(line)
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        port = int(m.group(1)) if m else None
    try:
        check(port, f"the installed server started: {''.join(out)} {''.join(err)}")
        threading.Thread(target=proc.stdout.read, daemon=True).start()
        check(not any("one-time password" in l for l in out), "no one-time password printed")
        logged = "".join(err)
        check(f"templates from {i.share}/templates" in logged and f"fonts from {i.share}/fonts"
              in logged, f"templates and fonts from the installed copy: {logged}")

        # Languages: Spanish is the default, English is not offered.
        status, _, page = request(port, "GET", "/login", headers={"Accept-Language": "en"})
        check(status == 200 and b'<html lang="es"' in page, "languages = es, fr: es by default")
        status, _, page = request(port, "GET", "/login", headers={"Accept-Language": "fr"})
        check(b'<html lang="fr"' in page, "fr offered")

        status, _, body = request(port, "POST", "/api/v1/login",
                                  {"username": CLERK[0], "password": CLERK[1]})
        check(status == 200, f"clerk log-in: {status} {body}")
        auth = {"Authorization": "Bearer " + json.loads(body)["token"]}
        photo_path = os.path.join(WORK, "face.jpg")
        subprocess.run([MAKE_PHOTO, photo_path, "600", "750"], check=True)
        with open(photo_path, "rb") as f:
            photo = f.read()

        today = date.today()
        adult_dob = today.replace(year=today.year - 40, day=1).isoformat()
        child_dob = today.replace(year=today.year - 7, day=1).isoformat()
        cards = {}
        for who, dob, years in (("adult", adult_dob, 10), ("child", child_dob, 2)):
            body, ct = multipart([("given_names", "Ilse"), ("family_name", "Installtestxyz"),
                                  ("date_of_birth", dob), ("evidence", "school_record")], photo)
            status, _, got = request(port, "POST", "/api/v1/cards", body,
                                     {**auth, "Content-Type": ct})
            check(status == 201, f"issue ({who}): {status} {got[:300]}")
            card = json.loads(got)
            issued = date.fromisoformat(card["issued_on"])
            check(card["expires_on"] == years_after(issued, years).isoformat(),
                  f"{who}: valid {years} years (validity = 0:2, 18:10): {card['expires_on']}")
            cards[who] = card
        body, ct = multipart([("given_names", "Ilse"), ("family_name", "Installtestxyz"),
                              ("date_of_birth", adult_dob), ("evidence", "passport_copy")], photo)
        status, _, _ = request(port, "POST", "/api/v1/cards", body, {**auth, "Content-Type": ct})
        check(status == 400, f"an evidence type the city does not use: {status}")

        status, hdrs, pdf = request(port, "GET", cards["adult"]["pdf_url"], headers=auth)
        check(status == 200 and pdf.startswith(b"%PDF-"), f"card PDF: {status}")
        status, _, body = request(port, "POST", "/api/v1/verify", {"qr": cards["adult"]["qr_text"]})
        result = json.loads(body)
        check(status == 200 and result["result"] == "valid"
              and result["family_name"] == "Installtestxyz", f"verify: {status} {result}")

        # Rate limit from the file: 3 failures lock the account.
        for _ in range(3):
            request(port, "POST", "/api/v1/login", {"username": CLERK[0], "password": "wrong one"})
        status, _, _ = request(port, "POST", "/api/v1/login",
                               {"username": CLERK[0], "password": CLERK[1]})
        check(status == 429, f"login_failures_per_account = 3: {status}")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
    check(code == 0, f"clean stop: {code} {''.join(err)[-2000:]}")

    r = i.run("--config", conf, "check")
    check(r.returncode == 0 and "keys: ok" in r.stdout, f"check after serving: {r.stdout} {r.stderr}")
    # A key file others may read is refused, by check and by the server.
    key = os.path.join(data, "keys", "data.key")
    os.chmod(key, 0o640)
    r = i.run("--config", conf, "check")
    check(r.returncode == 1 and "chmod 600" in r.stderr, f"a readable data.key: {r.stderr}")
    r = subprocess.run([i.binary, "--config", conf, "serve"], capture_output=True, text=True,
                       cwd=WORK, env=clean_env(), timeout=60)
    check(r.returncode == 1 and "chmod 600" in r.stderr, f"serve refuses it: {r.stderr}")
    os.chmod(key, 0o600)
    os.chmod(data, 0o750)
    r = i.run("--config", conf, "check")
    check(r.returncode == 1 and "chmod 700" in r.stderr, f"an open data folder: {r.stderr}")
    os.chmod(data, 0o700)


def main():
    opts = prefix()
    install()
    i = Installed(opts)
    passed = failed = 0
    for fn in (files_in_place, unit_follows_prefix, man_page_matches_help,
               example_documents_every_default, serve_a_city):
        try:
            fn(i)
            print(f"ok   {fn.__name__}", flush=True)
            passed += 1
        except Exception:
            print(f"FAIL {fn.__name__}", flush=True)
            traceback.print_exc()
            failed += 1
    shutil.rmtree(WORK, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
