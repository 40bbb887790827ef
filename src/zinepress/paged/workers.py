"""Parts → their facts and written PDFs, from forked workers or from this process (the streams).

Forked workers (one per CPU) lay the parts out in book order, side by side, and write
each as soon as the parent tells them its place; a worker holds only the parts it has
laid out and not yet written. With one CPU, or where forking is not safe, the same
protocol is answered in this process (:class:`LocalStream`).
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import pickle
import sys
import threading
import traceback

from ..errors import ProjectError
from ..render import RenderedBook
from ..writers.base import BuildSession
from .layout import PartLayout, _quiet_session
from .parts import Part

class LocalStream:
    """Parts laid out one after another in this process (one CPU, or no fork), answering as a Stream does."""

    def __init__(self, parts: list[Part], rendered: RenderedBook, session: BuildSession, stylesheets):
        self.rendered, self.session, self.stylesheets = rendered, session, stylesheets
        self.queue, self.held, self.outbox = list(parts), {}, []

    def send(self, index: int, message) -> None:
        kind, value = message
        if kind == "layout":
            self.queue.insert(0, value)
        else:
            index, placement, pdf, body_sections, first_body, anchors = value
            self.outbox.append(("written", self.held.pop(index).write(placement, pdf, body_sections, first_body,
                                                                      anchors)))

    def receive(self):
        if self.outbox:
            return self.outbox.pop(0)
        part = self.queue.pop(0)
        self.held[part.index] = PartLayout(part, self.rendered, _quiet_session(self.session), self.stylesheets)
        return "facts", self.held[part.index].facts()

    def close(self) -> None:
        self.held.clear()


class Stream:
    """Forked workers that lay out parts in book order and write each one as soon as its place is known.

    The parts are dealt out in turn, so the workers move through the book side by side; a
    worker holds only the parts it has laid out and not yet written, not half the book.
    """

    def __init__(self, parts: list[Part], workers: int, rendered, session, stylesheets):
        context = multiprocessing.get_context("fork")
        shares = [parts[start::workers] for start in range(workers)]
        self.channels, self.holder, self.processes = [], {}, []
        for share in shares:
            mine, theirs = context.Pipe()
            process = context.Process(target=_stream, args=(theirs, share, rendered, session, stylesheets),
                                      daemon=True)
            process.start()
            theirs.close()
            for part in share:
                self.holder[part.index] = len(self.channels)
            self.channels.append(mine)
            self.processes.append(process)

    def send(self, index: int, message) -> None:
        """Send ``message`` to the worker that holds (or is to lay out) part ``index``."""
        worker = self.holder.setdefault(index, index % len(self.channels))
        self.channels[worker].send_bytes(pickle.dumps(message))

    def receive(self):
        """The next (kind, value) any worker reports: ("facts", Facts) or ("written", Written)."""
        ready = multiprocessing.connection.wait(self.channels)
        try:
            kind, value = pickle.loads(ready[0].recv_bytes())
        except EOFError:
            raise RuntimeError("a layout worker stopped unexpectedly") from None
        if kind == "error":
            raise ProjectError("", problems=value)
        if kind == "crash":
            raise RuntimeError(value)
        return kind, value

    def close(self) -> None:
        for channel in self.channels:
            try:
                channel.send_bytes(pickle.dumps(("stop", None)))
            except OSError:
                pass
            channel.close()
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join()
        self.channels, self.processes = [], []


def _stream(channel, share: list[Part], rendered, session, stylesheets) -> None:
    """A worker: a LocalStream of its parts, laying them out in order and answering the parent's messages
    (write a part at its place, lay a part out again) between layouts."""
    logging.getLogger("weasyprint").propagate = False
    local = LocalStream(share, rendered, session, stylesheets)
    try:
        while True:
            while channel.poll() or not local.queue:
                kind, value = pickle.loads(channel.recv_bytes())
                if kind == "write":
                    local.send(value[0], (kind, value))
                    channel.send_bytes(pickle.dumps(local.receive()))
                elif kind == "layout":
                    local.send(value.index, (kind, value))
                else:
                    return
            channel.send_bytes(pickle.dumps(local.receive()))
    except ProjectError as error:
        channel.send_bytes(pickle.dumps(("error", error.problems)))
    except EOFError:
        return
    except BaseException:  # noqa: BLE001 - reported to the parent, which raises it as a bug
        channel.send_bytes(pickle.dumps(("crash", traceback.format_exc())))
    finally:
        channel.close()
        os._exit(0)


def workers_wanted() -> int:
    """Worker processes for the layout: one per CPU this process may use, when it may fork.

    Only on Linux, and only from the main thread (a preview server builds in a thread):
    forking a process that runs Pango is not safe elsewhere.
    """
    if threading.current_thread() is not threading.main_thread() or not sys.platform.startswith("linux"):
        return 0
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 1
    return cpus if cpus > 1 else 0
