#!/usr/bin/env python3
"""Black-box tests of the clerk's card pages, driven as a browser drives
them: a cookie jar, CSRF tokens scraped from each form, urlencoded and
multipart posts, and the HTML read back.

usage: test_pages.py path/to/civicard path/to/make-photo"""

import os
import re
import sqlite3
from html.parser import HTMLParser
from urllib.parse import urlencode

import cardlib
from cardlib import multipart, photo
from harness import check, test
from pagelib import PAGES, Browser, catalogue, check_csp, csrf_of, esc

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


@test
def unknown_pages_speak_the_browsers_language(s):
    """A 404 or 405 is decided before any handler runs: its page must
    still follow the browser's language, the ?lang= switch and the cookie."""
    for lang, header in (("fr", "fr-CA,fr;q=0.9"), ("es", "es-MX,es;q=0.9,en;q=0.3")):
        cat = catalogue(lang)
        b = Browser(s, header)
        status, _, page = b.get("/no-such-page")
        check(status == 404 and f'<html lang="{lang}">' in page and esc(cat["error.404"]) in page,
              f"404 in {lang}: {status}")
        check('class="lang-switch"' in page, "with the language switch")
        status, _, page = b.request("DELETE", "/reprint")
        check(status == 405 and f'<html lang="{lang}">' in page, f"405 in {lang}: {status}")
    b = Browser(s, "en")
    status, _, page = b.get("/no-such-page?lang=es")
    check(status == 404 and '<html lang="es">' in page, f"the switch on a 404 page: {status}")
    status, _, page = b.get("/also-missing")
    check('<html lang="es">' in page, "and the choice is remembered")


# ---------------------------------------------- revoke, reissue, renew

def new_card(s, family):
    """Issue one more card through the form, for the tests that change it:
    (number, the issued page)."""
    b = clerk(s)
    status, _, page = b.post_multipart("/cards/new", issue_fields(b, family_name=family),
                                       [("photo", "face.jpg", photo(), "image/jpeg")])
    check(status == 201, f"issue {family}: {status}")
    m = re.search(r'data-card-url="/cards/([0-9A-Z]{11})"', page)
    check(m, "the new card's number")
    return m.group(1), page


def api_card(s, n):
    """The card as the API shows it, with a clerk's token."""
    user(s, CLERK, "clerk")
    status, _, body = s.login(*CLERK)
    check(status == 200, f"clerk API login: {status}")
    status, _, card = s.json("GET", f"/api/v1/cards/{n}", token=body["token"])
    check(status == 200, f"GET /api/v1/cards/{n}: {status}")
    return card


def verify(s, qr):
    status, _, body = s.json("POST", "/api/v1/verify", {"qr": qr})
    check(status == 200, f"verify: {status}")
    return body["result"]


def reprint_code(page):
    m = re.search(r'class="reprint-code">([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})<', page)
    check(m, "a reprint code on the receipt")
    return m.group(1)


def version_shown(page):
    label = esc(catalogue("en")["card.label.version"])
    m = re.search(r"<dt>" + re.escape(label) + r"</dt><dd>(\d+)</dd>", page)
    check(m, "the version on the page")
    return int(m.group(1))


def action_form(page, action):
    """The controls of the card page's form that posts to …/action, or None."""
    m = re.search(r'<form method="post" action="/cards/[0-9A-Z]{11}/' + action + r'"[^>]*>(.*?)</form>',
                  page, re.S)
    return Form(m.group(0)).controls if m else None


_revoked = {}


@test
def revoke_through_the_page(s):
    en = catalogue("en")
    n, _ = new_card(s, "Révocationxyz")
    b = clerk(s)
    old = api_card(s, n)
    check(old["status"] == "active" and verify(s, old["qr_text"]) == "valid", "a working card to start with")

    # The card page offers all three, each a POST form with the CSRF token.
    status, _, page = b.get(f"/cards/{n}")
    check(status == 200 and esc(en["card.actions.heading"]) in page, f"the actions section: {status}")
    csrf = csrf_of(page)
    revoke = action_form(page, "revoke")
    check(revoke is not None, "a revoke form")
    check(revoke["csrf"].get("value") == csrf, "the revoke form carries the CSRF token")
    check("required" in revoke["reason"], "a reason is required")
    reasons = re.findall(r'<option value="([a-z]*)"', page)
    check(reasons == ["", "lost", "stolen", "damaged", "error", "other"], f"the reasons: {reasons}")
    check(esc(en["card.revoke.stolen"]) in page, "reasons in words")
    check(revoke["confirm"].get("type") == "checkbox" and "required" in revoke["confirm"],
          "a confirmation box, required")
    check(esc(en["card.actions.revoke_confirm"]) in page, "the confirmation says what it does")
    check(set(revoke) == {"csrf", "reason", "confirm"}, f"only those fields: {sorted(revoke)}")
    for a in ("reissue", "renew"):
        f = action_form(page, a)
        check(f is not None and set(f) == {"csrf"} and f["csrf"].get("value") == csrf, f"a {a} form, CSRF only")
    before = len(audit_rows(s, "card.revoke"))

    def still_working(what):
        check(api_card(s, n)["status"] == "active", f"{what}: the card is not revoked")
        check(verify(s, old["qr_text"]) == "valid", f"{what}: it still verifies")
        check(len(audit_rows(s, "card.revoke")) == before, f"{what}: nothing audited")

    # Without the confirmation: refused, the message beside the box.
    status, _, page = b.post_form(f"/cards/{n}/revoke", [("csrf", csrf), ("reason", "lost")])
    check(status == 400, f"no confirmation: {status}")
    form = action_form(page, "revoke")
    check(form["confirm"].get("aria-invalid") == "true", "the box marked")
    check('id="revoke-confirm-error"' in page and esc(en["card.error.confirm_required"]) in page,
          "the message beside the box")
    check('<a href="#revoke-confirm">' in page, "and in the error summary")
    check('value="lost" selected' in page, "the reason chosen is kept")
    check("checked" not in form["confirm"], "the box must be ticked again")
    still_working("no confirmation")
    # Confirmed, without a reason, or with one not on the list.
    for reason, key in (("", "card.error.reason_required"), ("sold", "card.error.reason_invalid")):
        status, _, page = b.post_form(f"/cards/{n}/revoke", [("csrf", csrf), ("reason", reason),
                                                             ("confirm", "yes")])
        check(status == 400 and esc(en[key]) in page, f"reason {reason!r}: {status}")
        check(action_form(page, "revoke")["reason"].get("aria-invalid") == "true", "the reason marked")
        check('<a href="#revoke-reason">' in page, "in the error summary")
        still_working(f"reason {reason!r}")
    # A field the form does not have.
    status, _, page = b.post_form(f"/cards/{n}/revoke", [("csrf", csrf), ("reason", "lost"), ("confirm", "yes"),
                                                         ("note", "x")])
    check(status == 400 and esc(en["card.action_error.unknown_field"]) in page, f"an unknown field: {status}")
    still_working("unknown field")
    # A wrong, missing or other session's CSRF token.
    other = csrf_of(clerk(s).get("/dashboard")[2])
    for what, tok in (("wrong", "A" * 43), ("missing", None), ("another session's", other)):
        fields = [("reason", "lost"), ("confirm", "yes")] + ([("csrf", tok)] if tok else [])
        status, _, page = b.post_form(f"/cards/{n}/revoke", fields)
        check(status == 403, f"{what} CSRF token: {status}")
        still_working(f"{what} CSRF token")
    # An auditor, and nobody.
    a = auditor(s)
    status, _, _ = a.post_form(f"/cards/{n}/revoke", [("csrf", csrf_of(a.get("/dashboard")[2])),
                                                      ("reason", "lost"), ("confirm", "yes")])
    check(status == 403, f"an auditor revoking: {status}")
    status, h, _ = Browser(s).post_form(f"/cards/{n}/revoke", [("reason", "lost"), ("confirm", "yes")])
    check(status == 303 and h["Location"] == "/login", f"nobody revoking: {status}")
    still_working("auditor and nobody")

    # Confirmed, with a reason: revoked.
    status, h, page = b.post_form(f"/cards/{n}/revoke", [("csrf", csrf), ("reason", "stolen"), ("confirm", "yes")])
    check(status == 200, f"revoke: {status}")
    check("Location" not in h, "answered with the page")
    check(esc(en["card.actions.revoked_now"]) in page, "the page says it was revoked")
    check(f'data-card-url="/cards/{n}"' in page, "a reload shows the card page, not the POST again")
    check(esc(en["card.status.revoked"]) + " (" + esc(en["card.revoke.stolen"]) + ")" in page,
          "the status in words, with the reason")
    check(action_form(page, "revoke") is None, "no revoke form on a revoked card")
    check(action_form(page, "reissue") is not None and action_form(page, "renew") is not None,
          "a revoked card can still be reissued or renewed")
    rows = audit_rows(s, "card.revoke")
    check(len(rows) == before + 1 and rows[-1] == (CLERK[0], n, "version 1: stolen"), f"audited: {rows[-1:]}")
    # The card page, the API and a check all say so.
    status, _, page = b.get(f"/cards/{n}")
    check(status == 200 and 'class="status status-revoked"' in page, f"the card page: {status}")
    check(esc(en["card.status.revoked"]) in page and esc(en["card.revoke.stolen"]) in page, "revoked, in words")
    check(esc(en["card.actions.revoked_now"]) not in page, "the notice only once")
    card = api_card(s, n)
    check(card["status"] == "revoked" and card["revoke_reason"] == "stolen", f"the API: {card['status']}")
    check(verify(s, old["qr_text"]) == "revoked", "the old QR code verifies as revoked")

    # Again: a plain message, 409, nothing changed.
    status, _, page = b.post_form(f"/cards/{n}/revoke", [("csrf", csrf), ("reason", "lost"), ("confirm", "yes")])
    check(status == 409 and esc(en["card.action_error.already_revoked"]) in page, f"revoked twice: {status}")
    check(len(audit_rows(s, "card.revoke")) == before + 1, "not audited again")
    check(api_card(s, n)["revoke_reason"] == "stolen", "the reason unchanged")
    _revoked.update(n=n, qr=old["qr_text"])


@test
def reissue_and_renew_through_the_page(s):
    en, fr = catalogue("en"), catalogue("fr")
    n, issued = new_card(s, "Remplacementxyz")
    first_code = reprint_code(issued)
    b = clerk(s)
    v1 = api_card(s, n)
    check(v1["version"] == 1 and verify(s, v1["qr_text"]) == "valid", "version 1 works")
    _, _, page = b.get(f"/cards/{n}")
    csrf = csrf_of(page)

    # Refused: a wrong CSRF token, a field these forms do not have; an auditor.
    for a in ("reissue", "renew"):
        status, _, _ = b.post_form(f"/cards/{n}/{a}", [("csrf", "A" * 43)])
        check(status == 403, f"{a} with a wrong CSRF token: {status}")
        status, _, _ = b.post_form(f"/cards/{n}/{a}", [])
        check(status == 403, f"{a} without a CSRF token: {status}")
        status, _, page = b.post_form(f"/cards/{n}/{a}", [("csrf", csrf), ("expires_on", "2099-01-01")])
        check(status == 400 and esc(en["card.action_error.unknown_field"]) in page, f"{a} with a field: {status}")
        aud = auditor(s)
        status, _, _ = aud.post_form(f"/cards/{n}/{a}", [("csrf", csrf_of(aud.get("/dashboard")[2]))])
        check(status == 403, f"an auditor's {a}: {status}")
    check(api_card(s, n)["version"] == 1 and verify(s, v1["qr_text"]) == "valid", "nothing changed")
    check(not audit_rows(s, "card.reissue") or all(r[1] != n for r in audit_rows(s, "card.reissue")),
          "no reissue audited")

    # Reissue: version 2, the same expiry, a new reprint code on the receipt.
    status, h, page = b.post_form(f"/cards/{n}/reissue", [("csrf", csrf)])
    check(status == 201, f"reissue: {status}")
    check("Location" not in h and "no-store" in h.get("Cache-Control", ""), "the receipt page, not a redirect, no-store")
    check(esc(en["card.view.issued"]) in page and esc(en["card.actions.replaced"]) in page,
          "issued, and the previous card no longer works")
    check(version_shown(page) == 2, "version 2")
    code2 = reprint_code(page)
    check(code2 != first_code and page.count(code2) == 1, "a new reprint code, shown once")
    check('<section class="receipt" lang="fr"' in page and esc(fr["card.receipt.title"]) in page,
          "the receipt in the resident's language")
    check(f'data-card-url="/cards/{n}"' in page, "a reload shows the card page, not the POST again")
    v2 = api_card(s, n)
    check(v2["version"] == 2 and v2["status"] == "active", f"the API: version {v2['version']}")
    check(v2["expires_on"] == v1["expires_on"], "a reissue keeps the expiry date")
    check(v2["qr_text"] != v1["qr_text"], "a new QR code")
    check(verify(s, v1["qr_text"]) == "revoked", "the old QR code verifies as revoked")
    check(verify(s, v2["qr_text"]) == "valid", "the new one as valid")
    check(audit_rows(s, "card.reissue")[-1][:2] == (CLERK[0], n), "the reissue audited")
    check(code2 not in b.get(f"/cards/{n}")[2], "the code is never shown again")

    # Renew: version 3, from today.
    status, h, page = b.post_form(f"/cards/{n}/renew", [("csrf", csrf)])
    check(status == 201 and "Location" not in h, f"renew: {status}")
    check(version_shown(page) == 3, "version 3")
    code3 = reprint_code(page)
    check(code3 not in (first_code, code2), "another new reprint code")
    check(esc(en["card.actions.replaced"]) in page, "the previous card no longer works")
    v3 = api_card(s, n)
    check(v3["version"] == 3 and v3["issued_on"] >= v2["issued_on"], f"the API: version {v3['version']}")
    check(v3["expires_on"] > v3["issued_on"], "a new validity period")
    for old in (v1, v2):
        check(verify(s, old["qr_text"]) == "revoked", f"version {old['version']} verifies as revoked")
    check(verify(s, v3["qr_text"]) == "valid", "version 3 as valid")
    check(audit_rows(s, "card.renew")[-1][:2] == (CLERK[0], n), "the renewal audited")

    # The card revoked above (stolen) is replaced the same way.
    if _revoked:
        r = _revoked["n"]
        status, _, page = b.post_form(f"/cards/{r}/reissue", [("csrf", csrf)])
        check(status == 201 and version_shown(page) == 2, f"reissue a revoked card: {status}")
        reprint_code(page)
        check(verify(s, _revoked["qr"]) == "revoked", "its old QR code stays revoked")
        check(verify(s, api_card(s, r)["qr_text"]) == "valid", "the replacement works")

    # In French and Spanish too.
    for lang in ("fr", "es"):
        cat = catalogue(lang)
        _, _, page = clerk(s, lang=lang).get(f"/cards/{n}")
        for key in ("card.actions.heading", "card.actions.revoke_confirm", "card.actions.reissue_submit",
                    "card.actions.renew_submit"):
            check(esc(cat[key]) in page, f"{key} in {lang}")


@test
def expired_card_is_renewed_not_reissued(s):
    en = catalogue("en")
    n, _ = new_card(s, "Expirationxyz")
    db = sqlite3.connect(os.path.join(s.data, "civicard.db"))
    try:
        with db:
            db.execute("UPDATE cards SET issued_on = '2015-01-01', expires_on = '2020-01-01' WHERE card_number = ?",
                       (n,))
    finally:
        db.close()
    b = clerk(s)
    status, _, page = b.get(f"/cards/{n}")
    check(status == 200 and 'class="status status-expired"' in page, f"an expired card: {status}")
    check(action_form(page, "renew") is not None, "it can be renewed")
    check(action_form(page, "reissue") is None and action_form(page, "revoke") is None,
          "not reissued with a past expiry, nor revoked")
    check(esc(en["card.actions.reissue_expired"]) in page, "the page says why")
    status, _, page = b.post_form(f"/cards/{n}/reissue", [("csrf", csrf_of(page))])
    check(status == 409 and esc(en["card.action_error.expired_reissue"]) in page, f"reissue anyway: {status}")
    check(api_card(s, n)["version"] == 1, "nothing changed")
    status, _, page = b.post_form(f"/cards/{n}/renew", [("csrf", csrf_of(page))])
    check(status == 201 and version_shown(page) == 2, f"renew: {status}")
    card = api_card(s, n)
    check(card["status"] == "active" and card["expires_on"] > "2020-01-01", f"renewed: {card['expires_on']}")
    check(verify(s, card["qr_text"]) == "valid", "and it works")


@test
def card_actions_on_unknown_cards(s):
    b = clerk(s)
    csrf = csrf_of(b.get("/dashboard")[2])
    for a, fields in (("revoke", [("reason", "lost"), ("confirm", "yes")]), ("reissue", []), ("renew", [])):
        status, _, page = b.post_form(f"/cards/K7QM4TXP9WX/{a}", [("csrf", csrf)] + fields)
        check(status in (400, 404) and isinstance(page, str), f"{a} an unknown card: {status}")
        # The search page, the number marked: not the router's bare 404.
        number = Form(page).controls.get("card_number") or {}
        check(number.get("aria-invalid") == "true" and number.get("value") == "K7QM4TXP9WX",
              f"{a} an unknown card: the search page, the number marked")


@test
def every_page_obeys_the_csp(s):
    check(len(PAGES) >= 30, f"the tests above fetched pages: {len(PAGES)}")
    seen = set()
    for where, page in PAGES:
        check_csp(where, page)
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
    cardlib.main()
