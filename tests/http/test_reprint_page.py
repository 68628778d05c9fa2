#!/usr/bin/env python3
"""Black-box tests of the residents' page, GET and POST /reprint, driven
as a browser drives it: a cookie jar that honours each cookie's Path, the
CSRF token scraped from the form, urlencoded posts, and the HTML read
back. Cards are issued through the API (cardlib.issue), which gives the
number and the one-time reprint code a resident has on the receipt.

usage: test_reprint_page.py path/to/civicard path/to/make-photo"""

import re
from html.parser import HTMLParser

import cardlib
import pagelib
from cardlib import issue, token
from harness import check, test
from pagelib import PAGES, catalogue, check_csp, csrf_of, esc

DOB = "1979-11-05"
# Everything the form may send; nothing else is collected.
FIELDS = {"csrf", "card_number", "date_of_birth", "reprint_code", "report_lost"}
NEVER = ("name", "email", "phone", "address", "note", "comment", "message", "nationality",
         "immigration", "reason")

# Every reprint code used: none may appear in any page or the log.
CODES = []


class Browser(pagelib.Browser):
    """A browser that also fills in the residents' form."""

    def reprint(self, number, dob, code, lost, csrf=True, extra=()):
        """Fill in and send the form as a resident does; lost: "yes", "no"
        or None (nothing ticked)."""
        _, _, page = self.get("/reprint")
        fields = [("csrf", csrf_of(page))] if csrf is True else ([("csrf", csrf)] if csrf else [])
        fields += [("card_number", number), ("date_of_birth", dob), ("reprint_code", code)]
        if lost is not None:
            fields.append(("report_lost", lost))
        return self.post_form("/reprint", fields + list(extra))


class Form(HTMLParser):
    """Every form control (tag, attributes), the ids that a <label for>
    names, and whether there is a <textarea> or a <select>."""

    def __init__(self, page):
        super().__init__(convert_charrefs=True)
        self.controls = []
        self.labelled = set()
        self.ids = set()
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag in ("input", "select", "textarea", "button"):
            self.controls.append((tag, a))
        if tag == "label" and a.get("for"):
            self.labelled.add(a["for"])

    def named(self, name):
        return [a for _, a in self.controls if a.get("name") == name]


def field(page, name):
    got = Form(page).named(name)
    check(got, f"the form has {name}")
    return got[0]


def summary(page):
    """The text of the problem box at the top, without tags."""
    m = re.search(r'<div class="error-summary"[^>]*>(.*?)</div>', page, re.S)
    return re.sub(r"<[^>]+>", "", m.group(1)).strip() if m else None


def new_card(s, family):
    status, _, c = issue(s, "Wiremu", family, DOB)
    check(status == 201, f"issue: {status} {c}")
    CODES.append(c["reprint_code"])
    return c


def verify(s, c):
    return s.json("POST", "/api/v1/verify", {"qr": c["qr_text"]})[2]["result"]


def queued(s, c):
    status, _, q = s.json("GET", "/api/v1/reprint-requests", token=token(s))
    check(status == 200, f"the queue: {status}")
    return [r for r in q["requests"] if r["card_number"] == c["card_number"]]


def no_code_in(page, c):
    code = c["reprint_code"]
    for form in (code, code.replace("-", ""), code.lower(), code.replace("-", " ")):
        check(form not in page, f"the reprint code {form!r} is in the page")


# ---------------------------------------------------------------- tests

@test
def the_form_in_three_languages(s):
    for accept, lang in (("en-GB,en;q=0.9", "en"), ("fr-CA,fr;q=0.9,en;q=0.5", "fr"),
                         ("es-MX,es;q=0.9", "es")):
        t = catalogue(lang)
        b = Browser(s, accept)
        status, h, page = b.get("/reprint")
        check(status == 200 and h["Content-Type"].startswith("text/html"), f"{lang}: {status}")
        check(f'<html lang="{lang}">' in page, f"{lang}: the page's language")
        for key in ("reprint.heading", "reprint.field.number", "reprint.field.dob", "reprint.field.code",
                    "reprint.choice.reprint", "reprint.choice.lost", "reprint.choice.lost_hint",
                    "reprint.submit"):
            check(esc(t[key]) in page, f"{lang}: {key}")
        check("no-store" in h.get("Cache-Control", ""), "no-store")
        # The language switch: a link to each other language.
        for other in ("en", "fr", "es"):
            if other != lang:
                check(f'href="?lang={other}"' in page, f"{lang}: a link to {other}")
        check(page.count('aria-current="true"') == 1, "the current language marked")
        # Its own pre-login cookie, scoped to the page.
        cookies = [c for c in h.get_all("Set-Cookie") or [] if c.startswith("civicard_login=")]
        check(len(cookies) == 1, f"one form cookie: {h.get_all('Set-Cookie')}")
        for attr in ("Path=/reprint", "HttpOnly", "SameSite=Strict"):
            check(attr in cookies[0], f"cookie {attr}: {cookies[0]}")
        check("civicard_session" not in (h.get("Set-Cookie") or ""), "no session")
    # ?lang= switches, and is remembered.
    b = Browser(s, "en")
    status, h, page = b.get("/reprint?lang=es")
    check(status == 200 and '<html lang="es">' in page, f"?lang=es: {status}")
    check(b.jar.get("lang", ("",))[0] == "es", "the choice is remembered")
    status, _, page = b.get("/reprint")
    check('<html lang="es">' in page, "and used on the next visit")


@test
def only_the_three_facts_and_the_choice(s):
    _, _, page = Browser(s).get("/reprint")
    form = Form(page)
    check("<textarea" not in page.lower(), "no free-text area")
    check("<select" not in page.lower(), "no list")
    names = {a.get("name") for _, a in form.controls if a.get("name")}
    check(names == FIELDS, f"exactly the known fields: {sorted(names)}")
    for tag, a in form.controls:
        if tag == "input":
            check(a.get("name") in FIELDS, f"an input without a known name: {a}")
            check(a.get("type") in ("hidden", "text", "date", "radio"), f"input type: {a}")
    check(field(page, "date_of_birth").get("type") == "date", "the date of birth is a date input")
    radios = form.named("report_lost")
    check(sorted(r.get("value") for r in radios) == ["no", "yes"] and
          all(r.get("type") == "radio" for r in radios), f"two radio buttons: {radios}")
    check(not any("checked" in r for r in radios), "neither choice ticked in advance")
    for _, a in form.controls:
        if a.get("type") not in ("hidden", "submit") and a.get("id"):
            check(a["id"] in form.labelled, f"{a['id']} has a label")
    for name in ("card_number", "date_of_birth", "reprint_code"):
        a = field(page, name)
        check(a.get("aria-describedby", "").split()[0] in form.ids, f"{name}: its hint")
        check(a.get("autocomplete") == "off", f"{name}: the browser keeps nothing")
    check(field(page, "reprint_code").get("value") == "", "the code field is empty")
    for word in NEVER:
        check(not re.search(r'name="[^"]*' + word, page, re.I), f"nothing asks for {word}")
    check('method="post" action="/reprint"' in page, "posted to /reprint")
    check('class="error-summary"' not in page and "aria-invalid" not in page, "no error at first")


@test
def cross_site_posts_are_refused(s):
    c = new_card(s, "Pagecsrfxyz")
    b = Browser(s)
    _, _, page = b.get("/reprint")
    good = csrf_of(page)
    facts = [("card_number", c["card_number"]), ("date_of_birth", DOB),
             ("reprint_code", c["reprint_code"]), ("report_lost", "yes")]
    # A token without the cookie (what another site's form would send).
    stranger = Browser(s)
    status, h, page = stranger.post_form("/reprint", [("csrf", good)] + facts)
    check(status == 303 and h["Location"] == "/reprint?expired=1", f"no cookie: {status} {h.get('Location')}")
    # The cookie without the token, and with a wrong or foreign one.
    other = csrf_of(Browser(s).get("/reprint")[2])
    for what, fields in (("no token", facts), ("a wrong token", [("csrf", "A" * 43)] + facts),
                         ("another browser's token", [("csrf", other)] + facts)):
        status, h, page = b.post_form("/reprint", fields)
        check(status == 303 and h["Location"] == "/reprint?expired=1", f"{what}: {status}")
        check(isinstance(page, bytes) or c["reprint_code"] not in page, f"{what}: no code")
    check(verify(s, c) == "valid", "nothing revoked")
    check(queued(s, c) == [], "nothing queued")
    # Where the refusal leads: the form again, saying why.
    status, _, page = b.get("/reprint?expired=1")
    check(status == 200 and esc(catalogue("en")["form.error_csrf"]) in page, "the form expired, it says")
    check('role="alert"' in page, "read out first")
    # The form's own cookie and token do work, and the same cookie serves
    # a second tab (the back button) too.
    _, _, second = b.get("/reprint")
    check(csrf_of(second) == good, "the cookie is kept: one token for every tab")


@test
def unknown_fields_are_refused(s):
    c = new_card(s, "Pageunknownxyz")
    status, _, page = Browser(s).reprint(c["card_number"], DOB, c["reprint_code"], "yes",
                                         extra=[("note", "I lost it at the market")])
    check(status == 400, f"a free-text field: {status}")
    check(esc(catalogue("en")["reprint.problem.unknown_field"]) in page, "says so")
    check("market" not in page, "the text is not written back")
    no_code_in(page, c)
    check(verify(s, c) == "valid" and queued(s, c) == [], "nothing stored, nothing revoked")


@test
def field_errors_beside_the_fields(s):
    c = new_card(s, "Pagefieldsxyz")
    b = Browser(s)
    en = catalogue("en")
    status, _, page = b.reprint("K7QM-4TXP-9WX", "1979-02-30", c["reprint_code"][:5], None)
    check(status == 400, f"mistakes: {status}")
    form = Form(page)
    for name, anchor, key in (("card_number", "card_number", "reprint.error.number_mistyped"),
                              ("date_of_birth", "date_of_birth", "reprint.error.dob_invalid"),
                              ("reprint_code", "reprint_code", "reprint.error.code_invalid"),
                              ("report_lost", "report_lost-no", "reprint.error.choice_required")):
        a = form.named(name)[0]
        check(a.get("aria-invalid") == "true", f"{name} marked invalid")
        err_id = f"{name}-error"
        check(f'id="{err_id}"' in page, f"{name}: its message")
        if name != "report_lost":
            check(err_id in a.get("aria-describedby", "").split(), f"{name}: tied to the field")
        check(f'<a href="#{anchor}">{esc(en[key])}</a>' in page, f"{name} in the summary")
        check(page.count(esc(en[key])) == 2, f"{name}: summary and field")
    check(re.search(r'<fieldset[^>]*aria-describedby="report_lost-error"', page), "the choice's message")
    check('class="error-summary" role="alert"' in page and "autofocus" in page, "the summary, focused")
    check(re.search(r"<title>" + re.escape(esc(en["reprint.errors.prefix"])), page), "the title says so")
    check(field(page, "card_number").get("value") == "K7QM-4TXP-9WX", "the number kept")
    check(field(page, "date_of_birth").get("value") == "1979-02-30", "the date kept")
    check(field(page, "reprint_code").get("value") == "", "the code is not")
    check(c["reprint_code"][:5] not in page, "not even the mistyped code")
    # Empty fields: "enter it", and the choice kept.
    status, _, page = b.reprint("", "", "", "no")
    check(status == 400, f"empty: {status}")
    for key in ("reprint.error.number_required", "reprint.error.dob_required", "reprint.error.code_required"):
        check(esc(en[key]) in page, key)
    check("checked" in field(page, "report_lost") or 'value="no" required checked' in page, "the choice kept")
    check(Form(page).named("report_lost")[0].get("aria-invalid") is None, "a good choice is not marked")
    check(verify(s, c) == "valid" and queued(s, c) == [], "nothing stored, nothing revoked")


@test
def wrong_facts_get_one_generic_answer(s):
    c = new_card(s, "Pagewrongxyz")
    b = Browser(s)
    en = catalogue("en")
    other = "23456789ABCD" if c["reprint_code"].replace("-", "") != "23456789ABCD" else "3456789ABCDE"
    status, _, by_date = b.reprint(c["card_number"], "1979-11-06", c["reprint_code"], "yes")
    check(status == 422, f"wrong date: {status}")
    check(esc(en["reprint.problem.not_verified"]) in by_date, "the generic message")
    status, _, by_code = b.reprint(c["card_number"], DOB, other, "yes")
    check(status == 422, f"wrong code: {status}")
    check(summary(by_date) == summary(by_code), "the same words whichever fact is wrong")
    for page in (by_date, by_code):
        check("aria-invalid" not in page, "no field singled out")
        no_code_in(page, c)
        check(other not in page, "nor the wrong code")
        check(field(page, "reprint_code").get("value") == "", "the code field empty")
        check(field(page, "card_number").get("value") == c["card_number"], "the number kept")
        check(esc(en["reprint.field.code_again"]) in page, "asked to type the code again")
    check('value="yes" checked' in by_date, "the choice kept")
    check(verify(s, c) == "valid", "nothing revoked")
    check(queued(s, c) == [], "nothing queued")


@test
def right_facts_ask_for_a_new_card(s):
    c = new_card(s, "Pagerightxyz")
    en = catalogue("en")
    typed = c["reprint_code"].lower().replace("-", " ")          # as a resident might type it
    number = c["card_number"][:4] + "-" + c["card_number"][4:8] + "-" + c["card_number"][8:]
    status, h, page = Browser(s).reprint(number.lower(), DOB, typed, "no")
    check(status in (200, 202), f"accepted: {status}\n{page[:3000]}")
    check("Location" not in h, "answered, not redirected")
    check(esc(en["reprint.done.heading"]) in page and esc(en["reprint.done.next_old"]) in page,
          "the confirmation")
    m = re.search(r'class="request-id">(\d+)<', page)
    check(m, "the request number")
    no_code_in(page, c)
    check('name="reprint_code"' not in page, "no form on the confirmation")
    mine = [r for r in queued(s, c) if r["id"] == int(m.group(1))]
    check(mine and mine[0]["report_lost"] is False and mine[0]["status"] == "pending", f"queued: {mine}")
    check(verify(s, c) == "valid", "a reprint request alone does not revoke")


@test
def a_lost_card_is_cancelled_at_once(s):
    c = new_card(s, "Pagelostxyz")
    en = catalogue("en")
    check(verify(s, c) == "valid", "valid before")
    status, _, page = Browser(s).reprint(c["card_number"], DOB, c["reprint_code"], "yes")
    check(status in (200, 202), f"accepted: {status}\n{page[:3000]}")
    check(esc(en["reprint.done.lost_heading"]) in page and esc(en["reprint.done.cancelled"]) in page,
          "says it is cancelled")
    check(esc(en["verify.result.revoked"]) in page, "and what a check now shows")
    no_code_in(page, c)
    check(verify(s, c) == "revoked", "revoked at once")
    mine = queued(s, c)
    check(len(mine) == 1 and mine[0]["report_lost"] is True, f"queued as lost: {mine}")


@test
def answers_in_the_residents_language(s):
    c = new_card(s, "Pagelangxyz")
    fr, es = catalogue("fr"), catalogue("es")
    status, _, page = Browser(s, "fr").reprint(c["card_number"], "", c["reprint_code"], "no")
    check(status == 400 and esc(fr["reprint.error.dob_required"]) in page, f"errors in French: {status}")
    status, _, page = Browser(s, "es").reprint(c["card_number"], "1979-11-07", c["reprint_code"], "no")
    check(status == 422 and esc(es["reprint.problem.not_verified"]) in page, f"422 in Spanish: {status}")
    status, _, page = Browser(s, "es").reprint(c["card_number"], DOB, c["reprint_code"], "yes")
    check(status in (200, 202) and '<html lang="es">' in page, f"Spanish confirmation: {status}")
    check(esc(es["reprint.done.lost_heading"]) in page and esc(es["verify.result.revoked"]) in page,
          "in Spanish")
    no_code_in(page, c)


@test
def attempts_are_rate_limited(s):
    c = new_card(s, "Pagelimitxyz")
    en = catalogue("en")
    b = Browser(s)
    codes = [b.reprint(c["card_number"], "1900-01-01", c["reprint_code"], "no")[0] for _ in range(5)]
    check(codes == [422] * 5, f"five tries: {codes}")
    status, h, page = b.reprint(c["card_number"], "1900-01-01", c["reprint_code"], "yes")
    check(status == 429, f"then a wait for wrong facts: {status}")
    check(int(h["Retry-After"]) > 0, "Retry-After")
    check(esc(en["reprint.problem.throttled"]) in page and re.search(r"about \d+ min\.", page),
          "a plain message with the wait")
    no_code_in(page, c)
    check(verify(s, c) == "valid", "nothing revoked")
    # The right facts still pass: seeing a card number is not enough to
    # lock its holder out.
    status, _, page = b.reprint(c["card_number"], DOB, c["reprint_code"], "no")
    check(status in (200, 202), f"the holder still gets through: {status}")


@test
def every_page_obeys_the_csp(s):
    check(len(PAGES) >= 20, f"the tests above fetched pages: {len(PAGES)}")
    for where, page in PAGES:
        check_csp(where, page)
        check("<script" not in page, f"{where}: the page needs no script at all")
        check(page.startswith("<!DOCTYPE html>\n"), f"{where}: nothing before the doctype")
        check("{{" not in page and "}}" not in page, f"{where}: template text leaked")
    _, h, _ = Browser(s).get("/reprint")
    csp = h.get("Content-Security-Policy", "")
    check("script-src 'self'" in csp and "unsafe-inline" not in csp and "form-action 'self'" in csp,
          f"the CSP: {csp}")


@test
def no_code_in_the_log(s):
    log = "".join(s.stderr)
    for code in CODES:
        for form in (code, code.replace("-", ""), code.lower().replace("-", " ")):
            check(form not in log, "a reprint code reached the log")
    check(DOB not in log and "1979-11-06" not in log, "no date of birth in the log")


if __name__ == "__main__":
    cardlib.main()
