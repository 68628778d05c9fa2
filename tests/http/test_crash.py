#!/usr/bin/env python3
"""Crash consistency: the server is killed with SIGKILL while clerks issue,
revoke, reissue and renew cards and approve reprints, several times on the
same data folder. After each restart every change the server acknowledged
is there, nothing it did not finish is half there, the audit chain is
unbroken, and the restart is not stopped by the stale pid file.

usage: test_crash.py path/to/civicard path/to/make-photo
Needs qpdf (scripts/install-deps --test)."""

import http.client
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time
from urllib.parse import quote

import cardlib
import harness
from cardlib import multipart, photo
from harness import Server, check

CLERK = ("clerk-crash", "clerk crash password")        # invented
AUDITOR = ("auditor-crash", "auditor crash password")  # invented
GIVEN = ["Oriane", "Tavi", "Lumen Ada", "Kestrel", "Ysolde", "Brannoch"]   # invented
ROUNDS = 5
WORKERS = 5
SEED = int(os.environ.get("CIVICARD_CRASH_SEED", random.randrange(1 << 30)))


class NoReply(Exception):
    """The server gave no reply: the request was in flight (or never got
    through) when it died."""


def letters(n):
    out = ""
    while True:
        out += "bcdfghjklmnprstvz"[n % 17] + "aeiou"[(n // 17) % 5]
        n //= 85
        if not n:
            return out


class Card:
    """What the clerks were told about one card number."""

    def __init__(self, number, given, family, dob):
        self.number, self.given, self.family, self.dob = number, given, family, dob
        self.versions = {}       # version -> [qr_text, "valid" | "revoked"]
        self.latest = 0
        self.code = None         # reprint code of the latest version, when known
        self.uncertain = None    # "revoke" | "version": no reply, may have committed
        self.touched = True      # changed since the last PDF check

    def add_version(self, body):
        for v in self.versions.values():
            v[1] = "revoked"
        self.latest = body["version"]
        self.versions[self.latest] = [body["qr_text"], "valid"]
        self.code = body.get("reprint_code")
        self.touched = True


class Run:
    """The data folder, the model of what was acknowledged, the counts."""

    def __init__(self):
        self.data = tempfile.mkdtemp(prefix="civicard-crash-")
        self.cards = {}            # number -> Card
        self.attempts = []         # (given, family, dob) of issues with no reply
        self.lock = threading.Lock()
        self.counter = 0
        self.errors = []           # unexpected replies during the stream
        self.acked = {"issue": 0, "revoke": 0, "version": 0, "reprint": 0}
        self.in_flight = 0
        self.refused = 0
        self.committed = 0         # of those with no reply
        self.rng = random.Random(SEED)

    def next_name(self):
        with self.lock:
            self.counter += 1
            n = self.counter
        return (GIVEN[n % len(GIVEN)], "Crash" + letters(n),
                f"19{50 + n % 50:02d}-{1 + n % 12:02d}-{1 + n % 28:02d}")


def send(port, method, path, body=None, headers=None):
    """One request; NoReply when the server is gone."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        conn.close()
    except ConnectionRefusedError as e:
        raise NoReply("refused") from e
    except (ConnectionError, http.client.HTTPException, OSError) as e:
        raise NoReply("in flight") from e
    return r.status, json.loads(data) if data else None


def send_json(port, method, path, obj, tok=None):
    h = {"Content-Type": "application/json"}
    if tok:
        h["Authorization"] = "Bearer " + tok
    return send(port, method, path, json.dumps(obj) if obj is not None else None, h)


def worker(run, port, tok, jpeg, seed, stop):
    """Issue, revoke, reissue/renew and approve reprints on this worker's own
    cards until the server dies or stop is set."""
    rng = random.Random(seed)
    mine = [c for c in run.cards.values() if hash(c.number) % WORKERS == seed % WORKERS]
    reprints = 0

    def unexpected(what, status, body):
        run.errors.append(f"{what}: {status} {body}")

    while not stop.is_set():
        live = [c for c in mine if c.uncertain is None and c.versions[c.latest][1] == "valid"]
        roll = rng.random()
        op = "issue" if roll < 0.55 or not live else "revoke" if roll < 0.7 else \
             "version" if roll < 0.9 else "reprint"
        card = rng.choice(live) if live else None
        if op == "reprint" and (reprints >= 3 or not card.code):
            op = "version"
        try:
            if op == "issue":
                given, family, dob = run.next_name()
                body, ct = multipart([("given_names", given), ("family_name", family),
                                      ("date_of_birth", dob), ("evidence", "passport")],
                                     [("photo", "face.jpg", jpeg, "image/jpeg")])
                try:
                    status, r = send(port, "POST", "/api/v1/cards", body,
                                     {"Content-Type": ct, "Authorization": "Bearer " + tok})
                except NoReply:
                    run.attempts.append((given, family, dob))
                    raise
                if status != 201:
                    unexpected("issue", status, r)
                    continue
                check(r["given_names"] == given and r["family_name"] == family, f"issue reply: {r}")
                c = Card(r["card_number"], given, family, dob)
                c.add_version(r)
                with run.lock:
                    run.cards[c.number] = c
                    run.acked["issue"] += 1
                mine.append(c)
            elif op == "revoke":
                card.uncertain = "revoke"
                status, r = send_json(port, "POST", f"/api/v1/cards/{card.number}/revoke",
                                      {"reason": "lost"}, tok)
                card.uncertain = None
                if status != 200:
                    unexpected("revoke", status, r)
                    continue
                card.versions[card.latest][1] = "revoked"
                card.touched = True
                run.acked["revoke"] += 1
            elif op == "version":
                kind = rng.choice(["reissue", "renew"])
                card.uncertain = "version"
                status, r = send_json(port, "POST", f"/api/v1/cards/{card.number}/{kind}", {}, tok)
                card.uncertain = None
                if status != 201 or r["version"] != card.latest + 1:
                    unexpected(kind, status, r)
                    continue
                card.add_version(r)
                run.acked["version"] += 1
            else:
                reprints += 1
                status, r = send_json(port, "POST", "/api/v1/reprint-requests",
                                      {"card_number": card.number, "date_of_birth": card.dob,
                                       "reprint_code": card.code, "report_lost": False})
                if status != 202:
                    unexpected("reprint request", status, r)
                    continue
                card.uncertain = "version"
                status, r = send_json(port, "POST", f"/api/v1/reprint-requests/{r['id']}/approve",
                                      None, tok)
                card.uncertain = None
                if status != 201 or r["version"] != card.latest + 1:
                    unexpected("approve", status, r)
                    continue
                card.add_version(r)
                run.acked["reprint"] += 1
        except NoReply as e:
            with run.lock:
                if str(e) == "refused":
                    run.refused += 1
                else:
                    run.in_flight += 1
            return


# ---------------------------------------------------------------- checks

def pdf_ok(s, tok, number, work):
    status, h, data = s.request("GET", f"/api/v1/cards/{number}/pdf",
                                headers={"Authorization": "Bearer " + tok})
    check(status == 200 and data[:5] == b"%PDF-", f"{number}: pdf {status} {data[:80]!r}")
    path = os.path.join(work, "card.pdf")
    with open(path, "wb") as f:
        f.write(data)
    r = subprocess.run(["qpdf", "--check", path], capture_output=True, text=True)
    check(r.returncode == 0, f"{number}: qpdf --check: {r.stdout[-500:]} {r.stderr[-500:]}")


def resolve(run, s, tok):
    """Requests that got no reply may or may not have committed: find out
    which, and take what committed into the model. Either way the change is
    all there or not there at all."""
    for c in run.cards.values():
        if not c.uncertain:
            continue
        status, _, r = s.json("GET", f"/api/v1/cards/{c.number}", token=tok)
        check(status == 200, f"{c.number}: {status} {r}")
        if c.uncertain == "revoke":
            check(r["version"] == c.latest, f"{c.number}: a revocation made a version: {r['version']}")
            if r["status"] == "revoked":
                c.versions[c.latest][1] = "revoked"
                run.committed += 1
        else:
            check(r["version"] in (c.latest, c.latest + 1),
                  f"{c.number}: version {r['version']} after {c.latest}")
            if r["version"] == c.latest + 1:
                check(r["status"] == "active", f"{c.number}: the new version is {r['status']}")
                c.add_version(r)
                run.committed += 1
        c.uncertain = None
        c.touched = True
    for given, family, dob in run.attempts:
        status, _, r = s.json("GET", f"/api/v1/cards?family_name={quote(family)}&date_of_birth={dob}",
                              token=tok)
        check(status == 200 and len(r["cards"]) <= 1, f"search after a lost reply: {status} {r}")
        if r["cards"]:
            n = r["cards"][0]["card_number"]
            status, _, body = s.json("GET", f"/api/v1/cards/{n}", token=tok)
            check(status == 200 and body["version"] == 1, f"{n}: {status} {body}")
            c = Card(n, given, family, dob)
            c.add_version(body)
            run.cards[n] = c
            run.committed += 1
    run.attempts = []


def audit_entries(s, tok):
    entries, before = [], 0
    while True:
        path = "/api/v1/audit?limit=1000" + (f"&before={before}" if before else "")
        status, _, r = s.json("GET", path, token=tok)
        check(status == 200 and r["chain"] == "intact", f"audit: {status} {r and r.get('chain')}")
        entries += r["entries"]
        if len(r["entries"]) < 1000:
            return entries
        before = min(e["id"] for e in r["entries"])


def prove(run, s, clerk, auditor, work):
    """Everything acknowledged is there and complete; nothing else is."""
    resolve(run, s, clerk)
    rows = {}
    db = sqlite3.connect(f"file:{os.path.join(run.data, 'civicard.db')}?mode=ro", uri=True)
    try:
        for number, version, status, personal, pic in db.execute(
                "SELECT card_number, version, status, length(personal), length(photo) FROM cards"):
            rows[(number, version)] = status
            check(personal and pic, f"{number} v{version}: personal {personal}, photo {pic} bytes")
    finally:
        db.close()
    model = {(c.number, v): ("active" if st == "valid" else "revoked")
             for c in run.cards.values() for v, (_, st) in c.versions.items()}
    check(set(rows) == set(model),
          f"rows not acknowledged: {sorted(set(rows) - set(model))}; "
          f"acknowledged, missing: {sorted(set(model) - set(rows))}")
    check(rows == model, "stored status differs from the acknowledged one: " +
          str({k: (rows[k], model[k]) for k in rows if rows[k] != model[k]}))

    for c in run.cards.values():
        status, _, r = s.json("GET", f"/api/v1/cards/{c.number}", token=clerk)
        check(status == 200, f"{c.number}: {status} {r}")
        check((r["given_names"], r["family_name"], r["date_of_birth"]) == (c.given, c.family, c.dob),
              f"{c.number}: names {r['given_names']!r} {r['family_name']!r}")
        # The same token; the origin before '#' follows the restarted port.
        check(r["version"] == c.latest and
              r["qr_text"].split("#")[1] == c.versions[c.latest][0].split("#")[1],
              f"{c.number}: version {r['version']}, expected {c.latest}, or another token")
        for v, (qr, expected) in c.versions.items():
            status, _, res = s.json("POST", "/api/v1/verify", {"qr": qr})
            check(status == 200 and res["result"] == expected,
                  f"{c.number} v{v}: verify {status} {res}, expected {expected}")
        status, h, data = s.request("GET", f"/api/v1/cards/{c.number}/photo",
                                    headers={"Authorization": "Bearer " + clerk})
        check(status == 200 and data[:2] == b"\xff\xd8", f"{c.number}: photo {status}")
        if c.touched:
            pdf_ok(s, clerk, c.number, work)
            c.touched = False

    entries = audit_entries(s, auditor)
    issued = {e["subject"] for e in entries if e["action"] == "card.issue"}
    numbers = {n for n, _ in rows}
    check(issued == numbers, f"card.issue entries without a card: {sorted(issued - numbers)}; "
                             f"cards without one: {sorted(numbers - issued)}")
    versions = {(e["subject"], int(e["detail"].split()[1]))
                for e in entries if e["action"] in ("card.reissue", "card.renew")}
    later = {k for k in rows if k[1] > 1}
    check(versions == later, f"new versions and their audit entries differ: "
                             f"{sorted(versions ^ later)}")
    revoked = {(e["subject"], int(e["detail"].split()[1].rstrip(":")))
               for e in entries if e["action"] == "card.revoke"}
    by_hand = {k for k, st in rows.items() if st == "revoked" and (k[0], k[1] + 1) not in rows}
    check(revoked == by_hand, f"revocations and their audit entries differ: {sorted(revoked ^ by_hand)}")


def civicard_check(data):
    r = subprocess.run([harness.BINARY, "check", "--data", data], capture_output=True,
                       text=True, timeout=120)
    check(r.returncode == 0, f"civicard check: {r.stdout} {r.stderr}")


# ---------------------------------------------------------------- the test

def kill_while_writing(_):
    run = Run()
    work = tempfile.mkdtemp(prefix="civicard-crash-work-")
    print(f"# seed {SEED} (CIVICARD_CRASH_SEED to repeat)", flush=True)
    jpeg = photo("crash.jpg", 300, 375)
    s = Server(run.data)
    try:
        for name, pw, role in (CLERK + ("clerk",), AUDITOR + ("auditor",)):
            r = s.cli("user", "add", name, "--role", role, stdin=pw + "\n")
            check(r.returncode == 0, f"user add {role}: {r.stderr}")
        clerk = s.login(*CLERK)[2]["token"]
        auditor = s.login(*AUDITOR)[2]["token"]
        for rnd in range(ROUNDS):
            before = dict(run.acked)
            stop = threading.Event()
            threads = [threading.Thread(target=worker, args=(run, s.port, clerk, jpeg,
                                                             run.rng.randrange(1 << 30) * WORKERS + i,
                                                             stop))
                       for i in range(WORKERS)]
            for t in threads:
                t.start()
            # The kill lands after a random number of acknowledged writes
            # (bounded work whatever the machine's speed), mid-stream.
            target = sum(before.values()) + run.rng.randrange(60, 200)
            deadline = time.monotonic() + 60
            while sum(run.acked.values()) < target and time.monotonic() < deadline:
                time.sleep(0.002)
            s.proc.send_signal(signal.SIGKILL)
            s.proc.wait(timeout=30)
            stop.set()
            for t in threads:
                t.join(timeout=120)
            check(not any(t.is_alive() for t in threads), "a client thread hangs")
            check(not run.errors, f"unexpected replies: {run.errors[:5]}")
            log = "".join(s.stderr)
            for c in run.cards.values():
                check(c.family not in log, "a name reached the log")
            check(os.path.exists(os.path.join(run.data, "civicard.pid")), "the killed server left its pid file")
            civicard_check(run.data)
            s = Server(run.data)       # the stale pid file must not stop it
            prove(run, s, clerk, auditor, work)
            done = {k: run.acked[k] - before[k] for k in run.acked}
            print(f"# round {rnd + 1}: acknowledged {done}, no reply {run.in_flight} "
                  f"(committed {run.committed}), refused {run.refused}; cards {len(run.cards)}, versions "
                  f"{sum(len(c.versions) for c in run.cards.values())}", flush=True)
            run.in_flight = run.refused = run.committed = 0
        civicard_check(run.data)
        check(s.stop() == 0, "clean stop after the last round:\n" + "".join(s.stderr)[-3000:])
    finally:
        if s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()
        shutil.rmtree(run.data, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


def kill_when_file_appears(args, path):
    """Start a civicard command and SIGKILL it the moment path appears (or
    path() is true): the file is written, what goes with it not yet
    finished. True when it was killed (had not finished first)."""
    p = subprocess.Popen([harness.BINARY, *args], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    seen = path if callable(path) else lambda: os.path.exists(path)
    while p.poll() is None and not seen():
        pass
    p.send_signal(signal.SIGKILL)
    return p.wait() == -signal.SIGKILL


def recorded_keys(data):
    """White-box: the signing keys the database records (0 when the
    database or its table is not there yet)."""
    try:
        db = sqlite3.connect(f"file:{os.path.join(data, 'civicard.db')}?mode=ro", uri=True)
        try:
            return db.execute("SELECT count(*) FROM signing_keys").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def interrupted_key_writes_do_not_block(_):
    """A server killed on its first start, or `keys rotate` killed, after
    writing a signing key file and before recording it, must not stop the
    next start or rotation."""
    data = tempfile.mkdtemp(prefix="civicard-crash-keys-")
    s = None
    try:
        # Until the kill lands between the key file and its row (most tries).
        for _ in range(20):
            shutil.rmtree(data, ignore_errors=True)
            os.mkdir(data, 0o700)
            kill_when_file_appears(["serve", "--data", data, "--listen", "127.0.0.1:0"],
                                   os.path.join(data, "keys", "signing-001.key"))
            if not recorded_keys(data):
                break
        else:
            print("# the first start was never killed between key file and row", flush=True)
        s = Server(data)
        r = s.cli("user", "add", CLERK[0], "--role", "clerk", stdin=CLERK[1] + "\n")
        check(r.returncode == 0, f"user add: {r.stderr}")
        clerk = s.login(*CLERK)[2]["token"]
        first = cardlib.issue(s, "Oriane", "Keyfilexyz", tok=clerk)[2]
        for kid in (2, 3, 4):
            kill_when_file_appears(["keys", "rotate", "--data", data],
                                   os.path.join(data, "keys", f"signing-{kid:03d}.key"))
            r = s.cli("keys", "rotate")
            check(r.returncode == 0, f"keys rotate after an interrupted one: {r.returncode} {r.stderr!r}")
        s.proc.send_signal(signal.SIGHUP)      # takes the newest key, now or within a minute
        status, _, c = cardlib.issue(s, "Tavi", "Keyfilexyz", tok=clerk)
        check(status == 201, f"issue after rotations: {status} {c}")
        for card in (first, c):
            status, _, r = s.json("POST", "/api/v1/verify", {"qr": card["qr_text"]})
            check(status == 200 and r["result"] == "valid", f"verify: {status} {r}")
        civicard_check(data)
        check(s.stop() == 0, "clean stop:\n" + "".join(s.stderr)[-3000:])
    finally:
        if s and s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()
        shutil.rmtree(data, ignore_errors=True)


def kill_during_backup_and_restore(_):
    """A backup killed half-way leaves no file under the backup's name; a
    restore killed half-way leaves the database whole, as before or as
    restored, and the server starts on it."""
    data = tempfile.mkdtemp(prefix="civicard-crash-backup-")
    out = tempfile.mkdtemp(prefix="civicard-crash-out-")
    s = Server(data)
    try:
        r = s.cli("user", "add", CLERK[0], "--role", "clerk", stdin=CLERK[1] + "\n")
        check(r.returncode == 0, f"user add: {r.stderr}")
        clerk = s.login(*CLERK)[2]["token"]
        kept = [cardlib.issue(s, "Ysolde", f"Backup{letters(i)}", tok=clerk)[2] for i in range(3)]
        good = os.path.join(out, "good.civibak")
        r = s.cli("backup", good)
        check(r.returncode == 0, f"backup: {r.stderr}")
        later = cardlib.issue(s, "Kestrel", "Backuplater", tok=clerk)[2]

        half = os.path.join(out, "half.civibak")
        killed = kill_when_file_appears(["backup", half, "--data", data],
                                        lambda: any(f.startswith("half.") for f in os.listdir(out)))
        if os.path.exists(half):
            # The kill can land after the rename, as the command exits:
            # then the file under the name must be a whole backup.
            probe = tempfile.mkdtemp(prefix="civicard-crash-probe-")
            shutil.copytree(os.path.join(data, "keys"), os.path.join(probe, "keys"))
            r = subprocess.run([harness.BINARY, "restore", half, "--data", probe],
                               capture_output=True, text=True, timeout=60)
            shutil.rmtree(probe, ignore_errors=True)
            check(r.returncode == 0, f"a killed backup (killed={killed}) left a partial file "
                  f"under its name: {r.stderr}")
        check(s.stop() == 0, "clean stop:\n" + "".join(s.stderr)[-3000:])

        delay = random.Random(SEED).uniform(0, 0.03)
        p = subprocess.Popen([harness.BINARY, "restore", good, "--data", data],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        civicard_check(data)
        s = Server(data)
        clerk = s.login(*CLERK)[2]["token"]      # a restore ends every session
        status = s.json("GET", f"/api/v1/cards/{later['card_number']}", token=clerk)[0]
        check(status in (200, 404), f"the card issued after the backup: {status}")
        for c in kept:
            check(s.json("GET", f"/api/v1/cards/{c['card_number']}", token=clerk)[0] == 200,
                  "a card in both the backup and the database")
        print(f"# restore killed after {delay * 1000:.0f} ms: database "
              f"{'as before' if status == 200 else 'restored'}", flush=True)
        check(s.stop() == 0, "clean stop:\n" + "".join(s.stderr)[-3000:])
        r = subprocess.run([harness.BINARY, "restore", good, "--data", data],
                           capture_output=True, text=True, timeout=120)
        check(r.returncode == 0, f"restore after a killed one: {r.stderr}")
        civicard_check(data)
        s = Server(data)
        clerk = s.login(*CLERK)[2]["token"]
        status, _, body = s.json("GET", f"/api/v1/cards/{later['card_number']}", token=clerk)
        check(status == 404, f"restored: the card issued after the backup is gone: {status} {body}")
        check(s.stop() == 0, "clean stop:\n" + "".join(s.stderr)[-3000:])
    finally:
        if s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()
        shutil.rmtree(data, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    cardlib.main([("kill_while_writing", kill_while_writing),
                  ("kill_during_backup_and_restore", kill_during_backup_and_restore),
                  ("interrupted_key_writes_do_not_block", interrupted_key_writes_do_not_block)])
