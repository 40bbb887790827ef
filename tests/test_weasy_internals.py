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


def test_weasyprint_loads_its_libraries_without_a_library_search():
    """WeasyPrint is loaded through the adapter first, and on Linux opens every C library by its soname:
    ``find_library`` (ldconfig, gcc and ld run in turn, about 0.2 s) is never asked, and is put back."""
    program = ("import ctypes.util, sys\n"
               "asked = []\n"
               "def recording(name):\n"
               "    asked.append(name)\n"
               "ctypes.util.find_library = recording\n"
               "import zinepress.build, zinepress.writers\n"
               "assert 'weasyprint' not in sys.modules, 'WeasyPrint is loaded before a layout needs it'\n"
               "from zinepress.writers import WRITERS\n"
               "[WRITERS[name] for name in WRITERS]\n"
               "import weasyprint.text.ffi as ffi\n"
               "assert ffi.pango is not None and ffi.harfbuzz is not None\n"
               "assert not asked, f'find_library was asked for {asked}'\n"
               "assert ctypes.util.find_library is recording, 'find_library was not put back'\n")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "", done.stdout


def test_a_layout_and_its_pdf_parse_no_c_type_after_loading():
    """The C types WeasyPrint asks cffi for are parsed while the adapter loads, before the layouts fork:
    a new one (a WeasyPrint release using another type) fails here, naming it."""
    program = ("import cffi.api\n"
               "from zinepress.paged import weasy\n"
               "parsed = []\n"
               "own = cffi.api.FFI._typeof_locked\n"
               "def recording(self, cdecl):\n"
               "    parsed.append(cdecl)\n"
               "    return own(self, cdecl)\n"
               "cffi.api.FFI._typeof_locked = recording\n"
               "html = '<p lang=en>Hyphenated <b>text</b> <i>in</i> <code>three</code> faces.</p>' * 40\n"
               "weasy.HTML(string=html).write_pdf()\n"
               "print(parsed)\n")
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", f"cffi parsed {result.stdout.strip()} during a layout"


def test_sized_arrays_are_made_as_open_arrays_of_their_items():
    made = weasy.ffi.new("hb_codepoint_t[3]", [7, 8, 9])
    assert list(made) == [7, 8, 9] and len(made) == 3
    assert len(weasy.ffi.new("char[4]")) == 4
