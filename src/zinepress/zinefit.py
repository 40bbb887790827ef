"""A page count → the type setting that fills it: the search over the body sizes of ``[zine] fit``.

A setting is a body size and a leading (line height in ems). The settings tried run from
the smallest size to the largest at the base leading, then, at the largest size, through
leadings opened step by step up to a limit: a short text that leaves pages blank at the
largest size fills them with airier lines rather than with empty paper.

Each layout costs a second or more, so the search lays out as few settings as it can. A
layout tells more than its page count (:class:`Pages`): how far the text reaches into its
last page and how many pages' height the text takes. The text's height grows about as
(size² × leading) ** ``GROWTH``; the page count follows it, give or take the room lost at
page ends (chapter openings, figures), so a prediction from one layout is close but not
exact. Each probe is therefore put where the prediction says the largest fitting setting
is, a little below it, so that the probe and one ``CLOSE_STEPS`` above it bracket the
answer; with two layouts on either side of the page count the prediction is interpolated
between them. A fit that leaves a page blank is tried once or twice more just below the
setting that overflows, the most text the bracket allows, which often fills that page.
Settings already laid out (for another count) bound the search before any new one is; after three probes every other one halves the bracket, so the search stays
logarithmic however wrong the prediction. Each setting is laid out at most once (the
caller's ``count_at`` is memoised here).

A long zine is not fitted: when the blank pages left at the largest size are at most
``BLANK_SHARE`` of the count (two of 64 pages, three of 96), they stay, as the notes pages
at the end of a book do, since each further layout of such a text costs as much as
the print edition's.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

STEP_PT = 0.05
LEADING_STEP = 0.02
CLOSE_STEPS = 5  # the search stops once the largest fitting setting is known to within this many steps
GROWTH = 0.75  # the text's height grows about as the setting's weight to this power (measured: 0.7 to 0.85)
BELOW_PREDICTION = 1  # steps below the predicted largest fit that a probe is put, to bracket it with one more
BLANK_PROBES = 2  # probes above a fit that leaves a page blank, for one that fills it
MODEL_PROBES = 3  # probes put where the prediction says before every other one halves the bracket
BLANK_SHARE = 1 / 32  # blank pages a long zine keeps rather than be laid out again to fill them
SHRINK_MARGIN = 0.95  # the text at a smaller setting is taken as at least this share of its height × the weights' ratio


@dataclass(frozen=True)
class Setting:
    """A body size in pt and a leading (the line height, in ems of the body size)."""

    size: float
    leading: float

    @property
    def weight(self) -> float:
        """Roughly how the page count grows with the setting: the area each line of text takes."""
        return self.size ** 2 * self.leading


@dataclass(frozen=True)
class Pages:
    """What one layout tells: the page count, how far the text reaches (``count - 1`` and the fill of its
    last page), and the height of the text in pages (the fills of the pages it takes, summed)."""

    count: int
    extent: float
    text: float
    frame: int = 0  # the pages of the count that hold no text (a self-cover's cover and colophon)

    @classmethod
    def estimated(cls, count: int) -> Pages:
        """A bare page count: its last page taken as half filled, the cover and the colophon as no text."""
        return cls(count, count - 0.5, max(count - 2.5, 0.5))

    def fewest_at(self, share: float) -> int:
        """The fewest pages the same text can take with a setting of ``share`` of this one's weight: its
        height shrinks no faster than the weight (the area a line takes), and each page holds at most one
        page of it; ``SHRINK_MARGIN`` allows for lines that break less wastefully at the smaller size."""
        return self.frame + max(1, math.ceil(self.text * share * SHRINK_MARGIN - 1e-9))


@dataclass(frozen=True)
class Fit:
    """The chosen setting, the pages the text takes with it, and the page count of the zine."""

    setting: Setting
    count: int
    pages: int

    @property
    def blanks(self) -> int:
        return self.pages - self.count


class NoFit(Exception):
    """The asked count cannot be filled: the counts with the smallest and largest settings, and those that fit."""

    def __init__(self, pages: int, fewest: int | None, most: int, fitting: tuple[int, ...]):
        super().__init__(pages, fewest, most, fitting)
        self.pages, self.fewest, self.most, self.fitting = pages, fewest, most, fitting


def size_grid(low: float, high: float, step: float = STEP_PT) -> tuple[float, ...]:
    """The body sizes tried, from ``low`` to ``high`` pt in ``step`` steps (both ends included)."""
    count = max(0, round((high - low) / step))
    return tuple(round(low + index * (high - low) / count, 3) for index in range(count)) + (high,) \
        if count else (high,)


def setting_grid(low: float, high: float, leading: float, widest: float) -> tuple[Setting, ...]:
    """The settings tried, in growing order: ``low`` to ``high`` pt at ``leading``, then ``high`` pt with
    the leading opened in steps up to ``widest``."""
    openings = max(0, round((widest - leading) / LEADING_STEP))
    return tuple(Setting(size, leading) for size in size_grid(low, high)) + tuple(
        Setting(high, round(leading + step * (widest - leading) / openings, 3)) for step in range(1, openings + 1))


def fitting_counts(fewest: int, most: int, multiple: int, minimum: int) -> tuple[int, ...]:
    """The page counts (multiples of ``multiple``) that the text can fill with at most one blank page."""
    start = max(minimum, -(-fewest // multiple) * multiple)
    return tuple(count for count in range(start, most + 2, multiple) if count - 1 <= most)


class Search:
    """The settings of a grid, each laid out at most once, and the fits found among them."""

    def __init__(self, count_at: Callable[[Setting], int | Pages], settings: tuple[Setting, ...],
                 multiple: int = 4, minimum: int = 4):
        self.settings, self.multiple, self.minimum = settings, multiple, minimum
        self.measured: dict[Setting, Pages] = {}
        self._count_at = count_at

    def measure(self, index: int) -> Pages:
        """What the layout of the ``index``-th setting tells (laid out on the first call only)."""
        setting = self.settings[index]
        if setting not in self.measured:
            pages = self._count_at(setting)
            self.measured[setting] = pages if isinstance(pages, Pages) else Pages.estimated(pages)
        return self.measured[setting]

    def count(self, index: int) -> int:
        """The pages the text takes with the ``index``-th setting."""
        return self.measure(index).count

    def auto(self) -> Fit:
        """The smallest page count that the text fills at the largest size, else the next smaller one
        (the type set smaller), else that count filled by opening the leading; when none can be
        filled, or the blank pages are few beside the count (``BLANK_SHARE``), the count at the
        largest size with its blank pages."""
        base = self.base_top()
        most = self.count(base)
        pages = max(self.minimum, -(-most // self.multiple) * self.multiple)
        if most >= pages - 1 or pages - most <= pages * BLANK_SHARE:
            return Fit(self.settings[base], most, pages)
        counts = ([pages - self.multiple] if pages - self.multiple >= self.minimum else []) + \
            ([pages] if base < len(self.settings) - 1 else [])
        for count in counts:
            if count < pages and self._overflows_smallest(base, count):
                continue
            fit = self._fill(count)
            if fit is not None:
                return fit
        return Fit(self.settings[base], most, pages)

    def _overflows_smallest(self, index: int, pages: int) -> bool:
        """Whether the ``index``-th layout proves that even the smallest setting takes more than ``pages``,
        so that laying it out to show it can be skipped (for :meth:`auto` only: :meth:`exactly`'s error
        names the count the smallest setting takes)."""
        share = self.settings[0].weight / self.settings[index].weight
        return self.measure(index).fewest_at(share) > pages

    def base_top(self) -> int:
        """The index of the largest size at the base leading (the last setting before the leading opens)."""
        base = self.settings[0].leading
        return max(index for index, setting in enumerate(self.settings) if setting.leading == base)

    def exactly(self, pages: int) -> Fit:
        """The largest setting (to within ``CLOSE_STEPS``) with which the text takes ``pages`` or ``pages - 1`` pages,
        else :class:`NoFit`."""
        fit = self._fill(pages)
        if fit is None:
            raise self._no_fit(pages)
        return fit

    def _fill(self, pages: int) -> Fit | None:
        """:meth:`exactly`'s search, with ``None`` for no fit (the failure's counts laid out only if asked)."""
        for probe_number in range(len(self.settings)):
            low, high = self._bracket(pages)
            if high - low <= 1 or (low >= 0 and self.count(low) >= pages - 1 and high - low <= CLOSE_STEPS):
                break
            self.measure(self._probe(low, high, pages, probe_number))
        low, high = self._bracket(pages)
        for _ in range(BLANK_PROBES):
            if low < 0 or self.count(low) != pages - 1 or high - low <= 1:
                break
            self.measure(high - 1)  # the most text the bracket allows: may fill the page left blank
            low, high = self._bracket(pages)
        if low < 0 or self.count(low) < pages - 1:
            return None
        return Fit(self.settings[low], self.count(low), pages)

    def _bracket(self, pages: int) -> tuple[int, int]:
        """The smallest setting laid out that takes more than ``pages`` (one past the grid if none) and the
        largest below it that takes no more (-1 if none): the largest fit lies between."""
        known = {index: self.count(index) for index, setting in enumerate(self.settings) if setting in self.measured}
        high = min((index for index, count in known.items() if count > pages), default=len(self.settings))
        low = max((index for index, count in known.items() if index < high and count <= pages), default=-1)
        return low, high

    def _no_fit(self, pages: int) -> NoFit:
        fewest, most = self.count(0), self.count(len(self.settings) - 1)
        return NoFit(pages, fewest, most, fitting_counts(fewest, most, self.multiple, self.minimum))

    def _probe(self, low: int, high: int, pages: int, probe_number: int) -> int:
        """The next setting to lay out between ``low`` and ``high``: the largest first; then a little below
        the predicted largest fit, or one that closes the bracket around it; after ``MODEL_PROBES``, every
        other probe the middle."""
        if not self.measured:
            return len(self.settings) - 1
        if probe_number >= MODEL_PROBES and probe_number % 2 == 0:
            return (low + high) // 2
        predicted, last = self._predicted(low, high, pages), len(self.settings) - 1
        if high > last and predicted > last - CLOSE_STEPS:
            return last  # the largest setting, if it fits, is the answer
        if low < 0 and predicted < 2 * CLOSE_STEPS:
            return 0  # the smallest setting, if it overflows, proves there is no fit
        probe = predicted - BELOW_PREDICTION
        if high < len(self.settings) and predicted >= high - CLOSE_STEPS:
            probe = max(probe, high - CLOSE_STEPS)  # fits → the bracket is closed
        if low >= 0 and self.count(low) >= pages - 1:
            probe = max(probe, min(low + CLOSE_STEPS, high - 1))  # overflows → closed
        return min(max(probe, low + 1), high - 1)

    def _predicted(self, low: int, high: int, pages: int) -> int:
        """The largest setting predicted to take at most ``pages`` (-1 if none): interpolated between the
        bracket's ends when both are laid out, else grown from the nearer one by the text's height."""
        weight = [setting.weight for setting in self.settings]
        ends = [index for index in (low, high) if 0 <= index < len(self.settings)]
        if len(ends) == 2:
            few, many = self.measure(low).extent, self.measure(high).extent
            share = min(max((pages - few) / (many - few), 0.0), 1.0) if many > few else 0.5
            wanted = weight[low] + share * (weight[high] - weight[low])
        else:
            end = ends[0]
            known = self.measure(end)
            growth = GROWTH * max(known.text, 0.5) / weight[end]  # pages per unit of weight there
            wanted = weight[end] + (pages - known.extent) / growth
        return max((index for index in range(len(weight)) if weight[index] <= wanted), default=-1)
