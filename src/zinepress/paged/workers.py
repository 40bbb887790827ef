"""Parts → their facts and written PDFs, from forked workers or from this process (the streams).

Forked workers (one per CPU) lay the parts out in book order, side by side, and write
each as soon as the parent tells them its place; a worker holds only the parts it has
laid out and not yet written. With one CPU, or where forking is not safe, the same
protocol is answered in this process (:class:`LocalStream`).

The protocol cannot deadlock: each worker has a pipe down (parent → worker) and a pipe
up (worker → parent), and a thread of the parent reads every pipe up as fast as the
workers write, so a worker never waits long to send and the parent's sends wait only
for a worker busy laying out, which reads its pipe next. Each worker holds only its own
two pipe ends and dies with its parent (``PR_SET_PDEATHSIG``, and end-of-file on its
pipe down); the parent stops and reaps its workers on any way out (an exception,
Ctrl-C, ``SIGTERM``).

:class:`~zinepress.forking.Beside` runs one other job the same way, in one forked process
next to the layout (the zine's own layouts); the parent takes its result when the writer
needs it.
"""

from __future__ import annotations

import collections
import contextlib
import os
import pickle
import queue
import signal
import threading
import traceback

from ..errors import ProjectError
from ..forking import STOP_SECONDS, Beside, fork_context, send_report, started_as_child, unpacked, workers_wanted  # noqa: F401 - Beside and workers_wanted are used from here
from .context import LayoutContext
from .layout import PartLayout
from .parts import Part

AHEAD = 2  # parts each worker is given at the start: one to lay out, one queued behind it


class LocalStream:
    """Parts laid out one after another in this process (one CPU, or no fork), answering as a Stream does.

    Messages: ("layout", part) lays a part out (again) next; ("more", part) queues one after the
    others; ("write", (index, placement, pdf, body sections, first body, anchors)) writes a held part.
    """

    def __init__(self, parts: list[Part], context: LayoutContext, stylesheets):
        self.context, self.stylesheets = context, stylesheets
        self.queue, self.held, self.outbox = list(parts), {}, []

    def send(self, index: int, message) -> None:
        kind, value = message
        if kind == "layout":
            self.queue.insert(0, value)
        elif kind == "more":
            self.queue.append(value)
        else:
            index, placement, pdf, body_sections, first_body, anchors = value
            self.outbox.append(("written", self.held.pop(index).write(placement, pdf, body_sections, first_body,
                                                                      anchors)))

    def receive(self):
        if self.outbox:
            return self.outbox.pop(0)
        part = self.queue.pop(0)
        self.held[part.index] = PartLayout(part, self.context.quiet(), self.stylesheets)
        return "facts", self.held[part.index].facts()

    def close(self, abort: bool = False) -> None:
        self.held.clear()


class Stream:
    """Forked workers that lay out parts in book order and write each one as soon as its place is known.

    Each worker starts with ``AHEAD`` parts, and is dealt the next part of the book each time it
    reports one laid out, so the workers move through the book side by side and the one that
    drew short chapters takes more of them; a worker holds only the parts it has laid out and
    not yet written, not half the book.
    """

    def __init__(self, parts: list[Part], workers: int, context: LayoutContext, stylesheets):
        fork = fork_context()
        self.downs, self.ups, self.processes, self.holder = [], [], [], {}
        self.inbox: queue.Queue = queue.Queue()
        dealt = AHEAD * workers
        self.undealt = collections.deque(parts[dealt:])
        for number in range(workers):
            share = parts[number:dealt:workers]
            down_read, down_write = fork.Pipe(duplex=False)
            up_read, up_write = fork.Pipe(duplex=False)
            theirs = (self.downs + self.ups + [down_write, up_read])  # the parent's ends: a worker closes them
            process = fork.Process(target=_work, args=(down_read, up_write, share, context, stylesheets, theirs,
                                                       os.getpid()), daemon=True)
            process.start()
            down_read.close()
            up_write.close()
            self.downs.append(down_write)
            self.ups.append(up_read)
            self.processes.append(process)
            for part in share:
                self.holder[part.index] = number
        self.readers = [threading.Thread(target=self._read, args=(number, up), daemon=True)
                        for number, up in enumerate(self.ups)]  # started after the last fork
        for reader in self.readers:
            reader.start()

    def _read(self, number: int, up) -> None:
        """Move everything worker ``number`` sends into the inbox, until its pipe closes."""
        try:
            while True:
                self.inbox.put((number, up.recv_bytes()))
        except (EOFError, OSError):
            self.inbox.put((number, None))

    def send(self, index: int, message) -> None:
        """Send ``message`` to the worker that holds (or is to lay out) part ``index``."""
        if index not in self.holder:
            self.undealt = collections.deque(part for part in self.undealt if part.index != index)
        worker = self.holder.setdefault(index, index % len(self.downs))
        self.downs[worker].send_bytes(pickle.dumps(message))

    def receive(self):
        """The next (kind, value) any worker reports: ("facts", Facts) or ("written", PartWritten)."""
        number, data = self.inbox.get()
        kind, value = unpacked(data, "a layout worker stopped unexpectedly")
        if kind == "facts" and self.undealt:
            part = self.undealt.popleft()
            self.holder[part.index] = number
            self.downs[number].send_bytes(pickle.dumps(("more", part)))
        return kind, value

    def close(self, abort: bool = False) -> None:
        """Stop the workers (at once when ``abort``) and reap them; close every pipe end."""
        for down in self.downs:
            with contextlib.suppress(OSError):
                if not abort:
                    down.send_bytes(pickle.dumps(("stop", None)))
            down.close()
        for process in self.processes:
            if abort:
                process.kill()
            process.join(timeout=STOP_SECONDS)
            if process.is_alive():
                process.kill()
                process.join()
        for reader in self.readers:
            reader.join(timeout=STOP_SECONDS)
        for up in self.ups:
            up.close()
        self.downs, self.ups, self.processes, self.readers = [], [], [], []


def _work(down, up, share: list[Part], context: LayoutContext, stylesheets, theirs, parent: int) -> None:
    """A worker: a LocalStream of its parts, laying them out in order and answering the parent's messages
    (write a part at its place, lay a part out again) between layouts."""
    started_as_child(parent, theirs)
    local = LocalStream(share, context, stylesheets)
    try:
        while True:
            while down.poll() or not local.queue:
                kind, value = pickle.loads(down.recv_bytes())
                if kind == "write":
                    local.send(value[0], (kind, value))
                    up.send_bytes(pickle.dumps(local.receive()))
                elif kind in ("layout", "more"):
                    local.send(value.index, (kind, value))
                else:
                    return
            up.send_bytes(pickle.dumps(local.receive()))
    except ProjectError as error:
        send_report(up, ("error", error.problems))
    except (EOFError, BrokenPipeError):
        return
    except BaseException:  # noqa: BLE001 - reported to the parent, which raises it as a bug
        send_report(up, ("crash", traceback.format_exc()))
    finally:
        os._exit(0)


@contextlib.contextmanager
def terminated_as_exit():
    """While the block runs in the main thread, ``SIGTERM`` raises SystemExit, so that the workers are reaped;
    a handler the caller set (a build's, which raises its own ``Terminated``) is kept."""
    if threading.current_thread() is not threading.main_thread() or callable(signal.getsignal(signal.SIGTERM)):
        yield
        return

    def stop(number, frame):
        raise SystemExit(128 + number)
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
