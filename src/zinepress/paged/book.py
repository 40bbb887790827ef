"""``RenderedBook`` → the print edition laid out part by part: each part's PDF, folios and page starts.

WeasyPrint's layout is the cost of a build. The print HTML is split at its top-level
sections into parts: the front matter (everything before the first chapter), then one
part per section. Forked workers (one per CPU) lay the parts out in book order, side by
side; each part is written as its own ``pdf/ua-1`` file (with the bleed) as soon as its
place in the book is known, and freed, so no process holds more than a few chapters. The
part PDFs are joined afterwards (``join.py``). With one CPU, or where forking is not
safe, the same run happens in this process.

What makes the parts add up to the book laid out whole:

* **Neighbours.** Each part holds an empty copy ("ghost") of the section before it and of
  the one after it, so selectors such as ``.toc + .chapter`` and the section's own
  ``break-before`` behave as in the whole book. The pages before the part's first section
  are dropped; the pages up to the next section's ghost are kept, so a blank verso before
  a chapter that opens on a right-hand page belongs to the part before it.
* **Folios.** A part's place follows from the parts before it: its page counter is moved
  on by them, and WeasyPrint's margin boxes (folios, running heads) are made again with the
  moved counter. A stylesheet that shows the page count (``counter(pages)``) makes every
  part wait until all are laid out.
* **Sides.** A part starts on a right-hand page; one whose first page falls on a left-hand
  page of the book is laid out again starting on the left.
* **The contents.** The front matter is laid out first without its targets' numbers (its
  length and folios place the other parts), and last with them: for every link it holds
  to a later part, an empty placeholder page carries the target's page number, so
  ``target-counter()`` gives the real number; the placeholders are dropped.
* **Links across parts** keep working: a part names the anchors it links to on its first
  page ("borrowed" names), and the join keeps only each anchor's real place.

A book whose sections do not each start a new page, or whose stylesheet counts across parts
(pages to targets in other parts, footnotes numbered through the book), is laid out whole,
as one part.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from ..errors import Diagnostics
from ..gutter import gutter_css, settle_gutter

from ..pagelist import BODY_KINDS, PageStart
from ..render import RenderedBook
from ..stylesheets import Stylesheet
from . import workers
from .context import LayoutContext
from .fetcher import ConfinedFetcher
from .layout import MINIMUM_DPI, PartLayout, stylesheets_for
from .pagecss import page_css, pdf_identifier
from .partcache import PartCache
from .parts import Part, counts_across_parts, flip_start, shows_page_count, split, split_whole, with_placeholders
from .schedule import (MAX_SIDE_ROUNDS, Facts, PartWritten, Placement, after_front, falls_on_other_side, last_counter,
                       place, same_place, target_numbers)

@dataclass(frozen=True)
class LaidOutBook:
    """The laid-out print edition, the layout stage's result: what the paged writers and the EPUB's
    page list need, and nothing they could change."""

    parts: tuple[bytes | None, ...]  # each part's tagged PDF (None when only the page list was asked for)
    borrowed: tuple[tuple[str, ...], ...]  # the anchors each part names only to keep its links to others
    page_starts: tuple[PageStart, ...]
    first_body: int  # index of the first chapter's first page
    pages: int
    folios: tuple[str, ...] = ()
    in_parts: bool = False  # laid out part by part (False: whole, as one part)
    pdf: bytes | None = None  # the digital edition, S.pdf: the parts joined and cut to the trim


def lay_out(rendered: RenderedBook, print_css: Stylesheet, source_date: dt.datetime, diagnostics: Diagnostics,
            pdf: bool, store=None, progress=None) -> LaidOutBook:
    """The layout stage: the print edition laid out (with the gutter its page count asks for, see
    :mod:`..gutter`), and with ``pdf`` its parts' PDFs and the digital edition. ``store`` is the
    project's build cache, which keeps parts between builds; ``progress(done, total)`` is told as
    parts are written."""
    def with_gutter(gutter: float | None) -> LaidOutBook:
        rules = "\n".join(filter(None, (page_css(rendered), gutter_css(rendered.config, gutter))))
        context = LayoutContext(rendered, print_css, rules, source_date, diagnostics,
                                ConfinedFetcher(rendered.config.project))
        return lay_out_parts(context, pdf, store, progress)

    laid = settle_gutter(rendered.config, diagnostics, with_gutter)
    if not pdf:
        return laid
    from .join import digital_edition
    return dataclasses.replace(laid, pdf=digital_edition(laid.parts, laid.borrowed, laid.first_body,
                                                         pdf_identifier(rendered), rendered))


def lay_out_parts(context: LayoutContext, pdf: bool, store=None, progress=None) -> LaidOutBook:
    """The print edition laid out: in parts where that pays (and the stylesheet allows it), else whole."""
    rendered, css = context.rendered, context.print_css.text
    stylesheets = stylesheets_for(context)
    cache = PartCache(store, context) if store else None
    hold = shows_page_count(css)
    parts = split(rendered)
    if len(parts) > 1 and (counts_across_parts(parts, css) or not worth_splitting(rendered, parts)):
        parts = [split_whole(rendered)]
    result = _Layout(parts, context, stylesheets, pdf, cache, hold, progress).run()
    if result is None:
        result = _Layout([split_whole(rendered)], context, stylesheets, pdf, cache, hold, progress).run()
    if cache:
        cache.keep_used()
    return result


SPLIT_FROM_CHARACTERS = 140_000
"""Print HTML below this size is laid out whole, in this process: forking, the parts' own layouts
and the join would cost more than they save. Measured with ``--format pdf --no-cache`` on two
CPUs (wall seconds, parts against whole): the review (119,000 characters) 1.20 against 1.04,
a 30-page book (169,000) 2.58 against 3.24, 60 pages 4.91 against 5.93, 100 pages 7.48 against 9.48."""


def worth_splitting(rendered: RenderedBook, parts: list[Part]) -> bool:
    """Whether laying the book out in parts pays: a book big enough (see ``SPLIT_FROM_CHARACTERS``)."""
    return len(rendered.print_html) >= SPLIT_FROM_CHARACTERS


class _Layout:
    """One run of :func:`_lay_out`: the parts' facts and results as they come in."""

    def __init__(self, parts, context: LayoutContext, stylesheets, pdf, cache, hold, progress=None):
        self.parts, self.context, self.stylesheets = parts, context, stylesheets
        self.rendered = context.rendered
        self.progress = progress or (lambda done, total: None)
        self.pdf, self.cache, self.hold = pdf, cache, hold
        self.body_sections, self.first_body = _body(self.rendered)
        self.anchors = frozenset(name for part in parts for name in part.ids)
        self.current = {part.index: part for part in parts[1:]}
        self.workers = min(workers.workers_wanted(), len(self.current))
        self.stream = None
        self.total: int | None = None
        self.facts: dict[int, Facts] = {}
        self.placements: dict[int, Placement] = {}
        self.written: dict[int, PartWritten] = {}
        self.fresh: set[int] = set()
        self.awaiting: dict[int, Placement] = {}  # parts to lay out (again) before they are written
        self.in_stream: set[int] = set()  # parts whose current version the stream holds, laid out
        self.waiting = 0  # writes asked for and not yet answered
        self.expected: dict[int, Facts] = {}  # parts laid out again with numbers: their facts before
        self.failed = False  # a part laid out again no longer fits its place
        self.all_placed = False

    def _open(self, parts: list[Part]):
        if self.stream is None:
                self.stream = (workers.Stream(parts, self.workers, self.context, self.stylesheets) if self.workers > 1
                           else workers.LocalStream(parts, self.context, self.stylesheets))
        return self.stream

    def run(self):
        self.facts = _cached_facts(self.cache, self.current.values())
        if not all(fact.splits for fact in self.facts.values()):
            return None
        pending = [part for index, part in sorted(self.current.items()) if index not in self.facts]
        if pending:
            self._open(pending)
        fronts = FrontLayouts(self.context, self.stylesheets, self.cache)
        try:
            with workers.terminated_as_exit():
                guess = fronts.facts(self.parts[0])
                if not guess.splits or not self._place_all(guess):
                    return None
        except BaseException:
            if self.stream is not None:
                self.stream.close(abort=True)
                self.stream = None
            raise
        finally:
            if self.stream is not None:
                self.stream.close()
        front = _numbered_front(self.parts[0], self.facts, self.placements, fronts, guess)
        if front is None:
            return None
        self.current[0], self.facts[0] = front
        self.placements[0] = Placement(0, self.total)
        stored = self.cache.written(self.current[0], self.placements[0], self.pdf) if self.cache else None
        if stored is None:
            stored = fronts.write(self.current[0], self.placements[0], self.pdf, self.body_sections,
                                  self.first_body, self.anchors)
            self.fresh.add(0)
        self.written[0] = stored
        self.progress(len(self.written), len(self.parts))
        defined = {name for fact in self.facts.values() for name in fact.anchors}
        if any(name not in defined for result in self.written.values() for name in result.borrowed):
            return None  # a link to an element that has no place on a page: the whole layout drops it
        if self.cache:
            for index in self.fresh:
                self.cache.store_written(self.current[index], self.placements[index], self.written[index])
        return _assemble(self.parts, self.facts, self.written, self.context)

    def _place_all(self, front: Facts) -> bool:
        """Place every later part in book order, writing each as its place is known; False when one does not split."""
        cursor, flips = after_front(front), {}
        order, position = sorted(self.current), 0
        while not self.failed:
            if position < len(order) and order[position] in self.facts:
                index = order[position]
                fact = self.facts[index]
                if not fact.splits:
                    return False
                if falls_on_other_side(cursor, fact):
                    flips[index] = flips.get(index, 0) + 1
                    if flips[index] > MAX_SIDE_ROUNDS:
                        return False
                    self._flip(index)
                    continue
                self.placements[index], cursor = place(cursor, fact)
                if not self.hold and not self._needs_numbers(index):
                    self._write(index)
                position += 1
            elif position == len(order) and not self.all_placed:
                self.all_placed = True
                self.total = cursor.pages if self.hold else None
                self._write_the_rest(order, front)
            elif position == len(order) and not self.waiting and not self.awaiting:
                return True
            else:
                self._receive()
        return False

    def _needs_numbers(self, index: int) -> bool:
        """Whether part ``index`` shows page numbers of targets in other parts (``target-counter()``)."""
        return bool(self.current[index].links_out) and self.facts[index].missing_targets

    def _write_the_rest(self, order: list[int], front: Facts) -> None:
        """Once every part is placed: write those held back, the ones that show the page count (with it)
        and the ones that show their targets' page numbers (laid out again with them)."""
        for index in order:
            if self.hold:
                self.placements[index] = dataclasses.replace(self.placements[index], total=self.total)
            if self._needs_numbers(index):
                numbers = target_numbers(self.current[index].links_out, {0: front, **self.facts},
                                         {0: Placement(0, None), **self.placements})
                html, extra = with_placeholders(self.current[index], numbers)
                self._lay_out_again(index, dataclasses.replace(self.current[index], html=html, extra_css=extra))
            elif self.hold:
                self._write(index)

    def _flip(self, index: int) -> None:
        """Lay part ``index`` out again, starting on the other side."""
        part = dataclasses.replace(self.current[index], html=flip_start(self.current[index]))
        self.current[index] = part
        del self.facts[index]
        self.in_stream.discard(index)
        known = _cached_facts(self.cache, [part])
        if known:
            self.facts.update(known)
        else:
            self._open([]).send(index, ("layout", part))

    def _lay_out_again(self, index: int, part: Part) -> None:
        """Have ``part`` (part ``index`` with its targets' numbers) written at the place its first layout got."""
        before = self.facts.pop(index)
        self.current[index] = part
        self.in_stream.discard(index)
        known = _cached_facts(self.cache, [part])
        if known:
            self.facts.update(known)
            self.failed = self.failed or not same_place(before, known[index])
            self._write(index)
        else:
            self.expected[index] = before
            self.awaiting[index] = self.placements[index]
            self._open([]).send(index, ("layout", part))

    def _write(self, index: int) -> None:
        """Have part ``index`` written at its place: from the cache, by the stream, or laid out first."""
        placement = self.placements[index]
        stored = self.cache.written(self.current[index], placement, self.pdf) if self.cache else None
        if stored is not None:
            self.written[index] = stored
        elif index in self.in_stream:
            self.stream.send(index, ("write", (index, placement, self.pdf, self.body_sections, self.first_body,
                                               self.anchors)))
            self.waiting += 1
        else:
            self.awaiting[index] = placement
            self._open([]).send(index, ("layout", self.current[index]))

    def _receive(self) -> None:
        kind, value = self.stream.receive()
        if kind == "facts":
            self.facts[value.index] = value
            self.in_stream.add(value.index)
            if self.cache:
                self.cache.store_facts(self.current[value.index], value)
            if value.index in self.expected:
                self.failed = self.failed or not same_place(self.expected.pop(value.index), value)
            if value.index in self.awaiting:
                del self.awaiting[value.index]
                self._write(value.index)
        else:
            self.written[value.index] = value
            self.fresh.add(value.index)
            self.waiting -= 1
            self.progress(len(self.written), len(self.parts))


def _body(rendered: RenderedBook) -> tuple[list[str], str | None]:
    body = [document.id for document in rendered.epub_documents if document.kind in BODY_KINDS]
    first = next((document.id for document in rendered.epub_documents if document.kind == "chapter"), None)
    return body, first


def _assemble(parts: list[Part], facts: dict[int, Facts], written: dict[int, PartWritten],
              context: LayoutContext) -> LaidOutBook:
    """The laid-out book from its parts' facts and results; their warnings reported once."""
    for index in sorted(facts):
        for warning in facts[index].warnings + written[index].warnings:
            context.diagnostics.warnings.append(warning)
    _warn_low_resolution(facts, context)
    _dedupe_warnings(context.diagnostics)
    offsets, offset = {}, 0
    for index in sorted(facts):
        offsets[index] = offset
        offset += facts[index].kept
    starts = [start for index in sorted(written) for _, start in _with_folios(written[index])]
    return LaidOutBook(parts=tuple(written[index].pdf for index in sorted(written)),
                       borrowed=tuple(written[index].borrowed for index in sorted(written)),
                       page_starts=tuple(starts),
                       first_body=offsets[1] if len(parts) > 1 else _first_body_in(facts[0], context.rendered),
                       pages=offset,
                       folios=tuple(folio for index in sorted(written) for folio in written[index].folios),
                       in_parts=len(parts) > 1)


def _cached_facts(cache, parts) -> dict[int, Facts]:
    if cache is None:
        return {}
    return {part.index: found for part in parts if (found := cache.facts(part)) is not None}


def _with_folios(written: PartWritten):
    for page, start in written.starts:
        yield page, dataclasses.replace(start, folio=written.folios[page])


def _first_body_in(facts: Facts, rendered: RenderedBook) -> int:
    chapters = rendered.book.chapters
    return facts.anchors.get(chapters[0].slug, 0) if chapters else 0




class FrontLayouts:
    """The front matter's layouts, made in this process (it is small), kept until one is written."""

    def __init__(self, context: LayoutContext, stylesheets, cache: PartCache | None):
        self.context, self.stylesheets, self.cache = context, stylesheets, cache
        self.layouts: dict[Part, PartLayout] = {}

    def _lay_out(self, placed: Part) -> PartLayout:
        if placed not in self.layouts:
            self.layouts[placed] = PartLayout(placed, self.context.quiet(), self.stylesheets)
        return self.layouts[placed]

    def facts(self, placed: Part) -> Facts:
        """The facts of the front matter as ``placed``: from the cache, or laid out here."""
        found = self.cache.facts(placed) if self.cache else None
        if found is None:
            found = self._lay_out(placed).facts()
            if self.cache:
                self.cache.store_facts(placed, found)
        return found

    def write(self, placed: Part, placement: Placement, pdf: bool, body_sections, first_body, anchors) -> PartWritten:
        return self._lay_out(placed).write(placement, pdf, body_sections, first_body, anchors)


def _numbered_front(front: Part, facts: dict[int, Facts], placements: dict[int, Placement], fronts: FrontLayouts,
                    guess: Facts):
    """The front matter laid out with the page numbers of its links' targets: (part, facts).

    None when it does not split, or when the numbers change its length or its last folio:
    the other parts were placed after ``guess``, its layout without the numbers.
    """
    html, extra = with_placeholders(front, target_numbers(front.links_out, facts, placements))
    placed = dataclasses.replace(front, html=html, extra_css=extra)
    found = fronts.facts(placed)
    if not found.splits or (found.kept, last_counter(found)) != (guess.kept, last_counter(guess)):
        return None
    return placed, found


def _warn_low_resolution(facts: dict[int, Facts], context: LayoutContext) -> None:
    worst: dict[str, float] = {}
    for fact in facts.values():
        for href, dpi in fact.dpi.items():
            worst[href] = min(dpi, worst.get(href, dpi))
    for href, dpi in sorted(worst.items()):
        if dpi < MINIMUM_DPI:
            context.diagnostics.warn(f"image '{href}' prints at {dpi:.0f} dpi, under {MINIMUM_DPI} dpi: "
                                     "use a larger image or print it smaller", context.rendered.config.manuscript / href)


def _dedupe_warnings(diagnostics) -> None:
    seen, unique = set(), []
    for warning in diagnostics.warnings:
        key = (warning.message, str(warning.path), warning.line)
        if key not in seen:
            seen.add(key)
            unique.append(warning)
    diagnostics.warnings[:] = unique
