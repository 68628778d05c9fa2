#!/usr/bin/env python3
"""Black-box tests of the staff pages: the clerks' reprint queue
(/requests) and the auditors' log (/audit), driven as a browser drives
them: a cookie jar, CSRF tokens scraped from each form, urlencoded posts,
and the HTML read back.

usage: test_staff_pages.py path/to/civicard path/to/make-photo"""

import os
import re
import sqlite3
import sys

import cardlib
import harness
from harness import check, test
from pagelib import PAGES, Browser, catalogue, check_csp, csrf_of, esc

CLERK = ("clerk-staff", "clerk staff password")        # invented
AUDITOR = ("auditor-staff", "auditor staff password")  # invented
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


@test
def every_page_obeys_the_csp(s):
    seen = set()
    for where, page in PAGES:
        check_csp(where, page)
        seen.add(where.split(" ")[1].split("?")[0])
    for p in ("/requests", "/audit", "/dashboard"):
        check(p in seen, f"{p} was among the pages checked")
    check(any(re.fullmatch(r"/requests/\d+/approve", p) for p in seen), "an approval page was checked")


if __name__ == "__main__":
    cardlib.MAKE_PHOTO = os.path.abspath(sys.argv[2])
    EN = catalogue("en")
    sys.exit(harness.run_tests(os.path.abspath(sys.argv[1])))
