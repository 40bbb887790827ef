"""Which stylesheet a build uses: the project's ``styles/NAME``, else zinepress's default."""

from __future__ import annotations

from pathlib import Path

DEFAULT_STYLES = Path(__file__).parent / "styles"


def stylesheet_path(project: Path, name: str) -> Path:
    """The project's ``styles/NAME`` when it exists, else the default shipped with zinepress."""
    own = project / "styles" / name
    return own if own.exists() else DEFAULT_STYLES / name
