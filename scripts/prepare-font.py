#!/usr/bin/python3
"""Build step: cut the card font from a DejaVu Sans TrueType file.

    prepare-font.py IN.ttf OUT.ttf [--family NAME]

Run with the system Python (/usr/bin/python3, Debian's python3-fonttools).

What it does, and why (details in docs/card-layout.md):
  1. Decomposes every composite glyph into a simple one. libharu 2.3.0
     follows only one level of components when it subsets an embedded font,
     so DejaVu's nested composites ("ễ" = e + [circumflex + tilde],
     "Ἀ" = [Alpha = A] + psili, "Ё" = [Е = E] + dieresis) print without
     their accents or without their base letter.
  2. Keeps only the characters a card prints: Latin (Basic, Latin-1,
     Extended-A/B, Extended Additional for Vietnamese), spacing modifier
     letters (ʻ ʼ), combining diacritics, Greek and Greek Extended
     (polytonic: "Ἀλέξανδρος"), Cyrillic and its supplement, general
     punctuation, and a few symbols (€ №). This set is what the service
     accepts in a name (card_fonts_cover); each PDF then embeds only the
     glyphs its card prints (src/card/card_pdf.c cuts that subset).
  3. Drops what libharu never reads or that only costs bytes: OpenType
     layout (GSUB, GPOS, GDEF), kern, MATH, hinting (instructions and the
     cvt/fpgm/prep tables: a PDF is rasterised at print resolution, and the
     per-card subset src/card/card_pdf.c cuts from this font adds the
     tables libharu insists on), glyph names (post format 3: libharu maps
     characters through cmap), and the long licence text (name ID 13; the
     copyright notice, ID 0, and the licence URL, ID 14, stay).
  4. Renames the family (default "CardSans") so nobody mistakes the cut
     for the original (the Bitstream Vera licence DejaVu inherits asks
     modified fonts to be renamed).

The output is deterministic: same input, same bytes (no timestamps are
recalculated; tables are written in a fixed order).
"""
import argparse
import os
import sys

try:
    from fontTools import subset
    from fontTools.misc.roundTools import otRound
    from fontTools.ttLib import TTFont
    from fontTools.ttLib.tables._g_l_y_f import Glyph, GlyphCoordinates
    from fontTools.ttLib.tables import ttProgram
except ImportError:
    sys.exit(f"{sys.argv[0]}: needs fontTools (Debian: python3-fonttools); "
             f"run it with /usr/bin/python3, not {sys.executable}")

# Code point ranges the card can print (inclusive).
RANGES = [
    (0x0020, 0x007E),  # Basic Latin
    (0x00A0, 0x00FF),  # Latin-1 Supplement
    (0x0100, 0x017F),  # Latin Extended-A
    (0x0180, 0x024F),  # Latin Extended-B
    (0x02B0, 0x02FF),  # Spacing Modifier Letters (ʻ U+02BB, ʼ U+02BC)
    (0x0300, 0x036F),  # Combining Diacritical Marks
    (0x0370, 0x03FF),  # Greek and Coptic
    (0x0400, 0x04FF),  # Cyrillic
    (0x0500, 0x052F),  # Cyrillic Supplement
    (0x1E00, 0x1EFF),  # Latin Extended Additional (Vietnamese)
    (0x1F00, 0x1FFF),  # Greek Extended (polytonic Greek names)
    (0x2000, 0x206F),  # General Punctuation
]
SYMBOLS = [
    0x20AC,  # € euro sign
    0x2116,  # № numero sign
    0x2122,  # ™
    0x2212,  # − minus sign
]

# Characters the card cannot do without: the build fails if one is missing.
MUST_HAVE = "AZaz09 -'’ʼʻ.…/:№€ÀÿĀžƒǿȘțẠỹễἈἀῼΑωЁЩёщӐ"

# Name records kept: copyright (0), family (1), subfamily (2), unique id (3),
# full name (4), version (5), PostScript name (6), licence URL (14).
NAME_IDS = [0, 1, 2, 3, 4, 5, 6, 14]


def wanted_codepoints():
    cps = set(SYMBOLS)
    for lo, hi in RANGES:
        cps.update(range(lo, hi + 1))
    return cps


def decompose_all(font):
    """Replace every composite glyph by a simple glyph with the same outline.

    Glyph.getCoordinates() follows components recursively and applies their
    offsets and transforms; coordinates are rounded to integers (font units)
    as a simple glyph stores them. Returns how many glyphs changed."""
    glyf = font["glyf"]
    changed = 0
    # Compute every outline first, then replace: a glyph may be a component
    # of another one still to be processed (the result is the same either
    # way, but this keeps the order irrelevant).
    outlines = {}
    for name in font.getGlyphOrder():
        g = glyf[name]
        if not g.isComposite():
            continue
        coords, end_pts, flags = g.getCoordinates(glyf)
        outlines[name] = (coords, end_pts, flags)
    for name, (coords, end_pts, flags) in outlines.items():
        simple = Glyph()
        simple.numberOfContours = len(end_pts)
        simple.coordinates = GlyphCoordinates(
            [(otRound(x), otRound(y)) for x, y in coords])
        simple.endPtsOfContours = list(end_pts)
        simple.flags = bytearray(f & 0x01 for f in flags)  # on-curve bit only
        simple.program = ttProgram.Program()
        simple.program.fromBytecode(b"")
        simple.recalcBounds(glyf)
        glyf[name] = simple
        changed += 1
    return changed


def rename(font, family):
    """Rename the family: the cut is not DejaVu Sans any more. PostScript
    name: FAMILY or FAMILY-Bold (libharu uses it as the PDF BaseFont and as
    the font's key within one document, so Regular and Bold must differ)."""
    name = font["name"]
    sub = name.getDebugName(2) or "Regular"
    if sub == "Book":  # DejaVu calls its regular weight "Book"
        sub = "Regular"
    ps = family if sub == "Regular" else f"{family}-{sub.replace(' ', '')}"
    full = family if sub == "Regular" else f"{family} {sub}"
    version = name.getDebugName(5) or ""
    new = {
        1: family,
        2: sub,
        3: f"{ps};{version};derived from {name.getDebugName(4)}",
        4: full,
        6: ps,
    }
    for rec in name.names:
        if rec.nameID in new:
            rec.string = new[rec.nameID]
    return ps


def prepare(src, dst, family):
    font = TTFont(src, recalcTimestamp=False, recalcBBoxes=True)
    for tag in ("FFTM", "DSIG"):  # FFTM holds build timestamps
        if tag in font:
            del font[tag]
    n = decompose_all(font)

    opts = subset.Options()
    opts.layout_features = []
    opts.drop_tables += ["GSUB", "GPOS", "GDEF", "kern", "MATH", "BASE",
                         "JSTF", "FFTM", "gasp", "hdmx", "LTSH", "VDMX",
                         "DSIG", "vhea", "vmtx", "PCLT"]
    opts.hinting = False       # no instructions, no cvt/fpgm/prep
    opts.glyph_names = False   # post format 3
    opts.legacy_kern = False
    opts.notdef_glyph = True
    opts.notdef_outline = True
    opts.recommended_glyphs = True
    opts.name_IDs = NAME_IDS
    opts.name_legacy = False   # Windows (3,1) records only
    opts.name_languages = [0x0409]
    opts.prune_unicode_ranges = True
    opts.recalc_timestamp = False
    opts.canonical_order = True
    sub = subset.Subsetter(options=opts)
    sub.populate(unicodes=sorted(wanted_codepoints()))
    sub.subset(font)

    ps = rename(font, family)
    cmap = font.getBestCmap()
    missing = [f"U+{ord(c):04X}" for c in MUST_HAVE if ord(c) not in cmap]
    if missing:
        sys.exit(f"{src}: lacks {', '.join(missing)}")
    # Sanity: nothing composite left (libharu must never meet one).
    glyf = font["glyf"]
    left = [g for g in font.getGlyphOrder() if glyf[g].isComposite()]
    if left:
        sys.exit(f"{src}: composite glyphs left after decomposition: {left[:5]}")

    tmp = dst + ".tmp"
    font.save(tmp, reorderTables=True)
    os.replace(tmp, dst)
    return n, ps, len(font.getGlyphOrder()), len(cmap)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--family", default="CardSans")
    a = ap.parse_args()
    n, ps, glyphs, chars = prepare(a.src, a.dst, a.family)
    print(f"{os.path.basename(a.src)}: {os.path.getsize(a.src)} bytes -> "
          f"{os.path.basename(a.dst)} ({ps}): {os.path.getsize(a.dst)} bytes, "
          f"{glyphs} glyphs, {chars} characters, {n} composites decomposed")


if __name__ == "__main__":
    main()
