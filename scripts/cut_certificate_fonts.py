"""Cut the certificate fonts down to what a certificate can show, so they are embedded whole.

Run: .venv/bin/python scripts/cut_certificate_fonts.py   (then run tests/certificates)

Reads the unmodified fonts in assets/fonts/ and writes lms/static/fonts/*.ttf. Each file
keeps the characters of the names and titles a certificate can carry (Latin with its
accents, basic Arabic, punctuation) and the glyphs that HarfBuzz's default shaping features
reach from them (Arabic joining forms, ligatures, marks), without hinting. The PDF renderer
then embeds these files whole (WeasyPrint's ``full_fonts``) and never subsets a font per
document: subsetting cost 20-30 ms per certificate with libharfbuzz-subset0 and about a
second without it (fontTools). The output depends only on the inputs and fontTools' version.
The licences (OFL 1.1, no Reserved Font Name) allow modified versions; they are copied beside.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from fontTools import subset

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "assets" / "fonts"
OUTPUT = ROOT / "lms" / "static" / "fonts"

LATIN = (
    "U+0020-007E,U+00A0-017F,U+0180-024F,U+0259,U+02BB-02BC,U+02C6,U+02DA,U+02DC,"
    "U+0300-036F,U+1E00-1EFF,U+2000-206F,U+20AC,U+2122,U+2212,U+25CF,U+FEFF,U+FFFD"
)
ARABIC = "U+0600-06FF,U+0750-077F,U+FD3E-FD3F"
FONTS = {
    "Amiri-Bold.ttf": f"{LATIN},{ARABIC}",
    "NotoSans-Regular-Latin.ttf": LATIN,
    "NotoSans-Bold-Latin.ttf": LATIN,
    "NotoSansArabic-Regular.ttf": f"U+0020-007E,U+00A0,U+00AB,U+00BB,U+2000-206F,{ARABIC}",
    "NotoSansArabic-Bold.ttf": f"U+0020-007E,U+00A0,U+00AB,U+00BB,U+2000-206F,{ARABIC}",
}
LICENCES = ("Amiri-OFL.txt", "Noto-OFL.txt")


def cut(name: str, unicodes: str) -> int:
    """Write the cut font ``name``; its size in bytes."""
    options = subset.Options()
    options.layout_features = subset.Options().layout_features  # HarfBuzz's defaults
    options.hinting = False
    options.notdef_outline = True
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.name_legacy = True
    options.drop_tables += ["DSIG"]
    font = subset.load_font(str(SOURCE / name), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=subset.parse_unicodes(unicodes))
    subsetter.subset(font)
    path = OUTPUT / name
    subset.save_font(font, str(path), options)
    return path.stat().st_size


def main() -> None:
    for name, unicodes in FONTS.items():
        size = cut(name, unicodes)
        print(f"{name:30} {(SOURCE / name).stat().st_size // 1024:5} KB -> {size // 1024:4} KB")
    for licence in LICENCES:
        shutil.copyfile(SOURCE / licence, OUTPUT / licence)


if __name__ == "__main__":
    main()
