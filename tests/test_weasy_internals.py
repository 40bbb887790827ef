"""WeasyPrint's internals that the layout relies on: present, still called, and hooked only during a layout.

A WeasyPrint release that renames or stops calling one of them fails here first, with a message
naming the installed version, instead of breaking every build.
"""

from __future__ import annotations

import subprocess
import sys

import weasyprint
from weasyprint import layout as weasy_layout

from zinepress.paged import weasy


def test_every_internal_is_there():
    weasy.check_internals()
    assert weasy.VERSION.startswith(weasy.TESTED_VERSIONS), (
        f"WeasyPrint {weasy.VERSION} is installed; the layout was tested with {weasy.TESTED_VERSIONS}")


def test_the_margin_box_hook_still_fires_once_per_page():
    html = weasyprint.HTML(string="<p>one</p><p style='break-before: page'>two</p>")
    stylesheet = weasyprint.CSS(string="@page { size: A6; @bottom-center { content: counter(page) } }")
    with weasy.margin_box_records() as records:
        document = html.render(stylesheets=[stylesheet])
    assert len(document.pages) == 2
    assert len(records) == 2, (f"WeasyPrint {weasyprint.__version__} no longer calls "
                               "weasyprint.layout.make_margin_boxes once per page: the folios cannot be moved")


def test_the_hook_is_weasyprints_own_outside_a_layout():
    assert weasy_layout.make_margin_boxes is weasy._own_make_margin_boxes
    program = ("import pkgutil, importlib, zinepress\n"
               "for module in pkgutil.walk_packages(zinepress.__path__, 'zinepress.'):\n"
               "    if module.name != 'zinepress.__main__':\n"
               "        importlib.import_module(module.name)\n"
               "from weasyprint import layout\n"
               "print(layout.make_margin_boxes.__module__)\n")
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "weasyprint.layout.page"
