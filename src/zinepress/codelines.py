"""A chapter's print HTML → the same, each line of a code block in a ``span.code-line`` of its own.

The print stylesheet makes each span a block with a hanging indent, so that a line too long
for the measure wraps with its continued lines set in and marked by a drawn arrow (a
background, not text: copied code leaves it out). The newlines between lines go (each line
is a block); markup inside a line (highlighting spans) is kept, split at the line ends.
"""

from __future__ import annotations

import copy

LINE_CLASS = "code-line"


def split_code_lines(fragment) -> None:
    """Every ``pre > code`` in ``fragment`` (an lxml tree) set as one span per source line."""
    for code in fragment.xpath("//pre/code | //pre[not(code)]"):
        lines = _lines(code)
        if lines and not _has_text(lines[-1]):
            lines.pop()
        for child in list(code):
            code.remove(child)
        code.text = None
        for line in lines:
            code.append(line)
    for element in fragment.xpath("//*[@data-zp-copy]"):
        del element.attrib["data-zp-copy"]


def _has_text(element) -> bool:
    return bool("".join(element.itertext()))


def _lines(code) -> list:
    """The content of ``code`` cut at its newlines, as ``span.code-line`` elements."""
    make = code.makeelement
    lines = [make("span", {"class": LINE_CLASS})]
    _add_text(lines, code.text or "", make, [])
    for child in code:
        _add_element(lines, child, make, [])
    return lines


def _add_text(lines: list, text: str, make, open_path: list) -> None:
    """Append ``text`` to the current line (inside the copies of ``open_path``), starting new lines at newlines."""
    pieces = text.split("\n")
    for number, piece in enumerate(pieces):
        if number:
            lines.append(make("span", {"class": LINE_CLASS}))
        if piece:
            _append_text(_innermost(lines[-1], open_path), piece)


def _innermost(line, open_path: list):
    """The element of ``line`` into which text goes: the open inline elements, copied in on a new line."""
    target = line
    for element in open_path:
        last = target[-1] if len(target) else None
        if last is None or last.get("data-zp-copy") != str(id(element)):
            shell = copy.copy(element)
            for child in list(shell):
                shell.remove(child)
            shell.text = shell.tail = None
            shell.set("data-zp-copy", str(id(element)))
            target.append(shell)
            last = shell
        target = last
    return target


def _append_text(element, text: str) -> None:
    if len(element):
        element[-1].tail = (element[-1].tail or "") + text
    else:
        element.text = (element.text or "") + text


def _add_element(lines: list, element, make, open_path: list) -> None:
    """Copy an inline ``element`` (and its tail) into the lines, split where it holds newlines."""
    path = [*open_path, element]
    _innermost(lines[-1], path)
    _add_text(lines, element.text or "", make, path)
    for child in element:
        _add_element(lines, child, make, path)
    _add_text(lines, element.tail or "", make, open_path)

