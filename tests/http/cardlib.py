"""Helpers shared by the black-box tests that issue cards: invented
photos (tests/tools/make-photo), multipart bodies, a clerk's token."""

import os
import subprocess
import tempfile
import uuid

from harness import check

MAKE_PHOTO = None                      # set by the test's main
WORK = tempfile.mkdtemp(prefix="civicard-cards-")
CLERK = ("clerk-cards", "clerk cards password")   # invented


def photo(name="face.jpg", w=600, h=750, gps=False):
    path = os.path.join(WORK, name)
    args = [MAKE_PHOTO, path, str(w), str(h)] + (["--exif-gps"] if gps else [])
    subprocess.run(args, check=True)
    with open(path, "rb") as f:
        return f.read()


def multipart(fields, files):
    """fields: list of (name, str); files: list of (name, filename, bytes, type)."""
    b = "----civicard" + uuid.uuid4().hex
    out = []
    for k, v in fields:
        out.append(f'--{b}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'.encode() + v.encode() + b"\r\n")
    for k, fn, data, ct in files:
        out.append(f'--{b}\r\nContent-Disposition: form-data; name="{k}"; filename="{fn}"\r\n'
                   f"Content-Type: {ct}\r\n\r\n".encode() + data + b"\r\n")
    out.append(f"--{b}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={b}"


_token = {}


def token(s):
    """A clerk's bearer token (the clerk is created on first use)."""
    if s not in _token:
        r = s.cli("user", "add", CLERK[0], "--role", "clerk", stdin=CLERK[1] + "\n")
        check(r.returncode == 0 or "already exists" in r.stderr, f"user add: {r.stderr}")
        status, _, body = s.login(*CLERK)
        check(status == 200, f"clerk login: {status} {body}")
        _token[s] = body["token"]
    return _token[s]


def issue(s, given, family, dob="1990-02-14", extra=(), files=None, tok=None):
    if files is None:
        files = [("photo", "face.jpg", photo(), "image/jpeg")]
    body, ct = multipart([("given_names", given), ("family_name", family),
                          ("date_of_birth", dob), *extra], files)
    return s.json("POST", "/api/v1/cards", body, token=tok or token(s),
                  headers={"Content-Type": ct})


def main(extra=()):
    """A card test's entry point: usage TEST.py path/to/civicard
    path/to/make-photo. Runs the @tests and extra (name, fn), removes the
    invented photos, exits with the result."""
    import harness
    import shutil
    import sys
    global MAKE_PHOTO
    MAKE_PHOTO = os.path.abspath(sys.argv[2])
    try:
        code = harness.run_tests(os.path.abspath(sys.argv[1]), extra)
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
    sys.exit(code)
