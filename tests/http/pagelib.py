"""Helpers shared by the black-box tests that drive the web pages as a
browser would: a cookie jar, the catalogues, CSRF tokens, and the check of
every page against the Content-Security-Policy."""

import html
import os
import re
from html.parser import HTMLParser
from urllib.parse import urlencode

from cardlib import multipart
from harness import check

CATALOGUES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "templates", "i18n")

# Every HTML page any Browser received, for csp_problems() at the end.
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


def csrf_of(page):
    m = re.search(r'name="csrf" value="([^"]+)"', page)
    check(m, "the page carries a CSRF token")
    return html.unescape(m.group(1))


class Browser:
    """A cookie jar that sends a cookie only under its Path, and the
    headers a browser sends."""

    def __init__(self, s, lang="en"):
        self.s = s
        self.jar = {}            # name -> (value, path)
        self.lang = lang

    def cookies_for(self, path):
        path = path.split("?")[0]
        return {k: v for k, (v, p) in self.jar.items()
                if p == "/" or path == p or path.startswith(p.rstrip("/") + "/")}

    def request(self, method, path, body=None, headers=None):
        h = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8",
             "Accept-Language": self.lang}
        sent = self.cookies_for(path)
        if sent:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in sent.items())
        h.update(headers or {})
        status, hdrs, data = self.s.request(method, path, body, h)
        for c in hdrs.get_all("Set-Cookie") or []:
            name, _, rest = c.partition("=")
            value = rest.split(";")[0]
            m = re.search(r";\s*Path=([^;]+)", c)
            if value and "Max-Age=0" not in c:
                self.jar[name] = (value, m.group(1) if m else "/")
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
        """Through the log-in form, as staff do."""
        status, _, page = self.get("/login")
        check(status == 200, f"login page: {status}")
        status, h, _ = self.post_form("/login", [("username", username), ("password", password),
                                                 ("csrf", csrf_of(page))])
        check(status == 303 and h["Location"] == "/dashboard", f"log-in {username}: {status}")
        check("civicard_session" in self.jar, "a session cookie")
        return self


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
            if not (dict(attrs).get("src") or "").startswith("/static/"):
                self.problems.append(f"<script> without a /static/ src: {attrs}")
            self.in_script = True

    def handle_endtag(self, tag):
        if tag == "script":
            self.in_script = False

    def handle_data(self, data):
        if self.in_script and data.strip():
            self.problems.append(f"an inline script body: {data.strip()[:60]!r}")


def check_csp(where, page):
    """Everything the CSP would block, found by the parser and, as the CSP
    reads the text, by plain patterns."""
    p = CspCheck()
    p.feed(page)
    p.close()
    check(not p.problems, f"{where}: {p.problems}")
    check(not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), f"{where}: inline <script>")
    check(not re.search(r"<script[^>]*>[^<]+</script>", page), f"{where}: a script body")
    check(not re.search(r"\sstyle\s*=", page), f"{where}: a style= attribute")
