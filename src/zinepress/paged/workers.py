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

:class:`Beside` runs one other job the same way, in one forked process next to the
layout (the zine's own layouts); the parent takes its result when the writer needs it.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import pickle
import queue
import signal
import sys
import threading
import traceback

from ..errors import ProjectError
from .context import LayoutContext
from .layout import PartLayout
from .parts import Part

PR_SET_PDEATHSIG = 1
STOP_SECONDS = 10


class LocalStream:
    """Parts laid out one after another in this process (one CPU, or no fork), answering as a Stream does."""

    def __init__(self, parts: list[Part], context: LayoutContext, stylesheets):
        self.context, self.stylesheets = context, stylesheets
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
        self.held[part.index] = PartLayout(part, self.context.quiet(), self.stylesheets)
        return "facts", self.held[part.index].facts()

    def close(self, abort: bool = False) -> None:
        self.held.clear()


class Stream:
    """Forked workers that lay out parts in book order and write each one as soon as its place is known.

    The parts are dealt out in turn, so the workers move through the book side by side; a
    worker holds only the parts it has laid out and not yet written, not half the book.
    """

    def __init__(self, parts: list[Part], workers: int, context: LayoutContext, stylesheets):
        fork = multiprocessing.get_context("fork")
        self.downs, self.ups, self.processes, self.holder = [], [], [], {}
        self.inbox: queue.Queue = queue.Queue()
        for number in range(workers):
            share = parts[number::workers]
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
        worker = self.holder.setdefault(index, index % len(self.downs))
        self.downs[worker].send_bytes(pickle.dumps(message))

    def receive(self):
        """The next (kind, value) any worker reports: ("facts", Facts) or ("written", PartWritten)."""
        _, data = self.inbox.get()
        if data is None:
            raise RuntimeError("a layout worker stopped unexpectedly")
        kind, value = pickle.loads(data)
        if kind == "error":
            raise ProjectError("", problems=value)
        if kind == "crash":
            raise RuntimeError(value)
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


class Beside:
    """``job()`` run in a forked process next to this one; :meth:`result` returns what it returned.

    The job's result must pickle. A :class:`ProjectError` it raises is raised again by
    :meth:`result`, with its problems; anything else is a bug, raised as a RuntimeError with
    the child's traceback. The child sends one message and exits, so it may wait to send
    until the parent asks; :meth:`close` (also called by :meth:`result`) reaps it.
    """

    def __init__(self, job):
        fork = multiprocessing.get_context("fork")
        up_read, up_write = fork.Pipe(duplex=False)
        self.process = fork.Process(target=_run_beside, args=(job, up_write, up_read, os.getpid()), daemon=True)
        self.process.start()
        up_write.close()
        self.up = up_read

    def result(self):
        """The job's result, once it is done (it raises what the job raised)."""
        try:
            message = self.up.recv_bytes()
        except (EOFError, OSError):
            message = None
        self.close()
        if message is None:
            raise RuntimeError("a process laying out beside the build stopped unexpectedly")
        kind, value = pickle.loads(message)
        if kind == "error":
            raise ProjectError("", problems=value)
        if kind == "crash":
            raise RuntimeError(value)
        return value

    def close(self, abort: bool = False) -> None:
        """Stop the process (at once when ``abort``) and reap it."""
        if self.process is None:
            return
        if abort:
            self.process.kill()
        self.process.join(timeout=STOP_SECONDS)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.up.close()
        self.process = None


def _run_beside(job, up, theirs, parent: int) -> None:
    """The child of :class:`Beside`: run the job and send its result, its problems or its traceback."""
    _die_with(parent)
    theirs.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides; it stops this process
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    logging.getLogger("weasyprint").propagate = False
    try:
        _report(up, ("done", job()))
    except ProjectError as error:
        _report(up, ("error", error.problems))
    except BaseException:  # noqa: BLE001 - reported to the parent, which raises it as a bug
        _report(up, ("crash", traceback.format_exc()))
    finally:
        os._exit(0)


def _die_with(parent: int) -> None:
    """Have the kernel kill this process when its parent dies (Linux), and check it has not already."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


def _work(down, up, share: list[Part], context: LayoutContext, stylesheets, theirs, parent: int) -> None:
    """A worker: a LocalStream of its parts, laying them out in order and answering the parent's messages
    (write a part at its place, lay a part out again) between layouts."""
    _die_with(parent)
    for connection in theirs:
        connection.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides; it stops the workers
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    logging.getLogger("weasyprint").propagate = False
    local = LocalStream(share, context, stylesheets)
    try:
        while True:
            while down.poll() or not local.queue:
                kind, value = pickle.loads(down.recv_bytes())
                if kind == "write":
                    local.send(value[0], (kind, value))
                    up.send_bytes(pickle.dumps(local.receive()))
                elif kind == "layout":
                    local.send(value.index, (kind, value))
                else:
                    return
            up.send_bytes(pickle.dumps(local.receive()))
    except ProjectError as error:
        _report(up, ("error", error.problems))
    except (EOFError, BrokenPipeError):
        return
    except BaseException:  # noqa: BLE001 - reported to the parent, which raises it as a bug
        _report(up, ("crash", traceback.format_exc()))
    finally:
        os._exit(0)


def _report(up, message) -> None:
    with contextlib.suppress(OSError):
        up.send_bytes(pickle.dumps(message))


@contextlib.contextmanager
def terminated_as_exit():
    """While the block runs in the main thread, ``SIGTERM`` raises SystemExit, so that the workers are reaped."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(number, frame):
        raise SystemExit(128 + number)
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


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
