"""A job → its result, computed in a forked process beside this one (:class:`Beside`), and when forking is safe.

The layout's workers (:mod:`.paged.workers`), the zine's own layouts and the chapters'
Markdown use these. The module imports nothing heavy, so a process can fork before it
loads WeasyPrint and load it while its child works.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import traceback

from .errors import ProjectError

PR_SET_PDEATHSIG = 1
STOP_SECONDS = 10


class Beside:
    """``job()`` run in a forked process next to this one; :meth:`result` returns what it returned.

    The job's result must pickle. A :class:`ProjectError` it raises is raised again by
    :meth:`result`, with its problems; anything else is a bug, raised as a RuntimeError with
    the child's traceback. The child sends one message and exits, so it may wait to send
    until the parent asks; :meth:`close` (also called by the last :meth:`result`) reaps it.

    With ``then``, the child goes on to compute ``then(result)`` while the parent has yet to
    take the result (the message is sent from a thread meanwhile); :meth:`then_result`
    returns it afterwards.
    """

    def __init__(self, job, then=None):
        fork = fork_context()
        up_read, up_write = fork.Pipe(duplex=False)
        self.process = fork.Process(target=_run_beside, args=(job, then, up_write, up_read, os.getpid()),
                                    daemon=True)
        self.process.start()
        up_write.close()
        self.up, self.following = up_read, then is not None

    def result(self):
        """The job's result, once it is done (it raises what the job raised)."""
        following, self.following = self.following, False
        return self._received(last=not following)

    def then_result(self):
        """What ``then`` made of the job's result (after :meth:`result`; it raises what ``then`` raised)."""
        return self._received(last=True)

    def _received(self, last: bool):
        try:
            message = self.up.recv_bytes()
        except (EOFError, OSError):
            message = None
        try:
            return unpacked(message, "a process laying out beside the build stopped unexpectedly")[1]
        except BaseException:
            last = True
            raise
        finally:
            if last:
                self.close()

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


def _run_beside(job, then, up, theirs, parent: int) -> None:
    """The child of :class:`Beside`: run the job and send its result, its problems or its traceback;
    with ``then``, compute ``then(result)`` while the result is being sent, and send that next."""
    started_as_child(parent, [theirs])
    try:
        result = job()
        if then is None:
            send_report(up, ("done", result))
        else:
            sending = threading.Thread(target=_send_packed, args=(up, pickle.dumps(("done", result))))
            sending.start()
            try:
                following = then(result)
            finally:
                sending.join()
            send_report(up, ("done", following))
    except ProjectError as error:
        send_report(up, ("error", error.problems))
    except BaseException:  # noqa: BLE001 - reported to the parent, which raises it as a bug
        send_report(up, ("crash", traceback.format_exc()))
    finally:
        os._exit(0)


def unpacked(message: bytes | None, stopped: str) -> tuple[str, object]:
    """A child's message → (kind, value); its problems raised as a ProjectError, its crash (or its
    silence, ``None``: the RuntimeError ``stopped``) as a RuntimeError."""
    if message is None:
        raise RuntimeError(stopped)
    kind, value = _loads_without_collecting(message)
    if kind == "error":
        raise ProjectError("", problems=value)
    if kind == "crash":
        raise RuntimeError(value)
    return kind, value


def _loads_without_collecting(message: bytes):
    """``pickle.loads``, with the garbage collector paused: a result of many small objects (hyphenation
    patterns, page facts) would otherwise set off collections over the whole heap as it is built."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return pickle.loads(message)
    finally:
        if collecting:
            gc.enable()


def started_as_child(parent: int, theirs) -> None:
    """A forked child's first steps: die with ``parent``, close the parent's pipe ends ``theirs``,
    leave Ctrl-C to the parent (which stops it) and keep WeasyPrint's log to itself."""
    die_with(parent)
    for connection in theirs:
        connection.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    logging.getLogger("weasyprint").propagate = False


def die_with(parent: int) -> None:
    """Have the kernel kill this process when its parent dies (Linux), and check it has not already."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


def send_report(up, message) -> None:
    """Send ``message`` up to the parent, if it still listens."""
    _send_packed(up, pickle.dumps(message))


def _send_packed(up, packed: bytes) -> None:
    with contextlib.suppress(OSError):
        up.send_bytes(packed)


def fork_context():
    """multiprocessing's "fork" context, for a fork about to happen: this process's objects are moved to
    the collector's permanent generation first (``gc.freeze``), so that neither the child's collections
    nor this one's touch them again. A child then shares its parent's pages instead of copying each
    one a collection writes to (measured on the review: 0.15 s of a 1.5 s build); :func:`thawed`
    gives them back to the collector when the build is over."""
    gc.freeze()
    return multiprocessing.get_context("fork")


@contextlib.contextmanager
def thawed():
    """Run a build, then hand the objects frozen for its forks (:func:`fork_context`) back to the collector,
    so that a process that builds many times (the tests, a preview server) can free them."""
    try:
        yield
    finally:
        gc.unfreeze()


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
