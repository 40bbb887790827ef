"""Cuts Noto Serif CJK KR (Debian's fonts-noto-cjk) down to the characters of the Korean chapter.

Run from the fixture folder: python3 styles/fonts/make_korean_subset.py
"""

from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

SOURCE = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"
text = Path("manuscript/03-chaek.md").read_text(encoding="utf-8")
text += "".join(chr(code) for code in range(0x20, 0x7F)) + "\u2018\u2019\u201c\u201d\u2026\u00b7"
font = next(f for f in TTCollection(SOURCE, recalcTimestamp=False).fonts
            if f["name"].getDebugName(4) == "Noto Serif CJK KR")
options = subset.Options()
options.layout_features = ["*"]
options.name_IDs = ["*"]
options.notdef_outline = True
subsetter = subset.Subsetter(options)
subsetter.populate(unicodes={ord(char) for char in text if not char.isspace() or char == " "})
subsetter.subset(font)
font.save("styles/fonts/NotoSerifCJKkr-Regular-subset.otf")
