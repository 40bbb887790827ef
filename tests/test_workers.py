"""The forked layout's protocol under load and under a dying parent: it never hangs and leaves no worker."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from zinepress.paged import workers
from zinepress.paged.parts import Part
from zinepress.paged.schedule import Facts, PartWritten, Placement

from conftest import PROJECTS, ROOT, copy_project

BIG = 400_000  # bytes per message either way: far more than a pipe's buffer (64 KiB on Linux)
GONE_WITHIN = 5.0


class _QuietContext:
    """The little of a LayoutContext that a stream touches when the layout itself is a stand-in."""

    def quiet(self):
        return self


class _HeavyLayout:
    """A stand-in for PartLayout whose facts and written parts are large, as a long chapter's are."""

    def __init__(self, part: Part, context, stylesheets):
        self.part = part

    def facts(self) -> Facts:
        anchors = {f"{self.part.index}-{number:06d}": 0 for number in range(BIG // 16)}
        return Facts(self.part.index, 1, [1], [False], 0, False, anchors, True, {})

    def write(self, placement, pdf, body_sections, first_body, anchors) -> PartWritten:
        return PartWritten(self.part.index, b"%" * BIG, (), [], [str(placement.shift)])


def _drive(stream, count: int, anchors: frozenset[str], outcome: dict) -> None:
    """The parent's side: answer every part's facts at once with a large write, until every part is written."""
    facts, shifts = 0, outcome.setdefault("shifts", set())
    while facts < count or len(shifts) < count:
        kind, value = stream.receive()
        if kind == "facts":
            facts += 1
            stream.send(value.index, ("write", (value.index, Placement(value.index, None), True, [], None, anchors)))
        else:
            shifts.add(int(value.folios[0]))
    outcome["done"] = True


def test_large_messages_both_ways_do_not_deadlock(monkeypatch):
    """Parent and workers send more than a pipe holds to each other at the same time, and all arrives."""
    monkeypatch.setattr(workers, "PartLayout", _HeavyLayout)
    parts = [Part(index, "", (f"s{index}",)) for index in range(1, 41)]
    anchors = frozenset(f"anchor-{number:07d}" for number in range(BIG // 12))
    stream = workers.Stream(parts, 2, _QuietContext(), [])
    outcome: dict = {}
    driver = threading.Thread(target=_drive, args=(stream, len(parts), anchors, outcome), daemon=True)
    try:
        driver.start()
        driver.join(timeout=120)
        assert outcome.get("done"), "the parent and its workers are blocked on each other"
    finally:
        stream.close(abort=True)
    assert outcome["shifts"] == {part.index for part in parts}  # each part written at its own place
    assert not any(process.is_alive() for process in stream.processes)


def _children(pid: int) -> set[int]:
    """Processes whose parent is ``pid`` (from /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie has ended: only its exit status waits to be read)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _project_of(tmp_path, chapters: dict[str, str]) -> Path:
    """The minimal fixture with ``chapters`` (file name → text) in place of its own."""
    project = copy_project(PROJECTS / "minimal", tmp_path / "book")
    for path in (project / "manuscript").glob("*.md"):
        path.unlink()
    for name, text in chapters.items():
        (project / "manuscript" / name).write_text(text, encoding="utf-8")
    return project


def _long_project(tmp_path) -> Path:
    paragraph = "A sentence of the long book, laid out by two workers while the parent waits. " * 12
    body = "\n\n".join([paragraph] * 14)
    return _project_of(tmp_path, {f"{number:02d}-part-{number}.md": f"---\ntitle: Part {number}\n---\n\n{body}\n"
                                  for number in range(1, 41)})


FORKED_BUILD = ("import sys\nfrom zinepress.paged import workers\nworkers.workers_wanted = lambda: 2\n"
                "from zinepress.cli import main\nsys.exit(main(sys.argv[1:]))\n")
ENVIRONMENT = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "SOURCE_DATE_EPOCH": "1700000000"}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the layout forks workers only on Linux")
@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT], ids=["kill", "term", "int"])
def test_a_parent_stopped_mid_layout_leaves_no_worker(tmp_path, stop):
    project = _long_project(tmp_path)
    build = subprocess.Popen([sys.executable, "-c", FORKED_BUILD, "build", str(project), "--no-cache",
                              "--format", "pdf"], env=ENVIRONMENT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while len(_children(build.pid)) < 2 and build.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        layout_workers = _children(build.pid)
        assert len(layout_workers) >= 2, "the build never forked its workers"
        time.sleep(0.5)  # well into the layout
        build.send_signal(stop)
        _, err = build.communicate(timeout=30)
        deadline = time.monotonic() + GONE_WITHIN
        while any(_running(pid) for pid in layout_workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [pid for pid in layout_workers if _running(pid)], "layout workers outlived their parent"
    finally:
        if build.poll() is None:
            build.kill()
            build.wait()
    if stop != signal.SIGKILL:
        assert build.returncode == {signal.SIGTERM: 143, signal.SIGINT: 130}[stop]
        assert err.decode().strip() == {signal.SIGTERM: "terminated", signal.SIGINT: "interrupted"}[stop]
        assert not (project / "build").exists() or not any((project / "build").iterdir())


def test_five_hundred_one_paragraph_chapters_build_their_pdf(tmp_path):
    """The smallest book that once left the forked layout blocked for ever builds, in two workers."""
    import pikepdf
    project = _project_of(tmp_path, {f"chapter-{number:03d}.md": f"---\ntitle: Chapter {number}\n---\n\n"
                                     f"The one paragraph of chapter {number}.\n" for number in range(1, 501)})
    done = subprocess.run([sys.executable, "-c", FORKED_BUILD, "build", str(project), "--no-cache", "--format",
                           "pdf"], env=ENVIRONMENT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    [pdf] = (project / "build").glob("*.pdf")
    with pikepdf.open(pdf) as document:
        titles = [str(item.title) for item in document.open_outline().root]
        assert len(document.pages) >= 1000  # each chapter opens on a right-hand page
    assert [title for title in titles if title.startswith("Chapter ")] == [f"Chapter {n}" for n in range(1, 501)]


# ---------------------------------------------------------------- a job beside the layout (the zine's)


def _fails_as_the_project() -> None:
    from zinepress.errors import ProjectError
    raise ProjectError("the text needs 12 pages", Path("manuscript/book.toml"), 7)


def _crashes() -> None:
    raise ValueError("a bug in the job")


def test_a_job_beside_returns_its_result_and_raises_its_errors_and_crashes():
    from zinepress.errors import ProjectError
    assert workers.Beside(lambda: {"pdf": b"%" * BIG}).result() == {"pdf": b"%" * BIG}  # more than a pipe holds
    with pytest.raises(ProjectError) as failure:
        workers.Beside(_fails_as_the_project).result()
    assert [str(problem) for problem in failure.value.problems] == [
        "manuscript/book.toml:7: error: the text needs 12 pages"]
    with pytest.raises(RuntimeError, match="ValueError: a bug in the job"):
        workers.Beside(_crashes).result()
    with pytest.raises(RuntimeError, match="stopped unexpectedly"):
        workers.Beside(lambda: os._exit(3)).result()


def test_a_job_beside_goes_on_to_its_follow_up_while_the_parent_takes_the_result():
    from zinepress.errors import ProjectError
    beside = workers.Beside(lambda: b"%" * BIG, then=lambda made: len(made) + 1)  # the result fills the pipe
    assert beside.result() == b"%" * BIG and beside.process is not None, "kept for the follow-up"
    assert beside.then_result() == BIG + 1 and beside.process is None
    failing = workers.Beside(lambda: 1, then=lambda made: _fails_as_the_project())
    assert failing.result() == 1
    with pytest.raises(ProjectError):
        failing.then_result()
    assert failing.process is None
    crashed = workers.Beside(_crashes, then=lambda made: made)
    with pytest.raises(RuntimeError, match="ValueError"):
        crashed.result()
    assert crashed.process is None, "no follow-up comes after a crash: reaped at once"


def test_forking_freezes_the_parents_objects_and_a_build_thaws_them(tmp_path):
    import gc
    from zinepress import forking
    with forking.thawed():
        forking.Beside(lambda: 1).result()
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


BESIDE_THEN_WAIT = ("import sys, time\nfrom zinepress.paged import workers\n"
                    "job = workers.Beside(lambda: time.sleep(120))\n"
                    "print(job.process.pid, flush=True)\ntime.sleep(120)\n")


def test_a_job_beside_dies_with_its_parent():
    parent = subprocess.Popen([sys.executable, "-c", BESIDE_THEN_WAIT], env=ENVIRONMENT, stdout=subprocess.PIPE,
                              text=True)
    try:
        child = int(parent.stdout.readline())
        assert _running(child)
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + GONE_WITHIN
        while _running(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _running(child), "the job beside outlived its parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


def _zine_build(project: Path, monkeypatch, forked: bool) -> tuple[int, list[int]]:
    """Build the PDF and the zine with (or without) a CPU to spare; the exit code, and the pids of the jobs beside."""
    from zinepress.cli import main
    started: list[int] = []
    real = workers.Beside.__init__

    def counted(self, job):
        real(self, job)
        started.append(self.process.pid)
    from zinepress import forking
    for module in (workers, forking):
        monkeypatch.setattr(module, "workers_wanted", lambda: 2 if forked else 0)
    monkeypatch.setattr(workers.Beside, "__init__", counted)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    return main(["build", str(project), "--no-cache", "--format", "pdf", "--format", "zine", "--quiet"]), started


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="jobs run beside the build only on Linux")
def test_the_zine_laid_out_beside_the_print_layout_is_the_zine_laid_out_after_it(tmp_path, monkeypatch):
    project = copy_project(PROJECTS / "minimal", tmp_path / "book")
    assert _zine_build(project, monkeypatch, forked=False) == (0, [])
    [zine] = (project / "build").glob("*-zine.pdf")
    after = zine.read_bytes()
    code, started = _zine_build(project, monkeypatch, forked=True)
    assert code == 0 and len(started) == 1 and not _running(started[0])
    assert zine.read_bytes() == after


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="jobs run beside the build only on Linux")
def test_a_zine_that_cannot_fit_fails_from_beside_the_layout_at_its_line(tmp_path, monkeypatch, capsys):
    project = copy_project(ROOT, tmp_path / "review")
    toml = project / "manuscript" / "book.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + 'format = "mini"\n', encoding="utf-8")
    line = len(toml.read_text(encoding="utf-8").splitlines())
    code, started = _zine_build(project, monkeypatch, forked=True)
    err = capsys.readouterr().err
    assert code == 1 and len(started) == 1
    assert re.fullmatch(rf".*book\.toml:{line}: error: the text needs \d+ pages even at 9pt: a mini zine has 8[^\n]*\n",
                        err), err
    assert not (project / "build").exists() or not any((project / "build").iterdir())


def test_markdown_converted_side_by_side_is_the_same_as_one_by_one(monkeypatch):
    """Chapters converted from both ends in two processes give each text its own HTML; one that fails is
    left for the caller, which meets the error in its place."""
    from zinepress import forking, markdown
    monkeypatch.setattr(forking, "workers_wanted", lambda: 2)
    monkeypatch.setattr(markdown, "workers_wanted", lambda: 2)
    texts = [f"# Chapter {number}\n\n" + f"A *sentence* of chapter {number}, with `code`.\n\n" * 60
             for number in range(1, 13)]
    failing = "a text the converter fails on"
    real = markdown.chapter_html

    def convert(text: str) -> str:
        if text == failing:
            raise RecursionError
        return real(text)
    monkeypatch.setattr(markdown, "chapter_html", convert)
    loaded = []
    converted = markdown.converted_side_by_side([*texts[:6], failing, *texts[6:]],
                                                while_converting=lambda: loaded.append(1))
    assert loaded == [1]
    assert converted == {text: real(text) for text in texts}
    assert markdown.converted_side_by_side(texts[:1]) == {}  # too short to be worth a process
