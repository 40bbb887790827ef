"""How many zine layouts a --no-cache zine build makes, and the fit it ends on (issue 20).

    PYTHONPATH=src python bench/zine_layouts.py PROJECT...

Each project is built in place (its build/ is rewritten); one line per project: the settings laid
out, in order, and the chosen setting with its page count and blank pages.
"""

from __future__ import annotations

import sys

import zinepress.writers.zine as zine_writer
import zinepress.zinelayout as zinelayout
from zinepress.cli import main


def counted_build(project: str) -> tuple[int, list, object]:
    """Build the zine of ``project``, recording each setting actually laid out and the fit."""
    laid_out, fits = [], []
    document, pages = zinelayout.ZineLayout.document, zine_writer.zine_pages

    def counting_document(layout, setting):
        if setting not in layout.documents:
            laid_out.append(setting)
        return document(layout, setting)

    def recording_pages(rendered, session):
        result = pages(rendered, session)
        fits.append(result.fit)
        return result

    zinelayout.ZineLayout.document, zine_writer.zine_pages = counting_document, recording_pages
    try:
        code = main(["build", project, "--format", "zine", "--no-cache", "-q"])
    finally:
        zinelayout.ZineLayout.document, zine_writer.zine_pages = document, pages
    return code, laid_out, fits[0] if fits else None


if __name__ == "__main__":
    for path in sys.argv[1:]:
        code, laid_out, fit = counted_build(path)
        tried = ", ".join(f"{s.size:g}/{s.leading:g}" for s in laid_out)
        chosen = f"{fit.setting.size:g}pt/{fit.setting.leading:g}, {fit.pages} pages, {fit.blanks} blank" if fit else "-"
        print(f"{path}: exit {code}, {len(laid_out)} layouts ({tried}) → {chosen}")
