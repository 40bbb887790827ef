"""A project folder → a live preview on 127.0.0.1 that rebuilds and reloads on every save.

Two stages rebuild in their own threads. The *view* (the EPUB's XHTML documents with
their stylesheet and images, kept in memory) is rebuilt first, in well under a second;
the *files* (the PDF, the EPUB, the downloads page when its writer exists) follow, built by
the ordinary build into a temporary folder. Open pages hold a server-sent events stream
and reload themselves when what they show has changed. While the book does not build,
every page shows the errors, each with its file and line, until a save fixes them.
Requests are checked first (:mod:`.preview_requests`): only this preview's own address,
paths decoded once and confined to the folders served, never the project itself.
"""

from __future__ import annotations

import dataclasses
import html
import json
import mimetypes
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import watchfiles

from .build import BuildOptions, build
from .config import load_config
from .errors import Problem, ProjectError
from .preview_requests import Refused, check_host, confined_file, parse_target, query_number, served_name
from .preview_view import View, from_built_epub, render_view

WATCHED = ("manuscript", "styles", "layouts")
LIVE_SCRIPT = (Path(__file__).parent / "live.js").read_text(encoding="utf-8")


class PreviewState:
    """What the server shows, changed by the build threads and watched by the open pages."""

    def __init__(self, project: Path, files_folder: Path):
        self.project = project
        self.files_folder = files_folder
        self.view: View | None = None
        self.problems: dict[str, list[Problem]] = {}
        self.generation = 0
        self.changes: dict[int, set[str]] = {}
        self.stopping = False
        self.condition = threading.Condition()

    def publish(self, stage: str, view: View | None = None, problems: list[Problem] | None = None) -> None:
        """Record a stage's result and wake every open page."""
        with self.condition:
            if view is not None:
                self.view = view
            if problems:
                self.problems[stage] = problems
            else:
                self.problems.pop(stage, None)
            self.generation += 1
            self.changes[self.generation] = {"error" if problems else stage}
            self.changes.pop(self.generation - 200, None)
            self.condition.notify_all()

    def clear_problems(self, stage: str) -> None:
        with self.condition:
            self.problems.pop(stage, None)

    def current_problems(self) -> list[Problem]:
        with self.condition:
            return [problem for stage in ("view", "files") for problem in self.problems.get(stage, [])]

    def wait_for_change(self, since: int, timeout: float) -> tuple[int, set[str]] | None:
        """The generation and the parts changed after ``since``; None on timeout or when stopping."""
        with self.condition:
            self.condition.wait_for(lambda: self.generation > since or self.stopping, timeout)
            if self.stopping or self.generation <= since:
                return None
            parts = set().union(*(self.changes.get(g, {"view", "files"})
                                  for g in range(since + 1, self.generation + 1)))
            return self.generation, parts

    def stop(self) -> None:
        with self.condition:
            self.stopping = True
            self.condition.notify_all()


class Stage(threading.Thread):
    """A build stage that reruns whenever it is asked, never twice at once."""

    def __init__(self, name: str, work: Callable[[], None]):
        super().__init__(name=f"zinepress-{name}", daemon=True)
        self.work = work
        self.wanted = threading.Event()
        self.stopping = False

    def request(self) -> None:
        self.wanted.set()

    def stop(self) -> None:
        self.stopping = True
        self.wanted.set()

    def run(self) -> None:
        while True:
            self.wanted.wait()
            if self.stopping:
                return
            self.wanted.clear()
            self.work()


class Previewer:
    """Runs the two stages for one project and reports each result on the console."""

    def __init__(self, project: Path, state: PreviewState, echo: Callable[[str], None]):
        self.project = project
        self.state = state
        self.echo = echo
        self.view_stage = Stage("view", self.build_view)
        self.files_stage = Stage("files", self.build_files)
        self.files_after_view = threading.Event()

    def start(self) -> None:
        self.files_after_view.set()
        self.view_stage.start()
        self.files_stage.start()
        self.build_view()

    def changed(self, paths: list[Path]) -> None:
        """Rebuild what depends on the changed files: a print stylesheet only touches the files."""
        if not paths:
            return
        names = ", ".join(sorted({self._relative(path) for path in paths}))
        self.echo(f"{_clock()} changed: {names}")
        self.state.clear_problems("files")
        if all(path.name == "print.css" for path in paths):
            self.files_stage.request()
        else:
            self.files_after_view.set()
            self.view_stage.request()

    def build_view(self) -> None:
        """Rebuild the chapters; then, if it succeeded, let the slower files follow."""
        started = time.perf_counter()
        try:
            view = render_view(self.project)
        except (ProjectError, OSError) as error:
            self._failed("view", error)
            return
        view = dataclasses.replace(view, warnings=tuple(
            dataclasses.replace(warning, path=self._located(warning.path)) for warning in view.warnings))
        self.state.publish("view", view=view)
        self.echo(f"{_clock()} book view rebuilt in {time.perf_counter() - started:.2f} s")
        for warning in view.warnings:
            self.echo(f"{_clock()} {warning}")
        if self.files_after_view.is_set():
            self.files_after_view.clear()
            self.files_stage.request()

    def build_files(self) -> None:
        started = time.perf_counter()
        try:
            result = build(BuildOptions(project=self.project, out=self.state.files_folder))
        except (ProjectError, OSError) as error:
            self._failed("files", error)
            return
        self.state.publish("files")
        names = ", ".join(path.name for path in result.outputs)
        self.echo(f"{_clock()} files rebuilt in {time.perf_counter() - started:.2f} s: {names}")
        shown = set(self.state.view.warnings) if self.state.view else set()
        for warning in result.warnings:
            warning = dataclasses.replace(warning, path=self._located(warning.path))
            if warning not in shown:
                self.echo(f"{_clock()} {warning}")

    def _failed(self, stage: str, error: Exception) -> None:
        problems = error.problems if isinstance(error, ProjectError) else [Problem(str(error))]
        problems = [dataclasses.replace(problem, path=self._located(problem.path)) for problem in problems]
        self.state.publish(stage, problems=problems)
        for problem in problems:
            self.echo(f"{_clock()} {problem}")

    def _relative(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.project).as_posix()
        except ValueError:
            return str(path)

    def _located(self, path: Path | None) -> Path | None:
        """A problem's path relative to the project, as the author knows it."""
        return Path(self._relative(path)) if path is not None else None

    def stop(self) -> None:
        for stage in (self.view_stage, self.files_stage):
            stage.stop()
        for stage in (self.view_stage, self.files_stage):
            if stage.is_alive():
                stage.join(timeout=60)


def _settled(changes: set[tuple[watchfiles.Change, str]]) -> list[Path]:
    """The changed paths, without the temporary files that editors create and rename at once."""
    added = {path for change, path in changes if change == watchfiles.Change.added}
    deleted = {path for change, path in changes if change == watchfiles.Change.deleted}
    return sorted(Path(path) for path in {path for _, path in changes} - (added & deleted))


def _clock() -> str:
    return time.strftime("%H:%M:%S")


class SourceFilter(watchfiles.DefaultFilter):
    """Only files under the project's manuscript/, styles/ and layouts/ (editor droppings ignored)."""

    def __init__(self, project: Path):
        super().__init__()
        self.roots = tuple(str(project / name) + "/" for name in WATCHED)

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        return path.startswith(self.roots) and super().__call__(change, path)


def serve(project: Path, port: int = 8000, echo: Callable[[str], None] = print) -> None:
    """Serve the preview of ``project`` until interrupted (Ctrl-C)."""
    project = project.resolve()
    load_config(project)
    state = PreviewState(project, Path())
    server = PreviewServer(("127.0.0.1", port), state)
    preview = Path(tempfile.mkdtemp(prefix="zinepress-preview-"))
    state.files_folder = preview / "files"
    previewer = Previewer(project, state, echo)
    stop = threading.Event()
    main_thread = threading.current_thread() is threading.main_thread()
    on_terminate = signal.signal(signal.SIGTERM, _interrupt) if main_thread else None
    threading.Thread(target=server.serve_forever, name="zinepress-server", daemon=True).start()
    try:
        previewer.start()
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        echo(f"Serving {project.name} at {url} (Ctrl-C to stop)")
        for changes in watchfiles.watch(project, watch_filter=SourceFilter(project), stop_event=stop,
                                        step=30, debounce=400):
            previewer.changed(_settled(changes))
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        state.stop()
        server.shutdown()
        server.server_close()
        previewer.stop()
        shutil.rmtree(preview, ignore_errors=True)
        if main_thread:
            signal.signal(signal.SIGTERM, on_terminate)
    echo("stopped")


def _interrupt(signum, frame) -> None:
    """SIGTERM stops the preview as Ctrl-C does, cleaning up."""
    raise KeyboardInterrupt


class PortUnavailable(OSError):
    """The port asked for is taken or not allowed."""


class PreviewServer(ThreadingHTTPServer):
    """The HTTP server of one preview, on a loopback address only."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: PreviewState):
        self.state = state
        try:
            super().__init__(address, PreviewHandler)
        except OSError as error:
            raise PortUnavailable(f"cannot listen on {address[0]}:{address[1]} ({error.strerror}): "
                                  "choose another port") from None

    def handle_error(self, request, client_address) -> None:
        """A request that broke off (the browser went away) or failed: one line, never a traceback."""
        error = sys.exc_info()[1]
        if not isinstance(error, (ConnectionError, TimeoutError)):
            print(f"{_clock()} preview: a request failed: {type(error).__name__}: {error}", file=sys.stderr)


class PreviewHandler(BaseHTTPRequestHandler):
    """Routes: ``/`` the downloads page or the book, ``/book/…`` the chapters, ``/pdf``,
    ``/files/…`` the built files, ``/_zinepress/…`` the live-reload script and event stream."""

    server: PreviewServer
    protocol_version = "HTTP/1.1"
    head_only = False

    def log_message(self, format: str, *args) -> None:
        """Keep the console for build reports, not one line per request."""

    def do_HEAD(self) -> None:
        """As GET, with the same status and headers, without the body."""
        self.head_only = True
        try:
            self.do_GET()
        finally:
            self.head_only = False

    def do_GET(self) -> None:
        try:
            check_host(self.headers.get("Host"), self.server.server_address[1])
            path, query = parse_target(self.path)
            self._route(path, query)
        except Refused as refusal:
            self._send(f"{refusal.status.value} {refusal.status.phrase}".encode(), "text/plain; charset=utf-8",
                       refusal.status)

    def _route(self, path: str, query: dict[str, list[str]]) -> None:
        state = self.server.state
        if path == "/_zinepress/events":
            return self._events(query_number(query, "since"))
        if path == "/_zinepress/live.js":
            return self._send(LIVE_SCRIPT.encode("utf-8"), "text/javascript; charset=utf-8")
        page_kind = self._page_kind(path)
        if page_kind and state.current_problems():
            return self._error_page(state.current_problems())
        if path == "/":
            downloads = state.files_folder / "index.html"
            return self._redirect("/files/index.html" if downloads.is_file() else "/book/")
        if path in ("/book", "/book/"):
            view = state.view
            return self._redirect("/book/" + view.order[0]) if view else self._waiting("view")
        if path.startswith("/book/"):
            return self._book_file(served_name(path[len("/book/"):]))
        if path == "/pdf":
            return self._pdf_page()
        if path == "/warnings":
            return self._warnings_page()
        if path.startswith("/files/"):
            return self._built_file(path[len("/files/"):])
        self._send(b"not found", "text/plain", HTTPStatus.NOT_FOUND)

    @staticmethod
    def _page_kind(path: str) -> str | None:
        """Which pages show errors instead of content: every page, not the files they load."""
        if path in ("/", "/book", "/book/", "/pdf", "/warnings") or path.endswith((".xhtml", ".html")):
            return "page"
        return None

    def _book_file(self, name: str) -> None:
        view = self.server.state.view
        if view is None:
            return self._waiting("view")
        data = view.get(name)
        if data is None:
            data = from_built_epub(self.server.state.files_folder / f"{view.slug}.epub", name)
        if data is None:
            return self._send(b"not found", "text/plain", HTTPStatus.NOT_FOUND)
        if name.endswith(".xhtml"):
            data = _inject(data.decode("utf-8"), self._toolbar(view, name), "view",
                           self.server.state.generation).encode("utf-8")
            return self._send(data, "application/xhtml+xml; charset=utf-8")
        self._send(data, mimetypes.guess_type(name)[0] or "application/octet-stream")

    def _toolbar(self, view: View, name: str) -> str:
        """Links to the previous and next documents, the contents, the PDF and the downloads page."""
        index = view.order.index(name) if name in view.order else 0
        links = []
        if index > 0:
            links.append(f'<a href="{quote(view.order[index - 1])}" rel="prev">◀ previous</a>')
        links.append('<a href="nav.xhtml">contents</a>')
        if index + 1 < len(view.order):
            links.append(f'<a href="{quote(view.order[index + 1])}" rel="next">next ▶</a>')
        links.append('<a href="/pdf">PDF</a>')
        if view.warnings:
            count = len(view.warnings)
            links.append(f'<a href="/warnings">⚠ {count} warning{"s" * (count != 1)}</a>')
        if (self.server.state.files_folder / "index.html").is_file():
            links.append('<a href="/files/index.html">downloads</a>')
        return ('<nav id="zinepress-preview" aria-label="Preview" style="position:fixed;bottom:0;right:0;'
                'font:12px/1.6 sans-serif;background:#1f1f1f;color:#fff;padding:0.2em 0.8em;opacity:0.85;'
                'z-index:99999"> ' + " · ".join(links).replace("<a ", '<a style="color:#fff" ') + " </nav>")

    def _pdf_page(self) -> None:
        state = self.server.state
        pdf = state.files_folder / f"{state.view.slug}.pdf" if state.view else None
        if pdf is None or not pdf.is_file():
            return self._waiting("files")
        body = (f'<embed src="/files/{quote(pdf.name)}?g={state.generation}" type="application/pdf" '
                'style="position:fixed;inset:0;width:100%;height:100%;border:0"/>')
        self._html_page("PDF", body, "files")

    def _built_file(self, name: str) -> None:
        path = confined_file(self.server.state.files_folder, name)
        data = path.read_bytes()
        if path.suffix == ".html":
            toolbar = ('<nav id="zinepress-preview" aria-label="Preview" style="position:fixed;bottom:0;right:0;'
                       'font:12px/1.6 sans-serif;background:#1f1f1f;padding:0.2em 0.8em;opacity:0.85;z-index:99999">'
                       '<a style="color:#fff" href="/book/">read the book</a></nav>')
            data = _inject(data.decode("utf-8"), toolbar, "files", self.server.state.generation).encode("utf-8")
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        self._send(data, media_type + ("; charset=utf-8" if path.suffix in (".html", ".xml") else ""))

    def _warnings_page(self) -> None:
        view = self.server.state.view
        warnings = view.warnings if view else ()
        items = "\n".join(f"<li><code>{html.escape(_where(w))}</code> {html.escape(w.message)}</li>" for w in warnings)
        body = (f"<h1>Warnings</h1>\n<ul>\n{items}\n</ul>" if warnings else "<h1>No warnings</h1>") + \
            '\n<p><a href="/book/">Back to the book</a></p>'
        self._html_page("Warnings", body, "view")

    def _waiting(self, kind: str) -> None:
        what = "book" if kind == "view" else "files"
        self._html_page("Building…", f"<p>Building the {what}… this page reloads when it is ready.</p>", kind)

    def _error_page(self, problems: list[Problem]) -> None:
        items = "\n".join(f"<li><code>{html.escape(_where(p))}</code> {html.escape(p.severity)}: "
                          f"{html.escape(p.message)}</li>" for p in problems)
        body = (f'<h1>The book does not build</h1>\n<ul id="zinepress-errors">\n{items}\n</ul>\n'
                "<p>Fix the file and save it: this page shows the book again by itself.</p>")
        self._html_page("Build error", body, "error", HTTPStatus.INTERNAL_SERVER_ERROR)

    def _html_page(self, title: str, body: str, kind: str, status: HTTPStatus = HTTPStatus.OK) -> None:
        generation = self.server.state.generation
        page = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"/><title>{html.escape(title)}'
                '</title><style>body{font:16px/1.5 sans-serif;margin:2em auto;max-width:50em;padding:0 1em}'
                'code{background:#f4f0e8;padding:0 .2em}li{margin:.4em 0}</style></head>'
                f"<body>{body}</body></html>")
        self._send(_inject(page, "", kind, generation).encode("utf-8"), "text/html; charset=utf-8", status)

    def _redirect(self, location: str) -> None:
        self.send_response(HTTPStatus.FOUND)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send(self, data: bytes, media_type: str, status: HTTPStatus = HTTPStatus.OK) -> None:
        self.send_response(status)
        self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if not self.head_only:
            self.wfile.write(data)

    def _events(self, since: int) -> None:
        """A server-sent events stream: one event per change after generation ``since``."""
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        if self.head_only:
            return
        state = self.server.state
        try:
            while not state.stopping:
                change = state.wait_for_change(since, timeout=15)
                if change is None:
                    self.wfile.write(b": still here\n\n")
                else:
                    since, parts = change
                    message = json.dumps({"generation": since, "parts": sorted(parts)})
                    self.wfile.write(f"data: {message}\n\n".encode())
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return


def _where(problem: Problem) -> str:
    where = problem.path.as_posix() if problem.path else "<project>"
    return f"{where}:{problem.line}" if problem.line else where


def _inject(document: str, toolbar: str, kind: str, generation: int) -> str:
    """Add the preview toolbar and the live-reload script at the end of a page's body."""
    script = f'<script src="/_zinepress/live.js?kind={kind}&amp;since={generation}"></script>'
    end = document.rfind("</body>")
    if end < 0:
        return document + toolbar + script
    return document[:end] + toolbar + script + "\n" + document[end:]
