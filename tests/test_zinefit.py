"""The page-count search over synthetic page counts (no layout): sizes first, then the leading."""

from __future__ import annotations

import math
import random

import pytest

from zinepress.zinefit import CLOSE_STEPS, NoFit, Pages, Search, Setting, setting_grid


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
    count, laid_out = pages_for(850)  # 6 pages at 11.5pt, 5 at 9pt: neither 4 nor 8 without opening the leading
    fit = Search(count, GRID).auto()
    assert fit.pages == 8 and fit.blanks <= 1 and fit.setting.size == 11.5 and fit.setting.leading > 1.32
    assert laid_out == [Setting(11.5, 1.32), Setting(9, 1.32), Setting(11.5, 1.5)], \
        "the largest size; the smallest, which proves 4 pages cannot be filled; the widest leading, which fills 8"


def test_asked_count_is_filled_with_the_largest_setting_or_refused():
    count, laid_out = pages_for(3_000)
    fit = Search(count, GRID).exactly(12)
    assert fit.pages == 12 and fit.count in (11, 12)
    assert len(laid_out) == len(set(laid_out)) < 12, "each setting laid out once, and few of them"
    with pytest.raises(NoFit) as failure:
        Search(count, GRID).exactly(4)
    assert failure.value.fitting and 4 not in failure.value.fitting


# ---------------------------------------------------------------- fewer layouts, the same fits


def paginated(seed: int, chapters: int, words: int):
    """A book paginated the way the zine is, in miniature: paragraphs that grow with the setting as
    weight ** 0.75 and split anywhere, figures that do not grow and move whole to the next page, chapters
    that open a new page when less than a third of one is left; a cover and a colophon around them."""
    rng = random.Random(seed)
    book = [[("figure" if rng.random() < 0.1 else "text", rng.uniform(0.05, 0.35)) for _ in range(words // 90)]
            for _ in range(chapters)]
    laid_out: list[Setting] = []

    def measure(setting: Setting) -> Pages:
        laid_out.append(setting)
        scale, used, full, text = (setting.weight / 150) ** 0.75, 0.0, 0, 0.0
        for chapter in book:
            if used > 2 / 3:
                full, used = full + 1, 0.0
            for kind, height in chapter:
                height = height * scale if kind == "text" else height
                text += height
                if kind == "figure" and used + height > 1:
                    full, used = full + 1, 0.0
                used += height
                while used > 1:
                    full, used = full + 1, used - 1
        return Pages(full + 3, full + 2 + used, text, 2)

    return measure, laid_out


def exhaustive(measure, pages: int) -> int | None:
    """The largest setting of the grid with which the text takes ``pages`` or ``pages - 1`` pages."""
    fits = [index for index, setting in enumerate(GRID) if measure(setting).count in (pages - 1, pages)]
    return max(fits, default=None)


BOOKS = [(seed, chapters, words) for seed in range(6) for chapters, words in ((2, 900), (4, 2_000), (6, 6_000))]


def test_asked_counts_are_found_in_few_layouts_and_as_large_as_the_exhaustive_search_finds():
    probes, cases = 0, 0
    for seed, chapters, words in BOOKS:
        measure, laid_out = paginated(seed, chapters, words)
        counts = {measure(setting).count for setting in GRID}
        for pages in range(4, max(counts) + 5, 4):
            best = exhaustive(measure, pages)
            laid_out.clear()
            try:
                fit = Search(measure, GRID).exactly(pages)
            except NoFit:
                assert best is None, (seed, chapters, pages)
                assert len(laid_out) <= 2, "the smallest and the largest setting, for the message"
                continue
            assert best is not None and fit.pages == pages and fit.count in (pages - 1, pages)
            assert GRID.index(fit.setting) > best - CLOSE_STEPS, (seed, chapters, pages)
            assert len(laid_out) <= 6, (seed, chapters, pages, laid_out)
            probes, cases = probes + len(laid_out), cases + 1
    assert probes <= 3 * cases, "three layouts a fit or fewer: the largest, and two around the predicted one"


def test_auto_lays_out_four_settings_at_most_none_of_them_for_a_count_it_cannot_fill():
    for seed, chapters, words in BOOKS:
        measure, laid_out = paginated(seed, chapters, words)
        fit = Search(measure, GRID).auto()
        assert fit.blanks <= 1 or fit.setting == Setting(11.5, 1.32)
        assert len(laid_out) == len(set(laid_out)) <= 4, (seed, chapters, laid_out)


def test_a_measured_layout_bounds_the_pages_the_smallest_setting_takes():
    for seed, chapters, words in BOOKS:
        measure, _ = paginated(seed, chapters, words)
        for setting in GRID[::7]:
            fewest = measure(setting).fewest_at(GRID[0].weight / setting.weight)
            assert fewest <= measure(GRID[0]).count, (seed, chapters, words, setting)


def test_auto_skips_the_smallest_setting_when_the_largest_proves_it_overflows():
    def measured(text: float):
        laid_out: list[Setting] = []

        def count_at(setting: Setting) -> Pages:
            laid_out.append(setting)
            height = text * (setting.weight / GRID[-1].weight) ** 0.75
            return Pages(2 + math.ceil(height), 1 + math.ceil(height) + height % 1, height, 2)

        return count_at, laid_out

    count_at, laid_out = measured(3.9)  # 6 pages at 11.5pt/1.32, 3.54 of text: at 9pt at least 2 + ceil(3.54 × 0.61 × 0.95) = 5
    fit = Search(count_at, GRID).auto()
    assert fit.pages == 8 and Setting(9, 1.32) not in laid_out and len(laid_out) == len(set(laid_out))
    count_at, laid_out = measured(3.0)  # 5 pages, 2.73 of text: at 9pt the bound is 4, so only laying 9pt out tells
    Search(count_at, GRID).auto()
    assert Setting(9, 1.32) in laid_out


def test_a_bare_page_count_is_enough_to_search_on():
    """A ``count_at`` that gives only the count: the fill of the last page is taken as half."""
    for words in range(600, 6_000, 150):
        count, laid_out = pages_for(words)
        for pages in (8, 12, 16, 24):
            laid_out.clear()
            best = exhaustive(lambda setting: Pages.estimated(count(setting)), pages)
            laid_out.clear()
            try:
                fit = Search(count, GRID).exactly(pages)
            except NoFit:
                assert best is None
                continue
            assert GRID.index(fit.setting) > best - CLOSE_STEPS and len(laid_out) <= 6, (words, pages, laid_out)


def test_a_long_zine_keeps_its_few_blank_pages_rather_than_be_laid_out_again():
    count, laid_out = pages_for(21_000)  # 94 pages at 11.5pt: 96 with two blank, 1/48 of them
    fit = Search(count, GRID).auto()
    assert (fit.pages, fit.blanks, fit.setting) == (96, 2, Setting(11.5, 1.32)) and len(laid_out) == 1
    count, laid_out = pages_for(4_500)  # 22 pages: 24 with two blank, 1/12 of them, are filled
    fit = Search(count, GRID).auto()
    assert fit.pages in (20, 24) and fit.blanks <= 1 and len(laid_out) > 1
