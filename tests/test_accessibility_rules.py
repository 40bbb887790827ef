"""The one accessibility rule set: what ``check`` reports is what the EPUB's conformance claim rests on.

Fast: XHTML documents written here, no build.
"""

from __future__ import annotations

import pytest
from lxml import etree

from zinepress.accessibility import document_problems, lacks_alt, skipped_levels
from zinepress.writers.accessibility import examine


def document(body: str, html_attributes: str = 'lang="en" xml:lang="en"') -> bytes:
    return (f'<html xmlns="http://www.w3.org/1999/xhtml" {html_attributes}><head><title>t</title></head>'
            f"<body>{body}</body></html>").encode()


def problems(data: bytes) -> list[str]:
    return [problem.message for problem in document_problems("a.xhtml", etree.fromstring(data))]


@pytest.mark.parametrize("body, conformant", [
    ('<h1>One</h1><img src="a.png" alt="A shelf"/>', True),
    ('<h1>One</h1><img src="a.png" alt="" role="presentation"/>', True),
    ('<h1>One</h1><img src="a.png" role="none"/>', True),
    ('<h1>One</h1><img src="a.png" alt=" "/>', False),
    ("<h1>One</h1><h2>Two</h2><h3>Three</h3><h2>Back up</h2>", True),
    ("<h1>One</h1><h3>Too deep</h3>", False),
    ("<h2>No title</h2>", False),
    ('<h1>One</h1><p lang="ko">한국어</p>', True),
    ('<h1>One</h1><p lang="ko" xml:lang="KO">한국어</p>', True),
    ('<h1>One</h1><p lang="ko" xml:lang="ja">한국어</p>', False),
    ('<h1>One</h1><p xml:lang="not a tag">x</p>', False),
])
def test_check_and_the_conformance_claim_agree(body, conformant):
    data = document(body)
    assert (problems(data) == []) is conformant
    assert examine({"a.xhtml": data}).conformant is conformant


def test_a_document_without_a_language_is_no_claim():
    data = document("<h1>One</h1>", html_attributes="")
    assert problems(data) == ["a.xhtml declares no language (lang and xml:lang on <html>)"]
    assert not examine({"a.xhtml": data}).conformant


def test_decorative_images_count_as_images_with_no_missing_alt():
    findings = examine({"a.xhtml": document('<h1>One</h1><img src="a.png" role="presentation"/>'
                                            '<img src="b.png"/>')})
    assert (findings.images, findings.images_without_alt) == (2, 1)


def test_lacks_alt_reads_html_elements_too():
    assert lacks_alt(etree.fromstring('<img src="a.png"/>'))
    assert not lacks_alt(etree.fromstring('<img src="a.png" role="presentation"/>'))
    assert not lacks_alt(etree.fromstring('<img src="a.png" alt="A shelf"/>'))


def test_skipped_levels_names_each_skip_with_the_level_before():
    assert list(skipped_levels([1, 3, 4, 6, 2])) == [(1, 1, 3), (3, 4, 6)]
    assert list(skipped_levels([3], previous=1)) == [(0, 1, 3)]
    assert list(skipped_levels([2, 3], previous=1)) == []
