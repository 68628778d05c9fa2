#!/usr/bin/env python3
"""Black-box tests of the clerk's card pages, driven as a browser drives
them: a cookie jar, CSRF tokens scraped from each form, urlencoded and
multipart posts, and the HTML read back.

usage: test_pages.py path/to/civicard path/to/make-photo"""

import atexit
import html
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from html.parser import HTMLParser
from urllib.parse import urlencode

import harness
from harness import check, test

MAKE_PHOTO = None
WORK = tempfile.mkdtemp(prefix="civicard-pages-")
atexit.register(shutil.rmtree, WORK, ignore_errors=True)
CATALOGUES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "templates", "i18n")
CLERK = ("clerk-pages", "clerk pages password")        # invented
AUDITOR = ("auditor-pages", "auditor pages password")  # invented
# An invented resident. The family name is unusual so that a search finds
# only this test's card.
GIVEN, FAMILY, DOB = "Zoë Anaïs", "Ébrard-Quelvenxyz", "1987-11-23"
HOSTILE_ADDRESS = "12 rue <script>alert(1)</script> \"quoted\" 'single' & Co"
FIELDS = ("given_names", "family_name", "date_of_birth", "photo", "address", "gender",
          "language", "evidence")
NEVER = ("nationality", "immigration", "citizenship", "document_number", "passport_number",
         "ssn", "social_security")

# Every HTML page any test received: the last test checks them against
# the CSP (no inline script, no style attribute, no event handler).
PAGES = []


def esc(s):
    """HTML-escaped the way the templates write values."""
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def catalogue(lang):
    out = {}
    with open(os.path.join(CATALOGUES, lang + ".txt"), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                k, _, v = line.partition("=")
                out[k.strip()] = v.strip().replace("\\n", "\n")
    return out


def photo(name="face.jpg", w=600, h=750):
    path = os.path.join(WORK, name)
    subprocess.run([MAKE_PHOTO, path, str(w), str(h)], check=True)
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


class Browser:
    """A cookie jar and the headers a browser sends."""

    def __init__(self, s, lang="en"):
        self.s = s
        self.jar = {}
        self.lang = lang

    def request(self, method, path, body=None, headers=None):
        h = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8",
             "Accept-Language": self.lang}
        if self.jar:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar.items())
        h.update(headers or {})
        status, hdrs, data = self.s.request(method, path, body, h)
        for c in hdrs.get_all("Set-Cookie") or []:
            name, _, rest = c.partition("=")
            value = rest.split(";")[0]
            if value and "Max-Age=0" not in c:
                self.jar[name] = value
            else:
                self.jar.pop(name, None)
        text = data
        if hdrs.get("Content-Type", "").startswith("text/html"):
            text = data.decode("utf-8")
            PAGES.append((f"{method} {path} ({self.lang})", text))
        return status, hdrs, text

    def get(self, path):
        return self.request("GET", path)

    def post_form(self, path, fields):
        return self.request("POST", path, urlencode(fields),
                            {"Content-Type": "application/x-www-form-urlencoded"})

    def post_multipart(self, path, fields, files):
        body, ct = multipart(fields, files)
        return self.request("POST", path, body, {"Content-Type": ct})

    def login(self, username, password):
        status, _, page = self.get("/login")
        check(status == 200, f"login page: {status}")
        status, h, _ = self.post_form("/login", [("username", username), ("password", password),
                                                 ("csrf", csrf_of(page))])
        check(status == 303 and h["Location"] == "/dashboard", f"log-in {username}: {status}")
        check("civicard_session" in self.jar, "a session cookie")
        return self


def csrf_of(page):
    m = re.search(r'name="csrf" value="([^"]+)"', page)
    check(m, "the page carries a CSRF token")
    return html.unescape(m.group(1))


class Form(HTMLParser):
    """The name of every form control of a page, and the attributes of
    each (the first of a name)."""

    def __init__(self, page):
        super().__init__(convert_charrefs=True)
        self.controls = {}
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("input", "select", "textarea", "button") and a.get("name"):
            self.controls.setdefault(a["name"], a)


def control(page, name):
    return Form(page).controls.get(name)


_users = {}


def user(s, who, role):
    if who[0] not in _users:
        r = s.cli("user", "add", who[0], "--role", role, stdin=who[1] + "\n")
        check(r.returncode == 0, f"user add {who[0]}: {r.stderr}")
        _users[who[0]] = True


def clerk(s, lang="en"):
    user(s, CLERK, "clerk")
    return Browser(s, lang).login(*CLERK)


def auditor(s):
    user(s, AUDITOR, "auditor")
    return Browser(s).login(*AUDITOR)


def issue_fields(b, **override):
    _, _, page = b.get("/cards/new")
    fields = {"csrf": csrf_of(page), "given_names": GIVEN, "family_name": FAMILY,
              "date_of_birth": DOB, "address": "", "gender": "", "language": "fr"}
    fields.update(override)
    return [(k, v) for k, v in fields.items() if v is not None]


def audit_rows(s, action):
    db = sqlite3.connect(os.path.join(s.data, "civicard.db"))
    try:
        return db.execute("SELECT actor, subject, detail FROM audit_log WHERE action = ? ORDER BY id",
                          (action,)).fetchall()
    finally:
        db.close()


_card = {}


def the_card(s):
    """Issue the test's card through the form, once: (number, page)."""
    if "n" not in _card:
        b = clerk(s)
        fields = issue_fields(b, address=HOSTILE_ADDRESS, gender="F") + [("evidence", "passport")]
        status, h, page = b.post_multipart("/cards/new", fields,
                                           [("photo", "face.jpg", photo(), "image/jpeg")])
        check(status == 201, f"issue: {status}\n{page[:2000] if isinstance(page, str) else page[:200]}")
        m = re.search(r'data-card-url="/cards/([0-9A-Z]{11})"', page)
        check(m, "the page links to the new card")
        _card["n"], _card["page"], _card["headers"] = m.group(1), page, h
    return _card["n"], _card["page"]


def formatted(n):
    return f"{n[:4]}-{n[4:8]}-{n[8:]}"


# ---------------------------------------------------------------- tests

@test
def log_in_through_the_form(s):
    b = clerk(s)
    status, _, page = b.get("/dashboard")
    check(status == 200 and CLERK[0] in page, f"dashboard: {status}")
    check('href="/cards/new"' in page and 'href="/cards/search"' in page, "links to the card pages")


@test
def issue_form_has_every_field_and_nothing_forbidden(s):
    b = clerk(s)
    status, h, page = b.get("/cards/new")
    check(status == 200 and h["Content-Type"].startswith("text/html"), f"GET /cards/new: {status}")
    check("no-store" in h.get("Cache-Control", ""), "no-store")
    check(csrf_of(page) == csrf_of(b.get("/dashboard")[2]), "the session's CSRF token")
    form = Form(page).controls
    for f in FIELDS:
        check(f in form, f"field {f}")
    check(form["photo"].get("type") == "file", "the photo is a file input")
    check('enctype="multipart/form-data"' in page and 'action="/cards/new"' in page, "multipart to /cards/new")
    names = set(form) - {"csrf"}
    check(names <= set(FIELDS), f"only the service's fields: {sorted(names - set(FIELDS))}")
    for word in NEVER:
        check(not re.search(r'(name|id)="[^"]*' + word, page, re.I), f"nothing asks for {word}")


@test
def issue_shows_number_and_code_once(s):
    n, page = the_card(s)
    h = _card["headers"]
    check("no-store" in h.get("Cache-Control", ""), "the receipt page is no-store")
    check("Location" not in h, "not a redirect: the code is in no URL")
    check(formatted(n) in page, "the card number, formatted")
    m = re.search(r'class="reprint-code">([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})<', page)
    check(m, "the reprint code on the receipt")
    code = m.group(1)
    check(page.count(code) == 1, "the code is shown once, in no link")
    check(esc(FAMILY) in page and esc(GIVEN) in page, "the names")
    # The resident prefers French: the receipt is in French, the page in English.
    fr = catalogue("fr")
    check('<section class="receipt" lang="fr"' in page, "receipt in the resident's language")
    check(esc(fr["card.receipt.title"]) in page, "French receipt text")
    check('<html lang="en">' in page, "the clerk's page stays in English")

    b = clerk(s)
    status, h, again = b.get(f"/cards/{n}")
    check(status == 200, f"GET /cards/{n}: {status}")
    check(code not in again and "reprint-code" not in again, "the code is never shown again")
    check(formatted(n) in again and esc(FAMILY) in again, "the card page")
    status, h, _ = b.get(f"/cards/{formatted(n).lower()}")
    check(status == 200, "a formatted, lower-case number opens the card")
    check(audit_rows(s, "card.issue")[-1][:2] == (CLERK[0], n), "issue audited")


@test
def hostile_address_is_escaped(s):
    n, issued = the_card(s)
    _, _, page = clerk(s).get(f"/cards/{n}")
    for p in (issued, page):
        check(esc(HOSTILE_ADDRESS) in p, "the address, escaped")
        check("<script>alert" not in p, "never raw")
        check("\"quoted\"" not in p and "'single'" not in p and " & Co" not in p, "quotes and & escaped")


@test
def field_errors_beside_the_fields(s):
    b = clerk(s)
    before = len(audit_rows(s, "card.issue"))
    fields = issue_fields(b, given_names="", family_name="   ", address="Apt 4 <b>")
    status, _, page = b.post_multipart("/cards/new", fields, [("photo", "face.jpg", photo(), "image/jpeg")])
    check(status == 400, f"empty names: {status}")
    form = Form(page).controls
    for f in ("given_names", "family_name"):
        check(form[f].get("aria-invalid") == "true", f"{f} marked invalid")
        check(f'id="{f}-error"' in page and f"{f}-error" in form[f].get("aria-describedby", ""),
              f"{f}: its message, tied to the field")
        check(f'<a href="#{f}">' in page, f"{f} in the error summary")
    en = catalogue("en")
    check(esc(en["card.error.given_names_required"]) in page, "the given-names message")
    check(esc(en["card.error.family_name_required"]) in page, "the family-name message")
    check(form["date_of_birth"].get("value") == DOB, "date of birth kept")
    check(form["address"].get("value") == "Apt 4 <b>", "address kept (and escaped)")
    check("Apt 4 &lt;b&gt;" in page, "escaped in the value attribute")
    check(form["date_of_birth"].get("aria-invalid") is None, "a good field is not marked")
    check('value="fr" selected' in page, "the language choice kept")
    check(len(audit_rows(s, "card.issue")) == before, "nothing issued")

    # A missing photo and a bad date.
    status, _, page = b.post_multipart("/cards/new", issue_fields(b, date_of_birth="1990-02-30"), [])
    form = Form(page).controls
    check(status == 400 and form["photo"].get("aria-invalid") == "true", f"no photo: {status}")
    check(form["given_names"].get("value") == GIVEN and form["family_name"].get("value") == FAMILY,
          "names kept")


@test
def csrf_required_to_issue(s):
    b = clerk(s)
    other = clerk(s)   # another session of the same clerk: another token
    before = len(audit_rows(s, "card.issue"))
    login_token = csrf_of(Browser(s).get("/login")[2])
    tokens = {"missing": None, "wrong": "A" * 43, "another session's": csrf_of(other.get("/cards/new")[2]),
              "the login page's": login_token}
    for what, tok in tokens.items():
        fields = issue_fields(b, csrf=tok, family_name="Csrfxyz")
        status, _, page = b.post_multipart("/cards/new", fields, [("photo", "face.jpg", photo(), "image/jpeg")])
        check(status == 403, f"{what} CSRF token: {status}")
        check("reprint-code" not in page, f"{what}: no card")
    check(len(audit_rows(s, "card.issue")) == before, "nothing issued")
    status, _, page = b.post_form("/cards/search", [("csrf", csrf_of(b.get("/cards/search")[2])),
                                                    ("family_name", "Csrfxyz"), ("date_of_birth", DOB)])
    check(status == 200 and "result-list" not in page, "and nothing found")


@test
def search_by_post(s):
    n, _ = the_card(s)
    b = clerk(s)
    status, h, page = b.get("/cards/search")
    check(status == 200, f"GET /cards/search: {status}")
    check(re.search(r'<form method="post" action="/cards/search"[^>]*>\s*<input type="hidden" name="csrf"', page),
          "the name search is a POST form with the CSRF token")
    check(not re.search(r'<form method="get"[^>]*>(?:(?!</form>).)*name="family_name"', page, re.S),
          "no GET form carries a name")
    before = len(audit_rows(s, "card.search"))
    for typed in (FAMILY.upper(), FAMILY.lower(), FAMILY):
        status, h, page = b.post_form("/cards/search", [("csrf", csrf_of(page)), ("family_name", typed),
                                                        ("date_of_birth", DOB)])
        check(status == 200, f"search {typed!r}: {status}")
        check(f'href="/cards/{n}"' in page, f"search {typed!r} finds the card")
        check("no-store" in h.get("Cache-Control", ""), "the results are no-store")
        check("Location" not in h, "answered directly, not redirected")
        check(Form(page).controls["family_name"].get("value") == typed, "the name as typed, in the form")
    rows = audit_rows(s, "card.search")
    check(len(rows) == before + 3, "each search audited")
    check(all(r[0] == CLERK[0] and r[1] == "" and r[2] == "1 found" for r in rows[before:]),
          f"only the count: {rows[before:]}")

    # No card, and field errors.
    status, _, page = b.post_form("/cards/search", [("csrf", csrf_of(page)), ("family_name", FAMILY),
                                                    ("date_of_birth", "1987-11-24")])
    check(status == 200 and esc(catalogue("en")["card.search.none"]) in page, "no card found")
    check("result-list" not in page, "no results listed")
    status, _, page = b.post_form("/cards/search", [("csrf", csrf_of(page)), ("family_name", ""),
                                                    ("date_of_birth", "1987-02-31")])
    form = Form(page).controls
    check(status == 400, f"empty name, bad date: {status}")
    check(form["family_name"].get("aria-invalid") == "true" and form["date_of_birth"].get("aria-invalid") == "true",
          "both fields marked")
    check(form["date_of_birth"].get("value") == "1987-02-31", "the date as typed")
    check(len(audit_rows(s, "card.search")) == before + 4, "a refused search is not audited")
    # Without the token: refused.
    status, _, page = b.post_form("/cards/search", [("family_name", FAMILY), ("date_of_birth", DOB)])
    check(status == 403 and f"/cards/{n}" not in page, f"search without CSRF: {status}")


@test
def search_by_get_with_a_name_does_not_search(s):
    n, _ = the_card(s)
    b = clerk(s)
    before = len(audit_rows(s, "card.search"))
    q = urlencode({"family_name": FAMILY, "date_of_birth": DOB})
    status, _, page = b.get("/cards/search?" + q)
    check(status == 200, f"GET with a name: {status}")
    check(f"/cards/{n}" not in page and "result-list" not in page, "no results")
    check(esc(FAMILY) not in page and FAMILY not in page and DOB not in page, "the name is not written back")
    check(len(audit_rows(s, "card.search")) == before, "no search ran")
    # The card number search stays a GET: a card number is no personal data.
    status, h, _ = b.get("/cards/search?card_number=" + formatted(n).lower())
    check(status == 303 and h["Location"] == f"/cards/{n}", f"by number: {status} {h.get('Location')}")
    status, _, page = b.get("/cards/search?card_number=" + n[:-1] + ("2" if n[-1] != "2" else "3"))
    check(status == 400 and Form(page).controls["card_number"].get("aria-invalid") == "true", "mistyped number")


@test
def photo_and_pdf(s):
    n, _ = the_card(s)
    b = clerk(s)
    status, h, data = b.get(f"/cards/{n}/photo")
    check(status == 200 and h["Content-Type"] == "image/jpeg" and data[:2] == b"\xff\xd8", f"photo: {status}")
    check("no-store" in h.get("Cache-Control", ""), "the photo is not cached")
    status, h, data = b.get(f"/cards/{n}/pdf")
    check(status == 200 and h["Content-Type"] == "application/pdf" and data[:5] == b"%PDF-", f"pdf: {status}")
    status, h, data = b.get(f"/cards/{n}/pdf?format=sheet")
    check(status == 200 and data[:5] == b"%PDF-", f"A4 pdf: {status}")
    check(b.get("/cards/K7QM4TXP9WX/pdf")[0] in (400, 404), "an unknown card has no PDF")


@test
def auditors_and_strangers_kept_out(s):
    n, _ = the_card(s)
    a = auditor(s)
    paths = ["/cards/new", "/cards/search", f"/cards/{n}", f"/cards/{n}/photo", f"/cards/{n}/pdf"]
    for p in paths:
        status, _, page = a.get(p)
        check(status == 403, f"auditor GET {p}: {status}")
        check(isinstance(page, str) and esc(FAMILY) not in page, f"auditor {p}: an error page, no card")
    csrf = csrf_of(a.get("/dashboard")[2])
    status, _, page = a.post_form("/cards/search", [("csrf", csrf), ("family_name", FAMILY), ("date_of_birth", DOB)])
    check(status == 403 and f"/cards/{n}" not in page, f"auditor search: {status}")
    status, _, _ = a.post_multipart("/cards/new", issue_fields(clerk(s), csrf=csrf, family_name="Auditxyz"),
                                    [("photo", "face.jpg", photo(), "image/jpeg")])
    check(status == 403, f"auditor issue: {status}")
    nobody = Browser(s)
    for p in paths:
        status, h, _ = nobody.get(p)
        check(status == 303 and h["Location"] == "/login", f"no session GET {p}: {status}")
    status, h, _ = nobody.post_form("/cards/search", [("family_name", FAMILY), ("date_of_birth", DOB)])
    check(status == 303 and h["Location"] == "/login", f"no session search: {status}")
    body, ct = multipart(issue_fields(clerk(s), csrf=None), [("photo", "face.jpg", photo(), "image/jpeg")])
    status, h, _ = nobody.request("POST", "/cards/new", body, {"Content-Type": ct})
    check(status == 303 and h["Location"] == "/login", f"no session issue: {status}")


@test
def pages_in_french(s):
    n, _ = the_card(s)
    fr = catalogue("fr")
    b = clerk(s, lang="fr-CA,fr;q=0.9,en;q=0.5")
    _, _, new = b.get("/cards/new")
    _, _, search = b.get("/cards/search")
    _, _, view = b.get(f"/cards/{n}")
    for page, key in ((new, "card.new.title"), (search, "card.search.title"), (view, "card.view.title")):
        check('<html lang="fr">' in page, f"{key}: a French page")
        check(esc(fr[key]) in page, f"{key} in French")
    check(esc(fr["card.field.given_names"]) in new, "field labels in French")
    status, _, page = b.post_form("/cards/search", [("csrf", csrf_of(search)), ("family_name", ""),
                                                    ("date_of_birth", DOB)])
    check(status == 400 and esc(fr["card.error.family_name_required"]) in page, "errors in French")
    status, _, page = b.post_form("/cards/search", [("csrf", csrf_of(search)), ("family_name", FAMILY),
                                                    ("date_of_birth", DOB)])
    check(status == 200 and esc(fr["card.search.results"]) in page, "results in French")
    check(f'href="/cards/{n}"' in page, "and the card found")
    status, _, page = auditor(s).request("GET", "/cards/new", headers={"Accept-Language": "fr"})
    check(status == 403 and esc(fr["error.403"]) in page, "the error page in French")


class CspCheck(HTMLParser):
    """Inline script bodies, style attributes and event-handler attributes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []
        self.in_script = False

    def handle_starttag(self, tag, attrs):
        names = [k for k, _ in attrs]
        if "style" in names:
            self.problems.append(f"style= on <{tag}>")
        self.problems += [f"{k}= on <{tag}>" for k in names if k.startswith("on")]
        if tag == "style":
            self.problems.append("a <style> element")
        if tag == "script":
            src = dict(attrs).get("src") or ""
            if not src.startswith("/static/"):
                self.problems.append(f"<script> without a /static/ src: {attrs}")
            self.in_script = True

    def handle_endtag(self, tag):
        if tag == "script":
            self.in_script = False

    def handle_data(self, data):
        if self.in_script and data.strip():
            self.problems.append(f"an inline script body: {data.strip()[:60]!r}")


@test
def every_page_obeys_the_csp(s):
    check(len(PAGES) >= 30, f"the tests above fetched pages: {len(PAGES)}")
    seen = set()
    for where, page in PAGES:
        p = CspCheck()
        p.feed(page)
        p.close()
        check(not p.problems, f"{where}: {p.problems}")
        # The parser aside, plain text checks as the CSP reads them.
        check(not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), f"{where}: inline <script>")
        check(not re.search(r"<script[^>]*>[^<]+</script>", page), f"{where}: a script body")
        check(not re.search(r"\sstyle\s*=", page), f"{where}: a style= attribute")
        seen.add(where.split(" ")[1].split("?")[0])
    for p in ("/cards/new", "/cards/search", "/login", "/dashboard"):
        check(p in seen, f"{p} was among the pages checked")
    check(any(re.fullmatch(r"/cards/[0-9A-Z]{11}", p) for p in seen), "a card page was checked")
    _, h, _ = clerk(s).get("/cards/new")
    csp = h.get("Content-Security-Policy", "")
    check("script-src 'self'" in csp and "unsafe-inline" not in csp, f"the CSP: {csp}")


@test
def no_name_in_the_log(s):
    log = "".join(s.stderr)
    for secret in (FAMILY, GIVEN, FAMILY.upper(), FAMILY.lower(), CLERK[1], AUDITOR[1]):
        check(secret not in log, f"{secret!r} reached the log")
    check("Ebrard" not in log and "%C3%89brard" not in log, "not even URL-encoded")


if __name__ == "__main__":
    MAKE_PHOTO = os.path.abspath(sys.argv[2])
    sys.exit(harness.run_tests(os.path.abspath(sys.argv[1])))
