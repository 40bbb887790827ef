"""WeasyPrint's tagged part PDFs → one tagged PDF, the parts' pages in order.

The print edition is laid out part by part (front matter, each chapter, back matter),
each part written by WeasyPrint as its own ``pdf/ua-1`` PDF. Joining them keeps what
makes the whole a tagged book:

- one structure tree: the first part's is the base, and every other part's top-level
  structure elements are appended to its Document element, in order; the parent tree
  is renumbered (pages' ``/StructParents``, annotations' ``/StructParent``);
- one outline: every part's bookmarks, in order, leading to the joined pages;
- one name tree of destinations, so a link to an anchor in another part leads there:
  a part lists the names it only *borrows* (stand-ins WeasyPrint needed to keep a link
  to another part's anchor), and the real definition wins;
- the first part's language, metadata (XMP and document information), viewer
  preferences and ``/MarkInfo``. Pages keep their boxes, bleed included.

WeasyPrint 70 writes the structure tree as ``/StructTreeRoot /K [Document]``, with the
content under the Document element, and a flat parent tree: one key per page (its
marked-content references, in MCID order), then one per link annotation. Elements laid
out in page margins (running heads, folios) are not children of the Document element
but still name it as their ``/P`` and are reachable only from the parent tree; their
``/P`` is moved to the joined Document element like the others'.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from io import BytesIO

import pikepdf

from ..pdflang import tag_languages
from pikepdf import Array, Dictionary, Name

QPDF_STATIC_ID = bytes.fromhex("31415926535897932384626433832795")  # what QPDF writes for a static /ID


def join_tagged(parts: Sequence[bytes], borrowed: Sequence[Collection[str]] = ()) -> pikepdf.Pdf:
    """The tagged PDFs ``parts`` joined into one, in order; ``borrowed[i]`` names part i's stand-in anchors."""
    if not parts:
        raise ValueError("join_tagged needs at least one part")
    borrowed = list(borrowed) + [()] * (len(parts) - len(borrowed))
    joined = pikepdf.open(BytesIO(parts[0]))
    tree = _StructureTree(joined)
    outline = _Outline(joined)
    destinations = _Destinations()
    destinations.add(_name_tree_items(_dests_tree(joined)), borrowed[0])
    for index, data in enumerate(parts[1:], start=1):
        part = pikepdf.open(BytesIO(data))
        first_page = len(joined.pages)
        for page in part.pages:
            joined.pages.append(page)
        pages = [page.obj for page in joined.pages[first_page:]]
        _append_part(joined, part, pages, tree, outline, destinations, borrowed[index])
    tree.finish()
    destinations.write(joined)
    return joined


def save_reproducibly(pdf: pikepdf.Pdf, identifier: bytes) -> bytes:
    """The bytes of ``pdf``: streams compressed, object streams generated, ``/ID [identifier identifier]``.

    QPDF keeps the first element of the trailer's ``/ID`` and, asked for a static
    identifier, writes a fixed constant as the second; that constant is replaced by the
    identifier in the trailer, which comes after every offset the file records.
    """
    pdf.trailer.ID = Array([pikepdf.String(identifier), pikepdf.String(identifier)])
    output = BytesIO()
    pdf.save(output, static_id=True, compress_streams=True, object_stream_mode=pikepdf.ObjectStreamMode.generate,
             fix_metadata_version=False)
    data = output.getvalue()
    written = b"/ID [<%s><%s>]" % (identifier.hex().encode("ascii"), QPDF_STATIC_ID.hex().encode("ascii"))
    wanted = b"/ID [<%s><%s>]" % ((identifier.hex().encode("ascii"),) * 2)
    trailer = data.rfind(b"startxref")
    trailer_start = int(data[trailer + len(b"startxref"):].split()[0])
    at = data.find(written, trailer_start)
    if at < 0:
        raise RuntimeError("QPDF wrote the file identifier in an unexpected form")
    return data[:at] + wanted + data[at + len(written):]


def _append_part(joined: pikepdf.Pdf, part: pikepdf.Pdf, pages: list[pikepdf.Dictionary], tree: _StructureTree,
                 outline: _Outline, destinations: _Destinations, borrowed: Collection[str]) -> None:
    """Copy ``part``'s structure, bookmarks and destinations into ``joined``, whose ``pages`` are its copied pages.

    Everything is copied after the pages, in one call, so that QPDF maps every reference
    to one of the part's pages (``/Pg``, destinations) to its copy.
    """
    root = part.Root.get(Name.StructTreeRoot)
    if root is None:
        raise ValueError("a part is not a tagged PDF")
    container = _document_element(root) or root
    tops = Array(_as_array(container, Name.K))
    parent_tree = sorted(_number_tree_items(root.get(Name.ParentTree)), key=lambda entry: entry[0])
    maps = Dictionary({key: root[key] for key in ("/RoleMap", "/ClassMap") if key in root})
    dests = list(_name_tree_items(_dests_tree(part)))
    part_outline = part.Root.get(Name.Outlines)
    if part_outline is None or Name.First not in part_outline:
        part_outline = Dictionary()
    for key in list(container.keys()):  # so that copying the elements does not copy what their container holds
        del container[key]
    bundle = part.make_indirect(Array([
        container, tops, Array([value for _, value in parent_tree]), Array([value for _, value in dests]),
        part_outline, maps,
    ]))
    stub, tops, values, dest_values, part_outline, maps = joined.copy_foreign(bundle)
    offset = tree.append(stub, list(tops), [key for key, _ in parent_tree], list(values))
    tree.merge_maps(maps)
    _renumber_struct_parents(pages, offset)
    destinations.add(zip([name for name, _ in dests], dest_values), borrowed)
    if Name.First in part_outline:
        outline.append(part_outline)


class _StructureTree:
    """The joined structure tree: the first part's, grown by the others' top-level elements."""

    def __init__(self, pdf: pikepdf.Pdf):
        root = pdf.Root.get(Name.StructTreeRoot)
        if root is None:
            raise ValueError("the first part is not a tagged PDF")
        self.pdf = pdf
        self.root = root
        self.container = _document_element(root) or root
        self.kids = _as_array(self.container, Name.K)
        entries = list(_number_tree_items(root.get(Name.ParentTree)))
        self.nums = Array()
        for key, value in entries:
            self.nums.append(key)
            self.nums.append(value)
        self.next_key = max(int(root.get(Name.ParentTreeNextKey, 0)), max((key + 1 for key, _ in entries), default=0))

    def append(self, stub: pikepdf.Object, tops: list[pikepdf.Object], keys: list[int],
               values: list[pikepdf.Object]) -> int:
        """Adopt a part's copied top-level elements and parent tree entries; the offset given to its keys.

        ``stub`` is the copy of the part's emptied container: every element whose ``/P``
        still names it (the top-level ones and those laid out in page margins) is given
        the joined container instead.
        """
        offset = self.next_key
        for top in tops:
            self.kids.append(top)
        for key, value in zip(keys, values):
            self.nums.append(key + offset)
            self.nums.append(value)
        self.next_key = offset + max((key + 1 for key in keys), default=0)
        _reparent(stub, self.container, tops, values)
        return offset

    def merge_maps(self, maps: pikepdf.Dictionary) -> None:
        """Add a part's copied role and class map entries that the joined root does not have yet."""
        for key, mapping in maps.items():
            if key not in self.root:
                self.root[key] = mapping
                continue
            joined = self.root[key]
            for name, value in mapping.items():
                if name not in joined:
                    joined[name] = value

    def finish(self) -> None:
        """Write the parent tree (one flat number tree) and its next key."""
        if Name.ParentTree not in self.root:
            self.root.ParentTree = self.pdf.make_indirect(Dictionary())
        parent_tree = self.root.ParentTree
        for key in (Name.Kids, Name.Limits):
            if key in parent_tree:
                del parent_tree[key]
        parent_tree.Nums = self.nums
        self.root.ParentTreeNextKey = self.next_key


def _reparent(stub: pikepdf.Object, container: pikepdf.Object, tops: list[pikepdf.Object],
              values: list[pikepdf.Object]) -> None:
    """Give every element whose ``/P`` is ``stub`` the parent ``container``.

    Walks up from each element the parent tree refers to, and stops at the first element
    it has already been through, so that each parent is looked at once. (String keys:
    this is the one loop over every element, and they are faster than ``Name`` ones.)
    """
    stub_id = stub.objgen
    done = set()
    for top in tops:
        parent = top.get("/P")
        if parent is not None and parent.objgen == stub_id:
            top.P = container
        done.add(top.objgen)
    for value in values:
        for element in (value if isinstance(value, Array) else (value,)):
            if not isinstance(element, Dictionary):
                continue
            parent = element.get("/P")
            while parent is not None:
                parent_id = parent.objgen
                if parent_id == stub_id:
                    element.P = container
                    break
                if parent_id in done:
                    break
                done.add(parent_id)
                element, parent = parent, parent.get("/P")


def _document_element(root: pikepdf.Object) -> pikepdf.Object | None:
    """The root's one Document element, when the root has exactly one child and it is that."""
    kids = root.get(Name.K)
    if isinstance(kids, Array):
        kids = kids[0] if len(kids) == 1 else None
    if isinstance(kids, Dictionary) and kids.get(Name.S) == Name.Document:
        return kids
    return None


def _as_array(element: pikepdf.Object, key: Name) -> pikepdf.Array:
    """``element[key]`` as an array held by the element (a lone kid or an absent entry made into one)."""
    value = element.get(key)
    if not isinstance(value, Array):
        element[key] = Array([] if value is None else [value])
    return element[key]


def _renumber_struct_parents(pages: list[pikepdf.Dictionary], offset: int) -> None:
    """Shift the parent tree keys of the copied pages and of their annotations by ``offset``."""
    if not offset:
        return
    for page in pages:
        key = page.get("/StructParents")
        if key is not None:
            page.StructParents = int(key) + offset
        for annotation in page.get("/Annots", ()):
            key = annotation.get("/StructParent")
            if key is not None:
                annotation.StructParent = int(key) + offset


def _number_tree_items(node: pikepdf.Object | None) -> Iterator[tuple[int, pikepdf.Object]]:
    """A number tree's (key, value) pairs, in order."""
    if node is None:
        return
    nums = node.get(Name.Nums)
    if nums is not None:
        for index in range(0, len(nums) - 1, 2):
            yield int(nums[index]), nums[index + 1]
    for kid in node.get(Name.Kids, ()):
        yield from _number_tree_items(kid)


def _dests_tree(pdf: pikepdf.Pdf) -> pikepdf.Object | None:
    names = pdf.Root.get(Name.Names)
    return None if names is None else names.get(Name.Dests)


def _name_tree_items(node: pikepdf.Object | None) -> Iterator[tuple[pikepdf.String, pikepdf.Object]]:
    """A name tree's (name, value) pairs, in order."""
    if node is None:
        return
    names = node.get(Name.Names)
    if names is not None:
        for index in range(0, len(names) - 1, 2):
            yield names[index], names[index + 1]
    for kid in node.get(Name.Kids, ()):
        yield from _name_tree_items(kid)


class _Destinations:
    """The joined named destinations: the first definition of a name wins, borrowed names are left out."""

    def __init__(self):
        self.values: dict[bytes, pikepdf.Object] = {}
        self.stand_ins: set[bytes] = set()

    def add(self, items, borrowed: Collection[str]) -> None:
        """Add a part's (name, destination) pairs, except the names it borrows."""
        for name, value in items:
            key = bytes(name)
            if str(name) in borrowed:
                self.stand_ins.add(key)
            else:
                self.values.setdefault(key, value)

    def write(self, pdf: pikepdf.Pdf) -> None:
        """Replace the name tree of destinations with the joined one, names sorted."""
        undefined = sorted(str(pikepdf.String(key)) for key in self.stand_ins - self.values.keys())
        if undefined:
            raise ValueError(f"anchors borrowed but defined by no part: {', '.join(undefined)}")
        if Name.Names not in pdf.Root:
            if not self.values:
                return
            pdf.Root.Names = Dictionary()
        flat = Array()
        for key in sorted(self.values):
            flat.append(pikepdf.String(key))
            flat.append(self.values[key])
        pdf.Root.Names.Dests = pdf.make_indirect(Dictionary(Names=flat))


class _Outline:
    """The joined outline: the first part's, followed by every other part's top-level items."""

    def __init__(self, pdf: pikepdf.Pdf):
        self.pdf = pdf

    def append(self, copied_root: pikepdf.Object) -> None:
        """Hang a part's copied outline items after the joined outline's last item."""
        root = self.pdf.Root.get(Name.Outlines)
        if root is None or Name.First not in root:
            root = self.pdf.Root.Outlines = self.pdf.make_indirect(Dictionary(Type=Name.Outlines, Count=0))
        item = copied_root.First
        last = root.get(Name.Last)
        if last is None:
            root.First = item
        else:
            last.Next = item
            item.Prev = last
        while item is not None:
            item.Parent = root
            item = item.get(Name.Next)
        root.Last = copied_root.Last
        root.Count = int(root.get(Name.Count, 0)) + abs(int(copied_root.get(Name.Count, 0)))


def joined_book(parts: Sequence[bytes], borrowed: Sequence[Collection[str]], first_body: int,
                rendered=None) -> pikepdf.Pdf:
    """The parts joined into a new tagged PDF with page labels, the bleed still on (a fresh object each call);
    with ``rendered``, ``/Lang`` on the chapters and passages in another language (:mod:`..pdflang`)."""
    pdf = join_tagged(parts, borrowed)
    if rendered is not None:
        tag_languages(pdf, rendered)
    set_page_labels(pdf, first_body)
    return pdf


def digital_edition(parts: Sequence[bytes], borrowed: Sequence[Collection[str]], first_body: int,
                    identifier: bytes, rendered=None) -> bytes:
    """The bytes of ``S.pdf``: the joined book cut back to its trim."""
    pdf = joined_book(parts, borrowed, first_body, rendered)
    for page in pdf.pages:
        page.obj.MediaBox = page.obj.BleedBox = page.obj.TrimBox
    return save_reproducibly(pdf, identifier)


def set_page_labels(pdf: pikepdf.Pdf, first_body: int) -> None:
    """Roman page labels for the front matter, arabic from the first chapter on."""
    ranges = [0, pikepdf.Dictionary(S=pikepdf.Name.r)] if first_body > 0 else []
    ranges += [first_body, pikepdf.Dictionary(S=pikepdf.Name.D)]
    pdf.Root.PageLabels = pikepdf.Dictionary(Nums=pikepdf.Array(ranges))
