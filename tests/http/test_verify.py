#!/usr/bin/env python3
"""Black-box tests of verification: genuine, tampered, revoked, garbage;
keys and their rotation; the status list; and that verifying leaves no
trace in the data folder or the log.

usage: test_verify.py path/to/civicard path/to/make-photo"""

import base64
import hashlib
import os
import signal
import time
import zlib

import cardlib
from cardlib import issue, token
from harness import check, test

_cards = {}


def card(s, key="a"):
    if key not in _cards:
        status, _, c = issue(s, "Amaru Inti", f"Quispe-Verif{key}xyz", "1985-07-30")
        check(status == 201, f"issue: {status} {c}")
        _cards[key] = c
    return _cards[key]


def verify(s, qr):
    return s.json("POST", "/api/v1/verify", {"qr": qr})


def claims(qr):
    """Key id and status index from the token (docs/token-format.md)."""
    t = qr.split("#", 1)[1]
    raw = base64.b32decode(t + "=" * (-len(t) % 8))
    return raw[1], int.from_bytes(raw[10:13], "big")


@test
def genuine_card_is_valid(s):
    c = card(s)
    status, _, r = verify(s, c["qr_text"])
    check(status == 200 and r["result"] == "valid", f"verify: {status} {r}")
    for k in ("card_number", "given_names", "family_name", "date_of_birth", "expires_on"):
        check(r[k] == c[k], f"{k}: {r[k]} != {c[k]}")
    # The bare token (without the URL) verifies too.
    status, _, r = verify(s, c["qr_text"].split("#", 1)[1])
    check(r["result"] == "valid", "bare token")


@test
def any_changed_character_is_invalid(s):
    qr = card(s)["qr_text"]
    prefix, tok = qr.split("#", 1)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    for i in range(len(tok)):
        changed = alphabet[(alphabet.index(tok[i]) + 1 + i % 31) % 32]
        t = tok[:i] + changed + tok[i + 1:]
        status, _, r = verify(s, f"{prefix}#{t}")
        check(status == 200 and r == {"result": "invalid"}, f"position {i}: {status} {r}")


@test
def garbage_is_invalid_never_5xx(s):
    qr = card(s)["qr_text"]
    for g in ["", "hello", "http://example.org/v#", qr[:-1], qr[:60], qr.lower(), qr + "A",
              qr + "AAAAAAAA", "A" * 2048, "#" * 500, "\u00e9\u00e8" * 50, qr.replace("#", "?"),
              "x" * 5000]:
        status, _, r = verify(s, g)
        check(status == 200 and r == {"result": "invalid"}, f"{g[:40]!r}: {status} {r}")
    for body in [b"", b"{", b"[]", b'{"qr": 5}', b'{"qr": null}', b'{"qr": "x", "card_number": "y"}']:
        status, _, r = s.json("POST", "/api/v1/verify", body)
        check(status == 400, f"{body!r}: {status} {r}")
    status, _, _ = s.json("POST", "/api/v1/verify", b'{"qr":"' + b"A" * 70000 + b'"}')
    check(status == 413, f"oversized body: {status}")
    check(s.json("GET", "/healthz")[0] == 200, "alive")


@test
def revoke_makes_it_revoked(s):
    c = card(s, "revoke")
    n = c["card_number"]
    status, _, r = s.json("POST", f"/api/v1/cards/{n}/revoke", {"reason": "nationality"}, token=token(s))
    check(status == 400 and r["field"] == "reason", f"bad reason: {status} {r}")
    status, _, r = s.json("POST", f"/api/v1/cards/{n}/revoke", {"reason": "lost"})
    check(status == 401, "revoking needs a login")
    status, _, r = s.json("POST", f"/api/v1/cards/{n}/revoke", {"reason": "lost"}, token=token(s))
    check(status == 200 and r["status"] == "revoked", f"revoke: {status} {r}")
    status, _, r = verify(s, c["qr_text"])
    check(r["result"] == "revoked" and r["card_number"] == n, f"verify after revoke: {r}")
    status, _, r = s.json("POST", f"/api/v1/cards/{n}/revoke", {"reason": "lost"}, token=token(s))
    check(status == 409, f"twice: {status}")
    check(verify(s, card(s)["qr_text"])[2]["result"] == "valid", "other cards unaffected")


@test
def reissue_and_renew_revoke_earlier_versions(s):
    c1 = card(s, "versions")
    n = c1["card_number"]
    status, h, c2 = s.json("POST", f"/api/v1/cards/{n}/reissue", None, token=token(s))
    check(status == 201 and c2["version"] == 2 and c2["card_number"] == n, f"reissue: {status} {c2}")
    check(c2["qr_text"] != c1["qr_text"] and c2["reprint_code"] != c1["reprint_code"], "a new QR and code")
    check(c2["family_name"] == c1["family_name"] and c2["expires_on"] == c1["expires_on"], "same person, same expiry")
    check(verify(s, c1["qr_text"])[2]["result"] == "revoked", "version 1 now revoked")
    check(verify(s, c2["qr_text"])[2]["result"] == "valid", "version 2 valid")
    status, _, c3 = s.json("POST", f"/api/v1/cards/{n}/renew", {}, token=token(s))
    check(status == 201 and c3["version"] == 3 and c3["status"] == "active", f"renew: {status} {c3}")
    for old in (c1, c2):
        check(verify(s, old["qr_text"])[2]["result"] == "revoked", "earlier versions revoked")
    check(verify(s, c3["qr_text"])[2]["result"] == "valid", "version 3 valid")
    got = s.json("GET", f"/api/v1/cards/{n}", token=token(s))[2]
    check(got["version"] == 3 and got["qr_text"] == c3["qr_text"], "the card is its latest version")
    status, _, r = s.json("POST", f"/api/v1/cards/{n}/reissue", {"nationality": "x"}, token=token(s))
    check(status == 400 and r["error"] == "unknown_field", "no extra fields")
    check(s.json("POST", "/api/v1/cards/0000000000X/reissue", None, token=token(s))[0] in (400, 404), "unknown card")


@test
def an_expired_card_is_renewed_not_reissued(s):
    import sqlite3
    c = card(s, "expired")
    db = sqlite3.connect(os.path.join(s.data, "civicard.db"))
    db.execute("UPDATE cards SET expires_on = '2020-01-01' WHERE card_number = ?", (c["card_number"],))
    db.commit()
    db.close()
    status, _, r = s.json("POST", f"/api/v1/cards/{c['card_number']}/reissue", None, token=token(s))
    check(status == 409 and r["error"] == "expired", f"reissue of an expired card: {status} {r}")
    status, _, r = s.json("POST", f"/api/v1/cards/{c['card_number']}/renew", None, token=token(s))
    check(status == 201 and r["expires_on"] > "2030-01-01", f"renew: {status} {r}")
    check(verify(s, r["qr_text"])[2]["result"] == "valid", "the renewed card is valid")


@test
def status_list_is_one_cacheable_document(s):
    status, h, body = s.json("GET", "/api/v1/status-list")
    check(status == 200 and body["format"] == "civicard-status-list-v1", f"status list: {status}")
    check("max-age" in h["Cache-Control"] and h["ETag"], "cacheable")
    bits = zlib.decompress(base64.urlsafe_b64decode(body["bits"] + "=" * (-len(body["bits"]) % 4)))
    check(len(bits) * 8 == body["size"] == 1 << 24, "2^24 bits for every card ever issued")
    _, index = claims(card(s, "revoke")["qr_text"])
    check(bits[index // 8] >> (7 - index % 8) & 1, "the revoked card's bit is set")
    _, index = claims(card(s)["qr_text"])
    check(not bits[index // 8] >> (7 - index % 8) & 1, "a valid card's bit is clear")
    status, _, data = s.request("GET", "/api/v1/status-list", headers={"If-None-Match": h["ETag"]})
    check(status == 304 and data == b"", f"If-None-Match: {status}")
    # A revocation changes the document.
    c = card(s, "later")
    s.json("POST", f"/api/v1/cards/{c['card_number']}/revoke", {"reason": "stolen"}, token=token(s))
    _, h2, _ = s.json("GET", "/api/v1/status-list")
    check(h2["ETag"] != h["ETag"], "new ETag after a revocation")


def snapshot(folder):
    out = {}
    for root, _, files in os.walk(folder):
        for fn in files:
            p = os.path.join(root, fn)
            st = os.stat(p)
            with open(p, "rb") as f:
                out[p] = (st.st_size, st.st_mtime_ns, hashlib.sha256(f.read()).hexdigest())
    return out


@test
def verification_leaves_no_trace(s):
    cards = [card(s), card(s, "revoke"), card(s, "trace")]
    time.sleep(0.2)
    log_before = len(s.stderr)
    before = snapshot(s.data)
    for i in range(200):
        c = cards[i % len(cards)]
        status, _, r = verify(s, c["qr_text"])
        check(status == 200 and r["result"] in ("valid", "revoked"), f"verify {i}: {r}")
    time.sleep(0.2)
    after = snapshot(s.data)
    check(before == after, "verifications changed the data folder: " +
          ", ".join(p for p in after if before.get(p) != after[p]))
    log = "".join(s.stderr[log_before:])
    for c in cards:
        check(c["card_number"] not in log and c["family_name"] not in log, "the log names a card")
        check(c["qr_text"].split("#")[1][:20] not in log, "the log holds a token")


@test
def keys_and_rotation(s):
    status, h, body = s.json("GET", "/api/v1/keys")
    check(status == 200 and len(body["keys"]) == 1, f"keys: {body}")
    k = body["keys"][0]
    check(k["kid"] == 1 and k["algorithm"] == "Ed25519" and k["signing"] and k["retired_at"] is None, f"{k}")
    check(len(base64.urlsafe_b64decode(k["public_key"] + "=")) == 32, "a 32-byte public key")
    old = card(s)
    r = s.cli("keys", "rotate")
    check(r.returncode == 0 and "new signing key 2" in r.stdout, f"rotate: {r.returncode} {r.stdout} {r.stderr}")
    s.proc.send_signal(signal.SIGHUP)
    for _ in range(50):
        body = s.json("GET", "/api/v1/keys")[2]
        new = [k for k in body["keys"] if k["signing"]]
        if new and new[0]["kid"] == 2:
            break
        time.sleep(0.1)
    check([k["kid"] for k in body["keys"]] == [1, 2], f"both keys listed: {body}")
    check(body["keys"][0]["retired_at"] and not body["keys"][0]["signing"], "key 1 retired")
    check(verify(s, old["qr_text"])[2]["result"] == "valid", "a card signed by key 1 still verifies")
    status, _, fresh = issue(s, "Amaru", "Rotatedxyz", "1985-07-30")
    check(status == 201 and claims(fresh["qr_text"])[0] == 2, "new cards are signed by key 2")
    check(verify(s, fresh["qr_text"])[2]["result"] == "valid", "and verify")
    # The card shown again is re-signed with the key it was issued under.
    got = s.json("GET", f"/api/v1/cards/{old['card_number']}", token=token(s))[2]
    check(got["qr_text"] == old["qr_text"], "an old card's QR does not change")


@test
def service_worker_version_is_one_for_everyone(s):
    """Counters' phones keep the verification page offline; the worker's
    version must not change with who asks or in which language, or every
    phone would download it all again."""
    tags = set()
    for headers in ({}, {"Accept-Language": "es-MX,es;q=0.9"}, {"Accept-Language": "fr"},
                    {"Authorization": "Bearer " + token(s)}):
        status, h, body = s.request("GET", "/sw.js", headers=headers)
        check(status == 200 and h["ETag"] and h["ETag"].strip('"') in body.decode(),
              f"/sw.js: {status} {h}")
        tags.add(h["ETag"])
    check(len(tags) == 1, f"one version: {tags}")
    status, _, _ = s.request("GET", "/sw.js", headers={"If-None-Match": tags.pop()})
    check(status == 304, f"asked again with its ETag: {status}")


if __name__ == "__main__":
    cardlib.main()
