"""Benchmark: the bundled review, a 2,000-word zine and generated books of 10, 50 and 200 pages (their
chapters linking to each other, with a contents page that shows the targets' page numbers), or a
book of many one-paragraph chapters → wall time and peak memory, side by side with pandoc →
weasyprint on the same text in the same run.

For each size it times, with the zinepress of this checkout:
  * ``zinepress build`` of every format (EPUB, PDF, press PDF, zine and downloads page:
    ``epub``, ``pdf``, ``print``, ``zine``, ``site``), from a cold cache;
  * ``zinepress build --format epub`` alone, from a cold cache (it lays out the print
    edition too, for the EPUB's page list);
  * a rebuild with nothing changed (the cache answers);
  * a rebuild after editing one chapter (every format: the zine, its text running on from
    chapter to chapter, is laid out anew whole);
  * the same for the editions laid out part by part (``epub``, ``pdf``, ``print``): a rebuild
    after editing one chapter, then a build of them from a cold cache;
and, in the same run, the same content through ``pandoc`` to EPUB, and ``pandoc`` to
standalone HTML (a bare template, without pandoc's own CSS) then the ``weasyprint`` command
to PDF with zinepress's default print stylesheet and trim, so both lay out alike. It prints the figures and their ratios.

Prerequisites: zinepress's own (``bash .ci/setup``: Pillow, poppler's ``pdfinfo``) and
``pandoc`` on the PATH (Debian: ``apt-get install pandoc``). Run from the repository root:

    python3 bench/bench.py                 # the review, the zine, 10, 50 and 200 pages
    python3 bench/bench.py --size review   # one size: review, zine, a number of pages (repeatable)
    python3 bench/bench.py --size 1000c    # 1,000 one-paragraph chapters, each linking to the next
    python3 bench/bench.py --pages 200     # the same as --size 200
    python3 bench/bench.py --keep DIR      # keep the generated projects in DIR
    python3 bench/bench.py --repeat 1      # one run of each command instead of three

Every command runs in a child process; "peak MiB" is the largest resident set size of it
and its waited-for processes (from ``os.wait4``); "all MiB" is the peak of the memory of the
whole process tree at once (its processes' PSS summed, sampled every 20 ms from /proc, so
pages that forked layout workers share with the parent count once); wall time is measured
around it. Each command runs three times
and the fastest run counts, as other work on the machine can only slow a run down; the
highest peak memory of the runs counts. The generated text is the
same on every run (a fixed random seed), so figures compare across commits.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "src"
WORDS_PER_PAGE = 230  # A5, 11 pt, with headings, code, tables and figures: what the default print.css gives
WORDS = """
the of and to in is that for it as with was on be by this are from at or an which have not
they but one all were when we there can been has more if their will would about into so
what some other than then these two may only new also time could first must any after most
book page chapter layout reader printer paper type letter word line margin column spread
signature binding cover spine ink press proof edition folio heading footnote figure table
measure leading kerning tracking glyph font serif italic roman small capitals ligature
hyphen justify ragged paragraph indent widow orphan gutter trim bleed crop sheet fold
manuscript author editor publisher library archive history craft design method system
simple careful patient quiet clear honest useful plain modern early late good small large
carefully slowly often always rarely never together apart before between through under
""".split()
LANGUAGES = ["python", "toml", "sh"]


@dataclass
class Figure:
    """One measured command: wall seconds, CPU seconds (user + system), peak resident memory in MiB of
    its largest process, and peak memory of the command and all its processes together (proportional
    set size: pages shared by forked workers are counted once)."""

    seconds: float
    cpu: float
    peak_mib: float
    total_mib: float = 0.0

    def __add__(self, other: "Figure") -> "Figure":
        return Figure(self.seconds + other.seconds, self.cpu + other.cpu, max(self.peak_mib, other.peak_mib),
                      max(self.total_mib, other.total_mib))


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants, from /proc."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children", encoding="ascii") as stream:
                    pending += [int(child) for child in stream.read().split()]
        except OSError:
            continue
    return found


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as stream:
            return next(int(line.split()[1]) for line in stream if line.startswith("Pss:"))
    except (OSError, StopIteration, ValueError):
        return 0


class TotalMemory(threading.Thread):
    """Samples the summed PSS of a process tree every few milliseconds; ``peak`` in MiB (Linux only)."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0.0, True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, sum(_pss_kib(pid) for pid in _tree(self.pid)) / 1024)
            time.sleep(0.02)


def measure(argv: list[str], cwd: Path, env: dict[str, str] | None = None, sampled: bool = True) -> Figure:
    """Run ``argv`` to completion; its wall time, the child's peak RSS and, when ``sampled``, the tree's peak
    PSS. Fails loudly."""
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        sampler = TotalMemory(process.pid)
        if sampled:
            sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        sampler.running = False
        if sampled:
            sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"{' '.join(argv)} failed ({process.returncode}):\n"
                             + errors.read().decode("utf-8", "replace"))
    return Figure(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, sampler.peak)


# ---------------------------------------------------------------- the manuscript


def sentence(rng: random.Random, low: int = 8, high: int = 22) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    if rng.random() < 0.25:
        index = rng.randrange(len(words))
        words[index] = rng.choice([f"*{words[index]}*", f"**{words[index]}**", f"`{words[index]}()`"])
    return " ".join(words).capitalize() + rng.choice([".", ".", ".", "?", ";"]).replace(";", ".")


def paragraph(rng: random.Random, notes: list[str], chapter: int) -> str:
    sentences = [sentence(rng) for _ in range(rng.randint(3, 7))]
    if rng.random() < 0.3:
        label = f"c{chapter}n{len(notes) + 1}"
        notes.append(f"[^{label}]: {sentence(rng)} {sentence(rng)}")
        sentences[rng.randrange(len(sentences))] += f"[^{label}]"
    return " ".join(sentences)


def code_block(rng: random.Random) -> str:
    language = rng.choice(LANGUAGES)
    lines = []
    for index in range(rng.randint(8, 16)):
        name, other = rng.choice(WORDS), rng.choice(WORDS)
        if language == "python":
            lines.append(f"{'    ' * (index % 3)}{name}_{index} = {other}({rng.randint(1, 999)})  # {rng.choice(WORDS)}")
        elif language == "toml":
            lines.append(f'{name}_{index} = "{other} {rng.choice(WORDS)}"')
        else:
            lines.append(f"zinepress build {name}-{other} --format {rng.choice(['epub', 'pdf'])}")
    return f"```{language}\n" + "\n".join(lines) + "\n```"


def table(rng: random.Random) -> str:
    header = "| " + " | ".join(rng.choice(WORDS).capitalize() for _ in range(4)) + " |"
    rows = ["| " + " | ".join([rng.choice(WORDS), str(rng.randint(1, 9999)), f"{rng.random():.3f}",
                               rng.choice(WORDS)]) + " |" for _ in range(rng.randint(4, 8))]
    return "\n".join([header, "| --- | ---: | ---: | --- |", *rows])


def bullet_list(rng: random.Random) -> str:
    marker = rng.choice(["-", "1."])
    return "\n".join(f"{marker} {sentence(rng, 4, 12)}" for _ in range(rng.randint(3, 6)))


def make_image(path: Path, rng: random.Random) -> None:
    """A diagram-like PNG: flat shapes and lines, as figures in technical books are."""
    image = Image.new("RGB", (900, 520), "white")
    draw = ImageDraw.Draw(image)
    for _ in range(14):
        x, y = rng.randrange(820), rng.randrange(440)
        colour = tuple(rng.randrange(60, 230) for _ in range(3))
        draw.rectangle([x, y, x + rng.randint(40, 200), y + rng.randint(30, 120)], fill=colour, outline="black")
        draw.line([x, y, rng.randrange(900), rng.randrange(520)], fill="black", width=2)
    image.save(path, optimize=True)


def cross_reference(rng: random.Random, number: int, chapters: int) -> str:
    """A sentence that links to another chapter of the book, as GitHub-Markdown books link their files."""
    other = rng.choice([chapter for chapter in range(1, chapters + 1) if chapter != number])
    return f"See [chapter {other}]({other:03d}-chapter-{other}.md) for more."


def chapter_text(rng: random.Random, number: int, words: int, images: Path, chapters: int = 1) -> str:
    """A chapter of about ``words`` words: sections, notes, lists, tables, code and a figure, with links
    to other chapters of the ``chapters``."""
    title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 4))).capitalize()
    blocks, notes, count, figure = [], [], 0, 0
    while count < words:
        kind = rng.random()
        if count and kind < 0.10:
            blocks.append(f"## {sentence(rng, 2, 5).rstrip('.?')}")
        elif kind < 0.16:
            blocks.append(f"### {sentence(rng, 2, 5).rstrip('.?')}")
        elif kind < 0.22:
            blocks.append(bullet_list(rng))
        elif kind < 0.27:
            blocks.append(table(rng))
        elif kind < 0.33:
            blocks.append(code_block(rng))
        elif kind < 0.36:
            figure += 1
            name = f"ch{number:03d}-fig{figure}.png"
            make_image(images / name, rng)
            blocks.append(f"![Figure {number}.{figure}: {sentence(rng, 3, 8)}](images/{name})")
        else:
            blocks.append(paragraph(rng, notes, number))
            if chapters > 1 and rng.random() < 0.1:
                blocks[-1] += " " + cross_reference(rng, number, chapters)
        count += len(blocks[-1].split())
    return f"---\ntitle: {title}\n---\n\n" + "\n\n".join(blocks + notes) + "\n"


def write_book_toml(manuscript: Path, title: str, serial: str) -> None:
    """The generated books' book.toml: A5, slug ``bench``, an identifier ending in ``serial``."""
    (manuscript / "book.toml").write_text(
        f'title = "{title}"\nauthors = ["Bench Mark"]\nlanguage = "en"\n'
        f'identifier = "urn:uuid:00000000-0000-4000-{serial}"\nslug = "bench"\n\n[print]\ntrim = "A5"\n',
        encoding="utf-8")


def make_project(folder: Path, pages: int) -> Path:
    """A zinepress project of about ``pages`` A5 pages: one chapter per ~10 pages."""
    rng = random.Random(f"zinepress-bench-{pages}")
    manuscript = folder / "manuscript"
    images = manuscript / "images"
    images.mkdir(parents=True)
    write_book_toml(manuscript, f"Benchmark, {pages} pages", f"8000-{pages:012d}")
    chapters = max(1, round(pages / 10))
    for number in range(1, chapters + 1):
        text = chapter_text(rng, number, pages * WORDS_PER_PAGE // chapters, images, chapters)
        (manuscript / f"{number:03d}-chapter-{number}.md").write_text(text, encoding="utf-8")
    return folder


def make_many_chapters(folder: Path, chapters: int) -> Path:
    """A book of ``chapters`` one-paragraph chapters, each linking to the next: the most parts, the least text."""
    manuscript = folder / "manuscript"
    manuscript.mkdir(parents=True)
    write_book_toml(manuscript, f"Benchmark, {chapters} chapters", f"8001-{chapters:012d}")
    for number in range(1, chapters + 1):
        following = number % chapters + 1
        (manuscript / f"{number:04d}-chapter-{number}.md").write_text(
            f"---\ntitle: Chapter {number}\n---\n\nThe one paragraph of chapter {number}. "
            f"The next is [chapter {following}]({following:04d}-chapter-{following}.md).\n", encoding="utf-8")
    return folder


ZINE_WORDS = 2000


def make_zine(folder: Path) -> Path:
    """A zine-sized project: about 2,000 words in four short chapters, with a list and a figure."""
    rng = random.Random("zinepress-bench-zine")
    manuscript = folder / "manuscript"
    images = manuscript / "images"
    images.mkdir(parents=True)
    write_book_toml(manuscript, "Benchmark zine", "8000-000000002000")
    for number in range(1, 5):
        text = chapter_text(rng, number, ZINE_WORDS // 4, images)
        (manuscript / f"{number:03d}-chapter-{number}.md").write_text(text, encoding="utf-8")
    return folder


def copy_review(folder: Path) -> Path:
    """The bundled review ("Love wins all") as it is: its manuscript and styles."""
    folder.mkdir(parents=True)
    for name in ("manuscript", "styles"):
        shutil.copytree(ROOT / name, folder / name)
    return folder


def _comments_as_text(text: str) -> str:
    """Reader comments (``---``/``author:``/``date:``/``---`` blocks) as plain Markdown for pandoc."""
    blocks = text.split("---\n")[1:]
    parts = ["# Reader comments"]
    for header, body in zip(blocks[0::2], blocks[1::2]):
        fields = dict(line.split(":", 1) for line in header.splitlines() if ":" in line)
        parts.append(f"**{fields.get('author', '').strip()}**, {fields.get('date', '').strip()}\n\n{body.strip()}")
    return "\n\n".join(parts)


def pandoc_source(project: Path) -> Path:
    """The same chapters as one Markdown file for pandoc (front matter titles as ``#`` headings)."""
    parts = []
    for path in sorted((project / "manuscript").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        if path.name == "comments.md":
            parts.append(_comments_as_text(text))
            continue
        _, front, body = text.split("---\n", 2)
        parts.append(f"# {front.split('title:', 1)[1].strip()}\n\n{body}")
    target = project / "manuscript" / "pandoc.md.txt"
    target.write_text("\n\n".join(parts), encoding="utf-8")
    return target


# ---------------------------------------------------------------- the runs


def zinepress(project: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "zinepress", "build", str(project), *args]


def page_count(pdf: Path) -> int:
    """Pages of a PDF, from poppler's ``pdfinfo`` (the bench itself stays small: a child's peak
    memory counts what it inherits from this process before it starts its program)."""
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    return int(next(line.split()[1] for line in info.splitlines() if line.startswith("Pages:")))


PANDOC_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>$pagetitle$</title></head>
<body>
$body$
</body>
</html>
"""


def best(argv: list[str], cwd: Path, env: dict[str, str], repeat: int, before=None) -> Figure:
    """The fastest of ``repeat`` runs (others' work on the machine only slows runs down) and the
    highest peak memory; ``before(i)`` runs untimed before each.

    The summed memory of all processes comes from one more run: sampling /proc every 20 ms takes
    CPU time from the command's own processes when they use every CPU (about 0.15 s of a 1.2 s
    build on 2 CPUs), and none from a command that uses one, so the timed runs are not sampled.
    """
    figures = []
    for index in range(repeat + 1):
        if before:
            before(index)
        figures.append(measure(argv, cwd, env, sampled=index == repeat))
    timed = figures[:-1]
    return Figure(min(f.seconds for f in timed), min(f.cpu for f in timed), max(f.peak_mib for f in figures),
                  figures[-1].total_mib)


def make_size(size: str, workdir: Path) -> Path:
    """The project for a ``--size``: ``review``, ``zine`` or a number of pages."""
    if size == "review":
        return copy_review(workdir / "review")
    if size == "zine":
        return make_zine(workdir / "zine")
    if size.endswith("c"):
        return make_many_chapters(workdir / f"chapters-{size[:-1]}", int(size[:-1]))
    return make_project(workdir / f"book-{size}", int(size))


def run_size(size: str, workdir: Path, repeat: int) -> dict[str, Figure | int]:
    """Every figure for one size of book."""
    project = make_size(size, workdir)
    slug = "love-wins-all" if size == "review" else "bench"
    pages = size
    env = {**os.environ, "PYTHONPATH": str(SOURCE), "SOURCE_DATE_EPOCH": "1700000000"}
    results: dict[str, Figure | int] = {}

    def cold(_):
        shutil.rmtree(project / ".zinepress-cache", ignore_errors=True)
        shutil.rmtree(project / "build", ignore_errors=True)

    chapters = sorted((project / "manuscript").glob("*.md"))
    edited = chapters[len(chapters) // 2]

    def edit(index):
        with edited.open("a", encoding="utf-8") as stream:
            stream.write(f"\nOne more sentence, edit number {index + 1}.\n")

    results["epub alone"] = best(zinepress(project, "--format", "epub"), project, env, repeat, cold)
    results["all formats"] = best(zinepress(project), project, env, repeat, cold)
    results["pages"] = page_count(project / "build" / f"{slug}.pdf")
    results["no-change rebuild"] = best(zinepress(project), project, env, repeat)
    results["one-chapter rebuild"] = best(zinepress(project), project, env, repeat, edit)
    paged = [argument for name in PAGED_FORMATS for argument in ("--format", name)]
    results["paged, one-chapter rebuild"] = best(zinepress(project, *paged), project, env, repeat, edit)
    results["paged editions"] = best(zinepress(project, *paged), project, env, repeat, cold)

    source = pandoc_source(project)
    out = workdir / f"pandoc-{pages}"
    out.mkdir()
    template = out / "template.html"
    template.write_text(PANDOC_TEMPLATE, encoding="utf-8")
    html = project / "manuscript" / "pandoc.html"
    results["pandoc epub"] = best(["pandoc", f"--resource-path={project / 'manuscript'}", "-f", "markdown",
                                   "--metadata", f"title=Benchmark {pages}", "-o", str(out / "book.epub"),
                                   str(source)], project, env, repeat)
    results["pandoc html"] = best(["pandoc", "-s", "--template", str(template), "-f", "markdown", "-t", "html5",
                                   "--metadata", f"title=Benchmark {pages}", "-o", str(html), str(source)],
                                  project, env, repeat)
    stylesheet = out / "print.css"
    stylesheet.write_text((SOURCE / "zinepress" / "styles" / "print.css").read_text(encoding="utf-8")
                          + "\n@page { size: 148mm 210mm; }\n", encoding="utf-8")
    results["weasyprint alone"] = best([sys.executable, "-m", "weasyprint", "-s", str(stylesheet), str(html),
                                        str(out / "book.pdf")], project, env, repeat)
    results["pandoc html + weasyprint"] = results["pandoc html"] + results["weasyprint alone"]
    results["pandoc pages"] = page_count(out / "book.pdf")
    return results


PAGED_FORMATS = ("epub", "pdf", "print")  # the editions laid out part by part (the zine is laid out whole)
GOALS = {"review": 1.5, "zine": 1.5, "200": 0.7}  # all formats / (pandoc html + weasyprint), issue 20


def report(size: str, results: dict[str, Figure | int]) -> None:
    reference = results["pandoc html + weasyprint"]
    name = {"review": "the bundled review", "zine": f"a {ZINE_WORDS:,}-word zine"}.get(
        size, f"{size[:-1]} one-paragraph chapters" if size.endswith("c") else f"about {size} pages")
    print(f"\n== {name}: zinepress PDF {results['pages']} pages, "
          f"pandoc+weasyprint PDF {results['pandoc pages']} pages")
    print(f"{'run':28} {'seconds':>8} {'CPU s':>8} {'peak MiB':>9} {'all MiB':>8}")
    for name, figure in results.items():
        if isinstance(figure, Figure):
            print(f"{name:28} {figure.seconds:8.2f} {figure.cpu:8.2f} {figure.peak_mib:9.0f} {figure.total_mib:8.0f}")
    full, epub = results["all formats"], results["epub alone"]
    print("ratios (wall time; CPU time in brackets):")
    goal = f"  (goal <= {GOALS[size]})" if size in GOALS else ""
    print(f"  all formats / (pandoc html + weasyprint), time    {full.seconds / reference.seconds:5.2f}"
          f"  [{full.cpu / reference.cpu:4.2f}]{goal}")
    print(f"  epub alone / (pandoc html + weasyprint), time     {epub.seconds / reference.seconds:5.2f}"
          f"  [{epub.cpu / reference.cpu:4.2f}]{'  (goal <= 0.5)' if size == '200' else ''}")
    print(f"  all formats / weasyprint alone, peak memory       "
          f"{full.peak_mib / results['weasyprint alone'].peak_mib:5.2f}  (goal <= 1.2; largest process)")
    print(f"  all formats / weasyprint alone, all processes     "
          f"{full.total_mib / results['weasyprint alone'].total_mib:5.2f}  (summed PSS of the workers and the parent)")
    print(f"  epub alone / pandoc epub, time                    "
          f"{epub.seconds / results['pandoc epub'].seconds:5.2f}  [{epub.cpu / results['pandoc epub'].cpu:4.2f}]"
          "  (goal <= 2.0)")
    chapter = results["one-chapter rebuild"]
    print(f"  one-chapter rebuild / all formats, time           "
          f"{chapter.seconds / full.seconds:5.2f}  [{chapter.cpu / full.cpu:4.2f}]  (goal < 0.5)")
    paged = results["paged, one-chapter rebuild"]
    print(f"  paged one-chapter rebuild / paged editions, time  "
          f"{paged.seconds / results['paged editions'].seconds:5.2f}  "
          f"[{paged.cpu / results['paged editions'].cpu:4.2f}]  (goal < 0.5; epub, pdf and print)")
    print(f"  no-change rebuild, seconds                        "
          f"{results['no-change rebuild'].seconds:5.2f}  (goal < 0.5)")
    print(f"  all formats, seconds per PDF page                 {full.seconds / results['pages']:5.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", action="append", choices=None, metavar="SIZE",
                        help="review, zine, a book size in pages, or NNNc for NNN one-paragraph chapters (repeatable)")
    parser.add_argument("--pages", type=int, action="append", help="book size in pages (repeatable)")
    parser.add_argument("--keep", type=Path, help="generate the projects here and keep them")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command; the fastest counts (default 3)")
    arguments = parser.parse_args()
    if shutil.which("pandoc") is None:
        raise SystemExit("pandoc is not installed (Debian: apt-get install pandoc)")
    sizes = [*(arguments.size or []), *map(str, arguments.pages or [])] or ["review", "zine", "10", "50", "200"]
    for size in sizes:
        if size not in ("review", "zine") and not size.removesuffix("c").isdigit():
            parser.error(f"--size {size!r}: give review, zine, a number of pages or a number of chapters and c")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, pandoc "
          f"{subprocess.run(['pandoc', '--version'], capture_output=True, text=True).stdout.split()[1]}")
    if arguments.keep:
        arguments.keep.mkdir(parents=True, exist_ok=True)
        workdir = Path(tempfile.mkdtemp(prefix="zinepress-bench-", dir=arguments.keep))
    else:
        workdir = Path(tempfile.mkdtemp(prefix="zinepress-bench-"))
    try:
        for size in sizes:
            report(size, run_size(size, workdir, arguments.repeat))
        print(f"\nload average at the end: {os.getloadavg()[0]:.1f} (above the CPU count, wall times are inflated)")
    finally:
        if not arguments.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
