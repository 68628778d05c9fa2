#!/usr/bin/env python3
"""Black-box tests of issuing cards: the API, the stored record, the photo,
the PDF as a person sees it (pdftoppm), and its QR code as a scanner reads
it (zbarimg).

usage: test_cards.py path/to/civicard path/to/make-photo
Needs pdftoppm, pdftotext, zbarimg and qpdf (scripts/install-deps --test)."""

import os
import re
import shutil
import subprocess

import cardlib
import harness
from cardlib import CLERK, WORK, issue, photo, token
from harness import check, test

# Invented people. The family names are unusual on purpose: the test greps
# the data folder for them.
PEOPLE = {
    "vi": ("Thị Ánh Tuyết", "Nguyễn-Quỳnhxyz"),
    "plain": ("Thi Anh Tuyet", "Nguyen-Quynhxyz"),
    "el": ("Ἀλέξανδρος", "Παπαδόπουλοςxyz"),
    "ru": ("Ёлкина", "Щербатоваxyz"),
}


_cards = {}


def card(s, key):
    if key not in _cards:
        given, family = PEOPLE[key]
        status, _, body = issue(s, given, family, extra=[("evidence", "passport"),
                                                        ("evidence", "residence_proof"),
                                                        ("language", "vi"), ("gender", "F"),
                                                        ("address", "c/o Maison du Quartier, 12 rue des Érables")])
        check(status == 201, f"issue {key}: {status} {body}")
        _cards[key] = body
    return _cards[key]


def pdf(s, number, fmt=None):
    path = f"/api/v1/cards/{number}/pdf" + (f"?format={fmt}" if fmt else "")
    conn_status, hdrs, data = s.request("GET", path, headers={"Authorization": "Bearer " + token(s)})
    check(conn_status == 200 and hdrs["Content-Type"] == "application/pdf", f"pdf: {conn_status} {data[:200]}")
    f = os.path.join(WORK, f"{number}-{fmt or 'cr80'}.pdf")
    with open(f, "wb") as out:
        out.write(data)
    return f


def render(pdf_path, dpi, page, gray=True):
    """Render one page with pdftoppm; returns (width, height, pixels) of a PGM."""
    prefix = pdf_path[:-4] + f"-p{page}-{dpi}"
    subprocess.run(["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page),
                    "-gray" if gray else "-png", "-singlefile", pdf_path, prefix], check=True)
    if not gray:
        return prefix + ".png"
    with open(prefix + ".pgm", "rb") as f:
        data = f.read()
    m = re.match(rb"P5\s+(\d+)\s+(\d+)\s+255\s", data)
    w, h = int(m.group(1)), int(m.group(2))
    return w, h, data[m.end():]


# ---------------------------------------------------------------- tests

@test
def issue_returns_the_card(s):
    c = card(s, "vi")
    given, family = PEOPLE["vi"]
    check(c["given_names"] == given and c["family_name"] == family, f"names as typed: {c}")
    check(c["version"] == 1 and c["status"] == "active", "version 1, active")
    check(re.fullmatch(r"[0-9A-Z]{11}", c["card_number"]), f"card number: {c['card_number']}")
    check(not set(c["card_number"]) & set("1ILOU"), "unambiguous alphabet")
    check(re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", c["reprint_code"]), "reprint code")
    check(c["qr_text"].startswith(f"http://127.0.0.1:{s.port}/v#"), f"qr_text: {c['qr_text']}")
    check(re.fullmatch(r"[A-Z2-7]+", c["qr_text"].split("#", 1)[1]), "token is upper-case base32")
    check(c["date_of_birth"] == "1990-02-14" and c["expires_on"] > c["issued_on"], "dates")
    check(c["evidence"] == ["passport", "residence_proof"], f"evidence types: {c['evidence']}")
    check(c["pdf_url"] == f"/api/v1/cards/{c['card_number']}/pdf", "pdf_url")


@test
def get_card_and_reprint_code_shown_once(s):
    c = card(s, "vi")
    status, _, got = s.json("GET", f"/api/v1/cards/{c['card_number']}", token=token(s))
    check(status == 200, f"get: {status}")
    check("reprint_code" not in got, "the reprint code is shown only once")
    for k in ("card_number", "given_names", "family_name", "date_of_birth", "expires_on", "qr_text", "status"):
        check(got[k] == c[k], f"{k}: {got[k]} != {c[k]}")


@test
def pdf_qr_decodes_to_qr_text(s):
    c = card(s, "vi")
    for fmt in (None, "sheet", "letter"):
        f = pdf(s, c["card_number"], fmt)
        r = subprocess.run(["qpdf", "--check", f], capture_output=True, text=True)
        check(r.returncode == 0, f"qpdf --check {fmt}: {r.stdout[-500:]}")
        page = 2 if fmt is None else 1
        png = render(f, 150, page, gray=False)
        r = subprocess.run(["zbarimg", "--raw", "-q", png], capture_output=True, text=True)
        check(r.stdout.strip() == c["qr_text"], f"zbarimg {fmt}: {r.stdout.strip()!r} != {c['qr_text']!r}")
    info = subprocess.run(["pdfinfo", pdf(s, c["card_number"])], capture_output=True, text=True).stdout
    check(re.search(r"Page size:\s+242\.6\d* x 153\.0\d* pts", info), f"CR80 page size: {info}")
    check(re.search(r"Pages:\s+2", info), "front and back")
    size = os.path.getsize(pdf(s, c["card_number"]))
    print(f"    (CR80 PDF with photo: {size} bytes)")


@test
def names_in_greek_and_cyrillic_print(s):
    for key in ("el", "ru"):
        c = card(s, key)
        f = pdf(s, c["card_number"])
        text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", f, "-"], capture_output=True, text=True).stdout
        check(PEOPLE[key][1] in text, f"{key}: family name in the PDF text")


def ink_in_words(pdf_path, words, dpi=300):
    """Dark pixels inside the boxes pdftotext gives for words on page 1,
    with a margin above each: stacked diacritics rise above the line box."""
    bbox = subprocess.run(["pdftotext", "-bbox", "-f", "1", "-l", "1", pdf_path, "-"],
                          capture_output=True, text=True).stdout
    w, h, px = render(pdf_path, dpi, 1)
    ink = 0
    for word in words:
        m = re.search(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">' +
                      re.escape(word) + "</word>", bbox)
        check(m, f"{word!r} located on the card")
        x0, y0, x1, y1 = (float(v) * dpi / 72 for v in m.groups())
        top = max(0, int(y0 - (y1 - y0) * 0.6))
        for y in range(top, min(h, int(y1) + 1)):
            ink += sum(1 for v in px[y * w + int(x0):y * w + int(x1) + 1] if v < 128)
    return ink


@test
def diacritics_are_drawn(s):
    """libharu 2.3.0 silently drops nested composite glyphs; the card's own
    font is decomposed at build time. Compare what is drawn, not the text."""
    vi, plain = card(s, "vi"), card(s, "plain")
    words_vi = PEOPLE["vi"][0].split() + [PEOPLE["vi"][1]]
    words_plain = PEOPLE["plain"][0].split() + [PEOPLE["plain"][1]]
    ink_vi = ink_in_words(pdf(s, vi["card_number"]), words_vi)
    ink_plain = ink_in_words(pdf(s, plain["card_number"]), words_plain)
    print(f"    (ink of the names: with diacritics {ink_vi} px, without {ink_plain} px)")
    # Same base letters, same font and size: without the marks the two
    # would carry the same ink. Six marks at 300 dpi add well over 150 px.
    check(ink_vi - ink_plain >= 150, f"diacritics add ink: {ink_vi} vs {ink_plain}")


def qr_version(pdf_path, page):
    """The QR code's version, counted on the rendered page. Find the top-left
    finder pattern (a dark square 7 modules high), then walk module row 6:
    finder edge, a light separator, the timing pattern alternating one
    module at a time, a light separator, the other finder's edge. That row
    has n - 12 runs for an n-module symbol, and n = 17 + 4 * version."""
    w, h, px = render(pdf_path, 600, page)
    dark = lambda x, y: px[y * w + x] < 128
    for y in range(h // 8, h):
        x0 = next((x for x in range(w // 2) if dark(x, y)), None)
        if x0 is None:
            continue
        # Left finder: its outer ring starts here; measure its height.
        col = x0 + 2
        by = y
        while by < h and dark(col, by):
            by += 1
        fh = by - y
        fw = 0
        while x0 + fw < w and dark(x0 + fw, y):
            fw += 1
        if fh < 14 or abs(fw - fh) > 0.2 * fh:   # a square, not the header band
            continue
        m = fh / 7
        yt = int(y + 6.5 * m)
        runs, x, prev = 0, x0, None
        gap = 0
        while x < w and gap < 6 * m:
            d = dark(x, yt)
            if d != prev:
                runs += 1
                prev = d
            gap = 0 if d else gap + 1
            x += 1
        runs -= 1                         # the trailing light run (quiet zone)
        return (runs + 12 - 17) // 4
    return None


@test
def qr_version_at_most_10_for_40_byte_names(s):
    given = "María Fernanda Alejandra Guadalupe Rosá"      # 41 characters, 40 bytes? checked below
    family = "Nguyễn-Trần Phạm Hoàng Lê Võ Đặng Bùi"
    given = given.encode()[:40].decode(errors="ignore")
    family = family.encode()[:40].decode(errors="ignore")
    check(len(given.encode()) <= 40 and len(family.encode()) <= 40 and len(family.encode()) >= 38, "40-byte names")
    status, _, c = issue(s, given, family)
    check(status == 201, f"issue: {status} {c}")
    f = pdf(s, c["card_number"])
    v = qr_version(f, 2)
    print(f"    (40-byte names: QR version {v}, {len(c['qr_text'])} characters)")
    check(v is not None and 1 <= v <= 10, f"QR version {v}")
    r = subprocess.run(["zbarimg", "--raw", "-q", render(f, 150, 2, gray=False)], capture_output=True, text=True)
    check(r.stdout.strip() == c["qr_text"], "still decodes at 150 dpi")


@test
def longest_names_still_print_and_scan(s):
    given, family = "Ễ" * 26, "Ỗ" * 26          # 78 bytes each, the most a name may have is 80
    status, _, c = issue(s, given, family)
    check(status == 201, f"issue: {status} {c}")
    f = pdf(s, c["card_number"])
    r = subprocess.run(["zbarimg", "--raw", "-q", render(f, 150, 2, gray=False)], capture_output=True, text=True)
    check(r.stdout.strip() == c["qr_text"], "decodes at 150 dpi")
    print(f"    (78-byte names: QR version {qr_version(f, 2)})")


@test
def unknown_field_refused_nothing_stored(s):
    before = s.json("GET", "/api/v1/cards?family_name=Refusedxyz&date_of_birth=1980-01-01", token=token(s))[2]
    check(before == {"cards": []}, "nothing there before")
    for field in ("immigration_status", "nationality", "document_number"):
        status, _, body = issue(s, "Ana", "Refusedxyz", "1980-01-01", extra=[(field, "x")])
        check(status == 400 and body["error"] == "unknown_field" and body["field"] == field,
              f"{field}: {status} {body}")
    after = s.json("GET", "/api/v1/cards?family_name=Refusedxyz&date_of_birth=1980-01-01", token=token(s))[2]
    check(after == {"cards": []}, "nothing stored")


@test
def field_errors_name_the_field(s):
    cases = [
        ({"given_names": ""}, "given_names"),
        ({"family_name": "李"}, "family_name"),
        ({"date_of_birth": "1990-02-30"}, "date_of_birth"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"gender": "Q"}, "gender"),
        ({"evidence": "passport_number_123"}, "evidence"),
    ]
    for override, field in cases:
        fields = {"given_names": "Ana", "family_name": "Fieldxyz", "date_of_birth": "1990-01-01", **override}
        extra = [(k, v) for k, v in fields.items() if k not in ("given_names", "family_name", "date_of_birth")]
        status, _, body = issue(s, fields["given_names"], fields["family_name"], fields["date_of_birth"], extra)
        check(status == 400 and body.get("error") == "invalid_field" and body.get("field") == field,
              f"{override}: {status} {body}")
    status, _, body = issue(s, "Ana", "Fieldxyz", files=[])
    check(status == 400 and body["field"] == "photo", f"no photo: {status} {body}")


@test
def hostile_photos_refused_server_alive(s):
    good = photo("good.jpg")
    png_bomb = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + (100000).to_bytes(4, "big") * 2 +
                b"\x08\x02\x00\x00\x00" + b"\x00" * 4 + b"\x00\x00\x00\x00IEND\xaeB`\x82")
    hostile = {
        "truncated.jpg": good[: len(good) // 2],
        "random.bin": os.urandom(5000),
        "bomb.png": png_bomb,
        "tiny.jpg": photo("tiny.jpg", 40, 50),
        "html.jpg": b"<html><script>alert(1)</script></html>",
        "empty.jpg": b"",
    }
    for name, data in hostile.items():
        status, _, body = issue(s, "Ana", "Hostilexyz", files=[("photo", name, data, "image/jpeg")])
        check(400 <= status < 500 and body.get("field") == "photo", f"{name}: {status} {body}")
        check(s.json("GET", "/healthz")[0] == 200, f"alive after {name}")
    huge = b"\xff\xd8" + b"\x00" * (9 * 1024 * 1024)
    status, _, body = issue(s, "Ana", "Hostilexyz", files=[("photo", "huge.jpg", huge, "image/jpeg")])
    check(status == 413, f"9 MB photo: {status}")
    check(s.json("GET", "/healthz")[0] == 200, "alive after a huge upload")


@test
def photo_metadata_removed(s):
    status, _, c = issue(s, "Ana", "Gpsxyz", files=[("photo", "gps.jpg", photo("gps.jpg", gps=True), "image/jpeg")])
    check(status == 201, f"issue with EXIF: {status} {c}")
    status, h, data = s.request("GET", f"/api/v1/cards/{c['card_number']}/photo",
                                headers={"Authorization": "Bearer " + token(s)})
    check(status == 200 and h["Content-Type"] == "image/jpeg", "photo served")
    check(data[:2] == b"\xff\xd8", "a JPEG")
    check(b"Exif" not in data and b"CIVICARD-GPS-MARKER" not in data, "EXIF and GPS gone")


@test
def search_folds_case_and_form(s):
    c = card(s, "vi")
    for q in ("NGUYỄN-QUỲNHXYZ", "nguyễn-quỳnhxyz", "Nguye\u0302\u0303n-Quy\u0300nhxyz"):
        from urllib.parse import quote
        status, _, body = s.json("GET", f"/api/v1/cards?family_name={quote(q)}&date_of_birth=1990-02-14",
                                 token=token(s))
        check(status == 200 and [x["card_number"] for x in body["cards"]] == [c["card_number"]],
              f"search {q!r}: {status} {body}")
    status, _, body = s.json("GET", "/api/v1/cards?family_name=Nguy%E1%BB%85n-Qu%E1%BB%B3nhxyz&date_of_birth=1990-02-15",
                             token=token(s))
    check(body == {"cards": []}, "another date of birth finds nothing")
    status, _, body = s.json("GET", "/api/v1/cards?family_name=x", token=token(s))
    check(status == 400 and body["field"] == "date_of_birth", "search needs both")


@test
def card_numbers_checked_early(s):
    n = card(s, "vi")["card_number"]
    alphabet = "023456789ABCDEFGHJKMNPQRSTVWXYZ"
    typo = n[:3] + next(a for a in alphabet if a != n[3]) + n[4:]
    status, _, body = s.json("GET", f"/api/v1/cards/{typo}", token=token(s))
    check(status == 400 and body["error"] == "invalid_card_number", f"typo: {status} {body}")
    formatted = f"{n[:4]}-{n[4:8]}-{n[8:]}".lower()
    status, _, body = s.json("GET", f"/api/v1/cards/{formatted}", token=token(s))
    check(status == 200 and body["card_number"] == n, "formatted, lower case accepted")


@test
def roles_and_login_required(s):
    r = s.cli("user", "add", "auditor-cards", "--role", "auditor", stdin="auditor password\n")
    check(r.returncode == 0, "user add auditor")
    _, _, body = s.login("auditor-cards", "auditor password")
    status, _, _ = issue(s, "Ana", "Rolexyz", tok=body["token"])
    check(status == 403, f"an auditor cannot issue: {status}")
    status, _, _ = s.json("GET", "/api/v1/cards?family_name=x&date_of_birth=1990-01-01")
    check(status == 401, "no token, no search")


@test
def no_plaintext_name_in_data_folder_or_log(s):
    for key in PEOPLE:
        card(s, key)
    needles = []
    for given, family in PEOPLE.values():
        needles += [family.encode(), family.lower().encode(), family.encode("utf-16-le")]
    needles += [b"Maison du Quartier", b"residence_proof"]
    for root, _, files in os.walk(s.data):
        for fn in files:
            with open(os.path.join(root, fn), "rb") as f:
                data = f.read()
            for n in needles:
                check(n not in data, f"{n!r} found in {fn}")
    log = "".join(s.stderr)
    for given, family in PEOPLE.values():
        check(family not in log and given not in log, "a name reached the log")
    for c in _cards.values():
        check(c["reprint_code"] not in log, "a reprint code reached the log")


@test
def audit_records_card_actions(s):
    c = card(s, "vi")
    s.json("GET", f"/api/v1/cards/{c['card_number']}", token=token(s))
    import sqlite3
    db = sqlite3.connect(os.path.join(s.data, "civicard.db"))
    rows = db.execute("SELECT actor, action, subject, detail FROM audit_log WHERE subject = ?",
                      (c["card_number"],)).fetchall()
    db.close()
    actions = {r[1] for r in rows}
    check({"card.issue", "card.view", "card.pdf"} <= actions, f"audited: {actions}")
    check(all(r[0] == CLERK[0] for r in rows), "who")
    r = s.cli("check")
    check(r.returncode == 0, f"chain intact: {r.stderr}")


def evidence_types_configurable(_):
    """A city chooses its list; a code without a label in every catalogue
    stops the start with the key to add."""
    import tempfile
    d = tempfile.mkdtemp(prefix="civicard-ev-")
    try:
        r = subprocess.run([harness.BINARY, "serve", "--data", d, "--listen", "127.0.0.1:0",
                            "--evidence-types", "passport,lease_xyz"], capture_output=True, text=True, timeout=30)
        check(r.returncode == 1 and "card.evidence.lease_xyz" in r.stderr, f"missing label: {r.returncode} {r.stderr}")
        r = subprocess.run([harness.BINARY, "serve", "--data", d, "--evidence-types", "Pass port"],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 2, "a malformed list is a usage error")
        s2 = harness.Server(args=("--evidence-types", "passport,school_record"))
        try:
            ok = issue(s2, "Ana", "Evidencexyz", extra=[("evidence", "school_record")])
            check(ok[0] == 201, f"listed code: {ok[0]} {ok[2]}")
            bad = issue(s2, "Ana", "Evidencexyz", extra=[("evidence", "national_id")])
            check(bad[0] == 400 and bad[2]["field"] == "evidence", f"unlisted code: {bad[0]} {bad[2]}")
        finally:
            code = s2.stop()
            check(code == 0, f"clean stop: exit {code}\n" + "".join(s2.stderr)[-3000:])
            shutil.rmtree(s2.data, ignore_errors=True)
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    cardlib.main([("evidence_types_configurable", evidence_types_configurable)])
