"""zinepress: a Markdown manuscript → EPUB, print-ready PDF, zine and downloads page.

The public API is :func:`build`; the command line (``zinepress``) is a thin layer on it.
"""

from __future__ import annotations

from pathlib import Path

from .build import ALL_FORMATS, BuildOptions, BuildResult
from .build import build as _build
from .errors import ProjectError

__version__ = "0.1.0"
__all__ = ["ALL_FORMATS", "BuildOptions", "BuildResult", "ProjectError", "build"]


def build(project: Path | str = ".", formats: tuple[str, ...] | None = None, out: Path | str | None = None,
          strict: bool = False) -> BuildResult:
    """Build ``project`` into ``out`` (default ``project/build``) in the given formats (default all)."""
    return _build(BuildOptions(project=Path(project), out=Path(out) if out else None,
                               formats=tuple(formats) if formats else ALL_FORMATS, strict=strict))
