"""Parts laid out by earlier builds ↔ the project's cache folder ``layout/``."""

from __future__ import annotations

import dataclasses
import hashlib
import json

from ..cache import INPUT_FOLDERS, BuildCache, file_digest, font_folders, tool_fingerprint, walk_files
from ..pagelist import PageStart
from .context import LayoutContext
from .parts import Part
from .schedule import Facts, PartWritten, Placement

class PartCache:
    """Parts laid out by earlier builds, in the project's cache (``layout/``).

    A part's facts are found by the hash of its HTML, the stylesheets, the files they and
    the chapters use, the source date and zinepress's fingerprint; its written PDF and page
    starts also by its place in the book (counter shift and page count). Only the entries
    of the latest build are kept.
    """

    def __init__(self, store: BuildCache, context: LayoutContext):
        self.store = store
        self.folder = store.folder / "layout"
        config = context.rendered.config
        digest = hashlib.sha256(f"{tool_fingerprint()}\n{font_folders()}\n{context.source_date.isoformat()}\n"
                                f"{config.identifier}\n{config.language}\n{context.page_css}\n".encode())
        files = [path for folder in INPUT_FOLDERS for path in walk_files(config.project / folder, (store.folder,))
                 if path.suffix.lower() not in (".md", ".markdown")]  # chapters are in the parts' HTML
        files += [reference.path for reference in context.print_css.references]
        for path in files:
            try:
                digest.update(f"{path}\0{file_digest(path)}\n".encode())
            except OSError:
                digest.update(f"{path}\0-\n".encode())
        self.base = digest.hexdigest()
        self.used: set[str] = set()

    def _key(self, part: Part) -> str:
        key = hashlib.sha256(f"{self.base}\n{part.extra_css}\n{part.html}".encode()).hexdigest()
        self.used.add(key)
        return key

    def _read(self, name: str) -> bytes | None:
        return self.store.read_entry(self.folder / name)  # None when missing or damaged (its hash checked)

    def _write(self, name: str, data: bytes) -> None:
        self.store.write_entry(self.folder / name, data)  # not kept (a read-only project): laid out again

    def facts(self, part: Part) -> Facts | None:
        """The stored facts of ``part``; None when there are none (or they cannot be read)."""
        data = self._read(f"{self._key(part)}.facts.json")
        try:
            record = json.loads(data)
            record["warnings"] = [self.store.problem_from(problem) for problem in record["warnings"]]
            return Facts(**{**record, "index": part.index})
        except (TypeError, ValueError, KeyError):
            return None

    def written(self, part: Part, placement: Placement, pdf: bool) -> PartWritten | None:
        """The stored PDF and page starts of ``part`` at its place; None when not stored (or damaged)."""
        name = f"{self._key(part)}-{placement.shift}-{placement.total}"
        try:
            record = json.loads(self._read(f"{name}.json"))
            document = self._read(f"{name}.pdf") if record["pdf"] else None
            if pdf and document is None:
                return None
            return PartWritten(part.index, document, tuple(record["borrowed"]),
                           [(page, PageStart(**start)) for page, start in record["starts"]],
                           record["folios"], [self.store.problem_from(problem) for problem in record["warnings"]])
        except (TypeError, ValueError, KeyError):
            return None

    def store_facts(self, part: Part, facts: Facts) -> None:
        record = dataclasses.asdict(facts)
        record["warnings"] = [self.store.problem_record(problem) for problem in facts.warnings]
        self._write(f"{self._key(part)}.facts.json", json.dumps(record).encode())

    def store_written(self, part: Part, placement: Placement, written: PartWritten) -> None:
        name = f"{self._key(part)}-{placement.shift}-{placement.total}"
        if written.pdf is not None:
            self._write(f"{name}.pdf", written.pdf)
        self._write(f"{name}.json", json.dumps({
            "pdf": written.pdf is not None, "borrowed": list(written.borrowed),
            "starts": [[page, dataclasses.asdict(start)] for page, start in written.starts],
            "folios": written.folios, "warnings": [self.store.problem_record(problem) for problem in written.warnings],
        }).encode())

    def keep_used(self) -> None:
        """Drop the entries this build did not look up or store."""
        if not self.store.safe_folder(self.folder):
            return
        for path in self.folder.iterdir():
            if path.name.split(".")[0].split("-")[0] not in self.used:
                path.unlink(missing_ok=True)
