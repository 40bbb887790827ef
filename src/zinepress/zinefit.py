"""A page count → the type setting that fills it: the search over the body sizes of ``[zine] fit``.

A setting is a body size and a leading (line height in ems). The settings tried run from
the smallest size to the largest at the base leading, then, at the largest size, through
leadings opened step by step up to a limit: a short text that leaves pages blank at the
largest size fills them with airier lines rather than with empty paper. The page count
grows with each setting (about with size² × leading), so each probe is interpolated
between the settings known to give too few and too many pages, every other probe halving
the bracket so the search stays logarithmic. Each setting is laid out at most once (the
caller's ``count_at`` is memoised here).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

STEP_PT = 0.05
LEADING_STEP = 0.02
CLOSE_STEPS = 5  # the search stops once the largest fitting setting is known to within this many steps


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

    def __init__(self, count_at: Callable[[Setting], int], settings: tuple[Setting, ...], multiple: int = 4,
                 minimum: int = 4):
        self.settings, self.multiple, self.minimum = settings, multiple, minimum
        self.counts: dict[Setting, int] = {}
        self._count_at = count_at

    def count(self, index: int) -> int:
        setting = self.settings[index]
        if setting not in self.counts:
            self.counts[setting] = self._count_at(setting)
        return self.counts[setting]

    def auto(self) -> Fit:
        """The smallest page count that the text fills at the largest size, else the next smaller one
        (the type set smaller), else that count filled by opening the leading; when none can be
        filled, the count at the largest size with its blank pages."""
        base = self.base_top()
        most = self.count(base)
        pages = max(self.minimum, -(-most // self.multiple) * self.multiple)
        if most >= pages - 1:
            return Fit(self.settings[base], most, pages)
        counts = ([pages - self.multiple] if pages - self.multiple >= self.minimum else []) + \
            ([pages] if base < len(self.settings) - 1 else [])
        for count in counts:
            try:
                return self.exactly(count)
            except NoFit:
                pass
        return Fit(self.settings[base], most, pages)

    def base_top(self) -> int:
        """The index of the largest size at the base leading (the last setting before the leading opens)."""
        base = self.settings[0].leading
        return max(index for index, setting in enumerate(self.settings) if setting.leading == base)

    def exactly(self, pages: int) -> Fit:
        """The largest setting (to within ``CLOSE_STEPS``) with which the text takes ``pages`` or ``pages - 1`` pages,
        else :class:`NoFit`."""
        top = len(self.settings) - 1
        most = self.count(top)
        if pages - 1 <= most <= pages:
            return Fit(self.settings[top], most, pages)
        if most < pages - 1 or top == 0:
            raise self._no_fit(pages)
        low, high = None, top  # count(low) <= pages < count(high); low unknown at first
        for probe_number in range(64):
            if low is not None and (high - low <= 1 or (self.count(low) >= pages - 1 and high - low <= CLOSE_STEPS)):
                break
            probe = self._probe(low, high, pages, interpolate=probe_number % 2 == 0)
            if self.count(probe) <= pages:
                low = probe
            elif probe == 0:
                raise self._no_fit(pages)
            else:
                high = probe
        if self.count(low) < pages - 1:
            raise self._no_fit(pages)
        return Fit(self.settings[low], self.count(low), pages)

    def _no_fit(self, pages: int) -> NoFit:
        fewest, most = self.count(0), self.count(len(self.settings) - 1)
        return NoFit(pages, fewest, most, fitting_counts(fewest, most, self.multiple, self.minimum))

    def _probe(self, low: int | None, high: int, pages: int, interpolate: bool) -> int:
        """The next setting to try below ``high`` (and above ``low`` when known): interpolated on the
        settings' weight (the page count's rough law) toward ``pages + 0.5``, or the middle."""
        many, large = self.count(high), self.settings[high].weight
        if low is None:
            wanted = large * (pages + 0.5) / many
            return min(range(0, high), key=lambda index: abs(self.settings[index].weight - wanted))
        if interpolate:
            few, small = self.count(low), self.settings[low].weight
            wanted = small + (large - small) * (pages + 0.5 - few) / max(many - few, 1)
            return min(range(low + 1, high), key=lambda index: abs(self.settings[index].weight - wanted))
        return (low + high) // 2
