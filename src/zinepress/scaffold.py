"""A folder name → a new project that builds at once: sample chapters, image, comment, styles.

The sample lives in ``starter/`` (package data); the image is drawn here with Pillow and
the stylesheets are copies of the defaults, so a new book starts from what zinepress uses.
The project is assembled in a temporary folder beside the target, then moved into place.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import uuid
from pathlib import Path

from PIL import Image, ImageDraw

from .config import slugify
from .errors import ProjectError
from .stylesheets import DEFAULT_STYLES

STARTER = Path(__file__).parent / "starter"
NAME_MAX = 255  # bytes in one file name, on every common file system


def new_project(folder: Path, title: str | None = None) -> list[Path]:
    """Create a sample project in ``folder`` (absent or empty); return the files written."""
    folder = folder.absolute()
    if len(os.fsencode(folder.name)) > NAME_MAX:
        raise ProjectError(f"the folder's name is {len(os.fsencode(folder.name))} bytes long: file systems allow "
                           f"at most {NAME_MAX}, choose a shorter name", folder.parent)
    if folder.is_symlink():
        raise ProjectError("this is a symbolic link: name a new folder (or the folder the link points to)", folder)
    if folder.exists() and not folder.is_dir():
        raise ProjectError("a file of that name exists: choose a folder name for the new book", folder)
    if folder.is_dir() and any(folder.iterdir()):
        raise ProjectError("the folder is not empty: zinepress new only writes into a new or empty folder",
                           folder)
    title = title or _title_from(folder.name)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".zinepress-new-", dir=folder.parent))
    except OSError as error:
        raise ProjectError(f"cannot create the new book here: {error.strerror or error}", folder) from None
    try:
        _fill(staging, title)
        if folder.is_dir():
            folder.rmdir()
        os.replace(staging, folder)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise ProjectError(f"cannot create the new book here: {error.strerror or error}", folder) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return sorted(path for path in folder.rglob("*") if path.is_file())


def _title_from(name: str) -> str:
    """``my-first_book`` → ``My first book``."""
    words = re.sub(r"[-_.]+", " ", name).strip()
    return (words[:1].upper() + words[1:]) if words else "My book"


def _fill(root: Path, title: str) -> None:
    """Write the starter files, the book's settings, the sample image and the styles into ``root``."""
    os.chmod(root, 0o755)
    shutil.copytree(STARTER / "manuscript", root / "manuscript")
    shutil.copyfile(STARTER / "gitignore", root / ".gitignore")
    settings = root / "manuscript" / "book.toml"
    text = settings.read_text(encoding="utf-8")
    text = (text.replace('"{title}"', json.dumps(title, ensure_ascii=False))
                .replace("{identifier}", f"urn:uuid:{uuid.uuid4()}")
                .replace("{slug}", slugify(title)))
    settings.write_text(text, encoding="utf-8")
    (root / "manuscript" / "images").mkdir()
    draw_sample_image(root / "manuscript" / "images" / "hills.png")
    (root / "styles").mkdir()
    for stylesheet in sorted(DEFAULT_STYLES.glob("*.css")):
        shutil.copyfile(stylesheet, root / "styles" / stylesheet.name)


def draw_sample_image(path: Path, width: int = 1600, height: int = 800) -> Path:
    """A landscape of hills under a sun, large enough to print sharply across an A5 page."""
    image = Image.new("RGB", (width, height), (198, 226, 243))
    draw = ImageDraw.Draw(image)
    draw.ellipse((width * 0.74, height * 0.1, width * 0.88, height * 0.38), fill=(247, 200, 64))
    for left, top, colour in ((-0.2, 0.55, (104, 160, 92)), (0.3, 0.62, (78, 138, 70)),
                              (0.6, 0.5, (122, 176, 104))):
        draw.ellipse((width * left, height * top, width * (left + 0.8), height * (top + 0.9)), fill=colour)
    image.save(path, format="PNG", optimize=True)
    return path
