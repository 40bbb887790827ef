"""The page-count search over synthetic page counts (no layout): sizes first, then the leading."""

from __future__ import annotations

import math

import pytest

from zinepress.zinefit import NoFit, Search, Setting, setting_grid


def pages_for(words: int):
    """A text of ``words`` words between a cover and a colophon: its pages grow with each line's area."""
    laid_out: list[Setting] = []

    def count(setting: Setting) -> int:
        laid_out.append(setting)
        return 2 + math.ceil(words * setting.weight / 40_000)

    return count, laid_out


GRID = setting_grid(9, 11.5, 1.32, 1.5)


def test_grid_runs_through_the_sizes_then_opens_the_leading():
    assert GRID[0] == Setting(9, 1.32) and GRID[-1] == Setting(11.5, 1.5)
    assert [setting.weight for setting in GRID] == sorted(setting.weight for setting in GRID)
    assert {setting.size for setting in GRID if setting.leading > 1.32} == {11.5}


def test_a_text_that_fills_its_count_keeps_the_base_leading():
    count, laid_out = pages_for(1_100)  # 7 pages at 11.5pt: 8 with one blank
    fit = Search(count, GRID).auto()
    assert (fit.pages, fit.blanks, fit.setting) == (8, 1, Setting(11.5, 1.32))
    assert len(laid_out) == 1


def test_a_short_text_opens_its_leading_rather_than_leave_pages_blank():
    count, _ = pages_for(850)  # 6 pages at 11.5pt, 5 at 9pt: neither 4 nor 8 without opening the leading
    fit = Search(count, GRID).auto()
    assert fit.pages == 8 and fit.blanks <= 1 and fit.setting.size == 11.5 and fit.setting.leading > 1.32


def test_asked_count_is_filled_with_the_largest_setting_or_refused():
    count, laid_out = pages_for(3_000)
    fit = Search(count, GRID).exactly(12)
    assert fit.pages == 12 and fit.count in (11, 12)
    assert len(laid_out) == len(set(laid_out)) < 12, "each setting laid out once, and few of them"
    with pytest.raises(NoFit) as failure:
        Search(count, GRID).exactly(4)
    assert failure.value.fitting and 4 not in failure.value.fitting
