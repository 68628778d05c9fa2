#!/usr/bin/env python3
"""Black-box tests of backups, retention and emergency erasure.

usage: test_erasure.py path/to/civicard path/to/make-photo"""

import os
import shutil
import signal
import subprocess
import tempfile
import time

import cardlib
import harness
from cardlib import issue, token
from harness import Server, check, test

FAMILY = "Tūhoe-Erasurexyz"       # invented; grepped for below


def grep_folder(folder, needle):
    hits = []
    for root, _, files in os.walk(folder):
        for fn in files:
            with open(os.path.join(root, fn), "rb") as f:
                if needle in f.read():
                    hits.append(fn)
    return hits


def grep_file(path, needle):
    with open(path, "rb") as f:
        return needle in f.read()


_state = {}


@test
def backup_while_serving_restores(s):
    status, _, c = issue(s, "Aroha", FAMILY, "1991-03-03")
    check(status == 201, f"issue: {status}")
    _state["card"] = c
    work = tempfile.mkdtemp(prefix="civicard-backup-")
    _state["work"] = work
    f = os.path.join(work, "before.backup")
    r = s.cli("backup", f)
    check(r.returncode == 0 and os.path.getsize(f) > 1000, f"backup while serving: {r.stderr}")
    check(oct(os.stat(f).st_mode & 0o777) == "0o600", "backup readable by its owner only")
    check(not grep_file(f, FAMILY.encode()) and not grep_file(f, b"SQLite format"), "encrypted as a whole")
    _state["backup"] = f
    # Restore into another data folder that has the same keys.
    other = os.path.join(work, "other")
    os.mkdir(other, 0o700)
    shutil.copytree(os.path.join(s.data, "keys"), os.path.join(other, "keys"))
    r = subprocess.run([harness.BINARY, "restore", f, "--data", other], capture_output=True, text=True)
    check(r.returncode == 0, f"restore: {r.stderr}")
    s2 = Server(data=other)
    try:
        status, _, _ = s2.json("GET", f"/api/v1/cards/{c['card_number']}", token=token(s))
        check(status == 401, f"a session in the backup came back with it: {status}")
        status, _, got = s2.json("GET", f"/api/v1/cards/{c['card_number']}", token=token(s2))
        check(status == 200 and got["family_name"] == FAMILY, f"restored card: {status} {got}")
        check(s2.json("POST", "/api/v1/verify", {"qr": c["qr_text"]})[2]["result"] == "valid", "verifies")
        r = subprocess.run([harness.BINARY, "restore", f, "--data", other], capture_output=True, text=True)
        check(r.returncode == 1 and "stop it first" in r.stderr, "no restore under a running server")
    finally:
        check(s2.stop() == 0, "clean stop:\n" + "".join(s2.stderr)[-3000:])
    # Without the right key a backup is useless.
    third = os.path.join(work, "third")
    os.mkdir(third, 0o700)
    subprocess.run([harness.BINARY, "check", "--data", third], capture_output=True)
    r = subprocess.run([harness.BINARY, "user", "add", "x-admin", "--role", "admin", "--data", third],
                       input="x admin password\n", capture_output=True, text=True)
    Server(data=third).stop()           # creates its own keys
    r = subprocess.run([harness.BINARY, "restore", f, "--data", third], capture_output=True, text=True)
    check(r.returncode == 1 and "cannot be opened" in r.stderr, f"another data key: {r.returncode} {r.stderr}")


@test
def retention_purge_erases_revoked_cards(s):
    status, _, gone = issue(s, "Aroha", "Retentionxyz", "1991-03-03")
    status, _, kept = issue(s, "Aroha", "Keptxyz", "1991-03-03")
    s.json("POST", f"/api/v1/cards/{gone['card_number']}/revoke", {"reason": "lost"}, token=token(s))
    r = s.cli("purge", "--expired", "--retention-days", "0")
    check(r.returncode == 0 and "erased" in r.stdout, f"purge --expired: {r.stdout} {r.stderr}")
    status, _, body = s.json("GET", f"/api/v1/cards/{gone['card_number']}", token=token(s))
    check(status == 410 and body["error"] == "erased", f"revoked card erased: {status} {body}")
    status, _, body = s.json("GET", f"/api/v1/cards/{kept['card_number']}", token=token(s))
    check(status == 200 and body["family_name"] == "Keptxyz", "an active card is kept")
    check(s.json("POST", "/api/v1/verify", {"qr": gone["qr_text"]})[2]["result"] == "revoked",
          "the erased card still verifies as revoked")
    check(grep_folder(s.data, b"Retentionxyz") == [], "its name is nowhere in the data folder")
    r = s.cli("purge", "--expired", "--retention-days", "x")
    check(r.returncode == 2, "bad retention is a usage error")


@test
def emergency_erasure(s):
    r = s.cli("purge", "--everything")
    check(r.returncode == 2, "--everything needs --yes")
    status, _, last = issue(s, "Aroha", "Lastxyz", "1991-03-03")
    check(status == 201, "issue")
    check(grep_folder(s.data, b"Lastxyz") == [], "sealed even before")
    r = s.cli("purge", "--everything", "--yes")
    check(r.returncode == 0, f"purge --everything: {r.stdout} {r.stderr}")
    time.sleep(0.5)                  # the server reloads its keys on SIGHUP
    for name in (FAMILY, "Lastxyz", "Keptxyz"):
        check(grep_folder(s.data, name.encode()) == [], f"{name} in the data folder")
    status, _, body = s.json("GET", f"/api/v1/cards?family_name=Lastxyz&date_of_birth=1991-03-03", token=token(s))
    check(status == 200 and body == {"cards": []}, f"search finds nothing: {body}")
    status, _, body = s.json("GET", f"/api/v1/cards/{last['card_number']}", token=token(s))
    check(status == 410, f"card data erased: {status}")
    check(s.json("POST", "/api/v1/verify", {"qr": last["qr_text"]})[2]["result"] == "valid",
          "the last issued card still verifies as genuine")
    check(s.json("POST", "/api/v1/verify", {"qr": _state["card"]["qr_text"]})[2]["result"] == "valid",
          "and an older one")
    # Backups made before cannot be opened any more.
    other = os.path.join(_state["work"], "after")
    os.mkdir(other, 0o700)
    shutil.copytree(os.path.join(s.data, "keys"), os.path.join(other, "keys"))
    r = subprocess.run([harness.BINARY, "restore", _state["backup"], "--data", other],
                       capture_output=True, text=True)
    check(r.returncode == 1 and "cannot be opened" in r.stderr, f"old backup dead: {r.returncode} {r.stderr}")
    # Staff accounts and the audit chain survive; new cards can be issued.
    check(s.login(*cardlib.CLERK)[0] == 200, "staff log in")
    r = s.cli("check")
    check(r.returncode == 0 and "chain intact" in r.stdout, f"audit chain: {r.stdout} {r.stderr}")
    status, _, fresh = issue(s, "Aroha", "Afterxyz", "1991-03-03")
    check(status == 201, f"issuing works after the erasure: {status} {fresh}")
    status, _, got = s.json("GET", f"/api/v1/cards/{fresh['card_number']}", token=token(s))
    check(status == 200 and got["family_name"] == "Afterxyz", "and reading it back")
    shutil.rmtree(_state["work"], ignore_errors=True)


def daily_purge_inside_the_sandbox(_):
    """The server's own daily purge, for a day with many cards due: a big
    erasure must not need a temporary file outside the data folder (the
    sandbox forbids it, and the purge would fail every day after)."""
    p = Server(args=["--retention-days", "0"])
    try:
        tok = token(p)
        photo = cardlib.photo("purge.jpg")
        files = [("photo", "face.jpg", photo, "image/jpeg")]
        numbers = []
        for i in range(40):
            family = "Purge" + "".join("abcdefghij"[int(d)] for d in f"{i:02d}") + "xyz"
            status, _, c = issue(p, "Aroha", family, "1991-03-03", files=files, tok=tok)
            check(status == 201, f"issue {i}: {status} {c}")
            status, _, _ = p.json("POST", f"/api/v1/cards/{c['card_number']}/revoke",
                                  {"reason": "lost"}, token=tok)
            check(status == 200, f"revoke {i}: {status}")
            numbers.append(c["card_number"])
        p.proc.send_signal(signal.SIGHUP)     # the daily tasks run now, not in a minute
        deadline = time.time() + 30
        while time.time() < deadline and not any("retention" in l for l in p.stderr):
            time.sleep(0.1)
        log = "".join(p.stderr)
        check("retention: erased 40 card versions" in log,
              f"the purge ran and erased them all:\n{log[-2000:]}")
        for n in numbers[:3] + numbers[-3:]:
            status, _, body = p.json("GET", f"/api/v1/cards/{n}", token=tok)
            check(status == 410 and body["error"] == "erased", f"{n}: {status} {body}")
    finally:
        check(p.stop() == 0, "clean stop:\n" + "".join(p.stderr)[-3000:])
        shutil.rmtree(p.data, ignore_errors=True)


if __name__ == "__main__":
    cardlib.main([("daily_purge_inside_the_sandbox", daily_purge_inside_the_sandbox)])
