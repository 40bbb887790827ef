"""``python -m zinepress``: the same as the ``zinepress`` command."""

from .cli import run

run()
