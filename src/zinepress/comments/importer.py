"""A comment system's export (or pasted text) → ``manuscript/comments.md``, merged by id.

The format is found from the content. Only approved, public comments are imported
(spam, drafts, deleted posts, pingbacks and trackbacks are skipped, and so are replies
to a skipped comment); authors may be written as initials. The merged file holds the
comments already there, unchanged, and the new ones, in date order with every reply
after the comment it answers; an existing comment without an id that is the same
(author, date and text) as an imported one takes its id. Importing the same export
again changes nothing. The result is checked as a build reads it before it is written,
whole, in place of the old file.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

from ..atomic import write_atomically
from ..errors import Diagnostics, Problem, ProjectError
from . import disqus, mastodon, pasted, remark42, staticman, wordpress
from .book import comment_date, identifier, load_comments
from .record import Imported, clean_author, initials, read_source
from .text import format_entry, remove_unsafe_characters, split_entries

READERS = (wordpress, disqus, remark42, mastodon, staticman, pasted)
FORMAT_NAMES = {"wordpress": "a WordPress export (WXR)", "disqus": "a Disqus export",
                "remark42": "a Remark42 backup", "mastodon": "a Mastodon context",
                "staticman": "Staticman entries", "pasted": "pasted text"}


@dataclass(frozen=True)
class ImportOptions:
    timezone: dt.tzinfo | None = None  # the zone of local times, and the zone times are shown in
    pseudonyms: bool = False
    post: str | None = None  # the post whose comments to take, for exports of a whole site


@dataclass(frozen=True)
class ImportReport:
    format: str
    target: Path
    read: int
    imported: int
    merged: int
    skipped: tuple[tuple[str, int], ...]
    written: bool
    ignored_lines: int = 0

    def lines(self, shown_target: str) -> list[str]:
        skipped = sum(count for _, count in self.skipped)
        reasons = ", ".join(f"{count} {reason}" for reason, count in self.skipped)
        lines = [f"read {self.read} comment{'s' if self.read != 1 else ''} from {FORMAT_NAMES[self.format]}"
                 + (f" (the {self.ignored_lines} lines before the first comment are not comments)"
                    if self.ignored_lines else ""),
                 f"imported {self.imported}, merged {self.merged} (already in comments.md), skipped {skipped}"
                 + (f": {reasons}" if reasons else "")]
        lines.append(f"wrote {shown_target}" if self.written else f"{shown_target} is unchanged")
        return lines


@dataclass(frozen=True)
class _Block:
    """One comment of the merged file: its text as written there, and what orders it."""

    text: str
    id: str | None
    parent: str | None
    date: dt.datetime | None
    author: str = ""
    body: str = ""


def import_comments(source_path: Path, project: Path, options: ImportOptions = ImportOptions()) -> ImportReport:
    """Import the comments of ``source_path`` into ``project``'s ``manuscript/comments.md``."""
    manuscript = project / "manuscript"
    if not manuscript.is_dir():
        raise ProjectError("no manuscript/ folder here: is this a zinepress project?", project)
    target = manuscript / "comments.md"
    if target.is_symlink():
        raise ProjectError("comments.md is a symbolic link: it is not written through", target)
    source = read_source(source_path)
    reader = next((reader for reader in READERS if reader.detect(source)), None)
    if reader is None:
        raise ProjectError("not a comment export zinepress reads: a WordPress WXR or Disqus XML export, a folder "
                           "of Staticman entries, a Remark42 backup, a Mastodon context JSON, or pasted text with "
                           "'author • Feb 29, 2024 at 3:07 pm' lines", source_path)
    problems = Diagnostics()
    everything = reader.read(source, problems)
    problems.raise_errors()
    records = _for_post(everything, options.post, source_path)
    kept, skipped = _moderated(records, everything)
    old_text, existing = _existing(target, project)
    blocks, merged = _merged(existing, kept, options)
    text = "\n".join(block.text for block in _ordered(blocks))
    check = Diagnostics()
    load_comments(target, check, text)
    if check.errors:
        raise ProjectError("", problems=check.errors)
    written = text != (old_text or "")
    if written:
        write_atomically(target, text.encode("utf-8"))
    return ImportReport(format=reader.NAME, target=target, read=len(records), imported=len(blocks) - len(existing),
                        merged=merged, skipped=tuple(sorted(skipped.items(), key=lambda item: (-item[1], item[0]))),
                        written=written,
                        ignored_lines=pasted.ignored_lines(source) if reader is pasted else 0)


def _for_post(records: list[Imported], post: str | None, source: Path) -> list[Imported]:
    """The records of one post: the one named by ``post``, or the only one there is."""
    threads = list(dict.fromkeys(record.thread for record in records if record.thread and not record.skip
                                 or record.thread and post))
    if post is not None:
        chosen = [record for record in records if post in record.thread]
        if not chosen:
            names = "; ".join(thread[0] for thread in threads[:10]) or "none"
            raise ProjectError(f"no post named '{post}' in the export (its posts with comments: {names})", source)
        return chosen
    if len(threads) > 1:
        names = "; ".join(thread[0] for thread in threads[:10]) + ("; …" if len(threads) > 10 else "")
        raise ProjectError(f"the export holds comments on {len(threads)} posts: choose one with --post TITLE "
                           f"(or its link, slug or id): {names}", source)
    return records


def _moderated(records: list[Imported], everything: list[Imported]) -> tuple[list[Imported], Counter]:
    """Approved, public comments with a text, in source order; the others counted by reason.

    ``everything`` is the whole export, so that a reply to a skipped comment of another
    post is known as such."""
    skipped: Counter = Counter()
    reasons = {record.id: record.skip or "empty" for record in everything
               if record.skip or not record.body.strip()}
    changed = True
    while changed:
        changed = False
        for record in everything:
            if record.id not in reasons and record.parent in reasons:
                reasons[record.id] = "reply to a skipped comment"
                changed = True
    seen: set[str] = set()
    kept = []
    for record in records:
        if record.id in seen:
            skipped["duplicate"] += 1
        elif record.id in reasons:
            skipped[reasons[record.id]] += 1
        else:
            kept.append(record)
        seen.add(record.id)
    return kept, skipped


def _existing(target: Path, project: Path) -> tuple[str | None, list[_Block]]:
    """``comments.md`` as it is, and its comments (it must read without errors)."""
    if not target.exists():
        return None, []
    from ..manuscript import parse_yaml, read_text
    text = read_text(target, project)
    problems = Diagnostics()
    load_comments(target, problems, text)
    text = remove_unsafe_characters(text, target, Diagnostics())
    if problems.errors:
        raise ProjectError("", problems=problems.errors + [
            Problem("comments.md must read without errors before comments are imported into it", target)])
    lines = text.split("\n")
    entries = split_entries(text, target, Diagnostics())
    blocks = []
    for index, entry in enumerate(entries):
        end = entries[index + 1].line - 1 if index + 1 < len(entries) else len(lines)
        meta = parse_yaml(entry.header, target, entry.line + 1)
        blocks.append(_Block(text="\n".join(lines[entry.line - 1:end]).rstrip() + "\n",
                             id=identifier(meta.get("id")), parent=identifier(meta.get("reply_to")),
                             date=comment_date(meta.get("date")), author=clean_author(meta.get("author")),
                             body=entry.body))
    return text, blocks


def _merged(existing: list[_Block], records: list[Imported], options: ImportOptions) -> tuple[list[_Block], int]:
    """The existing comments and the new ones; how many records were already there."""
    blocks = list(existing)
    known = {block.id for block in blocks if block.id}
    available = known | {record.id for record in records}
    merged = 0
    for record in records:
        shown = _shown(record, options)
        if record.id in known:
            merged += 1
            continue
        same = next((index for index, block in enumerate(blocks) if block.id is None
                     and block.author in (record.author, shown.author) and block.date in (record.date, shown.date)
                     and block.body == record.body.strip()), None)
        if same is not None:
            blocks[same] = _with_id(blocks[same], record.id)
            merged += 1
        else:
            parent = record.parent if record.parent in available else None
            blocks.append(_Block(text=format_entry(shown.author, _date_text(shown.date), record.body, record.id, parent),
                                 id=record.id, parent=parent, date=shown.date))
        known.add(record.id)
    return blocks, merged


def _shown(record: Imported, options: ImportOptions) -> Imported:
    """The record as the book shows it: in ``options.timezone``, its author as initials if asked."""
    date = record.date
    if options.timezone is not None:
        date = date.astimezone(options.timezone) if date.tzinfo else date.replace(tzinfo=options.timezone)
    return replace(record, date=date, author=initials(record.author) if options.pseudonyms else record.author)


def _with_id(block: _Block, comment_id: str) -> _Block:
    """An existing comment given the id of the imported comment it is."""
    lines = block.text.split("\n")
    closing = next(index for index in range(1, len(lines)) if lines[index].rstrip() == "---")
    lines.insert(closing, f"id: {comment_id}")
    return replace(block, text="\n".join(lines), id=comment_id)


def _date_text(date: dt.datetime) -> str:
    date = date.replace(microsecond=0)
    return date.isoformat(timespec="minutes" if not date.second else "seconds")


def _sort_key(block: _Block) -> dt.datetime:
    if block.date is None:
        return dt.datetime.min
    return block.date.astimezone(dt.timezone.utc).replace(tzinfo=None) if block.date.tzinfo else block.date


def _ordered(blocks: list[_Block]) -> list[_Block]:
    """Blocks in date order, each reply placed after the comment it answers."""
    ids = {block.id for block in blocks if block.id}
    placed: set[str] = set()
    waiting: dict[str, list[_Block]] = defaultdict(list)
    result: list[_Block] = []

    def place(block: _Block) -> None:
        result.append(block)
        if block.id:
            placed.add(block.id)
            for child in waiting.pop(block.id, []):
                place(child)

    for block in sorted(blocks, key=_sort_key):
        if block.parent and block.parent in ids and block.parent not in placed:
            waiting[block.parent].append(block)
        else:
            place(block)
    return result
