#!/usr/bin/env python3
"""One source for `civicard --help` and the civicard(8) man page.

  usage.py header src/usage.txt OUT.h
      the help text as a C string, `static const char usage[]`
  usage.py man src/usage.txt dist/civicard.conf VERSION OUT.8
      the man page: the help text's sections, then CONFIGURATION from the
      example file (its comments, and each `#key = default` line)

src/usage.txt layout: a "usage: civicard ..." line, a description, then
sections headed "Title:" at column 0. An entry is a term at column 2 (it
may go on over more lines indented deeper) and its text from column 22,
on the same line or the next ones. "Title: text" on one line is a
section of one paragraph."""

import re
import sys

DESC_COL = 22


def c_string(text):
    out = []
    for line in text.splitlines(keepends=True):
        esc = line.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        out.append(f'\t"{esc}"')
    return "\n".join(out)


def roff(s):
    s = s.replace("\\", "\\e").replace("-", "\\-")
    if s.startswith((".", "'")):
        s = "\\&" + s
    return s


def parse_usage(text):
    lines = text.rstrip("\n").split("\n")
    if not lines[0].startswith("usage: "):
        sys.exit("usage.txt: the first line must be \"usage: civicard ...\"")
    synopsis = lines[0][len("usage: "):]
    desc, sections, cur = [], [], None
    for line in lines[1:]:
        m = re.match(r"^([A-Z][A-Za-z ]*):(.*)$", line)
        if m:
            cur = {"title": m.group(1).upper(), "para": m.group(2).strip(), "entries": []}
            sections.append(cur)
            continue
        if cur is None:
            desc.append(line)
            continue
        if not line.strip():
            continue
        if line.startswith("  ") and not line.startswith("   "):
            term = line[2:DESC_COL].rstrip() if len(line) > DESC_COL and line[DESC_COL - 1] == " " \
                and line[DESC_COL - 2] == " " else line[2:].rstrip()
            rest = line[DESC_COL:].strip() if term != line[2:].rstrip() else ""
            cur["entries"].append({"term": [term], "text": [rest] if rest else []})
        elif line.startswith(" " * DESC_COL) and cur["entries"]:
            cur["entries"][-1]["text"].append(line.strip())
        elif line.startswith("   ") and cur["entries"]:
            cur["entries"][-1]["term"].append(line.strip())
        else:
            sys.exit(f"usage.txt: cannot place the line {line!r}")
    return synopsis, desc, sections


def parse_conf(text):
    """[(heading or None, [prose lines], [(key, default)])] in file order."""
    groups, prose, keys, heading = [], [], [], None
    intro = True

    def flush():
        nonlocal prose, keys
        if prose or keys:
            groups.append((heading, prose, keys))
        prose, keys = [], []

    for line in text.split("\n"):
        if line.startswith("## "):
            flush()
            heading = line[3:].strip()
            intro = False
            continue
        m = re.match(r"^#([a-z_.]+) = ?(.*)$", line)
        if m:
            keys.append((m.group(1), m.group(2)))
            continue
        if line.startswith("#"):
            if keys:
                flush()
            if not intro:
                prose.append(line[1:].strip())
            continue
        if not line.strip():
            if keys:
                flush()
            elif prose and prose[-1] != "":
                prose.append("")
    flush()
    return groups


def paragraphs(lines):
    out, cur = [], []
    for line in lines + [""]:
        if line:
            cur.append(line)
        elif cur:
            out.append(" ".join(cur))
            cur = []
    return out


def man(usage_text, conf_text, version):
    synopsis, desc, sections = parse_usage(usage_text)
    o = [f'.TH CIVICARD 8 "" "civicard {roff(version)}" "System Administration"',
         ".SH NAME", "civicard \\- issue and verify resident identity cards",
         ".SH SYNOPSIS", ".B civicard", roff(synopsis.split(" ", 1)[1]),
         ".SH DESCRIPTION"]
    for p in paragraphs([d.strip() for d in desc]):
        o += [".PP", roff(p)]
    for s in sections:
        o.append(f".SH {s['title']}")
        if s["para"]:
            o += [roff(s["para"])]
        for e in s["entries"]:
            o += [".TP", ".B " + roff(e["term"][0])]
            o += [roff(t) for t in e["term"][1:]]
            if e["text"]:
                if len(e["term"]) > 1:
                    o.append(".br")
                o.append(roff(" ".join(e["text"])))
    o += [".SH CONFIGURATION",
          ".PP", "The file given by \\fB\\-\\-config\\fR has one \\fIkey\\fR = \\fIvalue\\fR "
          "per line, \\fB#\\fR comments at the start of a line, no sections. "
          "\\fBcivicard check\\fR names the line and key of every mistake; "
          "\\fBcivicard config\\fR prints every key with the value in effect. "
          "The keys, with their defaults:"]
    for heading, prose, keys in parse_conf(conf_text):
        if heading:
            o.append(f".SS {roff(heading)}")
        if not keys:
            for p in paragraphs(prose):
                o += [".PP", roff(p)]
            continue
        o.append(".TP")
        o.append(".BR " + " , ".join(f'"{roff(k)}"' for k, _ in keys) if len(keys) > 1
                 else ".B " + roff(keys[0][0]))
        defaults = "; ".join(f"{k} = {v}" if len(keys) > 1 else (v or "(empty)") for k, v in keys)
        text = " ".join(paragraphs(prose))
        o.append(roff(text))
        o += [".br", "Default: " + roff(defaults)]
    o += [".SH SEE ALSO", "docs/operations.md, docs/architecture.md, docs/privacy.md "
          "in the source; the installed copies under /usr/share/doc/civicard."]
    return "\n".join(o) + "\n"


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "header":
        with open(sys.argv[2], encoding="utf-8") as f:
            text = f.read()
        with open(sys.argv[3], "w", encoding="utf-8") as f:
            f.write("/* Generated from src/usage.txt by scripts/usage.py. */\n")
            f.write("static const char usage[] =\n" + c_string(text) + ";\n")
    elif len(sys.argv) == 6 and sys.argv[1] == "man":
        with open(sys.argv[2], encoding="utf-8") as f:
            usage = f.read()
        with open(sys.argv[3], encoding="utf-8") as f:
            conf = f.read()
        with open(sys.argv[5], "w", encoding="utf-8") as f:
            f.write(man(usage, conf, sys.argv[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
