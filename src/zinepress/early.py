"""The writers' early jobs (work that needs only the rendered book) → their results, from the process that rendered it.

When the book is rendered in a forked process, that process goes on to the writers' early
jobs (the cover's thumbnail) while the build loads WeasyPrint, and sends their results after
the book (:class:`..forking.Beside`'s ``then``). :func:`pending_early` gives the build one
:class:`Early` per writer, which :attr:`..writers.BuildSession.ahead` holds as it does an
ahead job: its ``result()`` when the writer asks.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

from . import forking
from .render import RenderedBook
from .writers import WRITERS


def pending_early(beside: forking.Beside, names: tuple[str, ...], rendered: RenderedBook, store) -> dict:
    """The early jobs of the writers ``names`` that ``beside`` runs after rendering, by writer name."""
    following = Following(beside)
    return {name: Early(following, name, functools.partial(early_here, name, rendered, store)) for name in names}


def early_results(names: tuple[str, ...], store, made: tuple) -> dict[str, object]:
    """The early jobs of the writers ``names`` for the rendered book in ``made``, run: name → result
    (a writer with no job, its result cached, has none)."""
    rendered = made[0]
    jobs = {name: WRITERS[name].early(rendered, store) for name in names}
    return {name: job() for name, job in jobs.items() if job is not None}


def early_here(name: str, rendered: RenderedBook, store):
    """The writer's early job run in this process: for a writer whose job the rendering process found
    no need of (its result was cached) but which asks for it all the same."""
    job = WRITERS[name].early(rendered, store)
    return job() if job is not None else None


class Following:
    """The early jobs' results that the rendering process sends after the book, received once."""

    def __init__(self, beside: forking.Beside):
        self.beside, self.results = beside, None

    def result(self) -> dict[str, object]:
        if self.results is None:
            self.results = self.beside.then_result()
        return self.results

    def close(self, abort: bool = False) -> None:
        self.beside.close(abort=abort)


@dataclasses.dataclass(frozen=True)
class Early:
    """One writer's early job under way, as :attr:`BuildSession.ahead` holds jobs: its :meth:`result` when asked."""

    following: Following
    name: str
    here: Callable[[], object]

    def result(self):
        results = self.following.result()
        return results[self.name] if self.name in results else self.here()

    def close(self, abort: bool = False) -> None:
        self.following.close(abort=abort)
