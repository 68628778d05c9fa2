#!/usr/bin/env python3
"""Black-box tests of residents' reprint requests and lost-card reports,
and of the clerks' queue.

usage: test_reprint.py path/to/civicard path/to/make-photo"""


import cardlib
from cardlib import issue, token
from harness import check, test


def new_card(s, family):
    status, _, c = issue(s, "Wiremu", family, "1979-11-05")
    check(status == 201, f"issue: {status} {c}")
    return c


def ask(s, c, dob="1979-11-05", code=None, lost=False, number=None):
    body = {"card_number": number or c["card_number"], "date_of_birth": dob,
            "reprint_code": code or c["reprint_code"], "report_lost": lost}
    return s.json("POST", "/api/v1/reprint-requests", body)


def verify(s, qr):
    return s.json("POST", "/api/v1/verify", {"qr": qr})[2]["result"]


@test
def wrong_facts_are_not_verified(s):
    c = new_card(s, "Reprintaxyz")
    other = "023456789ABC" if c["reprint_code"].replace("-", "") != "023456789ABC" else "23456789ABCD"
    for kwargs in ({"dob": "1979-11-06"}, {"code": other}):
        status, _, r = ask(s, c, **kwargs)
        check(status == 422 and r["error"] == "not_verified", f"{kwargs}: {status} {r}")
    status, _, r = ask(s, c, number="0" * 11)
    check(status in (400, 422), f"unknown number: {status} {r}")
    status, _, r = s.json("POST", "/api/v1/reprint-requests",
                          {"card_number": c["card_number"], "date_of_birth": "1979-11-05",
                           "reprint_code": c["reprint_code"], "note": "free text"})
    check(status == 400 and r["error"] == "unknown_field", "no free-text field")
    queue = s.json("GET", "/api/v1/reprint-requests", token=token(s))[2]["requests"]
    check(all(q["card_number"] != c["card_number"] for q in queue), "nothing queued")


@test
def right_facts_are_accepted_and_queued(s):
    c = new_card(s, "Reprintbxyz")
    code = c["reprint_code"].lower().replace("-", " ")       # as a resident might type it
    status, _, r = ask(s, c, code=code)
    check(status == 202 and r["status"] == "pending" and r["report_lost"] is False, f"{status} {r}")
    check(verify(s, c["qr_text"]) == "valid", "a reprint request alone does not revoke")
    status, _, q = s.json("GET", "/api/v1/reprint-requests?status=pending", token=token(s))
    mine = [x for x in q["requests"] if x["id"] == r["id"]]
    check(status == 200 and mine and mine[0]["card_number"] == c["card_number"], f"queue: {q}")
    check(set(mine[0]) == {"id", "card_number", "report_lost", "status", "created_at"}, "only these")
    # Approval: a new version, valid; the old one revoked; a new code.
    status, _, v2 = s.json("POST", f"/api/v1/reprint-requests/{r['id']}/approve", None, token=token(s))
    check(status == 201 and v2["version"] == 2 and v2["card_number"] == c["card_number"], f"approve: {status} {v2}")
    check(v2["reprint_code"] != c["reprint_code"], "a new reprint code")
    check(verify(s, v2["qr_text"]) == "valid" and verify(s, c["qr_text"]) == "revoked", "versions")
    status, _, _ = s.json("POST", f"/api/v1/reprint-requests/{r['id']}/approve", None, token=token(s))
    check(status == 409, "approved once only")
    # The old code no longer works; the new one does.
    check(ask(s, c)[0] == 422, "the old code is spent")
    check(ask(s, v2, code=v2["reprint_code"])[0] == 202, "the new code works")


@test
def lost_report_revokes_at_once(s):
    c = new_card(s, "Reprintcxyz")
    status, _, r = ask(s, c, lost=True)
    check(status == 202 and r["report_lost"] is True, f"{status} {r}")
    check(verify(s, c["qr_text"]) == "revoked", "revoked at once")
    status, _, x = s.json("POST", f"/api/v1/reprint-requests/{r['id']}/reject", None, token=token(s))
    check(status == 200 and x["status"] == "rejected", f"reject: {status} {x}")
    check(verify(s, c["qr_text"]) == "revoked", "still revoked after a rejection")


@test
def asking_twice_is_one_request(s):
    """A double click, or asking again the next day, must not make the
    clerk print two cards: the request waiting is the one answered."""
    c = new_card(s, "Reprintdxyz")
    status, _, first = ask(s, c)
    check(status == 202, f"first: {status} {first}")
    status, _, again = ask(s, c)
    check(status == 202 and again["id"] == first["id"], f"again: {status} {again} vs {first}")
    status, _, lost = ask(s, c, lost=True)
    check(status == 202 and lost["id"] == first["id"], f"then lost: {status} {lost}")
    check(verify(s, c["qr_text"]) == "revoked", "the lost report still revokes at once")
    queue = s.json("GET", "/api/v1/reprint-requests?status=pending", token=token(s))[2]["requests"]
    mine = [q for q in queue if q["card_number"] == c["card_number"]]
    check(len(mine) == 1 and mine[0]["report_lost"] is True, f"one request, marked lost: {mine}")
    status, _, v2 = s.json("POST", f"/api/v1/reprint-requests/{first['id']}/approve", None,
                           token=token(s))
    check(status == 201 and v2["version"] == 2, f"approve: {status} {v2}")
    # Once decided, a new request is a new one.
    status, _, later = ask(s, v2, code=v2["reprint_code"])
    check(status == 202 and later["id"] != first["id"], f"after the decision: {status} {later}")


@test
def staff_only_queue(s):
    check(s.json("GET", "/api/v1/reprint-requests")[0] == 401, "no token")
    check(s.json("POST", "/api/v1/reprint-requests/1/approve")[0] == 401, "no token")


@test
def attempts_are_rate_limited(s):
    c = new_card(s, "Reprintdxyz")
    codes = [ask(s, c, dob="1900-01-01")[0] for _ in range(6)]
    check(codes[:5] == [422] * 5 and codes[5] == 429, f"per card: {codes}")
    status, h, _ = ask(s, c, dob="1900-01-01")
    check(status == 429 and int(h["Retry-After"]) > 0, "wrong facts keep waiting")
    # Someone who has only seen the card number cannot lock its holder out.
    status, _, r = ask(s, c, lost=True)
    check(status == 202 and r["report_lost"] is True, f"the holder still reports it lost: {status} {r}")


if __name__ == "__main__":
    cardlib.main()
