"""The placement of laid-out parts in the book, over synthetic facts: fast, no WeasyPrint."""

from __future__ import annotations

import os
import subprocess
import sys
from types import SimpleNamespace

from zinepress.paged import parts as splitting
from zinepress.paged.schedule import (Cursor, Facts, Placement, after_front, falls_on_other_side, folio_strings,
                                      place, same_place, target_numbers)

from conftest import ROOT


def facts(index: int, values: list[int], reset: list[bool] | None = None, before: int = 0,
          first_left: bool = False, anchors: dict[str, int] | None = None) -> Facts:
    return Facts(index=index, kept=len(values), values=values, reset=reset or [False] * len(values), before=before,
                 first_left=first_left, anchors=anchors or {}, splits=True, dpi={})


def test_a_part_s_counter_moves_on_from_the_pages_before_it():
    front = facts(0, [1, 2, 3, 4])
    cursor = after_front(front)
    assert cursor == Cursor(last=4, pages=4)
    chapter = facts(1, [1, 2, 3], before=0)  # laid out alone, its pages count from 1
    placement, cursor = place(cursor, chapter)
    assert placement == Placement(shift=4, total=None)
    assert cursor == Cursor(last=7, pages=7)


def test_a_part_that_resets_the_counter_is_not_moved_after_the_reset():
    cursor = Cursor(last=6, pages=6)
    body = facts(1, [1, 2, 3], reset=[True, True, True], before=0)  # counter-reset: page 1 on its first page
    placement, after = place(cursor, body)
    assert placement.shift == 6
    assert after == Cursor(last=3, pages=9)


def test_an_empty_part_keeps_the_book_where_it_was():
    placement, after = place(Cursor(last=9, pages=10), facts(3, [], before=2))
    assert placement.shift == 7 and after == Cursor(last=9, pages=10)


def test_sides_a_part_laid_out_on_the_right_must_start_on_an_even_page_of_the_book():
    right, left = facts(1, [1, 2]), facts(1, [1, 2], first_left=True)
    assert not falls_on_other_side(Cursor(4, 4), right)  # page 4 (from 0) is a right-hand page
    assert falls_on_other_side(Cursor(5, 5), right)
    assert falls_on_other_side(Cursor(4, 4), left)
    assert not falls_on_other_side(Cursor(5, 5), left)
    assert not falls_on_other_side(Cursor(5, 5), facts(1, []))


def test_a_part_laid_out_again_with_numbers_must_keep_its_pages():
    first = facts(2, [5, 6, 7])
    assert same_place(first, facts(2, [5, 6, 7]))
    assert not same_place(first, facts(2, [5, 6, 7, 8]))  # the numbers pushed a line onto a new page
    assert not same_place(first, facts(2, [5, 6, 7], first_left=True))


def test_target_numbers_are_the_pages_the_targets_fall_on_in_the_book():
    book = {0: facts(0, [1, 2]), 1: facts(1, [1, 2, 3], anchors={"one": 0, "deep": 2}),
            2: facts(2, [1, 2], reset=[True, True], anchors={"two": 1})}
    placements = {0: Placement(0, None), 1: Placement(2, None), 2: Placement(5, None)}
    assert target_numbers(("deep", "one", "two", "nowhere"), book, placements) == {"one": 3, "deep": 5, "two": 2}


def test_folios_follow_the_style_each_page_prints():
    assert folio_strings([1, 2, 3, 4], [None, "lower-roman", None, "decimal"]) == ["i", "ii", "iii", "4"]
    assert folio_strings([1, 2], [None, None]) == ["1", "2"]


def _book(body: str, first: str = "one"):
    html = f'<!DOCTYPE html><html lang="en"><head><title>t</title></head><body>{body}</body></html>'
    return SimpleNamespace(print_html=html, book=SimpleNamespace(chapters=[SimpleNamespace(slug=first)]))


def test_split_gives_each_section_a_part_with_ghosts_and_the_links_it_makes_to_others(monkeypatch):
    monkeypatch.setattr(splitting, "PART_CHARACTERS", 0)
    rendered = _book('<section class="toc" id="toc"><a href="#two">Two</a></section>\n'
                     '<section class="chapter" id="one"><p id="p1">One <a href="#two">see</a></p></section>\n'
                     '<section class="chapter" id="two"><p>Two <a href="#p1">back</a></p></section>')
    parts = splitting.split(rendered)
    assert [part.section_ids for part in parts] == [("toc",), ("one",), ("two",)]
    assert [part.links_out for part in parts] == [("two",), ("two",), ("p1",)]
    assert parts[1].ids == ("one", "p1")
    assert splitting.LEAD_GHOST in parts[1].html and splitting.TRAIL_GHOST in parts[1].html
    assert splitting.LEAD_GHOST not in parts[0].html and splitting.TRAIL_GHOST not in parts[2].html


def test_short_sections_share_a_part_until_it_is_long_enough():
    sizes = [900, 100, 100, 100, 2000, 300, 300, 300, 300]
    groups = splitting.grouped(list(range(len(sizes))), sizes, least=500)
    assert groups == [[0], [1, 2, 3], [4], [5, 6], [7, 8]]
    assert splitting.grouped(list(range(3)), [10, 10, 10], least=0) == [[0], [1], [2]]


def test_an_edit_moves_the_groups_only_after_it():
    sizes = [100] * 12
    before = splitting.grouped(list(range(12)), sizes, least=250)
    sizes[7] = 240
    after = splitting.grouped(list(range(12)), sizes, least=250)
    assert before[:2] == after[:2] == [[0, 1, 2], [3, 4, 5]]


def test_a_thousand_one_paragraph_chapters_are_a_few_parts():
    body = "".join(f'<section class="chapter" id="c{number}"><h1>Chapter {number}</h1><p>One short paragraph.</p>'
                   "</section>" for number in range(1000))
    parts = splitting.split(_book('<section id="toc"></section>' + body, first="c0"))
    assert 2 < len(parts) < 100
    assert [name for part in parts[1:] for name in part.section_ids] == [f"c{number}" for number in range(1000)]


def test_a_book_with_text_between_its_sections_is_one_part():
    parts = splitting.split(_book('<section id="toc"></section>stray text<section id="one"></section>'))
    assert len(parts) == 1 and parts[0].section_ids == ()


def test_placeholders_carry_each_target_s_number_on_pages_after_the_part():
    part = splitting.Part(1, "<html><body><section id='one'></section></body></html>", ("one",), ("a", "b"))
    html, css = splitting.with_placeholders(part, {"b": 12, "a": 3})
    assert html.index('id="a"') < html.index('id="b"') < html.index("</body>")
    assert "@page zinepress-target-0 { counter-reset: page 3; }" in css
    assert "@page zinepress-target-1 { counter-reset: page 12; }" in css
    assert splitting.with_placeholders(part, {}) == (part.html, "")


def test_flipping_a_part_twice_gives_it_back():
    part = splitting.Part(1, '<html lang="en"><body></body></html>', ("one",))
    flipped = splitting.flip_start(part)
    assert flipped.startswith(splitting.START_LEFT)
    assert splitting.flip_start(splitting.Part(1, flipped, ("one",))) == part.html


def test_the_pure_modules_do_not_load_weasyprint():
    program = ("import sys\nimport zinepress.paged.schedule, zinepress.paged.parts\n"
               "print('weasyprint' in sys.modules)")
    shown = subprocess.run([sys.executable, "-c", program], check=True, capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": str(ROOT / "src")}).stdout.strip()
    assert shown == "False"
