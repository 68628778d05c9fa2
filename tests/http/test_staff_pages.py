#!/usr/bin/env python3
"""Black-box tests of the staff pages: the clerks' reprint queue
(/requests), the auditors' log (/audit) and the administrators' staff
accounts (/users), driven as a browser drives
them: a cookie jar, CSRF tokens scraped from each form, urlencoded posts,
and the HTML read back.

usage: test_staff_pages.py path/to/civicard path/to/make-photo"""

import os
import re
import sqlite3

import cardlib
from harness import check, test
from pagelib import PAGES, Browser, catalogue, check_csp, csrf_of, esc

CLERK = ("clerk-staff", "clerk staff password")        # invented
AUDITOR = ("auditor-staff", "auditor staff password")  # invented
ADMIN = ("admin-staff", "admin staff password")        # invented
DOB = "1990-02-14"

EN = None


def en(key):
    return esc(EN[key])


_users = set()


def login(s, who, role, lang="en"):
    if who[0] not in _users:
        r = s.cli("user", "add", who[0], "--role", role, stdin=who[1] + "\n")
        check(r.returncode == 0, f"user add {who[0]}: {r.stderr}")
        _users.add(who[0])
    return Browser(s, lang).login(*who)


def clerk(s, lang="en"):
    return login(s, CLERK, "clerk", lang)


def auditor(s, lang="en"):
    return login(s, AUDITOR, "auditor", lang)


def admin(s, lang="en"):
    return login(s, ADMIN, "admin", lang)


def new_card(s, family):
    status, _, c = cardlib.issue(s, "Tamsin", family, DOB)
    check(status == 201, f"issue: {status} {c}")
    return c


def ask(s, c, lost=False):
    status, _, r = s.json("POST", "/api/v1/reprint-requests",
                          {"card_number": c["card_number"], "date_of_birth": DOB,
                           "reprint_code": c["reprint_code"], "report_lost": lost})
    check(status == 202, f"reprint request: {status} {r}")
    return r["id"]


def request_status(s, rid):
    status, _, body = s.json("GET", "/api/v1/reprint-requests", token=cardlib.token(s))
    check(status == 200, f"the queue by the API: {status}")
    return next((r["status"] for r in body["requests"] if r["id"] == rid), None)


def verify(s, qr):
    status, _, body = s.json("POST", "/api/v1/verify", {"qr": qr})
    check(status == 200, f"verify: {status}")
    return body["result"]


def api_card(s, n):
    status, _, card = s.json("GET", f"/api/v1/cards/{n}", token=cardlib.token(s))
    check(status == 200, f"GET /api/v1/cards/{n}: {status}")
    return card


def pending_ids(page):
    """The requests the queue page offers to decide."""
    return {int(x) for x in re.findall(r'action="/requests/(\d+)/approve"', page)}


def audit_count(s):
    db = sqlite3.connect(os.path.join(s.data, "civicard.db"))
    try:
        return db.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    finally:
        db.close()


def reprint_code(page):
    m = re.search(r'class="reprint-code">([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})<', page)
    check(m, "a reprint code on the receipt")
    return m.group(1)


def version_shown(page):
    m = re.search(r"<dt>" + re.escape(en("card.label.version")) + r"</dt><dd>(\d+)</dd>", page)
    check(m, "the version on the page")
    return int(m.group(1))


# ---- the reprint queue ----

@test
def queue_lists_a_request_and_approving_reissues(s):
    c = new_card(s, "Staffqueuexyz")
    rid = ask(s, c)
    b = clerk(s)
    status, _, page = b.get("/requests")
    check(status == 200, f"GET /requests: {status}")
    check(rid in pending_ids(page), "the request is in the queue")
    check(f'action="/requests/{rid}/reject"' in page, "with a reject form")
    check(f'href="/cards/{c["card_number"]}"' in page, "the card number links to the card")
    check(en("requests.kind.reprint") in page, "a reprint, in words")
    # Newest first.
    rid2 = ask(s, new_card(s, "Staffqueuebxyz"))
    page = b.get("/requests")[2]
    ids = [int(x) for x in re.findall(r'action="/requests/(\d+)/approve"', page)]
    check(ids == sorted(ids, reverse=True) and ids.index(rid2) < ids.index(rid), f"newest first: {ids}")

    status, h, page = b.post_form(f"/requests/{rid}/approve", [("csrf", csrf_of(page))])
    check(status == 201, f"approve: {status}")
    check("Location" not in h, "answered with the page: the code is in no URL")
    check(version_shown(page) == 2, "version 2")
    code = reprint_code(page)
    check(code != c["reprint_code"], "a new reprint code")
    check(en("card.actions.replaced") in page, "the page says earlier versions no longer work")
    check(verify(s, c["qr_text"]) == "revoked", "the old version is revoked")
    now = api_card(s, c["card_number"])
    check(now["version"] == 2 and verify(s, now["qr_text"]) == "valid", "the new one is valid")
    check(request_status(s, rid) == "approved", "decided")

    # Gone from the pending list, shown among the decided.
    page = b.get("/requests")[2]
    check(rid not in pending_ids(page), "no longer pending")
    check(en("requests.approved") in page, "among the decided")
    # Twice: 409, a plain message, nothing new.
    status, _, page = b.post_form(f"/requests/{rid}/approve", [("csrf", csrf_of(page))])
    check(status == 409 and en("requests.notice.already_decided") in page, f"approve again: {status}")
    check(api_card(s, c["card_number"])["version"] == 2, "no third version")


@test
def rejecting_removes_it_from_the_queue(s):
    c = new_card(s, "Staffrejectxyz")
    rid = ask(s, c, lost=True)
    b = clerk(s)
    page = b.get("/requests")[2]
    check(rid in pending_ids(page), "queued")
    check(en("requests.kind.lost") in page, "reported lost, in words")
    status, h, page = b.post_form(f"/requests/{rid}/reject", [("csrf", csrf_of(page))])
    check(status == 200 and "Location" not in h, f"reject: {status}")
    check(rid not in pending_ids(page), "no longer pending")
    check(en("requests.notice.rejected") in page and 'role="status"' in page, "a notice")
    check(request_status(s, rid) == "rejected", "rejected")
    check(api_card(s, c["card_number"])["version"] == 1, "no new version")
    status, _, page = b.post_form(f"/requests/{rid}/reject", [("csrf", csrf_of(page))])
    check(status == 409 and en("requests.notice.already_decided") in page, f"reject again: {status}")
    status, _, page = b.post_form(f"/requests/{rid}/approve", [("csrf", csrf_of(page))])
    check(status == 409, f"approve a rejected request: {status}")
    check(api_card(s, c["card_number"])["version"] == 1, "still no new version")


@test
def wrong_csrf_decides_nothing(s):
    c = new_card(s, "Staffcsrfxyz")
    rid = ask(s, c)
    b = clerk(s)
    page = b.get("/requests")[2]
    for what, fields in (("a wrong", [("csrf", "x" * len(csrf_of(page)))]), ("no", [])):
        for a in ("approve", "reject"):
            status, _, _ = b.post_form(f"/requests/{rid}/{a}", fields)
            check(status == 403, f"{a} with {what} CSRF token: {status}")
    check(request_status(s, rid) == "pending", "nothing decided")
    check(api_card(s, c["card_number"])["version"] == 1, "no new version")
    # Another field than the token: refused, nothing decided.
    status, _, _ = b.post_form(f"/requests/{rid}/approve", [("csrf", csrf_of(page)), ("note", "x")])
    check(status == 400 and request_status(s, rid) == "pending", f"an unknown field: {status}")
    for bad in ("999999", "0", "abc", "-1"):
        status, _, _ = b.post_form(f"/requests/{bad}/approve", [("csrf", csrf_of(page))])
        check(status == 404, f"approve request {bad}: {status}")


@test
def dashboard_links_by_role(s):
    ask(s, new_card(s, "Staffdashxyz"))
    b = clerk(s)
    page = b.get("/dashboard")[2]
    check('href="/requests"' in page and 'href="/audit"' not in page, "a clerk: the queue only")
    pending = len(pending_ids(b.get("/requests")[2]))
    check(pending >= 1 and f'<strong class="count">{pending}</strong>' in page,
          f"the pending count {pending}")
    page = auditor(s).get("/dashboard")[2]
    check('href="/audit"' in page and 'href="/requests"' not in page, "an auditor: the log only")


@test
def who_may_see_what(s):
    a, c = auditor(s), clerk(s)
    status, _, page = a.get("/requests")
    check(status == 403, f"an auditor on /requests: {status}")
    status, _, _ = a.post_form("/requests/1/approve", [("csrf", csrf_of(page))])
    check(status == 403, f"an auditor approving: {status}")
    status, _, _ = c.get("/audit")
    check(status == 403, f"a clerk on /audit: {status}")
    nobody = Browser(s)
    for p in ("/requests", "/audit"):
        status, h, _ = nobody.get(p)
        check(status == 303 and h["Location"] == "/login", f"no session GET {p}: {status}")
    status, h, _ = nobody.post_form("/requests/1/approve", [("csrf", "x")])
    check(status in (303, 403), f"no session approving: {status}")


# ---- the audit log ----

ACTIONS_SEEN = ("card.issue", "login", "reprint.request", "reprint.approve", "reprint.reject")


@test
def auditor_reads_an_intact_log(s):
    b = auditor(s)
    status, _, page = b.get("/audit")
    check(status == 200, f"GET /audit: {status}")
    n = audit_count(s)
    check(f"{en('audit.intact')} ({n} {en('audit.entries')})" in page, f"intact, {n} entries")
    check('role="status"' in page and "✓" in page, "in words and an icon")
    for a in ACTIONS_SEEN:
        check(en("audit.action." + a) in page, f"{a} in words")
    ids = [int(x) for x in re.findall(r"<tr>\n<td>(\d+)</td>", page)]
    check(ids and ids == sorted(ids, reverse=True) and len(ids) <= 100, f"newest first: {ids[:5]}")
    check(CLERK[0] in page, "who did it")


@test
def audit_pages_back_in_time(s):
    # Enough entries for two pages: a clerk viewing a card is audited.
    c = new_card(s, "Staffpagesxyz")
    b = clerk(s)
    for _ in range(110):
        check(b.get(f"/cards/{c['card_number']}")[0] == 200, "card view")
    a = auditor(s)
    page = a.get("/audit")[2]
    ids = [int(x) for x in re.findall(r"<tr>\n<td>(\d+)</td>", page)]
    check(len(ids) == 100, f"100 a page: {len(ids)}")
    m = re.search(r'href="/audit\?before=(\d+)"', page)
    check(m and int(m.group(1)) == ids[-1], "an older link from the last shown")
    check(en("audit.action.card.view") in page, "card.view in words")
    status, _, older = a.get(f"/audit?before={m.group(1)}")
    ids2 = [int(x) for x in re.findall(r"<tr>\n<td>(\d+)</td>", older)]
    check(status == 200 and ids2 and max(ids2) < ids[-1], f"older: {status} {ids2[:3]}")
    check('href="/audit"' in older, "a link back to the newest")
    for bad in ("abc", "-3", "0", ""):
        status, _, _ = a.get(f"/audit?before={bad}")
        check(status == 400, f"before={bad!r}: {status}")


TRIGGER = "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log " \
          "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END"


def alter_entry_2(db, detail):
    """What an attacker with the database file could do: lift the
    append-only trigger, change an entry, put the trigger back, all in one
    transaction (the server never sees the log unguarded)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("DROP TRIGGER audit_log_no_update")
        db.execute("UPDATE audit_log SET detail = ? WHERE id = 2", (detail,))
        db.execute(TRIGGER)
        db.execute("COMMIT")
    except Exception:
        db.execute("ROLLBACK")
        raise


@test
def a_broken_chain_is_said_in_words(s):
    db = sqlite3.connect(os.path.join(s.data, "civicard.db"), timeout=10, isolation_level=None)
    try:
        (old,) = db.execute("SELECT detail FROM audit_log WHERE id = 2").fetchone()
        alter_entry_2(db, old + " (altered)")
        try:
            status, _, page = auditor(s).get("/audit")
            check(status == 200, f"GET /audit: {status}")
            check(f"{en('audit.broken_at')} 2: {en('audit.broken.altered')}" in page, "broken at entry 2")
            check('role="alert"' in page and "✕" in page, "in words and an icon")
            check(en("audit.intact") not in page, "not intact")
        finally:
            alter_entry_2(db, old)
    finally:
        db.close()
    check(en("audit.intact") in auditor(s).get("/audit")[2], "intact again")


@test
def pages_in_french(s):
    fr = catalogue("fr")
    ask(s, new_card(s, "Stafffrenchxyz"))
    status, _, page = clerk(s, "fr").get("/requests")
    check(status == 200 and '<html lang="fr">' in page, f"French queue: {status}")
    for k in ("requests.title", "requests.approve", "requests.reject", "requests.kind.reprint"):
        check(esc(fr[k]) in page, f"{k} in French")
    status, _, page = auditor(s, "fr").get("/audit")
    check(status == 200 and esc(fr["audit.intact"]) in page, "the chain in French")
    check(esc(fr["audit.action.reprint.request"]) in page, "actions in French")
    page = auditor(s, "fr").get("/dashboard")[2]
    check(esc(fr["dashboard.audit_intro"]) in page, "the dashboard in French")


# ---- staff accounts (administrators) ----

OTP = re.compile(r'<p class="otp" lang="en"><span class="visually-hidden">[^<]*</span><strong>'
                 r'([0-9A-Z]{5}(?:-[0-9A-Z]{5}){3})</strong></p>')


def user_row(page, name):
    """The table row of account name, or None."""
    m = re.search(r'<tr>\n<th scope="row" class="username">' + re.escape(name) + r'</th>.*?</tr>',
                  page, re.S)
    return m.group(0) if m else None


def user_id(page, name):
    m = re.search(r'action="/users/(\d+)/(?:disable|enable)"', user_row(page, name) or "")
    check(m, f"{name}: a disable or enable form")
    return m.group(1)


def add_user(b, name, role):
    page = b.get("/users")[2]
    return b.post_form("/users", [("csrf", csrf_of(page)), ("username", name), ("role", role)])


def audited(s, action, subject):
    db = sqlite3.connect(os.path.join(s.data, "civicard.db"))
    try:
        return db.execute("SELECT actor FROM audit_log WHERE action = ? AND subject = ?"
                          " ORDER BY id DESC", (action, subject)).fetchone()
    finally:
        db.close()


@test
def admin_adds_a_clerk_who_must_choose_a_password(s):
    b = admin(s)
    page = b.get("/dashboard")[2]
    check('href="/users"' in page, "the dashboard leads an admin to the staff accounts")
    status, _, page = b.get("/users")
    check(status == 200, f"GET /users: {status}")
    check(user_row(page, ADMIN[0]) and en("users.self") in user_row(page, ADMIN[0]),
          "the admin's own row says it is theirs, without a disable button")
    check("password_hash" not in page and "$argon2" not in page, "no password hash on the page")
    # Typed with capitals and spaces: kept as the sign-in form wants it.
    status, _, page = add_user(b, "  Noor.Haddad-Test ", "clerk")
    check(status == 201, f"add: {status}")
    check(f"{en('users.notice.created')} <strong>noor.haddad-test</strong>" in page, "created, by name")
    m = OTP.search(page)
    check(m, "the one-time password is shown")
    otp = m.group(1)
    check('data-page-url="/users"' in page, "a reload will not post the form again")
    row = user_row(page, "noor.haddad-test")
    check(row and en("role.clerk") in row and en("users.status.must_change") in row, f"listed: {row}")
    check(audited(s, "user.create", "noor.haddad-test") == (ADMIN[0],), "audited with who did it")
    # Shown once: the list does not show it again.
    check(otp not in b.get("/users")[2], "the one-time password is not shown again")
    # The new clerk signs in with it and must choose a password first.
    nb = Browser(s)
    _, _, lp = nb.get("/login")
    status, h, _ = nb.post_form("/login", [("username", "noor.haddad-test"), ("password", otp),
                                           ("csrf", csrf_of(lp))])
    check(status == 303 and h["Location"] == "/password", f"first sign-in: {status} {h.get('Location')}")
    check(nb.get("/cards/new")[0] == 303, "nothing else before the password is changed")


@test
def add_form_errors_are_next_to_the_field(s):
    b = admin(s)
    before = b.get("/users")[2].count('<th scope="row"')
    cases = [("", "clerk", 400, "users.error.username_required", "username"),
             ("noor haddad", "clerk", 400, "users.error.username_invalid", "username"),
             ("-noor", "auditor", 400, "users.error.username_invalid", "username"),
             ("x" * 65, "clerk", 400, "users.error.username_invalid", "username"),
             ("noor.valid", "", 400, "users.error.role_required", "role"),
             ("noor.valid", "superuser", 400, "users.error.role_required", "role"),
             (ADMIN[0], "clerk", 409, "users.error.username_taken", "username")]
    for name, role, want, key, field in cases:
        status, _, page = add_user(b, name, role)
        check(status == want, f"{name!r}/{role!r}: {status}")
        msg = en(key)
        check(f'id="{field}-error"><span class="visually-hidden">{en("card.errors.prefix")} </span>'
              f'{msg}</p>' in page, f"{name!r}: the error beside the field")
        check('class="error-summary"' in page and f'href="#{"username" if field == "username" else "role-clerk"}"'
              in page, "the summary links to the field")
        if field == "username":
            check('aria-describedby="username-hint username-error" aria-invalid="true"' in page,
                  "the field is marked invalid and described by its error")
        check(OTP.search(page) is None, "no password shown")
        if role in ("clerk", "auditor") and name:
            check(f'value="{esc(name)}"' in page, "what was typed is kept")
    check(b.get("/users")[2].count('<th scope="row"') == before, "no account was created")
    page = b.get("/users")[2]
    status, _, _ = b.post_form("/users", [("csrf", csrf_of(page)), ("username", "noor.extra"),
                                          ("role", "clerk"), ("nationality", "x")])
    check(status == 400, f"an unknown field: {status}")
    status, _, _ = b.post_form("/users", [("csrf", "wrong"), ("username", "noor.csrf"), ("role", "clerk")])
    check(status == 403, f"a wrong CSRF token: {status}")
    check(user_row(b.get("/users")[2], "noor.extra") is None and
          user_row(b.get("/users")[2], "noor.csrf") is None, "neither was created")


@test
def disabling_signs_out_and_enabling_lets_back_in(s):
    b = admin(s)
    c = clerk(s)
    check(c.get("/dashboard")[0] == 200, "the clerk is signed in")
    page = b.get("/users")[2]
    uid = user_id(page, CLERK[0])
    status, _, page = b.post_form(f"/users/{uid}/disable", [("csrf", csrf_of(page))])
    check(status == 200 and f"{en('users.notice.disabled')} <strong>{CLERK[0]}</strong>" in page,
          f"disabled: {status}")
    row = user_row(page, CLERK[0])
    check(en("users.status.disabled") in row and "✕" in row and f'/users/{uid}/enable' in row,
          "disabled, in words and an icon, with an enable button")
    status, h, _ = c.get("/dashboard")
    check(status == 303 and h["Location"] == "/login", f"the clerk's session ended: {status}")
    nb = Browser(s)
    _, _, lp = nb.get("/login")
    status, _, _ = nb.post_form("/login", [("username", CLERK[0]), ("password", CLERK[1]),
                                           ("csrf", csrf_of(lp))])
    check(status == 401, f"a disabled account cannot sign in: {status}")
    check(audited(s, "user.disable", CLERK[0]) == (ADMIN[0],), "audited")
    status, _, page = b.post_form(f"/users/{uid}/enable", [("csrf", csrf_of(page))])
    check(status == 200 and en("users.status.active") in user_row(page, CLERK[0]), f"enabled: {status}")
    check(clerk(s).get("/dashboard")[0] == 200, "the clerk signs in again with the same password")


@test
def reset_gives_a_new_one_time_password(s):
    b = admin(s)
    who = ("auditor-reset", "auditor reset password")   # invented
    r = s.cli("user", "add", who[0], "--role", "auditor", stdin=who[1] + "\n")
    check(r.returncode == 0, f"user add: {r.stderr}")
    a = Browser(s).login(*who)
    page = b.get("/users")[2]
    uid = user_id(page, who[0])
    status, _, page = b.post_form(f"/users/{uid}/reset", [("csrf", csrf_of(page))])
    check(status == 200, f"reset: {status}")
    m = OTP.search(page)
    check(m and f"{en('users.notice.reset')} <strong>{who[0]}</strong>" in page, "a new one-time password")
    check(a.get("/audit")[0] == 303, "the auditor's session ended")
    nb = Browser(s)
    _, _, lp = nb.get("/login")
    status, _, _ = nb.post_form("/login", [("username", who[0]), ("password", who[1]), ("csrf", csrf_of(lp))])
    check(status == 401, f"the old password no longer works: {status}")
    _, _, lp = nb.get("/login")
    status, h, _ = nb.post_form("/login", [("username", who[0]), ("password", m.group(1)),
                                           ("csrf", csrf_of(lp))])
    check(status == 303 and h["Location"] == "/password", f"the new one works, once: {status}")
    check(audited(s, "user.reset", who[0]) == (ADMIN[0],), "audited")


@test
def an_admin_cannot_lock_themselves_out(s):
    b = admin(s)
    page = b.get("/users")[2]
    db = sqlite3.connect(os.path.join(s.data, "civicard.db"))
    (uid,) = db.execute("SELECT id FROM users WHERE username = ?", (ADMIN[0],)).fetchone()
    db.close()
    for action in ("disable", "reset"):
        status, _, out = b.post_form(f"/users/{uid}/{action}", [("csrf", csrf_of(page))])
        check(status == 409 and en("users.notice.self") in out and 'role="alert"' in out,
              f"{action} oneself: {status}")
    check(b.get("/dashboard")[0] == 200, "still signed in")
    status, _, _ = b.post_form("/users/999999/disable", [("csrf", csrf_of(page))])
    check(status == 404, f"no such account: {status}")
    status, _, _ = b.post_form("/users/abc/disable", [("csrf", csrf_of(page))])
    check(status == 404, f"a malformed id: {status}")


@test
def only_admins_manage_accounts(s):
    for b in (clerk(s), auditor(s)):
        status, _, page = b.get("/users")
        check(status == 403, f"GET /users: {status}")
        status, _, _ = b.post_form("/users", [("csrf", csrf_of(b.get("/dashboard")[2])),
                                              ("username", "sneaky"), ("role", "admin")])
        check(status == 403, f"POST /users: {status}")
        check('href="/users"' not in b.get("/dashboard")[2], "no link to it on their dashboard")
    status, h, _ = Browser(s).get("/users")
    check(status == 303 and h["Location"] == "/login", f"no session: {status}")
    check(user_row(admin(s).get("/users")[2], "sneaky") is None, "nothing created")


@test
def users_page_in_french_and_spanish(s):
    for lang in ("fr", "es"):
        cat = catalogue(lang)
        status, _, page = admin(s, lang).get("/users")
        check(status == 200 and f'<html lang="{lang}">' in page, f"{lang}: {status}")
        for k in ("users.title", "users.add.heading", "users.field.username_hint", "role.clerk",
                  "users.role_hint.auditor", "users.status.active"):
            check(esc(cat[k]) in page, f"{k} in {lang}")


@test
def every_page_obeys_the_csp(s):
    seen = set()
    for where, page in PAGES:
        check_csp(where, page)
        seen.add(where.split(" ")[1].split("?")[0])
    for p in ("/requests", "/audit", "/dashboard", "/users"):
        check(p in seen, f"{p} was among the pages checked")
    check(any(re.fullmatch(r"/requests/\d+/approve", p) for p in seen), "an approval page was checked")


if __name__ == "__main__":
    EN = catalogue("en")
    cardlib.main()
