"""A page count → the body size that fills it: the search over the sizes of ``[zine] fit``.

Laying out a book costs time, so the search asks as few sizes as it can: the page count
grows with the body size (about with its square), so each probe is interpolated between
the sizes known to give too few and too many pages, every other probe halving the
bracket so the search stays logarithmic. Each size is laid out at most once (the caller's
``count_at`` is memoised here).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

STEP_PT = 0.05
CLOSE_PT = 0.25  # the search stops once the largest fitting size is known to within this


@dataclass(frozen=True)
class Fit:
    """The chosen body size, the pages the text takes at it, and the page count of the zine."""

    size: float
    count: int
    pages: int

    @property
    def blanks(self) -> int:
        return self.pages - self.count


class NoFit(Exception):
    """The asked count cannot be filled: the counts at the smallest and largest sizes, and those that fit."""

    def __init__(self, pages: int, fewest: int | None, most: int, fitting: tuple[int, ...]):
        super().__init__(pages, fewest, most, fitting)
        self.pages, self.fewest, self.most, self.fitting = pages, fewest, most, fitting


def size_grid(low: float, high: float, step: float = STEP_PT) -> tuple[float, ...]:
    """The body sizes tried, from ``low`` to ``high`` pt in ``step`` steps (both ends included)."""
    count = max(0, round((high - low) / step))
    return tuple(round(low + index * (high - low) / count, 3) for index in range(count)) + (high,) \
        if count else (high,)


def fitting_counts(fewest: int, most: int, multiple: int, minimum: int) -> tuple[int, ...]:
    """The page counts (multiples of ``multiple``) that the text can fill with at most one blank page."""
    start = max(minimum, -(-fewest // multiple) * multiple)
    return tuple(count for count in range(start, most + 2, multiple) if count - 1 <= most)


class Search:
    """The sizes of a grid, each laid out at most once, and the fits found among them."""

    def __init__(self, count_at: Callable[[float], int], sizes: tuple[float, ...], multiple: int = 4,
                 minimum: int = 4):
        self.sizes, self.multiple, self.minimum = sizes, multiple, minimum
        self.counts: dict[float, int] = {}
        self._count_at = count_at

    def count(self, index: int) -> int:
        size = self.sizes[index]
        if size not in self.counts:
            self.counts[size] = self._count_at(size)
        return self.counts[size]

    def auto(self) -> Fit:
        """The smallest page count that the text fills at the largest size, else the next smaller one
        (the type set smaller); when neither can be filled, the larger with its blank pages."""
        top = len(self.sizes) - 1
        most = self.count(top)
        pages = max(self.minimum, -(-most // self.multiple) * self.multiple)
        if most >= pages - 1:
            return Fit(self.sizes[top], most, pages)
        if pages - self.multiple >= self.minimum:
            try:
                return self.exactly(pages - self.multiple)
            except NoFit:
                pass
        return Fit(self.sizes[top], most, pages)

    def exactly(self, pages: int) -> Fit:
        """The largest size (to within ``CLOSE_PT``) at which the text takes ``pages`` or ``pages - 1`` pages,
        else :class:`NoFit`."""
        top = len(self.sizes) - 1
        most = self.count(top)
        if pages - 1 <= most <= pages:
            return Fit(self.sizes[top], most, pages)
        if most < pages - 1 or top == 0:
            raise self._no_fit(pages)
        low, high = None, top  # count(low) <= pages < count(high); low unknown at first
        for probe_number in range(64):
            if low is not None and (high - low <= 1 or (self.count(low) >= pages - 1 and
                                                        self.sizes[high] - self.sizes[low] <= CLOSE_PT + 1e-9)):
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
        return Fit(self.sizes[low], self.count(low), pages)

    def _no_fit(self, pages: int) -> NoFit:
        fewest, most = self.count(0), self.count(len(self.sizes) - 1)
        return NoFit(pages, fewest, most, fitting_counts(fewest, most, self.multiple, self.minimum))

    def _probe(self, low: int | None, high: int, pages: int, interpolate: bool) -> int:
        """The next size to try below ``high`` (and above ``low`` when known): interpolated on the square of
        the size (the page count's rough law) toward ``pages + 0.5``, or the middle."""
        many, large = self.count(high), self.sizes[high] ** 2
        if low is None:
            wanted = large * (pages + 0.5) / many
            return min(range(0, high), key=lambda index: abs(self.sizes[index] ** 2 - wanted))
        if interpolate:
            few, small = self.count(low), self.sizes[low] ** 2
            wanted = small + (large - small) * (pages + 0.5 - few) / max(many - few, 1)
            return min(range(low + 1, high), key=lambda index: abs(self.sizes[index] ** 2 - wanted))
        return (low + high) // 2
